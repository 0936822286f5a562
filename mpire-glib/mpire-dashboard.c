/* mpire-dashboard.c: a web page showing the maps of pools
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "mpire-dashboard-client-private.h"
#include "mpire-dashboard-maps-private.h"
#include "mpire-dashboard-private.h"
#include "mpire-dashboard-resources.h"

/**
 * MpireDashboard:
 *
 * A web page, served on the loopback interface, showing the maps of the
 * pools that report to it: MPIRE's dashboard.
 *
 * [method@Mpire.Dashboard.start] picks the first free port of a range
 * (8080 to 8099 unless [method@Mpire.Dashboard.set_port_range] says
 * otherwise) and makes a token. Every pool of this process reports its
 * maps to a started dashboard by itself; a pool in another process
 * reports to it once that process called [func@Mpire.Dashboard.connect]
 * with the port and the token, or has them in the environment
 * (%MPIRE_DASHBOARD_ENV and %MPIRE_DASHBOARD_TOKEN_ENV). The
 * `mpire-dashboard` command starts one on its own.
 *
 * The page lists the running and finished maps (description, progress,
 * rate, time left, start and end, status, a failed map's error and the
 * arguments of the task that failed, worker insights) and follows them
 * live. The same is a JSON API: `GET /api/maps`, `GET /api/maps/ID`,
 * `GET /api/maps/ID/insights`, `GET /api/events` (Server-Sent Events),
 * and `POST /api/push`, which needs the token.
 *
 * The dashboard serves from a thread of its own, so it answers while
 * the program waits in a blocking map.
 *
 * Since: 0.1
 */

/* States: stopped (thread == NULL) and started (a thread running the
 * server's main context, port != 0). start() waits for the thread to
 * have listened (or failed to); stop() quits its loop and joins it. The
 * server, its handlers and the event streams belong to that thread; the
 * rest of the object to the thread that owns the object, except maps
 * (its own lock) and flush_source (guarded by lock). */

struct _MpireDashboard
{
  GObject             parent_instance;

  guint               first_port;
  guint               last_port;
  guint               port;
  char               *url;
  char               *token;
  MpireDashboardMaps *maps;

  GThread            *thread;
  GMainContext       *context;
  GMainLoop          *loop;
  GMutex              lock;
  GCond               cond;
  gboolean            ready;
  GError             *start_error;
  GSource            *flush_source;

  /* Thread only. */
  SoupServer         *server;
  GPtrArray          *streams;  /* SoupServerMessage, Server-Sent Events */
};

G_DEFINE_FINAL_TYPE (MpireDashboard, mpire_dashboard, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FIRST_PORT,
  PROP_LAST_PORT,
  PROP_PORT,
  PROP_URL,
  PROP_TOKEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define DEFAULT_FIRST_PORT 8080
#define DEFAULT_LAST_PORT  8099
/* Changes reach the page at most this often. */
#define FLUSH_INTERVAL_MSEC 100
/* A comment on idle event streams, so that closed ones are found. */
#define PING_INTERVAL_SEC 15
#define RESOURCE_PREFIX "/org/mpire/dashboard/"

/* The started dashboards of this process, which its pools report to.
 * A child forked from it (a FORK worker) has no server thread and may
 * hold the locks in whatever state the fork found them: it reports to
 * none (local_pid is the process that started them). */
static GMutex local_lock;
static GList *local_dashboards;
static gint local_pid;

/* ---- the server's thread ------------------------------------------------ */

static gboolean
flush_cb (gpointer data)
{
  MpireDashboard *self = data;
  g_autoptr(GPtrArray) changed = NULL;
  g_autoptr(GString) events = g_string_new (NULL);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->flush_source, g_source_unref);
  g_mutex_unlock (&self->lock);

  changed = mpire_dashboard_maps_take_changed (self->maps);
  for (guint i = 0; i < changed->len; i++)
    {
      g_autofree char *json = json_to_string (g_ptr_array_index (changed, i), FALSE);

      g_string_append_printf (events, "event: map\ndata: %s\n\n", json);
    }
  if (events->len == 0)
    return G_SOURCE_REMOVE;

  for (guint i = 0; i < self->streams->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (self->streams, i);

      soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_COPY,
                                events->str, events->len);
      soup_server_message_unpause (msg);
    }
  return G_SOURCE_REMOVE;
}

