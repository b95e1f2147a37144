/* gst-fal server: apps that front a bare HTTP model server (a backend)
 *
 * A backend app posts the request's JSON input to its URL (a request to
 * owner/name/sub/path posts to URL/sub/path) and answers the backend's JSON
 * output, as `fal run --local` serves an app. The server gives it the whole
 * protocol like any app: queue, priorities, status, cancel, start timeout,
 * webhooks, storage, the realtime route (an input, a request).
 *
 * Threads: a run is a blocking call on a worker thread. Each exchange makes
 * a SoupSession on a GMainContext of its own, pushed on that worker thread
 * (gstfalblocking-private.h, as the fetches of apps do), and iterates that
 * context until the exchange ends: the session is created, used and freed
 * on one thread, which owns it, as libsoup wants. The cost is a connection
 * per request (loopback, next to a model's run); what it buys is that a run
 * needs no thread of its own and a cancel needs no hand-over.
 * The request's cancellable aborts the exchange (the backend sees its
 * connection closed), and a deadline (backend-timeout) bounds it.
 *
 * What is sent: the input as application/json and the x-fal-request-id
 * header; never the client's headers, so never its fal key.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <libsoup/soup.h>
#include "gstfalapps-private.h"
#include "gstfalblocking-private.h"
#include <gst/fal/gstfaljson-private.h>

/* How long the openapi.json of a backend may take, at most. */
#define OPENAPI_TIMEOUT 5

typedef struct
{
  gchar *url;                   /* without a trailing '/' */
  guint timeout;                /* seconds, 0 = none */
} BackendApp;

static void
backend_app_free (BackendApp * app)
{
  g_free (app->url);
  g_free (app);
}

/* One HTTP exchange with the backend, on the calling thread: @method to
 * @url with @body (JSON, may be NULL), within @timeout seconds (0 = none).
 * Returns the answer's body with *@status and *@content_type, or NULL with
 * @error: G_IO_ERROR_TIMED_OUT when the deadline passed, G_IO_ERROR_CANCELLED
 * when @cancellable fired, else the transport's error. */
static GBytes *
backend_exchange (const gchar * method, const gchar * url, GBytes * body,
    const gchar * request_id, guint timeout, GCancellable * cancellable,
    guint * status, gchar ** content_type, GError ** error)
{
  GstFalBlocking blocking;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  GBytes *answer;

  msg = soup_message_new (method, url);
  if (!msg) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s is not a URL", url);
    return NULL;
  }
  if (body)
    soup_message_set_request_body_from_bytes (msg, "application/json", body);
  if (request_id)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "x-fal-request-id", request_id);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Accept", "application/json");

  gst_fal_blocking_begin (&blocking, cancellable, timeout);
  /* no proxy: the backend is where the operator said, usually loopback */
  session = soup_session_new_with_options ("proxy-resolver", NULL,
      "user-agent", "gst-fal-server ", NULL);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT,
      blocking.cancellable, gst_fal_blocking_done, &blocking);
  result = gst_fal_blocking_wait (&blocking);
  answer = soup_session_send_and_read_finish (session, result, &local_error);
  g_clear_object (&result);
  soup_session_abort (session);
  g_clear_object (&session);
  gst_fal_blocking_end (&blocking);

  if (!answer) {
    if (blocking.timed_out)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "no answer within %u s", timeout);
    else
      g_propagate_error (error, g_steal_pointer (&local_error));
    return NULL;
  }
  *status = soup_message_get_status (msg);
  *content_type = g_strdup (soup_message_headers_get_content_type
      (soup_message_get_response_headers (msg), NULL));
  return answer;
}

static gchar *
backend_url (BackendApp * app, const gchar * path)
{
  if (!path || !*path)
    return g_strconcat (app->url, "/", NULL);
  return g_strconcat (app->url, "/", path, NULL);
}

/* The JSON of an answer, or NULL with @error naming what it is. */
static JsonNode *
parse_answer (GBytes * answer, GError ** error)
{
  gsize size;
  const gchar *data = g_bytes_get_data (answer, &size);

  if (size == 0) {
    g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
        "the body is empty");
    return NULL;
  }
  return gst_fal_json_from_string (data, size, error);
}

/* The backend's own failure, passed through: its status, and its detail and
 * error type when it answered FastAPI's {"detail": …}. */
static JsonNode *
pass_failure (GstFalAppCall * call, BackendApp * app, guint status,
    GBytes * answer, GError ** error)
{
  g_autoptr (JsonNode) json = parse_answer (answer, NULL);
  JsonObject *object = json && JSON_NODE_HOLDS_OBJECT (json) ?
      json_node_get_object (json) : NULL;
  JsonNode *detail = object ? json_object_get_member (object, "detail") : NULL;
  JsonNode *type = object ? json_object_get_member (object, "error_type") :
      NULL;
  g_autofree gchar *text = NULL;

  if (status < 400 || status > 599)
    status = 500;
  if (detail) {
    gst_fal_app_call_fail (call, status, detail, type
        && JSON_NODE_HOLDS_VALUE (type)
        && json_node_get_value_type (type) == G_TYPE_STRING ?
        json_node_get_string (type) : NULL);
    g_set_error (error, GST_FAL_APP_ERROR, status, "the backend %s answered "
        "HTTP %u", app->url, status);
    return NULL;
  }
  text = g_strndup (g_bytes_get_data (answer, NULL),
      MIN (g_bytes_get_size (answer), 200));
  return gst_fal_apps_fail (call, error, status, NULL, "the backend %s "
      "answered HTTP %u: %s", app->url, status, g_strstrip (text));
}

