/* gst-fal: every call ends within its timeout. Against servers that never
 * answer, reset or close every connection, each network operation of the
 * library fails with GST_FAL_ERROR_TIMEOUT once the call's timeout (the
 * options', else the client's) has passed; a multipart upload is bounded as
 * a whole; a cancellation ends a call.
 *
 * The tests assert outcomes, never durations: each call gets a watchdog
 * that cancels it long after its timeout, so a call that ignores its
 * deadline fails with CANCELLED instead of hanging. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
#include <glib/gstdio.h>

#include "gstfalupload-private.h"
#include "falmock.h"

#define CALL_TIMEOUT 1.0
/* far beyond CALL_TIMEOUT, well below the 60 s of one exchange's attempt */
#define WATCHDOG_SECONDS 20.0
/* a cancellation, while the call waits for an answer */
#define CANCEL_SECONDS 0.3

static FalMockSocket *server;
static FalMock *mock;
static GstFalClient *client;
static gchar *tmp_dir;

/* An operation of the library, run blocking against the client. */
typedef gboolean (*OperationFunc) (GstFalOptions * options,
    GCancellable * cancellable, GError ** error);

typedef struct
{
  const gchar *name;
  OperationFunc func;
  /* what its timeout's message says */
  const gchar *message;
  /* it takes a GstFalOptions (else only the client's timeout applies) */
  gboolean takes_options;
  /* retried on failed connections (else it fails at once, SERVER) */
  gboolean retried;
} Operation;

static gboolean
op_run (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonNode) node = gst_fal_client_run (client, "local/echo", NULL,
      options, cancellable, error);

  return node != NULL;
}

static gboolean
op_submit (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstFalRequest) request = gst_fal_client_submit (client,
      "local/echo", NULL, options, cancellable, error);

  return request != NULL;
}

static gboolean
op_subscribe (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (JsonNode) node = gst_fal_client_subscribe (client, "local/echo",
      NULL, options, NULL, NULL, cancellable, error);

  return node != NULL;
}

static gboolean
op_stream (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonNode) node = gst_fal_client_stream (client, "local/echo",
      NULL, options, NULL, NULL, cancellable, error);

  return node != NULL;
}

static gboolean
op_status (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstFalStatus) status = gst_fal_client_status (client,
      "local/echo", "req-1", FALSE, cancellable, error);

  return status != NULL;
}

static gboolean
op_result (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonNode) node = gst_fal_client_result (client, "local/echo",
      "req-1", cancellable, error);

  return node != NULL;
}

static gboolean
op_cancel (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  return gst_fal_client_cancel (client, "local/echo", "req-1", cancellable,
      error);
}

static gboolean
wait_with_mode (GstFalOptions * options, GstFalStatusMode mode,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstFalRequest) request = gst_fal_client_get_request (client,
      "local/echo", "req-1");
  g_autoptr (GstFalOptions) with_mode = options ?
      gst_fal_options_copy (options) : gst_fal_options_new ();
  g_autoptr (GstFalStatus) status = NULL;

  gst_fal_options_set_status_mode (with_mode, mode);
  status = gst_fal_request_wait (request, with_mode, NULL, NULL, cancellable,
      error);
  return status != NULL;
}

/* the status stream (SSE) */
static gboolean
op_wait_stream (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  return wait_with_mode (options, GST_FAL_STATUS_MODE_STREAM, cancellable,
      error);
}

static gboolean
op_wait_poll (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  return wait_with_mode (options, GST_FAL_STATUS_MODE_POLL, cancellable, error);
}

static gboolean
op_get (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstFalRequest) request = gst_fal_client_get_request (client,
      "local/echo", "req-1");
  g_autoptr (JsonNode) node = gst_fal_request_get (request, options,
      cancellable, error);

  return node != NULL;
}

static GBytes *
some_bytes (gsize size)
{
  return g_bytes_new_take (g_malloc0 (size), size);
}

