/* gst-fal: following a request (status stream, polling), cancellation
 * while queued and while running, client timeouts, failed requests */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include "falmock.h"

static FalMock *mock;
static GstFalClient *client;

static void
setup (void)
{
  FalMockApp quick = { 0, 0, 0, NULL, NULL };
  FalMockApp queued_forever = { G_MAXUINT, 0, 0, NULL, NULL };
  FalMockApp runs_forever = { 0, G_MAXUINT, 0, NULL, NULL };
  FalMockApp fails = { 0, 20, 500,
    "{\"detail\": \"model exploded\", \"error_type\": \"runner_server_error\"}",
    "runner_server_error"
  };

  mock = fal_mock_new ();
  fal_mock_add_app (mock, "local/echo", &quick);
  fal_mock_add_app (mock, "local/queued", &queued_forever);
  fal_mock_add_app (mock, "local/running", &runs_forever);
  fal_mock_add_app (mock, "local/fail", &fails);
  client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
  g_object_set (client, "retry-base-delay", 0.01, "poll-interval", 0.02, NULL);
}

static void
teardown (void)
{
  gst_clear_object (&client);
  fal_mock_free (mock);
}

typedef struct
{
  GCancellable *cancellable;
  GstFalStatusKind cancel_at;
  guint seen;
  GAsyncResult *result;
} Canceller;

static void
cancel_on_status (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data)
{
  Canceller *c = user_data;

  c->seen++;
  if (gst_fal_status_get_kind (status) == c->cancel_at)
    g_cancellable_cancel (c->cancellable);
}

static void
on_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Canceller *c = user_data;

  c->result = g_object_ref (result);
}

static void
check_cancelled (const gchar * application, GstFalStatusKind at,
    GstFalStatusMode mode, gboolean async)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *request_id = NULL;
  g_autofree gchar *cancel_path = NULL;
  Canceller c = { cancellable, at, 0, NULL };

  gst_fal_options_set_status_mode (options, mode);
  if (async) {
    gst_fal_client_subscribe_async (client, application, NULL, options,
        cancel_on_status, &c, NULL, cancellable, on_done, &c);
    while (c.result == NULL)
      g_main_context_iteration (NULL, TRUE);
    result = gst_fal_client_subscribe_finish (client, c.result, &request_id,
        &error);
    g_object_unref (c.result);
  } else {
    result = gst_fal_client_subscribe (client, application, NULL, options,
        cancel_on_status, &c, cancellable, &error);
    request_id = g_strdup ("req-1");
  }
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED);
  assert_equals_string (gst_fal_error_get_request_id (error), "req-1");
  assert_equals_string (request_id, "req-1");
  fail_unless (c.seen >= 1);
  /* the server saw the cancel before the call returned */
  cancel_path = g_strdup_printf ("/queue/%s/requests/req-1/cancel",
      application);
  assert_equals_int (fal_mock_count (mock, "PUT", cancel_path), 1);
}

