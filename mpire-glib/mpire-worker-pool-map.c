/* mpire-worker-pool-map.c: the map family of MpireWorkerPool: map,
 * map_unordered, imap, imap_unordered and their async and list forms
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-dashboard-reporter-private.h"
#include "mpire-map-job-private.h"
#include "mpire-result-iter-private.h"
#include "mpire-result-list-private.h"
#include "mpire-worker-pool.h"
#include "mpire-worker-pool-call-private.h"

/* Every call of the family makes its job with
 * mpire_worker_pool_begin_call(); a blocking call runs it in a main
 * context of its own, an async one in the caller's, with a GTask. */

static void
map_job_done (MpireMapJob *job,
              gpointer     data)
{
  GTask *task = data;
  GError *error = NULL;
  GVariant *result;

  if (!mpire_map_job_is_finished (job))
    return;

  result = mpire_map_job_collect (job, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) g_variant_unref);
  g_object_unref (task);
}

static void
start_map (MpireWorkerPool     *self,
           MpireTask           *task,
           GVariant            *iterable,
           MpireMapOptions     *options,
           gboolean             ordered,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data,
           gpointer             source_tag)
{
  GTask *gtask = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  g_autoptr(MpireMapJob) job = NULL;
  /* Taken even when the call fails early: a floating input is ours. */
  g_autoptr(GVariant) input = iterable != NULL ? g_variant_ref_sink (iterable) : NULL;

  g_task_set_source_tag (gtask, source_tag);

  job = mpire_worker_pool_begin_call (self, task, input, options, ordered, TRUE, FALSE, &error);
  if (job == NULL)
    {
      g_task_return_error (gtask, error);
      g_object_unref (gtask);
      return;
    }

  mpire_dashboard_watch_call (G_OBJECT (self), task, input, options);
  g_task_set_task_data (gtask, mpire_map_job_ref (job), (GDestroyNotify) mpire_map_job_unref);
  /* The GTask's reference is dropped by map_job_done when the job ends. */
  mpire_map_job_start (job, cancellable, map_job_done, gtask);
}

typedef struct
{
  GAsyncResult *result;
} SyncData;

static void
sync_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  SyncData *data = user_data;

  data->result = g_object_ref (result);
}

/* Blocking over async: the call runs in a private main context. */
static GAsyncResult *
run_sync (MpireWorkerPool  *self,
          MpireTask        *task,
          GVariant         *iterable,
          MpireMapOptions  *options,
          gboolean          ordered,
          GCancellable     *cancellable,
          gpointer          source_tag)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  SyncData data = { NULL };

  g_main_context_push_thread_default (context);
  start_map (self, task, iterable, options, ordered, cancellable, sync_done, &data, source_tag);
  while (data.result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  return data.result;
}

static GVariant *
finish_map (MpireWorkerPool  *self,
            GAsyncResult     *result,
            gpointer          source_tag,
            GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

#define CHECK_CALL(val)                                                          \
  G_STMT_START {                                                                 \
    g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), val);                     \
    g_return_val_if_fail (MPIRE_IS_TASK (task), val);                            \
    g_return_val_if_fail (options == NULL || MPIRE_IS_MAP_OPTIONS (options), val); \
  } G_STMT_END

#define CHECK_ASYNC_CALL()                                                       \
  G_STMT_START {                                                                 \
    g_return_if_fail (MPIRE_IS_WORKER_POOL (self));                              \
    g_return_if_fail (MPIRE_IS_TASK (task));                                     \
    g_return_if_fail (options == NULL || MPIRE_IS_MAP_OPTIONS (options));        \
    g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));    \
  } G_STMT_END

/**
 * mpire_worker_pool_map:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array: each element is one task's arguments
 *   (a tuple for several values, an `a{sv}` for named ones); %NULL to
 *   take the tasks from the lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs @task on every element of the input and waits for all results.
 *
 * The results come in input order, as an array of the results' type when
 * they all share one (`ax` for tasks returning `x`), otherwise as `av`;
 * an empty input gives an empty `av`.
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_map (MpireWorkerPool  *self,
                       MpireTask        *task,
                       GVariant         *iterable,
                       MpireMapOptions  *options,
                       GCancellable     *cancellable,
                       GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = run_sync (self, task, iterable, options, TRUE, cancellable, mpire_worker_pool_map_async);
  return mpire_worker_pool_map_finish (self, result, error);
}

/**
 * mpire_worker_pool_map_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the work
 *   and kills the workers running it
 * @callback: (scope async): called when all results are in, or on error
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.map] without blocking. @callback runs
 * in the thread-default main context of the calling thread; finish with
 * [method@Mpire.WorkerPool.map_finish].
 *
 * Since: 0.1
 */
