/* falmock.h: a mock fal server for the library tests (header-only)
 *
 * A SoupServer on its own thread and GMainContext, listening on
 * 127.0.0.1, port 0 (the kernel picks a free port).
 *
 *   FalMock *mock = fal_mock_new ();
 *   fal_mock_add_handler (mock, "/rest/storage/", my_handler, data);
 *   client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
 *   ...
 *   g_assert_cmpuint (fal_mock_count (mock, "PUT", "/upload/x"), ==, 1);
 *   fal_mock_free (mock);
 *
 * Generic part:
 * - fal_mock_add_handler(): a handler for every path starting with a prefix
 *   (the longest registered prefix wins). Handlers run on the mock's thread;
 *   they may pause the message and finish it later from a source attached to
 *   fal_mock_get_context() (fal_mock_timeout_add() does that).
 * - Every request is recorded (method, path, query, headers, body) before
 *   its handler runs: fal_mock_get_requests(), fal_mock_count(),
 *   fal_mock_wait_count() (waits for a number of matching requests).
 * - fal_mock_respond_json(), fal_mock_reset_connection() (closes the socket
 *   without an answer), fal_mock_sse_begin()/_send()/_end().
 * - fal_mock_connections(): how many connections carried requests (tests of
 *   connection reuse count them, they never time anything);
 *   fal_mock_connection_requests(): the how-manieth request of its
 *   connection a message is.
 *
 * A tiny fal queue (fal_mock_add_app()): submit, status, status stream (SSE),
 * result and cancel under /queue, sync run and /stream under /run, for apps
 * with a given queue time, run time and outcome. The result of a successful
 * request is its input. Unhandled paths answer 404 {"detail": "..."}.
 *
 * Servers that never answer, below HTTP (fal_mock_socket_new()): one that
 * accepts and stays silent, one that resets every connection, one that
 * closes every connection without answering; and two that answer, for
 * connection reuse: one closes each connection right after an answer that
 * announced keep-alive, one resets a kept-alive connection when a second
 * request starts on it. And fal_mock_watchdog_new(),
 * a bound for tests of calls that must end by themselves.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

typedef struct _FalMock FalMock;

typedef void (*FalMockHandler) (FalMock * mock, SoupServerMessage * msg,
    const gchar * path, gpointer user_data);

typedef struct
{
  gchar *method;
  gchar *path;
  gchar *query;                 /* nullable */
  SoupMessageHeaders *headers;
  GBytes *body;
} FalMockRequest;

typedef struct
{
  gchar *prefix;
  FalMockHandler handler;
  gpointer user_data;
} FalMockRoute;

/* One app of the tiny queue. */
typedef struct
{
  /* milliseconds IN_QUEUE then IN_PROGRESS; G_MAXUINT = until cancelled */
  guint queue_ms;
  guint run_ms;
  /* 0: success (the result is the input); else the result endpoint (and a
   * sync run) answers this status with @fail_body */
  guint fail_status;
  const gchar *fail_body;
  const gchar *fail_error_type;
  /* TRUE: leave IN_QUEUE / IN_PROGRESS only once the timer fired and the
   * state was reported (by a status answer or on a status stream), so the
   * client sees every state whatever the machine's speed */
  gboolean report_each_state;
} FalMockApp;

typedef enum
{
  FAL_MOCK_QUEUED,
  FAL_MOCK_RUNNING,
  FAL_MOCK_DONE,
} FalMockJobState;

typedef struct
{
  FalMock *mock;
  gchar *id;
  gchar *app;
  FalMockApp config;
  FalMockJobState state;
  gboolean cancelled;
  gboolean timer_fired;
  gboolean reported;
  GBytes *input;
  GSource *timer;
  GPtrArray *streams;           /* SoupServerMessage, paused SSE streams */
} FalMockJob;

struct _FalMock
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  gchar *url;

  GMutex lock;
  GCond cond;
  GPtrArray *routes;
  GPtrArray *requests;
  GHashTable *apps;             /* app id → FalMockApp* */
  GHashTable *jobs;             /* request id → FalMockJob* (mock thread) */
  guint next_id;
  guint connections;            /* that carried a request, under lock */
};

static inline void
fal_mock_request_free (FalMockRequest * request)
{
  g_free (request->method);
  g_free (request->path);
  g_free (request->query);
  soup_message_headers_unref (request->headers);
  g_bytes_unref (request->body);
  g_free (request);
}

static inline void
fal_mock_respond (SoupServerMessage * msg, guint status,
    const gchar * content_type, const gchar * body)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
        body, strlen (body));
}

static inline void
fal_mock_respond_json (SoupServerMessage * msg, guint status,
    const gchar * json)
{
  fal_mock_respond (msg, status, "application/json", json);
}

