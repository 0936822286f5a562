/* mpire-bench.c: the C side of the mpire-glib benchmark
 *
 * Runs the workloads with C tasks on mpire-glib (each start method) and on
 * the C peers: a sequential loop over the same GVariant array, a plain C
 * loop (the floor), and GNU parallel running this program once per task.
 * Prints one JSON object per line on standard output (format_table.py
 * turns them, with bench_python.py's, into the table); progress goes to
 * standard error.
 *
 * Usage: mpire-bench [--quick|--smoke] [--runs N] [--only tiny,cpu,...]
 *                    [--tiny-tasks N] [--cpu-tasks N]
 *                    [--methods spawn,fork,threading] [--no-parallel]
 *        mpire-bench --one-task I     (prints the CPU task's result for I)
 *        mpire-bench --child KIND:SYSTEM:N
 *                                     (one measurement in a process of its
 *                                     own: see child_main())
 *
 * Every measurement checks its result outside the timed region; a wrong
 * result is reported as a failure, never as a time. Exits 1 if any check
 * failed.
 *
 * SPDX-License-Identifier: MIT
 */

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpire-glib/mpire.h>

#include "bench-workloads.h"


#define ALL_WORKLOADS "tiny,cpu,numerical,stateful,init,overhead,restart,startup,memory,remote"

typedef struct
{
  const char *name;     /* "quick", "full" or "smoke" */
  gint64      tiny_n;   /* elements of the tiny-task map */
  gint64      cpu_n;    /* tasks of the CPU-bound map */
  gint64      restart_n; /* tasks of the map with a new worker per task */
  gint64      numerical_n; /* rows (points of 3 doubles) of the numerical map */
  gint64      stateful_n; /* tasks reading the worker state */
  gint64      init_n;   /* short tasks after the slow worker_init */
  int         startup_runs; /* pools started per start method */
  gint64      memory_map_n;  /* elements of the memory-measured map */
  gint64      memory_imap_n; /* results consumed from the endless imap */
  int         runs;     /* timed runs per measurement (median reported) */
  int         cold_runs; /* timed runs of cold pools and of GNU parallel */
  gboolean    parallel;  /* run the GNU parallel peer */
  int         retries;   /* a disturbed measurement is taken again up to this many times */
  double      run_budget_s; /* 0, or: no run after the runs of a measurement took this long */
} Config;

static Config config;
static gboolean any_failed;

/* A measurement that other processes disturbed is taken again, up to
 * config.retries times; the last one is kept whatever it is. */
static int retries_left;
static gboolean emitted;
static gboolean must_emit;    /* whatever the disturbance */
#define MEASURE(call) G_STMT_START {                                  \
    for (retries_left = config.retries; ; retries_left--)             \
      {                                                               \
        emitted = FALSE;                                              \
        call;                                                         \
        if (emitted)                                                  \
          break;                                                      \
      }                                                               \
  } G_STMT_END
static char *self_exe;

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* ---- how quiet the machine is ------------------------------------------ */

/* Other processes running during a measurement steal CPUs from it. Each
 * record says how much: the CPU time all CPUs spent (/proc/stat) minus the
 * CPU time of this process, its reaped children and its live descendants
 * (the workers), as a share of the CPUs over the measurement. Workers
 * over ssh are the descendants of the hosts' sshd (--ours): ours too. */

static gint64 *sshd_pids;    /* 0-terminated, or NULL */

static double
machine_cpu_seconds (void)
{
  g_autofree char *stat = NULL;
  guint64 v[8] = { 0 };

  if (!g_file_get_contents ("/proc/stat", &stat, NULL, NULL) ||
      sscanf (stat, "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
    return 0;
  /* user nice system (idle iowait) irq softirq steal: steal is time the
   * hypervisor gave to others, which is noise too */
  return (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / sysconf (_SC_CLK_TCK);
}

static double
tree_cpu_seconds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  g_autoptr(GArray) pids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) ppids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) cpus = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GHashTable) ours = g_hash_table_new (g_int64_hash, g_int64_equal);
  gint64 self = getpid ();
  guint64 total = 0;
  const char *name;
  gboolean grew = TRUE;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL, *stat = NULL;
      const char *p;
      gint64 pid, ppid = 0;
      guint64 t[4] = { 0 };

      if (!g_ascii_isdigit (name[0]))
        continue;
      pid = g_ascii_strtoll (name, NULL, 10);
      path = g_strdup_printf ("/proc/%s/stat", name);
      if (!g_file_get_contents (path, &stat, NULL, NULL) || (p = strrchr (stat, ')')) == NULL)
        continue;
      /* after "pid (comm)": state ppid ... utime(14) stime cutime cstime */
      if (sscanf (p + 2, "%*c %" G_GINT64_FORMAT " %*d %*d %*d %*d %*u %*u %*u %*u %*u"
                  " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                  " %" G_GUINT64_FORMAT, &ppid, &t[0], &t[1], &t[2], &t[3]) != 5)
        continue;
      g_array_append_val (pids, pid);
      g_array_append_val (ppids, ppid);
      total = t[0] + t[1] + t[2] + t[3];
      g_array_append_val (cpus, total);
    }

  total = 0;
  g_hash_table_add (ours, &self);
  for (guint i = 0; sshd_pids != NULL && sshd_pids[i] != 0; i++)
    g_hash_table_add (ours, &sshd_pids[i]);
  while (grew)
    {
      grew = FALSE;
      for (guint i = 0; i < pids->len; i++)
        if (!g_hash_table_contains (ours, &g_array_index (pids, gint64, i)) &&
            g_hash_table_contains (ours, &g_array_index (ppids, gint64, i)))
          {
            g_hash_table_add (ours, &g_array_index (pids, gint64, i));
            grew = TRUE;
          }
    }
  for (guint i = 0; i < pids->len; i++)
    if (g_hash_table_contains (ours, &g_array_index (pids, gint64, i)))
      total += g_array_index (cpus, guint64, i);
  return (double) total / sysconf (_SC_CLK_TCK);
}

static struct
{
  double wall, machine, tree;
} probe;

/* At the start of a measurement. */
static void
probe_start (void)
{
  probe.tree = tree_cpu_seconds ();
  probe.machine = machine_cpu_seconds ();
  probe.wall = now ();
}

