/* A program built outside the tree against the installed mpire-glib,
 * with only what pkg-config says: it maps squares on a threading pool.
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

int
main (int argc, char **argv)
{
  g_autoptr(MpireTask) task = mpire_task_new ("square", square, NULL, NULL);
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  gint64 input[] = { 1, 2, 3, 4 };
  const gint64 *squares;
  gsize n;

  mpire_init (&argc, &argv);
  pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_THREADING);
  results = mpire_worker_pool_map (pool, task,
                                   g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, input,
                                                              G_N_ELEMENTS (input), sizeof (gint64)),
                                   NULL, NULL, &error);
  if (results == NULL)
    {
      g_printerr ("map failed: %s\n", error->message);
      return 1;
    }
  squares = g_variant_get_fixed_array (results, &n, sizeof (gint64));
  g_print ("mpire-glib %s: %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
           " %" G_GINT64_FORMAT "\n", MPIRE_VERSION_S, squares[0], squares[1], squares[2],
           squares[3]);
  return n == 4 && squares[3] == 16 ? 0 : 1;
}
