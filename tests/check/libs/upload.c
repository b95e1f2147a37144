/* gst-fal: uploads (single and multipart) and downloads against a loopback
 * SoupServer implementing fal's storage routes */
#include <gst/check/gstcheck.h>
#include <gst/app/app.h>
#include <gst/fal/gstfal.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "gstfalupload-private.h"

#if __has_include(<gst/falserver/gstfalserver.h>)
#include <gst/falserver/gstfalserver.h>
#define HAVE_FAL_SERVER 1
#endif

#define TEST_KEY "test-key-123"

/* The storage server: its own thread and main context. */
typedef struct
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  gchar *url;

  GMutex lock;
  GCond cond;
  gboolean ready;
  guint next_id;
  /* id → GBytes stored; id → content type; id → GByteArray per part */
  GHashTable *files;
  GHashTable *types;
  GHashTable *parts;
  /* Authorization header of each request, "" when absent, in order */
  GPtrArray *auth_log;
  GPtrArray *path_log;
  gchar *last_initiate_body;
  guint part3_attempts;
  gboolean parts_without_etag;
} MockStorage;

static MockStorage *mock;

static void
log_request (MockStorage * m, SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *auth = soup_message_headers_get_one (headers, "Authorization");

  g_mutex_lock (&m->lock);
  g_ptr_array_add (m->auth_log, g_strdup (auth ? auth : ""));
  g_ptr_array_add (m->path_log, g_strdup_printf ("%s %s",
          soup_server_message_get_method (msg),
          g_uri_get_path (soup_server_message_get_uri (msg))));
  g_mutex_unlock (&m->lock);
}

static void
respond_json (SoupServerMessage * msg, guint status, const gchar * json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      json, strlen (json));
}

static GBytes *
request_body (SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  return soup_message_body_flatten (body);
}

static void
initiate_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockStorage *m = user_data;
  g_autoptr (GBytes) body = request_body (msg);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;
  const gchar *content_type;
  gchar *json;
  guint id;

  log_request (m, msg);
  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0 ||
      query == NULL || g_strcmp0 (g_hash_table_lookup (query, "storage_type"),
          "fal-cdn-v3") != 0) {
    respond_json (msg, 400, "{\"detail\": \"bad initiate\"}");
    return;
  }
  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
          g_bytes_get_size (body), NULL)) {
    respond_json (msg, 422, "{\"detail\": \"not json\"}");
    return;
  }
  object = json_node_get_object (json_parser_get_root (parser));
  content_type = json_object_get_string_member (object, "content_type");

  g_mutex_lock (&m->lock);
  id = ++m->next_id;
  g_free (m->last_initiate_body);
  m->last_initiate_body = g_strndup (g_bytes_get_data (body, NULL),
      g_bytes_get_size (body));
  g_hash_table_insert (m->types, GUINT_TO_POINTER (id),
      g_strdup (content_type));
  g_mutex_unlock (&m->lock);

  json = g_strdup_printf ("{\"upload_url\": \"%sup/%u?sig=abc%%2B1\", "
      "\"file_url\": \"%sfiles/%u/%s\"}", m->url, id, m->url, id,
      json_object_get_string_member (object, "file_name"));
  respond_json (msg, 200, json);
  g_free (json);
}

