/* The storage endpoints of the local server (fal-protocol §6): initiate and
 * PUT, multipart with JSON and ETag answers, the v3 CDN, public GETs with
 * Range, auth and expiry. */
#include "falservertest.h"
#include "gst/falserver/gstfalserver-private.h"

static GstFalServer *server;
static SoupSession *session;
static const gchar *auth[] = { "Authorization", "Key storage-key", NULL };

static void
setup (void)
{
  server = fal_test_server_new (1, "storage-key");
  session = fal_test_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  g_clear_object (&server);
}

static FalReply *
put_bytes (const gchar * url, const gchar * content_type, const gchar * data,
    gsize size, const gchar * const *headers)
{
  g_autoptr (GBytes) body = g_bytes_new (data, size);

  return fal_http_full (session, "PUT", url, content_type, body, headers);
}

static void
check_download (const gchar * url, const gchar * content_type,
    const gchar * expected)
{
  g_autoptr (FalReply) reply = fal_http (session, "GET", url, NULL, NULL);

  fail_unless_equals_int (reply->status, 200);
  fail_unless_equals_string (fal_reply_header (reply, "Content-Type"),
      content_type);
  fail_unless_equals_string (fal_reply_header (reply,
          "X-Content-Type-Options"), "nosniff");
  fail_unless_equals_int (g_bytes_get_size (reply->body), strlen (expected));
  fail_unless (memcmp (g_bytes_get_data (reply->body, NULL), expected,
          strlen (expected)) == 0);
}

GST_START_TEST (test_initiate_and_put)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/upload/initiate?storage_type=fal-cdn-v3");
  g_autoptr (FalReply) unauthorized = fal_http (session, "POST", url,
      "{\"content_type\": \"text/plain\", \"file_name\": \"a.txt\"}", NULL);
  g_autoptr (FalReply) init = fal_http (session, "POST", url,
      "{\"content_type\": \"text/plain\", \"file_name\": \"a.txt\"}", auth);
  g_autoptr (FalReply) put = NULL;
  g_autoptr (FalReply) before = NULL;
  const gchar *file_url;

  fail_unless_equals_int (unauthorized->status, 401);
  fail_unless_equals_int (init->status, 200);
  file_url = fal_reply_string (init, "file_url");
  fail_unless (g_str_has_suffix (file_url, "/a.txt"));
  /* not readable before its upload */
  before = fal_http (session, "GET", file_url, NULL, NULL);
  fail_unless_equals_int (before->status, 404);
  /* the signed upload URL needs no key */
  put = put_bytes (fal_reply_string (init, "upload_url"), "text/plain",
      "hello, storage", 14, NULL);
  fail_unless_equals_int (put->status, 200);
  check_download (file_url, "text/plain", "hello, storage");
}

GST_END_TEST;

GST_START_TEST (test_range)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/upload/initiate?storage_type=gcs");
  g_autoptr (FalReply) init = fal_http (session, "POST", url,
      "{\"content_type\": \"application/octet-stream\", \"file_name\": "
      "\"digits.bin\"}", auth);
  g_autoptr (FalReply) put = put_bytes (fal_reply_string (init, "upload_url"),
      "application/octet-stream", "0123456789", 10, NULL);
  const gchar *range[] = { "Range", "bytes=3-6", NULL };
  const gchar *tail[] = { "Range", "bytes=-2", NULL };
  g_autoptr (FalReply) part = fal_http (session, "GET",
      fal_reply_string (init, "file_url"), NULL, range);
  g_autoptr (FalReply) end = fal_http (session, "GET",
      fal_reply_string (init, "file_url"), NULL, tail);

  fail_unless_equals_int (put->status, 200);
  fail_unless_equals_int (part->status, 206);
  fail_unless_equals_string (fal_reply_header (part, "Content-Range"),
      "bytes 3-6/10");
  fail_unless_equals_int (g_bytes_get_size (part->body), 4);
  fail_unless (memcmp (g_bytes_get_data (part->body, NULL), "3456", 4) == 0);
  fail_unless_equals_int (end->status, 206);
  fail_unless (memcmp (g_bytes_get_data (end->body, NULL), "89", 2) == 0);
}

GST_END_TEST;

