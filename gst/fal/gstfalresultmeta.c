/* gst-fal: GstFalResultMeta, regions found in results, result helpers */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfalresultmeta.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include "gstfaljson-private.h"

/**
 * gst_fal_result_meta_api_get_type:
 *
 * Returns: the #GType of the #GstFalResultMeta API
 */
GType
gst_fal_result_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType api = gst_meta_api_type_register ("GstFalResultMetaAPI", tags);
    g_once_init_leave (&type, api);
  }
  return type;
}

static gboolean
result_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstFalResultMeta *rmeta = (GstFalResultMeta *) meta;

  rmeta->request_id = NULL;
  rmeta->application = NULL;
  rmeta->result_json = NULL;
  rmeta->error = NULL;
  rmeta->error_type = NULL;
  rmeta->http_status = 0;
  rmeta->source_pts = GST_CLOCK_TIME_NONE;
  rmeta->timings.upload = GST_CLOCK_TIME_NONE;
  rmeta->timings.queue = GST_CLOCK_TIME_NONE;
  rmeta->timings.run = GST_CLOCK_TIME_NONE;
  rmeta->timings.download = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static void
result_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstFalResultMeta *rmeta = (GstFalResultMeta *) meta;

  g_clear_pointer (&rmeta->request_id, g_free);
  g_clear_pointer (&rmeta->application, g_free);
  g_clear_pointer (&rmeta->result_json, g_free);
  g_clear_pointer (&rmeta->error, g_free);
  g_clear_pointer (&rmeta->error_type, g_free);
}

static gboolean
result_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstFalResultMeta *src = (GstFalResultMeta *) meta;

  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;

  return gst_buffer_add_fal_result_meta (dest, src->request_id,
      src->application, src->result_json, src->error, src->error_type,
      src->http_status, src->source_pts, &src->timings) != NULL;
}

/**
 * gst_fal_result_meta_get_info:
 *
 * Returns: (transfer none): the #GstMetaInfo of #GstFalResultMeta
 */
const GstMetaInfo *
gst_fal_result_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *registered =
        gst_meta_register (GST_FAL_RESULT_META_API_TYPE, "GstFalResultMeta",
        sizeof (GstFalResultMeta), result_meta_init, result_meta_free,
        result_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) registered);
  }
  return info;
}

/**
 * gst_buffer_add_fal_result_meta:
 * @buffer: a writable #GstBuffer
 * @request_id: (nullable): the request id
 * @application: (nullable): the endpoint id
 * @result_json: (nullable): the result as JSON text
 * @error: (nullable): the error message
 * @error_type: (nullable): the error type
 * @http_status: HTTP status of a failed request, or 0
 * @source_pts: PTS of the frame the result was computed from
 * @timings: (nullable): where the time went
 *
 * Returns: (transfer none): the meta added, holding copies of the strings
 */
GstFalResultMeta *
gst_buffer_add_fal_result_meta (GstBuffer * buffer, const gchar * request_id,
    const gchar * application, const gchar * result_json,
    const gchar * error, const gchar * error_type, guint http_status,
    GstClockTime source_pts, const GstFalTimings * timings)
{
  GstFalResultMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  meta = (GstFalResultMeta *) gst_buffer_add_meta (buffer,
      GST_FAL_RESULT_META_INFO, NULL);
  meta->request_id = g_strdup (request_id);
  meta->application = g_strdup (application);
  meta->result_json = g_strdup (result_json);
  meta->error = g_strdup (error);
  meta->error_type = g_strdup (error_type);
  meta->http_status = http_status;
  meta->source_pts = source_pts;
  if (timings)
    meta->timings = *timings;
  return meta;
}

/**
 * gst_buffer_get_fal_result_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the first result meta of @buffer
 */
GstFalResultMeta *
gst_buffer_get_fal_result_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstFalResultMeta *) gst_buffer_get_meta (buffer,
      GST_FAL_RESULT_META_API_TYPE);
}

/**
 * gst_fal_buffer_get_result_metas:
 * @buffer: a #GstBuffer
 *
 * Every result meta of @buffer, in the order they were added: one per
 * element that computed a result for it (two falinfer in a row give two).
 *
 * Returns: (transfer container) (element-type GstFalResultMeta): the metas,
 *   owned by @buffer; %NULL when there is none
 */
GList *
gst_fal_buffer_get_result_metas (GstBuffer * buffer)
{
  GList *metas = NULL;
  gpointer state = NULL;
  GstMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_FAL_RESULT_META_API_TYPE)))
    metas = g_list_prepend (metas, meta);
  return g_list_reverse (metas);
}

/**
 * gst_fal_buffer_get_n_result_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: how many result metas @buffer has
 */
