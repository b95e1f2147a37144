/* gst-fal: falfilter, each sampled frame replaced by a model's output image */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalelements.h"
#include "gstfaldispatcher.h"
#include "gstfalrequestsettings.h"
#include <gst/app/app.h>

/**
 * SECTION:element-falfilter
 * @title: falfilter
 *
 * Image-to-image through a model on a fal-compatible server: each sampled
 * frame is sent to `application`, and replaced by the output image of the
 * model (the first image URL in the result, or the one at `result-path`),
 * downloaded without credentials, decoded and converted to the negotiated
 * caps (same format and size as the input). Frames that are not sampled
 * (see `interval`, `max-rate`, `when-full=skip`) pass unchanged. Each
 * replaced frame also carries a #GstFalResultMeta.
 *
 * `endpoint` (`queue`, `run`, `stream`, `realtime`) picks how frames reach
 * the model, as for falinfer; with `realtime` the output image comes back
 * inline on the element's websocket.
 *
 * With `ordering=ordered` frames leave in order with their own output
 * image; with `ordering=live` frames pass at once and the next frame that
 * leaves after an output image arrives is replaced by it.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=10 ! video/x-raw,width=320,height=240 ! \
 *     falfilter application=local/edge-detection ! videoconvert ! autovideosink
 * ]| Shows the edges the local edge-detection model finds in each frame.
 *
 * Since: 0.1
 */

GST_DEBUG_CATEGORY_STATIC (fal_filter_debug);
#define GST_CAT_DEFAULT fal_filter_debug

#define GST_TYPE_FAL_FILTER (gst_fal_filter_get_type ())
G_DECLARE_FINAL_TYPE (GstFalFilter, gst_fal_filter, GST, FAL_FILTER,
    GstElement);

struct _GstFalFilter
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;
  GstFalDispatcher *dispatcher;
  GstFalRequestSettings settings;
  GstFalRequestState state;
  gchar *result_path;           /* under the object lock */
  gchar *active_result_path;    /* snapshot while running */
};

enum
{
  PROP_0,
  PROP_RESULT_PATH,
  PROP_REQUEST_FIRST,
};

#define CONVERT_TIMEOUT (30 * GST_SECOND)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));

G_DEFINE_TYPE (GstFalFilter, gst_fal_filter, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (falfilter, "falfilter", GST_RANK_NONE,
    GST_TYPE_FAL_FILTER, gst_fal_element_init (plugin));

typedef struct
{
  GstFalRequestOutput *output;
  GstBuffer *frame;             /* the output image in the negotiated caps */
} FilterResult;

static void
filter_result_free (FilterResult * result)
{
  gst_fal_request_output_free (result->output);
  gst_clear_buffer (&result->frame);
  g_free (result);
}

/* Decodes @bytes and converts the image to @caps with a small pipeline:
 * appsrc ! decodebin ! videoconvert ! videoscale ! appsink. */
static GstBuffer *
decode_to_caps (GBytes * bytes, const gchar * content_type, GstCaps * caps,
    GError ** error)
{
  GstElement *pipeline, *src, *sink;
  GstCaps *from_caps, *to_caps;
  GstBuffer *frame = NULL;
  GstSample *sample;
  GstBus *bus;
  GstMessage *msg;

  pipeline = gst_parse_launch ("appsrc name=src format=time ! decodebin ! "
      "videoconvert ! videoscale add-borders=false ! "
      "appsink name=sink sync=false", error);
  if (!pipeline)
    return NULL;
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");

  from_caps = gst_caps_from_string (content_type && *content_type ?
      content_type : "image/png");
  if (!from_caps || gst_caps_is_empty (from_caps) ||
      !gst_structure_has_name (gst_caps_get_structure (from_caps, 0),
          content_type)) {
    /* "image/png; charset=..." or garbage: let typefind decide */
    gst_clear_caps (&from_caps);
  }
  if (from_caps)
    g_object_set (src, "caps", from_caps, NULL);
  to_caps = gst_caps_copy (caps);
  gst_structure_remove_field (gst_caps_get_structure (to_caps, 0), "framerate");
  g_object_set (sink, "caps", to_caps, NULL);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_app_src_push_buffer (GST_APP_SRC (src),
      gst_buffer_new_wrapped_bytes (bytes));
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), CONVERT_TIMEOUT);
  if (sample) {
    frame = gst_buffer_ref (gst_sample_get_buffer (sample));
    gst_sample_unref (sample);
  } else {
    GError *err = NULL;
    gchar *debug = NULL;

    bus = gst_element_get_bus (pipeline);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (msg)
      gst_message_parse_error (msg, &err, &debug);
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_ENCODE,
        "Could not decode the output image (%s) to %" GST_PTR_FORMAT ": %s",
        GST_STR_NULL (content_type), to_caps, err ? err->message : "no frame");
    g_clear_error (&err);
    g_free (debug);
    gst_clear_message (&msg);
    gst_object_unref (bus);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  gst_clear_caps (&from_caps);
  gst_caps_unref (to_caps);
  return frame;
}

