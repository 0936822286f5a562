/* test-pool-tasks.c: the tasks the pool tests run, and their helpers
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

MpireTask *square_task, *multiply_task, *kwargs_task, *fail_task, *abort_task;
MpireTask *sleepy_task, *mixed_task, *null_task, *whoami_task, *shared_task, *count_task;
MpireTask *typed_task, *liar_task;
MpireTask *init_zero_task, *init_million_task, *count_even_task, *exit_state_task;
MpireTask *init_fails_task, *exit_fails_task, *nested_task, *nested_on_task, *affinity_task;
MpireTask *die_once_task, *slow_square_task, *sleepy_lifecycle_task, *pids_task, *sockets_task;
MpireTask *add_five_task, *row_sums_task, *chunk_length_task, *crash_task, *tick_task;
MpireTask *exit_on_three_task, *log_and_die_once_task;
MpireTask *tally_task, *gated_task, *gated_fails_task;


static GVariant *
multiply (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x, y;
  g_variant_get (args, "(xx)", &x, &y);
  return g_variant_new_int64 (x * y);
}

static GVariant *
multiply_kwargs (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = 0, y = 0;
  g_variant_lookup (args, "x", "x", &x);
  g_variant_lookup (args, "y", "x", &y);
  return g_variant_new_int64 (x * y);
}

static GVariant *
fail_on_seven (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);

  if (x == 7)
    {
      g_set_error (error, TEST_ERROR, 42, "seven is not allowed");
      return NULL;
    }
  return g_variant_new_int64 (x);
}

static GVariant *
abort_on_three (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  if (g_variant_get_int64 (args) == 3)
    abort ();
  return g_variant_new_int64 (0);
}

/* x * x, except that the worker exits with status 3 at x == 3. */
static GVariant *
exit_on_three (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);

  if (x == 3)
    _exit (3);
  return g_variant_new_int64 (x * x);
}

/* (x, directory, fail_at): appends the line "x" to the file "log" of
 * the directory, then, at x == 5 and x == 7, the first time only (while
 * the file "died-x" does not exist), kills its worker. Returns x * x, or
 * fails at x == fail_at. */
static GVariant *
log_and_die_once (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x, fail_at;
  const char *dir;
  g_autofree char *log = NULL;
  g_autofree char *line = NULL;
  int fd;

  g_variant_get (args, "(x&sx)", &x, &dir, &fail_at);
  log = g_build_filename (dir, "log", NULL);
  line = g_strdup_printf ("%" G_GINT64_FORMAT "\n", x);
  fd = open (log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, line, strlen (line)), ==, (gssize) strlen (line));
  close (fd);

  if (x == 5 || x == 7)
    {
      g_autofree char *name = g_strdup_printf ("died-%" G_GINT64_FORMAT, x);
      g_autofree char *marker = g_build_filename (dir, name, NULL);

      if (!g_file_test (marker, G_FILE_TEST_EXISTS))
        {
          g_assert_true (g_file_set_contents (marker, "", 0, NULL));
          raise (SIGKILL);
        }
    }
  if (x == fail_at)
    {
      g_set_error (error, TEST_ERROR, 8, "cannot do %" G_GINT64_FORMAT, x);
      return NULL;
    }
  return g_variant_new_int64 (x * x);
}

/* A worker_init or worker_exit that crashes its worker. */
static GVariant *
crash (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  abort ();
}

static GVariant *
sleepy (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_usleep (g_variant_get_int64 (args) * 1000);
  return g_variant_new_boolean (TRUE);
}

/* A worker_init or worker_exit that sleeps for the shared objects' "ms". */
static GVariant *
sleepy_lifecycle (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 ms = 0;

  g_variant_lookup (mpire_worker_context_get_shared_objects (ctx), "ms", "x", &ms);
  g_usleep (ms * 1000);
  return g_variant_new_boolean (TRUE);
}

