/* gst-fal server: requests, the queue and storage (server-internal) */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "gstfalapp.h"
#include "gstfalfetchpolicy.h"

G_BEGIN_DECLS

/* ---- storage (gstfalstorage.c) ---- */

typedef struct _GstFalStorage GstFalStorage;

/* @dir: an existing or new directory, or NULL for a new temporary one that is
 * removed by gst_fal_storage_free(). */
GstFalStorage *gst_fal_storage_new (const gchar * dir, GError ** error);
void gst_fal_storage_free (GstFalStorage * storage);
const gchar *gst_fal_storage_get_dir (GstFalStorage * storage);

/* Seconds until expiry from a lifecycle preference header (JSON with
 * "expiration_duration_seconds"), or -1 for never. */
gint64 gst_fal_storage_parse_lifecycle (const gchar * header);

/* Limits of the multipart uploads: part numbers, and the bytes of a file. */
#define GST_FAL_STORAGE_MAX_PARTS 10000
#define GST_FAL_STORAGE_MAX_SIZE (G_GUINT64_CONSTANT (5) << 30)

void gst_fal_storage_set_limits (GstFalStorage * storage, guint max_parts,
    guint64 max_size);

typedef enum {
  /* written in parts (else with one write) */
  GST_FAL_STORAGE_MULTIPART = 1 << 0,
  /* declared by the key holder: served as declared even when a browser
   * would run script from it (HTML, SVG, XML) */
  GST_FAL_STORAGE_TRUSTED = 1 << 1,
} GstFalStorageFlags;

/* Reserves a file not yet written; returns its public path "ID/NAME". It is
 * written through @upload_id (transfer full), a secret distinct from ID,
 * once, within an hour and before it expires. */
gchar *gst_fal_storage_reserve (GstFalStorage * storage,
    const gchar * content_type, const gchar * file_name, gint64 expires_in,
    GstFalStorageFlags flags, gchar ** upload_id);
/* Writes the whole content of a reserved file; @content_type is used if
 * the reservation declared none. Errors: G_IO_ERROR_PERMISSION_DENIED for
 * an unknown or expired upload, G_IO_ERROR_EXISTS once it is written,
 * G_IO_ERROR_NO_SPACE beyond the size limit. */
gboolean gst_fal_storage_write (GstFalStorage * storage,
    const gchar * upload_id, GBytes * data, const gchar * content_type,
    GError ** error);
/* Stores a complete file at once (app outputs); returns the public path
 * "ID/NAME". It has no upload id: nothing writes it again. */
gchar *gst_fal_storage_put (GstFalStorage * storage, GBytes * data,
    const gchar * content_type, const gchar * file_name, gint64 expires_in);
gchar *gst_fal_storage_put_full (GstFalStorage * storage, GBytes * data,
    const gchar * content_type, const gchar * file_name, gint64 expires_in,
    GstFalStorageFlags flags);
/* Multipart: parts are numbered from 1; a part may be sent again until the
 * upload completes. Returns the etag. Errors as for write, and
 * G_IO_ERROR_INVALID_ARGUMENT for a part number out of range. */
gchar *gst_fal_storage_write_part (GstFalStorage * storage,
    const gchar * upload_id, guint part_number, GBytes * data,
    GError ** error);
/* @parts: array of part numbers, @etags: the matching etags (may be NULL).
 * Returns the public path "ID/NAME". */
gchar *gst_fal_storage_complete_multipart (GstFalStorage * storage,
    const gchar * upload_id, GArray * parts, GPtrArray * etags,
    GError ** error);
/* Public path "ID/NAME" of the file an upload id writes, NULL if unknown. */
gchar *gst_fal_storage_upload_path (GstFalStorage * storage,
    const gchar * upload_id);
/* Reads a complete, unexpired file (mapped). @path is "ID/NAME".
 * @content_type: as declared, application/octet-stream if none. */
GBytes *gst_fal_storage_read (GstFalStorage * storage, const gchar * path,
    gchar ** content_type);
/* The same, with the declared type (NULL if none) and the flags. */
GBytes *gst_fal_storage_read_full (GstFalStorage * storage, const gchar * path,
    gchar ** content_type, GstFalStorageFlags * flags);
/* The Content-Type to serve a file with: the declared type (lowercase, with
 * its charset only), or application/octet-stream, and then @attachment is
 * set, when it is no MIME type or one a browser runs script from that the
 * key holder did not declare. */
