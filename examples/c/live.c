/* gst-fal example: a camera-like live source through falinfer, printing
 * each result as it comes.
 *
 *   live [APPLICATION [FRAMES [ENDPOINT]]]
 *
 * A live videotestsrc (as a camera: frames come at 30 per second whether
 * or not anyone keeps up) draws a QR code on each frame; falinfer sends the
 * frames to APPLICATION (default local/barcode, which reads the code)
 * through ENDPOINT (default realtime) with ordering=live, so the video is never
 * held back; each result line of its `result` pad is printed on standard
 * output as it arrives. After FRAMES frames (default 60) the source ends
 * the stream. Exits 1 with the error on standard error when the pipeline
 * fails (an unknown application, a failed request). An application
 * starting with local/ runs on the local server in the process unless
 * GST_FAL_URL names another server.
 */
#include <stdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>

int
main (int argc, char **argv)
{
  const gchar *application = argc > 1 ? argv[1] : "local/barcode";
  guint frames = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 60;
  const gchar *endpoint = argc > 3 ? argv[3] : "realtime";
  g_autofree gchar *description = NULL;
  GstElement *pipeline, *results;
  GError *error = NULL;
  GstBus *bus;
  GstMessage *msg = NULL;
  guint n_results = 0;
  int status = 0;

  gst_init (&argc, &argv);
  description = g_strdup_printf ("videotestsrc is-live=true num-buffers=%u ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! "
      "qroverlay data=gst-fal ! "
      "falinfer name=infer application=%s endpoint=%s ordering=live ! "
      "fakesink infer.result ! appsink name=results sync=false",
      frames, application, endpoint);
  pipeline = gst_parse_launch (description, &error);
  if (error) {                  /* also a property the element lacks */
    g_printerr ("live: %s\n", error->message);
    return 1;
  }
  results = gst_bin_get_by_name (GST_BIN (pipeline), "results");
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  for (;;) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (results),
        100 * GST_MSECOND);

    if (!sample && gst_app_sink_is_eos (GST_APP_SINK (results)))
      break;

    if (sample) {
      GstBuffer *buffer = gst_sample_get_buffer (sample);
      GstMapInfo map;

      /* one JSON object per line, the newline included */
      if (gst_buffer_map (buffer, &map, GST_MAP_READ)) {
        fwrite (map.data, 1, map.size, stdout);
        fflush (stdout);
        gst_buffer_unmap (buffer, &map);
      }
      n_results++;
      gst_sample_unref (sample);
      continue;
    }
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (msg)
      break;
  }
  /* an error, also one that came with the end of the stream */
  if (!msg)
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg) {
    gst_message_parse_error (msg, &error, NULL);
    g_printerr ("live: %s\n", error->message);
    g_clear_error (&error);
    gst_message_unref (msg);
    status = 1;
  }
  g_printerr ("live: %u results from %u frames through endpoint=%s\n",
      n_results, frames, endpoint);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (results);
  gst_object_unref (pipeline);
  return status;
}
