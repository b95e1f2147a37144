/* Many requests at once: all complete with their own result, and a waiting
 * request's queue position never goes up. */
#include "falservertest.h"

#define N_REQUESTS 200
#define N_CLIENTS 8

static GstFalServer *server;

static void
setup (void)
{
  server = fal_test_server_new (8, NULL);
}

static void
teardown (void)
{
  g_clear_object (&server);
}

typedef struct
{
  guint first;                  /* this client's values: first, first + N_CLIENTS… */
  guint checked;
} Client;

/* Submits its share of the requests, then checks each result. */
static gpointer
client_main (gpointer data)
{
  Client *client = data;
  g_autoptr (SoupSession) session = fal_test_session_new ();
  g_autofree gchar *submit_url = fal_url (server, "/queue/local/echo");
  g_autoptr (GPtrArray) submitted =
      g_ptr_array_new_with_free_func ((GDestroyNotify) fal_reply_free);
  guint value, i;

  for (value = client->first; value < N_REQUESTS; value += N_CLIENTS) {
    g_autofree gchar *input = g_strdup_printf ("{\"value\": %u}", value);

    g_ptr_array_add (submitted, fal_http (session, "POST", submit_url, input,
            NULL));
  }
  for (i = 0; i < submitted->len; i++) {
    FalReply *reply = g_ptr_array_index (submitted, i);
    g_autoptr (FalReply) status = NULL;
    g_autoptr (FalReply) result = NULL;

    fail_unless_equals_int (reply->status, 200);
    status = fal_wait_completed (session, fal_reply_string (reply,
            "status_url"), NULL);
    fail_if (json_object_has_member (fal_reply_object (status), "error"));
    result = fal_http (session, "GET", fal_reply_string (reply,
            "response_url"), NULL, NULL);
    fail_unless_equals_int (result->status, 200);
    fail_unless_equals_int (json_object_get_int_member (fal_reply_object
            (result), "value"), client->first + i * N_CLIENTS);
    fail_unless_equals_string (fal_reply_header (result, "x-fal-request-id"),
        fal_reply_string (reply, "request_id"));
    client->checked++;
  }
  return NULL;
}

GST_START_TEST (test_many_requests)
{
  Client clients[N_CLIENTS];
  GThread *threads[N_CLIENTS];
  guint i, total = 0;

  for (i = 0; i < N_CLIENTS; i++) {
    clients[i].first = i;
    clients[i].checked = 0;
    threads[i] = g_thread_new ("client", client_main, &clients[i]);
  }
  for (i = 0; i < N_CLIENTS; i++) {
    g_thread_join (threads[i]);
    total += clients[i].checked;
  }
  fail_unless_equals_int (total, N_REQUESTS);
}

GST_END_TEST;

GST_START_TEST (test_positions_never_go_up)
{
  g_autoptr (SoupSession) session = fal_test_session_new ();
  g_autofree gchar *url = fal_url (server, "/queue/local/sleep");
  g_autoptr (GPtrArray) blockers =
      g_ptr_array_new_with_free_func ((GDestroyNotify) fal_reply_free);
  g_autoptr (GPtrArray) waiting =
      g_ptr_array_new_with_free_func ((GDestroyNotify) fal_reply_free);
  FalReply *last;
  gint previous;
  guint i;

  /* 8 long requests hold the 8 workers */
  for (i = 0; i < 8; i++)
    g_ptr_array_add (blockers, fal_http (session, "POST", url,
            "{\"seconds\": 120}", NULL));
  for (i = 0; i < blockers->len; i++)
    fal_wait_started (session, fal_reply_string (g_ptr_array_index (blockers,
                i), "status_url"));
  /* 16 more wait, each behind the ones before it */
  for (i = 0; i < 16; i++) {
    FalReply *reply = fal_http (session, "POST", url, "{\"seconds\": 0.05}",
        NULL);

    g_ptr_array_add (waiting, reply);
    fail_unless_equals_int (reply->status, 200);
    fail_unless_equals_int (json_object_get_int_member (fal_reply_object
            (reply), "queue_position"), i);
  }
  last = g_ptr_array_index (waiting, waiting->len - 1);
  previous = 15;

  /* free the workers one by one while watching the last one */
  for (i = 0; i < blockers->len; i++) {
    g_autoptr (FalReply) cancel = fal_http (session, "PUT",
        fal_reply_string (g_ptr_array_index (blockers, i), "cancel_url"), NULL,
        NULL);

    fail_unless_equals_int (cancel->status, 202);
  }
  while (TRUE) {
    g_autoptr (FalReply) status = fal_http (session, "GET",
        fal_reply_string (last, "status_url"), NULL, NULL);
    gint position;

    if (strcmp (fal_reply_string (status, "status"), "IN_QUEUE"))
      break;
    position = json_object_get_int_member (fal_reply_object (status),
        "queue_position");
    fail_unless (position <= previous, "position went up: %d > %d",
        position, previous);
    previous = position;
    g_usleep (2 * 1000);
  }
  for (i = 0; i < waiting->len; i++) {
    g_autoptr (FalReply) done = fal_wait_completed (session,
        fal_reply_string (g_ptr_array_index (waiting, i), "status_url"), NULL);

    fail_if (json_object_has_member (fal_reply_object (done), "error"));
  }
}

GST_END_TEST;

static Suite *
concurrency_suite (void)
{
  Suite *s = suite_create ("server-concurrency");
  TCase *tc = tcase_create ("concurrency");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_many_requests);
  tcase_add_test (tc, test_positions_never_go_up);
  return s;
}

GST_CHECK_MAIN (concurrency);
