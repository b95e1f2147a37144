/* gst-fal: GstFalRealtime, one realtime websocket to an app
 *
 * The websocket belongs to the session thread of the client (the thread
 * that owns its SoupSession): everything that touches the socket, the
 * token and the timers runs there ("net" below). The caller's thread only
 * encodes messages and queues them under the lock; results, errors and
 * closes travel back as idle sources to the main context that was
 * thread-default when the object was made, in the order they happened.
 *
 * Results carry no request id: the server answers in input order, so each
 * result belongs to the oldest message sent and not yet answered.
 */
#include "gstfalrealtime.h"
#include "gstfalclient-private.h"
#include "gstfalendpoint-private.h"
#include "gstfaljson-private.h"
#include "gstfalmsgpack-private.h"

#include <string.h>

/**
 * SECTION:gstfalrealtime
 * @title: GstFalRealtime
 * @short_description: fal's realtime websocket: msgpack maps in, results in order
 *
 * A #GstFalRealtime is one websocket to `{run}/{application}/realtime`,
 * opened on the first gst_fal_realtime_send() (or by
 * gst_fal_realtime_open()) and reopened by the next send after the
 * server closes an idle session (`TIMEOUT`) or the connection drops. With
 * credentials it first fetches a token from `{rest}/tokens/` (the key
 * travels only in that request; the websocket URL carries the token) and
 * fetches a new one at 90 % of its lifetime, without dropping the socket.
 *
 * Messages are #GVariant dictionaries (`a{sv}`): strings, numbers,
 * booleans, `ay` for binary values (an image's encoded bytes), nested
 * dictionaries, `av` arrays and `mv` nothing for null. Each message gets an
 * id; its result arrives as #GstFalRealtime::result with that id, in send
 * order. A message that never gets a result is reported once, either as
 * #GstFalRealtime::dropped (replaced under #GstFalRealtime:throttle-interval,
 * or dropped by the server's `max_buffering`) or as #GstFalRealtime::error.
 *
 * Signals are emitted in the main context that was the thread-default one
 * when the object was created. The TLS settings (tls-ca-file) are the
 * client's.
 *
 * Since: 0.1
 */

#define DEFAULT_THROTTLE_INTERVAL 0
#define DEFAULT_MAX_BUFFERING 0
#define DEFAULT_TOKEN_EXPIRATION 120
/* frames from the server can hold images: well above libsoup's 128 KiB */
#define MAX_INCOMING_PAYLOAD (256 * 1024 * 1024)

struct _GstFalRealtime
{
  GObject parent;
  struct _Shared *shared;
};

