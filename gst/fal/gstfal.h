/* gst-fal: libgstfal-1.0, the fal client library for GLib and GStreamer */
#pragma once

#include <gst/fal/gstfal-prelude.h>
#include <gst/fal/gstfalerror.h>
#include <gst/fal/gstfalstatus.h>
#include <gst/fal/gstfaloptions.h>
#include <gst/fal/gstfalrequest.h>
#include <gst/fal/gstfalclient.h>
#include <gst/fal/gstfalupload.h>
#include <gst/fal/gstfalframe.h>
#include <gst/fal/gstfalresultmeta.h>
#include <gst/fal/gstfalwebhook.h>
#include <gst/fal/gstfalrealtime.h>
