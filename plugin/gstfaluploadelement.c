/* gst-fal: falupload, uploads buffers to the fal CDN */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalelements.h"
#include "gstfaldispatcher.h"

#include <string.h>
#include <gst/fal/gstfaljson-private.h>

/**
 * SECTION:element-falupload
 * @title: falupload
 *
 * Uploads buffers to the fal CDN (the storage of the configured server) and
 * passes them on unchanged, each with a #GstFalResultMeta whose result is
 * `{"url": …, "content_type": …}`. Encoded media (PNG, JPEG, audio, video,
 * anything) is uploaded as it is, with the content type of its caps; raw
 * video frames are first encoded to JPEG or PNG (`image-format`, `quality`,
 * `max-dimension`). Every upload also posts an element message named
 * `fal-upload` with the fields `url` (string), `content-type` (string),
 * `pts` (guint64) and `index` (guint64, the number of the uploaded buffer).
 *
 * Uploads run on worker threads; the streaming thread only waits when
 * `max-in-flight` uploads are already running (see `when-full`). Buffers
 * leave in order, each with its own URL. `interval` uploads one buffer in
 * every n, the others pass without a meta.
 *
 * With no `server-url`, no `GST_FAL_URL` and no key, uploads go to the local
 * fal-compatible server started inside the process, so pipelines work
 * offline; with a key and no server they go to the fal cloud.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=3 ! pngenc ! falupload ! fakesink
 * ]| Uploads three PNG images and prints their URLs (in the `fal-upload`
 * messages).
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=100 ! falupload interval=25 image-format=png ! fakesink
 * ]| Uploads every 25th raw frame as PNG.
 *
 * Since: 0.1
 */

GST_DEBUG_CATEGORY_STATIC (gst_fal_upload_element_debug);
#define GST_CAT_DEFAULT gst_fal_upload_element_debug

#define GST_TYPE_FAL_UPLOAD_ELEMENT (gst_fal_upload_element_get_type ())
G_DECLARE_FINAL_TYPE (GstFalUploadElement, gst_fal_upload_element, GST,
    FAL_UPLOAD_ELEMENT, GstElement);

#define DEFAULT_SERVER_URL NULL
#define DEFAULT_IMAGE_FORMAT GST_FAL_IMAGE_FORMAT_JPEG
#define DEFAULT_QUALITY 85
#define DEFAULT_MAX_DIMENSION 0
/* The application name recorded in result metas and asked for when the
 * embedded local server is wanted. */
#define UPLOAD_APPLICATION "local/upload"

enum
{
  PROP_0,
  PROP_SERVER_URL,
  PROP_KEY,
  PROP_IMAGE_FORMAT,
  PROP_QUALITY,
  PROP_MAX_DIMENSION,
  PROP_TLS_CA_FILE,
  PROP_LAST
};

typedef struct
{
  gchar *server_url;
  gchar *key;
  GstFalImageFormat image_format;
  guint quality;
  guint max_dimension;
  gchar *tls_ca_file;
} GstFalUploadSettings;

struct _GstFalUploadElement
{
  GstElement parent;

  GstPad *sinkpad, *srcpad;
  GstFalDispatcher *dispatcher;

  /* under the object lock */
  GstFalUploadSettings settings;
  GstFalClient *client;

  /* set at start, read by the workers until stop */
  GstFalFrameEncoder *encoder;
};

typedef struct
{
  gchar *url;
  gchar *content_type;
} UploadResult;

