/* Fuzz target: the arguments templates of falinfer and falfilter
 * (gst_fal_arguments_template_*(), gst/fal/gstfalframe.c), where
 * "{{frame}}", "{{pts}}" and "{{index}}" are replaced for each frame
 */
#include "falfuzz.h"
#include <gst/fal/gstfal.h>
#include "gstfaljson-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *json = fal_fuzz_strndup (data, size);
  g_autoptr (GstFalArgumentsTemplate) tmpl = NULL;
  g_autoptr (JsonNode) with_frame = NULL, without = NULL;
  g_autofree gchar *text = NULL;

  tmpl = gst_fal_arguments_template_new (json, NULL);
  if (tmpl == NULL)
    return 0;
  (void) gst_fal_arguments_template_uses_frame (tmpl);
  with_frame = gst_fal_arguments_template_instantiate (tmpl,
      "https://v3.fal.media/files/frame.png", 40 * GST_MSECOND, 7);
  without = gst_fal_arguments_template_instantiate (tmpl, NULL,
      GST_CLOCK_TIME_NONE, G_MAXUINT64);
  text = gst_fal_json_to_string (with_frame, FALSE);
  return 0;
}
