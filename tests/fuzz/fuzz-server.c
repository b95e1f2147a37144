/* Fuzz target: the server's request handling: an HTTP/1.1 request (method,
 * path, query, headers, body; several, kept alive) read by libsoup from an
 * in-memory stream and handled by the real router of a started GstFalServer
 * (gst/falserver/gstfalrouter.c and its route families), with no socket.
 *
 * Each input is one connection, accepted on the server thread; it ends once
 * no request is in progress on it (libsoup keeps an in-memory connection
 * open at the end of its input), or after a second (a request waiting for
 * its app).
 * Inputs naming a URL are skipped: an app would fetch it (the fetch policy
 * has tests of its own; a fuzzer must not reach the network). Run without
 * libFuzzer's leak check (options/server.options): what a request leaves to
 * the server's threads is freed after the input's end, not before.
 */
#define _GNU_SOURCE             /* memmem */
#include "falfuzz.h"
#include <gst/gst.h>
#include "gstfalrouter-private.h"

#define DEADLINE_USEC G_USEC_PER_SEC
/* how long a connection with no request in progress is given to start one */
#define IDLE_USEC (20 * G_TIME_SPAN_MILLISECOND)

static GstFalServer *server;
/* server thread only: requests of the connection in progress, and when the
 * last one started or ended */
static gint in_flight;
static gint64 last_activity;

typedef struct
{
  GIOStream *stream;
  gint64 deadline;
  GMutex lock;
  GCond cond;
  gboolean done;
} Connection;

static void
request_started_cb (SoupServer * soup, SoupServerMessage * msg, gpointer data)
{
  in_flight++;
  last_activity = g_get_monotonic_time ();
}

static void
request_ended_cb (SoupServer * soup, SoupServerMessage * msg, gpointer data)
{
  in_flight = MAX (in_flight - 1, 0);
  last_activity = g_get_monotonic_time ();
}

void
fal_fuzz_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *storage = g_dir_make_tmp ("fuzz-server-XXXXXX", NULL);

  gst_init (NULL, NULL);
  server = g_object_new (GST_FAL_TYPE_SERVER, "workers", 1, "key",
      "fuzz-key", "storage-dir", storage, NULL);
  if (!gst_fal_server_start (server, &error))
    g_error ("the server did not start: %s", error->message);
  g_signal_connect (server->soup, "request-started",
      G_CALLBACK (request_started_cb), NULL);
  g_signal_connect (server->soup, "request-finished",
      G_CALLBACK (request_ended_cb), NULL);
  g_signal_connect (server->soup, "request-aborted",
      G_CALLBACK (request_ended_cb), NULL);
}

static void
finish (Connection * connection)
{
  g_mutex_lock (&connection->lock);
  connection->done = TRUE;
  g_cond_signal (&connection->cond);
  g_mutex_unlock (&connection->lock);
}

/* Server thread: until libsoup closed the connection, no request is in
 * progress on it, or the deadline. */
static gboolean
watch_cb (gpointer data)
{
  Connection *connection = data;
  gint64 now = g_get_monotonic_time ();

  if (!g_io_stream_is_closed (connection->stream) && now < connection->deadline
      && (in_flight > 0 || now - last_activity < IDLE_USEC))
    return G_SOURCE_CONTINUE;
  g_io_stream_close (connection->stream, NULL, NULL);
  finish (connection);
  return G_SOURCE_REMOVE;
}

/* Server thread: the connection is accepted as if from a socket. */
static gboolean
accept_cb (gpointer data)
{
  Connection *connection = data;
  g_autoptr (GSocketAddress) local = NULL, remote = NULL;
  GSource *source;

  in_flight = 0;
  last_activity = g_get_monotonic_time ();
  local = g_inet_socket_address_new_from_string ("127.0.0.1", server->port);
  remote = g_inet_socket_address_new_from_string ("127.0.0.1", 40000);
  if (!soup_server_accept_iostream (server->soup, connection->stream, local,
          remote, NULL)) {
    finish (connection);
    return G_SOURCE_REMOVE;
  }
  source = g_timeout_source_new (1);
  g_source_set_callback (source, watch_cb, connection, NULL);
  g_source_attach (source, server->context);
  g_source_unref (source);
  return G_SOURCE_REMOVE;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GOutputStream) out = NULL;
  Connection connection = { 0 };

  if (memmem (data, size, "://", 3))
    return 0;
  in = g_memory_input_stream_new_from_data (g_memdup2 (data, size), size,
      g_free);
  out = g_memory_output_stream_new_resizable ();
  connection.stream = g_simple_io_stream_new (in, out);
  connection.deadline = g_get_monotonic_time () + DEADLINE_USEC;
  g_mutex_init (&connection.lock);
  g_cond_init (&connection.cond);

  g_main_context_invoke (server->context, accept_cb, &connection);
  g_mutex_lock (&connection.lock);
  while (!connection.done)
    g_cond_wait (&connection.cond, &connection.lock);
  g_mutex_unlock (&connection.lock);

  g_object_unref (connection.stream);
  g_mutex_clear (&connection.lock);
  g_cond_clear (&connection.cond);
  return 0;
}
