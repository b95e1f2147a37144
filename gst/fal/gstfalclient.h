/* gst-fal: GstFalClient, configuration and the calls of the fal protocol */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <gst/fal/gstfalerror.h>
#include <gst/fal/gstfalstatus.h>
#include <gst/fal/gstfaloptions.h>
#include <gst/fal/gstfalrequest.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_FAL_TYPE_CLIENT (gst_fal_client_get_type ())
GST_FAL_API
G_DECLARE_FINAL_TYPE (GstFalClient, gst_fal_client, GST_FAL, CLIENT, GObject)

/**
 * GST_FAL_CLIENT_CONTEXT_TYPE:
 *
 * The #GstContext type through which elements share one client; the context
 * structure holds it in a field "client" of type #GstFalClient.
 */
#define GST_FAL_CLIENT_CONTEXT_TYPE "gst.fal.client"

/*
 * Properties (all construct or read-write, thread-safe):
 *  "key"            (string, write-only) credentials, "KEY" or "ID:SECRET";
 *                   default from FAL_KEY or FAL_KEY_ID/FAL_KEY_SECRET. Never
 *                   readable, never logged.
 *  "server-url"     (string) one fal-compatible server (GST_FAL_URL); NULL =
 *                   the fal cloud (honouring FAL_RUN_HOST/FAL_QUEUE_RUN_HOST).
 *  "queue-url", "run-url", "rest-url" (string, read-only) derived base URLs.
 *  "timeout"        (double, s) default deadline of a whole call (default 120;
 *                   0 = none, but every HTTP exchange still has its own).
 *  "max-retries"    (uint) retries of transient failures (default 5).
 *  "retry-base-delay", "retry-max-delay" (double, s; default 0.1, 10).
 *  "status-mode"    (GstFalStatusMode) default STREAM.
 *  "poll-interval"  (double, s) default 0.1.
 *  "user-agent"     (string) default "gst-fal/VERSION".
 *  "tls-ca-file"    (string, construct-only) PEM file of the CAs trusted for
 *                   https, instead of the system's; default GST_FAL_CA_FILE
 *                   (empty = unset). Reads back the file in use. A file that
 *                   cannot be read fails every call with INVALID_ARGUMENT.
 */

/* A client configured from the environment: GST_FAL_URL, FAL_KEY,
 * GST_FAL_CA_FILE, ... */
GST_FAL_API GstFalClient *gst_fal_client_new (void);
/* A client for one fal-compatible server (NULL = the fal cloud). */
GST_FAL_API GstFalClient *gst_fal_client_new_for_url (const gchar * server_url);

GST_FAL_API const gchar *gst_fal_client_get_server_url (GstFalClient * client);
GST_FAL_API gboolean gst_fal_client_has_credentials (GstFalClient * client);

/* A handle for an existing request id (no network); with an invalid
 * application or request id, its calls fail with INVALID_ARGUMENT. */
GST_FAL_API GstFalRequest *gst_fal_client_get_request (GstFalClient * client,
    const gchar * application, const gchar * request_id);

/* Sync endpoint: POST run-url/{application}[/path]. */
GST_FAL_API JsonNode *gst_fal_client_run (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_run_async (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GCancellable * cancellable, GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API JsonNode *gst_fal_client_run_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

/* Queue: POST queue-url/{application}[/path]; returns the handle. Never
 * submits twice for one call: a submit is retried only when the server
 * cannot have accepted it (connection refused, 429, 503 before any byte). */
GST_FAL_API GstFalRequest *gst_fal_client_submit (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_submit_async (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GCancellable * cancellable, GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API GstFalRequest *gst_fal_client_submit_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

/* submit + wait + result. @on_status is called first with the Queued status
 * right after the submit (on-enqueue), then for every update (on-queue-update).
 * On timeout or cancellation the request is cancelled on the server. */
GST_FAL_API JsonNode *gst_fal_client_subscribe (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GstFalStatusFunc on_status, gpointer user_data,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_subscribe_async (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GstFalStatusFunc on_status, gpointer status_data,
    GDestroyNotify status_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
/* @request_id: (out) (optional) (transfer full): id of the request, when it got one */
GST_FAL_API JsonNode *gst_fal_client_subscribe_finish (GstFalClient * client,
    GAsyncResult * result, gchar ** request_id, GError ** error);

/* By id: GET status, GET result, PUT cancel. */
GST_FAL_API GstFalStatus *gst_fal_client_status (GstFalClient * client,
    const gchar * application, const gchar * request_id, gboolean with_logs,
    GCancellable * cancellable, GError ** error);
GST_FAL_API JsonNode *gst_fal_client_result (GstFalClient * client,
    const gchar * application, const gchar * request_id,
    GCancellable * cancellable, GError ** error);
GST_FAL_API gboolean gst_fal_client_cancel (GstFalClient * client,
    const gchar * application, const gchar * request_id,
    GCancellable * cancellable, GError ** error);

/**
 * GstFalEventFunc:
 * @event: one event's JSON data
 * @user_data: user data
 *
 * Called for every SSE event of a stream, in the caller's context, as it arrives.
 */
typedef void (*GstFalEventFunc) (JsonNode * event, gpointer user_data);

/* POST run-url/{application}/stream; @on_event for each event as it arrives;
 * returns the last event (the final output). */
GST_FAL_API JsonNode *gst_fal_client_stream (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GstFalEventFunc on_event, gpointer user_data,
    GCancellable * cancellable, GError ** error);
GST_FAL_API void gst_fal_client_stream_async (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GstFalEventFunc on_event, gpointer event_data, GDestroyNotify event_data_free,
    GCancellable * cancellable, GAsyncReadyCallback callback, gpointer user_data);
GST_FAL_API JsonNode *gst_fal_client_stream_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

G_END_DECLS
