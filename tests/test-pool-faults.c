/* test-pool-faults.c: worker deaths and retries, nested pools, worker_init and worker_exit
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

/* A worker that dies fails the call, or has its chunk run once more. */
void
test_worker_death (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *marker = NULL;

  if (!is_process_method ())
    {
      g_test_skip ("A thread that dies takes the whole process with it");
      return;
    }

  dir = g_dir_make_tmp ("mpire-test-XXXXXX", NULL);
  marker = g_build_filename (dir, "died", NULL);
  pool = new_pool (2);
  mpire_map_options_set_chunk_size (options, 4);

  /* Killed from outside, as by the out-of-memory killer. */
  error = map_error (pool, die_once_task, die_once_input (marker, SIGKILL), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_assert_nonnull (strstr (error->message, "signal 9"));
  g_assert_nonnull (strstr (error->message, "out-of-memory"));
  g_assert_nonnull (strstr (error->message, "with arguments (3, "));
  g_clear_error (&error);

  /* With a retry: every result, once. */
  g_unlink (marker);
  mpire_map_options_set_retry_on_worker_death (options, TRUE);
  result = mpire_worker_pool_map (pool, die_once_task, die_once_input (marker, SIGKILL),
                                  options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 40);
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));

  g_unlink (marker);
  g_rmdir (dir);
}

/* A task that always kills its worker fails the call even with retries,
 * once it was running at three deaths in a row. */
void
test_worker_death_poison_task (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;

  if (!is_process_method ())
    {
      g_test_skip ("A thread that dies takes the whole process with it");
      return;
    }

  pool = new_pool (2);
  mpire_map_options_set_chunk_size (options, 2);
  mpire_map_options_set_retry_on_worker_death (options, TRUE);
  error = map_error (pool, abort_task, range_variant (20), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_assert_nonnull (strstr (error->message, "signal 6"));
  g_assert_nonnull (strstr (error->message, "with arguments 3"));
  g_assert_null (strstr (error->message, "out-of-memory"));
  g_clear_error (&error);

  /* The pool goes on. */
  {
    g_autoptr(GVariant) result = mpire_worker_pool_map (pool, square_task, range_variant (100),
                                                        NULL, NULL, &error);
    g_assert_no_error (error);
    assert_squares (result, 100);
  }
}

typedef enum {
  CALL_MAP,
  CALL_MAP_UNORDERED,
  CALL_IMAP,
  CALL_IMAP_UNORDERED,
} CallKind;

/* Removes the files log_and_die_once leaves in @dir. */
static void
clear_log_dir (const char *dir)
{
  const char *files[] = { "log", "died-5", "died-7" };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);

      g_unlink (path);
    }
}

/* The input of log_and_die_once over 0..39 in @dir, after clearing it;
 * and options for chunks of 10 with retries. */
static GVariant *
log_and_die_once_input (const char      *dir,
                        gint64           fail_at,
                        MpireMapOptions *options)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("a(xsx)"));

  clear_log_dir (dir);
  for (gint64 i = 0; i < 40; i++)
    g_variant_builder_add (builder, "(xsx)", i, dir, fail_at);
  mpire_map_options_set_chunk_size (options, 10);
  mpire_map_options_set_retry_on_worker_death (options, TRUE);
  return g_variant_builder_end (builder);
}