/* A chunk of numbers (`ad`), each plus five. */
static GVariant *
add_five (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gsize n;
  const double *values = g_variant_get_fixed_array (args, &n, sizeof (double));
  g_autofree double *out = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = values[i] + 5;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, out, n, sizeof (double));
}

/* A chunk of rows (`aad`), the sum of each. */
static GVariant *
row_sums (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_autoptr(GVariantBuilder) sums = g_variant_builder_new (G_VARIANT_TYPE ("ad"));
  gsize n = g_variant_n_children (args);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) row = g_variant_get_child_value (args, i);
      gsize width;
      const double *values = g_variant_get_fixed_array (row, &width, sizeof (double));
      double sum = 0;

      for (gsize j = 0; j < width; j++)
        sum += values[j];
      g_variant_builder_add (sums, "d", sum);
    }
  return g_variant_builder_end (sums);
}

/* The number of elements of a chunk. */
static GVariant *
chunk_length (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return g_variant_new_int64 ((gint64) g_variant_n_children (args));
}

/* Writes a byte to tick_fd (fork and threading workers have it) and
 * returns the chunk's length. */
int tick_fd = -1;

static GVariant *
tick (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_assert_cmpint (write (tick_fd, "t", 1), ==, 1);
  return g_variant_new_int64 ((gint64) g_variant_n_children (args));
}

static GVariant *
mixed (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);
  return x % 2 ? g_variant_new_string ("odd") : g_variant_new_int64 (x);
}

static GVariant *
return_null (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return NULL;
}

static GVariant *
whoami (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return g_variant_new_int32 (mpire_worker_context_get_worker_id (ctx));
}

static GVariant *
read_shared (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  GVariant *shared = mpire_worker_context_get_shared_objects (ctx);
  gint64 offset = 0;

  if (shared != NULL)
    g_variant_lookup (shared, "offset", "x", &offset);
  return g_variant_new_int64 (g_variant_get_int64 (args) + offset);
}

/* Counts the tasks each worker ran, in its state. */
static GVariant *
count (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  GVariant *state = mpire_worker_context_get_state (ctx);
  gint64 n = state != NULL ? g_variant_get_int64 (state) + 1 : 1;

  mpire_worker_context_set_state (ctx, g_variant_new_int64 (n));
  return g_variant_new_int64 (n);
}

static GVariant *
init_zero (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  mpire_worker_context_set_state (ctx, g_variant_new_int64 (0));
  return g_variant_new ("()");
}

static GVariant *
init_million (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  mpire_worker_context_set_state (ctx, g_variant_new_int64 (1000000));
  return g_variant_new ("()");
}

/* MPIRE's worker state example: count the even numbers each worker saw. */
static GVariant *
count_even (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);
  gint64 n = g_variant_get_int64 (mpire_worker_context_get_state (ctx));

  if (x % 2 == 0)
    mpire_worker_context_set_state (ctx, g_variant_new_int64 (n + 1));
  return g_variant_new_int64 (x * x);
}

static GVariant *
exit_state (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return g_variant_ref (mpire_worker_context_get_state (ctx));
}

static GVariant *
init_fails (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_set_error (error, TEST_ERROR, 7, "cannot initialise");
  return NULL;
}

static GVariant *
exit_fails (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_set_error (error, TEST_ERROR, 8, "cannot clean up");
  return NULL;
}

/* (x, marker path, signal): the first time it sees x == 3, the worker
 * kills itself with the signal; after that (the marker exists) it
 * squares. */
static GVariant *
die_once (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x;
  const char *marker;
  gint32 sig;

  g_variant_get (args, "(x&si)", &x, &marker, &sig);
  if (x == 3 && !g_file_test (marker, G_FILE_TEST_EXISTS))
    {
      g_file_set_contents (marker, "", 0, NULL);
      raise (sig);
    }
  return g_variant_new_int64 (x * x);
}

