/* gst-fal: the GstFalClient instance (library-internal) */
#pragma once

#include "gstfalhttp-private.h"

G_BEGIN_DECLS

typedef struct _GstFalSessionThread GstFalSessionThread;

struct _GstFalClient
{
  GObject parent;

  /* settings, under lock */
  GMutex lock;
  gchar *key;
  gchar *server_url;
  gchar *queue_url;
  gchar *run_url;
  gchar *rest_url;
  GstFalClientSettings settings;
  gchar *user_agent;
  /* "tls-ca-file" (else GST_FAL_CA_FILE): the only CAs trusted; the
   * database made from it, or why it could not be (every call fails) */
  gchar *tls_ca_file;
  GTlsDatabase *tls_database;
  GError *tls_error;
  /* with no server: the client of the in-process server, for local/… apps */
  GstFalClient *local;

  /* the session thread; its state is freed by the thread itself, which may
   * outlive the client when the last reference drops in it */
  GThread *thread;
  GMainContext *context;
  GstFalSessionThread *session_thread;
  /* session thread only: when an answer was last read in full, that is
   * when a kept-alive connection last went idle (monotonic, 0 = never) */
  gint64 last_answer_time;
};

/* The client a call of @application goes through: @client itself, or for
 * a local/… app with no server, the client of the in-process server.
 * (transfer full) */
GstFalClient *gst_fal_client_route_application (GstFalClient * client,
    const gchar * application, GError ** error);

/* Session thread only. */
SoupSession *gst_fal_client_get_session (GstFalClient * client);

G_END_DECLS
