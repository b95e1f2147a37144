/* gst-fal server: result mappers of the built-in model apps (private) */
#pragma once

#include <zbar.h>
#include "gstfalapps-private.h"

G_BEGIN_DECLS

/* Ends an image pipeline with its frame in grey, for the barcode boxes. */
#define GST_FAL_APPS_GRAY_TAIL \
  " ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=fal-sink sync=false"

/* Ends an image pipeline with its raw frame, for apps that answer with the
 * frame's element messages. */
#define GST_FAL_APPS_RAW_TAIL " ! appsink name=fal-sink sync=false"

extern const gchar gst_fal_apps_faces_output_schema[];
extern const gchar gst_fal_apps_symbols_output_schema[];

/* "facedetect" messages → {"faces": [{"box", "score"}], "width", "height"} */
JsonNode *gst_fal_apps_map_faces (GstFalPipelineRun * run);
/* The grey frame of @run, scanned by @scanner (all symbologies enabled)
 * → {"symbols": [{"type", "data", "box"}], "width", "height"} */
JsonNode *gst_fal_apps_map_symbols (GstFalPipelineRun * run,
    zbar_image_scanner_t * scanner);

G_END_DECLS
