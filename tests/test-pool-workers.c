/* test-pool-workers.c: worker context, terminate and dispose, signals, timeouts, lifespan, CPU ids
 *
 * SPDX-License-Identifier: MIT
 */

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-pool-common.h"

void
test_context_worker_id (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (3);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ids = NULL;
  gsize n;
  const gint32 *values;

  ids = mpire_worker_pool_map (pool, whoami_task, range_variant (300), NULL, NULL, &error);
  g_assert_no_error (error);
  values = g_variant_get_fixed_array (ids, &n, sizeof (gint32));
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (values[i], ==, -1);

  g_clear_pointer (&ids, g_variant_unref);
  mpire_worker_pool_set_pass_worker_id (pool, TRUE);
  ids = mpire_worker_pool_map (pool, whoami_task, range_variant (300), NULL, NULL, &error);
  g_assert_no_error (error);
  values = g_variant_get_fixed_array (ids, &n, sizeof (gint32));
  g_assert_cmpuint (n, ==, 300);
  for (gsize i = 0; i < n; i++)
    g_assert_true (values[i] >= 0 && values[i] < 3);
}

void
test_order_tasks (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (3);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ids = NULL;
  const gint32 *values;
  gsize n;

  mpire_worker_pool_set_pass_worker_id (pool, TRUE);
  mpire_worker_pool_set_order_tasks (pool, TRUE);
  mpire_map_options_set_chunk_size (options, 2);
  ids = mpire_worker_pool_map (pool, whoami_task, range_variant (60), options, NULL, &error);
  g_assert_no_error (error);
  values = g_variant_get_fixed_array (ids, &n, sizeof (gint32));
  g_assert_cmpuint (n, ==, 60);
  /* Chunk i (tasks 2i and 2i+1) ran on worker i mod 3. */
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (values[i], ==, (gint32) ((i / 2) % 3));
}

void
test_context_shared_objects (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("{'offset': <@x 1000>}"));
  result = mpire_worker_pool_map (pool, shared_task, range_variant (100), NULL, NULL, &error);
  g_assert_no_error (error);
  for (gint64 i = 0; i < 100; i++)
    {
      gint64 v;
      g_variant_get_child (result, i, "x", &v);
      g_assert_cmpint (v, ==, i + 1000);
    }
}

static gint64
total_of_last_counts (GVariant *counts)
{
  /* Each worker's counter rises 1, 2, 3...: the number of tasks is the
   * number of results, and the largest is at most that. */
  gsize n;
  const gint64 *values = g_variant_get_fixed_array (counts, &n, sizeof (gint64));
  gint64 max = 0;

  for (gsize i = 0; i < n; i++)
    max = MAX (max, values[i]);
  return max;
}

void
test_context_worker_state (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) first = NULL;
  g_autoptr(GVariant) second = NULL;
  g_autoptr(GVariant) fresh = NULL;
  gint64 max_first;

  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  mpire_map_options_set_chunk_size (options, 10);

  first = mpire_worker_pool_map (pool, count_task, range_variant (100), options, NULL, &error);
  g_assert_no_error (error);
  max_first = total_of_last_counts (first);
  g_assert_cmpint (max_first, >=, 50);
  g_assert_cmpint (max_first, <=, 100);

  /* keep-alive: the same workers, counting on. */
  second = mpire_worker_pool_map (pool, count_task, range_variant (100), options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (total_of_last_counts (second), >, max_first);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 2);

  /* Without keep-alive, workers (and their state) start afresh. */
  mpire_worker_pool_set_keep_alive (pool, FALSE);
  g_assert_true (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 0);
  fresh = mpire_worker_pool_map (pool, count_task, range_variant (100), options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (total_of_last_counts (fresh), <=, 100);
  g_assert_cmpint (total_of_last_counts (fresh), >=, 50);
}

/* Runs count on 100 tasks with @options; TRUE if every worker started
 * for this call (its worker_init ran), FALSE if all were kept alive. */
static gboolean
count_on_fresh_workers (MpireWorkerPool *pool,
                        MpireMapOptions *options,
                        gint64           init_value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) counts = mpire_worker_pool_map (pool, count_task, range_variant (100),
                                                      options, NULL, &error);
  gsize n;
  const gint64 *values;
  guint n_fresh = 0;

  g_assert_no_error (error);
  values = g_variant_get_fixed_array (counts, &n, sizeof (gint64));
  for (gsize i = 0; i < n; i++)
    if (values[i] > init_value && values[i] <= init_value + 100)
      n_fresh++;
  g_assert_true (n_fresh == 0 || n_fresh == n);
  return n_fresh == n;
}

