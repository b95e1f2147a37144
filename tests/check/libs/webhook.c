/* gst_fal_webhook_verify(): webhooks signed as fal signs them
 * (fal-protocol.md §12), with keys made here by libsodium; the message is
 * built here from the documented layout, independently of the library. */
#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include <sodium.h>

typedef struct
{
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
} KeyPair;

static void
key_pair_init (KeyPair * pair)
{
  fail_unless (sodium_init () >= 0);
  crypto_sign_keypair (pair->public_key, pair->secret_key);
}

/* {"keys": [...]} of @n pairs. (transfer full) */
static gchar *
jwks_of (const KeyPair * pairs, guint n)
{
  GString *out = g_string_new ("{\"keys\": [");
  guint i;

  for (i = 0; i < n; i++) {
    gchar x[sodium_base64_ENCODED_LEN (crypto_sign_PUBLICKEYBYTES,
            sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

    sodium_bin2base64 (x, sizeof x, pairs[i].public_key,
        crypto_sign_PUBLICKEYBYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    g_string_append_printf (out, "%s{\"kty\": \"OKP\", \"crv\": \"Ed25519\", "
        "\"x\": \"%s\", \"kid\": \"k%u\", \"use\": \"sig\"}", i ? ", " : "",
        x, i);
  }
  g_string_append (out, "]}");
  return g_string_free (out, FALSE);
}

/* The headers of a webhook for @body signed by @pair at @timestamp. */
static GHashTable *
signed_headers (const KeyPair * pair, const gchar * request_id,
    gint64 timestamp, const gchar * body)
{
  GHashTable *headers = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);
  g_autofree gchar *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
      body, -1);
  g_autofree gchar *stamp = g_strdup_printf ("%" G_GINT64_FORMAT, timestamp);
  g_autofree gchar *message = g_strdup_printf ("%s\nuser-1\n%s\n%s",
      request_id, stamp, digest);
  guint8 signature[crypto_sign_BYTES];
  gchar hex[2 * crypto_sign_BYTES + 1];

  crypto_sign_detached (signature, NULL, (const guint8 *) message,
      strlen (message), pair->secret_key);
  sodium_bin2hex (hex, sizeof hex, signature, sizeof signature);
  /* names in the case of the wire, or not: HTTP names have no case */
  g_hash_table_insert (headers, g_strdup ("x-fal-webhook-request-id"),
      g_strdup (request_id));
  g_hash_table_insert (headers, g_strdup ("X-Fal-Webhook-User-Id"),
      g_strdup ("user-1"));
  g_hash_table_insert (headers, g_strdup ("X-FAL-WEBHOOK-TIMESTAMP"),
      g_steal_pointer (&stamp));
  g_hash_table_insert (headers, g_strdup ("X-Fal-Webhook-Signature"),
      g_strdup (hex));
  g_hash_table_insert (headers, g_strdup ("Content-Type"),
      g_strdup ("application/json"));
  return headers;
}

static const gchar body_text[] =
    "{\"request_id\": \"r-1\", \"status\": \"OK\", " "\"payload\": {\"n\": 1}}";

static gboolean
verify (GHashTable * headers, const gchar * body, const gchar * jwks,
    guint tolerance, GError ** error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

  return gst_fal_webhook_verify (headers, bytes, jwks, tolerance, error);
}

static gint64
now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

GST_START_TEST (test_webhook_authentic)
{
  KeyPair pairs[2];
  g_autofree gchar *jwks = NULL;
  g_autoptr (GHashTable) headers = NULL;
  g_autoptr (GError) error = NULL;

  key_pair_init (&pairs[0]);
  key_pair_init (&pairs[1]);
  /* the signing key second: every key of the set is tried */
  jwks = jwks_of (pairs, 2);
  headers = signed_headers (&pairs[1], "r-1", now () - 10, body_text);
  fail_unless (verify (headers, body_text, jwks, 0, &error), "%s",
      error ? error->message : "");
}

GST_END_TEST;

static void
assert_refused (GHashTable * headers, const gchar * body, const gchar * jwks,
    guint tolerance, GstFalWebhookError code, const gchar * words)
{
  g_autoptr (GError) error = NULL;

  fail_if (verify (headers, body, jwks, tolerance, &error));
  fail_unless (g_error_matches (error, GST_FAL_WEBHOOK_ERROR, code),
      "expected code %d, got %s", code, error ? error->message : "none");
  fail_unless (strstr (error->message, words), "\"%s\" not in \"%s\"", words,
      error->message);
}

GST_START_TEST (test_webhook_tampered)
{
  KeyPair pair, other;
  g_autofree gchar *jwks = NULL, *other_jwks = NULL;
  g_autoptr (GHashTable) headers = NULL;

  key_pair_init (&pair);
  key_pair_init (&other);
  jwks = jwks_of (&pair, 1);
  other_jwks = jwks_of (&other, 1);
  headers = signed_headers (&pair, "r-1", now (), body_text);

  /* the body changed by one byte */
  assert_refused (headers, "{\"request_id\": \"r-1\", \"status\": \"OK\", "
      "\"payload\": {\"n\": 2}}", jwks, 0,
      GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE, "matches none");
  /* another key's JWKS */
  assert_refused (headers, body_text, other_jwks, 0,
      GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE, "matches none of the 1 Ed25519");
  /* another request id */
  g_hash_table_insert (headers, g_strdup ("x-fal-webhook-request-id"),
      g_strdup ("r-2"));
  assert_refused (headers, body_text, jwks, 0,
      GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE, "webhook for r-2");
}

GST_END_TEST;

GST_START_TEST (test_webhook_stale)
{
  KeyPair pair;
  g_autofree gchar *jwks = NULL;
  g_autoptr (GHashTable) old = NULL, future = NULL, recent = NULL;
  g_autoptr (GError) error = NULL;

  key_pair_init (&pair);
  jwks = jwks_of (&pair, 1);
  old = signed_headers (&pair, "r-1", now () - 400, body_text);
  assert_refused (old, body_text, jwks, 0,
      GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP, "tolerance of 300 s");
  future = signed_headers (&pair, "r-1", now () + 400, body_text);
  assert_refused (future, body_text, jwks, 0,
      GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP, "in the future");
  /* a tolerance of the caller's */
  recent = signed_headers (&pair, "r-1", now () - 100, body_text);
  assert_refused (recent, body_text, jwks, 30,
      GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP, "tolerance of 30 s");
  fail_unless (verify (old, body_text, jwks, 3600, &error), "%s",
      error ? error->message : "");
}

GST_END_TEST;

GST_START_TEST (test_webhook_bad_headers_and_jwks)
{
  KeyPair pair;
  g_autofree gchar *jwks = NULL;
  g_autoptr (GHashTable) headers = NULL;

  key_pair_init (&pair);
  jwks = jwks_of (&pair, 1);
  headers = signed_headers (&pair, "r-1", now (), body_text);

  assert_refused (headers, body_text, "{\"keys\": []}", 0,
      GST_FAL_WEBHOOK_ERROR_UNKNOWN_KEY, "no Ed25519 key");
  assert_refused (headers, body_text, "{\"keys\": [{\"kty\": \"RSA\", "
      "\"n\": \"AQAB\", \"e\": \"AQAB\"}, {\"kty\": \"OKP\", \"crv\": "
      "\"Ed25519\", \"x\": \"short\"}, 7]}", 0,
      GST_FAL_WEBHOOK_ERROR_UNKNOWN_KEY, "no Ed25519 key");
  assert_refused (headers, body_text, "not json", 0,
      GST_FAL_WEBHOOK_ERROR_INVALID_JWKS, "keys array");
  assert_refused (headers, body_text, "{\"keys\": {}}", 0,
      GST_FAL_WEBHOOK_ERROR_INVALID_JWKS, "keys array");

  g_hash_table_insert (headers, g_strdup ("X-Fal-Webhook-Signature"),
      g_strdup ("abcd"));
  assert_refused (headers, body_text, jwks, 0,
      GST_FAL_WEBHOOK_ERROR_MALFORMED_HEADER, "128 hexadecimal");
  g_hash_table_insert (headers, g_strdup ("X-FAL-WEBHOOK-TIMESTAMP"),
      g_strdup ("yesterday"));
  assert_refused (headers, body_text, jwks, 0,
      GST_FAL_WEBHOOK_ERROR_MALFORMED_HEADER, "\"yesterday\"");
  g_hash_table_insert (headers, g_strdup ("X-Fal-Webhook-User-Id"),
      g_strdup (""));
  assert_refused (headers, body_text, jwks, 0,
      GST_FAL_WEBHOOK_ERROR_MISSING_HEADER, "X-Fal-Webhook-User-Id");
  g_hash_table_remove (headers, "x-fal-webhook-request-id");
  assert_refused (headers, body_text, jwks, 0,
      GST_FAL_WEBHOOK_ERROR_MISSING_HEADER, "X-Fal-Webhook-Request-Id");
}

GST_END_TEST;

static Suite *
webhook_suite (void)
{
  Suite *s = suite_create ("webhook");
  TCase *tc = tcase_create ("verify");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_webhook_authentic);
  tcase_add_test (tc, test_webhook_tampered);
  tcase_add_test (tc, test_webhook_stale);
  tcase_add_test (tc, test_webhook_bad_headers_and_jwks);
  return s;
}

GST_CHECK_MAIN (webhook);
