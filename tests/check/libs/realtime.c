/* gst-fal: GstFalRealtime against the local server (order, binary values,
 * errors, idle TIMEOUT and reconnect, throttling) and against a mock
 * (where the key and the token travel, token refresh, a dropped socket). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include "gst/falserver/gstfalserver.h"
#include "falmock.h"

#define KEY "realtime-client-key-77"

/* What the signals delivered, in order. */
typedef struct
{
  GPtrArray *results;           /* GVariant */
  GArray *result_ids;           /* guint64 */
  GPtrArray *errors;            /* GError */
  GArray *error_ids;
  GArray *dropped;
  guint closed;
  gint close_code;
} Events;

static void
on_result (GstFalRealtime * rt, guint64 id, GVariant * result, Events * e)
{
  g_ptr_array_add (e->results, g_variant_ref (result));
  g_array_append_val (e->result_ids, id);
}

static void
on_error (GstFalRealtime * rt, guint64 id, GError * error, Events * e)
{
  g_ptr_array_add (e->errors, g_error_copy (error));
  g_array_append_val (e->error_ids, id);
}

static void
on_dropped (GstFalRealtime * rt, guint64 id, Events * e)
{
  g_array_append_val (e->dropped, id);
}

static void
on_closed (GstFalRealtime * rt, gint code, const gchar * reason, Events * e)
{
  e->closed++;
  e->close_code = code;
}

static Events *
events_watch (GstFalRealtime * rt)
{
  Events *e = g_new0 (Events, 1);

  e->results = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_variant_unref);
  e->result_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  e->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  e->error_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  e->dropped = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_signal_connect (rt, "result", G_CALLBACK (on_result), e);
  g_signal_connect (rt, "error", G_CALLBACK (on_error), e);
  g_signal_connect (rt, "dropped", G_CALLBACK (on_dropped), e);
  g_signal_connect (rt, "closed", G_CALLBACK (on_closed), e);
  return e;
}

static void
events_free (Events * e)
{
  g_ptr_array_unref (e->results);
  g_array_unref (e->result_ids);
  g_ptr_array_unref (e->errors);
  g_array_unref (e->error_ids);
  g_array_unref (e->dropped);
  g_free (e);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Events, events_free);

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default context until @cond, waking every 20 ms for the
 * conditions that no event of this context changes. */
#define WAIT(cond) G_STMT_START {                                          \
    gint64 _deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;    \
    guint _tick = g_timeout_add (20, tick, NULL);                         \
    while (!(cond) && g_get_monotonic_time () < _deadline)              \
      g_main_context_iteration (NULL, TRUE);                             \
    g_source_remove (_tick);                                             \
    fail_unless (cond, "timed out waiting for " #cond);                  \
  } G_STMT_END

#define ID(array, i) g_array_index ((array), guint64, (i))

static GstFalServer *server;
static GstFalClient *client;

static void
setup (void)
{
  GError *error = NULL;

  server = g_object_new (GST_FAL_TYPE_SERVER, "workers", 2, NULL);
  fail_unless (gst_fal_server_start (server, &error), "%s",
      error ? error->message : "");
  client = gst_fal_client_new_for_url (gst_fal_server_get_url (server));
}

static void
teardown (void)
{
  g_clear_object (&client);
  gst_fal_server_stop (server);
  g_clear_object (&server);
}

static GVariant *
message (gint64 index)
{
  static const guint8 bytes[] = { 0xff, 0xd8, 0xff, 0x00, 0x42 };

  return g_variant_new_parsed ("{'index': <%x>, 'frame': <%@ay>}", index,
      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes, sizeof bytes,
          1));
}

