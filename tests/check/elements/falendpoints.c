/* gst-fal: falinfer and falfilter through each endpoint (queue, run,
 * stream, realtime), against the in-process local server */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/fal/gstfal.h>
#include <gst/falserver/gstfalserver.h>

#include "falelementtest.h"
#include "falframes.h"


/* the endpoints that are not the queue, by their nick */
static const gchar *const direct_endpoints[] = { "run", "stream", "realtime" };

static gint queued_messages;

/* Counts the "queued" request messages as they are posted, whoever pops
 * them later. */
static GstBusSyncReply
count_queued (GstBus * bus, GstMessage * msg, gpointer element)
{
  const GstStructure *s = gst_message_get_structure (msg);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
      gst_structure_has_name (s, "fal-request") &&
      g_strcmp0 (gst_structure_get_string (s, "state"), "queued") == 0)
    g_atomic_int_inc (&queued_messages);
  return GST_BUS_PASS;
}

/* A harness around @factory on @endpoint, its bus kept for the checks. */
static GstHarness *
harness_new (const gchar * factory, const gchar * endpoint,
    const gchar * application, const gchar * arguments,
    const gchar * first_property, ...)
{
  GstElement *element = gst_element_factory_make (factory, NULL);
  GstHarness *h;
  GstBus *bus;
  va_list args;

  fail_unless (element != NULL);
  fail_unless (g_object_class_find_property (G_OBJECT_GET_CLASS (element),
          "endpoint") != NULL);
  gst_util_set_object_arg (G_OBJECT (element), "endpoint", endpoint);
  g_object_set (element, "application", application, "server-url",
      server_url, NULL);
  if (arguments)
    g_object_set (element, "arguments", arguments, NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (element), first_property, args);
    va_end (args);
  }
  bus = gst_bus_new ();
  gst_bus_set_sync_handler (bus, count_queued, element, NULL);
  gst_element_set_bus (element, bus);
  gst_object_unref (bus);
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_set_live (h, FALSE);
  return h;
}

/* Checks that the requests did not go through the queue unless asked. */
static void
harness_free (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);
  gint endpoint;

  g_object_get (h->element, "endpoint", &endpoint, NULL);
  if (endpoint != 0)
    fail_unless_equals_int (g_atomic_int_get (&queued_messages), 0);
  g_atomic_int_set (&queued_messages, 0);

  /* the bus holds messages holding the element */
  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

static void
push_frames (GstHarness * h, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
}

/* Plays @h (and @hr, its result pad's harness), pushes @n frames, then
 * EOS. */
static void
play_frames_then_eos (GstHarness * h, GstHarness * hr, guint n)
{
  gst_harness_play (hr);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  gst_harness_play (h);
  push_frames (h, n);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
}

static JsonObject *
parse_object (const gchar * text, gsize len)
{
  g_autofree gchar *copy = g_strndup (text, len);
  JsonNode *node = json_from_string (copy, NULL);
  JsonObject *object;

  fail_unless (node && JSON_NODE_HOLDS_OBJECT (node), "not an object: %s",
      copy);
  object = json_object_ref (json_node_get_object (node));
  json_node_unref (node);
  return object;
}

/* The JSON object of a result-pad buffer. */
static JsonObject *
pull_line (GstHarness * hr, GstClockTime * pts)
{
  GstBuffer *buffer = gst_harness_pull (hr);
  GstMapInfo map;
  JsonObject *object;

  fail_unless (buffer != NULL, "no result line");
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  object = parse_object ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buffer, &map);
  if (pts)
    *pts = GST_BUFFER_PTS (buffer);
  gst_buffer_unref (buffer);
  return object;
}

static gboolean
is_partial (JsonObject * line)
{
  return json_object_has_member (line, "partial") &&
      json_object_get_boolean_member (line, "partial");
}

static JsonObject *
meta_result (GstBuffer * buffer)
{
  GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (buffer);

  fail_unless (meta != NULL, "no result meta");
  fail_unless (meta->result_json != NULL, "error: %s", meta->error);
  return parse_object (meta->result_json, strlen (meta->result_json));
}

/* Every endpoint: one result per sampled frame, in order, as a meta and as
 * one result line; only the queue posts "queued"; only stream has partial
 * lines. */
