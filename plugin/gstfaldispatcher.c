/* gst-fal: the request policies every request-making element shares */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfaldispatcher.h"
#include "gstfalelements.h"

GST_DEBUG_CATEGORY_STATIC (fal_dispatcher_debug);
#define GST_CAT_DEFAULT fal_dispatcher_debug

#define DEFAULT_INTERVAL 1
#define DEFAULT_MAX_RATE 0.0
#define DEFAULT_MAX_IN_FLIGHT 4
#define DEFAULT_WHEN_FULL GST_FAL_WHEN_FULL_BLOCK
#define DEFAULT_ORDERING GST_FAL_ORDERING_ORDERED
#define DEFAULT_TIMEOUT 120.0
#define DEFAULT_EOS_TIMEOUT 30.0
#define DEFAULT_LATENCY 0
#define DEFAULT_ON_ERROR GST_FAL_ON_ERROR_FAIL

/* Frames an ordered window may hold beyond the jobs themselves, so that
 * frames skipped between held ones cannot pile up without bound. */
#define EXTRA_HELD_FRAMES 64

/* What a frame of unknown duration may wait in a live pipeline. */
#define LIVE_FRAME_BUDGET (40 * GST_MSECOND)

enum
{
  PROP_INTERVAL,
  PROP_MAX_RATE,
  PROP_MAX_IN_FLIGHT,
  PROP_WHEN_FULL,
  PROP_ORDERING,
  PROP_TIMEOUT,
  PROP_EOS_TIMEOUT,
  PROP_LATENCY,
  PROP_ON_ERROR,
  PROP_SUBMITTED,
  PROP_COMPLETED,
  PROP_FAILED,
  PROP_SKIPPED,
  PROP_IN_FLIGHT,
  PROP_DROPPED,
  N_DISPATCHER_PROPERTIES
};

G_DEFINE_ENUM_TYPE (GstFalOrdering, gst_fal_ordering,
    G_DEFINE_ENUM_VALUE (GST_FAL_ORDERING_ORDERED, "ordered"),
    G_DEFINE_ENUM_VALUE (GST_FAL_ORDERING_LIVE, "live"));
G_DEFINE_ENUM_TYPE (GstFalWhenFull, gst_fal_when_full,
    G_DEFINE_ENUM_VALUE (GST_FAL_WHEN_FULL_BLOCK, "block"),
    G_DEFINE_ENUM_VALUE (GST_FAL_WHEN_FULL_SKIP, "skip"),
    G_DEFINE_ENUM_VALUE (GST_FAL_WHEN_FULL_KEEP_LATEST, "keep-latest"));
G_DEFINE_ENUM_TYPE (GstFalOnError, gst_fal_on_error,
    G_DEFINE_ENUM_VALUE (GST_FAL_ON_ERROR_FAIL, "fail"),
    G_DEFINE_ENUM_VALUE (GST_FAL_ON_ERROR_SKIP, "skip"));

typedef struct
{
  guint interval;
  gdouble max_rate;
  guint max_in_flight;
  GstFalWhenFull when_full;
  GstFalOrdering ordering;
  gdouble timeout;
  gdouble eos_timeout;
  GstClockTime latency;
  GstFalOnError on_error;
} Settings;

typedef struct
{
  GstFalJob pub;
  gint refcount;
  guint generation;
  gboolean submitted;
  gboolean done;
  gboolean eos_cancelled;
  gboolean timed_out;           /* the per-request deadline passed */
  gboolean replaced;            /* keep-latest: a newer frame took its place */
  gint64 submit_time;
  GstClockID deadline;          /* fires at submit_time + timeout */
} Job;

typedef struct
{
  GstBuffer *buffer;
  GstEvent *event;
  Job *job;
} Item;

struct _GstFalDispatcher
{
  GstElement *element;
  GstPad *sinkpad;
  GstPad *srcpad;
  GstFalDispatcherFuncs funcs;
  gpointer user_data;
  guint first_prop_id;

  GMutex lock;
  GCond cond;
  Settings settings;            /* as set by properties */
  Settings active;              /* snapshot taken at start */
  GThreadPool *pool;

  /* state, under lock */
  gboolean started;
  gboolean flushing;
  gboolean eos;
  guint generation;
  GQueue items;                 /* ordered: buffers and events waiting to leave */
  guint held_buffers;
  GPtrArray *jobs;              /* every job not yet finished (submitted or pending) */
  Job *pending;                 /* keep-latest: waiting for a slot */
  GQueue ready;                 /* live: finished jobs waiting for a frame */
  guint in_flight;              /* submitted jobs whose work has not returned */
  GstFlowReturn last_ret;
  GstCaps *caps;
  GstSegment segment;
  guint64 frame_number;
  guint64 sample_index;
  GstClockTime last_sample_pts;
  gint64 last_sample_time;
  GstClockTime round_trip;
  GstClockTime reported_latency;        /* last answer to a LATENCY query */
  gint upstream_live;           /* -1 unknown, else whether upstream is live */
  guint lost_at_eos;            /* jobs cancelled at EOS without a result */
  gboolean latest_wins;         /* block acts as keep-latest */

  /* counters, under lock */
  guint64 submitted, completed, failed, skipped, dropped;
};

#define DISPATCHER_QUARK (dispatcher_quark ())
static GQuark
dispatcher_quark (void)
{
  static GQuark quark;
  if (!quark)
    quark = g_quark_from_static_string ("gst-fal-dispatcher");
  return quark;
}

static Job *
job_ref (Job * job)
{
  g_atomic_int_inc (&job->refcount);
  return job;
}

static void
job_unref (Job * job)
{
  if (!g_atomic_int_dec_and_test (&job->refcount))
    return;
  if (job->pub.sample)
    gst_sample_unref (job->pub.sample);
  g_clear_object (&job->pub.cancellable);
  g_free (job->pub.request_id);
  if (job->pub.result && job->pub.result_free)
    job->pub.result_free (job->pub.result);
  g_clear_error (&job->pub.error);
  g_free (job);
}

static void
item_free (Item * item)
{
  gst_clear_buffer (&item->buffer);
  gst_clear_event (&item->event);
  if (item->job)
    job_unref (item->job);
  g_free (item);
}

static void
post_request_message (GstFalDispatcher * self, GstStructure * s)
{
  gst_element_post_message (self->element,
      gst_message_new_element (GST_OBJECT (self->element), s));
}

