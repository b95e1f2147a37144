/* gst-fal: encoding video frames for upload, and argument templates
 *
 * The encoder keeps one pipeline
 *   appsrc ! videoconvert ! videoscale ! capsfilter ! jpegenc|pngenc ! appsink
 * per input caps and pushes one frame at a time through it, under a mutex.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalframe.h"

#include <gst/app/app.h>
#include "gstfaljson-private.h"

#define ENCODE_TIMEOUT (30 * GST_SECOND)
#define DEFAULT_TEMPLATE "{\"image_url\": \"{{frame}}\"}"

struct _GstFalFrameEncoder
{
  GMutex lock;
  GstFalImageFormat format;
  guint quality;
  guint max_dimension;

  /* Valid for in_caps only; rebuilt when the caps change. */
  GstCaps *in_caps;
  GstElement *pipeline;
  GstElement *appsrc;
  GstElement *appsink;
};

/**
 * gst_fal_frame_encoder_new: (skip)
 * @format: the image format to produce
 * @quality: JPEG quality 1..100 (0 = 85); ignored for PNG
 * @max_dimension: largest side of the image produced, 0 = keep the size
 *
 * Returns: (transfer full): a new encoder
 */
GstFalFrameEncoder *
gst_fal_frame_encoder_new (GstFalImageFormat format, guint quality,
    guint max_dimension)
{
  GstFalFrameEncoder *encoder = g_new0 (GstFalFrameEncoder, 1);

  g_mutex_init (&encoder->lock);
  encoder->format = format;
  encoder->quality = quality == 0 ? 85 : MIN (quality, 100);
  encoder->max_dimension = max_dimension;
  return encoder;
}

static void
encoder_teardown (GstFalFrameEncoder * encoder)
{
  if (encoder->pipeline)
    gst_element_set_state (encoder->pipeline, GST_STATE_NULL);
  gst_clear_object (&encoder->appsrc);
  gst_clear_object (&encoder->appsink);
  gst_clear_object (&encoder->pipeline);
  gst_clear_caps (&encoder->in_caps);
}

/**
 * gst_fal_frame_encoder_free: (skip)
 * @encoder: (transfer full): an encoder
 */
void
gst_fal_frame_encoder_free (GstFalFrameEncoder * encoder)
{
  if (encoder == NULL)
    return;
  encoder_teardown (encoder);
  g_mutex_clear (&encoder->lock);
  g_free (encoder);
}

/* The output size: the largest side fits max_dimension, aspect kept. */
static void
scaled_size (const GstVideoInfo * info, guint max_dimension, gint * width,
    gint * height)
{
  gint w = GST_VIDEO_INFO_WIDTH (info);
  gint h = GST_VIDEO_INFO_HEIGHT (info);

  *width = w;
  *height = h;
  if (max_dimension == 0 || (guint) MAX (w, h) <= max_dimension)
    return;
  if (w >= h) {
    *width = max_dimension;
    *height = MAX (1, (gint) ((gdouble) h * max_dimension / w + 0.5));
  } else {
    *height = max_dimension;
    *width = MAX (1, (gint) ((gdouble) w * max_dimension / h + 0.5));
  }
}

static GstElement *
make_element (const gchar * factory, GError ** error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode frames: the GStreamer element '%s' is missing", factory);
  return element;
}

