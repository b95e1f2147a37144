/* gst-fal: export macros for libgstfal-1.0 */
#pragma once

#include <glib.h>

#ifndef GST_FAL_API
# ifdef BUILDING_GST_FAL
#  define GST_FAL_API __attribute__ ((visibility ("default"))) extern
# else
#  define GST_FAL_API extern
# endif
#endif
