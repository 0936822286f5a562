/* test-pool-apply.c: array and large chunks, apply, worker signals and processes, the fork server
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

/* Chunks and results of 160 KB or more travel through the memory a
 * worker shares with the pool: every result arrives right, also when the
 * caller holds results (and so their shared memory) as it goes. */
void
test_large_chunks (void)
{
  const gint64 n = 200000;
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autofree gboolean *seen = g_new0 (gboolean, n);
  const double *values;
  gsize len;
  GVariant *item;

  mpire_map_options_set_chunk_size (options, 20000);
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = mpire_worker_pool_map (pool, square_task, range_variant (n), options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, n);
  g_clear_pointer (&result, g_variant_unref);

  mpire_map_options_set_array_chunks (options, TRUE);
  result = mpire_worker_pool_map (pool, add_five_task, flat_rows (n, 1), options, NULL, &error);
  g_assert_no_error (error);
  values = g_variant_get_fixed_array (result, &len, sizeof (double));
  g_assert_cmpuint (len, ==, n);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpfloat (values[i], ==, i + 5.0);

  mpire_map_options_set_array_chunks (options, FALSE);
  iter = mpire_worker_pool_imap_unordered (pool, square_task, range_variant (n), options, &error);
  g_assert_no_error (error);
  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    g_ptr_array_add (held, item);
  g_assert_no_error (error);
  g_assert_cmpuint (held->len, ==, n);
  for (guint i = 0; i < held->len; i++)
    {
      gint64 square = g_variant_get_int64 (held->pdata[i]);
      gint64 root = (gint64) sqrt ((double) square);

      g_assert_cmpint (root * root, ==, square);
      g_assert_false (seen[root]);
      seen[root] = TRUE;
    }

  assert_pool_works (pool, 1000);
  g_assert_true (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_no_error (error);
}

/* MPIRE's numpy chunking: a task gets a chunk of rows as one array, and
 * map joins the arrays it returns. */
void
test_array_chunks (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GArray) lengths = g_array_new (FALSE, FALSE, sizeof (gint64));
  const double *values;
  gsize n;
  SignalLog log = { 0 };

  /* 10 rows of 3 numbers, stored flat, 3 rows a chunk. */
  mpire_map_options_set_array_chunks (options, TRUE);
  mpire_map_options_set_row_width (options, 3);
  mpire_map_options_set_chunk_size (options, 3);
  signal_log_connect (&log, pool);
  result = mpire_worker_pool_map (pool, add_five_task, flat_rows (10, 3), options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ad");
  values = g_variant_get_fixed_array (result, &n, sizeof (double));
  g_assert_cmpuint (n, ==, 30);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (values[i], ==, i + 5.0);
  /* Progress counts rows. */
  assert_progress_complete (&log, 10);
  signal_log_clear (&log, pool);
  g_clear_pointer (&result, g_variant_unref);

  /* One call per chunk: 3, 3, 3 and 1 rows of 3. */
  result = mpire_worker_pool_map (pool, chunk_length_task, flat_rows (10, 3), options, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, FALSE, "[9, 9, 9, 3]");
  g_clear_pointer (&result, g_variant_unref);

  /* Splits count rows too. */
  mpire_map_options_set_chunk_size (options, 0);
  mpire_map_options_set_n_splits (options, 2);
  result = mpire_worker_pool_map (pool, chunk_length_task, flat_rows (10, 3), options, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, FALSE, "[15, 15]");
  g_clear_pointer (&result, g_variant_unref);

  /* Without concatenation: one array per chunk. */
  mpire_map_options_set_concatenate (options, FALSE);
  result = mpire_worker_pool_map (pool, add_five_task, flat_rows (4, 3), options, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, FALSE, "[[5.0, 6.0, 7.0, 8.0, 9.0, 10.0], [11.0, 12.0, 13.0, 14.0, 15.0, 16.0]]");
  g_clear_pointer (&result, g_variant_unref);
  mpire_map_options_set_concatenate (options, TRUE);

  /* Rows as arrays (`aad`): each chunk an `aad`, row sums joined. */
  mpire_map_options_set_row_width (options, 1);
  mpire_map_options_set_n_splits (options, 0);
  mpire_map_options_set_chunk_size (options, 2);
  result = mpire_worker_pool_map (pool, row_sums_task,
                                  g_variant_new_parsed ("[[1.0, 2.0], [3.0], [], [4.0, 4.0, 4.0], [0.5]]"),
                                  options, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, FALSE, "[3.0, 3.0, 0.0, 12.0, 0.5]");
  g_clear_pointer (&result, g_variant_unref);

  /* imap: one result per chunk, in order. */
  mpire_map_options_set_row_width (options, 3);
  mpire_map_options_set_chunk_size (options, 4);
  iter = mpire_worker_pool_imap (pool, chunk_length_task, flat_rows (10, 3), options, &error);
  g_assert_no_error (error);
  collect_iter (iter, lengths);
  g_assert_cmpuint (lengths->len, ==, 3);
  g_assert_cmpint (g_array_index (lengths, gint64, 0), ==, 12);
  g_assert_cmpint (g_array_index (lengths, gint64, 1), ==, 12);
  g_assert_cmpint (g_array_index (lengths, gint64, 2), ==, 6);
  g_clear_object (&iter);

  /* Bad rows. */
  mpire_map_options_set_row_width (options, 0);
  error = map_error (pool, add_five_task, flat_rows (10, 3), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  mpire_map_options_set_row_width (options, 4);
  error = map_error (pool, add_five_task, flat_rows (10, 3), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "whole number of rows"));
  g_clear_error (&error);
  error = map_error (pool, add_five_task, g_variant_new_parsed ("['a', 'b', 'c', 'd']"), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "fixed-size"));
  g_clear_error (&error);
  mpire_map_options_set_array_chunks (options, FALSE);
  error = map_error (pool, add_five_task, flat_rows (10, 4), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "array-chunks"));
  g_clear_error (&error);
}