static GstStructure *
request_structure (Job * job, const gchar * state)
{
  return gst_structure_new ("fal-request", "state", G_TYPE_STRING, state,
      "request-id", G_TYPE_STRING, job->pub.request_id,
      "index", G_TYPE_UINT64, job->pub.index,
      "pts", G_TYPE_UINT64, job->pub.pts, NULL);
}

static void
post_finished_message (GstFalDispatcher * self, Job * job)
{
  const GError *error = job->pub.error;
  g_autofree gchar *summary = error ? gst_fal_error_get_summary (error) : NULL;
  GstStructure *s;

  s = request_structure (job, error ? "failed" : "completed");
  gst_structure_set (s,
      "upload-time", G_TYPE_UINT64, job->pub.timings.upload,
      "queue-time", G_TYPE_UINT64, job->pub.timings.queue,
      "run-time", G_TYPE_UINT64, job->pub.timings.run,
      "download-time", G_TYPE_UINT64, job->pub.timings.download, NULL);
  if (error)
    gst_structure_set (s, "http-status", G_TYPE_UINT,
        gst_fal_error_get_http_status (error),
        "error-type", G_TYPE_STRING, gst_fal_error_get_error_type (error),
        "detail", G_TYPE_STRING, gst_fal_error_get_detail (error),
        "error", G_TYPE_STRING, summary, NULL);
  post_request_message (self, s);
}


static gboolean
error_is_cancel (const GError * error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED);
}

static gboolean
on_job_deadline (GstClock * clock, GstClockTime time, GstClockID id,
    gpointer user_data)
{
  Job *job = user_data;

  g_atomic_int_set (&job->timed_out, TRUE);
  g_cancellable_cancel (job->pub.cancellable);
  return TRUE;
}

/* The per-request timeout bounds the whole work function (encoding,
 * uploads, downloads, the request), whatever the client calls honour: the
 * system clock's thread cancels the job when it passes. */
static void
arm_deadline (GstFalDispatcher * self, Job * job)
{
  GstClock *clock;

  if (self->active.timeout <= 0)
    return;
  clock = gst_system_clock_obtain ();
  job->deadline = gst_clock_new_single_shot_id (clock,
      gst_clock_get_time (clock) +
      gst_util_gdouble_to_guint64 (self->active.timeout * GST_SECOND));
  gst_clock_id_wait_async (job->deadline, on_job_deadline, job_ref (job),
      (GDestroyNotify) job_unref);
  gst_object_unref (clock);
}

/* Must hold the lock. */
static void
submit_job (GstFalDispatcher * self, Job * job)
{
  job->submitted = TRUE;
  job->submit_time = g_get_monotonic_time ();
  self->in_flight++;
  self->submitted++;
  arm_deadline (self, job);
  g_thread_pool_push (self->pool, job_ref (job), NULL);
}

/* A job cancelled by its deadline or at EOS lost its result: its error says
 * why, in place of the bare cancellation the work function saw. */
static void
explain_cancellation (GstFalDispatcher * self, Job * job)
{
  GError *error = job->pub.error;

  if (!error || !error_is_cancel (error))
    return;
  if (g_atomic_int_get (&job->timed_out))
    job->pub.error = gst_fal_error_new_full (GST_FAL_ERROR_TIMEOUT, 0, NULL,
        NULL, job->pub.request_id, "Request %" G_GUINT64_FORMAT
        " gave no result within its timeout (%g s)", job->pub.index,
        self->active.timeout);
  else if (job->eos_cancelled)
    job->pub.error = gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED, 0,
        "cancelled", NULL, job->pub.request_id, "Request %" G_GUINT64_FORMAT
        " was cancelled at EOS: no result within eos-timeout (%g s)",
        job->pub.index, self->active.eos_timeout);
  else
    return;
  g_error_free (error);
}