/* CPU seconds other processes used since probe_start(), and the wall
 * time since then. (Clock ticks are 10 ms: a short measurement gets a
 * rough figure.) */
static void
probe_others (double *others,
              double *wall)
{
  double machine = machine_cpu_seconds (), tree = tree_cpu_seconds ();

  *wall = now () - probe.wall;
  *others = MAX (0, (machine - probe.machine) - (tree - probe.tree));
}

/* Whether a measurement of @runs runs, the first @done of them taken
 * in @times, takes one more: up to @runs, but once its runs took
 * config.run_budget_s (when set), the runs so far are enough. A run that
 * slow varies less, relatively, than a short one. */
static gboolean
another_run (const double *times,
             int           done,
             int           runs)
{
  double spent = 0;

  for (int i = 0; i < done; i++)
    spent += times[i];
  return done < runs && (done == 0 || config.run_budget_s <= 0 || spent < config.run_budget_s);
}

/* ---- records ----------------------------------------------------------- */

static void
json_string (GString    *out,
             const char *s)
{
  g_string_append_c (out, '"');
  for (; *s != '\0'; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_printf (out, "\\%c", *s);
      else if ((guchar) *s < 0x20)
        g_string_append_printf (out, "\\u%04x", *s);
      else
        g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (const double *times,
        int           n_times)
{
  g_autofree double *sorted = g_memdup2 (times, sizeof (double) * n_times);

  qsort (sorted, n_times, sizeof (double), compare_doubles);
  return n_times % 2 ? sorted[n_times / 2]
                     : (sorted[n_times / 2 - 1] + sorted[n_times / 2]) / 2;
}

/* One line of JSON: see format_table.py for the fields. @times is NULL
 * when the measurement failed with @error. @extra (nullable): more
 * fields, `"name": value, ...`. */
static void
emit (const char   *workload,
      const char   *system,
      const char   *peer,
      const char   *mode,
      int           n_jobs,
      gint64        n_tasks,
      const double *times,
      int           n_times,
      const char   *extra,
      const GError *error)
{
  g_autoptr(GString) out = g_string_new ("{\"workload\": ");
  double others, wall;

  probe_others (&others, &wall);
  /* disturbed: the same criterion as format_table.py's "!" */
  if (error == NULL && retries_left > 0 && !must_emit && others >= 0.1 &&
      100 * others / (wall * mpire_cpu_count ()) > 10)
    {
      g_printerr ("  %-10s %-34s %-5s j%d  others used %.0f%% of the CPUs: measuring again\n",
                  workload, system, mode, n_jobs, 100 * others / (wall * mpire_cpu_count ()));
      return;
    }
  emitted = TRUE;

  json_string (out, workload);
  g_string_append (out, ", \"lang\": \"C\", \"system\": ");
  json_string (out, system);
  g_string_append (out, ", \"peer\": ");
  json_string (out, peer);
  g_string_append (out, ", \"mode\": ");
  json_string (out, mode);
  g_string_append_printf (out, ", \"n_jobs\": %d, \"n_tasks\": %" G_GINT64_FORMAT ", \"times\": [",
                          n_jobs, n_tasks);
  for (int i = 0; times != NULL && i < n_times; i++)
    g_string_append_printf (out, "%s%.6f", i ? ", " : "", times[i]);
  g_string_append_printf (out, "], \"others_cpu_s\": %.2f, \"wall_s\": %.2f, \"n_cpus\": %d,"
                          " \"attempt\": %d, \"ok\": ", others, wall, mpire_cpu_count (),
                          config.retries - retries_left + 1);
  g_string_append (out, error == NULL ? "true" : "false");
  if (extra != NULL)
    g_string_append_printf (out, ", %s", extra);
  if (error != NULL)
    {
      g_string_append (out, ", \"error\": ");
      json_string (out, error->message);
      any_failed = TRUE;
    }
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  fflush (stdout);

  if (error != NULL)
    g_printerr ("  %-10s %-34s %-5s j%d  FAILED: %s\n", workload, system, mode, n_jobs,
                error->message);
  else
    g_printerr ("  %-10s %-34s %-5s j%d  median %.4f s\n", workload, system, mode, n_jobs,
                median (times, n_times));
}

/* ---- the systems ------------------------------------------------------- */

static const char *
method_name (MpireStartMethod method)
{
  switch (method)
    {
    case MPIRE_START_METHOD_SPAWN:
      return "spawn";
    case MPIRE_START_METHOD_FORK:
      return "fork";
    case MPIRE_START_METHOD_THREADING:
      return "threading";
    case MPIRE_START_METHOD_FORKSERVER:
      return "forkserver";
    default:
      return "?";
    }
}

static const MpireStartMethod all_methods[] = {
  MPIRE_START_METHOD_SPAWN, MPIRE_START_METHOD_FORK, MPIRE_START_METHOD_THREADING,
  MPIRE_START_METHOD_FORKSERVER,
};

static gboolean
method_from_name (const char       *name,
                  MpireStartMethod *method)
{
  for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
    if (g_str_equal (name, method_name (all_methods[m])))
      {
        *method = all_methods[m];
        return TRUE;
      }
  return FALSE;
}

typedef GVariant *(*SeqFunc) (GVariant *input, GError **error);

/* The sequential loop over the same GVariant array: each element given
 * to the task function as the pool gives it, each result added to an
 * `ax`, as the pool's result is. */
static GVariant *
seq_loop (GVariant       *input,
          MpireTaskFunc   func,
          GError        **error)
{
  GVariantBuilder builder;
  GVariantIter iter;
  GVariant *child;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("ax"));
  g_variant_iter_init (&iter, input);
  while ((child = g_variant_iter_next_value (&iter)) != NULL)
    {
      GVariant *result = func (NULL, child, NULL, error);

      g_variant_unref (child);
      if (result == NULL)
        {
          g_variant_builder_clear (&builder);
          return NULL;
        }
      g_variant_builder_add_value (&builder, result);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static GVariant *
seq_square (GVariant *input, GError **error)
{
  return seq_loop (input, square_func, error);
}

static GVariant *
seq_cpu (GVariant *input, GError **error)
{
  return seq_loop (input, cpu_func, error);
}

/* The floor: the squares of a plain int64 array, no GVariant per element. */
static GVariant *
raw_square (GVariant *input, GError **error)
{
  gsize n = 0;
  const gint64 *in = g_variant_get_fixed_array (input, &n, sizeof (gint64));
  gint64 *out = g_new (gint64, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = in[i] * in[i];
  return array_take ("ax", out, n);
}

/* A workload as the sequential loop and the mpire-glib rows run it. */
typedef struct
{
  const char      *name;
  MpireTask       *task;         /* of the mpire-glib rows */
  GVariant        *input;        /* an `ax` or an `ad`: rows of row_width elements */
  gint64           row_width;
  MpireMapOptions *options;      /* nullable: of every map of the mpire-glib rows */
  gboolean         worker_state; /* the pools' use-worker-state */
  CheckFunc        check;
  const char      *form;         /* nullable: how the task is called, in the row's name */
  GVariant        *launchers;    /* nullable: the pools' worker-launchers */
  const char      *peer;         /* nullable: the rows' peer, if not "mpire" */
} Workload;

static gint64
workload_n_tasks (const Workload *w)
{
  return g_variant_n_children (w->input) / w->row_width;
}

static void
bench_seq (const Workload *w,
           const char     *system,
           const char     *peer,
           SeqFunc         func)
{
  gint64 n = workload_n_tasks (w);
  g_autofree double *times = g_new0 (double, config.runs);
  g_autoptr(GError) error = NULL;
  int r;

  probe_start ();
  for (r = 0; another_run (times, r, config.runs) && error == NULL; r++)
    {
      double t0 = now ();
      g_autoptr(GVariant) result = func (w->input, &error);

      times[r] = now () - t0;
      if (error == NULL)
        w->check (result, n, &error);
    }
  emit (w->name, system, peer, "n/a", 1, n, times, r, NULL, error);
}

static MpireWorkerPool *
workload_pool (const Workload   *w,
               MpireStartMethod  method,
               int               n_jobs)
{
  MpireWorkerPool *pool = mpire_worker_pool_new (n_jobs, method);

  mpire_worker_pool_set_use_worker_state (pool, w->worker_state);
  mpire_worker_pool_set_worker_launchers (pool, w->launchers);
  return pool;
}

/* mpire-glib, warm: one pool with keep-alive, a warm-up map of a few
 * tasks that starts the workers (and runs the options' worker_init),
 * then the timed maps. Cold: a new pool for each run, its start-up, map
 * and disposal all timed. */
static void
bench_mpire (const Workload   *w,
             MpireStartMethod  method,
             int               n_jobs,
             gboolean          cold)
{
  gint64 n = workload_n_tasks (w);
  int runs = cold ? config.cold_runs : config.runs;
  g_autofree double *times = g_new0 (double, runs);
  g_autofree char *system = w->form != NULL
    ? g_strdup_printf ("mpire-glib %s (%s)", method_name (method), w->form)
    : g_strdup_printf ("mpire-glib %s", method_name (method));
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireWorkerPool) pool = NULL;
  int r;

  probe_start ();
  if (!cold)
    {
      g_autoptr(GVariant) warm_input = array_head (w->input, MIN (n, 4 * n_jobs), w->row_width);
      g_autoptr(GVariant) warm = NULL;

      pool = workload_pool (w, method, n_jobs);
      mpire_worker_pool_set_keep_alive (pool, TRUE);
      warm = mpire_worker_pool_map (pool, w->task, warm_input, w->options, NULL, &error);
    }

  for (r = 0; another_run (times, r, runs) && error == NULL; r++)
    {
      g_autoptr(GVariant) result = NULL;
      double t0 = now ();

      if (cold)
        {
          g_autoptr(MpireWorkerPool) cold_pool = workload_pool (w, method, n_jobs);

          result = mpire_worker_pool_map (cold_pool, w->task, w->input, w->options, NULL, &error);
        }
      else
        result = mpire_worker_pool_map (pool, w->task, w->input, w->options, NULL, &error);
      times[r] = now () - t0;
      if (error == NULL)
        w->check (result, n, &error);
    }

  if (pool != NULL && error == NULL)
    mpire_worker_pool_stop_and_join (pool, &error);
  emit (w->name, system, w->peer != NULL ? w->peer : "mpire", cold ? "cold" : "warm", n_jobs, n,
        times, r, NULL, error);
}

/* mpire-glib imap_unordered on a warm pool: the results consumed one by
 * one as they come (summed, counted and xor-ed, then checked). */
static void
bench_mpire_imapu (const char       *workload,
                   MpireTask        *task,
                   MpireStartMethod  method,
                   int               n_jobs,
                   GVariant         *input)
{
  gint64 n = g_variant_n_children (input);
  g_autofree double *times = g_new0 (double, config.runs);
  g_autofree char *system = g_strdup_printf ("mpire-glib %s", method_name (method));
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (n_jobs, method);
  g_autoptr(GVariant) warm_input = make_range (MIN (n, 4 * n_jobs));
  g_autoptr(GVariant) warm = NULL;
  guint64 want_sum = 0, want_xor = 0;
  int r;

  probe_start ();
  for (gint64 i = 0; i < n; i++)
    {
      want_sum += (guint64) (i * i);
      want_xor ^= (guint64) (i * i);
    }

  mpire_worker_pool_set_keep_alive (pool, TRUE);
  warm = mpire_worker_pool_map (pool, task, warm_input, NULL, NULL, &error);

  for (r = 0; another_run (times, r, config.runs) && error == NULL; r++)
    {
      g_autoptr(MpireResultIter) iter = NULL;
      guint64 sum = 0, xor = 0;
      gint64 count = 0;
      GVariant *value;
      double t0 = now ();

      iter = mpire_worker_pool_imap_unordered (pool, task, input, NULL, &error);
      while (iter != NULL && (value = mpire_result_iter_next (iter, NULL, &error)) != NULL)
        {
          guint64 v = (guint64) g_variant_get_int64 (value);

          sum += v;
          xor ^= v;
          count++;
          g_variant_unref (value);
        }
      times[r] = now () - t0;
      if (error == NULL && (count != n || sum != want_sum || xor != want_xor))
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "%" G_GINT64_FORMAT " results for %" G_GINT64_FORMAT " tasks, or wrong ones",
                     count, n);
    }

  if (error == NULL)
    mpire_worker_pool_stop_and_join (pool, &error);
  emit (workload, system, "mpire", "warm", n_jobs, n, times, r, NULL, error);
}

/* GNU parallel running `mpire-bench --one-task I` for each task: what a
 * shell user would do with a per-task C program. */
static void
bench_parallel (const char *workload,
                int         n_jobs,
                gint64      n)
{
  g_autofree double *times = g_new0 (double, config.cold_runs);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *parallel = g_find_program_in_path ("parallel");
  int r;

  probe_start ();
  if (parallel == NULL)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "GNU parallel is not installed");
      emit (workload, "GNU parallel (C process per task)", "parallel", "n/a", n_jobs, n,
            NULL, 0, NULL, error);
      return;
    }

  g_ptr_array_add (argv, g_strdup (parallel));
  g_ptr_array_add (argv, g_strdup ("--will-cite"));
  g_ptr_array_add (argv, g_strdup ("-k"));
  g_ptr_array_add (argv, g_strdup_printf ("-j%d", n_jobs));
  g_ptr_array_add (argv, g_strdup (self_exe));
  g_ptr_array_add (argv, g_strdup ("--one-task"));
  g_ptr_array_add (argv, g_strdup ("{}"));
  g_ptr_array_add (argv, g_strdup (":::"));
  for (gint64 i = 0; i < n; i++)
    g_ptr_array_add (argv, g_strdup_printf ("%" G_GINT64_FORMAT, i));
  g_ptr_array_add (argv, NULL);

  for (r = 0; another_run (times, r, config.cold_runs) && error == NULL; r++)
    {
      g_autofree char *out = NULL;
      g_auto(GStrv) lines = NULL;
      int status = 0;
      double t0 = now ();

      if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                         NULL, NULL, &out, NULL, &status, &error))
        break;
      times[r] = now () - t0;
      if (!g_spawn_check_wait_status (status, &error))
        break;

      lines = g_strsplit (out, "\n", -1);
      if ((gint64) g_strv_length (lines) != n + 1)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "%u lines of output for %"
                     G_GINT64_FORMAT " tasks", g_strv_length (lines), n);
      for (gint64 i = 0; i < n && error == NULL; i++)
        if (g_ascii_strtoll (lines[i], NULL, 10) != cpu_expected (i))
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "wrong result for task %" G_GINT64_FORMAT ": %s", i, lines[i]);
    }
  emit (workload, "GNU parallel (C process per task)", "parallel", "n/a", n_jobs, n,
        times, r, NULL, error);
}

