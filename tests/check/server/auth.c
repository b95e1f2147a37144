/* Who may call what on the local server: the key, scoped tokens, the admin
 * routes, blank keys, and numbers from requests that arm timers. Each test
 * ends with a call that shows the server still serves. */
#include "falservertest.h"
#include "gst/falserver/gstfalauth-private.h"

#define KEY "auth-test-key-3c9e"

static GstFalServer *server;
static SoupSession *session;
static const gchar *with_key[] = { "Authorization", "Key " KEY, NULL };

static void
setup (void)
{
  GError *error = NULL;

  server = g_object_new (GST_FAL_TYPE_SERVER, "workers", 1, "key", KEY,
      "admin", TRUE, NULL);
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
call (const gchar * method, const gchar * path, const gchar * json,
    const gchar * const *headers)
{
  g_autofree gchar *url = fal_url (server, path);

  return fal_http (session, method, url, json, headers);
}

/* The key still runs local/echo. */
static void
assert_serving (void)
{
  g_autoptr (FalReply) reply = call ("POST", "/run/local/echo",
      "{\"still\": \"serving\"}", with_key);

  fail_unless_equals_int (reply->status, 200);
  fail_unless_equals_string (fal_reply_string (reply, "still"), "serving");
}

/* A 422 whose detail names @field. */
static void
assert_invalid (FalReply * reply, const gchar * field)
{
  g_autofree gchar *text = NULL;

  fail_unless_equals_int (reply->status, 422);
  text = json_to_string (json_object_get_member (fal_reply_object (reply),
          "detail"), FALSE);
  fail_unless (strstr (text, field) != NULL, "detail %s names no %s", text,
      field);
}

/* Every route a token must not open, with the token as Bearer and as
 * ?fal_jwt_token=. */
static void
assert_token_refused_on_api (const gchar * token)
{
  static const gchar *routes[][2] = {
    {"POST", "/run/local/echo"},
    {"POST", "/run/local/sleep"},
    {"POST", "/run/local/text-to-image"},
    {"POST", "/run/local/echo/stream"},
    {"POST", "/queue/local/echo"},
    {"GET", "/queue/local/echo/openapi.json"},
    {"POST", "/rest/storage/auth/token?storage_type=fal-cdn-v3"},
    {"POST", "/rest/tokens/"},
    {"POST", "/rest/storage/upload/initiate"},
    {"GET", "/_admin/faults"},
    {"POST", "/_admin/faults"},
  };
  g_autofree gchar *bearer = g_strdup_printf ("Bearer %s", token);
  const gchar *headers[] = { "Authorization", bearer, NULL };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (routes); i++) {
    const gchar *body = routes[i][1][1] == '_' ? "{\"latency_ms\": 100}" :
        "{\"allowed_apps\": [\"echo\"], \"token_expiration\": 86400}";
    g_autofree gchar *jwt = g_strdup_printf ("%s%sfal_jwt_token=%s",
        routes[i][1], strchr (routes[i][1], '?') ? "&" : "?", token);
    g_autoptr (FalReply) by_header = call (routes[i][0], routes[i][1], body,
        headers);
    g_autoptr (FalReply) by_query = call (routes[i][0], jwt, body, NULL);

    fail_unless (by_header->status == 403, "%s %s: %u", routes[i][0],
        routes[i][1], by_header->status);
    fail_unless (by_query->status == 403, "%s %s?: %u", routes[i][0],
        routes[i][1], by_query->status);
  }
}

GST_START_TEST (test_cdn_token_only_uploads)
{
  g_autoptr (FalReply) token = call ("POST",
      "/rest/storage/auth/token?storage_type=fal-cdn-v3", "{}", with_key);
  g_autofree gchar *bearer = NULL;
  g_autoptr (FalReply) upload = NULL;
  g_autoptr (FalReply) faults = NULL;

  fail_unless_equals_int (token->status, 200);
  bearer = g_strdup_printf ("Bearer %s", fal_reply_string (token, "token"));
  {
    const gchar *headers[] = { "Authorization", bearer, "X-Fal-File-Name",
      "a.txt", NULL
    };
    g_autoptr (GBytes) body = g_bytes_new_static ("text", 4);
    g_autofree gchar *url = fal_url (server, "/cdn/files/upload");

    upload = fal_http_full (session, "POST", url, "text/plain", body, headers);
  }
  fail_unless_equals_int (upload->status, 200);
  assert_token_refused_on_api (fal_reply_string (token, "token"));
  {
    g_autofree gchar *path = g_strdup_printf
        ("/run/local/echo/realtime?fal_jwt_token=%s",
        fal_reply_string (token, "token"));
    g_autoptr (FalReply) realtime = call ("GET", path, NULL, NULL);

    /* the realtime route refuses every other credential as none (fal) */
    fail_unless_equals_int (realtime->status, 401);
  }

  /* no fault was set through the token */
  faults = call ("GET", "/_admin/faults", NULL, with_key);
  fail_unless_equals_int (faults->status, 200);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object
          (faults), "latency_ms"), 0);
  assert_serving ();
}

