/* test-dashboard.c: the dashboard's JSON API over HTTP on 127.0.0.1
 *
 * Every test talks to a real dashboard through a libsoup client. Ports
 * come from a range of this process's own (from its pid), so that tests
 * running at once elsewhere on the machine do not collide.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <mpire.h>

#include "mpire-dashboard-private.h"
#include "test-util.h"

static MpireTask *nap_task;
static MpireTask *fail_task;
static MpireTask *square_task;
static guint base_port;

static GVariant *
nap (MpireWorkerContext  *ctx,
     GVariant            *args,
     gpointer             user_data,
     GError             **error)
{
  g_usleep (3000);
  return g_variant_new_int64 (g_variant_get_int64 (args));
}

static GVariant *
square (MpireWorkerContext  *ctx,
        GVariant            *args,
        gpointer             user_data,
        GError             **error)
{
  gint64 x = g_variant_get_int64 (args);

  return g_variant_new_int64 (x * x);
}

/* Fails on the argument holding a <script> element. */
static GVariant *
fail_on_script (MpireWorkerContext  *ctx,
                GVariant            *args,
                gpointer             user_data,
                GError             **error)
{
  const char *text = g_variant_get_string (args, NULL);

  if (strstr (text, "<script>") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no scripts please");
      return NULL;
    }
  return g_variant_new_int64 ((gint64) strlen (text));
}

/* ---- HTTP --------------------------------------------------------------- */

typedef struct
{
  guint     status;
  char     *body;
  JsonNode *json;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->body, g_free);
  g_clear_pointer (&reply->json, json_node_unref);
}

static Reply
request (const char *method,
         const char *url,
         const char *token,
         const char *body,
         gsize       length)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 10, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Reply reply = { 0 };

  g_assert_nonnull (msg);
  if (token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) request_body = g_bytes_new (body, length);

      soup_message_set_request_body_from_bytes (msg, "application/json", request_body);
    }
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  reply.status = soup_message_get_status (msg);
  reply.body = g_bytes_get_size (bytes) > 0
    ? g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)) : g_strdup ("");
  if (json_parser_load_from_data (parser, reply.body, -1, NULL) &&
      json_parser_get_root (parser) != NULL)
    reply.json = json_node_copy (json_parser_get_root (parser));
  return reply;
}

static Reply
get (MpireDashboard *dashboard,
     const char     *path)
{
  g_autofree char *url = g_strconcat (mpire_dashboard_get_url (dashboard), path, NULL);

  return request (SOUP_METHOD_GET, url, NULL, NULL, 0);
}

static Reply
push (MpireDashboard *dashboard,
      const char     *token,
      const char     *body)
{
  g_autofree char *url = g_strconcat (mpire_dashboard_get_url (dashboard), "api/push", NULL);

  return request (SOUP_METHOD_POST, url, token, body, strlen (body));
}

/* The maps of GET /api/maps. */
static JsonArray *
list_maps (MpireDashboard *dashboard)
{
  Reply reply = get (dashboard, "api/maps");
  JsonArray *maps;

  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_nonnull (reply.json);
  maps = json_array_ref (json_object_get_array_member (json_node_get_object (reply.json),
                                                       "maps"));
  reply_clear (&reply);
  return maps;
}

static MpireDashboard *
start_dashboard (guint offset)
{
  MpireDashboard *dashboard = mpire_dashboard_new ();
  g_autoptr(GError) error = NULL;

  mpire_dashboard_set_port_range (dashboard, base_port + offset, base_port + offset + 4);
  g_assert_true (mpire_dashboard_start (dashboard, &error));
  g_assert_no_error (error);
  return dashboard;
}

/* A listening socket on 127.0.0.1:@port, or %NULL if it is taken. */
static GSocketListener *
occupy (guint port)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&listener);
}

/* ---- the server --------------------------------------------------------- */