gchar *gst_fal_storage_served_type (const gchar * declared,
    GstFalStorageFlags flags, gboolean * attachment);
/* Removes expired files; returns how many. */
guint gst_fal_storage_expire (GstFalStorage * storage);

/* ---- requests (gstfalqueue.c) ---- */

typedef enum {
  GST_FAL_SERVER_REQUEST_IN_QUEUE,
  GST_FAL_SERVER_REQUEST_IN_PROGRESS,
  GST_FAL_SERVER_REQUEST_COMPLETED,
} GstFalServerRequestState;

typedef enum {
  GST_FAL_SERVER_REQUEST_KIND_QUEUE,
  GST_FAL_SERVER_REQUEST_KIND_RUN,
  GST_FAL_SERVER_REQUEST_KIND_STREAM,
} GstFalServerRequestKind;

typedef struct _GstFalServerRequest GstFalServerRequest;

/* Called from any thread after a change; @partial is a serialized partial
 * output (GST_FAL_SERVER_REQUEST_KIND_STREAM) or NULL for a state/log change. */
typedef void (*GstFalServerRequestNotify) (GstFalServerRequest * request,
    const gchar * partial, gpointer user_data);

struct _GstFalServerRequest {
  gatomicrefcount ref;

  /* immutable after creation */
  gchar *id;
  gchar *endpoint;              /* full endpoint id, owner/alias[/path] */
  gchar *app_name;              /* [namespace/]owner/alias */
  gchar *path;                  /* sub-path, "" if none */
  gchar *base_url;              /* http://host:port the client used */
  const GstFalAppInfo *app;
  JsonNode *input;
  GstFalServerRequestKind kind;
  gboolean low_priority;
  gchar *lifecycle;             /* X-Fal-Object-Lifecycle-Preference */
  gchar *webhook;
  gint64 start_deadline;        /* monotonic µs; 0 = none */
  GCancellable *cancellable;
  GstFalStorage *storage;
  /* realtime: output media inline as data URIs, not stored on the CDN */
  gboolean inline_media;
  const GstFalFetchPolicy *fetch_policy;        /* NULL: the defaults */
  GstFalServerRequestNotify notify;
  gpointer notify_data;

  /* server-thread only */
  GList *watchers;
  GSource *timeout_source;

  GMutex lock;                  /* protects what follows */
  GstFalServerRequestState state;
  gboolean cancel_requested;
  GPtrArray *logs;              /* JsonNode objects */
  guint status_code;
  JsonNode *body;               /* output or error body */
  gchar *error;
  gchar *error_type;
  gint64 started_at;
  gint64 completed_at;
};

GstFalServerRequest *gst_fal_server_request_new (const gchar * endpoint,
    const gchar * app_name, const gchar * path, const gchar * base_url, const GstFalAppInfo * app,
    JsonNode * input, GstFalServerRequestKind kind);
GstFalServerRequest *gst_fal_server_request_ref (GstFalServerRequest * request);
void gst_fal_server_request_unref (GstFalServerRequest * request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalServerRequest, gst_fal_server_request_unref);

GstFalServerRequestState gst_fal_server_request_get_state (GstFalServerRequest * request);
/* IN_QUEUE → IN_PROGRESS; FALSE if the request is no longer queued. */
gboolean gst_fal_server_request_start (GstFalServerRequest * request);
/* → COMPLETED; FALSE if it already was. @body: (transfer full) */
gboolean gst_fal_server_request_complete (GstFalServerRequest * request,
    guint status_code, JsonNode * body, const gchar * error, const gchar * error_type);
/* Completes with an infrastructure error {"detail","error_type"}. */
gboolean gst_fal_server_request_fail (GstFalServerRequest * request, guint status_code,
    const gchar * detail, const gchar * error_type);
void gst_fal_server_request_add_log (GstFalServerRequest * request, const gchar * level,
    const gchar * message);
void gst_fal_server_request_emit_partial (GstFalServerRequest * request,
    const gchar * json);
/* The status object of §3.2, with the log lines from @first_log on.
 * @queue_position: -1 when not queued. */
JsonNode *gst_fal_server_request_build_status (GstFalServerRequest * request,
    gboolean with_logs, guint first_log, gint queue_position);
gchar *gst_fal_server_request_build_url (GstFalServerRequest * request,
    const gchar * suffix);
