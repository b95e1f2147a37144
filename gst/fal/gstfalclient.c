/* gst-fal: GstFalClient, its session thread and the calls of the protocol */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalclient-private.h"
#include "gstfallocal-private.h"
#include "gstfalendpoint-private.h"
#include "gstfalsse-private.h"
#include "gstfaljson-private.h"

#define DEFAULT_TIMEOUT 120.0
#define DEFAULT_MAX_RETRIES 5
#define DEFAULT_RETRY_BASE_DELAY 0.1
#define DEFAULT_RETRY_MAX_DELAY 10.0
#define DEFAULT_STATUS_MODE GST_FAL_STATUS_MODE_STREAM
#define DEFAULT_POLL_INTERVAL 0.1
#define DEFAULT_USER_AGENT "gst-fal/" PACKAGE_VERSION
#define UNBOUNDED_RUN_TIMEOUT 3600.0
/* After a subscribe's deadline or cancellation, how long its cancel on the
 * server may take at most (and no longer than the call's timeout). */
#define SERVER_CANCEL_TIMEOUT 5.0

enum
{
  PROP_0,
  PROP_KEY,
  PROP_SERVER_URL,
  PROP_QUEUE_URL,
  PROP_RUN_URL,
  PROP_REST_URL,
  PROP_TIMEOUT,
  PROP_MAX_RETRIES,
  PROP_RETRY_BASE_DELAY,
  PROP_RETRY_MAX_DELAY,
  PROP_STATUS_MODE,
  PROP_POLL_INTERVAL,
  PROP_USER_AGENT,
  PROP_TLS_CA_FILE,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

G_DEFINE_FINAL_TYPE (GstFalClient, gst_fal_client, G_TYPE_OBJECT);

/* session thread */

struct _GstFalSessionThread
{
  GMainContext *context;
  GMainLoop *loop;
  SoupSession *session;
  gboolean direct;
  GTlsDatabase *tls_database;   /* NULL: the system's */
};

static gpointer
session_thread_run (gpointer user_data)
{
  GstFalSessionThread *st = user_data;

  g_main_context_push_thread_default (st->context);
  /* idle connections are closed before the servers close them: nginx
   * keeps them 75 s, cloud load balancers 60 s or more, gst-fal serve
   * 60 s or more (POSTs keep a shorter margin: gstfalhttp.c) */
  st->session = soup_session_new_with_options ("max-conns", 256,
      "max-conns-per-host", 64, "timeout", 0, "idle-timeout",
      GST_FAL_IDLE_TIMEOUT, NULL);
  if (st->direct)
    soup_session_set_proxy_resolver (st->session, NULL);
  if (st->tls_database)
    soup_session_set_tls_database (st->session, st->tls_database);
  g_main_loop_run (st->loop);
  g_clear_object (&st->session);
  while (g_main_context_iteration (st->context, FALSE));
  g_main_context_pop_thread_default (st->context);
  g_main_loop_unref (st->loop);
  g_main_context_unref (st->context);
  g_clear_object (&st->tls_database);
  g_free (st);
  return NULL;
}

static gboolean
quit_session_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

SoupSession *
gst_fal_client_get_session (GstFalClient * client)
{
  return client->session_thread->session;
}

static void
free_key (gchar * key)
{
  if (key) {
    memset (key, 0, strlen (key));
    g_free (key);
  }
}

/* NULL, empty or only whitespace: no credentials */
static gboolean
is_blank (const gchar * key)
{
  for (; key && *key; key++)
    if (!g_ascii_isspace (*key))
      return FALSE;
  return TRUE;
}

static gchar *
key_from_env (void)
{
  const gchar *key = g_getenv ("FAL_KEY");
  const gchar *id = g_getenv ("FAL_KEY_ID");
  const gchar *secret = g_getenv ("FAL_KEY_SECRET");

  if (!is_blank (key))
    return g_strdup (key);
  if (!is_blank (id) && !is_blank (secret))
    return g_strconcat (id, ":", secret, NULL);
  return NULL;
}

/* A server on this machine is never reached through a proxy. */
static gboolean
is_loopback_url (const gchar * url)
{
  g_autoptr (GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;
  const gchar *host = uri ? g_uri_get_host (uri) : NULL;
  g_autoptr (GInetAddress) address = NULL;

  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address && g_inet_address_get_is_loopback (address);
}

static void
gst_fal_client_constructed (GObject * object)
{
  GstFalClient *client = GST_FAL_CLIENT (object);
  GstFalSessionThread *st = g_new0 (GstFalSessionThread, 1);

  G_OBJECT_CLASS (gst_fal_client_parent_class)->constructed (object);
  if (!client->tls_ca_file) {
    const gchar *env = g_getenv ("GST_FAL_CA_FILE");

    client->tls_ca_file = env && *env ? g_strdup (env) : NULL;
  }
  if (client->tls_ca_file) {
    /* GTlsFileDatabase takes absolute paths only */
    g_autofree gchar *path = g_canonicalize_filename (client->tls_ca_file,
        NULL);

    client->tls_database = g_tls_file_database_new (path, &client->tls_error);
    st->tls_database = client->tls_database ?
        g_object_ref (client->tls_database) : NULL;
  }
  st->context = g_main_context_new ();
  st->loop = g_main_loop_new (st->context, FALSE);
  st->direct = is_loopback_url (client->server_url);
  client->context = g_main_context_ref (st->context);
  client->session_thread = st;
  client->thread = g_thread_new ("gst-fal-session", session_thread_run, st);
}

static void
gst_fal_client_init (GstFalClient * client)
{
  g_mutex_init (&client->lock);
  client->key = key_from_env ();
  gst_fal_endpoint_derive_urls (NULL, &client->queue_url, &client->run_url,
      &client->rest_url);
  client->settings.timeout = DEFAULT_TIMEOUT;
  client->settings.max_retries = DEFAULT_MAX_RETRIES;
  client->settings.retry_base_delay = DEFAULT_RETRY_BASE_DELAY;
  client->settings.retry_max_delay = DEFAULT_RETRY_MAX_DELAY;
  client->settings.status_mode = DEFAULT_STATUS_MODE;
  client->settings.poll_interval = DEFAULT_POLL_INTERVAL;
  client->user_agent = g_strdup (DEFAULT_USER_AGENT);
}

static void
gst_fal_client_finalize (GObject * object)
{
  GstFalClient *client = GST_FAL_CLIENT (object);

  g_main_context_invoke_full (client->context, G_PRIORITY_LOW,
      quit_session_loop, g_main_loop_ref (client->session_thread->loop),
      (GDestroyNotify) g_main_loop_unref);
  if (g_thread_self () == client->thread)
    g_thread_unref (client->thread);
  else
    g_thread_join (client->thread);
  g_main_context_unref (client->context);

  g_clear_object (&client->local);
  free_key (client->key);
  g_free (client->server_url);
  g_free (client->queue_url);
  g_free (client->run_url);
  g_free (client->rest_url);
  g_free (client->user_agent);
  g_free (client->tls_ca_file);
  g_clear_object (&client->tls_database);
  g_clear_error (&client->tls_error);
  g_mutex_clear (&client->lock);
  G_OBJECT_CLASS (gst_fal_client_parent_class)->finalize (object);
}

static void
set_server_url (GstFalClient * client, const gchar * url)
{
  g_free (client->server_url);
  client->server_url = url && *url ? g_strdup (url) : NULL;
  g_free (client->queue_url);
  g_free (client->run_url);
  g_free (client->rest_url);
  gst_fal_endpoint_derive_urls (client->server_url, &client->queue_url,
      &client->run_url, &client->rest_url);
}

static void
gst_fal_client_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalClient *client = GST_FAL_CLIENT (object);
  const gchar *key;

  g_mutex_lock (&client->lock);
  switch (prop_id) {
    case PROP_KEY:
      free_key (client->key);
      key = g_value_get_string (value);
      client->key = is_blank (key) ? NULL : g_strdup (key);
      break;
    case PROP_SERVER_URL:
      set_server_url (client, g_value_get_string (value));
      break;
    case PROP_TIMEOUT:
      client->settings.timeout = g_value_get_double (value);
      break;
    case PROP_MAX_RETRIES:
      client->settings.max_retries = g_value_get_uint (value);
      break;
    case PROP_RETRY_BASE_DELAY:
      client->settings.retry_base_delay = g_value_get_double (value);
      break;
    case PROP_RETRY_MAX_DELAY:
      client->settings.retry_max_delay = g_value_get_double (value);
      break;
    case PROP_STATUS_MODE:
      client->settings.status_mode = g_value_get_enum (value);
      break;
    case PROP_POLL_INTERVAL:
      client->settings.poll_interval = g_value_get_double (value);
      break;
    case PROP_USER_AGENT:
      g_free (client->user_agent);
      client->user_agent = g_value_dup_string (value);
      break;
    case PROP_TLS_CA_FILE:
      g_free (client->tls_ca_file);
      key = g_value_get_string (value);
      client->tls_ca_file = key && *key ? g_strdup (key) : NULL;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&client->lock);
}

static void
gst_fal_client_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalClient *client = GST_FAL_CLIENT (object);