static gboolean
op_upload (GstFalOptions * options, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GBytes) bytes = some_bytes (16);
  g_autofree gchar *url = gst_fal_client_upload_bytes_full (client, bytes,
      "image/png", "frame.png", options, cancellable, error);

  return url != NULL;
}

static void
store_result (GObject * source, GAsyncResult * result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* 32 bytes in 8 parts of 4 */
static gchar *
upload_in_parts (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GBytes) bytes = some_bytes (32);
  GMainContext *context = g_main_context_new ();
  GAsyncResult *result = NULL;
  gchar *url;

  g_main_context_push_thread_default (context);
  gst_fal_client_upload_bytes_parts_async (client, bytes, NULL, "parts.bin",
      options, 4, 4, cancellable, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  url = gst_fal_client_upload_bytes_finish (client, result, error);
  g_object_unref (result);
  while (g_main_context_iteration (context, FALSE));
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return url;
}

static gboolean
op_upload_multipart (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  g_autofree gchar *url = upload_in_parts (options, cancellable, error);

  return url != NULL;
}

static gboolean
op_upload_file (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  g_autofree gchar *path = g_build_filename (tmp_dir, "bounded.txt", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree gchar *url = NULL;

  fail_unless (g_file_set_contents (path, "bounded\n", -1, NULL));
  url = gst_fal_client_upload_file (client, file, cancellable, error);
  g_unlink (path);
  return url != NULL;
}

static gboolean
op_upload_sample (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GstCaps) caps = gst_caps_from_string ("video/x-raw,format=RGB,"
      "width=8,height=8,framerate=1/1");
  g_autoptr (GstBuffer) buffer = gst_buffer_new_and_alloc (8 * 8 * 3);
  g_autoptr (GstSample) sample = NULL;
  g_autofree gchar *url = NULL;

  gst_buffer_memset (buffer, 0, 0x80, 8 * 8 * 3);
  sample = gst_sample_new (buffer, caps, NULL, NULL);
  url = gst_fal_client_upload_sample_full (client, sample,
      GST_FAL_IMAGE_FORMAT_PNG, 0, 0, options, cancellable, error);
  return url != NULL;
}

static gboolean
op_download (GstFalOptions * options, GCancellable * cancellable,
    GError ** error)
{
  g_autofree gchar *url = g_strconcat (fal_mock_socket_get_url (server),
      "/files/x.png?token=secret", NULL);
  g_autoptr (GBytes) bytes = gst_fal_client_download_full (client, url,
      options, NULL, cancellable, error);

  return bytes != NULL;
}

static const Operation operations[] = {
  {"run", op_run, "local/echo: no result within 1 s", TRUE, TRUE},
  {"submit", op_submit, "local/echo: no result within 1 s", TRUE, FALSE},
  {"subscribe", op_subscribe, "local/echo: no result within 1 s", TRUE,
      FALSE},
  {"stream", op_stream, "local/echo: no result within 1 s", TRUE, FALSE},
  {"status", op_status,
      "local/echo: status of request req-1: no answer within 1 s", FALSE, TRUE},
  {"result", op_result,
      "local/echo: result of request req-1: no answer within 1 s", FALSE, TRUE},
  {"cancel", op_cancel,
        "local/echo: cancelling request req-1: no answer within 1 s", FALSE,
      TRUE},
  {"wait (status stream)", op_wait_stream,
      "local/echo: request req-1 did not complete within 1 s", TRUE, TRUE},
  {"wait (polling)", op_wait_poll,
      "local/echo: request req-1 did not complete within 1 s", TRUE, TRUE},
  {"get", op_get, "local/echo: request req-1 did not complete within 1 s",
      TRUE, TRUE},
  {"upload", op_upload,
      "upload of frame.png: no answer within 1 s (initiating)", TRUE, TRUE},
  {"multipart upload", op_upload_multipart,
      "upload of parts.bin: no answer within 1 s (initiating)", TRUE, TRUE},
  {"upload of a file", op_upload_file,
      "upload of bounded.txt: no answer within 1 s (initiating)", FALSE, TRUE},
  {"upload of a sample", op_upload_sample,
      "bytes of image/png: no answer within 1 s (initiating)", TRUE, TRUE},
  {"download", op_download, "/files/x.png: no answer within 1 s", TRUE, TRUE},
};

static GstFalClient *
client_new (const gchar * url, gdouble timeout)
{
  GstFalClient *c = gst_fal_client_new_for_url (url);

  /* retries, quick and many: only the deadline can end them */
  g_object_set (c, "timeout", timeout, "max-retries", 100,
      "retry-base-delay", 0.05, "retry-max-delay", 0.1, NULL);
  return c;
}

static void
setup_socket (FalMockSocketMode mode, gdouble client_timeout)
{
  server = fal_mock_socket_new (mode);
  client = client_new (fal_mock_socket_get_url (server), client_timeout);
  tmp_dir = g_dir_make_tmp ("gst-fal-bounded-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
}

static void
setup_silent (void)
{
  setup_socket (FAL_MOCK_SOCKET_SILENT, CALL_TIMEOUT);
}

static void
setup_reset (void)
{
  setup_socket (FAL_MOCK_SOCKET_RESET, CALL_TIMEOUT);
}

static void
setup_close (void)
{
  setup_socket (FAL_MOCK_SOCKET_CLOSE, CALL_TIMEOUT);
}

/* the options' timeout, not the client's (its default: 120 s) */
static void
setup_silent_options (void)
{
  setup_socket (FAL_MOCK_SOCKET_SILENT, 120);
}

/* no timeout at all: only the cancellation ends a call */
static void
setup_silent_unbounded (void)
{
  setup_socket (FAL_MOCK_SOCKET_SILENT, 0);
}

static void
teardown_socket (void)
{
  gst_clear_object (&client);
  fal_mock_socket_free (server);
  server = NULL;
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Runs @op with a watchdog of @seconds; its error. */
static GError *
run_operation (const Operation * op, GstFalOptions * options, gdouble seconds)
{
  FalMockWatchdog *dog = fal_mock_watchdog_new (seconds);
  GError *error = NULL;
  gboolean ok;

  ok = op->func (options, fal_mock_watchdog_get_cancellable (dog), &error);
  fal_mock_watchdog_free (dog);
  fail_if (ok, "%s succeeded", op->name);
  fail_unless (error != NULL, "%s failed without an error", op->name);
  GST_INFO ("%s: %s", op->name, error->message);
  return error;
}

static void
assert_timed_out (const Operation * op, GError * error)
{
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT),
      "%s: not a timeout: %s", op->name, error->message);
  fail_unless (strstr (error->message, op->message) != NULL,
      "%s: message '%s' lacks '%s'", op->name, error->message, op->message);
}

/* A server that accepts and never answers: every operation times out. */
GST_START_TEST (test_silent)
{
  const Operation *op = &operations[__i__];
  g_autoptr (GError) error = run_operation (op, NULL, WATCHDOG_SECONDS);

  assert_timed_out (op, error);
}

GST_END_TEST;

/* With the options' timeout when the operation takes options. */
GST_START_TEST (test_silent_options_timeout)
{
  const Operation *op = &operations[__i__];
  g_autoptr (GstFalOptions) options = gst_fal_options_new ();
  g_autoptr (GError) error = NULL;

  if (!op->takes_options)
    return;
  gst_fal_options_set_timeout (options, CALL_TIMEOUT);
  error = run_operation (op, options, WATCHDOG_SECONDS);
  assert_timed_out (op, error);
}

GST_END_TEST;

/* Every connection fails: the retries stop at the deadline; what is not
 * retried fails at once. */
static void
check_failing_connections (const Operation * op)
{
  g_autoptr (GError) error = run_operation (op, NULL, WATCHDOG_SECONDS);

  if (op->retried)
    assert_timed_out (op, error);
  else
    fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_SERVER),
        "%s: %s", op->name, error->message);
  fail_unless (fal_mock_socket_accepted (server) >= 1);
}

