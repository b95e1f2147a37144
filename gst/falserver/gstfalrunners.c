/* gst-fal server: the runners of the apps and the requests waiting for them
 *
 * One lock guards every pool; each pool has its own condition, which its
 * idle runners wait on. A runner is a thread: it sets its app up (starting),
 * then takes its pool's requests one at a time (busy) and waits for the next
 * (idle), until its pool closes, it is retired (idle above the minimum for
 * keep_alive seconds, or making room for another app) or a run leaves it in
 * a bad state; then it tears its app down and another one may take its
 * place.
 */
#include <stdlib.h>
#include <string.h>
#include "gstfalrunners-private.h"

typedef enum
{
  RUNNER_STARTING,
  RUNNER_IDLE,
  RUNNER_BUSY,
} RunnerState;

static const gchar *const state_names[] = { "starting", "idle", "busy" };

typedef struct _Pool Pool;

typedef struct
{
  Pool *pool;
  gchar *id;
  GThread *thread;
  RunnerState state;
  guint64 served;
  gint64 started_at;            /* real time, µs */
  gboolean retire;
} Runner;

struct _Pool
{
  GstFalRunners *runners;
  const GstFalAppInfo *app;
  GstFalAppScaling scaling;
  GQueue normal, low;
  GList *members;               /* (element-type Runner) */
  guint n_idle, n_starting;
  guint reserved;               /* runners a pipeline's elements asked for */
  gboolean setup_failed;        /* the minimum is not kept until one works */
  GCond cond;
};

/* A knob set on the command line: for one app or "*". */
typedef struct
{
  gint min_concurrency, max_concurrency;        /* -1: not set */
  gdouble keep_alive;           /* < 0: not set */
} Knobs;

struct _GstFalRunners
{
  GMutex lock;
  GCond ended;                  /* a runner ended */
  GHashTable *pools;            /* GstFalAppInfo * → Pool */
  GHashTable *knobs;            /* app name or "*" → Knobs */
  guint max_runners, reserved;
  guint n_runners, n_retiring, n_waiting;
  GList *finished;              /* (element-type GThread) to join */
  gboolean closed;
  GstFalAppScaling defaults;
  GstFalRunnersServe serve;
  GstFalRunnersRefuse refuse;
  gpointer user_data;
};

static gpointer runner_main (gpointer data);

GstFalRunners *
gst_fal_runners_new (guint max_runners, const GstFalAppScaling * defaults,
    GstFalRunnersServe serve, GstFalRunnersRefuse refuse, gpointer user_data)
{
  GstFalRunners *runners = g_new0 (GstFalRunners, 1);

  g_mutex_init (&runners->lock);
  g_cond_init (&runners->ended);
  runners->pools = g_hash_table_new (NULL, NULL);
  runners->knobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  runners->max_runners = MAX (max_runners, 1);
  runners->defaults = *defaults;
  runners->serve = serve;
  runners->refuse = refuse;
  runners->user_data = user_data;
  return runners;
}

static void
join_finished (GstFalRunners * runners)
{
  GList *finished;

  g_mutex_lock (&runners->lock);
  finished = g_steal_pointer (&runners->finished);
  g_mutex_unlock (&runners->lock);
  while (finished) {
    g_thread_join (finished->data);
    finished = g_list_delete_link (finished, finished);
  }
}

static void
pool_free (Pool * pool)
{
  g_assert (pool->members == NULL);
  g_queue_clear_full (&pool->normal,
      (GDestroyNotify) gst_fal_server_request_unref);
  g_queue_clear_full (&pool->low,
      (GDestroyNotify) gst_fal_server_request_unref);
  g_cond_clear (&pool->cond);
  g_free (pool);
}

void
gst_fal_runners_join (GstFalRunners * runners)
{
  g_mutex_lock (&runners->lock);
  while (runners->n_runners > 0)
    g_cond_wait (&runners->ended, &runners->lock);
  g_mutex_unlock (&runners->lock);
  join_finished (runners);
}

