/* gst-fal server: admin and faults: /_admin/faults, and the faults and
 * latency it injects into the API routes (docs/server.md "Fault injection") */
#include <string.h>
#include "gstfalrouter-private.h"

void
gst_fal_faults_route_admin (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query)
{
  GstFalServerFaults faults;

  if (strcmp (path, "/_admin/faults")) {
    gst_fal_server_respond_no_path (msg, path);
    return;
  }
  if (soup_server_message_get_method (msg) == SOUP_METHOD_POST) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) body = gst_fal_server_parse_body (msg, &error);
    g_autofree gchar *message = NULL;
    const gchar *field = NULL;

    if (!body) {
      gst_fal_server_respond_invalid_body (msg, error);
      return;
    }
    if (!JSON_NODE_HOLDS_OBJECT (body)) {
      gst_fal_server_respond_detail (msg, SOUP_STATUS_BAD_REQUEST,
          "Invalid JSON body", "bad_request");
      return;
    }
    if (!gst_fal_admin_faults_from_json (body, &faults, &field, &message)) {
      gst_fal_server_respond_invalid (msg, "body", field, message);
      return;
    }
    gst_fal_server_set_faults (self, &faults);
  } else if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    gst_fal_server_respond_detail (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Method not allowed", NULL);
    return;
  }
  g_mutex_lock (&self->lock);
  faults = self->faults;
  g_mutex_unlock (&self->lock);
  gst_fal_server_respond_json_take (msg, SOUP_STATUS_OK,
      gst_fal_admin_faults_to_json (&faults));
}

typedef enum
{
  FAULT_NONE,
  FAULT_429,
  FAULT_500,
  FAULT_503,
  FAULT_DROP,
  FAULT_TRUNCATE,
} Fault;

static Fault
draw_fault (GstFalServer * self, guint * latency_ms, guint * retry_after)
{
  Fault fault = FAULT_NONE;
  gdouble x;

  g_mutex_lock (&self->lock);
  *latency_ms = self->faults.latency_ms;
  *retry_after = self->faults.retry_after;
  x = g_rand_double (self->rand);
  if ((x -= self->faults.rate_429) < 0)
    fault = FAULT_429;
  else if ((x -= self->faults.rate_500) < 0)
    fault = FAULT_500;
  else if ((x -= self->faults.rate_503) < 0)
    fault = FAULT_503;
  else if ((x -= self->faults.rate_drop) < 0)
    fault = FAULT_DROP;
  else if ((x -= self->faults.rate_truncate) < 0)
    fault = FAULT_TRUNCATE;
  g_mutex_unlock (&self->lock);
  return fault;
}

static void
drop_connection (SoupServerMessage * msg)
{
  GIOStream *stream = soup_server_message_steal_connection (msg);

  if (stream) {
    g_io_stream_close (stream, NULL, NULL);
    g_object_unref (stream);
  }
}

static void
append_header (const char *name, const char *value, gpointer data)
{
  GString *head = data;

  if (g_ascii_strcasecmp (name, "Content-Length")
      && g_ascii_strcasecmp (name, "Connection")
      && g_ascii_strcasecmp (name, "Transfer-Encoding"))
    g_string_append_printf (head, "%s: %s\r\n", name, value);
}

/* Writes the complete response's headers and half of its body, then closes. */
void
gst_fal_faults_truncate_response (SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  GString *head = g_string_new (NULL);
  guint status = soup_server_message_get_status (msg);
  GIOStream *stream;
  gsize size;
  const gchar *data = g_bytes_get_data (bytes, &size);

  g_string_append_printf (head, "HTTP/1.1 %u %s\r\n", status,
      soup_status_get_phrase (status));
  soup_message_headers_foreach (soup_server_message_get_response_headers
      (msg), append_header, head);
  g_string_append_printf (head, "Content-Length: %" G_GSIZE_FORMAT
      "\r\nConnection: close\r\n\r\n", size);
  g_string_append_len (head, data, size / 2);
  stream = soup_server_message_steal_connection (msg);
  if (stream) {
    g_output_stream_write_all (g_io_stream_get_output_stream (stream),
        head->str, head->len, NULL, NULL, NULL);
    g_io_stream_close (stream, NULL, NULL);
    g_object_unref (stream);
  }
  g_string_free (head, TRUE);
}