static void
worker_func (gpointer data, gpointer user_data)
{
  GstFalDispatcher *self = user_data;
  Job *job = data;
  gint64 elapsed;
  gboolean latency_grew = FALSE, current;

  if (g_cancellable_set_error_if_cancelled (job->pub.cancellable,
          &job->pub.error)) {
    /* cancelled before it started */
  } else {
    self->funcs.work (&job->pub, self->user_data);
    if (!job->pub.error && !job->pub.result)
      job->pub.error = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL, 0,
          NULL, NULL, job->pub.request_id, "The request gave no result");
  }
  /* the clock entry holds the job: drop it to break the cycle */
  if (job->deadline) {
    gst_clock_id_unschedule (job->deadline);
    g_clear_pointer (&job->deadline, gst_clock_id_unref);
  }
  explain_cancellation (self, job);
  /* the frame stays with the item; drop ours so it can be made writable */
  g_clear_pointer (&job->pub.sample, gst_sample_unref);
  elapsed = g_get_monotonic_time () - job->submit_time;

  g_mutex_lock (&self->lock);
  job->done = TRUE;
  g_ptr_array_remove (self->jobs, job);
  current = job->generation == self->generation;
  if (current) {
    if (job->pub.error) {
      if (job->eos_cancelled)
        self->lost_at_eos++;
      GST_INFO_OBJECT (self->element, "request %" G_GUINT64_FORMAT
          " (%s) failed: %s", job->pub.index,
          GST_STR_NULL (job->pub.request_id), job->pub.error->message);
      self->failed++;
    } else {
      self->completed++;
      self->round_trip = GST_CLOCK_TIME_IS_VALID (self->round_trip) ?
          (self->round_trip * 3 + (GstClockTime) elapsed * GST_USECOND) / 4 :
          (GstClockTime) elapsed *GST_USECOND;
      /* ordered mode without a latency budget: tell the pipeline when the
       * round trip outgrows what it was told by a quarter */
      latency_grew = self->active.ordering == GST_FAL_ORDERING_ORDERED &&
          self->active.latency == 0 &&
          self->round_trip > self->reported_latency +
          self->reported_latency / 4 + GST_MSECOND;
      if (latency_grew)
        self->reported_latency = self->round_trip;
    }
    if (self->active.ordering == GST_FAL_ORDERING_LIVE)
      g_queue_push_tail (&self->ready, job_ref (job));
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (current)
    post_finished_message (self, job);
  if (latency_grew)
    gst_element_post_message (self->element,
        gst_message_new_latency (GST_OBJECT (self->element)));

  /* the slot is freed last: stop() waits for it, and the element must
   * outlive every use above */
  g_mutex_lock (&self->lock);
  self->in_flight--;
  if (self->pending && self->in_flight < self->active.max_in_flight) {
    Job *next = self->pending;
    self->pending = NULL;
    submit_job (self, next);
    job_unref (next);
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  job_unref (job);
}

/* Cancels every job of the current generation; with the lock. Returns
 * the pending (keep-latest) job that never got a request, if any, to be
 * reported without the lock. */
static Job *
cancel_all (GstFalDispatcher * self, gboolean at_eos)
{
  Job *pending = g_steal_pointer (&self->pending);
  guint i;

  for (i = 0; i < self->jobs->len; i++) {
    Job *job = g_ptr_array_index (self->jobs, i);
    job->eos_cancelled = at_eos;
    g_cancellable_cancel (job->pub.cancellable);
  }
  if (!pending)
    return NULL;
  g_ptr_array_remove (self->jobs, pending);
  pending->done = TRUE;
  pending->eos_cancelled = at_eos;
  g_set_error (&pending->pub.error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
      "Cancelled before it was submitted");
  if (!at_eos) {
    job_unref (pending);
    return NULL;
  }
  explain_cancellation (self, pending);
  self->failed++;
  if (self->active.ordering == GST_FAL_ORDERING_LIVE)
    g_queue_push_tail (&self->ready, job_ref (pending));
  return pending;
}

/* Handles the error of a finished job; returns FALSE when the stream must
 * stop (on-error=fail). Without the lock. */
static gboolean
check_job_error (GstFalDispatcher * self, Job * job)
{
  const GError *error = job->pub.error;

  if (!error)
    return TRUE;
  if (job->eos_cancelled) {
    /* drain() reported every request lost at EOS in one message */
    GST_DEBUG_OBJECT (self->element, "request %" G_GUINT64_FORMAT
        " cancelled at EOS", job->pub.index);
    return TRUE;
  }
  if (self->active.on_error == GST_FAL_ON_ERROR_FAIL) {
    gst_fal_element_post_error (self->element, error, FALSE);
    return FALSE;
  }
  gst_fal_element_post_error (self->element, error, TRUE);
  return TRUE;
}

static GstBuffer *
attach_job (GstFalDispatcher * self, GstBuffer * buffer, Job * job,
    gboolean own_frame)
{
  if (buffer)
    buffer = gst_buffer_make_writable (buffer);
  return self->funcs.attach (buffer, &job->pub, own_frame, self->user_data);
}

static void
push_src_event (GstFalDispatcher * self, GstEvent * event)
{
  if (self->funcs.src_event)
    self->funcs.src_event (event, self->user_data);
  gst_pad_push_event (self->srcpad, event);
}

/* ordered mode: the src pad task */
static gboolean
item_ready (Item * item)
{
  if (item->job && item->job->replaced)
    g_clear_pointer (&item->job, job_unref);
  return !item->job || item->job->done;
}

static void
src_loop (gpointer data)
{
  GstFalDispatcher *self = data;
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean item_failed = FALSE;
  Item *item;

  g_mutex_lock (&self->lock);
  while (!self->flushing && (g_queue_is_empty (&self->items) ||
          !item_ready (g_queue_peek_head (&self->items))))
    g_cond_wait (&self->cond, &self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    gst_pad_pause_task (self->srcpad);
    return;
  }
  item = g_queue_pop_head (&self->items);
  if (item->buffer)
    self->held_buffers--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (item->event) {
    gboolean is_eos = GST_EVENT_TYPE (item->event) == GST_EVENT_EOS;
    push_src_event (self, g_steal_pointer (&item->event));
    if (is_eos)
      ret = GST_FLOW_EOS;
  } else {
    GstBuffer *buffer = g_steal_pointer (&item->buffer);

    if (item->job) {
      if (check_job_error (self, item->job))
        buffer = attach_job (self, buffer, item->job, TRUE);
      else {
        gst_buffer_unref (buffer);
        buffer = NULL;
        ret = GST_FLOW_ERROR;
        item_failed = TRUE;
      }
    }
    if (buffer) {
      if (self->funcs.before_push)
        self->funcs.before_push (buffer, self->user_data);
      ret = gst_pad_push (self->srcpad, buffer);
    }
  }
  item_free (item);

  if (ret != GST_FLOW_OK) {
    g_mutex_lock (&self->lock);
    self->last_ret = ret;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
      /* a failed request has posted its own error */
      if (ret != GST_FLOW_ERROR || !item_failed)
        GST_ELEMENT_FLOW_ERROR (self->element, ret);
      push_src_event (self, gst_event_new_eos ());
    }
    gst_pad_pause_task (self->srcpad);
  }
}

static void
start_task_unlocked (GstFalDispatcher * self)
{
  if (self->active.ordering == GST_FAL_ORDERING_ORDERED)
    gst_pad_start_task (self->srcpad, src_loop, self, NULL);
}

/* Sampling: whether the current frame gets a request; with the lock. */
static gboolean
should_sample (GstFalDispatcher * self, GstBuffer * buffer)
{
  guint interval = MAX (self->active.interval, 1);
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (self->frame_number % interval != 0)
    return FALSE;
  if (self->active.max_rate > 0) {
    GstClockTime min_gap = gst_util_gdouble_to_guint64 (GST_SECOND /
        self->active.max_rate);

    /* tolerate timestamps rounded down (n * (1 s / 30) ...) */
    min_gap -= min_gap / 100;
    if (GST_CLOCK_TIME_IS_VALID (pts)) {
      if (GST_CLOCK_TIME_IS_VALID (self->last_sample_pts) &&
          pts >= self->last_sample_pts && pts - self->last_sample_pts < min_gap)
        return FALSE;
      self->last_sample_pts = pts;
    } else {
      gint64 now = g_get_monotonic_time ();
      if (self->last_sample_time &&
          (GstClockTime) (now - self->last_sample_time) * GST_USECOND < min_gap)
        return FALSE;
      self->last_sample_time = now;
    }
  }
  return TRUE;
}

static Job *
job_new (GstFalDispatcher * self, GstBuffer * buffer)
{
  Job *job = g_new0 (Job, 1);

  job->refcount = 1;
  job->generation = self->generation;
  job->pub.dispatcher = self;
  job->pub.sample = gst_sample_new (buffer, self->caps, &self->segment, NULL);
  job->pub.pts = GST_BUFFER_PTS (buffer);
  job->pub.duration = GST_BUFFER_DURATION (buffer);
  job->pub.index = self->sample_index++;
  job->pub.frame_number = self->frame_number;
  job->pub.cancellable = g_cancellable_new ();
  job->pub.timings.upload = job->pub.timings.queue = GST_CLOCK_TIME_NONE;
  job->pub.timings.run = job->pub.timings.download = GST_CLOCK_TIME_NONE;
  g_ptr_array_add (self->jobs, job);
  return job;
}

