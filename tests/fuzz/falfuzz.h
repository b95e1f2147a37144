/* gst-fal fuzz targets: what every target shares
 *
 * A target is a libFuzzer entry point, LLVMFuzzerTestOneInput(), fed with
 * untrusted bytes. A crash, a sanitizer report or a GLib critical (a
 * g_return_if_fail() that hostile input reached) stops the run; the chatter
 * of error paths (warnings, messages, debug) is dropped to keep it fast.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static GLogWriterOutput
fal_fuzz_log_writer (GLogLevelFlags level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    g_log_writer_standard_streams (level, fields, n_fields, user_data);
    abort ();
  }
  return G_LOG_WRITER_HANDLED;
}

/* A log domain whose criticals are not fatal (see fal_fuzz_tolerate()). */
static const gchar *fal_fuzz_tolerated_domain;

static void
fal_fuzz_quiet_log_handler (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  if ((level & G_LOG_LEVEL_ERROR) || ((level & G_LOG_LEVEL_CRITICAL)
          && g_strcmp0 (domain, fal_fuzz_tolerated_domain) != 0)) {
    g_printerr ("%s: %s\n", domain ? domain : "", message);
    abort ();
  }
}

/* Criticals abort (not GLib's SIGTRAP: libFuzzer saves the input on an
 * abort), the rest is silent. */
static inline void
fal_fuzz_init_logging (void)
{
  g_log_set_writer_func (fal_fuzz_log_writer, NULL, NULL);
  g_log_set_default_handler (fal_fuzz_quiet_log_handler, NULL);
}

/* Criticals of @domain are not fatal: for a target that hands text to a
 * third-party parser which lets them through (GStreamer's gst_parse_launch()
 * makes GObject warn of "name=a name=b", as gst-launch-1.0 does). */
static inline void
fal_fuzz_tolerate (const gchar * domain)
{
  fal_fuzz_tolerated_domain = domain;
}

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
