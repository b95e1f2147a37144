/* gst-fal: falsrc tests, against the local server started in the process */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <gst/base/gstbasesrc.h>
#include <json-glib/json-glib.h>

#include "falelementtest.h"

#define WAIT (90 * GST_SECOND)

/* @description has a falsrc named src, given @arguments. */
static GstElement *
pipeline_new (const gchar * description, const gchar * arguments)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);
  GstElement *src;

  fail_unless (pipeline != NULL, "%s: %s", description,
      error ? error->message : "");
  g_clear_error (&error);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  fail_unless (src != NULL);
  if (arguments)
    g_object_set (src, "arguments", arguments, NULL);
  gst_object_unref (src);
  return pipeline;
}

/* Pops the next ERROR or EOS of @pipeline's bus. */
static GstMessage *
wait_error_or_eos (GstElement * pipeline)
{
  GstMessage *msg = wait_error_or_eos_within (pipeline, WAIT / GST_SECOND);

  fail_unless (msg != NULL, "neither error nor EOS");
  return msg;
}

/* A failing request is posted at once: these pulls end on the first error
 * message instead of waiting out their bound. */
static void
fail_on_error_message (GstBus * bus)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GError *error = NULL;

  if (!msg)
    return;
  gst_message_parse_error (msg, &error, NULL);
  fail ("error: %s", error->message);
}

static GstSample *
pull_sample (GstElement * pipeline, GstElement * sink)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + WAIT / GST_USECOND;
  GstSample *sample = NULL;

  while (!sample && g_get_monotonic_time () < deadline) {
    fail_on_error_message (bus);
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        20 * GST_MSECOND);
  }
  gst_object_unref (bus);
  return sample;
}

/* gst_harness_pull(), ending on an error of the element (the harness
 * element gets a bus of its own on the first call). */
static GstBuffer *
harness_pull (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);
  gint64 deadline = g_get_monotonic_time () + WAIT / GST_USECOND;
  GstBuffer *buffer = NULL;

  if (!bus) {
    bus = gst_bus_new ();
    gst_element_set_bus (h->element, bus);
  }
  while (!buffer && g_get_monotonic_time () < deadline) {
    fail_on_error_message (bus);
    buffer = gst_harness_try_pull (h);
    if (!buffer)
      g_usleep (10000);
  }
  gst_object_unref (bus);
  return buffer;
}

/* The messages on the bus of harness_pull() hold the element: drop them
 * with the bus before the harness goes. */
static void
harness_teardown (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);

  if (bus) {
    gst_bus_set_flushing (bus, TRUE);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
  }
  gst_harness_teardown (h);
}

/* A JSON buffer, parsed; checks its caps too. */
static JsonNode *
buffer_json (GstHarness * h, GstBuffer * buffer)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  GstMapInfo map;
  JsonNode *node;
  gchar *text;

  fail_unless (caps != NULL);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "application/json"), "caps %" GST_PTR_FORMAT, caps);
  gst_caps_unref (caps);
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  text = g_strndup ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buffer, &map);
  node = json_from_string (text, NULL);
  g_free (text);
  fail_unless (node != NULL && JSON_NODE_HOLDS_OBJECT (node));
  return node;
}

