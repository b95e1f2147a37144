/* gst-fal: a client with no server sends local/… applications to the
 * in-process local server, which the library loads without linking it */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>

static JsonNode *
echo_input (void)
{
  return json_from_string ("{\"a\": 1, \"s\": \"x\"}", NULL);
}

static void
assert_echoed (JsonNode * result)
{
  g_autoptr (JsonNode) input = echo_input ();

  fail_unless (result != NULL);
  fail_unless (json_node_equal (result, input));
}

GST_START_TEST (test_run_without_server)
{
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (JsonNode) input = echo_input ();
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;

  g_unsetenv ("GST_FAL_URL");
  client = gst_fal_client_new ();
  fail_unless (gst_fal_client_get_server_url (client) == NULL);
  result = gst_fal_client_run (client, "local/echo", input, NULL, NULL,
      &error);
  g_assert_no_error (error);
  assert_echoed (result);
  /* the client still points at no server: only local/ apps go locally */
  fail_unless (gst_fal_client_get_server_url (client) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_queue_without_server)
{
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (JsonNode) input = echo_input ();
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (JsonNode) again = NULL;
  g_autoptr (JsonNode) subscribed = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalRequest) by_id = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *url;

  g_unsetenv ("GST_FAL_URL");
  client = gst_fal_client_new ();
  request = gst_fal_client_submit (client, "local/echo", input, NULL, NULL,
      &error);
  g_assert_no_error (error);
  url = gst_fal_client_get_server_url (gst_fal_request_get_client (request));
  fail_unless (url && g_str_has_prefix (url, "http://127.0.0.1:"), "%s",
      GST_STR_NULL (url));
  result = gst_fal_request_get (request, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_echoed (result);

  /* by id, through the client */
  status = gst_fal_client_status (client, "local/echo",
      gst_fal_request_get_request_id (request), FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (gst_fal_status_get_kind (status),
      GST_FAL_STATUS_COMPLETED);
  by_id = gst_fal_client_get_request (client, "local/echo",
      gst_fal_request_get_request_id (request));
  again = gst_fal_request_result (by_id, NULL, &error);
  g_assert_no_error (error);
  assert_echoed (again);

  subscribed = gst_fal_client_subscribe (client, "local/echo", input, NULL,
      NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_echoed (subscribed);
}

GST_END_TEST;

GST_START_TEST (test_server_set_wins)
{
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;

  /* nothing listens on port 1: a server that is set is used, local/ or not */
  client = gst_fal_client_new_for_url ("http://127.0.0.1:1");
  g_object_set (client, "max-retries", 0, NULL);
  result = gst_fal_client_run (client, "local/echo", NULL, NULL, NULL, &error);
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
}

GST_END_TEST;

static Suite *
local_suite (void)
{
  Suite *s = suite_create ("fallocal");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_run_without_server);
  tcase_add_test (tc, test_queue_without_server);
  tcase_add_test (tc, test_server_set_wins);
  return s;
}

GST_CHECK_MAIN (local);
