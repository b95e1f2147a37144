/* gst-fal: incremental Server-Sent Events parser (WHATWG event stream) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalsse-private.h"

#include <string.h>

struct _GstFalSseParser
{
  GString *line;
  GString *data;
  gchar *event;
  gchar *last_id;
  gboolean has_data;
  gboolean has_fields;
  gboolean after_cr;
  gboolean started;
  guint bom_bytes;              /* of a byte order mark, seen so far */
};

#define BOM "\xEF\xBB\xBF"


void
gst_fal_sse_event_free (GstFalSseEvent * event)
{
  if (event == NULL)
    return;
  g_free (event->event);
  g_free (event->data);
  g_free (event->id);
  g_free (event);
}

GstFalSseParser *
gst_fal_sse_parser_new (void)
{
  GstFalSseParser *parser = g_new0 (GstFalSseParser, 1);

  parser->line = g_string_new (NULL);
  parser->data = g_string_new (NULL);
  return parser;
}

void
gst_fal_sse_parser_free (GstFalSseParser * parser)
{
  if (parser == NULL)
    return;
  g_string_free (parser->line, TRUE);
  g_string_free (parser->data, TRUE);
  g_free (parser->event);
  g_free (parser->last_id);
  g_free (parser);
}

static void
reset_event (GstFalSseParser * parser)
{
  g_string_truncate (parser->data, 0);
  g_clear_pointer (&parser->event, g_free);
  parser->has_data = FALSE;
  parser->has_fields = FALSE;
}

static void
dispatch (GstFalSseParser * parser, GPtrArray * events)
{
  GstFalSseEvent *event;

  if (!parser->has_data) {
    reset_event (parser);
    return;
  }
  event = g_new0 (GstFalSseEvent, 1);
  event->event = g_strdup (parser->event ? parser->event : "message");
  /* every data line added a "\n"; the last one is not part of the data */
  event->data = g_strndup (parser->data->str, parser->data->len - 1);
  event->id = g_strdup (parser->last_id);
  g_ptr_array_add (events, event);
  reset_event (parser);
}

static void
process_line (GstFalSseParser * parser, GPtrArray * events)
{
  const gchar *line = parser->line->str;
  const gchar *colon, *value;
  g_autofree gchar *field = NULL;

  if (parser->line->len == 0) {
    dispatch (parser, events);
    return;
  }
  if (line[0] == ':')
    return;

  colon = strchr (line, ':');
  if (colon) {
    field = g_strndup (line, colon - line);
    value = colon + 1;
    if (*value == ' ')
      value++;
  } else {
    field = g_strdup (line);
    value = "";
  }

  parser->has_fields = TRUE;
  if (g_str_equal (field, "data")) {
    g_string_append (parser->data, value);
    g_string_append_c (parser->data, '\n');
    parser->has_data = TRUE;
  } else if (g_str_equal (field, "event")) {
    g_free (parser->event);
    parser->event = g_strdup (value);
  } else if (g_str_equal (field, "id")) {
    g_free (parser->last_id);
    parser->last_id = g_strdup (value);
  }
  /* "retry" and unknown fields are ignored */
}

void
gst_fal_sse_parser_push (GstFalSseParser * parser, const gchar * data,
    gsize len, GPtrArray * events)
{
  gsize i;

  for (i = 0; i < len; i++) {
    gchar c = data[i];

    if (!parser->started) {
      /* a UTF-8 byte order mark may start the stream, split across chunks
       * too; the start of one followed by another byte is line text */
      if (c == BOM[parser->bom_bytes]) {
        parser->started = ++parser->bom_bytes == strlen (BOM);
        continue;
      }
      parser->started = TRUE;
      g_string_append_len (parser->line, BOM, parser->bom_bytes);
    }
    if (c == '\n' && parser->after_cr) {
      /* second half of a CRLF split or not across chunks */
      parser->after_cr = FALSE;
      continue;
    }
    parser->after_cr = FALSE;
    if (c == '\r' || c == '\n') {
      parser->after_cr = (c == '\r');
      process_line (parser, events);
      g_string_truncate (parser->line, 0);
    } else {
      g_string_append_c (parser->line, c);
    }
  }
}

gboolean
gst_fal_sse_parser_has_pending (GstFalSseParser * parser)
{
  return parser->line->len > 0 || parser->has_fields
      || (!parser->started && parser->bom_bytes > 0);
}