GST_START_TEST (test_multipart)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/upload/initiate-multipart?storage_type=fal-cdn-v3");
  g_autoptr (FalReply) init = fal_http (session, "POST", url,
      "{\"content_type\": \"text/plain\", \"file_name\": \"parts.txt\"}", auth);
  const gchar *upload_url = fal_reply_string (init, "upload_url");
  const gchar *chunks[] = { "first part, ", "second part, ", "third" };
  g_autoptr (GString) complete = g_string_new ("{\"parts\": [");
  g_autofree gchar *complete_url = g_strconcat (upload_url, "/complete",
      NULL);
  g_autoptr (FalReply) bad = NULL;
  g_autoptr (FalReply) done = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (chunks); i++) {
    g_autofree gchar *part_url = g_strdup_printf ("%s/%u", upload_url, i + 1);
    g_autoptr (FalReply) part = put_bytes (part_url, "text/plain", chunks[i],
        strlen (chunks[i]), NULL);
    g_autofree gchar *quoted = NULL;
    const gchar *etag;

    fail_unless_equals_int (part->status, 200);
    fail_unless_equals_int (json_object_get_int_member (fal_reply_object
            (part), "partNumber"), i + 1);
    etag = fal_reply_string (part, "etag");
    quoted = g_strdup_printf ("\"%s\"", etag);
    fail_unless_equals_string (fal_reply_header (part, "ETag"), quoted);
    g_string_append_printf (complete, "%s{\"partNumber\": %u, \"etag\": "
        "\"%s\"}", i ? ", " : "", i + 1, etag);
  }
  g_string_append (complete, "]}");

  bad = fal_http (session, "POST", complete_url,
      "{\"parts\": [{\"partNumber\": 1, \"etag\": \"wrong\"}]}", NULL);
  fail_unless_equals_int (bad->status, 400);
  done = fal_http (session, "POST", complete_url, complete->str, NULL);
  fail_unless_equals_int (done->status, 200);
  check_download (fal_reply_string (init, "file_url"), "text/plain",
      "first part, second part, third");
}

GST_END_TEST;

GST_START_TEST (test_cdn_v3)
{
  g_autofree gchar *token_url = fal_url (server,
      "/rest/storage/auth/token?storage_type=fal-cdn-v3");
  g_autoptr (FalReply) token = fal_http (session, "POST", token_url, "{}",
      auth);
  g_autofree gchar *authorization = NULL;
  g_autofree gchar *upload_url = NULL;
  g_autofree gchar *multipart_url = NULL;
  g_autofree gchar *expected_base = fal_url (server, "/cdn");
  g_autoptr (FalReply) upload = NULL;
  g_autoptr (FalReply) refused = NULL;
  g_autoptr (FalReply) create = NULL;
  g_autoptr (FalReply) part = NULL;
  g_autoptr (FalReply) done = NULL;
  g_autofree gchar *part_url = NULL;
  g_autofree gchar *complete_url = NULL;
  g_autofree gchar *complete = NULL;

  fail_unless_equals_int (token->status, 200);
  fail_unless_equals_string (fal_reply_string (token, "base_url"),
      expected_base);
  fail_unless (fal_reply_string (token, "expires_at") != NULL);
  authorization = g_strdup_printf ("%s %s", fal_reply_string (token,
          "token_type"), fal_reply_string (token, "token"));
  upload_url = g_strconcat (fal_reply_string (token, "base_url"),
      "/files/upload", NULL);
  {
    const gchar *headers[] = { "Authorization", authorization,
      "X-Fal-File-Name", "pixel.png", NULL
    };
    g_autoptr (GBytes) body = g_bytes_new_static ("PNG!", 4);

    upload = fal_http_full (session, "POST", upload_url, "image/png", body,
        headers);
    refused = fal_http_full (session, "POST", upload_url, "image/png", body,
        NULL);
  }
  fail_unless_equals_int (upload->status, 200);
  fail_unless_equals_int (refused->status, 401);
  fail_unless (g_str_has_suffix (fal_reply_string (upload, "access_url"),
          "/pixel.png"));
  check_download (fal_reply_string (upload, "access_url"), "image/png", "PNG!");

  /* multipart: create, PUT parts under access_url, complete */
  multipart_url = g_strconcat (upload_url, "/multipart", NULL);
  {
    const gchar *headers[] = { "Authorization", authorization,
      "X-Fal-File-Name", "big.txt", NULL
    };
    g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);

    create = fal_http_full (session, "POST", multipart_url, "text/plain",
        empty, headers);
  }
  fail_unless_equals_int (create->status, 200);
  part_url = g_strdup_printf ("%s/multipart/%s/1",
      fal_reply_string (create, "access_url"), fal_reply_string (create,
          "uploadId"));
  part = put_bytes (part_url, "text/plain", "v3 multipart", 12, NULL);
  fail_unless_equals_int (part->status, 200);
  fail_unless (fal_reply_header (part, "ETag") != NULL);
  complete_url = g_strdup_printf ("%s/multipart/%s/complete",
      fal_reply_string (create, "access_url"), fal_reply_string (create,
          "uploadId"));
  complete = g_strdup_printf ("{\"parts\": [{\"partNumber\": 1, \"etag\": "
      "%s}]}", fal_reply_header (part, "ETag"));
  done = fal_http (session, "POST", complete_url, complete, NULL);
  fail_unless_equals_int (done->status, 200);
  check_download (fal_reply_string (create, "access_url"), "text/plain",
      "v3 multipart");
}