/* Any thread: the maps changed, tell the pages soon. */
static void
schedule_flush (MpireDashboard *self)
{
  g_mutex_lock (&self->lock);
  if (self->flush_source == NULL && self->context != NULL)
    {
      self->flush_source = g_timeout_source_new (FLUSH_INTERVAL_MSEC);
      g_source_set_static_name (self->flush_source, "[mpire] dashboard flush");
      g_source_set_callback (self->flush_source, flush_cb, self, NULL);
      g_source_attach (self->flush_source, self->context);
    }
  g_mutex_unlock (&self->lock);
}

static gboolean
ping_cb (gpointer data)
{
  MpireDashboard *self = data;

  for (guint i = 0; i < self->streams->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (self->streams, i);

      soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_STATIC,
                                ": ping\n\n", 8);
      soup_server_message_unpause (msg);
    }
  return G_SOURCE_CONTINUE;
}

static void
set_json (SoupServerMessage *msg,
          guint              status,
          JsonNode          *node)
{
  g_autofree char *json = json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&json), strlen (json));
}

/* An error as JSON, `{"error": "..."}`. */
static void
set_error (SoupServerMessage *msg,
           guint              status,
           const char        *message)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = NULL;

  json_object_set_string_member (object, "error", message);
  node = json_node_init_object (json_node_alloc (), object);
  set_json (msg, status, node);
}

/* Requests must name the loopback address they came to, so that a web
 * site cannot reach the dashboard through a name of its own that
 * resolves to 127.0.0.1 (DNS rebinding). */
static gboolean
check_host (MpireDashboard    *self,
            SoupServerMessage *msg)
{
  const char *host = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Host");
  g_autofree char *ipv4 = g_strdup_printf ("127.0.0.1:%u", self->port);
  g_autofree char *name = g_strdup_printf ("localhost:%u", self->port);

  if (host != NULL && (g_str_equal (host, ipv4) || g_str_equal (host, name)))
    return TRUE;
  set_error (msg, SOUP_STATUS_FORBIDDEN, _("Requests must be sent to 127.0.0.1 or localhost"));
  return FALSE;
}

static void
serve_resource (SoupServerMessage *msg,
                const char        *name,
                const char        *content_type)
{
  g_autofree char *path = g_strconcat (RESOURCE_PREFIX, name, NULL);
  g_autoptr(GBytes) bytes = g_resource_lookup_data (mpire_dashboard_get_resource (), path,
                                                    G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gsize size;
  const char *data;

  if (bytes == NULL)
    {
      set_error (msg, SOUP_STATUS_NOT_FOUND, _("No such page"));
      return;
    }
  /* Nothing but our own files runs or loads on the page, whatever a
   * pool's strings contain. */
  soup_message_headers_replace (headers, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; "
                                "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                                "frame-ancestors 'none'");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  data = g_bytes_get_data (bytes, &size);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, data, size);
}

static void
page_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           data)
{
  MpireDashboard *self = data;

  if (!check_host (self, msg))
    return;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    set_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, _("Only GET is allowed here"));
  else if (g_str_equal (path, "/") || g_str_equal (path, "/index.html"))
    serve_resource (msg, "index.html", "text/html; charset=utf-8");
  else if (g_str_equal (path, "/dashboard.js"))
    serve_resource (msg, "dashboard.js", "text/javascript; charset=utf-8");
  else if (g_str_equal (path, "/dashboard.css"))
    serve_resource (msg, "dashboard.css", "text/css; charset=utf-8");
  else
    set_error (msg, SOUP_STATUS_NOT_FOUND, _("No such page"));
}

