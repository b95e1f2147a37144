/* gst-fal: falsrc, pushes what a generative model produces */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalelements.h"

#include <gst/base/gstpushsrc.h>
#include <gst/base/gsttypefindhelper.h>
#include <string.h>
#include <gst/fal/gstfaljson-private.h>

/**
 * SECTION:element-falsrc
 * @title: falsrc
 *
 * Submits `arguments` to a generative `application` and pushes what it
 * produces. Every media file of the result (`image.url`, `images[].url`,
 * `video.url`, `audio.url`, any `url`, or the field named by `result-path`)
 * is downloaded, without credentials, and pushed as one buffer whose caps
 * come from its contents and content type (image/png, image/jpeg, video/…,
 * audio/…); a result without media is pushed as one `application/json`
 * buffer. With `stream=true` the application's `/stream` endpoint is used
 * and every streamed event is pushed as one `application/json` buffer as it
 * arrives. JSON buffers hold one line each (the JSON and a newline), so
 * filesink writes them as JSON Lines.
 *
 * The source submits once when it starts, and again whenever `arguments`
 * changes while it runs. After `num-results` completed requests it sends
 * EOS (0: never, keep waiting for new arguments). Errors of the request
 * (unknown application, rejected arguments, timeout, ...) are posted as
 * element errors with the HTTP status, error type and request id.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 falsrc application=local/text-to-image arguments='{"prompt":"hello","width":320,"height":240}' ! decodebin ! imagefreeze num-buffers=50 ! videoconvert ! autovideosink
 * ]| Renders a prompt with the local text-to-image model and shows it.
 * |[
 * gst-launch-1.0 falsrc application=local/counter arguments='{"count":5,"interval":0.1}' stream=true ! fdsink fd=1
 * ]| Prints every event a streaming application sends.
 *
 * Since: 0.1
 */

GST_DEBUG_CATEGORY_STATIC (gst_fal_src_debug);
#define GST_CAT_DEFAULT gst_fal_src_debug

#define GST_TYPE_FAL_SRC (gst_fal_src_get_type ())
G_DECLARE_FINAL_TYPE (GstFalSrc, gst_fal_src, GST, FAL_SRC, GstPushSrc);

#define DEFAULT_APPLICATION NULL
#define DEFAULT_ARGUMENTS "{}"
#define DEFAULT_SERVER_URL NULL
#define DEFAULT_NUM_RESULTS 1
#define DEFAULT_STREAM FALSE
#define DEFAULT_TIMEOUT 0.0
#define DEFAULT_RESULT_PATH NULL
/* How long stop() waits for cancelled calls to return. */
#define STOP_DRAIN_TIMEOUT_MS 10000

enum
{
  PROP_0,
  PROP_APPLICATION,
  PROP_ARGUMENTS,
  PROP_SERVER_URL,
  PROP_KEY,
  PROP_NUM_RESULTS,
  PROP_STREAM,
  PROP_TIMEOUT,
  PROP_RESULT_PATH,
  PROP_TLS_CA_FILE,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

typedef struct
{
  gchar *application;
  gchar *server_url;
  gchar *key;
  guint num_results;
  gboolean stream;
  gdouble timeout;
  gchar *result_path;
  gchar *tls_ca_file;
} GstFalSrcSettings;

/* One buffer ready to leave, with the caps it needs. */
typedef struct
{
  GstBuffer *buffer;
  GstCaps *caps;
} PendingOutput;

/* One request and the downloads of its media, in flight. */
typedef struct
{
  GstFalSrc *self;              /* owned */
  GCancellable *cancellable;    /* owned: cancelled with the element's */
  GCancellable *parent;         /* the element's, when the op began */
  gulong parent_id;
  GSource *deadline;            /* the timeout, over request and downloads */
  gboolean timed_out;
  gchar **urls;
  guint next_url;
  guint events;
} SrcOp;

struct _GstFalSrc
{
  GstPushSrc parent;

