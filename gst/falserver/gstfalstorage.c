/* gst-fal server: the CDN storage. Files live in DIR/ID/NAME; metadata
 * (content type, expiry, multipart parts) is kept in memory.
 *
 * Each file is written once. A reserved file is PENDING and can be written
 * only through its upload id, a secret distinct from its public ID, until
 * it is written, its upload window closes or it expires; it is then
 * COMPLETE for good. Files stored at once (app outputs) have no upload id. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <glib/gstdio.h>
#include "gstfalserver-private.h"
#include <gst/fal/gstfaljson-private.h>

#define UPLOAD_SECONDS 3600

typedef enum
{
  STATE_PENDING,                /* writable through its upload id */
  STATE_WRITING,                /* a write or a complete is under way */
  STATE_COMPLETE,               /* served, never written again */
} EntryState;

typedef struct
{
  gchar *file;                  /* DIR/ID/.part-N-K */
  gchar *etag;
  guint64 size;
} Part;

typedef struct
{
  gchar *id;
  gchar *name;
  gchar *content_type;          /* as declared, NULL if none */
  gchar *dir;                   /* DIR/ID */
  gchar *file;                  /* DIR/ID/NAME */
  gchar *upload_key;            /* SHA-256 of the upload id, NULL if none */
  GstFalStorageFlags flags;
  gint64 expires_at;            /* real time µs, 0 = never */
  gint64 upload_until;          /* real time µs the upload window closes */
  EntryState state;
  GHashTable *parts;            /* part number → Part */
  guint64 parts_size;
  guint part_serial;
} StorageEntry;

struct _GstFalStorage
{
  gchar *dir;
  gboolean owns_dir;
  guint max_parts;
  guint64 max_size;
  GMutex lock;
  GHashTable *entries;          /* id → StorageEntry */
  GHashTable *uploads;          /* upload_key → StorageEntry */
};

static void
part_free (Part * part)
{
  g_free (part->file);
  g_free (part->etag);
  g_free (part);
}

static void
storage_entry_free (StorageEntry * entry)
{
  g_free (entry->id);
  g_free (entry->name);
  g_free (entry->content_type);
  g_free (entry->dir);
  g_free (entry->file);
  g_free (entry->upload_key);
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
  storage->max_parts = GST_FAL_STORAGE_MAX_PARTS;
  storage->max_size = GST_FAL_STORAGE_MAX_SIZE;
  g_mutex_init (&storage->lock);
  storage->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) storage_entry_free);
  storage->uploads = g_hash_table_new (g_str_hash, g_str_equal);
  return storage;
}

void
gst_fal_storage_free (GstFalStorage * storage)
{
  if (storage->owns_dir)
    remove_tree (storage->dir);
  g_hash_table_unref (storage->uploads);
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

void
gst_fal_storage_set_limits (GstFalStorage * storage, guint max_parts,
    guint64 max_size)
{
  g_mutex_lock (&storage->lock);
  storage->max_parts = max_parts;
  storage->max_size = max_size;
  g_mutex_unlock (&storage->lock);
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

/* 128 bits from the kernel's CSPRNG, as 32 hex digits: file ids and upload
 * ids. (GLib's g_random and g_uuid_string_random are not for secrets.) */
static gchar *
random_id (void)
{
  guint8 bytes[16];
  gsize done = 0;
  GString *id = g_string_sized_new (2 * sizeof bytes);
  guint i;

  while (done < sizeof bytes) {
    gssize n = getrandom (bytes + done, sizeof bytes - done, 0);

    if (n < 0 && errno != EINTR)
      g_error ("getrandom: %s", g_strerror (errno));
    if (n > 0)
      done += n;
  }
  for (i = 0; i < sizeof bytes; i++)
    g_string_append_printf (id, "%02x", bytes[i]);
  return g_string_free (id, FALSE);
}

/* Upload ids are looked up by their digest, so that the lookup's timing
 * tells nothing about the ids. */
static gchar *
upload_key (const gchar * upload_id)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, upload_id, -1);
}