static void
check_one_result_each (const gchar * endpoint)
{
  /* a window of every frame: realtime's latest-wins replaces none */
  GstHarness *h = harness_new ("falinfer", endpoint, "local/echo",
      "{\"index\": \"{{index}}\"}", "max-in-flight", 8, NULL);
  GstHarness *hr = gst_harness_new_with_element (h->element, NULL, "result");
  gboolean stream = g_str_equal (endpoint, "stream");
  const guint n = 8;
  guint i, finals = 0, partials = 0;

  play_frames_then_eos (h, hr, n);
  for (i = 0; i < n; i++) {
    GstBuffer *out = gst_harness_pull (h);
    JsonObject *result = meta_result (out);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DURATION);
    fail_unless_equals_int (json_object_get_int_member (result, "index"), i);
    json_object_unref (result);
    gst_buffer_unref (out);
  }
  harness_wait_eos (h);
  while (finals < n) {
    GstClockTime pts;
    JsonObject *line = pull_line (hr, &pts);
    JsonObject *result = json_object_get_object_member (line, "result");

    fail_unless (result != NULL);
    if (is_partial (line)) {
      partials++;
    } else {
      fail_unless_equals_int (json_object_get_int_member (line, "index"),
          finals);
      fail_unless_equals_uint64 (pts, finals * FRAME_DURATION);
      finals++;
    }
    json_object_unref (line);
  }
  /* local/echo streams one event: its output */
  fail_unless_equals_int (partials, stream ? n : 0);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"), n);
  if (g_str_equal (endpoint, "queue"))
    fail_unless (g_atomic_int_get (&queued_messages) >= (gint) n);
  gst_harness_teardown (hr);
  harness_free (h);
}

GST_START_TEST (test_one_result_each_in_order)
{
  check_one_result_each ("queue");
  check_one_result_each ("run");
  check_one_result_each ("stream");
  check_one_result_each ("realtime");
}

GST_END_TEST;

/* endpoint=stream: each event leaves on the result pad as it comes, with
 * its frame's PTS and "partial": true, before the frame's final line; the
 * final output is the frame's meta. local/counter with count = the frame's
 * number emits that many events, then its output (an event too). */
GST_START_TEST (test_stream_partials)
{
  GstHarness *h = harness_new ("falinfer", "stream", "local/counter",
      "{\"count\": \"{{index}}\", \"interval\": 0}", "max-in-flight", 2,
      NULL);
  GstHarness *hr = gst_harness_new_with_element (h->element, NULL, "result");
  const guint n = 4;
  guint partials[4] = { 0, };
  guint i, finals = 0;

  play_frames_then_eos (h, hr, n);
  for (i = 0; i < n; i++) {
    GstBuffer *out = gst_harness_pull (h);
    JsonObject *result = meta_result (out);

    fail_unless (!json_object_has_member (result, "index"));
    fail_unless_equals_int (json_object_get_int_member (result, "count"), i);
    json_object_unref (result);
    gst_buffer_unref (out);
  }
  while (finals < n) {
    GstClockTime pts;
    JsonObject *line = pull_line (hr, &pts);
    JsonObject *result = json_object_get_object_member (line, "result");
    guint index = json_object_get_int_member (line, "index");

    fail_unless (index < n);
    fail_unless_equals_uint64 (pts, index * FRAME_DURATION);
    fail_unless_equals_int (json_object_get_int_member (line, "pts"), pts);
    if (is_partial (line)) {
      /* the events in order: {index: 0..count-1}, then {count} */
      if (partials[index] < index) {
        fail_unless_equals_int (json_object_get_int_member (result, "index"),
            partials[index]);
      } else {
        fail_unless (!json_object_has_member (result, "index"));
      }
      partials[index]++;
    } else {
      fail_unless_equals_int (index, finals);
      fail_unless_equals_int (partials[index], index + 1);
      fail_unless_equals_int (json_object_get_int_member (result, "count"),
          index);
      finals++;
    }
    json_object_unref (line);
  }
  gst_harness_teardown (hr);
  harness_free (h);
}

GST_END_TEST;

/* The first error or warning of @element's bus, within a bound that only
 * stops a hang. */
static GError *
wait_error_message (GstElement * element, GstMessageType type,
    const GstStructure ** details, GstMessage ** msg)
{
  GstBus *bus = gst_element_get_bus (element);
  GError *error = NULL;

  *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, type);
  gst_object_unref (bus);
  fail_unless (*msg != NULL, "no %s message", gst_message_type_get_name (type));
  if (type == GST_MESSAGE_ERROR) {
    gst_message_parse_error (*msg, &error, NULL);
    gst_message_parse_error_details (*msg, details);
  } else {
    gst_message_parse_warning (*msg, &error, NULL);
    gst_message_parse_warning_details (*msg, details);
  }
  return error;
}

static void
check_details_422 (const GstStructure * details)
{
  guint status = 0;

  fail_unless (details != NULL);
  fail_unless (gst_structure_get_uint (details, "http-status-code", &status));
  fail_unless_equals_int (status, 422);
}

#define FAIL_ARGUMENTS "{\"status\": 422, \"detail\": \"no such frame\"}"

/* on-error=skip: each failed frame passes with an error meta and a
 * warning; on-error=fail: an element error, and the stream stops. */
