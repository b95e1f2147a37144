/* gst-fal: one HTTP exchange, on the client's session thread, with retries,
 * a per-exchange timeout and the credentials rule */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalclient-private.h"
#include "gstfalendpoint-private.h"

#include <string.h>
#include "gstfaljson-private.h"

#define DEFAULT_EXCHANGE_TIMEOUT 60.0
#define MAX_RETRY_AFTER 300.0
#define READ_CHUNK_SIZE 16384
#define MAX_DETAIL_TEXT 400

typedef struct
{
  /* the request, copied */
  gchar *method;
  gchar *url;
  GBytes *body;
  gchar *content_type;
  gchar *accept;
  GStrv headers;
  GstFalRetryPolicy retry;
  gboolean submit;
  gboolean until_deadline;
  gdouble timeout;
  gchar *request_id;
  gchar *label;
  gchar *what;
  gchar *authorization;
  /* the whole exchange's deadline (monotonic, 0 = none) and its timer */
  gdouble deadline;
  gint64 deadline_end;
  GSource *deadline_timer;
  /* the client's fal base URLs: the only ones the key may go to */
  gchar *fal_urls[3];
  gchar *user_agent;
  GstFalClientSettings settings;

  /* streaming */
  GstFalHttpChunkFunc on_chunk;
  gpointer chunk_data;
  GDestroyNotify chunk_data_free;
  gboolean chunks_delivered;

  /* cancellation: the caller's cancellable, watched from any thread */
  GCancellable *cancellable;
  gulong cancelled_id;
  gint cancelled;

  /* the current attempt, session thread only */
  guint attempt;
  gboolean done;
  gboolean timed_out;
  GCancellable *attempt_cancellable;
  SoupMessage *msg;
  GInputStream *stream;
  GSource *readable;            /* waits for more of the body */
  GByteArray *buffer;
  GSource *timer;
  gint64 last_activity;         /* of the attempt (monotonic): the timer
                                 * runs from there */
  GSource *retry_timer;
  goffset received;
  /* connection reuse (see "Connection reuse" below) */
  gboolean reused;              /* the attempt went on a kept-alive one */
  gboolean wrote_body;          /* libsoup wrote the whole request */
  gboolean new_connection;      /* the next attempt opens a connection */
  gboolean resent;              /* the one resend of a POST was used */
  GTlsCertificateFlags tls_errors;      /* of the server's certificate */

  /* what the session thread hands to the caller's context: the chunks read
   * and then the end, all delivered by one idle while it is pending, so
   * that an exchange wakes the caller once, not once per chunk and again
   * for its end (see post()) */
  GMutex outbox_lock;
  GQueue outbox;                /* GBytes */
  gboolean outbox_posted;       /* an idle will deliver it */
  gboolean outbox_end;          /* the end is in: the last delivery */
  GstFalHttpResponse *outcome;  /* the end: the response, or */
  GError *outcome_error;        /* the error */
} Exchange;

void
gst_fal_http_response_free (GstFalHttpResponse * response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_free (response);
}

static void
exchange_free (Exchange * ex)
{
  g_free (ex->method);
  g_free (ex->url);
  g_clear_pointer (&ex->body, g_bytes_unref);
  g_free (ex->content_type);
  g_free (ex->accept);
  g_strfreev (ex->headers);
  g_free (ex->request_id);
  g_free (ex->label);
  g_free (ex->what);
  if (ex->authorization) {
    memset (ex->authorization, 0, strlen (ex->authorization));
    g_free (ex->authorization);
  }
  g_free (ex->fal_urls[0]);
  g_free (ex->fal_urls[1]);
  g_free (ex->fal_urls[2]);
  g_free (ex->user_agent);
  if (ex->chunk_data_free)
    ex->chunk_data_free (ex->chunk_data);
  g_clear_object (&ex->cancellable);
  g_clear_object (&ex->attempt_cancellable);
  g_clear_object (&ex->msg);
  g_clear_object (&ex->stream);
  if (ex->buffer)
    g_byte_array_unref (ex->buffer);
  g_queue_clear_full (&ex->outbox, (GDestroyNotify) g_bytes_unref);
  gst_fal_http_response_free (ex->outcome);
  g_clear_error (&ex->outcome_error);
  g_mutex_clear (&ex->outbox_lock);
  g_free (ex);
}

/* error mapping */

static const gchar *
code_name (GstFalError code)
{
  switch (code) {
    case GST_FAL_ERROR_UNAUTHORIZED:
      return "unauthorized";
    case GST_FAL_ERROR_NOT_FOUND:
      return "not found";
    case GST_FAL_ERROR_VALIDATION:
      return "validation";
    case GST_FAL_ERROR_RATE_LIMITED:
      return "rate limited";
    case GST_FAL_ERROR_TIMEOUT:
      return "timeout";
    case GST_FAL_ERROR_CANCELLED:
      return "cancelled";
    case GST_FAL_ERROR_PROTOCOL:
      return "protocol error";
    default:
      return "server error";
  }
}

static gchar *
detail_from_body (GBytes * body, gchar ** error_type)
{
  g_autoptr (JsonNode) root = NULL;
  gsize size = 0;
  const gchar *data = body ? g_bytes_get_data (body, &size) : NULL;
  JsonObject *object;
  JsonNode *detail;

  if (data == NULL || size == 0)
    return NULL;
  /* JSON too deep (or no JSON) is text */
  root = gst_fal_json_from_string (data, size, NULL);
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    object = json_node_get_object (root);
    if (json_object_has_member (object, "error_type")
        && JSON_NODE_HOLDS_VALUE (json_object_get_member (object,
                "error_type")))
      *error_type = g_strdup (json_object_get_string_member (object,
              "error_type"));
    detail = json_object_get_member (object, "detail");
    if (detail == NULL)
      return gst_fal_json_to_string (root, FALSE);
    if (JSON_NODE_HOLDS_VALUE (detail)
        && json_node_get_value_type (detail) == G_TYPE_STRING
        && !g_str_has_prefix (json_node_get_string (detail),
            GST_FAL_JSON_BIG_INTEGER_MARK))
      return g_strdup (json_node_get_string (detail));
    return gst_fal_json_to_string (detail, FALSE);
  }
  if (!g_utf8_validate (data, size, NULL))
    return NULL;
  {
    g_autofree gchar *text = g_strndup (data, MIN (size, MAX_DETAIL_TEXT));

    return g_strstrip (g_strdup (text));
  }
}

