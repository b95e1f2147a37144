/* https on the local server (the "tls-certificate" property) and the
 * client's certificate checks ("tls-ca-file", GST_FAL_CA_FILE), with the
 * test CA and certificate of tests/files/tls (see its README). */
#include "falservertest.h"
#include <gst/fal/gstfal.h>

#define TEST_KEY "tls-test-key-8d2e41"

static gchar *
tls_file (const gchar * name)
{
  const gchar *root = g_getenv ("GST_FAL_SOURCE_ROOT");

  fail_unless (root && *root, "GST_FAL_SOURCE_ROOT is not set");
  return g_build_filename (root, "tests", "files", "tls", name, NULL);
}

static GTlsCertificate *
server_certificate (void)
{
  g_autofree gchar *cert = tls_file ("server.pem");
  g_autofree gchar *key = tls_file ("server-key.pem");
  GError *error = NULL;
  GTlsCertificate *certificate;

  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  fail_unless (certificate != NULL, "%s", error ? error->message : "?");
  return certificate;
}

static GstFalServer *
https_server_new (const gchar * bind_address)
{
  g_autoptr (GTlsCertificate) certificate = server_certificate ();
  GstFalServer *server = g_object_new (GST_FAL_TYPE_SERVER,
      "bind-address", bind_address, "tls-certificate", certificate, NULL);
  GError *error = NULL;

  fail_unless (gst_fal_server_start (server, &error), "start: %s",
      error ? error->message : "?");
  return server;
}

static GstFalClient *
client_new (const gchar * url, const gchar * ca_file)
{
  GstFalClient *client = g_object_new (GST_FAL_TYPE_CLIENT, "server-url",
      url, "tls-ca-file", ca_file, "max-retries", 2, NULL);

  return client;
}

static JsonNode *
json (const gchar * text)
{
  JsonNode *node = json_from_string (text, NULL);

  fail_unless (node != NULL);
  return node;
}

static void
assert_echo (GstFalClient * client, gboolean subscribe)
{
  g_autoptr (JsonNode) arguments = json ("{\"x\": 1}");
  g_autoptr (JsonNode) result = NULL;
  GError *error = NULL;

  if (subscribe)
    result = gst_fal_client_subscribe (client, "local/echo", arguments, NULL,
        NULL, NULL, NULL, &error);
  else
    result = gst_fal_client_run (client, "local/echo", arguments, NULL, NULL,
        &error);
  fail_unless (result != NULL, "%s", error ? error->message : "?");
  fail_unless (json_node_equal (result, arguments));
}

/* The call fails at once, as a connection failure naming @problem. */
static void
assert_refused (GstFalClient * client, const gchar * problem)
{
  g_autoptr (JsonNode) arguments = json ("{\"x\": 1}");
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;

  result = gst_fal_client_run (client, "local/echo", arguments, NULL, NULL,
      &error);
  fail_unless (result == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER),
      "%s", error->message);
  fail_unless_equals_int (gst_fal_error_get_http_status (error), 0);
  fail_unless (strstr (error->message, problem) != NULL, "%s", error->message);
  fail_unless (strstr (error->message, "TLS certificate") != NULL);
}

GST_START_TEST (test_https_urls)
{
  g_autoptr (GstFalServer) server = https_server_new ("127.0.0.1");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("hello", 5);
  g_autoptr (GBytes) back = NULL;
  g_autofree gchar *file_url = NULL;
  g_autofree gchar *read_back = NULL;
  GError *error = NULL;

  fail_unless (g_str_has_prefix (gst_fal_server_get_url (server),
          "https://127.0.0.1:"), "%s", gst_fal_server_get_url (server));
  client = client_new (gst_fal_server_get_url (server), ca);
  g_object_get (client, "tls-ca-file", &read_back, NULL);
  fail_unless_equals_string (read_back, ca);

  /* sync run; queue (response_url, status stream, result) */
  assert_echo (client, FALSE);
  assert_echo (client, TRUE);

  /* the storage's URLs are https too, and read back */
  file_url = gst_fal_client_upload_bytes (client, data, "text/plain",
      "hello.txt", NULL, &error);
  fail_unless (file_url != NULL, "%s", error ? error->message : "?");
  fail_unless (g_str_has_prefix (file_url, gst_fal_server_get_url (server)),
      "%s", file_url);
  back = gst_fal_client_download (client, file_url, NULL, NULL, &error);
  fail_unless (back != NULL, "%s", error ? error->message : "?");
  fail_unless (g_bytes_equal (back, data));

  gst_fal_server_stop (server);
}

GST_END_TEST;

static void
on_realtime_result (GstFalRealtime * rt, guint64 id, GVariant * result,
    GVariant ** out)
{
  *out = g_variant_ref (result);
}

/* The realtime websocket over wss, trusting the same CA file; refused
 * without it. */
