/* Storage objects are written once (issue 8): an upload URL is bound to the
 * object its initiate created, completed files and app outputs are never
 * overwritten, and files are served with their declared type, nosniff, and
 * never as HTML unless the key holder uploaded them as such. */
#include "falservertest.h"
#include "gst/falserver/gstfalserver-private.h"

#define SCRIPT "<html><script>alert(document.domain)</script></html>"

static GstFalServer *server;
static SoupSession *session;
static const gchar *auth[] = { "Authorization", "Key once-key", NULL };

static void
setup (void)
{
  server = fal_test_server_new (1, "once-key");
  session = fal_test_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  g_clear_object (&server);
}

static FalReply *
send_bytes (const gchar * method, const gchar * url, const gchar * content_type,
    const gchar * data, const gchar * const *headers)
{
  g_autoptr (GBytes) body = g_bytes_new (data, strlen (data));

  return fal_http_full (session, method, url, content_type, body, headers);
}

/* "ID/NAME" of SERVER/files/ID/NAME */
static const gchar *
file_path (const gchar * file_url)
{
  const gchar *path = strstr (file_url, "/files/");

  fail_unless (path != NULL, "not a file URL: %s", file_url);
  return path + strlen ("/files/");
}

static gchar *
file_id (const gchar * file_url)
{
  const gchar *path = file_path (file_url);

  return g_strndup (path, strcspn (path, "/"));
}

/* A refused write: 403 or 409 with a fal-shaped {"detail": "..."}. */
static void
check_refused (FalReply * reply)
{
  fail_unless (reply->status == 403 || reply->status == 409,
      "write accepted or wrongly refused: HTTP %u", reply->status);
  fail_unless (json_object_get_string_member_with_default (fal_reply_object
          (reply), "detail", NULL) != NULL);
}

/* The file is served unchanged, with @content_type and nosniff. */
static void
check_served (const gchar * url, const gchar * content_type, GBytes * expected)
{
  g_autoptr (FalReply) reply = fal_http (session, "GET", url, NULL, NULL);

  fail_unless_equals_int (reply->status, 200);
  fail_unless_equals_string (fal_reply_header (reply, "Content-Type"),
      content_type);
  fail_unless_equals_string (fal_reply_header (reply,
          "X-Content-Type-Options"), "nosniff");
  fail_unless (g_bytes_equal (reply->body, expected), "content changed");
}

/* initiate with the key then PUT: returns the initiate answer */
static FalReply *
upload (const gchar * content_type, const gchar * name, const gchar * data)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/upload/initiate?storage_type=fal-cdn-v3");
  g_autofree gchar *json = g_strdup_printf ("{\"content_type\": \"%s\", "
      "\"file_name\": \"%s\"}", content_type, name);
  FalReply *init = fal_http (session, "POST", url, json, auth);
  g_autoptr (FalReply) put = NULL;

  fail_unless_equals_int (init->status, 200);
  put = send_bytes ("PUT", fal_reply_string (init, "upload_url"), content_type,
      data, NULL);
  fail_unless_equals_int (put->status, 200);
  return init;
}

static gchar *
cdn_token (void)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/auth/token?storage_type=fal-cdn-v3");
  g_autoptr (FalReply) token = fal_http (session, "POST", url, "{}", auth);

  fail_unless_equals_int (token->status, 200);
  return g_strdup_printf ("Bearer %s", fal_reply_string (token, "token"));
}

