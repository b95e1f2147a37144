/* gst-fal: GstFalBatch, many requests to one application, N at a time
 *
 * Inputs wait in a queue (bounded by "max-queued" for push()); the run's
 * context starts them while fewer than "concurrency" are in flight, each as
 * one subscribe on the shared client, and delivers each result as it
 * completes or, with "ordered", in input order through a reorder window of
 * REORDER_WINDOW_PER_SLOT × concurrency items (no item starts further ahead
 * of the next one to deliver). So memory stays bounded whatever the number
 * of inputs.
 *
 * Threads: the queue, its counters and the summary are under @lock; every
 * other field of the run is touched only in the run's context.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalbatch.h"
#include "gstfalbatchpolicy-private.h"
#include "gstfalclient-private.h"

#define DEFAULT_CONCURRENCY 4
#define DEFAULT_MAX_RETRIES -1
#define DEFAULT_ITEM_TIMEOUT 0.0
#define DEFAULT_ORDERED FALSE
#define DEFAULT_MAX_QUEUED 0
#define REORDER_WINDOW_PER_SLOT 4

typedef struct
{
  guint64 index;
  /* > 0: a run of this many inputs skipped, from @index */
  guint64 skipped;
  JsonNode *arguments;
  JsonNode *result;
  gchar *request_id;
  GError *error;
  guint attempt;
  gint64 deadline;              /* monotonic, 0 = none */
  GSource *retry_timer;
  GstFalBatch *batch;
} Item;

typedef struct
{
  GTask *task;
  JsonNode *arguments;
} PushWaiter;

struct _GstFalBatch
{
  GObject parent;

  GstFalClient *client;
  gchar *application;
  GstFalOptions *options;
  guint concurrency;
  gint max_retries;
  gdouble item_timeout;
  gboolean ordered;
  guint max_queued;

  GMutex lock;
  GCond space;
  GQueue queue;                 /* Item *, in index order */
  GQueue push_waiters;          /* PushWaiter *, of push_async */
  guint64 next_index;
  guint64 total_skipped;
  gboolean closed;
  gboolean started;
  GError *stopped;              /* why inputs are refused: the run ended */
  gboolean pump_pending;
  guint64 succeeded;
  guint64 failed;
  guint max_in_flight;
  GHashTable *causes;           /* gchar * → guint64 count (in a pointer) */

  /* the run's context only */
  GMainContext *context;
  GTask *run_task;
  GCancellable *cancellable;
  gulong cancelled_id;
  gboolean cancelling;
  guint in_flight;
  guint max_retries_used;
  gdouble retry_base_delay;
  gdouble retry_max_delay;
  GHashTable *active;           /* Item * set: started, not finished */
  GHashTable *finished;         /* ordered: index → Item, not delivered yet */
  guint64 deliver_next;
};

enum
{
  PROP_0,
  PROP_CLIENT,
  PROP_APPLICATION,
  PROP_OPTIONS,
  PROP_CONCURRENCY,
  PROP_MAX_RETRIES,
  PROP_ITEM_TIMEOUT,
  PROP_ORDERED,
  PROP_MAX_QUEUED,
  N_PROPERTIES
};

enum
{
  SIGNAL_ITEM_DONE,
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPERTIES];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GstFalBatch, gst_fal_batch, G_TYPE_OBJECT);

static void pump (GstFalBatch * batch);
static gboolean pump_idle (gpointer batch);
static void start_attempt (Item * item);

static Item *
item_new (GstFalBatch * batch, JsonNode * arguments)
{
  Item *item = g_new0 (Item, 1);

  item->batch = batch;
  item->arguments = arguments ? json_node_ref (arguments) : NULL;
  return item;
}

static void
item_free (Item * item)
{
  if (item->retry_timer) {
    g_source_destroy (item->retry_timer);
    g_source_unref (item->retry_timer);
  }
  g_clear_pointer (&item->arguments, json_node_unref);
  g_clear_pointer (&item->result, json_node_unref);
  g_clear_pointer (&item->request_id, g_free);
  g_clear_error (&item->error);
  g_free (item);
}

static void
gst_fal_batch_init (GstFalBatch * batch)
{
  g_mutex_init (&batch->lock);
  g_cond_init (&batch->space);
  g_queue_init (&batch->queue);
  g_queue_init (&batch->push_waiters);
  batch->concurrency = DEFAULT_CONCURRENCY;
  batch->max_retries = DEFAULT_MAX_RETRIES;
  batch->item_timeout = DEFAULT_ITEM_TIMEOUT;
  batch->ordered = DEFAULT_ORDERED;
  batch->max_queued = DEFAULT_MAX_QUEUED;
  batch->causes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  batch->active = g_hash_table_new (NULL, NULL);
  batch->finished = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
      (GDestroyNotify) item_free);
}

