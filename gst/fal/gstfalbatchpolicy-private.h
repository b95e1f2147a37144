/* gst-fal: which failures of a batch item are retried, after how long, and
 * the cause a failure is counted under (library-internal) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Transport failures, 429 and 5xx (but a deadline of the user's, 504 with
 * X-Fal-Request-Timeout-Type), never a validation or other 4xx error, nor
 * a submit that may have been accepted. */
gboolean gst_fal_batch_error_is_worth_retrying (const GError * error);

/* Seconds before retry @attempt (1, 2, …): @base × 2^(attempt-1) capped at
 * @max, times a jitter of 0.5–1.5, still capped at @max. */
gdouble gst_fal_batch_retry_delay (guint attempt, gdouble base, gdouble max);

G_END_DECLS