GST_START_TEST (test_reset)
{
  check_failing_connections (&operations[__i__]);
}

GST_END_TEST;

GST_START_TEST (test_close)
{
  check_failing_connections (&operations[__i__]);
}

GST_END_TEST;

/* Without any timeout, a cancellation ends every operation. */
GST_START_TEST (test_cancelled)
{
  const Operation *op = &operations[__i__];
  g_autoptr (GError) error = run_operation (op, NULL, CANCEL_SECONDS);

  fail_unless (g_error_matches (error, GST_FAL_ERROR,
          GST_FAL_ERROR_CANCELLED), "%s: not cancelled: %s", op->name,
      error->message);
}

GST_END_TEST;

/* Storage routes whose later exchanges hang */

typedef enum
{
  HANG_PUT,
  SLOW_PARTS,
  HANG_PART_2,
  HANG_COMPLETE,
} StorageMode;

static StorageMode storage_mode;

static void
setup_storage (void)
{
  mock = fal_mock_new ();
  client = client_new (fal_mock_get_url (mock), CALL_TIMEOUT);
}

static void
teardown_storage (void)
{
  gst_clear_object (&client);
  fal_mock_free (mock);
  mock = NULL;
}

static void
on_initiate (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  g_autofree gchar *json = g_strdup_printf ("{\"upload_url\": "
      "\"%s/up/1?sig=x\", \"file_url\": \"%s/files/1\"}",
      fal_mock_get_url (m), fal_mock_get_url (m));

  fal_mock_respond_json (msg, 200, json);
}

