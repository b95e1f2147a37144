/* gst-fal server: the run family (fal-protocol §1.2, §5.2), /run/…: the
 * sync run and its /stream, answered by a watcher (gstfalwatchers.c) */
#include <string.h>
#include "gstfalrouter-private.h"

void
gst_fal_run_routes_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  const gchar *rest = path + strlen ("/run/");
  const gchar *method = soup_server_message_get_method (msg);

  if (method == SOUP_METHOD_GET && g_str_has_suffix (rest, "/openapi.json")) {
    g_autofree gchar *endpoint = g_strndup (rest, strlen (rest) -
        strlen ("/openapi.json"));

    gst_fal_queue_routes_openapi (self, msg, endpoint);
  } else if (method != SOUP_METHOD_POST) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method not allowed", NULL);
  } else if (g_str_has_suffix (rest, "/stream")) {
    g_autofree gchar *endpoint = g_strndup (rest, strlen (rest) -
        strlen ("/stream"));

    gst_fal_queue_routes_submit (self, msg, endpoint, query,
        GST_FAL_SERVER_REQUEST_KIND_STREAM);
  } else {
    gst_fal_queue_routes_submit (self, msg, rest, query,
        GST_FAL_SERVER_REQUEST_KIND_RUN);
  }
}
