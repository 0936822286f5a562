/* test-slurm.c: a pool whose workers are Slurm job steps, started by
 * srun inside the allocation this program runs in (tests/slurm/
 * setup-and-run.sh makes the cluster, salloc the allocation).
 *
 * Usage: salloc --nodes=1 --ntasks=2 test-slurm [--tap]
 *
 * The binary runs itself again as the worker, in each step.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mpire.h"

#include "test-pool-util.h"

MpireStartMethod start_method = MPIRE_START_METHOD_SPAWN;

#define N_TASKS 10000
#define N_WORKERS 2

/* A step per worker. --exact lets the two steps share the allocation (by
 * default a step takes all of the allocation's CPUs on its node, so the
 * second one would wait for the first to end); --unbuffered, or
 * slurmstepd holds the worker's output until a newline, and the frames
 * have none. */
static const char * const srun_launcher[] = {
  "srun", "--nodes=1", "--ntasks=1", "--exact", "--unbuffered", "--quiet", NULL
};

static MpireTask *step_square_task, *lose_step_task;

/* "JOB.STEP" of the step this worker runs in, or an error outside one. */
static char *
step_name (GError **error)
{
  const char *job = g_getenv ("SLURM_JOB_ID");
  const char *step = g_getenv ("SLURM_STEP_ID");

  if (job == NULL || step == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "worker %d is not in a Slurm job step", (int) getpid ());
      return NULL;
    }
  return g_strdup_printf ("%s.%s", job, step);
}

/* (x*x, the worker's step) */
static GVariant *
step_square (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);
  g_autofree char *step = step_name (error);

  if (step == NULL)
    return NULL;
  return g_variant_new ("(xs)", x * x, step);
}

/* x*x; the first worker to get task N_TASKS / 2 has Slurm cancel its own
 * step (as a lost node would end it) and waits for the end. The marker
 * directory (MPIRE_TEST_SLURM_MARKER, made by the first one only) keeps
 * the retried task from doing it again. */
static GVariant *
lose_step (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);
  g_autofree char *step = step_name (error);

  if (step == NULL)
    return NULL;
  if (x == N_TASKS / 2 && g_mkdir (g_getenv ("MPIRE_TEST_SLURM_MARKER"), 0700) == 0)
    {
      const char *scancel[] = { "scancel", "--quiet", step, NULL };

      if (!g_spawn_sync (NULL, (char **) scancel, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                         NULL, NULL, NULL, error))
        return NULL;
      for (;;)
        pause ();
    }
  return g_variant_new_int64 (x * x);
}

static MpireWorkerPool *
srun_pool (void)
{
  MpireWorkerPool *pool = mpire_worker_pool_new (N_WORKERS, MPIRE_START_METHOD_SPAWN);

  mpire_worker_pool_set_worker_launcher (pool, srun_launcher);
  return pool;
}

static gboolean
in_allocation (void)
{
  if (g_getenv ("SLURM_JOB_ID") != NULL)
    return TRUE;
  g_test_skip ("not inside a Slurm allocation (run under salloc, see tests/slurm/setup-and-run.sh)");
  return FALSE;
}

static void
check_steps (GVariant *result)
{
  g_autoptr(GHashTable) steps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *job_prefix = g_strdup_printf ("%s.", g_getenv ("SLURM_JOB_ID"));

  g_assert_cmpuint (g_variant_n_children (result), ==, N_TASKS);
  for (gint64 i = 0; i < N_TASKS; i++)
    {
      gint64 value;
      char *step;

      g_variant_get_child (result, i, "(xs)", &value, &step);
      g_assert_cmpint (value, ==, i * i);
      g_assert_true (g_str_has_prefix (step, job_prefix));
      g_hash_table_add (steps, step);
    }
  /* order-tasks: both workers had chunks, each in a step of its own. */
  g_assert_cmpuint (g_hash_table_size (steps), ==, N_WORKERS);
}

/* 10,000 tasks over two srun workers; a second call on the same
 * (kept alive) workers. */
