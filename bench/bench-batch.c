/* bench-batch: the figures of issue 12 for `gst-fal batch`, side by side in
 * one run, against one `gst-fal serve` (a process of its own):
 *
 *  (a) items/s of `gst-fal batch --concurrency C` over N items of
 *      local/echo vs a shell loop of `gst-fal run` (fewer items, the rates
 *      compared);
 *  (b) client CPU per item of that batch ((CPU of N items − CPU of 1 item,
 *      the start-up) / (N − 1), utime + stime of the process from wait4)
 *      vs the library's blocking gst_fal_client_subscribe() one at a time
 *      (a child process, CPU of the loop after a warm-up);
 *  (c) peak RSS (ru_maxrss) of `gst-fal batch --concurrency C` over L input
 *      lines generated on the fly through a pipe;
 *  (d) a batch killed (SIGKILL) half way, then run again with --resume:
 *      every index exactly once in the output;
 *  (e) the server's CPU per item of the batch of (a) (utime + stime from
 *      /proc/PID/stat before and after it), to follow the server's cost.
 *
 * Rounds interleave (a) and (b); figures are medians over rounds.
 *
 *   bench-batch [--n 10000] [--loop-n 200] [--subscribe-n 2000]
 *       [--concurrency 32] [--rounds 3] [--rss-lines 1000000]
 *       [--resume-n 2000]
 *
 * Writes $BENCH_RESULTS/p8-batch.{json,md} (default bench/results of the
 * source tree it was built from).
 */
#define _GNU_SOURCE             /* pipe2 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/fal/gstfal.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include "benchstats.h"

static gint n_items = 10000;
static gint loop_n = 200;
static gint subscribe_n = 2000;
static gint concurrency = 32;
static gint rounds = 3;
static gint rss_lines = 1000000;
static gint resume_n = 2000;
static gchar *subscribe_child_url;

typedef struct
{
  gint status;
  gint64 wall_us;
  gint64 cpu_us;
  glong maxrss_kb;
} Run;

static const gchar *
tool (void)
{
  const gchar *path = g_getenv ("GST_FAL_TOOL");

  return path && *path ? path : BENCH_BUILD_ROOT "/tools/gst-fal";
}

static gint64
rusage_cpu_us (const struct rusage *usage)
{
  return usage->ru_utime.tv_sec * G_USEC_PER_SEC + usage->ru_utime.tv_usec +
      usage->ru_stime.tv_sec * G_USEC_PER_SEC + usage->ru_stime.tv_usec;
}

/* Starts @argv with standard input from @input_fd (-1: /dev/null) and
 * standard output to @output (NULL: /dev/null). */
