/* gst-fal submit, subscribe, status, result, cancel: the queue */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <stdio.h>

#define SUBMIT_FLAGS (GST_FAL_CMD_OPT_PATH | GST_FAL_CMD_OPT_HINT | \
    GST_FAL_CMD_OPT_PRIORITY | GST_FAL_CMD_OPT_WEBHOOK | \
    GST_FAL_CMD_OPT_START_TIMEOUT)

static void
submit_call (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    gpointer data)
{
  gst_fal_client_submit_async (client, application, arguments, options,
      cancellable, gst_fal_cmd_async_done, NULL);
}

static gboolean
submit_done (GstFalClient * client, GAsyncResult * res, gpointer data,
    GError ** error)
{
  g_autoptr (GstFalRequest) request =
      gst_fal_client_submit_finish (client, res, error);

  if (!request)
    return FALSE;
  printf ("%s\n", gst_fal_request_get_request_id (request));
  fflush (stdout);
  return TRUE;
}

int
gst_fal_cmd_submit (int argc, char **argv)
{
  return gst_fal_cmd_app_command (argc, argv,
      "Queues a request to APP with ARGS and prints its request id.",
      SUBMIT_FLAGS, submit_call, submit_done, NULL);
}

/* @data: where the progress printer lives while the call runs */
static void
subscribe_call (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    gpointer data)
{
  GstFalCmdProgress **progress = data;

  *progress = gst_fal_cmd_progress_new (application);
  gst_fal_client_subscribe_async (client, application, arguments, options,
      gst_fal_cmd_progress_update, *progress, NULL, cancellable,
      gst_fal_cmd_async_done, NULL);
}

static gboolean
subscribe_done (GstFalClient * client, GAsyncResult * res, gpointer data,
    GError ** error)
{
  GstFalCmdProgress **progress = data;
  g_autoptr (JsonNode) output =
      gst_fal_client_subscribe_finish (client, res, NULL, error);

  g_clear_pointer (progress, gst_fal_cmd_progress_free);
  if (!output)
    return FALSE;
  gst_fal_cmd_print_json (output, TRUE);
  return TRUE;
}

int
gst_fal_cmd_subscribe (int argc, char **argv)
{
  GstFalCmdProgress *progress = NULL;

  return gst_fal_cmd_app_command (argc, argv,
      "Queues a request to APP with ARGS, follows its status (and logs "
      "with --logs) on standard error and prints its result.",
      SUBMIT_FLAGS | GST_FAL_CMD_OPT_LOGS | GST_FAL_CMD_OPT_POLL,
      subscribe_call, subscribe_done, &progress);
}

typedef enum
{
  REQUEST_STATUS,
  REQUEST_RESULT,
  REQUEST_CANCEL,
} RequestCall;

/* status, result and cancel: APP REQUEST_ID, one call on the request. */
static int
request_command (int argc, char **argv, const gchar * description,
    GstFalCmdOptFlags flags, RequestCall call)
{
  GstFalCmdOptions opts = { 0 };
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GstFalRequest) request = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GstFalStatus) fal_status = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autoptr (GError) error = NULL;
  int status = GST_FAL_EXIT_OK;

  if (!gst_fal_cmd_parse (&argc, &argv, "APP REQUEST_ID", description, flags,
          &opts, 2)) {
    status = GST_FAL_EXIT_USAGE;
    goto out;
  }

  client = gst_fal_cmd_make_client (&opts);
  /* an invalid id fails the call: a usage error (exit 2) */
  request = gst_fal_client_get_request (client, argv[1], argv[2]);
  switch (call) {
    case REQUEST_STATUS:
      gst_fal_request_status_async (request, opts.logs, cancellable,
          gst_fal_cmd_async_done, NULL);
      break;
    case REQUEST_RESULT:
      gst_fal_request_result_async (request, cancellable,
          gst_fal_cmd_async_done, NULL);
      break;
    case REQUEST_CANCEL:
      gst_fal_request_cancel_async (request, cancellable,
          gst_fal_cmd_async_done, NULL);
      break;
  }
  res = gst_fal_cmd_wait (cancellable);
  switch (call) {
    case REQUEST_STATUS:
      if ((fal_status = gst_fal_request_status_finish (request, res, &error)))
        json = gst_fal_cmd_status_to_json (fal_status);
      break;
    case REQUEST_RESULT:
      json = gst_fal_request_result_finish (request, res, &error);
      break;
    case REQUEST_CANCEL:
      gst_fal_request_cancel_finish (request, res, &error);
      break;
  }
  if (error)
    status = gst_fal_cmd_report_error (argv[1], error);
  else if (json)
    gst_fal_cmd_print_json (json, TRUE);

out:
  gst_fal_cmd_options_clear (&opts);
  return status;
}

int
gst_fal_cmd_status (int argc, char **argv)
{
  return request_command (argc, argv,
      "Prints the status of a queued request as JSON.", GST_FAL_CMD_OPT_LOGS,
      REQUEST_STATUS);
}

int
gst_fal_cmd_result (int argc, char **argv)
{
  return request_command (argc, argv,
      "Prints the result of a completed request (does not wait).", 0,
      REQUEST_RESULT);
}

int
gst_fal_cmd_cancel (int argc, char **argv)
{
  return request_command (argc, argv,
      "Cancels a queued or running request. Cancelling a request that "
      "already completed is not an error.", 0, REQUEST_CANCEL);
}
