/* gst-fal: the command line of the fal client library and local server
 *
 * gst-fal SUBCOMMAND [OPTIONS] ARGUMENTS…; `gst-fal SUBCOMMAND --help` lists
 * the options of each subcommand.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const GstFalCmd commands[] = {
  {"run", "call an app's sync endpoint and print its output",
      gst_fal_cmd_run},
  {"submit", "queue a request and print its request id", gst_fal_cmd_submit},
  {"status", "print the status of a queued request", gst_fal_cmd_status},
  {"result", "print the result of a completed request", gst_fal_cmd_result},
  {"cancel", "cancel a queued or running request", gst_fal_cmd_cancel},
  {"subscribe", "queue a request, follow it and print its result",
      gst_fal_cmd_subscribe},
  {"stream", "print each event of an app's stream as one JSON line",
      gst_fal_cmd_stream},
  {"realtime", "send JSON lines over an app's realtime websocket, print "
        "each result as a JSON line", gst_fal_cmd_realtime},
  {"upload", "upload a file to the CDN and print its URL",
      gst_fal_cmd_upload},
  {"serve", "run the local fal-compatible server", gst_fal_cmd_serve},
  {"apps", "list the apps of the local server", gst_fal_cmd_apps},
};

static void
print_usage (FILE * out)
{
  guint i;

  fprintf (out, "Usage: gst-fal SUBCOMMAND [OPTIONS] [ARGUMENTS]\n\n"
      "Subcommands:\n");
  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nARGS is JSON: inline, @FILE, or - for standard input.\n"
      "Run 'gst-fal SUBCOMMAND --help' for the options of a subcommand.\n");
}

int
main (int argc, char **argv)
{
  guint i;

  setlocale (LC_ALL, "");
  g_set_prgname ("gst-fal");

  if (argc < 2)
    return gst_fal_cmd_usage_error ("missing subcommand "
        "(run 'gst-fal --help' for the list)");
  if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")
      || !strcmp (argv[1], "help")) {
    print_usage (stdout);
    return GST_FAL_EXIT_OK;
  }
  if (!strcmp (argv[1], "--version")) {
    printf ("gst-fal %s\n", PACKAGE_VERSION);
    return GST_FAL_EXIT_OK;
  }

  for (i = 0; i < G_N_ELEMENTS (commands); i++) {
    if (!strcmp (argv[1], commands[i].name))
      return commands[i].func (argc - 1, argv + 1);
  }
  return gst_fal_cmd_usage_error ("unknown subcommand '%s' "
      "(run 'gst-fal --help' for the list)", argv[1]);
}