static void
test_start (void)
{
  g_autoptr(MpireDashboard) dashboard = mpire_dashboard_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  Reply reply;
  guint port;

  g_assert_cmpuint (mpire_dashboard_get_first_port (dashboard), ==, 8080);
  g_assert_cmpuint (mpire_dashboard_get_last_port (dashboard), ==, 8099);
  g_assert_cmpuint (mpire_dashboard_get_port (dashboard), ==, 0);
  g_assert_null (mpire_dashboard_get_url (dashboard));
  g_assert_null (mpire_dashboard_get_token (dashboard));

  mpire_dashboard_set_port_range (dashboard, base_port, base_port + 4);
  g_assert_true (mpire_dashboard_start (dashboard, &error));
  g_assert_no_error (error);
  port = mpire_dashboard_get_port (dashboard);
  g_assert_cmpuint (port, >=, base_port);
  g_assert_cmpuint (port, <=, base_port + 4);
  url = g_strdup_printf ("http://127.0.0.1:%u/", port);
  g_assert_cmpstr (mpire_dashboard_get_url (dashboard), ==, url);
  g_assert_cmpuint (strlen (mpire_dashboard_get_token (dashboard)), ==, 32);

  reply = get (dashboard, "api/info");
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (reply.json), "port"), ==,
                   port);
  reply_clear (&reply);

  reply = get (dashboard, "");
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_nonnull (strstr (reply.body, "<title>MPIRE dashboard</title>"));
  reply_clear (&reply);
  reply = get (dashboard, "dashboard.js");
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_nonnull (strstr (reply.body, "textContent"));
  reply_clear (&reply);
  reply = get (dashboard, "nothing-here");
  g_assert_cmpuint (reply.status, ==, 404);
  reply_clear (&reply);

  /* Stopped, the port is free again and the token is gone. */
  mpire_dashboard_stop (dashboard);
  g_assert_cmpuint (mpire_dashboard_get_port (dashboard), ==, 0);
  g_assert_null (mpire_dashboard_get_token (dashboard));
  g_object_unref (occupy (port));
}

/* Only the loopback interface: a request naming another host is
 * refused (DNS rebinding). */
static void
test_host_checked (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (0);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (mpire_dashboard_get_url (dashboard), "api/maps", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GBytes) bytes = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Host",
                                "evil.example:80");
  bytes = soup_session_send_and_read (session, msg, NULL, NULL);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 403);
}

