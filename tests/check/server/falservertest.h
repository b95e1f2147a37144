/* Helpers of the server tests: an in-process server and raw HTTP calls. */
#pragma once

#include <string.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "gst/falserver/gstfalserver.h"

typedef struct {
  guint status;
  SoupMessageHeaders *headers;  /* response headers */
  GBytes *body;
  JsonNode *json;               /* NULL if the body is not JSON */
  GError *error;                /* transport error */
} FalReply;

static inline void
fal_reply_free (FalReply * reply)
{
  if (reply->headers)
    soup_message_headers_unref (reply->headers);
  if (reply->body)
    g_bytes_unref (reply->body);
  if (reply->json)
    json_node_unref (reply->json);
  g_clear_error (&reply->error);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FalReply, fal_reply_free);

/* No proxy resolver: libproxy is noisy under valgrind, and tests stay on
 * loopback anyway. */
static inline SoupSession *
fal_test_session_new (void)
{
  return soup_session_new_with_options ("timeout", 120, "proxy-resolver",
      NULL, NULL);
}

static inline GstFalServer *
fal_test_server_new (guint workers, const gchar * key)
{
  GError *error = NULL;
  GstFalServer *server = g_object_new (GST_FAL_TYPE_SERVER, "workers",
      workers, "key", key, NULL);

  fail_unless (gst_fal_server_start (server, &error), "start: %s",
      error ? error->message : "?");
  fail_unless (g_str_has_prefix (gst_fal_server_get_url (server),
          "http://127.0.0.1:"));
  return server;
}

/* One HTTP call; @headers: NULL-terminated name, value pairs. */
static inline FalReply *
fal_http_full (SoupSession * session, const gchar * method, const gchar * url,
    const gchar * content_type, GBytes * body, const gchar * const *headers)
{
  SoupMessage *msg = soup_message_new (method, url);
  FalReply *reply = g_new0 (FalReply, 1);
  guint i;

  fail_unless (msg != NULL, "bad url %s", url);
  for (i = 0; headers && headers[i] && headers[i + 1]; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        headers[i], headers[i + 1]);
  if (body)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  reply->body = soup_session_send_and_read (session, msg, NULL,
      &reply->error);
  reply->status = soup_message_get_status (msg);
  reply->headers =
      soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (reply->body && g_bytes_get_size (reply->body) > 0) {
    g_autofree gchar *text = g_strndup (g_bytes_get_data (reply->body, NULL),
        g_bytes_get_size (reply->body));

    reply->json = json_from_string (text, NULL);
  }
  g_object_unref (msg);
  return reply;
}

static inline FalReply *
fal_http (SoupSession * session, const gchar * method, const gchar * url,
    const gchar * json, const gchar * const *headers)
{
  g_autoptr (GBytes) body = json ? g_bytes_new (json, strlen (json)) : NULL;

  return fal_http_full (session, method, url, "application/json", body,
      headers);
}

static inline const gchar *
fal_reply_header (FalReply * reply, const gchar * name)
{
  return soup_message_headers_get_one (reply->headers, name);
}

static inline JsonObject *
fal_reply_object (FalReply * reply)
{
  fail_unless (reply->json && JSON_NODE_HOLDS_OBJECT (reply->json),
      "expected a JSON object, got HTTP %u", reply->status);
  return json_node_get_object (reply->json);
}

static inline const gchar *
fal_reply_string (FalReply * reply, const gchar * member)
{
  JsonObject *object = fal_reply_object (reply);

  fail_unless (json_object_has_member (object, member), "no %s", member);
  return json_object_get_string_member (object, member);
}

/* Polls …/status until COMPLETED (HTTP 200); returns the last status. */
static inline FalReply *
fal_wait_completed (SoupSession * session, const gchar * status_url,
    const gchar * const *headers)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    FalReply *reply = fal_http (session, "GET", status_url, NULL, headers);

    if (reply->status == 200)
      return reply;
    fail_unless_equals_int (reply->status, 202);
    fal_reply_free (reply);
    g_usleep (10 * 1000);
  }
  fail ("request at %s never completed", status_url);
  return NULL;
}

/* Polls a status until the request is IN_PROGRESS (or beyond). */
static inline void
fal_wait_started (SoupSession * session, const gchar * status_url)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (FalReply) reply = fal_http (session, "GET", status_url, NULL,
        NULL);

    if (strcmp (fal_reply_string (reply, "status"), "IN_QUEUE"))
      return;
    g_usleep (10 * 1000);
  }
  fail ("request at %s never started", status_url);
}

static inline gchar *
fal_url (GstFalServer * server, const gchar * path)
{
  return g_strconcat (gst_fal_server_get_url (server), path, NULL);
}
