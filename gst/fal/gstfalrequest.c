/* gst-fal: GstFalRequest, the handle of one queued request: status, wait
 * (status stream or polling), result, get, cancel */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalclient-private.h"
#include "gstfalendpoint-private.h"
#include "gstfalsse-private.h"
#include "gstfaljson-private.h"

#define STREAM_IDLE_TIMEOUT 60.0
/* How long the end of a status stream is awaited after COMPLETED */
#define STREAM_DRAIN_MS 200

struct _GstFalRequest
{
  GObject parent;

  GstFalClient *client;
  gchar *application;
  gchar *request_id;
  gchar *response_url;
  gchar *status_url;
  gchar *cancel_url;
  /* queue-url/{APP}/requests/{id}; NULL when @invalid */
  gchar *base_url;
  GstFalStatus *submit_status;
  /* why the application or request id cannot be used: every call fails
   * with it (GST_FAL_ERROR_INVALID_ARGUMENT) */
  GError *invalid;
};

enum
{
  PROP_0,
  PROP_CLIENT,
  PROP_APPLICATION,
  PROP_REQUEST_ID,
  PROP_RESPONSE_URL,
  PROP_STATUS_URL,
  PROP_CANCEL_URL,
  N_PROPERTIES
};

enum
{
  SIGNAL_STATUS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPERTIES];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GstFalRequest, gst_fal_request, G_TYPE_OBJECT);

static void
gst_fal_request_init (GstFalRequest * request)
{
}

static void
gst_fal_request_constructed (GObject * object)
{
  GstFalRequest *request = GST_FAL_REQUEST (object);
  g_autoptr (GstFalEndpoint) endpoint = NULL;
  g_autofree gchar *requests = NULL;

  G_OBJECT_CLASS (gst_fal_request_parent_class)->constructed (object);
  g_return_if_fail (request->client && request->application
      && request->request_id);
  endpoint = gst_fal_endpoint_parse (request->application, &request->invalid);
  if (endpoint == NULL)
    return;
  if (*request->request_id == '\0' || strchr (request->request_id, '/')) {
    request->invalid = gst_fal_error_new_full (GST_FAL_ERROR_INVALID_ARGUMENT,
        0, NULL, NULL, NULL, "%s: invalid request id \"%s\"",
        request->application, request->request_id);
    return;
  }
  requests = g_strconcat ("requests/", request->request_id, NULL);
  request->base_url =
      gst_fal_endpoint_build_url (gst_fal_client_get_queue_url
      (request->client), endpoint->app, requests);
}

static void
gst_fal_request_finalize (GObject * object)
{
  GstFalRequest *request = GST_FAL_REQUEST (object);

  g_clear_object (&request->client);
  g_free (request->application);
  g_free (request->request_id);
  g_free (request->response_url);
  g_free (request->status_url);
  g_free (request->cancel_url);
  g_free (request->base_url);
  g_clear_pointer (&request->submit_status, gst_fal_status_unref);
  g_clear_error (&request->invalid);
  G_OBJECT_CLASS (gst_fal_request_parent_class)->finalize (object);
}

