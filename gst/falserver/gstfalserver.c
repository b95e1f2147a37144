/* gst-fal server: GstFalServer, the local fal-compatible server: the object,
 * its properties and its lifecycle (start, stop, expiry).
 *
 * A SoupServer runs on its own thread and main context and owns every HTTP
 * message; worker threads take requests from the queue and run the apps;
 * request changes reach the HTTP side as idle sources on the server context.
 * Requests go through the router (gstfalrouter.c) to their route family;
 * docs/server.md "Source layout" lists the files.
 */
#include <string.h>
#include <libsoup/soup.h>
#include "gstfalrouter-private.h"

#define DEFAULT_BIND_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 0
#define DEFAULT_WORKERS 2
#define DEFAULT_MAX_BODY (256 * 1024 * 1024)
/* headers (and each stretch of a body) within this; idle connections longer
 * than a client's own idle reuse (libsoup's SoupSession: 60 s) so that the
 * client, not the server, closes them */
#define DEFAULT_HEADER_TIMEOUT 10
#define DEFAULT_IDLE_TIMEOUT 75
/* well under the usual 1024 open files, with room for app pipelines */
#define DEFAULT_MAX_CONNECTIONS 512
#define EXPIRE_SECONDS 30
#define RETENTION_SECONDS 3600

enum
{
  PROP_0,
  PROP_BIND_ADDRESS,
  PROP_PORT,
  PROP_WORKERS,
  PROP_KEY,
  PROP_STORAGE_DIR,
  PROP_APPS_FILE,
  PROP_MAX_BODY,
  PROP_URL,
  PROP_ADMIN,
  PROP_ALLOW_FETCH,
  PROP_MAX_FETCH_BYTES,
  PROP_MAX_PIXELS,
  PROP_FETCH_TIMEOUT,
  PROP_HEADER_TIMEOUT,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_CONNECTIONS,
  PROP_TLS_CERTIFICATE,
  PROP_BACKENDS,
  PROP_BACKEND_TIMEOUT,
  PROP_WEBHOOK_KEY_FILE,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

G_DEFINE_TYPE (GstFalServer, gst_fal_server, G_TYPE_OBJECT);

/* What the route families use of the server. */
GstFalStorage *
gst_fal_server_get_storage (GstFalServer * self)
{
  return self->storage;
}

GstFalAuth *
gst_fal_server_get_auth (GstFalServer * self)
{
  return self->auth;
}

/* ---------------------------------------------------------------- lifecycle */

/* Completed requests are kept an hour, as fal keeps results. */
static gboolean
expire_cb (GstFalServer * self)
{
  gint64 oldest = g_get_monotonic_time () -
      (gint64) RETENTION_SECONDS * G_USEC_PER_SEC;
  GHashTableIter iter;
  GstFalServerRequest *request;

  gst_fal_storage_expire (self->storage);
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & request)) {
    gboolean old;

    g_mutex_lock (&request->lock);
    old = request->state == GST_FAL_SERVER_REQUEST_COMPLETED
        && request->completed_at < oldest;
    g_mutex_unlock (&request->lock);
    if (old)
      g_hash_table_iter_remove (&iter);
  }
  g_mutex_unlock (&self->lock);
  return G_SOURCE_CONTINUE;
}

static gpointer
server_thread (gpointer data)
{
  GstFalServer *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
is_loopback (const gchar * address)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);

  if (!inet)
    return !g_ascii_strcasecmp (address, "localhost");
  return g_inet_address_get_is_loopback (inet);
}

/* GSocket's default listen backlog of 10 overflows as soon as a pipeline has
 * a few dozen requests in flight: the kernel then drops connections, which
 * costs a 1 s SYN retry or a reset submit. */
#define LISTEN_BACKLOG 1024

static GSocket *
listen_socket_new (GSocketAddress * address, GError ** error)
{
  GSocket *socket;

  socket = g_socket_new (g_socket_address_get_family (address),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!socket)
    return NULL;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, address, TRUE, error)
      || !g_socket_listen (socket, error))
    g_clear_object (&socket);
  return socket;
}

