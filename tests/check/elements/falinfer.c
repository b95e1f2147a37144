/* gst-fal: tests of falinfer against the in-process local server */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <gst/fal/gstfal.h>
#include <gst/falserver/gstfalserver.h>

#include "falelementtest.h"
#include "falframes.h"


static GstHarness *
harness_new (const gchar * application, const gchar * arguments,
    const gchar * first_property, ...)
{
  GstElement *element = gst_element_factory_make ("falinfer", NULL);
  GstHarness *h;
  va_list args;

  fail_unless (element != NULL);
  g_object_set (element, "application", application, "server-url",
      server_url, NULL);
  if (arguments)
    g_object_set (element, "arguments", arguments, NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (element), first_property, args);
    va_end (args);
  }
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  /* frames come as fast as the test pushes them, as from a file: not live
   * (a harness answers live by default) */
  gst_harness_set_live (h, FALSE);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  gst_harness_play (h);
  return h;
}

static void
wait_counter_at_least (GstElement * element, const gchar * name, guint64 value)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;

  while (get_counter (element, name) < value) {
    fail_unless (g_get_monotonic_time () < deadline,
        "%s never reached %" G_GUINT64_FORMAT, name, value);
    g_usleep (5000);
  }
}

static guint
count_result_metas (GstBuffer * buffer)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buffer, &state,
          GST_FAL_RESULT_META_API_TYPE))
    n++;
  return n;
}

static gint64
result_index (GstFalResultMeta * meta)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *object;

  fail_unless (meta->result_json != NULL, "error: %s", meta->error);
  node = json_from_string (meta->result_json, NULL);
  fail_unless (node && JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  fail_unless (json_object_has_member (object, "index"));
  return json_object_get_int_member (object, "index");
}

/* Adds the request ids of the "queued" messages on @bus to @ids until it
 * holds @n. */
static void
collect_more_request_ids (GstBus * bus, GPtrArray * ids, guint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;

  while (ids->len < n && g_get_monotonic_time () < deadline) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ELEMENT);
    const GstStructure *s;

    if (!msg)
      continue;
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "fal-request") &&
        g_strcmp0 (gst_structure_get_string (s, "state"), "queued") == 0)
      g_ptr_array_add (ids, g_strdup (gst_structure_get_string (s,
                  "request-id")));
    gst_message_unref (msg);
  }
  fail_unless_equals_int (ids->len, n);
}

static GPtrArray *
collect_request_ids (GstBus * bus, guint n)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  collect_more_request_ids (bus, ids, n);
  return ids;
}

/* Pushes frames @from..@to-1, each once the previous one is queued on
 * the server, so that the server's accept queue never sees a burst of
 * connections (what is tested is the element, not the listen backlog). */
static void
push_paced (GstHarness * h, GstBus * bus, GPtrArray * ids, guint from, guint to)
{
  guint i;

  for (i = from; i < to; i++) {
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
    collect_more_request_ids (bus, ids, ids->len + 1);
  }
}

