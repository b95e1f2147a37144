/* gst-fal: the one HTTP exchange every call is made of (library-internal)
 *
 * Everything the library sends goes through gst_fal_client_http_async():
 * it runs on the client's session thread, applies the retry policy, the
 * per-exchange timeout and the credentials rule (the key only to the fal
 * hosts of the client's configuration), and maps failures to GST_FAL_ERROR.
 */
#pragma once

#include <gst/fal/gstfalclient.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Seconds an idle kept-alive connection is kept (the session's
 * "idle-timeout"): below the keep-alive time of the servers it talks to. */
#define GST_FAL_IDLE_TIMEOUT 30
/* Seconds since the last answer within which a POST may go on a kept-alive
 * connection: below the shortest keep-alive time in common use (5 s:
 * Node.js, uvicorn, Apache), so that the server is not closing it as the
 * POST arrives (gstfalhttp.c, "Connection reuse"). */
#define GST_FAL_POST_REUSE_IDLE 4

typedef enum {
  /* Never retried (e.g. a submit after the request may have been sent). */
  GST_FAL_RETRY_NONE,
  /* Retried when the server cannot have acted on it: the request was not
   * written whole (connection refused, reset while sending), 429, 503
   * answered without a request id. Used for submit. */
  GST_FAL_RETRY_SAFE,
  /* Idempotent: transport errors, bodies cut short and
   * 408/409/429/502/503/504 are retried. */
  GST_FAL_RETRY_IDEMPOTENT,
} GstFalRetryPolicy;

typedef enum {
  /* Send `Authorization: Key …` (only honoured for the client's fal hosts). */
  GST_FAL_AUTH_KEY,
  /* Send no credentials (upload URLs, CDN downloads, result media). */
  GST_FAL_AUTH_NONE,
} GstFalAuth;

typedef struct {
  const gchar *method;          /* "GET", "POST", "PUT" */
  const gchar *url;             /* absolute */
  GBytes *body;                 /* nullable */
  const gchar *content_type;    /* of the body, nullable */
  const gchar *accept;          /* nullable: default application/json */
  GstFalAuth auth;
  GstFalRetryPolicy retry;
  /* Extra headers, name → value pairs, NULL-terminated; nullable. */
  const gchar *const *headers;
  /* Deadline of this exchange in seconds (each attempt); 0 = the default (60). */
  gdouble timeout;
  /* For error messages: the request id this exchange is about (nullable). */
  const gchar *request_id;
  /* For error messages: what is called, e.g. "local/echo" (nullable: the
   * URL's path). */
  const gchar *label;
  /* Deadline of the whole exchange in seconds, all attempts and retry delays
   * included; 0 = none. When it passes the exchange fails at once with
   * GST_FAL_ERROR_TIMEOUT, never retried (a user timeout). */
  gdouble deadline;
  /* For the deadline's error: what did not answer in time, e.g. "status of
   * request 1234" (nullable: "<label>: no result within N s"). */
  const gchar *what;
  /* A queue submit: a 2xx answer whose body is cut short is returned, with
   * cut_short set (the request id may be in its x-fal-request-id header or
   * in the part of the body that arrived), and a connection lost after the
   * request was sent is reported as a submit that may have been accepted. */
  gboolean submit;
  /* About a request the server accepted (status, result, cancel): giving up
   * would lose it, so with a deadline a transport fault, or a retryable
   * status answered without x-fal-request-id (not the server's word on the
   * request), is retried past max-retries, until the deadline. */
  gboolean until_deadline;
} GstFalHttpRequest;

typedef struct {
  guint status;
  SoupMessageHeaders *headers;  /* response headers (owned) */
  GBytes *body;                 /* owned, never NULL */
  /* only for a submit: the body is what arrived of a longer one */
  gboolean cut_short;
} GstFalHttpResponse;

void gst_fal_http_response_free (GstFalHttpResponse * response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalHttpResponse, gst_fal_http_response_free)

/* Sends @request (copied; the caller may free it at once) and reads the whole
 * body. A non-2xx answer is an error (GST_FAL_ERROR, with status, error type,
 * detail and request id parsed from the body and x-fal-* headers). The
 * callback runs in the caller's thread-default context. */
void gst_fal_client_http_async (GstFalClient * client,
    const GstFalHttpRequest * request, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GstFalHttpResponse *gst_fal_client_http_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error);

/* Like gst_fal_client_http_async(), but a 2xx body is not collected: each
 * chunk goes to @on_chunk, in the caller's context, in order, before the
 * callback; the response's body is then empty. A non-2xx answer is read
 * whole and fails as above. The per-exchange timeout counts from the last
 * byte received. Retries happen only before the first chunk. */
typedef void (*GstFalHttpChunkFunc) (GBytes * chunk, gpointer user_data);
void gst_fal_client_http_stream_async (GstFalClient * client,
    const GstFalHttpRequest * request, GstFalHttpChunkFunc on_chunk,
    gpointer chunk_data, GDestroyNotify chunk_data_free,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);

/* The GST_FAL_ERROR for a non-2xx answer: code from the status, detail and
 * error type from the body (or X-Fal-Error-Type), request id from
 * x-fal-request-id (else @request_id). */
GError *gst_fal_http_error_new (const gchar * label, guint status,
    SoupMessageHeaders * headers, GBytes * body, const gchar * request_id);