static gboolean
encoder_build (GstFalFrameEncoder * encoder, GstCaps * caps, GError ** error)
{
  const gchar *names[] = { "appsrc", "videoconvert", "videoscale",
    "capsfilter", encoder->format == GST_FAL_IMAGE_FORMAT_PNG ?
        "pngenc" : "jpegenc", "appsink"
  };
  GstElement *elements[G_N_ELEMENTS (names)] = { NULL, };
  GstVideoInfo info;
  GstCaps *out_caps;
  gint width, height;
  guint i;

  if (!gst_video_info_from_caps (&info, caps)) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode frames: unsupported raw video caps");
    return FALSE;
  }

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    elements[i] = make_element (names[i], error);
    if (elements[i] == NULL) {
      while (i-- > 0)
        gst_object_unref (elements[i]);
      return FALSE;
    }
  }

  scaled_size (&info, encoder->max_dimension, &width, &height);
  out_caps = gst_caps_new_simple ("video/x-raw",
      "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
      "pixel-aspect-ratio", GST_TYPE_FRACTION,
      GST_VIDEO_INFO_PAR_N (&info), GST_VIDEO_INFO_PAR_D (&info), NULL);
  g_object_set (elements[3], "caps", out_caps, NULL);
  gst_caps_unref (out_caps);

  g_object_set (elements[0], "caps", caps, "format", GST_FORMAT_TIME,
      "is-live", FALSE, NULL);
  g_object_set (elements[2], "add-borders", FALSE, NULL);
  if (encoder->format == GST_FAL_IMAGE_FORMAT_JPEG)
    g_object_set (elements[4], "quality", (gint) encoder->quality, NULL);
  g_object_set (elements[5], "sync", FALSE, "async", FALSE, NULL);

  encoder->pipeline = gst_pipeline_new ("fal-frame-encoder");
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    gst_bin_add (GST_BIN (encoder->pipeline), elements[i]);
  for (i = 0; i + 1 < G_N_ELEMENTS (names); i++) {
    if (!gst_element_link (elements[i], elements[i + 1])) {
      g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
          "Cannot encode frames: cannot link %s to %s", names[i], names[i + 1]);
      gst_clear_object (&encoder->pipeline);
      return FALSE;
    }
  }
  encoder->appsrc = gst_object_ref (elements[0]);
  encoder->appsink = gst_object_ref (elements[5]);
  encoder->in_caps = gst_caps_ref (caps);

  if (gst_element_set_state (encoder->pipeline,
          GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode frames: the encoding pipeline failed to start");
    encoder_teardown (encoder);
    return FALSE;
  }
  return TRUE;
}

/* Why the pipeline produced nothing: its error message, or a timeout. */
static void
set_pipeline_error (GstFalFrameEncoder * encoder, GError ** error)
{
  GstBus *bus = gst_element_get_bus (encoder->pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (msg) {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode the frame: %s", err->message);
    g_error_free (err);
    gst_message_unref (msg);
  } else {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode the frame: the encoder produced no image");
  }
  gst_object_unref (bus);
}

static GBytes *
bytes_from_buffer (GstBuffer * buffer, GError ** error)
{
  GstMapInfo map;
  GBytes *bytes;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode the frame: cannot read the buffer");
    return NULL;
  }
  bytes = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buffer, &map);
  return bytes;
}

static GBytes *
encode_raw (GstFalFrameEncoder * encoder, GstCaps * caps, GstBuffer * buffer,
    GError ** error)
{
  GstBuffer *input;
  GstSample *encoded;
  GBytes *bytes = NULL;

  if (encoder->in_caps == NULL || !gst_caps_is_equal (encoder->in_caps, caps)) {
    encoder_teardown (encoder);
    if (!encoder_build (encoder, caps, error))
      return NULL;
  }

  /* Timestamps of the caller's stream mean nothing to this pipeline. */
  input = gst_buffer_copy (buffer);
  GST_BUFFER_PTS (input) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS (input) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (input) = GST_CLOCK_TIME_NONE;
  if (gst_app_src_push_buffer (GST_APP_SRC (encoder->appsrc), input) !=
      GST_FLOW_OK) {
    set_pipeline_error (encoder, error);
    encoder_teardown (encoder);
    return NULL;
  }

  encoded = gst_app_sink_try_pull_sample (GST_APP_SINK (encoder->appsink),
      ENCODE_TIMEOUT);
  if (encoded == NULL) {
    set_pipeline_error (encoder, error);
    encoder_teardown (encoder);
    return NULL;
  }
  bytes = bytes_from_buffer (gst_sample_get_buffer (encoded), error);
  gst_sample_unref (encoded);
  return bytes;
}

