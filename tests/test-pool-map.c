/* test-pool-map.c: map, imap and imap_list
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
test_map_ordered (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);

  assert_pool_works (pool, 100000);
}

void
test_map_unordered (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GHashTable) set = g_hash_table_new (g_int64_hash, g_int64_equal);
  const gint64 *values;
  gsize n;

  result = mpire_worker_pool_map_unordered (pool, square_task, range_variant (10000), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ax");
  values = g_variant_get_fixed_array (result, &n, sizeof (gint64));
  g_assert_cmpuint (n, ==, 10000);

  /* Every square, exactly once. */
  for (gsize i = 0; i < n; i++)
    g_assert_true (g_hash_table_add (set, (gpointer) &values[i]));
  for (gint64 i = 0; i < 10000; i++)
    {
      gint64 sq = i * i;
      g_assert_true (g_hash_table_contains (set, &sq));
    }
}

void
test_map_empty (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  result = mpire_worker_pool_map (pool, square_task, range_variant (0), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "av");
  g_assert_cmpuint (g_variant_n_children (result), ==, 0);
}

void
test_map_arguments (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) products = NULL;
  g_autoptr(GVariant) kw_products = NULL;
  g_autoptr(GVariantBuilder) pairs = g_variant_builder_new (G_VARIANT_TYPE ("a(xx)"));
  g_autoptr(GVariant) dicts = g_variant_ref_sink (g_variant_new_parsed (
    "[{'x': <@x 2>, 'y': <@x 100>}, {'y': <@x 101>, 'x': <@x 3>}]"));

  for (gint64 i = 0; i < 100; i++)
    g_variant_builder_add (pairs, "(xx)", i, i + 100);

  products = mpire_worker_pool_map (pool, multiply_task, g_variant_builder_end (pairs), NULL, NULL, &error);
  g_assert_no_error (error);
  for (gint64 i = 0; i < 100; i++)
    {
      gint64 v;
      g_variant_get_child (products, i, "x", &v);
      g_assert_cmpint (v, ==, i * (i + 100));
    }

  kw_products = mpire_worker_pool_map (pool, kwargs_task, dicts, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_printed (kw_products, TRUE, "[int64 200, 303]");
}

void
test_map_mixed_results (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();

  /* One chunk per task: chunks of single types, mixed across chunks. */
  mpire_map_options_set_chunk_size (options, 1);
  result = mpire_worker_pool_map (pool, mixed_task, range_variant (4), options, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, FALSE, "[<int64 0>, <'odd'>, <int64 2>, <'odd'>]");

  g_clear_pointer (&result, g_variant_unref);
  mpire_map_options_set_chunk_size (options, 3);
  result = mpire_worker_pool_map (pool, mixed_task, range_variant (4), options, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, FALSE, "[<int64 0>, <'odd'>, <int64 2>, <'odd'>]");
}

void
test_map_chunking_options (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (3);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  const gint64 chunk_sizes[] = { 1, 7, 1000, 5000 };

  for (gsize i = 0; i < G_N_ELEMENTS (chunk_sizes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;

      mpire_map_options_set_chunk_size (options, chunk_sizes[i]);
      result = mpire_worker_pool_map (pool, square_task, range_variant (2000), options, NULL, &error);
      g_assert_no_error (error);
      assert_squares (result, 2000);
    }

  for (gint64 splits = 1; splits < 2048; splits *= 9)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;

      mpire_map_options_set_chunk_size (options, 0);
      mpire_map_options_set_n_splits (options, splits);
      result = mpire_worker_pool_map (pool, square_task, range_variant (1000), options, NULL, &error);
      g_assert_no_error (error);
      assert_squares (result, 1000);
    }

  /* iterable-len takes the first elements only. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) result = NULL;

    mpire_map_options_set_iterable_len (options, 10);
    result = mpire_worker_pool_map (pool, square_task, range_variant (1000), options, NULL, &error);
    g_assert_no_error (error);
    assert_squares (result, 10);
  }
}

void
test_map_task_error (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;

  error = map_error (pool, fail_task, range_variant (100), NULL);
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_true (g_str_has_prefix (error->message, "seven is not allowed"));
  g_assert_nonnull (strstr (error->message, "fail-on-seven"));
  g_assert_nonnull (strstr (error->message, "worker "));
  g_assert_nonnull (strstr (error->message, "arguments 7"));
  g_clear_error (&error);

  /* A task that returns NULL without an error. */
  error = map_error (pool, null_task, range_variant (5), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_FAILED);
  g_clear_error (&error);

  /* The pool is still usable. */
  assert_pool_works (pool, 1000);
}

