/* gst-fal: JSON text in and out, numbers kept as they were.
 *
 * json-glib 1.6 prints doubles with %.17g (0.2 → 0.20000000000000001) and
 * reads every integer literal into a gint64, wrapping those beyond it
 * (12345678901234567890 → -6101065172474983726, anything ≥ 2^64 → -1).
 * gst_fal_json_from_string() finds such literals first and hands them to
 * json-glib as marked strings; gst_fal_json_to_string() prints them back as
 * the literal and prints doubles with the shortest text that round-trips.
 * It also bounds the nesting (GST_FAL_JSON_MAX_DEPTH) of all JSON we read
 * from the network, a file or a user, so that it cannot crash us.
 *
 * This file is compiled into each library and program that prints or reads
 * JSON text (client, server, plugin, gst-fal): they share no symbols. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfaljson-private.h"

#include <math.h>
#include <string.h>

#define MARK GST_FAL_JSON_BIG_INTEGER_MARK
#define MARK_LEN (sizeof (MARK) - 1)

/* Whether the integer literal @digits (optionally signed, no leading zeros)
 * is beyond gint64. */
static gboolean
beyond_int64 (const gchar * literal, gsize len)
{
  gboolean negative = literal[0] == '-';
  const gchar *limit = negative ? "9223372036854775808" :
      "9223372036854775807";
  const gchar *digits = negative ? literal + 1 : literal;
  gsize n = negative ? len - 1 : len;

  if (n != strlen (limit))
    return n > strlen (limit);
  return strncmp (digits, limit, n) > 0;
}

/* The UTF-16 code unit of the "\\uXXXX" at @p (@left bytes), or -1. */
static gint
escaped_unit (const gchar * p, gsize left)
{
  gint unit = 0, i;

  if (left < 6 || p[0] != '\\' || p[1] != 'u')
    return -1;
  for (i = 2; i < 6; i++) {
    if (!g_ascii_isxdigit (p[i]))
      return -1;
    unit = unit * 16 + g_ascii_xdigit_value (p[i]);
  }
  return unit;
}

/* The length of the escape at @p (a backslash, @left bytes in all): two
 * escapes for a surrogate pair. 0 with @error for an escape JSON has not, a
 * "\\u" without four hex digits or a lone UTF-16 surrogate, which json-glib 1.6 reads as bytes that
 * are no UTF-8 (and what is printed of them then is no JSON text either). */
static gsize
escape_length (const gchar * p, gsize left, gsize at, GError ** error)
{
  gint unit, low;

  if (left < 2)
    return 2;
  if (p[1] != 'u') {
    /* json-glib's scanner also takes C's octal escapes, "\\345" a byte */
    if (strchr ("\"\\/bfnrt", p[1]) && p[1] != '\0')
      return 2;
    g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
        "invalid escape at byte %" G_GSIZE_FORMAT, at);
    return 0;
  }
  unit = escaped_unit (p, left);
  if (unit < 0) {
    g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
        "invalid \\u escape at byte %" G_GSIZE_FORMAT, at);
    return 0;
  }
  if (unit < 0xD800 || unit > 0xDFFF)
    return 6;
  low = unit < 0xDC00 ? escaped_unit (p + 6, left - 6) : -1;
  if (low >= 0xDC00 && low <= 0xDFFF)
    return 12;
  g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
      "lone UTF-16 surrogate \\%.5s at byte %" G_GSIZE_FORMAT, p + 1, at);
  return 0;
}

/* The checks json-glib 1.6 lacks, before it parses @text: nesting within
 * GST_FAL_JSON_MAX_DEPTH (its parser recurses once a level: some 100 000
 * levels overflow a thread's stack), and nothing outside strings beyond
 * JSON (it also takes single-quoted strings and comments, where a '"' would
 * hide brackets from this count), no escape beyond JSON's. Sets *@marked to @text with every integer
 * literal beyond gint64 turned into a marked string, or to NULL when there
 * is none (the common case). */
