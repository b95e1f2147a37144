/* gst-fal server: the request limits SoupServer does not have.
 *
 * SoupServer (3.2 to 3.6) has no timeouts and no bound on connections, and it
 * reads a request's body whole even when an early handler has answered it
 * (io_read() goes on from the headers to the body and buffers it). So each
 * connection is followed through the server's public signals, which libsoup
 * 3.2 and later emit alike ("request-started" when a connection is accepted
 * and when the first bytes of a further request arrive), and:
 * - its request headers must be complete within header-timeout seconds, and
 *   a body must progress: some bytes every header-timeout seconds (408);
 * - between two requests it is closed after idle-timeout seconds;
 * - beyond max-connections the one that has waited longest for headers or
 *   in between requests is closed; without one, the new one is answered 503;
 * - a request answered from its headers (auth, size, framing) that declares
 *   a body is answered on the stolen connection, which is then closed: the
 *   body is never read. A chunked body is refused once it passes max-body.
 */
#include <string.h>
#include <libsoup/soup.h>
#include "gstfalserver-private.h"
#include "gstfalrouter-private.h"

#define TICK_MS 500
/* after an answer that leaves a body unread: how long and how much of it is
 * read and dropped so that closing does not reset the answer away */
#define LINGER_SECONDS 2
#define LINGER_BYTES (1024 * 1024)
#define MAX_LINGERING 64

typedef enum
{
  PHASE_HEADERS,                /* request-started: its headers are due */
  PHASE_BODY,                   /* got-headers: its body must progress */
  PHASE_BUSY,                   /* request-read: handled, answered */
  PHASE_IDLE,                   /* request-finished, kept alive */
} Phase;

typedef struct
{
  GstFalLimits *owner;
  GSocket *socket;              /* ref; the key */
  SoupServerMessage *msg;       /* ref while the request is read */
  Phase phase;
  gint64 since;                 /* monotonic µs: the phase began */
  gint64 deadline;              /* monotonic µs, 0 for none */
  guint64 body_bytes;
  gboolean closing;             /* closed or refused: not counted */
  GSource *refuse;              /* over the bound: answers 503 */
} Connection;

typedef struct
{
  GstFalLimits *owner;
  GIOStream *stream;
  GSocket *socket;
  GSource *source;
  gint64 until;
  gsize drained;
} Linger;

struct _GstFalLimits
{
  SoupServer *soup;
  guint header_timeout;
  guint idle_timeout;
  guint max_connections;
  guint64 max_body;
  GHashTable *connections;      /* GSocket → Connection */
  GList *lingering;             /* Linger */
  guint n_lingering;
  GSource *tick;
};

static void got_chunk (SoupServerMessage * msg, GBytes * chunk,
    GstFalLimits * self);

/* ---------------------------------------------------------------- linger */

static void
linger_free (Linger * l)
{
  l->owner->lingering = g_list_remove (l->owner->lingering, l);
  l->owner->n_lingering--;
  g_source_destroy (l->source);
  g_source_unref (l->source);
  g_io_stream_close (l->stream, NULL, NULL);
  g_object_unref (l->stream);
  g_object_unref (l->socket);
  g_free (l);
}

static gboolean
linger_cb (GSocket * socket, GIOCondition condition, Linger * l)
{
  gchar buffer[16384];

  for (;;) {
    g_autoptr (GError) error = NULL;
    gssize n = g_socket_receive_with_blocking (socket, buffer, sizeof buffer,
        FALSE, NULL, &error);

    if (n > 0 && (l->drained += n) < LINGER_BYTES)
      continue;
    if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)
        && g_get_monotonic_time () < l->until)
      return G_SOURCE_CONTINUE;
    break;
  }
  linger_free (l);
  return G_SOURCE_REMOVE;
}

/* Sends @answer on a connection taken from libsoup, then closes it. */
static void
send_and_close (GstFalLimits * self, GIOStream * stream, GSocket * socket,
    GString * answer)
{
  Linger *l;

  g_socket_send_with_blocking (socket, answer->str, answer->len, FALSE, NULL,
      NULL);
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  if (self->n_lingering >= MAX_LINGERING) {
    g_io_stream_close (stream, NULL, NULL);
    return;
  }
  l = g_new0 (Linger, 1);
  l->owner = self;
  l->stream = g_object_ref (stream);
  l->socket = g_object_ref (socket);
  l->until = g_get_monotonic_time () + LINGER_SECONDS * G_USEC_PER_SEC;
  l->source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR,
      NULL);
  g_source_set_ready_time (l->source, l->until);
  g_source_set_callback (l->source, G_SOURCE_FUNC (linger_cb), l, NULL);
  g_source_attach (l->source, g_main_context_get_thread_default ());
  self->lingering = g_list_prepend (self->lingering, l);
  self->n_lingering++;
}