  /* under the object lock */
  GstFalSrcSettings settings;
  gchar *arguments;
  gboolean need_submit;         /* arguments to (re)submit */
  gboolean flushing;
  GCancellable *cancellable;
  GstFalClient *client;

  /* The context the streaming thread iterates while it waits: the client's
   * callbacks land here, and unlock() / new arguments wake it up. */
  GMainContext *context;

  /* streaming thread (or stop(), once it has ended) only */
  GstFalSrcSettings active;     /* snapshot taken at start() */
  GQueue pending;               /* of PendingOutput */
  GstCaps *current_caps;
  guint ops;                    /* requests or downloads running */
  guint results;                /* completed requests */
  guint64 offset;               /* buffers pushed */
  GError *error;                /* the first failure, to post */
};

G_DEFINE_TYPE (GstFalSrc, gst_fal_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (falsrc, "falsrc", GST_RANK_NONE,
    GST_TYPE_FAL_SRC, gst_fal_element_init (plugin));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
settings_clear (GstFalSrcSettings * s)
{
  g_clear_pointer (&s->application, g_free);
  g_clear_pointer (&s->server_url, g_free);
  gst_fal_element_clear_key (&s->key);
  g_clear_pointer (&s->result_path, g_free);
  g_clear_pointer (&s->tls_ca_file, g_free);
}

static void
settings_copy (GstFalSrcSettings * dst, const GstFalSrcSettings * src)
{
  *dst = *src;
  dst->application = g_strdup (src->application);
  dst->server_url = g_strdup (src->server_url);
  dst->key = g_strdup (src->key);
  dst->result_path = g_strdup (src->result_path);
  dst->tls_ca_file = g_strdup (src->tls_ca_file);
}

static void
pending_output_free (PendingOutput * out)
{
  gst_buffer_unref (out->buffer);
  gst_caps_unref (out->caps);
  g_free (out);
}

static void
src_op_free (SrcOp * op)
{
  g_strfreev (op->urls);
  if (op->deadline) {
    g_source_destroy (op->deadline);
    g_source_unref (op->deadline);
  }
  g_cancellable_disconnect (op->parent, op->parent_id);
  g_object_unref (op->parent);
  g_object_unref (op->cancellable);
  gst_object_unref (op->self);
  g_free (op);
}

/* Called when a request (with its downloads) has ended, in any way. */
static void
src_op_finish (SrcOp * op, GError * error)
{
  GstFalSrc *self = op->self;

  self->ops--;
  if (op->timed_out) {
    g_clear_error (&error);
    error = gst_fal_error_new_full (GST_FAL_ERROR_TIMEOUT, 0, "timeout", NULL,
        NULL, "%s: no result within the timeout (%g s)",
        self->active.application, self->active.timeout);
  }
  if (!op->timed_out && g_cancellable_is_cancelled (op->cancellable)) {
    /* unlock() or stop(): submit again if the source runs on */
    GST_DEBUG_OBJECT (self, "request cancelled");
    GST_OBJECT_LOCK (self);
    self->need_submit = TRUE;
    GST_OBJECT_UNLOCK (self);
    g_clear_error (&error);
  } else if (error) {
    GST_WARNING_OBJECT (self, "request failed: %s", error->message);
    if (!self->error)
      self->error = error;
    else
      g_error_free (error);
  } else {
    self->results++;
    GST_DEBUG_OBJECT (self, "result %u complete", self->results);
  }
  src_op_free (op);
}

static void
queue_output (GstFalSrc * self, GBytes * bytes, const gchar * content_type)
{
  PendingOutput *out = g_new0 (PendingOutput, 1);
  GstTypeFindProbability probability = GST_TYPE_FIND_NONE;

  out->buffer = gst_buffer_new_wrapped_bytes (bytes);
  if (content_type && (g_str_has_prefix (content_type, "application/json")
          || g_str_has_prefix (content_type, "text/")))
    out->caps = gst_caps_new_empty_simple ("application/json");
  else
    out->caps = gst_type_find_helper_for_buffer (GST_OBJECT (self),
        out->buffer, &probability);
  if (!out->caps && content_type && *content_type) {
    g_autofree gchar *media_type = g_strndup (content_type,
        strcspn (content_type, "; "));
    out->caps = gst_caps_new_empty_simple (media_type);
  }
  if (!out->caps)
    out->caps = gst_caps_new_empty_simple ("application/octet-stream");

  GST_DEBUG_OBJECT (self, "queued %" G_GSIZE_FORMAT " bytes of %s (%"
      GST_PTR_FORMAT ")", g_bytes_get_size (bytes),
      GST_STR_NULL (content_type), out->caps);
  g_queue_push_tail (&self->pending, out);
}

static void
queue_json (GstFalSrc * self, JsonNode * node)
{
  gchar *json = gst_fal_json_to_string (node, FALSE);
  /* one line each, so that filesink writes JSON Lines */
  gchar *text = g_strconcat (json, "\n", NULL);
  GBytes *bytes = g_bytes_new_take (text, strlen (text));

  g_free (json);
  queue_output (self, bytes, "application/json");
  g_bytes_unref (bytes);
}

static void download_next (SrcOp * op);

static void
on_downloaded (GObject * source, GAsyncResult * result, gpointer user_data)
{
  SrcOp *op = user_data;
  GError *error = NULL;
  gchar *content_type = NULL;
  GBytes *bytes;

  bytes = gst_fal_client_download_finish (GST_FAL_CLIENT (source), result,
      &content_type, &error);
  if (!bytes) {
    src_op_finish (op, error);
    return;
  }
  if (!g_cancellable_is_cancelled (op->cancellable))
    queue_output (op->self, bytes, content_type);
  g_bytes_unref (bytes);
  g_free (content_type);
  download_next (op);
}

static void
download_next (SrcOp * op)
{
  GstFalClient *client;
  const gchar *url;

  if (!op->urls[op->next_url] || g_cancellable_is_cancelled (op->cancellable)) {
    src_op_finish (op, NULL);
    return;
  }
  url = op->urls[op->next_url++];
  GST_DEBUG_OBJECT (op->self, "downloading %s", url);
  GST_OBJECT_LOCK (op->self);
  client = g_object_ref (op->self->client);
  GST_OBJECT_UNLOCK (op->self);
  gst_fal_client_download_async (client, url, op->cancellable,
      on_downloaded, op);
  g_object_unref (client);
}

/* The media URLs of a result: the one at result-path, every images[].url,
 * or the first media URL found. */
static gchar **
find_media_urls (const gchar * result_json, const gchar * result_path)
{
  GPtrArray *urls = g_ptr_array_new ();
  gchar *url;
  guint i;

  if (result_path && *result_path) {
    url = gst_fal_result_find_media_url (result_json, result_path, NULL);
    if (url)
      g_ptr_array_add (urls, url);
  } else {
    for (i = 0;; i++) {
      g_autofree gchar *path = g_strdup_printf ("images.%u.url", i);

      url = gst_fal_result_get_string (result_json, path);
      if (!url)
        break;
      g_ptr_array_add (urls, url);
    }
    if (urls->len == 0) {
      url = gst_fal_result_find_media_url (result_json, NULL, NULL);
      if (url)
        g_ptr_array_add (urls, url);
    }
  }
  g_ptr_array_add (urls, NULL);
  return (gchar **) g_ptr_array_free (urls, FALSE);
}

static void
on_subscribed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  SrcOp *op = user_data;
  GError *error = NULL;
  g_autofree gchar *request_id = NULL;
  g_autofree gchar *result_json = NULL;
  JsonNode *node;

  node = gst_fal_client_subscribe_finish (GST_FAL_CLIENT (source), result,
      &request_id, &error);
  if (!node) {
    src_op_finish (op, error);
    return;
  }
  result_json = gst_fal_json_to_string (node, FALSE);
  GST_INFO_OBJECT (op->self, "request %s completed", GST_STR_NULL (request_id));

  op->urls = find_media_urls (result_json, op->self->active.result_path);
  if (!op->urls[0]) {
    if (op->self->active.result_path) {
      error = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL, 0, NULL,
          result_json, request_id, "No media URL at \"%s\" in the result",
          op->self->active.result_path);
    } else {
      GST_DEBUG_OBJECT (op->self, "no media in the result, pushing its JSON");
      queue_json (op->self, node);
    }
    json_node_unref (node);
    src_op_finish (op, error);
    return;
  }
  json_node_unref (node);
  download_next (op);
}