void
gst_fal_runners_free (GstFalRunners * runners)
{
  GHashTableIter iter;
  gpointer pool;

  if (runners == NULL)
    return;
  g_list_free_full (gst_fal_runners_close (runners),
      (GDestroyNotify) gst_fal_server_request_unref);
  gst_fal_runners_join (runners);

  g_hash_table_iter_init (&iter, runners->pools);
  while (g_hash_table_iter_next (&iter, NULL, &pool))
    pool_free (pool);
  g_hash_table_unref (runners->pools);
  g_hash_table_unref (runners->knobs);
  g_cond_clear (&runners->ended);
  g_mutex_clear (&runners->lock);
  g_free (runners);
}

/* ---- the knobs ---- */

static Knobs *
knobs_for (GstFalRunners * runners, const gchar * app)
{
  Knobs *knobs = g_hash_table_lookup (runners->knobs, app);

  if (knobs == NULL) {
    knobs = g_new (Knobs, 1);
    knobs->min_concurrency = knobs->max_concurrency = -1;
    knobs->keep_alive = -1;
    g_hash_table_insert (runners->knobs, g_strdup (app), knobs);
  }
  return knobs;
}

gboolean
gst_fal_runners_parse_knob (GstFalRunners * runners, const gchar * knob,
    const gchar * app_value, GError ** error)
{
  const gchar *equal = strrchr (app_value, '=');
  g_autofree gchar *app = NULL;
  gchar *end = NULL;
  gdouble value;
  Knobs *knobs;

  if (equal == NULL || equal == app_value || equal[1] == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s: \"%s\" is not APP=VALUE (APP may be *)", knob, app_value);
    return FALSE;
  }
  value = g_ascii_strtod (equal + 1, &end);
  if (*end != '\0' || !(value >= 0) || value > G_MAXINT
      || (!g_str_equal (knob, "keep-alive") && value != (gint) value)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s: \"%s\" is not a %s", knob, equal + 1,
        g_str_equal (knob, "keep-alive") ? "number of seconds" :
        "number of runners");
    return FALSE;
  }
  app = g_strndup (app_value, equal - app_value);
  knobs = knobs_for (runners, app);
  if (g_str_equal (knob, "min-concurrency"))
    knobs->min_concurrency = (gint) value;
  else if (g_str_equal (knob, "max-concurrency") && value >= 1)
    knobs->max_concurrency = (gint) value;
  else if (g_str_equal (knob, "keep-alive"))
    knobs->keep_alive = value;
  else {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        g_str_equal (knob, "max-concurrency") ?
        "max-concurrency: %s must be at least 1" : "unknown knob %s",
        g_str_equal (knob, "max-concurrency") ? app_value : knob);
    return FALSE;
  }
  return TRUE;
}

/* The app's own command-line knob, else "*", else its declared scaling,
 * else the server's default. */
static GstFalAppScaling
resolve_scaling (GstFalRunners * runners, const GstFalAppInfo * app)
{
  Knobs *own = g_hash_table_lookup (runners->knobs, app->name);
  Knobs *all = g_hash_table_lookup (runners->knobs, "*");
  GstFalAppScaling s = app->scaling;

#define RESOLVE(field, unset) \
  if (own && own->field >= 0) s.field = own->field; \
  else if (all && all->field >= 0) s.field = all->field; \
  else if (s.field == unset) s.field = runners->defaults.field;
  RESOLVE (min_concurrency, 0);
  RESOLVE (max_concurrency, 0);
  RESOLVE (keep_alive, 0);
#undef RESOLVE
  if (s.max_concurrency > 0)
    s.min_concurrency = MIN (s.min_concurrency, s.max_concurrency);
  return s;
}

/* ---- the pools (lock held) ---- */

static Pool *
pool_get (GstFalRunners * runners, const GstFalAppInfo * app)
{
  Pool *pool = g_hash_table_lookup (runners->pools, app);

  if (pool == NULL) {
    pool = g_new0 (Pool, 1);
    pool->runners = runners;
    pool->app = app;
    pool->scaling = resolve_scaling (runners, app);
    g_queue_init (&pool->normal);
    g_queue_init (&pool->low);
    g_cond_init (&pool->cond);
    g_hash_table_insert (runners->pools, (gpointer) app, pool);
  }
  return pool;
}

/* max_concurrency (0: the server's bound), or what was reserved */
static guint
pool_max (Pool * pool)
{
  guint max = pool->scaling.max_concurrency;

  return MAX (max ? max : pool->runners->max_runners, pool->reserved);
}

static guint
pool_waiting (Pool * pool)
{
  return pool->normal.length + pool->low.length;
}

