/* bench-client: per-request overhead of the fal queue path on loopback.
 *
 * Runs an in-process local server (8 workers) and measures:
 *  (a) subscribe latency (submit → result) following the SSE status stream vs
 *      polling every 0.1 s (our default) and 0.5 s (fal's JS client default),
 *      with local/echo (done at once) and local/sleep of 20 ms;
 *  (b) throughput of 1, 4, 16 and 64 concurrent async subscribes to local/echo;
 *  (c) sync run latency (POST /run) of local/echo.
 * Every figure is printed next to a ratio measured in the same run. Each
 * series stops at its iteration count or its time budget, whichever is first.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/fal/gstfal.h>
#include <gst/falserver/gstfalserver.h>
#include "benchnet.h"

#define SERVER_WORKERS 8
#define ECHO "local/echo"
#define SLEEP "local/sleep"
#define SLEEP_SECONDS 0.02
#define SERIES_BUDGET_USEC (8 * G_USEC_PER_SEC)
#define THROUGHPUT_BUDGET_USEC (5 * G_USEC_PER_SEC)

static gint iterations = 200;

typedef struct
{
  gint64 *usec;
  guint n;
  gdouble median_ms;
  gdouble p95_ms;
} Series;

static gint
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static void
series_finish (Series * s)
{
  guint p95 = (s->n * 95 + 99) / 100;

  qsort (s->usec, s->n, sizeof (gint64), compare_gint64);
  s->median_ms = s->usec[s->n / 2] / 1000.0;
  s->p95_ms = s->usec[MAX (p95, 1) - 1] / 1000.0;
}

static JsonNode *
make_input (const gchar * app, gint i)
{
  g_autofree gchar *text = g_str_equal (app, SLEEP) ?
      g_strdup_printf ("{\"seconds\": %g}", SLEEP_SECONDS) :
      g_strdup_printf ("{\"index\": %d}", i);

  return json_from_string (text, NULL);
}

/* One timed call: a blocking subscribe (with @options) or, without options,
 * a blocking sync run. Aborts the benchmark on any failure. */
static gint64
timed_call (GstFalClient * client, const gchar * app, GstFalOptions * options,
    gint i)
{
  g_autoptr (JsonNode) input = make_input (app, i);
  g_autoptr (JsonNode) output = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (options)
    output = gst_fal_client_subscribe (client, app, input, options, NULL, NULL,
        NULL, &error);
  else
    output = gst_fal_client_run (client, app, input, NULL, NULL, &error);
  if (!output)
    g_error ("request %d failed: %s", i, error->message);
  return g_get_monotonic_time () - start;
}

static Series
measure (GstFalClient * client, const gchar * app, GstFalOptions * options,
    gint count)
{
  Series s = { g_new0 (gint64, count), 0 };
  gint64 deadline = g_get_monotonic_time () + SERIES_BUDGET_USEC;

  while (s.n < (guint) count && g_get_monotonic_time () < deadline) {
    s.usec[s.n] = timed_call (client, app, options, s.n);
    s.n++;
  }
  series_finish (&s);
  return s;
}

static void
print_series (const gchar * name, Series * s, const Series * ref)
{
  g_print ("  %-26s %5u %9.2f ms %9.2f ms %8.2fx\n", name, s->n,
      s->median_ms, s->p95_ms, s->median_ms / ref->median_ms);
  if (s != ref)
    g_free (s->usec);
}

static GstFalOptions *
options_for_mode (GstFalStatusMode mode)
{
  GstFalOptions *options = gst_fal_options_new ();

  gst_fal_options_set_status_mode (options, mode);
  gst_fal_options_set_with_logs (options, FALSE);
  return options;
}

/* (a) for one app; returns the SSE series, the reference of (c) */
static Series
status_latencies (GstFalClient * client, const gchar * app, const gchar * label)
{
  g_autoptr (GstFalOptions) stream =
      options_for_mode (GST_FAL_STATUS_MODE_STREAM);
  g_autoptr (GstFalOptions) poll = options_for_mode (GST_FAL_STATUS_MODE_POLL);
  Series by_stream, by_poll, by_slow_poll;

  by_stream = measure (client, app, stream, iterations);
  g_object_set (client, "poll-interval", 0.1, NULL);
  by_poll = measure (client, app, poll, iterations);
  g_object_set (client, "poll-interval", 0.5, NULL);
  by_slow_poll = measure (client, app, poll, iterations);
  g_object_set (client, "poll-interval", 0.1, NULL);

  g_print ("  %s %s\n", app, label);
  print_series ("SSE status stream", &by_stream, &by_stream);
  print_series ("polling every 0.1 s", &by_poll, &by_stream);
  print_series ("polling every 0.5 s", &by_slow_poll, &by_stream);
  return by_stream;
}