GST_END_TEST;

GST_START_TEST (test_realtime_token_only_its_app)
{
  g_autoptr (FalReply) token = call ("POST", "/rest/tokens/",
      "{\"allowed_apps\": [\"local/echo\"], \"token_expiration\": 2}",
      with_key);

  fail_unless_equals_int (token->status, 200);
  fail_unless (JSON_NODE_HOLDS_VALUE (token->json));
  assert_token_refused_on_api (json_node_get_string (token->json));
  {
    const gchar *text = json_node_get_string (token->json);
    g_autofree gchar *own = g_strdup_printf
        ("/run/local/echo/realtime?fal_jwt_token=%s", text);
    g_autofree gchar *other = g_strdup_printf
        ("/run/local/sleep/realtime?fal_jwt_token=%s", text);
    g_autoptr (FalReply) opens = call ("GET", own, NULL, NULL);
    g_autoptr (FalReply) refused = call ("GET", other, NULL, NULL);

    /* its own app's route lets it through (then wants a websocket
     * handshake: 400); another app's refuses it as no credential */
    fail_unless_equals_int (opens->status, 400);
    fail_unless_equals_int (refused->status, 401);
  }
  assert_serving ();
}

GST_END_TEST;

/* The decision the realtime route will ask for. */
GST_START_TEST (test_realtime_scope)
{
  GstFalAuth *auth = gst_fal_auth_new (KEY);
  const gchar *echo[] = { "local/echo", NULL };
  const gchar *alias[] = { "sleep", NULL };
  g_autofree gchar *rt = gst_fal_auth_issue (auth, GST_FAL_TOKEN_REALTIME,
      echo, 60);
  g_autofree gchar *rt_alias = gst_fal_auth_issue (auth,
      GST_FAL_TOKEN_REALTIME, alias, 60);
  g_autofree gchar *cdn = gst_fal_auth_issue (auth, GST_FAL_TOKEN_CDN, NULL,
      60);
  g_autofree gchar *bearer = g_strdup_printf ("Bearer %s", rt);

  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "local/echo", NULL, rt), GST_FAL_AUTH_OK);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "local/echo", bearer, NULL), GST_FAL_AUTH_OK);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "local/sleep", NULL, rt), GST_FAL_AUTH_FORBIDDEN);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "local/sleep", NULL, rt_alias), GST_FAL_AUTH_OK);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "other/sleep", NULL, rt_alias), GST_FAL_AUTH_OK);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "local/echo", NULL, cdn), GST_FAL_AUTH_FORBIDDEN);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_API,
          "local/echo", NULL, rt), GST_FAL_AUTH_FORBIDDEN);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_UPLOAD,
          NULL, NULL, rt), GST_FAL_AUTH_FORBIDDEN);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_UPLOAD,
          NULL, NULL, cdn), GST_FAL_AUTH_OK);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "local/echo", NULL, "not-a-token"), GST_FAL_AUTH_MISSING);
  fail_unless_equals_int (gst_fal_auth_check (auth, GST_FAL_ROUTE_REALTIME,
          "local/echo", "Key " KEY, NULL), GST_FAL_AUTH_OK);
  gst_fal_auth_free (auth);
}

GST_END_TEST;

GST_START_TEST (test_key_compare)
{
  static const gchar *wrong[] = { "Key ", "Key  ", "Key auth-test-key-3c9",
    "Key auth-test-key-3c9f", "Key AUTH-TEST-KEY-3C9E",
    "Bearer ", "Bearer auth-test-key-3c9", "key " KEY, "Key\t" KEY,
  };
  const gchar *bearer[] = { "Authorization", "Bearer " KEY, NULL };
  g_autoptr (FalReply) ok = call ("POST", "/run/local/echo", "{}", bearer);
  guint i;

  fail_unless_equals_int (ok->status, 200);
  for (i = 0; i < G_N_ELEMENTS (wrong); i++) {
    const gchar *headers[] = { "Authorization", wrong[i], NULL };
    g_autoptr (FalReply) reply = call ("POST", "/run/local/echo", "{}",
        headers);

    fail_unless (reply->status == 401, "'%s': %u", wrong[i],
        reply->status);
  }
  assert_serving ();
}

