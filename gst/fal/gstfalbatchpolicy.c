/* gst-fal: the retry policy and failure causes of GstFalBatch */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalbatchpolicy-private.h"
#include "gstfalbatch.h"
#include "gstfalerror.h"

#include <string.h>

gboolean
gst_fal_batch_error_is_worth_retrying (const GError * error)
{
  guint status;

  if (error->domain != GST_FAL_ERROR)
    return FALSE;
  status = gst_fal_error_get_http_status (error);
  switch (error->code) {
    case GST_FAL_ERROR_RATE_LIMITED:
      return TRUE;
    case GST_FAL_ERROR_SERVER:
      /* a submit lost after it was sent may run on the server: submitting
       * it again could run it twice (docs/client.md names this message) */
      if (strstr (error->message, " may have been accepted: "))
        return FALSE;
      /* no status: the connection failed */
      return status == 0 || status >= 500;
    default:
      /* validation, not found, credentials, deadlines, cancellation: the
       * same request would fail the same way */
      return FALSE;
  }
}

gdouble
gst_fal_batch_retry_delay (guint attempt, gdouble base, gdouble max)
{
  gdouble delay = base * (gdouble) (1u << MIN (attempt - 1, 20u));

  delay = MIN (delay, max) * g_random_double_range (0.5, 1.5);
  return MIN (delay, max);
}

static const gchar *
code_name (gint code)
{
  static const gchar *const names[] = {
    "missing credentials", "unauthorized", "not found", "validation",
    "rate limited", "timeout", "cancelled", "server error", "protocol error",
    "invalid input", "encode error",
  };

  return code >= 0 && code < (gint) G_N_ELEMENTS (names) ? names[code] :
      "error";
}

/**
 * gst_fal_batch_error_cause:
 * @error: the failure of an item
 *
 * The cause a failure is counted under in the batch's summary: the HTTP
 * status and kind (`HTTP 422 validation`), `connection failed`, `timeout`,
 * `invalid input`, … Errors of other domains are counted under their
 * domain's name.
 *
 * Returns: (transfer full): the cause
 */
gchar *
gst_fal_batch_error_cause (const GError * error)
{
  guint status;

  g_return_val_if_fail (error != NULL, NULL);
  if (error->domain != GST_FAL_ERROR)
    return g_strdup (g_quark_to_string (error->domain));
  status = gst_fal_error_get_http_status (error);
  if (status != 0)
    return g_strdup_printf ("HTTP %u %s", status, code_name (error->code));
  if (error->code == GST_FAL_ERROR_SERVER)
    return g_strdup ("connection failed");
  return g_strdup (code_name (error->code));
}
