/* mpire-map-options.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-map-options-private.h"
#include "mpire-task.h"

/**
 * MpireMapOptions:
 *
 * Options of one call of the map family, MPIRE's keyword arguments of
 * `map()`. Passing %NULL instead of an options object means all defaults.
 *
 * Values are checked when the call starts: a negative value fails the
 * call with %MPIRE_ERROR_INVALID_ARGUMENT.
 *
 * Since: 0.1
 */
struct _MpireMapOptions
{
  GObject      parent_instance;

  gint64       iterable_len;
  gint64       chunk_size;
  gint64       n_splits;
  gint64       max_tasks_active;
  gint64       worker_lifespan;
  gboolean     progress_bar;
  GVariant    *progress_bar_options;
  char        *progress_bar_style;
  MpireTask   *worker_init;
  MpireTask   *worker_exit;
  double       task_timeout;
  double       worker_init_timeout;
  double       worker_exit_timeout;
  gboolean     retry_on_worker_death;
  gboolean     array_chunks;
  gint64       row_width;
  gboolean     concatenate;
  MpireSource *source;
};

G_DEFINE_FINAL_TYPE (MpireMapOptions, mpire_map_options, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ITERABLE_LEN,
  PROP_CHUNK_SIZE,
  PROP_N_SPLITS,
  PROP_MAX_TASKS_ACTIVE,
  PROP_WORKER_LIFESPAN,
  PROP_PROGRESS_BAR,
  PROP_PROGRESS_BAR_OPTIONS,
  PROP_PROGRESS_BAR_STYLE,
  PROP_WORKER_INIT,
  PROP_WORKER_EXIT,
  PROP_TASK_TIMEOUT,
  PROP_WORKER_INIT_TIMEOUT,
  PROP_WORKER_EXIT_TIMEOUT,
  PROP_RETRY_ON_WORKER_DEATH,
  PROP_ARRAY_CHUNKS,
  PROP_ROW_WIDTH,
  PROP_CONCATENATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
mpire_source_free (MpireSource *source)
{
  if (source->destroy != NULL)
    source->destroy (source->user_data);
  g_free (source);
}

static gint64 *
field_of_property (MpireMapOptions *self,
                   guint            prop_id)
{
  switch (prop_id)
    {
    case PROP_ITERABLE_LEN:
      return &self->iterable_len;
    case PROP_CHUNK_SIZE:
      return &self->chunk_size;
    case PROP_N_SPLITS:
      return &self->n_splits;
    case PROP_MAX_TASKS_ACTIVE:
      return &self->max_tasks_active;
    case PROP_WORKER_LIFESPAN:
      return &self->worker_lifespan;
    case PROP_ROW_WIDTH:
      return &self->row_width;
    default:
      return NULL;
    }
}

static void
set_field (MpireMapOptions *self,
           guint            prop_id,
           gint64           value)
{
  gint64 *field = field_of_property (self, prop_id);

  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static gboolean *
flag_of_property (MpireMapOptions *self,
                  guint            prop_id)
{
  switch (prop_id)
    {
    case PROP_PROGRESS_BAR:
      return &self->progress_bar;
    case PROP_RETRY_ON_WORKER_DEATH:
      return &self->retry_on_worker_death;
    case PROP_ARRAY_CHUNKS:
      return &self->array_chunks;
    case PROP_CONCATENATE:
      return &self->concatenate;
    default:
      return NULL;
    }
}

static void
set_flag (MpireMapOptions *self,
          guint            prop_id,
          gboolean         value)
{
  gboolean *flag = flag_of_property (self, prop_id);

  value = !!value;
  if (*flag == value)
    return;
  *flag = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static double *
timeout_of_property (MpireMapOptions *self,
                     guint            prop_id)
{
  switch (prop_id)
    {
    case PROP_TASK_TIMEOUT:
      return &self->task_timeout;
    case PROP_WORKER_INIT_TIMEOUT:
      return &self->worker_init_timeout;
    case PROP_WORKER_EXIT_TIMEOUT:
      return &self->worker_exit_timeout;
    default:
      return NULL;
    }
}

static void
set_timeout (MpireMapOptions *self,
             guint            prop_id,
             double           seconds)
{
  double *timeout = timeout_of_property (self, prop_id);

  if (*timeout == seconds)
    return;
  *timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
mpire_map_options_finalize (GObject *object)
{
  MpireMapOptions *self = MPIRE_MAP_OPTIONS (object);

  g_clear_pointer (&self->source, mpire_source_free);
  g_clear_pointer (&self->progress_bar_options, g_variant_unref);
  g_free (self->progress_bar_style);
  g_clear_object (&self->worker_init);
  g_clear_object (&self->worker_exit);

  G_OBJECT_CLASS (mpire_map_options_parent_class)->finalize (object);
}

static void
mpire_map_options_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  MpireMapOptions *self = MPIRE_MAP_OPTIONS (object);
  gint64 *field = field_of_property (self, prop_id);
  double *timeout = timeout_of_property (self, prop_id);
  gboolean *flag = flag_of_property (self, prop_id);

  if (field != NULL)
    g_value_set_int64 (value, *field);
  else if (timeout != NULL)
    g_value_set_double (value, *timeout);
  else if (flag != NULL)
    g_value_set_boolean (value, *flag);
  else if (prop_id == PROP_PROGRESS_BAR_OPTIONS)
    g_value_set_variant (value, self->progress_bar_options);
  else if (prop_id == PROP_PROGRESS_BAR_STYLE)
    g_value_set_string (value, self->progress_bar_style);
  else if (prop_id == PROP_WORKER_INIT)
    g_value_set_object (value, self->worker_init);
  else if (prop_id == PROP_WORKER_EXIT)
    g_value_set_object (value, self->worker_exit);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
mpire_map_options_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  MpireMapOptions *self = MPIRE_MAP_OPTIONS (object);

  if (field_of_property (self, prop_id) != NULL)
    set_field (self, prop_id, g_value_get_int64 (value));
  else if (timeout_of_property (self, prop_id) != NULL)
    set_timeout (self, prop_id, g_value_get_double (value));
  else if (flag_of_property (self, prop_id) != NULL)
    set_flag (self, prop_id, g_value_get_boolean (value));
  else if (prop_id == PROP_PROGRESS_BAR_OPTIONS)
    mpire_map_options_set_progress_bar_options (self, g_value_get_variant (value));
  else if (prop_id == PROP_PROGRESS_BAR_STYLE)
    mpire_map_options_set_progress_bar_style (self, g_value_get_string (value));
  else if (prop_id == PROP_WORKER_INIT)
    mpire_map_options_set_worker_init (self, g_value_get_object (value));
  else if (prop_id == PROP_WORKER_EXIT)
    mpire_map_options_set_worker_exit (self, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
mpire_map_options_class_init (MpireMapOptionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = mpire_map_options_finalize;
  object_class->get_property = mpire_map_options_get_property;
  object_class->set_property = mpire_map_options_set_property;

  /**
   * MpireMapOptions:iterable-len:
   *
   * The number of tasks, or -1 when unknown. With an array input it
   * defaults to the array's length and, when smaller, takes only the
   * first @iterable-len elements; with a lazy source it lets the default
   * chunking work and the source is not pulled past it.
   *
   * Since: 0.1
   */
  properties[PROP_ITERABLE_LEN] =
    g_param_spec_int64 ("iterable-len", NULL, NULL, G_MININT64, G_MAXINT64, -1, flags);

  /**
   * MpireMapOptions:chunk-size:
   *
   * How many tasks a worker gets at once, or 0 to derive it from
   * [property@Mpire.MapOptions:n-splits].
   *
   * Since: 0.1
   */
  properties[PROP_CHUNK_SIZE] =
    g_param_spec_int64 ("chunk-size", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  /**
   * MpireMapOptions:n-splits:
   *
   * Into how many chunks the input is split when
   * [property@Mpire.MapOptions:chunk-size] is 0; 0 means 64 times the
   * number of workers. It needs a known length: without one the chunk
   * size falls back to 1, with a warning.
   *
   * Since: 0.1
   */
  properties[PROP_N_SPLITS] =
    g_param_spec_int64 ("n-splits", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  /**
   * MpireMapOptions:max-tasks-active:
   *
   * The most tasks taken from the input but not yet handed back to the
   * caller; 0 means the number of workers times the chunk size times 2.
   * It bounds the memory a lazy or endless input takes: the source is
   * pulled again only as results are consumed.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_TASKS_ACTIVE] =
    g_param_spec_int64 ("max-tasks-active", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  /**
   * MpireMapOptions:worker-lifespan:
   *
   * The number of tasks after which a worker is replaced by a fresh one
   * (its worker_exit runs, and the new one's worker_init), or 0 for
   * never: MPIRE's `worker_lifespan`, against tasks that leak memory. A
   * worker is not given a chunk past its lifespan, so it restarts after
   * the chunk that reaches it.
   *
   * Since: 0.1
   */
  properties[PROP_WORKER_LIFESPAN] =
    g_param_spec_int64 ("worker-lifespan", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  /**
   * MpireMapOptions:progress-bar:
   *
   * Whether to draw a progress bar on standard error while the call runs,
   * like MPIRE's `progress_bar=True`: percent, done/total, elapsed time,
   * estimated time left and rate, redrawn in place at most about 20
   * times a second. When standard error is not a terminal (a log file,
   * nohup), it writes plain lines instead, with no control characters:
   * one at the first update, then at most one every 10 s, and the last.
   *
   * Since: 0.1
   */
  properties[PROP_PROGRESS_BAR] =
    g_param_spec_boolean ("progress-bar", NULL, NULL, FALSE, flags);

  /**
   * MpireMapOptions:progress-bar-options:
   *
   * MPIRE's `progress_bar_options`, as an `a{sv}`: `desc` (a description
   * before the bar), `unit` (default "tasks"), `colour` (a name like
   * "green", or "#rrggbb"), `position` (the line below the cursor to draw
   * on, for nested pools) and `disable` (a boolean). Another key or type
   * fails the call with %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_PROGRESS_BAR_OPTIONS] =
    g_param_spec_variant ("progress-bar-options", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, flags);

  /**
   * MpireMapOptions:progress-bar-style:
   *
   * MPIRE's `progress_bar_style`: %NULL or "std" for the tqdm-like bar,
   * "rich" for a bar like the rich package's (a thin line, percentage,
   * counts, elapsed and remaining time, rate), "dashboard" for progress
   * on the dashboard only (no bar on the terminal; see
   * [class@Mpire.Dashboard]). MPIRE's "notebook" style (a Jupyter
   * widget) fails the call with %MPIRE_ERROR_NOT_SUPPORTED, another name
   * with %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_PROGRESS_BAR_STYLE] =
    g_param_spec_string ("progress-bar-style", NULL, NULL, NULL, flags);

  /**
   * MpireMapOptions:worker-init:
   *
   * A task run once by each worker when it starts serving, before its
   * first task, with an empty tuple as arguments and the same context as
   * the tasks (worker id, shared objects, state): MPIRE's `worker_init`.
   * A worker kept alive from an earlier call does not run it again. If it
   * fails, the call fails with its error.
   *
   * Since: 0.1
   */
  properties[PROP_WORKER_INIT] =
    g_param_spec_object ("worker-init", NULL, NULL, MPIRE_TYPE_TASK, flags);

  /**
   * MpireMapOptions:worker-exit:
   *
   * A task run by each worker when it stops (at the end of the call, or
   * at [method@Mpire.WorkerPool.stop_and_join] for kept-alive workers),
   * with an empty tuple as arguments: MPIRE's `worker_exit`. What it
   * returns is collected by [method@Mpire.WorkerPool.get_exit_results];
   * the call waits for it. Workers killed by
   * [method@Mpire.WorkerPool.terminate] do not run it.
   *
   * Since: 0.1
   */
  properties[PROP_WORKER_EXIT] =
    g_param_spec_object ("worker-exit", NULL, NULL, MPIRE_TYPE_TASK, flags);

  /**
   * MpireMapOptions:task-timeout:
   *
   * The most seconds one task may run, or -1 (the default) for no limit:
   * MPIRE's `task_timeout`. A task that runs longer fails the call with
   * %MPIRE_ERROR_TIMED_OUT, naming its arguments, and its worker is
   * killed and replaced. A thread cannot be killed: on a threading pool
   * the call fails all the same, but the task runs on until it returns.
   * Any other value that is not positive fails the call with
   * %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_TASK_TIMEOUT] =
    g_param_spec_double ("task-timeout", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, -1, flags);

  /**
   * MpireMapOptions:worker-init-timeout:
   *
   * The most seconds the [property@Mpire.MapOptions:worker-init] task
   * may run in a worker, or -1 (the default) for no limit: MPIRE's
   * `worker_init_timeout`. An init that runs longer fails the call with
   * %MPIRE_ERROR_TIMED_OUT and its worker is killed (a thread runs on
   * until the init returns). Any other value that is not positive fails
   * the call with %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_WORKER_INIT_TIMEOUT] =
    g_param_spec_double ("worker-init-timeout", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, -1, flags);

  /**
   * MpireMapOptions:worker-exit-timeout:
   *
   * The most seconds the [property@Mpire.MapOptions:worker-exit] task
   * may run in a worker, or -1 (the default) for no limit: MPIRE's
   * `worker_exit_timeout`. An exit that runs longer fails the call (or,
   * for kept-alive workers, [method@Mpire.WorkerPool.stop_and_join]) with
   * %MPIRE_ERROR_TIMED_OUT, and its worker is killed, so it gives no exit
   * result. Any other value that is not positive fails the call with
   * %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_WORKER_EXIT_TIMEOUT] =
    g_param_spec_double ("worker-exit-timeout", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, -1, flags);

  /**
   * MpireMapOptions:retry-on-worker-death:
   *
   * What happens when a worker process dies (killed by a signal, the
   * out-of-memory killer, an exit) while it runs a chunk of tasks: with
   * %FALSE (the default) the call fails with %MPIRE_ERROR_WORKER_DIED,
   * naming the signal and the arguments of the task it died in; with
   * %TRUE the rest of the chunk runs again on a fresh worker, as often as
   * workers are killed from outside: workers then send each task's result
   * as soon as the task is done (one small message per task, only with
   * this option), so the tasks that finished before the death do not run
   * again; the task it died in runs once more. A task that was running
   * at three deaths of its worker in a row (ten SIGKILLs, the signal of
   * the out-of-memory killer but also of a user) is taken to be what
   * kills it:
   * the call then fails with %MPIRE_ERROR_WORKER_DIED naming it. Either
   * way no task is lost or reported twice. Chunks a dead worker had been
   * sent but not begun always go to the other workers.
   *
   * Since: 0.1
   */
  properties[PROP_RETRY_ON_WORKER_DEATH] =
    g_param_spec_boolean ("retry-on-worker-death", NULL, NULL, FALSE, flags);

  /**
   * MpireMapOptions:array-chunks:
   *
   * Whether the task receives each chunk whole, as one array (a slice of
   * the input, without a copy for arrays of fixed-size elements), rather
   * than one call per element: what MPIRE does with numpy arrays. With
   * [property@Mpire.MapOptions:row-width] a flat array of numbers is
   * taken as rows of that many numbers, so `chunk-size`, `n-splits`,
   * `iterable-len` and progress count rows. A map returns one result per
   * chunk, concatenated when [property@Mpire.MapOptions:concatenate] is
   * set; imap gives one result per chunk.
   *
   * Since: 0.1
   */
  properties[PROP_ARRAY_CHUNKS] =
    g_param_spec_boolean ("array-chunks", NULL, NULL, FALSE, flags);

  /**
   * MpireMapOptions:row-width:
   *
   * With [property@Mpire.MapOptions:array-chunks], the number of
   * consecutive elements of the input that make one row, like the second
   * dimension of a two-dimensional numpy array stored flat (an `ad` of
   * N × 3 numbers for N points). The input must be an array of fixed-size
   * elements whose length is a multiple of it. 1 (the default): each
   * element is a row. Other values fail the call with
   * %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 0.1
   */
  properties[PROP_ROW_WIDTH] =
    g_param_spec_int64 ("row-width", NULL, NULL, G_MININT64, G_MAXINT64, 1, flags);

  /**
   * MpireMapOptions:concatenate:
   *
   * With [property@Mpire.MapOptions:array-chunks], whether map joins the
   * chunks' results into one array when they are all arrays of one type
   * (an `ad` per chunk gives one `ad`), as MPIRE's
   * `concatenate_numpy_output`; otherwise, and when it is %FALSE, map
   * returns one result per chunk. %TRUE by default.
   *
   * Since: 0.1
   */
  properties[PROP_CONCATENATE] =
    g_param_spec_boolean ("concatenate", NULL, NULL, TRUE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mpire_map_options_init (MpireMapOptions *self)
{
  self->iterable_len = -1;
  self->task_timeout = -1;
  self->worker_init_timeout = -1;
  self->worker_exit_timeout = -1;
  self->row_width = 1;
  self->concatenate = TRUE;
}

/**
 * mpire_map_options_new:
 *
 * Creates options with every value at its default.
 *
 * Returns: (transfer full): new options
 *
 * Since: 0.1
 */
MpireMapOptions *
mpire_map_options_new (void)
{
  return g_object_new (MPIRE_TYPE_MAP_OPTIONS, NULL);
}

/**
 * mpire_map_options_get_iterable_len:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:iterable-len].
 *
 * Returns: the number of tasks, or -1 if unknown
 *
 * Since: 0.1
 */
gint64
mpire_map_options_get_iterable_len (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), -1);
  return self->iterable_len;
}

/**
 * mpire_map_options_set_iterable_len:
 * @self: map options
 * @iterable_len: the number of tasks, or -1 if unknown
 *
 * Sets [property@Mpire.MapOptions:iterable-len].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_iterable_len (MpireMapOptions *self,
                                    gint64           iterable_len)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_field (self, PROP_ITERABLE_LEN, iterable_len);
}

/**
 * mpire_map_options_get_chunk_size:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:chunk-size].
 *
 * Returns: the chunk size, or 0 for automatic
 *
 * Since: 0.1
 */
gint64
mpire_map_options_get_chunk_size (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), 0);
  return self->chunk_size;
}

/**
 * mpire_map_options_set_chunk_size:
 * @self: map options
 * @chunk_size: tasks per chunk, or 0 for automatic
 *
 * Sets [property@Mpire.MapOptions:chunk-size].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_chunk_size (MpireMapOptions *self,
                                  gint64           chunk_size)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_field (self, PROP_CHUNK_SIZE, chunk_size);
}

/**
 * mpire_map_options_get_n_splits:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:n-splits].
 *
 * Returns: the number of splits, or 0 for automatic
 *
 * Since: 0.1
 */
gint64
mpire_map_options_get_n_splits (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), 0);
  return self->n_splits;
}

/**
 * mpire_map_options_set_n_splits:
 * @self: map options
 * @n_splits: the number of chunks, or 0 for automatic
 *
 * Sets [property@Mpire.MapOptions:n-splits].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_n_splits (MpireMapOptions *self,
                                gint64           n_splits)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_field (self, PROP_N_SPLITS, n_splits);
}

/**
 * mpire_map_options_get_max_tasks_active:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:max-tasks-active].
 *
 * Returns: the limit, or 0 for automatic
 *
 * Since: 0.1
 */
gint64
mpire_map_options_get_max_tasks_active (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), 0);
  return self->max_tasks_active;
}

/**
 * mpire_map_options_set_max_tasks_active:
 * @self: map options
 * @max_tasks_active: the limit, or 0 for automatic
 *
 * Sets [property@Mpire.MapOptions:max-tasks-active].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_max_tasks_active (MpireMapOptions *self,
                                        gint64           max_tasks_active)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_field (self, PROP_MAX_TASKS_ACTIVE, max_tasks_active);
}

/**
 * mpire_map_options_get_worker_lifespan:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:worker-lifespan].
 *
 * Returns: the number of tasks a worker runs before it is replaced, or 0
 *
 * Since: 0.1
 */
gint64
mpire_map_options_get_worker_lifespan (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), 0);
  return self->worker_lifespan;
}