  g_mutex_lock (&client->lock);
  switch (prop_id) {
    case PROP_SERVER_URL:
      g_value_set_string (value, client->server_url);
      break;
    case PROP_QUEUE_URL:
      g_value_set_string (value, client->queue_url);
      break;
    case PROP_RUN_URL:
      g_value_set_string (value, client->run_url);
      break;
    case PROP_REST_URL:
      g_value_set_string (value, client->rest_url);
      break;
    case PROP_TIMEOUT:
      g_value_set_double (value, client->settings.timeout);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_uint (value, client->settings.max_retries);
      break;
    case PROP_RETRY_BASE_DELAY:
      g_value_set_double (value, client->settings.retry_base_delay);
      break;
    case PROP_RETRY_MAX_DELAY:
      g_value_set_double (value, client->settings.retry_max_delay);
      break;
    case PROP_STATUS_MODE:
      g_value_set_enum (value, client->settings.status_mode);
      break;
    case PROP_POLL_INTERVAL:
      g_value_set_double (value, client->settings.poll_interval);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, client->user_agent);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, client->tls_ca_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&client->lock);
}

static void
gst_fal_client_class_init (GstFalClientClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  gobject_class->constructed = gst_fal_client_constructed;
  gobject_class->finalize = gst_fal_client_finalize;
  gobject_class->set_property = gst_fal_client_set_property;
  gobject_class->get_property = gst_fal_client_get_property;

  properties[PROP_KEY] = g_param_spec_string ("key", "Key",
      "Credentials, KEY or ID:SECRET (default: FAL_KEY or "
      "FAL_KEY_ID/FAL_KEY_SECRET)", NULL,
      G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SERVER_URL] = g_param_spec_string ("server-url",
      "Server URL", "One fal-compatible server (NULL: the fal cloud)", NULL,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUEUE_URL] = g_param_spec_string ("queue-url", "Queue URL",
      "Base URL of the queue", NULL, ro);
  properties[PROP_RUN_URL] = g_param_spec_string ("run-url", "Run URL",
      "Base URL of sync runs and streams", NULL, ro);
  properties[PROP_REST_URL] = g_param_spec_string ("rest-url", "REST URL",
      "Base URL of storage and tokens", NULL, ro);
  properties[PROP_TIMEOUT] = g_param_spec_double ("timeout", "Timeout",
      "Default deadline of a whole call in seconds (0: none)", 0, G_MAXDOUBLE,
      DEFAULT_TIMEOUT, rw);
  properties[PROP_MAX_RETRIES] = g_param_spec_uint ("max-retries",
      "Max retries", "Retries of transient failures", 0, 100,
      DEFAULT_MAX_RETRIES, rw);
  properties[PROP_RETRY_BASE_DELAY] = g_param_spec_double ("retry-base-delay",
      "Retry base delay", "First retry delay in seconds (doubles each time)",
      0, 3600, DEFAULT_RETRY_BASE_DELAY, rw);
  properties[PROP_RETRY_MAX_DELAY] = g_param_spec_double ("retry-max-delay",
      "Retry max delay", "Longest retry delay in seconds", 0, 3600,
      DEFAULT_RETRY_MAX_DELAY, rw);
  properties[PROP_STATUS_MODE] = g_param_spec_enum ("status-mode",
      "Status mode", "How wait and subscribe follow a request",
      GST_FAL_TYPE_STATUS_MODE, DEFAULT_STATUS_MODE, rw);
  properties[PROP_POLL_INTERVAL] = g_param_spec_double ("poll-interval",
      "Poll interval", "Seconds between status polls", 0, 3600,
      DEFAULT_POLL_INTERVAL, rw);
  properties[PROP_USER_AGENT] = g_param_spec_string ("user-agent",
      "User agent", "User-Agent header", DEFAULT_USER_AGENT, rw);
  properties[PROP_TLS_CA_FILE] = g_param_spec_string ("tls-ca-file",
      "TLS CA file", "PEM file of the CAs trusted for https, instead of the "
      "system's (default: GST_FAL_CA_FILE)", NULL,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);
}

