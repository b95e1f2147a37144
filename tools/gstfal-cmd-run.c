/* gst-fal run, stream: the direct (sync and streaming) endpoints */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <stdio.h>

int
gst_fal_cmd_run (int argc, char **argv)
{
  GstFalCmdOptions opts = { 0 };
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GstFalOptions) options = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (JsonNode) arguments = NULL;
  g_autoptr (JsonNode) output = NULL;
  g_autoptr (GError) error = NULL;
  int status = GST_FAL_EXIT_OK;

  status = gst_fal_cmd_parse_app_args (&argc, &argv,
      "Calls APP's sync endpoint with ARGS and prints its output.",
      GST_FAL_CMD_OPT_PATH | GST_FAL_CMD_OPT_HINT |
      GST_FAL_CMD_OPT_START_TIMEOUT, &opts, &arguments);
  if (status != GST_FAL_EXIT_OK)
    goto out;

  client = gst_fal_cmd_make_client (&opts);
  options = gst_fal_cmd_make_call_options (&opts);
  gst_fal_client_run_async (client, argv[1], arguments, options, cancellable,
      gst_fal_cmd_async_done, NULL);
  res = gst_fal_cmd_wait (cancellable);
  if (!(output = gst_fal_client_run_finish (client, res, &error)))
    status = gst_fal_cmd_report_error (argv[1], error);
  else
    gst_fal_cmd_print_json (output, TRUE);

out:
  gst_fal_cmd_options_clear (&opts);
  return status;
}

static void
print_event (JsonNode * event, gpointer user_data)
{
  gst_fal_cmd_print_json (event, FALSE);
}

int
gst_fal_cmd_stream (int argc, char **argv)
{
  GstFalCmdOptions opts = { 0 };
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GstFalOptions) options = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (JsonNode) arguments = NULL;
  g_autoptr (JsonNode) last = NULL;
  g_autoptr (GError) error = NULL;
  int status = GST_FAL_EXIT_OK;

  status = gst_fal_cmd_parse_app_args (&argc, &argv,
      "Posts ARGS to APP's /stream endpoint and prints each event as "
      "one JSON line, as it arrives.", GST_FAL_CMD_OPT_PATH, &opts, &arguments);
  if (status != GST_FAL_EXIT_OK)
    goto out;

  client = gst_fal_cmd_make_client (&opts);
  options = gst_fal_cmd_make_call_options (&opts);
  gst_fal_client_stream_async (client, argv[1], arguments, options,
      print_event, NULL, NULL, cancellable, gst_fal_cmd_async_done, NULL);
  res = gst_fal_cmd_wait (cancellable);
  /* every event, the last one included, was printed as it arrived */
  if (!(last = gst_fal_client_stream_finish (client, res, &error)))
    status = gst_fal_cmd_report_error (argv[1], error);

out:
  gst_fal_cmd_options_clear (&opts);
  return status;
}