enum
{
  PROP_0,
  PROP_CLIENT,
  PROP_APPLICATION,
  PROP_THROTTLE_INTERVAL,
  PROP_MAX_BUFFERING,
  PROP_TOKEN_EXPIRATION,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

enum
{
  SIGNAL_RESULT,
  SIGNAL_ERROR,
  SIGNAL_DROPPED,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE (GstFalRealtime, gst_fal_realtime, G_TYPE_OBJECT);

typedef struct
{
  guint64 id;
  GBytes *frame;
} Outgoing;

typedef struct _Shared
{
  gatomicrefcount ref;
  GWeakRef owner;
  GMainContext *user_context;
  GstFalClient *client;         /* given, for the settings */

  GMutex lock;                  /* protects what follows, up to "net" */
  gchar *application;
  guint throttle_interval;
  guint max_buffering;
  guint token_expiration;
  guint64 next_id;
  GQueue outgoing;              /* Outgoing, in send order */
  Outgoing *throttled;          /* the newest message held by the throttle */
  GSource *throttle_timer;      /* armed: a message went out this interval */
  gboolean closed;
  gboolean flush_scheduled;     /* a net_flush_idle() is on its way */
  GQueue outbox;                /* Delivery, for the user context, in order */
  gboolean outbox_posted;       /* a deliver_outbox() is on its way */
  guint n_connections;

  /* net: the session thread of @route only */
  GstFalClient *route;          /* where the socket goes (local/… apps) */
  GCancellable *cancellable;
  SoupWebsocketConnection *ws;
  gboolean connecting;
  gboolean timeout_seen;        /* the server said TIMEOUT: it is idle */
  GList *connect_tasks;         /* GTask waiting for the socket */
  SoupMessage *handshake;       /* while connecting */
  GQueue in_flight;             /* ids sent, oldest first */
  gchar *token;
  gint64 token_expiry;          /* monotonic µs */
  guint token_ttl;              /* s */
  GSource *refresh_timer;
} Shared;

typedef struct _Delivery Delivery;
static void delivery_free (Delivery * d);

static Shared *
shared_ref (Shared * s)
{
  g_atomic_ref_count_inc (&s->ref);
  return s;
}

static void
outgoing_free (Outgoing * o)
{
  g_bytes_unref (o->frame);
  g_free (o);
}

static void
shared_unref (Shared * s)
{
  if (!g_atomic_ref_count_dec (&s->ref))
    return;
  g_weak_ref_clear (&s->owner);
  g_main_context_unref (s->user_context);
  g_clear_object (&s->client);
  g_clear_object (&s->route);
  g_clear_object (&s->cancellable);
  g_free (s->application);
  g_queue_clear_full (&s->outgoing, (GDestroyNotify) outgoing_free);
  g_clear_pointer (&s->throttled, outgoing_free);
  g_queue_clear_full (&s->in_flight, g_free);
  g_queue_clear_full (&s->outbox, (GDestroyNotify) delivery_free);
  g_free (s->token);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* ------------------------------------------------------------- delivery */

typedef enum
{
  DELIVER_RESULT,
  DELIVER_ERROR,
  DELIVER_DROPPED,
  DELIVER_CLOSED,
} DeliveryKind;

struct _Delivery
{
  DeliveryKind kind;
  guint64 id;
  GVariant *result;
  GError *error;
  gint code;
  gchar *reason;
};

static void
delivery_free (Delivery * d)
{
  g_clear_pointer (&d->result, g_variant_unref);
  g_clear_error (&d->error);
  g_free (d->reason);
  g_free (d);
}

static void
emit_delivery (GstFalRealtime * self, Delivery * d)
{
  switch (d->kind) {
    case DELIVER_RESULT:
      g_signal_emit (self, signals[SIGNAL_RESULT], 0, d->id, d->result);
      break;
    case DELIVER_ERROR:
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, d->id, d->error);
      break;
    case DELIVER_DROPPED:
      g_signal_emit (self, signals[SIGNAL_DROPPED], 0, d->id);
      break;
    case DELIVER_CLOSED:
      g_signal_emit (self, signals[SIGNAL_CLOSED], 0, d->code, d->reason);
      break;
  }
}

/* In the user context: every delivery queued since the last one ran, in
 * order (those queued by a handler meanwhile come with the next). */
static gboolean
deliver_outbox (gpointer data)
{
  Shared *s = data;
  GstFalRealtime *self = g_weak_ref_get (&s->owner);
  GQueue outbox;
  Delivery *d;

  g_mutex_lock (&s->lock);
  outbox = s->outbox;
  g_queue_init (&s->outbox);
  s->outbox_posted = FALSE;
  g_mutex_unlock (&s->lock);
  while ((d = g_queue_pop_head (&outbox))) {
    if (self)
      emit_delivery (self, d);
    delivery_free (d);
  }
  g_clear_object (&self);
  return G_SOURCE_REMOVE;
}

/* Queues one delivery; they run in the order they were queued, and the
 * user context is woken only when none is waiting for it yet. */
static void
deliver (Shared * s, DeliveryKind kind, guint64 id, GVariant * result,
    GError * error, gint code, const gchar * reason)
{
  Delivery *d = g_new0 (Delivery, 1);
  gboolean wake;

  d->kind = kind;
  d->id = id;
  d->result = result;
  d->error = error;
  d->code = code;
  d->reason = g_strdup (reason);
  g_mutex_lock (&s->lock);
  g_queue_push_tail (&s->outbox, d);
  wake = !s->outbox_posted;
  s->outbox_posted = TRUE;
  g_mutex_unlock (&s->lock);
  if (wake)
    gst_fal_idle_add (s->user_context, deliver_outbox, shared_ref (s),
        (GDestroyNotify) shared_unref);
}

/* ------------------------------------------------------------ net side */

static void start_connect (Shared * s);

static gboolean
just_free (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static gchar *
get_application (Shared * s)
{
  gchar *application;

  g_mutex_lock (&s->lock);
  application = g_strdup (s->application);
  g_mutex_unlock (&s->lock);
  return application;
}

static void
finish_connect_tasks (Shared * s, const GError * error)
{
  GList *tasks = g_steal_pointer (&s->connect_tasks), *l;

  for (l = tasks; l; l = l->next) {
    if (error)
      g_task_return_error (l->data, g_error_copy (error));
    else
      g_task_return_boolean (l->data, TRUE);
    g_object_unref (l->data);
  }
  g_list_free (tasks);
}

/* Sends what is queued when the socket is open; opens it otherwise. */
static void
net_flush (Shared * s)
{
  GQueue held_back = G_QUEUE_INIT;
  Outgoing *o;
  guint window;

  if (s->ws == NULL
      || soup_websocket_connection_get_state (s->ws) !=
      SOUP_WEBSOCKET_STATE_OPEN) {
    gboolean waiting;

    g_mutex_lock (&s->lock);
    waiting = !s->closed && !g_queue_is_empty (&s->outgoing);
    g_mutex_unlock (&s->lock);
    if (waiting && s->ws == NULL && !s->connecting)
      start_connect (s);
    return;
  }
  g_mutex_lock (&s->lock);
  /* With max_buffering N the server drops the oldest of its N waiting
   * inputs, and results carry no id: at most N + 1 unanswered on the
   * socket (one running, N waiting) keeps each result matched to its
   * message. Of those held back only the newest waits, as the server would
   * have kept it; the older ones are dropped here, with their own ids. */
  window = s->max_buffering ? s->max_buffering + 1 : G_MAXUINT;
  while (g_queue_get_length (&s->in_flight) < window
      && (o = g_queue_pop_head (&s->outgoing))) {
    g_mutex_unlock (&s->lock);
    g_queue_push_tail (&s->in_flight, g_memdup2 (&o->id, sizeof o->id));
    soup_websocket_connection_send_message (s->ws,
        SOUP_WEBSOCKET_DATA_BINARY, o->frame);
    outgoing_free (o);
    g_mutex_lock (&s->lock);
  }
  while (g_queue_get_length (&s->outgoing) > 1)
    g_queue_push_tail (&held_back, g_queue_pop_head (&s->outgoing));
  g_mutex_unlock (&s->lock);
  while ((o = g_queue_pop_head (&held_back))) {
    deliver (s, DELIVER_DROPPED, o->id, NULL, NULL, 0, NULL);
    outgoing_free (o);
  }
}

static gboolean
net_flush_idle (gpointer data)
{
  Shared *s = data;

  g_mutex_lock (&s->lock);
  s->flush_scheduled = FALSE;
  g_mutex_unlock (&s->lock);
  net_flush (s);
  return G_SOURCE_REMOVE;
}

/* One idle for a burst of sends: those queued before it runs go with it. */
static void
schedule_flush (Shared * s)
{
  gboolean scheduled;

  g_mutex_lock (&s->lock);
  scheduled = s->flush_scheduled;
  s->flush_scheduled = TRUE;
  g_mutex_unlock (&s->lock);
  if (!scheduled)
    gst_fal_idle_add (s->route->context, net_flush_idle, shared_ref (s),
        (GDestroyNotify) shared_unref);
}

/* The oldest message in flight (0: none), taken off the queue. */
static guint64
pop_in_flight (Shared * s)
{
  guint64 *p = g_queue_pop_head (&s->in_flight);
  guint64 id = p ? *p : 0;

  g_free (p);
  return id;
}

/* Every queued message fails with @error (the socket could not open). */
static void
fail_outgoing (Shared * s, const GError * error)
{
  GQueue queue = G_QUEUE_INIT;
  Outgoing *o;

  g_mutex_lock (&s->lock);
  queue = s->outgoing;
  g_queue_init (&s->outgoing);
  g_mutex_unlock (&s->lock);
  while ((o = g_queue_pop_head (&queue))) {
    deliver (s, DELIVER_ERROR, o->id, NULL, g_error_copy (error), 0, NULL);
    outgoing_free (o);
  }
}

static void
connect_failed (Shared * s, GError * error)
{
  s->connecting = FALSE;
  g_debug ("realtime: %s", error->message);
  finish_connect_tasks (s, error);
  fail_outgoing (s, error);
  g_error_free (error);
}

static void fetch_token (Shared * s);

static gboolean
on_refresh_timer (gpointer data)
{
  Shared *s = data;

  g_clear_pointer (&s->refresh_timer, g_source_unref);
  /* only while a socket is open: an idle object fetches on its next send */
  if (s->ws && !s->connecting)
    fetch_token (s);
  return G_SOURCE_REMOVE;
}

static void
arm_refresh (Shared * s, guint seconds_ms)
{
  if (s->refresh_timer) {
    g_source_destroy (s->refresh_timer);
    g_source_unref (s->refresh_timer);
  }
  s->refresh_timer = g_timeout_source_new (seconds_ms);
  g_source_set_callback (s->refresh_timer, on_refresh_timer, shared_ref (s),
      (GDestroyNotify) shared_unref);
  g_source_attach (s->refresh_timer, s->route->context);
}

static void
on_ws_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer data)
{
  Shared *s = data;
  g_autofree gchar *application = NULL;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (message, &size);
  g_autoptr (JsonNode) node = NULL;
  JsonObject *object;
  const gchar *kind, *error_name, *reason;
  GError *error = NULL;
  guint64 id;

  if (type == SOUP_WEBSOCKET_DATA_BINARY) {
    GVariant *result = gst_fal_msgpack_decode (bytes, size, &error);

    id = pop_in_flight (s);
    if (result)
      deliver (s, DELIVER_RESULT, id, result, NULL, 0, NULL);
    else {
      GError *e;

      application = get_application (s);
      e = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL, 0, NULL,
          NULL, NULL, "%s realtime: a result that is not a message: %s",
          application, error->message);

      g_error_free (error);
      deliver (s, DELIVER_ERROR, id, NULL, e, 0, NULL);
    }
    /* room on the socket for a message held back by max_buffering */
    net_flush (s);
    return;
  }