static void
on_stream_event (JsonNode * event, gpointer user_data)
{
  SrcOp *op = user_data;

  op->events++;
  if (!g_cancellable_is_cancelled (op->cancellable))
    queue_json (op->self, event);
}

static void
on_streamed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  SrcOp *op = user_data;
  GError *error = NULL;
  JsonNode *last;

  last = gst_fal_client_stream_finish (GST_FAL_CLIENT (source), result, &error);
  /* the last event normally came through on_stream_event already */
  if (last && op->events == 0 && !g_cancellable_is_cancelled (op->cancellable))
    queue_json (op->self, last);
  if (last)
    json_node_unref (last);
  src_op_finish (op, error);
}

/* Streaming thread: starts one request with the current arguments. */
static void
cancel_child (GCancellable * parent, gpointer child)
{
  g_cancellable_cancel (child);
}

/* The timeout covers the request and the downloads of its media. */
static gboolean
on_op_deadline (gpointer user_data)
{
  SrcOp *op = user_data;

  op->timed_out = TRUE;
  g_cancellable_cancel (op->cancellable);
  return G_SOURCE_REMOVE;
}

static void
submit (GstFalSrc * self)
{
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (JsonNode) arguments = NULL;
  g_autofree gchar *arguments_json = NULL;
  GstFalClient *client;
  GError *error = NULL;
  SrcOp *op;

  GST_OBJECT_LOCK (self);
  self->need_submit = FALSE;
  arguments_json = g_strdup (self->arguments);
  client = g_object_ref (self->client);
  op = g_new0 (SrcOp, 1);
  op->parent = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  op->cancellable = g_cancellable_new ();
  op->parent_id = g_cancellable_connect (op->parent,
      G_CALLBACK (cancel_child), op->cancellable, NULL);
  op->self = gst_object_ref (self);
  self->ops++;
  if (self->active.timeout > 0) {
    op->deadline = g_timeout_source_new ((guint) MIN (G_MAXUINT,
            self->active.timeout * 1000));
    g_source_set_callback (op->deadline, on_op_deadline, op, NULL);
    g_source_attach (op->deadline, self->context);
  }

  arguments = gst_fal_json_from_string (arguments_json && *arguments_json ?
      arguments_json : "{}", -1, &error);
  if (arguments && !JSON_NODE_HOLDS_OBJECT (arguments))
    error = gst_fal_error_new_full (GST_FAL_ERROR_INVALID_ARGUMENT, 0, NULL,
        NULL, NULL, "The arguments are not a JSON object: %s", arguments_json);
  if (error) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid arguments: %s", error->message), (NULL));
    g_error_free (error);
    /* reported already: fail without a second message */
    src_op_finish (op, g_error_new_literal (GST_FAL_ERROR,
            GST_FAL_ERROR_INVALID_ARGUMENT, ""));
    g_object_unref (client);
    return;
  }

  if (self->active.timeout > 0)
    gst_fal_options_set_timeout (options, self->active.timeout);

  GST_INFO_OBJECT (self, "submitting to %s%s", self->active.application,
      self->active.stream ? " (stream)" : "");
  if (self->active.stream)
    gst_fal_client_stream_async (client, self->active.application, arguments,
        options, on_stream_event, op, NULL, op->cancellable, on_streamed, op);
  else
    gst_fal_client_subscribe_async (client, self->active.application,
        arguments, options, NULL, NULL, NULL, op->cancellable, on_subscribed,
        op);
  g_object_unref (client);
}

