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

/* The request carries the server's key itself (Key K or Bearer K), not a
 * token: only such uploads may be served as HTML. No key, no key holder. */
static gboolean
request_has_key (GstFalServer * self, SoupServerMessage * msg)
{
  return gst_fal_auth_carries_key (gst_fal_server_get_auth (self),
      soup_message_headers_get_one (soup_server_message_get_request_headers
          (msg), "Authorization"));
}

static GstFalStorageFlags
request_flags (GstFalServer * self, SoupServerMessage * msg, gboolean multipart)
{
  return (multipart ? GST_FAL_STORAGE_MULTIPART : 0)
      | (request_has_key (self, msg) ? GST_FAL_STORAGE_TRUSTED : 0);
}

/* Members of the client's JSON, 0 or NULL when of another type. */
static gint64
member_int (JsonObject * object, const gchar * name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node && json_node_get_value_type (node) == G_TYPE_INT64 ?
      json_node_get_int (node) : 0;
}

static const gchar *
member_string (JsonObject * object, const gchar * name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node && json_node_get_value_type (node) == G_TYPE_STRING ?
      json_node_get_string (node) : NULL;
}

/* POST /rest/storage/upload/initiate[-multipart]: the upload URL holds the
 * upload id, never the file's id. */
void
gst_fal_storage_routes_initiate (GstFalServer * self, SoupServerMessage * msg,
    gboolean multipart)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = gst_fal_server_parse_body (msg, &error);
  g_autofree gchar *base = gst_fal_server_base_url (self, msg);
  g_autofree gchar *path = NULL;
  g_autofree gchar *upload_id = NULL;
  g_autofree gchar *upload_url = NULL;
  g_autofree gchar *file_url = NULL;
  const gchar *content_type = NULL, *file_name = NULL;
  JsonObject *object;

  if (!body) {
    gst_fal_server_respond_invalid_body (msg, error);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (body)) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
        "Invalid JSON body", "bad_request");
    return;
  }
  object = json_node_get_object (body);
  content_type = member_string (object, "content_type");
  file_name = member_string (object, "file_name");
  path = gst_fal_storage_reserve (gst_fal_server_get_storage (self),
      content_type, file_name, request_lifecycle (msg),
      request_flags (self, msg, multipart), &upload_id);
  file_url = g_strdup_printf ("%s/files/%s", base, path);
  upload_url = g_strdup_printf ("%s/storage/%s/%s", base,
      multipart ? "multipart" : "upload", upload_id);

  object = json_object_new ();
  json_object_set_string_member (object, "upload_url", upload_url);
  json_object_set_string_member (object, "file_url", file_url);
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

static guint
storage_error_status (GError * error)
{
  if (error->domain != G_IO_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch (error->code) {
    case G_IO_ERROR_PERMISSION_DENIED:
      return SOUP_STATUS_FORBIDDEN;
    case G_IO_ERROR_EXISTS:
      return SOUP_STATUS_CONFLICT;
    case G_IO_ERROR_NO_SPACE:
      return SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
    case G_IO_ERROR_INVALID_ARGUMENT:
      return SOUP_STATUS_BAD_REQUEST;
    default:
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  }
}

static void
respond_storage_error (SoupServerMessage * msg, GError * error)
{
  guint status = storage_error_status (error);

  if (status == SOUP_STATUS_INTERNAL_SERVER_ERROR)
    g_warning ("Storage: %s", error->message);
  gst_fal_server_respond_detail (msg, status,
      status == SOUP_STATUS_INTERNAL_SERVER_ERROR ? "Cannot store the file" :
      error->message, NULL);
}

static void
handle_part (GstFalServer * self, SoupServerMessage * msg,
    const gchar * upload_id, const gchar * part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = request_bytes (msg);
  g_autofree gchar *etag = NULL;
  g_autofree gchar *quoted = NULL;
  JsonObject *object;
  guint64 number;

  if (!g_ascii_string_to_unsigned (part, 10, 1, GST_FAL_STORAGE_MAX_PARTS,
          &number, NULL)) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
        "Invalid part number", NULL);
    return;
  }
  etag = gst_fal_storage_write_part (gst_fal_server_get_storage (self),
      upload_id, number, data, &error);
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
    const gchar * upload_id, gboolean v3)
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

  if (!body) {
    gst_fal_server_respond_invalid_body (msg, error);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (body)
      || !json_object_has_member (json_node_get_object (body), "parts")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object
              (body), "parts"))) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
        "Expected {\"parts\": [...]}", NULL);
    return;
  }
  parts = json_object_get_array_member (json_node_get_object (body), "parts");
  if (json_array_get_length (parts) > GST_FAL_STORAGE_MAX_PARTS) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
        "Too many parts", NULL);
    return;
  }
  for (i = 0; i < json_array_get_length (parts); i++) {
    JsonNode *element = json_array_get_element (parts, i);
    guint number;

    if (!JSON_NODE_HOLDS_OBJECT (element)) {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
          "Invalid part", NULL);
      return;
    }
    object = json_node_get_object (element);
    number = CLAMP (member_int (object, "partNumber"), 0, G_MAXUINT);
    g_array_append_val (numbers, number);
    g_ptr_array_add (etags, (gpointer) member_string (object, "etag"));
  }
  path = gst_fal_storage_complete_multipart (gst_fal_server_get_storage
      (self), upload_id, numbers, etags, &error);
  if (!path) {
    respond_storage_error (msg, error);
    return;
  }
  base = gst_fal_server_base_url (self, msg);
  url = g_strdup_printf ("%s/files/%s", base, path);
  object = json_object_new ();
  json_object_set_string_member (object, v3 ? "access_url" : "file_url", url);
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