/**
 * gst_fal_frame_encoder_encode: (skip)
 * @encoder: an encoder
 * @sample: a raw video frame, or an encoded JPEG/PNG image
 * @content_type: (out) (optional) (transfer none): the MIME type produced
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the image bytes, or %NULL on error
 */
GBytes *
gst_fal_frame_encoder_encode (GstFalFrameEncoder * encoder,
    GstSample * sample, const gchar ** content_type, GError ** error)
{
  GstCaps *caps;
  GstBuffer *buffer;
  const gchar *name;
  GBytes *bytes;

  g_return_val_if_fail (encoder != NULL, NULL);
  g_return_val_if_fail (GST_IS_SAMPLE (sample), NULL);

  caps = gst_sample_get_caps (sample);
  buffer = gst_sample_get_buffer (sample);
  if (caps == NULL || buffer == NULL || gst_caps_get_size (caps) == 0
      || !gst_caps_is_fixed (caps)) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode the frame: the sample has no buffer or fixed caps");
    return NULL;
  }

  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_equal (name, "image/jpeg") || g_str_equal (name, "image/png")) {
    if (content_type)
      *content_type = g_str_equal (name, "image/png") ?
          "image/png" : "image/jpeg";
    return bytes_from_buffer (buffer, error);
  }
  if (!g_str_equal (name, "video/x-raw")) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Cannot encode the frame: caps '%s' are neither raw video nor "
        "JPEG/PNG", name);
    return NULL;
  }

  g_mutex_lock (&encoder->lock);
  bytes = encode_raw (encoder, caps, buffer, error);
  g_mutex_unlock (&encoder->lock);

  if (bytes && content_type)
    *content_type = encoder->format == GST_FAL_IMAGE_FORMAT_PNG ?
        "image/png" : "image/jpeg";
  return bytes;
}

/* Argument templates */

struct _GstFalArgumentsTemplate
{
  JsonNode *root;
  gboolean uses_frame;
};

static gboolean
node_uses_frame (JsonNode * node)
{
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return strstr (json_node_get_string (node), "{{frame}}") != NULL;

  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    JsonNode *member;

    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, NULL, &member))
      if (node_uses_frame (member))
        return TRUE;
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    guint i;

    for (i = 0; i < json_array_get_length (array); i++)
      if (node_uses_frame (json_array_get_element (array, i)))
        return TRUE;
  }
  return FALSE;
}

/**
 * gst_fal_arguments_template_new: (skip)
 * @template_json: (nullable): the template, a JSON object
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the parsed template, or %NULL on error
 */
GstFalArgumentsTemplate *
gst_fal_arguments_template_new (const gchar * template_json, GError ** error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (JsonNode) root = NULL;
  GstFalArgumentsTemplate *tmpl;

  if (template_json == NULL || *template_json == '\0')
    template_json = DEFAULT_TEMPLATE;

  root = gst_fal_json_from_string (template_json, -1, &parse_error);
  if (root == NULL) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
        "The arguments template is not valid JSON: %s", parse_error->message);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
        "The arguments template must be a JSON object");
    return NULL;
  }

  tmpl = g_new0 (GstFalArgumentsTemplate, 1);
  tmpl->root = json_node_copy (root);
  tmpl->uses_frame = node_uses_frame (tmpl->root);
  return tmpl;
}

/**
 * gst_fal_arguments_template_free: (skip)
 * @tmpl: (transfer full): a template
 */
void
gst_fal_arguments_template_free (GstFalArgumentsTemplate * tmpl)
{
  if (tmpl == NULL)
    return;
  json_node_unref (tmpl->root);
  g_free (tmpl);
}

/**
 * gst_fal_arguments_template_uses_frame: (skip)
 * @tmpl: a template
 *
 * Returns: whether any string of the template references `{{frame}}`
 */
