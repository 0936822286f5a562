/* mpire-worker-pool-launchers.c: the settings behind the pool's
 * worker-launcher and worker-launchers properties (workers started
 * through ssh, srun ...); the pool's accessors are in mpire-worker-pool.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-worker-pool-launchers-private.h"

void
mpire_pool_launchers_clear (MpirePoolLaunchers *self)
{
  g_clear_pointer (&self->prefix, g_strfreev);
  g_clear_pointer (&self->per_worker, g_variant_unref);
  g_clear_pointer (&self->effective, g_variant_unref);
}

/* The calls see one list of prefixes, worker i taking entry i modulo
 * its length (an empty one: a local worker): worker-launchers, or
 * worker-launcher as a list of one. */
static void
update_effective (MpirePoolLaunchers *self)
{
  g_clear_pointer (&self->effective, g_variant_unref);
  if (self->per_worker != NULL)
    self->effective = g_variant_ref (self->per_worker);
  else if (self->prefix != NULL)
    self->effective = g_variant_ref_sink (
      g_variant_new_array (NULL, (GVariant *[]) {
                             g_variant_new_strv ((const char * const *) self->prefix, -1)
                           }, 1));
}

void
mpire_pool_launchers_install_properties (GParamSpec  **properties,
                                         guint         launcher_id,
                                         guint         launchers_id,
                                         GParamFlags   flags)
{
  /**
   * MpireWorkerPool:worker-launcher:
   *
   * A command that starts each worker, elsewhere if it likes: an argv
   * prefix such as `{"ssh", "HOST"}` or `{"srun", "--nodes=1",
   * "--ntasks=1", "--exact", "--unbuffered", "--quiet"}` (srun needs
   * `--unbuffered` to pass the worker's frames on at once), to which the
   * worker program (the current one, or
   * [property@Mpire.WorkerPool:worker-argv]) is appended, after
   * `env MPIRE_WORKER_LAUNCHED=1`.
   *
   * The worker speaks to the pool over the launcher's standard input and
   * output, so the launcher must carry them (ssh and srun do) and write
   * nothing else there; it shares no memory with the pool and is not
   * pinned to [property@Mpire.WorkerPool:cpu-ids]. The program must
   * exist at the same path on the other side, with the same mpire-glib
   * version: the pool checks it when the worker connects. ssh joins its
   * arguments into one shell command line: when the launcher's program
   * is `ssh`, the pool quotes the words it appends (the worker's argv)
   * for the remote shell, and leaves the launcher's own as written.
   * With [property@Mpire.MapOptions:retry-on-worker-death], a worker
   * whose host was lost is left out for the rest of the call when its
   * replacement cannot reach the host, while other workers serve.
   *
   * Needs %MPIRE_START_METHOD_SPAWN. %NULL (the default) starts the
   * workers locally. Changing it restarts the workers at the next call.
   * For a prefix per worker, see
   * [property@Mpire.WorkerPool:worker-launchers].
   *
   * Since: 0.1
   */
  properties[launcher_id] =
    g_param_spec_boxed ("worker-launcher", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * MpireWorkerPool:worker-launchers:
   *
   * A launcher prefix per worker, for mixed pools: an `aas` whose entry
   * i starts worker i as [property@Mpire.WorkerPool:worker-launcher]
   * would, an empty entry starting that worker locally (with the memory
   * it shares with the pool), for example
   * `[[], [], ['ssh', 'node1'], ['ssh', 'node2']]`. With
   * [property@Mpire.WorkerPool:n-jobs] 0 the pool has one worker per
   * entry; with more workers than entries, worker i takes entry i
   * modulo their number. Chunks go to whichever worker is free.
   *
   * Needs %MPIRE_START_METHOD_SPAWN; it cannot be set together with
   * [property@Mpire.WorkerPool:worker-launcher]. %NULL (the default):
   * none. Changing it restarts the workers at the next call.
   *
   * Since: 0.1
   */
  properties[launchers_id] =
    g_param_spec_variant ("worker-launchers", NULL, NULL, G_VARIANT_TYPE ("aas"), NULL, flags);
}

gboolean
mpire_pool_launchers_check (MpirePoolLaunchers  *self,
                            MpireStartMethod     start_method,
                            GError             **error)
{
  if (self->prefix != NULL && self->per_worker != NULL)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                           _("The pool has both a worker-launcher and worker-launchers; "
                             "set one of them only"));
      return FALSE;
    }
  if (self->per_worker != NULL && g_variant_n_children (self->per_worker) == 0)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                           _("The pool’s worker-launchers is an empty list; give one "
                             "launcher per worker (an empty one for a local worker)"));
      return FALSE;
    }
  if (self->effective != NULL && start_method != MPIRE_START_METHOD_SPAWN)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                           _("The pool’s worker launchers start workers with the spawn "
                             "start method only; set the pool’s start-method to spawn"));
      return FALSE;
    }
  return TRUE;
}

/* The number of workers when n-jobs is 0: @n_workers (one per CPU), or
 * one per entry of worker-launchers. */
int
mpire_pool_launchers_count (MpirePoolLaunchers *self,
                            int                 n_workers)
{
  if (self->per_worker != NULL && g_variant_n_children (self->per_worker) > 0)
    return (int) MIN (g_variant_n_children (self->per_worker), G_MAXINT);
  return n_workers;
}

/* The launcher prefix of worker @worker_id in a call's @launchers (the
 * effective list, nullable), or %NULL for a local worker. */
char **
mpire_pool_launchers_of_worker (GVariant *launchers,
                                int       worker_id)
{
  g_autoptr(GVariant) entry = NULL;

  if (launchers == NULL)
    return NULL;
  entry = g_variant_get_child_value (launchers,
                                     (gsize) worker_id % g_variant_n_children (launchers));
  return g_variant_n_children (entry) > 0 ? g_variant_dup_strv (entry, NULL) : NULL;
}

/* Sets worker-launcher; returns whether it changed. */
gboolean
mpire_pool_launchers_set_prefix (MpirePoolLaunchers *self,
                                 const char * const *prefix)
{
  if (self->prefix == NULL && prefix == NULL)
    return FALSE;
  if (self->prefix != NULL && prefix != NULL &&
      g_strv_equal ((const char * const *) self->prefix, prefix))
    return FALSE;
  g_strfreev (self->prefix);
  self->prefix = g_strdupv ((char **) prefix);
  update_effective (self);
  return TRUE;
}

/* Sets worker-launchers (sinking a floating @per_worker); returns
 * whether it changed. */
gboolean
mpire_pool_launchers_set_per_worker (MpirePoolLaunchers *self,
                                     GVariant           *per_worker)
{
  g_autoptr(GVariant) sunk = per_worker != NULL ? g_variant_ref_sink (per_worker) : NULL;

  if (self->per_worker == NULL && sunk == NULL)
    return FALSE;
  if (self->per_worker != NULL && sunk != NULL && g_variant_equal (self->per_worker, sunk))
    return FALSE;
  g_clear_pointer (&self->per_worker, g_variant_unref);
  self->per_worker = g_steal_pointer (&sunk);
  update_effective (self);
  return TRUE;
}