GST_START_TEST (test_echo_in_order)
{
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (client, "local/echo");
  g_autoptr (Events) e = events_watch (rt);
  g_autoptr (GError) error = NULL;
  guint64 ids[6];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    ids[i] = gst_fal_realtime_send (rt, message (i), &error);
    g_assert_no_error (error);
    fail_unless_equals_int (ids[i], i + 1);
  }
  WAIT (e->results->len == G_N_ELEMENTS (ids));
  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    g_autoptr (GVariant) expected = g_variant_ref_sink (message (i));

    fail_unless_equals_int (ID (e->result_ids, i), ids[i]);
    fail_unless (g_variant_equal (g_ptr_array_index (e->results, i),
            expected));
  }
  fail_unless_equals_int (e->errors->len, 0);
  /* one socket for all of them */
  fail_unless_equals_int (gst_fal_realtime_get_n_connections (rt), 1);
}

GST_END_TEST;

GST_START_TEST (test_connect)
{
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (client, "local/echo");
  g_autoptr (GstFalRealtime) unknown = gst_fal_realtime_new (client,
      "local/no-such-app");
  g_autoptr (GError) error = NULL;

  fail_unless (gst_fal_realtime_open (rt, NULL, &error));
  g_assert_no_error (error);
  fail_unless_equals_int (gst_fal_realtime_get_n_connections (rt), 1);
  /* open already: nothing new */
  fail_unless (gst_fal_realtime_open (rt, NULL, &error));
  fail_unless_equals_int (gst_fal_realtime_get_n_connections (rt), 1);

  fail_if (gst_fal_realtime_open (unknown, NULL, &error));
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_NOT_FOUND);
  fail_unless_equals_int (gst_fal_error_get_http_status (error), 404);
  fail_unless (strstr (error->message, "HTTP 404") != NULL, "%s",
      error->message);
}

GST_END_TEST;

GST_START_TEST (test_bad_messages)
{
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (client, "local/echo");
  g_autoptr (GError) error = NULL;

  fail_unless_equals_int (gst_fal_realtime_send (rt,
          g_variant_new_string ("not a map"), &error), 0);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  fail_unless_equals_int (gst_fal_realtime_send (rt,
          g_variant_new_parsed ("{'fd': <handle 3>}"), &error), 0);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  gst_fal_realtime_close (rt);
  fail_unless_equals_int (gst_fal_realtime_send (rt, message (0), &error), 0);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_CANCELLED);
}

GST_END_TEST;

GST_START_TEST (test_server_error)
{
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (client, "local/fail");
  g_autoptr (Events) e = events_watch (rt);
  GError *error;
  guint64 id;

  id = gst_fal_realtime_send (rt, g_variant_new_parsed ("{'status': "
          "<int64 500>, 'detail': <'out of ideas'>}"), NULL);
  WAIT (e->closed == 1);
  fail_unless_equals_int (e->errors->len, 1);
  fail_unless_equals_int (ID (e->error_ids, 0), id);
  error = g_ptr_array_index (e->errors, 0);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
  assert_equals_string (gst_fal_error_get_error_type (error),
      "INTERNAL_ERROR");
  assert_equals_string (gst_fal_error_get_detail (error), "out of ideas");
  fail_unless_equals_int (e->close_code, 1000);
}

GST_END_TEST;

GST_START_TEST (test_reconnect_after_timeout)
{
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (client, "local/echo");
  g_autoptr (Events) e = events_watch (rt);

  gst_fal_realtime_send (rt, message (1), NULL);
  WAIT (e->results->len == 1);
  /* the server ends the idle session (TIMEOUT, 1000): not an error */
  WAIT (e->closed == 1);
  fail_unless_equals_int (e->close_code, 1000);
  fail_unless_equals_int (e->errors->len, 0);
  /* the next send opens a new socket */
  gst_fal_realtime_send (rt, message (2), NULL);
  WAIT (e->results->len == 2);
  fail_unless_equals_int (ID (e->result_ids, 1), 2);
  fail_unless_equals_int (gst_fal_realtime_get_n_connections (rt), 2);
}

GST_END_TEST;

