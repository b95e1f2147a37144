/* What the image apps fetch and decode: the fetch policy (loopback and
 * private hosts, redirects, size, time) and the decode of declared images
 * only (no playlists, no pixel bombs), through the server's HTTP API. */
#include <glib/gstdio.h>
#include "server/apps-common.h"

/* ---- a side server on loopback that counts the requests it gets ---- */

typedef struct
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;
  guint port;
  gint hits;
  GBytes *png;
  guint redirect_port;          /* /redirect goes to its /qr.png */
} SideServer;

#define BIG_SIZE (4 * 1024 * 1024)
#define BIG_CHUNK (64 * 1024)

static void
side_callback (SoupServer * soup, SoupServerMessage * msg, const gchar * path,
    GHashTable * query, gpointer user_data)
{
  SideServer *side = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  g_atomic_int_inc (&side->hits);
  if (g_str_equal (path, "/qr.png")) {
    soup_server_message_set_response (msg, "image/png", SOUP_MEMORY_COPY,
        g_bytes_get_data (side->png, NULL), g_bytes_get_size (side->png));
    soup_server_message_set_status (msg, 200, NULL);
  } else if (g_str_equal (path, "/big") || g_str_equal (path, "/big-chunked")) {
    guint i;

    /* a PNG signature first, so that only the size can refuse it */
    if (g_str_equal (path, "/big-chunked"))
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
    soup_message_headers_set_content_type (headers, "image/png", NULL);
    soup_message_body_append (body, SOUP_MEMORY_STATIC, "\211PNG\r\n\032\n", 8);
    for (i = 0; i < BIG_SIZE / BIG_CHUNK; i++)
      soup_message_body_append_take (body, g_malloc0 (BIG_CHUNK), BIG_CHUNK);
    soup_message_body_complete (body);
    soup_server_message_set_status (msg, 200, NULL);
  } else if (g_str_equal (path, "/slow")) {
    /* never answered: the fetch must give up by itself */
    soup_server_message_pause (msg);
  } else if (g_str_equal (path, "/redirect")) {
    gchar *location = g_strdup_printf ("http://127.0.0.1:%u/qr.png",
        side->redirect_port);

    soup_server_message_set_redirect (msg, 302, location);
    g_free (location);
  } else {
    soup_server_message_set_status (msg, 404, NULL);
  }
}

static gpointer
side_thread (gpointer data)
{
  SideServer *side = data;

  g_main_context_push_thread_default (side->context);
  g_main_loop_run (side->loop);
  g_main_context_pop_thread_default (side->context);
  return NULL;
}

static SideServer *
side_server_new (GBytes * png)
{
  SideServer *side = g_new0 (SideServer, 1);
  GError *error = NULL;
  GSList *uris;

  side->png = g_bytes_ref (png);
  side->context = g_main_context_new ();
  side->loop = g_main_loop_new (side->context, FALSE);
  g_main_context_push_thread_default (side->context);
  side->soup = soup_server_new (NULL, NULL);
  soup_server_add_handler (side->soup, NULL, side_callback, side, NULL);
  fail_unless (soup_server_listen_local (side->soup, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error), "side server: %s",
      error ? error->message : "");
  g_main_context_pop_thread_default (side->context);
  uris = soup_server_get_uris (side->soup);
  side->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  side->thread = g_thread_new ("side-server", side_thread, side);
  return side;
}

static gboolean
side_quit (gpointer data)
{
  SideServer *side = data;

  soup_server_disconnect (side->soup);
  g_main_loop_quit (side->loop);
  return G_SOURCE_REMOVE;
}

static void
side_server_free (SideServer * side)
{
  g_main_context_invoke (side->context, side_quit, side);
  g_thread_join (side->thread);
  g_object_unref (side->soup);
  g_main_loop_unref (side->loop);
  g_main_context_unref (side->context);
  g_bytes_unref (side->png);
  g_free (side);
}

static gchar *
side_url (SideServer * side, const gchar * host, const gchar * path)
{
  return g_strdup_printf ("http://%s:%u%s", host, side->port, path);
}

/* ---- images ---- */

