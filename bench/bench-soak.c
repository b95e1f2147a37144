/* bench-soak: exactly-once delivery under injected faults (issue 13 §3).
 *
 * The client side of bench/js/p9-soak.mjs, which starts `gst-fal serve`,
 * sets its faults and counts its executions. One phase per run:
 *
 *   --phase frames: N frames through
 *     videotestsrc ! falinfer application=local/echo ordering=ordered
 *     max-in-flight=8 on-error=skip arguments={"index": "{{index}}"}
 *     ! fakesink
 *     and, on each frame at the sink, its result metas: exactly one, its
 *     own index (else mismatched), no index seen twice (else duplicated);
 *     error metas counted by cause.
 *   --phase subscribes: N gst_fal_client_subscribe_async() of local/echo
 *     with {"n": i}, 8 in flight; each answer's n checked likewise.
 *
 * Prints one JSON object: the counts, the causes of the errors (numbers
 * and request ids blanked out, so that alike errors add up), and the
 * process's RSS and descriptors before and after.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/fal/gstfal.h>
#include <json-glib/json-glib.h>
#include "benchproc.h"

static gchar *url;
static gchar *key;
static gchar *phase;
static gint n_items = 2000;
static gint in_flight = 8;

/* exactly_one: items with one result and nothing else; none: with no
 * result nor error (lost silently); several: frames with more than one
 * meta */
typedef struct
{
  guint64 exactly_one, none, several, results, errors;
  guint64 duplicated, mismatched, ambiguous;
  /* cause → count */
  GHashTable *causes;
  /* indexes whose result was seen */
  GHashTable *seen;
  GRegex *blank_request, *blank_number;
} Counts;

static void
counts_init (Counts * c)
{
  memset (c, 0, sizeof (*c));
  c->causes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  c->blank_request = g_regex_new (" ?\\(request [^)]*\\)", 0, 0, NULL);
  c->blank_number = g_regex_new ("[0-9]+", 0, 0, NULL);
}

/* An error, counted by its cause: the message without the application,
 * request ids and numbers. */
static void
count_error (Counts * c, const gchar * message)
{
  const gchar *colon = strstr (message, ": ");
  g_autofree gchar *a = NULL;
  gchar *cause;

  a = g_regex_replace_literal (c->blank_request, colon ? colon + 2 : message,
      -1, 0, "", 0, NULL);
  cause = g_regex_replace_literal (c->blank_number, a, -1, 0, "N", 0, NULL);
  c->errors++;
  if (strstr (cause, "may have been accepted"))
    c->ambiguous++;
  g_hash_table_insert (c->causes, cause,
      GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (c->causes,
                  cause)) + 1));
}

/* A result for item @expected, @got the index it carries. */
static void
count_result (Counts * c, gint64 expected, gint64 got)
{
  c->results++;
  if (got != expected)
    c->mismatched++;
  if (g_hash_table_contains (c->seen, GINT_TO_POINTER (got)))
    c->duplicated++;
  g_hash_table_add (c->seen, GINT_TO_POINTER (got));
}

static void
print_counts (Counts * c, gint64 rss0, gint fds0, gdouble seconds)
{
  GHashTableIter iter;
  gpointer cause, count;
  gboolean first = TRUE;

  g_print ("{\"phase\":\"%s\",\"n\":%d,\"in_flight\":%d,\"seconds\":%.1f,"
      "\"exactly_one\":%" G_GUINT64_FORMAT ",\"none\":%" G_GUINT64_FORMAT
      ",\"several\":%" G_GUINT64_FORMAT ",\"results\":%" G_GUINT64_FORMAT
      ",\"errors\":%" G_GUINT64_FORMAT ",\"ambiguous\":%" G_GUINT64_FORMAT
      ",\"duplicated\":%" G_GUINT64_FORMAT ",\"mismatched\":%"
      G_GUINT64_FORMAT ",\"causes\":{", phase, n_items, in_flight, seconds,
      c->exactly_one, c->none, c->several, c->results, c->errors,
      c->ambiguous, c->duplicated, c->mismatched);
  g_hash_table_iter_init (&iter, c->causes);
  while (g_hash_table_iter_next (&iter, &cause, &count)) {
    g_autoptr (JsonNode) name = json_node_init_string (json_node_alloc (),
        cause);
    g_autofree gchar *text = json_to_string (name, FALSE);

    g_print ("%s%s:%u", first ? "" : ",", text, GPOINTER_TO_UINT (count));
    first = FALSE;
  }
  g_print ("},\"client_before\":{\"rss_kb\":%" G_GINT64_FORMAT ",\"fds\":%d},"
      "\"client_after\":{\"rss_kb\":%" G_GINT64_FORMAT ",\"fds\":%d}}\n",
      rss0, fds0, bench_rss_kb (), bench_open_fds ());
}

/* frames */

static gint64
index_in (const gchar * json, const gchar * member)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  JsonObject *object;
  JsonNode *value;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return -1;
  object = json_node_get_object (node);
  value = json_object_get_member (object, member);
  if (!value || !JSON_NODE_HOLDS_VALUE (value))
    return -1;
  if (json_node_get_value_type (value) == G_TYPE_STRING)
    return g_ascii_strtoll (json_node_get_string (value), NULL, 10);
  return json_node_get_int (value);
}

typedef struct
{
  Counts counts;
  gint64 frame;
} Frames;

