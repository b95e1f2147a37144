/* The apps' runners on a real server: warm minimums, the maximum, keep-alive,
 * replacement after a failure, cancels, per-app queue positions, the admin
 * endpoint and `gst-fal runners`. States are read from /_admin/runners;
 * nothing is timed. */
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/app/app.h>
#include "falservertest.h"

static SoupSession *session;

/* @scaling: NULL-terminated KNOB:APP=VALUE items. */
static GstFalServer *
runners_server_new (guint workers, const gchar * apps_file,
    const gchar * const *scaling)
{
  GstFalServer *local = g_object_new (GST_FAL_TYPE_SERVER, "workers", workers,
      "admin", TRUE, "apps-file", apps_file, "scaling", scaling, NULL);
  GError *error = NULL;

  fail_unless (gst_fal_server_start (local, &error), "start: %s",
      error ? error->message : "?");
  return local;
}

/* The object of @app in GET /_admin/runners/APP (transfer full). */
static JsonObject *
admin_app (GstFalServer * local, const gchar * app)
{
  g_autofree gchar *path = g_strdup_printf ("/_admin/runners/%s", app);
  g_autofree gchar *url = fal_url (local, path);
  g_autoptr (FalReply) reply = fal_http (session, "GET", url, NULL, NULL);
  JsonArray *apps;

  fail_unless_equals_int (reply->status, 200);
  apps = json_object_get_array_member (fal_reply_object (reply), "apps");
  fail_unless_equals_int (json_array_get_length (apps), 1);
  return json_object_ref (json_array_get_object_element (apps, 0));
}

static JsonArray *
app_runners (JsonObject * app)
{
  return json_object_get_array_member (app, "runners");
}

/* How many runners of @app are in @state (any state when NULL). */
static guint
count_runners (GstFalServer * local, const gchar * app, const gchar * state)
{
  g_autoptr (JsonObject) object = admin_app (local, app);
  JsonArray *runners = app_runners (object);
  guint i, n = 0;

  for (i = 0; i < json_array_get_length (runners); i++)
    if (!state || !g_strcmp0 (state, json_object_get_string_member
            (json_array_get_object_element (runners, i), "state")))
      n++;
  return n;
}

/* Polls until @app has @n runners in @state (bounded). */
static void
wait_runners (GstFalServer * local, const gchar * app, const gchar * state,
    guint n)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    if (count_runners (local, app, state) == n)
      return;
    g_usleep (10 * 1000);
  }
  fail ("%s never had %u runners %s", app, n, state ? state : "");
}

/* The only runner of @app: its id (transfer full) and requests served. */
static gchar *
only_runner (GstFalServer * local, const gchar * app, gint64 * served)
{
  g_autoptr (JsonObject) object = admin_app (local, app);
  JsonObject *runner;

  fail_unless_equals_int (json_array_get_length (app_runners (object)), 1);
  runner = json_array_get_object_element (app_runners (object), 0);
  *served = json_object_get_int_member (runner, "requests_served");
  return g_strdup (json_object_get_string_member (runner, "runner_id"));
}

static FalReply *
submit (GstFalServer * local, const gchar * app, const gchar * input)
{
  g_autofree gchar *path = g_strdup_printf ("/queue/%s", app);
  g_autofree gchar *url = fal_url (local, path);
  FalReply *reply = fal_http (session, "POST", url, input, NULL);

  fail_unless_equals_int (reply->status, 200);
  return reply;
}

static gint64
queue_position (FalReply * submitted)
{
  g_autoptr (FalReply) status = fal_http (session, "GET",
      fal_reply_string (submitted, "status_url"), NULL, NULL);

  fail_unless_equals_string (fal_reply_string (status, "status"),
      "IN_QUEUE");
  return json_object_get_int_member (fal_reply_object (status),
      "queue_position");
}

static void
cancel (FalReply * submitted)
{
  g_autoptr (FalReply) reply = fal_http (session, "PUT",
      fal_reply_string (submitted, "cancel_url"), NULL, NULL);

  fail_unless (reply->status == 202 || reply->status == 400);
}

static guint
completed_status (FalReply * submitted)
{
  g_autoptr (FalReply) done = fal_wait_completed (session,
      fal_reply_string (submitted, "status_url"), NULL);
  g_autofree gchar *response_url = g_strdup (fal_reply_string (submitted,
          "response_url"));
  g_autoptr (FalReply) result = fal_http (session, "GET", response_url, NULL,
      NULL);

  return result->status;
}

/* min_concurrency runners are set up when the server starts. */
GST_START_TEST (test_min_concurrency)
{
  const gchar *scaling[] = { "min-concurrency:local/echo=2", NULL };
  GstFalServer *local = runners_server_new (1, NULL, scaling);
  g_autoptr (JsonObject) echo = NULL;

  wait_runners (local, "local/echo", "idle", 2);
  echo = admin_app (local, "local/echo");
  fail_unless_equals_int (json_object_get_int_member (echo,
          "min_concurrency"), 2);
  /* the others start none */
  fail_unless_equals_int (count_runners (local, "local/sleep", NULL), 0);
  gst_fal_server_stop (local);
  g_object_unref (local);
}

