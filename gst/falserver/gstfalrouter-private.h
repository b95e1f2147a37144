/* gst-fal server: the server's state, and what its route families and
 * mechanisms share (server-internal). Every function here runs on the server
 * thread unless it says otherwise. */
#pragma once

#include <libsoup/soup.h>
#include "gstfalserver.h"
#include "gstfalserver-private.h"
#include "gstfalauth-private.h"

G_BEGIN_DECLS

typedef struct _GstFalWebhookKeys GstFalWebhookKeys;

/* ---- the object (gstfalserver.c) ---- */

struct _GstFalServer
{
  GObject parent;

  gchar *bind_address;
  guint port;
  guint n_workers;
  gchar *storage_dir;
  gchar *apps_file;
  gchar **backends;             /* OWNER/NAME=URL apps */
  guint backend_timeout;
  guint64 max_body;
  guint header_timeout;
  guint idle_timeout;
  guint max_connections;
  gchar *url;
  gboolean admin;               /* the /_admin routes are served */
  GTlsCertificate *tls_certificate;     /* https when set */
  GstFalAuth *auth;             /* the key and the tokens */
  GstFalFetchPolicy *fetch_policy;      /* the fetches of apps */

  GMutex lock;                  /* faults, requests, rand */
  GstFalServerFaults faults;
  GRand *rand;
  GHashTable *requests;         /* id → GstFalServerRequest */

  GstFalAppRegistry *registry;
  GstFalStorage *storage;
  GstFalQueue *queue;
  GPtrArray *workers;
  GThreadPool *webhooks;
  GstFalWebhookKeys *webhook_keys;      /* the key pair signing them */
  gchar *webhook_key_file;

  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;
  GstFalConnections *connections;
  GstFalListener *listener;
  GstFalLimits *limits;
  GList *watchers;              /* server thread only */
  GList *realtime_sessions;     /* server thread only */
  GSource *expire_source;
  gboolean started;
  gboolean stopped;
};

GstFalStorage *gst_fal_server_get_storage (GstFalServer * self);
/* The configured key, NULL if none. */
GstFalAuth *gst_fal_server_get_auth (GstFalServer * self);

/* ---- the router (gstfalrouter.c): path → route family ---- */

/* A family's routes. @path is the whole request path. */
typedef void (*GstFalRouteFunc) (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query);
/* A family's look at the headers, before libsoup reads the body (the
 * request is authorised already): FALSE when it answered @msg. */
typedef gboolean (*GstFalRouteEarlyFunc) (GstFalServer * self,
    SoupServerMessage * msg, const gchar * path);

/* The soup handlers: the early one (before the body) and the one that
 * routes, which gst_fal_faults_callback() calls after its faults. */
void gst_fal_router_early_callback (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data);
void gst_fal_router_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query);

/* ---- responses (gstfalresponses.c) ---- */

/* @node: not taken */
void gst_fal_server_respond_json (SoupServerMessage * msg, guint status,
    JsonNode * node);
/* @node: (transfer full) */
void gst_fal_server_respond_json_take (SoupServerMessage * msg, guint status,
    JsonNode * node);
/* @object: (transfer full) */
void gst_fal_server_respond_object (SoupServerMessage * msg, guint status,
    JsonObject * object);
/* {"detail", "error_type"} (and X-Fal-Error-Type when @error_type is set). */
void gst_fal_server_respond_detail (SoupServerMessage * msg, guint status,
    const gchar * detail, const gchar * error_type);
/* 404 "Path PATH not found". */
void gst_fal_server_respond_no_path (SoupServerMessage * msg,
    const gchar * path);
/* {"status": @value} */
void gst_fal_server_respond_status (SoupServerMessage * msg, guint status,
    const gchar * value);
/* 422 worded as FastAPI does, naming @field at @location ("query",
 * "header", "body"). */
void gst_fal_server_respond_invalid (SoupServerMessage * msg,
    const gchar * location, const gchar * field, const gchar * message);
/* 400 "Invalid JSON body: <why>" for a body that did not parse. */
void gst_fal_server_respond_invalid_body (SoupServerMessage * msg,
    const GError * error);
/* The completed request's result: the app's status and body. */
void gst_fal_server_respond_result (SoupServerMessage * msg,
    GstFalServerRequest * request);
void gst_fal_server_set_request_id (SoupServerMessage * msg,
    GstFalServerRequest * request);