static void
gst_fal_request_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalRequest *request = GST_FAL_REQUEST (object);

  switch (prop_id) {
    case PROP_CLIENT:
      request->client = g_value_dup_object (value);
      break;
    case PROP_APPLICATION:
      request->application = g_value_dup_string (value);
      break;
    case PROP_REQUEST_ID:
      request->request_id = g_value_dup_string (value);
      break;
    case PROP_RESPONSE_URL:
      request->response_url = g_value_dup_string (value);
      break;
    case PROP_STATUS_URL:
      request->status_url = g_value_dup_string (value);
      break;
    case PROP_CANCEL_URL:
      request->cancel_url = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_fal_request_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalRequest *request = GST_FAL_REQUEST (object);

  switch (prop_id) {
    case PROP_CLIENT:
      g_value_set_object (value, request->client);
      break;
    case PROP_APPLICATION:
      g_value_set_string (value, request->application);
      break;
    case PROP_REQUEST_ID:
      g_value_set_string (value, request->request_id);
      break;
    case PROP_RESPONSE_URL:
      g_value_set_string (value, request->response_url);
      break;
    case PROP_STATUS_URL:
      g_value_set_string (value, request->status_url);
      break;
    case PROP_CANCEL_URL:
      g_value_set_string (value, request->cancel_url);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_fal_request_class_init (GstFalRequestClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
      G_PARAM_STATIC_STRINGS;

  gobject_class->constructed = gst_fal_request_constructed;
  gobject_class->finalize = gst_fal_request_finalize;
  gobject_class->set_property = gst_fal_request_set_property;
  gobject_class->get_property = gst_fal_request_get_property;

  properties[PROP_CLIENT] = g_param_spec_object ("client", "Client",
      "The client the request was made with", GST_FAL_TYPE_CLIENT, flags);
  properties[PROP_APPLICATION] = g_param_spec_string ("application",
      "Application", "The endpoint id as submitted", NULL, flags);
  properties[PROP_REQUEST_ID] = g_param_spec_string ("request-id",
      "Request id", "The request id", NULL, flags);
  properties[PROP_RESPONSE_URL] = g_param_spec_string ("response-url",
      "Response URL", "The result URL answered by the server", NULL, flags);
  properties[PROP_STATUS_URL] = g_param_spec_string ("status-url",
      "Status URL", "The status URL answered by the server", NULL, flags);
  properties[PROP_CANCEL_URL] = g_param_spec_string ("cancel-url",
      "Cancel URL", "The cancel URL answered by the server", NULL, flags);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  /**
   * GstFalRequest::status:
   * @request: the request
   * @status: the new status
   *
   * Each status update seen by wait or get, in the context of the call.
   */
  signals[SIGNAL_STATUS] = g_signal_new ("status", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      GST_FAL_TYPE_STATUS);
}

GstFalRequest *
gst_fal_request_new (GstFalClient * client, const gchar * application,
    const gchar * request_id, const gchar * response_url,
    const gchar * status_url, const gchar * cancel_url, GError ** error)
{
  GstFalRequest *request;

  if (request_id == NULL) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
        "%s: no request id", application);
    return NULL;
  }
  request = gst_fal_request_new_unchecked (client, application, request_id,
      response_url, status_url, cancel_url);
  if (request->invalid) {
    g_propagate_error (error, g_error_copy (request->invalid));
    g_object_unref (request);
    return NULL;
  }
  return request;
}

GstFalRequest *
gst_fal_request_new_unchecked (GstFalClient * client,
    const gchar * application, const gchar * request_id,
    const gchar * response_url, const gchar * status_url,
    const gchar * cancel_url)
{
  return g_object_new (GST_FAL_TYPE_REQUEST, "client", client, "application",
      application, "request-id", request_id, "response-url", response_url,
      "status-url", status_url, "cancel-url", cancel_url, NULL);
}

GstFalStatus *
gst_fal_request_get_submit_status (GstFalRequest * request)
{
  return request->submit_status;
}

void
gst_fal_request_set_submit_status (GstFalRequest * request,
    GstFalStatus * status)
{
  g_clear_pointer (&request->submit_status, gst_fal_status_unref);
  request->submit_status = status ? gst_fal_status_ref (status) : NULL;
}

const gchar *
gst_fal_request_get_request_id (GstFalRequest * request)
{
  g_return_val_if_fail (GST_FAL_IS_REQUEST (request), NULL);
  return request->request_id;
}

const gchar *
gst_fal_request_get_application (GstFalRequest * request)
{
  g_return_val_if_fail (GST_FAL_IS_REQUEST (request), NULL);
  return request->application;
}

/**
 * gst_fal_request_get_client:
 *
 * Returns: (transfer none): the client
 */
GstFalClient *
gst_fal_request_get_client (GstFalRequest * request)
{
  g_return_val_if_fail (GST_FAL_IS_REQUEST (request), NULL);
  return request->client;
}

/* helpers */