static void
append_header (const char *name, const char *value, gpointer data)
{
  if (g_ascii_strcasecmp (name, "Content-Length")
      && g_ascii_strcasecmp (name, "Connection")
      && g_ascii_strcasecmp (name, "Transfer-Encoding"))
    g_string_append_printf (data, "%s: %s\r\n", name, value);
}

/* The response set on @msg, whole, as a last one. */
static GString *
serialize_answer (SoupServerMessage * msg)
{
  guint status = soup_server_message_get_status (msg);
  const gchar *phrase = soup_server_message_get_reason_phrase (msg);
  g_autoptr (GBytes) body =
      soup_message_body_flatten (soup_server_message_get_response_body (msg));
  GString *answer = g_string_new (NULL);
  gsize size;
  const gchar *data = g_bytes_get_data (body, &size);

  g_string_append_printf (answer, "HTTP/1.1 %u %s\r\n", status,
      phrase ? phrase : soup_status_get_phrase (status));
  soup_message_headers_foreach (soup_server_message_get_response_headers
      (msg), append_header, answer);
  g_string_append_printf (answer, "Content-Length: %" G_GSIZE_FORMAT
      "\r\nConnection: close\r\n\r\n", size);
  g_string_append_len (answer, data, size);
  return answer;
}

/* ---------------------------------------------------------------- connections */

static void
connection_set_msg (Connection * c, SoupServerMessage * msg)
{
  if (c->msg) {
    g_signal_handlers_disconnect_by_func (c->msg, got_chunk, c->owner);
    g_object_unref (c->msg);
  }
  c->msg = msg ? g_object_ref (msg) : NULL;
  if (msg)
    g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), c->owner);
}

static void
connection_free (Connection * c)
{
  if (c->refuse) {
    g_source_destroy (c->refuse);
    g_source_unref (c->refuse);
  }
  connection_set_msg (c, NULL);
  g_object_unref (c->socket);
  g_free (c);
}

static void
connection_enter (Connection * c, Phase phase, guint timeout)
{
  c->phase = phase;
  c->since = g_get_monotonic_time ();
  c->deadline = timeout ? c->since + timeout * G_USEC_PER_SEC : 0;
}

static Connection *
lookup (GstFalLimits * self, SoupServerMessage * msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);

  return socket ? g_hash_table_lookup (self->connections, socket) : NULL;
}

/* Takes the connection of a request being read from libsoup and forgets it:
 * libsoup reads no more of it. NULL when libsoup already closed it. */
static GIOStream *
connection_steal (GstFalLimits * self, Connection * c, GSocket ** socket)
{
  GIOStream *stream = NULL;

  /* stealing a disconnected connection would emit "disconnected" twice */
  if (c->msg && !g_socket_is_closed (c->socket))
    stream = soup_server_message_steal_connection (c->msg);
  *socket = g_object_ref (c->socket);
  g_hash_table_remove (self->connections, c->socket);
  return stream;
}

/* Answers the response set on @c's message and closes the connection. */
static void
connection_answer (GstFalLimits * self, Connection * c)
{
  GString *answer = serialize_answer (c->msg);
  g_autoptr (GSocket) socket = NULL;
  GIOStream *stream = connection_steal (self, c, &socket);

  if (stream) {
    send_and_close (self, stream, socket, answer);
    g_object_unref (stream);
  }
  g_string_free (answer, TRUE);
}

static void
connection_answer_detail (GstFalLimits * self, Connection * c, guint status,
    const gchar * detail, const gchar * error_type)
{
  gst_fal_server_respond_detail (c->msg, status, detail, error_type);
  connection_answer (self, c);
}

/* Closes @c without an answer: a request not yet complete is taken from
 * libsoup; between two requests the socket is shut down, and libsoup closes
 * it when it reads the end (libsoup 3.2: GstFalConnections does). */
