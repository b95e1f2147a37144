/* gst-fal server: GstFalAppCall, what an app sees of a request while it runs
 * on a worker thread, and the mapping of its outcome to the request. */
#include <string.h>
#include <libsoup/soup.h>
#include "gstfalserver-private.h"
#include <gst/fal/gstfaljson-private.h>

G_DEFINE_QUARK (gst - fal - app - error - quark, gst_fal_app_error);

struct _GstFalAppCall
{
  GstFalServerRequest *request;
  guint64 max_fetch_bytes;      /* 0 = none */
  guint64 max_pixels;
  guint64 max_width, max_height;        /* 0 = none */
  guint fail_status;
  JsonNode *fail_detail;
  gchar *fail_error_type;
};

GstFalAppCall *
gst_fal_app_call_new (GstFalServerRequest * request)
{
  GstFalAppCall *call = g_new0 (GstFalAppCall, 1);

  call->request = gst_fal_server_request_ref (request);
  call->max_fetch_bytes = request->fetch_policy ?
      request->fetch_policy->max_bytes : GST_FAL_DEFAULT_MAX_FETCH_BYTES;
  call->max_pixels = request->fetch_policy ?
      request->fetch_policy->max_pixels : GST_FAL_DEFAULT_MAX_PIXELS;
  return call;
}

void
gst_fal_app_call_free (GstFalAppCall * call)
{
  gst_fal_server_request_unref (call->request);
  if (call->fail_detail)
    json_node_unref (call->fail_detail);
  g_free (call->fail_error_type);
  g_free (call);
}

JsonNode *
gst_fal_app_call_get_input (GstFalAppCall * call)
{
  return call->request->input;
}

const gchar *
gst_fal_app_call_get_request_id (GstFalAppCall * call)
{
  return call->request->id;
}

const gchar *
gst_fal_app_call_get_path (GstFalAppCall * call)
{
  return call->request->path;
}

GCancellable *
gst_fal_app_call_get_cancellable (GstFalAppCall * call)
{
  return call->request->cancellable;
}

gboolean
gst_fal_app_call_is_streaming (GstFalAppCall * call)
{
  return call->request->kind == GST_FAL_SERVER_REQUEST_KIND_STREAM;
}

void
gst_fal_app_call_log (GstFalAppCall * call, const gchar * level,
    const gchar * format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  gst_fal_server_request_add_log (call->request, level, message);
}

void
gst_fal_app_call_emit (GstFalAppCall * call, JsonNode * partial)
{
  g_autofree gchar *json = NULL;

  if (call->request->kind != GST_FAL_SERVER_REQUEST_KIND_STREAM || !partial)
    return;
  json = gst_fal_json_to_string (partial, FALSE);
  gst_fal_server_request_emit_partial (call->request, json);
}

/* "BASE/files/ID/NAME" of this server → "ID/NAME" */
static const gchar *
own_file_path (GstFalAppCall * call, const gchar * url)
{
  g_autofree gchar *prefix = g_strconcat (call->request->base_url, "/files/",
      NULL);

  if (g_str_has_prefix (url, prefix))
    return url + strlen (prefix);
  return NULL;
}

/* Data URIs and the server's own files are in memory already: only their
 * size is checked. */
static GBytes *
check_size (GstFalAppCall * call, GBytes * bytes, GError ** error)
{
  if (bytes && call->max_fetch_bytes
      && g_bytes_get_size (bytes) > call->max_fetch_bytes) {
    g_bytes_unref (bytes);
    gst_fal_fetch_set_size_error (error, call->max_fetch_bytes);
    return NULL;
  }
  return bytes;
}

GBytes *
gst_fal_app_call_fetch (GstFalAppCall * call, const gchar * url,
    gchar ** content_type, GError ** error)
{
  const GstFalFetchPolicy *policy = call->request->fetch_policy;
  g_autoptr (GstFalFetchPolicy) defaults = NULL;
  const gchar *own_path;
  GBytes *bytes;

  g_return_val_if_fail (url != NULL, NULL);

  if (g_str_has_prefix (url, "data:")) {
    bytes = soup_uri_decode_data_uri (url, content_type);
    if (!bytes)
      g_set_error (error, GST_FAL_APP_ERROR, 422, "Invalid data URI");
    return check_size (call, bytes, error);
  }
  own_path = own_file_path (call, url);
  if (own_path && call->request->storage) {
    g_autofree gchar *path = g_uri_unescape_string (own_path, NULL);

    bytes = gst_fal_storage_read (call->request->storage, path ? path :
        own_path, content_type);
    if (bytes)
      return check_size (call, bytes, error);
  }
  if (!policy)
    policy = defaults = gst_fal_fetch_policy_new ();
  return gst_fal_fetch_policy_fetch (policy, url, call->max_fetch_bytes,
      call->request->cancellable, content_type, error);
}

void
gst_fal_app_call_set_limits (GstFalAppCall * call, guint64 max_fetch_bytes,
    guint64 max_pixels)
{
  if (max_fetch_bytes)
    call->max_fetch_bytes = max_fetch_bytes;
  if (max_pixels)
    call->max_pixels = max_pixels;
}

