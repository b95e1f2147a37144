/* gst-fal: realtime messages, msgpack ↔ GVariant ↔ JSON (gstfalmsgpack.c,
 * gstfalmsgjson.c), hostile frames included */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gio/gio.h>
/* library-internal (hidden symbols): build them in */
#include "gstfalmsgpack.c"
#include "gstfalmsgjson.c"

static GVariant *
sample_message (void)
{
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0x02 };
  GVariantBuilder inner, list;

  g_variant_builder_init (&inner, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&inner, "{sv}", "x", g_variant_new_double (0.5));
  g_variant_builder_init (&list, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&list, "v", g_variant_new_int64 (-3));
  g_variant_builder_add (&list, "v", g_variant_new_string ("two"));
  g_variant_builder_add (&list, "v",
      g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL));
  return g_variant_ref_sink (g_variant_new_parsed
      ("{'prompt': <'a cat ✓'>, 'seed': <int64 42>, 'big': <uint64 "
          "18446744073709551615>, 'neg': <int64 -9223372036854775808>, "
          "'strength': <0.25>, 'sync': <true>, 'none': <@mv nothing>, "
          "'image': <%@ay>, 'empty': <@ay []>, 'nested': <%@a{sv}>, "
          "'list': <%@av>}",
          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, jpeg, sizeof jpeg,
              1), g_variant_builder_end (&inner),
          g_variant_builder_end (&list)));
}

GST_START_TEST (test_round_trip)
{
  g_autoptr (GVariant) message = sample_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = gst_fal_msgpack_encode (message, &error);
  g_autoptr (GVariant) back = NULL;
  gsize size;
  const guint8 *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &size);
  back = gst_fal_msgpack_decode (data, size, &error);
  g_assert_no_error (error);
  fail_unless (g_variant_equal (message, back),
      "round trip changed the message: %s", g_variant_print (back, TRUE));
}

GST_END_TEST;

/* The bytes of what fal's clients send (msgpack, use_bin_type): written by
 * hand so that the decoder is checked against the format, not itself. */
GST_START_TEST (test_wire_bytes)
{
  /* {"a": 1, "b": bin[0x00 0xff], "c": [true, nil], "d": -1, "e": 1.5} */
  static const guint8 frame[] = {
    0x85, 0xa1, 'a', 0x01, 0xa1, 'b', 0xc4, 0x02, 0x00, 0xff,
    0xa1, 'c', 0x92, 0xc3, 0xc0, 0xa1, 'd', 0xff,
    0xa1, 'e', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) message =
      gst_fal_msgpack_decode (frame, sizeof frame, &error);
  g_autoptr (GVariant) b = NULL;
  g_autoptr (GBytes) again = NULL;
  gsize n;

  g_assert_no_error (error);
  fail_unless (g_variant_is_of_type (message, G_VARIANT_TYPE_VARDICT));
  b = g_variant_lookup_value (message, "b", G_VARIANT_TYPE_BYTESTRING);
  fail_unless (b != NULL);
  fail_unless_equals_int (((const guint8 *) g_variant_get_fixed_array (b, &n,
              1))[1], 0xff);
  fail_unless_equals_int (n, 2);
  again = gst_fal_msgpack_encode (message, &error);
  g_assert_no_error (error);
  /* the keys come back in order and every value in its smallest form */
  fail_unless_equals_int (g_bytes_get_size (again), sizeof frame);
  fail_unless (memcmp (g_bytes_get_data (again, NULL), frame,
          sizeof frame) == 0);
}

GST_END_TEST;

/* Whether @dict has @key of @type. */
static gboolean
has_value (GVariant * dict, const gchar * key, const GVariantType * type)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (dict, key, type);

  return value != NULL;
}

static void
assert_refused (const guint8 * data, gsize size, const gchar * cause)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) message = gst_fal_msgpack_decode (data, size, &error);

  fail_unless (message == NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  fail_unless (strstr (error->message, cause) != NULL,
      "'%s' does not name '%s'", error->message, cause);
}