static GBytes *
encode_test_image (const gchar * pattern, gint width, gint height,
    const gchar * overlay, const gchar * encoder)
{
  gchar *description = g_strdup_printf ("videotestsrc num-buffers=1 "
      "pattern=%s ! video/x-raw,width=%d,height=%d %s ! videoconvert ! %s ! "
      "appsink name=sink sync=false", pattern, width, height, overlay,
      encoder);
  GstSample *sample = pull_sample (description, NULL);
  GBytes *bytes = sample_bytes (sample);

  gst_sample_unref (sample);
  g_free (description);
  return bytes;
}

/* A PNG of a QR code holding @text. */
static GBytes *
make_qr_png (const gchar * text)
{
  gchar *overlay = g_strdup_printf ("! qroverlay case-sensitive=true "
      "data=\"%s\"", text);
  GBytes *png = encode_test_image ("white", 320, 240, overlay, "pngenc");

  g_free (overlay);
  return png;
}

static guint32
crc32_of (const guint8 * data, gsize size)
{
  guint32 crc = 0xffffffff;
  gsize i;
  gint k;

  for (i = 0; i < size; i++) {
    crc ^= data[i];
    for (k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

static void
append_be32 (GByteArray * array, guint32 value)
{
  guint8 bytes[4] = { value >> 24, value >> 16, value >> 8, value };

  g_byte_array_append (array, bytes, 4);
}

static void
append_png_chunk (GByteArray * png, const gchar * type, const guint8 * data,
    guint32 size)
{
  guint start;

  append_be32 (png, size);
  start = png->len;
  g_byte_array_append (png, (const guint8 *) type, 4);
  g_byte_array_append (png, data, size);
  append_be32 (png, crc32_of (png->data + start, size + 4));
}

/* A PNG of a few hundred bytes whose header says @width x @height RGB: its
 * IDAT is a zlib stream of one stored block of zeros, cut short. */
static GBytes *
make_png_bomb (guint32 width, guint32 height)
{
  GByteArray *png = g_byte_array_new ();
  guint8 ihdr[13] = { 0 };
  guint8 idat[2 + 5 + 256] = { 0x78, 0x01, 0x00, 0x00, 0x01, 0xff, 0xfe };

  g_byte_array_append (png, (const guint8 *) "\211PNG\r\n\032\n", 8);
  ihdr[0] = width >> 24;
  ihdr[1] = width >> 16;
  ihdr[2] = width >> 8;
  ihdr[3] = width;
  ihdr[4] = height >> 24;
  ihdr[5] = height >> 16;
  ihdr[6] = height >> 8;
  ihdr[7] = height;
  ihdr[8] = 8;                  /* bit depth */
  ihdr[9] = 2;                  /* RGB */
  append_png_chunk (png, "IHDR", ihdr, sizeof (ihdr));
  append_png_chunk (png, "IDAT", idat, sizeof (idat));
  append_png_chunk (png, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (png);
}

/* A small JPEG whose frame header (SOF0) is patched to @width x @height. */
static GBytes *
make_jpeg_bomb (guint16 width, guint16 height)
{
  GBytes *jpeg = encode_test_image ("smpte", 64, 48, "", "jpegenc");
  gsize size, i;
  guint8 *data = g_bytes_unref_to_data (jpeg, &size);

  for (i = 2; i + 9 < size; i++)
    if (data[i] == 0xff && data[i + 1] == 0xc0)
      break;
  fail_unless (i + 9 < size, "no SOF0 in the JPEG");
  data[i + 5] = height >> 8;
  data[i + 6] = height & 0xff;
  data[i + 7] = width >> 8;
  data[i + 8] = width & 0xff;
  return g_bytes_new_take (data, size);
}

/* ---- answers ---- */

static gchar *
url_input (const gchar * url)
{
  return g_strdup_printf ("{\"image_url\": \"%s\"}", url);
}

static gchar *
bytes_input (GBytes * bytes, const gchar * content_type)
{
  gchar *uri = data_uri (bytes, content_type);
  gchar *input = url_input (uri);

  g_free (uri);
  return input;
}

/* Runs @app on @input, expects a 422 on image_url whose message contains
 * @needle; returns the whole answer as text. */
static gchar *
expect_input_error (const gchar * app, const gchar * input,
    const gchar * needle)
{
  JsonObject *answer = run_app (app, input, 422);
  JsonArray *detail = json_object_get_array_member (answer, "detail");
  JsonObject *item;
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  const gchar *msg;
  gchar *text;

  json_node_set_object (node, answer);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  fail_unless (detail != NULL && json_array_get_length (detail) > 0,
      "no detail list: %s", text);
  item = json_array_get_object_element (detail, 0);
  fail_unless_equals_string (json_array_get_string_element
      (json_object_get_array_member (item, "loc"), 1), "image_url");
  msg = json_object_get_string_member (item, "msg");
  fail_unless (strstr (msg, needle) != NULL, "\"%s\" not in: %s", needle, msg);
  json_object_unref (answer);
  return text;
}

static void
expect_input_error_free (const gchar * app, const gchar * input,
    const gchar * needle)
{
  g_free (expect_input_error (app, input, needle));
}

/* The server still answers: a barcode of a QR code of a data URI reads it,
 * and echo echoes. */
static void
assert_still_serving (void)
{
  GBytes *png = make_qr_png ("still serving");
  gchar *input = bytes_input (png, "image/png");
  JsonObject *output = run_app ("local/barcode", input, 200);
  JsonArray *symbols = json_object_get_array_member (output, "symbols");

  fail_unless_equals_int (json_array_get_length (symbols), 1);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (symbols, 0), "data"), "still serving");
  json_object_unref (output);
  json_object_unref (run_app ("local/echo", "{\"ok\": true}", 200));
  g_free (input);
  g_bytes_unref (png);
}

static void
start_server_with (const gchar * first_property, ...)
{
  GError *error = NULL;
  va_list args;

  va_start (args, first_property);
  server = GST_FAL_SERVER (g_object_new_valist (GST_FAL_TYPE_SERVER,
          first_property, args));
  va_end (args);
  fail_unless (gst_fal_server_start (server, &error), "server: %s",
      error ? error->message : "");
  session = soup_session_new_with_options ("timeout", 100, "proxy-resolver",
      NULL, NULL);
}

/* ---- tests ---- */

/* An HLS playlist whose segment is a file of the server's disk: decodebin
 * used to autoplug hlsdemux, which read the file. */
GST_START_TEST (test_playlist_file_segment)
{
  GBytes *secret = make_qr_png ("secret of the disk");
  gchar *dir = g_dir_make_tmp ("gst-fal-appsinput-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "secret.png", NULL);
  gchar *playlist, *input, *answer;
  GBytes *bytes;

  start_server_with (NULL, NULL);
  fail_unless (g_file_set_contents (path, g_bytes_get_data (secret, NULL),
          g_bytes_get_size (secret), NULL));
  playlist = g_strdup_printf ("#EXTM3U\n#EXT-X-VERSION:3\n"
      "#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://%s\n#EXT-X-ENDLIST\n",
      path);
  bytes = g_bytes_new_take (playlist, strlen (playlist));
  input = bytes_input (bytes, "application/vnd.apple.mpegurl");

  answer = expect_input_error ("local/barcode", input, "not an image");
  fail_unless (strstr (answer, "secret") == NULL, "leaked: %s", answer);
  fail_unless (strstr (answer, "application/x-hls") != NULL, "%s", answer);
  g_free (answer);
  /* face-blur published the file at a public URL */
  answer = expect_input_error ("local/face-blur", input, "not an image");
  fail_unless (strstr (answer, "/files/") == NULL, "published: %s", answer);
  g_free (answer);
  g_free (input);

  /* the same playlist declared as an image */
  input = bytes_input (bytes, "image/png");
  expect_input_error_free ("local/barcode", input, "application/x-hls");
  g_free (input);
  assert_still_serving ();

  g_bytes_unref (bytes);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_bytes_unref (secret);
  stop_server ();
}

GST_END_TEST;

/* Another port of loopback, by address or name, is not fetched: the side
 * server sees no request. */
GST_START_TEST (test_loopback_refused)
{
  GBytes *png = make_qr_png ("side server");
  SideServer *side = side_server_new (png);
  const gchar *hosts[] = { "127.0.0.1", "localhost", "[::ffff:127.0.0.1]",
    "0.0.0.0", "127.1.2.3"
  };
  guint i;

  start_server_with (NULL, NULL);
  for (i = 0; i < G_N_ELEMENTS (hosts); i++) {
    gchar *url = side_url (side, hosts[i], "/qr.png");
    gchar *input = url_input (url);

    expect_input_error_free ("local/barcode", input, "fetch policy");
    g_free (input);
    g_free (url);
  }
  fail_unless_equals_int (g_atomic_int_get (&side->hits), 0);
  assert_still_serving ();
  stop_server ();
  side_server_free (side);
  g_bytes_unref (png);
}

GST_END_TEST;

/* --allow-fetch lets a host through; a redirect from it to a host that is
 * not allowed is refused at that hop. */
GST_START_TEST (test_allow_fetch_and_redirect)
{
  GBytes *png = make_qr_png ("allowed");
  SideServer *allowed = side_server_new (png);
  SideServer *other = side_server_new (png);
  gchar *pattern = g_strdup_printf ("127.0.0.1:%u", allowed->port);
  const gchar *allow[] = { pattern, NULL };
  gchar *url, *input;
  JsonObject *output;

  start_server_with ("allow-fetch", allow, NULL);
  url = side_url (allowed, "127.0.0.1", "/qr.png");
  input = url_input (url);
  output = run_app ("local/barcode", input, 200);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (json_object_get_array_member (output,
                  "symbols"), 0), "data"), "allowed");
  json_object_unref (output);
  fail_unless_equals_int (g_atomic_int_get (&allowed->hits), 1);
  g_free (input);
  g_free (url);

  /* the pattern names the port: the other port is still refused */
  url = side_url (other, "127.0.0.1", "/qr.png");
  input = url_input (url);
  expect_input_error_free ("local/barcode", input, "fetch policy");
  g_free (input);
  g_free (url);

  allowed->redirect_port = other->port;
  url = side_url (allowed, "127.0.0.1", "/redirect");
  input = url_input (url);
  expect_input_error_free ("local/barcode", input, "fetch policy");
  g_free (input);
  g_free (url);
  fail_unless_equals_int (g_atomic_int_get (&allowed->hits), 2);
  fail_unless_equals_int (g_atomic_int_get (&other->hits), 0);

  assert_still_serving ();
  stop_server ();
  side_server_free (allowed);
  side_server_free (other);
  g_free (pattern);
  g_bytes_unref (png);
}

GST_END_TEST;

/* 20000x20000 pixels in a few hundred bytes: refused from the header. */
GST_START_TEST (test_pixel_limit)
{
  GBytes *png = make_png_bomb (20000, 20000);
  GBytes *jpeg = make_jpeg_bomb (20000, 20000);
  gchar *png_input = bytes_input (png, "image/png");
  gchar *jpeg_input = bytes_input (jpeg, "image/jpeg");
  const gchar *apps[] = { "local/barcode", "local/face-detection",
    "local/edge-detection", "local/face-blur", "local/ocr"
  };
  guint i;

  start_server_with (NULL, NULL);
  for (i = 0; i < G_N_ELEMENTS (apps); i++)
    expect_input_error_free (apps[i], png_input, "max-pixels");
  expect_input_error_free ("local/barcode", jpeg_input, "max-pixels");
  assert_still_serving ();
  stop_server ();

  /* a lower limit of the server */
  start_server_with ("max-pixels", (guint64) 1000, NULL);
  {
    GBytes *qr = make_qr_png ("too many pixels");
    gchar *input = bytes_input (qr, "image/png");

    expect_input_error_free ("local/barcode", input, "limit of 1000 pixels");
    g_free (input);
    g_bytes_unref (qr);
  }
  stop_server ();

  g_free (png_input);
  g_free (jpeg_input);
  g_bytes_unref (png);
  g_bytes_unref (jpeg);
}

GST_END_TEST;

/* A body larger than the limit is refused while it streams, with or
 * without a Content-Length; a data URI too. */
GST_START_TEST (test_size_limit)
{
  GBytes *png = make_qr_png ("size");
  SideServer *side = side_server_new (png);
  gchar *pattern = g_strdup_printf ("127.0.0.1:%u", side->port);
  const gchar *allow[] = { pattern, NULL };
  const gchar *paths[] = { "/big", "/big-chunked" };
  GBytes *big = g_bytes_new_take (g_malloc0 (2 * 1024 * 1024),
      2 * 1024 * 1024);
  gchar *input;
  guint i;

  start_server_with ("allow-fetch", allow, "max-fetch-bytes",
      (guint64) 1024 * 1024, NULL);
  for (i = 0; i < G_N_ELEMENTS (paths); i++) {
    gchar *url = side_url (side, "127.0.0.1", paths[i]);

    input = url_input (url);
    expect_input_error_free ("local/edge-detection", input, "max-fetch-bytes");
    g_free (input);
    g_free (url);
  }
  input = bytes_input (big, "image/png");
  expect_input_error_free ("local/barcode", input, "max-fetch-bytes");
  g_free (input);
  assert_still_serving ();
  stop_server ();

  side_server_free (side);
  g_bytes_unref (big);
  g_free (pattern);
  g_bytes_unref (png);
}

GST_END_TEST;

/* A URL that never answers holds the worker no longer than fetch-timeout. */
GST_START_TEST (test_slow_fetch)
{
  GBytes *png = make_qr_png ("slow");
  SideServer *side = side_server_new (png);
  gchar *pattern = g_strdup_printf ("127.0.0.1:%u", side->port);
  const gchar *allow[] = { pattern, NULL };
  gchar *url = side_url (side, "127.0.0.1", "/slow");
  gchar *input = url_input (url);

  start_server_with ("allow-fetch", allow, "fetch-timeout", 1, "workers", 1,
      NULL);
  expect_input_error_free ("local/barcode", input, "fetch-timeout");
  /* the only worker is free again */
  assert_still_serving ();
  stop_server ();

  side_server_free (side);
  g_free (input);
  g_free (url);
  g_free (pattern);
  g_bytes_unref (png);
}

GST_END_TEST;

/* What is not an image is named, before anything decodes it. */
GST_START_TEST (test_not_an_image)
{
  static const gchar pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\n"
      "endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
  static const gchar text[] = "hello world, this is not an image at all\n";
  GBytes *bytes = g_bytes_new_static (pdf, sizeof (pdf) - 1);
  /* the smallest GIF: one white pixel */
  static const guint8 gif_data[] = "GIF89a\001\000\001\000\200\000\000"
      "\377\377\377\000\000\000,\000\000\000\000\001\000\001\000"
      "\000\002\002D\001\000;";
  GBytes *gif = g_bytes_new_static (gif_data, sizeof (gif_data) - 1);
  gchar *input;

  start_server_with (NULL, NULL);
  input = bytes_input (bytes, "image/png");
  expect_input_error_free ("local/face-detection", input, "application/pdf");
  g_free (input);
  g_bytes_unref (bytes);

  bytes = g_bytes_new_static (text, sizeof (text) - 1);
  input = bytes_input (bytes, "image/jpeg");
  expect_input_error_free ("local/edge-detection", input, "not an image");
  g_free (input);
  g_bytes_unref (bytes);

  /* an image of a type that is not declared */
  input = bytes_input (gif, "image/gif");
  expect_input_error_free ("local/barcode", input, "image/gif");
  g_free (input);
  assert_still_serving ();
  stop_server ();
  g_bytes_unref (gif);
}

GST_END_TEST;

/* The limits of one app, from its key file. */
GST_START_TEST (test_app_limits)
{
  static const gchar apps[] = "[test/small]\n"
      "pipeline=videoconvert\n"
      "max-pixels=1000\n"
      "\n" "[test/tiny]\n" "pipeline=videoconvert\n" "max-fetch-bytes=100\n";
  gchar *dir = g_dir_make_tmp ("gst-fal-appsinput-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "apps.ini", NULL);
  GBytes *png = make_qr_png ("limits");
  gchar *input = bytes_input (png, "image/png");

  fail_unless (g_file_set_contents (path, apps, -1, NULL));
  start_server_with ("apps-file", path, NULL);
  expect_input_error_free ("test/small", input, "limit of 1000 pixels");
  expect_input_error_free ("test/tiny", input, "limit of 100 bytes");
  assert_still_serving ();
  stop_server ();

  g_free (input);
  g_bytes_unref (png);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

static Suite *
appsinput_suite (void)
{
  Suite *s = suite_create ("server-appsinput");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_playlist_file_segment);
  tcase_add_test (tc, test_loopback_refused);
  tcase_add_test (tc, test_allow_fetch_and_redirect);
  tcase_add_test (tc, test_pixel_limit);
  tcase_add_test (tc, test_size_limit);
  tcase_add_test (tc, test_slow_fetch);
  tcase_add_test (tc, test_not_an_image);
  tcase_add_test (tc, test_app_limits);
  return s;
}

GST_CHECK_MAIN (appsinput);
