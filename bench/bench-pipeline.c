/* bench-pipeline: falinfer's pipelining and live mode on loopback.
 *
 * Against an in-process local server (16 workers) running local/sleep of
 * 50 ms per request:
 *  (a) ordered mode, 100 frames, max-in-flight 1, 4 and 16: frames/s, the
 *      speed-up over 1 in flight and the share of the in-flight / latency
 *      bound of design.md reached (latency: the round trip measured at 1);
 *  (b) live mode: frames/s of the source into fakesink sync=false with and
 *      without falinfer, and the longest gap between two frames, which would
 *      be at least one request's 50 ms if the streaming thread ever waited.
 *
 * The fal plugin is taken from GST_PLUGIN_PATH (`meson devenv -C build
 * bench/bench-pipeline`), else from the build tree it was compiled in.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/falserver/gstfalserver.h>
#include "benchnet.h"

#define SERVER_WORKERS 16
#define SLEEP_ARGUMENTS "{\"seconds\": 0.05}"
#define ORDERED_FRAMES 100
#define LIVE_FRAMES 10000
#define LIVE_ROUNDS 3
#define SOURCE "videotestsrc num-buffers=%u ! " \
  "video/x-raw,width=160,height=120,framerate=30/1 ! "

typedef struct
{
  guint frames;
  gint64 first, last, max_gap;
  gdouble seconds;              /* PLAYING to EOS */
  guint64 completed, skipped;
  gint64 listen_overflows;
} Run;

static GstPadProbeReturn
on_sink_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Run *run = user_data;
  gint64 now = g_get_monotonic_time ();

  if (run->frames++ == 0)
    run->first = now;
  else
    run->max_gap = MAX (run->max_gap, now - run->last);
  run->last = now;
  return GST_PAD_PROBE_OK;
}

/* Runs @description to EOS; "infer", if there, talks to @server_url. */
static Run
run_pipeline (const gchar * description, const gchar * server_url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, &error);
  g_autoptr (GstElement) infer = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) message = NULL;
  Run run = { 0 };
  gint64 start;

  if (!pipeline)
    g_error ("%s: %s", description, error->message);
  infer = gst_bin_get_by_name (GST_BIN (pipeline), "infer");
  if (infer)
    g_object_set (infer, "server-url", server_url, "application",
        "local/sleep", "arguments", SLEEP_ARGUMENTS, NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_sink_buffer, &run,
      NULL);

  bus = gst_element_get_bus (pipeline);
  run.listen_overflows = bench_listen_overflows ();
  start = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  run.seconds = (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
  run.listen_overflows = bench_listen_overflows_since (run.listen_overflows);
  if (!message || GST_MESSAGE_TYPE (message) != GST_MESSAGE_EOS) {
    if (message)
      gst_message_parse_error (message, &error, NULL);
    g_error ("%s: %s", description, error ? error->message : "no EOS in 120 s");
  }
  if (infer)
    g_object_get (infer, "completed", &run.completed, "skipped", &run.skipped,
        NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return run;
}

static void
ordered (const gchar * server_url)
{
  static const guint flights[] = { 1, 4, 16 };
  gdouble reference = 0, latency = 0;
  guint i;

  g_print ("(a) ordered mode, %d frames, local/sleep 50 ms per request\n"
      "  %-10s %8s %9s %10s %9s %13s %11s\n", ORDERED_FRAMES, "in flight",
      "results", "seconds", "frames/s", "speed-up", "of N/latency",
      "listen-ovf");
  for (i = 0; i < G_N_ELEMENTS (flights); i++) {
    g_autofree gchar *description = g_strdup_printf (SOURCE
        "falinfer name=infer ordering=ordered max-in-flight=%u ! "
        "fakesink name=sink sync=false", ORDERED_FRAMES, flights[i]);
    Run run = run_pipeline (description, server_url);
    gdouble fps = run.frames / run.seconds;

    if (reference == 0) {
      reference = fps;
      latency = run.seconds / run.frames;
    }
    g_print ("  %-10u %8" G_GUINT64_FORMAT " %9.2f %10.1f %8.2fx %12.0f%% %11"
        G_GINT64_FORMAT "\n", flights[i], run.completed, run.seconds, fps,
        fps / reference, 100 * fps / (flights[i] / latency),
        run.listen_overflows);
  }
  g_print ("  round trip at 1 in flight: %.1f ms\n", latency * 1000);
}

static gdouble
source_rate (const Run * run)
{
  return (run->frames - 1) /
      ((run->last - run->first) / (gdouble) G_USEC_PER_SEC);
}

static void
print_live (const gchar * name, const Run * run, gdouble ratio)
{
  g_print ("  %-16s %7u %11.0f %7.2fx %9.2f ms %9" G_GUINT64_FORMAT
      " %8.2f s\n", name, run->frames, source_rate (run), ratio,
      run->max_gap / 1000.0, run->completed, run->seconds);
}

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

/* Rounds alternate the two pipelines, so that both see the same load. */
static void
live (const gchar * server_url)
{
  g_autofree gchar *bare = g_strdup_printf (SOURCE
      "fakesink name=sink sync=false", LIVE_FRAMES);
  g_autofree gchar *with_infer = g_strdup_printf (SOURCE
      "falinfer name=infer ordering=live max-in-flight=4 ! "
      "fakesink name=sink sync=false", LIVE_FRAMES);
  gdouble ratios[LIVE_ROUNDS];
  guint i;

  g_print ("\n(b) live mode, %d frames, fakesink sync=false, "
      "max-in-flight=4, %d rounds\n  %-16s %7s %11s %8s %12s %9s %10s\n",
      LIVE_FRAMES, LIVE_ROUNDS, "pipeline", "frames", "frames/s", "ratio",
      "longest gap", "requests", "to EOS");
  for (i = 0; i < LIVE_ROUNDS; i++) {
    Run without = run_pipeline (bare, server_url);
    Run with = run_pipeline (with_infer, server_url);

    ratios[i] = source_rate (&with) / source_rate (&without);
    print_live ("no falinfer", &without, 1);
    print_live ("falinfer live", &with, ratios[i]);
  }
  qsort (ratios, LIVE_ROUNDS, sizeof (gdouble), compare_double);
  g_print ("  median ratio with / without falinfer: %.2fx\n",
      ratios[LIVE_ROUNDS / 2]);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalServer) server = NULL;
  g_autoptr (GstPluginFeature) falinfer = NULL;
  g_autofree gchar *warm_up = NULL;
  gint64 start = g_get_monotonic_time ();

  gst_init (&argc, &argv);
  falinfer = gst_registry_lookup_feature (gst_registry_get (), "falinfer");
  if (!falinfer)
    gst_registry_scan_path (gst_registry_get (), FAL_PLUGIN_DIR);

  server = g_object_new (GST_FAL_TYPE_SERVER, "workers", SERVER_WORKERS, NULL);
  if (!gst_fal_server_start (server, &error)) {
    g_printerr ("server: %s\n", error->message);
    return 1;
  }
  g_print ("bench-pipeline: %s, %d workers, %u CPUs\n\n",
      gst_fal_server_get_url (server), SERVER_WORKERS, g_get_num_processors ());

  /* warm-up: plugin loading, first connections */
  warm_up = g_strdup_printf (SOURCE "falinfer name=infer ! "
      "fakesink name=sink", 8);
  run_pipeline (warm_up, gst_fal_server_get_url (server));
  ordered (gst_fal_server_get_url (server));
  live (gst_fal_server_get_url (server));

  g_print ("\ntotal run time %.1f s\n",
      (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC);
  gst_fal_server_stop (server);
  return 0;
}
