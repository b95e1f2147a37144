/* gst-fal: faloverlay, draws what a model found onto raw video */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalelements.h"

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include <cairo.h>
#include <string.h>

/**
 * SECTION:element-faloverlay
 * @title: faloverlay
 *
 * Draws the boxes found by a model onto the video, so people can look at
 * what the model saw instead of reading JSON: every
 * #GstVideoRegionOfInterestMeta of a frame becomes a rectangle with its label
 * (and score), and every #GstFalResultMeta adds a caption line at the bottom
 * of the frame taken from the result field named by `caption-field` (a
 * dotted path such as `text` or `symbols.0.data`); a failed request shows its
 * error instead. Frames without metas pass unchanged.
 *
 * Drawing uses cairo on a transparent layer blended onto the frame, so the
 * element works on the packed 8-bit RGB formats with or without alpha.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! qroverlay data=hello ! falinfer application=local/barcode ! videoconvert ! faloverlay caption-field=symbols.0.data ! videoconvert ! autovideosink
 * ]| Reads a QR code with the local barcode model and draws its box, its
 * label and the decoded text.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=10 ! falinfer application=local/face-detection ! videoconvert ! faloverlay color=0xffff0000 line-width=4 ! videoconvert ! pngenc ! multifilesink location=frame-%03d.png
 * ]| Draws detected faces in red into PNG files.
 *
 * Since: 0.1
 */

GST_DEBUG_CATEGORY_STATIC (gst_fal_overlay_debug);
#define GST_CAT_DEFAULT gst_fal_overlay_debug

#define GST_TYPE_FAL_OVERLAY (gst_fal_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstFalOverlay, gst_fal_overlay, GST, FAL_OVERLAY,
    GstVideoFilter);

#define DEFAULT_LINE_WIDTH 2.0
#define DEFAULT_COLOR 0xff00ff00
#define DEFAULT_FONT_SIZE 14.0
#define DEFAULT_CAPTION_FIELD "text"
#define DEFAULT_SHOW_LABELS TRUE

enum
{
  PROP_0,
  PROP_LINE_WIDTH,
  PROP_COLOR,
  PROP_FONT_SIZE,
  PROP_CAPTION_FIELD,
  PROP_SHOW_LABELS,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

typedef struct
{
  gdouble line_width;
  guint color;
  gdouble font_size;
  gchar *caption_field;
  gboolean show_labels;
} GstFalOverlaySettings;

struct _GstFalOverlay
{
  GstVideoFilter parent;

  GstFalOverlaySettings settings;       /* under the object lock */

  /* streaming thread only: the transparent layer drawn on, frame sized */
  cairo_surface_t *layer;
};

G_DEFINE_TYPE (GstFalOverlay, gst_fal_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (faloverlay, "faloverlay",
    GST_RANK_NONE, GST_TYPE_FAL_OVERLAY, gst_fal_element_init (plugin));

#define OVERLAY_FORMATS "{ BGRx, BGRA, RGBx, RGBA, xRGB, ARGB, xBGR, ABGR }"

/* *INDENT-OFF* */
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));
/* *INDENT-ON* */

static void
set_source_color (cairo_t * cr, guint argb)
{
  cairo_set_source_rgba (cr, ((argb >> 16) & 0xff) / 255.0,
      ((argb >> 8) & 0xff) / 255.0, (argb & 0xff) / 255.0,
      ((argb >> 24) & 0xff) / 255.0);
}

/* "label 0.93" from a region meta: its "detection" param when present
 * (label, score), else the roi type. */
static gchar *
region_label (GstVideoRegionOfInterestMeta * roi)
{
  GstStructure *detection;
  const gchar *label = NULL;
  gdouble score = -1;

  detection = gst_video_region_of_interest_meta_get_param (roi, "detection");
  if (detection) {
    label = gst_structure_get_string (detection, "label");
    if (!gst_structure_get_double (detection, "score", &score))
      score = -1;
  }
  if (!label && roi->roi_type)
    label = g_quark_to_string (roi->roi_type);
  if (!label)
    label = "";

  if (score >= 0)
    return g_strdup_printf ("%s %.2f", label, score);
  return g_strdup (label);
}

/* Text on a filled background; (x, y) is the top-left of the background,
 * moved left when the text would leave the frame on the right. */
static void
draw_text_box (cairo_t * cr, const gchar * text, gdouble x, gdouble y,
    guint background, guint foreground, gdouble font_size)
{
  cairo_text_extents_t extents;
  cairo_font_extents_t font;
  gdouble pad = font_size / 5;
  gdouble frame_width = cairo_image_surface_get_width (cairo_get_target (cr));
  gdouble box_width;

  cairo_font_extents (cr, &font);
  cairo_text_extents (cr, text, &extents);
  box_width = extents.x_advance + 2 * pad;
  if (x + box_width > frame_width)
    x = MAX (frame_width - box_width, 0);
  set_source_color (cr, background);
  cairo_rectangle (cr, x, y, box_width, font.ascent + font.descent + 2 * pad);
  cairo_fill (cr);
  set_source_color (cr, foreground);
  cairo_move_to (cr, x + pad, y + pad + font.ascent);
  cairo_show_text (cr, text);
}

