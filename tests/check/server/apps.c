/* The built-in apps of the local server, through its HTTP API */
#include "server/apps-common.h"

static void
setup (void)
{
  start_server (NULL);
}

static void
teardown (void)
{
  stop_server ();
}

/* A PNG of a QR code holding @text, drawn by qroverlay. */
static GBytes *
make_qr_png (const gchar * text)
{
  gchar *description = g_strdup_printf ("videotestsrc num-buffers=1 "
      "pattern=white ! video/x-raw,width=320,height=240 ! qroverlay "
      "case-sensitive=true data=\"%s\" ! videoconvert ! pngenc ! "
      "appsink name=sink sync=false", text);
  GstSample *sample = pull_sample (description, NULL);
  GBytes *bytes = sample_bytes (sample);

  gst_sample_unref (sample);
  g_free (description);
  return bytes;
}

static gchar *
image_input (GBytes * image, const gchar * content_type)
{
  gchar *uri = data_uri (image, content_type);
  gchar *input = g_strdup_printf ("{\"image_url\": \"%s\"}", uri);

  g_free (uri);
  return input;
}

static const gchar *
first_detail_loc (JsonObject * answer, guint index)
{
  JsonArray *detail = json_object_get_array_member (answer, "detail");
  JsonObject *item;

  fail_unless (detail != NULL && json_array_get_length (detail) > 0);
  item = json_array_get_object_element (detail, 0);
  return json_array_get_string_element (json_object_get_array_member (item,
          "loc"), index);
}

GST_START_TEST (test_echo)
{
  JsonObject *output = run_app ("local/echo",
      "{\"a\": [1, 2, {\"b\": null}], \"s\": \"x\"}", 200);
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gchar *text;

  json_node_set_object (node, output);
  text = json_to_string (node, FALSE);
  fail_unless_equals_string (text, "{\"a\":[1,2,{\"b\":null}],\"s\":\"x\"}");
  g_free (text);
  json_node_unref (node);
  json_object_unref (output);
}

GST_END_TEST;

GST_START_TEST (test_sleep)
{
  JsonObject *output = run_app ("local/sleep",
      "{\"seconds\": 0.2, \"logs\": 3}", 200);

  fail_unless_equals_float (json_object_get_double_member (output, "slept"),
      0.2);
  json_object_unref (output);
}

GST_END_TEST;

GST_START_TEST (test_sleep_validation)
{
  JsonObject *answer = run_app ("local/sleep",
      "{\"seconds\": \"long\", \"logs\": 2}", 422);
  JsonObject *item = json_array_get_object_element
      (json_object_get_array_member (answer, "detail"), 0);

  fail_unless_equals_string (first_detail_loc (answer, 0), "body");
  fail_unless_equals_string (first_detail_loc (answer, 1), "seconds");
  fail_unless_equals_string (json_object_get_string_member (item, "type"),
      "float_type");
  json_object_unref (answer);

  answer = run_app ("local/sleep", "{\"logs\": 2}", 422);
  item = json_array_get_object_element (json_object_get_array_member (answer,
          "detail"), 0);
  fail_unless_equals_string (first_detail_loc (answer, 1), "seconds");
  fail_unless_equals_string (json_object_get_string_member (item, "type"),
      "missing");
  json_object_unref (answer);

  answer = run_app ("local/sleep", "{\"seconds\": -1}", 422);
  fail_unless_equals_string (first_detail_loc (answer, 1), "seconds");
  json_object_unref (answer);
}

GST_END_TEST;

/* A running sleep is stopped by a cancel: the request completes long
 * before the hour it asked for. */
GST_START_TEST (test_sleep_cancel)
{
  guint status = cancel_while_running ("local/sleep",
      "{\"seconds\": 3600, \"logs\": 3600}");

  fail_unless_equals_int (status, 499);
}

GST_END_TEST;

GST_START_TEST (test_fail)
{
  JsonObject *answer = run_app ("local/fail", "{\"status\": 503, "
      "\"detail\": \"GPU error\", \"error_type\": \"runner_server_error\"}",
      503);

  fail_unless_equals_string (json_object_get_string_member (answer, "detail"),
      "GPU error");
  json_object_unref (answer);

  answer = run_app ("local/fail", "{\"status\": 418, \"detail\": [{\"loc\": "
      "[\"body\", \"x\"], \"msg\": \"no\", \"type\": \"value_error\"}]}", 418);
  fail_unless_equals_string (first_detail_loc (answer, 1), "x");
  json_object_unref (answer);
}

