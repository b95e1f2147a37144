/* gst-fal realtime: JSON lines in, one realtime message each, results out as
 * JSON lines in the order they come */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <gst/fal/gstfaljson-private.h>
#include <gst/fal/gstfalmsgpack-private.h>

typedef struct
{
  GMainLoop *loop;
  GstFalRealtime *realtime;
  gchar *what;                  /* "APP realtime", for error lines */
  GDataInputStream *input;
  GCancellable *cancellable;
  GPtrArray *file_names;        /* --file FIELD */
  GPtrArray *file_bytes;        /* --file PATH's bytes, GBytes */
  guint line;
  guint pending;                /* sent, without a result yet */
  gboolean input_done;
  gboolean timed_out;
  int status;
} Realtime;

static void
finish (Realtime * r, int status)
{
  if (r->status == -1)
    r->status = status;
  g_cancellable_cancel (r->cancellable);
  g_main_loop_quit (r->loop);
}

static void
check_done (Realtime * r)
{
  if (r->input_done && r->pending == 0)
    finish (r, GST_FAL_EXIT_OK);
}

static void
on_result (GstFalRealtime * rt, guint64 id, GVariant * result, Realtime * r)
{
  g_autoptr (JsonNode) node = gst_fal_msg_to_json (result,
      GST_FAL_MSG_BINARY_BASE64);

  gst_fal_cmd_print_json (node, FALSE);
  fflush (stdout);
  r->pending--;
  check_done (r);
}

static void
on_error (GstFalRealtime * rt, guint64 id, GError * error, Realtime * r)
{
  finish (r, gst_fal_cmd_report_error (r->what, error));
}

/* replaced under --throttle-interval, or dropped by the server's buffer:
 * no result will come */
static void
on_dropped (GstFalRealtime * rt, guint64 id, Realtime * r)
{
  r->pending--;
  check_done (r);
}

static void read_next_line (Realtime * r);

/* One JSON object per line, plus the --file fields. */
static gboolean
send_line (Realtime * r, const gchar * text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = gst_fal_json_from_string (text, -1, &error);
  g_autoptr (GVariant) parsed = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  const gchar *name;
  GVariant *value;
  guint i;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
    finish (r, gst_fal_cmd_usage_error ("line %u of the input is not a JSON "
            "object%s%s", r->line, error ? ": " : "",
            error ? error->message : ""));
    return FALSE;
  }
  parsed = gst_fal_msg_from_json (node, FALSE);
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, parsed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value)) {
    g_variant_builder_add (&builder, "{sv}", name, value);
    g_variant_unref (value);
  }
  for (i = 0; i < r->file_names->len; i++)
    g_variant_builder_add (&builder, "{sv}",
        (const gchar *) g_ptr_array_index (r->file_names, i),
        g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
            g_ptr_array_index (r->file_bytes, i), TRUE));
  if (!gst_fal_realtime_send (r->realtime, g_variant_builder_end (&builder),
          &error)) {
    finish (r, gst_fal_cmd_report_error (r->what, error));
    return FALSE;
  }
  r->pending++;
  return TRUE;
}

static void
on_line (GObject * source, GAsyncResult * result, gpointer data)
{
  Realtime *r = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = g_data_input_stream_read_line_finish_utf8
      (G_DATA_INPUT_STREAM (source), result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error) {
    finish (r, gst_fal_cmd_usage_error ("cannot read line %u of the input: "
            "%s", r->line + 1, error->message));
    return;
  }
  if (!text) {
    r->input_done = TRUE;
    check_done (r);
    return;
  }
  r->line++;
  if (*g_strstrip (text) && !send_line (r, text))
    return;
  read_next_line (r);
}

static void
read_next_line (Realtime * r)
{
  g_data_input_stream_read_line_async (r->input, G_PRIORITY_DEFAULT,
      r->cancellable, on_line, r);
}

