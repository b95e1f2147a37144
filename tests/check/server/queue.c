/* The server's request state machine and the runners' queues, without HTTP. */
#include "falservertest.h"
#include "gst/falserver/gstfalserver-private.h"
#include "gst/falserver/gstfalrunners-private.h"

static JsonNode *
echo_run (GstFalAppCall * call, gpointer data, GError ** error)
{
  return json_node_copy (gst_fal_app_call_get_input (call));
}

static JsonNode *
logging_run (GstFalAppCall * call, gpointer data, GError ** error)
{
  JsonNode *partial = json_from_string ("{\"partial\": 1}", NULL);

  gst_fal_app_call_log (call, "INFO", "step %d", 1);
  gst_fal_app_call_emit (call, partial);
  json_node_unref (partial);
  g_set_error (error, GST_FAL_APP_ERROR, 422, "bad input");
  return NULL;
}

static JsonNode *
failing_run (GstFalAppCall * call, gpointer data, GError ** error)
{
  JsonNode *detail = json_from_string ("{\"reason\": \"teapot\"}", NULL);

  gst_fal_app_call_fail (call, 418, detail, "teapot_error");
  json_node_unref (detail);
  g_set_error (error, GST_FAL_APP_ERROR, 418, "teapot");
  return NULL;
}

static JsonNode *
broken_run (GstFalAppCall * call, gpointer data, GError ** error)
{
  g_set_error (error, GST_FAL_APP_ERROR, 500, "The pipeline failed");
  return NULL;
}

static const GstFalAppInfo echo_app = {
  "test/echo", "echo", "{}", "{}", echo_run, NULL, NULL
};

static GstFalServerRequest *
new_request (const GstFalAppInfo * app, const gchar * input, gboolean low)
{
  g_autoptr (JsonNode) node = json_from_string (input, NULL);
  GstFalServerRequest *request =
      gst_fal_server_request_new (app->name, app->name, "",
      "http://127.0.0.1:1", app, node, GST_FAL_SERVER_REQUEST_KIND_QUEUE);

  request->low_priority = low;
  return request;
}

/* A serve callback that records the order and holds the runner until
 * released. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *served;            /* (element-type GstFalServerRequest) */
  gboolean hold;
} Server;

static gboolean
held_serve (GstFalServerRequest * request, gpointer runner, gpointer data)
{
  Server *server = data;

  g_mutex_lock (&server->lock);
  g_ptr_array_add (server->served, gst_fal_server_request_ref (request));
  g_cond_broadcast (&server->cond);
  while (server->hold)
    g_cond_wait (&server->cond, &server->lock);
  g_mutex_unlock (&server->lock);
  return TRUE;
}

static void
no_refuse (GstFalServerRequest * request, const GError * error, gpointer data)
{
  g_assert_not_reached ();
}

static void
wait_served (Server * server, guint n)
{
  g_mutex_lock (&server->lock);
  while (server->served->len < n)
    g_cond_wait (&server->cond, &server->lock);
  g_mutex_unlock (&server->lock);
}

static void
release (Server * server)
{
  g_mutex_lock (&server->lock);
  server->hold = FALSE;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
}

static GstFalRunners *
held_runners (Server * server, guint max_runners)
{
  static const GstFalAppScaling defaults = { 0, 0, 60 };

  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  server->served = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_fal_server_request_unref);
  server->hold = TRUE;
  return gst_fal_runners_new (max_runners, &defaults, held_serve, no_refuse,
      server);
}

static void
server_clear (Server * server)
{
  g_ptr_array_unref (server->served);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
}

static const GstFalAppInfo other_app = {
  "test/other", "echo", "{}", "{}", echo_run, NULL, NULL
};

/* The one runner is busy: the others wait, normal before low, each app's
 * positions its own. */
