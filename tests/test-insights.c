/* test-insights.c: worker insights on every start method
 *
 * Run with --start-method spawn|fork|threading. With spawn the binary
 * runs itself again as the worker: tasks are created before mpire_init().
 *
 * No test here depends on how fast the machine is: times are only
 * checked against the sleeps the tasks are known to take.
 *
 * SPDX-License-Identifier: MIT
 */

#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "mpire.h"

#include "test-pool-util.h"

MpireStartMethod start_method = MPIRE_START_METHOD_SPAWN;

static MpireTask *square_task, *nap_task, *nap_init_task, *nap_exit_task, *fail_task;

static const char * const parts[] = { "start_up", "init", "waiting", "working", "exit" };

/* (ms, label): sleeps that long. */
static GVariant *
nap (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 ms;
  const char *label;

  g_variant_get (args, "(x&s)", &ms, &label);
  g_usleep (ms * 1000);
  return g_variant_new_boolean (TRUE);
}

/* worker_init and worker_exit: 30 ms each. */
static GVariant *
nap_lifecycle (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_usleep (30 * 1000);
  return g_variant_new ("()");
}

static GVariant *
fail_on_seven (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  if (g_variant_get_int64 (args) == 7)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "seven");
      return NULL;
    }
  return g_variant_new_int64 (0);
}

static MpireWorkerPool *
new_insights_pool (int n_jobs)
{
  MpireWorkerPool *pool = test_pool_new (n_jobs);

  mpire_worker_pool_set_enable_insights (pool, TRUE);
  return pool;
}

static void
map_ok (MpireWorkerPool *pool,
        MpireTask       *task,
        GVariant        *input,
        MpireMapOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = mpire_worker_pool_map (pool, task, input, options, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
}

static double
lookup_double (GVariant   *insights,
               const char *key)
{
  double value = -1;

  if (!g_variant_lookup (insights, key, "d", &value))
    g_error ("no double “%s” in the insights", key);
  return value;
}

/* The per-worker array @key: its length must be @n_workers. */
static GVariant *
lookup_array (GVariant   *insights,
              const char *key,
              const char *type,
              gsize       n_workers)
{
  GVariant *array = g_variant_lookup_value (insights, key, G_VARIANT_TYPE (type));

  if (array == NULL)
    g_error ("no “%s” of type %s in the insights", key, type);
  g_assert_cmpuint (g_variant_n_children (array), ==, n_workers);
  return array;
}

static guint64
completed_tasks (GVariant *insights,
                 gsize     n_workers)
{
  g_autoptr(GVariant) counts = lookup_array (insights, "n_completed_tasks", "at", n_workers);
  guint64 sum = 0;

  for (gsize i = 0; i < n_workers; i++)
    {
      guint64 n;

      g_variant_get_child (counts, i, "t", &n);
      sum += n;
    }
  return sum;
}

/* Every figure is there, none is negative, the totals are the sums of
 * the per-worker figures, the means their means, and the ratios add up
 * to 1. */
static void
assert_consistent (GVariant *insights,
                   gsize     n_workers)
{
  double total_time = lookup_double (insights, "total_time");
  double sum_of_totals = 0, sum_of_ratios = 0;

  for (gsize p = 0; p < G_N_ELEMENTS (parts); p++)
    {
      g_autofree char *key = g_strdup_printf ("%s_time", parts[p]);
      g_autofree char *total_key = g_strdup_printf ("total_%s_time", parts[p]);
      g_autofree char *mean_key = g_strdup_printf ("%s_time_mean", parts[p]);
      g_autofree char *std_key = g_strdup_printf ("%s_time_std", parts[p]);
      g_autofree char *ratio_key = g_strdup_printf ("%s_ratio", parts[p]);
      g_autoptr(GVariant) per_worker = lookup_array (insights, key, "ad", n_workers);
      double sum = 0, total = lookup_double (insights, total_key);

      for (gsize w = 0; w < n_workers; w++)
        {
          double value;

          g_variant_get_child (per_worker, w, "d", &value);
          g_assert_cmpfloat (value, >=, 0);
          sum += value;
        }
      g_assert_cmpfloat_with_epsilon (total, sum, 1e-6);
      g_assert_cmpfloat_with_epsilon (lookup_double (insights, mean_key), sum / n_workers, 1e-6);
      g_assert_cmpfloat (lookup_double (insights, std_key), >=, 0);
      g_assert_cmpfloat (lookup_double (insights, ratio_key), >=, 0);
      sum_of_totals += total;
      sum_of_ratios += lookup_double (insights, ratio_key);
    }
  g_assert_cmpfloat_with_epsilon (total_time, sum_of_totals, 1e-6);
  g_assert_cmpfloat (total_time, >, 0);
  g_assert_cmpfloat_with_epsilon (sum_of_ratios, 1, 1e-6);
}

/* The pool's insights, with @n_tasks completed on @n_workers and
 * consistent figures. */
static GVariant *
get_checked_insights (MpireWorkerPool *pool,
                      gsize            n_workers,
                      guint64          n_tasks)
{
  GVariant *insights = mpire_worker_pool_get_insights (pool);

  g_assert_true (g_variant_is_of_type (insights, G_VARIANT_TYPE_VARDICT));
  g_assert_cmpuint (completed_tasks (insights, n_workers), ==, n_tasks);
  assert_consistent (insights, n_workers);
  return insights;
}

/* Tasks spread over the workers add up to the number of tasks. */
static void
test_counts (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) insights = NULL;
  gboolean enabled = FALSE;

  g_object_get (pool, "enable-insights", &enabled, NULL);
  g_assert_true (enabled);

  mpire_map_options_set_chunk_size (options, 7);
  map_ok (pool, square_task, range_variant (1000), options);

  insights = get_checked_insights (pool, 2, 1000);
  g_assert_cmpfloat (lookup_double (insights, "total_start_up_time"), >, 0);
  g_assert_cmpfloat (lookup_double (insights, "total_working_time"), >, 0);
}