static void
test_port_busy (void)
{
  g_autoptr(GSocketListener) taken = occupy (base_port + 10);
  g_autoptr(MpireDashboard) dashboard = mpire_dashboard_new ();
  g_autoptr(GError) error = NULL;

  mpire_dashboard_set_port_range (dashboard, base_port + 10, base_port + 12);
  g_assert_true (mpire_dashboard_start (dashboard, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mpire_dashboard_get_port (dashboard), ==, base_port + 11);
}

static void
test_port_range_full (void)
{
  g_autoptr(GSocketListener) first = occupy (base_port + 15);
  g_autoptr(GSocketListener) second = occupy (base_port + 16);
  g_autoptr(MpireDashboard) dashboard = mpire_dashboard_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *range = g_strdup_printf ("from %u to %u", base_port + 15, base_port + 16);

  mpire_dashboard_set_port_range (dashboard, base_port + 15, base_port + 16);
  g_assert_false (mpire_dashboard_start (dashboard, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_assert_nonnull (strstr (error->message, range));
  g_assert_cmpuint (mpire_dashboard_get_port (dashboard), ==, 0);
  g_assert_null (mpire_dashboard_get_url (dashboard));
}

/* ---- pushes ------------------------------------------------------------- */

static const char good_push[] =
  "{\"maps\": [{\"key\": \"elsewhere:1\", \"description\": \"pushed\", \"task\": \"t\","
  " \"status\": \"running\", \"done\": 5, \"total\": 20, \"rate\": 2.5, \"eta\": 6,"
  " \"start_time\": 1700000000.5}]}";

static void
test_push_token (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (20);
  g_autofree char *url = g_strconcat (mpire_dashboard_get_url (dashboard), "api/push", NULL);
  Reply reply;

  reply = push (dashboard, NULL, good_push);
  g_assert_cmpuint (reply.status, ==, 403);
  reply_clear (&reply);
  reply = push (dashboard, "0123456789abcdef0123456789abcdef", good_push);
  g_assert_cmpuint (reply.status, ==, 403);
  reply_clear (&reply);
  reply = push (dashboard, "", good_push);
  g_assert_cmpuint (reply.status, ==, 403);
  reply_clear (&reply);
  reply = request (SOUP_METHOD_GET, url, mpire_dashboard_get_token (dashboard), NULL, 0);
  g_assert_cmpuint (reply.status, ==, 405);
  reply_clear (&reply);
  {
    g_autofree char *below = g_strconcat (url, "/below", NULL);

    reply = request (SOUP_METHOD_POST, below, mpire_dashboard_get_token (dashboard), good_push,
                     strlen (good_push));
    g_assert_cmpuint (reply.status, ==, 404);
    reply_clear (&reply);
  }
  {
    g_autoptr(JsonArray) maps = list_maps (dashboard);

    g_assert_cmpuint (json_array_get_length (maps), ==, 0);
  }

  reply = push (dashboard, mpire_dashboard_get_token (dashboard), good_push);
  g_assert_cmpuint (reply.status, ==, 204);
  reply_clear (&reply);
  g_assert_cmpuint (mpire_dashboard_get_n_pushes (dashboard), ==, 1);
}

static void
test_push_bad_json (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (25);
  const char *token = mpire_dashboard_get_token (dashboard);
  const char *bad[] = {
    "",
    "{",
    "not json",
    "[]",
    "{\"maps\": 3}",
    "{\"maps\": [3]}",
    "{\"maps\": [{}]}",
    "{\"maps\": [{\"key\": 7}]}",
    "{\"maps\": [{\"key\": \"k\", \"done\": -1}]}",
    "{\"maps\": [{\"key\": \"k\", \"done\": \"many\"}]}",
    "{\"maps\": [{\"key\": \"k\", \"status\": \"exploded\"}]}",
    "{\"maps\": [{\"key\": \"k\", \"error\": {\"code\": 1}}]}",
    "{\"maps\": [{\"key\": \"k\", \"workers\": {\"started\": 1}}]}",
    "{\"maps\": [{\"key\": \"k\", \"rate\": -3}]}",
    "{\"maps\": [{\"key\": \"good\"}, {\"key\": \"bad\", \"total\": 1.5}]}",
  };
  g_autoptr(GString) deep = g_string_new ("{\"maps\": [{\"key\": \"k\", \"insights\": {\"a\": ");

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      Reply reply = push (dashboard, token, bad[i]);

      g_test_message ("%s -> %u %s", bad[i], reply.status, reply.body);
      g_assert_cmpuint (reply.status, ==, 400);
      g_assert_nonnull (reply.json);
      g_assert_true (json_object_has_member (json_node_get_object (reply.json), "error"));
      reply_clear (&reply);
    }

  /* Nested deeper than any parser's stack should go. */
  for (int i = 0; i < 200000; i++)
    g_string_append_c (deep, '[');
  {
    Reply reply = push (dashboard, token, deep->str);

    g_assert_cmpuint (reply.status, ==, 400);
    reply_clear (&reply);
  }

  /* Nothing of it was taken, and the server still serves. */
  {
    g_autoptr(JsonArray) maps = list_maps (dashboard);

    g_assert_cmpuint (json_array_get_length (maps), ==, 0);
  }
}

static void
test_push_too_large (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (30);
  gsize size = 2 * 1024 * 1024;
  g_autofree char *body = g_malloc (size + 1);
  Reply reply;

  memset (body, ' ', size);
  body[size] = '\0';
  memcpy (body, good_push, strlen (good_push));
  reply = push (dashboard, mpire_dashboard_get_token (dashboard), body);
  g_assert_cmpuint (reply.status, ==, 413);
  reply_clear (&reply);

  /* Still serving, nothing taken. */
  {
    g_autoptr(JsonArray) maps = list_maps (dashboard);

    g_assert_cmpuint (json_array_get_length (maps), ==, 0);
  }
  reply = push (dashboard, mpire_dashboard_get_token (dashboard), good_push);
  g_assert_cmpuint (reply.status, ==, 204);
  reply_clear (&reply);
}

static void
test_push_merge (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (35);
  const char *token = mpire_dashboard_get_token (dashboard);
  g_autoptr(JsonArray) maps = NULL;
  JsonObject *map;
  Reply reply;

  reply = push (dashboard, token, good_push);
  g_assert_cmpuint (reply.status, ==, 204);
  reply_clear (&reply);
  reply = push (dashboard, token,
                "{\"maps\": [{\"key\": \"elsewhere:1\", \"done\": 20, \"status\": \"failed\","
                " \"error\": {\"domain\": \"d\", \"code\": 3, \"message\": \"<b>bad</b>\"},"
                " \"failed_args\": \"'<script>x</script>'\", \"insights\": {\"total_time\": 1.5},"
                " \"some_future_field\": true}]}");
  g_assert_cmpuint (reply.status, ==, 204);
  reply_clear (&reply);

  maps = list_maps (dashboard);
  g_assert_cmpuint (json_array_get_length (maps), ==, 1);
  map = json_array_get_object_element (maps, 0);
  g_assert_cmpint (json_object_get_int_member (map, "id"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (map, "description"), ==, "pushed");
  g_assert_cmpint (json_object_get_int_member (map, "done"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (map, "total"), ==, 20);
  g_assert_cmpfloat (json_object_get_double_member (map, "percent"), ==, 100.0);
  g_assert_cmpstr (json_object_get_string_member (map, "status"), ==, "failed");
  g_assert_true (json_object_get_boolean_member (map, "has_insights"));
  g_assert_false (json_object_has_member (map, "insights"));
  g_assert_false (json_object_has_member (map, "some_future_field"));

  reply = get (dashboard, "api/maps/1");
  g_assert_cmpuint (reply.status, ==, 200);
  map = json_node_get_object (reply.json);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (map, "error"),
                                                  "message"), ==, "<b>bad</b>");
  g_assert_cmpstr (json_object_get_string_member (map, "failed_args"), ==,
                   "'<script>x</script>'");
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (map,
                                                                                  "insights"),
                                                    "total_time"), ==, 1.5);
  reply_clear (&reply);

  reply = get (dashboard, "api/maps/1/insights");
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (reply.json),
                                                    "total_time"), ==, 1.5);
  reply_clear (&reply);

  for (gsize i = 0; i < 3; i++)
    {
      const char *missing[] = { "api/maps/2", "api/maps/x", "api/maps/1/other" };

      reply = get (dashboard, missing[i]);
      g_assert_cmpuint (reply.status, ==, 404);
      reply_clear (&reply);
    }
}

