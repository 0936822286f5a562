/* A program built outside the tree against the installed mpire-glib,
 * with only what pkg-config says: it maps squares on a threading, a fork
 * and a spawn pool (a spawned worker runs the program again).
 *
 * SPDX-License-Identifier: MIT
 */

#include <mpire-glib/mpire.h>

static GVariant *
square (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);

  return g_variant_new_int64 (x * x);
}

/* Squares 1..4 with @task on two workers started with @method; prints them. */
static gboolean
map_squares (MpireTask *task, MpireStartMethod method, const char *name)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, method);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  gint64 input[] = { 1, 2, 3, 4 };
  const gint64 *squares;
  gsize n;

  results = mpire_worker_pool_map (pool, task,
                                   g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, input,
                                                              G_N_ELEMENTS (input), sizeof (gint64)),
                                   NULL, NULL, &error);
  if (results == NULL)
    {
      g_printerr ("%s map failed: %s\n", name, error->message);
      return FALSE;
    }
  squares = g_variant_get_fixed_array (results, &n, sizeof (gint64));
  g_print ("mpire-glib %s %s:", MPIRE_VERSION_S, name);
  for (gsize i = 0; i < n; i++)
    g_print (" %" G_GINT64_FORMAT, squares[i]);
  g_print ("\n");
  if (n != G_N_ELEMENTS (input))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (squares[i] != input[i] * input[i])
      return FALSE;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(MpireTask) task = mpire_task_new ("square", square, NULL, NULL);
  gboolean ok;

  mpire_init (&argc, &argv);
  ok = map_squares (task, MPIRE_START_METHOD_THREADING, "threading");
  ok = map_squares (task, MPIRE_START_METHOD_FORK, "fork") && ok;
  ok = map_squares (task, MPIRE_START_METHOD_SPAWN, "spawn") && ok;
  return ok ? 0 : 1;
}