/* Whether upstream is live, asked once per stream; without the lock. */
static gboolean
upstream_is_live (GstFalDispatcher * self)
{
  if (self->upstream_live < 0) {
    GstQuery *query = gst_query_new_latency ();
    gboolean live = FALSE;

    if (gst_pad_peer_query (self->sinkpad, query))
      gst_query_parse_latency (query, &live, NULL, NULL);
    gst_query_unref (query);
    GST_DEBUG_OBJECT (self->element, "upstream is %slive", live ? "" : "not ");
    self->upstream_live = live;
  }
  return self->upstream_live;
}

/* Until when the streaming thread may wait for the window (monotonic time,
 * 0 = as long as it takes). A live source must not fall behind, and its EOS
 * (gst-launch-1.0 -e) can only come once the frame is taken: in a live
 * pipeline a frame waits at most the latency budget, else one frame. */
static gint64
wait_limit (GstFalDispatcher * self, GstBuffer * buffer)
{
  GstClockTime budget = self->active.latency;

  if (!upstream_is_live (self))
    return 0;
  if (budget == 0)
    budget = GST_BUFFER_DURATION_IS_VALID (buffer) ?
        GST_BUFFER_DURATION (buffer) : LIVE_FRAME_BUDGET;
  return g_get_monotonic_time () + (gint64) (budget / GST_USECOND);
}

/* Waits on the cond until @until (0 = for ever); FALSE once it passed. */
static gboolean
wait_until (GstFalDispatcher * self, gint64 until)
{
  if (until == 0) {
    g_cond_wait (&self->cond, &self->lock);
    return TRUE;
  }
  return g_cond_wait_until (&self->cond, &self->lock, until);
}

/* Decides the fate of a sampled frame under the when-full policy; with the
 * lock. Returns the job of the frame (a new reference) or NULL. */
static Job *
admit_frame (GstFalDispatcher * self, GstBuffer * buffer, gint64 until)
{
  GstFalWhenFull when_full = self->active.when_full;
  Job *job;

  /* the streaming thread never waits in live mode */
  if ((self->active.ordering == GST_FAL_ORDERING_LIVE || self->latest_wins)
      && when_full == GST_FAL_WHEN_FULL_BLOCK)
    when_full = GST_FAL_WHEN_FULL_KEEP_LATEST;

  if (when_full == GST_FAL_WHEN_FULL_BLOCK) {
    while (!self->flushing && self->in_flight >= self->active.max_in_flight)
      if (!wait_until (self, until))
        break;
    if (self->flushing)
      return NULL;
    /* a live pipeline waited long enough: the frame waits as keep-latest */
    when_full = GST_FAL_WHEN_FULL_KEEP_LATEST;
  }
  if (self->in_flight < self->active.max_in_flight) {
    job = job_new (self, buffer);
    submit_job (self, job);
    return job;
  }
  if (when_full == GST_FAL_WHEN_FULL_SKIP) {
    self->skipped++;
    return NULL;
  }
  /* keep-latest: this frame replaces the one waiting for a slot */
  if (self->pending) {
    Job *old = self->pending;
    g_ptr_array_remove (self->jobs, old);
    self->skipped++;
    /* ordered: the replaced frame leaves as an unsampled frame */
    old->replaced = TRUE;
    old->done = TRUE;
    job_unref (old);
  }
  job = job_new (self, buffer);
  self->pending = job_ref (job);
  return job;
}

/* A live pipeline's frame that found the window full for its whole budget
 * is dropped, and said so as QoS; with the lock. */
static void
drop_late_frame (GstFalDispatcher * self, GstBuffer * buffer)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstMessage *qos;

  self->dropped++;
  self->frame_number++;
  GST_DEBUG_OBJECT (self->element, "window full: dropping frame %"
      GST_TIME_FORMAT, GST_TIME_ARGS (pts));
  qos = gst_message_new_qos (GST_OBJECT (self->element), TRUE,
      gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME, pts),
      gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME, pts),
      pts, GST_BUFFER_DURATION (buffer));
  gst_message_set_qos_stats (qos, GST_FORMAT_BUFFERS, self->frame_number,
      self->dropped);
  gst_element_post_message (self->element, qos);
}

static GstFlowReturn
chain_ordered (GstFalDispatcher * self, GstBuffer * buffer)
{
  Item *item;
  GstFlowReturn ret;
  guint max_held = self->active.max_in_flight * MAX (self->active.interval,
      1) + EXTRA_HELD_FRAMES;
  gint64 until = wait_limit (self, buffer);

  g_mutex_lock (&self->lock);
  while (!self->flushing && self->last_ret == GST_FLOW_OK &&
      self->held_buffers >= max_held)
    if (!wait_until (self, until))
      break;
  if (self->flushing || self->last_ret != GST_FLOW_OK) {
    ret = self->flushing ? GST_FLOW_FLUSHING : self->last_ret;
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buffer);
    return ret;
  }
  if (self->held_buffers >= max_held) {
    drop_late_frame (self, buffer);
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
  item = g_new0 (Item, 1);
  item->buffer = buffer;
  if (should_sample (self, buffer))
    item->job = admit_frame (self, buffer, until);
  self->frame_number++;
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    item_free (item);
    return GST_FLOW_FLUSHING;
  }
  /* a keep-latest frame replaced later is detached from its job then */
  g_queue_push_tail (&self->items, item);
  self->held_buffers++;
  g_cond_broadcast (&self->cond);
  ret = self->last_ret;
  g_mutex_unlock (&self->lock);
  return ret;
}

static GstFlowReturn
attach_ready_and_push (GstFalDispatcher * self, GstBuffer * buffer,
    GQueue * ready)
{
  Job *job;
  gboolean ok = TRUE;

  while ((job = g_queue_pop_head (ready))) {
    if (ok && check_job_error (self, job)) {
      buffer = attach_job (self, buffer, job, FALSE);
    } else
      ok = FALSE;
    job_unref (job);
  }
  if (!ok) {
    gst_clear_buffer (&buffer);
    return GST_FLOW_ERROR;
  }
  if (!buffer)
    return GST_FLOW_OK;
  if (self->funcs.before_push)
    self->funcs.before_push (buffer, self->user_data);
  return gst_pad_push (self->srcpad, buffer);
}