static gboolean
result_limit_reached (GstFalSrc * self)
{
  return self->active.num_results > 0
      && self->results >= self->active.num_results;
}

static GstFlowReturn
gst_fal_src_create (GstPushSrc * psrc, GstBuffer ** buffer)
{
  GstFalSrc *self = GST_FAL_SRC (psrc);
  GstFlowReturn ret = GST_FLOW_OK;

  g_main_context_push_thread_default (self->context);
  for (;;) {
    gboolean flushing, need_submit;

    GST_OBJECT_LOCK (self);
    flushing = self->flushing;
    need_submit = self->need_submit;
    GST_OBJECT_UNLOCK (self);

    if (flushing) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
    if (!g_queue_is_empty (&self->pending)) {
      PendingOutput *out = g_queue_pop_head (&self->pending);

      if (!self->current_caps || !gst_caps_is_equal (self->current_caps,
              out->caps)) {
        gst_caps_replace (&self->current_caps, out->caps);
        if (!gst_base_src_set_caps (GST_BASE_SRC (self), out->caps))
          GST_WARNING_OBJECT (self, "downstream refused %" GST_PTR_FORMAT,
              out->caps);
      }
      *buffer = gst_buffer_ref (out->buffer);
      GST_BUFFER_OFFSET (*buffer) = self->offset++;
      GST_BUFFER_OFFSET_END (*buffer) = self->offset;
      pending_output_free (out);
      break;
    }
    if (self->error) {
      if (self->error->message[0])
        gst_fal_element_post_error (GST_ELEMENT (self), self->error, FALSE);
      ret = GST_FLOW_ERROR;
      break;
    }
    if (self->ops == 0 && result_limit_reached (self)) {
      GST_DEBUG_OBJECT (self, "%u results pushed, EOS", self->results);
      ret = GST_FLOW_EOS;
      break;
    }
    if (self->ops == 0 && need_submit)
      submit (self);
    else
      g_main_context_iteration (self->context, TRUE);
  }
  g_main_context_pop_thread_default (self->context);
  return ret;
}

