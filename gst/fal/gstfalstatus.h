/* gst-fal: request statuses (Queued, InProgress, Completed) and log lines */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <glib-object.h>

G_BEGIN_DECLS

/**
 * GstFalStatusKind:
 * @GST_FAL_STATUS_QUEUED: waiting in the queue (`IN_QUEUE`), see the position.
 * @GST_FAL_STATUS_IN_PROGRESS: running (`IN_PROGRESS`), with logs so far.
 * @GST_FAL_STATUS_COMPLETED: done (`COMPLETED`), successfully or with an error.
 */
typedef enum {
  GST_FAL_STATUS_QUEUED,
  GST_FAL_STATUS_IN_PROGRESS,
  GST_FAL_STATUS_COMPLETED,
} GstFalStatusKind;

GST_FAL_API GType gst_fal_status_kind_get_type (void);
#define GST_FAL_TYPE_STATUS_KIND (gst_fal_status_kind_get_type ())

/**
 * GstFalLog:
 * @message: the log line
 * @level: `INFO`, `STDOUT`, `STDERR`, `ERROR`, `WARN`, `DEBUG`
 * @source: usually `USER`
 * @timestamp: ISO-8601 time the line was emitted
 *
 * One log line of a request.
 */
typedef struct {
  gchar *message;
  gchar *level;
  gchar *source;
  gchar *timestamp;
} GstFalLog;

GST_FAL_API GType gst_fal_log_get_type (void);
#define GST_FAL_TYPE_LOG (gst_fal_log_get_type ())
GST_FAL_API GstFalLog *gst_fal_log_copy (const GstFalLog * log);
GST_FAL_API void gst_fal_log_free (GstFalLog * log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalLog, gst_fal_log_free)

/**
 * GstFalStatus:
 *
 * An immutable, reference-counted status of a queued request, as answered
 * by the status endpoint or one event of the status stream.
 */
typedef struct _GstFalStatus GstFalStatus;

GST_FAL_API GType gst_fal_status_get_type (void);
#define GST_FAL_TYPE_STATUS (gst_fal_status_get_type ())

GST_FAL_API GstFalStatus *gst_fal_status_ref (GstFalStatus * status);
GST_FAL_API void gst_fal_status_unref (GstFalStatus * status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalStatus, gst_fal_status_unref)

GST_FAL_API GstFalStatusKind gst_fal_status_get_kind (const GstFalStatus * status);
GST_FAL_API const gchar *gst_fal_status_get_request_id (const GstFalStatus * status);
/* Queued only: requests ahead of this one (0-based); -1 otherwise. */
GST_FAL_API gint gst_fal_status_get_queue_position (const GstFalStatus * status);
/* InProgress, Completed: log lines (element-type GstFalLog); empty when the
 * status was fetched without logs. (transfer none) */
GST_FAL_API GPtrArray *gst_fal_status_get_logs (const GstFalStatus * status);
/* Completed only: `metrics.inference_time` in seconds, or -1 when absent. */
GST_FAL_API gdouble gst_fal_status_get_inference_time (const GstFalStatus * status);
/* Completed only: the error message and type, NULL on success. */
GST_FAL_API const gchar *gst_fal_status_get_error (const GstFalStatus * status);
GST_FAL_API const gchar *gst_fal_status_get_error_type (const GstFalStatus * status);
/* The URLs answered by the server (nullable). */
GST_FAL_API const gchar *gst_fal_status_get_response_url (const GstFalStatus * status);
GST_FAL_API const gchar *gst_fal_status_get_status_url (const GstFalStatus * status);
GST_FAL_API const gchar *gst_fal_status_get_cancel_url (const GstFalStatus * status);
/* "IN_QUEUE", "IN_PROGRESS" or "COMPLETED" */
GST_FAL_API const gchar *gst_fal_status_kind_to_string (GstFalStatusKind kind);

G_END_DECLS
