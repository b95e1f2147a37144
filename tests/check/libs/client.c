/* gst-fal: GstFalClient calls against the mock server, blocking and async */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include "falmock.h"

static FalMock *mock;
static GstFalClient *client;
/* arguments parsed by the tests, freed at teardown */
static GPtrArray *arguments;

static void
setup (void)
{
  FalMockApp quick = { 0, 0, 0, NULL, NULL };
  FalMockApp slow = { 50, 100, 0, NULL, NULL, TRUE };
  FalMockApp invalid = { 0, 0, 422,
    "{\"detail\": [{\"loc\": [\"body\", \"seconds\"], \"msg\": "
        "\"field required\", \"type\": \"missing\"}]}", NULL
  };

  arguments = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  mock = fal_mock_new ();
  fal_mock_add_app (mock, "local/echo", &quick);
  fal_mock_add_app (mock, "local/sleep", &slow);
  fal_mock_add_app (mock, "local/invalid", &invalid);
  client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
  g_object_set (client, "retry-base-delay", 0.01, NULL);
}

static void
teardown (void)
{
  gst_clear_object (&client);
  fal_mock_free (mock);
  g_ptr_array_unref (arguments);
}

static JsonNode *
parse (const gchar * json)
{
  JsonNode *node = json_from_string (json, NULL);

  g_ptr_array_add (arguments, node);
  return node;
}

static gchar *
to_json (JsonNode * node)
{
  return json_to_string (node, FALSE);
}

/* the async form: runs the default main context until the callback ran */

typedef struct
{
  GAsyncResult *result;
  GPtrArray *statuses;
  GPtrArray *events;
} AsyncWait;

static void
on_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  AsyncWait *wait = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  wait->result = g_object_ref (result);
}

static void
on_thread_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  AsyncWait *wait = user_data;

  wait->result = g_object_ref (result);
}

static void
iterate_until_done (AsyncWait * wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
async_wait_clear (AsyncWait * wait)
{
  g_clear_object (&wait->result);
  g_clear_pointer (&wait->statuses, g_ptr_array_unref);
  g_clear_pointer (&wait->events, g_ptr_array_unref);
}

static const gchar *
request_query (const gchar * method, const gchar * path)
{
  g_autoptr (GPtrArray) requests = fal_mock_get_requests (mock);
  guint i;

  for (i = 0; i < requests->len; i++) {
    FalMockRequest *request = g_ptr_array_index (requests, i);

    if (fal_mock_request_matches (request, method, path))
      return request->query;
  }
  return NULL;
}

GST_START_TEST (test_run_blocking)
{
  JsonNode *args = parse ("{\"text\": \"hello\"}");
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *text = NULL;

  gst_fal_options_set_path (options, "v2/fast");
  gst_fal_options_set_hint (options, "runner-7");
  gst_fal_options_set_start_timeout (options, 30);
  gst_fal_options_set_object_expiration (options, 3600);
  gst_fal_options_add_header (options, "X-Fal-Store-IO", "0");
  result = gst_fal_client_run (client, "local/echo", args, options, NULL,
      &error);
  g_assert_no_error (error);
  text = to_json (result);
  assert_equals_string (text, "{\"text\":\"hello\"}");
  assert_equals_int (fal_mock_count (mock, "POST", "/run/local/echo/v2/fast"),
      1);
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/echo/v2/fast", "X-Fal-Runner-Hint"), "runner-7");
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/echo/v2/fast", "X-Fal-Request-Timeout"), "30");
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/echo/v2/fast", "X-Fal-Object-Lifecycle-Preference"),
      "{\"expiration_duration_seconds\": 3600}");
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/echo/v2/fast", "X-Fal-Store-IO"), "0");
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/echo/v2/fast", "Content-Type"), "application/json");
  /* a local server needs no key, and none was sent */
  fail_unless (fal_mock_request_header (mock, "POST", "/run/local/echo/v2/fast",
          "Authorization") == NULL);
}

