/* gst-fal server: apps declared as pipeline descriptions in a key file
 *
 * [owner/alias]
 * description=one line
 * pipeline=videoconvert ! videobalance name=balance saturation=0
 * input=image_url
 * inputs=brightness=balance.brightness;contrast=balance.contrast
 * output=image | image/jpeg | messages:<name> | faces | symbols
 * max-pixels=50000000
 * max-fetch-bytes=67108864
 * max-width=4096
 * max-height=4096
 * buffering=2
 * session-timeout=2
 * max-batch-size=1
 *
 * or, for a bare HTTP model server behind the app (gstfalappsbackend.c):
 *
 * [owner/alias]
 * backend=http://127.0.0.1:8080
 * backend-timeout=600
 *
 * See docs/apps.md.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalapps-private.h"
#include "gstfalappsmedia-private.h"

typedef enum
{
  OUTPUT_IMAGE,
  OUTPUT_MESSAGES,
  OUTPUT_FACES,
  OUTPUT_SYMBOLS,
} OutputKind;

typedef struct
{
  gchar *field;
  gchar *element;
  gchar *property;
} InputMapping;

typedef struct
{
  gchar *name;
  gchar *description;           /* the pipeline after the decoded input */
  gchar *message_name;
  OutputKind output;
  GPtrArray *mappings;          /* (element-type InputMapping) */
  guint64 max_pixels, max_fetch_bytes;  /* 0: the server's */
  guint64 max_width, max_height;        /* 0: none */
} FileApp;

static void
input_mapping_free (InputMapping * mapping)
{
  g_free (mapping->field);
  g_free (mapping->element);
  g_free (mapping->property);
  g_free (mapping);
}

static void
file_app_free (FileApp * app)
{
  g_free (app->name);
  g_free (app->description);
  g_free (app->message_name);
  g_clear_pointer (&app->mappings, g_ptr_array_unref);
  g_free (app);
}

/* Sets the mapped element properties from the input. */
static gboolean
apply_inputs (GstBin * pipeline, gpointer data, GError ** error)
{
  GstFalAppCall *call = ((gpointer *) data)[0];
  FileApp *app = ((gpointer *) data)[1];
  JsonNode *input = gst_fal_app_call_get_input (call);
  JsonObject *object = json_node_get_object (input);
  guint i;

  for (i = 0; i < app->mappings->len; i++) {
    InputMapping *mapping = g_ptr_array_index (app->mappings, i);
    JsonNode *value = json_object_get_member (object, mapping->field);
    g_autoptr (GstElement) element = NULL;
    GParamSpec *pspec;
    GValue json_value = G_VALUE_INIT, target = G_VALUE_INIT;

    if (value == NULL || JSON_NODE_HOLDS_NULL (value))
      continue;
    element = gst_bin_get_by_name (pipeline, mapping->element);
    g_assert (element != NULL); /* checked at registration */
    pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (element),
        mapping->property);

    if (G_IS_PARAM_SPEC_ENUM (pspec)) {
      gst_util_set_object_arg (G_OBJECT (element), mapping->property,
          json_node_get_string (value));
      continue;
    }
    json_node_get_value (value, &json_value);
    g_value_init (&target, pspec->value_type);
    if (!g_value_transform (&json_value, &target)
        || g_param_value_validate (pspec, &target)) {
      g_value_unset (&json_value);
      g_value_unset (&target);
      g_set_error (error, GST_FAL_APP_ERROR, 422,
          "%s is out of the range of %s.%s", mapping->field,
          mapping->element, mapping->property);
      return FALSE;
    }
    g_object_set_property (G_OBJECT (element), mapping->property, &target);
    g_value_unset (&json_value);
    g_value_unset (&target);
  }
  return TRUE;
}

