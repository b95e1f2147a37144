/* gst-fal: JSON text in and out with numbers kept (gstfaljson.c) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
/* library-internal (hidden symbols): build it in */
#include "gstfaljson.c"

static void
assert_round_trip (const gchar * text, const gchar * expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = gst_fal_json_from_string (text, -1, &error);
  g_autofree gchar *out = NULL;

  g_assert_no_error (error);
  out = gst_fal_json_to_string (node, FALSE);
  assert_equals_string (out, expected ? expected : text);
}

GST_START_TEST (test_numbers)
{
  assert_round_trip ("[0.2,0.1,1e+300,-0.0,2.0,1.5e-07,3.141592653589793]",
      NULL);
  assert_round_trip ("[1e300,5E-324,0.30000000000000004]",
      "[1e+300,4.94065645841247e-324,0.30000000000000004]");
  assert_round_trip ("[9223372036854775807,-9223372036854775808,"
      "9223372036854775808,-9223372036854775809,12345678901234567890,"
      "18446744073709551615,18446744073709551616,"
      "123456789012345678901234567890]", NULL);
  assert_round_trip ("{\"n\":-1,\"big\":{\"x\":[18446744073709551615]}}",
      NULL);
}

GST_END_TEST;

GST_START_TEST (test_strings_are_not_numbers)
{
  /* digits in strings, escapes, and the mark itself stay strings */
  assert_round_trip ("[\"12345678901234567890\",\"a\\\"18446744073709551615\","
      "\"\\\\\",\"\\u0001\\n\\t\"]", "[\"12345678901234567890\","
      "\"a\\\"18446744073709551615\",\"\\\\\",\"\\u0001\\n\\t\"]");
  assert_round_trip ("{\"" MARK "1\":true,\"k\":\"" MARK "x\",\"e\":{}}",
      NULL);
}

GST_END_TEST;

GST_START_TEST (test_pretty_like_json_glib)
{
  const gchar *text = "{\"a\":{},\"b\":[],\"c\":[1,{\"d\":\"x\"}],"
      "\"e\":null,\"f\":false}";
  g_autoptr (JsonNode) node = json_from_string (text, NULL);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree gchar *ours = gst_fal_json_to_string (node, TRUE);
  g_autofree gchar *theirs = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  theirs = json_generator_to_data (generator, NULL);
  assert_equals_string (ours, theirs);
}

GST_END_TEST;

