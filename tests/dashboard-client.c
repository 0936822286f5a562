/* dashboard-client.c: a program whose pool reports to a dashboard in
 * another process (the two-process and browser tests start it)
 *
 *   dashboard-client [--connect HOST:PORT:TOKEN] [--tasks N] [--nap-ms MS]
 *                    [--desc TEXT] [--fail] [--insights]
 *
 * Without --connect, the dashboard comes from MPIRE_DASHBOARD and
 * MPIRE_DASHBOARD_TOKEN. It runs a map of N naps with the "dashboard"
 * progress bar style, then, with --fail, a map whose task fails on an
 * argument holding a <script> element. Exits 0 when the first map
 * succeeded and the second failed as it should.
 *
 * SPDX-License-Identifier: MIT
 */

#include <stdlib.h>
#include <string.h>

#include <mpire-glib/mpire.h>

static int nap_ms = 5;

static GVariant *
nap (MpireWorkerContext  *ctx,
     GVariant            *args,
     gpointer             user_data,
     GError             **error)
{
  g_usleep (nap_ms * 1000);
  return g_variant_new_int64 (g_variant_get_int64 (args) * 2);
}

static GVariant *
check_text (MpireWorkerContext  *ctx,
            GVariant            *args,
            gpointer             user_data,
            GError             **error)
{
  const char *text = g_variant_get_string (args, NULL);

  g_usleep (nap_ms * 1000);
  if (strstr (text, "<script>") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "refusing <b>markup</b> in “%s”",
                   text);
      return NULL;
    }
  return g_variant_new_int64 ((gint64) strlen (text));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(MpireTask) nap_task = mpire_task_new ("nap", nap, NULL, NULL);
  g_autoptr(MpireTask) check_task = mpire_task_new ("check-text", check_text, NULL, NULL);
  g_autofree char *connect = NULL;
  g_autofree char *desc = NULL;
  int n_tasks = 200;
  gboolean fail = FALSE;
  gboolean insights = FALSE;
  GOptionEntry entries[] = {
    { "connect", 0, 0, G_OPTION_ARG_STRING, &connect, "Dashboard to connect to", "HOST:PORT:TOKEN" },
    { "tasks", 0, 0, G_OPTION_ARG_INT, &n_tasks, "Tasks of the first map", "N" },
    { "nap-ms", 0, 0, G_OPTION_ARG_INT, &nap_ms, "Time a task takes", "MS" },
    { "desc", 0, 0, G_OPTION_ARG_STRING, &desc, "Description of the first map", "TEXT" },
    { "fail", 0, 0, G_OPTION_ARG_NONE, &fail, "Run a failing map too", NULL },
    { "insights", 0, 0, G_OPTION_ARG_NONE, &insights, "Turn the pool's insights on", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  mpire_init (&argc, &argv);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (connect != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (connect, ":", 3);

      if (g_strv_length (parts) != 3 ||
          !mpire_dashboard_connect (parts[0], (guint) atoi (parts[1]), parts[2], &error))
        {
          g_printerr ("connect: %s\n", error != NULL ? error->message : "HOST:PORT:TOKEN");
          return 1;
        }
    }

  pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_THREADING);
  mpire_worker_pool_set_enable_insights (pool, insights);
  for (int i = 0; i < n_tasks; i++)
    g_variant_builder_add (builder, "x", (gint64) i);
  mpire_map_options_set_progress_bar (options, TRUE);
  mpire_map_options_set_progress_bar_style (options, "dashboard");
  mpire_map_options_set_progress_bar_options (options,
    g_variant_new_parsed ("{'desc': <%s>}", desc != NULL ? desc : "Naps in another process"));
  result = mpire_worker_pool_map (pool, nap_task, g_variant_builder_end (builder), options, NULL,
                                  &error);
  if (result == NULL)
    {
      g_printerr ("map: %s\n", error->message);
      return 1;
    }
  g_print ("map: %zu results\n", g_variant_n_children (result));

  if (fail)
    {
      const char *texts[] = {
        "plain", "text",
        "<script>window.pwned = true</script><img src=x onerror=\"window.pwned = true\">",
        "more"
      };
      g_autoptr(GVariant) failed = NULL;

      mpire_map_options_set_progress_bar_options (options,
        g_variant_new_parsed ("{'desc': <'<b>Checking</b> texts'>}"));
      failed = mpire_worker_pool_map (pool, check_task,
                                      g_variant_new_strv (texts, G_N_ELEMENTS (texts)),
                                      options, NULL, &error);
      if (failed != NULL || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
        {
          g_printerr ("the failing map did not fail as it should\n");
          return 1;
        }
      g_print ("failing map: %s\n", error->message);
      g_clear_error (&error);
    }

  mpire_dashboard_disconnect ();
  return 0;
}
