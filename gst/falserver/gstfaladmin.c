/* gst-fal server: the admin routes' faults, from and to JSON, bounded.
 *
 * The admin routes are off unless the server's "admin" property is set, and
 * need the key (gstfalauth.c); gst_fal_server_set_faults() stays available
 * to in-process users.
 */
#include <string.h>
#include "gstfalauth-private.h"

typedef struct
{
  const gchar *name;
  glong offset;
} Rate;

static const Rate rates[] = {
  {"rate_429", G_STRUCT_OFFSET (GstFalServerFaults, rate_429)},
  {"rate_500", G_STRUCT_OFFSET (GstFalServerFaults, rate_500)},
  {"rate_503", G_STRUCT_OFFSET (GstFalServerFaults, rate_503)},
  {"rate_drop", G_STRUCT_OFFSET (GstFalServerFaults, rate_drop)},
  {"rate_truncate", G_STRUCT_OFFSET (GstFalServerFaults, rate_truncate)},
};

JsonNode *
gst_fal_admin_faults_to_json (const GstFalServerFaults * faults)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rates); i++)
    json_object_set_double_member (object, rates[i].name,
        G_STRUCT_MEMBER (gdouble, faults, rates[i].offset));
  json_object_set_int_member (object, "retry_after", faults->retry_after);
  json_object_set_int_member (object, "latency_ms", faults->latency_ms);
  json_node_take_object (node, object);
  return node;
}

gboolean
gst_fal_admin_faults_from_json (JsonNode * body, GstFalServerFaults * faults,
    const gchar ** field, gchar ** message)
{
  JsonObject *object;
  gdouble value;
  guint i;

  memset (faults, 0, sizeof (*faults));
  if (!body || !JSON_NODE_HOLDS_OBJECT (body)) {
    *field = "body";
    *message = g_strdup ("Input should be a valid dictionary");
    return FALSE;
  }
  object = json_node_get_object (body);
  for (i = 0; i < G_N_ELEMENTS (rates); i++) {
    *field = rates[i].name;
    if (!gst_fal_json_get_number (object, rates[i].name, 0, 1, 0, &value,
            message))
      return FALSE;
    G_STRUCT_MEMBER (gdouble, faults, rates[i].offset) = value;
  }
  *field = "retry_after";
  if (!gst_fal_json_get_number (object, "retry_after", 0,
          GST_FAL_MAX_RETRY_AFTER, 1, &value, message))
    return FALSE;
  faults->retry_after = (guint) value;
  *field = "latency_ms";
  if (!gst_fal_json_get_number (object, "latency_ms", 0,
          GST_FAL_MAX_LATENCY_MS, 0, &value, message))
    return FALSE;
  faults->latency_ms = (guint) value;
  *field = NULL;
  return TRUE;
}

void
gst_fal_admin_faults_clamp (GstFalServerFaults * faults)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rates); i++) {
    gdouble *rate = &G_STRUCT_MEMBER (gdouble, faults, rates[i].offset);

    /* NaN too */
    if (!(*rate >= 0))
      *rate = 0;
    else if (*rate > 1)
      *rate = 1;
  }
  faults->retry_after = MIN (faults->retry_after, GST_FAL_MAX_RETRY_AFTER);
  faults->latency_ms = MIN (faults->latency_ms, GST_FAL_MAX_LATENCY_MS);
}
