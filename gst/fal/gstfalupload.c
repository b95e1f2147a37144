/* gst-fal: uploads to the fal CDN, downloads and data URIs
 *
 * The storage flow is the one of fal's JavaScript client (fal-protocol.md
 * §6.2): initiate (with the key) then PUT to the returned URL (without it);
 * above the threshold, initiate-multipart, sequential parts, complete.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalupload-private.h"
#include "gstfalframe.h"
#include "gstfalhttp-private.h"

#include <string.h>
#include "gstfaljson-private.h"

#define PUT_TIMEOUT 300.0

/**
 * gst_fal_image_format_get_type:
 *
 * Returns: the #GType of #GstFalImageFormat
 */
G_DEFINE_ENUM_TYPE (GstFalImageFormat, gst_fal_image_format,
    G_DEFINE_ENUM_VALUE (GST_FAL_IMAGE_FORMAT_JPEG, "jpeg"),
    G_DEFINE_ENUM_VALUE (GST_FAL_IMAGE_FORMAT_PNG, "png"));

/* Data URIs */

/**
 * gst_fal_encode_data_uri:
 * @data: the bytes
 * @content_type: (nullable): their MIME type (default
 *   application/octet-stream)
 *
 * Returns: (transfer full): `data:<content_type>;base64,<data>`
 */
gchar *
gst_fal_encode_data_uri (GBytes * data, const gchar * content_type)
{
  gsize size;
  const guchar *bytes;
  gchar *b64, *uri;

  g_return_val_if_fail (data != NULL, NULL);

  bytes = g_bytes_get_data (data, &size);
  b64 = g_base64_encode (bytes, size);
  uri = g_strdup_printf ("data:%s;base64,%s",
      content_type ? content_type : "application/octet-stream", b64);
  g_free (b64);
  return uri;
}

static gboolean
is_base64_text (const gchar * text)
{
  const gchar *p;
  gboolean padding = FALSE;

  for (p = text; *p; p++) {
    if (g_ascii_isspace (*p))
      continue;
    if (*p == '=') {
      padding = TRUE;
      continue;
    }
    if (padding || !(g_ascii_isalnum (*p) || *p == '+' || *p == '/'))
      return FALSE;
  }
  return TRUE;
}

/**
 * gst_fal_decode_data_uri:
 * @uri: a `data:` URI, base64 or percent-encoded
 * @content_type: (out) (optional) (transfer full): its media type
 *   (text/plain;charset=US-ASCII when the URI gives none)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the bytes, or %NULL when @uri is no valid data URI
 */
GBytes *
gst_fal_decode_data_uri (const gchar * uri, gchar ** content_type,
    GError ** error)
{
  g_auto (GStrv) params = NULL;
  g_autofree gchar *header = NULL;
  g_autofree gchar *media_type = NULL;
  const gchar *comma;
  gboolean base64 = FALSE;
  guint n_params;
  GBytes *bytes;

  g_return_val_if_fail (uri != NULL, NULL);

  if (g_ascii_strncasecmp (uri, "data:", 5) != 0
      || (comma = strchr (uri + 5, ',')) == NULL) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
        "Not a data URI: it must look like data:[<type>][;base64],<data>");
    return NULL;
  }

  header = g_strndup (uri + 5, comma - (uri + 5));
  params = g_strsplit (header, ";", -1);
  n_params = g_strv_length (params);
  if (n_params > 0 && g_ascii_strcasecmp (params[n_params - 1], "base64") == 0) {
    base64 = TRUE;
    g_clear_pointer (&params[n_params - 1], g_free);
  }
  media_type = g_strjoinv (";", params);
  if (*media_type == '\0' || media_type[0] == ';') {
    gchar *with_default = g_strconcat ("text/plain", *media_type == '\0' ?
        ";charset=US-ASCII" : media_type, NULL);

    g_free (media_type);
    media_type = with_default;
  }

  if (base64) {
    g_autofree gchar *text = g_uri_unescape_string (comma + 1, NULL);
    guchar *decoded;
    gsize len;

    if (text == NULL || !is_base64_text (text)) {
      g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
          "The data URI does not hold valid base64");
      return NULL;
    }
    decoded = g_base64_decode (text, &len);
    bytes = g_bytes_new_take (decoded, len);
  } else {
    GError *unescape_error = NULL;

    bytes = g_uri_unescape_bytes (comma + 1, -1, NULL, &unescape_error);
    if (bytes == NULL) {
      g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
          "The data URI holds invalid percent-encoding: %s",
          unescape_error->message);
      g_error_free (unescape_error);
      return NULL;
    }
  }

  if (content_type)
    *content_type = g_steal_pointer (&media_type);
  return bytes;
}

/* The deadline of an upload or a download: the options' timeout, else the
 * client's, counted from the start of the call (so that reading a file or
 * encoding a sample count too). */
typedef struct
{
  gdouble timeout;              /* the user's timeout, 0 = none */
  gint64 end;                   /* when it passes (monotonic µs), 0 = none */
} CallDeadline;

