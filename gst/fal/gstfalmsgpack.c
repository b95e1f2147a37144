/* gst-fal: msgpack ↔ GVariant, through libmsgpack-c
 *
 * The decoder is the one place where realtime frames from the network are
 * parsed (the fuzz target): every length is checked against the data before
 * libmsgpack-c sees it, because libmsgpack-c allocates a container's
 * elements as soon as it reads the header, so a 5-byte frame announcing
 * 2^32 elements would otherwise ask for 100 GB.
 */
#include "gstfalmsgpack-private.h"

#include <gio/gio.h>
#include <msgpack.h>
#include <string.h>

static gboolean
invalid (GError ** error, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "invalid msgpack: %s", message);
  g_free (message);
  return FALSE;
}

static guint64
read_be (const guint8 * p, guint n)
{
  guint64 v = 0;
  guint i;

  for (i = 0; i < n; i++)
    v = (v << 8) | p[i];
  return v;
}

/* Walks the value headers of @data: one top-level map, every length and
 * element count within the data, nesting within GST_FAL_MSGPACK_MAX_DEPTH,
 * no ext type, nothing after the map. */
static gboolean
check_bounds (const guint8 * data, gsize size, GError ** error)
{
  /* values still to read at each open level; level 0 is the top */
  guint64 pending[GST_FAL_MSGPACK_MAX_DEPTH + 1];
  guint depth = 0;
  gsize pos = 0;

  if (size == 0)
    return invalid (error, "empty frame");
  if ((data[0] & 0xf0) != 0x80 && data[0] != 0xde && data[0] != 0xdf)
    return invalid (error, "the message is not a map");
  pending[0] = 1;
  for (;;) {
    guint8 b;
    guint64 count = 0, length = 0;
    guint header = 0;

    while (depth > 0 && pending[depth] == 0)
      depth--;
    if (pending[depth] == 0)
      break;
    pending[depth]--;
    if (pos >= size)
      return invalid (error, "truncated at byte %" G_GSIZE_FORMAT, pos);
    b = data[pos++];
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
      continue;                 /* fixint, nil, booleans */
    if ((b & 0xf0) == 0x80)
      count = 2 * (b & 0x0f);   /* fixmap */
    else if ((b & 0xf0) == 0x90)
      count = b & 0x0f;         /* fixarray */
    else if ((b & 0xe0) == 0xa0)
      length = b & 0x1f;        /* fixstr */
    else
      switch (b) {
        case 0xcc:
        case 0xd0:
          length = 1;
          break;
        case 0xcd:
        case 0xd1:
          length = 2;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          length = 4;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          length = 8;
          break;
        case 0xc4:
        case 0xd9:
          header = 1;
          break;
        case 0xc5:
        case 0xda:
        case 0xdc:
        case 0xde:
          header = 2;
          break;
        case 0xc6:
        case 0xdb:
        case 0xdd:
        case 0xdf:
          header = 4;
          break;
        default:               /* 0xc1 (never used), ext types */
          return invalid (error, "unsupported type 0x%02x at byte %"
              G_GSIZE_FORMAT, b, pos - 1);
      }
    if (header) {
      if (size - pos < header)
        return invalid (error, "truncated at byte %" G_GSIZE_FORMAT, pos);
      if (b == 0xdc || b == 0xdd)
        count = read_be (data + pos, header);
      else if (b == 0xde || b == 0xdf)
        count = 2 * read_be (data + pos, header);
      else
        length = read_be (data + pos, header);
      pos += header;
    }
    /* every element takes one byte at least */
    if (length > size - pos || count > size - pos)
      return invalid (error, "a length of %" G_GUINT64_FORMAT " at byte %"
          G_GSIZE_FORMAT " goes beyond the data (%" G_GSIZE_FORMAT
          " bytes)", length ? length : count, pos, size);
    pos += length;
    if (count) {
      if (depth + 1 > GST_FAL_MSGPACK_MAX_DEPTH)
        return invalid (error, "nested deeper than %d levels at byte %"
            G_GSIZE_FORMAT, GST_FAL_MSGPACK_MAX_DEPTH, pos);
      pending[++depth] = count;
    }
  }
  if (pos != size)
    return invalid (error, "%" G_GSIZE_FORMAT " bytes after the message",
        size - pos);
  return TRUE;
}

static GVariant *object_to_variant (const msgpack_object * o, GError ** error);

