/* gst-fal server: the CDN storage. Files live in DIR/ID/NAME; metadata
 * (content type, expiry, multipart parts) is kept in memory. */
#include <string.h>
#include <glib/gstdio.h>
#include "gstfalserver-private.h"
#include <gst/fal/gstfaljson-private.h>

typedef struct
{
  gchar *id;
  gchar *name;
  gchar *content_type;
  gchar *dir;                   /* DIR/ID */
  gchar *file;                  /* DIR/ID/NAME */
  gint64 expires_at;            /* real time µs, 0 = never */
  gboolean complete;
  GHashTable *parts;            /* part number → etag */
} StorageEntry;

struct _GstFalStorage
{
  gchar *dir;
  gboolean owns_dir;
  GMutex lock;
  GHashTable *entries;          /* id → StorageEntry */
};

static void
storage_entry_free (StorageEntry * entry)
{
  g_free (entry->id);
  g_free (entry->name);
  g_free (entry->content_type);
  g_free (entry->dir);
  g_free (entry->file);
  if (entry->parts)
    g_hash_table_unref (entry->parts);
  g_free (entry);
}

static void
remove_tree (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR)
          && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

GstFalStorage *
gst_fal_storage_new (const gchar * dir, GError ** error)
{
  GstFalStorage *storage;
  gchar *path;

  if (dir) {
    if (g_mkdir_with_parents (dir, 0700) < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "Cannot create storage directory %s: %s", dir, g_strerror (errno));
      return NULL;
    }
    path = g_strdup (dir);
  } else {
    path = g_dir_make_tmp ("gst-fal-storage-XXXXXX", error);
    if (!path)
      return NULL;
  }
  storage = g_new0 (GstFalStorage, 1);
  storage->dir = path;
  storage->owns_dir = dir == NULL;
  g_mutex_init (&storage->lock);
  storage->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) storage_entry_free);
  return storage;
}

void
gst_fal_storage_free (GstFalStorage * storage)
{
  if (storage->owns_dir)
    remove_tree (storage->dir);
  g_hash_table_unref (storage->entries);
  g_mutex_clear (&storage->lock);
  g_free (storage->dir);
  g_free (storage);
}

const gchar *
gst_fal_storage_get_dir (GstFalStorage * storage)
{
  return storage->dir;
}

#define MAX_LIFECYCLE_SECONDS ((gint64) 100 * 365 * 24 * 3600)

gint64
gst_fal_storage_parse_lifecycle (const gchar * header)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  JsonNode *seconds;
  gdouble value = -1;

  if (!header || !*header
      || !(root = gst_fal_json_from_string (header, -1, NULL)))
    return -1;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return -1;
  object = json_node_get_object (root);
  seconds = json_object_get_member (object, "expiration_duration_seconds");
  if (!seconds || json_node_get_value_type (seconds) == G_TYPE_INVALID
      || JSON_NODE_HOLDS_NULL (seconds))
    return -1;
  if (json_node_get_value_type (seconds) == G_TYPE_STRING) {
    const gchar *text = json_node_get_string (seconds);

    /* an integer beyond gint64 (marked) is as long as can be */
    if (g_str_has_prefix (text, GST_FAL_JSON_BIG_INTEGER_MARK))
      value = text[strlen (GST_FAL_JSON_BIG_INTEGER_MARK)] == '-' ? -1 :
          G_MAXDOUBLE;
    else
      value = g_ascii_strtod (text, NULL);
  } else if (json_node_get_value_type (seconds) == G_TYPE_INT64)
    value = json_node_get_int (seconds);
  else if (json_node_get_value_type (seconds) == G_TYPE_DOUBLE)
    value = json_node_get_double (seconds);
  /* no preference when not a number; at most a century, so that the expiry
   * in µs cannot overflow */
  if (!(value >= 0))
    return -1;
  return (gint64) MIN (value, (gdouble) MAX_LIFECYCLE_SECONDS);
}