void
test_map_worker_died (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  if (!is_process_method ())
    {
      g_test_skip ("A thread that aborts takes the whole process with it");
      return;
    }

  pool = new_pool (2);
  error = map_error (pool, abort_task, range_variant (10), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_assert_nonnull (strstr (error->message, "signal 6"));
  g_assert_nonnull (strstr (error->message, "abort-on-three"));
  g_clear_error (&error);

  assert_pool_works (pool, 1000);
}

void
test_map_bad_input (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  error = map_error (pool, square_task, g_variant_new_int64 (3), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  result = mpire_worker_pool_map (pool, square_task, NULL, NULL, NULL, &error);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  mpire_map_options_set_chunk_size (options, -4);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), options, NULL, &error);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  mpire_worker_pool_set_n_jobs (pool, -1);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), NULL, NULL, &error);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Wrong argument types are the task's business: it fails cleanly. */
  mpire_worker_pool_set_n_jobs (pool, 2);
  result = mpire_worker_pool_map (pool, multiply_task, g_variant_new_parsed ("[@(xx) (1, 2)]"),
                                  NULL, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, TRUE, "[int64 2]");
}

static GVariant *
one_string (gpointer  user_data,
            GError  **error)
{
  gboolean *done = user_data;

  if (*done)
    return NULL;
  *done = TRUE;
  return g_variant_new_string ("not a number");
}

/* Declared argument and result types turn type mistakes into errors. */
void
test_map_typed_task (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gboolean done = FALSE;

  error = map_error (pool, typed_task, g_variant_new_parsed ("['a', 'b']"), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“x”"));
  g_clear_error (&error);

  /* A lazy source is checked task by task, in the worker. */
  mpire_map_options_set_source (options, one_string, &done, NULL);
  mpire_map_options_set_chunk_size (options, 1);
  error = map_error (pool, typed_task, NULL, options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not a number"));
  g_clear_error (&error);

  error = map_error (pool, liar_task, range_variant (3), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_FAILED);
  g_clear_error (&error);

  /* An empty input has the declared result type. */
  result = mpire_worker_pool_map (pool, typed_task, range_variant (0), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ax");
  g_clear_pointer (&result, g_variant_unref);

  result = mpire_worker_pool_map (pool, typed_task, range_variant (100), NULL, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 100);
}

void
test_map_unknown_task (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireTask) local_task = NULL;
  g_autoptr(GError) error = NULL;

  if (start_method != MPIRE_START_METHOD_SPAWN && start_method != MPIRE_START_METHOD_FORKSERVER)
    {
      g_test_skip ("Only workers that run the program again have a registry of their own");
      return;
    }

  /* Created after mpire_init(): the worker program never registers it. */
  local_task = mpire_task_new ("only-in-the-parent", square, NULL, NULL);
  pool = new_pool (2);
  error = map_error (pool, local_task, range_variant (10), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_NOT_REGISTERED);
  g_assert_nonnull (strstr (error->message, "only-in-the-parent"));
}

void
test_map_busy (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) first = NULL;

  iter = mpire_worker_pool_imap (pool, square_task, range_variant (100), NULL, &error);
  g_assert_no_error (error);
  first = mpire_result_iter_next (iter, NULL, &error);
  g_assert_no_error (error);

  error = map_error (pool, square_task, range_variant (10), NULL);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_POOL_BUSY);
  g_clear_error (&error);

  g_assert_false (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_POOL_BUSY);
  g_clear_error (&error);

  /* Dropping the iterator ends the call. */
  g_clear_object (&iter);
  assert_pool_works (pool, 10);
}

