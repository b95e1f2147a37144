/* Signed webhooks: a receiver of the test gets a webhook from the server and
 * verifies it with gst_fal_webhook_verify() and the server's JWKS; changed
 * headers, body or key are refused. */
#include <glib/gstdio.h>
#include "server/falservertest.h"
#include "server/falhttpthread.h"
#include <gst/fal/gstfal.h>
#include <sodium.h>

#define TEST_KEY "webhook-test-key"

typedef struct
{
  FalHttpThread http;
  GMutex lock;
  GCond cond;
  GHashTable *headers;          /* of the first webhook */
  GBytes *body;
} Receiver;

static Receiver receiver;

static void
receiver_cb (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  SoupMessageHeadersIter iter;
  const char *name, *value;

  g_mutex_lock (&receiver.lock);
  if (!receiver.headers) {
    receiver.headers = g_hash_table_new_full (g_str_hash, g_str_equal,
        g_free, g_free);
    soup_message_headers_iter_init (&iter,
        soup_server_message_get_request_headers (msg));
    while (soup_message_headers_iter_next (&iter, &name, &value))
      g_hash_table_insert (receiver.headers, g_strdup (name), g_strdup (value));
    receiver.body = g_bytes_new (body->data, body->length);
    g_cond_broadcast (&receiver.cond);
  }
  g_mutex_unlock (&receiver.lock);
  soup_server_message_set_status (msg, 200, NULL);
}

static gboolean
verify (GHashTable * headers, GBytes * body, const gchar * jwks,
    GError ** error)
{
  return gst_fal_webhook_verify (headers, body, jwks, 0, error);
}

static void
assert_refused (GHashTable * headers, GBytes * body, const gchar * jwks,
    GstFalWebhookError code)
{
  g_autoptr (GError) error = NULL;

  fail_if (verify (headers, body, jwks, &error));
  fail_unless (g_error_matches (error, GST_FAL_WEBHOOK_ERROR, code),
      "expected code %d, got %s", code, error ? error->message : "none");
}

/* Sets @name in a copy of @headers. (transfer full) */
static GHashTable *
with_header (GHashTable * headers, const gchar * name, const gchar * value)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  GHashTableIter iter;
  gpointer key, old;

  g_hash_table_iter_init (&iter, headers);
  while (g_hash_table_iter_next (&iter, &key, &old))
    if (g_ascii_strcasecmp (key, name))
      g_hash_table_insert (copy, g_strdup (key), g_strdup (old));
  g_hash_table_insert (copy, g_strdup (name), g_strdup (value));
  return copy;
}