static void
connection_close (GstFalLimits * self, Connection * c)
{
  if (c->msg) {
    g_autoptr (GSocket) socket = NULL;
    GIOStream *stream = connection_steal (self, c, &socket);

    if (stream) {
      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
    }
    return;
  }
  g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
  c->closing = TRUE;
  c->deadline = 0;
}

static gboolean
refuse_cb (Connection * c)
{
  g_clear_pointer (&c->refuse, g_source_unref);
  if (c->msg && !g_socket_is_closed (c->socket)) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (c->msg), "Retry-After", "1");
    connection_answer_detail (c->owner, c, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "Too many open connections", "runner_scheduling_failure");
  }
  return G_SOURCE_REMOVE;
}

/* A new connection @c is open: beyond the bound, the connection that has
 * waited longest for headers or for a next request goes, so that idle or
 * half-sent connections cannot keep others out; failing one, @c is refused. */
static void
make_room (GstFalLimits * self, Connection * c)
{
  GHashTableIter iter;
  Connection *other, *oldest = NULL;
  guint open = 0;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & other)) {
    if (g_socket_is_closed (other->socket)) {
      g_hash_table_iter_remove (&iter);
      continue;
    }
    if (other->closing)
      continue;
    open++;
    if (other != c && (other->phase == PHASE_HEADERS
            || other->phase == PHASE_IDLE) && (!oldest
            || other->since < oldest->since))
      oldest = other;
  }
  if (open <= self->max_connections)
    return;
  if (oldest) {
    g_debug ("%u connections: closing one that waited %" G_GINT64_FORMAT
        " ms", open, (g_get_monotonic_time () - oldest->since) / 1000);
    connection_close (self, oldest);
    return;
  }
  /* libsoup 3.2 is still setting it up: answered once that is done */
  c->closing = TRUE;
  c->refuse = g_idle_source_new ();
  g_source_set_priority (c->refuse, G_PRIORITY_HIGH);
  g_source_set_callback (c->refuse, G_SOURCE_FUNC (refuse_cb), c, NULL);
  g_source_attach (c->refuse, g_main_context_get_thread_default ());
}

static gboolean
tick_cb (GstFalLimits * self)
{
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Connection *c;
  GPtrArray *due = g_ptr_array_new ();
  guint i;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & c)) {
    if (g_socket_is_closed (c->socket))
      g_hash_table_iter_remove (&iter);
    else if (c->deadline && now >= c->deadline && !c->refuse)
      g_ptr_array_add (due, c);
  }
  for (i = 0; i < due->len; i++) {
    c = g_ptr_array_index (due, i);
    if (c->phase == PHASE_BODY)
      connection_answer_detail (self, c, SOUP_STATUS_REQUEST_TIMEOUT,
          "Request body timed out", NULL);
    else
      connection_close (self, c);
  }
  g_ptr_array_free (due, TRUE);
  if (g_hash_table_size (self->connections) > 0)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&self->tick, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
tick_ensure (GstFalLimits * self)
{
  if (self->tick)
    return;
  self->tick = g_timeout_source_new (TICK_MS);
  g_source_set_callback (self->tick, G_SOURCE_FUNC (tick_cb), self, NULL);
  g_source_attach (self->tick, g_main_context_get_thread_default ());
}

/* ---------------------------------------------------------------- signals */

static void
request_started (SoupServer * soup, SoupServerMessage * msg,
    GstFalLimits * self)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  Connection *c;
  gboolean new;

  if (!socket)
    return;
  c = g_hash_table_lookup (self->connections, socket);
  if (c && c->closing)
    return;
  new = !c;
  if (new) {
    c = g_new0 (Connection, 1);
    c->owner = self;
    c->socket = g_object_ref (socket);
    g_hash_table_insert (self->connections, socket, c);
  }
  connection_set_msg (c, msg);
  connection_enter (c, PHASE_HEADERS, self->header_timeout);
  c->body_bytes = 0;
  if (new && g_hash_table_size (self->connections) > self->max_connections)
    make_room (self, c);
  tick_ensure (self);
}

/* The body is read: the request is the handlers' now. */
static void
request_read (SoupServer * soup, SoupServerMessage * msg, GstFalLimits * self)
{
  Connection *c = lookup (self, msg);

  if (c && !c->closing) {
    connection_set_msg (c, NULL);
    connection_enter (c, PHASE_BUSY, 0);
  }
}

