/* gst-fal: the command line, run as a subprocess against `gst-fal serve` */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <glib/gstdio.h>

#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libs/falmock.h"

#define TEST_KEY "cli-test-key-5b1f0c"

/* The shared server, started by the parent for the whole test case. */
static GPid shared_pid;
static gchar *shared_url;

typedef struct
{
  gint status;                  /* exit status, or 128 + signal */
  gchar *out;
  gchar *err;
} ToolResult;

static void
tool_result_free (ToolResult * res)
{
  g_free (res->out);
  g_free (res->err);
  g_free (res);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ToolResult, tool_result_free);

/* Children die with the test process, even when an assertion kills it. */
static void
die_with_parent (gpointer unused)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static const gchar *
tool_path (void)
{
  const gchar *tool = g_getenv ("GST_FAL_TOOL");

  fail_unless (tool && *tool, "GST_FAL_TOOL is not set");
  return tool;
}

static GSubprocessLauncher *
tool_launcher (const gchar * url, const gchar * key, GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  if (url)
    g_subprocess_launcher_setenv (launcher, "GST_FAL_URL", url, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "GST_FAL_URL");
  g_subprocess_launcher_setenv (launcher, "FAL_KEY", key ? key : "", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "FAL_KEY_ID");
  g_subprocess_launcher_unsetenv (launcher, "FAL_KEY_SECRET");
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  return launcher;
}

static gint
exit_status_of (GSubprocess * proc)
{
  if (g_subprocess_get_if_exited (proc))
    return g_subprocess_get_exit_status (proc);
  fail_unless (g_subprocess_get_if_signaled (proc));
  return 128 + g_subprocess_get_term_sig (proc);
}

/* Runs gst-fal with @args (NULL-terminated), GST_FAL_URL=@url (unset when
 * NULL), FAL_KEY=@key, @input on standard input. */
static ToolResult *
tool_run_full (const gchar * url, const gchar * key, const gchar * input,
    const gchar * const *args)
{
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (url, key,
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  ToolResult *res = g_new0 (ToolResult, 1);

  g_ptr_array_add (argv, (gpointer) tool_path ());
  for (; *args; args++)
    g_ptr_array_add (argv, (gpointer) * args);
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &error);
  fail_unless (proc != NULL, "cannot run gst-fal: %s",
      error ? error->message : "?");
  fail_unless (g_subprocess_communicate_utf8 (proc, input ? input : "", NULL,
          &res->out, &res->err, &error), "communicate: %s",
      error ? error->message : "?");
  res->status = exit_status_of (proc);
  {
    g_autofree gchar *line = g_strjoinv (" ", (gchar **) argv->pdata);
    GST_INFO ("%s → %d\nstdout: %s\nstderr: %s", line, res->status,
        res->out, res->err);
  }
  return res;
}

#define tool_run(url, ...) \
  tool_run_full ((url), NULL, NULL, (const gchar *[]) { __VA_ARGS__, NULL })
#define tool_run_key(url, key, ...) \
  tool_run_full ((url), (key), NULL, (const gchar *[]) { __VA_ARGS__, NULL })
#define tool_run_input(url, input, ...) \
  tool_run_full ((url), NULL, (input), (const gchar *[]) { __VA_ARGS__, NULL })

static guint
count_lines (const gchar * text)
{
  guint n = 0;

  for (; *text; text++)
    n += *text == '\n';
  return n;
}

static JsonNode *
parse_json (const gchar * text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  fail_unless (json_parser_load_from_data (parser, text, -1, &error),
      "not JSON: %s (%s)", text, error ? error->message : "");
  fail_unless (json_parser_get_root (parser) != NULL, "empty output");
  return json_parser_steal_root (parser);
}

static void
assert_json_equal (const gchar * text, const gchar * expected)
{
  g_autoptr (JsonNode) a = parse_json (text);
  g_autoptr (JsonNode) b = parse_json (expected);

  fail_unless (json_node_equal (a, b), "got %s, expected %s", text, expected);
}

/* A failure is exactly one line on standard error. */
static void
assert_one_error_line (const ToolResult * res, const gchar * prefix)
{
  fail_unless (g_str_has_prefix (res->err, prefix),
      "stderr '%s' does not start with '%s'", res->err, prefix);
  fail_unless_equals_int (count_lines (res->err), 1);
}

/* The server may log to stderr before failing: check its last line. */
static void
assert_last_error_line (const ToolResult * res, const gchar * prefix)
{
  g_auto (GStrv) lines = g_strsplit (res->err, "\n", -1);
  guint n = g_strv_length (lines);

  fail_unless (n >= 2 && *lines[n - 1] == '\0', "stderr: '%s'", res->err);
  fail_unless (g_str_has_prefix (lines[n - 2], prefix),
      "last line of stderr '%s' does not start with '%s'", res->err, prefix);
}

static gchar *
json_member (const gchar * text, const gchar * member)
{
  g_autoptr (JsonNode) root = parse_json (text);
  JsonObject *object;

  fail_unless (JSON_NODE_HOLDS_OBJECT (root), "not an object: %s", text);
  object = json_node_get_object (root);
  if (!json_object_has_member (object, member)
      || JSON_NODE_HOLDS_NULL (json_object_get_member (object, member)))
    return NULL;
  return g_strdup (json_object_get_string_member (object, member));
}

/* Starts `gst-fal serve --port 0 ARGS…` and reads the URL it prints. */
static GSubprocess *
serve_start (gchar ** url, const gchar * const *args)
{
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (NULL, NULL,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GDataInputStream) lines = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;

  g_ptr_array_add (argv, (gpointer) tool_path ());
  g_ptr_array_add (argv, (gpointer) "serve");
  g_ptr_array_add (argv, (gpointer) "--port");
  g_ptr_array_add (argv, (gpointer) "0");
  for (; *args; args++)
    g_ptr_array_add (argv, (gpointer) * args);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &error);
  fail_unless (proc != NULL, "cannot start serve: %s",
      error ? error->message : "?");

  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  *url = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  fail_unless (*url != NULL, "serve printed no URL");
  fail_unless (g_str_has_prefix (*url, "http://127.0.0.1:")
      || g_str_has_prefix (*url, "https://127.0.0.1:"), "URL: %s", *url);
  return proc;
}

