/* gst-fal server: input validation and small helpers shared by the apps */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalapps-private.h"

/* facedetect and faceblur load, when created, the eye, nose and mouth
 * cascades (haarcascade_mcs_*.xml) that Debian's opencv-data does not ship,
 * and OpenCV logs an error line for each, every time an app's pipeline is
 * built. OpenCV reads OPENCV_LOG_LEVEL once, at its first log line; so it is
 * set here, before the first OpenCV element of the apps exists, and only
 * when the user has not set it. It happens once, while the server builds its
 * app registry, not from the workers' threads. */
void
gst_fal_apps_quiet_opencv (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    g_setenv ("OPENCV_LOG_LEVEL", "SILENT", FALSE);
    g_once_init_leave (&done, 1);
  }
}

static void
add_error (JsonArray * errors, const gchar * member, const gchar * type,
    const gchar * msg, JsonNode * value, const gchar * ctx_key,
    JsonNode * ctx_value)
{
  JsonObject *error = json_object_new ();
  JsonArray *loc = json_array_new ();

  json_array_add_string_element (loc, "body");
  if (member)
    json_array_add_string_element (loc, member);
  json_object_set_array_member (error, "loc", loc);
  json_object_set_string_member (error, "msg", msg);
  json_object_set_string_member (error, "type", type);
  if (value)
    json_object_set_member (error, "input", json_node_copy (value));
  if (ctx_key) {
    JsonObject *ctx = json_object_new ();
    json_object_set_member (ctx, ctx_key, ctx_value);
    json_object_set_object_member (error, "ctx", ctx);
  }
  json_array_add_object_element (errors, error);
}

static gboolean
is_integer (JsonNode * value)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (value))
    return FALSE;
  type = json_node_get_value_type (value);
  if (type == G_TYPE_INT64)
    return TRUE;
  if (type == G_TYPE_DOUBLE) {
    gdouble d = json_node_get_double (value);
    return d == (gdouble) (gint64) d;
  }
  return FALSE;
}

static gboolean
is_number (JsonNode * value)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (value))
    return FALSE;
  type = json_node_get_value_type (value);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
is_string (JsonNode * value)
{
  return JSON_NODE_HOLDS_VALUE (value)
      && json_node_get_value_type (value) == G_TYPE_STRING;
}

static gboolean
is_boolean (JsonNode * value)
{
  return JSON_NODE_HOLDS_VALUE (value)
      && json_node_get_value_type (value) == G_TYPE_BOOLEAN;
}

