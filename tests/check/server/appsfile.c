/* Apps declared in a key file (--apps), through the server's HTTP API */
#include <glib/gstdio.h>
#include "server/apps-common.h"
#include "falserver/gstfalapp.h"

static gchar *apps_dir;
static gchar *apps_path;

static const gchar apps_file[] =
    "# apps of the test\n"
    "[test/grey]\n"
    "description=Makes the image grey, with adjustable brightness\n"
    "pipeline=videoconvert ! videobalance name=balance saturation=0\n"
    "input=image_url\n"
    "inputs=brightness=balance.brightness;contrast=balance.contrast\n"
    "output=image\n"
    "\n"
    "[test/codes]\n"
    "description=The raw barcode messages of zbar\n"
    "pipeline=videoconvert ! zbar\n"
    "output=messages:barcode\n"
    "\n"
    "[test/turn]\n"
    "pipeline=videoflip name=flip\n"
    "inputs=method=flip.method\n"
    "\n"
    "[test/small]\n"
    "description=Takes images of at most 100x80 pixels and 2 MB\n"
    "pipeline=videobalance name=balance\n"
    "inputs=saturation=balance.saturation;hue=balance.hue\n"
    "max-width=100\n" "max-height=80\n" "max-fetch-bytes=2000000\n"
    "\n"
    "[test/stuck]\n"
    "description=Never ends: the valve drops the frame and the end of stream\n"
    "pipeline=valve drop=true\n"
    "\n"
    "[local/echo]\n"
    "description=Replaced: a flipped image\n"
    "pipeline=videoflip method=horizontal-flip\n" "output=image/jpeg\n";

static gchar *
write_apps_file (const gchar * contents)
{
  gchar *path = g_build_filename (apps_dir, "apps.ini", NULL);
  GError *error = NULL;

  fail_unless (g_file_set_contents (path, contents, -1, &error), "%s",
      error ? error->message : "");
  return path;
}

static void
setup (void)
{
  apps_dir = g_dir_make_tmp ("gst-fal-appsfile-XXXXXX", NULL);
  fail_unless (apps_dir != NULL);
  apps_path = write_apps_file (apps_file);
  start_server (apps_path);
}

static void
teardown (void)
{
  stop_server ();
  g_unlink (apps_path);
  g_rmdir (apps_dir);
  g_clear_pointer (&apps_path, g_free);
  g_clear_pointer (&apps_dir, g_free);
}

/* A colourful 160x120 PNG. */
static GBytes *
make_colour_png (void)
{
  GstSample *sample = pull_sample ("videotestsrc num-buffers=1 "
      "pattern=smpte ! video/x-raw,width=160,height=120 ! videoconvert ! "
      "pngenc ! appsink name=sink sync=false", NULL);
  GBytes *bytes = sample_bytes (sample);

  gst_sample_unref (sample);
  return bytes;
}

static gchar *
input_with (GBytes * png, const gchar * extra)
{
  gchar *uri = data_uri (png, "image/png");
  gchar *input = g_strdup_printf ("{\"image_url\": \"%s\"%s}", uri,
      extra ? extra : "");

  g_free (uri);
  return input;
}

/* Mean brightness and largest channel spread of an RGB sample. */
static void
measure (GstSample * sample, gdouble * mean, gint * spread)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  gint x, y;
  guint64 total = 0;

  *spread = 0;
  gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
  fail_unless (gst_video_frame_map (&frame, &info,
          gst_sample_get_buffer (sample), GST_MAP_READ));
  for (y = 0; y < GST_VIDEO_INFO_HEIGHT (&info); y++)
    for (x = 0; x < GST_VIDEO_INFO_WIDTH (&info); x++) {
      const guint8 *p = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + x * 3;
      gint lo = MIN (p[0], MIN (p[1], p[2]));
      gint hi = MAX (p[0], MAX (p[1], p[2]));

      *spread = MAX (*spread, hi - lo);
      total += p[0] + p[1] + p[2];
    }
  *mean = (gdouble) total / (3.0 * GST_VIDEO_INFO_WIDTH (&info) *
      GST_VIDEO_INFO_HEIGHT (&info));
  gst_video_frame_unmap (&frame);
}

