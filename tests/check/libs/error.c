/* gst-fal: the GST_FAL_ERROR domain's details survive a GError re-created
 * from domain, code and message (what language bindings do) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>

/* What PyGObject does when a GLib.Error goes back into C. */
static GError *
recreate (const GError * error)
{
  return g_error_new_literal (g_quark_from_string (g_quark_to_string
          (error->domain)), error->code, error->message);
}

GST_START_TEST (test_details_survive_recreation)
{
  g_autoptr (GError) error = gst_fal_error_new_full (GST_FAL_ERROR_VALIDATION,
      422, "value_error", "[{\"msg\": \"bad \\\"input\\\"\nsecond line\"}]",
      "req-1", "local/fail: HTTP 422 value_error: bad input (request req-1)");
  g_autoptr (GError) again = recreate (error);
  g_autoptr (GError) copy = g_error_copy (again);
  g_autofree gchar *summary = gst_fal_error_get_summary (again);

  g_assert_error (again, GST_FAL_ERROR, GST_FAL_ERROR_VALIDATION);
  assert_equals_int (gst_fal_error_get_http_status (again), 422);
  assert_equals_string (gst_fal_error_get_error_type (again), "value_error");
  assert_equals_string (gst_fal_error_get_detail (again),
      "[{\"msg\": \"bad \\\"input\\\"\nsecond line\"}]");
  assert_equals_string (gst_fal_error_get_request_id (again), "req-1");
  assert_equals_string (summary,
      "local/fail: HTTP 422 value_error: bad input (request req-1)");
  assert_equals_int (gst_fal_error_get_http_status (copy), 422);
  assert_equals_string (gst_fal_error_get_request_id (copy), "req-1");
}

GST_END_TEST;

GST_START_TEST (test_prefixed_and_plain)
{
  g_autoptr (GError) error = gst_fal_error_new_full (GST_FAL_ERROR_SERVER,
      503, NULL, NULL, NULL, "app: HTTP 503");
  g_autoptr (GError) plain = g_error_new_literal (GST_FAL_ERROR,
      GST_FAL_ERROR_PROTOCOL, "no details here");
  g_autoptr (GError) other = g_error_new_literal (G_IO_ERROR,
      G_IO_ERROR_FAILED, "x\nfal-error: {\"http_status\": 500}");
  g_autoptr (GError) again = NULL;
  g_autofree gchar *summary = NULL;
  g_autofree gchar *plain_summary = gst_fal_error_get_summary (plain);

  g_prefix_error (&error, "while testing: ");
  again = recreate (error);
  summary = gst_fal_error_get_summary (again);
  assert_equals_int (gst_fal_error_get_http_status (again), 503);
  fail_unless (gst_fal_error_get_detail (again) == NULL);
  assert_equals_string (summary, "while testing: app: HTTP 503");

  assert_equals_int (gst_fal_error_get_http_status (plain), 0);
  assert_equals_string (plain_summary, "no details here");
  assert_equals_string (plain->message, "no details here");
  /* other domains have no details, whatever their message */
  assert_equals_int (gst_fal_error_get_http_status (other), 0);
}

GST_END_TEST;

static Suite *
error_suite (void)
{
  Suite *s = suite_create ("falerror");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_details_survive_recreation);
  tcase_add_test (tc, test_prefixed_and_plain);
  return s;
}

GST_CHECK_MAIN (error);
