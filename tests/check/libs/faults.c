/* gst-fal: answers cut off and transport faults (docs/client.md,
 * "Retries"): a submit whose answer carries its request id is followed by
 * that id, never sent twice; one that may have been accepted is reported as
 * such; every exchange that can be repeated is, through resets, 503, 429
 * and bodies cut short */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include <gst/falserver/gstfalserver.h>
#include <sys/socket.h>
#include "falmock.h"

static FalMock *mock;
static GstFalClient *client;

typedef enum
{
  FAULT_NONE,
  /* the answer's headers (x-fal-request-id too), a few bytes of its body,
   * then the connection is closed */
  FAULT_CUT,
  /* the same without x-fal-request-id, cut just after the body's
   * "request_id" string */
  FAULT_CUT_AFTER_ID,
  /* without x-fal-request-id, cut before the body's "request_id" */
  FAULT_CUT_NO_ID,
  /* the same as FAULT_CUT, then reset (RST) instead of closed */
  FAULT_CUT_RESET,
  /* the answer whole, with x-fal-request-id, and a body that is not JSON */
  FAULT_BAD_JSON,
  /* no answer: the connection is reset */
  FAULT_RESET,
  FAULT_503,
  FAULT_429,
} Fault;

/* the fault of the next answer (or the next @faults_left answers) of the
 * spoiled method, then none */
static gint fault;
static gint faults_left;
static const gchar *spoiled_method;

static void
setup (void)
{
  FalMockApp quick = { 0, 0, 0, NULL, NULL };

  mock = fal_mock_new ();
  fal_mock_add_app (mock, "local/echo", &quick);
  client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
  g_object_set (client, "retry-base-delay", 0.01, "retry-max-delay", 0.05,
      NULL);
  fault = FAULT_NONE;
  faults_left = 1;
}

static void
teardown (void)
{
  gst_clear_object (&client);
  fal_mock_free (mock);
}

static void
append_header (const char *name, const char *value, gpointer data)
{
  GString *head = data;

  if (g_ascii_strcasecmp (name, "Content-Length")
      && g_ascii_strcasecmp (name, "Connection"))
    g_string_append_printf (head, "%s: %s\r\n", name, value);
}

/* Writes the answer the mock made, its body whole or its first @keep bytes
 * (at most half of it), announcing the whole length, then closes or resets
 * the connection. */
static void
write_answer (SoupServerMessage * msg, const gchar * body, gsize size,
    gsize keep, gboolean reset)
{
  guint status = soup_server_message_get_status (msg);
  GString *head = g_string_new (NULL);
  GSocket *socket = soup_server_message_get_socket (msg);
  GIOStream *stream;

  g_string_append_printf (head, "HTTP/1.1 %u %s\r\n", status,
      soup_status_get_phrase (status));
  soup_message_headers_foreach (soup_server_message_get_response_headers
      (msg), append_header, head);
  g_string_append_printf (head, "Content-Length: %" G_GSIZE_FORMAT
      "\r\nConnection: close\r\n\r\n", size);
  g_string_append_len (head, body, MIN (keep, size / 2));
  stream = soup_server_message_steal_connection (msg);
  g_output_stream_write_all (g_io_stream_get_output_stream (stream),
      head->str, head->len, NULL, NULL, NULL);
  if (reset) {
    struct linger linger = { 1, 0 };

    setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger,
        sizeof (linger));
  }
  g_io_stream_close (stream, NULL, NULL);
  g_object_unref (stream);
  g_string_free (head, TRUE);
}

/* Spoils the answer the mock made, as the fault says. */
static void
spoil (SoupServerMessage * msg, Fault what)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autoptr (GBytes) bytes =
      soup_message_body_flatten (soup_server_message_get_response_body (msg));
  gsize size;
  const gchar *body = g_bytes_get_data (bytes, &size);
  const gchar *id = strstr (body, "\"request_id\": \"");
  const gchar *html = "<html>502 Bad Gateway</html>";

  switch (what) {
    case FAULT_CUT:
      write_answer (msg, body, size, 5, FALSE);
      break;
    case FAULT_CUT_AFTER_ID:
      soup_message_headers_remove (headers, "x-fal-request-id");
      fail_unless (id != NULL);
      id = strchr (id + strlen ("\"request_id\": \""), '"');
      write_answer (msg, body, size, id + 1 - body, FALSE);
      break;
    case FAULT_CUT_NO_ID:
      soup_message_headers_remove (headers, "x-fal-request-id");
      write_answer (msg, body, size, 5, FALSE);
      break;
    case FAULT_CUT_RESET:
      write_answer (msg, body, size, 5, TRUE);
      break;
    case FAULT_BAD_JSON:
      write_answer (msg, html, strlen (html), strlen (html), FALSE);
      break;
    default:
      g_assert_not_reached ();
  }
}