static GTask *
call_task_new (GstFalRequest * request, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (request, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

/* TRUE when @request cannot be used: @task then fails with the reason. */
static gboolean
return_if_invalid (GstFalRequest * request, GTask * task)
{
  if (request->invalid == NULL)
    return FALSE;
  g_task_return_error (task, g_error_copy (request->invalid));
  g_object_unref (task);
  return TRUE;
}

/* One exchange about the request. @deadline bounds it whole (seconds,
 * <= 0: none); @what names it in the timeout's message. */
static void
request_http (GstFalRequest * request, const gchar * method,
    const gchar * url, gdouble deadline, const gchar * what,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  GstFalHttpRequest http = { 0, };

  http.method = method;
  http.url = url;
  http.auth = GST_FAL_AUTH_KEY;
  http.retry = GST_FAL_RETRY_IDEMPOTENT;
  http.until_deadline = TRUE;
  http.request_id = request->request_id;
  http.label = request->application;
  http.deadline = MAX (deadline, 0);
  http.what = what;
  gst_fal_client_http_async (request->client, &http, cancellable, callback,
      user_data);
}

/* status, result and cancel take no options: the client's timeout bounds
 * them */
static gdouble
client_deadline (GstFalRequest * request)
{
  return gst_fal_client_call_deadline (request->client, NULL);
}

static gchar *
status_url (GstFalRequest * request, gboolean stream, gboolean with_logs)
{
  return g_strdup_printf ("%s/status%s?logs=%d", request->base_url,
      stream ? "/stream" : "", with_logs ? 1 : 0);
}

/* status */

static void
on_status_answer (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GstFalRequest *request = g_task_get_source_object (task);
  g_autoptr (GstFalHttpResponse) response = NULL;
  g_autoptr (JsonNode) node = NULL;
  GstFalStatus *status = NULL;
  GError *error = NULL;

  response = gst_fal_client_http_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (response)
    node = gst_fal_http_response_parse_json (response, &error);
  if (node)
    status = gst_fal_status_new_from_json (node, request->request_id, &error);
  if (status)
    g_task_return_pointer (task, status, (GDestroyNotify) gst_fal_status_unref);
  else
    g_task_return_error (task, error);
}

static void
status_start (GstFalRequest * request, gboolean with_logs, gdouble deadline,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  GTask *task = call_task_new (request, cancellable, callback, user_data,
      gst_fal_request_status_async);
  g_autofree gchar *url = NULL;
  g_autofree gchar *what = NULL;

  if (return_if_invalid (request, task))
    return;
  url = status_url (request, FALSE, with_logs);
  what = g_strdup_printf ("status of request %s", request->request_id);
  request_http (request, "GET", url, deadline, what, cancellable,
      on_status_answer, task);
}

/**
 * gst_fal_request_status_async:
 * @request: a #GstFalRequest
 * @with_logs: whether to fetch the logs
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the caller's thread-default context
 * @user_data: user data
 *
 * Bounded by the client's "timeout": when it passes, the call fails with
 * %GST_FAL_ERROR_TIMEOUT.
 */
void
gst_fal_request_status_async (GstFalRequest * request, gboolean with_logs,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (GST_FAL_IS_REQUEST (request));
  status_start (request, with_logs, client_deadline (request), cancellable,
      callback, user_data);
}

/**
 * gst_fal_request_status_finish:
 *
 * Returns: (transfer full): the status
 */
GstFalStatus *
gst_fal_request_status_finish (GstFalRequest * request, GAsyncResult * result,
    GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, request), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  GstFalRequest *request;
  gboolean with_logs;
  GstFalOptions *options;
  GstFalStatusFunc on_status;
  gpointer user_data;
} SyncCall;

static void
start_status (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_request_status_async (call->request, call->with_logs, cancellable,
      callback, user_data);
}

/**
 * gst_fal_request_status:
 * @request: a #GstFalRequest
 * @with_logs: whether to fetch the logs
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the status
 */
GstFalStatus *
gst_fal_request_status (GstFalRequest * request, gboolean with_logs,
    GCancellable * cancellable, GError ** error)
{
  SyncCall call = {.request = request,.with_logs = with_logs };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_status, &call,
      cancellable);

  return gst_fal_request_status_finish (request, result, error);
}

/* result */

static void
on_result_answer (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GstFalHttpResponse) response = NULL;
  JsonNode *node = NULL;
  GError *error = NULL;

  response = gst_fal_client_http_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (response)
    node = gst_fal_http_response_parse_json (response, &error);
  if (node)
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
  else
    g_task_return_error (task, error);
}

static void
result_start (GstFalRequest * request, gdouble deadline,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  GTask *task = call_task_new (request, cancellable, callback, user_data,
      gst_fal_request_result_async);
  g_autofree gchar *what = NULL;

  if (return_if_invalid (request, task))
    return;
  what = g_strdup_printf ("result of request %s", request->request_id);
  request_http (request, "GET", request->base_url, deadline, what,
      cancellable, on_result_answer, task);
}