/* (b): keeps @in_flight async subscribes running until @total are done. */
typedef struct
{
  GstFalClient *client;
  GstFalOptions *options;
  GMainLoop *loop;
  gint in_flight, total, started, done, failed;
  gint64 deadline;
} Flight;

static void start_one (Flight * f);

static void
on_subscribed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Flight *f = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) output =
      gst_fal_client_subscribe_finish (f->client, result, NULL, &error);

  /* failures are counted, not fatal: they are part of the figure */
  if (!output && f->failed++ == 0)
    g_print ("  (first failure with %d in flight: %s)\n", f->in_flight,
        error->message);
  f->done++;
  if (f->started < f->total && g_get_monotonic_time () < f->deadline)
    start_one (f);
  else if (f->done == f->started)
    g_main_loop_quit (f->loop);
}

static void
start_one (Flight * f)
{
  g_autoptr (JsonNode) input = make_input (ECHO, f->started++);

  gst_fal_client_subscribe_async (f->client, ECHO, input, f->options, NULL,
      NULL, NULL, NULL, on_subscribed, f);
}

static void
throughput (GstFalClient * client, gint in_flight, gdouble * reference)
{
  g_autoptr (GstFalOptions) stream =
      options_for_mode (GST_FAL_STATUS_MODE_STREAM);
  Flight f = { client, stream, g_main_loop_new (NULL, FALSE), in_flight,
    MAX (iterations, 4 * in_flight)
  };
  gint64 overflows = bench_listen_overflows ();
  gint64 start = g_get_monotonic_time ();
  gdouble seconds, rps;
  gint i;

  f.deadline = start + THROUGHPUT_BUDGET_USEC;
  for (i = 0; i < in_flight; i++)
    start_one (&f);
  g_main_loop_run (f.loop);
  g_main_loop_unref (f.loop);

  seconds = (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
  rps = (f.done - f.failed) / seconds;
  if (*reference == 0)
    *reference = rps;
  g_print ("  %-10d %8d %7d %10.1f %8.2fx %10" G_GINT64_FORMAT "\n",
      in_flight, f.done, f.failed, rps, rps / *reference,
      bench_listen_overflows_since (overflows));
}

static void
run_benchmarks (GstFalClient * client)
{
  g_autoptr (GstFalOptions) stream =
      options_for_mode (GST_FAL_STATUS_MODE_STREAM);
  static const gint flights[] = { 1, 4, 16, 64 };
  Series echo_stream, sleep_stream, by_run;
  gdouble reference = 0;
  guint i;

  /* warm-up: first connections, first app calls */
  g_free (measure (client, ECHO, stream, 10).usec);

  g_print ("(a) subscribe latency, submit -> result, one at a time\n"
      "  %-26s %5s %12s %12s %9s\n", "status by", "n", "median", "p95",
      "/stream");
  echo_stream = status_latencies (client, ECHO, "(returns at once)");
  sleep_stream = status_latencies (client, SLEEP, "(runs 20 ms)");
  g_free (sleep_stream.usec);

  g_print ("\n(b) throughput of concurrent async subscribes to %s (SSE), "
      "%d workers\n  %-10s %8s %7s %10s %9s %10s\n", ECHO, SERVER_WORKERS,
      "in flight", "requests", "failed", "ok/s", "speed-up", "listen-ovf");
  for (i = 0; i < G_N_ELEMENTS (flights); i++)
    throughput (client, flights[i], &reference);

  g_print ("\n(c) sync run latency of %s (POST /run), one at a time\n"
      "  %-26s %5s %12s %12s %9s\n", ECHO, "call", "n", "median", "p95",
      "/stream");
  by_run = measure (client, ECHO, NULL, iterations);
  print_series ("run", &by_run, &echo_stream);
  print_series ("subscribe (SSE), from (a)", &echo_stream, &echo_stream);
  g_free (echo_stream.usec);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"iterations", 'n', 0, G_OPTION_ARG_INT, &iterations,
        "Requests per series (default 200)", "N"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- fal client overhead on loopback");
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalServer) server = NULL;
  g_autoptr (GstFalClient) client = NULL;
  gint64 start = g_get_monotonic_time ();

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)
      || iterations < 1) {
    g_printerr ("%s\n", error ? error->message : "iterations must be >= 1");
    return 2;
  }

  server = g_object_new (GST_FAL_TYPE_SERVER, "workers", SERVER_WORKERS, NULL);
  if (!gst_fal_server_start (server, &error)) {
    g_printerr ("server: %s\n", error->message);
    return 1;
  }
  client = gst_fal_client_new_for_url (gst_fal_server_get_url (server));
  g_print ("bench-client: %s, %u CPUs, up to %d requests per series\n\n",
      gst_fal_server_get_url (server), g_get_num_processors (), iterations);

  run_benchmarks (client);

  g_print ("\ntotal run time %.1f s\n",
      (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC);
  gst_fal_server_stop (server);
  return 0;
}