static void
call_deadline_init (CallDeadline * deadline, GstFalClient * client,
    GstFalOptions * options)
{
  deadline->timeout = gst_fal_client_call_deadline (client, options);
  deadline->end = deadline->timeout > 0 ? g_get_monotonic_time () +
      (gint64) (deadline->timeout * G_USEC_PER_SEC) : 0;
}

/* What bounds an upload or a download: its deadline and the caller's
 * cancellable, watched together. Every exchange of the call uses @internal,
 * which an abort cancels; the exchange then ends and the call fails with
 * the abort's error. */
typedef struct
{
  CallDeadline deadline;
  gchar *what;                  /* "upload of x.png", for the messages */
  GCancellable *internal;
  GstFalAbortWatch watch;
  GstFalAbortReason abort;
  gboolean finished;
} Bound;

/* Starts watching, for what is left of @deadline (a passed one fires at
 * once). */
static void
bound_start (Bound * bound, GTask * task, const CallDeadline * deadline,
    const gchar * what, GstFalAbortFunc abort)
{
  gdouble left = 0;

  bound->deadline = *deadline;
  bound->what = g_strdup (what);
  bound->internal = g_cancellable_new ();
  if (deadline->end != 0)
    left = MAX ((deadline->end - g_get_monotonic_time ()) /
        (gdouble) G_USEC_PER_SEC, 0.001);
  gst_fal_abort_watch_start (&bound->watch, task, left,
      g_task_get_cancellable (task), abort);
}

static void
bound_abort (Bound * bound, GstFalAbortReason reason)
{
  if (bound->finished || bound->abort != GST_FAL_ABORT_NONE)
    return;
  bound->abort = reason;
  g_cancellable_cancel (bound->internal);
}

static void
bound_clear (Bound * bound)
{
  gst_fal_abort_watch_stop (&bound->watch);
  g_clear_object (&bound->internal);
  g_free (bound->what);
}

/* Ends the call with @error (taken), or with the abort's error when it was
 * aborted; @step names the exchange in flight. */
static void
bound_return_error (Bound * bound, GTask * task, GError * error,
    const gchar * step)
{
  bound->finished = TRUE;
  gst_fal_abort_watch_stop (&bound->watch);
  if (bound->abort == GST_FAL_ABORT_TIMEOUT) {
    g_error_free (error);
    error = g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT,
        "%s: no answer within %g s%s%s%s", bound->what,
        bound->deadline.timeout,
        step ? " (" : "", step ? step : "", step ? ")" : "");
  } else if (bound->abort == GST_FAL_ABORT_CANCELLED) {
    g_error_free (error);
    error = g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED,
        "%s: cancelled", bound->what);
  }
  g_task_return_error (task, error);
}

static void
bound_return_pointer (Bound * bound, GTask * task, gpointer result,
    GDestroyNotify result_free)
{
  bound->finished = TRUE;
  gst_fal_abort_watch_stop (&bound->watch);
  g_task_return_pointer (task, result, result_free);
}

/* Uploads of bytes */

typedef struct
{
  Bound bound;
  GstFalClient *client;
  GBytes *data;
  gchar *content_type;
  gchar *file_name;
  gsize threshold;
  gsize chunk_size;

  /* the exchange in flight, for the messages */
  gchar *step;
  gchar *file_url;
  /* multipart: upload_url split into origin+path and "?query" (or "") */
  gchar *part_base;
  gchar *part_query;
  guint part;                   /* 1-based number of the part in flight */
  guint n_parts;
  JsonArray *parts;
} UploadData;

static void
upload_data_free (UploadData * data)
{
  bound_clear (&data->bound);
  g_object_unref (data->client);
  g_bytes_unref (data->data);
  g_free (data->content_type);
  g_free (data->file_name);
  g_free (data->step);
  g_free (data->file_url);
  g_free (data->part_base);
  g_free (data->part_query);
  g_clear_pointer (&data->parts, json_array_unref);
  g_free (data);
}

/* "<ms since epoch>.<subtype>", as fal's JS client names anonymous blobs. */
static gchar *
default_file_name (const gchar * content_type)
{
  const gchar *slash = strchr (content_type, '/');
  gsize ext_len;

  if (slash == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT ".bin",
        g_get_real_time () / 1000);
  slash++;
  ext_len = strcspn (slash, "-;+ ");
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%.*s",
      g_get_real_time () / 1000, (int) ext_len, ext_len ? slash : "bin");
}

static GBytes *
json_body (JsonNode * node)
{
  gsize len;
  gchar *text = gst_fal_json_to_string (node, FALSE);

  len = strlen (text);
  return g_bytes_new_take (text, len);
}

/* Sends one exchange of the upload; @step names it in the messages. */
static void
upload_send (GTask * task, const gchar * step, const gchar * method,
    const gchar * url, GBytes * body, const gchar * content_type,
    GstFalAuth auth, gdouble timeout, GAsyncReadyCallback callback)
{
  UploadData *data = g_task_get_task_data (task);
  GstFalHttpRequest request = {
    .method = method,
    .url = url,
    .body = body,
    .content_type = content_type,
    .auth = auth,
    .retry = GST_FAL_RETRY_IDEMPOTENT,
    .timeout = timeout,
  };

  g_free (data->step);
  data->step = g_strdup (step);
  gst_fal_client_http_async (data->client, &request, data->bound.internal,
      callback, task);
}

