/* gst-fal: what the elements of the fal plugin share */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalelements.h"

#include <string.h>
#include <gst/falserver/gstfalserver.h>

GST_DEBUG_CATEGORY_STATIC (fal_element_debug);
#define GST_CAT_DEFAULT fal_element_debug

#define CLIENT_DATA "gst-fal-client"
#define CONTEXT_CLIENT_DATA "gst-fal-context-client"
#define SERVER_DATA "gst-fal-server"
#define FROM_APPLICATION_DATA "gst-fal-context-from-application"

/* Marks the contexts our elements make, to tell them from the
 * application's own. */
#define CONTEXT_FROM_ELEMENT_FIELD "from-element"

void
gst_fal_element_init (GstPlugin * plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (fal_element_debug, "falelement", 0,
        "fal elements: client sharing and errors");
    gst_fal_result_meta_get_info ();
    g_once_init_leave (&done, 1);
  }
}

static gboolean
env_url_set (void)
{
  const gchar *url = g_getenv ("GST_FAL_URL");
  return url && *url;
}

/* The CA file a client made for @tls_ca_file uses (NULL: the system's). */
static const gchar *
effective_ca_file (const gchar * tls_ca_file)
{
  const gchar *env = g_getenv ("GST_FAL_CA_FILE");

  if (tls_ca_file && *tls_ca_file)
    return tls_ca_file;
  return env && *env ? env : NULL;
}

static gboolean
client_has_ca_file (GstFalClient * client, const gchar * tls_ca_file)
{
  g_autofree gchar *file = NULL;

  g_object_get (client, "tls-ca-file", &file, NULL);
  return g_strcmp0 (file, effective_ca_file (tls_ca_file)) == 0;
}

GstContext *
gst_fal_element_new_context (GstFalClient * client)
{
  GstContext *context = gst_context_new (GST_FAL_CLIENT_CONTEXT_TYPE, FALSE);

  gst_structure_set (gst_context_writable_structure (context), "client",
      GST_FAL_TYPE_CLIENT, client, CONTEXT_FROM_ELEMENT_FIELD, G_TYPE_BOOLEAN,
      TRUE, NULL);
  return context;
}

static GstFalClient *
client_from_context (GstContext * context, gboolean * from_application)
{
  const GstStructure *s;
  GstFalClient *client = NULL;
  gboolean from_element = FALSE;

  if (!context || g_strcmp0 (gst_context_get_context_type (context),
          GST_FAL_CLIENT_CONTEXT_TYPE) != 0)
    return NULL;
  s = gst_context_get_structure (context);
  if (!gst_structure_get (s, "client", GST_FAL_TYPE_CLIENT, &client, NULL))
    return NULL;
  gst_structure_get_boolean (s, CONTEXT_FROM_ELEMENT_FIELD, &from_element);
  *from_application = !from_element;
  return client;
}

void
gst_fal_element_handle_set_context (GstElement * element, GstContext * context)
{
  gboolean from_application = FALSE;
  GstFalClient *client = client_from_context (context, &from_application);

  if (!client)
    return;
  GST_DEBUG_OBJECT (element, "given a shared client for %s by %s",
      GST_STR_NULL (gst_fal_client_get_server_url (client)),
      from_application ? "the application" : "another element");
  /* once the application gave one, contexts of other elements don't
   * replace it */
  if (from_application || !g_object_get_data (G_OBJECT (element),
          FROM_APPLICATION_DATA)) {
    g_object_set_data_full (G_OBJECT (element), CONTEXT_CLIENT_DATA,
        g_object_ref (client), g_object_unref);
    g_object_set_data (G_OBJECT (element), FROM_APPLICATION_DATA,
        GINT_TO_POINTER (from_application));
  }
  g_object_unref (client);
}

