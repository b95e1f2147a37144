/* gst-fal server: the policy of the media fetches of apps (server-internal)
 *
 * Apps fetch their input media through gst_fal_app_call_fetch(): data URIs
 * and the server's own files are read directly; any other URL is fetched
 * over HTTP(S) here, only from the hosts the policy allows, redirects
 * followed by hand and checked at each hop, the size bounded while it
 * streams and the whole fetch bounded in time. See docs/server.md.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define GST_FAL_DEFAULT_MAX_FETCH_BYTES (64 * 1024 * 1024)
#define GST_FAL_DEFAULT_MAX_PIXELS 50000000
#define GST_FAL_DEFAULT_FETCH_TIMEOUT 30

typedef struct _GstFalFetchPolicy GstFalFetchPolicy;

/* Set before the server starts, read-only afterwards. */
struct _GstFalFetchPolicy {
  gchar **allow;                /* allow-fetch patterns; NULL = "public" */
  guint64 max_bytes;            /* max-fetch-bytes, 0 = none */
  guint64 max_pixels;           /* max-pixels, 0 = none */
  guint timeout;                /* fetch-timeout, seconds, 0 = none */
  GInetAddress *own_address;    /* where the server listens */
  guint own_port;
};

GstFalFetchPolicy *gst_fal_fetch_policy_new (void);
void gst_fal_fetch_policy_free (GstFalFetchPolicy * policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalFetchPolicy, gst_fal_fetch_policy_free);
void gst_fal_fetch_policy_set_own_address (GstFalFetchPolicy * policy,
    GInetAddress * address, guint port);

/* Whether @address (a resolution of @host, port @port) may be fetched. */
gboolean gst_fal_fetch_policy_allows (const GstFalFetchPolicy * policy,
    const gchar * host, guint port, GInetAddress * address);

/* Fetches an http(s) @url under the policy, at most @max_bytes (0 = no
 * limit). Errors: GST_FAL_APP_ERROR 422 naming what refused it, or
 * G_IO_ERROR_CANCELLED when @cancellable was cancelled. */
GBytes *gst_fal_fetch_policy_fetch (const GstFalFetchPolicy * policy,
    const gchar * url, guint64 max_bytes, GCancellable * cancellable,
    gchar ** content_type, GError ** error);

/* The 422 of an input larger than @max_bytes. */
void gst_fal_fetch_set_size_error (GError ** error, guint64 max_bytes);

G_END_DECLS