/* ": text" on one line (an HTML page or a traceback has many), shortened. */
static void
append_one_line (GString * message, const gchar * text)
{
  gsize start = message->len;
  gboolean space = FALSE;
  const gchar *p;

  g_string_append (message, ": ");
  for (p = text; *p; p++) {
    if (g_ascii_isspace (*p)) {
      space = TRUE;
      continue;
    }
    if (space && message->len > start + 2)
      g_string_append_c (message, ' ');
    space = FALSE;
    g_string_append_c (message, *p);
    if (message->len - start > MAX_DETAIL_TEXT) {
      g_string_append (message, "…");
      break;
    }
  }
}

GError *
gst_fal_http_error_new (const gchar * label, guint status,
    SoupMessageHeaders * headers, GBytes * body, const gchar * request_id)
{
  g_autofree gchar *error_type = NULL;
  g_autofree gchar *detail = NULL;
  g_autoptr (GString) message = g_string_new (NULL);
  const gchar *timeout_type = NULL, *header_id = NULL;
  GstFalError code;

  detail = detail_from_body (body, &error_type);
  if (headers) {
    timeout_type = soup_message_headers_get_one (headers,
        "X-Fal-Request-Timeout-Type");
    header_id = soup_message_headers_get_one (headers, "x-fal-request-id");
    if (error_type == NULL)
      error_type = g_strdup (soup_message_headers_get_one (headers,
              "X-Fal-Error-Type"));
  }
  if (header_id && *header_id)
    request_id = header_id;
  if (detail && *detail == '\0')
    g_clear_pointer (&detail, g_free);

  if (status == 401 || status == 403)
    code = GST_FAL_ERROR_UNAUTHORIZED;
  else if (status == 404)
    code = GST_FAL_ERROR_NOT_FOUND;
  else if (status == 400 || status == 413 || status == 422)
    code = GST_FAL_ERROR_VALIDATION;
  else if (status == 429)
    code = GST_FAL_ERROR_RATE_LIMITED;
  else if (status == 408 || (status == 504
          && g_strcmp0 (timeout_type, "user") == 0))
    code = GST_FAL_ERROR_TIMEOUT;
  else if (status == 499 || g_strcmp0 (error_type, "client_cancelled") == 0)
    code = GST_FAL_ERROR_CANCELLED;
  else
    code = GST_FAL_ERROR_SERVER;

  g_string_append_printf (message, "%s: HTTP %u %s", label ? label : "fal",
      status, error_type ? error_type : code_name (code));
  if (detail)
    append_one_line (message, detail);
  else if (soup_status_get_phrase (status))
    g_string_append_printf (message, ": %s", soup_status_get_phrase (status));
  if (request_id)
    g_string_append_printf (message, " (request %s)", request_id);
  return gst_fal_error_new_full (code, status, error_type, detail, request_id,
      "%s", message->str);
}

JsonNode *
gst_fal_http_response_parse_json (GstFalHttpResponse * response,
    GError ** error)
{
  g_autoptr (GError) parse_error = NULL;
  JsonNode *node = NULL;
  gsize size;
  const gchar *data = g_bytes_get_data (response->body, &size);

  if (size == 0 || !(node = gst_fal_json_from_string (data, size,
              &parse_error))) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL,
        "the server answered HTTP %u with a body that is not JSON: %s",
        response->status, parse_error ? parse_error->message : "empty body");
    return NULL;
  }
  return node;
}

/* the exchange, on the session thread */

static void start_attempt (GTask * task);

static GstFalClient *
task_client (GTask * task)
{
  return GST_FAL_CLIENT (g_task_get_source_object (task));
}

static void
clear_attempt (Exchange * ex)
{
  if (ex->timer) {
    g_source_destroy (ex->timer);
    g_clear_pointer (&ex->timer, g_source_unref);
  }
  if (ex->readable) {
    g_source_destroy (ex->readable);
    g_clear_pointer (&ex->readable, g_source_unref);
  }
  g_clear_object (&ex->attempt_cancellable);
  /* libsoup may keep the message a while: its signals no longer come here */
  if (ex->msg)
    g_signal_handlers_disconnect_by_data (ex->msg, ex);
  g_clear_object (&ex->msg);
  g_clear_object (&ex->stream);
  g_clear_pointer (&ex->buffer, g_byte_array_unref);
  ex->timed_out = FALSE;
  ex->received = 0;
}

/* In the caller's context: the chunks read since the last delivery, then
 * the end: the chunk data is freed (after the last chunk, before the
 * callback) and the task returns, at once as this is its context. */
static gboolean
deliver_outbox (gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);
  GQueue chunks = G_QUEUE_INIT;
  gboolean end;
  GBytes *chunk;

  g_mutex_lock (&ex->outbox_lock);
  chunks = ex->outbox;
  g_queue_init (&ex->outbox);
  end = ex->outbox_end;
  ex->outbox_posted = FALSE;
  g_mutex_unlock (&ex->outbox_lock);

  while ((chunk = g_queue_pop_head (&chunks))) {
    ex->on_chunk (chunk, ex->chunk_data);
    g_bytes_unref (chunk);
  }
  if (!end)
    return G_SOURCE_REMOVE;
  if (ex->chunk_data_free) {
    ex->chunk_data_free (ex->chunk_data);
    ex->chunk_data_free = NULL;
  }
  if (ex->outcome_error)
    g_task_return_error (task, g_steal_pointer (&ex->outcome_error));
  else
    g_task_return_pointer (task, g_steal_pointer (&ex->outcome),
        (GDestroyNotify) gst_fal_http_response_free);
  return G_SOURCE_REMOVE;
}

/* From the session thread: queues @chunk for the caller's context, without
 * waking it: read_body() queues what one round of reads brought, then
 * post()s once, so that an end read in the same round as the last chunk
 * goes in the same delivery. */