guint
gst_fal_buffer_get_n_result_metas (GstBuffer * buffer)
{
  gpointer state = NULL;
  guint n = 0;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);

  while (gst_buffer_iterate_meta_filtered (buffer, &state,
          GST_FAL_RESULT_META_API_TYPE))
    n++;
  return n;
}

/* Regions */

/**
 * gst_fal_region_copy:
 * @region: a region
 *
 * Returns: (transfer full): a copy of @region
 */
GstFalRegion *
gst_fal_region_copy (const GstFalRegion * region)
{
  GstFalRegion *copy;

  g_return_val_if_fail (region != NULL, NULL);

  copy = g_new (GstFalRegion, 1);
  *copy = *region;
  copy->label = g_strdup (region->label);
  copy->data = g_strdup (region->data);
  return copy;
}

G_DEFINE_BOXED_TYPE (GstFalRegion, gst_fal_region, gst_fal_region_copy,
    gst_fal_region_free);

/**
 * gst_fal_region_free:
 * @region: (transfer full): a region
 */
void
gst_fal_region_free (GstFalRegion * region)
{
  if (region == NULL)
    return;
  g_free (region->label);
  g_free (region->data);
  g_free (region);
}

static JsonNode *
parse_json (const gchar * json)
{
  return json ? gst_fal_json_from_string (json, -1, NULL) : NULL;
}

static gboolean
node_is_number (JsonNode * node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* The first of @names that is a number in @object. */
static gboolean
get_number (JsonObject * object, const gchar * const *names, gdouble * value)
{
  for (; *names; names++) {
    JsonNode *node = json_object_get_member (object, *names);

    if (node_is_number (node)) {
      *value = json_node_get_double (node);
      return TRUE;
    }
  }
  return FALSE;
}

static const gchar *
get_string_member (JsonObject * object, const gchar * const *names)
{
  for (; *names; names++) {
    JsonNode *node = json_object_get_member (object, *names);

    if (node && JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_STRING)
      return json_node_get_string (node);
  }
  return NULL;
}

static const gchar *const X_NAMES[] = { "x", "left", NULL };
static const gchar *const Y_NAMES[] = { "y", "top", NULL };
static const gchar *const W_NAMES[] = { "w", "width", NULL };
static const gchar *const H_NAMES[] = { "h", "height", NULL };
static const gchar *const X1_NAMES[] = { "x_min", "xmin", "x1", NULL };
static const gchar *const Y1_NAMES[] = { "y_min", "ymin", "y1", NULL };
static const gchar *const X2_NAMES[] = { "x_max", "xmax", "x2", "right", NULL };
static const gchar *const Y2_NAMES[] =
    { "y_max", "ymax", "y2", "bottom", NULL };

/* Reads {x,y,w,h} / {x,y,width,height} / {x_min,y_min,x_max,y_max} /
 * {left,top,right,bottom} from @object into @box (x, y, w, h). */
static gboolean
box_from_object (JsonObject * object, gdouble box[4])
{
  gdouble x2, y2;

  if (get_number (object, X1_NAMES, &box[0])
      && get_number (object, Y1_NAMES, &box[1])
      && get_number (object, X2_NAMES, &x2)
      && get_number (object, Y2_NAMES, &y2)) {
    box[2] = x2 - box[0];
    box[3] = y2 - box[1];
    return TRUE;
  }
  if (get_number (object, X_NAMES, &box[0])
      && get_number (object, Y_NAMES, &box[1])) {
    if (get_number (object, W_NAMES, &box[2])
        && get_number (object, H_NAMES, &box[3]))
      return TRUE;
    if (get_number (object, X2_NAMES, &x2)
        && get_number (object, Y2_NAMES, &y2)) {
      box[2] = x2 - box[0];
      box[3] = y2 - box[1];
      return TRUE;
    }
  }
  return FALSE;
}

/* [x, y, w, h] */
static gboolean
box_from_array (JsonArray * array, gdouble box[4])
{
  guint i;

  if (json_array_get_length (array) != 4)
    return FALSE;
  for (i = 0; i < 4; i++) {
    JsonNode *element = json_array_get_element (array, i);

    if (!node_is_number (element))
      return FALSE;
    box[i] = json_node_get_double (element);
  }
  return TRUE;
}

static gboolean
box_from_node (JsonNode * node, gdouble box[4])
{
  if (node == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_ARRAY (node))
    return box_from_array (json_node_get_array (node), box);
  if (JSON_NODE_HOLDS_OBJECT (node))
    return box_from_object (json_node_get_object (node), box);
  return FALSE;
}

/* "faces" → "face", "boxes" → "box"; NULL key → "object". */
static gchar *
label_from_key (const gchar * key)
{
  gsize len;

  if (key == NULL || *key == '\0')
    return g_strdup ("object");
  len = strlen (key);
  if (len > 3 && (g_str_has_suffix (key, "xes") || g_str_has_suffix (key,
              "ses") || g_str_has_suffix (key, "ches")
          || g_str_has_suffix (key, "shes")))
    return g_strndup (key, len - 2);
  if (len > 1 && key[len - 1] == 's')
    return g_strndup (key, len - 1);
  return g_strdup (key);
}

static const gchar *const BOX_NAMES[] = { "box", "bbox", "bounding_box",
  "boundingBox", NULL
};

static const gchar *const LABEL_NAMES[] = { "label", "class", "class_name",
  "name", "type", "category", NULL
};
static const gchar *const DATA_NAMES[] = { "data", "text", "value", NULL };

static const gchar *const SCORE_NAMES[] = { "score", "confidence",
  "probability", "quality", NULL
};

static GstFalRegion *
region_from_object (JsonObject * object, const gchar * key, gdouble scale_x,
    gdouble scale_y)
{
  GstFalRegion *region;
  const gchar *label, *data;
  gdouble box[4];
  gboolean found = FALSE;
  const gchar *const *name;

  for (name = BOX_NAMES; *name && !found; name++)
    found = box_from_node (json_object_get_member (object, *name), box);
  if (!found)
    found = box_from_object (object, box);
  if (!found || box[2] < 0 || box[3] < 0)
    return NULL;

  region = g_new0 (GstFalRegion, 1);
  region->x = (gint) lround (box[0] * scale_x);
  region->y = (gint) lround (box[1] * scale_y);
  region->w = (gint) lround (box[2] * scale_x);
  region->h = (gint) lround (box[3] * scale_y);
  if (!get_number (object, SCORE_NAMES, &region->score))
    region->score = -1;

  label = get_string_member (object, LABEL_NAMES);
  data = get_string_member (object, DATA_NAMES);
  region->data = g_strdup (data);
  if (label && data)
    region->label = g_strdup_printf ("%s: %s", label, data);
  else if (label)
    region->label = g_strdup (label);
  else
    region->label = label_from_key (key);
  return region;
}

static void find_regions (JsonNode * node, const gchar * key,
    gdouble scale_x, gdouble scale_y, GPtrArray * regions);

/* In member order, so that regions come in the order of the result. */
static void
find_regions_in_members (JsonObject * object, gdouble scale_x,
    gdouble scale_y, GPtrArray * regions)
{
  GList *names = json_object_get_members (object), *l;

  for (l = names; l; l = l->next)
    find_regions (json_object_get_member (object, l->data), l->data, scale_x,
        scale_y, regions);
  g_list_free (names);
}

static void
find_regions (JsonNode * node, const gchar * key, gdouble scale_x,
    gdouble scale_y, GPtrArray * regions)
{
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *object = json_node_get_object (node);
    GstFalRegion *region = region_from_object (object, key, scale_x, scale_y);

    if (region)
      g_ptr_array_add (regions, region);
    else
      find_regions_in_members (object, scale_x, scale_y, regions);
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    guint i;

    for (i = 0; i < json_array_get_length (array); i++)
      find_regions (json_array_get_element (array, i), key, scale_x, scale_y,
          regions);
  }
}

