/* gst-fal: encoding video frames for upload, and argument templates */
#pragma once

#include <gst/fal/gstfalupload.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/**
 * GstFalFrameEncoder:
 *
 * Encodes raw video frames to JPEG or PNG, scaled down so that neither side
 * exceeds a maximum dimension. Reuses one internal pipeline per input caps,
 * so encoding a stream costs no pipeline setup per frame. Thread-safe; not a
 * GObject so that elements can embed it cheaply.
 */
typedef struct _GstFalFrameEncoder GstFalFrameEncoder;

GST_FAL_API GstFalFrameEncoder *gst_fal_frame_encoder_new (GstFalImageFormat format,
    guint quality, guint max_dimension);
GST_FAL_API void gst_fal_frame_encoder_free (GstFalFrameEncoder * encoder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalFrameEncoder, gst_fal_frame_encoder_free)

/* Encodes one frame; returns the image bytes and sets @content_type
 * (transfer none, static string). Encoded image caps pass through unchanged. */
GST_FAL_API GBytes *gst_fal_frame_encoder_encode (GstFalFrameEncoder * encoder,
    GstSample * sample, const gchar ** content_type, GError ** error);

/**
 * GstFalArgumentsTemplate:
 *
 * A JSON arguments template in which every string value `"{{frame}}"` is
 * replaced by the frame's URL. Without a template the frame goes in
 * `image_url`. Parsed once; instantiated per frame.
 */
typedef struct _GstFalArgumentsTemplate GstFalArgumentsTemplate;

/* @template_json may be NULL or empty (= {"image_url": "{{frame}}"}); a
 * template that is not a JSON object fails with GST_FAL_ERROR_INVALID_ARGUMENT. */
GST_FAL_API GstFalArgumentsTemplate *gst_fal_arguments_template_new (const gchar * template_json,
    GError ** error);
GST_FAL_API void gst_fal_arguments_template_free (GstFalArgumentsTemplate * tmpl);
/* Whether the template references the frame at all (if not, no upload). */
GST_FAL_API gboolean gst_fal_arguments_template_uses_frame (GstFalArgumentsTemplate * tmpl);
/* The arguments for one frame; @frame_url may be NULL when unused.
 * Also replaces "{{pts}}" by the frame's PTS in ns and "{{index}}" by the
 * frame number (as JSON numbers). */
GST_FAL_API JsonNode *gst_fal_arguments_template_instantiate (GstFalArgumentsTemplate * tmpl,
    const gchar * frame_url, GstClockTime pts, guint64 index);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstFalArgumentsTemplate, gst_fal_arguments_template_free)

G_END_DECLS
