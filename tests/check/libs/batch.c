/* gst-fal: GstFalBatch against a mock fal queue on loopback: every item
 * once, the concurrency bound seen by the server, retries only of what is
 * worth it, deadlines, cancellation on the server, a bounded producer */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include "falmock.h"
#include "gst/falserver/gstfalserver.h"

static FalMock *mock;
static GstFalClient *client;
/* server side: submits whose result was not fetched yet, and their most */
static gint live;
static gint most_live;
/* answers to spoil before the mock's own */
static gint spoil;
static guint spoil_status;

static void
setup (void)
{
  mock = fal_mock_new ();
  client = gst_fal_client_new_for_url (fal_mock_get_url (mock));
  g_object_set (client, "retry-base-delay", 0.01, "retry-max-delay", 0.05,
      NULL);
  live = most_live = spoil = 0;
  spoil_status = 0;
}

static void
teardown (void)
{
  gst_clear_object (&client);
  fal_mock_free (mock);
}

static void
add_app (const gchar * app, guint run_ms, guint fail_status)
{
  FalMockApp config = { 0, run_ms, fail_status, NULL, NULL };

  if (fail_status)
    config.fail_body = "{\"detail\": \"refused\"}";
  fal_mock_add_app (mock, app, &config);
}

/* The queue, counting the submits in flight and spoiling the first
 * @spoil submits with @spoil_status. */
static void
watching_queue (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  guint n = g_strv_length (parts);
  gint now_live;

  /* "", "queue", "local", APP[, "requests", ID[, …]] */
  if (n == 4 && !strcmp (method, "POST")) {
    if (g_atomic_int_add (&spoil, -1) > 0) {
      if (spoil_status == 429)
        soup_message_headers_replace (soup_server_message_get_response_headers
            (msg), "Retry-After", "0");
      fal_mock_respond_json (msg, spoil_status, "{\"detail\": \"busy\"}");
      return;
    }
    now_live = g_atomic_int_add (&live, 1) + 1;
    most_live = MAX (most_live, now_live);
  } else if (n == 6 && !strcmp (method, "GET")) {
    g_atomic_int_add (&live, -1);
  }
  fal_mock_queue_handler (m, msg, path, NULL);
}

typedef struct
{
  guint n;
  guint *seen;
  GPtrArray *order;             /* indexes as delivered */
  guint failed;
  GError *last_error;
  guint progress_calls;
  guint64 last_done;
  gint64 last_total;
  GMainContext *context;
  gboolean wrong_context;
  GThread *thread;
  gboolean wrong_thread;
} Delivery;

static void
on_item_done (GstFalBatch * batch, guint64 index, const gchar * request_id,
    JsonNode * result, GError * error, Delivery * d)
{
  fail_unless (index < d->n);
  d->seen[index]++;
  g_ptr_array_add (d->order, GUINT_TO_POINTER ((guint) index));
  if (g_main_context_get_thread_default () != d->context)
    d->wrong_context = TRUE;
  if (g_thread_self () != d->thread)
    d->wrong_thread = TRUE;
  if (error) {
    d->failed++;
    g_clear_error (&d->last_error);
    d->last_error = g_error_copy (error);
    return;
  }
  fail_unless (request_id != NULL);
  /* the mock echoes the input */
  fail_unless_equals_int (json_object_get_int_member (json_node_get_object
          (result), "i"), index);
}

static void
on_progress (GstFalBatch * batch, guint64 done, guint64 succeeded,
    guint64 failed, guint in_flight, gint64 total, Delivery * d)
{
  fail_unless_equals_int (done, succeeded + failed);
  fail_unless (done > d->last_done || d->progress_calls == 0);
  d->progress_calls++;
  d->last_done = done;
  d->last_total = total;
}

static void
delivery_init (Delivery * d, GstFalBatch * batch, guint n)
{
  memset (d, 0, sizeof *d);
  d->n = n;
  d->seen = g_new0 (guint, n);
  d->order = g_ptr_array_new ();
  d->context = g_main_context_get_thread_default ();
  d->thread = g_thread_self ();
  g_signal_connect (batch, "item-done", G_CALLBACK (on_item_done), d);
  g_signal_connect (batch, "progress", G_CALLBACK (on_progress), d);
}

