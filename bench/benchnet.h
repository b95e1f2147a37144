/* bench: Linux's count of TCP connections dropped because a listen queue was
 * full (TcpExt ListenOverflows in /proc/net/netstat), -1 when unknown. A
 * dropped connection is retried by the client's kernel after 1 s, so any
 * increase during a measurement explains a stall of that size. */
#pragma once

#include <glib.h>

static inline gint64
bench_listen_overflows (void)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  gint64 count = -1;
  guint i, j;

  if (!g_file_get_contents ("/proc/net/netstat", &text, NULL, NULL))
    return -1;
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i] && lines[i + 1]; i++) {
    g_auto (GStrv) names = NULL;
    g_auto (GStrv) values = NULL;

    if (!g_str_has_prefix (lines[i], "TcpExt:")
        || !g_str_has_prefix (lines[i + 1], "TcpExt:"))
      continue;
    names = g_strsplit (lines[i], " ", -1);
    values = g_strsplit (lines[i + 1], " ", -1);
    for (j = 0; names[j] && values[j]; j++)
      if (g_str_equal (names[j], "ListenOverflows"))
        count = g_ascii_strtoll (values[j], NULL, 10);
    break;
  }
  return count;
}

/* The increase since @before, -1 when unknown. */
static inline gint64
bench_listen_overflows_since (gint64 before)
{
  gint64 now = bench_listen_overflows ();

  return before < 0 || now < 0 ? -1 : now - before;
}
