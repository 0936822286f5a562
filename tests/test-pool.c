/* test-pool.c: the map family on every start method
 *
 * Run with --start-method spawn|fork|threading|forkserver. With spawn the
 * binary runs itself again as the worker (with forkserver, as the fork
 * server): tasks are created before mpire_init().
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

#include "mpire.h"

#include "test-pool-util.h"
#include "test-util.h"

static MpireTask *square_task, *multiply_task, *kwargs_task, *fail_task, *abort_task;
static MpireTask *sleepy_task, *mixed_task, *null_task, *whoami_task, *shared_task, *count_task;
static MpireTask *typed_task, *liar_task;
static MpireTask *init_zero_task, *init_million_task, *count_even_task, *exit_state_task;
static MpireTask *init_fails_task, *exit_fails_task, *nested_task, *nested_on_task, *affinity_task;
static MpireTask *die_once_task, *slow_square_task, *sleepy_lifecycle_task, *pids_task, *sockets_task;
static MpireTask *add_five_task, *row_sums_task, *chunk_length_task, *crash_task, *tick_task;
static MpireTask *exit_on_three_task, *log_and_die_once_task;
static MpireTask *tally_task, *gated_task, *gated_fails_task;

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

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
static int tick_fd = -1;

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
static GVariant *
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

/* What the tasks of tally_task did: a threading pool's tasks share the
 * caller's memory, as a C task's data does. */
typedef struct
{
  gint running;  /* atomic: tasks running now */
  gint begun;    /* atomic: tasks begun */
} Tally;

static Tally tally;

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

static gint gate_open;      /* atomic: the task of 2 may return */
static gint gated_running;  /* atomic: the task of 2 runs */

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

static MpireWorkerPool *
new_pool (int n_jobs)
{
  return mpire_worker_pool_new (n_jobs, start_method);
}

static gboolean
is_process_method (void)
{
  return start_method != MPIRE_START_METHOD_THREADING;
}

static guint
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
static void
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

static guint
count_children (void)
{
  g_autoptr(GPtrArray) pids = g_ptr_array_new_with_free_func (g_free);

  collect_descendants ("self", pids);
  return pids->len;
}

/* The processes a pool of @n_jobs workers has: a fork server and its
 * workers, or the workers. */
static guint
n_processes (guint n_jobs)
{
  return start_method == MPIRE_START_METHOD_FORKSERVER ? n_jobs + 1 : n_jobs;
}

/* GLib closes some fds of its own a moment after their last use (the
 * pidfd of a child watch finishing in its worker thread), so a count can
 * briefly be high, and a baseline taken just after an earlier test can
 * be too: wait for the count to come down to at most @expected. */
static void
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
static void
warm_up (void)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (1, start_method);
  g_autoptr(GVariant) result = mpire_worker_pool_map (pool, square_task, g_variant_new_parsed ("[@x 1]"),
                                                      NULL, NULL, NULL);
  g_assert_nonnull (result);
}

static void
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
static void
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
static GError *
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

static void
test_map_ordered (void)
{
  g_autoptr(MpireWorkerPool) pool = new_pool (2);

  assert_pool_works (pool, 100000);
}

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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
static void
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

static void
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

static void
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

typedef struct
{
  GMainLoop *loop;
  GVariant  *result;
  GError    *error;
} AsyncData;

static void
map_done (GObject      *object,
          GAsyncResult *res,
          gpointer      user_data)
{
  AsyncData *data = user_data;

  data->result = mpire_worker_pool_map_finish (MPIRE_WORKER_POOL (object), res, &data->error);
  g_main_loop_quit (data->loop);
}

static void
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
static void
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

static void
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
static void
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
static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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
static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
signal_log_clear (SignalLog       *log,
                  MpireWorkerPool *pool)
{
  g_signal_handlers_disconnect_by_data (pool, log);
  g_array_unref (log->done);
  g_clear_error (&log->failure);
  g_clear_pointer (&log->failed_args, g_variant_unref);
}

