/* gst-fal serve, apps: the local fal-compatible server */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfal-cmd.h"

#if HAVE_FAL_SERVER
#include <gst/falserver/gstfalserver.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_PORT 8472

typedef struct
{
  gchar *bind;
  gint port;
  gint workers;
  gchar *key;
  gchar *storage_dir;
  gchar *apps_file;
  gchar **backends;             /* --app OWNER/NAME=URL */
  gint backend_timeout;
  gchar *webhook_key_file;
  gint64 max_body;
  gboolean admin;
  gchar **allow_fetch;
  gint64 max_fetch_bytes;
  gint64 max_pixels;
  gint fetch_timeout;
  gint header_timeout;
  gint idle_timeout;
  gint max_connections;
  gchar *tls_certificate;
  gchar *tls_key;
  gboolean list_apps;
  GTlsCertificate *certificate; /* loaded from the two above */
} ServeOptions;

static void
serve_options_clear (ServeOptions * opts)
{
  g_free (opts->bind);
  if (opts->key)
    memset (opts->key, 0, strlen (opts->key));
  g_free (opts->key);
  g_free (opts->storage_dir);
  g_free (opts->apps_file);
  g_strfreev (opts->backends);
  g_free (opts->webhook_key_file);
  g_strfreev (opts->allow_fetch);
  g_free (opts->tls_certificate);
  g_free (opts->tls_key);
  g_clear_object (&opts->certificate);
}

