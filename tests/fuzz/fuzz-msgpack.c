/* Fuzz target: realtime messages (gst/fal/gstfalmsgpack.c, gstfalmsgjson.c):
 * msgpack from the websocket decoded into a GVariant, then as JSON
 *
 * What decodes must encode, and decode again to the same message; its JSON
 * must read back as a message.
 */
#include "falfuzz.h"
#include "gstfalmsgpack-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GVariant) message = NULL, again = NULL, from_json = NULL;
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (JsonNode) base64 = NULL, uris = NULL;
  g_autoptr (GError) error = NULL;

  message = gst_fal_msgpack_decode (data, size, &error);
  if (message == NULL) {
    if (error == NULL)
      abort ();
    return 0;
  }
  encoded = gst_fal_msgpack_encode (message, NULL);
  if (encoded == NULL)
    abort ();
  again = gst_fal_msgpack_decode (g_bytes_get_data (encoded, NULL),
      g_bytes_get_size (encoded), NULL);
  if (again == NULL || !g_variant_equal (message, again))
    abort ();

  base64 = gst_fal_msg_to_json (message, GST_FAL_MSG_BINARY_BASE64);
  uris = gst_fal_msg_to_json (message, GST_FAL_MSG_BINARY_DATA_URI);
  from_json = gst_fal_msg_from_json (uris, TRUE);
  return 0;
}