GST_END_TEST;

GST_START_TEST (test_admin_needs_key_and_flag)
{
  GstFalServer *plain = fal_test_server_new (1, KEY);
  g_autofree gchar *plain_url = fal_url (plain, "/_admin/faults");
  g_autoptr (FalReply) off = fal_http (session, "POST", plain_url,
      "{\"rate_500\": 1}", with_key);
  g_autoptr (FalReply) off_get = fal_http (session, "GET", plain_url, NULL,
      with_key);
  g_autoptr (FalReply) anonymous = call ("POST", "/_admin/faults",
      "{\"rate_500\": 1}", NULL);
  g_autoptr (FalReply) on = call ("POST", "/_admin/faults",
      "{\"rate_500\": 0, \"latency_ms\": 1}", with_key);

  fail_unless_equals_int (off->status, 404);
  fail_unless_equals_int (off_get->status, 404);
  fail_unless_equals_int (anonymous->status, 401);
  fail_unless_equals_int (on->status, 200);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object (on),
          "latency_ms"), 1);
  {
    g_autofree gchar *run = fal_url (plain, "/run/local/echo");
    g_autoptr (FalReply) fine = fal_http (session, "POST", run, "{}",
        with_key);

    fail_unless_equals_int (fine->status, 200);
  }
  g_object_unref (plain);
  assert_serving ();
}

GST_END_TEST;

GST_START_TEST (test_blank_key_is_no_key)
{
  static const gchar *blanks[] = { "", " ", " \t\n ", "\r" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (blanks); i++) {
    GstFalServer *by_property = g_object_new (GST_FAL_TYPE_SERVER,
        "bind-address", "0.0.0.0", "key", blanks[i], NULL);
    GstFalServer *by_env;
    GError *error = NULL;

    fail_if (gst_fal_server_start (by_property, &error), "key '%s'",
        blanks[i]);
    fail_unless (strstr (error->message, "without a key"), "%s",
        error->message);
    g_clear_error (&error);
    g_object_unref (by_property);

    g_setenv ("FAL_KEY", blanks[i], TRUE);
    by_env = g_object_new (GST_FAL_TYPE_SERVER, "bind-address", "0.0.0.0",
        NULL);
    g_setenv ("FAL_KEY", "", TRUE);
    fail_if (gst_fal_server_start (by_env, &error), "FAL_KEY '%s'", blanks[i]);
    g_clear_error (&error);
    g_object_unref (by_env);
  }

  /* on loopback a blank key leaves the server open, as without a key */
  {
    GstFalServer *open = fal_test_server_new (1, " ");
    g_autofree gchar *run = fal_url (open, "/run/local/echo");
    g_autoptr (FalReply) reply = fal_http (session, "POST", run, "{}", NULL);

    fail_unless_equals_int (reply->status, 200);
    g_object_unref (open);
  }
  assert_serving ();
}

GST_END_TEST;

GST_START_TEST (test_admin_numbers)
{
  static const gchar *bad[][2] = {
    {"{\"latency_ms\": -1}", "latency_ms"},
    {"{\"latency_ms\": 4294967296}", "latency_ms"},
    {"{\"latency_ms\": 1e300}", "latency_ms"},
    {"{\"latency_ms\": \"10\"}", "latency_ms"},
    {"{\"retry_after\": -1}", "retry_after"},
    {"{\"retry_after\": 1e12}", "retry_after"},
    {"{\"rate_500\": 2}", "rate_500"},
    {"{\"rate_drop\": -0.5}", "rate_drop"},
    {"{\"rate_429\": true}", "rate_429"},
  };
  GstFalServerFaults huge = { 0, };
  g_autoptr (FalReply) faults = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (FalReply) reply = call ("POST", "/_admin/faults", bad[i][0],
        with_key);

    assert_invalid (reply, bad[i][1]);
  }
  /* nothing was set */
  faults = call ("GET", "/_admin/faults", NULL, with_key);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object
          (faults), "latency_ms"), 0);
  fail_unless_equals_float (json_object_get_double_member (fal_reply_object
          (faults), "rate_500"), 0.0);
  assert_serving ();

  /* the library API clamps */
  huge.latency_ms = G_MAXUINT;
  huge.retry_after = G_MAXUINT;
  gst_fal_server_set_faults (server, &huge);
  g_clear_pointer (&faults, fal_reply_free);
  faults = call ("GET", "/_admin/faults", NULL, with_key);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object
          (faults), "latency_ms"), GST_FAL_MAX_LATENCY_MS);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object
          (faults), "retry_after"), GST_FAL_MAX_RETRY_AFTER);
  gst_fal_server_set_faults (server, NULL);
  assert_serving ();
}

