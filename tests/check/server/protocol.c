/* The queue, run and stream endpoints of the local server, over raw HTTP:
 * status codes, headers and the presence of fields (fal-protocol §3-§5). */
#include "falservertest.h"
#include <gst/fal/gstfal.h>

static GstFalServer *server;
static SoupSession *session;

static void
setup (void)
{
  server = fal_test_server_new (2, NULL);
  session = fal_test_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  gst_fal_server_stop (server);
  g_clear_object (&server);
}

static FalReply *
submit (const gchar * endpoint, const gchar * input,
    const gchar * const *headers)
{
  g_autofree gchar *url = g_strdup_printf ("%s/queue/%s",
      gst_fal_server_get_url (server), endpoint);

  return fal_http (session, "POST", url, input, headers);
}

GST_START_TEST (test_submit_fields)
{
  g_autoptr (FalReply) reply = submit ("local/echo/some/path", "{\"a\": 1}",
      NULL);
  g_autofree gchar *prefix = fal_url (server, "/queue/local/echo/requests/");
  const gchar *id;
  g_autofree gchar *response_url = NULL;
  g_autofree gchar *status_url = NULL;
  g_autofree gchar *cancel_url = NULL;

  fail_unless_equals_int (reply->status, 200);
  id = fal_reply_string (reply, "request_id");
  fail_unless (g_uuid_string_is_valid (id));
  fail_unless_equals_string (fal_reply_header (reply, "x-fal-request-id"), id);
  fail_unless_equals_string (fal_reply_string (reply, "status"), "IN_QUEUE");
  fail_unless (json_object_has_member (fal_reply_object (reply),
          "queue_position"));
  /* the URLs use the app without its sub-path */
  response_url = g_strconcat (prefix, id, NULL);
  status_url = g_strconcat (response_url, "/status", NULL);
  cancel_url = g_strconcat (response_url, "/cancel", NULL);
  fail_unless_equals_string (fal_reply_string (reply, "response_url"),
      response_url);
  fail_unless_equals_string (fal_reply_string (reply, "status_url"),
      status_url);
  fail_unless_equals_string (fal_reply_string (reply, "cancel_url"),
      cancel_url);
}

GST_END_TEST;

GST_START_TEST (test_status_and_result)
{
  g_autoptr (FalReply) reply = submit ("local/sleep",
      "{\"seconds\": 0.5, \"logs\": 2}", NULL);
  g_autofree gchar *status_url =
      g_strdup (fal_reply_string (reply, "status_url"));
  g_autofree gchar *response_url =
      g_strdup (fal_reply_string (reply, "response_url"));
  g_autofree gchar *logs_url = g_strconcat (status_url, "?logs=1", NULL);
  g_autoptr (FalReply) status = NULL;
  g_autoptr (FalReply) result = NULL;
  g_autoptr (FalReply) early = NULL;
  JsonObject *object;
  JsonNode *logs;
  const gchar *state;

  /* before completion: 202, and the result is refused */
  status = fal_http (session, "GET", status_url, NULL, NULL);
  state = fal_reply_string (status, "status");
  if (strcmp (state, "COMPLETED")) {
    fail_unless_equals_int (status->status, 202);
    if (!strcmp (state, "IN_QUEUE"))
      fail_unless (json_object_has_member (fal_reply_object (status),
              "queue_position"));
    else
      fail_unless (json_object_has_member (fal_reply_object (status), "logs"));
    early = fal_http (session, "GET", response_url, NULL, NULL);
    if (early->status != 200) {
      fail_unless_equals_int (early->status, 400);
      fail_unless_equals_string (fal_reply_string (early, "detail"),
          "Request is still in progress");
    }
  }
  g_clear_pointer (&status, fal_reply_free);

  status = fal_wait_completed (session, logs_url, NULL);
  object = fal_reply_object (status);
  fail_unless (fal_reply_header (status, "x-fal-request-id") != NULL);
  logs = json_object_get_member (object, "logs");
  fail_unless (logs && JSON_NODE_HOLDS_ARRAY (logs));
  fail_unless_equals_int (json_array_get_length (json_node_get_array (logs)),
      2);
  {
    JsonObject *line =
        json_array_get_object_element (json_node_get_array (logs), 0);

    fail_unless (json_object_has_member (line, "message"));
    fail_unless (json_object_has_member (line, "level"));
    fail_unless (json_object_has_member (line, "timestamp"));
  }
  fail_unless (json_object_has_member (json_object_get_object_member (object,
              "metrics"), "inference_time"));
  fail_if (json_object_has_member (object, "error"));
  fail_if (json_object_has_member (object, "queue_position"));
  g_clear_pointer (&status, fal_reply_free);

  /* logs=0 and logs=false: the key is present, null */
  {
    const gchar *values[] = { "0", "false", "true" };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (values); i++) {
      g_autofree gchar *url = g_strdup_printf ("%s?logs=%s", status_url,
          values[i]);

      status = fal_http (session, "GET", url, NULL, NULL);
      fail_unless_equals_int (status->status, 200);
      logs = json_object_get_member (fal_reply_object (status), "logs");
      fail_unless (logs != NULL);
      fail_unless_equals_int (JSON_NODE_HOLDS_NULL (logs), i < 2);
      g_clear_pointer (&status, fal_reply_free);
    }
  }

  result = fal_http (session, "GET", response_url, NULL, NULL);
  fail_unless_equals_int (result->status, 200);
  fail_unless (fal_reply_header (result, "x-fal-request-id") != NULL);
  fail_unless_equals_float (json_object_get_double_member (fal_reply_object
          (result), "slept"), 0.5);
}

