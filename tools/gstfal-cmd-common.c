/* gst-fal: options, client, arguments and the wait loop of the subcommands */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <gst/fal/gstfaljson-private.h>

static GMainLoop *wait_loop;
static GAsyncResult *wait_result;
static gboolean interrupted;

static GArray *
option_entries (GstFalCmdOptFlags flags, GstFalCmdOptions * opts)
{
  GArray *entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  GOptionEntry common[] = {
    {"server", 0, 0, G_OPTION_ARG_STRING, &opts->server,
          "fal-compatible server (default: $GST_FAL_URL, else the fal cloud)",
        "URL"},
    {"key", 0, 0, G_OPTION_ARG_STRING, &opts->key,
        "API key, KEY or ID:SECRET (default: $FAL_KEY, "
          "$FAL_KEY_ID/$FAL_KEY_SECRET)", "KEY"},
    {"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opts->timeout,
        "give up (and cancel the request) after this long", "SECONDS"},
    {"tls-ca-file", 0, 0, G_OPTION_ARG_FILENAME, &opts->tls_ca_file,
          "trust only the CAs of this PEM file for https (default: "
          "$GST_FAL_CA_FILE, else the system's)", "FILE"},
  };
  GOptionEntry path = { "path", 0, 0, G_OPTION_ARG_STRING, &opts->path,
    "sub-path of the app's endpoint", "PATH"
  };
  GOptionEntry priority = { "priority", 0, 0, G_OPTION_ARG_STRING,
    &opts->priority, "queue priority: normal or low", "PRIORITY"
  };
  GOptionEntry hint = { "hint", 0, 0, G_OPTION_ARG_STRING, &opts->hint,
    "runner hint (X-Fal-Runner-Hint)", "HINT"
  };
  GOptionEntry webhook = { "webhook", 0, 0, G_OPTION_ARG_STRING,
    &opts->webhook, "URL to post the result to on completion", "URL"
  };
  GOptionEntry start_timeout = { "start-timeout", 0, 0, G_OPTION_ARG_DOUBLE,
    &opts->start_timeout, "fail if the request has not started by then",
    "SECONDS"
  };
  GOptionEntry logs = { "logs", 0, 0, G_OPTION_ARG_NONE, &opts->logs,
    "include the request's logs", NULL
  };
  GOptionEntry poll[] = {
    {"poll", 0, 0, G_OPTION_ARG_NONE, &opts->poll,
        "poll the status instead of following the status stream", NULL},
    {"poll-interval", 0, 0, G_OPTION_ARG_DOUBLE, &opts->poll_interval,
        "seconds between two polls (with --poll)", "SECONDS"},
  };
  GOptionEntry realtime[] = {
    {"max-buffering", 0, 0, G_OPTION_ARG_INT, &opts->max_buffering,
        "inputs the server keeps waiting, the oldest dropped beyond (1-60)",
        "N"},
    {"throttle-interval", 0, 0, G_OPTION_ARG_INT, &opts->throttle_interval,
          "send at most one line per interval, the newest (default 0: every "
          "line)", "MS"},
    {"file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->files,
        "add the bytes of PATH to every message as the binary field FIELD",
        "FIELD=PATH"},
  };

  g_array_append_vals (entries, common, G_N_ELEMENTS (common));
  if (flags & GST_FAL_CMD_OPT_PATH)
    g_array_append_val (entries, path);
  if (flags & GST_FAL_CMD_OPT_PRIORITY)
    g_array_append_val (entries, priority);
  if (flags & GST_FAL_CMD_OPT_HINT)
    g_array_append_val (entries, hint);
  if (flags & GST_FAL_CMD_OPT_WEBHOOK)
    g_array_append_val (entries, webhook);
  if (flags & GST_FAL_CMD_OPT_START_TIMEOUT)
    g_array_append_val (entries, start_timeout);
  if (flags & GST_FAL_CMD_OPT_LOGS)
    g_array_append_val (entries, logs);
  if (flags & GST_FAL_CMD_OPT_POLL)
    g_array_append_vals (entries, poll, G_N_ELEMENTS (poll));
  if (flags & GST_FAL_CMD_OPT_REALTIME)
    g_array_append_vals (entries, realtime, G_N_ELEMENTS (realtime));
  return entries;
}