/**
 * mpire_map_options_set_worker_lifespan:
 * @self: map options
 * @worker_lifespan: tasks a worker runs before it is replaced, or 0
 *
 * Sets [property@Mpire.MapOptions:worker-lifespan].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_worker_lifespan (MpireMapOptions *self,
                                       gint64           worker_lifespan)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_field (self, PROP_WORKER_LIFESPAN, worker_lifespan);
}

/**
 * mpire_map_options_get_progress_bar:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:progress-bar].
 *
 * Returns: whether the call draws a progress bar
 *
 * Since: 0.1
 */
gboolean
mpire_map_options_get_progress_bar (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), FALSE);
  return self->progress_bar;
}

/**
 * mpire_map_options_set_progress_bar:
 * @self: map options
 * @progress_bar: whether the call draws a progress bar
 *
 * Sets [property@Mpire.MapOptions:progress-bar].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_progress_bar (MpireMapOptions *self,
                                    gboolean         progress_bar)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_flag (self, PROP_PROGRESS_BAR, progress_bar);
}

/**
 * mpire_map_options_get_progress_bar_options:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:progress-bar-options].
 *
 * Returns: (transfer none) (nullable): the progress bar options
 *
 * Since: 0.1
 */
GVariant *
mpire_map_options_get_progress_bar_options (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), NULL);
  return self->progress_bar_options;
}