GST_END_TEST;

GST_START_TEST (test_run_async)
{
  JsonNode *args = parse ("{\"n\": 1}");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *text = NULL;
  AsyncWait wait = { 0, };

  gst_fal_client_run_async (client, "local/echo", args, NULL, NULL, on_done,
      &wait);
  iterate_until_done (&wait);
  result = gst_fal_client_run_finish (client, wait.result, &error);
  g_assert_no_error (error);
  text = to_json (result);
  assert_equals_string (text, "{\"n\":1}");
  async_wait_clear (&wait);
}

GST_END_TEST;

GST_START_TEST (test_run_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  result = gst_fal_client_run (client, "local/invalid", NULL, NULL, NULL,
      &error);
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_VALIDATION);
  assert_equals_int (gst_fal_error_get_http_status (error), 422);
  fail_unless (strstr (gst_fal_error_get_detail (error), "field required"));
  fail_unless (strstr (error->message, "local/invalid: HTTP 422"));
  fail_unless (strstr (error->message, "field required"));
  g_clear_error (&error);

  result = gst_fal_client_run (client, "local/missing", NULL, NULL, NULL,
      &error);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_NOT_FOUND);
  assert_equals_string (gst_fal_error_get_detail (error),
      "Application not found");
  g_clear_error (&error);

  result = gst_fal_client_run (client, "not an id", NULL, NULL, NULL, &error);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT);
}

GST_END_TEST;

static void
unauthorized (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "x-fal-request-id", "rid-401");
  fal_mock_respond_json (msg, 401, "{\"detail\": \"Invalid key\"}");
}

GST_START_TEST (test_unauthorized)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;

  fal_mock_add_handler (mock, "/queue/local/private", unauthorized, NULL);
  request = gst_fal_client_submit (client, "local/private", NULL, NULL, NULL,
      &error);
  fail_unless (request == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_UNAUTHORIZED);
  assert_equals_int (gst_fal_error_get_http_status (error), 401);
  assert_equals_string (gst_fal_error_get_detail (error), "Invalid key");
  assert_equals_string (gst_fal_error_get_request_id (error), "rid-401");
  fail_unless (strstr (error->message, "Invalid key"));
  fail_unless (strstr (error->message, "(request rid-401)"));
  /* not retried */
  assert_equals_int (fal_mock_count (mock, "POST", "/queue/local/private"), 1);
}

GST_END_TEST;

GST_START_TEST (test_submit_blocking)
{
  JsonNode *args = parse ("{\"a\": [1, 2]}");
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *cancel_url = NULL;
  const gchar *query;

  gst_fal_options_set_priority (options, GST_FAL_PRIORITY_LOW);
  gst_fal_options_set_webhook_url (options, "http://127.0.0.1:1/hook?x=1");
  gst_fal_options_add_query (options, "fal_max_queue_length", "5");
  request = gst_fal_client_submit (client, "local/echo", args, options, NULL,
      &error);
  g_assert_no_error (error);
  assert_equals_string (gst_fal_request_get_request_id (request), "req-1");
  assert_equals_string (gst_fal_request_get_application (request),
      "local/echo");
  fail_unless (gst_fal_request_get_client (request) == client);
  g_object_get (request, "cancel-url", &cancel_url, NULL);
  fail_unless (g_str_has_suffix (cancel_url, "/requests/req-1/cancel"));
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/queue/local/echo", "X-Fal-Queue-Priority"), "low");
  query = request_query ("POST", "/queue/local/echo");
  fail_unless (strstr (query,
          "fal_webhook=http%3A%2F%2F127.0.0.1%3A1%2Fhook%3Fx%3D1"));
  fail_unless (strstr (query, "fal_max_queue_length=5"));

  result = gst_fal_request_get (request, NULL, NULL, &error);
  g_assert_no_error (error);
  text = to_json (result);
  assert_equals_string (text, "{\"a\":[1,2]}");
}