static GstFlowReturn
chain_live (GstFalDispatcher * self, GstBuffer * buffer)
{
  GQueue ready = G_QUEUE_INIT;
  Job *job = NULL;

  g_mutex_lock (&self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buffer);
    return GST_FLOW_FLUSHING;
  }
  if (should_sample (self, buffer))
    job = admit_frame (self, buffer, 0);
  self->frame_number++;
  if (job)
    job_unref (job);
  ready = self->ready;
  g_queue_init (&self->ready);
  g_mutex_unlock (&self->lock);

  return attach_ready_and_push (self, buffer, &ready);
}

static GstFlowReturn
sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstFalDispatcher *self = g_object_get_qdata (G_OBJECT (pad),
      DISPATCHER_QUARK);

  if (self->active.ordering == GST_FAL_ORDERING_LIVE)
    return chain_live (self, buffer);
  return chain_ordered (self, buffer);
}

/* Every request cancelled at EOS lost its result: one error (on-error=fail)
 * or one warning (skip) says how many and why. */
static void
report_lost_at_eos (GstFalDispatcher * self, guint lost)
{
  GError *error = gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED, 0,
      "cancelled", NULL, NULL,
      "%u %s lost %s: no result within eos-timeout (%g s) after EOS, "
      "cancelled", lost, lost == 1 ? "request" : "requests",
      lost == 1 ? "its result" : "their results", self->active.eos_timeout);

  gst_fal_element_post_error (self->element, error,
      self->active.on_error == GST_FAL_ON_ERROR_SKIP);
  g_error_free (error);
}

/* EOS: waits for the jobs up to eos-timeout, then cancels the rest. */
static void
drain (GstFalDispatcher * self)
{
  Job *pending = NULL;
  gint64 deadline;
  guint lost = 0;

  g_mutex_lock (&self->lock);
  deadline = g_get_monotonic_time () +
      (gint64) (self->active.eos_timeout * G_TIME_SPAN_SECOND);
  /* until every job has posted its message, too */
  while (!self->flushing && (self->jobs->len > 0 || self->in_flight > 0)) {
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline)) {
      GST_INFO_OBJECT (self->element, "eos-timeout: cancelling %u requests",
          self->jobs->len);
      self->lost_at_eos = 0;
      pending = cancel_all (self, TRUE);
      while (!self->flushing && (self->jobs->len > 0 || self->in_flight > 0))
        g_cond_wait (&self->cond, &self->lock);
      lost = self->lost_at_eos + (pending ? 1 : 0);
      break;
    }
  }
  g_mutex_unlock (&self->lock);

  if (pending) {
    post_finished_message (self, pending);
    job_unref (pending);
  }
  if (lost > 0)
    report_lost_at_eos (self, lost);
}

static void
clear_queues (GstFalDispatcher * self, gboolean keep_sticky)
{
  GQueue kept = G_QUEUE_INIT;
  Item *item;
  Job *job;

  while ((item = g_queue_pop_head (&self->items))) {
    if (keep_sticky && item->event && GST_EVENT_IS_STICKY (item->event) &&
        GST_EVENT_TYPE (item->event) != GST_EVENT_SEGMENT &&
        GST_EVENT_TYPE (item->event) != GST_EVENT_EOS)
      g_queue_push_tail (&kept, item);
    else
      item_free (item);
  }
  self->items = kept;
  self->held_buffers = 0;
  while ((job = g_queue_pop_head (&self->ready)))
    job_unref (job);
}

static void
flush_start (GstFalDispatcher * self)
{
  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  self->generation++;
  cancel_all (self, FALSE);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gboolean
sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstFalDispatcher *self = g_object_get_qdata (G_OBJECT (pad),
      DISPATCHER_QUARK);
  gboolean ordered = self->active.ordering == GST_FAL_ORDERING_ORDERED;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      flush_start (self);
      push_src_event (self, event);
      if (ordered)
        gst_pad_pause_task (self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      clear_queues (self, TRUE);
      self->flushing = FALSE;
      self->eos = FALSE;
      self->last_ret = GST_FLOW_OK;
      self->last_sample_pts = GST_CLOCK_TIME_NONE;
      gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
      g_mutex_unlock (&self->lock);
      push_src_event (self, event);
      if (ordered && gst_pad_is_active (self->srcpad))
        start_task_unlocked (self);
      return TRUE;
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      g_mutex_lock (&self->lock);
      gst_caps_replace (&self->caps, caps);
      g_mutex_unlock (&self->lock);
      break;
    }
    case GST_EVENT_SEGMENT:
      g_mutex_lock (&self->lock);
      gst_event_copy_segment (event, &self->segment);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_EOS:
      g_mutex_lock (&self->lock);
      self->eos = TRUE;
      g_mutex_unlock (&self->lock);
      drain (self);
      if (!ordered) {
        GQueue ready;
        g_mutex_lock (&self->lock);
        ready = self->ready;
        g_queue_init (&self->ready);
        g_mutex_unlock (&self->lock);
        attach_ready_and_push (self, NULL, &ready);
      }
      break;
    default:
      break;
  }

  if (!GST_EVENT_IS_SERIALIZED (event) || !ordered) {
    push_src_event (self, event);
    return TRUE;
  }

  g_mutex_lock (&self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    gst_event_unref (event);
    return FALSE;
  }
  {
    Item *item = g_new0 (Item, 1);
    item->event = event;
    g_queue_push_tail (&self->items, item);
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
answer_context_query (GstFalDispatcher * self, GstQuery * query)
{
  const gchar *type;
  GstFalClient *client;
  GstContext *context;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CONTEXT)
    return FALSE;
  gst_query_parse_context_type (query, &type);
  if (g_strcmp0 (type, GST_FAL_CLIENT_CONTEXT_TYPE) != 0)
    return FALSE;
  client = g_object_get_data (G_OBJECT (self->element), "gst-fal-client");
  if (!client)
    return FALSE;
  context = gst_fal_element_new_context (client);
  gst_query_set_context (query, context);
  gst_context_unref (context);
  return TRUE;
}

