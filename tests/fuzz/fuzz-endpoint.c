/* Fuzz target: endpoint ids and server URLs (gst/fal/gstfalendpoint.c)
 *
 * Input: an endpoint id up to the first NUL, then a server URL.
 */
#include "falfuzz.h"
#include "gstfalendpoint-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *id = NULL, *server = NULL;
  g_autofree gchar *queue = NULL, *run = NULL, *rest_url = NULL;
  g_autoptr (GstFalEndpoint) endpoint = NULL;
  g_autoptr (GError) error = NULL;
  const uint8_t *rest;
  size_t rest_size;

  id = fal_fuzz_split (data, size, &rest, &rest_size);
  server = fal_fuzz_strndup (rest, rest_size);

  gst_fal_endpoint_derive_urls (server, &queue, &run, &rest_url);
  endpoint = gst_fal_endpoint_parse (id, &error);
  if (endpoint == NULL) {
    if (error == NULL)
      abort ();
    return 0;
  }
  {
    g_autofree gchar *status_url = gst_fal_endpoint_build_url (queue,
        endpoint->app, "requests/1/status");
    g_autofree gchar *submit_url = gst_fal_endpoint_build_url (queue,
        endpoint->id, endpoint->path);

    /* what the client builds from the id stays under the server's URL */
    if (!gst_fal_url_is_under (status_url, queue)
        || !gst_fal_url_is_under (submit_url, queue))
      abort ();
  }
  return 0;
}