GST_END_TEST;

GST_START_TEST (test_submit_async)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  AsyncWait wait = { 0, };

  gst_fal_client_submit_async (client, "local/echo", NULL, NULL, NULL,
      on_done, &wait);
  iterate_until_done (&wait);
  request = gst_fal_client_submit_finish (client, wait.result, &error);
  g_assert_no_error (error);
  assert_equals_string (gst_fal_request_get_request_id (request), "req-1");
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/queue/local/echo", "X-Fal-Queue-Priority"), "normal");
  async_wait_clear (&wait);
}

GST_END_TEST;

GST_START_TEST (test_by_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (GstFalRequest) handle = NULL;
  FalMockApp held = { G_MAXUINT, 0, 0, NULL, NULL };

  fal_mock_add_app (mock, "local/held", &held);
  request = gst_fal_client_submit (client, "local/echo",
      parse ("{\"k\": true}"), NULL, NULL, &error);
  g_assert_no_error (error);
  status = gst_fal_request_wait (request, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (gst_fal_status_get_kind (status),
      GST_FAL_STATUS_COMPLETED);
  g_clear_pointer (&status, gst_fal_status_unref);

  status = gst_fal_client_status (client, "local/echo/some/path", "req-1",
      TRUE, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (gst_fal_status_get_kind (status),
      GST_FAL_STATUS_COMPLETED);
  assert_equals_float (gst_fal_status_get_inference_time (status), 0.25);
  fail_unless (fal_mock_count (mock, "GET",
          "/queue/local/echo/requests/req-1/status") == 1);
  assert_equals_string (request_query ("GET",
          "/queue/local/echo/requests/req-1/status"), "logs=1");

  result = gst_fal_client_result (client, "local/echo", "req-1", NULL, &error);
  g_assert_no_error (error);
  text = to_json (result);
  assert_equals_string (text, "{\"k\":true}");

  /* cancelling a completed request is not an error */
  fail_unless (gst_fal_client_cancel (client, "local/echo", "req-1", NULL,
          &error));
  g_assert_no_error (error);

  fail_if (gst_fal_client_cancel (client, "local/echo", "req-99", NULL,
          &error));
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* a handle from an id, on a request still queued */
  g_clear_object (&request);
  request = gst_fal_client_submit (client, "local/held", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  handle = gst_fal_client_get_request (client, "local/held", "req-2");
  g_clear_pointer (&status, gst_fal_status_unref);
  status = gst_fal_request_status (handle, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (gst_fal_status_get_kind (status), GST_FAL_STATUS_QUEUED);
  assert_equals_int (gst_fal_status_get_queue_position (status), 0);
  g_clear_pointer (&result, json_node_unref);
  result = gst_fal_request_result (handle, NULL, &error);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_VALIDATION);
  g_clear_error (&error);
  fail_unless (gst_fal_request_cancel (handle, NULL, &error));
  g_assert_no_error (error);
  assert_equals_int (fal_mock_count (mock, "PUT",
          "/queue/local/held/requests/req-2/cancel"), 1);
}

GST_END_TEST;

static void
on_async_status (GObject * source, GAsyncResult * result, gpointer user_data)
{
  on_done (source, result, user_data);
}

GST_START_TEST (test_request_calls_async)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  g_autoptr (JsonNode) result = NULL;
  AsyncWait wait = { 0, };

  request = gst_fal_client_submit (client, "local/sleep",
      parse ("{\"x\": 1}"), NULL, NULL, &error);
  g_assert_no_error (error);

  gst_fal_request_status_async (request, FALSE, NULL, on_async_status, &wait);
  iterate_until_done (&wait);
  status = gst_fal_request_status_finish (request, wait.result, &error);
  g_assert_no_error (error);
  fail_unless (gst_fal_status_get_kind (status) != GST_FAL_STATUS_COMPLETED);
  async_wait_clear (&wait);

  g_clear_pointer (&status, gst_fal_status_unref);
  gst_fal_request_wait_async (request, NULL, NULL, NULL, NULL, NULL, on_done,
      &wait);
  iterate_until_done (&wait);
  status = gst_fal_request_wait_finish (request, wait.result, &error);
  g_assert_no_error (error);
  assert_equals_int (gst_fal_status_get_kind (status),
      GST_FAL_STATUS_COMPLETED);
  async_wait_clear (&wait);

  gst_fal_request_result_async (request, NULL, on_done, &wait);
  iterate_until_done (&wait);
  result = gst_fal_request_result_finish (request, wait.result, &error);
  g_assert_no_error (error);
  async_wait_clear (&wait);
  g_clear_pointer (&result, json_node_unref);

  gst_fal_request_get_async (request, NULL, NULL, on_done, &wait);
  iterate_until_done (&wait);
  result = gst_fal_request_get_finish (request, wait.result, &error);
  g_assert_no_error (error);
  fail_unless (result != NULL);
  async_wait_clear (&wait);

  gst_fal_request_cancel_async (request, NULL, on_done, &wait);
  iterate_until_done (&wait);
  fail_unless (gst_fal_request_cancel_finish (request, wait.result, &error));
  g_assert_no_error (error);
  async_wait_clear (&wait);
}

GST_END_TEST;

static void
collect_status (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data)
{
  GPtrArray *statuses = user_data;

  g_ptr_array_add (statuses, gst_fal_status_ref (status));
}

static void
check_status_sequence (GPtrArray * statuses, gboolean with_logs)
{
  GstFalStatus *last;
  guint i;
  gboolean saw_progress = FALSE;

  fail_unless (statuses->len >= 2);
  assert_equals_int (gst_fal_status_get_kind (g_ptr_array_index (statuses,
              0)), GST_FAL_STATUS_QUEUED);
  for (i = 1; i < statuses->len; i++) {
    GstFalStatus *status = g_ptr_array_index (statuses, i);

    fail_unless (gst_fal_status_get_kind (status) >=
        gst_fal_status_get_kind (g_ptr_array_index (statuses, i - 1)));
    if (gst_fal_status_get_kind (status) == GST_FAL_STATUS_IN_PROGRESS) {
      GPtrArray *logs = gst_fal_status_get_logs (status);

      saw_progress = TRUE;
      assert_equals_int (logs->len, 1);
      assert_equals_string (((GstFalLog *) g_ptr_array_index (logs,
                  0))->message, "running");
    }
  }
  fail_unless (saw_progress);
  last = g_ptr_array_index (statuses, statuses->len - 1);
  assert_equals_int (gst_fal_status_get_kind (last), GST_FAL_STATUS_COMPLETED);
}

static void
subscribe_blocking (GstFalStatusMode mode)
{
  g_autoptr (GPtrArray) statuses = g_ptr_array_new_with_free_func
      ((GDestroyNotify) gst_fal_status_unref);
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *text = NULL;

  gst_fal_options_set_status_mode (options, mode);
  result = gst_fal_client_subscribe (client, "local/sleep",
      parse ("{\"seconds\": 1}"), options, collect_status, statuses, NULL,
      &error);
  g_assert_no_error (error);
  text = to_json (result);
  assert_equals_string (text, "{\"seconds\":1}");
  check_status_sequence (statuses, TRUE);
}

GST_START_TEST (test_subscribe_stream)
{
  subscribe_blocking (GST_FAL_STATUS_MODE_STREAM);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/sleep/requests/req-1/status/stream"), 1);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/sleep/requests/req-1/status"), 0);
}