#define serve(url, ...) serve_start ((url), (const gchar *[]) { __VA_ARGS__ })

/* The status of one HTTP call; @headers: NULL-terminated name, value pairs. */
static guint
http_status (SoupSession * session, const gchar * method, const gchar * url,
    const gchar * const *headers)
{
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GBytes) body = NULL;
  guint i;

  for (i = 0; headers && headers[i]; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        headers[i], headers[i + 1]);
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  return soup_message_get_status (msg);
}

static gint
serve_stop (GSubprocess * proc, gint signum)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_send_signal (proc, signum);
  fail_unless (g_subprocess_wait (proc, NULL, &error));
  return exit_status_of (proc);
}

/* The shared server: spawned without GSubprocess, whose GLib worker thread
 * would not survive the fork of each test. */
static void
shared_server_start (void)
{
  const gchar *argv[] = { tool_path (), "serve", "--port", "0", "--workers",
    "4", NULL
  };
  g_autoptr (GError) error = NULL;
  GString *line = g_string_new (NULL);
  gint out_fd;
  gchar c;

  fail_unless (g_spawn_async_with_pipes (NULL, (gchar **) argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, &shared_pid,
          NULL, &out_fd, NULL, &error), "cannot start serve: %s",
      error ? error->message : "?");
  while (read (out_fd, &c, 1) == 1 && c != '\n')
    g_string_append_c (line, c);
  close (out_fd);
  shared_url = g_string_free (line, FALSE);
  fail_unless (g_str_has_prefix (shared_url, "http://127.0.0.1:"),
      "serve printed '%s'", shared_url);
}

static void
shared_server_stop (void)
{
  int wstatus;

  kill (shared_pid, SIGTERM);
  waitpid (shared_pid, &wstatus, 0);
  g_spawn_close_pid (shared_pid);
  g_clear_pointer (&shared_url, g_free);
}

/* Polls `gst-fal status` until the request reaches @state. */
static gchar *
wait_for_state (const gchar * app, const gchar * id, const gchar * state)
{
  gint64 deadline = g_get_monotonic_time () + 100 * G_TIME_SPAN_SECOND;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (ToolResult) res = tool_run (shared_url, "status", app, id,
        "--logs");
    g_autofree gchar *current = NULL;

    fail_unless_equals_int (res->status, 0);
    current = json_member (res->out, "status");
    if (!g_strcmp0 (current, state))
      return g_steal_pointer (&res->out);
    g_usleep (50 * 1000);
  }
  fail ("request %s never reached %s", id, state);
  return NULL;
}

GST_START_TEST (test_run_echo)
{
  const gchar *args = "{\"hello\": \"world\", \"n\": [1, 2.5, null]}";
  g_autoptr (ToolResult) res = tool_run (shared_url, "run", "local/echo", args);

  fail_unless_equals_int (res->status, 0);
  assert_json_equal (res->out, args);
  fail_unless_equals_string (res->err, "");
}

GST_END_TEST;

/* local/… with no server set: the in-process server, as the elements do */
GST_START_TEST (test_run_local_without_server)
{
  g_autoptr (ToolResult) run = tool_run (NULL, "run", "local/echo",
      "{\"a\":1}");
  g_autoptr (ToolResult) subscribe = tool_run (NULL, "subscribe",
      "local/echo", "{\"b\":2}");

  fail_unless_equals_int (run->status, 0);
  assert_json_equal (run->out, "{\"a\":1}");
  fail_unless_equals_int (subscribe->status, 0);
  assert_json_equal (subscribe->out, "{\"b\":2}");
}

GST_END_TEST;

/* JSON numbers come out as they went in (json-glib alone prints 0.2 as
 * 0.20000000000000001 and wraps integers beyond gint64) */
GST_START_TEST (test_numbers_unchanged)
{
  static const gchar *expected[] = { "\"a\" : 0.2,", "\"b\" : 1e+300,",
    "\"c\" : -0.0,", "\"d\" : 12345678901234567890,",
    "\"e\" : 18446744073709551615,", "\"f\" : -1\n"
  };
  g_autoptr (ToolResult) res = tool_run (NULL, "run", "local/echo",
      "{\"a\": 0.2, \"b\": 1e300, \"c\": -0.0, "
      "\"d\": 12345678901234567890, \"e\": 18446744073709551615, "
      "\"f\": -1}");
  guint i;

  fail_unless_equals_int (res->status, 0);
  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    fail_unless (strstr (res->out, expected[i]), "%s not in %s", expected[i],
        res->out);
}

GST_END_TEST;

GST_START_TEST (test_run_server_option)
{
  g_autoptr (ToolResult) res = tool_run (NULL, "run", "--server", shared_url,
      "local/echo", "{\"via\": \"--server\"}");

  fail_unless_equals_int (res->status, 0);
  assert_json_equal (res->out, "{\"via\": \"--server\"}");
}

GST_END_TEST;

GST_START_TEST (test_args_file_and_stdin)
{
  g_autofree gchar *path = NULL;
  g_autofree gchar *at_path = NULL;
  g_autoptr (ToolResult) from_file = NULL;
  g_autoptr (ToolResult) from_stdin = NULL;
  gint fd = g_file_open_tmp ("gst-fal-cli-XXXXXX.json", &path, NULL);

  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (path, "{\"from\": \"file\"}", -1, NULL));
  at_path = g_strconcat ("@", path, NULL);
  from_file = tool_run (shared_url, "run", "local/echo", at_path);
  fail_unless_equals_int (from_file->status, 0);
  assert_json_equal (from_file->out, "{\"from\": \"file\"}");

  from_stdin = tool_run_input (shared_url, "{\"from\": [\"stdin\"]}", "run",
      "local/echo", "-");
  fail_unless_equals_int (from_stdin->status, 0);
  assert_json_equal (from_stdin->out, "{\"from\": [\"stdin\"]}");
  g_unlink (path);
}

GST_END_TEST;

