/* mpire-shared-ring-private.h: large frame bodies through shared memory
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A ring of byte regions in memory that two ends of a channel share (a
 * memfd mapped by both processes, or twice by one for a thread): one end
 * writes a frame's body into a region and sends only where it is; the
 * other reads it in place, with no copy through the socket, and releases
 * it when the last reference to the body goes. Regions are taken and
 * released in the order they were sent (a region released early waits
 * for those before it).
 *
 * Positions count bytes written since the ring began; a region never
 * wraps around the end of the ring. When the ring is empty, the next
 * region starts at the ring's beginning, so that a channel that sends
 * one chunk at a time keeps using the same pages.
 *
 * Each process maps its own view of a ring; a view is either the writing
 * end or the reading end. Views are reference counted: a body being read
 * keeps the mapping alive after its channel is gone. */
typedef struct _MpireSharedRing MpireSharedRing;

/* Bytes of shared memory a ring of @capacity bytes of bodies needs: a
 * page for its header, so that what follows stays page aligned. */
#define MPIRE_SHARED_RING_HEADER_SIZE 4096
#define MPIRE_SHARED_RING_MEMORY_SIZE(capacity) (MPIRE_SHARED_RING_HEADER_SIZE + (capacity))

MpireSharedRing *mpire_shared_ring_map     (int                fd,
                                            goffset            offset,
                                            gsize              capacity);
MpireSharedRing *mpire_shared_ring_ref     (MpireSharedRing   *self);
void             mpire_shared_ring_unref   (MpireSharedRing   *self);

/* writing end */
guint8          *mpire_shared_ring_reserve (MpireSharedRing   *self,
                                            gsize              len,
                                            guint64           *position);

/* reading end */
GBytes          *mpire_shared_ring_take    (MpireSharedRing   *self,
                                            guint64            position,
                                            gsize              len,
                                            GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireSharedRing, mpire_shared_ring_unref)

G_END_DECLS