static void
check_on_error (const gchar * endpoint)
{
  /* realtime: the app's failure ends the session (INTERNAL_ERROR with its
   * detail, no HTTP status); frames sent behind it fail with the socket.
   * The workers send the frames as each is encoded, so which of them went
   * first and met the app's failure is not fixed. */
  gboolean realtime = g_str_equal (endpoint, "realtime");
  guint internal_errors = 0;
  GstHarness *h = harness_new ("falinfer", endpoint, "local/fail",
      FAIL_ARGUMENTS, "on-error", 1, NULL);
  const GstStructure *details;
  GstMessage *msg;
  GError *error;
  guint i;

  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  gst_harness_play (h);
  push_frames (h, 3);
  for (i = 0; i < 3; i++) {
    GstBuffer *out = gst_harness_pull (h);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (out);

    fail_unless (meta != NULL);
    fail_unless (meta->result_json == NULL);
    fail_unless (meta->error != NULL);
    if (!realtime) {
      fail_unless (strstr (meta->error, "no such frame") != NULL, "%s",
          meta->error);
      fail_unless_equals_int (meta->http_status, 422);
    } else if (strstr (meta->error, "INTERNAL_ERROR")) {
      internal_errors++;
    } else {
      fail_unless (strstr (meta->error, "before the result") != NULL, "%s",
          meta->error);
    }
    gst_buffer_unref (out);
    error = wait_error_message (h->element, GST_MESSAGE_WARNING, &details,
        &msg);
    if (!realtime)
      check_details_422 (details);
    g_error_free (error);
    gst_message_unref (msg);
  }
  fail_unless_equals_uint64 (get_counter (h->element, "failed"), 3);
  if (realtime)
    fail_unless (internal_errors >= 1);
  harness_free (h);

  h = harness_new ("falinfer", endpoint, "local/fail", FAIL_ARGUMENTS, NULL);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  gst_harness_play (h);
  push_frames (h, 1);
  error = wait_error_message (h->element, GST_MESSAGE_ERROR, &details, &msg);
  if (!realtime)
    check_details_422 (details);
  fail_unless (strstr (error->message, "no such frame") != NULL, "%s",
      error->message);
  g_error_free (error);
  gst_message_unref (msg);
  fail_unless (gst_harness_try_pull (h) == NULL);
  harness_free (h);
}

GST_START_TEST (test_on_error)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (direct_endpoints); i++)
    check_on_error (direct_endpoints[i]);
}

GST_END_TEST;

/* EOS waits for every request in flight: each frame leaves with its result,
 * then EOS. */
GST_START_TEST (test_eos_waits)
{
  guint e, i;

  for (e = 0; e < G_N_ELEMENTS (direct_endpoints); e++) {
    GstHarness *h = harness_new ("falinfer", direct_endpoints[e],
        "local/sleep", "{\"seconds\": 0.2}", "max-in-flight", 4, NULL);

    gst_harness_set_src_caps_str (h, FRAME_CAPS);
    gst_harness_play (h);
    push_frames (h, 4);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    for (i = 0; i < 4; i++) {
      GstBuffer *out = gst_harness_pull (h);
      JsonObject *result = meta_result (out);

      fail_unless (json_object_has_member (result, "slept"));
      json_object_unref (result);
      gst_buffer_unref (out);
    }
    harness_wait_eos (h);
    fail_unless_equals_uint64 (get_counter (h->element, "completed"), 4);
    harness_free (h);
  }
}

GST_END_TEST;

/* A flush cancels every request in flight and nothing of before it leaves;
 * the element goes on with the frames after it. */
GST_START_TEST (test_flush)
{
  guint e;

  for (e = 0; e < G_N_ELEMENTS (direct_endpoints); e++) {
    GstHarness *h = harness_new ("falinfer", direct_endpoints[e],
        "local/sleep", "{\"seconds\": 600}", "max-in-flight", 4, NULL);

    gst_harness_set_src_caps_str (h, FRAME_CAPS);
    gst_harness_play (h);
    push_frames (h, 4);
    wait_in_flight (h->element, 4);
    fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
    fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
    wait_in_flight (h->element, 0);
    fail_unless (gst_harness_try_pull (h) == NULL);
    fail_unless_equals_uint64 (get_counter (h->element, "completed"), 0);
    fail_unless_equals_uint64 (get_counter (h->element, "failed"), 0);
    harness_free (h);
  }
}

GST_END_TEST;

/* falfilter replaces each frame by the model's image through every
 * endpoint: edge detection of a flat grey frame is black. */