/* Garbage of every kind: a 400 each time, and the server still serves. */
static void
test_push_garbage (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (75);
  const char *token = mpire_dashboard_get_token (dashboard);
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);

  for (int i = 0; i < 200; i++)
    {
      gsize length = g_rand_int_range (rand, 1, 4096);
      g_autofree char *body = g_malloc (length + 1);
      g_autofree char *url = g_strconcat (mpire_dashboard_get_url (dashboard), "api/push", NULL);
      Reply reply;

      for (gsize j = 0; j < length; j++)
        body[j] = (char) g_rand_int_range (rand, 1, 256);
      /* Half of them start like a push. */
      if (i % 2 == 0 && length > 20)
        memcpy (body, "{\"maps\": [{\"key\": \"", 18);
      body[length] = '\0';
      reply = request (SOUP_METHOD_POST, url, token, body, length);
      g_assert_cmpuint (reply.status, ==, 400);
      reply_clear (&reply);
    }
  {
    g_autoptr(JsonArray) maps = list_maps (dashboard);

    g_assert_cmpuint (json_array_get_length (maps), ==, 0);
  }
}

/* Reads the next Server-Sent Event: its name and its data. */
static char *
read_event (GDataInputStream  *in,
            char             **data)
{
  g_autofree char *event = NULL;
  g_autoptr(GError) error = NULL;
  char *line;

  *data = NULL;
  while ((line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &error)) != NULL)
    {
      if (g_str_has_prefix (line, "event: "))
        {
          g_free (event);
          event = g_strdup (line + strlen ("event: "));
        }
      else if (g_str_has_prefix (line, "data: "))
        {
          g_free (*data);
          *data = g_strdup (line + strlen ("data: "));
        }
      else if (*line == '\0' && event != NULL)
        {
          g_free (line);
          return g_steal_pointer (&event);
        }
      g_free (line);
    }
  g_assert_no_error (error);
  return NULL;
}

/* /api/events: all the maps on connecting, then each change. */
static void
test_events (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (80);
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 10, NULL);
  g_autofree char *url = g_strconcat (mpire_dashboard_get_url (dashboard), "api/events", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *event = NULL;
  g_autofree char *data = NULL;
  Reply reply;

  reply = push (dashboard, mpire_dashboard_get_token (dashboard), good_push);
  g_assert_cmpuint (reply.status, ==, 204);
  reply_clear (&reply);

  stream = soup_session_send (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (msg),
                                                          NULL), ==, "text/event-stream");
  in = g_data_input_stream_new (stream);

  event = read_event (in, &data);
  g_assert_cmpstr (event, ==, "maps");
  g_assert_nonnull (strstr (data, "\"description\":\"pushed\""));
  g_clear_pointer (&event, g_free);
  g_clear_pointer (&data, g_free);

  reply = push (dashboard, mpire_dashboard_get_token (dashboard),
                "{\"maps\": [{\"key\": \"elsewhere:1\", \"done\": 19}]}");
  g_assert_cmpuint (reply.status, ==, 204);
  reply_clear (&reply);
  event = read_event (in, &data);
  g_assert_cmpstr (event, ==, "map");
  g_assert_nonnull (strstr (data, "\"done\":19"));

  /* Stopping ends the stream. */
  mpire_dashboard_stop (dashboard);
  g_clear_pointer (&event, g_free);
  g_clear_pointer (&data, g_free);
  event = read_event (in, &data);
  g_assert_null (event);
}