/* The replayed result: status code and body (transfer full). */
guint gst_fal_server_request_get_result (GstFalServerRequest * request, JsonNode ** body,
    gchar ** error_type);

/* ---- queue (gstfalqueue.c) ---- */

typedef struct _GstFalQueue GstFalQueue;

GstFalQueue *gst_fal_queue_new (void);
void gst_fal_queue_free (GstFalQueue * queue);
/* FALSE if @max_waiting > 0 and that many are already waiting, or closed. */
gboolean gst_fal_queue_push (GstFalQueue * queue, GstFalServerRequest * request,
    guint max_waiting);
/* Blocks until a request is waiting (normal before low); NULL once closed. */
GstFalServerRequest *gst_fal_queue_pop (GstFalQueue * queue);
/* TRUE if the request was waiting and is now removed. */
gboolean gst_fal_queue_remove (GstFalQueue * queue, GstFalServerRequest * request);
/* Count of requests ahead of @request, -1 when not waiting. */
gint gst_fal_queue_position (GstFalQueue * queue, GstFalServerRequest * request);
guint gst_fal_queue_length (GstFalQueue * queue);
/* Wakes every pop with NULL; returns the requests still waiting. */
GList *gst_fal_queue_close (GstFalQueue * queue);

/* ---- endpoint ids (gstfalqueueroutes.c) ---- */

/* owner/alias[/path] → APP (owner/alias; namespace/owner/alias for the
 * workflows and comfy namespaces) and the sub-path ("" if none). */
gboolean gst_fal_split_endpoint (const gchar * endpoint, gchar ** app_name,
    gchar ** path);

/* ---- app calls (gstfalappcall.c) ---- */

GstFalAppCall *gst_fal_app_call_new (GstFalServerRequest * request);
void gst_fal_app_call_free (GstFalAppCall * call);
/* Runs the app on the current thread and completes the request. */
void gst_fal_app_call_run (GstFalAppCall * call);

/* ---- connections libsoup < 3.3 forgets (gstfalconnections.c) ---- */

typedef struct _GstFalConnections GstFalConnections;

/* Disconnects the connections of @soup that their clients closed and libsoup
 * kept; NULL where libsoup does it itself. Call on the server's context once
 * @soup listens; free after soup_server_disconnect(). */
GstFalConnections *gst_fal_connections_new (SoupServer * soup);
void gst_fal_connections_free (GstFalConnections * connections);

/* ---- descriptors (gstfaldescriptors.c) ---- */

/* Free descriptors needed to take new work (an app pipeline, a connection). */
#define GST_FAL_DESCRIPTORS_RESERVE 32

/* Free descriptors under the soft limit, G_MAXINT when unknown. */
gint gst_fal_descriptors_free (void);
/* TRUE while the reserve is free; logs when that changes. */
gboolean gst_fal_descriptors_enough (void);

/* ---- the listening socket (gstfallistener.c) ---- */

typedef struct _GstFalListener GstFalListener;

/* Keeps @soup accepting on @socket after accept() failed, answering 503 while
 * out of descriptors. Call on the server's context. */
GstFalListener *gst_fal_listener_new (SoupServer * soup, GSocket * socket);
void gst_fal_listener_free (GstFalListener * listener);

/* ---- request limits (gstfallimits.c) ---- */

typedef struct _GstFalLimits GstFalLimits;

/* Times out the connections of @soup whose request headers take longer than
 * @header_timeout seconds, whose body stops for as long, or that stay idle
 * between requests @idle_timeout seconds; keeps at most @max_connections
 * open. Call on the server's context once @soup listens; free after
 * soup_server_disconnect(). */
GstFalLimits *gst_fal_limits_new (SoupServer * soup, guint header_timeout,
    guint idle_timeout, guint max_connections, guint64 max_body);
void gst_fal_limits_free (GstFalLimits * limits);
/* First in the early handler: FALSE when @msg was answered (400 for its
 * framing, 503 beyond the connection bound) and its connection closed. */
gboolean gst_fal_limits_got_headers (GstFalLimits * limits,
    SoupServerMessage * msg);
/* After an early handler set a response on @msg: when @msg declares a body,
 * the response is written now and the connection closed, so that libsoup
 * does not read the body first. */
void gst_fal_limits_answer_early (GstFalLimits * limits,
    SoupServerMessage * msg);

G_END_DECLS
