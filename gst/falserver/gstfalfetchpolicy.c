/* gst-fal server: the policy of the media fetches of apps
 *
 * A fetch runs on the worker's thread, on a main context of its own, so
 * that one deadline bounds the resolution, the connection, the redirects and
 * the body. Each hop's host is resolved and every address checked before a
 * connection is made, and the address a connection is about to use is
 * checked again (G_SOCKET_CLIENT_CONNECTING), so that a name that resolves
 * differently the second time is caught too. No proxy is used: the address
 * checked is the one connected to.
 */
#include <string.h>
#include <libsoup/soup.h>
#include "gstfalfetchpolicy.h"
#include "gstfalblocking-private.h"
#include "gstfalapp.h"

#define MAX_REDIRECTS 5
#define READ_CHUNK (64 * 1024)

/* Not fetched unless a pattern allows them: "this network", private,
 * shared (CGNAT), loopback, link-local, IETF, benchmark, multicast and
 * reserved ranges, and their IPv6 counterparts. IPv4-mapped and NAT64
 * addresses are checked as the IPv4 address they hold. */
static const gchar *const special_ranges[] = {
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
  "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16",
  "198.18.0.0/15", "224.0.0.0/3",
  "::/96", "100::/64", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
};

GstFalFetchPolicy *
gst_fal_fetch_policy_new (void)
{
  GstFalFetchPolicy *policy = g_new0 (GstFalFetchPolicy, 1);

  policy->max_bytes = GST_FAL_DEFAULT_MAX_FETCH_BYTES;
  policy->max_pixels = GST_FAL_DEFAULT_MAX_PIXELS;
  policy->timeout = GST_FAL_DEFAULT_FETCH_TIMEOUT;
  return policy;
}

void
gst_fal_fetch_policy_free (GstFalFetchPolicy * policy)
{
  g_strfreev (policy->allow);
  g_clear_object (&policy->own_address);
  g_free (policy);
}

void
gst_fal_fetch_policy_set_own_address (GstFalFetchPolicy * policy,
    GInetAddress * address, guint port)
{
  g_clear_object (&policy->own_address);
  policy->own_address = address ? g_object_ref (address) : NULL;
  policy->own_port = port;
}

/* The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64
 * (64:ff9b::a.b.c.d) IPv6 address, else NULL. */
static GInetAddress *
embedded_ipv4 (GInetAddress * address)
{
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
    0xff
  };
  static const guint8 nat64[12] = { 0, 0x64, 0xff, 0x9b };
  const guint8 *bytes;

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return NULL;
  bytes = g_inet_address_to_bytes (address);
  if (memcmp (bytes, mapped, 12) && memcmp (bytes, nat64, 12))
    return NULL;
  return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
}

static gboolean
is_special (GInetAddress * address)
{
  g_autoptr (GInetAddress) ipv4 = embedded_ipv4 (address);
  guint i;

  if (ipv4)
    address = ipv4;
  for (i = 0; i < G_N_ELEMENTS (special_ranges); i++) {
    g_autoptr (GInetAddressMask) mask =
        g_inet_address_mask_new_from_string (special_ranges[i], NULL);

    if (mask && g_inet_address_mask_matches (mask, address))
      return TRUE;
  }
  return FALSE;
}

/* "public", an address or range (10.1.2.3, 192.168.0.0/16, fd00::/8), or a
 * host glob with an optional port (*.example.com, localhost:9000,
 * [::1]:8080), matched against the URL's host and the resolved address. */
static gboolean
pattern_matches (const gchar * pattern, const gchar * host, guint port,
    GInetAddress * address)
{
  g_autoptr (GInetAddressMask) mask = NULL;
  g_autofree gchar *name = NULL, *lower_name = NULL, *lower_host = NULL;
  g_autofree gchar *address_text = NULL;
  const gchar *port_text = NULL, *colon = strchr (pattern, ':');

  if (g_str_equal (pattern, "public"))
    return !is_special (address);
  mask = g_inet_address_mask_new_from_string (pattern, NULL);
  if (mask)
    return g_inet_address_mask_matches (mask, address);

  if (pattern[0] == '[') {
    const gchar *end = strchr (pattern, ']');

    if (!end || (end[1] && end[1] != ':'))
      return FALSE;
    name = g_strndup (pattern + 1, end - pattern - 1);
    port_text = end[1] ? end + 2 : NULL;
  } else if (colon && colon == strrchr (pattern, ':')) {
    name = g_strndup (pattern, colon - pattern);
    port_text = colon + 1;
  } else {
    name = g_strdup (pattern);
  }
  if (port_text && strcmp (port_text, "*")) {
    guint64 value;

    if (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &value, NULL)
        || value != port)
      return FALSE;
  }
  lower_name = g_ascii_strdown (name, -1);
  lower_host = g_ascii_strdown (host, -1);
  address_text = g_inet_address_to_string (address);
  return g_pattern_match_simple (lower_name, lower_host)
      || g_pattern_match_simple (lower_name, address_text);
}

