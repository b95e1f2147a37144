/* gst-fal: frame encoder, argument templates and data URIs */
#include <gst/check/gstcheck.h>
#include <gst/app/app.h>
#include <gst/fal/gstfal.h>

/* One frame of videotestsrc with the given caps. */
static GstSample *
make_frame (const gchar * format, gint width, gint height, gint par_n,
    gint par_d)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 pattern=smpte ! "
      "video/x-raw,format=%s,width=%d,height=%d,pixel-aspect-ratio=%d/%d,"
      "framerate=30/1 ! appsink name=sink sync=false", format, width, height,
      par_n, par_d);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *sink;
  GstSample *sample;

  fail_unless (pipeline != NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  fail_unless (sample != NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  return sample;
}

/* Decodes an image with a real decoder; returns its width and height. */
static void
decode_image (GBytes * image, const gchar * decoder, gint * width,
    gint * height)
{
  gchar *desc = g_strdup_printf ("appsrc name=src ! %s ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false", decoder);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src, *sink;
  GstSample *sample;
  GstVideoInfo info;
  GstCaps *caps;

  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  caps = gst_caps_new_empty_simple (g_str_equal (decoder, "pngdec") ?
      "image/png" : "image/jpeg");
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
          gst_buffer_new_wrapped_bytes (image)), GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  fail_unless (sample != NULL, "the %s decoder produced nothing", decoder);
  fail_unless (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  *width = GST_VIDEO_INFO_WIDTH (&info);
  *height = GST_VIDEO_INFO_HEIGHT (&info);
  gst_sample_unref (sample);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
}

static void
check_magic (GBytes * image, GstFalImageFormat format)
{
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff };
  static const guint8 png[] = { 0x89, 'P', 'N', 'G' };
  gsize size;
  const guint8 *data = g_bytes_get_data (image, &size);

  if (format == GST_FAL_IMAGE_FORMAT_JPEG) {
    fail_unless (size > sizeof (jpeg) && !memcmp (data, jpeg, sizeof (jpeg)));
  } else {
    fail_unless (size > sizeof (png) && !memcmp (data, png, sizeof (png)));
  }
}

GST_START_TEST (test_encode_jpeg_scaled)
{
  GstFalFrameEncoder *encoder =
      gst_fal_frame_encoder_new (GST_FAL_IMAGE_FORMAT_JPEG, 80, 160);
  GstSample *frame = make_frame ("I420", 640, 360, 1, 1);
  const gchar *content_type = NULL;
  GError *error = NULL;
  GBytes *image;
  gint w, h;

  image = gst_fal_frame_encoder_encode (encoder, frame, &content_type, &error);
  fail_unless (image != NULL, "%s", error ? error->message : "");
  fail_unless_equals_string (content_type, "image/jpeg");
  check_magic (image, GST_FAL_IMAGE_FORMAT_JPEG);
  decode_image (image, "jpegdec", &w, &h);
  fail_unless_equals_int (w, 160);
  fail_unless_equals_int (h, 90);

  g_bytes_unref (image);
  gst_sample_unref (frame);
  gst_fal_frame_encoder_free (encoder);
}

GST_END_TEST;

GST_START_TEST (test_encode_png_portrait_and_caps_change)
{
  GstFalFrameEncoder *encoder =
      gst_fal_frame_encoder_new (GST_FAL_IMAGE_FORMAT_PNG, 0, 100);
  GstSample *portrait = make_frame ("RGBA", 120, 300, 1, 1);
  GstSample *small = make_frame ("YUY2", 64, 48, 1, 1);
  const gchar *content_type = NULL;
  GError *error = NULL;
  GBytes *image;
  gint w, h, i;

  /* The same caps twice, then other caps: the pipeline is rebuilt. */
  for (i = 0; i < 2; i++) {
    image = gst_fal_frame_encoder_encode (encoder, portrait, &content_type,
        &error);
    fail_unless (image != NULL, "%s", error ? error->message : "");
    fail_unless_equals_string (content_type, "image/png");
    check_magic (image, GST_FAL_IMAGE_FORMAT_PNG);
    decode_image (image, "pngdec", &w, &h);
    fail_unless_equals_int (w, 40);
    fail_unless_equals_int (h, 100);
    g_bytes_unref (image);
  }

  /* Smaller than max_dimension: not scaled. */
  image = gst_fal_frame_encoder_encode (encoder, small, NULL, &error);
  fail_unless (image != NULL, "%s", error ? error->message : "");
  decode_image (image, "pngdec", &w, &h);
  fail_unless_equals_int (w, 64);
  fail_unless_equals_int (h, 48);
  g_bytes_unref (image);

  gst_sample_unref (portrait);
  gst_sample_unref (small);
  gst_fal_frame_encoder_free (encoder);
}