static gboolean
on_timeout (gpointer data)
{
  Realtime *r = data;

  r->timed_out = TRUE;
  fprintf (stderr, "gst-fal: %s: %u results did not come within --timeout\n",
      r->what, r->pending);
  finish (r, GST_FAL_EXIT_FAILURE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  Realtime *r = data;

  fprintf (stderr, "gst-fal: %s: interrupted\n", r->what);
  finish (r, GST_FAL_EXIT_INTERRUPTED);
  return G_SOURCE_REMOVE;
}

/* --file FIELD=PATH, read once. */
static gboolean
load_files (Realtime * r, gchar ** files)
{
  for (; files && *files; files++) {
    const gchar *eq = strchr (*files, '=');
    g_autoptr (GError) error = NULL;
    gchar *data;
    gsize size;

    if (!eq || eq == *files || !eq[1]) {
      gst_fal_cmd_usage_error ("--file takes FIELD=PATH, not '%s'", *files);
      return FALSE;
    }
    if (!g_file_get_contents (eq + 1, &data, &size, &error)) {
      gst_fal_cmd_usage_error ("--file %s: %s", *files, error->message);
      return FALSE;
    }
    g_ptr_array_add (r->file_names, g_strndup (*files, eq - *files));
    g_ptr_array_add (r->file_bytes, g_bytes_new_take (data, size));
  }
  return TRUE;
}

int
gst_fal_cmd_realtime (int argc, char **argv)
{
  GstFalCmdOptions opts = { 0 };
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GInputStream) in = NULL;
  Realtime r = { 0 };
  guint sigint, sigterm, timeout = 0;

  r.status = -1;
  if (!gst_fal_cmd_parse (&argc, &argv, "APP", "Reads one JSON object per "
          "line from standard input and sends each as one message over APP's "
          "realtime websocket; prints each result as one JSON line as it "
          "arrives (binary values as base64). Exits once the input has ended "
          "and every message has its result.", GST_FAL_CMD_OPT_REALTIME,
          &opts, 1)) {
    gst_fal_cmd_options_clear (&opts);
    return GST_FAL_EXIT_USAGE;
  }
  r.file_names = g_ptr_array_new_with_free_func (g_free);
  r.file_bytes = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  if (!load_files (&r, opts.files)) {
    r.status = GST_FAL_EXIT_USAGE;
    goto out;
  }

  client = gst_fal_cmd_make_client (&opts);
  r.what = g_strdup_printf ("%s realtime", argv[1]);
  r.loop = g_main_loop_new (NULL, FALSE);
  r.cancellable = g_cancellable_new ();
  r.realtime = gst_fal_realtime_new (client, argv[1]);
  g_object_set (r.realtime, "max-buffering", (guint) opts.max_buffering,
      "throttle-interval", (guint) opts.throttle_interval, NULL);
  g_signal_connect (r.realtime, "result", G_CALLBACK (on_result), &r);
  g_signal_connect (r.realtime, "error", G_CALLBACK (on_error), &r);
  g_signal_connect (r.realtime, "dropped", G_CALLBACK (on_dropped), &r);
  in = g_unix_input_stream_new (0, FALSE);
  r.input = g_data_input_stream_new (in);
  read_next_line (&r);

  sigint = g_unix_signal_add (SIGINT, on_signal, &r);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &r);
  if (opts.timeout > 0)
    timeout = g_timeout_add ((guint) (opts.timeout * 1000), on_timeout, &r);
  g_main_loop_run (r.loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (timeout && !r.timed_out)
    g_source_remove (timeout);

  gst_fal_realtime_close (r.realtime);
  g_signal_handlers_disconnect_by_data (r.realtime, &r);
  g_clear_object (&r.realtime);
  /* let the cancelled read finish */
  while (g_main_context_iteration (NULL, FALSE));
  g_clear_object (&r.input);
  g_clear_object (&r.cancellable);
  g_main_loop_unref (r.loop);
  g_free (r.what);

out:
  g_ptr_array_unref (r.file_names);
  g_ptr_array_unref (r.file_bytes);
  gst_fal_cmd_options_clear (&opts);
  return r.status;
}