/**
 * mpire_map_options_set_progress_bar_options:
 * @self: map options
 * @options: (nullable): an `a{sv}` of progress bar options
 *
 * Sets [property@Mpire.MapOptions:progress-bar-options].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_progress_bar_options (MpireMapOptions *self,
                                            GVariant        *options)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));

  if (options != NULL)
    g_variant_ref_sink (options);
  g_clear_pointer (&self->progress_bar_options, g_variant_unref);
  self->progress_bar_options = options;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS_BAR_OPTIONS]);
}

/**
 * mpire_map_options_get_progress_bar_style:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:progress-bar-style].
 *
 * Returns: (nullable): the progress bar style, or %NULL for the default
 *
 * Since: 0.1
 */
const char *
mpire_map_options_get_progress_bar_style (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), NULL);
  return self->progress_bar_style;
}

/**
 * mpire_map_options_set_progress_bar_style:
 * @self: map options
 * @style: (nullable): "std", "rich", or %NULL for the default
 *
 * Sets [property@Mpire.MapOptions:progress-bar-style].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_progress_bar_style (MpireMapOptions *self,
                                          const char      *style)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));

  if (g_strcmp0 (self->progress_bar_style, style) == 0)
    return;
  g_free (self->progress_bar_style);
  self->progress_bar_style = g_strdup (style);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS_BAR_STYLE]);
}

/**
 * mpire_map_options_get_worker_init:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:worker-init].
 *
 * Returns: (transfer none) (nullable): the worker_init task
 *
 * Since: 0.1
 */
