/* gst-fal: the GST_FAL_ERROR domain, an extended GError carrying the HTTP
 * status, fal's error type, the server's detail and the request id.
 *
 * The details also travel in the message, as a last line
 * "fal-error: {JSON object}", and the domain's init function reads them back
 * from there. So a GError re-created from its domain, code and message alone
 * (as language bindings do: PyGObject turns a GError into a GLib.Error and
 * back) still carries them. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalerror.h"
#include "gstfaljson-private.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define DETAILS_PREFIX "\nfal-error: "

typedef struct
{
  guint http_status;
  gchar *error_type;
  gchar *detail;
  gchar *request_id;
} GstFalErrorPrivate;

/* As G_DEFINE_EXTENDED_ERROR does, but the init function needs the message. */
static GstFalErrorPrivate *
gst_fal_error_get_private (const GError * error)
{
  /* the alignment gtype.c (and G_DEFINE_EXTENDED_ERROR) uses */
  const gsize sa = 2 * sizeof (gsize);
  const gsize as = (sizeof (GstFalErrorPrivate) + (sa - 1)) & -sa;

  return (GstFalErrorPrivate *) (((guint8 *) error) - as);
}

/* The "fal-error: {…}" line of @message, or NULL. */
static const gchar *
find_details (const gchar * message)
{
  const gchar *line = message ? g_strrstr (message, DETAILS_PREFIX) : NULL;

  return line ? line + strlen (DETAILS_PREFIX) : NULL;
}

static gchar *
dup_string_member (JsonObject * object, const gchar * name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

static void
read_details (GstFalErrorPrivate * priv, const gchar * text)
{
  g_autoptr (JsonNode) root = gst_fal_json_from_string (text, -1, NULL);
  JsonObject *object;
  JsonNode *status;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  object = json_node_get_object (root);
  status = json_object_get_member (object, "http_status");
  if (status && JSON_NODE_HOLDS_VALUE (status)
      && json_node_get_value_type (status) == G_TYPE_INT64
      && json_node_get_int (status) > 0 && json_node_get_int (status) < 1000)
    priv->http_status = json_node_get_int (status);
  priv->error_type = dup_string_member (object, "error_type");
  priv->detail = dup_string_member (object, "detail");
  priv->request_id = dup_string_member (object, "request_id");
}

static void
gst_fal_error_private_init (GError * error)
{
  GstFalErrorPrivate *priv = gst_fal_error_get_private (error);
  const gchar *details = find_details (error->message);

  priv->http_status = 0;
  priv->error_type = NULL;
  priv->detail = NULL;
  priv->request_id = NULL;
  if (details)
    read_details (priv, details);
}

static void
gst_fal_error_private_copy (const GError * src_error, GError * dest_error)
{
  const GstFalErrorPrivate *src = gst_fal_error_get_private (src_error);
  GstFalErrorPrivate *dest = gst_fal_error_get_private (dest_error);

  /* the copy's init has read the message already */
  g_free (dest->error_type);
  g_free (dest->detail);
  g_free (dest->request_id);
  dest->http_status = src->http_status;
  dest->error_type = g_strdup (src->error_type);
  dest->detail = g_strdup (src->detail);
  dest->request_id = g_strdup (src->request_id);
}

static void
gst_fal_error_private_clear (GError * error)
{
  GstFalErrorPrivate *priv = gst_fal_error_get_private (error);

  g_clear_pointer (&priv->error_type, g_free);
  g_clear_pointer (&priv->detail, g_free);
  g_clear_pointer (&priv->request_id, g_free);
}

GQuark
gst_fal_error_quark (void)
{
  static GQuark quark;
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized)) {
    quark = g_error_domain_register_static ("GstFalError",
        sizeof (GstFalErrorPrivate), gst_fal_error_private_init,
        gst_fal_error_private_copy, gst_fal_error_private_clear);
    g_once_init_leave (&initialized, 1);
  }
  return quark;
}

static const GstFalErrorPrivate *
lookup_private (const GError * error)
{
  if (error == NULL || error->domain != GST_FAL_ERROR)
    return NULL;
  return gst_fal_error_get_private (error);
}

/**
 * gst_fal_error_get_http_status:
 * @error: (nullable): a #GError
 *
 * Works as well on an error re-created from its domain, code and message
 * (as PyGObject's GLib.Error is when passed back into C).
 *
 * Returns: the HTTP status of a failure, or 0 when there was no HTTP answer
 *   or @error is not in the #GST_FAL_ERROR domain
 */
guint
gst_fal_error_get_http_status (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->http_status : 0;
}

/**
 * gst_fal_error_get_error_type:
 * @error: (nullable): a #GError
 *
 * Returns: (nullable): fal's error type (`request_timeout`, …), or %NULL
 */
const gchar *
gst_fal_error_get_error_type (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->error_type : NULL;
}

/**
 * gst_fal_error_get_detail:
 * @error: (nullable): a #GError
 *
 * Returns: (nullable): the server's detail, as text (a JSON list rendered as
 *   JSON), or %NULL
 */
const gchar *
gst_fal_error_get_detail (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->detail : NULL;
}

/**
 * gst_fal_error_get_request_id:
 * @error: (nullable): a #GError
 *
 * Returns: (nullable): the id of the request that failed, or %NULL
 */
const gchar *
gst_fal_error_get_request_id (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->request_id : NULL;
}

/**
 * gst_fal_error_get_summary:
 * @error: a #GError
 *
 * The message of @error without its last "fal-error: {…}" line, for showing
 * to people.
 *
 * Returns: (transfer full): the human-readable part of the message
 */
gchar *
gst_fal_error_get_summary (const GError * error)
{
  const gchar *details;

  g_return_val_if_fail (error != NULL, NULL);

  details = error->domain == GST_FAL_ERROR ? find_details (error->message) :
      NULL;
  if (details == NULL)
    return g_strdup (error->message);
  return g_strndup (error->message,
      details - strlen (DETAILS_PREFIX) - error->message);
}

static void
add_string (JsonBuilder * builder, const gchar * name, const gchar * value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

GError *
gst_fal_error_new_full (GstFalError code, guint http_status,
    const gchar * error_type, const gchar * detail, const gchar * request_id,
    const gchar * format, ...)
{
  g_autoptr (GString) message = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) details = NULL;
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  message = g_string_new (NULL);
  g_string_append_vprintf (message, format, args);
  va_end (args);

  if (http_status == 0 && !error_type && !detail && !request_id)
    return g_error_new_literal (GST_FAL_ERROR, code, message->str);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  if (http_status) {
    json_builder_set_member_name (builder, "http_status");
    json_builder_add_int_value (builder, http_status);
  }
  add_string (builder, "error_type", error_type);
  add_string (builder, "detail", detail);
  add_string (builder, "request_id", request_id);
  json_builder_end_object (builder);
  details = json_builder_get_root (builder);
  text = json_to_string (details, FALSE);
  g_string_append_printf (message, DETAILS_PREFIX "%s", text);
  /* the domain's init function reads the details back */
  return g_error_new_literal (GST_FAL_ERROR, code, message->str);
}
