/* gst-fal server: the registry of apps, and each app's openapi.json */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalapps-private.h"

/* An app as registered: the info handed out by lookup runs the validation
 * of the input against the app's schema, then the app's own run. */
typedef struct
{
  GstFalAppInfo info;
  GstFalAppRunFunc run;
  gpointer app_data;
  GDestroyNotify app_data_free;
  gchar *(*openapi) (gpointer app_data);
} AppEntry;

struct _GstFalAppRegistry
{
  GHashTable *apps;             /* name → AppEntry */
};

static void
app_entry_free (AppEntry * entry)
{
  if (entry->app_data_free)
    entry->app_data_free (entry->app_data);
  g_free ((gchar *) entry->info.name);
  g_free ((gchar *) entry->info.description);
  g_free ((gchar *) entry->info.input_schema);
  g_free ((gchar *) entry->info.output_schema);
  g_free (entry);
}

static JsonNode *
run_validated (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  AppEntry *entry = app_data;
  g_autoptr (JsonNode) detail = NULL;

  detail = gst_fal_apps_validate (entry->info.input_schema,
      gst_fal_app_call_get_input (call));
  if (detail) {
    gst_fal_app_call_fail (call, 422, detail, NULL);
    g_set_error (error, GST_FAL_APP_ERROR, 422,
        "The input of %s is not valid", entry->info.name);
    return NULL;
  }
  return entry->run (call, entry->app_data, error);
}

static gchar *
openapi_of_entry (gpointer app_data)
{
  AppEntry *entry = app_data;

  return entry->openapi (entry->app_data);
}

GstFalAppRegistry *
gst_fal_app_registry_new (void)
{
  GstFalAppRegistry *registry = g_new0 (GstFalAppRegistry, 1);

  registry->apps = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) app_entry_free);
  return registry;
}

void
gst_fal_app_registry_free (GstFalAppRegistry * registry)
{
  if (registry == NULL)
    return;
  g_hash_table_unref (registry->apps);
  g_free (registry);
}

void
gst_fal_app_registry_add (GstFalAppRegistry * registry,
    const GstFalAppInfo * info)
{
  AppEntry *entry;

  g_return_if_fail (registry != NULL);
  g_return_if_fail (info != NULL && info->name != NULL && info->run != NULL);

  entry = g_new0 (AppEntry, 1);
  entry->info.name = g_strdup (info->name);
  entry->info.description = g_strdup (info->description ?
      info->description : "");
  entry->info.input_schema = g_strdup (info->input_schema ?
      info->input_schema : "{}");
  entry->info.output_schema = g_strdup (info->output_schema ?
      info->output_schema : "{}");
  entry->info.realtime = info->realtime;
  entry->info.run = run_validated;
  entry->info.app_data = entry;
  entry->run = info->run;
  entry->app_data = info->app_data;
  entry->app_data_free = info->app_data_free;
  entry->openapi = info->openapi;
  entry->info.openapi = info->openapi ? openapi_of_entry : NULL;
  /* a later registration (e.g. from --apps) replaces an earlier one */
  g_hash_table_replace (registry->apps, (gpointer) entry->info.name, entry);
}

const GstFalAppInfo *
gst_fal_app_registry_lookup (GstFalAppRegistry * registry, const gchar * name)
{
  AppEntry *entry;

  g_return_val_if_fail (registry != NULL, NULL);
  if (name == NULL)
    return NULL;
  entry = g_hash_table_lookup (registry->apps, name);
  return entry ? &entry->info : NULL;
}

static gint
compare_by_name (gconstpointer a, gconstpointer b)
{
  const GstFalAppInfo *info_a = *(const GstFalAppInfo **) a;
  const GstFalAppInfo *info_b = *(const GstFalAppInfo **) b;

  return g_strcmp0 (info_a->name, info_b->name);
}

GPtrArray *
gst_fal_app_registry_list (GstFalAppRegistry * registry)
{
  GPtrArray *list;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (registry != NULL, NULL);
  list = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, registry->apps);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, &((AppEntry *) value)->info);
  g_ptr_array_sort (list, compare_by_name);
  return list;
}

void
gst_fal_apps_register_builtin (GstFalAppRegistry * registry)
{
  gst_fal_apps_register_test (registry);
  gst_fal_apps_register_media (registry);
}

static JsonNode *
schema_or_empty (const gchar * text)
{
  JsonNode *node = text ? json_from_string (text, NULL) : NULL;

  if (node == NULL) {
    node = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (node, json_object_new ());
  }
  return node;
}

/* The input schema with fal's x-fal-order-properties: the order in which its
 * properties are declared, which a form of the input follows. */