/* MPIRE's keep-alive caveats: kept-alive workers do not run a new
 * worker_init, but a change of pass-worker-id, shared-objects or
 * use-worker-state restarts them. */
void
test_keep_alive_restarts (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) zero = mpire_map_options_new ();
  g_autoptr(MpireMapOptions) million = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) squares = NULL;

  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  mpire_map_options_set_worker_init (zero, init_zero_task);
  mpire_map_options_set_chunk_size (zero, 10);
  mpire_map_options_set_worker_init (million, init_million_task);
  mpire_map_options_set_chunk_size (million, 10);

  g_assert_true (count_on_fresh_workers (pool, zero, 0));
  g_assert_false (count_on_fresh_workers (pool, million, 1000000));

  mpire_worker_pool_set_pass_worker_id (pool, TRUE);
  g_assert_true (count_on_fresh_workers (pool, million, 1000000));
  g_assert_false (count_on_fresh_workers (pool, zero, 0));

  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("{'offset': <@x 1>}"));
  g_assert_true (count_on_fresh_workers (pool, zero, 0));

  /* Turning the state off and on again gives new workers too. */
  mpire_worker_pool_set_use_worker_state (pool, FALSE);
  squares = mpire_worker_pool_map (pool, square_task, range_variant (100), NULL, NULL, &error);
  g_assert_no_error (error);
  assert_squares (squares, 100);
  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  g_assert_true (count_on_fresh_workers (pool, million, 1000000));
  /* The workers replaced may take a moment to be gone. */
  for (int i = 0; i < 250 && mpire_worker_pool_get_n_workers (pool) > 2; i++)
    g_usleep (20 * 1000);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 2);
}

void
test_terminate_leaves_nothing (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  guint fds_before, children_before;

  warm_up ();
  fds_before = count_fds ();
  children_before = count_children ();
  pool = new_pool (3);

  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = mpire_worker_pool_map (pool, square_task, range_variant (100), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 3);
  if (is_process_method ())
    g_assert_cmpuint (count_children (), ==, children_before + n_processes (3));

  mpire_worker_pool_terminate (pool);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 0);
  g_assert_cmpuint (count_children (), ==, children_before);

  /* Usable again after terminate. */
  g_clear_pointer (&result, g_variant_unref);
  assert_pool_works (pool, 100);

  g_clear_object (&pool);
  g_assert_cmpuint (count_children (), ==, children_before);
  assert_settles (count_fds, fds_before, "open fds after dispose");
}

void
test_terminate_running_call (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) item = NULL;
  guint children_before = count_children ();

  for (int i = 0; i < 100; i++)
    g_variant_builder_add (builder, "x", (gint64) 20);
  iter = mpire_worker_pool_imap (pool, sleepy_task, g_variant_builder_end (builder), NULL, &error);
  g_assert_no_error (error);
  item = mpire_result_iter_next (iter, NULL, &error);
  g_assert_no_error (error);

  mpire_worker_pool_terminate (pool);
  g_assert_cmpuint (count_children (), ==, children_before);

  /* The rest of the call fails; no result is made up. */
  g_clear_pointer (&item, g_variant_unref);
  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    g_variant_unref (item);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_POOL_TERMINATED);
}

void
test_dispose_leaves_nothing (void)
{
  guint fds_before, children_before;

  warm_up ();
  fds_before = count_fds ();
  children_before = count_children ();

  for (int round = 0; round < 3; round++)
    {
      g_autoptr(MpireWorkerPool) pool = new_pool (2);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;

      mpire_worker_pool_set_keep_alive (pool, round % 2 == 0);
      result = mpire_worker_pool_map (pool, square_task, range_variant (100), NULL, NULL, &error);
      g_assert_no_error (error);
    }

  g_assert_cmpuint (count_children (), ==, children_before);
  assert_settles (count_fds, fds_before, "open fds after dispose");
}