/* How many times log_and_die_once ran each of 0..39, from its log. */
static void
count_runs (const char *dir,
            guint       runs[40])
{
  g_autofree char *log = g_build_filename (dir, "log", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  memset (runs, 0, 40 * sizeof (guint));
  g_assert_true (g_file_get_contents (log, &contents, NULL, NULL));
  lines = g_strsplit (g_strstrip (contents), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gint64 x = g_ascii_strtoll (lines[i], NULL, 10);

      g_assert_cmpint (x, >=, 0);
      g_assert_cmpint (x, <, 40);
      runs[x]++;
    }
}

/* One call of @kind of log_and_die_once over 0..39 in chunks of 10, with
 * retries, in a fresh @dir: the results, in the order they came. */
static GArray *
run_log_and_die_once (MpireWorkerPool *pool,
                      CallKind         kind,
                      const char      *dir)
{
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  GArray *values = g_array_new (FALSE, FALSE, sizeof (gint64));
  GVariant *input = log_and_die_once_input (dir, -1, options);

  if (kind == CALL_MAP || kind == CALL_MAP_UNORDERED)
    {
      g_autoptr(GVariant) result =
        kind == CALL_MAP
          ? mpire_worker_pool_map (pool, log_and_die_once_task, input, options, NULL, &error)
          : mpire_worker_pool_map_unordered (pool, log_and_die_once_task, input, options, NULL,
                                             &error);
      gsize n;
      const gint64 *data;

      g_assert_no_error (error);
      g_assert_cmpstr (g_variant_get_type_string (result), ==, "ax");
      data = g_variant_get_fixed_array (result, &n, sizeof (gint64));
      g_array_append_vals (values, data, n);
    }
  else
    {
      g_autoptr(MpireResultIter) iter =
        kind == CALL_IMAP
          ? mpire_worker_pool_imap (pool, log_and_die_once_task, input, options, &error)
          : mpire_worker_pool_imap_unordered (pool, log_and_die_once_task, input, options,
                                              &error);

      g_assert_no_error (error);
      collect_iter (iter, values);
    }
  return values;
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* With retries, a worker that dies in the middle of a chunk has only the
 * tasks of the chunk whose results did not come run again: the tasks
 * before it ran once, each task that killed its worker twice; the
 * results are all there, in order for the ordered calls. */
void
test_worker_death_retry_rest (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(MpireResultIter) iter = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  guint runs[40];
  GVariant *item;
  gint64 n_items = 0;

  if (!is_process_method ())
    {
      g_test_skip ("A thread that dies takes the whole process with it");
      return;
    }

  dir = g_dir_make_tmp ("mpire-test-XXXXXX", NULL);
  pool = new_pool (2);
  for (CallKind kind = CALL_MAP; kind <= CALL_IMAP_UNORDERED; kind++)
    {
      g_autoptr(GArray) values = run_log_and_die_once (pool, kind, dir);

      g_test_message ("call kind %d", kind);
      if (kind == CALL_MAP_UNORDERED || kind == CALL_IMAP_UNORDERED)
        g_array_sort (values, compare_int64);
      g_assert_cmpuint (values->len, ==, 40);
      for (guint i = 0; i < values->len; i++)
        g_assert_cmpint (g_array_index (values, gint64, i), ==, (gint64) i * i);

      count_runs (dir, runs);
      for (guint x = 0; x < 40; x++)
        {
          guint expected = x == 5 || x == 7 ? 2 : 1;

          g_assert_cmpuint (runs[x], ==, expected);
        }
    }

  /* A task's error after two retries of its chunk: the results before
   * it, kept from each run, come first, then the error. */
  iter = mpire_worker_pool_imap (pool, log_and_die_once_task,
                                 log_and_die_once_input (dir, 8, options), options, &error);
  g_assert_no_error (error);
  while ((item = mpire_result_iter_next (iter, NULL, &error)) != NULL)
    {
      g_assert_cmpint (g_variant_get_int64 (item), ==, n_items * n_items);
      n_items++;
      g_variant_unref (item);
    }
  g_assert_error (error, TEST_ERROR, 8);
  g_assert_nonnull (strstr (error->message, "arguments (8, "));
  g_assert_cmpint (n_items, ==, 8);
  count_runs (dir, runs);
  for (guint x = 0; x <= 8; x++)
    {
      guint expected = x == 5 || x == 7 ? 2 : 1;

      g_assert_cmpuint (runs[x], ==, expected);
    }

  assert_pool_works (pool, 100);
  clear_log_dir (dir);
  g_rmdir (dir);
}

/* x * x, after a few µs of work. */
GVariant *
slow_square (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);
  volatile gint64 sink = 0;

  for (int i = 0; i < 2000; i++)
    sink += i;
  (void) sink;
  return g_variant_new_int64 (x * x);
}

typedef struct
{
  gboolean  done;           /* atomic */
  guint     n_kills;
  GRand    *rand;
} Killer;

/* The parent of process @pid, or 0 if it is gone. */
pid_t
parent_of (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *end;

  /* "pid (comm) state ppid ...", and comm may hold anything. */
  if (!g_file_get_contents (path, &stat, NULL, NULL) || (end = strrchr (stat, ')')) == NULL)
    return 0;
  return (pid_t) g_ascii_strtoll (end + 4, NULL, 10);
}

/* Every few ms until the call is done, SIGKILLs one of this process's
 * workers, at random (a fork server's workers, not the server). */
static gpointer
killer_main (gpointer data)
{
  Killer *killer = data;

  while (!g_atomic_int_get (&killer->done))
    {
      g_autoptr(GPtrArray) pids = g_ptr_array_new_with_free_func (g_free);

      g_usleep (g_rand_int_range (killer->rand, 2000, 8000));
      collect_descendants ("self", pids);
      for (guint i = pids->len; start_method == MPIRE_START_METHOD_FORKSERVER && i > 0; i--)
        if (parent_of ((pid_t) g_ascii_strtoll (pids->pdata[i - 1], NULL, 10)) == getpid ())
          g_ptr_array_remove_index_fast (pids, i - 1);
      if (pids->len > 0 &&
          kill ((pid_t) g_ascii_strtoll (pids->pdata[g_rand_int_range (killer->rand, 0, pids->len)],
                                         NULL, 10),
                SIGKILL) == 0)
        killer->n_kills++;
    }
  return NULL;
}

static GVariant *
map_while_killing (MpireWorkerPool  *pool,
                   MpireMapOptions  *options,
                   guint            *n_kills,
                   GError          **error)
{
  Killer killer = { FALSE, 0, g_rand_new () };
  GThread *thread = g_thread_new ("killer", killer_main, &killer);
  GVariant *result = mpire_worker_pool_map (pool, slow_square_task, range_variant (100000),
                                            options, NULL, error);

  g_atomic_int_set (&killer.done, TRUE);
  g_thread_join (thread);
  g_rand_free (killer.rand);
  *n_kills = killer.n_kills;
  return result;
}

/* Workers SIGKILLed at random every few ms during a 100,000-task map:
 * with retries every result comes once; without, the call fails
 * cleanly. Then the pool works, and once it is gone nothing is left. */
void
test_random_kills (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  guint fds_before, n_kills;

  if (!is_process_method ())
    {
      g_test_skip ("Threads cannot be killed");
      return;
    }

  warm_up ();
  assert_settles (count_children, 0, "children before the pool");
  fds_before = count_fds ();
  pool = new_pool (2);

  /* Chunks of 100 tasks: a kill usually lands in a running chunk. */
  mpire_map_options_set_chunk_size (options, 100);
  mpire_map_options_set_retry_on_worker_death (options, TRUE);
  result = map_while_killing (pool, options, &n_kills, &error);
  g_test_message ("%u workers killed during the map with retries", n_kills);
  g_assert_no_error (error);
  assert_squares (result, 100000);
  g_clear_pointer (&result, g_variant_unref);

  mpire_map_options_set_retry_on_worker_death (options, FALSE);
  result = map_while_killing (pool, options, &n_kills, &error);
  g_test_message ("%u workers killed during the map without retries", n_kills);
  if (n_kills > 0 || result == NULL)
    {
      g_assert_null (result);
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
      g_clear_error (&error);
    }
  g_clear_pointer (&result, g_variant_unref);

  assert_pool_works (pool, 1000);

  g_clear_object (&pool);
  assert_settles (count_children, 0, "children after the pool");
  assert_settles (count_fds, fds_before, "fds after the pool");
}

void
test_nested_pools (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  /* Daemon worker processes (the default) may not start pools; threads
   * may (see test_nested_pools_in_threads()). */
  if (is_process_method ())
    {
      error = map_error (pool, nested_task, g_variant_new_parsed ("[@x 3, 4]"), NULL);
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED);
      g_assert_nonnull (strstr (error->message, "daemon"));
      g_clear_error (&error);
    }

  mpire_worker_pool_set_daemon (pool, FALSE);
  result = mpire_worker_pool_map (pool, nested_task, g_variant_new_parsed ("[@x 3, 4]"),
                                  NULL, NULL, &error);
  g_assert_no_error (error);
  assert_printed (result, TRUE, "[int64 5, 14]");
}