GST_START_TEST (test_priorities)
{
  Server server = { 0 };
  GstFalRunners *runners = held_runners (&server, 1);
  GstFalServerRequest *busy = new_request (&echo_app, "{}", FALSE);
  GstFalServerRequest *low = new_request (&echo_app, "{}", TRUE);
  GstFalServerRequest *normal1 = new_request (&echo_app, "{}", FALSE);
  GstFalServerRequest *normal2 = new_request (&echo_app, "{}", FALSE);
  GstFalServerRequest *other = new_request (&other_app, "{}", FALSE);
  GstFalServerRequest *extra;
  GList *rest;

  fail_unless (gst_fal_runners_push (runners, busy, 0));
  wait_served (&server, 1);
  fail_unless_equals_int (gst_fal_runners_position (runners, busy), -1);
  fail_unless (gst_fal_runners_push (runners, low, 0));
  fail_unless (gst_fal_runners_push (runners, normal1, 0));
  fail_unless (gst_fal_runners_push (runners, normal2, 0));
  fail_unless (gst_fal_runners_push (runners, other, 0));
  fail_unless_equals_int (gst_fal_runners_waiting (runners), 4);
  /* normal before low, in arrival order; another app's queue apart */
  fail_unless_equals_int (gst_fal_runners_position (runners, normal1), 0);
  fail_unless_equals_int (gst_fal_runners_position (runners, normal2), 1);
  fail_unless_equals_int (gst_fal_runners_position (runners, low), 2);
  fail_unless_equals_int (gst_fal_runners_position (runners, other), 0);
  /* fal_max_queue_length counts the waiting requests of all apps */
  extra = new_request (&other_app, "{}", FALSE);
  fail_if (gst_fal_runners_push (runners, extra, 4));
  fail_unless (gst_fal_runners_push (runners, extra, 5));
  fail_unless (gst_fal_runners_remove (runners, extra));
  gst_fal_server_request_unref (extra);

  fail_unless (gst_fal_runners_remove (runners, normal2));
  fail_if (gst_fal_runners_remove (runners, normal2));
  fail_unless_equals_int (gst_fal_runners_position (runners, normal2), -1);
  fail_unless_equals_int (gst_fal_runners_position (runners, low), 1);

  /* served in order, the single runner making room for the other app */
  release (&server);
  wait_served (&server, 4);
  fail_unless (g_ptr_array_index (server.served, 1) == normal1);
  fail_unless (g_ptr_array_index (server.served, 2) == low);
  fail_unless (g_ptr_array_index (server.served, 3) == other);

  rest = gst_fal_runners_close (runners);
  fail_unless (rest == NULL);
  fail_if (gst_fal_runners_push (runners, normal1, 0));
  gst_fal_runners_free (runners);

  gst_fal_server_request_unref (busy);
  gst_fal_server_request_unref (low);
  gst_fal_server_request_unref (normal1);
  gst_fal_server_request_unref (normal2);
  gst_fal_server_request_unref (other);
  server_clear (&server);
}

GST_END_TEST;

/* close hands back the waiting requests; the busy runner ends after its
 * request. */
GST_START_TEST (test_close)
{
  Server server = { 0 };
  GstFalRunners *runners = held_runners (&server, 1);
  GstFalServerRequest *busy = new_request (&echo_app, "{}", FALSE);
  GstFalServerRequest *waiting = new_request (&echo_app, "{}", FALSE);
  GList *rest;

  fail_unless (gst_fal_runners_push (runners, busy, 0));
  wait_served (&server, 1);
  fail_unless (gst_fal_runners_push (runners, waiting, 0));
  rest = gst_fal_runners_close (runners);
  fail_unless_equals_int (g_list_length (rest), 1);
  fail_unless (rest->data == waiting);
  g_list_free_full (rest, (GDestroyNotify) gst_fal_server_request_unref);
  release (&server);
  gst_fal_runners_join (runners);
  fail_unless_equals_int (server.served->len, 1);
  gst_fal_runners_free (runners);
  gst_fal_server_request_unref (busy);
  gst_fal_server_request_unref (waiting);
  server_clear (&server);
}

GST_END_TEST;

