/* gst-fal: the request properties shared by falinfer and falfilter */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalrequestsettings.h"
#include "gstfalelements.h"
#include <gst/fal/gstfaljson-private.h>

#define DEFAULT_PRIORITY GST_FAL_PRIORITY_NORMAL
#define DEFAULT_START_TIMEOUT 0.0
#define DEFAULT_STATUS_MODE GST_FAL_STATUS_MODE_STREAM
#define DEFAULT_POLL_INTERVAL 0.1
#define DEFAULT_UPLOAD GST_FAL_UPLOAD_MODE_AUTO
#define DEFAULT_IMAGE_FORMAT GST_FAL_IMAGE_FORMAT_JPEG
#define DEFAULT_QUALITY 85
#define DEFAULT_MAX_DIMENSION 1024
#define DEFAULT_ENDPOINT GST_FAL_ENDPOINT_KIND_QUEUE

enum
{
  PROP_APPLICATION,
  PROP_ARGUMENTS,
  PROP_SERVER_URL,
  PROP_KEY,
  PROP_PRIORITY,
  PROP_HINT,
  PROP_WEBHOOK_URL,
  PROP_START_TIMEOUT,
  PROP_STATUS,
  PROP_POLL_INTERVAL,
  PROP_UPLOAD,
  PROP_IMAGE_FORMAT,
  PROP_QUALITY,
  PROP_MAX_DIMENSION,
  PROP_TLS_CA_FILE,
  PROP_ENDPOINT,
  N_REQUEST_PROPERTIES
};

G_DEFINE_ENUM_TYPE (GstFalUploadMode, gst_fal_upload_mode,
    G_DEFINE_ENUM_VALUE (GST_FAL_UPLOAD_MODE_AUTO, "auto"),
    G_DEFINE_ENUM_VALUE (GST_FAL_UPLOAD_MODE_CDN, "cdn"),
    G_DEFINE_ENUM_VALUE (GST_FAL_UPLOAD_MODE_DATA_URI, "data-uri"));
G_DEFINE_ENUM_TYPE (GstFalEndpointKind, gst_fal_endpoint_kind,
    G_DEFINE_ENUM_VALUE (GST_FAL_ENDPOINT_KIND_QUEUE, "queue"),
    G_DEFINE_ENUM_VALUE (GST_FAL_ENDPOINT_KIND_RUN, "run"),
    G_DEFINE_ENUM_VALUE (GST_FAL_ENDPOINT_KIND_STREAM, "stream"),
    G_DEFINE_ENUM_VALUE (GST_FAL_ENDPOINT_KIND_REALTIME, "realtime"));

void
gst_fal_request_output_free (GstFalRequestOutput * output)
{
  if (!output)
    return;
  g_free (output->result_json);
  g_free (output);
}

void
gst_fal_request_settings_init (GstFalRequestSettings * s)
{
  memset (s, 0, sizeof (*s));
  s->priority = DEFAULT_PRIORITY;
  s->start_timeout = DEFAULT_START_TIMEOUT;
  s->status_mode = DEFAULT_STATUS_MODE;
  s->poll_interval = DEFAULT_POLL_INTERVAL;
  s->upload = DEFAULT_UPLOAD;
  s->image_format = DEFAULT_IMAGE_FORMAT;
  s->quality = DEFAULT_QUALITY;
  s->max_dimension = DEFAULT_MAX_DIMENSION;
  s->endpoint = DEFAULT_ENDPOINT;
}

void
gst_fal_request_settings_clear (GstFalRequestSettings * s)
{
  g_clear_pointer (&s->application, g_free);
  g_clear_pointer (&s->arguments, g_free);
  g_clear_pointer (&s->server_url, g_free);
  gst_fal_element_clear_key (&s->key);
  g_clear_pointer (&s->tls_ca_file, g_free);
  g_clear_pointer (&s->hint, g_free);
  g_clear_pointer (&s->webhook_url, g_free);
}

