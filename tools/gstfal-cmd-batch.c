/* gst-fal batch: one request per JSON line of input, N at a time
 *
 * A reader thread parses the input lines and pushes them into a
 * GstFalBatch, waiting while it has enough queued (so a stream of any length
 * takes bounded memory); the main thread runs the batch and writes one line
 * per item as it is done.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <gst/fal/gstfaljson-private.h>

#define DEFAULT_CONCURRENCY 4
/* the live progress line is redrawn at most this often */
#define PROGRESS_INTERVAL (G_USEC_PER_SEC / 10)

typedef struct
{
  GstFalBatch *batch;
  GstFalCmdBatchOutput *out;
  FILE *input;
  const gchar *input_name;
  GCancellable *cancellable;
  GMainLoop *loop;
  gboolean run_ok;
  GError *run_error;
  GError *write_error;
  gboolean interrupted;
  gboolean abandoned;
  GError *read_error;
  /* progress line */
  gboolean live;
  gboolean line_shown;
  gint64 start_time;
  gint64 last_progress;
} Batch;

/* The "error" member: status (or null), type, detail. */
static void
add_error (JsonBuilder * builder, const GError * error)
{
  guint status = gst_fal_error_get_http_status (error);
  const gchar *type = gst_fal_error_get_error_type (error);
  const gchar *detail = gst_fal_error_get_detail (error);
  g_autofree gchar *summary = gst_fal_error_get_summary (error);
  g_autofree gchar *cause = gst_fal_batch_error_cause (error);

  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  if (status)
    json_builder_add_int_value (builder, status);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type ? type : cause);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, detail && *detail ? detail : summary);
  json_builder_end_object (builder);
}

static gchar *
item_line (guint64 index, const gchar * request_id, JsonNode * result,
    const GError * error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, index);
  json_builder_set_member_name (builder, "request_id");
  if (request_id)
    json_builder_add_string_value (builder, request_id);
  else
    json_builder_add_null_value (builder);
  if (error) {
    add_error (builder, error);
  } else {
    json_builder_set_member_name (builder, "result");
    json_builder_add_value (builder, result ? json_node_ref (result) :
        json_node_new (JSON_NODE_NULL));
  }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return gst_fal_json_to_string (root, FALSE);
}

static void
clear_progress (Batch * b)
{
  if (b->line_shown)
    fputs ("\r\033[K", stderr);
  b->line_shown = FALSE;
}

static void
on_item_done (GstFalBatch * batch, guint64 index, const gchar * request_id,
    JsonNode * result, GError * error, Batch * b)
{
  g_autofree gchar *line = item_line (index, request_id, result, error);

  if (b->write_error)
    return;
  if (!gst_fal_cmd_batch_output_write (b->out, line, &b->write_error))
    g_cancellable_cancel (b->cancellable);
}

static void
on_progress (GstFalBatch * batch, guint64 done, guint64 succeeded,
    guint64 failed, guint in_flight, gint64 total, Batch * b)
{
  gint64 now = g_get_monotonic_time ();
  gdouble elapsed = (now - b->start_time) / (gdouble) G_USEC_PER_SEC;
  gdouble rate = elapsed > 0 ? done / elapsed : 0;
  g_autofree gchar *of = total >= 0 ?
      g_strdup_printf ("/%" G_GINT64_FORMAT, total) : g_strdup ("");
  g_autofree gchar *left = total >= 0 && rate > 0 ?
      g_strdup_printf (", %.0f s left", (total - (gdouble) done) / rate) :
      g_strdup ("");

  if (!b->live || (now - b->last_progress < PROGRESS_INTERVAL
          && (total < 0 || (gint64) done < total)))
    return;
  b->last_progress = now;
  fprintf (stderr, "\r\033[K%" G_GUINT64_FORMAT "%s done, %" G_GUINT64_FORMAT
      " succeeded, %" G_GUINT64_FORMAT " failed, %u in flight, %.1f/s%s",
      done, of, succeeded, failed, in_flight, rate, left);
  fflush (stderr);
  b->line_shown = TRUE;
}

static GError *
bad_line_error (guint64 line, const gchar * why)
{
  g_autofree gchar *detail = g_strdup_printf ("line %" G_GUINT64_FORMAT
      ": %s", line, why);

  return gst_fal_error_new_full (GST_FAL_ERROR_INVALID_ARGUMENT, 0,
      "invalid_input", detail, NULL, "%s", detail);
}

