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

/* as for one run: guards a runner against an element that holds a frame */
#define WARM_DEADLINE_SECONDS 120
#define CANCEL_MESSAGE "gst-fal-cancel"
#define SAMPLE_MESSAGE "gst-fal-sample"

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
          gst_structure_new (SAMPLE_MESSAGE, "sample", GST_TYPE_SAMPLE,
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

static void
post_cancel (GCancellable * cancellable, GstBus * bus)
{
  gst_bus_post (bus, gst_message_new_application (NULL,
          gst_structure_new_empty (CANCEL_MESSAGE)));
}

/* Stops the frame in flight: once the flush reaches the source's streaming
 * thread, nothing of it is left in the pipeline. */
static void
flush (Warm * warm)
{
  gst_element_send_event (warm->src, gst_event_new_flush_start ());
  gst_element_send_event (warm->src, gst_event_new_flush_stop (TRUE));
}

static gboolean
wants_message (GstFalWarmPipeline * self, const GstStructure * s)
{
  return s && self->message_name && (g_str_equal (self->message_name, "*")
      || gst_structure_has_name (s, self->message_name));
}

/* Pops the bus until the frame's sample, an error or a cancel. FALSE with
 * @broken set when the pipeline must be dropped. */
static gboolean
wait_for_sample (GstFalWarmPipeline * self, Warm * warm,
    GstFalPipelineRun * run, gboolean * broken, GError ** error)
{
  GstClockTime deadline = gst_util_get_timestamp () +
      WARM_DEADLINE_SECONDS * GST_SECOND;

  *broken = TRUE;
  for (;;) {
    GstClockTime now = gst_util_get_timestamp ();
    g_autoptr (GstMessage) message = NULL;
    const GstStructure *s;

    if (now >= deadline) {
      g_set_error (error, GST_FAL_APP_ERROR, 500,
          "The pipeline gave no frame within %d s", WARM_DEADLINE_SECONDS);
      return FALSE;
    }
    message = gst_bus_timed_pop_filtered (warm->bus, deadline - now,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT |
        GST_MESSAGE_APPLICATION);
    if (message == NULL)
      continue;
    s = gst_message_get_structure (message);

    switch (GST_MESSAGE_TYPE (message)) {
      case GST_MESSAGE_EOS:
        g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
            "The app's pipeline ended");
        return FALSE;
      case GST_MESSAGE_ERROR:
        gst_fal_apps_pipeline_error (message, error);
        return FALSE;
      case GST_MESSAGE_ELEMENT:
        if (wants_message (self, s))
          g_ptr_array_add (run->messages, gst_structure_copy (s));
        break;
      case GST_MESSAGE_APPLICATION:
        if (gst_structure_has_name (s, CANCEL_MESSAGE)) {
          flush (warm);
          *broken = FALSE;
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
              "The request was cancelled");
          return FALSE;
        }
        if (gst_structure_has_name (s, SAMPLE_MESSAGE)) {
          gst_structure_get (s, "sample", GST_TYPE_SAMPLE, &run->sample,
              NULL);
          *broken = FALSE;
          return TRUE;
        }
        break;
      default:
        break;
    }
  }
}

gboolean
gst_fal_warm_pipeline_run (GstFalWarmPipeline * self, GstFalAppCall * call,
    GBytes * image, GstFalPipelineSetup setup, gpointer setup_data,
    GstFalPipelineRun * run, GError ** error)
{
  GCancellable *cancellable = gst_fal_app_call_get_cancellable (call);
  g_autoptr (GBytes) first = NULL;
  const gchar *caps, *decoder;
  gboolean ok = FALSE, broken = TRUE;
  gulong handler = 0;
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

  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (post_cancel),
        gst_object_ref (warm->bus), gst_object_unref);
  /* the buffer holds its own reference to the bytes */
  if (gst_app_src_push_buffer (GST_APP_SRC (warm->src),
          gst_buffer_new_wrapped_bytes (first)) != GST_FLOW_OK)
    bus_error (warm->bus, "does not take images", error);
  else
    ok = wait_for_sample (self, warm, run, &broken, error);
  if (cancellable)
    g_cancellable_disconnect (cancellable, handler);

  if (ok)
    gst_fal_apps_read_input_size (GST_BIN (warm->pipeline), run);
  if (broken)
    /* built again for the next image */
    g_ptr_array_remove (self->warms, warm);
  return ok;
}