static gboolean
query_peers (GstElement * element, GstQuery * query)
{
  GstIterator *it = gst_element_iterate_pads (element);
  GValue item = G_VALUE_INIT;
  gboolean found = FALSE;

  while (!found && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&item);
    found = gst_pad_peer_query (pad, query);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

/* Runs the context dance: peers, then need-context on the bus. */
static void
ask_for_context (GstElement * element)
{
  GstQuery *query = gst_query_new_context (GST_FAL_CLIENT_CONTEXT_TYPE);

  if (query_peers (element, query)) {
    GstContext *context = NULL;
    gst_query_parse_context (query, &context);
    if (context)
      gst_element_set_context (element, context);
  }
  gst_query_unref (query);

  if (!g_object_get_data (G_OBJECT (element), CONTEXT_CLIENT_DATA))
    gst_element_post_message (element,
        gst_message_new_need_context (GST_OBJECT (element),
            GST_FAL_CLIENT_CONTEXT_TYPE));
}

static void
post_have_context (GstElement * element, GstFalClient * client)
{
  GstContext *context = gst_fal_element_new_context (client);

  gst_element_post_message (element,
      gst_message_new_have_context (GST_OBJECT (element), context));
}

/* The embedded server with the runners this element reserved on it. */
typedef struct
{
  GstFalServer *server;
  gchar *application;
  gint runners;
} ServerReservation;

static void
server_reservation_free (ServerReservation * reservation)
{
  gst_fal_server_reserve_runners (reservation->server,
      reservation->application, -reservation->runners);
  g_object_unref (reservation->server);
  g_free (reservation->application);
  g_free (reservation);
}

/* The embedded server sizes itself for the pipeline that uses it: each
 * element reserves a runner per request it keeps in flight, so that they
 * do not wait for each other. */
static void
reserve_runners (GstElement * element, GstFalServer * server,
    const gchar * application)
{
  ServerReservation *reservation = g_new0 (ServerReservation, 1);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS
      (element), "max-in-flight");
  guint in_flight = 1;

  if (pspec && pspec->value_type == G_TYPE_UINT)
    g_object_get (element, "max-in-flight", &in_flight, NULL);
  reservation->server = server;
  reservation->application = g_strdup (application);
  reservation->runners = MAX (in_flight, 1);
  gst_fal_server_reserve_runners (server, application, reservation->runners);
  g_object_set_data_full (G_OBJECT (element), SERVER_DATA, reservation,
      (GDestroyNotify) server_reservation_free);
}

static GstFalClient *
keep_client (GstElement * element, GstFalClient * client)
{
  g_object_set_data_full (G_OBJECT (element), CLIENT_DATA,
      g_object_ref (client), g_object_unref);
  return g_object_ref (client);
}

GstFalClient *
gst_fal_element_acquire_client (GstElement * element,
    const gchar * server_url, const gchar * key, const gchar * tls_ca_file,
    const gchar * application, GError ** error)
{
  g_autofree gchar *wanted_url = NULL;
  GstFalServer *server = NULL;
  GstFalClient *shared, *client;
  gboolean use_env = FALSE;

  /* a key of the element's own is never shared; a client the application
   * gave is used as given */
  if (!key || !*key) {
    if (!g_object_get_data (G_OBJECT (element), CONTEXT_CLIENT_DATA))
      ask_for_context (element);
    shared = g_object_get_data (G_OBJECT (element), CONTEXT_CLIENT_DATA);
    if (shared && g_object_get_data (G_OBJECT (element),
            FROM_APPLICATION_DATA)) {
      GST_DEBUG_OBJECT (element, "using the application's client");
      return keep_client (element, shared);
    }
  }

  if (server_url && *server_url)
    wanted_url = g_strdup (server_url);
  else if (env_url_set ())
    use_env = TRUE;
  else if (application && g_str_has_prefix (application, "local/")) {
    server = gst_fal_server_get_default (error);
    if (!server)
      return NULL;
    wanted_url = g_strdup (gst_fal_server_get_url (server));
    reserve_runners (element, server, application);
  } else
    use_env = TRUE;

  if (use_env)
    wanted_url = g_strdup (env_url_set ()? g_getenv ("GST_FAL_URL") : NULL);

  /* another element's client serves when it goes to the same server */
  if (!key || !*key) {
    shared = g_object_get_data (G_OBJECT (element), CONTEXT_CLIENT_DATA);
    if (shared && g_strcmp0 (gst_fal_client_get_server_url (shared),
            wanted_url) == 0 && client_has_ca_file (shared, tls_ca_file)) {
      GST_DEBUG_OBJECT (element, "using the shared client");
      return keep_client (element, shared);
    }
  }

  /* (with use_env, wanted_url is GST_FAL_URL: gst_fal_client_new ()) */
  client = g_object_new (GST_FAL_TYPE_CLIENT, "server-url", wanted_url,
      "tls-ca-file", tls_ca_file, NULL);
  if (key && *key)
    g_object_set (client, "key", key, NULL);
  GST_DEBUG_OBJECT (element, "new client for %s",
      GST_STR_NULL (gst_fal_client_get_server_url (client)));
  g_object_set_data_full (G_OBJECT (element), CLIENT_DATA,
      g_object_ref (client), g_object_unref);
  if (!key || !*key)
    post_have_context (element, client);
  return client;
}

