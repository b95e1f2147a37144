/* gst-fal: falinfer, frames in, the same frames out with model results */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalelements.h"
#include "gstfaldispatcher.h"
#include "gstfalrequestsettings.h"
#include <gst/fal/gstfaljson-private.h>

/**
 * SECTION:element-falinfer
 * @title: falinfer
 *
 * Sends sampled video frames (or images) to a model on a fal-compatible
 * server and attaches each result to its frame as a #GstFalResultMeta, with
 * the boxes it contains (barcodes, faces, detections) also as
 * #GstVideoRegionOfInterestMeta. Each result is also pushed on the `result`
 * pad as one `application/json` buffer (an object with `request_id`,
 * `application`, `pts`, and `result` or `error`), timestamped with the frame
 * it was computed from; written by filesink this is a JSON Lines file.
 *
 * Frames are encoded (JPEG or PNG, scaled down to `max-dimension`) and sent
 * inline as data URIs when small, or uploaded to the CDN. `arguments` is a
 * JSON template in which `"{{frame}}"` becomes the frame's URL.
 *
 * With `ordering=ordered` (the default) frames wait in an in-order window of
 * up to `max-in-flight` requests and leave with their own results. With
 * `ordering=live` frames pass at once and each result rides on the next
 * frame that leaves, carrying the PTS of its source frame in the meta.
 *
 * `endpoint` picks how frames reach the model: through the queue (the
 * default; submit, follow, fetch), one `POST /run` each, `/stream`, whose
 * every event also leaves on the `result` pad as it arrives, with
 * `"partial": true` and the PTS of its frame, or `realtime`: one websocket
 * carrying every frame as bytes, results matched by order, latest-wins.
 *
 * Applications whose id starts with `local/` run on a local server started
 * in the process when neither `server-url` nor `GST_FAL_URL` is set.
 *
 * Every request posts element messages named `fal-request` with a `state`
 * field: `queued` (with `position`), `in-progress` (with new `logs`),
 * `completed` (with `upload-time`, `queue-time`, `run-time`,
 * `download-time` in ns) or `failed` (with `http-status`, `error-type`,
 * `detail`), and always `request-id`, `index` and `pts`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! qroverlay data=hello ! \
 *     falinfer application=local/barcode ! fakesink
 * ]| Reads the QR code drawn on each frame with the local barcode model.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! falinfer name=f \
 *     application=local/face-detection interval=10 ordering=live ! \
 *     faloverlay ! autovideosink f.result ! filesink location=results.jsonl
 * ]| Detects faces in one frame in ten without holding the video back, and
 * writes the results as JSON Lines.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=3 ! falinfer name=f endpoint=stream \
 *     application=local/counter arguments='{"count": 2}' ! fakesink \
 *     f.result ! filesink location=partials.jsonl
 * ]| Writes each partial result of the stream, then each frame's result.
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! qroverlay data=hello ! \
 *     falinfer endpoint=realtime application=local/barcode ordering=live ! \
 *     faloverlay ! videoconvert ! autovideosink
 * ]| Reads the QR code of a live source through one websocket.
 *
 * Since: 0.1
 */

GST_DEBUG_CATEGORY_STATIC (fal_infer_debug);
#define GST_CAT_DEFAULT fal_infer_debug

#define GST_TYPE_FAL_INFER (gst_fal_infer_get_type ())
G_DECLARE_FINAL_TYPE (GstFalInfer, gst_fal_infer, GST, FAL_INFER, GstElement);

struct _GstFalInfer
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;
  GstPad *resultpad;
  GstFalDispatcher *dispatcher;
  GstFalRequestSettings settings;
  GstFalRequestState state;

  /* The result pad has its own task and queue (JSON buffers, gaps for
   * frames without result, events), so that a sink prerolling on it never
   * blocks the frames, and the other way round. */
  GMutex result_lock;
  GCond result_cond;
  GQueue result_queue;          /* GstMiniObject: buffers and events */
  gboolean result_flushing;
  /* endpoint=stream: partial results that came before the result pad's
   * segment wait here for it */
  gboolean result_segment_queued;
  GQueue early_partials;
  gboolean attached;            /* push side: the leaving frame got a result */
};

enum
{
  PROP_0,
  PROP_REQUEST_FIRST,
};

#define INFER_CAPS "video/x-raw; image/jpeg; image/png"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (INFER_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (INFER_CAPS));
static GstStaticPadTemplate result_template =
GST_STATIC_PAD_TEMPLATE ("result", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("application/json"));

