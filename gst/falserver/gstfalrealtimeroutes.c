/* gst-fal server: the realtime family (fal-protocol §8), GET
 * /run/{APP}/realtime: a websocket carrying one binary msgpack map per input
 * and one per result, in input order.
 *
 * The route checks what can be refused before the upgrade (the app, the
 * query; the router has checked the token), answers 101 and takes the
 * connection over once that is written, as libsoup's own websocket handler
 * does (which cannot serve here: it is registered by path prefix and would
 * answer 400 to every request left unanswered under it). Each input becomes a request of
 * the server's queue, run by the workers off the server thread; a session
 * puts up to the app's max-batch-size inputs in flight at once and writes
 * their results back in order, on the server thread. As fal's template
 * does: text frames, bad input and app failures answer INTERNAL_ERROR and
 * close (1000); no input for session-timeout answers TIMEOUT and closes.
 */
#include <string.h>
#include "gstfalrouter-private.h"
#include <gst/fal/gstfalmsgpack-private.h>
#include <gst/fal/gstfaljson-private.h>

/* fal's idle disconnect, "usually ~2s" */
#define DEFAULT_SESSION_TIMEOUT 2.0
#define MAX_BUFFERING_LIMIT 60

typedef struct
{
  gatomicrefcount ref;
  GstFalServer *server;
  SoupWebsocketConnection *ws;
  const GstFalAppInfo *app;
  gchar *endpoint, *app_name, *path, *base_url;
  guint buffering;              /* 0: unbounded */
  gdouble session_timeout;
  guint max_batch_size;

  /* server thread only */
  GQueue inputs;                /* JsonNode, waiting */
  GQueue running;               /* GstFalServerRequest, input order */
  GSource *idle_timer;
  gboolean closed;
} Session;

static Session *
session_ref (Session * s)
{
  g_atomic_ref_count_inc (&s->ref);
  return s;
}

static void
session_unref (Session * s)
{
  if (!g_atomic_ref_count_dec (&s->ref))
    return;
  g_clear_object (&s->ws);
  g_free (s->endpoint);
  g_free (s->app_name);
  g_free (s->path);
  g_free (s->base_url);
  g_queue_clear_full (&s->inputs, (GDestroyNotify) json_node_unref);
  g_queue_clear_full (&s->running,
      (GDestroyNotify) gst_fal_server_request_unref);
  g_free (s);
}

gboolean
gst_fal_realtime_routes_match (const gchar * path)
{
  return g_str_has_suffix (path, "/realtime");
}

/* The APP of a realtime path, for the token's scope. */
gchar *
gst_fal_realtime_routes_app (const gchar * path)
{
  g_autofree gchar *endpoint = NULL;
  gchar *app_name = NULL, *sub = NULL;

  if (!g_str_has_prefix (path, "/run/") || !gst_fal_realtime_routes_match
      (path))
    return NULL;
  endpoint = g_strndup (path + strlen ("/run/"), strlen (path) -
      strlen ("/run/") - strlen ("/realtime"));
  if (!gst_fal_split_endpoint (endpoint, &app_name, &sub))
    return NULL;
  g_free (sub);
  return app_name;
}

static gboolean
parse_max_buffering (GHashTable * query, guint * value)
{
  const gchar *text = query ? g_hash_table_lookup (query, "max_buffering") :
      NULL;
  guint64 number;

  *value = 0;
  if (!text)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 1, MAX_BUFFERING_LIMIT, &number,
          NULL))
    return FALSE;
  *value = number;
  return TRUE;
}

/* ---------------------------------------------------------------- frames */

static void
send_control (Session * s, const gchar * error, const gchar * reason)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "x-fal-error");
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, error);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, reason);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = gst_fal_json_to_string (root, FALSE);
  soup_websocket_connection_send_text (s->ws, text);
}

/* Ends the session: @error and @reason as a control frame, then close. */
static void
cancel_running (Session * s)
{
  GList *l;

  for (l = s->running.head; l; l = l->next) {
    GstFalServerRequest *request = l->data;

    g_mutex_lock (&request->lock);
    request->cancel_requested = TRUE;
    g_mutex_unlock (&request->lock);
    g_cancellable_cancel (request->cancellable);
  }
}