static gboolean
sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstFalDispatcher *self = g_object_get_qdata (G_OBJECT (pad),
      DISPATCHER_QUARK);

  if (answer_context_query (self, query))
    return TRUE;
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstFalDispatcher *self = g_object_get_qdata (G_OBJECT (pad),
      DISPATCHER_QUARK);

  if (answer_context_query (self, query))
    return TRUE;
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max, ours = 0;

    if (!gst_pad_peer_query (self->sinkpad, query))
      return FALSE;
    gst_query_parse_latency (query, &live, &min, &max);
    GST_OBJECT_LOCK (self->element);
    ours = self->settings.latency;
    GST_OBJECT_UNLOCK (self->element);
    g_mutex_lock (&self->lock);
    if (self->active.ordering != GST_FAL_ORDERING_ORDERED)
      ours = 0;
    else if (ours == 0 && GST_CLOCK_TIME_IS_VALID (self->round_trip))
      ours = self->round_trip;
    self->reported_latency = ours;
    g_mutex_unlock (&self->lock);
    GST_DEBUG_OBJECT (self->element, "adding latency %" GST_TIME_FORMAT,
        GST_TIME_ARGS (ours));
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += ours;
    gst_query_set_latency (query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

static GstIterator *
iterate_internal_links (GstPad * pad, GstObject * parent)
{
  GstFalDispatcher *self = g_object_get_qdata (G_OBJECT (pad),
      DISPATCHER_QUARK);
  GValue value = G_VALUE_INIT;
  GstIterator *it;

  g_value_init (&value, GST_TYPE_PAD);
  g_value_set_object (&value, pad == self->sinkpad ? self->srcpad :
      self->sinkpad);
  it = gst_iterator_new_single (GST_TYPE_PAD, &value);
  g_value_unset (&value);
  return it;
}

static gboolean
src_activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  GstFalDispatcher *self = g_object_get_qdata (G_OBJECT (pad),
      DISPATCHER_QUARK);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    g_mutex_lock (&self->lock);
    self->flushing = FALSE;
    g_mutex_unlock (&self->lock);
    start_task_unlocked (self);
    return TRUE;
  }
  flush_start (self);
  return gst_pad_stop_task (pad);
}

GstFalDispatcher *
gst_fal_dispatcher_new (GstElement * element, GstPad * sinkpad,
    GstPad * srcpad, const GstFalDispatcherFuncs * funcs, gpointer user_data)
{
  GstFalDispatcher *self = g_new0 (GstFalDispatcher, 1);

  if (!fal_dispatcher_debug)
    GST_DEBUG_CATEGORY_INIT (fal_dispatcher_debug, "faldispatcher", 0,
        "fal request dispatcher");

  self->element = element;
  self->sinkpad = sinkpad;
  self->srcpad = srcpad;
  self->funcs = *funcs;
  self->user_data = user_data;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->settings.interval = DEFAULT_INTERVAL;
  self->settings.max_rate = DEFAULT_MAX_RATE;
  self->settings.max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  self->settings.when_full = DEFAULT_WHEN_FULL;
  self->settings.ordering = DEFAULT_ORDERING;
  self->settings.timeout = DEFAULT_TIMEOUT;
  self->settings.eos_timeout = DEFAULT_EOS_TIMEOUT;
  self->settings.latency = DEFAULT_LATENCY;
  self->settings.on_error = DEFAULT_ON_ERROR;
  self->active = self->settings;
  self->jobs = g_ptr_array_new ();
  g_queue_init (&self->items);
  g_queue_init (&self->ready);
  self->flushing = TRUE;
  self->last_ret = GST_FLOW_OK;
  self->round_trip = GST_CLOCK_TIME_NONE;
  self->last_sample_pts = GST_CLOCK_TIME_NONE;
  self->upstream_live = -1;
  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
  self->pool = g_thread_pool_new (worker_func, self, -1, FALSE, NULL);

  g_object_set_qdata (G_OBJECT (sinkpad), DISPATCHER_QUARK, self);
  g_object_set_qdata (G_OBJECT (srcpad), DISPATCHER_QUARK, self);
  gst_pad_set_chain_function (sinkpad, sink_chain);
  gst_pad_set_event_function (sinkpad, sink_event);
  gst_pad_set_query_function (sinkpad, sink_query);
  gst_pad_set_query_function (srcpad, src_query);
  gst_pad_set_activatemode_function (srcpad, src_activate_mode);
  gst_pad_set_iterate_internal_links_function (sinkpad, iterate_internal_links);
  gst_pad_set_iterate_internal_links_function (srcpad, iterate_internal_links);
  return self;
}

