/* gst-fal: realtime messages ↔ JSON (the command line's lines, the server's
 * apps), binary values as base64 or data URIs */
#include "gstfalmsgpack-private.h"
#include "gstfaljson-private.h"

#include <string.h>

static const gchar *
sniff_content_type (const guint8 * data, gsize size)
{
  if (size >= 3 && !memcmp (data, "\xff\xd8\xff", 3))
    return "image/jpeg";
  if (size >= 8 && !memcmp (data, "\x89PNG\r\n\x1a\n", 8))
    return "image/png";
  return "application/octet-stream";
}

JsonNode *
gst_fal_msg_to_json (GVariant * message, GstFalMsgBinary binary)
{
  const GVariantType *type = g_variant_get_type (message);
  GVariantIter iter;
  GVariant *child;
  JsonNode *node;
  gsize n;

  switch (g_variant_classify (message)) {
    case G_VARIANT_CLASS_BOOLEAN:
      return json_node_init_boolean (json_node_alloc (),
          g_variant_get_boolean (message));
    case G_VARIANT_CLASS_BYTE:
      return json_node_init_int (json_node_alloc (),
          g_variant_get_byte (message));
    case G_VARIANT_CLASS_INT16:
      return json_node_init_int (json_node_alloc (),
          g_variant_get_int16 (message));
    case G_VARIANT_CLASS_UINT16:
      return json_node_init_int (json_node_alloc (),
          g_variant_get_uint16 (message));
    case G_VARIANT_CLASS_INT32:
      return json_node_init_int (json_node_alloc (),
          g_variant_get_int32 (message));
    case G_VARIANT_CLASS_UINT32:
      return json_node_init_int (json_node_alloc (),
          g_variant_get_uint32 (message));
    case G_VARIANT_CLASS_INT64:
      return json_node_init_int (json_node_alloc (),
          g_variant_get_int64 (message));
    case G_VARIANT_CLASS_UINT64:{
      guint64 v = g_variant_get_uint64 (message);
      g_autofree gchar *text = NULL;

      if (v <= G_MAXINT64)
        return json_node_init_int (json_node_alloc (), (gint64) v);
      text = g_strdup_printf (GST_FAL_JSON_BIG_INTEGER_MARK "%"
          G_GUINT64_FORMAT, v);
      return json_node_init_string (json_node_alloc (), text);
    }
    case G_VARIANT_CLASS_DOUBLE:
      return json_node_init_double (json_node_alloc (),
          g_variant_get_double (message));
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      return json_node_init_string (json_node_alloc (),
          g_variant_get_string (message, NULL));
    case G_VARIANT_CLASS_VARIANT:
      child = g_variant_get_variant (message);
      node = gst_fal_msg_to_json (child, binary);
      g_variant_unref (child);
      return node;
    case G_VARIANT_CLASS_MAYBE:
      child = g_variant_get_maybe (message);
      if (!child)
        return json_node_init_null (json_node_alloc ());
      node = gst_fal_msg_to_json (child, binary);
      g_variant_unref (child);
      return node;
    case G_VARIANT_CLASS_ARRAY:
      if (g_variant_type_equal (type, G_VARIANT_TYPE_BYTESTRING)) {
        const guint8 *bytes = g_variant_get_fixed_array (message, &n, 1);
        g_autofree gchar *b64 = g_base64_encode (bytes, n);
        g_autofree gchar *text = NULL;

        if (binary == GST_FAL_MSG_BINARY_BASE64)
          return json_node_init_string (json_node_alloc (), b64);
        text = g_strconcat ("data:", sniff_content_type (bytes, n),
            ";base64,", b64, NULL);
        return json_node_init_string (json_node_alloc (), text);
      }
      if (g_variant_type_is_dict_entry (g_variant_type_element (type))) {
        JsonObject *object = json_object_new ();

        g_variant_iter_init (&iter, message);
        while ((child = g_variant_iter_next_value (&iter))) {
          GVariant *key = g_variant_get_child_value (child, 0);
          GVariant *val = g_variant_get_child_value (child, 1);

          /* keys of other types are printed as text */
          if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING))
            json_object_set_member (object, g_variant_get_string (key, NULL),
                gst_fal_msg_to_json (val, binary));
          else {
            g_autofree gchar *name = g_variant_print (key, FALSE);
            json_object_set_member (object, name,
                gst_fal_msg_to_json (val, binary));
          }
          g_variant_unref (key);
          g_variant_unref (val);
          g_variant_unref (child);
        }
        node = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (node, object);
        return node;
      }
      G_GNUC_FALLTHROUGH;
    default:{                  /* other arrays, tuples (handles as numbers) */
      JsonArray *array = json_array_new ();

      if (g_variant_is_container (message)) {
        g_variant_iter_init (&iter, message);
        while ((child = g_variant_iter_next_value (&iter))) {
          json_array_add_element (array, gst_fal_msg_to_json (child, binary));
          g_variant_unref (child);
        }
      } else {
        json_array_unref (array);
        return json_node_init_int (json_node_alloc (),
            g_variant_get_handle (message));
      }
      node = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (node, array);
      return node;
    }
  }
}