/* ---- the cost of the progress bar and of insights ----------------------- */

/* Standard error on a pseudo-terminal, so that the progress bar draws as
 * it does for a user at a terminal (it draws nothing elsewhere); a thread
 * reads what it draws and drops it. */
typedef struct
{
  int      master;
  int      saved_stderr;
  GThread *drain;
} FakeTerminal;

static gpointer
drain_terminal (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  char buf[4096];

  /* Until EIO: no process has the terminal open any more. */
  for (;;)
    {
      gssize n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return NULL;
    }
}

static gboolean
fake_terminal_begin (FakeTerminal *terminal)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  const char *name;
  int slave;

  if (master < 0)
    return FALSE;
  if (grantpt (master) != 0 || unlockpt (master) != 0 || (name = ptsname (master)) == NULL ||
      (slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
    {
      close (master);
      return FALSE;
    }

  fflush (stderr);
  terminal->saved_stderr = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  dup2 (slave, STDERR_FILENO);
  close (slave);
  terminal->master = master;
  terminal->drain = g_thread_new ("drain-terminal", drain_terminal, GINT_TO_POINTER (master));
  return TRUE;
}

/* Once no worker (which inherits standard error) is left. */
static void
fake_terminal_end (FakeTerminal *terminal)
{
  fflush (stderr);
  dup2 (terminal->saved_stderr, STDERR_FILENO);
  close (terminal->saved_stderr);
  g_thread_join (terminal->drain);
  close (terminal->master);
}

/* A dashboard in this process with the process connected to it as to
 * one elsewhere: the map both reports to the local dashboard and pushes
 * over HTTP, the worst case. Started and stopped outside the timing. */
static MpireDashboard *
dashboard_begin (void)
{
  MpireDashboard *dashboard = mpire_dashboard_new ();

  mpire_dashboard_set_port_range (dashboard, 47000, 47099);
  if (!mpire_dashboard_start (dashboard, NULL) ||
      !mpire_dashboard_connect ("127.0.0.1", mpire_dashboard_get_port (dashboard),
                                mpire_dashboard_get_token (dashboard), NULL))
    g_error ("cannot start a dashboard on a port from 47000 to 47099");
  return dashboard;
}

static void
dashboard_end (MpireDashboard *dashboard)
{
  mpire_dashboard_disconnect ();
  mpire_dashboard_stop (dashboard);
  g_object_unref (dashboard);
}

/* The same map on four warm pools: without options, with the
 * progress-bar option (drawing on a pseudo-terminal), on a pool with
 * enable-insights, and with a dashboard connected. Three times as many
 * runs as other measurements, in rounds of one run each, in turns that
 * rotate, so that a change in the machine's load hits them alike:
 * format_table.py takes the median of the ratios within a round. */
static void
bench_overhead (MpireTask        *task,
                MpireStartMethod  method,
                int               n_jobs,
                GVariant         *input)
{
  enum { PLAIN, BAR, INSIGHTS, DASHBOARD, N_VARIANTS };
  gint64 n = g_variant_n_children (input);
  int runs = 3 * config.runs;
  g_autofree double *times = g_new0 (double, N_VARIANTS * runs);
  g_autoptr(MpireMapOptions) bar_options = mpire_map_options_new ();
  g_autoptr(GVariant) warm_input = make_range (MIN (n, 4 * n_jobs));
  g_autoptr(GError) error = NULL;
  MpireWorkerPool *pools[N_VARIANTS];
  FakeTerminal terminal = { -1, -1, NULL };
  gboolean on_terminal;
  const char *names[N_VARIANTS];
  g_autofree char *plain_name = g_strdup_printf ("mpire-glib %s", method_name (method));
  g_autofree char *insights_name = g_strdup_printf ("%s + insights", plain_name);
  g_autofree char *dashboard_name = g_strdup_printf ("%s + dashboard", plain_name);
  g_autofree char *bar_name = NULL;

  probe_start ();
  on_terminal = fake_terminal_begin (&terminal);
  bar_name = g_strdup_printf ("%s + bar%s", plain_name,
                              on_terminal ? "" : " (no pseudo-terminal: not drawn)");
  names[PLAIN] = plain_name;
  names[BAR] = bar_name;
  names[INSIGHTS] = insights_name;
  names[DASHBOARD] = dashboard_name;
  mpire_map_options_set_progress_bar (bar_options, TRUE);

  for (int v = 0; v < N_VARIANTS; v++)
    {
      g_autoptr(GVariant) warm = NULL;

      pools[v] = mpire_worker_pool_new (n_jobs, method);
      mpire_worker_pool_set_keep_alive (pools[v], TRUE);
      mpire_worker_pool_set_enable_insights (pools[v], v == INSIGHTS);
      if (error == NULL)
        warm = mpire_worker_pool_map (pools[v], task, warm_input, NULL, NULL, &error);
    }

  for (int r = 0; r < runs && error == NULL; r++)
    for (int turn = 0; turn < N_VARIANTS && error == NULL; turn++)
      {
        int v = (r + turn) % N_VARIANTS;
        g_autoptr(GVariant) result = NULL;
        MpireDashboard *dashboard = v == DASHBOARD ? dashboard_begin () : NULL;
        double t0 = now ();

        result = mpire_worker_pool_map (pools[v], task, input, v == BAR ? bar_options : NULL,
                                        NULL, &error);
        times[v * runs + r] = now () - t0;
        if (dashboard != NULL)
          dashboard_end (dashboard);
        if (error == NULL)
          check_squares (result, n, &error);
      }

  for (int v = 0; v < N_VARIANTS; v++)
    {
      if (error == NULL)
        mpire_worker_pool_stop_and_join (pools[v], &error);
      g_object_unref (pools[v]);
    }
  if (on_terminal)
    fake_terminal_end (&terminal);

  /* The three or none: the first decides whether to measure again. */
  emit ("overhead", names[PLAIN], "mpire", "warm", n_jobs, n, times, runs, NULL, error);
  if (!emitted)
    return;
  must_emit = TRUE;
  for (int v = BAR; v < N_VARIANTS; v++)
    emit ("overhead", names[v], "mpire", "warm", n_jobs, n, times + v * runs, runs, NULL, error);
  must_emit = FALSE;
}

/* ---- worker start-up -------------------------------------------------- */

/* A new pool of 2 workers, a map of 2 trivial tasks, join: the whole
 * cycle timed. The pool's insights give each worker's start-up (from
 * its start to the moment it can serve); the record carries them all. */
static void
bench_startup (MpireTask        *task,
               MpireStartMethod  method)
{
  int runs = config.startup_runs;
  g_autofree double *times = g_new0 (double, runs);
  g_autofree char *system = g_strdup_printf ("mpire-glib %s", method_name (method));
  g_autoptr(GVariant) input = make_range (2);
  g_autoptr(GString) extra = g_string_new ("\"worker_start_s\": [");
  g_autoptr(GError) error = NULL;
  guint n_starts = 0;
  int r;

  probe_start ();
  for (r = 0; another_run (times, r, runs) && error == NULL; r++)
    {
      g_autoptr(MpireWorkerPool) pool = NULL;
      g_autoptr(GVariant) result = NULL, insights = NULL, start_up = NULL;
      double t0 = now ();
      const double *starts;
      gsize len = 0;

      pool = mpire_worker_pool_new (2, method);
      mpire_worker_pool_set_enable_insights (pool, TRUE);
      result = mpire_worker_pool_map (pool, task, input, NULL, NULL, &error);
      if (result != NULL)
        mpire_worker_pool_stop_and_join (pool, &error);
      times[r] = now () - t0;
      if (error != NULL || !check_squares (result, 2, &error))
        break;

      insights = mpire_worker_pool_get_insights (pool);
      start_up = g_variant_lookup_value (insights, "start_up_time", G_VARIANT_TYPE ("ad"));
      starts = start_up != NULL ? g_variant_get_fixed_array (start_up, &len, sizeof (double))
                                : NULL;
      if (len != 2)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "the insights give %" G_GSIZE_FORMAT " start-up times for 2 workers", len);
      for (gsize i = 0; i < len; i++)
        g_string_append_printf (extra, "%s%.6f", n_starts++ ? ", " : "", starts[i]);
    }
  g_string_append_c (extra, ']');
  emit ("startup", system, "mpire", "cold", 2, 2, times, r, extra->str, error);
}

