/* gst-fal: the fal plugin */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalelements.h"

/**
 * SECTION:plugin-fal
 * @title: fal
 *
 * Elements that call serverless inference models over the fal protocol:
 * falinfer, falfilter, falsrc, falupload and faloverlay. Applications whose
 * id starts with `local/` run on a local fal-compatible server started in the
 * process, so pipelines work offline; set `server-url` or `GST_FAL_URL` to
 * reach another server, or leave both unset to reach the fal cloud.
 */
static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (falinfer, plugin);
  ret |= GST_ELEMENT_REGISTER (falfilter, plugin);
  ret |= GST_ELEMENT_REGISTER (falsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (falupload, plugin);
  ret |= GST_ELEMENT_REGISTER (faloverlay, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, fal,
    "Serverless inference over the fal protocol", plugin_init, VERSION,
    GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