static void
queue_chunk (Exchange * ex, GBytes * chunk)
{
  g_mutex_lock (&ex->outbox_lock);
  g_queue_push_tail (&ex->outbox, chunk);
  g_mutex_unlock (&ex->outbox_lock);
}

/* From the session thread: hands the chunks queued (and, with @end, the end)
 * to the caller's context, waking it only when something is queued and no
 * delivery is pending yet. */
static void
post (GTask * task, gboolean end)
{
  Exchange *ex = g_task_get_task_data (task);
  gboolean wake;

  g_mutex_lock (&ex->outbox_lock);
  if (end)
    ex->outbox_end = TRUE;
  wake = !ex->outbox_posted && (end || !g_queue_is_empty (&ex->outbox));
  if (wake)
    ex->outbox_posted = TRUE;
  g_mutex_unlock (&ex->outbox_lock);
  if (wake)
    gst_fal_idle_add (g_task_get_context (task), deliver_outbox,
        g_object_ref (task), g_object_unref);
}

/* Completes the exchange and drops the session thread's task reference. */
static void
complete (GTask * task, GstFalHttpResponse * response, GError * error)
{
  Exchange *ex = g_task_get_task_data (task);

  g_assert (!ex->done);
  ex->done = TRUE;
  if (ex->retry_timer) {
    g_source_destroy (ex->retry_timer);
    g_clear_pointer (&ex->retry_timer, g_source_unref);
  }
  if (ex->deadline_timer) {
    g_source_destroy (ex->deadline_timer);
    g_clear_pointer (&ex->deadline_timer, g_source_unref);
  }
  if (ex->cancelled_id) {
    g_cancellable_disconnect (ex->cancellable, ex->cancelled_id);
    ex->cancelled_id = 0;
  }
  clear_attempt (ex);
  /* the end goes to the caller's context after the chunks queued before it
   * (which hold the chunk data there) */
  ex->outcome = response;
  ex->outcome_error = error;
  post (task, TRUE);
  g_object_unref (task);
}

static GError *
cancelled_error (Exchange * ex)
{
  return gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED, 0, NULL, NULL,
      ex->request_id, "%s: cancelled", ex->label);
}

static GError *
deadline_error (Exchange * ex)
{
  if (ex->what)
    return gst_fal_error_new_full (GST_FAL_ERROR_TIMEOUT, 0, NULL, NULL,
        ex->request_id, "%s: %s: no answer within %g s", ex->label, ex->what,
        ex->deadline);
  return gst_fal_error_new_full (GST_FAL_ERROR_TIMEOUT, 0, NULL, NULL,
      ex->request_id, "%s: no result within %g s", ex->label, ex->deadline);
}

static gboolean
deadline_reached (Exchange * ex)
{
  return ex->deadline_end != 0 && g_get_monotonic_time () >= ex->deadline_end;
}

static gdouble
backoff_delay (Exchange * ex)
{
  gdouble delay = ex->settings.retry_base_delay * (1 << MIN (ex->attempt - 1,
          20));

  delay = MIN (delay, ex->settings.retry_max_delay);
  delay *= g_random_double_range (0.5, 1.5);
  return MIN (delay, ex->settings.retry_max_delay);
}

static gboolean
on_retry_timer (gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);

  g_clear_pointer (&ex->retry_timer, g_source_unref);
  start_attempt (task);
  return G_SOURCE_REMOVE;
}

/* Starts another attempt after @delay seconds, from the session's loop. */
static void
schedule_attempt (GTask * task, gdouble delay)
{
  Exchange *ex = g_task_get_task_data (task);

  clear_attempt (ex);
  ex->retry_timer = g_timeout_source_new ((guint) (delay * 1000));
  g_source_set_callback (ex->retry_timer, on_retry_timer, task, NULL);
  g_source_attach (ex->retry_timer, g_main_context_get_thread_default ());
}

/* Schedules another attempt after @delay seconds; FALSE when out of retries.
 * Past the deadline there is no other attempt: it fails the exchange itself
 * with the timeout and returns TRUE. @transient: a fault of the way, not an
 * answer about the request (which names it in x-fal-request-id, as a result
 * replaying its failure does): an until_deadline exchange then goes on past
 * max-retries. */
static gboolean
schedule_retry (GTask * task, gdouble delay, const gchar * why,
    gboolean transient)
{
  Exchange *ex = g_task_get_task_data (task);
  gboolean persist = transient && ex->until_deadline && ex->deadline_end != 0;

  if ((ex->attempt > ex->settings.max_retries && !persist)
      || g_atomic_int_get (&ex->cancelled))
    return FALSE;
  if (deadline_reached (ex)) {
    complete (task, NULL, deadline_error (ex));
    return TRUE;
  }
  if (delay < 0)
    delay = backoff_delay (ex);
  g_debug ("%s %s: %s, retry %u/%u in %.3f s", ex->method, ex->label, why,
      ex->attempt, ex->settings.max_retries, delay);
  schedule_attempt (task, delay);
  return TRUE;
}

static gdouble
retry_after (SoupMessageHeaders * headers)
{
  const gchar *value = soup_message_headers_get_one (headers, "Retry-After");
  gchar *end = NULL;
  gdouble seconds;

  if (value == NULL)
    return -1;
  seconds = g_ascii_strtod (value, &end);
  if (end != value && *end == '\0' && seconds >= 0)
    return MIN (seconds, MAX_RETRY_AFTER);
  {
    g_autoptr (GDateTime) date = soup_date_time_new_from_http_string (value);
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

    if (date == NULL)
      return -1;
    seconds = g_date_time_difference (date, now) / (gdouble) G_TIME_SPAN_SECOND;
    return CLAMP (seconds, 0, MAX_RETRY_AFTER);
  }
}

static gboolean
status_is_retryable (Exchange * ex, guint status, SoupMessageHeaders * headers)
{
  switch (ex->retry) {
    case GST_FAL_RETRY_NONE:
      return FALSE;
    case GST_FAL_RETRY_SAFE:
      return status == 429 || (status == 503
          && soup_message_headers_get_one (headers, "x-fal-request-id") ==
          NULL);
    case GST_FAL_RETRY_IDEMPOTENT:
      if (status == 504 && soup_message_headers_get_one (headers,
              "X-Fal-Request-Timeout-Type"))
        return FALSE;
      return status == 408 || status == 409 || status == 429 || status == 502
          || status == 503 || status == 504;
  }
  return FALSE;
}

