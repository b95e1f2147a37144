/* gst-fal runners: the runners of a local server's apps and their states,
 * from its admin endpoint GET /_admin/runners[/APP] (docs/server.md) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <stdio.h>
#include <string.h>
#include <libsoup/soup.h>

#define DEFAULT_SERVER "http://127.0.0.1:8472"

/* The server's answer as JSON, or NULL with a message printed. */
static JsonNode *
fetch_runners (const GstFalCmdOptions * opts, const gchar * app, int *status)
{
  const gchar *server = opts->server && *opts->server ? opts->server :
      g_getenv ("GST_FAL_URL");
  const gchar *key = opts->key && *opts->key ? opts->key :
      g_getenv ("FAL_KEY");
  g_autoptr (SoupSession) session = soup_session_new_with_options ("timeout",
      opts->timeout > 0 ? (guint) opts->timeout : 30, NULL);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;
  JsonNode *node;

  if (server == NULL || *server == '\0')
    server = DEFAULT_SERVER;
  url = g_strdup_printf ("%s%s/_admin/runners%s%s", server,
      g_str_has_suffix (server, "/") ? "." : "", app ? "/" : "",
      app ? app : "");
  msg = soup_message_new (SOUP_METHOD_GET, url);
  if (msg == NULL) {
    *status = gst_fal_cmd_usage_error ("runners: %s is not a server URL",
        server);
    return NULL;
  }
  if (opts->tls_ca_file && *opts->tls_ca_file) {
    g_autoptr (GTlsDatabase) database =
        g_tls_file_database_new (opts->tls_ca_file, &error);

    if (database == NULL) {
      *status = gst_fal_cmd_report_error ("runners", error);
      return NULL;
    }
    soup_session_set_tls_database (session, database);
  }
  if (key && *key) {
    g_autofree gchar *authorization = g_strdup_printf ("Key %s", key);

    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", authorization);
  }
  body = soup_session_send_and_read (session, msg, NULL, &error);
  if (body == NULL) {
    g_prefix_error (&error, "%s: ", server);
    *status = gst_fal_cmd_report_error ("runners", error);
    return NULL;
  }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_printerr ("gst-fal: runners: %s answered %u%s: %.*s\n", server,
        soup_message_get_status (msg),
        soup_message_get_status (msg) == SOUP_STATUS_NOT_FOUND && !app ?
        " (is it a gst-fal serve --admin?)" : "",
        (int) MIN (g_bytes_get_size (body), 500),
        (const gchar *) g_bytes_get_data (body, NULL));
    *status = GST_FAL_EXIT_FAILURE;
    return NULL;
  }
  node = json_from_string (g_bytes_get_data (body, NULL), &error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_printerr ("gst-fal: runners: %s did not answer a JSON object\n",
        server);
    g_clear_pointer (&node, json_node_unref);
    *status = GST_FAL_EXIT_FAILURE;
  }
  return node;
}

static void
print_app (JsonObject * app)
{
  JsonArray *runners = json_object_get_array_member (app, "runners");
  guint i, n = json_array_get_length (runners);

  printf ("%s: %u runner%s (min %" G_GINT64_FORMAT ", max %" G_GINT64_FORMAT
      ", keep-alive %g s), %" G_GINT64_FORMAT " queued\n",
      json_object_get_string_member (app, "app"), n, n == 1 ? "" : "s",
      json_object_get_int_member (app, "min_concurrency"),
      json_object_get_int_member (app, "max_concurrency"),
      json_object_get_double_member (app, "keep_alive"),
      json_object_get_int_member (app, "queued"));
  for (i = 0; i < n; i++) {
    JsonObject *runner = json_array_get_object_element (runners, i);

    printf ("  %s  %-8s %6" G_GINT64_FORMAT " served  since %s\n",
        json_object_get_string_member (runner, "runner_id"),
        json_object_get_string_member (runner, "state"),
        json_object_get_int_member (runner, "requests_served"),
        json_object_get_string_member (runner, "started_at"));
  }
}

int
gst_fal_cmd_runners (int argc, char **argv)
{
  GstFalCmdOptions opts = { 0 };
  g_autoptr (JsonNode) answer = NULL;
  gboolean json = FALSE;
  const GOptionEntry extra[] = {
    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
        "print the server's answer as JSON", NULL},
    {NULL}
  };
  int status = GST_FAL_EXIT_OK;
  guint i;

  if (!gst_fal_cmd_parse_full (&argc, &argv, "[APP]",
          "Lists the runners of a local server's apps (gst-fal serve "
          "--admin): each with its state (starting, idle, busy) and the "
          "requests it served. The server is --server, else $GST_FAL_URL, "
          "else " DEFAULT_SERVER ".", 0, extra, &opts, 0, 1))
    return GST_FAL_EXIT_USAGE;

  answer = fetch_runners (&opts, argc == 2 ? argv[1] : NULL, &status);
  if (answer && json) {
    gst_fal_cmd_print_json (answer, TRUE);
  } else if (answer) {
    JsonArray *apps = json_object_get_array_member (json_node_get_object
        (answer), "apps");

    for (i = 0; apps && i < json_array_get_length (apps); i++)
      print_app (json_array_get_object_element (apps, i));
  }
  gst_fal_cmd_options_clear (&opts);
  return status;
}