GST_END_TEST;

GST_START_TEST (test_failure_replayed)
{
  g_autoptr (FalReply) reply = submit ("local/fail",
      "{\"status\": 503, \"detail\": \"GPU error\", \"error_type\": "
      "\"runner_disconnected\"}", NULL);
  g_autoptr (FalReply) status = fal_wait_completed (session,
      fal_reply_string (reply, "status_url"), NULL);
  g_autoptr (FalReply) result = NULL;

  fail_unless_equals_string (fal_reply_string (status, "status"), "COMPLETED");
  fail_unless (fal_reply_string (status, "error") != NULL);
  fail_unless_equals_string (fal_reply_string (status, "error_type"),
      "runner_disconnected");
  result = fal_http (session, "GET", fal_reply_string (reply,
          "response_url"), NULL, NULL);
  fail_unless_equals_int (result->status, 503);
  fail_unless_equals_string (fal_reply_header (result, "X-Fal-Error-Type"),
      "runner_disconnected");
  fail_unless_equals_string (fal_reply_string (result, "detail"), "GPU error");
}

GST_END_TEST;

GST_START_TEST (test_cancel)
{
  g_autoptr (FalReply) one = submit ("local/sleep", "{\"seconds\": 60}", NULL);
  g_autoptr (FalReply) two = submit ("local/sleep", "{\"seconds\": 60}", NULL);
  g_autoptr (FalReply) queued = submit ("local/sleep", "{\"seconds\": 60}",
      NULL);
  g_autoptr (FalReply) cancel = NULL;
  g_autoptr (FalReply) status = NULL;
  g_autoptr (FalReply) result = NULL;
  g_autoptr (FalReply) again = NULL;
  g_autoptr (FalReply) unknown = NULL;
  g_autofree gchar *unknown_url = NULL;

  /* a queued request (both workers busy) is removed */
  fal_wait_started (session, fal_reply_string (one, "status_url"));
  fal_wait_started (session, fal_reply_string (two, "status_url"));
  cancel = fal_http (session, "PUT", fal_reply_string (queued, "cancel_url"),
      NULL, NULL);
  fail_unless_equals_int (cancel->status, 202);
  fail_unless_equals_string (fal_reply_string (cancel, "status"),
      "CANCELLATION_REQUESTED");
  status = fal_wait_completed (session, fal_reply_string (queued,
          "status_url"), NULL);
  fail_unless_equals_string (fal_reply_string (status, "error_type"),
      "client_cancelled");
  result = fal_http (session, "GET", fal_reply_string (queued,
          "response_url"), NULL, NULL);
  fail_unless_equals_int (result->status, 499);
  g_clear_pointer (&cancel, fal_reply_free);
  g_clear_pointer (&status, fal_reply_free);
  g_clear_pointer (&result, fal_reply_free);

  /* a running one is stopped */
  cancel = fal_http (session, "PUT", fal_reply_string (one, "cancel_url"),
      NULL, NULL);
  fail_unless_equals_int (cancel->status, 202);
  status = fal_wait_completed (session, fal_reply_string (one,
          "status_url"), NULL);
  fail_unless_equals_string (fal_reply_string (status, "error_type"),
      "client_cancelled");
  result = fal_http (session, "GET", fal_reply_string (one,
          "response_url"), NULL, NULL);
  fail_unless_equals_int (result->status, 499);
  fail_unless_equals_string (fal_reply_header (result, "X-Fal-Error-Type"),
      "client_cancelled");

  again = fal_http (session, "PUT", fal_reply_string (one, "cancel_url"),
      NULL, NULL);
  fail_unless_equals_int (again->status, 400);
  fail_unless_equals_string (fal_reply_string (again, "status"),
      "ALREADY_COMPLETED");

  unknown_url = fal_url (server,
      "/queue/local/sleep/requests/00000000-0000-4000-8000-000000000000/cancel");
  unknown = fal_http (session, "PUT", unknown_url, NULL, NULL);
  fail_unless_equals_int (unknown->status, 404);

  g_clear_pointer (&cancel, fal_reply_free);
  cancel = fal_http (session, "PUT", fal_reply_string (two, "cancel_url"),
      NULL, NULL);
  fail_unless_equals_int (cancel->status, 202);
}

GST_END_TEST;

