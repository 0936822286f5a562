/* test-pool.c: the pool's tests on every start method (main); the tests
 * are in test-pool-map.c, -workers.c, -faults.c and -apply.c, their
 * tasks in test-pool-tasks.c
 *
 * Run with --start-method spawn|fork|threading|forkserver. With spawn the
 * binary runs itself again as the worker (with forkserver, as the fork
 * server): tasks are created before mpire_init().
 *
 * SPDX-License-Identifier: MIT
 */

#include "test-pool-common.h"

MpireStartMethod start_method = MPIRE_START_METHOD_SPAWN;

static void
add_test (const char *path,
          GTestFunc   func)
{
  add_method_test ("/mpire/pool", path, func);
}

int
main (int argc, char **argv)
{
  test_pool_create_tasks ();

  mpire_init (&argc, &argv);

  parse_start_method (&argc, argv);
  g_test_init (&argc, &argv, NULL);

  add_test ("map/ordered", test_map_ordered);
  add_test ("map/unordered", test_map_unordered);
  add_test ("map/empty", test_map_empty);
  add_test ("map/arguments", test_map_arguments);
  add_test ("map/mixed-results", test_map_mixed_results);
  add_test ("map/chunking-options", test_map_chunking_options);
  add_test ("map/array-chunks", test_array_chunks);
  add_test ("map/large-chunks", test_large_chunks);
  add_test ("map/fed-by-pool", test_map_fed_by_pool);
  add_test ("map/task-error", test_map_task_error);
  add_test ("map/worker-died", test_map_worker_died);
  add_test ("map/bad-input", test_map_bad_input);
  add_test ("map/unknown-task", test_map_unknown_task);
  add_test ("map/typed-task", test_map_typed_task);
  add_test ("map/busy", test_map_busy);
  add_test ("map/async", test_map_async);
  add_test ("map/cancel", test_map_cancel);
  add_test ("map/failure-leaves-no-worker", test_map_failure_leaves_no_worker);
  add_test ("map/failure-waits-for-threads", test_map_failure_waits_for_threads);
  add_test ("imap/ordered-and-unordered", test_imap);
  add_test ("imap/error", test_imap_error);
  add_test ("imap/lazy-source", test_imap_lazy_source);
  add_test ("imap/back-pressure", test_imap_back_pressure);
  add_test ("imap/async", test_imap_async);
  add_test ("imap-list/ordered", test_imap_list);
  add_test ("imap-list/unordered", test_imap_list_unordered);
  add_test ("imap-list/error", test_imap_list_error);
  add_test ("imap-list/cancel", test_imap_list_cancel);
  add_test ("context/worker-id", test_context_worker_id);
  add_test ("context/shared-objects", test_context_shared_objects);
  add_test ("context/order-tasks", test_order_tasks);
  add_test ("context/worker-state", test_context_worker_state);
  add_test ("context/keep-alive-restarts", test_keep_alive_restarts);
  add_test ("terminate/leaves-nothing", test_terminate_leaves_nothing);
  add_test ("terminate/running-call", test_terminate_running_call);
  add_test ("dispose/leaves-nothing", test_dispose_leaves_nothing);
  add_test ("faults/workers-that-exit", test_workers_that_exit);
  add_test ("faults/parent-dies", test_parent_dies);
  add_test ("faults/parent-dies-mid-task", test_parent_dies_mid_task);
  add_test ("lifecycle/task-timeout", test_task_timeout);
  add_test ("lifecycle/task-timeout-thread-runs-on", test_task_timeout_thread_runs_on);
  add_test ("lifecycle/failure-waits-within-timeout", test_failure_waits_within_timeout);
  add_test ("lifecycle/nested-pools", test_nested_pools);
  add_test ("lifecycle/nested-pools-in-threads", test_nested_pools_in_threads);
  add_test ("lifecycle/cpu-ids", test_cpu_ids);
  add_test ("faults/worker-death", test_worker_death);
  add_test ("faults/worker-death-poison-task", test_worker_death_poison_task);
  add_test ("faults/worker-death-retry-rest", test_worker_death_retry_rest);
  add_test ("stress/random-kills", test_random_kills);
  add_test ("lifecycle/worker-lifespan", test_worker_lifespan);
  add_test ("lifecycle/init-exit", test_init_exit);
  add_test ("lifecycle/init-exit-keep-alive", test_init_exit_keep_alive);
  add_test ("lifecycle/init-exit-errors", test_init_exit_errors);
  add_test ("lifecycle/init-exit-timeouts", test_init_exit_timeouts);
  add_test ("apply/many", test_apply);
  add_test ("apply/waiting", test_apply_waiting);
  add_test ("apply/faults", test_apply_faults);
  add_test ("apply/join", test_apply_join);
  add_test ("apply/ten-thousand", test_apply_ten_thousand);
  add_test ("stress/keep-alive-no-growth", test_keep_alive_no_growth);
  add_test ("signals/progress", test_signals_progress);
  add_test ("signals/rate-limited", test_signals_rate_limited);
  add_test ("signals/held-back", test_signals_held_back);
  add_test ("signals/task-failed", test_signals_task_failed);
  add_test ("signals/async", test_signals_async);
  add_test ("signals/workers", test_signals_workers);
  add_test ("signals/workers-per-call", test_signals_workers_per_call);
  add_test ("workers/small-map-spreads", test_small_map_spreads);
  add_test ("workers/stop-early", test_workers_stop_early);
  add_test ("faults/worker-fds", test_worker_fds);
  if (start_method == MPIRE_START_METHOD_FORKSERVER)
    {
      add_test ("forkserver/one-server", test_forkserver_one_server);
      add_test ("forkserver/server-dies", test_forkserver_server_dies);
    }

  return g_test_run ();
}
