/* bench-endpoints: falinfer through each endpoint, side by side.
 *
 * Against an in-process local server, behind bench-proxy (which counts the
 * connections):
 *  (a) per-frame latency through local/barcode, ordering=ordered: a live
 *      320x240 source at --rate frames/s with a QR code on every frame,
 *      --frames frames per run; the latency of a frame is the time from
 *      falinfer's sink pad to its src pad. Rounds interleave the endpoints
 *      (the order rotating each round); figures are medians over every
 *      frame of every round, ratios endpoint / queue of those medians, and
 *      the new connections per frame counted by bench-proxy.
 *  (b) endpoint=realtime, local/echo, ordering=live: a live 1280x720 source
 *      at --hd-rate frames/s, JPEG-encoded before falinfer (the frames pass
 *      as they are), for --hd-seconds: results per second, frames per
 *      second out of falinfer, the longest gap between two frames leaving
 *      it and between two results, connections opened; beside it, the same
 *      source and encoder into fakesink without falinfer (what the machine
 *      gives at all).
 *
 *   bench-endpoints --proxy PATH [--rounds 5] [--frames 60] [--rate 20]
 *       [--endpoints queue,run,realtime] [--hd-seconds 10] [--hd-rate 60]
 *
 * Prints its figures as one JSON object on standard output, a table on
 * standard error. The fal plugin is taken from GST_PLUGIN_PATH, else from the
 * build tree it was compiled in.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/falserver/gstfalserver.h>
#include <gst/fal/gstfal.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>

static gint rounds = 5;
static gint frames = 60;
static gint rate = 20;
static gint hd_seconds = 10;
static gint hd_rate = 60;
static gchar *proxy_path;
static gchar *endpoints_option;

typedef struct
{
  GMutex lock;
  GHashTable *arrivals;         /* PTS → monotonic µs at the sink pad */
  GArray *latencies;            /* gdouble ms, frames with a result */
} Probe;

static GstPadProbeReturn
on_sink_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Probe *probe = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 *now = g_new (gint64, 1);

  *now = g_get_monotonic_time ();
  g_mutex_lock (&probe->lock);
  g_hash_table_insert (probe->arrivals,
      g_memdup2 (&GST_BUFFER_PTS (buffer), sizeof (GstClockTime)), now);
  g_mutex_unlock (&probe->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_src_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Probe *probe = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstFalResultMeta *meta = gst_buffer_get_fal_result_meta (buffer);
  gint64 now = g_get_monotonic_time ();
  gint64 *arrival;

  g_mutex_lock (&probe->lock);
  arrival = g_hash_table_lookup (probe->arrivals, &GST_BUFFER_PTS (buffer));
  if (arrival && meta && meta->result_json) {
    gdouble ms = (now - *arrival) / 1000.0;
    g_array_append_val (probe->latencies, ms);
  }
  g_mutex_unlock (&probe->lock);
  return GST_PAD_PROBE_OK;
}

/* A bench-proxy to @target: its URL, and its pipes to ask the counters. */
typedef struct
{
  GSubprocess *process;
  GDataInputStream *out;
  GOutputStream *in;
  gchar *url;
} Proxy;

static gchar *
proxy_line (Proxy * proxy)
{
  g_autoptr (GError) error = NULL;
  gchar *line = g_data_input_stream_read_line (proxy->out, NULL, NULL,
      &error);

  if (!line)
    g_error ("bench-proxy: %s", error ? error->message : "ended");
  return line;
}

static Proxy *
proxy_start (const gchar * target_url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = g_uri_parse (target_url, G_URI_FLAGS_NONE, NULL);
  g_autofree gchar *target = g_strdup_printf ("%s:%d", g_uri_get_host (uri),
      g_uri_get_port (uri));
  g_autofree gchar *line = NULL;
  Proxy *proxy = g_new0 (Proxy, 1);

  proxy->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, proxy_path, "--target", target,
      NULL);
  if (!proxy->process)
    g_error ("%s: %s", proxy_path, error->message);
  proxy->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe
      (proxy->process));
  proxy->in = g_subprocess_get_stdin_pipe (proxy->process);
  line = proxy_line (proxy);
  if (!g_str_has_prefix (line, "port "))
    g_error ("bench-proxy said %s", line);
  proxy->url = g_strdup_printf ("http://127.0.0.1:%s", line + 5);
  return proxy;
}

