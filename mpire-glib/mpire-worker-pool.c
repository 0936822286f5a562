/* mpire-worker-pool.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <sched.h>

#include "mpire-async-result-private.h"
#include "mpire-cpu-sets-private.h"
#include "mpire-enum-types.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-init-private.h"
#include "mpire-init.h"
#include "mpire-map-job-private.h"
#include "mpire-map-options-private.h"
#include "mpire-result-iter-private.h"
#include "mpire-result-list-private.h"
#include "mpire-scheduler-private.h"
#include "mpire-task-private.h"
#include "mpire-worker-pool-call-private.h"
#include "mpire-worker-pool-launchers-private.h"
#include "mpire-worker-pool.h"
#include "mpire-worker-private.h"

/**
 * MpireWorkerPool:
 *
 * A pool of workers (processes or threads) that runs a task over many
 * inputs: MPIRE's `WorkerPool`.
 *
 * ```c
 * g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (4, MPIRE_START_METHOD_FORK);
 * g_autoptr(GVariant) squares =
 *   mpire_worker_pool_map (pool, square_task, numbers, NULL, NULL, &error);
 * ```
 *
 * The pool does its I/O on a private thread with its own main context,
 * so the blocking calls need no main loop, and the `_async` calls never
 * block the caller's. Results, callbacks and lazy sources are handled in
 * the thread-default main context of the thread that started the call.
 *
 * One call of the map family runs at a time: another one started before
 * it ends fails with %MPIRE_ERROR_POOL_BUSY, as in MPIRE. Workers start
 * with the first call and, unless [property@Mpire.WorkerPool:keep-alive]
 * is set, stop at the end of each call. A task's error fails the call
 * with that error (its domain and code, its message followed by the
 * task, the worker id and the arguments); a worker that dies fails it
 * with %MPIRE_ERROR_WORKER_DIED. The pool stays usable after either.
 *
 * Disposing the pool terminates its workers.
 *
 * Since: 0.1
 */

/* The pool holds its settings (its properties, set from the caller's
 * thread) and the apply tasks running; the engine is its scheduler
 * (mpire-scheduler.c), which each call's job (mpire-map-job.c) drives. */
struct _MpireWorkerPool
{
  GObject           parent_instance;

  /* properties */
  int               n_jobs;
  MpireStartMethod  start_method;
  GVariant         *cpu_ids;
  gboolean          daemon;
  GVariant         *shared_objects;
  gboolean          pass_worker_id;
  gboolean          use_worker_state;
  gboolean          keep_alive;
  gboolean          order_tasks;
  gboolean          enable_insights;
  char            **worker_argv;
  MpirePoolLaunchers launchers;     /* worker-launcher(s): mpire-worker-pool-launchers.c */
  guint             workers_serial; /* bumped when a setting restarts the workers */

  MpireScheduler   *scheduler;
  MpireMapJob      *apply_job;      /* the running apply tasks, owned */
};

G_DEFINE_FINAL_TYPE (MpireWorkerPool, mpire_worker_pool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_JOBS,
  PROP_START_METHOD,
  PROP_CPU_IDS,
  PROP_DAEMON,
  PROP_SHARED_OBJECTS,
  PROP_PASS_WORKER_ID,
  PROP_USE_WORKER_STATE,
  PROP_KEEP_ALIVE,
  PROP_ORDER_TASKS,
  PROP_WORKER_ARGV,
  PROP_WORKER_LAUNCHER,
  PROP_WORKER_LAUNCHERS,
  PROP_ENABLE_INSIGHTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  PROGRESS,
  TASK_FAILED,
  FINISHED,
  WORKER_STARTED,
  WORKER_EXITED,
  WORKER_DIED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- GObject ----------------------------------------------------------- */

static void
mpire_worker_pool_dispose (GObject *object)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  mpire_worker_pool_terminate (self);
  g_clear_pointer (&self->apply_job, mpire_map_job_unref);

  G_OBJECT_CLASS (mpire_worker_pool_parent_class)->dispose (object);
}

static void
mpire_worker_pool_finalize (GObject *object)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  mpire_scheduler_free (self->scheduler);
  g_clear_pointer (&self->shared_objects, g_variant_unref);
  g_clear_pointer (&self->cpu_ids, g_variant_unref);
  g_strfreev (self->worker_argv);
  mpire_pool_launchers_clear (&self->launchers);

  G_OBJECT_CLASS (mpire_worker_pool_parent_class)->finalize (object);
}