void
mpire_worker_pool_map_async (MpireWorkerPool     *self,
                             MpireTask           *task,
                             GVariant            *iterable,
                             MpireMapOptions     *options,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  start_map (self, task, iterable, options, TRUE, cancellable, callback, user_data,
             mpire_worker_pool_map_async);
}

/**
 * mpire_worker_pool_map_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the results of [method@Mpire.WorkerPool.map_async].
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_map_finish (MpireWorkerPool  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  return finish_map (self, result, mpire_worker_pool_map_async, error);
}

/**
 * mpire_worker_pool_map_unordered:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Like [method@Mpire.WorkerPool.map], with the results in the order the
 * chunks of tasks completed.
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_map_unordered (MpireWorkerPool  *self,
                                 MpireTask        *task,
                                 GVariant         *iterable,
                                 MpireMapOptions  *options,
                                 GCancellable     *cancellable,
                                 GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = run_sync (self, task, iterable, options, FALSE, cancellable,
                     mpire_worker_pool_map_unordered_async);
  return mpire_worker_pool_map_unordered_finish (self, result, error);
}

/**
 * mpire_worker_pool_map_unordered_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when all results are in, or on error
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.map_unordered] without blocking.
 *
 * Since: 0.1
 */
void
mpire_worker_pool_map_unordered_async (MpireWorkerPool     *self,
                                       MpireTask           *task,
                                       GVariant            *iterable,
                                       MpireMapOptions     *options,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  start_map (self, task, iterable, options, FALSE, cancellable, callback, user_data,
             mpire_worker_pool_map_unordered_async);
}

/**
 * mpire_worker_pool_map_unordered_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the results of [method@Mpire.WorkerPool.map_unordered_async].
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_pool_map_unordered_finish (MpireWorkerPool  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  return finish_map (self, result, mpire_worker_pool_map_unordered_async, error);
}

static MpireResultIter *
start_imap (MpireWorkerPool  *self,
            MpireTask        *task,
            GVariant         *iterable,
            MpireMapOptions  *options,
            gboolean          ordered,
            GMainContext     *private_context,
            GCancellable     *cancellable,
            GError          **error)
{
  g_autoptr(GVariant) input = iterable != NULL ? g_variant_ref_sink (iterable) : NULL;
  g_autoptr(MpireMapJob) job = mpire_worker_pool_begin_call (self, task, input, options, ordered, FALSE, FALSE, error);
  MpireResultIter *iter;

  if (job == NULL)
    return NULL;
  mpire_dashboard_watch_call (G_OBJECT (self), task, input, options);

  if (private_context != NULL)
    g_main_context_push_thread_default (private_context);
  iter = mpire_result_iter_new (job, private_context);
  mpire_result_iter_start (iter, cancellable);
  if (private_context != NULL)
    g_main_context_pop_thread_default (private_context);

  return iter;
}

static MpireResultIter *
imap_sync (MpireWorkerPool  *self,
           MpireTask        *task,
           GVariant         *iterable,
           MpireMapOptions  *options,
           gboolean          ordered,
           GError          **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();

  return start_imap (self, task, iterable, options, ordered, context, NULL, error);
}

static void
imap_async (MpireWorkerPool     *self,
            MpireTask           *task,
            GVariant            *iterable,
            MpireMapOptions     *options,
            gboolean             ordered,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data,
            gpointer             source_tag)
{
  g_autoptr(GTask) gtask = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  MpireResultIter *iter;

  g_task_set_source_tag (gtask, source_tag);
  iter = start_imap (self, task, iterable, options, ordered, NULL, cancellable, &error);
  if (iter == NULL)
    g_task_return_error (gtask, error);
  else
    g_task_return_pointer (gtask, iter, g_object_unref);
}

static MpireResultIter *
imap_finish (MpireWorkerPool  *self,
             GAsyncResult     *result,
             gpointer          source_tag,
             GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mpire_worker_pool_imap:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @error: return location for a #GError
 *
 * Starts running @task on the input and returns the results one by one,
 * in input order, through [method@Mpire.ResultIter.next].
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 0.1
 */
MpireResultIter *
mpire_worker_pool_imap (MpireWorkerPool  *self,
                        MpireTask        *task,
                        GVariant         *iterable,
                        MpireMapOptions  *options,
                        GError          **error)
{
  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return imap_sync (self, task, iterable, options, TRUE, error);
}