GST_START_TEST (test_usage_errors)
{
  g_autoptr (ToolResult) bad_json = tool_run (shared_url, "run",
      "local/echo", "{\"unterminated\": ");
  g_autoptr (ToolResult) no_file = tool_run (shared_url, "run", "local/echo",
      "@/nonexistent/gst-fal-args.json");
  g_autoptr (ToolResult) missing = tool_run (shared_url, "run", "local/echo");
  g_autoptr (ToolResult) bad_app = tool_run (shared_url, "status", "no-slash",
      "some-id");
  g_autoptr (ToolResult) bad_app_run = tool_run (shared_url, "run",
      "no-slash", "{}");
  g_autoptr (ToolResult) unknown = tool_run (shared_url, "frobnicate");
  g_autoptr (ToolResult) priority = tool_run (shared_url, "submit",
      "--priority", "urgent", "local/echo", "{}");
  g_autoptr (ToolResult) option = tool_run (shared_url, "run", "--webhook",
      "http://127.0.0.1:1/", "local/echo", "{}");

  fail_unless_equals_int (bad_json->status, 2);
  assert_one_error_line (bad_json, "gst-fal: ");
  fail_unless (strstr (bad_json->err, "invalid JSON") != NULL);
  fail_unless_equals_string (bad_json->out, "");

  fail_unless_equals_int (no_file->status, 2);
  assert_one_error_line (no_file, "gst-fal: ");
  fail_unless (strstr (no_file->err, "gst-fal-args.json") != NULL);

  fail_unless_equals_int (missing->status, 2);
  assert_one_error_line (missing, "gst-fal: ");
  fail_unless_equals_int (bad_app->status, 2);
  assert_one_error_line (bad_app, "gst-fal: no-slash: ");
  fail_unless_equals_int (bad_app_run->status, 2);
  assert_one_error_line (bad_app_run, "gst-fal: no-slash: ");
  fail_unless_equals_int (unknown->status, 2);
  assert_one_error_line (unknown, "gst-fal: unknown subcommand");
  fail_unless_equals_int (priority->status, 2);
  fail_unless (strstr (priority->err, "urgent") != NULL);
  /* --webhook is a queue option: run rejects it */
  fail_unless_equals_int (option->status, 2);
}

GST_END_TEST;

GST_START_TEST (test_help)
{
  g_autoptr (ToolResult) top = tool_run (NULL, "--help");
  g_autoptr (ToolResult) sub = tool_run (NULL, "subscribe", "--help");

  fail_unless_equals_int (top->status, 0);
  fail_unless (strstr (top->out, "subscribe") != NULL);
  fail_unless_equals_int (sub->status, 0);
  fail_unless (strstr (sub->out, "--poll-interval") != NULL);
  fail_unless (strstr (sub->out, "--priority") != NULL);
}

GST_END_TEST;

GST_START_TEST (test_unknown_app)
{
  g_autoptr (ToolResult) res = tool_run (shared_url, "run", "local/no-such",
      "{}");

  fail_unless_equals_int (res->status, 1);
  assert_one_error_line (res, "gst-fal: local/no-such: HTTP 404");
  fail_unless_equals_string (res->out, "");
}

GST_END_TEST;

GST_START_TEST (test_fail)
{
  const gchar *args = "{\"status\": 500, \"detail\": \"broke on purpose\", "
      "\"error_type\": \"internal_error\"}";
  g_autoptr (ToolResult) run = tool_run (shared_url, "run", "local/fail", args);
  g_autoptr (ToolResult) subscribe = tool_run (shared_url, "subscribe",
      "local/fail", args);
  g_autoptr (ToolResult) stream = tool_run (shared_url, "stream",
      "local/fail", args);

  fail_unless_equals_int (run->status, 1);
  assert_one_error_line (run, "gst-fal: local/fail: HTTP 500 ");
  fail_unless (strstr (run->err, "broke on purpose") != NULL);
  fail_unless_equals_string (run->out, "");

  fail_unless_equals_int (subscribe->status, 1);
  assert_one_error_line (subscribe, "gst-fal: local/fail: HTTP 500 ");
  fail_unless (strstr (subscribe->err, "broke on purpose") != NULL);

  fail_unless_equals_int (stream->status, 1);
  assert_one_error_line (stream, "gst-fal: local/fail: HTTP 500 ");
  fail_unless (strstr (stream->err, "broke on purpose") != NULL);
}

GST_END_TEST;

static void
check_subscribe_sleep (const gchar * mode_option)
{
  g_autoptr (ToolResult) res = tool_run (shared_url, "subscribe",
      "local/sleep", "--logs", mode_option, "--poll-interval", "0.05",
      "{\"seconds\": 0.5, \"logs\": 3}");
  g_autoptr (JsonNode) output = NULL;

  fail_unless_equals_int (res->status, 0);
  output = parse_json (res->out);
  fail_unless_equals_float (json_object_get_double_member
      (json_node_get_object (output), "slept"), 0.5);
  /* not a terminal: one plain line per log message, each once */
  fail_unless_equals_int (count_lines (res->err), 3);
}

GST_START_TEST (test_subscribe_sleep_logs)
{
  check_subscribe_sleep ("--logs");     /* the status stream */
  check_subscribe_sleep ("--poll");
}

GST_END_TEST;

GST_START_TEST (test_submit_status_result)
{
  g_autoptr (ToolResult) submit = tool_run (shared_url, "submit",
      "--priority", "low", "--hint", "cli-test", "local/echo",
      "{\"queued\": true}");
  g_autofree gchar *id = NULL;
  g_autofree gchar *status = NULL;
  g_autoptr (ToolResult) result = NULL;
  g_autoptr (ToolResult) cancel_done = NULL;

  fail_unless_equals_int (submit->status, 0);
  fail_unless_equals_int (count_lines (submit->out), 1);
  id = g_strstrip (g_strdup (submit->out));
  fail_unless (*id != '\0');

  status = wait_for_state ("local/echo", id, "COMPLETED");
  fail_unless (json_member (status, "error") == NULL);
  result = tool_run (shared_url, "result", "local/echo", id);
  fail_unless_equals_int (result->status, 0);
  assert_json_equal (result->out, "{\"queued\": true}");

  /* cancelling a completed request is not an error */
  cancel_done = tool_run (shared_url, "cancel", "local/echo", id);
  fail_unless_equals_int (cancel_done->status, 0);
}

GST_END_TEST;