/* Fails the upload with @error (taken), or with the abort's error. */
static void
upload_fail (GTask * task, GError * error)
{
  UploadData *data = g_task_get_task_data (task);

  if (data->bound.abort == GST_FAL_ABORT_NONE)
    g_prefix_error (&error, "Upload failed (%s): ", data->step);
  bound_return_error (&data->bound, task, error, data->step);
  g_object_unref (task);
}

static void
upload_succeed (GTask * task)
{
  UploadData *data = g_task_get_task_data (task);

  bound_return_pointer (&data->bound, task, g_strdup (data->file_url), g_free);
  g_object_unref (task);
}

static void
upload_abort (GTask * task, GstFalAbortReason reason)
{
  UploadData *data = g_task_get_task_data (task);

  bound_abort (&data->bound, reason);
}

/* The response as a JSON object, or NULL when the upload failed (@task is
 * then returned and unreferenced). */
static JsonObject *
response_object (GTask * task, GAsyncResult * result,
    GstFalHttpResponse ** response_out)
{
  UploadData *data = g_task_get_task_data (task);
  GstFalHttpResponse *response;
  GError *error = NULL;
  JsonNode *node;
  JsonObject *object;

  response = gst_fal_client_http_finish (data->client, result, &error);
  if (response == NULL) {
    upload_fail (task, error);
    return NULL;
  }
  node = gst_fal_http_response_parse_json (response, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    if (response_out) {
      /* the caller can still read the headers */
      *response_out = response;
      if (node)
        json_node_unref (node);
      return json_object_new ();
    }
    upload_fail (task, g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL,
            "the server's answer is not a JSON object"));
    gst_fal_http_response_free (response);
    if (node)
      json_node_unref (node);
    return NULL;
  }

  object = json_object_ref (json_node_get_object (node));
  json_node_unref (node);
  if (response_out)
    *response_out = response;
  else
    gst_fal_http_response_free (response);
  return object;
}

static void upload_next_part (GTask * task);

/* the multipart complete, or the single PUT */
static void
last_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  UploadData *data = g_task_get_task_data (task);
  GstFalHttpResponse *response;
  GError *error = NULL;

  response = gst_fal_client_http_finish (data->client, result, &error);
  if (response == NULL) {
    upload_fail (task, error);
    return;
  }
  gst_fal_http_response_free (response);
  upload_succeed (task);
}

static void
part_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  UploadData *data = g_task_get_task_data (task);
  GstFalHttpResponse *response = NULL;
  JsonObject *object, *part;
  const gchar *etag;

  object = response_object (task, result, &response);
  if (object == NULL)
    return;

  etag = json_object_get_string_member_with_default (object, "etag", NULL);
  if (etag == NULL)
    etag = soup_message_headers_get_one (response->headers, "ETag");
  if (etag == NULL || *etag == '\0') {
    upload_fail (task, g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL,
            "no ETag (neither in the body nor in the ETag header)"));
    json_object_unref (object);
    gst_fal_http_response_free (response);
    return;
  }

  part = json_object_new ();
  json_object_set_int_member (part, "partNumber", data->part);
  json_object_set_string_member (part, "etag", etag);
  json_array_add_object_element (data->parts, part);
  json_object_unref (object);
  gst_fal_http_response_free (response);

  data->part++;
  upload_next_part (task);
}

static void
upload_next_part (GTask * task)
{
  UploadData *data = g_task_get_task_data (task);
  gchar *url;

  if (data->part > data->n_parts) {
    JsonObject *object = json_object_new ();
    JsonNode *node;
    GBytes *body;

    json_object_set_array_member (object, "parts",
        json_array_ref (data->parts));
    node = json_node_init_object (json_node_alloc (), object);
    body = json_body (node);
    url = g_strdup_printf ("%s/complete%s", data->part_base, data->part_query);
    upload_send (task, "completing the multipart upload", "POST", url, body,
        "application/json", GST_FAL_AUTH_NONE, 0, last_done);
    g_free (url);
    g_bytes_unref (body);
    json_node_unref (node);
    json_object_unref (object);
  } else {
    gsize size = g_bytes_get_size (data->data);
    gsize offset = (gsize) (data->part - 1) * data->chunk_size;
    GBytes *chunk = g_bytes_new_from_bytes (data->data, offset,
        MIN (data->chunk_size, size - offset));
    g_autofree gchar *step = g_strdup_printf ("part %u of %u", data->part,
        data->n_parts);

    url = g_strdup_printf ("%s/%u%s", data->part_base, data->part,
        data->part_query);
    upload_send (task, step, "PUT", url, chunk, data->content_type,
        GST_FAL_AUTH_NONE, PUT_TIMEOUT, part_done);
    g_free (url);
    g_bytes_unref (chunk);
  }
}