/* A task that sleeps 50 ms is the longest, with its arguments; the
 * working time holds every known sleep. */
static void
test_longest_tasks (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) insights = NULL;
  g_autoptr(GVariant) durations = NULL;
  g_autoptr(GVariant) args = NULL;
  GVariantBuilder input;
  double longest;
  const char *longest_args;

  g_variant_builder_init (&input, G_VARIANT_TYPE ("a(xs)"));
  for (int i = 0; i < 12; i++)
    g_variant_builder_add (&input, "(xs)", (gint64) (i == 5 ? 50 : 2),
                           i == 5 ? "the slow one" : "quick");
  mpire_map_options_set_chunk_size (options, 1);
  map_ok (pool, nap_task, g_variant_builder_end (&input), options);

  insights = get_checked_insights (pool, 2, 12);
  g_assert_cmpfloat (lookup_double (insights, "total_working_time"), >=, 0.050 + 11 * 0.002);

  durations = g_variant_lookup_value (insights, "top_5_max_task_durations", G_VARIANT_TYPE ("ad"));
  args = g_variant_lookup_value (insights, "top_5_max_task_args", G_VARIANT_TYPE ("as"));
  g_assert_nonnull (durations);
  g_assert_nonnull (args);
  g_assert_cmpuint (g_variant_n_children (durations), ==, 5);
  g_assert_cmpuint (g_variant_n_children (args), ==, 5);

  g_variant_get_child (durations, 0, "d", &longest);
  g_variant_get_child (args, 0, "&s", &longest_args);
  g_assert_cmpfloat (longest, >=, 0.050);
  g_assert_cmpstr (longest_args, ==, "Arg 0: 50, Arg 1: 'the slow one'");
  for (gsize i = 1; i < 5; i++)
    {
      double previous, duration;
      const char *text;

      g_variant_get_child (durations, i - 1, "d", &previous);
      g_variant_get_child (durations, i, "d", &duration);
      g_variant_get_child (args, i, "&s", &text);
      g_assert_cmpfloat (duration, <=, previous);
      g_assert_cmpfloat (duration, >=, 0.002);
      g_assert_cmpstr (text, ==, "Arg 0: 2, Arg 1: 'quick'");
    }
}

/* worker_init and worker_exit are timed; without keep-alive the call
 * waits for the exits, so their time is in when it returns. */
