/* apply-async.c: MPIRE's apply_async with callbacks, in a GMainLoop
 *
 * Runs one task per number on worker processes without waiting for
 * them: each MpireAsyncResult emits `completed` (MPIRE's callback) or
 * `failed` (its error_callback) in this thread's main loop, which quits
 * once every task has settled. The task refuses 13.
 *
 * Usage: apply-async [N_TASKS]
 *
 * SPDX-License-Identifier: MIT
 */

#include <locale.h>
#include <stdlib.h>

#include <mpire-glib/mpire.h>

#define EXAMPLE_ERROR (g_quark_from_static_string ("apply-async-example"))

static GVariant *
cube (MpireWorkerContext  *context,
      GVariant            *args,
      gpointer             user_data,
      GError             **error)
{
  gint64 x = g_variant_get_int64 (args);

  if (x == 13)
    {
      g_set_error (error, EXAMPLE_ERROR, 13, "13 brings bad luck");
      return NULL;
    }
  g_usleep (1000);
  return g_variant_new_int64 (x * x * x);
}

typedef struct
{
  GMainLoop *loop;
  guint      n_pending;
  gint64     sum;
  guint      n_failed;
} Tally;

static void
settled (Tally *tally)
{
  if (--tally->n_pending == 0)
    g_main_loop_quit (tally->loop);
}

static void
completed_cb (MpireAsyncResult *result,
              GVariant         *value,
              Tally            *tally)
{
  tally->sum += g_variant_get_int64 (value);
  settled (tally);
}

static void
failed_cb (MpireAsyncResult *result,
           const GError     *error,
           Tally            *tally)
{
  g_print ("failed: %s\n", error->message);
  tally->n_failed++;
  settled (tally);
}

int
main (int argc, char **argv)
{
  g_autoptr(MpireTask) task = mpire_task_new ("cube", cube, NULL, NULL);
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  Tally tally = { 0 };
  guint64 n = 20;

  mpire_init (&argc, &argv);
  setlocale (LC_ALL, "");
  if (argc > 1 && !g_ascii_string_to_unsigned (argv[1], 10, 1, 100000, &n, NULL))
    {
      g_printerr ("Usage: %s [N_TASKS], N_TASKS from 1 to 100000\n", g_get_prgname ());
      return 2;
    }

  loop = g_main_loop_new (NULL, FALSE);
  tally.loop = loop;
  pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_FORK);
  for (guint64 x = 1; x <= n; x++)
    {
      MpireAsyncResult *result = mpire_worker_pool_apply_async (pool, task,
                                                                g_variant_new_int64 (x),
                                                                NULL, &error);

      if (result == NULL)
        {
          g_printerr ("apply_async failed: %s\n", error->message);
          return EXIT_FAILURE;
        }
      /* Emitted in this thread's main loop, never before it runs. */
      g_signal_connect (result, "completed", G_CALLBACK (completed_cb), &tally);
      g_signal_connect (result, "failed", G_CALLBACK (failed_cb), &tally);
      g_ptr_array_add (results, result);
      tally.n_pending++;
    }

  g_main_loop_run (loop);
  g_print ("%u tasks: sum of cubes %" G_GINT64_FORMAT ", %u failed\n",
           (guint) n, tally.sum, tally.n_failed);

  /* As in MPIRE, the workers stay for more tasks until the pool is joined. */
  if (!mpire_worker_pool_stop_and_join (pool, &error))
    {
      g_printerr ("join failed: %s\n", error->message);
      return EXIT_FAILURE;
    }
  return EXIT_SUCCESS;
}
