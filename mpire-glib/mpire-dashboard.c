/* mpire-dashboard.c: a web page showing the maps of pools
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mpire-dashboard-client-private.h"
#include "mpire-dashboard-maps-private.h"
#include "mpire-dashboard-private.h"
#include "mpire-dashboard-server-private.h"
#include "mpire-i18n-private.h"

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

/* States: stopped (server == NULL) and started (port, url and token
 * set). The server (mpire-dashboard-server.c) runs in a thread of its
 * own; the maps, which it serves and the pools of this process update,
 * have their own lock. */

struct _MpireDashboard
{
  GObject               parent_instance;

  guint                 first_port;
  guint                 last_port;
  guint                 port;
  char                 *url;
  char                 *token;
  MpireDashboardMaps   *maps;
  MpireDashboardServer *server;
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

/* The started dashboards of this process, which its pools report to.
 * A child forked from it (a FORK worker) has no server thread and may
 * hold the locks in whatever state the fork found them: it reports to
 * none (local_pid is the process that started them). */
static GMutex local_lock;
static GList *local_dashboards;
static gint local_pid;

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
  g_autofree char *token = NULL;

  g_return_val_if_fail (MPIRE_IS_DASHBOARD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->server != NULL)
    return TRUE;

  token = make_token ();
  self->server = mpire_dashboard_server_start (self->maps, self->first_port, self->last_port,
                                               token, error);
  if (self->server == NULL)
    return FALSE;
  self->token = g_steal_pointer (&token);
  self->port = mpire_dashboard_server_get_port (self->server);
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

  if (self->server == NULL)
    return;

  g_mutex_lock (&local_lock);
  local_dashboards = g_list_remove (local_dashboards, self);
  g_mutex_unlock (&local_lock);

  g_clear_pointer (&self->server, mpire_dashboard_server_stop);
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
        mpire_dashboard_server_changed (self->server);
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