GST_START_TEST (test_wss_realtime)
{
  g_autoptr (GstFalServer) server = https_server_new ("127.0.0.1");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (GstFalClient) trusting = client_new (gst_fal_server_get_url
      (server), ca);
  g_autoptr (GstFalClient) system = client_new (gst_fal_server_get_url
      (server), NULL);
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (trusting,
      "local/echo");
  g_autoptr (GstFalRealtime) refused = gst_fal_realtime_new (system,
      "local/echo");
  g_autoptr (GVariant) message =
      g_variant_ref_sink (g_variant_new_parsed ("{'x': <int64 1>}"));
  g_autoptr (GVariant) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  fail_unless (gst_fal_realtime_open (rt, NULL, &error), "%s",
      error ? error->message : "?");
  g_signal_connect (rt, "result", G_CALLBACK (on_realtime_result), &result);
  fail_unless (gst_fal_realtime_send (rt, message, &error));
  while (!result && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  fail_unless (result && g_variant_equal (result, message));

  fail_if (gst_fal_realtime_open (refused, NULL, &error));
  fail_unless (strstr (error->message, "TLS certificate") != NULL, "%s",
      error->message);
  gst_fal_server_stop (server);
}

GST_END_TEST;

/* Raw queue answers name https URLs, from the Host the client used. */
GST_START_TEST (test_https_queue_urls)
{
  g_autoptr (GstFalServer) server = https_server_new ("127.0.0.1");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (GTlsDatabase) database = g_tls_file_database_new (ca, NULL);
  g_autoptr (SoupSession) session = fal_test_session_new ();
  g_autofree gchar *url = NULL;
  g_autoptr (FalReply) reply = NULL;
  g_autoptr (FalReply) token = NULL;
  JsonObject *object;

  soup_session_set_tls_database (session, database);
  url =
      g_strdup_printf ("%s/queue/local/echo", gst_fal_server_get_url (server));
  reply = fal_http (session, "POST", url, "{}", NULL);
  fail_unless_equals_int (reply->status, 200);
  object = json_node_get_object (reply->json);
  fail_unless (g_str_has_prefix (json_object_get_string_member (object,
              "response_url"), "https://127.0.0.1:"));
  fail_unless (g_str_has_prefix (json_object_get_string_member (object,
              "status_url"), "https://127.0.0.1:"));

  g_free (url);
  url = g_strdup_printf ("%s/rest/storage/auth/token?storage_type=fal-cdn-v3",
      gst_fal_server_get_url (server));
  token = fal_http (session, "POST", url, "{}", NULL);
  fail_unless_equals_int (token->status, 200);
  fail_unless (g_str_has_prefix (json_object_get_string_member
          (json_node_get_object (token->json), "base_url"),
          "https://127.0.0.1:"));
  gst_fal_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_untrusted_refused)
{
  g_autoptr (GstFalServer) server = https_server_new ("127.0.0.1");
  g_autoptr (GstFalClient) client = client_new (gst_fal_server_get_url
      (server), NULL);
  g_autofree gchar *other_ca = g_strdup ("/etc/ssl/certs/ca-certificates.crt");
  g_autoptr (GstFalClient) system = NULL;

  assert_refused (client, "is not trusted (unknown CA)");
  /* the system's CAs do not know the test CA either */
  if (g_file_test (other_ca, G_FILE_TEST_EXISTS)) {
    system = client_new (gst_fal_server_get_url (server), other_ca);
    assert_refused (system, "is not trusted (unknown CA)");
  }
  gst_fal_server_stop (server);
}

GST_END_TEST;

/* The certificate names 127.0.0.1, ::1 and localhost, not 127.0.0.2. */
GST_START_TEST (test_wrong_name_refused)
{
  g_autoptr (GstFalServer) server = https_server_new ("127.0.0.2");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (GstFalClient) client = client_new (gst_fal_server_get_url
      (server), ca);

  assert_refused (client, "does not match the server's name");
  gst_fal_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_ca_file_from_environment)
{
  g_autoptr (GstFalServer) server = https_server_new ("127.0.0.1");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (GstFalClient) from_env = NULL;
  g_autoptr (GstFalClient) empty = NULL;
  g_autoptr (GstFalClient) unset = NULL;
  g_autofree gchar *read_back = NULL;

  g_setenv ("GST_FAL_CA_FILE", ca, TRUE);
  from_env = gst_fal_client_new_for_url (gst_fal_server_get_url (server));
  g_object_get (from_env, "tls-ca-file", &read_back, NULL);
  fail_unless_equals_string (read_back, ca);
  assert_echo (from_env, TRUE);
  /* an empty property is unset */
  empty = client_new (gst_fal_server_get_url (server), "");
  assert_echo (empty, FALSE);

  g_setenv ("GST_FAL_CA_FILE", "", TRUE);
  unset = client_new (gst_fal_server_get_url (server), NULL);
  assert_refused (unset, "is not trusted (unknown CA)");
  g_unsetenv ("GST_FAL_CA_FILE");
  gst_fal_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_unreadable_ca_file)
{
  g_autoptr (GstFalServer) server = https_server_new ("127.0.0.1");
  g_autoptr (GstFalClient) client = client_new (gst_fal_server_get_url
      (server), "/nonexistent/ca.pem");
  g_autoptr (JsonNode) arguments = json ("{}");
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;

  result = gst_fal_client_run (client, "local/echo", arguments, NULL, NULL,
      &error);
  fail_unless (result == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_INVALID_ARGUMENT), "%s", error->message);
  fail_unless (strstr (error->message, "/nonexistent/ca.pem") != NULL, "%s",
      error->message);
  gst_fal_server_stop (server);
}