MpireTask *
mpire_map_options_get_worker_init (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), NULL);
  return self->worker_init;
}

/**
 * mpire_map_options_set_worker_init:
 * @self: map options
 * @task: (nullable): the task each worker runs when it starts
 *
 * Sets [property@Mpire.MapOptions:worker-init].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_worker_init (MpireMapOptions *self,
                                   MpireTask       *task)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  g_return_if_fail (task == NULL || MPIRE_IS_TASK (task));

  if (g_set_object (&self->worker_init, task))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER_INIT]);
}

/**
 * mpire_map_options_get_worker_exit:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:worker-exit].
 *
 * Returns: (transfer none) (nullable): the worker_exit task
 *
 * Since: 0.1
 */
MpireTask *
mpire_map_options_get_worker_exit (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), NULL);
  return self->worker_exit;
}

/**
 * mpire_map_options_set_worker_exit:
 * @self: map options
 * @task: (nullable): the task each worker runs when it stops
 *
 * Sets [property@Mpire.MapOptions:worker-exit].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_worker_exit (MpireMapOptions *self,
                                   MpireTask       *task)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  g_return_if_fail (task == NULL || MPIRE_IS_TASK (task));

  if (g_set_object (&self->worker_exit, task))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER_EXIT]);
}

/**
 * mpire_map_options_get_task_timeout:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:task-timeout].
 *
 * Returns: the timeout in seconds, or -1 for none
 *
 * Since: 0.1
 */
