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