static GVariant *
map_to_variant (const msgpack_object_map * map, GError ** error)
{
  GVariantBuilder builder;
  guint32 i;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (i = 0; i < map->size; i++) {
    const msgpack_object *key = &map->ptr[i].key;
    g_autofree gchar *name = NULL;
    GVariant *value;

    if (key->type != MSGPACK_OBJECT_STR) {
      g_variant_builder_clear (&builder);
      invalid (error, "a map key is not a string");
      return NULL;
    }
    if (!g_utf8_validate_len (key->via.str.ptr, key->via.str.size, NULL)
        || (key->via.str.size
            && memchr (key->via.str.ptr, 0, key->via.str.size))) {
      g_variant_builder_clear (&builder);
      invalid (error, "a map key is not UTF-8 text");
      return NULL;
    }
    /* libmsgpack-c gives an empty string no pointer */
    name = key->via.str.size ? g_strndup (key->via.str.ptr,
        key->via.str.size) : g_strdup ("");
    value = object_to_variant (&map->ptr[i].val, error);
    if (!value) {
      g_prefix_error (error, "%s: ", name);
      g_variant_builder_clear (&builder);
      return NULL;
    }
    g_variant_builder_add (&builder, "{sv}", name, value);
  }
  return g_variant_builder_end (&builder);
}