static void
filter_work (GstFalJob * job, gpointer user_data)
{
  GstFalFilter *self = user_data;
  FilterResult *result;
  GstCaps *caps = gst_caps_ref (gst_sample_get_caps (job->sample));
  g_autofree gchar *url = NULL;
  g_autofree gchar *url_type = NULL;
  g_autofree gchar *content_type = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gint64 begin;

  result = g_new0 (FilterResult, 1);
  result->output = gst_fal_request_state_run (&self->state, job, &job->error);
  if (!result->output)
    goto fail;

  url = gst_fal_result_find_media_url (result->output->result_json,
      self->active_result_path, &url_type);
  if (!url) {
    job->error = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL, 0, NULL,
        NULL, job->request_id, "The result of %s holds no image URL",
        self->state.settings.application);
    goto fail;
  }
  begin = g_get_monotonic_time ();
  if (g_str_has_prefix (url, "data:"))
    bytes = gst_fal_decode_data_uri (url, &content_type, &job->error);
  else {
    g_autoptr (GstFalOptions) options = gst_fal_dispatcher_job_options (job);

    bytes = gst_fal_client_download_full (self->state.client, url, options,
        &content_type, job->cancellable, &job->error);
  }
  if (!bytes)
    goto fail;
  job->timings.download = (g_get_monotonic_time () - begin) * GST_USECOND;
  result->frame = decode_to_caps (bytes,
      content_type ? content_type : url_type, caps, &job->error);
  if (!result->frame)
    goto fail;

  gst_caps_unref (caps);
  job->result = result;
  job->result_free = (GDestroyNotify) filter_result_free;
  return;

fail:
  gst_caps_unref (caps);
  filter_result_free (result);
}

static GstBuffer *
filter_attach (GstBuffer * buffer, GstFalJob * job, gboolean own_frame,
    gpointer user_data)
{
  GstFalFilter *self = user_data;
  FilterResult *result = job->result;
  GstBuffer *out = buffer;
  g_autofree gchar *error = NULL;

  if (!buffer)
    return NULL;
  if (result) {
    /* shares the decoded frame's memory: no copy on the streaming thread */
    out = gst_buffer_copy (result->frame);
    gst_buffer_copy_into (out, buffer, GST_BUFFER_COPY_FLAGS |
        GST_BUFFER_COPY_TIMESTAMPS | GST_BUFFER_COPY_META, 0, -1);
    gst_buffer_unref (buffer);
  }
  if (job->error)
    error = gst_fal_error_get_summary (job->error);
  gst_buffer_add_fal_result_meta (out, job->request_id,
      self->state.settings.application,
      result ? result->output->result_json : NULL, error,
      job->error ? gst_fal_error_get_error_type (job->error) : NULL,
      job->error ? gst_fal_error_get_http_status (job->error) : 0,
      job->pts, &job->timings);
  return out;
}

