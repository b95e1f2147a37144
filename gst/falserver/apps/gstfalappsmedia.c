/* gst-fal server: the built-in model apps, as GStreamer pipelines
 *
 * barcode, face-detection, edge-detection and face-blur are declared as
 * pipeline descriptions in the same key file format as --apps; text-to-image
 * and ocr need code around their pipeline.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/video/video.h>
#include <stdbool.h>
#include <tesseract/capi.h>
#include <zbar.h>

#include "gstfalappsmedia-private.h"

/* *INDENT-OFF* */
/* with the path of the face cascade: faceblur's own default is broken in
 * 1.22 (its directory is prepended twice) */
static const gchar builtin_apps_format[] =
  "[local/barcode]\n"
  "description=Reads every barcode and QR code in the image (zbar)\n"
  "pipeline=videoconvert\n"
  "output=symbols\n"
  "\n"
  "[local/face-detection]\n"
  "description=Finds the faces in the image (OpenCV Haar cascade)\n"
  "pipeline=videoconvert ! facedetect name=detect display=false "
  "updates=every_frame\n"
  "inputs=min_neighbors=detect.min-neighbors;scale_factor=detect.scale-factor\n"
  "output=faces\n"
  "\n"
  "[local/edge-detection]\n"
  "description=Draws the edges of the image (OpenCV Canny)\n"
  "pipeline=videoconvert ! edgedetect name=edges mask=false ! videoconvert\n"
  "inputs=threshold1=edges.threshold1;threshold2=edges.threshold2;"
  "aperture=edges.aperture;mask=edges.mask\n"
  "output=image\n"
  "\n"
  "[local/face-blur]\n"
  "description=Blurs the faces in the image (OpenCV Haar cascade)\n"
  "pipeline=videoconvert ! faceblur name=blur profile=\"%s\" ! videoconvert\n"
  "inputs=min_neighbors=blur.min-neighbors;scale_factor=blur.scale-factor\n"
  "output=image\n";

const gchar gst_fal_apps_faces_output_schema[] = "{\"type\": \"object\","
  "\"required\": [\"faces\", \"width\", \"height\"], \"properties\": {"
  "\"faces\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
  " \"required\": [\"box\", \"score\"], \"properties\": {"
  "\"box\": {\"type\": \"object\", \"description\":"
  " \"pixels, x y of the top left corner\", \"properties\": {"
  "\"x\": {\"type\": \"integer\"}, \"y\": {\"type\": \"integer\"},"
  "\"w\": {\"type\": \"integer\"}, \"h\": {\"type\": \"integer\"}}},"
  "\"score\": {\"type\": \"number\", \"description\": \"1: a Haar cascade"
  " gives no confidence\"}}}},"
  "\"width\": {\"type\": \"integer\"}, \"height\": {\"type\": \"integer\"}}}";

const gchar gst_fal_apps_symbols_output_schema[] = "{\"type\": \"object\","
  "\"required\": [\"symbols\"], \"properties\": {"
  "\"symbols\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
  " \"required\": [\"type\", \"data\"], \"properties\": {"
  "\"type\": {\"type\": \"string\", \"examples\": [\"QR-Code\", \"EAN-13\"]},"
  "\"data\": {\"type\": \"string\"},"
  "\"box\": {\"type\": \"object\", \"description\": \"pixels, x y of the"
  " top left corner\", \"properties\": {"
  "\"x\": {\"type\": \"integer\"}, \"y\": {\"type\": \"integer\"},"
  "\"w\": {\"type\": \"integer\"}, \"h\": {\"type\": \"integer\"}}}}}},"
  "\"width\": {\"type\": \"integer\"}, \"height\": {\"type\": \"integer\"}}}";
/* *INDENT-ON* */

static JsonObject *
box_new (gint x, gint y, gint w, gint h)
{
  JsonObject *box = json_object_new ();

  json_object_set_int_member (box, "x", x);
  json_object_set_int_member (box, "y", y);
  json_object_set_int_member (box, "w", w);
  json_object_set_int_member (box, "h", h);
  return box;
}

