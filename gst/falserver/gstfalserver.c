/* gst-fal server: GstFalServer, the local fal-compatible server.
 *
 * A SoupServer runs on its own thread and main context and owns every HTTP
 * message; worker threads take requests from the queue and run the apps;
 * request changes reach the HTTP side as idle sources on the server context.
 */
#include <math.h>
#include <string.h>
#include <libsoup/soup.h>
#include "gstfalserver.h"
#include "gstfalserver-private.h"
#include "gstfalauth-private.h"
#include "gstfalstorageroutes-private.h"
#include <gst/fal/gstfaljson-private.h>

#define DEFAULT_BIND_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 0
#define DEFAULT_WORKERS 2
#define DEFAULT_MAX_BODY (256 * 1024 * 1024)
/* headers (and each stretch of a body) within this; idle connections longer
 * than a client's own idle reuse (libsoup's SoupSession: 60 s) so that the
 * client, not the server, closes them */
#define DEFAULT_HEADER_TIMEOUT 10
#define DEFAULT_IDLE_TIMEOUT 75
/* well under the usual 1024 open files, with room for app pipelines */
#define DEFAULT_MAX_CONNECTIONS 512
#define KEEPALIVE_SECONDS 15
#define EXPIRE_SECONDS 30
#define TOKEN_SECONDS 3600
#define RETENTION_SECONDS 3600
#define WEBHOOK_ATTEMPTS 4

enum
{
  PROP_0,
  PROP_BIND_ADDRESS,
  PROP_PORT,
  PROP_WORKERS,
  PROP_KEY,
  PROP_STORAGE_DIR,
  PROP_APPS_FILE,
  PROP_MAX_BODY,
  PROP_URL,
  PROP_ADMIN,
  PROP_ALLOW_FETCH,
  PROP_MAX_FETCH_BYTES,
  PROP_MAX_PIXELS,
  PROP_FETCH_TIMEOUT,
  PROP_HEADER_TIMEOUT,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_CONNECTIONS,
  PROP_TLS_CERTIFICATE,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

typedef enum
{
  WATCH_STATUS,                 /* GET …/status/stream */
  WATCH_RUN,                    /* POST /run/{ID} */
  WATCH_STREAM,                 /* POST /run/{ID}/stream */
} WatchKind;

typedef struct
{
  GstFalServer *server;
  WatchKind kind;
  GstFalServerRequest *request;
  SoupServerMessage *msg;
  gulong finished_id;
  gboolean with_logs;
  gboolean responded;           /* nothing more is written */
  gboolean started;             /* SSE headers set */
  gchar *last;                  /* state and position last sent */
  guint logs_sent;
  GSource *keepalive;
  GSource *hangup;              /* runs: watches the client's connection */
} Watcher;

struct _GstFalServer
{
  GObject parent;

  gchar *bind_address;
  guint port;
  guint n_workers;
  gchar *storage_dir;
  gchar *apps_file;
  guint64 max_body;
  guint header_timeout;
  guint idle_timeout;
  guint max_connections;
  gchar *url;
  gboolean admin;               /* the /_admin routes are served */
  GTlsCertificate *tls_certificate;     /* https when set */
  GstFalAuth *auth;             /* the key and the tokens */
  GstFalFetchPolicy *fetch_policy;      /* the fetches of apps */

  GMutex lock;                  /* faults, requests, rand */
  GstFalServerFaults faults;
  GRand *rand;
  GHashTable *requests;         /* id → GstFalServerRequest */

  GstFalAppRegistry *registry;
  GstFalStorage *storage;
  GstFalQueue *queue;
  GPtrArray *workers;
  GThreadPool *webhooks;

  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;
  GstFalConnections *connections;
  GstFalListener *listener;
  GstFalLimits *limits;
  GList *watchers;              /* server thread only */
  GSource *expire_source;
  gboolean started;
  gboolean stopped;
};

G_DEFINE_TYPE (GstFalServer, gst_fal_server, G_TYPE_OBJECT);

/* ---------------------------------------------------------------- JSON */

static const gchar *
reason_phrase (guint status)
{
  switch (status) {
    case 429:
      return "Too Many Requests";
    case 499:
      return "Client Closed Request";
    default:
      return NULL;
  }
}

static void
respond_json (SoupServerMessage * msg, guint status, JsonNode * node)
{
  gchar *text = gst_fal_json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status, reason_phrase (status));
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, text, strlen (text));
}

static void
respond_json_take (SoupServerMessage * msg, guint status, JsonNode * node)
{
  respond_json (msg, status, node);
  json_node_unref (node);
}

static void
respond_object_take (SoupServerMessage * msg, guint status, JsonObject * object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  respond_json_take (msg, status, node);
}

static JsonNode *
detail_node (const gchar * detail, const gchar * error_type)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "detail", detail);
  if (error_type)
    json_object_set_string_member (object, "error_type", error_type);
  json_node_take_object (node, object);
  return node;
}

static void
respond_detail (SoupServerMessage * msg, guint status, const gchar * detail,
    const gchar * error_type)
{
  if (error_type)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "X-Fal-Error-Type", error_type);
  respond_json_take (msg, status, detail_node (detail, error_type));
}

static void
respond_status_only (SoupServerMessage * msg, guint status, const gchar * value)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "status", value);
  respond_object_take (msg, status, object);
}

static void
set_request_id (SoupServerMessage * msg, GstFalServerRequest * request)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "x-fal-request-id", request->id);
}

/* Parses the request body as JSON; an empty body is {}. */
static JsonNode *
parse_body (SoupServerMessage * msg, GError ** error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize size;
  const gchar *data = g_bytes_get_data (bytes, &size);

  if (size == 0) {
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);

    json_node_take_object (node, json_object_new ());
    return node;
  }
  return gst_fal_json_from_string (data, size, error);
}

/* 400 for a body parse_body() refused: not JSON, or nested too deep */
static void
respond_invalid_body (SoupServerMessage * msg, const GError * error)
{
  g_autofree gchar *detail = g_strdup_printf ("Invalid JSON body: %s",
      error->message);

  respond_detail (msg, SOUP_STATUS_BAD_REQUEST, detail, "bad_request");
}

static gchar *
base_url (GstFalServer * self, SoupServerMessage * msg)
{
  const gchar *host =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Host");

  if (host && *host && !strpbrk (host, "/ \\\"'"))
    return g_strdup_printf ("%s://%s", self->tls_certificate ? "https" :
        "http", host);
  return g_strdup (self->url);
}

/* ---------------------------------------------------------------- auth */

/* Answers 401 or 403 unless the request's credentials open @route (@app:
 * the APP of a realtime route). */
static gboolean
authorize (GstFalServer * self, SoupServerMessage * msg, GstFalRoute route,
    const gchar * app, GHashTable * query)
{
  const gchar *header =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  const gchar *jwt = query ? g_hash_table_lookup (query, "fal_jwt_token") :
      NULL;

  switch (gst_fal_auth_check (self->auth, route, app, header, jwt)) {
    case GST_FAL_AUTH_OK:
      return TRUE;
    case GST_FAL_AUTH_FORBIDDEN:
      respond_detail (msg, SOUP_STATUS_FORBIDDEN,
          "This token does not open this route: only the key does", NULL);
      return FALSE;
    default:
      respond_detail (msg, SOUP_STATUS_UNAUTHORIZED,
          "No user found for Key ID and Secret", NULL);
      return FALSE;
  }
}

/* 422 worded as FastAPI does, naming @field at @location ("query",
 * "header", "body"). */
static void
respond_invalid (SoupServerMessage * msg, const gchar * location,
    const gchar * field, const gchar * message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detail");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "loc");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, location);
  if (field && strcmp (field, location))
    json_builder_add_string_value (builder, field);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "msg");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "value_error");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  respond_json_take (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
      json_builder_get_root (builder));
}

/* ---------------------------------------------------------------- watchers */

static void watcher_finished (SoupServerMessage * msg, Watcher * watcher);
static gboolean watcher_hangup_cb (GSocket * socket, GIOCondition condition,
    Watcher * watcher);
static void truncate_response (SoupServerMessage * msg);

