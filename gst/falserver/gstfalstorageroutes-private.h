/* gst-fal server: the storage, CDN and file routes (fal-protocol §6),
 * and what they use of the server (server-internal) */
#pragma once

#include <libsoup/soup.h>
#include "gstfalserver.h"
#include "gstfalserver-private.h"
#include "gstfalauth-private.h"

G_BEGIN_DECLS

/* ---- the server, for the routes (gstfalserver.c) ---- */

GstFalStorage *gst_fal_server_get_storage (GstFalServer * self);
/* The configured key, NULL if none. */
GstFalAuth *gst_fal_server_get_auth (GstFalServer * self);
/* http://HOST the client used. */
gchar *gst_fal_server_base_url (GstFalServer * self, SoupServerMessage * msg);
/* The request body as JSON; an empty body is {}. */
JsonNode *gst_fal_server_parse_body (SoupServerMessage * msg, GError ** error);
/* {"detail", "error_type"} (and X-Fal-Error-Type when @error_type is set). */
/* 400 "Invalid JSON body: <why>" for a body that did not parse. */
void gst_fal_server_respond_invalid_body (SoupServerMessage * msg,
    const GError * error);
void gst_fal_server_respond_detail (SoupServerMessage * msg, guint status,
    const gchar * detail, const gchar * error_type);
/* @object: (transfer full) */
void gst_fal_server_respond_object (SoupServerMessage * msg, guint status,
    JsonObject * object);

/* ---- the routes (gstfalstorageroutes.c), on the server thread ---- */

/* POST /rest/storage/upload/initiate[-multipart] (authorized by the caller) */
void gst_fal_storage_routes_initiate (GstFalServer * self,
    SoupServerMessage * msg, gboolean multipart);
/* TRUE for /storage/…, /cdn/… and /files/…: the routes of
 * gst_fal_storage_routes_dispatch(). */
gboolean gst_fal_storage_routes_match (const gchar * path);
void gst_fal_storage_routes_dispatch (GstFalServer * self,
    SoupServerMessage * msg, const gchar * path);
/* From the headers of a public route: FALSE when @msg is answered already,
 * 403 for an unknown upload id, 404 for a body no route takes. */
gboolean gst_fal_storage_routes_check_upload (GstFalServer * self,
    SoupServerMessage * msg, const gchar * path);

G_END_DECLS