static void
initiate_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  UploadData *data = g_task_get_task_data (task);
  JsonObject *object;
  const gchar *upload_url, *file_url;

  object = response_object (task, result, NULL);
  if (object == NULL)
    return;
  upload_url = json_object_get_string_member_with_default (object,
      "upload_url", NULL);
  file_url = json_object_get_string_member_with_default (object,
      "file_url", NULL);
  if (upload_url == NULL || file_url == NULL) {
    upload_fail (task, g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_PROTOCOL,
            "the storage answer lacks upload_url or file_url"));
    json_object_unref (object);
    return;
  }
  data->file_url = g_strdup (file_url);

  if (data->parts == NULL) {
    upload_send (task, "sending the bytes", "PUT", upload_url, data->data,
        data->content_type, GST_FAL_AUTH_NONE, PUT_TIMEOUT, last_done);
  } else {
    gsize size = g_bytes_get_size (data->data);
    const gchar *query = strchr (upload_url, '?');
    gsize base_len = query ? (gsize) (query - upload_url) : strlen (upload_url);

    data->part_base = g_strndup (upload_url, base_len);
    data->part_query = g_strdup (query ? query : "");
    data->n_parts = (size + data->chunk_size - 1) / data->chunk_size;
    data->part = 1;
    upload_next_part (task);
  }
  json_object_unref (object);
}

/* Every upload: @deadline (taken at the start of the caller's call) bounds
 * all its exchanges together. */
static void
upload_start (GstFalClient * client, GBytes * bytes,
    const gchar * content_type, const gchar * file_name,
    gsize multipart_threshold, gsize chunk_size,
    const CallDeadline * deadline, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  UploadData *data;
  JsonObject *object;
  JsonNode *node;
  GBytes *body;
  gchar *url, *what;
  gboolean multipart;

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_client_upload_bytes_async);
  /* a cancelled upload fails with GST_FAL_ERROR_CANCELLED */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (UploadData, 1);
  data->client = g_object_ref (client);
  data->data = g_bytes_ref (bytes);
  data->content_type = g_strdup (content_type && *content_type ?
      content_type : "application/octet-stream");
  if (file_name && *file_name) {
    data->file_name = g_strdup (file_name);
    what = g_strdup_printf ("upload of %s", file_name);
  } else {
    data->file_name = default_file_name (data->content_type);
    what = g_strdup_printf ("upload of %" G_GSIZE_FORMAT " bytes of %s",
        g_bytes_get_size (bytes), data->content_type);
  }
  data->threshold = multipart_threshold;
  data->chunk_size = chunk_size;
  multipart = g_bytes_get_size (bytes) > multipart_threshold;
  if (multipart)
    data->parts = json_array_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) upload_data_free);
  bound_start (&data->bound, task, deadline, what, upload_abort);
  g_free (what);

  object = json_object_new ();
  json_object_set_string_member (object, "content_type", data->content_type);
  json_object_set_string_member (object, "file_name", data->file_name);
  node = json_node_init_object (json_node_alloc (), object);
  body = json_body (node);
  url = g_strdup_printf ("%s/storage/upload/%s?storage_type=fal-cdn-v3",
      gst_fal_client_get_rest_url (client),
      multipart ? "initiate-multipart" : "initiate");
  upload_send (task, "initiating", "POST", url, body, "application/json",
      GST_FAL_AUTH_KEY, 0, initiate_done);
  g_free (url);
  g_bytes_unref (body);
  json_node_unref (node);
  json_object_unref (object);
}

void
gst_fal_client_upload_bytes_parts_async (GstFalClient * client,
    GBytes * bytes, const gchar * content_type, const gchar * file_name,
    GstFalOptions * options, gsize multipart_threshold, gsize chunk_size,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  CallDeadline deadline;

  g_return_if_fail (GST_FAL_IS_CLIENT (client));
  g_return_if_fail (bytes != NULL);
  g_return_if_fail (chunk_size > 0);

  call_deadline_init (&deadline, client, options);
  upload_start (client, bytes, content_type, file_name, multipart_threshold,
      chunk_size, &deadline, cancellable, callback, user_data);
}

/**
 * gst_fal_client_upload_bytes_full_async:
 * @client: a #GstFalClient
 * @data: the bytes to upload
 * @content_type: (nullable): their MIME type (default application/octet-stream)
 * @file_name: (nullable): a file name for the CDN
 * @options: (nullable): its timeout bounds the whole upload (every part and
 *   retry included); %NULL or no timeout: the client's "timeout"
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the upload is done
 * @user_data: data for @callback
 *
 * Uploads @data to the fal CDN, in parts above
 * %GST_FAL_MULTIPART_THRESHOLD. When the timeout passes, the upload fails
 * with %GST_FAL_ERROR_TIMEOUT. Only the timeout of @options is used.
 */
void
gst_fal_client_upload_bytes_full_async (GstFalClient * client, GBytes * data,
    const gchar * content_type, const gchar * file_name,
    GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  gst_fal_client_upload_bytes_parts_async (client, data, content_type,
      file_name, options, GST_FAL_MULTIPART_THRESHOLD,
      GST_FAL_MULTIPART_CHUNK_SIZE, cancellable, callback, user_data);
}