GST_START_TEST (test_start_timeout)
{
  const gchar *timeout[] = { "X-Fal-Request-Timeout", "0.2", NULL };
  g_autoptr (FalReply) busy1 = submit ("local/sleep", "{\"seconds\": 60}",
      NULL);
  g_autoptr (FalReply) busy2 = submit ("local/sleep", "{\"seconds\": 60}",
      NULL);
  g_autoptr (FalReply) late = submit ("local/echo", "{}", timeout);
  g_autoptr (FalReply) status = fal_wait_completed (session,
      fal_reply_string (late, "status_url"), NULL);
  g_autoptr (FalReply) result = NULL;
  g_autoptr (FalReply) bad = submit ("local/echo", "{}", (const gchar *[]) {
        "X-Fal-Request-Timeout", "soon", NULL
      });

  fail_unless_equals_string (fal_reply_string (status, "error_type"),
      "request_timeout");
  result = fal_http (session, "GET", fal_reply_string (late, "response_url"),
      NULL, NULL);
  fail_unless_equals_int (result->status, 504);
  fail_unless_equals_string (fal_reply_header (result,
          "X-Fal-Request-Timeout-Type"), "user");
  fail_unless_equals_int (bad->status, 400);

  /* a sync run waits in the same queue, with the same deadline */
  {
    g_autofree gchar *run_url = fal_url (server, "/run/local/echo");
    g_autoptr (FalReply) run = NULL;

    fal_wait_started (session, fal_reply_string (busy1, "status_url"));
    fal_wait_started (session, fal_reply_string (busy2, "status_url"));
    run = fal_http (session, "POST", run_url, "{}", timeout);
    fail_unless_equals_int (run->status, 504);
    fail_unless_equals_string (fal_reply_header (run,
            "X-Fal-Request-Timeout-Type"), "user");
    fail_unless_equals_string (fal_reply_string (run, "error_type"),
        "request_timeout");
  }
}

GST_END_TEST;

GST_START_TEST (test_max_queue_length)
{
  g_autoptr (FalReply) busy1 = submit ("local/sleep", "{\"seconds\": 60}",
      NULL);
  g_autoptr (FalReply) busy2 = submit ("local/sleep", "{\"seconds\": 60}",
      NULL);
  g_autoptr (FalReply) waiting = NULL;
  g_autoptr (FalReply) refused = NULL;

  fal_wait_started (session, fal_reply_string (busy1, "status_url"));
  fal_wait_started (session, fal_reply_string (busy2, "status_url"));
  waiting = submit ("local/echo?fal_max_queue_length=1", "{}", NULL);
  fail_unless_equals_int (waiting->status, 200);
  refused = submit ("local/echo?fal_max_queue_length=1", "{}", NULL);
  fail_unless_equals_int (refused->status, 429);
}

GST_END_TEST;

GST_START_TEST (test_errors)
{
  g_autoptr (FalReply) unknown_app = submit ("local/nope", "{}", NULL);
  g_autoptr (FalReply) bad_json = submit ("local/echo", "{oops", NULL);
  g_autoptr (FalReply) not_object = submit ("local/echo", "[1]", NULL);
  g_autofree gchar *run_url = fal_url (server, "/run/local/sleep");
  g_autoptr (FalReply) invalid = fal_http (session, "POST", run_url,
      "{\"seconds\": \"long\"}", NULL);
  g_autofree gchar *status_url = fal_url (server,
      "/queue/local/echo/requests/00000000-0000-4000-8000-000000000000/status");
  g_autoptr (FalReply) unknown_request = fal_http (session, "GET", status_url,
      NULL, NULL);
  JsonNode *detail;

  fail_unless_equals_int (unknown_app->status, 404);
  fail_unless (fal_reply_string (unknown_app, "detail") != NULL);
  fail_unless_equals_int (bad_json->status, 400);
  fail_unless_equals_int (not_object->status, 422);
  fail_unless_equals_int (invalid->status, 422);
  detail = json_object_get_member (fal_reply_object (invalid), "detail");
  fail_unless (JSON_NODE_HOLDS_ARRAY (detail));
  {
    JsonObject *one =
        json_array_get_object_element (json_node_get_array (detail), 0);

    fail_unless (json_object_has_member (one, "loc"));
    fail_unless (json_object_has_member (one, "msg"));
    fail_unless (json_object_has_member (one, "type"));
  }
  fail_unless_equals_int (unknown_request->status, 404);
}

GST_END_TEST;

GST_START_TEST (test_max_body)
{
  GstFalServer *small = g_object_new (GST_FAL_TYPE_SERVER, "max-body",
      (guint64) 1024, NULL);
  g_autofree gchar *big = g_strnfill (4096, 'x');
  g_autofree gchar *input = g_strdup_printf ("{\"x\": \"%s\"}", big);
  g_autofree gchar *url = NULL;
  g_autoptr (FalReply) reply = NULL;
  g_autoptr (FalReply) fine = NULL;

  fail_unless (gst_fal_server_start (small, NULL));
  url = fal_url (small, "/run/local/echo");
  reply = fal_http (session, "POST", url, input, NULL);
  fail_unless_equals_int (reply->status, 413);
  fine = fal_http (session, "POST", url, "{\"x\": 1}", NULL);
  fail_unless_equals_int (fine->status, 200);
  g_object_unref (small);
}

GST_END_TEST;