/* Answers as the mock does, but the next answer to @spoiled_method gets the
 * fault. */
static void
faulty (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  Fault what = FAULT_NONE;

  if (g_str_equal (soup_server_message_get_method (msg), spoiled_method)
      && g_atomic_int_add (&faults_left, -1) > 0)
    what = fault;
  switch (what) {
    case FAULT_RESET:
      fal_mock_reset_connection (msg);
      return;
    case FAULT_503:
      fal_mock_respond_json (msg, 503, "{\"detail\": \"Service unavailable\"}");
      return;
    case FAULT_429:
      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Retry-After", "0");
      fal_mock_respond_json (msg, 429, "{\"detail\": \"Too many requests\"}");
      return;
    default:
      break;
  }
  if (g_str_has_prefix (path, "/queue/"))
    fal_mock_queue_handler (m, msg, path, NULL);
  else
    fal_mock_respond (msg, 200, "application/octet-stream", "file bytes");
  if (what != FAULT_NONE)
    spoil (msg, what);
}

static JsonNode *
subscribe (const gchar * input, GError ** error)
{
  g_autoptr (JsonNode) arguments = json_from_string (input, NULL);

  return gst_fal_client_subscribe (client, "local/echo", arguments, NULL,
      NULL, NULL, NULL, error);
}

/* A submit whose answer was cut off (or unreadable) after the server took
 * it: followed by the id it carries, run once, its result delivered. */
static void
check_submit_followed (Fault what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *text = NULL;

  fal_mock_add_handler (mock, "/queue/", faulty, NULL);
  spoiled_method = "POST";
  fault = what;
  result = subscribe ("{\"frame\": 7}", &error);
  g_assert_no_error (error);
  text = json_to_string (result, FALSE);
  assert_equals_string (text, "{\"frame\":7}");
  fail_unless (faults_left <= 0);
  /* sent once, and its result fetched once */
  assert_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"), 1);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/echo/requests/req-1"), 1);
}

GST_START_TEST (test_submit_cut_after_header)
{
  check_submit_followed (FAULT_CUT);
}

GST_END_TEST;

GST_START_TEST (test_submit_cut_after_body_id)
{
  check_submit_followed (FAULT_CUT_AFTER_ID);
}

GST_END_TEST;

GST_START_TEST (test_submit_reset_after_header)
{
  check_submit_followed (FAULT_CUT_RESET);
}

GST_END_TEST;

GST_START_TEST (test_submit_bad_json_with_header)
{
  check_submit_followed (FAULT_BAD_JSON);
}

GST_END_TEST;

/* Cut off with no id anywhere: reported as possibly accepted, not resent. */
GST_START_TEST (test_submit_cut_without_id_reported)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  fal_mock_add_handler (mock, "/queue/", faulty, NULL);
  spoiled_method = "POST";
  fault = FAULT_CUT_NO_ID;
  result = subscribe ("{}", &error);
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
  fail_unless (strstr (error->message, "local/echo: submit may have been "
          "accepted: its answer was cut short after 5 of "),
      "%s", error->message);
  assert_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"), 1);
}

GST_END_TEST;

/* The connection lost after the request was sent: reported, not resent. */
GST_START_TEST (test_submit_reset_reported)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  fal_mock_add_handler (mock, "/queue/", faulty, NULL);
  spoiled_method = "POST";
  fault = FAULT_RESET;
  result = subscribe ("{}", &error);
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
  fail_unless (strstr (error->message, "local/echo: submit may have been "
          "accepted: connection lost after the request was sent (no request "
          "id)"), "%s", error->message);
  assert_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"), 1);
}

GST_END_TEST;

typedef enum
{
  OP_STATUS,
  OP_RESULT,
  OP_CANCEL,
  OP_STREAM,
  OP_DOWNLOAD,
} Op;

/* Runs @op on the completed request @request; TRUE on success. */
static gboolean
run_op (Op op, GstFalRequest * request, GError ** error)
{
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GstFalStatus) status = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree gchar *url = NULL;

  switch (op) {
    case OP_STATUS:
      status = gst_fal_request_status (request, FALSE, NULL, error);
      return status != NULL
          && gst_fal_status_get_kind (status) == GST_FAL_STATUS_COMPLETED;
    case OP_RESULT:
      node = gst_fal_request_result (request, NULL, error);
      return node != NULL;
    case OP_CANCEL:
      return gst_fal_request_cancel (request, NULL, error);
    case OP_STREAM:
      gst_fal_options_set_status_mode (options, GST_FAL_STATUS_MODE_STREAM);
      status = gst_fal_request_wait (request, options, NULL, NULL, NULL, error);
      return status != NULL;
    case OP_DOWNLOAD:
      url = g_strconcat (fal_mock_get_url (mock), "/files/a.bin", NULL);
      bytes = gst_fal_client_download (client, url, NULL, NULL, error);
      return bytes != NULL && g_bytes_get_size (bytes) == strlen ("file bytes");
  }
  return FALSE;
}

