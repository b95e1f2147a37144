/* gst-fal: verifying the signature of a fal webhook */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <glib-object.h>

G_BEGIN_DECLS

/**
 * GST_FAL_WEBHOOK_ERROR:
 *
 * Error domain of gst_fal_webhook_verify(): why a webhook was refused.
 */
#define GST_FAL_WEBHOOK_ERROR (gst_fal_webhook_error_quark ())

/**
 * GstFalWebhookError:
 * @GST_FAL_WEBHOOK_ERROR_MISSING_HEADER: a signature header
 *   (`X-Fal-Webhook-Request-Id`, `X-Fal-Webhook-User-Id`,
 *   `X-Fal-Webhook-Timestamp` or `X-Fal-Webhook-Signature`) is missing or empty.
 * @GST_FAL_WEBHOOK_ERROR_MALFORMED_HEADER: the timestamp is not unix seconds,
 *   or the signature is not 128 hexadecimal digits.
 * @GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP: the timestamp is further from now
 *   than the tolerance, in the past or in the future.
 * @GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE: the signature matches none of the
 *   keys of the JWKS over these headers and this body (tampered, or signed
 *   by another key: fal's headers name no key).
 * @GST_FAL_WEBHOOK_ERROR_UNKNOWN_KEY: the JWKS holds no Ed25519 key.
 * @GST_FAL_WEBHOOK_ERROR_INVALID_JWKS: the JWKS is not a JSON object with a
 *   `keys` array.
 *
 * Error codes of the #GST_FAL_WEBHOOK_ERROR domain.
 */
typedef enum {
  GST_FAL_WEBHOOK_ERROR_MISSING_HEADER,
  GST_FAL_WEBHOOK_ERROR_MALFORMED_HEADER,
  GST_FAL_WEBHOOK_ERROR_STALE_TIMESTAMP,
  GST_FAL_WEBHOOK_ERROR_BAD_SIGNATURE,
  GST_FAL_WEBHOOK_ERROR_UNKNOWN_KEY,
  GST_FAL_WEBHOOK_ERROR_INVALID_JWKS,
} GstFalWebhookError;

/**
 * GST_FAL_WEBHOOK_DEFAULT_TOLERANCE:
 *
 * The tolerance of gst_fal_webhook_verify() when it is given 0: 300 s, as
 * fal documents.
 */
#define GST_FAL_WEBHOOK_DEFAULT_TOLERANCE 300

GST_FAL_API
GQuark gst_fal_webhook_error_quark (void);

GST_FAL_API
gboolean gst_fal_webhook_verify (GHashTable * headers, GBytes * body,
    const gchar * jwks, guint tolerance, GError ** error);

G_END_DECLS
