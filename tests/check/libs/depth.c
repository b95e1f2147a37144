/* gst-fal: a server answering deeply nested JSON makes a protocol error
 * naming the bound, never a crash (run, stream, status, status stream,
 * result, error bodies) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include "falmock.h"

/* 100 000 levels: far deeper than a recursive parser survives */
#define DEEP_LEVELS 100000

static FalMock *mock;
static GstFalClient *client;
static gchar *deep;

/* Every answer under /run/deep/ and /queue/deep/ is @deep, as a body or as
 * the one event of a stream; /run/deep/fail answers it with a 500; the
 * polled status of request "poll" is a valid COMPLETED, so only the status
 * stream carries the nesting there. */
static void
deep_handler (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  if (g_str_has_suffix (path, "/stream")) {
    fal_mock_sse_begin (msg);
    fal_mock_sse_send (msg, deep);
    fal_mock_sse_end (msg);
  } else if (g_str_has_suffix (path, "/requests/poll/status")) {
    fal_mock_respond_json (msg, 200, "{\"status\": \"COMPLETED\"}");
  } else if (!strcmp (path, "/run/deep/fail")) {
    fal_mock_respond_json (msg, 500, deep);
  } else {
    fal_mock_respond_json (msg, 200, deep);
  }
}

static void
setup (void)
{
  GString *text = g_string_sized_new (2 * DEEP_LEVELS);
  guint i;

  for (i = 0; i < DEEP_LEVELS; i++)
    g_string_append_c (text, '[');
  for (i = 0; i < DEEP_LEVELS; i++)
    g_string_append_c (text, ']');
  deep = g_string_free (text, FALSE);
  mock = fal_mock_new ();
  fal_mock_add_handler (mock, "/run/deep/", deep_handler, NULL);
  fal_mock_add_handler (mock, "/queue/deep/", deep_handler, NULL);
  client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
  g_object_set (client, "retry-base-delay", 0.01, NULL);
}

static void
teardown (void)
{
  gst_clear_object (&client);
  fal_mock_free (mock);
  g_clear_pointer (&deep, g_free);
}

static void
assert_too_deep (GError * error)
{
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL);
  fail_unless (strstr (error->message, "nested deeper than 128 levels")
      != NULL, "message: %s", error->message);
}

GST_START_TEST (test_run)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = gst_fal_client_run (client, "deep/app", NULL,
      NULL, NULL, &error);

  fail_unless (result == NULL);
  assert_too_deep (error);
}

GST_END_TEST;

GST_START_TEST (test_stream)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) last = gst_fal_client_stream (client, "deep/app",
      NULL, NULL, NULL, NULL, NULL, &error);

  fail_unless (last == NULL);
  assert_too_deep (error);
}

GST_END_TEST;

GST_START_TEST (test_status_and_result)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  g_autoptr (JsonNode) result = NULL;

  status = gst_fal_client_status (client, "deep/app", "r-1", FALSE, NULL,
      &error);
  fail_unless (status == NULL);
  assert_too_deep (error);
  g_clear_error (&error);

  result = gst_fal_client_result (client, "deep/app", "r-1", NULL, &error);
  fail_unless (result == NULL);
  assert_too_deep (error);
}

GST_END_TEST;

GST_START_TEST (test_status_stream)
{
  g_autoptr (GstFalRequest) request = gst_fal_client_get_request (client,
      "deep/app", "poll");
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalStatus) status = NULL;

  gst_fal_options_set_status_mode (options, GST_FAL_STATUS_MODE_STREAM);
  status = gst_fal_request_wait (request, options, NULL, NULL, NULL, &error);
  fail_unless (status == NULL);
  assert_too_deep (error);
  fail_unless (fal_mock_count (mock, "GET",
          "/queue/deep/app/requests/poll/status/stream") == 1);
}

GST_END_TEST;

/* an error body too deep to read is text: the HTTP status still says it */
GST_START_TEST (test_error_body)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = gst_fal_client_run (client, "deep/fail",
      NULL, NULL, NULL, &error);

  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
  assert_equals_int (gst_fal_error_get_http_status (error), 500);
}

GST_END_TEST;

static Suite *
depth_suite (void)
{
  Suite *s = suite_create ("faldepth");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_run);
  tcase_add_test (tc, test_stream);
  tcase_add_test (tc, test_status_and_result);
  tcase_add_test (tc, test_status_stream);
  tcase_add_test (tc, test_error_body);
  return s;
}

GST_CHECK_MAIN (depth);
