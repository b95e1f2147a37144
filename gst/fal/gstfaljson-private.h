/* gst-fal: JSON text in and out, numbers kept as they were
 * (private: compiled into each library and program that needs it) */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A string node holding GST_FAL_JSON_BIG_INTEGER_MARK followed by an integer
 * literal stands for that integer, which a JsonNode cannot hold (beyond
 * gint64). U+FDD0 is a Unicode noncharacter, reserved for internal use. */
#define GST_FAL_JSON_BIG_INTEGER_MARK "\xef\xb7\x90"

/* The deepest nesting gst_fal_json_from_string() takes: a top-level array
 * or object is level 1. fal payloads nest a few levels (a result's
 * images[].url is 3, OpenAPI schemas stay well within 20): 128 leaves room
 * while json-glib's recursive parser, our printer and any walk of the tree
 * stay far from a thread's stack limit. */
#define GST_FAL_JSON_MAX_DEPTH 128

/* Parses JSON text like json-glib, but keeps integer literals beyond gint64
 * exactly, as marked string nodes, and refuses (JSON_PARSER_ERROR_PARSE,
 * "nested deeper than 128 levels at byte N") nesting deeper than
 * GST_FAL_JSON_MAX_DEPTH, and single-quoted strings and comments, which
 * json-glib takes and JSON has not. Every JSON text from the network, a
 * file or a user goes through it. (transfer full) */
G_GNUC_INTERNAL
JsonNode *gst_fal_json_from_string (const gchar * text, gssize length,
    GError ** error);

/* Prints @node like json_generator (indent 2 when @pretty), but doubles with
 * the fewest digits that read back to the same double (0.2, not
 * 0.20000000000000001) and marked big integers as the literal they were. */
G_GNUC_INTERNAL
gchar *gst_fal_json_to_string (JsonNode * node, gboolean pretty);

G_GNUC_INTERNAL
gchar *gst_fal_json_format_double (gdouble value);

G_END_DECLS