/* libsoup 3.2 reports a connection closed before Content-Length bytes as a
 * clean end of the body. (A decoded body has another length: not checked.) */
static gboolean
body_truncated (Exchange * ex, SoupMessageHeaders * headers)
{
  const gchar *coding = soup_message_headers_get_one (headers,
      "Content-Encoding");

  if (soup_message_headers_get_encoding (headers) !=
      SOUP_ENCODING_CONTENT_LENGTH)
    return FALSE;
  if (coding && g_ascii_strcasecmp (coding, "identity") != 0)
    return FALSE;
  return ex->received < soup_message_headers_get_content_length (headers);
}

static void handle_transport_error (GTask * task, GError * error);

/* The attempt failed on a kept-alive connection before libsoup had written
 * the whole request ("wrote-body" never fired): the server never had it
 * whole, so it cannot have acted on it, whatever the method. A timeout or a
 * cancellation is the caller's, a TLS error no stale connection's. */
static gboolean
failed_unsent (Exchange * ex, GError * error)
{
  return ex->reused && !ex->wrote_body && !ex->resent && !ex->timed_out
      && error->domain == G_IO_ERROR
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* What is wrong with a certificate, for people: the first problem found. */
static const gchar *
certificate_problem (GTlsCertificateFlags errors)
{
  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    return "is not trusted (unknown CA)";
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    return "does not match the server's name";
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    return "is not valid yet";
  if (errors & G_TLS_CERTIFICATE_EXPIRED)
    return "has expired";
  if (errors & G_TLS_CERTIFICATE_REVOKED)
    return "has been revoked";
  if (errors & G_TLS_CERTIFICATE_INSECURE)
    return "uses an insecure algorithm";
  return "is not valid";
}

/* A certificate the handshake refused: nothing was sent, and no retry would
 * be trusted either. */
static GError *
certificate_error (Exchange * ex)
{
  g_autofree gchar *detail = g_strdup_printf ("the server's TLS certificate "
      "%s%s", certificate_problem (ex->tls_errors),
      (ex->tls_errors & G_TLS_CERTIFICATE_UNKNOWN_CA) ?
      "; trust its CA with tls-ca-file or GST_FAL_CA_FILE" : "");

  return gst_fal_error_new_full (GST_FAL_ERROR_SERVER, 0, NULL, detail,
      ex->request_id, "%s: connection failed: %s", ex->label, detail);
}

/* @cut: reading the body failed. A submit's answer whose headers arrived
 * is the server's word even when its body was cut short (by a reset or
 * before its Content-Length): a 2xx is returned cut short, for the request
 * id it carries in x-fal-request-id or in what arrived of the body (the
 * request runs: failing would lose it); another status is that status. */
static void
handle_response (GTask * task, gboolean cut)
{
  Exchange *ex = g_task_get_task_data (task);
  guint status = soup_message_get_status (ex->msg);
  SoupMessageHeaders *headers = soup_message_get_response_headers (ex->msg);
  g_autoptr (GBytes) body = g_byte_array_free_to_bytes (ex->buffer);
  GstFalHttpResponse *response;
  g_autofree gchar *why = NULL;

  ex->buffer = NULL;
  cut = cut || body_truncated (ex, headers);
  if (cut && !ex->submit) {
    handle_transport_error (task, g_error_new (G_IO_ERROR,
            G_IO_ERROR_PARTIAL_INPUT, "body cut short: %" G_GOFFSET_FORMAT
            " of %" G_GOFFSET_FORMAT " bytes", ex->received,
            soup_message_headers_get_content_length (headers)));
    return;
  }
  if (SOUP_STATUS_IS_SUCCESSFUL (status)) {
    response = g_new0 (GstFalHttpResponse, 1);
    response->status = status;
    response->headers = soup_message_headers_ref (headers);
    response->body = g_steal_pointer (&body);
    response->cut_short = cut;
    complete (task, response, NULL);
    return;
  }
  why = g_strdup_printf ("HTTP %u", status);
  if (status_is_retryable (ex, status, headers)
      && schedule_retry (task, retry_after (headers), why,
          soup_message_headers_get_one (headers, "x-fal-request-id") == NULL))
    return;
  complete (task, NULL, gst_fal_http_error_new (ex->label, status, headers,
          body, ex->request_id));
}

static void
handle_transport_error (GTask * task, GError * error)
{
  Exchange *ex = g_task_get_task_data (task);
  gboolean retryable;

  if (g_atomic_int_get (&ex->cancelled)) {
    g_error_free (error);
    complete (task, NULL, cancelled_error (ex));
    return;
  }
  if (deadline_reached (ex)) {
    g_error_free (error);
    complete (task, NULL, deadline_error (ex));
    return;
  }
  if (failed_unsent (ex, error)) {
    /* sent again once, at once, on a new connection; not a retry: it
     * counts against neither max-retries nor the backoff */
    g_debug ("%s %s: %s on a kept-alive connection before the request was "
        "written: sent again on a new one", ex->method, ex->label,
        error->message);
    g_error_free (error);
    ex->resent = TRUE;
    ex->new_connection = TRUE;
    ex->attempt--;
    schedule_attempt (task, 0);
    return;
  }
  if (ex->submit && ex->buffer) {
    /* the answer's headers arrived, its body was cut */
    g_debug ("%s %s: answer cut short (%s): read as it is", ex->method,
        ex->label, error->message);
    g_error_free (error);
    handle_response (task, TRUE);
    return;
  }
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)) {
    complete (task, NULL, certificate_error (ex));
    g_error_free (error);
    return;
  }
  if (ex->timed_out) {
    g_clear_error (&error);
    error = gst_fal_error_new_full (GST_FAL_ERROR_TIMEOUT, 0, NULL, NULL,
        ex->request_id, "%s: no answer within %.1f s", ex->label, ex->timeout);
    retryable = ex->retry == GST_FAL_RETRY_IDEMPOTENT && !ex->chunks_delivered;
  } else if (ex->retry == GST_FAL_RETRY_SAFE) {
    /* not written whole (refused, reset while sending): never had it */
    retryable = !ex->wrote_body;
  } else {
    retryable = ex->retry == GST_FAL_RETRY_IDEMPOTENT && !ex->chunks_delivered;
  }
  if (retryable && schedule_retry (task, -1, error->message, TRUE)) {
    g_error_free (error);
    return;
  }
  if (error->domain != GST_FAL_ERROR && ex->retry == GST_FAL_RETRY_SAFE
      && ex->wrote_body && ex->stream == NULL) {
    /* sent, no answer: the server may have read it, acted on it and died;
     * it is neither sent again nor lost silently */
    GError *fal_error = gst_fal_error_new_full (GST_FAL_ERROR_SERVER, 0, NULL,
        error->message, ex->request_id, "%s: %s may have been accepted: "
        "connection lost after the request was sent (no request id): %s",
        ex->label, ex->submit ? "submit" : "request", error->message);

    g_error_free (error);
    error = fal_error;
  } else if (error->domain != GST_FAL_ERROR) {
    GError *fal_error = gst_fal_error_new_full (GST_FAL_ERROR_SERVER, 0, NULL,
        error->message, ex->request_id, "%s: connection failed: %s",
        ex->label, error->message);

    g_error_free (error);
    error = fal_error;
  }
  complete (task, NULL, error);
}