void
test_workers_that_exit (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  const char * const exits[] = { "/bin/sh", "-c", "exit 3", NULL };
  const char * const garbage[] = { "/bin/sh", "-c", "printf 'this is not a frame at all' >&3; sleep 5", NULL };
  /* Results said to be in the shared memory, at a place that cannot be. */
  const char * const bad_shared[] = {
    "/bin/sh", "-c",
    "printf '\\014\\000\\000\\000\\004M\\001\\000\\377\\377\\377\\377\\377\\377\\377\\377\\020\\000\\000\\000' >&3; sleep 5",
    NULL
  };

  if (start_method != MPIRE_START_METHOD_SPAWN && start_method != MPIRE_START_METHOD_FORKSERVER)
    {
      g_test_skip ("worker-argv is for spawned workers and fork servers");
      return;
    }
  if (test_launcher () != NULL)
    {
      g_test_skip ("a launched worker's channel is not fd 3: see test-launcher.c");
      return;
    }

  /* With forkserver, the program is the server: it cannot start any. */
  pool = new_pool (2);
  mpire_worker_pool_set_worker_argv (pool, exits);
  error = map_error (pool, square_task, range_variant (10), NULL);
  g_assert_error (error, MPIRE_ERROR, (start_method == MPIRE_START_METHOD_SPAWN
                                         ? MPIRE_ERROR_WORKER_DIED : MPIRE_ERROR_WORKER_START));
  g_assert_nonnull (strstr (error->message, "status 3"));
  g_clear_error (&error);

  mpire_worker_pool_set_worker_argv (pool, garbage);
  error = map_error (pool, square_task, range_variant (10), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
  g_clear_error (&error);

  mpire_worker_pool_set_worker_argv (pool, bad_shared);
  error = map_error (pool, square_task, range_variant (10), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
  if (start_method == MPIRE_START_METHOD_SPAWN)
    g_assert_nonnull (strstr (error->message, "shared memory"));
  g_clear_error (&error);

  mpire_worker_pool_set_worker_argv (pool, NULL);
  assert_pool_works (pool, 10);
}


static void
on_progress (MpireWorkerPool *pool,
             gint64           done,
             gint64           total,
             SignalLog       *log)
{
  g_assert_true (g_thread_self () == log->thread);
  g_assert_cmpuint (log->n_finished, ==, 0);
  g_array_append_val (log->done, done);
  log->total = total;
}

static void
on_finished (MpireWorkerPool *pool,
             SignalLog       *log)
{
  g_assert_true (g_thread_self () == log->thread);
  log->n_finished++;
  log->finished_after_last_progress = log->done->len > 0;
}

static void
on_task_failed (MpireWorkerPool *pool,
                const GError    *error,
                GVariant        *args,
                SignalLog       *log)
{
  g_assert_true (g_thread_self () == log->thread);
  log->n_failed++;
  g_clear_error (&log->failure);
  log->failure = g_error_copy (error);
  g_clear_pointer (&log->failed_args, g_variant_unref);
  log->failed_args = args != NULL ? g_variant_ref (args) : NULL;
}

void
signal_log_connect (SignalLog       *log,
                    MpireWorkerPool *pool)
{
  memset (log, 0, sizeof *log);
  log->thread = g_thread_self ();
  log->done = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_signal_connect (pool, "progress", G_CALLBACK (on_progress), log);
  g_signal_connect (pool, "finished", G_CALLBACK (on_finished), log);
  g_signal_connect (pool, "task-failed", G_CALLBACK (on_task_failed), log);
}

void
signal_log_clear (SignalLog       *log,
                  MpireWorkerPool *pool)
{
  g_signal_handlers_disconnect_by_data (pool, log);
  g_array_unref (log->done);
  g_clear_error (&log->failure);
  g_clear_pointer (&log->failed_args, g_variant_unref);
}

void
assert_progress_complete (SignalLog *log,
                          gint64     total)
{
  g_assert_cmpuint (log->done->len, >, 0);
  for (guint i = 1; i < log->done->len; i++)
    g_assert_cmpint (g_array_index (log->done, gint64, i - 1), <=, g_array_index (log->done, gint64, i));
  g_assert_cmpint (g_array_index (log->done, gint64, log->done->len - 1), ==, total);
  g_assert_cmpint (log->total, ==, total);
  g_assert_cmpuint (log->n_finished, ==, 1);
  g_assert_true (log->finished_after_last_progress);
}

void
test_signals_progress (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(MpireResultIter) iter = NULL;
  SignalLog log;
  GVariant *item;
  gint64 taken = 0;

  signal_log_connect (&log, pool);
  mpire_map_options_set_chunk_size (options, 50);
  result = mpire_worker_pool_map (pool, square_task, range_variant (10000), options, NULL, &error);
  g_assert_no_error (error);
  assert_progress_complete (&log, 10000);
  g_assert_cmpuint (log.n_failed, ==, 0);
  signal_log_clear (&log, pool);

  /* imap: progress is what the caller has taken. */
  signal_log_connect (&log, pool);
  iter = mpire_worker_pool_imap (pool, square_task, range_variant (2000), options, &error);
  g_assert_no_error (error);
  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    {
      taken++;
      if (log.done->len > 0)
        g_assert_cmpint (g_array_index (log.done, gint64, log.done->len - 1), <=, taken);
      /* It ends with the last result, or once the workers stopped after it. */
      if (taken < 2000)
        g_assert_cmpuint (log.n_finished, ==, 0);
      g_variant_unref (item);
    }
  g_assert_no_error (error);
  assert_progress_complete (&log, 2000);
  signal_log_clear (&log, pool);

  /* An empty map still ends with progress and finished. */
  signal_log_connect (&log, pool);
  g_clear_pointer (&result, g_variant_unref);
  result = mpire_worker_pool_map (pool, square_task, range_variant (0), NULL, NULL, &error);
  g_assert_no_error (error);
  assert_progress_complete (&log, 0);
  signal_log_clear (&log, pool);
}

void
test_signals_rate_limited (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  SignalLog log;
  gint64 start = g_get_monotonic_time ();
  double seconds;

  /* 10,000 chunks, each of which could make an emission. */
  signal_log_connect (&log, pool);
  mpire_map_options_set_chunk_size (options, 100);
  result = mpire_worker_pool_map (pool, square_task, range_variant (1000000), options, NULL, &error);
  g_assert_no_error (error);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  assert_progress_complete (&log, 1000000);
  g_test_message ("%u progress signals in %.2f s", log.done->len, seconds);
  /* About 20 a second, and one at the end. */
  g_assert_cmpuint (log.done->len, <=, 25 * seconds + 2);
  signal_log_clear (&log, pool);
}

/* Progress that the rate limit held back is told once the interval has
 * passed, not only with the next result: four quick tasks, then one of
 * 1.5 s, must show 4 done while the slow one runs. */
void
test_signals_held_back (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  SignalLog log;
  gboolean saw_four = FALSE;

  signal_log_connect (&log, pool);
  mpire_map_options_set_chunk_size (options, 1);
  result = mpire_worker_pool_map (pool, sleepy_task, g_variant_new_parsed ("[@x 0, 0, 0, 0, 1500]"),
                                  options, NULL, &error);
  g_assert_no_error (error);
  assert_progress_complete (&log, 5);
  for (guint i = 0; i < log.done->len; i++)
    saw_four |= g_array_index (log.done, gint64, i) == 4;
  g_assert_true (saw_four);
  signal_log_clear (&log, pool);
}

void
test_signals_task_failed (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  SignalLog log;

  signal_log_connect (&log, pool);
  result = mpire_worker_pool_map (pool, fail_task, range_variant (100), NULL, NULL, &error);
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpuint (log.n_failed, ==, 1);
  g_assert_error (log.failure, TEST_ERROR, 42);
  g_assert_cmpstr (log.failure->message, ==, error->message);
  g_assert_nonnull (log.failed_args);
  assert_printed (log.failed_args, TRUE, "int64 7");
  g_assert_cmpuint (log.n_finished, ==, 1);
  signal_log_clear (&log, pool);
}

/* An _async call: the same signals, in the thread that started it. */
void
test_signals_async (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  AsyncData data = { g_main_loop_new (NULL, FALSE), NULL, NULL };
  SignalLog log;

  /* The signals come in this thread, as for a blocking call. */
  signal_log_connect (&log, pool);
  mpire_worker_pool_map_async (pool, square_task, range_variant (5000), NULL, NULL, map_done, &data);
  g_main_loop_run (data.loop);
  g_assert_no_error (data.error);
  assert_squares (data.result, 5000);
  assert_progress_complete (&log, 5000);
  g_clear_pointer (&data.result, g_variant_unref);
  signal_log_clear (&log, pool);

  signal_log_connect (&log, pool);
  mpire_worker_pool_map_async (pool, fail_task, range_variant (100), NULL, NULL, map_done, &data);
  g_main_loop_run (data.loop);
  g_assert_error (data.error, TEST_ERROR, 42);
  g_assert_cmpuint (log.n_failed, ==, 1);
  assert_printed (log.failed_args, TRUE, "int64 7");
  g_assert_cmpuint (log.n_finished, ==, 1);
  g_clear_error (&data.error);
  signal_log_clear (&log, pool);

  g_main_loop_unref (data.loop);
}

void
test_task_timeout (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gint64 start;

  /* Ten quick tasks and one of 3 s, with a timeout of 0.3 s. */
  mpire_map_options_set_task_timeout (options, 0.3);
  mpire_map_options_set_chunk_size (options, 1);
  start = g_get_monotonic_time ();
  error = map_error (pool, sleepy_task,
                     g_variant_new_parsed ("[@x 1, 1, 1, 1, 1, 3000, 1, 1, 1, 1, 1]"), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "sleepy"));
  g_assert_nonnull (strstr (error->message, "arguments 3000"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2500 * 1000);
  g_clear_error (&error);

  /* Tasks within the timeout pass; the pool is usable. */
  result = mpire_worker_pool_map (pool, sleepy_task, g_variant_new_parsed ("[@x 1, 2, 3]"),
                                  options, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, FALSE, "[true, true, true]");

  mpire_map_options_set_task_timeout (options, 0);
  error = map_error (pool, square_task, range_variant (3), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  mpire_map_options_set_task_timeout (options, -5);
  error = map_error (pool, square_task, range_variant (3), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
}

/* A thread cannot be killed: the task past its timeout runs on and the
 * call does not wait for it, but for the other threads' tasks; once it
 * returns, its thread begins no other task and ends. */
void
test_task_timeout_thread_runs_on (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  gint begun;

  if (is_process_method ())
    {
      g_test_skip ("A worker process past its timeout is killed");
      return;
    }

  pool = new_pool (2);
  g_atomic_int_set (&gate_open, FALSE);
  /* The gated task first in its chunk of two. */
  mpire_map_options_set_task_timeout (options, 0.5);
  mpire_map_options_set_chunk_size (options, 2);
  error = map_error (pool, gated_task, range_variant (12), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "arguments 2"));
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&gated_running), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&tally.running), ==, 0);
  begun = g_atomic_int_get (&tally.begun);

  /* Let it return: its thread ends without beginning the task after it
   * in its chunk, or the chunk it was sent after that one. */
  g_atomic_int_set (&gate_open, TRUE);
  for (int i = 0; i < 3000 && mpire_worker_pool_get_n_workers (pool) > 0; i++)
    g_usleep (10 * 1000);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&gated_running), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&tally.begun), ==, begun);

  assert_pool_works (pool, 100);
}

