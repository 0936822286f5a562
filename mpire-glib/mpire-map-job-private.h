/* mpire-map-job-private.h: one call of the map family
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <gio/gio.h>

#include "mpire-map-options.h"
#include "mpire-task.h"

G_BEGIN_DECLS

typedef struct _MpireWorkerPool MpireWorkerPool;
typedef struct _MpireMapJob MpireMapJob;

/* A chunk of tasks on its way to a worker. Owned by the pool from
 * submission until its results or its failure are posted to the job. */
typedef struct
{
  MpireMapJob *job;        /* weak: a job takes its chunks back when it ends */
  guint64      id;
  gint64       index;      /* position of the chunk in the call */
  gint64       first;      /* position of its first task in the input */
  gsize        n_tasks;
  GVariant    *args;       /* array of the tasks' arguments */
  gboolean     boxed;      /* args is `av` wrapping each task's arguments */
  gboolean     whole;      /* the task takes all args at once (array-chunks) */
  GVariant    *body;       /* of its TASKS message */
  GObject     *tag;        /* apply: the task's MpireAsyncResult */
  char        *task_name;
  gint64       timeout;    /* µs a task of it may run, or 0 */
  gboolean     retry;      /* runs again when its worker dies in it */
  guint32      death_index; /* the task its worker last died in */
  guint        n_deaths;   /* deaths in a row in that task */
} MpireChunk;

typedef enum {
  MPIRE_JOB_CHUNK_DONE,    /* chunk, results, boxed */
  MPIRE_JOB_CHUNK_FAILED,  /* chunk (or none), error, partial results */
  MPIRE_JOB_WORKER_LOST,   /* a worker went away between chunks */
  MPIRE_JOB_TERMINATED,    /* the pool was terminated */
  MPIRE_JOB_EXIT_FAILED,   /* error: a worker_exit failed while stopping */
  MPIRE_JOB_STOPPED,       /* the workers stopped at the end of the call are gone */
  MPIRE_JOB_WORKER_STARTED, /* worker id */
  MPIRE_JOB_WORKER_EXITED,  /* worker id */
  MPIRE_JOB_WORKER_DIED,    /* worker id, error */
} MpireJobEvent;

/* Called in the job's context whenever results are ready or the job
 * finished. */
typedef void (*MpireMapJobNotify) (MpireMapJob *job,
                                   gpointer     data);

gint64       mpire_timeout_usec         (double              seconds);
MpireMapJob *mpire_map_job_new          (MpireWorkerPool    *pool,
                                         MpireTask          *task,
                                         GVariant           *iterable,
                                         MpireMapOptions    *options,
                                         gboolean            ordered,
                                         gboolean            collect,
                                         int                 n_jobs,
                                         GError            **error);
MpireMapJob *mpire_map_job_new_apply    (MpireWorkerPool    *pool,
                                         MpireTask          *task,
                                         MpireMapOptions    *options,
                                         int                 n_jobs,
                                         GError            **error);
gboolean     mpire_map_job_is_apply     (MpireMapJob        *job);
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

/* For the pool, with its lock held. */
void         mpire_map_job_post         (MpireMapJob        *job,
                                         MpireJobEvent       event,
                                         MpireChunk         *chunk,
                                         GVariant           *results,
                                         gboolean            boxed,
                                         GError             *error);
void         mpire_map_job_post_worker  (MpireMapJob        *job,
                                         MpireJobEvent       event,
                                         int                 worker_id,
                                         GError             *error);
gboolean     mpire_map_job_has_messages (MpireMapJob        *job);
void         mpire_chunk_free           (MpireChunk         *chunk);
GVariant    *mpire_chunk_get_task_args  (MpireChunk         *chunk,
                                         gsize               index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireMapJob, mpire_map_job_unref)

G_END_DECLS