static const gchar *op_paths[] = {
  "/queue/local/echo/requests/req-1/status",
  "/queue/local/echo/requests/req-1",
  "/queue/local/echo/requests/req-1/cancel",
  "/queue/local/echo/requests/req-1/status/stream",
  "/files/a.bin",
};

/* A status of an accepted request is retried past max-retries, until the
 * call's deadline: giving up would lose the request. */
GST_START_TEST (test_status_retried_until_deadline)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) done = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  g_autoptr (JsonNode) result = NULL;

  done = subscribe ("{}", &error);
  g_assert_no_error (error);
  request = gst_fal_client_get_request (client, "local/echo", "req-1");
  g_object_set (client, "max-retries", 1, NULL);
  fal_mock_add_handler (mock, "/queue/", faulty, NULL);
  spoiled_method = "GET";
  fault = FAULT_503;
  faults_left = 4;
  status = gst_fal_request_status (request, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/echo/requests/req-1/status"), 5);
  faults_left = 4;
  result = gst_fal_request_result (request, NULL, &error);
  g_assert_no_error (error);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/echo/requests/req-1"), 6);
}

GST_END_TEST;

/* A result replaying its request's failure (503 with x-fal-request-id) is
 * the server's word: retried only up to max-retries. */
GST_START_TEST (test_failure_replayed_not_persisted)
{
  FalMockApp down = { 0, 0, 503, "{\"detail\": \"down\"}", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (JsonNode) result = NULL;

  fal_mock_add_app (mock, "local/down", &down);
  g_object_set (client, "max-retries", 1, "timeout", 5.0, NULL);
  request = gst_fal_client_submit (client, "local/down", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  result = gst_fal_request_result (request, NULL, &error);
  fail_unless (result == NULL);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
  assert_equals_int (gst_fal_error_get_http_status (error), 503);
  assert_equals_int (fal_mock_count (mock, "GET",
          "/queue/local/down/requests/req-1"), 2);
}

GST_END_TEST;

/* Every exchange that can be repeated is, through each fault, once. */
GST_START_TEST (test_repeatable_exchanges_retried)
{
  static const Fault faults[] = { FAULT_RESET, FAULT_503, FAULT_429,
    FAULT_CUT, FAULT_CUT_RESET
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) done = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  Op op;
  guint i;

  done = subscribe ("{}", &error);
  g_assert_no_error (error);
  request = gst_fal_client_get_request (client, "local/echo", "req-1");
  fal_mock_add_handler (mock, "/queue/", faulty, NULL);
  fal_mock_add_handler (mock, "/files/", faulty, NULL);
  for (op = OP_STATUS; op <= OP_DOWNLOAD; op++) {
    const gchar *method = op == OP_CANCEL ? "PUT" : "GET";

    for (i = 0; i < G_N_ELEMENTS (faults); i++) {
      guint before = fal_mock_count (mock, method, op_paths[op]);
      guint polls = fal_mock_count (mock, "GET", op_paths[OP_STATUS]);

      spoiled_method = method;
      fault = faults[i];
      faults_left = 1;
      fail_unless (run_op (op, request, &error), "op %d, fault %d: %s", op,
          faults[i], error ? error->message : "wrong answer");
      fail_unless (faults_left <= 0);
      /* the spoiled attempt and one more; a status stream cut after its
       * first event goes on polling */
      if (op == OP_STREAM && fal_mock_count (mock, "GET",
              op_paths[OP_STATUS]) == polls + 1)
        before--;
      fail_unless (fal_mock_count (mock, method, op_paths[op]) == before + 2,
          "op %d, fault %d: %u exchanges", op, faults[i],
          fal_mock_count (mock, method, op_paths[op]) - before);
    }
  }
}

GST_END_TEST;

static gboolean
reset_stream (gpointer data)
{
  fal_mock_reset_connection (data);
  return G_SOURCE_REMOVE;
}

/* The status stream sends the request's status, then its connection is
 * reset; the rest goes to the mock's queue. */
static void
stream_then_reset (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  if (!g_str_has_suffix (path, "/status/stream")) {
    fal_mock_queue_handler (m, msg, path, NULL);
    return;
  }
  fal_mock_sse_begin (msg);
  fal_mock_sse_send (msg, "{\"status\": \"IN_QUEUE\", \"queue_position\": 0, "
      "\"request_id\": \"req-1\"}");
  fal_mock_timeout_add (m, 50, reset_stream, g_object_ref (msg),
      g_object_unref);
}

static void
on_wait_status (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data)
{
  GPtrArray *kinds = user_data;

  g_ptr_array_add (kinds, GINT_TO_POINTER (gst_fal_status_get_kind (status)));
}

/* A status stream that breaks: the request is polled from there, and a
 * status the stream reported is not reported again. */
GST_START_TEST (test_stream_broken_polled_once)
{
  FalMockApp queued = { 300, 0, 0, NULL, NULL };
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GPtrArray) kinds = g_ptr_array_new ();
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GstFalStatus) done = NULL;
  g_autoptr (GError) error = NULL;
  guint i;

  fal_mock_add_app (mock, "local/queued", &queued);
  fal_mock_add_handler (mock, "/queue/", stream_then_reset, NULL);
  gst_fal_options_set_status_mode (options, GST_FAL_STATUS_MODE_STREAM);
  request = gst_fal_client_submit (client, "local/queued", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  done = gst_fal_request_wait (request, options, on_wait_status, kinds, NULL,
      &error);
  g_assert_no_error (error);
  fail_unless (fal_mock_count (mock, "GET",
          "/queue/local/queued/requests/req-1/status") > 0);
  for (i = 1; i < kinds->len; i++)
    fail_unless (g_ptr_array_index (kinds, i) != g_ptr_array_index (kinds,
            i - 1), "status %d reported twice in a row",
        GPOINTER_TO_INT (g_ptr_array_index (kinds, i)));
  assert_equals_int (GPOINTER_TO_INT (g_ptr_array_index (kinds,
              kinds->len - 1)), GST_FAL_STATUS_COMPLETED);
}

GST_END_TEST;

/* The local server's count of runs of request @id (/_admin/executions). */
static gint64
server_executions (GstFalServer * server, const gchar * id)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree gchar *url = g_strdup_printf ("%s/_admin/executions?request_id=%s",
      gst_fal_server_get_url (server), id);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL,
      NULL);
  g_autoptr (JsonNode) node = NULL;

  fail_unless_equals_int (soup_message_get_status (msg), 200);
  node = json_from_string (g_bytes_get_data (body, NULL), NULL);
  return json_object_get_int_member (json_node_get_object (node), "executions");
}

