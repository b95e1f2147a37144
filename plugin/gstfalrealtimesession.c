/* gst-fal: endpoint=realtime, one websocket per element shared by its
 * workers
 *
 * The GstFalRealtime emits its signals in the main context that was the
 * thread-default one when it was made: here a context of the session's
 * own, run by a thread of its own, so that a worker blocked in
 * gst_fal_realtime_session_call() is woken whatever the other threads do.
 * Each call registers its message id under the lock it sends with, so a
 * result that comes at once still finds its waiter.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalrealtimesession.h"
#include <gst/fal/gstfalmsgpack-private.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (fal_realtime_session_debug);
#define GST_CAT_DEFAULT fal_realtime_session_debug

typedef struct
{
  GVariant *result;
  GError *error;
  gboolean done;
} Waiter;

struct _GstFalRealtimeSession
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GstFalRealtime *realtime;

  GMutex lock;
  GCond cond;
  GHashTable *waiters;          /* message id → Waiter (not owned) */
  guint n_closed;               /* "closed" signals so far */
};

/* How long freeing waits for the socket's close handshake. */
#define CLOSE_WAIT (2 * G_TIME_SPAN_SECOND)

static void
finish_waiter (GstFalRealtimeSession * self, guint64 id, GVariant * result,
    const GError * error)
{
  Waiter *waiter;

  g_mutex_lock (&self->lock);
  waiter = g_hash_table_lookup (self->waiters, &id);
  if (waiter) {
    g_hash_table_remove (self->waiters, &id);
    waiter->result = result ? g_variant_ref (result) : NULL;
    waiter->error = error ? g_error_copy (error) : NULL;
    waiter->done = TRUE;
    g_cond_broadcast (&self->cond);
  } else {
    /* its job was cancelled (flush, timeout) and went on */
    GST_DEBUG ("message %" G_GUINT64_FORMAT " has no waiter any more", id);
  }
  g_mutex_unlock (&self->lock);
}

static void
on_result (GstFalRealtime * realtime, guint64 id, GVariant * result,
    gpointer user_data)
{
  finish_waiter (user_data, id, result, NULL);
}

static void
on_error (GstFalRealtime * realtime, guint64 id, GError * error,
    gpointer user_data)
{
  /* id 0: about no message; each message that lost its result has its own */
  if (id == 0) {
    GST_INFO ("realtime: %s", error->message);
    return;
  }
  finish_waiter (user_data, id, NULL, error);
}

static void
on_dropped (GstFalRealtime * realtime, guint64 id, gpointer user_data)
{
  g_autoptr (GError) error = gst_fal_error_new_full (GST_FAL_ERROR_SERVER, 0,
      NULL, NULL, NULL, "The server dropped the frame from its buffer "
      "(max_buffering) before it gave its result");

  finish_waiter (user_data, id, NULL, error);
}