/* The bytes of a "data:[type][;base64],payload" URI, NULL for any other
 * string. */
static GVariant *
data_uri_bytes (const gchar * text)
{
  const gchar *comma;
  gsize n;
  guchar *bytes;

  if (!g_str_has_prefix (text, "data:") || !(comma = strchr (text, ',')))
    return NULL;
  if (comma - text < 12 || strncmp (comma - 7, ";base64", 7))
    return NULL;
  bytes = g_base64_decode (comma + 1, &n);
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, bytes, n, TRUE,
      g_free, bytes);
}

static GVariant *
from_json (JsonNode * node, gboolean data_uris)
{
  GVariantBuilder builder;
  GVariant *bytes;
  GList *members, *l;
  guint i;

  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:{
      JsonObject *object = json_node_get_object (node);
      gboolean inline_url = FALSE;

      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      members = json_object_get_members (object);
      for (l = members; l; l = l->next) {
        const gchar *name = l->data;
        JsonNode *member = json_object_get_member (object, name);

        if (data_uris && !strcmp (name, "url")
            && JSON_NODE_HOLDS_VALUE (member)
            && json_node_get_value_type (member) == G_TYPE_STRING
            && (bytes = data_uri_bytes (json_node_get_string (member)))) {
          g_variant_builder_add (&builder, "{sv}", "content", bytes);
          inline_url = TRUE;
        } else if (!(inline_url && !strcmp (name, "content")))
          g_variant_builder_add (&builder, "{sv}", name,
              from_json (member, data_uris));
      }
      g_list_free (members);
      return g_variant_builder_end (&builder);
    }
    case JSON_NODE_ARRAY:{
      JsonArray *array = json_node_get_array (node);

      g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
      for (i = 0; i < json_array_get_length (array); i++)
        g_variant_builder_add (&builder, "v",
            from_json (json_array_get_element (array, i), data_uris));
      return g_variant_builder_end (&builder);
    }
    case JSON_NODE_NULL:
      return g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL);
    case JSON_NODE_VALUE:
    default:
      switch (json_node_get_value_type (node)) {
        case G_TYPE_BOOLEAN:
          return g_variant_new_boolean (json_node_get_boolean (node));
        case G_TYPE_INT64:
          return g_variant_new_int64 (json_node_get_int (node));
        case G_TYPE_DOUBLE:
          return g_variant_new_double (json_node_get_double (node));
        default:{
          const gchar *text = json_node_get_string (node);
          guint64 big;

          if (g_str_has_prefix (text, GST_FAL_JSON_BIG_INTEGER_MARK)
              && g_ascii_string_to_unsigned (text +
                  strlen (GST_FAL_JSON_BIG_INTEGER_MARK), 10, 0, G_MAXUINT64,
                  &big, NULL))
            return g_variant_new_uint64 (big);
          if (data_uris && (bytes = data_uri_bytes (text)))
            return bytes;
          return g_variant_new_string (text);
        }
      }
  }
}

GVariant *
gst_fal_msg_from_json (JsonNode * node, gboolean data_uris)
{
  return g_variant_ref_sink (from_json (node, data_uris));
}