GST_END_TEST;

GST_START_TEST (test_expiry)
{
  GstFalStorage *storage = gst_fal_storage_new (NULL, NULL);
  g_autoptr (GBytes) data = g_bytes_new_static ("soon gone", 9);
  g_autofree gchar *kept = NULL;
  g_autofree gchar *gone = NULL;
  g_autofree gchar *dir = g_strdup (gst_fal_storage_get_dir (storage));
  GBytes *read;

  fail_unless_equals_int (gst_fal_storage_parse_lifecycle
      ("{\"expiration_duration_seconds\": 30}"), 30);
  fail_unless_equals_int (gst_fal_storage_parse_lifecycle (NULL), -1);
  fail_unless_equals_int (gst_fal_storage_parse_lifecycle ("not json"), -1);
  kept = gst_fal_storage_put (storage, data, "text/plain", "kept.txt", -1);
  gone = gst_fal_storage_put (storage, data, "text/plain", "../gone.txt", 0);
  fail_unless (g_str_has_suffix (gone, "/gone.txt"));
  read = gst_fal_storage_read (storage, kept, NULL);
  fail_unless (read != NULL);
  g_bytes_unref (read);
  /* expired at once: not served, and removed by the sweep */
  fail_unless (gst_fal_storage_read (storage, gone, NULL) == NULL);
  fail_unless_equals_int (gst_fal_storage_expire (storage), 1);
  fail_unless (g_file_test (dir, G_FILE_TEST_IS_DIR));
  gst_fal_storage_free (storage);
  /* a temporary storage directory is removed with the storage */
  fail_if (g_file_test (dir, G_FILE_TEST_EXISTS));
}

GST_END_TEST;

GST_START_TEST (test_lifecycle_header)
{
  g_autofree gchar *url = fal_url (server,
      "/rest/storage/upload/initiate?storage_type=fal-cdn-v3");
  const gchar *headers[] = { "Authorization", "Key storage-key",
    "X-Fal-Object-Lifecycle-Preference",
    "{\"expiration_duration_seconds\": 0}", NULL
  };
  g_autoptr (FalReply) init = fal_http (session, "POST", url,
      "{\"content_type\": \"text/plain\", \"file_name\": \"x.txt\"}", headers);
  g_autoptr (FalReply) put = put_bytes (fal_reply_string (init, "upload_url"),
      "text/plain", "x", 1, NULL);
  g_autoptr (FalReply) get = fal_http (session, "GET",
      fal_reply_string (init, "file_url"), NULL, NULL);

  /* the upload URL expired with its file */
  fail_unless_equals_int (put->status, 403);
  fail_unless_equals_int (get->status, 404);
}

GST_END_TEST;

/* Multipart uploads are bounded in part numbers and in bytes; a part sent
 * again replaces the earlier one in the count. */
