/* mpire-backend-threading.c: workers that are threads of the caller
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-backend-private.h"
#include "mpire-worker-private.h"

/* A thread cannot be killed: the link asks it to stop in its heartbeat
 * and shuts its end of the channel down instead, so that the worker
 * stops after the task it is running, without beginning the tasks it was
 * sent before.
 *
 * The struct outlives the thread: the link frees it once the thread was
 * joined. The thread uses only it and what it holds its own references
 * to (shared objects, the pool's context) or owns (its channel end, its
 * mapping of the shared memory, the chunk it runs), so nothing it uses
 * goes while it runs, even when a timed-out task runs on past the call
 * or the process exits. A thread abandoned (past a timeout, the pool
 * waits for it no more) frees the struct itself when it ends. */
typedef struct
{
  GMutex        lock;
  GThread      *thread;
  int           fd;
  GVariant     *shared_objects;
  int           memory_fd;
  cpu_set_t     cpus;
  gboolean      pinned;
  gboolean      done;
  gboolean      abandoned; /* nobody waits for it: it frees itself */
  GMainContext *context;
  void        (*exited) (int wait_status, gpointer data);
  gpointer      data;
} ThreadWorker;

static gboolean
report_exit (gpointer user_data)
{
  ThreadWorker *worker = user_data;

  g_thread_join (g_steal_pointer (&worker->thread));
  worker->exited (0, worker->data);
  return G_SOURCE_REMOVE;
}

static void
post_exit (ThreadWorker *worker)
{
  mpire_backend_post_exit (worker->context, report_exit, worker, "[mpire] thread worker exit");
}

static void
thread_worker_free (ThreadWorker *worker)
{
  g_assert (worker->thread == NULL);
  g_clear_pointer (&worker->shared_objects, g_variant_unref);
  g_clear_pointer (&worker->context, g_main_context_unref);
  g_mutex_clear (&worker->lock);
  g_free (worker);
}

static gpointer
thread_main (gpointer user_data)
{
  ThreadWorker *worker = user_data;

  /* 0: the calling thread. */
  if (worker->pinned)
    sched_setaffinity (0, sizeof (cpu_set_t), &worker->cpus);
  mpire_worker_serve (worker->fd, worker->shared_objects, worker->memory_fd, TRUE);

  g_mutex_lock (&worker->lock);
  worker->done = TRUE;
  if (worker->abandoned)
    {
      g_mutex_unlock (&worker->lock);
      /* Not joined: its resources go when it returns. */
      g_thread_unref (g_steal_pointer (&worker->thread));
      thread_worker_free (worker);
      return NULL;
    }
  if (worker->exited != NULL)
    post_exit (worker);
  g_mutex_unlock (&worker->lock);

  return NULL;
}

static gpointer
threading_start (const MpireWorkerStartInfo  *info,
                 int                          child_fd,
                 GError                     **error)
{
  ThreadWorker *worker = g_new0 (ThreadWorker, 1);
  g_autofree char *name = g_strdup_printf ("mpire-worker-%d", info->worker_id);

  g_mutex_init (&worker->lock);
  worker->fd = child_fd;
  worker->memory_fd = info->memory_fd;
  if (info->cpus != NULL)
    {
      worker->cpus = *info->cpus;
      worker->pinned = TRUE;
    }
  worker->shared_objects = info->shared_objects != NULL ? g_variant_ref (info->shared_objects) : NULL;
  worker->thread = g_thread_try_new (name, thread_main, worker, error);
  if (worker->thread == NULL)
    {
      g_clear_pointer (&worker->shared_objects, g_variant_unref);
      g_mutex_clear (&worker->lock);
      g_free (worker);
      return NULL;
    }

  return worker;
}

static void
threading_watch (gpointer       handle,
                 GMainContext  *context,
                 void         (*exited) (int wait_status, gpointer data),
                 gpointer       data)
{
  ThreadWorker *worker = handle;

  g_mutex_lock (&worker->lock);
  worker->context = g_main_context_ref (context);
  worker->exited = exited;
  worker->data = data;
  if (worker->done)
    post_exit (worker);
  g_mutex_unlock (&worker->lock);
}

static void
threading_kill (gpointer handle)
{
}

static void
threading_free (gpointer handle)
{
  thread_worker_free (handle);
}

static gboolean
threading_abandon (gpointer handle)
{
  ThreadWorker *worker = handle;
  gboolean running;

  g_mutex_lock (&worker->lock);
  running = !worker->done;
  worker->abandoned = running;
  g_mutex_unlock (&worker->lock);
  return running;
}

const MpireBackend *
mpire_backend_threading (void)
{
  static const MpireBackend backend = {
    threading_start, threading_watch, threading_kill, threading_free, threading_abandon, FALSE,
  };

  return &backend;
}
