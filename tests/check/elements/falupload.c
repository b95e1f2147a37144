/* gst-fal: falupload tests, against the local server started in the process */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/fal/gstfal.h>
#include <gst/falserver/gstfalserver.h>

#include "falelementtest.h"
#include <string.h>

#define WAIT (90 * GST_SECOND)
#define N_FRAMES 5

/* @n PNG images of a moving pattern, each different. */
static GList *
make_pngs (guint n)
{
  gchar *description = g_strdup_printf ("videotestsrc num-buffers=%u "
      "pattern=ball ! video/x-raw,width=64,height=48 ! pngenc ! "
      "appsink name=sink sync=false", n);
  GstElement *pipeline = gst_parse_launch (description, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GList *pngs = NULL;
  GstSample *sample;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), WAIT))) {
    pngs = g_list_append (pngs, gst_buffer_ref (gst_sample_get_buffer
            (sample)));
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (description);
  fail_unless_equals_int (g_list_length (pngs), n);
  return pngs;
}

static gchar *
meta_url (GstBuffer * buffer)
{
  GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (buffer);

  fail_unless (meta != NULL, "no result meta");
  fail_unless (meta->error == NULL, "upload failed: %s", meta->error);
  fail_unless (meta->result_json != NULL);
  return gst_fal_result_get_string (meta->result_json, "url");
}

static GBytes *
download (const gchar * url, gchar ** content_type)
{
  GstFalClient *client = gst_fal_client_new_for_url (NULL);
  GError *error = NULL;
  GBytes *bytes;

  bytes = gst_fal_client_download (client, url, content_type, NULL, &error);
  fail_unless (bytes != NULL, "%s: %s", url, error ? error->message : "");
  g_object_unref (client);
  return bytes;
}

static gboolean
buffer_equals_bytes (GstBuffer * buffer, GBytes * bytes)
{
  GstMapInfo map;
  gboolean equal;

  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  equal = map.size == g_bytes_get_size (bytes)
      && memcmp (map.data, g_bytes_get_data (bytes, NULL), map.size) == 0;
  gst_buffer_unmap (buffer, &map);
  return equal;
}

/* Five PNG frames leave in order with their URLs; each URL serves the very
 * bytes of its frame, and a fal-upload message names it. */
GST_START_TEST (test_upload_png_roundtrip)
{
  GstHarness *h = gst_harness_new ("falupload");
  GstBus *bus = gst_bus_new ();
  GList *pngs = make_pngs (N_FRAMES), *l;
  gchar *urls[N_FRAMES] = { NULL };
  guint i;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "image/png,width=64,height=48,"
      "framerate=30/1");
  gst_harness_play (h);

  for (l = pngs, i = 0; l; l = l->next, i++) {
    GstBuffer *in = gst_buffer_copy (l->data);

    GST_BUFFER_PTS (in) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  for (l = pngs, i = 0; l; l = l->next, i++) {
    GstBuffer *out = gst_harness_pull (h);
    gchar *content_type = NULL;
    GBytes *bytes;

    fail_unless (out != NULL, "frame %u did not leave", i);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 30);
    urls[i] = meta_url (out);
    fail_unless (urls[i] != NULL);
    bytes = download (urls[i], &content_type);
    fail_unless (buffer_equals_bytes (l->data, bytes),
        "frame %u: the uploaded bytes differ", i);
    fail_unless (buffer_equals_bytes (out, bytes), "frame %u changed", i);
    fail_unless_equals_string (content_type, "image/png");
    g_free (content_type);
    g_bytes_unref (bytes);
    gst_buffer_unref (out);
  }

  /* one message per upload, with the same URLs, in order */
  for (i = 0; i < N_FRAMES; i++) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, WAIT,
        GST_MESSAGE_ELEMENT);
    const GstStructure *s;

    fail_unless (msg != NULL);
    s = gst_message_get_structure (msg);
    if (!gst_structure_has_name (s, "fal-upload")) {
      gst_message_unref (msg);
      i--;
      continue;
    }
    fail_unless_equals_string (gst_structure_get_string (s, "url"), urls[i]);
    fail_unless_equals_string (gst_structure_get_string (s, "content-type"),
        "image/png");
    gst_message_unref (msg);
  }

  for (i = 0; i < N_FRAMES; i++) {
    guint j;
    for (j = i + 1; j < N_FRAMES; j++)
      fail_if (g_strcmp0 (urls[i], urls[j]) == 0);
    g_free (urls[i]);
  }
  g_list_free_full (pngs, (GDestroyNotify) gst_buffer_unref);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Raw frames are encoded (PNG here) before upload; interval=2 uploads
 * every other frame, the others pass without a meta. */
