/* gst-fal: GstFalBatch, many requests to one application, N at a time */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <gst/fal/gstfalclient.h>
#include <gst/fal/gstfaloptions.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_FAL_TYPE_BATCH (gst_fal_batch_get_type ())
GST_FAL_API
G_DECLARE_FINAL_TYPE (GstFalBatch, gst_fal_batch, GST_FAL, BATCH, GObject)

/*
 * Properties (set before gst_fal_batch_run_async()):
 *  "client"        (GstFalClient, construct-only) whose connections, retry
 *                  policy and timeouts the requests use.
 *  "application"   (string, construct-only) the endpoint id.
 *  "options"       (GstFalOptions, construct-only) options of every request.
 *  "concurrency"   (uint, default 4) requests in flight at most.
 *  "max-retries"   (int, default -1 = the client's max-retries) times an item
 *                  that failed for a cause worth retrying is submitted again.
 *  "item-timeout"  (double, s, default 0 = the options', else the client's
 *                  timeout) deadline of each item, its retries included.
 *  "ordered"       (boolean, default FALSE) deliver in input order.
 *  "max-queued"    (uint, default 0 = concurrency) inputs waiting to start
 *                  beyond which gst_fal_batch_push() waits.
 *
 * Signals, emitted in the thread-default main context of the run:
 *  "item-done"  (guint64 index, const gchar *request_id, JsonNode *result,
 *               GError *error) once per item, as it completes (or in input
 *               order with "ordered").
 *  "progress"   (guint64 done, guint64 succeeded, guint64 failed,
 *               guint in_flight, gint64 total) after each item; total is -1
 *               until gst_fal_batch_close().
 */

GST_FAL_API GstFalBatch *gst_fal_batch_new (GstFalClient * client,
    const gchar * application, GstFalOptions * options);

/* Inputs. add never waits; push waits (from another thread than the run's)
 * while "max-queued" inputs are waiting; push_async completes once the input
 * is queued. Each input takes the next index, from 0. */
GST_FAL_API guint64 gst_fal_batch_add (GstFalBatch * batch, JsonNode * arguments);
GST_FAL_API gboolean gst_fal_batch_push (GstFalBatch * batch,
    JsonNode * arguments, GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_batch_push_async (GstFalBatch * batch,
    JsonNode * arguments, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API gboolean gst_fal_batch_push_finish (GstFalBatch * batch,
    GAsyncResult * result, GError ** error);
/* An input that could not be read: it takes its index and fails with @error. */
GST_FAL_API void gst_fal_batch_add_failed (GstFalBatch * batch, const GError * error);
/* An input done before (e.g. resumed): it takes its index, is not run and
 * not delivered. */
GST_FAL_API void gst_fal_batch_add_skipped (GstFalBatch * batch);
/* No more inputs: the run ends once every input is delivered. */
GST_FAL_API void gst_fal_batch_close (GstFalBatch * batch);

/* Runs until closed and every input delivered. Cancelling stops submitting,
 * cancels the requests in flight on the server, and fails the run with
 * GST_FAL_ERROR_CANCELLED. Failed items do not fail the run. */
GST_FAL_API void gst_fal_batch_run_async (GstFalBatch * batch,
    GCancellable * cancellable, GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API gboolean gst_fal_batch_run_finish (GstFalBatch * batch,
    GAsyncResult * result, GError ** error);
GST_FAL_API gboolean gst_fal_batch_run (GstFalBatch * batch,
    GCancellable * cancellable, GError ** error);

/* The summary, so far. */
GST_FAL_API guint64 gst_fal_batch_get_succeeded (GstFalBatch * batch);
GST_FAL_API guint64 gst_fal_batch_get_failed (GstFalBatch * batch);
GST_FAL_API guint gst_fal_batch_get_max_in_flight (GstFalBatch * batch);
GST_FAL_API gchar **gst_fal_batch_get_failure_causes (GstFalBatch * batch);
GST_FAL_API guint64 gst_fal_batch_get_failure_count (GstFalBatch * batch,
    const gchar * cause);
/* The cause under which a failure is counted: "HTTP 422 validation",
 * "timeout", "connection failed", ... */
GST_FAL_API gchar *gst_fal_batch_error_cause (const GError * error);

G_END_DECLS
