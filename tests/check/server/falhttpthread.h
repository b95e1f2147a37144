/* A SoupServer of a test on loopback, run by a thread of its own (its
 * handlers run there), as a backend or a webhook receiver. */
#pragma once

#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

typedef struct {
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;
  guint port;
} FalHttpThread;

static inline gpointer
fal_http_thread_main (gpointer data)
{
  FalHttpThread *http = data;

  g_main_context_push_thread_default (http->context);
  g_main_loop_run (http->loop);
  g_main_context_pop_thread_default (http->context);
  return NULL;
}

/* Listens on 127.0.0.1, any port, with @callback for every path. */
static inline void
fal_http_thread_start (FalHttpThread * http, SoupServerCallback callback,
    gpointer data)
{
  GSList *uris;

  http->context = g_main_context_new ();
  http->loop = g_main_loop_new (http->context, FALSE);
  http->soup = soup_server_new (NULL, NULL);
  soup_server_add_handler (http->soup, NULL, callback, data, NULL);
  g_main_context_push_thread_default (http->context);
  fail_unless (soup_server_listen_local (http->soup, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  g_main_context_pop_thread_default (http->context);
  uris = soup_server_get_uris (http->soup);
  http->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  http->thread = g_thread_new ("test-http", fal_http_thread_main, http);
}

/* "http://127.0.0.1:PORT@path". (transfer full) */
static inline gchar *
fal_http_thread_url (FalHttpThread * http, const gchar * path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", http->port, path);
}

static inline gboolean
fal_http_thread_quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Stops the thread, then frees the server on this one. */
static inline void
fal_http_thread_stop (FalHttpThread * http)
{
  g_main_context_invoke (http->context, fal_http_thread_quit, http->loop);
  g_thread_join (http->thread);
  g_main_context_push_thread_default (http->context);
  soup_server_disconnect (http->soup);
  g_clear_object (&http->soup);
  while (g_main_context_iteration (http->context, FALSE));
  g_main_context_pop_thread_default (http->context);
  g_main_loop_unref (http->loop);
  g_main_context_unref (http->context);
}