static void
stream_finished_cb (SoupServerMessage *msg,
                    gpointer           data)
{
  MpireDashboard *self = data;

  g_ptr_array_remove (self->streams, msg);
}

static void
serve_events (MpireDashboard    *self,
              SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(JsonNode) maps = mpire_dashboard_maps_list (self->maps, TRUE);
  g_autofree char *json = json_to_string (maps, FALSE);
  g_autofree char *first = g_strdup_printf ("retry: 2000\nevent: maps\ndata: %s\n\n", json);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_append (body, SOUP_MEMORY_COPY, first, strlen (first));

  g_ptr_array_add (self->streams, g_object_ref (msg));
  g_signal_connect_object (msg, "finished", G_CALLBACK (stream_finished_cb), self, 0);
}

static gboolean
parse_id (const char *text,
          gint64     *id)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    return FALSE;
  *id = (gint64) value;
  return TRUE;
}

/* /api/maps/ID and /api/maps/ID/insights */
static void
serve_map (MpireDashboard    *self,
           SoupServerMessage *msg,
           const char        *rest)
{
  g_auto(GStrv) parts = g_strsplit (rest, "/", 3);
  g_autoptr(JsonNode) node = NULL;
  gint64 id;

  if (parts[0] != NULL && parse_id (parts[0], &id))
    {
      if (parts[1] == NULL)
        node = mpire_dashboard_maps_get (self->maps, id);
      else if (g_str_equal (parts[1], "insights") && parts[2] == NULL)
        node = mpire_dashboard_maps_get_insights (self->maps, id);
    }
  if (node == NULL)
    set_error (msg, SOUP_STATUS_NOT_FOUND, _("No such map"));
  else
    set_json (msg, SOUP_STATUS_OK, node);
}

static void
serve_info (MpireDashboard    *self,
            SoupServerMessage *msg)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = NULL;

  json_object_set_string_member (object, "name", "mpire-dashboard");
  json_object_set_string_member (object, "version", PACKAGE_VERSION);
  json_object_set_int_member (object, "port", self->port);
  json_object_set_int_member (object, "pushes",
                              (gint64) mpire_dashboard_maps_get_n_pushes (self->maps));
  node = json_node_init_object (json_node_alloc (), object);
  set_json (msg, SOUP_STATUS_OK, node);
}

static void
api_cb (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           data)
{
  MpireDashboard *self = data;

  if (!check_host (self, msg))
    return;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    set_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, _("Only GET is allowed here"));
  else if (g_str_equal (path, "/api/maps"))
    {
      g_autoptr(JsonNode) node = mpire_dashboard_maps_list (self->maps, FALSE);

      set_json (msg, SOUP_STATUS_OK, node);
    }
  else if (g_str_has_prefix (path, "/api/maps/"))
    serve_map (self, msg, path + strlen ("/api/maps/"));
  else if (g_str_equal (path, "/api/events"))
    serve_events (self, msg);
  else if (g_str_equal (path, "/api/info"))
    serve_info (self, msg);
  else
    set_error (msg, SOUP_STATUS_NOT_FOUND, _("No such page"));
}

/* A push body is read into a buffer of our own, at most
 * MPIRE_DASHBOARD_MAX_BODY bytes, whatever the request says its length
 * is (or does not say, when chunked). */
