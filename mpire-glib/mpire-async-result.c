/* mpire-async-result.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-async-result-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"

/**
 * MpireAsyncResult:
 *
 * The outcome of one task started with
 * [method@Mpire.WorkerPool.apply_async]: MPIRE's `AsyncResult`.
 *
 * It completes in the thread-default main context of the thread that
 * started the pool's current run of apply tasks: there
 * [signal@Mpire.AsyncResult::completed] or
 * [signal@Mpire.AsyncResult::failed] is emitted, once. The blocking
 * [method@Mpire.AsyncResult.wait] and [method@Mpire.AsyncResult.get]
 * run that context while they wait when the calling thread can (a plain
 * script), and otherwise wait for the thread that runs it (a GTK
 * application's main loop).
 *
 * Since: 0.1
 */
struct _MpireAsyncResult
{
  GObject       parent_instance;

  GMutex        lock;
  GCond         cond;
  GMainContext *context;
  gboolean      done;
  GVariant     *result;
  GError       *error;
};

G_DEFINE_FINAL_TYPE (MpireAsyncResult, mpire_async_result, G_TYPE_OBJECT)

enum {
  COMPLETED,
  FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
mpire_async_result_finalize (GObject *object)
{
  MpireAsyncResult *self = MPIRE_ASYNC_RESULT (object);

  g_clear_pointer (&self->result, g_variant_unref);
  g_clear_error (&self->error);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (mpire_async_result_parent_class)->finalize (object);
}

static void
mpire_async_result_class_init (MpireAsyncResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mpire_async_result_finalize;

  /**
   * MpireAsyncResult::completed:
   * @self: the result
   * @result: what the task returned
   *
   * The task succeeded: MPIRE's `callback`.
   *
   * Since: 0.1
   */
  signals[COMPLETED] =
    g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_VARIANT);

  /**
   * MpireAsyncResult::failed:
   * @self: the result
   * @error: why the task failed
   *
   * The task failed (its own error, a timeout, its worker died, the pool
   * was terminated): MPIRE's `error_callback`.
   *
   * Since: 0.1
   */
  signals[FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
mpire_async_result_init (MpireAsyncResult *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
}

MpireAsyncResult *
mpire_async_result_new (GMainContext *context)
{
  MpireAsyncResult *self = g_object_new (MPIRE_TYPE_ASYNC_RESULT, NULL);

  self->context = g_main_context_ref (context);
  return self;
}

static gboolean
settle (MpireAsyncResult *self,
        GVariant         *result,
        GError           *error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->done)
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
      return FALSE;
    }
  self->done = TRUE;
  self->result = result;
  self->error = error;
  g_cond_broadcast (&self->cond);
  return TRUE;
}

void
mpire_async_result_complete (MpireAsyncResult *self,
                             GVariant         *result)
{
  if (settle (self, result, NULL))
    g_signal_emit (self, signals[COMPLETED], 0, self->result);
}

void
mpire_async_result_fail (MpireAsyncResult *self,
                         GError           *error)
{
  if (settle (self, NULL, error))
    g_signal_emit (self, signals[FAILED], 0, self->error);
}

/**
 * mpire_async_result_ready:
 * @self: a result
 *
 * Whether the task is done, successfully or not.
 *
 * Returns: %TRUE once the task is done
 *
 * Since: 0.1
 */
gboolean
mpire_async_result_ready (MpireAsyncResult *self)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (MPIRE_IS_ASYNC_RESULT (self), FALSE);

  locker = g_mutex_locker_new (&self->lock);
  return self->done;
}

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/**
 * mpire_async_result_wait:
 * @self: a result
 * @timeout: the most seconds to wait, or a negative number to wait as
 *   long as it takes
 *
 * Waits until the task is done or @timeout passed.
 *
 * Returns: %TRUE if the task is done
 *
 * Since: 0.1
 */
gboolean
mpire_async_result_wait (MpireAsyncResult *self,
                         double            timeout)
{
  gint64 deadline;

  g_return_val_if_fail (MPIRE_IS_ASYNC_RESULT (self), FALSE);

  deadline = timeout < 0 ? G_MAXINT64 : g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();

      if (mpire_async_result_ready (self))
        return TRUE;
      if (now >= deadline)
        return FALSE;

      if (g_main_context_acquire (self->context))
        {
          /* Nobody runs the context: run it here, at most until the deadline. */
          GSource *timer = NULL;

          if (deadline != G_MAXINT64)
            {
              timer = g_timeout_source_new ((guint) MAX (1, (deadline - now) / 1000));
              g_source_set_callback (timer, wake_up, NULL, NULL);
              g_source_attach (timer, self->context);
            }
          g_main_context_iteration (self->context, TRUE);
          if (timer != NULL)
            {
              g_source_destroy (timer);
              g_source_unref (timer);
            }
          g_main_context_release (self->context);
        }
      else
        {
          /* Another thread runs it: it completes the result. */
          g_mutex_lock (&self->lock);
          if (!self->done)
            g_cond_wait_until (&self->cond, &self->lock,
                               deadline == G_MAXINT64 ? now + G_USEC_PER_SEC : deadline);
          g_mutex_unlock (&self->lock);
        }
    }
}

/**
 * mpire_async_result_get:
 * @self: a result
 * @timeout: the most seconds to wait, or a negative number to wait as
 *   long as it takes
 * @error: return location for a #GError
 *
 * Waits for the task and returns its result, or its error. If it is not
 * done within @timeout, fails with %MPIRE_ERROR_TIMED_OUT (the task goes
 * on).
 *
 * Returns: (transfer full): what the task returned, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
mpire_async_result_get (MpireAsyncResult  *self,
                        double             timeout,
                        GError           **error)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (MPIRE_IS_ASYNC_RESULT (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mpire_async_result_wait (self, timeout))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT,
                   _("The task did not finish within %g s"), timeout);
      return NULL;
    }

  locker = g_mutex_locker_new (&self->lock);
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }
  return g_variant_ref (self->result);
}

/**
 * mpire_async_result_successful:
 * @self: a result
 * @error: return location for a #GError
 *
 * Whether the task succeeded. As MPIRE raises an error when asked before
 * the task is done, this sets %MPIRE_ERROR_INVALID_ARGUMENT then.
 *
 * Returns: %TRUE if the task is done and succeeded
 *
 * Since: 0.1
 */
gboolean
mpire_async_result_successful (MpireAsyncResult  *self,
                               GError           **error)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (MPIRE_IS_ASYNC_RESULT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&self->lock);
  if (!self->done)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                           _("The task is not done yet"));
      return FALSE;
    }
  return self->error == NULL;
}
