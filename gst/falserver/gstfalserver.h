/* gst-fal: GstFalServer, the local fal-compatible server (libgstfalserver-1.0) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define GST_FAL_TYPE_SERVER (gst_fal_server_get_type ())
G_DECLARE_FINAL_TYPE (GstFalServer, gst_fal_server, GST_FAL, SERVER, GObject)

/*
 * Properties (set before start):
 *  "bind-address" (string, default "127.0.0.1")
 *  "port"         (uint, default 0 = ephemeral; gst-fal serve uses 8472)
 *  "workers"      (uint, default 2)
 *  "key"          (string, write-only; default from FAL_KEY) required for API calls when set;
 *                 a blank key (empty or whitespace) is none
 *  "storage-dir"  (string, default: a new temporary directory, removed at finalize)
 *  "apps-file"    (string, nullable) extra apps declared in a key file
 *  "max-body"     (uint64, bytes, default 256 MiB)
 *  "url"          (string, read-only) "http://127.0.0.1:PORT" once started
 *                 ("https://…" with a TLS certificate)
 *  "admin"        (boolean, default FALSE) serve the admin routes (/_admin/faults),
 *                 which need the key
 *  "allow-fetch"  (GStrv) hosts apps fetch media from (default: public ones)
 *  "max-fetch-bytes" (uint64, default 64 MiB) largest input media of an app
 *  "max-pixels"   (uint64, default 50 000 000) largest input image of an app
 *  "fetch-timeout" (uint, seconds, default 30) longest fetch of input media
 *  "backends"     (GStrv) apps fronting bare HTTP model servers, OWNER/NAME=URL
 *  "backend-timeout" (uint, seconds, default 600) longest exchange with a backend
 *  "webhook-key-file" (string, nullable) keeps the webhooks' Ed25519 key (made if missing)
 *  "tls-certificate" (GTlsCertificate, nullable) with its private key: serve
 *                 https (the URL, response_url, file and CDN URLs too), e.g.
 *                 from g_tls_certificate_new_from_files (cert, key)
 */

/**
 * gst_fal_server_new:
 *
 * Returns: (transfer full): a server, not started; set its properties, then
 *   gst_fal_server_start()
 */
GstFalServer *gst_fal_server_new (void);

/**
 * gst_fal_server_start:
 * @server: a #GstFalServer
 * @error: why it cannot listen or its apps cannot be registered
 *
 * Listens and starts the workers; the server runs on its own thread and main
 * context, so the caller's context need not be iterated. Refuses a
 * non-loopback bind address without a key.
 *
 * Returns: %TRUE once it listens
 */
gboolean gst_fal_server_start (GstFalServer * server, GError ** error);

/**
 * gst_fal_server_stop:
 * @server: a #GstFalServer
 *
 * Stops listening; in-flight requests end as cancelled; stored files kept.
 */
void gst_fal_server_stop (GstFalServer * server);

/**
 * gst_fal_server_get_url:
 * @server: a started #GstFalServer
 *
 * Returns: (nullable): "http://127.0.0.1:PORT" (or https), NULL before start
 */
const gchar *gst_fal_server_get_url (GstFalServer * server);

/**
 * gst_fal_server_get_default:
 * @error: why it cannot start
 *
 * The process-wide embedded server (started on first use, on an ephemeral
 * loopback port, no key).
 *
 * Returns: (transfer full) (nullable): the server, or %NULL with @error
 */
GstFalServer *gst_fal_server_get_default (GError ** error);

/**
 * gst_fal_server_list_apps:
 * @server: a #GstFalServer, started or not
 *
 * Names and one-line descriptions of the registered apps, sorted.
 *
 * Returns: (transfer container) (element-type utf8): "name\tdescription"
 *   lines; the array frees them (g_ptr_array_unref() frees all)
 */
GPtrArray *gst_fal_server_list_apps (GstFalServer * server);

/**
 * GstFalServerFaults:
 *
 * Faults injected into responses of the API (not the CDN GETs), for tests and
 * benchmarks. Rates are shares 0..1 drawn per response; retry_after is at
 * most 3600 s and latency_ms at most 60000 (larger values are clamped).
 */
typedef struct {
  gdouble rate_429;             /* answered 429 with Retry-After: retry_after */
  gdouble rate_500;
  gdouble rate_503;
  gdouble rate_drop;            /* connection closed without an answer */
  gdouble rate_truncate;        /* body cut short */
  guint retry_after;            /* seconds, for 429 */
  guint latency_ms;             /* added before every answer */
} GstFalServerFaults;

/**
 * gst_fal_server_set_faults:
 * @server: a #GstFalServer
 * @faults: the faults to inject from now on (copied)
 */
void gst_fal_server_set_faults (GstFalServer * server, const GstFalServerFaults * faults);

G_END_DECLS