static void arm_timer (GTask * task, gint64 ms);

/* No answer, or no more of it, within the attempt's timeout: it is
 * cancelled. The timer is armed once an attempt, not at each read: when
 * it fires after some activity, it is armed again for what is left. */
static gboolean
on_attempt_timeout (gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);
  gint64 left = ex->last_activity + (gint64) (ex->timeout * G_USEC_PER_SEC)
      - g_get_monotonic_time ();

  if (left > 0) {
    arm_timer (task, (left + 999) / 1000);
    return G_SOURCE_REMOVE;
  }
  ex->timed_out = TRUE;
  g_cancellable_cancel (ex->attempt_cancellable);
  return G_SOURCE_CONTINUE;
}

/* The attempt's timer, firing in @ms; none when the exchange's deadline
 * comes first. */
static void
arm_timer (GTask * task, gint64 ms)
{
  Exchange *ex = g_task_get_task_data (task);

  if (ex->timer) {
    g_source_destroy (ex->timer);
    g_clear_pointer (&ex->timer, g_source_unref);
  }
  if (ex->deadline_end != 0 && ex->deadline_end - g_get_monotonic_time () <=
      ms * 1000)
    return;
  ex->timer = g_timeout_source_new ((guint) ms);
  g_source_set_callback (ex->timer, on_attempt_timeout, task, NULL);
  g_source_attach (ex->timer, g_main_context_get_thread_default ());
}

/* Takes one read's outcome (@nread bytes of @data, 0 at the end of the
 * body, < 0 with @error); FALSE when the attempt is over. */
static gboolean
take_read (GTask * task, const guint8 * data, gssize nread, GError * error)
{
  Exchange *ex = g_task_get_task_data (task);

  if (nread < 0) {
    handle_transport_error (task, error);
    return FALSE;
  }
  if (nread == 0) {
    /* the answer is read: its connection, if kept alive, is idle now */
    task_client (task)->last_answer_time = g_get_monotonic_time ();
    handle_response (task, FALSE);
    return FALSE;
  }
  ex->received += nread;
  ex->last_activity = g_get_monotonic_time ();
  if (ex->on_chunk
      && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (ex->msg))) {
    ex->chunks_delivered = TRUE;
    queue_chunk (ex, g_bytes_new (data, nread));
  } else {
    g_byte_array_append (ex->buffer, data, nread);
  }
  return TRUE;
}

static gboolean on_readable (GObject * stream, gpointer user_data);

/* Reads what has arrived, into the session thread's one read buffer, then
 * waits until there is more: no read is left pending, so none needs a
 * buffer of its own (nor a round of the loop to report it). */
static void
read_body (GTask * task)
{
  static GPrivate buffers = G_PRIVATE_INIT (g_free);
  Exchange *ex = g_task_get_task_data (task);
  GPollableInputStream *pollable = G_POLLABLE_INPUT_STREAM (ex->stream);
  guint8 *buffer = g_private_get (&buffers);
  GError *error = NULL;
  gssize nread;

  if (buffer == NULL) {
    buffer = g_malloc (READ_CHUNK_SIZE);
    g_private_set (&buffers, buffer);
  }
  for (;;) {
    nread = g_pollable_input_stream_read_nonblocking (pollable, buffer,
        READ_CHUNK_SIZE, ex->attempt_cancellable, &error);
    if (nread < 0 && g_error_matches (error, G_IO_ERROR,
            G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&error);
      post (task, FALSE);
      break;
    }
    if (!take_read (task, buffer, nread, error))
      return;
  }
  /* also ready when the attempt is cancelled: the read then says so */
  ex->readable = g_pollable_input_stream_create_source (pollable,
      ex->attempt_cancellable);
  g_source_set_callback (ex->readable, G_SOURCE_FUNC (on_readable), task,
      NULL);
  g_source_attach (ex->readable, g_main_context_get_thread_default ());
}

static gboolean
on_readable (GObject * stream, gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);

  g_clear_pointer (&ex->readable, g_source_unref);
  read_body (task);
  return G_SOURCE_REMOVE;
}

static void
on_sent (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);
  GError *error = NULL;

  ex->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (ex->stream == NULL) {
    handle_transport_error (task, error);
    return;
  }
  if (!G_IS_POLLABLE_INPUT_STREAM (ex->stream)
      || !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM
          (ex->stream))) {
    handle_transport_error (task, g_error_new_literal (G_IO_ERROR,
            G_IO_ERROR_NOT_SUPPORTED, "the response cannot be polled"));
    return;
  }
  ex->buffer = g_byte_array_new ();
  ex->last_activity = g_get_monotonic_time ();
  read_body (task);
}

