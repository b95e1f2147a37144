/* gst-fal server: the worker threads, which take requests from the queue
 * (gstfalqueue.c) and run their apps, and the start timeouts of requests
 * still waiting */
#include "gstfalrouter-private.h"

gpointer
gst_fal_workers_main (gpointer data)
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
      gst_fal_webhooks_queue (self, request);
    gst_fal_server_request_unref (request);
  }
  return NULL;
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

  if (gst_fal_queue_remove (self->queue, request)
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