void
map_done (GObject      *object,
          GAsyncResult *res,
          gpointer      user_data)
{
  AsyncData *data = user_data;

  data->result = mpire_worker_pool_map_finish (MPIRE_WORKER_POOL (object), res, &data->error);
  g_main_loop_quit (data->loop);
}

void
test_map_async (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  AsyncData data = { g_main_loop_new (NULL, FALSE), NULL, NULL };

  mpire_worker_pool_map_async (pool, square_task, range_variant (5000), NULL, NULL, map_done, &data);
  g_main_loop_run (data.loop);
  g_assert_no_error (data.error);
  assert_squares (data.result, 5000);

  g_variant_unref (data.result);
  g_main_loop_unref (data.loop);
}

/* A map over an array goes on while the caller's thread does not run
 * its main context: workers get their next chunks from the pool's thread
 * (100 chunks, of which the back-pressure limit lets 4 be out at once). */
void
test_map_fed_by_pool (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  AsyncData data = { NULL, NULL, NULL };
  int ticks[2];
  gsize n_ticks = 0;
  const gint64 *lengths;
  gsize n;

  if (start_method != MPIRE_START_METHOD_FORK && start_method != MPIRE_START_METHOD_THREADING)
    {
      g_test_skip ("the tasks tell through a pipe only forked or threaded workers have");
      return;
    }

  data.loop = g_main_loop_new (NULL, FALSE);
  g_assert_no_errno (pipe (ticks));
  tick_fd = ticks[1];
  pool = new_pool (2);
  mpire_map_options_set_array_chunks (options, TRUE);
  mpire_map_options_set_chunk_size (options, 10);
  mpire_worker_pool_map_async (pool, tick_task, range_variant (1000), options, NULL, map_done,
                               &data);
  while (n_ticks < 100)
    {
      struct pollfd readable = { ticks[0], POLLIN, 0 };
      char buf[100];
      gssize got;

      /* Long enough for a slow machine; without pool feeding it stalls. */
      g_assert_cmpint (poll (&readable, 1, 60 * 1000), ==, 1);
      got = read (ticks[0], buf, sizeof buf);
      g_assert_cmpint (got, >, 0);
      n_ticks += got;
    }
  g_assert_cmpuint (n_ticks, ==, 100);

  g_main_loop_run (data.loop);
  g_assert_no_error (data.error);
  lengths = g_variant_get_fixed_array (data.result, &n, sizeof (gint64));
  g_assert_cmpuint (n, ==, 100);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (lengths[i], ==, 10);

  g_variant_unref (data.result);
  g_main_loop_unref (data.loop);
  close (ticks[0]);
  close (ticks[1]);
  tick_fd = -1;
}

static gboolean
cancel_later (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

void
test_map_cancel (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  AsyncData data = { g_main_loop_new (NULL, FALSE), NULL, NULL };
  gint64 start = g_get_monotonic_time ();

  /* 200 tasks of 50 ms on 2 workers: 5 s if nothing stopped them. */
  for (int i = 0; i < 200; i++)
    g_variant_builder_add (builder, "x", (gint64) 50);

  mpire_worker_pool_map_async (pool, sleepy_task, g_variant_builder_end (builder), NULL,
                               cancellable, map_done, &data);
  g_timeout_add (200, cancel_later, cancellable);
  g_main_loop_run (data.loop);
  g_assert_null (data.result);
  g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&data.error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);

  assert_pool_works (pool, 100);
  g_main_loop_unref (data.loop);
}

/* Without keep-alive, a call that fails leaves no worker behind: neither
 * the one that ran the failing task nor one that got no task at all. A
 * fork server stays until the join. */