/**
 * gst_fal_client_new:
 *
 * Returns: (transfer full): a client configured from the environment
 */
GstFalClient *
gst_fal_client_new (void)
{
  return gst_fal_client_new_for_url (g_getenv ("GST_FAL_URL"));
}

/**
 * gst_fal_client_new_for_url:
 * @server_url: (nullable): a fal-compatible server, %NULL for the fal cloud
 *
 * Returns: (transfer full): a new client
 */
GstFalClient *
gst_fal_client_new_for_url (const gchar * server_url)
{
  return g_object_new (GST_FAL_TYPE_CLIENT, "server-url", server_url, NULL);
}

const gchar *
gst_fal_client_get_server_url (GstFalClient * client)
{
  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  return client->server_url;
}

gboolean
gst_fal_client_has_credentials (GstFalClient * client)
{
  gboolean has;

  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), FALSE);
  g_mutex_lock (&client->lock);
  has = client->key != NULL;
  g_mutex_unlock (&client->lock);
  return has;
}

/* The URLs never change after construction. */
const gchar *
gst_fal_client_get_queue_url (GstFalClient * client)
{
  return client->queue_url;
}

const gchar *
gst_fal_client_get_run_url (GstFalClient * client)
{
  return client->run_url;
}

const gchar *
gst_fal_client_get_rest_url (GstFalClient * client)
{
  return client->rest_url;
}

void
gst_fal_client_get_settings (GstFalClient * client,
    GstFalClientSettings * settings)
{
  g_mutex_lock (&client->lock);
  *settings = client->settings;
  g_mutex_unlock (&client->lock);
}

gdouble
gst_fal_client_call_deadline (GstFalClient * client,
    const GstFalOptions * options)
{
  GstFalClientSettings settings;

  if (options && gst_fal_options_get_timeout (options) > 0)
    return gst_fal_options_get_timeout (options);
  gst_fal_client_get_settings (client, &settings);
  return settings.timeout;
}

/* Where a call goes: a client with no server sends `local/…` applications
 * to the in-process local server (as the elements do), through a client of
 * its own that has this one's settings. (transfer full) */
