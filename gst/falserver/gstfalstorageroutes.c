/* gst-fal server: the storage, CDN and file routes (fal-protocol §6).
 *
 * /rest/storage/upload/initiate[-multipart] (with the key) reserves a file
 * and answers its upload URL; /storage/… takes the bytes at that URL (no
 * key); /cdn/… is the v3 CDN (with a CDN token); /files/… serves the files
 * (public) and takes the v3 multipart parts.
 */
#include <string.h>
#include "gstfalstorageroutes-private.h"

static GBytes *
request_bytes (SoupServerMessage * msg)
{
  return soup_message_body_flatten (soup_server_message_get_request_body (msg));
}

static const gchar *
request_content_type (SoupServerMessage * msg)
{
  return soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);
}

static gint64
request_lifecycle (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *value = soup_message_headers_get_one (headers,
      "X-Fal-Object-Lifecycle-Preference");

  if (!value)
    value = soup_message_headers_get_one (headers, "X-Fal-Object-Lifecycle");
  return gst_fal_storage_parse_lifecycle (value);
}

/* POST /rest/storage/upload/initiate[-multipart] */
void
gst_fal_storage_routes_initiate (GstFalServer * self, SoupServerMessage * msg,
    gboolean multipart)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = gst_fal_server_parse_body (msg, &error);
  g_autofree gchar *base = gst_fal_server_base_url (self, msg);
  g_autofree gchar *path = NULL;
  g_autofree gchar *upload_url = NULL;
  g_autofree gchar *file_url = NULL;
  const gchar *content_type = NULL, *file_name = NULL;
  JsonObject *object;
  gchar *slash;

  if (!body || !JSON_NODE_HOLDS_OBJECT (body)) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST, "Invalid JSON body",
        "bad_request");
    return;
  }
  content_type = json_object_get_string_member_with_default
      (json_node_get_object (body), "content_type", NULL);
  file_name = json_object_get_string_member_with_default
      (json_node_get_object (body), "file_name", NULL);
  path = gst_fal_storage_reserve (gst_fal_server_get_storage (self), content_type, file_name,
      request_lifecycle (msg));
  file_url = g_strdup_printf ("%s/files/%s", base, path);
  slash = strchr (path, '/');
  *slash = '\0';
  upload_url = g_strdup_printf ("%s/storage/%s/%s", base,
      multipart ? "multipart" : "upload", path);

  object = json_object_new ();
  json_object_set_string_member (object, "upload_url", upload_url);
  json_object_set_string_member (object, "file_url", file_url);
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

static void
respond_storage_error (SoupServerMessage * msg, GError * error)
{
  gst_fal_server_respond_detail (msg, g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_NOT_FOUND) ? SOUP_STATUS_NOT_FOUND :
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ?
      SOUP_STATUS_BAD_REQUEST : SOUP_STATUS_INTERNAL_SERVER_ERROR,
      error->message, NULL);
}

static void
handle_part (GstFalServer * self, SoupServerMessage * msg, const gchar * id,
    const gchar * part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = request_bytes (msg);
  g_autofree gchar *etag = NULL;
  g_autofree gchar *quoted = NULL;
  JsonObject *object;
  guint64 number;

  if (!g_ascii_string_to_unsigned (part, 10, 1, 10000, &number, NULL)) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST, "Invalid part number", NULL);
    return;
  }
  etag = gst_fal_storage_write_part (gst_fal_server_get_storage (self), id, number, data, &error);
  if (!etag) {
    respond_storage_error (msg, error);
    return;
  }
  quoted = g_strdup_printf ("\"%s\"", etag);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "ETag", quoted);
  object = json_object_new ();
  json_object_set_int_member (object, "partNumber", number);
  json_object_set_string_member (object, "etag", etag);
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

static void
handle_complete (GstFalServer * self, SoupServerMessage * msg,
    const gchar * id, gboolean v3)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = gst_fal_server_parse_body (msg, &error);
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GPtrArray) etags = g_ptr_array_new ();
  g_autofree gchar *path = NULL;
  g_autofree gchar *base = NULL;
  g_autofree gchar *url = NULL;
  JsonArray *parts;
  JsonObject *object;
  guint i;

  if (!body || !JSON_NODE_HOLDS_OBJECT (body)
      || !json_object_has_member (json_node_get_object (body), "parts")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object
              (body), "parts"))) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST, "Expected {\"parts\": [...]}",
        NULL);
    return;
  }
  parts = json_object_get_array_member (json_node_get_object (body), "parts");
  for (i = 0; i < json_array_get_length (parts); i++) {
    JsonNode *element = json_array_get_element (parts, i);
    guint number;

    if (!JSON_NODE_HOLDS_OBJECT (element)) {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST, "Invalid part", NULL);
      return;
    }
    object = json_node_get_object (element);
    number = json_object_get_int_member_with_default (object, "partNumber", 0);
    g_array_append_val (numbers, number);
    g_ptr_array_add (etags, (gpointer)
        json_object_get_string_member_with_default (object, "etag", NULL));
  }
  if (!gst_fal_storage_complete_multipart (gst_fal_server_get_storage (self), id, numbers, etags,
          &error)) {
    respond_storage_error (msg, error);
    return;
  }
  path = gst_fal_storage_get_path (gst_fal_server_get_storage (self), id);
  base = gst_fal_server_base_url (self, msg);
  url = g_strdup_printf ("%s/files/%s", base, path);
  object = json_object_new ();
  json_object_set_string_member (object, v3 ? "access_url" : "file_url", url);
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

