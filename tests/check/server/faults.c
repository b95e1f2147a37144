/* Fault injection of the local server: by the API and the admin endpoint. */
#include "falservertest.h"

static GstFalServer *server;
static SoupSession *session;

/* with the admin routes, which are off by default */
static void
setup (void)
{
  GError *error = NULL;

  server = g_object_new (GST_FAL_TYPE_SERVER, "workers", 2, "admin", TRUE,
      NULL);
  fail_unless (gst_fal_server_start (server, &error), "start: %s",
      error ? error->message : "?");
  session = fal_test_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  g_clear_object (&server);
}

static FalReply *
run_echo (void)
{
  g_autofree gchar *url = fal_url (server, "/run/local/echo");

  return fal_http (session, "POST", url, "{\"fault\": \"test\"}", NULL);
}

GST_START_TEST (test_status_faults)
{
  GstFalServerFaults faults = { 0, };
  g_autoptr (FalReply) too_many = NULL;
  g_autoptr (FalReply) server_error = NULL;
  g_autoptr (FalReply) unavailable = NULL;
  g_autoptr (FalReply) fine = NULL;

  faults.rate_429 = 1.0;
  faults.retry_after = 3;
  gst_fal_server_set_faults (server, &faults);
  too_many = run_echo ();
  fail_unless_equals_int (too_many->status, 429);
  fail_unless_equals_string (fal_reply_header (too_many, "Retry-After"), "3");

  faults.rate_429 = 0;
  faults.rate_500 = 1.0;
  gst_fal_server_set_faults (server, &faults);
  server_error = run_echo ();
  fail_unless_equals_int (server_error->status, 500);

  faults.rate_500 = 0;
  faults.rate_503 = 1.0;
  gst_fal_server_set_faults (server, &faults);
  unavailable = run_echo ();
  fail_unless_equals_int (unavailable->status, 503);

  gst_fal_server_set_faults (server, NULL);
  fine = run_echo ();
  fail_unless_equals_int (fine->status, 200);
}

GST_END_TEST;

/* An error, or fewer bytes than announced (libsoup may not report it). */
static gboolean
is_truncated (FalReply * reply)
{
  goffset announced = soup_message_headers_get_content_length (reply->headers);

  if (reply->error)
    return TRUE;
  return announced > 0 && reply->body
      && (goffset) g_bytes_get_size (reply->body) < announced;
}

GST_START_TEST (test_drop_and_truncate)
{
  GstFalServerFaults faults = { 0, };
  g_autoptr (FalReply) dropped = NULL;
  g_autoptr (FalReply) cut = NULL;
  g_autoptr (FalReply) cut_status = NULL;
  g_autofree gchar *url = fal_url (server,
      "/queue/local/echo/requests/00000000-0000-4000-8000-000000000000/status");

  faults.rate_drop = 1.0;
  gst_fal_server_set_faults (server, &faults);
  dropped = run_echo ();
  fail_unless (dropped->error != NULL);

  faults.rate_drop = 0;
  faults.rate_truncate = 1.0;
  gst_fal_server_set_faults (server, &faults);
  /* a sync run answers later, a 404 at once: both are cut short */
  cut = run_echo ();
  fail_unless (is_truncated (cut));
  cut_status = fal_http (session, "GET", url, NULL, NULL);
  fail_unless (is_truncated (cut_status));
}

GST_END_TEST;

GST_START_TEST (test_latency)
{
  GstFalServerFaults faults = { 0, };
  g_autoptr (FalReply) slow = NULL;

  faults.latency_ms = 50;
  gst_fal_server_set_faults (server, &faults);
  slow = run_echo ();
  fail_unless_equals_int (slow->status, 200);
  fail_unless_equals_string (fal_reply_string (slow, "fault"), "test");
}

GST_END_TEST;

GST_START_TEST (test_admin_endpoint)
{
  g_autofree gchar *admin = fal_url (server, "/_admin/faults");
  g_autoptr (FalReply) set = fal_http (session, "POST", admin,
      "{\"rate_503\": 1, \"retry_after\": 2}", NULL);
  g_autoptr (FalReply) unavailable = run_echo ();
  g_autoptr (FalReply) file = NULL;
  g_autoptr (FalReply) reset = NULL;
  g_autoptr (FalReply) fine = NULL;
  g_autofree gchar *missing = fal_url (server, "/files/nothing/here.txt");

  fail_unless_equals_int (set->status, 200);
  fail_unless_equals_float (json_object_get_double_member (fal_reply_object
          (set), "rate_503"), 1.0);
  fail_unless_equals_int (unavailable->status, 503);
  /* downloads are not affected */
  file = fal_http (session, "GET", missing, NULL, NULL);
  fail_unless_equals_int (file->status, 404);
  reset = fal_http (session, "POST", admin, "{}", NULL);
  fail_unless_equals_int (reset->status, 200);
  fine = run_echo ();
  fail_unless_equals_int (fine->status, 200);
}

