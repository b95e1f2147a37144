/* Helpers of the apps tests: HTTP to the local server, images in and out. */
#pragma once

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "falserver/gstfalserver.h"

static GstFalServer *server;
static SoupSession *session;

G_GNUC_UNUSED static void
start_server (const gchar * apps_file)
{
  GError *error = NULL;

  server = gst_fal_server_new ();
  if (apps_file)
    g_object_set (server, "apps-file", apps_file, NULL);
  fail_unless (gst_fal_server_start (server, &error), "server: %s",
      error ? error->message : "");
  /* no proxy resolver: loopback only, and libproxy upsets valgrind */
  session = soup_session_new_with_options ("timeout", 100, "proxy-resolver",
      NULL, NULL);
}

static void
stop_server (void)
{
  g_clear_object (&session);
  gst_fal_server_stop (server);
  g_clear_object (&server);
}

/* Sends a request to SERVER/@path; returns the parsed JSON answer. */
static JsonNode *
http_json (const gchar * method, const gchar * path, JsonNode * body,
    guint * status)
{
  gchar *url = g_strconcat (gst_fal_server_get_url (server), path, NULL);
  SoupMessage *msg = soup_message_new (method, url);
  GError *error = NULL;
  GBytes *answer;
  JsonNode *node;

  fail_unless (msg != NULL, "bad url %s", url);
  if (body) {
    gchar *text = json_to_string (body, FALSE);
    GBytes *bytes = g_bytes_new_take (text, strlen (text));
    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    g_bytes_unref (bytes);
  }
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  fail_unless (answer != NULL, "%s %s: %s", method, url,
      error ? error->message : "");
  *status = soup_message_get_status (msg);
  node = json_from_string (g_bytes_get_data (answer, NULL), &error);
  fail_unless (node != NULL, "%s %s answered no JSON (%u): %.*s", method, url,
      *status, (int) g_bytes_get_size (answer),
      (const gchar *) g_bytes_get_data (answer, NULL));
  g_bytes_unref (answer);
  g_object_unref (msg);
  g_free (url);
  return node;
}

/* POST SERVER/run/@app with @input_json; checks the status. */
static JsonObject *
run_app (const gchar * app, const gchar * input_json, guint expected_status)
{
  gchar *path = g_strconcat ("/run/", app, NULL);
  JsonNode *input = json_from_string (input_json, NULL);
  JsonNode *output;
  JsonObject *object;
  guint status = 0;

  fail_unless (input != NULL);
  output = http_json ("POST", path, input, &status);
  if (status != expected_status) {
    gchar *text = json_to_string (output, FALSE);
    fail ("%s answered %u, not %u: %s", app, status, expected_status, text);
    g_free (text);
  }
  fail_unless (JSON_NODE_HOLDS_OBJECT (output));
  object = json_object_ref (json_node_get_object (output));
  json_node_unref (output);
  json_node_unref (input);
  g_free (path);
  return object;
}

static GBytes *
http_get (const gchar * url, gchar ** content_type)
{
  SoupMessage *msg = soup_message_new ("GET", url);
  GError *error = NULL;
  GBytes *bytes;

  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  fail_unless (bytes != NULL, "GET %s: %s", url, error ? error->message : "");
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  if (content_type)
    *content_type = g_strdup (soup_message_headers_get_content_type
        (soup_message_get_response_headers (msg), NULL));
  g_object_unref (msg);
  return bytes;
}

static gchar *
data_uri (GBytes * bytes, const gchar * content_type)
{
  gchar *base64 = g_base64_encode (g_bytes_get_data (bytes, NULL),
      g_bytes_get_size (bytes));
  gchar *uri = g_strdup_printf ("data:%s;base64,%s", content_type, base64);

  g_free (base64);
  return uri;
}

/* Runs a pipeline ending in an appsink named sink, with @input (transfer
 * none) pushed into an appsrc named src if any; returns its last sample. */
static GstSample *
pull_sample (const gchar * description, GBytes * input)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);
  GstElement *sink, *src;
  GstSample *sample = NULL, *next;
  GstBus *bus;
  GstMessage *message;

  fail_unless (pipeline != NULL, "%s: %s", description,
      error ? error->message : "");
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  if (src) {
    gst_app_src_push_buffer (GST_APP_SRC (src),
        gst_buffer_new_wrapped_bytes (input));
    gst_app_src_end_of_stream (GST_APP_SRC (src));
    gst_object_unref (src);
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  while (!gst_app_sink_is_eos (GST_APP_SINK (sink))) {
    next = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        100 * GST_MSECOND);
    if (next) {
      if (sample)
        gst_sample_unref (sample);
      sample = next;
    }
    message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (message == NULL, "%s failed", description);
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  fail_unless (sample != NULL, "%s produced nothing", description);
  return sample;
}

