/* gst-fal server: responses (JSON bodies, fal's error shapes, the request
 * id header) and the request body as JSON */
#include <string.h>
#include "gstfalrouter-private.h"
#include <gst/fal/gstfaljson-private.h>

static const gchar *
reason_phrase (guint status)
{
  switch (status) {
    case 429:
      return "Too Many Requests";
    case 499:
      return "Client Closed Request";
    default:
      return NULL;
  }
}

void
gst_fal_server_respond_json (SoupServerMessage * msg, guint status,
    JsonNode * node)
{
  gchar *text = gst_fal_json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status, reason_phrase (status));
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, text, strlen (text));
}

void
gst_fal_server_respond_json_take (SoupServerMessage * msg, guint status,
    JsonNode * node)
{
  gst_fal_server_respond_json (msg, status, node);
  json_node_unref (node);
}

void
gst_fal_server_respond_object (SoupServerMessage * msg, guint status,
    JsonObject * object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  gst_fal_server_respond_json_take (msg, status, node);
}

static JsonNode *
detail_node (const gchar * detail, const gchar * error_type)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "detail", detail);
  if (error_type)
    json_object_set_string_member (object, "error_type", error_type);
  json_node_take_object (node, object);
  return node;
}

void
gst_fal_server_respond_detail (SoupServerMessage * msg, guint status,
    const gchar * detail, const gchar * error_type)
{
  if (error_type)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "X-Fal-Error-Type", error_type);
  gst_fal_server_respond_json_take (msg, status, detail_node (detail,
          error_type));
}

void
gst_fal_server_respond_no_path (SoupServerMessage * msg, const gchar * path)
{
  g_autofree gchar *detail = g_strdup_printf ("Path %s not found", path);

  gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, detail, NULL);
}

void
gst_fal_server_respond_status (SoupServerMessage * msg, guint status,
    const gchar * value)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "status", value);
  gst_fal_server_respond_object (msg, status, object);
}

void
gst_fal_server_set_request_id (SoupServerMessage * msg,
    GstFalServerRequest * request)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "x-fal-request-id", request->id);
}

/* Parses the request body as JSON; an empty body is {}. */
JsonNode *
gst_fal_server_parse_body (SoupServerMessage * msg, GError ** error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize size;
  const gchar *data = g_bytes_get_data (bytes, &size);

  if (size == 0) {
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);

    json_node_take_object (node, json_object_new ());
    return node;
  }
  return gst_fal_json_from_string (data, size, error);
}

/* 400 for a body gst_fal_server_parse_body() refused: not JSON, or nested too deep */
void
gst_fal_server_respond_invalid_body (SoupServerMessage * msg,
    const GError * error)
{
  g_autofree gchar *detail = g_strdup_printf ("Invalid JSON body: %s",
      error->message);

  gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST, detail,
      "bad_request");
}

gchar *
gst_fal_server_base_url (GstFalServer * self, SoupServerMessage * msg)
{
  const gchar *host =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Host");

  if (host && *host && !strpbrk (host, "/ \\\"'"))
    return g_strdup_printf ("%s://%s", self->tls_certificate ? "https" :
        "http", host);
  return g_strdup (self->url);
}

/* 422 worded as FastAPI does, naming @field at @location ("query",
 * "header", "body"). */
void
gst_fal_server_respond_invalid (SoupServerMessage * msg, const gchar * location,
    const gchar * field, const gchar * message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detail");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "loc");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, location);
  if (field && strcmp (field, location))
    json_builder_add_string_value (builder, field);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "msg");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "value_error");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  gst_fal_server_respond_json_take (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
      json_builder_get_root (builder));
}

/* The completed request's result onto @msg: the app's status and body. */
void
gst_fal_server_respond_result (SoupServerMessage * msg,
    GstFalServerRequest * request)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree gchar *error_type = NULL;
  JsonNode *body = NULL;
  guint status =
      gst_fal_server_request_get_result (request, &body, &error_type);

  gst_fal_server_set_request_id (msg, request);
  if (error_type) {
    soup_message_headers_replace (headers, "X-Fal-Error-Type", error_type);
    if (!strcmp (error_type, "request_timeout"))
      soup_message_headers_replace (headers, "X-Fal-Request-Timeout-Type",
          "user");
  }
  if (!body)
    body = json_node_init_null (json_node_alloc ());
  gst_fal_server_respond_json_take (msg, status, body);
}
