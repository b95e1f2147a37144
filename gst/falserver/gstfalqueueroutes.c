/* gst-fal server: the queue family (fal-protocol §3), /queue/…: submit,
 * status, the status stream, result, cancel, and each app's openapi.json;
 * the submit is also how /run enters the queue */
#include <math.h>
#include <string.h>
#include "gstfalrouter-private.h"

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
void
gst_fal_queue_routes_submit (GstFalServer * self, SoupServerMessage * msg,
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
    gst_fal_server_respond_detail (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "Server is out of file descriptors", "runner_scheduling_failure");
    return;
  }
  if (!gst_fal_split_endpoint (endpoint, &app_name, &path)
      || !(app = gst_fal_app_registry_lookup (self->registry, app_name))) {
    g_autofree gchar *detail = g_strdup_printf ("Application '%s' not found",
        endpoint);

    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, detail, NULL);
    return;
  }
  input = gst_fal_server_parse_body (msg, &error);
  if (!input) {
    gst_fal_server_respond_invalid_body (msg, error);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (input)) {
    g_autoptr (JsonNode) detail =
        json_from_string ("{\"detail\": [{\"loc\": [\"body\"], \"msg\": "
        "\"Input should be a valid dictionary\", \"type\": \"dict_type\"}]}",
        NULL);

    gst_fal_server_respond_json (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, detail);
    return;
  }
  value = soup_message_headers_get_one (headers, "X-Fal-Request-Timeout");
  if (value) {
    gchar *end = NULL;

    timeout = g_ascii_strtod (value, &end);
    if (!end || *end || end == value || !isfinite (timeout) || timeout <= 0) {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
          "Invalid X-Fal-Request-Timeout header", "bad_request");
      return;
    }
    timeout = MIN (timeout, GST_FAL_MAX_START_TIMEOUT);
  }
  if (query && (value = g_hash_table_lookup (query, "fal_max_queue_length"))) {
    guint64 number;

    if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT, &number, NULL)) {
      gst_fal_server_respond_invalid (msg, "query", "fal_max_queue_length",
          "fal_max_queue_length: Input should be an integer from 1 to "
          G_STRINGIFY (G_MAXUINT));
      return;
    }
    max_waiting = number;
  }

  base = gst_fal_server_base_url (self, msg);
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
  request->notify = gst_fal_watchers_notify;
  request->notify_data = self;

  if (kind != GST_FAL_SERVER_REQUEST_KIND_QUEUE)
    gst_fal_watcher_new (self,
        kind ==
        GST_FAL_SERVER_REQUEST_KIND_RUN ? GST_FAL_WATCH_RUN :
        GST_FAL_WATCH_STREAM, request, msg);

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
      gst_fal_server_respond_detail (msg, 429,
          self->stopped ? "Server is stopping" : "Queue is full", "queue_full");
    return;
  }
  if (timeout > 0)
    gst_fal_workers_start_timeout (self, request, timeout);
  if (kind == GST_FAL_SERVER_REQUEST_KIND_QUEUE) {
    /* its true position, 0 if a worker took it already */
    json_object_set_int_member (json_node_get_object (submitted),
        "queue_position", MAX (0, gst_fal_queue_position (self->queue,
                request)));
    gst_fal_server_set_request_id (msg, request);
    gst_fal_server_respond_json (msg, SOUP_STATUS_OK, submitted);
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
  gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND,
      "Request not found", NULL);
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
  gst_fal_server_set_request_id (msg, request);
  gst_fal_server_respond_json (msg,
      state ==
      GST_FAL_SERVER_REQUEST_COMPLETED ? SOUP_STATUS_OK : SOUP_STATUS_ACCEPTED,
      status);
}

static void
handle_status_stream (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request, GHashTable * query)
{
  gst_fal_watchers_stream_status (self, msg, request, logs_wanted (query));
}

static void
handle_result (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request)
{
  if (gst_fal_server_request_get_state (request) !=
      GST_FAL_SERVER_REQUEST_COMPLETED) {
    gst_fal_server_set_request_id (msg, request);
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
        "Request is still in progress", NULL);
    return;
  }
  gst_fal_server_respond_result (msg, request);
}

static void
handle_cancel (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request)
{
  gst_fal_server_set_request_id (msg, request);
  if (gst_fal_server_request_get_state (request) ==
      GST_FAL_SERVER_REQUEST_COMPLETED) {
    gst_fal_server_respond_status (msg, SOUP_STATUS_BAD_REQUEST,
        "ALREADY_COMPLETED");
    return;
  }
  if (gst_fal_queue_remove (self->queue, request)) {
    if (gst_fal_server_request_fail (request, 499, "Request was cancelled",
            "client_cancelled") && request->webhook)
      gst_fal_webhooks_queue (self, request);
  } else {
    g_mutex_lock (&request->lock);
    request->cancel_requested = TRUE;
    g_mutex_unlock (&request->lock);
    g_cancellable_cancel (request->cancellable);
  }
  gst_fal_server_respond_status (msg, SOUP_STATUS_ACCEPTED,
      "CANCELLATION_REQUESTED");
}

typedef struct
{
  GstFalServer *self;
  SoupServerMessage *msg;
  const GstFalAppInfo *app;
  gchar *text;
} OpenapiJob;

/* Server thread: answers the paused request. */
static gboolean
openapi_answer (gpointer data)
{
  OpenapiJob *job = data;

  soup_server_message_set_status (job->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (job->msg, "application/json",
      SOUP_MEMORY_TAKE, job->text, strlen (job->text));
  soup_server_message_unpause (job->msg);
  g_object_unref (job->msg);
  g_object_unref (job->self);
  g_free (job);
  return G_SOURCE_REMOVE;
}

static gpointer
openapi_thread (gpointer data)
{
  OpenapiJob *job = data;

  job->text = gst_fal_app_info_get_openapi (job->app);
  g_main_context_invoke (job->self->context, openapi_answer, job);
  return NULL;
}

void
gst_fal_queue_routes_openapi (GstFalServer * self, SoupServerMessage * msg,
    const gchar * endpoint)
{
  g_autofree gchar *app_name = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *text = NULL;
  const GstFalAppInfo *app;

  if (!gst_fal_split_endpoint (endpoint, &app_name, &path)
      || !(app = gst_fal_app_registry_lookup (self->registry, app_name))) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND,
        "Application not found", NULL);
    return;
  }
  if (app->openapi) {
    /* the app asks someone else (a backend): not on the server thread */
    OpenapiJob *job = g_new0 (OpenapiJob, 1);

    job->self = g_object_ref (self);
    job->msg = g_object_ref (msg);
    job->app = app;
    /* answered, as far as libsoup's websocket handler is concerned */
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_pause (msg);
    g_thread_unref (g_thread_new ("fal-openapi", openapi_thread, job));
    return;
  }
  text = gst_fal_app_info_get_openapi (app);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      g_steal_pointer (&text), strlen (text));
}

void
gst_fal_queue_routes_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  const gchar *rest = path + strlen ("/queue/");
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

      gst_fal_queue_routes_openapi (self, msg, endpoint);
    } else if (method == SOUP_METHOD_POST) {
      gst_fal_queue_routes_submit (self, msg, rest, query,
          GST_FAL_SERVER_REQUEST_KIND_QUEUE);
    } else {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
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
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found",
        NULL);
}