/* ---- maps of this process ----------------------------------------------- */

static void
map_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  GVariant **out = data;
  g_autoptr(GError) error = NULL;

  *out = mpire_worker_pool_map_finish (MPIRE_WORKER_POOL (source), result, &error);
  g_assert_no_error (error);
}

/* Finds the map whose description is @description, or NULL. */
static JsonObject *
find_map (JsonArray  *maps,
          const char *description)
{
  for (guint i = 0; i < json_array_get_length (maps); i++)
    {
      JsonObject *map = json_array_get_object_element (maps, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (map, "description", NULL),
                     description) == 0)
        return map;
    }
  return NULL;
}

/* A map in this process shows up by itself, with its progress rising
 * while it runs, and completed at the end. */
static void
test_local_map (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (40);
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_THREADING);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) result = NULL;
  g_autoptr(JsonArray) maps = NULL;
  gint64 last_request = 0;
  gint64 seen_running = -1;
  JsonObject *map;

  mpire_map_options_set_progress_bar (options, TRUE);
  mpire_map_options_set_progress_bar_style (options, "dashboard");
  mpire_map_options_set_progress_bar_options (options,
                                              g_variant_new_parsed ("{'desc': <'Napping'>}"));
  mpire_map_options_set_chunk_size (options, 2);
  mpire_worker_pool_map_async (pool, nap_task, range_variant (300), options, NULL, map_done_cb,
                               &result);
  while (result == NULL)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () - last_request > 50000)
        {
          g_autoptr(JsonArray) running = list_maps (dashboard);

          last_request = g_get_monotonic_time ();
          map = find_map (running, "Napping");
          if (map != NULL && g_str_equal (json_object_get_string_member (map, "status"), "running"))
            {
              gint64 done = json_object_get_int_member (map, "done");

              g_assert_cmpint (done, >=, MAX (seen_running, 0));
              g_assert_cmpint (json_object_get_int_member (map, "total"), ==, 300);
              seen_running = done;
            }
        }
      g_usleep (1000);
    }
  g_assert_cmpint (seen_running, >=, 0);
  g_assert_cmpint (seen_running, <, 300);

  maps = list_maps (dashboard);
  map = find_map (maps, "Napping");
  g_assert_nonnull (map);
  g_assert_cmpstr (json_object_get_string_member (map, "status"), ==, "completed");
  g_assert_cmpstr (json_object_get_string_member (map, "task"), ==, "nap");
  g_assert_cmpstr (json_object_get_string_member (map, "start_method"), ==, "threading");
  g_assert_cmpint (json_object_get_int_member (map, "done"), ==, 300);
  g_assert_cmpfloat (json_object_get_double_member (map, "percent"), ==, 100.0);
  g_assert_cmpfloat (json_object_get_double_member (map, "rate"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (map, "end_time"), >=,
                     json_object_get_double_member (map, "start_time"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (map, "workers"),
                                               "started"), ==, 2);
}

/* A failed map shows its error and the failing task's arguments, and
 * insights when the pool has them on. */