/* ---- memory ------------------------------------------------------------ */

/* A "VmHWM" or "VmRSS" of /proc/self/status, in MiB. */
static double
status_mib (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, field)) == NULL)
    return 0;
  return g_ascii_strtod (line + strlen (field) + 1, NULL) / 1024;
}

/* The endless lazy source: 0, 1, 2, ... */
static GVariant *
count_source (gpointer   user_data,
              GError   **error)
{
  gint64 *next = user_data;

  return g_variant_new_int64 ((*next)++);
}

/* imap over the endless source on a new pool of 2 (chunks of 1,000): @n
 * results consumed and checked one by one, the RSS read after n/5 and n. */
static GVariant *
memory_imap (MpireTask         *task,
             MpireStartMethod   method,
             gint64             n,
             double            *rss,
             GError           **error)
{
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, method);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(MpireResultIter) iter = NULL;
  gint64 next = 0, count = 0;
  GVariant *value;

  mpire_map_options_set_chunk_size (options, 1000);
  mpire_map_options_set_source (options, count_source, &next, NULL);
  iter = mpire_worker_pool_imap (pool, task, NULL, options, error);
  while (iter != NULL && count < n && (value = mpire_result_iter_next (iter, NULL, error)) != NULL)
    {
      gint64 v = g_variant_get_int64 (value);

      g_variant_unref (value);
      if (v != count * count)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "result %" G_GINT64_FORMAT " is %" G_GINT64_FORMAT, count, v);
          return NULL;
        }
      if (++count == n / 5)
        rss[0] = status_mib ("VmRSS:");
    }
  if (count < n)
    return NULL;   /* with @error set */
  rss[1] = status_mib ("VmRSS:");
  /* dropping the iterator stops the endless call */
  g_clear_object (&iter);
  mpire_worker_pool_terminate (pool);
  return g_variant_ref_sink (g_variant_new_int64 (count));
}