/**
 * gst_fal_result_find_regions:
 * @result_json: (nullable): a result as JSON text
 * @scale_x: factor applied to x and widths
 * @scale_y: factor applied to y and heights
 *
 * The array frees its regions, so bindings get it as (transfer container).
 *
 * Returns: (element-type GstFalRegion) (transfer container): the boxes
 *   found, possibly none; g_ptr_array_unref() frees them
 */
GPtrArray *
gst_fal_result_find_regions (const gchar * result_json, gdouble scale_x,
    gdouble scale_y)
{
  GPtrArray *regions =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_fal_region_free);
  JsonNode *root = parse_json (result_json);

  if (root) {
    /* The root object itself (e.g. an image description) is no box. */
    if (JSON_NODE_HOLDS_OBJECT (root))
      find_regions_in_members (json_node_get_object (root), scale_x, scale_y,
          regions);
    else
      find_regions (root, NULL, scale_x, scale_y, regions);
    json_node_unref (root);
  }
  return regions;
}

/**
 * gst_fal_buffer_add_regions:
 * @buffer: a writable buffer
 * @regions: (element-type GstFalRegion) (nullable) (transfer none): regions
 *
 * Returns: how many region metas were added
 */
guint
gst_fal_buffer_add_regions (GstBuffer * buffer, GPtrArray * regions)
{
  guint i, added = 0;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), 0);

  if (regions == NULL)
    return 0;

  for (i = 0; i < regions->len; i++) {
    GstFalRegion *region = g_ptr_array_index (regions, i);
    GstVideoRegionOfInterestMeta *meta;
    GstStructure *detection;
    gint x = MAX (region->x, 0), y = MAX (region->y, 0);
    gint w = region->w - (x - region->x), h = region->h - (y - region->y);

    if (w <= 0 || h <= 0)
      continue;
    meta = gst_buffer_add_video_region_of_interest_meta (buffer,
        region->label, x, y, w, h);
    detection = gst_structure_new ("detection",
        "label", G_TYPE_STRING, region->label,
        "score", G_TYPE_DOUBLE, region->score, NULL);
    if (region->data)
      gst_structure_set (detection, "data", G_TYPE_STRING, region->data, NULL);
    gst_video_region_of_interest_meta_add_param (meta, detection);
    added++;
  }
  return added;
}