/* PUT /storage/upload/ID, PUT|POST /storage/multipart/ID/(N|complete) */
static void
route_storage (GstFalServer * self, SoupServerMessage * msg, const gchar * rest)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) segments = g_strsplit (rest, "/", -1);
  guint n = g_strv_length (segments);

  if (n == 2 && !strcmp (segments[0], "upload") && method == SOUP_METHOD_PUT) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) data = request_bytes (msg);

    if (!gst_fal_storage_write (gst_fal_server_get_storage (self), segments[1], data,
            request_content_type (msg), &error))
      respond_storage_error (msg, error);
    else
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  } else if (n == 3 && !strcmp (segments[0], "multipart")
      && !strcmp (segments[2], "complete") && method == SOUP_METHOD_POST) {
    handle_complete (self, msg, segments[1], FALSE);
  } else if (n == 3 && !strcmp (segments[0], "multipart")
      && method == SOUP_METHOD_PUT) {
    handle_part (self, msg, segments[1], segments[2]);
  } else {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
  }
}

/* POST /cdn/files/upload and /cdn/files/upload/multipart (v3 CDN) */
static void
route_cdn (GstFalServer * self, SoupServerMessage * msg, const gchar * rest)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *file_name = soup_message_headers_get_one (headers,
      "X-Fal-File-Name");
  g_autofree gchar *base = gst_fal_server_base_url (self, msg);
  g_autofree gchar *path = NULL;
  g_autofree gchar *url = NULL;
  JsonObject *object;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed",
        NULL);
    return;
  }
  if (!strcmp (rest, "files/upload")) {
    g_autoptr (GBytes) data = request_bytes (msg);

    path = gst_fal_storage_put (gst_fal_server_get_storage (self), data,
        request_content_type (msg), file_name, request_lifecycle (msg));
    if (!path) {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
          "Cannot store the file", "internal_error");
      return;
    }
  } else if (!strcmp (rest, "files/upload/multipart")) {
    path = gst_fal_storage_reserve (gst_fal_server_get_storage (self), request_content_type (msg),
        file_name, request_lifecycle (msg));
  } else {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
    return;
  }
  url = g_strdup_printf ("%s/files/%s", base, path);
  object = json_object_new ();
  json_object_set_string_member (object, "access_url", url);
  if (g_str_has_suffix (rest, "/multipart")) {
    *strchr (path, '/') = '\0';
    json_object_set_string_member (object, "uploadId", path);
  }
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

/* GET|HEAD /files/ID/NAME; PUT|POST /files/ID/NAME/multipart/UID/(N|complete) */
static void
route_files (GstFalServer * self, SoupServerMessage * msg, const gchar * rest)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) segments = g_strsplit (rest, "/", -1);
  guint n = g_strv_length (segments);

  if (n == 2 && (method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD)) {
    g_autofree gchar *content_type = NULL;
    g_autofree gchar *path = g_uri_unescape_string (rest, NULL);
    GBytes *data = path ? gst_fal_storage_read (gst_fal_server_get_storage (self), path,
        &content_type) : NULL;
    SoupMessageBody *body;

    if (!data) {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "File not found", NULL);
      return;
    }
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_message_headers_set_content_type
        (soup_server_message_get_response_headers (msg), content_type, NULL);
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Accept-Ranges", "bytes");
    body = soup_server_message_get_response_body (msg);
    soup_message_body_append_bytes (body, data);
    g_bytes_unref (data);
  } else if (n == 5 && !strcmp (segments[2], "multipart")
      && !strcmp (segments[3], segments[0])) {
    if (!strcmp (segments[4], "complete") && method == SOUP_METHOD_POST)
      handle_complete (self, msg, segments[0], TRUE);
    else if (method == SOUP_METHOD_PUT)
      handle_part (self, msg, segments[0], segments[4]);
    else
      gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
          "Method not allowed", NULL);
  } else {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "File not found", NULL);
  }
}

gboolean
gst_fal_storage_routes_match (const gchar * path)
{
  return g_str_has_prefix (path, "/storage/")
      || g_str_has_prefix (path, "/cdn/") || g_str_has_prefix (path, "/files/");
}

void
gst_fal_storage_routes_dispatch (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path)
{
  if (g_str_has_prefix (path, "/storage/"))
    route_storage (self, msg, path + strlen ("/storage/"));
  else if (g_str_has_prefix (path, "/cdn/"))
    route_cdn (self, msg, path + strlen ("/cdn/"));
  else
    route_files (self, msg, path + strlen ("/files/"));
}