static void
test_local_failed_map (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (45);
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (1, MPIRE_START_METHOD_THREADING);
  const char *texts[] = { "a", "bb", "<script>alert(1)</script>", "dddd" };
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) maps = NULL;
  g_autofree char *path = NULL;
  JsonObject *map, *map_error;
  Reply reply;

  mpire_worker_pool_set_enable_insights (pool, TRUE);
  result = mpire_worker_pool_map (pool, fail_task, g_variant_new_strv (texts, 4), NULL, NULL,
                                  &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  maps = list_maps (dashboard);
  map = find_map (maps, "fail-on-script");
  g_assert_nonnull (map);
  g_assert_cmpstr (json_object_get_string_member (map, "status"), ==, "failed");
  g_assert_true (json_object_get_boolean_member (map, "has_insights"));

  path = g_strdup_printf ("api/maps/%" G_GINT64_FORMAT, json_object_get_int_member (map, "id"));
  reply = get (dashboard, path);
  g_assert_cmpuint (reply.status, ==, 200);
  map = json_node_get_object (reply.json);
  map_error = json_object_get_object_member (map, "error");
  g_assert_nonnull (strstr (json_object_get_string_member (map_error, "message"),
                            "no scripts please"));
  g_assert_cmpstr (json_object_get_string_member (map_error, "domain"), ==, "g-io-error-quark");
  g_assert_cmpint (json_object_get_int_member (map_error, "code"), ==, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (json_object_get_string_member (map, "failed_args"), ==,
                   "'<script>alert(1)</script>'");
  g_assert_true (json_object_has_member (json_object_get_object_member (map, "insights"),
                                         "total_time"));
  reply_clear (&reply);
}

/* Without a dashboard, nothing is reported and nothing is in the way. */
static void
test_no_dashboard (void)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (1, MPIRE_START_METHOD_THREADING);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  mpire_map_options_set_progress_bar (options, TRUE);
  mpire_map_options_set_progress_bar_style (options, "dashboard");
  result = mpire_worker_pool_map (pool, square_task, range_variant (10), options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (result), ==, 10);
  g_assert_null (g_object_get_data (G_OBJECT (pool), "mpire-dashboard-reporter"));
}

/* A child forked from a process with a dashboard (a FORK worker) has no
 * server thread: its pools report to none. */