/* A failed call waits for the tasks its threads still run, but not past
 * their timeout: a task that never returns cannot hold it. */
void
test_failure_waits_within_timeout (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;

  if (is_process_method ())
    {
      g_test_skip ("A worker process of a failed call is killed");
      return;
    }

  pool = new_pool (2);
  g_atomic_int_set (&gate_open, FALSE);
  mpire_map_options_set_task_timeout (options, 0.5);
  mpire_map_options_set_chunk_size (options, 1);
  error = map_error (pool, gated_fails_task, range_variant (6), options);
  g_assert_error (error, TEST_ERROR, 3);
  g_clear_error (&error);
  /* The call returned while the task of 2 still runs. */
  g_assert_cmpint (g_atomic_int_get (&gated_running), ==, 1);

  g_atomic_int_set (&gate_open, TRUE);
  for (int i = 0; i < 3000 && mpire_worker_pool_get_n_workers (pool) > 0; i++)
    g_usleep (10 * 1000);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 0);
  assert_pool_works (pool, 100);
}

/* Every worker runs 10 tasks (2 chunks of 5), then a fresh one takes
 * over: its init and exit run each time. */
void
test_worker_lifespan (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) counts = NULL;
  g_autoptr(GVariant) exits = NULL;
  const gint64 *values;
  gsize n;

  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_map_options_set_worker_init (options, init_zero_task);
  mpire_map_options_set_worker_exit (options, exit_state_task);
  mpire_map_options_set_chunk_size (options, 5);
  mpire_map_options_set_worker_lifespan (options, 10);

  counts = mpire_worker_pool_map (pool, count_task, range_variant (100), options, NULL, &error);
  g_assert_no_error (error);
  values = g_variant_get_fixed_array (counts, &n, sizeof (gint64));
  g_assert_cmpuint (n, ==, 100);
  for (gsize i = 0; i < n; i++)
    g_assert_true (values[i] >= 1 && values[i] <= 10);

  /* Worker lives of at most ten tasks, 100 in all: at least ten lives
   * (a fresh worker may find no work left, when another took it). */
  exits = mpire_worker_pool_get_exit_results (pool);
  g_assert_cmpuint (g_variant_n_children (exits), >=, 10);
  for (gsize i = 0; i < g_variant_n_children (exits); i++)
    {
      g_autoptr(GVariant) box = g_variant_get_child_value (exits, i);
      g_autoptr(GVariant) value = g_variant_get_variant (box);

      g_assert_cmpint (g_variant_get_int64 (value), <=, 10);
    }
  g_assert_cmpint (sum_exit_results (pool, g_variant_n_children (exits)), ==, 100);

  /* Kept-alive workers that ran a lifespan's worth already (each at least
   * the two chunks of 5 it was first sent) are replaced when a call with
   * that lifespan starts: fresh states count the chunks of 5 from 1. */
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  g_clear_pointer (&counts, g_variant_unref);
  counts = mpire_worker_pool_map (pool, count_task, range_variant (40), NULL, NULL, &error);
  g_assert_no_error (error);
  mpire_map_options_set_worker_lifespan (options, 2);
  g_clear_pointer (&counts, g_variant_unref);
  counts = mpire_worker_pool_map (pool, count_task, range_variant (10), options, NULL, &error);
  g_assert_no_error (error);
  values = g_variant_get_fixed_array (counts, &n, sizeof (gint64));
  for (gsize i = 0; i < n; i++)
    g_assert_true (values[i] >= 1 && values[i] <= 5);

  mpire_map_options_set_worker_lifespan (options, -1);
  error = map_error (pool, count_task, range_variant (10), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
}