GST_START_TEST (test_filter_replaces_frames)
{
  guint e, i;

  for (e = 0; e < G_N_ELEMENTS (direct_endpoints); e++) {
    GstHarness *h = harness_new ("falfilter", direct_endpoints[e],
        "local/edge-detection", NULL, NULL);

    gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=64,"
        "height=48,framerate=30/1");
    gst_harness_play (h);
    for (i = 0; i < 2; i++) {
      GstBuffer *in = gst_harness_create_buffer (h, 64 * 48);
      GstBuffer *out;
      GstMapInfo map;
      guint bright = 0;
      gsize j;

      gst_buffer_memset (in, 0, 0x80, 64 * 48);
      GST_BUFFER_PTS (in) = i * FRAME_DURATION;
      fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
      out = gst_harness_pull (h);
      fail_unless (gst_buffer_get_fal_result_meta (out) != NULL);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DURATION);
      fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
      fail_unless_equals_int (map.size, 64 * 48);
      for (j = 0; j < map.size; j++)
        if (map.data[j] > 0x40)
          bright++;
      gst_buffer_unmap (out, &map);
      fail_unless (bright < 64 * 48 / 10, "%u bright pixels", bright);
      gst_buffer_unref (out);
    }
    harness_free (h);
  }
}

GST_END_TEST;

/* realtime is latest-wins: with the window full, the newest frame replaces
 * the one waiting (when-full=block would wait for the queue, run, stream);
 * the replaced frames pass without a result. */
GST_START_TEST (test_realtime_latest_wins)
{
  GstHarness *h = harness_new ("falinfer", "realtime", "local/sleep",
      "{\"seconds\": 0.3}", "max-in-flight", 1, NULL);
  guint i;

  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  gst_harness_play (h);
  push_frames (h, 4);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 4; i++) {
    GstBuffer *out = gst_harness_pull (h);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (out);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DURATION);
    if (i == 0 || i == 3) {
      fail_unless (meta != NULL && meta->result_json != NULL);
      fail_unless_equals_uint64 (meta->source_pts, i * FRAME_DURATION);
    } else {
      fail_unless (meta == NULL);
    }
    gst_buffer_unref (out);
  }
  harness_wait_eos (h);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"), 2);
  fail_unless_equals_uint64 (get_counter (h->element, "skipped"), 2);
  harness_free (h);
}

GST_END_TEST;

static GstBuffer *
frame_at (GstHarness * h, GstClockTime pts)
{
  GstBuffer *buffer = frame_new (h, 0);

  GST_BUFFER_PTS (buffer) = pts;
  return buffer;
}

/* The server drops the socket when the app fails (INTERNAL_ERROR, then
 * close): the frame that failed and any frame sent behind it, whose result
 * was lost with the socket, are failures under on-error; the next frame
 * opens a new socket and gets its result. local/sleep sleeps {{pts}} (ns
 * as s) seconds; 5000 is beyond its limit. */
GST_START_TEST (test_realtime_reconnects)
{
  GstHarness *h = harness_new ("falinfer", "realtime", "local/sleep",
      "{\"seconds\": \"{{pts}}\"}", "max-in-flight", 3, "on-error", 1,
      NULL);
  static const GstClockTime pts[] = { 2, 5000, 0 };
  GstFalResultMeta *meta;
  GstBuffer *out;
  guint i, failed = 0;

  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  gst_harness_play (h);
  for (i = 0; i < G_N_ELEMENTS (pts); i++)
    fail_unless_equals_int (gst_harness_push (h, frame_at (h, pts[i])),
        GST_FLOW_OK);
  for (i = 0; i < G_N_ELEMENTS (pts); i++) {
    out = gst_harness_pull (h);
    meta = gst_buffer_get_fal_result_meta (out);
    fail_unless (meta != NULL);
    fail_unless_equals_uint64 (meta->source_pts, pts[i]);
    /* the workers send each frame once it is encoded: which of them left
     * before the failing one, and so got its result, is not fixed; the
     * failing frame and those lost with its socket are failures */
    fail_unless ((meta->result_json != NULL) != (meta->error != NULL));
    if (pts[i] == 5000)
      fail_unless (meta->error != NULL);
    failed += meta->error != NULL;
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (get_counter (h->element, "failed"), failed);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"),
      G_N_ELEMENTS (pts) - failed);

  fail_unless_equals_int (gst_harness_push (h, frame_at (h, 0)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless (meta != NULL && meta->result_json != NULL, "error: %s",
      meta ? meta->error : "no meta");
  gst_buffer_unref (out);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"),
      G_N_ELEMENTS (pts) - failed + 1);
  harness_free (h);
}

GST_END_TEST;

static Suite *
falendpoints_suite (void)
{
  Suite *s = suite_create ("falendpoints");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, server_setup, server_teardown);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_one_result_each_in_order);
  tcase_add_test (tc, test_stream_partials);
  tcase_add_test (tc, test_on_error);
  tcase_add_test (tc, test_eos_waits);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_filter_replaces_frames);
  tcase_add_test (tc, test_realtime_latest_wins);
  tcase_add_test (tc, test_realtime_reconnects);
  return s;
}

GST_CHECK_MAIN (falendpoints);