static void
mpire_worker_pool_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  switch (prop_id)
    {
    case PROP_N_JOBS:
      g_value_set_int (value, self->n_jobs);
      break;
    case PROP_START_METHOD:
      g_value_set_enum (value, self->start_method);
      break;
    case PROP_CPU_IDS:
      g_value_set_variant (value, self->cpu_ids);
      break;
    case PROP_DAEMON:
      g_value_set_boolean (value, self->daemon);
      break;
    case PROP_SHARED_OBJECTS:
      g_value_set_variant (value, self->shared_objects);
      break;
    case PROP_PASS_WORKER_ID:
      g_value_set_boolean (value, self->pass_worker_id);
      break;
    case PROP_USE_WORKER_STATE:
      g_value_set_boolean (value, self->use_worker_state);
      break;
    case PROP_KEEP_ALIVE:
      g_value_set_boolean (value, self->keep_alive);
      break;
    case PROP_ORDER_TASKS:
      g_value_set_boolean (value, self->order_tasks);
      break;
    case PROP_WORKER_ARGV:
      g_value_set_boxed (value, self->worker_argv);
      break;
    case PROP_WORKER_LAUNCHER:
      g_value_set_boxed (value, mpire_worker_pool_get_worker_launcher (self));
      break;
    case PROP_WORKER_LAUNCHERS:
      g_value_set_variant (value, mpire_worker_pool_get_worker_launchers (self));
      break;
    case PROP_ENABLE_INSIGHTS:
      g_value_set_boolean (value, self->enable_insights);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_worker_pool_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  switch (prop_id)
    {
    case PROP_N_JOBS:
      mpire_worker_pool_set_n_jobs (self, g_value_get_int (value));
      break;
    case PROP_START_METHOD:
      mpire_worker_pool_set_start_method (self, g_value_get_enum (value));
      break;
    case PROP_CPU_IDS:
      mpire_worker_pool_set_cpu_ids (self, g_value_get_variant (value));
      break;
    case PROP_DAEMON:
      mpire_worker_pool_set_daemon (self, g_value_get_boolean (value));
      break;
    case PROP_SHARED_OBJECTS:
      mpire_worker_pool_set_shared_objects (self, g_value_get_variant (value));
      break;
    case PROP_PASS_WORKER_ID:
      mpire_worker_pool_set_pass_worker_id (self, g_value_get_boolean (value));
      break;
    case PROP_USE_WORKER_STATE:
      mpire_worker_pool_set_use_worker_state (self, g_value_get_boolean (value));
      break;
    case PROP_KEEP_ALIVE:
      mpire_worker_pool_set_keep_alive (self, g_value_get_boolean (value));
      break;
    case PROP_ORDER_TASKS:
      mpire_worker_pool_set_order_tasks (self, g_value_get_boolean (value));
      break;
    case PROP_WORKER_ARGV:
      mpire_worker_pool_set_worker_argv (self, g_value_get_boxed (value));
      break;
    case PROP_WORKER_LAUNCHER:
      mpire_worker_pool_set_worker_launcher (self, g_value_get_boxed (value));
      break;
    case PROP_WORKER_LAUNCHERS:
      mpire_worker_pool_set_worker_launchers (self, g_value_get_variant (value));
      break;
    case PROP_ENABLE_INSIGHTS:
      mpire_worker_pool_set_enable_insights (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_worker_pool_class_init (MpireWorkerPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = mpire_worker_pool_dispose;
  object_class->finalize = mpire_worker_pool_finalize;
  object_class->get_property = mpire_worker_pool_get_property;
  object_class->set_property = mpire_worker_pool_set_property;

  mpire_init_gettext ();

  /**
   * MpireWorkerPool:n-jobs:
   *
   * The number of workers; 0 means one per CPU ([func@Mpire.cpu_count]).
   * A negative value makes the next call fail with
   * %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_N_JOBS] =
    g_param_spec_int ("n-jobs", NULL, NULL, G_MININT, G_MAXINT, 0, flags);

  /**
   * MpireWorkerPool:start-method:
   *
   * How workers are started. Changing it restarts the workers at the
   * next call; a fork server that is no longer needed stops at once
   * (after the workers it forked, if they are kept alive).
   *
   * Since: 0.1
   */
  properties[PROP_START_METHOD] =
    g_param_spec_enum ("start-method", NULL, NULL, MPIRE_TYPE_START_METHOD,
                       MPIRE_START_METHOD_SPAWN, flags);

  /**
   * MpireWorkerPool:cpu-ids:
   *
   * CPUs to pin the workers to, as MPIRE's `cpu_ids`: an array of CPU
   * numbers, one per worker (`[0, 1]`) or one for all (`[0]`), or an
   * array of arrays, a set per worker (`[[0, 1], [2, 3]]`) or one set for
   * all (`[[0, 1]]`). Any integer type will do. %NULL (the default) pins
   * nothing. Numbers must be below [func@Mpire.cpu_count], and an array
   * of per-worker entries must have one per worker; otherwise the next
   * call fails with %MPIRE_ERROR_INVALID_ARGUMENT. Changing it restarts
   * the workers at the next call.
   *
   * Since: 0.1
   */
  properties[PROP_CPU_IDS] =
    g_param_spec_variant ("cpu-ids", NULL, NULL, G_VARIANT_TYPE_ARRAY, NULL, flags);

  /**
   * MpireWorkerPool:daemon:
   *
   * MPIRE's daemon flag: whether worker processes are daemons. A task
   * running in a daemon worker process that starts a call on a pool of
   * its own gets %MPIRE_ERROR_NOT_SUPPORTED at once (MPIRE's daemon
   * processes cannot have children); set it to %FALSE to allow nested
   * pools. Workers of a %MPIRE_START_METHOD_THREADING pool are threads,
   * not processes: their tasks may start pools of their own whatever this
   * flag. Changing it restarts the workers at the next call.
   *
   * Since: 0.1
   */
  properties[PROP_DAEMON] =
    g_param_spec_boolean ("daemon", NULL, NULL, TRUE, flags);

  /**
   * MpireWorkerPool:shared-objects:
   *
   * A value every task can read with
   * [method@Mpire.WorkerContext.get_shared_objects]: shared by address
   * with %MPIRE_START_METHOD_FORK (copy-on-write) and
   * %MPIRE_START_METHOD_THREADING, sent once to each worker with
   * %MPIRE_START_METHOD_SPAWN and %MPIRE_START_METHOD_FORKSERVER.
   * Changing it restarts the workers at the next call.
   *
   * Since: 0.1
   */
  properties[PROP_SHARED_OBJECTS] =
    g_param_spec_variant ("shared-objects", NULL, NULL, G_VARIANT_TYPE_ANY, NULL, flags);

  /**
   * MpireWorkerPool:pass-worker-id:
   *
   * Whether tasks see their worker's id in
   * [method@Mpire.WorkerContext.get_worker_id] (otherwise -1). Changing
   * it restarts the workers at the next call.
   *
   * Since: 0.1
   */
  properties[PROP_PASS_WORKER_ID] =
    g_param_spec_boolean ("pass-worker-id", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:use-worker-state:
   *
   * Whether each worker keeps a state that its tasks read and replace
   * ([method@Mpire.WorkerContext.get_state]). Changing it restarts the
   * workers at the next call.
   *
   * Since: 0.1
   */
  properties[PROP_USE_WORKER_STATE] =
    g_param_spec_boolean ("use-worker-state", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:keep-alive:
   *
   * Whether workers, and their state, stay alive between calls. Without
   * it workers stop at the end of every call.
   *
   * Since: 0.1
   */
  properties[PROP_KEEP_ALIVE] =
    g_param_spec_boolean ("keep-alive", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:order-tasks:
   *
   * Whether chunk i goes to worker i modulo the number of workers, rather
   * than to whichever worker is free first.
   *
   * Since: 0.1
   */
  properties[PROP_ORDER_TASKS] =
    g_param_spec_boolean ("order-tasks", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:worker-argv:
   *
   * The program run as a worker by %MPIRE_START_METHOD_SPAWN, or as
   * the fork server of %MPIRE_START_METHOD_FORKSERVER; %NULL (the
   * default) runs the current program again, with its arguments and
   * working directory. The program must register the tasks it is sent
   * and call [func@Mpire.init].
   *
   * Since: 0.1
   */
  properties[PROP_WORKER_ARGV] =
    g_param_spec_boxed ("worker-argv", NULL, NULL, G_TYPE_STRV, flags);

  mpire_pool_launchers_install_properties (properties, PROP_WORKER_LAUNCHER,
                                           PROP_WORKER_LAUNCHERS, flags);

  /**
   * MpireWorkerPool:enable-insights:
   *
   * Whether workers measure where their time goes, for
   * [method@Mpire.WorkerPool.get_insights]: MPIRE's `enable_insights`.
   * It costs one clock reading per task. Changing it restarts the
   * workers at the next call.
   *
   * Since: 0.1
   */
  properties[PROP_ENABLE_INSIGHTS] =
    g_param_spec_boolean ("enable-insights", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MpireWorkerPool::progress:
   * @self: the pool
   * @done: tasks done so far: completed for `map`, handed out for `imap`
   * @total: the number of tasks, or 0 when unknown
   *
   * Tells how far the running call is, in the thread-default main
   * context of the thread that started it. At most about 20 emissions a
   * second, so that even millions of tiny tasks cannot flood a user
   * interface, and always a last one when the call ends.
   *
   * Since: 0.1
   */
  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);

  /**
   * MpireWorkerPool::task-failed:
   * @self: the pool
   * @error: the error the call fails with
   * @args: (nullable): the arguments of the failed task, or %NULL when
   *   they are not known (a worker that died while running a chunk)
   *
   * Emitted when a task of the running call fails, before the call
   * reports the error, in the context of the thread that started it.
   *
   * Since: 0.1
   */
  signals[TASK_FAILED] =
    g_signal_new ("task-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_ERROR, G_TYPE_VARIANT);

  /**
   * MpireWorkerPool::finished:
   * @self: the pool
   *
   * Emitted once when a call of the map family ends, whether it
   * succeeded, failed or was cancelled, after the last
   * [signal@Mpire.WorkerPool::progress] and before the call's result is
   * returned (or its callback runs).
   *
   * Since: 0.1
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * MpireWorkerPool::worker-started:
   * @self: the pool
   * @worker_id: the worker's id
   *
   * A worker was started (at the start of a call, or to replace one).
   * Worker signals come in the context of the thread that started the
   * running call, or, between calls, from
   * [method@Mpire.WorkerPool.stop_and_join] and
   * [method@Mpire.WorkerPool.terminate] in their caller's thread.
   *
   * Since: 0.1
   */
  signals[WORKER_STARTED] =
    g_signal_new ("worker-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  /**
   * MpireWorkerPool::worker-exited:
   * @self: the pool
   * @worker_id: the worker's id
   *
   * A worker the pool told to go (at the end of a call, its lifespan,
   * a join, a terminate) is gone.
   *
   * Since: 0.1
   */
  signals[WORKER_EXITED] =
    g_signal_new ("worker-exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  /**
   * MpireWorkerPool::worker-died:
   * @self: the pool
   * @worker_id: the worker's id
   * @error: how it ended (%MPIRE_ERROR_WORKER_DIED, naming the signal or
   *   exit status)
   *
   * A worker ended that the pool had not told to go: a crash, a signal,
   * an exit of its own.
   *
   * Since: 0.1
   */
  signals[WORKER_DIED] =
    g_signal_new ("worker-died", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_ERROR);
}

static void
mpire_worker_pool_init (MpireWorkerPool *self)
{
  self->daemon = TRUE;
  self->scheduler = mpire_scheduler_new ();
}

/**
 * mpire_worker_pool_new:
 * @n_jobs: the number of workers, or 0 for one per CPU
 * @start_method: how to start the workers
 *
 * Creates a pool. No worker starts before the first call.
 *
 * Returns: (transfer full): a new pool
 *
 * Since: 0.1
 */
MpireWorkerPool *
mpire_worker_pool_new (int              n_jobs,
                       MpireStartMethod start_method)
{
  return g_object_new (MPIRE_TYPE_WORKER_POOL,
                       "n-jobs", n_jobs,
                       "start-method", start_method,
                       NULL);
}

static void
set_flag (MpireWorkerPool *self,
          gboolean        *field,
          gboolean         value,
          guint            prop_id,
          gboolean         restarts)
{
  value = !!value;
  if (*field == value)
    return;

  *field = value;
  if (restarts)
    self->workers_serial++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

/**
 * mpire_worker_pool_get_n_jobs:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:n-jobs].
 *
 * Returns: the number of workers, 0 for one per CPU
 *
 * Since: 0.1
 */
int
mpire_worker_pool_get_n_jobs (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), 0);
  return self->n_jobs;
}

/**
 * mpire_worker_pool_set_n_jobs:
 * @self: a pool
 * @n_jobs: the number of workers, 0 for one per CPU
 *
 * Sets [property@Mpire.WorkerPool:n-jobs].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_n_jobs (MpireWorkerPool *self,
                              int              n_jobs)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (self->n_jobs == n_jobs)
    return;
  self->n_jobs = n_jobs;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_JOBS]);
}

/**
 * mpire_worker_pool_get_start_method:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:start-method].
 *
 * Returns: the start method
 *
 * Since: 0.1
 */
MpireStartMethod
mpire_worker_pool_get_start_method (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), MPIRE_START_METHOD_SPAWN);
  return self->start_method;
}

/**
 * mpire_worker_pool_set_start_method:
 * @self: a pool
 * @start_method: the start method
 *
 * Sets [property@Mpire.WorkerPool:start-method].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_start_method (MpireWorkerPool  *self,
                                    MpireStartMethod  start_method)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (self->start_method == start_method)
    return;
  self->start_method = start_method;
  self->workers_serial++;
  mpire_scheduler_drop_fork_server (self->scheduler);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_START_METHOD]);
}

/**
 * mpire_worker_pool_get_cpu_ids:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:cpu-ids].
 *
 * Returns: (transfer none) (nullable): the CPU ids
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_get_cpu_ids (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return self->cpu_ids;
}

/**
 * mpire_worker_pool_set_cpu_ids:
 * @self: a pool
 * @cpu_ids: (nullable): an array of CPU ids or of arrays of them
 *
 * Sets [property@Mpire.WorkerPool:cpu-ids].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_cpu_ids (MpireWorkerPool *self,
                               GVariant        *cpu_ids)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (cpu_ids != NULL)
    g_variant_ref_sink (cpu_ids);
  g_clear_pointer (&self->cpu_ids, g_variant_unref);
  self->cpu_ids = cpu_ids;
  self->workers_serial++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CPU_IDS]);
}

/**
 * mpire_worker_pool_get_daemon:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:daemon].
 *
 * Returns: whether workers are daemons
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_get_daemon (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), TRUE);
  return self->daemon;
}

/**
 * mpire_worker_pool_set_daemon:
 * @self: a pool
 * @daemon: whether workers are daemons
 *
 * Sets [property@Mpire.WorkerPool:daemon].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_daemon (MpireWorkerPool *self,
                              gboolean         daemon)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->daemon, daemon, PROP_DAEMON, TRUE);
}

/**
 * mpire_worker_pool_get_shared_objects:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:shared-objects].
 *
 * Returns: (transfer none) (nullable): the shared objects
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_get_shared_objects (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return self->shared_objects;
}

/**
 * mpire_worker_pool_set_shared_objects:
 * @self: a pool
 * @shared_objects: (nullable): the value shared with every task
 *
 * Sets [property@Mpire.WorkerPool:shared-objects].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_shared_objects (MpireWorkerPool *self,
                                      GVariant        *shared_objects)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (shared_objects != NULL)
    g_variant_ref_sink (shared_objects);
  g_clear_pointer (&self->shared_objects, g_variant_unref);
  self->shared_objects = shared_objects;
  self->workers_serial++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARED_OBJECTS]);
}

/**
 * mpire_worker_pool_get_pass_worker_id:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:pass-worker-id].
 *
 * Returns: whether tasks see their worker's id
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_get_pass_worker_id (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->pass_worker_id;
}

/**
 * mpire_worker_pool_set_pass_worker_id:
 * @self: a pool
 * @pass_worker_id: whether tasks see their worker's id
 *
 * Sets [property@Mpire.WorkerPool:pass-worker-id].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_pass_worker_id (MpireWorkerPool *self,
                                      gboolean         pass_worker_id)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->pass_worker_id, pass_worker_id, PROP_PASS_WORKER_ID, TRUE);
}

/**
 * mpire_worker_pool_get_use_worker_state:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:use-worker-state].
 *
 * Returns: whether workers keep a state
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_get_use_worker_state (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->use_worker_state;
}

/**
 * mpire_worker_pool_set_use_worker_state:
 * @self: a pool
 * @use_worker_state: whether workers keep a state
 *
 * Sets [property@Mpire.WorkerPool:use-worker-state].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_use_worker_state (MpireWorkerPool *self,
                                        gboolean         use_worker_state)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->use_worker_state, use_worker_state, PROP_USE_WORKER_STATE, TRUE);
}

/**
 * mpire_worker_pool_get_keep_alive:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:keep-alive].
 *
 * Returns: whether workers live on between calls
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_get_keep_alive (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->keep_alive;
}

/**
 * mpire_worker_pool_set_keep_alive:
 * @self: a pool
 * @keep_alive: whether workers live on between calls
 *
 * Sets [property@Mpire.WorkerPool:keep-alive].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_keep_alive (MpireWorkerPool *self,
                                  gboolean         keep_alive)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->keep_alive, keep_alive, PROP_KEEP_ALIVE, FALSE);
}

/**
 * mpire_worker_pool_get_order_tasks:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:order-tasks].
 *
 * Returns: whether chunks go to workers in turn
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_get_order_tasks (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->order_tasks;
}

/**
 * mpire_worker_pool_set_order_tasks:
 * @self: a pool
 * @order_tasks: whether chunks go to workers in turn
 *
 * Sets [property@Mpire.WorkerPool:order-tasks].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_order_tasks (MpireWorkerPool *self,
                                   gboolean         order_tasks)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->order_tasks, order_tasks, PROP_ORDER_TASKS, FALSE);
}

/**
 * mpire_worker_pool_get_worker_argv:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:worker-argv].
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   worker program, or %NULL for the current program
 *
 * Since: 0.1
 */
const char * const *
mpire_worker_pool_get_worker_argv (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return (const char * const *) self->worker_argv;
}

/**
 * mpire_worker_pool_set_worker_argv:
 * @self: a pool
 * @worker_argv: (nullable) (array zero-terminated=1): the worker program
 *   and its arguments, or %NULL for the current program
 *
 * Sets [property@Mpire.WorkerPool:worker-argv].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_worker_argv (MpireWorkerPool    *self,
                                   const char * const *worker_argv)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  g_return_if_fail (worker_argv == NULL || worker_argv[0] != NULL);

  g_strfreev (self->worker_argv);
  self->worker_argv = g_strdupv ((char **) worker_argv);
  self->workers_serial++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER_ARGV]);
}

/* A setting that restarts the workers at the next call changed. */
static void
workers_setting_changed (MpireWorkerPool *self,
                         guint            prop_id)
{
  self->workers_serial++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

/**
 * mpire_worker_pool_get_worker_launcher:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:worker-launcher].
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   argv prefix that starts each worker, or %NULL for local workers
 *
 * Since: 0.1
 */
const char * const *
mpire_worker_pool_get_worker_launcher (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return (const char * const *) self->launchers.prefix;
}

/**
 * mpire_worker_pool_set_worker_launcher:
 * @self: a pool
 * @worker_launcher: (nullable) (array zero-terminated=1): the argv
 *   prefix that starts each worker (such as `ssh HOST`), or %NULL
 *
 * Sets [property@Mpire.WorkerPool:worker-launcher].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_worker_launcher (MpireWorkerPool    *self,
                                       const char * const *worker_launcher)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  g_return_if_fail (worker_launcher == NULL || worker_launcher[0] != NULL);
  if (mpire_pool_launchers_set_prefix (&self->launchers, worker_launcher))
    workers_setting_changed (self, PROP_WORKER_LAUNCHER);
}

/**
 * mpire_worker_pool_get_worker_launchers:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:worker-launchers].
 *
 * Returns: (transfer none) (nullable): the launcher prefix of each
 *   worker, an `aas`, or %NULL
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_get_worker_launchers (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return self->launchers.per_worker;
}

/**
 * mpire_worker_pool_set_worker_launchers:
 * @self: a pool
 * @worker_launchers: (nullable): the launcher prefix of each worker, an
 *   `aas` (an empty one: a local worker), or %NULL; a floating
 *   reference is taken
 *
 * Sets [property@Mpire.WorkerPool:worker-launchers].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_worker_launchers (MpireWorkerPool *self,
                                        GVariant        *worker_launchers)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  g_return_if_fail (worker_launchers == NULL ||
                    g_variant_is_of_type (worker_launchers, G_VARIANT_TYPE ("aas")));
  if (mpire_pool_launchers_set_per_worker (&self->launchers, worker_launchers))
    workers_setting_changed (self, PROP_WORKER_LAUNCHERS);
}

/**
 * mpire_worker_pool_get_enable_insights:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:enable-insights].
 *
 * Returns: whether workers measure insights
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_get_enable_insights (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->enable_insights;
}

/**
 * mpire_worker_pool_set_enable_insights:
 * @self: a pool
 * @enable_insights: whether workers measure insights
 *
 * Sets [property@Mpire.WorkerPool:enable-insights].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_set_enable_insights (MpireWorkerPool *self,
                                       gboolean         enable_insights)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->enable_insights, enable_insights, PROP_ENABLE_INSIGHTS, TRUE);
}

/* ---- signals ------------------------------------------------------------ */

static void
emit_progress (GObject *pool,
               gint64   done,
               gint64   total)
{
  g_signal_emit (pool, signals[PROGRESS], 0, done, total);
}

static void
emit_task_failed (GObject      *pool,
                  const GError *error,
                  GVariant     *args)
{
  g_signal_emit (pool, signals[TASK_FAILED], 0, error, args);
}

static void
emit_finished (GObject *pool)
{
  g_signal_emit (pool, signals[FINISHED], 0);
}

static void
emit_worker (GObject       *pool,
             MpireJobEvent  event,
             int            worker_id,
             const GError  *error)
{
  if (event == MPIRE_JOB_WORKER_STARTED)
    g_signal_emit (pool, signals[WORKER_STARTED], 0, worker_id);
  else if (event == MPIRE_JOB_WORKER_EXITED)
    g_signal_emit (pool, signals[WORKER_EXITED], 0, worker_id);
  else
    g_signal_emit (pool, signals[WORKER_DIED], 0, worker_id, error);
}

/* How a call's job makes the pool emit its signals. */
static const MpireMapJobSignals job_signals = {
  emit_progress, emit_task_failed, emit_finished, emit_worker,
};

/* ---- calls ------------------------------------------------------------- */

/* Checks a call of @self and makes its job, the one the pool's scheduler
 * serves. */
MpireMapJob *
mpire_worker_pool_begin_call (MpireWorkerPool  *self,
            MpireTask        *task,
            GVariant         *iterable,
            MpireMapOptions  *options,
            gboolean          ordered,
            gboolean          collect,
            gboolean          apply,
            GError          **error)
{
  g_autoptr(GArray) cpu_sets = NULL;
  MpireSchedulerCall call = { 0 };
  int n_workers = self->n_jobs > 0 ? self->n_jobs : mpire_cpu_count ();
  MpireMapJob *job;

  if (self->n_jobs < 0)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("A pool needs at least one worker; n-jobs is %d (0 means one per CPU)"),
                   self->n_jobs);
      return NULL;
    }
  if (g_getenv (MPIRE_WORKER_FD_ENV) != NULL || g_getenv (MPIRE_WORKER_LAUNCHED_ENV) != NULL)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                           _("This process was started as a worker but never called "
                             "mpire_init(): call it at the start of the program"));
      return NULL;
    }
  if (mpire_worker_is_daemon ())
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED,
                           _("A task in a worker process of a daemon pool cannot run a pool "
                             "of its own; set the outer pool’s daemon property to FALSE to "
                             "allow nested pools"));
      return NULL;
    }
  if (!mpire_task_check_start_method (task, self->start_method, error))
    return NULL;
  if (!mpire_pool_launchers_check (&self->launchers, self->start_method, error))
    return NULL;
  if (self->n_jobs == 0)
    n_workers = mpire_pool_launchers_count (&self->launchers, n_workers);
  /* A task that takes whole chunks takes arrays of the input's type. */
  if (iterable != NULL && mpire_task_get_args_type (task) != NULL &&
      g_variant_is_of_type (iterable, G_VARIANT_TYPE_ARRAY) &&
      !g_variant_type_is_subtype_of (options != NULL && mpire_map_options_get_array_chunks (options)
                                       ? g_variant_get_type (iterable)
                                       : g_variant_type_element (g_variant_get_type (iterable)),
                                     mpire_task_get_args_type (task)))
    {
      g_autofree char *wanted = g_variant_type_dup_string (mpire_task_get_args_type (task));

      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("Task “%s” takes arguments of type “%s”, but the input is of type “%s”"),
                   mpire_task_get_name (task), wanted, g_variant_get_type_string (iterable));
      return NULL;
    }

  if (options != NULL && !mpire_map_options_check_timeouts (options, error))
    return NULL;

  if (self->cpu_ids != NULL)
    {
      cpu_sets = mpire_cpu_sets_parse (self->cpu_ids, n_workers, error);
      if (cpu_sets == NULL)
        return NULL;
    }

  job = apply
    ? mpire_map_job_new_apply (self->scheduler, G_OBJECT (self), &job_signals, task, options,
                               n_workers, error)
    : mpire_map_job_new (self->scheduler, G_OBJECT (self), &job_signals, task, iterable,
                         options, ordered, collect, n_workers, error);
  if (job == NULL)
    return NULL;

  call.workers_serial = self->workers_serial;
  call.n_workers = n_workers;
  call.start_method = self->start_method;
  call.shared_objects = self->shared_objects;
  call.worker_argv = (const char * const *) self->worker_argv;
  call.worker_launchers = self->launchers.effective;
  call.cpu_sets = cpu_sets;
  call.pass_worker_id = self->pass_worker_id;
  call.use_worker_state = self->use_worker_state;
  call.daemon = self->daemon;
  call.enable_insights = self->enable_insights;
  call.keep_alive = self->keep_alive;
  call.order_tasks = self->order_tasks;
  call.apply = apply;
  if (options != NULL)
    {
      MpireTask *init = mpire_map_options_get_worker_init (options);
      MpireTask *exit = mpire_map_options_get_worker_exit (options);

      call.init_name = init != NULL ? mpire_task_get_name (init) : NULL;
      call.exit_name = exit != NULL ? mpire_task_get_name (exit) : NULL;
      call.lifespan = mpire_map_options_get_worker_lifespan (options);
      call.init_timeout = mpire_timeout_usec (mpire_map_options_get_worker_init_timeout (options));
      call.exit_timeout = mpire_timeout_usec (mpire_map_options_get_worker_exit_timeout (options));
    }
  /* Apply tasks may each have a timeout of their own. */
  call.timed = apply || (options != NULL && mpire_map_options_get_task_timeout (options) > 0);
  call.retry = options != NULL && mpire_map_options_get_retry_on_worker_death (options);

  if (!mpire_map_job_claim (job, &call, error))
    {
      mpire_map_job_unref (job);
      return NULL;
    }
  return job;
}

static void
apply_job_changed (MpireMapJob *job,
                   gpointer     data)
{
  MpireWorkerPool *self = data;

  if (mpire_map_job_is_finished (job) && self->apply_job == job)
    g_clear_pointer (&self->apply_job, mpire_map_job_unref);
}

/**
 * mpire_worker_pool_apply_async:
 * @self: a pool
 * @task: the task to run
 * @args: the task's arguments, as a map gives one element of its input
 * @options: (nullable): options (worker-init, worker-exit, task-timeout
 *   and the like), used when the call starts the pool's workers
 * @error: return location for a #GError
 *
 * Runs @task once on a worker without waiting: MPIRE's `apply_async`.
 * Many such tasks run at once, on all the workers; each settles its own
 * [class@Mpire.AsyncResult] (a task that fails fails only its result).
 * The results complete in the thread-default main context of the thread
 * that started the current run of apply tasks. Workers stay after the
 * tasks, for the next ones, until [method@Mpire.WorkerPool.stop_and_join]
 * or [method@Mpire.WorkerPool.terminate].
 *
 * Fails with %MPIRE_ERROR_POOL_BUSY while a map runs.
 *
 * Returns: (transfer full): the task's result-to-be, or %NULL on error
 *
 * Since: 0.1
 */
MpireAsyncResult *
mpire_worker_pool_apply_async (MpireWorkerPool  *self,
                               MpireTask        *task,
                               GVariant         *args,
                               MpireMapOptions  *options,
                               GError          **error)
{
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(MpireAsyncResult) result = NULL;
  MpireMapJob *job;
  double timeout;

  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  g_return_val_if_fail (MPIRE_IS_TASK (task), NULL);
  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (options == NULL || MPIRE_IS_MAP_OPTIONS (options), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (args);
  if (!mpire_task_check_start_method (task, self->start_method, error))
    return NULL;
  timeout = options != NULL ? mpire_map_options_get_task_timeout (options) : -1;
  if (timeout != -1 && !(timeout > 0))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("The task timeout must be a positive number of seconds, or -1 for "
                     "none (it is %g)"), timeout);
      return NULL;
    }

  if (self->apply_job != NULL && !mpire_map_job_is_finished (self->apply_job))
    {
      result = mpire_async_result_new (mpire_map_job_get_context (self->apply_job));
      if (mpire_map_job_add_apply (self->apply_job, task, owned, timeout, G_OBJECT (result)))
        return g_steal_pointer (&result);
      g_clear_object (&result);
    }

  /* A new run of apply tasks, with this first one queued before the
   * workers start. */
  g_clear_pointer (&self->apply_job, mpire_map_job_unref);
  job = mpire_worker_pool_begin_call (self, task, NULL, options, FALSE, TRUE, TRUE, error);
  if (job == NULL)
    return NULL;
  self->apply_job = job;
  result = mpire_async_result_new (g_main_context_get_thread_default () != NULL
                                     ? g_main_context_get_thread_default ()
                                     : g_main_context_default ());
  mpire_map_job_add_apply (job, task, owned, timeout, G_OBJECT (result));
  /* A start that fails fails the result. */
  mpire_map_job_start (job, NULL, apply_job_changed, self);
  return g_steal_pointer (&result);
}

