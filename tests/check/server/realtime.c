/* The realtime route of the local server: GET /run/{app}/realtime, binary
 * msgpack in and out, results in input order, fal's control frames, and who
 * may open it. */
#include "realtime.h"
#include <glib/gstdio.h>
#include <unistd.h>

#define KEY "realtime-test-key-51f2"

static GstFalServer *server;
static SoupSession *session;

static void
setup (void)
{
  server = fal_test_server_new (2, NULL);
  session = fal_test_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  gst_fal_server_stop (server);
  g_clear_object (&server);
}

static GVariant *
echo_input (gint64 index)
{
  static const guint8 bytes[] = { 0x00, 0xff, 0x10, 0x80 };

  return g_variant_new_parsed ("{'index': <%x>, 'prompt': <'a cat'>, "
      "'image': <%@ay>, 'nested': <{'x': <1.5>}>, 'none': <@mv nothing>}",
      index, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes,
          sizeof bytes, 1));
}

GST_START_TEST (test_echo_in_order)
{
  g_autoptr (FalWs) t = fal_ws_open (session, server,
      "/run/local/echo/realtime", NULL);
  gint64 i;

  g_assert_no_error (t->error);
  fail_unless_equals_int (t->status, 101);
  for (i = 0; i < 5; i++)
    fal_ws_send (t, echo_input (i));
  FAL_WS_WAIT (t->frames->len == 5);
  for (i = 0; i < 5; i++) {
    g_autoptr (GVariant) result = fal_ws_frame (t, i);
    g_autoptr (GVariant) expected = g_variant_ref_sink (echo_input (i));

    /* unchanged, binary still binary, and in input order */
    fail_unless (g_variant_equal (result, expected), "result %d: %s",
        (gint) i, g_variant_print (result, TRUE));
  }
  fail_unless_equals_int (t->texts->len, 0);
  fail_if (t->closed);
}

GST_END_TEST;

GST_START_TEST (test_fail_closes)
{
  g_autoptr (FalWs) t = fal_ws_open (session, server,
      "/run/local/fail/realtime", NULL);
  g_autofree gchar *reason = NULL;

  g_assert_no_error (t->error);
  fal_ws_send (t, g_variant_new_parsed ("{'status': <int64 500>, "
          "'detail': <'the model fell over'>}"));
  FAL_WS_WAIT (t->closed);
  reason = fal_ws_control (t, 0, "INTERNAL_ERROR");
  assert_equals_string (reason, "the model fell over");
  fail_unless_equals_int (t->close_code, 1000);
  fail_unless_equals_int (t->frames->len, 0);
}

GST_END_TEST;

GST_START_TEST (test_bad_frames)
{
  static const guint8 truncated[] = { 0x82, 0xa1, 'a' };
  g_autoptr (FalWs) text = fal_ws_open (session, server,
      "/run/local/echo/realtime", NULL);
  g_autoptr (FalWs) bad = fal_ws_open (session, server,
      "/run/local/echo/realtime", NULL);
  g_autoptr (GBytes) frame = g_bytes_new_static (truncated, sizeof truncated);
  g_autofree gchar *text_reason = NULL, *bad_reason = NULL;

  /* fal's template takes only binary frames */
  soup_websocket_connection_send_text (text->ws, "{\"prompt\": \"a cat\"}");
  FAL_WS_WAIT (text->closed);
  text_reason = fal_ws_control (text, 0, "INTERNAL_ERROR");
  fail_unless (strstr (text_reason, "binary") != NULL, "%s", text_reason);
  fail_unless_equals_int (text->close_code, 1000);

  /* invalid input is INTERNAL_ERROR too, naming the cause */
  soup_websocket_connection_send_message (bad->ws,
      SOUP_WEBSOCKET_DATA_BINARY, frame);
  FAL_WS_WAIT (bad->closed);
  bad_reason = fal_ws_control (bad, 0, "INTERNAL_ERROR");
  fail_unless (strstr (bad_reason, "beyond the data") != NULL, "%s", bad_reason);
  fail_unless_equals_int (bad->close_code, 1000);
}

GST_END_TEST;

GST_START_TEST (test_idle_timeout)
{
  g_autoptr (FalWs) t = fal_ws_open (session, server,
      "/run/local/echo/realtime", NULL);
  g_autofree gchar *reason = NULL;

  fal_ws_send (t, echo_input (0));
  FAL_WS_WAIT (t->frames->len == 1);
  /* no input for the session timeout (2 s): TIMEOUT, then close 1000 */
  FAL_WS_WAIT (t->closed);
  reason = fal_ws_control (t, 0, "TIMEOUT");
  assert_equals_string (reason, "no inputs, reconnect when needed!");
  fail_unless_equals_int (t->close_code, 1000);
}

GST_END_TEST;