static void
test_init_exit (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) insights = NULL;
  g_autoptr(GVariant) init = NULL;
  g_autoptr(GVariant) exit = NULL;

  mpire_map_options_set_worker_init (options, nap_init_task);
  mpire_map_options_set_worker_exit (options, nap_exit_task);
  map_ok (pool, square_task, range_variant (100), options);

  insights = get_checked_insights (pool, 2, 100);
  init = lookup_array (insights, "init_time", "ad", 2);
  exit = lookup_array (insights, "exit_time", "ad", 2);
  for (gsize w = 0; w < 2; w++)
    {
      double init_time, exit_time;

      g_variant_get_child (init, w, "d", &init_time);
      g_variant_get_child (exit, w, "d", &exit_time);
      g_assert_cmpfloat (init_time, >=, 0.030);
      g_assert_cmpfloat (exit_time, >=, 0.030);
    }
}

/* Kept-alive workers add up their figures over the calls; a call that
 * starts all the workers again starts the figures again (MPIRE). */
static void
test_keep_alive (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) first = NULL;
  g_autoptr(GVariant) second = NULL;
  g_autoptr(GVariant) fresh = NULL;

  mpire_worker_pool_set_keep_alive (pool, TRUE);
  map_ok (pool, square_task, range_variant (300), NULL);
  first = get_checked_insights (pool, 2, 300);

  map_ok (pool, square_task, range_variant (200), NULL);
  second = get_checked_insights (pool, 2, 500);
  /* The same workers: started once. */
  g_assert_cmpfloat_with_epsilon (lookup_double (second, "total_start_up_time"),
                                  lookup_double (first, "total_start_up_time"), 1e-9);

  g_assert_true (mpire_worker_pool_stop_and_join (pool, &error));
  g_assert_no_error (error);
  mpire_worker_pool_set_keep_alive (pool, FALSE);
  map_ok (pool, square_task, range_variant (50), NULL);
  fresh = get_checked_insights (pool, 2, 50);
}

/* Workers replaced at the end of their lifespan add to the figures of
 * their worker id. */
static void
test_lifespan (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) insights = NULL;

  mpire_map_options_set_chunk_size (options, 5);
  mpire_map_options_set_worker_lifespan (options, 20);
  map_ok (pool, square_task, range_variant (200), options);

  insights = get_checked_insights (pool, 2, 200);
}

/* A failed task is timed but not counted as completed; the pool goes on
 * with correct figures. */
static void
test_failed_task (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (1);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) insights = NULL;

  mpire_map_options_set_chunk_size (options, 10);
  /* One worker, one chunk: tasks 0 to 6 complete, 7 fails. */
  result = mpire_worker_pool_map (pool, fail_task, range_variant (10), options, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_null (result);

  insights = get_checked_insights (pool, 1, 7);
}

/* Insights off (the default): nothing is measured, the dictionary is
 * empty, and the table says why. */
static void
test_off (void)
{
  g_autoptr(MpireWorkerPool) pool = test_pool_new (2);
  g_autoptr(GVariant) before = mpire_worker_pool_get_insights (pool);
  g_autoptr(GVariant) after = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;

  g_assert_false (mpire_worker_pool_get_enable_insights (pool));
  g_assert_true (g_variant_is_of_type (before, G_VARIANT_TYPE_VARDICT));
  g_assert_cmpuint (g_variant_n_children (before), ==, 0);

  map_ok (pool, square_task, range_variant (100), NULL);
  after = mpire_worker_pool_get_insights (pool);
  g_assert_cmpuint (g_variant_n_children (after), ==, 0);
  json = mpire_worker_pool_get_insights_json (pool);
  g_assert_cmpstr (json, ==, "{}");
  text = mpire_worker_pool_get_insights_string (pool);
  g_assert_nonnull (strstr (text, "enable-insights"));
}

/* The JSON form has the same keys and values. */
static void
test_json (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (2);
  g_autoptr(GVariant) insights = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *object;
  JsonArray *counts;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  map_ok (pool, square_task, range_variant (500), NULL);
  insights = mpire_worker_pool_get_insights (pool);
  json = mpire_worker_pool_get_insights_json (pool);

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  object = json_node_get_object (json_parser_get_root (parser));

  members = json_object_get_members (object);
  g_assert_cmpuint (g_list_length (members), ==, g_variant_n_children (insights));
  g_variant_iter_init (&iter, insights);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;

      g_assert_true (json_object_has_member (object, key));
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
        g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, key),
                                        g_variant_get_double (value), 1e-9);
    }

  counts = json_object_get_array_member (object, "n_completed_tasks");
  g_assert_cmpuint (json_array_get_length (counts), ==, 2);
  g_assert_cmpint (json_array_get_int_element (counts, 0) + json_array_get_int_element (counts, 1),
                   ==, 500);
}