static GstFalClient *
route (GstFalClient * client, const gchar * application, GError ** error)
{
  g_autofree gchar *url = NULL;
  g_autofree gchar *user_agent = NULL;
  GstFalClientSettings settings;
  GstFalClient *local;

  if (client->server_url || application == NULL
      || !g_str_has_prefix (application, "local/"))
    return g_object_ref (client);

  url = gst_fal_local_server_get_url (error);
  if (url == NULL) {
    g_prefix_error (error, "%s: ", application);
    return NULL;
  }
  g_mutex_lock (&client->lock);
  if (client->local == NULL)
    client->local = g_object_new (GST_FAL_TYPE_CLIENT, "server-url", url,
        NULL);
  local = g_object_ref (client->local);
  settings = client->settings;
  user_agent = g_strdup (client->user_agent);
  g_mutex_unlock (&client->lock);

  g_mutex_lock (&local->lock);
  local->settings = settings;
  g_free (local->user_agent);
  local->user_agent = g_steal_pointer (&user_agent);
  g_mutex_unlock (&local->lock);
  return local;
}

/**
 * gst_fal_client_get_request:
 * @client: a client
 * @application: the endpoint id
 * @request_id: an existing request id
 *
 * A handle of a request submitted earlier. The ids are not checked here:
 * with an invalid application or request id, every call of the handle fails
 * with %GST_FAL_ERROR_INVALID_ARGUMENT, naming the id.
 *
 * Returns: (transfer full): a handle
 */
GstFalRequest *
gst_fal_client_get_request (GstFalClient * client, const gchar * application,
    const gchar * request_id)
{
  g_autoptr (GstFalClient) target = NULL;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  g_return_val_if_fail (application != NULL, NULL);
  g_return_val_if_fail (request_id != NULL, NULL);

  /* no local server: the handle's calls go where the client points */
  target = route (client, application, &error);
  if (target == NULL) {
    g_debug ("%s", error->message);
    target = g_object_ref (client);
  }
  return gst_fal_request_new_unchecked (target, application, request_id, NULL,
      NULL, NULL);
}

/* helpers shared by the calls */

static GTask *
call_task_new (GstFalClient * client, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static GBytes *
serialize_arguments (JsonNode * arguments)
{
  g_autoptr (JsonNode) empty = NULL;
  gchar *data;

  if (arguments == NULL) {
    empty = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (empty, json_object_new ());
    arguments = empty;
  }
  data = gst_fal_json_to_string (arguments, FALSE);
  return g_bytes_new_take (data, strlen (data));
}

static void
return_json_response (GTask * task, GstFalHttpResponse * response)
{
  GError *error = NULL;
  JsonNode *node = gst_fal_http_response_parse_json (response, &error);

  if (node)
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
  else
    g_task_return_error (task, error);
}

static void
on_json_answer (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GstFalHttpResponse) response = NULL;
  GError *error = NULL;

  response = gst_fal_client_http_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (response == NULL)
    g_task_return_error (task, error);
  else
    return_json_response (task, response);
}

static gpointer
propagate (GstFalClient * client, GAsyncResult * result, gpointer tag,
    GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* run */

/* A run answers when the app is done: its exchange lasts as long as the
 * call may, and a long time when the call has no deadline. */
static gdouble
run_exchange_timeout (GstFalClient * client, GstFalOptions * options)
{
  gdouble deadline = gst_fal_client_call_deadline (client, options);

  return deadline > 0 ? deadline : UNBOUNDED_RUN_TIMEOUT;
}

/**
 * gst_fal_client_run_async:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the caller's thread-default context
 * @user_data: user data
 */
void
gst_fal_client_run_async (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GstFalClient) target = NULL;
  GTask *task = call_task_new (client, cancellable, callback, user_data,
      gst_fal_client_run_async);
  g_autoptr (GstFalEndpoint) endpoint = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *url = NULL;
  g_auto (GStrv) headers = NULL;
  GError *error = NULL;
  GstFalHttpRequest request = { 0, };

  endpoint = gst_fal_endpoint_parse (application, &error);
  if (endpoint)
    target = route (client, application, &error);
  if (target == NULL) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  url = gst_fal_endpoint_build_url (target->run_url, endpoint->id,
      options ? gst_fal_options_get_path (options) : NULL);
  body = serialize_arguments (arguments);
  headers = gst_fal_options_build_headers (options, FALSE);

  request.method = "POST";
  request.url = url;
  request.body = body;
  request.content_type = "application/json";
  request.auth = GST_FAL_AUTH_KEY;
  request.retry = GST_FAL_RETRY_IDEMPOTENT;
  request.headers = (const gchar * const *) headers;
  request.timeout = run_exchange_timeout (client, options);
  request.deadline = gst_fal_client_call_deadline (client, options);
  request.label = application;
  gst_fal_client_http_async (target, &request, cancellable, on_json_answer,
      task);
}

/**
 * gst_fal_client_run_finish:
 *
 * Returns: (transfer full): the output of the application
 */
JsonNode *
gst_fal_client_run_finish (GstFalClient * client, GAsyncResult * result,
    GError ** error)
{
  return propagate (client, result, gst_fal_client_run_async, error);
}

typedef struct
{
  GstFalClient *client;
  const gchar *application;
  const gchar *request_id;
  JsonNode *arguments;
  GstFalOptions *options;
  gboolean with_logs;
  GstFalStatusFunc on_status;
  GstFalEventFunc on_event;
  gpointer user_data;
} SyncCall;

static void
start_run (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_client_run_async (call->client, call->application, call->arguments,
      call->options, cancellable, callback, user_data);
}

/**
 * gst_fal_client_run:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the output of the application
 */