/* Probe: PUT /storage/upload/<id of a public file>, no key. */
GST_START_TEST (test_put_over_file)
{
  g_autoptr (FalReply) init = upload ("text/plain", "a.txt", "original");
  const gchar *file_url = fal_reply_string (init, "file_url");
  g_autofree gchar *id = file_id (file_url);
  g_autofree gchar *path = g_strdup_printf ("/storage/upload/%s", id);
  g_autofree gchar *url = fal_url (server, path);
  g_autoptr (GBytes) original = g_bytes_new_static ("original", 8);
  g_autoptr (FalReply) probe = send_bytes ("PUT", url, "text/html", SCRIPT,
      NULL);
  g_autoptr (FalReply) replay = NULL;

  check_refused (probe);
  check_served (file_url, "text/plain", original);
  /* the upload URL itself is spent once the file is complete */
  replay = send_bytes ("PUT", fal_reply_string (init, "upload_url"),
      "text/html", SCRIPT, NULL);
  fail_unless_equals_int (replay->status, 409);
  check_refused (replay);
  check_served (file_url, "text/plain", original);
}

GST_END_TEST;

/* Probe: the same against an app's output and a v3 CDN upload. */
GST_START_TEST (test_put_over_output)
{
  g_autofree gchar *run_url = fal_url (server, "/run/local/text-to-image");
  g_autoptr (FalReply) run = fal_http (session, "POST", run_url,
      "{\"prompt\": \"x\", \"width\": 16, \"height\": 16}", auth);
  g_autofree gchar *token = cdn_token ();
  const gchar *headers[] = { "Authorization", token, "X-Fal-File-Name",
    "c.txt", NULL
  };
  g_autofree gchar *cdn_url = fal_url (server, "/cdn/files/upload");
  g_autoptr (FalReply) cdn = send_bytes ("POST", cdn_url, "text/plain",
      "from the cdn", headers);
  const gchar *urls[2];
  guint i;

  fail_unless_equals_int (run->status, 200);
  fail_unless_equals_int (cdn->status, 200);
  urls[0] = json_object_get_string_member (json_object_get_object_member
      (fal_reply_object (run), "image"), "url");
  urls[1] = fal_reply_string (cdn, "access_url");
  for (i = 0; i < G_N_ELEMENTS (urls); i++) {
    g_autoptr (FalReply) before = fal_http (session, "GET", urls[i], NULL,
        NULL);
    g_autofree gchar *id = file_id (urls[i]);
    g_autofree gchar *path = g_strdup_printf ("/storage/upload/%s", id);
    g_autofree gchar *url = fal_url (server, path);
    g_autoptr (FalReply) probe = NULL;

    fail_unless_equals_int (before->status, 200);
    probe = send_bytes ("PUT", url, "text/html", SCRIPT, NULL);
    check_refused (probe);
    check_served (urls[i], fal_reply_header (before, "Content-Type"),
        before->body);
  }
}

GST_END_TEST;

/* Probe: multipart part PUT + complete under an existing file's id, no key,
 * on both multipart routes; and the upload URL of a completed multipart
 * upload takes no more parts. */
GST_START_TEST (test_multipart_over_file)
{
  g_autoptr (FalReply) init = upload ("text/plain", "m.txt", "original");
  const gchar *file_url = fal_reply_string (init, "file_url");
  g_autofree gchar *id = file_id (file_url);
  g_autoptr (GBytes) original = g_bytes_new_static ("original", 8);
  g_autofree gchar *etag = g_compute_checksum_for_string (G_CHECKSUM_MD5,
      SCRIPT, -1);
  g_autofree gchar *complete = g_strdup_printf ("{\"parts\": [{\"partNumber\""
      ": 1, \"etag\": \"%s\"}]}", etag);
  gchar *bases[2];
  guint i;

  bases[0] = g_strdup_printf ("%s/storage/multipart/%s",
      gst_fal_server_get_url (server), id);
  bases[1] = g_strdup_printf ("%s/multipart/%s", file_url, id);
  for (i = 0; i < G_N_ELEMENTS (bases); i++) {
    g_autofree gchar *part_url = g_strdup_printf ("%s/1", bases[i]);
    g_autofree gchar *complete_url = g_strdup_printf ("%s/complete", bases[i]);
    g_autoptr (FalReply) part = send_bytes ("PUT", part_url, "text/html",
        SCRIPT, NULL);
    g_autoptr (FalReply) done = fal_http (session, "POST", complete_url,
        complete, NULL);

    check_refused (part);
    check_refused (done);
    check_served (file_url, "text/plain", original);
  }
  g_free (bases[0]);
  g_free (bases[1]);
}