/* PUT /up/<id>, PUT /up/<id>/<n>, POST /up/<id>/complete */
static void
upload_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockStorage *m = user_data;
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  const gchar *method = soup_server_message_get_method (msg);
  g_autoptr (GBytes) body = request_body (msg);
  guint id, n_parts = g_strv_length (parts);

  log_request (m, msg);
  /* the query of upload_url must come back on every request */
  if (query == NULL || g_strcmp0 (g_hash_table_lookup (query, "sig"),
          "abc+1") != 0 || n_parts < 3) {
    respond_json (msg, 403, "{\"detail\": \"bad signature\"}");
    return;
  }
  id = atoi (parts[2]);

  if (n_parts == 3 && g_str_equal (method, "PUT")) {
    g_mutex_lock (&m->lock);
    g_hash_table_insert (m->files, GUINT_TO_POINTER (id), g_bytes_ref (body));
    g_mutex_unlock (&m->lock);
    soup_server_message_set_status (msg, 200, NULL);
  } else if (n_parts == 4 && g_str_equal (method, "PUT")) {
    guint n = atoi (parts[3]);
    SoupMessageHeaders *response =
        soup_server_message_get_response_headers (msg);
    GPtrArray *chunks;
    gchar *etag = g_strdup_printf ("etag-%u-%u", id, n);
    gchar *json;

    g_mutex_lock (&m->lock);
    if (n == 3 && m->part3_attempts++ == 0) {
      g_mutex_unlock (&m->lock);
      respond_json (msg, 503, "{\"detail\": \"try again\"}");
      g_free (etag);
      return;
    }
    chunks = g_hash_table_lookup (m->parts, GUINT_TO_POINTER (id));
    if (chunks == NULL) {
      chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_hash_table_insert (m->parts, GUINT_TO_POINTER (id), chunks);
    }
    if (chunks->len < n)
      g_ptr_array_set_size (chunks, n);
    if (g_ptr_array_index (chunks, n - 1))
      g_bytes_unref (g_ptr_array_index (chunks, n - 1));
    g_ptr_array_index (chunks, n - 1) = g_bytes_ref (body);
    g_mutex_unlock (&m->lock);

    /* part 1: only the header; part 2: only JSON; others: both */
    json = g_strdup_printf ("{\"partNumber\": %u, \"etag\": \"%s\"}", n, etag);
    if (m->parts_without_etag)
      respond_json (msg, 200, "{}");
    else if (n == 1)
      soup_message_headers_replace (response, "ETag", etag);
    else if (n == 2)
      respond_json (msg, 200, json);
    else {
      soup_message_headers_replace (response, "ETag", etag);
      respond_json (msg, 200, json);
    }
    if (n == 1 && !m->parts_without_etag)
      soup_server_message_set_status (msg, 200, NULL);
    g_free (json);
    g_free (etag);
  } else if (n_parts == 4 && g_str_equal (parts[3], "complete")
      && g_str_equal (method, "POST")) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    GByteArray *assembled = g_byte_array_new ();
    GPtrArray *chunks;
    JsonArray *list;
    guint i;

    g_mutex_lock (&m->lock);
    chunks = g_hash_table_lookup (m->parts, GUINT_TO_POINTER (id));
    if (chunks == NULL || !json_parser_load_from_data (parser,
            g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL)) {
      g_mutex_unlock (&m->lock);
      g_byte_array_unref (assembled);
      respond_json (msg, 400, "{\"detail\": \"bad complete\"}");
      return;
    }
    list = json_object_get_array_member (json_node_get_object
        (json_parser_get_root (parser)), "parts");
    for (i = 0; i < json_array_get_length (list); i++) {
      JsonObject *part = json_array_get_object_element (list, i);
      gchar *expected = g_strdup_printf ("etag-%u-%u", id, i + 1);
      GBytes *chunk;

      /* parts must be listed in order with the etags handed out */
      if (json_object_get_int_member (part, "partNumber") != i + 1
          || g_strcmp0 (json_object_get_string_member (part, "etag"),
              expected) != 0 || i >= chunks->len) {
        g_free (expected);
        g_byte_array_set_size (assembled, 0);
        break;
      }
      g_free (expected);
      chunk = g_ptr_array_index (chunks, i);
      g_byte_array_append (assembled, g_bytes_get_data (chunk, NULL),
          g_bytes_get_size (chunk));
    }
    if (i == chunks->len && i == json_array_get_length (list))
      g_hash_table_insert (m->files, GUINT_TO_POINTER (id),
          g_byte_array_free_to_bytes (assembled));
    else
      g_byte_array_unref (assembled);
    g_mutex_unlock (&m->lock);
    respond_json (msg, 200, "{\"ok\": true}");
  } else {
    respond_json (msg, 404, "{\"detail\": \"no such upload route\"}");
  }
}

/* GET /files/<id>/<name> */
static void
files_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockStorage *m = user_data;
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  GBytes *bytes = NULL;
  const gchar *type = NULL;

  log_request (m, msg);
  g_mutex_lock (&m->lock);
  if (g_strv_length (parts) >= 3) {
    bytes = g_hash_table_lookup (m->files, GUINT_TO_POINTER (atoi (parts[2])));
    type = g_hash_table_lookup (m->types, GUINT_TO_POINTER (atoi (parts[2])));
  }
  if (bytes == NULL) {
    g_mutex_unlock (&m->lock);
    respond_json (msg, 404, "{\"detail\": \"File not found\"}");
    return;
  }
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY,
      g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_mutex_unlock (&m->lock);
}