typedef struct
{
  guint n_completed;
  guint n_failed;
} SettleCount;

static void
count_completed (MpireAsyncResult *result,
                 GVariant         *value,
                 SettleCount      *count)
{
  count->n_completed++;
}

static void
count_failed (MpireAsyncResult *result,
              const GError     *error,
              SettleCount      *count)
{
  count->n_failed++;
}

void
test_apply (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  SettleCount count = { 0, 0 };

  result = mpire_worker_pool_apply (pool, square_task, g_variant_new_int64 (7), NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, TRUE, "int64 49");

  /* Many at once, successes and errors: each settles once, rightly. */
  for (gint64 i = 0; i < 300; i++)
    {
      MpireAsyncResult *r = mpire_worker_pool_apply_async (pool, i % 3 == 0 ? fail_task : square_task,
                                                           g_variant_new_int64 (i % 10), NULL, &error);
      g_assert_no_error (error);
      g_signal_connect (r, "completed", G_CALLBACK (count_completed), &count);
      g_signal_connect (r, "failed", G_CALLBACK (count_failed), &count);
      g_ptr_array_add (results, r);
    }

  /* A map while they run: the pool is busy. */
  error = map_error (pool, square_task, range_variant (3), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_POOL_BUSY);
  g_clear_error (&error);

  for (gint64 i = 0; i < 300; i++)
    {
      MpireAsyncResult *r = results->pdata[i];
      g_autoptr(GVariant) value = mpire_async_result_get (r, -1, &error);
      gint64 x = i % 10;

      g_assert_true (mpire_async_result_ready (r));
      if (i % 3 == 0 && x == 7)
        {
          g_assert_error (error, TEST_ERROR, 42);
          g_assert_false (mpire_async_result_successful (r, NULL));
          g_clear_error (&error);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpint (g_variant_get_int64 (value), ==, i % 3 == 0 ? x : x * x);
          g_assert_true (mpire_async_result_successful (r, NULL));
        }
    }
  g_assert_cmpuint (count.n_completed + count.n_failed, ==, 300);
  g_assert_cmpuint (count.n_failed, ==, 10);

  /* Done: maps run again. */
  g_clear_pointer (&result, g_variant_unref);
  assert_pool_works (pool, 10);
}