static Watcher *
watcher_new (GstFalServer * self, WatchKind kind, GstFalServerRequest * request,
    SoupServerMessage * msg)
{
  Watcher *watcher = g_new0 (Watcher, 1);

  watcher->server = self;
  watcher->kind = kind;
  watcher->request = gst_fal_server_request_ref (request);
  watcher->msg = g_object_ref (msg);
  watcher->finished_id = g_signal_connect (msg, "finished",
      G_CALLBACK (watcher_finished), watcher);
  self->watchers = g_list_append (self->watchers, watcher);
  g_object_set_data (G_OBJECT (msg), "gst-fal-deferred", watcher);
  soup_server_message_pause (msg);
  /* libsoup does not read a paused message's connection, so it would not
   * see the client of a run go away; as fal, the run is then cancelled */
  if (kind != WATCH_STATUS && soup_server_message_get_socket (msg)) {
    watcher->hangup =
        g_socket_create_source (soup_server_message_get_socket (msg),
        G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback (watcher->hangup, G_SOURCE_FUNC (watcher_hangup_cb),
        watcher, NULL);
    g_source_attach (watcher->hangup, self->context);
  }
  return watcher;
}

static void
watcher_free (Watcher * watcher)
{
  GstFalServer *self = watcher->server;

  self->watchers = g_list_remove (self->watchers, watcher);
  if (watcher->keepalive) {
    g_source_destroy (watcher->keepalive);
    g_source_unref (watcher->keepalive);
  }
  if (watcher->hangup) {
    g_source_destroy (watcher->hangup);
    g_source_unref (watcher->hangup);
  }
  g_signal_handler_disconnect (watcher->msg, watcher->finished_id);
  g_object_unref (watcher->msg);
  gst_fal_server_request_unref (watcher->request);
  g_free (watcher->last);
  g_free (watcher);
}

/* The client of a sync run went away: the run is cancelled. */
static void
watcher_cancel_run (Watcher * watcher)
{
  GstFalServerRequest *request = watcher->request;

  if (watcher->kind == WATCH_STATUS || watcher->responded)
    return;
  g_mutex_lock (&request->lock);
  request->cancel_requested = TRUE;
  g_mutex_unlock (&request->lock);
  g_cancellable_cancel (request->cancellable);
  if (gst_fal_queue_remove (watcher->server->queue, request))
    gst_fal_server_request_fail (request, 499, "Client disconnected",
        "client_disconnected");
}

static void
watcher_finished (SoupServerMessage * msg, Watcher * watcher)
{
  watcher_cancel_run (watcher);
  watcher_free (watcher);
}

/* The connection of a waiting run is readable: end of stream or an error
 * means the client is gone; data (a pipelined request) is left to libsoup. */
static gboolean
watcher_hangup_cb (GSocket * socket, GIOCondition condition, Watcher * watcher)
{
  g_autoptr (GError) error = NULL;
  gchar byte;
  GInputVector vector = { &byte, 1 };
  gint flags = G_SOCKET_MSG_PEEK;
  gssize received = g_socket_receive_message (socket, NULL, &vector, 1, NULL,
      NULL, &flags, NULL, &error);

  if (received < 0 && g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (received <= 0) {
    g_debug ("client of request %s disconnected", watcher->request->id);
    watcher_cancel_run (watcher);
  }
  g_clear_pointer (&watcher->hangup, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
sse_start (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
}

static void
sse_write (SoupServerMessage * msg, const gchar * text)
{
  soup_message_body_append (soup_server_message_get_response_body (msg),
      SOUP_MEMORY_COPY, text, strlen (text));
  soup_server_message_unpause (msg);
}

static void
sse_close (SoupServerMessage * msg)
{
  soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);
}

/* The completed request's result onto @msg: the app's status and body. */
static void
respond_result (SoupServerMessage * msg, GstFalServerRequest * request)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree gchar *error_type = NULL;
  JsonNode *body = NULL;
  guint status =
      gst_fal_server_request_get_result (request, &body, &error_type);

  set_request_id (msg, request);
  if (error_type) {
    soup_message_headers_replace (headers, "X-Fal-Error-Type", error_type);
    if (!strcmp (error_type, "request_timeout"))
      soup_message_headers_replace (headers, "X-Fal-Request-Timeout-Type",
          "user");
  }
  if (!body)
    body = json_node_init_null (json_node_alloc ());
  respond_json_take (msg, status, body);
}

/* Sends the status when it changed or has new log lines. As fal's stream
 * does (and as fal's JS client expects, accumulating them), each event
 * carries only the log lines not sent before. */
static void
watcher_update_status (Watcher * watcher)
{
  GstFalServer *self = watcher->server;
  GstFalServerRequest *request = watcher->request;
  GstFalServerRequestState state = gst_fal_server_request_get_state (request);
  gint position = gst_fal_queue_position (self->queue, request);
  g_autoptr (JsonNode) status = NULL;
  g_autofree gchar *key = NULL;
  JsonNode *logs;
  guint new_logs = 0;

  /* popped but not yet started: still waiting, first in line */
  if (state == GST_FAL_SERVER_REQUEST_IN_QUEUE && position < 0)
    position = 0;
  status = gst_fal_server_request_build_status (request, watcher->with_logs,
      watcher->logs_sent, position);
  logs = json_object_get_member (json_node_get_object (status), "logs");
  if (logs && JSON_NODE_HOLDS_ARRAY (logs))
    new_logs = json_array_get_length (json_node_get_array (logs));
  key = g_strdup_printf ("%s:%d", json_object_get_string_member
      (json_node_get_object (status), "status"), position);
  if (new_logs > 0 || g_strcmp0 (key, watcher->last)) {
    g_autofree gchar *json = json_to_string (status, FALSE);
    g_autofree gchar *event = g_strdup_printf ("data: %s\n\n", json);

    sse_write (watcher->msg, event);
    watcher->logs_sent += new_logs;
    g_free (watcher->last);
    watcher->last = g_steal_pointer (&key);
  }
  if (state == GST_FAL_SERVER_REQUEST_COMPLETED) {
    sse_close (watcher->msg);
    watcher->responded = TRUE;
  }
}

/* @completed: the change is the request's completion. A run answers only
 * then, not when an earlier change is dispatched after the request already
 * completed: that would drop the partial outputs not yet dispatched. */
static void
watcher_update (Watcher * watcher, GstFalServerRequest * changed,
    const gchar * partial, gboolean completed)
{
  GstFalServerRequest *request = watcher->request;
  JsonNode *body = NULL;
  g_autofree gchar *error_type = NULL;
  g_autofree gchar *event = NULL;
  guint status;

  if (watcher->responded)
    return;
  if (watcher->kind == WATCH_STATUS) {
    /* any change may move the positions of waiting requests */
    if (!partial)
      watcher_update_status (watcher);
    return;
  }
  if (changed != request)
    return;
  if (partial) {
    if (watcher->kind != WATCH_STREAM)
      return;
    if (!watcher->started) {
      sse_start (watcher->msg);
      set_request_id (watcher->msg, request);
      watcher->started = TRUE;
    }
    event = g_strdup_printf ("data: %s\n\n", partial);
    sse_write (watcher->msg, event);
    return;
  }
  if (!completed)
    return;
  watcher->responded = TRUE;
  if (watcher->kind == WATCH_RUN || !watcher->started) {
    status = gst_fal_server_request_get_result (request, &body, &error_type);
    if (watcher->kind == WATCH_RUN || status != SOUP_STATUS_OK) {
      if (body)
        json_node_unref (body);
      respond_result (watcher->msg, request);
      if (g_object_get_data (G_OBJECT (watcher->msg), "gst-fal-truncate"))
        truncate_response (watcher->msg);
      else
        soup_server_message_unpause (watcher->msg);
      return;
    }
    json_node_unref (body);
    body = NULL;
    g_clear_pointer (&error_type, g_free);
    sse_start (watcher->msg);
    set_request_id (watcher->msg, request);
  }
  status = gst_fal_server_request_get_result (request, &body, &error_type);
  if (body) {
    g_autofree gchar *json = json_to_string (body, FALSE);

    event = g_strdup_printf (status == SOUP_STATUS_OK ? "data: %s\n\n" :
        "event: error\ndata: %s\n\n", json);
    soup_message_body_append (soup_server_message_get_response_body
        (watcher->msg), SOUP_MEMORY_COPY, event, strlen (event));
    json_node_unref (body);
  }
  sse_close (watcher->msg);
}

typedef struct
{
  GstFalServer *server;
  GstFalServerRequest *request;
  gchar *partial;
  gboolean completed;
} Notification;

static void
notification_free (Notification * notification)
{
  gst_fal_server_request_unref (notification->request);
  g_free (notification->partial);
  g_free (notification);
}

static gboolean
notification_dispatch (Notification * notification)
{
  GstFalServer *self = notification->server;
  g_autoptr (GList) snapshot = g_list_copy (self->watchers);
  GList *l;

  for (l = snapshot; l; l = l->next)
    if (g_list_find (self->watchers, l->data))
      watcher_update (l->data, notification->request, notification->partial,
          notification->completed);
  return G_SOURCE_REMOVE;
}

/* Any thread: hands the change over to the server thread. */
static void
request_notify (GstFalServerRequest * request, const gchar * partial,
    gpointer user_data)
{
  GstFalServer *self = user_data;
  Notification *notification = g_new0 (Notification, 1);
  GSource *source = g_idle_source_new ();

  notification->server = self;
  notification->request = gst_fal_server_request_ref (request);
  notification->partial = g_strdup (partial);
  notification->completed = !partial
      && gst_fal_server_request_get_state (request) ==
      GST_FAL_SERVER_REQUEST_COMPLETED;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, (GSourceFunc) notification_dispatch,
      notification, (GDestroyNotify) notification_free);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static gboolean
keepalive_cb (Watcher * watcher)
{
  if (!watcher->responded)
    sse_write (watcher->msg, ": keepalive\n\n");
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------- workers */

typedef struct
{
  gchar *url;
  gchar *payload;
  gchar *request_id;
} Webhook;

static void
webhook_free (Webhook * webhook)
{
  g_free (webhook->url);
  g_free (webhook->payload);
  g_free (webhook->request_id);
  g_free (webhook);
}

static gboolean
webhook_post (Webhook * webhook)
{
  g_autoptr (SoupSession) session =
      soup_session_new_with_options ("timeout", 15, NULL);
  guint attempt;

  for (attempt = 0; attempt < WEBHOOK_ATTEMPTS; attempt++) {
    g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST,
        webhook->url);
    g_autoptr (GBytes) body = g_bytes_new (webhook->payload,
        strlen (webhook->payload));
    g_autoptr (GBytes) answer = NULL;
    g_autofree gchar *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT,
        g_get_real_time () / G_USEC_PER_SEC);
    SoupMessageHeaders *headers;

    if (!msg)
      return FALSE;
    headers = soup_message_get_request_headers (msg);
    soup_message_headers_replace (headers, "X-Fal-Webhook-Request-Id",
        webhook->request_id);
    soup_message_headers_replace (headers, "X-Fal-Webhook-User-Id", "local");
    soup_message_headers_replace (headers, "X-Fal-Webhook-Timestamp",
        timestamp);
    soup_message_set_request_body_from_bytes (msg, "application/json", body);
    answer = soup_session_send_and_read (session, msg, NULL, NULL);
    if (answer && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
      return TRUE;
    g_debug ("webhook for %s: attempt %u failed", webhook->request_id,
        attempt + 1);
    if (attempt + 1 < WEBHOOK_ATTEMPTS)
      g_usleep ((G_USEC_PER_SEC / 2) << attempt);
  }
  return FALSE;
}

static void
webhook_deliver (Webhook * webhook, GstFalServer * self)
{
  if (!webhook_post (webhook))
    g_debug ("webhook for %s not delivered", webhook->request_id);
  webhook_free (webhook);
}

static void
queue_webhook (GstFalServer * self, GstFalServerRequest * request)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *error_type = NULL;
  JsonNode *body = NULL;
  guint status =
      gst_fal_server_request_get_result (request, &body, &error_type);
  Webhook *webhook = g_new0 (Webhook, 1);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, request->id);
  json_builder_set_member_name (builder, "gateway_request_id");
  json_builder_add_string_value (builder, request->id);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status == 200 ? "OK" : "ERROR");
  json_builder_set_member_name (builder, "payload");
  json_builder_add_value (builder, body ? body :
      json_node_init_null (json_node_alloc ()));
  if (status != 200) {
    g_autofree gchar *error = g_strdup_printf ("Invalid status code: %u",
        status);

    json_builder_set_member_name (builder, "error");
    json_builder_add_string_value (builder, error);
  }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  webhook->url = g_strdup (request->webhook);
  webhook->payload = json_to_string (root, FALSE);
  webhook->request_id = g_strdup (request->id);
  g_thread_pool_push (self->webhooks, webhook, NULL);
}