static gboolean
prescan (const gchar * text, gsize length, gchar ** marked, GError ** error)
{
  GString *out = NULL;
  gsize i = 0, copied = 0;
  guint depth = 0;

  *marked = NULL;
  while (i < length) {
    gchar c = text[i];

    if (c == '"') {
      /* skip the string, escapes included */
      for (i++; i < length && text[i] != '"';) {
        gsize escape = text[i] == '\\' ? escape_length (text + i,
            length - i, i, error) : 1;

        if (escape == 0)
          goto refused;
        i += escape;
      }
      i++;
    } else if (c == '[' || c == '{') {
      if (++depth > GST_FAL_JSON_MAX_DEPTH) {
        g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
            "nested deeper than %d levels at byte %" G_GSIZE_FORMAT,
            GST_FAL_JSON_MAX_DEPTH, i);
        goto refused;
      }
      i++;
    } else if (c == ']' || c == '}') {
      /* a stray one is json-glib's to report */
      if (depth > 0)
        depth--;
      i++;
    } else if (c == '\'' || c == '/' || c == '#') {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
          "unexpected character '%c' at byte %" G_GSIZE_FORMAT, c, i);
      goto refused;
    } else if (c == '-' || g_ascii_isdigit (c)) {
      gsize start = i;
      gboolean integer = TRUE;

      for (i++; i < length && (g_ascii_isdigit (text[i]) || text[i] == '.'
              || text[i] == 'e' || text[i] == 'E' || text[i] == '+'
              || text[i] == '-'); i++)
        if (!g_ascii_isdigit (text[i]))
          integer = FALSE;
      if (integer && beyond_int64 (text + start, i - start)) {
        if (out == NULL)
          out = g_string_sized_new (length + 16);
        g_string_append_len (out, text + copied, start - copied);
        g_string_append (out, "\"" MARK);
        g_string_append_len (out, text + start, i - start);
        g_string_append_c (out, '"');
        copied = i;
      }
    } else if (g_ascii_isalpha (c)) {
      /* true, false, null (or garbage, for the parser to report) */
      while (i < length && g_ascii_isalpha (text[i]))
        i++;
    } else {
      i++;
    }
  }
  if (out) {
    g_string_append_len (out, text + copied, length - copied);
    *marked = g_string_free (out, FALSE);
  }
  return TRUE;

refused:
  if (out)
    g_string_free (out, TRUE);
  return FALSE;
}

JsonNode *
gst_fal_json_from_string (const gchar * text, gssize length, GError ** error)
{
  /* one parser a thread, not one a text (it is never used re-entrantly:
   * it runs no code of ours) */
  static GPrivate parsers = G_PRIVATE_INIT (g_object_unref);
  JsonParser *parser = g_private_get (&parsers);
  g_autofree gchar *marked = NULL;
  JsonNode *root;

  g_return_val_if_fail (text != NULL, NULL);

  if (length < 0)
    length = strlen (text);
  if (!prescan (text, length, &marked, error))
    return NULL;
  if (parser == NULL) {
    parser = json_parser_new ();
    g_private_set (&parsers, parser);
  }
  if (!json_parser_load_from_data (parser, marked ? marked : text,
          marked ? -1 : length, error))
    return NULL;
  /* the parser keeps nothing of the text */
  root = json_parser_steal_root (parser);
  if (root == NULL) {
    g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
        "empty JSON text");
    return NULL;
  }
  return root;
}

gchar *
gst_fal_json_format_double (gdouble value)
{
  gchar buffer[G_ASCII_DTOSTR_BUF_SIZE];
  static const gchar *formats[] = { "%.15g", "%.16g", "%.17g" };
  guint i;

  if (!isfinite (value))
    return g_strdup ("null");
  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    g_ascii_formatd (buffer, sizeof buffer, formats[i], value);
    if (g_ascii_strtod (buffer, NULL) == value)
      break;
  }
  /* a double stays a double: 2.0, -0.0 */
  if (!strpbrk (buffer, ".eE"))
    return g_strconcat (buffer, ".0", NULL);
  return g_strdup (buffer);
}