/* The built-in apps, then those of the apps file, then the backends. */
static gboolean
register_apps (GstFalServer * self, GstFalAppRegistry * registry,
    GError ** error)
{
  gchar **spec;

  gst_fal_apps_register_builtin (registry);
  if (self->apps_file && !gst_fal_apps_register_from_file (registry,
          self->apps_file, error))
    return FALSE;
  for (spec = self->backends; spec && *spec; spec++)
    if (!gst_fal_apps_register_backend_spec (registry, *spec,
            self->backend_timeout, error))
      return FALSE;
  return TRUE;
}

gboolean
gst_fal_server_start (GstFalServer * self, GError ** error)
{
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  GSList *listeners;
  GSocketAddress *local;
  GSocket *socket;
  const gchar *scheme;
  guint i;
  gboolean listening;

  g_return_val_if_fail (GST_FAL_IS_SERVER (self), FALSE);
  if (self->started || self->stopped) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "The server was already started");
    return FALSE;
  }
  if (!is_loopback (self->bind_address) && !gst_fal_auth_has_key (self->auth)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "Refusing to listen on %s without a key (a blank key is none)",
        self->bind_address);
    return FALSE;
  }
  inet = g_inet_address_new_from_string (self->bind_address);
  if (!inet && !g_ascii_strcasecmp (self->bind_address, "localhost"))
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  if (!inet) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Invalid bind address %s", self->bind_address);
    return FALSE;
  }

  self->registry = gst_fal_app_registry_new ();
  if (!register_apps (self, self->registry, error))
    return FALSE;
  self->storage = gst_fal_storage_new (self->storage_dir, error);
  if (!self->storage)
    return FALSE;
  if (!self->webhook_keys && !(self->webhook_keys =
          gst_fal_webhook_keys_new (self->webhook_key_file, error)))
    return FALSE;

  self->soup = soup_server_new ("server-header", "gst-fal ",
      "tls-certificate", self->tls_certificate, NULL);
  soup_server_add_handler (self->soup, NULL, gst_fal_faults_callback, self,
      NULL);
  soup_server_add_early_handler (self->soup, NULL,
      gst_fal_router_early_callback, self, NULL);
  address = g_inet_socket_address_new (inet, self->port);
  socket = listen_socket_new (address, error);
  g_main_context_push_thread_default (self->context);
  listening = socket
      && soup_server_listen_socket (self->soup, socket,
      self->tls_certificate ? SOUP_SERVER_LISTEN_HTTPS : 0, error);
  if (listening) {
    self->connections = gst_fal_connections_new (self->soup);
    self->listener = gst_fal_listener_new (self->soup, socket);
    self->limits = gst_fal_limits_new (self->soup, self->header_timeout,
        self->idle_timeout, self->max_connections, self->max_body);
  }
  g_main_context_pop_thread_default (self->context);
  g_clear_object (&socket);
  if (!listening) {
    g_clear_object (&self->soup);
    return FALSE;
  }
  /* the port from the listening socket (soup_server_get_uris leaks) */
  listeners = soup_server_get_listeners (self->soup);
  local = g_socket_get_local_address (listeners->data, error);
  g_slist_free (listeners);
  if (!local) {
    g_clear_pointer (&self->limits, gst_fal_limits_free);
    g_clear_pointer (&self->listener, gst_fal_listener_free);
    g_clear_pointer (&self->connections, gst_fal_connections_free);
    g_clear_object (&self->soup);
    return FALSE;
  }
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  gst_fal_fetch_policy_set_own_address (self->fetch_policy, inet, self->port);
  scheme = self->tls_certificate ? "https" : "http";
  if (g_inet_address_get_is_any (inet))
    self->url = g_strdup_printf ("%s://127.0.0.1:%u", scheme, self->port);
  else if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    self->url = g_strdup_printf ("%s://[%s]:%u", scheme, self->bind_address,
        self->port);
  else
    self->url = g_strdup_printf ("%s://%s:%u", scheme, self->bind_address,
        self->port);

  self->expire_source = g_timeout_source_new_seconds (EXPIRE_SECONDS);
  g_source_set_callback (self->expire_source, (GSourceFunc) expire_cb, self,
      NULL);
  g_source_attach (self->expire_source, self->context);

  self->webhooks = g_thread_pool_new (gst_fal_webhooks_deliver, self, 4,
      FALSE, NULL);
  self->workers = g_ptr_array_new ();
  for (i = 0; i < MAX (self->n_workers, 1); i++)
    g_ptr_array_add (self->workers, g_thread_new ("fal-worker",
            gst_fal_workers_main, self));
  self->thread = g_thread_new ("fal-server", server_thread, self);
  self->started = TRUE;
  g_debug ("listening on %s with %u workers", self->url, self->workers->len);
  return TRUE;
}

