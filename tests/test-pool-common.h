/* test-pool-common.h: what the files of the pool tests share
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire.h"

#include "test-pool-util.h"
#include "test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

/* What the tasks of tally_task did: a threading pool's tasks share the
 * caller's memory, as a C task's data does. */
typedef struct
{
  gint running;  /* atomic: tasks running now */
  gint begun;    /* atomic: tasks begun */
} Tally;

typedef struct
{
  GArray   *done;        /* progress values, in order */
  gint64    total;
  guint     n_finished;
  gboolean  finished_after_last_progress;
  guint     n_failed;
  GError   *failure;
  GVariant *failed_args;
  GThread  *thread;      /* where the signals must arrive */
} SignalLog;

typedef struct
{
  GMainLoop *loop;
  GVariant  *result;
  GError    *error;
} AsyncData;

/* test-pool-tasks.c */
extern MpireTask *square_task, *multiply_task, *kwargs_task, *fail_task, *abort_task;
extern MpireTask *sleepy_task, *mixed_task, *null_task, *whoami_task, *shared_task, *count_task;
extern MpireTask *typed_task, *liar_task;
extern MpireTask *init_zero_task, *init_million_task, *count_even_task, *exit_state_task;
extern MpireTask *init_fails_task, *exit_fails_task, *nested_task, *nested_on_task, *affinity_task;
extern MpireTask *die_once_task, *slow_square_task, *sleepy_lifecycle_task, *pids_task, *sockets_task;
extern MpireTask *add_five_task, *row_sums_task, *chunk_length_task, *crash_task, *tick_task;
extern MpireTask *exit_on_three_task, *log_and_die_once_task;
extern MpireTask *tally_task, *gated_task, *gated_fails_task;
extern int tick_fd;
extern Tally tally;
extern gint gate_open;
extern gint gated_running;

void test_pool_create_tasks (void);
GVariant *count_sockets (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error);
MpireWorkerPool *new_pool (int n_jobs);
gboolean is_process_method (void);
guint count_fds (void);
void collect_descendants (const char *pid,
                          GPtrArray  *pids);
guint count_children (void);
guint n_processes (guint n_jobs);
void assert_settles (guint      (*counter) (void),
                     guint        expected,
                     const char  *what);
void warm_up (void);
void assert_squares (GVariant *result,
                     gint64    n);
void assert_pool_works (MpireWorkerPool *pool,
                        gint64           n);
GError *map_error (MpireWorkerPool *pool,
                   MpireTask       *task,
                   GVariant        *input,
                   MpireMapOptions *options);

/* test-pool-map.c */
void test_map_ordered (void);
void test_map_unordered (void);
void test_map_empty (void);
void test_map_arguments (void);
void test_map_mixed_results (void);
void test_map_chunking_options (void);
void test_map_task_error (void);
void test_map_worker_died (void);
void test_map_bad_input (void);
void test_map_typed_task (void);
void test_map_unknown_task (void);
void test_map_busy (void);
void map_done (GObject      *object,
               GAsyncResult *res,
               gpointer      user_data);
void test_map_async (void);
void test_map_fed_by_pool (void);
void test_map_cancel (void);
void test_map_failure_leaves_no_worker (void);
void test_map_failure_waits_for_threads (void);
void collect_iter (MpireResultIter *iter,
                   GArray          *values);
void test_imap (void);
void test_imap_error (void);
void test_imap_lazy_source (void);
void test_imap_back_pressure (void);
void test_imap_async (void);
void test_imap_list (void);
void test_imap_list_unordered (void);
void test_imap_list_error (void);
void test_imap_list_cancel (void);

/* test-pool-workers.c */
void test_context_worker_id (void);
void test_order_tasks (void);
void test_context_shared_objects (void);
void test_context_worker_state (void);
void test_keep_alive_restarts (void);
void test_terminate_leaves_nothing (void);
void test_terminate_running_call (void);
void test_dispose_leaves_nothing (void);
void test_workers_that_exit (void);
void signal_log_connect (SignalLog       *log,
                         MpireWorkerPool *pool);
void signal_log_clear (SignalLog       *log,
                       MpireWorkerPool *pool);
void assert_progress_complete (SignalLog *log,
                               gint64     total);
void test_signals_progress (void);
void test_signals_rate_limited (void);
void test_signals_held_back (void);
void test_signals_task_failed (void);
void test_signals_async (void);
void test_task_timeout (void);
void test_task_timeout_thread_runs_on (void);
void test_failure_waits_within_timeout (void);
void test_worker_lifespan (void);
void test_cpu_ids (void);
GVariant *die_once_input (const char *marker,
                          int         sig);

/* test-pool-faults.c */
void test_worker_death (void);
void test_worker_death_poison_task (void);
void test_worker_death_retry_rest (void);
GVariant *slow_square (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error);
pid_t parent_of (pid_t pid);
void test_random_kills (void);
void test_nested_pools (void);
void test_nested_pools_in_threads (void);
gint64 sum_exit_results (MpireWorkerPool *pool,
                         guint            n_expected);
void test_init_exit (void);
void test_init_exit_keep_alive (void);
void test_init_exit_errors (void);
void test_init_exit_timeouts (void);
GVariant *flat_rows (gsize n_rows,
                     gsize width);

/* test-pool-apply.c */
void test_large_chunks (void);
void test_array_chunks (void);
void test_apply (void);
void test_apply_waiting (void);
void test_apply_faults (void);
void test_apply_join (void);
void test_apply_ten_thousand (void);
void test_keep_alive_no_growth (void);
void test_signals_workers (void);
void test_signals_workers_per_call (void);
void test_small_map_spreads (void);
void test_workers_stop_early (void);
void test_parent_dies (void);
void test_parent_dies_mid_task (void);
void test_worker_fds (void);
void test_forkserver_one_server (void);
void test_forkserver_server_dies (void);