static void
settings_copy (GstFalRequestSettings * dest, const GstFalRequestSettings * src)
{
  *dest = *src;
  dest->application = g_strdup (src->application);
  dest->arguments = g_strdup (src->arguments);
  dest->server_url = g_strdup (src->server_url);
  dest->key = g_strdup (src->key);
  dest->tls_ca_file = g_strdup (src->tls_ca_file);
  dest->hint = g_strdup (src->hint);
  dest->webhook_url = g_strdup (src->webhook_url);
}

guint
gst_fal_request_settings_install_properties (GObjectClass * klass, guint first)
{
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gst_type_mark_as_plugin_api (GST_FAL_TYPE_UPLOAD_MODE, 0);
  gst_type_mark_as_plugin_api (GST_FAL_TYPE_IMAGE_FORMAT, 0);
  gst_type_mark_as_plugin_api (GST_FAL_TYPE_PRIORITY, 0);
  gst_type_mark_as_plugin_api (GST_FAL_TYPE_STATUS_MODE, 0);
  gst_type_mark_as_plugin_api (GST_FAL_TYPE_ENDPOINT_KIND, 0);

  g_object_class_install_property (klass, first + PROP_APPLICATION,
      g_param_spec_string ("application", "Application",
          "Endpoint id of the model (owner/alias[/path]); `local/…` runs on "
          "the embedded local server when no server is configured", NULL, rw));
  g_object_class_install_property (klass, first + PROP_ARGUMENTS,
      g_param_spec_string ("arguments", "Arguments",
          "JSON object template of the request arguments; the string "
          "\"{{frame}}\" becomes the frame's URL, \"{{pts}}\" its PTS (ns), "
          "\"{{index}}\" its number; unset = {\"image_url\": \"{{frame}}\"}. "
          "On a gst-launch-1.0 line, a value with spaces inside its strings "
          "goes in double quotes with its own quotes escaped: "
          "arguments='\"{\\\"prompt\\\": \\\"a red cat\\\"}\"'",
          NULL, rw));
  g_object_class_install_property (klass, first + PROP_SERVER_URL,
      g_param_spec_string ("server-url", "Server URL",
          "Base URL of a fal-compatible server (http://host:port); unset = "
          "GST_FAL_URL, else the fal cloud", NULL, rw));
  g_object_class_install_property (klass, first + PROP_KEY,
      g_param_spec_string ("key", "Key",
          "API key (KEY or ID:SECRET), write-only; unset = FAL_KEY from the "
          "environment", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first + PROP_PRIORITY,
      g_param_spec_enum ("priority", "Priority",
          "Queue priority of the requests", GST_FAL_TYPE_PRIORITY,
          DEFAULT_PRIORITY, rw));
  g_object_class_install_property (klass, first + PROP_HINT,
      g_param_spec_string ("hint", "Runner hint",
          "Runner hint sent with each request (X-Fal-Runner-Hint)", NULL, rw));
  g_object_class_install_property (klass, first + PROP_WEBHOOK_URL,
      g_param_spec_string ("webhook-url", "Webhook URL",
          "URL the server calls when each request completes", NULL, rw));
  g_object_class_install_property (klass, first + PROP_START_TIMEOUT,
      g_param_spec_double ("start-timeout", "Start timeout",
          "Seconds a request may wait in the queue before it must start "
          "(X-Fal-Request-Timeout); 0 = no limit", 0, G_MAXDOUBLE,
          DEFAULT_START_TIMEOUT, rw));
  g_object_class_install_property (klass, first + PROP_STATUS,
      g_param_spec_enum ("status", "Status mode",
          "How requests are followed: stream (server-sent events) or poll",
          GST_FAL_TYPE_STATUS_MODE, DEFAULT_STATUS_MODE, rw));
  g_object_class_install_property (klass, first + PROP_POLL_INTERVAL,
      g_param_spec_double ("poll-interval", "Poll interval",
          "Seconds between status polls with status=poll", 0.001,
          G_MAXDOUBLE, DEFAULT_POLL_INTERVAL, rw));
  g_object_class_install_property (klass, first + PROP_UPLOAD,
      g_param_spec_enum ("upload", "Upload",
          "How frames reach the model: auto (data URI below 256 KiB, else "
          "CDN), cdn or data-uri", GST_FAL_TYPE_UPLOAD_MODE, DEFAULT_UPLOAD,
          rw));
  g_object_class_install_property (klass, first + PROP_IMAGE_FORMAT,
      g_param_spec_enum ("image-format", "Image format",
          "Encoding of raw frames sent to the model",
          GST_FAL_TYPE_IMAGE_FORMAT, DEFAULT_IMAGE_FORMAT, rw));
  g_object_class_install_property (klass, first + PROP_QUALITY,
      g_param_spec_uint ("quality", "Quality",
          "JPEG quality of the frames sent (0-100)", 0, 100, DEFAULT_QUALITY,
          rw));
  g_object_class_install_property (klass, first + PROP_MAX_DIMENSION,
      g_param_spec_uint ("max-dimension", "Maximum dimension",
          "Frames are scaled down so neither side exceeds this (pixels); "
          "0 = no scaling", 0, 65535, DEFAULT_MAX_DIMENSION, rw));
  g_object_class_install_property (klass, first + PROP_TLS_CA_FILE,
      g_param_spec_string ("tls-ca-file", "TLS CA file",
          "PEM file of the CAs trusted for an https server, instead of the "
          "system's; unset = GST_FAL_CA_FILE", NULL, rw));
  g_object_class_install_property (klass, first + PROP_ENDPOINT,
      g_param_spec_enum ("endpoint", "Endpoint",
          "How each sampled frame reaches the application: queue (submit, "
          "follow the status, fetch the result; priority, webhook-url, "
          "start-timeout, status and poll-interval apply to it only), run "
          "(one POST /run per frame), stream (POST /stream; every event "
          "leaves on the result pad as a partial result) or realtime (one "
          "websocket carrying every frame, the frame as bytes; when "
          "max-in-flight frames wait for results the newest frame replaces "
          "the waiting one)", GST_FAL_TYPE_ENDPOINT_KIND, DEFAULT_ENDPOINT,
          rw));
  return first + N_REQUEST_PROPERTIES;
}

gboolean
gst_fal_request_settings_set_property (GstElement * element,
    GstFalRequestSettings * s, guint first, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  if (prop_id < first || prop_id >= first + N_REQUEST_PROPERTIES)
    return FALSE;

  GST_OBJECT_LOCK (element);
  if (GST_STATE (element) > GST_STATE_READY ||
      (GST_STATE (element) == GST_STATE_READY &&
          GST_STATE_NEXT (element) != GST_STATE_VOID_PENDING &&
          GST_STATE_NEXT (element) > GST_STATE_READY)) {
    GST_OBJECT_UNLOCK (element);
    GST_WARNING_OBJECT (element, "%s can only be set in NULL or READY",
        pspec->name);
    return TRUE;
  }
  switch (prop_id - first) {
    case PROP_APPLICATION:
      g_free (s->application);
      s->application = g_value_dup_string (value);
      break;
    case PROP_ARGUMENTS:
      g_free (s->arguments);
      s->arguments = g_value_dup_string (value);
      break;
    case PROP_SERVER_URL:
      g_free (s->server_url);
      s->server_url = g_value_dup_string (value);
      break;
    case PROP_KEY:
      gst_fal_element_clear_key (&s->key);
      s->key = g_value_dup_string (value);
      break;
    case PROP_PRIORITY:
      s->priority = g_value_get_enum (value);
      break;
    case PROP_HINT:
      g_free (s->hint);
      s->hint = g_value_dup_string (value);
      break;
    case PROP_WEBHOOK_URL:
      g_free (s->webhook_url);
      s->webhook_url = g_value_dup_string (value);
      break;
    case PROP_START_TIMEOUT:
      s->start_timeout = g_value_get_double (value);
      break;
    case PROP_STATUS:
      s->status_mode = g_value_get_enum (value);
      break;
    case PROP_POLL_INTERVAL:
      s->poll_interval = g_value_get_double (value);
      break;
    case PROP_UPLOAD:
      s->upload = g_value_get_enum (value);
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
    case PROP_ENDPOINT:
      s->endpoint = g_value_get_enum (value);
      break;
    default:
      break;
  }
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

gboolean
gst_fal_request_settings_get_property (GstElement * element,
    GstFalRequestSettings * s, guint first, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  if (prop_id < first || prop_id >= first + N_REQUEST_PROPERTIES)
    return FALSE;

  GST_OBJECT_LOCK (element);
  switch (prop_id - first) {
    case PROP_APPLICATION:
      g_value_set_string (value, s->application);
      break;
    case PROP_ARGUMENTS:
      g_value_set_string (value, s->arguments);
      break;
    case PROP_SERVER_URL:
      g_value_set_string (value, s->server_url);
      break;
    case PROP_PRIORITY:
      g_value_set_enum (value, s->priority);
      break;
    case PROP_HINT:
      g_value_set_string (value, s->hint);
      break;
    case PROP_WEBHOOK_URL:
      g_value_set_string (value, s->webhook_url);
      break;
    case PROP_START_TIMEOUT:
      g_value_set_double (value, s->start_timeout);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, s->status_mode);
      break;
    case PROP_POLL_INTERVAL:
      g_value_set_double (value, s->poll_interval);
      break;
    case PROP_UPLOAD:
      g_value_set_enum (value, s->upload);
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
    case PROP_ENDPOINT:
      g_value_set_enum (value, s->endpoint);
      break;
    default:                   /* the key is never readable */
      break;
  }
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

gboolean
gst_fal_request_state_start (GstFalRequestState * state,
    GstElement * element, GstFalRequestSettings * settings)
{
  GstFalRequestSettings *s = &state->settings;
  GError *error = NULL;

  GST_OBJECT_LOCK (element);
  settings_copy (s, settings);
  GST_OBJECT_UNLOCK (element);

  if (!s->application || !*s->application) {
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        ("No application set"), ("Set the application property"));
    goto fail;
  }
  state->tmpl = gst_fal_arguments_template_new (s->arguments, &error);
  if (!state->tmpl)
    goto fail_error;
  state->client = gst_fal_element_acquire_client (element, s->server_url,
      s->key, s->tls_ca_file, s->application, &error);
  if (!state->client)
    goto fail_error;
  state->encoder = gst_fal_frame_encoder_new (s->image_format, s->quality,
      s->max_dimension);
  state->options = gst_fal_options_new ();
  gst_fal_options_set_priority (state->options, s->priority);
  if (s->hint && *s->hint)
    gst_fal_options_set_hint (state->options, s->hint);
  if (s->webhook_url && *s->webhook_url)
    gst_fal_options_set_webhook_url (state->options, s->webhook_url);
  if (s->start_timeout > 0)
    gst_fal_options_set_start_timeout (state->options, s->start_timeout);
  gst_fal_options_set_status_mode (state->options, s->status_mode);
  gst_fal_options_set_with_logs (state->options, TRUE);
  if (s->status_mode == GST_FAL_STATUS_MODE_POLL)
    g_object_set (state->client, "poll-interval", s->poll_interval, NULL);
  if (s->endpoint == GST_FAL_ENDPOINT_KIND_REALTIME)
    state->realtime = gst_fal_realtime_session_new (state->client,
        s->application);
  return TRUE;

fail_error:
  gst_fal_element_post_error (element, error, FALSE);
  g_clear_error (&error);
fail:
  gst_fal_request_state_stop (state);
  return FALSE;
}

void
gst_fal_request_state_stop (GstFalRequestState * state)
{
  gst_fal_request_settings_clear (&state->settings);
  g_clear_pointer (&state->realtime, gst_fal_realtime_session_free);
  g_clear_object (&state->client);
  g_clear_pointer (&state->tmpl, gst_fal_arguments_template_free);
  g_clear_pointer (&state->encoder, gst_fal_frame_encoder_free);
  g_clear_pointer (&state->options, gst_fal_options_unref);
}

GstStateChangeReturn
gst_fal_request_element_change_state (GstElement * element,
    GstElementClass * parent_class, GstStateChange transition,
    GstFalRequestState * state, GstFalRequestSettings * settings,
    GstFalDispatcher * dispatcher)
{
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!gst_fal_request_state_start (state, element, settings))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* fal's realtime is latest-wins */
      gst_fal_dispatcher_set_latest_wins (dispatcher,
          state->settings.endpoint == GST_FAL_ENDPOINT_KIND_REALTIME);
      gst_fal_dispatcher_start (dispatcher);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_fal_dispatcher_stop (dispatcher);
      break;
    default:
      break;
  }

  ret = parent_class->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    gst_fal_request_state_stop (state);
  return ret;
}