double
mpire_map_options_get_task_timeout (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), -1);
  return self->task_timeout;
}

/**
 * mpire_map_options_set_task_timeout:
 * @self: map options
 * @seconds: the most seconds a task may run, or -1 for no limit
 *
 * Sets [property@Mpire.MapOptions:task-timeout].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_task_timeout (MpireMapOptions *self,
                                    double           seconds)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));

  set_timeout (self, PROP_TASK_TIMEOUT, seconds);
}

/**
 * mpire_map_options_get_worker_init_timeout:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:worker-init-timeout].
 *
 * Returns: the timeout in seconds, or -1 for none
 *
 * Since: 0.1
 */
double
mpire_map_options_get_worker_init_timeout (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), -1);
  return self->worker_init_timeout;
}

/**
 * mpire_map_options_set_worker_init_timeout:
 * @self: map options
 * @seconds: the most seconds a worker_init may run, or -1 for no limit
 *
 * Sets [property@Mpire.MapOptions:worker-init-timeout].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_worker_init_timeout (MpireMapOptions *self,
                                           double           seconds)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));

  set_timeout (self, PROP_WORKER_INIT_TIMEOUT, seconds);
}

/**
 * mpire_map_options_get_worker_exit_timeout:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:worker-exit-timeout].
 *
 * Returns: the timeout in seconds, or -1 for none
 *
 * Since: 0.1
 */
