/* bench-proxy: a TCP proxy that counts the connections it accepts and can
 * delay each direction's chunks, so that every round trip through it takes
 * twice --delay-ms longer. A new connection costs one more round trip, as
 * TCP's handshake would on a real link.
 *
 *   bench-proxy --target 127.0.0.1:8472 [--port 0] [--delay-ms 10]
 *
 * Prints "port N" once it listens. Each line read on stdin is answered with
 * "accepted N closed M" (connections so far), so that a driver can sample the
 * counters between two series. Exits when stdin closes. The bytes pass
 * untouched, so it also counts TLS connections (one handshake each).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>

#define CHUNK_SIZE (64 * 1024)

typedef struct _Conn Conn;

typedef struct
{
  Conn *conn;
  GInputStream *in;
  GOutputStream *out;
  GSocket *out_socket;
  GQueue chunks;                /* of Chunk, oldest first */
  gboolean writing;
  gboolean eof;
  gboolean done;
  gint64 not_before;            /* the modelled TCP handshake's end */
} Pipe;

typedef struct
{
  GBytes *bytes;
  gint64 due;
} Chunk;

struct _Conn
{
  gint refs;
  GSocketConnection *down;      /* the accepted one */
  GSocketConnection *up;        /* to the target */
  GCancellable *cancellable;
  gint64 accepted_at;
  Pipe to_up;
  Pipe to_down;
};

static gchar *target;
static gint port;
static gint delay_ms;
static guint64 accepted;
static guint64 closed;

static Conn *
conn_ref (Conn * conn)
{
  conn->refs++;
  return conn;
}

static void
chunk_free (gpointer data)
{
  Chunk *chunk = data;

  g_bytes_unref (chunk->bytes);
  g_free (chunk);
}

static void
conn_unref (Conn * conn)
{
  if (--conn->refs > 0)
    return;
  if (conn->up)
    g_io_stream_close (G_IO_STREAM (conn->up), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (conn->down), NULL, NULL);
  g_queue_clear_full (&conn->to_up.chunks, chunk_free);
  g_queue_clear_full (&conn->to_down.chunks, chunk_free);
  g_clear_object (&conn->up);
  g_object_unref (conn->down);
  g_object_unref (conn->cancellable);
  g_free (conn);
  closed++;
}

/* Any error or cancellation ends both directions. */
static void
conn_abort (Conn * conn)
{
  g_cancellable_cancel (conn->cancellable);
}

static void pipe_write_next (Pipe * pipe);
static void pipe_read_next (Pipe * pipe);

static void
pipe_check_done (Pipe * pipe)
{
  Conn *conn = pipe->conn;

  if (!pipe->eof || pipe->done || pipe->writing
      || !g_queue_is_empty (&pipe->chunks))
    return;
  pipe->done = TRUE;
  /* pass the half close on, as the peer sent it */
  g_socket_shutdown (pipe->out_socket, FALSE, TRUE, NULL);
  if (conn->to_up.done && conn->to_down.done)
    conn_abort (conn);
}

static void
on_written (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Pipe *pipe = user_data;
  Conn *conn = pipe->conn;
  g_autoptr (GError) error = NULL;

  pipe->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result,
          NULL, &error)) {
    conn_abort (conn);
  } else {
    chunk_free (g_queue_pop_head (&pipe->chunks));
    pipe_write_next (pipe);
  }
  conn_unref (conn);
}

static void
pipe_unref_conn (gpointer user_data)
{
  conn_unref (((Pipe *) user_data)->conn);
}

static gboolean
on_due (gpointer user_data)
{
  Pipe *pipe = user_data;

  pipe->writing = FALSE;
  pipe_write_next (pipe);
  return G_SOURCE_REMOVE;
}

static void
pipe_write_next (Pipe * pipe)
{
  Conn *conn = pipe->conn;
  Chunk *chunk;
  gint64 now;
  gsize size;
  gconstpointer data;

  if (pipe->writing || g_cancellable_is_cancelled (conn->cancellable))
    return;
  chunk = g_queue_peek_head (&pipe->chunks);
  if (!chunk) {
    pipe_check_done (pipe);
    return;
  }
  now = g_get_monotonic_time ();
  pipe->writing = TRUE;
  if (chunk->due > now) {
    GSource *timer = g_timeout_source_new ((chunk->due - now + 999) / 1000);

    g_source_set_priority (timer, G_PRIORITY_HIGH);
    g_source_set_callback (timer, on_due, pipe, pipe_unref_conn);
    conn_ref (conn);
    g_source_attach (timer, NULL);
    g_source_unref (timer);
    return;
  }
  data = g_bytes_get_data (chunk->bytes, &size);
  g_output_stream_write_all_async (pipe->out, data, size, G_PRIORITY_DEFAULT,
      conn->cancellable, on_written, pipe);
  conn_ref (conn);
}

