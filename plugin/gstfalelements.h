/* gst-fal: the elements of the fal plugin and what they share */
#pragma once

#include <gst/gst.h>
#include <gst/fal/gstfal.h>

G_BEGIN_DECLS

/* Once per process: debug categories, meta registration. */
void gst_fal_element_init (GstPlugin * plugin);

/* The client an element uses, shared through a GstContext of type
 * GST_FAL_CLIENT_CONTEXT_TYPE ("gst.fal.client"). Without a @key of the
 * element's own: a client the application gave (set on the element or the
 * pipeline, or answered to need-context) is used as given; a client another
 * fal element shared is used when it goes to the server this element would
 * pick. Else a new client from @server_url / @key / the environment, posted
 * as have-context. An @application starting with "local/" with no server
 * configured (no @server_url, no GST_FAL_URL) uses the process-wide
 * embedded local server. @tls_ca_file (NULL or empty: GST_FAL_CA_FILE) is
 * the client's "tls-ca-file"; a shared client must have the same. Call from
 * a state change (NULL→READY).
 * (transfer full) */
GstFalClient *gst_fal_element_acquire_client (GstElement * element,
    const gchar * server_url, const gchar * key, const gchar * tls_ca_file,
    const gchar * application, GError ** error);

/* A "gst.fal.client" context holding @client, marked as made by an element.
 * (transfer full) */
GstContext *gst_fal_element_new_context (GstFalClient * client);

/* set_context handler helper: stores a client given by the application or
 * shared by another element. */
void gst_fal_element_handle_set_context (GstElement * element,
    GstContext * context);

/* Posts a GST_FAL_ERROR as an element error or warning, with details
 * (http-status-code, error-type, request-id) mapped as style.md §12. */
void gst_fal_element_post_error (GstElement * element, const GError * error,
    gboolean as_warning);

/* Overwrites a `key` property's string before freeing it, so the secret
 * does not linger in freed memory; sets *@key to %NULL. */
void gst_fal_element_clear_key (gchar ** key);

/* gst_fal_element_acquire_client(), then the result replaces *@client under
 * the object lock; posts the error and returns %FALSE when there is none. */
gboolean gst_fal_element_replace_client (GstElement * element,
    GstFalClient ** client, const gchar * server_url, const gchar * key,
    const gchar * tls_ca_file, const gchar * application);

GST_ELEMENT_REGISTER_DECLARE (falinfer);
GST_ELEMENT_REGISTER_DECLARE (falfilter);
GST_ELEMENT_REGISTER_DECLARE (falsrc);
GST_ELEMENT_REGISTER_DECLARE (falupload);
GST_ELEMENT_REGISTER_DECLARE (faloverlay);

G_END_DECLS
