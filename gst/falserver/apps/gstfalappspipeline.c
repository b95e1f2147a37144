/* gst-fal server: running one GStreamer pipeline for an app */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/app/app.h>
#include <gst/video/video.h>

#include "gstfalapps-private.h"

/* A pipeline on one image ends in seconds; this only guards a worker
 * against an element that never posts EOS. */
#define PIPELINE_DEADLINE_SECONDS 120
#define CANCEL_MESSAGE "gst-fal-cancel"

const gchar gst_fal_apps_image_output_schema[] = "{"
    "\"type\": \"object\", \"required\": [\"image\"], \"properties\": {"
    "\"image\": {\"type\": \"object\", \"title\": \"Image\","
    "\"required\": [\"url\", \"content_type\", \"width\", \"height\"],"
    "\"properties\": {"
    "\"url\": {\"type\": \"string\", \"description\": \"Public URL of the image\"},"
    "\"content_type\": {\"type\": \"string\", \"examples\": [\"image/png\"]},"
    "\"width\": {\"type\": \"integer\"}, \"height\": {\"type\": \"integer\"}}}}}";

static void
post_cancel (GCancellable * cancellable, GstBus * bus)
{
  gst_bus_post (bus, gst_message_new_application (NULL,
          gst_structure_new_empty (CANCEL_MESSAGE)));
}

static gboolean
is_decode_error (GError * error)
{
  return error->domain == GST_STREAM_ERROR &&
      (error->code == GST_STREAM_ERROR_TYPE_NOT_FOUND ||
      error->code == GST_STREAM_ERROR_DECODE ||
      error->code == GST_STREAM_ERROR_WRONG_TYPE ||
      error->code == GST_STREAM_ERROR_CODEC_NOT_FOUND ||
      error->code == GST_STREAM_ERROR_DEMUX ||
      error->code == GST_STREAM_ERROR_FORMAT);
}

static void
read_input_size (GstBin * pipeline, GstFalPipelineRun * run)
{
  g_autoptr (GstElement) input = gst_bin_get_by_name (pipeline, "fal-input");
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GstCaps) caps = NULL;
  GstVideoInfo info;

  if (input == NULL)
    return;
  pad = gst_element_get_static_pad (input, "sink");
  caps = pad ? gst_pad_get_current_caps (pad) : NULL;
  if (caps && gst_video_info_from_caps (&info, caps)) {
    run->input_width = GST_VIDEO_INFO_WIDTH (&info);
    run->input_height = GST_VIDEO_INFO_HEIGHT (&info);
  }
}

static GstFlowReturn
keep_sample (GstAppSink * sink, gpointer user_data)
{
  GstFalPipelineRun *run = user_data;
  GstSample *sample = gst_app_sink_pull_sample (sink);

  if (sample == NULL)
    return GST_FLOW_ERROR;
  /* only the streaming thread writes it while the pipeline plays */
  if (run->sample)
    gst_sample_unref (run->sample);
  run->sample = sample;
  return GST_FLOW_OK;
}

static void
feed_source (GstBin * pipeline, GBytes * input)
{
  g_autoptr (GstElement) src = gst_bin_get_by_name (pipeline, "fal-src");

  if (src == NULL)
    return;
  /* the buffer holds its own reference to the bytes */
  if (input)
    gst_app_src_push_buffer (GST_APP_SRC (src),
        gst_buffer_new_wrapped_bytes (input));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
}

static void
watch_sink (GstBin * pipeline, GstFalPipelineRun * run)
{
  g_autoptr (GstElement) sink = gst_bin_get_by_name (pipeline, "fal-sink");
  GstAppSinkCallbacks callbacks = { NULL, NULL, keep_sample };

  if (sink && GST_IS_APP_SINK (sink))
    gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, run, NULL);
}

/* Pops bus messages until EOS, an error or a cancel. */
static gboolean
wait_for_end (GstBus * bus, const gchar * message_name,
    GstFalPipelineRun * run, GError ** error)
{
  GstClockTime deadline = gst_util_get_timestamp () +
      PIPELINE_DEADLINE_SECONDS * GST_SECOND;

  for (;;) {
    GstClockTime now = gst_util_get_timestamp ();
    g_autoptr (GstMessage) message = NULL;
    const GstStructure *s;

    if (now >= deadline) {
      g_set_error (error, GST_FAL_APP_ERROR, 500,
          "The pipeline did not finish within %d s", PIPELINE_DEADLINE_SECONDS);
      return FALSE;
    }
    message = gst_bus_timed_pop_filtered (bus, deadline - now,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT |
        GST_MESSAGE_APPLICATION);
    if (message == NULL)
      continue;

    switch (GST_MESSAGE_TYPE (message)) {
      case GST_MESSAGE_EOS:
        return TRUE;
      case GST_MESSAGE_ERROR:{
        g_autoptr (GError) gst_error = NULL;
        g_autofree gchar *debug = NULL;

        gst_message_parse_error (message, &gst_error, &debug);
        g_debug ("pipeline error from %s: %s (%s)",
            GST_MESSAGE_SRC_NAME (message), gst_error->message,
            debug ? debug : "");
        if (is_decode_error (gst_error))
          g_set_error (error, GST_FAL_APP_ERROR, 422,
              "image_url is not a decodable image: %s", gst_error->message);
        else
          g_set_error (error, GST_FAL_APP_ERROR, 500,
              "The pipeline failed in %s: %s",
              GST_MESSAGE_SRC_NAME (message), gst_error->message);
        return FALSE;
      }
      case GST_MESSAGE_APPLICATION:
        if (gst_message_has_name (message, CANCEL_MESSAGE)) {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
              "The request was cancelled");
          return FALSE;
        }
        break;
      case GST_MESSAGE_ELEMENT:
        s = gst_message_get_structure (message);
        if (s && message_name && (g_str_equal (message_name, "*")
                || gst_structure_has_name (s, message_name)))
          g_ptr_array_add (run->messages, gst_structure_copy (s));
        break;
      default:
        break;
    }
  }
}