/* The worker's id and the CPUs it may run on, as a bit mask. */
static GVariant *
affinity (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  cpu_set_t set;
  guint64 mask = 0;

  g_assert_no_errno (sched_getaffinity (0, sizeof set, &set));
  for (int cpu = 0; cpu < 64; cpu++)
    if (CPU_ISSET (cpu, &set))
      mask |= G_GUINT64_CONSTANT (1) << cpu;
  return g_variant_new ("(it)", mpire_worker_context_get_worker_id (ctx), mask);
}

/* The worker's pid and its parent's. */
static GVariant *
pids (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return g_variant_new ("(ii)", (gint32) getpid (), (gint32) getppid ());
}

/* The number of sockets the worker has open. */
GVariant *
count_sockets (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, error);
  const char *name;
  gint32 n = 0;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/fd/%s", name);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:"))
        n++;
    }
  return g_variant_new_int32 (n);
}


Tally tally;

/* Counts itself in the tally while it sleeps for 10 ms; fails for 3. */
static GVariant *
tally_task_func (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  Tally *t = data;
  gint64 x = g_variant_get_int64 (args);

  g_atomic_int_inc (&t->running);
  g_atomic_int_inc (&t->begun);
  g_usleep (10 * 1000);
  g_atomic_int_add (&t->running, -1);
  if (x == 3)
    {
      g_set_error (error, TEST_ERROR, 3, "three is not allowed");
      return NULL;
    }
  return g_variant_new_int64 (x);
}

gint gate_open;      /* atomic: the task of 2 may return */
gint gated_running;  /* atomic: the task of 2 runs */

/* Sleeps for 10 ms, or for 2 until the gate opens. */
static GVariant *
gated (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  Tally *t = data;

  g_atomic_int_inc (&t->begun);
  if (g_variant_get_int64 (args) != 2)
    {
      g_atomic_int_inc (&t->running);
      g_usleep (10 * 1000);
      g_atomic_int_add (&t->running, -1);
      return g_variant_new_int64 (0);
    }
  g_atomic_int_inc (&gated_running);
  while (!g_atomic_int_get (&gate_open))
    g_usleep (1000);
  g_atomic_int_add (&gated_running, -1);
  return g_variant_new_int64 (2);
}

/* gated(), and fails for 3 once the task of 2 runs. */
static GVariant *
gated_fails (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  if (g_variant_get_int64 (args) != 3)
    return gated (ctx, args, data, error);
  while (!g_atomic_int_get (&gated_running))
    g_usleep (1000);
  g_set_error (error, TEST_ERROR, 3, "three is not allowed");
  return NULL;
}

/* The sum of the squares of 0..@x-1, mapped on a pool of its own. */
static GVariant *
sum_squares_on (MpireStartMethod   method,
                gint64             x,
                GError           **error)
{
  g_autoptr(MpireWorkerPool) inner = mpire_worker_pool_new (2, method);
  g_autoptr(GVariant) squares =
    mpire_worker_pool_map (inner, square_task, range_variant (x), NULL, NULL, error);
  gint64 sum = 0;
  gsize n;
  const gint64 *values;

  if (squares == NULL)
    return NULL;
  values = g_variant_get_fixed_array (squares, &n, sizeof (gint64));
  for (gsize i = 0; i < n; i++)
    sum += values[i];
  return g_variant_new_int64 (sum);
}

/* Sums the squares of 0..x-1 on a pool of its own. */
static GVariant *
nested_sum (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return sum_squares_on (start_method, g_variant_get_int64 (args), error);
}

/* The same, (x, start method): on a pool of that start method. */
static GVariant *
nested_sum_on (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x;
  gint32 method;

  g_variant_get (args, "(xi)", &x, &method);
  return sum_squares_on (method, x, error);
}

MpireWorkerPool *
new_pool (int n_jobs)
{
  return test_pool_new (n_jobs);
}

gboolean
is_process_method (void)
{
  return start_method != MPIRE_START_METHOD_THREADING;
}

guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/fd/%s", name);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (g_test_verbose ())
        g_test_message ("fd %s: %s", name, target);
      n++;
    }
  return n;
}

/* Adds the descendants of process @pid ("self" for this one), zombies
 * included, to @pids: the children of all its threads, theirs, and so on
 * (a fork server's workers are the pool's grandchildren). Listed with
 * --verbose. */
void
collect_descendants (const char *pid,
                     GPtrArray  *pids)
{
  g_autofree char *task_dir = g_strdup_printf ("/proc/%s/task", pid);
  g_autoptr(GDir) dir = g_dir_open (task_dir, 0, NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/children", task_dir, tid);
      g_autofree char *contents = NULL;
      g_auto(GStrv) children = NULL;

      if (!g_file_get_contents (path, &contents, NULL, NULL))
        continue;
      children = g_strsplit (g_strstrip (contents), " ", -1);
      for (guint i = 0; children[i] != NULL; i++)
        {
          g_autofree char *stat_path = g_strdup_printf ("/proc/%s/stat", children[i]);
          g_autofree char *stat = NULL;

          if (*children[i] == '\0')
            continue;
          if (g_test_verbose () && g_file_get_contents (stat_path, &stat, NULL, NULL))
            g_test_message ("descendant of %s/%s: %s", pid, tid, g_strstrip (stat));
          g_ptr_array_add (pids, g_strdup (children[i]));
          collect_descendants (children[i], pids);
        }
    }
}

guint
count_children (void)
{
  g_autoptr(GPtrArray) pids = g_ptr_array_new_with_free_func (g_free);

  collect_descendants ("self", pids);
  return pids->len;
}

/* The processes a pool of @n_jobs workers has: a fork server and its
 * workers, or the workers. */
guint
n_processes (guint n_jobs)
{
  return start_method == MPIRE_START_METHOD_FORKSERVER ? n_jobs + 1 : n_jobs;
}

/* GLib closes some fds of its own a moment after their last use (the
 * pidfd of a child watch finishing in its worker thread), so a count can
 * briefly be high, and a baseline taken just after an earlier test can
 * be too: wait for the count to come down to at most @expected. */
void
assert_settles (guint      (*counter) (void),
                guint        expected,
                const char  *what)
{
  guint value = counter ();

  for (int i = 0; i < 100 && value > expected; i++)
    {
      g_usleep (20 * 1000);
      value = counter ();
    }
  if (value > expected)
    g_error ("%s: %u, expected at most %u", what, value, expected);
}

/* Creates GLib's own lazily made fds (worker thread, child watch) before
 * a test counts fds. */
void
warm_up (void)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (1, start_method);
  g_autoptr(GVariant) result = mpire_worker_pool_map (pool, square_task, g_variant_new_parsed ("[@x 1]"),
                                                      NULL, NULL, NULL);
  g_assert_nonnull (result);
}

void
assert_squares (GVariant *result,
                gint64    n)
{
  g_assert_nonnull (result);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ax");
  g_assert_cmpuint (g_variant_n_children (result), ==, n);
  for (gint64 i = 0; i < n; i++)
    {
      gint64 v;
      g_variant_get_child (result, i, "x", &v);
      g_assert_cmpint (v, ==, i * i);
    }
}

/* The pool still maps: x*x over [0, n), every result right. */
void
assert_pool_works (MpireWorkerPool *pool,
                   gint64           n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = mpire_worker_pool_map (pool, square_task, range_variant (n), NULL,
                                                      NULL, &error);

  g_assert_no_error (error);
  assert_squares (result, n);
}

/* Runs a map that must fail and returns its error. */
GError *
map_error (MpireWorkerPool *pool,
           MpireTask       *task,
           GVariant        *input,
           MpireMapOptions *options)
{
  GError *error = NULL;
  g_autoptr(GVariant) result = mpire_worker_pool_map (pool, task, input, options, NULL, &error);

  g_assert_null (result);
  g_assert_nonnull (error);
  return error;
}