/* A threading pool's workers are threads, not daemon processes: with
 * daemon TRUE (the default) their tasks run pools of their own, of the
 * start methods that are safe from a thread of a busy process: threads,
 * and processes that exec (spawn, and forkserver, whose server is
 * spawned). A fork() there copies locks the other threads may hold
 * (seen: a forked worker stuck for ever on a GLib lock that the other
 * worker thread held), so it is not tried here. */
void
test_nested_pools_in_threads (void)
{
  static const MpireStartMethod inner_methods[] = {
    MPIRE_START_METHOD_THREADING, MPIRE_START_METHOD_SPAWN, MPIRE_START_METHOD_FORKSERVER,
  };
  g_autoptr(MpireWorkerPool) pool = NULL;

  if (is_process_method ())
    {
      g_test_skip ("Worker processes of a daemon pool may not start pools");
      return;
    }

  pool = new_pool (2);
  g_assert_true (mpire_worker_pool_get_daemon (pool));
  for (guint i = 0; i < G_N_ELEMENTS (inner_methods); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;

      result = mpire_worker_pool_map (pool, nested_on_task,
                                      g_variant_new_parsed ("[(@x 3, %i), (4, %i), (10, %i)]",
                                                            (gint32) inner_methods[i],
                                                            (gint32) inner_methods[i],
                                                            (gint32) inner_methods[i]),
                                      NULL, NULL, &error);
      g_assert_no_error (error);
      assert_printed (result, TRUE, "[int64 5, 14, 285]");
    }

  assert_pool_works (pool, 100);
}