static void
push_waiter_fail (PushWaiter * waiter, const GError * error)
{
  g_task_return_error (waiter->task, g_error_copy (error));
  g_object_unref (waiter->task);
  g_clear_pointer (&waiter->arguments, json_node_unref);
  g_free (waiter);
}

static void
gst_fal_batch_finalize (GObject * object)
{
  GstFalBatch *batch = GST_FAL_BATCH (object);

  g_queue_clear_full (&batch->queue, (GDestroyNotify) item_free);
  g_hash_table_unref (batch->finished);
  g_hash_table_unref (batch->active);
  g_hash_table_unref (batch->causes);
  g_clear_error (&batch->stopped);
  g_clear_pointer (&batch->context, g_main_context_unref);
  g_clear_object (&batch->client);
  g_free (batch->application);
  g_clear_pointer (&batch->options, gst_fal_options_unref);
  g_mutex_clear (&batch->lock);
  g_cond_clear (&batch->space);
  G_OBJECT_CLASS (gst_fal_batch_parent_class)->finalize (object);
}

static void
gst_fal_batch_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFalBatch *batch = GST_FAL_BATCH (object);

  g_mutex_lock (&batch->lock);
  if (batch->started && prop_id >= PROP_CONCURRENCY) {
    g_mutex_unlock (&batch->lock);
    g_warning ("GstFalBatch: %s cannot change once the batch runs",
        pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_CLIENT:
      batch->client = g_value_dup_object (value);
      break;
    case PROP_APPLICATION:
      batch->application = g_value_dup_string (value);
      break;
    case PROP_OPTIONS:
      batch->options = g_value_dup_boxed (value);
      break;
    case PROP_CONCURRENCY:
      batch->concurrency = g_value_get_uint (value);
      break;
    case PROP_MAX_RETRIES:
      batch->max_retries = g_value_get_int (value);
      break;
    case PROP_ITEM_TIMEOUT:
      batch->item_timeout = g_value_get_double (value);
      break;
    case PROP_ORDERED:
      batch->ordered = g_value_get_boolean (value);
      break;
    case PROP_MAX_QUEUED:
      batch->max_queued = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&batch->lock);
}

static void
gst_fal_batch_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFalBatch *batch = GST_FAL_BATCH (object);

  g_mutex_lock (&batch->lock);
  switch (prop_id) {
    case PROP_CLIENT:
      g_value_set_object (value, batch->client);
      break;
    case PROP_APPLICATION:
      g_value_set_string (value, batch->application);
      break;
    case PROP_OPTIONS:
      g_value_set_boxed (value, batch->options);
      break;
    case PROP_CONCURRENCY:
      g_value_set_uint (value, batch->concurrency);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_int (value, batch->max_retries);
      break;
    case PROP_ITEM_TIMEOUT:
      g_value_set_double (value, batch->item_timeout);
      break;
    case PROP_ORDERED:
      g_value_set_boolean (value, batch->ordered);
      break;
    case PROP_MAX_QUEUED:
      g_value_set_uint (value, batch->max_queued);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&batch->lock);
}