static gpointer
worker_main (gpointer data)
{
  GstFalServer *self = data;
  GstFalServerRequest *request;

  while ((request = gst_fal_queue_pop (self->queue))) {
    gboolean cancelled;

    if (request->start_deadline
        && g_get_monotonic_time () > request->start_deadline) {
      gst_fal_server_request_fail (request, 504, "Request timed out",
          "request_timeout");
    } else if (gst_fal_server_request_start (request)) {
      g_mutex_lock (&request->lock);
      cancelled = request->cancel_requested;
      g_mutex_unlock (&request->lock);
      if (cancelled) {
        gst_fal_server_request_fail (request, 499, "Request was cancelled",
            "client_cancelled");
      } else if (!gst_fal_descriptors_enough ()) {
        /* an app pipeline out of descriptors may abort the process */
        gst_fal_server_request_fail (request, 503,
            "Server is out of file descriptors", "runner_scheduling_failure");
      } else {
        GstFalAppCall *call = gst_fal_app_call_new (request);

        gst_fal_app_call_run (call);
        gst_fal_app_call_free (call);
      }
    }
    if (request->webhook
        && gst_fal_server_request_get_state (request) ==
        GST_FAL_SERVER_REQUEST_COMPLETED)
      queue_webhook (self, request);
    gst_fal_server_request_unref (request);
  }
  return NULL;
}

/* ---------------------------------------------------------------- queue API */

/* A timer of @seconds (at most GST_FAL_MAX_START_TIMEOUT): milliseconds
 * wrap a guint after 49 days, whole seconds then. */
static GSource *
timeout_source_new (gdouble seconds)
{
  if (seconds * 1000 < G_MAXUINT)
    return g_timeout_source_new ((guint) (seconds * 1000));
  return g_timeout_source_new_seconds ((guint) seconds + 1);
}

static gboolean
start_timeout_cb (GstFalServerRequest * request)
{
  GstFalServer *self = request->notify_data;

  if (gst_fal_queue_remove (self->queue, request)
      && gst_fal_server_request_fail (request, 504, "Request timed out",
          "request_timeout") && request->webhook)
    queue_webhook (self, request);
  return G_SOURCE_REMOVE;
}

/* APP of an endpoint id: owner/alias, or namespace/owner/alias. */
gboolean
gst_fal_split_endpoint (const gchar * endpoint, gchar ** app_name,
    gchar ** path)
{
  g_auto (GStrv) segments = g_strsplit (endpoint, "/", -1);
  guint n = g_strv_length (segments), keep, i;
  GString *app;

  keep = n > 0 && (!strcmp (segments[0], "workflows")
      || !strcmp (segments[0], "comfy")) ? 3 : 2;
  if (n < keep)
    return FALSE;
  app = g_string_new (NULL);
  for (i = 0; i < keep; i++) {
    if (!*segments[i]) {
      g_string_free (app, TRUE);
      return FALSE;
    }
    g_string_append_printf (app, "%s%s", i ? "/" : "", segments[i]);
  }
  *app_name = g_string_free (app, FALSE);
  *path = g_strjoinv ("/", segments + keep);
  return TRUE;
}

static GstFalServerRequest *
lookup_request (GstFalServer * self, const gchar * app_name, const gchar * id)
{
  GstFalServerRequest *request;

  g_mutex_lock (&self->lock);
  request = g_hash_table_lookup (self->requests, id);
  if (request && strcmp (request->app_name, app_name))
    request = NULL;
  if (request)
    gst_fal_server_request_ref (request);
  g_mutex_unlock (&self->lock);
  return request;
}