G_DEFINE_TYPE (GstFalUploadElement, gst_fal_upload_element, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (falupload, "falupload", GST_RANK_NONE,
    GST_TYPE_FAL_UPLOAD_ELEMENT, gst_fal_element_init (plugin));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
upload_result_free (gpointer data)
{
  UploadResult *result = data;

  g_free (result->url);
  g_free (result->content_type);
  g_free (result);
}

/* The content type of encoded media, from its caps. */
static const gchar *
content_type_for_caps (GstCaps * caps)
{
  static const struct
  {
    const gchar *media_type;
    const gchar *content_type;
  } map[] = {
    {"video/quicktime", "video/mp4"},
    {"video/x-matroska", "video/x-matroska"},
    {"video/webm", "video/webm"},
    {"audio/x-wav", "audio/wav"},
    {"audio/x-flac", "audio/flac"},
    {"application/ogg", "application/ogg"},
    {"image/svg+xml", "image/svg+xml"},
  };
  const gchar *name;
  guint i;

  if (!caps || gst_caps_is_any (caps) || gst_caps_is_empty (caps))
    return "application/octet-stream";
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  for (i = 0; i < G_N_ELEMENTS (map); i++)
    if (strcmp (name, map[i].media_type) == 0)
      return map[i].content_type;
  if (g_str_has_prefix (name, "image/") || g_str_has_prefix (name, "audio/")
      || g_str_has_prefix (name, "video/") || g_str_has_prefix (name, "text/")
      || g_str_has_prefix (name, "application/"))
    return name;
  return "application/octet-stream";
}

static const gchar *
extension_for_content_type (const gchar * content_type)
{
  if (strcmp (content_type, "image/png") == 0)
    return "png";
  if (strcmp (content_type, "image/jpeg") == 0)
    return "jpg";
  if (strcmp (content_type, "video/mp4") == 0)
    return "mp4";
  if (strcmp (content_type, "audio/wav") == 0)
    return "wav";
  if (strcmp (content_type, "application/json") == 0)
    return "json";
  return "bin";
}

/* Worker thread: encodes raw frames, uploads. */
static void
upload_work (GstFalJob * job, gpointer user_data)
{
  GstFalUploadElement *self = user_data;
  GstCaps *caps = gst_sample_get_caps (job->sample);
  GstBuffer *buffer = gst_sample_get_buffer (job->sample);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree gchar *file_name = NULL;
  const gchar *content_type;
  GstFalClient *client;
  GstFalOptions *options;
  UploadResult *result;
  gint64 start = g_get_monotonic_time ();
  gchar *url;

  if (caps && !gst_caps_is_any (caps) && gst_caps_get_size (caps) > 0
      && gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw")) {
    bytes = gst_fal_frame_encoder_encode (self->encoder, job->sample,
        &content_type, &job->error);
    if (!bytes)
      return;
  } else {
    GstMapInfo map;

    if (!buffer || !gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      job->error = gst_fal_error_new_full (GST_FAL_ERROR_ENCODE, 0, NULL,
          NULL, NULL, "Cannot read the buffer");
      return;
    }
    bytes = g_bytes_new (map.data, map.size);
    gst_buffer_unmap (buffer, &map);
    content_type = content_type_for_caps (caps);
  }

  file_name = g_strdup_printf ("buffer-%06" G_GUINT64_FORMAT ".%s",
      job->index, extension_for_content_type (content_type));
  GST_OBJECT_LOCK (self);
  client = g_object_ref (self->client);
  GST_OBJECT_UNLOCK (self);
  options = gst_fal_dispatcher_job_options (job);
  url = gst_fal_client_upload_bytes_full (client, bytes, content_type,
      file_name, options, job->cancellable, &job->error);
  gst_fal_options_unref (options);
  g_object_unref (client);
  if (!url)
    return;

  job->timings.upload = (g_get_monotonic_time () - start) * GST_USECOND;
  GST_DEBUG_OBJECT (self, "buffer %" G_GUINT64_FORMAT " (%" G_GSIZE_FORMAT
      " bytes of %s) at %s", job->index, g_bytes_get_size (bytes),
      content_type, url);
  result = g_new0 (UploadResult, 1);
  result->url = url;
  result->content_type = g_strdup (content_type);
  job->result = result;
  job->result_free = upload_result_free;
}

static gchar *
result_json_for (const UploadResult * result)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, result->url);
  json_builder_set_member_name (builder, "content_type");
  json_builder_add_string_value (builder, result->content_type);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return gst_fal_json_to_string (root, FALSE);
}

