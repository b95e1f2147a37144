/* gst-fal server: requests and their state machine (they wait for a runner
 * of their app in gstfalrunners.c) */
#include "gstfalserver-private.h"

GstFalServerRequest *
gst_fal_server_request_new (const gchar * endpoint, const gchar * app_name,
    const gchar * path, const gchar * base_url, const GstFalAppInfo * app,
    JsonNode * input, GstFalServerRequestKind kind)
{
  GstFalServerRequest *request = g_new0 (GstFalServerRequest, 1);

  g_atomic_ref_count_init (&request->ref);
  request->id = g_uuid_string_random ();
  request->endpoint = g_strdup (endpoint);
  request->app_name = g_strdup (app_name);
  request->path = g_strdup (path ? path : "");
  request->base_url = g_strdup (base_url);
  request->app = app;
  request->input = input ? json_node_copy (input) : NULL;
  request->kind = kind;
  request->cancellable = g_cancellable_new ();
  g_mutex_init (&request->lock);
  request->state = GST_FAL_SERVER_REQUEST_IN_QUEUE;
  request->logs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  return request;
}

GstFalServerRequest *
gst_fal_server_request_ref (GstFalServerRequest * request)
{
  g_atomic_ref_count_inc (&request->ref);
  return request;
}

void
gst_fal_server_request_unref (GstFalServerRequest * request)
{
  if (!g_atomic_ref_count_dec (&request->ref))
    return;
  g_free (request->id);
  g_free (request->endpoint);
  g_free (request->app_name);
  g_free (request->path);
  g_free (request->base_url);
  if (request->input)
    json_node_unref (request->input);
  g_free (request->lifecycle);
  g_free (request->webhook);
  g_object_unref (request->cancellable);
  g_mutex_clear (&request->lock);
  g_ptr_array_unref (request->logs);
  if (request->body)
    json_node_unref (request->body);
  g_free (request->error);
  g_free (request->error_type);
  g_free (request);
}

static void
notify (GstFalServerRequest * request, const gchar * partial)
{
  if (request->notify)
    request->notify (request, partial, request->notify_data);
}

GstFalServerRequestState
gst_fal_server_request_get_state (GstFalServerRequest * request)
{
  GstFalServerRequestState state;

  g_mutex_lock (&request->lock);
  state = request->state;
  g_mutex_unlock (&request->lock);
  return state;
}

gboolean
gst_fal_server_request_start (GstFalServerRequest * request)
{
  gboolean started = FALSE;

  g_mutex_lock (&request->lock);
  if (request->state == GST_FAL_SERVER_REQUEST_IN_QUEUE) {
    request->state = GST_FAL_SERVER_REQUEST_IN_PROGRESS;
    request->started_at = g_get_monotonic_time ();
    started = TRUE;
  }
  g_mutex_unlock (&request->lock);
  if (started)
    notify (request, NULL);
  return started;
}

gboolean
gst_fal_server_request_complete (GstFalServerRequest * request,
    guint status_code, JsonNode * body, const gchar * error,
    const gchar * error_type)
{
  gboolean completed = FALSE;

  g_mutex_lock (&request->lock);
  if (request->state != GST_FAL_SERVER_REQUEST_COMPLETED) {
    request->state = GST_FAL_SERVER_REQUEST_COMPLETED;
    request->completed_at = g_get_monotonic_time ();
    if (!request->started_at)
      request->started_at = request->completed_at;
    request->status_code = status_code;
    request->body = body;
    body = NULL;
    request->error = g_strdup (error);
    request->error_type = g_strdup (error_type);
    completed = TRUE;
  }
  g_mutex_unlock (&request->lock);
  if (body)
    json_node_unref (body);
  if (completed)
    notify (request, NULL);
  return completed;
}

gboolean
gst_fal_server_request_fail (GstFalServerRequest * request, guint status_code,
    const gchar * detail, const gchar * error_type)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, detail);
  json_builder_set_member_name (builder, "error_type");
  json_builder_add_string_value (builder, error_type);
  json_builder_end_object (builder);
  return gst_fal_server_request_complete (request, status_code,
      json_builder_get_root (builder), detail, error_type);
}

