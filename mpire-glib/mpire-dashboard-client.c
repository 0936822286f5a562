/* mpire-dashboard-client.c: pushing maps to a dashboard elsewhere
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <libsoup/soup.h>

#include "mpire-dashboard-client-private.h"
#include "mpire-fork-guard-private.h"
#include "mpire-i18n-private.h"

/* One per process, while connected: a thread of its own with a main
 * context and a SoupSession, which POSTs the maps' latest states to the
 * dashboard's /api/push. Reporters (any thread) only leave a map's state
 * in `pending`, replacing the one not sent yet, and never wait for the
 * network, except for the bounded flush at a map's end. At most one push
 * is in flight, and pushes leave at most every PUSH_INTERVAL_MSEC (every
 * RETRY_INTERVAL_MSEC after a failure), so a map sends a number of
 * pushes bounded by its duration, not by its tasks.
 *
 * States: idle (nothing pending), waiting (pending, a timer set for the
 * next push), sending (in_flight). A failed push warns once (until one
 * succeeds again); when the dashboard did not answer (or failed), its
 * maps go back to pending unless newer states came meanwhile, and when
 * it refused them (4xx), they are dropped. All fields but the thread's own (session) are guarded
 * by client_lock. */

#define PUSH_INTERVAL_MSEC   250
#define RETRY_INTERVAL_MSEC  2000
#define CHECK_TIMEOUT_SEC    5
#define PUSH_TIMEOUT_SEC     5
#define MAX_PENDING          1000

typedef struct
{
  char         *uri;
  char         *token;
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  SoupSession  *session;   /* thread only */
  GHashTable   *pending;   /* key -> JsonObject */
  GSource      *timer;
  gboolean      in_flight;
  gboolean      healthy;
  gboolean      warned;
  gint64        next_send;
  int           flushers;  /* threads waiting in flush(): send at once */
  GCond         cond;
} Client;

static GMutex client_lock;
static Client *client;
/* The process that connected: a forked child has no sending thread. */
static gint client_pid;

static void maybe_send (Client *self);

static gboolean
timer_cb (gpointer data)
{
  Client *self = data;

  g_mutex_lock (&client_lock);
  g_clear_pointer (&self->timer, g_source_unref);
  g_mutex_unlock (&client_lock);
  maybe_send (self);
  return G_SOURCE_REMOVE;
}

/* With client_lock held: makes the thread look at pending at
 * next_send. */
static void
schedule_locked (Client *self)
{
  gint64 delay;

  if (self->timer != NULL || self->in_flight || g_hash_table_size (self->pending) == 0)
    return;
  delay = MAX (0, self->next_send - g_get_monotonic_time ()) / 1000;
  self->timer = g_timeout_source_new ((guint) delay);
  g_source_set_static_name (self->timer, "[mpire] dashboard push");
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_attach (self->timer, self->context);
}

typedef struct
{
  Client    *client;
  GPtrArray *batch;   /* JsonObject */
} Push;

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Push *push = data;
  Client *self = push->client;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                               &error);
  guint status = msg != NULL ? soup_message_get_status (msg) : 0;
  gboolean ok = bytes != NULL && status == SOUP_STATUS_NO_CONTENT;
  gboolean warn = FALSE;

  g_mutex_lock (&client_lock);
  self->in_flight = FALSE;
  if (ok)
    {
      self->healthy = TRUE;
      self->warned = FALSE;
      if (self->flushers > 0)
        self->next_send = 0;
    }
  else
    {
      /* Sent again only if it may go through later: not when the
       * dashboard answered that it refuses it (a token from before its
       * restart, a body it does not take). */
      gboolean again = bytes == NULL || SOUP_STATUS_IS_SERVER_ERROR (status);

      for (guint i = 0; again && i < push->batch->len; i++)
        {
          JsonObject *map = g_ptr_array_index (push->batch, i);
          const char *key = json_object_get_string_member (map, "key");

          if (!g_hash_table_contains (self->pending, key) &&
              g_hash_table_size (self->pending) < MAX_PENDING)
            g_hash_table_insert (self->pending, g_strdup (key), json_object_ref (map));
        }
      self->healthy = FALSE;
      warn = !self->warned;
      self->warned = TRUE;
      self->next_send = g_get_monotonic_time () + RETRY_INTERVAL_MSEC * 1000;
    }
  g_cond_broadcast (&self->cond);
  schedule_locked (self);
  g_mutex_unlock (&client_lock);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ;  /* disconnected */
  else if (warn && error != NULL)
    g_warning (_("The dashboard at %s cannot be reached (%s); the maps go on, and their "
                 "progress is sent again when it answers"), self->uri, error->message);
  else if (warn)
    g_warning (_("The dashboard at %s refused an update (HTTP status %u); the maps go on"),
               self->uri, status);

  g_ptr_array_unref (push->batch);
  g_free (push);
}

