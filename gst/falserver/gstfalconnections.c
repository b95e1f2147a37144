/* gst-fal server: disconnects the connections that libsoup 3.2 forgets.
 *
 * libsoup < 3.3 keeps a connection whose client closes it between two
 * requests: soup_server_message_io_http1_finished() fails the next, not yet
 * started message with no one to tell, so the connection, its socket and its
 * descriptor stay in the server's client list until the server stops (fixed
 * upstream by commit d20c6601, libsoup 3.3.0).
 *
 * Between two requests each connection gets a watch on its socket, at a lower
 * priority than libsoup's own. When it fires, libsoup has already read what
 * came: a new request (request-started removed the watch) or the end of the
 * stream. If libsoup then holds the connection only in its client list (no
 * message refs it), it dropped it, and the connection is disconnected the way
 * libsoup 3.3 does it: "disconnected" makes the server release it, which
 * closes its stream.
 *
 * SoupServerConnection is private in libsoup 3.2: an emission hook on its
 * "request-started" signal, which carries every message, remembers each
 * message's connection.
 */
#include <libsoup/soup.h>
#include "gstfalserver-private.h"

#define RECHECK_SECONDS 1

struct _GstFalConnections
{
  SoupServer *soup;
  GHashTable *connections;      /* SoupServerConnection → Connection */
};

typedef struct
{
  GstFalConnections *owner;
  GObject *conn;                /* ref */
  GSocket *socket;              /* ref */
  gulong disconnected_id;
  GSource *idle_watch;          /* between two requests */
} Connection;

static GQuark
connection_quark (void)
{
  return g_quark_from_static_string ("gst-fal-server-connection");
}

static gboolean
remember_connection (GSignalInvocationHint * hint, guint n_params,
    const GValue * params, gpointer data)
{
  if (n_params >= 2 && G_VALUE_HOLDS_OBJECT (&params[1]))
    /* the message refs its connection: no dangling pointer */
    g_object_set_qdata (g_value_get_object (&params[1]), connection_quark (),
        g_value_get_object (&params[0]));
  return TRUE;
}

/* TRUE when the hook is installed (libsoup 3.2 once a server listens). */
static gboolean
install_hook (void)
{
  static gsize installed = 0;

  if (g_once_init_enter (&installed)) {
    /* registered by SoupListener's class; its signals by its own class */
    GType type = g_type_from_name ("SoupServerConnection");
    guint id = type && g_type_class_ref (type) ?
        g_signal_lookup ("request-started", type) : 0;

    if (id)
      g_signal_add_emission_hook (id, 0, remember_connection, NULL, NULL);
    else
      g_debug ("no SoupServerConnection::request-started: closed "
          "connections are not watched");
    g_once_init_leave (&installed, id ? 1 : 2);
  }
  return installed == 1;
}

static void
connection_stop_watch (Connection * c)
{
  if (c->idle_watch) {
    g_source_destroy (c->idle_watch);
    g_clear_pointer (&c->idle_watch, g_source_unref);
  }
}

static void
connection_free (Connection * c)
{
  connection_stop_watch (c);
  g_signal_handler_disconnect (c->conn, c->disconnected_id);
  g_object_unref (c->socket);
  g_object_unref (c->conn);
  g_free (c);
}

/* libsoup disconnected it (or we did): forget it. */
static void
connection_disconnected (GObject * conn, Connection * c)
{
  g_hash_table_remove (c->owner->connections, conn);
}

static void connection_watch (Connection * c);

static gboolean
connection_recheck_cb (Connection * c)
{
  g_clear_pointer (&c->idle_watch, g_source_unref);
  connection_watch (c);
  return G_SOURCE_REMOVE;
}

static gboolean
connection_idle_cb (GSocket * socket, GIOCondition condition, Connection * c)
{
  GObject *conn = c->conn;

  /* the server's client list and this record: no message is left */
  if (g_atomic_int_get (&conn->ref_count) == 2) {
    g_debug ("disconnecting a connection its client closed");
    g_object_ref (conn);
    g_signal_emit_by_name (conn, "disconnected");       /* frees c */
    g_object_unref (conn);      /* the last ref: closes the stream */
    return G_SOURCE_REMOVE;
  }
  /* a message of it is still alive somewhere: look again later rather than
   * spin on a readable socket */
  g_clear_pointer (&c->idle_watch, g_source_unref);
  c->idle_watch = g_timeout_source_new_seconds (RECHECK_SECONDS);
  g_source_set_priority (c->idle_watch, G_PRIORITY_LOW);
  g_source_set_callback (c->idle_watch, G_SOURCE_FUNC (connection_recheck_cb),
      c, NULL);
  g_source_attach (c->idle_watch, g_main_context_get_thread_default ());
  return G_SOURCE_REMOVE;
}

static void
connection_watch (Connection * c)
{
  c->idle_watch = g_socket_create_source (c->socket,
      G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_priority (c->idle_watch, G_PRIORITY_LOW);
  g_source_set_callback (c->idle_watch, G_SOURCE_FUNC (connection_idle_cb), c,
      NULL);
  g_source_attach (c->idle_watch, g_main_context_get_thread_default ());
}

static Connection *
lookup (GstFalConnections * self, SoupServerMessage * msg)
{
  GObject *conn = g_object_get_qdata (G_OBJECT (msg), connection_quark ());

  return conn ? g_hash_table_lookup (self->connections, conn) : NULL;
}

static void
request_started (SoupServer * soup, SoupServerMessage * msg,
    GstFalConnections * self)
{
  GObject *conn = g_object_get_qdata (G_OBJECT (msg), connection_quark ());
  GSocket *socket = soup_server_message_get_socket (msg);
  Connection *c;

  if (!conn || !socket)
    return;
  c = g_hash_table_lookup (self->connections, conn);
  if (!c) {
    c = g_new0 (Connection, 1);
    c->owner = self;
    c->conn = g_object_ref (conn);
    c->socket = g_object_ref (socket);
    c->disconnected_id = g_signal_connect (conn, "disconnected",
        G_CALLBACK (connection_disconnected), c);
    g_hash_table_insert (self->connections, conn, c);
  }
  connection_stop_watch (c);
}

/* Emitted before libsoup keeps the connection for the next request or
 * disconnects it (then "disconnected" follows at once). */
static void
request_done (SoupServer * soup, SoupServerMessage * msg,
    GstFalConnections * self)
{
  Connection *c = lookup (self, msg);

  if (c && !c->idle_watch)
    connection_watch (c);
}

GstFalConnections *
gst_fal_connections_new (SoupServer * soup)
{
  GstFalConnections *self;

  /* fixed upstream in 3.3.0 */
  if (soup_get_major_version () != 3 || soup_get_minor_version () >= 3
      || !install_hook ())
    return NULL;
  self = g_new0 (GstFalConnections, 1);
  self->soup = g_object_ref (soup);
  self->connections = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) connection_free);
  g_signal_connect (soup, "request-started", G_CALLBACK (request_started),
      self);
  g_signal_connect (soup, "request-finished", G_CALLBACK (request_done), self);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (request_done), self);
  return self;
}

void
gst_fal_connections_free (GstFalConnections * self)
{
  if (!self)
    return;
  g_signal_handlers_disconnect_by_data (self->soup, self);
  g_hash_table_unref (self->connections);
  g_object_unref (self->soup);
  g_free (self);
}
