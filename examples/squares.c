/* squares.c: map a task over worker processes and watch it progress
 *
 * Usage: squares [OPTION…] [N_TASKS [START_METHOD [STYLE]]]
 * (`squares --help` lists the options; the positional form is the
 * demo's: `squares 500 fork rich`.)
 *
 * SPDX-License-Identifier: MIT
 */

#include <locale.h>
#include <stdlib.h>

#include <mpire-glib/mpire.h>

#include "example-options.h"

/* A deliberately slow square, so that progress can be seen. */
static GVariant *
slow_square (MpireWorkerContext  *context,
             GVariant            *args,
             gpointer             user_data,
             GError             **error)
{
  gint64 x = g_variant_get_int64 (args);

  g_usleep (2000);
  return g_variant_new_int64 (x * x);
}

/* @text as a number of tasks, at least 1. */
static gboolean
parse_n_tasks (const char  *text,
               gint64      *n,
               GError     **error)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT32, &value, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "The number of tasks must be a whole number from 1 to %d, not “%s”",
                   G_MAXINT32, text);
      return FALSE;
    }
  *n = (gint64) value;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(MpireTask) task = mpire_task_new ("slow-square", slow_square, NULL, NULL);
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) squares = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *tasks_arg = NULL;
  g_autofree char *method_arg = NULL;
  g_autofree char *style = NULL;
  MpireStartMethod method = MPIRE_START_METHOD_SPAWN;
  gint64 n = 2000, sum = 0;
  gsize n_results;
  const gint64 *values;
  const GOptionEntry entries[] = {
    { "tasks", 'n', 0, G_OPTION_ARG_STRING, &tasks_arg,
      "How many numbers to square (default 2000)", "N" },
    EXAMPLE_START_METHOD_ENTRY (&method_arg),
    { "style", 's', 0, G_OPTION_ARG_STRING, &style,
      "The progress bar's style: std (default) or rich", "STYLE" },
    G_OPTION_ENTRY_NULL
  };

  /* A spawned worker never returns from here: it serves tasks. */
  mpire_init (&argc, &argv);
  setlocale (LC_ALL, "");

  context = g_option_context_new ("[N_TASKS [START_METHOD [STYLE]]]");
  g_option_context_set_summary (context,
                                "Squares numbers on a pool of workers (one per CPU), "
                                "with a progress bar on standard error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto usage;
  /* The positional form, for `squares 500 fork rich`. */
  if (argc > 4)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "Too many arguments: “%s”", argv[4]);
      goto usage;
    }
  if (argc > 1 && tasks_arg == NULL)
    tasks_arg = g_strdup (argv[1]);
  if (argc > 2 && method_arg == NULL)
    method_arg = g_strdup (argv[2]);
  if (argc > 3 && style == NULL)
    style = g_strdup (argv[3]);
  if ((tasks_arg != NULL && !parse_n_tasks (tasks_arg, &n, &error)) ||
      !example_parse_start_method (method_arg, &method, &error))
    goto usage;
  if (style != NULL)
    mpire_map_options_set_progress_bar_style (options, style);

  for (gint64 i = 0; i < n; i++)
    g_variant_builder_add (builder, "x", i);

  pool = mpire_worker_pool_new (0, method);
  /* On standard error: in place on a terminal, plain lines in a log. */
  mpire_map_options_set_progress_bar (options, TRUE);
  mpire_map_options_set_progress_bar_options (options,
                                              g_variant_new_parsed ("{'desc': <'Squaring'>, "
                                                                    "'unit': <'numbers'>, "
                                                                    "'colour': <'green'>}"));
  g_print ("Squaring %" G_GINT64_FORMAT " numbers on %d workers\n", n, mpire_cpu_count ());

  /* Small chunks, so that the bar moves. */
  mpire_map_options_set_chunk_size (options, 10);
  squares = mpire_worker_pool_map (pool, task, g_variant_builder_end (builder), options, NULL, &error);
  if (squares == NULL)
    {
      g_printerr ("Failed: %s\n", error->message);
      return EXIT_FAILURE;
    }

  values = g_variant_get_fixed_array (squares, &n_results, sizeof (gint64));
  for (gsize i = 0; i < n_results; i++)
    {
      if (i < 5 || i == n_results - 1)
        g_print ("%" G_GSIZE_FORMAT "^2 = %" G_GINT64_FORMAT "\n", i, values[i]);
      sum += values[i];
    }

  g_print ("Done: %" G_GSIZE_FORMAT " results, sum of squares %" G_GINT64_FORMAT "\n", n_results, sum);
  return EXIT_SUCCESS;

usage:
  g_printerr ("%s: %s\nRun “%s --help” to see the options.\n",
              g_get_prgname (), error->message, g_get_prgname ());
  return 2;
}