GST_END_TEST;

GST_START_TEST (test_subscribe_poll)
{
  subscribe_blocking (GST_FAL_STATUS_MODE_POLL);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/sleep/requests/req-1/status/stream"), 0);
  fail_unless (fal_mock_count (mock, "GET",
          "/queue/local/sleep/requests/req-1/status") >= 2);
}

GST_END_TEST;

static void
failing_stream (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  if (g_str_has_suffix (path, "/status/stream"))
    fal_mock_respond_json (msg, 404, "{\"detail\": \"no streams here\"}");
  else
    fal_mock_queue_handler (m, msg, path, NULL);
}

GST_START_TEST (test_subscribe_stream_fallback)
{
  fal_mock_add_handler (mock, "/queue/", failing_stream, NULL);
  subscribe_blocking (GST_FAL_STATUS_MODE_STREAM);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/sleep/requests/req-1/status/stream"), 1);
  fail_unless (fal_mock_count (mock, "GET",
          "/queue/local/sleep/requests/req-1/status") >= 1);
}

GST_END_TEST;

static void
collect_status_async (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data)
{
  AsyncWait *wait = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_ptr_array_add (wait->statuses, gst_fal_status_ref (status));
}

GST_START_TEST (test_subscribe_async)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *request_id = NULL;
  AsyncWait wait = { 0, };

  wait.statuses = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_fal_status_unref);
  gst_fal_client_subscribe_async (client, "local/sleep", NULL, NULL,
      collect_status_async, &wait, NULL, NULL, on_done, &wait);
  iterate_until_done (&wait);
  result = gst_fal_client_subscribe_finish (client, wait.result, &request_id,
      &error);
  g_assert_no_error (error);
  assert_equals_string (request_id, "req-1");
  check_status_sequence (wait.statuses, TRUE);
  async_wait_clear (&wait);
}

