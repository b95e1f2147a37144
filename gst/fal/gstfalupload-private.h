/* gst-fal: upload internals exposed for the tests (not installed) */
#pragma once

#include <gst/fal/gstfalupload.h>

G_BEGIN_DECLS

/* gst_fal_client_upload_bytes_full_async() with the multipart threshold
 * and the part size given, so that tests need not move 90 MiB. Finish with
 * gst_fal_client_upload_bytes_finish(). */
GST_FAL_API void gst_fal_client_upload_bytes_parts_async (GstFalClient * client,
    GBytes * data, const gchar * content_type, const gchar * file_name,
    GstFalOptions * options, gsize multipart_threshold, gsize chunk_size,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);

G_END_DECLS