static gboolean
gst_fal_src_unlock (GstBaseSrc * bsrc)
{
  GstFalSrc *self = GST_FAL_SRC (bsrc);

  GST_OBJECT_LOCK (self);
  self->flushing = TRUE;
  g_cancellable_cancel (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  g_main_context_wakeup (self->context);
  return TRUE;
}

static gboolean
gst_fal_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstFalSrc *self = GST_FAL_SRC (bsrc);

  GST_OBJECT_LOCK (self);
  self->flushing = FALSE;
  if (g_cancellable_is_cancelled (self->cancellable)) {
    g_object_unref (self->cancellable);
    self->cancellable = g_cancellable_new ();
  }
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_fal_src_start (GstBaseSrc * bsrc)
{
  GstFalSrc *self = GST_FAL_SRC (bsrc);

  GST_OBJECT_LOCK (self);
  settings_clear (&self->active);
  settings_copy (&self->active, &self->settings);
  self->need_submit = TRUE;
  self->flushing = FALSE;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  GST_OBJECT_UNLOCK (self);

  self->results = 0;
  self->offset = 0;
  g_clear_error (&self->error);
  gst_clear_caps (&self->current_caps);

  if (!self->active.application || !*self->active.application) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("No application set"),
        ("Set the application property, e.g. local/text-to-image"));
    return FALSE;
  }

  return gst_fal_element_replace_client (GST_ELEMENT (self), &self->client,
      self->active.server_url, self->active.key, self->active.tls_ca_file,
      self->active.application);
}

