/* gst-fal: GstFalRequest, the handle of one queued request */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <gst/fal/gstfalstatus.h>
#include <gst/fal/gstfaloptions.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_FAL_TYPE_REQUEST (gst_fal_request_get_type ())
GST_FAL_API
G_DECLARE_FINAL_TYPE (GstFalRequest, gst_fal_request, GST_FAL, REQUEST, GObject)

typedef struct _GstFalClient GstFalClient;

/**
 * GstFalStatusFunc:
 * @request: the request
 * @status: the new status (Queued with position, InProgress with logs, ...)
 * @user_data: user data
 *
 * Called in the caller's thread-default main context for each status update.
 */
typedef void (*GstFalStatusFunc) (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data);

/* Properties: "client", "application" (endpoint id as submitted),
 * "request-id", "response-url", "status-url", "cancel-url" (read-only, set at
 * construction). Signal "status" (GstFalStatus *): each status update seen by
 * wait/get, emitted in the context of the call. */

GST_FAL_API const gchar *gst_fal_request_get_request_id (GstFalRequest * request);
GST_FAL_API const gchar *gst_fal_request_get_application (GstFalRequest * request);
GST_FAL_API GstFalClient *gst_fal_request_get_client (GstFalRequest * request);

/* One status query (GET …/status?logs=). */
GST_FAL_API GstFalStatus *gst_fal_request_status (GstFalRequest * request,
    gboolean with_logs, GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_request_status_async (GstFalRequest * request,
    gboolean with_logs, GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);
GST_FAL_API GstFalStatus *gst_fal_request_status_finish (GstFalRequest * request,
    GAsyncResult * result, GError ** error);

/* Follows the status until COMPLETED (status stream, or polling per
 * @options / the client's status-mode), calling @on_status for each update,
 * and returns the final Completed status. The options' timeout bounds it. */
GST_FAL_API GstFalStatus *gst_fal_request_wait (GstFalRequest * request,
    GstFalOptions * options, GstFalStatusFunc on_status, gpointer user_data,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_request_wait_async (GstFalRequest * request,
    GstFalOptions * options, GstFalStatusFunc on_status, gpointer status_data,
    GDestroyNotify status_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API GstFalStatus *gst_fal_request_wait_finish (GstFalRequest * request,
    GAsyncResult * result, GError ** error);

/* The result (GET …/requests/{id}); does not wait: a request still running
 * fails with the server's answer. A failed request gives its error. */
GST_FAL_API JsonNode *gst_fal_request_result (GstFalRequest * request,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_request_result_async (GstFalRequest * request,
    GCancellable * cancellable, GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API JsonNode *gst_fal_request_result_finish (GstFalRequest * request,
    GAsyncResult * result, GError ** error);

/* wait + result: blocks until the request completes, then returns its result. */
GST_FAL_API JsonNode *gst_fal_request_get (GstFalRequest * request,
    GstFalOptions * options, GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_request_get_async (GstFalRequest * request,
    GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API JsonNode *gst_fal_request_get_finish (GstFalRequest * request,
    GAsyncResult * result, GError ** error);

/* PUT …/cancel. Cancelling a completed request is not an error
 * (ALREADY_COMPLETED); unknown ids are GST_FAL_ERROR_NOT_FOUND. */
GST_FAL_API gboolean gst_fal_request_cancel (GstFalRequest * request,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_request_cancel_async (GstFalRequest * request,
    GCancellable * cancellable, GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API gboolean gst_fal_request_cancel_finish (GstFalRequest * request,
    GAsyncResult * result, GError ** error);

G_END_DECLS