/* Connection reuse
 *
 * Every exchange may go on a kept-alive connection of the session. Three
 * things make that safe:
 *
 * 1. libsoup's own resend. A GET or PUT on a kept-alive connection that the
 *    server had closed reads EOF before any header; libsoup then resends it
 *    (the message is "restarted" with no status yet). If it resends on
 *    another idle connection at once, the resend's I/O is already running
 *    when the first attempt's deferred callback arrives, and libsoup (3.2 up
 *    to at least 3.7) takes that stale callback for the resend's failure:
 *    it finishes the resend's I/O and then dereferences it (a NULL I/O in
 *    run_until_read_done, a crash). A resend on a new connection connects
 *    asynchronously first, so the stale callback arrives while the resend
 *    has not started its I/O, and libsoup ignores it. So on_restarted()
 *    asks for a new connection for libsoup's resends. This relies on an
 *    order of callbacks that libsoup does not document:
 *    tests/check/libs/retry.c runs the scenario many times over.
 *
 * 2. POSTs. libsoup never resends a POST and never puts one on a kept-alive
 *    connection unless it is flagged SOUP_MESSAGE_IDEMPOTENT. A POST is
 *    flagged so only while the client read an answer less than
 *    GST_FAL_POST_REUSE_IDLE seconds ago, so its connection is young
 *    against any server's keep-alive time (and libsoup drops an idle
 *    connection that the server has already closed: it reads EOF from it
 *    before reuse). What remains is a server that closes the connection as
 *    the POST travels. Then:
 *    - the request was not written whole ("wrote-body" did not fire): the
 *      server never had it, it is sent once more on a new connection
 *      (failed_unsent());
 *    - it was written whole: the server may have read it, acted on it and
 *      died; that is indistinguishable from a server that closed first, so
 *      it fails as on a new connection and is not sent again (a submit that
 *      may have been accepted is never sent twice).
 *
 * 3. Idle connections are closed after GST_FAL_IDLE_TIMEOUT, before the
 *    servers close them; libsoup honours a server's Connection: close (and
 *    so keep-alive limits, announced that way). */

static void
on_network_event (SoupMessage * msg, GSocketClientEvent event,
    GIOStream * connection, gpointer user_data)
{
  Exchange *ex = user_data;

  /* only a connection being made reports events */
  ex->reused = FALSE;
}

static void
on_wrote_body (SoupMessage * msg, gpointer user_data)
{
  Exchange *ex = user_data;

  ex->wrote_body = TRUE;
}

/* libsoup's resend gets a new connection (see above); a redirect away from
 * the fal hosts must not carry the key along. */
static void
on_restarted (SoupMessage * msg, gpointer user_data)
{
  Exchange *ex = user_data;
  g_autofree gchar *url = NULL;
  guint i;

  if (soup_message_get_status (msg) == SOUP_STATUS_NONE) {
    /* not a redirect (3xx) nor an authentication (401/407): libsoup sends
     * the same request again after a kept-alive connection failed */
    soup_message_add_flags (msg, SOUP_MESSAGE_NEW_CONNECTION);
    ex->reused = FALSE;
    ex->wrote_body = FALSE;
    return;
  }
  if (ex->authorization == NULL)
    return;
  url = g_uri_to_string (soup_message_get_uri (msg));
  for (i = 0; i < G_N_ELEMENTS (ex->fal_urls); i++) {
    if (gst_fal_url_is_under (url, ex->fal_urls[i]))
      return;
  }
  soup_message_headers_remove (soup_message_get_request_headers (msg),
      "Authorization");
}

/* libsoup verified the server's certificate against the client's CAs (the
 * system's, or tls-ca-file) and found a problem: it is never accepted. */
static gboolean
on_accept_certificate (SoupMessage * msg, GTlsCertificate * certificate,
    GTlsCertificateFlags errors, gpointer user_data)
{
  Exchange *ex = user_data;

  ex->tls_errors = errors;
  return FALSE;
}

static void
start_attempt (GTask * task)
{
  Exchange *ex = g_task_get_task_data (task);
  GstFalClient *client = task_client (task);
  SoupMessageHeaders *headers;
  guint i;

  if (g_atomic_int_get (&ex->cancelled)) {
    complete (task, NULL, cancelled_error (ex));
    return;
  }
  ex->attempt++;
  ex->msg = soup_message_new (ex->method, ex->url);
  if (ex->msg == NULL) {
    complete (task, NULL, gst_fal_error_new_full
        (GST_FAL_ERROR_INVALID_ARGUMENT, 0, NULL, NULL, ex->request_id,
            "%s: invalid URL \"%s\"", ex->label, ex->url));
    return;
  }
  /* connection reuse: see above */
  if (ex->new_connection) {
    soup_message_add_flags (ex->msg, SOUP_MESSAGE_NEW_CONNECTION);
    ex->new_connection = FALSE;
  } else if (g_str_equal (ex->method, "POST") && client->last_answer_time
      && g_get_monotonic_time () - client->last_answer_time <
      GST_FAL_POST_REUSE_IDLE * G_USEC_PER_SEC) {
    soup_message_add_flags (ex->msg, SOUP_MESSAGE_IDEMPOTENT);
  }
  ex->reused = TRUE;
  ex->wrote_body = FALSE;
  g_signal_connect (ex->msg, "network-event", G_CALLBACK (on_network_event),
      ex);
  g_signal_connect (ex->msg, "wrote-body", G_CALLBACK (on_wrote_body), ex);
  g_signal_connect (ex->msg, "restarted", G_CALLBACK (on_restarted), ex);
  ex->tls_errors = 0;
  if (g_str_has_prefix (ex->url, "https:"))
    g_signal_connect (ex->msg, "accept-certificate",
        G_CALLBACK (on_accept_certificate), ex);
  headers = soup_message_get_request_headers (ex->msg);
  soup_message_headers_replace (headers, "Accept", ex->accept);
  if (ex->user_agent)
    soup_message_headers_replace (headers, "User-Agent", ex->user_agent);
  if (ex->authorization)
    soup_message_headers_replace (headers, "Authorization", ex->authorization);
  for (i = 0; ex->headers && ex->headers[i] && ex->headers[i + 1]; i += 2)
    soup_message_headers_replace (headers, ex->headers[i], ex->headers[i + 1]);
  if (ex->body)
    soup_message_set_request_body_from_bytes (ex->msg, ex->content_type ?
        ex->content_type : "application/octet-stream", ex->body);

  /* the query may hold tokens: not logged */
  g_debug ("%s %.*s (attempt %u)", ex->method, (int) strcspn (ex->url, "?"),
      ex->url, ex->attempt);
  ex->attempt_cancellable = g_cancellable_new ();
  ex->timed_out = FALSE;
  ex->last_activity = g_get_monotonic_time ();
  arm_timer (task, (gint64) (ex->timeout * 1000));
  soup_session_send_async (gst_fal_client_get_session (client), ex->msg,
      G_PRIORITY_DEFAULT, ex->attempt_cancellable, on_sent, task);
}

