/* gst-fal: per-call options of run, submit, subscribe and stream */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <glib-object.h>

G_BEGIN_DECLS

/**
 * GstFalPriority:
 * @GST_FAL_PRIORITY_NORMAL: `normal` (the default)
 * @GST_FAL_PRIORITY_LOW: `low`: behind every normal request
 */
typedef enum {
  GST_FAL_PRIORITY_NORMAL,
  GST_FAL_PRIORITY_LOW,
} GstFalPriority;

GST_FAL_API GType gst_fal_priority_get_type (void);
#define GST_FAL_TYPE_PRIORITY (gst_fal_priority_get_type ())

/**
 * GstFalStatusMode:
 * @GST_FAL_STATUS_MODE_STREAM: follow the SSE status stream (`/status/stream`)
 * @GST_FAL_STATUS_MODE_POLL: poll the status endpoint at the poll interval
 */
typedef enum {
  GST_FAL_STATUS_MODE_STREAM,
  GST_FAL_STATUS_MODE_POLL,
} GstFalStatusMode;

GST_FAL_API GType gst_fal_status_mode_get_type (void);
#define GST_FAL_TYPE_STATUS_MODE (gst_fal_status_mode_get_type ())

/**
 * GstFalOptions:
 *
 * Reference-counted options of one call. A %NULL #GstFalOptions means all
 * defaults. Options are copied by the call; changing them later has no effect
 * on a call already made.
 */
typedef struct _GstFalOptions GstFalOptions;

GST_FAL_API GType gst_fal_options_get_type (void);
#define GST_FAL_TYPE_OPTIONS (gst_fal_options_get_type ())

GST_FAL_API GstFalOptions *gst_fal_options_new (void);
GST_FAL_API GstFalOptions *gst_fal_options_ref (GstFalOptions * options);
GST_FAL_API void gst_fal_options_unref (GstFalOptions * options);
GST_FAL_API GstFalOptions *gst_fal_options_copy (const GstFalOptions * options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalOptions, gst_fal_options_unref)

/* Sub-path appended to the endpoint id ("" = none). */
GST_FAL_API void gst_fal_options_set_path (GstFalOptions * options, const gchar * path);
GST_FAL_API const gchar *gst_fal_options_get_path (const GstFalOptions * options);
/* X-Fal-Runner-Hint */
GST_FAL_API void gst_fal_options_set_hint (GstFalOptions * options, const gchar * hint);
GST_FAL_API const gchar *gst_fal_options_get_hint (const GstFalOptions * options);
/* ?fal_webhook= (submit only) */
GST_FAL_API void gst_fal_options_set_webhook_url (GstFalOptions * options, const gchar * url);
GST_FAL_API const gchar *gst_fal_options_get_webhook_url (const GstFalOptions * options);
/* X-Fal-Queue-Priority (submit only) */
GST_FAL_API void gst_fal_options_set_priority (GstFalOptions * options, GstFalPriority priority);
GST_FAL_API GstFalPriority gst_fal_options_get_priority (const GstFalOptions * options);
/* X-Fal-Request-Timeout: seconds until the request must have started; 0 = none */
GST_FAL_API void gst_fal_options_set_start_timeout (GstFalOptions * options, gdouble seconds);
GST_FAL_API gdouble gst_fal_options_get_start_timeout (const GstFalOptions * options);
/* Client-side deadline of the whole call in seconds (0 = the client's
 * default). On expiry a queued request is cancelled on the server and the call
 * fails with GST_FAL_ERROR_TIMEOUT. */
GST_FAL_API void gst_fal_options_set_timeout (GstFalOptions * options, gdouble seconds);
GST_FAL_API gdouble gst_fal_options_get_timeout (const GstFalOptions * options);
/* X-Fal-Object-Lifecycle-Preference: media produced by the request expire
 * after this many seconds; -1 = server default (header not sent). */
GST_FAL_API void gst_fal_options_set_object_expiration (GstFalOptions * options, gint64 seconds);
GST_FAL_API gint64 gst_fal_options_get_object_expiration (const GstFalOptions * options);
/* Whether status updates carry logs (subscribe, wait). Default TRUE. */
GST_FAL_API void gst_fal_options_set_with_logs (GstFalOptions * options, gboolean with_logs);
GST_FAL_API gboolean gst_fal_options_get_with_logs (const GstFalOptions * options);
/* How subscribe/wait follow the status; default: the client's status-mode. */
GST_FAL_API void gst_fal_options_set_status_mode (GstFalOptions * options, GstFalStatusMode mode);
/* Extra request header (e.g. X-Fal-Store-IO); a name given twice is replaced. */
GST_FAL_API void gst_fal_options_add_header (GstFalOptions * options, const gchar * name, const gchar * value);
/* Query parameter (e.g. fal_max_queue_length) for submit. */
GST_FAL_API void gst_fal_options_add_query (GstFalOptions * options, const gchar * name, const gchar * value);


/* Whether a status mode was set on @options; if so stores it in @mode. */
GST_FAL_API gboolean gst_fal_options_get_status_mode (const GstFalOptions * options,
    GstFalStatusMode * mode);

G_END_DECLS