/**
 * gst_fal_client_upload_bytes_full_finish:
 * @client: a #GstFalClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes gst_fal_client_upload_bytes_full_async() (or
 * gst_fal_client_upload_bytes_async()).
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_bytes_full_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result,
          gst_fal_client_upload_bytes_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * gst_fal_client_upload_bytes_async:
 * @client: a #GstFalClient
 * @data: the bytes to upload
 * @content_type: (nullable): their MIME type (default application/octet-stream)
 * @file_name: (nullable): a file name for the CDN
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the upload is done
 * @user_data: data for @callback
 *
 * Uploads @data to the fal CDN, in parts above
 * %GST_FAL_MULTIPART_THRESHOLD, within the client's "timeout".
 */
void
gst_fal_client_upload_bytes_async (GstFalClient * client, GBytes * data,
    const gchar * content_type, const gchar * file_name,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  gst_fal_client_upload_bytes_full_async (client, data, content_type,
      file_name, NULL, cancellable, callback, user_data);
}

/**
 * gst_fal_client_upload_bytes_finish:
 * @client: a #GstFalClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_bytes_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error)
{
  return gst_fal_client_upload_bytes_full_finish (client, result, error);
}

typedef struct
{
  GstFalClient *client;
  GBytes *data;
  const gchar *content_type;
  const gchar *file_name;
  const CallDeadline *deadline;
} UploadArgs;

static void
start_upload_bytes (gpointer args_ptr, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  UploadArgs *args = args_ptr;

  upload_start (args->client, args->data, args->content_type,
      args->file_name, GST_FAL_MULTIPART_THRESHOLD,
      GST_FAL_MULTIPART_CHUNK_SIZE, args->deadline, cancellable, callback,
      user_data);
}

/* The blocking uploads; @deadline was taken at the start of the call. */
static gchar *
upload_sync (GstFalClient * client, GBytes * data, const gchar * content_type,
    const gchar * file_name, const CallDeadline * deadline,
    GCancellable * cancellable, GError ** error)
{
  UploadArgs args = { client, data, content_type, file_name, deadline };
  GAsyncResult *result;
  gchar *url;

  result = gst_fal_run_sync (start_upload_bytes, &args, cancellable);
  url = gst_fal_client_upload_bytes_finish (client, result, error);
  g_object_unref (result);
  return url;
}

/**
 * gst_fal_client_upload_bytes_full:
 * @client: a #GstFalClient
 * @data: the bytes to upload
 * @content_type: (nullable): their MIME type (default application/octet-stream)
 * @file_name: (nullable): a file name for the CDN
 * @options: (nullable): its timeout bounds the whole upload (every part and
 *   retry included); %NULL or no timeout: the client's "timeout"
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking gst_fal_client_upload_bytes_full_async().
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_bytes_full (GstFalClient * client, GBytes * data,
    const gchar * content_type, const gchar * file_name,
    GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  CallDeadline deadline;

  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  g_return_val_if_fail (data != NULL, NULL);

  call_deadline_init (&deadline, client, options);
  return upload_sync (client, data, content_type, file_name, &deadline,
      cancellable, error);
}

/**
 * gst_fal_client_upload_bytes:
 * @client: a #GstFalClient
 * @data: the bytes to upload
 * @content_type: (nullable): their MIME type (default application/octet-stream)
 * @file_name: (nullable): a file name for the CDN
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Uploads within the client's "timeout".
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_bytes (GstFalClient * client, GBytes * data,
    const gchar * content_type, const gchar * file_name,
    GCancellable * cancellable, GError ** error)
{
  return gst_fal_client_upload_bytes_full (client, data, content_type,
      file_name, NULL, cancellable, error);
}

/* Uploads of files */

static gchar *
guess_mime_type (const gchar * name, GBytes * contents)
{
  gsize size;
  const guchar *bytes = g_bytes_get_data (contents, &size);
  g_autofree gchar *type = g_content_type_guess (name, bytes, size, NULL);
  gchar *mime = type ? g_content_type_get_mime_type (type) : NULL;

  return mime ? mime : g_strdup ("application/octet-stream");
}

static void
file_upload_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  gchar *url;

  url = gst_fal_client_upload_bytes_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (url)
    g_task_return_pointer (task, url, g_free);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

static void
file_loaded (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  CallDeadline *deadline = g_task_get_task_data (task);
  GError *error = NULL;
  gchar *contents;
  gsize length;
  g_autofree gchar *name = NULL;
  g_autofree gchar *mime = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents,
          &length, NULL, &error)) {
    GError *read_error = g_error_new (GST_FAL_ERROR,
        g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ?
        GST_FAL_ERROR_CANCELLED : GST_FAL_ERROR_ENCODE,
        "Cannot read the file to upload: %s", error->message);

    g_error_free (error);
    g_task_return_error (task, read_error);
    g_object_unref (task);
    return;
  }

  bytes = g_bytes_new_take (contents, length);
  name = g_file_get_basename (G_FILE (source));
  mime = guess_mime_type (name, bytes);
  g_debug ("uploading %s (%" G_GSIZE_FORMAT " bytes, %s)", name, length, mime);
  upload_start (g_task_get_source_object (task), bytes, mime, name,
      GST_FAL_MULTIPART_THRESHOLD, GST_FAL_MULTIPART_CHUNK_SIZE, deadline,
      g_task_get_cancellable (task), file_upload_done, task);
}