/**
 * mpire_worker_pool_apply:
 * @self: a pool
 * @task: the task to run
 * @args: the task's arguments
 * @options: (nullable): options, as for [method@Mpire.WorkerPool.apply_async]
 * @error: return location for a #GError
 *
 * Runs @task once on a worker and waits for its result: MPIRE's `apply`.
 *
 * Returns: (transfer full): what the task returned, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_apply (MpireWorkerPool  *self,
                         MpireTask        *task,
                         GVariant         *args,
                         MpireMapOptions  *options,
                         GError          **error)
{
  g_autoptr(MpireAsyncResult) result = mpire_worker_pool_apply_async (self, task, args, options, error);

  if (result == NULL)
    return NULL;
  return mpire_async_result_get (result, -1, error);
}

/* ---- insights ---------------------------------------------------------- */

/* For the pool's other files (mpire-worker-pool-insights.c). */
MpireScheduler *
mpire_worker_pool_get_scheduler (MpireWorkerPool *self)
{
  return self->scheduler;
}

/* Tells, in the calling thread, how the workers ended while no call ran. */
static void
emit_worker_events (MpireWorkerPool *self,
                    GArray          *events)
{
  for (guint i = 0; i < events->len; i++)
    {
      MpireWorkerEvent *event = &g_array_index (events, MpireWorkerEvent, i);

      emit_worker (G_OBJECT (self), event->event, event->worker_id, event->error);
    }
}

