/* gst-fal run, stream: the direct (sync and streaming) endpoints */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <stdio.h>

static void
run_call (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    gpointer data)
{
  gst_fal_client_run_async (client, application, arguments, options,
      cancellable, gst_fal_cmd_async_done, NULL);
}

static gboolean
run_done (GstFalClient * client, GAsyncResult * res, gpointer data,
    GError ** error)
{
  g_autoptr (JsonNode) output = gst_fal_client_run_finish (client, res, error);

  if (!output)
    return FALSE;
  gst_fal_cmd_print_json (output, TRUE);
  return TRUE;
}

int
gst_fal_cmd_run (int argc, char **argv)
{
  return gst_fal_cmd_app_command (argc, argv,
      "Calls APP's sync endpoint with ARGS and prints its output.",
      GST_FAL_CMD_OPT_PATH | GST_FAL_CMD_OPT_HINT |
      GST_FAL_CMD_OPT_START_TIMEOUT, run_call, run_done, NULL);
}

static void
print_event (JsonNode * event, gpointer user_data)
{
  gst_fal_cmd_print_json (event, FALSE);
}

static void
stream_call (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    gpointer data)
{
  gst_fal_client_stream_async (client, application, arguments, options,
      print_event, NULL, NULL, cancellable, gst_fal_cmd_async_done, NULL);
}

/* every event, the last one included, was printed as it arrived */
static gboolean
stream_done (GstFalClient * client, GAsyncResult * res, gpointer data,
    GError ** error)
{
  g_autoptr (JsonNode) last = gst_fal_client_stream_finish (client, res, error);

  return last != NULL;
}

int
gst_fal_cmd_stream (int argc, char **argv)
{
  return gst_fal_cmd_app_command (argc, argv,
      "Posts ARGS to APP's /stream endpoint and prints each event as "
      "one JSON line, as it arrives.", GST_FAL_CMD_OPT_PATH, stream_call,
      stream_done, NULL);
}