/**
 * gst_fal_client_upload_file_async:
 * @client: a #GstFalClient
 * @file: the file to upload
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the upload is done
 * @user_data: data for @callback
 *
 * Uploads a file within the client's "timeout"; its content type is guessed
 * from its name and contents.
 */
void
gst_fal_client_upload_file_async (GstFalClient * client, GFile * file,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  GTask *task;
  CallDeadline *deadline;

  g_return_if_fail (GST_FAL_IS_CLIENT (client));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_client_upload_file_async);
  g_task_set_check_cancellable (task, FALSE);
  deadline = g_new0 (CallDeadline, 1);
  call_deadline_init (deadline, client, NULL);
  g_task_set_task_data (task, deadline, g_free);
  g_file_load_contents_async (file, cancellable, file_loaded, task);
}

/**
 * gst_fal_client_upload_file_finish:
 * @client: a #GstFalClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_file_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result,
          gst_fal_client_upload_file_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  GstFalClient *client;
  GFile *file;
} FileArgs;

static void
start_upload_file (gpointer args_ptr, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  FileArgs *args = args_ptr;

  gst_fal_client_upload_file_async (args->client, args->file, cancellable,
      callback, user_data);
}

/**
 * gst_fal_client_upload_file:
 * @client: a #GstFalClient
 * @file: the file to upload
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_file (GstFalClient * client, GFile * file,
    GCancellable * cancellable, GError ** error)
{
  FileArgs args = { client, file };
  GAsyncResult *result;
  gchar *url;

  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  result = gst_fal_run_sync (start_upload_file, &args, cancellable);
  url = gst_fal_client_upload_file_finish (client, result, error);
  g_object_unref (result);
  return url;
}

/* Uploads of samples */

typedef struct
{
  GstSample *sample;
  GstFalImageFormat format;
  guint quality;
  guint max_dimension;
  const gchar *content_type;    /* set by the encoding thread */
  CallDeadline deadline;
} EncodeJob;

static void
encode_job_free (EncodeJob * job)
{
  gst_sample_unref (job->sample);
  g_free (job);
}

static GBytes *
encode_sample (GstSample * sample, GstFalImageFormat format, guint quality,
    guint max_dimension, const gchar ** content_type, GError ** error)
{
  g_autoptr (GstFalFrameEncoder) encoder =
      gst_fal_frame_encoder_new (format, quality, max_dimension);

  return gst_fal_frame_encoder_encode (encoder, sample, content_type, error);
}

static void
encode_in_thread (GTask * task, gpointer source, gpointer job_ptr,
    GCancellable * cancellable)
{
  EncodeJob *job = job_ptr;
  GError *error = NULL;
  GBytes *bytes;

  bytes = encode_sample (job->sample, job->format, job->quality,
      job->max_dimension, &job->content_type, &error);
  if (bytes)
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

static void
sample_upload_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  gchar *url;

  url = gst_fal_client_upload_bytes_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (url)
    g_task_return_pointer (task, url, g_free);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

static void
sample_encoded (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  EncodeJob *job = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  GBytes *bytes;

  bytes = g_task_propagate_pointer (G_TASK (result), &error);
  if (bytes == NULL) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  upload_start (GST_FAL_CLIENT (source), bytes, job->content_type, NULL,
      GST_FAL_MULTIPART_THRESHOLD, GST_FAL_MULTIPART_CHUNK_SIZE,
      &job->deadline, g_task_get_cancellable (task), sample_upload_done, task);
  g_bytes_unref (bytes);
}

/**
 * gst_fal_client_upload_sample_full_async:
 * @client: a #GstFalClient
 * @sample: a raw video frame, or a JPEG/PNG image
 * @format: the image format to encode raw video to
 * @quality: JPEG quality 1..100 (0 = default)
 * @max_dimension: largest side of the image sent, 0 = keep the size
 * @options: (nullable): its timeout bounds the whole upload, encoding
 *   included; %NULL or no timeout: the client's "timeout"
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the upload is done
 * @user_data: data for @callback
 *
 * Encodes @sample (in a worker thread) and uploads it. When the timeout
 * passes, the upload fails with %GST_FAL_ERROR_TIMEOUT. Only the timeout of
 * @options is used.
 */
void
gst_fal_client_upload_sample_full_async (GstFalClient * client,
    GstSample * sample, GstFalImageFormat format, guint quality,
    guint max_dimension, GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task, *encode_task;
  EncodeJob *job;

  g_return_if_fail (GST_FAL_IS_CLIENT (client));
  g_return_if_fail (GST_IS_SAMPLE (sample));

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_client_upload_sample_async);
  g_task_set_check_cancellable (task, FALSE);

  job = g_new0 (EncodeJob, 1);
  job->sample = gst_sample_ref (sample);
  job->format = format;
  job->quality = quality;
  job->max_dimension = max_dimension;
  call_deadline_init (&job->deadline, client, options);
  encode_task = g_task_new (client, cancellable, sample_encoded, task);
  /* a cancellation fails the upload that follows, as GST_FAL_ERROR */
  g_task_set_check_cancellable (encode_task, FALSE);
  g_task_set_task_data (encode_task, job, (GDestroyNotify) encode_job_free);
  g_task_run_in_thread (encode_task, encode_in_thread);
  g_object_unref (encode_task);
}

