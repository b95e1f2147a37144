/* gst-fal: endpoint id parsing and URL derivation (fal-protocol.md §1) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalendpoint-private.h"
#include "gstfalerror.h"

#include <string.h>

static gboolean
is_legacy_id (const gchar * id)
{
  const gchar *p = id;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p != '-' || p[1] == '\0')
    return FALSE;
  for (p++; *p; p++) {
    if (!g_ascii_isalnum (*p) && *p != '-')
      return FALSE;
  }
  return TRUE;
}

static GError *
invalid_id (const gchar * id)
{
  return gst_fal_error_new_full (GST_FAL_ERROR_INVALID_ARGUMENT, 0, NULL,
      NULL, NULL, "Invalid app id \"%s\". Must be in the format "
      "<appOwner>/<appId>", id);
}

static void
endpoint_free_segments (gchar ** segments)
{
  g_strfreev (segments);
}

GstFalEndpoint *
gst_fal_endpoint_parse (const gchar * id, GError ** error)
{
  g_autofree gchar *normalised = NULL;
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();
  GstFalEndpoint *endpoint;
  gchar **segments;
  guint first, i;

  if (id == NULL || *id == '\0') {
    g_propagate_error (error, invalid_id (id ? id : ""));
    return NULL;
  }
  if (strchr (id, '/') == NULL) {
    if (!is_legacy_id (id)) {
      g_propagate_error (error, invalid_id (id));
      return NULL;
    }
    normalised = g_strdup (id);
    *strchr (normalised, '-') = '/';
  } else {
    normalised = g_strdup (id);
  }

  /* Drop empty segments, so "a//b/" is "a/b". */
  segments = g_strsplit (normalised, "/", -1);
  for (i = 0; segments[i]; i++) {
    if (*segments[i])
      g_ptr_array_add (parts, segments[i]);
  }

  first = 0;
  if (parts->len > 0 && (g_str_equal (parts->pdata[0], "workflows")
          || g_str_equal (parts->pdata[0], "comfy")))
    first = 1;
  if (parts->len < first + 2) {
    endpoint_free_segments (segments);
    g_propagate_error (error, invalid_id (id));
    return NULL;
  }

  endpoint = g_new0 (GstFalEndpoint, 1);
  endpoint->namespace_ = first ? g_strdup (parts->pdata[0]) : NULL;
  endpoint->owner = g_strdup (parts->pdata[first]);
  endpoint->alias = g_strdup (parts->pdata[first + 1]);
  g_ptr_array_add (parts, NULL);
  endpoint->path = g_strjoinv ("/", (gchar **) parts->pdata + first + 2);
  endpoint->app = g_strjoin ("/", first ? (gchar *) parts->pdata[0] :
      endpoint->owner, first ? endpoint->owner : endpoint->alias,
      first ? endpoint->alias : NULL, NULL);
  endpoint->id = g_strjoinv ("/", (gchar **) parts->pdata);
  endpoint_free_segments (segments);
  return endpoint;
}

void
gst_fal_endpoint_free (GstFalEndpoint * endpoint)
{
  if (endpoint == NULL)
    return;
  g_free (endpoint->id);
  g_free (endpoint->app);
  g_free (endpoint->namespace_);
  g_free (endpoint->owner);
  g_free (endpoint->alias);
  g_free (endpoint->path);
  g_free (endpoint);
}

static void
append_segments (GString * url, const gchar * path)
{
  g_auto (GStrv) segments = NULL;
  guint i;

  if (path == NULL)
    return;
  segments = g_strsplit (path, "/", -1);
  for (i = 0; segments[i]; i++) {
    if (*segments[i]) {
      g_string_append_c (url, '/');
      g_string_append (url, segments[i]);
    }
  }
}

gchar *
gst_fal_endpoint_build_url (const gchar * base, const gchar * id,
    const gchar * path)
{
  GString *url = g_string_new (base);

  while (url->len > 0 && url->str[url->len - 1] == '/')
    g_string_truncate (url, url->len - 1);
  append_segments (url, id);
  append_segments (url, path);
  return g_string_free (url, FALSE);
}

static const gchar *
nonempty_env (const gchar * name)
{
  const gchar *value = g_getenv (name);

  return value && *value ? value : NULL;
}

void
gst_fal_endpoint_derive_urls (const gchar * server_url, gchar ** queue_url,
    gchar ** run_url, gchar ** rest_url)
{
  if (server_url && *server_url) {
    g_autofree gchar *base = g_strdup (server_url);
    gsize len = strlen (base);

    while (len > 0 && base[len - 1] == '/')
      base[--len] = '\0';
    *queue_url = g_strconcat (base, "/queue", NULL);
    *run_url = g_strconcat (base, "/run", NULL);
    *rest_url = g_strconcat (base, "/rest", NULL);
  } else {
    const gchar *run_host = nonempty_env ("FAL_RUN_HOST");
    const gchar *queue_host = nonempty_env ("FAL_QUEUE_RUN_HOST");

    if (run_host == NULL)
      run_host = "fal.run";
    *run_url = g_strconcat ("https://", run_host, NULL);
    if (queue_host)
      *queue_url = g_strconcat ("https://", queue_host, NULL);
    else
      *queue_url = g_strconcat ("https://queue.", run_host, NULL);
    *rest_url = g_strdup ("https://rest.fal.ai");
  }
}

gboolean
gst_fal_url_is_under (const gchar * url, const gchar * base)
{
  gsize len = strlen (base);

  if (url == NULL || len == 0 || g_ascii_strncasecmp (url, base, len) != 0)
    return FALSE;
  return url[len] == '\0' || url[len] == '/' || url[len] == '?';
}