static void
test_forked_child (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (65);
  int status = 0;
  pid_t pid;

  g_assert_true (mpire_dashboard_has_local ());
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (mpire_dashboard_has_local () ? 1 : 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* ---- connecting --------------------------------------------------------- */

static void
test_connect_errors (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (50);
  g_autoptr(GError) error = NULL;

  g_assert_false (mpire_dashboard_connect ("127.0.0.1", mpire_dashboard_get_port (dashboard),
                                           "wrong", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  /* Nobody listens on the port below the range. */
  g_assert_false (mpire_dashboard_connect ("127.0.0.1", base_port + 49, "x", &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  g_assert_false (mpire_dashboard_connect ("no host", 80, "x", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* Pushes are batched: a map of many tiny tasks sends a few a second,
 * however many tasks it has. */
static void
test_connect_rate_limited (void)
{
  g_autoptr(MpireDashboard) dashboard = start_dashboard (55);
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_THREADING);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  double seconds;
  guint64 pushes;

  g_assert_true (mpire_dashboard_connect ("127.0.0.1", mpire_dashboard_get_port (dashboard),
                                          mpire_dashboard_get_token (dashboard), &error));
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  result = mpire_worker_pool_map (pool, square_task, range_variant (1000000), NULL, NULL, &error);
  g_assert_no_error (error);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  mpire_dashboard_disconnect ();

  pushes = mpire_dashboard_get_n_pushes (dashboard);
  g_test_message ("1,000,000 tasks in %.2f s: %" G_GUINT64_FORMAT " pushes", seconds, pushes);
  /* The connection check, one every 250 ms, the last, and some slack. */
  g_assert_cmpuint (pushes, >=, 2);
  g_assert_cmpuint (pushes, <=, 4 + (guint64) (seconds * 4));
}

/* A dashboard that went away costs a warning, not the map. */
static void
test_connect_gone (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(MpireDashboard) dashboard = start_dashboard (60);
      g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_THREADING);
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GError) error = NULL;
      gint64 start;

      /* The warning is expected here, not fatal. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      g_assert_true (mpire_dashboard_connect ("127.0.0.1", mpire_dashboard_get_port (dashboard),
                                              mpire_dashboard_get_token (dashboard), &error));
      mpire_dashboard_stop (dashboard);
      start = g_get_monotonic_time ();
      for (int i = 0; i < 3; i++)
        {
          g_clear_pointer (&result, g_variant_unref);
          result = mpire_worker_pool_map (pool, nap_task, range_variant (100), NULL, NULL,
                                          &error);
          g_assert_no_error (error);
          g_assert_cmpuint (g_variant_n_children (result), ==, 100);
        }
      /* 3 x 100 naps of 3 ms on 2 workers: about half a second; no
       * wait on the missing dashboard. */
      g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
      mpire_dashboard_disconnect ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*WARNING*The dashboard at http://127.0.0.1:*cannot be reached*");
}

/* A dashboard restarted (a new token) refuses the pushes: a warning,
 * and the maps go on. */
static void
test_connect_refused (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(MpireDashboard) dashboard = start_dashboard (85);
      g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_THREADING);
      g_autoptr(GError) error = NULL;
      guint port = mpire_dashboard_get_port (dashboard);

      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      g_assert_true (mpire_dashboard_connect ("127.0.0.1", port,
                                              mpire_dashboard_get_token (dashboard), &error));
      mpire_dashboard_stop (dashboard);
      mpire_dashboard_set_port_range (dashboard, port, port);
      g_assert_true (mpire_dashboard_start (dashboard, &error));
      for (int i = 0; i < 3; i++)
        {
          g_autoptr(GVariant) result = mpire_worker_pool_map (pool, nap_task, range_variant (100),
                                                              NULL, NULL, &error);

          g_assert_no_error (error);
        }
      /* It took none of them: its one push is the check of connect(),
       * before the restart. */
      g_assert_cmpuint (mpire_dashboard_get_n_pushes (dashboard), ==, 1);
      mpire_dashboard_disconnect ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*WARNING*The dashboard at http://127.0.0.1:*refused an update "
                             "(HTTP status 403)*");
}

/* ---- two processes ------------------------------------------------------ */

typedef struct
{
  GSubprocess *process;
  guint        port;
  char        *token;
} Tool;

/* Starts the mpire-dashboard command and reads its address and token. */
static gboolean
tool_start (Tool    *tool,
            guint    first,
            guint    last)
{
  const char *path = g_getenv ("MPIRE_DASHBOARD_TOOL");
  g_autofree char *range = g_strdup_printf ("%u-%u", first, last);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  char *line;

  if (path == NULL)
    return FALSE;
  tool->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, path, "--port-range",
                                    range, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (tool->process));
  while ((line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error)) != NULL)
    {
      const char *url = strstr (line, "http://127.0.0.1:");
      const char *token = strstr (line, "MPIRE_DASHBOARD_TOKEN=");

      g_test_message ("mpire-dashboard: %s", line);
      if (url != NULL && tool->port == 0)
        tool->port = (guint) g_ascii_strtoull (url + strlen ("http://127.0.0.1:"), NULL, 10);
      if (token != NULL)
        {
          tool->token = g_strdup (token + strlen ("MPIRE_DASHBOARD_TOKEN="));
          g_free (line);
          break;
        }
      g_free (line);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (tool->port, >=, first);
  g_assert_cmpuint (tool->port, <=, last);
  g_assert_nonnull (tool->token);
  return TRUE;
}

static void
tool_stop (Tool *tool)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (tool->process, SIGTERM);
  g_assert_true (g_subprocess_wait (tool->process, NULL, &error));
  g_assert_no_error (error);
  /* SIGTERM is a clean stop. */
  g_assert_true (g_subprocess_get_if_exited (tool->process));
  g_assert_cmpint (g_subprocess_get_exit_status (tool->process), ==, 0);
  g_clear_object (&tool->process);
  g_free (tool->token);
}

static void
run_client (const char * const *argv,
            const char         *env_address,
            const char         *env_token)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GSubprocess) client = NULL;
  g_autoptr(GError) error = NULL;

  if (env_address != NULL)
    {
      g_subprocess_launcher_setenv (launcher, MPIRE_DASHBOARD_ENV, env_address, TRUE);
      g_subprocess_launcher_setenv (launcher, MPIRE_DASHBOARD_TOKEN_ENV, env_token, TRUE);
    }
  client = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (client, NULL, &error));
  g_assert_no_error (error);
}

static JsonArray *
tool_maps (Tool *tool)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/maps", tool->port);
  Reply reply = request (SOUP_METHOD_GET, url, NULL, NULL, 0);
  JsonArray *maps;

  g_assert_cmpuint (reply.status, ==, 200);
  maps = json_array_ref (json_object_get_array_member (json_node_get_object (reply.json),
                                                       "maps"));
  reply_clear (&reply);
  return maps;
}