/* Closes the connection without answering: the client sees a reset. */
static inline void
fal_mock_reset_connection (SoupServerMessage * msg)
{
  GIOStream *stream = soup_server_message_steal_connection (msg);

  g_io_stream_close (stream, NULL, NULL);
  g_object_unref (stream);
}

/* SSE: begin (200, text/event-stream, chunked), send events, end. */
static inline void
fal_mock_sse_begin (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "Content-Type", "text/event-stream");
  soup_server_message_pause (msg);
}

static inline void
fal_mock_sse_send_raw (SoupServerMessage * msg, const gchar * text)
{
  soup_message_body_append (soup_server_message_get_response_body (msg),
      SOUP_MEMORY_COPY, text, strlen (text));
  soup_server_message_unpause (msg);
}

static inline void
fal_mock_sse_send (SoupServerMessage * msg, const gchar * data)
{
  gchar *event = g_strdup_printf ("data: %s\n\n", data);

  fal_mock_sse_send_raw (msg, event);
  g_free (event);
}

static inline void
fal_mock_sse_end (SoupServerMessage * msg)
{
  soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);
}

static inline GMainContext *
fal_mock_get_context (FalMock * mock)
{
  return mock->context;
}

static inline const gchar *
fal_mock_get_url (FalMock * mock)
{
  return mock->url;
}

/* Runs @func once after @ms milliseconds on the mock's thread. */
static inline void
fal_mock_timeout_add (FalMock * mock, guint ms, GSourceFunc func,
    gpointer data, GDestroyNotify notify)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, mock->context);
  g_source_unref (source);
}

static inline void
fal_mock_add_handler (FalMock * mock, const gchar * prefix,
    FalMockHandler handler, gpointer user_data)
{
  FalMockRoute *route = g_new0 (FalMockRoute, 1);

  route->prefix = g_strdup (prefix);
  route->handler = handler;
  route->user_data = user_data;
  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->routes, route);
  g_mutex_unlock (&mock->lock);
}

/* Requests whose method and path match (NULL matches any); a path ending
 * in '*' is a prefix. */
static inline gboolean
fal_mock_request_matches (FalMockRequest * request, const gchar * method,
    const gchar * path)
{
  if (method && g_strcmp0 (request->method, method) != 0)
    return FALSE;
  if (path == NULL)
    return TRUE;
  if (g_str_has_suffix (path, "*"))
    return strncmp (request->path, path, strlen (path) - 1) == 0;
  return g_str_equal (request->path, path);
}

static inline guint
fal_mock_count_locked (FalMock * mock, const gchar * method,
    const gchar * path)
{
  guint i, count = 0;

  for (i = 0; i < mock->requests->len; i++)
    count += fal_mock_request_matches (g_ptr_array_index (mock->requests, i),
        method, path);
  return count;
}

/* Connections that carried at least one request so far. */
static inline guint
fal_mock_connections (FalMock * mock)
{
  guint count;

  g_mutex_lock (&mock->lock);
  count = mock->connections;
  g_mutex_unlock (&mock->lock);
  return count;
}

/* 1 for the first request on its connection, 2 for the next, ... (mock
 * thread only) */
static inline guint
fal_mock_connection_requests (SoupServerMessage * msg)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT
          (soup_server_message_get_socket (msg)), "falmock-requests"));
}

static inline guint
fal_mock_count (FalMock * mock, const gchar * method, const gchar * path)
{
  guint count;

  g_mutex_lock (&mock->lock);
  count = fal_mock_count_locked (mock, method, path);
  g_mutex_unlock (&mock->lock);
  return count;
}

/* Waits up to @timeout_s for @count matching requests; returns the count. */
static inline guint
fal_mock_wait_count (FalMock * mock, const gchar * method, const gchar * path,
    guint count, gdouble timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  guint seen;

  g_mutex_lock (&mock->lock);
  while ((seen = fal_mock_count_locked (mock, method, path)) < count
      && g_cond_wait_until (&mock->cond, &mock->lock, end));
  seen = fal_mock_count_locked (mock, method, path);
  g_mutex_unlock (&mock->lock);
  return seen;
}

/* A copy of the recorded requests (element-type FalMockRequest, borrowed
 * pointers stay valid until fal_mock_free()). */
static inline GPtrArray *
fal_mock_get_requests (FalMock * mock)
{
  GPtrArray *copy = g_ptr_array_new ();
  guint i;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < mock->requests->len; i++)
    g_ptr_array_add (copy, g_ptr_array_index (mock->requests, i));
  g_mutex_unlock (&mock->lock);
  return copy;
}

/* Header @name of the first recorded request matching @method (%NULL: any)
 * and @path, or %NULL; valid until fal_mock_free(). */