static gpointer
server_thread (gpointer user_data)
{
  MockStorage *m = user_data;
  GError *error = NULL;
  GSList *uris;
  gchar *uri;

  g_main_context_push_thread_default (m->context);
  m->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (m->server, "/rest/storage/upload", initiate_cb, m,
      NULL);
  soup_server_add_handler (m->server, "/up", upload_cb, m, NULL);
  soup_server_add_handler (m->server, "/files", files_cb, m, NULL);
  fail_unless (soup_server_listen_local (m->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error), "%s",
      error ? error->message : "");
  uris = soup_server_get_uris (m->server);
  uri = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&m->lock);
  m->url = g_str_has_suffix (uri, "/") ? uri : g_strconcat (uri, "/", NULL);
  if (m->url != uri)
    g_free (uri);
  m->ready = TRUE;
  g_cond_signal (&m->cond);
  g_mutex_unlock (&m->lock);

  g_main_loop_run (m->loop);

  soup_server_disconnect (m->server);
  g_object_unref (m->server);
  /* let the closed connections release their sockets */
  while (g_main_context_iteration (m->context, FALSE));
  g_main_context_pop_thread_default (m->context);
  return NULL;
}

static void
mock_setup (void)
{
  mock = g_new0 (MockStorage, 1);
  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  mock->context = g_main_context_new ();
  mock->loop = g_main_loop_new (mock->context, FALSE);
  mock->files = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) g_bytes_unref);
  mock->types = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  mock->parts = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) g_ptr_array_unref);
  mock->auth_log = g_ptr_array_new_with_free_func (g_free);
  mock->path_log = g_ptr_array_new_with_free_func (g_free);
  mock->thread = g_thread_new ("mock-storage", server_thread, mock);

  g_mutex_lock (&mock->lock);
  while (!mock->ready)
    g_cond_wait (&mock->cond, &mock->lock);
  g_mutex_unlock (&mock->lock);
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
mock_teardown (void)
{
  g_main_context_invoke (mock->context, quit_loop, mock->loop);
  g_thread_join (mock->thread);
  g_main_loop_unref (mock->loop);
  g_main_context_unref (mock->context);
  g_hash_table_unref (mock->files);
  g_hash_table_unref (mock->types);
  g_hash_table_unref (mock->parts);
  g_ptr_array_unref (mock->auth_log);
  g_ptr_array_unref (mock->path_log);
  g_free (mock->last_initiate_body);
  g_free (mock->url);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
  g_clear_pointer (&mock, g_free);
}

static GstFalClient *
make_client (void)
{
  /* the server URL without its trailing slash */
  gchar *server = g_strndup (mock->url, strlen (mock->url) - 1);
  GstFalClient *client = gst_fal_client_new_for_url (server);

  g_object_set (client, "key", TEST_KEY, "retry-base-delay", 0.01, NULL);
  g_free (server);
  return client;
}

static GBytes *
stored_file (guint id)
{
  GBytes *bytes;

  g_mutex_lock (&mock->lock);
  bytes = g_hash_table_lookup (mock->files, GUINT_TO_POINTER (id));
  if (bytes)
    g_bytes_ref (bytes);
  g_mutex_unlock (&mock->lock);
  return bytes;
}

/* Every request whose path starts with @prefix: its Authorization. */
static guint
count_requests (const gchar * prefix, gboolean with_auth)
{
  guint i, count = 0;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < mock->path_log->len; i++) {
    const gchar *path = g_ptr_array_index (mock->path_log, i);
    const gchar *auth = g_ptr_array_index (mock->auth_log, i);

    if (g_str_has_prefix (path, prefix) && (*auth != '\0') == with_auth)
      count++;
  }
  g_mutex_unlock (&mock->lock);
  return count;
}

static gboolean
every_auth_is (const gchar * prefix, const gchar * expected)
{
  gboolean ok = TRUE;
  guint i;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < mock->path_log->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (mock->path_log, i), prefix)
        && g_strcmp0 (g_ptr_array_index (mock->auth_log, i), expected) != 0)
      ok = FALSE;
  g_mutex_unlock (&mock->lock);
  return ok;
}

static GBytes *
pattern_bytes (gsize size)
{
  guint8 *data = g_malloc (size);
  guint32 state = 0x12345678;
  gsize i;

  for (i = 0; i < size; i++) {
    state = state * 1103515245 + 12345;
    data[i] = state >> 24;
  }
  return g_bytes_new_take (data, size);
}