/* Checks the type of @value; FALSE after adding an error. */
static gboolean
check_type (JsonArray * errors, const gchar * member, const gchar * type,
    JsonNode * value)
{
  if (type == NULL)
    return TRUE;
  if (g_str_equal (type, "integer") && !is_integer (value)) {
    add_error (errors, member, "int_type", "Input should be a valid integer",
        value, NULL, NULL);
    return FALSE;
  }
  if (g_str_equal (type, "number") && !is_number (value)) {
    add_error (errors, member, "float_type", "Input should be a valid number",
        value, NULL, NULL);
    return FALSE;
  }
  if (g_str_equal (type, "string") && !is_string (value)) {
    add_error (errors, member, "string_type", "Input should be a valid string",
        value, NULL, NULL);
    return FALSE;
  }
  if (g_str_equal (type, "boolean") && !is_boolean (value)) {
    add_error (errors, member, "bool_type", "Input should be a valid boolean",
        value, NULL, NULL);
    return FALSE;
  }
  if (g_str_equal (type, "object") && !JSON_NODE_HOLDS_OBJECT (value)) {
    add_error (errors, member, member ? "dict_type" : "model_attributes_type",
        member ? "Input should be a valid dictionary" :
        "Input should be a valid dictionary or object to extract fields from",
        value, NULL, NULL);
    return FALSE;
  }
  if (g_str_equal (type, "array") && !JSON_NODE_HOLDS_ARRAY (value)) {
    add_error (errors, member, "list_type", "Input should be a valid list",
        value, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

static void
check_bounds (JsonArray * errors, const gchar * member, JsonObject * schema,
    JsonNode * value)
{
  gdouble v;

  if (!is_number (value))
    return;
  v = json_node_get_double (value);
  if (json_object_has_member (schema, "minimum")) {
    JsonNode *minimum = json_object_get_member (schema, "minimum");
    if (v < json_node_get_double (minimum)) {
      g_autofree gchar *number = json_to_string (minimum, FALSE);
      g_autofree gchar *msg =
          g_strdup_printf ("Input should be greater than or equal to %s",
          number);
      add_error (errors, member, "greater_than_equal", msg, value, "ge",
          json_node_copy (minimum));
    }
  }
  if (json_object_has_member (schema, "maximum")) {
    JsonNode *maximum = json_object_get_member (schema, "maximum");
    if (v > json_node_get_double (maximum)) {
      g_autofree gchar *number = json_to_string (maximum, FALSE);
      g_autofree gchar *msg =
          g_strdup_printf ("Input should be less than or equal to %s", number);
      add_error (errors, member, "less_than_equal", msg, value, "le",
          json_node_copy (maximum));
    }
  }
}

static void
check_enum (JsonArray * errors, const gchar * member, JsonObject * schema,
    JsonNode * value)
{
  JsonArray *choices;
  guint i;

  if (!json_object_has_member (schema, "enum"))
    return;
  choices = json_object_get_array_member (schema, "enum");
  for (i = 0; i < json_array_get_length (choices); i++)
    if (json_node_equal (json_array_get_element (choices, i), value))
      return;
  add_error (errors, member, "enum",
      "Input should be one of the allowed values", value, "expected",
      json_node_copy (json_object_get_member (schema, "enum")));
}

static void
check_member (JsonArray * errors, const gchar * member, JsonObject * schema,
    JsonNode * value)
{
  const gchar *type = json_object_get_string_member_with_default (schema,
      "type", NULL);

  if (JSON_NODE_HOLDS_NULL (value)
      && json_object_get_boolean_member_with_default (schema, "nullable",
          FALSE))
    return;
  if (!check_type (errors, member, type, value))
    return;
  check_bounds (errors, member, schema, value);
  check_enum (errors, member, schema, value);
}

JsonNode *
gst_fal_apps_validate (const gchar * schema_text, JsonNode * input)
{
  g_autoptr (JsonNode) schema_node = NULL;
  g_autoptr (JsonArray) errors = json_array_new ();
  JsonObject *schema, *properties = NULL, *object;
  JsonNode *result;
  guint i;

  schema_node = json_from_string (schema_text, NULL);
  if (schema_node == NULL || !JSON_NODE_HOLDS_OBJECT (schema_node))
    return NULL;
  schema = json_node_get_object (schema_node);

  if (!check_type (errors, NULL, json_object_get_string_member_with_default
          (schema, "type", NULL), input))
    goto out;
  if (!JSON_NODE_HOLDS_OBJECT (input))
    goto out;
  object = json_node_get_object (input);

  if (json_object_has_member (schema, "required")) {
    JsonArray *required = json_object_get_array_member (schema, "required");
    for (i = 0; i < json_array_get_length (required); i++) {
      const gchar *member = json_array_get_string_element (required, i);
      if (!json_object_has_member (object, member))
        add_error (errors, member, "missing", "Field required", NULL, NULL,
            NULL);
    }
  }

  if (json_object_has_member (schema, "properties"))
    properties = json_object_get_object_member (schema, "properties");
  if (properties) {
    g_autoptr (GList) members = json_object_get_members (properties);
    GList *l;

    for (l = members; l; l = l->next) {
      JsonNode *value = json_object_get_member (object, l->data);
      if (value)
        check_member (errors, l->data,
            json_object_get_object_member (properties, l->data), value);
    }
  }

out:
  if (json_array_get_length (errors) == 0)
    return NULL;
  result = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (result, errors);
  return result;
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean cancelled;
} Waiter;

static void
waiter_cancelled (GCancellable * cancellable, Waiter * waiter)
{
  g_mutex_lock (&waiter->lock);
  waiter->cancelled = TRUE;
  g_cond_signal (&waiter->cond);
  g_mutex_unlock (&waiter->lock);
}

gboolean
gst_fal_apps_wait (GCancellable * cancellable, gint64 usec, GError ** error)
{
  Waiter waiter = { 0 };
  gint64 deadline = g_get_monotonic_time () + usec;
  gulong handler = 0;
  gboolean cancelled;

  g_mutex_init (&waiter.lock);
  g_cond_init (&waiter.cond);
  if (cancellable)
    handler = g_cancellable_connect (cancellable,
        G_CALLBACK (waiter_cancelled), &waiter, NULL);

  g_mutex_lock (&waiter.lock);
  while (!waiter.cancelled)
    if (!g_cond_wait_until (&waiter.cond, &waiter.lock, deadline))
      break;
  cancelled = waiter.cancelled;
  g_mutex_unlock (&waiter.lock);

  if (cancellable)
    g_cancellable_disconnect (cancellable, handler);
  g_mutex_clear (&waiter.lock);
  g_cond_clear (&waiter.cond);

  if (cancelled) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "The request was cancelled");
    return FALSE;
  }
  return TRUE;
}

JsonNode *
gst_fal_apps_fail (GstFalAppCall * call, GError ** error, guint status,
    const gchar * error_type, const gchar * format, ...)
{
  g_autofree gchar *detail = NULL;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  json_node_set_string (node, detail);
  gst_fal_app_call_fail (call, status, node, error_type);
  g_set_error_literal (error, GST_FAL_APP_ERROR, status, detail);
  return NULL;
}

static JsonNode *
get_member (JsonNode * input, const gchar * member)
{
  JsonNode *value;

  if (input == NULL || !JSON_NODE_HOLDS_OBJECT (input))
    return NULL;
  value = json_object_get_member (json_node_get_object (input), member);
  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return NULL;
  return value;
}

gint64
gst_fal_apps_get_int (JsonNode * input, const gchar * member, gint64 fallback)
{
  JsonNode *value = get_member (input, member);

  return value && is_number (value) ? (gint64) json_node_get_double (value) :
      fallback;
}

gdouble
gst_fal_apps_get_double (JsonNode * input, const gchar * member,
    gdouble fallback)
{
  JsonNode *value = get_member (input, member);

  return value && is_number (value) ? json_node_get_double (value) : fallback;
}

const gchar *
gst_fal_apps_get_string (JsonNode * input, const gchar * member,
    const gchar * fallback)
{
  JsonNode *value = get_member (input, member);

  return value && is_string (value) ? json_node_get_string (value) : fallback;
}

static JsonNode *
list_to_json (const GValue * value, guint size,
    const GValue * (*get) (const GValue *, guint))
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  guint i;

  for (i = 0; i < size; i++) {
    JsonNode *item = gst_fal_apps_value_to_json (get (value, i));
    if (item)
      json_array_add_element (array, item);
  }
  json_node_take_array (node, array);
  return node;
}