GST_START_TEST (test_hostile)
{
  g_autoptr (GVariant) message = sample_message ();
  g_autoptr (GBytes) bytes = gst_fal_msgpack_encode (message, NULL);
  gsize size, i;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  /* a map announcing 2^32-1 entries, an array 2^32-1 elements, a string
   * and a binary of 4 GB, in a few bytes */
  static const guint8 huge_map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1 };
  static const guint8 huge_array[] = { 0x81, 0xa1, 'a', 0xdd, 0xff, 0xff,
    0xff, 0xff, 0x01
  };
  static const guint8 huge_str[] = { 0x81, 0xa1, 'a', 0xdb, 0xff, 0xff,
    0xff, 0xff, 'x'
  };
  static const guint8 huge_bin[] = { 0x81, 0xa1, 'a', 0xc6, 0xff, 0xff,
    0xff, 0xfe, 'x'
  };
  static const guint8 int_key[] = { 0x81, 0x01, 0x02 };
  static const guint8 bad_utf8[] = { 0x81, 0xa1, 'a', 0xa2, 0xc3, 0x28 };
  static const guint8 nul_key[] = { 0x81, 0xa2, 'a', 0x00, 0x01 };
  static const guint8 ext[] = { 0x81, 0xa1, 'a', 0xd4, 0x01, 0x02 };
  static const guint8 never[] = { 0x81, 0xa1, 'a', 0xc1 };
  static const guint8 trailing[] = { 0x80, 0x00 };
  static const guint8 array_top[] = { 0x91, 0x01 };
  guint8 deep[2 + 3 * (GST_FAL_MSGPACK_MAX_DEPTH + 1) + 1];
  gsize d;

  /* every truncation of a valid frame */
  for (i = 0; i < size; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) cut = gst_fal_msgpack_decode (data, i, &error);

    fail_unless (cut == NULL, "a frame cut at %" G_GSIZE_FORMAT " decoded",
        i);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
  assert_refused ((const guint8 *) "\x81\xa1" "a", 3, "truncated at byte 3");
  assert_refused (huge_map, sizeof huge_map, "beyond the data");
  assert_refused (huge_array, sizeof huge_array, "beyond the data");
  assert_refused (huge_str, sizeof huge_str, "beyond the data");
  assert_refused (huge_bin, sizeof huge_bin, "beyond the data");
  assert_refused (int_key, sizeof int_key, "key is not a string");
  assert_refused (bad_utf8, sizeof bad_utf8, "not UTF-8");
  assert_refused (nul_key, sizeof nul_key, "not UTF-8");
  assert_refused (ext, sizeof ext, "unsupported type 0xd4");
  assert_refused (never, sizeof never, "unsupported type 0xc1");
  assert_refused (trailing, sizeof trailing, "1 bytes after the message");
  assert_refused (array_top, sizeof array_top, "not a map");
  assert_refused (NULL, 0, "empty");

  /* {"a": {"a": … 1}}: at the bound it decodes, one deeper it is refused */
  for (d = 0; d < GST_FAL_MSGPACK_MAX_DEPTH; d++) {
    deep[3 * d] = 0x81;
    deep[3 * d + 1] = 0xa1;
    deep[3 * d + 2] = 'a';
  }
  deep[3 * (GST_FAL_MSGPACK_MAX_DEPTH - 1) + 3] = 0x01;
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) ok = gst_fal_msgpack_decode (deep,
        3 * (GST_FAL_MSGPACK_MAX_DEPTH - 1) + 4, &error);

    g_assert_no_error (error);
    fail_unless (ok != NULL);
  }
  deep[3 * GST_FAL_MSGPACK_MAX_DEPTH] = 0x81;
  deep[3 * GST_FAL_MSGPACK_MAX_DEPTH + 1] = 0xa1;
  deep[3 * GST_FAL_MSGPACK_MAX_DEPTH + 2] = 'a';
  deep[3 * GST_FAL_MSGPACK_MAX_DEPTH + 3] = 0x01;
  assert_refused (deep, 3 * GST_FAL_MSGPACK_MAX_DEPTH + 4, "nested deeper");
}

GST_END_TEST;

/* An empty string or key: libmsgpack-c gives it no pointer, which became
 * a NULL name and string (fuzz-msgpack found it) */
GST_START_TEST (test_empty_strings)
{
  /* {"": "", "k": ""} */
  static const guint8 frame[] = { 0x82, 0xa0, 0xa0, 0xa1, 'k', 0xa0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) message =
      gst_fal_msgpack_decode (frame, sizeof frame, &error);
  g_autoptr (GVariant) empty = NULL, k = NULL;

  g_assert_no_error (error);
  empty = g_variant_lookup_value (message, "", G_VARIANT_TYPE_STRING);
  k = g_variant_lookup_value (message, "k", G_VARIANT_TYPE_STRING);
  fail_unless (empty && k);
  assert_equals_string (g_variant_get_string (empty, NULL), "");
  assert_equals_string (g_variant_get_string (k, NULL), "");
}