gboolean
gst_fal_fetch_policy_allows (const GstFalFetchPolicy * policy,
    const gchar * host, guint port, GInetAddress * address)
{
  gchar **pattern;

  if (policy->own_address && port == policy->own_port
      && (g_inet_address_equal (address, policy->own_address)
          || (g_inet_address_get_is_any (policy->own_address)
              && g_inet_address_get_is_loopback (address))))
    return TRUE;
  if (!policy->allow || !policy->allow[0])
    return !is_special (address);
  for (pattern = policy->allow; *pattern; pattern++)
    if (pattern_matches (*pattern, host, port, address))
      return TRUE;
  return FALSE;
}

void
gst_fal_fetch_set_size_error (GError ** error, guint64 max_bytes)
{
  g_set_error (error, GST_FAL_APP_ERROR, 422,
      "it is larger than the limit of %" G_GUINT64_FORMAT
      " bytes (max-fetch-bytes)", max_bytes);
}

typedef struct
{
  const GstFalFetchPolicy *policy;
  /* its cancellable: the request's, the deadline or a refusal */
  GstFalBlocking blocking;
  gchar *refused;               /* why an address was refused */
  const gchar *host;            /* of the current hop */
} Fetch;

/* Checks an address the current hop resolved to or connects to; FALSE and
 * the fetch refused (and cancelled) if the policy does not allow it. */
static gboolean
check_address (Fetch * fetch, guint port, GInetAddress * address)
{
  g_autofree gchar *text = NULL;

  if (gst_fal_fetch_policy_allows (fetch->policy, fetch->host, port, address))
    return TRUE;
  text = g_inet_address_to_string (address);
  if (!fetch->refused)
    fetch->refused = g_strdup_printf ("%s (%s, port %u) is refused by the "
        "fetch policy: %s", fetch->host, text, port,
        fetch->policy->allow && fetch->policy->allow[0] ?
        "no allow-fetch pattern matches it" :
        "loopback, private and reserved addresses are fetched only when "
        "allow-fetch allows them");
  g_cancellable_cancel (fetch->blocking.cancellable);
  return FALSE;
}

static void
network_event (SoupMessage * msg, GSocketClientEvent event,
    GIOStream * connection, Fetch * fetch)
{
  g_autoptr (GSocketAddress) remote = NULL;

  if (event != G_SOCKET_CLIENT_CONNECTING)
    return;
  /* during CONNECTING, the address about to be connected to */
  if (G_IS_SOCKET_CONNECTION (connection))
    remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION
        (connection), NULL);
  if (!remote || !G_IS_INET_SOCKET_ADDRESS (remote)) {
    if (!fetch->refused)
      fetch->refused = g_strdup_printf ("the address of %s is unknown to the "
          "fetch policy", fetch->host);
    g_cancellable_cancel (fetch->blocking.cancellable);
    return;
  }
  check_address (fetch,
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)),
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

/* Resolves the hop's host and checks every address. */
static gboolean
resolve_and_check (Fetch * fetch, guint port, GError ** error)
{
  g_autoptr (GResolver) resolver = g_resolver_get_default ();
  g_autoptr (GAsyncResult) result = NULL;
  GList *addresses, *l;
  gboolean allowed = TRUE;

  g_resolver_lookup_by_name_async (resolver, fetch->host,
      fetch->blocking.cancellable, gst_fal_blocking_done, &fetch->blocking);
  result = gst_fal_blocking_wait (&fetch->blocking);
  addresses = g_resolver_lookup_by_name_finish (resolver, result, error);
  if (!addresses)
    return FALSE;
  for (l = addresses; l && allowed; l = l->next)
    allowed = check_address (fetch, port, l->data);
  g_resolver_free_addresses (addresses);
  return allowed;
}

/* Reads the body, at most @max_bytes. */
static GBytes *
read_body (Fetch * fetch, GInputStream * stream, guint64 max_bytes,
    GError ** error)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();

  for (;;) {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GBytes) chunk = NULL;

    g_input_stream_read_bytes_async (stream, READ_CHUNK, G_PRIORITY_DEFAULT,
        fetch->blocking.cancellable, gst_fal_blocking_done, &fetch->blocking);
    result = gst_fal_blocking_wait (&fetch->blocking);
    chunk = g_input_stream_read_bytes_finish (stream, result, error);
    if (!chunk)
      return NULL;
    if (g_bytes_get_size (chunk) == 0)
      return g_byte_array_free_to_bytes (g_steal_pointer (&body));
    if (max_bytes && body->len + g_bytes_get_size (chunk) > max_bytes) {
      gst_fal_fetch_set_size_error (error, max_bytes);
      return NULL;
    }
    g_byte_array_append (body, g_bytes_get_data (chunk, NULL),
        g_bytes_get_size (chunk));
  }
}

