/* mpire-worker-memory.c: the memory a pool shares with a worker
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-worker-memory-private.h"

/* Room for two chunks in flight of a million 8-byte elements each, and
 * more; pages no frame reached cost nothing. */
#define RING_CAPACITY    ((gsize) 32 << 20)
#define HEARTBEAT_SIZE   4096
#define TO_WORKER_AT     HEARTBEAT_SIZE
#define FROM_WORKER_AT   (TO_WORKER_AT + MPIRE_SHARED_RING_MEMORY_SIZE (RING_CAPACITY))
#define MEMORY_SIZE      (FROM_WORKER_AT + MPIRE_SHARED_RING_MEMORY_SIZE (RING_CAPACITY))

/* A new, zeroed memfd for one worker, which the caller owns. */
int
mpire_worker_memory_create (GError **error)
{
  int fd = memfd_create ("mpire-worker", MFD_CLOEXEC);

  if (fd < 0 || ftruncate (fd, MEMORY_SIZE) < 0)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not create the memory shared with a worker: %s"),
                   g_strerror (saved_errno));
      return -1;
    }
  return fd;
}

/* This end's view of the memory of @fd, which it does not own; %NULL if
 * it cannot be mapped. */
MpireWorkerMemory *
mpire_worker_memory_map (int fd)
{
  g_autoptr(MpireWorkerMemory) self = g_new0 (MpireWorkerMemory, 1);

  self->heartbeat = mpire_heartbeat_map_fd (fd);
  self->to_worker = mpire_shared_ring_map (fd, TO_WORKER_AT, RING_CAPACITY);
  self->from_worker = mpire_shared_ring_map (fd, FROM_WORKER_AT, RING_CAPACITY);
  if (self->heartbeat == NULL || self->to_worker == NULL || self->from_worker == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

void
mpire_worker_memory_free (MpireWorkerMemory *self)
{
  g_clear_pointer (&self->heartbeat, mpire_heartbeat_free);
  g_clear_pointer (&self->to_worker, mpire_shared_ring_unref);
  g_clear_pointer (&self->from_worker, mpire_shared_ring_unref);
  g_free (self);
}