  /* text: a JSON control message */
  application = get_application (s);
  node = gst_fal_json_from_string ((const gchar *) bytes, size, NULL);
  if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_debug ("realtime: a text frame that is not JSON, skipped");
    return;
  }
  object = json_node_get_object (node);
  kind = json_object_get_string_member_with_default (object, "type", "");
  error_name = json_object_get_string_member_with_default (object, "error",
      "");
  reason = json_object_get_string_member_with_default (object, "reason", "");
  if (!strcmp (kind, "x-fal-error") && !strcmp (error_name, "TIMEOUT")) {
    /* the server closes an idle session: the next send reconnects */
    s->timeout_seen = TRUE;
  } else if (!strcmp (kind, "x-fal-error")) {
    id = pop_in_flight (s);
    deliver (s, DELIVER_ERROR, id, NULL,
        gst_fal_error_new_full (GST_FAL_ERROR_SERVER, 0, error_name, reason,
            NULL, "%s realtime: %s: %s", application, error_name, reason), 0,
        NULL);
  } else if (!strcmp (json_object_get_string_member_with_default (object,
              "status", ""), "error")) {
    /* fal's legacy refusal: drop the token, the next connection gets one */
    g_clear_pointer (&s->token, g_free);
    deliver (s, DELIVER_ERROR, pop_in_flight (s), NULL,
        gst_fal_error_new_full (GST_FAL_ERROR_UNAUTHORIZED, 0, NULL,
            error_name, NULL, "%s realtime: %s", application, error_name), 0,
        NULL);
  }
  /* x-fal-message (timings) and anything else: nothing to do */
}