/* Submit (queue) or run/stream (sync): the request enters the queue. */
static void
handle_submit (GstFalServer * self, SoupServerMessage * msg,
    const gchar * endpoint, GHashTable * query, GstFalServerRequestKind kind)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autofree gchar *app_name = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *base = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) input = NULL;
  g_autoptr (GstFalServerRequest) request = NULL;
  g_autoptr (JsonNode) submitted = NULL;
  const GstFalAppInfo *app;
  const gchar *value;
  gdouble timeout = 0;
  guint max_waiting = 0;

  if (!gst_fal_descriptors_enough ()) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Retry-After", "1");
    respond_detail (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "Server is out of file descriptors", "runner_scheduling_failure");
    return;
  }
  if (!gst_fal_split_endpoint (endpoint, &app_name, &path)
      || !(app = gst_fal_app_registry_lookup (self->registry, app_name))) {
    g_autofree gchar *detail = g_strdup_printf ("Application '%s' not found",
        endpoint);

    respond_detail (msg, SOUP_STATUS_NOT_FOUND, detail, NULL);
    return;
  }
  input = parse_body (msg, &error);
  if (!input) {
    respond_invalid_body (msg, error);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (input)) {
    g_autoptr (JsonNode) detail =
        json_from_string ("{\"detail\": [{\"loc\": [\"body\"], \"msg\": "
        "\"Input should be a valid dictionary\", \"type\": \"dict_type\"}]}",
        NULL);

    respond_json (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, detail);
    return;
  }
  value = soup_message_headers_get_one (headers, "X-Fal-Request-Timeout");
  if (value) {
    gchar *end = NULL;

    timeout = g_ascii_strtod (value, &end);
    if (!end || *end || end == value || !isfinite (timeout) || timeout <= 0) {
      respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
          "Invalid X-Fal-Request-Timeout header", "bad_request");
      return;
    }
    timeout = MIN (timeout, GST_FAL_MAX_START_TIMEOUT);
  }
  if (query && (value = g_hash_table_lookup (query, "fal_max_queue_length"))) {
    guint64 number;

    if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT, &number, NULL)) {
      respond_invalid (msg, "query", "fal_max_queue_length",
          "fal_max_queue_length: Input should be an integer from 1 to "
          G_STRINGIFY (G_MAXUINT));
      return;
    }
    max_waiting = number;
  }

  base = base_url (self, msg);
  request =
      gst_fal_server_request_new (endpoint, app_name, path, base, app, input,
      kind);
  value = soup_message_headers_get_one (headers, "X-Fal-Queue-Priority");
  request->low_priority = value && !g_ascii_strcasecmp (value, "low");
  request->lifecycle = g_strdup (soup_message_headers_get_one (headers,
          "X-Fal-Object-Lifecycle-Preference"));
  if (!request->lifecycle)
    request->lifecycle = g_strdup (soup_message_headers_get_one (headers,
            "X-Fal-Object-Lifecycle"));
  if (kind == GST_FAL_SERVER_REQUEST_KIND_QUEUE && query)
    request->webhook = g_strdup (g_hash_table_lookup (query, "fal_webhook"));
  if (timeout > 0)
    request->start_deadline = g_get_monotonic_time () +
        (gint64) (timeout * G_USEC_PER_SEC);
  request->storage = self->storage;
  request->fetch_policy = self->fetch_policy;
  request->notify = request_notify;
  request->notify_data = self;

  if (kind != GST_FAL_SERVER_REQUEST_KIND_QUEUE)
    watcher_new (self, kind == GST_FAL_SERVER_REQUEST_KIND_RUN ? WATCH_RUN :
        WATCH_STREAM, request, msg);

  g_mutex_lock (&self->lock);
  g_hash_table_insert (self->requests, request->id,
      gst_fal_server_request_ref (request));
  g_mutex_unlock (&self->lock);

  /* the answer to a submit always shows the request waiting */
  if (kind == GST_FAL_SERVER_REQUEST_KIND_QUEUE)
    submitted = gst_fal_server_request_build_status (request, FALSE, 0, 0);
  if (!gst_fal_queue_push (self->queue, request, max_waiting)) {
    g_mutex_lock (&self->lock);
    g_hash_table_remove (self->requests, request->id);
    g_mutex_unlock (&self->lock);
    gst_fal_server_request_fail (request, 429, "Queue is full", "queue_full");
    if (kind == GST_FAL_SERVER_REQUEST_KIND_QUEUE)
      respond_detail (msg, 429, self->stopped ? "Server is stopping" :
          "Queue is full", "queue_full");
    return;
  }
  if (timeout > 0) {
    GSource *source = timeout_source_new (timeout);

    g_source_set_callback (source, (GSourceFunc) start_timeout_cb,
        gst_fal_server_request_ref (request),
        (GDestroyNotify) gst_fal_server_request_unref);
    g_source_attach (source, self->context);
    g_source_unref (source);
  }
  if (kind == GST_FAL_SERVER_REQUEST_KIND_QUEUE) {
    /* its true position, 0 if a worker took it already */
    json_object_set_int_member (json_node_get_object (submitted),
        "queue_position", MAX (0, gst_fal_queue_position (self->queue,
                request)));
    set_request_id (msg, request);
    respond_json (msg, SOUP_STATUS_OK, submitted);
  }
}

static gboolean
logs_wanted (GHashTable * query)
{
  const gchar *logs = query ? g_hash_table_lookup (query, "logs") : NULL;

  return logs && (!strcmp (logs, "1") || !g_ascii_strcasecmp (logs, "true"));
}

static void
respond_unknown_request (SoupServerMessage * msg)
{
  respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Request not found", NULL);
}

static void
handle_status (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request, GHashTable * query)
{
  GstFalServerRequestState state = gst_fal_server_request_get_state (request);
  gint position = gst_fal_queue_position (self->queue, request);
  g_autoptr (JsonNode) status = NULL;

  if (state == GST_FAL_SERVER_REQUEST_IN_QUEUE && position < 0)
    position = 0;
  status = gst_fal_server_request_build_status (request, logs_wanted (query), 0,
      position);
  set_request_id (msg, request);
  respond_json (msg,
      state ==
      GST_FAL_SERVER_REQUEST_COMPLETED ? SOUP_STATUS_OK : SOUP_STATUS_ACCEPTED,
      status);
}

static void
handle_status_stream (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request, GHashTable * query)
{
  Watcher *watcher = watcher_new (self, WATCH_STATUS, request, msg);

  watcher->with_logs = logs_wanted (query);
  sse_start (msg);
  set_request_id (msg, request);
  watcher->started = TRUE;
  watcher->keepalive = g_timeout_source_new_seconds (KEEPALIVE_SECONDS);
  g_source_set_callback (watcher->keepalive, (GSourceFunc) keepalive_cb,
      watcher, NULL);
  g_source_attach (watcher->keepalive, self->context);
  watcher_update_status (watcher);
}

static void
handle_result (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request)
{
  if (gst_fal_server_request_get_state (request) !=
      GST_FAL_SERVER_REQUEST_COMPLETED) {
    set_request_id (msg, request);
    respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
        "Request is still in progress", NULL);
    return;
  }
  respond_result (msg, request);
}

static void
handle_cancel (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request)
{
  set_request_id (msg, request);
  if (gst_fal_server_request_get_state (request) ==
      GST_FAL_SERVER_REQUEST_COMPLETED) {
    respond_status_only (msg, SOUP_STATUS_BAD_REQUEST, "ALREADY_COMPLETED");
    return;
  }
  if (gst_fal_queue_remove (self->queue, request)) {
    if (gst_fal_server_request_fail (request, 499, "Request was cancelled",
            "client_cancelled") && request->webhook)
      queue_webhook (self, request);
  } else {
    g_mutex_lock (&request->lock);
    request->cancel_requested = TRUE;
    g_mutex_unlock (&request->lock);
    g_cancellable_cancel (request->cancellable);
  }
  respond_status_only (msg, SOUP_STATUS_ACCEPTED, "CANCELLATION_REQUESTED");
}

static void
handle_openapi (GstFalServer * self, SoupServerMessage * msg,
    const gchar * endpoint)
{
  g_autofree gchar *app_name = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *text = NULL;
  const GstFalAppInfo *app;

  if (!gst_fal_split_endpoint (endpoint, &app_name, &path)
      || !(app = gst_fal_app_registry_lookup (self->registry, app_name))) {
    respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Application not found", NULL);
    return;
  }
  text = gst_fal_app_info_get_openapi (app);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      g_steal_pointer (&text), strlen (text));
}

