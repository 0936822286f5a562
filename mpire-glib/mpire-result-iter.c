/* mpire-result-iter.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-i18n-private.h"
#include "mpire-result-iter-private.h"

/**
 * MpireResultIter:
 *
 * The results of an [method@Mpire.WorkerPool.imap] or
 * [method@Mpire.WorkerPool.imap_unordered] call, one at a time, as they
 * come: in input order for `imap`, in completion order for
 * `imap_unordered`.
 *
 * The input is pulled only as far ahead of the results taken as
 * [property@Mpire.MapOptions:max-tasks-active] allows, so an endless lazy
 * input works. The call holds the pool until the iterator is exhausted,
 * fails, or is finalized: dropping it early stops the remaining work.
 *
 * A failed task makes [method@Mpire.ResultIter.next] fail once, after
 * the results that had already arrived; the iterator then ends.
 *
 * Since: 0.1
 */
struct _MpireResultIter
{
  GObject       parent_instance;

  MpireMapJob  *job;
  GMainContext *private_context;
  GQueue        waiting;        /* GTasks of next_async, oldest first */

  MpireResultIterChanged changed_func;
  gpointer               changed_data;
};

G_DEFINE_FINAL_TYPE (MpireResultIter, mpire_result_iter, G_TYPE_OBJECT)

static void
mpire_result_iter_finalize (GObject *object)
{
  MpireResultIter *self = MPIRE_RESULT_ITER (object);

  g_assert (g_queue_is_empty (&self->waiting));
  g_clear_pointer (&self->job, mpire_map_job_unref);
  g_clear_pointer (&self->private_context, g_main_context_unref);

  G_OBJECT_CLASS (mpire_result_iter_parent_class)->finalize (object);
}

static void
mpire_result_iter_class_init (MpireResultIterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mpire_result_iter_finalize;
}

static void
mpire_result_iter_init (MpireResultIter *self)
{
  g_queue_init (&self->waiting);
}

/* Answers waiting next_async calls with what the job has now. */
static void
answer_waiting (MpireResultIter *self)
{
  while (!g_queue_is_empty (&self->waiting))
    {
      GVariant *item = NULL;
      GError *error = NULL;
      MpireJobNext next = mpire_map_job_next (self->job, &item, NULL, &error);
      GTask *task;

      if (next == MPIRE_JOB_NEXT_WAIT)
        break;

      task = g_queue_pop_head (&self->waiting);
      if (next == MPIRE_JOB_NEXT_ERROR)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, item, (GDestroyNotify) g_variant_unref);
      g_object_unref (task);
    }
}

static void
job_changed (MpireMapJob *job,
             gpointer     data)
{
  MpireResultIter *self = MPIRE_RESULT_ITER (data);

  answer_waiting (self);
  if (self->changed_func != NULL)
    self->changed_func (self, self->changed_data);
}

/* For a consumer inside the library that takes the results as they
 * come (MpireResultList): @func is called in the call's main context
 * whenever results are ready or the call ended, once per dispatch, and
 * mpire_result_iter_poll() then takes them without waiting. */
void
mpire_result_iter_set_changed_func (MpireResultIter        *self,
                                    MpireResultIterChanged  func,
                                    gpointer                data)
{
  self->changed_func = func;
  self->changed_data = data;
}

/* The next result if there is one now (@index: its task's position in
 * the input), the end, the call's error, or MPIRE_JOB_NEXT_WAIT. */
MpireJobNext
mpire_result_iter_poll (MpireResultIter  *self,
                        GVariant        **item,
                        gint64           *index,
                        GError          **error)
{
  g_assert (g_queue_is_empty (&self->waiting));

  return mpire_map_job_next (self->job, item, index, error);
}

MpireResultIter *
mpire_result_iter_new (MpireMapJob  *job,
                       GMainContext *private_context)
{
  MpireResultIter *self = g_object_new (MPIRE_TYPE_RESULT_ITER, NULL);

  self->job = mpire_map_job_ref (job);
  self->private_context = private_context != NULL ? g_main_context_ref (private_context) : NULL;
  return self;
}

/* The job calls back into the iterator, which owns the job: started
 * once the iterator exists. */
