/* gst-fal server: the router. Every request path goes to one family of
 * routes, a file each (the table below); the router checks what is common
 * first: the body size, the admin switch and the credentials.
 *
 * Adding a family: its file with a GstFalRouteFunc (and a
 * GstFalRouteEarlyFunc if it must see the headers before the body is read,
 * e.g. to take over the connection), its declaration in
 * gstfalrouter-private.h, its line in families[] and in meson.build.
 */
#include <string.h>
#include "gstfalrouter-private.h"
#include "gstfalstorageroutes-private.h"

/* A family of routes: the paths under @prefix that @match (when set) takes.
 * @early sees the headers before the body is read; @route answers. */
typedef struct
{
  const gchar *prefix;
    gboolean (*match) (const gchar * path);
  GstFalRouteEarlyFunc early;
  GstFalRouteFunc route;
} Family;

/* First match wins: a family narrower than another under the same prefix
 * (with @match) goes before it. */
static const Family families[] = {
  {"/queue/", NULL, NULL, gst_fal_queue_routes_route},
  {"/run/", gst_fal_realtime_routes_match, NULL,
      gst_fal_realtime_routes_route},
  {"/run/", NULL, NULL, gst_fal_run_routes_route},
  {"/rest/.well-known/", NULL, NULL, gst_fal_webhooks_route_jwks},
  {"/rest/", NULL, NULL, gst_fal_token_routes_route},
  {"/storage/", NULL, gst_fal_storage_routes_check_upload,
      gst_fal_storage_routes_dispatch},
  {"/cdn/", NULL, NULL, gst_fal_storage_routes_dispatch},
  {"/files/", NULL, gst_fal_storage_routes_check_upload,
      gst_fal_storage_routes_dispatch},
  {"/_admin/", NULL, NULL, gst_fal_faults_route_admin},
};

static const Family *
find_family (const gchar * path)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (families); i++)
    if (g_str_has_prefix (path, families[i].prefix)
        && (!families[i].match || families[i].match (path)))
      return &families[i];
  return NULL;
}

/* Answers 401 or 403 unless the request's credentials open @route (a
 * realtime route: for the APP of @path). */
static gboolean
authorize (GstFalServer * self, SoupServerMessage * msg, GstFalRoute route,
    const gchar * path, GHashTable * query)
{
  const gchar *header =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  const gchar *jwt = query ? g_hash_table_lookup (query, "fal_jwt_token") :
      NULL;
  g_autofree gchar *app = route == GST_FAL_ROUTE_REALTIME ?
      gst_fal_realtime_routes_app (path) : NULL;
  GstFalAuthResult result =
      gst_fal_auth_check (self->auth, route, app, header, jwt);

  /* fal refuses a realtime token of another app as it refuses none: 401 */
  if (result == GST_FAL_AUTH_FORBIDDEN && route == GST_FAL_ROUTE_REALTIME)
    result = GST_FAL_AUTH_MISSING;
  switch (result) {
    case GST_FAL_AUTH_OK:
      return TRUE;
    case GST_FAL_AUTH_FORBIDDEN:
      gst_fal_server_respond_detail (msg, SOUP_STATUS_FORBIDDEN,
          "This token does not open this route: only the key does", NULL);
      return FALSE;
    default:
      gst_fal_server_respond_detail (msg, SOUP_STATUS_UNAUTHORIZED,
          "No user found for Key ID and Secret", NULL);
      return FALSE;
  }
}

void
gst_fal_router_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  GstFalRoute kind = gst_fal_auth_route (path);
  const Family *family;

  if ((guint64) body->length > self->max_body) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "Request body too large", NULL);
    return;
  }
  /* off: as if they did not exist */
  if (kind == GST_FAL_ROUTE_ADMIN && !self->admin) {
    gst_fal_server_respond_no_path (msg, path);
    return;
  }
  if (!authorize (self, msg, kind, path, query))
    return;
  family = find_family (path);
  if (family)
    family->route (self, msg, path, query);
  else
    gst_fal_server_respond_no_path (msg, path);
}

/* Decides from the headers what needs no body: the key or token, the size,
 * what a family checks (the upload id of a public upload route). TRUE when @msg is answered. */
static gboolean
early_refused (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  GstFalRoute kind = gst_fal_auth_route (path);
  const Family *family;
  goffset length =
      soup_message_headers_get_content_length
      (soup_server_message_get_request_headers (msg));

  /* off: as if they did not exist */
  if (kind == GST_FAL_ROUTE_ADMIN && !self->admin) {
    gst_fal_server_respond_no_path (msg, path);
    return TRUE;
  }
  if (!authorize (self, msg, kind, path, query))
    return TRUE;
  if (length > 0 && (guint64) length > self->max_body) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "Request body too large", NULL);
    return TRUE;
  }
  family = find_family (path);
  return family && family->early && !family->early (self, msg, path);
}

/* Runs before the body is read, which libsoup does whatever is answered
 * here: a refused request with a body is answered at once instead, and its
 * connection closed. So faults and latency (gst_fal_faults_callback) only ever
 * apply to authorised requests. */
void
gst_fal_router_early_callback (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstFalServer *self = user_data;

  if (gst_fal_limits_got_headers (self->limits, msg)
      && early_refused (self, msg, path, query))
    gst_fal_limits_answer_early (self->limits, msg);
}