/* One memory measurement: see child_main(). */
static int
memory_child (MpireTask  *task,
              gboolean    imap,
              gboolean    floor_loop,
              MpireStartMethod method,
              gint64      n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) input = NULL, result = NULL;
  g_autofree char *extra = NULL, *system = NULL;
  double base, t0, time, rss[2] = { 0, 0 };

  base = status_mib ("VmRSS:");
  probe_start ();
  retries_left = config.retries;    /* one attempt: the first */
  must_emit = TRUE;
  t0 = now ();
  if (imap)
    result = memory_imap (task, method, n, rss, &error);
  else
    {
      input = make_range (n);
      if (floor_loop)
        result = raw_square (input, &error);
      else
        {
          g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, method);

          result = mpire_worker_pool_map (pool, task, input, NULL, NULL, &error);
        }
    }
  time = now () - t0;
  if (!imap && error == NULL)
    check_squares (result, n, &error);

  system = floor_loop ? g_strdup ("C loop on int64[] (floor)")
                      : g_strdup_printf ("mpire-glib %s", method_name (method));
  if (imap)
    extra = g_strdup_printf ("\"rss_at\": [[%" G_GINT64_FORMAT ", %.1f], [%" G_GINT64_FORMAT
                             ", %.1f]], \"peak_rss_mib\": %.1f, \"base_rss_mib\": %.1f",
                             n / 5, rss[0], n, rss[1], status_mib ("VmHWM:"), base);
  else
    extra = g_strdup_printf ("\"peak_rss_mib\": %.1f, \"base_rss_mib\": %.1f,"
                             " \"data_mib\": %.1f", status_mib ("VmHWM:"), base,
                             2.0 * n * sizeof (gint64) / (1024 * 1024));
  emit (imap ? "memory-imap" : "memory-map", system, floor_loop ? "floor" : "mpire",
        floor_loop ? "n/a" : "cold", floor_loop ? 1 : 2, n, &time, 1, extra, error);
  return error == NULL ? 0 : 1;
}

