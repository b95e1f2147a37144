/* gst-fal: per-call options */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfaloptions.h"
#include "gstfalhttp-private.h"

struct _GstFalOptions
{
  gint ref_count;
  gchar *path;
  gchar *hint;
  gchar *webhook_url;
  GstFalPriority priority;
  gdouble start_timeout;
  gdouble timeout;
  gint64 object_expiration;
  gboolean with_logs;
  gboolean status_mode_set;
  GstFalStatusMode status_mode;
  /* name, value, name, value, ... */
  GPtrArray *headers;
  GPtrArray *query;
};

/* *INDENT-OFF* */
G_DEFINE_ENUM_TYPE (GstFalPriority, gst_fal_priority,
    G_DEFINE_ENUM_VALUE (GST_FAL_PRIORITY_NORMAL, "normal"),
    G_DEFINE_ENUM_VALUE (GST_FAL_PRIORITY_LOW, "low"))
G_DEFINE_ENUM_TYPE (GstFalStatusMode, gst_fal_status_mode,
    G_DEFINE_ENUM_VALUE (GST_FAL_STATUS_MODE_STREAM, "stream"),
    G_DEFINE_ENUM_VALUE (GST_FAL_STATUS_MODE_POLL, "poll"))
G_DEFINE_BOXED_TYPE (GstFalOptions, gst_fal_options, gst_fal_options_ref,
    gst_fal_options_unref)
/* *INDENT-ON* */

GstFalOptions *
gst_fal_options_new (void)
{
  GstFalOptions *options = g_new0 (GstFalOptions, 1);

  options->ref_count = 1;
  options->object_expiration = -1;
  options->with_logs = TRUE;
  options->headers = g_ptr_array_new_with_free_func (g_free);
  options->query = g_ptr_array_new_with_free_func (g_free);
  return options;
}

GstFalOptions *
gst_fal_options_ref (GstFalOptions * options)
{
  g_return_val_if_fail (options != NULL, NULL);
  g_atomic_int_inc (&options->ref_count);
  return options;
}

void
gst_fal_options_unref (GstFalOptions * options)
{
  g_return_if_fail (options != NULL);
  if (!g_atomic_int_dec_and_test (&options->ref_count))
    return;
  g_free (options->path);
  g_free (options->hint);
  g_free (options->webhook_url);
  g_ptr_array_unref (options->headers);
  g_ptr_array_unref (options->query);
  g_free (options);
}

static void
copy_pairs (GPtrArray * dest, GPtrArray * src)
{
  guint i;

  for (i = 0; i < src->len; i++)
    g_ptr_array_add (dest, g_strdup (g_ptr_array_index (src, i)));
}

/**
 * gst_fal_options_copy:
 * @options: (nullable): options
 *
 * Returns: (transfer full): a copy, or new default options for %NULL
 */
GstFalOptions *
gst_fal_options_copy (const GstFalOptions * options)
{
  GstFalOptions *copy = gst_fal_options_new ();

  if (options == NULL)
    return copy;
  copy->path = g_strdup (options->path);
  copy->hint = g_strdup (options->hint);
  copy->webhook_url = g_strdup (options->webhook_url);
  copy->priority = options->priority;
  copy->start_timeout = options->start_timeout;
  copy->timeout = options->timeout;
  copy->object_expiration = options->object_expiration;
  copy->with_logs = options->with_logs;
  copy->status_mode_set = options->status_mode_set;
  copy->status_mode = options->status_mode;
  copy_pairs (copy->headers, options->headers);
  copy_pairs (copy->query, options->query);
  return copy;
}

void
gst_fal_options_set_path (GstFalOptions * options, const gchar * path)
{
  g_free (options->path);
  options->path = g_strdup (path);
}

const gchar *
gst_fal_options_get_path (const GstFalOptions * options)
{
  return options->path ? options->path : "";
}

void
gst_fal_options_set_hint (GstFalOptions * options, const gchar * hint)
{
  g_free (options->hint);
  options->hint = g_strdup (hint);
}

const gchar *
gst_fal_options_get_hint (const GstFalOptions * options)
{
  return options->hint;
}

void
gst_fal_options_set_webhook_url (GstFalOptions * options, const gchar * url)
{
  g_free (options->webhook_url);
  options->webhook_url = g_strdup (url);
}

const gchar *
gst_fal_options_get_webhook_url (const GstFalOptions * options)
{
  return options->webhook_url;
}

void
gst_fal_options_set_priority (GstFalOptions * options, GstFalPriority priority)
{
  options->priority = priority;
}

GstFalPriority
gst_fal_options_get_priority (const GstFalOptions * options)
{
  return options->priority;
}

