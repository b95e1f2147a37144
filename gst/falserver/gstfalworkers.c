/* gst-fal server: the apps' runners (gstfalrunners.c) serving the requests
 * that wait for them, and the start timeouts of requests still waiting */
#include <string.h>
#include "gstfalrouter-private.h"

/* A runner's GstFalRunnersServe: the request, unless it timed out or was
 * cancelled while waiting, runs on the runner. */
static gboolean
serve (GstFalServerRequest * request, gpointer runner, gpointer data)
{
  GstFalServer *self = data;
  gboolean cancelled, reusable = TRUE;

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

      gst_fal_faults_count_execution (self, request);
      reusable = gst_fal_app_call_run_on (call, runner);
      gst_fal_app_call_free (call);
    }
  }
  if (request->webhook
      && gst_fal_server_request_get_state (request) ==
      GST_FAL_SERVER_REQUEST_COMPLETED)
    gst_fal_webhooks_queue (self, request);
  return reusable;
}

/* A runner's GstFalRunnersRefuse. */
static void
refuse (GstFalServerRequest * request, const GError * error, gpointer data)
{
  g_autofree gchar *detail = g_strdup_printf ("No runner of %s can start: %s",
      request->app->name, error->message);

  if (gst_fal_server_request_fail (request, 503, detail,
          "runner_scheduling_failure") && request->webhook)
    gst_fal_webhooks_queue (data, request);
}

gboolean
gst_fal_workers_start (GstFalServer * self, GError ** error)
{
  static const GstFalAppScaling defaults = { 0, 0,
    GST_FAL_DEFAULT_KEEP_ALIVE
  };
  g_autoptr (GPtrArray) apps = NULL;
  gchar **item;

  self->runners = gst_fal_runners_new (self->n_workers, &defaults, serve,
      refuse, self);
  for (item = self->scaling; item && *item; item++) {
    const gchar *colon = strchr (*item, ':');
    g_autofree gchar *knob = colon ? g_strndup (*item, colon - *item) : NULL;

    if (knob == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "scaling: \"%s\" is not KNOB:APP=VALUE", *item);
      return FALSE;
    }
    if (!gst_fal_runners_parse_knob (self->runners, knob, colon + 1, error))
      return FALSE;
  }
  apps = gst_fal_app_registry_list (self->registry);
  gst_fal_runners_start (self->runners, apps);
  return TRUE;
}

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

  if (gst_fal_runners_remove (self->runners, request)
      && gst_fal_server_request_fail (request, 504, "Request timed out",
          "request_timeout") && request->webhook)
    gst_fal_webhooks_queue (self, request);
  return G_SOURCE_REMOVE;
}

void
gst_fal_workers_start_timeout (GstFalServer * self,
    GstFalServerRequest * request, gdouble seconds)
{
  GSource *source = timeout_source_new (seconds);

  g_source_set_callback (source, (GSourceFunc) start_timeout_cb,
      gst_fal_server_request_ref (request),
      (GDestroyNotify) gst_fal_server_request_unref);
  g_source_attach (source, self->context);
  g_source_unref (source);
}