guint64
gst_fal_app_call_get_max_pixels (GstFalAppCall * call)
{
  return call->max_pixels;
}

void
gst_fal_app_call_set_max_size (GstFalAppCall * call, guint64 max_width,
    guint64 max_height)
{
  call->max_width = max_width;
  call->max_height = max_height;
}

void
gst_fal_app_call_get_max_size (GstFalAppCall * call, guint64 * max_width,
    guint64 * max_height)
{
  *max_width = call->max_width;
  *max_height = call->max_height;
}

gchar *
gst_fal_app_call_store (GstFalAppCall * call, GBytes * data,
    const gchar * content_type, const gchar * file_name)
{
  GstFalServerRequest *request = call->request;
  g_autofree gchar *path = NULL;

  if (request->inline_media) {
    g_autofree gchar *b64 = g_base64_encode (g_bytes_get_data (data, NULL),
        g_bytes_get_size (data));

    return g_strconcat ("data:", content_type ? content_type :
        "application/octet-stream", ";base64,", b64, NULL);
  }
  if (!request->storage)
    return NULL;
  path = gst_fal_storage_put (request->storage, data, content_type, file_name,
      gst_fal_storage_parse_lifecycle (request->lifecycle));
  if (!path)
    return NULL;
  return g_strdup_printf ("%s/files/%s", request->base_url, path);
}

void
gst_fal_app_call_fail (GstFalAppCall * call, guint status, JsonNode * detail,
    const gchar * error_type)
{
  call->fail_status = status;
  if (call->fail_detail)
    json_node_unref (call->fail_detail);
  call->fail_detail = detail ? json_node_copy (detail) : NULL;
  g_free (call->fail_error_type);
  call->fail_error_type = g_strdup (error_type);
}

static const gchar *
default_error_type (guint status)
{
  if (status == 422)
    return "validation_error";
  if (status == 499)
    return "client_cancelled";
  if (status == 504)
    return "request_timeout";
  if (status >= 400 && status < 500)
    return "bad_request";
  return "runner_server_error";
}

/* A Pydantic-style detail for a 422 given as plain text. */
static JsonNode *
validation_detail (const gchar * message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "loc");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, "body");
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "msg");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "value_error");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

/* The error message of a status: the detail if it is text, else the first
 * "msg" of a detail list. */
static gchar *
detail_message (JsonNode * detail, guint status)
{
  if (detail && JSON_NODE_HOLDS_VALUE (detail)
      && json_node_get_value_type (detail) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (detail));
  if (detail && JSON_NODE_HOLDS_ARRAY (detail)
      && json_array_get_length (json_node_get_array (detail)) > 0) {
    JsonNode *first = json_array_get_element (json_node_get_array (detail), 0);

    if (JSON_NODE_HOLDS_OBJECT (first)
        && json_object_has_member (json_node_get_object (first), "msg"))
      return g_strdup (json_object_get_string_member (json_node_get_object
              (first), "msg"));
  }
  return g_strdup_printf ("Invalid status code: %u", status);
}

static void
complete_with_error (GstFalAppCall * call, guint status, JsonNode * detail,
    const gchar * error_type)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree gchar *message = detail_message (detail, status);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_value (builder, detail);
  json_builder_set_member_name (builder, "error_type");
  json_builder_add_string_value (builder, error_type);
  json_builder_end_object (builder);
  gst_fal_server_request_complete (call->request, status,
      json_builder_get_root (builder), message, error_type);
}

void
gst_fal_app_call_run (GstFalAppCall * call)
{
  GstFalServerRequest *request = call->request;
  g_autoptr (GError) error = NULL;
  JsonNode *output;
  gboolean cancelled;

  output = request->app->run (call, request->app->app_data, &error);

  g_mutex_lock (&request->lock);
  cancelled = request->cancel_requested;
  g_mutex_unlock (&request->lock);

  if (cancelled) {
    if (output)
      json_node_unref (output);
    gst_fal_server_request_fail (request, 499, "Request was cancelled",
        "client_cancelled");
  } else if (output) {
    gst_fal_server_request_complete (request, 200, output, NULL, NULL);
  } else if (call->fail_status) {
    JsonNode *detail = call->fail_detail ? json_node_copy (call->fail_detail) :
        json_node_init_string (json_node_alloc (), error ? error->message :
        "Application error");

    complete_with_error (call, call->fail_status, detail,
        call->fail_error_type ? call->fail_error_type :
        default_error_type (call->fail_status));
  } else if (error && error->domain == GST_FAL_APP_ERROR && error->code >= 400
      && error->code < 600) {
    JsonNode *detail = error->code == 422 ? validation_detail (error->message)
        : json_node_init_string (json_node_alloc (), error->message);

    complete_with_error (call, error->code, detail,
        default_error_type (error->code));
  } else if (error && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    gst_fal_server_request_fail (request, 499, "Request was cancelled",
        "client_cancelled");
  } else {
    complete_with_error (call, 500,
        json_node_init_string (json_node_alloc (), error ? error->message :
            "Internal Server Error"), "runner_server_error");
  }
}