GST_START_TEST (test_auth)
{
  GstFalServer *keyed = fal_test_server_new (1, "test-key");
  g_autofree gchar *url = fal_url (keyed, "/run/local/echo");
  const gchar *good[] = { "Authorization", "Key test-key", NULL };
  const gchar *bearer[] = { "Authorization", "Bearer test-key", NULL };
  const gchar *wrong[] = { "Authorization", "Key other", NULL };
  g_autoptr (FalReply) none = fal_http (session, "POST", url, "{}", NULL);
  g_autoptr (FalReply) bad = fal_http (session, "POST", url, "{}", wrong);
  g_autoptr (FalReply) ok = fal_http (session, "POST", url, "{}", good);
  g_autoptr (FalReply) ok2 = fal_http (session, "POST", url, "{}", bearer);
  g_autofree gchar *token_url = fal_url (keyed, "/rest/tokens/");
  g_autoptr (FalReply) token = fal_http (session, "POST", token_url,
      "{\"allowed_apps\": [\"echo\"], \"token_expiration\": 120}", good);
  g_autofree gchar *jwt_url = NULL;
  g_autoptr (FalReply) by_token = NULL;

  fail_unless_equals_int (none->status, 401);
  fail_unless (fal_reply_string (none, "detail") != NULL);
  fail_unless_equals_int (bad->status, 401);
  fail_unless_equals_int (ok->status, 200);
  fail_unless_equals_int (ok2->status, 200);
  fail_unless_equals_int (token->status, 200);
  fail_unless (JSON_NODE_HOLDS_VALUE (token->json));
  jwt_url = g_strdup_printf ("%s?fal_jwt_token=%s", url,
      json_node_get_string (token->json));
  /* a realtime token opens only the realtime route of its app */
  by_token = fal_http (session, "POST", jwt_url, "{}", NULL);
  fail_unless_equals_int (by_token->status, 403);
  g_object_unref (keyed);
}

GST_END_TEST;

GST_START_TEST (test_refuse_public_bind)
{
  GstFalServer *open = g_object_new (GST_FAL_TYPE_SERVER, "bind-address",
      "0.0.0.0", NULL);
  GError *error = NULL;

  fail_if (gst_fal_server_start (open, &error));
  fail_unless (error != NULL);
  g_clear_error (&error);
  g_object_unref (open);
}

GST_END_TEST;

/* Reads an SSE body into its data lines. */
static GPtrArray *
sse_events (GBytes * body)
{
  g_autofree gchar *text = g_strndup (g_bytes_get_data (body, NULL),
      g_bytes_get_size (body));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "data: "))
      g_ptr_array_add (events, g_strdup (lines[i] + 6));
  return events;
}

GST_START_TEST (test_status_stream)
{
  g_autoptr (FalReply) reply = submit ("local/sleep",
      "{\"seconds\": 0.3, \"logs\": 3}", NULL);
  g_autofree gchar *url = g_strconcat (fal_reply_string (reply,
          "status_url"), "/stream?logs=1", NULL);
  g_autoptr (FalReply) stream = fal_http (session, "GET", url, NULL, NULL);
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (JsonNode) last = NULL;
  g_autoptr (GHashTable) messages = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  guint i, log_count = 0;

  fail_unless_equals_int (stream->status, 200);
  fail_unless (g_str_has_prefix (fal_reply_header (stream, "Content-Type"),
          "text/event-stream"));
  events = sse_events (stream->body);
  fail_unless (events->len >= 1);
  /* each event carries the log lines not sent before, once each */
  for (i = 0; i < events->len; i++) {
    g_autoptr (JsonNode) event = json_from_string (g_ptr_array_index (events,
            i), NULL);
    JsonObject *object = json_node_get_object (event);
    JsonNode *logs = json_object_get_member (object, "logs");

    if (logs && JSON_NODE_HOLDS_ARRAY (logs)) {
      JsonArray *lines = json_node_get_array (logs);
      guint j;

      for (j = 0; j < json_array_get_length (lines); j++) {
        const gchar *message = json_object_get_string_member
            (json_array_get_object_element (lines, j), "message");

        fail_if (g_hash_table_contains (messages, message), "%s twice",
            message);
        g_hash_table_add (messages, g_strdup (message));
        log_count++;
      }
    }
    if (i + 1 < events->len)
      fail_if (!strcmp (json_object_get_string_member (object, "status"),
              "COMPLETED"));
  }
  fail_unless_equals_int (log_count, 3);
  last = json_from_string (g_ptr_array_index (events, events->len - 1), NULL);
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (last), "status"), "COMPLETED");
}

GST_END_TEST;

GST_START_TEST (test_run_and_stream)
{
  g_autofree gchar *run_url = fal_url (server, "/run/local/echo/x");
  g_autofree gchar *stream_url = fal_url (server, "/run/local/counter/stream");
  g_autofree gchar *fail_url = fal_url (server, "/run/local/fail");
  g_autoptr (FalReply) run = fal_http (session, "POST", run_url,
      "{\"value\": 42}", NULL);
  g_autoptr (FalReply) stream = fal_http (session, "POST", stream_url,
      "{\"count\": 3, \"interval\": 0.01}", NULL);
  g_autoptr (FalReply) failed = fal_http (session, "POST", fail_url,
      "{\"status\": 500, \"detail\": \"nope\"}", NULL);
  g_autoptr (GPtrArray) events = NULL;

  fail_unless_equals_int (run->status, 200);
  fail_unless (fal_reply_header (run, "x-fal-request-id") != NULL);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object (run),
          "value"), 42);
  fail_unless_equals_int (stream->status, 200);
  fail_unless (g_str_has_prefix (fal_reply_header (stream, "Content-Type"),
          "text/event-stream"));
  events = sse_events (stream->body);
  /* three partial events and the final output */
  fail_unless_equals_int (events->len, 4);
  fail_unless_equals_int (failed->status, 500);
  fail_unless_equals_string (fal_reply_string (failed, "detail"), "nope");
}

