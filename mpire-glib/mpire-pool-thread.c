/* mpire-pool-thread.c: the thread a pool does its I/O on, and its
 * parking while workers are forked
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-pool-thread-private.h"

/* The thread runs the pool's main context: the links of the workers read
 * their frames there, their exits are reaped there, and timeouts are
 * checked there. Its states (`state`):
 *
 *   THREAD_NONE ──ensure_running()──▶ THREAD_RUNNING
 *   THREAD_RUNNING ──park()──▶ THREAD_PARK_ASKED ──parked_cb()──▶
 *     THREAD_PARKED ──unpark()──▶ THREAD_RUNNING
 *   any ──free()──▶ THREAD_NONE
 *
 * fork() copies only the forking thread: a lock that another thread
 * holds at that moment stays locked for ever in the child (ASan's
 * allocator, unlike glibc's malloc, has no fork handler). So the pool's
 * thread waits on a condition while workers are forked, and the first
 * workers are forked before it starts: its context exists before it.
 *
 * The state is guarded by the scheduler's lock, which park() and
 * unpark() are called with; its condition tells the state's changes. */

typedef enum {
  THREAD_NONE,
  THREAD_RUNNING,
  THREAD_PARK_ASKED,
  THREAD_PARKED,
} ThreadState;

struct _MpirePoolThread
{
  GMutex       *lock;      /* the scheduler's */
  GCond        *cond;      /* the scheduler's */
  ThreadState   state;
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
};

MpirePoolThread *
mpire_pool_thread_new (GMutex *lock,
                       GCond  *cond)
{
  MpirePoolThread *self = g_new0 (MpirePoolThread, 1);

  self->lock = lock;
  self->cond = cond;
  return self;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Called without the lock: the thread may be waiting for it. The loop
 * is quit from a source of its own: g_main_loop_quit() before the thread
 * reached g_main_loop_run() (a pool freed just after its first workers
 * failed to start) would be undone by it, and the join would wait
 * forever. */
void
mpire_pool_thread_free (MpirePoolThread *self)
{
  if (self->thread != NULL)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_HIGH);
      g_source_set_callback (source, quit_cb, self->loop, NULL);
      g_source_set_static_name (source, "[mpire] quit pool thread");
      g_source_attach (source, self->context);
      g_thread_join (self->thread);
    }
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self);
}

static gpointer
pool_thread_main (gpointer data)
{
  MpirePoolThread *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* The pool's main context, made at first need, before the thread. */
GMainContext *
mpire_pool_thread_get_context (MpirePoolThread *self)
{
  if (self->context == NULL)
    {
      self->context = g_main_context_new ();
      self->loop = g_main_loop_new (self->context, FALSE);
    }
  return self->context;
}

void
mpire_pool_thread_ensure_running (MpirePoolThread *self)
{
  mpire_pool_thread_get_context (self);
  if (self->state != THREAD_NONE)
    return;
  self->state = THREAD_RUNNING;
  self->thread = g_thread_new ("mpire-pool", pool_thread_main, self);
}

/* The thread waits here while workers are forked. A park that was taken
 * back before this ran leaves at once. */
static gboolean
parked_cb (gpointer data)
{
  MpirePoolThread *self = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (self->lock);

  if (self->state != THREAD_PARK_ASKED)
    return G_SOURCE_REMOVE;
  self->state = THREAD_PARKED;
  g_cond_broadcast (self->cond);
  while (self->state == THREAD_PARKED)
    g_cond_wait (self->cond, self->lock);
  return G_SOURCE_REMOVE;
}

/* With the lock held: returns once the thread waits, or at once (FALSE)
 * if it does not run. */
gboolean
mpire_pool_thread_park (MpirePoolThread *self)
{
  g_autoptr(GSource) source = NULL;

  if (self->state != THREAD_RUNNING)
    return FALSE;

  source = g_idle_source_new ();
  self->state = THREAD_PARK_ASKED;
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, parked_cb, self, NULL);
  g_source_set_static_name (source, "[mpire] park for fork");
  g_source_attach (source, self->context);
  while (self->state != THREAD_PARKED)
    g_cond_wait (self->cond, self->lock);
  return TRUE;
}

/* With the lock held, after a park that returned TRUE. */
void
mpire_pool_thread_unpark (MpirePoolThread *self)
{
  self->state = THREAD_RUNNING;
  g_cond_broadcast (self->cond);
}
