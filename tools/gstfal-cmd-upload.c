/* gst-fal upload: a file to the CDN */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <stdio.h>

int
gst_fal_cmd_upload (int argc, char **argv)
{
  GstFalCmdOptions opts = { 0 };
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *what = NULL;
  int status = GST_FAL_EXIT_OK;

  if (!gst_fal_cmd_parse (&argc, &argv, "FILE",
          "Uploads FILE to the server's storage (the fal CDN by default) "
          "and prints its public URL. Large files go up in parts.",
          0, &opts, 1)) {
    status = GST_FAL_EXIT_USAGE;
    goto out;
  }
  if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR)) {
    status = gst_fal_cmd_usage_error ("upload: %s: no such file", argv[1]);
    goto out;
  }

  client = gst_fal_cmd_make_client (&opts);
  file = g_file_new_for_commandline_arg (argv[1]);
  gst_fal_client_upload_file_async (client, file, cancellable,
      gst_fal_cmd_async_done, NULL);
  res = gst_fal_cmd_wait (cancellable);
  if (!(url = gst_fal_client_upload_file_finish (client, res, &error))) {
    /* as the library names it: "upload of x.png: no answer within 2 s" */
    name = g_file_get_basename (file);
    what = g_strdup_printf ("upload of %s", name);
    status = gst_fal_cmd_report_error (what, error);
    goto out;
  }
  printf ("%s\n", url);
  fflush (stdout);

out:
  gst_fal_cmd_options_clear (&opts);
  return status;
}