/**
 * gst_fal_request_result_async:
 * @request: a #GstFalRequest
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the caller's thread-default context
 * @user_data: user data
 *
 * Bounded by the client's "timeout": when it passes, the call fails with
 * %GST_FAL_ERROR_TIMEOUT.
 */
void
gst_fal_request_result_async (GstFalRequest * request,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (GST_FAL_IS_REQUEST (request));
  result_start (request, client_deadline (request), cancellable, callback,
      user_data);
}

/**
 * gst_fal_request_result_finish:
 *
 * Returns: (transfer full): the result
 */
JsonNode *
gst_fal_request_result_finish (GstFalRequest * request, GAsyncResult * result,
    GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, request), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
start_result (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_request_result_async (call->request, cancellable, callback,
      user_data);
}

/**
 * gst_fal_request_result:
 * @request: a #GstFalRequest
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the result
 */
JsonNode *
gst_fal_request_result (GstFalRequest * request, GCancellable * cancellable,
    GError ** error)
{
  SyncCall call = {.request = request };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_result, &call,
      cancellable);

  return gst_fal_request_result_finish (request, result, error);
}

/* cancel */

static void
on_cancel_answer (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GstFalHttpResponse) response = NULL;
  GError *error = NULL;
  const gchar *detail;

  response = gst_fal_client_http_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (response) {
    g_task_return_boolean (task, TRUE);
    return;
  }
  detail = gst_fal_error_get_detail (error);
  if (gst_fal_error_get_http_status (error) == 400 && detail
      && strstr (detail, "ALREADY_COMPLETED")) {
    g_error_free (error);
    g_task_return_boolean (task, TRUE);
    return;
  }
  g_task_return_error (task, error);
}

void
gst_fal_request_cancel_bounded_async (GstFalRequest * request,
    gdouble deadline, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = call_task_new (request, cancellable, callback, user_data,
      gst_fal_request_cancel_async);
  g_autofree gchar *url = NULL;
  g_autofree gchar *what = NULL;

  if (return_if_invalid (request, task))
    return;
  url = g_strconcat (request->base_url, "/cancel", NULL);
  what = g_strdup_printf ("cancelling request %s", request->request_id);
  request_http (request, "PUT", url, deadline, what, cancellable,
      on_cancel_answer, task);
}

/**
 * gst_fal_request_cancel_async:
 * @request: a #GstFalRequest
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the caller's thread-default context
 * @user_data: user data
 *
 * Bounded by the client's "timeout": when it passes, the call fails with
 * %GST_FAL_ERROR_TIMEOUT.
 */
void
gst_fal_request_cancel_async (GstFalRequest * request,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (GST_FAL_IS_REQUEST (request));
  gst_fal_request_cancel_bounded_async (request, client_deadline (request),
      cancellable, callback, user_data);
}

gboolean
gst_fal_request_cancel_finish (GstFalRequest * request, GAsyncResult * result,
    GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, request), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
start_cancel (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_request_cancel_async (call->request, cancellable, callback,
      user_data);
}

/**
 * gst_fal_request_cancel:
 * @request: a #GstFalRequest
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: %TRUE when cancelled or already completed
 */
gboolean
gst_fal_request_cancel (GstFalRequest * request, GCancellable * cancellable,
    GError ** error)
{
  SyncCall call = {.request = request };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_cancel, &call,
      cancellable);

  return gst_fal_request_cancel_finish (request, result, error);
}

/* follow: wait (and get) */


typedef struct
{
  gboolean with_logs;
  GstFalStatusMode mode;
  gdouble poll_interval;
  gdouble deadline;
  gboolean fetch_result;
  GstFalStatusFunc on_status;
  gpointer status_data;
  GDestroyNotify status_data_free;

  /* every exchange uses @internal, the status stream @stream_cancellable */
  GCancellable *internal;
  GCancellable *stream_cancellable;
  GstFalAbortWatch watch;
  GstFalAbortReason abort;
  gboolean busy;
  gboolean finished;
  GSource *poll_source;

  GstFalSseParser *parser;
  GSource *drain_source;
  /* stream events carry only new log lines: all the lines so far */
  GPtrArray *stream_logs;
  gboolean got_event;
  GError *stream_error;
  GstFalStatus *final;
  /* the last status reported, polled or streamed */
  GstFalStatus *last_polled;
} Follow;

