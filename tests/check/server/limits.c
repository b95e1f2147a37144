/* Request limits: authorisation and the declared size are decided from the
 * headers, before any body is read; malformed framing is a 400 at once;
 * half-sent and idle connections time out and their number is bounded. Each
 * test then checks that the server still serves. The server runs in-process
 * with a header timeout of 1 s, so nothing here waits long; every wait is
 * bounded by a socket timeout, and the tests assert outcomes, not times. */
#include <sys/resource.h>
#include "falservertest.h"
#include "falrawhttp.h"

#define KEY "limits-key"
/* the bound of every wait: the server answers or closes well before */
#define WAIT_SECONDS 10
/* half-sent connections held open at once in test_connection_bound */
#define N_HALF_SENT 1100
#define MAX_CONNECTIONS 512
/* descriptors the server may hold besides its client connections */
#define SLACK 48

static GstFalServer *server;
static guint port;

static GstFalServer *
limits_server_new (guint64 max_body)
{
  GError *error = NULL;
  GstFalServer *s = g_object_new (GST_FAL_TYPE_SERVER, "workers", 2, "key",
      KEY, "header-timeout", 1, "idle-timeout", 2, NULL);

  if (max_body)
    g_object_set (s, "max-body", max_body, NULL);
  fail_unless (gst_fal_server_start (s, &error), "start: %s",
      error ? error->message : "?");
  return s;
}

static void
use_server (GstFalServer * s)
{
  g_autoptr (GUri) uri = g_uri_parse (gst_fal_server_get_url (s),
      G_URI_FLAGS_NONE, NULL);

  g_clear_object (&server);
  server = s;
  port = g_uri_get_port (uri);
}

static void
setup (void)
{
  use_server (limits_server_new (0));
}

static void
teardown (void)
{
  g_clear_object (&server);
}

static GSocket *
open_raw (void)
{
  GSocket *socket = fal_raw_connect (port, NULL);

  fail_unless (socket != NULL, "cannot connect");
  g_socket_set_timeout (socket, WAIT_SECONDS);
  return socket;
}

static void
send_raw (GSocket * socket, const gchar * data, gsize size)
{
  fail_unless (g_socket_send_with_blocking (socket, data, size, TRUE, NULL,
          NULL) == (gssize) size, "send failed");
}

/* TRUE once the server closed the connection (end of stream or reset), FALSE
 * when it kept it open for WAIT_SECONDS. What arrives first is discarded. */
static gboolean
wait_closed (GSocket * socket)
{
  gchar buffer[4096];

  for (;;) {
    g_autoptr (GError) error = NULL;
    gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

    if (n == 0)
      return TRUE;
    if (n < 0)
      return !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  }
}

static void
close_raw (GSocket * socket)
{
  g_socket_close (socket, NULL);
  g_object_unref (socket);
}

/* @head (a request head and maybe some body) on a new connection: the
 * answer, which must come without the rest of the body, and then the close. */
static FalRawReply *
answer_without_body (const gchar * head, gsize extra_body)
{
  GSocket *socket = open_raw ();
  g_autofree gchar *body = g_malloc0 (extra_body + 1);
  FalRawReply *reply;

  send_raw (socket, head, strlen (head));
  if (extra_body) {
    memset (body, 'x', extra_body);
    send_raw (socket, body, extra_body);
  }
  reply = fal_raw_receive (socket);
  fail_if (reply->timed_out, "no answer to %s", head);
  fail_unless (wait_closed (socket), "kept open after %u: %s", reply->status,
      head);
  close_raw (socket);
  return reply;
}

/* A legitimate request is served. */
static void
assert_serving (void)
{
  GSocket *socket = open_raw ();
  const gchar *request = "POST /run/local/echo HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nAuthorization: Key " KEY "\r\n"
      "Content-Type: application/json\r\nContent-Length: 12\r\n\r\n"
      "{\"value\": 7}";
  g_autoptr (FalRawReply) reply = NULL;

  send_raw (socket, request, strlen (request));
  reply = fal_raw_receive (socket);
  close_raw (socket);
  fail_unless_equals_int (reply->status, 200);
  fail_unless (strstr (reply->body, "7") != NULL, "%s", reply->body);
}