static void
gst_fal_batch_class_init (GstFalBatchClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = gst_fal_batch_finalize;
  object_class->set_property = gst_fal_batch_set_property;
  object_class->get_property = gst_fal_batch_get_property;

  properties[PROP_CLIENT] = g_param_spec_object ("client", "Client",
      "The client whose connections, retry policy and timeouts the requests "
      "use", GST_FAL_TYPE_CLIENT, flags | G_PARAM_CONSTRUCT_ONLY);
  properties[PROP_APPLICATION] = g_param_spec_string ("application",
      "Application", "Endpoint id of every request", NULL,
      flags | G_PARAM_CONSTRUCT_ONLY);
  properties[PROP_OPTIONS] = g_param_spec_boxed ("options", "Options",
      "Options of every request (NULL = the defaults)", GST_FAL_TYPE_OPTIONS,
      flags | G_PARAM_CONSTRUCT_ONLY);
  properties[PROP_CONCURRENCY] = g_param_spec_uint ("concurrency",
      "Concurrency", "Requests in flight at most", 1, 100000,
      DEFAULT_CONCURRENCY, flags);
  properties[PROP_MAX_RETRIES] = g_param_spec_int ("max-retries",
      "Max retries", "Times an item that failed for a transient cause "
      "(connection, 429, 5xx) is submitted again (-1 = the client's "
      "max-retries)", -1, G_MAXINT, DEFAULT_MAX_RETRIES, flags);
  properties[PROP_ITEM_TIMEOUT] = g_param_spec_double ("item-timeout",
      "Item timeout", "Deadline of each item in seconds, its retries "
      "included (0 = the options' timeout, else the client's)", 0,
      G_MAXDOUBLE, DEFAULT_ITEM_TIMEOUT, flags);
  properties[PROP_ORDERED] = g_param_spec_boolean ("ordered", "Ordered",
      "Deliver the items in input order", DEFAULT_ORDERED, flags);
  properties[PROP_MAX_QUEUED] = g_param_spec_uint ("max-queued",
      "Max queued", "Inputs waiting to start beyond which "
      "gst_fal_batch_push() waits (0 = concurrency)", 0, G_MAXUINT,
      DEFAULT_MAX_QUEUED, flags);
  g_object_class_install_properties (object_class, N_PROPERTIES, properties);

  /**
   * GstFalBatch::item-done:
   * @batch: the batch
   * @index: the item's index, from 0 in input order
   * @request_id: (nullable): the id of its request, when it got one
   * @result: (nullable): the result, %NULL on failure
   * @error: (nullable): why it failed, %NULL on success
   *
   * Emitted once per item (never for skipped ones), in the run's context,
   * as it completes, or in input order when #GstFalBatch:ordered is set.
   */
  signals[SIGNAL_ITEM_DONE] = g_signal_new ("item-done",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 4, G_TYPE_UINT64, G_TYPE_STRING,
      JSON_TYPE_NODE | G_SIGNAL_TYPE_STATIC_SCOPE,
      G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * GstFalBatch::progress:
   * @batch: the batch
   * @done: items done (succeeded + failed)
   * @succeeded: items that succeeded
   * @failed: items that failed
   * @in_flight: requests in flight (or waiting to be retried)
   * @total: the number of items, -1 until gst_fal_batch_close()
   *
   * Emitted in the run's context after each item is done.
   */
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 5, G_TYPE_UINT64, G_TYPE_UINT64, G_TYPE_UINT64,
      G_TYPE_UINT, G_TYPE_INT64);
}

/**
 * gst_fal_batch_new:
 * @client: the client the requests go through
 * @application: the endpoint id
 * @options: (nullable): options of every request
 *
 * Returns: (transfer full): a new batch, with no inputs yet
 */
GstFalBatch *
gst_fal_batch_new (GstFalClient * client, const gchar * application,
    GstFalOptions * options)
{
  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  g_return_val_if_fail (application != NULL, NULL);
  return g_object_new (GST_FAL_TYPE_BATCH, "client", client, "application",
      application, "options", options, NULL);
}

/* Lock held. Runs pump() in the run's context soon. */
static void
schedule_pump_locked (GstFalBatch * batch)
{
  if (!batch->context || batch->pump_pending || batch->stopped)
    return;
  batch->pump_pending = TRUE;
  gst_fal_idle_add (batch->context, pump_idle, g_object_ref (batch),
      g_object_unref);
}

static guint
queue_bound (GstFalBatch * batch)
{
  return batch->max_queued ? batch->max_queued : batch->concurrency;
}

/* Lock held. */
static guint64
enqueue_locked (GstFalBatch * batch, Item * item)
{
  item->index = batch->next_index++;
  g_queue_push_tail (&batch->queue, item);
  schedule_pump_locked (batch);
  return item->index;
}

static gboolean
refuse_locked (GstFalBatch * batch, GError ** error)
{
  if (batch->stopped) {
    g_propagate_error (error, g_error_copy (batch->stopped));
    return TRUE;
  }
  if (batch->closed) {
    g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
        "%s: the batch is closed: no more inputs", batch->application);
    return TRUE;
  }
  return FALSE;
}

/**
 * gst_fal_batch_add:
 * @batch: a batch
 * @arguments: (nullable): the input of one request, %NULL for `{}`
 *
 * Adds an input without waiting, whatever #GstFalBatch:max-queued; for
 * inputs given up front. Adding to a closed batch is a programming error.
 *
 * Returns: the input's index
 */
guint64
gst_fal_batch_add (GstFalBatch * batch, JsonNode * arguments)
{
  guint64 index;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), 0);
  g_mutex_lock (&batch->lock);
  if (batch->closed) {
    g_mutex_unlock (&batch->lock);
    g_critical ("gst_fal_batch_add: the batch is closed");
    return 0;
  }
  index = enqueue_locked (batch, item_new (batch, arguments));
  g_mutex_unlock (&batch->lock);
  return index;
}

/**
 * gst_fal_batch_add_failed:
 * @batch: a batch
 * @error: why the input could not be read
 *
 * Adds an input that could not be read: it takes the next index and is
 * delivered as failed with a copy of @error, as other failures are.
 */
