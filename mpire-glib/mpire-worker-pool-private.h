/* mpire-worker-pool-private.h: what a job asks of its pool
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-insights-private.h"
#include "mpire-map-job-private.h"
#include "mpire-worker-pool.h"

G_BEGIN_DECLS

GMutex  *mpire_worker_pool_get_lock      (MpireWorkerPool  *self);
guint64  mpire_worker_pool_next_job_id   (MpireWorkerPool  *self);
gboolean mpire_worker_pool_start_workers (MpireWorkerPool  *self,
                                          MpireMapJob      *job,
                                          gboolean          starting,
                                          gboolean          more_to_come,
                                          GError          **error);
void     mpire_worker_pool_submit        (MpireWorkerPool  *self,
                                          MpireChunk       *chunk);
void     mpire_worker_pool_submit_locked (MpireWorkerPool  *self,
                                          MpireChunk       *chunk);
void     mpire_worker_pool_submit_done   (MpireWorkerPool  *self,
                                          MpireMapJob      *job);
void     mpire_worker_pool_submit_done_locked (MpireWorkerPool *self,
                                               MpireMapJob     *job);
gboolean mpire_worker_pool_release       (MpireWorkerPool  *self,
                                          MpireMapJob      *job,
                                          gboolean          abort);
void     mpire_worker_pool_forget_job    (MpireWorkerPool  *self,
                                          MpireMapJob      *job);
MpireInsights *mpire_worker_pool_peek_insights (MpireWorkerPool *self);

/* Signals, emitted by a job in its context. */
void     mpire_worker_pool_emit_progress    (MpireWorkerPool *self,
                                             gint64           done,
                                             gint64           total);
void     mpire_worker_pool_emit_task_failed (MpireWorkerPool *self,
                                             const GError    *error,
                                             GVariant        *args);
void     mpire_worker_pool_emit_finished    (MpireWorkerPool *self);
void     mpire_worker_pool_emit_worker      (MpireWorkerPool *self,
                                             MpireJobEvent    event,
                                             int              worker_id,
                                             const GError    *error);

G_END_DECLS
