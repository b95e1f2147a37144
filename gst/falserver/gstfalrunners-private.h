/* gst-fal server: the runners of the apps and the requests waiting for them
 * (server-internal; see docs/server.md)
 *
 * Each app has a pool of runners, each a thread that sets the app up once
 * and then serves that app's requests one after the other. A pool keeps
 * min_concurrency runners warm, starts more (up to max_concurrency) while
 * requests wait, and retires an idle runner above the minimum after
 * keep_alive seconds. The runners of all the apps are at most max-runners
 * (the server's "workers"); an idle runner of another app above its minimum
 * makes room for an app with no free runner.
 */
#pragma once

#include "gstfalserver-private.h"

G_BEGIN_DECLS

typedef struct _GstFalRunners GstFalRunners;

/* Serves @request on a runner's state (from gst_fal_app_info_setup());
 * returns whether the runner may serve again (gst_fal_app_call_run_on()). */
typedef gboolean (*GstFalRunnersServe) (GstFalServerRequest * request,
    gpointer runner, gpointer user_data);
/* Completes @request that no runner of its app could be set up for. */
typedef void (*GstFalRunnersRefuse) (GstFalServerRequest * request,
    const GError * error, gpointer user_data);

#define GST_FAL_DEFAULT_KEEP_ALIVE 10.0

/* @max_runners: runners of all the apps at most (raised to the sum of the
 * apps' minimums). @defaults: the scaling of an app that sets none (0 max:
 * max_runners). */
GstFalRunners *gst_fal_runners_new (guint max_runners,
    const GstFalAppScaling * defaults, GstFalRunnersServe serve,
    GstFalRunnersRefuse refuse, gpointer user_data);
/* Closes (dropping the requests still waiting), joins the runners, frees. */
void gst_fal_runners_free (GstFalRunners * runners);
/* Waits until every runner has ended (after gst_fal_runners_close()). */
void gst_fal_runners_join (GstFalRunners * runners);

/* Sets one knob ("min-concurrency", "max-concurrency", "keep-alive") of
 * an app, or of every app for "*", from "APP=VALUE", before start. An
 * app's own knob beats "*", which beats the app's declared scaling. */
gboolean gst_fal_runners_parse_knob (GstFalRunners * runners,
    const gchar * knob, const gchar * app_value, GError ** error);
/* Makes the pools of @apps (element-type GstFalAppInfo) and starts their
 * min_concurrency runners. */
void gst_fal_runners_start (GstFalRunners * runners, GPtrArray * apps);

/* Lets @app run @n more runners (fewer when negative, to give back what was
 * reserved), beyond its max_concurrency and the server's bound: the
 * embedded server makes room for the requests a pipeline keeps in flight. */
void gst_fal_runners_reserve (GstFalRunners * runners,
    const GstFalAppInfo * app, gint n);

/* Queues @request for a runner of its app; FALSE if @max_waiting > 0 and
 * that many requests wait already (all apps), or closed. */
gboolean gst_fal_runners_push (GstFalRunners * runners,
    GstFalServerRequest * request, guint max_waiting);
/* TRUE if the request was waiting and is now removed. */
gboolean gst_fal_runners_remove (GstFalRunners * runners,
    GstFalServerRequest * request);
/* Requests ahead of @request among those waiting for its app's runners
 * (normal before low priority), -1 when not waiting. */
gint gst_fal_runners_position (GstFalRunners * runners,
    GstFalServerRequest * request);
/* Requests waiting, all apps. */
guint gst_fal_runners_waiting (GstFalRunners * runners);
/* No more requests; returns those still waiting (transfer full) and lets
 * the runners end after their current request. */
GList *gst_fal_runners_close (GstFalRunners * runners);

/* {"apps": [{"app", "min_concurrency", "max_concurrency", "keep_alive",
 * "queued", "runners": [{"runner_id", "state", "requests_served",
 * "started_at"}]}]}, of one app when @app is not NULL (transfer full). */
JsonNode *gst_fal_runners_describe (GstFalRunners * runners,
    const gchar * app);

G_END_DECLS