static gboolean
quit_cb (GstFalServer * self)
{
  gst_fal_realtime_routes_close_all (self);
  soup_server_disconnect (self->soup);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

void
gst_fal_server_stop (GstFalServer * self)
{
  GHashTableIter iter;
  GstFalServerRequest *request;
  GList *waiting, *l;
  guint i;

  g_return_if_fail (GST_FAL_IS_SERVER (self));
  if (!self->started || self->stopped)
    return;
  self->stopped = TRUE;

  waiting = gst_fal_queue_close (self->queue);
  for (l = waiting; l; l = l->next)
    gst_fal_server_request_fail (l->data, 499, "Server stopped",
        "client_cancelled");
  g_list_free_full (waiting, (GDestroyNotify) gst_fal_server_request_unref);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & request)) {
    g_mutex_lock (&request->lock);
    if (request->state != GST_FAL_SERVER_REQUEST_COMPLETED)
      request->cancel_requested = TRUE;
    g_mutex_unlock (&request->lock);
    g_cancellable_cancel (request->cancellable);
  }
  g_mutex_unlock (&self->lock);

  for (i = 0; i < self->workers->len; i++)
    g_thread_join (g_ptr_array_index (self->workers, i));
  g_ptr_array_set_size (self->workers, 0);
  g_thread_pool_free (self->webhooks, FALSE, TRUE);
  self->webhooks = NULL;

  g_main_context_invoke (self->context, (GSourceFunc) quit_cb, self);
  g_thread_join (self->thread);
  self->thread = NULL;
  /* the server thread is gone: finish its work (closed connections) here */
  g_main_context_push_thread_default (self->context);
  while (self->watchers)
    gst_fal_watcher_free (self->watchers->data);
  g_source_destroy (self->expire_source);
  g_clear_pointer (&self->expire_source, g_source_unref);
  g_clear_pointer (&self->limits, gst_fal_limits_free);
  g_clear_pointer (&self->listener, gst_fal_listener_free);
  g_clear_pointer (&self->connections, gst_fal_connections_free);
  g_clear_object (&self->soup);
  while (g_main_context_iteration (self->context, FALSE));
  g_main_context_pop_thread_default (self->context);
}

const gchar *
gst_fal_server_get_url (GstFalServer * self)
{
  g_return_val_if_fail (GST_FAL_IS_SERVER (self), NULL);
  return self->url;
}

GstFalServer *
gst_fal_server_new (void)
{
  return g_object_new (GST_FAL_TYPE_SERVER, NULL);
}

GstFalServer *
gst_fal_server_get_default (GError ** error)
{
  static GMutex lock;
  static GstFalServer *server;
  GstFalServer *result = NULL;

  g_mutex_lock (&lock);
  if (!server) {
    GstFalServer *candidate = g_object_new (GST_FAL_TYPE_SERVER,
        "key", NULL, NULL);

    if (gst_fal_server_start (candidate, error))
      server = candidate;
    else
      g_object_unref (candidate);
  }
  if (server)
    result = g_object_ref (server);
  g_mutex_unlock (&lock);
  return result;
}