static gboolean
parse_serve_options (int *argc, char ***argv, ServeOptions * opts,
    gboolean server_options)
{
  GOptionEntry serve_entries[] = {
    {"bind", 0, 0, G_OPTION_ARG_STRING, &opts->bind,
          "address to listen on (default 127.0.0.1; any other needs a key)",
        "ADDRESS"},
    {"port", 0, 0, G_OPTION_ARG_INT, &opts->port,
        "port to listen on, 0 for any free one (default 8472)", "PORT"},
    {"workers", 0, 0, G_OPTION_ARG_INT, &opts->workers,
        "requests run at the same time (default 2)", "N"},
    {"key", 0, 0, G_OPTION_ARG_STRING, &opts->key,
          "require this API key on every API call (default: $FAL_KEY; a "
          "blank key is none)", "KEY"},
    {"admin", 0, 0, G_OPTION_ARG_NONE, &opts->admin,
        "serve the admin routes (/_admin/faults), which need the key", NULL},
    {"storage-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->storage_dir,
        "where uploaded and produced files live (default: a temporary "
          "directory)", "DIR"},
    {"max-body", 0, 0, G_OPTION_ARG_INT64, &opts->max_body,
        "largest request body accepted (default 256 MiB)", "BYTES"},
    {"allow-fetch", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->allow_fetch,
        "hosts the apps may fetch image_url from, repeatable: public (any "
          "public address), an address or range (192.168.1.0/24), or a host "
          "glob with an optional port (*.lan, localhost:9000); default: "
          "public only, so loopback and private hosts other than this "
          "server are refused", "PATTERN"},
    {"max-fetch-bytes", 0, 0, G_OPTION_ARG_INT64, &opts->max_fetch_bytes,
        "largest input media of an app, refused as it streams (default "
          "64 MiB)", "BYTES"},
    {"max-pixels", 0, 0, G_OPTION_ARG_INT64, &opts->max_pixels,
        "largest input image of an app, refused from its header (default "
          "50000000)", "PIXELS"},
    {"fetch-timeout", 0, 0, G_OPTION_ARG_INT, &opts->fetch_timeout,
        "longest fetch of an input media (default 30)", "SECONDS"},
    {"header-timeout", 0, 0, G_OPTION_ARG_INT, &opts->header_timeout,
          "a connection is closed when its request headers take longer, or "
          "a request body stops as long (408) (default 10)", "SECONDS"},
    {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &opts->idle_timeout,
          "a kept-alive connection is closed after waiting this long for its "
          "next request; clients should reuse connections for less (default "
          "75)", "SECONDS"},
    {"max-connections", 0, 0, G_OPTION_ARG_INT, &opts->max_connections,
          "open client connections at most; beyond, the one idle or waiting "
          "for headers the longest is closed, else the new one gets 503 "
          "(default 512)", "N"},
    {"webhook-key-file", 0, 0, G_OPTION_ARG_FILENAME,
          &opts->webhook_key_file, "keep the Ed25519 key webhooks are signed "
          "with in FILE, made if missing, so that receivers keep one JWKS "
          "(default: a new key at each start)", "FILE"},
    {"tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &opts->tls_certificate,
        "serve https with this PEM certificate (chain)", "FILE"},
    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opts->tls_key,
          "the PEM private key of --tls-certificate (default: read from "
          "its file)", "FILE"},
    {"list-apps", 0, 0, G_OPTION_ARG_NONE, &opts->list_apps,
        "print the apps, one per line, and exit", NULL},
    {NULL}
  };
  GOptionEntry apps_entries[] = {
    {"apps", 0, 0, G_OPTION_ARG_FILENAME, &opts->apps_file,
        "extra apps declared in a key file", "FILE"},
    {"app", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->backends,
          "an app fronting the bare HTTP model server at URL (its input "
          "posted to URL, its JSON answer the output), repeatable",
        "OWNER/NAME=URL"},
    {"backend-timeout", 0, 0, G_OPTION_ARG_INT, &opts->backend_timeout,
          "longest exchange with the model server of an --app, answered as "
          "an error after it (default 600)", "SECONDS"},
    {NULL}
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *prgname = g_strdup_printf ("gst-fal %s", (*argv)[0]);
  g_autofree gchar *key = NULL;

  g_set_prgname (prgname);
  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, server_options ?
      "Runs the local fal-compatible server and prints its URL once it "
      "listens. SIGINT or SIGTERM stop it." :
      "Lists the apps of the local server, one per line.");
  if (server_options)
    g_option_context_add_main_entries (context, serve_entries, NULL);
  g_option_context_add_main_entries (context, apps_entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error)) {
    gst_fal_cmd_usage_error ("%s", error->message);
    return FALSE;
  }
  if (*argc > 1) {
    gst_fal_cmd_usage_error ("%s: unexpected argument '%s'", (*argv)[0],
        (*argv)[1]);
    return FALSE;
  }
  if (opts->port < 0 || opts->port > 65535 || opts->workers < 0
      || opts->max_body < 0 || opts->max_fetch_bytes < 0
      || opts->max_pixels < 0 || opts->fetch_timeout < 0) {
    gst_fal_cmd_usage_error ("%s: --port, --workers, --max-body, "
        "--max-fetch-bytes, --max-pixels and --fetch-timeout take a "
        "non-negative number (port at most 65535)", (*argv)[0]);
    return FALSE;
  }
  if (opts->backend_timeout < 0) {
    gst_fal_cmd_usage_error ("%s: --backend-timeout takes a positive number",
        (*argv)[0]);
    return FALSE;
  }
  if (opts->header_timeout < 0 || opts->header_timeout > 3600
      || opts->idle_timeout < 0 || opts->idle_timeout > 86400
      || opts->max_connections < 0 || opts->max_connections > 65536) {
    gst_fal_cmd_usage_error ("%s: --header-timeout (at most 3600), "
        "--idle-timeout (at most 86400) and --max-connections (at most "
        "65536) take a positive number", (*argv)[0]);
    return FALSE;
  }
  if (opts->tls_key && !opts->tls_certificate) {
    gst_fal_cmd_usage_error ("%s: --tls-key needs --tls-certificate",
        (*argv)[0]);
    return FALSE;
  }
  if (opts->tls_certificate) {
    opts->certificate = opts->tls_key ?
        g_tls_certificate_new_from_files (opts->tls_certificate,
        opts->tls_key, &error) :
        g_tls_certificate_new_from_file (opts->tls_certificate, &error);
    if (!opts->certificate) {
      gst_fal_cmd_usage_error ("%s: cannot load the TLS certificate %s: %s",
          (*argv)[0], opts->tls_certificate, error->message);
      return FALSE;
    }
    g_object_get (opts->certificate, "private-key-pem", &key, NULL);
    if (!key) {
      gst_fal_cmd_usage_error ("%s: no private key in %s (give it with "
          "--tls-key)", (*argv)[0], opts->tls_key ? opts->tls_key :
          opts->tls_certificate);
      return FALSE;
    }
    memset (key, 0, strlen (key));
  }
  return TRUE;
}

static gboolean
is_blank (const gchar * key)
{
  for (; key && *key; key++)
    if (!g_ascii_isspace (*key))
      return FALSE;
  return TRUE;
}

/* A blank --key counts as none: FAL_KEY then, which the server reads (and
 * ignores when blank too). */