static void
on_ws_closed (SoupWebsocketConnection * ws, gpointer data)
{
  Shared *s = data;
  g_autofree gchar *application = get_application (s);
  gushort code = soup_websocket_connection_get_close_code (ws);
  const gchar *reason = soup_websocket_connection_get_close_data (ws);
  guint64 id;

  while ((id = pop_in_flight (s))) {
    if (s->timeout_seen)
      /* the server went idle without answering it: its buffer dropped it */
      deliver (s, DELIVER_DROPPED, id, NULL, NULL, 0, NULL);
    else
      deliver (s, DELIVER_ERROR, id, NULL,
          gst_fal_error_new_full (GST_FAL_ERROR_SERVER, 0, NULL, NULL, NULL,
              "%s realtime: the connection closed (code %u) before the "
              "result", application, code), 0, NULL);
  }
  g_signal_handlers_disconnect_by_data (ws, s);
  /* not freed while it emits this signal */
  gst_fal_idle_add (s->route->context, (GSourceFunc) just_free,
      g_steal_pointer (&s->ws), g_object_unref);
  if (s->refresh_timer) {
    g_source_destroy (s->refresh_timer);
    g_clear_pointer (&s->refresh_timer, g_source_unref);
  }
  deliver (s, DELIVER_CLOSED, 0, NULL, NULL, code, reason ? reason : "");
  /* messages sent while it closed go on a new connection */
  net_flush (s);
  shared_unref (s);
}

static gchar *
realtime_url (Shared * s, const gchar * application, GError ** error)
{
  g_autoptr (GstFalEndpoint) endpoint =
      gst_fal_endpoint_parse (application, error);
  g_autofree gchar *http = NULL;
  GString *url;
  guint max_buffering;

  if (!endpoint)
    return NULL;
  http = gst_fal_endpoint_build_url (gst_fal_client_get_run_url (s->route),
      endpoint->id, NULL);
  url = g_string_new (NULL);
  if (g_str_has_prefix (http, "https://"))
    g_string_append_printf (url, "wss://%s", http + 8);
  else if (g_str_has_prefix (http, "http://"))
    g_string_append_printf (url, "ws://%s", http + 7);
  else
    g_string_append (url, http);
  if (!g_str_has_suffix (url->str, "/realtime"))
    g_string_append (url, "/realtime");
  g_mutex_lock (&s->lock);
  max_buffering = s->max_buffering;
  g_mutex_unlock (&s->lock);
  if (s->token) {
    g_autofree gchar *escaped = g_uri_escape_string (s->token, NULL, FALSE);
    g_string_append_printf (url, "?fal_jwt_token=%s", escaped);
  }
  if (max_buffering)
    g_string_append_printf (url, "%cmax_buffering=%u",
        s->token ? '&' : '?', max_buffering);
  return g_string_free (url, FALSE);
}

static GError *
handshake_error (const gchar * application, SoupMessage * msg, GError * error)
{
  guint status = soup_message_get_status (msg);
  GstFalError code = GST_FAL_ERROR_SERVER;
  GError *e;

  if (status == 401 || status == 403)
    code = GST_FAL_ERROR_UNAUTHORIZED;
  else if (status == 404)
    code = GST_FAL_ERROR_NOT_FOUND;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    e = gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED, 0, NULL, NULL, NULL,
        "%s realtime: cancelled", application);
  else if (status >= 100)
    e = gst_fal_error_new_full (code, status, NULL, NULL, NULL,
        "%s realtime: the server refused the websocket: HTTP %u %s",
        application, status, soup_message_get_reason_phrase (msg) ?
        soup_message_get_reason_phrase (msg) : "");
  else
    e = gst_fal_error_new_full (code, 0, NULL, NULL, NULL,
        "%s realtime: cannot connect: %s", application, error->message);
  g_error_free (error);
  return e;
}

static void
on_ws_connected (GObject * source, GAsyncResult * result, gpointer data)
{
  Shared *s = data;
  g_autoptr (SoupMessage) msg = g_steal_pointer (&s->handshake);
  g_autofree gchar *application = get_application (s);
  GError *error = NULL;
  SoupWebsocketConnection *ws;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
  if (ws == NULL) {
    /* a refused token may have expired: the next connection gets another */
    if (soup_message_get_status (msg) == 401)
      g_clear_pointer (&s->token, g_free);
    connect_failed (s, handshake_error (application, msg, error));
    shared_unref (s);
    return;
  }
  s->ws = ws;
  s->connecting = FALSE;
  s->timeout_seen = FALSE;
  g_mutex_lock (&s->lock);
  s->n_connections++;
  g_mutex_unlock (&s->lock);
  soup_websocket_connection_set_max_incoming_payload_size (ws,
      MAX_INCOMING_PAYLOAD);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), s);
  /* the socket keeps the reference of this callback until it closes */
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), s);
  finish_connect_tasks (s, NULL);
  net_flush (s);
}

static void
open_socket (Shared * s)
{
  g_autofree gchar *application = get_application (s);
  GError *error = NULL;
  g_autofree gchar *url = realtime_url (s, application, &error);

  if (!url) {
    connect_failed (s, error);
    return;
  }
  s->handshake = soup_message_new (SOUP_METHOD_GET, url);
  if (!s->handshake) {
    connect_failed (s, gst_fal_error_new_full (GST_FAL_ERROR_INVALID_ARGUMENT,
            0, NULL, NULL, NULL, "%s realtime: not a valid URL", application));
    return;
  }
  soup_session_websocket_connect_async (gst_fal_client_get_session (s->route),
      s->handshake, NULL, NULL, G_PRIORITY_DEFAULT, s->cancellable,
      on_ws_connected, shared_ref (s));
}