void
test_map_failure_leaves_no_worker (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  guint children_before = count_children ();

  error = map_error (pool, fail_task, g_variant_new_parsed ("[@x 7]"), NULL);
  g_assert_error (error, TEST_ERROR, 42);
  if (is_process_method ())
    assert_settles (count_children, n_processes (0) + children_before,
                    "children after a failed call");
}

/* Forty tasks of 10 ms in chunks of one, on four threads: the task of 3
 * fails the call. */
static GVariant *
map_tally (MpireWorkerPool  *pool,
           GError          **error)
{
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();

  mpire_map_options_set_chunk_size (options, 1);
  return mpire_worker_pool_map (pool, tally_task, range_variant (40), options, NULL, error);
}

typedef struct
{
  GCancellable *cancellable;
  gint          begun;       /* cancel once so many tasks of the tally began */
} CancelWhen;

static gboolean
cancel_when_begun (gpointer data)
{
  CancelWhen *when = data;

  if (g_atomic_int_get (&tally.begun) < when->begun)
    return G_SOURCE_CONTINUE;
  g_cancellable_cancel (when->cancellable);
  return G_SOURCE_REMOVE;
}

/* No task of the call runs once it returned, and none begins later. */
static void
assert_no_task_left (void)
{
  gint begun = g_atomic_int_get (&tally.begun);

  g_assert_cmpint (g_atomic_int_get (&tally.running), ==, 0);
  /* A moment for a thread that would begin the chunks it was sent. */
  g_usleep (50 * 1000);
  g_assert_cmpint (g_atomic_int_get (&tally.begun), ==, begun);
  g_assert_cmpint (g_atomic_int_get (&tally.running), ==, 0);
}

/* A thread cannot be killed: a call that fails or is cancelled returns
 * only once its threads are done with the tasks they ran (which may use
 * the caller's data), and they begin no other. */
void
test_map_failure_waits_for_threads (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  AsyncData data = { loop, NULL, NULL };
  CancelWhen when = { cancellable, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  GVariant *item;

  if (is_process_method ())
    {
      g_test_skip ("Worker processes do not share the caller’s memory");
      return;
    }

  pool = new_pool (4);
  result = map_tally (pool, &error);
  g_assert_null (result);
  g_assert_error (error, TEST_ERROR, 3);
  g_clear_error (&error);
  assert_no_task_left ();

  /* Cancelled while tasks run (none fails: 10 to 49): the same. */
  mpire_map_options_set_chunk_size (options, 1);
  for (gint64 i = 10; i < 50; i++)
    g_variant_builder_add (builder, "x", i);
  when.begun = g_atomic_int_get (&tally.begun) + 6;
  mpire_worker_pool_map_async (pool, tally_task, g_variant_builder_end (builder), options,
                               cancellable, map_done, &data);
  g_timeout_add (1, cancel_when_begun, &when);
  g_main_loop_run (data.loop);
  g_assert_null (data.result);
  g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&data.error);
  assert_no_task_left ();

  /* imap: the error comes once the threads are done. */
  iter = mpire_worker_pool_imap (pool, tally_task, range_variant (40), options, &error);
  g_assert_no_error (error);
  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    g_variant_unref (item);
  g_assert_error (error, TEST_ERROR, 3);
  g_clear_error (&error);
  assert_no_task_left ();
  g_clear_object (&iter);

  /* Kept-alive threads: the same, and they serve the next call. */
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = map_tally (pool, &error);
  g_assert_null (result);
  g_assert_error (error, TEST_ERROR, 3);
  g_clear_error (&error);
  assert_no_task_left ();
  assert_pool_works (pool, 100);
}

void
collect_iter (MpireResultIter *iter,
              GArray          *values)
{
  g_autoptr(GError) error = NULL;
  GVariant *item;

  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    {
      gint64 v = g_variant_get_int64 (item);
      g_array_append_val (values, v);
      g_variant_unref (item);
    }
  g_assert_no_error (error);
}