/* Encoded bytes of a sample (e.g. a PNG). */
static GBytes *
sample_bytes (GstSample * sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstMapInfo map;
  GBytes *bytes;

  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  bytes = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buffer, &map);
  return bytes;
}

/* Decodes an encoded image to packed RGB. */
static GstSample *
decode_rgb (GBytes * image)
{
  return pull_sample ("appsrc name=src ! decodebin ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false", image);
}

G_GNUC_UNUSED static GBytes *
read_test_file (const gchar * name)
{
  const gchar *root = g_getenv ("GST_FAL_SOURCE_ROOT");
  gchar *path = g_build_filename (root ? root : ".", "tests", "files", name,
      NULL);
  gchar *contents = NULL;
  gsize length = 0;
  GError *error = NULL;

  fail_unless (g_file_get_contents (path, &contents, &length, &error),
      "%s: %s", path, error ? error->message : "");
  g_free (path);
  return g_bytes_new_take (contents, length);
}

/* The output image of an image app: checks the answer's shape, fetches and
 * decodes it. */
G_GNUC_UNUSED static GstSample *
fetch_output_image (JsonObject * output, gint * width, gint * height)
{
  JsonObject *image = json_object_get_object_member (output, "image");
  gchar *content_type = NULL;
  GBytes *bytes;
  GstSample *sample;
  GstVideoInfo info;

  fail_unless (image != NULL);
  *width = json_object_get_int_member (image, "width");
  *height = json_object_get_int_member (image, "height");
  fail_unless_equals_string (json_object_get_string_member (image,
          "content_type"), "image/png");
  bytes = http_get (json_object_get_string_member (image, "url"),
      &content_type);
  fail_unless_equals_string (content_type, "image/png");
  sample = decode_rgb (bytes);
  fail_unless (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&info), *width);
  fail_unless_equals_int (GST_VIDEO_INFO_HEIGHT (&info), *height);
  g_bytes_unref (bytes);
  g_free (content_type);
  return sample;
}

static const gchar *
request_state (const gchar * status_path)
{
  guint status = 0;
  JsonNode *node = http_json ("GET", status_path, NULL, &status);
  const gchar *state = g_intern_string (json_object_get_string_member
      (json_node_get_object (node), "status"));

  json_node_unref (node);
  return state;
}

/* Submits @input_json to @app on the queue, waits until it runs, cancels it
 * and waits until it is completed: this only ends if the app stops. Returns
 * the status code of the result. */
G_GNUC_UNUSED static guint
cancel_while_running (const gchar * app, const gchar * input_json)
{
  JsonNode *input = json_from_string (input_json, NULL);
  gchar *submit_path = g_strconcat ("/queue/", app, NULL);
  JsonNode *answer, *result;
  gchar *status_path, *cancel_path, *result_path;
  const gchar *request_id, *state = "";
  guint status = 0;

  answer = http_json ("POST", submit_path, input, &status);
  fail_unless (status == 200 || status == 202, "submit answered %u", status);
  request_id = json_object_get_string_member (json_node_get_object (answer),
      "request_id");
  status_path = g_strdup_printf ("/queue/%s/requests/%s/status", app,
      request_id);
  cancel_path = g_strdup_printf ("/queue/%s/requests/%s/cancel", app,
      request_id);
  result_path = g_strdup_printf ("/queue/%s/requests/%s", app, request_id);

  while (!g_str_equal (state, "IN_PROGRESS")) {
    state = request_state (status_path);
    fail_if (g_str_equal (state, "COMPLETED"), "%s completed by itself", app);
    g_usleep (20 * 1000);
  }
  json_node_unref (http_json ("PUT", cancel_path, NULL, &status));
  while (!g_str_equal (state, "COMPLETED")) {
    g_usleep (20 * 1000);
    state = request_state (status_path);
  }
  result = http_json ("GET", result_path, NULL, &status);

  json_node_unref (result);
  g_free (status_path);
  g_free (cancel_path);
  g_free (result_path);
  g_free (submit_path);
  json_node_unref (answer);
  json_node_unref (input);
  return status;
}