static inline const gchar *
fal_mock_request_header (FalMock * mock, const gchar * method,
    const gchar * path, const gchar * name)
{
  g_autoptr (GPtrArray) requests = fal_mock_get_requests (mock);
  guint i;

  for (i = 0; i < requests->len; i++) {
    FalMockRequest *request = g_ptr_array_index (requests, i);

    if (fal_mock_request_matches (request, method, path))
      return soup_message_headers_get_one (request->headers, name);
  }
  return NULL;
}

/* the tiny queue */

static inline gchar *
fal_mock_job_status_json (FalMockJob * job)
{
  const gchar *base = job->mock->url;
  gchar *urls = g_strdup_printf ("\"request_id\": \"%s\", "
      "\"response_url\": \"%s/queue/%s/requests/%s\", "
      "\"status_url\": \"%s/queue/%s/requests/%s/status\", "
      "\"cancel_url\": \"%s/queue/%s/requests/%s/cancel\"", job->id,
      base, job->app, job->id, base, job->app, job->id, base, job->app,
      job->id);
  gchar *json;

  switch (job->state) {
    case FAL_MOCK_QUEUED:
      json = g_strdup_printf ("{\"status\": \"IN_QUEUE\", \"queue_position\":"
          " 0, %s}", urls);
      break;
    case FAL_MOCK_RUNNING:
      json = g_strdup_printf ("{\"status\": \"IN_PROGRESS\", \"logs\": "
          "[{\"message\": \"running\", \"level\": \"INFO\", \"source\": "
          "\"USER\", \"timestamp\": \"2026-01-01T00:00:00Z\"}], %s}", urls);
      break;
    default:
      if (job->cancelled)
        json = g_strdup_printf ("{\"status\": \"COMPLETED\", \"logs\": null, "
            "\"error\": \"Request cancelled\", \"error_type\": "
            "\"client_cancelled\", %s}", urls);
      else if (job->config.fail_status)
        json = g_strdup_printf ("{\"status\": \"COMPLETED\", \"logs\": null, "
            "\"error\": \"Request failed\", \"error_type\": \"%s\", %s}",
            job->config.fail_error_type ? job->config.fail_error_type :
            "runner_server_error", urls);
      else
        json = g_strdup_printf ("{\"status\": \"COMPLETED\", \"logs\": null, "
            "\"metrics\": {\"inference_time\": 0.25}, %s}", urls);
      break;
  }
  g_free (urls);
  return json;
}

static inline void
fal_mock_job_notify (FalMockJob * job)
{
  gchar *json = fal_mock_job_status_json (job);
  guint i;

  for (i = 0; i < job->streams->len; i++) {
    SoupServerMessage *msg = g_ptr_array_index (job->streams, i);

    fal_mock_sse_send (msg, json);
    if (job->state == FAL_MOCK_DONE)
      fal_mock_sse_end (msg);
  }
  if (job->state == FAL_MOCK_DONE)
    g_ptr_array_set_size (job->streams, 0);
  if (job->streams->len > 0)
    job->reported = TRUE;
  g_free (json);
}

static inline gboolean fal_mock_job_advance (gpointer data);

static inline void
fal_mock_job_set_state (FalMockJob * job, FalMockJobState state)
{
  guint ms;

  job->state = state;
  job->timer_fired = FALSE;
  job->reported = FALSE;
  if (job->timer) {
    g_source_destroy (job->timer);
    g_clear_pointer (&job->timer, g_source_unref);
  }
  ms = state == FAL_MOCK_QUEUED ? job->config.queue_ms : job->config.run_ms;
  if (state != FAL_MOCK_DONE && ms != G_MAXUINT) {
    job->timer = g_timeout_source_new (ms);
    g_source_set_callback (job->timer, fal_mock_job_advance, job, NULL);
    g_source_attach (job->timer, job->mock->context);
  }
  fal_mock_job_notify (job);
}

static inline gboolean
fal_mock_job_advance (gpointer data)
{
  FalMockJob *job = data;

  g_clear_pointer (&job->timer, g_source_unref);
  job->timer_fired = TRUE;
  if (!job->config.report_each_state || job->reported)
    fal_mock_job_set_state (job, job->state + 1);
  return G_SOURCE_REMOVE;
}

/* The job's state was reported to the client. */
static inline void
fal_mock_job_reported (FalMockJob * job)
{
  job->reported = TRUE;
  if (job->timer_fired && job->state != FAL_MOCK_DONE)
    fal_mock_job_set_state (job, job->state + 1);
}

