/* mpire-map-job-private.h: one call of the map family
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <gio/gio.h>

#include "mpire-map-options.h"
#include "mpire-scheduler-private.h"
#include "mpire-task.h"

G_BEGIN_DECLS

typedef struct _MpireMapJob MpireMapJob;

/* How a job tells its pool's signals, in the job's context. */
typedef struct
{
  void (*progress)     (GObject       *pool,
                        gint64         done,
                        gint64         total);
  void (*task_failed)  (GObject       *pool,
                        const GError  *error,
                        GVariant      *args);
  void (*finished)     (GObject       *pool);
  void (*worker_event) (GObject       *pool,
                        MpireJobEvent  event,
                        int            worker_id,
                        const GError  *error);
} MpireMapJobSignals;

/* Called in the job's context whenever results are ready or the job
 * finished. */
typedef void (*MpireMapJobNotify) (MpireMapJob *job,
                                   gpointer     data);

gint64       mpire_timeout_usec         (double              seconds);
MpireMapJob *mpire_map_job_new          (MpireScheduler     *scheduler,
                                         GObject            *pool,
                                         const MpireMapJobSignals *signals,
                                         MpireTask          *task,
                                         GVariant           *iterable,
                                         MpireMapOptions    *options,
                                         gboolean            ordered,
                                         gboolean            collect,
                                         int                 n_jobs,
                                         GError            **error);
MpireMapJob *mpire_map_job_new_apply    (MpireScheduler     *scheduler,
                                         GObject            *pool,
                                         const MpireMapJobSignals *signals,
                                         MpireTask          *task,
                                         MpireMapOptions    *options,
                                         int                 n_jobs,
                                         GError            **error);
gboolean     mpire_map_job_claim        (MpireMapJob        *job,
                                         const MpireSchedulerCall *call,
                                         GError            **error);
gboolean     mpire_map_job_add_apply    (MpireMapJob        *job,
                                         MpireTask          *task,
                                         GVariant           *args,
                                         double              timeout,
                                         GObject            *result);
MpireMapJob *mpire_map_job_ref          (MpireMapJob        *job);
void         mpire_map_job_unref        (MpireMapJob        *job);
void         mpire_map_job_start        (MpireMapJob        *job,
                                         GCancellable       *cancellable,
                                         MpireMapJobNotify   notify,
                                         gpointer            data);
GMainContext *mpire_map_job_get_context (MpireMapJob        *job);
gboolean     mpire_map_job_is_finished  (MpireMapJob        *job);
typedef enum {
  MPIRE_JOB_NEXT_ITEM,
  MPIRE_JOB_NEXT_WAIT,
  MPIRE_JOB_NEXT_END,
  MPIRE_JOB_NEXT_ERROR,
} MpireJobNext;

MpireJobNext mpire_map_job_next         (MpireMapJob        *job,
                                         GVariant          **item,
                                         gint64             *index,
                                         GError            **error);
GVariant    *mpire_map_job_collect      (MpireMapJob        *job,
                                         GError            **error);
void         mpire_map_job_fail         (MpireMapJob        *job,
                                         GError             *error);
gint64       mpire_map_job_get_n_pulled (MpireMapJob        *job);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireMapJob, mpire_map_job_unref)

G_END_DECLS