GST_START_TEST (test_part_limits)
{
  GstFalStorage *storage = gst_fal_storage_new (NULL, NULL);
  g_autoptr (GBytes) four = g_bytes_new_static ("four", 4);
  g_autoptr (GBytes) six = g_bytes_new_static ("sixsix", 6);
  g_autoptr (GArray) parts = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree gchar *upload_id = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *done = NULL;
  g_autofree gchar *twice = NULL;
  GError *error = NULL;
  gchar *etag;
  guint i;

  gst_fal_storage_set_limits (storage, 2, 10);
  g_free (gst_fal_storage_reserve (storage, "text/plain", "a.txt", -1, 0,
          &upload_id));
  g_clear_pointer (&upload_id, g_free);
  path = gst_fal_storage_reserve (storage, "text/plain", "p.txt", -1,
      GST_FAL_STORAGE_MULTIPART, &upload_id);
  fail_unless (!strstr (path, upload_id));
  /* a multipart upload takes no single write */
  fail_if (gst_fal_storage_write (storage, upload_id, four, NULL, &error));
  fail_unless (g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_PERMISSION_DENIED));
  g_clear_error (&error);
  fail_unless (gst_fal_storage_write_part (storage, upload_id, 3, four,
          &error) == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);
  g_free (gst_fal_storage_write_part (storage, upload_id, 1, six, NULL));
  fail_unless (gst_fal_storage_write_part (storage, upload_id, 2, six,
          &error) == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE));
  g_clear_error (&error);
  /* part 1 again, smaller: now both fit */
  g_free (gst_fal_storage_write_part (storage, upload_id, 1, four, NULL));
  etag = gst_fal_storage_write_part (storage, upload_id, 2, six, &error);
  fail_unless (etag != NULL, "%s", error ? error->message : "");
  g_free (etag);
  for (i = 1; i <= 2; i++)
    g_array_append_val (parts, i);
  done = gst_fal_storage_complete_multipart (storage, upload_id, parts, NULL,
      NULL);
  fail_unless_equals_string (done, path);
  twice = gst_fal_storage_complete_multipart (storage, upload_id, parts,
      NULL, &error);
  fail_unless (twice == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS));
  g_clear_error (&error);
  gst_fal_storage_free (storage);
}

GST_END_TEST;

GST_START_TEST (test_served_type)
{
  struct
  {
    const gchar *declared;
    GstFalStorageFlags flags;
    const gchar *served;
    gboolean attachment;
  } cases[] = {
    {NULL, 0, "application/octet-stream", FALSE},
    {"image/png", 0, "image/png", FALSE},
    {"Text/Plain; Charset=\"UTF-8\"; x=y", 0, "text/plain; charset=utf-8",
        FALSE},
    {"text/html", 0, "application/octet-stream", TRUE},
    {"text/html", GST_FAL_STORAGE_TRUSTED, "text/html", FALSE},
    {" TEXT/HTML ;charset=utf-8", 0, "application/octet-stream", TRUE},
    {"image/svg+xml", 0, "application/octet-stream", TRUE},
    {"application/xhtml+xml", 0, "application/octet-stream", TRUE},
    {"application/xml", 0, "application/octet-stream", TRUE},
    {"text/xsl", 0, "application/octet-stream", TRUE},
    {"multipart/x-mixed-replace", 0, "application/octet-stream", TRUE},
    {"text/html\r\nX-Evil: 1", GST_FAL_STORAGE_TRUSTED,
        "application/octet-stream", TRUE},
    {"image/png; charset=\"a\r\nb\"", 0, "image/png", FALSE},
    {"nonsense", 0, "application/octet-stream", TRUE},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gboolean attachment;
    g_autofree gchar *served = gst_fal_storage_served_type (cases[i].declared,
        cases[i].flags, &attachment);

    fail_unless_equals_string (served, cases[i].served);
    fail_unless_equals_int (attachment, cases[i].attachment);
  }
}

GST_END_TEST;

static Suite *
storage_suite (void)
{
  Suite *s = suite_create ("server-storage");
  TCase *tc = tcase_create ("storage");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_initiate_and_put);
  tcase_add_test (tc, test_range);
  tcase_add_test (tc, test_multipart);
  tcase_add_test (tc, test_cdn_v3);
  tcase_add_test (tc, test_expiry);
  tcase_add_test (tc, test_lifecycle_header);
  tcase_add_test (tc, test_part_limits);
  tcase_add_test (tc, test_served_type);
  return s;
}

GST_CHECK_MAIN (storage);