static gboolean
on_drain_timeout (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
gst_fal_src_stop (GstBaseSrc * bsrc)
{
  GstFalSrc *self = GST_FAL_SRC (bsrc);
  gboolean expired = FALSE;
  GSource *timeout;

  GST_OBJECT_LOCK (self);
  g_cancellable_cancel (self->cancellable);
  GST_OBJECT_UNLOCK (self);

  /* the streaming thread has ended: collect the cancelled calls here */
  g_main_context_push_thread_default (self->context);
  timeout = g_timeout_source_new (STOP_DRAIN_TIMEOUT_MS);
  g_source_set_callback (timeout, on_drain_timeout, &expired, NULL);
  g_source_attach (timeout, self->context);
  while (self->ops > 0 && !expired)
    g_main_context_iteration (self->context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  g_main_context_pop_thread_default (self->context);
  if (self->ops > 0)
    GST_WARNING_OBJECT (self, "%u cancelled calls did not return", self->ops);

  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_output_free);
  gst_clear_caps (&self->current_caps);
  g_clear_error (&self->error);
  GST_OBJECT_LOCK (self);
  g_clear_object (&self->client);
  GST_OBJECT_UNLOCK (self);
  settings_clear (&self->active);
  return TRUE;
}

static gboolean
gst_fal_src_negotiate (GstBaseSrc * bsrc)
{
  /* caps are set per buffer, from what the application produced */
  return TRUE;
}

static gboolean
gst_fal_src_is_seekable (GstBaseSrc * bsrc)
{
  return FALSE;
}

static void
gst_fal_src_set_context (GstElement * element, GstContext * context)
{
  gst_fal_element_handle_set_context (element, context);
  GST_ELEMENT_CLASS (gst_fal_src_parent_class)->set_context (element, context);
}

static gboolean
check_mutable (GstFalSrc * self, GParamSpec * pspec)
{
  GstState state = GST_STATE (self);

  if ((pspec->flags & GST_PARAM_MUTABLE_READY) && state > GST_STATE_READY) {
    GST_WARNING_OBJECT (self, "%s can only be set in the NULL or READY state",
        pspec->name);
    return FALSE;
  }
  return TRUE;
}

static void
gst_fal_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalSrc *self = GST_FAL_SRC (object);
  GstFalSrcSettings *s = &self->settings;
  gboolean wake = FALSE;

  GST_OBJECT_LOCK (self);
  if (!check_mutable (self, pspec)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_APPLICATION:
      g_free (s->application);
      s->application = g_value_dup_string (value);
      break;
    case PROP_ARGUMENTS:
      if (g_strcmp0 (self->arguments, g_value_get_string (value)) != 0) {
        g_free (self->arguments);
        self->arguments = g_value_dup_string (value);
        self->need_submit = TRUE;
        wake = TRUE;
      }
      break;
    case PROP_SERVER_URL:
      g_free (s->server_url);
      s->server_url = g_value_dup_string (value);
      break;
    case PROP_KEY:
      gst_fal_element_clear_key (&s->key);
      s->key = g_value_dup_string (value);
      break;
    case PROP_NUM_RESULTS:
      s->num_results = g_value_get_uint (value);
      break;
    case PROP_STREAM:
      s->stream = g_value_get_boolean (value);
      break;
    case PROP_TIMEOUT:
      s->timeout = g_value_get_double (value);
      break;
    case PROP_RESULT_PATH:
      g_free (s->result_path);
      s->result_path = g_value_dup_string (value);
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
  if (wake)
    g_main_context_wakeup (self->context);
}

static void
gst_fal_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalSrc *self = GST_FAL_SRC (object);
  GstFalSrcSettings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_APPLICATION:
      g_value_set_string (value, s->application);
      break;
    case PROP_ARGUMENTS:
      g_value_set_string (value, self->arguments);
      break;
    case PROP_SERVER_URL:
      g_value_set_string (value, s->server_url);
      break;
    case PROP_NUM_RESULTS:
      g_value_set_uint (value, s->num_results);
      break;
    case PROP_STREAM:
      g_value_set_boolean (value, s->stream);
      break;
    case PROP_TIMEOUT:
      g_value_set_double (value, s->timeout);
      break;
    case PROP_RESULT_PATH:
      g_value_set_string (value, s->result_path);
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
gst_fal_src_finalize (GObject * object)
{
  GstFalSrc *self = GST_FAL_SRC (object);

  settings_clear (&self->settings);
  settings_clear (&self->active);
  g_free (self->arguments);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_output_free);
  gst_clear_caps (&self->current_caps);
  g_clear_error (&self->error);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (gst_fal_src_parent_class)->finalize (object);
}