static void
append_string (GString * out, const gchar * s)
{
  g_string_append_c (out, '"');
  for (; *s; s++) {
    guchar c = *s;

    switch (c) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\b':
        g_string_append (out, "\\b");
        break;
      case '\f':
        g_string_append (out, "\\f");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (c < 0x20)
          g_string_append_printf (out, "\\u%04x", c);
        else
          g_string_append_c (out, c);
    }
  }
  g_string_append_c (out, '"');
}

/* A marked big integer, as the literal: "-?[0-9]+" after the mark. */
static const gchar *
big_integer_literal (const gchar * s)
{
  const gchar *p;

  if (!g_str_has_prefix (s, MARK))
    return NULL;
  p = s + MARK_LEN;
  if (*p == '-')
    p++;
  /* a JSON integer: no leading zero */
  if (!g_ascii_isdigit (*p) || (p[0] == '0' && p[1] != '\0'))
    return NULL;
  for (; *p; p++)
    if (!g_ascii_isdigit (*p))
      return NULL;
  /* what the mark stands for: any other is a string like the rest */
  if (!beyond_int64 (s + MARK_LEN, strlen (s + MARK_LEN)))
    return NULL;
  return s + MARK_LEN;
}

static void
append_value (GString * out, JsonNode * node)
{
  switch (json_node_get_value_type (node)) {
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT,
          json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:{
      g_autofree gchar *text =
          gst_fal_json_format_double (json_node_get_double (node));

      g_string_append (out, text);
      break;
    }
    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_STRING:{
      const gchar *s = json_node_get_string (node);
      const gchar *literal = big_integer_literal (s);

      if (literal)
        g_string_append (out, literal);
      else
        append_string (out, s);
      break;
    }
    default:
      g_string_append (out, "null");
  }
}

/* In pretty mode, a new line indented to @level (two spaces a level). */
static void
new_line (GString * out, gboolean pretty, guint level)
{
  if (pretty)
    g_string_append_printf (out, "\n%*s", level * 2, "");
}

static void append_node (GString * out, JsonNode * node, gboolean pretty,
    guint level);

/* json-glib's layout: `"key" : value` when pretty, `{  }` and `[]` empty */
static void
append_object (GString * out, JsonObject * object, gboolean pretty,
    guint level)
{
  GList *members = json_object_get_members (object), *l;

  if (members == NULL) {
    g_string_append (out, pretty ? "{  }" : "{}");
    return;
  }
  g_string_append_c (out, '{');
  for (l = members; l; l = l->next) {
    new_line (out, pretty, level + 1);
    append_string (out, l->data);
    g_string_append (out, pretty ? " : " : ":");
    append_node (out, json_object_get_member (object, l->data), pretty,
        level + 1);
    if (l->next)
      g_string_append_c (out, ',');
  }
  new_line (out, pretty, level);
  g_string_append_c (out, '}');
  g_list_free (members);
}

static void
append_array (GString * out, JsonArray * array, gboolean pretty, guint level)
{
  guint i, n = json_array_get_length (array);

  if (n == 0) {
    g_string_append (out, "[]");
    return;
  }
  g_string_append_c (out, '[');
  for (i = 0; i < n; i++) {
    new_line (out, pretty, level + 1);
    append_node (out, json_array_get_element (array, i), pretty, level + 1);
    if (i + 1 < n)
      g_string_append_c (out, ',');
  }
  new_line (out, pretty, level);
  g_string_append_c (out, ']');
}

static void
append_node (GString * out, JsonNode * node, gboolean pretty, guint level)
{
  switch (node ? JSON_NODE_TYPE (node) : JSON_NODE_NULL) {
    case JSON_NODE_OBJECT:
      append_object (out, json_node_get_object (node), pretty, level);
      break;
    case JSON_NODE_ARRAY:
      append_array (out, json_node_get_array (node), pretty, level);
      break;
    case JSON_NODE_VALUE:
      append_value (out, node);
      break;
    default:
      g_string_append (out, "null");
  }
}

gchar *
gst_fal_json_to_string (JsonNode * node, gboolean pretty)
{
  GString *out = g_string_new (NULL);

  append_node (out, node, pretty, 0);
  return g_string_free (out, FALSE);
}