static void
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

static void
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

static void
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
static void
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

static void
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
static void
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

static void
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
static void
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
static void
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

static gint64 sum_exit_results (MpireWorkerPool *pool,
                                guint            n_expected);

/* Every worker runs 10 tasks (2 chunks of 5), then a fresh one takes
 * over: its init and exit run each time. */
static void
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

static void
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

static GVariant *
die_once_input (const char *marker,
                int         sig)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("a(xsi)"));

  for (gint64 i = 0; i < 40; i++)
    g_variant_builder_add (builder, "(xsi)", i, marker, sig);
  return g_variant_builder_end (builder);
}

/* A worker that dies fails the call, or has its chunk run once more. */
static void
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
static void
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
static void
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
static GVariant *
slow_square (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);
  volatile gint64 sink = 0;

  for (int i = 0; i < 2000; i++)
    sink += i;
  return g_variant_new_int64 (x * x);
}

typedef struct
{
  gboolean  done;           /* atomic */
  guint     n_kills;
  GRand    *rand;
} Killer;

/* The parent of process @pid, or 0 if it is gone. */
static pid_t
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
static void
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

static void
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
static void
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

static gint64
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

static void
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
static void
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

static void
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
static void
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
static GVariant *
flat_rows (gsize n_rows,
           gsize width)
{
  g_autofree double *values = g_new (double, n_rows * width);

  for (gsize i = 0; i < n_rows * width; i++)
    values[i] = (double) i;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, n_rows * width, sizeof (double));
}

/* Chunks and results of 160 KB or more travel through the memory a
 * worker shares with the pool: every result arrives right, also when the
 * caller holds results (and so their shared memory) as it goes. */
static void
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
static void
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

static void
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

static void
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
static void
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
static void
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
static void
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
static void
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

static void
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
static void
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
static void
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
static void
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

/* Workers must not outlive a pool whose process dies without cleaning
 * up (a crash, _exit()): they see their channel close and exit. */
static void
test_parent_dies (void)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) pids = NULL;

  if (!is_process_method ())
    {
      g_test_skip ("Threads end with their process");
      return;
    }

  if (g_test_subprocess ())
    {
      g_autoptr(MpireWorkerPool) pool = new_pool (2);
      g_autoptr(GPtrArray) descendants = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GVariant) result = NULL;
      g_autofree char *list = NULL;

      mpire_worker_pool_set_keep_alive (pool, TRUE);
      result = mpire_worker_pool_map (pool, square_task, range_variant (100), NULL, NULL, NULL);
      g_assert_nonnull (result);
      collect_descendants ("self", descendants);
      g_ptr_array_add (descendants, NULL);
      list = g_strjoinv (" ", (char **) descendants->pdata);
      path = pid_file_path (getppid ());
      g_assert_true (g_file_set_contents (path, list, -1, NULL));
      _exit (0);
    }

  /* Inherited: orphaned workers would hold captured pipes open. */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  path = pid_file_path (getpid ());
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_unlink (path);
  pids = g_strsplit (g_strstrip (contents), " ", -1);
  g_assert_cmpuint (g_strv_length (pids), ==, n_processes (2));

  for (guint i = 0; pids[i] != NULL; i++)
    {
      pid_t pid = (pid_t) g_ascii_strtoll (pids[i], NULL, 10);
      int tries = 0;

      /* Orphans are reaped by init once they exit. */
      while (kill (pid, 0) == 0 && tries++ < 500)
        g_usleep (10 * 1000);
      g_assert_cmpint (kill (pid, 0), ==, -1);
    }
}

/* A worker holds its own channel, and no other worker's, nor anything
 * of the pool's (a fork server's control socket). */
static void
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
      g_assert_cmpint (n, ==, 1);
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
static void
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
static void
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

static void
add_test (const char *path,
          GTestFunc   func)
{
  add_method_test ("/mpire/pool", path, func);
}

int
main (int argc, char **argv)
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