gboolean
gst_fal_request_element_set_property (GstElement * element,
    GstFalRequestSettings * settings, GstFalDispatcher * dispatcher,
    guint first_prop_id, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  return gst_fal_request_settings_set_property (element, settings,
      first_prop_id, prop_id, value, pspec)
      || gst_fal_dispatcher_set_property (dispatcher, prop_id, value, pspec);
}

gboolean
gst_fal_request_element_get_property (GstElement * element,
    GstFalRequestSettings * settings, GstFalDispatcher * dispatcher,
    guint first_prop_id, guint prop_id, GValue * value, GParamSpec * pspec)
{
  return gst_fal_request_settings_get_property (element, settings,
      first_prop_id, prop_id, value, pspec)
      || gst_fal_dispatcher_get_property (dispatcher, prop_id, value, pspec);
}

void
gst_fal_request_element_finalize (GstFalRequestState * state,
    GstFalRequestSettings * settings, GstFalDispatcher * dispatcher)
{
  gst_fal_dispatcher_free (dispatcher);
  gst_fal_request_state_stop (state);
  gst_fal_request_settings_clear (settings);
}

/* The size the encoder sends for a frame of @caps; 0 when unknown. */
static void
sent_scale (GstFalRequestState * state, GstCaps * caps, gdouble * scale_x,
    gdouble * scale_y)
{
  GstVideoInfo info;
  guint maxdim = state->settings.max_dimension;
  guint longest;

  *scale_x = *scale_y = 1.0;
  if (!caps || !gst_video_info_from_caps (&info, caps))
    return;
  longest = MAX (info.width, info.height);
  if (maxdim == 0 || longest <= maxdim)
    return;
  {
    guint sent_w = MAX (1, (guint) ((guint64) info.width * maxdim / longest));
    guint sent_h = MAX (1, (guint) ((guint64) info.height * maxdim / longest));
    *scale_x = (gdouble) info.width / sent_w;
    *scale_y = (gdouble) info.height / sent_h;
  }
}