static void
session_end (Session * s, const gchar * error, const gchar * reason)
{
  if (s->closed)
    return;
  s->closed = TRUE;
  g_debug ("realtime %s: %s: %s", s->endpoint, error, reason);
  if (s->idle_timer) {
    g_source_destroy (s->idle_timer);
    g_clear_pointer (&s->idle_timer, g_source_unref);
  }
  cancel_running (s);
  if (soup_websocket_connection_get_state (s->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    send_control (s, error, reason);
    soup_websocket_connection_close (s->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
        NULL);
  }
}

static gboolean
on_idle_timeout (gpointer data)
{
  Session *s = data;

  g_clear_pointer (&s->idle_timer, g_source_unref);
  session_end (s, "TIMEOUT", "no inputs, reconnect when needed!");
  return G_SOURCE_REMOVE;
}

/* The idle clock runs while nothing waits and nothing runs. */
static void
update_idle_timer (Session * s)
{
  gboolean idle = g_queue_is_empty (&s->inputs)
      && g_queue_is_empty (&s->running);

  if (s->idle_timer && !idle) {
    g_source_destroy (s->idle_timer);
    g_clear_pointer (&s->idle_timer, g_source_unref);
  } else if (!s->idle_timer && idle && !s->closed) {
    s->idle_timer = g_timeout_source_new ((guint) (s->session_timeout *
            1000));
    g_source_set_callback (s->idle_timer, on_idle_timeout, session_ref (s),
        (GDestroyNotify) session_unref);
    g_source_attach (s->idle_timer, s->server->context);
  }
}

/* The reason of a failed run: its detail as text. */
static gchar *
failure_reason (GstFalServerRequest * request)
{
  g_autoptr (JsonNode) body = NULL;
  g_autofree gchar *error_type = NULL;
  guint status = gst_fal_server_request_get_result (request, &body,
      &error_type);
  JsonNode *detail;

  if (body && JSON_NODE_HOLDS_OBJECT (body)
      && (detail = json_object_get_member (json_node_get_object (body),
              "detail"))) {
    if (JSON_NODE_HOLDS_VALUE (detail)
        && json_node_get_value_type (detail) == G_TYPE_STRING)
      return g_strdup (json_node_get_string (detail));
    return gst_fal_json_to_string (detail, FALSE);
  }
  return g_strdup_printf ("the app failed with status %u", status);
}

static void run_batch (Session * s);

/* Sends the results at the head of the line that are complete, in order;
 * server thread. */
static void
send_completed (Session * s)
{
  GstFalServerRequest *request;

  while (!s->closed && (request = g_queue_peek_head (&s->running))
      && gst_fal_server_request_get_state (request) ==
      GST_FAL_SERVER_REQUEST_COMPLETED) {
    g_autoptr (JsonNode) body = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) result = NULL;
    g_autoptr (GBytes) frame = NULL;
    g_autofree gchar *error_type = NULL;
    guint status;

    g_queue_pop_head (&s->running);
    status = gst_fal_server_request_get_result (request, &body, &error_type);
    if (status >= 300) {
      g_autofree gchar *reason = failure_reason (request);

      gst_fal_server_request_unref (request);
      session_end (s, "INTERNAL_ERROR", reason);
      return;
    }
    gst_fal_server_request_unref (request);
    /* image outputs are data URIs here (inline media): back to bytes */
    result = gst_fal_msg_from_json (body, TRUE);
    if (!g_variant_is_of_type (result, G_VARIANT_TYPE_VARDICT)) {
      GVariantBuilder builder;

      /* a result that is no map travels as {"output": …} */
      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&builder, "{sv}", "output", result);
      g_variant_unref (result);
      result = g_variant_ref_sink (g_variant_builder_end (&builder));
    }
    frame = gst_fal_msgpack_encode (result, &error);
    if (!frame) {
      session_end (s, "INTERNAL_ERROR", error->message);
      return;
    }
    soup_websocket_connection_send_message (s->ws,
        SOUP_WEBSOCKET_DATA_BINARY, frame);
  }
  if (g_queue_is_empty (&s->running))
    run_batch (s);
  update_idle_timer (s);
}

