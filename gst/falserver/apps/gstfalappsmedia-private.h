/* gst-fal server: result mappers of the built-in model apps (private) */
#pragma once

#include "gstfalapps-private.h"

G_BEGIN_DECLS

/* Ends an image pipeline with its frame in grey, for the barcode boxes. */
#define GST_FAL_APPS_GRAY_TAIL \
  " ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=fal-sink sync=false"

extern const gchar gst_fal_apps_faces_output_schema[];
extern const gchar gst_fal_apps_symbols_output_schema[];

/* "facedetect" messages → {"faces": [{"box", "score"}], "width", "height"} */
JsonNode *gst_fal_apps_map_faces (GstFalPipelineRun * run);
/* "barcode" messages (+ the grey frame for boxes) → {"symbols": [...]} */
JsonNode *gst_fal_apps_map_symbols (GstFalPipelineRun * run);

G_END_DECLS