static guint64
proxy_accepted (Proxy * proxy)
{
  g_autofree gchar *line = NULL;
  guint64 accepted = 0;

  if (!g_output_stream_write_all (proxy->in, "?\n", 2, NULL, NULL, NULL))
    g_error ("bench-proxy: cannot ask");
  line = proxy_line (proxy);
  if (sscanf (line, "accepted %" G_GUINT64_FORMAT, &accepted) != 1)
    g_error ("bench-proxy said %s", line);
  return accepted;
}

static void
proxy_stop (Proxy * proxy)
{
  g_output_stream_close (proxy->in, NULL, NULL);
  g_subprocess_wait (proxy->process, NULL, NULL);
  g_object_unref (proxy->out);
  g_object_unref (proxy->process);
  g_free (proxy->url);
  g_free (proxy);
}

/* Adds @func as a buffer probe on pad @pad_name of the element @name. */
static void
probe_pad (GstElement * pipeline, const gchar * name, const gchar * pad_name,
    GstPadProbeCallback func, gpointer data)
{
  g_autoptr (GstElement) element = gst_bin_get_by_name (GST_BIN (pipeline),
      name);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (element, pad_name);

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, func, data, NULL);
}

/* Plays @pipeline to its EOS; an error or @timeout_s without EOS ends the
 * program. */
static void
play_to_eos (GstElement * pipeline, guint timeout_s, const gchar * what)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, timeout_s * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (!message || GST_MESSAGE_TYPE (message) != GST_MESSAGE_EOS) {
    if (message)
      gst_message_parse_error (message, &error, NULL);
    g_error ("%s: %s", what, error ? error->message : "no EOS");
  }
}

typedef struct
{
  GArray *latencies;            /* ms, every frame of every round */
  guint64 connections;          /* new ones during the runs */
  guint64 completed;
  guint64 failed;
} Series;

/* One live run through @endpoint; adds to @series. */
static void
run_once (const gchar * endpoint, Proxy * proxy, Series * series)
{
  g_autofree gchar *description = g_strdup_printf ("videotestsrc is-live=true "
      "num-buffers=%d ! video/x-raw,width=320,height=240,framerate=%d/1 ! "
      "qroverlay data=gst-fal ! falinfer name=infer endpoint=%s "
      "application=local/barcode ordering=ordered max-in-flight=4 "
      "server-url=%s ! fakesink sync=false", frames, rate, endpoint,
      proxy->url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, &error);
  g_autoptr (GstElement) infer = NULL;
  Probe probe = { 0 };
  guint64 before, completed, failed;

  if (!pipeline || error)
    g_error ("%s: %s", description, error ? error->message : "?");
  g_mutex_init (&probe.lock);
  probe.arrivals = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, g_free);
  probe.latencies = series->latencies;
  infer = gst_bin_get_by_name (GST_BIN (pipeline), "infer");
  probe_pad (pipeline, "infer", "sink", on_sink_buffer, &probe);
  probe_pad (pipeline, "infer", "src", on_src_buffer, &probe);

  before = proxy_accepted (proxy);
  play_to_eos (pipeline, 300, endpoint);
  g_object_get (infer, "completed", &completed, "failed", &failed, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  series->connections += proxy_accepted (proxy) - before;
  series->completed += completed;
  series->failed += failed;
  g_hash_table_unref (probe.arrivals);
  g_mutex_clear (&probe.lock);
}

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

static gdouble
percentile (GArray * values, gdouble p)
{
  if (values->len == 0)
    return 0;
  g_array_sort (values, compare_double);
  return g_array_index (values, gdouble, (guint) ((values->len - 1) * p));
}

/* Gaps between buffers through a pad. */
typedef struct
{
  guint64 n;
  gint64 first, last, max_gap;
} Flow;

static GstPadProbeReturn
on_flow_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Flow *flow = user_data;
  gint64 now = g_get_monotonic_time ();

  if (flow->n++ == 0)
    flow->first = now;
  else
    flow->max_gap = MAX (flow->max_gap, now - flow->last);
  flow->last = now;
  return GST_PAD_PROBE_OK;
}

static gdouble
flow_rate (const Flow * flow)
{
  return flow->n > 1 ? (flow->n - 1) / ((flow->last - flow->first) /
      (gdouble) G_USEC_PER_SEC) : 0;
}

static void
add_member_double (JsonBuilder * builder, const gchar * name, gdouble value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_double_value (builder, value);
}

#define HD_SOURCE "videotestsrc is-live=true num-buffers=%d pattern=ball ! " \
  "video/x-raw,width=1280,height=720,framerate=%d/1 ! jpegenc quality=85 ! "