void
gst_fal_batch_add_failed (GstFalBatch * batch, const GError * error)
{
  Item *item;

  g_return_if_fail (GST_FAL_IS_BATCH (batch));
  g_return_if_fail (error != NULL);
  item = item_new (batch, NULL);
  item->error = g_error_copy (error);
  g_mutex_lock (&batch->lock);
  if (!batch->closed)
    enqueue_locked (batch, item);
  else
    item_free (item);
  g_mutex_unlock (&batch->lock);
}

/**
 * gst_fal_batch_add_skipped:
 * @batch: a batch
 *
 * Adds an input done before (e.g. by a run that was stopped): it takes the
 * next index, is neither run nor delivered, and is not counted. Consecutive
 * skipped inputs take no memory each.
 */
void
gst_fal_batch_add_skipped (GstFalBatch * batch)
{
  Item *tail;

  g_return_if_fail (GST_FAL_IS_BATCH (batch));
  g_mutex_lock (&batch->lock);
  if (!batch->closed) {
    tail = g_queue_peek_tail (&batch->queue);
    if (tail && tail->skipped && tail->index + tail->skipped ==
        batch->next_index) {
      tail->skipped++;
      batch->next_index++;
    } else {
      Item *item = item_new (batch, NULL);

      item->skipped = 1;
      enqueue_locked (batch, item);
    }
    batch->total_skipped++;
  }
  g_mutex_unlock (&batch->lock);
}

static void
wake_push_cancelled (GCancellable * cancellable, GstFalBatch * batch)
{
  g_mutex_lock (&batch->lock);
  g_cond_broadcast (&batch->space);
  g_mutex_unlock (&batch->lock);
}

/**
 * gst_fal_batch_push:
 * @batch: a batch
 * @arguments: (nullable): the input of one request, %NULL for `{}`
 * @cancellable: (nullable): stops waiting
 * @error: return location for a #GError
 *
 * Adds an input, first waiting while #GstFalBatch:max-queued inputs wait
 * to start: a producer feeding a batch from its own thread never holds more
 * than that many inputs in memory. Never call it from the run's thread
 * (use gst_fal_batch_push_async() there).
 *
 * Returns: %TRUE once queued; %FALSE when cancelled (%GST_FAL_ERROR_CANCELLED),
 *   closed or the run is over
 */
gboolean
gst_fal_batch_push (GstFalBatch * batch, JsonNode * arguments,
    GCancellable * cancellable, GError ** error)
{
  gulong handler = 0;
  gboolean queued = FALSE;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), FALSE);
  if (cancellable)
    handler = g_cancellable_connect (cancellable,
        G_CALLBACK (wake_push_cancelled), batch, NULL);
  g_mutex_lock (&batch->lock);
  while (!refuse_locked (batch, error)) {
    if (g_cancellable_is_cancelled (cancellable)) {
      g_set_error (error, GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED,
          "%s: cancelled", batch->application);
      break;
    }
    if (batch->queue.length < queue_bound (batch)) {
      enqueue_locked (batch, item_new (batch, arguments));
      queued = TRUE;
      break;
    }
    g_cond_wait (&batch->space, &batch->lock);
  }
  g_mutex_unlock (&batch->lock);
  if (handler)
    g_cancellable_disconnect (cancellable, handler);
  return queued;
}

/* Lock held: queues the inputs of push_async calls while there is room;
 * returns their tasks, to complete without the lock. */
static GSList *
admit_waiters_locked (GstFalBatch * batch)
{
  GSList *admitted = NULL;
  PushWaiter *waiter;

  while (batch->queue.length < queue_bound (batch)
      && (waiter = g_queue_pop_head (&batch->push_waiters))) {
    enqueue_locked (batch, item_new (batch, waiter->arguments));
    g_clear_pointer (&waiter->arguments, json_node_unref);
    admitted = g_slist_prepend (admitted, waiter->task);
    g_free (waiter);
  }
  return g_slist_reverse (admitted);
}

static void
complete_admitted (GSList * admitted)
{
  GSList *l;

  for (l = admitted; l; l = l->next) {
    g_task_return_boolean (l->data, TRUE);
    g_object_unref (l->data);
  }
  g_slist_free (admitted);
}

/**
 * gst_fal_batch_push_async:
 * @batch: a batch
 * @arguments: (nullable): the input of one request, %NULL for `{}`
 * @cancellable: (nullable): when already cancelled, the push fails at once
 * @callback: called once the input is queued (or refused)
 * @user_data: data of @callback
 *
 * gst_fal_batch_push() for a producer in a main loop, the run's included:
 * @callback runs once the input is queued. Push the next input from it.
 * A push still waiting when the run ends (or is cancelled) fails with the
 * reason.
 */