static void
assert_pinned (MpireWorkerPool *pool,
               GVariant        *cpu_ids,
               guint64          mask_of_worker0,
               guint64          mask_of_worker1)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();

  mpire_worker_pool_set_cpu_ids (pool, cpu_ids);
  mpire_map_options_set_chunk_size (options, 1);
  result = mpire_worker_pool_map (pool, affinity_task, range_variant (20), options, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (result); i++)
    {
      gint32 worker;
      guint64 mask;

      g_variant_get_child (result, i, "(it)", &worker, &mask);
      g_assert_cmpuint (mask, ==, worker == 0 ? mask_of_worker0 : mask_of_worker1);
    }
}

void
test_cpu_ids (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  const char *bad[] = { "[7]", "[0, 1, 0]", "[['a']]", "[@ai []]", "[-1]" };

  if (mpire_cpu_count () < 2)
    {
      g_test_skip ("Needs 2 CPUs");
      return;
    }
  if (test_launcher () != NULL)
    {
      g_test_skip ("Launched workers are not pinned: where they run, the launcher decides");
      return;
    }

  mpire_worker_pool_set_pass_worker_id (pool, TRUE);
  assert_pinned (pool, g_variant_new_parsed ("[0]"), 1, 1);
  assert_pinned (pool, g_variant_new_parsed ("[1, 0]"), 2, 1);
  assert_pinned (pool, g_variant_new_parsed ("[[0, 1], [1]]"), 3, 2);
  assert_pinned (pool, g_variant_new_parsed ("[@au [1]]"), 2, 2);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      mpire_worker_pool_set_cpu_ids (pool, g_variant_new_parsed (bad[i]));
      error = map_error (pool, square_task, range_variant (2), NULL);
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
}

GVariant *
die_once_input (const char *marker,
                int         sig)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("a(xsi)"));

  for (gint64 i = 0; i < 40; i++)
    g_variant_builder_add (builder, "(xsi)", i, marker, sig);
  return g_variant_builder_end (builder);
}