static void
on_read (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Pipe *pipe = user_data;
  Conn *conn = pipe->conn;
  g_autoptr (GError) error = NULL;
  GBytes *bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source),
      result, &error);

  if (!bytes) {
    conn_abort (conn);
  } else if (g_bytes_get_size (bytes) == 0) {
    g_bytes_unref (bytes);
    pipe->eof = TRUE;
    pipe_check_done (pipe);
  } else {
    Chunk *chunk = g_new0 (Chunk, 1);

    chunk->bytes = bytes;
    chunk->due = MAX (g_get_monotonic_time (), pipe->not_before) +
        delay_ms * 1000;
    g_queue_push_tail (&pipe->chunks, chunk);
    pipe_write_next (pipe);
    pipe_read_next (pipe);
  }
  conn_unref (conn);
}

static void
pipe_read_next (Pipe * pipe)
{
  g_input_stream_read_bytes_async (pipe->in, CHUNK_SIZE, G_PRIORITY_DEFAULT,
      pipe->conn->cancellable, on_read, pipe);
  conn_ref (pipe->conn);
}

static void
pipe_init (Pipe * pipe, Conn * conn, GSocketConnection * from,
    GSocketConnection * to)
{
  pipe->conn = conn;
  pipe->in = g_io_stream_get_input_stream (G_IO_STREAM (from));
  pipe->out = g_io_stream_get_output_stream (G_IO_STREAM (to));
  pipe->out_socket = g_socket_connection_get_socket (to);
  g_queue_init (&pipe->chunks);
}

static void
on_connected (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Conn *conn = user_data;
  g_autoptr (GError) error = NULL;

  conn->up = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source),
      result, &error);
  if (!conn->up) {
    g_printerr ("bench-proxy: %s: %s\n", target, error->message);
  } else {
    g_socket_set_option (g_socket_connection_get_socket (conn->up),
        IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    pipe_init (&conn->to_up, conn, conn->down, conn->up);
    pipe_init (&conn->to_down, conn, conn->up, conn->down);
    /* the kernel accepted at once; a real link would first spend a round
     * trip on SYN / SYN-ACK, so the client's first bytes leave after it */
    conn->to_up.not_before = conn->accepted_at + 2 * delay_ms * 1000;
    pipe_read_next (&conn->to_up);
    pipe_read_next (&conn->to_down);
  }
  g_object_unref (source);
  conn_unref (conn);
}

static gboolean
on_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source_object, gpointer user_data)
{
  Conn *conn = g_new0 (Conn, 1);
  GSocketClient *client = g_socket_client_new ();

  accepted++;
  conn->refs = 1;
  conn->accepted_at = g_get_monotonic_time ();
  conn->down = g_object_ref (connection);
  conn->cancellable = g_cancellable_new ();
  g_socket_set_option (g_socket_connection_get_socket (connection),
      IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_socket_client_connect_to_host_async (client, target, 0,
      conn->cancellable, on_connected, conn);
  return TRUE;
}

static void
on_line (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GMainLoop *loop = user_data;
  g_autofree gchar *line = g_data_input_stream_read_line_finish
      (G_DATA_INPUT_STREAM (source), result, NULL, NULL);

  if (!line) {
    g_main_loop_quit (loop);
    return;
  }
  g_print ("accepted %" G_GUINT64_FORMAT " closed %" G_GUINT64_FORMAT "\n",
      accepted, closed);
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source),
      G_PRIORITY_DEFAULT, NULL, on_line, loop);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"target", 0, 0, G_OPTION_ARG_STRING, &target,
        "where to forward, HOST:PORT", "HOST:PORT"},
    {"port", 0, 0, G_OPTION_ARG_INT, &port, "port to listen on (0: any)",
        "PORT"},
    {"delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms,
          "delay of each chunk, each direction (a round trip gets twice it)",
        "MS"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- counting, delaying TCP proxy");
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketService) service = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  guint16 bound;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || !target) {
    g_printerr ("bench-proxy: %s\n", error ? error->message :
        "--target HOST:PORT is required");
    return 2;
  }
  setvbuf (stdout, NULL, _IOLBF, 0);
  service = g_socket_service_new ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), 1024);
  bound = port ? (g_socket_listener_add_inet_port (G_SOCKET_LISTENER (service),
          port, NULL, &error) ? port : 0) :
      g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL,
      &error);
  if (!bound) {
    g_printerr ("bench-proxy: %s\n", error->message);
    return 1;
  }
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), NULL);
  g_socket_service_start (service);
  g_print ("port %u\n", bound);

  loop = g_main_loop_new (NULL, FALSE);
  in = g_unix_input_stream_new (0, FALSE);
  lines = g_data_input_stream_new (in);
  g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, NULL,
      on_line, loop);
  g_main_loop_run (loop);
  return 0;
}