void
gst_fal_batch_push_async (GstFalBatch * batch, JsonNode * arguments,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  GTask *task;
  GError *error = NULL;
  GSList *admitted;
  PushWaiter *waiter;

  g_return_if_fail (GST_FAL_IS_BATCH (batch));
  task = g_task_new (batch, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_batch_push_async);
  g_task_set_check_cancellable (task, FALSE);
  g_mutex_lock (&batch->lock);
  if (!refuse_locked (batch, &error)
      && g_cancellable_is_cancelled (cancellable))
    error = g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED,
        "%s: cancelled", batch->application);
  if (error) {
    g_mutex_unlock (&batch->lock);
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  waiter = g_new0 (PushWaiter, 1);
  waiter->task = task;
  waiter->arguments = arguments ? json_node_ref (arguments) : NULL;
  g_queue_push_tail (&batch->push_waiters, waiter);
  admitted = admit_waiters_locked (batch);
  g_mutex_unlock (&batch->lock);
  complete_admitted (admitted);
}

/**
 * gst_fal_batch_push_finish:
 * @batch: a batch
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the input was queued
 */
gboolean
gst_fal_batch_push_finish (GstFalBatch * batch, GAsyncResult * result,
    GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, batch), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * gst_fal_batch_close:
 * @batch: a batch
 *
 * Says there are no more inputs: the run ends once every input is
 * delivered, and the total becomes known.
 */
void
gst_fal_batch_close (GstFalBatch * batch)
{
  g_return_if_fail (GST_FAL_IS_BATCH (batch));
  g_mutex_lock (&batch->lock);
  batch->closed = TRUE;
  g_cond_broadcast (&batch->space);
  schedule_pump_locked (batch);
  g_mutex_unlock (&batch->lock);
}

static gint64
total_locked (GstFalBatch * batch)
{
  if (!batch->closed || batch->push_waiters.length > 0)
    return -1;
  return batch->next_index - batch->total_skipped;
}

static void
emit_progress (GstFalBatch * batch)
{
  guint64 succeeded, failed;
  gint64 total;

  g_mutex_lock (&batch->lock);
  succeeded = batch->succeeded;
  failed = batch->failed;
  total = total_locked (batch);
  g_mutex_unlock (&batch->lock);
  g_signal_emit (batch, signals[SIGNAL_PROGRESS], 0, succeeded + failed,
      succeeded, failed, batch->in_flight, total);
}

static void
deliver (GstFalBatch * batch, Item * item)
{
  if (!item->skipped)
    g_signal_emit (batch, signals[SIGNAL_ITEM_DONE], 0, item->index,
        item->request_id, item->result, item->error);
}

static void
count (GstFalBatch * batch, Item * item)
{
  g_mutex_lock (&batch->lock);
  if (item->error) {
    g_autofree gchar *cause = gst_fal_batch_error_cause (item->error);
    gpointer n = g_hash_table_lookup (batch->causes, cause);

    batch->failed++;
    g_hash_table_replace (batch->causes, g_steal_pointer (&cause),
        GSIZE_TO_POINTER (GPOINTER_TO_SIZE (n) + 1));
  } else {
    batch->succeeded++;
  }
  g_mutex_unlock (&batch->lock);
}

/* The item is done: counted, then delivered now or once its turn comes. */
static void
finish_item (GstFalBatch * batch, Item * item)
{
  Item *next;
  gboolean skipped = item->skipped > 0;

  if (!skipped)
    count (batch, item);
  if (!batch->ordered) {
    deliver (batch, item);
    item_free (item);
  } else {
    g_hash_table_insert (batch->finished, &item->index, item);
    while ((next = g_hash_table_lookup (batch->finished, &batch->deliver_next))) {
      g_hash_table_steal (batch->finished, &batch->deliver_next);
      batch->deliver_next += next->skipped ? next->skipped : 1;
      deliver (batch, next);
      item_free (next);
    }
  }
  if (!skipped)
    emit_progress (batch);
}

static void
run_complete (GstFalBatch * batch, GError * error)
{
  GTask *task = g_steal_pointer (&batch->run_task);
  GQueue waiters = G_QUEUE_INIT;
  PushWaiter *waiter;

  g_mutex_lock (&batch->lock);
  batch->stopped = error ? g_error_copy (error) :
      g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT,
      "%s: the batch is over", batch->application);
  waiters = batch->push_waiters;
  g_queue_init (&batch->push_waiters);
  g_cond_broadcast (&batch->space);
  g_mutex_unlock (&batch->lock);
  while ((waiter = g_queue_pop_head (&waiters)))
    push_waiter_fail (waiter, batch->stopped);

  if (batch->cancelled_id)
    g_cancellable_disconnect (batch->cancellable, batch->cancelled_id);
  batch->cancelled_id = 0;
  g_clear_object (&batch->cancellable);
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Ends the run when nothing is left to do. */
static void
check_done (GstFalBatch * batch)
{
  gboolean drained;

  if (!batch->run_task || batch->in_flight > 0)
    return;
  if (batch->cancelling) {
    run_complete (batch, g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED,
            "%s: the batch was cancelled", batch->application));
    return;
  }
  g_mutex_lock (&batch->lock);
  drained = batch->closed && batch->queue.length == 0
      && batch->push_waiters.length == 0;
  g_mutex_unlock (&batch->lock);
  if (drained && g_hash_table_size (batch->finished) == 0)
    run_complete (batch, NULL);
}