/* The node at a dotted path ("images.0.url"), or NULL. */
static JsonNode *
lookup_path (JsonNode * root, const gchar * path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *node = root;
  guint i;

  for (i = 0; node && parts[i]; i++) {
    if (JSON_NODE_HOLDS_OBJECT (node)) {
      node = json_object_get_member (json_node_get_object (node), parts[i]);
    } else if (JSON_NODE_HOLDS_ARRAY (node)) {
      JsonArray *array = json_node_get_array (node);
      guint64 index;

      if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT, &index,
              NULL) || index >= json_array_get_length (array))
        return NULL;
      node = json_array_get_element (array, index);
    } else {
      return NULL;
    }
  }
  return node;
}

/* Strings as they are; other scalars as their JSON text. */
static gchar *
scalar_to_string (JsonNode * node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return gst_fal_json_to_string (node, FALSE);
}

/**
 * gst_fal_result_get_string:
 * @result_json: (nullable): a result as JSON text
 * @path: a dotted path: object members by name, array elements by index
 *
 * Returns: (transfer full) (nullable): the value at @path (a string, or the
 *   JSON text of a number or boolean), or %NULL
 */
gchar *
gst_fal_result_get_string (const gchar * result_json, const gchar * path)
{
  JsonNode *root;
  gchar *value;

  g_return_val_if_fail (path != NULL, NULL);

  root = parse_json (result_json);
  if (root == NULL)
    return NULL;
  value = scalar_to_string (lookup_path (root, path));
  json_node_unref (root);
  return value;
}

/* A URL from a node that is either a URL string or an object with `url`. */
static gchar *
media_url_of (JsonNode * node, gchar ** content_type)
{
  JsonObject *object;
  const gchar *url;

  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  object = json_node_get_object (node);
  url = json_object_get_string_member_with_default (object, "url", NULL);
  if (url == NULL)
    return NULL;
  if (content_type)
    *content_type = g_strdup (json_object_get_string_member_with_default
        (object, "content_type", NULL));
  return g_strdup (url);
}

static gchar *
find_any_url (JsonNode * node, gchar ** content_type)
{
  gchar *url = media_url_of (JSON_NODE_HOLDS_OBJECT (node) ? node : NULL,
      content_type);

  if (url)
    return url;
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *object = json_node_get_object (node);
    GList *names = json_object_get_members (object), *l;

    for (l = names; l && url == NULL; l = l->next)
      url = find_any_url (json_object_get_member (object, l->data),
          content_type);
    g_list_free (names);
    if (url)
      return url;
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    guint i;

    for (i = 0; i < json_array_get_length (array); i++)
      if ((url = find_any_url (json_array_get_element (array, i),
                  content_type)))
        return url;
  }
  return NULL;
}

/**
 * gst_fal_result_find_media_url:
 * @result_json: (nullable): a result as JSON text
 * @path: (nullable): where the media is (a URL string or an object with
 *   `url`), or %NULL to look in the usual places
 * @content_type: (out) (optional) (nullable) (transfer full): the media's
 *   `content_type` when the result gives it
 *
 * Returns: (transfer full) (nullable): the URL, or %NULL
 */
gchar *
gst_fal_result_find_media_url (const gchar * result_json, const gchar * path,
    gchar ** content_type)
{
  static const gchar *const usual[] = { "image", "images.0", "video",
    "audio", NULL
  };
  JsonNode *root;
  gchar *url = NULL;
  guint i;

  if (content_type)
    *content_type = NULL;
  root = parse_json (result_json);
  if (root == NULL)
    return NULL;

  if (path) {
    url = media_url_of (lookup_path (root, path), content_type);
  } else {
    for (i = 0; usual[i] && url == NULL; i++) {
      JsonNode *node = lookup_path (root, usual[i]);

      if (node && JSON_NODE_HOLDS_OBJECT (node))
        url = media_url_of (node, content_type);
    }
    if (url == NULL)
      url = find_any_url (root, content_type);
  }
  json_node_unref (root);
  return url;
}