JsonNode *
gst_fal_client_run (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  SyncCall call = {.client = client,.application = application,
    .arguments = arguments,.options = options
  };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_run, &call,
      cancellable);

  return gst_fal_client_run_finish (client, result, error);
}

/* submit */

static void
on_submitted (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GstFalClient *client = GST_FAL_CLIENT (source);
  g_autoptr (GstFalHttpResponse) response = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GstFalStatus) status = NULL;
  GstFalRequest *request;
  JsonObject *object;
  GError *error = NULL;
  gint position = 0;

  response = gst_fal_client_http_finish (client, result, &error);
  if (response)
    node = gst_fal_http_response_parse_json (response, &error);
  if (node && (!JSON_NODE_HOLDS_OBJECT (node)
          || !json_object_has_member (json_node_get_object (node),
              "request_id"))) {
    error = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL, response->status,
        NULL, NULL, NULL, "%s: the submit answer has no request_id",
        (const gchar *) g_task_get_task_data (task));
    g_clear_pointer (&node, json_node_unref);
  }
  if (node == NULL) {
    g_task_return_error (task, error);
    return;
  }
  object = json_node_get_object (node);
  if (json_object_has_member (object, "queue_position"))
    position = json_object_get_int_member (object, "queue_position");
  request = gst_fal_request_new (client, g_task_get_task_data (task),
      json_object_get_string_member (object, "request_id"),
      json_object_get_string_member_with_default (object, "response_url",
          NULL), json_object_get_string_member_with_default (object,
          "status_url", NULL),
      json_object_get_string_member_with_default (object, "cancel_url", NULL),
      &error);
  if (request == NULL) {
    g_task_return_error (task, error);
    return;
  }
  status = gst_fal_status_new_queued (gst_fal_request_get_request_id
      (request), position, json_object_get_string_member_with_default (object,
          "response_url", NULL),
      json_object_get_string_member_with_default (object, "status_url", NULL),
      json_object_get_string_member_with_default (object, "cancel_url", NULL));
  gst_fal_request_set_submit_status (request, status);
  g_task_return_pointer (task, request, g_object_unref);
}

/**
 * gst_fal_client_submit_async:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the caller's thread-default context
 * @user_data: user data
 */
void
gst_fal_client_submit_async (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GstFalClient) target = NULL;
  GTask *task = call_task_new (client, cancellable, callback, user_data,
      gst_fal_client_submit_async);
  g_autoptr (GstFalEndpoint) endpoint = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GString) url = NULL;
  g_auto (GStrv) headers = NULL;
  GError *error = NULL;
  GstFalHttpRequest request = { 0, };
  g_autofree gchar *base = NULL;
  const gchar *webhook;

  endpoint = gst_fal_endpoint_parse (application, &error);
  if (endpoint)
    target = route (client, application, &error);
  if (target == NULL) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  g_task_set_task_data (task, g_strdup (application), g_free);
  base = gst_fal_endpoint_build_url (target->queue_url, endpoint->id,
      options ? gst_fal_options_get_path (options) : NULL);
  url = g_string_new (base);
  webhook = options ? gst_fal_options_get_webhook_url (options) : NULL;
  if (webhook && *webhook) {
    g_autofree gchar *escaped = g_uri_escape_string (webhook, NULL, TRUE);

    g_string_append_printf (url, "?fal_webhook=%s", escaped);
  }
  if (options)
    gst_fal_options_append_query (options, url);
  body = serialize_arguments (arguments);
  headers = gst_fal_options_build_headers (options, TRUE);

  request.method = "POST";
  request.url = url->str;
  request.body = body;
  request.content_type = "application/json";
  request.auth = GST_FAL_AUTH_KEY;
  request.retry = GST_FAL_RETRY_SAFE;
  request.headers = (const gchar * const *) headers;
  request.deadline = gst_fal_client_call_deadline (client, options);
  request.label = application;
  gst_fal_client_http_async (target, &request, cancellable, on_submitted, task);
}

/**
 * gst_fal_client_submit_finish:
 *
 * Returns: (transfer full): the handle of the queued request
 */
GstFalRequest *
gst_fal_client_submit_finish (GstFalClient * client, GAsyncResult * result,
    GError ** error)
{
  return propagate (client, result, gst_fal_client_submit_async, error);
}

static void
start_submit (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_client_submit_async (call->client, call->application,
      call->arguments, call->options, cancellable, callback, user_data);
}

/**
 * gst_fal_client_submit:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the handle of the queued request
 */
GstFalRequest *
gst_fal_client_submit (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  SyncCall call = {.client = client,.application = application,
    .arguments = arguments,.options = options
  };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_submit, &call,
      cancellable);

  return gst_fal_client_submit_finish (client, result, error);
}

/* status, result, cancel by id */

static GstFalRequest *
request_for_id (GstFalClient * client, const gchar * application,
    const gchar * request_id, GError ** error)
{
  g_autoptr (GstFalClient) target = route (client, application, error);

  if (target == NULL)
    return NULL;
  return gst_fal_request_new (target, application, request_id, NULL, NULL,
      NULL, error);
}

/**
 * gst_fal_client_status:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @request_id: a request id
 * @with_logs: whether to fetch the logs
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the status
 */