void
test_imap (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireResultIter) ordered = NULL;
  g_autoptr(MpireResultIter) unordered = NULL;
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 sum = 0;

  ordered = mpire_worker_pool_imap (pool, square_task, range_variant (3000), NULL, &error);
  g_assert_no_error (error);
  collect_iter (ordered, values);
  g_assert_cmpuint (values->len, ==, 3000);
  for (guint i = 0; i < values->len; i++)
    g_assert_cmpint (g_array_index (values, gint64, i), ==, (gint64) i * i);

  /* Exhausted: it keeps saying so. */
  g_assert_null (mpire_result_iter_next (ordered, NULL, &error));
  g_assert_no_error (error);

  g_array_set_size (values, 0);
  unordered = mpire_worker_pool_imap_unordered (pool, square_task, range_variant (3000), NULL, &error);
  g_assert_no_error (error);
  collect_iter (unordered, values);
  g_assert_cmpuint (values->len, ==, 3000);
  for (guint i = 0; i < values->len; i++)
    sum += g_array_index (values, gint64, i);
  g_assert_cmpint (sum, ==, (gint64) 2999 * 3000 * 5999 / 6);
}

void
test_imap_error (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireResultIter) iter = NULL;
  GVariant *item;
  gint64 expected = 0;

  mpire_map_options_set_chunk_size (options, 1);
  iter = mpire_worker_pool_imap (pool, fail_task, range_variant (20), options, &error);
  g_assert_no_error (error);
  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    {
      /* Whatever comes before the error comes in order. */
      g_assert_cmpint (g_variant_get_int64 (item), ==, expected++);
      g_variant_unref (item);
    }
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpint (expected, <=, 7);
  g_clear_error (&error);
  g_assert_null (mpire_result_iter_next (iter, NULL, &error));
  g_assert_no_error (error);
}

typedef struct
{
  gint64 next;
  gint64 end;    /* -1: endless */
} Counter;

static GVariant *
count_up (gpointer  user_data,
          GError  **error)
{
  Counter *counter = user_data;

  if (counter->end >= 0 && counter->next >= counter->end)
    return NULL;
  return g_variant_new_int64 (counter->next++);
}