GST_END_TEST;

GST_START_TEST (test_multipart_spent)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/upload/initiate-multipart?storage_type=fal-cdn-v3");
  g_autoptr (FalReply) init = fal_http (session, "POST", url,
      "{\"content_type\": \"text/plain\", \"file_name\": \"p.txt\"}", auth);
  const gchar *upload_url = fal_reply_string (init, "upload_url");
  g_autofree gchar *part_url = g_strdup_printf ("%s/1", upload_url);
  g_autofree gchar *complete_url = g_strdup_printf ("%s/complete", upload_url);
  g_autoptr (FalReply) part = send_bytes ("PUT", part_url, "text/plain",
      "parts", NULL);
  g_autofree gchar *complete = NULL;
  g_autoptr (FalReply) done = NULL;
  g_autoptr (FalReply) again = NULL;
  g_autoptr (FalReply) redone = NULL;
  g_autoptr (FalReply) single = NULL;
  g_autoptr (GBytes) expected = g_bytes_new_static ("parts", 5);

  fail_unless_equals_int (part->status, 200);
  /* a multipart upload URL takes no single PUT */
  single = send_bytes ("PUT", upload_url, "text/plain", "whole", NULL);
  fail_unless (single->status >= 400, "HTTP %u", single->status);
  complete = g_strdup_printf ("{\"parts\": [{\"partNumber\": 1, \"etag\": "
      "\"%s\"}]}", fal_reply_string (part, "etag"));
  done = fal_http (session, "POST", complete_url, complete, NULL);
  fail_unless_equals_int (done->status, 200);
  again = send_bytes ("PUT", part_url, "text/plain", "other", NULL);
  fail_unless_equals_int (again->status, 409);
  check_refused (again);
  redone = fal_http (session, "POST", complete_url, complete, NULL);
  fail_unless_equals_int (redone->status, 409);
  check_served (fal_reply_string (init, "file_url"), "text/plain", expected);
}

GST_END_TEST;

/* An upload URL is valid until its object expires. */
GST_START_TEST (test_upload_expired)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/upload/initiate?storage_type=fal-cdn-v3");
  const gchar *headers[] = { "Authorization", "Key once-key",
    "X-Fal-Object-Lifecycle-Preference",
    "{\"expiration_duration_seconds\": 0}", NULL
  };
  g_autoptr (FalReply) init = fal_http (session, "POST", url,
      "{\"content_type\": \"text/plain\", \"file_name\": \"x.txt\"}", headers);
  g_autoptr (FalReply) put = send_bytes ("PUT", fal_reply_string (init,
          "upload_url"), "text/plain", "x", NULL);

  fail_unless_equals_int (put->status, 403);
}

GST_END_TEST;

/* HTML, SVG and XML uploaded without the key are not served as such. */
GST_START_TEST (test_html_without_key)
{
  const gchar *types[] = { "text/html", "image/svg+xml",
    "application/xhtml+xml", "text/xml", "TEXT/HTML; charset=utf-8",
    "multipart/x-mixed-replace; boundary=x",
  };
  g_autofree gchar *token = cdn_token ();
  g_autofree gchar *url = fal_url (server, "/cdn/files/upload");
  g_autoptr (GBytes) script = g_bytes_new_static (SCRIPT, strlen (SCRIPT));
  const gchar *headers[] = { "Authorization", token, "X-Fal-File-Name",
    "page.html", NULL
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (types); i++) {
    g_autoptr (FalReply) put = send_bytes ("POST", url, types[i], SCRIPT,
        headers);
    g_autoptr (FalReply) get = NULL;

    fail_unless_equals_int (put->status, 200);
    get = fal_http (session, "GET", fal_reply_string (put, "access_url"),
        NULL, NULL);
    fail_unless_equals_int (get->status, 200);
    fail_unless_equals_string (fal_reply_header (get, "Content-Type"),
        "application/octet-stream");
    fail_unless_equals_string (fal_reply_header (get,
            "X-Content-Type-Options"), "nosniff");
    fail_unless (g_str_has_prefix (fal_reply_header (get,
                "Content-Disposition"), "attachment"));
    fail_unless (strstr (fal_reply_header (get, "Content-Security-Policy"),
            "sandbox") != NULL);
    fail_unless (g_bytes_equal (get->body, script));
  }
}