GST_START_TEST (test_cancel_queued)
{
  check_cancelled ("local/queued", GST_FAL_STATUS_QUEUED,
      GST_FAL_STATUS_MODE_STREAM, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_cancel_queued_async)
{
  check_cancelled ("local/queued", GST_FAL_STATUS_QUEUED,
      GST_FAL_STATUS_MODE_POLL, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_cancel_running)
{
  check_cancelled ("local/running", GST_FAL_STATUS_IN_PROGRESS,
      GST_FAL_STATUS_MODE_STREAM, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_cancel_running_poll)
{
  check_cancelled ("local/running", GST_FAL_STATUS_IN_PROGRESS,
      GST_FAL_STATUS_MODE_POLL, FALSE);
}

GST_END_TEST;

static void
check_timeout (GstFalStatusMode mode)
{
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  gst_fal_options_set_timeout (options, 0.3);
  gst_fal_options_set_status_mode (options, mode);
  result = gst_fal_client_subscribe (client, "local/running", NULL, options,
      NULL, NULL, NULL, &error);
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT);
  fail_unless (strstr (error->message, "local/running: no result within"));
  assert_equals_string (gst_fal_error_get_request_id (error), "req-1");
  assert_equals_int (fal_mock_count (mock, "PUT",
          "/queue/local/running/requests/req-1/cancel"), 1);
}

GST_START_TEST (test_client_timeout_stream)
{
  check_timeout (GST_FAL_STATUS_MODE_STREAM);
}

GST_END_TEST;

GST_START_TEST (test_client_timeout_poll)
{
  check_timeout (GST_FAL_STATUS_MODE_POLL);
}

GST_END_TEST;

GST_START_TEST (test_client_default_timeout)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;

  /* the client's timeout bounds wait; wait does not cancel the request */
  g_object_set (client, "timeout", 0.3, NULL);
  request = gst_fal_client_submit (client, "local/queued", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  status = gst_fal_request_wait (request, NULL, NULL, NULL, NULL, &error);
  fail_unless (status == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT);
  assert_equals_int (fal_mock_count (mock, "PUT", "*"), 0);
}

GST_END_TEST;

static void
count_signal (GstFalRequest * request, GstFalStatus * status, gpointer data)
{
  guint *count = data;

  (*count)++;
}

GST_START_TEST (test_failed_request)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  gchar *summary;
  guint signalled = 0;

  result = gst_fal_client_subscribe (client, "local/fail", NULL, NULL, NULL,
      NULL, NULL, &error);
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
  assert_equals_int (gst_fal_error_get_http_status (error), 500);
  assert_equals_string (gst_fal_error_get_detail (error), "model exploded");
  assert_equals_string (gst_fal_error_get_error_type (error),
      "runner_server_error");
  summary = gst_fal_error_get_summary (error);
  assert_equals_string (summary, "local/fail: HTTP 500 "
      "runner_server_error: model exploded (request req-1)");
  g_clear_pointer (&summary, g_free);
  g_clear_error (&error);

  /* wait gives the Completed status with its error, and signals updates */
  request = gst_fal_client_get_request (client, "local/fail", "req-1");
  g_signal_connect (request, "status", G_CALLBACK (count_signal), &signalled);
  status = gst_fal_request_wait (request, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (gst_fal_status_get_kind (status),
      GST_FAL_STATUS_COMPLETED);
  assert_equals_string (gst_fal_status_get_error (status), "Request failed");
  assert_equals_string (gst_fal_status_get_error_type (status),
      "runner_server_error");
  assert_equals_int (signalled, 1);
  result = gst_fal_request_get (request, NULL, NULL, &error);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
}

GST_END_TEST;

static void
truncated_stream (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  const gchar *text = user_data;

  if (!g_str_has_suffix (path, "/status/stream")) {
    fal_mock_queue_handler (m, msg, path, NULL);
    return;
  }
  fal_mock_sse_begin (msg);
  fal_mock_sse_send_raw (msg, text);
  fal_mock_sse_end (msg);
}

static void
check_stream_error (const gchar * text, const gchar * message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;

  fal_mock_add_handler (mock, "/queue/", truncated_stream, (gpointer) text);
  request = gst_fal_client_submit (client, "local/queued", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  status = gst_fal_request_wait (request, NULL, NULL, NULL, NULL, &error);
  fail_unless (status == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL);
  fail_unless (strstr (error->message, message), "%s", error->message);
}

/* A stream cut short before COMPLETED (here ended, as libsoup 3.2 reads a
 * connection closed amid a chunked body): the request is polled. */
static void
check_stream_resumed (const gchar * text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;

  fal_mock_add_handler (mock, "/queue/", truncated_stream, (gpointer) text);
  request = gst_fal_client_submit (client, "local/echo", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  status = gst_fal_request_wait (request, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (gst_fal_status_get_kind (status),
      GST_FAL_STATUS_COMPLETED);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/echo/requests/req-1/status/stream"), 1);
  fail_unless (fal_mock_count (mock, "GET",
          "/queue/local/echo/requests/req-1/status") > 0);
}

GST_START_TEST (test_stream_truncated)
{
  check_stream_resumed
      ("data: {\"status\": \"IN_QUEUE\", \"queue_position\": 3}"
      "\n\ndata: {\"status\": \"IN_PRO");
}

GST_END_TEST;

GST_START_TEST (test_stream_ended_early)
{
  check_stream_resumed
      ("data: {\"status\": \"IN_QUEUE\", \"queue_position\": 3}" "\n\n");
}

GST_END_TEST;

GST_START_TEST (test_stream_bad_json)
{
  check_stream_error ("data: {not json\n\n", "bad status stream event");
}

GST_END_TEST;

GST_START_TEST (test_stream_unknown_status)
{
  check_stream_error ("data: {\"status\": \"EXPLODED\"}\n\n",
      "unknown request status \"EXPLODED\"");
}

GST_END_TEST;

static void
collect_logs (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data)
{
  GPtrArray *counts = user_data;

  g_ptr_array_add (counts,
      GUINT_TO_POINTER (gst_fal_status_get_logs (status)->len));
}

#define LOG_LINE(m) "{\"message\": \"" m "\", \"level\": \"INFO\", " \
  "\"source\": \"USER\", \"timestamp\": \"2026-01-01T00:00:00Z\"}"

GST_START_TEST (test_stream_logs_add_up)
{
  g_autoptr (GPtrArray) counts = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  GPtrArray *logs;

  /* each event carries only the lines not sent before */
  fal_mock_add_handler (mock, "/queue/", truncated_stream, (gpointer)
      "data: {\"status\": \"IN_PROGRESS\", \"logs\": [" LOG_LINE ("a") "]}\n\n"
      "data: {\"status\": \"IN_PROGRESS\", \"logs\": [" LOG_LINE ("b") "]}\n\n"
      "data: {\"status\": \"COMPLETED\", \"logs\": [" LOG_LINE ("c") "]}\n\n");
  request = gst_fal_client_submit (client, "local/queued", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  status = gst_fal_request_wait (request, NULL, collect_logs, counts, NULL,
      &error);
  g_assert_no_error (error);
  assert_equals_int (counts->len, 3);
  assert_equals_int (GPOINTER_TO_UINT (g_ptr_array_index (counts, 0)), 1);
  assert_equals_int (GPOINTER_TO_UINT (g_ptr_array_index (counts, 1)), 2);
  assert_equals_int (GPOINTER_TO_UINT (g_ptr_array_index (counts, 2)), 3);
  logs = gst_fal_status_get_logs (status);
  assert_equals_int (logs->len, 3);
  assert_equals_string (((GstFalLog *) g_ptr_array_index (logs, 0))->message,
      "a");
  assert_equals_string (((GstFalLog *) g_ptr_array_index (logs, 2))->message,
      "c");
  assert_equals_string (((GstFalLog *) g_ptr_array_index (logs, 2))->level,
      "INFO");
}

GST_END_TEST;

static void
assert_invalid (GError * error, const gchar * id)
{
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT);
  fail_unless (strstr (error->message, id) != NULL, "%s", error->message);
}

static void
count_status (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* A handle made from invalid ids is valid: its calls fail, naming the id,
 * and send nothing. */
GST_START_TEST (test_invalid_ids)
{
  const gchar *ids[][3] = {
    {"no-slash", "req-1", "no-slash"},
    {"local/echo", "a/b", "a/b"},
    {"local/echo", "", "invalid request id"},
  };
  g_autoptr (GPtrArray) sent = NULL;
  guint i, seen = 0;

  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    g_autoptr (GstFalRequest) request = gst_fal_client_get_request (client,
        ids[i][0], ids[i][1]);
    g_autoptr (GError) status_error = NULL;
    g_autoptr (GError) result_error = NULL;
    g_autoptr (GError) cancel_error = NULL;
    g_autoptr (GError) wait_error = NULL;
    g_autoptr (GError) get_error = NULL;
    g_autoptr (GError) by_id_error = NULL;

    fail_unless (GST_FAL_IS_REQUEST (request));
    assert_equals_string (gst_fal_request_get_application (request), ids[i][0]);
    fail_unless (gst_fal_request_status (request, TRUE, NULL,
            &status_error) == NULL);
    assert_invalid (status_error, ids[i][2]);
    fail_unless (gst_fal_request_result (request, NULL, &result_error) == NULL);
    assert_invalid (result_error, ids[i][2]);
    fail_if (gst_fal_request_cancel (request, NULL, &cancel_error));
    assert_invalid (cancel_error, ids[i][2]);
    fail_unless (gst_fal_request_wait (request, NULL, count_status, &seen,
            NULL, &wait_error) == NULL);
    assert_invalid (wait_error, ids[i][2]);
    fail_unless (gst_fal_request_get (request, NULL, NULL, &get_error) == NULL);
    assert_invalid (get_error, ids[i][2]);
    fail_unless (gst_fal_client_status (client, ids[i][0], ids[i][1], FALSE,
            NULL, &by_id_error) == NULL);
    assert_invalid (by_id_error, ids[i][2]);
  }
  assert_equals_int (seen, 0);
  sent = fal_mock_get_requests (mock);
  assert_equals_int (sent->len, 0);
}

GST_END_TEST;

static Suite *
request_suite (void)
{
  Suite *s = suite_create ("falrequest");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_cancel_queued);
  tcase_add_test (tc, test_cancel_queued_async);
  tcase_add_test (tc, test_cancel_running);
  tcase_add_test (tc, test_cancel_running_poll);
  tcase_add_test (tc, test_client_timeout_stream);
  tcase_add_test (tc, test_client_timeout_poll);
  tcase_add_test (tc, test_client_default_timeout);
  tcase_add_test (tc, test_failed_request);
  tcase_add_test (tc, test_stream_truncated);
  tcase_add_test (tc, test_stream_ended_early);
  tcase_add_test (tc, test_stream_bad_json);
  tcase_add_test (tc, test_stream_unknown_status);
  tcase_add_test (tc, test_stream_logs_add_up);
  tcase_add_test (tc, test_invalid_ids);
  return s;
}

GST_CHECK_MAIN (request);
