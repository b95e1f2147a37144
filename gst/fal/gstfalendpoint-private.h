/* gst-fal: endpoint ids and base URLs (library-internal)
 *
 * Ids are parsed as fal's clients do (fal-protocol.md §1.3): a legacy
 * "123-alias" becomes "123/alias"; "workflows/" and "comfy/" are namespaces
 * whose app id keeps three segments; otherwise the app is "owner/alias" and
 * the rest of the id is the path.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gchar *id;          /* full, normalised id: [namespace/]owner/alias[/path] */
  gchar *app;         /* [namespace/]owner/alias: status, result, cancel */
  gchar *namespace_;  /* "workflows", "comfy" or NULL */
  gchar *owner;
  gchar *alias;
  gchar *path;        /* "" when none */
} GstFalEndpoint;

GstFalEndpoint *gst_fal_endpoint_parse (const gchar * id, GError ** error);
void gst_fal_endpoint_free (GstFalEndpoint * endpoint);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalEndpoint, gst_fal_endpoint_free)

/* base + "/" + id [+ "/" + path]; double slashes in the path collapsed. */
gchar *gst_fal_endpoint_build_url (const gchar * base, const gchar * id,
    const gchar * path);

/* The queue, run and rest base URLs (no trailing slash) for @server_url
 * (NULL or "" = the fal cloud, honouring FAL_RUN_HOST and
 * FAL_QUEUE_RUN_HOST). */
void gst_fal_endpoint_derive_urls (const gchar * server_url, gchar ** queue_url,
    gchar ** run_url, gchar ** rest_url);

/* Whether @url is @base itself or below it ("/", "?" after the prefix). */
gboolean gst_fal_url_is_under (const gchar * url, const gchar * base);

G_END_DECLS