G_DEFINE_TYPE (GstFalInfer, gst_fal_infer, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (falinfer, "falinfer", GST_RANK_NONE,
    GST_TYPE_FAL_INFER, gst_fal_element_init (plugin));

static void
infer_work (GstFalJob * job, gpointer user_data)
{
  GstFalInfer *self = user_data;
  GstFalRequestOutput *output;

  output = gst_fal_request_state_run (&self->state, job, &job->error);
  if (output) {
    job->result = output;
    job->result_free = (GDestroyNotify) gst_fal_request_output_free;
  }
}

static const gchar *
job_error_type (GstFalJob * job)
{
  const gchar *type = gst_fal_error_get_error_type (job->error);

  if (type)
    return type;
  if (g_error_matches (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (job->error, GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED))
    return "cancelled";
  if (g_error_matches (job->error, GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT))
    return "timeout";
  return NULL;
}

static void
queue_result (GstFalInfer * self, GstMiniObject * object)
{
  g_mutex_lock (&self->result_lock);
  if (self->result_flushing) {
    g_mutex_unlock (&self->result_lock);
    gst_mini_object_unref (object);
    return;
  }
  g_queue_push_tail (&self->result_queue, object);
  g_cond_signal (&self->result_cond);
  g_mutex_unlock (&self->result_lock);
}

/* A partial result leaves at once, unless the segment it belongs to is not
 * on the result pad yet (ordered mode: the src task pushes the events).
 * A flush cancels the job before it clears the queue under this lock: a
 * partial of before a flush never leaves after it. */
static void
queue_partial (GstFalInfer * self, GstFalJob * job, GstBuffer * buffer)
{
  g_mutex_lock (&self->result_lock);
  if (self->result_flushing || g_cancellable_is_cancelled (job->cancellable)) {
    g_mutex_unlock (&self->result_lock);
    gst_buffer_unref (buffer);
    return;
  }
  if (self->result_segment_queued)
    g_queue_push_tail (&self->result_queue, buffer);
  else
    g_queue_push_tail (&self->early_partials, buffer);
  g_cond_signal (&self->result_cond);
  g_mutex_unlock (&self->result_lock);
}

/* The segment goes to the result pad, then the partials that waited. */
static void
queue_result_segment (GstFalInfer * self, GstEvent * segment)
{
  GstMiniObject *partial;

  g_mutex_lock (&self->result_lock);
  if (self->result_flushing) {
    g_mutex_unlock (&self->result_lock);
    gst_event_unref (segment);
    return;
  }
  g_queue_push_tail (&self->result_queue, segment);
  self->result_segment_queued = TRUE;
  while ((partial = g_queue_pop_head (&self->early_partials)))
    g_queue_push_tail (&self->result_queue, partial);
  g_cond_signal (&self->result_cond);
  g_mutex_unlock (&self->result_lock);
}

static void
result_loop (gpointer user_data)
{
  GstFalInfer *self = user_data;
  GstMiniObject *object;

  g_mutex_lock (&self->result_lock);
  while (!self->result_flushing && g_queue_is_empty (&self->result_queue))
    g_cond_wait (&self->result_cond, &self->result_lock);
  if (self->result_flushing) {
    g_mutex_unlock (&self->result_lock);
    gst_pad_pause_task (self->resultpad);
    return;
  }
  object = g_queue_pop_head (&self->result_queue);
  g_mutex_unlock (&self->result_lock);

  /* unlinked is fine: the result pad is optional */
  if (GST_IS_BUFFER (object))
    gst_pad_push (self->resultpad, GST_BUFFER (object));
  else
    gst_pad_push_event (self->resultpad, GST_EVENT (object));
}

static void
set_result_flushing (GstFalInfer * self, gboolean flushing)
{
  g_mutex_lock (&self->result_lock);
  self->result_flushing = flushing;
  if (flushing) {
    g_queue_clear_full (&self->result_queue,
        (GDestroyNotify) gst_mini_object_unref);
    g_queue_clear_full (&self->early_partials,
        (GDestroyNotify) gst_mini_object_unref);
    self->result_segment_queued = FALSE;
  }
  g_cond_signal (&self->result_cond);
  g_mutex_unlock (&self->result_lock);
}

static gboolean
result_activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  GstFalInfer *self = GST_FAL_INFER (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    set_result_flushing (self, FALSE);
    return gst_pad_start_task (pad, result_loop, self, NULL);
  }
  set_result_flushing (self, TRUE);
  return gst_pad_stop_task (pad);
}

/* One line of the result pad: the job's result (or @partial, an event of
 * its stream) or its error, with the PTS and duration of its frame. */
static GstBuffer *
result_line_new (GstFalInfer * self, GstFalJob * job, JsonNode * partial)
{
  GstFalRequestOutput *output = job->result;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  gchar *text;
  GstBuffer *buffer;
  gsize len;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  if (job->request_id)
    json_builder_add_string_value (builder, job->request_id);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "application");
  json_builder_add_string_value (builder, self->state.settings.application);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, job->index);
  json_builder_set_member_name (builder, "pts");
  if (GST_CLOCK_TIME_IS_VALID (job->pts))
    json_builder_add_int_value (builder, job->pts);
  else
    json_builder_add_null_value (builder);
  if (partial) {
    json_builder_set_member_name (builder, "partial");
    json_builder_add_boolean_value (builder, TRUE);
    json_builder_set_member_name (builder, "result");
    json_builder_add_value (builder, json_node_copy (partial));
  } else if (output) {
    JsonNode *result = gst_fal_json_from_string (output->result_json, -1,
        NULL);
    json_builder_set_member_name (builder, "result");
    if (result)
      json_builder_add_value (builder, result);
    else
      json_builder_add_null_value (builder);
  } else {
    const gchar *type = job_error_type (job);
    g_autofree gchar *summary = gst_fal_error_get_summary (job->error);
    json_builder_set_member_name (builder, "error");
    json_builder_add_string_value (builder, summary);
    json_builder_set_member_name (builder, "error_type");
    if (type)
      json_builder_add_string_value (builder, type);
    else
      json_builder_add_null_value (builder);
    json_builder_set_member_name (builder, "http_status");
    json_builder_add_int_value (builder,
        gst_fal_error_get_http_status (job->error));
  }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = gst_fal_json_to_string (root, FALSE);
  len = strlen (text);
  text[len] = '\n';             /* replaces the NUL: one JSON line */
  buffer = gst_buffer_new_wrapped (text, len + 1);
  GST_BUFFER_PTS (buffer) = job->pts;
  GST_BUFFER_DURATION (buffer) = job->duration;
  return buffer;
}