/* Parses a JSON body, GST_FAL_ERROR_PROTOCOL when it is not JSON. */
JsonNode *gst_fal_http_response_parse_json (GstFalHttpResponse * response,
    GError ** error);

/* Base URLs of the configuration (never NULL): queue, run, rest. */
const gchar *gst_fal_client_get_queue_url (GstFalClient * client);
const gchar *gst_fal_client_get_run_url (GstFalClient * client);
const gchar *gst_fal_client_get_rest_url (GstFalClient * client);

/* Runs a blocking call on top of an async one: iterates a private main
 * context until @done, as the GIO sync wrappers do. */
typedef void (*GstFalAsyncStarter) (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
GAsyncResult *gst_fal_run_sync (GstFalAsyncStarter start, gpointer data,
    GCancellable * cancellable);

/* Runs @func once in @context, always from an idle source (never at once,
 * so it is safe from a GCancellable::cancelled handler). */
void gst_fal_idle_add (GMainContext * context, GSourceFunc func,
    gpointer data, GDestroyNotify notify);

/* Internal helpers of the other library files. */
GstFalStatus *gst_fal_status_new_from_json (JsonNode * node,
    const gchar * request_id, GError ** error);
GstFalStatus *gst_fal_status_new_with_logs (const GstFalStatus * status,
    GPtrArray * logs);
GstFalStatus *gst_fal_status_new_queued (const gchar * request_id,
    gint queue_position, const gchar * response_url, const gchar * status_url,
    const gchar * cancel_url);
void gst_fal_options_append_query (const GstFalOptions * options,
    GString * url);

/* A snapshot of the client's settings, taken at the start of a call. */
typedef struct {
  gdouble timeout;
  guint max_retries;
  gdouble retry_base_delay;
  gdouble retry_max_delay;
  GstFalStatusMode status_mode;
  gdouble poll_interval;
} GstFalClientSettings;

void gst_fal_client_get_settings (GstFalClient * client,
    GstFalClientSettings * settings);

/* A request handle (the application is the endpoint id as submitted);
 * NULL and GST_FAL_ERROR_INVALID_ARGUMENT for an invalid application or
 * request id. */
GstFalRequest *gst_fal_request_new (GstFalClient * client,
    const gchar * application, const gchar * request_id,
    const gchar * response_url, const gchar * status_url,
    const gchar * cancel_url, GError ** error);
/* The same handle whatever the ids: with an invalid one, its calls fail with
 * GST_FAL_ERROR_INVALID_ARGUMENT. */
GstFalRequest *gst_fal_request_new_unchecked (GstFalClient * client,
    const gchar * application, const gchar * request_id,
    const gchar * response_url, const gchar * status_url,
    const gchar * cancel_url);

/* Follows @request until COMPLETED (wait), then with @fetch_result fetches
 * its result (get). @deadline: seconds, <= 0 = none. Finish gives the final
 * status and, with @fetch_result, the result. */
void gst_fal_request_follow_async (GstFalRequest * request,
    GstFalOptions * options, gdouble deadline, gboolean fetch_result,
    GstFalStatusFunc on_status, gpointer status_data,
    GDestroyNotify status_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
gboolean gst_fal_request_follow_finish (GstFalRequest * request,
    GAsyncResult * result, GstFalStatus ** status, JsonNode ** node,
    GError ** error);

/* gst_fal_request_cancel_async() bounded by @deadline (seconds, <= 0 =
 * none) instead of the client's timeout; finish with
 * gst_fal_request_cancel_finish(). */
void gst_fal_request_cancel_bounded_async (GstFalRequest * request,
    gdouble deadline, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);

/* The Queued status answered by the submit (NULL for a handle made from an
 * id). */
GstFalStatus *gst_fal_request_get_submit_status (GstFalRequest * request);
void gst_fal_request_set_submit_status (GstFalRequest * request,
    GstFalStatus * status);

/* Request headers common to run, submit and stream, as name/value pairs
 * (NULL-terminated GStrv). */
GStrv gst_fal_options_build_headers (const GstFalOptions * options,
    gboolean submit);

/* The whole-call deadline: the options' timeout, else the client's. */
gdouble gst_fal_client_call_deadline (GstFalClient * client,
    const GstFalOptions * options);

/* Why a call that follows a request is being aborted. */
typedef enum {
  GST_FAL_ABORT_NONE,
  GST_FAL_ABORT_TIMEOUT,
  GST_FAL_ABORT_CANCELLED,
} GstFalAbortReason;

typedef void (*GstFalAbortFunc) (GTask * task, GstFalAbortReason reason);

/* Turns a call's deadline and the caller's GCancellable into one @abort
 * call, always in @task's context (a cancellable may fire in any thread).
 * Lives in the task data; stop it before returning the task. @abort may
 * still run once after stop (a cancel already queued): it must check that
 * the call has finished. */
typedef struct {
  GTask *task;
  GstFalAbortFunc abort;
  GSource *deadline;
  GCancellable *cancellable;
  gulong cancelled_id;
} GstFalAbortWatch;

void gst_fal_abort_watch_start (GstFalAbortWatch * watch, GTask * task,
    gdouble deadline_seconds, GCancellable * cancellable,
    GstFalAbortFunc abort);
void gst_fal_abort_watch_stop (GstFalAbortWatch * watch);

G_END_DECLS