static JsonNode *
backend_run (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  BackendApp *app = app_data;
  g_autofree gchar *url = backend_url (app,
      gst_fal_app_call_get_path (call));
  gchar *input = gst_fal_json_to_string (gst_fal_app_call_get_input (call),
      FALSE);
  gsize input_size = strlen (input);
  g_autoptr (GBytes) body = g_bytes_new_take (input, input_size);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree gchar *content_type = NULL;
  JsonNode *output;
  guint status = 0;

  answer = backend_exchange (SOUP_METHOD_POST, url, body,
      gst_fal_app_call_get_request_id (call), app->timeout,
      gst_fal_app_call_get_cancellable (call), &status, &content_type,
      &local_error);
  if (!answer) {
    if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
    if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      return gst_fal_apps_fail (call, error, 503, "runner_connection_timeout",
          "the backend %s gave no answer within the backend-timeout of %u s",
          url, app->timeout);
    if (g_error_matches (local_error, G_IO_ERROR,
            G_IO_ERROR_CONNECTION_REFUSED))
      return gst_fal_apps_fail (call, error, 503, "runner_connection_refused",
          "the backend %s refused the connection: %s", url,
          local_error->message);
    return gst_fal_apps_fail (call, error, 503, "runner_connection_error",
        "the backend %s failed: %s", url, local_error->message);
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    return pass_failure (call, app, status, answer, error);

  output = parse_answer (answer, &local_error);
  if (!output)
    return gst_fal_apps_fail (call, error, 502, "runner_incomplete_response",
        "the backend %s answered HTTP %u with a body that is not JSON "
        "(%s): %s", url, status, content_type ? content_type : "no type",
        local_error->message);
  return output;
}

/* The backend's own openapi.json when it serves one (an OpenAPI document:
 * an object with "openapi"), else NULL. */
static gchar *
backend_openapi (gpointer app_data)
{
  BackendApp *app = app_data;
  g_autofree gchar *url = g_strconcat (app->url, "/openapi.json", NULL);
  g_autofree gchar *content_type = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (JsonNode) json = NULL;
  guint status = 0;

  answer = backend_exchange (SOUP_METHOD_GET, url, NULL, NULL,
      app->timeout ? MIN (app->timeout, OPENAPI_TIMEOUT) : OPENAPI_TIMEOUT,
      NULL, &status, &content_type, NULL);
  if (!answer || status != SOUP_STATUS_OK)
    return NULL;
  json = parse_answer (answer, NULL);
  if (!json || !JSON_NODE_HOLDS_OBJECT (json)
      || !json_object_has_member (json_node_get_object (json), "openapi"))
    return NULL;
  return gst_fal_json_to_string (json, TRUE);
}

gboolean
gst_fal_apps_register_backend (GstFalAppRegistry * registry,
    const gchar * name, const gchar * url, const gchar * description,
    guint timeout, GError ** error)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree gchar *default_description = NULL;
  GstFalAppInfo info = { 0 };
  BackendApp *app;
  const gchar *scheme;
  gsize length;

  g_return_val_if_fail (registry != NULL, FALSE);
  g_return_val_if_fail (name != NULL && url != NULL, FALSE);

  if (!strchr (name, '/') || name[0] == '/') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "app %s: the name must be owner/alias", name);
    return FALSE;
  }
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (!scheme || (g_ascii_strcasecmp (scheme, "http")
          && g_ascii_strcasecmp (scheme, "https"))
      || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "app %s: the backend \"%s\" is not an http(s) URL", name, url);
    return FALSE;
  }

  app = g_new0 (BackendApp, 1);
  app->url = g_strdup (url);
  length = strlen (app->url);
  while (length > 0 && app->url[length - 1] == '/')
    app->url[--length] = '\0';
  app->timeout = timeout;
  default_description = g_strdup_printf ("The model served at %s", app->url);

  info.name = name;
  info.description = description ? description : default_description;
  info.input_schema = "{}";
  info.output_schema = "{}";
  info.run = backend_run;
  info.app_data = app;
  info.app_data_free = (GDestroyNotify) backend_app_free;
  info.openapi = backend_openapi;
  gst_fal_app_registry_add (registry, &info);
  return TRUE;
}

gboolean
gst_fal_apps_register_backend_spec (GstFalAppRegistry * registry,
    const gchar * spec, guint timeout, GError ** error)
{
  g_auto (GStrv) parts = g_strsplit (spec, "=", 2);

  if (g_strv_length (parts) != 2 || !*g_strstrip (parts[0])) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "the app \"%s\" is not OWNER/NAME=URL", spec);
    return FALSE;
  }
  return gst_fal_apps_register_backend (registry, parts[0],
      g_strstrip (parts[1]), NULL, timeout, error);
}
