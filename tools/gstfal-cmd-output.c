/* gst-fal: JSON on stdout; errors, logs and progress on stderr */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <gst/fal/gstfaljson-private.h>

void
gst_fal_cmd_print_json (JsonNode * node, gboolean pretty)
{
  g_autofree gchar *text = gst_fal_json_to_string (node, pretty);

  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

static void
add_string_member (JsonBuilder * builder, const gchar * name,
    const gchar * value)
{
  if (!value)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_logs (JsonBuilder * builder, GPtrArray * logs)
{
  guint i;

  json_builder_set_member_name (builder, "logs");
  if (!logs || logs->len == 0) {
    json_builder_add_null_value (builder);
    return;
  }
  json_builder_begin_array (builder);
  for (i = 0; i < logs->len; i++) {
    const GstFalLog *log = g_ptr_array_index (logs, i);

    json_builder_begin_object (builder);
    add_string_member (builder, "message", log->message);
    add_string_member (builder, "level", log->level);
    add_string_member (builder, "source", log->source);
    add_string_member (builder, "timestamp", log->timestamp);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
}

/* The status as fal's status endpoint answers it (fal-protocol.md §3.2). */
JsonNode *
gst_fal_cmd_status_to_json (GstFalStatus * status)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  GstFalStatusKind kind = gst_fal_status_get_kind (status);

  json_builder_begin_object (builder);
  add_string_member (builder, "status", gst_fal_status_kind_to_string (kind));
  add_string_member (builder, "request_id",
      gst_fal_status_get_request_id (status));
  if (kind == GST_FAL_STATUS_QUEUED) {
    json_builder_set_member_name (builder, "queue_position");
    json_builder_add_int_value (builder,
        gst_fal_status_get_queue_position (status));
  } else {
    add_logs (builder, gst_fal_status_get_logs (status));
  }
  if (kind == GST_FAL_STATUS_COMPLETED) {
    gdouble inference_time = gst_fal_status_get_inference_time (status);

    if (inference_time >= 0) {
      json_builder_set_member_name (builder, "metrics");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "inference_time");
      json_builder_add_double_value (builder, inference_time);
      json_builder_end_object (builder);
    }
    add_string_member (builder, "error", gst_fal_status_get_error (status));
    add_string_member (builder, "error_type",
        gst_fal_status_get_error_type (status));
  }
  add_string_member (builder, "response_url",
      gst_fal_status_get_response_url (status));
  add_string_member (builder, "status_url",
      gst_fal_status_get_status_url (status));
  add_string_member (builder, "cancel_url",
      gst_fal_status_get_cancel_url (status));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* Error texts may hold a JSON list over several lines: keep one line. */
static gchar *
one_line (const gchar * text)
{
  gchar *line = g_strdup (text);

  g_strdelimit (line, "\r\n", ' ');
  return line;
}

int
gst_fal_cmd_report_error (const gchar * what, const GError * error)
{
  guint http_status = gst_fal_error_get_http_status (error);
  const gchar *error_type = gst_fal_error_get_error_type (error);
  const gchar *detail = gst_fal_error_get_detail (error);
  g_autofree gchar *summary = NULL;
  const gchar *message;
  g_autofree gchar *text = NULL;

  if (gst_fal_cmd_was_interrupted ()) {
    fprintf (stderr, "gst-fal: %s: interrupted\n", what);
    return GST_FAL_EXIT_INTERRUPTED;
  }

  summary = gst_fal_error_get_summary (error);
  message = summary;
  /* the library's messages may already name the app */
  if (g_str_has_prefix (message, what)
      && g_str_has_prefix (message + strlen (what), ": "))
    message += strlen (what) + 2;
  text = one_line (detail && *detail ? detail : message);
  if (http_status && error_type)
    fprintf (stderr, "gst-fal: %s: HTTP %u %s: %s\n", what, http_status,
        error_type, text);
  else if (http_status)
    fprintf (stderr, "gst-fal: %s: HTTP %u: %s\n", what, http_status, text);
  else if (error_type)
    fprintf (stderr, "gst-fal: %s: %s: %s\n", what, error_type, text);
  else
    fprintf (stderr, "gst-fal: %s: %s\n", what, text);
  fflush (stderr);

  if (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT))
    return GST_FAL_EXIT_USAGE;
  return GST_FAL_EXIT_FAILURE;
}

int
gst_fal_cmd_usage_error (const gchar * format, ...)
{
  g_autofree gchar *message = NULL;
  g_autofree gchar *line = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  line = one_line (message);
  fprintf (stderr, "gst-fal: %s\n", line);
  fflush (stderr);
  return GST_FAL_EXIT_USAGE;
}

/* Logs and progress of a followed request. On a terminal a live line shows
 * the state and queue position, rewritten in place; log lines scroll above
 * it. Otherwise only the log lines are written. */
struct _GstFalCmdProgress
{
  gchar *application;
  gboolean live;
  gboolean line_shown;
  GHashTable *seen_logs;
};

GstFalCmdProgress *
gst_fal_cmd_progress_new (const gchar * application)
{
  GstFalCmdProgress *progress = g_new0 (GstFalCmdProgress, 1);

  progress->application = g_strdup (application);
  progress->live = isatty (STDERR_FILENO);
  progress->seen_logs = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  return progress;
}

static void
clear_live_line (GstFalCmdProgress * progress)
{
  if (progress->line_shown)
    fputs ("\r\033[K", stderr);
  progress->line_shown = FALSE;
}

/* Logs may be repeated across updates (servers send all logs so far, or only
 * the new ones): print each line once. */
static void
print_new_logs (GstFalCmdProgress * progress, GPtrArray * logs)
{
  guint i;

  for (i = 0; logs && i < logs->len; i++) {
    const GstFalLog *log = g_ptr_array_index (logs, i);
    gchar *key = g_strdup_printf ("%s\x1f%s\x1f%s", log->timestamp,
        log->level, log->message);

    if (!g_hash_table_add (progress->seen_logs, key))
      continue;
    clear_live_line (progress);
    fprintf (stderr, "%s\n", log->message ? log->message : "");
  }
}

void
gst_fal_cmd_progress_update (GstFalRequest * request, GstFalStatus * status,
    gpointer data)
{
  GstFalCmdProgress *progress = data;
  GstFalStatusKind kind = gst_fal_status_get_kind (status);

  print_new_logs (progress, gst_fal_status_get_logs (status));
  if (progress->live) {
    clear_live_line (progress);
    if (kind == GST_FAL_STATUS_QUEUED)
      fprintf (stderr, "%s: %s, queue position %d", progress->application,
          gst_fal_status_kind_to_string (kind),
          gst_fal_status_get_queue_position (status));
    else
      fprintf (stderr, "%s: %s", progress->application,
          gst_fal_status_kind_to_string (kind));
    progress->line_shown = TRUE;
  }
  fflush (stderr);
}

void
gst_fal_cmd_progress_free (GstFalCmdProgress * progress)
{
  clear_live_line (progress);
  fflush (stderr);
  g_hash_table_unref (progress->seen_logs);
  g_free (progress->application);
  g_free (progress);
}