static void
test_map (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) first = NULL;
  g_autoptr(GVariant) second = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();

  if (!in_allocation ())
    return;

  pool = srun_pool ();
  mpire_worker_pool_set_order_tasks (pool, TRUE);
  mpire_worker_pool_set_keep_alive (pool, TRUE);

  first = mpire_worker_pool_map (pool, step_square_task, range_variant (N_TASKS), NULL, NULL,
                                 &error);
  g_assert_no_error (error);
  g_test_message ("map of %d tasks over %d srun workers, starting them: %.3f s",
                  N_TASKS, N_WORKERS, g_timer_elapsed (timer, NULL));
  check_steps (first);

  g_timer_start (timer);
  second = mpire_worker_pool_map (pool, step_square_task, range_variant (N_TASKS), NULL, NULL,
                                  &error);
  g_assert_no_error (error);
  g_test_message ("map of %d tasks over the same %d srun workers: %.3f s",
                  N_TASKS, N_WORKERS, g_timer_elapsed (timer, NULL));
  check_steps (second);
  g_assert_true (g_variant_equal (first, second));
}

/* Runs the lose-step map with @retry; the marker is removed after. */
static GVariant *
map_losing_a_step (gboolean   retry,
                   GError   **error)
{
  g_autoptr(MpireWorkerPool) pool = srun_pool ();
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autofree char *dir = g_dir_make_tmp ("mpire-slurm-XXXXXX", NULL);
  g_autofree char *marker = g_build_filename (dir, "lost", NULL);
  GVariant *result;

  g_assert_nonnull (dir);
  g_setenv ("MPIRE_TEST_SLURM_MARKER", marker, TRUE);
  mpire_map_options_set_chunk_size (options, 100);
  mpire_map_options_set_retry_on_worker_death (options, retry);
  result = mpire_worker_pool_map (pool, lose_step_task, range_variant (N_TASKS), options, NULL,
                                  error);

  /* The step was lost: its task ran and made the marker. */
  g_assert_true (g_file_test (marker, G_FILE_TEST_IS_DIR));
  g_assert_cmpint (g_rmdir (marker), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  return result;
}

/* A step cancelled mid-map is a dead worker: without retry the call
 * fails naming a task, its worker and the host. The task is the last one
 * the pool heard of, N_TASKS / 2 or one before it: what slurmstepd had
 * not passed on when it killed the step is lost. */
static void
test_lost_step_fails (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autofree char *host = g_strdup_printf ("on host “%s”", g_get_host_name ());
  const char *arguments;
  gint64 task;

  if (!in_allocation ())
    return;

  result = map_losing_a_step (FALSE, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, host));
  g_assert_nonnull (strstr (error->message, "“lose-step”"));
  arguments = strstr (error->message, "arguments ");
  g_assert_nonnull (arguments);
  task = g_ascii_strtoll (arguments + strlen ("arguments "), NULL, 10);
  g_assert_cmpint (task, >, 0);
  g_assert_cmpint (task, <=, N_TASKS / 2);
}

/* With retry-on-worker-death, the lost step's tasks run again on a new
 * step: every result, once. */
static void
test_lost_step_retried (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  if (!in_allocation ())
    return;

  result = map_losing_a_step (TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_assert_cmpuint (g_variant_n_children (result), ==, N_TASKS);
  for (gint64 i = 0; i < N_TASKS; i++)
    {
      gint64 value;

      g_variant_get_child (result, i, "x", &value);
      g_assert_cmpint (value, ==, i * i);
    }
}

int
main (int argc, char **argv)
{
  step_square_task = mpire_task_new ("step-square", step_square, NULL, NULL);
  lose_step_task = mpire_task_new ("lose-step", lose_step, NULL, NULL);

  mpire_init (&argc, &argv);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/slurm/map", test_map);
  g_test_add_func ("/mpire/slurm/lost-step/fails", test_lost_step_fails);
  g_test_add_func ("/mpire/slurm/lost-step/retried", test_lost_step_retried);

  return g_test_run ();
}