static inline void
fal_mock_job_free (FalMockJob * job)
{
  if (job->timer) {
    g_source_destroy (job->timer);
    g_source_unref (job->timer);
  }
  g_free (job->id);
  g_free (job->app);
  g_bytes_unref (job->input);
  g_ptr_array_unref (job->streams);
  g_free (job);
}

static inline void
fal_mock_add_app (FalMock * mock, const gchar * app, const FalMockApp * config)
{
  g_mutex_lock (&mock->lock);
  g_hash_table_replace (mock->apps, g_strdup (app), g_memdup2 (config,
          sizeof *config));
  g_mutex_unlock (&mock->lock);
}

static inline FalMockApp *
fal_mock_lookup_app (FalMock * mock, const gchar * app)
{
  FalMockApp *config;

  g_mutex_lock (&mock->lock);
  config = g_hash_table_lookup (mock->apps, app);
  g_mutex_unlock (&mock->lock);
  return config;
}

static inline void
fal_mock_respond_body (SoupServerMessage * msg, guint status, GBytes * body)
{
  gsize size;
  const gchar *data = g_bytes_get_data (body, &size);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_COPY, size ? data : "{}", size ? size : 2);
}

static inline void
fal_mock_respond_failure (SoupServerMessage * msg, const FalMockApp * config)
{
  if (config->fail_error_type)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "X-Fal-Error-Type", config->fail_error_type);
  fal_mock_respond_json (msg, config->fail_status, config->fail_body ?
      config->fail_body : "{\"detail\": \"failed\"}");
}

static inline void
fal_mock_on_stream_finished (SoupServerMessage * msg, gpointer data)
{
  FalMockJob *job = data;

  g_ptr_array_remove (job->streams, msg);
}

/* /queue/{owner}/{alias}[/path] or /queue/{owner}/{alias}/requests/{id}… */
static inline void
fal_mock_queue_handler (FalMock * mock, SoupServerMessage * msg,
    const gchar * path, gpointer user_data)
{
  gchar **parts = g_strsplit (path + strlen ("/queue/"), "/", -1);
  guint n = g_strv_length (parts);
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);
  gchar *app = n >= 2 ? g_strdup_printf ("%s/%s", parts[0], parts[1]) : NULL;
  FalMockApp *config = app ? fal_mock_lookup_app (mock, app) : NULL;
  FalMockJob *job = NULL;

  if (n >= 4 && g_str_equal (parts[2], "requests"))
    job = g_hash_table_lookup (mock->jobs, parts[3]);

  if (n >= 4 && g_str_equal (parts[2], "requests")) {
    if (job == NULL || !g_str_equal (job->app, app)) {
      fal_mock_respond_json (msg, 404, "{\"detail\": \"Request not found\"}");
    } else {
      gchar *json = fal_mock_job_status_json (job);

      soup_message_headers_replace (out, "x-fal-request-id", job->id);
      if (n == 4 && g_str_equal (method, "GET")) {
        if (job->state != FAL_MOCK_DONE)
          fal_mock_respond_json (msg, 400,
              "{\"detail\": \"Request is still in progress\"}");
        else if (job->cancelled)
          fal_mock_respond_json (msg, 499, "{\"detail\": \"Request "
              "cancelled\", \"error_type\": \"client_cancelled\"}");
        else if (job->config.fail_status)
          fal_mock_respond_failure (msg, &job->config);
        else
          fal_mock_respond_body (msg, 200, job->input);
      } else if (n == 5 && g_str_equal (parts[4], "status")) {
        fal_mock_respond_json (msg, job->state == FAL_MOCK_DONE ? 200 : 202,
            json);
        fal_mock_job_reported (job);
      } else if (n == 6 && g_str_equal (parts[5], "stream")) {
        fal_mock_sse_begin (msg);
        fal_mock_sse_send (msg, json);
        if (job->state == FAL_MOCK_DONE) {
          fal_mock_sse_end (msg);
        } else {
          g_ptr_array_add (job->streams, msg);
          g_signal_connect (msg, "finished",
              G_CALLBACK (fal_mock_on_stream_finished), job);
          fal_mock_job_reported (job);
        }
      } else if (n == 5 && g_str_equal (parts[4], "cancel")
          && g_str_equal (method, "PUT")) {
        if (job->state == FAL_MOCK_DONE) {
          fal_mock_respond_json (msg, 400, "{\"status\": "
              "\"ALREADY_COMPLETED\"}");
        } else {
          fal_mock_respond_json (msg, 202, "{\"status\": "
              "\"CANCELLATION_REQUESTED\"}");
          job->cancelled = TRUE;
          fal_mock_job_set_state (job, FAL_MOCK_DONE);
        }
      } else {
        fal_mock_respond_json (msg, 405, "{\"detail\": \"bad method\"}");
      }
      g_free (json);
    }
  } else if (config && g_str_equal (method, "POST")) {
    SoupMessageBody *body = soup_server_message_get_request_body (msg);
    gchar *json;

    job = g_new0 (FalMockJob, 1);
    job->mock = mock;
    g_mutex_lock (&mock->lock);
    job->id = g_strdup_printf ("req-%u", ++mock->next_id);
    g_mutex_unlock (&mock->lock);
    job->app = g_strdup (app);
    job->config = *config;
    job->input = soup_message_body_flatten (body);
    job->streams = g_ptr_array_new ();
    g_hash_table_insert (mock->jobs, job->id, job);
    fal_mock_job_set_state (job, FAL_MOCK_QUEUED);
    json = fal_mock_job_status_json (job);
    job->reported = TRUE;
    soup_message_headers_replace (out, "x-fal-request-id", job->id);
    fal_mock_respond_json (msg, 200, json);
    g_free (json);
  } else {
    fal_mock_respond_json (msg, 404, "{\"detail\": \"Application not found\"}");
  }
  g_free (app);
  g_strfreev (parts);
}

