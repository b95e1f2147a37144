/* gst-fal server: a blocking call on a main context of its own
 * (see gstfalblocking-private.h) */
#include "gstfalblocking-private.h"

static gboolean
timed_out (gpointer data)
{
  GstFalBlocking *blocking = data;

  blocking->timed_out = TRUE;
  g_cancellable_cancel (blocking->cancellable);
  return G_SOURCE_REMOVE;
}

static void
parent_cancelled (GCancellable * parent, GCancellable * cancellable)
{
  g_cancellable_cancel (cancellable);
}

void
gst_fal_blocking_begin (GstFalBlocking * blocking, GCancellable * parent,
    guint timeout)
{
  blocking->context = g_main_context_new ();
  blocking->cancellable = g_cancellable_new ();
  blocking->result = NULL;
  blocking->timed_out = FALSE;
  blocking->deadline = NULL;
  blocking->parent = parent;
  blocking->handler = 0;
  g_main_context_push_thread_default (blocking->context);
  if (parent)
    blocking->handler = g_cancellable_connect (parent,
        G_CALLBACK (parent_cancelled), blocking->cancellable, NULL);
  if (timeout) {
    blocking->deadline = g_timeout_source_new_seconds (timeout);
    g_source_set_callback (blocking->deadline, timed_out, blocking, NULL);
    g_source_attach (blocking->deadline, blocking->context);
  }
}

void
gst_fal_blocking_done (GObject * source, GAsyncResult * result,
    gpointer blocking)
{
  ((GstFalBlocking *) blocking)->result = g_object_ref (result);
}

GAsyncResult *
gst_fal_blocking_wait (GstFalBlocking * blocking)
{
  while (!blocking->result)
    g_main_context_iteration (blocking->context, TRUE);
  return g_steal_pointer (&blocking->result);
}

void
gst_fal_blocking_end (GstFalBlocking * blocking)
{
  if (blocking->deadline) {
    g_source_destroy (blocking->deadline);
    g_clear_pointer (&blocking->deadline, g_source_unref);
  }
  if (blocking->parent)
    g_cancellable_disconnect (blocking->parent, blocking->handler);
  while (g_main_context_iteration (blocking->context, FALSE));
  g_main_context_pop_thread_default (blocking->context);
  g_clear_pointer (&blocking->context, g_main_context_unref);
  g_clear_object (&blocking->cancellable);
}