GST_START_TEST (test_submit_cancel_sleep)
{
  g_autoptr (ToolResult) submit = tool_run (shared_url, "submit",
      "local/sleep", "{\"seconds\": 60, \"logs\": 60}");
  g_autoptr (ToolResult) cancel = NULL;
  g_autoptr (ToolResult) result = NULL;
  g_autoptr (ToolResult) unknown = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *running = NULL;
  g_autofree gchar *completed = NULL;
  g_autofree gchar *error_type = NULL;

  fail_unless_equals_int (submit->status, 0);
  id = g_strstrip (g_strdup (submit->out));

  running = wait_for_state ("local/sleep", id, "IN_PROGRESS");
  {
    g_autofree gchar *rid = json_member (running, "request_id");
    fail_unless_equals_string (rid, id);
  }

  cancel = tool_run (shared_url, "cancel", "local/sleep", id);
  fail_unless_equals_int (cancel->status, 0);
  completed = wait_for_state ("local/sleep", id, "COMPLETED");
  error_type = json_member (completed, "error_type");
  fail_unless_equals_string (error_type, "client_cancelled");

  result = tool_run (shared_url, "result", "local/sleep", id);
  fail_unless_equals_int (result->status, 1);
  assert_one_error_line (result, "gst-fal: local/sleep: ");

  unknown = tool_run (shared_url, "status", "local/sleep", "no-such-id");
  fail_unless_equals_int (unknown->status, 1);
  assert_one_error_line (unknown, "gst-fal: local/sleep: HTTP 404");
}

GST_END_TEST;

/* On its own server: requests that time out may keep its workers busy until
 * they are cancelled. */
GST_START_TEST (test_timeout)
{
  g_autofree gchar *url = NULL;
  g_autoptr (GSubprocess) server = serve (&url, NULL);
  g_autoptr (ToolResult) subscribe = tool_run (url, "subscribe",
      "--timeout", "1", "local/sleep", "{\"seconds\": 30}");
  g_autoptr (ToolResult) run = tool_run (url, "run", "--timeout", "1",
      "local/sleep", "{\"seconds\": 30}");

  fail_unless_equals_int (subscribe->status, 1);
  assert_one_error_line (subscribe, "gst-fal: local/sleep: ");
  fail_unless_equals_string (subscribe->out, "");
  fail_unless_equals_int (run->status, 1);
  assert_one_error_line (run, "gst-fal: local/sleep: ");

  /* stopping ends whatever still runs */
  fail_unless_equals_int (serve_stop (server, SIGTERM), 0);
}

GST_END_TEST;

static void
on_webhook (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  gchar **received = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (*received == NULL)
    *received = g_strndup (body->data, body->length);
  soup_server_message_set_status (msg, 200, NULL);
}

/* --webhook: the server posts the result to the given URL. */
GST_START_TEST (test_webhook)
{
  g_autoptr (SoupServer) receiver = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ToolResult) submit = NULL;
  g_autoptr (JsonNode) webhook = NULL;
  g_autoptr (GSList) uris = NULL;
  g_autofree gchar *hook_url = NULL;
  g_autofree gchar *received = NULL;
  g_autofree gchar *id = NULL;
  gint64 deadline;
  JsonObject *object;

  soup_server_add_handler (receiver, "/hook", on_webhook, &received, NULL);
  fail_unless (soup_server_listen_local (receiver, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (receiver);
  hook_url = g_strdup_printf ("http://127.0.0.1:%d/hook",
      g_uri_get_port (uris->data));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  submit = tool_run (shared_url, "submit", "--webhook", hook_url,
      "local/echo", "{\"hooked\": 1}");
  fail_unless_equals_int (submit->status, 0);
  id = g_strstrip (g_strdup (submit->out));

  deadline = g_get_monotonic_time () + 100 * G_TIME_SPAN_SECOND;
  while (!received && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  fail_unless (received != NULL, "no webhook");

  webhook = parse_json (received);
  object = json_node_get_object (webhook);
  fail_unless_equals_string (json_object_get_string_member (object,
          "request_id"), id);
  fail_unless_equals_string (json_object_get_string_member (object,
          "status"), "OK");
  fail_unless (json_object_get_int_member (json_object_get_object_member
          (object, "payload"), "hooked") == 1);
}

GST_END_TEST;

/* SIGINT while following a request: exit 130, the request is cancelled. */
GST_START_TEST (test_interrupt)
{
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (shared_url, NULL,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GDataInputStream) err_lines = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *first_log = NULL;
  g_autofree gchar *last = NULL;
  gchar *line;

  proc = g_subprocess_launcher_spawn (launcher, &error, tool_path (),
      "subscribe", "--logs", "local/sleep",
      "{\"seconds\": 60, \"logs\": 60}", NULL);
  fail_unless (proc != NULL);
  err_lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  /* the first log line: the request runs */
  first_log = g_data_input_stream_read_line_utf8 (err_lines, NULL, NULL,
      &error);
  fail_unless (first_log != NULL);
  fail_unless (g_str_has_prefix (first_log, "sleeping: "), "%s", first_log);

  g_subprocess_send_signal (proc, SIGINT);
  while ((line = g_data_input_stream_read_line_utf8 (err_lines, NULL, NULL,
              NULL))) {
    g_free (last);
    last = line;
  }
  fail_unless (g_subprocess_wait (proc, NULL, NULL));
  fail_unless_equals_int (exit_status_of (proc), 130);
  fail_unless_equals_string (last, "gst-fal: local/sleep: interrupted");
}

GST_END_TEST;

/* On a terminal: a live line with the state, rewritten in place. */
GST_START_TEST (test_progress_on_terminal)
{
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (shared_url, NULL,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;
  GString *terminal = g_string_new (NULL);
  g_autofree gchar *text = NULL;
  gint master, slave;
  gchar buf[1024];
  gssize n;

  fail_unless (openpty (&master, &slave, NULL, NULL, NULL) == 0);
  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  proc = g_subprocess_launcher_spawn (launcher, &error, tool_path (),
      "subscribe", "--logs", "local/sleep",
      "{\"seconds\": 0.3, \"logs\": 2}", NULL);
  fail_unless (proc != NULL);
  g_clear_object (&launcher);   /* closes our copy of the terminal */
  fail_unless (g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL,
          &error));
  fail_unless_equals_int (exit_status_of (proc), 0);
  assert_json_equal (out, "{\"slept\": 0.3}");

  while ((n = read (master, buf, sizeof buf)) > 0)
    g_string_append_len (terminal, buf, n);
  close (master);
  text = g_string_free (terminal, FALSE);
  fail_unless (strstr (text, "local/sleep: IN_") != NULL, "%s", text);
  fail_unless (strstr (text, "\r\033[K") != NULL, "%s", text);
  fail_unless (strstr (text, "sleeping: 2/2") != NULL, "%s", text);
}

GST_END_TEST;

GST_START_TEST (test_stream_counter)
{
  g_autoptr (ToolResult) res = tool_run (shared_url, "stream",
      "local/counter", "{\"count\": 4, \"interval\": 0.05}");
  g_auto (GStrv) lines = NULL;
  guint i;

  fail_unless_equals_int (res->status, 0);
  fail_unless_equals_int (count_lines (res->out), 5);
  lines = g_strsplit (res->out, "\n", -1);
  for (i = 0; i < 5; i++) {
    g_autoptr (JsonNode) event = parse_json (lines[i]);
    fail_unless (JSON_NODE_HOLDS_OBJECT (event), "event: %s", lines[i]);
  }
}

GST_END_TEST;

GST_START_TEST (test_upload)
{
  const gchar content[] = "gst-fal upload test\nsecond line\n";
  g_autofree gchar *path = NULL;
  g_autoptr (ToolResult) res = NULL;
  g_autoptr (ToolResult) missing = NULL;
  g_autoptr (SoupSession) session =
      soup_session_new_with_options ("proxy-resolver", NULL, NULL);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;
  gint fd = g_file_open_tmp ("gst-fal-cli-XXXXXX.txt", &path, NULL);

  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (path, content, -1, NULL));
  res = tool_run (shared_url, "upload", path);
  fail_unless_equals_int (res->status, 0);
  fail_unless_equals_int (count_lines (res->out), 1);
  url = g_strstrip (g_strdup (res->out));
  fail_unless (g_str_has_prefix (url, shared_url), "URL %s", url);

  msg = soup_message_new ("GET", url);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  fail_unless (body != NULL, "GET %s: %s", url, error ? error->message : "");
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  fail_unless_equals_int (g_bytes_get_size (body), strlen (content));
  fail_unless (memcmp (g_bytes_get_data (body, NULL), content,
          strlen (content)) == 0);
  g_unlink (path);

  missing = tool_run (shared_url, "upload", "/nonexistent/gst-fal.bin");
  fail_unless_equals_int (missing->status, 2);
  assert_one_error_line (missing, "gst-fal: upload: ");
}

GST_END_TEST;

GST_START_TEST (test_apps)
{
  g_autoptr (ToolResult) apps = tool_run (NULL, "apps");
  g_autoptr (ToolResult) list = tool_run (NULL, "serve", "--list-apps");
  const gchar *names[] = { "local/echo", "local/sleep", "local/fail",
    "local/counter"
  };
  guint i;

  fail_unless_equals_int (apps->status, 0);
  fail_unless_equals_int (list->status, 0);
  fail_unless_equals_string (apps->out, list->out);
  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *line_start = g_strconcat ("\n", names[i], " ", NULL);
    g_autofree gchar *text = g_strconcat ("\n", apps->out, NULL);

    fail_unless (strstr (text, line_start) != NULL, "%s not listed in:\n%s",
        names[i], apps->out);
  }
}

