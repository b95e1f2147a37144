/* The server keeps a flat count of descriptors whatever its clients do with
 * their connections, and keeps serving when it runs out of them. The server
 * runs in-process, so /proc/self/fd counts its descriptors. */
#include <sys/resource.h>
#include <fcntl.h>
#include <unistd.h>
#include "falservertest.h"
#include "falrawhttp.h"
#if __has_include (<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Connections a client may close: ≥ 3000 in each test. */
#define N_QUEUE 1000
#define N_RUNS 3000
#define N_ABANDONED 500
/* Descriptors the server may still hold once its clients are gone. */
#define SLACK 16

static GstFalServer *server;
static guint port;

static void
setup (void)
{
  g_autoptr (GUri) uri = NULL;

  server = fal_test_server_new (2, NULL);
  uri = g_uri_parse (gst_fal_server_get_url (server), G_URI_FLAGS_NONE, NULL);
  port = g_uri_get_port (uri);
}

static void
teardown (void)
{
  g_clear_object (&server);
}

static gchar *
path_of (const gchar * url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  fail_unless (uri != NULL, "bad url %s", url);
  return g_strdup (g_uri_get_path (uri));
}

static JsonObject *
reply_object (FalRawReply * reply, JsonNode ** node)
{
  *node = json_from_string (reply->body, NULL);
  fail_unless (*node && JSON_NODE_HOLDS_OBJECT (*node), "not JSON: %s",
      reply->body);
  return json_node_get_object (*node);
}

/* Submit, status until completed, result: three closed connections or more. */
static void
subscribe (guint value)
{
  g_autofree gchar *input = g_strdup_printf ("{\"value\": %u}", value);
  g_autoptr (FalRawReply) submitted = fal_raw_request (port, "POST",
      "/queue/local/echo", input);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) result_node = NULL;
  g_autoptr (FalRawReply) result = NULL;
  g_autofree gchar *status_path = NULL;
  g_autofree gchar *response_path = NULL;
  JsonObject *object;
  guint tries;

  fail_unless_equals_int (submitted->status, 200);
  object = reply_object (submitted, &node);
  status_path = path_of (json_object_get_string_member (object, "status_url"));
  response_path = path_of (json_object_get_string_member (object,
          "response_url"));
  for (tries = 0; tries < 10000; tries++) {
    g_autoptr (FalRawReply) status = fal_raw_request (port, "GET",
        status_path, NULL);

    if (status->status == 200)
      break;
    fail_unless_equals_int (status->status, 202);
    g_usleep (1000);
  }
  result = fal_raw_request (port, "GET", response_path, NULL);
  fail_unless_equals_int (result->status, 200);
  fail_unless_equals_int (json_object_get_int_member (reply_object (result,
              &result_node), "value"), value);
}

/* Waits (bounded) for the count to come down to @most; returns the count. */
static gint
settle_fds (gint most)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  gint n;

  while ((n = fal_raw_count_fds ()) > most
      && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  return n;
}

static gint
baseline (void)
{
  guint i;
  gint n;

  /* first uses open what stays open (registry, app state) */
  for (i = 0; i < 10; i++)
    subscribe (i);
  n = fal_raw_count_fds ();
  fail_unless (n > 0, "no /proc/self/fd");
  return n;
}

GST_START_TEST (test_queue_closing_client)
{
  gint before = baseline (), after;
  guint i;

  for (i = 0; i < N_QUEUE; i++)
    subscribe (i);
  after = settle_fds (before + SLACK);
  fail_unless (after <= before + SLACK, "%d descriptors before %u "
      "subscribes, %d after", before, N_QUEUE, after);
}

GST_END_TEST;

GST_START_TEST (test_run_closing_client)
{
  gint before = baseline (), after;
  guint i;

  for (i = 0; i < N_RUNS; i++) {
    g_autofree gchar *input = g_strdup_printf ("{\"value\": %u}", i);
    g_autoptr (FalRawReply) reply = fal_raw_request (port, "POST",
        "/run/local/echo", input);
    g_autoptr (JsonNode) node = NULL;

    fail_unless_equals_int (reply->status, 200);
    fail_unless_equals_int (json_object_get_int_member (reply_object (reply,
                &node), "value"), i);
  }
  after = settle_fds (before + SLACK);
  fail_unless (after <= before + SLACK, "%d descriptors before %u runs, "
      "%d after", before, N_RUNS, after);
}

GST_END_TEST;

/* Clients that close before the answer: after the request head (the body
 * never comes), and after the whole request of a run still sleeping. */
GST_START_TEST (test_client_closes_mid_request)
{
  gint before = baseline (), after;
  guint i;

  for (i = 0; i < 2 * N_ABANDONED; i++) {
    GSocket *socket = fal_raw_connect (port, NULL);

    fail_unless (socket != NULL);
    fail_unless (fal_raw_send (socket, "POST", i % 2 ? "/run/local/sleep" :
            "/run/local/echo", "{\"seconds\": 0.01}", i % 2));
    g_socket_close (socket, NULL);
    g_object_unref (socket);
  }
  after = settle_fds (before + SLACK);
  fail_unless (after <= before + SLACK, "%d descriptors before %u abandoned "
      "requests, %d after", before, 2 * N_ABANDONED, after);
  /* and the server still answers */
  subscribe (7);
}

