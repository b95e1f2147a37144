/* gst-fal server: keeps accepting connections after accept() failed.
 *
 * SoupListener stops for good the first time accept() fails (listen_watch()
 * returns G_SOURCE_REMOVE, libsoup 3.2 to 3.7), which out of descriptors
 * (EMFILE) means a server that never answers again. This watch on the
 * listening socket has a lower priority than libsoup's, so it fires only while
 * no listener takes the connections waiting there. With descriptors to spare
 * it listens again (a new SoupListener on the same socket); without, it
 * accepts into a descriptor kept spare for this, answers 503 and closes, so
 * clients are told at once rather than left waiting.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <libsoup/soup.h>
#include "gstfalserver-private.h"

#define RETRY_MS 100
#define UNAVAILABLE_BODY "{\"detail\": \"Server is out of file descriptors\", " \
  "\"error_type\": \"runner_scheduling_failure\"}"
#define UNAVAILABLE "HTTP/1.1 503 Service Unavailable\r\n" \
  "Content-Type: application/json\r\nRetry-After: 1\r\n" \
  "X-Fal-Error-Type: runner_scheduling_failure\r\nConnection: close\r\n" \
  "Content-Length: %d\r\n\r\n%s"

struct _GstFalListener
{
  SoupServer *soup;
  GSocket *socket;
  GSource *watch;
  gint spare;                   /* /dev/null, given up for one accept */
};

static void listener_watch (GstFalListener * self);

static gboolean
retry_cb (GstFalListener * self)
{
  g_clear_pointer (&self->watch, g_source_unref);
  listener_watch (self);
  return G_SOURCE_REMOVE;
}

/* Nothing can be done now: the waiting connections wait a little. */
static void
listener_retry_later (GstFalListener * self)
{
  g_source_destroy (self->watch);
  g_source_unref (self->watch);
  self->watch = g_timeout_source_new (RETRY_MS);
  g_source_set_callback (self->watch, G_SOURCE_FUNC (retry_cb), self, NULL);
  g_source_attach (self->watch, g_main_context_get_thread_default ());
}

/* Accepts one connection into the spare descriptor, answers 503, closes. */
static gboolean
answer_unavailable (GstFalListener * self)
{
  g_autofree gchar *answer = g_strdup_printf (UNAVAILABLE,
      (gint) strlen (UNAVAILABLE_BODY), UNAVAILABLE_BODY);
  GSocket *client;
  gchar discard[4096];

  /* the listening socket blocks (libsoup's listener relies on it) */
  if (!g_socket_condition_check (self->socket, G_IO_IN))
    return FALSE;
  if (self->spare >= 0)
    close (self->spare);
  client = g_socket_accept (self->socket, NULL, NULL);
  if (client) {
    g_socket_set_blocking (client, FALSE);
    g_socket_send (client, answer, strlen (answer), NULL, NULL);
    g_socket_shutdown (client, FALSE, TRUE, NULL);
    /* what the client already sent, so that closing does not reset */
    while (g_socket_receive (client, discard, sizeof discard, NULL, NULL) > 0);
    g_socket_close (client, NULL);
    g_object_unref (client);
  }
  self->spare = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  return client != NULL;
}

static gboolean
listener_cb (GSocket * socket, GIOCondition condition, GstFalListener * self)
{
  g_autoptr (GError) error = NULL;

  if (!gst_fal_descriptors_enough ()) {
    if (!answer_unavailable (self))
      listener_retry_later (self);
    return G_SOURCE_CONTINUE;
  }
  g_debug ("the listener stopped: listening again");
  /* an https server's new listener does TLS too */
  if (!soup_server_listen_socket (self->soup, self->socket,
          soup_server_get_tls_certificate (self->soup) ?
          SOUP_SERVER_LISTEN_HTTPS : 0, &error)) {
    g_debug ("cannot listen again: %s", error->message);
    listener_retry_later (self);
  }
  return G_SOURCE_CONTINUE;
}

static void
listener_watch (GstFalListener * self)
{
  self->watch = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_priority (self->watch, G_PRIORITY_LOW);
  g_source_set_callback (self->watch, G_SOURCE_FUNC (listener_cb), self, NULL);
  g_source_attach (self->watch, g_main_context_get_thread_default ());
}

GstFalListener *
gst_fal_listener_new (SoupServer * soup, GSocket * socket)
{
  GstFalListener *self = g_new0 (GstFalListener, 1);

  self->soup = g_object_ref (soup);
  self->socket = g_object_ref (socket);
  self->spare = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  listener_watch (self);
  return self;
}

void
gst_fal_listener_free (GstFalListener * self)
{
  g_source_destroy (self->watch);
  g_source_unref (self->watch);
  if (self->spare >= 0)
    close (self->spare);
  g_object_unref (self->socket);
  g_object_unref (self->soup);
  g_free (self);
}
