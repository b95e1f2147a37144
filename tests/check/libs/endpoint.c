/* gst-fal: endpoint ids (fal-protocol.md §1.3) and base URLs (§1.4) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/fal/gstfal.h>
/* library-internal (hidden symbols): build it in */
#include "gstfalendpoint.c"

typedef struct
{
  const gchar *input;
  const gchar *id;
  const gchar *app;
  const gchar *namespace_;
  const gchar *owner;
  const gchar *alias;
  const gchar *path;
} EndpointCase;

static const EndpointCase cases[] = {
  {"fal-ai/flux/dev", "fal-ai/flux/dev", "fal-ai/flux", NULL, "fal-ai",
      "flux", "dev"},
  {"fal-ai/kling-video/v2.5-turbo/pro", "fal-ai/kling-video/v2.5-turbo/pro",
      "fal-ai/kling-video", NULL, "fal-ai", "kling-video", "v2.5-turbo/pro"},
  {"fal-ai/fast-sdxl", "fal-ai/fast-sdxl", "fal-ai/fast-sdxl", NULL,
      "fal-ai", "fast-sdxl", ""},
  {"workflows/me/pipe/x", "workflows/me/pipe/x", "workflows/me/pipe",
      "workflows", "me", "pipe", "x"},
  {"comfy/me/graph", "comfy/me/graph", "comfy/me/graph", "comfy", "me",
      "graph", ""},
  {"12345-my-app", "12345/my-app", "12345/my-app", NULL, "12345", "my-app",
      ""},
  {"local/echo", "local/echo", "local/echo", NULL, "local", "echo", ""},
  {"local//echo/", "local/echo", "local/echo", NULL, "local", "echo", ""},
};

static const gchar *invalid[] = {
  "", "flux", "12345-", "-alias", "12345-bad_alias", "abc-def", "fal-ai/",
  "/flux", "workflows/me", "comfy",
};

GST_START_TEST (test_parse)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GstFalEndpoint) endpoint =
        gst_fal_endpoint_parse (cases[i].input, &error);

    g_assert_no_error (error);
    assert_equals_string (endpoint->id, cases[i].id);
    assert_equals_string (endpoint->app, cases[i].app);
    assert_equals_string (endpoint->namespace_, cases[i].namespace_);
    assert_equals_string (endpoint->owner, cases[i].owner);
    assert_equals_string (endpoint->alias, cases[i].alias);
    assert_equals_string (endpoint->path, cases[i].path);
  }
}

GST_END_TEST;

GST_START_TEST (test_invalid)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++) {
    g_autoptr (GError) error = NULL;
    GstFalEndpoint *endpoint = gst_fal_endpoint_parse (invalid[i], &error);

    fail_unless (endpoint == NULL, "%s parsed", invalid[i]);
    g_assert_error (error, GST_FAL_ERROR, GST_FAL_ERROR_INVALID_ARGUMENT);
    fail_unless (strstr (error->message, "<appOwner>/<appId>"));
  }
}

GST_END_TEST;

GST_START_TEST (test_build_url)
{
  g_autofree gchar *a = gst_fal_endpoint_build_url ("https://fal.run",
      "fal-ai/flux/dev", NULL);
  g_autofree gchar *b = gst_fal_endpoint_build_url ("http://h:1/run/",
      "local/echo", "/sub//path/");
  g_autofree gchar *c = gst_fal_endpoint_build_url ("http://h:1/queue",
      "local/echo", "");

  assert_equals_string (a, "https://fal.run/fal-ai/flux/dev");
  assert_equals_string (b, "http://h:1/run/local/echo/sub/path");
  assert_equals_string (c, "http://h:1/queue/local/echo");
}

GST_END_TEST;

static void
check_urls (const gchar * server, const gchar * queue, const gchar * run,
    const gchar * rest)
{
  g_autofree gchar *q = NULL;
  g_autofree gchar *r = NULL;
  g_autofree gchar *s = NULL;

  gst_fal_endpoint_derive_urls (server, &q, &r, &s);
  assert_equals_string (q, queue);
  assert_equals_string (r, run);
  assert_equals_string (s, rest);
}

GST_START_TEST (test_derive_urls)
{
  g_unsetenv ("FAL_RUN_HOST");
  g_unsetenv ("FAL_QUEUE_RUN_HOST");
  check_urls (NULL, "https://queue.fal.run", "https://fal.run",
      "https://rest.fal.ai");
  check_urls ("", "https://queue.fal.run", "https://fal.run",
      "https://rest.fal.ai");
  check_urls ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/queue",
      "http://127.0.0.1:8080/run", "http://127.0.0.1:8080/rest");

  g_setenv ("FAL_RUN_HOST", "run.example.com", TRUE);
  check_urls (NULL, "https://queue.run.example.com",
      "https://run.example.com", "https://rest.fal.ai");
  g_setenv ("FAL_QUEUE_RUN_HOST", "q.example.com", TRUE);
  check_urls (NULL, "https://q.example.com", "https://run.example.com",
      "https://rest.fal.ai");
  /* a server URL wins over the hosts */
  check_urls ("http://localhost:9", "http://localhost:9/queue",
      "http://localhost:9/run", "http://localhost:9/rest");
  g_unsetenv ("FAL_RUN_HOST");
  g_unsetenv ("FAL_QUEUE_RUN_HOST");
}

GST_END_TEST;

GST_START_TEST (test_url_is_under)
{
  fail_unless (gst_fal_url_is_under ("http://h:1/queue/a", "http://h:1/queue"));
  fail_unless (gst_fal_url_is_under ("http://h:1/queue", "http://h:1/queue"));
  fail_unless (gst_fal_url_is_under ("http://h:1/queue?x", "http://h:1/queue"));
  fail_if (gst_fal_url_is_under ("http://h:1/queuex/a", "http://h:1/queue"));
  fail_if (gst_fal_url_is_under ("http://h:1/files/a", "http://h:1/queue"));
  fail_if (gst_fal_url_is_under ("https://fal.run.evil.com/a",
          "https://fal.run"));
  fail_unless (gst_fal_url_is_under ("https://fal.run/a", "https://fal.run"));
}

GST_END_TEST;

GST_START_TEST (test_client_urls)
{
  g_autoptr (GstFalClient) client =
      gst_fal_client_new_for_url ("http://127.0.0.1:1234");
  g_autoptr (GstFalRequest) request = NULL;
  g_autofree gchar *queue = NULL;
  g_autofree gchar *rest = NULL;

  g_object_get (client, "queue-url", &queue, "rest-url", &rest, NULL);
  assert_equals_string (queue, "http://127.0.0.1:1234/queue");
  assert_equals_string (rest, "http://127.0.0.1:1234/rest");
  request = gst_fal_client_get_request (client, "fal-ai/flux/dev", "abc");
  assert_equals_string (gst_fal_request_get_application (request),
      "fal-ai/flux/dev");
  assert_equals_string (gst_fal_request_get_request_id (request), "abc");
}

GST_END_TEST;

static Suite *
endpoint_suite (void)
{
  Suite *s = suite_create ("falendpoint");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse);
  tcase_add_test (tc, test_invalid);
  tcase_add_test (tc, test_build_url);
  tcase_add_test (tc, test_derive_urls);
  tcase_add_test (tc, test_url_is_under);
  tcase_add_test (tc, test_client_urls);
  return s;
}

GST_CHECK_MAIN (endpoint);