void
gst_fal_options_set_start_timeout (GstFalOptions * options, gdouble seconds)
{
  options->start_timeout = MAX (seconds, 0);
}

gdouble
gst_fal_options_get_start_timeout (const GstFalOptions * options)
{
  return options->start_timeout;
}

void
gst_fal_options_set_timeout (GstFalOptions * options, gdouble seconds)
{
  options->timeout = MAX (seconds, 0);
}

gdouble
gst_fal_options_get_timeout (const GstFalOptions * options)
{
  return options->timeout;
}

void
gst_fal_options_set_object_expiration (GstFalOptions * options, gint64 seconds)
{
  options->object_expiration = seconds < 0 ? -1 : seconds;
}

gint64
gst_fal_options_get_object_expiration (const GstFalOptions * options)
{
  return options->object_expiration;
}

void
gst_fal_options_set_with_logs (GstFalOptions * options, gboolean with_logs)
{
  options->with_logs = with_logs;
}

gboolean
gst_fal_options_get_with_logs (const GstFalOptions * options)
{
  return options->with_logs;
}

void
gst_fal_options_set_status_mode (GstFalOptions * options, GstFalStatusMode mode)
{
  options->status_mode_set = TRUE;
  options->status_mode = mode;
}

gboolean
gst_fal_options_get_status_mode (const GstFalOptions * options,
    GstFalStatusMode * mode)
{
  if (options->status_mode_set && mode)
    *mode = options->status_mode;
  return options->status_mode_set;
}

static void
set_pair (GPtrArray * pairs, const gchar * name, const gchar * value,
    gboolean ignore_case)
{
  guint i;

  for (i = 0; i + 1 < pairs->len; i += 2) {
    const gchar *existing = g_ptr_array_index (pairs, i);

    if (ignore_case ? g_ascii_strcasecmp (existing, name) == 0 :
        g_str_equal (existing, name)) {
      g_free (pairs->pdata[i + 1]);
      pairs->pdata[i + 1] = g_strdup (value);
      return;
    }
  }
  g_ptr_array_add (pairs, g_strdup (name));
  g_ptr_array_add (pairs, g_strdup (value));
}

void
gst_fal_options_add_header (GstFalOptions * options, const gchar * name,
    const gchar * value)
{
  g_return_if_fail (name != NULL && value != NULL);
  set_pair (options->headers, name, value, TRUE);
}

void
gst_fal_options_add_query (GstFalOptions * options, const gchar * name,
    const gchar * value)
{
  g_return_if_fail (name != NULL && value != NULL);
  set_pair (options->query, name, value, FALSE);
}

/* Appends "&name=value" for each query parameter to @url. */
void
gst_fal_options_append_query (const GstFalOptions * options, GString * url)
{
  guint i;

  for (i = 0; i + 1 < options->query->len; i += 2) {
    g_autofree gchar *name = g_uri_escape_string (g_ptr_array_index
        (options->query, i), NULL, TRUE);
    g_autofree gchar *value = g_uri_escape_string (g_ptr_array_index
        (options->query, i + 1), NULL, TRUE);

    g_string_append_c (url, strchr (url->str, '?') ? '&' : '?');
    g_string_append_printf (url, "%s=%s", name, value);
  }
}

GStrv
gst_fal_options_build_headers (const GstFalOptions * options, gboolean submit)
{
  GPtrArray *headers = g_ptr_array_new ();
  gchar number[G_ASCII_DTOSTR_BUF_SIZE];

  if (options && options->hint && *options->hint) {
    g_ptr_array_add (headers, g_strdup ("X-Fal-Runner-Hint"));
    g_ptr_array_add (headers, g_strdup (options->hint));
  }
  if (options && options->start_timeout > 0) {
    g_ptr_array_add (headers, g_strdup ("X-Fal-Request-Timeout"));
    g_ptr_array_add (headers, g_strdup (g_ascii_dtostr (number,
                sizeof number, options->start_timeout)));
  }
  if (options && options->object_expiration >= 0) {
    g_ptr_array_add (headers, g_strdup ("X-Fal-Object-Lifecycle-Preference"));
    g_ptr_array_add (headers,
        g_strdup_printf ("{\"expiration_duration_seconds\": %" G_GINT64_FORMAT
            "}", options->object_expiration));
  }
  if (submit) {
    g_ptr_array_add (headers, g_strdup ("X-Fal-Queue-Priority"));
    g_ptr_array_add (headers, g_strdup (options
            && options->priority == GST_FAL_PRIORITY_LOW ? "low" : "normal"));
  }
  if (options)
    copy_pairs (headers, options->headers);
  g_ptr_array_add (headers, NULL);
  return (GStrv) g_ptr_array_free (headers, FALSE);
}