GST_END_TEST;

GST_START_TEST (test_encode_no_scaling)
{
  g_autoptr (GstFalFrameEncoder) encoder =
      gst_fal_frame_encoder_new (GST_FAL_IMAGE_FORMAT_JPEG, 95, 0);
  GstSample *frame = make_frame ("NV12", 320, 240, 1, 1);
  GError *error = NULL;
  GBytes *image;
  gint w, h;

  image = gst_fal_frame_encoder_encode (encoder, frame, NULL, &error);
  fail_unless (image != NULL, "%s", error ? error->message : "");
  decode_image (image, "jpegdec", &w, &h);
  fail_unless_equals_int (w, 320);
  fail_unless_equals_int (h, 240);
  g_bytes_unref (image);
  gst_sample_unref (frame);
}

GST_END_TEST;

GST_START_TEST (test_encode_passthrough_and_errors)
{
  g_autoptr (GstFalFrameEncoder) encoder =
      gst_fal_frame_encoder_new (GST_FAL_IMAGE_FORMAT_JPEG, 0, 64);
  static const guint8 png_bytes[] = { 0x89, 'P', 'N', 'G', 1, 2, 3 };
  GstBuffer *buffer = gst_buffer_new_memdup (png_bytes, sizeof (png_bytes));
  GstCaps *caps = gst_caps_new_empty_simple ("image/png");
  GstSample *sample = gst_sample_new (buffer, caps, NULL, NULL);
  const gchar *content_type = NULL;
  GError *error = NULL;
  GBytes *image;

  /* Encoded images pass unchanged. */
  image = gst_fal_frame_encoder_encode (encoder, sample, &content_type, &error);
  fail_unless (image != NULL);
  fail_unless_equals_string (content_type, "image/png");
  fail_unless_equals_int (g_bytes_get_size (image), sizeof (png_bytes));
  fail_unless (!memcmp (g_bytes_get_data (image, NULL), png_bytes,
          sizeof (png_bytes)));
  g_bytes_unref (image);
  gst_sample_unref (sample);
  gst_caps_unref (caps);

  /* Audio is refused with an encode error. */
  caps = gst_caps_from_string ("audio/x-raw,format=S16LE,rate=8000,"
      "channels=1,layout=interleaved");
  sample = gst_sample_new (buffer, caps, NULL, NULL);
  image = gst_fal_frame_encoder_encode (encoder, sample, NULL, &error);
  fail_unless (image == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE));
  g_clear_error (&error);
  gst_sample_unref (sample);
  gst_caps_unref (caps);

  /* A sample without caps too. */
  sample = gst_sample_new (buffer, NULL, NULL, NULL);
  image = gst_fal_frame_encoder_encode (encoder, sample, NULL, &error);
  fail_unless (image == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE));
  g_clear_error (&error);
  gst_sample_unref (sample);

  /* A raw frame whose buffer is too small for its caps. */
  caps = gst_caps_from_string ("video/x-raw,format=RGB,width=64,height=64,"
      "framerate=30/1");
  sample = gst_sample_new (buffer, caps, NULL, NULL);
  image = gst_fal_frame_encoder_encode (encoder, sample, NULL, &error);
  fail_unless (image == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE));
  g_clear_error (&error);
  gst_sample_unref (sample);
  gst_caps_unref (caps);

  gst_buffer_unref (buffer);
}

GST_END_TEST;

typedef struct
{
  GstFalFrameEncoder *encoder;
  GstSample *frame;
  gint failures;
} ThreadData;

static gpointer
encode_thread (gpointer user_data)
{
  ThreadData *data = user_data;
  gint i;

  for (i = 0; i < 5; i++) {
    GBytes *image = gst_fal_frame_encoder_encode (data->encoder, data->frame,
        NULL, NULL);

    if (image == NULL)
      g_atomic_int_inc (&data->failures);
    else
      g_bytes_unref (image);
  }
  return NULL;
}