static JsonNode *
messages_output (GstFalPipelineRun * run)
{
  JsonObject *output = json_object_new ();
  JsonArray *messages = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  guint i;

  for (i = 0; i < run->messages->len; i++) {
    GstStructure *s = g_ptr_array_index (run->messages, i);
    JsonNode *fields = gst_fal_apps_structure_to_json (s);
    json_object_set_string_member (json_node_get_object (fields), "name",
        gst_structure_get_name (s));
    json_array_add_element (messages, fields);
  }
  json_object_set_array_member (output, "messages", messages);
  json_object_set_int_member (output, "width", run->input_width);
  json_object_set_int_member (output, "height", run->input_height);
  json_node_take_object (node, output);
  return node;
}

static JsonNode *
file_app_run (GstFalAppCall * call, gpointer app_data, GError ** error)
{
  FileApp *app = app_data;
  gpointer setup_data[2] = { call, app };
  g_autoptr (GBytes) image = NULL;
  GstFalPipelineRun run;
  JsonNode *output = NULL;

  gst_fal_app_call_set_limits (call, app->max_fetch_bytes, app->max_pixels);
  gst_fal_app_call_set_max_size (call, app->max_width, app->max_height);
  image = gst_fal_apps_fetch_image (call, error);
  if (image == NULL)
    return gst_fal_apps_input_error (call, "image_url", error);

  if (!gst_fal_apps_run_image_pipeline (call, app->description, image,
          app->output == OUTPUT_IMAGE ? NULL : app->message_name,
          apply_inputs, setup_data, &run, error)) {
    gst_fal_pipeline_run_clear (&run);
    return gst_fal_apps_input_error (call, "image_url", error);
  }

  switch (app->output) {
    case OUTPUT_IMAGE:
      output = gst_fal_apps_answer_image (call, run.sample, error);
      break;
    case OUTPUT_MESSAGES:
      output = messages_output (&run);
      break;
    case OUTPUT_FACES:
      output = gst_fal_apps_map_faces (&run);
      break;
    case OUTPUT_SYMBOLS:
      output = gst_fal_apps_map_symbols (&run);
      break;
  }
  gst_fal_pipeline_run_clear (&run);
  return output;
}

static const gchar messages_output_schema[] = "{\"type\": \"object\","
    "\"required\": [\"messages\", \"width\", \"height\"], \"properties\": {"
    "\"messages\": {\"type\": \"array\", \"description\": \"The fields of each "
    "element message, plus its name\", \"items\": {\"type\": \"object\"}},"
    "\"width\": {\"type\": \"integer\"}, \"height\": {\"type\": \"integer\"}}}";

static gboolean
parse_output (FileApp * app, const gchar * output, const gchar * pipeline,
    gchar ** description, const gchar ** output_schema, GError ** error)
{
  const gchar *tail;

  if (g_str_equal (output, "image") || g_str_equal (output, "image/png")) {
    app->output = OUTPUT_IMAGE;
    tail = GST_FAL_APPS_PNG_TAIL;
    *output_schema = gst_fal_apps_image_output_schema;
  } else if (g_str_equal (output, "image/jpeg")) {
    app->output = OUTPUT_IMAGE;
    tail = " ! videoconvert ! jpegenc ! appsink name=fal-sink sync=false";
    *output_schema = gst_fal_apps_image_output_schema;
  } else if (g_str_has_prefix (output, "messages:") && output[9] != '\0') {
    app->output = OUTPUT_MESSAGES;
    app->message_name = g_strdup (output + 9);
    tail = " ! fakesink sync=false";
    *output_schema = messages_output_schema;
  } else if (g_str_equal (output, "faces")) {
    app->output = OUTPUT_FACES;
    app->message_name = g_strdup ("facedetect");
    tail = " ! fakesink sync=false";
    *output_schema = gst_fal_apps_faces_output_schema;
  } else if (g_str_equal (output, "symbols")) {
    app->output = OUTPUT_SYMBOLS;
    app->message_name = g_strdup ("barcode");
    tail = GST_FAL_APPS_GRAY_TAIL;
    *output_schema = gst_fal_apps_symbols_output_schema;
  } else {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: unknown output \"%s\" (image, image/jpeg, messages:<name>, "
        "faces or symbols)", app->name, output);
    return FALSE;
  }
  *description = g_strconcat (pipeline, tail, NULL);
  return TRUE;
}

