/* Apps fronting a bare HTTP model server (backend=URL in the apps file):
 * a backend of the test (a SoupServer on its own thread) behind the server,
 * through the server's queue API. */
#include <glib/gstdio.h>
#include "server/realtime.h"
#include "server/falhttpthread.h"

#define TEST_KEY "backend-test-key-not-for-the-backend"

typedef struct
{
  FalHttpThread http;
  GMutex lock;
  GCond cond;
  SoupMessageHeaders *echo_headers;     /* of the last echo */
  gboolean serve_openapi;
  /* /slow: held until its client closes the connection */
  SoupServerMessage *slow;
  GSocket *slow_socket;
  gboolean slow_started, slow_closed;
} Backend;

static Backend backend;
static GstFalServer *server;
static SoupSession *session;
static gchar *apps_dir, *apps_path;
static const gchar *const auth[] = { "Authorization", "Key " TEST_KEY, NULL };

static void
answer_json (SoupServerMessage * msg, guint status, const gchar * json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      json, strlen (json));
}

/* Whether the peer of the held /slow closed its end (EOF readable). */
static gboolean
watch_slow (gpointer data)
{
  gchar byte;
  GInputVector vector = { &byte, 1 };
  gint flags = G_SOCKET_MSG_PEEK;

  g_mutex_lock (&backend.lock);
  if (!g_socket_condition_check (backend.slow_socket,
          G_IO_IN | G_IO_HUP | G_IO_ERR)
      || g_socket_receive_message (backend.slow_socket, NULL, &vector, 1,
          NULL, NULL, &flags, NULL, NULL) > 0) {
    g_mutex_unlock (&backend.lock);
    return G_SOURCE_CONTINUE;
  }
  backend.slow_closed = TRUE;
  g_cond_broadcast (&backend.cond);
  g_mutex_unlock (&backend.lock);
  /* let libsoup finish the message on the closed connection */
  soup_server_message_set_status (backend.slow, 500, NULL);
  soup_server_message_unpause (backend.slow);
  return G_SOURCE_REMOVE;
}

static void
slow_finished (SoupServerMessage * msg, gpointer data)
{
  g_mutex_lock (&backend.lock);
  backend.slow = NULL;
  g_clear_object (&backend.slow_socket);
  g_mutex_unlock (&backend.lock);
}

static void
backend_cb (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (g_str_equal (path, "/openapi.json")) {
    gboolean serve;

    g_mutex_lock (&backend.lock);
    serve = backend.serve_openapi;
    g_mutex_unlock (&backend.lock);
    if (serve)
      answer_json (msg, 200, "{\"openapi\": \"3.0.2\", \"info\": {\"title\": "
          "\"the backend's own\", \"version\": \"1\"}, \"paths\": {}}");
    else
      answer_json (msg, 404, "{\"detail\": \"Not Found\"}");
  } else if (g_str_equal (path, "/garbage")) {
    soup_server_message_set_status (msg, 200, NULL);
    soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
        "<html>oops</html>", 17);
  } else if (g_str_equal (path, "/fail")) {
    answer_json (msg, 500, "{\"detail\": \"the model ran out of memory\", "
        "\"error_type\": \"model_out_of_memory\"}");
  } else if (g_str_equal (path, "/invalid")) {
    answer_json (msg, 422, "{\"detail\": [{\"loc\": [\"body\", \"prompt\"], "
        "\"msg\": \"Field required\", \"type\": \"missing\"}]}");
  } else if (g_str_has_prefix (path, "/hang")) {
    soup_server_message_pause (msg);
  } else if (g_str_equal (path, "/slow")) {
    GSource *source = g_timeout_source_new (10);

    soup_server_message_pause (msg);
    g_signal_connect (msg, "finished", G_CALLBACK (slow_finished), NULL);
    g_mutex_lock (&backend.lock);
    backend.slow = msg;
    backend.slow_socket = g_object_ref (soup_server_message_get_socket (msg));
    backend.slow_started = TRUE;
    g_cond_broadcast (&backend.cond);
    g_mutex_unlock (&backend.lock);
    g_source_set_callback (source, watch_slow, NULL, NULL);
    g_source_attach (source, backend.http.context);
    g_source_unref (source);
  } else {
    g_autofree gchar *input = g_strndup (body->data, body->length);
    g_autofree gchar *answer = NULL;
    const gchar *id = soup_message_headers_get_one (headers,
        "x-fal-request-id");

    g_mutex_lock (&backend.lock);
    g_clear_pointer (&backend.echo_headers, soup_message_headers_unref);
    backend.echo_headers = soup_message_headers_ref (headers);
    g_mutex_unlock (&backend.lock);
    answer = g_strdup_printf ("{\"input\": %s, \"path\": \"%s\", "
        "\"method\": \"%s\", \"request_id\": \"%s\"}", input, path,
        soup_server_message_get_method (msg), id ? id : "");
    answer_json (msg, 200, answer);
  }
}

