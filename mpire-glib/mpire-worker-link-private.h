/* mpire-worker-link-private.h: the pool's end of one worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <gio/gio.h>

#include "mpire-backend-private.h"
#include "mpire-chunk-private.h"
#include "mpire-enums.h"
#include "mpire-heartbeat-private.h"
#include "mpire-protocol-private.h"

G_BEGIN_DECLS

typedef struct _MpireWorkerLink MpireWorkerLink;

/* Called in the pool thread with the scheduler's lock held. */
typedef struct
{
  void (*frame)  (MpireWorkerLink *link, MpireMessageKind kind, GVariant *body, gpointer data);
  void (*broken) (MpireWorkerLink *link, const GError *error, gpointer data);
  void (*gone)   (MpireWorkerLink *link, int wait_status, gpointer data);
} MpireWorkerLinkCallbacks;

/* A link starts with the lock held by the caller; it then lives in the
 * pool's context. Every function takes the scheduler's lock as held. */
MpireWorkerLink *mpire_worker_link_start       (MpireStartMethod                method,
                                                const MpireWorkerStartInfo     *info,
                                                GMutex                         *lock,
                                                GMainContext                   *context,
                                                const MpireWorkerLinkCallbacks *callbacks,
                                                gpointer                        data,
                                                GError                        **error);
int              mpire_worker_link_get_id      (MpireWorkerLink *self);
int              mpire_worker_link_get_fd      (MpireWorkerLink *self);
gint64           mpire_worker_link_get_start_time (MpireWorkerLink *self);
gint64           mpire_worker_link_get_clock_offset (MpireWorkerLink *self);
char            *mpire_worker_link_describe_end (MpireWorkerLink *self,
                                                 int              wait_status);
gboolean         mpire_worker_link_never_reached (MpireWorkerLink *self);
gboolean         mpire_worker_link_is_process  (MpireWorkerLink *self);
gboolean         mpire_worker_link_send        (MpireWorkerLink   *self,
                                                MpireMessageKind   kind,
                                                GVariant          *body,
                                                GError           **error);
void             mpire_worker_link_stop        (MpireWorkerLink *self);
gboolean         mpire_worker_link_is_stopping (MpireWorkerLink *self);
void             mpire_worker_link_kill        (MpireWorkerLink *self);
gboolean         mpire_worker_link_is_killed   (MpireWorkerLink *self);
void             mpire_worker_link_send_chunk  (MpireWorkerLink *self,
                                                MpireChunk      *chunk);
guint            mpire_worker_link_get_n_chunks (MpireWorkerLink *self);
MpireChunk      *mpire_worker_link_peek_chunk  (MpireWorkerLink *self);
MpireChunk      *mpire_worker_link_take_chunk  (MpireWorkerLink *self);
MpireChunk      *mpire_worker_link_take_answered_chunk (MpireWorkerLink  *self,
                                                        guint64           id,
                                                        GError          **error);
guint64          mpire_worker_link_died_in_lifecycle_task (MpireWorkerLink *self);
void             mpire_worker_link_untake_chunk (MpireWorkerLink *self,
                                                 MpireChunk      *chunk);
MpireChunk      *mpire_worker_link_take_last_chunk (MpireWorkerLink *self);
gboolean         mpire_worker_link_drop_chunks_of (MpireWorkerLink *self,
                                                   gpointer         job);
guint64          mpire_worker_link_count_tasks_given (MpireWorkerLink *self);
void             mpire_worker_link_set_task_timeout (MpireWorkerLink *self,
                                                     gint64           timeout);
gint64           mpire_worker_link_get_task_timeout (MpireWorkerLink *self);
MpireHeartbeat  *mpire_worker_link_get_heartbeat (MpireWorkerLink *self);
void             mpire_worker_link_count_tasks (MpireWorkerLink *self,
                                                guint64          n_done);
gboolean         mpire_worker_link_abandon     (MpireWorkerLink *self);
void             mpire_worker_link_free        (MpireWorkerLink *self);

G_END_DECLS