GST_START_TEST (test_caps_negotiation)
{
  GstHarness *h = harness_new ("local/echo", "{\"index\": \"{{index}}\"}",
      NULL);
  GstHarness *hr = gst_harness_new_with_element (h->element, NULL, "result");
  GstCaps *caps, *expected;
  GstBuffer *out;

  gst_harness_play (hr);
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  gst_buffer_unref (out);

  caps = gst_pad_get_current_caps (h->sinkpad);
  expected = gst_caps_from_string (FRAME_CAPS);
  fail_unless (gst_caps_is_equal (caps, expected));
  gst_caps_unref (caps);
  gst_caps_unref (expected);

  out = gst_harness_pull (hr);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  caps = gst_pad_get_current_caps (hr->sinkpad);
  expected = gst_caps_from_string ("application/json");
  fail_unless (gst_caps_is_equal (caps, expected));
  gst_caps_unref (caps);
  gst_caps_unref (expected);

  /* caps the element cannot take are refused */
  caps = gst_caps_from_string ("audio/x-raw");
  fail_if (gst_pad_query_accept_caps (GST_PAD_PEER (h->srcpad), caps));
  gst_caps_unref (caps);

  gst_harness_teardown (hr);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* JSON numbers come out as they went in: shortest doubles, integers up to
 * 2^64 - 1 (beyond json-glib's gint64) exactly */
#define NUMBERS "{\"a\": 0.2, \"b\": 1e300, \"c\": -0.0, " \
  "\"d\": 12345678901234567890, \"e\": 18446744073709551615, \"f\": -1}"

static void
assert_numbers (const gchar * text)
{
  static const gchar *expected[] = { "\"a\":0.2,", "\"b\":1e+300,",
    "\"c\":-0.0,", "\"d\":12345678901234567890,",
    "\"e\":18446744073709551615,", "\"f\":-1"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    fail_unless (strstr (text, expected[i]), "%s not in %s", expected[i], text);
}

GST_START_TEST (test_numbers_unchanged)
{
  GstHarness *h = harness_new ("local/echo", NUMBERS, NULL);
  GstHarness *hr = gst_harness_new_with_element (h->element, NULL, "result");
  GstFalResultMeta *meta;
  GstBuffer *out;
  GstMapInfo map;
  gchar *text;

  gst_harness_play (hr);
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless (meta != NULL && meta->result_json != NULL);
  assert_numbers (meta->result_json);
  gst_buffer_unref (out);

  out = gst_harness_pull (hr);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  text = g_strndup ((const gchar *) map.data, map.size);
  assert_numbers (text);
  g_free (text);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);

  gst_harness_teardown (hr);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_ordered_keeps_order)
{
  GstHarness *h = harness_new ("local/echo", "{\"index\": \"{{index}}\"}",
      "max-in-flight", 8, NULL);
  GstHarness *hr = gst_harness_new_with_element (h->element, NULL, "result");
  const guint n = 40;
  guint i;

  gst_harness_play (hr);
  for (i = 0; i < n; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);

  for (i = 0; i < n; i++) {
    GstBuffer *out = gst_harness_pull (h);
    GstFalResultMeta *meta;

    fail_unless (out != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DURATION);
    fail_unless_equals_int (count_result_metas (out), 1);
    meta = gst_buffer_get_fal_result_meta (out);
    fail_unless_equals_int64 (result_index (meta), i);
    fail_unless_equals_uint64 (meta->source_pts, GST_BUFFER_PTS (out));
    fail_unless_equals_string (meta->application, "local/echo");
    fail_unless (meta->request_id != NULL);
    gst_buffer_unref (out);
  }

  /* one JSON line per result, timestamped with its frame */
  for (i = 0; i < n; i++) {
    GstBuffer *json = gst_harness_pull (hr);
    GstMapInfo map;

    fail_unless (json != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (json), i * FRAME_DURATION);
    fail_unless (gst_buffer_map (json, &map, GST_MAP_READ));
    fail_unless (map.size > 2 && map.data[map.size - 1] == '\n');
    fail_unless (g_strstr_len ((gchar *) map.data, map.size,
            "\"request_id\"") != NULL);
    fail_unless (g_strstr_len ((gchar *) map.data, map.size,
            "\"result\"") != NULL);
    gst_buffer_unmap (json, &map);
    gst_buffer_unref (json);
  }
  fail_unless_equals_uint64 (get_counter (h->element, "submitted"), n);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"), n);
  fail_unless_equals_uint64 (get_counter (h->element, "failed"), 0);

  gst_harness_teardown (hr);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_interval_one_result_each)
{
  GstHarness *h = harness_new ("local/echo", "{\"index\": \"{{index}}\"}",
      "interval", 3, NULL);
  const guint n = 20;
  guint i;

  for (i = 0; i < n; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  for (i = 0; i < n; i++) {
    GstBuffer *out = gst_harness_pull (h);

    if (i % 3 == 0) {
      fail_unless_equals_int (count_result_metas (out), 1);
      fail_unless_equals_int64 (result_index (gst_buffer_get_fal_result_meta
              (out)), i / 3);
    } else {
      fail_unless_equals_int (count_result_metas (out), 0);
    }
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (get_counter (h->element, "submitted"),
      (n + 2) / 3);
  gst_harness_teardown (h);
}

GST_END_TEST;

static void
check_live_never_blocks (gint when_full, guint64 expected_skipped)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 600}",
      "ordering", 1, "max-in-flight", 2, "when-full", when_full, NULL);
  const guint n = 10;
  guint i;

  /* every push returns while the requests sleep on the server */
  for (i = 0; i < n; i++) {
    GstBuffer *out;

    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DURATION);
    fail_unless_equals_int (count_result_metas (out), 0);
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (get_counter (h->element, "submitted"), 2);
  fail_unless_equals_uint64 (get_counter (h->element, "skipped"),
      expected_skipped);
  /* tearing down cancels the sleeping requests */
  gst_harness_teardown (h);
}

/* max-rate counts in stream time: 30 frames at 30 fps, at most 10
 * requests per second, one every third frame */
GST_START_TEST (test_max_rate)
{
  GstHarness *h = harness_new ("local/echo", "{\"index\": \"{{index}}\"}",
      "max-rate", 10.0, NULL);
  const guint n = 30;
  guint i, sampled = 0;

  for (i = 0; i < n; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < n; i++) {
    GstBuffer *out = gst_harness_pull (h);
    guint metas = count_result_metas (out);

    fail_unless_equals_int (metas, i % 3 == 0 ? 1 : 0);
    sampled += metas;
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (sampled, 10);
  fail_unless_equals_uint64 (get_counter (h->element, "submitted"), 10);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_live_never_blocks)
{
  /* skip: frames 2-9 get no request */
  check_live_never_blocks (1, 8);
  /* block (the default) acts as keep-latest in live mode: frame 9 waits
   * for a slot, frames 2-8 were replaced */
  check_live_never_blocks (0, 7);
  check_live_never_blocks (2, 7);
}

GST_END_TEST;

GST_START_TEST (test_live_results_carry_source_pts)
{
  GstHarness *h = harness_new ("local/echo", "{\"index\": \"{{index}}\"}",
      "ordering", 1, "max-in-flight", 4, NULL);
  GstBuffer *out;
  GstFalResultMeta *meta;

  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_int (count_result_metas (out), 0);
  gst_buffer_unref (out);
  wait_counter_at_least (h->element, "completed", 1);

  /* the result of frame 0 rides on frame 5 */
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 5)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * FRAME_DURATION);
  fail_unless_equals_int (count_result_metas (out), 1);
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless_equals_uint64 (meta->source_pts, 0);
  fail_unless_equals_int64 (result_index (meta), 0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Every sampled frame gets exactly one result, none twice (live mode:
 * results on frames and on the result pad, the rest at EOS). The window
 * is wide enough for every frame to get a request. */
GST_START_TEST (test_live_exactly_one_result_each)
{
  GstHarness *h = harness_new ("local/echo", "{\"index\": \"{{index}}\"}",
      "ordering", 1, "max-in-flight", 32, NULL);
  GstHarness *hr = gst_harness_new_with_element (h->element, NULL, "result");
  const guint n = 30;
  gboolean seen[30] = { FALSE, };
  GstBus *bus = gst_bus_new ();
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GstBuffer *out;
  guint results = 0;

  gst_element_set_bus (h->element, bus);
  gst_harness_play (hr);
  push_paced (h, bus, ids, 0, n);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  while ((out = gst_harness_try_pull (h))) {
    gpointer state = NULL;
    GstMeta *m;

    while ((m = gst_buffer_iterate_meta_filtered (out, &state,
                GST_FAL_RESULT_META_API_TYPE))) {
      GstFalResultMeta *meta = (GstFalResultMeta *) m;
      gint64 index = result_index (meta);

      fail_unless (index >= 0 && index < n);
      fail_if (seen[index], "result %" G_GINT64_FORMAT " twice", index);
      seen[index] = TRUE;
      fail_unless_equals_uint64 (meta->source_pts, index * FRAME_DURATION);
      fail_unless (meta->source_pts <= GST_BUFFER_PTS (out));
    }
    gst_buffer_unref (out);
  }
  harness_wait_eos (hr);
  while ((out = gst_harness_try_pull (hr))) {
    results++;
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (results, n);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"), n);
  g_ptr_array_unref (ids);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (hr);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_eos_drains)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 0.2}",
      "max-in-flight", 4, NULL);
  const guint n = 6;
  guint i;

  for (i = 0; i < n; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < n; i++) {
    GstBuffer *out = gst_harness_pull (h);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (out);

    fail_unless (meta != NULL);
    fail_unless (meta->result_json != NULL, "error: %s", meta->error);
    gst_buffer_unref (out);
  }
  harness_wait_eos (h);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"), n);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gboolean
server_sees_cancel (GstFalClient * client, const gchar * application,
    const gchar * request_id)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;

  while (g_get_monotonic_time () < deadline) {
    GError *error = NULL;
    GstFalStatus *status = gst_fal_client_status (client, application,
        request_id, FALSE, NULL, &error);

    if (!status) {
      gboolean gone = g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_NOT_FOUND);
      g_clear_error (&error);
      if (gone)
        return TRUE;
    } else {
      gboolean done = gst_fal_status_get_kind (status) ==
          GST_FAL_STATUS_COMPLETED;
      gst_fal_status_unref (status);
      if (done)
        return TRUE;
    }
    g_usleep (20000);
  }
  return FALSE;
}