GST_END_TEST;

/* Clients that reuse their connection for a few requests, then close it. */
GST_START_TEST (test_keepalive_then_close)
{
  gint before = baseline (), after;
  guint i, j;

  for (i = 0; i < N_RUNS / 3; i++) {
    GSocket *socket = fal_raw_connect (port, NULL);

    fail_unless (socket != NULL);
    for (j = 0; j < 3; j++) {
      g_autoptr (FalRawReply) reply = NULL;
      g_autoptr (JsonNode) node = NULL;

      fail_unless (fal_raw_send (socket, "POST", "/run/local/echo",
              "{\"value\": 5}", TRUE));
      reply = fal_raw_receive (socket);
      fail_unless_equals_int (reply->status, 200);
      fail_unless_equals_int (json_object_get_int_member (reply_object
              (reply, &node), "value"), 5);
    }
    g_socket_close (socket, NULL);
    g_object_unref (socket);
  }
  after = settle_fds (before + SLACK);
  fail_unless (after <= before + SLACK, "%d descriptors before %u reused "
      "connections, %d after", before, N_RUNS / 3, after);
}

GST_END_TEST;

static guint n_fd_logs;

static void
count_log (const gchar * domain, GLogLevelFlags level, const gchar * message,
    gpointer data)
{
  if (strstr (message, "descriptors"))
    g_atomic_int_inc (&n_fd_logs);
}

/* Fills the descriptor table up to @free_left free descriptors. */
static GArray *
occupy_fds (gint free_left)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (gint));
  gint fd, i;

  while ((fd = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
    g_array_append_val (fds, fd);
  fail_unless_equals_int (errno, EMFILE);
  for (i = 0; i < free_left && fds->len > 0; i++) {
    close (g_array_index (fds, gint, fds->len - 1));
    g_array_set_size (fds, fds->len - 1);
  }
  return fds;
}

static void
release_fds (GArray * fds)
{
  guint i;

  for (i = 0; i < fds->len; i++)
    close (g_array_index (fds, gint, i));
  g_array_free (fds, TRUE);
}

/* Out of descriptors, the server answers 503 (logged once), and serves
 * again once descriptors come back. */
GST_START_TEST (test_out_of_descriptors)
{
  struct rlimit saved, low;
  GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  guint handler = g_log_set_handler ("GstFalServer", G_LOG_LEVEL_WARNING |
      G_LOG_LEVEL_MESSAGE, count_log, NULL);
  GArray *fds;
  guint i;

  baseline ();
  fail_unless (getrlimit (RLIMIT_NOFILE, &saved) == 0);
  low = saved;
  low.rlim_cur = fal_raw_count_fds () + 200;
  fail_unless (setrlimit (RLIMIT_NOFILE, &low) == 0);

  /* a few descriptors left: work is refused, the rest still answered */
  fds = occupy_fds (6);
  for (i = 0; i < 3; i++) {
    g_autoptr (FalRawReply) run = fal_raw_request (port, "POST",
        "/run/local/echo", "{}");

    fail_unless_equals_int (run->status, 503);
    fail_unless (strstr (run->body, "descriptors") != NULL, "%s", run->body);
  }
  release_fds (fds);

  /* none left but the client's: the connection is answered 503 */
  for (i = 0; i < 3; i++) {
    GSocket *socket;
    g_autoptr (FalRawReply) reply = NULL;

    fds = occupy_fds (1);
    socket = fal_raw_connect (port, NULL);
    fail_unless (socket != NULL);
    /* the answer may come, and the connection close, before the request */
    fal_raw_send (socket, "POST", "/run/local/echo", "{}", TRUE);
    reply = fal_raw_receive (socket);
    g_socket_close (socket, NULL);
    g_object_unref (socket);
    release_fds (fds);
    /* valgrind closes what accept() returns above its own limit: the
     * connection is dropped before the server sees it */
    if (RUNNING_ON_VALGRIND && reply->status == 0)
      fail_if (reply->timed_out, "no answer and no close");
    else
      fail_unless_equals_int (reply->status, 503);
  }

  fail_unless (setrlimit (RLIMIT_NOFILE, &saved) == 0);
  /* descriptors are back: served again */
  for (i = 0; i < 5; i++)
    subscribe (i);
  /* once when they ran out, once when they came back */
  fail_unless (n_fd_logs >= 1 && n_fd_logs <= 2, "%u log lines", n_fd_logs);
  g_log_remove_handler ("GstFalServer", handler);
  g_log_set_always_fatal (fatal);
}

GST_END_TEST;

static Suite *
descriptors_suite (void)
{
  Suite *s = suite_create ("server-descriptors");
  TCase *tc = tcase_create ("descriptors");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_queue_closing_client);
  tcase_add_test (tc, test_run_closing_client);
  tcase_add_test (tc, test_client_closes_mid_request);
  tcase_add_test (tc, test_keepalive_then_close);
  tcase_add_test (tc, test_out_of_descriptors);
  return s;
}

GST_CHECK_MAIN (descriptors);
