/* gst-fal server: a blocking call made of async GIO/libsoup operations on a
 * main context of its own, bounded by a deadline and a parent cancellable
 * (server-internal). The fetches of apps and the exchanges of backend apps
 * run so on a worker's thread: whatever they create there (a SoupSession)
 * is owned by that thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  GMainContext *context;
  GCancellable *cancellable;    /* the parent's, the deadline's, or a caller's */
  GAsyncResult *result;
  gboolean timed_out;
  /* private */
  GSource *deadline;
  GCancellable *parent;
  gulong handler;
} GstFalBlocking;

/* Pushes a new context on this thread; @timeout seconds (0 = none) from now
 * or @parent (may be NULL) cancel blocking->cancellable. */
void gst_fal_blocking_begin (GstFalBlocking * blocking, GCancellable * parent,
    guint timeout);
/* The GAsyncReadyCallback of each operation, with @blocking as its data. */
void gst_fal_blocking_done (GObject * source, GAsyncResult * result,
    gpointer blocking);
/* Iterates the context until the pending operation is done. (transfer full) */
GAsyncResult *gst_fal_blocking_wait (GstFalBlocking * blocking);
/* Drops the deadline, drains and pops the context; call after freeing what
 * was made on it (abort and unref the session first). */
void gst_fal_blocking_end (GstFalBlocking * blocking);

G_END_DECLS