typedef struct
{
  GstFalStatus *status;
  JsonNode *node;
} FollowResult;

static void
follow_result_free (FollowResult * result)
{
  g_clear_pointer (&result->status, gst_fal_status_unref);
  g_clear_pointer (&result->node, json_node_unref);
  g_free (result);
}

static void
follow_free (Follow * f)
{
  if (f->status_data_free)
    f->status_data_free (f->status_data);
  g_clear_object (&f->internal);
  g_clear_object (&f->stream_cancellable);
  g_clear_pointer (&f->parser, gst_fal_sse_parser_free);
  g_clear_pointer (&f->stream_logs, g_ptr_array_unref);
  g_clear_error (&f->stream_error);
  g_clear_pointer (&f->final, gst_fal_status_unref);
  g_clear_pointer (&f->last_polled, gst_fal_status_unref);
  g_free (f);
}

static void
destroy_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

/* Returns the task; everything the follow started has ended by now. */
static void
follow_finish_task (GTask * task, FollowResult * result, GError * error)
{
  Follow *f = g_task_get_task_data (task);

  g_assert (!f->finished);
  f->finished = TRUE;
  gst_fal_abort_watch_stop (&f->watch);
  destroy_source (&f->poll_source);
  destroy_source (&f->drain_source);
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) follow_result_free);
  g_object_unref (task);
}

static GError *
abort_error (GTask * task)
{
  Follow *f = g_task_get_task_data (task);
  GstFalRequest *request = g_task_get_source_object (task);

  if (f->abort == GST_FAL_ABORT_TIMEOUT)
    return gst_fal_error_new_full (GST_FAL_ERROR_TIMEOUT, 0, NULL, NULL,
        request->request_id, "%s: request %s did not complete within %g s",
        request->application, request->request_id, f->deadline);
  return gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED, 0, NULL, NULL,
      request->request_id, "%s: waiting for request %s was cancelled",
      request->application, request->request_id);
}

static void
follow_abort (GTask * task, GstFalAbortReason reason)
{
  Follow *f = g_task_get_task_data (task);

  if (f->finished || f->abort != GST_FAL_ABORT_NONE)
    return;
  f->abort = reason;
  g_cancellable_cancel (f->internal);
  g_cancellable_cancel (f->stream_cancellable);
  /* between two polls nothing is in flight to report the abort */
  if (!f->busy)
    follow_finish_task (task, NULL, abort_error (task));
}

static void
notify_status (GTask * task, GstFalStatus * status)
{
  Follow *f = g_task_get_task_data (task);
  GstFalRequest *request = g_task_get_source_object (task);

  g_signal_emit (request, signals[SIGNAL_STATUS], 0, status);
  if (f->on_status)
    f->on_status (request, status, f->status_data);
}

static void
on_final_result (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  Follow *f = g_task_get_task_data (task);
  GstFalRequest *request = GST_FAL_REQUEST (source);
  FollowResult *out;
  GError *error = NULL;
  JsonNode *node;

  f->busy = FALSE;
  node = gst_fal_request_result_finish (request, result, &error);
  if (node == NULL) {
    if (f->abort != GST_FAL_ABORT_NONE) {
      g_error_free (error);
      error = abort_error (task);
    }
    follow_finish_task (task, NULL, error);
    return;
  }
  if (gst_fal_status_get_error (f->final)) {
    /* the result endpoint normally replays the failure itself */
    json_node_unref (node);
    follow_finish_task (task, NULL, gst_fal_error_new_full
        (GST_FAL_ERROR_SERVER, 0, gst_fal_status_get_error_type (f->final),
            gst_fal_status_get_error (f->final), request->request_id,
            "%s: request %s failed: %s (request %s)", request->application,
            request->request_id, gst_fal_status_get_error (f->final),
            request->request_id));
    return;
  }
  out = g_new0 (FollowResult, 1);
  out->status = gst_fal_status_ref (f->final);
  out->node = node;
  follow_finish_task (task, out, NULL);
}

static void
follow_completed (GTask * task)
{
  Follow *f = g_task_get_task_data (task);
  GstFalRequest *request = g_task_get_source_object (task);
  FollowResult *out;

  if (f->fetch_result) {
    f->busy = TRUE;
    /* the follow's watch ends it first; the deadline bounds its retries */
    result_start (request, f->deadline, f->internal, on_final_result, task);
    return;
  }
  out = g_new0 (FollowResult, 1);
  out->status = gst_fal_status_ref (f->final);
  follow_finish_task (task, out, NULL);
}

