/* Fuzz target: verifying a webhook (gst_fal_webhook_verify(),
 * gst/fal/gstfalwebhook.c): its JWKS, signature headers and body
 *
 * Input, NUL-separated: the JWKS text, then the X-Fal-Webhook-Request-Id,
 * -User-Id, -Timestamp and -Signature header values, then the body. A
 * timestamp of "now" is replaced with the current time, so that inputs
 * reach the signature check. No input is signed by a key of its JWKS:
 * every one must be refused, with a reason.
 */
#include "falfuzz.h"
#include <gst/fal/gstfal.h>

static const gchar *const names[] = { "X-Fal-Webhook-Request-Id",
  "x-fal-webhook-user-id", "X-FAL-WEBHOOK-TIMESTAMP", "X-Fal-Webhook-Signature",
};

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GHashTable) headers = g_hash_table_new_full (g_str_hash,
      g_str_equal, NULL, g_free);
  g_autofree gchar *jwks = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  const uint8_t *rest;
  size_t rest_size;
  guint i;

  jwks = fal_fuzz_split (data, size, &rest, &rest_size);
  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    gchar *value = fal_fuzz_split (rest, rest_size, &rest, &rest_size);

    if (g_str_equal (value, "now")) {
      g_free (value);
      value = g_strdup_printf ("%" G_GINT64_FORMAT,
          g_get_real_time () / G_USEC_PER_SEC);
    }
    g_hash_table_insert (headers, (gpointer) names[i], value);
  }
  body = g_bytes_new (rest, rest_size);

  if (gst_fal_webhook_verify (headers, body, jwks, 0, &error)
      || error == NULL || error->domain != GST_FAL_WEBHOOK_ERROR)
    abort ();
  return 0;
}
