/* gst-fal: the key goes only to the fal endpoints and never into any output,
 * even with GST_DEBUG=*:9 and G_MESSAGES_DEBUG=all */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include "falmock.h"

#define SECRET_ID "kid-5f1c2a"
#define SECRET_PART "ksec-9b7e33d1"
#define SECRET SECRET_ID ":" SECRET_PART

static const gchar *self_path;

static void
storage_handler (FalMock * mock, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  const gchar *method = soup_server_message_get_method (msg);
  gchar *json;

  if (g_str_has_prefix (path, "/rest/storage/upload/initiate")) {
    json = g_strdup_printf ("{\"upload_url\": \"%s/upload/abc?sig=1\", "
        "\"file_url\": \"%s/files/abc/x.bin\"}", fal_mock_get_url (mock),
        fal_mock_get_url (mock));
    fal_mock_respond_json (msg, 200, json);
    g_free (json);
  } else if (g_str_equal (method, "PUT") && g_str_equal (path, "/upload/abc")) {
    fal_mock_respond_json (msg, 200, "{}");
  } else if (g_str_equal (path, "/files/abc/x.bin")) {
    fal_mock_respond (msg, 200, "application/octet-stream", "payload");
  } else {
    fal_mock_respond_json (msg, 404, "{\"detail\": \"no\"}");
  }
}

static void
unauthorized (FalMock * mock, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  fal_mock_respond_json (msg, 401, "{\"detail\": \"Invalid key\"}");
}

static FalMock *
mock_with_storage (void)
{
  FalMock *mock = fal_mock_new ();
  FalMockApp quick = { 0, 10, 0, NULL, NULL };

  fal_mock_add_app (mock, "local/echo", &quick);
  fal_mock_add_handler (mock, "/rest/", storage_handler, NULL);
  fal_mock_add_handler (mock, "/upload/", storage_handler, NULL);
  fal_mock_add_handler (mock, "/files/", storage_handler, NULL);
  fal_mock_add_handler (mock, "/queue/local/private", unauthorized, NULL);
  return mock;
}

/* Every kind of call, with the key; fails (exit 1) unless the key reached
 * the fal endpoints. Run as a child with full debug output. */
