/* gst-fal: what the element tests share: the in-process local server as a
 * checked fixture, and waiting for EOS on a harness. */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/falserver/gstfalserver.h>

static GstFalServer *server G_GNUC_UNUSED;
static const gchar *server_url G_GNUC_UNUSED;   /* of server, while it runs */

static G_GNUC_UNUSED void
server_setup (void)
{
  GError *error = NULL;

  server = gst_fal_server_new ();
  fail_unless (gst_fal_server_start (server, &error), "%s",
      error ? error->message : "");
  server_url = gst_fal_server_get_url (server);
}

static G_GNUC_UNUSED void
server_teardown (void)
{
  gst_fal_server_stop (server);
  g_clear_object (&server);
  server_url = NULL;
}

/* Waits for the EOS event on the harness, skipping other events. */
static G_GNUC_UNUSED void
harness_wait_eos (GstHarness * h)
{
  for (;;) {
    GstEvent *event = gst_harness_pull_event (h);
    GstEventType type;

    fail_unless (event != NULL, "no EOS");
    type = GST_EVENT_TYPE (event);
    gst_event_unref (event);
    if (type == GST_EVENT_EOS)
      return;
  }
}

/* A server that takes connections and never answers: a listening socket
 * that is never accepted from; the kernel completes each connection in the
 * backlog, so clients connect, send and wait. */
typedef struct
{
  GSocket *socket;
  gchar *url;
} SilentServer;

static G_GNUC_UNUSED SilentServer *
silent_server_new (void)
{
  SilentServer *silent = g_new0 (SilentServer, 1);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, 0);
  GSocketAddress *bound;
  GError *error = NULL;

  silent->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  fail_unless (silent->socket != NULL, "%s", error ? error->message : "");
  g_socket_set_listen_backlog (silent->socket, 128);
  fail_unless (g_socket_bind (silent->socket, address, TRUE, &error), "%s",
      error ? error->message : "");
  fail_unless (g_socket_listen (silent->socket, &error), "%s",
      error ? error->message : "");
  bound = g_socket_get_local_address (silent->socket, &error);
  fail_unless (bound != NULL, "%s", error ? error->message : "");
  silent->url = g_strdup_printf ("http://127.0.0.1:%u",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_object_unref (bound);
  g_object_unref (address);
  g_object_unref (loopback);
  return silent;
}

static G_GNUC_UNUSED void
silent_server_free (SilentServer * silent)
{
  g_socket_close (silent->socket, NULL);
  g_object_unref (silent->socket);
  g_free (silent->url);
  g_free (silent);
}

/* The first ERROR or EOS message of @pipeline's bus within @seconds
 * (a bound that only stops a hang; NULL when it passed). */
static G_GNUC_UNUSED GstMessage *
wait_error_or_eos_within (GstElement * pipeline, guint seconds)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, seconds * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);

  gst_object_unref (bus);
  return msg;
}