static void
delivery_clear (Delivery * d)
{
  g_free (d->seen);
  g_ptr_array_unref (d->order);
  g_clear_error (&d->last_error);
}

static JsonNode *
input (guint i)
{
  g_autofree gchar *text = g_strdup_printf ("{\"i\": %u}", i);

  return json_from_string (text, NULL);
}

static GstFalBatch *
batch_with_inputs (const gchar * app, guint n, guint concurrency)
{
  GstFalBatch *batch = gst_fal_batch_new (client, app, NULL);
  guint i;

  g_object_set (batch, "concurrency", concurrency, NULL);
  for (i = 0; i < n; i++) {
    g_autoptr (JsonNode) arguments = input (i);

    fail_unless_equals_int (gst_fal_batch_add (batch, arguments), i);
  }
  gst_fal_batch_close (batch);
  return batch;
}

static void
assert_each_once (const Delivery * d)
{
  guint i;

  for (i = 0; i < d->n; i++)
    fail_unless_equals_int (d->seen[i], 1);
}

#define N_ITEMS 40
#define CONCURRENCY 3

GST_START_TEST (test_concurrency_bound)
{
  g_autoptr (GstFalBatch) batch = NULL;
  g_autoptr (GError) error = NULL;
  Delivery d;

  add_app ("local/echo", 5, 0);
  fal_mock_add_handler (mock, "/queue/", watching_queue, NULL);
  batch = batch_with_inputs ("local/echo", N_ITEMS, CONCURRENCY);
  delivery_init (&d, batch, N_ITEMS);

  fail_unless (gst_fal_batch_run (batch, NULL, &error));
  g_assert_no_error (error);
  assert_each_once (&d);
  fail_if (d.wrong_thread);
  fail_unless_equals_int (d.progress_calls, N_ITEMS);
  fail_unless_equals_int (d.last_total, N_ITEMS);
  fail_unless_equals_int (gst_fal_batch_get_succeeded (batch), N_ITEMS);
  fail_unless_equals_int (gst_fal_batch_get_failed (batch), 0);
  /* the server never saw more than CONCURRENCY requests at once; the batch
   * starts CONCURRENCY at once from a full queue */
  fail_unless (most_live <= CONCURRENCY, "%d in flight", most_live);
  fail_unless_equals_int (gst_fal_batch_get_max_in_flight (batch), CONCURRENCY);
  fail_unless_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"),
      N_ITEMS);
  delivery_clear (&d);
}

GST_END_TEST;

/* Ordered: delivered in input order, though they complete in any. */
GST_START_TEST (test_ordered)
{
  g_autoptr (GstFalBatch) batch = NULL;
  Delivery d;
  guint i;

  add_app ("local/echo", 5, 0);
  batch = batch_with_inputs ("local/echo", N_ITEMS, 8);
  g_object_set (batch, "ordered", TRUE, NULL);
  delivery_init (&d, batch, N_ITEMS);
  fail_unless (gst_fal_batch_run (batch, NULL, NULL));
  assert_each_once (&d);
  for (i = 0; i < N_ITEMS; i++)
    fail_unless_equals_int (GPOINTER_TO_UINT (d.order->pdata[i]), i);
  delivery_clear (&d);
}

GST_END_TEST;

/* 503 and 429 on submit: the item is submitted again, even with a client
 * that retries nothing itself. */
static void
check_retried (guint status)
{
  g_autoptr (GstFalBatch) batch = NULL;
  Delivery d;

  g_object_set (client, "max-retries", 0, NULL);
  add_app ("local/echo", 0, 0);
  fal_mock_add_handler (mock, "/queue/", watching_queue, NULL);
  spoil = 4;
  spoil_status = status;
  batch = batch_with_inputs ("local/echo", 5, 2);
  g_object_set (batch, "max-retries", 4, NULL);
  delivery_init (&d, batch, 5);
  fail_unless (gst_fal_batch_run (batch, NULL, NULL));
  assert_each_once (&d);
  fail_unless_equals_int (d.failed, 0);
  fail_unless_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"),
      5 + 4);
  delivery_clear (&d);
}