static void poll_once (GTask * task);

static gboolean
on_poll_timer (gpointer user_data)
{
  GTask *task = user_data;
  Follow *f = g_task_get_task_data (task);

  g_clear_pointer (&f->poll_source, g_source_unref);
  poll_once (task);
  return G_SOURCE_REMOVE;
}

static gboolean
same_status (GstFalStatus * a, GstFalStatus * b)
{
  return a && gst_fal_status_get_kind (a) == gst_fal_status_get_kind (b)
      && gst_fal_status_get_queue_position (a) ==
      gst_fal_status_get_queue_position (b)
      && gst_fal_status_get_logs (a)->len == gst_fal_status_get_logs (b)->len;
}

static void
on_polled (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  Follow *f = g_task_get_task_data (task);
  g_autoptr (GstFalStatus) status = NULL;
  GError *error = NULL;

  f->busy = FALSE;
  status = gst_fal_request_status_finish (GST_FAL_REQUEST (source), result,
      &error);
  if (f->abort != GST_FAL_ABORT_NONE) {
    g_clear_error (&error);
    follow_finish_task (task, NULL, abort_error (task));
    return;
  }
  if (status == NULL) {
    follow_finish_task (task, NULL, error);
    return;
  }
  /* a poll that changed nothing is not an update */
  if (!same_status (f->last_polled, status)) {
    g_clear_pointer (&f->last_polled, gst_fal_status_unref);
    f->last_polled = gst_fal_status_ref (status);
    notify_status (task, status);
    if (f->finished)
      return;
  }
  if (gst_fal_status_get_kind (status) == GST_FAL_STATUS_COMPLETED) {
    f->final = g_steal_pointer (&status);
    follow_completed (task);
    return;
  }
  f->poll_source = g_timeout_source_new ((guint) (f->poll_interval * 1000));
  g_source_set_callback (f->poll_source, on_poll_timer, task, NULL);
  g_source_attach (f->poll_source, g_task_get_context (task));
}

static void
poll_once (GTask * task)
{
  Follow *f = g_task_get_task_data (task);

  f->busy = TRUE;
  status_start (g_task_get_source_object (task), f->with_logs, f->deadline,
      f->internal, on_polled, task);
}

static void
add_logs (GPtrArray * all, GPtrArray * logs)
{
  guint i;

  for (i = 0; i < logs->len; i++)
    g_ptr_array_add (all, gst_fal_log_copy (g_ptr_array_index (logs, i)));
}

