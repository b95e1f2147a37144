/* bench-scale: many live falinfer streams in one process, sharing one
 * client (one "gst.fal.client" context set on every pipeline).
 *
 *   bench-scale --url URL --key KEY [--streams 64] [--rate 5]
 *       [--seconds 20] [--upload cdn|data-uri|auto] [--frames]
 *
 * Each stream is
 *   videotestsrc is-live=true ! 160×120 at 10/1 ! falinfer
 *       application=local/echo max-rate=RATE ordering=live ! fakesink
 * Without --frames the requests carry only {"index": …} (nothing encoded);
 * with --frames (or --upload) each sends its frame as image_url.
 * It runs the streams twice, first without falinfer (the cost of the
 * pipelines alone), then with it, and prints one JSON object: for each
 * phase the process's CPU (utime + stime, PLAYING → EOS), the frames at the
 * sinks and the longest gap between two frames of a stream; with falinfer
 * the counters summed over the elements and the results seen at the sinks.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/fal/gstfal.h>
#include <sys/resource.h>

typedef struct
{
  GstElement *pipeline;
  GstElement *infer;
  gint64 last_frame;
  gint64 longest_gap;
  guint64 frames;
  guint64 results;
} Stream;

static gchar *url;
static gchar *key;
static gint n_streams = 64;
static gint rate = 5;
static gint seconds = 20;
static gchar *upload;
static gboolean frames;

static gint64
cpu_us (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (gint64) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) *
      G_USEC_PER_SEC + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static GstPadProbeReturn
on_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Stream *stream = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = g_get_monotonic_time ();

  if (stream->last_frame)
    stream->longest_gap = MAX (stream->longest_gap, now - stream->last_frame);
  stream->last_frame = now;
  stream->frames++;
  stream->results += gst_fal_buffer_get_n_result_metas (buffer);
  return GST_PAD_PROBE_OK;
}

static gchar *
describe (gboolean with_infer)
{
  g_autofree gchar *infer = NULL;

  if (with_infer)
    infer = g_strdup_printf ("falinfer name=infer application=local/echo "
        "max-rate=%d ordering=live %s%s %s ! ", rate,
        upload ? "upload=" : "", upload ? upload : "",
        frames ? "" : "arguments=\"{\\\"index\\\": \\\"{{index}}\\\"}\"");
  return g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=I420,width=160,height=120,framerate=10/1 ! %s"
      "fakesink name=sink sync=false", infer ? infer : "");
}

static guint64
counter (GstElement * infer, const gchar * name)
{
  guint64 value = 0;

  if (infer)
    g_object_get (infer, name, &value, NULL);
  return value;
}

/* Runs every stream for @seconds, then EOS; prints one JSON member. */
static gboolean
run_phase (GstFalClient * client, gboolean with_infer, GString * json)
{
  g_autofree gchar *description = describe (with_infer);
  g_autofree Stream *streams = g_new0 (Stream, n_streams);
  GstContext *context = gst_context_new (GST_FAL_CLIENT_CONTEXT_TYPE, TRUE);
  guint64 submitted = 0, completed = 0, failed = 0, skipped = 0;
  guint64 results = 0, n_frames = 0;
  gint64 longest_gap = 0, cpu0, wall0, cpu, wall;
  gboolean ok = TRUE;
  gint i;

  gst_structure_set (gst_context_writable_structure (context), "client",
      GST_FAL_TYPE_CLIENT, client, NULL);
  for (i = 0; i < n_streams; i++) {
    g_autoptr (GError) error = NULL;
    GstElement *sink;
    GstPad *pad;

    streams[i].pipeline = gst_parse_launch (description, &error);
    if (!streams[i].pipeline) {
      g_printerr ("bench-scale: %s\n", error->message);
      return FALSE;
    }
    gst_element_set_context (streams[i].pipeline, context);
    streams[i].infer = gst_bin_get_by_name (GST_BIN (streams[i].pipeline),
        "infer");
    sink = gst_bin_get_by_name (GST_BIN (streams[i].pipeline), "sink");
    pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_frame, &streams[i],
        NULL);
    gst_object_unref (pad);
    gst_object_unref (sink);
  }
  gst_context_unref (context);

  cpu0 = cpu_us ();
  wall0 = g_get_monotonic_time ();
  for (i = 0; i < n_streams; i++)
    gst_element_set_state (streams[i].pipeline, GST_STATE_PLAYING);
  g_usleep (seconds * G_USEC_PER_SEC);
  for (i = 0; i < n_streams; i++)
    gst_element_send_event (streams[i].pipeline, gst_event_new_eos ());
  for (i = 0; i < n_streams; i++) {
    g_autoptr (GstBus) bus = gst_element_get_bus (streams[i].pipeline);
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    if (!msg || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) error = NULL;

      if (msg)
        gst_message_parse_error (msg, &error, NULL);
      g_printerr ("bench-scale: stream %d: %s\n", i,
          error ? error->message : "no EOS within 30 s");
      ok = FALSE;
    }
    g_clear_pointer (&msg, gst_message_unref);
  }
  cpu = cpu_us () - cpu0;
  wall = g_get_monotonic_time () - wall0;

  for (i = 0; i < n_streams; i++) {
    submitted += counter (streams[i].infer, "submitted");
    completed += counter (streams[i].infer, "completed");
    failed += counter (streams[i].infer, "failed");
    skipped += counter (streams[i].infer, "skipped");
    results += streams[i].results;
    n_frames += streams[i].frames;
    longest_gap = MAX (longest_gap, streams[i].longest_gap);
    gst_element_set_state (streams[i].pipeline, GST_STATE_NULL);
    gst_clear_object (&streams[i].infer);
    gst_object_unref (streams[i].pipeline);
  }
  g_string_append_printf (json, "\"%s\":{\"cpu_us\":%" G_GINT64_FORMAT
      ",\"wall_us\":%" G_GINT64_FORMAT ",\"frames\":%" G_GUINT64_FORMAT
      ",\"longest_gap_us\":%" G_GINT64_FORMAT ",\"submitted\":%"
      G_GUINT64_FORMAT ",\"completed\":%" G_GUINT64_FORMAT ",\"failed\":%"
      G_GUINT64_FORMAT ",\"skipped\":%" G_GUINT64_FORMAT ",\"results\":%"
      G_GUINT64_FORMAT ",\"ok\":%s}", with_infer ? "falinfer" : "alone", cpu,
      wall, n_frames, longest_gap, submitted, completed, failed, skipped,
      results, ok ? "true" : "false");
  return ok;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"url", 0, 0, G_OPTION_ARG_STRING, &url, "server URL", "URL"},
    {"key", 0, 0, G_OPTION_ARG_STRING, &key, "API key", "KEY"},
    {"streams", 0, 0, G_OPTION_ARG_INT, &n_streams, "pipelines (64)", "N"},
    {"rate", 0, 0, G_OPTION_ARG_INT, &rate, "max-rate of each (5)", "R"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "run time (20)", "S"},
    {"upload", 0, 0, G_OPTION_ARG_STRING, &upload,
        "falinfer's upload (sends the frames)", "MODE"},
    {"frames", 0, 0, G_OPTION_ARG_NONE, &frames,
        "send the frames (image_url), not only {\"index\": …}", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- live falinfer streams sharing one client");
  g_autoptr (GError) error = NULL;
  g_autoptr (GstPluginFeature) falinfer = NULL;
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GString) json = g_string_new ("{");
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) || !url
      || n_streams < 1 || rate < 1 || seconds < 1) {
    g_printerr ("bench-scale: %s\n", error ? error->message :
        "--url is required; --streams, --rate and --seconds ≥ 1");
    return 2;
  }
  if (upload)
    frames = TRUE;
  falinfer = gst_registry_lookup_feature (gst_registry_get (), "falinfer");
  if (!falinfer)
    gst_registry_scan_path (gst_registry_get (), FAL_PLUGIN_DIR);
  client = g_object_new (GST_FAL_TYPE_CLIENT, "server-url", url, "key", key,
      NULL);

  g_string_append_printf (json, "\"streams\":%d,\"rate\":%d,\"seconds\":%d,"
      "\"upload\":\"%s\",\"frames\":%s,", n_streams, rate, seconds,
      upload ? upload : "", frames ? "true" : "false");
  ok = run_phase (client, FALSE, json);
  g_string_append_c (json, ',');
  ok = run_phase (client, TRUE, json) && ok;
  g_string_append (json, "}\n");
  g_print ("%s", json->str);
  return ok ? 0 : 1;
}
