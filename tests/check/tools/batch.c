/* gst-fal batch: JSON Lines in, one line per item out, against `gst-fal
 * serve`; a kill half way and --resume, Ctrl-C, bad lines, exit statuses */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <pty.h>
#include <string.h>

#include "tools/faltool.h"

static gchar *scratch;

static void
scratch_setup (void)
{
  scratch = g_dir_make_tmp ("gst-fal-batch-XXXXXX", NULL);
  fail_unless (scratch != NULL);
}

static void
scratch_teardown (void)
{
  g_autoptr (GDir) dir = g_dir_open (scratch, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree gchar *path = g_build_filename (scratch, name, NULL);

    g_unlink (path);
  }
  g_rmdir (scratch);
  g_clear_pointer (&scratch, g_free);
}

/* @n lines of local/sleep input: {"seconds": @seconds, "i": i} */
static gchar *
sleep_lines (guint n, const gchar * seconds)
{
  GString *text = g_string_new (NULL);
  guint i;

  for (i = 0; i < n; i++)
    g_string_append_printf (text, "{\"seconds\": %s, \"i\": %u}\n", seconds, i);
  return g_string_free (text, FALSE);
}

static gchar *
write_input (const gchar * name, const gchar * text)
{
  gchar *path = g_build_filename (scratch, name, NULL);

  fail_unless (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* The output lines, each a JSON object; @seen[i] counts index i. */
static GPtrArray *
read_items (const gchar * text, guint n, guint * seen)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  guint i;

  for (i = 0; lines[i]; i++) {
    JsonNode *node;
    gint64 index;

    if (!*lines[i])
      continue;
    node = parse_json (lines[i]);
    fail_unless (JSON_NODE_HOLDS_OBJECT (node), "not an object: %s", lines[i]);
    index = json_object_get_int_member (json_node_get_object (node), "index");
    fail_unless (index >= 0 && index < n, "index %" G_GINT64_FORMAT, index);
    seen[index]++;
    g_ptr_array_add (items, node);
  }
  return items;
}

static void
assert_each_once (const guint * seen, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    fail_unless_equals_int (seen[i], 1);
}

static JsonObject *
item_error (JsonNode * item)
{
  JsonObject *object = json_node_get_object (item);

  if (!json_object_has_member (object, "error"))
    return NULL;
  return json_object_get_object_member (object, "error");
}

GST_START_TEST (test_batch_echo_and_bad_lines)
{
  const gchar *input = "{\"n\": 0}\n{\"n\": 1}\nnot json\n\n{\"n\": 3}\n"
      "[1, 2]\n{\"n\": 5}\n";
  g_autoptr (ToolResult) res = tool_run_input (shared_url, input, "batch",
      "--concurrency", "2", "local/echo", "-");
  guint seen[6] = { 0 };
  g_autoptr (GPtrArray) items = read_items (res->out, 6, seen);
  guint i;

  fail_unless_equals_int (res->status, 1);
  assert_each_once (seen, 6);
  for (i = 0; i < items->len; i++) {
    JsonObject *object = json_node_get_object (items->pdata[i]);
    gint64 index = json_object_get_int_member (object, "index");
    JsonObject *error = item_error (items->pdata[i]);

    if (index == 2 || index == 4) {
      /* the line numbers count the blank line */
      fail_unless (error != NULL);
      fail_unless (JSON_NODE_HOLDS_NULL (json_object_get_member (object,
                  "request_id")));
      fail_unless_equals_string (json_object_get_string_member (error,
              "type"), "invalid_input");
      fail_unless (g_str_has_prefix (json_object_get_string_member (error,
                  "detail"), index == 2 ? "line 3: " : "line 6: not a JSON"),
          "%s", json_object_get_string_member (error, "detail"));
    } else {
      JsonObject *result = json_object_get_object_member (object, "result");

      fail_unless (error == NULL);
      fail_unless (json_object_get_string_member (object, "request_id"));
      fail_unless_equals_int (json_object_get_int_member (result, "n"),
          index == 5 ? 5 : index == 3 ? 3 : index);
    }
  }
  fail_unless (strstr (res->err, "Succeeded: 4, Failed: 2\n"), "%s", res->err);
  fail_unless (strstr (res->err, "  invalid input: 2\n"), "%s", res->err);
}

GST_END_TEST;

GST_START_TEST (test_batch_all_succeed_exit_0)
{
  g_autofree gchar *path = write_input ("in.jsonl", "{\"a\": 1}\n{\"a\": 2}");
  g_autoptr (ToolResult) res = tool_run (shared_url, "batch", "local/echo",
      path);
  guint seen[2] = { 0 };
  g_autoptr (GPtrArray) items = read_items (res->out, 2, seen);

  fail_unless_equals_int (res->status, 0);
  assert_each_once (seen, 2);
  fail_unless (strstr (res->err, "Succeeded: 2, Failed: 0\n"));
}

GST_END_TEST;

GST_START_TEST (test_batch_failures_grouped)
{
  const gchar *input = "{\"status\": 422}\n{\"status\": 422}\n"
      "{\"status\": 500}\n";
  g_autoptr (ToolResult) res = tool_run_input (shared_url, input, "batch",
      "--retries", "0", "local/fail");
  guint seen[3] = { 0 };
  g_autoptr (GPtrArray) items = read_items (res->out, 3, seen);
  guint i;

  fail_unless_equals_int (res->status, 1);
  assert_each_once (seen, 3);
  for (i = 0; i < items->len; i++) {
    JsonObject *error = item_error (items->pdata[i]);

    fail_unless (error != NULL);
    fail_unless (json_object_get_int_member (error, "status") == 422
        || json_object_get_int_member (error, "status") == 500);
  }
  fail_unless (strstr (res->err, "Succeeded: 0, Failed: 3\n"), "%s", res->err);
  fail_unless (strstr (res->err, "  HTTP 422 validation: 2\n"), "%s", res->err);
  fail_unless (strstr (res->err, "  HTTP 500 server error: 1\n"), "%s",
      res->err);
}

GST_END_TEST;

/* Items that take longer the earlier they are come out in input order. */
GST_START_TEST (test_batch_ordered)
{
  GString *input = g_string_new (NULL);
  g_autoptr (ToolResult) res = NULL;
  g_auto (GStrv) lines = NULL;
  guint i;

  for (i = 0; i < 8; i++)
    g_string_append_printf (input, "{\"seconds\": %.2f}\n", (8 - i) * 0.05);
  res = tool_run_input (shared_url, input->str, "batch", "--ordered",
      "--concurrency", "4", "local/sleep");
  g_string_free (input, TRUE);
  fail_unless_equals_int (res->status, 0);
  lines = g_strsplit (res->out, "\n", -1);
  for (i = 0; i < 8; i++) {
    g_autoptr (JsonNode) node = parse_json (lines[i]);

    fail_unless_equals_int (json_object_get_int_member (json_node_get_object
            (node), "index"), i);
  }
}

GST_END_TEST;

GST_START_TEST (test_batch_usage_errors)
{
  g_autoptr (ToolResult) no_app = tool_run (shared_url, "batch");
  g_autoptr (ToolResult) resume = tool_run (shared_url, "batch", "--resume",
      "local/echo", "-");
  g_autoptr (ToolResult) zero = tool_run (shared_url, "batch",
      "--concurrency", "0", "local/echo", "-");
  g_autoptr (ToolResult) missing = tool_run (shared_url, "batch",
      "local/echo", "/nonexistent/input.jsonl");

  fail_unless_equals_int (no_app->status, 2);
  fail_unless_equals_int (resume->status, 2);
  fail_unless (strstr (resume->err, "--resume needs --output"));
  fail_unless_equals_int (zero->status, 2);
  fail_unless_equals_int (missing->status, 2);
  fail_unless (strstr (missing->err, "/nonexistent/input.jsonl"));
}

GST_END_TEST;

static guint
lines_in (const gchar * path)
{
  g_autofree gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  return count_lines (text);
}

/* Starts a batch writing to @output, waits until it wrote @lines lines,
 * then sends it @signum. Returns its exit status. */
static gint
run_until (const gchar * input, const gchar * output, guint lines,
    gint signum, const gchar * concurrency)
{
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (shared_url, NULL,
      G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;

  proc = g_subprocess_launcher_spawn (launcher, &error, tool_path (),
      "batch", "--concurrency", concurrency, "--output", output,
      "local/sleep", input, NULL);
  fail_unless (proc != NULL);
  while (lines_in (output) < lines) {
    fail_if (g_subprocess_get_identifier (proc) == NULL,
        "the batch ended early");
    g_usleep (10 * 1000);
  }
  g_subprocess_send_signal (proc, signum);
  fail_unless (g_subprocess_wait (proc, NULL, NULL));
  return exit_status_of (proc);
}

/* Killed half way, started again with --resume: every item exactly once,
 * even after a partly written last line. */
GST_START_TEST (test_batch_resume_after_kill)
{
  g_autofree gchar *text = sleep_lines (120, "0.01");
  g_autofree gchar *input = write_input ("in.jsonl", text);
  g_autofree gchar *output = g_build_filename (scratch, "out.jsonl", NULL);
  g_autofree gchar *written = NULL;
  g_autoptr (ToolResult) res = NULL;
  g_autoptr (GPtrArray) items = NULL;
  guint seen[120] = { 0 };
  FILE *file;

  fail_unless_equals_int (run_until (input, output, 60, SIGKILL, "4"),
      128 + SIGKILL);
  fail_unless (lines_in (output) < 120);
  /* as a write cut short would leave it */
  file = fopen (output, "a");
  fputs ("{\"index\": 119, \"request_id\": \"cut", file);
  fclose (file);

  res = tool_run (shared_url, "batch", "--concurrency", "4", "--output",
      output, "--resume", "local/sleep", input);
  fail_unless_equals_int (res->status, 0);
  fail_unless_equals_string (res->out, "");
  fail_unless (strstr (res->err, "Resumed: "), "%s", res->err);
  fail_unless (g_file_get_contents (output, &written, NULL, NULL));
  items = read_items (written, 120, seen);
  assert_each_once (seen, 120);
  fail_unless_equals_int (items->len, 120);
}

GST_END_TEST;

/* --resume reads the indexes of a file it may not have written whole (or at
 * all): an index that is not an input's is refused, naming the line, instead
 * of being taken as a bit of a table sized from it. */
GST_START_TEST (test_batch_resume_refuses_bad_index)
{
  g_autofree gchar *input = write_input ("in.jsonl", "{\"a\": 1}\n");
  g_autofree gchar *output = write_input ("out.jsonl",
      "{\"index\": 0}\n{\"index\": 34359738368}\n");
  g_autofree gchar *text_index = write_input ("text.jsonl",
      "{\"index\": \"0\"}\n");
  g_autoptr (ToolResult) huge = tool_run (shared_url, "batch", "--output",
      output, "--resume", "local/echo", input);
  g_autoptr (ToolResult) text = tool_run (shared_url, "batch", "--output",
      text_index, "--resume", "local/echo", input);

  fail_unless_equals_int (huge->status, 2);
  fail_unless (strstr (huge->err, "line 2"), "%s", huge->err);
  fail_unless (strstr (huge->err, "34359738368"), "%s", huge->err);
  fail_unless_equals_int (text->status, 2);
  fail_unless (strstr (text->err, "line 1"), "%s", text->err);
}

GST_END_TEST;

/* Ctrl-C: exits 130 and keeps every line written, each whole and done. */
GST_START_TEST (test_batch_interrupt)
{
  g_autofree gchar *text = sleep_lines (200, "0.05");
  g_autofree gchar *input = write_input ("in.jsonl", text);
  g_autofree gchar *output = g_build_filename (scratch, "out.jsonl", NULL);
  g_autofree gchar *written = NULL;
  g_autoptr (GPtrArray) items = NULL;
  guint seen[200] = { 0 };
  guint i;

  fail_unless_equals_int (run_until (input, output, 4, SIGINT, "2"), 130);
  fail_unless (g_file_get_contents (output, &written, NULL, NULL));
  fail_unless (g_str_has_suffix (written, "\n"));
  items = read_items (written, 200, seen);
  fail_unless (items->len >= 4 && items->len < 200);
  for (i = 0; i < 200; i++)
    fail_unless (seen[i] <= 1);
  /* an item stopped by the interruption is not written: a resumed batch
   * runs it */
  for (i = 0; i < items->len; i++)
    fail_unless (item_error (items->pdata[i]) == NULL);
}

GST_END_TEST;

/* On a terminal, a live progress line; off one, only the summary. */
GST_START_TEST (test_batch_progress_on_terminal)
{
  g_autofree gchar *text = sleep_lines (6, "0.05");
  g_autofree gchar *input = write_input ("in.jsonl", text);
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (shared_url, NULL,
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (ToolResult) plain = NULL;
  GString *terminal = g_string_new (NULL);
  g_autofree gchar *shown = NULL;
  gint master, slave;
  gchar buf[1024];
  gssize n;

  fail_unless (openpty (&master, &slave, NULL, NULL, NULL) == 0);
  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  proc = g_subprocess_launcher_spawn (launcher, NULL, tool_path (), "batch",
      "--concurrency", "2", "local/sleep", input, NULL);
  fail_unless (proc != NULL);
  g_clear_object (&launcher);   /* closes our copy of the terminal */
  fail_unless (g_subprocess_wait (proc, NULL, NULL));
  fail_unless_equals_int (exit_status_of (proc), 0);
  while ((n = read (master, buf, sizeof buf)) > 0)
    g_string_append_len (terminal, buf, n);
  close (master);
  shown = g_string_free (terminal, FALSE);
  /* the last item is always shown, with the total known */
  fail_unless (strstr (shown, "\r\033[K6/6 done, 6 succeeded, 0 failed"),
      "%s", shown);
  fail_unless (strstr (shown, "Succeeded: 6, Failed: 0"), "%s", shown);

  plain = tool_run (shared_url, "batch", "local/sleep", input);
  fail_unless_equals_int (plain->status, 0);
  fail_unless_equals_string (plain->err, "Succeeded: 6, Failed: 0\n");
}

GST_END_TEST;

static Suite *
batch_suite (void)
{
  Suite *s = suite_create ("gst-fal batch");
  TCase *tc = tcase_create ("batch");

  tcase_add_unchecked_fixture (tc, shared_server_start, shared_server_stop);
  tcase_add_checked_fixture (tc, scratch_setup, scratch_teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_batch_echo_and_bad_lines);
  tcase_add_test (tc, test_batch_all_succeed_exit_0);
  tcase_add_test (tc, test_batch_failures_grouped);
  tcase_add_test (tc, test_batch_ordered);
  tcase_add_test (tc, test_batch_usage_errors);
  tcase_add_test (tc, test_batch_resume_after_kill);
  tcase_add_test (tc, test_batch_resume_refuses_bad_index);
  tcase_add_test (tc, test_batch_interrupt);
  tcase_add_test (tc, test_batch_progress_on_terminal);
  return s;
}

GST_CHECK_MAIN (batch);
