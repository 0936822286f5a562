/* worker-state.c: worker state with worker_init and worker_exit
 *
 * MPIRE's worker state example: each worker sets up a counter in its
 * worker_init, its tasks square numbers and count the even ones they
 * see, and its worker_exit returns the counter. The pool hands the
 * exit results back with mpire_worker_pool_get_exit_results().
 *
 * Usage: worker-state [--numbers N] [--jobs N] [--start-method METHOD]
 *
 * SPDX-License-Identifier: MIT
 */

#include <locale.h>
#include <stdlib.h>

#include <mpire-glib/mpire.h>

#include "example-options.h"

/* The state of a worker is a GVariant of its own, kept across its
 * tasks: here (tasks run, even numbers seen). A GVariant cannot change,
 * so a task replaces it rather than updating it. */
static GVariant *
init_counters (MpireWorkerContext  *context,
               GVariant            *args,
               gpointer             user_data,
               GError             **error)
{
  mpire_worker_context_set_state (context, g_variant_new ("(xx)", (gint64) 0, (gint64) 0));
  return g_variant_new ("()");
}

static GVariant *
square_and_count_even (MpireWorkerContext  *context,
                       GVariant            *args,
                       gpointer             user_data,
                       GError             **error)
{
  gint64 x = g_variant_get_int64 (args);
  gint64 n_tasks, n_even;

  g_variant_get (mpire_worker_context_get_state (context), "(xx)", &n_tasks, &n_even);
  mpire_worker_context_set_state (context,
                                  g_variant_new ("(xx)", n_tasks + 1, n_even + (x % 2 == 0)));
  return g_variant_new_int64 (x * x);
}

/* What a worker_exit returns is its worker's exit result. */
static GVariant *
report_counters (MpireWorkerContext  *context,
                 GVariant            *args,
                 gpointer             user_data,
                 GError             **error)
{
  gint64 n_tasks, n_even;

  g_variant_get (mpire_worker_context_get_state (context), "(xx)", &n_tasks, &n_even);
  return g_variant_new ("(ixx)", mpire_worker_context_get_worker_id (context), n_tasks, n_even);
}

int
main (int argc, char **argv)
{
  /* Created before mpire_init(), so that spawned workers have them too. */
  g_autoptr(MpireTask) init_task = mpire_task_new ("init-counters", init_counters, NULL, NULL);
  g_autoptr(MpireTask) task = mpire_task_new ("square-and-count-even", square_and_count_even,
                                              NULL, NULL);
  g_autoptr(MpireTask) exit_task = mpire_task_new ("report-counters", report_counters, NULL, NULL);
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(GVariant) squares = NULL;
  g_autoptr(GVariant) exit_results = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *method_arg = NULL;
  MpireStartMethod method = MPIRE_START_METHOD_SPAWN;
  int n_numbers = 100, n_jobs = 4;
  gint64 sum = 0, total_tasks = 0, total_even = 0;
  const gint64 *values;
  gsize n_results, n_exits;
  const GOptionEntry entries[] = {
    { "numbers", 'n', 0, G_OPTION_ARG_INT, &n_numbers,
      "How many numbers to square, from 0 (default 100)", "N" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &n_jobs,
      "How many workers, 0 for one per CPU (default 4)", "N" },
    EXAMPLE_START_METHOD_ENTRY (&method_arg),
    G_OPTION_ENTRY_NULL
  };

  /* A spawned worker never returns from here: it serves tasks. */
  mpire_init (&argc, &argv);
  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "Squares 0 .. N-1 on a pool whose workers each count the even "
                                "numbers they see, in a state set up by worker_init and "
                                "reported by worker_exit.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto usage;
  if (!example_check_no_arguments (argc, argv, &error))
    goto usage;
  if (n_numbers < 0 || n_jobs < 0)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--numbers and --jobs cannot be negative");
      goto usage;
    }
  if (!example_parse_start_method (method_arg, &method, &error))
    goto usage;

  for (gint64 x = 0; x < n_numbers; x++)
    g_variant_builder_add (builder, "x", x);

  pool = mpire_worker_pool_new (n_jobs, method);
  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_worker_pool_set_pass_worker_id (pool, TRUE);
  mpire_map_options_set_worker_init (options, init_task);
  mpire_map_options_set_worker_exit (options, exit_task);

  squares = mpire_worker_pool_map (pool, task, g_variant_builder_end (builder), options,
                                   NULL, &error);
  if (squares == NULL)
    {
      g_printerr ("Failed: %s\n", error->message);
      return EXIT_FAILURE;
    }
  values = g_variant_get_fixed_array (squares, &n_results, sizeof (gint64));
  for (gsize i = 0; i < n_results; i++)
    sum += values[i];

  /* Without keep-alive the call waits for its workers to stop, so their
   * exit results are all there: an `av`, in the order they stopped. */
  exit_results = mpire_worker_pool_get_exit_results (pool);
  n_exits = g_variant_n_children (exit_results);
  for (gsize i = 0; i < n_exits; i++)
    {
      g_autoptr(GVariant) result = NULL;
      int worker_id;
      gint64 n_tasks, n_even;

      g_variant_get_child (exit_results, i, "v", &result);
      g_variant_get (result, "(ixx)", &worker_id, &n_tasks, &n_even);
      g_print ("Worker %d: %" G_GINT64_FORMAT " tasks, even numbers: %" G_GINT64_FORMAT "\n",
               worker_id, n_tasks, n_even);
      total_tasks += n_tasks;
      total_even += n_even;
    }

  /* How the numbers were shared out varies; the totals do not. */
  g_print ("%" G_GSIZE_FORMAT " squares, sum %" G_GINT64_FORMAT "; the workers ran %"
           G_GINT64_FORMAT " tasks and saw %" G_GINT64_FORMAT " even numbers\n",
           n_results, sum, total_tasks, total_even);
  return EXIT_SUCCESS;

usage:
  g_printerr ("%s: %s\nRun “%s --help” to see the options.\n",
              g_get_prgname (), error->message, g_get_prgname ());
  return 2;
}
