/* gst-fal: GstFalResultMeta, regions and result helpers */
#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>

static const GstFalTimings timings = { 1 * GST_MSECOND, 2 * GST_MSECOND,
  3 * GST_MSECOND, 4 * GST_MSECOND
};

static void
check_meta (GstFalResultMeta * meta)
{
  fail_unless (meta != NULL);
  fail_unless_equals_string (meta->request_id, "req-1");
  fail_unless_equals_string (meta->application, "local/echo");
  fail_unless_equals_string (meta->result_json, "{\"a\":1}");
  fail_unless (meta->error == NULL);
  fail_unless (meta->error_type == NULL);
  fail_unless_equals_int (meta->http_status, 0);
  fail_unless_equals_uint64 (meta->source_pts, 5 * GST_SECOND);
  fail_unless_equals_uint64 (meta->timings.upload, 1 * GST_MSECOND);
  fail_unless_equals_uint64 (meta->timings.queue, 2 * GST_MSECOND);
  fail_unless_equals_uint64 (meta->timings.run, 3 * GST_MSECOND);
  fail_unless_equals_uint64 (meta->timings.download, 4 * GST_MSECOND);
}

GST_START_TEST (test_meta_add_get_copy)
{
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, 16, NULL);
  GstBuffer *copy;
  GstFalResultMeta *meta, *copied;
  gchar *json = g_strdup ("{\"a\":1}");

  fail_unless (gst_buffer_get_fal_result_meta (buffer) == NULL);
  meta = gst_buffer_add_fal_result_meta (buffer, "req-1", "local/echo",
      json, NULL, NULL, 0, 5 * GST_SECOND, &timings);
  /* The meta holds copies. */
  json[2] = 'X';
  g_free (json);
  fail_unless (gst_buffer_get_fal_result_meta (buffer) == meta);
  check_meta (meta);
  fail_unless (meta->meta.info->api == GST_FAL_RESULT_META_API_TYPE);
  fail_unless (GST_FAL_RESULT_META_INFO == meta->meta.info);

  /* gst_buffer_copy keeps a deep copy. */
  copy = gst_buffer_copy (buffer);
  copied = gst_buffer_get_fal_result_meta (copy);
  fail_unless (copied != NULL && copied != meta);
  fail_unless (copied->result_json != meta->result_json);
  gst_buffer_unref (buffer);
  check_meta (copied);

  /* Any other transform (here a scale) does not keep it. */
  buffer = gst_buffer_new ();
  {
    GstVideoInfo in_info, out_info;
    GstVideoMetaTransform scale = { &in_info, &out_info };

    gst_video_info_set_format (&in_info, GST_VIDEO_FORMAT_RGB, 64, 64);
    gst_video_info_set_format (&out_info, GST_VIDEO_FORMAT_RGB, 32, 32);
    fail_if (copied->meta.info->transform_func (buffer, &copied->meta, copy,
            gst_video_meta_transform_scale_get_quark (), &scale));
  }
  fail_unless (gst_buffer_get_fal_result_meta (buffer) == NULL);
  gst_buffer_unref (buffer);
  gst_buffer_unref (copy);
}

GST_END_TEST;

GST_START_TEST (test_meta_error_and_defaults)
{
  GstBuffer *buffer = gst_buffer_new ();
  GstFalResultMeta *meta;

  meta = gst_buffer_add_fal_result_meta (buffer, NULL, "local/fail", NULL,
      "boom", "internal_error", 500, GST_CLOCK_TIME_NONE, NULL);
  fail_unless (meta->request_id == NULL);
  fail_unless (meta->result_json == NULL);
  fail_unless_equals_string (meta->error, "boom");
  fail_unless_equals_string (meta->error_type, "internal_error");
  fail_unless_equals_int (meta->http_status, 500);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (meta->source_pts));
  fail_unless (!GST_CLOCK_TIME_IS_VALID (meta->timings.upload));
  fail_unless (!GST_CLOCK_TIME_IS_VALID (meta->timings.download));

  /* Two metas: get returns the first. */
  gst_buffer_add_fal_result_meta (buffer, "r2", "local/echo", "{}", NULL,
      NULL, 0, 0, NULL);
  fail_unless (gst_buffer_get_fal_result_meta (buffer) == meta);
  gst_buffer_unref (buffer);
}

GST_END_TEST;

static GstFalRegion *
region_at (GPtrArray * regions, guint i)
{
  fail_unless (i < regions->len);
  return g_ptr_array_index (regions, i);
}