/* As MPIRE's, a join lets the apply tasks run to their end first. Runs
 * their context until they are done when this thread can (it runs that
 * context, or nobody does), otherwise waits for the thread that runs it. */
static void
wait_for_apply_tasks (MpireWorkerPool *self)
{
  g_autoptr(MpireMapJob) job = self->apply_job != NULL ? mpire_map_job_ref (self->apply_job) : NULL;
  GMainContext *context;

  if (job == NULL || !mpire_scheduler_serves (self->scheduler, job))
    return;

  context = mpire_map_job_get_context (job);
  if (!g_main_context_acquire (context))
    {
      mpire_scheduler_wait_for_release (self->scheduler, job);
      return;
    }
  while (mpire_scheduler_serves (self->scheduler, job))
    g_main_context_iteration (context, TRUE);
  g_main_context_release (context);
}

/**
 * mpire_worker_pool_stop_and_join:
 * @self: a pool
 * @error: return location for a #GError
 *
 * Tells the workers to stop once idle and waits until they all exited.
 * As in MPIRE, tasks of [method@Mpire.WorkerPool.apply_async] run to
 * their end first, so their results can be read afterwards.
 * Kept-alive workers run the latest call's worker_exit then: if one
 * fails or runs past its [property@Mpire.MapOptions:worker-exit-timeout],
 * the workers are gone all the same and this returns that error. The
 * next call starts new workers. Fails with %MPIRE_ERROR_POOL_BUSY while a
 * call is running.
 *
 * Returns: %TRUE once every worker is gone, %FALSE with @error set if a
 *   call is running or a worker_exit failed
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_stop_and_join (MpireWorkerPool  *self,
                                 GError          **error)
{
  g_autoptr(GArray) events = NULL;
  gboolean joined;

  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wait_for_apply_tasks (self);
  joined = mpire_scheduler_stop_and_join (self->scheduler, &events, error);
  emit_worker_events (self, events);
  return joined;
}

/**
 * mpire_worker_pool_join:
 * @self: a pool
 * @error: return location for a #GError
 *
 * The same as [method@Mpire.WorkerPool.stop_and_join], as in MPIRE.
 *
 * Returns: %TRUE once every worker is gone
 *
 * Since: 0.1
 */
