/* gst-fal: the message a fal webhook signature covers (fal-protocol.md §12)
 *
 * Compiled into the client library (gst_fal_webhook_verify()) and the server
 * library (which signs its webhooks), so that both build the same bytes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalwebhooksign-private.h"

#include <sodium.h>

gboolean
gst_fal_webhook_sodium_init (void)
{
  /* 0 the first time, 1 afterwards, -1 on failure */
  return sodium_init () >= 0;
}

gchar *
gst_fal_webhook_signed_message (const gchar * request_id,
    const gchar * user_id, const gchar * timestamp, const guint8 * body,
    gsize body_size)
{
  guint8 digest[crypto_hash_sha256_BYTES];
  gchar hex[crypto_hash_sha256_BYTES * 2 + 1];

  crypto_hash_sha256 (digest, body, body_size);
  sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
  return g_strjoin ("\n", request_id, user_id, timestamp, hex, NULL);
}
