/* mpire-dashboard-server.c: the dashboard's HTTP server, in its thread
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "mpire-dashboard-resources.h"
#include "mpire-dashboard-server-private.h"
#include "mpire-fork-guard-private.h"
#include "mpire-i18n-private.h"

/* A libsoup server on 127.0.0.1, in a thread of its own with its own
 * main context, so that it answers while the program waits in a blocking
 * map: the page (from the GResource built from dashboard/), the JSON API
 * over the dashboard's maps, the event streams, and pushes.
 *
 * States: starting (start() waits until the thread listened or failed
 * to), serving (the thread runs its loop), stopped (stop() quit the loop
 * through the context, joined the thread and freed everything). The
 * SoupServer, its handlers and the event streams belong to the thread;
 * the maps have their own lock; flush_source is guarded by lock, since
 * any thread may ask for a flush. */

struct _MpireDashboardServer
{
  MpireDashboardMaps *maps;         /* the dashboard's, not owned */
  char               *token;
  guint               first_port;
  guint               last_port;
  guint               port;

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
  GPtrArray          *streams;      /* SoupServerMessage, Server-Sent Events */
};

/* Changes reach the page at most this often. */
#define FLUSH_INTERVAL_MSEC 100
/* A comment on idle event streams, so that closed ones are found. */
#define PING_INTERVAL_SEC 15
#define RESOURCE_PREFIX "/org/mpire/dashboard/"


static gboolean
flush_cb (gpointer data)
{
  MpireDashboardServer *self = data;
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
schedule_flush (MpireDashboardServer *self)
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
  MpireDashboardServer *self = data;

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
check_host (MpireDashboardServer *self,
            SoupServerMessage    *msg)
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
  MpireDashboardServer *self = data;

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
  MpireDashboardServer *self = data;

  g_ptr_array_remove (self->streams, msg);
}

static void
serve_events (MpireDashboardServer *self,
              SoupServerMessage    *msg)
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
  g_signal_connect (msg, "finished", G_CALLBACK (stream_finished_cb), self);
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
serve_map (MpireDashboardServer *self,
           SoupServerMessage    *msg,
           const char           *rest)
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
serve_info (MpireDashboardServer *self,
            SoupServerMessage    *msg)
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
  MpireDashboardServer *self = data;

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
check_token (MpireDashboardServer *self,
             SoupServerMessage    *msg)
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
  MpireDashboardServer *self = data;
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
listen_in_range (MpireDashboardServer  *self,
                 GError               **error)
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
close_streams (MpireDashboardServer *self)
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
  MpireDashboardServer *self = data;
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


/* Starts serving @maps on the first free port from @first_port to
 * @last_port; pushes need @token. */
MpireDashboardServer *
mpire_dashboard_server_start (MpireDashboardMaps  *maps,
                              guint                first_port,
                              guint                last_port,
                              const char          *token,
                              GError             **error)
{
  MpireDashboardServer *self = g_new0 (MpireDashboardServer, 1);

  self->maps = maps;
  self->token = g_strdup (token);
  self->first_port = first_port;
  self->last_port = last_port;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  mpire_fork_guard_add (self->context);
  self->thread = g_thread_new ("mpire-dashboard", server_thread, self);

  g_mutex_lock (&self->lock);
  while (!self->ready)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  if (self->start_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->start_error));
      mpire_dashboard_server_stop (self);
      return NULL;
    }
  return self;
}

guint
mpire_dashboard_server_get_port (MpireDashboardServer *self)
{
  return self->port;
}

/* Any thread: the maps changed, tell the pages soon. */
void
mpire_dashboard_server_changed (MpireDashboardServer *self)
{
  schedule_flush (self);
}

/* Stops serving and frees @self. */
void
mpire_dashboard_server_stop (MpireDashboardServer *self)
{
  mpire_fork_guard_remove (self->context);
  /* Through the context: a quit before the thread runs its loop would
   * be lost (and after a failed start, the thread has ended already). */
  g_main_context_invoke (self->context, quit_cb, self->loop);
  g_thread_join (self->thread);
  g_mutex_lock (&self->lock);
  if (self->flush_source != NULL)
    g_source_destroy (self->flush_source);
  g_clear_pointer (&self->flush_source, g_source_unref);
  g_mutex_unlock (&self->lock);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->token);
  g_free (self);
}