static void
route_with_fault (GstFalServer * self, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, Fault fault, guint retry_after)
{
  switch (fault) {
    case FAULT_429:{
      g_autofree gchar *value = g_strdup_printf ("%u", retry_after);

      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Retry-After", value);
      gst_fal_server_respond_detail (msg, 429, "Too many requests (injected)",
          NULL);
      return;
    }
    case FAULT_500:
      gst_fal_server_respond_detail (msg, 500,
          "Internal Server Error (injected)", "internal_error");
      return;
    case FAULT_503:
      gst_fal_server_respond_detail (msg, 503, "Service unavailable (injected)",
          "runner_scheduling_failure");
      return;
    case FAULT_DROP:
      drop_connection (msg);
      return;
    default:
      break;
  }
  gst_fal_router_route (self, msg, path, query);
  if (fault != FAULT_TRUNCATE)
    return;
  /* a sync run is cut short when it answers; streams are not */
  if (g_object_get_data (G_OBJECT (msg), "gst-fal-deferred"))
    g_object_set_data (G_OBJECT (msg), "gst-fal-truncate", GINT_TO_POINTER (1));
  else if (soup_server_message_get_status (msg)
      && soup_server_message_get_response_body (msg)->length > 1)
    gst_fal_faults_truncate_response (msg);
}

typedef struct
{
  GstFalServer *server;
  SoupServerMessage *msg;
  gchar *path;
  GHashTable *query;
  Fault fault;
  guint retry_after;
} Delayed;

static gboolean
delayed_route (Delayed * delayed)
{
  soup_server_message_unpause (delayed->msg);
  route_with_fault (delayed->server, delayed->msg, delayed->path,
      delayed->query, delayed->fault, delayed->retry_after);
  return G_SOURCE_REMOVE;
}

static void
delayed_free (Delayed * delayed)
{
  g_object_unref (delayed->msg);
  g_free (delayed->path);
  if (delayed->query)
    g_hash_table_unref (delayed->query);
  g_free (delayed);
}

void
gst_fal_faults_callback (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstFalServer *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  guint latency_ms, retry_after;
  Fault fault = FAULT_NONE;

  latency_ms = 0;
  retry_after = 1;
  /* faults hit the API, not the CDN downloads nor the admin endpoint, nor
   * a websocket handshake (libsoup upgrades it as this handler returns) */
  if (!(g_str_has_prefix (path, "/files/") && (method == SOUP_METHOD_GET
              || method == SOUP_METHOD_HEAD))
      && !g_str_has_prefix (path, "/_admin/")
      && !(g_str_has_prefix (path, "/run/")
          && gst_fal_realtime_routes_match (path)))
    fault = draw_fault (self, &latency_ms, &retry_after);

  if (latency_ms > 0) {
    Delayed *delayed = g_new0 (Delayed, 1);
    GSource *source = g_timeout_source_new (latency_ms);

    delayed->server = self;
    delayed->msg = g_object_ref (msg);
    delayed->path = g_strdup (path);
    delayed->query = query ? g_hash_table_ref (query) : NULL;
    delayed->fault = fault;
    delayed->retry_after = retry_after;
    soup_server_message_pause (msg);
    g_source_set_callback (source, (GSourceFunc) delayed_route, delayed,
        (GDestroyNotify) delayed_free);
    g_source_attach (source, self->context);
    g_source_unref (source);
    return;
  }
  route_with_fault (self, msg, path, query, fault, retry_after);
}