GST_START_TEST (test_image_app)
{
  GBytes *png = make_colour_png ();
  gchar *input = input_with (png, NULL);
  JsonObject *output = run_app ("test/grey", input, 200);
  GstSample *grey, *original;
  gdouble mean, dark_mean, original_mean;
  gint spread, width, height;

  original = decode_rgb (png);
  measure (original, &original_mean, &spread);
  fail_unless (spread > 100, "the input is not colourful");
  gst_sample_unref (original);

  grey = fetch_output_image (output, &width, &height);
  fail_unless_equals_int (width, 160);
  fail_unless_equals_int (height, 120);
  measure (grey, &mean, &spread);
  fail_unless (spread <= 6, "not grey: channels differ by %d", spread);
  gst_sample_unref (grey);
  json_object_unref (output);
  g_free (input);

  /* an input field mapped to videobalance's brightness */
  input = input_with (png, ", \"brightness\": -0.5");
  output = run_app ("test/grey", input, 200);
  grey = fetch_output_image (output, &width, &height);
  measure (grey, &dark_mean, &spread);
  fail_unless (dark_mean < mean - 40, "brightness -0.5: %f, 0: %f",
      dark_mean, mean);
  gst_sample_unref (grey);
  json_object_unref (output);
  g_free (input);

  g_bytes_unref (png);
}

GST_END_TEST;

GST_START_TEST (test_validation_from_pspec)
{
  GBytes *png = make_colour_png ();
  gchar *input = input_with (png, ", \"brightness\": 5");
  JsonObject *answer = run_app ("test/grey", input, 422);
  JsonObject *item = json_array_get_object_element
      (json_object_get_array_member (answer, "detail"), 0);
  JsonArray *loc = json_object_get_array_member (item, "loc");

  fail_unless_equals_string (json_array_get_string_element (loc, 1),
      "brightness");
  fail_unless_equals_string (json_object_get_string_member (item, "type"),
      "less_than_equal");
  json_object_unref (answer);
  g_free (input);

  input = input_with (png, ", \"contrast\": \"high\"");
  answer = run_app ("test/grey", input, 422);
  item = json_array_get_object_element (json_object_get_array_member (answer,
          "detail"), 0);
  fail_unless_equals_string (json_array_get_string_element
      (json_object_get_array_member (item, "loc"), 1), "contrast");
  json_object_unref (answer);
  g_free (input);
  g_bytes_unref (png);
}

GST_END_TEST;

GST_START_TEST (test_messages_app)
{
  GstSample *sample = pull_sample ("videotestsrc num-buffers=1 pattern=white "
      "! video/x-raw,width=240,height=240 ! qroverlay case-sensitive=true "
      "data=\"from a file\" ! videoconvert ! pngenc ! appsink name=sink "
      "sync=false", NULL);
  GBytes *png = sample_bytes (sample);
  gchar *input = input_with (png, NULL);
  JsonObject *output = run_app ("test/codes", input, 200);
  JsonArray *messages = json_object_get_array_member (output, "messages");
  JsonObject *message;

  fail_unless_equals_int (json_array_get_length (messages), 1);
  message = json_array_get_object_element (messages, 0);
  fail_unless_equals_string (json_object_get_string_member (message, "name"),
      "barcode");
  fail_unless_equals_string (json_object_get_string_member (message,
          "symbol"), "from a file");
  fail_unless_equals_string (json_object_get_string_member (message, "type"),
      "QR-Code");
  fail_unless_equals_int (json_object_get_int_member (output, "width"), 240);

  json_object_unref (output);
  g_free (input);
  g_bytes_unref (png);
  gst_sample_unref (sample);
}

GST_END_TEST;

/* An enum property mapped from its nick. */
GST_START_TEST (test_enum_input)
{
  GBytes *png = make_colour_png ();
  gchar *input = input_with (png, ", \"method\": \"clockwise\"");
  JsonObject *output = run_app ("test/turn", input, 200);
  JsonObject *image = json_object_get_object_member (output, "image");
  JsonObject *item;

  fail_unless_equals_int (json_object_get_int_member (image, "width"), 120);
  fail_unless_equals_int (json_object_get_int_member (image, "height"), 160);
  json_object_unref (output);
  g_free (input);

  input = input_with (png, ", \"method\": \"sideways\"");
  output = run_app ("test/turn", input, 422);
  item = json_array_get_object_element (json_object_get_array_member (output,
          "detail"), 0);
  fail_unless_equals_string (json_object_get_string_member (item, "type"),
      "enum");
  json_object_unref (output);
  g_free (input);
  g_bytes_unref (png);
}