static GstPadProbeReturn
on_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Frames *f = user_data;
  g_autoptr (GList) metas =
      gst_fal_buffer_get_result_metas (GST_PAD_PROBE_INFO_BUFFER (info));
  guint n = g_list_length (metas);
  GList *l;

  if (n == 1 && !((GstFalResultMeta *) metas->data)->error)
    f->counts.exactly_one++;
  else if (n == 0)
    f->counts.none++;
  else if (n > 1)
    f->counts.several++;
  for (l = metas; l; l = l->next) {
    GstFalResultMeta *meta = l->data;

    if (meta->error)
      count_error (&f->counts, meta->error);
    else
      count_result (&f->counts, f->frame, index_in (meta->result_json,
              "index"));
  }
  f->frame++;
  return GST_PAD_PROBE_OK;
}

static gboolean
run_frames (GstFalClient * client, Counts * counts)
{
  g_autofree gchar *description = g_strdup_printf ("videotestsrc "
      "num-buffers=%d ! video/x-raw,format=I420,width=32,height=24,"
      "framerate=1000/1 ! falinfer name=infer application=local/echo "
      "ordering=ordered max-in-flight=%d on-error=skip "
      "arguments=\"{\\\"index\\\": \\\"{{index}}\\\"}\" ! "
      "fakesink name=sink sync=false", n_items, in_flight);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, &error);
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) message = NULL;
  GstContext *context;
  GstElement *sink;
  GstPad *pad;
  Frames f = { 0, };

  if (!pipeline) {
    g_printerr ("bench-soak: %s\n", error->message);
    return FALSE;
  }
  f.counts = *counts;
  context = gst_context_new (GST_FAL_CLIENT_CONTEXT_TYPE, TRUE);
  gst_structure_set (gst_context_writable_structure (context), "client",
      GST_FAL_TYPE_CLIENT, client, NULL);
  gst_element_set_context (pipeline, context);
  gst_context_unref (context);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_frame, &f, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);

  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) failure = NULL;

    gst_message_parse_error (message, &failure, NULL);
    g_printerr ("bench-soak: pipeline error: %s\n", failure->message);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  *counts = f.counts;
  /* every frame reached the sink */
  return GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS && f.frame == n_items;
}

/* subscribes */

typedef struct
{
  Counts *counts;
  GstFalClient *client;
  gint next, done;
} Subscribes;

static void subscribe_next (Subscribes * s);

typedef struct
{
  Subscribes *s;
  gint index;
} Item;

static void
on_subscribed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Item *item = user_data;
  Subscribes *s = item->s;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = gst_fal_client_subscribe_finish (GST_FAL_CLIENT
      (source), result, NULL, &error);

  if (node) {
    g_autofree gchar *text = json_to_string (node, FALSE);

    s->counts->exactly_one++;
    count_result (s->counts, item->index, index_in (text, "n"));
  } else {
    g_autofree gchar *summary = gst_fal_error_get_summary (error);

    count_error (s->counts, summary);
  }
  g_free (item);
  s->done++;
  subscribe_next (s);
}

static void
subscribe_next (Subscribes * s)
{
  g_autoptr (JsonNode) arguments = NULL;
  g_autofree gchar *json = NULL;
  Item *item;

  if (s->next >= n_items)
    return;
  item = g_new0 (Item, 1);
  item->s = s;
  item->index = s->next++;
  json = g_strdup_printf ("{\"n\": %d}", item->index);
  arguments = json_from_string (json, NULL);
  gst_fal_client_subscribe_async (s->client, "local/echo", arguments, NULL,
      NULL, NULL, NULL, NULL, on_subscribed, item);
}

static gboolean
run_subscribes (GstFalClient * client, Counts * counts)
{
  Subscribes s = {.counts = counts,.client = client };
  gint i;

  for (i = 0; i < in_flight; i++)
    subscribe_next (&s);
  while (s.done < n_items)
    g_main_context_iteration (NULL, TRUE);
  return TRUE;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"url", 0, 0, G_OPTION_ARG_STRING, &url, "Server URL", "URL"},
    {"key", 0, 0, G_OPTION_ARG_STRING, &key, "API key", "KEY"},
    {"phase", 0, 0, G_OPTION_ARG_STRING, &phase, "frames or subscribes",
        "PHASE"},
    {"n", 'n', 0, G_OPTION_ARG_INT, &n_items, "Frames or subscribes "
          "(default 2000)", "N"},
    {"in-flight", 0, 0, G_OPTION_ARG_INT, &in_flight, "Requests at once "
          "(default 8)", "N"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- exactly-once delivery under faults");
  g_autoptr (GError) error = NULL;
  g_autoptr (GstPluginFeature) falinfer = NULL;
  g_autoptr (GstFalClient) client = NULL;
  gboolean frames, ok;
  gint64 rss0, start;
  gint fds0;
  Counts counts;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) || !url
      || !phase || n_items < 1 || in_flight < 1
      || (g_strcmp0 (phase, "frames") && g_strcmp0 (phase, "subscribes"))) {
    g_printerr ("bench-soak: %s\n", error ? error->message :
        "--url and --phase frames|subscribes are required; -n and "
        "--in-flight ≥ 1");
    return 2;
  }
  frames = g_str_equal (phase, "frames");
  falinfer = gst_registry_lookup_feature (gst_registry_get (), "falinfer");
  if (!falinfer)
    gst_registry_scan_path (gst_registry_get (), FAL_PLUGIN_DIR);
  client = g_object_new (GST_FAL_TYPE_CLIENT, "server-url", url, "key", key,
      NULL);
  counts_init (&counts);

  rss0 = bench_rss_kb ();
  fds0 = bench_open_fds ();
  start = g_get_monotonic_time ();
  ok = frames ? run_frames (client, &counts) : run_subscribes (client, &counts);
  print_counts (&counts, rss0, fds0, (g_get_monotonic_time () - start) /
      (gdouble) G_USEC_PER_SEC);
  return ok ? 0 : 1;
}
