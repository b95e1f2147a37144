/* gst-fal server: an image app's pipeline kept warm by a runner
 *
 * appsrc ! decoder ! videoconvert ! identity ! <the app> ! appsink, built
 * once per image type and left PLAYING: each run pushes one image and waits
 * for its sample, the element messages of the frame arriving before it (one
 * streaming thread, no queue). The elements and their models (a cascade)
 * stay loaded from one request to the next.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/app/app.h>

#include "gstfalapps-private.h"


typedef struct
{
  gchar *caps;                  /* of the encoded images: "image/png" */
  GstElement *pipeline;
  GstElement *src;
  GstBus *bus;
} Warm;

struct _GstFalWarmPipeline
{
  gchar *rest;
  gchar *message_name;
  GPtrArray *warms;             /* (element-type Warm) */
};

static void
warm_free (Warm * warm)
{
  gst_element_set_state (warm->pipeline, GST_STATE_NULL);
  gst_object_unref (warm->src);
  gst_object_unref (warm->bus);
  gst_object_unref (warm->pipeline);
  g_free (warm->caps);
  g_free (warm);
}

/* On the streaming thread: the sample goes to the bus, after the frame's
 * element messages. */
static GstFlowReturn
post_sample (GstAppSink * sink, gpointer user_data)
{
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);

  if (sample == NULL)
    return GST_FLOW_ERROR;
  gst_element_post_message (GST_ELEMENT (sink),
      gst_message_new_application (GST_OBJECT (sink),
          gst_structure_new (GST_FAL_APPS_SAMPLE_MESSAGE, "sample", GST_TYPE_SAMPLE,
              sample, NULL)));
  return GST_FLOW_OK;
}

/* The first error on @bus, or a generic one. */
static void
bus_error (GstBus * bus, const gchar * what, GError ** error)
{
  g_autoptr (GstMessage) message = gst_bus_pop_filtered (bus,
      GST_MESSAGE_ERROR);

  if (message)
    gst_fal_apps_pipeline_error (message, error);
  else
    g_set_error (error, GST_FAL_APP_ERROR, 500, "The app's pipeline %s",
        what);
}

static Warm *
warm_new (GstFalWarmPipeline * self, const gchar * caps,
    const gchar * decoder, GError ** error)
{
  g_autofree gchar *description = gst_fal_apps_image_description (caps,
      decoder, self->rest);
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GstElement) sink = NULL;
  GstAppSinkCallbacks callbacks = { NULL, NULL, post_sample };
  GstElement *pipeline;
  Warm *warm;

  pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (pipeline == NULL) {
    g_set_error (error, GST_FAL_APP_ERROR, 500,
        "The app's pipeline cannot be built: %s", parse_error->message);
    return NULL;
  }
  warm = g_new0 (Warm, 1);
  warm->caps = g_strdup (caps);
  warm->pipeline = gst_object_ref_sink (pipeline);
  warm->bus = gst_element_get_bus (pipeline);
  warm->src = gst_bin_get_by_name (GST_BIN (pipeline), "fal-src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "fal-sink");
  if (warm->src == NULL || sink == NULL || !GST_IS_APP_SINK (sink)) {
    g_clear_object (&warm->src);
    warm->src = gst_object_ref (pipeline);      /* for warm_free */
    warm_free (warm);
    g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
        "The app's pipeline does not end in an appsink named fal-sink");
    return NULL;
  }
  g_object_set (warm->src, "format", GST_FORMAT_TIME, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, NULL, NULL);
  /* PAUSED until the first image prerolls; that is not a failure */
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    bus_error (warm->bus, "cannot start", error);
    warm_free (warm);
    return NULL;
  }
  return warm;
}

GstFalWarmPipeline *
gst_fal_warm_pipeline_new (const gchar * rest, const gchar * message_name,
    GError ** error)
{
  GstFalWarmPipeline *self = g_new0 (GstFalWarmPipeline, 1);
  Warm *png;

  self->rest = g_strdup (rest);
  self->message_name = g_strdup (message_name);
  self->warms = g_ptr_array_new_with_free_func ((GDestroyNotify) warm_free);
  /* the most common input, so that the model is loaded now */
  png = warm_new (self, "image/png", "pngdec", error);
  if (png == NULL) {
    gst_fal_warm_pipeline_free (self);
    return NULL;
  }
  g_ptr_array_add (self->warms, png);
  return self;
}

void
gst_fal_warm_pipeline_free (GstFalWarmPipeline * self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->warms);
  g_free (self->rest);
  g_free (self->message_name);
  g_free (self);
}

static Warm *
warm_for (GstFalWarmPipeline * self, const gchar * caps,
    const gchar * decoder, GError ** error)
{
  Warm *warm;
  guint i;

  for (i = 0; i < self->warms->len; i++) {
    warm = g_ptr_array_index (self->warms, i);
    if (g_str_equal (warm->caps, caps))
      return warm;
  }
  warm = warm_new (self, caps, decoder, error);
  if (warm)
    g_ptr_array_add (self->warms, warm);
  return warm;
}

/* Stops the frame in flight: once the flush reaches the source's streaming
 * thread, nothing of it is left in the pipeline. */
static void
flush (Warm * warm)
{
  gst_element_send_event (warm->src, gst_event_new_flush_start ());
  gst_element_send_event (warm->src, gst_event_new_flush_stop (TRUE));
}

gboolean
gst_fal_warm_pipeline_run (GstFalWarmPipeline * self, GstFalAppCall * call,
    GBytes * image, GstFalPipelineSetup setup, gpointer setup_data,
    GstFalPipelineRun * run, GError ** error)
{
  g_autoptr (GBytes) first = NULL;
  const gchar *caps, *decoder;
  gboolean ok = FALSE, broken = TRUE;
  gulong handler;
  GstMessage *stale;
  Warm *warm;

  memset (run, 0, sizeof (*run));
  run->messages = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_structure_free);
  caps = gst_fal_apps_check_image (call, image, &decoder, &first, error);
  if (caps == NULL || !(warm = warm_for (self, caps, decoder, error)))
    return FALSE;

  /* what an earlier, cancelled frame left, and the state changes */
  while ((stale = gst_bus_pop (warm->bus)))
    gst_message_unref (stale);
  if (setup && !setup (GST_BIN (warm->pipeline), setup_data, error))
    return FALSE;

  handler = gst_fal_apps_cancel_on_bus (call, warm->bus);
  /* the buffer holds its own reference to the bytes */
  if (gst_app_src_push_buffer (GST_APP_SRC (warm->src),
          gst_buffer_new_wrapped_bytes (first)) != GST_FLOW_OK) {
    bus_error (warm->bus, "does not take images", error);
  } else {
    switch (gst_fal_apps_wait_bus (warm->bus, self->message_name, run, error)) {
      case GST_FAL_BUS_SAMPLE:
        ok = TRUE;
        broken = FALSE;
        break;
      case GST_FAL_BUS_CANCELLED:
        flush (warm);
        broken = FALSE;
        break;
      case GST_FAL_BUS_EOS:
        g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
            "The app's pipeline ended");
        break;
      case GST_FAL_BUS_FAILED:
        break;
    }
  }
  gst_fal_apps_cancel_on_bus_done (call, handler);

  if (ok)
    gst_fal_apps_read_input_size (GST_BIN (warm->pipeline), run);
  if (broken)
    /* built again for the next image */
    g_ptr_array_remove (self->warms, warm);
  return ok;
}