GST_END_TEST;

/* A file app replaces a built-in of the same name. */
GST_START_TEST (test_replaces_builtin)
{
  GBytes *png = make_colour_png ();
  gchar *input = input_with (png, NULL);
  JsonObject *output = run_app ("local/echo", input, 200);
  JsonObject *image = json_object_get_object_member (output, "image");

  fail_unless (image != NULL);
  fail_unless_equals_string (json_object_get_string_member (image,
          "content_type"), "image/jpeg");
  fail_unless_equals_int (json_object_get_int_member (image, "width"), 160);
  json_object_unref (output);
  g_free (input);
  g_bytes_unref (png);
}

GST_END_TEST;

GST_START_TEST (test_openapi_and_list)
{
  guint status = 0;
  JsonNode *doc = http_json ("GET", "/run/test/grey/openapi.json", NULL,
      &status);
  JsonObject *properties, *brightness;
  GPtrArray *apps;
  guint i;
  gboolean listed = FALSE;

  fail_unless_equals_int (status, 200);
  properties = json_node_get_object (doc);
  properties = json_object_get_object_member (properties, "components");
  properties = json_object_get_object_member (properties, "schemas");
  properties = json_object_get_object_member (properties, "Input");
  properties = json_object_get_object_member (properties, "properties");
  fail_unless (json_object_has_member (properties, "image_url"));
  brightness = json_object_get_object_member (properties, "brightness");
  fail_unless_equals_string (json_object_get_string_member (brightness,
          "type"), "number");
  fail_unless_equals_float (json_object_get_double_member (brightness,
          "minimum"), -1.0);
  fail_unless_equals_float (json_object_get_double_member (brightness,
          "maximum"), 1.0);
  json_node_unref (doc);

  apps = gst_fal_server_list_apps (server);
  for (i = 0; i < apps->len; i++) {
    if (i > 0)
      fail_unless (g_strcmp0 (g_ptr_array_index (apps, i - 1),
              g_ptr_array_index (apps, i)) < 0, "not sorted");
    if (g_str_equal (g_ptr_array_index (apps, i),
            "test/grey\tMakes the image grey, with adjustable brightness"))
      listed = TRUE;
  }
  fail_unless (listed);
  g_ptr_array_unref (apps);
}

GST_END_TEST;

/* An app's limits are declared in its openapi.json and enforced; the
 * input's properties are listed in their order */
GST_START_TEST (test_limits_and_order)
{
  guint status = 0;
  JsonNode *doc = http_json ("GET", "/queue/test/small/openapi.json", NULL,
      &status);
  JsonObject *input, *image_url;
  JsonArray *order;
  GBytes *png = make_colour_png ();
  gchar *text = input_with (png, NULL);
  JsonObject *output;
  const gchar *msg;

  fail_unless_equals_int (status, 200);
  input = json_node_get_object (doc);
  input = json_object_get_object_member (input, "components");
  input = json_object_get_object_member (input, "schemas");
  input = json_object_get_object_member (input, "Input");
  order = json_object_get_array_member (input, "x-fal-order-properties");
  fail_unless_equals_int (json_array_get_length (order), 3);
  fail_unless_equals_string (json_array_get_string_element (order, 0),
      "image_url");
  fail_unless_equals_string (json_array_get_string_element (order, 1),
      "saturation");
  fail_unless_equals_string (json_array_get_string_element (order, 2), "hue");
  image_url = json_object_get_object_member (json_object_get_object_member
      (input, "properties"), "image_url");
  fail_unless_equals_int (json_object_get_int_member (image_url,
          "x-fal-max-width"), 100);
  fail_unless_equals_int (json_object_get_int_member (image_url,
          "x-fal-max-height"), 80);
  fail_unless_equals_int (json_object_get_int_member (image_url,
          "x-fal-max-file-size"), 2000000);
  fail_if (json_object_has_member (image_url, "x-fal-max-pixels"));
  json_node_unref (doc);

  /* the 160x120 image is too wide */
  output = run_app ("test/small", text, 422);
  msg = json_object_get_string_member (json_array_get_object_element
      (json_object_get_array_member (output, "detail"), 0), "msg");
  fail_unless (strstr (msg, "160 pixels wide, more than the limit of 100 "
          "(max-width)"), "%s", msg);
  json_object_unref (output);
  g_free (text);
  g_bytes_unref (png);
}