GST_END_TEST;

GST_START_TEST (test_counter)
{
  JsonObject *output = run_app ("local/counter",
      "{\"count\": 4, \"interval\": 0.01}", 200);

  fail_unless_equals_int (json_object_get_int_member (output, "count"), 4);
  json_object_unref (output);
}

GST_END_TEST;

/* On /stream, the counter's partial events then its final output. */
GST_START_TEST (test_counter_stream)
{
  gchar *url = g_strconcat (gst_fal_server_get_url (server),
      "/run/local/counter/stream", NULL);
  SoupMessage *msg = soup_message_new ("POST", url);
  const gchar body[] = "{\"count\": 3, \"interval\": 0.01}";
  GBytes *request = g_bytes_new_static (body, strlen (body));
  GBytes *answer;
  gchar **lines, **line;
  GPtrArray *events = g_ptr_array_new_with_free_func (
      (GDestroyNotify) json_node_unref);
  guint i;

  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  answer = soup_session_send_and_read (session, msg, NULL, NULL);
  fail_unless (answer != NULL);
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  lines = g_strsplit (g_bytes_get_data (answer, NULL), "\n", -1);
  for (line = lines; *line; line++)
    if (g_str_has_prefix (*line, "data: "))
      g_ptr_array_add (events, json_from_string (*line + 6, NULL));

  fail_unless_equals_int (events->len, 4);
  for (i = 0; i < 3; i++) {
    JsonObject *event = json_node_get_object (g_ptr_array_index (events, i));
    fail_unless_equals_int (json_object_get_int_member (event, "index"), i);
    fail_unless_equals_int (json_object_get_int_member (event, "count"), 3);
  }
  fail_unless_equals_int (json_object_get_int_member (json_node_get_object
          (g_ptr_array_index (events, 3)), "count"), 3);
  fail_if (json_object_has_member (json_node_get_object (g_ptr_array_index
              (events, 3)), "index"));

  g_strfreev (lines);
  g_ptr_array_unref (events);
  g_bytes_unref (answer);
  g_bytes_unref (request);
  g_object_unref (msg);
  g_free (url);
}

GST_END_TEST;

/* The log lines of a sleep, in its status on the queue. */
GST_START_TEST (test_sleep_logs)
{
  JsonNode *input = json_from_string ("{\"seconds\": 0.3, \"logs\": 3}",
      NULL);
  JsonNode *answer, *status_node;
  JsonArray *logs;
  gchar *status_path, *with_logs;
  guint status = 0, i;

  answer = http_json ("POST", "/queue/local/sleep", input, &status);
  status_path = g_strdup_printf ("/queue/local/sleep/requests/%s/status",
      json_object_get_string_member (json_node_get_object (answer),
          "request_id"));
  while (!g_str_equal (request_state (status_path), "COMPLETED"))
    g_usleep (20 * 1000);

  with_logs = g_strconcat (status_path, "?logs=1", NULL);
  status_node = http_json ("GET", with_logs, NULL, &status);
  fail_unless_equals_int (status, 200);
  logs = json_object_get_array_member (json_node_get_object (status_node),
      "logs");
  fail_unless_equals_int (json_array_get_length (logs), 3);
  for (i = 0; i < 3; i++) {
    JsonObject *log = json_array_get_object_element (logs, i);
    gchar *expected = g_strdup_printf ("sleeping: %u/3", i + 1);

    fail_unless_equals_string (json_object_get_string_member (log, "message"),
        expected);
    g_free (expected);
  }

  json_node_unref (status_node);
  g_free (with_logs);
  g_free (status_path);
  json_node_unref (answer);
  json_node_unref (input);
}

GST_END_TEST;