gboolean
gst_fal_arguments_template_uses_frame (GstFalArgumentsTemplate * tmpl)
{
  g_return_val_if_fail (tmpl != NULL, FALSE);
  return tmpl->uses_frame;
}

typedef struct
{
  const gchar *frame_url;
  gchar *pts;                   /* decimal, or NULL when unknown */
  gchar *index;
} Substitutions;

/* A string that is exactly one placeholder becomes a typed value; any
 * other string gets the placeholders replaced textually. */
static JsonNode *
instantiate_string (const gchar * str, const Substitutions * subs)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  GString *out;
  const gchar *p;

  if (g_str_equal (str, "{{frame}}")) {
    if (subs->frame_url)
      json_node_set_string (node, subs->frame_url);
    else
      json_node_init_null (node);
    return node;
  }
  if (g_str_equal (str, "{{pts}}")) {
    if (subs->pts)
      json_node_set_int (node, g_ascii_strtoll (subs->pts, NULL, 10));
    else
      json_node_init_null (node);
    return node;
  }
  if (g_str_equal (str, "{{index}}")) {
    json_node_set_int (node, g_ascii_strtoll (subs->index, NULL, 10));
    return node;
  }

  out = g_string_new (NULL);
  for (p = str; *p;) {
    if (g_str_has_prefix (p, "{{frame}}")) {
      g_string_append (out, subs->frame_url ? subs->frame_url : "");
      p += strlen ("{{frame}}");
    } else if (g_str_has_prefix (p, "{{pts}}")) {
      g_string_append (out, subs->pts ? subs->pts : "");
      p += strlen ("{{pts}}");
    } else if (g_str_has_prefix (p, "{{index}}")) {
      g_string_append (out, subs->index);
      p += strlen ("{{index}}");
    } else {
      g_string_append_c (out, *p++);
    }
  }
  json_node_set_string (node, out->str);
  g_string_free (out, TRUE);
  return node;
}

static JsonNode *
instantiate_node (JsonNode * node, const Substitutions * subs)
{
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return instantiate_string (json_node_get_string (node), subs);

  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *object = json_node_get_object (node);
    JsonObject *copy = json_object_new ();
    GList *names = json_object_get_members (object), *l;
    JsonNode *result;

    /* in the template's order, so that the arguments read the same */
    for (l = names; l; l = l->next)
      json_object_set_member (copy, l->data,
          instantiate_node (json_object_get_member (object, l->data), subs));
    g_list_free (names);
    result = json_node_init_object (json_node_alloc (), copy);
    json_object_unref (copy);
    return result;
  }

  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    JsonArray *copy = json_array_sized_new (json_array_get_length (array));
    JsonNode *result;
    guint i;

    for (i = 0; i < json_array_get_length (array); i++)
      json_array_add_element (copy,
          instantiate_node (json_array_get_element (array, i), subs));
    result = json_node_init_array (json_node_alloc (), copy);
    json_array_unref (copy);
    return result;
  }

  return json_node_copy (node);
}

/**
 * gst_fal_arguments_template_instantiate: (skip)
 * @tmpl: a template
 * @frame_url: (nullable): the URL (or data URI) of the frame
 * @pts: the frame's PTS, or GST_CLOCK_TIME_NONE
 * @index: the frame number
 *
 * Returns: (transfer full): the arguments, a JSON object
 */
JsonNode *
gst_fal_arguments_template_instantiate (GstFalArgumentsTemplate * tmpl,
    const gchar * frame_url, GstClockTime pts, guint64 index)
{
  Substitutions subs = { frame_url, NULL, NULL };
  JsonNode *result;

  g_return_val_if_fail (tmpl != NULL, NULL);

  if (GST_CLOCK_TIME_IS_VALID (pts))
    subs.pts = g_strdup_printf ("%" G_GUINT64_FORMAT, (guint64) pts);
  subs.index = g_strdup_printf ("%" G_GUINT64_FORMAT, index);
  result = instantiate_node (tmpl->root, &subs);
  g_free (subs.pts);
  g_free (subs.index);
  return result;
}