double
mpire_map_options_get_worker_exit_timeout (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), -1);
  return self->worker_exit_timeout;
}

/**
 * mpire_map_options_set_worker_exit_timeout:
 * @self: map options
 * @seconds: the most seconds a worker_exit may run, or -1 for no limit
 *
 * Sets [property@Mpire.MapOptions:worker-exit-timeout].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_worker_exit_timeout (MpireMapOptions *self,
                                           double           seconds)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));

  set_timeout (self, PROP_WORKER_EXIT_TIMEOUT, seconds);
}

/**
 * mpire_map_options_get_retry_on_worker_death:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:retry-on-worker-death].
 *
 * Returns: whether the chunk of a dead worker runs again
 *
 * Since: 0.1
 */
gboolean
mpire_map_options_get_retry_on_worker_death (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), FALSE);
  return self->retry_on_worker_death;
}

/**
 * mpire_map_options_set_retry_on_worker_death:
 * @self: map options
 * @retry: whether the chunk of a dead worker runs again
 *
 * Sets [property@Mpire.MapOptions:retry-on-worker-death].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_retry_on_worker_death (MpireMapOptions *self,
                                             gboolean         retry)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_flag (self, PROP_RETRY_ON_WORKER_DEATH, retry);
}

/**
 * mpire_map_options_set_source:
 * @self: map options
 * @func: (scope notified) (closure user_data) (destroy destroy): produces
 *   the arguments of one task per call
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Makes the next call given these options take its tasks from @func
 * instead of an array (pass %NULL as the array), one task per call of
 * @func, until it returns %NULL: MPIRE's generators.
 *
 * @func is called in the thread that started the call, from its
 * thread-default main context, and never further ahead of the results
 * consumed than [property@Mpire.MapOptions:max-tasks-active]. The call
 * takes the source out of the options; set it again for another call.
 *
 * Since: 0.1
 */