JsonNode *
gst_fal_apps_value_to_json (const GValue * value)
{
  JsonNode *node;
  GType type = G_VALUE_TYPE (value);

  if (type == GST_TYPE_LIST)
    return list_to_json (value, gst_value_list_get_size (value),
        gst_value_list_get_value);
  if (type == GST_TYPE_ARRAY)
    return list_to_json (value, gst_value_array_get_size (value),
        gst_value_array_get_value);
  if (type == GST_TYPE_STRUCTURE)
    return gst_fal_apps_structure_to_json (gst_value_get_structure (value));

  node = json_node_new (JSON_NODE_VALUE);
  switch (G_TYPE_FUNDAMENTAL (type)) {
    case G_TYPE_BOOLEAN:
      json_node_set_boolean (node, g_value_get_boolean (value));
      return node;
    case G_TYPE_INT:
      json_node_set_int (node, g_value_get_int (value));
      return node;
    case G_TYPE_UINT:
      json_node_set_int (node, g_value_get_uint (value));
      return node;
    case G_TYPE_INT64:
      json_node_set_int (node, g_value_get_int64 (value));
      return node;
    case G_TYPE_UINT64:
      json_node_set_int (node, (gint64) g_value_get_uint64 (value));
      return node;
    case G_TYPE_FLOAT:
      json_node_set_double (node, g_value_get_float (value));
      return node;
    case G_TYPE_DOUBLE:
      json_node_set_double (node, g_value_get_double (value));
      return node;
    case G_TYPE_STRING:
      json_node_set_string (node, g_value_get_string (value));
      return node;
    case G_TYPE_ENUM:{
      GEnumClass *klass = g_type_class_ref (type);
      GEnumValue *v = g_enum_get_value (klass, g_value_get_enum (value));
      json_node_set_string (node, v ? v->value_nick : "");
      g_type_class_unref (klass);
      return node;
    }
    default:
      break;
  }
  if (G_VALUE_HOLDS (value, GST_TYPE_FRACTION)) {
    json_node_set_double (node,
        (gdouble) gst_value_get_fraction_numerator (value) /
        gst_value_get_fraction_denominator (value));
    return node;
  }
  json_node_unref (node);
  return NULL;
}

static gboolean
add_field (GQuark field, const GValue * value, gpointer user_data)
{
  JsonNode *node = gst_fal_apps_value_to_json (value);

  if (node)
    json_object_set_member (user_data, g_quark_to_string (field), node);
  return TRUE;
}

JsonNode *
gst_fal_apps_structure_to_json (const GstStructure * structure)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  gst_structure_foreach (structure, add_field, object);
  json_node_take_object (node, object);
  return node;
}

JsonNode *
gst_fal_apps_input_error (GstFalAppCall * call, const gchar * member,
    GError ** error)
{
  JsonObject *item;
  JsonArray *loc, *list;
  g_autoptr (JsonNode) detail = NULL;

  if (error == NULL || *error == NULL
      || !g_error_matches (*error, GST_FAL_APP_ERROR, 422))
    return NULL;

  loc = json_array_new ();
  json_array_add_string_element (loc, "body");
  json_array_add_string_element (loc, member);
  item = json_object_new ();
  json_object_set_array_member (item, "loc", loc);
  json_object_set_string_member (item, "msg", (*error)->message);
  json_object_set_string_member (item, "type", "value_error");
  list = json_array_new ();
  json_array_add_object_element (list, item);
  detail = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (detail, list);
  gst_fal_app_call_fail (call, 422, detail, NULL);
  return NULL;
}

void
gst_fal_apps_declare_limits (JsonObject * property, guint64 max_width,
    guint64 max_height, guint64 max_file_size, guint64 max_pixels)
{
  const struct
  {
    const gchar *name;
    guint64 value;
  } limits[] = {
    {"x-fal-max-width", max_width}, {"x-fal-max-height", max_height},
    {"x-fal-max-file-size", max_file_size}, {"x-fal-max-pixels", max_pixels},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (limits); i++)
    if (limits[i].value)
      json_object_set_int_member (property, limits[i].name,
          (gint64) MIN (limits[i].value, (guint64) G_MAXINT64));
}
