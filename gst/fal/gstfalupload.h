/* gst-fal: uploads to the fal CDN and data URIs */
#pragma once

#include <gst/fal/gstfalclient.h>
#include <gst/fal/gstfaloptions.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstFalImageFormat:
 * @GST_FAL_IMAGE_FORMAT_JPEG: image/jpeg
 * @GST_FAL_IMAGE_FORMAT_PNG: image/png
 */
typedef enum {
  GST_FAL_IMAGE_FORMAT_JPEG,
  GST_FAL_IMAGE_FORMAT_PNG,
} GstFalImageFormat;

GST_FAL_API GType gst_fal_image_format_get_type (void);
#define GST_FAL_TYPE_IMAGE_FORMAT (gst_fal_image_format_get_type ())

/* Above this size uploads use the multipart flow (fal-protocol.md §6). */
#define GST_FAL_MULTIPART_THRESHOLD (90 * 1024 * 1024)
#define GST_FAL_MULTIPART_CHUNK_SIZE (10 * 1024 * 1024)

/* Uploads @data (initiate → PUT, or initiate-multipart → parts → complete
 * above the threshold) and returns the public URL. The key goes only to the
 * storage endpoints, never to the PUT upload URLs. @file_name may be NULL. */
GST_FAL_API gchar *gst_fal_client_upload_bytes (GstFalClient * client,
    GBytes * data, const gchar * content_type, const gchar * file_name,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_upload_bytes_async (GstFalClient * client,
    GBytes * data, const gchar * content_type, const gchar * file_name,
    GCancellable * cancellable, GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API gchar *gst_fal_client_upload_bytes_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

/* Every upload and download is bounded as a whole (all its exchanges, parts
 * and retries): by the client's "timeout", or with the _full variants by
 * the timeout of @options (nullable; without one, the client's). When it
 * passes the call fails with GST_FAL_ERROR_TIMEOUT. Only the timeout of the
 * options is used. */
GST_FAL_API gchar *gst_fal_client_upload_bytes_full (GstFalClient * client,
    GBytes * data, const gchar * content_type, const gchar * file_name,
    GstFalOptions * options, GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_upload_bytes_full_async (GstFalClient * client,
    GBytes * data, const gchar * content_type, const gchar * file_name,
    GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API gchar *gst_fal_client_upload_bytes_full_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

/* Uploads a file; the content type is guessed from its name and contents. */
GST_FAL_API gchar *gst_fal_client_upload_file (GstFalClient * client,
    GFile * file, GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_upload_file_async (GstFalClient * client,
    GFile * file, GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);
GST_FAL_API gchar *gst_fal_client_upload_file_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

/* Encodes a raw video sample (or passes an already encoded image through)
 * and uploads it. */
GST_FAL_API gchar *gst_fal_client_upload_sample (GstFalClient * client,
    GstSample * sample, GstFalImageFormat format, guint quality,
    guint max_dimension, GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_upload_sample_async (GstFalClient * client,
    GstSample * sample, GstFalImageFormat format, guint quality,
    guint max_dimension, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API gchar *gst_fal_client_upload_sample_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);
GST_FAL_API gchar *gst_fal_client_upload_sample_full (GstFalClient * client,
    GstSample * sample, GstFalImageFormat format, guint quality,
    guint max_dimension, GstFalOptions * options, GCancellable * cancellable,
    GError ** error);
GST_FAL_API void gst_fal_client_upload_sample_full_async (GstFalClient * client,
    GstSample * sample, GstFalImageFormat format, guint quality,
    guint max_dimension, GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API gchar *gst_fal_client_upload_sample_full_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

/* Downloads a result URL (never with credentials) into memory.
 * @content_type: (out) (optional) (transfer full) */
GST_FAL_API GBytes *gst_fal_client_download (GstFalClient * client,
    const gchar * url, gchar ** content_type, GCancellable * cancellable,
    GError ** error);
GST_FAL_API void gst_fal_client_download_async (GstFalClient * client,
    const gchar * url, GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);
GST_FAL_API GBytes *gst_fal_client_download_finish (GstFalClient * client,
    GAsyncResult * result, gchar ** content_type, GError ** error);
GST_FAL_API GBytes *gst_fal_client_download_full (GstFalClient * client,
    const gchar * url, GstFalOptions * options, gchar ** content_type,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_download_full_async (GstFalClient * client,
    const gchar * url, GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API GBytes *gst_fal_client_download_full_finish (GstFalClient * client,
    GAsyncResult * result, gchar ** content_type, GError ** error);

/* "data:<content_type>;base64,<…>" (no network); and its inverse, which also
 * accepts non-base64 data URIs. */
GST_FAL_API gchar *gst_fal_encode_data_uri (GBytes * data, const gchar * content_type);
GST_FAL_API GBytes *gst_fal_decode_data_uri (const gchar * uri,
    gchar ** content_type, GError ** error);

G_END_DECLS