static void
check_cancelled_on_server (GPtrArray * ids)
{
  GstFalClient *client = gst_fal_client_new_for_url (server_url);
  guint i;

  for (i = 0; i < ids->len; i++)
    fail_unless (server_sees_cancel (client, "local/sleep",
            g_ptr_array_index (ids, i)), "request %s still runs",
        (gchar *) g_ptr_array_index (ids, i));
  g_object_unref (client);
}

/* The messages of @bus until it is empty: the number of "failed"
 * fal-request messages, and the text of the one error or warning (of type
 * @type) there must be. */
static gchar *
lost_message_text (GstBus * bus, GstMessageType type, guint * failed)
{
  gchar *text = NULL;
  GstMessage *msg;

  *failed = 0;
  while ((msg = gst_bus_pop (bus))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name (s, "fal-request") &&
        g_strcmp0 (gst_structure_get_string (s, "state"), "failed") == 0)
      (*failed)++;
    if (GST_MESSAGE_TYPE (msg) & (GST_MESSAGE_ERROR | GST_MESSAGE_WARNING)) {
      GError *error = NULL;

      fail_unless_equals_int (GST_MESSAGE_TYPE (msg), type);
      fail_unless (text == NULL, "a second message: %s", text);
      if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error (msg, &error, NULL);
      else
        gst_message_parse_warning (msg, &error, NULL);
      text = g_strdup (error->message);
      g_error_free (error);
    }
    gst_message_unref (msg);
  }
  fail_unless (text != NULL, "no message says the results were lost");
  return text;
}

/* Requests cancelled at EOS lost their results: the pipeline says so in
 * one message, counts and posts each as failed. */
static void
check_eos_timeout_reports_lost (gint on_error, GstMessageType type)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 600}",
      "max-in-flight", 3, "eos-timeout", 0.3, "on-error", on_error, NULL);
  GstBus *bus = gst_bus_new ();
  g_autofree gchar *text = NULL;
  GPtrArray *ids;
  guint i, failed;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
  ids = collect_request_ids (bus, 3);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 3; i++)
    gst_buffer_unref (gst_harness_pull (h));
  harness_wait_eos (h);
  text = lost_message_text (bus, type, &failed);
  fail_unless (strstr (text, "3 requests lost their results") != NULL, "%s",
      text);
  fail_unless (strstr (text, "eos-timeout") != NULL, "%s", text);
  fail_unless_equals_int (failed, 3);
  fail_unless_equals_uint64 (get_counter (h->element, "failed"), 3);
  check_cancelled_on_server (ids);
  g_ptr_array_unref (ids);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_START_TEST (test_eos_timeout_fails)
{
  check_eos_timeout_reports_lost (0, GST_MESSAGE_ERROR);
}

GST_END_TEST;

GST_START_TEST (test_eos_timeout_skip_warns)
{
  check_eos_timeout_reports_lost (1, GST_MESSAGE_WARNING);
}