static GstStateChangeReturn
gst_fal_filter_change_state (GstElement * element, GstStateChange transition)
{
  GstFalFilter *self = GST_FAL_FILTER (element);
  GstStateChangeReturn ret;

  ret = gst_fal_request_element_change_state (element,
      GST_ELEMENT_CLASS (gst_fal_filter_parent_class), transition,
      &self->state, &self->settings, self->dispatcher);

  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      && ret != GST_STATE_CHANGE_FAILURE) {
    GST_OBJECT_LOCK (self);
    g_free (self->active_result_path);
    self->active_result_path = g_strdup (self->result_path);
    GST_OBJECT_UNLOCK (self);
  }
  return ret;
}

static void
gst_fal_filter_set_context (GstElement * element, GstContext * context)
{
  gst_fal_element_handle_set_context (element, context);
  GST_ELEMENT_CLASS (gst_fal_filter_parent_class)->set_context (element,
      context);
}

static void
gst_fal_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalFilter *self = GST_FAL_FILTER (object);

  if (prop_id == PROP_RESULT_PATH) {
    GST_OBJECT_LOCK (self);
    g_free (self->result_path);
    self->result_path = g_value_dup_string (value);
    GST_OBJECT_UNLOCK (self);
    return;
  }
  if (!gst_fal_request_element_set_property (GST_ELEMENT (self),
          &self->settings, self->dispatcher, PROP_REQUEST_FIRST, prop_id,
          value, pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_fal_filter_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalFilter *self = GST_FAL_FILTER (object);

  if (prop_id == PROP_RESULT_PATH) {
    GST_OBJECT_LOCK (self);
    g_value_set_string (value, self->result_path);
    GST_OBJECT_UNLOCK (self);
    return;
  }
  if (!gst_fal_request_element_get_property (GST_ELEMENT (self),
          &self->settings, self->dispatcher, PROP_REQUEST_FIRST, prop_id,
          value, pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_fal_filter_finalize (GObject * object)
{
  GstFalFilter *self = GST_FAL_FILTER (object);

  gst_fal_request_element_finalize (&self->state, &self->settings,
      self->dispatcher);
  g_free (self->result_path);
  g_free (self->active_result_path);
  G_OBJECT_CLASS (gst_fal_filter_parent_class)->finalize (object);
}

static void
gst_fal_filter_class_init (GstFalFilterClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  guint next;

  GST_DEBUG_CATEGORY_INIT (fal_filter_debug, "falfilter", 0,
      "fal image-to-image on video frames");

  gobject_class->set_property = gst_fal_filter_set_property;
  gobject_class->get_property = gst_fal_filter_get_property;
  gobject_class->finalize = gst_fal_filter_finalize;

  g_object_class_install_property (gobject_class, PROP_RESULT_PATH,
      g_param_spec_string ("result-path", "Result path",
          "Dotted path of the output image URL in the result "
          "(\"images.0.url\"); unset = the first image URL found", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  next = gst_fal_request_settings_install_properties (gobject_class,
      PROP_REQUEST_FIRST);
  gst_fal_dispatcher_install_properties (gobject_class, next);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "fal filter",
      "Filter/Effect/Video", "Replaces sampled frames by the output image of "
      "a model called through the fal protocol", "gst-fal developers");

  element_class->change_state = gst_fal_filter_change_state;
  element_class->set_context = gst_fal_filter_set_context;
}

static void
gst_fal_filter_init (GstFalFilter * self)
{
  static const GstFalDispatcherFuncs funcs = {
    .work = filter_work,
    .attach = filter_attach,
  };

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  gst_fal_request_settings_init (&self->settings);
  self->dispatcher = gst_fal_dispatcher_new (GST_ELEMENT (self),
      self->sinkpad, self->srcpad, &funcs, self);
}