static void
add_bounds (JsonObject * schema, GParamSpec * pspec)
{
#define BOUNDS(TYPE, CAST) \
  if (G_IS_PARAM_SPEC_##TYPE (pspec)) { \
    CAST *p = (CAST *) pspec; \
    json_object_set_double_member (schema, "minimum", (gdouble) p->minimum); \
    json_object_set_double_member (schema, "maximum", (gdouble) p->maximum); \
    json_object_set_double_member (schema, "default", (gdouble) p->default_value); \
  }
  BOUNDS (INT, GParamSpecInt);
  BOUNDS (UINT, GParamSpecUInt);
  BOUNDS (INT64, GParamSpecInt64);
  BOUNDS (UINT64, GParamSpecUInt64);
  BOUNDS (FLOAT, GParamSpecFloat);
  BOUNDS (DOUBLE, GParamSpecDouble);
#undef BOUNDS
}

/* The JSON Schema of one mapped property, from its GParamSpec. */
static JsonObject *
property_schema (GParamSpec * pspec)
{
  JsonObject *schema = json_object_new ();
  GType type = G_TYPE_FUNDAMENTAL (pspec->value_type);

  json_object_set_string_member (schema, "description",
      g_param_spec_get_blurb (pspec));
  switch (type) {
    case G_TYPE_INT:
    case G_TYPE_UINT:
    case G_TYPE_INT64:
    case G_TYPE_UINT64:
    case G_TYPE_LONG:
    case G_TYPE_ULONG:
      json_object_set_string_member (schema, "type", "integer");
      add_bounds (schema, pspec);
      break;
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
      json_object_set_string_member (schema, "type", "number");
      add_bounds (schema, pspec);
      break;
    case G_TYPE_BOOLEAN:
      json_object_set_string_member (schema, "type", "boolean");
      json_object_set_boolean_member (schema, "default",
          ((GParamSpecBoolean *) pspec)->default_value);
      break;
    case G_TYPE_ENUM:{
      GEnumClass *klass = ((GParamSpecEnum *) pspec)->enum_class;
      JsonArray *choices = json_array_new ();
      guint i;

      for (i = 0; i < klass->n_values; i++)
        json_array_add_string_element (choices, klass->values[i].value_nick);
      json_object_set_string_member (schema, "type", "string");
      json_object_set_array_member (schema, "enum", choices);
      break;
    }
    default:
      json_object_set_string_member (schema, "type", "string");
      break;
  }
  return schema;
}

