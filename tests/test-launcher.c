/* test-launcher.c: workers started through a launcher (worker-launcher),
 * with launchers that need no network: what is particular to them. The
 * whole pool suite also runs on them (test-pool --start-method launched).
 *
 * The binary runs itself again as the worker; with --fake-version it is
 * a worker of another mpire-glib version, and with --no-tasks one that
 * has none of the tasks.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mpire.h"
#include "mpire-protocol-private.h"

#include "test-pool-util.h"

MpireStartMethod start_method = MPIRE_START_METHOD_SPAWN;

static MpireTask *die_task, *where_task, *square_task, *memory_task, *pid_task, *sleepy_task, *print_task;
static MpireTask *die_launched_task;

/* Whether this worker maps any memfd (the pool's shared memory is one),
 * and whether it was given the fd variables of a spawned worker. */
static GVariant *
shared_memory (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_autofree char *maps = NULL;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, error))
    return NULL;
  return g_variant_new ("(bb)", strstr (maps, "memfd:") != NULL,
                        g_getenv ("MPIRE_WORKER_FD") != NULL ||
                          g_getenv ("MPIRE_WORKER_MEMORY_FD") != NULL);
}

/* Which worker, and whether it shares memory with the pool. */
static GVariant *
where (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_autofree char *maps = NULL;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, error))
    return NULL;
  g_usleep (2000);
  return g_variant_new ("(ib)", mpire_worker_context_get_worker_id (ctx),
                        strstr (maps, "memfd:") != NULL);
}

/* Its worker ends in task 5. */
static GVariant *
die_on_five (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  if (g_variant_get_int64 (args) == 5)
    _exit (3);
  return square (ctx, args, data, error);
}

/* A launched worker (one that shares no memory with the pool) ends in
 * any task; a local one squares. */
static GVariant *
die_if_launched (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_autofree char *maps = NULL;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, error))
    return NULL;
  if (strstr (maps, "memfd:") == NULL)
    _exit (3);
  return square (ctx, args, data, error);
}

static GVariant *
worker_pid (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return g_variant_new_int64 (getpid ());
}

static GVariant *
sleepy (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_usleep (g_variant_get_int64 (args) * 1000);
  return g_variant_new_int64 (getpid ());
}

/* What a task prints goes to standard error, not into the channel. */
static GVariant *
print (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_print ("this is not a frame\n");
  fflush (stdout);
  return square (ctx, args, data, error);
}

static const char * const env_launcher[] = { "env", NULL };
/* Like ssh, it stays the workers' parent. */
static const char * const parent_launcher[] = { "sh", "-c", "\"$0\" \"$@\"; exit $?", NULL };
/* Like srun and sshd, it gives the worker a pipe as its standard output,
 * not the pool's socket. */
static const char * const pipe_launcher[] = { "sh", "-c", "\"$0\" \"$@\" | cat", NULL };

static void
assert_squares (GVariant *result,
                gint64    n)
{
  g_assert_nonnull (result);
  g_assert_cmpuint (g_variant_n_children (result), ==, n);
  for (gint64 i = 0; i < n; i++)
    {
      gint64 value;

      g_variant_get_child (result, i, "x", &value);
      g_assert_cmpint (value, ==, i * i);
    }
}

static MpireWorkerPool *
launched_pool (int                 n_jobs,
               const char * const *launcher)
{
  MpireWorkerPool *pool = mpire_worker_pool_new (n_jobs, MPIRE_START_METHOD_SPAWN);

  mpire_worker_pool_set_worker_launcher (pool, launcher);
  return pool;
}

static void
test_property (void)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_FORK);
  g_auto(GStrv) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_assert_null (mpire_worker_pool_get_worker_launcher (pool));
  g_object_set (pool, "worker-launcher", env_launcher, NULL);
  g_object_get (pool, "worker-launcher", &value, NULL);
  g_assert_cmpstrv (value, env_launcher);

  /* Only spawn workers are launched. */
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "start-method"));
  g_clear_error (&error);

  mpire_worker_pool_set_start_method (pool, MPIRE_START_METHOD_SPAWN);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), NULL, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 4);

  mpire_worker_pool_set_worker_launcher (pool, NULL);
  g_assert_null (mpire_worker_pool_get_worker_launcher (pool));
}