GPtrArray *
gst_fal_server_list_apps (GstFalServer * self)
{
  GstFalAppRegistry *registry = self->registry;
  g_autoptr (GPtrArray) apps = NULL;
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  guint i;

  g_return_val_if_fail (GST_FAL_IS_SERVER (self), lines);
  if (!registry) {
    registry = gst_fal_app_registry_new ();
    register_apps (self, registry, NULL);
  }
  apps = gst_fal_app_registry_list (registry);
  for (i = 0; i < apps->len; i++) {
    const GstFalAppInfo *info = g_ptr_array_index (apps, i);

    g_ptr_array_add (lines, g_strdup_printf ("%s\t%s", info->name,
            info->description ? info->description : ""));
  }
  g_clear_pointer (&apps, g_ptr_array_unref);
  if (registry != self->registry)
    gst_fal_app_registry_free (registry);
  return lines;
}

void
gst_fal_server_set_faults (GstFalServer * self,
    const GstFalServerFaults * faults)
{
  g_return_if_fail (GST_FAL_IS_SERVER (self));
  g_mutex_lock (&self->lock);
  if (faults) {
    self->faults = *faults;
    gst_fal_admin_faults_clamp (&self->faults);
  } else {
    memset (&self->faults, 0, sizeof (self->faults));
  }
  g_mutex_unlock (&self->lock);
}

/* ---------------------------------------------------------------- GObject */

