/* gst-fal: faloverlay tests */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/fal/gstfal.h>

#define WIDTH 64
#define HEIGHT 48
#define BACKGROUND 0x40

static const gchar *formats[] = {
  "BGRx", "BGRA", "RGBx", "RGBA", "xRGB", "ARGB", "xBGR", "ABGR"
};

static GstHarness *
overlay_harness (const gchar * format, const gchar * properties)
{
  gchar *desc = g_strdup_printf ("faloverlay %s", properties);
  GstHarness *h = gst_harness_new_parse (desc);
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=30/1", format, WIDTH, HEIGHT);

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  g_free (desc);
  return h;
}

static GstBuffer *
gray_frame (void)
{
  GstBuffer *buffer = gst_buffer_new_and_alloc (WIDTH * HEIGHT * 4);

  gst_buffer_memset (buffer, 0, BACKGROUND, WIDTH * HEIGHT * 4);
  GST_BUFFER_PTS (buffer) = 0;
  GST_BUFFER_DURATION (buffer) = GST_SECOND / 30;
  return buffer;
}

/* The R, G, B values of a pixel of a packed frame of @format. */
static void
pixel_at (GstBuffer * buffer, const gchar * format, gint x, gint y,
    guint rgb[3])
{
  const GstVideoFormatInfo *finfo =
      gst_video_format_get_info (gst_video_format_from_string (format));
  GstMapInfo map;
  const guint8 *p;

  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  p = map.data + y * WIDTH * 4 + x * 4;
  rgb[0] = p[GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_R)];
  rgb[1] = p[GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_G)];
  rgb[2] = p[GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_B)];
  gst_buffer_unmap (buffer, &map);
}

static gboolean
pixel_is_background (GstBuffer * buffer, const gchar * format, gint x, gint y)
{
  guint rgb[3];

  pixel_at (buffer, format, x, y, rgb);
  return rgb[0] == BACKGROUND && rgb[1] == BACKGROUND && rgb[2] == BACKGROUND;
}

static gboolean
row_is_background (GstBuffer * buffer, const gchar * format, gint y)
{
  gint x;

  for (x = 0; x < WIDTH; x++)
    if (!pixel_is_background (buffer, format, x, y))
      return FALSE;
  return TRUE;
}

/* A box at (10,20) 30x20 in red, without label: the outline turns red,
 * the inside and the rest of the frame stay as they were. */
GST_START_TEST (test_box_outline)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = overlay_harness (formats[i],
        "color=0xffff0000 line-width=2 show-labels=false");
    GstBuffer *in = gray_frame (), *out;
    guint rgb[3];
    gint x, y;

    gst_buffer_add_video_region_of_interest_meta (in, "face", 10, 20, 30, 20);
    out = gst_harness_push_and_pull (h, in);
    fail_unless (out != NULL);

    /* left, right, top and bottom edges */
    pixel_at (out, formats[i], 10, 30, rgb);
    fail_unless (rgb[0] == 255 && rgb[1] == 0 && rgb[2] == 0,
        "%s: left edge is %u,%u,%u", formats[i], rgb[0], rgb[1], rgb[2]);
    pixel_at (out, formats[i], 39, 30, rgb);
    fail_unless (rgb[0] == 255 && rgb[2] == 0, "%s: right edge", formats[i]);
    pixel_at (out, formats[i], 25, 20, rgb);
    fail_unless (rgb[0] == 255 && rgb[2] == 0, "%s: top edge", formats[i]);
    pixel_at (out, formats[i], 25, 39, rgb);
    fail_unless (rgb[0] == 255 && rgb[2] == 0, "%s: bottom edge", formats[i]);

    /* nothing else changed */
    for (y = 0; y < HEIGHT; y++)
      for (x = 0; x < WIDTH; x++) {
        gboolean on_box = x >= 10 && x < 40 && y >= 20 && y < 40
            && !(x >= 12 && x < 38 && y >= 22 && y < 38);
        if (!on_box)
          fail_unless (pixel_is_background (out, formats[i], x, y),
              "%s: pixel %d,%d changed", formats[i], x, y);
      }

    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* The label goes above the box, the inside of the box stays untouched. */