/* One hop: its answer's body, or NULL with *@location set to where it
 * redirects, or NULL with @error. */
static GBytes *
fetch_hop (Fetch * fetch, SoupSession * session, const gchar * url,
    guint64 max_bytes, gchar ** location, gchar ** content_type,
    GError ** error)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  SoupMessageHeaders *headers;
  const gchar *scheme;
  GUri *uri;
  GBytes *body;
  gint port;
  guint status;

  scheme = g_uri_peek_scheme (url);
  if (!scheme || (strcmp (scheme, "http") && strcmp (scheme, "https"))) {
    g_set_error (error, GST_FAL_APP_ERROR, 422,
        "Unsupported URL scheme in %s", url);
    return NULL;
  }
  msg = soup_message_new (SOUP_METHOD_GET, url);
  uri = msg ? soup_message_get_uri (msg) : NULL;
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, GST_FAL_APP_ERROR, 422, "Invalid URL %s", url);
    return NULL;
  }
  fetch->host = g_uri_get_host (uri);
  port = g_uri_get_port (uri);
  if (port <= 0)
    port = strcmp (scheme, "https") ? 80 : 443;
  if (!resolve_and_check (fetch, port, error))
    return NULL;

  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (msg, "network-event", G_CALLBACK (network_event), fetch);
  soup_session_send_async (session, msg, G_PRIORITY_DEFAULT,
      fetch->blocking.cancellable, gst_fal_blocking_done, &fetch->blocking);
  result = gst_fal_blocking_wait (&fetch->blocking);
  stream = soup_session_send_finish (session, result, error);
  if (!stream)
    return NULL;

  status = soup_message_get_status (msg);
  headers = soup_message_get_response_headers (msg);
  if (SOUP_STATUS_IS_REDIRECTION (status)
      && soup_message_headers_get_one (headers, "Location")) {
    g_autoptr (GUri) next = g_uri_parse_relative (uri,
        soup_message_headers_get_one (headers, "Location"),
        SOUP_HTTP_URI_FLAGS, NULL);

    if (!next) {
      g_set_error (error, GST_FAL_APP_ERROR, 422,
          "%s redirects to an invalid URL", url);
      return NULL;
    }
    *location = g_uri_to_string (next);
    return NULL;
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    g_set_error (error, GST_FAL_APP_ERROR, 422,
        "Fetching %s failed with HTTP %u", url, status);
    return NULL;
  }
  /* refused from its headers when it says how large it is */
  if (max_bytes
      && soup_message_headers_get_encoding (headers) ==
      SOUP_ENCODING_CONTENT_LENGTH
      && (guint64) soup_message_headers_get_content_length (headers) >
      max_bytes) {
    gst_fal_fetch_set_size_error (error, max_bytes);
    return NULL;
  }
  body = read_body (fetch, stream, max_bytes, error);
  if (body && content_type)
    *content_type = g_strdup (soup_message_headers_get_content_type (headers,
            NULL));
  return body;
}

GBytes *
gst_fal_fetch_policy_fetch (const GstFalFetchPolicy * policy,
    const gchar * url, guint64 max_bytes, GCancellable * cancellable,
    gchar ** content_type, GError ** error)
{
  Fetch fetch = { policy };
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree gchar *current = g_strdup (url);
  GBytes *body = NULL;
  guint hop;

  gst_fal_blocking_begin (&fetch.blocking, cancellable, policy->timeout);
  /* no proxy: the address checked is the one connected to; no content
   * decoder: the size bounded is the size sent */
  session = soup_session_new_with_options ("proxy-resolver", NULL,
      "user-agent", "gst-fal-server ", NULL);
  soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);

  for (hop = 0; !body && !local_error; hop++) {
    g_autofree gchar *location = NULL;

    if (hop > MAX_REDIRECTS) {
      g_set_error (&local_error, GST_FAL_APP_ERROR, 422,
          "%s redirects more than %d times", url, MAX_REDIRECTS);
      break;
    }
    body = fetch_hop (&fetch, session, current, max_bytes, &location,
        content_type, &local_error);
    if (location) {
      g_free (current);
      current = g_steal_pointer (&location);
    } else if (!body && !local_error) {
      g_set_error (&local_error, GST_FAL_APP_ERROR, 422, "%s gave nothing",
          url);
    }
  }

  soup_session_abort (session);
  g_clear_object (&session);
  gst_fal_blocking_end (&fetch.blocking);

  if (!body) {
    if (fetch.refused)
      g_set_error_literal (error, GST_FAL_APP_ERROR, 422, fetch.refused);
    else if (fetch.blocking.timed_out)
      g_set_error (error, GST_FAL_APP_ERROR, 422, "no answer within the "
          "fetch-timeout of %u s", policy->timeout);
    else
      g_propagate_error (error, g_steal_pointer (&local_error));
  }
  g_free (fetch.refused);
  return body;
}