static void
item_failed (Item * item, GError * error)
{
  GstFalBatch *batch = item->batch;

  g_clear_error (&item->error);
  item->error = error;
  g_hash_table_remove (batch->active, item);
  batch->in_flight--;
  finish_item (batch, item);
}

static gboolean
on_retry_timer (gpointer data)
{
  Item *item = data;

  GstFalBatch *batch = g_object_ref (item->batch);

  g_clear_pointer (&item->retry_timer, g_source_unref);
  start_attempt (item);
  pump (batch);
  g_object_unref (batch);
  return G_SOURCE_REMOVE;
}

/* Seconds left before the item's deadline; G_MAXDOUBLE with none. */
static gdouble
time_left (Item * item)
{
  if (!item->deadline)
    return G_MAXDOUBLE;
  return (item->deadline - g_get_monotonic_time ()) / (gdouble)
      G_USEC_PER_SEC;
}

static gboolean
retry_later (Item * item, const GError * error)
{
  GstFalBatch *batch = item->batch;
  gdouble delay;

  if (batch->cancelling || item->attempt > batch->max_retries_used
      || !gst_fal_batch_error_is_worth_retrying (error))
    return FALSE;
  delay = gst_fal_batch_retry_delay (item->attempt, batch->retry_base_delay,
      batch->retry_max_delay);
  if (delay >= time_left (item))
    return FALSE;
  g_debug ("%s: item %" G_GUINT64_FORMAT ": %s, retry %u/%u in %.3f s",
      batch->application, item->index, error->message, item->attempt,
      batch->max_retries_used, delay);
  item->retry_timer = g_timeout_source_new ((guint) (delay * 1000));
  g_source_set_callback (item->retry_timer, on_retry_timer, item, NULL);
  g_source_attach (item->retry_timer, batch->context);
  return TRUE;
}

static void
on_item_done (GObject * source, GAsyncResult * res, gpointer data)
{
  Item *item = data;
  g_autoptr (GstFalBatch) batch = g_object_ref (item->batch);
  GError *error = NULL;

  g_clear_pointer (&item->request_id, g_free);
  item->result = gst_fal_client_subscribe_finish (GST_FAL_CLIENT (source),
      res, &item->request_id, &error);
  if (error && retry_later (item, error)) {
    g_error_free (error);
    return;
  }
  if (error && batch->cancelling) {
    /* stopped, not done: never delivered (a resumed batch runs it again) */
    g_error_free (error);
    g_hash_table_remove (batch->active, item);
    batch->in_flight--;
    item_free (item);
  } else if (error) {
    item_failed (item, error);
  } else {
    g_clear_pointer (&item->arguments, json_node_unref);
    g_hash_table_remove (batch->active, item);
    batch->in_flight--;
    finish_item (batch, item);
  }
  pump (batch);
}

static void
start_attempt (Item * item)
{
  GstFalBatch *batch = item->batch;
  g_autoptr (GstFalOptions) options = batch->options ?
      gst_fal_options_copy (batch->options) : gst_fal_options_new ();
  gdouble left = time_left (item);

  item->attempt++;
  if (left <= 0) {
    item_failed (item, g_error_new (GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT,
            "%s: item %" G_GUINT64_FORMAT ": no result within %g s",
            batch->application, item->index, batch->item_timeout));
    return;
  }
  if (item->deadline)
    gst_fal_options_set_timeout (options, left);
  gst_fal_client_subscribe_async (batch->client, batch->application,
      item->arguments, options, NULL, NULL, NULL, batch->cancellable,
      on_item_done, item);
}

static void
start_item (GstFalBatch * batch, Item * item)
{
  if (item->skipped || item->error) {
    finish_item (batch, item);
    return;
  }
  batch->in_flight++;
  g_mutex_lock (&batch->lock);
  batch->max_in_flight = MAX (batch->max_in_flight, batch->in_flight);
  g_mutex_unlock (&batch->lock);
  if (batch->item_timeout > 0)
    item->deadline = g_get_monotonic_time () +
        (gint64) (batch->item_timeout * G_USEC_PER_SEC);
  g_hash_table_add (batch->active, item);
  start_attempt (item);
}