static gboolean
entry_expired (StorageEntry * entry, gint64 now)
{
  return (entry->expires_at && entry->expires_at <= now)
      || (entry->state == STATE_PENDING && entry->upload_until <= now);
}

static StorageEntry *
entry_new (GstFalStorage * storage, const gchar * content_type,
    const gchar * file_name, gint64 expires_in, GstFalStorageFlags flags)
{
  StorageEntry *entry = g_new0 (StorageEntry, 1);

  entry->id = random_id ();
  entry->name = sanitize_name (file_name);
  entry->content_type = content_type && *content_type ?
      g_strdup (content_type) : NULL;
  entry->dir = g_build_filename (storage->dir, entry->id, NULL);
  entry->file = g_build_filename (entry->dir, entry->name, NULL);
  entry->flags = flags;
  if (expires_in >= 0)
    entry->expires_at = g_get_real_time () + expires_in * G_USEC_PER_SEC;
  return entry;
}

gchar *
gst_fal_storage_reserve (GstFalStorage * storage, const gchar * content_type,
    const gchar * file_name, gint64 expires_in, GstFalStorageFlags flags,
    gchar ** upload_id)
{
  StorageEntry *entry = entry_new (storage, content_type, file_name,
      expires_in, flags);

  *upload_id = random_id ();
  entry->upload_key = upload_key (*upload_id);
  entry->upload_until = g_get_real_time ()
      + (gint64) UPLOAD_SECONDS * G_USEC_PER_SEC;
  entry->state = STATE_PENDING;
  g_mutex_lock (&storage->lock);
  g_hash_table_insert (storage->entries, entry->id, entry);
  g_hash_table_insert (storage->uploads, entry->upload_key, entry);
  g_mutex_unlock (&storage->lock);
  return g_strdup_printf ("%s/%s", entry->id, entry->name);
}

/* The entry an upload id writes, under the lock; NULL (and @error) if
 * there is none of that kind, or it expired (403), or it is no longer
 * pending (409). */
static StorageEntry *
lookup_upload (GstFalStorage * storage, const gchar * upload_id,
    gboolean multipart, GError ** error)
{
  g_autofree gchar *key = upload_key (upload_id);
  StorageEntry *entry = g_hash_table_lookup (storage->uploads, key);

  if (!entry || entry_expired (entry, g_get_real_time ())
      || !(entry->flags & GST_FAL_STORAGE_MULTIPART) != !multipart) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "Invalid or expired upload URL");
    return NULL;
  }
  if (entry->state != STATE_PENDING) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "The file is already uploaded; stored files are never overwritten");
    return NULL;
  }
  return entry;
}

static gboolean
check_size (GstFalStorage * storage, guint64 size, GError ** error)
{
  if (size <= storage->max_size)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
      "The file exceeds %" G_GUINT64_FORMAT " bytes", storage->max_size);
  return FALSE;
}

/* PENDING → WRITING under the lock: copies of its paths. */
static gboolean
claim_upload (GstFalStorage * storage, const gchar * upload_id,
    gboolean multipart, guint64 size, gchar ** id, gchar ** file,
    GError ** error)
{
  StorageEntry *entry;

  g_mutex_lock (&storage->lock);
  entry = lookup_upload (storage, upload_id, multipart, error);
  if (entry && check_size (storage, size, error)) {
    entry->state = STATE_WRITING;
    *id = g_strdup (entry->id);
    *file = g_strdup (entry->file);
  } else {
    entry = NULL;
  }
  g_mutex_unlock (&storage->lock);
  return entry != NULL;
}

/* WRITING → COMPLETE, or back to PENDING after a failure. */
static gboolean
release_upload (GstFalStorage * storage, const gchar * id, gboolean written,
    const gchar * content_type, GError ** error)
{
  StorageEntry *entry;

  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  if (entry) {
    entry->state = written ? STATE_COMPLETE : STATE_PENDING;
    /* a type the key holder did not declare is not trusted */
    if (written && !entry->content_type && content_type && *content_type) {
      entry->content_type = g_strdup (content_type);
      entry->flags &= ~GST_FAL_STORAGE_TRUSTED;
    }
  }
  g_mutex_unlock (&storage->lock);
  if (!entry && written)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "Invalid or expired upload URL");
  return entry != NULL;
}