GST_END_TEST;

/* The key holder's HTML is served as HTML, with nosniff; a declared type
 * that is no MIME type is served as bytes, never as a header. */
GST_START_TEST (test_html_with_key)
{
  g_autoptr (FalReply) init = upload ("text/html", "page.html", SCRIPT);
  g_autoptr (FalReply) get = fal_http (session, "GET",
      fal_reply_string (init, "file_url"), NULL, NULL);
  g_autofree gchar *initiate = fal_url (server,
      "/rest/storage/upload/initiate?storage_type=fal-cdn-v3");
  g_autoptr (FalReply) bad = fal_http (session, "POST", initiate,
      "{\"content_type\": \"text/html\\r\\nX-Evil: 1\"}", auth);
  g_autoptr (FalReply) put = NULL;
  g_autoptr (FalReply) served = NULL;

  fail_unless_equals_int (get->status, 200);
  fail_unless_equals_string (fal_reply_header (get, "Content-Type"),
      "text/html");
  fail_unless_equals_string (fal_reply_header (get, "X-Content-Type-Options"),
      "nosniff");

  fail_unless_equals_int (bad->status, 200);
  put = send_bytes ("PUT", fal_reply_string (bad, "upload_url"), "text/html",
      SCRIPT, NULL);
  fail_unless_equals_int (put->status, 200);
  served = fal_http (session, "GET", fal_reply_string (bad, "file_url"), NULL,
      NULL);
  fail_unless_equals_int (served->status, 200);
  fail_unless_equals_string (fal_reply_header (served, "Content-Type"),
      "application/octet-stream");
  fail_unless (fal_reply_header (served, "X-Evil") == NULL);
}

GST_END_TEST;

/* A type left to the PUT is the URL holder's, not the key holder's. */
GST_START_TEST (test_html_from_put)
{
  g_autofree gchar *initiate = fal_url (server,
      "/rest/storage/upload/initiate?storage_type=fal-cdn-v3");
  g_autoptr (FalReply) init = fal_http (session, "POST", initiate,
      "{\"file_name\": \"page.html\"}", auth);
  g_autoptr (FalReply) put = NULL;
  g_autoptr (FalReply) get = NULL;

  fail_unless_equals_int (init->status, 200);
  put = send_bytes ("PUT", fal_reply_string (init, "upload_url"), "text/html",
      SCRIPT, NULL);
  fail_unless_equals_int (put->status, 200);
  get = fal_http (session, "GET", fal_reply_string (init, "file_url"), NULL,
      NULL);
  fail_unless_equals_int (get->status, 200);
  fail_unless_equals_string (fal_reply_header (get, "Content-Type"),
      "application/octet-stream");
}

GST_END_TEST;

static Suite *
storageonce_suite (void)
{
  Suite *s = suite_create ("server-storage-once");
  TCase *tc = tcase_create ("storage-once");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_put_over_file);
  tcase_add_test (tc, test_put_over_output);
  tcase_add_test (tc, test_multipart_over_file);
  tcase_add_test (tc, test_multipart_spent);
  tcase_add_test (tc, test_upload_expired);
  tcase_add_test (tc, test_html_without_key);
  tcase_add_test (tc, test_html_with_key);
  tcase_add_test (tc, test_html_from_put);
  return s;
}

GST_CHECK_MAIN (storageonce);