GST_END_TEST;

/* --app OWNER/NAME=URL adds an app fronting a model server; a bad one is
 * one usage error */
GST_START_TEST (test_apps_backend)
{
  g_autoptr (ToolResult) apps = tool_run (NULL, "apps", "--app",
      "me/model=http://127.0.0.1:9/", "--app", "me/other=http://[::1]:9");
  g_autoptr (ToolResult) bad = tool_run (NULL, "serve", "--port", "0",
      "--app", "me/model=ftp://127.0.0.1/");
  g_autofree gchar *text = NULL;

  fail_unless_equals_int (apps->status, 0);
  text = g_strconcat ("\n", apps->out, NULL);
  fail_unless (strstr (text, "\nme/model ") != NULL, "%s", apps->out);
  fail_unless (strstr (text, "\nme/other ") != NULL, "%s", apps->out);
  fail_unless (strstr (apps->out, "http://127.0.0.1:9") != NULL, "%s",
      apps->out);
  fail_unless (bad->status != 0);
  fail_unless (strstr (bad->err, "is not an http(s) URL") != NULL, "%s",
      bad->err);
}

GST_END_TEST;

GST_START_TEST (test_serve_key)
{
  g_autofree gchar *url = NULL;
  g_autoptr (GSubprocess) server = serve (&url, "--key", TEST_KEY, NULL);
  g_autoptr (ToolResult) anonymous = tool_run (url, "run", "local/echo", "{}");
  g_autoptr (ToolResult) wrong = tool_run (url, "run", "--key", "wrong-key",
      "local/echo", "{}");
  g_autoptr (ToolResult) with_option = tool_run (url, "run", "--key",
      TEST_KEY, "local/echo", "{\"k\": 1}");
  g_autoptr (ToolResult) with_env = tool_run_key (url, TEST_KEY, "subscribe",
      "local/echo", "{\"k\": 2}");

  fail_unless_equals_int (anonymous->status, 1);
  assert_one_error_line (anonymous, "gst-fal: local/echo: HTTP 401");
  fail_unless_equals_int (wrong->status, 1);
  assert_one_error_line (wrong, "gst-fal: local/echo: HTTP 401");
  fail_unless (strstr (wrong->err, "wrong-key") == NULL);

  fail_unless_equals_int (with_option->status, 0);
  assert_json_equal (with_option->out, "{\"k\": 1}");
  fail_unless_equals_int (with_env->status, 0);
  assert_json_equal (with_env->out, "{\"k\": 2}");
  fail_unless (strstr (with_option->out, TEST_KEY) == NULL);
  fail_unless (strstr (with_option->err, TEST_KEY) == NULL);
  fail_unless (strstr (with_env->err, TEST_KEY) == NULL);

  fail_unless_equals_int (serve_stop (server, SIGTERM), 0);
}

GST_END_TEST;

static gchar *
tls_file (const gchar * name)
{
  const gchar *root = g_getenv ("GST_FAL_SOURCE_ROOT");

  fail_unless (root && *root, "GST_FAL_SOURCE_ROOT is not set");
  return g_build_filename (root, "tests", "files", "tls", name, NULL);
}