static int
child_main (void)
{
  FalMock *mock = mock_with_storage ();
  GstFalClient *client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
  GstFalOptions *options = gst_fal_options_new ();
  GError *error = NULL;
  JsonNode *node;
  GBytes *bytes;
  gchar *url;
  int failures = 0;

  g_object_set (client, "retry-base-delay", 0.01, NULL);
  if (!gst_fal_client_has_credentials (client))
    return 2;
  node = gst_fal_client_run (client, "local/echo", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  json_node_unref (node);
  gst_fal_options_set_status_mode (options, GST_FAL_STATUS_MODE_POLL);
  node = gst_fal_client_subscribe (client, "local/echo", NULL, options, NULL,
      NULL, NULL, &error);
  g_assert_no_error (error);
  json_node_unref (node);
  node = gst_fal_client_subscribe (client, "local/echo", NULL, NULL, NULL,
      NULL, NULL, &error);
  g_assert_no_error (error);
  json_node_unref (node);
  node = gst_fal_client_stream (client, "local/echo", NULL, NULL, NULL, NULL,
      NULL, &error);
  g_assert_no_error (error);
  json_node_unref (node);
  if (gst_fal_client_submit (client, "local/private", NULL, NULL, NULL,
          &error) != NULL)
    failures++;
  g_print ("expected error: %s\n", error->message);
  g_clear_error (&error);

  bytes = g_bytes_new_static ("payload", 7);
  url = gst_fal_client_upload_bytes (client, bytes, "application/"
      "octet-stream", "x.bin", NULL, &error);
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  bytes = gst_fal_client_download (client, url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  g_free (url);

  if (g_strcmp0 (fal_mock_request_header (mock, "POST", "/run/local/echo",
              "Authorization"), "Key " SECRET) != 0)
    failures++;
  if (g_strcmp0 (fal_mock_request_header (mock, "POST",
              "/rest/storage/upload/initiate", "Authorization"),
          "Key " SECRET) != 0)
    failures++;
  if (fal_mock_request_header (mock, "PUT", "/upload/abc", "Authorization")
      || fal_mock_request_header (mock, "GET", "/files/abc/x.bin",
          "Authorization"))
    failures++;

  gst_fal_options_unref (options);
  g_object_unref (client);
  fal_mock_free (mock);
  g_print ("child done, %d failures\n", failures);
  return failures ? 1 : 0;
}

GST_START_TEST (test_key_never_logged)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *output = NULL;

  g_subprocess_launcher_setenv (launcher, "GST_DEBUG", "*:9", TRUE);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  g_subprocess_launcher_setenv (launcher, "GST_DEBUG_NO_COLOR", "1", TRUE);
  g_subprocess_launcher_setenv (launcher, "FAL_KEY", "", TRUE);
  g_subprocess_launcher_setenv (launcher, "FAL_KEY_ID", SECRET_ID, TRUE);
  g_subprocess_launcher_setenv (launcher, "FAL_KEY_SECRET", SECRET_PART, TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error, self_path, "--child",
      NULL);
  g_assert_no_error (error);
  fail_unless (g_subprocess_communicate_utf8 (child, NULL, NULL, &output, NULL,
          &error));
  g_assert_no_error (error);
  fail_unless (g_subprocess_get_if_exited (child));
  assert_equals_int (g_subprocess_get_exit_status (child), 0);

  /* the output is there, with debug lines of the library and of GStreamer */
  fail_unless (strstr (output, "child done, 0 failures"));
  fail_unless (strstr (output, "POST http://127.0.0.1:"));
  fail_unless (strstr (output, "expected error: local/private: HTTP 401"));
  /* and the key is not, in any part */
  fail_if (strstr (output, SECRET_ID), "key id in the output");
  fail_if (strstr (output, SECRET_PART), "key secret in the output");
}

GST_END_TEST;

GST_START_TEST (test_key_only_to_fal_urls)
{
  FalMock *mock = mock_with_storage ();
  g_autoptr (GstFalClient) client =
      g_object_new (GST_FAL_TYPE_CLIENT, "server-url", fal_mock_get_url (mock),
      "key", SECRET, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("payload", 7);
  g_autoptr (GBytes) downloaded = NULL;
  g_autofree gchar *url = NULL;
  GParamSpec *pspec;

  /* write-only */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (client), "key");
  fail_if (pspec->flags & G_PARAM_READABLE);

  url = gst_fal_client_upload_bytes (client, bytes, "application/octet-stream",
      "x.bin", NULL, &error);
  g_assert_no_error (error);
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/rest/storage/upload/initiate", "Authorization"), "Key " SECRET);
  fail_unless (fal_mock_request_header (mock, "PUT", "/upload/abc",
          "Authorization") == NULL);
  downloaded = gst_fal_client_download (client, url, NULL, NULL, &error);
  g_assert_no_error (error);
  fail_unless (fal_mock_request_header (mock, "GET", "/files/abc/x.bin",
          "Authorization") == NULL);
  g_clear_object (&client);
  fal_mock_free (mock);
}

GST_END_TEST;

static void
redirect (FalMock * mock, SoupServerMessage * msg, const gchar * path,
    gpointer target)
{
  g_autofree gchar *location = g_strconcat (fal_mock_get_url (mock), target,
      NULL);

  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Location", location);
  soup_server_message_set_status (msg, 302, NULL);
}

static void
elsewhere (FalMock * mock, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  fal_mock_respond_json (msg, 200, "{\"moved\": true}");
}

GST_START_TEST (test_key_not_redirected)
{
  FalMock *mock = mock_with_storage ();
  g_autoptr (GstFalClient) client =
      g_object_new (GST_FAL_TYPE_CLIENT, "server-url", fal_mock_get_url (mock),
      "key", SECRET, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  fal_mock_add_handler (mock, "/run/local/moved", redirect,
      (gpointer) "/elsewhere/x");
  fal_mock_add_handler (mock, "/run/local/renamed", redirect,
      (gpointer) "/run/local/echo");
  fal_mock_add_handler (mock, "/elsewhere/", elsewhere, NULL);

  /* a redirect off the fal endpoints loses the key */
  result = gst_fal_client_run (client, "local/moved", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_equals_string (fal_mock_request_header (mock, "POST",
          "/run/local/moved", "Authorization"), "Key " SECRET);
  assert_equals_int (fal_mock_count (mock, NULL, "/elsewhere/x"), 1);
  fail_unless (fal_mock_request_header (mock, NULL, "/elsewhere/x",
          "Authorization") == NULL);
  g_clear_pointer (&result, json_node_unref);

  /* one within them keeps it */
  result = gst_fal_client_run (client, "local/renamed", NULL, NULL, NULL,
      &error);
  g_assert_no_error (error);
  assert_equals_int (fal_mock_count (mock, NULL, "/run/local/echo"), 1);
  assert_equals_string (fal_mock_request_header (mock, NULL, "/run/local/echo",
          "Authorization"), "Key " SECRET);
  g_clear_object (&client);
  fal_mock_free (mock);
}

GST_END_TEST;

static Suite *
secrets_suite (void)
{
  Suite *s = suite_create ("falsecrets");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_key_never_logged);
  tcase_add_test (tc, test_key_only_to_fal_urls);
  tcase_add_test (tc, test_key_not_redirected);
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;

  self_path = argv[0];
  if (argc > 1 && g_str_equal (argv[1], "--child")) {
    gst_init (NULL, NULL);
    return child_main ();
  }
  gst_check_init (&argc, &argv);
  s = secrets_suite ();
  return gst_check_run_suite (s, "secrets", __FILE__);
}