void
mpire_map_options_set_source (MpireMapOptions *self,
                              MpireSourceFunc  func,
                              gpointer         user_data,
                              GDestroyNotify   destroy)
{
  MpireSource *source;

  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  g_return_if_fail (func != NULL);

  source = g_new0 (MpireSource, 1);
  source->func = func;
  source->user_data = user_data;
  source->destroy = destroy;
  g_clear_pointer (&self->source, mpire_source_free);
  self->source = source;
}

/**
 * mpire_map_options_has_source:
 * @self: map options
 *
 * Whether a lazy source was set with
 * [method@Mpire.MapOptions.set_source] and not yet used by a call.
 *
 * Returns: %TRUE if the options hold a source
 *
 * Since: 0.1
 */
gboolean
mpire_map_options_has_source (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), FALSE);
  return self->source != NULL;
}

MpireSource *
mpire_map_options_steal_source (MpireMapOptions *self)
{
  return g_steal_pointer (&self->source);
}

/**
 * mpire_map_options_get_array_chunks:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:array-chunks].
 *
 * Returns: whether the task receives whole chunks
 *
 * Since: 0.1
 */
gboolean
mpire_map_options_get_array_chunks (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), FALSE);
  return self->array_chunks;
}

/**
 * mpire_map_options_set_array_chunks:
 * @self: map options
 * @array_chunks: whether the task receives whole chunks
 *
 * Sets [property@Mpire.MapOptions:array-chunks].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_array_chunks (MpireMapOptions *self,
                                    gboolean         array_chunks)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_flag (self, PROP_ARRAY_CHUNKS, array_chunks);
}

/**
 * mpire_map_options_get_row_width:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:row-width].
 *
 * Returns: the number of elements in a row
 *
 * Since: 0.1
 */
