/* gst-fal server: watchers, which hold a message until its request changes:
 * the status stream (SSE, with keepalives), the answer of a sync run and the
 * events of /stream; and the notifications that bring a request's changes
 * from any thread to the server thread */
#include <string.h>
#include "gstfalrouter-private.h"

#define KEEPALIVE_SECONDS 15

struct _GstFalWatcher
{
  GstFalServer *server;
  GstFalWatchKind kind;
  GstFalServerRequest *request;
  SoupServerMessage *msg;
  gulong finished_id;
  gboolean with_logs;
  gboolean responded;           /* nothing more is written */
  gboolean started;             /* SSE headers set */
  gchar *last;                  /* state and position last sent */
  guint logs_sent;
  GSource *keepalive;
  GSource *hangup;              /* runs: watches the client's connection */
};

static void watcher_finished (SoupServerMessage * msg, GstFalWatcher * watcher);
static gboolean watcher_hangup_cb (GSocket * socket, GIOCondition condition,
    GstFalWatcher * watcher);

GstFalWatcher *
gst_fal_watcher_new (GstFalServer * self, GstFalWatchKind kind,
    GstFalServerRequest * request, SoupServerMessage * msg)
{
  GstFalWatcher *watcher = g_new0 (GstFalWatcher, 1);

  watcher->server = self;
  watcher->kind = kind;
  watcher->request = gst_fal_server_request_ref (request);
  watcher->msg = g_object_ref (msg);
  watcher->finished_id = g_signal_connect (msg, "finished",
      G_CALLBACK (watcher_finished), watcher);
  self->watchers = g_list_append (self->watchers, watcher);
  g_object_set_data (G_OBJECT (msg), "gst-fal-deferred", watcher);
  soup_server_message_pause (msg);
  /* libsoup does not read a paused message's connection, so it would not
   * see the client of a run go away; as fal, the run is then cancelled */
  if (kind != GST_FAL_WATCH_STATUS && soup_server_message_get_socket (msg)) {
    watcher->hangup =
        g_socket_create_source (soup_server_message_get_socket (msg),
        G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback (watcher->hangup, G_SOURCE_FUNC (watcher_hangup_cb),
        watcher, NULL);
    g_source_attach (watcher->hangup, self->context);
  }
  return watcher;
}

void
gst_fal_watcher_free (GstFalWatcher * watcher)
{
  GstFalServer *self = watcher->server;

  self->watchers = g_list_remove (self->watchers, watcher);
  if (watcher->keepalive) {
    g_source_destroy (watcher->keepalive);
    g_source_unref (watcher->keepalive);
  }
  if (watcher->hangup) {
    g_source_destroy (watcher->hangup);
    g_source_unref (watcher->hangup);
  }
  g_signal_handler_disconnect (watcher->msg, watcher->finished_id);
  g_object_unref (watcher->msg);
  gst_fal_server_request_unref (watcher->request);
  g_free (watcher->last);
  g_free (watcher);
}

/* The client of a sync run went away: the run is cancelled. */
static void
watcher_cancel_run (GstFalWatcher * watcher)
{
  GstFalServerRequest *request = watcher->request;

  if (watcher->kind == GST_FAL_WATCH_STATUS || watcher->responded)
    return;
  g_mutex_lock (&request->lock);
  request->cancel_requested = TRUE;
  g_mutex_unlock (&request->lock);
  g_cancellable_cancel (request->cancellable);
  if (gst_fal_runners_remove (watcher->server->runners, request))
    gst_fal_server_request_fail (request, 499, "Client disconnected",
        "client_disconnected");
}

static void
watcher_finished (SoupServerMessage * msg, GstFalWatcher * watcher)
{
  watcher_cancel_run (watcher);
  gst_fal_watcher_free (watcher);
}

/* The connection of a waiting run is readable: end of stream or an error
 * means the client is gone; data (a pipelined request) is left to libsoup. */
static gboolean
watcher_hangup_cb (GSocket * socket, GIOCondition condition,
    GstFalWatcher * watcher)
{
  g_autoptr (GError) error = NULL;
  gchar byte;
  GInputVector vector = { &byte, 1 };
  gint flags = G_SOCKET_MSG_PEEK;
  gssize received = g_socket_receive_message (socket, NULL, &vector, 1, NULL,
      NULL, &flags, NULL, &error);

  if (received < 0 && g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (received <= 0) {
    g_debug ("client of request %s disconnected", watcher->request->id);
    watcher_cancel_run (watcher);
  }
  g_clear_pointer (&watcher->hangup, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
sse_start (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
}

static void
sse_write (SoupServerMessage * msg, const gchar * text)
{
  soup_message_body_append (soup_server_message_get_response_body (msg),
      SOUP_MEMORY_COPY, text, strlen (text));
  soup_server_message_unpause (msg);
}

static void
sse_close (SoupServerMessage * msg)
{
  soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);
}

/* FALSE when the status of @state at @position, without new log lines, is
 * the one last sent (its key as watcher_update_status() makes it). */
static gboolean
watcher_may_send (GstFalWatcher * watcher, GstFalServerRequestState state,
    gint position)
{
  static const gchar *names[] = { "IN_QUEUE", "IN_PROGRESS", "COMPLETED" };
  GstFalServerRequest *request = watcher->request;
  gchar key[32];
  guint logs;

  g_mutex_lock (&request->lock);
  logs = request->logs->len;
  g_mutex_unlock (&request->lock);
  if (watcher->with_logs && state != GST_FAL_SERVER_REQUEST_IN_QUEUE
      && logs > watcher->logs_sent)
    return TRUE;
  g_snprintf (key, sizeof key, "%s:%d", names[state], position);
  return g_strcmp0 (key, watcher->last) != 0;
}

/* Sends the status when it changed or has new log lines. As fal's stream
 * does (and as fal's JS client expects, accumulating them), each event
 * carries only the log lines not sent before. */
static void
watcher_update_status (GstFalWatcher * watcher)
{
  GstFalServer *self = watcher->server;
  GstFalServerRequest *request = watcher->request;
  GstFalServerRequestState state = gst_fal_server_request_get_state (request);
  gint position = gst_fal_runners_position (self->runners, request);
  g_autoptr (JsonNode) status = NULL;
  g_autofree gchar *key = NULL;
  JsonNode *logs;
  guint new_logs = 0;

  /* popped but not yet started: still waiting, first in line */
  if (state == GST_FAL_SERVER_REQUEST_IN_QUEUE && position < 0)
    position = 0;
  /* every change of any request comes here for every stream: build the
   * status only when it may differ from the one last sent */
  if (state != GST_FAL_SERVER_REQUEST_COMPLETED
      && !watcher_may_send (watcher, state, position))
    return;
  status = gst_fal_server_request_build_status (request, watcher->with_logs,
      watcher->logs_sent, position);
  logs = json_object_get_member (json_node_get_object (status), "logs");
  if (logs && JSON_NODE_HOLDS_ARRAY (logs))
    new_logs = json_array_get_length (json_node_get_array (logs));
  key = g_strdup_printf ("%s:%d", json_object_get_string_member
      (json_node_get_object (status), "status"), position);
  if (new_logs > 0 || g_strcmp0 (key, watcher->last)) {
    g_autofree gchar *json = json_to_string (status, FALSE);
    g_autofree gchar *event = g_strdup_printf ("data: %s\n\n", json);

    sse_write (watcher->msg, event);
    watcher->logs_sent += new_logs;
    g_free (watcher->last);
    watcher->last = g_steal_pointer (&key);
  }
  if (state == GST_FAL_SERVER_REQUEST_COMPLETED) {
    sse_close (watcher->msg);
    watcher->responded = TRUE;
  }
}

/* @completed: the change is the request's completion. A run answers only
 * then, not when an earlier change is dispatched after the request already
 * completed: that would drop the partial outputs not yet dispatched. */
static void
watcher_update (GstFalWatcher * watcher, GstFalServerRequest * changed,
    const gchar * partial, gboolean completed)
{
  GstFalServerRequest *request = watcher->request;
  JsonNode *body = NULL;
  g_autofree gchar *error_type = NULL;
  g_autofree gchar *event = NULL;
  guint status;

  if (watcher->responded)
    return;
  if (watcher->kind == GST_FAL_WATCH_STATUS) {
    /* any change may move the positions of waiting requests */
    if (!partial)
      watcher_update_status (watcher);
    return;
  }
  if (changed != request)
    return;
  if (partial) {
    if (watcher->kind != GST_FAL_WATCH_STREAM)
      return;
    if (!watcher->started) {
      sse_start (watcher->msg);
      gst_fal_server_set_request_id (watcher->msg, request);
      watcher->started = TRUE;
    }
    event = g_strdup_printf ("data: %s\n\n", partial);
    sse_write (watcher->msg, event);
    return;
  }
  if (!completed)
    return;
  watcher->responded = TRUE;
  if (watcher->kind == GST_FAL_WATCH_RUN || !watcher->started) {
    status = gst_fal_server_request_get_result (request, &body, &error_type);
    if (watcher->kind == GST_FAL_WATCH_RUN || status != SOUP_STATUS_OK) {
      if (body)
        json_node_unref (body);
      gst_fal_server_respond_result (watcher->msg, request);
      if (g_object_get_data (G_OBJECT (watcher->msg), "gst-fal-truncate"))
        gst_fal_faults_truncate_response (watcher->msg);
      else
        soup_server_message_unpause (watcher->msg);
      return;
    }
    json_node_unref (body);
    body = NULL;
    g_clear_pointer (&error_type, g_free);
    sse_start (watcher->msg);
    gst_fal_server_set_request_id (watcher->msg, request);
  }
  status = gst_fal_server_request_get_result (request, &body, &error_type);
  if (body) {
    g_autofree gchar *json = json_to_string (body, FALSE);

    event = g_strdup_printf (status == SOUP_STATUS_OK ? "data: %s\n\n" :
        "event: error\ndata: %s\n\n", json);
    soup_message_body_append (soup_server_message_get_response_body
        (watcher->msg), SOUP_MEMORY_COPY, event, strlen (event));
    json_node_unref (body);
  }
  sse_close (watcher->msg);
}

typedef struct
{
  GstFalServer *server;
  GstFalServerRequest *request;
  gchar *partial;
  gboolean completed;
} Notification;

static void
notification_free (Notification * notification)
{
  gst_fal_server_request_unref (notification->request);
  g_free (notification->partial);
  g_free (notification);
}

static gboolean
notification_dispatch (Notification * notification)
{
  GstFalServer *self = notification->server;
  g_autoptr (GList) snapshot = g_list_copy (self->watchers);
  GList *l;

  for (l = snapshot; l; l = l->next)
    if (g_list_find (self->watchers, l->data))
      watcher_update (l->data, notification->request, notification->partial,
          notification->completed);
  return G_SOURCE_REMOVE;
}

/* Any thread: hands the change over to the server thread. */
void
gst_fal_watchers_notify (GstFalServerRequest * request, const gchar * partial,
    gpointer user_data)
{
  GstFalServer *self = user_data;
  Notification *notification = g_new0 (Notification, 1);
  GSource *source = g_idle_source_new ();

  notification->server = self;
  notification->request = gst_fal_server_request_ref (request);
  notification->partial = g_strdup (partial);
  notification->completed = !partial
      && gst_fal_server_request_get_state (request) ==
      GST_FAL_SERVER_REQUEST_COMPLETED;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, (GSourceFunc) notification_dispatch,
      notification, (GDestroyNotify) notification_free);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static gboolean
keepalive_cb (GstFalWatcher * watcher)
{
  if (!watcher->responded)
    sse_write (watcher->msg, ": keepalive\n\n");
  return G_SOURCE_CONTINUE;
}

void
gst_fal_watchers_stream_status (GstFalServer * self, SoupServerMessage * msg,
    GstFalServerRequest * request, gboolean with_logs)
{
  GstFalWatcher *watcher =
      gst_fal_watcher_new (self, GST_FAL_WATCH_STATUS, request, msg);

  watcher->with_logs = with_logs;
  sse_start (msg);
  gst_fal_server_set_request_id (msg, request);
  watcher->started = TRUE;
  watcher->keepalive = g_timeout_source_new_seconds (KEEPALIVE_SECONDS);
  g_source_set_callback (watcher->keepalive, (GSourceFunc) keepalive_cb,
      watcher, NULL);
  g_source_attach (watcher->keepalive, self->context);
  watcher_update_status (watcher);
}
