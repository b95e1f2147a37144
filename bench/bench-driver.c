/* bench-driver: our client (gst/fal) as a process of its own, driven the
 * same way as bench/js/driver.mjs drives @fal-ai/client, so that both are
 * measured alike (utime + stime of the process, RSS, descriptors).
 *
 *   bench-driver --url URL --key KEY --mode subscribe|run|upload|realtime
 *       [--app local/echo] [--input JSON] [-n N] [--in-flight M]
 *       [--warmup W] [--mark N]... [--file PATH] [--frame-bytes B]
 *
 * realtime: one GstFalRealtime (throttle-interval 0) carries every request,
 * a message of --input plus a binary field "frame" of B bytes; a request is
 * done when its result arrives. "done" then also gives "connections", the
 * websockets it opened.
 *
 * Protocol, one JSON object a line on stdout:
 *   {"event":"ready"}   after the W warm-up requests; then it waits for a
 *                       line on stdin, so that the caller can sample the
 *                       server and the proxy before the measurement;
 *   {"event":"mark",…}  when N requests are done (each --mark), with the
 *                       process's RSS and descriptors at that point;
 *   {"event":"done",…}  n, failed, cpu_us (utime + stime since "go"),
 *                       wall_us, rss_kb, fds and lat_us (each request,
 *                       submit → result in hand, in order of completion);
 * then it waits for stdin to close before it exits.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/fal/gstfal.h>
#include <sys/resource.h>
#include <stdio.h>

typedef struct
{
  GstFalClient *client;
  GstFalOptions *options;
  GMainLoop *loop;
  JsonNode *input;
  GBytes *file;
  GstFalRealtime *realtime;
  GVariant *message;            /* --input and "frame", for realtime */
  GQueue calls;                 /* realtime: Call in send order */
  /* the current phase: `target` requests, `in_flight` at a time */
  gint target;
  gint started;
  gint done;
  gint failed;
  gint *marks;
  gint64 *lat_us;
} Driver;

typedef struct
{
  Driver *driver;
  gint64 start;
} Call;

static gchar *url;
static gchar *key;
static gchar *mode = (gchar *) "subscribe";
static gchar *app = (gchar *) "local/echo";
static gchar *input_json = (gchar *) "{}";
static gchar *file_path;
static gint frame_bytes;
static gint count = 2000;
static gint in_flight = 1;
static gint warmup = 100;
static gchar **mark_args;

static gint64
cpu_us (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (gint64) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) *
      G_USEC_PER_SEC + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static gint64
rss_kb (void)
{
  g_autofree gchar *text = NULL;
  const gchar *line;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return -1;
  line = strstr (text, "\nVmRSS:");
  return line ? g_ascii_strtoll (line + strlen ("\nVmRSS:"), NULL, 10) : -1;
}

static gint
open_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  gint n = 0;

  if (!dir)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  return n - 1;                 /* the GDir's own */
}

static void
wait_for_line (void)
{
  gchar line[64];

  while (fgets (line, sizeof line, stdin) && !strchr (line, '\n'));
}

static void start_next (Driver * driver);

static void
finish_call (Call * call, gboolean ok, GError * error)
{
  Driver *driver = call->driver;
  gint64 usec = g_get_monotonic_time () - call->start;
  gint i;

  if (!ok) {
    if (driver->failed++ < 5)
      g_printerr ("bench-driver: %s\n", error ? error->message : "failed");
  }
  if (driver->lat_us)
    driver->lat_us[driver->done] = usec;
  driver->done++;
  for (i = 0; driver->lat_us && driver->marks && driver->marks[i]; i++)
    if (driver->marks[i] == driver->done)
      g_print ("{\"event\":\"mark\",\"done\":%d,\"rss_kb\":%" G_GINT64_FORMAT
          ",\"fds\":%d}\n", driver->done, rss_kb (), open_fds ());
  g_free (call);
  if (driver->done == driver->target)
    g_main_loop_quit (driver->loop);
  else
    start_next (driver);
}

