/* mpire-heartbeat-private.h: what a worker is running, seen by its pool
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A page shared by a worker and its pool (the first page of their
 * memory, see mpire-worker-memory-private.h). The worker writes which task
 * it is running, and since when if it is timed, with no system call; the
 * pool reads it to enforce task timeouts and, once the worker died, to
 * know which task it died in. */
typedef struct _MpireHeartbeat MpireHeartbeat;

/* Chunk ids that stand for a worker's init and exit tasks. */
#define MPIRE_HEARTBEAT_WORKER_INIT G_MAXUINT64
#define MPIRE_HEARTBEAT_WORKER_EXIT (G_MAXUINT64 - 1)

MpireHeartbeat *mpire_heartbeat_map_fd     (int               fd);
void            mpire_heartbeat_free       (MpireHeartbeat   *self);

/* worker side */
void            mpire_heartbeat_task_start (MpireHeartbeat   *self,
                                            guint64           chunk_id,
                                            guint32           index,
                                            gboolean          timed);
void            mpire_heartbeat_task_end   (MpireHeartbeat   *self);
gboolean        mpire_heartbeat_stop_requested (MpireHeartbeat *self);

/* pool side: whether a task is running, which, and since when */
gboolean        mpire_heartbeat_read       (MpireHeartbeat   *self,
                                            guint64          *chunk_id,
                                            guint32          *index,
                                            gint64           *started);
guint64         mpire_heartbeat_last_task  (MpireHeartbeat   *self,
                                            guint32          *index);
void            mpire_heartbeat_request_stop (MpireHeartbeat *self);

G_END_DECLS