typedef struct
{
  SoupServerMessage *msg;
  FalMockApp config;
  GBytes *input;
  gint events_left;
} FalMockRun;

static inline void
fal_mock_run_free (FalMockRun * run)
{
  g_object_unref (run->msg);
  g_bytes_unref (run->input);
  g_free (run);
}

static inline gboolean
fal_mock_run_finish (gpointer data)
{
  FalMockRun *run = data;

  if (run->config.fail_status)
    fal_mock_respond_failure (run->msg, &run->config);
  else
    fal_mock_respond_body (run->msg, 200, run->input);
  soup_server_message_unpause (run->msg);
  return G_SOURCE_REMOVE;
}

static inline gboolean
fal_mock_stream_next (gpointer data)
{
  FalMockRun *run = data;
  gchar *event;

  if (run->events_left == 0) {
    event = g_strdup_printf ("data: %.*s\n\n",
        (int) g_bytes_get_size (run->input),
        (const gchar *) g_bytes_get_data (run->input, NULL));
    fal_mock_sse_send_raw (run->msg, event);
    fal_mock_sse_end (run->msg);
    g_free (event);
    return G_SOURCE_REMOVE;
  }
  event = g_strdup_printf (": keepalive\ndata: {\"partial\": %d}\n\n",
      run->events_left--);
  fal_mock_sse_send_raw (run->msg, event);
  g_free (event);
  return G_SOURCE_CONTINUE;
}

/* /run/{owner}/{alias}[/path]: run_ms later, the input (or the failure);
 * /run/…/stream: three partial events, then the input as the last event. */
static inline void
fal_mock_run_handler (FalMock * mock, SoupServerMessage * msg,
    const gchar * path, gpointer user_data)
{
  gchar **parts = g_strsplit (path + strlen ("/run/"), "/", -1);
  gchar *app = g_strv_length (parts) >= 2 ?
      g_strdup_printf ("%s/%s", parts[0], parts[1]) : NULL;
  FalMockApp *config = app ? fal_mock_lookup_app (mock, app) : NULL;
  FalMockRun *run;

  if (config == NULL) {
    fal_mock_respond_json (msg, 404, "{\"detail\": \"Application not found\"}");
  } else {
    run = g_new0 (FalMockRun, 1);
    run->msg = g_object_ref (msg);
    run->config = *config;
    run->input = soup_message_body_flatten
        (soup_server_message_get_request_body (msg));
    if (g_str_has_suffix (path, "/stream")) {
      run->events_left = 3;
      fal_mock_sse_begin (msg);
      fal_mock_timeout_add (mock, 10, fal_mock_stream_next, run,
          (GDestroyNotify) fal_mock_run_free);
    } else {
      soup_server_message_pause (msg);
      fal_mock_timeout_add (mock, config->run_ms == G_MAXUINT ? 60000 :
          config->run_ms, fal_mock_run_finish, run,
          (GDestroyNotify) fal_mock_run_free);
    }
  }
  g_free (app);
  g_strfreev (parts);
}

/* the server */

