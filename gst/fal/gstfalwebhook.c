/* gst-fal: verifying the signature of a fal webhook (fal-protocol.md §12)
 *
 * fal signs a webhook with Ed25519 over its request id, user id, timestamp
 * and the hex SHA-256 of its body, joined by '\n', and publishes the public
 * keys as a JWKS. The headers name no key, so the signature is checked
 * against each Ed25519 key of the JWKS. libsodium does the cryptography. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalwebhook.h"
#include "gstfalwebhooksign-private.h"
#include "gstfaljson-private.h"

#include <string.h>
#include <sodium.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (gst-fal-webhook-error-quark, gst_fal_webhook_error);
/* *INDENT-ON* */

/* The value of header @name, matched without case; NULL if absent or blank. */
static const gchar *
header_value (GHashTable * headers, const gchar * name)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, headers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (key && value && !g_ascii_strcasecmp (key, name) && *(gchar *) value)
      return value;
  return NULL;
}

/* Whether @timestamp (unix seconds) is within @tolerance of now. */
static gboolean
check_timestamp (const gchar * timestamp, guint tolerance, GError ** error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, sent;

  if (!g_ascii_string_to_signed (timestamp, 10, 0, G_MAXINT64, &sent, NULL)) {
    g_set_error (error, GST_FAL_WEBHOOK_ERROR,
        GST_FAL_WEBHOOK_ERROR_MALFORMED_HEADER,
        "X-Fal-Webhook-Timestamp \"%s\" is not unix seconds", timestamp);
    return FALSE;
  }
  if (sent < now - (gint64) tolerance) {
    g_set_error (error, GST_FAL_WEBHOOK_ERROR,
        GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP,
        "the webhook was signed %" G_GINT64_FORMAT " s ago, more than the "
        "tolerance of %u s", now - sent, tolerance);
    return FALSE;
  }
  if (sent > now + (gint64) tolerance) {
    g_set_error (error, GST_FAL_WEBHOOK_ERROR,
        GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP,
        "the webhook's timestamp is %" G_GINT64_FORMAT " s in the future, "
        "more than the tolerance of %u s", sent - now, tolerance);
    return FALSE;
  }
  return TRUE;
}

