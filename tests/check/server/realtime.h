/* Helpers of the realtime tests: a raw websocket to the local server, driven
 * from the test's thread, that keeps every frame it gets. */
#pragma once

#include "falservertest.h"
/* library-internal (hidden symbols): build them in */
#include "gstfalmsgpack.c"
#include "gstfalmsgjson.c"

typedef struct {
  SoupWebsocketConnection *ws;
  guint status;                 /* of the handshake */
  GError *error;
  gboolean done;                /* the handshake finished */
  GPtrArray *frames;            /* GBytes, binary frames */
  GPtrArray *texts;             /* gchar *, text frames */
  gboolean closed;
  gushort close_code;
} FalWs;

static void
fal_ws_on_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    FalWs * t)
{
  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    g_ptr_array_add (t->frames, g_bytes_ref (message));
  else
    g_ptr_array_add (t->texts, g_strndup (g_bytes_get_data (message, NULL),
            g_bytes_get_size (message)));
}

static void
fal_ws_on_closed (SoupWebsocketConnection * ws, FalWs * t)
{
  t->closed = TRUE;
  t->close_code = soup_websocket_connection_get_close_code (ws);
}

static void
fal_ws_on_connected (GObject * source, GAsyncResult * result, gpointer data)
{
  FalWs *t = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), result);

  t->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      result, &t->error);
  t->status = soup_message_get_status (msg);
  t->done = TRUE;
  if (t->ws) {
    soup_websocket_connection_set_max_incoming_payload_size (t->ws, 0);
    g_signal_connect (t->ws, "message", G_CALLBACK (fal_ws_on_message), t);
    g_signal_connect (t->ws, "closed", G_CALLBACK (fal_ws_on_closed), t);
  }
}

/* Iterates the test's context until @done or 30 s passed. */
#define FAL_WS_WAIT(cond) G_STMT_START {                                   \
    gint64 _deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;    \
    while (!(cond) && g_get_monotonic_time () < _deadline)              \
      g_main_context_iteration (NULL, TRUE);                             \
    fail_unless (cond, "timed out waiting for " #cond);                  \
  } G_STMT_END

/* Opens SERVER@path; @headers: NULL-terminated name, value pairs. */
static FalWs *
fal_ws_open (SoupSession * session, GstFalServer * server,
    const gchar * path, const gchar * const *headers)
{
  FalWs *t = g_new0 (FalWs, 1);
  g_autofree gchar *http = fal_url (server, path);
  g_autofree gchar *url = g_strconcat ("ws", http + 4, NULL);
  SoupMessage *msg = soup_message_new (SOUP_METHOD_GET, url);
  guint i;

  t->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  t->texts = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; headers && headers[i] && headers[i + 1]; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        headers[i], headers[i + 1]);
  soup_session_websocket_connect_async (session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, fal_ws_on_connected, t);
  g_object_unref (msg);
  FAL_WS_WAIT (t->done);
  return t;
}

static void
fal_ws_free (FalWs * t)
{
  if (t->ws) {
    g_signal_handlers_disconnect_by_data (t->ws, t);
    if (soup_websocket_connection_get_state (t->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (t->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    g_object_unref (t->ws);
  }
  g_clear_error (&t->error);
  g_ptr_array_unref (t->frames);
  g_ptr_array_unref (t->texts);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FalWs, fal_ws_free);

/* Sends @text (a GVariant a{sv} in text form) as one binary msgpack frame. */
static void
fal_ws_send (FalWs * t, GVariant * message)
{
  g_autoptr (GVariant) sunk = g_variant_ref_sink (message);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = gst_fal_msgpack_encode (sunk, &error);

  g_assert_no_error (error);
  soup_websocket_connection_send_message (t->ws, SOUP_WEBSOCKET_DATA_BINARY,
      frame);
}

/* Binary frame @index, decoded. (transfer full) */
static GVariant *
fal_ws_frame (FalWs * t, guint index)
{
  g_autoptr (GError) error = NULL;
  GBytes *frame;
  GVariant *message;
  gsize size;
  const guint8 *data;

  fail_unless (index < t->frames->len);
  frame = g_ptr_array_index (t->frames, index);
  data = g_bytes_get_data (frame, &size);
  message = gst_fal_msgpack_decode (data, size, &error);
  g_assert_no_error (error);
  return message;
}

/* Text frame @index, which must be {"type": "x-fal-error", "error":
 * @error, "reason": …}; returns the reason. */
static gchar *
fal_ws_control (FalWs * t, guint index, const gchar * error)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *object;

  fail_unless (index < t->texts->len, "no text frame %u", index);
  node = json_from_string (g_ptr_array_index (t->texts, index), NULL);
  fail_unless (node && JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  assert_equals_string (json_object_get_string_member (object, "type"),
      "x-fal-error");
  assert_equals_string (json_object_get_string_member (object, "error"),
      error);
  return g_strdup (json_object_get_string_member (object, "reason"));
}
