/* gst-fal: the RGB frames falinfer's tests push through a harness, and
 * reading an element's counters. */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#define WIDTH 64
#define HEIGHT 48
#define FRAME_CAPS "video/x-raw,format=RGB,width=64,height=48,framerate=30/1"
#define FRAME_DURATION (GST_SECOND / 30)
/* a bound that only stops a hang */
#define WAIT_LIMIT_US (90 * G_USEC_PER_SEC)

/* Frame @i: a flat colour of its own, at i frame durations. */
static G_GNUC_UNUSED GstBuffer *
frame_new (GstHarness * h, guint i)
{
  GstBuffer *buffer = gst_harness_create_buffer (h, WIDTH * HEIGHT * 3);

  gst_buffer_memset (buffer, 0, (guint8) (i * 7), WIDTH * HEIGHT * 3);
  GST_BUFFER_PTS (buffer) = i * FRAME_DURATION;
  GST_BUFFER_DURATION (buffer) = FRAME_DURATION;
  return buffer;
}

static G_GNUC_UNUSED guint64
get_counter (GstElement * element, const gchar * name)
{
  guint64 value;
  g_object_get (element, name, &value, NULL);
  return value;
}

/* Waits until the element's "in-flight" is @value. */
static G_GNUC_UNUSED void
wait_in_flight (GstElement * element, guint value)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;
  guint in_flight;

  for (;;) {
    g_object_get (element, "in-flight", &in_flight, NULL);
    if (in_flight == value)
      return;
    fail_unless (g_get_monotonic_time () < deadline,
        "in-flight stayed %u, not %u", in_flight, value);
    g_usleep (5000);
  }
}