static JsonNode *
object_node (JsonObject * object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

static void
add_face (JsonArray * faces, const GstStructure * face)
{
  guint x = 0, y = 0, w = 0, h = 0;
  JsonObject *object;

  if (!gst_structure_get_uint (face, "x", &x)
      || !gst_structure_get_uint (face, "y", &y)
      || !gst_structure_get_uint (face, "width", &w)
      || !gst_structure_get_uint (face, "height", &h))
    return;
  object = json_object_new ();
  json_object_set_object_member (object, "box", box_new (x, y, w, h));
  json_object_set_double_member (object, "score", 1.0);
  json_array_add_object_element (faces, object);
}

JsonNode *
gst_fal_apps_map_faces (GstFalPipelineRun * run)
{
  JsonObject *output = json_object_new ();
  JsonArray *faces = json_array_new ();

  /* one image, one frame: the last message has its faces */
  if (run->messages->len > 0) {
    GstStructure *s = g_ptr_array_index (run->messages,
        run->messages->len - 1);
    const GValue *list = gst_structure_get_value (s, "faces");
    guint i, n = 0;

    if (list && GST_VALUE_HOLDS_LIST (list))
      n = gst_value_list_get_size (list);
    for (i = 0; i < n; i++) {
      const GValue *face = gst_value_list_get_value (list, i);
      if (GST_VALUE_HOLDS_STRUCTURE (face))
        add_face (faces, gst_value_get_structure (face));
    }
  }
  json_object_set_array_member (output, "faces", faces);
  json_object_set_int_member (output, "width", run->input_width);
  json_object_set_int_member (output, "height", run->input_height);
  return object_node (output);
}

/* Scans the grey frame at the end of the pipeline with libzbar: one scan
 * gives each symbol's type, data and location (the zbar element of 1.22
 * posts no location). */
JsonNode *
gst_fal_apps_map_symbols (GstFalPipelineRun * run,
    zbar_image_scanner_t * scanner)
{
  GstSample *sample = run->sample;
  JsonObject *output = json_object_new ();
  JsonArray *symbols = json_array_new ();
  GstVideoInfo info;
  GstVideoFrame frame;
  zbar_image_t *image;
  const zbar_symbol_t *symbol;

  json_object_set_array_member (output, "symbols", symbols);
  json_object_set_int_member (output, "width", run->input_width);
  json_object_set_int_member (output, "height", run->input_height);
  if (sample == NULL
      || !gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_GRAY8
      || !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ))
    return object_node (output);

  image = zbar_image_create ();
  zbar_image_set_format (image, GST_MAKE_FOURCC ('Y', '8', '0', '0'));
  /* the rows as they are: the stride is the width */
  zbar_image_set_size (image, GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
      GST_VIDEO_INFO_HEIGHT (&info));
  zbar_image_set_crop (image, 0, 0, GST_VIDEO_INFO_WIDTH (&info),
      GST_VIDEO_INFO_HEIGHT (&info));
  zbar_image_set_data (image, GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
      (gulong) GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) *
      GST_VIDEO_INFO_HEIGHT (&info), NULL);
  zbar_scan_image (scanner, image);

  for (symbol = zbar_image_first_symbol (image); symbol;
      symbol = zbar_symbol_next (symbol)) {
    JsonObject *object = json_object_new ();
    gint x0 = G_MAXINT, y0 = G_MAXINT, x1 = G_MININT, y1 = G_MININT;
    guint i, n = zbar_symbol_get_loc_size (symbol);

    json_object_set_string_member (object, "type",
        zbar_get_symbol_name (zbar_symbol_get_type (symbol)));
    json_object_set_string_member (object, "data",
        zbar_symbol_get_data (symbol));
    for (i = 0; i < n; i++) {
      gint x = zbar_symbol_get_loc_x (symbol, i);
      gint y = zbar_symbol_get_loc_y (symbol, i);
      x0 = MIN (x0, x);
      y0 = MIN (y0, y);
      x1 = MAX (x1, x);
      y1 = MAX (y1, y);
    }
    /* the location points are pixel centres: include the last ones */
    if (n > 0)
      json_object_set_object_member (object, "box", box_new (x0, y0,
              x1 - x0 + 1, y1 - y0 + 1));
    json_array_add_object_element (symbols, object);
  }
  zbar_image_destroy (image);
  gst_video_frame_unmap (&frame);
  return object_node (output);
}

/* text-to-image: the prompt rendered with pango over a colour of its own */

static gboolean
set_prompt (GstBin * pipeline, gpointer data, GError ** error)
{
  g_autoptr (GstElement) text = gst_bin_get_by_name (pipeline, "text");

  g_object_set (text, "text", (const gchar *) data, NULL);
  return TRUE;
}

