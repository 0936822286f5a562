/* test-crash-matrix.c: every way a worker can fail, at every stage of its
 * life, on one start method (--start-method): the call fails with a
 * clear error and the pool goes on
 *
 * The faults: a crash (abort), an exit, a GError, a NULL without error,
 * a hang (past a timeout, or cancelled) and a result too large to send;
 * the stages: worker_init, the task, worker_exit.
 *
 * SPDX-License-Identifier: MIT
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mpire.h"

#include "test-pool-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

MpireStartMethod start_method = MPIRE_START_METHOD_SPAWN;

/* A result over the 2 GiB a message can hold. Its bytes are never
 * touched: the size is refused before they are read. */
#define HUGE_SIZE ((gsize) 3 << 30)

typedef struct
{
  const char *name;
  const char *stage;
} Stage;

static const Stage stages[] = {
  { "fault-init", "init" },
  { "fault-task", "task" },
  { "fault-exit", "exit" },
};

static const char * const faults[] = { "crash", "exit", "error", "null", "hang", "huge" };

static MpireTask *tasks[G_N_ELEMENTS (stages)];
static MpireTask *square_task;

/* A hanging thread (threading) waits for the test to let it go, so that
 * it ends before the next case. */
static GMutex hang_lock;
static GCond hang_cond;
static gboolean hang_released;

static void
hang (void)
{
  if (start_method != MPIRE_START_METHOD_THREADING)
    {
      for (;;)
        pause ();
    }

  g_mutex_lock (&hang_lock);
  while (!hang_released)
    g_cond_wait (&hang_cond, &hang_lock);
  g_mutex_unlock (&hang_lock);
}

static void
release_hang (gboolean released)
{
  g_mutex_lock (&hang_lock);
  hang_released = released;
  g_cond_broadcast (&hang_cond);
  g_mutex_unlock (&hang_lock);
}

static void
unmap_huge (gpointer data)
{
  munmap (data, HUGE_SIZE);
}

static GVariant *
huge_value (void)
{
  void *data = mmap (NULL, HUGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);

  g_assert_true (data != MAP_FAILED);
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, HUGE_SIZE, TRUE,
                                  unmap_huge, data);
}

/* The fault the shared objects name, if they name this task's stage;
 * otherwise x*x for a task, 0 for worker_init and worker_exit. */
static GVariant *
fault (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  const Stage *stage = data;
  GVariant *shared = mpire_worker_context_get_shared_objects (ctx);
  const char *which = "", *where = "";

  g_variant_lookup (shared, "fault", "&s", &which);
  g_variant_lookup (shared, "stage", "&s", &where);
  if (!g_str_equal (where, stage->stage))
    return g_str_equal (stage->stage, "task")
             ? g_variant_new_int64 (g_variant_get_int64 (args) * g_variant_get_int64 (args))
             : g_variant_new_int64 (0);

  if (g_str_equal (which, "crash"))
    abort ();
  if (g_str_equal (which, "exit"))
    _exit (3);
  if (g_str_equal (which, "error"))
    {
      g_set_error (error, TEST_ERROR, 7, "failed on purpose in %s", stage->stage);
      return NULL;
    }
  if (g_str_equal (which, "null"))
    return NULL;
  if (g_str_equal (which, "hang"))
    {
      hang ();
      return g_variant_new_int64 (0);
    }
  g_assert_cmpstr (which, ==, "huge");
  return huge_value ();
}

static gboolean
is_process_method (void)
{
  return start_method != MPIRE_START_METHOD_THREADING;
}

static void
assert_pool_works (MpireWorkerPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = mpire_worker_pool_map (pool, square_task, range_variant (20),
                                                      NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (result), ==, 20);
  for (gint64 i = 0; i < 20; i++)
    {
      gint64 v;

      g_variant_get_child (result, i, "x", &v);
      g_assert_cmpint (v, ==, i * i);
    }
}

typedef struct
{
  const Stage *stage;
  const char  *fault;
  gboolean     cancel;      /* a hang ended by cancelling the call */
  gboolean     keep_alive;  /* the worker_exit runs at the join */
} Case;

static gboolean
cancel_soon (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  g_usleep (300 * 1000);
  cancel_soon (data);
  return NULL;
}

/* Runs one case: the map and returns its error, or with kept-alive
 * workers the join's. */
