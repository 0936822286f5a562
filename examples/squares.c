/* squares.c: map a task over worker processes and watch it progress
 *
 * Usage: squares [N_TASKS] [spawn|fork|forkserver|threading] [std|rich]
 *
 * SPDX-License-Identifier: MIT
 */

#include <locale.h>
#include <stdlib.h>

#include <mpire-glib/mpire.h>

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

int
main (int argc, char **argv)
{
  g_autoptr(MpireTask) task = mpire_task_new ("slow-square", slow_square, NULL, NULL);
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) squares = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  MpireStartMethod method = MPIRE_START_METHOD_SPAWN;
  gint64 n = 2000, sum = 0;
  gsize n_results;
  const gint64 *values;

  mpire_init (&argc, &argv);
  setlocale (LC_ALL, "");

  if (argc > 1)
    n = g_ascii_strtoll (argv[1], NULL, 10);
  if (argc > 2 && g_str_equal (argv[2], "fork"))
    method = MPIRE_START_METHOD_FORK;
  else if (argc > 2 && g_str_equal (argv[2], "threading"))
    method = MPIRE_START_METHOD_THREADING;
  else if (argc > 2 && g_str_equal (argv[2], "forkserver"))
    method = MPIRE_START_METHOD_FORKSERVER;
  /* The bar's style: std (tqdm's look) or rich. */
  if (argc > 3)
    mpire_map_options_set_progress_bar_style (options, argv[3]);

  for (gint64 i = 0; i < n; i++)
    g_variant_builder_add (builder, "x", i);

  pool = mpire_worker_pool_new (0, method);
  /* Drawn on standard error, when it is a terminal. */
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
}