GST_START_TEST (test_barcode_qr)
{
  GBytes *png = make_qr_png ("hello");
  gchar *input = image_input (png, "image/png");
  JsonObject *output = run_app ("local/barcode", input, 200);
  JsonArray *symbols = json_object_get_array_member (output, "symbols");
  JsonObject *symbol, *box;
  gint64 x, y, w, h;

  fail_unless_equals_int (json_array_get_length (symbols), 1);
  symbol = json_array_get_object_element (symbols, 0);
  fail_unless_equals_string (json_object_get_string_member (symbol, "type"),
      "QR-Code");
  fail_unless_equals_string (json_object_get_string_member (symbol, "data"),
      "hello");
  fail_unless_equals_int (json_object_get_int_member (output, "width"), 320);
  fail_unless_equals_int (json_object_get_int_member (output, "height"), 240);

  /* qroverlay centres the code: the box must hold the centre, in the image */
  box = json_object_get_object_member (symbol, "box");
  fail_unless (box != NULL);
  x = json_object_get_int_member (box, "x");
  y = json_object_get_int_member (box, "y");
  w = json_object_get_int_member (box, "w");
  h = json_object_get_int_member (box, "h");
  fail_unless (w >= 21 && h >= 21, "box %" G_GINT64_FORMAT "x%"
      G_GINT64_FORMAT " smaller than a QR code", w, h);
  fail_unless (x >= 0 && y >= 0 && x + w <= 320 && y + h <= 240);
  fail_unless (x < 160 && x + w > 160 && y < 120 && y + h > 120);

  json_object_unref (output);
  g_free (input);
  g_bytes_unref (png);
}

GST_END_TEST;

GST_START_TEST (test_barcode_nothing)
{
  GBytes *jpeg = read_test_file ("messi5.jpg");
  gchar *input = image_input (jpeg, "image/jpeg");
  JsonObject *output = run_app ("local/barcode", input, 200);

  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (output, "symbols")), 0);
  json_object_unref (output);
  g_free (input);
  g_bytes_unref (jpeg);
}

GST_END_TEST;

GST_START_TEST (test_image_errors)
{
  JsonObject *answer = run_app ("local/barcode", "{}", 422);
  JsonObject *item;

  fail_unless_equals_string (first_detail_loc (answer, 1), "image_url");
  json_object_unref (answer);

  answer = run_app ("local/edge-detection",
      "{\"image_url\": \"data:text/plain;base64,aGVsbG8gd29ybGQ=\"}", 422);
  fail_unless_equals_string (first_detail_loc (answer, 1), "image_url");
  item = json_array_get_object_element (json_object_get_array_member (answer,
          "detail"), 0);
  fail_unless (strstr (json_object_get_string_member (item, "msg"),
          "not an image") != NULL);
  json_object_unref (answer);
}

GST_END_TEST;

/* The face boxes of messi5.jpg, checked to lie in the image. */
static JsonArray *
detect_faces (GBytes * jpeg)
{
  gchar *input = image_input (jpeg, "image/jpeg");
  JsonObject *output = run_app ("local/face-detection", input, 200);
  JsonArray *faces = json_array_ref (json_object_get_array_member (output,
          "faces"));
  gint64 width = json_object_get_int_member (output, "width");
  gint64 height = json_object_get_int_member (output, "height");
  guint i;

  fail_unless_equals_int (width, 548);
  fail_unless_equals_int (height, 342);
  fail_unless (json_array_get_length (faces) >= 1);
  for (i = 0; i < json_array_get_length (faces); i++) {
    JsonObject *face = json_array_get_object_element (faces, i);
    JsonObject *box = json_object_get_object_member (face, "box");
    gint64 x = json_object_get_int_member (box, "x");
    gint64 y = json_object_get_int_member (box, "y");
    gint64 w = json_object_get_int_member (box, "w");
    gint64 h = json_object_get_int_member (box, "h");

    fail_unless (w > 0 && h > 0 && x >= 0 && y >= 0);
    fail_unless (x + w <= width && y + h <= height);
    fail_unless (json_object_has_member (face, "score"));
  }
  json_object_unref (output);
  g_free (input);
  return faces;
}

GST_START_TEST (test_face_detection)
{
  GBytes *jpeg = read_test_file ("messi5.jpg");
  JsonArray *faces = detect_faces (jpeg);
  JsonObject *box = json_object_get_object_member
      (json_array_get_object_element (faces, 0), "box");

  /* the player's face is in the upper middle of the photograph */
  fail_unless (json_object_get_int_member (box, "x") > 150);
  fail_unless (json_object_get_int_member (box, "x") < 350);
  fail_unless (json_object_get_int_member (box, "y") < 171);
  json_array_unref (faces);
  g_bytes_unref (jpeg);
}

GST_END_TEST;