/* The alias of the application: fal's tokens name apps by alias alone. */
static gchar *
token_app (const gchar * application)
{
  g_autoptr (GstFalEndpoint) endpoint =
      gst_fal_endpoint_parse (application, NULL);

  return g_strdup (endpoint ? endpoint->alias : application);
}

/* A token answer: a JSON string, or {"token": …} / {"detail": …} as older
 * proxies wrap it. */
static gchar *
parse_token (GBytes * body)
{
  gsize size;
  const gchar *text = g_bytes_get_data (body, &size);
  g_autoptr (JsonNode) node = gst_fal_json_from_string (text, size, NULL);
  JsonObject *object;

  if (!node)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  object = json_node_get_object (node);
  if (json_object_get_string_member_with_default (object, "token", NULL))
    return g_strdup (json_object_get_string_member (object, "token"));
  return g_strdup (json_object_get_string_member_with_default (object,
          "detail", NULL));
}

static void
on_token (GObject * source, GAsyncResult * result, gpointer data)
{
  Shared *s = data;
  GError *error = NULL;
  g_autoptr (GstFalHttpResponse) response =
      gst_fal_client_http_finish (GST_FAL_CLIENT (source), result, &error);
  gchar *token = response ? parse_token (response->body) : NULL;

  if (response && !token)
    error = gst_fal_error_new_full (GST_FAL_ERROR_PROTOCOL,
        response->status, NULL, NULL, NULL,
        "realtime token: the answer is not a token");
  if (!token) {
    if (s->connecting)
      connect_failed (s, error);
    else {
      /* a failed refresh: the socket still works, try again soon */
      g_debug ("realtime: token refresh failed: %s", error->message);
      g_error_free (error);
      arm_refresh (s, MAX (s->token_ttl * 50, 500));
    }
    shared_unref (s);
    return;
  }
  g_free (s->token);
  s->token = token;
  s->token_expiry = g_get_monotonic_time () + s->token_ttl * G_USEC_PER_SEC;
  /* fal's clients refresh at 90 % of the lifetime */
  arm_refresh (s, s->token_ttl * 900);
  if (s->connecting)
    open_socket (s);
  shared_unref (s);
}

static void
fetch_token (Shared * s)
{
  g_autofree gchar *application = get_application (s);
  g_autofree gchar *alias = token_app (application);
  g_autofree gchar *url = g_strconcat (gst_fal_client_get_rest_url (s->route),
      "/tokens/", NULL);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (GBytes) body = NULL;
  GstFalHttpRequest request = { 0 };
  guint ttl;

  g_mutex_lock (&s->lock);
  ttl = s->token_expiration;
  g_mutex_unlock (&s->lock);
  s->token_ttl = ttl;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "allowed_apps");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, alias);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "token_expiration");
  json_builder_add_int_value (builder, ttl);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = gst_fal_json_to_string (root, FALSE);
  body = g_bytes_new (text, strlen (text));
  request.method = "POST";
  request.url = url;
  request.body = body;
  request.content_type = "application/json";
  request.auth = GST_FAL_AUTH_KEY;
  request.retry = GST_FAL_RETRY_IDEMPOTENT;
  request.label = "realtime token";
  gst_fal_client_http_async (s->route, &request, s->cancellable, on_token,
      shared_ref (s));
}

static void
start_connect (Shared * s)
{
  gint64 now = g_get_monotonic_time ();

  s->connecting = TRUE;
  /* a token is needed with credentials; one past 90 % of its life is not
   * reused */
  if (gst_fal_client_has_credentials (s->route)
      && (!s->token || now > s->token_expiry - (gint64) s->token_ttl *
          G_USEC_PER_SEC / 10))
    fetch_token (s);
  else
    open_socket (s);
}

/* ------------------------------------------------------------ caller side */

