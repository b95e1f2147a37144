/* gst-fal server: the token family, /rest/…: the CDN token and the realtime
 * token; the storage upload initiate routes here go to gstfalstorageroutes.c */
#include <string.h>
#include "gstfalrouter-private.h"
#include "gstfalstorageroutes-private.h"

#define TOKEN_SECONDS 3600

static void
handle_cdn_token (GstFalServer * self, SoupServerMessage * msg)
{
  g_autofree gchar *token = gst_fal_auth_issue (self->auth, GST_FAL_TOKEN_CDN,
      NULL, TOKEN_SECONDS);
  g_autofree gchar *base = gst_fal_server_base_url (self, msg);
  g_autofree gchar *cdn = g_strdup_printf ("%s/cdn", base);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) expiry = g_date_time_add_seconds (now, TOKEN_SECONDS);
  g_autofree gchar *expires_at = g_date_time_format_iso8601 (expiry);
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "token", token);
  json_object_set_string_member (object, "token_type", "Bearer");
  json_object_set_string_member (object, "base_url", cdn);
  json_object_set_string_member (object, "expires_at", expires_at);
  gst_fal_server_respond_object (msg, SOUP_STATUS_OK, object);
}

static void
handle_realtime_token (GstFalServer * self, SoupServerMessage * msg)
{
  g_autoptr (JsonNode) body = gst_fal_server_parse_body (msg, NULL);
  g_auto (GStrv) apps = NULL;
  g_autofree gchar *message = NULL;
  g_autofree gchar *token = NULL;
  const gchar *field = NULL;
  gint64 seconds;

  if (!gst_fal_auth_parse_token_request (body, &apps, &seconds, &field,
          &message)) {
    gst_fal_server_respond_invalid (msg, "body", field, message);
    return;
  }
  token = gst_fal_auth_issue (self->auth, GST_FAL_TOKEN_REALTIME,
      (const gchar * const *) apps, seconds);
  gst_fal_server_respond_json_take (msg, SOUP_STATUS_OK,
      json_node_init_string (json_node_alloc (), token));
}

void
gst_fal_token_routes_route (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  const gchar *rest = path + strlen ("/rest/");

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method not allowed", NULL);
  else if (!strcmp (rest, "storage/upload/initiate"))
    gst_fal_storage_routes_initiate (self, msg, FALSE);
  else if (!strcmp (rest, "storage/upload/initiate-multipart"))
    gst_fal_storage_routes_initiate (self, msg, TRUE);
  else if (!strcmp (rest, "storage/auth/token"))
    handle_cdn_token (self, msg);
  else if (!strcmp (rest, "tokens") || !strcmp (rest, "tokens/"))
    handle_realtime_token (self, msg);
  else
    gst_fal_server_respond_detail (msg, SOUP_STATUS_NOT_FOUND, "Not found",
        NULL);
}
