/* mpire-worker-memory-private.h: the memory a pool shares with a worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

#include "mpire-heartbeat-private.h"
#include "mpire-shared-ring-private.h"

G_BEGIN_DECLS

/* One memfd per worker, which each end maps: the heartbeat's page, then
 * a ring for the bodies of large frames to the worker (chunks of tasks),
 * then one for those from it (their results). The rings' pages are only
 * used once a frame needs them. */
typedef struct
{
  MpireHeartbeat  *heartbeat;
  MpireSharedRing *to_worker;
  MpireSharedRing *from_worker;
} MpireWorkerMemory;

int                mpire_worker_memory_create (GError            **error);
MpireWorkerMemory *mpire_worker_memory_map    (int                 fd);
void               mpire_worker_memory_free   (MpireWorkerMemory  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireWorkerMemory, mpire_worker_memory_free)

G_END_DECLS