static pid_t
spawn (const gchar * const *argv, int input_fd, const gchar * output)
{
  pid_t pid = fork ();

  g_assert (pid >= 0);
  if (pid == 0) {
    int in = input_fd >= 0 ? input_fd : open ("/dev/null", O_RDONLY);
    int out = open (output ? output : "/dev/null",
        O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open ("/dev/null", O_WRONLY);

    dup2 (in, 0);
    dup2 (out, 1);
    dup2 (err, 2);
    execv (argv[0], (char **) argv);
    _exit (127);
  }
  return pid;
}

static Run
wait_run (pid_t pid, gint64 start)
{
  struct rusage usage;
  int wstatus;
  Run run = { 0 };

  while (wait4 (pid, &wstatus, 0, &usage) < 0 && errno == EINTR);
  run.wall_us = g_get_monotonic_time () - start;
  run.cpu_us = rusage_cpu_us (&usage);
  run.maxrss_kb = usage.ru_maxrss;
  run.status = WIFEXITED (wstatus) ? WEXITSTATUS (wstatus) :
      128 + WTERMSIG (wstatus);
  return run;
}

static Run
run_argv (const gchar * const *argv, const gchar * output)
{
  gint64 start = g_get_monotonic_time ();

  return wait_run (spawn (argv, -1, output), start);
}

static gchar *
write_lines (const gchar * dir, gint n)
{
  gchar *path = g_build_filename (dir, "input.jsonl", NULL);
  FILE *file = fopen (path, "w");
  gint i;

  for (i = 0; i < n; i++)
    fprintf (file, "{\"i\": %d, \"text\": \"item %d\"}\n", i, i);
  fclose (file);
  return path;
}

static Run
run_batch (const gchar * input, const gchar * output)
{
  g_autofree gchar *c = g_strdup_printf ("%d", concurrency);
  const gchar *argv[] = { tool (), "batch", "--concurrency", c, "local/echo",
    input, NULL
  };

  return run_argv (argv, output);
}

static Run
run_shell_loop (void)
{
  g_autofree gchar *script = g_strdup_printf ("i=0; while [ $i -lt %d ]; do "
      "\"%s\" run local/echo \"{\\\"i\\\": $i}\" >/dev/null || exit 1; "
      "i=$((i+1)); done", loop_n, tool ());
  const gchar *argv[] = { "/bin/sh", "-c", script, NULL };

  return run_argv (argv, NULL);
}

/* The blocking subscribe loop, in a child: prints its CPU after warm-up. */
static int
subscribe_child (void)
{
  g_autoptr (GstFalClient) client =
      gst_fal_client_new_for_url (subscribe_child_url);
  struct rusage usage;
  gint64 cpu0 = 0;
  gint i, failed = 0;

  for (i = -100; i < subscribe_n; i++) {
    g_autofree gchar *text = g_strdup_printf ("{\"i\": %d, \"text\": "
        "\"item %d\"}", i, i);
    g_autoptr (JsonNode) arguments = json_from_string (text, NULL);
    g_autoptr (JsonNode) result = NULL;

    if (i == 0) {
      getrusage (RUSAGE_SELF, &usage);
      cpu0 = rusage_cpu_us (&usage);
    }
    result = gst_fal_client_subscribe (client, "local/echo", arguments, NULL,
        NULL, NULL, NULL, NULL);
    failed += result == NULL;
  }
  getrusage (RUSAGE_SELF, &usage);
  printf ("%" G_GINT64_FORMAT " %d\n", rusage_cpu_us (&usage) - cpu0, failed);
  return failed ? 1 : 0;
}

static gint64
run_subscribe_loop (const gchar * self, const gchar * url)
{
  g_autofree gchar *n = g_strdup_printf ("%d", subscribe_n);
  const gchar *argv[] = { self, "--subscribe-child", url, "--subscribe-n", n,
    NULL
  };
  g_autofree gchar *out = NULL;
  gint wstatus;

  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
          NULL, NULL, &out, NULL, &wstatus, NULL) || wstatus != 0)
    g_error ("the subscribe loop failed");
  return g_ascii_strtoll (out, NULL, 10);
}

/* utime + stime of process @pid so far, in µs. */
static gint64
process_cpu_us (GPid pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", (gint) pid);
  g_autofree gchar *text = NULL;
  g_auto (GStrv) fields = NULL;
  const gchar *after_name;

  if (!g_file_get_contents (path, &text, NULL, NULL)
      || !(after_name = strrchr (text, ')')))
    g_error ("cannot read %s", path);
  /* after "(comm)": state is field 3, utime 14 and stime 15 */
  fields = g_strsplit (after_name + 2, " ", 14);
  g_assert (g_strv_length (fields) == 14);
  return (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12],
          NULL, 10)) * G_USEC_PER_SEC / sysconf (_SC_CLK_TCK);
}

static gchar *
start_server (GPid * pid)
{
  const gchar *argv[] = { tool (), "serve", "--port", "0", "--workers", "4",
    NULL
  };
  GString *line = g_string_new (NULL);
  gint out_fd;
  gchar c;

  if (!g_spawn_async_with_pipes (NULL, (gchar **) argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
          pid, NULL, &out_fd, NULL, NULL))
    g_error ("cannot start %s serve", tool ());
  while (read (out_fd, &c, 1) == 1 && c != '\n')
    g_string_append_c (line, c);
  close (out_fd);
  return g_string_free (line, FALSE);
}

/* (c): @lines lines written into the batch's standard input as it reads. */
static Run
run_rss (void)
{
  g_autofree gchar *c = g_strdup_printf ("%d", concurrency);
  const gchar *argv[] = { tool (), "batch", "--concurrency", c, "local/echo",
    "-", NULL
  };
  int fds[2];
  gint64 start = g_get_monotonic_time ();
  pid_t pid;
  FILE *in;
  gint i;

  /* close-on-exec: the batch must see the end of its input */
  g_assert (pipe2 (fds, O_CLOEXEC) == 0);
  pid = spawn (argv, fds[0], NULL);
  close (fds[0]);
  in = fdopen (fds[1], "w");
  for (i = 0; i < rss_lines; i++)
    fprintf (in, "{\"i\": %d, \"text\": \"item %d\"}\n", i, i);
  fclose (in);
  return wait_run (pid, start);
}

static guint
count_lines (const gchar * path)
{
  g_autofree gchar *text = NULL;
  guint n = 0;
  gchar *p;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (p = text; *p; p++)
    n += *p == '\n';
  return n;
}

