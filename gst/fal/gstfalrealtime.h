/* gst-fal: GstFalRealtime, one realtime websocket to an app */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <gst/fal/gstfalclient.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define GST_FAL_TYPE_REALTIME (gst_fal_realtime_get_type ())
GST_FAL_API
G_DECLARE_FINAL_TYPE (GstFalRealtime, gst_fal_realtime, GST_FAL, REALTIME,
    GObject)

GST_FAL_API
GstFalRealtime *gst_fal_realtime_new (GstFalClient * client,
    const gchar * application);

GST_FAL_API
gboolean gst_fal_realtime_open (GstFalRealtime * realtime,
    GCancellable * cancellable, GError ** error);
GST_FAL_API
void gst_fal_realtime_open_async (GstFalRealtime * realtime,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);
GST_FAL_API
gboolean gst_fal_realtime_open_finish (GstFalRealtime * realtime,
    GAsyncResult * result, GError ** error);

GST_FAL_API
guint64 gst_fal_realtime_send (GstFalRealtime * realtime, GVariant * message,
    GError ** error);

GST_FAL_API
void gst_fal_realtime_close (GstFalRealtime * realtime);

GST_FAL_API
guint gst_fal_realtime_get_n_connections (GstFalRealtime * realtime);

G_END_DECLS