static gchar *
sanitize_name (const gchar * file_name)
{
  g_autofree gchar *base = file_name && *file_name ?
      g_path_get_basename (file_name) : g_strdup ("file");
  gchar *p;

  for (p = base; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      *p = '_';
  if (!strcmp (base, ".") || !strcmp (base, "..") || !*base) {
    g_free (base);
    base = g_strdup ("file");
  }
  return g_steal_pointer (&base);
}

static gchar *
random_id (void)
{
  g_autofree gchar *uuid = g_uuid_string_random ();
  GString *id = g_string_new (NULL);
  const gchar *p;

  for (p = uuid; *p; p++)
    if (*p != '-')
      g_string_append_c (id, *p);
  return g_string_free (id, FALSE);
}

gchar *
gst_fal_storage_reserve (GstFalStorage * storage, const gchar * content_type,
    const gchar * file_name, gint64 expires_in)
{
  StorageEntry *entry = g_new0 (StorageEntry, 1);
  gchar *path;

  entry->id = random_id ();
  entry->name = sanitize_name (file_name);
  entry->content_type = g_strdup (content_type && *content_type ?
      content_type : "application/octet-stream");
  entry->dir = g_build_filename (storage->dir, entry->id, NULL);
  entry->file = g_build_filename (entry->dir, entry->name, NULL);
  if (expires_in >= 0)
    entry->expires_at = g_get_real_time () + expires_in * G_USEC_PER_SEC;
  path = g_strdup_printf ("%s/%s", entry->id, entry->name);
  g_mutex_lock (&storage->lock);
  g_hash_table_insert (storage->entries, entry->id, entry);
  g_mutex_unlock (&storage->lock);
  return path;
}

/* Looks an entry up under the lock; the returned paths are copies. */
static gboolean
lookup_entry (GstFalStorage * storage, const gchar * id, gchar ** dir,
    gchar ** file)
{
  StorageEntry *entry;

  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  if (entry) {
    *dir = g_strdup (entry->dir);
    *file = g_strdup (entry->file);
  }
  g_mutex_unlock (&storage->lock);
  return entry != NULL;
}

static gboolean
no_such_upload (const gchar * id, GError ** error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Unknown upload %s",
      id);
  return FALSE;
}

gboolean
gst_fal_storage_write (GstFalStorage * storage, const gchar * id,
    GBytes * data, const gchar * content_type, GError ** error)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *file = NULL;
  StorageEntry *entry;
  gsize size;
  gconstpointer bytes = g_bytes_get_data (data, &size);

  if (!lookup_entry (storage, id, &dir, &file))
    return no_such_upload (id, error);
  if (g_mkdir_with_parents (dir, 0700) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "Cannot create %s: %s", dir, g_strerror (errno));
    return FALSE;
  }
  if (!g_file_set_contents (file, bytes, size, error))
    return FALSE;
  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  if (entry) {
    entry->complete = TRUE;
    if (content_type && *content_type) {
      g_free (entry->content_type);
      entry->content_type = g_strdup (content_type);
    }
  }
  g_mutex_unlock (&storage->lock);
  return TRUE;
}

gchar *
gst_fal_storage_put (GstFalStorage * storage, GBytes * data,
    const gchar * content_type, const gchar * file_name, gint64 expires_in)
{
  g_autoptr (GError) error = NULL;
  gchar *path = gst_fal_storage_reserve (storage, content_type, file_name,
      expires_in);
  gchar *slash = strchr (path, '/');

  *slash = '\0';
  if (!gst_fal_storage_write (storage, path, data, NULL, &error)) {
    g_warning ("Cannot store %s: %s", slash + 1, error->message);
    g_free (path);
    return NULL;
  }
  *slash = '/';
  return path;
}

gchar *
gst_fal_storage_write_part (GstFalStorage * storage, const gchar * id,
    guint part_number, GBytes * data, GError ** error)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *file = NULL;
  g_autofree gchar *part_name = g_strdup_printf (".part-%u", part_number);
  g_autofree gchar *part_file = NULL;
  StorageEntry *entry;
  gchar *etag;
  gsize size;
  gconstpointer bytes = g_bytes_get_data (data, &size);

  if (!lookup_entry (storage, id, &dir, &file)) {
    no_such_upload (id, error);
    return NULL;
  }
  if (g_mkdir_with_parents (dir, 0700) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "Cannot create %s: %s", dir, g_strerror (errno));
    return NULL;
  }
  part_file = g_build_filename (dir, part_name, NULL);
  if (!g_file_set_contents (part_file, bytes, size, error))
    return NULL;
  etag = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, data);
  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  if (entry) {
    if (!entry->parts)
      entry->parts = g_hash_table_new_full (NULL, NULL, NULL, g_free);
    g_hash_table_insert (entry->parts, GUINT_TO_POINTER (part_number),
        g_strdup (etag));
  }
  g_mutex_unlock (&storage->lock);
  return etag;
}

static gboolean
append_file (GOutputStream * out, const gchar * path, GError ** error)
{
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);

  if (!mapped)
    return FALSE;
  return g_output_stream_write_all (out, g_mapped_file_get_contents (mapped),
      g_mapped_file_get_length (mapped), NULL, NULL, error);
}