static GVariant *
object_to_variant (const msgpack_object * o, GError ** error)
{
  GVariantBuilder builder;
  GVariant *inner;
  guint32 i;

  switch (o->type) {
    case MSGPACK_OBJECT_NIL:
      return g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL);
    case MSGPACK_OBJECT_BOOLEAN:
      return g_variant_new_boolean (o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      if (o->via.u64 > G_MAXINT64)
        return g_variant_new_uint64 (o->via.u64);
      return g_variant_new_int64 ((gint64) o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      return g_variant_new_int64 (o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      return g_variant_new_double (o->via.f64);
    case MSGPACK_OBJECT_STR:
      /* GVariant strings are UTF-8 without NUL */
      if (!g_utf8_validate_len (o->via.str.ptr, o->via.str.size, NULL)
          || (o->via.str.size
              && memchr (o->via.str.ptr, 0, o->via.str.size))) {
        invalid (error, "a string is not UTF-8 text");
        return NULL;
      } else {
        gchar *text = o->via.str.size ? g_strndup (o->via.str.ptr,
            o->via.str.size) : g_strdup ("");
        return g_variant_new_take_string (text);
      }
    case MSGPACK_OBJECT_BIN:
      return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, o->via.bin.ptr,
          o->via.bin.size, 1);
    case MSGPACK_OBJECT_ARRAY:
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
      for (i = 0; i < o->via.array.size; i++) {
        inner = object_to_variant (&o->via.array.ptr[i], error);
        if (!inner) {
          g_prefix_error (error, "[%u]: ", i);
          g_variant_builder_clear (&builder);
          return NULL;
        }
        g_variant_builder_add (&builder, "v", inner);
      }
      return g_variant_builder_end (&builder);
    case MSGPACK_OBJECT_MAP:
      return map_to_variant (&o->via.map, error);
    default:
      invalid (error, "unsupported type");
      return NULL;
  }
}

GVariant *
gst_fal_msgpack_decode (const guint8 * data, gsize size, GError ** error)
{
  msgpack_unpacked unpacked;
  msgpack_unpack_return ret;
  GVariant *message = NULL;
  size_t offset = 0;

  if (!check_bounds (data, size, error))
    return NULL;
  msgpack_unpacked_init (&unpacked);
  ret = msgpack_unpack_next (&unpacked, (const char *) data, size, &offset);
  if (ret == MSGPACK_UNPACK_SUCCESS)
    message = map_to_variant (&unpacked.data.via.map, error);
  else if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
    invalid (error, "out of memory");
  else
    invalid (error, "parse error");
  msgpack_unpacked_destroy (&unpacked);
  return message ? g_variant_ref_sink (message) : NULL;
}

/* ---------------------------------------------------------------- encode */

static gboolean
pack_variant (msgpack_packer * pk, GVariant * value, GError ** error)
{
  const GVariantType *type = g_variant_get_type (value);
  GVariantIter iter;
  GVariant *child;
  gsize n;

  switch (g_variant_classify (value)) {
    case G_VARIANT_CLASS_BOOLEAN:
      return g_variant_get_boolean (value) ?
          msgpack_pack_true (pk) == 0 : msgpack_pack_false (pk) == 0;
    case G_VARIANT_CLASS_BYTE:
      return msgpack_pack_uint8 (pk, g_variant_get_byte (value)) == 0;
    case G_VARIANT_CLASS_INT16:
      return msgpack_pack_int16 (pk, g_variant_get_int16 (value)) == 0;
    case G_VARIANT_CLASS_UINT16:
      return msgpack_pack_uint16 (pk, g_variant_get_uint16 (value)) == 0;
    case G_VARIANT_CLASS_INT32:
      return msgpack_pack_int32 (pk, g_variant_get_int32 (value)) == 0;
    case G_VARIANT_CLASS_UINT32:
      return msgpack_pack_uint32 (pk, g_variant_get_uint32 (value)) == 0;
    case G_VARIANT_CLASS_INT64:
      return msgpack_pack_int64 (pk, g_variant_get_int64 (value)) == 0;
    case G_VARIANT_CLASS_UINT64:
      return msgpack_pack_uint64 (pk, g_variant_get_uint64 (value)) == 0;
    case G_VARIANT_CLASS_DOUBLE:
      return msgpack_pack_double (pk, g_variant_get_double (value)) == 0;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:{
      const gchar *text = g_variant_get_string (value, &n);
      return msgpack_pack_str_with_body (pk, text, n) == 0;
    }
    case G_VARIANT_CLASS_VARIANT:
      child = g_variant_get_variant (value);
      if (!pack_variant (pk, child, error)) {
        g_variant_unref (child);
        return FALSE;
      }
      g_variant_unref (child);
      return TRUE;
    case G_VARIANT_CLASS_MAYBE:
      child = g_variant_get_maybe (value);
      if (!child)
        return msgpack_pack_nil (pk) == 0;
      if (!pack_variant (pk, child, error)) {
        g_variant_unref (child);
        return FALSE;
      }
      g_variant_unref (child);
      return TRUE;
    case G_VARIANT_CLASS_ARRAY:
      n = g_variant_n_children (value);
      if (g_variant_type_equal (type, G_VARIANT_TYPE_BYTESTRING)) {
        const guint8 *bytes = g_variant_get_fixed_array (value, &n, 1);
        return msgpack_pack_bin_with_body (pk, bytes, n) == 0;
      }
      if (g_variant_type_is_dict_entry (g_variant_type_element (type))) {
        if (!g_variant_type_equal (g_variant_type_key (g_variant_type_element
                    (type)), G_VARIANT_TYPE_STRING)) {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
              "a message map has keys of type %s, not strings",
              g_variant_type_peek_string (g_variant_type_key
                  (g_variant_type_element (type))));
          return FALSE;
        }
        msgpack_pack_map (pk, n);
        g_variant_iter_init (&iter, value);
        while ((child = g_variant_iter_next_value (&iter))) {
          GVariant *key = g_variant_get_child_value (child, 0);
          GVariant *val = g_variant_get_child_value (child, 1);
          gboolean ok = pack_variant (pk, key, error)
              && pack_variant (pk, val, error);
          g_variant_unref (key);
          g_variant_unref (val);
          g_variant_unref (child);
          if (!ok)
            return FALSE;
        }
        return TRUE;
      }
      /* any other array is a msgpack array */
      G_GNUC_FALLTHROUGH;
    case G_VARIANT_CLASS_TUPLE:
      msgpack_pack_array (pk, g_variant_n_children (value));
      g_variant_iter_init (&iter, value);
      while ((child = g_variant_iter_next_value (&iter))) {
        gboolean ok = pack_variant (pk, child, error);
        g_variant_unref (child);
        if (!ok)
          return FALSE;
      }
      return TRUE;
    default:                   /* handles, a dict entry on its own */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "a message value of type %s has no msgpack form",
          g_variant_type_peek_string (type));
      return FALSE;
  }
}

GBytes *
gst_fal_msgpack_encode (GVariant * message, GError ** error)
{
  msgpack_sbuffer buffer;
  msgpack_packer packer;

  /* sized once for the whole frame: its binary values are most of the
   * variant, and a growing buffer would copy a large frame several times */
  buffer.size = 0;
  buffer.alloc = g_variant_get_size (message) + 64;
  buffer.data = malloc (buffer.alloc);
  if (buffer.data == NULL)
    g_error ("%s: out of memory (%zu bytes)", G_STRFUNC, buffer.alloc);
  msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
  if (!pack_variant (&packer, message, error)) {
    msgpack_sbuffer_destroy (&buffer);
    return NULL;
  }
  /* the buffer is malloc()ed: hand it over as it is */
  return g_bytes_new_with_free_func (buffer.data, buffer.size, free,
      buffer.data);
}