gboolean
gst_fal_apps_run_pipeline (GstFalAppCall * call, const gchar * description,
    GBytes * input, const gchar * message_name, GstFalPipelineSetup setup,
    gpointer setup_data, GstFalPipelineRun * run, GError ** error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstBus) bus = NULL;
  GCancellable *cancellable = gst_fal_app_call_get_cancellable (call);
  gulong handler = 0;
  gboolean ok = FALSE;

  memset (run, 0, sizeof (*run));
  run->messages = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_structure_free);

  pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (pipeline == NULL) {
    g_set_error (error, GST_FAL_APP_ERROR, 500,
        "The app's pipeline cannot be built: %s", parse_error->message);
    return FALSE;
  }
  if (!GST_IS_BIN (pipeline)) {
    GstElement *bin = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (bin), g_steal_pointer (&pipeline));
    pipeline = gst_object_ref_sink (bin);
  }
  if (setup && !setup (GST_BIN (pipeline), setup_data, error))
    return FALSE;

  bus = gst_element_get_bus (pipeline);
  watch_sink (GST_BIN (pipeline), run);
  feed_source (GST_BIN (pipeline), input);
  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (post_cancel),
        gst_object_ref (bus), gst_object_unref);

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message on the bus says why */
    ok = wait_for_end (bus, NULL, run, error);
    if (ok)
      g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
          "The app's pipeline cannot start");
    ok = FALSE;
  } else {
    ok = wait_for_end (bus, message_name, run, error);
  }

  if (cancellable)
    g_cancellable_disconnect (cancellable, handler);
  read_input_size (GST_BIN (pipeline), run);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return ok;
}

void
gst_fal_pipeline_run_clear (GstFalPipelineRun * run)
{
  g_clear_pointer (&run->sample, gst_sample_unref);
  g_clear_pointer (&run->messages, g_ptr_array_unref);
}

GBytes *
gst_fal_apps_fetch_image (GstFalAppCall * call, GError ** error)
{
  const gchar *url =
      gst_fal_apps_get_string (gst_fal_app_call_get_input (call), "image_url",
      NULL);
  g_autofree gchar *content_type = NULL;
  g_autoptr (GError) fetch_error = NULL;
  GBytes *bytes;

  if (url == NULL) {
    g_set_error_literal (error, GST_FAL_APP_ERROR, 422,
        "image_url is required");
    return NULL;
  }
  bytes = gst_fal_app_call_fetch (call, url, &content_type, &fetch_error);
  if (bytes == NULL) {
    if (g_error_matches (fetch_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_propagate_error (error, g_steal_pointer (&fetch_error));
    else
      g_set_error (error, GST_FAL_APP_ERROR, 422,
          "image_url cannot be fetched: %s", fetch_error ?
          fetch_error->message : "unknown error");
    return NULL;
  }
  if (g_bytes_get_size (bytes) == 0) {
    g_bytes_unref (bytes);
    g_set_error_literal (error, GST_FAL_APP_ERROR, 422,
        "image_url is not a decodable image: it is empty");
    return NULL;
  }
  return bytes;
}

JsonNode *
gst_fal_apps_answer_image (GstFalAppCall * call, GstSample * sample,
    GError ** error)
{
  GstCaps *caps = sample ? gst_sample_get_caps (sample) : NULL;
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;
  const GstStructure *s;
  const gchar *content_type;
  g_autofree gchar *url = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gint width = 0, height = 0;
  GstMapInfo map;
  JsonObject *image, *output;
  JsonNode *node;

  if (caps == NULL || buffer == NULL) {
    g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
        "The app's pipeline produced no image");
    return NULL;
  }
  s = gst_caps_get_structure (caps, 0);
  content_type = gst_structure_get_name (s);
  gst_structure_get_int (s, "width", &width);
  gst_structure_get_int (s, "height", &height);

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
        "The output image cannot be read");
    return NULL;
  }
  bytes = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buffer, &map);

  url = gst_fal_app_call_store (call, bytes, content_type,
      g_str_equal (content_type, "image/jpeg") ? "output.jpg" : "output.png");
  if (url == NULL) {
    g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
        "The output image cannot be stored");
    return NULL;
  }

  image = json_object_new ();
  json_object_set_string_member (image, "url", url);
  json_object_set_string_member (image, "content_type", content_type);
  json_object_set_int_member (image, "width", width);
  json_object_set_int_member (image, "height", height);
  output = json_object_new ();
  json_object_set_object_member (output, "image", image);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, output);
  return node;
}