static GError *
run_case (MpireWorkerPool *pool,
          const Case      *c)
{
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GThread) canceller = NULL;
  g_autoptr(GVariant) result = NULL;
  GError *error = NULL;

  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("{'fault': <%s>, 'stage': <%s>}",
                                                                    c->fault, c->stage->stage));
  mpire_map_options_set_worker_init (options, tasks[0]);
  mpire_map_options_set_worker_exit (options, tasks[2]);
  mpire_map_options_set_chunk_size (options, 2);
  if (g_str_equal (c->fault, "hang") && !c->cancel)
    {
      mpire_map_options_set_task_timeout (options, 0.5);
      mpire_map_options_set_worker_init_timeout (options, 0.5);
      mpire_map_options_set_worker_exit_timeout (options, 0.5);
    }
  if (c->cancel)
    canceller = g_thread_new ("cancel", cancel_thread, cancellable);

  mpire_worker_pool_set_keep_alive (pool, c->keep_alive);
  result = mpire_worker_pool_map (pool, tasks[1], range_variant (10), options, cancellable,
                                  &error);
  g_assert_true ((result == NULL) == (error != NULL));
  if (c->keep_alive)
    {
      g_assert_no_error (error);
      g_assert_false (mpire_worker_pool_stop_and_join (pool, &error));
      mpire_worker_pool_set_keep_alive (pool, FALSE);
    }
  return error;
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(MpireWorkerPool) pool = test_pool_new (2);
  g_autoptr(GError) error = NULL;
  g_autofree char *stage_text = g_strdup_printf ("worker_%s task “%s”", c->stage->stage,
                                                 c->stage->name);
  gboolean lifecycle = !g_str_equal (c->stage->stage, "task");
  gint64 start;

  if (!is_process_method () && (g_str_equal (c->fault, "crash") || g_str_equal (c->fault, "exit")))
    {
      g_test_skip ("A thread that crashes or exits ends the caller’s process");
      return;
    }

  release_hang (FALSE);
  start = g_get_monotonic_time ();
  error = run_case (pool, c);
  release_hang (TRUE);

  if (g_str_equal (c->fault, "huge") && g_str_equal (c->stage->stage, "init"))
    {
      /* worker_init's result is not sent anywhere: nothing fails. */
      g_assert_no_error (error);
    }
  else if (c->cancel)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* Well under the hang (for ever), even on a slow machine. */
      g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
    }
  else
    {
      g_assert_nonnull (error);
      if (g_str_equal (c->fault, "crash") || g_str_equal (c->fault, "exit"))
        g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED);
      else if (g_str_equal (c->fault, "error"))
        g_assert_error (error, TEST_ERROR, 7);
      else if (g_str_equal (c->fault, "null"))
        g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_FAILED);
      else if (g_str_equal (c->fault, "hang"))
        {
          g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT);
          g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
        }
      else
        g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);

      /* The error names the task, or the stage of the lifecycle. */
      if (lifecycle)
        g_assert_nonnull (strstr (error->message, stage_text));
      else if (!g_str_equal (c->fault, "error"))
        g_assert_nonnull (strstr (error->message, c->stage->name));
    }

  g_test_message ("%s at %s: %s", c->fault, c->stage->stage,
                  error != NULL ? error->message : "no error");
  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("@a{sv} {}"));
  assert_pool_works (pool);
}

int
main (int argc, char **argv)
{
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GEnumClass) methods = NULL;
  const char *method_name;

  for (gsize i = 0; i < G_N_ELEMENTS (stages); i++)
    tasks[i] = mpire_task_new (stages[i].name, fault, (gpointer) &stages[i], NULL);
  square_task = mpire_task_new ("square", square, NULL, NULL);

  mpire_init (&argc, &argv);

  parse_start_method (&argc, argv);
  g_test_init (&argc, &argv, NULL);
  methods = g_type_class_ref (MPIRE_TYPE_START_METHOD);
  method_name = g_enum_get_value (methods, start_method)->value_nick;

  /* Each fault at each stage, then a hang cancelled; at the exit, also
   * with kept-alive workers (it runs at the join). */
  for (gsize s = 0; s < G_N_ELEMENTS (stages); s++)
    for (gsize k = 0; k < (s == 2 ? 2 : 1); k++)
      for (gsize f = 0; f <= G_N_ELEMENTS (faults) - (k == 1); f++)
        {
          Case *c = g_new0 (Case, 1);
          g_autofree char *path = NULL;

          c->stage = &stages[s];
          c->fault = f < G_N_ELEMENTS (faults) ? faults[f] : "hang";
          c->cancel = f == G_N_ELEMENTS (faults);
          c->keep_alive = k == 1;
          path = g_strdup_printf ("/mpire/crash-matrix/%s%s/%s%s/%s", c->stage->stage,
                                  c->keep_alive ? "-kept-alive" : "", c->fault,
                                  c->cancel ? "-cancelled" : "", method_name);
          g_test_add_data_func (path, c, test_case);
          g_ptr_array_add (cases, c);
        }

  return g_test_run ();
}
