/* gst-fal batch: the output lines, and what a resumed batch skips
 *
 * Each line goes out whole in one write(2) to a file opened O_APPEND, so a
 * batch killed at any moment leaves whole lines and at most one partly
 * written last line (a full disk, a crash of the machine); --resume cuts
 * that line off and skips the indexes of the others. A kill of the process
 * loses nothing the kernel accepted; fdatasync (once a second, and at the
 * end) bounds what a crash of the machine can lose.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <gst/fal/gstfaljson-private.h>

#define SYNC_INTERVAL G_USEC_PER_SEC

struct _GstFalCmdBatchOutput
{
  int fd;
  gboolean is_file;
  gint64 last_sync;
  GByteArray *done;             /* bit i: index i was in the file */
  guint64 n_resumed;
};

static void
mark_done (GstFalCmdBatchOutput * out, guint64 index)
{
  guint64 byte = index / 8;

  if (byte >= out->done->len) {
    guint old = out->done->len;

    g_byte_array_set_size (out->done, MAX (byte + 1, (guint64) old * 2));
    memset (out->done->data + old, 0, out->done->len - old);
  }
  if (!(out->done->data[byte] & (1 << (index % 8))))
    out->n_resumed++;
  out->done->data[byte] |= 1 << (index % 8);
}

gboolean
gst_fal_cmd_batch_output_has (GstFalCmdBatchOutput * out, guint64 index)
{
  guint64 byte = index / 8;

  return byte < out->done->len && (out->done->data[byte] & (1 << (index % 8)));
}

guint64
gst_fal_cmd_batch_output_n_resumed (GstFalCmdBatchOutput * out)
{
  return out->n_resumed;
}

/* The largest index a resumed file may name: the table of done indexes
 * is a bit per index, sized from the largest (512 MiB at this one). */
#define MAX_INDEX G_MAXUINT32

/* Notes the index of a line written by a batch; a line that is not a JSON
 * object is skipped, an index that is not an input's is refused. */
static gboolean
note_line (GstFalCmdBatchOutput * out, const gchar * line, gsize length,
    const gchar * path, guint64 number, GError ** error)
{
  g_autoptr (JsonNode) node = gst_fal_json_from_string (line, length, NULL);
  JsonNode *index;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return TRUE;
  index = json_object_get_member (json_node_get_object (node), "index");
  if (!index)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (index)
      || json_node_get_value_type (index) != G_TYPE_INT64
      || json_node_get_int (index) < 0
      || json_node_get_int (index) > MAX_INDEX) {
    g_autofree gchar *text = g_strndup (line, MIN (length, 80));

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "cannot resume from %s: line %" G_GUINT64_FORMAT " has an index that "
        "is not an input's (a whole number up to %u): %s", path, number,
        MAX_INDEX, text);
    return FALSE;
  }
  mark_done (out, json_node_get_int (index));
  return TRUE;
}

/* Reads the indexes of the whole lines; returns the size they take. */
static gboolean
scan (GstFalCmdBatchOutput * out, const gchar * path, off_t * whole,
    GError ** error)
{
  FILE *file = fdopen (dup (out->fd), "r");
  gchar *line = NULL;
  size_t size = 0;
  ssize_t n;
  guint64 number = 0;
  gboolean ok = TRUE;

  *whole = 0;
  if (!file) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "cannot read %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  while (ok && (n = getline (&line, &size, file)) > 0) {
    if (line[n - 1] != '\n')
      break;
    ok = note_line (out, line, n - 1, path, ++number, error);
    *whole += n;
  }
  free (line);
  fclose (file);
  return ok;
}

GstFalCmdBatchOutput *
gst_fal_cmd_batch_output_open (const gchar * path, gboolean resume,
    GError ** error)
{
  GstFalCmdBatchOutput *out = g_new0 (GstFalCmdBatchOutput, 1);
  off_t whole;

  out->done = g_byte_array_new ();
  if (!path) {
    out->fd = STDOUT_FILENO;
    return out;
  }
  out->is_file = TRUE;
  out->fd = open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC |
      (resume ? 0 : O_TRUNC), 0666);
  if (out->fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "cannot open %s: %s", path, g_strerror (errno));
    goto fail;
  }
  if (resume) {
    if (!scan (out, path, &whole, error))
      goto fail;
    if (ftruncate (out->fd, whole) < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "cannot cut the partial last line of %s: %s", path,
          g_strerror (errno));
      goto fail;
    }
  }
  out->last_sync = g_get_monotonic_time ();
  return out;

fail:
  gst_fal_cmd_batch_output_close (out);
  return NULL;
}

gboolean
gst_fal_cmd_batch_output_write (GstFalCmdBatchOutput * out,
    const gchar * line, GError ** error)
{
  g_autofree gchar *text = g_strconcat (line, "\n", NULL);
  gsize length = strlen (text), written = 0;
  gint64 now;

  while (written < length) {
    ssize_t n = write (out->fd, text + written, length - written);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "cannot write the output: %s", g_strerror (errno));
      return FALSE;
    }
    written += n;
  }
  now = g_get_monotonic_time ();
  if (out->is_file && now - out->last_sync >= SYNC_INTERVAL) {
    fdatasync (out->fd);
    out->last_sync = now;
  }
  return TRUE;
}

void
gst_fal_cmd_batch_output_close (GstFalCmdBatchOutput * out)
{
  if (out->is_file && out->fd >= 0) {
    fdatasync (out->fd);
    close (out->fd);
  }
  g_byte_array_unref (out->done);
  g_free (out);
}