GST_END_TEST;

GST_START_TEST (test_token_numbers)
{
  static const gchar *bad[][2] = {
    {"{\"allowed_apps\": [\"echo\"], \"token_expiration\": 1e300}",
        "token_expiration"},
    {"{\"allowed_apps\": [\"echo\"], \"token_expiration\": -5}",
        "token_expiration"},
    {"{\"allowed_apps\": [\"echo\"], \"token_expiration\": 0}",
        "token_expiration"},
    {"{\"allowed_apps\": [\"echo\"], \"token_expiration\": 86401}",
        "token_expiration"},
    {"{\"allowed_apps\": [\"echo\"], \"token_expiration\": \"60\"}",
        "token_expiration"},
    {"{\"token_expiration\": 60}", "allowed_apps"},
    {"{\"allowed_apps\": \"echo\"}", "allowed_apps"},
    {"{\"allowed_apps\": [1]}", "allowed_apps"},
    {"{\"allowed_apps\": [\"\"]}", "allowed_apps"},
  };
  g_autoptr (FalReply) fine = call ("POST", "/rest/tokens/",
      "{\"allowed_apps\": [\"echo\"], \"token_expiration\": 86400}", with_key);
  g_autoptr (FalReply) by_default = call ("POST", "/rest/tokens/",
      "{\"allowed_apps\": [\"echo\"]}", with_key);
  guint i;

  fail_unless_equals_int (fine->status, 200);
  fail_unless_equals_int (by_default->status, 200);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (FalReply) reply = call ("POST", "/rest/tokens/", bad[i][0],
        with_key);

    assert_invalid (reply, bad[i][1]);
  }
  assert_serving ();
}

GST_END_TEST;

GST_START_TEST (test_queue_length_numbers)
{
  static const gchar *bad[] = { "4294967296", "18446744073709551616", "-1",
    "0", "x", "1x", ""
  };
  g_autoptr (FalReply) fine = call ("POST",
      "/queue/local/echo?fal_max_queue_length=5", "{}", with_key);
  guint i;

  fail_unless_equals_int (fine->status, 200);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *path =
        g_strdup_printf ("/queue/local/echo?fal_max_queue_length=%s", bad[i]);
    g_autoptr (FalReply) reply = call ("POST", path, "{}", with_key);

    assert_invalid (reply, "fal_max_queue_length");
  }
  assert_serving ();
}

GST_END_TEST;

GST_START_TEST (test_request_timeout_numbers)
{
  static const gchar *bad[] = { "nan", "NaN", "inf", "-inf", "1e999", "0",
    "-1", "x", ""
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    const gchar *headers[] = { "Authorization", "Key " KEY,
      "X-Fal-Request-Timeout", bad[i], NULL
    };
    g_autoptr (FalReply) reply = call ("POST", "/queue/local/echo", "{}",
        headers);
    g_autofree gchar *detail = NULL;

    fail_unless (reply->status == 400, "'%s': %u", bad[i],
        reply->status);
    detail = g_strdup (fal_reply_string (reply, "detail"));
    fail_unless (strstr (detail, "X-Fal-Request-Timeout"), "%s", detail);
  }
  assert_serving ();
}

GST_END_TEST;

/* fal_wait_started () with the key */
static void
wait_started (const gchar * status_url)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (FalReply) reply = fal_http (session, "GET", status_url, NULL,
        with_key);

    if (strcmp (fal_reply_string (reply, "status"), "IN_QUEUE"))
      return;
    g_usleep (10 * 1000);
  }
  fail ("request at %s never started", status_url);
}

static FalReply *
submit (const gchar * endpoint, const gchar * input, const gchar * timeout)
{
  const gchar *headers[] = { "Authorization", "Key " KEY,
    "X-Fal-Request-Timeout", timeout, NULL
  };
  g_autofree gchar *path = g_strdup_printf ("/queue/%s", endpoint);
  FalReply *reply = call ("POST", path, input, timeout ? headers : with_key);

  fail_unless_equals_int (reply->status, 200);
  return reply;
}

