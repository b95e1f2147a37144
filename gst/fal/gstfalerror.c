/* gst-fal: the GST_FAL_ERROR domain, an extended GError carrying the HTTP
 * status, fal's error type, the server's detail and the request id */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalerror.h"

typedef struct
{
  guint http_status;
  gchar *error_type;
  gchar *detail;
  gchar *request_id;
} GstFalErrorPrivate;

static void
gst_fal_error_private_init (GstFalErrorPrivate * priv)
{
  priv->http_status = 0;
  priv->error_type = NULL;
  priv->detail = NULL;
  priv->request_id = NULL;
}

static void
gst_fal_error_private_copy (const GstFalErrorPrivate * src,
    GstFalErrorPrivate * dest)
{
  dest->http_status = src->http_status;
  dest->error_type = g_strdup (src->error_type);
  dest->detail = g_strdup (src->detail);
  dest->request_id = g_strdup (src->request_id);
}

static void
gst_fal_error_private_clear (GstFalErrorPrivate * priv)
{
  g_clear_pointer (&priv->error_type, g_free);
  g_clear_pointer (&priv->detail, g_free);
  g_clear_pointer (&priv->request_id, g_free);
}

/* *INDENT-OFF* */
G_DEFINE_EXTENDED_ERROR (GstFalError, gst_fal_error)
/* *INDENT-ON* */

static const GstFalErrorPrivate *
lookup_private (const GError * error)
{
  if (error == NULL || error->domain != GST_FAL_ERROR)
    return NULL;
  return gst_fal_error_get_private (error);
}

guint
gst_fal_error_get_http_status (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->http_status : 0;
}

const gchar *
gst_fal_error_get_error_type (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->error_type : NULL;
}

const gchar *
gst_fal_error_get_detail (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->detail : NULL;
}

const gchar *
gst_fal_error_get_request_id (const GError * error)
{
  const GstFalErrorPrivate *priv = lookup_private (error);

  return priv ? priv->request_id : NULL;
}

GError *
gst_fal_error_new_full (GstFalError code, guint http_status,
    const gchar * error_type, const gchar * detail, const gchar * request_id,
    const gchar * format, ...)
{
  GstFalErrorPrivate *priv;
  g_autofree gchar *message = NULL;
  GError *error;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  error = g_error_new_literal (GST_FAL_ERROR, code, message);
  priv = gst_fal_error_get_private (error);
  priv->http_status = http_status;
  priv->error_type = g_strdup (error_type);
  priv->detail = g_strdup (detail);
  priv->request_id = g_strdup (request_id);
  return error;
}