GST_START_TEST (test_state_machine)
{
  GstFalServerRequest *request = new_request (&echo_app, "{\"v\": 7}", FALSE);
  JsonNode *status;
  JsonObject *object;
  JsonNode *body = NULL;
  gchar *error_type = NULL;

  status = gst_fal_server_request_build_status (request, FALSE, 0, 4);
  object = json_node_get_object (status);
  fail_unless_equals_string (json_object_get_string_member (object,
          "status"), "IN_QUEUE");
  fail_unless_equals_int (json_object_get_int_member (object,
          "queue_position"), 4);
  fail_if (json_object_has_member (object, "logs"));
  json_node_unref (status);

  fail_unless (gst_fal_server_request_start (request));
  fail_if (gst_fal_server_request_start (request));
  gst_fal_server_request_add_log (request, "INFO", "hello");
  status = gst_fal_server_request_build_status (request, FALSE, 0, -1);
  object = json_node_get_object (status);
  fail_unless_equals_string (json_object_get_string_member (object,
          "status"), "IN_PROGRESS");
  fail_unless (json_object_has_member (object, "logs"));
  fail_unless (JSON_NODE_HOLDS_NULL (json_object_get_member (object, "logs")));
  fail_if (json_object_has_member (object, "queue_position"));
  json_node_unref (status);

  fail_unless (gst_fal_server_request_fail (request, 504, "late",
          "request_timeout"));
  fail_if (gst_fal_server_request_complete (request, 200, NULL, NULL, NULL));
  status = gst_fal_server_request_build_status (request, TRUE, 0, -1);
  object = json_node_get_object (status);
  fail_unless_equals_string (json_object_get_string_member (object,
          "status"), "COMPLETED");
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (object, "logs")), 1);
  fail_unless_equals_string (json_object_get_string_member (object,
          "error_type"), "request_timeout");
  fail_unless (json_object_has_member (json_object_get_object_member (object,
              "metrics"), "inference_time"));
  json_node_unref (status);

  fail_unless_equals_int (gst_fal_server_request_get_result (request, &body,
          &error_type), 504);
  fail_unless_equals_string (error_type, "request_timeout");
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (body), "detail"), "late");
  json_node_unref (body);
  g_free (error_type);
  gst_fal_server_request_unref (request);
}

GST_END_TEST;

typedef struct
{
  guint changes;
  GPtrArray *partials;
} Recorder;

static void
record (GstFalServerRequest * request, const gchar * partial, gpointer data)
{
  Recorder *recorder = data;

  if (partial)
    g_ptr_array_add (recorder->partials, g_strdup (partial));
  else
    recorder->changes++;
}

GST_START_TEST (test_app_call)
{
  static const GstFalAppInfo logging_app = {
    "test/log", "logs", "{}", "{}", logging_run, NULL, NULL
  };
  static const GstFalAppInfo failing_app = {
    "test/fail", "fails", "{}", "{}", failing_run, NULL, NULL
  };
  g_autoptr (JsonNode) input = json_from_string ("{}", NULL);
  GstFalServerRequest *request =
      gst_fal_server_request_new ("test/log/sub", "test/log",
      "sub", "http://127.0.0.1:1", &logging_app, input,
      GST_FAL_SERVER_REQUEST_KIND_STREAM);
  Recorder recorder = { 0, g_ptr_array_new_with_free_func (g_free) };
  GstFalAppCall *call;
  JsonNode *body = NULL;
  gchar *error_type = NULL;

  request->notify = record;
  request->notify_data = &recorder;
  fail_unless (gst_fal_server_request_start (request));
  call = gst_fal_app_call_new (request);
  fail_unless_equals_string (gst_fal_app_call_get_path (call), "sub");
  fail_unless (gst_fal_app_call_is_streaming (call));
  fail_unless_equals_string (gst_fal_app_call_get_request_id (call),
      request->id);
  /* a validation error leaves the runner to serve again */
  fail_unless (gst_fal_app_call_run_on (call, NULL));
  gst_fal_app_call_free (call);
  /* start, a log line, completion; one partial */
  fail_unless_equals_int (recorder.changes, 3);
  fail_unless_equals_int (recorder.partials->len, 1);
  fail_unless_equals_string (g_ptr_array_index (recorder.partials, 0),
      "{\"partial\":1}");
  /* a plain 422 becomes a Pydantic-style list */
  fail_unless_equals_int (gst_fal_server_request_get_result (request, &body,
          &error_type), 422);
  fail_unless (JSON_NODE_HOLDS_ARRAY (json_object_get_member
          (json_node_get_object (body), "detail")));
  json_node_unref (body);
  g_free (error_type);
  gst_fal_server_request_unref (request);

  request = gst_fal_server_request_new ("test/fail", "test/fail", "",
      "http://127.0.0.1:1", &failing_app, input,
      GST_FAL_SERVER_REQUEST_KIND_QUEUE);
  fail_unless (gst_fal_server_request_start (request));
  call = gst_fal_app_call_new (request);
  fail_if (gst_fal_app_call_is_streaming (call));
  fail_unless (gst_fal_app_call_run_on (call, NULL));
  gst_fal_app_call_free (call);
  fail_unless_equals_int (gst_fal_server_request_get_result (request, &body,
          &error_type), 418);
  fail_unless_equals_string (error_type, "teapot_error");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (json_node_get_object (body), "detail"),
          "reason"), "teapot");
  json_node_unref (body);
  g_free (error_type);
  gst_fal_server_request_unref (request);

  /* a failure that may leave the runner broken: it is not reused */
  {
    static const GstFalAppInfo broken_app = {
      "test/broken", "breaks", "{}", "{}", broken_run, NULL, NULL
    };

    request = gst_fal_server_request_new ("test/broken", "test/broken", "",
        "http://127.0.0.1:1", &broken_app, input,
        GST_FAL_SERVER_REQUEST_KIND_QUEUE);
    fail_unless (gst_fal_server_request_start (request));
    call = gst_fal_app_call_new (request);
    fail_if (gst_fal_app_call_run_on (call, NULL));
    gst_fal_app_call_free (call);
    fail_unless_equals_int (gst_fal_server_request_get_result (request, &body,
            &error_type), 500);
    json_node_unref (body);
    g_free (error_type);
    gst_fal_server_request_unref (request);
  }
  g_ptr_array_unref (recorder.partials);
}