GST_START_TEST (test_encode_from_threads)
{
  ThreadData data = {
    gst_fal_frame_encoder_new (GST_FAL_IMAGE_FORMAT_JPEG, 50, 80),
    make_frame ("I420", 160, 120, 1, 1), 0
  };
  GstSample *other = make_frame ("RGB", 100, 100, 1, 1);
  ThreadData data2 = { data.encoder, other, 0 };
  GThread *threads[4];
  gint i;

  for (i = 0; i < 4; i++)
    threads[i] = g_thread_new ("encode", encode_thread, i % 2 ? &data : &data2);
  for (i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  fail_unless_equals_int (data.failures + data2.failures, 0);

  gst_sample_unref (data.frame);
  gst_sample_unref (other);
  gst_fal_frame_encoder_free (data.encoder);
}

GST_END_TEST;

static gchar *
node_to_string (JsonNode * node)
{
  return json_to_string (node, FALSE);
}

GST_START_TEST (test_template_default)
{
  g_autoptr (GstFalArgumentsTemplate) tmpl = NULL;
  GError *error = NULL;
  JsonNode *args;
  gchar *text;

  tmpl = gst_fal_arguments_template_new (NULL, &error);
  fail_unless (tmpl != NULL);
  fail_unless (gst_fal_arguments_template_uses_frame (tmpl));
  args = gst_fal_arguments_template_instantiate (tmpl, "http://x/f.jpg",
      GST_SECOND, 3);
  text = node_to_string (args);
  fail_unless_equals_string (text, "{\"image_url\":\"http://x/f.jpg\"}");
  g_free (text);
  json_node_unref (args);
  gst_fal_arguments_template_free (g_steal_pointer (&tmpl));

  tmpl = gst_fal_arguments_template_new ("", &error);
  fail_unless (tmpl != NULL);
  fail_unless (gst_fal_arguments_template_uses_frame (tmpl));
}

GST_END_TEST;

GST_START_TEST (test_template_nested)
{
  g_autoptr (GstFalArgumentsTemplate) tmpl = NULL;
  GError *error = NULL;
  JsonNode *args;
  gchar *text;

  tmpl = gst_fal_arguments_template_new ("{\"input\": {\"images\": "
      "[\"{{frame}}\", {\"u\": \"{{frame}}\"}], \"t\": \"{{pts}}\", "
      "\"n\": \"{{index}}\", \"label\": \"frame {{index}} at {{pts}}\"}, "
      "\"steps\": 4, \"flag\": true, \"none\": null}", &error);
  fail_unless (tmpl != NULL, "%s", error ? error->message : "");
  fail_unless (gst_fal_arguments_template_uses_frame (tmpl));

  args = gst_fal_arguments_template_instantiate (tmpl, "data:image/png;"
      "base64,AAAA", 40 * GST_MSECOND, 7);
  text = node_to_string (args);
  fail_unless_equals_string (text, "{\"input\":{\"images\":[\"data:image/png;"
      "base64,AAAA\",{\"u\":\"data:image/png;base64,AAAA\"}],"
      "\"t\":40000000,\"n\":7,\"label\":\"frame 7 at 40000000\"},"
      "\"steps\":4,\"flag\":true,\"none\":null}");
  g_free (text);
  json_node_unref (args);

  /* Instantiation leaves the template untouched; unknown PTS is null. */
  args = gst_fal_arguments_template_instantiate (tmpl, NULL,
      GST_CLOCK_TIME_NONE, 0);
  text = node_to_string (args);
  fail_unless_equals_string (text, "{\"input\":{\"images\":[null,{\"u\":null}],"
      "\"t\":null,\"n\":0,\"label\":\"frame 0 at \"},"
      "\"steps\":4,\"flag\":true,\"none\":null}");
  g_free (text);
  json_node_unref (args);
}

GST_END_TEST;

GST_START_TEST (test_template_without_frame_and_invalid)
{
  GstFalArgumentsTemplate *tmpl;
  GError *error = NULL;
  JsonNode *args;
  gchar *text;

  tmpl = gst_fal_arguments_template_new ("{\"prompt\": \"a cat #{{index}}\"}",
      &error);
  fail_unless (tmpl != NULL);
  fail_if (gst_fal_arguments_template_uses_frame (tmpl));
  args = gst_fal_arguments_template_instantiate (tmpl, NULL, 0, 12);
  text = node_to_string (args);
  fail_unless_equals_string (text, "{\"prompt\":\"a cat #12\"}");
  g_free (text);
  json_node_unref (args);
  gst_fal_arguments_template_free (tmpl);

  tmpl = gst_fal_arguments_template_new ("[\"{{frame}}\"]", &error);
  fail_unless (tmpl == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);

  tmpl = gst_fal_arguments_template_new ("{\"image_url\": ", &error);
  fail_unless (tmpl == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
}

GST_END_TEST;

GST_START_TEST (test_data_uri_round_trip)
{
  guint8 raw[256];
  GBytes *bytes, *decoded;
  gchar *uri, *content_type = NULL;
  GError *error = NULL;
  guint i;

  for (i = 0; i < sizeof (raw); i++)
    raw[i] = i;
  bytes = g_bytes_new (raw, sizeof (raw));
  uri = gst_fal_encode_data_uri (bytes, "image/png");
  fail_unless (g_str_has_prefix (uri, "data:image/png;base64,"));
  decoded = gst_fal_decode_data_uri (uri, &content_type, &error);
  fail_unless (decoded != NULL, "%s", error ? error->message : "");
  fail_unless_equals_string (content_type, "image/png");
  fail_unless (g_bytes_equal (bytes, decoded));
  g_bytes_unref (decoded);
  g_free (content_type);
  g_free (uri);

  /* Empty data, default type. */
  g_bytes_unref (bytes);
  bytes = g_bytes_new (NULL, 0);
  uri = gst_fal_encode_data_uri (bytes, NULL);
  fail_unless_equals_string (uri, "data:application/octet-stream;base64,");
  decoded = gst_fal_decode_data_uri (uri, NULL, &error);
  fail_unless (decoded != NULL);
  fail_unless_equals_int (g_bytes_get_size (decoded), 0);
  g_bytes_unref (decoded);
  g_bytes_unref (bytes);
  g_free (uri);
}

GST_END_TEST;

GST_START_TEST (test_data_uri_forms)
{
  GBytes *decoded;
  gchar *content_type = NULL;
  GError *error = NULL;

  /* Percent-encoded, no type: the RFC 2397 default. */
  decoded = gst_fal_decode_data_uri ("data:,Hello%2C%20World%21",
      &content_type, &error);
  fail_unless (decoded != NULL);
  fail_unless_equals_string (content_type, "text/plain;charset=US-ASCII");
  fail_unless_equals_int (g_bytes_get_size (decoded), 13);
  fail_unless (!memcmp (g_bytes_get_data (decoded, NULL), "Hello, World!", 13));
  g_bytes_unref (decoded);
  g_clear_pointer (&content_type, g_free);

  /* Parameters kept, base64 case-insensitive, percent-escaped padding. */
  decoded = gst_fal_decode_data_uri ("DATA:text/plain;charset=utf-8;BASE64,"
      "aGk%3D", &content_type, &error);
  fail_unless (decoded != NULL);
  fail_unless_equals_string (content_type, "text/plain;charset=utf-8");
  fail_unless_equals_int (g_bytes_get_size (decoded), 2);
  fail_unless (!memcmp (g_bytes_get_data (decoded, NULL), "hi", 2));
  g_bytes_unref (decoded);
  g_clear_pointer (&content_type, g_free);

  /* Errors. */
  decoded = gst_fal_decode_data_uri ("http://example.com/a.png", NULL, &error);
  fail_unless (decoded == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  decoded = gst_fal_decode_data_uri ("data:image/png;base64", NULL, &error);
  fail_unless (decoded == NULL);
  g_clear_error (&error);
  decoded = gst_fal_decode_data_uri ("data:image/png;base64,ab*d", NULL,
      &error);
  fail_unless (decoded == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  decoded = gst_fal_decode_data_uri ("data:,bad%zzescape", NULL, &error);
  fail_unless (decoded == NULL);
  g_clear_error (&error);
}

GST_END_TEST;

GST_START_TEST (test_image_format_enum)
{
  GEnumClass *klass = g_type_class_ref (GST_FAL_TYPE_IMAGE_FORMAT);

  fail_unless_equals_int (g_enum_get_value_by_nick (klass, "jpeg")->value,
      GST_FAL_IMAGE_FORMAT_JPEG);
  fail_unless_equals_int (g_enum_get_value_by_nick (klass, "png")->value,
      GST_FAL_IMAGE_FORMAT_PNG);
  g_type_class_unref (klass);
}

GST_END_TEST;

static Suite *
frame_suite (void)
{
  Suite *s = suite_create ("falframe");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_encode_jpeg_scaled);
  tcase_add_test (tc, test_encode_png_portrait_and_caps_change);
  tcase_add_test (tc, test_encode_no_scaling);
  tcase_add_test (tc, test_encode_passthrough_and_errors);
  tcase_add_test (tc, test_encode_from_threads);
  tcase_add_test (tc, test_template_default);
  tcase_add_test (tc, test_template_nested);
  tcase_add_test (tc, test_template_without_frame_and_invalid);
  tcase_add_test (tc, test_data_uri_round_trip);
  tcase_add_test (tc, test_data_uri_forms);
  tcase_add_test (tc, test_image_format_enum);
  return s;
}

GST_CHECK_MAIN (frame);
