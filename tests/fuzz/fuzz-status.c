/* Fuzz target: the JSON of a status, of a submit's answer and of the
 * status stream's events (gst_fal_status_new_from_json(), gstfalstatus.c)
 */
#include "falfuzz.h"
#include "gstfalhttp-private.h"
#include "gstfaljson-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (JsonNode) node = NULL;
  GstFalStatus *status, *copy;
  GPtrArray *logs;
  guint i;

  node = gst_fal_json_from_string ((const gchar *) data, size, NULL);
  if (node == NULL)
    return 0;
  status = gst_fal_status_new_from_json (node, size % 2 ? "fuzz" : NULL,
      NULL);
  if (status == NULL)
    return 0;

  /* what the client reads of it */
  (void) gst_fal_status_get_kind (status);
  (void) gst_fal_status_get_request_id (status);
  (void) gst_fal_status_get_queue_position (status);
  (void) gst_fal_status_get_inference_time (status);
  (void) gst_fal_status_get_error (status);
  (void) gst_fal_status_get_error_type (status);
  (void) gst_fal_status_get_response_url (status);
  (void) gst_fal_status_get_status_url (status);
  (void) gst_fal_status_get_cancel_url (status);
  logs = gst_fal_status_get_logs (status);
  for (i = 0; logs && i < logs->len; i++)
    gst_fal_log_free (gst_fal_log_copy (g_ptr_array_index (logs, i)));

  /* the status stream accumulates the logs of successive statuses */
  copy = gst_fal_status_new_with_logs (status, logs);
  gst_fal_status_unref (copy);
  gst_fal_status_unref (status);
  return 0;
}