/* A string member of @object; NULL if absent or not a string. */
static const gchar *
string_member (JsonObject * object, const gchar * name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The Ed25519 public keys of @jwks, 32 bytes each. (transfer full) */
static GPtrArray *
jwks_keys (const gchar * jwks, GError ** error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  JsonNode *keys_node;
  JsonArray *array;
  guint i;

  root = gst_fal_json_from_string (jwks, -1, &parse_error);
  keys_node = root && JSON_NODE_HOLDS_OBJECT (root) ?
      json_object_get_member (json_node_get_object (root), "keys") : NULL;
  if (!keys_node || !JSON_NODE_HOLDS_ARRAY (keys_node)) {
    g_set_error (error, GST_FAL_WEBHOOK_ERROR,
        GST_FAL_WEBHOOK_ERROR_INVALID_JWKS,
        "the JWKS is not a JSON object with a keys array%s%s",
        parse_error ? ": " : "", parse_error ? parse_error->message : "");
    return NULL;
  }
  array = json_node_get_array (keys_node);
  for (i = 0; i < json_array_get_length (array); i++) {
    JsonNode *node = json_array_get_element (array, i);
    JsonObject *key;
    const gchar *x;
    guint8 *bytes;
    size_t size = 0;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    key = json_node_get_object (node);
    if (g_strcmp0 (string_member (key, "kty"), "OKP")
        || g_strcmp0 (string_member (key, "crv"), "Ed25519"))
      continue;
    x = string_member (key, "x");
    if (!x)
      continue;
    bytes = g_malloc (crypto_sign_PUBLICKEYBYTES);
    if (sodium_base642bin (bytes, crypto_sign_PUBLICKEYBYTES, x, strlen (x),
            NULL, &size, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        || size != crypto_sign_PUBLICKEYBYTES) {
      g_free (bytes);
      continue;
    }
    g_ptr_array_add (keys, bytes);
  }
  if (keys->len == 0) {
    g_set_error_literal (error, GST_FAL_WEBHOOK_ERROR,
        GST_FAL_WEBHOOK_ERROR_UNKNOWN_KEY,
        "the JWKS holds no Ed25519 key (kty OKP, crv Ed25519, x)");
    return NULL;
  }
  return g_steal_pointer (&keys);
}

/**
 * gst_fal_webhook_verify:
 * @headers: (element-type utf8 utf8): the request headers of the webhook,
 *   names matched without case
 * @body: the raw body of the webhook, as received
 * @jwks: the JWKS of the server that sent it, as JSON text: fal's, or
 *   `GET /rest/.well-known/jwks.json` of the local server
 * @tolerance: how far, in seconds, the timestamp may be from now, in the past
 *   or the future; 0 for %GST_FAL_WEBHOOK_DEFAULT_TOLERANCE
 * @error: the reason a webhook is refused, in #GST_FAL_WEBHOOK_ERROR
 *
 * Verifies that a webhook was signed by a key of @jwks, for this body, with
 * a recent timestamp: the `X-Fal-Webhook-Signature` header is an Ed25519
 * signature of `X-Fal-Webhook-Request-Id`, `X-Fal-Webhook-User-Id`,
 * `X-Fal-Webhook-Timestamp` and the hex SHA-256 of @body, joined by newlines.
 *
 * A verified webhook may still be delivered twice (fal retries deliveries):
 * a receiver must be idempotent, for instance keyed on the request id.
 *
 * Returns: %TRUE if the webhook is authentic and fresh
 */
gboolean
gst_fal_webhook_verify (GHashTable * headers, GBytes * body,
    const gchar * jwks, guint tolerance, GError ** error)
{
  static const gchar *const names[] = { "X-Fal-Webhook-Request-Id",
    "X-Fal-Webhook-User-Id", "X-Fal-Webhook-Timestamp",
    "X-Fal-Webhook-Signature",
  };
  const gchar *values[G_N_ELEMENTS (names)];
  g_autoptr (GPtrArray) keys = NULL;
  g_autofree gchar *message = NULL;
  guint8 signature[crypto_sign_BYTES];
  size_t size = 0;
  gsize body_size;
  const guint8 *body_data;
  guint i;

  g_return_val_if_fail (headers != NULL, FALSE);
  g_return_val_if_fail (body != NULL, FALSE);
  g_return_val_if_fail (jwks != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gst_fal_webhook_sodium_init ()) {
    g_set_error_literal (error, GST_FAL_WEBHOOK_ERROR,
        GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE, "libsodium cannot start");
    return FALSE;
  }
  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    values[i] = header_value (headers, names[i]);
    if (!values[i]) {
      g_set_error (error, GST_FAL_WEBHOOK_ERROR,
          GST_FAL_WEBHOOK_ERROR_MISSING_HEADER, "the webhook has no %s header",
          names[i]);
      return FALSE;
    }
  }
  if (!check_timestamp (values[2], tolerance ? tolerance :
          GST_FAL_WEBHOOK_DEFAULT_TOLERANCE, error))
    return FALSE;
  if (strlen (values[3]) != 2 * crypto_sign_BYTES
      || sodium_hex2bin (signature, sizeof signature, values[3],
          strlen (values[3]), NULL, &size, NULL)
      || size != crypto_sign_BYTES) {
    g_set_error_literal (error, GST_FAL_WEBHOOK_ERROR,
        GST_FAL_WEBHOOK_ERROR_MALFORMED_HEADER,
        "X-Fal-Webhook-Signature is not 128 hexadecimal digits");
    return FALSE;
  }
  keys = jwks_keys (jwks, error);
  if (!keys)
    return FALSE;

  body_data = g_bytes_get_data (body, &body_size);
  message = gst_fal_webhook_signed_message (values[0], values[1], values[2],
      body_data, body_size);
  for (i = 0; i < keys->len; i++)
    if (crypto_sign_verify_detached (signature, (const guint8 *) message,
            strlen (message), g_ptr_array_index (keys, i)) == 0)
      return TRUE;
  g_set_error (error, GST_FAL_WEBHOOK_ERROR,
      GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE,
      "the signature of the webhook for %s matches none of the %u Ed25519 "
      "keys of the JWKS over its headers and body", values[0], keys->len);
  return FALSE;
}
