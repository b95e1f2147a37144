/* Raw HTTP/1.1 on a socket of its own, closed by the client once the answer
 * is read: what curl and most clients do, and what leaks a descriptor in a
 * libsoup 3.2 server. Also used by bench/bench-fds.c (glib/gio only). */
#pragma once

#include <string.h>
#include <gio/gio.h>

#define FAL_RAW_TIMEOUT_SECONDS 20

typedef struct {
  guint status;                 /* 0: no answer (closed, timed out) */
  gboolean timed_out;           /* no answer and no close */
  gchar *body;
} FalRawReply;

static inline void
fal_raw_reply_free (FalRawReply * reply)
{
  g_free (reply->body);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FalRawReply, fal_raw_reply_free);

/* A blocking socket connected to 127.0.0.1:@port, NULL on error. */
static inline GSocket *
fal_raw_connect (guint port, GError ** error)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (inet, port);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, error);

  if (!socket)
    return NULL;
  g_socket_set_timeout (socket, FAL_RAW_TIMEOUT_SECONDS);
  if (!g_socket_connect (socket, address, NULL, error))
    g_clear_object (&socket);
  return socket;
}

/* Sends the request head and, if @send_body, @body (one write: no Nagle
 * delay on a reused connection); FALSE on error. */
static inline gboolean
fal_raw_send (GSocket * socket, const gchar * method, const gchar * path,
    const gchar * body, gboolean send_body)
{
  g_autofree gchar *request = g_strdup_printf ("%s %s HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s", method, path,
      body ? strlen (body) : 0, body && send_body ? body : "");

  return g_socket_send_with_blocking (socket, request, strlen (request), TRUE,
      NULL, NULL) == (gssize) strlen (request);
}

/* Reads one answer with a Content-Length body. */
static inline FalRawReply *
fal_raw_receive (GSocket * socket)
{
  FalRawReply *reply = g_new0 (FalRawReply, 1);
  GString *data = g_string_new (NULL);
  const gchar *end = NULL, *length;
  gsize wanted = G_MAXSIZE;
  gchar buffer[4096];

  while (data->len < wanted) {
    g_autoptr (GError) error = NULL;
    gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

    reply->timed_out = g_error_matches (error, G_IO_ERROR,
        G_IO_ERROR_TIMED_OUT);
    if (n <= 0)
      break;
    g_string_append_len (data, buffer, n);
    if (!end && (end = strstr (data->str, "\r\n\r\n"))) {
      length = strstr (data->str, "Content-Length: ");
      wanted = (end - data->str) + 4 +
          (length ? g_ascii_strtoull (length + 16, NULL, 10) : 0);
    }
  }
  if (end && data->len >= wanted && g_str_has_prefix (data->str, "HTTP/1.")) {
    reply->status = g_ascii_strtoull (data->str + 9, NULL, 10);
    end = strstr (data->str, "\r\n\r\n");
    reply->body = g_strdup (end + 4);
  }
  g_string_free (data, TRUE);
  return reply;
}

/* One request on a new connection, closed once the answer is read. */
static inline FalRawReply *
fal_raw_request (guint port, const gchar * method, const gchar * path,
    const gchar * body)
{
  GSocket *socket = fal_raw_connect (port, NULL);
  FalRawReply *reply;

  if (!socket)
    return g_new0 (FalRawReply, 1);
  reply = fal_raw_send (socket, method, path, body, TRUE) ?
      fal_raw_receive (socket) : g_new0 (FalRawReply, 1);
  g_socket_close (socket, NULL);
  g_object_unref (socket);
  return reply;
}

/* Open descriptors of this process, -1 when unknown. */
static inline gint
fal_raw_count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  gint n = 0;

  if (!dir)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n - 1;                 /* the directory's own */
}