static gboolean
is_mappable (GParamSpec * pspec)
{
  switch (G_TYPE_FUNDAMENTAL (pspec->value_type)) {
    case G_TYPE_INT:
    case G_TYPE_UINT:
    case G_TYPE_INT64:
    case G_TYPE_UINT64:
    case G_TYPE_LONG:
    case G_TYPE_ULONG:
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
    case G_TYPE_BOOLEAN:
    case G_TYPE_STRING:
    case G_TYPE_ENUM:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Checks the mappings against the parsed pipeline and builds the input
 * schema. */
static gchar *
build_input_schema (FileApp * app, gchar ** inputs, GError ** error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *description = NULL;
  JsonObject *schema = json_object_new ();
  JsonObject *properties = json_object_new ();
  JsonObject *image_url = json_object_new ();
  JsonArray *required = json_array_new ();
  gchar **item;

  json_node_take_object (root, schema);
  json_object_set_string_member (schema, "title", "Input");
  json_object_set_string_member (schema, "type", "object");
  json_object_set_array_member (schema, "required", required);
  json_object_set_object_member (schema, "properties", properties);
  json_array_add_string_element (required, "image_url");
  json_object_set_string_member (image_url, "type", "string");
  json_object_set_string_member (image_url, "description",
      "URL or data URI of the input image");
  gst_fal_apps_declare_limits (image_url, app->max_width, app->max_height,
      app->max_fetch_bytes, app->max_pixels);
  json_object_set_object_member (properties, "image_url", image_url);

  /* checked with one of the decoders the runs choose from */
  description = gst_fal_apps_image_description ("image/png", "pngdec",
      app->description);
  pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (pipeline == NULL) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: the pipeline cannot be built: %s", app->name,
        parse_error->message);
    return NULL;
  }

  for (item = inputs; item && *item; item++) {
    g_auto (GStrv) parts = g_strsplit (g_strstrip (*item), "=", 2);
    g_auto (GStrv) target = NULL;
    g_autoptr (GstElement) element = NULL;
    InputMapping *mapping;
    GParamSpec *pspec;

    if (**item == '\0')
      continue;
    if (g_strv_length (parts) == 2)
      target = g_strsplit (parts[1], ".", 2);
    if (target == NULL || g_strv_length (target) != 2 || *parts[0] == '\0') {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
          "app %s: input mapping \"%s\" is not field=element.property",
          app->name, *item);
      return NULL;
    }
    element = GST_IS_BIN (pipeline) ?
        gst_bin_get_by_name (GST_BIN (pipeline), target[0]) : NULL;
    pspec = element ? g_object_class_find_property (G_OBJECT_GET_CLASS
        (element), target[1]) : NULL;
    if (pspec == NULL || !(pspec->flags & G_PARAM_WRITABLE)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
          "app %s: no writable property %s on an element named %s",
          app->name, target[1], target[0]);
      return NULL;
    }
    if (!is_mappable (pspec)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
          "app %s: property %s.%s is of type %s, not a number, boolean, "
          "string or enum", app->name, target[0], target[1],
          g_type_name (pspec->value_type));
      return NULL;
    }
    mapping = g_new0 (InputMapping, 1);
    mapping->field = g_strdup (parts[0]);
    mapping->element = g_strdup (target[0]);
    mapping->property = g_strdup (target[1]);
    g_ptr_array_add (app->mappings, mapping);
    json_object_set_object_member (properties, mapping->field,
        property_schema (pspec));
  }
  return json_to_string (root, FALSE);
}

/* An optional positive limit; 0 when absent. */
static gboolean
get_limit (GKeyFile * key_file, const gchar * group, const gchar * key,
    guint64 * limit, GError ** error)
{
  g_autoptr (GError) local_error = NULL;

  *limit = 0;
  if (!g_key_file_has_key (key_file, group, key, NULL))
    return TRUE;
  *limit = g_key_file_get_uint64 (key_file, group, key, &local_error);
  if (local_error || *limit == 0) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: %s must be a positive number", group, key);
    return FALSE;
  }
  return TRUE;
}

/* The realtime keys (fal's @fal.realtime options): each optional. */
static gboolean
get_realtime (GKeyFile * key_file, const gchar * group,
    GstFalAppRealtime * realtime, GError ** error)
{
  g_autoptr (GError) local_error = NULL;
  guint64 buffering, batch;

  if (!get_limit (key_file, group, "buffering", &buffering, error)
      || !get_limit (key_file, group, "max-batch-size", &batch, error))
    return FALSE;
  if (buffering > 60 || batch > 64) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: %s must be at most %d", group,
        buffering > 60 ? "buffering" : "max-batch-size",
        buffering > 60 ? 60 : 64);
    return FALSE;
  }
  realtime->buffering = buffering;
  realtime->max_batch_size = batch;
  if (!g_key_file_has_key (key_file, group, "session-timeout", NULL))
    return TRUE;
  realtime->session_timeout = g_key_file_get_double (key_file, group,
      "session-timeout", &local_error);
  if (local_error || !(realtime->session_timeout > 0)
      || realtime->session_timeout > 3600) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: session-timeout must be a number of seconds from 0 to 3600",
        group);
    return FALSE;
  }
  return TRUE;
}