static gboolean
on_drain_timeout (gpointer user_data)
{
  Follow *f = user_data;

  g_clear_pointer (&f->drain_source, g_source_unref);
  g_debug ("status stream still open %d ms after COMPLETED: cut",
      STREAM_DRAIN_MS);
  g_cancellable_cancel (f->stream_cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_stream_chunk (GBytes * chunk, gpointer user_data)
{
  GTask *task = user_data;
  Follow *f = g_task_get_task_data (task);
  GstFalRequest *request = g_task_get_source_object (task);
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func
      ((GDestroyNotify) gst_fal_sse_event_free);
  gsize size;
  const gchar *data = g_bytes_get_data (chunk, &size);
  guint i;

  if (f->final || f->stream_error || f->abort != GST_FAL_ABORT_NONE)
    return;
  gst_fal_sse_parser_push (f->parser, data, size, events);
  for (i = 0; i < events->len && !f->final && !f->stream_error; i++) {
    GstFalSseEvent *event = g_ptr_array_index (events, i);
    g_autoptr (JsonNode) node = NULL;
    g_autoptr (GstFalStatus) status = NULL;
    GstFalStatus *whole;
    GError *error = NULL;

    node = gst_fal_json_from_string (event->data, -1, &error);
    if (node)
      status = gst_fal_status_new_from_json (node, request->request_id,
          &error);
    if (status == NULL) {
      f->stream_error = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL, 0,
          NULL, event->data, request->request_id,
          "%s: bad status stream event: %s (request %s)",
          request->application, error->message, request->request_id);
      g_error_free (error);
      break;
    }
    f->got_event = TRUE;
    add_logs (f->stream_logs, gst_fal_status_get_logs (status));
    whole = gst_fal_status_new_with_logs (status, f->stream_logs);
    gst_fal_status_unref (status);
    status = whole;
    notify_status (task, status);
    /* should the stream break, polls report only what changes from here */
    g_clear_pointer (&f->last_polled, gst_fal_status_unref);
    f->last_polled = gst_fal_status_ref (status);
    if (gst_fal_status_get_kind (status) == GST_FAL_STATUS_COMPLETED)
      f->final = g_steal_pointer (&status);
  }
  if (f->stream_error) {
    g_cancellable_cancel (f->stream_cancellable);
  } else if (f->final && f->drain_source == NULL) {
    /* the server ends the stream after COMPLETED, usually in the same
     * packet: read to its end, so that its connection is kept alive for
     * the next exchange (libsoup closes a cancelled one); a stream left
     * open is cut a little later */
    f->drain_source = g_timeout_source_new (STREAM_DRAIN_MS);
    g_source_set_callback (f->drain_source, on_drain_timeout, f, NULL);
    g_source_attach (f->drain_source, g_task_get_context (task));
  }
}

static void
on_stream_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  Follow *f = g_task_get_task_data (task);
  GstFalRequest *request = g_task_get_source_object (task);
  g_autoptr (GstFalHttpResponse) response = NULL;
  g_autoptr (GError) error = NULL;

  f->busy = FALSE;
  destroy_source (&f->drain_source);
  response = gst_fal_client_http_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (f->abort != GST_FAL_ABORT_NONE) {
    follow_finish_task (task, NULL, abort_error (task));
  } else if (f->final) {
    follow_completed (task);
  } else if (f->stream_error) {
    follow_finish_task (task, NULL, g_steal_pointer (&f->stream_error));
  } else {
    /* broken, or cut short (libsoup 3.2 reads a connection closed amid a
     * chunked body as its end): resumed by polling */
    g_debug ("%s: status stream %s before COMPLETED, polling instead",
        request->application, error ? error->message : "ended");
    poll_once (task);
  }
}

static void
open_stream (GTask * task)
{
  Follow *f = g_task_get_task_data (task);
  GstFalRequest *request = g_task_get_source_object (task);
  g_autofree gchar *url = status_url (request, TRUE, f->with_logs);
  GstFalHttpRequest http = { 0, };

  http.method = "GET";
  http.url = url;
  http.accept = "text/event-stream";
  http.auth = GST_FAL_AUTH_KEY;
  http.retry = GST_FAL_RETRY_IDEMPOTENT;
  http.timeout = STREAM_IDLE_TIMEOUT;
  http.request_id = request->request_id;
  http.label = request->application;
  f->parser = gst_fal_sse_parser_new ();
  f->stream_logs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_fal_log_free);
  f->busy = TRUE;
  gst_fal_client_http_stream_async (request->client, &http, on_stream_chunk,
      g_object_ref (task), g_object_unref, f->stream_cancellable,
      on_stream_done, task);
}

void
gst_fal_request_follow_async (GstFalRequest * request,
    GstFalOptions * options, gdouble deadline, gboolean fetch_result,
    GstFalStatusFunc on_status, gpointer status_data,
    GDestroyNotify status_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = call_task_new (request, cancellable, callback, user_data,
      gst_fal_request_follow_async);
  Follow *f;
  GstFalClientSettings settings;

  if (request->invalid) {
    if (status_data_free)
      status_data_free (status_data);
    return_if_invalid (request, task);
    return;
  }
  f = g_new0 (Follow, 1);
  gst_fal_client_get_settings (request->client, &settings);
  f->with_logs = options ? gst_fal_options_get_with_logs (options) : TRUE;
  f->mode = settings.status_mode;
  if (options)
    gst_fal_options_get_status_mode (options, &f->mode);
  f->poll_interval = settings.poll_interval;
  f->deadline = deadline;
  f->fetch_result = fetch_result;
  f->on_status = on_status;
  f->status_data = status_data;
  f->status_data_free = status_data_free;
  f->internal = g_cancellable_new ();
  f->stream_cancellable = g_cancellable_new ();
  g_task_set_task_data (task, f, (GDestroyNotify) follow_free);

  /* the task reference is dropped by follow_finish_task() */
  gst_fal_abort_watch_start (&f->watch, task, deadline, cancellable,
      follow_abort);
  if (f->mode == GST_FAL_STATUS_MODE_STREAM)
    open_stream (task);
  else
    poll_once (task);
}