GST_END_TEST;

GST_START_TEST (test_eos_timeout_cancels)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 600}",
      "max-in-flight", 3, "eos-timeout", 0.3, "on-error", 1, NULL);
  GstBus *bus = gst_bus_new ();
  GPtrArray *ids;
  guint i;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
  ids = collect_request_ids (bus, 3);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 3; i++) {
    GstBuffer *out = gst_harness_pull (h);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (out);

    fail_unless (meta != NULL);
    fail_unless (meta->result_json == NULL);
    fail_unless (meta->error != NULL);
    fail_unless_equals_uint64 (meta->source_pts, i * FRAME_DURATION);
    gst_buffer_unref (out);
  }
  check_cancelled_on_server (ids);
  g_ptr_array_unref (ids);
  /* the bus holds messages holding the element */
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

static void
flush_or_stop_with_32_in_flight (gboolean flush)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 600}",
      "max-in-flight", 32, NULL);
  GstBus *bus = gst_bus_new ();
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GstBuffer *out;

  gst_element_set_bus (h->element, bus);
  push_paced (h, bus, ids, 0, 32);
  wait_in_flight (h->element, 32);

  if (flush) {
    fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
    fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  } else {
    gst_element_set_state (h->element, GST_STATE_NULL);
  }
  wait_in_flight (h->element, 0);
  check_cancelled_on_server (ids);
  /* nothing of before the flush leaves */
  out = gst_harness_try_pull (h);
  fail_unless (out == NULL);
  fail_unless_equals_uint64 (get_counter (h->element, "completed"), 0);

  g_ptr_array_unref (ids);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_START_TEST (test_flush_with_32_in_flight)
{
  flush_or_stop_with_32_in_flight (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_stop_with_32_in_flight)
{
  flush_or_stop_with_32_in_flight (FALSE);
}

GST_END_TEST;

/* live mode: a result computed before a flush never rides on a frame
 * after it */
GST_START_TEST (test_live_no_stale_result_after_flush)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 0.3}",
      "ordering", 1, NULL);
  GstBuffer *out;

  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  wait_in_flight (h->element, 0);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 1)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_int (count_result_metas (out), 0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_keep_latest)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 600}",
      "max-in-flight", 1, "when-full", 2, "eos-timeout", 0.2, NULL);
  GstFalResultMeta *meta;
  GstBuffer *out;
  guint i;

  for (i = 0; i < 6; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
  /* frame 0 runs, frame 5 waits for the slot, frames 1-4 were replaced */
  fail_unless_equals_uint64 (get_counter (h->element, "submitted"), 1);
  fail_unless_equals_uint64 (get_counter (h->element, "skipped"), 4);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  for (i = 0; i < 6; i++) {
    out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DURATION);
    if (i == 0 || i == 5) {
      fail_unless_equals_int (count_result_metas (out), 1);
      meta = gst_buffer_get_fal_result_meta (out);
      fail_unless (meta->error != NULL);
      fail_unless_equals_string (meta->error_type, "cancelled");
      fail_unless_equals_uint64 (meta->source_pts, i * FRAME_DURATION);
    } else {
      fail_unless_equals_int (count_result_metas (out), 0);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timeout_cancels_on_server)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 600}",
      "timeout", 0.5, "on-error", 1, NULL);
  GstBus *bus = gst_bus_new ();
  GPtrArray *ids;
  GstBuffer *out;
  GstFalResultMeta *meta;

  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  ids = collect_request_ids (bus, 1);
  out = gst_harness_pull (h);
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless (meta != NULL);
  fail_unless (meta->error != NULL);
  fail_unless_equals_string (meta->error_type, "timeout");
  gst_buffer_unref (out);
  check_cancelled_on_server (ids);
  g_ptr_array_unref (ids);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