/* The request options with the job's timeout when they have none. */
static GstFalOptions *
job_request_options (GstFalRequestState * state, GstFalJob * job)
{
  g_autoptr (GstFalOptions) job_options = gst_fal_dispatcher_job_options (job);
  GstFalOptions *options = gst_fal_options_copy (state->options);

  if (gst_fal_options_get_timeout (options) <= 0 &&
      gst_fal_options_get_timeout (job_options) > 0)
    gst_fal_options_set_timeout (options,
        gst_fal_options_get_timeout (job_options));
  return options;
}

typedef struct
{
  GstFalRequestState *state;
  GstFalJob *job;
} PartialData;

static void
on_stream_event (JsonNode * event, gpointer user_data)
{
  PartialData *data = user_data;

  if (data->state->on_partial)
    data->state->on_partial (data->job, event, data->state->partial_data);
}

/* Calls the application with @arguments through the endpoint of the
 * settings; fills the job's request id (queue) and run time. */
static JsonNode *
call_endpoint (GstFalRequestState * state, GstFalJob * job,
    JsonNode * arguments, GError ** error)
{
  const gchar *application = state->settings.application;
  g_autoptr (GstFalOptions) options = NULL;
  PartialData partial = { state, job };
  gint64 begin = g_get_monotonic_time ();
  JsonNode *result;

  if (state->settings.endpoint == GST_FAL_ENDPOINT_KIND_QUEUE)
    return gst_fal_dispatcher_job_subscribe (job, state->client, application,
        arguments, state->options, error);

  if (state->settings.endpoint == GST_FAL_ENDPOINT_KIND_REALTIME) {
    g_autoptr (GVariant) message =
        gst_fal_realtime_session_message_from_json (arguments);
    g_autoptr (GVariant) output = gst_fal_realtime_session_call
        (state->realtime, message, job->cancellable, error);

    if (!output)
      return NULL;
    job->timings.run = (g_get_monotonic_time () - begin) * GST_USECOND;
    return gst_fal_realtime_session_result_to_json (output);
  }
  options = job_request_options (state, job);
  if (state->settings.endpoint == GST_FAL_ENDPOINT_KIND_STREAM)
    result = gst_fal_client_stream (state->client, application, arguments,
        options, on_stream_event, &partial, job->cancellable, error);
  else
    result = gst_fal_client_run (state->client, application, arguments,
        options, job->cancellable, error);
  if (result)
    job->timings.run = (g_get_monotonic_time () - begin) * GST_USECOND;
  return result;
}