/* May this item start now? Lock held. */
static gboolean
may_start_locked (GstFalBatch * batch, Item * item)
{
  guint64 window = (guint64) batch->concurrency * REORDER_WINDOW_PER_SLOT;

  if (batch->ordered && item->index >= batch->deliver_next + window)
    return FALSE;
  return item->skipped || item->error || batch->in_flight < batch->concurrency;
}

/* Starts what may start, then ends the run if nothing is left. */
static void
pump (GstFalBatch * batch)
{
  Item *item;
  GSList *admitted;

  g_mutex_lock (&batch->lock);
  batch->pump_pending = FALSE;
  g_mutex_unlock (&batch->lock);

  while (batch->run_task && !batch->cancelling) {
    g_mutex_lock (&batch->lock);
    item = g_queue_peek_head (&batch->queue);
    if (!item || !may_start_locked (batch, item)) {
      g_mutex_unlock (&batch->lock);
      break;
    }
    g_queue_pop_head (&batch->queue);
    g_cond_broadcast (&batch->space);
    admitted = admit_waiters_locked (batch);
    g_mutex_unlock (&batch->lock);
    complete_admitted (admitted);
    start_item (batch, item);
  }
  check_done (batch);
}

static gboolean
pump_idle (gpointer batch)
{
  pump (batch);
  return G_SOURCE_REMOVE;
}

static void
stop_retry_wait (gpointer key, gpointer value, gpointer data)
{
  Item *item = key;
  GSList **waiting = data;

  if (item->retry_timer)
    *waiting = g_slist_prepend (*waiting, item);
}

/* In the run's context: stop submitting, drop what waits, and let the
 * requests in flight end (subscribe cancels them on the server). */
static gboolean
cancel_in_context (gpointer data)
{
  GstFalBatch *batch = data;
  GSList *waiting = NULL, *l;
  GQueue dropped;

  if (!batch->run_task || batch->cancelling)
    return G_SOURCE_REMOVE;
  batch->cancelling = TRUE;
  g_mutex_lock (&batch->lock);
  dropped = batch->queue;
  g_queue_init (&batch->queue);
  g_mutex_unlock (&batch->lock);
  g_queue_clear_full (&dropped, (GDestroyNotify) item_free);
  g_hash_table_remove_all (batch->finished);

  g_hash_table_foreach (batch->active, stop_retry_wait, &waiting);
  for (l = waiting; l; l = l->next) {
    g_hash_table_remove (batch->active, l->data);
    batch->in_flight--;
    item_free (l->data);
  }
  g_slist_free (waiting);
  check_done (batch);
  return G_SOURCE_REMOVE;
}

static void
on_run_cancelled (GCancellable * cancellable, GstFalBatch * batch)
{
  gst_fal_idle_add (batch->context, cancel_in_context,
      g_object_ref (batch), g_object_unref);
}

/**
 * gst_fal_batch_run_async:
 * @batch: a batch
 * @cancellable: (nullable): cancels the batch as a whole
 * @callback: called in the caller's thread-default context when the run ends
 * @user_data: data of @callback
 *
 * Runs the batch: starts its inputs while fewer than
 * #GstFalBatch:concurrency are in flight, retries the failures worth it,
 * and emits #GstFalBatch::item-done and #GstFalBatch::progress in the
 * caller's thread-default context. The run ends once the batch is closed
 * and every input delivered; a batch runs once.
 *
 * Cancelling @cancellable stops submitting, cancels the requests in flight
 * on the server and waits for their answers; the items not done by then
 * are not delivered.
 */
void
gst_fal_batch_run_async (GstFalBatch * batch, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  GstFalClientSettings settings;

  g_return_if_fail (GST_FAL_IS_BATCH (batch));
  task = g_task_new (batch, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_batch_run_async);
  /* a cancelled run fails with GST_FAL_ERROR_CANCELLED, once its requests
   * are cancelled on the server */
  g_task_set_check_cancellable (task, FALSE);
  g_mutex_lock (&batch->lock);
  if (batch->started || !batch->client || !batch->application) {
    g_mutex_unlock (&batch->lock);
    g_task_return_new_error (task, GST_FAL_ERROR,
        GST_FAL_ERROR_INVALID_ARGUMENT, "%s",
        batch->started ? "the batch ran already" :
        "a batch needs a client and an application");
    g_object_unref (task);
    return;
  }
  batch->started = TRUE;
  batch->context = g_main_context_ref_thread_default ();
  g_mutex_unlock (&batch->lock);

  gst_fal_client_get_settings (batch->client, &settings);
  batch->max_retries_used = batch->max_retries >= 0 ?
      (guint) batch->max_retries : settings.max_retries;
  batch->retry_base_delay = settings.retry_base_delay;
  batch->retry_max_delay = settings.retry_max_delay;
  batch->run_task = task;
  batch->cancellable = cancellable ? g_object_ref (cancellable) :
      g_cancellable_new ();
  batch->cancelled_id = g_cancellable_connect (batch->cancellable,
      G_CALLBACK (on_run_cancelled), batch, NULL);

  g_mutex_lock (&batch->lock);
  schedule_pump_locked (batch);
  g_mutex_unlock (&batch->lock);
}