static JsonNode *
text_to_image_run (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  JsonNode *input = gst_fal_app_call_get_input (call);
  const gchar *prompt = gst_fal_apps_get_string (input, "prompt", "");
  gint64 width = gst_fal_apps_get_int (input, "width", 512);
  gint64 height = gst_fal_apps_get_int (input, "height", 512);
  guint hash = g_str_hash (prompt);
  /* a light background so that the black text stays readable */
  guint background = 0xff000000 | (0xc0 + (hash & 0x3f)) << 16 |
      (0xc0 + ((hash >> 8) & 0x3f)) << 8 | (0xc0 + ((hash >> 16) & 0x3f));
  gint font_size = CLAMP (MIN (width / 16, height / 8), 6, 200);
  g_autofree gchar *description = NULL;
  GstFalPipelineRun run;
  JsonNode *output;

  description = g_strdup_printf ("videotestsrc num-buffers=1 "
      "pattern=solid-color foreground-color=0x%08x ! "
      "video/x-raw,format=BGRx,width=%" G_GINT64_FORMAT ",height=%"
      G_GINT64_FORMAT ",framerate=1/1 ! textoverlay name=text "
      "halignment=center valignment=center wrap-mode=wordchar "
      "auto-resize=false draw-shadow=false draw-outline=false "
      "color=0xff000000 font-desc=\"Sans %d\"" GST_FAL_APPS_PNG_TAIL,
      background, width, height, font_size);

  if (!gst_fal_apps_run_pipeline (call, description, NULL, NULL, set_prompt,
          (gpointer) prompt, &run, error)) {
    gst_fal_pipeline_run_clear (&run);
    return NULL;
  }
  output = gst_fal_apps_answer_image (call, run.sample, error);
  gst_fal_pipeline_run_clear (&run);
  return output;
}

/* ocr: libtesseract on the image, decoded and made grey; each runner keeps
 * its engine loaded (with the language of its last request) */

typedef struct
{
  GstFalWarmPipeline *warm;
  TessBaseAPI *engine;
  gchar *language;              /* the engine's, NULL until loaded */
} OcrRunner;

static void
ocr_runner_free (OcrRunner * runner)
{
  gst_fal_warm_pipeline_free (runner->warm);
  TessBaseAPIEnd (runner->engine);
  TessBaseAPIDelete (runner->engine);
  g_free (runner->language);
  g_free (runner);
}

static gboolean
ocr_load (OcrRunner * runner, const gchar * language, GError ** error)
{
  if (g_strcmp0 (runner->language, language) == 0)
    return TRUE;
  g_clear_pointer (&runner->language, g_free);
  if (TessBaseAPIInit3 (runner->engine, NULL, language) != 0) {
    g_set_error (error, GST_FAL_APP_ERROR, 422, "language %s is not "
        "installed for tesseract", language);
    return FALSE;
  }
  /* as tesseract's command line does */
  TessBaseAPISetPageSegMode (runner->engine, PSM_AUTO);
  runner->language = g_strdup (language);
  return TRUE;
}

static gpointer
ocr_setup (gpointer app_data, GError ** error)
{
  OcrRunner *runner = g_new0 (OcrRunner, 1);

  runner->engine = TessBaseAPICreate ();
  runner->warm = gst_fal_warm_pipeline_new ("videoconvert ! "
      "video/x-raw,format=GRAY8 ! appsink name=fal-sink sync=false", NULL,
      error);
  if (runner->warm == NULL || !ocr_load (runner, "eng", error)) {
    ocr_runner_free (runner);
    return NULL;
  }
  return runner;
}

static bool
ocr_cancelled (void *cancel_this, int words)
{
  return g_cancellable_is_cancelled (cancel_this);
}

/* The text of a grey frame, or NULL with @error. */
static gchar *
ocr_read (OcrRunner * runner, GstFalAppCall * call, GstSample * sample,
    GError ** error)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  ETEXT_DESC *monitor;
  gchar *text = NULL;
  gint failed;

  if (sample == NULL
      || !gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ)) {
    g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
        "The app's pipeline produced no image");
    return NULL;
  }
  TessBaseAPISetImage (runner->engine, GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
      GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info), 1,
      GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0));
  monitor = TessMonitorCreate ();
  TessMonitorSetCancelThis (monitor, gst_fal_app_call_get_cancellable (call));
  TessMonitorSetCancelFunc (monitor, ocr_cancelled);
  failed = TessBaseAPIRecognize (runner->engine, monitor);
  TessMonitorDelete (monitor);
  if (g_cancellable_set_error_if_cancelled (gst_fal_app_call_get_cancellable
          (call), error)) {
  } else if (failed) {
    g_set_error_literal (error, GST_FAL_APP_ERROR, 500,
        "tesseract cannot read the image");
  } else {
    gchar *utf8 = TessBaseAPIGetUTF8Text (runner->engine);

    text = g_strdup (g_strstrip (utf8 ? utf8 : (gchar *) ""));
    TessDeleteText (utf8);
  }
  TessBaseAPIClear (runner->engine);
  gst_video_frame_unmap (&frame);
  return text;
}

static gboolean
valid_language (const gchar * language)
{
  const gchar *c;

  for (c = language; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '_' && *c != '+')
      return FALSE;
  return *language != '\0';
}