static void
push_chunk_cb (SoupServerMessage *msg,
               GBytes            *chunk,
               gpointer           data)
{
  GByteArray *buffer = g_object_get_data (G_OBJECT (msg), "mpire-body");

  if (g_object_get_data (G_OBJECT (msg), "mpire-too-large") != NULL)
    return;
  if (buffer->len + g_bytes_get_size (chunk) > MPIRE_DASHBOARD_MAX_BODY)
    {
      g_object_set_data (G_OBJECT (msg), "mpire-too-large", GINT_TO_POINTER (1));
      g_byte_array_set_size (buffer, 0);
      return;
    }
  g_byte_array_append (buffer, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
}

static void
push_early_cb (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > MPIRE_DASHBOARD_MAX_BODY)
    g_object_set_data (G_OBJECT (msg), "mpire-too-large", GINT_TO_POINTER (1));
  g_object_set_data_full (G_OBJECT (msg), "mpire-body", g_byte_array_new (),
                          (GDestroyNotify) g_byte_array_unref);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (push_chunk_cb), NULL);
}

/* Compares in a time that does not depend on where they differ. */
static gboolean
token_equal (const char *given,
             const char *token)
{
  gsize length = strlen (token);
  guchar differ = 0;

  if (given == NULL || strlen (given) != length)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    differ |= (guchar) (given[i] ^ token[i]);
  return differ == 0;
}

static gboolean
check_token (MpireDashboard    *self,
             SoupServerMessage *msg)
{
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");

  return auth != NULL && g_str_has_prefix (auth, "Bearer ") &&
         token_equal (auth + strlen ("Bearer "), self->token);
}

static void
push_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           data)
{
  MpireDashboard *self = data;
  GByteArray *buffer = g_object_get_data (G_OBJECT (msg), "mpire-body");
  g_autoptr(GError) error = NULL;

  if (!check_host (self, msg))
    return;
  if (!g_str_equal (path, "/api/push"))
    {
      set_error (msg, SOUP_STATUS_NOT_FOUND, _("No such page"));
      return;
    }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    {
      set_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, _("Only POST is allowed here"));
      return;
    }
  if (!check_token (self, msg))
    {
      set_error (msg, SOUP_STATUS_FORBIDDEN,
                 _("A push needs the dashboard’s token (“Authorization: Bearer TOKEN”)"));
      return;
    }
  if (buffer == NULL || g_object_get_data (G_OBJECT (msg), "mpire-too-large") != NULL)
    {
      g_autofree char *message =
        g_strdup_printf (_("A push may be at most %d bytes"), MPIRE_DASHBOARD_MAX_BODY);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
      set_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, message);
      return;
    }
  if (!mpire_dashboard_maps_push (self->maps, (const char *) buffer->data, buffer->len, &error))
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  schedule_flush (self);
}

static gboolean
listen_in_range (MpireDashboard  *self,
                 GError         **error)
{
  for (guint port = self->first_port; port <= self->last_port; port++)
    {
      g_autoptr(GError) local_error = NULL;

      if (soup_server_listen_local (self->server, port, SOUP_SERVER_LISTEN_IPV4_ONLY,
                                    &local_error))
        {
          self->port = port;
          return TRUE;
        }
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      _("The dashboard cannot listen on 127.0.0.1:%u: "), port);
          return FALSE;
        }
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
               _("No free port for the dashboard on 127.0.0.1 from %u to %u"),
               self->first_port, self->last_port);
  return FALSE;
}

static void
close_streams (MpireDashboard *self)
{
  g_autoptr(GPtrArray) streams = g_steal_pointer (&self->streams);

  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < streams->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (streams, i);

      g_signal_handlers_disconnect_by_data (msg, self);
      soup_message_body_complete (soup_server_message_get_response_body (msg));
      soup_server_message_unpause (msg);
    }
}