GST_START_TEST (test_retry_503)
{
  check_retried (503);
}

GST_END_TEST;

GST_START_TEST (test_retry_429)
{
  check_retried (429);
}

GST_END_TEST;

/* A 5xx result is retried until the retries run out; a 422 never is. */
GST_START_TEST (test_retry_only_transient)
{
  g_autoptr (GstFalBatch) invalid = NULL;
  g_autoptr (GstFalBatch) broken = NULL;
  g_auto (GStrv) causes = NULL;
  Delivery d, e;

  add_app ("local/invalid", 0, 422);
  add_app ("local/broken", 0, 500);
  invalid = batch_with_inputs ("local/invalid", 3, 2);
  g_object_set (invalid, "max-retries", 2, NULL);
  delivery_init (&d, invalid, 3);
  fail_unless (gst_fal_batch_run (invalid, NULL, NULL));
  assert_each_once (&d);
  fail_unless_equals_int (d.failed, 3);
  fail_unless (g_error_matches (d.last_error, GST_FAL_ERROR,
          GST_FAL_ERROR_VALIDATION));
  fail_unless_equals_int (fal_mock_count (mock, "POST",
          "/queue/local/invalid"), 3);
  causes = gst_fal_batch_get_failure_causes (invalid);
  fail_unless_equals_int (g_strv_length (causes), 1);
  fail_unless_equals_string (causes[0], "HTTP 422 validation");
  fail_unless_equals_int (gst_fal_batch_get_failure_count (invalid,
          causes[0]), 3);

  broken = batch_with_inputs ("local/broken", 3, 2);
  g_object_set (broken, "max-retries", 2, NULL);
  delivery_init (&e, broken, 3);
  fail_unless (gst_fal_batch_run (broken, NULL, NULL));
  assert_each_once (&e);
  fail_unless_equals_int (e.failed, 3);
  fail_unless_equals_int (fal_mock_count (mock, "POST",
          "/queue/local/broken"), 3 * (1 + 2));
  fail_unless_equals_int (gst_fal_batch_get_failure_count (broken,
          "HTTP 500 server error"), 3);
  delivery_clear (&d);
  delivery_clear (&e);
}

GST_END_TEST;

/* The queue, with every submit read and its connection then reset: the
 * server may have taken it. */
static void
submit_lost (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  if (!strcmp (soup_server_message_get_method (msg), "POST"))
    fal_mock_reset_connection (msg);
  else
    fal_mock_queue_handler (m, msg, path, NULL);
}

/* A submit that may have been accepted is not submitted again (the model
 * would run twice): the item fails, saying so. */
GST_START_TEST (test_ambiguous_submit_not_retried)
{
  g_autoptr (GstFalBatch) batch = NULL;
  Delivery d;

  g_object_set (client, "max-retries", 0, NULL);
  add_app ("local/echo", 0, 0);
  fal_mock_add_handler (mock, "/queue/", submit_lost, NULL);
  batch = batch_with_inputs ("local/echo", 2, 2);
  g_object_set (batch, "max-retries", 3, NULL);
  delivery_init (&d, batch, 2);
  fail_unless (gst_fal_batch_run (batch, NULL, NULL));
  assert_each_once (&d);
  fail_unless_equals_int (d.failed, 2);
  fail_unless (strstr (d.last_error->message, "may have been accepted"),
      "%s", d.last_error->message);
  fail_unless_equals_int (fal_mock_count (mock, "POST", "/queue/local/echo"),
      2);
  delivery_clear (&d);
}

GST_END_TEST;

/* An item past its deadline fails with TIMEOUT, and its request is
 * cancelled on the server. */