GstFalStatus *
gst_fal_client_status (GstFalClient * client, const gchar * application,
    const gchar * request_id, gboolean with_logs, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GstFalRequest) request = request_for_id (client, application,
      request_id, error);

  if (request == NULL)
    return NULL;
  return gst_fal_request_status (request, with_logs, cancellable, error);
}

/**
 * gst_fal_client_result:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @request_id: a request id
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the result
 */
JsonNode *
gst_fal_client_result (GstFalClient * client, const gchar * application,
    const gchar * request_id, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstFalRequest) request = request_for_id (client, application,
      request_id, error);

  if (request == NULL)
    return NULL;
  return gst_fal_request_result (request, cancellable, error);
}

/**
 * gst_fal_client_cancel:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @request_id: a request id
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: %TRUE when cancelled or already completed
 */
gboolean
gst_fal_client_cancel (GstFalClient * client, const gchar * application,
    const gchar * request_id, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstFalRequest) request = request_for_id (client, application,
      request_id, error);

  if (request == NULL)
    return FALSE;
  return gst_fal_request_cancel (request, cancellable, error);
}

/* subscribe: submit, follow, result; a timeout or cancellation cancels the
 * request on the server before failing */

typedef struct
{
  gchar *application;
  GstFalOptions *options;
  GstFalStatusFunc on_status;
  gpointer status_data;
  GDestroyNotify status_data_free;
  gdouble deadline;

  GCancellable *internal;
  GstFalAbortWatch watch;
  GstFalAbortReason abort;
  GstFalRequest *request;
  GError *error;
  gboolean finished;
} Subscribe;

static void
subscribe_free (Subscribe * s)
{
  g_free (s->application);
  g_clear_pointer (&s->options, gst_fal_options_unref);
  if (s->status_data_free)
    s->status_data_free (s->status_data);
  g_clear_object (&s->internal);
  g_clear_object (&s->request);
  g_clear_error (&s->error);
  g_free (s);
}

static void
subscribe_return (GTask * task, JsonNode * node, GError * error)
{
  Subscribe *s = g_task_get_task_data (task);

  s->finished = TRUE;
  gst_fal_abort_watch_stop (&s->watch);
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
  g_object_unref (task);
}

static GError *
subscribe_abort_error (Subscribe * s)
{
  const gchar *id = s->request ? gst_fal_request_get_request_id (s->request)
      : NULL;

  if (s->abort == GST_FAL_ABORT_TIMEOUT)
    return gst_fal_error_new_full (GST_FAL_ERROR_TIMEOUT, 0, NULL, NULL, id,
        "%s: no result within %g s%s%s%s", s->application, s->deadline,
        id ? " (request " : "", id ? id : "", id ? " cancelled)" : "");
  return gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED, 0, NULL, NULL, id,
      "%s: cancelled%s%s%s", s->application, id ? " (request " : "",
      id ? id : "", id ? ")" : "");
}

static void
on_server_cancelled (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  GTask *task = user_data;
  Subscribe *s = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!gst_fal_request_cancel_finish (GST_FAL_REQUEST (source), result, &error))
    g_debug ("%s: cancelling request %s on the server failed: %s",
        s->application, gst_fal_request_get_request_id (s->request),
        error->message);
  subscribe_return (task, NULL, subscribe_abort_error (s));
}

/* Fails the call; after an abort, first cancels the request on the server. */
static void
subscribe_fail (GTask * task, GError * error)
{
  Subscribe *s = g_task_get_task_data (task);

  if (s->abort == GST_FAL_ABORT_NONE) {
    subscribe_return (task, NULL, error);
    return;
  }
  g_error_free (error);
  if (s->request == NULL) {
    subscribe_return (task, NULL, subscribe_abort_error (s));
    return;
  }
  /* the call is already over: its cancel is bounded too, and short */
  gst_fal_request_cancel_bounded_async (s->request, s->deadline > 0 ?
      MIN (s->deadline, SERVER_CANCEL_TIMEOUT) : SERVER_CANCEL_TIMEOUT, NULL,
      on_server_cancelled, task);
}

static void
subscribe_abort (GTask * task, GstFalAbortReason reason)
{
  Subscribe *s = g_task_get_task_data (task);

  if (s->finished || s->abort != GST_FAL_ABORT_NONE)
    return;
  s->abort = reason;
  g_cancellable_cancel (s->internal);
}

static void
on_followed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GTask *task = user_data;
  JsonNode *node = NULL;
  GError *error = NULL;

  if (!gst_fal_request_follow_finish (GST_FAL_REQUEST (source), result, NULL,
          &node, &error)) {
    subscribe_fail (task, error);
    return;
  }
  subscribe_return (task, node, NULL);
}

static void
forward_status (GstFalRequest * request, GstFalStatus * status,
    gpointer user_data)
{
  Subscribe *s = user_data;

  if (s->on_status)
    s->on_status (request, status, s->status_data);
}

static void
on_subscribe_submitted (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  GTask *task = user_data;
  Subscribe *s = g_task_get_task_data (task);
  GError *error = NULL;

  s->request = gst_fal_client_submit_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (s->request == NULL) {
    subscribe_fail (task, error);
    return;
  }
  if (s->on_status)
    s->on_status (s->request, gst_fal_request_get_submit_status (s->request),
        s->status_data);
  if (s->abort != GST_FAL_ABORT_NONE) {
    subscribe_fail (task, g_error_new_literal (GST_FAL_ERROR,
            GST_FAL_ERROR_CANCELLED, "aborted"));
    return;
  }
  gst_fal_request_follow_async (s->request, s->options, 0, TRUE,
      forward_status, s, NULL, s->internal, on_followed, task);
}

