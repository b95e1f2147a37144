/* gst-fal server: helpers shared by the apps (private to gst/falserver/apps) */
#pragma once

#include <gst/gst.h>
#include "gstfalapp.h"

G_BEGIN_DECLS

/* Registration of each family of built-in apps. */
void gst_fal_apps_register_test (GstFalAppRegistry * registry);
void gst_fal_apps_register_media (GstFalAppRegistry * registry);

/* Sets OPENCV_LOG_LEVEL=SILENT unless set, before any OpenCV element of the
 * apps is made: OpenCV logs the missing optional cascades otherwise. */
void gst_fal_apps_quiet_opencv (void);

/* Validates @input against the subset of JSON Schema used by the apps
 * (type, properties, required, minimum, maximum, enum). Returns NULL when
 * valid, else a Pydantic-style detail list (transfer full). */
JsonNode *gst_fal_apps_validate (const gchar * schema, JsonNode * input);

/* Declares the limits of an input media on its property's JSON Schema, as
 * x-fal-max-width, x-fal-max-height (pixels), x-fal-max-file-size (bytes)
 * and x-fal-max-pixels; a 0 is not declared. */
void gst_fal_apps_declare_limits (JsonObject * property, guint64 max_width,
    guint64 max_height, guint64 max_file_size, guint64 max_pixels);

/* Waits @usec or until @cancellable fires; FALSE with @error if cancelled. */
gboolean gst_fal_apps_wait (GCancellable * cancellable, gint64 usec,
    GError ** error);

/* Fails the call with @status, a plain text detail and @error_type, and sets
 * @error accordingly. Always returns NULL, for `return gst_fal_apps_fail …`. */
JsonNode *gst_fal_apps_fail (GstFalAppCall * call, GError ** error,
    guint status, const gchar * error_type, const gchar * format, ...)
    G_GNUC_PRINTF (5, 6);

/* When @error is a 422, fails the call with a Pydantic-style detail naming
 * @member and the error's message. Returns NULL. */
JsonNode *gst_fal_apps_input_error (GstFalAppCall * call, const gchar * member,
    GError ** error);

/* Input accessors with a default when the member is absent or null. */
gint64 gst_fal_apps_get_int (JsonNode * input, const gchar * member,
    gint64 fallback);
gdouble gst_fal_apps_get_double (JsonNode * input, const gchar * member,
    gdouble fallback);
const gchar *gst_fal_apps_get_string (JsonNode * input, const gchar * member,
    const gchar * fallback);

/* A GValue (as found in element messages) as JSON; NULL if not mappable. */
JsonNode *gst_fal_apps_value_to_json (const GValue * value);
/* A GstStructure's fields as a JSON object (name not included). */
JsonNode *gst_fal_apps_structure_to_json (const GstStructure * structure);

/* One run of a GStreamer pipeline for an app. The description may contain an
 * appsrc named "fal-src" (fed with @input then EOS), an element named
 * "fal-input" (whose sink caps give the decoded input size), and an appsink
 * named "fal-sink" (its last sample is kept). Element messages whose
 * structure is named @message_name (any when "*", none when NULL) are
 * collected. Cancelled promptly through the call's cancellable. */
typedef struct {
  GstSample *sample;            /* last sample of fal-sink, or NULL */
  GPtrArray *messages;          /* (element-type GstStructure) copies */
  gint input_width, input_height;       /* 0 if no fal-input */
} GstFalPipelineRun;

/* Applies @setup (may be NULL) to the parsed pipeline before it starts, e.g.
 * to set properties from the input; FALSE with @error aborts the run. */
typedef gboolean (*GstFalPipelineSetup) (GstBin * pipeline, gpointer data,
    GError ** error);

gboolean gst_fal_apps_run_pipeline (GstFalAppCall * call,
    const gchar * description, GBytes * input, const gchar * message_name,
    GstFalPipelineSetup setup, gpointer setup_data, GstFalPipelineRun * run,
    GError ** error);
void gst_fal_pipeline_run_clear (GstFalPipelineRun * run);

/* The beginning of an image app's pipeline: the input image, decoded by
 * @decoder from @caps, then @rest (the app's pipeline and its tail). */
gchar *gst_fal_apps_image_description (const gchar * caps,
    const gchar * decoder, const gchar * rest);
/* The end of an image app's pipeline description. */
#define GST_FAL_APPS_PNG_TAIL \
  " ! videoconvert ! pngenc ! appsink name=fal-sink sync=false"

/* Runs an image app's pipeline (@rest, after the decoded input) on @image:
 * its type is sniffed from its bytes and only PNG, JPEG and WebP are decoded,
 * each by its own decoder (no decodebin: no demuxer, no playlist, no URL
 * opened); its size is read from its header and more pixels than the call's
 * max-pixels are refused before anything decodes. Anything else is a 422
 * naming image_url and what it is. */
gboolean gst_fal_apps_run_image_pipeline (GstFalAppCall * call,
    const gchar * rest, GBytes * image, const gchar * message_name,
    GstFalPipelineSetup setup, gpointer setup_data, GstFalPipelineRun * run,
    GError ** error);

/* Fetches the input's image_url (validated to be present). */
GBytes *gst_fal_apps_fetch_image (GstFalAppCall * call, GError ** error);

/* Stores an encoded image sample and answers {"image": {url, content_type,
 * width, height}}. */
JsonNode *gst_fal_apps_answer_image (GstFalAppCall * call, GstSample * sample,
    GError ** error);

/* Output schema of the image answer, shared by the image apps. */
extern const gchar gst_fal_apps_image_output_schema[];

/* Registers the apps of a key file already loaded (see docs/apps.md). */
/* With @skip_unavailable, an app whose pipeline cannot be built (a plugin
 * missing) is skipped with a message instead of failing. */
gboolean gst_fal_apps_register_from_key_file (GstFalAppRegistry * registry,
    GKeyFile * key_file, gboolean skip_unavailable, GError ** error);

G_END_DECLS