static void
route_queue (GstFalServer * self, SoupServerMessage * msg, const gchar * rest,
    GHashTable * query)
{
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *requests = strstr (rest, "/requests/");
  g_autofree gchar *app_name = NULL;
  g_auto (GStrv) tail = NULL;
  g_autoptr (GstFalServerRequest) request = NULL;
  guint n;

  if (!requests) {
    if (method == SOUP_METHOD_GET && g_str_has_suffix (rest, "/openapi.json")) {
      g_autofree gchar *endpoint = g_strndup (rest, strlen (rest) -
          strlen ("/openapi.json"));

      handle_openapi (self, msg, endpoint);
    } else if (method == SOUP_METHOD_POST) {
      handle_submit (self, msg, rest, query, GST_FAL_SERVER_REQUEST_KIND_QUEUE);
    } else {
      respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
          "Method not allowed", NULL);
    }
    return;
  }
  app_name = g_strndup (rest, requests - rest);
  tail = g_strsplit (requests + strlen ("/requests/"), "/", -1);
  n = g_strv_length (tail);
  request = n ? lookup_request (self, app_name, tail[0]) : NULL;
  if (!request) {
    respond_unknown_request (msg);
    return;
  }
  if (n == 1 && method == SOUP_METHOD_GET)
    handle_result (self, msg, request);
  else if (n == 2 && !strcmp (tail[1], "status") && method == SOUP_METHOD_GET)
    handle_status (self, msg, request, query);
  else if (n == 3 && !strcmp (tail[1], "status") && !strcmp (tail[2], "stream")
      && method == SOUP_METHOD_GET)
    handle_status_stream (self, msg, request, query);
  else if (n == 2 && !strcmp (tail[1], "cancel")
      && (method == SOUP_METHOD_PUT || method == SOUP_METHOD_POST))
    handle_cancel (self, msg, request);
  else
    respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
}

static void
route_run (GstFalServer * self, SoupServerMessage * msg, const gchar * rest,
    GHashTable * query)
{
  const gchar *method = soup_server_message_get_method (msg);

  if (method == SOUP_METHOD_GET && g_str_has_suffix (rest, "/openapi.json")) {
    g_autofree gchar *endpoint = g_strndup (rest, strlen (rest) -
        strlen ("/openapi.json"));

    handle_openapi (self, msg, endpoint);
  } else if (method != SOUP_METHOD_POST) {
    respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed",
        NULL);
  } else if (g_str_has_suffix (rest, "/stream")) {
    g_autofree gchar *endpoint = g_strndup (rest, strlen (rest) -
        strlen ("/stream"));

    handle_submit (self, msg, endpoint, query,
        GST_FAL_SERVER_REQUEST_KIND_STREAM);
  } else {
    handle_submit (self, msg, rest, query, GST_FAL_SERVER_REQUEST_KIND_RUN);
  }
}

/* ---------------------------------------------------------------- storage */

/* What the storage routes (gstfalstorageroutes.c) use of the server. */
GstFalStorage *
gst_fal_server_get_storage (GstFalServer * self)
{
  return self->storage;
}

GstFalAuth *
gst_fal_server_get_auth (GstFalServer * self)
{
  return self->auth;
}

gchar *
gst_fal_server_base_url (GstFalServer * self, SoupServerMessage * msg)
{
  return base_url (self, msg);
}

JsonNode *
gst_fal_server_parse_body (SoupServerMessage * msg, GError ** error)
{
  return parse_body (msg, error);
}

void
gst_fal_server_respond_invalid_body (SoupServerMessage * msg,
    const GError * error)
{
  respond_invalid_body (msg, error);
}

void
gst_fal_server_respond_detail (SoupServerMessage * msg, guint status,
    const gchar * detail, const gchar * error_type)
{
  respond_detail (msg, status, detail, error_type);
}

void
gst_fal_server_respond_object (SoupServerMessage * msg, guint status,
    JsonObject * object)
{
  respond_object_take (msg, status, object);
}

static void
handle_cdn_token (GstFalServer * self, SoupServerMessage * msg)
{
  g_autofree gchar *token = gst_fal_auth_issue (self->auth, GST_FAL_TOKEN_CDN,
      NULL, TOKEN_SECONDS);
  g_autofree gchar *base = base_url (self, msg);
  g_autofree gchar *cdn = g_strdup_printf ("%s/cdn", base);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) expiry = g_date_time_add_seconds (now, TOKEN_SECONDS);
  g_autofree gchar *expires_at = g_date_time_format_iso8601 (expiry);
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "token", token);
  json_object_set_string_member (object, "token_type", "Bearer");
  json_object_set_string_member (object, "base_url", cdn);
  json_object_set_string_member (object, "expires_at", expires_at);
  respond_object_take (msg, SOUP_STATUS_OK, object);
}

static void
handle_realtime_token (GstFalServer * self, SoupServerMessage * msg)
{
  g_autoptr (JsonNode) body = parse_body (msg, NULL);
  g_auto (GStrv) apps = NULL;
  g_autofree gchar *message = NULL;
  g_autofree gchar *token = NULL;
  const gchar *field = NULL;
  gint64 seconds;

  if (!gst_fal_auth_parse_token_request (body, &apps, &seconds, &field,
          &message)) {
    respond_invalid (msg, "body", field, message);
    return;
  }
  token = gst_fal_auth_issue (self->auth, GST_FAL_TOKEN_REALTIME,
      (const gchar * const *) apps, seconds);
  respond_json_take (msg, SOUP_STATUS_OK,
      json_node_init_string (json_node_alloc (), token));
}

static void
route_rest (GstFalServer * self, SoupServerMessage * msg, const gchar * rest)
{
  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed",
        NULL);
  else if (!strcmp (rest, "storage/upload/initiate"))
    gst_fal_storage_routes_initiate (self, msg, FALSE);
  else if (!strcmp (rest, "storage/upload/initiate-multipart"))
    gst_fal_storage_routes_initiate (self, msg, TRUE);
  else if (!strcmp (rest, "storage/auth/token"))
    handle_cdn_token (self, msg);
  else if (!strcmp (rest, "tokens") || !strcmp (rest, "tokens/"))
    handle_realtime_token (self, msg);
  else
    respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
}

/* ---------------------------------------------------------------- faults */

static void
handle_admin_faults (GstFalServer * self, SoupServerMessage * msg)
{
  GstFalServerFaults faults;

  if (soup_server_message_get_method (msg) == SOUP_METHOD_POST) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) body = parse_body (msg, &error);
    g_autofree gchar *message = NULL;
    const gchar *field = NULL;

    if (!body) {
      respond_invalid_body (msg, error);
      return;
    }
    if (!JSON_NODE_HOLDS_OBJECT (body)) {
      respond_detail (msg, SOUP_STATUS_BAD_REQUEST, "Invalid JSON body",
          "bad_request");
      return;
    }
    if (!gst_fal_admin_faults_from_json (body, &faults, &field, &message)) {
      respond_invalid (msg, "body", field, message);
      return;
    }
    gst_fal_server_set_faults (self, &faults);
  } else if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed",
        NULL);
    return;
  }
  g_mutex_lock (&self->lock);
  faults = self->faults;
  g_mutex_unlock (&self->lock);
  respond_json_take (msg, SOUP_STATUS_OK,
      gst_fal_admin_faults_to_json (&faults));
}

typedef enum
{
  FAULT_NONE,
  FAULT_429,
  FAULT_500,
  FAULT_503,
  FAULT_DROP,
  FAULT_TRUNCATE,
} Fault;

static Fault
draw_fault (GstFalServer * self, guint * latency_ms, guint * retry_after)
{
  Fault fault = FAULT_NONE;
  gdouble x;

  g_mutex_lock (&self->lock);
  *latency_ms = self->faults.latency_ms;
  *retry_after = self->faults.retry_after;
  x = g_rand_double (self->rand);
  if ((x -= self->faults.rate_429) < 0)
    fault = FAULT_429;
  else if ((x -= self->faults.rate_500) < 0)
    fault = FAULT_500;
  else if ((x -= self->faults.rate_503) < 0)
    fault = FAULT_503;
  else if ((x -= self->faults.rate_drop) < 0)
    fault = FAULT_DROP;
  else if ((x -= self->faults.rate_truncate) < 0)
    fault = FAULT_TRUNCATE;
  g_mutex_unlock (&self->lock);
  return fault;
}

static void
drop_connection (SoupServerMessage * msg)
{
  GIOStream *stream = soup_server_message_steal_connection (msg);

  if (stream) {
    g_io_stream_close (stream, NULL, NULL);
    g_object_unref (stream);
  }
}

static void
append_header (const char *name, const char *value, gpointer data)
{
  GString *head = data;

  if (g_ascii_strcasecmp (name, "Content-Length")
      && g_ascii_strcasecmp (name, "Connection")
      && g_ascii_strcasecmp (name, "Transfer-Encoding"))
    g_string_append_printf (head, "%s: %s\r\n", name, value);
}