gboolean
gst_fal_request_follow_finish (GstFalRequest * request,
    GAsyncResult * result, GstFalStatus ** status, JsonNode ** node,
    GError ** error)
{
  FollowResult *out;

  g_return_val_if_fail (g_task_is_valid (result, request), FALSE);
  out = g_task_propagate_pointer (G_TASK (result), error);
  if (out == NULL)
    return FALSE;
  if (status)
    *status = g_steal_pointer (&out->status);
  if (node)
    *node = g_steal_pointer (&out->node);
  follow_result_free (out);
  return TRUE;
}

/* wait */

/**
 * gst_fal_request_wait_async:
 * @request: a request
 * @options: (nullable): status mode, logs and timeout; %NULL for the defaults
 * @on_status: (scope notified) (closure status_data) (destroy status_data_free) (nullable):
 *   called for each status update
 * @status_data: data of @on_status
 * @status_data_free: (nullable): frees @status_data when the call is over
 * @cancellable: (nullable): stops waiting (the request is not cancelled)
 * @callback: called in the caller's thread-default context when done
 * @user_data: data of @callback
 *
 * Follows the status (SSE status stream, or polling) until COMPLETED.
 */
void
gst_fal_request_wait_async (GstFalRequest * request, GstFalOptions * options,
    GstFalStatusFunc on_status, gpointer status_data,
    GDestroyNotify status_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (GST_FAL_IS_REQUEST (request));
  gst_fal_request_follow_async (request, options,
      gst_fal_client_call_deadline (request->client, options), FALSE,
      on_status, status_data, status_data_free, cancellable, callback,
      user_data);
}

/**
 * gst_fal_request_wait_finish:
 *
 * Returns: (transfer full): the Completed status
 */
GstFalStatus *
gst_fal_request_wait_finish (GstFalRequest * request, GAsyncResult * result,
    GError ** error)
{
  GstFalStatus *status = NULL;

  if (!gst_fal_request_follow_finish (request, result, &status, NULL, error))
    return NULL;
  return status;
}

static void
start_wait (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_request_wait_async (call->request, call->options, call->on_status,
      call->user_data, NULL, cancellable, callback, user_data);
}

/**
 * gst_fal_request_wait:
 * @request: a #GstFalRequest
 * @options: (nullable): options, %NULL for the defaults
 * @on_status: (scope call) (nullable): called for each status
 * @user_data: user data
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the Completed status
 */
GstFalStatus *
gst_fal_request_wait (GstFalRequest * request, GstFalOptions * options,
    GstFalStatusFunc on_status, gpointer user_data,
    GCancellable * cancellable, GError ** error)
{
  SyncCall call = {.request = request,.options = options,
    .on_status = on_status,.user_data = user_data
  };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_wait, &call,
      cancellable);

  return gst_fal_request_wait_finish (request, result, error);
}

/* get */

/**
 * gst_fal_request_get_async:
 * @request: a #GstFalRequest
 * @options: (nullable): options, %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the caller's thread-default context
 * @user_data: user data
 */
void
gst_fal_request_get_async (GstFalRequest * request, GstFalOptions * options,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (GST_FAL_IS_REQUEST (request));
  gst_fal_request_follow_async (request, options,
      gst_fal_client_call_deadline (request->client, options), TRUE, NULL,
      NULL, NULL, cancellable, callback, user_data);
}

/**
 * gst_fal_request_get_finish:
 *
 * Returns: (transfer full): the result
 */
JsonNode *
gst_fal_request_get_finish (GstFalRequest * request, GAsyncResult * result,
    GError ** error)
{
  JsonNode *node = NULL;

  if (!gst_fal_request_follow_finish (request, result, NULL, &node, error))
    return NULL;
  return node;
}

static void
start_get (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_request_get_async (call->request, call->options, cancellable,
      callback, user_data);
}

/**
 * gst_fal_request_get:
 * @request: a #GstFalRequest
 * @options: (nullable): options, %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the result
 */
JsonNode *
gst_fal_request_get (GstFalRequest * request, GstFalOptions * options,
    GCancellable * cancellable, GError ** error)
{
  SyncCall call = {.request = request,.options = options };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_get, &call,
      cancellable);

  return gst_fal_request_get_finish (request, result, error);
}
