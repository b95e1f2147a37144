/* Helpers of the command-line tests: run gst-fal as a subprocess, and the
 * shared `gst-fal serve` of a test case. */
#pragma once

#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The shared server, started by the parent for the whole test case. */
static GPid shared_pid;
static gchar *shared_url;

typedef struct
{
  gint status;                  /* exit status, or 128 + signal */
  gchar *out;
  gchar *err;
} ToolResult;

static inline void
tool_result_free (ToolResult * res)
{
  g_free (res->out);
  g_free (res->err);
  g_free (res);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ToolResult, tool_result_free);

/* Children die with the test process, even when an assertion kills it. */
static inline void
die_with_parent (gpointer unused)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static inline const gchar *
tool_path (void)
{
  const gchar *tool = g_getenv ("GST_FAL_TOOL");

  fail_unless (tool && *tool, "GST_FAL_TOOL is not set");
  return tool;
}

static inline GSubprocessLauncher *
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

static inline gint
exit_status_of (GSubprocess * proc)
{
  if (g_subprocess_get_if_exited (proc))
    return g_subprocess_get_exit_status (proc);
  fail_unless (g_subprocess_get_if_signaled (proc));
  return 128 + g_subprocess_get_term_sig (proc);
}

/* Runs gst-fal with @args (NULL-terminated), GST_FAL_URL=@url (unset when
 * NULL), FAL_KEY=@key, @input on standard input. */
static inline ToolResult *
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

static inline guint
count_lines (const gchar * text)
{
  guint n = 0;

  for (; *text; text++)
    n += *text == '\n';
  return n;
}

static inline JsonNode *
parse_json (const gchar * text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  fail_unless (json_parser_load_from_data (parser, text, -1, &error),
      "not JSON: %s (%s)", text, error ? error->message : "");
  fail_unless (json_parser_get_root (parser) != NULL, "empty output");
  return json_parser_steal_root (parser);
}

/* The shared server: spawned without GSubprocess, whose GLib worker thread
 * would not survive the fork of each test. */
static inline void
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

static inline void
shared_server_stop (void)
{
  int wstatus;

  kill (shared_pid, SIGTERM);
  waitpid (shared_pid, &wstatus, 0);
  g_spawn_close_pid (shared_pid);
  g_clear_pointer (&shared_url, g_free);
}

