/* gst-fal: the request properties shared by falinfer and falfilter, and
 * the work of one request (encode, upload or inline, submit, follow) */
#pragma once

#include "gstfaldispatcher.h"
#include "gstfalrealtimesession.h"

G_BEGIN_DECLS

/**
 * GstFalUploadMode:
 * @GST_FAL_UPLOAD_MODE_AUTO: a data URI below 256 KiB, else the CDN
 * @GST_FAL_UPLOAD_MODE_CDN: always upload to the CDN
 * @GST_FAL_UPLOAD_MODE_DATA_URI: always inline as a data URI
 */
typedef enum {
  GST_FAL_UPLOAD_MODE_AUTO,
  GST_FAL_UPLOAD_MODE_CDN,
  GST_FAL_UPLOAD_MODE_DATA_URI,
} GstFalUploadMode;

GType gst_fal_upload_mode_get_type (void);
#define GST_FAL_TYPE_UPLOAD_MODE (gst_fal_upload_mode_get_type ())

/**
 * GstFalEndpointKind:
 * @GST_FAL_ENDPOINT_KIND_QUEUE: submit to the queue and follow the request
 *   (three exchanges per frame, with queue position and logs)
 * @GST_FAL_ENDPOINT_KIND_RUN: one `POST /run` per frame
 * @GST_FAL_ENDPOINT_KIND_STREAM: `POST …/stream` per frame; every event is
 *   a partial result
 * @GST_FAL_ENDPOINT_KIND_REALTIME: one websocket per element carrying every
 *   sampled frame; results match frames by order
 *
 * Which of the application's endpoints the requests of falinfer and
 * falfilter go to (the `endpoint` property).
 */
typedef enum {
  GST_FAL_ENDPOINT_KIND_QUEUE,
  GST_FAL_ENDPOINT_KIND_RUN,
  GST_FAL_ENDPOINT_KIND_STREAM,
  GST_FAL_ENDPOINT_KIND_REALTIME,
} GstFalEndpointKind;

GType gst_fal_endpoint_kind_get_type (void);
#define GST_FAL_TYPE_ENDPOINT_KIND (gst_fal_endpoint_kind_get_type ())

/* endpoint=stream: called on the worker thread for every event of a
 * frame's stream as it arrives (transfer none). */
typedef void (*GstFalPartialFunc) (GstFalJob * job, JsonNode * event,
    gpointer user_data);

/* Frames encoded to fewer bytes than this go inline with upload=auto. */
#define GST_FAL_DATA_URI_THRESHOLD (256 * 1024)

typedef struct
{
  gchar *application;
  gchar *arguments;
  gchar *server_url;
  gchar *key;
  gchar *tls_ca_file;
  GstFalPriority priority;
  gchar *hint;
  gchar *webhook_url;
  gdouble start_timeout;
  GstFalStatusMode status_mode;
  gdouble poll_interval;
  GstFalUploadMode upload;
  GstFalImageFormat image_format;
  guint quality;
  guint max_dimension;
  GstFalEndpointKind endpoint;
} GstFalRequestSettings;

/* What a running element uses, built by gst_fal_request_state_start(). */
typedef struct
{
  GstFalRequestSettings settings;       /* snapshot */
  GstFalClient *client;
  GstFalArgumentsTemplate *tmpl;
  GstFalFrameEncoder *encoder;
  GstFalOptions *options;
  GstFalRealtimeSession *realtime;      /* endpoint=realtime */
  /* set by the element once, at init; kept across stop */
  GstFalPartialFunc on_partial;
  gpointer partial_data;
} GstFalRequestState;

/* What the work of one request gives (job->result of falinfer). */
typedef struct
{
  gchar *result_json;
  gdouble scale_x, scale_y;     /* frame size / size of the image sent */
} GstFalRequestOutput;

void gst_fal_request_output_free (GstFalRequestOutput * output);

void gst_fal_request_settings_init (GstFalRequestSettings * settings);
void gst_fal_request_settings_clear (GstFalRequestSettings * settings);

/* Installs application, arguments, server-url, key, priority, hint,
 * webhook-url, start-timeout, status, poll-interval, upload, image-format,
 * quality, max-dimension, tls-ca-file and endpoint from @first_prop_id; returns the
 * next free id. */
guint gst_fal_request_settings_install_properties (GObjectClass * klass,
    guint first_prop_id);
gboolean gst_fal_request_settings_set_property (GstElement * element,
    GstFalRequestSettings * settings, guint first_prop_id, guint prop_id,
    const GValue * value, GParamSpec * pspec);
gboolean gst_fal_request_settings_get_property (GstElement * element,
    GstFalRequestSettings * settings, guint first_prop_id, guint prop_id,
    GValue * value, GParamSpec * pspec);

/* NULL→READY: snapshot, client, template, encoder. Posts the error. */
gboolean gst_fal_request_state_start (GstFalRequestState * state,
    GstElement * element, GstFalRequestSettings * settings);
void gst_fal_request_state_stop (GstFalRequestState * state);

/* change_state of falinfer and falfilter: the request state at NULL↔READY
 * and the dispatcher at READY↔PAUSED, around @parent_class's. */
GstStateChangeReturn gst_fal_request_element_change_state (GstElement *
    element, GstElementClass * parent_class, GstStateChange transition,
    GstFalRequestState * state, GstFalRequestSettings * settings,
    GstFalDispatcher * dispatcher);

/* The request settings' properties, then the dispatcher's; FALSE when
 * @prop_id is neither. */
gboolean gst_fal_request_element_set_property (GstElement * element,
    GstFalRequestSettings * settings, GstFalDispatcher * dispatcher,
    guint first_prop_id, guint prop_id, const GValue * value,
    GParamSpec * pspec);
gboolean gst_fal_request_element_get_property (GstElement * element,
    GstFalRequestSettings * settings, GstFalDispatcher * dispatcher,
    guint first_prop_id, guint prop_id, GValue * value, GParamSpec * pspec);
/* Frees @dispatcher, then the state and the settings. */
void gst_fal_request_element_finalize (GstFalRequestState * state,
    GstFalRequestSettings * settings, GstFalDispatcher * dispatcher);

/* Worker thread: encodes job's frame, uploads or inlines it, and calls the
 * application through the settings' endpoint (queue: submits and follows
 * the request; run; stream, each event to on_partial; realtime, the frame
 * inline as bytes on the element's websocket). Returns the output
 * or NULL with @error set. */
GstFalRequestOutput *gst_fal_request_state_run (GstFalRequestState * state,
    GstFalJob * job, GError ** error);

G_END_DECLS