/* (d): the number of indexes seen exactly once (resume_n when all are). */
static gint
run_resume (const gchar * dir, guint * at_kill)
{
  g_autofree gchar *input = write_lines (dir, resume_n);
  g_autofree gchar *output = g_build_filename (dir, "resume.jsonl", NULL);
  g_autofree gchar *c = g_strdup_printf ("%d", concurrency);
  const gchar *argv[] = { tool (), "batch", "--concurrency", c, "--output",
    output, "local/echo", input, NULL
  };
  const gchar *again[] = { tool (), "batch", "--concurrency", c, "--output",
    output, "--resume", "local/echo", input, NULL
  };
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree guint *seen = g_new0 (guint, resume_n);
  pid_t pid;
  gint i, once = 0;

  pid = spawn (argv, -1, NULL);
  while ((*at_kill = count_lines (output)) < (guint) resume_n / 2)
    g_usleep (1000);
  kill (pid, SIGKILL);
  wait_run (pid, 0);
  *at_kill = count_lines (output);
  if (run_argv (again, NULL).status != 0)
    return -1;
  g_file_get_contents (output, &text, NULL, NULL);
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++) {
    g_autoptr (JsonNode) node = NULL;
    gint64 index;

    if (!*lines[i])
      continue;
    node = json_from_string (lines[i], NULL);
    if (!node || !JSON_NODE_HOLDS_OBJECT (node))
      return -1;
    index = json_object_get_int_member (json_node_get_object (node), "index");
    if (index < 0 || index >= resume_n)
      return -1;
    seen[index]++;
  }
  for (i = 0; i < resume_n; i++)
    once += seen[i] == 1;
  return once;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"n", 0, 0, G_OPTION_ARG_INT, &n_items, "items of the batch", "N"},
    {"loop-n", 0, 0, G_OPTION_ARG_INT, &loop_n, "items of the shell loop",
        "N"},
    {"subscribe-n", 0, 0, G_OPTION_ARG_INT, &subscribe_n,
        "subscribes one at a time", "N"},
    {"concurrency", 0, 0, G_OPTION_ARG_INT, &concurrency, "of the batch",
        "N"},
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "interleaved rounds", "R"},
    {"rss-lines", 0, 0, G_OPTION_ARG_INT, &rss_lines,
        "input lines of the RSS run", "L"},
    {"resume-n", 0, 0, G_OPTION_ARG_INT, &resume_n,
        "items of the resume run", "N"},
    {"subscribe-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING,
        &subscribe_child_url, NULL, NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GArray) ratio_rate = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) batch_rate = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) loop_rate = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) batch_cpu = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) sub_cpu = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) ratio_cpu = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) server_cpu = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autofree gchar *dir = NULL;
  g_autofree gchar *input = NULL;
  g_autofree gchar *one = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *json = NULL;
  g_autofree gchar *md = NULL;
  const gchar *results = g_getenv ("BENCH_RESULTS");
  g_autofree gchar *json_path = NULL;
  g_autofree gchar *md_path = NULL;
  gdouble rate_ratio, cpu_ratio, rss_mb;
  guint at_kill;
  gint once, r;
  GPid server;
  Run rss;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, NULL))
    return 2;
  if (subscribe_child_url)
    return subscribe_child ();

  g_unsetenv ("GST_FAL_URL");
  url = start_server (&server);
  g_setenv ("GST_FAL_URL", url, TRUE);
  dir = g_dir_make_tmp ("bench-batch-XXXXXX", NULL);
  input = write_lines (dir, n_items);
  one = g_build_filename (dir, "one.jsonl", NULL);
  g_file_set_contents (one, "{\"i\": 0, \"text\": \"item 0\"}\n", -1, NULL);
  /* warm-up: the server's first requests */
  run_batch (one, NULL);

  for (r = 0; r < rounds; r++) {
    Run loop = run_shell_loop ();
    gint64 server0 = process_cpu_us (server);
    Run batch = run_batch (input, NULL);
    gdouble svc = (process_cpu_us (server) - server0) / (gdouble) n_items;
    Run single = run_batch (one, NULL);
    gint64 subscribe_us = run_subscribe_loop (argv[0], url);
    gdouble br = n_items / (batch.wall_us / 1e6);
    gdouble lr = loop_n / (loop.wall_us / 1e6);
    gdouble bc = (batch.cpu_us - single.cpu_us) / (gdouble) (n_items - 1);
    gdouble sc = subscribe_us / (gdouble) subscribe_n;
    gdouble x;

    if (loop.status != 0 || batch.status != 0 || single.status != 0)
      g_error ("round %d: a run failed (%d %d %d)", r, loop.status,
          batch.status, single.status);
    g_array_append_val (batch_rate, br);
    g_array_append_val (loop_rate, lr);
    x = br / lr;
    g_array_append_val (ratio_rate, x);
    g_array_append_val (batch_cpu, bc);
    g_array_append_val (sub_cpu, sc);
    x = bc / sc;
    g_array_append_val (ratio_cpu, x);
    g_array_append_val (server_cpu, svc);
    g_printerr ("round %d: batch %.0f items/s, loop %.1f items/s (%.0fx); "
        "CPU/item batch %.0f us, subscribe %.0f us (%.2fx); server %.0f us\n",
        r, br, lr, br / lr, bc, sc, bc / sc, svc);
  }

  rss = run_rss ();
  rss_mb = rss.maxrss_kb / 1024.0;
  g_printerr ("RSS over %d lines: %.1f MB (exit %d, %.0f s)\n", rss_lines,
      rss_mb, rss.status, rss.wall_us / 1e6);
  once = run_resume (dir, &at_kill);
  g_printerr ("resume: killed at %u of %d lines, %d of %d exactly once\n",
      at_kill, resume_n, once, resume_n);

  kill (server, SIGTERM);
  waitpid (server, NULL, 0);

  rate_ratio = bench_median (ratio_rate);
  cpu_ratio = bench_median (ratio_cpu);
  json = g_strdup_printf ("{\"n\": %d, \"loop_n\": %d, \"subscribe_n\": %d, "
      "\"concurrency\": %d, \"rounds\": %d,\n \"batch_items_per_s\": %.1f, "
      "\"loop_items_per_s\": %.2f, \"rate_ratio\": %.1f,\n"
      " \"batch_cpu_us_per_item\": %.1f, \"subscribe_cpu_us_per_item\": %.1f, "
      "\"cpu_ratio\": %.3f,\n \"server_cpu_us_per_item\": %.1f, \"rss_lines\": %d, \"rss_exit\": %d, "
      "\"rss_peak_mb\": %.1f, \"rss_wall_s\": %.1f,\n \"resume_n\": %d, "
      "\"resume_killed_at\": %u, \"resume_exactly_once\": %d}\n", n_items,
      loop_n, subscribe_n, concurrency, rounds, bench_median (batch_rate),
      bench_median (loop_rate), rate_ratio, bench_median (batch_cpu), bench_median (sub_cpu),
      cpu_ratio, bench_median (server_cpu), rss_lines, rss.status, rss_mb, rss.wall_us / 1e6, resume_n,
      at_kill, once);
  md = g_strdup_printf ("| figure | measured | goal |\n|---|---|---|\n"
      "| %d items of local/echo, `--concurrency %d`: items/s vs a shell loop "
      "of `gst-fal run` (%d items) | %.0f vs %.1f: **%.0f×** | ≥ 50× |\n"
      "| client CPU per item vs blocking `subscribe` one at a time "
      "(%d) | %.0f µs vs %.0f µs: **%.2f×** | ≤ 1.0× |\n"
      "| peak RSS over %d input lines, `--concurrency %d` | **%.1f MB** "
      "(%.0f s) | ≤ 50 MB |\n"
      "| `--resume` after a kill at %u of %d | **%d of %d** exactly once | "
      "every item exactly once |\n"
      "| server CPU per item of the batch | **%.0f µs** | (followed) |\n", n_items, concurrency, loop_n,
      bench_median (batch_rate), bench_median (loop_rate), rate_ratio, subscribe_n,
      bench_median (batch_cpu), bench_median (sub_cpu), cpu_ratio, rss_lines,
      concurrency, rss_mb, rss.wall_us / 1e6, at_kill, resume_n, once,
      resume_n, bench_median (server_cpu));
  printf ("%s\n%s", json, md);

  if (!results || !*results)
    results = BENCH_SOURCE_ROOT "/bench/results";
  g_mkdir_with_parents (results, 0755);
  json_path = g_build_filename (results, "p8-batch.json", NULL);
  md_path = g_build_filename (results, "p8-batch.md", NULL);
  g_file_set_contents (json_path, json, -1, NULL);
  g_file_set_contents (md_path, md, -1, NULL);
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const gchar *name;

    while (d && (name = g_dir_read_name (d))) {
      g_autofree gchar *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
    g_rmdir (dir);
  }
  return rate_ratio >= 50 && cpu_ratio <= 1.0 && rss_mb <= 50 && rss.status
      == 0 && once == resume_n ? 0 : 1;
}