static gpointer
server_thread (gpointer data)
{
  MpireDashboard *self = data;
  g_autoptr(GSource) ping = NULL;
  GError *error = NULL;
  gboolean ok;

  g_main_context_push_thread_default (self->context);
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  self->server = soup_server_new ("server-header", "mpire-dashboard ", NULL);
  soup_server_add_handler (self->server, NULL, page_cb, self, NULL);
  soup_server_add_handler (self->server, "/api", api_cb, self, NULL);
  soup_server_add_early_handler (self->server, "/api/push", push_early_cb, self, NULL);
  soup_server_add_handler (self->server, "/api/push", push_cb, self, NULL);

  ok = listen_in_range (self, &error);

  g_mutex_lock (&self->lock);
  self->ready = TRUE;
  self->start_error = error;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  if (ok)
    {
      ping = g_timeout_source_new_seconds (PING_INTERVAL_SEC);
      g_source_set_static_name (ping, "[mpire] dashboard ping");
      g_source_set_callback (ping, ping_cb, self, NULL);
      g_source_attach (ping, self->context);
      g_main_loop_run (self->loop);
      g_source_destroy (ping);
      close_streams (self);
      /* Let the last bytes of the streams go out. */
      while (g_main_context_iteration (self->context, FALSE))
        ;
    }

  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_pointer (&self->streams, g_ptr_array_unref);
  g_mutex_lock (&self->lock);
  if (self->flush_source != NULL)
    g_source_destroy (self->flush_source);
  g_clear_pointer (&self->flush_source, g_source_unref);
  g_mutex_unlock (&self->lock);
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* ---- the object --------------------------------------------------------- */

static void
mpire_dashboard_dispose (GObject *object)
{
  mpire_dashboard_stop (MPIRE_DASHBOARD (object));

  G_OBJECT_CLASS (mpire_dashboard_parent_class)->dispose (object);
}

static void
mpire_dashboard_finalize (GObject *object)
{
  MpireDashboard *self = MPIRE_DASHBOARD (object);

  g_free (self->url);
  g_free (self->token);
  g_clear_pointer (&self->maps, mpire_dashboard_maps_free);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (mpire_dashboard_parent_class)->finalize (object);
}

static void
mpire_dashboard_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MpireDashboard *self = MPIRE_DASHBOARD (object);

  switch (prop_id)
    {
    case PROP_FIRST_PORT:
      g_value_set_uint (value, self->first_port);
      break;
    case PROP_LAST_PORT:
      g_value_set_uint (value, self->last_port);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_dashboard_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  MpireDashboard *self = MPIRE_DASHBOARD (object);

  switch (prop_id)
    {
    case PROP_FIRST_PORT:
      mpire_dashboard_set_port_range (self, g_value_get_uint (value),
                                      MAX (self->last_port, g_value_get_uint (value)));
      break;
    case PROP_LAST_PORT:
      mpire_dashboard_set_port_range (self, MIN (self->first_port, g_value_get_uint (value)),
                                      g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_dashboard_class_init (MpireDashboardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags read_flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = mpire_dashboard_dispose;
  object_class->finalize = mpire_dashboard_finalize;
  object_class->get_property = mpire_dashboard_get_property;
  object_class->set_property = mpire_dashboard_set_property;

  /**
   * MpireDashboard:first-port:
   *
   * The first port [method@Mpire.Dashboard.start] tries, 8080 by default.
   *
   * Since: 0.1
   */
  properties[PROP_FIRST_PORT] =
    g_param_spec_uint ("first-port", NULL, NULL, 1, G_MAXUINT16, DEFAULT_FIRST_PORT, flags);

  /**
   * MpireDashboard:last-port:
   *
   * The last port [method@Mpire.Dashboard.start] tries, 8099 by default.
   *
   * Since: 0.1
   */
  properties[PROP_LAST_PORT] =
    g_param_spec_uint ("last-port", NULL, NULL, 1, G_MAXUINT16, DEFAULT_LAST_PORT, flags);

  /**
   * MpireDashboard:port:
   *
   * The port the started dashboard listens on (on 127.0.0.1), or 0.
   *
   * Since: 0.1
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0, read_flags);

  /**
   * MpireDashboard:url:
   *
   * The address of the started dashboard's page, or %NULL.
   *
   * Since: 0.1
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, NULL, read_flags);

  /**
   * MpireDashboard:token:
   *
   * The secret that pools in other processes give to
   * [func@Mpire.Dashboard.connect] to push to this dashboard: made anew
   * at each start, %NULL when stopped.
   *
   * Since: 0.1
   */
  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL, NULL, read_flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mpire_dashboard_init (MpireDashboard *self)
{
  self->first_port = DEFAULT_FIRST_PORT;
  self->last_port = DEFAULT_LAST_PORT;
  self->maps = mpire_dashboard_maps_new ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
}

/**
 * mpire_dashboard_new:
 *
 * Creates a dashboard; [method@Mpire.Dashboard.start] starts it.
 *
 * Returns: (transfer full): a new dashboard
 *
 * Since: 0.1
 */
MpireDashboard *
mpire_dashboard_new (void)
{
  return g_object_new (MPIRE_TYPE_DASHBOARD, NULL);
}

/**
 * mpire_dashboard_set_port_range:
 * @self: a dashboard
 * @first_port: the first port to try
 * @last_port: the last port to try, at least @first_port
 *
 * Sets the ports [method@Mpire.Dashboard.start] tries, in order: MPIRE's
 * `port_range`. Takes effect at the next start.
 *
 * Since: 0.1
 */
void
mpire_dashboard_set_port_range (MpireDashboard *self,
                                guint           first_port,
                                guint           last_port)
{
  g_return_if_fail (MPIRE_IS_DASHBOARD (self));
  g_return_if_fail (first_port > 0 && first_port <= last_port && last_port <= G_MAXUINT16);

  g_object_freeze_notify (G_OBJECT (self));
  if (self->first_port != first_port)
    {
      self->first_port = first_port;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_PORT]);
    }
  if (self->last_port != last_port)
    {
      self->last_port = last_port;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_PORT]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * mpire_dashboard_get_first_port:
 * @self: a dashboard
 *
 * Gets [property@Mpire.Dashboard:first-port].
 *
 * Returns: the first port tried
 *
 * Since: 0.1
 */
guint
mpire_dashboard_get_first_port (MpireDashboard *self)
{
  g_return_val_if_fail (MPIRE_IS_DASHBOARD (self), 0);
  return self->first_port;
}

/**
 * mpire_dashboard_get_last_port:
 * @self: a dashboard
 *
 * Gets [property@Mpire.Dashboard:last-port].
 *
 * Returns: the last port tried
 *
 * Since: 0.1
 */
guint
mpire_dashboard_get_last_port (MpireDashboard *self)
{
  g_return_val_if_fail (MPIRE_IS_DASHBOARD (self), 0);
  return self->last_port;
}

static char *
make_token (void)
{
  guint8 bytes[16];
  GString *token = g_string_new (NULL);

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    for (gsize i = 0; i < sizeof bytes; i++)
      bytes[i] = (guint8) g_random_int ();
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (token, "%02x", bytes[i]);
  return g_string_free (token, FALSE);
}

/**
 * mpire_dashboard_start:
 * @self: a dashboard
 * @error: return location for a #GError
 *
 * Starts serving the page and the API on 127.0.0.1, on the first free
 * port of the range, from a thread of the dashboard's own: MPIRE's
 * `start_dashboard()`. A busy port is skipped; when all are, the error
 * is %G_IO_ERROR_ADDRESS_IN_USE. The pools of this process report to
 * the dashboard from now on. Starting a started dashboard does nothing.
 *
 * Returns: %TRUE once it listens, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mpire_dashboard_start (MpireDashboard  *self,
                       GError         **error)
{
  g_return_val_if_fail (MPIRE_IS_DASHBOARD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->thread != NULL)
    return TRUE;

  self->token = make_token ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->ready = FALSE;
  self->thread = g_thread_new ("mpire-dashboard", server_thread, self);

  g_mutex_lock (&self->lock);
  while (!self->ready)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  if (self->start_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->start_error));
      g_thread_join (g_steal_pointer (&self->thread));
      g_clear_pointer (&self->loop, g_main_loop_unref);
      g_clear_pointer (&self->context, g_main_context_unref);
      g_clear_pointer (&self->token, g_free);
      self->port = 0;
      return FALSE;
    }

  self->url = g_strdup_printf ("http://127.0.0.1:%u/", self->port);
  g_mutex_lock (&local_lock);
  g_atomic_int_set (&local_pid, (gint) getpid ());
  local_dashboards = g_list_prepend (local_dashboards, self);
  g_mutex_unlock (&local_lock);

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
  g_object_thaw_notify (G_OBJECT (self));
  return TRUE;
}

/**
 * mpire_dashboard_stop:
 * @self: a dashboard
 *
 * Stops serving: the pages open on it lose their connection, the
 * port is free again, and this process's pools stop reporting to it.
 * The maps it knew stay, for the next start. Disposing the dashboard
 * stops it.
 *
 * Since: 0.1
 */
void
mpire_dashboard_stop (MpireDashboard *self)
{
  g_return_if_fail (MPIRE_IS_DASHBOARD (self));

  if (self->thread == NULL)
    return;

  g_mutex_lock (&local_lock);
  local_dashboards = g_list_remove (local_dashboards, self);
  g_mutex_unlock (&local_lock);

  /* Through the context: a quit before the thread runs its loop would
   * be lost. */
  g_main_context_invoke (self->context, quit_cb, self->loop);
  g_thread_join (g_steal_pointer (&self->thread));
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_mutex_lock (&self->lock);
  if (self->flush_source != NULL)
    g_source_destroy (self->flush_source);
  g_clear_pointer (&self->flush_source, g_source_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->token, g_free);
  self->port = 0;

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * mpire_dashboard_get_port:
 * @self: a dashboard
 *
 * Gets [property@Mpire.Dashboard:port].
 *
 * Returns: the port it listens on, or 0 when stopped
 *
 * Since: 0.1
 */
guint
mpire_dashboard_get_port (MpireDashboard *self)
{
  g_return_val_if_fail (MPIRE_IS_DASHBOARD (self), 0);
  return self->port;
}

/**
 * mpire_dashboard_get_url:
 * @self: a dashboard
 *
 * Gets [property@Mpire.Dashboard:url].
 *
 * Returns: (nullable): the page's address, or %NULL when stopped
 *
 * Since: 0.1
 */
const char *
mpire_dashboard_get_url (MpireDashboard *self)
{
  g_return_val_if_fail (MPIRE_IS_DASHBOARD (self), NULL);
  return self->url;
}

/**
 * mpire_dashboard_get_token:
 * @self: a dashboard
 *
 * Gets [property@Mpire.Dashboard:token].
 *
 * Returns: (nullable): the token pushes need, or %NULL when stopped
 *
 * Since: 0.1
 */
const char *
mpire_dashboard_get_token (MpireDashboard *self)
{
  g_return_val_if_fail (MPIRE_IS_DASHBOARD (self), NULL);
  return self->token;
}

/**
 * mpire_dashboard_connect: (rename-to mpire_connect_to_dashboard)
 * @host: the dashboard's host, "127.0.0.1" for this machine
 * @port: the dashboard's port
 * @token: the dashboard's token
 * @error: return location for a #GError
 *
 * Makes the pools of this process report their maps to the dashboard at
 * @host and @port (started by another process, or the `mpire-dashboard`
 * command): MPIRE's `connect_to_dashboard()`. It checks at once that
 * the dashboard answers and takes @token; after that, a dashboard that
 * goes away or is slow costs the pools a warning, never a failed or
 * stalled map. Updates are sent from a thread of their own, a few a
 * second at most. Connecting again replaces the previous dashboard.
 *
 * Python and JavaScript call it `Mpire.Dashboard.connect_to_dashboard()`,
 * after MPIRE's `connect_to_dashboard()`
 * (`Mpire.Dashboard.connect` would hide the `connect()` of signals).
 *
 * Returns: %TRUE if connected, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mpire_dashboard_connect (const char  *host,
                         guint        port,
                         const char  *token,
                         GError     **error)
{
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (port > 0 && port <= G_MAXUINT16, FALSE);
  g_return_val_if_fail (token != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return mpire_dashboard_client_connect (host, port, token, TRUE, error);
}

/**
 * mpire_dashboard_disconnect: (rename-to mpire_disconnect_from_dashboard)
 *
 * Sends what is left to send (waiting a second at most) and stops
 * reporting to the dashboard given to [func@Mpire.Dashboard.connect].
 * Python and JavaScript call it
 * `Mpire.Dashboard.disconnect_from_dashboard()`.
 *
 * Since: 0.1
 */
void
mpire_dashboard_disconnect (void)
{
  mpire_dashboard_client_disconnect ();
}

/**
 * mpire_connect_to_dashboard: (skip)
 * @host: the dashboard's host
 * @port: the dashboard's port
 * @token: the dashboard's token
 * @error: return location for a #GError
 *
 * [func@Mpire.Dashboard.connect] under MPIRE's name, the one Python and
 * JavaScript see.
 *
 * Returns: %TRUE if connected, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mpire_connect_to_dashboard (const char  *host,
                            guint        port,
                            const char  *token,
                            GError     **error)
{
  return mpire_dashboard_connect (host, port, token, error);
}

/**
 * mpire_disconnect_from_dashboard: (skip)
 *
 * [func@Mpire.Dashboard.disconnect] under the name Python and JavaScript
 * see.
 *
 * Since: 0.1
 */
void
mpire_disconnect_from_dashboard (void)
{
  mpire_dashboard_disconnect ();
}

/* ---- for the reporters -------------------------------------------------- */

/* The dashboard named by the environment, once per process, without
 * the check (a map must not wait for it). */
void
mpire_dashboard_connect_from_env (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      const char *address = g_getenv (MPIRE_DASHBOARD_ENV);
      const char *token = g_getenv (MPIRE_DASHBOARD_TOKEN_ENV);
      const char *colon = address != NULL ? strrchr (address, ':') : NULL;
      guint64 port = 0;

      if (address != NULL && *address != '\0' &&
          (colon == NULL || token == NULL ||
           !g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL)))
        g_warning (_("%s must be HOST:PORT and %s must hold the dashboard’s token; no "
                     "dashboard is used"), MPIRE_DASHBOARD_ENV, MPIRE_DASHBOARD_TOKEN_ENV);
      else if (address != NULL && *address != '\0')
        {
          g_autofree char *host = g_strndup (address, colon - address);
          g_autoptr(GError) error = NULL;

          if (!mpire_dashboard_client_connect (host, (guint) port, token, FALSE, &error))
            g_warning ("%s", error->message);
        }
      g_once_init_leave (&done, 1);
    }
}


gboolean
mpire_dashboard_has_local (void)
{
  gboolean any;

  if (g_atomic_int_get (&local_pid) != (gint) getpid ())
    return FALSE;
  g_mutex_lock (&local_lock);
  any = local_dashboards != NULL;
  g_mutex_unlock (&local_lock);
  return any;
}

/* Any thread: a map of this process changed. */
void
mpire_dashboard_report_local (JsonObject *map)
{
  g_mutex_lock (&local_lock);
  for (GList *l = local_dashboards; l != NULL; l = l->next)
    {
      MpireDashboard *self = l->data;
      g_autoptr(GError) error = NULL;

      if (mpire_dashboard_maps_update (self->maps, map, &error))
        schedule_flush (self);
      else
        g_critical ("%s: %s", G_STRFUNC, error->message);
    }
  g_mutex_unlock (&local_lock);
}

guint64
mpire_dashboard_get_n_pushes (MpireDashboard *self)
{
  return mpire_dashboard_maps_get_n_pushes (self->maps);
}