static JsonNode *
input_schema_with_order (const gchar * text)
{
  JsonNode *node = schema_or_empty (text);
  JsonObject *schema;
  JsonNode *properties;
  JsonArray *order;
  GList *names, *l;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return node;
  schema = json_node_get_object (node);
  properties = json_object_get_member (schema, "properties");
  if (!properties || !JSON_NODE_HOLDS_OBJECT (properties)
      || json_object_has_member (schema, "x-fal-order-properties"))
    return node;
  order = json_array_new ();
  names = json_object_get_members (json_node_get_object (properties));
  for (l = names; l; l = l->next)
    json_array_add_string_element (order, l->data);
  g_list_free (names);
  json_object_set_array_member (schema, "x-fal-order-properties", order);
  return node;
}

static JsonNode *
parse_static (const gchar * text)
{
  JsonNode *node = json_from_string (text, NULL);

  g_assert (node != NULL);
  return node;
}

static JsonObject *
json_content (const gchar * ref)
{
  JsonObject *content = json_object_new ();
  JsonObject *media = json_object_new ();
  JsonObject *schema = json_object_new ();

  json_object_set_string_member (schema, "$ref", ref);
  json_object_set_object_member (media, "schema", schema);
  json_object_set_object_member (content, "application/json", media);
  return content;
}

static JsonObject *
response (const gchar * description, const gchar * ref)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "description", description);
  json_object_set_object_member (object, "content", json_content (ref));
  return object;
}

/* FastAPI's own schemas of a validation error. */
static const gchar validation_error_schema[] =
    "{\"title\": \"ValidationError\","
    "\"type\": \"object\", \"required\": [\"loc\", \"msg\", \"type\"],"
    "\"properties\": {\"loc\": {\"title\": \"Location\", \"type\": \"array\","
    "\"items\": {\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}},"
    "\"msg\": {\"title\": \"Message\", \"type\": \"string\"},"
    "\"type\": {\"title\": \"Error Type\", \"type\": \"string\"}}}";
static const gchar http_validation_error_schema[] =
    "{" "\"title\": \"HTTPValidationError\", \"type\": \"object\","
    "\"properties\": {\"detail\": {\"title\": \"Detail\", \"type\": \"array\","
    "\"items\": {\"$ref\": \"#/components/schemas/ValidationError\"}}}}";

/* The OpenAPI document built from the app's schemas. */
static gchar *
openapi_from_schemas (const GstFalAppInfo * info)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *doc = json_object_new ();
  JsonObject *meta = json_object_new ();
  JsonObject *fal_meta = json_object_new ();
  JsonObject *paths = json_object_new ();
  JsonObject *path = json_object_new ();
  JsonObject *post = json_object_new ();
  JsonObject *body = json_object_new ();
  JsonObject *responses = json_object_new ();
  JsonObject *components = json_object_new ();
  JsonObject *schemas = json_object_new ();

  json_object_set_string_member (doc, "openapi", "3.0.2");
  json_object_set_string_member (meta, "title", info->name);
  json_object_set_string_member (meta, "description",
      info->description ? info->description : "");
  json_object_set_string_member (meta, "version", PACKAGE_VERSION);
  json_object_set_object_member (doc, "info", meta);
  json_object_set_string_member (fal_meta, "endpointId", info->name);
  json_object_set_object_member (doc, "x-fal-metadata", fal_meta);

  json_object_set_string_member (post, "summary", info->description ?
      info->description : info->name);
  json_object_set_string_member (post, "operationId", "run");
  json_object_set_boolean_member (body, "required", TRUE);
  json_object_set_object_member (body, "content",
      json_content ("#/components/schemas/Input"));
  json_object_set_object_member (post, "requestBody", body);
  json_object_set_object_member (responses, "200",
      response ("Successful Response", "#/components/schemas/Output"));
  json_object_set_object_member (responses, "422",
      response ("Validation Error",
          "#/components/schemas/HTTPValidationError"));
  json_object_set_object_member (post, "responses", responses);
  json_object_set_object_member (path, "post", post);
  json_object_set_object_member (paths, "/", path);
  json_object_set_object_member (doc, "paths", paths);

  json_object_set_member (schemas, "Input",
      input_schema_with_order (info->input_schema));
  json_object_set_member (schemas, "Output",
      schema_or_empty (info->output_schema));
  json_object_set_member (schemas, "ValidationError",
      parse_static (validation_error_schema));
  json_object_set_member (schemas, "HTTPValidationError",
      parse_static (http_validation_error_schema));
  json_object_set_object_member (components, "schemas", schemas);
  json_object_set_object_member (doc, "components", components);

  json_node_take_object (root, doc);
  return json_to_string (root, TRUE);
}

gchar *
gst_fal_app_info_get_openapi (const GstFalAppInfo * info)
{
  gchar *own;

  g_return_val_if_fail (info != NULL, NULL);

  own = info->openapi ? info->openapi (info->app_data) : NULL;
  return own ? own : openapi_from_schemas (info);
}