GST_START_TEST (test_item_timeout)
{
  FalMockApp forever = { G_MAXUINT, 0, 0, NULL, NULL };
  g_autoptr (GstFalBatch) batch = NULL;
  Delivery d;

  fal_mock_add_app (mock, "local/stuck", &forever);
  batch = batch_with_inputs ("local/stuck", 3, 3);
  /* long enough for the submits to be answered on a loaded machine */
  g_object_set (batch, "item-timeout", 2.0, "max-retries", 3, NULL);
  delivery_init (&d, batch, 3);
  fail_unless (gst_fal_batch_run (batch, NULL, NULL));
  assert_each_once (&d);
  fail_unless_equals_int (d.failed, 3);
  fail_unless (g_error_matches (d.last_error, GST_FAL_ERROR,
          GST_FAL_ERROR_TIMEOUT), "%s", d.last_error->message);
  /* a deadline is never retried */
  fail_unless_equals_int (fal_mock_count (mock, "POST", "/queue/local/stuck"),
      3);
  fail_unless_equals_int (fal_mock_count (mock, "PUT",
          "/queue/local/stuck/requests/*"), 3);
  delivery_clear (&d);
}

GST_END_TEST;

static gpointer
cancel_once_submitted (gpointer cancellable)
{
  /* both submitted, and the client knows their ids: it follows them */
  fail_unless_equals_int (fal_mock_wait_count (mock, "GET",
          "/queue/local/stuck/requests/*", 2, 60), 2);
  g_cancellable_cancel (cancellable);
  return NULL;
}

/* Cancelling the batch: no more submits, the requests in flight cancelled
 * on the server, none delivered, the run fails with CANCELLED. */
GST_START_TEST (test_cancel_whole)
{
  FalMockApp forever = { G_MAXUINT, 0, 0, NULL, NULL };
  g_autoptr (GstFalBatch) batch = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GThread *canceller;
  Delivery d;

  fal_mock_add_app (mock, "local/stuck", &forever);
  batch = batch_with_inputs ("local/stuck", 10, 2);
  delivery_init (&d, batch, 10);
  canceller = g_thread_new ("cancel", cancel_once_submitted, cancellable);
  fail_if (gst_fal_batch_run (batch, cancellable, &error));
  g_thread_join (canceller);
  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_CANCELLED), "%s", error ? error->message : "no error");
  fail_unless_equals_int (d.order->len, 0);
  fail_unless_equals_int (fal_mock_count (mock, "POST", "/queue/local/stuck"),
      2);
  fail_unless_equals_int (fal_mock_count (mock, "PUT",
          "/queue/local/stuck/requests/*"), 2);
  delivery_clear (&d);
}

GST_END_TEST;

static gpointer
cancel_later (gpointer cancellable)
{
  g_usleep (100 * 1000);
  g_cancellable_cancel (cancellable);
  return NULL;
}

/* push waits while max-queued inputs wait to start: a producer never runs
 * ahead of the batch by more than that. */
GST_START_TEST (test_push_waits)
{
  g_autoptr (GstFalBatch) batch = gst_fal_batch_new (client, "local/echo",
      NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) arguments = input (0);
  GThread *canceller;

  g_object_set (batch, "concurrency", 2, "max-queued", 2, NULL);
  fail_unless (gst_fal_batch_push (batch, arguments, NULL, NULL));
  fail_unless (gst_fal_batch_push (batch, arguments, NULL, NULL));
  /* not running: the third waits, until cancelled */
  canceller = g_thread_new ("cancel", cancel_later, cancellable);
  fail_if (gst_fal_batch_push (batch, arguments, cancellable, &error));
  g_thread_join (canceller);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED));
}

GST_END_TEST;

typedef struct
{
  GstFalBatch *batch;
  guint n;
  gint *delivered;
  gint most_ahead;
} Producer;