/* Creates the tests' tasks. main() calls it before mpire_init(), so
 * that spawned workers, which run main() again, have them too. */
void
test_pool_create_tasks (void)
{
  square_task = mpire_task_new ("square", square, NULL, NULL);
  multiply_task = mpire_task_new ("multiply", multiply, NULL, NULL);
  kwargs_task = mpire_task_new ("multiply-kwargs", multiply_kwargs, NULL, NULL);
  fail_task = mpire_task_new ("fail-on-seven", fail_on_seven, NULL, NULL);
  abort_task = mpire_task_new ("abort-on-three", abort_on_three, NULL, NULL);
  crash_task = mpire_task_new ("crash", crash, NULL, NULL);
  exit_on_three_task = mpire_task_new ("exit-on-three", exit_on_three, NULL, NULL);
  log_and_die_once_task = mpire_task_new ("log-and-die-once", log_and_die_once, NULL, NULL);
  sleepy_task = mpire_task_new ("sleepy", sleepy, NULL, NULL);
  mixed_task = mpire_task_new ("mixed", mixed, NULL, NULL);
  null_task = mpire_task_new ("return-null", return_null, NULL, NULL);
  whoami_task = mpire_task_new ("whoami", whoami, NULL, NULL);
  shared_task = mpire_task_new ("read-shared", read_shared, NULL, NULL);
  count_task = mpire_task_new ("count", count, NULL, NULL);
  init_zero_task = mpire_task_new ("init-zero", init_zero, NULL, NULL);
  init_million_task = mpire_task_new ("init-million", init_million, NULL, NULL);
  count_even_task = mpire_task_new ("count-even", count_even, NULL, NULL);
  exit_state_task = mpire_task_new ("exit-state", exit_state, NULL, NULL);
  init_fails_task = mpire_task_new ("init-fails", init_fails, NULL, NULL);
  exit_fails_task = mpire_task_new ("exit-fails", exit_fails, NULL, NULL);
  nested_task = mpire_task_new ("nested-sum", nested_sum, NULL, NULL);
  nested_on_task = mpire_task_new ("nested-sum-on", nested_sum_on, NULL, NULL);
  tally_task = mpire_task_new ("tally", tally_task_func, &tally, NULL);
  gated_task = mpire_task_new ("gated", gated, &tally, NULL);
  gated_fails_task = mpire_task_new ("gated_fails", gated_fails, &tally, NULL);
  affinity_task = mpire_task_new ("affinity", affinity, NULL, NULL);
  die_once_task = mpire_task_new ("die-once", die_once, NULL, NULL);
  slow_square_task = mpire_task_new ("slow-square", slow_square, NULL, NULL);
  sleepy_lifecycle_task = mpire_task_new ("sleepy-lifecycle", sleepy_lifecycle, NULL, NULL);
  add_five_task = mpire_task_new ("add-five", add_five, NULL, NULL);
  row_sums_task = mpire_task_new ("row-sums", row_sums, NULL, NULL);
  chunk_length_task = mpire_task_new ("chunk-length", chunk_length, NULL, NULL);
  tick_task = mpire_task_new ("tick", tick, NULL, NULL);
  pids_task = mpire_task_new ("pids", pids, NULL, NULL);
  sockets_task = mpire_task_new ("count-sockets", count_sockets, NULL, NULL);
  typed_task = mpire_task_new ("typed-square", square, NULL, NULL);
  mpire_task_set_args_type (typed_task, G_VARIANT_TYPE_INT64);
  mpire_task_set_result_type (typed_task, G_VARIANT_TYPE_INT64);
  liar_task = mpire_task_new ("liar", mixed, NULL, NULL);
  mpire_task_set_result_type (liar_task, G_VARIANT_TYPE_INT64);
}