GST_START_TEST (test_upload_raw_interval)
{
  GstHarness *h = gst_harness_new_parse ("falupload image-format=png "
      "interval=2");
  guint i;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=32,"
      "height=16,framerate=30/1");
  gst_harness_play (h);
  for (i = 0; i < 4; i++) {
    GstBuffer *in = gst_buffer_new_and_alloc (32 * 16 * 3);

    gst_buffer_memset (in, 0, 0x20 * (i + 1), 32 * 16 * 3);
    GST_BUFFER_PTS (in) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  for (i = 0; i < 4; i++) {
    GstBuffer *out = gst_harness_pull (h);

    fail_unless (out != NULL);
    if (i % 2 == 0) {
      gchar *url = meta_url (out), *content_type = NULL;
      GBytes *bytes = download (url, &content_type);
      gsize size;
      const guint8 *data = g_bytes_get_data (bytes, &size);

      fail_unless_equals_string (content_type, "image/png");
      fail_unless (size > 8 && memcmp (data, "\x89PNG", 4) == 0);
      g_bytes_unref (bytes);
      g_free (content_type);
      g_free (url);
    } else {
      fail_unless (gst_buffer_get_fal_result_meta (out) == NULL);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Caps pass through unchanged, whatever they are. */
GST_START_TEST (test_caps_passthrough)
{
  GstHarness *h = gst_harness_new ("falupload");
  GstCaps *caps;

  gst_harness_set_src_caps_str (h, "audio/mpeg,mpegversion=1,layer=3");
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_wrapped (g_strdup ("ID3 not really"), 14)),
      GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "audio/mpeg"));
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* server-url names the server whose CDN stores the upload. */
GST_START_TEST (test_server_url)
{
  GstFalServer *cdn = gst_fal_server_new ();
  GError *error = NULL;
  GstHarness *h;
  GstBuffer *out;
  gchar *url, *content_type = NULL, *description;
  GBytes *bytes;

  fail_unless (gst_fal_server_start (cdn, &error), "%s",
      error ? error->message : "");
  description = g_strdup_printf ("falupload server-url=%s",
      gst_fal_server_get_url (cdn));
  h = gst_harness_new_parse (description);
  g_free (description);
  gst_harness_set_src_caps_str (h, "application/json");
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_wrapped (g_strdup ("{\"a\":1}"), 7)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  url = meta_url (out);
  fail_unless (g_str_has_prefix (url, gst_fal_server_get_url (cdn)),
      "%s is not on %s", url, gst_fal_server_get_url (cdn));
  bytes = download (url, &content_type);
  fail_unless (buffer_equals_bytes (out, bytes));
  fail_unless_equals_string (content_type, "application/json");
  g_free (content_type);
  g_bytes_unref (bytes);
  g_free (url);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  gst_fal_server_stop (cdn);
  g_object_unref (cdn);
}

GST_END_TEST;

/* An upload to a server that is not there fails the stream with an
 * element error (on-error=fail, the default). */
GST_START_TEST (test_upload_error)
{
  GstElement *pipeline = gst_parse_launch ("appsrc name=src format=time "
      "caps=image/png ! falupload server-url=http://127.0.0.1:9 "
      "! fakesink", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_app_src_push_buffer (GST_APP_SRC (src),
      gst_buffer_new_wrapped (g_strdup ("not a png"), 9));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  msg = gst_bus_timed_pop_filtered (bus, WAIT,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* A CDN that takes the connection and never answers: the upload fails
 * within the element's timeout, or is lost at EOS after eos-timeout; either
 * way the pipeline ends in an error, never in a silent EOS. */
static void
check_silent_cdn_fails (const gchar * limits, const gchar * expected)
{
  SilentServer *silent = silent_server_new ();
  g_autofree gchar *description = g_strdup_printf ("videotestsrc "
      "num-buffers=2 ! pngenc ! falupload server-url=%s %s ! fakesink",
      silent->url, limits);
  GstElement *pipeline = gst_parse_launch (description, NULL);
  GstMessage *msg;
  GError *error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = wait_error_or_eos_within (pipeline, 60);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (strstr (error->message, expected) != NULL, "%s",
      error->message);
  g_error_free (error);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  silent_server_free (silent);
}

GST_START_TEST (test_silent_cdn_timeout)
{
  /* the upload's own deadline or the element's, whichever comes first */
  check_silent_cdn_fails ("timeout=0.5", "within");
}

GST_END_TEST;

GST_START_TEST (test_silent_cdn_lost_at_eos)
{
  check_silent_cdn_fails ("eos-timeout=0.3", "lost");
}

GST_END_TEST;

static Suite *
falupload_suite (void)
{
  Suite *s = suite_create ("falupload");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_upload_png_roundtrip);
  tcase_add_test (tc, test_upload_raw_interval);
  tcase_add_test (tc, test_caps_passthrough);
  tcase_add_test (tc, test_server_url);
  tcase_add_test (tc, test_upload_error);
  tcase_add_test (tc, test_silent_cdn_timeout);
  tcase_add_test (tc, test_silent_cdn_lost_at_eos);
  return s;
}

GST_CHECK_MAIN (falupload);
