/* gst-fal example: submit a request, follow its status, print its result.
 *
 *   subscribe APPLICATION JSON_ARGUMENTS
 *
 * The server comes from GST_FAL_URL (unset: the fal cloud, with FAL_KEY).
 */
#include <gst/fal/gstfal.h>

static void
on_status (GstFalRequest * request, GstFalStatus * status, gpointer user_data)
{
  GPtrArray *logs = gst_fal_status_get_logs (status);
  guint i;

  g_printerr ("%s %s", gst_fal_request_get_request_id (request),
      gst_fal_status_kind_to_string (gst_fal_status_get_kind (status)));
  if (gst_fal_status_get_kind (status) == GST_FAL_STATUS_QUEUED)
    g_printerr (" (position %d)", gst_fal_status_get_queue_position (status));
  g_printerr ("\n");
  for (i = 0; logs && i < logs->len; i++)
    g_printerr ("  %s\n", ((GstFalLog *) g_ptr_array_index (logs, i))->message);
}

int
main (int argc, char **argv)
{
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (JsonNode) arguments = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;

  if (argc != 3) {
    g_printerr ("usage: %s APPLICATION JSON_ARGUMENTS\n", argv[0]);
    return 2;
  }
  arguments = json_from_string (argv[2], &error);
  if (!arguments) {
    g_printerr ("arguments: %s\n", error->message);
    return 2;
  }

  client = gst_fal_client_new ();
  result = gst_fal_client_subscribe (client, argv[1], arguments, NULL,
      on_status, NULL, NULL, &error);
  if (!result) {
    /* one line naming the cause; details for programs that need them */
    g_printerr ("%s (HTTP %u, %s)\n", error->message,
        gst_fal_error_get_http_status (error),
        gst_fal_error_get_error_type (error) ?
        gst_fal_error_get_error_type (error) : "no error type");
    return 1;
  }
  text = json_to_string (result, TRUE);
  g_print ("%s\n", text);
  return 0;
}