GST_END_TEST;

static void
collect_event (JsonNode * event, gpointer user_data)
{
  GPtrArray *events = user_data;

  g_ptr_array_add (events, json_to_string (event, FALSE));
}

GST_START_TEST (test_stream)
{
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) last = NULL;
  g_autofree gchar *text = NULL;
  AsyncWait wait = { 0, };

  last = gst_fal_client_stream (client, "local/echo", parse ("{\"s\": 1}"),
      NULL, collect_event, events, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (events->len, 4);
  assert_equals_string (g_ptr_array_index (events, 0), "{\"partial\":3}");
  assert_equals_string (g_ptr_array_index (events, 3), "{\"s\":1}");
  text = to_json (last);
  assert_equals_string (text, "{\"s\":1}");
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/echo/stream", "Accept"), "text/event-stream");

  g_ptr_array_set_size (events, 0);
  g_clear_pointer (&last, json_node_unref);
  gst_fal_client_stream_async (client, "local/echo", parse ("{\"s\": 2}"),
      NULL, collect_event, events, NULL, NULL, on_done, &wait);
  iterate_until_done (&wait);
  last = gst_fal_client_stream_finish (client, wait.result, &error);
  g_assert_no_error (error);
  assert_equals_int (events->len, 4);
  async_wait_clear (&wait);
}

GST_END_TEST;

GST_START_TEST (test_missing_credentials)
{
  g_autoptr (GstFalClient) cloud = gst_fal_client_new_for_url (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *queue_url = NULL;

  fail_if (gst_fal_client_has_credentials (cloud));
  g_object_get (cloud, "queue-url", &queue_url, NULL);
  assert_equals_string (queue_url, "https://queue.fal.run");
  result = gst_fal_client_run (cloud, "fal-ai/flux/dev", NULL, NULL, NULL,
      &error);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_MISSING_CREDENTIALS);
  fail_unless (strstr (error->message, "FAL_KEY"));

  g_object_set (cloud, "key", "id:secret", NULL);
  fail_unless (gst_fal_client_has_credentials (cloud));
  /* a blank key is none */
  g_object_set (cloud, "key", " \t", NULL);
  fail_if (gst_fal_client_has_credentials (cloud));
  {
    g_autoptr (GstFalClient) blank = NULL;

    g_setenv ("FAL_KEY", "  ", TRUE);
    blank = gst_fal_client_new_for_url (NULL);
    g_setenv ("FAL_KEY", "", TRUE);
    fail_if (gst_fal_client_has_credentials (blank));
  }
}