static inline void
fal_mock_dispatch (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  FalMock *mock = user_data;
  FalMockRequest *request = g_new0 (FalMockRequest, 1);
  GUri *uri = soup_server_message_get_uri (msg);
  FalMockRoute *best = NULL;
  guint i;

  request->method = g_strdup (soup_server_message_get_method (msg));
  request->path = g_strdup (path);
  request->query = g_strdup (g_uri_get_query (uri));
  request->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  {
    SoupMessageHeadersIter iter;
    const char *name, *value;

    soup_message_headers_iter_init (&iter,
        soup_server_message_get_request_headers (msg));
    while (soup_message_headers_iter_next (&iter, &name, &value))
      soup_message_headers_append (request->headers, name, value);
  }
  request->body = soup_message_body_flatten
      (soup_server_message_get_request_body (msg));

  g_mutex_lock (&mock->lock);
  {
    GObject *socket = G_OBJECT (soup_server_message_get_socket (msg));
    guint n = GPOINTER_TO_UINT (g_object_get_data (socket,
            "falmock-requests"));

    if (n == 0)
      mock->connections++;
    g_object_set_data (socket, "falmock-requests", GUINT_TO_POINTER (n + 1));
  }
  g_ptr_array_add (mock->requests, request);
  for (i = 0; i < mock->routes->len; i++) {
    FalMockRoute *route = g_ptr_array_index (mock->routes, i);

    if (g_str_has_prefix (path, route->prefix) && (best == NULL
            || strlen (route->prefix) > strlen (best->prefix)))
      best = route;
  }
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);

  if (best)
    best->handler (mock, msg, path, best->user_data);
  else if (g_str_has_prefix (path, "/queue/"))
    fal_mock_queue_handler (mock, msg, path, NULL);
  else if (g_str_has_prefix (path, "/run/"))
    fal_mock_run_handler (mock, msg, path, NULL);
  else
    fal_mock_respond_json (msg, 404, "{\"detail\": \"Path not found\"}");
}

static inline gpointer
fal_mock_thread (gpointer data)
{
  FalMock *mock = data;

  g_main_context_push_thread_default (mock->context);
  g_main_loop_run (mock->loop);
  /* let the server's connections finish closing */
  while (g_main_context_iteration (mock->context, FALSE));
  g_main_context_pop_thread_default (mock->context);
  return NULL;
}

static inline gboolean
fal_mock_start_in_thread (gpointer data)
{
  FalMock *mock = data;
  GError *error = NULL;
  GSList *listeners;
  GSocketAddress *local, *address;

  mock->server = soup_server_new ("server-header", "falmock", NULL);
  soup_server_add_handler (mock->server, NULL, fal_mock_dispatch, mock, NULL);
  /* (soup_server_listen_local leaks an address) */
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  if (!soup_server_listen (mock->server, address, 0, &error))
    g_error ("falmock: cannot listen: %s", error->message);
  g_object_unref (address);
  /* the port from the listening socket (soup_server_get_uris leaks) */
  listeners = soup_server_get_listeners (mock->server);
  local = g_socket_get_local_address (listeners->data, &error);
  g_slist_free (listeners);
  if (local == NULL)
    g_error ("falmock: no local address: %s", error->message);
  g_mutex_lock (&mock->lock);
  mock->url = g_strdup_printf ("http://127.0.0.1:%u",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
  g_object_unref (local);
  return G_SOURCE_REMOVE;
}

static inline FalMock *
fal_mock_new (void)
{
  FalMock *mock = g_new0 (FalMock, 1);

  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  mock->routes = g_ptr_array_new ();
  mock->requests = g_ptr_array_new_with_free_func ((GDestroyNotify)
      fal_mock_request_free);
  mock->apps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  mock->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) fal_mock_job_free);
  mock->context = g_main_context_new ();
  mock->loop = g_main_loop_new (mock->context, FALSE);
  g_main_context_invoke (mock->context, fal_mock_start_in_thread, mock);
  mock->thread = g_thread_new ("falmock", fal_mock_thread, mock);
  g_mutex_lock (&mock->lock);
  while (mock->url == NULL)
    g_cond_wait (&mock->cond, &mock->lock);
  g_mutex_unlock (&mock->lock);
  return mock;
}

static inline gboolean
fal_mock_stop_in_thread (gpointer data)
{
  FalMock *mock = data;

  soup_server_disconnect (mock->server);
  g_clear_object (&mock->server);
  g_hash_table_remove_all (mock->jobs);
  g_main_loop_quit (mock->loop);
  return G_SOURCE_REMOVE;
}

static inline void
fal_mock_free (FalMock * mock)
{
  guint i;

  g_main_context_invoke (mock->context, fal_mock_stop_in_thread, mock);
  g_thread_join (mock->thread);
  while (g_main_context_iteration (mock->context, FALSE));
  g_main_loop_unref (mock->loop);
  g_main_context_unref (mock->context);
  for (i = 0; i < mock->routes->len; i++) {
    FalMockRoute *route = g_ptr_array_index (mock->routes, i);

    g_free (route->prefix);
    g_free (route);
  }
  g_ptr_array_unref (mock->routes);
  g_ptr_array_unref (mock->requests);
  g_hash_table_unref (mock->apps);
  g_hash_table_unref (mock->jobs);
  g_free (mock->url);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
  g_free (mock);
}