/* The README line: the generated image decodes to the size asked for. */
GST_START_TEST (test_text_to_image_decodes)
{
  GstElement *pipeline = pipeline_new ("falsrc name=src "
      "application=local/text-to-image ! decodebin ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false",
      "{\"prompt\":\"hello\",\"width\":320,\"height\":240}");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstSample *sample;
  GstStructure *s;
  GstMessage *msg;
  gint width = 0, height = 0;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  sample = pull_sample (pipeline, sink);
  fail_unless (sample != NULL, "no image");
  s = gst_caps_get_structure (gst_sample_get_caps (sample), 0);
  fail_unless (gst_structure_get_int (s, "width", &width));
  fail_unless (gst_structure_get_int (s, "height", &height));
  fail_unless_equals_int (width, 320);
  fail_unless_equals_int (height, 240);
  gst_sample_unref (sample);

  /* one result, then EOS */
  msg = wait_error_or_eos (pipeline);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Caps come from the content: the encoded image goes out as image/png. */
GST_START_TEST (test_image_caps)
{
  GstHarness *h = gst_harness_new ("falsrc");
  GstBuffer *buffer;
  GstCaps *caps;
  GstMapInfo map;

  gst_harness_set (h, "falsrc", "application", "local/text-to-image",
      "arguments", "{\"prompt\":\"caps\",\"width\":64,\"height\":32}", NULL);
  gst_harness_play (h);
  buffer = harness_pull (h);
  fail_unless (buffer != NULL);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "image/png"), "caps %" GST_PTR_FORMAT, caps);
  gst_caps_unref (caps);
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  fail_unless (map.size > 8 && memcmp (map.data, "\x89PNG", 4) == 0);
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);
  harness_wait_eos (h);
  harness_teardown (h);
}

GST_END_TEST;

/* A result without media (local/echo) is pushed as its JSON; num-results=2
 * waits for new arguments, submits them, and ends after the second. */
GST_START_TEST (test_num_results_and_new_arguments)
{
  GstHarness *h = gst_harness_new ("falsrc");
  GstBuffer *buffer;
  JsonNode *node;

  gst_harness_set (h, "falsrc", "application", "local/echo",
      "arguments", "{\"n\":1}", "num-results", 2, NULL);
  gst_harness_play (h);

  buffer = harness_pull (h);
  fail_unless (buffer != NULL);
  node = buffer_json (h, buffer);
  fail_unless_equals_int (json_object_get_int_member (json_node_get_object
          (node), "n"), 1);
  json_node_unref (node);
  gst_buffer_unref (buffer);

  gst_harness_set (h, "falsrc", "arguments", "{\"n\":2}", NULL);
  buffer = harness_pull (h);
  fail_unless (buffer != NULL);
  node = buffer_json (h, buffer);
  fail_unless_equals_int (json_object_get_int_member (json_node_get_object
          (node), "n"), 2);
  json_node_unref (node);
  gst_buffer_unref (buffer);

  harness_wait_eos (h);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  harness_teardown (h);
}

GST_END_TEST;

/* stream=true: every event of /stream is one JSON buffer. */
GST_START_TEST (test_stream_events)
{
  GstHarness *h = gst_harness_new ("falsrc");
  guint i, events;

  gst_harness_set (h, "falsrc", "application", "local/counter",
      "arguments", "{\"count\":3,\"interval\":0.01}", "stream", TRUE, NULL);
  gst_harness_play (h);
  harness_wait_eos (h);

  /* 3 partial events, and the final output when the app sends it apart */
  events = gst_harness_buffers_in_queue (h);
  fail_unless (events == 3 || events == 4, "%u events", events);
  for (i = 0; i < events; i++) {
    GstBuffer *buffer = harness_pull (h);
    JsonNode *node = buffer_json (h, buffer);

    fail_unless_equals_int (json_object_get_int_member (json_node_get_object
            (node), "count"), 3);
    if (i < 3)
      fail_unless_equals_int (json_object_get_int_member (json_node_get_object
              (node), "index"), i);
    json_node_unref (node);
    gst_buffer_unref (buffer);
  }
  harness_teardown (h);
}

GST_END_TEST;

static void
check_error_status (const gchar * description, const gchar * arguments,
    guint expected_status)
{
  GstElement *pipeline = pipeline_new (description, arguments);
  const GstStructure *details = NULL;
  GstMessage *msg;
  guint status = 0;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_error_or_eos (pipeline);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  fail_unless (GST_IS_BASE_SRC (GST_MESSAGE_SRC (msg)));
  gst_message_parse_error_details (msg, &details);
  fail_unless (details != NULL);
  fail_unless (gst_structure_get_uint (details, "http-status-code", &status));
  fail_unless_equals_int (status, expected_status);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_error_404)
{
  check_error_status ("falsrc name=src application=local/no-such-app "
      "! fakesink", NULL, 404);
}