static gboolean
check_options (const GstFalCmdOptions * opts)
{
  if (opts->priority && strcmp (opts->priority, "normal")
      && strcmp (opts->priority, "low")) {
    gst_fal_cmd_usage_error ("--priority must be 'normal' or 'low', not '%s'",
        opts->priority);
    return FALSE;
  }
  if (opts->max_buffering < 0 || opts->max_buffering > 60) {
    gst_fal_cmd_usage_error ("--max-buffering must be from 1 to 60, not %d",
        opts->max_buffering);
    return FALSE;
  }
  if (opts->timeout < 0 || opts->start_timeout < 0 || opts->poll_interval < 0
      || opts->throttle_interval < 0) {
    gst_fal_cmd_usage_error ("durations must not be negative");
    return FALSE;
  }
  if (opts->tls_ca_file && *opts->tls_ca_file) {
    g_autofree gchar *path = g_canonicalize_filename (opts->tls_ca_file,
        NULL);
    g_autoptr (GTlsDatabase) database = NULL;
    g_autoptr (GError) error = NULL;

    database = g_tls_file_database_new (path, &error);
    if (!database) {
      gst_fal_cmd_usage_error ("cannot use the CA file %s: %s",
          opts->tls_ca_file, error->message);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
gst_fal_cmd_parse (int *argc, char ***argv, const gchar * positional,
    const gchar * description, GstFalCmdOptFlags flags,
    GstFalCmdOptions * opts, guint n_positional)
{
  g_autoptr (GOptionContext) context = g_option_context_new (positional);
  g_autoptr (GArray) entries = option_entries (flags, opts);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *prgname = g_strdup_printf ("gst-fal %s", (*argv)[0]);

  g_set_prgname (prgname);
  g_option_context_set_summary (context, description);
  g_option_context_add_main_entries (context,
      (GOptionEntry *) entries->data, NULL);
  if (!g_option_context_parse (context, argc, argv, &error)) {
    gst_fal_cmd_usage_error ("%s", error->message);
    return FALSE;
  }
  if ((guint) (*argc - 1) != n_positional) {
    gst_fal_cmd_usage_error ("%s expects %s (run 'gst-fal %s --help')",
        (*argv)[0], positional, (*argv)[0]);
    return FALSE;
  }
  return check_options (opts);
}

void
gst_fal_cmd_options_clear (GstFalCmdOptions * opts)
{
  g_clear_pointer (&opts->server, g_free);
  if (opts->key)
    memset (opts->key, 0, strlen (opts->key));
  g_clear_pointer (&opts->key, g_free);
  g_clear_pointer (&opts->tls_ca_file, g_free);
  g_clear_pointer (&opts->path, g_free);
  g_clear_pointer (&opts->priority, g_free);
  g_clear_pointer (&opts->hint, g_free);
  g_clear_pointer (&opts->webhook, g_free);
  g_clear_pointer (&opts->files, g_strfreev);
}

int
gst_fal_cmd_parse_app_args (int *argc, char ***argv,
    const gchar * description, GstFalCmdOptFlags flags,
    GstFalCmdOptions * opts, JsonNode ** arguments)
{
  g_autoptr (GError) error = NULL;

  if (!gst_fal_cmd_parse (argc, argv, "APP ARGS", description, flags, opts, 2))
    return GST_FAL_EXIT_USAGE;
  if (!(*arguments = gst_fal_cmd_load_arguments ((*argv)[2], &error)))
    return gst_fal_cmd_usage_error ("%s", error->message);
  return GST_FAL_EXIT_OK;
}

int
gst_fal_cmd_app_command (int argc, char **argv, const gchar * description,
    GstFalCmdOptFlags flags, GstFalCmdAppCall call, GstFalCmdAppDone done,
    gpointer data)
{
  GstFalCmdOptions opts = { 0 };
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GstFalOptions) options = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (JsonNode) arguments = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  status = gst_fal_cmd_parse_app_args (&argc, &argv, description, flags,
      &opts, &arguments);
  if (status != GST_FAL_EXIT_OK)
    goto out;

  client = gst_fal_cmd_make_client (&opts);
  options = gst_fal_cmd_make_call_options (&opts);
  call (client, argv[1], arguments, options, cancellable, data);
  res = gst_fal_cmd_wait (cancellable);
  if (!done (client, res, data, &error))
    status = gst_fal_cmd_report_error (argv[1], error);

out:
  gst_fal_cmd_options_clear (&opts);
  return status;
}

GstFalClient *
gst_fal_cmd_make_client (const GstFalCmdOptions * opts)
{
  const gchar *url = opts->server;
  GstFalClient *client;

  if (!url || !*url)
    url = g_getenv ("GST_FAL_URL");
  if (url && !*url)
    url = NULL;
  /* an empty --tls-ca-file is unset: GST_FAL_CA_FILE then */
  client = g_object_new (GST_FAL_TYPE_CLIENT, "server-url", url,
      "tls-ca-file", opts->tls_ca_file, NULL);
  if (opts->key && *opts->key)
    g_object_set (client, "key", opts->key, NULL);
  if (opts->timeout > 0)
    g_object_set (client, "timeout", opts->timeout, NULL);
  if (opts->poll_interval > 0)
    g_object_set (client, "poll-interval", opts->poll_interval, NULL);
  return client;
}

GstFalOptions *
gst_fal_cmd_make_call_options (const GstFalCmdOptions * opts)
{
  GstFalOptions *options = gst_fal_options_new ();

  if (opts->path)
    gst_fal_options_set_path (options, opts->path);
  if (opts->hint)
    gst_fal_options_set_hint (options, opts->hint);
  if (opts->webhook)
    gst_fal_options_set_webhook_url (options, opts->webhook);
  if (opts->priority && !strcmp (opts->priority, "low"))
    gst_fal_options_set_priority (options, GST_FAL_PRIORITY_LOW);
  if (opts->start_timeout > 0)
    gst_fal_options_set_start_timeout (options, opts->start_timeout);
  if (opts->timeout > 0)
    gst_fal_options_set_timeout (options, opts->timeout);
  gst_fal_options_set_with_logs (options, opts->logs);
  if (opts->poll)
    gst_fal_options_set_status_mode (options, GST_FAL_STATUS_MODE_POLL);
  return options;
}

static gchar *
read_stdin (GError ** error)
{
  GString *data = g_string_new (NULL);
  gchar chunk[4096];
  gsize n;

  while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    g_string_append_len (data, chunk, n);
  if (ferror (stdin)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot read the arguments from standard input");
    g_string_free (data, TRUE);
    return NULL;
  }
  return g_string_free (data, FALSE);
}

JsonNode *
gst_fal_cmd_load_arguments (const gchar * spec, GError ** error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autofree gchar *owned = NULL;
  JsonNode *root;
  const gchar *text = spec;
  const gchar *origin = "inline";

  if (!strcmp (spec, "-")) {
    origin = "standard input";
    if (!(text = owned = read_stdin (error)))
      return NULL;
  } else if (spec[0] == '@') {
    g_autoptr (GError) read_error = NULL;

    origin = spec + 1;
    if (!g_file_get_contents (spec + 1, &owned, NULL, &read_error)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "cannot read the arguments: %s", read_error->message);
      return NULL;
    }
    text = owned;
  }

  root = gst_fal_json_from_string (text, -1, &parse_error);
  if (root == NULL) {
    const gchar *reason = parse_error->message;

    /* json-glib names the buffer "<data>": the origin says more */
    if (g_str_has_prefix (reason, "<data>:"))
      reason += strlen ("<data>:");
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "invalid JSON arguments (%s): %s", origin, reason);
    return NULL;
  }
  return root;
}

static gboolean
on_signal (gpointer cancellable)
{
  interrupted = TRUE;
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

void
gst_fal_cmd_async_done (GObject * source, GAsyncResult * res, gpointer data)
{
  wait_result = g_object_ref (res);
  g_main_loop_quit (wait_loop);
}

GAsyncResult *
gst_fal_cmd_wait (GCancellable * cancellable)
{
  guint sigint = g_unix_signal_add (SIGINT, on_signal, cancellable);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, cancellable);
  GAsyncResult *res;

  wait_loop = g_main_loop_new (NULL, FALSE);
  if (!wait_result)
    g_main_loop_run (wait_loop);
  g_clear_pointer (&wait_loop, g_main_loop_unref);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  res = wait_result;
  wait_result = NULL;
  return res;
}

gboolean
gst_fal_cmd_was_interrupted (void)
{
  return interrupted;
}