/* Mean absolute difference of two RGB frames over a rectangle. */
static gdouble
mean_difference (GstVideoFrame * a, GstVideoFrame * b, gint x0, gint y0,
    gint x1, gint y1, gboolean inside)
{
  gint width = GST_VIDEO_FRAME_WIDTH (a), height = GST_VIDEO_FRAME_HEIGHT (a);
  gint x, y, c;
  guint64 total = 0, count = 0;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      gboolean in = x >= x0 && x < x1 && y >= y0 && y < y1;
      const guint8 *pa, *pb;

      if (in != inside)
        continue;
      pa = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (a, 0) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (a, 0) + x * 3;
      pb = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (b, 0) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (b, 0) + x * 3;
      for (c = 0; c < 3; c++)
        total += ABS ((gint) pa[c] - (gint) pb[c]);
      count += 3;
    }
  return count ? (gdouble) total / count : 0.0;
}

GST_START_TEST (test_face_blur)
{
  GBytes *jpeg = read_test_file ("messi5.jpg");
  JsonArray *faces = detect_faces (jpeg);
  JsonObject *box = json_object_get_object_member
      (json_array_get_object_element (faces, 0), "box");
  gint x = json_object_get_int_member (box, "x");
  gint y = json_object_get_int_member (box, "y");
  gint w = json_object_get_int_member (box, "w");
  gint h = json_object_get_int_member (box, "h");
  gchar *input = image_input (jpeg, "image/jpeg");
  JsonObject *output = run_app ("local/face-blur", input, 200);
  GstSample *blurred, *original;
  GstVideoInfo info_b, info_o;
  GstVideoFrame frame_b, frame_o;
  gint width, height;
  gdouble in_face, elsewhere;

  blurred = fetch_output_image (output, &width, &height);
  original = decode_rgb (jpeg);
  fail_unless_equals_int (width, 548);
  fail_unless_equals_int (height, 342);

  gst_video_info_from_caps (&info_b, gst_sample_get_caps (blurred));
  gst_video_info_from_caps (&info_o, gst_sample_get_caps (original));
  fail_unless (gst_video_frame_map (&frame_b, &info_b,
          gst_sample_get_buffer (blurred), GST_MAP_READ));
  fail_unless (gst_video_frame_map (&frame_o, &info_o,
          gst_sample_get_buffer (original), GST_MAP_READ));
  in_face = mean_difference (&frame_b, &frame_o, x, y, x + w, y + h, TRUE);
  elsewhere = mean_difference (&frame_b, &frame_o, x, y, x + w, y + h, FALSE);
  gst_video_frame_unmap (&frame_b);
  gst_video_frame_unmap (&frame_o);

  /* the face changed, much more than the rest of the picture did */
  fail_unless (in_face > 4.0, "face barely changed: %f", in_face);
  fail_unless (in_face > 4 * elsewhere + 1, "face %f vs elsewhere %f",
      in_face, elsewhere);

  gst_sample_unref (blurred);
  gst_sample_unref (original);
  json_object_unref (output);
  json_array_unref (faces);
  g_free (input);
  g_bytes_unref (jpeg);
}

GST_END_TEST;

GST_START_TEST (test_edge_detection)
{
  GBytes *jpeg = read_test_file ("messi5.jpg");
  gchar *input = image_input (jpeg, "image/jpeg");
  JsonObject *output = run_app ("local/edge-detection", input, 200);
  GstSample *edges;
  GstVideoFrame frame;
  GstVideoInfo info;
  gint width, height, x, y;
  guint dark = 0, bright = 0;

  edges = fetch_output_image (output, &width, &height);
  fail_unless_equals_int (width, 548);
  fail_unless_equals_int (height, 342);

  /* Canny edges: mostly black, with some white lines */
  gst_video_info_from_caps (&info, gst_sample_get_caps (edges));
  fail_unless (gst_video_frame_map (&frame, &info,
          gst_sample_get_buffer (edges), GST_MAP_READ));
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      const guint8 *p = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + x * 3;
      if (p[0] < 32 && p[1] < 32 && p[2] < 32)
        dark++;
      else if (p[0] > 200 && p[1] > 200 && p[2] > 200)
        bright++;
    }
  gst_video_frame_unmap (&frame);
  fail_unless (dark > (guint) (width * height) / 2, "dark %u", dark);
  fail_unless (bright > 100, "bright %u", bright);

  gst_sample_unref (edges);
  json_object_unref (output);
  g_free (input);
  g_bytes_unref (jpeg);
}

GST_END_TEST;

