/* gst-fal: the command line, shared between its subcommands */
#pragma once

#include <gst/fal/gstfal.h>

G_BEGIN_DECLS

/* Exit statuses */
#define GST_FAL_EXIT_OK 0
#define GST_FAL_EXIT_FAILURE 1        /* the request or the server failed */
#define GST_FAL_EXIT_USAGE 2          /* bad command line, arguments or input */
#define GST_FAL_EXIT_INTERRUPTED 130  /* stopped by SIGINT/SIGTERM */

/* Options shared by the client subcommands; which of them a subcommand
 * accepts is chosen by the flags given to gst_fal_cmd_parse(). */
typedef struct {
  gchar *server;
  gchar *key;
  gchar *tls_ca_file;
  gchar *path;
  gchar *priority;
  gchar *hint;
  gchar *webhook;
  gdouble start_timeout;
  gdouble timeout;
  gboolean logs;
  gboolean poll;
  gdouble poll_interval;
  /* realtime */
  gint max_buffering;
  gint throttle_interval;
  gchar **files;                /* FIELD=PATH */
} GstFalCmdOptions;

typedef enum {
  GST_FAL_CMD_OPT_PATH = 1 << 0,
  GST_FAL_CMD_OPT_PRIORITY = 1 << 1,
  GST_FAL_CMD_OPT_HINT = 1 << 2,
  GST_FAL_CMD_OPT_WEBHOOK = 1 << 3,
  GST_FAL_CMD_OPT_START_TIMEOUT = 1 << 4,
  GST_FAL_CMD_OPT_LOGS = 1 << 5,
  GST_FAL_CMD_OPT_POLL = 1 << 6,
  GST_FAL_CMD_OPT_REALTIME = 1 << 7,
} GstFalCmdOptFlags;

typedef int (*GstFalCmdFunc) (int argc, char **argv);

typedef struct {
  const gchar *name;
  const gchar *summary;
  GstFalCmdFunc func;
} GstFalCmd;

/* Parses argv (argv[0] is the subcommand name) into @opts; leaves the
 * positional arguments in argv. @positional: e.g. "APP ARGS". On a usage
 * error prints one line and returns FALSE. */
gboolean gst_fal_cmd_parse (int *argc, char ***argv, const gchar * positional,
    const gchar * description, GstFalCmdOptFlags flags,
    GstFalCmdOptions * opts, guint n_positional);
void gst_fal_cmd_options_clear (GstFalCmdOptions * opts);
/* gst_fal_cmd_parse() of "APP ARGS", then ARGS loaded into @arguments.
 * Returns GST_FAL_EXIT_OK, or the exit status of the usage error printed. */
int gst_fal_cmd_parse_app_args (int *argc, char ***argv,
    const gchar * description, GstFalCmdOptFlags flags,
    GstFalCmdOptions * opts, JsonNode ** arguments);

/* Client for --server, else GST_FAL_URL, else the fal cloud; --key, else the
 * environment (FAL_KEY, FAL_KEY_ID/FAL_KEY_SECRET); --tls-ca-file, else
 * GST_FAL_CA_FILE. */
GstFalClient *gst_fal_cmd_make_client (const GstFalCmdOptions * opts);
GstFalOptions *gst_fal_cmd_make_call_options (const GstFalCmdOptions * opts);

/* ARGS: inline JSON, @file, or - for standard input. */
JsonNode *gst_fal_cmd_load_arguments (const gchar * spec, GError ** error);

/* Runs a main loop until the async call completes, cancelling @cancellable on
 * SIGINT/SIGTERM. Returns the result (transfer full). */
GAsyncResult *gst_fal_cmd_wait (GCancellable * cancellable);
void gst_fal_cmd_async_done (GObject * source, GAsyncResult * res, gpointer data);
/* Whether SIGINT/SIGTERM arrived during gst_fal_cmd_wait(). */
gboolean gst_fal_cmd_was_interrupted (void);

/* Output (gstfal-cmd-output.c) */
void gst_fal_cmd_print_json (JsonNode * node, gboolean pretty);
JsonNode *gst_fal_cmd_status_to_json (GstFalStatus * status);
/* One line on stderr naming the cause; returns the exit status. */
int gst_fal_cmd_report_error (const gchar * what, const GError * error);
int gst_fal_cmd_usage_error (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

typedef struct _GstFalCmdProgress GstFalCmdProgress;
GstFalCmdProgress *gst_fal_cmd_progress_new (const gchar * application);
void gst_fal_cmd_progress_update (GstFalRequest * request,
    GstFalStatus * status, gpointer progress);
void gst_fal_cmd_progress_free (GstFalCmdProgress * progress);

/* Subcommands */
int gst_fal_cmd_run (int argc, char **argv);
int gst_fal_cmd_submit (int argc, char **argv);
int gst_fal_cmd_subscribe (int argc, char **argv);
int gst_fal_cmd_stream (int argc, char **argv);
int gst_fal_cmd_status (int argc, char **argv);
int gst_fal_cmd_result (int argc, char **argv);
int gst_fal_cmd_cancel (int argc, char **argv);
int gst_fal_cmd_upload (int argc, char **argv);
int gst_fal_cmd_serve (int argc, char **argv);
int gst_fal_cmd_apps (int argc, char **argv);
int gst_fal_cmd_realtime (int argc, char **argv);

/* The commands taking APP ARGS (run, stream, submit, subscribe): parses,
 * makes the client and the call options, starts the call with @call, waits,
 * and reports the error when @done returns FALSE. @done prints what the
 * call gave. Returns the exit status. */
typedef void (*GstFalCmdAppCall) (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GCancellable * cancellable, gpointer data);
typedef gboolean (*GstFalCmdAppDone) (GstFalClient * client,
    GAsyncResult * res, gpointer data, GError ** error);
int gst_fal_cmd_app_command (int argc, char **argv,
    const gchar * description, GstFalCmdOptFlags flags,
    GstFalCmdAppCall call, GstFalCmdAppDone done, gpointer data);

G_END_DECLS