static SoupMessage *
push_message (const char *uri,
              const char *token,
              GPtrArray  *batch)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
  SoupMessage *msg = soup_message_new (SOUP_METHOD_POST, uri);
  char *json;

  if (msg == NULL)
    return NULL;
  for (guint i = 0; batch != NULL && i < batch->len; i++)
    json_array_add_object_element (array, json_object_ref (g_ptr_array_index (batch, i)));
  json_object_set_array_member (object, "maps", g_steal_pointer (&array));
  root = json_node_init_object (json_node_alloc (), object);
  json = json_to_string (root, FALSE);
  body = g_bytes_new_take (json, strlen (json));
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  return msg;
}

/* The client's thread: sends the pending maps if it may. */
static void
maybe_send (Client *self)
{
  g_autoptr(SoupMessage) msg = NULL;
  GHashTableIter iter;
  gpointer value;
  Push *push;

  g_mutex_lock (&client_lock);
  if (self->in_flight || g_hash_table_size (self->pending) == 0)
    {
      g_mutex_unlock (&client_lock);
      return;
    }
  if (g_get_monotonic_time () < self->next_send)
    {
      schedule_locked (self);
      g_mutex_unlock (&client_lock);
      return;
    }
  push = g_new0 (Push, 1);
  push->client = self;
  push->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (push->batch, json_object_ref (value));
  g_hash_table_remove_all (self->pending);
  self->in_flight = TRUE;
  self->next_send = g_get_monotonic_time () + PUSH_INTERVAL_MSEC * 1000;
  g_mutex_unlock (&client_lock);

  msg = push_message (self->uri, self->token, push->batch);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, NULL, sent_cb, push);
}

static gpointer
client_thread (gpointer data)
{
  Client *self = data;

  g_main_context_push_thread_default (self->context);
  self->session = soup_session_new_with_options ("timeout", PUSH_TIMEOUT_SEC,
                                                 "user-agent", "mpire-glib ", NULL);
  g_main_loop_run (self->loop);
  soup_session_abort (self->session);
  g_clear_object (&self->session);
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

static void
client_free (Client *self)
{
  mpire_fork_guard_remove (self->context);
  /* Through the context: a quit before the thread runs its loop would
   * be lost. */
  g_main_context_invoke (self->context, quit_cb, self->loop);
  g_thread_join (self->thread);
  g_clear_pointer (&self->timer, g_source_unref);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_hash_table_unref (self->pending);
  g_cond_clear (&self->cond);
  g_free (self->uri);
  g_free (self->token);
  g_free (self);
}

/* Sends an empty push, which a dashboard answers with 204 only if it
 * takes the token. */
static gboolean
check_dashboard (const char  *uri,
                 const char  *token,
                 GError     **error)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", CHECK_TIMEOUT_SEC,
                                                                  NULL);
  g_autoptr(SoupMessage) msg = push_message (uri, token, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  guint status;

  bytes = soup_session_send_and_read (session, msg, NULL, &local_error);
  if (bytes == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   _("No dashboard answers at %s: %s"), uri, local_error->message);
      return FALSE;
    }
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_FORBIDDEN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The dashboard at %s refused the token"), uri);
      return FALSE;
    }
  if (status != SOUP_STATUS_NO_CONTENT)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The server at %s is no dashboard (HTTP status %u)"), uri, status);
      return FALSE;
    }
  return TRUE;
}