static gboolean
write_file (const gchar * file, GBytes * data, GError ** error)
{
  g_autofree gchar *dir = g_path_get_dirname (file);
  gsize size;
  gconstpointer bytes = g_bytes_get_data (data, &size);

  if (g_mkdir_with_parents (dir, 0700) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "Cannot create %s: %s", dir, g_strerror (errno));
    return FALSE;
  }
  return g_file_set_contents (file, bytes, size, error);
}

gboolean
gst_fal_storage_write (GstFalStorage * storage, const gchar * upload_id,
    GBytes * data, const gchar * content_type, GError ** error)
{
  g_autofree gchar *id = NULL;
  g_autofree gchar *file = NULL;
  gboolean written;

  if (!claim_upload (storage, upload_id, FALSE, g_bytes_get_size (data), &id,
          &file, error))
    return FALSE;
  written = write_file (file, data, error);
  return release_upload (storage, id, written, content_type, error)
      && written;
}

gchar *
gst_fal_storage_put_full (GstFalStorage * storage, GBytes * data,
    const gchar * content_type, const gchar * file_name, gint64 expires_in,
    GstFalStorageFlags flags)
{
  g_autoptr (GError) error = NULL;
  StorageEntry *entry = entry_new (storage, content_type, file_name,
      expires_in, flags & ~GST_FAL_STORAGE_MULTIPART);
  gchar *path;

  if (!write_file (entry->file, data, &error)) {
    g_warning ("Cannot store %s: %s", entry->name, error->message);
    storage_entry_free (entry);
    return NULL;
  }
  entry->state = STATE_COMPLETE;
  path = g_strdup_printf ("%s/%s", entry->id, entry->name);
  g_mutex_lock (&storage->lock);
  g_hash_table_insert (storage->entries, entry->id, entry);
  g_mutex_unlock (&storage->lock);
  return path;
}

gchar *
gst_fal_storage_put (GstFalStorage * storage, GBytes * data,
    const gchar * content_type, const gchar * file_name, gint64 expires_in)
{
  return gst_fal_storage_put_full (storage, data, content_type, file_name,
      expires_in, 0);
}

/* Whether part @number of @size fits the limits, under the lock. */
static gboolean
check_part (GstFalStorage * storage, StorageEntry * entry, guint number,
    guint64 size, GError ** error)
{
  Part *old = entry->parts ?
      g_hash_table_lookup (entry->parts, GUINT_TO_POINTER (number)) : NULL;

  if (number < 1 || number > storage->max_parts) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Part numbers go from 1 to %u", storage->max_parts);
    return FALSE;
  }
  return check_size (storage, entry->parts_size - (old ? old->size : 0) + size,
      error);
}

gchar *
gst_fal_storage_write_part (GstFalStorage * storage, const gchar * upload_id,
    guint part_number, GBytes * data, GError ** error)
{
  g_autofree gchar *part_file = NULL;
  StorageEntry *entry;
  Part *part;
  guint64 size = g_bytes_get_size (data);

  /* each write goes to a new file, swapped in if still wanted */
  g_mutex_lock (&storage->lock);
  entry = lookup_upload (storage, upload_id, TRUE, error);
  if (entry && check_part (storage, entry, part_number, size, error))
    part_file = g_strdup_printf ("%s/.part-%u-%u", entry->dir, part_number,
        ++entry->part_serial);
  g_mutex_unlock (&storage->lock);
  if (!part_file || !write_file (part_file, data, error))
    return NULL;

  part = g_new0 (Part, 1);
  part->file = g_strdup (part_file);
  part->etag = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, data);
  part->size = size;
  g_mutex_lock (&storage->lock);
  entry = lookup_upload (storage, upload_id, TRUE, error);
  if (entry && check_part (storage, entry, part_number, size, error)) {
    Part *old;

    if (!entry->parts)
      entry->parts = g_hash_table_new_full (NULL, NULL, NULL,
          (GDestroyNotify) part_free);
    old = g_hash_table_lookup (entry->parts, GUINT_TO_POINTER (part_number));
    if (old) {
      g_unlink (old->file);
      entry->parts_size -= old->size;
    }
    entry->parts_size += size;
    g_hash_table_insert (entry->parts, GUINT_TO_POINTER (part_number), part);
  } else {
    g_unlink (part_file);
    g_clear_pointer (&part, part_free);
  }
  g_mutex_unlock (&storage->lock);
  return part ? g_strdup (part->etag) : NULL;
}