/**
 * gst_fal_client_upload_sample_full_finish:
 * @client: a #GstFalClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes gst_fal_client_upload_sample_full_async() (or
 * gst_fal_client_upload_sample_async()).
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_sample_full_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result,
          gst_fal_client_upload_sample_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * gst_fal_client_upload_sample_async:
 * @client: a #GstFalClient
 * @sample: a raw video frame, or a JPEG/PNG image
 * @format: the image format to encode raw video to
 * @quality: JPEG quality 1..100 (0 = default)
 * @max_dimension: largest side of the image sent, 0 = keep the size
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the upload is done
 * @user_data: data for @callback
 *
 * Encodes @sample (in a worker thread) and uploads it, within the client's
 * "timeout".
 */
void
gst_fal_client_upload_sample_async (GstFalClient * client,
    GstSample * sample, GstFalImageFormat format, guint quality,
    guint max_dimension, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  gst_fal_client_upload_sample_full_async (client, sample, format, quality,
      max_dimension, NULL, cancellable, callback, user_data);
}

/**
 * gst_fal_client_upload_sample_finish:
 * @client: a #GstFalClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_sample_finish (GstFalClient * client,
    GAsyncResult * result, GError ** error)
{
  return gst_fal_client_upload_sample_full_finish (client, result, error);
}

/**
 * gst_fal_client_upload_sample_full:
 * @client: a #GstFalClient
 * @sample: a raw video frame, or a JPEG/PNG image
 * @format: the image format to encode raw video to
 * @quality: JPEG quality 1..100 (0 = default)
 * @max_dimension: largest side of the image sent, 0 = keep the size
 * @options: (nullable): its timeout bounds the whole upload, encoding
 *   included; %NULL or no timeout: the client's "timeout"
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking gst_fal_client_upload_sample_full_async(); encodes in the
 * calling thread.
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_sample_full (GstFalClient * client, GstSample * sample,
    GstFalImageFormat format, guint quality, guint max_dimension,
    GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  const gchar *content_type = NULL;
  g_autoptr (GBytes) bytes = NULL;
  CallDeadline deadline;

  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  g_return_val_if_fail (GST_IS_SAMPLE (sample), NULL);

  call_deadline_init (&deadline, client, options);
  bytes = encode_sample (sample, format, quality, max_dimension,
      &content_type, error);
  if (bytes == NULL)
    return NULL;
  return upload_sync (client, bytes, content_type, NULL, &deadline,
      cancellable, error);
}

/**
 * gst_fal_client_upload_sample:
 * @client: a #GstFalClient
 * @sample: a raw video frame, or a JPEG/PNG image
 * @format: the image format to encode raw video to
 * @quality: JPEG quality 1..100 (0 = default)
 * @max_dimension: largest side of the image sent, 0 = keep the size
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the public URL of the upload, or %NULL on error
 */
gchar *
gst_fal_client_upload_sample (GstFalClient * client, GstSample * sample,
    GstFalImageFormat format, guint quality, guint max_dimension,
    GCancellable * cancellable, GError ** error)
{
  return gst_fal_client_upload_sample_full (client, sample, format, quality,
      max_dimension, NULL, cancellable, error);
}

/* Downloads */

typedef struct
{
  Bound bound;
  gchar *content_type;
} DownloadData;

static void
download_data_free (DownloadData * data)
{
  bound_clear (&data->bound);
  g_free (data->content_type);
  g_free (data);
}

static void
download_abort (GTask * task, GstFalAbortReason reason)
{
  DownloadData *data = g_task_get_task_data (task);

  bound_abort (&data->bound, reason);
}

static void
download_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  DownloadData *data = g_task_get_task_data (task);
  GstFalHttpResponse *response;
  GError *error = NULL;

  response = gst_fal_client_http_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (response == NULL) {
    if (data->bound.abort == GST_FAL_ABORT_NONE)
      g_prefix_error (&error, "Download failed: ");
    bound_return_error (&data->bound, task, error, NULL);
  } else {
    data->content_type = g_strdup (soup_message_headers_get_content_type
        (response->headers, NULL));
    bound_return_pointer (&data->bound, task, g_bytes_ref (response->body),
        (GDestroyNotify) g_bytes_unref);
    gst_fal_http_response_free (response);
  }
  g_object_unref (task);
}

/**
 * gst_fal_client_download_full_async:
 * @client: a #GstFalClient
 * @url: an http(s) URL or a data URI
 * @options: (nullable): its timeout bounds the download (every retry
 *   included); %NULL or no timeout: the client's "timeout"
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the download is done
 * @user_data: data for @callback
 *
 * Fetches @url into memory, never with credentials; data URIs are decoded
 * without any network. When the timeout passes, the download fails with
 * %GST_FAL_ERROR_TIMEOUT. Only the timeout of @options is used.
 */
