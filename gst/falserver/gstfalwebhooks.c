/* gst-fal server: webhooks (fal-protocol §12): a completed request's result
 * posted to its fal_webhook URL by a small thread pool, with retries, each
 * attempt signed as fal signs: Ed25519 over the request id, the user id, the
 * timestamp and the hex SHA-256 of the body, by a key pair made at start (or
 * kept in the webhook-key-file) whose public key is served as a JWKS at
 * /rest/.well-known/jwks.json. */
#include <string.h>
#include <sodium.h>
#include "gstfalrouter-private.h"
#include <gst/fal/gstfalwebhooksign-private.h>

/* The user id of every webhook: the local server has one user. */
#define WEBHOOK_USER_ID "local"

#define WEBHOOK_ATTEMPTS 4

typedef struct
{
  gchar *url;
  gchar *payload;
  gchar *request_id;
} Webhook;

static void
webhook_free (Webhook * webhook)
{
  g_free (webhook->url);
  g_free (webhook->payload);
  g_free (webhook->request_id);
  g_free (webhook);
}

struct _GstFalWebhookKeys
{
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
  gchar *jwks;                  /* the public key, as served */
};

/* The 32-byte seed of a stable key pair in @path (64 hex digits), made and
 * written (mode 0600) if the file does not exist. */
static gboolean
load_seed (const gchar * path, guint8 * seed, GError ** error)
{
  g_autofree gchar *text = NULL;
  gchar hex[2 * crypto_sign_SEEDBYTES + 2];
  size_t size = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    randombytes_buf (seed, crypto_sign_SEEDBYTES);
    sodium_bin2hex (hex, sizeof hex, seed, crypto_sign_SEEDBYTES);
    strcat (hex, "\n");
    return g_file_set_contents_full (path, hex, -1,
        G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
  }
  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  g_strstrip (text);
  if (strlen (text) != 2 * crypto_sign_SEEDBYTES
      || sodium_hex2bin (seed, crypto_sign_SEEDBYTES, text, strlen (text),
          NULL, &size, NULL) || size != crypto_sign_SEEDBYTES) {
    sodium_memzero (text, strlen (text));
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the webhook key file %s does not hold a key (64 hexadecimal "
        "digits)", path);
    return FALSE;
  }
  sodium_memzero (text, strlen (text));
  return TRUE;
}

GstFalWebhookKeys *
gst_fal_webhook_keys_new (const gchar * key_file, GError ** error)
{
  GstFalWebhookKeys *keys;
  guint8 seed[crypto_sign_SEEDBYTES];
  guint8 digest[crypto_hash_sha256_BYTES];
  gchar x[sodium_base64_ENCODED_LEN (crypto_sign_PUBLICKEYBYTES,
          sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  gchar kid[2 * 8 + 1];

  if (!gst_fal_webhook_sodium_init ()) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "libsodium cannot start: webhooks cannot be signed");
    return NULL;
  }
  if (key_file && !load_seed (key_file, seed, error))
    return NULL;
  keys = g_new0 (GstFalWebhookKeys, 1);
  if (key_file)
    crypto_sign_seed_keypair (keys->public_key, keys->secret_key, seed);
  else
    crypto_sign_keypair (keys->public_key, keys->secret_key);
  sodium_memzero (seed, sizeof seed);
  sodium_bin2base64 (x, sizeof x, keys->public_key, sizeof keys->public_key,
      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  /* the key's id: the start of its SHA-256 */
  crypto_hash_sha256 (digest, keys->public_key, sizeof keys->public_key);
  sodium_bin2hex (kid, sizeof kid, digest, 8);
  keys->jwks = g_strdup_printf ("{\"keys\": [{\"kty\": \"OKP\", "
      "\"crv\": \"Ed25519\", \"x\": \"%s\", \"kid\": \"%s\", "
      "\"use\": \"sig\", \"alg\": \"EdDSA\"}]}", x, kid);
  return keys;
}

void
gst_fal_webhook_keys_free (GstFalWebhookKeys * keys)
{
  if (!keys)
    return;
  sodium_memzero (keys->secret_key, sizeof keys->secret_key);
  g_free (keys->jwks);
  g_free (keys);
}

void
gst_fal_webhooks_route_jwks (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  const gchar *jwks = self->webhook_keys->jwks;

  if (strcmp (path, "/rest/.well-known/jwks.json")) {
    gst_fal_server_respond_no_path (msg, path);
    return;
  }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method not allowed", NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_COPY, jwks, strlen (jwks));
}

/* Sets the signature headers of one attempt, signed now. */
static void
sign (GstFalWebhookKeys * keys, SoupMessageHeaders * headers,
    const gchar * request_id, const gchar * payload)
{
  g_autofree gchar *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT,
      g_get_real_time () / G_USEC_PER_SEC);
  g_autofree gchar *message = gst_fal_webhook_signed_message (request_id,
      WEBHOOK_USER_ID, timestamp, (const guint8 *) payload, strlen (payload));
  guint8 signature[crypto_sign_BYTES];
  gchar hex[2 * crypto_sign_BYTES + 1];

  crypto_sign_detached (signature, NULL, (const guint8 *) message,
      strlen (message), keys->secret_key);
  sodium_bin2hex (hex, sizeof hex, signature, sizeof signature);
  soup_message_headers_replace (headers, "X-Fal-Webhook-Request-Id",
      request_id);
  soup_message_headers_replace (headers, "X-Fal-Webhook-User-Id",
      WEBHOOK_USER_ID);
  soup_message_headers_replace (headers, "X-Fal-Webhook-Timestamp", timestamp);
  soup_message_headers_replace (headers, "X-Fal-Webhook-Signature", hex);
}