/* PUT /storage/upload/UPLOAD_ID,
 * PUT|POST /storage/multipart/UPLOAD_ID/(N|complete) */
static void
route_storage (GstFalServer * self, SoupServerMessage * msg, const gchar * rest)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) segments = g_strsplit (rest, "/", -1);
  guint n = g_strv_length (segments);

  if (n == 2 && !strcmp (segments[0], "upload") && method == SOUP_METHOD_PUT) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) data = request_bytes (msg);

    if (!gst_fal_storage_write (gst_fal_server_get_storage (self),
            segments[1], data, request_content_type (msg), &error))
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
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found",
        NULL);
  }
}

/* POST /cdn/files/upload and /cdn/files/upload/multipart (v3 CDN); the
 * uploadId of a multipart upload is its upload id. */
static void
route_cdn (GstFalServer * self, SoupServerMessage * msg, const gchar * rest)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *file_name = soup_message_headers_get_one (headers,
      "X-Fal-File-Name");
  GstFalStorage *storage = gst_fal_server_get_storage (self);
  g_autofree gchar *base = gst_fal_server_base_url (self, msg);
  g_autofree gchar *path = NULL;
  g_autofree gchar *upload_id = NULL;
  g_autofree gchar *url = NULL;
  JsonObject *object;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method not allowed", NULL);
    return;
  }
  if (!strcmp (rest, "files/upload")) {
    g_autoptr (GBytes) data = request_bytes (msg);

    path = gst_fal_storage_put_full (storage, data, request_content_type (msg),
        file_name, request_lifecycle (msg), request_flags (self, msg, FALSE));
    if (!path) {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
          "Cannot store the file", "internal_error");
      return;
    }
  } else if (!strcmp (rest, "files/upload/multipart")) {
    path = gst_fal_storage_reserve (storage, request_content_type (msg),
        file_name, request_lifecycle (msg), request_flags (self, msg, TRUE),
        &upload_id);
  } else {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found",
        NULL);
    return;
  }
  url = g_strdup_printf ("%s/files/%s", base, path);
  object = json_object_new ();
  json_object_set_string_member (object, "access_url", url);
  if (upload_id)
    json_object_set_string_member (object, "uploadId", upload_id);
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

/* A stored file: its declared type if safe, nosniff, and for files not from
 * the key holder a sandboxing CSP (the same as GitHub's raw files). */
static void
respond_file (SoupServerMessage * msg, const gchar * name, GBytes * data,
    const gchar * content_type, GstFalStorageFlags flags)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gboolean attachment;
  g_autofree gchar *served = gst_fal_storage_served_type (content_type, flags,
      &attachment);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (headers, "Content-Type", served);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");
  if (!(flags & GST_FAL_STORAGE_TRUSTED))
    soup_message_headers_replace (headers, "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  if (attachment) {
    /* the stored name is [A-Za-z0-9._-]+ */
    g_autofree gchar *value = g_strdup_printf ("attachment; filename=\"%s\"",
        name);

    soup_message_headers_replace (headers, "Content-Disposition", value);
  }
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
      data);
}