static void
check_box (GstFalRegion * r, gint x, gint y, gint w, gint h)
{
  fail_unless_equals_int (r->x, x);
  fail_unless_equals_int (r->y, y);
  fail_unless_equals_int (r->w, w);
  fail_unless_equals_int (r->h, h);
}

GST_START_TEST (test_meta_all_of_a_buffer)
{
  GstBuffer *buffer = gst_buffer_new ();
  GstBuffer *copy;
  GList *metas;

  fail_unless (gst_fal_buffer_get_result_metas (buffer) == NULL);
  assert_equals_int (gst_fal_buffer_get_n_result_metas (buffer), 0);
  gst_buffer_add_fal_result_meta (buffer, "r1", "local/first", "{}", NULL,
      NULL, 0, 0, NULL);
  gst_buffer_add_fal_result_meta (buffer, "r2", "local/second", "{}", NULL,
      NULL, 0, 0, NULL);
  copy = gst_buffer_copy (buffer);

  metas = gst_fal_buffer_get_result_metas (copy);
  assert_equals_int (g_list_length (metas), 2);
  assert_equals_int (gst_fal_buffer_get_n_result_metas (copy), 2);
  assert_equals_string (((GstFalResultMeta *) metas->data)->application,
      "local/first");
  assert_equals_string (((GstFalResultMeta *) metas->next->data)->application,
      "local/second");
  g_list_free (metas);
  gst_buffer_unref (copy);
  gst_buffer_unref (buffer);
}

GST_END_TEST;

GST_START_TEST (test_regions_barcode)
{
  GPtrArray *regions = gst_fal_result_find_regions ("{\"symbols\": ["
      "{\"type\": \"QR-Code\", \"data\": \"hello\", "
      "\"box\": {\"x\": 10, \"y\": 20, \"w\": 30, \"h\": 40}},"
      "{\"type\": \"EAN-13\", \"data\": \"123\", "
      "\"box\": {\"x\": 1, \"y\": 2, \"w\": 3, \"h\": 4}}]}", 1.0, 1.0);
  GstFalRegion *r;

  fail_unless_equals_int (regions->len, 2);
  r = region_at (regions, 0);
  check_box (r, 10, 20, 30, 40);
  fail_unless_equals_string (r->label, "QR-Code: hello");
  fail_unless_equals_string (r->data, "hello");
  fail_unless (r->score < 0);
  {
    g_autoptr (GstFalRegion) copy = g_boxed_copy (GST_FAL_TYPE_REGION, r);

    fail_unless (copy->label != r->label && copy->data != r->data);
    fail_unless_equals_string (copy->label, "QR-Code: hello");
    fail_unless_equals_string (copy->data, "hello");
    check_box (copy, 10, 20, 30, 40);
  }
  r = region_at (regions, 1);
  fail_unless_equals_string (r->label, "EAN-13: 123");
  check_box (r, 1, 2, 3, 4);
  g_ptr_array_unref (regions);
}

GST_END_TEST;

GST_START_TEST (test_regions_faces_scaled)
{
  GPtrArray *regions = gst_fal_result_find_regions ("{\"faces\": ["
      "{\"box\": {\"x\": 10, \"y\": 20, \"w\": 30, \"h\": 40}, "
      "\"score\": 0.9}], \"width\": 160, \"height\": 90}", 4.0, 2.0);
  GstFalRegion *r;

  fail_unless_equals_int (regions->len, 1);
  r = region_at (regions, 0);
  check_box (r, 40, 40, 120, 80);
  fail_unless_equals_string (r->label, "face");
  fail_unless (r->data == NULL);
  fail_unless (r->score > 0.899 && r->score < 0.901);
  g_ptr_array_unref (regions);
}

GST_END_TEST;