GST_END_TEST;

/* Every emitted partial output is its own event, in order, even when the
 * app emits them back to back. */
GST_START_TEST (test_stream_interval_zero)
{
  g_autofree gchar *url = fal_url (server, "/run/local/counter/stream");
  guint counts[] = { 3, 20 }, c, i;

  for (c = 0; c < G_N_ELEMENTS (counts); c++) {
    g_autofree gchar *input = g_strdup_printf ("{\"count\": %u, "
        "\"interval\": 0}", counts[c]);
    g_autoptr (FalReply) stream = fal_http (session, "POST", url, input, NULL);
    g_autoptr (GPtrArray) events = NULL;

    fail_unless_equals_int (stream->status, 200);
    events = sse_events (stream->body);
    fail_unless_equals_int (events->len, counts[c] + 1);
    for (i = 0; i < events->len; i++) {
      g_autoptr (JsonNode) event =
          json_from_string (g_ptr_array_index (events, i), NULL);
      JsonObject *object = json_node_get_object (event);

      fail_unless_equals_int (json_object_get_int_member (object, "count"),
          counts[c]);
      if (i < counts[c]) {
        fail_unless_equals_int (json_object_get_int_member (object, "index"),
            i);
      } else {
        fail_if (json_object_has_member (object, "index"));
      }
    }
  }
}

GST_END_TEST;

typedef struct
{
  gchar *url;
  GCancellable *cancellable;
} AbandonedRun;

/* A client that sends a run and waits until it gives up. TRUE if the run
 * ended cancelled, as the test expects. */
static gpointer
abandoned_run_main (gpointer data)
{
  AbandonedRun *run = data;
  GMainContext *context = g_main_context_new ();
  SoupSession *own_session;
  SoupMessage *msg;
  g_autoptr (GBytes) body = g_bytes_new_static ("{\"seconds\": 3600}", 17);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (context);
  own_session = fal_test_session_new ();
  msg = soup_message_new ("POST", run->url);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  answer = soup_session_send_and_read (own_session, msg, run->cancellable,
      &error);
  g_object_unref (msg);
  g_object_unref (own_session);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return GINT_TO_POINTER (answer == NULL && g_error_matches (error,
          G_IO_ERROR, G_IO_ERROR_CANCELLED));
}

/* Polls a waiting request's status until its queue position is @position. */
static void
wait_queue_position (SoupSession * own_session, const gchar * status_url,
    gint64 position)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (FalReply) reply = fal_http (own_session, "GET", status_url,
        NULL, NULL);
    JsonObject *object = fal_reply_object (reply);

    fail_unless_equals_string (json_object_get_string_member (object,
            "status"), "IN_QUEUE");
    if (json_object_get_int_member (object, "queue_position") == position)
      return;
    g_usleep (10 * 1000);
  }
  fail ("%s never reached queue position %" G_GINT64_FORMAT, status_url,
      position);
}

/* Waits until one request waits in @local's queue: a probe limited to one
 * waiting request is refused then, and cancelled at once otherwise. */
static void
wait_one_waiting (GstFalServer * local)
{
  g_autofree gchar *url = fal_url (local,
      "/queue/local/echo?fal_max_queue_length=1");
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (FalReply) probe = fal_http (session, "POST", url, "{}", NULL);
    g_autoptr (FalReply) cancel = NULL;

    if (probe->status == 429)
      return;
    fail_unless_equals_int (probe->status, 200);
    cancel = fal_http (session, "PUT", fal_reply_string (probe, "cancel_url"),
        NULL, NULL);
    fail_unless_equals_int (cancel->status, 202);
    g_usleep (10 * 1000);
  }
  fail ("no request ever waited");
}

/* A sync run (or stream) whose client goes away is cancelled: the only
 * worker is free again for the next request. */
