/* mpire-shared-ring.c: large frame bodies through shared memory
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <sys/mman.h>

#include <gio/gio.h>

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-shared-ring-private.h"

/* The shared part, at the start of the ring's memory. */
typedef struct
{
  guint64 released;   /* written by the reading end: all before it is free */
} Header;

G_STATIC_ASSERT (sizeof (Header) <= MPIRE_SHARED_RING_HEADER_SIZE);

/* A region the reading end took and has not yet handed back. */
typedef struct
{
  MpireSharedRing *ring;
  guint64          end;
  gboolean         released;
} Region;

struct _MpireSharedRing
{
  gatomicrefcount  ref_count;
  guint8          *map;
  gsize            map_len;
  Header          *header;
  guint8          *data;
  gsize            capacity;

  /* writing end */
  guint64          head;     /* where the next region may start */

  /* reading end; bodies may be freed in any thread */
  GMutex           lock;
  GQueue           regions;  /* Region, in the order taken */
  guint64          seen;     /* end of the last region taken */
};

/* Regions start on 8 bytes, the strictest alignment GVariant needs. */
static guint64
region_end (guint64 position,
            gsize   len)
{
  return position + ((len + 7) & ~(guint64) 7);
}

/* Maps the ring of @capacity bytes (a multiple of 8) that starts at
 * @offset (page aligned) in the shared memory @fd. The view does not own
 * @fd. Returns %NULL if it cannot be mapped. */
MpireSharedRing *
mpire_shared_ring_map (int     fd,
                       goffset offset,
                       gsize   capacity)
{
  MpireSharedRing *self;
  gsize map_len = MPIRE_SHARED_RING_MEMORY_SIZE (capacity);
  void *map = mmap (NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);

  if (map == MAP_FAILED)
    return NULL;

  self = g_new0 (MpireSharedRing, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->map = map;
  self->map_len = map_len;
  self->header = map;
  self->data = self->map + MPIRE_SHARED_RING_HEADER_SIZE;
  self->capacity = capacity;
  self->head = __atomic_load_n (&self->header->released, __ATOMIC_ACQUIRE);
  self->seen = self->head;
  g_mutex_init (&self->lock);
  g_queue_init (&self->regions);
  return self;
}

MpireSharedRing *
mpire_shared_ring_ref (MpireSharedRing *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
mpire_shared_ring_unref (MpireSharedRing *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_assert (g_queue_is_empty (&self->regions));
  g_mutex_clear (&self->lock);
  munmap (self->map, self->map_len);
  g_free (self);
}

/* Takes a region of @len bytes for a body to send, if the ring has room
 * for it now; returns where to write it, and its @position to send, or
 * %NULL (the caller then sends the body through the socket). */
guint8 *
mpire_shared_ring_reserve (MpireSharedRing *self,
                           gsize            len,
                           guint64         *position)
{
  guint64 released = __atomic_load_n (&self->header->released, __ATOMIC_ACQUIRE);
  guint64 start = self->head;

  if (len == 0 || len > self->capacity)
    return NULL;

  /* Empty: start again at the beginning. Otherwise the region follows
   * the last one, or starts the next lap if it would wrap. */
  if (released == self->head || start % self->capacity + len > self->capacity)
    start += (self->capacity - start % self->capacity) % self->capacity;
  if (released != self->head && region_end (start, len) > released + self->capacity)
    return NULL;

  self->head = region_end (start, len);
  *position = start;
  return self->data + start % self->capacity;
}

static void
release_region (gpointer data)
{
  Region *region = data;
  MpireSharedRing *ring = region->ring;
  Region *first;
  guint64 released = 0;

  g_mutex_lock (&ring->lock);
  region->released = TRUE;
  while ((first = g_queue_peek_head (&ring->regions)) != NULL && first->released)
    {
      released = first->end;
      g_free (g_queue_pop_head (&ring->regions));
    }
  if (released != 0)
    __atomic_store_n (&ring->header->released, released, __ATOMIC_RELEASE);
  g_mutex_unlock (&ring->lock);

  mpire_shared_ring_unref (ring);
}

/* The body the writing end put at @position: bytes that stay valid, in
 * place, until their last reference goes. Fails if the writing end sent
 * a region that cannot be one. */
GBytes *
mpire_shared_ring_take (MpireSharedRing  *self,
                        guint64           position,
                        gsize             len,
                        GError          **error)
{
  Region *region;

  /* A region past 2^64 - capacity would end past 2^64: its end would
   * wrap, and with it what the reader has seen. */
  g_mutex_lock (&self->lock);
  if (len == 0 || len > self->capacity || position < self->seen ||
      position > G_MAXUINT64 - self->capacity ||
      position % self->capacity + len > self->capacity)
    {
      g_mutex_unlock (&self->lock);
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("Received a message whose body would be at bytes %llu to %llu of "
                     "the shared memory, which cannot be read"),
                   (unsigned long long) position, (unsigned long long) (position + len));
      return NULL;
    }

  region = g_new (Region, 1);
  region->ring = mpire_shared_ring_ref (self);
  region->end = region_end (position, len);
  region->released = FALSE;
  g_queue_push_tail (&self->regions, region);
  self->seen = region->end;
  g_mutex_unlock (&self->lock);

  return g_bytes_new_with_free_func (self->data + position % self->capacity, len,
                                     release_region, region);
}
