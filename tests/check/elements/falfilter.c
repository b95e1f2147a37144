/* gst-fal: tests of falfilter against the in-process local server */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <gst/fal/gstfal.h>
#include <gst/falserver/gstfalserver.h>

#include "falelementtest.h"

/* Runs videotestsrc ! @caps ! falfilter ! appsink and checks every frame
 * comes out in the negotiated caps, replaced by the model's image. */
static void
check_edges (const gchar * caps_str, const gchar * extra, guint n_frames)
{
  g_autofree gchar *desc = NULL;
  GstElement *pipeline, *sink;
  GError *error = NULL;
  GstCaps *expected = gst_caps_from_string (caps_str);
  GstVideoInfo info;
  GstSample *sample;
  guint frames = 0, replaced = 0;

  fail_unless (gst_video_info_from_caps (&info, expected));
  desc = g_strdup_printf ("videotestsrc num-buffers=%u pattern=smpte ! "
      "%s ! falfilter name=f application=local/edge-detection "
      "server-url=%s %s ! appsink name=sink sync=false", n_frames, caps_str,
      gst_fal_server_get_url (server), extra);
  pipeline = gst_parse_launch (desc, &error);
  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              90 * GST_SECOND))) {
    GstBuffer *buffer = gst_sample_get_buffer (sample);
    GstCaps *caps = gst_sample_get_caps (sample);
    GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (buffer);

    fail_unless (gst_caps_is_equal (caps, expected));
    fail_unless_equals_int (gst_buffer_get_size (buffer), info.size);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buffer),
        gst_util_uint64_scale (frames, GST_SECOND, 30));
    if (meta) {
      fail_unless (meta->result_json != NULL, "error: %s", meta->error);
      fail_unless_equals_uint64 (meta->source_pts, GST_BUFFER_PTS (buffer));
      replaced++;
    }
    frames++;
    gst_sample_unref (sample);
  }
  fail_unless_equals_int (frames, n_frames);
  fail_unless (replaced > 0);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_caps_unref (expected);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_edges_negotiated_size)
{
  check_edges ("video/x-raw,format=RGBA,width=320,height=240,"
      "framerate=30/1,pixel-aspect-ratio=1/1,interlace-mode=progressive,"
      "colorimetry=sRGB,multiview-mode=mono,chroma-site=jpeg", "", 3);
}

GST_END_TEST;

GST_START_TEST (test_edges_other_format_and_size)
{
  check_edges ("video/x-raw,format=I420,width=176,height=144,"
      "framerate=30/1,pixel-aspect-ratio=1/1,interlace-mode=progressive,"
      "colorimetry=bt601,multiview-mode=mono,chroma-site=jpeg",
      "max-dimension=64", 3);
}

GST_END_TEST;

/* The output frame is the model's image, not the input: edge detection of
 * a flat grey frame is black. */
/* A falfilter harness running local/edge-detection on 64x48 GRAY8 frames,
 * with the properties from @first_property on, NULL-terminated. */
static GstHarness *
gray_edges_harness (const gchar * first_property, ...)
{
  GstElement *element = gst_element_factory_make ("falfilter", NULL);
  GstHarness *h;
  va_list args;

  g_object_set (element, "application", "local/edge-detection",
      "server-url", gst_fal_server_get_url (server), NULL);
  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (element), first_property, args);
  va_end (args);
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=64,"
      "height=48,framerate=30/1");
  gst_harness_play (h);
  return h;
}

/* Pushes a mid-gray (0x80) frame at @pts. */
static void
push_gray (GstHarness * h, GstClockTime pts)
{
  GstBuffer *in = gst_harness_create_buffer (h, 64 * 48);

  gst_buffer_memset (in, 0, 0x80, 64 * 48);
  GST_BUFFER_PTS (in) = pts;
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
}