void
gst_fal_client_download_full_async (GstFalClient * client, const gchar * url,
    GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  DownloadData *data;

  g_return_if_fail (GST_FAL_IS_CLIENT (client));
  g_return_if_fail (url != NULL);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_client_download_async);
  g_task_set_check_cancellable (task, FALSE);
  data = g_new0 (DownloadData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) download_data_free);

  if (g_ascii_strncasecmp (url, "data:", 5) == 0) {
    GError *error = NULL;
    GBytes *bytes = gst_fal_decode_data_uri (url, &data->content_type, &error);

    if (bytes)
      g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
    else
      g_task_return_error (task, error);
    g_object_unref (task);
  } else {
    GstFalHttpRequest request = {
      .method = "GET",
      .url = url,
      .accept = "*/*",
      .auth = GST_FAL_AUTH_NONE,
      .retry = GST_FAL_RETRY_IDEMPOTENT,
      .timeout = PUT_TIMEOUT,
    };
    /* the query may hold tokens: not in the messages */
    g_autofree gchar *what = g_strdup_printf ("download of %.*s",
        (int) strcspn (url, "?"), url);
    CallDeadline deadline;

    call_deadline_init (&deadline, client, options);
    bound_start (&data->bound, task, &deadline, what, download_abort);
    gst_fal_client_http_async (client, &request, data->bound.internal,
        download_done, task);
  }
}

/**
 * gst_fal_client_download_full_finish:
 * @client: a #GstFalClient
 * @result: the #GAsyncResult
 * @content_type: (out) (optional) (nullable) (transfer full): the MIME type
 *   of the bytes, when known
 * @error: return location for a #GError
 *
 * Finishes gst_fal_client_download_full_async() (or
 * gst_fal_client_download_async()).
 *
 * Returns: (transfer full): the bytes, or %NULL on error
 */
GBytes *
gst_fal_client_download_full_finish (GstFalClient * client,
    GAsyncResult * result, gchar ** content_type, GError ** error)
{
  GBytes *bytes;

  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result,
          gst_fal_client_download_async), NULL);

  bytes = g_task_propagate_pointer (G_TASK (result), error);
  if (content_type) {
    DownloadData *data = g_task_get_task_data (G_TASK (result));

    *content_type = bytes ? g_strdup (data->content_type) : NULL;
  }
  return bytes;
}

/**
 * gst_fal_client_download_async:
 * @client: a #GstFalClient
 * @url: an http(s) URL or a data URI
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the download is done
 * @user_data: data for @callback
 *
 * Fetches @url into memory within the client's "timeout", never with
 * credentials; data URIs are decoded without any network.
 */
void
gst_fal_client_download_async (GstFalClient * client, const gchar * url,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  gst_fal_client_download_full_async (client, url, NULL, cancellable,
      callback, user_data);
}

/**
 * gst_fal_client_download_finish:
 * @client: a #GstFalClient
 * @result: the #GAsyncResult
 * @content_type: (out) (optional) (nullable) (transfer full): the MIME type
 *   of the bytes, when known
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the bytes, or %NULL on error
 */
GBytes *
gst_fal_client_download_finish (GstFalClient * client, GAsyncResult * result,
    gchar ** content_type, GError ** error)
{
  return gst_fal_client_download_full_finish (client, result, content_type,
      error);
}

typedef struct
{
  GstFalClient *client;
  const gchar *url;
  GstFalOptions *options;
} DownloadArgs;

static void
start_download (gpointer args_ptr, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  DownloadArgs *args = args_ptr;

  gst_fal_client_download_full_async (args->client, args->url, args->options,
      cancellable, callback, user_data);
}

/**
 * gst_fal_client_download_full:
 * @client: a #GstFalClient
 * @url: an http(s) URL or a data URI
 * @options: (nullable): its timeout bounds the download (every retry
 *   included); %NULL or no timeout: the client's "timeout"
 * @content_type: (out) (optional) (nullable) (transfer full): the MIME type
 *   of the bytes, when known
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking gst_fal_client_download_full_async().
 *
 * Returns: (transfer full): the bytes, or %NULL on error
 */
GBytes *
gst_fal_client_download_full (GstFalClient * client, const gchar * url,
    GstFalOptions * options, gchar ** content_type,
    GCancellable * cancellable, GError ** error)
{
  DownloadArgs args = { client, url, options };
  GAsyncResult *result;
  GBytes *bytes;

  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  result = gst_fal_run_sync (start_download, &args, cancellable);
  bytes = gst_fal_client_download_full_finish (client, result, content_type,
      error);
  g_object_unref (result);
  return bytes;
}

/**
 * gst_fal_client_download:
 * @client: a #GstFalClient
 * @url: an http(s) URL or a data URI
 * @content_type: (out) (optional) (nullable) (transfer full): the MIME type
 *   of the bytes, when known
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the bytes, or %NULL on error
 */
GBytes *
gst_fal_client_download (GstFalClient * client, const gchar * url,
    gchar ** content_type, GCancellable * cancellable, GError ** error)
{
  return gst_fal_client_download_full (client, url, NULL, content_type,
      cancellable, error);
}