static void
map_error (const GError * error, GQuark * domain, gint * code)
{
  *domain = GST_RESOURCE_ERROR;
  *code = GST_RESOURCE_ERROR_FAILED;
  if (error->domain == GST_FAL_ERROR) {
    switch (error->code) {
      case GST_FAL_ERROR_MISSING_CREDENTIALS:
      case GST_FAL_ERROR_UNAUTHORIZED:
        *code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
        break;
      case GST_FAL_ERROR_NOT_FOUND:
        *code = GST_RESOURCE_ERROR_NOT_FOUND;
        break;
      case GST_FAL_ERROR_PROTOCOL:
        *domain = GST_STREAM_ERROR;
        *code = GST_STREAM_ERROR_DECODE;
        break;
      case GST_FAL_ERROR_ENCODE:
        *domain = GST_STREAM_ERROR;
        *code = GST_STREAM_ERROR_ENCODE;
        break;
      case GST_FAL_ERROR_INVALID_ARGUMENT:
        *domain = GST_LIBRARY_ERROR;
        *code = GST_LIBRARY_ERROR_SETTINGS;
        break;
      case GST_FAL_ERROR_SERVER:
        if (gst_fal_error_get_http_status (error) == 0)
          *code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
        break;
      default:
        break;
    }
  } else if (error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR
      || error->domain == G_TLS_ERROR) {
    *code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
  }
}

void
gst_fal_element_clear_key (gchar ** key)
{
  if (*key)
    memset (*key, 0, strlen (*key));
  g_clear_pointer (key, g_free);
}

/* "HTTP 422, error type X, request Y, detail: Z", naming only what is known */
static gchar *
debug_text (guint http_status, const gchar * error_type,
    const gchar * request_id, const gchar * detail)
{
  GString *text = g_string_new (NULL);

  if (http_status)
    g_string_append_printf (text, "HTTP %u", http_status);
  else
    g_string_append (text, "no HTTP answer");
  if (error_type)
    g_string_append_printf (text, ", error type %s", error_type);
  if (request_id)
    g_string_append_printf (text, ", request %s", request_id);
  if (detail)
    g_string_append_printf (text, ", detail: %s", detail);
  return g_string_free (text, FALSE);
}

void
gst_fal_element_post_error (GstElement * element, const GError * error,
    gboolean as_warning)
{
  GQuark domain;
  gint code;
  GstStructure *details;
  const gchar *error_type = gst_fal_error_get_error_type (error);
  const gchar *detail = gst_fal_error_get_detail (error);
  const gchar *request_id = gst_fal_error_get_request_id (error);
  guint http_status = gst_fal_error_get_http_status (error);
  gchar *debug;

  map_error (error, &domain, &code);
  details = gst_structure_new ("details",
      "http-status-code", G_TYPE_UINT, http_status, NULL);
  if (error_type)
    gst_structure_set (details, "error-type", G_TYPE_STRING, error_type, NULL);
  if (detail)
    gst_structure_set (details, "detail", G_TYPE_STRING, detail, NULL);
  if (request_id)
    gst_structure_set (details, "request-id", G_TYPE_STRING, request_id, NULL);
  debug = debug_text (http_status, error_type, request_id, detail);

  gst_element_message_full_with_details (element,
      as_warning ? GST_MESSAGE_WARNING : GST_MESSAGE_ERROR, domain, code,
      gst_fal_error_get_summary (error), debug, __FILE__, GST_FUNCTION, __LINE__,
      details);
}

gboolean
gst_fal_element_replace_client (GstElement * element, GstFalClient ** client,
    const gchar * server_url, const gchar * key, const gchar * tls_ca_file,
    const gchar * application)
{
  GstFalClient *acquired;
  GError *error = NULL;

  acquired = gst_fal_element_acquire_client (element, server_url, key,
      tls_ca_file, application, &error);
  if (!acquired) {
    gst_fal_element_post_error (element, error, FALSE);
    g_error_free (error);
    return FALSE;
  }
  GST_OBJECT_LOCK (element);
  g_clear_object (client);
  *client = acquired;
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}