static gboolean
answer_part (gpointer data)
{
  SoupServerMessage *msg = data;

  fal_mock_respond_json (msg, 200, "{\"etag\": \"e\"}");
  soup_server_message_unpause (msg);
  return G_SOURCE_REMOVE;
}

static void
on_upload (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  gboolean hang = storage_mode == HANG_PUT
      || (storage_mode == HANG_PART_2 && g_str_equal (path, "/up/1/2"))
      || (storage_mode == HANG_COMPLETE && g_str_has_suffix (path,
          "/complete"));

  soup_server_message_pause (msg);
  if (hang)
    return;
  /* every part answers, after a while */
  fal_mock_timeout_add (m, storage_mode == SLOW_PARTS ? 300 : 0, answer_part,
      g_object_ref (msg), g_object_unref);
}

static GError *
upload_with_storage_mode (StorageMode mode, gboolean in_parts)
{
  FalMockWatchdog *dog = fal_mock_watchdog_new (WATCHDOG_SECONDS);
  GCancellable *cancellable = fal_mock_watchdog_get_cancellable (dog);
  g_autoptr (GBytes) bytes = some_bytes (16);
  GError *error = NULL;
  gchar *url;

  storage_mode = mode;
  fal_mock_add_handler (mock, "/rest/storage/upload/", on_initiate, NULL);
  fal_mock_add_handler (mock, "/up/", on_upload, NULL);
  if (in_parts)
    url = upload_in_parts (NULL, cancellable, &error);
  else
    url = gst_fal_client_upload_bytes (client, bytes, "image/png",
        "frame.png", cancellable, &error);
  fal_mock_watchdog_free (dog);
  fail_unless (url == NULL, "the upload succeeded");
  GST_INFO ("%s", error->message);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT),
      "not a timeout: %s", error->message);
  return error;
}

GST_START_TEST (test_put_hangs)
{
  g_autoptr (GError) error = upload_with_storage_mode (HANG_PUT, FALSE);

  fail_unless (strstr (error->message, "upload of frame.png: no answer "
          "within 1 s (sending the bytes)"), "%s", error->message);
}

GST_END_TEST;

/* Each part answers in time, but all of them take longer than the upload
 * may: the timeout bounds the upload, not each part. */
GST_START_TEST (test_parts_bounded_as_a_whole)
{
  g_autoptr (GError) error = upload_with_storage_mode (SLOW_PARTS, TRUE);

  fail_unless (strstr (error->message, "upload of parts.bin: no answer "
          "within 1 s (part "), "%s", error->message);
  fail_unless (fal_mock_count (mock, "PUT", "/up/1/*") < 8);
  fail_unless_equals_int (fal_mock_count (mock, "POST", "/up/1/complete"), 0);
}