/* serve --tls-certificate/--tls-key: https; the client commands trust it
 * with --tls-ca-file or GST_FAL_CA_FILE, and refuse it without. */
GST_START_TEST (test_serve_tls)
{
  g_autofree gchar *cert = tls_file ("server.pem");
  g_autofree gchar *key = tls_file ("server-key.pem");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autofree gchar *url = NULL;
  g_autofree gchar *image = g_build_filename (g_getenv ("GST_FAL_SOURCE_ROOT"),
      "tests", "files", "messi5.jpg", NULL);
  g_autoptr (GSubprocess) server = serve (&url, "--tls-certificate", cert,
      "--tls-key", key, NULL);
  g_autoptr (ToolResult) untrusted = NULL;
  g_autoptr (ToolResult) trusted = NULL;
  g_autoptr (ToolResult) from_env = NULL;
  g_autoptr (ToolResult) upload = NULL;
  g_autoptr (ToolResult) missing_ca = NULL;

  fail_unless (g_str_has_prefix (url, "https://127.0.0.1:"), "%s", url);
  untrusted = tool_run (url, "run", "local/echo", "{}");
  fail_unless_equals_int (untrusted->status, 1);
  assert_one_error_line (untrusted, "gst-fal: local/echo: the server's TLS "
      "certificate is not trusted (unknown CA)");

  trusted = tool_run (url, "run", "--tls-ca-file", ca, "local/echo",
      "{\"t\": 1}");
  fail_unless_equals_int (trusted->status, 0);
  assert_json_equal (trusted->out, "{\"t\": 1}");

  g_setenv ("GST_FAL_CA_FILE", ca, TRUE);
  from_env = tool_run (url, "subscribe", "local/echo", "{\"t\": 2}");
  upload = tool_run (url, "upload", image);
  g_unsetenv ("GST_FAL_CA_FILE");
  fail_unless_equals_int (from_env->status, 0);
  assert_json_equal (from_env->out, "{\"t\": 2}");
  fail_unless_equals_int (upload->status, 0);
  fail_unless (g_str_has_prefix (upload->out, url), "%s", upload->out);

  missing_ca = tool_run (url, "run", "--tls-ca-file", "/nonexistent/ca.pem",
      "local/echo", "{}");
  fail_unless_equals_int (missing_ca->status, 2);
  assert_one_error_line (missing_ca, "gst-fal: cannot use the CA file "
      "/nonexistent/ca.pem");

  fail_unless_equals_int (serve_stop (server, SIGTERM), 0);
}

GST_END_TEST;

GST_START_TEST (test_serve_tls_usage_errors)
{
  g_autofree gchar *key = tls_file ("server-key.pem");
  g_autofree gchar *ca = tls_file ("ca.pem");
  g_autoptr (ToolResult) key_only = tool_run (NULL, "serve", "--port", "0",
      "--tls-key", key);
  g_autoptr (ToolResult) no_key = tool_run (NULL, "serve", "--port", "0",
      "--tls-certificate", ca);
  g_autoptr (ToolResult) missing = tool_run (NULL, "serve", "--port", "0",
      "--tls-certificate", "/nonexistent/cert.pem");

  fail_unless_equals_int (key_only->status, 2);
  assert_one_error_line (key_only, "gst-fal: serve: --tls-key needs "
      "--tls-certificate");
  fail_unless_equals_int (no_key->status, 2);
  assert_one_error_line (no_key, "gst-fal: serve: no private key in ");
  fail_unless_equals_int (missing->status, 2);
  assert_one_error_line (missing, "gst-fal: serve: cannot load the TLS "
      "certificate /nonexistent/cert.pem");
}

GST_END_TEST;

GST_START_TEST (test_serve_refuses_public_bind_without_key)
{
  g_autoptr (ToolResult) res = tool_run (NULL, "serve", "--bind", "0.0.0.0",
      "--port", "0");

  fail_unless (res->status != 0);
  fail_unless_equals_string (res->out, "");
  assert_last_error_line (res, "gst-fal: serve: ");
  fail_unless (strstr (res->err, "without a key"), "%s", res->err);
  fail_unless (strstr (res->err, "FAL_KEY"), "%s", res->err);
}

GST_END_TEST;

/* A blank key, by option or environment, is no key. */
GST_START_TEST (test_serve_refuses_public_bind_with_blank_key)
{
  g_autoptr (ToolResult) by_option = tool_run (NULL, "serve", "--bind",
      "0.0.0.0", "--port", "0", "--key", " \t ");
  g_autoptr (ToolResult) by_env = tool_run_key (NULL, "  ", "serve",
      "--bind", "0.0.0.0", "--port", "0");

  fail_unless (by_option->status != 0);
  fail_unless_equals_string (by_option->out, "");
  assert_last_error_line (by_option, "gst-fal: serve: ");
  fail_unless (strstr (by_option->err, "without a key"), "%s", by_option->err);
  fail_unless (by_env->status != 0);
  fail_unless_equals_string (by_env->out, "");
  assert_last_error_line (by_env, "gst-fal: serve: ");
}

GST_END_TEST;

/* --admin serves /_admin/faults to the key; without it the route is off. */
GST_START_TEST (test_serve_admin)
{
  const gchar *key[] = { "Authorization", "Key " TEST_KEY, NULL };
  g_autofree gchar *url = NULL;
  g_autofree gchar *url_off = NULL;
  g_autoptr (GSubprocess) admin = serve (&url, "--key", TEST_KEY, "--admin",
      NULL);
  g_autoptr (GSubprocess) plain = serve (&url_off, "--key", TEST_KEY, NULL);
  g_autoptr (SoupSession) session = soup_session_new_with_options
      ("proxy-resolver", NULL, NULL);
  g_autofree gchar *faults = g_strconcat (url, "/_admin/faults", NULL);
  g_autofree gchar *faults_off = g_strconcat (url_off, "/_admin/faults",
      NULL);
  guint on, anonymous, off;

  on = http_status (session, "GET", faults, key);
  anonymous = http_status (session, "GET", faults, NULL);
  off = http_status (session, "GET", faults_off, key);
  fail_unless_equals_int (on, 200);
  fail_unless_equals_int (anonymous, 401);
  fail_unless_equals_int (off, 404);
  fail_unless_equals_int (serve_stop (admin, SIGTERM), 0);
  fail_unless_equals_int (serve_stop (plain, SIGTERM), 0);
}