/**
 * gst_fal_client_subscribe_async:
 * @client: a client
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @on_status: (scope notified) (closure status_data) (destroy status_data_free) (nullable):
 *   called with the Queued status after the submit, then for each update
 * @status_data: data of @on_status
 * @status_data_free: (nullable): frees @status_data when the call is over
 * @cancellable: (nullable): cancels the call, and the request on the server
 * @callback: called in the caller's thread-default context when done
 * @user_data: data of @callback
 *
 * Submits, follows the status and fetches the result. A timeout (the options'
 * or the client's) or a cancellation cancels the request on the server first,
 * then fails with %GST_FAL_ERROR_TIMEOUT or %GST_FAL_ERROR_CANCELLED.
 */
void
gst_fal_client_subscribe_async (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GstFalStatusFunc on_status, gpointer status_data,
    GDestroyNotify status_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = call_task_new (client, cancellable, callback, user_data,
      gst_fal_client_subscribe_async);
  Subscribe *s = g_new0 (Subscribe, 1);

  s->application = g_strdup (application);
  s->options = gst_fal_options_copy (options);
  s->on_status = on_status;
  s->status_data = status_data;
  s->status_data_free = status_data_free;
  s->deadline = gst_fal_client_call_deadline (client, options);
  s->internal = g_cancellable_new ();
  g_task_set_task_data (task, s, (GDestroyNotify) subscribe_free);

  gst_fal_abort_watch_start (&s->watch, task, s->deadline, cancellable,
      subscribe_abort);
  gst_fal_client_submit_async (client, application, arguments, options,
      s->internal, on_subscribe_submitted, task);
}

/**
 * gst_fal_client_subscribe_finish:
 * @request_id: (out) (optional) (transfer full): id of the request
 *
 * Returns: (transfer full): the result
 */
JsonNode *
gst_fal_client_subscribe_finish (GstFalClient * client,
    GAsyncResult * result, gchar ** request_id, GError ** error)
{
  Subscribe *s;

  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  s = g_task_get_task_data (G_TASK (result));
  if (request_id)
    *request_id = s->request ?
        g_strdup (gst_fal_request_get_request_id (s->request)) : NULL;
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
start_subscribe (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_client_subscribe_async (call->client, call->application,
      call->arguments, call->options, call->on_status, call->user_data, NULL,
      cancellable, callback, user_data);
}

/**
 * gst_fal_client_subscribe:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @on_status: (scope call) (nullable): called for each status
 * @user_data: user data
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the result
 */
JsonNode *
gst_fal_client_subscribe (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options,
    GstFalStatusFunc on_status, gpointer user_data,
    GCancellable * cancellable, GError ** error)
{
  SyncCall call = {.client = client,.application = application,
    .arguments = arguments,.options = options,.on_status = on_status,
    .user_data = user_data
  };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_subscribe, &call,
      cancellable);

  return gst_fal_client_subscribe_finish (client, result, NULL, error);
}

/* stream: POST …/stream, each SSE event as it arrives */

typedef struct
{
  gchar *application;
  GstFalEventFunc on_event;
  gpointer event_data;
  GDestroyNotify event_data_free;
  GstFalSseParser *parser;
  JsonNode *last;
  GError *error;
  GCancellable *internal;
  GCancellable *user_cancellable;
  gulong user_cancelled_id;
} Stream;

static void
stream_free (Stream * st)
{
  g_free (st->application);
  if (st->event_data_free)
    st->event_data_free (st->event_data);
  g_clear_pointer (&st->parser, gst_fal_sse_parser_free);
  g_clear_pointer (&st->last, json_node_unref);
  g_clear_error (&st->error);
  g_clear_object (&st->internal);
  g_clear_object (&st->user_cancellable);
  g_free (st);
}

static void
on_stream_user_cancelled (GCancellable * cancellable, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
on_stream_chunk (GBytes * chunk, gpointer user_data)
{
  GTask *task = user_data;
  Stream *st = g_task_get_task_data (task);
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func
      ((GDestroyNotify) gst_fal_sse_event_free);
  gsize size;
  const gchar *data = g_bytes_get_data (chunk, &size);
  guint i;

  if (st->error)
    return;
  gst_fal_sse_parser_push (st->parser, data, size, events);
  for (i = 0; i < events->len; i++) {
    GstFalSseEvent *event = g_ptr_array_index (events, i);
    g_autoptr (GError) error = NULL;
    JsonNode *node = gst_fal_json_from_string (event->data, -1, &error);

    if (node == NULL) {
      st->error = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL, 0, NULL,
          event->data, NULL, "%s: stream event is not JSON: %s",
          st->application, error->message);
      g_cancellable_cancel (st->internal);
      return;
    }
    g_clear_pointer (&st->last, json_node_unref);
    st->last = node;
    if (st->on_event)
      st->on_event (st->last, st->event_data);
  }
}