static gboolean
blank (const gchar * line)
{
  for (; *line; line++)
    if (!g_ascii_isspace (*line))
      return FALSE;
  return TRUE;
}

/* The reader thread: one item per non-blank line, in order. */
static gpointer
read_input (gpointer data)
{
  Batch *b = data;
  gchar *text = NULL;
  size_t size = 0;
  ssize_t n;
  guint64 line = 0, index = 0;

  while ((n = getline (&text, &size, b->input)) >= 0) {
    g_autoptr (JsonNode) node = NULL;
    g_autoptr (GError) error = NULL;

    line++;
    if (blank (text))
      continue;
    if (gst_fal_cmd_batch_output_has (b->out, index++)) {
      gst_fal_batch_add_skipped (b->batch);
      continue;
    }
    node = gst_fal_json_from_string (text, n, &error);
    if (!node) {
      const gchar *reason = error->message;
      g_autoptr (GError) bad = NULL;

      /* json-glib names the buffer "<data>" */
      if (g_str_has_prefix (reason, "<data>:"))
        reason += strlen ("<data>:");
      bad = bad_line_error (line, reason);
      gst_fal_batch_add_failed (b->batch, bad);
    } else if (!JSON_NODE_HOLDS_OBJECT (node)) {
      error = bad_line_error (line, "not a JSON object");
      gst_fal_batch_add_failed (b->batch, error);
    } else if (!gst_fal_batch_push (b->batch, node, b->cancellable, NULL)) {
      break;                    /* stopped */
    }
  }
  if (ferror (b->input))
    b->read_error = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot read %s: %s", b->input_name, g_strerror (errno));
  free (text);
  gst_fal_batch_close (b->batch);
  return NULL;
}

static void
on_run_done (GObject * source, GAsyncResult * res, gpointer data)
{
  Batch *b = data;

  b->run_ok = gst_fal_batch_run_finish (GST_FAL_BATCH (source), res,
      &b->run_error);
  g_main_loop_quit (b->loop);
}