GST_START_TEST (test_regions_other_formats)
{
  GPtrArray *regions;
  GstFalRegion *r;

  /* bbox arrays [x, y, w, h] with a label and confidence */
  regions = gst_fal_result_find_regions ("{\"detections\": [{\"label\": "
      "\"cat\", \"confidence\": 0.5, \"bbox\": [5, 6, 7, 8]}]}", 1.0, 1.0);
  fail_unless_equals_int (regions->len, 1);
  r = region_at (regions, 0);
  check_box (r, 5, 6, 7, 8);
  fail_unless_equals_string (r->label, "cat");
  fail_unless (r->score == 0.5);
  g_ptr_array_unref (regions);

  /* {x_min, y_min, x_max, y_max}, nested deeper, no label → key */
  regions = gst_fal_result_find_regions ("{\"output\": {\"boxes\": [{\"box\":"
      " {\"x_min\": 10, \"y_min\": 10, \"x_max\": 50, \"y_max\": 30}}]}}",
      0.5, 0.5);
  fail_unless_equals_int (regions->len, 1);
  r = region_at (regions, 0);
  check_box (r, 5, 5, 20, 10);
  fail_unless_equals_string (r->label, "box");
  g_ptr_array_unref (regions);

  /* flat x/y/width/height with class and text */
  regions = gst_fal_result_find_regions ("{\"results\": [{\"class\": "
      "\"word\", \"text\": \"STOP\", \"x\": 1.4, \"y\": 2.6, \"width\": 3, "
      "\"height\": 4}]}", 1.0, 1.0);
  fail_unless_equals_int (regions->len, 1);
  r = region_at (regions, 0);
  check_box (r, 1, 3, 3, 4);
  fail_unless_equals_string (r->label, "word: STOP");
  fail_unless_equals_string (r->data, "STOP");
  g_ptr_array_unref (regions);

  /* no boxes: images, text, invalid JSON, NULL */
  regions = gst_fal_result_find_regions ("{\"image\": {\"url\": \"http://x\","
      " \"width\": 10, \"height\": 10}, \"text\": \"hi\"}", 1.0, 1.0);
  fail_unless_equals_int (regions->len, 0);
  g_ptr_array_unref (regions);
  regions = gst_fal_result_find_regions ("{not json", 1.0, 1.0);
  fail_unless_equals_int (regions->len, 0);
  g_ptr_array_unref (regions);
  regions = gst_fal_result_find_regions (NULL, 1.0, 1.0);
  fail_unless_equals_int (regions->len, 0);
  g_ptr_array_unref (regions);
}

GST_END_TEST;

GST_START_TEST (test_buffer_add_regions)
{
  GstBuffer *buffer = gst_buffer_new ();
  GPtrArray *regions = gst_fal_result_find_regions ("{\"symbols\": ["
      "{\"type\": \"QR-Code\", \"data\": \"hello\", "
      "\"box\": {\"x\": 10, \"y\": 20, \"w\": 30, \"h\": 40}}], "
      "\"faces\": [{\"box\": [-5, 0, 20, 10], \"score\": 0.75},"
      "{\"box\": [0, 0, 0, 10]}]}", 1.0, 1.0);
  GstVideoRegionOfInterestMeta *roi;
  GstStructure *detection;
  gpointer state = NULL;
  gdouble score;

  fail_unless_equals_int (regions->len, 3);
  /* the empty face is skipped; the one off the left edge is clipped */
  fail_unless_equals_int (gst_fal_buffer_add_regions (buffer, regions), 2);

  roi = (GstVideoRegionOfInterestMeta *) gst_buffer_iterate_meta_filtered
      (buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);
  fail_unless (roi != NULL);
  fail_unless_equals_string (g_quark_to_string (roi->roi_type),
      "QR-Code: hello");
  fail_unless_equals_int (roi->x, 10);
  fail_unless_equals_int (roi->y, 20);
  fail_unless_equals_int (roi->w, 30);
  fail_unless_equals_int (roi->h, 40);
  detection = gst_video_region_of_interest_meta_get_param (roi, "detection");
  fail_unless (detection != NULL);
  fail_unless_equals_string (gst_structure_get_string (detection, "label"),
      "QR-Code: hello");
  fail_unless_equals_string (gst_structure_get_string (detection, "data"),
      "hello");
  fail_unless (gst_structure_get_double (detection, "score", &score));
  fail_unless (score < 0);

  roi = (GstVideoRegionOfInterestMeta *) gst_buffer_iterate_meta_filtered
      (buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);
  fail_unless (roi != NULL);
  fail_unless_equals_string (g_quark_to_string (roi->roi_type), "face");
  fail_unless_equals_int (roi->x, 0);
  fail_unless_equals_int (roi->w, 15);
  detection = gst_video_region_of_interest_meta_get_param (roi, "detection");
  fail_unless (gst_structure_get_double (detection, "score", &score));
  fail_unless (score == 0.75);
  fail_if (gst_structure_has_field (detection, "data"));

  fail_unless (gst_buffer_iterate_meta_filtered (buffer, &state,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) == NULL);
  fail_unless_equals_int (gst_fal_buffer_add_regions (buffer, NULL), 0);

  g_ptr_array_unref (regions);
  gst_buffer_unref (buffer);
}

GST_END_TEST;