gint64
sum_exit_results (MpireWorkerPool *pool,
                  guint            n_expected)
{
  g_autoptr(GVariant) results = mpire_worker_pool_get_exit_results (pool);
  gint64 sum = 0;

  g_assert_cmpstr (g_variant_get_type_string (results), ==, "av");
  g_assert_cmpuint (g_variant_n_children (results), ==, n_expected);
  for (gsize i = 0; i < n_expected; i++)
    {
      g_autoptr(GVariant) box = g_variant_get_child_value (results, i);
      g_autoptr(GVariant) value = g_variant_get_variant (box);

      sum += g_variant_get_int64 (value);
    }
  return sum;
}

void
test_init_exit (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_map_options_set_worker_init (options, init_zero_task);
  mpire_map_options_set_worker_exit (options, exit_state_task);
  mpire_map_options_set_chunk_size (options, 5);

  /* As in MPIRE's documentation: 50 even numbers in 0..99. */
  result = mpire_worker_pool_map (pool, count_even_task, range_variant (100), options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 100);
  g_assert_cmpint (sum_exit_results (pool, 2), ==, 50);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 0);
}

/* Kept-alive workers run the first call's worker_init only, and the
 * latest call's worker_exit when they stop. */
void
test_init_exit_keep_alive (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) first = mpire_map_options_new ();
  g_autoptr(MpireMapOptions) second = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  mpire_map_options_set_worker_init (first, init_zero_task);
  mpire_map_options_set_chunk_size (first, 5);
  mpire_map_options_set_worker_init (second, init_million_task);
  mpire_map_options_set_worker_exit (second, exit_state_task);
  mpire_map_options_set_chunk_size (second, 5);

  result = mpire_worker_pool_map (pool, count_even_task, range_variant (100), first, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_variant_unref);
  g_assert_cmpint (sum_exit_results (pool, 0), ==, 0);

  result = mpire_worker_pool_map (pool, count_even_task, range_variant (100), second, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sum_exit_results (pool, 0), ==, 0);

  g_assert_true (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sum_exit_results (pool, 2), ==, 100);
}

