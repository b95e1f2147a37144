/* gst-fal: the GST_FAL_ERROR domain */
#pragma once

#include <gst/fal/gstfal-prelude.h>

G_BEGIN_DECLS

/**
 * GST_FAL_ERROR:
 *
 * Error domain of every #GError returned by libgstfal. Errors in this domain
 * carry extra details readable with gst_fal_error_get_http_status(),
 * gst_fal_error_get_error_type(), gst_fal_error_get_detail() and
 * gst_fal_error_get_request_id().
 *
 * When a failure has details, its message ends with one more line,
 * `fal-error: ` followed by a JSON object with the members `http_status`,
 * `error_type`, `detail` and `request_id` (those that are known). An error
 * re-created in this domain from such a message, as language bindings do
 * (PyGObject's GLib.Error passed back into C), carries the same details, so
 * the getters work from Python and JavaScript too. gst_fal_error_get_summary()
 * gives the message without that line, for people.
 */
#define GST_FAL_ERROR (gst_fal_error_quark ())

/**
 * GstFalError:
 * @GST_FAL_ERROR_MISSING_CREDENTIALS: the fal cloud was called with no key;
 *   the message says how to set one (`FAL_KEY`, `FAL_KEY_ID`/`FAL_KEY_SECRET`
 *   or the `key` property).
 * @GST_FAL_ERROR_UNAUTHORIZED: the server refused the credentials (401, 403).
 * @GST_FAL_ERROR_NOT_FOUND: unknown application, path or request id (404).
 * @GST_FAL_ERROR_VALIDATION: the server rejected the input (400, 413, 422); the
 *   detail holds the server's explanation.
 * @GST_FAL_ERROR_RATE_LIMITED: too many requests (429) after all retries.
 * @GST_FAL_ERROR_TIMEOUT: a deadline passed: the client-side timeout, or the
 *   start timeout on the server (504 with `X-Fal-Request-Timeout-Type: user`).
 * @GST_FAL_ERROR_CANCELLED: the request was cancelled (499, `client_cancelled`).
 * @GST_FAL_ERROR_SERVER: the server or the app failed (5xx, or a COMPLETED
 *   status carrying an error), or the connection failed after all retries.
 * @GST_FAL_ERROR_PROTOCOL: the server answered something that is not the fal
 *   protocol: bad JSON, bad SSE, missing fields.
 * @GST_FAL_ERROR_INVALID_ARGUMENT: the caller passed an invalid application
 *   id, argument or option.
 * @GST_FAL_ERROR_ENCODE: a frame or file could not be encoded or read.
 *
 * Error codes of the #GST_FAL_ERROR domain.
 */
typedef enum {
  GST_FAL_ERROR_MISSING_CREDENTIALS,
  GST_FAL_ERROR_UNAUTHORIZED,
  GST_FAL_ERROR_NOT_FOUND,
  GST_FAL_ERROR_VALIDATION,
  GST_FAL_ERROR_RATE_LIMITED,
  GST_FAL_ERROR_TIMEOUT,
  GST_FAL_ERROR_CANCELLED,
  GST_FAL_ERROR_SERVER,
  GST_FAL_ERROR_PROTOCOL,
  GST_FAL_ERROR_INVALID_ARGUMENT,
  GST_FAL_ERROR_ENCODE,
} GstFalError;

GST_FAL_API
GQuark gst_fal_error_quark (void);

/* Details carried by a GST_FAL_ERROR error (extended GError, GLib >= 2.68,
 * read back from the message's "fal-error:" line when re-created).
 * All return 0 / NULL for errors of other domains. */
GST_FAL_API
guint gst_fal_error_get_http_status (const GError * error);

GST_FAL_API
const gchar *gst_fal_error_get_error_type (const GError * error);

GST_FAL_API
const gchar *gst_fal_error_get_detail (const GError * error);

GST_FAL_API
const gchar *gst_fal_error_get_request_id (const GError * error);

GST_FAL_API
gchar *gst_fal_error_get_summary (const GError * error);

/**
 * gst_fal_error_new_full: (skip)
 * @code: a #GstFalError
 * @http_status: the HTTP status, or 0
 * @error_type: (nullable): fal's error type (`request_timeout`, ...)
 * @detail: (nullable): the server's detail, as text (a JSON list rendered as JSON)
 * @request_id: (nullable): the request id
 * @format: printf format of the message
 *
 * Returns: (transfer full): a new error carrying the details.
 */
GST_FAL_API
GError *gst_fal_error_new_full (GstFalError code, guint http_status,
    const gchar * error_type, const gchar * detail, const gchar * request_id,
    const gchar * format, ...) G_GNUC_PRINTF (6, 7);

G_END_DECLS