static void
spawn (Pool * pool)
{
  GstFalRunners *runners = pool->runners;
  Runner *runner = g_new0 (Runner, 1);

  runner->pool = pool;
  runner->id = g_uuid_string_random ();
  runner->state = RUNNER_STARTING;
  runner->started_at = g_get_real_time ();
  pool->members = g_list_append (pool->members, runner);
  pool->n_starting++;
  runners->n_runners++;
  runner->thread = g_thread_new ("fal-runner", runner_main, runner);
}

/* Retires an idle runner of another app above its minimum, to make room. */
static void
evict_for (GstFalRunners * runners, Pool * needy)
{
  GHashTableIter iter;
  gpointer value;

  if (runners->n_retiring > 0)
    return;                     /* room is being made already */
  g_hash_table_iter_init (&iter, runners->pools);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Pool *pool = value;
    GList *l;

    if (pool == needy || pool->n_idle == 0
        || g_list_length (pool->members) <= pool->scaling.min_concurrency)
      continue;
    for (l = pool->members; l; l = l->next) {
      Runner *runner = l->data;

      if (runner->state == RUNNER_IDLE && !runner->retire) {
        runner->retire = TRUE;
        runners->n_retiring++;
        g_cond_broadcast (&pool->cond);
        return;
      }
    }
  }
}

/* Starts the runners @pool needs: its minimum, and one per waiting request
 * no idle or starting runner will take, within both maxima. */
static void
pool_ensure (Pool * pool)
{
  GstFalRunners *runners = pool->runners;

  while (!runners->closed) {
    guint members = g_list_length (pool->members);
    gboolean below_min = members < pool->scaling.min_concurrency
        && !pool->setup_failed;
    gboolean needed = pool_waiting (pool) > pool->n_idle + pool->n_starting;

    if ((!below_min && !needed) || members >= pool_max (pool))
      return;
    if (runners->n_runners >= runners->max_runners + runners->reserved) {
      evict_for (runners, pool);
      return;
    }
    spawn (pool);
  }
}

static void
ensure_all (GstFalRunners * runners)
{
  GHashTableIter iter;
  gpointer pool;

  g_hash_table_iter_init (&iter, runners->pools);
  while (g_hash_table_iter_next (&iter, NULL, &pool))
    pool_ensure (pool);
}

void
gst_fal_runners_start (GstFalRunners * runners, GPtrArray * apps)
{
  guint i, minimums = 0;

  g_mutex_lock (&runners->lock);
  for (i = 0; i < apps->len; i++)
    minimums += pool_get (runners,
        g_ptr_array_index (apps, i))->scaling.min_concurrency;
  /* the warm runners always fit */
  runners->max_runners = MAX (runners->max_runners, minimums);
  ensure_all (runners);
  g_mutex_unlock (&runners->lock);
}

void
gst_fal_runners_reserve (GstFalRunners * runners, const GstFalAppInfo * app,
    gint n)
{
  Pool *pool;

  g_mutex_lock (&runners->lock);
  pool = pool_get (runners, app);
  /* never give back more than was reserved */
  n = MAX (n, -(gint) pool->reserved);
  pool->reserved += n;
  runners->reserved += n;
  ensure_all (runners);
  g_mutex_unlock (&runners->lock);
}

/* ---- a runner ---- */

static void
set_state (Runner * runner, RunnerState state)
{
  Pool *pool = runner->pool;

  if (runner->state == RUNNER_IDLE)
    pool->n_idle--;
  else if (runner->state == RUNNER_STARTING)
    pool->n_starting--;
  runner->state = state;
  if (state == RUNNER_IDLE)
    pool->n_idle++;
}

static GstFalServerRequest *
pool_pop (Pool * pool)
{
  GstFalServerRequest *request = g_queue_pop_head (&pool->normal);

  if (request == NULL)
    request = g_queue_pop_head (&pool->low);
  if (request)
    pool->runners->n_waiting--;
  return request;
}