GST_START_TEST (test_throttle_latest_wins)
{
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (client, "local/echo");
  g_autoptr (Events) e = events_watch (rt);
  guint i;

  g_object_set (rt, "throttle-interval", 300, NULL);
  for (i = 1; i <= 5; i++)
    gst_fal_realtime_send (rt, message (i), NULL);
  /* the first leaves at once; of the others only the newest, at the end of
   * the interval; the ones it replaced get no result and are reported */
  WAIT (e->results->len == 2);
  fail_unless_equals_int (ID (e->result_ids, 0), 1);
  fail_unless_equals_int (ID (e->result_ids, 1), 5);
  fail_unless_equals_int (e->dropped->len, 3);
  fail_unless_equals_int (ID (e->dropped, 0), 2);
  fail_unless_equals_int (ID (e->dropped, 2), 4);
  fail_unless_equals_int (e->errors->len, 0);
}

GST_END_TEST;

/* With max-buffering N the server drops the oldest of its waiting inputs
 * and results carry no id: the client keeps at most N + 1 unanswered on the
 * socket, so each result goes to the message it answers. */
GST_START_TEST (test_max_buffering_keeps_ids)
{
  g_autoptr (GstFalRealtime) rt = gst_fal_realtime_new (client, "local/sleep");
  g_autoptr (Events) e = events_watch (rt);
  static const gdouble seconds[] = { 0.5, 0.01, 0.02, 0.03 };
  gdouble slept;
  guint i;

  g_object_set (rt, "max-buffering", 1, NULL);
  for (i = 0; i < G_N_ELEMENTS (seconds); i++)
    gst_fal_realtime_send (rt, g_variant_new_parsed ("{'seconds': <%d>}",
            seconds[i]), NULL);
  /* the first two go out; of the two held back, the newer replaces the
   * older, which is reported with its own id */
  WAIT (e->results->len == 3);
  fail_unless_equals_int (e->errors->len, 0);
  for (i = 0; i < 3; i++) {
    guint64 id = ID (e->result_ids, i);

    fail_unless (g_variant_lookup (g_ptr_array_index (e->results, i),
            "slept", "d", &slept));
    fail_unless (slept == seconds[id - 1], "result %u (id %" G_GUINT64_FORMAT
        ") slept %g", i, id, slept);
  }
  fail_unless_equals_int (ID (e->result_ids, 0), 1);
  fail_unless_equals_int (ID (e->result_ids, 1), 2);
  fail_unless_equals_int (ID (e->result_ids, 2), 4);
  fail_unless_equals_int (e->dropped->len, 1);
  fail_unless_equals_int (ID (e->dropped, 0), 3);
}

GST_END_TEST;

/* ---------------------------------------------------------------- mock */

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean installed;
  GPtrArray *urls;              /* handshake URLs */
  GPtrArray *headers;           /* SoupMessageHeaders of each handshake */
  GPtrArray *sockets;           /* SoupWebsocketConnection */
  gboolean drop_next;           /* close the socket on the next message */
  guint tokens;
} MockWs;

static void
mock_ws_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    MockWs * m)
{
  gboolean drop;

  g_mutex_lock (&m->lock);
  drop = m->drop_next;
  m->drop_next = FALSE;
  g_mutex_unlock (&m->lock);
  if (drop)
    /* going away, without the result */
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        NULL);
  else
    soup_websocket_connection_send_message (ws, SOUP_WEBSOCKET_DATA_BINARY,
        message);
}

static void
mock_ws_upgraded (SoupServer * soup, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * ws, gpointer data)
{
  MockWs *m = data;

  g_mutex_lock (&m->lock);
  g_ptr_array_add (m->urls, g_uri_to_string (soup_server_message_get_uri
          (msg)));
  g_ptr_array_add (m->headers, soup_message_headers_ref
      (soup_server_message_get_request_headers (msg)));
  g_ptr_array_add (m->sockets, g_object_ref (ws));
  g_mutex_unlock (&m->lock);
  g_signal_connect (ws, "message", G_CALLBACK (mock_ws_message), m);
}

