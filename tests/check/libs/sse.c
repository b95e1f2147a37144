/* gst-fal: the incremental SSE parser */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
/* the parser is library-internal (hidden symbols): build it in */
#include "gstfalsse.c"

typedef struct
{
  const gchar *event;
  const gchar *data;
  const gchar *id;
} Expected;

/* Parses @stream split in two at @split, returns the events. */
static GPtrArray *
parse_split (const gchar * stream, gsize split, gboolean * pending)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_fal_sse_event_free);
  GstFalSseParser *parser = gst_fal_sse_parser_new ();
  gsize len = strlen (stream);

  gst_fal_sse_parser_push (parser, stream, split, events);
  gst_fal_sse_parser_push (parser, stream + split, len - split, events);
  if (pending)
    *pending = gst_fal_sse_parser_has_pending (parser);
  gst_fal_sse_parser_free (parser);
  return events;
}

static void
check_events (GPtrArray * events, const Expected * expected, guint n)
{
  guint i;

  assert_equals_int (events->len, n);
  for (i = 0; i < n; i++) {
    GstFalSseEvent *event = g_ptr_array_index (events, i);

    assert_equals_string (event->event, expected[i].event);
    assert_equals_string (event->data, expected[i].data);
    if (expected[i].id) {
      assert_equals_string (event->id, expected[i].id);
    } else {
      fail_unless (event->id == NULL);
    }
  }
}

/* Every split point, and also one byte at a time. */
static void
check_stream (const gchar * stream, const Expected * expected, guint n,
    gboolean expect_pending)
{
  gsize split, len = strlen (stream);
  GPtrArray *events;
  GstFalSseParser *parser;
  gboolean pending;

  for (split = 0; split <= len; split++) {
    events = parse_split (stream, split, &pending);
    check_events (events, expected, n);
    fail_unless_equals_int (pending, expect_pending);
    g_ptr_array_unref (events);
  }

  events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_fal_sse_event_free);
  parser = gst_fal_sse_parser_new ();
  for (split = 0; split < len; split++)
    gst_fal_sse_parser_push (parser, stream + split, 1, events);
  check_events (events, expected, n);
  gst_fal_sse_parser_free (parser);
  g_ptr_array_unref (events);
}

GST_START_TEST (test_simple)
{
  const Expected expected[] = {
    {"message", "{\"status\": \"IN_QUEUE\"}", NULL},
    {"message", "{\"status\": \"COMPLETED\"}", NULL},
  };

  check_stream ("data: {\"status\": \"IN_QUEUE\"}\n\n"
      "data: {\"status\": \"COMPLETED\"}\n\n", expected, 2, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_comments)
{
  const Expected expected[] = {
    {"message", "one", NULL},
    {"message", "two", NULL},
  };

  check_stream (": keepalive\n\n:another\ndata: one\n: inside\n\n"
      ":\n\ndata:two\n\n: trailing comment\n", expected, 2, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_multiline)
{
  const Expected expected[] = {
    {"message", "line 1\nline 2\n\nline 4", NULL},
    {"message", "", NULL},
  };

  check_stream ("data: line 1\ndata: line 2\ndata\ndata: line 4\n\n"
      "data:\n\n", expected, 2, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_line_ends)
{
  const Expected expected[] = {
    {"message", "crlf\nnext", NULL},
    {"message", "cr", NULL},
    {"message", "lf", NULL},
  };

  check_stream ("data: crlf\r\ndata: next\r\n\r\n"
      "data: cr\r\r" "data: lf\n\n", expected, 3, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_fields)
{
  const Expected expected[] = {
    {"partial", "{\"a\": 1}", "7"},
    {"message", " two spaces", "7"},
    {"done", "x", "8"},
  };

  /* only one space after the colon is dropped; unknown fields and retry
   * are ignored; a block without data is no event */
  check_stream ("event: partial\nid: 7\nretry: 100\nfoo: bar\n"
      "data: {\"a\": 1}\n\nevent: ignored\n\n"
      "data:  two spaces\n\nevent: done\nid: 8\ndata: x\n\n",
      expected, 3, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_ended_mid_event)
{
  const Expected expected[] = {
    {"message", "complete", NULL},
  };

  /* the last event has no blank line: it is discarded, and pending */
  check_stream ("data: complete\n\ndata: cut", expected, 1, TRUE);
  check_stream ("data: complete\n\ndata: cut\n", expected, 1, TRUE);
  check_stream ("data: complete\n\nevent: x\n", expected, 1, TRUE);
  check_stream ("data: complete\n\n", expected, 1, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_bom)
{
  const Expected expected[] = {
    {"message", "after bom", NULL},
  };

  /* split anywhere, even inside the mark */
  check_stream ("\xEF\xBB\xBF" "data: after bom\n\n", expected, 1, FALSE);
  /* the start of a mark is no mark: a field named "\xEF\xBBdata" */
  check_stream ("\xEF\xBB" "data: after bom\n\n", NULL, 0, FALSE);
}

GST_END_TEST;

static Suite *
sse_suite (void)
{
  Suite *s = suite_create ("falsse");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_simple);
  tcase_add_test (tc, test_comments);
  tcase_add_test (tc, test_multiline);
  tcase_add_test (tc, test_line_ends);
  tcase_add_test (tc, test_fields);
  tcase_add_test (tc, test_ended_mid_event);
  tcase_add_test (tc, test_bom);
  return s;
}

GST_CHECK_MAIN (sse);