static void
gst_fal_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalServer *self = GST_FAL_SERVER (object);

  if (self->started) {
    g_warning ("GstFalServer: property %s set after start is ignored",
        pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_BIND_ADDRESS:
      g_free (self->bind_address);
      self->bind_address = g_value_dup_string (value);
      if (!self->bind_address)
        self->bind_address = g_strdup (DEFAULT_BIND_ADDRESS);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_WORKERS:
      self->n_workers = g_value_get_uint (value);
      break;
    case PROP_KEY:
      gst_fal_auth_set_key (self->auth, g_value_get_string (value));
      break;
    case PROP_STORAGE_DIR:
      g_free (self->storage_dir);
      self->storage_dir = g_value_dup_string (value);
      break;
    case PROP_APPS_FILE:
      g_free (self->apps_file);
      self->apps_file = g_value_dup_string (value);
      break;
    case PROP_MAX_BODY:
      self->max_body = g_value_get_uint64 (value);
      break;
    case PROP_HEADER_TIMEOUT:
      self->header_timeout = g_value_get_uint (value);
      break;
    case PROP_IDLE_TIMEOUT:
      self->idle_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_CONNECTIONS:
      self->max_connections = g_value_get_uint (value);
      break;
    case PROP_ADMIN:
      self->admin = g_value_get_boolean (value);
      break;
    case PROP_ALLOW_FETCH:
      g_strfreev (self->fetch_policy->allow);
      self->fetch_policy->allow = g_value_dup_boxed (value);
      break;
    case PROP_MAX_FETCH_BYTES:
      self->fetch_policy->max_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_PIXELS:
      self->fetch_policy->max_pixels = g_value_get_uint64 (value);
      break;
    case PROP_FETCH_TIMEOUT:
      self->fetch_policy->timeout = g_value_get_uint (value);
      break;
    case PROP_TLS_CERTIFICATE:
      g_set_object (&self->tls_certificate, g_value_get_object (value));
      break;
    case PROP_BACKENDS:
      g_strfreev (self->backends);
  g_free (self->webhook_key_file);
      self->backends = g_value_dup_boxed (value);
      break;
    case PROP_BACKEND_TIMEOUT:
      self->backend_timeout = g_value_get_uint (value);
      break;
    case PROP_WEBHOOK_KEY_FILE:
      g_free (self->webhook_key_file);
      self->webhook_key_file = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_fal_server_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalServer *self = GST_FAL_SERVER (object);

  switch (prop_id) {
    case PROP_BIND_ADDRESS:
      g_value_set_string (value, self->bind_address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_WORKERS:
      g_value_set_uint (value, self->n_workers);
      break;
    case PROP_STORAGE_DIR:
      g_value_set_string (value, self->storage ?
          gst_fal_storage_get_dir (self->storage) : self->storage_dir);
      break;
    case PROP_APPS_FILE:
      g_value_set_string (value, self->apps_file);
      break;
    case PROP_MAX_BODY:
      g_value_set_uint64 (value, self->max_body);
      break;
    case PROP_HEADER_TIMEOUT:
      g_value_set_uint (value, self->header_timeout);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, self->idle_timeout);
      break;
    case PROP_MAX_CONNECTIONS:
      g_value_set_uint (value, self->max_connections);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_ADMIN:
      g_value_set_boolean (value, self->admin);
      break;
    case PROP_ALLOW_FETCH:
      g_value_set_boxed (value, self->fetch_policy->allow);
      break;
    case PROP_MAX_FETCH_BYTES:
      g_value_set_uint64 (value, self->fetch_policy->max_bytes);
      break;
    case PROP_MAX_PIXELS:
      g_value_set_uint64 (value, self->fetch_policy->max_pixels);
      break;
    case PROP_FETCH_TIMEOUT:
      g_value_set_uint (value, self->fetch_policy->timeout);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, self->tls_certificate);
      break;
    case PROP_BACKENDS:
      g_value_set_boxed (value, self->backends);
      break;
    case PROP_BACKEND_TIMEOUT:
      g_value_set_uint (value, self->backend_timeout);
      break;
    case PROP_WEBHOOK_KEY_FILE:
      g_value_set_string (value, self->webhook_key_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_fal_server_finalize (GObject * object)
{
  GstFalServer *self = GST_FAL_SERVER (object);

  gst_fal_server_stop (self);
  g_hash_table_unref (self->requests);
  gst_fal_auth_free (self->auth);
  g_clear_pointer (&self->workers, g_ptr_array_unref);
  g_clear_pointer (&self->queue, gst_fal_queue_free);
  g_clear_pointer (&self->storage, gst_fal_storage_free);
  g_clear_pointer (&self->registry, gst_fal_app_registry_free);
  g_clear_pointer (&self->webhook_keys, gst_fal_webhook_keys_free);
  g_strfreev (self->backends);
  g_free (self->webhook_key_file);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_rand_free (self->rand);
  g_mutex_clear (&self->lock);
  g_free (self->bind_address);
  g_free (self->storage_dir);
  g_free (self->apps_file);
  g_free (self->url);
  g_clear_object (&self->tls_certificate);
  gst_fal_fetch_policy_free (self->fetch_policy);
  G_OBJECT_CLASS (gst_fal_server_parent_class)->finalize (object);
}

static void
gst_fal_server_class_init (GstFalServerClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = gst_fal_server_set_property;
  object_class->get_property = gst_fal_server_get_property;
  object_class->finalize = gst_fal_server_finalize;

  properties[PROP_BIND_ADDRESS] = g_param_spec_string ("bind-address",
      "Bind address", "Address to listen on", DEFAULT_BIND_ADDRESS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PORT] = g_param_spec_uint ("port", "Port",
      "Port to listen on (0 = ephemeral)", 0, 65535, DEFAULT_PORT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_WORKERS] = g_param_spec_uint ("workers", "Workers",
      "Number of worker threads running apps", 1, 1024, DEFAULT_WORKERS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_KEY] = g_param_spec_string ("key", "Key",
      "API key required for API calls (default: FAL_KEY)", NULL,
      G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STORAGE_DIR] = g_param_spec_string ("storage-dir",
      "Storage directory", "Directory of stored files (default: temporary)",
      NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_APPS_FILE] = g_param_spec_string ("apps-file", "Apps file",
      "Key file declaring extra apps", NULL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_BODY] = g_param_spec_uint64 ("max-body", "Max body",
      "Largest accepted request body in bytes", 1, G_MAXUINT64,
      DEFAULT_MAX_BODY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_URL] = g_param_spec_string ("url", "URL",
      "Base URL once started", NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ADMIN] = g_param_spec_boolean ("admin", "Admin",
      "Serve the admin routes (/_admin/faults); they need the key", FALSE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* the fetches of apps: see gstfalfetchpolicy.h and docs/server.md */
  properties[PROP_ALLOW_FETCH] = g_param_spec_boxed ("allow-fetch",
      "Allow fetch", "Hosts apps may fetch media from: patterns (public, "
      "ADDRESS[/BITS], HOST-GLOB[:PORT]); default public addresses only",
      G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_FETCH_BYTES] = g_param_spec_uint64 ("max-fetch-bytes",
      "Max fetch bytes", "Largest input media of an app, in bytes (0 = none)",
      0, G_MAXUINT64, GST_FAL_DEFAULT_MAX_FETCH_BYTES,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_PIXELS] = g_param_spec_uint64 ("max-pixels",
      "Max pixels", "Largest input image of an app, in pixels (0 = none)",
      0, G_MAXUINT64, GST_FAL_DEFAULT_MAX_PIXELS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FETCH_TIMEOUT] = g_param_spec_uint ("fetch-timeout",
      "Fetch timeout", "Longest fetch of an input media, in seconds "
      "(0 = none)", 0, G_MAXUINT, GST_FAL_DEFAULT_FETCH_TIMEOUT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* the request limits: see gstfallimits.c and docs/server.md */
  properties[PROP_HEADER_TIMEOUT] = g_param_spec_uint ("header-timeout",
      "Header timeout", "Seconds a connection has to send complete request "
      "headers, and then each part of a body", 1, 3600,
      DEFAULT_HEADER_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_IDLE_TIMEOUT] = g_param_spec_uint ("idle-timeout",
      "Idle timeout", "Seconds a kept-alive connection may wait for its next "
      "request; clients should reuse connections for less", 1, 86400,
      DEFAULT_IDLE_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_CONNECTIONS] = g_param_spec_uint ("max-connections",
      "Max connections", "Open client connections at most; beyond, the one "
      "idle or waiting for headers longest is closed, else the new one gets "
      "503", 1, 65536, DEFAULT_MAX_CONNECTIONS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* with its private key, e.g. from g_tls_certificate_new_from_files() */
  properties[PROP_TLS_CERTIFICATE] = g_param_spec_object ("tls-certificate",
      "TLS certificate", "Certificate and key to serve https with (NULL: "
      "http)", G_TYPE_TLS_CERTIFICATE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* apps fronting HTTP model servers: see gstfalappsbackend.c */
  properties[PROP_BACKENDS] = g_param_spec_boxed ("backends", "Backends",
      "Apps fronting a bare HTTP model server, each OWNER/NAME=URL: a "
      "request's input is posted to URL, its JSON answer is the output",
      G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BACKEND_TIMEOUT] = g_param_spec_uint ("backend-timeout",
      "Backend timeout", "Longest exchange with the backend of an app of "
      "backends, in seconds (0 = none)", 0, G_MAXUINT,
      GST_FAL_APPS_DEFAULT_BACKEND_TIMEOUT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* the webhooks' signatures: see gstfalwebhooks.c */
  properties[PROP_WEBHOOK_KEY_FILE] = g_param_spec_string ("webhook-key-file",
      "Webhook key file", "File keeping the Ed25519 key webhooks are signed "
      "with, made (mode 0600) if missing; NULL: a new key at each start",
      NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPERTIES, properties);
}

static void
gst_fal_server_init (GstFalServer * self)
{
  self->bind_address = g_strdup (DEFAULT_BIND_ADDRESS);
  self->port = DEFAULT_PORT;
  self->n_workers = DEFAULT_WORKERS;
  self->auth = gst_fal_auth_new (g_getenv ("FAL_KEY"));
  self->max_body = DEFAULT_MAX_BODY;
  self->header_timeout = DEFAULT_HEADER_TIMEOUT;
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  self->max_connections = DEFAULT_MAX_CONNECTIONS;
  self->fetch_policy = gst_fal_fetch_policy_new ();
  self->backend_timeout = GST_FAL_APPS_DEFAULT_BACKEND_TIMEOUT;
  g_mutex_init (&self->lock);
  self->rand = g_rand_new ();
  self->requests = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) gst_fal_server_request_unref);
  self->queue = gst_fal_queue_new ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
}
