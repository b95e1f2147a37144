/* bench-runners: the warm runners of local/barcode and local/face-detection
 * against the same model in a persistent pipeline (issue 10 §2).
 *
 * One 880×360 frame, the main job's (the face photo of tests/files beside
 * a QR code, scripts/main-job.sh), encoded once as PNG. For each model, in
 * rounds that interleave the two sides:
 *   server:   the server time of a queued request (metrics.inference_time
 *             of its completed status: image fetched from a data URI,
 *             decoded, the model, the answer), on an in-process server
 *             whose runner of the app is warm (min-concurrency 1);
 *   pipeline: appsrc ! pngdec ! videoconvert ! MODEL ! appsink kept
 *             PLAYING, the time from pushing the PNG to its frame out.
 * Prints the medians and their ratio, and writes them as JSON to
 * $BENCH_RESULTS/runners.json when BENCH_RESULTS is set. Never run by
 * meson test.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/gst.h>
#include <gst/app/app.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <gst/falserver/gstfalserver.h>
#include "benchstats.h"

static gint rounds = 5;
static gint repeats = 20;

typedef struct
{
  const gchar *app;
  const gchar *model;           /* the persistent pipeline's */
} Model;

static const Model models[] = {
  {"local/barcode", "zbar"},
  {"local/face-detection", "facedetect display=false updates=every_frame"},
};

static GBytes *
pull_png (const gchar * description)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, &error);
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstSample) sample = NULL;
  GstMapInfo map;
  GBytes *png;

  g_assert (pipeline != NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  g_assert (sample != NULL);
  gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ);
  png = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return png;
}

/* The main job's frame: the photo on the left, a QR code on the right. */
static GBytes *
main_job_frame (void)
{
  const gchar *root = g_getenv ("BENCH_SRC");
  g_autofree gchar *photo = g_build_filename (root ? root : ".", "tests",
      "files", "messi5.jpg", NULL);
  g_autofree gchar *description = g_strdup_printf ("compositor name=mix "
      "background=white sink_1::xpos=560 ! video/x-raw,width=880,height=360 "
      "! videoconvert ! pngenc ! appsink name=sink "
      "filesrc location=%s ! jpegdec ! videoconvert ! imagefreeze "
      "num-buffers=1 ! mix.sink_0 "
      "videotestsrc num-buffers=1 pattern=ball ! "
      "video/x-raw,width=320,height=360 ! debugqroverlay pixel-size=3 x=50 "
      "y=40 ! mix.sink_1", photo);

  return pull_png (description);
}

/* ---- the persistent pipeline ---- */

typedef struct
{
  GstElement *pipeline;
  GstElement *src, *sink;
} Persistent;

static void
persistent_init (Persistent * p, const Model * model)
{
  g_autofree gchar *description = g_strdup_printf ("appsrc name=src "
      "caps=image/png format=time ! pngdec ! videoconvert ! %s ! "
      "appsink name=sink sync=false", model->model);

  p->pipeline = gst_parse_launch (description, NULL);
  g_assert (p->pipeline != NULL);
  p->src = gst_bin_get_by_name (GST_BIN (p->pipeline), "src");
  p->sink = gst_bin_get_by_name (GST_BIN (p->pipeline), "sink");
  gst_element_set_state (p->pipeline, GST_STATE_PLAYING);
}

static void
persistent_clear (Persistent * p)
{
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  gst_object_unref (p->src);
  gst_object_unref (p->sink);
  gst_object_unref (p->pipeline);
}

/* Milliseconds from pushing the PNG to its frame at the sink. */
static gdouble
persistent_run (Persistent * p, GBytes * png)
{
  gint64 start = g_get_monotonic_time ();
  GstSample *sample;

  gst_app_src_push_buffer (GST_APP_SRC (p->src),
      gst_buffer_new_wrapped_bytes (png));
  sample = gst_app_sink_pull_sample (GST_APP_SINK (p->sink));
  g_assert (sample != NULL);
  gst_sample_unref (sample);
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* ---- the server ---- */

static JsonObject *
http_object (SoupSession * session, const gchar * method, const gchar * url,
    const gchar * body, JsonNode ** root)
{
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GBytes) answer = NULL;

  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
    soup_message_set_request_body_from_bytes (msg, "application/json",
        bytes);
  }
  answer = soup_session_send_and_read (session, msg, NULL, NULL);
  g_assert (answer != NULL);
  *root = json_from_string (g_bytes_get_data (answer, NULL), NULL);
  g_assert (*root && JSON_NODE_HOLDS_OBJECT (*root));
  return json_node_get_object (*root);
}

