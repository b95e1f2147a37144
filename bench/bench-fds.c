/* bench-fds: the server's descriptors and memory under clients that close
 * their connections.
 *
 * Runs an in-process local server and sends N sync runs of local/echo
 * (POST /run/local/echo), each on a new connection that the client closes
 * once it has read the answer (what curl and most clients do). Prints the
 * process's open descriptors and RSS before and after, and stops early,
 * saying so, if the server stops answering.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/falserver/gstfalserver.h>
#include "tests/check/server/falrawhttp.h"

static gint requests = 100000;

/* Resident set size in KiB, -1 when unknown. */
static gint64
rss_kib (void)
{
  g_autofree gchar *text = NULL;
  const gchar *line;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL)
      || !(line = strstr (text, "VmRSS:")))
    return -1;
  return g_ascii_strtoll (line + 6, NULL, 10);
}

static void
report (const gchar * when, gint done)
{
  g_print ("%-22s %7d requests  %6d descriptors  %8" G_GINT64_FORMAT
      " KiB RSS\n", when, done, fal_raw_count_fds (), rss_kib ());
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"requests", 'n', 0, G_OPTION_ARG_INT, &requests,
        "Requests (default 100000)", "N"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- server descriptors with closing clients");
  g_autoptr (GError) error = NULL;
  g_autoptr (GstFalServer) server = NULL;
  g_autoptr (GUri) uri = NULL;
  gint64 start, deadline;
  gint64 rss_before;
  gint i, fds_before, failed = 0;
  guint port;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) || requests < 1) {
    g_printerr ("%s\n", error ? error->message : "requests must be >= 1");
    return 2;
  }
  server = g_object_new (GST_FAL_TYPE_SERVER, NULL);
  if (!gst_fal_server_start (server, &error)) {
    g_printerr ("server: %s\n", error->message);
    return 1;
  }
  uri = g_uri_parse (gst_fal_server_get_url (server), G_URI_FLAGS_NONE, NULL);
  port = g_uri_get_port (uri);
  g_print ("bench-fds: %s, %d runs of local/echo, one closed connection "
      "each\n\n", gst_fal_server_get_url (server), requests);

  /* first requests open what stays open */
  for (i = 0; i < 100; i++)
    fal_raw_reply_free (fal_raw_request (port, "POST", "/run/local/echo",
            "{}"));
  fds_before = fal_raw_count_fds ();
  rss_before = rss_kib ();
  report ("before", 0);

  start = g_get_monotonic_time ();
  for (i = 0; i < requests && !failed; i++) {
    g_autoptr (FalRawReply) reply = fal_raw_request (port, "POST",
        "/run/local/echo", "{\"value\": 1}");

    if (reply->status != 200)
      failed = i + 1;
    if ((i + 1) % (requests / 5 > 0 ? requests / 5 : 1) == 0)
      report ("", i + 1);
  }
  report ("after", failed ? failed - 1 : requests);
  if (failed)
    g_print ("request %d failed: the server stopped answering\n", failed);

  /* the server closes the last connections a little after their clients */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (fal_raw_count_fds () > fds_before
      && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  report ("after, settled", failed ? failed - 1 : requests);
  g_print ("\n%+d descriptors, %+.2f KiB RSS per request, %.0f requests/s\n",
      fal_raw_count_fds () - fds_before,
      (rss_kib () - rss_before) / (gdouble) (failed ? failed : requests),
      (failed ? failed : requests) * (gdouble) G_USEC_PER_SEC /
      (g_get_monotonic_time () - start));
  gst_fal_server_stop (server);
  return failed ? 1 : 0;
}