static void
mock_token (FalMock * mock, SoupServerMessage * msg, const gchar * path,
    gpointer data)
{
  MockWs *m = data;
  g_autofree gchar *body = NULL;

  g_mutex_lock (&m->lock);
  body = g_strdup_printf ("\"token-%u\"", ++m->tokens);
  g_mutex_unlock (&m->lock);
  fal_mock_respond_json (msg, 200, body);
}

typedef struct
{
  FalMock *mock;
  MockWs *m;
} AddWs;

static gboolean
add_ws_handler (gpointer data)
{
  AddWs *a = data;

  soup_server_add_websocket_handler (a->mock->server, "/run/", NULL, NULL,
      mock_ws_upgraded, a->m, NULL);
  g_mutex_lock (&a->m->lock);
  a->m->installed = TRUE;
  g_cond_broadcast (&a->m->cond);
  g_mutex_unlock (&a->m->lock);
  return G_SOURCE_REMOVE;
}

static MockWs *
mock_ws_new (FalMock * mock)
{
  MockWs *m = g_new0 (MockWs, 1);
  AddWs a = { mock, m };

  g_mutex_init (&m->lock);
  g_cond_init (&m->cond);
  m->urls = g_ptr_array_new_with_free_func (g_free);
  m->headers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      soup_message_headers_unref);
  m->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  fal_mock_add_handler (mock, "/rest/tokens/", mock_token, m);
  g_main_context_invoke (fal_mock_get_context (mock), add_ws_handler, &a);
  g_mutex_lock (&m->lock);
  while (!m->installed)
    g_cond_wait (&m->cond, &m->lock);
  g_mutex_unlock (&m->lock);
  return m;
}

static guint
mock_ws_count (MockWs * m, guint * tokens)
{
  guint n;

  g_mutex_lock (&m->lock);
  n = m->urls->len;
  if (tokens)
    *tokens = m->tokens;
  g_mutex_unlock (&m->lock);
  return n;
}

static void
mock_ws_free (MockWs * m)
{
  g_ptr_array_unref (m->urls);
  g_ptr_array_unref (m->headers);
  g_ptr_array_unref (m->sockets);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->cond);
  g_free (m);
}

/* Closes @rt and frees what a mock test made, in the order that lets the
 * socket close before its server goes. */
static void
mock_test_end (GstFalRealtime * rt, Events * e, FalMock * mock, MockWs * m)
{
  gst_fal_realtime_close (rt);
  g_object_unref (rt);
  events_free (e);
  fal_mock_free (mock);
  mock_ws_free (m);
}

GST_START_TEST (test_key_only_in_token_request)
{
  FalMock *mock = fal_mock_new ();
  MockWs *m = mock_ws_new (mock);
  g_autoptr (GstFalClient) keyed =
      gst_fal_client_new_for_url (fal_mock_get_url (mock));
  GstFalRealtime *rt;
  Events *e;
  const gchar *url, *token_auth;
  SoupMessageHeaders *headers;
  SoupMessageHeadersIter iter;
  const char *name, *value;

  g_object_set (keyed, "key", KEY, NULL);
  rt = gst_fal_realtime_new (keyed, "fal-ai/fast-lcm-diffusion");
  e = events_watch (rt);
  g_object_set (rt, "max-buffering", 2, NULL);
  gst_fal_realtime_send (rt, message (1), NULL);
  WAIT (e->results->len == 1);

  /* the token request carries the key and asks for the alias */
  token_auth = fal_mock_request_header (mock, "POST", "/rest/tokens/",
      "Authorization");
  assert_equals_string (token_auth, "Key " KEY);
  /* the handshake carries the token, never the key */
  g_mutex_lock (&m->lock);
  url = g_ptr_array_index (m->urls, 0);
  fail_unless (g_str_has_suffix (url,
          "/run/fal-ai/fast-lcm-diffusion/realtime?"
          "fal_jwt_token=token-1&max_buffering=2"), "%s", url);
  fail_unless (strstr (url, KEY) == NULL);
  headers = g_ptr_array_index (m->headers, 0);
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    fail_unless (strstr (value, KEY) == NULL, "the key in %s", name);
  g_mutex_unlock (&m->lock);

  mock_test_end (rt, e, mock, m);
}