/* Waits for a request of the pool; NULL when the runner should end. */
static GstFalServerRequest *
wait_for_request (Runner * runner)
{
  Pool *pool = runner->pool;
  GstFalRunners *runners = pool->runners;
  gint64 deadline = g_get_monotonic_time () +
      (gint64) (pool->scaling.keep_alive * G_USEC_PER_SEC);

  set_state (runner, RUNNER_IDLE);
  for (;;) {
    gboolean above_min;

    if (runners->closed || runner->retire)
      return NULL;
    if (pool_waiting (pool) > 0) {
      set_state (runner, RUNNER_BUSY);
      return pool_pop (pool);
    }
    /* idle while another app waits for room: this runner may be it */
    if (runners->n_runners >= runners->max_runners + runners->reserved) {
      ensure_all (runners);
      if (runner->retire)
        return NULL;
    }
    above_min = g_list_length (pool->members) > pool->scaling.min_concurrency;
    if (!above_min)
      g_cond_wait (&pool->cond, &runners->lock);
    else if (!g_cond_wait_until (&pool->cond, &runners->lock, deadline)
        && pool_waiting (pool) == 0)
      return NULL;              /* kept alive long enough */
  }
}

static void
runner_end (Runner * runner, gboolean set_up, gpointer state)
{
  Pool *pool = runner->pool;
  GstFalRunners *runners = pool->runners;

  if (set_up)
    gst_fal_app_info_teardown (pool->app, state);
  g_mutex_lock (&runners->lock);
  set_state (runner, RUNNER_BUSY);      /* neither idle nor starting */
  if (runner->retire)
    runners->n_retiring--;
  pool->members = g_list_remove (pool->members, runner);
  runners->n_runners--;
  runners->finished = g_list_prepend (runners->finished, runner->thread);
  /* a replacement, or room for another app */
  ensure_all (runners);
  g_cond_broadcast (&runners->ended);
  g_mutex_unlock (&runners->lock);
  g_debug ("runner %s of %s ended after %" G_GUINT64_FORMAT " requests",
      runner->id, pool->app->name, runner->served);
  g_free (runner->id);
  g_free (runner);
}

static gpointer
runner_main (gpointer data)
{
  Runner *runner = data;
  Pool *pool = runner->pool;
  GstFalRunners *runners = pool->runners;
  g_autoptr (GError) error = NULL;
  GstFalServerRequest *request;
  gpointer state;
  gboolean set_up, reusable = TRUE;

  set_up = gst_fal_app_info_setup (pool->app, &state, &error);
  g_mutex_lock (&runners->lock);
  if (!set_up) {
    pool->setup_failed = TRUE;
    request = pool_pop (pool);
    g_mutex_unlock (&runners->lock);
    g_warning ("a runner of %s cannot be set up: %s", pool->app->name,
        error->message);
    if (request) {
      runners->refuse (request, error, runners->user_data);
      gst_fal_server_request_unref (request);
    }
    runner_end (runner, FALSE, NULL);
    return NULL;
  }
  pool->setup_failed = FALSE;

  while (reusable && (request = wait_for_request (runner))) {
    g_mutex_unlock (&runners->lock);
    reusable = runners->serve (request, state, runners->user_data);
    gst_fal_server_request_unref (request);
    g_mutex_lock (&runners->lock);
    runner->served++;
  }
  g_mutex_unlock (&runners->lock);
  if (!reusable)
    g_debug ("runner %s of %s is replaced after a failure", runner->id,
        pool->app->name);
  runner_end (runner, TRUE, state);
  return NULL;
}

/* ---- the requests ---- */

gboolean
gst_fal_runners_push (GstFalRunners * runners, GstFalServerRequest * request,
    guint max_waiting)
{
  gboolean pushed = FALSE;

  Pool *pool;

  g_mutex_lock (&runners->lock);
  pool = pool_get (runners, request->app);
  if (!runners->closed && (max_waiting == 0
          || runners->n_waiting < max_waiting)) {
    g_queue_push_tail (request->low_priority ? &pool->low : &pool->normal,
        gst_fal_server_request_ref (request));
    runners->n_waiting++;
    g_cond_signal (&pool->cond);
    pool_ensure (pool);
    pushed = TRUE;
  }
  g_mutex_unlock (&runners->lock);
  join_finished (runners);
  return pushed;
}

gboolean
gst_fal_runners_remove (GstFalRunners * runners,
    GstFalServerRequest * request)
{
  Pool *pool;
  gboolean removed = FALSE;

  g_mutex_lock (&runners->lock);
  pool = g_hash_table_lookup (runners->pools, request->app);
  if (pool && (g_queue_remove (&pool->normal, request)
          || g_queue_remove (&pool->low, request))) {
    runners->n_waiting--;
    removed = TRUE;
  }
  g_mutex_unlock (&runners->lock);
  if (removed)
    gst_fal_server_request_unref (request);
  return removed;
}

