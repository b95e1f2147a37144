/* Fuzz target: JSON text in and out (gst/fal/gstfaljson.c), which every
 * JSON text from the network, a file or a user goes through
 *
 * What parses must print, and print the same once read back.
 */
#include "falfuzz.h"
#include "gstfaljson-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (JsonNode) node = NULL, again = NULL;
  g_autofree gchar *text = NULL, *pretty = NULL, *text_again = NULL;

  node = gst_fal_json_from_string ((const gchar *) data, size, NULL);
  if (node == NULL)
    return 0;
  text = gst_fal_json_to_string (node, FALSE);
  pretty = gst_fal_json_to_string (node, TRUE);

  again = gst_fal_json_from_string (pretty, -1, NULL);
  if (again == NULL)
    abort ();
  text_again = gst_fal_json_to_string (again, FALSE);
  if (strcmp (text, text_again) != 0)
    abort ();
  return 0;
}