GST_END_TEST;

GST_START_TEST (test_environment)
{
  g_autoptr (GstFalClient) from_env = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *run_url = NULL;

  g_setenv ("GST_FAL_URL", fal_mock_get_url (mock), TRUE);
  g_setenv ("FAL_KEY_ID", "kid", TRUE);
  g_setenv ("FAL_KEY_SECRET", "ksecret", TRUE);
  from_env = gst_fal_client_new ();
  g_unsetenv ("FAL_KEY_ID");
  g_unsetenv ("FAL_KEY_SECRET");
  g_setenv ("GST_FAL_URL", "", TRUE);
  assert_equals_string (gst_fal_client_get_server_url (from_env),
      fal_mock_get_url (mock));
  fail_unless (gst_fal_client_has_credentials (from_env));
  g_object_get (from_env, "run-url", &run_url, NULL);
  fail_unless (g_str_has_suffix (run_url, "/run"));
  result = gst_fal_client_run (from_env, "local/echo", NULL, NULL, NULL, NULL);
  fail_unless (result != NULL);
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/echo", "Authorization"), "Key kid:ksecret");
}

GST_END_TEST;

/* /run/status/<code>[/header]: answers <code>, the error type only in the
 * X-Fal-Error-Type header when asked */
static void
answer_status (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  guint code = atoi (parts[3]);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree gchar *body = g_strdup_printf ("{\"detail\": \"d%u\"}", code);

  if (code == 504)
    soup_message_headers_replace (headers, "X-Fal-Request-Timeout-Type",
        "user");
  if (parts[4] && g_str_equal (parts[4], "header"))
    soup_message_headers_replace (headers, "X-Fal-Error-Type", "from_header");
  if (code == 200)
    fal_mock_respond (msg, 200, "text/plain", "this is not json");
  else if (code == 502)
    fal_mock_respond (msg, 502, "text/html",
        "<html>\r\n  <body>\n\tBad   gateway</body>\n</html>\n");
  else
    fal_mock_respond_json (msg, code, body);
}

GST_START_TEST (test_error_mapping)
{
  const struct
  {
    guint status;
    gint code;
  } table[] = {
    {400, GST_FAL_ERROR_VALIDATION}, {401, GST_FAL_ERROR_UNAUTHORIZED},
    {403, GST_FAL_ERROR_UNAUTHORIZED}, {404, GST_FAL_ERROR_NOT_FOUND},
    {413, GST_FAL_ERROR_VALIDATION}, {422, GST_FAL_ERROR_VALIDATION},
    {429, GST_FAL_ERROR_RATE_LIMITED}, {499, GST_FAL_ERROR_CANCELLED},
    {500, GST_FAL_ERROR_SERVER},
    {503, GST_FAL_ERROR_SERVER}, {504, GST_FAL_ERROR_TIMEOUT},
  };
  guint i;

  g_object_set (client, "max-retries", 0, NULL);
  fal_mock_add_handler (mock, "/run/status/", answer_status, NULL);
  for (i = 0; i < G_N_ELEMENTS (table); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = NULL;
    g_autofree gchar *app = g_strdup_printf ("status/%u", table[i].status);
    g_autofree gchar *detail = g_strdup_printf ("d%u", table[i].status);

    result = gst_fal_client_run (client, app, NULL, NULL, NULL, &error);
    fail_unless (result == NULL);
    g_assert_error (error, GST_FAL_ERROR, table[i].code);
    assert_equals_int (gst_fal_error_get_http_status (error), table[i].status);
    assert_equals_string (gst_fal_error_get_detail (error), detail);
    fail_unless (gst_fal_error_get_error_type (error) == NULL);
    fail_unless (g_str_has_prefix (error->message, app));
  }

  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = gst_fal_client_run (client,
        "status/500/header", NULL, NULL, NULL, &error);
    g_autofree gchar *summary = gst_fal_error_get_summary (error);

    g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
    assert_equals_string (gst_fal_error_get_error_type (error), "from_header");
    assert_equals_string (summary, "status/500/header: HTTP 500 "
        "from_header: d500");
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = gst_fal_client_run (client, "status/200",
        NULL, NULL, NULL, &error);

    g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL);
    fail_unless (strstr (error->message, "not JSON"));
  }
  /* an HTML page makes a one-line message */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = gst_fal_client_run (client, "status/502",
        NULL, NULL, NULL, &error);
    g_autofree gchar *summary = gst_fal_error_get_summary (error);

    g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
    assert_equals_string (summary, "status/502: HTTP 502 server error: "
        "<html> <body> Bad gateway</body> </html>");
  }
  /* other domains have no details */
  {
    g_autoptr (GError) other = g_error_new_literal (G_IO_ERROR,
        G_IO_ERROR_FAILED, "x");

    assert_equals_int (gst_fal_error_get_http_status (other), 0);
    fail_unless (gst_fal_error_get_detail (other) == NULL);
  }
}

