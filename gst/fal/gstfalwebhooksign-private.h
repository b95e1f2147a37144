/* gst-fal: the message a fal webhook signature covers
 * (private: compiled into the client library, which verifies webhooks, and
 * the server library, which signs them) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Initialises libsodium (thread-safe, idempotent); FALSE if it cannot be. */
G_GNUC_INTERNAL
gboolean gst_fal_webhook_sodium_init (void);

/* The signed message of fal's webhooks: the request id, the user id, the
 * timestamp (unix seconds, as sent) and the hex SHA-256 of the raw body,
 * joined by '\n'. (transfer full) */
G_GNUC_INTERNAL
gchar *gst_fal_webhook_signed_message (const gchar * request_id,
    const gchar * user_id, const gchar * timestamp, const guint8 * body,
    gsize body_size);

G_END_DECLS