/* print_insights() writes the table on standard output. */
static void
test_print (void)
{
  g_autoptr(MpireWorkerPool) pool = new_insights_pool (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *printed = NULL;
  g_autofree char *text = NULL;
  int fd, saved;

  mpire_map_options_set_chunk_size (options, 1);
  /* Far longer than the others, so that it is first on a busy machine. */
  map_ok (pool, nap_task, g_variant_new_parsed ("[(@x 200, 'long'), (1, 'one'), (1, 'one')]"),
          options);

  fd = g_file_open_tmp ("mpire-insights-XXXXXX", &path, &error);
  g_assert_no_error (error);
  fflush (stdout);
  saved = dup (STDOUT_FILENO);
  g_assert_cmpint (dup2 (fd, STDOUT_FILENO), ==, STDOUT_FILENO);
  mpire_worker_pool_print_insights (pool);
  fflush (stdout);
  g_assert_cmpint (dup2 (saved, STDOUT_FILENO), ==, STDOUT_FILENO);
  close (saved);
  close (fd);
  g_assert_true (g_file_get_contents (path, &printed, NULL, &error));
  g_assert_no_error (error);
  g_unlink (path);

  text = mpire_worker_pool_get_insights_string (pool);
  g_assert_cmpstr (printed, ==, text);
  g_test_message ("%s", printed);
  g_assert_nonnull (strstr (printed, "Tasks completed: 3, workers: 2"));
  for (gsize p = 0; p < G_N_ELEMENTS (parts); p++)
    {
      g_autofree char *row = g_strdup_printf ("\n%s ", p == 0 ? "start-up" : parts[p]);

      g_assert_nonnull (strstr (printed, row));
    }
  g_assert_nonnull (strstr (printed, "\nall "));
  g_assert_nonnull (strstr (printed, "\n0     "));
  g_assert_nonnull (strstr (printed, "\n1     "));
  g_assert_nonnull (strstr (printed, "Longest tasks:\n1.  0:00:00."));
  g_assert_nonnull (strstr (printed, "  Arg 0: 200, Arg 1: 'long'\n2."));
  g_assert_null (strstr (printed, "\n4."));
}

/* Changing enable-insights restarts kept-alive workers, so the figures
 * always cover whole worker lives. */
static void
test_toggle (void)
{
  g_autoptr(MpireWorkerPool) pool = test_pool_new (2);
  g_autoptr(GVariant) off = NULL;
  g_autoptr(GVariant) on = NULL;

  mpire_worker_pool_set_keep_alive (pool, TRUE);
  map_ok (pool, square_task, range_variant (100), NULL);
  off = mpire_worker_pool_get_insights (pool);
  g_assert_cmpuint (g_variant_n_children (off), ==, 0);

  g_object_set (pool, "enable-insights", TRUE, NULL);
  map_ok (pool, square_task, range_variant (60), NULL);
  on = get_checked_insights (pool, 2, 60);
  g_assert_cmpfloat (lookup_double (on, "total_start_up_time"), >, 0);
}

int
main (int argc, char **argv)
{
  square_task = mpire_task_new ("square", square, NULL, NULL);
  nap_task = mpire_task_new ("nap", nap, NULL, NULL);
  nap_init_task = mpire_task_new ("nap-init", nap_lifecycle, NULL, NULL);
  nap_exit_task = mpire_task_new ("nap-exit", nap_lifecycle, NULL, NULL);
  fail_task = mpire_task_new ("fail-on-seven", fail_on_seven, NULL, NULL);

  mpire_init (&argc, &argv);

  parse_start_method (&argc, argv);
  g_test_init (&argc, &argv, NULL);

  add_method_test ("/mpire/insights", "counts", test_counts);
  add_method_test ("/mpire/insights", "longest-tasks", test_longest_tasks);
  add_method_test ("/mpire/insights", "init-exit", test_init_exit);
  add_method_test ("/mpire/insights", "keep-alive", test_keep_alive);
  add_method_test ("/mpire/insights", "lifespan", test_lifespan);
  add_method_test ("/mpire/insights", "failed-task", test_failed_task);
  add_method_test ("/mpire/insights", "off", test_off);
  add_method_test ("/mpire/insights", "json", test_json);
  add_method_test ("/mpire/insights", "print", test_print);
  add_method_test ("/mpire/insights", "toggle", test_toggle);

  return g_test_run ();
}