/* Servers that never answer */

typedef enum
{
  /* accepts, then neither reads nor answers: the connection stays open */
  FAL_MOCK_SOCKET_SILENT,
  /* resets (RST) every connection as soon as it is accepted */
  FAL_MOCK_SOCKET_RESET,
  /* closes (FIN) every connection as soon as it is accepted, unanswered */
  FAL_MOCK_SOCKET_CLOSE,
  /* answers one request (HTTP/1.1, keep-alive: no Connection: close), then
   * closes the connection: the answer and the FIN go in one segment, so the
   * client has the FIN by the time it reads the answer */
  FAL_MOCK_SOCKET_ANSWER_CLOSE,
  /* answers the first request of each connection (keep-alive) and resets
   * the connection when the next request starts, without reading it */
  FAL_MOCK_SOCKET_ANSWER_RESET,
} FalMockSocketMode;

typedef struct
{
  FalMockSocketMode mode;
  GSocket *listener;
  GThread *thread;
  GCancellable *stop;
  GPtrArray *held;              /* GSocket, accept thread only */
  gchar *url;
  gint accepted;
  gint requests;                /* read whole, answering modes */
  gint next_id;
} FalMockSocket;

/* Reads one request whole (no chunked bodies); FALSE at EOF or error. */
static inline gboolean
fal_mock_socket_read_request (FalMockSocket * ms, GSocket * socket,
    gchar ** path)
{
  GByteArray *data = g_byte_array_new ();
  gchar buffer[65536];
  gssize n, head = -1, length = 0;
  gboolean ok = FALSE;

  while (TRUE) {
    if (head < 0 && data->len > 0) {
      gchar *end = g_strstr_len ((gchar *) data->data, data->len, "\r\n\r\n");

      if (end) {
        gchar **lines;
        guint i;

        head = end - (gchar *) data->data + 4;
        data->data[head - 2] = '\0';
        lines = g_strsplit ((gchar *) data->data, "\r\n", -1);
        for (i = 1; lines[i]; i++) {
          if (g_ascii_strncasecmp (lines[i], "Content-Length:", 15) == 0)
            length = g_ascii_strtoll (lines[i] + 15, NULL, 10);
        }
        {
          gchar **words = g_strsplit (lines[0], " ", 3);

          *path = g_strdup (words[1]);
          g_strfreev (words);
        }
        g_strfreev (lines);
      }
    }
    if (head >= 0 && (gssize) data->len >= head + length) {
      ok = TRUE;
      break;
    }
    n = g_socket_receive (socket, buffer, sizeof buffer, ms->stop, NULL);
    if (n <= 0)
      break;
    g_byte_array_append (data, (guint8 *) buffer, n);
  }
  g_byte_array_unref (data);
  return ok;
}

/* 200 with a Queued status under /queue/, else {} */
static inline void
fal_mock_socket_answer (FalMockSocket * ms, GSocket * socket,
    const gchar * path)
{
  gchar *body = g_str_has_prefix (path, "/queue/") ?
      g_strdup_printf ("{\"status\": \"IN_QUEUE\", \"request_id\": "
      "\"req-%d\", \"queue_position\": 0}", ++ms->next_id) : g_strdup ("{}");
  gchar *answer = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: "
      "application/json\r\nContent-Length: %u\r\n\r\n%s",
      (guint) strlen (body), body);

  g_socket_send (socket, answer, strlen (answer), NULL, NULL);
  g_free (answer);
  g_free (body);
}

/* ANSWER_* modes: serves the connection in the accept thread. */
static inline void
fal_mock_socket_serve (FalMockSocket * ms, GSocket * socket)
{
  gchar *path = NULL;

  if (ms->mode == FAL_MOCK_SOCKET_ANSWER_CLOSE)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_CORK, 1, NULL);
  if (!fal_mock_socket_read_request (ms, socket, &path))
    goto out;
  g_atomic_int_inc (&ms->requests);
  fal_mock_socket_answer (ms, socket, path);
  if (ms->mode == FAL_MOCK_SOCKET_ANSWER_RESET) {
    struct linger linger = { 1, 0 };

    /* the next request: reset as soon as its first bytes arrive */
    if (!g_socket_condition_timed_wait (socket, G_IO_IN, -1, ms->stop, NULL))
      goto out;
    setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger,
        sizeof linger);
  }
out:
  /* closing with a request unread sends RST, otherwise FIN (with the
   * corked answer) */
  g_socket_close (socket, NULL);
  g_free (path);
}

