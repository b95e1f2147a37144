/* Fuzz target: the apps file of `gst-fal serve --apps`
 * (gst/falserver/apps/gstfalappsfile.c): a key file whose groups declare
 * apps made of a pipeline description, inputs mapped to element properties
 * and an output
 */
#include "falfuzz.h"
#include <gst/gst.h>
#include "falserver/gstfalapp.h"
#include "falserver/apps/gstfalapps-private.h"

void
fal_fuzz_setup (void)
{
  /* the app's pipeline is gst-launch syntax, GStreamer's to parse */
  fal_fuzz_tolerate ("GLib-GObject");
  gst_init (NULL, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  GstFalAppRegistry *registry;
  GPtrArray *apps;
  guint i;

  if (!g_key_file_load_from_data (key_file, (const gchar *) data, size,
          G_KEY_FILE_NONE, NULL))
    return 0;
  registry = gst_fal_app_registry_new ();
  /* as --apps does, but an app that cannot be made is skipped, not fatal:
   * the groups after it are read too */
  (void) gst_fal_apps_register_from_key_file (registry, key_file, TRUE, NULL);
  apps = gst_fal_app_registry_list (registry);
  for (i = 0; i < apps->len; i++)
    g_free (gst_fal_app_info_get_openapi (g_ptr_array_index (apps, i)));
  g_ptr_array_unref (apps);
  gst_fal_app_registry_free (registry);
  return 0;
}
