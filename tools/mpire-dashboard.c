/* mpire-dashboard: starts a dashboard on its own and serves it until
 * SIGINT or SIGTERM, printing its address and token, as MPIRE's
 * `mpire-dashboard` script.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib/gi18n-lib.h>
#include <glib-unix.h>

#include <mpire-glib/mpire.h>

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* "FIRST-LAST", as MPIRE's --port-range. */
static gboolean
parse_range (const char  *text,
             guint       *first,
             guint       *last,
             GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, "-", 2);
  guint64 a, b;

  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXUINT16, &a, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, G_MAXUINT16, &b, NULL) || a > b)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The port range must be FIRST-LAST, two ports from 1 to 65535, the first "
                     "not above the last (not “%s”)"), text);
      return FALSE;
    }
  *first = (guint) a;
  *last = (guint) b;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *range = NULL;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "port-range", 0, 0, G_OPTION_ARG_STRING, &range,
      N_("Ports to try, in order (default: 8080-8099)"), N_("FIRST-LAST") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(MpireDashboard) dashboard = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  guint first = 8080, last = 8099;

  setlocale (LC_ALL, "");
  mpire_init (&argc, &argv);

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Serves a dashboard of the maps of MPIRE pools on 127.0.0.1 "
                                  "until interrupted. Pools in other processes report to it with "
                                  "the address and token it prints."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      (range != NULL && !parse_range (range, &first, &last, &error)))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return 2;
    }
  if (version)
    {
      g_print ("mpire-dashboard %s\n", MPIRE_VERSION_S);
      return 0;
    }

  dashboard = mpire_dashboard_new ();
  mpire_dashboard_set_port_range (dashboard, first, last);
  if (!mpire_dashboard_start (dashboard, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return 1;
    }

  g_print (_("MPIRE dashboard started on %s\n"), mpire_dashboard_get_url (dashboard));
  g_print (_("Token for pools in other processes: %s\n"), mpire_dashboard_get_token (dashboard));
  g_print (_("Connect with mpire_dashboard_connect (\"127.0.0.1\", %u, TOKEN), or in the "
             "environment:\n"), mpire_dashboard_get_port (dashboard));
  g_print ("  export %s=127.0.0.1:%u %s=%s\n", MPIRE_DASHBOARD_ENV,
           mpire_dashboard_get_port (dashboard), MPIRE_DASHBOARD_TOKEN_ENV,
           mpire_dashboard_get_token (dashboard));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);

  mpire_dashboard_stop (dashboard);
  return 0;
}