void
mpire_result_iter_start (MpireResultIter *self,
                         GCancellable    *cancellable)
{
  mpire_map_job_start (self->job, cancellable, job_changed, self);
}

static void
cancelled_wakeup (GCancellable *cancellable,
                  gpointer      user_data)
{
  g_main_context_wakeup (user_data);
}

/**
 * mpire_result_iter_next:
 * @self: a result iterator
 * @cancellable: (nullable): a #GCancellable; cancelling it stops the
 *   whole call
 * @error: return location for a #GError
 *
 * Waits for the next result and returns it.
 *
 * It runs the main context the call was started in (a private one for
 * [method@Mpire.WorkerPool.imap]) while it waits, so it must be called
 * from that thread.
 *
 * Returns: (transfer full) (nullable): the next result, or %NULL at the
 *   end of the results (without error) or on error
 *
 * Since: 0.1
 */
GVariant *
mpire_result_iter_next (MpireResultIter  *self,
                        GCancellable     *cancellable,
                        GError          **error)
{
  GMainContext *context;
  gulong handler = 0;
  GVariant *item = NULL;
  MpireJobNext next;
  gboolean stopped = FALSE;

  g_return_val_if_fail (MPIRE_IS_RESULT_ITER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  context = mpire_map_job_get_context (self->job);
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_wakeup),
                                     g_main_context_ref (context),
                                     (GDestroyNotify) g_main_context_unref);

  while ((next = mpire_map_job_next (self->job, &item, NULL, error)) == MPIRE_JOB_NEXT_WAIT)
    {
      GError *cancelled = NULL;

      /* Stopping the job once is enough; then wait for its end (its
       * workers gone) like any other. */
      if (!stopped && g_cancellable_set_error_if_cancelled (cancellable, &cancelled))
        {
          mpire_map_job_fail (self->job, cancelled);
          stopped = TRUE;
          continue;
        }
      g_main_context_iteration (context, TRUE);
    }

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  return item;
}

static gboolean
next_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  MpireResultIter *self = user_data;
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  mpire_map_job_fail (self->job, error);
  return G_SOURCE_REMOVE;
}

/**
 * mpire_result_iter_next_async:
 * @self: a result iterator
 * @cancellable: (nullable): a #GCancellable; cancelling it stops the
 *   whole call
 * @callback: (scope async): called with the next result
 * @user_data: data for @callback
 *
 * Asks for the next result without blocking; @callback runs in the
 * thread-default main context of the thread that started the call once
 * it is there. Finish with [method@Mpire.ResultIter.next_finish].
 *
 * Since: 0.1
 */
void
mpire_result_iter_next_async (MpireResultIter     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (MPIRE_IS_RESULT_ITER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mpire_result_iter_next_async);

  if (cancellable != NULL)
    {
      g_autoptr(GSource) source = g_cancellable_source_new (cancellable);

      g_source_set_callback (source, G_SOURCE_FUNC (next_cancelled_cb),
                             g_object_ref (self), g_object_unref);
      g_source_set_static_name (source, "[mpire] next cancelled");
      g_source_attach (source, mpire_map_job_get_context (self->job));
    }

  g_queue_push_tail (&self->waiting, task);
  answer_waiting (self);
}

/**
 * mpire_result_iter_next_finish:
 * @self: a result iterator
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the result asked for with [method@Mpire.ResultIter.next_async].
 *
 * Returns: (transfer full) (nullable): the next result, or %NULL at the
 *   end of the results (without error) or on error
 *
 * Since: 0.1
 */
GVariant *
mpire_result_iter_next_finish (MpireResultIter  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mpire_result_iter_get_n_pulled:
 * @self: a result iterator
 *
 * Gets how many tasks the call has taken from its input so far: never
 * more than [property@Mpire.MapOptions:max-tasks-active] ahead of the
 * results taken.
 *
 * Returns: the number of tasks taken from the input
 *
 * Since: 0.1
 */
gint64
mpire_result_iter_get_n_pulled (MpireResultIter *self)
{
  g_return_val_if_fail (MPIRE_IS_RESULT_ITER (self), 0);

  return mpire_map_job_get_n_pulled (self->job);
}