/* Answered: kept alive for a next request, or about to be closed. */
static void
request_finished (SoupServer * soup, SoupServerMessage * msg,
    GstFalLimits * self)
{
  Connection *c = lookup (self, msg);

  if (c && !c->closing) {
    connection_set_msg (c, NULL);
    connection_enter (c, PHASE_IDLE, self->idle_timeout);
  }
}

static void
got_chunk (SoupServerMessage * msg, GBytes * chunk, GstFalLimits * self)
{
  Connection *c = lookup (self, msg);

  if (!c || c->closing || c->phase != PHASE_BODY || c->msg != msg)
    return;
  /* only a chunked body can grow past a Content-Length within max-body */
  c->body_bytes += g_bytes_get_size (chunk);
  if (c->body_bytes > self->max_body)
    connection_answer_detail (self, c, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "Request body too large", NULL);
  else
    connection_enter (c, PHASE_BODY, self->header_timeout);
}

/* ---------------------------------------------------------------- API */

/* What libsoup 3.2 accepts and then waits on or misreads: two lengths (the
 * last wins), a negative or overflowing one (read to the end of the stream),
 * a length with chunks (chunks win). NULL when the framing is sound. */
static const gchar *
bad_framing (SoupMessageHeaders * headers)
{
  const gchar *length = soup_message_headers_get_list (headers,
      "Content-Length");
  const gchar *coding = soup_message_headers_get_list (headers,
      "Transfer-Encoding");
  guint64 value;

  if (length && coding)
    return "Both Content-Length and Transfer-Encoding";
  if (length && !g_ascii_string_to_unsigned (length, 10, 0, G_MAXINT64,
          &value, NULL))
    return "Invalid Content-Length";
  if (coding && g_ascii_strcasecmp (coding, "chunked"))
    return "Unsupported Transfer-Encoding";
  return NULL;
}

gboolean
gst_fal_limits_got_headers (GstFalLimits * self, SoupServerMessage * msg)
{
  Connection *c = lookup (self, msg);
  const gchar *bad =
      bad_framing (soup_server_message_get_request_headers (msg));

  if (c && c->msg != msg)
    c = NULL;
  if (c && c->refuse) {
    g_source_destroy (c->refuse);
    refuse_cb (c);
    return FALSE;
  }
  if (bad) {
    if (c)
      connection_answer_detail (self, c, SOUP_STATUS_BAD_REQUEST, bad, NULL);
    else
      gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST, bad, NULL);
    return FALSE;
  }
  if (c && !c->closing) {
    connection_enter (c, PHASE_BODY, self->header_timeout);
    c->body_bytes = 0;
  }
  return TRUE;
}

void
gst_fal_limits_answer_early (GstFalLimits * self, SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  Connection *c;

  /* without a body libsoup answers, and the connection may serve again */
  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CHUNKED
      && soup_message_headers_get_content_length (headers) <= 0)
    return;
  c = lookup (self, msg);
  if (c && c->msg == msg)
    connection_answer (self, c);
  else
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
}

GstFalLimits *
gst_fal_limits_new (SoupServer * soup, guint header_timeout,
    guint idle_timeout, guint max_connections, guint64 max_body)
{
  GstFalLimits *self = g_new0 (GstFalLimits, 1);

  self->soup = g_object_ref (soup);
  self->header_timeout = MAX (header_timeout, 1);
  self->idle_timeout = MAX (idle_timeout, 1);
  self->max_connections = MAX (max_connections, 1);
  self->max_body = max_body;
  self->connections = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) connection_free);
  g_signal_connect (soup, "request-started", G_CALLBACK (request_started),
      self);
  g_signal_connect (soup, "request-read", G_CALLBACK (request_read), self);
  g_signal_connect (soup, "request-finished", G_CALLBACK (request_finished),
      self);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (request_finished),
      self);
  return self;
}

void
gst_fal_limits_free (GstFalLimits * self)
{
  if (!self)
    return;
  g_signal_handlers_disconnect_by_data (self->soup, self);
  if (self->tick) {
    g_source_destroy (self->tick);
    g_source_unref (self->tick);
  }
  while (self->lingering)
    linger_free (self->lingering->data);
  g_hash_table_unref (self->connections);
  g_object_unref (self->soup);
  g_free (self);
}