/* (b) without falinfer: the frames/s and longest gap of the source. */
static Flow
hd_source_alone (void)
{
  g_autofree gchar *description = g_strdup_printf (HD_SOURCE
      "fakesink name=sink sync=false", hd_seconds * hd_rate, hd_rate);
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, NULL);
  Flow flow = { 0 };

  probe_pad (pipeline, "sink", "sink", on_flow_buffer, &flow);
  play_to_eos (pipeline, hd_seconds + 120, "1280x720 source");
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return flow;
}

/* (b): 1280x720 JPEG frames through local/echo over one websocket. */
static void
hd_realtime (Proxy * proxy, JsonBuilder * builder)
{
  g_autofree gchar *description = g_strdup_printf (HD_SOURCE
      "falinfer name=infer endpoint=realtime application=local/echo ordering=live "
      "arguments={\"image_url\":\"{{frame}}\"} server-url=%s ! "
      "fakesink sync=false infer.result ! fakesink name=results sync=false",
      hd_seconds * hd_rate, hd_rate, proxy->url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, &error);
  g_autoptr (GstElement) infer = NULL;
  Flow frames_out = { 0 }, results_out = { 0 }, alone;
  guint64 before, connections, completed, failed, skipped;

  alone = hd_source_alone ();
  if (!pipeline || error)
    g_error ("%s: %s", description, error ? error->message : "?");
  infer = gst_bin_get_by_name (GST_BIN (pipeline), "infer");
  probe_pad (pipeline, "infer", "src", on_flow_buffer, &frames_out);
  probe_pad (pipeline, "results", "sink", on_flow_buffer, &results_out);
  before = proxy_accepted (proxy);
  play_to_eos (pipeline, hd_seconds + 120, "realtime 1280x720");
  g_object_get (infer, "completed", &completed, "failed", &failed,
      "skipped", &skipped, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  connections = proxy_accepted (proxy) - before;

  g_printerr ("\n(b) endpoint=realtime, local/echo, 1280x720 JPEG, live at %d "
      "frames/s, %d s, ordering=live\n"
      "  results/s %.1f, frames/s out %.1f, longest frame gap %.1f ms, "
      "longest result gap %.1f ms\n"
      "  completed %" G_GUINT64_FORMAT ", failed %" G_GUINT64_FORMAT
      ", replaced %" G_GUINT64_FORMAT ", connections %" G_GUINT64_FORMAT
      "\n", hd_rate, hd_seconds, flow_rate (&results_out),
      flow_rate (&frames_out), frames_out.max_gap / 1000.0,
      results_out.max_gap / 1000.0, completed, failed, skipped, connections);
  g_printerr ("  without falinfer: frames/s %.1f, longest frame gap %.1f ms\n",
      flow_rate (&alone), alone.max_gap / 1000.0);
  json_builder_set_member_name (builder, "realtime_hd");
  json_builder_begin_object (builder);
  add_member_double (builder, "source_rate", hd_rate);
  add_member_double (builder, "seconds", hd_seconds);
  add_member_double (builder, "results_per_s", flow_rate (&results_out));
  add_member_double (builder, "frames_per_s", flow_rate (&frames_out));
  add_member_double (builder, "longest_frame_gap_ms",
      frames_out.max_gap / 1000.0);
  add_member_double (builder, "longest_result_gap_ms",
      results_out.max_gap / 1000.0);
  add_member_double (builder, "completed", completed);
  add_member_double (builder, "failed", failed);
  add_member_double (builder, "replaced", skipped);
  add_member_double (builder, "connections", connections);
  add_member_double (builder, "alone_frames_per_s", flow_rate (&alone));
  add_member_double (builder, "alone_longest_frame_gap_ms",
      alone.max_gap / 1000.0);
  json_builder_end_object (builder);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Rounds per endpoint", "N"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames, "Frames per run", "N"},
    {"rate", 0, 0, G_OPTION_ARG_INT, &rate, "Frames per second", "N"},
    {"proxy", 0, 0, G_OPTION_ARG_FILENAME, &proxy_path, "bench-proxy", "PATH"},
    {"endpoints", 0, 0, G_OPTION_ARG_STRING, &endpoints_option,
        "Endpoints, the first is the reference (queue,run,realtime)", "LIST"},
    {"hd-seconds", 0, 0, G_OPTION_ARG_INT, &hd_seconds,
        "Seconds of the 1280x720 realtime run (0: none)", "S"},
    {"hd-rate", 0, 0, G_OPTION_ARG_INT, &hd_rate,
        "Frames per second of the 1280x720 source", "N"},
    {NULL}
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalServer) server = NULL;
  g_autoptr (GstPluginFeature) falinfer = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *json = NULL;
  g_auto (GStrv) endpoints = NULL;
  Series *series;
  gdouble reference = 0;
  Proxy *proxy;
  guint n, r, i;

  g_option_context_add_main_entries (context, entries, NULL);
  gst_init (&argc, &argv);
  if (!g_option_context_parse (context, &argc, &argv, &error) || !proxy_path) {
    g_printerr ("bench-endpoints: %s\n", error ? error->message :
        "--proxy PATH is needed");
    return 2;
  }
  endpoints = g_strsplit (endpoints_option ? endpoints_option :
      "queue,run,realtime", ",", -1);
  n = g_strv_length (endpoints);
  falinfer = gst_registry_lookup_feature (gst_registry_get (), "falinfer");
  if (!falinfer)
    gst_registry_scan_path (gst_registry_get (), FAL_PLUGIN_DIR);

  server = gst_fal_server_new ();
  if (!gst_fal_server_start (server, &error)) {
    g_printerr ("server: %s\n", error->message);
    return 1;
  }
  proxy = proxy_start (gst_fal_server_get_url (server));
  series = g_new0 (Series, n);
  for (i = 0; i < n; i++)
    series[i].latencies = g_array_new (FALSE, FALSE, sizeof (gdouble));

  /* warm-up: the models load, the connections open */
  for (i = 0; i < n; i++) {
    Series warm = { g_array_new (FALSE, FALSE, sizeof (gdouble)) };
    run_once (endpoints[i], proxy, &warm);
    g_array_unref (warm.latencies);
  }
  for (r = 0; r < (guint) rounds; r++)
    for (i = 0; i < n; i++) {
      guint e = (i + r) % n;
      run_once (endpoints[e], proxy, &series[e]);
    }

  g_printerr ("(a) per-frame latency, local/barcode, ordered, live 320x240 "
      "at %d frames/s, %d rounds x %d frames\n"
      "  %-10s %9s %9s %9s %10s %12s %8s\n", rate, rounds, frames, "endpoint",
      "p50 ms", "p90 ms", "ratio", "completed", "conn/frame", "failed");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "rounds");
  json_builder_add_int_value (builder, rounds);
  json_builder_set_member_name (builder, "frames");
  json_builder_add_int_value (builder, frames);
  json_builder_set_member_name (builder, "rate");
  json_builder_add_int_value (builder, rate);
  json_builder_set_member_name (builder, "latency");
  json_builder_begin_array (builder);
  for (i = 0; i < n; i++) {
    gdouble p50 = percentile (series[i].latencies, 0.5);
    gdouble p90 = percentile (series[i].latencies, 0.9);
    gdouble per_frame = series[i].completed ?
        (gdouble) series[i].connections / series[i].completed : 0;

    if (i == 0)
      reference = p50;
    g_printerr ("  %-10s %9.2f %9.2f %8.2fx %10" G_GUINT64_FORMAT " %12.4f %8"
        G_GUINT64_FORMAT "\n", endpoints[i], p50, p90, p50 / reference,
        series[i].completed, per_frame, series[i].failed);
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "endpoint");
    json_builder_add_string_value (builder, endpoints[i]);
    json_builder_set_member_name (builder, "p50_ms");
    json_builder_add_double_value (builder, p50);
    json_builder_set_member_name (builder, "p90_ms");
    json_builder_add_double_value (builder, p90);
    json_builder_set_member_name (builder, "ratio_p50");
    json_builder_add_double_value (builder, p50 / reference);
    json_builder_set_member_name (builder, "completed");
    json_builder_add_int_value (builder, series[i].completed);
    json_builder_set_member_name (builder, "failed");
    json_builder_add_int_value (builder, series[i].failed);
    json_builder_set_member_name (builder, "connections");
    json_builder_add_int_value (builder, series[i].connections);
    json_builder_set_member_name (builder, "connections_per_frame");
    json_builder_add_double_value (builder, per_frame);
    json_builder_end_object (builder);
    g_array_unref (series[i].latencies);
  }
  json_builder_end_array (builder);
  if (hd_seconds > 0)
    hd_realtime (proxy, builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, NULL);
  g_print ("%s\n", json);

  g_free (series);
  proxy_stop (proxy);
  gst_fal_server_stop (server);
  return 0;
}