static gboolean
draw_regions (GstFalOverlay * self, cairo_t * cr, GstBuffer * buffer,
    const GstFalOverlaySettings * s)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  gboolean drew = FALSE;
  cairo_font_extents_t font;

  cairo_font_extents (cr, &font);
  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    gdouble half = s->line_width / 2;

    set_source_color (cr, s->color);
    cairo_set_line_width (cr, s->line_width);
    cairo_rectangle (cr, roi->x + half, roi->y + half,
        MAX ((gdouble) roi->w - s->line_width, 0),
        MAX ((gdouble) roi->h - s->line_width, 0));
    cairo_stroke (cr);
    drew = TRUE;

    if (s->show_labels) {
      g_autofree gchar *label = region_label (roi);
      gdouble label_h = font.ascent + font.descent + 2 * s->font_size / 5;
      gdouble y = roi->y - label_h;

      if (y < 0)                /* no room above: inside the box */
        y = roi->y + s->line_width;
      if (*label)
        draw_text_box (cr, label, roi->x, y, s->color, 0xff000000,
            s->font_size);
    }
    GST_LOG_OBJECT (self, "box %u,%u %ux%u", roi->x, roi->y, roi->w, roi->h);
  }
  return drew;
}

static gboolean
draw_captions (GstFalOverlay * self, cairo_t * cr, GstBuffer * buffer,
    const GstFalOverlaySettings * s, gint height)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  GstFalResultMeta *meta;
  gpointer state = NULL;
  cairo_font_extents_t font;
  gdouble line_h, y;
  gboolean drew;
  guint i;

  while ((meta = (GstFalResultMeta *)
          gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_FAL_RESULT_META_API_TYPE))) {
    if (meta->error) {
      g_ptr_array_add (lines, g_strdup_printf ("%s: error: %s",
              meta->application ? meta->application : "fal", meta->error));
    } else if (meta->result_json && s->caption_field && *s->caption_field) {
      gchar *text = gst_fal_result_get_string (meta->result_json,
          s->caption_field);
      if (text && *text)
        g_ptr_array_add (lines, text);
      else
        g_free (text);
    }
  }

  cairo_font_extents (cr, &font);
  line_h = font.ascent + font.descent + 2 * s->font_size / 5;
  y = height - line_h * lines->len;
  for (i = 0; i < lines->len; i++, y += line_h) {
    gchar *line = g_ptr_array_index (lines, i);

    g_strdelimit (line, "\r\n\t", ' ');
    draw_text_box (cr, line, 0, y, 0xb0000000, 0xffffffff, s->font_size);
    GST_LOG_OBJECT (self, "caption: %s", line);
  }
  drew = lines->len > 0;
  g_ptr_array_unref (lines);
  return drew;
}

/* Offsets of R, G, B and alpha (-1: none) in a packed 4-byte pixel. */
static void
pixel_offsets (const GstVideoFormatInfo * finfo, gint offsets[4])
{
  offsets[0] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_R);
  offsets[1] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_G);
  offsets[2] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_B);
  offsets[3] = -1;
  if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo))
    offsets[3] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_A);
}

/* Blends the premultiplied ARGB32 layer onto the frame, "over". */
static void
blend_layer (cairo_surface_t * layer, GstVideoFrame * frame)
{
  const guint8 *src = cairo_image_surface_get_data (layer);
  gint src_stride = cairo_image_surface_get_stride (layer);
  guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint dst_stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  gint width = GST_VIDEO_FRAME_WIDTH (frame);
  gint height = GST_VIDEO_FRAME_HEIGHT (frame);
  gint off[4];
  gint x, y;

  pixel_offsets (frame->info.finfo, off);
  for (y = 0; y < height; y++) {
    const guint32 *s = (const guint32 *) (src + y * src_stride);
    guint8 *d = dst + y * dst_stride;

    for (x = 0; x < width; x++, d += 4) {
      guint32 p = s[x];
      guint a = p >> 24;
      guint inv = 255 - a;

      if (a == 0)
        continue;
      d[off[0]] = ((p >> 16) & 0xff) + (d[off[0]] * inv + 127) / 255;
      d[off[1]] = ((p >> 8) & 0xff) + (d[off[1]] * inv + 127) / 255;
      d[off[2]] = (p & 0xff) + (d[off[2]] * inv + 127) / 255;
      if (off[3] >= 0)
        d[off[3]] = a + (d[off[3]] * inv + 127) / 255;
    }
  }
}