GST_END_TEST;

/* Each thread runs calls in both forms, on its own context. */
static gpointer
caller_thread (gpointer data)
{
  GMainContext *context = g_main_context_new ();
  guint n = GPOINTER_TO_UINT (data);
  guint i;

  g_main_context_push_thread_default (context);
  for (i = 0; i < 5; i++) {
    g_autofree gchar *json = g_strdup_printf ("{\"thread\":%u,\"i\":%u}",
        n, i);
    g_autoptr (JsonNode) args = json_from_string (json, NULL);
    g_autoptr (JsonNode) result = NULL;
    g_autoptr (JsonNode) streamed = NULL;
    g_autoptr (GError) error = NULL;
    g_autofree gchar *text = NULL;
    AsyncWait wait = { 0, };

    result = gst_fal_client_subscribe (client, "local/echo", args, NULL, NULL,
        NULL, NULL, &error);
    g_assert_no_error (error);
    text = json_to_string (result, FALSE);
    g_assert_cmpstr (text, ==, json);

    gst_fal_client_stream_async (client, "local/echo", args, NULL, NULL, NULL,
        NULL, NULL, on_thread_done, &wait);
    while (wait.result == NULL)
      g_main_context_iteration (context, TRUE);
    streamed = gst_fal_client_stream_finish (client, wait.result, &error);
    g_assert_no_error (error);
    g_clear_pointer (&text, g_free);
    text = json_to_string (streamed, FALSE);
    g_assert_cmpstr (text, ==, json);
    async_wait_clear (&wait);
  }
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

GST_START_TEST (test_threads)
{
  GThread *threads[4];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("caller", caller_thread, GUINT_TO_POINTER (i));
  for (i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  assert_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"), 20);
  assert_equals_int (fal_mock_count (mock, "POST", "/run/local/echo/stream"),
      20);
}

GST_END_TEST;

static Suite *
client_suite (void)
{
  Suite *s = suite_create ("falclient");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_run_blocking);
  tcase_add_test (tc, test_run_async);
  tcase_add_test (tc, test_run_errors);
  tcase_add_test (tc, test_unauthorized);
  tcase_add_test (tc, test_error_mapping);
  tcase_add_test (tc, test_submit_blocking);
  tcase_add_test (tc, test_submit_async);
  tcase_add_test (tc, test_by_id);
  tcase_add_test (tc, test_request_calls_async);
  tcase_add_test (tc, test_subscribe_stream);
  tcase_add_test (tc, test_subscribe_poll);
  tcase_add_test (tc, test_subscribe_stream_fallback);
  tcase_add_test (tc, test_subscribe_async);
  tcase_add_test (tc, test_stream);
  tcase_add_test (tc, test_missing_credentials);
  tcase_add_test (tc, test_environment);
  tcase_add_test (tc, test_threads);
  return s;
}

GST_CHECK_MAIN (client);
