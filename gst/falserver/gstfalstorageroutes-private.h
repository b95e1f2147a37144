/* gst-fal server: the storage, CDN and file routes (fal-protocol §6)
 * (server-internal) */
#pragma once

#include <libsoup/soup.h>
#include "gstfalrouter-private.h"

G_BEGIN_DECLS

/* ---- the routes (gstfalstorageroutes.c), on the server thread ---- */

/* POST /rest/storage/upload/initiate[-multipart] (authorized by the caller) */
void gst_fal_storage_routes_initiate (GstFalServer * self,
    SoupServerMessage * msg, gboolean multipart);
/* The family of /storage/…, /cdn/… and /files/… */
void gst_fal_storage_routes_dispatch (GstFalServer * self,
    SoupServerMessage * msg, const gchar * path, GHashTable * query);
/* From the headers of a public route: FALSE when @msg is answered already,
 * 403 for an unknown upload id, 404 for a body no route takes. */
gboolean gst_fal_storage_routes_check_upload (GstFalServer * self,
    SoupServerMessage * msg, const gchar * path);

G_END_DECLS