/* queued → in-progress (with the app's log lines) → completed, per request */
GST_START_TEST (test_bus_messages)
{
  GstHarness *h = harness_new ("local/sleep",
      "{\"seconds\": 0.2, \"logs\": 2}", "status", 1, "poll-interval", 0.02,
      NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  gboolean queued = FALSE, completed = FALSE;
  GString *logs = g_string_new (NULL);
  gchar *request_id = NULL;

  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));

  while (!completed && (msg = gst_bus_timed_pop_filtered (bus,
              10 * GST_SECOND, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    const gchar *state = gst_structure_get_string (s, "state");
    const gchar *rid = gst_structure_get_string (s, "request-id");
    guint64 t;

    fail_unless (gst_structure_has_name (s, "fal-request"));
    fail_unless (rid != NULL);
    if (!request_id)
      request_id = g_strdup (rid);
    fail_unless_equals_string (rid, request_id);
    if (g_str_equal (state, "queued")) {
      gint position;
      fail_unless (gst_structure_get_int (s, "position", &position));
      queued = TRUE;
    } else if (g_str_equal (state, "in-progress")) {
      /* a poll that saw no new log line carries no logs */
      const gchar *lines = gst_structure_get_string (s, "logs");

      if (lines)
        g_string_append (logs, lines);
    } else {
      fail_unless_equals_string (state, "completed");
      fail_unless (gst_structure_get_uint64 (s, "run-time", &t));
      fail_unless (t != GST_CLOCK_TIME_NONE);
      /* the arguments do not use the frame: nothing was uploaded */
      fail_unless (gst_structure_get_uint64 (s, "upload-time", &t));
      fail_unless (t == GST_CLOCK_TIME_NONE);
      completed = TRUE;
    }
    gst_message_unref (msg);
  }
  fail_unless (queued);
  fail_unless (completed);
  fail_unless (strstr (logs->str, "sleeping") != NULL, "logs: %s", logs->str);
  g_string_free (logs, TRUE);
  g_free (request_id);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

static gchar *
echoed_image_url (gint upload)
{
  GstHarness *h = harness_new ("local/echo", NULL, "upload", upload, NULL);
  GstBuffer *out;
  gchar *url;

  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  url = gst_fal_result_get_string (gst_buffer_get_fal_result_meta
      (out)->result_json, "image_url");
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  fail_unless (url != NULL);
  return url;
}

GST_START_TEST (test_upload_modes)
{
  gchar *url;

  url = echoed_image_url (2 /* data-uri */ );
  fail_unless (g_str_has_prefix (url, "data:image/jpeg;base64,"), "%s", url);
  g_free (url);
  url = echoed_image_url (0 /* auto */ );
  fail_unless (g_str_has_prefix (url, "data:image/jpeg;base64,"), "%s", url);
  g_free (url);
  url = echoed_image_url (1 /* cdn */ );
  fail_unless (g_str_has_prefix (url, "http://127.0.0.1:"), "%s", url);
  g_free (url);
}

GST_END_TEST;

/* A TCP relay in front of the server that counts the connections it
 * takes (the server builds upload and file URLs from the Host header, so
 * every exchange goes through it). */
typedef struct
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GSocketService *service;
  guint16 upstream_port;
  gchar *url;
  gint connections;
  GMutex lock;
  GCond cond;
} Relay;

static gboolean
on_relay_incoming (GSocketService * service, GSocketConnection * down,
    GObject * source, gpointer user_data)
{
  Relay *relay = user_data;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) up = NULL;

  g_atomic_int_inc (&relay->connections);
  up = g_socket_client_connect_to_host (client, "127.0.0.1",
      relay->upstream_port, NULL, NULL);
  if (up == NULL)
    return TRUE;
  g_io_stream_splice_async (G_IO_STREAM (down), G_IO_STREAM (up),
      G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
      G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  return TRUE;
}

static gpointer
relay_thread (gpointer data)
{
  Relay *relay = data;
  guint16 port;

  g_main_context_push_thread_default (relay->context);
  relay->service = g_socket_service_new ();
  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER
      (relay->service), NULL, NULL);
  g_signal_connect (relay->service, "incoming",
      G_CALLBACK (on_relay_incoming), relay);
  g_socket_service_start (relay->service);
  g_mutex_lock (&relay->lock);
  relay->url = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_cond_signal (&relay->cond);
  g_mutex_unlock (&relay->lock);
  g_main_loop_run (relay->loop);
  g_socket_service_stop (relay->service);
  g_socket_listener_close (G_SOCKET_LISTENER (relay->service));
  g_clear_object (&relay->service);
  while (g_main_context_iteration (relay->context, FALSE));
  g_main_context_pop_thread_default (relay->context);
  return NULL;
}

static Relay *
relay_new (const gchar * upstream)
{
  Relay *relay = g_new0 (Relay, 1);
  g_autoptr (GUri) uri = g_uri_parse (upstream, G_URI_FLAGS_NONE, NULL);

  relay->upstream_port = g_uri_get_port (uri);
  g_mutex_init (&relay->lock);
  g_cond_init (&relay->cond);
  relay->context = g_main_context_new ();
  relay->loop = g_main_loop_new (relay->context, FALSE);
  relay->thread = g_thread_new ("relay", relay_thread, relay);
  g_mutex_lock (&relay->lock);
  while (relay->url == NULL)
    g_cond_wait (&relay->cond, &relay->lock);
  g_mutex_unlock (&relay->lock);
  return relay;
}

static gboolean
relay_quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
relay_free (Relay * relay)
{
  g_main_context_invoke (relay->context, relay_quit, relay->loop);
  g_thread_join (relay->thread);
  g_main_loop_unref (relay->loop);
  g_main_context_unref (relay->context);
  g_mutex_clear (&relay->lock);
  g_cond_clear (&relay->cond);
  g_free (relay->url);
  g_free (relay);
}

#define REUSE_FRAMES 100

/* Frames uploaded to the CDN, up to max-in-flight at once: the element's
 * exchanges (initiate, upload, submit, status stream, result) reuse
 * kept-alive connections, at most 0.1 new connections per frame. */
GST_START_TEST (test_upload_cdn_reuses_connections)
{
  Relay *relay = relay_new (server_url);
  GstElement *element = gst_element_factory_make ("falinfer", NULL);
  GstHarness *h;
  guint i;

  g_object_set (element, "application", "local/echo", "server-url",
      relay->url, "upload", 1 /* cdn */ , NULL);
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_set_live (h, FALSE);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  gst_harness_play (h);
  for (i = 0; i < REUSE_FRAMES; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, i)),
        GST_FLOW_OK);
  for (i = 0; i < REUSE_FRAMES; i++) {
    GstBuffer *out = gst_harness_pull (h);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (out);

    fail_unless (meta && meta->result_json, "frame %u: %s", i,
        meta ? meta->error : "no result");
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  fail_unless (g_atomic_int_get (&relay->connections) <= REUSE_FRAMES / 10,
      "%d connections for %d frames", g_atomic_int_get (&relay->connections),
      REUSE_FRAMES);
  relay_free (relay);
}

GST_END_TEST;