static void
assert_maps_over (const char * const *launcher)
{
  g_autoptr(MpireWorkerPool) pool = launched_pool (3, launcher);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();

  result = mpire_worker_pool_map (pool, square_task, range_variant (10000), NULL, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 10000);
  g_clear_pointer (&result, g_variant_unref);

  /* What tasks print does not break the channel. */
  mpire_map_options_set_chunk_size (options, 1);
  result = mpire_worker_pool_map (pool, print_task, range_variant (4), options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 4);
  g_clear_pointer (&result, g_variant_unref);

  /* No memory shared with the pool, no fd of a spawned worker. */
  result = mpire_worker_pool_map (pool, memory_task, range_variant (6), options, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (result); i++)
    {
      gboolean mapped, fd_vars;

      g_variant_get_child (result, i, "(bb)", &mapped, &fd_vars);
      g_assert_false (mapped);
      g_assert_false (fd_vars);
    }
}

static void
test_map_env (void)
{
  assert_maps_over (env_launcher);
}

static void
test_map_parent_launcher (void)
{
  assert_maps_over (parent_launcher);
}

static void
test_map_pipes (void)
{
  assert_maps_over (pipe_launcher);
}

/* A task past its timeout is reported and its worker killed, through a
 * launcher that does not exec it: the worker goes with its channel. */
static void
test_timeout_through_parent (void)
{
  g_autoptr(MpireWorkerPool) pool = launched_pool (2, parent_launcher);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) pids = NULL;
  const gint64 durations[] = { 10, 10, 30000, 10 };

  /* The workers' pids first (keep-alive: the same workers). */
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  mpire_map_options_set_chunk_size (options, 1);
  pids = mpire_worker_pool_map (pool, pid_task, range_variant (8), options, NULL, &error);
  g_assert_no_error (error);

  mpire_map_options_set_task_timeout (options, 0.5);
  result = mpire_worker_pool_map (pool, sleepy_task,
                                  g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, durations,
                                                             G_N_ELEMENTS (durations),
                                                             sizeof (gint64)),
                                  options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "30000"));

  mpire_worker_pool_terminate (pool);
  /* No worker lingers, not even the one whose launcher was killed. */
  for (gsize i = 0; i < g_variant_n_children (pids); i++)
    {
      gint64 pid;
      int tries = 0;

      g_variant_get_child (pids, i, "x", &pid);
      while (kill ((pid_t) pid, 0) == 0 && tries++ < 500)
        g_usleep (10 * 1000);
      g_assert_cmpint (kill ((pid_t) pid, 0), ==, -1);
    }
}

/* Local and launched workers in one pool: worker i takes entry i of
 * worker-launchers, and chunks go to all of them. */
static void
test_mixed (void)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (0, MPIRE_START_METHOD_SPAWN);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) launchers = NULL;
  gboolean seen[4] = { FALSE, };

  mpire_worker_pool_set_worker_launchers (
    pool, g_variant_new_parsed ("[@as [], ['env'], [], ['sh', '-c', 'exec \"$0\" \"$@\"']]"));
  g_object_get (pool, "worker-launchers", &launchers, NULL);
  g_assert_cmpuint (g_variant_n_children (launchers), ==, 4);

  result = mpire_worker_pool_map (pool, square_task, range_variant (10000), NULL, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 10000);
  g_clear_pointer (&result, g_variant_unref);

  mpire_worker_pool_set_pass_worker_id (pool, TRUE);
  mpire_map_options_set_chunk_size (options, 1);
  result = mpire_worker_pool_map (pool, where_task, range_variant (200), options, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (result); i++)
    {
      gint32 worker_id;
      gboolean mapped;

      g_variant_get_child (result, i, "(ib)", &worker_id, &mapped);
      g_assert_cmpint (worker_id, >=, 0);
      g_assert_cmpint (worker_id, <, 4);
      /* Workers 0 and 2 are local: they share memory with the pool. */
      g_assert_cmpint (mapped, ==, worker_id % 2 == 0);
      seen[worker_id] = TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (seen); i++)
    g_assert_true (seen[i]);
  g_clear_pointer (&result, g_variant_unref);

  /* Not both properties, and only with spawn. */
  mpire_worker_pool_set_worker_launcher (pool, env_launcher);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), NULL, NULL, &error);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  mpire_worker_pool_set_worker_launcher (pool, NULL);
  mpire_worker_pool_set_start_method (pool, MPIRE_START_METHOD_FORKSERVER);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), NULL, NULL, &error);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  mpire_worker_pool_set_worker_launchers (pool, NULL);
  g_assert_null (mpire_worker_pool_get_worker_launchers (pool));
}