static gpointer
produce (gpointer data)
{
  Producer *p = data;
  guint i;

  for (i = 0; i < p->n; i++) {
    g_autoptr (JsonNode) arguments = input (i);
    gint ahead;

    fail_unless (gst_fal_batch_push (p->batch, arguments, NULL, NULL));
    ahead = (gint) (i + 1) - g_atomic_int_get (p->delivered);
    p->most_ahead = MAX (p->most_ahead, ahead);
  }
  gst_fal_batch_close (p->batch);
  return NULL;
}

static void
count_delivered (GstFalBatch * batch, guint64 index, const gchar * id,
    JsonNode * result, GError * error, gint * delivered)
{
  g_atomic_int_inc (delivered);
}

/* A producer thread feeding a running batch: everything delivered, and the
 * inputs held at once (queued + in flight + being delivered) stay bounded. */
GST_START_TEST (test_producer_consumer)
{
  g_autoptr (GstFalBatch) batch = gst_fal_batch_new (client, "local/echo",
      NULL);
  gint delivered = 0;
  Producer p = { batch, 200, &delivered, 0 };
  GThread *producer;
  Delivery d;

  add_app ("local/echo", 0, 0);
  g_object_set (batch, "concurrency", 4, "max-queued", 3, NULL);
  delivery_init (&d, batch, 200);
  g_signal_connect (batch, "item-done", G_CALLBACK (count_delivered),
      &delivered);
  producer = g_thread_new ("producer", produce, &p);
  fail_unless (gst_fal_batch_run (batch, NULL, NULL));
  g_thread_join (producer);
  assert_each_once (&d);
  /* queued (3) + in flight (4) + the one delivered right now */
  fail_unless (p.most_ahead <= 3 + 4 + 1, "%d ahead", p.most_ahead);
  delivery_clear (&d);
}

GST_END_TEST;

/* Failed and skipped inputs keep their places. */
GST_START_TEST (test_failed_and_skipped_inputs)
{
  g_autoptr (GstFalBatch) batch = gst_fal_batch_new (client, "local/echo",
      NULL);
  g_autoptr (GError) bad = g_error_new (GST_FAL_ERROR,
      GST_FAL_ERROR_INVALID_ARGUMENT, "line 2: not JSON");
  g_autoptr (JsonNode) zero = input (0);
  g_autoptr (JsonNode) four = input (4);
  Delivery d;

  add_app ("local/echo", 0, 0);
  g_object_set (batch, "ordered", TRUE, NULL);
  gst_fal_batch_add (batch, zero);
  gst_fal_batch_add_failed (batch, bad);
  gst_fal_batch_add_skipped (batch);
  gst_fal_batch_add_skipped (batch);
  fail_unless_equals_int (gst_fal_batch_add (batch, four), 4);
  gst_fal_batch_close (batch);
  delivery_init (&d, batch, 5);
  fail_unless (gst_fal_batch_run (batch, NULL, NULL));
  fail_unless_equals_int (d.order->len, 3);
  fail_unless_equals_int (GPOINTER_TO_UINT (d.order->pdata[0]), 0);
  fail_unless_equals_int (GPOINTER_TO_UINT (d.order->pdata[1]), 1);
  fail_unless_equals_int (GPOINTER_TO_UINT (d.order->pdata[2]), 4);
  fail_unless_equals_string (d.last_error->message, "line 2: not JSON");
  fail_unless_equals_int (d.last_total, 3);
  fail_unless_equals_int (gst_fal_batch_get_failure_count (batch,
          "invalid input"), 1);
  delivery_clear (&d);
}

GST_END_TEST;

static void
on_run_done (GObject * source, GAsyncResult * res, gpointer data)
{
  gboolean *done = data;

  fail_unless (gst_fal_batch_run_finish (GST_FAL_BATCH (source), res, NULL));
  *done = TRUE;
}

static void
on_pushed (GObject * source, GAsyncResult * res, gpointer data)
{
  guint *pushed = data;

  fail_unless (gst_fal_batch_push_finish (GST_FAL_BATCH (source), res, NULL));
  (*pushed)++;
}