GST_START_TEST (test_refused)
{
  g_autoptr (FalWs) unknown = fal_ws_open (session, server,
      "/run/local/no-such-app/realtime", NULL);
  g_autoptr (FalWs) zero = fal_ws_open (session, server,
      "/run/local/echo/realtime?max_buffering=0", NULL);
  g_autoptr (FalWs) many = fal_ws_open (session, server,
      "/run/local/echo/realtime?max_buffering=61", NULL);
  g_autoptr (FalReply) plain = NULL;
  g_autofree gchar *url = fal_url (server, "/run/local/echo/realtime");

  fail_unless (unknown->ws == NULL);
  fail_unless_equals_int (unknown->status, 404);
  fail_unless_equals_int (zero->status, 422);
  fail_unless_equals_int (many->status, 422);
  /* a GET that is no upgrade */
  plain = fal_http (session, "GET", url, NULL, NULL);
  fail_unless_equals_int (plain->status, 400);
}

GST_END_TEST;

GST_START_TEST (test_max_buffering)
{
  g_autoptr (FalWs) t = fal_ws_open (session, server,
      "/run/local/sleep/realtime?max_buffering=1", NULL);
  static const gdouble seconds[] = { 0.5, 0.01, 0.02, 0.03 };
  g_autoptr (GVariant) r0 = NULL, r1 = NULL;
  gdouble slept;
  guint i;

  g_assert_no_error (t->error);
  for (i = 0; i < G_N_ELEMENTS (seconds); i++)
    fal_ws_send (t, g_variant_new_parsed ("{'seconds': <%d>}", seconds[i]));
  /* while the first sleeps, the buffer keeps only the newest input */
  FAL_WS_WAIT (t->frames->len == 2);
  r0 = fal_ws_frame (t, 0);
  r1 = fal_ws_frame (t, 1);
  fail_unless (g_variant_lookup (r0, "slept", "d", &slept));
  fail_unless (slept == 0.5, "%g", slept);
  fail_unless (g_variant_lookup (r1, "slept", "d", &slept));
  fail_unless (slept == 0.03, "%g", slept);
  /* nothing more comes: the session ends idle */
  FAL_WS_WAIT (t->closed);
  fail_unless_equals_int (t->frames->len, 2);
}

GST_END_TEST;

static GBytes *
read_fixture (const gchar * name)
{
  g_autofree gchar *path = g_build_filename (g_getenv
      ("GST_FAL_SOURCE_ROOT"), "tests", "files", name, NULL);
  gchar *data;
  gsize size;

  fail_unless (g_file_get_contents (path, &data, &size, NULL), "%s", path);
  return g_bytes_new_take (data, size);
}

GST_START_TEST (test_image_inline)
{
  g_autoptr (GBytes) jpeg = read_fixture ("messi5.jpg");
  g_autoptr (FalWs) t = fal_ws_open (session, server,
      "/run/local/edge-detection/realtime", NULL);
  g_autoptr (GVariant) result = NULL, image = NULL, content = NULL;
  const gchar *content_type;
  gint64 width;
  gsize size;
  const guint8 *png;

  /* the encoded image itself where the app takes image_url */
  fal_ws_send (t, g_variant_new_parsed ("{'image_url': <%@ay>}",
          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
              g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg), 1)));
  FAL_WS_WAIT (t->frames->len == 1 || t->closed);
  fail_unless_equals_int (t->texts->len, 0);
  result = fal_ws_frame (t, 0);
  image = g_variant_lookup_value (result, "image", G_VARIANT_TYPE_VARDICT);
  fail_unless (image != NULL, "%s", g_variant_print (result, TRUE));
  /* inline bytes, not a CDN URL */
  fail_unless (!g_variant_lookup (image, "url", "&s", &content_type));
  content = g_variant_lookup_value (image, "content",
      G_VARIANT_TYPE_BYTESTRING);
  fail_unless (content != NULL);
  png = g_variant_get_fixed_array (content, &size, 1);
  fail_unless (size > 8 && !memcmp (png, "\x89PNG", 4));
  fail_unless (g_variant_lookup (image, "content_type", "&s", &content_type));
  assert_equals_string (content_type, "image/png");
  fail_unless (g_variant_lookup (image, "width", "x", &width));
  fail_unless (width > 0);
}

GST_END_TEST;

static gchar *
mint_token (const gchar * app, gint seconds)
{
  g_autofree gchar *url = fal_url (server, "/rest/tokens/");
  g_autofree gchar *body = g_strdup_printf ("{\"allowed_apps\": [\"%s\"], "
      "\"token_expiration\": %d}", app, seconds);
  static const gchar *with_key[] = { "Authorization", "Key " KEY, NULL };
  g_autoptr (FalReply) reply = fal_http (session, "POST", url, body,
      with_key);

  fail_unless_equals_int (reply->status, 200);
  /* fal's clients take only a bare JSON string */
  fail_unless (JSON_NODE_HOLDS_VALUE (reply->json)
      && json_node_get_value_type (reply->json) == G_TYPE_STRING);
  return g_strdup (json_node_get_string (reply->json));
}

static guint
open_status (const gchar * query, const gchar * const *headers)
{
  g_autofree gchar *path = g_strconcat ("/run/local/echo/realtime", query,
      NULL);
  g_autoptr (FalWs) t = fal_ws_open (session, server, path, headers);

  return t->status;
}