/* A loopback port where nothing listens. */
static guint
closed_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  fail_unless (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
setup (void)
{
  g_autofree gchar *url = NULL, *hang_url = NULL, *contents = NULL;
  GError *error = NULL;

  memset (&backend, 0, sizeof backend);
  g_mutex_init (&backend.lock);
  g_cond_init (&backend.cond);
  fal_http_thread_start (&backend.http, backend_cb, NULL);
  url = fal_http_thread_url (&backend.http, "");
  hang_url = fal_http_thread_url (&backend.http, "/hang/");

  apps_dir = g_dir_make_tmp ("gst-fal-backend-XXXXXX", NULL);
  apps_path = g_build_filename (apps_dir, "apps.ini", NULL);
  contents = g_strdup_printf ("[me/model]\n"
      "description=A model of the test\n" "backend=%s\n\n"
      "[me/hang]\n" "backend=%s\n" "backend-timeout=1\n\n"
      "[me/down]\n" "backend=http://127.0.0.1:%u\n", url, hang_url,
      closed_port ());
  fail_unless (g_file_set_contents (apps_path, contents, -1, NULL));

  server = g_object_new (GST_FAL_TYPE_SERVER, "workers", 2, "key", TEST_KEY,
      "apps-file", apps_path, NULL);
  fail_unless (gst_fal_server_start (server, &error), "start: %s",
      error ? error->message : "");
  session = fal_test_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  gst_fal_server_stop (server);
  g_clear_object (&server);
  fal_http_thread_stop (&backend.http);
  g_clear_pointer (&backend.echo_headers, soup_message_headers_unref);
  g_clear_object (&backend.slow_socket);
  g_mutex_clear (&backend.lock);
  g_cond_clear (&backend.cond);
  g_unlink (apps_path);
  g_rmdir (apps_dir);
  g_clear_pointer (&apps_path, g_free);
  g_clear_pointer (&apps_dir, g_free);
}

static FalReply *
submit (const gchar * endpoint, const gchar * input)
{
  g_autofree gchar *url = g_strdup_printf ("%s/queue/%s",
      gst_fal_server_get_url (server), endpoint);
  FalReply *reply = fal_http (session, "POST", url, input, auth);

  fail_unless_equals_int (reply->status, 200);
  return reply;
}

/* Submits through the queue, waits for COMPLETED; the result's reply, and
 * the final status in *@status_reply if asked. */
static FalReply *
submit_and_wait (const gchar * endpoint, const gchar * input,
    FalReply ** status_reply)
{
  g_autoptr (FalReply) queued = submit (endpoint, input);
  FalReply *status = fal_wait_completed (session, fal_reply_string (queued,
          "status_url"), auth);

  if (status_reply)
    *status_reply = status;
  else
    fal_reply_free (status);
  return fal_http (session, "GET", fal_reply_string (queued, "response_url"),
      NULL, auth);
}

GST_START_TEST (test_backend_echo)
{
  g_autoptr (FalReply) result = submit_and_wait ("me/model",
      "{\"prompt\": \"a cat\", \"n\": 2}", NULL);
  g_autoptr (FalReply) sub = submit_and_wait ("me/model/sub/path",
      "{\"x\": 1}", NULL);
  JsonObject *output, *input;

  fail_unless_equals_int (result->status, 200);
  output = fal_reply_object (result);
  input = json_object_get_object_member (output, "input");
  fail_unless_equals_string (json_object_get_string_member (input, "prompt"),
      "a cat");
  fail_unless_equals_int (json_object_get_int_member (input, "n"), 2);
  fail_unless_equals_string (json_object_get_string_member (output, "path"),
      "/");
  fail_unless_equals_string (json_object_get_string_member (output,
          "method"), "POST");
  /* the backend is told which request it serves */
  fail_unless_equals_string (json_object_get_string_member (output,
          "request_id"), fal_reply_header (result, "x-fal-request-id"));

  /* owner/name/sub/path posts to URL/sub/path */
  fail_unless_equals_int (sub->status, 200);
  fail_unless_equals_string (json_object_get_string_member (fal_reply_object
          (sub), "path"), "/sub/path");
}

GST_END_TEST;

static gboolean
header_has_key (const char *name, const char *value, gpointer data)
{
  return strstr (value, TEST_KEY) != NULL;
}

GST_START_TEST (test_backend_never_sees_the_key)
{
  g_autoptr (FalReply) result = submit_and_wait ("me/model", "{}", NULL);
  SoupMessageHeadersIter iter;
  const char *name, *value;

  fail_unless_equals_int (result->status, 200);
  g_mutex_lock (&backend.lock);
  fail_unless (backend.echo_headers != NULL);
  fail_if (soup_message_headers_get_one (backend.echo_headers,
          "Authorization"));
  soup_message_headers_iter_init (&iter, backend.echo_headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    fail_if (header_has_key (name, value, NULL), "the key is in %s", name);
  g_mutex_unlock (&backend.lock);
}

GST_END_TEST;

GST_START_TEST (test_backend_failures_pass_through)
{
  FalReply *status = NULL;
  g_autoptr (FalReply) failed = submit_and_wait ("me/model/fail", "{}",
      &status);
  g_autoptr (FalReply) invalid = submit_and_wait ("me/model/invalid", "{}",
      NULL);
  JsonNode *detail;

  fail_unless_equals_string (fal_reply_string (status, "error_type"),
      "model_out_of_memory");
  fal_reply_free (status);
  fail_unless_equals_int (failed->status, 500);
  fail_unless_equals_string (fal_reply_string (failed, "detail"),
      "the model ran out of memory");

  /* FastAPI's validation detail, as the backend gave it */
  fail_unless_equals_int (invalid->status, 422);
  detail = json_object_get_member (fal_reply_object (invalid), "detail");
  fail_unless (JSON_NODE_HOLDS_ARRAY (detail));
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (json_node_get_array (detail), 0),
          "msg"), "Field required");
}