/* Removes the parts and their files, under the lock. */
static void
clear_parts (StorageEntry * entry)
{
  GHashTableIter iter;
  Part *part;

  if (!entry->parts)
    return;
  g_hash_table_iter_init (&iter, entry->parts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & part))
    g_unlink (part->file);
  g_clear_pointer (&entry->parts, g_hash_table_unref);
  entry->parts_size = 0;
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

/* The files of the listed parts, which must have been uploaded with
 * matching etags; under the lock. */
static GPtrArray *
list_parts (StorageEntry * entry, GArray * parts, GPtrArray * etags,
    GError ** error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  guint i;

  if (!parts->len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "No parts to complete");
    return NULL;
  }
  for (i = 0; i < parts->len; i++) {
    guint n = g_array_index (parts, guint, i);
    Part *part = entry->parts ?
        g_hash_table_lookup (entry->parts, GUINT_TO_POINTER (n)) : NULL;
    const gchar *given = etags ? g_ptr_array_index (etags, i) : NULL;
    g_autofree gchar *unquoted = given ? g_strdup (given) : NULL;

    if (unquoted)
      g_strstrip (g_strdelimit (unquoted, "\"", ' '));
    if (!part || (unquoted && *unquoted && strcmp (unquoted, part->etag))) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "Part %u is missing or its etag does not match", n);
      return NULL;
    }
    g_ptr_array_add (files, g_strdup (part->file));
  }
  return g_steal_pointer (&files);
}

static gboolean
concatenate (const gchar * file, GPtrArray * files, GError ** error)
{
  g_autoptr (GFile) target = g_file_new_for_path (file);
  g_autoptr (GFileOutputStream) out = g_file_replace (target, NULL, FALSE,
      G_FILE_CREATE_PRIVATE, NULL, error);
  guint i;

  if (!out)
    return FALSE;
  for (i = 0; i < files->len; i++)
    if (!append_file (G_OUTPUT_STREAM (out), g_ptr_array_index (files, i),
            error))
      return FALSE;
  return g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}

gchar *
gst_fal_storage_complete_multipart (GstFalStorage * storage,
    const gchar * upload_id, GArray * parts, GPtrArray * etags,
    GError ** error)
{
  g_autoptr (GPtrArray) files = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *file = NULL;
  gchar *path = NULL;
  StorageEntry *entry;
  gboolean written;

  g_mutex_lock (&storage->lock);
  entry = lookup_upload (storage, upload_id, TRUE, error);
  if (entry)
    files = list_parts (entry, parts, etags, error);
  if (files) {
    entry->state = STATE_WRITING;
    id = g_strdup (entry->id);
    file = g_strdup (entry->file);
    path = g_strdup_printf ("%s/%s", entry->id, entry->name);
  }
  g_mutex_unlock (&storage->lock);
  if (!files)
    return NULL;

  written = concatenate (file, files, error);
  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, id);
  if (entry && written)
    clear_parts (entry);
  g_mutex_unlock (&storage->lock);
  if (!release_upload (storage, id, written, NULL, error) || !written) {
    g_free (path);
    return NULL;
  }
  return path;
}

gchar *
gst_fal_storage_upload_path (GstFalStorage * storage, const gchar * upload_id)
{
  g_autofree gchar *key = upload_key (upload_id);
  StorageEntry *entry;
  gchar *path = NULL;

  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->uploads, key);
  if (entry)
    path = g_strdup_printf ("%s/%s", entry->id, entry->name);
  g_mutex_unlock (&storage->lock);
  return path;
}