GST_START_TEST (test_label)
{
  GstHarness *h = overlay_harness ("BGRx", "font-size=10");
  GstBuffer *in = gray_frame (), *out;
  GstVideoRegionOfInterestMeta *roi;
  gint y;

  roi = gst_buffer_add_video_region_of_interest_meta (in, "face", 10, 24,
      40, 20);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("detection", "label", G_TYPE_STRING, "face",
          "score", G_TYPE_DOUBLE, 0.9, NULL));
  out = gst_harness_push_and_pull (h, in);

  /* some pixel in the rows just above the box changed */
  {
    gboolean changed = FALSE;
    gint x;

    for (y = 12; y < 24 && !changed; y++)
      for (x = 10; x < WIDTH && !changed; x++)
        changed = !pixel_is_background (out, "BGRx", x, y);
    fail_unless (changed, "no label drawn above the box");
  }
  fail_unless (pixel_is_background (out, "BGRx", 30, 34));
  fail_unless (row_is_background (out, "BGRx", 0));
  fail_unless (row_is_background (out, "BGRx", HEIGHT - 1));

  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A result meta with the caption field draws a line at the bottom; an
 * error meta too; a result without the field draws nothing. */
GST_START_TEST (test_caption)
{
  GstHarness *h = overlay_harness ("RGBA", "caption-field=symbols.0.data");
  GstBuffer *in, *out;

  in = gray_frame ();
  gst_buffer_add_fal_result_meta (in, "r1", "local/barcode",
      "{\"symbols\":[{\"type\":\"QR-Code\",\"data\":\"hello\"}]}", NULL, NULL,
      0, 0, NULL);
  out = gst_harness_push_and_pull (h, in);
  fail_if (row_is_background (out, "RGBA", HEIGHT - 5));
  fail_unless (row_is_background (out, "RGBA", 0));
  gst_buffer_unref (out);

  in = gray_frame ();
  gst_buffer_add_fal_result_meta (in, "r2", "local/barcode",
      "{\"symbols\":[]}", NULL, NULL, 0, 0, NULL);
  out = gst_harness_push_and_pull (h, in);
  for (gint y = 0; y < HEIGHT; y++)
    fail_unless (row_is_background (out, "RGBA", y));
  gst_buffer_unref (out);

  in = gray_frame ();
  gst_buffer_add_fal_result_meta (in, "r3", "local/barcode", NULL,
      "Application not found", "not_found", 404, 0, NULL);
  out = gst_harness_push_and_pull (h, in);
  fail_if (row_is_background (out, "RGBA", HEIGHT - 5));
  gst_buffer_unref (out);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* Frames without metas leave untouched. */
GST_START_TEST (test_no_meta_passes)
{
  GstHarness *h = overlay_harness ("xRGB", "");
  GstBuffer *out = gst_harness_push_and_pull (h, gray_frame ());
  gint y;

  for (y = 0; y < HEIGHT; y++)
    fail_unless (row_is_background (out, "xRGB", y));
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Only packed 8-bit RGB formats are accepted. */
GST_START_TEST (test_caps)
{
  GstHarness *h = gst_harness_new ("faloverlay");
  GstCaps *caps, *bgrx, *i420;

  caps = gst_pad_peer_query_caps (h->srcpad, NULL);
  bgrx = gst_caps_from_string ("video/x-raw,format=BGRx");
  i420 = gst_caps_from_string ("video/x-raw,format=I420");
  fail_unless (gst_caps_can_intersect (caps, bgrx));
  fail_if (gst_caps_can_intersect (caps, i420));
  gst_caps_unref (bgrx);
  gst_caps_unref (i420);
  gst_caps_unref (caps);

  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=I420,width=64,height=48,framerate=30/1");
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_and_alloc (WIDTH * HEIGHT * 3 / 2)),
      GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
faloverlay_suite (void)
{
  Suite *s = suite_create ("faloverlay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_box_outline);
  tcase_add_test (tc, test_label);
  tcase_add_test (tc, test_caption);
  tcase_add_test (tc, test_no_meta_passes);
  tcase_add_test (tc, test_caps);
  return s;
}

GST_CHECK_MAIN (faloverlay);