static void
on_stream_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Stream *st = g_task_get_task_data (task);
  g_autoptr (GstFalHttpResponse) response = NULL;
  GError *error = NULL;

  response = gst_fal_client_http_finish (GST_FAL_CLIENT (source), result,
      &error);
  if (st->user_cancelled_id) {
    g_cancellable_disconnect (st->user_cancellable, st->user_cancelled_id);
    st->user_cancelled_id = 0;
  }
  if (st->error) {
    g_clear_error (&error);
    g_task_return_error (task, g_steal_pointer (&st->error));
  } else if (error) {
    g_task_return_error (task, error);
  } else if (st->last == NULL) {
    g_task_return_error (task, gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL,
            response->status, NULL, NULL, NULL,
            "%s: the stream ended %swithout any event", st->application,
            gst_fal_sse_parser_has_pending (st->parser) ? "mid-event " : ""));
  } else {
    g_task_return_pointer (task, g_steal_pointer (&st->last),
        (GDestroyNotify) json_node_unref);
  }
}

/**
 * gst_fal_client_stream_async:
 * @client: a client
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @on_event: (scope notified) (closure event_data) (destroy event_data_free) (nullable):
 *   called with each event's JSON data as it arrives
 * @event_data: data of @on_event
 * @event_data_free: (nullable): frees @event_data when the call is over
 * @cancellable: (nullable): closes the stream
 * @callback: called in the caller's thread-default context when done
 * @user_data: data of @callback
 *
 * POSTs to the application's `/stream` endpoint; finishes with the last
 * event (the final output).
 */
void
gst_fal_client_stream_async (GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GstFalEventFunc on_event, gpointer event_data,
    GDestroyNotify event_data_free, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GstFalClient) target = NULL;
  GTask *task = call_task_new (client, cancellable, callback, user_data,
      gst_fal_client_stream_async);
  g_autoptr (GstFalEndpoint) endpoint = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *path = NULL;
  g_auto (GStrv) headers = NULL;
  GError *error = NULL;
  GstFalHttpRequest request = { 0, };
  Stream *st = g_new0 (Stream, 1);

  st->application = g_strdup (application);
  st->on_event = on_event;
  st->event_data = event_data;
  st->event_data_free = event_data_free;
  st->parser = gst_fal_sse_parser_new ();
  st->internal = g_cancellable_new ();
  g_task_set_task_data (task, st, (GDestroyNotify) stream_free);

  endpoint = gst_fal_endpoint_parse (application, &error);
  if (endpoint)
    target = route (client, application, &error);
  if (target == NULL) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  path = g_strdup (options ? gst_fal_options_get_path (options) : "");
  url = gst_fal_endpoint_build_url (target->run_url, endpoint->id, path);
  if (!g_str_has_suffix (url, "/stream")) {
    gchar *with_stream = g_strconcat (url, "/stream", NULL);

    g_free (url);
    url = with_stream;
  }
  body = serialize_arguments (arguments);
  headers = gst_fal_options_build_headers (options, FALSE);

  if (cancellable) {
    st->user_cancellable = g_object_ref (cancellable);
    st->user_cancelled_id = g_cancellable_connect (cancellable,
        G_CALLBACK (on_stream_user_cancelled), g_object_ref (st->internal),
        g_object_unref);
  }
  request.method = "POST";
  request.url = url;
  request.body = body;
  request.content_type = "application/json";
  request.accept = "text/event-stream";
  request.auth = GST_FAL_AUTH_KEY;
  request.retry = GST_FAL_RETRY_SAFE;
  request.headers = (const gchar * const *) headers;
  request.timeout = run_exchange_timeout (client, options);
  request.deadline = gst_fal_client_call_deadline (client, options);
  request.label = application;
  gst_fal_client_http_stream_async (target, &request, on_stream_chunk,
      g_object_ref (task), g_object_unref, st->internal, on_stream_done, task);
}

/**
 * gst_fal_client_stream_finish:
 *
 * Returns: (transfer full): the last event
 */
JsonNode *
gst_fal_client_stream_finish (GstFalClient * client, GAsyncResult * result,
    GError ** error)
{
  return propagate (client, result, gst_fal_client_stream_async, error);
}

static void
start_stream (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  SyncCall *call = data;

  gst_fal_client_stream_async (call->client, call->application,
      call->arguments, call->options, call->on_event, call->user_data, NULL,
      cancellable, callback, user_data);
}

/**
 * gst_fal_client_stream:
 * @client: a #GstFalClient
 * @application: the endpoint id
 * @arguments: (nullable): the input, %NULL for `{}`
 * @options: (nullable): options, %NULL for the defaults
 * @on_event: (scope call) (nullable): called for each event
 * @user_data: user data
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the last event
 */
JsonNode *
gst_fal_client_stream (GstFalClient * client, const gchar * application,
    JsonNode * arguments, GstFalOptions * options, GstFalEventFunc on_event,
    gpointer user_data, GCancellable * cancellable, GError ** error)
{
  SyncCall call = {.client = client,.application = application,
    .arguments = arguments,.options = options,.on_event = on_event,
    .user_data = user_data
  };
  g_autoptr (GAsyncResult) result = gst_fal_run_sync (start_stream, &call,
      cancellable);

  return gst_fal_client_stream_finish (client, result, error);
}

/* For the other library files: route () (gstfalrealtime.c). */
GstFalClient *
gst_fal_client_route_application (GstFalClient * client,
    const gchar * application, GError ** error)
{
  return route (client, application, error);
}
