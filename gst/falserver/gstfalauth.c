/* gst-fal server: the key, scoped tokens and who may call which route.
 *
 * Only the key calls the API, the admin routes and mints tokens. A CDN token
 * only uploads to the CDN; a realtime token only opens the realtime route of
 * its apps. Both expire. Keys are compared as SHA-256 digests in constant
 * time; tokens are looked up by their digest.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>
#include "gstfalauth-private.h"

#define DIGEST_SIZE 32
#define TOKEN_BYTES 32

typedef struct
{
  GstFalTokenScope scope;
  gint64 expiry;                /* monotonic µs */
  GStrv apps;                   /* realtime: the apps it opens */
} Token;

struct _GstFalAuth
{
  gboolean has_key;
  guint8 key_digest[DIGEST_SIZE];

  GMutex lock;                  /* protects tokens */
  GHashTable *tokens;           /* hex SHA-256 of the token → Token */
};

static void
token_free (Token * token)
{
  g_strfreev (token->apps);
  g_free (token);
}

static void
digest (const gchar * text, guint8 out[DIGEST_SIZE])
{
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize size = DIGEST_SIZE;

  g_checksum_update (checksum, (const guchar *) text, strlen (text));
  g_checksum_get_digest (checksum, out, &size);
  g_checksum_free (checksum);
}

gboolean
gst_fal_auth_is_blank (const gchar * key)
{
  if (!key)
    return TRUE;
  for (; *key; key++)
    if (!g_ascii_isspace (*key))
      return FALSE;
  return TRUE;
}

GstFalAuth *
gst_fal_auth_new (const gchar * key)
{
  GstFalAuth *auth = g_new0 (GstFalAuth, 1);

  g_mutex_init (&auth->lock);
  auth->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) token_free);
  gst_fal_auth_set_key (auth, key);
  return auth;
}

void
gst_fal_auth_free (GstFalAuth * auth)
{
  g_hash_table_unref (auth->tokens);
  g_mutex_clear (&auth->lock);
  memset (auth->key_digest, 0, DIGEST_SIZE);
  g_free (auth);
}

void
gst_fal_auth_set_key (GstFalAuth * auth, const gchar * key)
{
  auth->has_key = !gst_fal_auth_is_blank (key);
  if (auth->has_key)
    digest (key, auth->key_digest);
  else
    memset (auth->key_digest, 0, DIGEST_SIZE);
}

gboolean
gst_fal_auth_has_key (GstFalAuth * auth)
{
  return auth->has_key;
}

static gboolean
is_key (GstFalAuth * auth, const gchar * given)
{
  guint8 given_digest[DIGEST_SIZE];
  guint8 diff = 0;
  guint i;

  if (!auth->has_key || gst_fal_auth_is_blank (given))
    return FALSE;
  digest (given, given_digest);
  for (i = 0; i < DIGEST_SIZE; i++)
    diff |= given_digest[i] ^ auth->key_digest[i];
  return diff == 0;
}

gboolean
gst_fal_auth_carries_key (GstFalAuth * auth, const gchar * authorization)
{
  if (!authorization)
    return FALSE;
  if (g_str_has_prefix (authorization, "Key "))
    return is_key (auth, authorization + 4);
  if (!g_ascii_strncasecmp (authorization, "Bearer ", 7))
    return is_key (auth, authorization + 7);
  return FALSE;
}

/* Drops the expired tokens; lock held. */
static void
prune (GstFalAuth * auth, gint64 now)
{
  GHashTableIter iter;
  Token *token;

  g_hash_table_iter_init (&iter, auth->tokens);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & token))
    if (token->expiry <= now)
      g_hash_table_iter_remove (&iter);
}

gchar *
gst_fal_auth_issue (GstFalAuth * auth, GstFalTokenScope scope,
    const gchar * const *apps, gint64 seconds)
{
  guint8 bytes[TOKEN_BYTES];
  Token *token = g_new0 (Token, 1);
  gint64 now = g_get_monotonic_time ();
  gchar *text;
  guint i;

  /* not GRand (g_uuid_string_random): its output is predictable */
  while (getrandom (bytes, sizeof (bytes), 0) != sizeof (bytes))
    if (errno != EINTR)
      g_error ("no random bytes for a token: %s", g_strerror (errno));
  text = g_malloc (2 * TOKEN_BYTES + 1);
  for (i = 0; i < TOKEN_BYTES; i++)
    g_snprintf (text + 2 * i, 3, "%02x", bytes[i]);
  memset (bytes, 0, sizeof (bytes));

  token->scope = scope;
  token->expiry = now + CLAMP (seconds, 1, GST_FAL_MAX_TOKEN_SECONDS) *
      G_USEC_PER_SEC;
  token->apps = g_strdupv ((gchar **) apps);
  g_mutex_lock (&auth->lock);
  prune (auth, now);
  g_hash_table_insert (auth->tokens, g_compute_checksum_for_data
      (G_CHECKSUM_SHA256, (const guchar *) text, strlen (text)), token);
  g_mutex_unlock (&auth->lock);
  return text;
}

/* An entry "owner/alias" names that app; a bare "alias" (as fal's clients
 * send) names the app of that alias under any owner. */
static gboolean
app_allowed (GStrv apps, const gchar * app)
{
  const gchar *alias = app ? strrchr (app, '/') : NULL;

  for (; app && apps && *apps; apps++)
    if (!strcmp (*apps, app) || (alias && !strcmp (*apps, alias + 1)))
      return TRUE;
  return FALSE;
}