static void
check_abandoned_run_frees_worker (const gchar * path)
{
  GstFalServer *local = fal_test_server_new (1, NULL);
  g_autofree gchar *queue_sleep = fal_url (local, "/queue/local/sleep");
  g_autofree gchar *run_echo = fal_url (local, "/run/local/echo");
  AbandonedRun run = { fal_url (local, path), g_cancellable_new () };
  g_autoptr (FalReply) blocker = fal_http (session, "POST", queue_sleep,
      "{\"seconds\": 3600}", NULL);
  g_autoptr (FalReply) waiter = NULL;
  g_autoptr (FalReply) cancel = NULL;
  g_autoptr (FalReply) done = NULL;
  g_autoptr (FalReply) echoed = NULL;
  GThread *client;

  /* the runner is busy, so the run waits first in line behind the blocker,
   * and the waiter (of the same app) behind the run */
  fal_wait_started (session, fal_reply_string (blocker, "status_url"));
  client = g_thread_new ("abandoned-run", abandoned_run_main, &run);
  wait_one_waiting (local);
  waiter = fal_http (session, "POST", queue_sleep, "{\"seconds\": 0}", NULL);
  wait_queue_position (session, fal_reply_string (waiter, "status_url"), 1);
  /* the blocker ends: the runner takes the run, the waiter is next */
  cancel = fal_http (session, "PUT", fal_reply_string (blocker, "cancel_url"),
      NULL, NULL);
  fail_unless_equals_int (cancel->status, 202);
  wait_queue_position (session, fal_reply_string (waiter, "status_url"), 0);

  /* the client gives up on its hour-long run */
  g_cancellable_cancel (run.cancellable);
  fail_unless (GPOINTER_TO_INT (g_thread_join (client)));

  done = fal_wait_completed (session, fal_reply_string (waiter, "status_url"),
      NULL);
  fail_unless_equals_string (fal_reply_string (done, "status"), "COMPLETED");
  echoed = fal_http (session, "POST", run_echo, "{\"again\": 2}", NULL);
  fail_unless_equals_int (echoed->status, 200);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object
          (echoed), "again"), 2);

  gst_fal_server_stop (local);
  g_object_unref (local);
  g_object_unref (run.cancellable);
  g_free (run.url);
}

GST_START_TEST (test_abandoned_run)
{
  check_abandoned_run_frees_worker ("/run/local/sleep");
}

GST_END_TEST;

GST_START_TEST (test_abandoned_stream)
{
  check_abandoned_run_frees_worker ("/run/local/sleep/stream");
}

GST_END_TEST;

GST_START_TEST (test_openapi)
{
  g_autofree gchar *url = fal_url (server, "/queue/local/echo/openapi.json");
  g_autofree gchar *run_url = fal_url (server, "/run/local/sleep/openapi.json");
  g_autoptr (FalReply) reply = fal_http (session, "GET", url, NULL, NULL);
  g_autoptr (FalReply) run = fal_http (session, "GET", run_url, NULL, NULL);

  fail_unless_equals_int (reply->status, 200);
  fail_unless (json_object_has_member (fal_reply_object (reply), "openapi"));
  fail_unless_equals_int (run->status, 200);
}

GST_END_TEST;

/* ---- webhooks: a receiver on its own thread ---- */

typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *bodies;
  guint failures_left;          /* answer 500 this many times first */
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *soup;
  gchar *url;
} Receiver;

static void
receiver_cb (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  Receiver *receiver = data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  g_mutex_lock (&receiver->lock);
  if (receiver->failures_left > 0) {
    receiver->failures_left--;
    soup_server_message_set_status (msg, 500, NULL);
  } else {
    g_ptr_array_add (receiver->bodies, g_strndup (body->data, body->length));
    fail_unless (soup_message_headers_get_one
        (soup_server_message_get_request_headers (msg),
            "X-Fal-Webhook-Request-Id") != NULL);
    soup_server_message_set_status (msg, 200, NULL);
    g_cond_broadcast (&receiver->cond);
  }
  g_mutex_unlock (&receiver->lock);
}

static gpointer
receiver_thread (gpointer data)
{
  Receiver *receiver = data;

  g_main_context_push_thread_default (receiver->context);
  g_main_loop_run (receiver->loop);
  g_main_context_pop_thread_default (receiver->context);
  return NULL;
}

