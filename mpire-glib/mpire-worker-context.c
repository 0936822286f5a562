/* mpire-worker-context.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-worker-context-private.h"

/**
 * MpireWorkerContext:
 *
 * What a task function sees of the worker that runs it: the worker's id
 * (when [property@Mpire.WorkerPool:pass-worker-id] is set), the pool's
 * shared objects, and the worker's own state (when
 * [property@Mpire.WorkerPool:use-worker-state] is set).
 *
 * Each worker has one context for its whole life, so the state set by one
 * task is seen by the next tasks of the same worker.
 *
 * Since: 0.1
 */
struct _MpireWorkerContext
{
  GObject   parent_instance;

  int       worker_id;
  gboolean  use_worker_state;
  GVariant *shared_objects;
  GVariant *state;
};

G_DEFINE_FINAL_TYPE (MpireWorkerContext, mpire_worker_context, G_TYPE_OBJECT)

static void
mpire_worker_context_finalize (GObject *object)
{
  MpireWorkerContext *self = MPIRE_WORKER_CONTEXT (object);

  g_clear_pointer (&self->shared_objects, g_variant_unref);
  g_clear_pointer (&self->state, g_variant_unref);

  G_OBJECT_CLASS (mpire_worker_context_parent_class)->finalize (object);
}

static void
mpire_worker_context_class_init (MpireWorkerContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mpire_worker_context_finalize;
}

static void
mpire_worker_context_init (MpireWorkerContext *self)
{
  self->worker_id = -1;
}

MpireWorkerContext *
mpire_worker_context_new (int       worker_id,
                          gboolean  pass_worker_id,
                          GVariant *shared_objects,
                          gboolean  use_worker_state)
{
  MpireWorkerContext *self = g_object_new (MPIRE_TYPE_WORKER_CONTEXT, NULL);

  self->worker_id = pass_worker_id ? worker_id : -1;
  self->shared_objects = shared_objects != NULL ? g_variant_ref_sink (shared_objects) : NULL;
  self->use_worker_state = use_worker_state;

  return self;
}

/**
 * mpire_worker_context_get_worker_id:
 * @self: a worker context
 *
 * Gets the id of the worker: 0 for the first worker of the pool, 1 for
 * the second, and so on. As in MPIRE, the id is only passed on when the
 * pool's [property@Mpire.WorkerPool:pass-worker-id] is set; otherwise
 * this returns -1.
 *
 * Returns: the worker id, or -1
 *
 * Since: 0.1
 */
int
mpire_worker_context_get_worker_id (MpireWorkerContext *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_CONTEXT (self), -1);

  return self->worker_id;
}

/**
 * mpire_worker_context_get_shared_objects:
 * @self: a worker context
 *
 * Gets the pool's [property@Mpire.WorkerPool:shared-objects].
 *
 * With %MPIRE_START_METHOD_FORK and
 * %MPIRE_START_METHOD_THREADING this is the very value the pool
 * holds (copy-on-write after a fork); with
 * %MPIRE_START_METHOD_SPAWN and %MPIRE_START_METHOD_FORKSERVER
 * it was sent to the worker once.
 *
 * Returns: (transfer none) (nullable): the shared objects, or %NULL
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_context_get_shared_objects (MpireWorkerContext *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_CONTEXT (self), NULL);

  return self->shared_objects;
}

/**
 * mpire_worker_context_get_state:
 * @self: a worker context
 *
 * Gets the worker state last set with
 * [method@Mpire.WorkerContext.set_state] by a task of this worker.
 *
 * Returns: (transfer none) (nullable): the worker state, or %NULL if
 *   none was set or [property@Mpire.WorkerPool:use-worker-state] is off
 *
 * Since: 0.1
 */
GVariant *
mpire_worker_context_get_state (MpireWorkerContext *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_CONTEXT (self), NULL);

  return self->state;
}

/**
 * mpire_worker_context_set_state:
 * @self: a worker context
 * @state: (nullable): the new worker state
 *
 * Replaces the worker state. The state belongs to this worker alone and
 * lives as long as the worker, across tasks and, with
 * [property@Mpire.WorkerPool:keep-alive], across map calls.
 *
 * It is a programming error to call this when the pool's
 * [property@Mpire.WorkerPool:use-worker-state] is off.
 *
 * Since: 0.1
 */
void
mpire_worker_context_set_state (MpireWorkerContext *self,
                                GVariant           *state)
{
  g_return_if_fail (MPIRE_IS_WORKER_CONTEXT (self));
  g_return_if_fail (self->use_worker_state);

  if (state != NULL)
    g_variant_ref_sink (state);
  g_clear_pointer (&self->state, g_variant_unref);
  self->state = state;
}