static void
gst_fal_src_class_init (GstFalSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags rw_ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_fal_src_set_property;
  gobject_class->get_property = gst_fal_src_get_property;
  gobject_class->finalize = gst_fal_src_finalize;

  properties[PROP_APPLICATION] = g_param_spec_string ("application",
      "Application",
      "Endpoint id of the generative model, e.g. fal-ai/flux/dev or "
      "local/text-to-image (local/… starts a local server when no server "
      "is set)", DEFAULT_APPLICATION, rw_ready);
  properties[PROP_ARGUMENTS] = g_param_spec_string ("arguments", "Arguments",
      "Input of the model as a JSON object; changing it while playing "
      "submits again", DEFAULT_ARGUMENTS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_SERVER_URL] = g_param_spec_string ("server-url",
      "Server URL",
      "Base URL of a fal-compatible server (http://host:port); unset: "
      "GST_FAL_URL, else the fal cloud", DEFAULT_SERVER_URL, rw_ready);
  properties[PROP_KEY] = g_param_spec_string ("key", "Key",
      "fal API key (\"KEY\" or \"ID:SECRET\"); default from FAL_KEY. "
      "Write-only", NULL,
      G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_NUM_RESULTS] = g_param_spec_uint ("num-results",
      "Number of results",
      "Send EOS after this many completed requests (0 = never, wait for "
      "new arguments)", 0, G_MAXUINT, DEFAULT_NUM_RESULTS, rw_ready);
  properties[PROP_STREAM] = g_param_spec_boolean ("stream", "Stream",
      "Use the application's /stream endpoint and push every event as an "
      "application/json buffer", DEFAULT_STREAM, rw_ready);
  properties[PROP_TIMEOUT] = g_param_spec_double ("timeout", "Timeout",
      "Deadline of each request in seconds, cancelled on the server when "
      "it passes (0 = the client's default)", 0, G_MAXDOUBLE, DEFAULT_TIMEOUT,
      rw_ready);
  properties[PROP_RESULT_PATH] = g_param_spec_string ("result-path",
      "Result path",
      "Dotted path of the media URL in the result (e.g. \"video.url\"); "
      "unset: every images[].url, else the first media URL",
      DEFAULT_RESULT_PATH, rw_ready);
  properties[PROP_TLS_CA_FILE] = g_param_spec_string ("tls-ca-file",
      "TLS CA file", "PEM file of the CAs trusted for an https server, "
      "instead of the system's; unset: GST_FAL_CA_FILE", NULL, rw_ready);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "fal source",
      "Source/Generator",
      "Pushes the images, videos, audio or streamed events a fal "
      "application generates", "gst-fal developers");
  element_class->set_context = GST_DEBUG_FUNCPTR (gst_fal_src_set_context);

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_fal_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_fal_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_fal_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_fal_src_unlock_stop);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_fal_src_negotiate);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_fal_src_is_seekable);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_fal_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_fal_src_debug, "falsrc", 0, "fal source");
}

static void
gst_fal_src_init (GstFalSrc * self)
{
  self->settings.num_results = DEFAULT_NUM_RESULTS;
  self->settings.stream = DEFAULT_STREAM;
  self->settings.timeout = DEFAULT_TIMEOUT;
  self->arguments = g_strdup (DEFAULT_ARGUMENTS);
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_new ();
  g_queue_init (&self->pending);
  gst_base_src_set_live (GST_BASE_SRC (self), FALSE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}