gboolean
gst_fal_storage_complete_multipart (GstFalStorage * storage, const gchar * id,
    GArray * parts, GPtrArray * etags, GError ** error)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *file = NULL;
  g_autoptr (GFile) target = NULL;
  g_autoptr (GFileOutputStream) out = NULL;
  StorageEntry *entry;
  guint i;

  if (!lookup_entry (storage, id, &dir, &file))
    return no_such_upload (id, error);
  if (!parts->len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "No parts to complete");
    return FALSE;
  }
  /* every listed part must have been uploaded, with a matching etag */
  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  for (i = 0; entry && i < parts->len; i++) {
    guint n = g_array_index (parts, guint, i);
    const gchar *etag = entry->parts ?
        g_hash_table_lookup (entry->parts, GUINT_TO_POINTER (n)) : NULL;
    const gchar *given = etags ? g_ptr_array_index (etags, i) : NULL;
    g_autofree gchar *unquoted = given ? g_strdup (given) : NULL;

    if (unquoted)
      g_strstrip (g_strdelimit (unquoted, "\"", ' '));
    if (!etag || (unquoted && *unquoted && strcmp (unquoted, etag))) {
      g_mutex_unlock (&storage->lock);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "Part %u is missing or its etag does not match", n);
      return FALSE;
    }
  }
  g_mutex_unlock (&storage->lock);
  if (!entry)
    return no_such_upload (id, error);

  target = g_file_new_for_path (file);
  out = g_file_replace (target, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL,
      error);
  if (!out)
    return FALSE;
  for (i = 0; i < parts->len; i++) {
    g_autofree gchar *part_name = g_strdup_printf (".part-%u",
        g_array_index (parts, guint, i));
    g_autofree gchar *part_file = g_build_filename (dir, part_name, NULL);

    if (!append_file (G_OUTPUT_STREAM (out), part_file, error))
      return FALSE;
  }
  if (!g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error))
    return FALSE;
  for (i = 0; i < parts->len; i++) {
    g_autofree gchar *part_name = g_strdup_printf (".part-%u",
        g_array_index (parts, guint, i));
    g_autofree gchar *part_file = g_build_filename (dir, part_name, NULL);

    g_unlink (part_file);
  }
  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  if (entry) {
    entry->complete = TRUE;
    g_clear_pointer (&entry->parts, g_hash_table_unref);
  }
  g_mutex_unlock (&storage->lock);
  return TRUE;
}

gchar *
gst_fal_storage_get_path (GstFalStorage * storage, const gchar * id)
{
  StorageEntry *entry;
  gchar *path = NULL;

  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  if (entry)
    path = g_strdup_printf ("%s/%s", entry->id, entry->name);
  g_mutex_unlock (&storage->lock);
  return path;
}

static gboolean
entry_expired (StorageEntry * entry, gint64 now)
{
  return entry->expires_at && entry->expires_at <= now;
}

GBytes *
gst_fal_storage_read (GstFalStorage * storage, const gchar * path,
    gchar ** content_type)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", 2);
  g_autofree gchar *file = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  StorageEntry *entry;

  if (g_strv_length (parts) != 2)
    return NULL;
  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, parts[0]);
  if (entry && entry->complete && !strcmp (entry->name, parts[1])
      && !entry_expired (entry, g_get_real_time ())) {
    file = g_strdup (entry->file);
    if (content_type)
      *content_type = g_strdup (entry->content_type);
  }
  g_mutex_unlock (&storage->lock);
  if (!file)
    return NULL;
  mapped = g_mapped_file_new (file, FALSE, NULL);
  if (!mapped) {
    if (content_type)
      g_clear_pointer (content_type, g_free);
    return NULL;
  }
  return g_mapped_file_get_bytes (mapped);
}

guint
gst_fal_storage_expire (GstFalStorage * storage)
{
  GHashTableIter iter;
  StorageEntry *entry;
  gint64 now = g_get_real_time ();
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  guint count;

  g_mutex_lock (&storage->lock);
  g_hash_table_iter_init (&iter, storage->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & entry)) {
    if (entry_expired (entry, now)) {
      g_ptr_array_add (dirs, g_strdup (entry->dir));
      g_hash_table_iter_remove (&iter);
    }
  }
  g_mutex_unlock (&storage->lock);
  for (count = 0; count < dirs->len; count++)
    remove_tree (g_ptr_array_index (dirs, count));
  g_ptr_array_unref (dirs);
  return count;
}
