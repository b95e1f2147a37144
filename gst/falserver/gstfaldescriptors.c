/* gst-fal server: descriptor headroom.
 *
 * Out of descriptors, GLib aborts the process in the places that cannot fail
 * (g_wakeup_new() for a GMainContext or a GCancellable's fd: "GLib-ERROR …
 * Too many open files"), and an app pipeline needs a few dozen. So the server
 * takes new work only while a reserve is free, and says so once when the
 * reserve runs out and once when it is back, not once per refused request.
 */
#include <poll.h>
#include <sys/resource.h>
#include "gstfalserver-private.h"

static gint short_of_descriptors;       /* atomic: 1 while short */

/* Open descriptors of this process, -1 when unknown, G_MAXINT when there
 * is none left to count them with. */
static gint
count_open (void)
{
  g_autoptr (GError) error = NULL;
  GDir *dir = g_dir_open ("/proc/self/fd", 0, &error);
  gint n = -1;                  /* the directory's own */

  if (!dir)
    return g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_MFILE)
        || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NFILE) ?
        G_MAXINT : -1;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n;
}

gint
gst_fal_descriptors_free (void)
{
  struct rlimit limit;
  gint open = count_open ();

  if (open < 0 || getrlimit (RLIMIT_NOFILE, &limit) != 0
      || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > G_MAXINT)
    return G_MAXINT;
  return open == G_MAXINT ? 0 : MAX ((gint) limit.rlim_cur - open, 0);
}

/* TRUE when none of the reserve's top descriptors (the last ones under the
 * soft limit) is open: then the reserve is free whatever the count. One
 * poll() instead of reading /proc/self/fd, which costs as much as the rest of
 * a request; descriptors are handed out lowest first, so this holds until the
 * process nears its limit, where counting takes over. */
static gboolean
top_is_free (void)
{
  struct pollfd fds[GST_FAL_DESCRIPTORS_RESERVE];
  struct rlimit limit;
  guint i;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur > G_MAXINT
      || limit.rlim_cur < 2 * GST_FAL_DESCRIPTORS_RESERVE)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (fds); i++) {
    fds[i].fd = limit.rlim_cur - G_N_ELEMENTS (fds) + i;
    fds[i].events = 0;
    fds[i].revents = 0;
  }
  if (poll (fds, G_N_ELEMENTS (fds), 0) < 0)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (fds); i++)
    if (!(fds[i].revents & POLLNVAL))
      return FALSE;
  return TRUE;
}

gboolean
gst_fal_descriptors_enough (void)
{
  gint free;

  if (!g_atomic_int_get (&short_of_descriptors) && top_is_free ())
    return TRUE;
  free = gst_fal_descriptors_free ();
  if (free < GST_FAL_DESCRIPTORS_RESERVE) {
    if (g_atomic_int_compare_and_exchange (&short_of_descriptors, 0, 1))
      g_warning ("Out of file descriptors (%d free): new requests are "
          "answered 503 until some are closed", free);
    return FALSE;
  }
  if (g_atomic_int_compare_and_exchange (&short_of_descriptors, 1, 0))
    g_message ("File descriptors available again (%d free)", free);
  return TRUE;
}
