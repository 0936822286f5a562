/* timeouts.c: task_timeout, worker_init_timeout and worker_exit_timeout
 *
 * Each task sleeps as many milliseconds as its argument says. One of
 * them sleeps far past the call's task timeout: the call fails with
 * MPIRE_ERROR_TIMED_OUT, naming that argument, and the pool goes on with
 * the next call. Then a worker_init and a worker_exit that sleep past
 * their own timeouts fail their calls the same way.
 *
 * Usage: timeouts [--start-method METHOD] [--timeout SECONDS]
 *
 * SPDX-License-Identifier: MIT
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <mpire-glib/mpire.h>

#include "example-options.h"

/* How long the slow task, init and exit sleep: well past any timeout
 * this example takes, and short enough that a thread, which cannot be
 * killed, is soon done. */
#define SLOW_MS 1500

static GVariant *
nap (MpireWorkerContext  *context,
     GVariant            *args,
     gpointer             user_data,
     GError             **error)
{
  gint64 ms = g_variant_get_int64 (args);

  g_usleep (ms * 1000);
  return g_variant_new_int64 (ms);
}

/* A worker_init or worker_exit that takes its time. */
static GVariant *
slow_lifecycle (MpireWorkerContext  *context,
                GVariant            *args,
                gpointer             user_data,
                GError             **error)
{
  g_usleep (SLOW_MS * 1000);
  return g_variant_new ("()");
}

/* Maps @task over naps of @ms milliseconds (one per entry, @n of them)
 * and prints the outcome; returns whether the call failed with
 * MPIRE_ERROR_TIMED_OUT and a message holding @needle (which stays the
 * same in translated messages), described by @meaning. */
static gboolean
map_expecting_timeout (MpireWorkerPool *pool,
                       MpireTask       *task,
                       const gint64    *ms,
                       gsize            n,
                       MpireMapOptions *options,
                       const char      *what,
                       const char      *needle,
                       const char      *meaning)
{
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  results = mpire_worker_pool_map (pool, task,
                                   g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ms, n,
                                                              sizeof (gint64)),
                                   options, NULL, &error);
  if (results != NULL)
    {
      g_print ("%s: no timeout (unexpected)\n", what);
      return FALSE;
    }
  if (!g_error_matches (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT) ||
      strstr (error->message, needle) == NULL)
    {
      g_print ("%s: unexpected error: %s\n", what, error->message);
      return FALSE;
    }
  /* The message names the worker too, which varies from run to run. */
  g_print ("%s: MPIRE_ERROR_TIMED_OUT, %s\n  %s\n", what, meaning, error->message);
  return TRUE;
}

/* Maps @task over @ms and prints how many results came and their sum. */
static gboolean
map_expecting_success (MpireWorkerPool *pool,
                       MpireTask       *task,
                       const gint64    *ms,
                       gsize            n,
                       MpireMapOptions *options,
                       const char      *what)
{
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 *values;
  gsize n_results;
  gint64 sum = 0;

  results = mpire_worker_pool_map (pool, task,
                                   g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ms, n,
                                                              sizeof (gint64)),
                                   options, NULL, &error);
  if (results == NULL)
    {
      g_print ("%s: failed: %s\n", what, error->message);
      return FALSE;
    }
  values = g_variant_get_fixed_array (results, &n_results, sizeof (gint64));
  for (gsize i = 0; i < n_results; i++)
    sum += values[i];
  g_print ("%s: %" G_GSIZE_FORMAT " results, %" G_GINT64_FORMAT " ms slept in all\n",
           what, n_results, sum);
  return TRUE;
}

int
main (int argc, char **argv)
{
  /* Created before mpire_init(), so that spawned workers have them too. */
  g_autoptr(MpireTask) task = mpire_task_new ("nap", nap, NULL, NULL);
  g_autoptr(MpireTask) slow_task = mpire_task_new ("slow-lifecycle", slow_lifecycle, NULL, NULL);
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *method_arg = NULL;
  MpireStartMethod method = MPIRE_START_METHOD_SPAWN;
  double timeout = 0.3;
  const gint64 quick[] = { 10, 20, 30, 40, 10, 20, 30, 40 };
  const gint64 one_slow[] = { 10, 20, 30, SLOW_MS, 10, 20, 30, 40 };
  guint n_ok = 0;
  const GOptionEntry entries[] = {
    EXAMPLE_START_METHOD_ENTRY (&method_arg),
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
      "The task, init and exit timeouts, from 0.1 to 1 s (default 0.3)", "SECONDS" },
    G_OPTION_ENTRY_NULL
  };

  /* A spawned worker never returns from here: it serves tasks. */
  mpire_init (&argc, &argv);
  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "Shows a task, a worker_init and a worker_exit running past "
                                "their timeouts, and the pool going on after each.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto usage;
  if (!example_check_no_arguments (argc, argv, &error))
    goto usage;
  /* The tasks and lifecycle functions are timed against these bounds. */
  if (!(timeout >= 0.1 && timeout <= 1.0))
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "The timeout must be from 0.1 to 1 s, not %g", timeout);
      goto usage;
    }
  if (!example_parse_start_method (method_arg, &method, &error))
    goto usage;

  pool = mpire_worker_pool_new (2, method);

  /* 1. A task past task_timeout fails the call, naming its arguments;
   * with worker processes, its worker is killed and replaced. */
  options = mpire_map_options_new ();
  mpire_map_options_set_task_timeout (options, timeout);
  mpire_map_options_set_chunk_size (options, 1);
  n_ok += map_expecting_timeout (pool, task, one_slow, G_N_ELEMENTS (one_slow), options,
                                 "task_timeout", " " G_STRINGIFY (SLOW_MS) ")",
                                 "naming the arguments " G_STRINGIFY (SLOW_MS));

  /* 2. The same pool, the same timeout: quick tasks all come back. */
  n_ok += map_expecting_success (pool, task, quick, G_N_ELEMENTS (quick), options,
                                 "next map");

  /* 3. A worker_init past worker_init_timeout. */
  g_clear_object (&options);
  options = mpire_map_options_new ();
  mpire_map_options_set_worker_init (options, slow_task);
  mpire_map_options_set_worker_init_timeout (options, timeout);
  n_ok += map_expecting_timeout (pool, task, quick, G_N_ELEMENTS (quick), options,
                                 "worker_init_timeout", "worker_init", "in worker_init");

  /* 4. A worker_exit past worker_exit_timeout: the tasks are done, but
   * the call waits for its workers to stop, and fails. */
  g_clear_object (&options);
  options = mpire_map_options_new ();
  mpire_map_options_set_worker_exit (options, slow_task);
  mpire_map_options_set_worker_exit_timeout (options, timeout);
  n_ok += map_expecting_timeout (pool, task, quick, G_N_ELEMENTS (quick), options,
                                 "worker_exit_timeout", "worker_exit", "in worker_exit");

  /* 5. Without the slow init and exit, the pool is as good as new. */
  n_ok += map_expecting_success (pool, task, quick, G_N_ELEMENTS (quick), NULL, "last map");

  g_print ("%u of 5 steps went as expected\n", n_ok);
  return n_ok == 5 ? EXIT_SUCCESS : EXIT_FAILURE;

usage:
  g_printerr ("%s: %s\nRun “%s --help” to see the options.\n",
              g_get_prgname (), error->message, g_get_prgname ());
  return 2;
}