static void
test_two_processes (void)
{
  const char *client = g_getenv ("MPIRE_DASHBOARD_CLIENT");
  g_autofree char *connect = NULL;
  g_autofree char *address = NULL;
  g_autoptr(JsonArray) maps = NULL;
  Tool tool = { 0 };
  JsonObject *map;

  if (client == NULL || !tool_start (&tool, base_port + 70, base_port + 74))
    {
      g_test_skip ("MPIRE_DASHBOARD_TOOL and MPIRE_DASHBOARD_CLIENT are not set");
      return;
    }

  /* Connected by mpire_dashboard_connect(). */
  connect = g_strdup_printf ("127.0.0.1:%u:%s", tool.port, tool.token);
  {
    const char *argv[] = { client, "--connect", connect, "--tasks", "100", "--desc", "Connected",
                           "--fail", NULL };

    run_client (argv, NULL, NULL);
  }
  /* Connected by the environment. */
  address = g_strdup_printf ("127.0.0.1:%u", tool.port);
  {
    const char *argv[] = { client, "--tasks", "50", "--desc", "From the environment", NULL };

    run_client (argv, address, tool.token);
  }

  maps = tool_maps (&tool);
  g_assert_cmpuint (json_array_get_length (maps), ==, 3);
  map = find_map (maps, "Connected");
  g_assert_nonnull (map);
  g_assert_cmpstr (json_object_get_string_member (map, "status"), ==, "completed");
  g_assert_cmpint (json_object_get_int_member (map, "done"), ==, 100);
  g_assert_cmpint (json_object_get_int_member (map, "pid"), !=, getpid ());
  map = find_map (maps, "<b>Checking</b> texts");
  g_assert_nonnull (map);
  g_assert_cmpstr (json_object_get_string_member (map, "status"), ==, "failed");
  map = find_map (maps, "From the environment");
  g_assert_nonnull (map);
  g_assert_cmpstr (json_object_get_string_member (map, "status"), ==, "completed");
  g_assert_cmpint (json_object_get_int_member (map, "done"), ==, 50);

  tool_stop (&tool);
}

static void
test_tool_options (void)
{
  const char *path = g_getenv ("MPIRE_DASHBOARD_TOOL");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (path == NULL)
    {
      g_test_skip ("MPIRE_DASHBOARD_TOOL is not set");
      return;
    }
  {
    const char *argv[] = { path, "--version", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                 &err, &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_true (g_str_has_prefix (out, "mpire-dashboard 0."));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { path, "--help", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                 &err, &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "--port-range"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { path, "--port-range", "9000-8000", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                 &err, &status, &error));
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "9000-8000"));
  }
}

int
main (int    argc,
      char **argv)
{
  nap_task = mpire_task_new ("nap", nap, NULL, NULL);
  fail_task = mpire_task_new ("fail-on-script", fail_on_script, NULL, NULL);
  square_task = mpire_task_new ("square", square, NULL, NULL);
  mpire_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  /* Below the kernel's ephemeral ports (32768 and up), which a client
   * connection may hold. */
  base_port = 21000 + (guint) (getpid () % 500) * 20;
  /* The environment names no dashboard for this process. */
  g_unsetenv (MPIRE_DASHBOARD_ENV);

  g_test_add_func ("/mpire/dashboard/start", test_start);
  g_test_add_func ("/mpire/dashboard/host-checked", test_host_checked);
  g_test_add_func ("/mpire/dashboard/port-range/busy-port-skipped", test_port_busy);
  g_test_add_func ("/mpire/dashboard/port-range/full", test_port_range_full);
  g_test_add_func ("/mpire/dashboard/push/token", test_push_token);
  g_test_add_func ("/mpire/dashboard/push/bad-json", test_push_bad_json);
  g_test_add_func ("/mpire/dashboard/push/too-large", test_push_too_large);
  g_test_add_func ("/mpire/dashboard/push/merge", test_push_merge);
  g_test_add_func ("/mpire/dashboard/push/garbage", test_push_garbage);
  g_test_add_func ("/mpire/dashboard/events", test_events);
  g_test_add_func ("/mpire/dashboard/local/map", test_local_map);
  g_test_add_func ("/mpire/dashboard/local/failed-map", test_local_failed_map);
  g_test_add_func ("/mpire/dashboard/local/none", test_no_dashboard);
  g_test_add_func ("/mpire/dashboard/local/forked-child", test_forked_child);
  g_test_add_func ("/mpire/dashboard/connect/errors", test_connect_errors);
  g_test_add_func ("/mpire/dashboard/connect/rate-limited", test_connect_rate_limited);
  g_test_add_func ("/mpire/dashboard/connect/gone", test_connect_gone);
  g_test_add_func ("/mpire/dashboard/connect/refused", test_connect_refused);
  g_test_add_func ("/mpire/dashboard/tool/options", test_tool_options);
  g_test_add_func ("/mpire/dashboard/two-processes", test_two_processes);

  return g_test_run ();
}