static gboolean
on_signal (gpointer data)
{
  Batch *b = data;

  b->interrupted = TRUE;
  g_cancellable_cancel (b->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
print_summary (Batch * b)
{
  g_auto (GStrv) causes = gst_fal_batch_get_failure_causes (b->batch);
  guint i;

  clear_progress (b);
  fprintf (stderr, "Succeeded: %" G_GUINT64_FORMAT ", Failed: %"
      G_GUINT64_FORMAT "\n", gst_fal_batch_get_succeeded (b->batch),
      gst_fal_batch_get_failed (b->batch));
  for (i = 0; causes[i]; i++)
    fprintf (stderr, "  %s: %" G_GUINT64_FORMAT "\n", causes[i],
        gst_fal_batch_get_failure_count (b->batch, causes[i]));
  if (b->out && gst_fal_cmd_batch_output_n_resumed (b->out))
    fprintf (stderr, "Resumed: %" G_GUINT64_FORMAT " already done\n",
        gst_fal_cmd_batch_output_n_resumed (b->out));
  fflush (stderr);
}

static int
run_batch (Batch * b)
{
  guint sigint = g_unix_signal_add (SIGINT, on_signal, b);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, b);
  GThread *reader;

  g_signal_connect (b->batch, "item-done", G_CALLBACK (on_item_done), b);
  g_signal_connect (b->batch, "progress", G_CALLBACK (on_progress), b);
  b->loop = g_main_loop_new (NULL, FALSE);
  b->start_time = g_get_monotonic_time ();
  gst_fal_batch_run_async (b->batch, b->cancellable, on_run_done, b);
  reader = g_thread_new ("gst-fal-batch-input", read_input, b);
  g_main_loop_run (b->loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_pointer (&b->loop, g_main_loop_unref);
  /* a reader still waiting for input that never comes is left behind,
   * with what it uses: the process exits */
  if (b->run_ok)
    g_thread_join (reader);
  else
    b->abandoned = TRUE;

  print_summary (b);
  if (b->write_error) {
    fprintf (stderr, "gst-fal: batch: %s\n", b->write_error->message);
    return GST_FAL_EXIT_FAILURE;
  }
  if (b->interrupted) {
    fprintf (stderr, "gst-fal: batch: interrupted\n");
    return GST_FAL_EXIT_INTERRUPTED;
  }
  if (!b->run_ok)
    return gst_fal_cmd_report_error ("batch", b->run_error);
  if (b->read_error) {
    fprintf (stderr, "gst-fal: batch: %s\n", b->read_error->message);
    return GST_FAL_EXIT_FAILURE;
  }
  return gst_fal_batch_get_failed (b->batch) ? GST_FAL_EXIT_FAILURE :
      GST_FAL_EXIT_OK;
}

int
gst_fal_cmd_batch (int argc, char **argv)
{
  GstFalCmdOptions opts = { 0 };
  gint concurrency = DEFAULT_CONCURRENCY, retries = -1;
  gboolean ordered = FALSE, resume = FALSE;
  g_autofree gchar *output = NULL;
  GOptionEntry entries[] = {
    {"concurrency", 0, 0, G_OPTION_ARG_INT, &concurrency,
        "requests in flight at most (default 4)", "N"},
    {"retries", 0, 0, G_OPTION_ARG_INT, &retries,
        "submit an item again at most K times after a transient failure "
          "(connection, 429, 5xx; default: 5)", "K"},
    {"ordered", 0, 0, G_OPTION_ARG_NONE, &ordered,
        "print the items in input order", NULL},
    {"output", 0, 0, G_OPTION_ARG_FILENAME, &output,
        "write the lines to FILE instead of standard output", "FILE"},
    {"resume", 0, 0, G_OPTION_ARG_NONE, &resume,
          "with --output: skip the items FILE holds already, and append",
        NULL},
    {NULL}
  };
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GstFalOptions) options = NULL;
  g_autoptr (GError) error = NULL;
  Batch b = { 0 };
  int status;

  if (!gst_fal_cmd_parse_full (&argc, &argv, "APP [FILE|-]",
          "Runs one request to APP per line of FILE (or standard input): "
          "JSON Lines, one argument object a line. Prints one JSON line per "
          "item as it completes: {\"index\", \"request_id\", \"result\"} or "
          "{\"index\", \"request_id\", \"error\": {\"status\", \"type\", "
          "\"detail\"}}.", GST_FAL_CMD_OPT_PATH | GST_FAL_CMD_OPT_HINT |
          GST_FAL_CMD_OPT_PRIORITY | GST_FAL_CMD_OPT_WEBHOOK |
          GST_FAL_CMD_OPT_START_TIMEOUT | GST_FAL_CMD_OPT_POLL, entries, &opts,
          1, 2)) {
    status = GST_FAL_EXIT_USAGE;
    goto out;
  }
  if (concurrency < 1) {
    status = gst_fal_cmd_usage_error ("--concurrency must be at least 1");
    goto out;
  }
  if (retries < -1) {
    status = gst_fal_cmd_usage_error ("--retries must not be negative");
    goto out;
  }
  if (resume && !output) {
    status = gst_fal_cmd_usage_error ("--resume needs --output FILE");
    goto out;
  }

  b.input_name = argc > 2 && strcmp (argv[2], "-") ? argv[2] : "standard input";
  b.input = argc > 2 && strcmp (argv[2], "-") ? fopen (argv[2], "re") : stdin;
  if (!b.input) {
    status = gst_fal_cmd_usage_error ("cannot read %s: %s", argv[2],
        g_strerror (errno));
    goto out;
  }
  if (!(b.out = gst_fal_cmd_batch_output_open (output, resume, &error))) {
    status = gst_fal_cmd_usage_error ("%s", error->message);
    goto out;
  }

  client = gst_fal_cmd_make_client (&opts);
  options = gst_fal_cmd_make_call_options (&opts);
  b.batch = gst_fal_batch_new (client, argv[1], options);
  g_object_set (b.batch, "concurrency", concurrency, "max-retries", retries,
      "item-timeout", opts.timeout, "ordered", ordered, NULL);
  b.cancellable = g_cancellable_new ();
  b.live = isatty (STDERR_FILENO);
  status = run_batch (&b);

out:
  if (b.abandoned)
    return status;
  if (b.out)
    gst_fal_cmd_batch_output_close (b.out);
  if (b.input && b.input != stdin)
    fclose (b.input);
  g_clear_object (&b.batch);
  g_clear_object (&b.cancellable);
  g_clear_error (&b.run_error);
  g_clear_error (&b.write_error);
  g_clear_error (&b.read_error);
  gst_fal_cmd_options_clear (&opts);
  return status;
}