GST_END_TEST;

GST_START_TEST (test_token_refresh_keeps_socket)
{
  FalMock *mock = fal_mock_new ();
  MockWs *m = mock_ws_new (mock);
  g_autoptr (GstFalClient) keyed =
      gst_fal_client_new_for_url (fal_mock_get_url (mock));
  GstFalRealtime *rt;
  Events *e;
  guint tokens = 0;

  g_object_set (keyed, "key", KEY, NULL);
  rt = gst_fal_realtime_new (keyed, "local/echo");
  e = events_watch (rt);
  g_object_set (rt, "token-expiration", 1, NULL);
  gst_fal_realtime_send (rt, message (1), NULL);
  WAIT (e->results->len == 1);
  /* refreshed at 90 % of its second, twice, with the socket kept */
  WAIT ((mock_ws_count (m, &tokens), tokens >= 3));
  gst_fal_realtime_send (rt, message (2), NULL);
  WAIT (e->results->len == 2);
  fail_unless_equals_int (mock_ws_count (m, NULL), 1);
  fail_unless_equals_int (gst_fal_realtime_get_n_connections (rt), 1);
  fail_unless_equals_int (e->closed, 0);

  mock_test_end (rt, e, mock, m);
}

GST_END_TEST;

GST_START_TEST (test_drop_reports_lost_and_reconnects)
{
  FalMock *mock = fal_mock_new ();
  MockWs *m = mock_ws_new (mock);
  g_autoptr (GstFalClient) keyless =
      gst_fal_client_new_for_url (fal_mock_get_url (mock));
  GstFalRealtime *rt = gst_fal_realtime_new (keyless, "local/echo");
  Events *e = events_watch (rt);
  GError *error;

  gst_fal_realtime_send (rt, message (1), NULL);
  WAIT (e->results->len == 1);
  g_mutex_lock (&m->lock);
  m->drop_next = TRUE;
  g_mutex_unlock (&m->lock);
  gst_fal_realtime_send (rt, message (2), NULL);
  /* the lost result is an error of that message, never silent */
  WAIT (e->errors->len == 1 && e->closed == 1);
  fail_unless_equals_int (ID (e->error_ids, 0), 2);
  error = g_ptr_array_index (e->errors, 0);
  g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER);
  fail_unless (strstr (error->message, "closed (code 1001)") != NULL, "%s",
      error->message);
  /* no key: no token request, no token in the URL */
  fail_unless_equals_int (fal_mock_count (mock, "POST", "/rest/tokens/"), 0);
  /* the next send reconnects */
  gst_fal_realtime_send (rt, message (3), NULL);
  WAIT (e->results->len == 2);
  fail_unless_equals_int (ID (e->result_ids, 1), 3);
  fail_unless_equals_int (mock_ws_count (m, NULL), 2);

  mock_test_end (rt, e, mock, m);
}

GST_END_TEST;

static Suite *
realtime_suite (void)
{
  Suite *s = suite_create ("realtime");
  TCase *tc = tcase_create ("server");
  TCase *mock = tcase_create ("mock");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_echo_in_order);
  tcase_add_test (tc, test_connect);
  tcase_add_test (tc, test_bad_messages);
  tcase_add_test (tc, test_server_error);
  tcase_add_test (tc, test_reconnect_after_timeout);
  tcase_add_test (tc, test_throttle_latest_wins);
  tcase_add_test (tc, test_max_buffering_keeps_ids);
  suite_add_tcase (s, mock);
  tcase_add_test (mock, test_key_only_in_token_request);
  tcase_add_test (mock, test_token_refresh_keeps_socket);
  tcase_add_test (mock, test_drop_reports_lost_and_reconnects);
  return s;
}

GST_CHECK_MAIN (realtime);