GST_START_TEST (test_webhook_signed)
{
  GstFalServer *server = fal_test_server_new (1, TEST_KEY);
  SoupSession *session = fal_test_session_new ();
  const gchar *const auth[] = { "Authorization", "Key " TEST_KEY, NULL };
  g_autofree gchar *hook = NULL, *escaped = NULL, *url = NULL;
  g_autofree gchar *jwks_url = NULL, *jwks = NULL, *stale = NULL;
  g_autofree gchar *other_jwks = NULL;
  g_autoptr (FalReply) queued = NULL;
  g_autoptr (FalReply) keys = NULL;
  g_autoptr (GHashTable) other_id = NULL, old = NULL;
  g_autoptr (GBytes) tampered = NULL;
  g_autoptr (GError) error = NULL;
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
  gchar x[64];
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_mutex_init (&receiver.lock);
  g_cond_init (&receiver.cond);
  fal_http_thread_start (&receiver.http, receiver_cb, NULL);
  hook = fal_http_thread_url (&receiver.http, "/hook");
  escaped = g_uri_escape_string (hook, NULL, FALSE);
  url = g_strdup_printf ("%s/queue/local/echo?fal_webhook=%s",
      gst_fal_server_get_url (server), escaped);
  queued = fal_http (session, "POST", url, "{\"signed\": true}", auth);
  fail_unless_equals_int (queued->status, 200);

  g_mutex_lock (&receiver.lock);
  while (!receiver.headers)
    fail_unless (g_cond_wait_until (&receiver.cond, &receiver.lock, deadline),
        "no webhook");
  g_mutex_unlock (&receiver.lock);

  /* the JWKS needs no key */
  jwks_url = fal_url (server, "/rest/.well-known/jwks.json");
  keys = fal_http (session, "GET", jwks_url, NULL, NULL);
  fail_unless_equals_int (keys->status, 200);
  jwks = g_strndup (g_bytes_get_data (keys->body, NULL),
      g_bytes_get_size (keys->body));
  fail_unless (verify (receiver.headers, receiver.body, jwks, &error), "%s",
      error ? error->message : "");
  fail_unless_equals_string (g_hash_table_lookup (receiver.headers,
          "X-Fal-Webhook-Request-Id"), fal_reply_string (queued, "request_id"));

  /* the body changed */
  tampered = g_bytes_new ("{\"request_id\": \"x\"}", 19);
  assert_refused (receiver.headers, tampered, jwks,
      GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE);
  /* another request's id */
  other_id = with_header (receiver.headers, "X-Fal-Webhook-Request-Id",
      "00000000-0000-0000-0000-000000000000");
  assert_refused (other_id, receiver.body, jwks,
      GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE);
  /* an old timestamp */
  stale = g_strdup_printf ("%" G_GINT64_FORMAT,
      g_get_real_time () / G_USEC_PER_SEC - 600);
  old = with_header (receiver.headers, "X-Fal-Webhook-Timestamp", stale);
  assert_refused (old, receiver.body, jwks,
      GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP);
  /* another server's key */
  fail_unless (sodium_init () >= 0);
  crypto_sign_keypair (public_key, secret_key);
  sodium_bin2base64 (x, sizeof x, public_key, sizeof public_key,
      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  other_jwks = g_strdup_printf ("{\"keys\": [{\"kty\": \"OKP\", \"crv\": "
      "\"Ed25519\", \"x\": \"%s\"}]}", x);
  assert_refused (receiver.headers, receiver.body, other_jwks,
      GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE);

  fal_http_thread_stop (&receiver.http);
  g_hash_table_unref (receiver.headers);
  g_bytes_unref (receiver.body);
  g_mutex_clear (&receiver.lock);
  g_cond_clear (&receiver.cond);
  g_object_unref (session);
  gst_fal_server_stop (server);
  g_object_unref (server);
}

GST_END_TEST;

GST_START_TEST (test_jwks_shape)
{
  GstFalServer *server = fal_test_server_new (1, TEST_KEY);
  SoupSession *session = fal_test_session_new ();
  g_autofree gchar *url = fal_url (server, "/rest/.well-known/jwks.json");
  g_autoptr (FalReply) reply = fal_http (session, "GET", url, NULL, NULL);
  g_autoptr (FalReply) post = fal_http (session, "POST", url, "{}", NULL);
  JsonArray *keys;
  JsonObject *key;

  fail_unless_equals_int (reply->status, 200);
  keys = json_object_get_array_member (fal_reply_object (reply), "keys");
  fail_unless_equals_int (json_array_get_length (keys), 1);
  key = json_array_get_object_element (keys, 0);
  fail_unless_equals_string (json_object_get_string_member (key, "kty"), "OKP");
  fail_unless_equals_string (json_object_get_string_member (key, "crv"),
      "Ed25519");
  /* 32 bytes, base64url without padding */
  fail_unless_equals_int (strlen (json_object_get_string_member (key, "x")),
      43);
  fail_unless (json_object_has_member (key, "kid"));
  fail_unless_equals_int (post->status, 405);

  g_object_unref (session);
  gst_fal_server_stop (server);
  g_object_unref (server);
}

GST_END_TEST;

static gchar *
jwks_of (GstFalServer * server)
{
  SoupSession *session = fal_test_session_new ();
  g_autofree gchar *url = fal_url (server, "/rest/.well-known/jwks.json");
  g_autoptr (FalReply) reply = fal_http (session, "GET", url, NULL, NULL);

  g_object_unref (session);
  fail_unless_equals_int (reply->status, 200);
  return g_strndup (g_bytes_get_data (reply->body, NULL),
      g_bytes_get_size (reply->body));
}

static GstFalServer *
start_with_key_file (const gchar * path, GError ** error)
{
  GstFalServer *server = g_object_new (GST_FAL_TYPE_SERVER,
      "webhook-key-file", path, NULL);

  if (!gst_fal_server_start (server, error))
    g_clear_object (&server);
  return server;
}

/* webhook-key-file: one key across restarts, made if missing, private */
GST_START_TEST (test_webhook_key_file)
{
  g_autofree gchar *dir = g_dir_make_tmp ("gst-fal-webhook-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "webhook.key", NULL);
  g_autofree gchar *before_jwks = NULL, *after_jwks = NULL, *fresh = NULL;
  GstFalServer *before, *after, *other, *bad;
  g_autoptr (GError) error = NULL;
  GStatBuf st;

  before = start_with_key_file (path, &error);
  fail_unless (before != NULL, "%s", error ? error->message : "");
  fail_unless (g_stat (path, &st) == 0);
  fail_unless_equals_int (st.st_mode & 0777, 0600);
  before_jwks = jwks_of (before);
  gst_fal_server_stop (before);
  g_object_unref (before);

  after = start_with_key_file (path, &error);
  fail_unless (after != NULL, "%s", error ? error->message : "");
  after_jwks = jwks_of (after);
  fail_unless_equals_string (before_jwks, after_jwks);
  gst_fal_server_stop (after);
  g_object_unref (after);

  /* without the file, a key of its own */
  other = fal_test_server_new (1, NULL);
  fresh = jwks_of (other);
  fail_if (g_str_equal (fresh, before_jwks));
  gst_fal_server_stop (other);
  g_object_unref (other);

  fail_unless (g_file_set_contents (path, "not a key\n", -1, NULL));
  bad = start_with_key_file (path, &error);
  fail_unless (bad == NULL);
  fail_unless (strstr (error->message, "does not hold a key"), "%s",
      error->message);

  g_unlink (path);
  g_rmdir (dir);
}

GST_END_TEST;

static Suite *
webhooksigned_suite (void)
{
  Suite *s = suite_create ("webhooksigned");
  TCase *tc = tcase_create ("signed");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_webhook_signed);
  tcase_add_test (tc, test_jwks_shape);
  tcase_add_test (tc, test_webhook_key_file);
  return s;
}

GST_CHECK_MAIN (webhooksigned);