GST_START_TEST (test_text_to_image)
{
  JsonObject *output = run_app ("local/text-to-image",
      "{\"prompt\": \"a red fox\", \"width\": 320, \"height\": 200}", 200);
  GstSample *image;
  gint width, height;

  image = fetch_output_image (output, &width, &height);
  fail_unless_equals_int (width, 320);
  fail_unless_equals_int (height, 200);
  gst_sample_unref (image);
  json_object_unref (output);

  output = run_app ("local/text-to-image", "{\"width\": 320}", 422);
  fail_unless_equals_string (first_detail_loc (output, 1), "prompt");
  json_object_unref (output);
}

GST_END_TEST;

/* Text rendered by text-to-image is read back by ocr, through the URL of
 * the stored image. */
GST_START_TEST (test_ocr)
{
  JsonObject *output = run_app ("local/text-to-image",
      "{\"prompt\": \"Streaming pipelines read text\", \"width\": 640, "
      "\"height\": 160}", 200);
  const gchar *url = json_object_get_string_member
      (json_object_get_object_member (output, "image"), "url");
  gchar *input = g_strdup_printf ("{\"image_url\": \"%s\"}", url);
  JsonObject *text_output;
  gchar *text;

  text_output = run_app ("local/ocr", input, 200);
  text = g_strdup (json_object_get_string_member (text_output, "text"));
  g_strstrip (text);
  fail_unless_equals_string (text, "Streaming pipelines read text");
  g_free (text);
  json_object_unref (text_output);
  g_free (input);
  json_object_unref (output);
}

GST_END_TEST;

GST_START_TEST (test_openapi)
{
  guint status = 0;
  JsonNode *doc = http_json ("GET", "/run/local/sleep/openapi.json", NULL,
      &status);
  JsonObject *schemas, *input;

  fail_unless_equals_int (status, 200);
  schemas = json_object_get_object_member (json_object_get_object_member
      (json_node_get_object (doc), "components"), "schemas");
  input = json_object_get_object_member (schemas, "Input");
  fail_unless (json_object_has_member (json_object_get_object_member (input,
              "properties"), "seconds"));
  fail_unless (json_object_has_member (json_object_get_object_member
          (json_object_get_object_member (schemas, "Output"), "properties"),
          "slept"));
  json_node_unref (doc);

  doc = http_json ("GET", "/queue/local/barcode/openapi.json", NULL, &status);
  fail_unless_equals_int (status, 200);
  schemas = json_object_get_object_member (json_object_get_object_member
      (json_node_get_object (doc), "components"), "schemas");
  fail_unless (json_object_has_member (json_object_get_object_member
          (json_object_get_object_member (schemas, "Output"), "properties"),
          "symbols"));
  json_node_unref (doc);
}

GST_END_TEST;

GST_START_TEST (test_list)
{
  GPtrArray *apps = gst_fal_server_list_apps (server);
  const gchar *expected[] = { "local/barcode", "local/counter", "local/echo",
    "local/edge-detection", "local/face-blur", "local/face-detection",
    "local/fail", "local/ocr", "local/sleep", "local/text-to-image"
  };
  guint i;

  fail_unless (apps->len >= G_N_ELEMENTS (expected));
  for (i = 0; i < G_N_ELEMENTS (expected); i++) {
    gchar *prefix = g_strconcat (expected[i], "\t", NULL);
    fail_unless (g_str_has_prefix (g_ptr_array_index (apps, i), prefix),
        "%s is not %s", (gchar *) g_ptr_array_index (apps, i), expected[i]);
    g_free (prefix);
  }
  g_ptr_array_unref (apps);
}

GST_END_TEST;

static Suite *
apps_suite (void)
{
  Suite *s = suite_create ("server-apps");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_echo);
  tcase_add_test (tc, test_sleep);
  tcase_add_test (tc, test_sleep_validation);
  tcase_add_test (tc, test_sleep_cancel);
  tcase_add_test (tc, test_fail);
  tcase_add_test (tc, test_counter);
  tcase_add_test (tc, test_counter_stream);
  tcase_add_test (tc, test_sleep_logs);
  tcase_add_test (tc, test_barcode_qr);
  tcase_add_test (tc, test_barcode_nothing);
  tcase_add_test (tc, test_image_errors);
  tcase_add_test (tc, test_face_detection);
  tcase_add_test (tc, test_face_blur);
  tcase_add_test (tc, test_edge_detection);
  tcase_add_test (tc, test_text_to_image);
  tcase_add_test (tc, test_ocr);
  tcase_add_test (tc, test_openapi);
  tcase_add_test (tc, test_list);
  return s;
}

GST_CHECK_MAIN (apps);
