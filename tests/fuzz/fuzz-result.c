/* Fuzz target: what the elements read of a result's JSON
 * (gst/fal/gstfalresultmeta.c): regions, a value at a path, the media URL
 *
 * Input: a path (as the result-path and media-path properties take it) up
 * to the first NUL, then the result's JSON text.
 */
#include "falfuzz.h"
#include <gst/fal/gstfal.h>

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *path = NULL, *json = NULL, *value = NULL, *url = NULL;
  g_autofree gchar *content_type = NULL;
  g_autoptr (GPtrArray) regions = NULL;
  const uint8_t *rest;
  size_t rest_size;

  path = fal_fuzz_split (data, size, &rest, &rest_size);
  json = fal_fuzz_strndup (rest, rest_size);

  regions = gst_fal_result_find_regions (json, 0.5, 2.0);
  value = gst_fal_result_get_string (json, path);
  url = gst_fal_result_find_media_url (json, *path ? path : NULL,
      &content_type);
  return 0;
}
