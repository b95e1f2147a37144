/* gst-fal: the request policies every request-making element shares
 *
 * A GstFalDispatcher sits between an element's sink pad and its src pad and
 * does, once for every element: sampling (interval, max-rate), the in-flight
 * window (max-in-flight, when-full=block|skip|keep-latest), ordering
 * (ordered: frames wait in order for their own results; live: frames pass at
 * once, results ride on the next frame that leaves), per-request timeout,
 * EOS drain (eos-timeout, then cancel), FLUSH / downward state changes
 * (cancel everything, drop stale results), the LATENCY query, on-error, the
 * read-only counters and the "fal-request" bus messages.
 *
 * How to use it from an element:
 *
 *   class_init:
 *     next_id = gst_fal_dispatcher_install_properties (gobject_class, PROP_LAST);
 *     (installs interval, max-rate, max-in-flight, when-full, ordering,
 *      timeout, eos-timeout, latency, on-error and the counters submitted,
 *      completed, failed, skipped, in-flight, with ids PROP_LAST..next_id-1)
 *   init:
 *     self->dispatcher = gst_fal_dispatcher_new (GST_ELEMENT (self),
 *         self->sinkpad, self->srcpad, &funcs, self);
 *     (it installs the chain, event and query functions of the sink pad and
 *      the query and activate-mode functions of the src pad; do not set them)
 *   set_property / get_property:
 *     if (gst_fal_dispatcher_set_property (self->dispatcher, prop_id, value))
 *       return;
 *   change_state:
 *     READY→PAUSED: gst_fal_dispatcher_start (self->dispatcher) before chaining up;
 *     PAUSED→READY: gst_fal_dispatcher_stop (self->dispatcher) BEFORE chaining up
 *                   (cancels every request and waits for the workers).
 *   finalize: gst_fal_dispatcher_free (self->dispatcher).
 *
 * The element gives two functions (GstFalDispatcherFuncs):
 *  - work: runs on a worker thread (never the streaming thread), once per
 *    sampled frame; does the blocking job (encode, upload, subscribe ...)
 *    honouring job->cancellable, and sets job->result (+ result_free) or
 *    job->error. gst_fal_dispatcher_job_subscribe() does the common
 *    "subscribe with bus messages and timings" part.
 *  - attach: runs on the thread that pushes (the streaming thread in live
 *    mode, the src pad task in ordered mode) when a frame leaves with a
 *    finished job: attaches the result (or job->error) to the frame, or
 *    replaces the frame. Called once per job; in live mode several jobs may be
 *    attached to one frame, in ordered mode @own_frame is TRUE.
 * Errors: with on-error=fail a failed job posts an element error (details
 * from the GstFalError) and the stream stops; with on-error=skip attach is
 * called with job->error set and a warning is posted. A job past its
 * timeout is cancelled (the whole work function) and fails with
 * GST_FAL_ERROR_TIMEOUT. Jobs cancelled at EOS (eos-timeout) get attach with
 * their error and are reported together, in one error or warning naming how
 * many lost their results. Jobs cancelled by a flush or a state change are
 * dropped.
 *
 * With a live upstream, in ordered mode, the streaming thread waits for the
 * window at most the latency budget; then the frame waits as keep-latest,
 * or is dropped (counter "dropped", QoS message) when the held window is
 * full, so that a live source's EOS always gets through.
 */
#pragma once

#include <gst/gst.h>
#include <gst/fal/gstfal.h>

G_BEGIN_DECLS

/**
 * GstFalOrdering:
 * @GST_FAL_ORDERING_ORDERED: frames wait in order and leave with their own result
 * @GST_FAL_ORDERING_LIVE: frames pass at once; results ride on later frames
 */
typedef enum {
  GST_FAL_ORDERING_ORDERED,
  GST_FAL_ORDERING_LIVE,
} GstFalOrdering;

/**
 * GstFalWhenFull:
 * @GST_FAL_WHEN_FULL_BLOCK: wait for a free slot (back-pressure); in live
 *   mode, which never waits, it acts as keep-latest
 * @GST_FAL_WHEN_FULL_SKIP: the frame gets no request
 * @GST_FAL_WHEN_FULL_KEEP_LATEST: keep the newest frame waiting for a slot,
 *   replacing the one that waited before
 */
typedef enum {
  GST_FAL_WHEN_FULL_BLOCK,
  GST_FAL_WHEN_FULL_SKIP,
  GST_FAL_WHEN_FULL_KEEP_LATEST,
} GstFalWhenFull;

/**
 * GstFalOnError:
 * @GST_FAL_ON_ERROR_FAIL: post an element error and stop
 * @GST_FAL_ON_ERROR_SKIP: the frame passes with an error meta; post a warning
 */
typedef enum {
  GST_FAL_ON_ERROR_FAIL,
  GST_FAL_ON_ERROR_SKIP,
} GstFalOnError;