static gboolean
buffer_has_overlay_metas (GstBuffer * buffer)
{
  gpointer state = NULL;

  if (gst_buffer_iterate_meta_filtered (buffer, &state,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    return TRUE;
  state = NULL;
  return gst_buffer_iterate_meta_filtered (buffer, &state,
      GST_FAL_RESULT_META_API_TYPE) != NULL;
}

static GstFlowReturn
gst_fal_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstFalOverlay *self = GST_FAL_OVERLAY (filter);
  GstFalOverlaySettings s;
  gint width = GST_VIDEO_FRAME_WIDTH (frame);
  gint height = GST_VIDEO_FRAME_HEIGHT (frame);
  cairo_t *cr;
  gboolean drew;

  if (!buffer_has_overlay_metas (frame->buffer))
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  s = self->settings;
  s.caption_field = g_strdup (self->settings.caption_field);
  GST_OBJECT_UNLOCK (self);

  if (!self->layer || cairo_image_surface_get_width (self->layer) != width
      || cairo_image_surface_get_height (self->layer) != height) {
    g_clear_pointer (&self->layer, cairo_surface_destroy);
    self->layer = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width,
        height);
  }

  cr = cairo_create (self->layer);
  cairo_set_operator (cr, CAIRO_OPERATOR_CLEAR);
  cairo_paint (cr);
  cairo_set_operator (cr, CAIRO_OPERATOR_OVER);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
      CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, s.font_size);

  drew = draw_regions (self, cr, frame->buffer, &s);
  drew |= draw_captions (self, cr, frame->buffer, &s, height);
  cairo_destroy (cr);
  g_free (s.caption_field);

  if (drew) {
    cairo_surface_flush (self->layer);
    blend_layer (self->layer, frame);
  }
  return GST_FLOW_OK;
}

static gboolean
gst_fal_overlay_stop (GstBaseTransform * trans)
{
  GstFalOverlay *self = GST_FAL_OVERLAY (trans);

  g_clear_pointer (&self->layer, cairo_surface_destroy);
  return TRUE;
}

static void
gst_fal_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalOverlay *self = GST_FAL_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LINE_WIDTH:
      self->settings.line_width = g_value_get_double (value);
      break;
    case PROP_COLOR:
      self->settings.color = g_value_get_uint (value);
      break;
    case PROP_FONT_SIZE:
      self->settings.font_size = g_value_get_double (value);
      break;
    case PROP_CAPTION_FIELD:
      g_free (self->settings.caption_field);
      self->settings.caption_field = g_value_dup_string (value);
      break;
    case PROP_SHOW_LABELS:
      self->settings.show_labels = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_fal_overlay_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalOverlay *self = GST_FAL_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LINE_WIDTH:
      g_value_set_double (value, self->settings.line_width);
      break;
    case PROP_COLOR:
      g_value_set_uint (value, self->settings.color);
      break;
    case PROP_FONT_SIZE:
      g_value_set_double (value, self->settings.font_size);
      break;
    case PROP_CAPTION_FIELD:
      g_value_set_string (value, self->settings.caption_field);
      break;
    case PROP_SHOW_LABELS:
      g_value_set_boolean (value, self->settings.show_labels);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_fal_overlay_finalize (GObject * object)
{
  GstFalOverlay *self = GST_FAL_OVERLAY (object);

  g_free (self->settings.caption_field);
  g_clear_pointer (&self->layer, cairo_surface_destroy);
  G_OBJECT_CLASS (gst_fal_overlay_parent_class)->finalize (object);
}

static void
gst_fal_overlay_class_init (GstFalOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = gst_fal_overlay_set_property;
  gobject_class->get_property = gst_fal_overlay_get_property;
  gobject_class->finalize = gst_fal_overlay_finalize;

  properties[PROP_LINE_WIDTH] = g_param_spec_double ("line-width",
      "Line width", "Width of the box outlines, in pixels", 0.5, 100.0,
      DEFAULT_LINE_WIDTH,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE);
  properties[PROP_COLOR] = g_param_spec_uint ("color", "Color",
      "Color of boxes and label backgrounds, as 0xAARRGGBB", 0, G_MAXUINT32,
      DEFAULT_COLOR,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE);
  properties[PROP_FONT_SIZE] = g_param_spec_double ("font-size", "Font size",
      "Size of label and caption text, in pixels", 4.0, 400.0,
      DEFAULT_FONT_SIZE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAPTION_FIELD] = g_param_spec_string ("caption-field",
      "Caption field",
      "Dotted path of the result field shown as a caption line at the bottom "
      "(e.g. \"text\", \"symbols.0.data\"); empty = no caption",
      DEFAULT_CAPTION_FIELD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_LABELS] = g_param_spec_boolean ("show-labels",
      "Show labels", "Draw the label and score of each box above it",
      DEFAULT_SHOW_LABELS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "fal overlay",
      "Filter/Editor/Video",
      "Draws the boxes, labels and captions of fal results onto video",
      "gst-fal developers");

  trans_class->stop = GST_DEBUG_FUNCPTR (gst_fal_overlay_stop);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_fal_overlay_transform_frame_ip);

  GST_DEBUG_CATEGORY_INIT (gst_fal_overlay_debug, "faloverlay", 0,
      "fal overlay");
}

static void
gst_fal_overlay_init (GstFalOverlay * self)
{
  self->settings.line_width = DEFAULT_LINE_WIDTH;
  self->settings.color = DEFAULT_COLOR;
  self->settings.font_size = DEFAULT_FONT_SIZE;
  self->settings.caption_field = g_strdup (DEFAULT_CAPTION_FIELD);
  self->settings.show_labels = DEFAULT_SHOW_LABELS;
}
