/* gst-fal: the in-process local server, reached without linking it
 * (library-internal) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The base URL of the process-wide local server (libgstfalserver-1.0's
 * gst_fal_server_get_default()), started on first use. The server library is
 * loaded at run time: from the process when something linked it already
 * (gst-fal, the plugin), else $GST_FAL_SERVER_LIBRARY (an uninstalled
 * build), else the installed one. (transfer full) */
G_GNUC_INTERNAL
gchar *gst_fal_local_server_get_url (GError ** error);

G_END_DECLS