#define HEAD(method, path, headers) method " " path " HTTP/1.1\r\n" \
  "Host: 127.0.0.1\r\n" headers "\r\n"
#define WITH_KEY "Authorization: Key " KEY "\r\n"

/* 300 MB declared: refused from the headers, without a key (401) and with
 * it (413); the connection is closed rather than the body read. */
GST_START_TEST (test_oversize_body)
{
  g_autoptr (FalRawReply) no_key = answer_without_body (HEAD ("POST",
          "/run/local/echo", "Content-Length: 300000000\r\n"), 65536);
  g_autoptr (FalRawReply) keyed = answer_without_body (HEAD ("POST",
          "/run/local/echo", WITH_KEY "Content-Length: 300000000\r\n"), 65536);

  fail_unless_equals_int (no_key->status, 401);
  fail_unless_equals_int (keyed->status, 413);
  assert_serving ();
}

GST_END_TEST;

/* An unauthenticated request without a body is answered on a connection
 * that stays open for the next one. */
GST_START_TEST (test_refused_keeps_bodiless_connection)
{
  GSocket *socket = open_raw ();
  const gchar *get = HEAD ("GET", "/rest/storage/auth/token", "");
  g_autoptr (FalRawReply) answer1 = NULL;
  g_autoptr (FalRawReply) answer2 = NULL;

  send_raw (socket, get, strlen (get));
  answer1 = fal_raw_receive (socket);
  send_raw (socket, get, strlen (get));
  answer2 = fal_raw_receive (socket);
  close_raw (socket);
  fail_unless_equals_int (answer1->status, 401);
  fail_unless_equals_int (answer2->status, 401);
  assert_serving ();
}

GST_END_TEST;

/* Public upload routes with an unknown upload id: 403 from the headers. */
GST_START_TEST (test_bad_upload_url)
{
  const gchar *heads[] = {
    HEAD ("PUT", "/storage/upload/nope", "Content-Length: 1000000\r\n"),
    HEAD ("PUT", "/storage/multipart/nope/1", "Content-Length: 1000000\r\n"),
    HEAD ("POST", "/storage/multipart/nope/complete",
        "Content-Length: 1000000\r\n"),
    HEAD ("PUT", "/files/abc/f.bin/multipart/nope/1",
        "Content-Length: 1000000\r\n"),
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (heads); i++) {
    g_autoptr (FalRawReply) reply = answer_without_body (heads[i], 4096);

    fail_unless_equals_int (reply->status, 403);
  }
  assert_serving ();
}

GST_END_TEST;

/* Framing libsoup accepts and then waits on or misreads: 400 at once. */
GST_START_TEST (test_malformed_framing)
{
  const gchar *heads[] = {
    HEAD ("POST", "/run/local/echo", WITH_KEY
        "Content-Length: 2\r\nContent-Length: 100000\r\n"),
    HEAD ("POST", "/run/local/echo", WITH_KEY "Content-Length: -1\r\n"),
    HEAD ("POST", "/run/local/echo", WITH_KEY
        "Content-Length: 99999999999999999999999\r\n"),
    HEAD ("POST", "/run/local/echo", WITH_KEY "Content-Length: abc\r\n"),
    HEAD ("POST", "/run/local/echo", WITH_KEY
        "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"),
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (heads); i++) {
    g_autoptr (FalRawReply) reply = answer_without_body (heads[i], 0);

    fail_unless_equals_int (reply->status, 400);
  }
  assert_serving ();
}

GST_END_TEST;

/* A chunk size of 2^63 - 1 is parsed by libsoup, which then waits for the
 * bytes: the body timeout answers 408 and closes. */