gint
gst_fal_runners_position (GstFalRunners * runners,
    GstFalServerRequest * request)
{
  Pool *pool;
  gint position = -1;

  g_mutex_lock (&runners->lock);
  pool = g_hash_table_lookup (runners->pools, request->app);
  if (pool) {
    position = g_queue_index (&pool->normal, request);
    if (position < 0) {
      position = g_queue_index (&pool->low, request);
      if (position >= 0)
        position += pool->normal.length;
    }
  }
  g_mutex_unlock (&runners->lock);
  return position;
}

guint
gst_fal_runners_waiting (GstFalRunners * runners)
{
  guint waiting;

  g_mutex_lock (&runners->lock);
  waiting = runners->n_waiting;
  g_mutex_unlock (&runners->lock);
  return waiting;
}

GList *
gst_fal_runners_close (GstFalRunners * runners)
{
  GHashTableIter iter;
  gpointer value;
  GList *waiting = NULL;

  g_mutex_lock (&runners->lock);
  runners->closed = TRUE;
  g_hash_table_iter_init (&iter, runners->pools);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Pool *pool = value;

    waiting = g_list_concat (waiting, g_list_concat (pool->normal.head,
            pool->low.head));
    g_queue_init (&pool->normal);
    g_queue_init (&pool->low);
    g_cond_broadcast (&pool->cond);
  }
  runners->n_waiting = 0;
  g_mutex_unlock (&runners->lock);
  return waiting;
}

/* ---- the admin's view ---- */

static gint
compare_pools (gconstpointer a, gconstpointer b)
{
  const Pool *pool_a = *(const Pool **) a, *pool_b = *(const Pool **) b;

  return g_strcmp0 (pool_a->app->name, pool_b->app->name);
}

static JsonNode *
describe_pool (Pool * pool)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  GList *l;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "app");
  json_builder_add_string_value (builder, pool->app->name);
  json_builder_set_member_name (builder, "min_concurrency");
  json_builder_add_int_value (builder, pool->scaling.min_concurrency);
  json_builder_set_member_name (builder, "max_concurrency");
  json_builder_add_int_value (builder, pool_max (pool));
  json_builder_set_member_name (builder, "keep_alive");
  json_builder_add_double_value (builder, pool->scaling.keep_alive);
  json_builder_set_member_name (builder, "queued");
  json_builder_add_int_value (builder, pool_waiting (pool));
  json_builder_set_member_name (builder, "runners");
  json_builder_begin_array (builder);
  for (l = pool->members; l; l = l->next) {
    Runner *runner = l->data;
    g_autoptr (GDateTime) started =
        g_date_time_new_from_unix_utc (runner->started_at / G_USEC_PER_SEC);
    g_autofree gchar *started_at = g_date_time_format_iso8601 (started);

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "runner_id");
    json_builder_add_string_value (builder, runner->id);
    json_builder_set_member_name (builder, "state");
    json_builder_add_string_value (builder, state_names[runner->state]);
    json_builder_set_member_name (builder, "requests_served");
    json_builder_add_int_value (builder, runner->served);
    json_builder_set_member_name (builder, "started_at");
    json_builder_add_string_value (builder, started_at);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

JsonNode *
gst_fal_runners_describe (GstFalRunners * runners, const gchar * app)
{
  g_autoptr (GPtrArray) pools = g_ptr_array_new ();
  JsonObject *object = json_object_new ();
  JsonArray *apps = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  GHashTableIter iter;
  gpointer value;
  guint i;

  g_mutex_lock (&runners->lock);
  g_hash_table_iter_init (&iter, runners->pools);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (app == NULL || g_str_equal (((Pool *) value)->app->name, app))
      g_ptr_array_add (pools, value);
  g_ptr_array_sort (pools, compare_pools);
  for (i = 0; i < pools->len; i++)
    json_array_add_element (apps, describe_pool (g_ptr_array_index (pools,
                i)));
  g_mutex_unlock (&runners->lock);
  json_object_set_array_member (object, "apps", apps);
  json_node_take_object (node, object);
  return node;
}
