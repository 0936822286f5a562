/* mpire-worker-link-private.h: the pool's end of one worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <gio/gio.h>

#include "mpire-backend-private.h"
#include "mpire-enums.h"
#include "mpire-heartbeat-private.h"
#include "mpire-protocol-private.h"

G_BEGIN_DECLS

typedef struct _MpireWorkerLink MpireWorkerLink;

/* Called in the pool thread with the pool's lock held. */
typedef struct
{
  void (*frame)  (MpireWorkerLink *link, MpireMessageKind kind, GVariant *body, gpointer data);
  void (*broken) (MpireWorkerLink *link, const GError *error, gpointer data);
  void (*gone)   (MpireWorkerLink *link, int wait_status, gpointer data);
} MpireWorkerLinkCallbacks;

/* A link starts with the lock held by the caller; it then lives in the
 * pool's context. Every function takes the pool's lock as held. */
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
gboolean         mpire_worker_link_is_process  (MpireWorkerLink *self);
gboolean         mpire_worker_link_send        (MpireWorkerLink   *self,
                                                MpireMessageKind   kind,
                                                GVariant          *body,
                                                GError           **error);
void             mpire_worker_link_stop        (MpireWorkerLink *self);
gboolean         mpire_worker_link_is_stopping (MpireWorkerLink *self);
void             mpire_worker_link_kill        (MpireWorkerLink *self);
gboolean         mpire_worker_link_is_killed   (MpireWorkerLink *self);
GQueue          *mpire_worker_link_get_chunks  (MpireWorkerLink *self);
MpireHeartbeat  *mpire_worker_link_get_heartbeat (MpireWorkerLink *self);
guint64          mpire_worker_link_count_tasks (MpireWorkerLink *self,
                                                guint64          n_done);
void             mpire_worker_link_free        (MpireWorkerLink *self);

G_END_DECLS
