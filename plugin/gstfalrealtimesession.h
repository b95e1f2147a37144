/* gst-fal: endpoint=realtime, one websocket per element shared by its
 * workers, each waiting for the result of its own message */
#pragma once

#include <gst/fal/gstfal.h>
#include "gstfaldispatcher.h"

G_BEGIN_DECLS

typedef struct _GstFalRealtimeSession GstFalRealtimeSession;

/* A GstFalRealtime to @application on @client, its signals handled on a
 * thread of its own; the socket opens on the first call. */
GstFalRealtimeSession *gst_fal_realtime_session_new (GstFalClient * client,
    const gchar * application);
/* Closes the socket (what waits fails as cancelled) and joins the thread. */
void gst_fal_realtime_session_free (GstFalRealtimeSession * session);

/* Worker thread: sends @message (a floating reference is sunk) and waits for its
 * result (in send order on the socket), its error (the app's
 * INTERNAL_ERROR, a socket lost before the result, a refused connection)
 * or @cancellable. A call after a dropped socket opens a new one.
 * (transfer full) */
GVariant *gst_fal_realtime_session_call (GstFalRealtimeSession * session,
    GVariant * message, GCancellable * cancellable, GError ** error);

/* The realtime result as the HTTP endpoints give it: JSON whose inline
 * images ({"content": bytes, "content_type", …}) are
 * {"url": "data:…", "content_type", …}, other binary values data URIs.
 * (transfer full) */
JsonNode *gst_fal_realtime_session_result_to_json (GVariant * result);

/* The arguments as a realtime message: every data URI string (the frame)
 * becomes its bytes. (transfer full, not floating) */
GVariant *gst_fal_realtime_session_message_from_json (JsonNode * arguments);

G_END_DECLS
