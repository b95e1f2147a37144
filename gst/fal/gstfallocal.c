/* gst-fal: the in-process local server for `local/…` applications.
 *
 * The client library never links the server library: they meet over HTTP.
 * When a client with no server is asked for a `local/…` application, it
 * loads libgstfalserver-1.0 with GModule, asks it for the process-wide
 * server (the one the elements and gst-fal start too) and talks to its URL. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfallocal-private.h"
#include "gstfalerror.h"

#include <gmodule.h>
#include <glib-object.h>

typedef GObject *(*GetDefaultFunc) (GError ** error);

static GMutex local_lock;
static GObject *local_server;   /* kept for the life of the process */

static GetDefaultFunc
find_get_default (GError ** error)
{
  const gchar *env = g_getenv ("GST_FAL_SERVER_LIBRARY");
  const gchar *path = env && *env ? env : GST_FAL_SERVER_LIBRARY_PATH;
  GModule *module;
  gpointer symbol = NULL;

  /* linked into the process already (gst-fal, tests) */
  module = g_module_open (NULL, G_MODULE_BIND_LAZY);
  if (module && g_module_symbol (module, "gst_fal_server_get_default",
          &symbol))
    return (GetDefaultFunc) symbol;
  g_clear_pointer (&module, g_module_close);

  /* an absolute path only: never a file found in the working directory */
  if (!g_path_is_absolute (path)) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
        "GST_FAL_SERVER_LIBRARY must be an absolute path, not %s", path);
    return NULL;
  }
  module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER,
        "cannot load the local server (%s); set GST_FAL_URL or the "
        "server-url to reach a server", g_module_error ());
    return NULL;
  }
  if (!g_module_symbol (module, "gst_fal_server_get_default", &symbol)) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER,
        "%s is no gst-fal server library: %s", path, g_module_error ());
    g_module_close (module);
    return NULL;
  }
  /* its types and threads live as long as the process */
  g_module_make_resident (module);
  return (GetDefaultFunc) symbol;
}

gchar *
gst_fal_local_server_get_url (GError ** error)
{
  gchar *url = NULL;

  g_mutex_lock (&local_lock);
  if (local_server == NULL) {
    GetDefaultFunc get_default = find_get_default (error);

    if (get_default)
      local_server = get_default (error);
  }
  if (local_server)
    g_object_get (local_server, "url", &url, NULL);
  g_mutex_unlock (&local_lock);
  return url;
}