/* The request body as JSON; an empty body is {}. */
JsonNode *gst_fal_server_parse_body (SoupServerMessage * msg, GError ** error);
/* http://HOST the client used. */
gchar *gst_fal_server_base_url (GstFalServer * self, SoupServerMessage * msg);

/* ---- the queue family (gstfalqueueroutes.c): /queue/… ---- */

void gst_fal_queue_routes_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query);
/* A submit (queue) or a run or stream (sync): the request enters the queue. */
void gst_fal_queue_routes_submit (GstFalServer * self, SoupServerMessage * msg,
    const gchar * endpoint, GHashTable * query, GstFalServerRequestKind kind);
/* GET ENDPOINT/openapi.json */
void gst_fal_queue_routes_openapi (GstFalServer * self,
    SoupServerMessage * msg, const gchar * endpoint);

/* ---- the run family (gstfalrunroutes.c): /run/… ---- */

void gst_fal_run_routes_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query);

/* ---- the realtime family (gstfalrealtimeroutes.c): /run/…/realtime ---- */

gboolean gst_fal_realtime_routes_match (const gchar * path);
void gst_fal_realtime_routes_route (GstFalServer * self,
    SoupServerMessage * msg, const gchar * path, GHashTable * query);
/* The APP a realtime path opens (the scope of its token), NULL for other
 * paths. (transfer full) */
gchar *gst_fal_realtime_routes_app (const gchar * path);
/* Closes every realtime session (the server stops). */
void gst_fal_realtime_routes_close_all (GstFalServer * self);

/* ---- the token family (gstfaltokenroutes.c): /rest/… ---- */

void gst_fal_token_routes_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query);

/* ---- admin and faults (gstfalfaults.c): /_admin/…, injected faults ---- */

void gst_fal_faults_route_admin (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query);
/* The soup handler: draws a fault and the latency, then routes. */
void gst_fal_faults_callback (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data);
/* Writes the complete response's headers and half of its body, then closes. */
void gst_fal_faults_truncate_response (SoupServerMessage * msg);

/* ---- status watchers and SSE (gstfalwatchers.c) ---- */

typedef enum
{
  GST_FAL_WATCH_STATUS,         /* GET …/status/stream */
  GST_FAL_WATCH_RUN,            /* POST /run/{ID} */
  GST_FAL_WATCH_STREAM,         /* POST /run/{ID}/stream */
} GstFalWatchKind;

typedef struct _GstFalWatcher GstFalWatcher;

/* Holds @msg (paused) until @request answers it. */
GstFalWatcher *gst_fal_watcher_new (GstFalServer * self, GstFalWatchKind kind,
    GstFalServerRequest * request, SoupServerMessage * msg);
void gst_fal_watcher_free (GstFalWatcher * watcher);
/* GET …/status/stream: the status as SSE until the request completes. */
void gst_fal_watchers_stream_status (GstFalServer * self,
    SoupServerMessage * msg, GstFalServerRequest * request, gboolean with_logs);
/* A request's GstFalServerRequestNotify (@user_data: the server), any
 * thread: hands the change over to the server thread. */
void gst_fal_watchers_notify (GstFalServerRequest * request,
    const gchar * partial, gpointer user_data);

/* ---- webhooks (gstfalwebhooks.c) ---- */

/* Any thread: posts the completed request's result to its webhook. */
void gst_fal_webhooks_queue (GstFalServer * self,
    GstFalServerRequest * request);
/* The GFunc of the webhooks thread pool (@self: its user data). */
void gst_fal_webhooks_deliver (gpointer webhook, gpointer self);
/* The Ed25519 key pair webhooks are signed with: new at each start, or
 * from @key_file (may be NULL), written there first if it does not exist;
 * NULL with @error if libsodium cannot start or the file holds no key. */
GstFalWebhookKeys *gst_fal_webhook_keys_new (const gchar * key_file,
    GError ** error);
void gst_fal_webhook_keys_free (GstFalWebhookKeys * keys);
/* GET /rest/.well-known/jwks.json: the public key as a JWKS, for anyone. */
void gst_fal_webhooks_route_jwks (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query);

/* ---- workers (gstfalworkers.c) ---- */

/* A worker thread's GThreadFunc (@data: the server). */
gpointer gst_fal_workers_main (gpointer data);
/* Fails @request with 504 unless a worker took it within @seconds. */
void gst_fal_workers_start_timeout (GstFalServer * self,
    GstFalServerRequest * request, gdouble seconds);

G_END_DECLS