static void
push_result_json (GstFalInfer * self, GstFalJob * job)
{
  queue_result (self, GST_MINI_OBJECT (result_line_new (self, job, NULL)));
}

/* endpoint=stream, worker thread: each event leaves as it arrives. */
static void
infer_partial (GstFalJob * job, JsonNode * event, gpointer user_data)
{
  GstFalInfer *self = user_data;

  queue_partial (self, job, result_line_new (self, job, event));
}

static GstBuffer *
infer_attach (GstBuffer * buffer, GstFalJob * job, gboolean own_frame,
    gpointer user_data)
{
  GstFalInfer *self = user_data;
  GstFalRequestOutput *output = job->result;

  if (buffer) {
    g_autofree gchar *error = job->error ?
        gst_fal_error_get_summary (job->error) : NULL;

    gst_buffer_add_fal_result_meta (buffer, job->request_id,
        self->state.settings.application,
        output ? output->result_json : NULL, error,
        job->error ? job_error_type (job) : NULL,
        job->error ? gst_fal_error_get_http_status (job->error) : 0,
        job->pts, &job->timings);
    if (output) {
      GPtrArray *regions = gst_fal_result_find_regions (output->result_json,
          output->scale_x, output->scale_y);
      if (regions) {
        gst_fal_buffer_add_regions (buffer, regions);
        g_ptr_array_unref (regions);
      }
    }
  }
  push_result_json (self, job);
  self->attached = TRUE;
  return buffer;
}

/* A frame leaving without result is a gap on the result pad, so that a
 * sink there prerolls and keeps time. */
static void
infer_before_push (GstBuffer * buffer, gpointer user_data)
{
  GstFalInfer *self = user_data;

  if (!self->attached && GST_BUFFER_PTS_IS_VALID (buffer))
    queue_result (self, GST_MINI_OBJECT (gst_event_new_gap (GST_BUFFER_PTS
                (buffer), GST_BUFFER_DURATION (buffer))));
  self->attached = FALSE;
}