GST_END_TEST;

/* A bare https SoupServer on its own thread that records what reaches it. */
typedef struct
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;
  gchar *url;
  gint read;                    /* requests read (headers and body) */
  gint authorized;              /* of them, with Authorization: Key TEST_KEY */
  GMutex lock;
  GCond cond;
} Recorder;

/* (not "request-started": libsoup emits it when it starts reading, before
 * the TLS handshake has succeeded or failed) */
static void
recorder_read (SoupServer * soup, SoupServerMessage * msg, Recorder * r)
{
  g_atomic_int_inc (&r->read);
}

static void
recorder_handler (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  Recorder *r = data;
  const gchar *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");

  if (!g_strcmp0 (auth, "Key " TEST_KEY))
    g_atomic_int_inc (&r->authorized);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_STATIC, "{\"x\": 1}", 8);
}

static gpointer
recorder_thread (gpointer data)
{
  Recorder *r = data;
  g_autoptr (GTlsCertificate) certificate = server_certificate ();
  GError *error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (r->context);
  r->soup = soup_server_new ("tls-certificate", certificate, NULL);
  g_signal_connect (r->soup, "request-read", G_CALLBACK (recorder_read), r);
  soup_server_add_handler (r->soup, NULL, recorder_handler, r, NULL);
  fail_unless (soup_server_listen_local (r->soup, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS, &error),
      "%s", error ? error->message : "?");
  uris = soup_server_get_uris (r->soup);
  g_mutex_lock (&r->lock);
  r->url = g_uri_to_string (uris->data);
  g_cond_signal (&r->cond);
  g_mutex_unlock (&r->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (r->loop);
  soup_server_disconnect (r->soup);
  g_clear_object (&r->soup);
  while (g_main_context_iteration (r->context, FALSE));
  g_main_context_pop_thread_default (r->context);
  return NULL;
}

static Recorder *
recorder_new (void)
{
  Recorder *r = g_new0 (Recorder, 1);

  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->context = g_main_context_new ();
  r->loop = g_main_loop_new (r->context, FALSE);
  r->thread = g_thread_new ("recorder", recorder_thread, r);
  g_mutex_lock (&r->lock);
  while (!r->url)
    g_cond_wait (&r->cond, &r->lock);
  g_mutex_unlock (&r->lock);
  /* "https://127.0.0.1:PORT/" */
  if (g_str_has_suffix (r->url, "/"))
    r->url[strlen (r->url) - 1] = '\0';
  return r;
}

static gboolean
recorder_quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
recorder_free (Recorder * r)
{
  g_main_context_invoke (r->context, recorder_quit, r->loop);
  g_thread_join (r->thread);
  g_main_loop_unref (r->loop);
  g_main_context_unref (r->context);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
  g_free (r->url);
  g_free (r);
}

/* The handshake fails before any request byte: the server never sees the
 * request, let alone its key. Then, trusted, the same call reaches it with
 * the key (the recorder sees what it should). */
GST_START_TEST (test_key_never_sent_unverified)
{
  Recorder *r = recorder_new ();
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (GstFalClient) untrusted = client_new (r->url, NULL);
  g_autoptr (GstFalClient) trusted = client_new (r->url, ca);

  g_object_set (untrusted, "key", TEST_KEY, NULL);
  g_object_set (trusted, "key", TEST_KEY, NULL);
  assert_refused (untrusted, "is not trusted (unknown CA)");
  fail_unless_equals_int (g_atomic_int_get (&r->read), 0);
  fail_unless_equals_int (g_atomic_int_get (&r->authorized), 0);

  assert_echo (trusted, FALSE);
  fail_unless_equals_int (g_atomic_int_get (&r->read), 1);
  fail_unless_equals_int (g_atomic_int_get (&r->authorized), 1);
  recorder_free (r);
}

GST_END_TEST;

static Suite *
tls_suite (void)
{
  Suite *s = suite_create ("fal-server-tls");
  TCase *tc = tcase_create ("tls");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_https_urls);
  tcase_add_test (tc, test_https_queue_urls);
  tcase_add_test (tc, test_wss_realtime);
  tcase_add_test (tc, test_untrusted_refused);
  tcase_add_test (tc, test_wrong_name_refused);
  tcase_add_test (tc, test_ca_file_from_environment);
  tcase_add_test (tc, test_unreadable_ca_file);
  tcase_add_test (tc, test_key_never_sent_unverified);
  return s;
}

GST_CHECK_MAIN (tls);
