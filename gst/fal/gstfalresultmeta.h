/* gst-fal: GstFalResultMeta, the result of one request attached to a buffer */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/**
 * GstFalTimings:
 * @upload: time spent encoding and uploading the frame
 * @queue: time from submit until the request started running
 * @run: time the request ran (the server's inference time when known)
 * @download: time spent fetching the result
 *
 * Where the time of one request went, each a #GstClockTime (or
 * GST_CLOCK_TIME_NONE when unknown).
 */
typedef struct {
  GstClockTime upload;
  GstClockTime queue;
  GstClockTime run;
  GstClockTime download;
} GstFalTimings;

/**
 * GstFalResultMeta:
 * @meta: parent #GstMeta
 * @request_id: the request id (nullable)
 * @application: the endpoint id
 * @result_json: the result as JSON text; NULL on error
 * @error: the error message, NULL on success
 * @error_type: fal's error type or a gst-fal one (`timeout`, `cancelled`), nullable
 * @http_status: HTTP status of a failed request, 0 otherwise
 * @source_pts: PTS of the frame the result was computed from
 * @timings: where the time went
 *
 * The result (or error) of one request, attached to the buffer it belongs to.
 */
typedef struct {
  GstMeta meta;

  gchar *request_id;
  gchar *application;
  gchar *result_json;
  gchar *error;
  gchar *error_type;
  guint http_status;
  GstClockTime source_pts;
  GstFalTimings timings;
} GstFalResultMeta;

GST_FAL_API GType gst_fal_result_meta_api_get_type (void);
#define GST_FAL_RESULT_META_API_TYPE (gst_fal_result_meta_api_get_type ())
GST_FAL_API const GstMetaInfo *gst_fal_result_meta_get_info (void);
#define GST_FAL_RESULT_META_INFO (gst_fal_result_meta_get_info ())

/* Adds a meta holding copies of the strings. (transfer none) */
GST_FAL_API GstFalResultMeta *gst_buffer_add_fal_result_meta (GstBuffer * buffer,
    const gchar * request_id, const gchar * application,
    const gchar * result_json, const gchar * error, const gchar * error_type,
    guint http_status, GstClockTime source_pts, const GstFalTimings * timings);
/* The first result meta of @buffer, or NULL. (transfer none) */
GST_FAL_API GstFalResultMeta *gst_buffer_get_fal_result_meta (GstBuffer * buffer);
/* All of them, oldest first (transfer container; the metas belong to @buffer). */
GST_FAL_API GList *gst_fal_buffer_get_result_metas (GstBuffer * buffer);
GST_FAL_API guint gst_fal_buffer_get_n_result_metas (GstBuffer * buffer);

/**
 * GstFalRegion:
 * @label: what was found ("face", "QR-Code: hello", ...)
 * @score: confidence 0..1, or -1 when unknown
 * @x: left, in pixels of the image sent
 * @y: top
 * @w: width
 * @h: height
 * @data: (nullable): decoded data for barcodes/text
 *
 * One box found in a result.
 */
typedef struct {
  gchar *label;
  gdouble score;
  gint x, y, w, h;
  gchar *data;
} GstFalRegion;

GST_FAL_API GType gst_fal_region_get_type (void);
#define GST_FAL_TYPE_REGION (gst_fal_region_get_type ())
GST_FAL_API GstFalRegion *gst_fal_region_copy (const GstFalRegion * region);
GST_FAL_API void gst_fal_region_free (GstFalRegion * region);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalRegion, gst_fal_region_free)

/* Finds boxes in a result JSON, whatever the app: arrays of objects with
 * `box`/`bbox` ([x,y,w,h] or {x,y,w,h}/{x_min,…}) or x/y/width/height fields,
 * under keys such as `symbols`, `faces`, `detections`, `boxes`, `results`.
 * Coordinates are scaled by @scale_x, @scale_y (frame size / image sent).
 * Returns: (element-type GstFalRegion) (transfer container): unref frees all */
GST_FAL_API GPtrArray *gst_fal_result_find_regions (const gchar * result_json,
    gdouble scale_x, gdouble scale_y);

/* Adds a GstVideoRegionOfInterestMeta per region (roi type = label, with a
 * "detection" param holding label, score and data). Returns how many. */
GST_FAL_API guint gst_fal_buffer_add_regions (GstBuffer * buffer, GPtrArray * regions);

/* A string field of the result by dotted path ("text", "images.0.url"), or NULL. */
GST_FAL_API gchar *gst_fal_result_get_string (const gchar * result_json, const gchar * path);

/* The first media URL in a result: `image.url`, `images[0].url`,
 * `video.url`, `audio.url`, or any `url` field, in that order; or @path when
 * non-NULL. */
GST_FAL_API gchar *gst_fal_result_find_media_url (const gchar * result_json,
    const gchar * path, gchar ** content_type);

G_END_DECLS
