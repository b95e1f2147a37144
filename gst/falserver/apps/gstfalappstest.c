/* gst-fal server: deterministic test apps (echo, sleep, fail, counter) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalapps-private.h"

static JsonNode *
echo_run (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  return json_node_copy (gst_fal_app_call_get_input (call));
}

static JsonNode *
sleep_run (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  JsonNode *input = gst_fal_app_call_get_input (call);
  GCancellable *cancellable = gst_fal_app_call_get_cancellable (call);
  gdouble seconds = gst_fal_apps_get_double (input, "seconds", 1.0);
  gint64 logs = gst_fal_apps_get_int (input, "logs", 0);
  gint64 total = (gint64) (seconds * G_USEC_PER_SEC);
  gint64 i, waited = 0;
  JsonObject *output;
  JsonNode *node;

  /* n lines spread over the sleep: one at the start of each slice */
  for (i = 0; i < logs; i++) {
    gint64 until = total * (i + 1) / logs;

    gst_fal_app_call_log (call, "INFO", "sleeping: %" G_GINT64_FORMAT "/%"
        G_GINT64_FORMAT, i + 1, logs);
    if (!gst_fal_apps_wait (cancellable, until - waited, error))
      return NULL;
    waited = until;
  }
  if (!gst_fal_apps_wait (cancellable, total - waited, error))
    return NULL;

  output = json_object_new ();
  json_object_set_member (output, "slept",
      json_node_copy (json_object_get_member (json_node_get_object (input),
              "seconds")));
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, output);
  return node;
}

static JsonNode *
fail_run (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  JsonNode *input = gst_fal_app_call_get_input (call);
  JsonObject *object = json_node_get_object (input);
  gint64 status = gst_fal_apps_get_int (input, "status", 500);
  const gchar *error_type = gst_fal_apps_get_string (input, "error_type",
      NULL);
  g_autoptr (JsonNode) detail = NULL;

  if (json_object_has_member (object, "detail"))
    detail = json_node_copy (json_object_get_member (object, "detail"));
  else {
    detail = json_node_new (JSON_NODE_VALUE);
    json_node_set_string (detail, "Internal Server Error");
  }
  gst_fal_app_call_fail (call, (guint) status, detail, error_type);
  g_set_error (error, GST_FAL_APP_ERROR, (gint) status,
      "local/fail failed as asked with status %u", (guint) status);
  return NULL;
}

static JsonNode *
counter_run (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  JsonNode *input = gst_fal_app_call_get_input (call);
  GCancellable *cancellable = gst_fal_app_call_get_cancellable (call);
  gint64 count = gst_fal_apps_get_int (input, "count", 3);
  gdouble interval = gst_fal_apps_get_double (input, "interval", 0.0);
  gint64 i;
  JsonObject *output;
  JsonNode *node;

  for (i = 0; i < count; i++) {
    g_autoptr (JsonNode) partial = json_node_new (JSON_NODE_OBJECT);
    JsonObject *event = json_object_new ();

    if (i > 0 && !gst_fal_apps_wait (cancellable,
            (gint64) (interval * G_USEC_PER_SEC), error))
      return NULL;
    json_object_set_int_member (event, "index", i);
    json_object_set_int_member (event, "count", count);
    json_node_take_object (partial, event);
    gst_fal_app_call_emit (call, partial);
    gst_fal_app_call_log (call, "INFO", "counted %" G_GINT64_FORMAT "/%"
        G_GINT64_FORMAT, i + 1, count);
  }

  output = json_object_new ();
  json_object_set_int_member (output, "count", count);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, output);
  return node;
}

/* *INDENT-OFF* */
static const GstFalAppInfo test_apps[] = {
  { "local/echo", "Returns its input unchanged",
    "{\"title\": \"EchoInput\", \"description\": \"Any JSON value\"}",
    "{\"title\": \"EchoOutput\", \"description\": \"The input, unchanged\"}",
    echo_run, NULL, NULL },
  { "local/sleep", "Sleeps some seconds, logging while it waits",
    "{\"title\": \"SleepInput\", \"type\": \"object\", \"required\": [\"seconds\"],"
    " \"properties\": {"
    "\"seconds\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 3600,"
    " \"description\": \"How long to sleep\"},"
    "\"logs\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 10000,"
    " \"default\": 0, \"description\": \"Log lines spread over the sleep\"}}}",
    "{\"title\": \"SleepOutput\", \"type\": \"object\", \"required\": [\"slept\"],"
    " \"properties\": {\"slept\": {\"type\": \"number\"}}}",
    sleep_run, NULL, NULL },
  { "local/fail", "Fails with the given status, detail and error type",
    "{\"title\": \"FailInput\", \"type\": \"object\", \"properties\": {"
    "\"status\": {\"type\": \"integer\", \"minimum\": 400, \"maximum\": 599,"
    " \"default\": 500},"
    "\"detail\": {\"description\": \"Any JSON, returned as the error detail\"},"
    "\"error_type\": {\"type\": \"string\", \"nullable\": true}}}",
    "{\"title\": \"FailOutput\", \"description\": \"Never answers\"}",
    fail_run, NULL, NULL },
  { "local/counter", "Emits count partial events, then the count",
    "{\"title\": \"CounterInput\", \"type\": \"object\", \"properties\": {"
    "\"count\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 100000,"
    " \"default\": 3},"
    "\"interval\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 60,"
    " \"default\": 0, \"description\": \"Seconds between events\"}}}",
    "{\"title\": \"CounterOutput\", \"type\": \"object\", \"required\": [\"count\"],"
    " \"properties\": {\"count\": {\"type\": \"integer\"}},"
    " \"x-fal-partial\": {\"type\": \"object\", \"properties\": {"
    "\"index\": {\"type\": \"integer\"}, \"count\": {\"type\": \"integer\"}}}}",
    counter_run, NULL, NULL },
};
/* *INDENT-ON* */

void
gst_fal_apps_register_test (GstFalAppRegistry * registry)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (test_apps); i++)
    gst_fal_app_registry_add (registry, &test_apps[i]);
}