/* Mirrors the stream events of the main src pad on the result pad. */
static void
infer_src_event (GstEvent * event, gpointer user_data)
{
  GstFalInfer *self = user_data;
  GstEvent *mirror = NULL;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:{
      gchar *id = gst_pad_create_stream_id (self->resultpad,
          GST_ELEMENT (self), "result");
      guint group;
      mirror = gst_event_new_stream_start (id);
      if (gst_event_parse_group_id (event, &group))
        gst_event_set_group_id (mirror, group);
      g_free (id);
      break;
    }
    case GST_EVENT_CAPS:{
      GstCaps *caps = gst_caps_new_empty_simple ("application/json");
      mirror = gst_event_new_caps (caps);
      gst_caps_unref (caps);
      break;
    }
    case GST_EVENT_FLUSH_START:
      set_result_flushing (self, TRUE);
      gst_pad_push_event (self->resultpad, gst_event_ref (event));
      gst_pad_pause_task (self->resultpad);
      return;
    case GST_EVENT_FLUSH_STOP:
      gst_pad_push_event (self->resultpad, gst_event_ref (event));
      set_result_flushing (self, FALSE);
      if (gst_pad_is_active (self->resultpad))
        gst_pad_start_task (self->resultpad, result_loop, self, NULL);
      return;
    case GST_EVENT_SEGMENT:
      queue_result_segment (self, gst_event_ref (event));
      return;
    case GST_EVENT_EOS:
    case GST_EVENT_GAP:
      mirror = gst_event_ref (event);
      break;
    default:
      break;
  }
  if (mirror)
    queue_result (self, GST_MINI_OBJECT (mirror));
}

static GstStateChangeReturn
gst_fal_infer_change_state (GstElement * element, GstStateChange transition)
{
  GstFalInfer *self = GST_FAL_INFER (element);

  return gst_fal_request_element_change_state (element,
      GST_ELEMENT_CLASS (gst_fal_infer_parent_class), transition,
      &self->state, &self->settings, self->dispatcher);
}

static void
gst_fal_infer_set_context (GstElement * element, GstContext * context)
{
  gst_fal_element_handle_set_context (element, context);
  GST_ELEMENT_CLASS (gst_fal_infer_parent_class)->set_context (element,
      context);
}

static void
gst_fal_infer_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalInfer *self = GST_FAL_INFER (object);

  if (!gst_fal_request_element_set_property (GST_ELEMENT (self),
          &self->settings, self->dispatcher, PROP_REQUEST_FIRST, prop_id,
          value, pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_fal_infer_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalInfer *self = GST_FAL_INFER (object);

  if (!gst_fal_request_element_get_property (GST_ELEMENT (self),
          &self->settings, self->dispatcher, PROP_REQUEST_FIRST, prop_id,
          value, pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_fal_infer_finalize (GObject * object)
{
  GstFalInfer *self = GST_FAL_INFER (object);

  gst_fal_request_element_finalize (&self->state, &self->settings,
      self->dispatcher);
  g_queue_clear_full (&self->result_queue,
      (GDestroyNotify) gst_mini_object_unref);
  g_queue_clear_full (&self->early_partials,
      (GDestroyNotify) gst_mini_object_unref);
  g_mutex_clear (&self->result_lock);
  g_cond_clear (&self->result_cond);
  G_OBJECT_CLASS (gst_fal_infer_parent_class)->finalize (object);
}

static void
gst_fal_infer_class_init (GstFalInferClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  guint next;

  GST_DEBUG_CATEGORY_INIT (fal_infer_debug, "falinfer", 0,
      "fal inference on video frames");

  gobject_class->set_property = gst_fal_infer_set_property;
  gobject_class->get_property = gst_fal_infer_get_property;
  gobject_class->finalize = gst_fal_infer_finalize;

  next = gst_fal_request_settings_install_properties (gobject_class,
      PROP_REQUEST_FIRST);
  gst_fal_dispatcher_install_properties (gobject_class, next);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &result_template);
  gst_element_class_set_static_metadata (element_class, "fal inference",
      "Filter/Analyzer/Video", "Runs a model on sampled frames through the "
      "fal protocol and attaches the results to the frames",
      "gst-fal developers");

  element_class->change_state = gst_fal_infer_change_state;
  element_class->set_context = gst_fal_infer_set_context;
}

static void
gst_fal_infer_init (GstFalInfer * self)
{
  static const GstFalDispatcherFuncs funcs = {
    .work = infer_work,
    .attach = infer_attach,
    .src_event = infer_src_event,
    .before_push = infer_before_push,
  };

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->resultpad = gst_pad_new_from_static_template (&result_template,
      "result");
  gst_pad_use_fixed_caps (self->resultpad);
  gst_pad_set_activatemode_function (self->resultpad, result_activate_mode);
  gst_element_add_pad (GST_ELEMENT (self), self->resultpad);

  g_mutex_init (&self->result_lock);
  g_cond_init (&self->result_cond);
  g_queue_init (&self->result_queue);
  g_queue_init (&self->early_partials);
  self->result_flushing = TRUE;

  gst_fal_request_settings_init (&self->settings);
  self->state.on_partial = infer_partial;
  self->state.partial_data = self;
  self->dispatcher = gst_fal_dispatcher_new (GST_ELEMENT (self),
      self->sinkpad, self->srcpad, &funcs, self);
}