/* 4294968 s in ms wraps a guint to 704 ms: such a timer would fire before
 * the 1.5 s one of the marker, armed after it on the same context. */
GST_START_TEST (test_long_start_timeout)
{
  g_autoptr (FalReply) busy = submit ("local/sleep", "{\"seconds\": 3600}",
      NULL);
  g_autoptr (FalReply) patient = NULL;
  g_autoptr (FalReply) marker = NULL;
  g_autoptr (FalReply) marker_status = NULL;
  g_autoptr (FalReply) patient_status = NULL;
  g_autoptr (FalReply) cancel = NULL;
  g_autoptr (FalReply) done = NULL;
  g_autoptr (FalReply) result = NULL;
  g_autofree gchar *cancel_path = NULL;

  wait_started (fal_reply_string (busy, "status_url"));
  patient = submit ("local/echo", "{\"patient\": true}", "4294968");
  marker = submit ("local/echo", "{}", "1.5");
  marker_status = fal_wait_completed (session, fal_reply_string (marker,
          "status_url"), with_key);
  fail_unless_equals_string (fal_reply_string (marker_status, "error_type"),
      "request_timeout");

  patient_status = fal_http (session, "GET", fal_reply_string (patient,
          "status_url"), NULL, with_key);
  fail_unless_equals_int (patient_status->status, 202);
  fail_unless_equals_string (fal_reply_string (patient_status, "status"),
      "IN_QUEUE");

  /* free the worker: the patient request runs */
  cancel = fal_http (session, "PUT", fal_reply_string (busy, "cancel_url"),
      NULL, with_key);
  fail_unless_equals_int (cancel->status, 202);
  done = fal_wait_completed (session, fal_reply_string (patient,
          "status_url"), with_key);
  result = fal_http (session, "GET", fal_reply_string (patient,
          "response_url"), NULL, with_key);
  fail_unless_equals_int (result->status, 200);
  fail_unless (json_object_get_boolean_member (fal_reply_object (result),
          "patient"));
  assert_serving ();
}

GST_END_TEST;

/* An expiry of 2^63-1 s wrapped to 1 s in the past: the file was gone. */
GST_START_TEST (test_lifecycle_numbers)
{
  static const gchar *lifecycles[] = {
    "{\"expiration_duration_seconds\": 9223372036854775807}",
    "{\"expiration_duration_seconds\": 1e300}",
    "{\"expiration_duration_seconds\": \"99999999999999999999\"}",
  };
  g_autoptr (FalReply) token = call ("POST",
      "/rest/storage/auth/token?storage_type=fal-cdn-v3", "{}", with_key);
  g_autofree gchar *bearer = g_strdup_printf ("Bearer %s",
      fal_reply_string (token, "token"));
  g_autofree gchar *url = fal_url (server, "/cdn/files/upload");
  g_autoptr (GBytes) body = g_bytes_new_static ("kept", 4);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (lifecycles); i++) {
    const gchar *headers[] = { "Authorization", bearer,
      "X-Fal-Object-Lifecycle-Preference", lifecycles[i], NULL
    };
    g_autoptr (FalReply) upload = fal_http_full (session, "POST", url,
        "text/plain", body, headers);
    g_autoptr (FalReply) download = NULL;

    fail_unless_equals_int (upload->status, 200);
    download = fal_http (session, "GET", fal_reply_string (upload,
            "access_url"), NULL, NULL);
    fail_unless (download->status == 200, "%s: %u", lifecycles[i],
        download->status);
  }
  assert_serving ();
}

GST_END_TEST;

static Suite *
auth_suite (void)
{
  Suite *s = suite_create ("server-auth");
  TCase *tc = tcase_create ("auth");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_cdn_token_only_uploads);
  tcase_add_test (tc, test_realtime_token_only_its_app);
  tcase_add_test (tc, test_realtime_scope);
  tcase_add_test (tc, test_key_compare);
  tcase_add_test (tc, test_admin_needs_key_and_flag);
  tcase_add_test (tc, test_blank_key_is_no_key);
  tcase_add_test (tc, test_admin_numbers);
  tcase_add_test (tc, test_token_numbers);
  tcase_add_test (tc, test_queue_length_numbers);
  tcase_add_test (tc, test_request_timeout_numbers);
  tcase_add_test (tc, test_long_start_timeout);
  tcase_add_test (tc, test_lifecycle_numbers);
  return s;
}

GST_CHECK_MAIN (auth);