void
gst_fal_server_request_add_log (GstFalServerRequest * request,
    const gchar * level, const gchar * message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *timestamp = g_date_time_format_iso8601 (now);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "level");
  json_builder_add_string_value (builder, level ? level : "INFO");
  json_builder_set_member_name (builder, "source");
  json_builder_add_string_value (builder, "USER");
  json_builder_set_member_name (builder, "timestamp");
  json_builder_add_string_value (builder, timestamp);
  json_builder_end_object (builder);

  g_mutex_lock (&request->lock);
  g_ptr_array_add (request->logs, json_builder_get_root (builder));
  g_mutex_unlock (&request->lock);
  notify (request, NULL);
}

void
gst_fal_server_request_emit_partial (GstFalServerRequest * request,
    const gchar * json)
{
  notify (request, json);
}

gchar *
gst_fal_server_request_build_url (GstFalServerRequest * request,
    const gchar * suffix)
{
  return g_strdup_printf ("%s/queue/%s/requests/%s%s", request->base_url,
      request->app_name, request->id, suffix ? suffix : "");
}

static void
add_string_member (JsonBuilder * builder, const gchar * name,
    const gchar * value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

JsonNode *
gst_fal_server_request_build_status (GstFalServerRequest * request,
    gboolean with_logs, guint first_log, gint queue_position)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree gchar *response_url =
      gst_fal_server_request_build_url (request, NULL);
  g_autofree gchar *status_url =
      gst_fal_server_request_build_url (request, "/status");
  g_autofree gchar *cancel_url =
      gst_fal_server_request_build_url (request, "/cancel");
  static const gchar *names[] = { "IN_QUEUE", "IN_PROGRESS", "COMPLETED" };
  GstFalServerRequestState state;
  guint i;

  g_mutex_lock (&request->lock);
  state = request->state;
  /* a waiting request whose position was not asked still reports one */
  if (state == GST_FAL_SERVER_REQUEST_IN_QUEUE && queue_position < 0)
    queue_position = 0;

  json_builder_begin_object (builder);
  add_string_member (builder, "status", names[state]);
  add_string_member (builder, "request_id", request->id);
  add_string_member (builder, "response_url", response_url);
  add_string_member (builder, "status_url", status_url);
  add_string_member (builder, "cancel_url", cancel_url);
  if (state == GST_FAL_SERVER_REQUEST_IN_QUEUE) {
    json_builder_set_member_name (builder, "queue_position");
    json_builder_add_int_value (builder, queue_position);
  } else {
    json_builder_set_member_name (builder, "logs");
    if (with_logs) {
      json_builder_begin_array (builder);
      for (i = first_log; i < request->logs->len; i++)
        json_builder_add_value (builder,
            json_node_copy (g_ptr_array_index (request->logs, i)));
      json_builder_end_array (builder);
    } else {
      json_builder_add_null_value (builder);
    }
  }
  if (state == GST_FAL_SERVER_REQUEST_COMPLETED) {
    json_builder_set_member_name (builder, "metrics");
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "inference_time");
    json_builder_add_double_value (builder,
        (request->completed_at -
            request->started_at) / (gdouble) G_USEC_PER_SEC);
    json_builder_end_object (builder);
    if (request->error) {
      add_string_member (builder, "error", request->error);
      add_string_member (builder, "error_type",
          request->error_type ? request->error_type : "runner_server_error");
    }
  }
  json_builder_end_object (builder);
  g_mutex_unlock (&request->lock);
  return json_builder_get_root (builder);
}

guint
gst_fal_server_request_get_result (GstFalServerRequest * request,
    JsonNode ** body, gchar ** error_type)
{
  guint status;

  g_mutex_lock (&request->lock);
  status = request->status_code;
  *body = request->body ? json_node_copy (request->body) : NULL;
  *error_type = request->error ? g_strdup (request->error_type) : NULL;
  g_mutex_unlock (&request->lock);
  return status;
}
