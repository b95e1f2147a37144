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

typedef enum {
  /* Never retried (e.g. a submit after the request may have been sent). */
  GST_FAL_RETRY_NONE,
  /* Retried when the server cannot have acted on it: connection refused,
   * 429, 503 answered without a request id. Used for submit. */
  GST_FAL_RETRY_SAFE,
  /* Idempotent: transport errors and 408/409/429/502/503/504 are retried. */
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
} GstFalHttpRequest;

typedef struct {
  guint status;
  SoupMessageHeaders *headers;  /* response headers (owned) */
  GBytes *body;                 /* owned, never NULL */
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

G_END_DECLS