GST_END_TEST;

GST_START_TEST (test_serve_signals)
{
  g_autofree gchar *url = NULL;
  g_autofree gchar *url2 = NULL;
  g_autoptr (GSubprocess) server = serve (&url, NULL);
  g_autoptr (GSubprocess) server2 = serve (&url2, "--workers", "1", NULL);
  g_autoptr (ToolResult) echo =
      tool_run (url, "run", "local/echo", "{\"n\": 1}");

  fail_unless_equals_int (echo->status, 0);
  fail_unless_equals_int (serve_stop (server, SIGTERM), 0);
  fail_unless_equals_int (serve_stop (server2, SIGINT), 0);
}

GST_END_TEST;

/* A busy server: --start-timeout ends in 504, a waiting request shows its
 * queue position and can be cancelled. */
GST_START_TEST (test_start_timeout)
{
  g_autofree gchar *url = NULL;
  g_autoptr (GSubprocess) server = serve (&url, "--workers", "1", NULL);
  g_autoptr (ToolResult) busy = tool_run (url, "submit", "local/sleep",
      "{\"seconds\": 60}");
  g_autoptr (ToolResult) late = NULL;
  g_autoptr (ToolResult) waiting = NULL;
  g_autoptr (ToolResult) status = NULL;
  g_autoptr (ToolResult) cancel = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *id = NULL;

  fail_unless_equals_int (busy->status, 0);
  late = tool_run (url, "subscribe", "--start-timeout", "2", "local/echo",
      "{\"late\": true}");
  fail_unless_equals_int (late->status, 1);
  assert_one_error_line (late, "gst-fal: local/echo: HTTP 504");

  /* a request waiting behind the busy worker: its position, then cancel */
  waiting = tool_run (url, "submit", "local/echo", "{\"waits\": true}");
  fail_unless_equals_int (waiting->status, 0);
  id = g_strstrip (g_strdup (waiting->out));
  status = tool_run (url, "status", "local/echo", id);
  fail_unless_equals_int (status->status, 0);
  root = parse_json (status->out);
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (root), "status"), "IN_QUEUE");
  fail_unless_equals_int (json_object_get_int_member (json_node_get_object
          (root), "queue_position"), 0);
  cancel = tool_run (url, "cancel", "local/echo", id);
  fail_unless_equals_int (cancel->status, 0);
  fail_unless_equals_int (serve_stop (server, SIGTERM), 0);
}

GST_END_TEST;

/* --timeout bounds every command, upload included, against a server that
 * accepts connections and never answers. */
