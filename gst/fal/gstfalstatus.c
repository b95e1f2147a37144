/* gst-fal: request statuses parsed from the status endpoint's JSON */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalstatus.h"
#include "gstfalhttp-private.h"

struct _GstFalStatus
{
  gint ref_count;
  GstFalStatusKind kind;
  gchar *request_id;
  gint queue_position;
  GPtrArray *logs;
  gdouble inference_time;
  gchar *error;
  gchar *error_type;
  gchar *response_url;
  gchar *status_url;
  gchar *cancel_url;
};

/* *INDENT-OFF* */
G_DEFINE_ENUM_TYPE (GstFalStatusKind, gst_fal_status_kind,
    G_DEFINE_ENUM_VALUE (GST_FAL_STATUS_QUEUED, "queued"),
    G_DEFINE_ENUM_VALUE (GST_FAL_STATUS_IN_PROGRESS, "in-progress"),
    G_DEFINE_ENUM_VALUE (GST_FAL_STATUS_COMPLETED, "completed"))
G_DEFINE_BOXED_TYPE (GstFalLog, gst_fal_log, gst_fal_log_copy, gst_fal_log_free)
G_DEFINE_BOXED_TYPE (GstFalStatus, gst_fal_status, gst_fal_status_ref,
    gst_fal_status_unref)
/* *INDENT-ON* */

/**
 * gst_fal_log_copy:
 * @log: a log line
 *
 * Returns: (transfer full): a copy of @log
 */
GstFalLog *
gst_fal_log_copy (const GstFalLog * log)
{
  GstFalLog *copy = g_new0 (GstFalLog, 1);

  copy->message = g_strdup (log->message);
  copy->level = g_strdup (log->level);
  copy->source = g_strdup (log->source);
  copy->timestamp = g_strdup (log->timestamp);
  return copy;
}

/**
 * gst_fal_log_free:
 * @log: (nullable) (transfer full): a log line
 *
 * Frees @log.
 */
void
gst_fal_log_free (GstFalLog * log)
{
  if (log == NULL)
    return;
  g_free (log->message);
  g_free (log->level);
  g_free (log->source);
  g_free (log->timestamp);
  g_free (log);
}

static GstFalStatus *
status_new (GstFalStatusKind kind, const gchar * request_id)
{
  GstFalStatus *status = g_new0 (GstFalStatus, 1);

  status->ref_count = 1;
  status->kind = kind;
  status->request_id = g_strdup (request_id);
  status->queue_position = -1;
  status->inference_time = -1;
  status->logs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_fal_log_free);
  return status;
}

/**
 * gst_fal_status_ref:
 * @status: a status
 *
 * Returns: (transfer full): @status, with one more reference
 */
GstFalStatus *
gst_fal_status_ref (GstFalStatus * status)
{
  g_return_val_if_fail (status != NULL, NULL);
  g_atomic_int_inc (&status->ref_count);
  return status;
}

/**
 * gst_fal_status_unref:
 * @status: (transfer full): a status
 *
 * Drops a reference; the last one frees @status.
 */
void
gst_fal_status_unref (GstFalStatus * status)
{
  g_return_if_fail (status != NULL);
  if (!g_atomic_int_dec_and_test (&status->ref_count))
    return;
  g_free (status->request_id);
  g_ptr_array_unref (status->logs);
  g_free (status->error);
  g_free (status->error_type);
  g_free (status->response_url);
  g_free (status->status_url);
  g_free (status->cancel_url);
  g_free (status);
}

static const gchar *
member_string (JsonObject * object, const gchar * name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
member_number (JsonObject * object, const gchar * name, gdouble * value)
{
  JsonNode *node = json_object_get_member (object, name);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *value = json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *value = json_node_get_double (node);
  else
    return FALSE;
  return TRUE;
}

static void
parse_logs (GstFalStatus * status, JsonObject * object)
{
  JsonNode *node = json_object_get_member (object, "logs");
  JsonArray *array;
  guint i;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;
  array = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (array); i++) {
    JsonNode *element = json_array_get_element (array, i);
    JsonObject *entry;
    GstFalLog *log;

    if (!JSON_NODE_HOLDS_OBJECT (element))
      continue;
    entry = json_node_get_object (element);
    log = g_new0 (GstFalLog, 1);
    log->message = g_strdup (member_string (entry, "message"));
    log->level = g_strdup (member_string (entry, "level"));
    log->source = g_strdup (member_string (entry, "source"));
    log->timestamp = g_strdup (member_string (entry, "timestamp"));
    g_ptr_array_add (status->logs, log);
  }
}

GstFalStatus *
gst_fal_status_new_from_json (JsonNode * node, const gchar * request_id,
    GError ** error)
{
  JsonObject *object, *metrics;
  const gchar *kind_name, *id;
  GstFalStatus *status;
  GstFalStatusKind kind;
  gdouble number;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL,
        "status is not a JSON object");
    return NULL;
  }
  object = json_node_get_object (node);
  kind_name = member_string (object, "status");
  if (g_strcmp0 (kind_name, "IN_QUEUE") == 0)
    kind = GST_FAL_STATUS_QUEUED;
  else if (g_strcmp0 (kind_name, "IN_PROGRESS") == 0)
    kind = GST_FAL_STATUS_IN_PROGRESS;
  else if (g_strcmp0 (kind_name, "COMPLETED") == 0)
    kind = GST_FAL_STATUS_COMPLETED;
  else {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL,
        "unknown request status \"%s\"", kind_name ? kind_name : "(none)");
    return NULL;
  }

  id = member_string (object, "request_id");
  status = status_new (kind, id ? id : request_id);
  if (kind == GST_FAL_STATUS_QUEUED) {
    status->queue_position = member_number (object, "queue_position", &number)
        ? (gint) number : 0;
  }
  parse_logs (status, object);
  if (json_object_has_member (object, "metrics")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "metrics"))) {
    metrics = json_object_get_object_member (object, "metrics");
    if (member_number (metrics, "inference_time", &number))
      status->inference_time = number;
  }
  status->error = g_strdup (member_string (object, "error"));
  status->error_type = g_strdup (member_string (object, "error_type"));
  status->response_url = g_strdup (member_string (object, "response_url"));
  status->status_url = g_strdup (member_string (object, "status_url"));
  status->cancel_url = g_strdup (member_string (object, "cancel_url"));
  return status;
}