/* The deadline passed: a retry waiting is dropped, an attempt in flight
 * aborted; either way the exchange fails with the timeout, at once. */
static gboolean
on_deadline (gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);

  g_clear_pointer (&ex->deadline_timer, g_source_unref);
  if (ex->attempt_cancellable)
    g_cancellable_cancel (ex->attempt_cancellable);
  else
    complete (task, NULL, deadline_error (ex));
  return G_SOURCE_REMOVE;
}

static void
start_in_session (GTask * task)
{
  Exchange *ex = g_task_get_task_data (task);
  gint64 remaining;

  if (ex->deadline_end != 0) {
    remaining = MAX (ex->deadline_end - g_get_monotonic_time (), 0);
    ex->deadline_timer = g_timeout_source_new ((remaining + 999) / 1000);
    g_source_set_callback (ex->deadline_timer, on_deadline, task, NULL);
    g_source_attach (ex->deadline_timer, g_main_context_get_thread_default ());
  }
  start_attempt (task);
}

/* In the session thread: starts every exchange handed over so far. */
static gboolean
drain_inbox (gpointer user_data)
{
  GstFalClient *client = user_data;
  GQueue tasks;
  GTask *task;

  g_mutex_lock (&client->inbox_lock);
  tasks = client->inbox;
  g_queue_init (&client->inbox);
  client->inbox_posted = FALSE;
  g_mutex_unlock (&client->inbox_lock);
  while ((task = g_queue_pop_head (&tasks)))
    start_in_session (task);
  return G_SOURCE_REMOVE;
}

/* Hands @task (and its reference) to the session thread, waking it only
 * when no exchange handed earlier is still waiting to start. */
static void
hand_to_session (GstFalClient * client, GTask * task)
{
  gboolean wake;

  g_mutex_lock (&client->inbox_lock);
  g_queue_push_tail (&client->inbox, task);
  wake = !client->inbox_posted;
  client->inbox_posted = TRUE;
  g_mutex_unlock (&client->inbox_lock);
  if (wake)
    gst_fal_idle_add (client->context, drain_inbox, g_object_ref (client),
        g_object_unref);
}

static gboolean
cancel_in_session (gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);

  if (ex->done)
    return G_SOURCE_REMOVE;
  if (ex->retry_timer)
    complete (task, NULL, cancelled_error (ex));
  else if (ex->attempt_cancellable)
    g_cancellable_cancel (ex->attempt_cancellable);
  return G_SOURCE_REMOVE;
}

/* Runs in whatever thread cancels; hands the work to the session thread. */
static void
on_cancelled (GCancellable * cancellable, gpointer user_data)
{
  GTask *task = user_data;
  Exchange *ex = g_task_get_task_data (task);

  g_atomic_int_set (&ex->cancelled, 1);
  gst_fal_idle_add (task_client (task)->context, cancel_in_session,
      g_object_ref (task), g_object_unref);
}

static gchar *
label_from_url (const gchar * url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  return g_strdup (uri ? g_uri_get_path (uri) : url);
}

static void
http_start (GstFalClient * client, const GstFalHttpRequest * request,
    GstFalHttpChunkFunc on_chunk, gpointer chunk_data,
    GDestroyNotify chunk_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  Exchange *ex;
  GPtrArray *headers;
  gboolean cloud, authorized;
  guint i;

  g_return_if_fail (GST_FAL_IS_CLIENT (client));
  g_return_if_fail (request != NULL && request->method && request->url);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_client_http_async);
  g_task_set_check_cancellable (task, FALSE);

  ex = g_new0 (Exchange, 1);
  g_mutex_init (&ex->outbox_lock);
  ex->method = g_strdup (request->method);
  ex->url = g_strdup (request->url);
  ex->body = request->body ? g_bytes_ref (request->body) : NULL;
  ex->content_type = g_strdup (request->content_type);
  ex->accept = g_strdup (request->accept ? request->accept :
      "application/json");
  headers = g_ptr_array_new ();
  for (i = 0; request->headers && request->headers[i]
      && request->headers[i + 1]; i += 2) {
    g_ptr_array_add (headers, g_strdup (request->headers[i]));
    g_ptr_array_add (headers, g_strdup (request->headers[i + 1]));
  }
  g_ptr_array_add (headers, NULL);
  ex->headers = (GStrv) g_ptr_array_free (headers, FALSE);
  ex->retry = request->retry;
  ex->submit = request->submit;
  ex->until_deadline = request->until_deadline;
  ex->timeout = request->timeout > 0 ? request->timeout :
      DEFAULT_EXCHANGE_TIMEOUT;
  if (request->deadline > 0) {
    ex->deadline = request->deadline;
    ex->deadline_end = g_get_monotonic_time () +
        (gint64) (request->deadline * G_USEC_PER_SEC);
  }
  ex->request_id = g_strdup (request->request_id);
  ex->label = request->label ? g_strdup (request->label) :
      label_from_url (request->url);
  ex->what = g_strdup (request->what);
  ex->on_chunk = on_chunk;
  ex->chunk_data = chunk_data;
  ex->chunk_data_free = chunk_data_free;
  gst_fal_client_get_settings (client, &ex->settings);
  g_task_set_task_data (task, ex, (GDestroyNotify) exchange_free);

  g_mutex_lock (&client->lock);
  cloud = client->server_url == NULL;
  authorized = request->auth == GST_FAL_AUTH_KEY
      && (gst_fal_url_is_under (request->url, client->queue_url)
      || gst_fal_url_is_under (request->url, client->run_url)
      || gst_fal_url_is_under (request->url, client->rest_url));
  if (authorized && client->key)
    ex->authorization = g_strconcat ("Key ", client->key, NULL);
  ex->fal_urls[0] = g_strdup (client->queue_url);
  ex->fal_urls[1] = g_strdup (client->run_url);
  ex->fal_urls[2] = g_strdup (client->rest_url);
  ex->user_agent = g_strdup (client->user_agent);
  g_mutex_unlock (&client->lock);

  if (client->tls_error) {
    g_task_return_error (task, gst_fal_error_new_full
        (GST_FAL_ERROR_INVALID_ARGUMENT, 0, NULL, NULL, NULL,
            "%s: cannot use the CA file %s (tls-ca-file or GST_FAL_CA_FILE): "
            "%s", ex->label, client->tls_ca_file, client->tls_error->message));
    g_object_unref (task);
    return;
  }
  if (authorized && cloud && ex->authorization == NULL) {
    g_task_return_error (task, gst_fal_error_new_full
        (GST_FAL_ERROR_MISSING_CREDENTIALS, 0, NULL, NULL, NULL,
            "%s: no fal credentials: set FAL_KEY (or FAL_KEY_ID and "
            "FAL_KEY_SECRET) or the client's \"key\" property, or use a local "
            "server with GST_FAL_URL / server-url", ex->label));
    g_object_unref (task);
    return;
  }

  if (cancellable) {
    ex->cancellable = g_object_ref (cancellable);
    /* the task outlives the handler: complete() disconnects it */
    ex->cancelled_id = g_cancellable_connect (cancellable,
        G_CALLBACK (on_cancelled), task, NULL);
  }
  /* the session thread owns this reference until complete() */
  hand_to_session (client, task);
}

