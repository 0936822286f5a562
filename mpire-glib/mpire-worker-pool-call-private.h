/* mpire-worker-pool-call-private.h: how a call of the pool starts
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-map-job-private.h"
#include "mpire-scheduler-private.h"
#include "mpire-worker-pool.h"

G_BEGIN_DECLS

/* In mpire-worker-pool.c, for the map family (mpire-worker-pool-map.c)
 * and the apply methods: checks the call against the pool's settings
 * and makes its job, claiming the pool for it. */
MpireMapJob *mpire_worker_pool_begin_call (MpireWorkerPool  *self,
                                           MpireTask        *task,
                                           GVariant         *iterable,
                                           MpireMapOptions  *options,
                                           gboolean          ordered,
                                           gboolean          collect,
                                           gboolean          apply,
                                           GError          **error);

/* In mpire-worker-pool.c, for the pool's other files. */
MpireScheduler *mpire_worker_pool_get_scheduler (MpireWorkerPool *self);

G_END_DECLS