/* Push side: the URL goes on the buffer and on the bus. */
static GstBuffer *
upload_attach (GstBuffer * buffer, GstFalJob * job, gboolean own_frame,
    gpointer user_data)
{
  GstFalUploadElement *self = user_data;
  const UploadResult *result = job->result;

  if (job->error || !result) {
    g_autofree gchar *error = job->error ?
        gst_fal_error_get_summary (job->error) : g_strdup ("upload failed");

    gst_buffer_add_fal_result_meta (buffer, job->request_id,
        UPLOAD_APPLICATION, NULL, error,
        job->error ? gst_fal_error_get_error_type (job->error) : NULL,
        job->error ? gst_fal_error_get_http_status (job->error) : 0,
        job->pts, &job->timings);
  } else {
    g_autofree gchar *json = result_json_for (result);

    gst_buffer_add_fal_result_meta (buffer, NULL, UPLOAD_APPLICATION, json,
        NULL, NULL, 0, job->pts, &job->timings);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("fal-upload",
                "url", G_TYPE_STRING, result->url,
                "content-type", G_TYPE_STRING, result->content_type,
                "pts", G_TYPE_UINT64, (guint64) job->pts,
                "index", G_TYPE_UINT64, job->index, NULL)));
  }
  return buffer;
}

static gboolean
env_is_set (const gchar * name)
{
  const gchar *value = g_getenv (name);

  return value && *value;
}

static gboolean
upload_start (GstFalUploadElement * self)
{
  GstFalUploadSettings s;
  gboolean acquired;
  const gchar *application = NULL;

  GST_OBJECT_LOCK (self);
  s = self->settings;
  s.server_url = g_strdup (self->settings.server_url);
  s.key = g_strdup (self->settings.key);
  s.tls_ca_file = g_strdup (self->settings.tls_ca_file);
  GST_OBJECT_UNLOCK (self);

  /* Nothing configured: the embedded server, as for local/ applications. */
  if (!(s.server_url && *s.server_url) && !env_is_set ("GST_FAL_URL")
      && !(s.key && *s.key) && !env_is_set ("FAL_KEY")
      && !env_is_set ("FAL_KEY_ID"))
    application = UPLOAD_APPLICATION;

  acquired = gst_fal_element_replace_client (GST_ELEMENT (self),
      &self->client, s.server_url, s.key, s.tls_ca_file, application);
  g_free (s.server_url);
  g_free (s.tls_ca_file);
  gst_fal_element_clear_key (&s.key);
  if (!acquired)
    return FALSE;

  g_clear_pointer (&self->encoder, gst_fal_frame_encoder_free);
  self->encoder = gst_fal_frame_encoder_new (s.image_format, s.quality,
      s.max_dimension);
  return gst_fal_dispatcher_start (self->dispatcher);
}