void
gst_fal_client_http_async (GstFalClient * client,
    const GstFalHttpRequest * request, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  http_start (client, request, NULL, NULL, NULL, cancellable, callback,
      user_data);
}

void
gst_fal_client_http_stream_async (GstFalClient * client,
    const GstFalHttpRequest * request, GstFalHttpChunkFunc on_chunk,
    gpointer chunk_data, GDestroyNotify chunk_data_free,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_return_if_fail (on_chunk != NULL);
  http_start (client, request, on_chunk, chunk_data, chunk_data_free,
      cancellable, callback, user_data);
}

GstFalHttpResponse *
gst_fal_client_http_finish (GstFalClient * client, GAsyncResult * result,
    GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
gst_fal_idle_add (GMainContext * context, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
}

/* blocking calls */

static void
on_sync_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

typedef struct
{
  GMainContext *context;
  gboolean busy;
} SyncContext;

static void
sync_context_free (gpointer data)
{
  SyncContext *sync = data;

  g_main_context_unref (sync->context);
  g_free (sync);
}

GAsyncResult *
gst_fal_run_sync (GstFalAsyncStarter start, gpointer data,
    GCancellable * cancellable)
{
  /* a thread's blocking calls share one context, not a new one a call;
   * one made from inside another's callbacks gets its own */
  static GPrivate contexts = G_PRIVATE_INIT (sync_context_free);
  SyncContext *sync = g_private_get (&contexts);
  GMainContext *context;
  GAsyncResult *result = NULL;

  if (sync == NULL) {
    sync = g_new0 (SyncContext, 1);
    sync->context = g_main_context_new ();
    g_private_set (&contexts, sync);
  }
  if (sync->busy) {
    sync = NULL;
    context = g_main_context_new ();
  } else {
    sync->busy = TRUE;
    context = g_main_context_ref (sync->context);
  }

  g_main_context_push_thread_default (context);
  start (data, cancellable, on_sync_done, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  /* an idle queued as the call ended (a late cancellation, the last chunk)
   * holds a task that holds this context: run it, or both leak */
  while (g_main_context_iteration (context, FALSE));
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  if (sync)
    sync->busy = FALSE;
  return result;
}

/* GstFalAbortWatch */

static gboolean
on_watch_deadline (gpointer user_data)
{
  GstFalAbortWatch *watch = user_data;

  g_clear_pointer (&watch->deadline, g_source_unref);
  watch->abort (watch->task, GST_FAL_ABORT_TIMEOUT);
  return G_SOURCE_REMOVE;
}

static gboolean
abort_cancelled_in_context (gpointer user_data)
{
  GTask *task = user_data;
  GstFalAbortWatch *watch = g_object_get_data (G_OBJECT (task),
      "gst-fal-abort-watch");

  watch->abort (task, GST_FAL_ABORT_CANCELLED);
  return G_SOURCE_REMOVE;
}

static void
on_watch_cancelled (GCancellable * cancellable, gpointer user_data)
{
  GTask *task = user_data;

  gst_fal_idle_add (g_task_get_context (task), abort_cancelled_in_context,
      g_object_ref (task), g_object_unref);
}

void
gst_fal_abort_watch_start (GstFalAbortWatch * watch, GTask * task,
    gdouble deadline_seconds, GCancellable * cancellable, GstFalAbortFunc abort)
{
  watch->task = task;
  watch->abort = abort;
  /* the task data outlives every queued cancel: each holds the task */
  g_object_set_data (G_OBJECT (task), "gst-fal-abort-watch", watch);
  if (deadline_seconds > 0) {
    watch->deadline = g_timeout_source_new ((guint) (deadline_seconds * 1000));
    g_source_set_callback (watch->deadline, on_watch_deadline, watch, NULL);
    g_source_attach (watch->deadline, g_task_get_context (task));
  }
  if (cancellable) {
    watch->cancellable = g_object_ref (cancellable);
    watch->cancelled_id = g_cancellable_connect (cancellable,
        G_CALLBACK (on_watch_cancelled), task, NULL);
  }
}

void
gst_fal_abort_watch_stop (GstFalAbortWatch * watch)
{
  if (watch->deadline) {
    g_source_destroy (watch->deadline);
    g_clear_pointer (&watch->deadline, g_source_unref);
  }
  if (watch->cancelled_id) {
    g_cancellable_disconnect (watch->cancellable, watch->cancelled_id);
    watch->cancelled_id = 0;
  }
  g_clear_object (&watch->cancellable);
}