GST_END_TEST;

/* The result of @endpoint is a COMPLETED error @code, @error_type, with a
 * detail containing @words. */
static void
assert_fails (const gchar * endpoint, guint code, const gchar * error_type,
    const gchar * words)
{
  FalReply *status = NULL;
  g_autoptr (FalReply) result = submit_and_wait (endpoint, "{}", &status);
  const gchar *detail;

  fail_unless_equals_string (fal_reply_string (status, "status"), "COMPLETED");
  fail_unless_equals_string (fal_reply_string (status, "error_type"),
      error_type);
  fal_reply_free (status);
  fail_unless_equals_int (result->status, code);
  detail = fal_reply_string (result, "detail");
  fail_unless (strstr (detail, words), "\"%s\" not in \"%s\"", words, detail);
}

GST_START_TEST (test_backend_garbage)
{
  assert_fails ("me/model/garbage", 502, "runner_incomplete_response",
      "answered HTTP 200 with a body that is not JSON (text/html)");
}

GST_END_TEST;

GST_START_TEST (test_backend_down)
{
  assert_fails ("me/down", 503, "runner_connection_refused",
      "refused the connection");
}

GST_END_TEST;

GST_START_TEST (test_backend_hang_times_out)
{
  assert_fails ("me/hang", 503, "runner_connection_timeout",
      "gave no answer within the backend-timeout of 1 s");
}