static JsonNode *
ocr_run (GstFalAppCall * call, gpointer runner_data, GError ** error)
{
  OcrRunner *runner = runner_data;
  JsonNode *input = gst_fal_app_call_get_input (call);
  const gchar *language = gst_fal_apps_get_string (input, "language", "eng");
  g_autoptr (GBytes) image = NULL;
  g_autofree gchar *text = NULL;
  GstFalPipelineRun run;
  JsonObject *output;

  if (!valid_language (language)) {
    g_set_error_literal (error, GST_FAL_APP_ERROR, 422,
        "language must be tesseract language codes joined with +");
    return gst_fal_apps_input_error (call, "language", error);
  }
  if (!ocr_load (runner, language, error))
    return gst_fal_apps_input_error (call, "language", error);
  image = gst_fal_apps_fetch_image (call, error);
  if (image == NULL)
    return gst_fal_apps_input_error (call, "image_url", error);
  if (!gst_fal_warm_pipeline_run (runner->warm, call, image, NULL, NULL,
          &run, error)) {
    gst_fal_pipeline_run_clear (&run);
    return gst_fal_apps_input_error (call, "image_url", error);
  }
  text = ocr_read (runner, call, run.sample, error);
  gst_fal_pipeline_run_clear (&run);
  if (text == NULL)
    return NULL;

  output = json_object_new ();
  json_object_set_string_member (output, "text", text);
  return object_node (output);
}

/* *INDENT-OFF* */
static const GstFalAppInfo code_apps[] = {
  { "local/text-to-image", "Renders the prompt as an image (pango)",
    "{\"title\": \"TextToImageInput\", \"type\": \"object\","
    " \"required\": [\"prompt\"], \"properties\": {"
    "\"prompt\": {\"type\": \"string\", \"description\": \"The text to draw\"},"
    "\"width\": {\"type\": \"integer\", \"minimum\": 16, \"maximum\": 4096,"
    " \"default\": 512},"
    "\"height\": {\"type\": \"integer\", \"minimum\": 16, \"maximum\": 4096,"
    " \"default\": 512}}}",
    gst_fal_apps_image_output_schema, text_to_image_run, NULL, NULL },
  { "local/ocr", "Reads the text in the image (libtesseract)",
    "{\"title\": \"OcrInput\", \"type\": \"object\","
    " \"required\": [\"image_url\"], \"properties\": {"
    "\"image_url\": {\"type\": \"string\","
    " \"description\": \"URL or data URI of the input image\"},"
    "\"language\": {\"type\": \"string\", \"default\": \"eng\","
    " \"description\": \"tesseract language codes, e.g. eng or eng+deu\"}}}",
    "{\"title\": \"OcrOutput\", \"type\": \"object\", \"required\": [\"text\"],"
    " \"properties\": {\"text\": {\"type\": \"string\"}}}",
    ocr_run, NULL, NULL, ocr_setup, (GDestroyNotify) ocr_runner_free },
};
/* *INDENT-ON* */

/* The frontal face cascade, as facedetect finds it by default. */
static gchar *
face_cascade_path (void)
{
  g_autoptr (GstElementFactory) factory = gst_element_factory_find
      ("facedetect");
  g_autoptr (GstPluginFeature) loaded = NULL;
  gchar *path = NULL;

  if (factory)
    loaded = gst_plugin_feature_load (GST_PLUGIN_FEATURE (factory));
  if (loaded) {
    GType type = gst_element_factory_get_element_type (GST_ELEMENT_FACTORY
        (loaded));
    GObjectClass *klass = g_type_class_ref (type);
    GParamSpec *pspec = g_object_class_find_property (klass, "profile");

    if (pspec && G_IS_PARAM_SPEC_STRING (pspec))
      path = g_strdup (((GParamSpecString *) pspec)->default_value);
    g_type_class_unref (klass);
  }
  if (path == NULL)
    path = g_strdup ("/usr/share/opencv4/haarcascades/"
        "haarcascade_frontalface_default.xml");
  return path;
}

void
gst_fal_apps_register_media (GstFalAppRegistry * registry)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *cascade = NULL, *builtin_apps = NULL;
  guint i;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  gst_fal_apps_quiet_opencv ();
  cascade = face_cascade_path ();
  builtin_apps = g_strdup_printf (builtin_apps_format, cascade);
  if (!g_key_file_load_from_data (key_file, builtin_apps, -1,
          G_KEY_FILE_NONE, &error)
      || !gst_fal_apps_register_from_key_file (registry, key_file, TRUE,
          &error))
    g_warning ("built-in apps: %s", error->message);

  for (i = 0; i < G_N_ELEMENTS (code_apps); i++)
    gst_fal_app_registry_add (registry, &code_apps[i]);
}