/* Against the local server, whose every answer is cut short after its
 * headers: the submit is followed by its x-fal-request-id, and once the
 * faults stop its result comes; the server ran it once. */
GST_START_TEST (test_local_server_submit_cut)
{
  g_autoptr (GstFalServer) server = g_object_new (GST_FAL_TYPE_SERVER,
      "admin", TRUE, NULL);
  g_autoptr (GstFalClient) local = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (JsonNode) arguments = json_from_string ("{\"cut\": 1}", NULL);
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  GstFalServerFaults faults = { 0, };

  fail_unless (gst_fal_server_start (server, &error));
  local = gst_fal_client_new_for_url (gst_fal_server_get_url (server));
  faults.rate_truncate = 1.0;
  gst_fal_server_set_faults (server, &faults);
  request = gst_fal_client_submit (local, "local/echo", arguments, NULL, NULL,
      &error);
  g_assert_no_error (error);
  gst_fal_server_set_faults (server, NULL);
  result = gst_fal_request_get (request, NULL, NULL, &error);
  g_assert_no_error (error);
  text = json_to_string (result, FALSE);
  assert_equals_string (text, "{\"cut\":1}");
  assert_equals_int (server_executions (server,
          gst_fal_request_get_request_id (request)), 1);
}

GST_END_TEST;

static Suite *
faults_suite (void)
{
  Suite *s = suite_create ("faults");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_submit_cut_after_header);
  tcase_add_test (tc, test_submit_cut_after_body_id);
  tcase_add_test (tc, test_submit_reset_after_header);
  tcase_add_test (tc, test_submit_bad_json_with_header);
  tcase_add_test (tc, test_submit_cut_without_id_reported);
  tcase_add_test (tc, test_submit_reset_reported);
  tcase_add_test (tc, test_repeatable_exchanges_retried);
  tcase_add_test (tc, test_status_retried_until_deadline);
  tcase_add_test (tc, test_failure_replayed_not_persisted);
  tcase_add_test (tc, test_stream_broken_polled_once);
  tcase_add_test (tc, test_local_server_submit_cut);
  return s;
}

GST_CHECK_MAIN (faults);