GST_START_TEST (test_timeout_silent_server)
{
  FalMockSocket *silent = fal_mock_socket_new (FAL_MOCK_SOCKET_SILENT);
  const gchar *url = fal_mock_socket_get_url (silent);
  g_autofree gchar *dir = g_dir_make_tmp ("gst-fal-cli-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "picture.png", NULL);
  g_autoptr (ToolResult) upload = NULL;
  g_autoptr (ToolResult) status = NULL;

  fail_unless (g_file_set_contents (path, "not quite a picture", -1, NULL));
  upload = tool_run (url, "upload", "--timeout", "2", path);
  fail_unless_equals_int (upload->status, 1);
  assert_one_error_line (upload, "gst-fal: upload of picture.png: "
      "no answer within 2 s");
  fail_unless_equals_string (upload->out, "");

  status = tool_run (url, "status", "--timeout", "2", "local/echo", "r-1");
  fail_unless_equals_int (status->status, 1);
  assert_one_error_line (status, "gst-fal: local/echo: status of request "
      "r-1: no answer within 2 s");

  g_unlink (path);
  g_rmdir (dir);
  fal_mock_socket_free (silent);
}

GST_END_TEST;

/* A server answering 100 000-deep nesting: one clear line, no crash; and
 * arguments nested that deep are refused before any request. */
static void
deep_answer (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  fal_mock_respond_json (msg, 200, user_data);
}

GST_START_TEST (test_deep_json)
{
  g_autofree gchar *open = g_strnfill (100000, '[');
  g_autofree gchar *close = g_strnfill (100000, ']');
  g_autofree gchar *deep = g_strconcat (open, close, NULL);
  FalMock *mock = fal_mock_new ();
  g_autoptr (ToolResult) answer = NULL;
  g_autoptr (ToolResult) arguments = NULL;

  fal_mock_add_handler (mock, "/run/", deep_answer, deep);
  answer = tool_run (fal_mock_get_url (mock), "run", "deep/app", "{}");
  fail_unless_equals_int (answer->status, 1);
  assert_one_error_line (answer, "gst-fal: ");
  fail_unless (strstr (answer->err, "nested deeper than 128 levels") != NULL,
      "stderr: %s", answer->err);
  fail_unless_equals_string (answer->out, "");

  arguments = tool_run_input (fal_mock_get_url (mock), deep, "run",
      "deep/app", "-");
  fail_unless_equals_int (arguments->status, 2);
  assert_one_error_line (arguments, "gst-fal: invalid JSON arguments");
  fail_unless (strstr (arguments->err, "nested deeper than 128 levels")
      != NULL, "stderr: %s", arguments->err);
  assert_equals_int (fal_mock_count (mock, "POST", "/run/deep/app"), 1);
  fal_mock_free (mock);
}

GST_END_TEST;

/* gst-fal realtime: JSON lines in, results as JSON lines in input order,
 * binary fields from --file as base64 */
GST_START_TEST (test_realtime_echo)
{
  g_autofree gchar *jpeg = g_build_filename (g_getenv ("GST_FAL_SOURCE_ROOT"),
      "tests", "files", "messi5.jpg", NULL);
  g_autofree gchar *file = g_strconcat ("image=", jpeg, NULL);
  g_autofree gchar *bytes = NULL;
  g_autofree gchar *b64 = NULL;
  g_autoptr (ToolResult) res = NULL;
  g_auto (GStrv) lines = NULL;
  gsize size;
  guint i;

  fail_unless (g_file_get_contents (jpeg, &bytes, &size, NULL));
  b64 = g_base64_encode ((const guchar *) bytes, size);
  res = tool_run_input (shared_url, "{\"i\": 0}\n\n{\"i\": 1, \"s\": \"x\"}\n"
      "{\"i\": 2, \"n\": null}\n", "realtime", "local/echo", "--file", file,
      "--timeout", "60");
  fail_unless_equals_int (res->status, 0);
  fail_unless_equals_string (res->err, "");
  lines = g_strsplit (res->out, "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 4);
  for (i = 0; i < 3; i++) {
    g_autoptr (JsonNode) node = parse_json (lines[i]);
    JsonObject *object = json_node_get_object (node);

    fail_unless_equals_int (json_object_get_int_member (object, "i"), i);
    fail_unless_equals_string (json_object_get_string_member (object,
            "image"), b64);
  }
}

GST_END_TEST;

GST_START_TEST (test_realtime_errors)
{
  g_autoptr (ToolResult) fail = tool_run_input (shared_url,
      "{\"status\": 500, \"detail\": \"broke on purpose\"}\n", "realtime",
      "local/fail");
  g_autoptr (ToolResult) unknown = tool_run_input (shared_url, "{}\n",
      "realtime", "local/no-such-app");
  g_autoptr (ToolResult) bad_line = tool_run_input (shared_url,
      "{\"i\": 1}\n[1, 2]\n", "realtime", "local/echo");
  g_autoptr (ToolResult) bad_file = tool_run_input (shared_url, "{}\n",
      "realtime", "local/echo", "--file", "image");
  g_autoptr (ToolResult) bad_buffering = tool_run_input (shared_url, "{}\n",
      "realtime", "local/echo", "--max-buffering", "61");

  fail_unless_equals_int (fail->status, 1);
  assert_one_error_line (fail,
      "gst-fal: local/fail realtime: INTERNAL_ERROR: broke on purpose");
  fail_unless_equals_int (unknown->status, 1);
  assert_one_error_line (unknown,
      "gst-fal: local/no-such-app realtime: HTTP 404");
  fail_unless_equals_int (bad_line->status, 2);
  assert_one_error_line (bad_line, "gst-fal: line 2 of the input is not a "
      "JSON object");
  fail_unless_equals_int (bad_file->status, 2);
  assert_one_error_line (bad_file, "gst-fal: --file takes FIELD=PATH");
  fail_unless_equals_int (bad_buffering->status, 2);
  assert_one_error_line (bad_buffering, "gst-fal: --max-buffering must be");
}

GST_END_TEST;

/* under --throttle-interval only the newest line of an interval is sent;
 * the command still ends once every sent line has its result */
GST_START_TEST (test_realtime_throttle)
{
  g_autoptr (ToolResult) res = tool_run_input (shared_url,
      "{\"i\": 1}\n{\"i\": 2}\n{\"i\": 3}\n{\"i\": 4}\n", "realtime",
      "local/echo", "--throttle-interval", "1000", "--timeout", "60");

  fail_unless_equals_int (res->status, 0);
  fail_unless_equals_string (res->out, "{\"i\":1}\n{\"i\":4}\n");
}

GST_END_TEST;

GST_START_TEST (test_realtime_key)
{
  g_autofree gchar *url = NULL;
  g_autoptr (GSubprocess) server = serve (&url, "--key", TEST_KEY, NULL);
  g_autoptr (ToolResult) anonymous = tool_run_input (url, "{}\n", "realtime",
      "local/echo");
  g_autoptr (ToolResult) with_key = tool_run_full (url, TEST_KEY,
      "{\"k\": 1}\n", (const gchar *[]) { "realtime", "local/echo", NULL });

  fail_unless_equals_int (anonymous->status, 1);
  assert_one_error_line (anonymous, "gst-fal: local/echo realtime: HTTP 401");
  fail_unless_equals_int (with_key->status, 0);
  fail_unless_equals_string (with_key->out, "{\"k\":1}\n");
  fail_unless (strstr (with_key->err, TEST_KEY) == NULL);
  fail_unless_equals_int (serve_stop (server, SIGTERM), 0);
}

GST_END_TEST;

static Suite *
cli_suite (void)
{
  Suite *s = suite_create ("gst-fal");
  TCase *shared = tcase_create ("shared-server");
  TCase *own = tcase_create ("own-server");

  suite_add_tcase (s, shared);
  tcase_add_unchecked_fixture (shared, shared_server_start, shared_server_stop);
  tcase_add_test (shared, test_run_echo);
  tcase_add_test (shared, test_run_server_option);
  tcase_add_test (shared, test_run_local_without_server);
  tcase_add_test (shared, test_numbers_unchanged);
  tcase_add_test (shared, test_args_file_and_stdin);
  tcase_add_test (shared, test_usage_errors);
  tcase_add_test (shared, test_unknown_app);
  tcase_add_test (shared, test_fail);
  tcase_add_test (shared, test_subscribe_sleep_logs);
  tcase_add_test (shared, test_submit_status_result);
  tcase_add_test (shared, test_submit_cancel_sleep);
  tcase_add_test (shared, test_interrupt);
  tcase_add_test (shared, test_webhook);
  tcase_add_test (shared, test_progress_on_terminal);
  tcase_add_test (shared, test_stream_counter);
  tcase_add_test (shared, test_upload);
  tcase_add_test (shared, test_realtime_echo);
  tcase_add_test (shared, test_realtime_errors);
  tcase_add_test (shared, test_realtime_throttle);

  suite_add_tcase (s, own);
  tcase_add_test (own, test_help);
  tcase_add_test (own, test_apps);
  tcase_add_test (own, test_apps_backend);
  tcase_add_test (own, test_serve_key);
  tcase_add_test (own, test_realtime_key);
  tcase_add_test (own, test_serve_tls);
  tcase_add_test (own, test_serve_tls_usage_errors);
  tcase_add_test (own, test_serve_refuses_public_bind_without_key);
  tcase_add_test (own, test_serve_refuses_public_bind_with_blank_key);
  tcase_add_test (own, test_serve_admin);
  tcase_add_test (own, test_serve_signals);
  tcase_add_test (own, test_timeout);
  tcase_add_test (own, test_timeout_silent_server);
  tcase_add_test (own, test_start_timeout);
  tcase_add_test (own, test_deep_json);
  return s;
}

GST_CHECK_MAIN (cli);
