/* gst-fal: incremental Server-Sent Events parser (library-internal)
 *
 * Feed it byte chunks of any size as they arrive; it returns the complete
 * events. Handles comments, multi-line data (joined with "\n"), CRLF, CR and
 * LF line ends (also split across chunks), and the event and id fields. An
 * event not yet terminated by a blank line is pending; at the end of the
 * stream it is discarded (see gst_fal_sse_parser_has_pending()).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gchar *event;   /* "message" unless an event: field was given */
  gchar *data;
  gchar *id;      /* last event id seen, nullable */
} GstFalSseEvent;

void gst_fal_sse_event_free (GstFalSseEvent * event);

typedef struct _GstFalSseParser GstFalSseParser;

GstFalSseParser *gst_fal_sse_parser_new (void);
void gst_fal_sse_parser_free (GstFalSseParser * parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalSseParser, gst_fal_sse_parser_free)

/* Parses @len bytes and appends each completed event (GstFalSseEvent, owned
 * by @events, which should free them with gst_fal_sse_event_free). */
void gst_fal_sse_parser_push (GstFalSseParser * parser, const gchar * data,
    gsize len, GPtrArray * events);

/* Whether bytes of an unterminated event are pending (a stream ending now
 * was cut mid-event). */
gboolean gst_fal_sse_parser_has_pending (GstFalSseParser * parser);

G_END_DECLS
