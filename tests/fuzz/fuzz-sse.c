/* Fuzz target: the incremental SSE parser (gst/fal/gstfalsse.c)
 *
 * The first byte chooses the chunk size the rest is pushed in, so line ends
 * split across chunks are reached; the events must not depend on it.
 */
#include "falfuzz.h"
#include "gstfalsse-private.h"

static GPtrArray *
parse (const uint8_t * data, size_t size, size_t chunk, gboolean * pending)
{
  g_autoptr (GstFalSseParser) parser = gst_fal_sse_parser_new ();
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_fal_sse_event_free);
  size_t offset;

  for (offset = 0; offset < size; offset += chunk)
    gst_fal_sse_parser_push (parser, (const gchar *) data + offset,
        MIN (chunk, size - offset), events);
  *pending = gst_fal_sse_parser_has_pending (parser);
  return events;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GPtrArray) whole = NULL, chunked = NULL;
  gboolean whole_pending, chunked_pending;
  guint i;

  if (size == 0)
    return 0;
  whole = parse (data + 1, size - 1, size, &whole_pending);
  chunked = parse (data + 1, size - 1, data[0] % 16 + 1, &chunked_pending);

  /* the same events, however the bytes arrived */
  if (whole->len != chunked->len || whole_pending != chunked_pending)
    abort ();
  for (i = 0; i < whole->len; i++) {
    GstFalSseEvent *a = g_ptr_array_index (whole, i);
    GstFalSseEvent *b = g_ptr_array_index (chunked, i);

    if (g_strcmp0 (a->event, b->event) != 0 || g_strcmp0 (a->data,
            b->data) != 0 || g_strcmp0 (a->id, b->id) != 0)
      abort ();
  }
  return 0;
}