static gboolean
webhook_post (Webhook * webhook, GstFalWebhookKeys * keys)
{
  g_autoptr (SoupSession) session =
      soup_session_new_with_options ("timeout", 15, NULL);
  guint attempt;

  for (attempt = 0; attempt < WEBHOOK_ATTEMPTS; attempt++) {
    g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST,
        webhook->url);
    g_autoptr (GBytes) body = g_bytes_new (webhook->payload,
        strlen (webhook->payload));
    g_autoptr (GBytes) answer = NULL;

    if (!msg)
      return FALSE;
    sign (keys, soup_message_get_request_headers (msg), webhook->request_id,
        webhook->payload);
    soup_message_set_request_body_from_bytes (msg, "application/json", body);
    answer = soup_session_send_and_read (session, msg, NULL, NULL);
    if (answer && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
      return TRUE;
    g_debug ("webhook for %s: attempt %u failed", webhook->request_id,
        attempt + 1);
    if (attempt + 1 < WEBHOOK_ATTEMPTS)
      g_usleep ((G_USEC_PER_SEC / 2) << attempt);
  }
  return FALSE;
}

void
gst_fal_webhooks_deliver (gpointer data, gpointer self)
{
  Webhook *webhook = data;

  if (!webhook_post (webhook, ((GstFalServer *) self)->webhook_keys))
    g_debug ("webhook for %s not delivered", webhook->request_id);
  webhook_free (webhook);
}

void
gst_fal_webhooks_queue (GstFalServer * self, GstFalServerRequest * request)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *error_type = NULL;
  JsonNode *body = NULL;
  guint status =
      gst_fal_server_request_get_result (request, &body, &error_type);
  Webhook *webhook = g_new0 (Webhook, 1);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, request->id);
  json_builder_set_member_name (builder, "gateway_request_id");
  json_builder_add_string_value (builder, request->id);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status == 200 ? "OK" : "ERROR");
  json_builder_set_member_name (builder, "payload");
  json_builder_add_value (builder, body ? body :
      json_node_init_null (json_node_alloc ()));
  if (status != 200) {
    g_autofree gchar *error = g_strdup_printf ("Invalid status code: %u",
        status);

    json_builder_set_member_name (builder, "error");
    json_builder_add_string_value (builder, error);
  }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  webhook->url = g_strdup (request->webhook);
  webhook->payload = json_to_string (root, FALSE);
  webhook->request_id = g_strdup (request->id);
  g_thread_pool_push (self->webhooks, webhook, NULL);
}
