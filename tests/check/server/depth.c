/* Deeply nested JSON sent to the local server: a 400 naming the bound (or a
 * 401 where the key comes first), never a crash, and the server keeps
 * serving. */
#include "falservertest.h"

#define TEST_KEY "depth-test-key"

/* 200 000 bytes of '[': far deeper than a recursive parser survives */
#define DEEP_BYTES 200000

static GstFalServer *server;
static SoupSession *session;

static void
teardown (void)
{
  g_clear_object (&session);
  if (server)
    gst_fal_server_stop (server);
  g_clear_object (&server);
}

static FalReply *
post (const gchar * path, const gchar * body, const gchar * const *headers)
{
  g_autofree gchar *url = fal_url (server, path);

  return fal_http (session, "POST", url, body, headers);
}

/* A fal-shaped refusal: 400 {"detail": "… nested deeper than 128 levels …"} */
static void
assert_too_deep (FalReply * reply, const gchar * path)
{
  fail_unless (reply->error == NULL, "%s: %s", path, reply->error ?
      reply->error->message : "");
  fail_unless_equals_int (reply->status, 400);
  fail_unless (strstr (fal_reply_string (reply, "detail"),
          "nested deeper than 128 levels") != NULL, "%s: detail '%s'", path,
      fal_reply_string (reply, "detail"));
}

/* The server still answers: a small run of local/echo works. */
static void
assert_serving (const gchar * const *headers)
{
  g_autoptr (FalReply) reply = post ("/run/local/echo", "{\"a\": 1}",
      headers);

  fail_unless_equals_int (reply->status, 200);
  fail_unless (json_object_get_int_member (fal_reply_object (reply),
          "a") == 1);
}

static const gchar *paths[] = {
  NULL,                         /* the completion of a real upload */
  "/run/local/echo",
  "/queue/local/echo",
  "/rest/storage/upload/initiate",
};

/* The path completing a new multipart upload: a public route that parses
 * its body (an unknown upload id is refused from the headers, unread). */
static gchar *
complete_path (const gchar * const *headers)
{
  g_autoptr (FalReply) init = post ("/rest/storage/upload/initiate-multipart",
      "{\"content_type\": \"text/plain\", \"file_name\": \"a.txt\"}",
      headers);
  g_autoptr (GUri) uri = NULL;
  g_autoptr (FalReply) unknown = NULL;

  fail_unless_equals_int (init->status, 200);
  uri = g_uri_parse (fal_reply_string (init, "upload_url"), G_URI_FLAGS_NONE,
      NULL);
  fail_unless (uri != NULL);
  unknown = post ("/storage/multipart/nope/complete", "[[[[", NULL);
  fail_unless_equals_int (unknown->status, 403);
  return g_strconcat (g_uri_get_path (uri), "/complete", NULL);
}

GST_START_TEST (test_deep_body_without_key)
{
  g_autofree gchar *deep = g_strnfill (DEEP_BYTES / 4, '[');
  g_autofree gchar *storage = NULL;
  guint i;

  server = fal_test_server_new (2, NULL);
  session = fal_test_session_new ();
  storage = complete_path (NULL);
  for (i = 0; i < G_N_ELEMENTS (paths); i++) {
    const gchar *path = paths[i] ? paths[i] : storage;
    g_autoptr (FalReply) reply = post (path, deep, NULL);

    assert_too_deep (reply, path);
    assert_serving (NULL);
  }
}

GST_END_TEST;

/* With a key, the key is checked before the body is read as JSON; the
 * storage routes are public (signed URLs), so they parse and refuse. */
GST_START_TEST (test_deep_body_with_key)
{
  const gchar *const with_key[] = { "Authorization", "Key " TEST_KEY, NULL };
  g_autofree gchar *deep = g_strnfill (DEEP_BYTES / 4, '[');
  g_autofree gchar *storage = NULL;
  guint i;

  server = fal_test_server_new (2, TEST_KEY);
  session = fal_test_session_new ();
  storage = complete_path (with_key);
  for (i = 0; i < G_N_ELEMENTS (paths); i++) {
    const gchar *path = paths[i] ? paths[i] : storage;
    g_autoptr (FalReply) anonymous = post (path, deep, NULL);
    g_autoptr (FalReply) keyed = post (path, deep, with_key);

    if (!paths[i])
      assert_too_deep (anonymous, path);
    else
      fail_unless_equals_int (anonymous->status, 401);
    assert_too_deep (keyed, path);
    assert_serving (with_key);
  }
}

GST_END_TEST;

/* The lifecycle header holds JSON too. */
GST_START_TEST (test_deep_lifecycle_header)
{
  g_autofree gchar *deep = g_strnfill (DEEP_BYTES / 4, '[');
  const gchar *const headers[] = { "X-Fal-Object-Lifecycle-Preference", deep,
    NULL
  };
  g_autoptr (FalReply) reply = NULL;

  server = fal_test_server_new (2, NULL);
  session = fal_test_session_new ();
  reply = post ("/rest/storage/upload/initiate",
      "{\"content_type\": \"text/plain\", \"file_name\": \"a.txt\"}", headers);
  /* an unreadable preference is no preference */
  fail_unless_equals_int (reply->status, 200);
  assert_serving (NULL);
}

GST_END_TEST;

/* Nesting up to the bound is JSON like any other. */
GST_START_TEST (test_depth_at_bound)
{
  g_autoptr (GString) at = g_string_new ("{\"a\": ");
  g_autoptr (GString) over = NULL;
  g_autoptr (FalReply) ok = NULL;
  g_autoptr (FalReply) refused = NULL;
  guint i;

  server = fal_test_server_new (2, NULL);
  session = fal_test_session_new ();
  /* the object is level 1, its arrays levels 2 to 128 */
  for (i = 0; i < 127; i++)
    g_string_append_c (at, '[');
  for (i = 0; i < 127; i++)
    g_string_append_c (at, ']');
  g_string_append_c (at, '}');
  ok = post ("/run/local/echo", at->str, NULL);
  fail_unless_equals_int (ok->status, 200);
  fail_unless (json_object_has_member (fal_reply_object (ok), "a"));

  over = g_string_new ("{\"a\": [");
  g_string_append_len (over, at->str + 6, at->len - 6);
  g_string_insert_c (over, over->len - 1, ']');
  refused = post ("/run/local/echo", over->str, NULL);
  assert_too_deep (refused, "/run/local/echo");
  assert_serving (NULL);
}

GST_END_TEST;

static Suite *
depth_suite (void)
{
  Suite *s = suite_create ("server-depth");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_add_test (tc, test_deep_body_without_key);
  tcase_add_test (tc, test_deep_body_with_key);
  tcase_add_test (tc, test_deep_lifecycle_header);
  tcase_add_test (tc, test_depth_at_bound);
  return s;
}

GST_CHECK_MAIN (depth);
