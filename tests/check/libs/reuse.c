/* gst-fal: connection reuse (gstfalhttp.c, "Connection reuse"): counted
 * connections, the server's Connection: close and keep-alive limits, and
 * POSTs on connections the server closes */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include "falmock.h"

#define CALLS 200
/* steady state: at most 0.05 new connections per call */
#define MAX_CONNECTIONS (CALLS / 20)

static FalMock *mock;
static GstFalClient *client;

static void
setup (void)
{
  FalMockApp quick = { 0, 0, 0, NULL, NULL };

  mock = fal_mock_new ();
  fal_mock_add_app (mock, "local/echo", &quick);
  client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
}

static void
teardown (void)
{
  gst_clear_object (&client);
  fal_mock_free (mock);
}

static void
check_subscribes (GstFalStatusMode mode)
{
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  guint i;

  gst_fal_options_set_status_mode (options, mode);
  for (i = 0; i < CALLS; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = gst_fal_client_subscribe (client,
        "local/echo", NULL, options, NULL, NULL, NULL, &error);

    g_assert_no_error (error);
  }
  assert_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"), CALLS);
  fail_unless (fal_mock_connections (mock) <= MAX_CONNECTIONS,
      "%u connections for %u subscribes", fal_mock_connections (mock), CALLS);
}

GST_START_TEST (test_subscribes_stream)
{
  check_subscribes (GST_FAL_STATUS_MODE_STREAM);
}

GST_END_TEST;

GST_START_TEST (test_subscribes_poll)
{
  check_subscribes (GST_FAL_STATUS_MODE_POLL);
}

GST_END_TEST;

static void
run_echo (GstFalClient * c, guint times)
{
  guint i;

  for (i = 0; i < times; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = gst_fal_client_run (c, "local/echo", NULL,
        NULL, NULL, &error);

    g_assert_no_error (error);
  }
}

GST_START_TEST (test_runs)
{
  run_echo (client, CALLS);
  assert_equals_int (fal_mock_count (mock, "POST", "/run/local/echo"), CALLS);
  fail_unless (fal_mock_connections (mock) <= MAX_CONNECTIONS,
      "%u connections for %u runs", fal_mock_connections (mock), CALLS);
}

GST_END_TEST;

/* Answers Connection: close on the @limit-th request of each connection
 * (1: on every one). */
static void
close_after (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer limit)
{
  if (fal_mock_connection_requests (msg) >= GPOINTER_TO_UINT (limit))
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
  fal_mock_run_handler (m, msg, path, NULL);
}

GST_START_TEST (test_connection_close)
{
  fal_mock_add_handler (mock, "/run/", close_after, GUINT_TO_POINTER (1));
  run_echo (client, 10);
  assert_equals_int (fal_mock_count (mock, "POST", "/run/local/echo"), 10);
  assert_equals_int (fal_mock_connections (mock), 10);
}

GST_END_TEST;

/* A server that serves 3 requests per connection. */
GST_START_TEST (test_keepalive_limit)
{
  fal_mock_add_handler (mock, "/run/", close_after, GUINT_TO_POINTER (3));
  run_echo (client, 12);
  assert_equals_int (fal_mock_count (mock, "POST", "/run/local/echo"), 12);
  assert_equals_int (fal_mock_connections (mock), 4);
}

GST_END_TEST;

/* The server closes each connection right after an answer that announced
 * keep-alive: a POST never fails on it, and is never sent twice. */
GST_START_TEST (test_post_after_close)
{
  FalMockSocket *ms = fal_mock_socket_new (FAL_MOCK_SOCKET_ANSWER_CLOSE);
  g_autoptr (GstFalClient) c =
      gst_fal_client_new_for_url (fal_mock_socket_get_url (ms));
  guint i;

  g_object_set (c, "max-retries", 0, NULL);
  for (i = 0; i < 20; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GstFalRequest) request = gst_fal_client_submit (c,
        "local/echo", NULL, NULL, NULL, &error);

    g_assert_no_error (error);
    /* one submit read by the server per call */
    assert_equals_int (fal_mock_socket_requests (ms), 2 * i + 1);
    run_echo (c, 1);
    assert_equals_int (fal_mock_socket_requests (ms), 2 * i + 2);
  }
  assert_equals_int (fal_mock_socket_accepted (ms), 40);
  g_clear_object (&c);
  fal_mock_socket_free (ms);
}

GST_END_TEST;

/* The server resets a kept-alive connection as a submit starts on it; the
 * submit (larger than the socket buffers, so it cannot have been written
 * whole) is sent again on a new connection: no error, one submit read. */
GST_START_TEST (test_post_reset_before_written)
{
  FalMockSocket *ms = fal_mock_socket_new (FAL_MOCK_SOCKET_ANSWER_RESET);
  g_autoptr (GstFalClient) c =
      gst_fal_client_new_for_url (fal_mock_socket_get_url (ms));
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) submitted = NULL;
  g_autoptr (GstFalRequest) resent = NULL;
  g_autoptr (JsonNode) big = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) object = json_object_new ();
  gchar *blob = g_strnfill (16 * 1024 * 1024, 'x');

  json_object_set_string_member (object, "blob", blob);
  json_node_set_object (big, object);
  g_free (blob);
  /* a resend is no retry: it happens with retries off */
  g_object_set (c, "max-retries", 0, NULL);
  submitted = gst_fal_client_submit (c, "local/echo", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  resent = gst_fal_client_submit (c, "local/echo", big, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_equals_string (gst_fal_request_get_request_id (resent), "req-2");
  assert_equals_int (fal_mock_socket_requests (ms), 2);
  assert_equals_int (fal_mock_socket_accepted (ms), 2);
  g_clear_object (&c);
  fal_mock_socket_free (ms);
}

GST_END_TEST;

static Suite *
reuse_suite (void)
{
  Suite *s = suite_create ("falreuse");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_subscribes_stream);
  tcase_add_test (tc, test_subscribes_poll);
  tcase_add_test (tc, test_runs);
  tcase_add_test (tc, test_connection_close);
  tcase_add_test (tc, test_keepalive_limit);
  tcase_add_test (tc, test_post_after_close);
  tcase_add_test (tc, test_post_reset_before_written);
  return s;
}

GST_CHECK_MAIN (reuse);
