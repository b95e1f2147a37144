/* Fuzz target: data URIs (gst_fal_decode_data_uri(), gstfalupload.c), which
 * results and inputs may carry instead of a URL
 *
 * What decodes must encode and decode back to the same bytes and type.
 */
#include "falfuzz.h"
#include <gst/fal/gstfal.h>

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *uri = fal_fuzz_strndup (data, size);
  g_autofree gchar *type = NULL, *type_again = NULL, *encoded = NULL;
  g_autoptr (GBytes) bytes = NULL, again = NULL;
  g_autoptr (GError) error = NULL;

  bytes = gst_fal_decode_data_uri (uri, &type, &error);
  if (bytes == NULL) {
    if (error == NULL)
      abort ();
    return 0;
  }
  encoded = gst_fal_encode_data_uri (bytes, type);
  again = gst_fal_decode_data_uri (encoded, &type_again, NULL);
  if (again == NULL || !g_bytes_equal (bytes, again)
      || g_strcmp0 (type, type_again) != 0)
    abort ();
  return 0;
}
