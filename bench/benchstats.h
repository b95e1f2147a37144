/* bench: the median of the figures of interleaved rounds */
#pragma once

#include <glib.h>

static inline gint
bench_compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

/* The median of @values (element-type gdouble), which it sorts. */
static inline gdouble
bench_median (GArray * values)
{
  g_array_sort (values, bench_compare_doubles);
  return g_array_index (values, gdouble, values->len / 2);
}