/* Writes the complete response's headers and half of its body, then closes. */
static void
truncate_response (SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  GString *head = g_string_new (NULL);
  guint status = soup_server_message_get_status (msg);
  GIOStream *stream;
  gsize size;
  const gchar *data = g_bytes_get_data (bytes, &size);

  g_string_append_printf (head, "HTTP/1.1 %u %s\r\n", status,
      soup_status_get_phrase (status));
  soup_message_headers_foreach (soup_server_message_get_response_headers
      (msg), append_header, head);
  g_string_append_printf (head, "Content-Length: %" G_GSIZE_FORMAT
      "\r\nConnection: close\r\n\r\n", size);
  g_string_append_len (head, data, size / 2);
  stream = soup_server_message_steal_connection (msg);
  if (stream) {
    g_output_stream_write_all (g_io_stream_get_output_stream (stream),
        head->str, head->len, NULL, NULL, NULL);
    g_io_stream_close (stream, NULL, NULL);
    g_object_unref (stream);
  }
  g_string_free (head, TRUE);
}

/* ---------------------------------------------------------------- dispatch */

static void
route (GstFalServer * self, SoupServerMessage * msg, const gchar * path,
    GHashTable * query)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  GstFalRoute kind = gst_fal_auth_route (path);

  if ((guint64) body->length > self->max_body) {
    respond_detail (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "Request body too large", NULL);
    return;
  }
  /* off: as if they did not exist */
  if (kind == GST_FAL_ROUTE_ADMIN && !self->admin) {
    g_autofree gchar *detail = g_strdup_printf ("Path %s not found", path);

    respond_detail (msg, SOUP_STATUS_NOT_FOUND, detail, NULL);
    return;
  }
  if (!authorize (self, msg, kind, NULL, query))
    return;
  if (g_str_has_prefix (path, "/queue/"))
    route_queue (self, msg, path + strlen ("/queue/"), query);
  else if (g_str_has_prefix (path, "/run/"))
    route_run (self, msg, path + strlen ("/run/"), query);
  else if (g_str_has_prefix (path, "/rest/"))
    route_rest (self, msg, path + strlen ("/rest/"));
  else if (gst_fal_storage_routes_match (path))
    gst_fal_storage_routes_dispatch (self, msg, path);
  else if (!strcmp (path, "/_admin/faults"))
    handle_admin_faults (self, msg);
  else {
    g_autofree gchar *detail = g_strdup_printf ("Path %s not found", path);

    respond_detail (msg, SOUP_STATUS_NOT_FOUND, detail, NULL);
  }
}

static void
route_with_fault (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, Fault fault, guint retry_after)
{
  switch (fault) {
    case FAULT_429:{
      g_autofree gchar *value = g_strdup_printf ("%u", retry_after);

      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Retry-After", value);
      respond_detail (msg, 429, "Too many requests (injected)", NULL);
      return;
    }
    case FAULT_500:
      respond_detail (msg, 500, "Internal Server Error (injected)",
          "internal_error");
      return;
    case FAULT_503:
      respond_detail (msg, 503, "Service unavailable (injected)",
          "runner_scheduling_failure");
      return;
    case FAULT_DROP:
      drop_connection (msg);
      return;
    default:
      break;
  }
  route (self, msg, path, query);
  if (fault != FAULT_TRUNCATE)
    return;
  /* a sync run is cut short when it answers; streams are not */
  if (g_object_get_data (G_OBJECT (msg), "gst-fal-deferred"))
    g_object_set_data (G_OBJECT (msg), "gst-fal-truncate", GINT_TO_POINTER (1));
  else if (soup_server_message_get_status (msg)
      && soup_server_message_get_response_body (msg)->length > 1)
    truncate_response (msg);
}

typedef struct
{
  GstFalServer *server;
  SoupServerMessage *msg;
  gchar *path;
  GHashTable *query;
  Fault fault;
  guint retry_after;
} Delayed;

static gboolean
delayed_route (Delayed * delayed)
{
  soup_server_message_unpause (delayed->msg);
  route_with_fault (delayed->server, delayed->msg, delayed->path,
      delayed->query, delayed->fault, delayed->retry_after);
  return G_SOURCE_REMOVE;
}

static void
delayed_free (Delayed * delayed)
{
  g_object_unref (delayed->msg);
  g_free (delayed->path);
  if (delayed->query)
    g_hash_table_unref (delayed->query);
  g_free (delayed);
}

static void
server_callback (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstFalServer *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  guint latency_ms, retry_after;
  Fault fault = FAULT_NONE;

  latency_ms = 0;
  retry_after = 1;
  /* faults hit the API, not the CDN downloads nor the admin endpoint */
  if (!(g_str_has_prefix (path, "/files/") && (method == SOUP_METHOD_GET
              || method == SOUP_METHOD_HEAD))
      && !g_str_has_prefix (path, "/_admin/"))
    fault = draw_fault (self, &latency_ms, &retry_after);

  if (latency_ms > 0) {
    Delayed *delayed = g_new0 (Delayed, 1);
    GSource *source = g_timeout_source_new (latency_ms);

    delayed->server = self;
    delayed->msg = g_object_ref (msg);
    delayed->path = g_strdup (path);
    delayed->query = query ? g_hash_table_ref (query) : NULL;
    delayed->fault = fault;
    delayed->retry_after = retry_after;
    soup_server_message_pause (msg);
    g_source_set_callback (source, (GSourceFunc) delayed_route, delayed,
        (GDestroyNotify) delayed_free);
    g_source_attach (source, self->context);
    g_source_unref (source);
    return;
  }
  route_with_fault (self, msg, path, query, fault, retry_after);
}

/* Decides from the headers what needs no body: the key or token, the size,
 * the upload id of a public upload route. TRUE when @msg is answered. */
static gboolean
early_refused (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  GstFalRoute kind = gst_fal_auth_route (path);
  goffset length =
      soup_message_headers_get_content_length
      (soup_server_message_get_request_headers (msg));

  /* off: as if they did not exist */
  if (kind == GST_FAL_ROUTE_ADMIN && !self->admin) {
    g_autofree gchar *detail = g_strdup_printf ("Path %s not found", path);

    respond_detail (msg, SOUP_STATUS_NOT_FOUND, detail, NULL);
    return TRUE;
  }
  if (!authorize (self, msg, kind, NULL, query))
    return TRUE;
  if (length > 0 && (guint64) length > self->max_body) {
    respond_detail (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "Request body too large", NULL);
    return TRUE;
  }
  return kind == GST_FAL_ROUTE_PUBLIC
      && !gst_fal_storage_routes_check_upload (self, msg, path);
}

/* Runs before the body is read, which libsoup does whatever is answered
 * here: a refused request with a body is answered at once instead, and its
 * connection closed. So faults and latency (server_callback) only ever
 * apply to authorised requests. */
static void
early_callback (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  GstFalServer *self = user_data;

  if (gst_fal_limits_got_headers (self->limits, msg)
      && early_refused (self, msg, path, query))
    gst_fal_limits_answer_early (self->limits, msg);
}

/* ---------------------------------------------------------------- lifecycle */

/* Completed requests are kept an hour, as fal keeps results. */
static gboolean
expire_cb (GstFalServer * self)
{
  gint64 oldest = g_get_monotonic_time () -
      (gint64) RETENTION_SECONDS * G_USEC_PER_SEC;
  GHashTableIter iter;
  GstFalServerRequest *request;

  gst_fal_storage_expire (self->storage);
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & request)) {
    gboolean old;

    g_mutex_lock (&request->lock);
    old = request->state == GST_FAL_SERVER_REQUEST_COMPLETED
        && request->completed_at < oldest;
    g_mutex_unlock (&request->lock);
    if (old)
      g_hash_table_iter_remove (&iter);
  }
  g_mutex_unlock (&self->lock);
  return G_SOURCE_CONTINUE;
}

static gpointer
server_thread (gpointer data)
{
  GstFalServer *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
is_loopback (const gchar * address)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);

  if (!inet)
    return !g_ascii_strcasecmp (address, "localhost");
  return g_inet_address_get_is_loopback (inet);
}

/* GSocket's default listen backlog of 10 overflows as soon as a pipeline has
 * a few dozen requests in flight: the kernel then drops connections, which
 * costs a 1 s SYN retry or a reset submit. */
#define LISTEN_BACKLOG 1024

static GSocket *
listen_socket_new (GSocketAddress * address, GError ** error)
{
  GSocket *socket;

  socket = g_socket_new (g_socket_address_get_family (address),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!socket)
    return NULL;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, address, TRUE, error)
      || !g_socket_listen (socket, error))
    g_clear_object (&socket);
  return socket;
}