/* A launched worker that dies fails the call naming its host and the
 * task; with retry-on-worker-death its tasks run again elsewhere. */
static void
test_worker_dies (void)
{
  g_autoptr(MpireWorkerPool) pool = launched_pool (2, parent_launcher);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autofree char *host = g_strdup_printf ("on host “%s”", g_get_host_name ());

  mpire_map_options_set_chunk_size (options, 2);
  result = mpire_worker_pool_map (pool, die_task, range_variant (10), options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "status 3"));
  g_assert_nonnull (strstr (error->message, host));
  g_assert_nonnull (strstr (error->message, "launched by “sh -c"));
  g_assert_nonnull (strstr (error->message, "“die-on-five”"));
  g_assert_nonnull (strstr (error->message, "arguments 5"));

  /* The pool goes on. */
  g_clear_error (&error);
  result = mpire_worker_pool_map (pool, square_task, range_variant (100), options, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 100);
}

static void
count_died (MpireWorkerPool *pool,
            int              worker_id,
            const GError    *error,
            guint           *n_died)
{
  g_test_message ("worker-died: %s", error->message);
  (*n_died)++;
}

/* A host lost: the launched worker dies, and its replacement's launcher
 * cannot reach the host (it exits with 255, as ssh does). With retry,
 * the call goes on on the local worker, every result there once. */
static void
test_host_lost_retry (void)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (0, MPIRE_START_METHOD_SPAWN);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mpire-launcher-XXXXXX", NULL);
  g_autofree char *once = g_build_filename (dir, "launched", NULL);
  g_autofree char *quoted = g_shell_quote (once);
  /* The first launch runs the worker (as its parent, like ssh); the
   * later ones find the host gone. */
  g_autofree char *script = g_strdup_printf ("[ -e %s ] && exit 255; : > %s; \"$0\" \"$@\"",
                                             quoted, quoted);
  const char * const launcher[] = { "sh", "-c", script, NULL };
  GVariant *launchers[] = { g_variant_new_strv (NULL, 0), g_variant_new_strv (launcher, -1) };
  guint n_died = 0;

  mpire_worker_pool_set_worker_launchers (pool, g_variant_new_array (G_VARIANT_TYPE ("as"),
                                                                     launchers, 2));
  g_signal_connect (pool, "worker-died", G_CALLBACK (count_died), &n_died);
  mpire_map_options_set_chunk_size (options, 1);
  mpire_map_options_set_retry_on_worker_death (options, TRUE);
  result = mpire_worker_pool_map (pool, die_launched_task, range_variant (50), options, NULL,
                                  &error);
  g_assert_no_error (error);
  assert_squares (result, 50);
  /* The launched worker, then its replacement. */
  g_assert_cmpuint (n_died, ==, 2);

  /* Without retry, the next call fails, naming the launcher. */
  g_clear_pointer (&result, g_variant_unref);
  mpire_map_options_set_retry_on_worker_death (options, FALSE);
  result = mpire_worker_pool_map (pool, square_task, range_variant (50), options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START);
  g_assert_nonnull (strstr (error->message, "status 255"));
  g_assert_nonnull (strstr (error->message, "“sh -c"));

  g_unlink (once);
  g_rmdir (dir);
}

static GError *
launch_error (const char * const *launcher,
              const char * const *worker_argv)
{
  g_autoptr(MpireWorkerPool) pool = launched_pool (2, launcher);
  g_autoptr(GVariant) result = NULL;
  GError *error = NULL;

  mpire_worker_pool_set_worker_argv (pool, worker_argv);
  result = mpire_worker_pool_map (pool, square_task, range_variant (10), NULL, NULL, &error);
  g_assert_null (result);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  return error;
}

static void
test_launcher_not_found (void)
{
  const char * const launcher[] = { "/nonexistent/mpire-launcher", "host", NULL };
  g_autoptr(GError) error = launch_error (launcher, NULL);

  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START);
  g_assert_nonnull (strstr (error->message, "/nonexistent/mpire-launcher"));
}