static gchar *
tls_file (const gchar * name)
{
  const gchar *root = g_getenv ("GST_FAL_SOURCE_ROOT");

  fail_unless (root && *root, "GST_FAL_SOURCE_ROOT is not set");
  return g_build_filename (root, "tests", "files", "tls", name, NULL);
}

/* An https server: frames go up to its CDN and come back with its CA given
 * (tls-ca-file); without it the element fails, naming the certificate. */
GST_START_TEST (test_https_server)
{
  g_autofree gchar *cert = tls_file ("server.pem");
  g_autofree gchar *key = tls_file ("server-key.pem");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (GTlsCertificate) certificate = NULL;
  GError *error = NULL;
  GstHarness *h;
  GstBus *bus;
  GstMessage *msg;
  GstBuffer *out;
  gchar *url;

  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  fail_unless (certificate != NULL, "%s", error ? error->message : "?");
  gst_fal_server_stop (server);
  g_object_unref (server);
  server = g_object_new (GST_FAL_TYPE_SERVER, "tls-certificate", certificate,
      NULL);
  fail_unless (gst_fal_server_start (server, &error));
  server_url = gst_fal_server_get_url (server);
  fail_unless (g_str_has_prefix (server_url, "https://"), "%s", server_url);

  h = harness_new ("local/echo", NULL, "upload", 1 /* cdn */ , "tls-ca-file",
      ca, NULL);
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  url = gst_fal_result_get_string (gst_buffer_get_fal_result_meta
      (out)->result_json, "image_url");
  fail_unless (url && g_str_has_prefix (url, server_url), "%s", url);
  g_free (url);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  h = harness_new ("local/echo", NULL, "upload", 2 /* data-uri */ , NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_harness_push (h, frame_new (h, 0));
  msg = gst_bus_timed_pop_filtered (bus, 90 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (strstr (error->message, "is not trusted (unknown CA)") != NULL,
      "%s", error->message);
  g_clear_error (&error);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

/* The other elements with a client take the same property. */
GST_START_TEST (test_tls_ca_file_property)
{
  const gchar *factories[] = { "falinfer", "falfilter", "falsrc", "falupload" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (factories); i++) {
    GstElement *element = gst_element_factory_make (factories[i], NULL);
    gchar *value = NULL;

    fail_unless (element != NULL, "%s", factories[i]);
    g_object_set (element, "tls-ca-file", "/some/ca.pem", NULL);
    g_object_get (element, "tls-ca-file", &value, NULL);
    fail_unless_equals_string (value, "/some/ca.pem");
    g_free (value);
    gst_object_unref (element);
  }
}

GST_END_TEST;

/* Error cases: status expected, on-error fail or skip. */
static void
check_error (const gchar * application, const gchar * arguments,
    const gchar * server_key, guint expected_status, gboolean skip)
{
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const GstStructure *details = NULL;
  guint status = 0;
  GError *error = NULL;

  if (server_key) {
    GError *err = NULL;
    gst_fal_server_stop (server);
    g_object_unref (server);
    server = gst_fal_server_new ();
    g_object_set (server, "key", server_key, NULL);
    fail_unless (gst_fal_server_start (server, &err));
    server_url = gst_fal_server_get_url (server);
  }
  h = harness_new (application, arguments, "on-error", skip ? 1 : 0, NULL);
  gst_element_set_bus (h->element, bus);
  gst_harness_push (h, frame_new (h, 0));

  msg = gst_bus_timed_pop_filtered (bus, 90 * GST_SECOND,
      skip ? GST_MESSAGE_WARNING : GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  if (skip)
    gst_message_parse_warning_details (msg, &details);
  else
    gst_message_parse_error_details (msg, &details);
  fail_unless (details != NULL);
  fail_unless (gst_structure_get_uint (details, "http-status-code", &status));
  fail_unless_equals_int (status, expected_status);
  if (skip)
    gst_message_parse_warning (msg, &error, NULL);
  else
    gst_message_parse_error (msg, &error, NULL);
  if (expected_status == 401)
    fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_NOT_AUTHORIZED));
  if (expected_status == 404)
    fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_NOT_FOUND));
  g_clear_error (&error);
  gst_message_unref (msg);

  if (skip) {
    GstBuffer *out = gst_harness_pull (h);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (out);

    fail_unless (meta != NULL);
    fail_unless (meta->error != NULL);
    fail_unless (meta->result_json == NULL);
    fail_unless_equals_int (meta->http_status, expected_status);
    gst_buffer_unref (out);
    /* the stream goes on */
    fail_unless_equals_int (gst_harness_push (h, frame_new (h, 1)),
        GST_FLOW_OK);
  } else {
    gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;
    GstFlowReturn ret = GST_FLOW_OK;
    /* the stream stops */
    while (ret == GST_FLOW_OK && g_get_monotonic_time () < deadline) {
      ret = gst_harness_push (h, frame_new (h, 1));
      if (ret == GST_FLOW_OK)
        g_usleep (10000);
    }
    fail_unless_equals_int (ret, GST_FLOW_ERROR);
    fail_unless (gst_harness_try_pull (h) == NULL);
  }
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_START_TEST (test_error_401)
{
  check_error ("local/echo", NULL, "secret-key", 401, FALSE);
  check_error ("local/echo", NULL, "secret-key", 401, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_error_404)
{
  check_error ("local/does-not-exist", NULL, NULL, 404, FALSE);
  check_error ("local/does-not-exist", NULL, NULL, 404, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_error_422)
{
  check_error ("local/sleep", "{\"seconds\": \"long\"}", NULL, 422, FALSE);
  check_error ("local/sleep", "{\"seconds\": \"long\"}", NULL, 422, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_error_500)
{
  check_error ("local/fail", "{\"status\": 500}", NULL, 500, FALSE);
  check_error ("local/fail", "{\"status\": 500}", NULL, 500, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_latency_query)
{
  GstHarness *h = harness_new ("local/echo", NULL, "latency",
      (guint64) (200 * GST_MSECOND), NULL);
  GstQuery *query = gst_query_new_latency ();
  GstClockTime min, max;
  gboolean live;

  gst_harness_set_upstream_latency (h, 10 * GST_MSECOND);
  fail_unless (gst_pad_peer_query (h->sinkpad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless_equals_uint64 (min, 210 * GST_MSECOND);
  gst_query_unref (query);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A QR code drawn by qroverlay, read back by local/barcode on the
 * embedded default server (no server-url, GST_FAL_URL empty). Returns the
 * box of the code in frame pixels. */
static void
qr_roundtrip (guint max_dimension, GstVideoRegionOfInterestMeta * box)
{
  GstElement *pipeline, *sink;
  GError *error = NULL;
  GstSample *sample;
  guint found = 0, frames = 0;
  gchar *last = NULL, *desc;

  desc = g_strdup_printf ("videotestsrc num-buffers=3 pattern=white ! "
      "video/x-raw,width=320,height=240 ! qroverlay data=hello "
      "pixel-size=6 ! falinfer application=local/barcode max-dimension=%u ! "
      "appsink name=sink sync=false", max_dimension);
  pipeline = gst_parse_launch (desc, &error);
  g_free (desc);
  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              90 * GST_SECOND))) {
    GstBuffer *buffer = gst_sample_get_buffer (sample);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (buffer);
    GstVideoRegionOfInterestMeta *roi;
    gchar *lower;

    frames++;
    fail_unless (meta != NULL);
    fail_unless (meta->result_json != NULL, "error: %s", meta->error);
    /* qroverlay encodes in QR alphanumeric mode, which is upper case */
    lower = g_ascii_strdown (meta->result_json, -1);
    roi = gst_buffer_get_video_region_of_interest_meta (buffer);
    if (strstr (lower, "hello") && roi) {
      found++;
      *box = *roi;
    }
    g_free (lower);
    g_free (last);
    last = g_strdup (meta->result_json);
    gst_sample_unref (sample);
  }
  fail_unless_equals_int (frames, 3);
  fail_unless (found > 0, "last result: %s", last);
  g_free (last);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_qr_roundtrip_default_server)
{
  GstVideoRegionOfInterestMeta full, scaled;

  if (!gst_registry_check_feature_version (gst_registry_get (), "qroverlay",
          1, 0, 0)) {
    GST_INFO ("qroverlay missing, skipping");
    return;
  }
  qr_roundtrip (0, &full);
  fail_unless (full.w > 0 && full.x + full.w <= 320);
  fail_unless (full.h > 0 && full.y + full.h <= 240);
  /* sent at half size, the box comes back in frame pixels */
  qr_roundtrip (160, &scaled);
  fail_unless (ABS ((gint) scaled.w - (gint) full.w) <= (gint) full.w / 10,
      "box width %u at half size, %u at full size", scaled.w, full.w);
  fail_unless (ABS ((gint) scaled.x - (gint) full.x) <= (gint) full.w / 10,
      "box at x=%u at half size, x=%u at full size", scaled.x, full.x);
}

GST_END_TEST;

/* Two fal elements of a pipeline share one client through the context. */
GST_START_TEST (test_client_shared)
{
  GstElement *pipeline, *a, *b;
  GError *error = NULL;

  pipeline = gst_parse_launch ("videotestsrc num-buffers=1 ! "
      "falinfer name=a application=local/echo ! "
      "falinfer name=b application=local/echo ! fakesink", &error);
  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  a = gst_bin_get_by_name (GST_BIN (pipeline), "a");
  b = gst_bin_get_by_name (GST_BIN (pipeline), "b");
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (g_object_get_data (G_OBJECT (a), "gst-fal-client") != NULL);
  fail_unless (g_object_get_data (G_OBJECT (a), "gst-fal-client") ==
      g_object_get_data (G_OBJECT (b), "gst-fal-client"));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (a);
  gst_object_unref (b);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Without a budget, the measured round trip is the latency, announced
 * with a LATENCY message when it grows. */
GST_START_TEST (test_latency_measured)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 0.2}", NULL);
  GstBus *bus = gst_bus_new ();
  GstQuery *query = gst_query_new_latency ();
  GstMessage *msg;
  GstClockTime min, max;
  gboolean live;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_upstream_latency (h, 0);
  fail_unless (gst_pad_peer_query (h->sinkpad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless_equals_uint64 (min, 0);

  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_LATENCY);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  fail_unless (gst_pad_peer_query (h->sinkpad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  /* the app sleeps 0.2 s: the round trip cannot be shorter */
  fail_unless (min >= 200 * GST_MSECOND, "latency %" GST_TIME_FORMAT,
      GST_TIME_ARGS (min));
  gst_query_unref (query);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

/* The element's timeout bounds the upload too: a CDN that takes the
 * connection and never answers fails the frame with a timeout. */
GST_START_TEST (test_timeout_bounds_upload)
{
  SilentServer *silent = silent_server_new ();
  GstHarness *h = harness_new ("local/echo", NULL, "server-url", silent->url,
      "upload", 1, "timeout", 0.5, "on-error", 1, NULL);
  GstFalResultMeta *meta;
  GstBuffer *out;

  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless (meta != NULL && meta->error != NULL);
  fail_unless_equals_string (meta->error_type, "timeout");
  fail_unless_equals_uint64 (get_counter (h->element, "failed"), 1);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  silent_server_free (silent);
}

GST_END_TEST;

/* A live source whose frames find the window full still gets its EOS
 * through: the streaming thread waits for a slot only for the latency
 * budget, so gst-launch-1.0 -e stops after eos-timeout, not after the
 * requests (600 s; the bound below only stops a hang). */
GST_START_TEST (test_live_eos_with_full_window)
{
  g_autofree gchar *description = g_strdup_printf ("videotestsrc is-live=true "
      "! " FRAME_CAPS " ! falinfer name=f application=local/sleep "
      "server-url=%s max-in-flight=2 eos-timeout=0.3 ! fakesink", server_url);
  GstElement *pipeline = gst_parse_launch (description, NULL);
  GstElement *f = gst_bin_get_by_name (GST_BIN (pipeline), "f");
  GstMessage *msg;

  g_object_set (f, "arguments", "{\"seconds\": 600}", NULL);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  wait_in_flight (f, 2);
  /* frames keep coming while the window is full */
  wait_counter_at_least (f, "skipped", 2);
  fail_unless (gst_element_send_event (pipeline, gst_event_new_eos ()));
  msg = wait_error_or_eos_within (pipeline, 60);
  fail_unless (msg != NULL, "EOS waited behind the full window");
  /* the requests in flight lost their results */
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (f);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* An in-progress message carries logs only when there are some. */
GST_START_TEST (test_in_progress_without_logs)
{
  GstHarness *h = harness_new ("local/sleep", "{\"seconds\": 0.3}", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint in_progress = 0;

  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, frame_new (h, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (g_strcmp0 (gst_structure_get_string (s, "state"), "in-progress") == 0) {
      in_progress++;
      fail_if (gst_structure_has_field (s, "logs"), "logs=\"%s\"",
          gst_structure_get_string (s, "logs"));
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (in_progress, 1);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

/* A client the application gives is used as given, even where the element
 * would have picked another server (local/ with no server: the embedded
 * one). */
GST_START_TEST (test_application_context_used)
{
  GstFalClient *client = gst_fal_client_new_for_url (server_url);
  GstContext *context = gst_context_new (GST_FAL_CLIENT_CONTEXT_TYPE, FALSE);
  GstElement *pipeline = gst_parse_launch ("videotestsrc num-buffers=1 ! "
      "falinfer name=f application=local/echo ! fakesink", NULL);
  GstElement *f = gst_bin_get_by_name (GST_BIN (pipeline), "f");
  GstMessage *msg;

  gst_structure_set (gst_context_writable_structure (context), "client",
      GST_FAL_TYPE_CLIENT, client, NULL);
  gst_element_set_context (pipeline, context);
  gst_context_unref (context);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = wait_error_or_eos_within (pipeline, 60);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  fail_unless (g_object_get_data (G_OBJECT (f), "gst-fal-client") == client);
  fail_unless_equals_uint64 (get_counter (f, "completed"), 1);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (f);
  gst_object_unref (pipeline);
  g_object_unref (client);
}

GST_END_TEST;

static Suite *
falinfer_suite (void)
{
  Suite *s = suite_create ("falinfer");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, server_setup, server_teardown);
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps_negotiation);
  tcase_add_test (tc, test_numbers_unchanged);
  tcase_add_test (tc, test_ordered_keeps_order);
  tcase_add_test (tc, test_interval_one_result_each);
  tcase_add_test (tc, test_max_rate);
  tcase_add_test (tc, test_live_never_blocks);
  tcase_add_test (tc, test_live_results_carry_source_pts);
  tcase_add_test (tc, test_live_exactly_one_result_each);
  tcase_add_test (tc, test_eos_drains);
  tcase_add_test (tc, test_eos_timeout_cancels);
  tcase_add_test (tc, test_eos_timeout_fails);
  tcase_add_test (tc, test_eos_timeout_skip_warns);
  tcase_add_test (tc, test_timeout_bounds_upload);
  tcase_add_test (tc, test_live_eos_with_full_window);
  tcase_add_test (tc, test_in_progress_without_logs);
  tcase_add_test (tc, test_application_context_used);
  tcase_add_test (tc, test_flush_with_32_in_flight);
  tcase_add_test (tc, test_stop_with_32_in_flight);
  tcase_add_test (tc, test_live_no_stale_result_after_flush);
  tcase_add_test (tc, test_keep_latest);
  tcase_add_test (tc, test_timeout_cancels_on_server);
  tcase_add_test (tc, test_bus_messages);
  tcase_add_test (tc, test_upload_modes);
  tcase_add_test (tc, test_upload_cdn_reuses_connections);
  tcase_add_test (tc, test_https_server);
  tcase_add_test (tc, test_tls_ca_file_property);
  tcase_add_test (tc, test_error_401);
  tcase_add_test (tc, test_error_404);
  tcase_add_test (tc, test_error_422);
  tcase_add_test (tc, test_error_500);
  tcase_add_test (tc, test_latency_query);
  tcase_add_test (tc, test_latency_measured);
  tcase_add_test (tc, test_qr_roundtrip_default_server);
  tcase_add_test (tc, test_client_shared);
  return s;
}

GST_CHECK_MAIN (falinfer);