gboolean
gst_fal_server_start (GstFalServer * self, GError ** error)
{
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  GSList *listeners;
  GSocketAddress *local;
  GSocket *socket;
  const gchar *scheme;
  guint i;
  gboolean listening;

  g_return_val_if_fail (GST_FAL_IS_SERVER (self), FALSE);
  if (self->started || self->stopped) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "The server was already started");
    return FALSE;
  }
  if (!is_loopback (self->bind_address) && !gst_fal_auth_has_key (self->auth)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "Refusing to listen on %s without a key (a blank key is none)",
        self->bind_address);
    return FALSE;
  }
  inet = g_inet_address_new_from_string (self->bind_address);
  if (!inet && !g_ascii_strcasecmp (self->bind_address, "localhost"))
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  if (!inet) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Invalid bind address %s", self->bind_address);
    return FALSE;
  }

  self->registry = gst_fal_app_registry_new ();
  gst_fal_apps_register_builtin (self->registry);
  if (self->apps_file && !gst_fal_apps_register_from_file (self->registry,
          self->apps_file, error))
    return FALSE;
  self->storage = gst_fal_storage_new (self->storage_dir, error);
  if (!self->storage)
    return FALSE;

  self->soup = soup_server_new ("server-header", "gst-fal ",
      "tls-certificate", self->tls_certificate, NULL);
  soup_server_add_handler (self->soup, NULL, server_callback, self, NULL);
  soup_server_add_early_handler (self->soup, NULL, early_callback, self, NULL);
  address = g_inet_socket_address_new (inet, self->port);
  socket = listen_socket_new (address, error);
  g_main_context_push_thread_default (self->context);
  listening = socket
      && soup_server_listen_socket (self->soup, socket,
      self->tls_certificate ? SOUP_SERVER_LISTEN_HTTPS : 0, error);
  if (listening) {
    self->connections = gst_fal_connections_new (self->soup);
    self->listener = gst_fal_listener_new (self->soup, socket);
    self->limits = gst_fal_limits_new (self->soup, self->header_timeout,
        self->idle_timeout, self->max_connections, self->max_body);
  }
  g_main_context_pop_thread_default (self->context);
  g_clear_object (&socket);
  if (!listening) {
    g_clear_object (&self->soup);
    return FALSE;
  }
  /* the port from the listening socket (soup_server_get_uris leaks) */
  listeners = soup_server_get_listeners (self->soup);
  local = g_socket_get_local_address (listeners->data, error);
  g_slist_free (listeners);
  if (!local) {
    g_clear_pointer (&self->limits, gst_fal_limits_free);
    g_clear_pointer (&self->listener, gst_fal_listener_free);
    g_clear_pointer (&self->connections, gst_fal_connections_free);
    g_clear_object (&self->soup);
    return FALSE;
  }
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  gst_fal_fetch_policy_set_own_address (self->fetch_policy, inet, self->port);
  scheme = self->tls_certificate ? "https" : "http";
  if (g_inet_address_get_is_any (inet))
    self->url = g_strdup_printf ("%s://127.0.0.1:%u", scheme, self->port);
  else if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    self->url = g_strdup_printf ("%s://[%s]:%u", scheme, self->bind_address,
        self->port);
  else
    self->url = g_strdup_printf ("%s://%s:%u", scheme, self->bind_address,
        self->port);

  self->expire_source = g_timeout_source_new_seconds (EXPIRE_SECONDS);
  g_source_set_callback (self->expire_source, (GSourceFunc) expire_cb, self,
      NULL);
  g_source_attach (self->expire_source, self->context);

  self->webhooks = g_thread_pool_new ((GFunc) webhook_deliver, self, 4,
      FALSE, NULL);
  self->workers = g_ptr_array_new ();
  for (i = 0; i < MAX (self->n_workers, 1); i++)
    g_ptr_array_add (self->workers, g_thread_new ("fal-worker", worker_main,
            self));
  self->thread = g_thread_new ("fal-server", server_thread, self);
  self->started = TRUE;
  g_debug ("listening on %s with %u workers", self->url, self->workers->len);
  return TRUE;
}

static gboolean
quit_cb (GstFalServer * self)
{
  soup_server_disconnect (self->soup);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

void
gst_fal_server_stop (GstFalServer * self)
{
  GHashTableIter iter;
  GstFalServerRequest *request;
  GList *waiting, *l;
  guint i;

  g_return_if_fail (GST_FAL_IS_SERVER (self));
  if (!self->started || self->stopped)
    return;
  self->stopped = TRUE;

  waiting = gst_fal_queue_close (self->queue);
  for (l = waiting; l; l = l->next)
    gst_fal_server_request_fail (l->data, 499, "Server stopped",
        "client_cancelled");
  g_list_free_full (waiting, (GDestroyNotify) gst_fal_server_request_unref);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & request)) {
    g_mutex_lock (&request->lock);
    if (request->state != GST_FAL_SERVER_REQUEST_COMPLETED)
      request->cancel_requested = TRUE;
    g_mutex_unlock (&request->lock);
    g_cancellable_cancel (request->cancellable);
  }
  g_mutex_unlock (&self->lock);

  for (i = 0; i < self->workers->len; i++)
    g_thread_join (g_ptr_array_index (self->workers, i));
  g_ptr_array_set_size (self->workers, 0);
  g_thread_pool_free (self->webhooks, FALSE, TRUE);
  self->webhooks = NULL;

  g_main_context_invoke (self->context, (GSourceFunc) quit_cb, self);
  g_thread_join (self->thread);
  self->thread = NULL;
  /* the server thread is gone: finish its work (closed connections) here */
  g_main_context_push_thread_default (self->context);
  while (self->watchers)
    watcher_free (self->watchers->data);
  g_source_destroy (self->expire_source);
  g_clear_pointer (&self->expire_source, g_source_unref);
  g_clear_pointer (&self->limits, gst_fal_limits_free);
  g_clear_pointer (&self->listener, gst_fal_listener_free);
  g_clear_pointer (&self->connections, gst_fal_connections_free);
  g_clear_object (&self->soup);
  while (g_main_context_iteration (self->context, FALSE));
  g_main_context_pop_thread_default (self->context);
}

const gchar *
gst_fal_server_get_url (GstFalServer * self)
{
  g_return_val_if_fail (GST_FAL_IS_SERVER (self), NULL);
  return self->url;
}

GstFalServer *
gst_fal_server_new (void)
{
  return g_object_new (GST_FAL_TYPE_SERVER, NULL);
}

GstFalServer *
gst_fal_server_get_default (GError ** error)
{
  static GMutex lock;
  static GstFalServer *server;
  GstFalServer *result = NULL;

  g_mutex_lock (&lock);
  if (!server) {
    GstFalServer *candidate = g_object_new (GST_FAL_TYPE_SERVER,
        "key", NULL, NULL);

    if (gst_fal_server_start (candidate, error))
      server = candidate;
    else
      g_object_unref (candidate);
  }
  if (server)
    result = g_object_ref (server);
  g_mutex_unlock (&lock);
  return result;
}

GPtrArray *
gst_fal_server_list_apps (GstFalServer * self)
{
  GstFalAppRegistry *registry = self->registry;
  g_autoptr (GPtrArray) apps = NULL;
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  guint i;

  g_return_val_if_fail (GST_FAL_IS_SERVER (self), lines);
  if (!registry) {
    registry = gst_fal_app_registry_new ();
    gst_fal_apps_register_builtin (registry);
    if (self->apps_file)
      gst_fal_apps_register_from_file (registry, self->apps_file, NULL);
  }
  apps = gst_fal_app_registry_list (registry);
  for (i = 0; i < apps->len; i++) {
    const GstFalAppInfo *info = g_ptr_array_index (apps, i);

    g_ptr_array_add (lines, g_strdup_printf ("%s\t%s", info->name,
            info->description ? info->description : ""));
  }
  g_clear_pointer (&apps, g_ptr_array_unref);
  if (registry != self->registry)
    gst_fal_app_registry_free (registry);
  return lines;
}

void
gst_fal_server_set_faults (GstFalServer * self,
    const GstFalServerFaults * faults)
{
  g_return_if_fail (GST_FAL_IS_SERVER (self));
  g_mutex_lock (&self->lock);
  if (faults) {
    self->faults = *faults;
    gst_fal_admin_faults_clamp (&self->faults);
  } else {
    memset (&self->faults, 0, sizeof (self->faults));
  }
  g_mutex_unlock (&self->lock);
}

/* ---------------------------------------------------------------- GObject */

