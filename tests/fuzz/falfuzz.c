/* gst-fal fuzz targets: the logging every target shares (falfuzz.h) */
#include "falfuzz.h"

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
static void
fal_fuzz_init_logging (void)
{
  g_log_set_writer_func (fal_fuzz_log_writer, NULL, NULL);
  g_log_set_default_handler (fal_fuzz_quiet_log_handler, NULL);
}

void
fal_fuzz_tolerate (const gchar * domain)
{
  fal_fuzz_tolerated_domain = domain;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fal_fuzz_init_logging ();
  if (fal_fuzz_setup)
    fal_fuzz_setup ();
  return 0;
}