GST_END_TEST;

/* A cancel stops a pipeline that would run for ever. */
GST_START_TEST (test_cancel_pipeline)
{
  GBytes *png = make_colour_png ();
  gchar *input = input_with (png, NULL);

  fail_unless_equals_int (cancel_while_running ("test/stuck", input), 499);
  g_free (input);
  g_bytes_unref (png);
}

GST_END_TEST;

static void
check_rejected (const gchar * contents, const gchar * expected)
{
  GstFalAppRegistry *registry = gst_fal_app_registry_new ();
  gchar *path = write_apps_file (contents);
  GError *error = NULL;

  fail_if (gst_fal_apps_register_from_file (registry, path, &error));
  fail_unless (error != NULL);
  fail_unless (strstr (error->message, expected) != NULL,
      "\"%s\" does not say \"%s\"", error->message, expected);
  g_error_free (error);
  g_free (path);
  gst_fal_app_registry_free (registry);
}

GST_START_TEST (test_bad_files)
{
  check_rejected ("[test/x]\npipeline=videoconvert ! nosuchelement\n",
      "test/x");
  check_rejected ("[test/x]\npipeline=videoconvert\noutput=sound\n",
      "unknown output");
  check_rejected ("[test/x]\npipeline=videobalance name=b\n"
      "inputs=level=b.nosuchproperty\n", "nosuchproperty");
  check_rejected ("[test/x]\npipeline=videobalance name=b\n"
      "inputs=level\n", "field=element.property");
  check_rejected ("[test/x]\npipeline=capsfilter name=c\n"
      "inputs=caps=c.caps\n", "GstCaps");
  check_rejected ("[x]\npipeline=videoconvert\n", "owner/alias");
  check_rejected ("[test/x]\ndescription=no pipeline\n", "pipeline");
  check_rejected ("not a key file", "");
  /* backends */
  check_rejected ("[test/x]\nbackend=ftp://127.0.0.1/\n",
      "is not an http(s) URL");
  check_rejected ("[test/x]\nbackend=http://127.0.0.1:1\n"
      "pipeline=videoconvert\n", "a pipeline or a backend, not both");
  check_rejected ("[test/x]\nbackend=http://127.0.0.1:1\n"
      "backend-timeout=soon\n", "backend-timeout must be a positive number");
}

GST_END_TEST;

GST_START_TEST (test_registry)
{
  GstFalAppRegistry *registry = gst_fal_app_registry_new ();
  gchar *path = write_apps_file (apps_file);
  GError *error = NULL;
  GPtrArray *list;
  const GstFalAppInfo *info;
  gchar *openapi;
  JsonNode *doc;

  gst_fal_apps_register_builtin (registry);
  fail_unless (gst_fal_apps_register_from_file (registry, path, &error));
  list = gst_fal_app_registry_list (registry);
  fail_unless_equals_string (((GstFalAppInfo *) g_ptr_array_index (list,
              0))->name, "local/barcode");
  fail_unless_equals_string (((GstFalAppInfo *) g_ptr_array_index (list,
              list->len - 1))->name, "test/turn");
  g_ptr_array_unref (list);

  fail_unless (gst_fal_app_registry_lookup (registry, "test/nothing") == NULL);
  info = gst_fal_app_registry_lookup (registry, "test/codes");
  fail_unless (info != NULL);
  openapi = gst_fal_app_info_get_openapi (info);
  doc = json_from_string (openapi, NULL);
  fail_unless (doc != NULL);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (json_node_get_object (doc), "info"),
          "title"), "test/codes");
  json_node_unref (doc);
  g_free (openapi);
  g_free (path);
  gst_fal_app_registry_free (registry);
}

GST_END_TEST;

static Suite *
appsfile_suite (void)
{
  Suite *s = suite_create ("server-appsfile");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_image_app);
  tcase_add_test (tc, test_validation_from_pspec);
  tcase_add_test (tc, test_messages_app);
  tcase_add_test (tc, test_enum_input);
  tcase_add_test (tc, test_replaces_builtin);
  tcase_add_test (tc, test_openapi_and_list);
  tcase_add_test (tc, test_limits_and_order);
  tcase_add_test (tc, test_cancel_pipeline);
  tcase_add_test (tc, test_bad_files);
  tcase_add_test (tc, test_registry);
  return s;
}

GST_CHECK_MAIN (appsfile);
