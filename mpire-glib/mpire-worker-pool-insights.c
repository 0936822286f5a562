/* mpire-worker-pool-insights.c: the pool's worker insights
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "mpire-scheduler-private.h"
#include "mpire-worker-pool.h"
#include "mpire-worker-pool-call-private.h"

/**
 * mpire_worker_pool_get_insights:
 * @self: a pool
 *
 * Gets the worker insights, MPIRE's `get_insights()`: where the workers'
 * time went, when [property@Mpire.WorkerPool:enable-insights] was set as
 * they started. An `a{sv}` dictionary with MPIRE's keys, times in
 * seconds (doubles):
 *
 * - `n_completed_tasks` (`at`): tasks completed, per worker;
 * - `start_up_time`, `init_time`, `waiting_time`, `working_time`,
 *   `exit_time` (`ad`), per worker: from the start of the worker to the
 *   moment it can serve, running the
 *   [property@Mpire.MapOptions:worker-init] task, waiting for the next
 *   chunk of tasks (or the order to stop), running tasks, running the
 *   [property@Mpire.MapOptions:worker-exit] task;
 * - for each of those parts, `total_…_time`, `…_time_mean`,
 *   `…_time_std` (over the workers) and `…_ratio` (its share of
 *   `total_time`, the sum of the parts' totals);
 * - `top_5_max_task_durations` (`ad`) and `top_5_max_task_args` (`as`):
 *   the 5 longest tasks, longest first, with their arguments as text.
 *
 * As in MPIRE, the figures start from zero whenever all the workers
 * start (each call without [property@Mpire.WorkerPool:keep-alive]), and
 * add up per worker id while workers are kept alive or replaced (a
 * worker's lifespan, a death), waiting between calls included. The
 * figures of a worker come with each of its answers and when it stops,
 * so they are complete when a call without keep-alive returns.
 *
 * Returns: (transfer full): the insights, an empty dictionary when
 *   insights were off when the workers started (or no call ran yet)
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_get_insights (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);

  return mpire_scheduler_get_insights (mpire_worker_pool_get_scheduler (self));
}

/**
 * mpire_worker_pool_get_insights_json:
 * @self: a pool
 *
 * Gets [method@Mpire.WorkerPool.get_insights] as a JSON object: the same
 * keys, numbers and arrays.
 *
 * Returns: (transfer full): the insights as JSON (`{}` when there are
 *   none)
 *
 * Since: 0.1
 */
char *
mpire_worker_pool_get_insights_json (MpireWorkerPool *self)
{
  g_autoptr(GVariant) insights = NULL;

  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);

  insights = mpire_worker_pool_get_insights (self);
  return json_gvariant_serialize_data (insights, NULL);
}

/**
 * mpire_worker_pool_get_insights_string:
 * @self: a pool
 *
 * Gets the worker insights as the table that
 * [method@Mpire.WorkerPool.print_insights] prints: the total, mean,
 * standard deviation and share of each part of the workers' time, the
 * figures of each worker, and the longest tasks with their arguments.
 *
 * Returns: (transfer full): the insights as text, or a line saying
 *   there are none
 *
 * Since: 0.1
 */
char *
mpire_worker_pool_get_insights_string (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);

  return mpire_scheduler_get_insights_string (mpire_worker_pool_get_scheduler (self));
}

/**
 * mpire_worker_pool_print_insights:
 * @self: a pool
 *
 * Prints [method@Mpire.WorkerPool.get_insights_string] on standard
 * output (with g_print()): MPIRE's `print_insights()`.
 *
 * Since: 0.1
 */
void
mpire_worker_pool_print_insights (MpireWorkerPool *self)
{
  g_autofree char *text = NULL;

  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  text = mpire_worker_pool_get_insights_string (self);
  g_print ("%s", text);
}