void
test_apply_waiting (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireAsyncResult) slow = NULL;
  g_autoptr(GVariant) value = NULL;

  slow = mpire_worker_pool_apply_async (pool, sleepy_task, g_variant_new_int64 (300), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mpire_async_result_successful (slow, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mpire_async_result_wait (slow, 0.01));
  value = mpire_async_result_get (slow, 0.01, &error);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
  g_clear_error (&error);

  g_assert_true (mpire_async_result_wait (slow, -1));
  value = mpire_async_result_get (slow, 0, &error);
  g_assert_no_error (error);
  g_assert_true (mpire_async_result_successful (slow, NULL));
}

/* A task that times out, or whose worker dies, fails alone. */
void
test_apply_faults (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  mpire_map_options_set_task_timeout (options, 0.3);
  for (gint64 i = 0; i < 20; i++)
    g_ptr_array_add (results, mpire_worker_pool_apply_async (pool, sleepy_task,
                                                             g_variant_new_int64 (i == 5 ? 5000 : 10),
                                                             options, &error));
  if (is_process_method ())
    g_ptr_array_add (results, mpire_worker_pool_apply_async (pool, abort_task, g_variant_new_int64 (3),
                                                             NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < results->len; i++)
    {
      g_autoptr(GVariant) value = mpire_async_result_get (results->pdata[i], -1, &error);

      if (i == 5)
        g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
      else if (i == 20)
        g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
      else
        g_assert_no_error (error);
      g_clear_error (&error);
    }
}

/* Twenty count_even tasks on workers that start at zero: each result is
 * x*x, and the workers' exit results add up to the 10 even numbers. */
static GPtrArray *
apply_count_even (MpireWorkerPool *pool)
{
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  GPtrArray *results = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_map_options_set_worker_init (options, init_zero_task);
  mpire_map_options_set_worker_exit (options, exit_state_task);
  for (gint64 i = 0; i < 20; i++)
    {
      g_ptr_array_add (results, mpire_worker_pool_apply_async (pool, count_even_task,
                                                               g_variant_new_int64 (i),
                                                               options, &error));
      g_assert_no_error (error);
    }
  return results;
}

static void
assert_count_even_done (MpireWorkerPool *pool,
                        GPtrArray       *results)
{
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 0);
  for (guint i = 0; i < results->len; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = NULL;

      g_assert_true (mpire_async_result_ready (results->pdata[i]));
      value = mpire_async_result_get (results->pdata[i], 0, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_variant_get_int64 (value), ==, (gint64) i * i);
    }
  g_assert_cmpint (sum_exit_results (pool, 2), ==, 10);
}

typedef struct
{
  MpireWorkerPool *pool;
  GMainLoop       *loop;
} JoinFromThread;

/* Joins while the main loop of another thread completes the results. */
static gpointer
join_from_thread (gpointer data)
{
  JoinFromThread *join = data;
  g_autoptr(GError) error = NULL;

  g_assert_true (mpire_worker_pool_stop_and_join (join->pool, &error));
  g_assert_no_error (error);
  g_main_loop_quit (join->loop);
  return NULL;
}

/* MPIRE's apply_async example: stop_and_join lets the tasks run to their
 * end, and get() works after it; terminate() fails the tasks not done
 * with a clear error rather than leaving get() waiting. */
void
test_apply_join (void)
{
  guint n_children = count_children ();
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GPtrArray) results = apply_count_even (pool);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  JoinFromThread join = { pool, loop };
  GThread *thread;

  g_assert_true (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_no_error (error);
  assert_count_even_done (pool, results);

  /* The same from another thread, while this one runs its main loop. */
  g_ptr_array_unref (results);
  results = apply_count_even (pool);
  thread = g_thread_new ("join", join_from_thread, &join);
  g_main_loop_run (loop);
  g_thread_join (thread);
  assert_count_even_done (pool, results);

  g_ptr_array_set_size (results, 0);
  for (gint64 i = 0; i < 6; i++)
    {
      /* A thread cannot be killed: terminate waits for its task. */
      g_ptr_array_add (results, mpire_worker_pool_apply_async (pool, sleepy_task,
                                                               g_variant_new_int64 (is_process_method () ? 5000 : 200),
                                                               NULL, &error));
      g_assert_no_error (error);
    }
  mpire_worker_pool_terminate (pool);
  for (guint i = 0; i < results->len; i++)
    {
      g_autoptr(GVariant) value = mpire_async_result_get (results->pdata[i], -1, &error);

      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_POOL_TERMINATED);
      g_assert_false (mpire_async_result_successful (results->pdata[i], NULL));
      g_clear_error (&error);
    }
  assert_settles (count_children, n_children, "child processes");
}