/* The server time of one queued request, in milliseconds. */
static gdouble
server_run (SoupSession * session, GstFalServer * server, const Model * model,
    const gchar * input)
{
  g_autofree gchar *url = g_strdup_printf ("%s/queue/%s",
      gst_fal_server_get_url (server), model->app);
  g_autoptr (JsonNode) submitted = NULL;
  g_autofree gchar *status_url = NULL;
  gdouble seconds = -1;

  status_url = g_strdup (json_object_get_string_member (http_object (session,
              "POST", url, input, &submitted), "status_url"));
  while (seconds < 0) {
    g_autoptr (JsonNode) root = NULL;
    JsonObject *status = http_object (session, "GET", status_url, NULL,
        &root);

    if (g_str_equal (json_object_get_string_member (status, "status"),
            "COMPLETED"))
      seconds = json_object_get_double_member (json_object_get_object_member
          (status, "metrics"), "inference_time");
    else
      g_usleep (500);
  }
  return seconds * 1000;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Rounds (default 5)", "N"},
    {"repeats", 'n', 0, G_OPTION_ARG_INT, &repeats,
        "Requests of each side per round (default 20)", "N"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- warm runners vs persistent pipelines");
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalServer) server = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (GBytes) png = NULL;
  g_autoptr (JsonBuilder) json = json_builder_new ();
  g_autofree gchar *base64 = NULL, *input = NULL;
  const gchar *scaling[] = { "min-concurrency:local/barcode=1",
    "min-concurrency:local/face-detection=1", NULL
  };
  const gchar *results = g_getenv ("BENCH_RESULTS");
  guint m;
  gint r, i;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) || rounds < 1
      || repeats < 1) {
    g_printerr ("bench-runners: %s\n", error ? error->message :
        "--rounds and --repeats must be positive");
    return 2;
  }
  png = main_job_frame ();
  base64 = g_base64_encode (g_bytes_get_data (png, NULL),
      g_bytes_get_size (png));
  input = g_strdup_printf ("{\"image_url\": \"data:image/png;base64,%s\"}",
      base64);
  server = g_object_new (GST_FAL_TYPE_SERVER, "scaling", scaling, NULL);
  if (!gst_fal_server_start (server, &error)) {
    g_printerr ("bench-runners: %s\n", error->message);
    return 1;
  }
  session = soup_session_new_with_options ("proxy-resolver", NULL, NULL);

  json_builder_begin_object (json);
  g_print ("same 880x360 frame, %d rounds of %d, medians (ms)\n", rounds,
      repeats);
  for (m = 0; m < G_N_ELEMENTS (models); m++) {
    const Model *model = &models[m];
    g_autoptr (GArray) server_ms = g_array_new (FALSE, FALSE,
        sizeof (gdouble));
    g_autoptr (GArray) pipeline_ms = g_array_new (FALSE, FALSE,
        sizeof (gdouble));
    gdouble s, p;
    Persistent persistent;

    persistent_init (&persistent, model);
    /* warm-up of both sides */
    for (i = 0; i < 3; i++) {
      server_run (session, server, model, input);
      persistent_run (&persistent, png);
    }
    for (r = 0; r < rounds; r++) {
      for (i = 0; i < repeats; i++) {
        /* interleaved, alternating which goes first */
        gdouble a, b;

        if ((r + i) % 2) {
          a = server_run (session, server, model, input);
          b = persistent_run (&persistent, png);
        } else {
          b = persistent_run (&persistent, png);
          a = server_run (session, server, model, input);
        }
        g_array_append_val (server_ms, a);
        g_array_append_val (pipeline_ms, b);
      }
    }
    persistent_clear (&persistent);
    s = bench_median (server_ms);
    p = bench_median (pipeline_ms);
    g_print ("%-22s server %6.2f  pipeline %6.2f  ratio %.2fx\n", model->app,
        s, p, s / p);
    json_builder_set_member_name (json, model->app);
    json_builder_begin_object (json);
    json_builder_set_member_name (json, "server_ms");
    json_builder_add_double_value (json, s);
    json_builder_set_member_name (json, "pipeline_ms");
    json_builder_add_double_value (json, p);
    json_builder_set_member_name (json, "ratio");
    json_builder_add_double_value (json, s / p);
    json_builder_end_object (json);
  }
  json_builder_end_object (json);
  gst_fal_server_stop (server);

  if (results && *results) {
    g_autoptr (JsonNode) root = json_builder_get_root (json);
    g_autofree gchar *text = json_to_string (root, TRUE);
    g_autofree gchar *path = g_build_filename (results, "runners.json", NULL);

    if (!g_file_set_contents (path, text, -1, &error))
      g_printerr ("bench-runners: %s\n", error->message);
  }
  return 0;
}