void
test_imap_lazy_source (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  Counter counter = { 0, 1000 };

  mpire_map_options_set_source (options, count_up, &counter, NULL);
  mpire_map_options_set_iterable_len (options, 1000);
  result = mpire_worker_pool_map (pool, square_task, NULL, options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 1000);
  g_assert_false (mpire_map_options_has_source (options));

  /* Unknown length: chunk size 1, with a warning as in MPIRE. */
  g_clear_pointer (&result, g_variant_unref);
  counter.next = 0;
  counter.end = 50;
  mpire_map_options_set_iterable_len (options, -1);
  mpire_map_options_set_source (options, count_up, &counter, NULL);
  g_test_expect_message ("Mpire", G_LOG_LEVEL_WARNING, "*number of tasks is unknown*");
  result = mpire_worker_pool_map (pool, square_task, NULL, options, NULL, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  assert_squares (result, 50);
}

void
test_imap_back_pressure (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0, -1 };

  mpire_map_options_set_source (options, count_up, &counter, NULL);
  mpire_map_options_set_chunk_size (options, 5);
  mpire_map_options_set_max_tasks_active (options, 20);
  iter = mpire_worker_pool_imap (pool, square_task, NULL, options, &error);
  g_assert_no_error (error);

  for (gint64 consumed = 0; consumed < 500; consumed++)
    {
      g_autoptr(GVariant) item = mpire_result_iter_next (iter, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (g_variant_get_int64 (item), ==, consumed * consumed);
      /* consumed + 1 results taken so far. */
      g_assert_cmpint (counter.next, <=, consumed + 1 + 20);
      g_assert_cmpint (mpire_result_iter_get_n_pulled (iter), ==, counter.next);
    }

  /* Let the workers catch up: still bounded. */
  g_usleep (100 * 1000);
  g_assert_cmpint (counter.next, <=, 500 + 20);

  g_clear_object (&iter);
  assert_pool_works (pool, 10);
}

static void
next_done (GObject      *object,
           GAsyncResult *res,
           gpointer      user_data)
{
  AsyncData *data = user_data;

  data->result = mpire_result_iter_next_finish (MPIRE_RESULT_ITER (object), res, &data->error);
  g_main_loop_quit (data->loop);
}

static void
imap_started (GObject      *object,
              GAsyncResult *res,
              gpointer      user_data)
{
  MpireResultIter **iter = user_data;

  *iter = mpire_worker_pool_imap_finish (MPIRE_WORKER_POOL (object), res, NULL);
}

void
test_imap_async (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireResultIter) iter = NULL;
  AsyncData data = { g_main_loop_new (NULL, FALSE), NULL, NULL };
  gint64 i = 0;

  mpire_worker_pool_imap_async (pool, square_task, range_variant (300), NULL, NULL, imap_started, &iter);
  while (iter == NULL)
    g_main_context_iteration (NULL, TRUE);

  for (;;)
    {
      mpire_result_iter_next_async (iter, NULL, next_done, &data);
      g_main_loop_run (data.loop);
      g_assert_no_error (data.error);
      if (data.result == NULL)
        break;
      g_assert_cmpint (g_variant_get_int64 (data.result), ==, i * i);
      g_clear_pointer (&data.result, g_variant_unref);
      i++;
    }
  g_assert_cmpint (i, ==, 300);
  g_main_loop_unref (data.loop);
}

/* What a result list told its watchers. */
typedef struct
{
  guint    n_changes;     /* items-changed emissions */
  guint    n_added;       /* items they added, in total */
  guint    n_complete;    /* notify::complete */
  gboolean error_first;   /* the error was set when complete was notified */
} ListLog;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  ListLog    *log)
{
  /* Results are only ever appended. */
  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpuint (added, >, 0);
  g_assert_cmpuint (position, ==, log->n_added);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, position + added);
  log->n_changes++;
  log->n_added += added;
}

static void
on_complete (MpireResultList *list,
             GParamSpec      *pspec,
             ListLog         *log)
{
  g_assert_true (mpire_result_list_get_complete (list));
  log->error_first = mpire_result_list_get_error (list) != NULL;
  log->n_complete++;
}

/* Runs the default main context until @list is complete. */
static void
wait_list (MpireResultList *list,
           ListLog         *log)
{
  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed), log);
  g_signal_connect (list, "notify::complete", G_CALLBACK (on_complete), log);
  while (!mpire_result_list_get_complete (list))
    g_main_context_iteration (NULL, TRUE);
  g_signal_handlers_disconnect_by_data (list, log);
}

void
test_imap_list (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(MpireResultList) list = NULL;
  g_autoptr(GError) error = NULL;
  ListLog log = { 0 };

  mpire_map_options_set_chunk_size (options, 100);
  list = mpire_worker_pool_imap_list (pool, square_task, range_variant (3000), options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_type_is_a (g_list_model_get_item_type (G_LIST_MODEL (list)), MPIRE_TYPE_RESULT));
  wait_list (list, &log);

  g_assert_no_error (mpire_result_list_get_error (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3000);
  g_assert_cmpuint (log.n_added, ==, 3000);
  g_assert_cmpuint (log.n_complete, ==, 1);
  /* At most one emission per chunk that came in, never one per result. */
  g_assert_cmpuint (log.n_changes, >=, 1);
  g_assert_cmpuint (log.n_changes, <=, 30);

  for (guint i = 0; i < 3000; i++)
    {
      g_autoptr(MpireResult) item = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_cmpint (g_variant_get_int64 (mpire_result_get_value (item)), ==, (gint64) i * i);
      g_assert_cmpint (mpire_result_get_index (item), ==, i);
      g_assert_true (mpire_result_list_get_value (list, i) == mpire_result_get_value (item));
    }
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), 3000));
  g_assert_null (mpire_result_list_get_value (list, 3000));
}

