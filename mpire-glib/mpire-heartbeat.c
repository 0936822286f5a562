/* mpire-heartbeat.c: what a worker is running, seen by its pool
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <sys/mman.h>

#include <gio/gio.h>

#include "mpire-heartbeat-private.h"

typedef struct
{
  gint64  started;    /* monotonic µs when the task started; 0: no task */
  guint64 chunk_id;
  guint32 index;
  gint32  stop;       /* the pool asks the worker to stop before its next task */
} Beat;

struct _MpireHeartbeat
{
  Beat *beat;         /* in the shared page */
};

#define PAGE_SIZE_USED (sizeof (Beat))

/* Maps the first page of the shared memory @fd (which it does not own). */
MpireHeartbeat *
mpire_heartbeat_map_fd (int fd)
{
  MpireHeartbeat *self;
  void *page = mmap (NULL, PAGE_SIZE_USED, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

  if (page == MAP_FAILED)
    return NULL;

  self = g_new0 (MpireHeartbeat, 1);
  self->beat = page;
  return self;
}

void
mpire_heartbeat_free (MpireHeartbeat *self)
{
  munmap (self->beat, PAGE_SIZE_USED);
  g_free (self);
}

/* Two plain stores, and a clock read only when the task is @timed. */
void
mpire_heartbeat_task_start (MpireHeartbeat *self,
                            guint64         chunk_id,
                            guint32         index,
                            gboolean        timed)
{
  __atomic_store_n (&self->beat->chunk_id, chunk_id, __ATOMIC_RELAXED);
  __atomic_store_n (&self->beat->index, index, __ATOMIC_RELAXED);
  if (timed)
    __atomic_store_n (&self->beat->started, g_get_monotonic_time (), __ATOMIC_RELEASE);
}

void
mpire_heartbeat_task_end (MpireHeartbeat *self)
{
  if (__atomic_load_n (&self->beat->started, __ATOMIC_RELAXED) == 0)
    return;
  __atomic_store_n (&self->beat->started, 0, __ATOMIC_RELEASE);
}

/* A worker thread cannot be killed: the pool asks it to stop once the
 * task it runs returns. */
void
mpire_heartbeat_request_stop (MpireHeartbeat *self)
{
  __atomic_store_n (&self->beat->stop, 1, __ATOMIC_RELAXED);
}

/* One plain load, between two tasks. */
gboolean
mpire_heartbeat_stop_requested (MpireHeartbeat *self)
{
  return __atomic_load_n (&self->beat->stop, __ATOMIC_RELAXED) != 0;
}

/* A consistent read: the task did not change while it was read. */
gboolean
mpire_heartbeat_read (MpireHeartbeat *self,
                      guint64        *chunk_id,
                      guint32        *index,
                      gint64         *started)
{
  for (int tries = 0; tries < 100; tries++)
    {
      gint64 before = __atomic_load_n (&self->beat->started, __ATOMIC_ACQUIRE);

      if (before == 0)
        return FALSE;
      *chunk_id = __atomic_load_n (&self->beat->chunk_id, __ATOMIC_RELAXED);
      *index = __atomic_load_n (&self->beat->index, __ATOMIC_RELAXED);
      if (__atomic_load_n (&self->beat->started, __ATOMIC_ACQUIRE) == before)
        {
          *started = before;
          return TRUE;
        }
    }
  return FALSE;
}

/* The last task a worker that is gone began: its chunk's id (0 if it
 * began none) and its @index in that chunk. */
guint64
mpire_heartbeat_last_task (MpireHeartbeat *self,
                           guint32        *index)
{
  guint64 chunk_id = __atomic_load_n (&self->beat->chunk_id, __ATOMIC_ACQUIRE);

  *index = __atomic_load_n (&self->beat->index, __ATOMIC_RELAXED);
  return chunk_id;
}