GST_END_TEST;

GST_START_TEST (test_error_422)
{
  check_error_status ("falsrc name=src application=local/fail ! fakesink",
      "{\"status\":422,\"detail\":\"bad\"}", 422);
}

GST_END_TEST;

/* The timeout covers the download of the result's media too: a media URL
 * on a server that never answers fails within it. */
GST_START_TEST (test_timeout_bounds_download)
{
  SilentServer *silent = silent_server_new ();
  g_autofree gchar *arguments = g_strdup_printf ("{\"images\": [{\"url\": "
      "\"%s/picture.png\"}]}", silent->url);
  GstElement *pipeline = pipeline_new ("falsrc name=src timeout=0.5 "
      "application=local/echo ! fakesink", arguments);
  GstMessage *msg;
  GError *error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_error_or_eos (pipeline);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (strstr (error->message, "timeout") != NULL, "%s",
      error->message);
  g_error_free (error);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  silent_server_free (silent);
}

GST_END_TEST;

/* A request that would run for ten minutes: going to NULL cancels it at
 * once instead of waiting (a hang here ends in the test timeout). */
GST_START_TEST (test_stop_while_waiting)
{
  GstElement *pipeline = pipeline_new ("falsrc name=src "
      "application=local/sleep ! fakesink", "{\"seconds\":600}");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  /* the request is submitted and running */
  msg = gst_bus_timed_pop_filtered (bus, 200 * GST_MSECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg == NULL);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* timeout cancels a request that runs too long and posts the error. */
GST_START_TEST (test_timeout)
{
  GstElement *pipeline = pipeline_new ("falsrc name=src timeout=0.5 "
      "application=local/sleep ! fakesink", "{\"seconds\":600}");
  GstMessage *msg;
  GError *error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_error_or_eos (pipeline);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (error != NULL);
  g_error_free (error);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* result-path picks the media URL; a path that is not in the result is an
 * error, not a silent EOS. */
GST_START_TEST (test_result_path)
{
  GstHarness *h = gst_harness_new ("falsrc");
  GstBuffer *buffer;
  GstElement *pipeline;
  GstMessage *msg;

  gst_harness_set (h, "falsrc", "application", "local/text-to-image",
      "arguments", "{\"prompt\":\"path\",\"width\":16,\"height\":16}",
      "result-path", "image.url", NULL);
  gst_harness_play (h);
  buffer = harness_pull (h);
  fail_unless (buffer != NULL);
  gst_buffer_unref (buffer);
  harness_wait_eos (h);
  harness_teardown (h);

  pipeline = pipeline_new ("falsrc name=src application=local/text-to-image "
      "result-path=video.url ! fakesink",
      "{\"prompt\":\"path\",\"width\":16,\"height\":16}");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_error_or_eos (pipeline);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* key is write-only; application cannot change while playing. */
GST_START_TEST (test_properties)
{
  GstElement *src = gst_element_factory_make ("falsrc", NULL);
  GParamSpec *pspec;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (src), "key");
  fail_unless (pspec != NULL);
  fail_if (pspec->flags & G_PARAM_READABLE);
  g_object_set (src, "key", "secret", "num-results", 3, NULL);
  {
    guint n;
    g_object_get (src, "num-results", &n, NULL);
    fail_unless_equals_int (n, 3);
  }
  gst_object_unref (src);
}

GST_END_TEST;

static Suite *
falsrc_suite (void)
{
  Suite *s = suite_create ("falsrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_text_to_image_decodes);
  tcase_add_test (tc, test_image_caps);
  tcase_add_test (tc, test_num_results_and_new_arguments);
  tcase_add_test (tc, test_stream_events);
  tcase_add_test (tc, test_error_404);
  tcase_add_test (tc, test_error_422);
  tcase_add_test (tc, test_stop_while_waiting);
  tcase_add_test (tc, test_timeout);
  tcase_add_test (tc, test_timeout_bounds_download);
  tcase_add_test (tc, test_result_path);
  return s;
}

GST_CHECK_MAIN (falsrc);