static void
wait_idle (GstFalDispatcher * self)
{
  g_mutex_lock (&self->lock);
  while (self->in_flight > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

void
gst_fal_dispatcher_free (GstFalDispatcher * self)
{
  wait_idle (self);
  g_thread_pool_free (self->pool, FALSE, TRUE);
  clear_queues (self, FALSE);
  gst_clear_caps (&self->caps);
  g_ptr_array_unref (self->jobs);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

void
gst_fal_dispatcher_set_latest_wins (GstFalDispatcher * self,
    gboolean latest_wins)
{
  g_mutex_lock (&self->lock);
  self->latest_wins = latest_wins;
  g_mutex_unlock (&self->lock);
}

gboolean
gst_fal_dispatcher_start (GstFalDispatcher * self)
{
  g_mutex_lock (&self->lock);
  GST_OBJECT_LOCK (self->element);
  self->active = self->settings;
  GST_OBJECT_UNLOCK (self->element);
  self->active.max_in_flight = MAX (self->active.max_in_flight, 1);
  self->started = TRUE;
  self->eos = FALSE;
  self->last_ret = GST_FLOW_OK;
  self->frame_number = 0;
  self->sample_index = 0;
  self->last_sample_pts = GST_CLOCK_TIME_NONE;
  self->last_sample_time = 0;
  self->round_trip = GST_CLOCK_TIME_NONE;
  self->reported_latency = 0;
  self->upstream_live = -1;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

void
gst_fal_dispatcher_stop (GstFalDispatcher * self)
{
  flush_start (self);
  gst_pad_stop_task (self->srcpad);
  wait_idle (self);
  g_mutex_lock (&self->lock);
  clear_queues (self, FALSE);
  gst_clear_caps (&self->caps);
  self->started = FALSE;
  g_mutex_unlock (&self->lock);
}

GstFalOptions *
gst_fal_dispatcher_job_options (GstFalJob * job)
{
  GstFalOptions *options = gst_fal_options_new ();

  /* the job's own deadline stops the whole job at the same time */
  if (job->dispatcher->active.timeout > 0)
    gst_fal_options_set_timeout (options, job->dispatcher->active.timeout);
  return options;
}

GstElement *
gst_fal_dispatcher_get_element (GstFalDispatcher * self)
{
  return self->element;
}

/* properties */

guint
gst_fal_dispatcher_install_properties (GObjectClass * klass,
    guint first_prop_id)
{
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  guint id = first_prop_id;

  gst_type_mark_as_plugin_api (GST_FAL_TYPE_ORDERING, 0);
  gst_type_mark_as_plugin_api (GST_FAL_TYPE_WHEN_FULL, 0);
  gst_type_mark_as_plugin_api (GST_FAL_TYPE_ON_ERROR, 0);

  g_object_class_install_property (klass, id + PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Send one frame in every n (frames); 1 sends every frame",
          1, G_MAXUINT, DEFAULT_INTERVAL, rw));
  g_object_class_install_property (klass, id + PROP_MAX_RATE,
      g_param_spec_double ("max-rate", "Maximum rate",
          "At most this many requests per second of stream time "
          "(requests/s); 0 = no limit", 0, G_MAXDOUBLE, DEFAULT_MAX_RATE, rw));
  g_object_class_install_property (klass, id + PROP_MAX_IN_FLIGHT,
      g_param_spec_uint ("max-in-flight", "Maximum in flight",
          "Requests running at once (requests); see when-full",
          1, 1024, DEFAULT_MAX_IN_FLIGHT, rw));
  g_object_class_install_property (klass, id + PROP_WHEN_FULL,
      g_param_spec_enum ("when-full", "When full",
          "What a sampled frame does when max-in-flight requests run: "
          "block (wait; keep-latest in live mode, which never waits), skip "
          "(no request) or keep-latest (wait for a slot, replaced by newer "
          "frames)", GST_FAL_TYPE_WHEN_FULL, DEFAULT_WHEN_FULL, rw));
  g_object_class_install_property (klass, id + PROP_ORDERING,
      g_param_spec_enum ("ordering", "Ordering",
          "ordered: frames wait in order and leave with their own result; "
          "live: frames pass at once and results ride on the next frame "
          "leaving, with their source PTS", GST_FAL_TYPE_ORDERING,
          DEFAULT_ORDERING, rw));
  g_object_class_install_property (klass, id + PROP_TIMEOUT,
      g_param_spec_double ("timeout", "Timeout",
          "Deadline of one request in seconds, everything included (encoding, "
          "upload, queue, run, download); when it passes the request is "
          "cancelled on the server and fails; 0 = the client's default", 0, G_MAXDOUBLE,
          DEFAULT_TIMEOUT, rw));
  g_object_class_install_property (klass, id + PROP_EOS_TIMEOUT,
      g_param_spec_double ("eos-timeout", "EOS timeout",
          "At EOS, how long to wait for requests in flight (seconds) before "
          "cancelling them; requests cancelled so lost their results and "
          "are reported as one error (on-error=fail) or warning (skip)", 0, G_MAXDOUBLE, DEFAULT_EOS_TIMEOUT, rw));
  g_object_class_install_property (klass, id + PROP_LATENCY,
      g_param_spec_uint64 ("latency", "Latency",
          "Latency reported in ordered mode (ns); 0 = the measured round "
          "trip. In a live pipeline it is also the longest a frame waits "
          "for a free slot (0 = one frame's duration)", 0, G_MAXUINT64, DEFAULT_LATENCY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, id + PROP_ON_ERROR,
      g_param_spec_enum ("on-error", "On error",
          "fail: a failed request is an element error; skip: its frame "
          "passes with an error meta and a warning is posted",
          GST_FAL_TYPE_ON_ERROR, DEFAULT_ON_ERROR, rw));
  g_object_class_install_property (klass, id + PROP_SUBMITTED,
      g_param_spec_uint64 ("submitted", "Submitted",
          "Requests submitted so far (requests)", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (klass, id + PROP_COMPLETED,
      g_param_spec_uint64 ("completed", "Completed",
          "Requests that gave a result (requests)", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (klass, id + PROP_FAILED,
      g_param_spec_uint64 ("failed", "Failed",
          "Requests that failed or were cancelled (requests)", 0,
          G_MAXUINT64, 0, ro));
  g_object_class_install_property (klass, id + PROP_SKIPPED,
      g_param_spec_uint64 ("skipped", "Skipped",
          "Sampled frames that got no request because max-in-flight was "
          "reached (frames)", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (klass, id + PROP_IN_FLIGHT,
      g_param_spec_uint ("in-flight", "In flight",
          "Requests running now (requests)", 0, G_MAXUINT, 0, ro));
  g_object_class_install_property (klass, id + PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped",
          "Frames dropped in a live pipeline, ordered mode, because the "
          "window of frames waiting for results stayed full for the "
          "latency budget (frames; each also posted as QoS)", 0,
          G_MAXUINT64, 0, ro));
  return id + N_DISPATCHER_PROPERTIES;
}

static gboolean
own_property (GstFalDispatcher * self, guint * prop_id)
{
  guint id;
  GObjectClass *klass = G_OBJECT_GET_CLASS (self->element);
  GParamSpec *pspec = g_object_class_find_property (klass, "interval");

  if (!pspec)
    return FALSE;
  id = *prop_id;
  if (id < pspec->param_id || id >= pspec->param_id + N_DISPATCHER_PROPERTIES)
    return FALSE;
  *prop_id = id - pspec->param_id;
  return TRUE;
}

gboolean
gst_fal_dispatcher_set_property (GstFalDispatcher * self, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  Settings *s = &self->settings;

  if (!own_property (self, &prop_id))
    return FALSE;

  GST_OBJECT_LOCK (self->element);
  if ((pspec->flags & GST_PARAM_MUTABLE_READY) &&
      GST_STATE (self->element) > GST_STATE_READY) {
    GST_OBJECT_UNLOCK (self->element);
    GST_WARNING_OBJECT (self->element, "%s can only be set in NULL or READY",
        pspec->name);
    return TRUE;
  }
  switch (prop_id) {
    case PROP_INTERVAL:
      s->interval = g_value_get_uint (value);
      break;
    case PROP_MAX_RATE:
      s->max_rate = g_value_get_double (value);
      break;
    case PROP_MAX_IN_FLIGHT:
      s->max_in_flight = g_value_get_uint (value);
      break;
    case PROP_WHEN_FULL:
      s->when_full = g_value_get_enum (value);
      break;
    case PROP_ORDERING:
      s->ordering = g_value_get_enum (value);
      break;
    case PROP_TIMEOUT:
      s->timeout = g_value_get_double (value);
      break;
    case PROP_EOS_TIMEOUT:
      s->eos_timeout = g_value_get_double (value);
      break;
    case PROP_LATENCY:
      s->latency = g_value_get_uint64 (value);
      break;
    case PROP_ON_ERROR:
      s->on_error = g_value_get_enum (value);
      break;
    default:
      break;
  }
  GST_OBJECT_UNLOCK (self->element);
  return TRUE;
}

gboolean
gst_fal_dispatcher_get_property (GstFalDispatcher * self, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  Settings *s = &self->settings;

  if (!own_property (self, &prop_id))
    return FALSE;

  if (prop_id >= PROP_SUBMITTED) {
    g_mutex_lock (&self->lock);
    switch (prop_id) {
      case PROP_SUBMITTED:
        g_value_set_uint64 (value, self->submitted);
        break;
      case PROP_COMPLETED:
        g_value_set_uint64 (value, self->completed);
        break;
      case PROP_FAILED:
        g_value_set_uint64 (value, self->failed);
        break;
      case PROP_SKIPPED:
        g_value_set_uint64 (value, self->skipped);
        break;
      case PROP_IN_FLIGHT:
        g_value_set_uint (value, self->in_flight);
        break;
      case PROP_DROPPED:
        g_value_set_uint64 (value, self->dropped);
        break;
      default:
        break;
    }
    g_mutex_unlock (&self->lock);
    return TRUE;
  }

  GST_OBJECT_LOCK (self->element);
  switch (prop_id) {
    case PROP_INTERVAL:
      g_value_set_uint (value, s->interval);
      break;
    case PROP_MAX_RATE:
      g_value_set_double (value, s->max_rate);
      break;
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, s->max_in_flight);
      break;
    case PROP_WHEN_FULL:
      g_value_set_enum (value, s->when_full);
      break;
    case PROP_ORDERING:
      g_value_set_enum (value, s->ordering);
      break;
    case PROP_TIMEOUT:
      g_value_set_double (value, s->timeout);
      break;
    case PROP_EOS_TIMEOUT:
      g_value_set_double (value, s->eos_timeout);
      break;
    case PROP_LATENCY:
      g_value_set_uint64 (value, s->latency);
      break;
    case PROP_ON_ERROR:
      g_value_set_enum (value, s->on_error);
      break;
    default:
      break;
  }
  GST_OBJECT_UNLOCK (self->element);
  return TRUE;
}

/* subscribe with bus messages and timings */

typedef struct
{
  GstFalJob *job;
  gint64 submitted;
  gint64 started;
  guint logs_seen;
  gint last_position;           /* of the last queued message, -2 = none */
  gboolean in_progress_posted;
} SubscribeData;

static void
on_status (GstFalRequest * request, GstFalStatus * status, gpointer user_data)
{
  SubscribeData *data = user_data;
  GstFalJob *job = data->job;
  Job *priv = (Job *) job;
  GstFalDispatcher *self = job->dispatcher;
  GstStructure *s;
  GstFalStatusKind kind = gst_fal_status_get_kind (status);
  const gchar *rid = gst_fal_status_get_request_id (status);

  if (!rid && request)
    rid = gst_fal_request_get_request_id (request);
  if (rid && !job->request_id)
    job->request_id = g_strdup (rid);

  /* one message per change: a new position, new log lines */
  if (kind == GST_FAL_STATUS_QUEUED) {
    gint position = gst_fal_status_get_queue_position (status);

    if (position == data->last_position)
      return;
    data->last_position = position;
    s = request_structure (priv, "queued");
    gst_structure_set (s, "position", G_TYPE_INT, position, NULL);
    post_request_message (self, s);
    return;
  }
  if (!data->started)
    data->started = g_get_monotonic_time ();
  if (kind == GST_FAL_STATUS_IN_PROGRESS) {
    GPtrArray *logs = gst_fal_status_get_logs (status);
    GString *text = g_string_new (NULL);
    guint i;

    for (i = data->logs_seen; logs && i < logs->len; i++) {
      GstFalLog *log = g_ptr_array_index (logs, i);
      g_string_append_printf (text, "%s%s", text->len ? "\n" : "",
          log->message);
    }
    if (data->in_progress_posted && text->len == 0) {
      g_string_free (text, TRUE);
      return;
    }
    data->in_progress_posted = TRUE;
    if (logs && logs->len > data->logs_seen)
      data->logs_seen = logs->len;
    s = request_structure (priv, "in-progress");
    if (text->len > 0)
      gst_structure_set (s, "logs", G_TYPE_STRING, text->str, NULL);
    g_string_free (text, TRUE);
    post_request_message (self, s);
  } else if (kind == GST_FAL_STATUS_COMPLETED) {
    gdouble inference = gst_fal_status_get_inference_time (status);
    gint64 now = g_get_monotonic_time ();

    job->timings.queue =
        (GstClockTime) (data->started - data->submitted) * GST_USECOND;
    job->timings.run = inference >= 0 ?
        gst_util_gdouble_to_guint64 (inference * GST_SECOND) :
        (GstClockTime) (now - data->started) * GST_USECOND;
  }
}

JsonNode *
gst_fal_dispatcher_job_subscribe (GstFalJob * job, GstFalClient * client,
    const gchar * application, JsonNode * arguments, GstFalOptions * options,
    GError ** error)
{
  GstFalDispatcher *self = job->dispatcher;
  SubscribeData data = { job, g_get_monotonic_time (), 0, 0, -2, FALSE };
  g_autoptr (GstFalOptions) opts = NULL;
  g_autofree gchar *rid = NULL;
  GError *err = NULL;
  JsonNode *result;

  opts = options ? gst_fal_options_copy (options) : gst_fal_options_new ();
  if (gst_fal_options_get_timeout (opts) <= 0 && self->active.timeout > 0)
    gst_fal_options_set_timeout (opts, self->active.timeout);

  result = gst_fal_client_subscribe (client, application, arguments, opts,
      on_status, &data, job->cancellable, &err);
  if (!job->request_id && err)
    job->request_id = g_strdup (gst_fal_error_get_request_id (err));
  if (err) {
    g_propagate_error (error, err);
    return NULL;
  }
  /* the last status may not have been reported: measure from here */
  if (!GST_CLOCK_TIME_IS_VALID (job->timings.run)) {
    gint64 now = g_get_monotonic_time ();
    if (!data.started)
      data.started = now;
    job->timings.queue =
        (GstClockTime) (data.started - data.submitted) * GST_USECOND;
    job->timings.run = (GstClockTime) (now - data.started) * GST_USECOND;
  }
  return result;
}