static gboolean
net_connect_idle (gpointer data)
{
  GTask *task = data;
  Shared *s = g_task_get_task_data (task);

  if (s->ws && soup_websocket_connection_get_state (s->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    g_task_return_boolean (task, TRUE);
    return G_SOURCE_REMOVE;
  }
  s->connect_tasks = g_list_append (s->connect_tasks, g_object_ref (task));
  if (!s->connecting && s->ws == NULL)
    start_connect (s);
  return G_SOURCE_REMOVE;
}

/**
 * gst_fal_realtime_new:
 * @client: the client whose server, credentials and TLS settings to use
 * @application: the endpoint id, e.g. "fal-ai/fast-lcm-diffusion" or
 *   "local/echo" (`/realtime` is appended unless it ends with it)
 *
 * A realtime connection, not opened yet. Its signals are emitted in the
 * thread-default main context of the caller.
 *
 * Returns: (transfer full): a new #GstFalRealtime
 */
GstFalRealtime *
gst_fal_realtime_new (GstFalClient * client, const gchar * application)
{
  g_return_val_if_fail (GST_FAL_IS_CLIENT (client), NULL);
  g_return_val_if_fail (application != NULL, NULL);
  return g_object_new (GST_FAL_TYPE_REALTIME, "client", client,
      "application", application, NULL);
}

/* The routed client, made on first use (local/… apps without a server go
 * to the in-process server). */
static gboolean
ensure_route (Shared * s, GError ** error)
{
  g_autofree gchar *application = NULL;
  GstFalClient *route;

  g_mutex_lock (&s->lock);
  route = s->route;
  g_mutex_unlock (&s->lock);
  if (route)
    return TRUE;
  application = get_application (s);
  route = gst_fal_client_route_application (s->client, application, error);
  if (!route)
    return FALSE;
  g_mutex_lock (&s->lock);
  if (s->route == NULL)
    s->route = route;
  else
    g_object_unref (route);
  g_mutex_unlock (&s->lock);
  return TRUE;
}

/**
 * gst_fal_realtime_open_async:
 * @realtime: a realtime connection
 * @cancellable: (nullable): stops waiting (the socket may still open)
 * @callback: called in the caller's thread-default context
 * @user_data: user data
 *
 * Opens the websocket (fetching a token first when the client has
 * credentials), or finishes at once when it is open. Sending does this by
 * itself: open first only to know early that the app can be reached. (Not
 * "connect", which would hide g_signal_connect() in language bindings.)
 */
void
gst_fal_realtime_open_async (GstFalRealtime * realtime,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  Shared *s;
  GTask *task;
  GError *error = NULL;

  g_return_if_fail (GST_FAL_IS_REALTIME (realtime));
  s = realtime->shared;
  task = g_task_new (realtime, cancellable, callback, user_data);
  g_task_set_source_tag (task, gst_fal_realtime_open_async);
  g_task_set_check_cancellable (task, TRUE);
  if (!ensure_route (s, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  g_task_set_task_data (task, shared_ref (s), (GDestroyNotify) shared_unref);
  gst_fal_idle_add (s->route->context, net_connect_idle, task,
      g_object_unref);
}

/**
 * gst_fal_realtime_open_finish:
 * @realtime: a realtime connection
 * @result: the result given to the callback
 * @error: return location for a #GST_FAL_ERROR: UNAUTHORIZED (401 on the
 *   handshake or the token), NOT_FOUND (no such app), SERVER (refused or
 *   unreachable), MISSING_CREDENTIALS, CANCELLED
 *
 * Returns: whether the websocket is open
 */
gboolean
gst_fal_realtime_open_finish (GstFalRealtime * realtime,
    GAsyncResult * result, GError ** error)
{
  g_return_val_if_fail (g_task_is_valid (result, realtime), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
start_connect_sync (gpointer data, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  gst_fal_realtime_open_async (data, cancellable, callback, user_data);
}

/**
 * gst_fal_realtime_open:
 * @realtime: a realtime connection
 * @cancellable: (nullable): stops waiting
 * @error: as gst_fal_realtime_open_finish()
 *
 * The blocking form of gst_fal_realtime_open_async().
 *
 * Returns: whether the websocket is open
 */
gboolean
gst_fal_realtime_open (GstFalRealtime * realtime,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (GST_FAL_IS_REALTIME (realtime), FALSE);
  result = gst_fal_run_sync (start_connect_sync, realtime, cancellable);
  return gst_fal_realtime_open_finish (realtime, result, error);
}

static gboolean
on_throttle_timer (gpointer data)
{
  Shared *s = data;
  gboolean again = FALSE;

  g_mutex_lock (&s->lock);
  if (s->throttled) {
    g_queue_push_tail (&s->outgoing, g_steal_pointer (&s->throttled));
    again = TRUE;
  } else
    g_clear_pointer (&s->throttle_timer, g_source_unref);
  g_mutex_unlock (&s->lock);
  if (again)
    net_flush (s);
  /* the interval starts again with the message it let out */
  return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/**
 * gst_fal_realtime_send:
 * @realtime: a realtime connection
 * @message: a dictionary (`a{sv}`): the app's input fields, binary values
 *   as `ay`; a floating reference is sunk
 * @error: return location for GST_FAL_ERROR_INVALID_ARGUMENT (not a
 *   dictionary, or a value with no msgpack form) or
 *   GST_FAL_ERROR_CANCELLED (closed)
 *
 * Queues @message as one binary msgpack frame and returns at once; opens
 * the websocket if it is not open. Under #GstFalRealtime:throttle-interval
 * the first message of an interval leaves at once and only the newest of
 * the others is kept for the end of it (fal's latest-wins): each message it
 * replaces is reported by #GstFalRealtime::dropped.
 *
 * Returns: the message's id (from 1, in send order), 0 on error
 */
guint64
gst_fal_realtime_send (GstFalRealtime * realtime, GVariant * message,
    GError ** error)
{
  Shared *s;
  g_autoptr (GVariant) sunk = NULL;
  g_autoptr (GError) encode_error = NULL;
  GBytes *frame;
  Outgoing *o, *replaced = NULL;
  gboolean flush = FALSE;
  guint64 id;

  g_return_val_if_fail (GST_FAL_IS_REALTIME (realtime), 0);
  g_return_val_if_fail (message != NULL, 0);
  s = realtime->shared;
  sunk = g_variant_ref_sink (message);
  if (!g_variant_is_of_type (sunk, G_VARIANT_TYPE ("a{s*}"))) {
    g_propagate_error (error,
        gst_fal_error_new_full (GST_FAL_ERROR_INVALID_ARGUMENT, 0, NULL, NULL,
            NULL, "a realtime message must be a dictionary (a{sv}), not %s",
            g_variant_get_type_string (sunk)));
    return 0;
  }
  frame = gst_fal_msgpack_encode (sunk, &encode_error);
  if (!frame) {
    g_propagate_error (error,
        gst_fal_error_new_full (GST_FAL_ERROR_INVALID_ARGUMENT, 0, NULL, NULL,
            NULL, "%s", encode_error->message));
    return 0;
  }
  if (!ensure_route (s, error)) {
    g_bytes_unref (frame);
    return 0;
  }
  o = g_new0 (Outgoing, 1);
  o->frame = frame;
  g_mutex_lock (&s->lock);
  if (s->closed) {
    g_mutex_unlock (&s->lock);
    outgoing_free (o);
    g_propagate_error (error, gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED,
            0, NULL, NULL, NULL, "the realtime connection is closed"));
    return 0;
  }
  /* o belongs to the session thread once queued: it may be gone below */
  o->id = id = ++s->next_id;
  if (s->throttle_interval == 0) {
    g_queue_push_tail (&s->outgoing, o);
    flush = TRUE;
  } else if (s->throttle_timer == NULL) {
    g_queue_push_tail (&s->outgoing, o);
    flush = TRUE;
    s->throttle_timer = g_timeout_source_new (s->throttle_interval);
    g_source_set_callback (s->throttle_timer, on_throttle_timer,
        shared_ref (s), (GDestroyNotify) shared_unref);
    g_source_attach (s->throttle_timer, s->route->context);
  } else {
    replaced = s->throttled;
    s->throttled = o;
  }
  g_mutex_unlock (&s->lock);
  if (replaced) {
    deliver (s, DELIVER_DROPPED, replaced->id, NULL, NULL, 0, NULL);
    outgoing_free (replaced);
  }
  if (flush)
    schedule_flush (s);
  return id;
}

static gboolean
net_close_idle (gpointer data)
{
  Shared *s = data;
  g_autoptr (GError) error =
      gst_fal_error_new_full (GST_FAL_ERROR_CANCELLED, 0, NULL, NULL, NULL,
      "the realtime connection was closed");

  g_cancellable_cancel (s->cancellable);
  if (s->refresh_timer) {
    g_source_destroy (s->refresh_timer);
    g_clear_pointer (&s->refresh_timer, g_source_unref);
  }
  fail_outgoing (s, error);
  if (s->ws && soup_websocket_connection_get_state (s->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (s->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
        NULL);
  return G_SOURCE_REMOVE;
}

/**
 * gst_fal_realtime_close:
 * @realtime: a realtime connection
 *
 * Closes the websocket (code 1000) and refuses further sends. Messages
 * still waiting fail with GST_FAL_ERROR_CANCELLED; results already on
 * their way may still arrive; #GstFalRealtime::closed follows.
 */
void
gst_fal_realtime_close (GstFalRealtime * realtime)
{
  Shared *s;
  Outgoing *throttled;

  g_return_if_fail (GST_FAL_IS_REALTIME (realtime));
  s = realtime->shared;
  g_mutex_lock (&s->lock);
  if (s->closed) {
    g_mutex_unlock (&s->lock);
    return;
  }
  s->closed = TRUE;
  throttled = g_steal_pointer (&s->throttled);
  if (s->throttle_timer) {
    g_source_destroy (s->throttle_timer);
    g_clear_pointer (&s->throttle_timer, g_source_unref);
  }
  g_mutex_unlock (&s->lock);
  if (throttled) {
    deliver (s, DELIVER_DROPPED, throttled->id, NULL, NULL, 0, NULL);
    outgoing_free (throttled);
  }
  if (s->route)
    gst_fal_idle_add (s->route->context, net_close_idle, shared_ref (s),
        (GDestroyNotify) shared_unref);
}

/**
 * gst_fal_realtime_get_n_connections:
 * @realtime: a realtime connection
 *
 * Returns: how many websockets it has opened so far
 */
guint
gst_fal_realtime_get_n_connections (GstFalRealtime * realtime)
{
  guint n;

  g_return_val_if_fail (GST_FAL_IS_REALTIME (realtime), 0);
  g_mutex_lock (&realtime->shared->lock);
  n = realtime->shared->n_connections;
  g_mutex_unlock (&realtime->shared->lock);
  return n;
}

/* ---------------------------------------------------------------- GObject */

static void
gst_fal_realtime_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  Shared *s = GST_FAL_REALTIME (object)->shared;

  g_mutex_lock (&s->lock);
  switch (prop_id) {
    case PROP_CLIENT:
      s->client = g_value_dup_object (value);
      break;
    case PROP_APPLICATION:
      g_free (s->application);
      s->application = g_value_dup_string (value);
      break;
    case PROP_THROTTLE_INTERVAL:
      s->throttle_interval = g_value_get_uint (value);
      break;
    case PROP_MAX_BUFFERING:
      s->max_buffering = g_value_get_uint (value);
      break;
    case PROP_TOKEN_EXPIRATION:
      s->token_expiration = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  g_mutex_unlock (&s->lock);
}

static void
gst_fal_realtime_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  Shared *s = GST_FAL_REALTIME (object)->shared;

  g_mutex_lock (&s->lock);
  switch (prop_id) {
    case PROP_CLIENT:
      g_value_set_object (value, s->client);
      break;
    case PROP_APPLICATION:
      g_value_set_string (value, s->application);
      break;
    case PROP_THROTTLE_INTERVAL:
      g_value_set_uint (value, s->throttle_interval);
      break;
    case PROP_MAX_BUFFERING:
      g_value_set_uint (value, s->max_buffering);
      break;
    case PROP_TOKEN_EXPIRATION:
      g_value_set_uint (value, s->token_expiration);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  g_mutex_unlock (&s->lock);
}

static void
gst_fal_realtime_constructed (GObject * object)
{
  Shared *s = GST_FAL_REALTIME (object)->shared;

  G_OBJECT_CLASS (gst_fal_realtime_parent_class)->constructed (object);
  if (s->client == NULL)
    s->client = gst_fal_client_new ();
  if (s->application == NULL)
    s->application = g_strdup ("");
}

static void
gst_fal_realtime_dispose (GObject * object)
{
  GstFalRealtime *self = GST_FAL_REALTIME (object);

  if (self->shared)
    gst_fal_realtime_close (self);
  G_OBJECT_CLASS (gst_fal_realtime_parent_class)->dispose (object);
}

static void
gst_fal_realtime_finalize (GObject * object)
{
  GstFalRealtime *self = GST_FAL_REALTIME (object);

  g_clear_pointer (&self->shared, shared_unref);
  G_OBJECT_CLASS (gst_fal_realtime_parent_class)->finalize (object);
}

static void
gst_fal_realtime_init (GstFalRealtime * self)
{
  Shared *s = g_new0 (Shared, 1);

  g_atomic_ref_count_init (&s->ref);
  g_mutex_init (&s->lock);
  g_weak_ref_init (&s->owner, self);
  s->user_context = g_main_context_ref_thread_default ();
  s->throttle_interval = DEFAULT_THROTTLE_INTERVAL;
  s->max_buffering = DEFAULT_MAX_BUFFERING;
  s->token_expiration = DEFAULT_TOKEN_EXPIRATION;
  s->cancellable = g_cancellable_new ();
  g_queue_init (&s->outgoing);
  g_queue_init (&s->in_flight);
  self->shared = s;
}

static void
gst_fal_realtime_class_init (GstFalRealtimeClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = gst_fal_realtime_set_property;
  object_class->get_property = gst_fal_realtime_get_property;
  object_class->constructed = gst_fal_realtime_constructed;
  object_class->dispose = gst_fal_realtime_dispose;
  object_class->finalize = gst_fal_realtime_finalize;

  /**
   * GstFalRealtime:client:
   *
   * The client whose server, credentials and TLS settings are used
   * (default: gst_fal_client_new()).
   */
  properties[PROP_CLIENT] = g_param_spec_object ("client", "Client",
      "The client whose server, credentials and TLS settings are used",
      GST_FAL_TYPE_CLIENT,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * GstFalRealtime:application:
   *
   * The endpoint id, e.g. "local/echo".
   */
  properties[PROP_APPLICATION] = g_param_spec_string ("application",
      "Application", "The endpoint id, e.g. local/echo", NULL,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * GstFalRealtime:throttle-interval:
   *
   * Milliseconds: at most one message leaves per interval, the newest
   * (fal's latest-wins; its JS client uses 128). 0 sends every message.
   */
  properties[PROP_THROTTLE_INTERVAL] =
      g_param_spec_uint ("throttle-interval", "Throttle interval",
      "Milliseconds in which at most one message leaves, the newest "
      "(0 = every message)", 0, G_MAXUINT, DEFAULT_THROTTLE_INTERVAL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstFalRealtime:max-buffering:
   *
   * Inputs the server keeps waiting, 1 to 60, dropping the oldest beyond
   * (sent as `max_buffering` when connecting); 0 = the app's own setting.
   * Results carry no id, so with N set at most N + 1 messages are sent
   * unanswered; of those held back only the newest waits, the others are
   * #GstFalRealtime::dropped.
   */
  properties[PROP_MAX_BUFFERING] = g_param_spec_uint ("max-buffering",
      "Max buffering", "Inputs the server keeps waiting, oldest dropped "
      "beyond (1-60; 0 = the app's setting)", 0, 60, DEFAULT_MAX_BUFFERING,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstFalRealtime:token-expiration:
   *
   * Seconds each realtime token is asked to live; a new one is fetched at
   * 90 % of it while the socket is open.
   */
  properties[PROP_TOKEN_EXPIRATION] = g_param_spec_uint ("token-expiration",
      "Token expiration", "Seconds each realtime token lives", 1,
      24 * 3600, DEFAULT_TOKEN_EXPIRATION,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPERTIES, properties);

  /**
   * GstFalRealtime::result:
   * @realtime: the connection
   * @id: the id gst_fal_realtime_send() gave the message
   * @result: the app's output (`a{sv}`; image outputs inline as `ay`)
   *
   * The result of one message, in send order.
   */
  signals[SIGNAL_RESULT] = g_signal_new ("result", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT64,
      G_TYPE_VARIANT);
  /**
   * GstFalRealtime::error:
   * @realtime: the connection
   * @id: the message it is about (its result will not come), 0 for none
   * @error: a #GST_FAL_ERROR: SERVER for the app's `INTERNAL_ERROR` (the
   *   server's reason as detail) or a connection lost before the result,
   *   UNAUTHORIZED, NOT_FOUND, PROTOCOL, CANCELLED
   */
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT64,
      G_TYPE_ERROR);
  /**
   * GstFalRealtime::dropped:
   * @realtime: the connection
   * @id: the message that gets no result
   *
   * A message replaced by a newer one before it left
   * (#GstFalRealtime:throttle-interval), or dropped by the server's buffer
   * (`max_buffering`; known when the server ends the idle session).
   */
  signals[SIGNAL_DROPPED] = g_signal_new ("dropped",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_UINT64);
  /**
   * GstFalRealtime::closed:
   * @realtime: the connection
   * @code: the websocket close code (1000 after the server's idle `TIMEOUT`)
   * @reason: the close reason, maybe empty
   *
   * The websocket closed; the next send opens a new one.
   */
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT,
      G_TYPE_STRING);
}