gboolean
mpire_worker_pool_join (MpireWorkerPool  *self,
                        GError          **error)
{
  return mpire_worker_pool_stop_and_join (self, error);
}

/**
 * mpire_worker_pool_terminate:
 * @self: a pool
 *
 * Kills every worker process now (SIGKILL) and waits until all are
 * reaped; the running call, if any, fails with
 * %MPIRE_ERROR_POOL_TERMINATED. Threads cannot be killed: a threading
 * pool waits for the task each worker is running. The next call starts
 * new workers.
 *
 * Since: 0.1
 */
void
mpire_worker_pool_terminate (MpireWorkerPool *self)
{
  g_autoptr(GArray) events = NULL;

  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  mpire_scheduler_terminate (self->scheduler, &events);
  emit_worker_events (self, events);
}

/**
 * mpire_worker_pool_get_exit_results:
 * @self: a pool
 *
 * Gets what the [property@Mpire.MapOptions:worker-exit] tasks returned,
 * one result per worker that stopped since the latest call started, in
 * the order the workers stopped: MPIRE's `get_exit_results()`. Without
 * keep-alive a call waits for its workers to stop, so the results are
 * there when it returns; kept-alive workers stop at
 * [method@Mpire.WorkerPool.stop_and_join].
 *
 * Returns: (transfer full): an `av` array of the exit results
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_get_exit_results (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);

  return mpire_scheduler_get_exit_results (self->scheduler);
}

/**
 * mpire_worker_pool_get_n_workers:
 * @self: a pool
 *
 * Gets the number of workers running now (started and not yet gone,
 * including those told to stop).
 *
 * Returns: the number of live workers
 *
 * Since: 0.1
 */
guint
mpire_worker_pool_get_n_workers (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), 0);

  return mpire_scheduler_get_n_workers (self->scheduler);
}