GST_START_TEST (test_webhook)
{
  Receiver receiver = { 0, };
  GSList *uris;
  GThread *thread;
  g_autofree gchar *submit_path = NULL;
  g_autofree gchar *escaped = NULL;
  g_autoptr (FalReply) reply = NULL;
  g_autoptr (JsonNode) payload = NULL;
  JsonObject *object;
  gint64 deadline;

  g_mutex_init (&receiver.lock);
  g_cond_init (&receiver.cond);
  receiver.bodies = g_ptr_array_new_with_free_func (g_free);
  receiver.failures_left = 1;
  receiver.context = g_main_context_new ();
  receiver.loop = g_main_loop_new (receiver.context, FALSE);
  receiver.soup = soup_server_new (NULL, NULL);
  soup_server_add_handler (receiver.soup, NULL, receiver_cb, &receiver, NULL);
  g_main_context_push_thread_default (receiver.context);
  fail_unless (soup_server_listen_local (receiver.soup, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  g_main_context_pop_thread_default (receiver.context);
  uris = soup_server_get_uris (receiver.soup);
  receiver.url = g_strdup_printf ("http://127.0.0.1:%d/hook",
      g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  thread = g_thread_new ("receiver", receiver_thread, &receiver);

  escaped = g_uri_escape_string (receiver.url, NULL, FALSE);
  submit_path = g_strdup_printf ("local/echo?fal_webhook=%s", escaped);
  reply = submit (submit_path, "{\"hook\": true}", NULL);
  fail_unless_equals_int (reply->status, 200);

  /* the first delivery fails, a retry succeeds */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_mutex_lock (&receiver.lock);
  while (receiver.bodies->len == 0)
    fail_unless (g_cond_wait_until (&receiver.cond, &receiver.lock, deadline));
  payload = json_from_string (g_ptr_array_index (receiver.bodies, 0), NULL);
  g_mutex_unlock (&receiver.lock);
  object = json_node_get_object (payload);
  fail_unless_equals_string (json_object_get_string_member (object,
          "request_id"), fal_reply_string (reply, "request_id"));
  fail_unless_equals_string (json_object_get_string_member (object, "status"),
      "OK");
  fail_unless (json_object_get_boolean_member (json_object_get_object_member
          (object, "payload"), "hook"));

  g_main_loop_quit (receiver.loop);
  g_thread_join (thread);
  g_object_unref (receiver.soup);
  g_main_loop_unref (receiver.loop);
  g_main_context_unref (receiver.context);
  g_ptr_array_unref (receiver.bodies);
  g_free (receiver.url);
  g_mutex_clear (&receiver.lock);
  g_cond_clear (&receiver.cond);
}

GST_END_TEST;

GST_START_TEST (test_stop_cancels)
{
  GstFalServer *local = fal_test_server_new (1, NULL);
  g_autofree gchar *url = fal_url (local, "/queue/local/sleep");
  g_autoptr (FalReply) running = fal_http (session, "POST", url,
      "{\"seconds\": 60}", NULL);
  g_autoptr (FalReply) waiting = fal_http (session, "POST", url,
      "{\"seconds\": 60}", NULL);

  fal_wait_started (session, fal_reply_string (running, "status_url"));
  /* returns once the running app has been stopped */
  gst_fal_server_stop (local);
  g_object_unref (local);
}

GST_END_TEST;

GST_START_TEST (test_default_server)
{
  GError *error = NULL;
  GstFalServer *one = gst_fal_server_get_default (&error);
  GstFalServer *two = gst_fal_server_get_default (&error);
  g_autofree gchar *url = NULL;
  g_autoptr (FalReply) reply = NULL;
  g_autoptr (GPtrArray) apps = gst_fal_server_list_apps (one);

  fail_unless (one != NULL);
  fail_unless (one == two);
  url = fal_url (one, "/run/local/echo");
  reply = fal_http (session, "POST", url, "{\"d\": 1}", NULL);
  fail_unless_equals_int (reply->status, 200);
  fail_unless (apps->len >= 4);
  g_object_unref (one);
  g_object_unref (two);
}

GST_END_TEST;

GST_START_TEST (test_priority)
{
  const gchar *low[] = { "X-Fal-Queue-Priority", "low", NULL };
  const gchar *normal[] = { "X-Fal-Queue-Priority", "normal", NULL };
  g_autoptr (FalReply) busy1 = submit ("local/sleep", "{\"seconds\": 60}",
      NULL);
  g_autoptr (FalReply) busy2 = submit ("local/sleep", "{\"seconds\": 60}",
      NULL);
  g_autoptr (FalReply) later = NULL;
  g_autoptr (FalReply) sooner = NULL;
  g_autoptr (FalReply) later_status = NULL;
  g_autoptr (FalReply) sooner_status = NULL;

  fal_wait_started (session, fal_reply_string (busy1, "status_url"));
  fal_wait_started (session, fal_reply_string (busy2, "status_url"));
  later = submit ("local/echo", "{}", low);
  sooner = submit ("local/echo", "{}", normal);
  /* the normal request goes ahead of the low one submitted before it */
  later_status = fal_http (session, "GET", fal_reply_string (later,
          "status_url"), NULL, NULL);
  sooner_status = fal_http (session, "GET", fal_reply_string (sooner,
          "status_url"), NULL, NULL);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object
          (sooner_status), "queue_position"), 0);
  fail_unless_equals_int (json_object_get_int_member (fal_reply_object
          (later_status), "queue_position"), 1);
}

GST_END_TEST;

GST_START_TEST (test_status_stream_keepalive)
{
  g_autoptr (FalReply) reply = submit ("local/sleep",
      "{\"seconds\": 16.5}", NULL);
  g_autofree gchar *url = g_strconcat (fal_reply_string (reply,
          "status_url"), "/stream", NULL);
  g_autoptr (FalReply) stream = fal_http (session, "GET", url, NULL, NULL);
  g_autofree gchar *text = g_strndup (g_bytes_get_data (stream->body, NULL),
      g_bytes_get_size (stream->body));

  /* a comment every 15 s while nothing changes */
  fail_unless_equals_int (stream->status, 200);
  fail_unless (strstr (text, "\n: keepalive\n") != NULL
      || g_str_has_prefix (text, ": keepalive\n"), "%s", text);
  fail_unless (strstr (text, "\"COMPLETED\"") != NULL);
}

GST_END_TEST;

GST_START_TEST (test_stream_errors)
{
  g_autofree gchar *fail_url = fal_url (server, "/run/local/fail/stream");
  g_autofree gchar *echo_url = fal_url (server, "/run/local/echo/stream");
  g_autoptr (FalReply) failed = fal_http (session, "POST", fail_url,
      "{\"status\": 418, \"detail\": \"teapot\"}", NULL);
  g_autoptr (FalReply) echo = fal_http (session, "POST", echo_url,
      "{\"only\": \"final\"}", NULL);
  g_autoptr (GPtrArray) events = NULL;

  /* an error before any event is a plain HTTP error */
  fail_unless_equals_int (failed->status, 418);
  fail_unless_equals_string (fal_reply_string (failed, "detail"), "teapot");
  /* no partial output: the final one only */
  fail_unless_equals_int (echo->status, 200);
  events = sse_events (echo->body);
  fail_unless_equals_int (events->len, 1);
  fail_unless_equals_string (g_ptr_array_index (events, 0),
      "{\"only\":\"final\"}");
}

GST_END_TEST;

/* ---- the same endpoints through the client library (gst/fal) ---- */

static void
count_status (GstFalRequest * request, GstFalStatus * status, gpointer data)
{
  guint *count = data;

  (*count)++;
}

static void
count_event (JsonNode * event, gpointer data)
{
  guint *count = data;

  (*count)++;
}

GST_START_TEST (test_client_library)
{
  GstFalClient *client =
      gst_fal_client_new_for_url (gst_fal_server_get_url (server));
  g_autoptr (JsonNode) input = json_from_string ("{\"lib\": \"gst-fal\"}",
      NULL);
  g_autoptr (JsonNode) sleep_input =
      json_from_string ("{\"seconds\": 0.2, \"logs\": 2}", NULL);
  g_autoptr (JsonNode) long_input = json_from_string ("{\"seconds\": 60}",
      NULL);
  g_autoptr (JsonNode) count_input =
      json_from_string ("{\"count\": 3, \"interval\": 0.01}", NULL);
  g_autoptr (GBytes) data = g_bytes_new_static ("uploaded by the library", 23);
  g_autoptr (JsonNode) output = NULL;
  g_autoptr (JsonNode) subscribed = NULL;
  g_autoptr (JsonNode) last = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (FalReply) download = NULL;
  g_autofree gchar *url = NULL;
  GstFalRequest *request;
  GstFalStatus *status;
  GError *error = NULL;
  guint updates = 0, events = 0;

  output = gst_fal_client_run (client, "local/echo", input, NULL, NULL, &error);
  fail_unless (output != NULL, "%s", error ? error->message : "");
  fail_unless (json_node_equal (output, input));

  subscribed = gst_fal_client_subscribe (client, "local/sleep", sleep_input,
      NULL, count_status, &updates, NULL, &error);
  fail_unless (subscribed != NULL, "%s", error ? error->message : "");
  fail_unless_equals_float (json_object_get_double_member
      (json_node_get_object (subscribed), "slept"), 0.2);
  fail_unless (updates >= 1);

  last = gst_fal_client_stream (client, "local/counter", count_input, NULL,
      count_event, &events, NULL, &error);
  fail_unless (last != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (events, 4);

  request = gst_fal_client_submit (client, "local/sleep", long_input, NULL,
      NULL, &error);
  fail_unless (request != NULL, "%s", error ? error->message : "");
  fail_unless (gst_fal_client_cancel (client, "local/sleep",
          gst_fal_request_get_request_id (request), NULL, &error));
  status = gst_fal_request_wait (request, NULL, NULL, NULL, NULL, &error);
  fail_unless (status != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (gst_fal_status_get_kind (status),
      GST_FAL_STATUS_COMPLETED);
  fail_unless_equals_string (gst_fal_status_get_error_type (status),
      "client_cancelled");
  gst_fal_status_unref (status);
  result = gst_fal_client_result (client, "local/sleep",
      gst_fal_request_get_request_id (request), NULL, &error);
  fail_unless (result == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  g_object_unref (request);

  url = gst_fal_client_upload_bytes (client, data, "text/plain", "lib.txt",
      NULL, &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  download = fal_http (session, "GET", url, NULL, NULL);
  fail_unless_equals_int (download->status, 200);
  fail_unless (g_bytes_equal (download->body, data));
  g_object_unref (client);
}

GST_END_TEST;

static Suite *
protocol_suite (void)
{
  Suite *s = suite_create ("server-protocol");
  TCase *tc = tcase_create ("protocol");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_submit_fields);
  tcase_add_test (tc, test_status_and_result);
  tcase_add_test (tc, test_failure_replayed);
  tcase_add_test (tc, test_cancel);
  tcase_add_test (tc, test_start_timeout);
  tcase_add_test (tc, test_max_queue_length);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_max_body);
  tcase_add_test (tc, test_auth);
  tcase_add_test (tc, test_refuse_public_bind);
  tcase_add_test (tc, test_status_stream);
  tcase_add_test (tc, test_run_and_stream);
  tcase_add_test (tc, test_stream_interval_zero);
  tcase_add_test (tc, test_abandoned_run);
  tcase_add_test (tc, test_abandoned_stream);
  tcase_add_test (tc, test_openapi);
  tcase_add_test (tc, test_webhook);
  tcase_add_test (tc, test_stop_cancels);
  tcase_add_test (tc, test_default_server);
  tcase_add_test (tc, test_priority);
  tcase_add_test (tc, test_status_stream_keepalive);
  tcase_add_test (tc, test_stream_errors);
  tcase_add_test (tc, test_client_library);
  return s;
}

GST_CHECK_MAIN (protocol);