static GstFalAuthResult
check_token (GstFalAuth * auth, const gchar * text, GstFalRoute route,
    const gchar * app)
{
  g_autofree gchar *key = NULL;
  GstFalAuthResult result = GST_FAL_AUTH_MISSING;
  Token *token;

  if (gst_fal_auth_is_blank (text))
    return GST_FAL_AUTH_MISSING;
  key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  g_mutex_lock (&auth->lock);
  token = g_hash_table_lookup (auth->tokens, key);
  if (token && token->expiry > g_get_monotonic_time ()) {
    gboolean allowed = token->scope == GST_FAL_TOKEN_CDN ?
        route == GST_FAL_ROUTE_UPLOAD : route == GST_FAL_ROUTE_REALTIME
        && app_allowed (token->apps, app);

    result = allowed ? GST_FAL_AUTH_OK : GST_FAL_AUTH_FORBIDDEN;
  }
  g_mutex_unlock (&auth->lock);
  return result;
}

GstFalAuthResult
gst_fal_auth_check (GstFalAuth * auth, GstFalRoute route, const gchar * app,
    const gchar * authorization, const gchar * jwt_token)
{
  const gchar *bearer = NULL;
  GstFalAuthResult by_header, by_query;

  if (route == GST_FAL_ROUTE_PUBLIC || !auth->has_key)
    return GST_FAL_AUTH_OK;
  if (authorization && g_str_has_prefix (authorization, "Key ")) {
    if (is_key (auth, authorization + 4))
      return GST_FAL_AUTH_OK;
  } else if (authorization
      && !g_ascii_strncasecmp (authorization, "Bearer ", 7)) {
    if (is_key (auth, authorization + 7))
      return GST_FAL_AUTH_OK;
    bearer = authorization + 7;
  }
  by_header = check_token (auth, bearer, route, app);
  by_query = check_token (auth, jwt_token, route, app);
  if (by_header == GST_FAL_AUTH_OK || by_query == GST_FAL_AUTH_OK)
    return GST_FAL_AUTH_OK;
  if (by_header == GST_FAL_AUTH_FORBIDDEN
      || by_query == GST_FAL_AUTH_FORBIDDEN)
    return GST_FAL_AUTH_FORBIDDEN;
  return GST_FAL_AUTH_MISSING;
}

/* Stored files and the signed upload URLs need no key, as on fal. */
GstFalRoute
gst_fal_auth_route (const gchar * path)
{
  if (g_str_has_prefix (path, "/files/") || g_str_has_prefix (path,
          "/storage/") || !strcmp (path, "/rest/.well-known/jwks.json"))
    return GST_FAL_ROUTE_PUBLIC;
  if (g_str_has_prefix (path, "/cdn/"))
    return GST_FAL_ROUTE_UPLOAD;
  if (!strcmp (path, "/_admin") || g_str_has_prefix (path, "/_admin/"))
    return GST_FAL_ROUTE_ADMIN;
  if (!strcmp (path, "/rest/storage/auth/token")
      || !strcmp (path, "/rest/tokens") || !strcmp (path, "/rest/tokens/"))
    return GST_FAL_ROUTE_TOKENS;
  if (g_str_has_prefix (path, "/run/") && g_str_has_suffix (path, "/realtime"))
    return GST_FAL_ROUTE_REALTIME;
  return GST_FAL_ROUTE_API;
}

/* ---------------------------------------------------------------- numbers */

gboolean
gst_fal_json_get_number (JsonObject * object, const gchar * name,
    gdouble min, gdouble max, gdouble fallback, gdouble * value,
    gchar ** message)
{
  JsonNode *node = json_object_get_member (object, name);
  GType type;

  *value = fallback;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) :
      G_TYPE_INVALID;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) {
    *message = g_strdup_printf ("%s: Input should be a valid number", name);
    return FALSE;
  }
  *value = type == G_TYPE_INT64 ? (gdouble) json_node_get_int (node) :
      json_node_get_double (node);
  if (!isfinite (*value) || *value < min || *value > max) {
    *message = g_strdup_printf ("%s: Input should be from %g to %g", name,
        min, max);
    *value = fallback;
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_fal_auth_parse_token_request (JsonNode * body, GStrv * apps,
    gint64 * seconds, const gchar ** field, gchar ** message)
{
  JsonObject *object;
  JsonNode *allowed;
  JsonArray *array;
  GPtrArray *list;
  gdouble value;
  guint i;

  if (!body || !JSON_NODE_HOLDS_OBJECT (body)) {
    *field = "body";
    *message = g_strdup ("Input should be a valid dictionary");
    return FALSE;
  }
  object = json_node_get_object (body);
  if (!gst_fal_json_get_number (object, "token_expiration", 1,
          GST_FAL_MAX_TOKEN_SECONDS, 120, &value, message)) {
    *field = "token_expiration";
    return FALSE;
  }
  allowed = json_object_get_member (object, "allowed_apps");
  array = allowed && JSON_NODE_HOLDS_ARRAY (allowed) ?
      json_node_get_array (allowed) : NULL;
  list = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; array && i < json_array_get_length (array); i++) {
    JsonNode *element = json_array_get_element (array, i);
    const gchar *name = JSON_NODE_HOLDS_VALUE (element)
        && json_node_get_value_type (element) == G_TYPE_STRING ?
        json_node_get_string (element) : NULL;

    if (!name || !*name)
      break;
    g_ptr_array_add (list, g_strdup (name));
  }
  if (!array || i < json_array_get_length (array)) {
    g_ptr_array_unref (list);
    *field = "allowed_apps";
    *message = g_strdup ("allowed_apps: Input should be a list of app names");
    return FALSE;
  }
  g_ptr_array_add (list, NULL);
  *apps = (GStrv) g_ptr_array_free (list, FALSE);
  *seconds = (gint64) value;
  return TRUE;
}
