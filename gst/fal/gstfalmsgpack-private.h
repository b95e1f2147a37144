/* gst-fal: realtime messages, msgpack on the wire and GVariant in memory
 * (private: compiled into each library and program that needs it)
 *
 * A message is a GVariant of type a{sv} ("vardict"), so that it crosses
 * introspection and can hold binary values. msgpack maps to GVariant as:
 *   map (string keys only)  a{sv}     (nested: a{sv} in a v)
 *   array                   av
 *   str (UTF-8)             s
 *   bin                     ay
 *   int                     x (int64), t (uint64) beyond G_MAXINT64
 *   float32, float64        d
 *   true/false              b
 *   nil                     mv, holding nothing
 * Encoding also takes every other basic GVariant type (numbers of any
 * width, object paths as strings), arrays of any element type, maybes and
 * tuples (as arrays). msgpack ext types are refused.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The deepest nesting taken, a top-level map being level 1: libmsgpack-c's
 * own parser stack. */
#define GST_FAL_MSGPACK_MAX_DEPTH 32

/* Decodes one msgpack map filling @data exactly. Errors
 * (G_IO_ERROR_INVALID_DATA) name the cause: truncated, trailing bytes,
 * nested deeper than GST_FAL_MSGPACK_MAX_DEPTH, a length beyond the data,
 * a key that is not a string, a string that is not UTF-8, an ext type, or a
 * top level that is not a map. (transfer full, floating reference sunk) */
G_GNUC_INTERNAL
GVariant *gst_fal_msgpack_decode (const guint8 * data, gsize size,
    GError ** error);

/* Encodes @message (any of the types above; a{sv} for a message) as one
 * msgpack value. NULL with G_IO_ERROR_INVALID_ARGUMENT for a type that
 * has no msgpack form (handles, dict keys that are not strings). */
G_GNUC_INTERNAL
GBytes *gst_fal_msgpack_encode (GVariant * message, GError ** error);

/* How binary values appear in JSON. */
typedef enum {
  /* base64 strings (the command line's output) */
  GST_FAL_MSG_BINARY_BASE64,
  /* data URIs, "data:<type>;base64,…", the type sniffed (image/jpeg,
   * image/png, else application/octet-stream): what an app takes where it
   * takes an image URL */
  GST_FAL_MSG_BINARY_DATA_URI,
} GstFalMsgBinary;

/* A message as JSON: nil is null, uint64 beyond gint64 a big-integer mark
 * (gstfaljson-private.h). (transfer full) */
G_GNUC_INTERNAL
JsonNode *gst_fal_msg_to_json (GVariant * message, GstFalMsgBinary binary);

/* JSON as a message: objects a{sv}, arrays av, null mv, integers x,
 * doubles d. With @data_uris, every "data:…;base64,…" string becomes its
 * bytes (ay), and an object whose "url" is such a string gets them as
 * "content" instead (fal's inline image: content, content_type, width,
 * height). (transfer full, floating reference sunk) */
G_GNUC_INTERNAL
GVariant *gst_fal_msg_from_json (JsonNode * node, gboolean data_uris);

G_END_DECLS
