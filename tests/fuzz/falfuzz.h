/* gst-fal fuzz targets: what every target shares
 *
 * A target is a libFuzzer entry point, LLVMFuzzerTestOneInput(), fed with
 * untrusted bytes. A crash, a sanitizer report or a GLib critical (a
 * g_return_if_fail() that hostile input reached) stops the run; the chatter
 * of error paths (warnings, messages, debug) is dropped to keep it fast
 * (falfuzz.c, linked into every target, sets that up).
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* Set by a target that needs more than the logging set up before its first
 * input (LLVMFuzzerInitialize(), falfuzz.c, calls it when defined). */
void fal_fuzz_setup (void) __attribute__ ((weak));

/* Criticals of @domain are not fatal: for a target that hands text to a
 * third-party parser which lets them through (GStreamer's gst_parse_launch()
 * makes GObject warn of "name=a name=b", as gst-launch-1.0 does). */
void fal_fuzz_tolerate (const gchar * domain);

/* The input as a NUL-terminated string (transfer full). */
static inline gchar *
fal_fuzz_strndup (const uint8_t * data, size_t size)
{
  return g_strndup ((const gchar *) data, size);
}

/* Splits the input at its first NUL: @first gets what is before (transfer
 * full), the rest is returned through @rest / @rest_size (not a copy, not
 * NUL-terminated). Without a NUL, @first is "" and @rest all of it. */
static inline gchar *
fal_fuzz_split (const uint8_t * data, size_t size, const uint8_t ** rest,
    size_t *rest_size)
{
  const uint8_t *nul = memchr (data, '\0', size);

  if (nul == NULL) {
    *rest = data;
    *rest_size = size;
    return g_strdup ("");
  }
  *rest = nul + 1;
  *rest_size = size - (nul + 1 - data);
  return g_strndup ((const gchar *) data, nul - data);
}