/* Async in the caller's context, fed with push_async from that context. */
GST_START_TEST (test_async_push)
{
  g_autoptr (GstFalBatch) batch = gst_fal_batch_new (client, "local/echo",
      NULL);
  GMainContext *context = g_main_context_new ();
  gboolean done = FALSE;
  guint pushed = 0, i;
  Delivery d;

  add_app ("local/echo", 0, 0);
  g_main_context_push_thread_default (context);
  g_object_set (batch, "concurrency", 2, "max-queued", 1, NULL);
  delivery_init (&d, batch, 10);
  gst_fal_batch_run_async (batch, NULL, on_run_done, &done);
  for (i = 0; i < 10; i++) {
    g_autoptr (JsonNode) arguments = input (i);

    gst_fal_batch_push_async (batch, arguments, NULL, on_pushed, &pushed);
    while (pushed <= i)
      g_main_context_iteration (context, TRUE);
  }
  gst_fal_batch_close (batch);
  while (!done)
    g_main_context_iteration (context, TRUE);
  assert_each_once (&d);
  fail_if (d.wrong_context);
  g_main_context_pop_thread_default (context);
  while (g_main_context_iteration (context, FALSE));
  g_main_context_unref (context);
  delivery_clear (&d);
}

GST_END_TEST;

/* The local server answering a fifth of its API responses with 503
 * (its fault injection), a client that retries nothing itself: the batch's
 * own retries bring every item through. With none, some fail. */
static guint64
failed_under_faults (gint max_retries)
{
  GstFalServerFaults faults = { 0, };
  g_autoptr (GstFalServer) server = g_object_new (GST_FAL_TYPE_SERVER,
      "workers", 4, NULL);
  g_autoptr (GstFalClient) faulty = NULL;
  g_autoptr (GstFalBatch) batch = NULL;
  g_autoptr (GError) error = NULL;
  guint i;

  fail_unless (gst_fal_server_start (server, &error));
  faults.rate_503 = 0.2;
  gst_fal_server_set_faults (server, &faults);
  faulty = gst_fal_client_new_for_url (gst_fal_server_get_url (server));
  g_object_set (faulty, "max-retries", 0, "retry-base-delay", 0.01,
      "retry-max-delay", 0.02, NULL);
  batch = gst_fal_batch_new (faulty, "local/echo", NULL);
  g_object_set (batch, "concurrency", 4, "max-retries", max_retries, NULL);
  for (i = 0; i < 40; i++) {
    g_autoptr (JsonNode) arguments = input (i);

    gst_fal_batch_add (batch, arguments);
  }
  gst_fal_batch_close (batch);
  fail_unless (gst_fal_batch_run (batch, NULL, NULL));
  fail_unless_equals_int (gst_fal_batch_get_succeeded (batch) +
      gst_fal_batch_get_failed (batch), 40);
  return gst_fal_batch_get_failed (batch);
}

GST_START_TEST (test_retry_server_faults)
{
  /* an item fails all 31 attempts with a chance below 1e-9 */
  fail_unless_equals_int (failed_under_faults (30), 0);
  /* 40 items, none retried: all get through with a chance below 1e-7 */
  fail_unless (failed_under_faults (0) > 0);
}

GST_END_TEST;

static Suite *
batch_suite (void)
{
  Suite *s = suite_create ("batch");
  TCase *tc = tcase_create ("batch");

  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_concurrency_bound);
  tcase_add_test (tc, test_ordered);
  tcase_add_test (tc, test_retry_503);
  tcase_add_test (tc, test_retry_429);
  tcase_add_test (tc, test_retry_server_faults);
  tcase_add_test (tc, test_retry_only_transient);
  tcase_add_test (tc, test_ambiguous_submit_not_retried);
  tcase_add_test (tc, test_item_timeout);
  tcase_add_test (tc, test_cancel_whole);
  tcase_add_test (tc, test_push_waits);
  tcase_add_test (tc, test_producer_consumer);
  tcase_add_test (tc, test_failed_and_skipped_inputs);
  tcase_add_test (tc, test_async_push);
  return s;
}

GST_CHECK_MAIN (batch);
