/* gst-fal server: running one GStreamer pipeline for an app */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/app/app.h>
#include <gst/base/gsttypefindhelper.h>
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

/* ---- the input image: sniffed, its size read, then decoded ---- */

typedef struct
{
  const gchar *caps;
  const gchar *decoder;
    gboolean (*parse) (const guint8 * data, gsize size, guint32 * width,
      guint32 * height, gsize * end);
} ImageType;

static guint32
read_be32 (const guint8 * p)
{
  return (guint32) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static guint32
read_le32 (const guint8 * p)
{
  return (guint32) p[3] << 24 | p[2] << 16 | p[1] << 8 | p[0];
}

/* IHDR's size; the image ends after IEND. */
static gboolean
parse_png (const guint8 * data, gsize size, guint32 * width,
    guint32 * height, gsize * end)
{
  gsize i = 8;

  if (size < 8 + 25 || memcmp (data, "\211PNG\r\n\032\n", 8)
      || memcmp (data + 12, "IHDR", 4))
    return FALSE;
  *width = read_be32 (data + 16);
  *height = read_be32 (data + 20);
  *end = size;
  while (i + 12 <= size) {
    guint32 length = read_be32 (data + i);

    if (length > size - i - 12)
      break;                    /* cut short: the decoder says so */
    if (!memcmp (data + i + 4, "IEND", 4)) {
      *end = i + 12 + length;
      break;
    }
    i += 12 + length;
  }
  return TRUE;
}

static gboolean
is_jpeg_sof (guint8 marker)
{
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4
      && marker != 0xc8 && marker != 0xcc;
}

/* The frame header's size; the image ends after EOI. Segments are walked
 * and entropy-coded data skipped, so that a second image after the first
 * one is never decoded. */
static gboolean
parse_jpeg (const guint8 * data, gsize size, guint32 * width,
    guint32 * height, gsize * end)
{
  gboolean sized = FALSE;
  gsize i = 2;

  if (size < 4 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff)
    return FALSE;
  *end = size;
  while (i + 2 <= size) {
    guint8 marker;
    guint length;

    if (data[i] != 0xff)
      return FALSE;
    marker = data[i + 1];
    if (marker == 0xff) {       /* fill byte */
      i++;
      continue;
    }
    if (marker == 0xd8) {       /* another image: not decoded */
      *end = i;
      break;
    }
    i += 2;
    if (marker == 0xd9) {
      *end = i;
      break;
    }
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
      continue;
    if (i + 2 > size)
      break;
    length = data[i] << 8 | data[i + 1];
    if (length < 2 || i + length > size)
      break;
    if (is_jpeg_sof (marker)) {
      if (sized || length < 7)
        return FALSE;
      *height = data[i + 3] << 8 | data[i + 4];
      *width = data[i + 5] << 8 | data[i + 6];
      sized = TRUE;
    }
    i += length;
    if (marker == 0xda)
      while (i + 1 < size && (data[i] != 0xff || data[i + 1] == 0x00
              || (data[i + 1] >= 0xd0 && data[i + 1] <= 0xd7)))
        i++;
  }
  return sized;
}

/* The canvas of a lossy, lossless or extended WebP; it ends where RIFF
 * says. */
static gboolean
parse_webp (const guint8 * data, gsize size, guint32 * width,
    guint32 * height, gsize * end)
{
  guint32 bits;

  if (size < 30 || memcmp (data, "RIFF", 4) || memcmp (data + 8, "WEBP", 4))
    return FALSE;
  *end = MIN (size, (gsize) read_le32 (data + 4) + 8);
  if (!memcmp (data + 12, "VP8 ", 4) && data[23] == 0x9d && data[24] == 0x01
      && data[25] == 0x2a) {
    *width = (data[26] | data[27] << 8) & 0x3fff;
    *height = (data[28] | data[29] << 8) & 0x3fff;
  } else if (!memcmp (data + 12, "VP8L", 4) && data[20] == 0x2f) {
    bits = read_le32 (data + 21);
    *width = (bits & 0x3fff) + 1;
    *height = ((bits >> 14) & 0x3fff) + 1;
  } else if (!memcmp (data + 12, "VP8X", 4)) {
    *width = (data[24] | data[25] << 8 | data[26] << 16) + 1;
    *height = (data[27] | data[28] << 8 | data[29] << 16) + 1;
  } else {
    return FALSE;
  }
  return TRUE;
}

static const ImageType image_types[] = {
  {"image/png", "pngdec", parse_png},
  {"image/jpeg", "jpegdec", parse_jpeg},
  {"image/webp", "webpdec", parse_webp},
};

gchar *
gst_fal_apps_image_description (const gchar * caps, const gchar * decoder,
    const gchar * rest)
{
  return g_strdup_printf ("appsrc name=fal-src caps=%s ! %s ! videoconvert ! "
      "identity name=fal-input ! %s", caps, decoder, rest);
}

/* What @image is, for the error: its sniffed media type, else unknown. */
static void
set_not_an_image (GBytes * image, GError ** error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (image, &size);
  g_autoptr (GstCaps) caps = gst_type_find_helper_for_data (NULL, data,
      MIN (size, 64 * 1024), NULL);
  const gchar *type = caps && !gst_caps_is_empty (caps) ?
      gst_structure_get_name (gst_caps_get_structure (caps, 0)) : NULL;

  if (type && g_str_has_prefix (type, "image/"))
    g_set_error (error, GST_FAL_APP_ERROR, 422, "image_url is %s, not an "
        "image of a type the apps decode (PNG, JPEG or WebP)", type);
  else if (type)
    g_set_error (error, GST_FAL_APP_ERROR, 422, "image_url is not an image: "
        "it is %s", type);
  else
    g_set_error_literal (error, GST_FAL_APP_ERROR, 422, "image_url is not an "
        "image: its type is unknown");
}

gboolean
gst_fal_apps_run_image_pipeline (GstFalAppCall * call, const gchar * rest,
    GBytes * image, const gchar * message_name, GstFalPipelineSetup setup,
    gpointer setup_data, GstFalPipelineRun * run, GError ** error)
{
  guint64 max_pixels = gst_fal_app_call_get_max_pixels (call);
  guint64 max_width, max_height;
  g_autoptr (GstElementFactory) factory = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autofree gchar *description = NULL;
  const ImageType *type = NULL;
  guint32 width = 0, height = 0;
  gsize size, end = 0;
  const guint8 *data = g_bytes_get_data (image, &size);
  guint i;

  memset (run, 0, sizeof (*run));
  for (i = 0; i < G_N_ELEMENTS (image_types) && !type; i++)
    if (image_types[i].parse (data, size, &width, &height, &end))
      type = &image_types[i];
  if (!type) {
    set_not_an_image (image, error);
    return FALSE;
  }
  if (width == 0 || height == 0) {
    g_set_error (error, GST_FAL_APP_ERROR, 422, "image_url is not a "
        "decodable image: its %s header gives no size", type->caps);
    return FALSE;
  }
  if (max_pixels && (guint64) width * height > max_pixels) {
    g_set_error (error, GST_FAL_APP_ERROR, 422, "image_url has %ux%u "
        "pixels, more than the limit of %" G_GUINT64_FORMAT " pixels "
        "(max-pixels)", width, height, max_pixels);
    return FALSE;
  }
  gst_fal_app_call_get_max_size (call, &max_width, &max_height);
  if ((max_width && width > max_width) || (max_height && height > max_height)) {
    gboolean wide = max_width && width > max_width;

    g_set_error (error, GST_FAL_APP_ERROR, 422, "image_url is %u pixels %s, "
        "more than the limit of %" G_GUINT64_FORMAT " (%s)",
        wide ? width : height, wide ? "wide" : "high",
        wide ? max_width : max_height, wide ? "max-width" : "max-height");
    return FALSE;
  }
  factory = gst_element_factory_find (type->decoder);
  if (!factory) {
    g_set_error (error, GST_FAL_APP_ERROR, 422, "image_url is %s, which "
        "this server cannot decode (no %s)", type->caps, type->decoder);
    return FALSE;
  }
  /* one image: whatever follows its end is not decoded */
  first = g_bytes_new_from_bytes (image, 0, end);
  description = gst_fal_apps_image_description (type->caps, type->decoder,
      rest);
  return gst_fal_apps_run_pipeline (call, description, first, message_name,
      setup, setup_data, run, error);
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