GST_START_TEST (test_huge_chunk)
{
  g_autoptr (FalRawReply) reply = answer_without_body (HEAD ("POST",
          "/run/local/echo", WITH_KEY "Transfer-Encoding: chunked\r\n")
      "7fffffffffffffff\r\nab", 0);

  fail_unless_equals_int (reply->status, 408);
  assert_serving ();
}

GST_END_TEST;

/* A chunked body is refused (413) as soon as it grows past max-body. */
GST_START_TEST (test_chunked_oversize)
{
  const gchar *head = HEAD ("POST", "/run/local/echo", WITH_KEY
      "Transfer-Encoding: chunked\r\n");
  gchar chunk[4096 + 16];
  GSocket *socket;
  g_autoptr (FalRawReply) reply = NULL;
  guint i;

  use_server (limits_server_new (65536));
  socket = open_raw ();
  send_raw (socket, head, strlen (head));
  memcpy (chunk, "1000\r\n", 6);
  memset (chunk + 6, 'x', 4096);
  memcpy (chunk + 6 + 4096, "\r\n", 2);
  /* twice max-body, no last chunk: only the limit can answer */
  for (i = 0; i < 32; i++)
    if (g_socket_send_with_blocking (socket, chunk, 6 + 4096 + 2, TRUE, NULL,
            NULL) <= 0)
      break;
  reply = fal_raw_receive (socket);
  fail_unless (wait_closed (socket));
  close_raw (socket);
  fail_unless_equals_int (reply->status, 413);
  assert_serving ();
}

GST_END_TEST;

/* Half-sent headers, an empty connection, a stalled body and an idle
 * kept-alive connection are all closed by the server. */
GST_START_TEST (test_timeouts)
{
  const gchar *half = "POST /run/local/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  const gchar *stalled = HEAD ("POST", "/run/local/echo", WITH_KEY
      "Content-Length: 100\r\n") "{\"value\":";
  const gchar *full = HEAD ("GET", "/rest/storage/auth/token", "");
  GSocket *sockets[4];
  g_autoptr (FalRawReply) stalled_reply = NULL;
  g_autoptr (FalRawReply) full_reply = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sockets); i++)
    sockets[i] = open_raw ();
  send_raw (sockets[0], half, strlen (half));
  /* sockets[1] sends nothing */
  send_raw (sockets[2], stalled, strlen (stalled));
  send_raw (sockets[3], full, strlen (full));
  full_reply = fal_raw_receive (sockets[3]);
  fail_unless_equals_int (full_reply->status, 401);

  fail_unless (wait_closed (sockets[0]), "half-sent headers kept");
  fail_unless (wait_closed (sockets[1]), "silent connection kept");
  stalled_reply = fal_raw_receive (sockets[2]);
  fail_unless_equals_int (stalled_reply->status, 408);
  fail_unless (wait_closed (sockets[2]), "stalled body kept");
  fail_unless (wait_closed (sockets[3]), "idle connection kept");
  for (i = 0; i < G_N_ELEMENTS (sockets); i++)
    close_raw (sockets[i]);
  assert_serving ();
}

GST_END_TEST;

/* Descriptors to spare for N_HALF_SENT client sockets plus the server's
 * bound; the soft limit is raised towards the hard one if needed. */
static void
ensure_descriptors (struct rlimit *saved)
{
  struct rlimit limit;
  rlim_t wanted = fal_raw_count_fds () + N_HALF_SENT + MAX_CONNECTIONS + 256;

  fail_unless (getrlimit (RLIMIT_NOFILE, saved) == 0);
  limit = *saved;
  if (limit.rlim_cur < wanted) {
    fail_unless (limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= wanted,
        "needs %u open files, hard limit %u", (guint) wanted,
        (guint) limit.rlim_max);
    limit.rlim_cur = wanted;
    fail_unless (setrlimit (RLIMIT_NOFILE, &limit) == 0);
  }
}

