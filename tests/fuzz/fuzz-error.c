/* Fuzz target: an error answer (gst_fal_http_error_new(), gstfalhttp.c) and
 * the details an error message carries (gstfalerror.c)
 *
 * Input: two bytes of HTTP status, an X-Fal-Error-Type header value up to
 * the first NUL, then the body. The same bytes are also read as the message
 * of a GST_FAL_ERROR, as a binding re-creating one from its message does.
 */
#include "falfuzz.h"
#include "gstfalhttp-private.h"

static void
read_error (const GError * error)
{
  g_autofree gchar *summary = NULL;
  GError *copy;

  (void) gst_fal_error_get_http_status (error);
  (void) gst_fal_error_get_error_type (error);
  (void) gst_fal_error_get_detail (error);
  (void) gst_fal_error_get_request_id (error);
  summary = gst_fal_error_get_summary (error);
  copy = g_error_copy (error);
  g_error_free (copy);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (SoupMessageHeaders) headers = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *error_type = NULL, *message = NULL;
  const uint8_t *rest;
  size_t rest_size;
  GError *error;
  guint status;

  if (size < 2)
    return 0;
  status = 100 + (data[0] << 8 | data[1]) % 900;
  error_type = fal_fuzz_split (data + 2, size - 2, &rest, &rest_size);
  body = g_bytes_new (rest, rest_size);
  headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  /* libsoup never makes a header value with a line end */
  if (*error_type && !strpbrk (error_type, "\r\n"))
    soup_message_headers_append (headers, "X-Fal-Error-Type", error_type);

  error = gst_fal_http_error_new ("fuzz", status, headers, body, NULL);
  read_error (error);
  g_error_free (error);

  message = fal_fuzz_strndup (data, size);
  error = g_error_new_literal (GST_FAL_ERROR, GST_FAL_ERROR_SERVER, message);
  read_error (error);
  g_error_free (error);
  return 0;
}