GST_END_TEST;

GST_START_TEST (test_backend_cancel_aborts)
{
  g_autoptr (FalReply) queued = submit ("me/model/slow", "{}");
  g_autoptr (FalReply) cancel = NULL;
  g_autoptr (FalReply) status = NULL;
  g_autoptr (FalReply) result = NULL;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_mutex_lock (&backend.lock);
  while (!backend.slow_started)
    fail_unless (g_cond_wait_until (&backend.cond, &backend.lock, deadline),
        "the backend never saw /slow");
  fail_if (backend.slow_closed);
  g_mutex_unlock (&backend.lock);

  cancel = fal_http (session, "PUT", fal_reply_string (queued, "cancel_url"),
      NULL, auth);
  fail_unless_equals_int (cancel->status, 202);

  /* the backend's connection is closed: the exchange was aborted */
  g_mutex_lock (&backend.lock);
  while (!backend.slow_closed)
    fail_unless (g_cond_wait_until (&backend.cond, &backend.lock, deadline),
        "the backend's connection was never closed");
  g_mutex_unlock (&backend.lock);

  status = fal_wait_completed (session, fal_reply_string (queued,
          "status_url"), auth);
  fail_unless_equals_string (fal_reply_string (status, "error_type"),
      "client_cancelled");
  result = fal_http (session, "GET", fal_reply_string (queued,
          "response_url"), NULL, auth);
  fail_unless_equals_int (result->status, 499);
}

GST_END_TEST;

static JsonObject *
get_openapi (const gchar * app, FalReply ** reply)
{
  g_autofree gchar *url = g_strdup_printf ("%s/queue/%s/openapi.json",
      gst_fal_server_get_url (server), app);

  *reply = fal_http (session, "GET", url, NULL, auth);
  fail_unless_equals_int ((*reply)->status, 200);
  return fal_reply_object (*reply);
}

GST_START_TEST (test_backend_openapi)
{
  g_autoptr (FalReply) own = NULL;
  g_autoptr (FalReply) generic = NULL;
  g_autoptr (FalReply) down = NULL;
  g_autoptr (FalReply) hang = NULL;
  JsonObject *doc;

  /* without one of the backend's: the generic document */
  doc = get_openapi ("me/model", &generic);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (doc, "info"), "title"), "me/model");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (doc, "info"), "description"),
      "A model of the test");
  doc = get_openapi ("me/down", &down);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (doc, "info"), "title"), "me/down");
  /* a backend that never answers: the generic one after its timeout */
  doc = get_openapi ("me/hang", &hang);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (doc, "info"), "title"), "me/hang");

  /* the backend's own, passed through */
  g_mutex_lock (&backend.lock);
  backend.serve_openapi = TRUE;
  g_mutex_unlock (&backend.lock);
  doc = get_openapi ("me/model", &own);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (doc, "info"), "title"),
      "the backend's own");
}

GST_END_TEST;