static void
on_subscribed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) output = gst_fal_client_subscribe_finish
      (GST_FAL_CLIENT (source), result, NULL, &error);

  finish_call (user_data, output != NULL, error);
}

static void
on_ran (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) output = gst_fal_client_run_finish
      (GST_FAL_CLIENT (source), result, &error);

  finish_call (user_data, output != NULL, error);
}

static void
on_uploaded (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *file_url = gst_fal_client_upload_bytes_finish
      (GST_FAL_CLIENT (source), result, &error);

  finish_call (user_data, file_url != NULL, error);
}

/* realtime: results come in send order */
static void
on_realtime_result (GstFalRealtime * realtime, guint64 id, GVariant * result,
    Driver * driver)
{
  finish_call (g_queue_pop_head (&driver->calls), TRUE, NULL);
}

static void
on_realtime_error (GstFalRealtime * realtime, guint64 id, GError * error,
    Driver * driver)
{
  finish_call (g_queue_pop_head (&driver->calls), FALSE, error);
}

static GVariant *
realtime_message (JsonNode * input)
{
  GVariantBuilder builder;
  guint8 *frame = g_malloc (frame_bytes);
  JsonObject *object = json_node_get_object (input);
  GList *members = json_object_get_members (object), *l;
  gint i;

  for (i = 0; i < frame_bytes; i++)
    frame[i] = i * 31;
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (l = members; l; l = l->next) {
    JsonNode *member = json_object_get_member (object, l->data);
    GVariant *value = json_gvariant_deserialize (member, NULL, NULL);

    if (value)
      g_variant_builder_add (&builder, "{sv}", l->data, value);
  }
  g_list_free (members);
  if (frame_bytes)
    g_variant_builder_add (&builder, "{sv}", "frame",
        g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, frame,
            frame_bytes, TRUE, g_free, frame));
  else
    g_free (frame);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static void
start_next (Driver * driver)
{
  Call *call;

  if (driver->started == driver->target)
    return;
  driver->started++;
  call = g_new0 (Call, 1);
  call->driver = driver;
  call->start = g_get_monotonic_time ();
  if (g_str_equal (mode, "subscribe"))
    gst_fal_client_subscribe_async (driver->client, app, driver->input,
        driver->options, NULL, NULL, NULL, NULL, on_subscribed, call);
  else if (driver->realtime) {
    g_autoptr (GError) error = NULL;

    g_queue_push_tail (&driver->calls, call);
    if (!gst_fal_realtime_send (driver->realtime, driver->message, &error))
      finish_call (g_queue_pop_tail (&driver->calls), FALSE, error);
  } else if (g_str_equal (mode, "run"))
    gst_fal_client_run_async (driver->client, app, driver->input,
        driver->options, NULL, on_ran, call);
  else
    gst_fal_client_upload_bytes_async (driver->client, driver->file,
        "application/octet-stream", "bench.bin", NULL, on_uploaded, call);
}