static void
store_result (GObject * source, GAsyncResult * result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult ** slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

GST_START_TEST (test_upload_single_and_download)
{
  GstFalClient *client = make_client ();
  GBytes *data = pattern_bytes (100 * 1024);
  GBytes *stored, *downloaded;
  GError *error = NULL;
  gchar *url, *content_type = NULL, *expected;

  url = gst_fal_client_upload_bytes (client, data, "image/png", "frame.png",
      NULL, &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  expected = g_strdup_printf ("%sfiles/1/frame.png", mock->url);
  fail_unless_equals_string (url, expected);
  g_free (expected);

  stored = stored_file (1);
  fail_unless (stored != NULL);
  fail_unless (g_bytes_equal (stored, data));
  g_bytes_unref (stored);
  fail_unless (strstr (mock->last_initiate_body,
          "\"content_type\":\"image/png\"") != NULL);
  fail_unless (strstr (mock->last_initiate_body,
          "\"file_name\":\"frame.png\"") != NULL);

  /* the key only on initiate; never on the PUT */
  fail_unless_equals_int (count_requests ("POST /rest/storage/upload/initiate",
          TRUE), 1);
  fail_unless (every_auth_is ("POST /rest/", "Key " TEST_KEY));
  fail_unless_equals_int (count_requests ("PUT /up/", FALSE), 1);
  fail_unless_equals_int (count_requests ("PUT /up/", TRUE), 0);

  /* download: bytes and type back, no credentials */
  downloaded = gst_fal_client_download (client, url, &content_type, NULL,
      &error);
  fail_unless (downloaded != NULL, "%s", error ? error->message : "");
  fail_unless (g_bytes_equal (downloaded, data));
  fail_unless_equals_string (content_type, "image/png");
  fail_unless_equals_int (count_requests ("GET /files/", FALSE), 1);
  fail_unless_equals_int (count_requests ("GET /files/", TRUE), 0);

  g_bytes_unref (downloaded);
  g_free (content_type);
  g_free (url);
  g_bytes_unref (data);
  g_object_unref (client);
}

GST_END_TEST;

GST_START_TEST (test_upload_multipart)
{
  GstFalClient *client = make_client ();
  const gsize threshold = 64 * 1024, chunk = 16 * 1024;
  GBytes *data = pattern_bytes (threshold + 1);
  GAsyncResult *result = NULL;
  GError *error = NULL;
  GBytes *stored;
  gchar *url;

  gst_fal_client_upload_bytes_parts_async (client, data, NULL, NULL,
      NULL, threshold, chunk, NULL, store_result, &result);
  url = gst_fal_client_upload_bytes_finish (client, wait_result (&result),
      &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  g_object_unref (result);
  fail_unless (g_str_has_prefix (url, mock->url));

  /* 4 full parts and one of 1 byte, assembled intact */
  stored = stored_file (1);
  fail_unless (stored != NULL, "the server did not assemble the parts");
  fail_unless (g_bytes_equal (stored, data));
  g_bytes_unref (stored);
  fail_unless (strstr (mock->last_initiate_body,
          "\"content_type\":\"application/octet-stream\"") != NULL);

  fail_unless_equals_int (count_requests
      ("POST /rest/storage/upload/initiate-multipart", TRUE), 1);
  fail_unless (every_auth_is ("POST /rest/", "Key " TEST_KEY));
  /* 5 parts + the retry of part 3, none with credentials */
  fail_unless_equals_int (count_requests ("PUT /up/1/", FALSE), 6);
  fail_unless_equals_int (mock->part3_attempts, 2);
  fail_unless_equals_int (count_requests ("PUT /up/", TRUE), 0);
  fail_unless_equals_int (count_requests ("POST /up/1/complete", FALSE), 1);
  fail_unless_equals_int (count_requests ("POST /up/", TRUE), 0);

  g_free (url);
  g_bytes_unref (data);

  /* exactly at the threshold: a single PUT */
  data = pattern_bytes (threshold);
  result = NULL;
  gst_fal_client_upload_bytes_parts_async (client, data, "text/plain",
      "a.txt", NULL, threshold, chunk, NULL, store_result, &result);
  url = gst_fal_client_upload_bytes_finish (client, wait_result (&result),
      &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  g_object_unref (result);
  fail_unless_equals_int (count_requests ("PUT /up/2", FALSE), 1);
  stored = stored_file (2);
  fail_unless (stored != NULL && g_bytes_equal (stored, data));
  g_bytes_unref (stored);

  g_free (url);
  g_bytes_unref (data);
  g_object_unref (client);
}

GST_END_TEST;

GST_START_TEST (test_upload_multipart_without_etag)
{
  GstFalClient *client = make_client ();
  GBytes *data = pattern_bytes (3000);
  GAsyncResult *result = NULL;
  GError *error = NULL;
  gchar *url;

  mock->parts_without_etag = TRUE;
  gst_fal_client_upload_bytes_parts_async (client, data, NULL, NULL, NULL,
      1000, 1000, NULL, store_result, &result);
  url = gst_fal_client_upload_bytes_finish (client, wait_result (&result),
      &error);
  fail_unless (url == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL),
      "%s", error->message);
  fail_unless (strstr (error->message, "ETag") != NULL);
  fail_unless_equals_int (count_requests ("POST /up/", FALSE), 0);

  g_error_free (error);
  g_object_unref (result);
  g_bytes_unref (data);
  g_object_unref (client);
}

GST_END_TEST;

GST_START_TEST (test_upload_file)
{
  GstFalClient *client = make_client ();
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0
  };
  gchar *dir = g_dir_make_tmp ("falupload-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "picture.png", NULL);
  GFile *file = g_file_new_for_path (path);
  GFile *missing = g_file_new_for_path ("/nonexistent/nothing.png");
  GAsyncResult *result = NULL;
  GError *error = NULL;
  GBytes *stored;
  gchar *url;

  fail_unless (g_file_set_contents (path, (const gchar *) png, sizeof (png),
          NULL));
  url = gst_fal_client_upload_file (client, file, NULL, &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  fail_unless (g_str_has_suffix (url, "/picture.png"));
  fail_unless (strstr (mock->last_initiate_body,
          "\"content_type\":\"image/png\"") != NULL);
  stored = stored_file (1);
  fail_unless (stored != NULL);
  fail_unless_equals_int (g_bytes_get_size (stored), sizeof (png));
  g_bytes_unref (stored);
  g_free (url);

  /* async, and a missing file */
  gst_fal_client_upload_file_async (client, file, NULL, store_result, &result);
  url = gst_fal_client_upload_file_finish (client, wait_result (&result),
      &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  g_object_unref (result);
  g_free (url);

  url = gst_fal_client_upload_file (client, missing, NULL, &error);
  fail_unless (url == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE));
  g_clear_error (&error);

  g_unlink (path);
  g_rmdir (dir);
  g_object_unref (file);
  g_object_unref (missing);
  g_free (path);
  g_free (dir);
  g_object_unref (client);
}

GST_END_TEST;

static GstSample *
make_frame (void)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc num-buffers=1 ! "
      "video/x-raw,format=I420,width=320,height=240 ! appsink name=sink "
      "sync=false", NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstSample *sample;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  fail_unless (sample != NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return sample;
}

GST_START_TEST (test_upload_sample)
{
  GstFalClient *client = make_client ();
  GstSample *frame = make_frame ();
  GAsyncResult *result = NULL;
  GError *error = NULL;
  GBytes *stored;
  const guint8 *data;
  gchar *url;

  gst_fal_client_upload_sample_async (client, frame,
      GST_FAL_IMAGE_FORMAT_JPEG, 70, 64, NULL, store_result, &result);
  url = gst_fal_client_upload_sample_finish (client, wait_result (&result),
      &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  fail_unless (g_str_has_suffix (url, ".jpeg"), "%s", url);
  g_object_unref (result);
  g_free (url);
  stored = stored_file (1);
  fail_unless (stored != NULL);
  data = g_bytes_get_data (stored, NULL);
  fail_unless (data[0] == 0xff && data[1] == 0xd8);
  g_bytes_unref (stored);

  url = gst_fal_client_upload_sample (client, frame, GST_FAL_IMAGE_FORMAT_PNG,
      0, 0, NULL, &error);
  fail_unless (url != NULL, "%s", error ? error->message : "");
  fail_unless (strstr (mock->last_initiate_body,
          "\"content_type\":\"image/png\"") != NULL);
  stored = stored_file (2);
  fail_unless (stored != NULL);
  fail_unless (!memcmp (g_bytes_get_data (stored, NULL), "\x89PNG", 4));
  g_bytes_unref (stored);
  g_free (url);
  fail_unless_equals_int (count_requests ("PUT /up/", TRUE), 0);

  gst_sample_unref (frame);
  g_object_unref (client);
}

GST_END_TEST;

GST_START_TEST (test_download_data_uri_and_errors)
{
  GstFalClient *client = make_client ();
  GAsyncResult *result = NULL;
  GCancellable *cancellable;
  GError *error = NULL;
  gchar *content_type = NULL, *url;
  GBytes *bytes;

  /* data: URIs need no network */
  gst_fal_client_download_async (client, "data:text/plain;base64,aGVsbG8=",
      NULL, store_result, &result);
  bytes = gst_fal_client_download_finish (client, wait_result (&result),
      &content_type, &error);
  fail_unless (bytes != NULL);
  fail_unless_equals_int (g_bytes_get_size (bytes), 5);
  fail_unless_equals_string (content_type, "text/plain");
  g_bytes_unref (bytes);
  g_clear_pointer (&content_type, g_free);
  g_clear_object (&result);
  fail_unless_equals_int (mock->path_log->len, 0);

  /* 404 */
  url = g_strdup_printf ("%sfiles/99/none.png", mock->url);
  bytes = gst_fal_client_download (client, url, &content_type, NULL, &error);
  fail_unless (bytes == NULL);
  fail_unless (content_type == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_NOT_FOUND),
      "%s", error->message);
  fail_unless_equals_int (gst_fal_error_get_http_status (error), 404);
  g_clear_error (&error);
  fail_unless_equals_int (count_requests ("GET /files/", TRUE), 0);
  g_free (url);

  /* cancelled before it starts */
  cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  bytes = pattern_bytes (10);
  url = gst_fal_client_upload_bytes (client, bytes, NULL, NULL, cancellable,
      &error);
  fail_unless (url == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED),
      "%s", error->message);
  g_clear_error (&error);
  g_bytes_unref (bytes);
  g_object_unref (cancellable);

  g_object_unref (client);
}

GST_END_TEST;

#ifdef HAVE_FAL_SERVER
/* The same flows against the project's own server, which requires a key on
 * its API but none on the upload URLs and files. */
GST_START_TEST (test_local_server_round_trip)
{
  GstFalServer *server = gst_fal_server_new ();
  GstFalClient *client;
  GAsyncResult *result = NULL;
  GError *error = NULL;
  GBytes *data, *downloaded;
  gchar *url, *content_type = NULL;
  gsize sizes[] = { 1000, 100 * 1024 };
  guint i;

  g_object_set (server, "key", "server-key", NULL);
  fail_unless (gst_fal_server_start (server, &error), "%s",
      error ? error->message : "");
  client = gst_fal_client_new_for_url (gst_fal_server_get_url (server));
  g_object_set (client, "key", "server-key", NULL);

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    data = pattern_bytes (sizes[i]);
    result = NULL;
    /* the second one goes in 7 parts */
    gst_fal_client_upload_bytes_parts_async (client, data, "image/webp",
        "pic.webp", NULL, 64 * 1024, 16 * 1024, NULL, store_result, &result);
    url = gst_fal_client_upload_bytes_finish (client, wait_result (&result),
        &error);
    fail_unless (url != NULL, "%s", error ? error->message : "");
    g_object_unref (result);

    downloaded = gst_fal_client_download (client, url, &content_type, NULL,
        &error);
    fail_unless (downloaded != NULL, "%s", error ? error->message : "");
    fail_unless (g_bytes_equal (downloaded, data));
    fail_unless_equals_string (content_type, "image/webp");
    g_bytes_unref (downloaded);
    g_clear_pointer (&content_type, g_free);
    g_free (url);
    g_bytes_unref (data);
  }

  g_object_unref (client);

  /* without the key the server refuses to initiate */
  client = gst_fal_client_new_for_url (gst_fal_server_get_url (server));
  data = pattern_bytes (10);
  url = gst_fal_client_upload_bytes (client, data, NULL, NULL, NULL, &error);
  fail_unless (url == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_UNAUTHORIZED), "%s", error->message);
  g_clear_error (&error);
  g_bytes_unref (data);
  g_object_unref (client);

  gst_fal_server_stop (server);
  g_object_unref (server);
}

GST_END_TEST;
#endif

static Suite *
upload_suite (void)
{
  Suite *s = suite_create ("falupload");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, mock_setup, mock_teardown);
  tcase_add_test (tc, test_upload_single_and_download);
  tcase_add_test (tc, test_upload_multipart);
  tcase_add_test (tc, test_upload_multipart_without_etag);
  tcase_add_test (tc, test_upload_file);
  tcase_add_test (tc, test_upload_sample);
  tcase_add_test (tc, test_download_data_uri_and_errors);
#ifdef HAVE_FAL_SERVER
  tcase_add_test (tc, test_local_server_round_trip);
#endif
  return s;
}

GST_CHECK_MAIN (upload);