/* fal's realtime route: each input of the websocket posted to the backend */
GST_START_TEST (test_backend_realtime)
{
  g_autoptr (FalWs) t = fal_ws_open (session, server,
      "/run/me/model/realtime", auth);
  g_autoptr (GVariant) result = NULL;
  g_autoptr (GVariant) input = NULL;
  const gchar *prompt = NULL;

  g_assert_no_error (t->error);
  fail_unless_equals_int (t->status, 101);
  fal_ws_send (t, g_variant_new_parsed ("{'prompt': <'a cat'>}"));
  FAL_WS_WAIT (t->frames->len == 1);
  result = fal_ws_frame (t, 0);
  input = g_variant_lookup_value (result, "input", G_VARIANT_TYPE_VARDICT);
  fail_unless (input != NULL, "%s", g_variant_print (result, TRUE));
  fail_unless (g_variant_lookup (input, "prompt", "&s", &prompt));
  fail_unless_equals_string (prompt, "a cat");
  fail_unless_equals_int (t->texts->len, 0);
}

GST_END_TEST;

/* a backend failing under the realtime route: fal's INTERNAL_ERROR, named */
GST_START_TEST (test_backend_realtime_down)
{
  g_autoptr (FalWs) t = fal_ws_open (session, server,
      "/run/me/down/realtime", auth);
  g_autofree gchar *reason = NULL;

  g_assert_no_error (t->error);
  fal_ws_send (t, g_variant_new_parsed ("{'prompt': <'a cat'>}"));
  FAL_WS_WAIT (t->closed);
  reason = fal_ws_control (t, 0, "INTERNAL_ERROR");
  fail_unless (strstr (reason, "refused the connection"), "%s", reason);
  fail_unless_equals_int (t->frames->len, 0);
}

GST_END_TEST;

/* The backends property (gst-fal serve --app) and its backend-timeout */
GST_START_TEST (test_backend_property)
{
  g_autofree gchar *url = fal_http_thread_url (&backend.http, "");
  g_autofree gchar *spec = g_strdup_printf ("me/prop=%s", url);
  const gchar *backends[] = { spec, NULL };
  GstFalServer *local = g_object_new (GST_FAL_TYPE_SERVER, "backends",
      backends, "backend-timeout", 1, NULL);
  const gchar *bad[] = { "me/prop", NULL };
  GstFalServer *refused = g_object_new (GST_FAL_TYPE_SERVER, "backends", bad,
      NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FalReply) echo = NULL;
  g_autoptr (FalReply) hang = NULL;

  fail_unless (gst_fal_server_start (local, &error), "%s",
      error ? error->message : "");
  /* through the queue of that server */
  {
    GstFalServer *shared = server;

    server = local;
    echo = submit_and_wait ("me/prop/sub", "{\"a\": 1}", NULL);
    hang = submit_and_wait ("me/prop/hang", "{}", NULL);
    server = shared;
  }
  fail_unless_equals_int (echo->status, 200);
  fail_unless_equals_string (json_object_get_string_member (fal_reply_object
          (echo), "path"), "/sub");
  fail_unless_equals_int (hang->status, 503);
  fail_unless (strstr (fal_reply_string (hang, "detail"),
          "backend-timeout of 1 s"));
  gst_fal_server_stop (local);
  g_object_unref (local);

  fail_if (gst_fal_server_start (refused, &error));
  fail_unless (strstr (error->message, "is not OWNER/NAME=URL"), "%s",
      error->message);
  g_object_unref (refused);
}

GST_END_TEST;

static Suite *
backend_suite (void)
{
  Suite *s = suite_create ("backend");
  TCase *tc = tcase_create ("backend");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_backend_echo);
  tcase_add_test (tc, test_backend_never_sees_the_key);
  tcase_add_test (tc, test_backend_failures_pass_through);
  tcase_add_test (tc, test_backend_garbage);
  tcase_add_test (tc, test_backend_down);
  tcase_add_test (tc, test_backend_hang_times_out);
  tcase_add_test (tc, test_backend_cancel_aborts);
  tcase_add_test (tc, test_backend_openapi);
  tcase_add_test (tc, test_backend_property);
  tcase_add_test (tc, test_backend_realtime);
  tcase_add_test (tc, test_backend_realtime_down);
  return s;
}

GST_CHECK_MAIN (backend);