static GstFalServer *
make_server (const ServeOptions * opts)
{
  GstFalServer *server = gst_fal_server_new ();

  if (!is_blank (opts->key))
    g_object_set (server, "key", opts->key, NULL);
  if (opts->admin)
    g_object_set (server, "admin", TRUE, NULL);
  if (opts->bind)
    g_object_set (server, "bind-address", opts->bind, NULL);
  g_object_set (server, "port", (guint) opts->port, NULL);
  if (opts->workers > 0)
    g_object_set (server, "workers", (guint) opts->workers, NULL);
  if (opts->storage_dir)
    g_object_set (server, "storage-dir", opts->storage_dir, NULL);
  if (opts->apps_file)
    g_object_set (server, "apps-file", opts->apps_file, NULL);
  if (opts->backends)
    g_object_set (server, "backends", opts->backends, NULL);
  if (opts->webhook_key_file)
    g_object_set (server, "webhook-key-file", opts->webhook_key_file, NULL);
  if (opts->backend_timeout > 0)
    g_object_set (server, "backend-timeout", (guint) opts->backend_timeout,
        NULL);
  if (opts->max_body > 0)
    g_object_set (server, "max-body", (guint64) opts->max_body, NULL);
  if (opts->allow_fetch)
    g_object_set (server, "allow-fetch", opts->allow_fetch, NULL);
  if (opts->max_fetch_bytes > 0)
    g_object_set (server, "max-fetch-bytes", (guint64) opts->max_fetch_bytes,
        NULL);
  if (opts->max_pixels > 0)
    g_object_set (server, "max-pixels", (guint64) opts->max_pixels, NULL);
  if (opts->fetch_timeout > 0)
    g_object_set (server, "fetch-timeout", (guint) opts->fetch_timeout, NULL);
  if (opts->header_timeout > 0)
    g_object_set (server, "header-timeout", (guint) opts->header_timeout, NULL);
  if (opts->idle_timeout > 0)
    g_object_set (server, "idle-timeout", (guint) opts->idle_timeout, NULL);
  if (opts->max_connections > 0)
    g_object_set (server, "max-connections", (guint) opts->max_connections,
        NULL);
  if (opts->certificate)
    g_object_set (server, "tls-certificate", opts->certificate, NULL);
  return server;
}

static void
print_apps (GstFalServer * server)
{
  g_autoptr (GPtrArray) apps = gst_fal_server_list_apps (server);
  guint i;

  for (i = 0; i < apps->len; i++) {
    const gchar *line = g_ptr_array_index (apps, i);
    const gchar *tab = strchr (line, '\t');

    if (tab)
      printf ("%-24.*s %s\n", (int) (tab - line), line, tab + 1);
    else
      printf ("%s\n", line);
  }
  fflush (stdout);
}

static gboolean
on_stop_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

int
gst_fal_cmd_serve (int argc, char **argv)
{
  ServeOptions opts = {.port = DEFAULT_PORT };
  g_autoptr (GstFalServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GError) error = NULL;
  guint sigint, sigterm;
  int status = GST_FAL_EXIT_OK;

  if (!parse_serve_options (&argc, &argv, &opts, TRUE)) {
    status = GST_FAL_EXIT_USAGE;
    goto out;
  }
  server = make_server (&opts);
  if (opts.list_apps) {
    print_apps (server);
    goto out;
  }

  /* handlers first, so that a signal right after the URL is printed stops
   * the server gracefully */
  loop = g_main_loop_new (NULL, FALSE);
  sigint = g_unix_signal_add (SIGINT, on_stop_signal, loop);
  sigterm = g_unix_signal_add (SIGTERM, on_stop_signal, loop);
  if (!gst_fal_server_start (server, &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) {
      gchar *message = g_strdup_printf ("%s: set FAL_KEY or --key, or "
          "--bind 127.0.0.1", error->message);

      g_free (error->message);
      error->message = message;
    }
    status = gst_fal_cmd_report_error ("serve", error);
  } else {
    printf ("%s\n", gst_fal_server_get_url (server));
    fflush (stdout);
    g_main_loop_run (loop);
    gst_fal_server_stop (server);
  }
  g_source_remove (sigint);
  g_source_remove (sigterm);

out:
  serve_options_clear (&opts);
  return status;
}

int
gst_fal_cmd_apps (int argc, char **argv)
{
  ServeOptions opts = { 0 };
  g_autoptr (GstFalServer) server = NULL;
  int status = GST_FAL_EXIT_OK;

  if (!parse_serve_options (&argc, &argv, &opts, FALSE)) {
    status = GST_FAL_EXIT_USAGE;
    goto out;
  }
  server = make_server (&opts);
  print_apps (server);

out:
  serve_options_clear (&opts);
  return status;
}

#else /* !HAVE_FAL_SERVER */

int
gst_fal_cmd_serve (int argc, char **argv)
{
  return gst_fal_cmd_usage_error ("serve: built without the server "
      "(-Dserver=disabled)");
}

int
gst_fal_cmd_apps (int argc, char **argv)
{
  return gst_fal_cmd_usage_error ("apps: built without the server "
      "(-Dserver=disabled)");
}

#endif