static inline gpointer
fal_mock_socket_thread (gpointer data)
{
  FalMockSocket *ms = data;
  GSocket *socket;

  while ((socket = g_socket_accept (ms->listener, ms->stop, NULL))) {
    g_atomic_int_inc (&ms->accepted);
    if (ms->mode == FAL_MOCK_SOCKET_RESET) {
      struct linger linger = { 1, 0 };

      /* closing with a zero linger time sends RST instead of FIN */
      setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger,
          sizeof linger);
      g_socket_close (socket, NULL);
      g_object_unref (socket);
      continue;
    }
    if (ms->mode == FAL_MOCK_SOCKET_ANSWER_CLOSE
        || ms->mode == FAL_MOCK_SOCKET_ANSWER_RESET) {
      fal_mock_socket_serve (ms, socket);
      g_object_unref (socket);
      continue;
    }
    /* held, not closed: unread request bytes would turn a close into RST */
    if (ms->mode == FAL_MOCK_SOCKET_CLOSE)
      g_socket_shutdown (socket, FALSE, TRUE, NULL);
    g_ptr_array_add (ms->held, socket);
  }
  return NULL;
}

static inline FalMockSocket *
fal_mock_socket_new (FalMockSocketMode mode)
{
  FalMockSocket *ms = g_new0 (FalMockSocket, 1);
  GSocketAddress *address, *local;
  GError *error = NULL;

  ms->mode = mode;
  ms->stop = g_cancellable_new ();
  ms->held = g_ptr_array_new_with_free_func (g_object_unref);
  ms->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  if (ms->listener == NULL || !g_socket_bind (ms->listener, address, TRUE,
          &error) || !g_socket_listen (ms->listener, &error))
    g_error ("falmock: cannot listen: %s", error->message);
  g_object_unref (address);
  local = g_socket_get_local_address (ms->listener, &error);
  if (local == NULL)
    g_error ("falmock: no local address: %s", error->message);
  ms->url = g_strdup_printf ("http://127.0.0.1:%u",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  g_object_unref (local);
  ms->thread = g_thread_new ("falmock-socket", fal_mock_socket_thread, ms);
  return ms;
}

static inline const gchar *
fal_mock_socket_get_url (FalMockSocket * ms)
{
  return ms->url;
}

/* Requests read whole so far (answering modes). */
static inline guint
fal_mock_socket_requests (FalMockSocket * ms)
{
  return g_atomic_int_get (&ms->requests);
}

/* Connections accepted so far. */
static inline guint
fal_mock_socket_accepted (FalMockSocket * ms)
{
  return g_atomic_int_get (&ms->accepted);
}

static inline void
fal_mock_socket_free (FalMockSocket * ms)
{
  g_cancellable_cancel (ms->stop);
  g_thread_join (ms->thread);
  g_ptr_array_unref (ms->held);
  g_socket_close (ms->listener, NULL);
  g_object_unref (ms->listener);
  g_object_unref (ms->stop);
  g_free (ms->url);
  g_free (ms);
}

/* The watchdog: a cancellable that cancels itself @seconds after it was
 * made, from a thread of its own. Given to a call that must end by itself
 * (its deadline), it bounds a test that would otherwise hang: the call then
 * fails with CANCELLED instead of the error the test expects. */

typedef struct
{
  GCancellable *cancellable;
  GThread *thread;
  GMutex lock;
  GCond cond;
  gint64 end;
  gboolean stop;
} FalMockWatchdog;

static inline gpointer
fal_mock_watchdog_thread (gpointer data)
{
  FalMockWatchdog *dog = data;

  g_mutex_lock (&dog->lock);
  while (!dog->stop && g_cond_wait_until (&dog->cond, &dog->lock, dog->end));
  if (!dog->stop)
    g_cancellable_cancel (dog->cancellable);
  g_mutex_unlock (&dog->lock);
  return NULL;
}

static inline FalMockWatchdog *
fal_mock_watchdog_new (gdouble seconds)
{
  FalMockWatchdog *dog = g_new0 (FalMockWatchdog, 1);

  dog->cancellable = g_cancellable_new ();
  g_mutex_init (&dog->lock);
  g_cond_init (&dog->cond);
  dog->end = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  dog->thread = g_thread_new ("falmock-watchdog", fal_mock_watchdog_thread,
      dog);
  return dog;
}

static inline GCancellable *
fal_mock_watchdog_get_cancellable (FalMockWatchdog * dog)
{
  return dog->cancellable;
}

static inline void
fal_mock_watchdog_free (FalMockWatchdog * dog)
{
  g_mutex_lock (&dog->lock);
  dog->stop = TRUE;
  g_cond_signal (&dog->cond);
  g_mutex_unlock (&dog->lock);
  g_thread_join (dog->thread);
  g_object_unref (dog->cancellable);
  g_mutex_clear (&dog->lock);
  g_cond_clear (&dog->cond);
  g_free (dog);
}