GST_END_TEST;

GST_START_TEST (test_fetch_and_store)
{
  g_autoptr (JsonNode) input = json_from_string ("{}", NULL);
  GstFalStorage *storage = gst_fal_storage_new (NULL, NULL);
  GstFalServerRequest *request =
      gst_fal_server_request_new ("test/echo", "test/echo", "",
      "http://127.0.0.1:1", &echo_app, input,
      GST_FAL_SERVER_REQUEST_KIND_QUEUE);
  GstFalAppCall *call;
  g_autoptr (GBytes) data = g_bytes_new_static ("stored", 6);
  g_autofree gchar *url = NULL;
  g_autofree gchar *content_type = NULL;
  g_autofree gchar *data_type = NULL;
  GBytes *fetched;
  GError *error = NULL;

  request->storage = storage;
  request->lifecycle = g_strdup ("{\"expiration_duration_seconds\": 3600}");
  call = gst_fal_app_call_new (request);
  url = gst_fal_app_call_store (call, data, "text/plain", "out.txt");
  fail_unless (g_str_has_prefix (url, "http://127.0.0.1:1/files/"));
  fail_unless (g_str_has_suffix (url, "/out.txt"));
  /* the server's own files are read without HTTP */
  fetched = gst_fal_app_call_fetch (call, url, &content_type, &error);
  fail_unless (fetched != NULL);
  fail_unless (g_bytes_equal (fetched, data));
  fail_unless_equals_string (content_type, "text/plain");
  g_bytes_unref (fetched);
  fetched = gst_fal_app_call_fetch (call, "data:text/plain;base64,aGk=",
      &data_type, &error);
  fail_unless (fetched != NULL);
  fail_unless_equals_int (g_bytes_get_size (fetched), 2);
  fail_unless_equals_string (data_type, "text/plain");
  g_bytes_unref (fetched);
  fail_unless (gst_fal_app_call_fetch (call, "ftp://x/y", NULL, &error) ==
      NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  gst_fal_app_call_free (call);
  gst_fal_server_request_unref (request);
  gst_fal_storage_free (storage);
}

GST_END_TEST;

GST_START_TEST (test_endpoint_ids)
{
  const gchar *cases[][3] = {
    {"local/echo", "local/echo", ""},
    {"fal-ai/flux/dev", "fal-ai/flux", "dev"},
    {"fal-ai/kling-video/v2.5-turbo/pro", "fal-ai/kling-video",
        "v2.5-turbo/pro"},
    {"workflows/me/pipe/x", "workflows/me/pipe", "x"},
    {"comfy/me/graph", "comfy/me/graph", ""},
  };
  const gchar *invalid[] = { "echo", "", "/echo", "workflows/me",
    "local//x"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *app = NULL;
    g_autofree gchar *path = NULL;

    fail_unless (gst_fal_split_endpoint (cases[i][0], &app, &path));
    fail_unless_equals_string (app, cases[i][1]);
    fail_unless_equals_string (path, cases[i][2]);
  }
  for (i = 0; i < G_N_ELEMENTS (invalid); i++) {
    g_autofree gchar *app = NULL;
    g_autofree gchar *path = NULL;

    fail_if (gst_fal_split_endpoint (invalid[i], &app, &path), "%s",
        invalid[i]);
  }
}

GST_END_TEST;

static Suite *
queue_suite (void)
{
  Suite *s = suite_create ("server-queue");
  TCase *tc = tcase_create ("queue");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_priorities);
  tcase_add_test (tc, test_close);
  tcase_add_test (tc, test_state_machine);
  tcase_add_test (tc, test_app_call);
  tcase_add_test (tc, test_fetch_and_store);
  tcase_add_test (tc, test_endpoint_ids);
  return s;
}

GST_CHECK_MAIN (queue);