static GstStateChangeReturn
gst_fal_upload_element_change_state (GstElement * element,
    GstStateChange transition)
{
  GstFalUploadElement *self = GST_FAL_UPLOAD_ELEMENT (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!upload_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_fal_dispatcher_stop (self->dispatcher);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (gst_fal_upload_element_parent_class)->change_state
      (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      g_clear_pointer (&self->encoder, gst_fal_frame_encoder_free);
      GST_OBJECT_LOCK (self);
      g_clear_object (&self->client);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }
  return ret;
}

static void
gst_fal_upload_element_set_context (GstElement * element, GstContext * context)
{
  gst_fal_element_handle_set_context (element, context);
  GST_ELEMENT_CLASS (gst_fal_upload_element_parent_class)->set_context
      (element, context);
}

static void
gst_fal_upload_element_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalUploadElement *self = GST_FAL_UPLOAD_ELEMENT (object);
  GstFalUploadSettings *s = &self->settings;

  if (gst_fal_dispatcher_set_property (self->dispatcher, prop_id, value, pspec))
    return;

  GST_OBJECT_LOCK (self);
  if (GST_STATE (self) > GST_STATE_READY) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "%s can only be set in the NULL or READY state",
        pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_SERVER_URL:
      g_free (s->server_url);
      s->server_url = g_value_dup_string (value);
      break;
    case PROP_KEY:
      gst_fal_element_clear_key (&s->key);
      s->key = g_value_dup_string (value);
      break;
    case PROP_IMAGE_FORMAT:
      s->image_format = g_value_get_enum (value);
      break;
    case PROP_QUALITY:
      s->quality = g_value_get_uint (value);
      break;
    case PROP_MAX_DIMENSION:
      s->max_dimension = g_value_get_uint (value);
      break;
    case PROP_TLS_CA_FILE:
      g_free (s->tls_ca_file);
      s->tls_ca_file = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_fal_upload_element_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstFalUploadElement *self = GST_FAL_UPLOAD_ELEMENT (object);
  GstFalUploadSettings *s = &self->settings;

  if (gst_fal_dispatcher_get_property (self->dispatcher, prop_id, value, pspec))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SERVER_URL:
      g_value_set_string (value, s->server_url);
      break;
    case PROP_IMAGE_FORMAT:
      g_value_set_enum (value, s->image_format);
      break;
    case PROP_QUALITY:
      g_value_set_uint (value, s->quality);
      break;
    case PROP_MAX_DIMENSION:
      g_value_set_uint (value, s->max_dimension);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, s->tls_ca_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_fal_upload_element_finalize (GObject * object)
{
  GstFalUploadElement *self = GST_FAL_UPLOAD_ELEMENT (object);

  gst_fal_dispatcher_free (self->dispatcher);
  g_clear_pointer (&self->encoder, gst_fal_frame_encoder_free);
  g_clear_object (&self->client);
  g_free (self->settings.server_url);
  gst_fal_element_clear_key (&self->settings.key);
  g_free (self->settings.tls_ca_file);
  G_OBJECT_CLASS (gst_fal_upload_element_parent_class)->finalize (object);
}

static void
gst_fal_upload_element_class_init (GstFalUploadElementClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw_ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_fal_upload_element_set_property;
  gobject_class->get_property = gst_fal_upload_element_get_property;
  gobject_class->finalize = gst_fal_upload_element_finalize;

  g_object_class_install_property (gobject_class, PROP_SERVER_URL,
      g_param_spec_string ("server-url", "Server URL",
          "Base URL of a fal-compatible server (http://host:port); unset: "
          "GST_FAL_URL, else the fal cloud with a key, else a local server "
          "in the process", DEFAULT_SERVER_URL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_KEY,
      g_param_spec_string ("key", "Key",
          "fal API key (\"KEY\" or \"ID:SECRET\"); default from FAL_KEY. "
          "Write-only", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IMAGE_FORMAT,
      g_param_spec_enum ("image-format", "Image format",
          "Encoding of raw video frames before upload (encoded buffers are "
          "uploaded as they are)", GST_FAL_TYPE_IMAGE_FORMAT,
          DEFAULT_IMAGE_FORMAT, rw_ready));
  g_object_class_install_property (gobject_class, PROP_QUALITY,
      g_param_spec_uint ("quality", "Quality",
          "JPEG quality of encoded raw frames, 1-100", 1, 100,
          DEFAULT_QUALITY, rw_ready));
  g_object_class_install_property (gobject_class, PROP_MAX_DIMENSION,
      g_param_spec_uint ("max-dimension", "Maximum dimension",
          "Scale raw frames down so that neither side exceeds this many "
          "pixels before upload (0 = keep the size)", 0, G_MAXUINT,
          DEFAULT_MAX_DIMENSION, rw_ready));
  g_object_class_install_property (gobject_class, PROP_TLS_CA_FILE,
      g_param_spec_string ("tls-ca-file", "TLS CA file",
          "PEM file of the CAs trusted for an https server, instead of the "
          "system's; unset: GST_FAL_CA_FILE", NULL, rw_ready));
  gst_fal_dispatcher_install_properties (gobject_class, PROP_LAST);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "fal upload",
      "Filter/Network", "Uploads buffers to the fal CDN and attaches the URL",
      "gst-fal developers");
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_fal_upload_element_change_state);
  element_class->set_context =
      GST_DEBUG_FUNCPTR (gst_fal_upload_element_set_context);

  GST_DEBUG_CATEGORY_INIT (gst_fal_upload_element_debug, "falupload", 0,
      "fal upload");
}

static void
gst_fal_upload_element_init (GstFalUploadElement * self)
{
  static const GstFalDispatcherFuncs funcs = {
    .work = upload_work,
    .attach = upload_attach,
  };

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  self->dispatcher = gst_fal_dispatcher_new (GST_ELEMENT (self),
      self->sinkpad, self->srcpad, &funcs, self);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->settings.image_format = DEFAULT_IMAGE_FORMAT;
  self->settings.quality = DEFAULT_QUALITY;
  self->settings.max_dimension = DEFAULT_MAX_DIMENSION;
}