/**
 * gst_fal_batch_run_finish:
 * @batch: a batch
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE when every input was delivered (failed items included);
 *   %FALSE when cancelled (%GST_FAL_ERROR_CANCELLED)
 */
gboolean
gst_fal_batch_run_finish (GstFalBatch * batch, GAsyncResult * result,
    GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, batch), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
start_run (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  gst_fal_batch_run_async (data, cancellable, callback, user_data);
}

/**
 * gst_fal_batch_run:
 * @batch: a batch
 * @cancellable: (nullable): cancels the batch as a whole
 * @error: return location for a #GError
 *
 * gst_fal_batch_run_async() on a private context: blocks until the run
 * ends, emitting the signals in the calling thread. Feed it from other
 * threads with gst_fal_batch_push(), or add every input and close first.
 *
 * Returns: as gst_fal_batch_run_finish()
 */
gboolean
gst_fal_batch_run (GstFalBatch * batch, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), FALSE);
  result = gst_fal_run_sync (start_run, batch, cancellable);
  return gst_fal_batch_run_finish (batch, result, error);
}

/**
 * gst_fal_batch_get_succeeded:
 * @batch: a batch
 *
 * Returns: the number of items that succeeded so far
 */
guint64
gst_fal_batch_get_succeeded (GstFalBatch * batch)
{
  guint64 n;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), 0);
  g_mutex_lock (&batch->lock);
  n = batch->succeeded;
  g_mutex_unlock (&batch->lock);
  return n;
}

/**
 * gst_fal_batch_get_failed:
 * @batch: a batch
 *
 * Returns: the number of items that failed so far
 */
guint64
gst_fal_batch_get_failed (GstFalBatch * batch)
{
  guint64 n;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), 0);
  g_mutex_lock (&batch->lock);
  n = batch->failed;
  g_mutex_unlock (&batch->lock);
  return n;
}

/**
 * gst_fal_batch_get_max_in_flight:
 * @batch: a batch
 *
 * Returns: the most requests that were in flight at once (never more than
 *   #GstFalBatch:concurrency)
 */
guint
gst_fal_batch_get_max_in_flight (GstFalBatch * batch)
{
  guint n;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), 0);
  g_mutex_lock (&batch->lock);
  n = batch->max_in_flight;
  g_mutex_unlock (&batch->lock);
  return n;
}

/**
 * gst_fal_batch_get_failure_causes:
 * @batch: a batch
 *
 * The causes the failures so far are grouped under (see
 * gst_fal_batch_error_cause()), most frequent first.
 *
 * Returns: (transfer full) (array zero-terminated=1): the causes
 */
gchar **
gst_fal_batch_get_failure_causes (GstFalBatch * batch)
{
  g_autoptr (GList) keys = NULL;
  GPtrArray *causes = g_ptr_array_new ();
  GList *l;
  guint i, j;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), NULL);
  g_mutex_lock (&batch->lock);
  keys = g_hash_table_get_keys (batch->causes);
  for (l = keys; l; l = l->next)
    g_ptr_array_add (causes, g_strdup (l->data));
  /* a few causes at most: insertion sort by count, then name */
  for (i = 1; i < causes->len; i++) {
    for (j = i; j > 0; j--) {
      gchar *a = causes->pdata[j - 1], *b = causes->pdata[j];
      gsize na = GPOINTER_TO_SIZE (g_hash_table_lookup (batch->causes, a));
      gsize nb = GPOINTER_TO_SIZE (g_hash_table_lookup (batch->causes, b));

      if (na > nb || (na == nb && g_strcmp0 (a, b) <= 0))
        break;
      causes->pdata[j - 1] = b;
      causes->pdata[j] = a;
    }
  }
  g_mutex_unlock (&batch->lock);
  g_ptr_array_add (causes, NULL);
  return (gchar **) g_ptr_array_free (causes, FALSE);
}

/**
 * gst_fal_batch_get_failure_count:
 * @batch: a batch
 * @cause: a cause of gst_fal_batch_get_failure_causes()
 *
 * Returns: how many items failed for @cause so far
 */
guint64
gst_fal_batch_get_failure_count (GstFalBatch * batch, const gchar * cause)
{
  gsize n;

  g_return_val_if_fail (GST_FAL_IS_BATCH (batch), 0);
  g_mutex_lock (&batch->lock);
  n = GPOINTER_TO_SIZE (g_hash_table_lookup (batch->causes, cause));
  g_mutex_unlock (&batch->lock);
  return n;
}
