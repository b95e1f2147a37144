/* gst-fal server: webhooks (fal-protocol §12): a completed request's result
 * posted to its fal_webhook URL by a small thread pool, with retries */
#include <string.h>
#include "gstfalrouter-private.h"

#define WEBHOOK_ATTEMPTS 4

typedef struct
{
  gchar *url;
  gchar *payload;
  gchar *request_id;
} Webhook;

static void
webhook_free (Webhook * webhook)
{
  g_free (webhook->url);
  g_free (webhook->payload);
  g_free (webhook->request_id);
  g_free (webhook);
}

static gboolean
webhook_post (Webhook * webhook)
{
  g_autoptr (SoupSession) session =
      soup_session_new_with_options ("timeout", 15, NULL);
  guint attempt;

  for (attempt = 0; attempt < WEBHOOK_ATTEMPTS; attempt++) {
    g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST,
        webhook->url);
    g_autoptr (GBytes) body = g_bytes_new (webhook->payload,
        strlen (webhook->payload));
    g_autoptr (GBytes) answer = NULL;
    g_autofree gchar *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT,
        g_get_real_time () / G_USEC_PER_SEC);
    SoupMessageHeaders *headers;

    if (!msg)
      return FALSE;
    headers = soup_message_get_request_headers (msg);
    soup_message_headers_replace (headers, "X-Fal-Webhook-Request-Id",
        webhook->request_id);
    soup_message_headers_replace (headers, "X-Fal-Webhook-User-Id", "local");
    soup_message_headers_replace (headers, "X-Fal-Webhook-Timestamp",
        timestamp);
    soup_message_set_request_body_from_bytes (msg, "application/json", body);
    answer = soup_session_send_and_read (session, msg, NULL, NULL);
    if (answer && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
      return TRUE;
    g_debug ("webhook for %s: attempt %u failed", webhook->request_id,
        attempt + 1);
    if (attempt + 1 < WEBHOOK_ATTEMPTS)
      g_usleep ((G_USEC_PER_SEC / 2) << attempt);
  }
  return FALSE;
}

void
gst_fal_webhooks_deliver (gpointer data, gpointer self)
{
  Webhook *webhook = data;

  if (!webhook_post (webhook))
    g_debug ("webhook for %s not delivered", webhook->request_id);
  webhook_free (webhook);
}

void
gst_fal_webhooks_queue (GstFalServer * self, GstFalServerRequest * request)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *error_type = NULL;
  JsonNode *body = NULL;
  guint status =
      gst_fal_server_request_get_result (request, &body, &error_type);
  Webhook *webhook = g_new0 (Webhook, 1);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, request->id);
  json_builder_set_member_name (builder, "gateway_request_id");
  json_builder_add_string_value (builder, request->id);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status == 200 ? "OK" : "ERROR");
  json_builder_set_member_name (builder, "payload");
  json_builder_add_value (builder, body ? body :
      json_node_init_null (json_node_alloc ()));
  if (status != 200) {
    g_autofree gchar *error = g_strdup_printf ("Invalid status code: %u",
        status);

    json_builder_set_member_name (builder, "error");
    json_builder_add_string_value (builder, error);
  }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  webhook->url = g_strdup (request->webhook);
  webhook->payload = json_to_string (root, FALSE);
  webhook->request_id = g_strdup (request->id);
  g_thread_pool_push (self->webhooks, webhook, NULL);
}