GST_END_TEST;

/* Requests beyond max_concurrency wait, with their positions among the
 * app's waiting requests; another app's queue is its own. */
GST_START_TEST (test_max_concurrency_and_positions)
{
  const gchar *scaling[] = { "max-concurrency:local/sleep=2", NULL };
  GstFalServer *local = runners_server_new (8, NULL, scaling);
  FalReply *sleeps[4];
  g_autoptr (FalReply) low = NULL;
  guint i;

  for (i = 0; i < 4; i++)
    sleeps[i] = submit (local, "local/sleep", "{\"seconds\": 3600}");
  wait_runners (local, "local/sleep", "busy", 2);
  fail_unless_equals_int (count_runners (local, "local/sleep", NULL), 2);
  fail_unless_equals_int (queue_position (sleeps[2]), 0);
  fail_unless_equals_int (queue_position (sleeps[3]), 1);
  /* a low-priority request waits behind them; the echo app waits for none */
  {
    g_autofree gchar *url = fal_url (local, "/queue/local/sleep");
    const gchar *headers[] = { "X-Fal-Queue-Priority", "low", NULL };
    g_autoptr (GBytes) body = g_bytes_new_static ("{\"seconds\": 0}", 14);

    low = fal_http_full (session, "POST", url, "application/json", body,
        headers);
  }
  fail_unless_equals_int (queue_position (low), 2);
  {
    g_autofree gchar *url = fal_url (local, "/run/local/echo");
    g_autoptr (FalReply) echoed = fal_http (session, "POST", url, "{}", NULL);

    fail_unless_equals_int (echoed->status, 200);
  }
  fail_unless_equals_int (count_runners (local, "local/sleep", NULL), 2);

  /* a runner freed takes the head of the queue */
  cancel (sleeps[0]);
  fail_unless_equals_int (completed_status (sleeps[0]), 499);
  fal_wait_started (session, fal_reply_string (sleeps[2], "status_url"));
  fail_unless_equals_int (queue_position (sleeps[3]), 0);
  fail_unless_equals_int (queue_position (low), 1);
  fail_unless_equals_int (count_runners (local, "local/sleep", NULL), 2);

  for (i = 1; i < 4; i++) {
    cancel (sleeps[i]);
    fal_reply_free (sleeps[i]);
  }
  fal_reply_free (sleeps[0]);
  fail_unless_equals_int (completed_status (low), 200);
  gst_fal_server_stop (local);
  g_object_unref (local);
}

GST_END_TEST;

/* An idle runner above the minimum retires after keep_alive seconds. */
GST_START_TEST (test_keep_alive)
{
  const gchar *scaling[] = { "keep-alive:local/echo=0.1",
    "min-concurrency:local/sleep=1", "keep-alive:*=0", NULL
  };
  GstFalServer *local = runners_server_new (2, NULL, scaling);
  g_autofree gchar *url = fal_url (local, "/run/local/echo");
  g_autoptr (FalReply) echoed = fal_http (session, "POST", url, "{}", NULL);
  g_autoptr (JsonObject) echo = admin_app (local, "local/echo");

  fail_unless_equals_int (echoed->status, 200);
  fail_unless_equals_int (json_object_get_double_member (echo, "keep_alive")
      * 10, 1);
  wait_runners (local, "local/echo", NULL, 0);
  /* the minimum stays, whatever its keep_alive */
  wait_runners (local, "local/sleep", "idle", 1);
  gst_fal_server_stop (local);
  g_object_unref (local);
}

GST_END_TEST;

/* A cancelled request stops its runner's work, and the runner serves the
 * next request. */
GST_START_TEST (test_cancel_keeps_runner)
{
  const gchar *scaling[] = { "min-concurrency:local/sleep=1",
    "max-concurrency:local/sleep=1", NULL
  };
  GstFalServer *local = runners_server_new (1, NULL, scaling);
  g_autoptr (FalReply) sleeping = NULL, next = NULL;
  g_autofree gchar *before = NULL, *after = NULL;
  gint64 served;

  wait_runners (local, "local/sleep", "idle", 1);
  before = only_runner (local, "local/sleep", &served);
  fail_unless_equals_int (served, 0);
  sleeping = submit (local, "local/sleep", "{\"seconds\": 3600}");
  fal_wait_started (session, fal_reply_string (sleeping, "status_url"));
  cancel (sleeping);
  fail_unless_equals_int (completed_status (sleeping), 499);
  next = submit (local, "local/sleep", "{\"seconds\": 0}");
  fail_unless_equals_int (completed_status (next), 200);
  wait_runners (local, "local/sleep", "idle", 1);
  after = only_runner (local, "local/sleep", &served);
  fail_unless_equals_string (after, before);
  fail_unless_equals_int (served, 2);
  gst_fal_server_stop (local);
  g_object_unref (local);
}

GST_END_TEST;