/* Issue 3's acceptance: 10,000 apply_async calls, successes, errors and
 * timeouts mixed: every result settles exactly once, rightly. */
void
test_apply_ten_thousand (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) timed = mpire_map_options_new ();
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  SettleCount count = { 0, 0 };
  guint n_timeouts = 0, n_errors = 0;

  mpire_map_options_set_task_timeout (timed, 0.2);
  for (gint64 i = 0; i < 10000; i++)
    {
      g_autoptr(GError) error = NULL;
      MpireAsyncResult *r;

      if (i % 1000 == 500)
        r = mpire_worker_pool_apply_async (pool, sleepy_task, g_variant_new_int64 (2000), timed, &error);
      else if (i % 7 == 0)
        r = mpire_worker_pool_apply_async (pool, fail_task, g_variant_new_int64 (7), NULL, &error);
      else
        r = mpire_worker_pool_apply_async (pool, square_task, g_variant_new_int64 (i), timed, &error);
      g_assert_no_error (error);
      g_signal_connect (r, "completed", G_CALLBACK (count_completed), &count);
      g_signal_connect (r, "failed", G_CALLBACK (count_failed), &count);
      g_ptr_array_add (results, r);
    }

  for (gint64 i = 0; i < 10000; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = mpire_async_result_get (results->pdata[i], -1, &error);

      if (i % 1000 == 500)
        {
          g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
          n_timeouts++;
        }
      else if (i % 7 == 0)
        {
          g_assert_error (error, TEST_ERROR, 42);
          n_errors++;
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpint (g_variant_get_int64 (value), ==, i * i);
        }
    }
  g_assert_cmpuint (n_timeouts, ==, 10);
  g_assert_cmpuint (count.n_completed + count.n_failed, ==, 10000);
  g_assert_cmpuint (count.n_failed, ==, n_timeouts + n_errors);
}

static guint64
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
}

/* Issue 3's acceptance: 1,000 maps on one keep-alive pool; the pool's
 * process uses no more memory or fds after the last than after the
 * tenth (MPIRE users report a leak per map). */
void
test_keep_alive_no_growth (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GVariant) input = g_variant_ref_sink (range_variant (200));
  guint64 rss_10 = 0;
  guint fds_10 = 0;

  mpire_worker_pool_set_keep_alive (pool, TRUE);
  for (int i = 1; i <= 1000; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = mpire_worker_pool_map (pool, square_task, input, NULL, NULL, &error);

      g_assert_no_error (error);
      if (i == 10)
        {
          rss_10 = rss_kib ();
          fds_10 = count_fds ();
        }
    }

  g_test_message ("RSS after 10 maps %" G_GUINT64_FORMAT " KiB, after 1000 %" G_GUINT64_FORMAT " KiB",
                  rss_10, rss_kib ());
  g_assert_cmpuint (count_fds (), <=, fds_10);
#ifdef __SANITIZE_ADDRESS__
  /* ASan's quarantine keeps freed memory: LeakSanitizer judges here. */
  (void) rss_10;
#else
  /* Within noise: allocator slack, not a leak of 990 maps. */
  g_assert_cmpuint (rss_kib (), <=, rss_10 + 2048);
#endif
}

typedef struct
{
  guint n_started;
  guint n_exited;
  guint n_died;
} WorkerLog;

static void
on_worker_started (MpireWorkerPool *pool, int id, WorkerLog *log)
{
  g_assert_true (id >= 0 && id < 2);
  log->n_started++;
}

