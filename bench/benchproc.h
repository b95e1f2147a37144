/* bench: the process's own resident memory and open descriptors, from
 * /proc/self (-1 when unknown). */
#pragma once

#include <glib.h>
#include <string.h>

static inline gint64
bench_rss_kb (void)
{
  g_autofree gchar *text = NULL;
  const gchar *line;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return -1;
  line = strstr (text, "\nVmRSS:");
  return line ? g_ascii_strtoll (line + strlen ("\nVmRSS:"), NULL, 10) : -1;
}

static inline gint
bench_open_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  gint n = 0;

  if (!dir)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  return n - 1;                 /* the GDir's own */
}