GST_START_TEST (test_bad_json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = gst_fal_json_from_string ("{\"a\": 1",
      -1, &error);

  fail_unless (node == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  fail_unless (gst_fal_json_from_string ("", -1, &error) == NULL);
  fail_unless (error != NULL);
}

GST_END_TEST;

/* "[[…[" @levels deep, then @inner, then the closing "]…]" */
static gchar *
nested (guint levels, const gchar * inner)
{
  GString *text = g_string_new (NULL);
  guint i;

  for (i = 0; i < levels; i++)
    g_string_append_c (text, '[');
  g_string_append (text, inner);
  for (i = 0; i < levels; i++)
    g_string_append_c (text, ']');
  return g_string_free (text, FALSE);
}

static void
assert_refused (const gchar * text, const gchar * reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = gst_fal_json_from_string (text, -1, &error);

  fail_unless (node == NULL);
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
  fail_unless (strstr (error->message, reason), "message: %s",
      error->message);
}

#define assert_too_deep(text) \
  assert_refused ((text), "nested deeper than 128 levels")

static void
assert_parses (const gchar * text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = gst_fal_json_from_string (text, -1, &error);

  g_assert_no_error (error);
  fail_unless (node != NULL);
}

GST_START_TEST (test_depth)
{
  g_autofree gchar *at = nested (GST_FAL_JSON_MAX_DEPTH, "");
  g_autofree gchar *over = nested (GST_FAL_JSON_MAX_DEPTH + 1, "");
  g_autofree gchar *deep = nested (200000, "");
  g_autofree gchar *open = g_strnfill (200000, '{');
  g_autoptr (GString) objects = g_string_new (NULL);
  guint i;

  fail_unless_equals_int (GST_FAL_JSON_MAX_DEPTH, 128);
  assert_parses (at);
  assert_too_deep (over);
  assert_too_deep (deep);
  /* unbalanced: refused all the same */
  assert_too_deep (open);

  /* objects count as arrays do: 127 objects around one array */
  for (i = 0; i < GST_FAL_JSON_MAX_DEPTH - 1; i++)
    g_string_append (objects, "{\"a\":");
  g_string_append (objects, "[1]");
  for (i = 0; i < GST_FAL_JSON_MAX_DEPTH - 1; i++)
    g_string_append_c (objects, '}');
  assert_parses (objects->str);
  g_string_prepend_c (objects, '[');
  g_string_append_c (objects, ']');
  assert_too_deep (objects->str);

  /* siblings do not add up */
  g_string_truncate (objects, 0);
  for (i = 0; i < 1000; i++)
    g_string_append (objects, i ? ",[[1]]" : "[[[1]]");
  g_string_append_c (objects, ']');
  assert_parses (objects->str);
}

GST_END_TEST;

GST_START_TEST (test_depth_strings)
{
  g_autofree gchar *brackets = g_strnfill (100000, '[');
  g_autofree gchar *in_string = g_strdup_printf ("[\"%s\", \"{%s\"]",
      brackets, brackets);
  g_autofree gchar *escaped = g_strdup_printf ("[\"\\\"%s\"]", brackets);
  g_autofree gchar *inner = nested (GST_FAL_JSON_MAX_DEPTH - 1,
      "\"]]]][[[[{{\"");
  g_autofree gchar *inner_escaped = nested (GST_FAL_JSON_MAX_DEPTH - 1,
      "\"\\\"[[[[\\\"\"");
  g_autofree gchar *backslash = nested (GST_FAL_JSON_MAX_DEPTH,
      "\"\\\\\",[]");
  g_autofree gchar *backslash_deep = nested (200000, "\"\\\\\"");
  g_autofree gchar *single = g_strdup_printf ("['\"', %s, '\"']", brackets);
  g_autofree gchar *comment = g_strdup_printf ("[/* \" */ %s /* \" */]",
      brackets);

  /* brackets inside strings do not count */
  assert_parses (in_string);
  assert_parses (inner);
  /* an escaped quote does not end the string: the brackets stay inside */
  assert_parses (inner_escaped);
  assert_parses (escaped);
  /* an escaped backslash does not escape the quote after it */
  assert_too_deep (backslash);
  assert_too_deep (backslash_deep);
  /* json-glib takes single-quoted strings and comments, where a '"' would
   * hide the brackets after it from the count */
  assert_refused (single, "unexpected character '''");
  assert_refused (comment, "unexpected character '/'");
  /* an unterminated string is json-glib's to report */
  {
    g_autoptr (GError) error = NULL;

    fail_unless (gst_fal_json_from_string ("[\"[[[", -1, &error) == NULL);
    fail_unless (error != NULL);
  }
}

GST_END_TEST;

/* json-glib turns a lone UTF-16 surrogate (or a short "\\u" escape) into
 * bytes that are no UTF-8: printed, they made JSON nobody reads back
 * (fuzz-json found it) */
GST_START_TEST (test_bad_unicode_escapes)
{
  assert_round_trip ("[\"\\ud83d\\ude00 \\u00e9\"]",
      "[\"\xf0\x9f\x98\x80 \xc3\xa9\"]");
  assert_refused ("[\"a cat \\ud83dX\"]", "lone UTF-16 surrogate \\ud83d");
  assert_refused ("{\"k\": \"\\uDE00\"}", "lone UTF-16 surrogate \\uDE00");
  assert_refused ("[\"\\ud83d\\u0041\"]", "lone UTF-16 surrogate");
  assert_refused ("[\"\\ud83d\\ud83d\\ude00\"]", "lone UTF-16 surrogate");
  assert_refused ("[\"\\ud83d", "lone UTF-16 surrogate");
  /* json-glib reads what hex digits there are: "\ud83$" was "\ud83" */
  assert_refused ("[\"\\ud83$X\"]", "invalid \\u escape at byte 2");
  assert_refused ("[\"\\u12\"]", "invalid \\u escape");
  /* and C's octal escapes, "\345" a byte */
  assert_refused ("[\"\\345\"]", "invalid escape at byte 2");
  assert_round_trip ("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
      "[\"\\\"\\\\/\\b\\f\\n\\r\\t\"]");
}

GST_END_TEST;

/* A string beginning with the big-integer mark and digits, from the network,
 * was printed as a number: "\ufdd000" as 00, which is no JSON (fuzz-json
 * found it). Only what the mark stands for, an integer literal beyond
 * gint64, is printed as one. */
GST_START_TEST (test_mark_in_strings)
{
  assert_round_trip ("[\"\\ufdd000\",\"\\ufdd0-01\"]",
      "[\"" MARK "00\",\"" MARK "-01\"]");
  /* nor an integer that a gint64 holds: -0 read back was 0, 12 a number */
  assert_round_trip ("[\"\\ufdd0-0\",\"\\ufdd012\"]",
      "[\"" MARK "-0\",\"" MARK "12\"]");
}

GST_END_TEST;

static Suite *
json_suite (void)
{
  Suite *s = suite_create ("faljson");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_numbers);
  tcase_add_test (tc, test_strings_are_not_numbers);
  tcase_add_test (tc, test_pretty_like_json_glib);
  tcase_add_test (tc, test_bad_json);
  tcase_add_test (tc, test_depth);
  tcase_add_test (tc, test_depth_strings);
  tcase_add_test (tc, test_bad_unicode_escapes);
  tcase_add_test (tc, test_mark_in_strings);
  return s;
}

GST_CHECK_MAIN (json);
