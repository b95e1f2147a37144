/* gst-fal example: one request per argument, a few at a time, each result
 * printed as it completes, then the summary.
 *
 *   batch APPLICATION CONCURRENCY JSON_ARGUMENTS...
 *
 * The server comes from GST_FAL_URL (unset: the fal cloud, with FAL_KEY).
 * Exit status 1 when an item failed.
 */
#include <gst/fal/gstfal.h>
#include <stdlib.h>

static void
on_item_done (GstFalBatch * batch, guint64 index, const gchar * request_id,
    JsonNode * result, GError * error, gpointer user_data)
{
  g_autofree gchar *text = NULL;

  if (error) {
    g_autofree gchar *summary = gst_fal_error_get_summary (error);

    g_print ("%" G_GUINT64_FORMAT " failed: %s\n", index, summary);
    return;
  }
  text = json_to_string (result, FALSE);
  g_print ("%" G_GUINT64_FORMAT " %s: %s\n", index, request_id, text);
}

static void
on_progress (GstFalBatch * batch, guint64 done, guint64 succeeded,
    guint64 failed, guint in_flight, gint64 total, gpointer user_data)
{
  g_printerr ("%" G_GUINT64_FORMAT "/%" G_GINT64_FORMAT " done, %u in "
      "flight\n", done, total, in_flight);
}

int
main (int argc, char **argv)
{
  g_autoptr (GstFalClient) client = NULL;
  g_autoptr (GstFalBatch) batch = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) causes = NULL;
  int i;

  if (argc < 4) {
    g_printerr ("usage: %s APPLICATION CONCURRENCY JSON_ARGUMENTS...\n",
        argv[0]);
    return 2;
  }
  client = gst_fal_client_new ();
  batch = gst_fal_batch_new (client, argv[1], NULL);
  g_object_set (batch, "concurrency", (guint) atoi (argv[2]), NULL);
  g_signal_connect (batch, "item-done", G_CALLBACK (on_item_done), NULL);
  g_signal_connect (batch, "progress", G_CALLBACK (on_progress), NULL);

  /* inputs up front; a producer would gst_fal_batch_push() from a thread */
  for (i = 3; i < argc; i++) {
    g_autoptr (JsonNode) arguments = json_from_string (argv[i], &error);

    if (!arguments) {
      gst_fal_batch_add_failed (batch, error);
      g_clear_error (&error);
      continue;
    }
    gst_fal_batch_add (batch, arguments);
  }
  gst_fal_batch_close (batch);

  if (!gst_fal_batch_run (batch, NULL, &error)) {
    g_printerr ("batch: %s\n", error->message);
    return 1;
  }
  g_printerr ("Succeeded: %" G_GUINT64_FORMAT ", Failed: %" G_GUINT64_FORMAT
      "\n", gst_fal_batch_get_succeeded (batch),
      gst_fal_batch_get_failed (batch));
  causes = gst_fal_batch_get_failure_causes (batch);
  for (i = 0; causes[i]; i++)
    g_printerr ("  %s: %" G_GUINT64_FORMAT "\n", causes[i],
        gst_fal_batch_get_failure_count (batch, causes[i]));
  return gst_fal_batch_get_failed (batch) ? 1 : 0;
}