GST_START_TEST (test_get_string)
{
  const gchar *json = "{\"text\": \"hello\", \"images\": [{\"url\": "
      "\"http://h/0.png\"}, {\"url\": \"http://h/1.png\"}], \"n\": 3, "
      "\"ok\": true, \"nested\": {\"a\": {\"b\": \"deep\"}}}";
  gchar *value;

  value = gst_fal_result_get_string (json, "text");
  fail_unless_equals_string (value, "hello");
  g_free (value);
  value = gst_fal_result_get_string (json, "images.1.url");
  fail_unless_equals_string (value, "http://h/1.png");
  g_free (value);
  value = gst_fal_result_get_string (json, "nested.a.b");
  fail_unless_equals_string (value, "deep");
  g_free (value);
  value = gst_fal_result_get_string (json, "n");
  fail_unless_equals_string (value, "3");
  g_free (value);
  value = gst_fal_result_get_string (json, "ok");
  fail_unless_equals_string (value, "true");
  g_free (value);

  fail_unless (gst_fal_result_get_string (json, "images") == NULL);
  fail_unless (gst_fal_result_get_string (json, "images.2.url") == NULL);
  fail_unless (gst_fal_result_get_string (json, "images.x") == NULL);
  fail_unless (gst_fal_result_get_string (json, "missing") == NULL);
  fail_unless (gst_fal_result_get_string (json, "text.more") == NULL);
  fail_unless (gst_fal_result_get_string ("nope", "text") == NULL);
  fail_unless (gst_fal_result_get_string (NULL, "text") == NULL);
}

GST_END_TEST;

GST_START_TEST (test_find_media_url)
{
  gchar *url, *content_type = NULL;

  url = gst_fal_result_find_media_url ("{\"seed\": 1, \"image\": {\"url\": "
      "\"http://h/a.png\", \"content_type\": \"image/png\", \"width\": 2}}",
      NULL, &content_type);
  fail_unless_equals_string (url, "http://h/a.png");
  fail_unless_equals_string (content_type, "image/png");
  g_free (url);
  g_clear_pointer (&content_type, g_free);

  url = gst_fal_result_find_media_url ("{\"images\": [{\"url\": "
      "\"http://h/0.jpg\"}], \"video\": {\"url\": \"http://h/v.mp4\"}}",
      NULL, &content_type);
  fail_unless_equals_string (url, "http://h/0.jpg");
  fail_unless (content_type == NULL);
  g_free (url);

  url = gst_fal_result_find_media_url ("{\"audio\": {\"url\": "
      "\"http://h/s.wav\"}, \"other\": {\"url\": \"http://h/o\"}}", NULL, NULL);
  fail_unless_equals_string (url, "http://h/s.wav");
  g_free (url);

  /* any url field, depth first */
  url = gst_fal_result_find_media_url ("{\"out\": [{\"mask\": {\"url\": "
      "\"http://h/m.png\", \"content_type\": \"image/png\"}}]}", NULL,
      &content_type);
  fail_unless_equals_string (url, "http://h/m.png");
  fail_unless_equals_string (content_type, "image/png");
  g_free (url);
  g_clear_pointer (&content_type, g_free);

  /* an explicit path: to an object or to a string */
  url = gst_fal_result_find_media_url ("{\"image\": {\"url\": \"http://h/a\"},"
      " \"depth\": {\"url\": \"http://h/d\"}}", "depth", NULL);
  fail_unless_equals_string (url, "http://h/d");
  g_free (url);
  url = gst_fal_result_find_media_url ("{\"result\": [\"http://h/r\"]}",
      "result.0", NULL);
  fail_unless_equals_string (url, "http://h/r");
  g_free (url);

  fail_unless (gst_fal_result_find_media_url ("{\"text\": \"x\"}", NULL,
          &content_type) == NULL);
  fail_unless (content_type == NULL);
  fail_unless (gst_fal_result_find_media_url ("{\"a\": 1}", "b", NULL) == NULL);
  fail_unless (gst_fal_result_find_media_url ("[", NULL, NULL) == NULL);
}

GST_END_TEST;

static Suite *
resultmeta_suite (void)
{
  Suite *s = suite_create ("falresultmeta");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_meta_add_get_copy);
  tcase_add_test (tc, test_meta_error_and_defaults);
  tcase_add_test (tc, test_meta_all_of_a_buffer);
  tcase_add_test (tc, test_regions_barcode);
  tcase_add_test (tc, test_regions_faces_scaled);
  tcase_add_test (tc, test_regions_other_formats);
  tcase_add_test (tc, test_buffer_add_regions);
  tcase_add_test (tc, test_get_string);
  tcase_add_test (tc, test_find_media_url);
  return s;
}

GST_CHECK_MAIN (resultmeta);