GST_START_TEST (test_frame_replaced)
{
  GstHarness *h = gray_edges_harness (NULL);
  GstBuffer *out;
  GstMapInfo map;
  gsize i;
  guint bright = 0;

  push_gray (h, 0);
  out = gst_harness_pull (h);
  fail_unless (gst_buffer_get_fal_result_meta (out) != NULL);
  fail_unless_equals_int (gst_buffer_get_size (out), 64 * 48);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  for (i = 0; i < map.size; i++)
    if (map.data[i] > 0x40)
      bright++;
  gst_buffer_unmap (out, &map);
  fail_unless (bright < 64 * 48 / 10, "%u bright pixels", bright);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_unsampled_frames_pass)
{
  GstHarness *h = gray_edges_harness ("interval", 2, NULL);
  guint i;

  for (i = 0; i < 4; i++)
    push_gray (h, i * GST_SECOND / 30);
  for (i = 0; i < 4; i++) {
    GstBuffer *out = gst_harness_pull (h);
    guint8 value;

    fail_unless_equals_int (gst_buffer_get_size (out), 64 * 48);
    gst_buffer_extract (out, 0, &value, 1);
    if (i % 2 == 0) {
      fail_unless (gst_buffer_get_fal_result_meta (out) != NULL);
    } else {
      fail_unless (gst_buffer_get_fal_result_meta (out) == NULL);
      fail_unless_equals_int (value, 0x80);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* live: frames pass at once; the next frame leaving after an output image
 * arrives is replaced by it, with the source PTS in its meta */
GST_START_TEST (test_live_replaces_next_frame)
{
  GstHarness *h = gray_edges_harness ("ordering", 1, "max-in-flight", 1,
      "when-full", 1, NULL);
  GstBuffer *out;
  GstFalResultMeta *meta;
  guint64 completed = 0;
  gint64 deadline;
  guint8 value;

  push_gray (h, 0);
  out = gst_harness_pull (h);
  gst_buffer_extract (out, 0, &value, 1);
  fail_unless_equals_int (value, 0x80);
  fail_unless (gst_buffer_get_fal_result_meta (out) == NULL);
  gst_buffer_unref (out);

  deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;
  while (completed < 1 && g_get_monotonic_time () < deadline) {
    g_usleep (5000);
    g_object_get (h->element, "completed", &completed, NULL);
  }
  fail_unless_equals_uint64 (completed, 1);

  push_gray (h, GST_SECOND);
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_SECOND);
  fail_unless_equals_int (gst_buffer_get_size (out), 64 * 48);
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless (meta != NULL);
  fail_unless_equals_uint64 (meta->source_pts, 0);
  gst_buffer_extract (out, 0, &value, 1);
  fail_unless (value != 0x80);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* result-path picks the image; a path to nothing is an error, and with
 * on-error=skip the frame passes unchanged with an error meta */
static GstBuffer *
filter_one_frame (const gchar * result_path)
{
  GstHarness *h = gray_edges_harness ("result-path", result_path, "on-error",
      1, NULL);
  GstBuffer *out;

  push_gray (h, 0);
  out = gst_harness_pull (h);
  gst_harness_teardown (h);
  return out;
}

GST_START_TEST (test_result_path)
{
  GstBuffer *out;
  GstFalResultMeta *meta;
  guint8 value;

  out = filter_one_frame ("image.url");
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless (meta != NULL && meta->result_json != NULL);
  gst_buffer_extract (out, 0, &value, 1);
  fail_unless (value != 0x80);
  gst_buffer_unref (out);

  out = filter_one_frame ("nothing.here");
  meta = gst_buffer_get_fal_result_meta (out);
  fail_unless (meta != NULL);
  fail_unless (meta->error != NULL);
  gst_buffer_extract (out, 0, &value, 1);
  fail_unless_equals_int (value, 0x80);
  gst_buffer_unref (out);
}

GST_END_TEST;

static Suite *
falfilter_suite (void)
{
  Suite *s = suite_create ("falfilter");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, server_setup, server_teardown);
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_edges_negotiated_size);
  tcase_add_test (tc, test_edges_other_format_and_size);
  tcase_add_test (tc, test_frame_replaced);
  tcase_add_test (tc, test_unsampled_frames_pass);
  tcase_add_test (tc, test_live_replaces_next_frame);
  tcase_add_test (tc, test_result_path);
  return s;
}

GST_CHECK_MAIN (falfilter);