/* 1100 half-sent connections: the server holds at most max-connections of
 * them (the oldest go first), serves a legitimate request meanwhile, and
 * closes the rest once the header timeout passes. */
GST_START_TEST (test_connection_bound)
{
  const gchar *half = "POST /run/local/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  GPtrArray *sockets = g_ptr_array_new ();
  struct rlimit saved;
  gint before, held;
  guint i, kept = 0, tries;

  ensure_descriptors (&saved);
  before = fal_raw_count_fds ();
  for (i = 0; i < N_HALF_SENT; i++) {
    GSocket *socket = open_raw ();

    /* the server may already have closed it (evicted): sends may fail */
    g_socket_send_with_blocking (socket, half, strlen (half), TRUE, NULL, NULL);
    g_ptr_array_add (sockets, socket);
  }
  assert_serving ();
  held = fal_raw_count_fds () - before - N_HALF_SENT;
  fail_unless (held <= MAX_CONNECTIONS + SLACK, "the server holds %d "
      "descriptors for %u half-sent connections", held, N_HALF_SENT);

  /* stops at the first kept open: each would wait WAIT_SECONDS */
  for (i = 0; i < sockets->len && !kept; i++)
    if (!wait_closed (g_ptr_array_index (sockets, i)))
      kept = i + 1;
  for (i = 0; i < sockets->len; i++)
    close_raw (g_ptr_array_index (sockets, i));
  g_ptr_array_free (sockets, TRUE);
  fail_unless (kept == 0, "half-sent connection %u kept open", kept);
  assert_serving ();

  /* the server's descriptors are back (closing takes a few iterations) */
  for (tries = 0; tries < 100 && fal_raw_count_fds () > before + SLACK; tries++)
    g_usleep (50 * 1000);
  fail_unless (fal_raw_count_fds () <= before + SLACK, "%d descriptors, %d "
      "before", fal_raw_count_fds (), before);
  fail_unless (setrlimit (RLIMIT_NOFILE, &saved) == 0);
}

GST_END_TEST;

/* Injected faults and latency apply to authorised requests only: an
 * unauthenticated one is answered 401 at once, neither dropped nor delayed. */
GST_START_TEST (test_faults_after_auth)
{
  GstFalServerFaults faults = { 0 };
  const gchar *no_key = HEAD ("POST", "/run/local/echo",
      "Content-Length: 2\r\n") "{}";
  g_autoptr (FalRawReply) dropped = NULL;
  g_autoptr (FalRawReply) delayed = NULL;

  faults.rate_drop = 1.0;
  faults.retry_after = 1;
  gst_fal_server_set_faults (server, &faults);
  dropped = answer_without_body (no_key, 0);
  fail_unless_equals_int (dropped->status, 401);

  /* longer than any wait here: a delayed answer would time out */
  faults.rate_drop = 0;
  faults.latency_ms = 60000;
  gst_fal_server_set_faults (server, &faults);
  delayed = answer_without_body (no_key, 0);
  fail_unless_equals_int (delayed->status, 401);

  memset (&faults, 0, sizeof faults);
  faults.retry_after = 1;
  gst_fal_server_set_faults (server, &faults);
  assert_serving ();
}

GST_END_TEST;

static Suite *
limits_suite (void)
{
  Suite *s = suite_create ("server-limits");
  TCase *tc = tcase_create ("limits");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_oversize_body);
  tcase_add_test (tc, test_refused_keeps_bodiless_connection);
  tcase_add_test (tc, test_bad_upload_url);
  tcase_add_test (tc, test_malformed_framing);
  tcase_add_test (tc, test_huge_chunk);
  tcase_add_test (tc, test_chunked_oversize);
  tcase_add_test (tc, test_timeouts);
  tcase_add_test (tc, test_connection_bound);
  tcase_add_test (tc, test_faults_after_auth);
  return s;
}

GST_CHECK_MAIN (limits);