GType gst_fal_ordering_get_type (void);
#define GST_FAL_TYPE_ORDERING (gst_fal_ordering_get_type ())
GType gst_fal_when_full_get_type (void);
#define GST_FAL_TYPE_WHEN_FULL (gst_fal_when_full_get_type ())
GType gst_fal_on_error_get_type (void);
#define GST_FAL_TYPE_ON_ERROR (gst_fal_on_error_get_type ())

typedef struct _GstFalDispatcher GstFalDispatcher;

/**
 * GstFalJob:
 * One request for one sampled frame. The public fields above the line are
 * read-only for the element; the work function sets those below it.
 */
typedef struct _GstFalJob
{
  GstSample *sample;            /* the frame, with the caps and segment; NULL after work */
  GstClockTime pts;             /* PTS of the frame (the source PTS of the result) */
  GstClockTime duration;
  guint64 index;                /* 0-based number of the sampled frame ({{index}}) */
  guint64 frame_number;         /* 0-based number of the input frame */
  GCancellable *cancellable;    /* cancelled on flush, stop, timeout at EOS */
  GstFalDispatcher *dispatcher;
  /* --- set by the work function --- */
  gchar *request_id;            /* when known */
  gpointer result;              /* whatever the element needs in attach */
  GDestroyNotify result_free;
  GError *error;                /* a GST_FAL_ERROR (or G_IO_ERROR_CANCELLED) on failure */
  GstFalTimings timings;        /* GST_CLOCK_TIME_NONE when unknown */
} GstFalJob;

typedef struct
{
  /* Worker thread. Returns nothing: set job->result or job->error. */
  void (*work) (GstFalJob * job, gpointer user_data);
  /* Push side. @buffer is writable (transfer full); returns the buffer to
   * push (transfer full) or NULL to drop the frame. @buffer is NULL for
   * results left at EOS in live mode (no frame left to carry them). */
  GstBuffer *(*attach) (GstBuffer * buffer, GstFalJob * job,
      gboolean own_frame, gpointer user_data);
  /* Optional, push side: called for every event (transfer none) just before
   * it is pushed on the src pad, in stream order (flushes included), e.g. to
   * mirror EOS, segments and flushes on another src pad. */
  void (*src_event) (GstEvent * event, gpointer user_data);
  /* Optional, push side: called for every frame (transfer none) just
   * before it is pushed on the src pad, after attach (if any). */
  void (*before_push) (GstBuffer * buffer, gpointer user_data);
} GstFalDispatcherFuncs;

GstFalDispatcher *gst_fal_dispatcher_new (GstElement * element,
    GstPad * sinkpad, GstPad * srcpad, const GstFalDispatcherFuncs * funcs,
    gpointer user_data);
void gst_fal_dispatcher_free (GstFalDispatcher * dispatcher);

/* Installs the policy properties and counters from @first_prop_id on; returns
 * the next free property id. */
guint gst_fal_dispatcher_install_properties (GObjectClass * klass,
    guint first_prop_id);
/* TRUE when @prop_id is one of the dispatcher's (and was handled). */
gboolean gst_fal_dispatcher_set_property (GstFalDispatcher * dispatcher,
    guint prop_id, const GValue * value, GParamSpec * pspec);
gboolean gst_fal_dispatcher_get_property (GstFalDispatcher * dispatcher,
    guint prop_id, GValue * value, GParamSpec * pspec);

/* Before start: with @latest_wins (fal's realtime), when max-in-flight
 * requests run, the newest frame replaces the one waiting for a slot even
 * with when-full=block, as in live mode. */
void gst_fal_dispatcher_set_latest_wins (GstFalDispatcher * dispatcher,
    gboolean latest_wins);

/* READY→PAUSED: snapshots the settings, starts the workers. */
gboolean gst_fal_dispatcher_start (GstFalDispatcher * dispatcher);
/* PAUSED→READY: cancels everything in flight (on the server too), stops the
 * src task and waits for the workers. */
void gst_fal_dispatcher_stop (GstFalDispatcher * dispatcher);

/* Helpers for work functions. */

/* Submits @arguments to @application, follows the request (posting the
 * queued / in-progress bus messages) and returns its result; fills
 * job->request_id and the queue/run timings. The options' timeout is set to
 * the dispatcher's per-request timeout when it has none. */
JsonNode *gst_fal_dispatcher_job_subscribe (GstFalJob * job,
    GstFalClient * client, const gchar * application, JsonNode * arguments,
    GstFalOptions * options, GError ** error);

/* Options for the client calls of a work function other than the request
 * (uploads, downloads): the job's timeout, none when the dispatcher has
 * none. The job's deadline still bounds the work function as a whole.
 * (transfer full) */
GstFalOptions *gst_fal_dispatcher_job_options (GstFalJob * job);

/* The element the dispatcher serves. (transfer none) */
GstElement *gst_fal_dispatcher_get_element (GstFalDispatcher * dispatcher);

G_END_DECLS