/* The workload that mpire-bench --child KIND:... measures. */
static char *
child_workload (const char *kind)
{
  return g_str_equal (kind, "startup") ? g_strdup (kind) : g_strdup_printf ("memory-%s", kind);
}

/* A measurement in a process of its own (mpire-bench --child
 * KIND:SYSTEM:N), so that what ran before cannot change it (peak RSS is
 * per process; fork() copies the page tables of all the memory the
 * process still maps):
 * - map:METHOD:N      x*x over N int64 on a new pool of 2 (the parent's
 *                     peak RSS against the size of the input and output);
 * - map:floor:N       the same squares by a plain C loop;
 * - imap:METHOD:N     N results of imap over an endless lazy source;
 * - startup:METHOD:N  N runs of bench_startup().
 * Emits the records; returns the exit status. */
static int
child_main (MpireTask  *task,
            const char *spec)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", 3);
  MpireStartMethod method = MPIRE_START_METHOD_SPAWN;
  gboolean floor_loop;
  gint64 n;

  if (g_strv_length (parts) != 3 ||
      !(g_str_equal (parts[0], "map") || g_str_equal (parts[0], "imap") ||
        g_str_equal (parts[0], "startup")) ||
      (n = g_ascii_strtoll (parts[2], NULL, 10)) < (g_str_equal (parts[0], "startup") ? 1 : 5))
    {
      g_printerr ("mpire-bench: --child wants map|imap:SYSTEM:N (N >= 5) or startup:METHOD:N"
                  " (N >= 1), not %s\n", spec);
      return 2;
    }
  floor_loop = g_str_equal (parts[0], "map") && g_str_equal (parts[1], "floor");
  if (!floor_loop && !method_from_name (parts[1], &method))
    {
      g_printerr ("mpire-bench: no start method %s\n", parts[1]);
      return 2;
    }

  if (g_str_equal (parts[0], "startup"))
    {
      config.startup_runs = n;
      MEASURE (bench_startup (task, method));
      return any_failed ? 1 : 0;
    }
  return memory_child (task, g_str_equal (parts[0], "imap"), floor_loop, method, n);
}

/* Runs child_main() in a new process of this program. */
static void
bench_in_child (const char *kind,
                const char *system,
                gint64      n)
{
  g_autofree char *spec = g_strdup_printf ("%s:%s:%" G_GINT64_FORMAT, kind, system, n);
  g_autofree char *mode = g_strdup_printf ("--%s", config.name);   /* its retries */
  const char *argv[] = { self_exe, "--child", spec,
                         g_str_equal (config.name, "full") ? NULL : mode, NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;

  fflush (stdout);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                     NULL, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_autofree char *workload = child_workload (kind);

      must_emit = TRUE;
      emit (workload, system, "mpire", "cold", 2, n, NULL, 0, NULL, error);
      must_emit = FALSE;
    }
}

/* ---- main -------------------------------------------------------------- */

static gboolean
in_list (const char *list,
         const char *word)
{
  g_auto(GStrv) words = g_strsplit (list, ",", -1);

  return g_strv_contains ((const char * const *) words, word);
}

/* The sequential loop of the numerical workload: the task on the whole array. */
static GVariant *
seq_norms (GVariant  *input,
           GError   **error)
{
  GVariant *result = norms_func (NULL, input, NULL, error);

  return result != NULL ? g_variant_ref_sink (result) : NULL;
}

/* The mpire-glib rows of @w on each start method of @methods (@cold:
 * cold pools too). */
static void
bench_methods (const Workload *w,
               const char     *methods,
               gboolean        cold)
{
  for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
    if (in_list (methods, method_name (all_methods[m])))
      {
        MEASURE (bench_mpire (w, all_methods[m], 2, FALSE));
        if (cold)
          MEASURE (bench_mpire (w, all_methods[m], 2, TRUE));
      }
}

/* A workload whose tasks use the worker state that @init_task, its
 * worker_init, sets: @n tasks over [0, n). */
static void
bench_with_init (const char *name,
                 MpireTask  *task,
                 MpireTask  *init_task,
                 gint64      n,
                 CheckFunc   check,
                 const char *seq_name,
                 SeqFunc     seq,
                 const char *methods)
{
  g_autoptr(GVariant) input = make_range (n);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  Workload w = { name, task, input, 1, options, TRUE, check };

  mpire_map_options_set_worker_init (options, init_task);
  MEASURE (bench_seq (&w, seq_name, "seq", seq));
  bench_methods (&w, methods, TRUE);
}