static void
on_worker_exited (MpireWorkerPool *pool, int id, WorkerLog *log)
{
  log->n_exited++;
}

static void
on_worker_died (MpireWorkerPool *pool, int id, const GError *error, WorkerLog *log)
{
  g_assert_error ((GError *) error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  log->n_died++;
}

void
test_signals_workers (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  WorkerLog log = { 0, 0, 0 };

  g_signal_connect (pool, "worker-started", G_CALLBACK (on_worker_started), &log);
  g_signal_connect (pool, "worker-exited", G_CALLBACK (on_worker_exited), &log);
  g_signal_connect (pool, "worker-died", G_CALLBACK (on_worker_died), &log);

  /* Without keep-alive the call starts and stops its workers. */
  result = mpire_worker_pool_map (pool, square_task, range_variant (100), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (log.n_started, ==, 2);
  g_assert_cmpuint (log.n_exited, ==, 2);
  g_assert_cmpuint (log.n_died, ==, 0);

  /* Kept alive, they end at the join, which tells. */
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  g_clear_pointer (&result, g_variant_unref);
  result = mpire_worker_pool_map (pool, square_task, range_variant (100), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (log.n_started, ==, 4);
  g_assert_cmpuint (log.n_exited, ==, 2);
  g_assert_true (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_cmpuint (log.n_exited, ==, 4);

  if (is_process_method ())
    {
      error = map_error (pool, abort_task, range_variant (10), NULL);
      g_clear_error (&error);
      mpire_worker_pool_terminate (pool);
      g_assert_cmpuint (log.n_died, >=, 1);
      g_assert_cmpuint (log.n_started, ==, log.n_exited + log.n_died);
    }
  g_signal_handlers_disconnect_by_data (pool, &log);
}

static void
assert_worker_log (WorkerLog *log,
                   guint      n_started,
                   guint      n_exited,
                   guint      n_died)
{
  g_assert_cmpuint (log->n_started, ==, n_started);
  g_assert_cmpuint (log->n_exited, ==, n_exited);
  g_assert_cmpuint (log->n_died, ==, n_died);
  *log = (WorkerLog) { 0, 0, 0 };
}

/* Each call tells the start and the end of its own workers, once, before
 * it returns: a failed call too, and its workers' end does not leak into
 * the next call. A worker that dies is told as dead even when the pool
 * had told it to stop behind its last chunk. */
void
test_signals_workers_per_call (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *marker = NULL;
  WorkerLog log = { 0, 0, 0 };

  g_signal_connect (pool, "worker-started", G_CALLBACK (on_worker_started), &log);
  g_signal_connect (pool, "worker-exited", G_CALLBACK (on_worker_exited), &log);
  g_signal_connect (pool, "worker-died", G_CALLBACK (on_worker_died), &log);

  for (int round = 0; round < 2; round++)
    {
      /* A task's error fails the call. */
      error = map_error (pool, fail_task, range_variant (100), NULL);
      g_assert_error (error, TEST_ERROR, 42);
      g_clear_error (&error);
      assert_worker_log (&log, 2, 2, 0);

      assert_pool_works (pool, 100);
      assert_worker_log (&log, 2, 2, 0);
    }

  if (is_process_method ())
    {
      /* A worker that crashes fails the call. */
      error = map_error (pool, abort_task, range_variant (10), NULL);
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
      g_clear_error (&error);
      assert_worker_log (&log, 2, 1, 1);
      assert_pool_works (pool, 100);
      assert_worker_log (&log, 2, 2, 0);

      /* One chunk: both workers are told to stop at once, and the one
       * that runs it exits with status 3 in its task. */
      mpire_map_options_set_chunk_size (options, 1);
      error = map_error (pool, exit_on_three_task, g_variant_new_parsed ("[@x 3]"), options);
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
      g_assert_nonnull (strstr (error->message, "status 3"));
      g_clear_error (&error);
      assert_worker_log (&log, 2, 1, 1);
      assert_pool_works (pool, 100);
      assert_worker_log (&log, 2, 2, 0);

      /* The same with a retry: the chunk runs again on a new worker (the
       * pool fills both slots, both stopped already). */
      dir = g_dir_make_tmp ("mpire-test-XXXXXX", NULL);
      marker = g_build_filename (dir, "died", NULL);
      mpire_map_options_set_retry_on_worker_death (options, TRUE);
      result = mpire_worker_pool_map (pool, die_once_task,
                                      g_variant_new_parsed ("[(@x 3, %s, @i 9)]", marker),
                                      options, NULL, &error);
      g_assert_no_error (error);
      assert_printed (result, TRUE, "[int64 9]");
      assert_worker_log (&log, 4, 3, 1);
      g_unlink (marker);
      g_rmdir (dir);
    }

  mpire_worker_pool_terminate (pool);
  assert_worker_log (&log, 0, 0, 0);
  g_signal_handlers_disconnect_by_data (pool, &log);
}

/* A map of as many tasks as workers runs them side by side: each worker
 * gets a chunk before any gets a second (which would make the tasks
 * wait for each other). */
void
test_small_map_spreads (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  const gint64 ms[] = { 500, 500 };
  gint64 start = g_get_monotonic_time ();

  result = mpire_worker_pool_map (pool, sleepy_task,
                                  g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ms, 2,
                                                             sizeof (gint64)),
                                  NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 900 * G_TIME_SPAN_MILLISECOND);
}

static void
on_worker_exited_at (MpireWorkerPool *pool, int id, GArray *times)
{
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (times, now);
}

/* Without keep-alive, a worker with nothing left to run is told to stop
 * at once: it ends while the others still work, and the call returns
 * once all are gone. */
void
test_workers_stop_early (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GArray) exits = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  const gint64 ms[] = { 0, 600 };
  guint n_children = count_children ();
  gint64 end;

  g_signal_connect (pool, "worker-exited", G_CALLBACK (on_worker_exited_at), exits);
  result = mpire_worker_pool_map (pool, sleepy_task,
                                  g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ms, 2,
                                                             sizeof (gint64)),
                                  NULL, NULL, &error);
  end = g_get_monotonic_time ();
  g_assert_no_error (error);
  g_assert_cmpuint (exits->len, ==, 2);
  g_assert_cmpint (g_array_index (exits, gint64, 0), <, end - 300 * G_TIME_SPAN_MILLISECOND);
  /* Reaped before the call returned (a fork server stays until the join). */
  if (start_method != MPIRE_START_METHOD_FORKSERVER)
    g_assert_cmpuint (count_children (), ==, n_children);
  g_signal_handlers_disconnect_by_data (pool, exits);
}

static char *
pid_file_path (pid_t test_pid)
{
  g_autofree char *name = g_strdup_printf ("mpire-test-%d.pids", (int) test_pid);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

/* In the test's subprocess: the pids of its descendants (the workers),
 * for the test to check once the subprocess is gone. */
static void
write_descendants (void)
{
  g_autoptr(GPtrArray) descendants = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *list = NULL;
  g_autofree char *path = pid_file_path (getppid ());

  collect_descendants ("self", descendants);
  g_ptr_array_add (descendants, NULL);
  list = g_strjoinv (" ", (char **) descendants->pdata);
  g_assert_true (g_file_set_contents (path, list, -1, NULL));
}

/* The subprocess's workers (write_descendants()) are gone within
 * @seconds. Orphans are reaped by init once they exit. */
static void
assert_descendants_gone (int seconds)
{
  g_autofree char *path = pid_file_path (getpid ());
  g_autofree char *contents = NULL;
  g_auto(GStrv) pids = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_unlink (path);
  pids = g_strsplit (g_strstrip (contents), " ", -1);
  g_assert_cmpuint (g_strv_length (pids), ==, n_processes (2));

  for (guint i = 0; pids[i] != NULL; i++)
    {
      pid_t pid = (pid_t) g_ascii_strtoll (pids[i], NULL, 10);
      int tries = 0;

      while (kill (pid, 0) == 0 && tries++ < seconds * 100)
        g_usleep (10 * 1000);
      g_assert_cmpint (kill (pid, 0), ==, -1);
    }
}

/* Workers must not outlive a pool whose process dies without cleaning
 * up (a crash, _exit()): they see their channel close and exit. */
void
test_parent_dies (void)
{
  if (!is_process_method ())
    {
      g_test_skip ("Threads end with their process");
      return;
    }

  if (g_test_subprocess ())
    {
      g_autoptr(MpireWorkerPool) pool = new_pool (2);
      g_autoptr(GVariant) result = NULL;

      mpire_worker_pool_set_keep_alive (pool, TRUE);
      result = mpire_worker_pool_map (pool, square_task, range_variant (100), NULL, NULL, NULL);
      g_assert_nonnull (result);
      write_descendants ();
      _exit (0);
    }

  /* Inherited: orphaned workers would hold captured pipes open. */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  assert_descendants_gone (5);
}

/* Nor when their tasks run long: a worker process in the middle of a
 * task ends as soon as its pool's process is killed. */
void
test_parent_dies_mid_task (void)
{
  if (!is_process_method ())
    {
      g_test_skip ("Threads end with their process");
      return;
    }

  if (g_test_subprocess ())
    {
      g_autoptr(MpireWorkerPool) pool = new_pool (2);
      g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
      g_autoptr(GVariant) input = g_variant_ref_sink (g_variant_new_parsed ("[@x 60000, 60000]"));

      mpire_map_options_set_chunk_size (options, 1);
      mpire_worker_pool_map_async (pool, sleepy_task, input, options, NULL, NULL, NULL);
      /* Both workers begin their minute-long task. */
      g_usleep (G_USEC_PER_SEC / 2);
      write_descendants ();
      raise (SIGKILL);
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_failed ();

  /* Well before their task's minute is up. */
  assert_descendants_gone (10);
}

/* A worker holds its own channel, and no other worker's, nor anything
 * of the pool's (a fork server's control socket). */
void
test_worker_fds (void)
{
  int inheritable[3] = { -1, -1, -1 };
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  if (!is_process_method ())
    {
      g_test_skip ("Threads share their process’s fds");
      return;
    }

  /* A spawned worker inherits no fd of the program's but its standard
   * ones, even one the program left open across exec. */
  if (start_method == MPIRE_START_METHOD_SPAWN)
    {
      g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, inheritable), ==, 0);
      /* Above the fds the worker is given, which would replace it. */
      inheritable[2] = fcntl (inheritable[0], F_DUPFD, 50);
      g_assert_cmpint (inheritable[2], >=, 50);
    }

  pool = new_pool (3);
  mpire_map_options_set_chunk_size (options, 1);
  result = mpire_worker_pool_map (pool, sockets_task, range_variant (30), options, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (result); i++)
    {
      gint32 n;

      g_variant_get_child (result, i, "i", &n);
      /* A launched worker reads its channel from one copy of its
       * standard input and writes it to one of its standard output. */
      g_assert_cmpint (n, ==, test_launcher () != NULL ? 2 : 1);
    }
  for (guint i = 0; start_method == MPIRE_START_METHOD_SPAWN && i < G_N_ELEMENTS (inheritable); i++)
    close (inheritable[i]);
}

/* The number of sockets this process has open. */
static gint32
sockets_open (void)
{
  g_autoptr(GVariant) n = count_sockets (NULL, NULL, NULL, NULL);

  return g_variant_get_int32 (n);
}

/* The one parent of the workers that ran pids_task for @result, and how
 * many workers there were. */
static pid_t
common_parent (GVariant *result,
               guint    *n_workers)
{
  g_autoptr(GHashTable) workers = g_hash_table_new (NULL, NULL);
  gint32 parent = 0;

  g_assert_cmpuint (g_variant_n_children (result), >, 0);
  for (gsize i = 0; i < g_variant_n_children (result); i++)
    {
      gint32 pid, ppid;

      g_variant_get_child (result, i, "(ii)", &pid, &ppid);
      if (i == 0)
        parent = ppid;
      g_assert_cmpint (ppid, ==, parent);
      g_hash_table_add (workers, GINT_TO_POINTER (pid));
    }
  if (n_workers != NULL)
    *n_workers = g_hash_table_size (workers);
  return parent;
}

static guint
count_descendants_of (pid_t pid)
{
  g_autofree char *name = g_strdup_printf ("%d", (int) pid);
  g_autoptr(GPtrArray) pids = g_ptr_array_new_with_free_func (g_free);

  collect_descendants (name, pids);
  return pids->len;
}

/* One fork server, a child of the pool's process, forks every worker of
 * the pool: replacements at the end of a worker's lifespan and the
 * workers of the next call too. It reaps them, and the pool reaps it. */
void
test_forkserver_one_server (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  guint fds_before, children_before, n_workers;
  gint32 sockets_before;
  pid_t server;

  warm_up ();
  fds_before = count_fds ();
  children_before = count_children ();
  sockets_before = sockets_open ();
  pool = new_pool (2);
  g_assert_cmpuint (count_children (), ==, children_before);

  mpire_map_options_set_chunk_size (options, 1);
  mpire_map_options_set_worker_lifespan (options, 1);
  result = mpire_worker_pool_map (pool, pids_task, range_variant (20), options, NULL, &error);
  g_assert_no_error (error);
  server = common_parent (result, &n_workers);
  g_assert_cmpuint (n_workers, ==, 20);
  g_assert_cmpint (server, !=, getpid ());
  g_assert_cmpint (parent_of (server), ==, getpid ());
  /* The call waited for its workers to stop: the server reaped them. */
  g_assert_cmpuint (count_descendants_of (server), ==, 0);
  g_assert_cmpuint (count_children (), ==, children_before + 1);

  g_clear_pointer (&result, g_variant_unref);
  result = mpire_worker_pool_map (pool, pids_task, range_variant (4), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (common_parent (result, NULL), ==, server);

  g_assert_true (mpire_worker_pool_join (pool, &error));
  g_assert_cmpint (kill (server, 0), ==, -1);
  g_assert_cmpuint (count_children (), ==, children_before);
  g_assert_cmpint (sockets_open (), ==, sockets_before);

  /* Another call starts another server, which goes when the pool stops
   * using the forkserver start method. */
  g_clear_pointer (&result, g_variant_unref);
  result = mpire_worker_pool_map (pool, square_task, range_variant (10), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_children (), ==, children_before + 1);
  mpire_worker_pool_set_start_method (pool, MPIRE_START_METHOD_THREADING);
  g_assert_cmpuint (count_children (), ==, children_before);
  g_assert_cmpint (sockets_open (), ==, sockets_before);

  g_clear_object (&pool);
  assert_settles (count_fds, fds_before, "open fds after dispose");
}

/* A fork server that dies takes its workers with it: the running call
 * fails saying so, and the next call gets a new server. */
void
test_forkserver_server_dies (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) item = NULL;
  guint children_before = count_children ();
  pid_t server, new_server;

  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = mpire_worker_pool_map (pool, pids_task, range_variant (4), NULL, NULL, &error);
  g_assert_no_error (error);
  server = common_parent (result, NULL);

  /* Two seconds of work at least: the server dies in the middle. */
  for (int i = 0; i < 80; i++)
    g_variant_builder_add (builder, "x", (gint64) 50);
  mpire_map_options_set_chunk_size (options, 1);
  iter = mpire_worker_pool_imap (pool, sleepy_task, g_variant_builder_end (builder), options, &error);
  g_assert_no_error (error);
  item = mpire_result_iter_next (iter, NULL, &error);
  g_assert_no_error (error);
  g_assert_no_errno (kill (server, SIGKILL));

  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    g_variant_unref (item);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_assert_nonnull (strstr (error->message, "fork server died"));
  g_clear_error (&error);
  g_clear_object (&iter);

  g_clear_pointer (&result, g_variant_unref);
  result = mpire_worker_pool_map (pool, pids_task, range_variant (4), NULL, NULL, &error);
  g_assert_no_error (error);
  new_server = common_parent (result, NULL);
  g_assert_cmpint (new_server, !=, server);
  g_assert_cmpint (parent_of (new_server), ==, getpid ());

  mpire_worker_pool_terminate (pool);
  g_assert_cmpuint (count_children (), ==, children_before);
}