GST_START_TEST (test_tokens)
{
  g_autofree gchar *echo = NULL, *other = NULL, *brief = NULL;
  g_autofree gchar *q_echo = NULL, *q_other = NULL, *q_brief = NULL;
  static const gchar *with_key[] = { "Authorization", "Key " KEY, NULL };
  static const gchar *bad_key[] = { "Authorization", "Key nope", NULL };

  gst_fal_server_stop (server);
  g_clear_object (&server);
  server = fal_test_server_new (1, KEY);
  echo = mint_token ("echo", 60);
  other = mint_token ("sleep", 60);
  brief = mint_token ("local/echo", 1);
  q_echo = g_strconcat ("?fal_jwt_token=", echo, NULL);
  q_other = g_strconcat ("?fal_jwt_token=", other, NULL);
  q_brief = g_strconcat ("?fal_jwt_token=", brief, NULL);

  fail_unless_equals_int (open_status ("", NULL), 401);
  fail_unless_equals_int (open_status ("?fal_jwt_token=forged", NULL), 401);
  fail_unless_equals_int (open_status (q_other, NULL), 401);
  fail_unless_equals_int (open_status ("", bad_key), 401);
  fail_unless_equals_int (open_status (q_echo, NULL), 101);
  fail_unless_equals_int (open_status ("?max_buffering=2", with_key), 101);
  fail_unless_equals_int (open_status (q_brief, NULL), 101);
  g_usleep (1100 * 1000);
  fail_unless_equals_int (open_status (q_brief, NULL), 401);
}

GST_END_TEST;

/* A server of the apps in @text (a key file); NULL with @error set when it
 * does not start. */
static GstFalServer *
server_with_apps (const gchar * text, GError ** error)
{
  g_autofree gchar *path = NULL;
  gint fd = g_file_open_tmp ("realtime-apps-XXXXXX.ini", &path, NULL);
  GstFalServer *apps;

  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (path, text, -1, NULL));
  apps = g_object_new (GST_FAL_TYPE_SERVER, "workers", 2, "apps-file", path,
      NULL);
  if (!gst_fal_server_start (apps, error))
    g_clear_object (&apps);
  g_unlink (path);
  return apps;
}

GST_START_TEST (test_apps_file_keys)
{
  static const gchar *bad[][2] = {
    {"buffering=61", "buffering"},
    {"buffering=0", "buffering"},
    {"session-timeout=0", "session-timeout"},
    {"session-timeout=soon", "session-timeout"},
    {"max-batch-size=0", "max-batch-size"},
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) jpeg = read_fixture ("messi5.jpg");
  g_autoptr (GstFalServer) apps = NULL;
  g_autoptr (FalWs) t = NULL;
  g_autoptr (GVariant) result = NULL, image = NULL;
  g_autofree gchar *reason = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *text = g_strdup_printf ("[me/grey]\n"
        "pipeline=videoconvert\n%s\n", bad[i][0]);
    g_autoptr (GError) refused = NULL;
    g_autoptr (GstFalServer) none = server_with_apps (text, &refused);

    fail_unless (none == NULL, "%s was taken", bad[i][0]);
    fail_unless (strstr (refused->message, bad[i][1]) != NULL, "%s: %s",
        bad[i][0], refused->message);
  }

  apps = server_with_apps ("[me/grey]\npipeline=videoconvert\n"
      "buffering=2\nsession-timeout=0.5\nmax-batch-size=2\n", &error);
  g_assert_no_error (error);
  t = fal_ws_open (session, apps, "/run/me/grey/realtime", NULL);
  g_assert_no_error (t->error);
  fal_ws_send (t, g_variant_new_parsed ("{'image_url': <%@ay>}",
          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
              g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg), 1)));
  FAL_WS_WAIT (t->frames->len == 1 || t->closed);
  result = fal_ws_frame (t, 0);
  image = g_variant_lookup_value (result, "image", G_VARIANT_TYPE_VARDICT);
  fail_unless (image != NULL, "%s", g_variant_print (result, TRUE));
  /* its own session timeout ends the session */
  FAL_WS_WAIT (t->closed);
  reason = fal_ws_control (t, 0, "TIMEOUT");
  fail_unless_equals_int (t->close_code, 1000);
  gst_fal_server_stop (apps);
}

GST_END_TEST;

static Suite *
realtime_suite (void)
{
  Suite *s = suite_create ("server-realtime");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_echo_in_order);
  tcase_add_test (tc, test_fail_closes);
  tcase_add_test (tc, test_bad_frames);
  tcase_add_test (tc, test_idle_timeout);
  tcase_add_test (tc, test_refused);
  tcase_add_test (tc, test_max_buffering);
  tcase_add_test (tc, test_image_inline);
  tcase_add_test (tc, test_tokens);
  tcase_add_test (tc, test_apps_file_keys);
  return s;
}

GST_CHECK_MAIN (realtime);
