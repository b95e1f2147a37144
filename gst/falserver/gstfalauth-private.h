/* gst-fal server: the key, scoped tokens, who may call which route, and the
 * bounds of numbers from requests (server-internal) */
#pragma once

#include <json-glib/json-glib.h>
#include "gstfalserver.h"

G_BEGIN_DECLS

/* ---- routes and credentials (gstfalauth.c) ---- */

typedef enum {
  GST_FAL_ROUTE_PUBLIC,         /* stored files, signed upload URLs: anyone */
  GST_FAL_ROUTE_API,            /* queue, run, REST: the key */
  GST_FAL_ROUTE_TOKENS,         /* minting CDN and realtime tokens: the key */
  GST_FAL_ROUTE_ADMIN,          /* /_admin/…: the key */
  GST_FAL_ROUTE_UPLOAD,         /* CDN uploads: the key or a CDN token */
  GST_FAL_ROUTE_REALTIME,       /* /run/{APP}/realtime: the key or a realtime
                                 * token of APP (not routed yet) */
} GstFalRoute;

typedef enum {
  GST_FAL_TOKEN_CDN,            /* /rest/storage/auth/token */
  GST_FAL_TOKEN_REALTIME,       /* /rest/tokens/, for some apps */
} GstFalTokenScope;

typedef enum {
  GST_FAL_AUTH_OK,
  GST_FAL_AUTH_MISSING,         /* no, wrong or expired credentials: 401 */
  GST_FAL_AUTH_FORBIDDEN,       /* a valid token outside its scope: 403 */
} GstFalAuthResult;

typedef struct _GstFalAuth GstFalAuth;

/* NULL, empty or only whitespace. */
gboolean gst_fal_auth_is_blank (const gchar * key);

/* @key: NULL or blank for none: then every route is open. */
GstFalAuth *gst_fal_auth_new (const gchar * key);
void gst_fal_auth_free (GstFalAuth * auth);
/* Not thread-safe: before the server starts. */
void gst_fal_auth_set_key (GstFalAuth * auth, const gchar * key);
gboolean gst_fal_auth_has_key (GstFalAuth * auth);

/* A new token valid @seconds (1 s to GST_FAL_MAX_TOKEN_SECONDS, clamped).
 * @apps: the apps a realtime token opens, "owner/alias" or only "alias".
 * (transfer full) */
gchar *gst_fal_auth_issue (GstFalAuth * auth, GstFalTokenScope scope,
    const gchar * const *apps, gint64 seconds);

/* Whether @authorization (the header: "Key K", "Bearer K", "Bearer TOKEN")
 * or @jwt_token (?fal_jwt_token=) may call @route; @app is the APP of a
 * realtime route. Keys are compared in constant time. */
GstFalAuthResult gst_fal_auth_check (GstFalAuth * auth, GstFalRoute route,
    const gchar * app, const gchar * authorization, const gchar * jwt_token);

/* Whether @authorization (the header) carries the key itself ("Key K" or
 * "Bearer K"), not a token; FALSE when the server has no key. */
gboolean gst_fal_auth_carries_key (GstFalAuth * auth,
    const gchar * authorization);

/* The route a request path belongs to. */
GstFalRoute gst_fal_auth_route (const gchar * path);

/* ---- numbers from requests ---- */

#define GST_FAL_MAX_TOKEN_SECONDS (24 * 3600)
#define GST_FAL_MAX_LATENCY_MS 60000
#define GST_FAL_MAX_RETRY_AFTER 3600
/* longer X-Fal-Request-Timeout values are clamped to this (seconds) */
#define GST_FAL_MAX_START_TIMEOUT (365.0 * 24 * 3600)

/* Reads the number @name of @object into @value: @fallback when missing,
 * FALSE when not a number in [@min, @max] (then @message says why). */
gboolean gst_fal_json_get_number (JsonObject * object, const gchar * name,
    gdouble min, gdouble max, gdouble fallback, gdouble * value,
    gchar ** message);

/* The body of POST /rest/tokens/: {"allowed_apps": [...],
 * "token_expiration": seconds}. FALSE with the bad @field and a @message. */
gboolean gst_fal_auth_parse_token_request (JsonNode * body, GStrv * apps,
    gint64 * seconds, const gchar ** field, gchar ** message);

/* ---- admin (gstfaladmin.c) ---- */

JsonNode *gst_fal_admin_faults_to_json (const GstFalServerFaults * faults);
/* The body of POST /_admin/faults; missing members are 0 (retry_after 1).
 * FALSE with the bad @field and a @message. */
gboolean gst_fal_admin_faults_from_json (JsonNode * body,
    GstFalServerFaults * faults, const gchar ** field, gchar ** message);
/* Rates to 0..1, latency and Retry-After to their maxima. */
void gst_fal_admin_faults_clamp (GstFalServerFaults * faults);

G_END_DECLS