GstFalRequestOutput *
gst_fal_request_state_run (GstFalRequestState * state, GstFalJob * job,
    GError ** error)
{
  GstFalRequestOutput *output;
  g_autofree gchar *frame_url = NULL;
  JsonNode *arguments, *result;

  output = g_new0 (GstFalRequestOutput, 1);
  output->scale_x = output->scale_y = 1.0;

  if (gst_fal_arguments_template_uses_frame (state->tmpl)) {
    gint64 begin = g_get_monotonic_time ();
    const gchar *content_type = NULL;
    g_autoptr (GBytes) bytes = NULL;
    gboolean inline_frame;

    bytes = gst_fal_frame_encoder_encode (state->encoder, job->sample,
        &content_type, error);
    if (!bytes)
      goto fail;
    sent_scale (state, gst_sample_get_caps (job->sample), &output->scale_x,
        &output->scale_y);
    /* realtime: the frame travels as bytes in the message */
    inline_frame = state->settings.endpoint == GST_FAL_ENDPOINT_KIND_REALTIME
        || state->settings.upload == GST_FAL_UPLOAD_MODE_DATA_URI ||
        (state->settings.upload == GST_FAL_UPLOAD_MODE_AUTO &&
        g_bytes_get_size (bytes) < GST_FAL_DATA_URI_THRESHOLD);
    if (inline_frame)
      frame_url = gst_fal_encode_data_uri (bytes, content_type);
    else {
      g_autoptr (GstFalOptions) options = gst_fal_dispatcher_job_options (job);

      frame_url = gst_fal_client_upload_bytes_full (state->client, bytes,
          content_type, NULL, options, job->cancellable, error);
    }
    if (!frame_url)
      goto fail;
    job->timings.upload = (g_get_monotonic_time () - begin) * GST_USECOND;
  }

  arguments = gst_fal_arguments_template_instantiate (state->tmpl, frame_url,
      job->pts, job->index);
  result = call_endpoint (state, job, arguments, error);
  json_node_unref (arguments);
  if (!result)
    goto fail;
  output->result_json = gst_fal_json_to_string (result, FALSE);
  json_node_unref (result);
  return output;

fail:
  gst_fal_request_output_free (output);
  return NULL;
}