GST_END_TEST;

GST_START_TEST (test_partial_rate)
{
  GstFalServerFaults faults = { 0, };
  guint i, failed = 0, succeeded = 0;

  /* about half fail; over 100 draws both outcomes occur */
  faults.rate_500 = 0.5;
  gst_fal_server_set_faults (server, &faults);
  for (i = 0; i < 100; i++) {
    g_autoptr (FalReply) reply = run_echo ();

    if (reply->status == 500)
      failed++;
    else if (reply->status == 200)
      succeeded++;
  }
  fail_unless_equals_int (failed + succeeded, 100);
  fail_unless (failed > 0 && succeeded > 0);
}

GST_END_TEST;

static gint64
admin_count (const gchar * query, const gchar * member, guint expected_status)
{
  g_autofree gchar *url = g_strconcat (gst_fal_server_get_url (server),
      "/_admin/executions", query, NULL);
  g_autoptr (FalReply) reply = fal_http (session, "GET", url, NULL, NULL);

  fail_unless_equals_int (reply->status, expected_status);
  if (expected_status != 200)
    return -1;
  return json_object_get_int_member (fal_reply_object (reply), member);
}

/* Submits local/echo; the request id, NULL when the answer had none. */
static gchar *
submit_echo (void)
{
  g_autofree gchar *url = fal_url (server, "/queue/local/echo");
  g_autoptr (FalReply) reply = fal_http (session, "POST", url, "{}", NULL);
  const gchar *id = fal_reply_header (reply, "x-fal-request-id");

  return g_strdup (id);
}

static void
wait_done (const gchar * id)
{
  g_autofree gchar *path = g_strdup_printf
      ("/queue/local/echo/requests/%s/status", id);
  g_autofree gchar *url = fal_url (server, path);
  g_autoptr (FalReply) done = fal_wait_completed (session, url, NULL);
}

/* /_admin/executions counts the requests accepted and the runs of their
 * apps, whatever became of the answers: a dropped submit was never
 * accepted, a cut one was and runs once. */
GST_START_TEST (test_executions_counted)
{
  GstFalServerFaults faults = { 0, };
  g_autofree gchar *one = NULL;
  g_autofree gchar *two = NULL;
  g_autofree gchar *cut = NULL;
  g_autofree gchar *dropped = NULL;
  g_autofree gchar *query = NULL;

  one = submit_echo ();
  two = submit_echo ();
  fail_unless (one && two);
  wait_done (one);
  wait_done (two);
  fail_unless_equals_int (admin_count ("", "requests", 200), 2);
  fail_unless_equals_int (admin_count ("", "executions", 200), 2);

  faults.rate_drop = 1.0;
  gst_fal_server_set_faults (server, &faults);
  dropped = submit_echo ();
  fail_unless (dropped == NULL);
  faults.rate_drop = 0;
  faults.rate_truncate = 1.0;
  gst_fal_server_set_faults (server, &faults);
  cut = submit_echo ();
  fail_unless (cut != NULL);
  gst_fal_server_set_faults (server, NULL);
  wait_done (cut);
  fail_unless_equals_int (admin_count ("", "requests", 200), 3);
  fail_unless_equals_int (admin_count ("", "executions", 200), 3);
  fail_unless_equals_int (admin_count ("", "ran_again", 200), 0);

  query = g_strdup_printf ("?request_id=%s", cut);
  fail_unless_equals_int (admin_count (query, "executions", 200), 1);
  admin_count ("?request_id=nothing", "executions", 404);
}

GST_END_TEST;

static Suite *
faults_suite (void)
{
  Suite *s = suite_create ("server-faults");
  TCase *tc = tcase_create ("faults");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_status_faults);
  tcase_add_test (tc, test_drop_and_truncate);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_admin_endpoint);
  tcase_add_test (tc, test_partial_rate);
  tcase_add_test (tc, test_executions_counted);
  return s;
}

GST_CHECK_MAIN (faults);