GBytes *
gst_fal_storage_read_full (GstFalStorage * storage, const gchar * path,
    gchar ** content_type, GstFalStorageFlags * flags)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", 2);
  g_autofree gchar *file = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  StorageEntry *entry;

  if (g_strv_length (parts) != 2)
    return NULL;
  g_mutex_lock (&storage->lock);
  entry = g_hash_table_lookup (storage->entries, parts[0]);
  if (entry && entry->state == STATE_COMPLETE
      && !strcmp (entry->name, parts[1])
      && !entry_expired (entry, g_get_real_time ())) {
    file = g_strdup (entry->file);
    if (content_type)
      *content_type = g_strdup (entry->content_type);
    if (flags)
      *flags = entry->flags;
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

GBytes *
gst_fal_storage_read (GstFalStorage * storage, const gchar * path,
    gchar ** content_type)
{
  GBytes *bytes = gst_fal_storage_read_full (storage, path, content_type,
      NULL);

  if (bytes && content_type && !*content_type)
    *content_type = g_strdup ("application/octet-stream");
  return bytes;
}

/* Types a browser runs script from when it renders them as a page: HTML,
 * XHTML, SVG and every XML, multipart/x-mixed-replace (whose parts are
 * rendered by their own types). */
static gboolean
is_active_type (const gchar * essence)
{
  return strstr (essence, "html") || g_str_has_suffix (essence, "xml")
      || g_str_has_prefix (essence, "multipart/")
      || !strcmp (essence, "text/xsl");
}

/* A MIME type name (RFC 6838 restricted-name characters). */
static gboolean
is_name (const gchar * text, gssize length)
{
  gsize n = length < 0 ? strlen (text) : (gsize) length;
  gsize i;

  for (i = 0; i < n; i++)
    if (!g_ascii_isalnum (text[i]) && !strchr ("!#$&^_.+-", text[i]))
      return FALSE;
  return n > 0 && n <= 127;
}

/* The charset parameter of @params ("; a=b; charset=x"), if it is a name. */
static gchar *
charset_param (const gchar * params)
{
  g_auto (GStrv) list = params ? g_strsplit (params, ";", -1) : NULL;
  guint i;

  for (i = 0; list && list[i]; i++) {
    gchar *param = g_strstrip (list[i]);

    if (!g_ascii_strncasecmp (param, "charset=", 8)) {
      gchar *value = g_strstrip (g_strdelimit (param + 8, "\"", ' '));

      return is_name (value, -1) ? g_ascii_strdown (value, -1) : NULL;
    }
  }
  return NULL;
}

gchar *
gst_fal_storage_served_type (const gchar * declared, GstFalStorageFlags flags,
    gboolean * attachment)
{
  const gchar *params = declared ? strchr (declared, ';') : NULL;
  g_autofree gchar *essence = NULL;
  g_autofree gchar *charset = NULL;
  const gchar *slash;

  *attachment = FALSE;
  if (!declared)
    return g_strdup ("application/octet-stream");
  essence = g_strstrip (g_ascii_strdown (declared,
          params ? params - declared : -1));
  slash = strchr (essence, '/');
  if (!slash || !is_name (essence, slash - essence) || !is_name (slash + 1, -1)
      || (is_active_type (essence) && !(flags & GST_FAL_STORAGE_TRUSTED))) {
    *attachment = TRUE;
    return g_strdup ("application/octet-stream");
  }
  charset = charset_param (params);
  if (charset)
    return g_strdup_printf ("%s; charset=%s", essence, charset);
  return g_steal_pointer (&essence);
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
      if (entry->upload_key)
        g_hash_table_remove (storage->uploads, entry->upload_key);
      g_hash_table_iter_remove (&iter);
    }
  }
  g_mutex_unlock (&storage->lock);
  for (count = 0; count < dirs->len; count++)
    remove_tree (g_ptr_array_index (dirs, count));
  g_ptr_array_unref (dirs);
  return count;
}