gboolean
mpire_dashboard_client_connect (const char  *host,
                                guint        port,
                                const char  *token,
                                gboolean     check,
                                GError     **error)
{
  g_autofree char *uri = NULL;
  Client *self, *old;

  if (strchr (host, ':') != NULL && host[0] != '[')
    uri = g_strdup_printf ("http://[%s]:%u/api/push", host, port);
  else
    uri = g_strdup_printf ("http://%s:%u/api/push", host, port);
  if (*host == '\0' || strspn (host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789.-:[]") != strlen (host) ||
      !g_uri_is_valid (uri, G_URI_FLAGS_NONE, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a host name or address"), host);
      return FALSE;
    }
  if (check && !check_dashboard (uri, token, error))
    return FALSE;

  self = g_new0 (Client, 1);
  self->uri = g_steal_pointer (&uri);
  self->token = g_strdup (token);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) json_object_unref);
  self->healthy = TRUE;
  g_cond_init (&self->cond);
  mpire_fork_guard_add (self->context);
  self->thread = g_thread_new ("mpire-dashboard-push", client_thread, self);

  g_mutex_lock (&client_lock);
  g_atomic_int_set (&client_pid, (gint) getpid ());
  old = client;
  client = self;
  g_mutex_unlock (&client_lock);
  if (old != NULL)
    client_free (old);
  return TRUE;
}

gboolean
mpire_dashboard_client_is_connected (void)
{
  gboolean connected;

  if (g_atomic_int_get (&client_pid) != (gint) getpid ())
    return FALSE;
  g_mutex_lock (&client_lock);
  connected = client != NULL;
  g_mutex_unlock (&client_lock);
  return connected;
}

/* Any thread: @map's state is to be sent (a copy is kept). */
void
mpire_dashboard_client_post (JsonObject *map)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), map);
  g_autoptr(JsonNode) copy = json_node_copy (node);

  g_mutex_lock (&client_lock);
  if (client != NULL && (g_hash_table_size (client->pending) < MAX_PENDING ||
                         g_hash_table_contains (client->pending,
                                                json_object_get_string_member (map, "key"))))
    {
      g_hash_table_replace (client->pending,
                            g_strdup (json_object_get_string_member (map, "key")),
                            json_node_dup_object (copy));
      schedule_locked (client);
    }
  g_mutex_unlock (&client_lock);
}

/* Any thread: sends what is pending now and waits until it is sent, at
 * most @timeout_usec, and not at all while the dashboard does not
 * answer. */
void
mpire_dashboard_client_flush (gint64 timeout_usec)
{
  gint64 end = g_get_monotonic_time () + timeout_usec;

  g_mutex_lock (&client_lock);
  if (client != NULL && client->healthy)
    {
      Client *self = client;

      if (!self->in_flight)
        {
          self->next_send = 0;
          if (self->timer != NULL)
            {
              g_source_destroy (self->timer);
              g_clear_pointer (&self->timer, g_source_unref);
            }
          schedule_locked (self);
        }
      self->flushers++;
      while (client == self && self->healthy &&
             (self->in_flight || g_hash_table_size (self->pending) > 0))
        if (!g_cond_wait_until (&self->cond, &client_lock, end))
          break;
      self->flushers--;
    }
  g_mutex_unlock (&client_lock);
}

void
mpire_dashboard_client_disconnect (void)
{
  Client *old;

  mpire_dashboard_client_flush (G_USEC_PER_SEC);
  g_mutex_lock (&client_lock);
  old = g_steal_pointer (&client);
  g_mutex_unlock (&client_lock);
  if (old != NULL)
    client_free (old);
}