/* GET|HEAD /files/ID/NAME;
 * PUT|POST /files/ID/NAME/multipart/UPLOAD_ID/(N|complete) */
static void
route_files (GstFalServer * self, SoupServerMessage * msg, const gchar * rest)
{
  const gchar *method = soup_server_message_get_method (msg);
  GstFalStorage *storage = gst_fal_server_get_storage (self);
  g_auto (GStrv) segments = g_strsplit (rest, "/", -1);
  guint n = g_strv_length (segments);

  if (n == 2 && (method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD)) {
    g_autofree gchar *content_type = NULL;
    g_autofree gchar *path = g_uri_unescape_string (rest, NULL);
    GstFalStorageFlags flags = 0;
    g_autoptr (GBytes) data = path ? gst_fal_storage_read_full (storage, path,
        &content_type, &flags) : NULL;

    if (!data)
      gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND,
          "File not found", NULL);
    else
      respond_file (msg, strchr (path, '/') + 1, data, content_type, flags);
  } else if (n == 5 && !strcmp (segments[2], "multipart")) {
    g_autofree gchar *path = g_strdup_printf ("%s/%s", segments[0],
        segments[1]);
    g_autofree gchar *file = g_uri_unescape_string (path, NULL);
    g_autofree gchar *bound = gst_fal_storage_upload_path (storage,
        segments[3]);

    if (!bound || !file || strcmp (bound, file))
      gst_fal_server_respond_detail (msg, SOUP_STATUS_FORBIDDEN,
          "Invalid or expired upload URL", NULL);
    else if (!strcmp (segments[4], "complete") && method == SOUP_METHOD_POST)
      handle_complete (self, msg, segments[3], TRUE);
    else if (method == SOUP_METHOD_PUT)
      handle_part (self, msg, segments[3], segments[4]);
    else
      gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
          "Method not allowed", NULL);
  } else {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND,
        "File not found", NULL);
  }
}

gboolean
gst_fal_storage_routes_check_upload (GstFalServer * self,
    SoupServerMessage * msg, const gchar * path)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  gboolean has_body =
      soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CHUNKED
      || soup_message_headers_get_content_length (headers) > 0;
  g_auto (GStrv) segments = NULL;
  g_autofree gchar *file = NULL;
  g_autofree gchar *bound = NULL;
  const gchar *upload_id = NULL;
  guint n;

  /* the upload routes of route_storage() and route_files() */
  if (g_str_has_prefix (path, "/storage/")) {
    segments = g_strsplit (path + strlen ("/storage/"), "/", -1);
    n = g_strv_length (segments);
    if ((n == 2 && !strcmp (segments[0], "upload"))
        || (n == 3 && !strcmp (segments[0], "multipart")))
      upload_id = segments[1];
  } else if (g_str_has_prefix (path, "/files/")) {
    segments = g_strsplit (path + strlen ("/files/"), "/", -1);
    n = g_strv_length (segments);
    if (n == 5 && !strcmp (segments[2], "multipart")) {
      g_autofree gchar *escaped = g_strdup_printf ("%s/%s", segments[0],
          segments[1]);

      file = g_uri_unescape_string (escaped, NULL);
      upload_id = segments[3];
    }
  }
  if (!upload_id) {
    if (!has_body)
      return TRUE;
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found",
        NULL);
    return FALSE;
  }
  bound = gst_fal_storage_upload_path (gst_fal_server_get_storage (self),
      upload_id);
  if (bound && (g_str_has_prefix (path, "/storage/") || (file
              && !strcmp (bound, file))))
    return TRUE;
  gst_fal_server_respond_detail (msg, SOUP_STATUS_FORBIDDEN,
      "Invalid or expired upload URL", NULL);
  return FALSE;
}

void
gst_fal_storage_routes_dispatch (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  if (g_str_has_prefix (path, "/storage/"))
    route_storage (self, msg, path + strlen ("/storage/"));
  else if (g_str_has_prefix (path, "/cdn/"))
    route_cdn (self, msg, path + strlen ("/cdn/"));
  else
    route_files (self, msg, path + strlen ("/files/"));
}