GST_END_TEST;

GST_START_TEST (test_part_hangs)
{
  g_autoptr (GError) error = upload_with_storage_mode (HANG_PART_2, TRUE);

  fail_unless (strstr (error->message, "upload of parts.bin: no answer "
          "within 1 s (part 2 of 8)"), "%s", error->message);
}

GST_END_TEST;

GST_START_TEST (test_complete_hangs)
{
  g_autoptr (GError) error = upload_with_storage_mode (HANG_COMPLETE, TRUE);

  fail_unless (strstr (error->message, "upload of parts.bin: no answer "
          "within 1 s (completing the multipart upload)"), "%s",
      error->message);
}

GST_END_TEST;

static void
never_answer (FalMock * m, SoupServerMessage * msg, const gchar * path,
    gpointer user_data)
{
  soup_server_message_pause (msg);
}

/* A subscribe that timed out cancels its request on the server, and gives
 * up on that too when the server does not answer. */
GST_START_TEST (test_subscribe_server_cancel_bounded)
{
  FalMockApp queued = { G_MAXUINT, 0, 0, NULL, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  fal_mock_add_app (mock, "local/echo", &queued);
  fal_mock_add_handler (mock, "/queue/local/echo/requests/", never_answer,
      NULL);
  node = gst_fal_client_subscribe (client, "local/echo", NULL, NULL, NULL,
      NULL, NULL, &error);
  fail_unless (node == NULL);
  fail_unless (g_error_matches (error, GST_FAL_ERROR, GST_FAL_ERROR_TIMEOUT),
      "%s", error->message);
  fail_unless_equals_int (fal_mock_wait_count (mock, "PUT",
          "/queue/local/echo/requests/req-1/cancel", 1, WATCHDOG_SECONDS), 1);
}

GST_END_TEST;

static Suite *
bounded_suite (void)
{
  Suite *s = suite_create ("bounded");
  TCase *silent = tcase_create ("silent");
  TCase *options = tcase_create ("options-timeout");
  TCase *reset = tcase_create ("reset");
  TCase *closed = tcase_create ("close");
  TCase *cancelled = tcase_create ("cancelled");
  TCase *storage = tcase_create ("storage");
  gint n = G_N_ELEMENTS (operations);

  suite_add_tcase (s, silent);
  tcase_add_checked_fixture (silent, setup_silent, teardown_socket);
  tcase_add_loop_test (silent, test_silent, 0, n);

  suite_add_tcase (s, options);
  tcase_add_checked_fixture (options, setup_silent_options, teardown_socket);
  tcase_add_loop_test (options, test_silent_options_timeout, 0, n);

  suite_add_tcase (s, reset);
  tcase_add_checked_fixture (reset, setup_reset, teardown_socket);
  tcase_add_loop_test (reset, test_reset, 0, n);

  suite_add_tcase (s, closed);
  tcase_add_checked_fixture (closed, setup_close, teardown_socket);
  tcase_add_loop_test (closed, test_close, 0, n);

  suite_add_tcase (s, cancelled);
  tcase_add_checked_fixture (cancelled, setup_silent_unbounded,
      teardown_socket);
  tcase_add_loop_test (cancelled, test_cancelled, 0, n);

  suite_add_tcase (s, storage);
  /* the bound of a call that no watchdog can cancel */
  tcase_set_timeout (storage, 60);
  tcase_add_checked_fixture (storage, setup_storage, teardown_storage);
  tcase_add_test (storage, test_put_hangs);
  tcase_add_test (storage, test_parts_bounded_as_a_whole);
  tcase_add_test (storage, test_part_hangs);
  tcase_add_test (storage, test_complete_hangs);
  tcase_add_test (storage, test_subscribe_server_cancel_bounded);
  return s;
}

GST_CHECK_MAIN (bounded);
