/* gst-fal server: the interface between the queue and an app (server-internal)
 *
 * An app is a name, a description, JSON schemas of its input and output, and
 * a blocking run function called on a worker thread. The server owns the
 * queue, HTTP, storage and SSE; an app only sees its GstFalAppCall.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _GstFalAppCall GstFalAppCall;

/* Returns the output (transfer full), or NULL with @error set. Errors:
 * GST_FAL_APP_ERROR with the HTTP status as code (422 validation, 500, ...);
 * use gst_fal_app_call_fail() for a detail that is not plain text. */
typedef JsonNode *(*GstFalAppRunFunc) (GstFalAppCall * call, gpointer app_data,
    GError ** error);

/* How the app serves its realtime websocket (fal's @fal.realtime
 * buffering, session_timeout and max_batch_size); 0 = the default. */
typedef struct {
  guint buffering;              /* inputs kept waiting, the oldest dropped
                                 * beyond; 0: unbounded */
  gdouble session_timeout;      /* seconds without input before TIMEOUT; 0: 2 */
  guint max_batch_size;         /* inputs run at once; 0: 1 */
} GstFalAppRealtime;

typedef struct {
  const gchar *name;            /* "local/echo" (owner/alias) */
  const gchar *description;     /* one line */
  const gchar *input_schema;    /* JSON Schema of the input, as JSON text */
  const gchar *output_schema;   /* JSON Schema of the output, as JSON text */
  GstFalAppRunFunc run;
  gpointer app_data;
  GDestroyNotify app_data_free;
  GstFalAppRealtime realtime;
  /* Optional: the app's own openapi.json (transfer full), or NULL for the one
   * built from the schemas; called with app_data, on any thread. */
  gchar *(*openapi) (gpointer app_data);
} GstFalAppInfo;

#define GST_FAL_APP_ERROR (gst_fal_app_error_quark ())
GQuark gst_fal_app_error_quark (void);

/* The call, valid during run. */
JsonNode *gst_fal_app_call_get_input (GstFalAppCall * call);          /* transfer none */
const gchar *gst_fal_app_call_get_request_id (GstFalAppCall * call);
const gchar *gst_fal_app_call_get_path (GstFalAppCall * call);        /* sub-path, "" if none */
GCancellable *gst_fal_app_call_get_cancellable (GstFalAppCall * call);
/* Whether the call came through /stream (partial events are sent). */
gboolean gst_fal_app_call_is_streaming (GstFalAppCall * call);
/* A log line with a timestamp, visible in the status with logs=1. */
void gst_fal_app_call_log (GstFalAppCall * call, const gchar * level,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);
/* A partial output on /stream (ignored on the queue). (transfer none) */
void gst_fal_app_call_emit (GstFalAppCall * call, JsonNode * partial);
/* Fetches an input media URL or data URI (storage of this server read
 * directly, http(s) fetched under the server's fetch policy: allowed hosts,
 * redirects checked at each hop, fetch-timeout, at most the call's
 * max-fetch-bytes). Returns the bytes and content type; errors are 422s
 * naming what refused the URL, or G_IO_ERROR_CANCELLED. */
GBytes *gst_fal_app_call_fetch (GstFalAppCall * call, const gchar * url,
    gchar ** content_type, GError ** error);
/* The limits on input media of the call: the server's max-fetch-bytes and
 * max-pixels (0 = none) unless the app sets its own (0 keeps the current). */
void gst_fal_app_call_set_limits (GstFalAppCall * call,
    guint64 max_fetch_bytes, guint64 max_pixels);
guint64 gst_fal_app_call_get_max_pixels (GstFalAppCall * call);
/* The largest width and height of the call's input images (0 = none, the
 * default): an app's max-width and max-height. */
void gst_fal_app_call_set_max_size (GstFalAppCall * call,
    guint64 max_width, guint64 max_height);
void gst_fal_app_call_get_max_size (GstFalAppCall * call,
    guint64 * max_width, guint64 * max_height);
/* Stores output media on the server's CDN and returns its public URL,
 * honouring the request's object lifecycle preference. */
gchar *gst_fal_app_call_store (GstFalAppCall * call, GBytes * data,
    const gchar * content_type, const gchar * file_name);
/* Fails with a given status, detail (any JSON; transfer none) and error type;
 * the run function then returns NULL with any error set. */
void gst_fal_app_call_fail (GstFalAppCall * call, guint status,
    JsonNode * detail, const gchar * error_type);

/* Registration (server-internal registry). */
typedef struct _GstFalAppRegistry GstFalAppRegistry;
GstFalAppRegistry *gst_fal_app_registry_new (void);
void gst_fal_app_registry_free (GstFalAppRegistry * registry);
void gst_fal_app_registry_add (GstFalAppRegistry * registry, const GstFalAppInfo * info);
const GstFalAppInfo *gst_fal_app_registry_lookup (GstFalAppRegistry * registry, const gchar * name);
/* Registers the built-in apps (test apps and real models). */
void gst_fal_apps_register_builtin (GstFalAppRegistry * registry);
/* Registers the apps declared in a key file (see docs/apps.md). */
gboolean gst_fal_apps_register_from_file (GstFalAppRegistry * registry,
    const gchar * path, GError ** error);

/* Registers an app fronting the bare HTTP model server at @url (see
 * docs/apps.md): each run posts its input to @url (or @url/sub/path) within
 * @timeout seconds (0 = none). FALSE if @url is not http(s). */
gboolean gst_fal_apps_register_backend (GstFalAppRegistry * registry,
    const gchar * name, const gchar * url, const gchar * description,
    guint timeout, GError ** error);
/* The same from "owner/name=URL", as gst-fal serve --app takes it. */
gboolean gst_fal_apps_register_backend_spec (GstFalAppRegistry * registry,
    const gchar * spec, guint timeout, GError ** error);
/* The default backend-timeout, seconds. */
#define GST_FAL_APPS_DEFAULT_BACKEND_TIMEOUT 600

/* Added by the apps (C2): the registered apps sorted by name.
 * (transfer container) (element-type GstFalAppInfo): valid while the
 * registry lives. */
GPtrArray *gst_fal_app_registry_list (GstFalAppRegistry * registry);
/* The OpenAPI 3 document of an app, built from its input and output schemas,
 * as served at GET …/{app}/openapi.json. (transfer full) */
gchar *gst_fal_app_info_get_openapi (const GstFalAppInfo * info);

G_END_DECLS