void
test_imap_list_unordered (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireResultList) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gboolean *seen = g_new0 (gboolean, 3000);
  ListLog log = { 0 };
  guint n;

  list = mpire_worker_pool_imap_unordered_list (pool, square_task, range_variant (3000), NULL, NULL,
                                                &error);
  g_assert_no_error (error);
  wait_list (list, &log);

  g_assert_no_error (mpire_result_list_get_error (list));
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_cmpuint (n, ==, 3000);
  g_assert_cmpuint (log.n_added, ==, 3000);
  g_assert_cmpuint (log.n_complete, ==, 1);

  /* Completion order: each task once, with its own result. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MpireResult) item = g_list_model_get_item (G_LIST_MODEL (list), i);
      gint64 index = mpire_result_get_index (item);

      g_assert_cmpint (index, >=, 0);
      g_assert_cmpint (index, <, 3000);
      g_assert_false (seen[index]);
      seen[index] = TRUE;
      g_assert_cmpint (g_variant_get_int64 (mpire_result_get_value (item)), ==, index * index);
    }
}

void
test_imap_list_error (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(MpireResultList) list = NULL;
  g_autoptr(MpireResultList) empty = NULL;
  g_autoptr(GError) error = NULL;
  ListLog log = { 0 };
  guint n;

  mpire_map_options_set_chunk_size (options, 1);
  list = mpire_worker_pool_imap_list (pool, fail_task, range_variant (20), options, NULL, &error);
  g_assert_no_error (error);
  wait_list (list, &log);

  g_assert_error (mpire_result_list_get_error (list), TEST_ERROR, 42);
  g_assert_true (log.error_first);
  g_assert_cmpuint (log.n_complete, ==, 1);
  /* What came before the failing task, in order; nothing after it. */
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_cmpuint (n, <=, 7);
  g_assert_cmpuint (log.n_added, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_variant_get_int64 (mpire_result_list_get_value (list, i)), ==, i);

  /* Input that cannot start a call gives no list. */
  g_assert_null (mpire_worker_pool_imap_list (pool, square_task, g_variant_new_int64 (3), NULL,
                                              NULL, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* An empty input is complete at once. */
  empty = mpire_worker_pool_imap_list (pool, square_task, range_variant (0), NULL, NULL, &error);
  g_assert_no_error (error);
  while (!mpire_result_list_get_complete (empty))
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (mpire_result_list_get_error (empty));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (empty)), ==, 0);

  assert_pool_works (pool, 10);
}

void
test_imap_list_cancel (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(MpireResultList) list = NULL;
  g_autoptr(GError) error = NULL;
  guint children_before = count_children ();
  gint64 start = g_get_monotonic_time ();
  ListLog log = { 0 };

  /* 200 tasks of 50 ms on 2 workers: 5 s if nothing stopped them. */
  for (int i = 0; i < 200; i++)
    g_variant_builder_add (builder, "x", (gint64) 50);
  list = mpire_worker_pool_imap_list (pool, sleepy_task, g_variant_builder_end (builder), NULL,
                                      cancellable, &error);
  g_assert_no_error (error);
  g_timeout_add (200, cancel_later, cancellable);
  wait_list (list, &log);

  g_assert_error (mpire_result_list_get_error (list), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), <, 200);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
  if (is_process_method ())
    assert_settles (count_children, n_processes (0) + children_before, "children after cancel");

  /* Dropping a list stops its call: the pool is free at once. */
  g_clear_object (&list);
  list = mpire_worker_pool_imap_list (pool, sleepy_task, g_variant_new_parsed ("[@x 50, 50, 50, 50]"),
                                      NULL, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&list);
  assert_pool_works (pool, 100);
}