/**
 * mpire_worker_pool_imap_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @callback: (scope async): called with the iterator
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.imap] in the calling thread's
 * thread-default main context: the iterator's
 * [method@Mpire.ResultIter.next_async] then never blocks it.
 *
 * Since: 0.1
 */
void
mpire_worker_pool_imap_async (MpireWorkerPool     *self,
                              MpireTask           *task,
                              GVariant            *iterable,
                              MpireMapOptions     *options,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  imap_async (self, task, iterable, options, TRUE, cancellable, callback, user_data,
              mpire_worker_pool_imap_async);
}

/**
 * mpire_worker_pool_imap_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the iterator of [method@Mpire.WorkerPool.imap_async].
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 0.1
 */
MpireResultIter *
mpire_worker_pool_imap_finish (MpireWorkerPool  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  return imap_finish (self, result, mpire_worker_pool_imap_async, error);
}

/**
 * mpire_worker_pool_imap_unordered:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @error: return location for a #GError
 *
 * Like [method@Mpire.WorkerPool.imap], with the results in completion
 * order.
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 0.1
 */
MpireResultIter *
mpire_worker_pool_imap_unordered (MpireWorkerPool  *self,
                                  MpireTask        *task,
                                  GVariant         *iterable,
                                  MpireMapOptions  *options,
                                  GError          **error)
{
  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return imap_sync (self, task, iterable, options, FALSE, error);
}

/**
 * mpire_worker_pool_imap_unordered_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @callback: (scope async): called with the iterator
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.imap_unordered] in the calling thread's
 * thread-default main context.
 *
 * Since: 0.1
 */
void
mpire_worker_pool_imap_unordered_async (MpireWorkerPool     *self,
                                        MpireTask           *task,
                                        GVariant            *iterable,
                                        MpireMapOptions     *options,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  imap_async (self, task, iterable, options, FALSE, cancellable, callback, user_data,
              mpire_worker_pool_imap_unordered_async);
}

/**
 * mpire_worker_pool_imap_unordered_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the iterator of [method@Mpire.WorkerPool.imap_unordered_async].
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 0.1
 */
MpireResultIter *
mpire_worker_pool_imap_unordered_finish (MpireWorkerPool  *self,
                                         GAsyncResult     *result,
                                         GError          **error)
{
  return imap_finish (self, result, mpire_worker_pool_imap_unordered_async, error);
}

static MpireResultList *
imap_list (MpireWorkerPool  *self,
           MpireTask        *task,
           GVariant         *iterable,
           MpireMapOptions  *options,
           gboolean          ordered,
           GCancellable     *cancellable,
           GError          **error)
{
  g_autoptr(MpireResultIter) iter = NULL;

  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iter = start_imap (self, task, iterable, options, ordered, NULL, cancellable, error);
  return iter != NULL ? mpire_result_list_new (iter) : NULL;
}

/**
 * mpire_worker_pool_imap_list:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @error: return location for a #GError
 *
 * Starts [method@Mpire.WorkerPool.imap] in the calling thread's
 * thread-default main context and returns its results as a list model
 * that grows, in input order, while that context runs: the model of a
 * `GtkListView` for results as they come.
 *
 * Returns: (transfer full): the results, or %NULL if the call could not
 *   start
 *
 * Since: 0.1
 */
MpireResultList *
mpire_worker_pool_imap_list (MpireWorkerPool  *self,
                             MpireTask        *task,
                             GVariant         *iterable,
                             MpireMapOptions  *options,
                             GCancellable     *cancellable,
                             GError          **error)
{
  CHECK_CALL (NULL);

  return imap_list (self, task, iterable, options, TRUE, cancellable, error);
}

/**
 * mpire_worker_pool_imap_unordered_list:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @error: return location for a #GError
 *
 * Like [method@Mpire.WorkerPool.imap_list], with the results in
 * completion order; [property@Mpire.Result:index] tells each one's task.
 *
 * Returns: (transfer full): the results, or %NULL if the call could not
 *   start
 *
 * Since: 0.1
 */
MpireResultList *
mpire_worker_pool_imap_unordered_list (MpireWorkerPool  *self,
                                       MpireTask        *task,
                                       GVariant         *iterable,
                                       MpireMapOptions  *options,
                                       GCancellable     *cancellable,
                                       GError          **error)
{
  CHECK_CALL (NULL);

  return imap_list (self, task, iterable, options, FALSE, cancellable, error);
}