GstFalStatus *
gst_fal_status_new_queued (const gchar * request_id, gint queue_position,
    const gchar * response_url, const gchar * status_url,
    const gchar * cancel_url)
{
  GstFalStatus *status = status_new (GST_FAL_STATUS_QUEUED, request_id);

  status->queue_position = MAX (queue_position, 0);
  status->response_url = g_strdup (response_url);
  status->status_url = g_strdup (status_url);
  status->cancel_url = g_strdup (cancel_url);
  return status;
}

/* A copy of @status whose logs are @logs (copied). */
GstFalStatus *
gst_fal_status_new_with_logs (const GstFalStatus * status, GPtrArray * logs)
{
  GstFalStatus *copy = status_new (status->kind, status->request_id);
  guint i;

  copy->queue_position = status->queue_position;
  copy->inference_time = status->inference_time;
  copy->error = g_strdup (status->error);
  copy->error_type = g_strdup (status->error_type);
  copy->response_url = g_strdup (status->response_url);
  copy->status_url = g_strdup (status->status_url);
  copy->cancel_url = g_strdup (status->cancel_url);
  for (i = 0; i < logs->len; i++)
    g_ptr_array_add (copy->logs, gst_fal_log_copy (g_ptr_array_index (logs,
                i)));
  return copy;
}

/**
 * gst_fal_status_get_kind:
 * @status: a status
 *
 * Returns: Queued, InProgress or Completed
 */
GstFalStatusKind
gst_fal_status_get_kind (const GstFalStatus * status)
{
  return status->kind;
}

/**
 * gst_fal_status_get_request_id:
 * @status: a status
 *
 * Returns: (transfer none) (nullable): the id of the request
 */
const gchar *
gst_fal_status_get_request_id (const GstFalStatus * status)
{
  return status->request_id;
}

/**
 * gst_fal_status_get_queue_position:
 * @status: a status
 *
 * Returns: the position in the queue of a Queued status (0 = next), else -1
 */
gint
gst_fal_status_get_queue_position (const GstFalStatus * status)
{
  return status->kind == GST_FAL_STATUS_QUEUED ? status->queue_position : -1;
}

/**
 * gst_fal_status_get_logs:
 * @status: a status
 *
 * Returns: (transfer none) (element-type GstFalLog): the log lines of an
 *   InProgress or Completed status, empty when it was fetched without logs
 */
GPtrArray *
gst_fal_status_get_logs (const GstFalStatus * status)
{
  return status->logs;
}

/**
 * gst_fal_status_get_inference_time:
 * @status: a status
 *
 * Returns: a Completed status' `metrics.inference_time` in seconds, -1 when
 *   absent
 */
gdouble
gst_fal_status_get_inference_time (const GstFalStatus * status)
{
  return status->inference_time;
}

/**
 * gst_fal_status_get_error:
 * @status: a status
 *
 * Returns: (transfer none) (nullable): the error of a Completed status that
 *   failed, %NULL on success
 */
const gchar *
gst_fal_status_get_error (const GstFalStatus * status)
{
  return status->error;
}

/**
 * gst_fal_status_get_error_type:
 * @status: a status
 *
 * Returns: (transfer none) (nullable): the error type of a Completed status
 *   that failed, %NULL on success or when the server gave none
 */
const gchar *
gst_fal_status_get_error_type (const GstFalStatus * status)
{
  return status->error_type;
}

/**
 * gst_fal_status_get_response_url:
 * @status: a status
 *
 * Returns: (transfer none) (nullable): the result URL the server answered
 */
const gchar *
gst_fal_status_get_response_url (const GstFalStatus * status)
{
  return status->response_url;
}

/**
 * gst_fal_status_get_status_url:
 * @status: a status
 *
 * Returns: (transfer none) (nullable): the status URL the server answered
 */
const gchar *
gst_fal_status_get_status_url (const GstFalStatus * status)
{
  return status->status_url;
}

/**
 * gst_fal_status_get_cancel_url:
 * @status: a status
 *
 * Returns: (transfer none) (nullable): the cancel URL the server answered
 */
const gchar *
gst_fal_status_get_cancel_url (const GstFalStatus * status)
{
  return status->cancel_url;
}

/**
 * gst_fal_status_kind_to_string:
 * @kind: a status kind
 *
 * Returns: (transfer none): `IN_QUEUE`, `IN_PROGRESS` or `COMPLETED`, the
 *   protocol's name of @kind
 */
const gchar *
gst_fal_status_kind_to_string (GstFalStatusKind kind)
{
  switch (kind) {
    case GST_FAL_STATUS_QUEUED:
      return "IN_QUEUE";
    case GST_FAL_STATUS_IN_PROGRESS:
      return "IN_PROGRESS";
    case GST_FAL_STATUS_COMPLETED:
      return "COMPLETED";
  }
  return "UNKNOWN";
}