typedef struct
{
  Session *session;
  GstFalServerRequest *request;
} Completion;

static gboolean
completion_dispatch (gpointer data)
{
  Completion *c = data;

  send_completed (c->session);
  return G_SOURCE_REMOVE;
}

static void
completion_free (Completion * c)
{
  session_unref (c->session);
  gst_fal_server_request_unref (c->request);
  g_free (c);
}

/* A request's GstFalServerRequestNotify, any thread. */
static void
on_request_notify (GstFalServerRequest * request, const gchar * partial,
    gpointer user_data)
{
  Session *s = user_data;
  Completion *c;
  GSource *source;

  if (partial || gst_fal_server_request_get_state (request) !=
      GST_FAL_SERVER_REQUEST_COMPLETED)
    return;
  c = g_new0 (Completion, 1);
  /* the reference run_batch() took for this request */
  c->session = s;
  c->request = gst_fal_server_request_ref (request);
  source = g_idle_source_new ();
  g_source_set_callback (source, completion_dispatch, c,
      (GDestroyNotify) completion_free);
  g_source_attach (source, s->server->context);
  g_source_unref (source);
}

/* Takes up to max-batch-size waiting inputs into the queue at once. */
static void
run_batch (Session * s)
{
  GstFalServer *self = s->server;
  JsonNode *input;
  guint n = 0;

  while (!s->closed && n < s->max_batch_size
      && (input = g_queue_pop_head (&s->inputs))) {
    GstFalServerRequest *request =
        gst_fal_server_request_new (s->endpoint, s->app_name, s->path,
        s->base_url, s->app, input, GST_FAL_SERVER_REQUEST_KIND_RUN);

    json_node_unref (input);
    request->storage = self->storage;
    request->fetch_policy = self->fetch_policy;
    request->inline_media = TRUE;
    /* every request completes once (run, cancelled or failed at the
     * server's stop): it holds the session until then */
    request->notify = on_request_notify;
    request->notify_data = session_ref (s);
    g_queue_push_tail (&s->running, request);
    if (!gst_fal_queue_push (self->queue, request, 0))
      gst_fal_server_request_fail (request, 503, "Server stopped",
          "runner_scheduling_failure");
    n++;
  }
}

static void
on_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer data)
{
  Session *s = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) input = NULL;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (message, &size);

  if (s->closed)
    return;
  if (type != SOUP_WEBSOCKET_DATA_BINARY) {
    session_end (s, "INTERNAL_ERROR",
        "text frames are not supported: send binary msgpack");
    return;
  }
  input = gst_fal_msgpack_decode (bytes, size, &error);
  if (!input) {
    session_end (s, "INTERNAL_ERROR", error->message);
    return;
  }
  /* binary values become data URIs: what the apps take as image URLs */
  g_queue_push_tail (&s->inputs, gst_fal_msg_to_json (input,
          GST_FAL_MSG_BINARY_DATA_URI));
  if (s->buffering && g_queue_get_length (&s->inputs) > s->buffering)
    json_node_unref (g_queue_pop_head (&s->inputs));
  if (g_queue_is_empty (&s->running))
    run_batch (s);
  update_idle_timer (s);
}

static void
on_closed (SoupWebsocketConnection * ws, gpointer data)
{
  Session *s = data;
  GstFalServer *self = s->server;

  if (!s->closed) {
    s->closed = TRUE;
    cancel_running (s);
  }
  if (s->idle_timer) {
    g_source_destroy (s->idle_timer);
    g_clear_pointer (&s->idle_timer, g_source_unref);
  }
  g_signal_handlers_disconnect_by_data (ws, s);
  self->realtime_sessions = g_list_remove (self->realtime_sessions, s);
  session_unref (s);
}

/* Closes every session (the server stops); server thread. Their closing
 * handshakes will not finish (the loop stops), so each is let go at once:
 * what the socket held (its "closed" reference) is dropped here. */