/* A group with a backend key: an app fronting that HTTP model server. */
static gboolean
register_backend_group (GstFalAppRegistry * registry, GKeyFile * key_file,
    const gchar * group, GError ** error)
{
  g_autofree gchar *url = NULL, *description = NULL;
  guint64 timeout = GST_FAL_APPS_DEFAULT_BACKEND_TIMEOUT;

  if (g_key_file_has_key (key_file, group, "pipeline", NULL)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: an app has a pipeline or a backend, not both", group);
    return FALSE;
  }
  url = g_key_file_get_string (key_file, group, "backend", error);
  if (url == NULL)
    return FALSE;
  description = g_key_file_get_string (key_file, group, "description", NULL);
  if (g_key_file_has_key (key_file, group, "backend-timeout", NULL)
      && !get_limit (key_file, group, "backend-timeout", &timeout, error))
    return FALSE;
  if (timeout > G_MAXUINT) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: backend-timeout is too large", group);
    return FALSE;
  }
  return gst_fal_apps_register_backend (registry, group, g_strstrip (url),
      description, (guint) timeout, error);
}

static gboolean
register_group (GstFalAppRegistry * registry, GKeyFile * key_file,
    const gchar * group, GError ** error)
{
  g_autofree gchar *description = NULL, *pipeline = NULL, *input = NULL;
  g_autofree gchar *output = NULL, *input_schema = NULL;
  g_auto (GStrv) inputs = NULL;
  const gchar *output_schema = NULL;
  FileApp *app;
  GstFalAppInfo info = { 0 };

  if (strchr (group, '/') == NULL) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: the name must be owner/alias", group);
    return FALSE;
  }
  if (g_key_file_has_key (key_file, group, "backend", NULL))
    return register_backend_group (registry, key_file, group, error);
  pipeline = g_key_file_get_string (key_file, group, "pipeline", error);
  if (pipeline == NULL)
    return FALSE;
  description = g_key_file_get_string (key_file, group, "description", NULL);
  input = g_key_file_get_string (key_file, group, "input", NULL);
  output = g_key_file_get_string (key_file, group, "output", NULL);
  inputs = g_key_file_get_string_list (key_file, group, "inputs", NULL, NULL);

  if (input && !g_str_equal (g_strstrip (input), "image_url")) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "app %s: input must be image_url", group);
    return FALSE;
  }

  app = g_new0 (FileApp, 1);
  app->name = g_strdup (group);
  app->mappings = g_ptr_array_new_with_free_func (
      (GDestroyNotify) input_mapping_free);
  if (!get_limit (key_file, group, "max-pixels", &app->max_pixels, error)
      || !get_limit (key_file, group, "max-fetch-bytes",
          &app->max_fetch_bytes, error)
      || !get_limit (key_file, group, "max-width", &app->max_width, error)
      || !get_limit (key_file, group, "max-height", &app->max_height, error)
      || !get_realtime (key_file, group, &info.realtime, error)
      || !parse_output (app, output ? g_strstrip (output) : "image", pipeline,
          &app->description, &output_schema, error)
      || !(input_schema = build_input_schema (app, inputs, error))) {
    file_app_free (app);
    return FALSE;
  }

  info.name = group;
  info.description = description ? description : pipeline;
  info.input_schema = input_schema;
  info.output_schema = output_schema;
  info.run = file_app_run;
  info.app_data = app;
  info.app_data_free = (GDestroyNotify) file_app_free;
  gst_fal_app_registry_add (registry, &info);
  return TRUE;
}

gboolean
gst_fal_apps_register_from_key_file (GstFalAppRegistry * registry,
    GKeyFile * key_file, gboolean skip_unavailable, GError ** error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (key_file, NULL);
  gchar **group;

  /* a file's apps may use facedetect too */
  gst_fal_apps_quiet_opencv ();
  for (group = groups; *group; group++) {
    g_autoptr (GError) group_error = NULL;

    if (register_group (registry, key_file, *group, &group_error))
      continue;
    if (!skip_unavailable) {
      g_propagate_error (error, g_steal_pointer (&group_error));
      return FALSE;
    }
    g_message ("app %s is not available: %s", *group, group_error->message);
  }
  return TRUE;
}

gboolean
gst_fal_apps_register_from_file (GstFalAppRegistry * registry,
    const gchar * path, GError ** error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();

  g_return_val_if_fail (registry != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, error))
    return FALSE;
  return gst_fal_apps_register_from_key_file (registry, key_file, FALSE, error);
}