/* Runs @n requests, in_flight at a time, on the main loop. */
static void
run_phase (Driver * driver, gint n)
{
  gint i;

  driver->target = n;
  driver->started = driver->done = driver->failed = 0;
  if (n == 0)
    return;
  for (i = 0; i < in_flight; i++)
    start_next (driver);
  g_main_loop_run (driver->loop);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"url", 0, 0, G_OPTION_ARG_STRING, &url, "server URL", "URL"},
    {"key", 0, 0, G_OPTION_ARG_STRING, &key, "API key", "KEY"},
    {"mode", 0, 0, G_OPTION_ARG_STRING, &mode,
        "subscribe, run or upload (default subscribe)", "MODE"},
    {"app", 0, 0, G_OPTION_ARG_STRING, &app, "application", "APP"},
    {"input", 0, 0, G_OPTION_ARG_STRING, &input_json, "input JSON", "JSON"},
    {"file", 0, 0, G_OPTION_ARG_FILENAME, &file_path, "file to upload",
        "PATH"},
    {"count", 'n', 0, G_OPTION_ARG_INT, &count, "measured requests", "N"},
    {"in-flight", 0, 0, G_OPTION_ARG_INT, &in_flight, "requests at a time",
        "M"},
    {"warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "requests before \"ready\"",
        "W"},
    {"frame-bytes", 0, 0, G_OPTION_ARG_INT, &frame_bytes,
        "realtime: bytes of the binary field \"frame\" (default 0)", "B"},
    {"mark", 0, 0, G_OPTION_ARG_STRING_ARRAY, &mark_args,
        "report RSS and descriptors when N requests are done", "N"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- our client, driven for bench/run-all.sh");
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) json = g_string_new (NULL);
  Driver driver = { 0 };
  gint64 cpu0, wall0;
  gint i;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || !url
      || in_flight < 1 || count < 0) {
    g_printerr ("bench-driver: %s\n", error ? error->message :
        "--url is required, --in-flight ≥ 1, -n ≥ 0");
    return 2;
  }
  driver.client = g_object_new (GST_FAL_TYPE_CLIENT, "server-url", url,
      "key", key, NULL);
  driver.options = gst_fal_options_new ();
  gst_fal_options_set_with_logs (driver.options, FALSE);
  driver.loop = g_main_loop_new (NULL, FALSE);
  driver.input = json_from_string (input_json, &error);
  if (!driver.input) {
    g_printerr ("bench-driver: --input: %s\n", error->message);
    return 2;
  }
  if (g_str_equal (mode, "realtime")) {
    driver.realtime = gst_fal_realtime_new (driver.client, app);
    driver.message = realtime_message (driver.input);
    g_queue_init (&driver.calls);
    g_signal_connect (driver.realtime, "result",
        G_CALLBACK (on_realtime_result), &driver);
    g_signal_connect (driver.realtime, "error",
        G_CALLBACK (on_realtime_error), &driver);
  }
  if (g_str_equal (mode, "upload")) {
    g_autoptr (GMappedFile) mapped = file_path ?
        g_mapped_file_new (file_path, FALSE, &error) : NULL;

    if (!mapped) {
      g_printerr ("bench-driver: --file: %s\n", error ? error->message :
          "required with --mode upload");
      return 2;
    }
    driver.file = g_mapped_file_get_bytes (mapped);
  }
  if (mark_args) {
    driver.marks = g_new0 (gint, g_strv_length (mark_args) + 1);
    for (i = 0; mark_args[i]; i++)
      driver.marks[i] = atoi (mark_args[i]);
  }

  run_phase (&driver, warmup);
  g_print ("{\"event\":\"ready\",\"warmup_failed\":%d}\n", driver.failed);
  wait_for_line ();

  driver.lat_us = g_new0 (gint64, MAX (count, 1));
  cpu0 = cpu_us ();
  wall0 = g_get_monotonic_time ();
  run_phase (&driver, count);
  g_string_printf (json, "{\"event\":\"done\",\"n\":%d,\"failed\":%d,"
      "\"cpu_us\":%" G_GINT64_FORMAT ",\"wall_us\":%" G_GINT64_FORMAT
      ",\"rss_kb\":%" G_GINT64_FORMAT ",\"fds\":%d,\"lat_us\":[", count,
      driver.failed, cpu_us () - cpu0, g_get_monotonic_time () - wall0,
      rss_kb (), open_fds ());
  for (i = 0; i < count; i++)
    g_string_append_printf (json, "%s%" G_GINT64_FORMAT, i ? "," : "",
        driver.lat_us[i]);
  g_string_append_c (json, ']');
  if (driver.realtime)
    g_string_append_printf (json, ",\"connections\":%u",
        gst_fal_realtime_get_n_connections (driver.realtime));
  g_string_append (json, "}\n");
  fputs (json->str, stdout);
  fflush (stdout);
  while (fgetc (stdin) != EOF);
  return 0;
}