int
main (int argc, char **argv)
{
  /* Tasks first: spawn workers run this program again and find them by name. */
  g_autoptr(MpireTask) square_task = mpire_task_new ("bench-square", square_func, NULL, NULL);
  g_autoptr(MpireTask) square_chunk_task = mpire_task_new ("bench-square-chunk", square_chunk_func,
                                                           NULL, NULL);
  g_autoptr(MpireTask) cpu_task = mpire_task_new ("bench-cpu", cpu_func, NULL, NULL);
  g_autoptr(MpireTask) norms_task = mpire_task_new ("bench-norms", norms_func, NULL, NULL);
  g_autoptr(MpireTask) table_init_task = mpire_task_new ("bench-table-init", table_init_func,
                                                         NULL, NULL);
  g_autoptr(MpireTask) stateful_task = mpire_task_new ("bench-stateful", stateful_func, NULL, NULL);
  g_autoptr(MpireTask) slow_init_task = mpire_task_new ("bench-slow-init", slow_init_func,
                                                        NULL, NULL);
  g_autoptr(MpireTask) short_task = mpire_task_new ("bench-short", short_func, NULL, NULL);
  gboolean quick = FALSE, smoke = FALSE, no_parallel = FALSE;
  int runs = 0;
  gint64 tiny_n = 0, cpu_n = 0;
  g_autofree char *one_task = NULL, *child_spec = NULL;
  g_autofree char *only_arg = NULL, *methods_arg = NULL;
  g_auto(GStrv) ssh = NULL, ours = NULL;
  const char *only, *methods;
  const GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, &quick, "Fewer tasks and runs (under a minute in all)", NULL },
    { "smoke", 0, 0, G_OPTION_ARG_NONE, &smoke, "Tiny sizes, one run: only checks the results", NULL },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed runs per measurement", "N" },
    { "tiny-tasks", 0, 0, G_OPTION_ARG_INT64, &tiny_n, "Elements of the tiny-task map", "N" },
    { "cpu-tasks", 0, 0, G_OPTION_ARG_INT64, &cpu_n, "Tasks of the CPU-bound map", "N" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only_arg, "Workloads to run (" ALL_WORKLOADS ")", "LIST" },
    { "methods", 0, 0, G_OPTION_ARG_STRING, &methods_arg, "Start methods (spawn,fork,threading,forkserver)", "LIST" },
    { "no-parallel", 0, 0, G_OPTION_ARG_NONE, &no_parallel, "Skip the GNU parallel peer", NULL },
    { "ssh-launcher", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ssh,
      "A host for the remote workloads: ssh ... HOST, as shell words (repeat it)", "COMMAND" },
    { "ours", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ours,
      "A process whose descendants' CPU time is the benchmark's (the hosts' sshd)", "PID" },
    { "one-task", 0, 0, G_OPTION_ARG_STRING, &one_task, "Print the CPU task's result for I", "I" },
    { "child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &child_spec,
      "One measurement in a process of its own (internal)", "KIND:SYSTEM:N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- benchmark mpire-glib against its peers");
  g_autoptr(GError) error = NULL;

  mpire_init (&argc, &argv);     /* in a spawn worker: serves tasks, never returns */

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpire-bench: %s\n", error->message);
      return 2;
    }

  only = only_arg != NULL ? only_arg : ALL_WORKLOADS;
  methods = methods_arg != NULL ? methods_arg : "spawn,fork,threading,forkserver";

  if (one_task != NULL)
    {
      g_print ("%" G_GINT64_FORMAT "\n", cpu_work (g_ascii_strtoll (one_task, NULL, 10)));
      return 0;
    }

  /* name, tiny, cpu, restart, numerical, stateful, init, startup runs,
   * memory map, memory imap, runs, cold runs, GNU parallel, retries,
   * run budget (s) */
  if (smoke)
    config = (Config) { "smoke", 2000, 6, 6, 3000, 2000, 200, 1, 20000, 20000, 1, 1, FALSE,
                        2, 0 };
  else if (quick)
    config = (Config) { "quick", 100000, 20, 100, 100000, 10000, 1000, 6, 1000000, 500000,
                        3, 2, TRUE, 1, 0.25 };
  else
    config = (Config) { "full", 1000000, 200, 200, 1000000, 100000, 10000, 20, 10000000,
                        5000000, 5, 3, TRUE, 2, 0 };
  if (child_spec != NULL)
    return child_main (square_task, child_spec);
  if (runs > 0)
    {
      config.runs = config.cold_runs = runs;
      config.run_budget_s = 0;     /* exactly those runs */
    }
  if (tiny_n > 0)
    config.tiny_n = tiny_n;
  if (cpu_n > 0)
    config.cpu_n = cpu_n;
  if (no_parallel)
    config.parallel = FALSE;
  if (ours != NULL)
    {
      sshd_pids = g_new0 (gint64, g_strv_length (ours) + 1);
      for (guint i = 0; ours[i] != NULL; i++)
        sshd_pids[i] = g_ascii_strtoll (ours[i], NULL, 10);
    }
  self_exe = g_file_read_link ("/proc/self/exe", NULL);

  g_printerr ("mpire-bench (%s): %d CPUs, %d runs per measurement\n",
              config.name, mpire_cpu_count (), config.runs);

  if (in_list (only, "tiny"))
    {
      g_autoptr(GVariant) input = make_range (config.tiny_n);
      g_autoptr(MpireMapOptions) chunks = mpire_map_options_new ();
      Workload tiny = { "tiny", square_task, input, 1, NULL, FALSE, check_squares, NULL };
      Workload tiny_chunks = { "tiny", square_chunk_task, input, 1, chunks, FALSE, check_squares,
                               "chunk task" };

      MEASURE (bench_seq (&tiny, "sequential C loop (GVariant)", "seq", seq_square));
      MEASURE (bench_seq (&tiny, "C loop on int64[] (floor)", "floor", raw_square));
      bench_methods (&tiny, methods, TRUE);
      /* The same, the task called once per chunk (array-chunks). */
      mpire_map_options_set_array_chunks (chunks, TRUE);
      bench_methods (&tiny_chunks, methods, FALSE);
      for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
        if (in_list (methods, method_name (all_methods[m])))
          MEASURE (bench_mpire_imapu ("tiny-imapu", square_task, all_methods[m], 2, input));
    }

  if (in_list (only, "cpu"))
    {
      g_autoptr(GVariant) input = make_range (config.cpu_n);
      Workload cpu = { "cpu-c", cpu_task, input, 1, NULL, FALSE, check_cpu };

      MEASURE (bench_seq (&cpu, "sequential C loop (GVariant)", "seq", seq_cpu));
      for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
        if (in_list (methods, method_name (all_methods[m])))
          {
            MEASURE (bench_mpire (&cpu, all_methods[m], 1, FALSE));
            MEASURE (bench_mpire (&cpu, all_methods[m], 2, FALSE));
            MEASURE (bench_mpire (&cpu, all_methods[m], 2, TRUE));
          }
      if (config.parallel)
        for (int j = 1; j <= 2; j++)
          MEASURE (bench_parallel ("cpu-c", j, config.cpu_n));
    }

  /* An `ad` of points, 3 doubles each, chunked by slicing (array-chunks,
   * row-width 3): the task gets whole chunks, map concatenates their `ad`s. */
  if (in_list (only, "numerical"))
    {
      g_autoptr(GVariant) input = make_points (config.numerical_n);
      g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
      Workload numerical = { "numerical", norms_task, input, POINT_DIM, options, FALSE,
                             check_norms };

      mpire_map_options_set_array_chunks (options, TRUE);
      mpire_map_options_set_row_width (options, POINT_DIM);
      MEASURE (bench_seq (&numerical, "sequential C loop (ad)", "seq", seq_norms));
      bench_methods (&numerical, methods, FALSE);
    }

  /* A 10 MB table built by worker_init into each worker's state. */
  if (in_list (only, "stateful"))
    bench_with_init ("stateful", stateful_task, table_init_task, config.stateful_n,
                     check_stateful, "sequential C loop (table built once)", seq_stateful,
                     methods);

  /* A worker_init of 100 ms, then short tasks. */
  if (in_list (only, "init"))
    bench_with_init ("init", short_task, slow_init_task, config.init_n, check_short,
                     "sequential C loop (init once)", seq_short, methods);

  if (in_list (only, "overhead"))
    {
      g_autoptr(GVariant) input = make_range (config.tiny_n);

      for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
        if (in_list (methods, method_name (all_methods[m])))
          MEASURE (bench_overhead (square_task, all_methods[m], 2, input));
    }

  /* Worker (re)start cost: a new worker process for every task. */
  if (in_list (only, "restart"))
    {
      g_autoptr(GVariant) input = make_range (config.restart_n);
      g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
      Workload restart = { "restart", square_task, input, 1, options, FALSE, check_squares };

      mpire_map_options_set_chunk_size (options, 1);
      mpire_map_options_set_worker_lifespan (options, 1);
      for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
        if (all_methods[m] != MPIRE_START_METHOD_THREADING &&
            in_list (methods, method_name (all_methods[m])))
          MEASURE (bench_mpire (&restart, all_methods[m], 2, FALSE));
    }

  /* Each in a process of its own: see child_main(). */
  if (in_list (only, "startup"))
    for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
      if (in_list (methods, method_name (all_methods[m])))
        bench_in_child ("startup", method_name (all_methods[m]), config.startup_runs);

  if (in_list (only, "memory"))
    {
      bench_in_child ("map", "floor", config.memory_map_n);
      for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
        if (in_list (methods, method_name (all_methods[m])))
          bench_in_child ("map", method_name (all_methods[m]), config.memory_map_n);
      for (guint m = 0; m < G_N_ELEMENTS (all_methods); m++)
        if (in_list (methods, method_name (all_methods[m])))
          bench_in_child ("imap", method_name (all_methods[m]), config.memory_imap_n);
    }

  /* 2 local + 2 workers over ssh against 4 local on the tiny and CPU
   * maps, and a chunk's round trip (one in flight) over ssh against a
   * local worker. Only with hosts to run on (run.sh makes them). */
  if (in_list (only, "remote") && ssh != NULL)
    {
      g_autoptr(GVariant) tiny_input = make_range (config.tiny_n);
      g_autoptr(GVariant) cpu_input = make_range (config.cpu_n);
      g_autoptr(GVariant) rtt_input = make_range (MAX (config.tiny_n / 100, 10));
      g_autoptr(GVariant) mixed = remote_launchers (ssh, 2, 2, &error);
      g_autoptr(GVariant) one = mixed != NULL ? remote_launchers (ssh, 0, 1, &error) : NULL;
      g_autoptr(MpireMapOptions) rtt = mpire_map_options_new ();
      Workload rows[] = {
        { "remote-tiny", square_task, tiny_input, 1, NULL, FALSE, check_squares, "4 local",
          NULL, "local" },
        { "remote-tiny", square_task, tiny_input, 1, NULL, FALSE, check_squares,
          "2 local + 2 over ssh", mixed, NULL },
        { "remote-cpu", cpu_task, cpu_input, 1, NULL, FALSE, check_cpu, "4 local", NULL, "local" },
        { "remote-cpu", cpu_task, cpu_input, 1, NULL, FALSE, check_cpu, "2 local + 2 over ssh",
          mixed, NULL },
        { "remote-rtt", square_task, rtt_input, 1, rtt, FALSE, check_squares, "1 local", NULL,
          "local" },
        { "remote-rtt", square_task, rtt_input, 1, rtt, FALSE, check_squares, "1 over ssh", one,
          NULL },
      };

      if (one == NULL)
        {
          g_printerr ("mpire-bench: --ssh-launcher: %s\n", error->message);
          return 2;
        }
      g_variant_ref_sink (mixed);
      g_variant_ref_sink (one);
      mpire_map_options_set_chunk_size (rtt, 1);
      mpire_map_options_set_max_tasks_active (rtt, 1);
      for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
        MEASURE (bench_mpire (&rows[i], MPIRE_START_METHOD_SPAWN, i < 4 ? 4 : 1, FALSE));
    }

  g_free (self_exe);
  g_free (sshd_pids);
  return any_failed ? 1 : 0;
}