gint64
mpire_map_options_get_row_width (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), 1);
  return self->row_width;
}

/**
 * mpire_map_options_set_row_width:
 * @self: map options
 * @row_width: the number of elements in a row
 *
 * Sets [property@Mpire.MapOptions:row-width].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_row_width (MpireMapOptions *self,
                                 gint64           row_width)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_field (self, PROP_ROW_WIDTH, row_width);
}

/**
 * mpire_map_options_get_concatenate:
 * @self: map options
 *
 * Gets [property@Mpire.MapOptions:concatenate].
 *
 * Returns: whether map joins the chunks' array results
 *
 * Since: 0.1
 */
gboolean
mpire_map_options_get_concatenate (MpireMapOptions *self)
{
  g_return_val_if_fail (MPIRE_IS_MAP_OPTIONS (self), TRUE);
  return self->concatenate;
}

/**
 * mpire_map_options_set_concatenate:
 * @self: map options
 * @concatenate: whether map joins the chunks' array results
 *
 * Sets [property@Mpire.MapOptions:concatenate].
 *
 * Since: 0.1
 */
void
mpire_map_options_set_concatenate (MpireMapOptions *self,
                                   gboolean         concatenate)
{
  g_return_if_fail (MPIRE_IS_MAP_OPTIONS (self));
  set_flag (self, PROP_CONCATENATE, concatenate);
}

static gboolean
check_timeout (double       seconds,
               const char  *name,
               GError     **error)
{
  if (seconds == -1 || seconds > 0)
    return TRUE;
  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
               _("The map option “%s” must be a positive number of seconds, or -1 for "
                 "none (it is %g)"), name, seconds);
  return FALSE;
}

/* Whether the timeouts of a call are valid, checked when it starts. */
gboolean
mpire_map_options_check_timeouts (MpireMapOptions  *self,
                                  GError          **error)
{
  return check_timeout (self->task_timeout, "task-timeout", error) &&
         check_timeout (self->worker_init_timeout, "worker-init-timeout", error) &&
         check_timeout (self->worker_exit_timeout, "worker-exit-timeout", error);
}