/* A 16×16 and a 128×128 PNG, made by a pipeline. */
static gchar *
png_data_uri (gint size)
{
  g_autofree gchar *description = g_strdup_printf ("videotestsrc "
      "num-buffers=1 ! video/x-raw,width=%d,height=%d ! pngenc ! "
      "appsink name=sink", size, size);
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, NULL);
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline),
      "sink");
  g_autoptr (GstSample) sample = NULL;
  g_autofree gchar *base64 = NULL;
  GstMapInfo map;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  fail_unless (sample != NULL);
  gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ);
  base64 = g_base64_encode (map.data, map.size);
  gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return g_strdup_printf ("{\"image_url\": \"data:image/png;base64,%s\"}",
      base64);
}

/* A run whose pipeline fails (not a validation error) tears its runner
 * down; a new one replaces it and the next request succeeds. */
GST_START_TEST (test_failing_runner_replaced)
{
  g_autofree gchar *apps_file = NULL;
  g_autofree gchar *small = png_data_uri (16), *large = png_data_uri (128);
  g_autofree gchar *id_first = NULL, *id_second = NULL, *id_third = NULL;
  g_autoptr (GError) error = NULL;
  GstFalServer *local;
  g_autoptr (FalReply) ok = NULL, failed = NULL, again = NULL;
  gint64 served;
  gint fd;

  /* at most 64 pixels wide: a larger image does not negotiate */
  fd = g_file_open_tmp ("runners-XXXXXX.apps", &apps_file, &error);
  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (apps_file, "[test/small]\n"
          "pipeline=videoconvert ! video/x-raw,format=RGB,width=[1,64] ! "
          "videoconvert\nmin-concurrency=1\nmax-concurrency=1\n", -1,
          &error));
  local = runners_server_new (1, apps_file, NULL);
  wait_runners (local, "test/small", "idle", 1);
  id_first = only_runner (local, "test/small", &served);

  ok = submit (local, "test/small", small);
  fail_unless_equals_int (completed_status (ok), 200);
  wait_runners (local, "test/small", "idle", 1);
  id_second = only_runner (local, "test/small", &served);
  fail_unless_equals_string (id_second, id_first);
  fail_unless_equals_int (served, 1);

  failed = submit (local, "test/small", large);
  fail_unless_equals_int (completed_status (failed), 500);
  /* the runner that failed is gone; its replacement is warm */
  wait_runners (local, "test/small", "idle", 1);
  id_third = only_runner (local, "test/small", &served);
  fail_if (g_str_equal (id_third, id_first));
  fail_unless_equals_int (served, 0);

  again = submit (local, "test/small", small);
  fail_unless_equals_int (completed_status (again), 200);
  gst_fal_server_stop (local);
  g_object_unref (local);
  g_unlink (apps_file);
}

GST_END_TEST;

/* The embedded server's reservation: an app runs as many requests at once
 * as were reserved, beyond the server's one worker. */
GST_START_TEST (test_reserve)
{
  GstFalServer *local = runners_server_new (1, NULL, NULL);
  FalReply *sleeps[3];
  guint i;

  gst_fal_server_reserve_runners (local, "local/sleep", 3);
  for (i = 0; i < 3; i++)
    sleeps[i] = submit (local, "local/sleep", "{\"seconds\": 3600}");
  wait_runners (local, "local/sleep", "busy", 3);
  for (i = 0; i < 3; i++) {
    cancel (sleeps[i]);
    fal_reply_free (sleeps[i]);
  }
  gst_fal_server_reserve_runners (local, "local/sleep", -3);
  gst_fal_server_stop (local);
  g_object_unref (local);
}

GST_END_TEST;

/* `gst-fal runners` prints the admin endpoint's runners. */
GST_START_TEST (test_runners_command)
{
  const gchar *scaling[] = { "min-concurrency:local/echo=1", NULL };
  GstFalServer *local = runners_server_new (1, NULL, scaling);
  const gchar *tool = g_getenv ("GST_FAL_TOOL");
  g_autofree gchar *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  gint status = -1;
  const gchar *argv[] = { tool, "runners", "--server",
    gst_fal_server_get_url (local), "local/echo", NULL
  };

  fail_unless (tool != NULL);
  wait_runners (local, "local/echo", "idle", 1);
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, &out, &err, &status, &error), "%s",
      error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL), "%s", err);
  fail_unless (g_str_has_prefix (out, "local/echo: 1 runner (min 1, "), "%s",
      out);
  fail_unless (strstr (out, " idle ") != NULL, "%s", out);
  fail_unless (strstr (out, "0 served") != NULL, "%s", out);
  gst_fal_server_stop (local);
  g_object_unref (local);
}

GST_END_TEST;

static void
setup (void)
{
  session = fal_test_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
}

static Suite *
runners_suite (void)
{
  Suite *s = suite_create ("server-runners");
  TCase *tc = tcase_create ("runners");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_min_concurrency);
  tcase_add_test (tc, test_max_concurrency_and_positions);
  tcase_add_test (tc, test_keep_alive);
  tcase_add_test (tc, test_cancel_keeps_runner);
  tcase_add_test (tc, test_failing_runner_replaced);
  tcase_add_test (tc, test_reserve);
  tcase_add_test (tc, test_runners_command);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (runners);