static void
on_closed (GstFalRealtime * realtime, gint code, const gchar * reason,
    gpointer user_data)
{
  GstFalRealtimeSession *self = user_data;

  GST_INFO ("realtime socket closed (%d %s); the next frame reopens it",
      code, reason);
  g_mutex_lock (&self->lock);
  self->n_closed++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gpointer
session_thread (gpointer data)
{
  GstFalRealtimeSession *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

GstFalRealtimeSession *
gst_fal_realtime_session_new (GstFalClient * client, const gchar * application)
{
  GstFalRealtimeSession *self = g_new0 (GstFalRealtimeSession, 1);

  if (!fal_realtime_session_debug)
    GST_DEBUG_CATEGORY_INIT (fal_realtime_session_debug, "falrealtime", 0,
        "endpoint=realtime of the fal elements");
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->waiters = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, NULL);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);

  /* its signals come in the context that is thread-default now */
  g_main_context_push_thread_default (self->context);
  self->realtime = gst_fal_realtime_new (client, application);
  g_main_context_pop_thread_default (self->context);
  g_signal_connect (self->realtime, "result", G_CALLBACK (on_result), self);
  g_signal_connect (self->realtime, "error", G_CALLBACK (on_error), self);
  g_signal_connect (self->realtime, "dropped", G_CALLBACK (on_dropped), self);
  g_signal_connect (self->realtime, "closed", G_CALLBACK (on_closed), self);
  self->thread = g_thread_new ("falrealtime", session_thread, self);
  return self;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
gst_fal_realtime_session_free (GstFalRealtimeSession * self)
{
  GSource *source;

  gint64 deadline = g_get_monotonic_time () + CLOSE_WAIT;

  if (!self)
    return;
  gst_fal_realtime_close (self->realtime);
  /* the socket's "closed" comes on this thread's loop: a delivery left in
   * the context after the loop ended would hold the connection for ever */
  g_mutex_lock (&self->lock);
  while (self->n_closed < gst_fal_realtime_get_n_connections (self->realtime)
      && g_cond_wait_until (&self->cond, &self->lock, deadline));
  g_mutex_unlock (&self->lock);
  /* after the deliveries close() queued */
  source = g_idle_source_new ();
  g_source_set_callback (source, quit_loop, self->loop, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);
  g_thread_join (self->thread);
  g_signal_handlers_disconnect_by_data (self->realtime, self);
  g_object_unref (self->realtime);
  /* nobody waits any more: the element stopped its workers first */
  g_hash_table_unref (self->waiters);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

static void
on_cancelled (GCancellable * cancellable, gpointer data)
{
  GstFalRealtimeSession *self = data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

GVariant *
gst_fal_realtime_session_call (GstFalRealtimeSession * self,
    GVariant * message, GCancellable * cancellable, GError ** error)
{
  Waiter waiter = { NULL, NULL, FALSE };
  g_autoptr (GVariant) sunk = g_variant_ref_sink (message);
  gulong handler = 0;
  guint64 id;

  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
        self, NULL);
  g_mutex_lock (&self->lock);
  id = gst_fal_realtime_send (self->realtime, sunk, error);
  if (id == 0) {
    g_mutex_unlock (&self->lock);
    g_cancellable_disconnect (cancellable, handler);
    return NULL;
  }
  g_hash_table_insert (self->waiters, g_memdup2 (&id, sizeof id), &waiter);
  while (!waiter.done && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&self->cond, &self->lock);
  if (!waiter.done)
    g_hash_table_remove (self->waiters, &id);
  g_mutex_unlock (&self->lock);
  g_cancellable_disconnect (cancellable, handler);

  if (!waiter.done) {
    g_cancellable_set_error_if_cancelled (cancellable, error);
    return NULL;
  }
  if (waiter.error) {
    g_propagate_error (error, waiter.error);
    return NULL;
  }
  return waiter.result;
}

/* {"content": "data:…", …} without "url" → {"url": "data:…", …}, deep. */
static void
inline_images_as_urls (JsonNode * node)
{
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    guint i;

    for (i = 0; i < json_array_get_length (array); i++)
      inline_images_as_urls (json_array_get_element (array, i));
  } else if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *object = json_node_get_object (node);
    g_autoptr (GList) members = json_object_get_members (object);
    const gchar *content =
        json_object_get_string_member_with_default (object, "content", NULL);
    GList *l;

    if (content && g_str_has_prefix (content, "data:") &&
        !json_object_has_member (object, "url")) {
      json_object_set_string_member (object, "url", content);
      json_object_remove_member (object, "content");
    }
    for (l = members; l; l = l->next)
      if (json_object_has_member (object, l->data))
        inline_images_as_urls (json_object_get_member (object, l->data));
  }
}

JsonNode *
gst_fal_realtime_session_result_to_json (GVariant * result)
{
  JsonNode *node = gst_fal_msg_to_json (result, GST_FAL_MSG_BINARY_DATA_URI);

  inline_images_as_urls (node);
  return node;
}

GVariant *
gst_fal_realtime_session_message_from_json (JsonNode * arguments)
{
  return gst_fal_msg_from_json (arguments, TRUE);
}