static void
test_launcher_exits_at_once (void)
{
  const char * const launcher[] = { "sh", "-c", "exit 255", NULL };
  g_autoptr(GError) error = launch_error (launcher, NULL);

  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START);
  g_assert_nonnull (strstr (error->message, "status 255"));
  g_assert_nonnull (strstr (error->message, "“sh -c exit 255”"));
}

static void
test_launcher_writes (void)
{
  const char * const launcher[] = { "sh", "-c", "echo 'Welcome!'; exec \"$0\" \"$@\"", NULL };
  g_autoptr(GError) error = launch_error (launcher, NULL);

  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "did not answer as an mpire-glib"));
}

static void
test_other_version (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const char * const worker[] = { self, "--fake-version", NULL };
  g_autoptr(GError) error = launch_error (env_launcher, worker);

  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START);
  g_assert_nonnull (strstr (error->message, "mpire-glib 9.9.9"));
  g_assert_nonnull (strstr (error->message, "mpire-glib " PACKAGE_VERSION));
  g_assert_nonnull (strstr (error->message, g_get_host_name ()));
}

static void
test_task_missing (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const char * const worker[] = { self, "--no-tasks", NULL };
  g_autoptr(GError) error = launch_error (env_launcher, worker);

  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_NOT_REGISTERED);
  g_assert_nonnull (strstr (error->message, "“square”"));
  g_assert_nonnull (strstr (error->message, g_get_host_name ()));
}

/* A worker of another version: its READY says so, then it waits for the
 * pool to go. */
static void
serve_as_other_version (void)
{
  MpireReadyMessage ready = { "9.9.9", g_get_host_name (), "1", g_get_monotonic_time () };
  g_autoptr(GBytes) frame = mpire_frame_encode (MPIRE_MESSAGE_READY,
                                                mpire_message_ready_new (&ready), NULL, NULL);
  char buf[4096];

  mpire_frame_write (STDOUT_FILENO, frame, NULL);
  while (read (STDIN_FILENO, buf, sizeof buf) > 0)
    ;
  exit (0);
}

int
main (int argc, char **argv)
{
  gboolean no_tasks = argc > 1 && g_str_equal (argv[1], "--no-tasks");

  if (argc > 1 && g_str_equal (argv[1], "--fake-version") &&
      g_getenv ("MPIRE_WORKER_LAUNCHED") != NULL)
    serve_as_other_version ();

  if (!no_tasks)
    {
      square_task = mpire_task_new ("square", square, NULL, NULL);
      memory_task = mpire_task_new ("shared-memory", shared_memory, NULL, NULL);
      pid_task = mpire_task_new ("worker-pid", worker_pid, NULL, NULL);
      sleepy_task = mpire_task_new ("sleepy", sleepy, NULL, NULL);
      print_task = mpire_task_new ("print", print, NULL, NULL);
      where_task = mpire_task_new ("where", where, NULL, NULL);
      die_task = mpire_task_new ("die-on-five", die_on_five, NULL, NULL);
      die_launched_task = mpire_task_new ("die-if-launched", die_if_launched, NULL, NULL);
    }

  mpire_init (&argc, &argv);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/launcher/property", test_property);
  g_test_add_func ("/mpire/launcher/map/env", test_map_env);
  g_test_add_func ("/mpire/launcher/map/parent-launcher", test_map_parent_launcher);
  g_test_add_func ("/mpire/launcher/map/pipes", test_map_pipes);
  g_test_add_func ("/mpire/launcher/timeout/parent-launcher", test_timeout_through_parent);
  g_test_add_func ("/mpire/launcher/map/mixed", test_mixed);
  g_test_add_func ("/mpire/launcher/faults/worker-dies", test_worker_dies);
  g_test_add_func ("/mpire/launcher/faults/host-lost-retry", test_host_lost_retry);
  g_test_add_func ("/mpire/launcher/errors/not-found", test_launcher_not_found);
  g_test_add_func ("/mpire/launcher/errors/exits-at-once", test_launcher_exits_at_once);
  g_test_add_func ("/mpire/launcher/errors/launcher-writes", test_launcher_writes);
  g_test_add_func ("/mpire/launcher/handshake/other-version", test_other_version);
  g_test_add_func ("/mpire/launcher/handshake/task-missing", test_task_missing);

  return g_test_run ();
}