void
gst_fal_realtime_routes_close_all (GstFalServer * self)
{
  GList *sessions = g_steal_pointer (&self->realtime_sessions), *l;

  for (l = sessions; l; l = l->next) {
    Session *s = l->data;

    s->closed = TRUE;
    cancel_running (s);
    if (s->idle_timer) {
      g_source_destroy (s->idle_timer);
      g_clear_pointer (&s->idle_timer, g_source_unref);
    }
    g_signal_handlers_disconnect_by_data (s->ws, s);
    if (soup_websocket_connection_get_state (s->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (s->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
          "server stopped");
    session_unref (s);
  }
  g_list_free (sessions);
}

/* ---------------------------------------------------------------- route */

/* The 101 is written: the connection is the session's. */
static void
upgraded (SoupServerMessage * msg, GstFalServer * self)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *path = g_uri_get_path (uri);
  g_autoptr (GIOStream) stream = NULL;
  g_autoptr (SoupWebsocketConnection) ws = NULL;
  g_autoptr (GHashTable) query = g_uri_get_query (uri) ?
      soup_form_decode (g_uri_get_query (uri)) : NULL;
  Session *s = g_new0 (Session, 1);
  const GstFalAppRealtime *config;

  g_signal_handlers_disconnect_by_func (msg, upgraded, self);
  stream = soup_server_message_steal_connection (msg);
  ws = soup_websocket_connection_new (stream, uri,
      SOUP_WEBSOCKET_CONNECTION_SERVER,
      soup_message_headers_get_one (soup_server_message_get_request_headers
          (msg), "Origin"), NULL, NULL);
  g_atomic_ref_count_init (&s->ref);
  s->server = self;
  s->ws = g_object_ref (ws);
  s->endpoint = g_strndup (path + strlen ("/run/"), strlen (path) -
      strlen ("/run/") - strlen ("/realtime"));
  gst_fal_split_endpoint (s->endpoint, &s->app_name, &s->path);
  s->app = gst_fal_app_registry_lookup (self->registry, s->app_name);
  s->base_url = gst_fal_server_base_url (self, msg);
  config = &s->app->realtime;
  parse_max_buffering (query, &s->buffering);
  if (!s->buffering)
    s->buffering = config->buffering;
  s->session_timeout = config->session_timeout > 0 ?
      config->session_timeout : DEFAULT_SESSION_TIMEOUT;
  s->max_batch_size = MAX (config->max_batch_size, 1);
  g_queue_init (&s->inputs);
  g_queue_init (&s->running);
  soup_websocket_connection_set_max_incoming_payload_size (ws,
      self->max_body);
  g_signal_connect (ws, "message", G_CALLBACK (on_message), s);
  g_signal_connect (ws, "closed", G_CALLBACK (on_closed), s);
  self->realtime_sessions = g_list_prepend (self->realtime_sessions, s);
  update_idle_timer (s);
}

void
gst_fal_realtime_routes_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  g_autofree gchar *endpoint = NULL, *app_name = NULL, *sub = NULL;
  g_autoptr (GError) error = NULL;
  guint max_buffering;

  endpoint = g_strndup (path + strlen ("/run/"), strlen (path) -
      strlen ("/run/") - strlen ("/realtime"));
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method not allowed", NULL);
    return;
  }
  if (!gst_fal_split_endpoint (endpoint, &app_name, &sub)
      || !gst_fal_app_registry_lookup (self->registry, app_name)) {
    g_autofree gchar *detail = g_strdup_printf ("Application '%s' not found",
        endpoint);

    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, detail, NULL);
    return;
  }
  if (!parse_max_buffering (query, &max_buffering)) {
    gst_fal_server_respond_invalid (msg, "query", "max_buffering",
        "max_buffering: Input should be an integer from 1 to "
        G_STRINGIFY (MAX_BUFFERING_LIMIT));
    return;
  }
  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error)) {
    g_autofree gchar *detail =
        g_strdup_printf ("Expected a websocket upgrade: %s", error->message);

    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST, detail,
        "bad_request");
    return;
  }
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;                     /* answered 400 by libsoup */
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (upgraded), self);
}