void
test_init_exit_errors (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  mpire_worker_pool_set_use_worker_state (pool, TRUE);
  mpire_map_options_set_worker_init (options, init_fails_task);
  error = map_error (pool, square_task, range_variant (10), options);
  g_assert_error (error, TEST_ERROR, 7);
  g_assert_true (g_str_has_prefix (error->message, "cannot initialise"));
  g_assert_nonnull (strstr (error->message, "worker_init"));
  g_clear_error (&error);

  mpire_map_options_set_worker_init (options, init_zero_task);
  mpire_map_options_set_worker_exit (options, exit_fails_task);
  error = map_error (pool, count_even_task, range_variant (10), options);
  g_assert_error (error, TEST_ERROR, 8);
  g_assert_nonnull (strstr (error->message, "worker_exit"));
  g_clear_error (&error);

  assert_pool_works (pool, 10);
  if (!is_process_method ())
    return;

  /* An init that crashes its worker would crash every new one: the call
   * fails rather than restarting workers for ever. */
  mpire_map_options_set_worker_exit (options, NULL);
  mpire_map_options_set_worker_init (options, crash_task);
  error = map_error (pool, square_task, range_variant (10), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_assert_nonnull (strstr (error->message, "worker_init task “crash”"));
  g_clear_error (&error);

  /* An exit that crashes fails the call, or with keep-alive the join. */
  mpire_map_options_set_worker_init (options, NULL);
  mpire_map_options_set_worker_exit (options, crash_task);
  error = map_error (pool, square_task, range_variant (10), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_assert_nonnull (strstr (error->message, "worker_exit task “crash”"));
  g_clear_error (&error);
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = mpire_worker_pool_map (pool, square_task, range_variant (10), options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 10);
  g_clear_pointer (&result, g_variant_unref);
  g_assert_false (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_assert_nonnull (strstr (error->message, "worker_exit task “crash”"));
  g_clear_error (&error);

  assert_pool_works (pool, 10);
}

/* An init or exit past its timeout fails the call (kept-alive workers:
 * the join) and its worker is killed; the pool goes on. */
void
test_init_exit_timeouts (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  /* A thread cannot be killed: it sleeps on, so keep it short there. */
  gint64 sleep_ms = is_process_method () ? 3000 : 600;
  gint64 start;

  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("{'ms': <%x>}", sleep_ms));
  mpire_map_options_set_worker_init (options, sleepy_lifecycle_task);
  mpire_map_options_set_worker_init_timeout (options, 0.2);
  start = g_get_monotonic_time ();
  error = map_error (pool, square_task, range_variant (10), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "worker_init task “sleepy-lifecycle”"));
  g_assert_nonnull (strstr (error->message, "0.200 s"));
  if (is_process_method ())
    g_assert_cmpint (g_get_monotonic_time () - start, <, 2500 * 1000);
  g_clear_error (&error);

  /* Within the timeout: fine. */
  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("{'ms': <@x 1>}"));
  mpire_map_options_set_worker_init_timeout (options, 30);
  result = mpire_worker_pool_map (pool, square_task, range_variant (10), options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 10);
  g_clear_pointer (&result, g_variant_unref);

  /* The exit, when the call stops its workers. */
  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("{'ms': <%x>}", sleep_ms));
  mpire_map_options_set_worker_init (options, NULL);
  mpire_map_options_set_worker_exit (options, sleepy_lifecycle_task);
  mpire_map_options_set_worker_exit_timeout (options, 0.2);
  start = g_get_monotonic_time ();
  error = map_error (pool, square_task, range_variant (10), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "worker_exit task “sleepy-lifecycle”"));
  if (is_process_method ())
    g_assert_cmpint (g_get_monotonic_time () - start, <, 2500 * 1000);
  g_clear_error (&error);

  /* ... and when kept-alive workers stop at the join. */
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = mpire_worker_pool_map (pool, square_task, range_variant (10), options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 10);
  g_clear_pointer (&result, g_variant_unref);
  g_assert_false (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpuint (mpire_worker_pool_get_n_workers (pool), ==, 0);
  g_assert_true (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_no_error (error);

  /* The pool goes on. */
  assert_pool_works (pool, 10);

  /* Not positive, not -1: refused. */
  mpire_map_options_set_worker_init_timeout (options, 0);
  error = map_error (pool, square_task, range_variant (3), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "worker-init-timeout"));
  g_clear_error (&error);
  mpire_map_options_set_worker_init_timeout (options, -1);
  mpire_map_options_set_worker_exit_timeout (options, -0.5);
  error = map_error (pool, square_task, range_variant (3), options);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "worker-exit-timeout"));
}

/* @n_rows rows of @width numbers, stored flat: row r is r*width .. */
GVariant *
flat_rows (gsize n_rows,
           gsize width)
{
  g_autofree double *values = g_new (double, n_rows * width);

  for (gsize i = 0; i < n_rows * width; i++)
    values[i] = (double) i;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, n_rows * width, sizeof (double));
}