static void
gst_fal_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalServer *self = GST_FAL_SERVER (object);

  if (self->started) {
    g_warning ("GstFalServer: property %s set after start is ignored",
        pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_BIND_ADDRESS:
      g_free (self->bind_address);
      self->bind_address = g_value_dup_string (value);
      if (!self->bind_address)
        self->bind_address = g_strdup (DEFAULT_BIND_ADDRESS);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_WORKERS:
      self->n_workers = g_value_get_uint (value);
      break;
    case PROP_KEY:
      gst_fal_auth_set_key (self->auth, g_value_get_string (value));
      break;
    case PROP_STORAGE_DIR:
      g_free (self->storage_dir);
      self->storage_dir = g_value_dup_string (value);
      break;
    case PROP_APPS_FILE:
      g_free (self->apps_file);
      self->apps_file = g_value_dup_string (value);
      break;
    case PROP_MAX_BODY:
      self->max_body = g_value_get_uint64 (value);
      break;
    case PROP_HEADER_TIMEOUT:
      self->header_timeout = g_value_get_uint (value);
      break;
    case PROP_IDLE_TIMEOUT:
      self->idle_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_CONNECTIONS:
      self->max_connections = g_value_get_uint (value);
      break;
    case PROP_ADMIN:
      self->admin = g_value_get_boolean (value);
      break;
    case PROP_ALLOW_FETCH:
      g_strfreev (self->fetch_policy->allow);
      self->fetch_policy->allow = g_value_dup_boxed (value);
      break;
    case PROP_MAX_FETCH_BYTES:
      self->fetch_policy->max_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_PIXELS:
      self->fetch_policy->max_pixels = g_value_get_uint64 (value);
      break;
    case PROP_FETCH_TIMEOUT:
      self->fetch_policy->timeout = g_value_get_uint (value);
      break;
    case PROP_TLS_CERTIFICATE:
      g_set_object (&self->tls_certificate, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_fal_server_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalServer *self = GST_FAL_SERVER (object);

  switch (prop_id) {
    case PROP_BIND_ADDRESS:
      g_value_set_string (value, self->bind_address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_WORKERS:
      g_value_set_uint (value, self->n_workers);
      break;
    case PROP_STORAGE_DIR:
      g_value_set_string (value, self->storage ?
          gst_fal_storage_get_dir (self->storage) : self->storage_dir);
      break;
    case PROP_APPS_FILE:
      g_value_set_string (value, self->apps_file);
      break;
    case PROP_MAX_BODY:
      g_value_set_uint64 (value, self->max_body);
      break;
    case PROP_HEADER_TIMEOUT:
      g_value_set_uint (value, self->header_timeout);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, self->idle_timeout);
      break;
    case PROP_MAX_CONNECTIONS:
      g_value_set_uint (value, self->max_connections);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_ADMIN:
      g_value_set_boolean (value, self->admin);
      break;
    case PROP_ALLOW_FETCH:
      g_value_set_boxed (value, self->fetch_policy->allow);
      break;
    case PROP_MAX_FETCH_BYTES:
      g_value_set_uint64 (value, self->fetch_policy->max_bytes);
      break;
    case PROP_MAX_PIXELS:
      g_value_set_uint64 (value, self->fetch_policy->max_pixels);
      break;
    case PROP_FETCH_TIMEOUT:
      g_value_set_uint (value, self->fetch_policy->timeout);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, self->tls_certificate);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_fal_server_finalize (GObject * object)
{
  GstFalServer *self = GST_FAL_SERVER (object);

  gst_fal_server_stop (self);
  g_hash_table_unref (self->requests);
  gst_fal_auth_free (self->auth);
  g_clear_pointer (&self->workers, g_ptr_array_unref);
  g_clear_pointer (&self->queue, gst_fal_queue_free);
  g_clear_pointer (&self->storage, gst_fal_storage_free);
  g_clear_pointer (&self->registry, gst_fal_app_registry_free);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_rand_free (self->rand);
  g_mutex_clear (&self->lock);
  g_free (self->bind_address);
  g_free (self->storage_dir);
  g_free (self->apps_file);
  g_free (self->url);
  g_clear_object (&self->tls_certificate);
  gst_fal_fetch_policy_free (self->fetch_policy);
  G_OBJECT_CLASS (gst_fal_server_parent_class)->finalize (object);
}

static void
gst_fal_server_class_init (GstFalServerClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = gst_fal_server_set_property;
  object_class->get_property = gst_fal_server_get_property;
  object_class->finalize = gst_fal_server_finalize;

  properties[PROP_BIND_ADDRESS] = g_param_spec_string ("bind-address",
      "Bind address", "Address to listen on", DEFAULT_BIND_ADDRESS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PORT] = g_param_spec_uint ("port", "Port",
      "Port to listen on (0 = ephemeral)", 0, 65535, DEFAULT_PORT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_WORKERS] = g_param_spec_uint ("workers", "Workers",
      "Number of worker threads running apps", 1, 1024, DEFAULT_WORKERS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_KEY] = g_param_spec_string ("key", "Key",
      "API key required for API calls (default: FAL_KEY)", NULL,
      G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STORAGE_DIR] = g_param_spec_string ("storage-dir",
      "Storage directory", "Directory of stored files (default: temporary)",
      NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_APPS_FILE] = g_param_spec_string ("apps-file", "Apps file",
      "Key file declaring extra apps", NULL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_BODY] = g_param_spec_uint64 ("max-body", "Max body",
      "Largest accepted request body in bytes", 1, G_MAXUINT64,
      DEFAULT_MAX_BODY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_URL] = g_param_spec_string ("url", "URL",
      "Base URL once started", NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ADMIN] = g_param_spec_boolean ("admin", "Admin",
      "Serve the admin routes (/_admin/faults); they need the key", FALSE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* the fetches of apps: see gstfalfetchpolicy.h and docs/server.md */
  properties[PROP_ALLOW_FETCH] = g_param_spec_boxed ("allow-fetch",
      "Allow fetch", "Hosts apps may fetch media from: patterns (public, "
      "ADDRESS[/BITS], HOST-GLOB[:PORT]); default public addresses only",
      G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_FETCH_BYTES] = g_param_spec_uint64 ("max-fetch-bytes",
      "Max fetch bytes", "Largest input media of an app, in bytes (0 = none)",
      0, G_MAXUINT64, GST_FAL_DEFAULT_MAX_FETCH_BYTES,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_PIXELS] = g_param_spec_uint64 ("max-pixels",
      "Max pixels", "Largest input image of an app, in pixels (0 = none)",
      0, G_MAXUINT64, GST_FAL_DEFAULT_MAX_PIXELS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FETCH_TIMEOUT] = g_param_spec_uint ("fetch-timeout",
      "Fetch timeout", "Longest fetch of an input media, in seconds "
      "(0 = none)", 0, G_MAXUINT, GST_FAL_DEFAULT_FETCH_TIMEOUT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* the request limits: see gstfallimits.c and docs/server.md */
  properties[PROP_HEADER_TIMEOUT] = g_param_spec_uint ("header-timeout",
      "Header timeout", "Seconds a connection has to send complete request "
      "headers, and then each part of a body", 1, 3600,
      DEFAULT_HEADER_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_IDLE_TIMEOUT] = g_param_spec_uint ("idle-timeout",
      "Idle timeout", "Seconds a kept-alive connection may wait for its next "
      "request; clients should reuse connections for less", 1, 86400,
      DEFAULT_IDLE_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_CONNECTIONS] = g_param_spec_uint ("max-connections",
      "Max connections", "Open client connections at most; beyond, the one "
      "idle or waiting for headers longest is closed, else the new one gets "
      "503", 1, 65536, DEFAULT_MAX_CONNECTIONS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* with its private key, e.g. from g_tls_certificate_new_from_files() */
  properties[PROP_TLS_CERTIFICATE] = g_param_spec_object ("tls-certificate",
      "TLS certificate", "Certificate and key to serve https with (NULL: "
      "http)", G_TYPE_TLS_CERTIFICATE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPERTIES, properties);
}

static void
gst_fal_server_init (GstFalServer * self)
{
  self->bind_address = g_strdup (DEFAULT_BIND_ADDRESS);
  self->port = DEFAULT_PORT;
  self->n_workers = DEFAULT_WORKERS;
  self->auth = gst_fal_auth_new (g_getenv ("FAL_KEY"));
  self->max_body = DEFAULT_MAX_BODY;
  self->header_timeout = DEFAULT_HEADER_TIMEOUT;
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  self->max_connections = DEFAULT_MAX_CONNECTIONS;
  self->fetch_policy = gst_fal_fetch_policy_new ();
  g_mutex_init (&self->lock);
  self->rand = g_rand_new ();
  self->requests = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) gst_fal_server_request_unref);
  self->queue = gst_fal_queue_new ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
}