GST_END_TEST;

GST_START_TEST (test_encode_refuses)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) int_keys =
      g_variant_ref_sink (g_variant_new_parsed ("{1: 'a'}"));
  g_autoptr (GBytes) bytes = gst_fal_msgpack_encode (int_keys, &error);

  fail_unless (bytes == NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

GST_END_TEST;

/* JSON has no NaN nor infinity: a message's are null in its JSON (as
 * JSON.stringify does), never text that no parser reads back. */
GST_START_TEST (test_json_non_finite)
{
  const guint8 frame[] = { 0x82, 0xa1, 'n', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0,
    0, 0xa1, 'i', 0xca, 0x7f, 0x80, 0, 0
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) message = gst_fal_msgpack_decode (frame,
      sizeof frame, &error);
  g_autoptr (JsonNode) json = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (JsonNode) back = NULL;

  g_assert_no_error (error);
  json = gst_fal_msg_to_json (message, GST_FAL_MSG_BINARY_BASE64);
  text = json_to_string (json, FALSE);
  back = json_from_string (text, &error);
  g_assert_no_error (error);
  fail_unless (json_object_get_null_member (json_node_get_object (back), "n"));
  fail_unless (json_object_get_null_member (json_node_get_object (back), "i"));
}

GST_END_TEST;

GST_START_TEST (test_json)
{
  g_autoptr (GVariant) message = sample_message ();
  g_autoptr (JsonNode) b64 =
      gst_fal_msg_to_json (message, GST_FAL_MSG_BINARY_BASE64);
  g_autoptr (JsonNode) uri =
      gst_fal_msg_to_json (message, GST_FAL_MSG_BINARY_DATA_URI);
  g_autoptr (GVariant) back = NULL;
  g_autoptr (GVariant) image = NULL;
  g_autoptr (JsonNode) output = NULL;
  g_autoptr (GVariant) result = NULL;
  g_autoptr (GVariant) images = NULL;
  g_autoptr (GVariant) image0 = NULL;
  g_autoptr (GVariant) child = NULL;
  g_autoptr (GVariant) content = NULL;
  JsonObject *o = json_node_get_object (b64);

  assert_equals_string (json_object_get_string_member (o, "image"),
      "/9j/4AABAg==");
  fail_unless (json_object_get_null_member (o, "none"));
  assert_equals_int64 (json_object_get_int_member (o, "neg"), G_MININT64);
  assert_equals_string (json_object_get_string_member (json_node_get_object
          (uri), "image"), "data:image/jpeg;base64,/9j/4AABAg==");

  /* what an app answers comes back with its data URIs as bytes */
  back = gst_fal_msg_from_json (uri, TRUE);
  image = g_variant_lookup_value (back, "image", G_VARIANT_TYPE_BYTESTRING);
  fail_unless (image != NULL);
  fail_unless_equals_int (g_variant_get_size (image), 7);
  fail_unless (has_value (back, "big", G_VARIANT_TYPE_UINT64));

  /* an image object with a data URI "url" carries its bytes as "content" */
  output = json_from_string ("{\"images\": [{\"url\": \"data:image/png;base64,"
      "iVBORw0KGgo=\", \"content_type\": \"image/png\", \"width\": 2, "
      "\"height\": 1}], \"seed\": 3}", NULL);
  result = gst_fal_msg_from_json (output, TRUE);
  images = g_variant_lookup_value (result, "images", G_VARIANT_TYPE ("av"));
  child = g_variant_get_child_value (images, 0);
  image0 = g_variant_get_variant (child);
  content = g_variant_lookup_value (image0, "content",
      G_VARIANT_TYPE_BYTESTRING);
  fail_unless (content != NULL);
  fail_unless_equals_int (g_variant_get_size (content), 8);
  fail_unless (!has_value (image0, "url", NULL));
  fail_unless (has_value (image0, "width", G_VARIANT_TYPE_INT64));
}

GST_END_TEST;

static Suite *
msgpack_suite (void)
{
  Suite *s = suite_create ("msgpack");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_wire_bytes);
  tcase_add_test (tc, test_hostile);
  tcase_add_test (tc, test_empty_strings);
  tcase_add_test (tc, test_encode_refuses);
  tcase_add_test (tc, test_json);
  tcase_add_test (tc, test_json_non_finite);
  return s;
}

GST_CHECK_MAIN (msgpack);
