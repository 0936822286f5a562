/* mpire-chunk-private.h: a chunk of tasks, on its way from a job to a worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib-object.h>

#include "mpire-result-buffer-private.h"

G_BEGIN_DECLS

/* A chunk of tasks on its way to a worker. Owned by the scheduler from
 * submission until its results or its failure are posted to its job. */
typedef struct
{
  gpointer     job;        /* weak: a job takes its chunks back when it ends */
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
  guint        n_deaths;   /* deaths in a row in that task, weighed */
  /* With retry, a worker sends each task's result once it is done
   * (MPIRE_MESSAGE_PARTIAL): after a death, the tasks whose results came
   * do not run again. Task indexes from a worker count from sent_from. */
  gsize        n_kept;     /* tasks at its start whose results the pool has */
  MpireResultBuffer *kept; /* ...those results, or NULL */
  gsize        sent_from;  /* its first task in its TASKS message */
} MpireChunk;

gboolean  mpire_chunk_encode            (MpireChunk  *chunk,
                                         GError     **error);
void      mpire_chunk_free              (MpireChunk  *chunk);
GVariant *mpire_chunk_get_task_args     (MpireChunk  *chunk,
                                         gsize        index);
char     *mpire_chunk_describe_args     (MpireChunk  *chunk,
                                         gsize        index);
gboolean  mpire_chunk_retry_after_death (MpireChunk  *chunk,
                                         guint32      index,
                                         gboolean     killed);
void      mpire_chunk_keep_results      (MpireChunk  *chunk,
                                         GVariant    *results,
                                         gboolean     boxed);
GVariant *mpire_chunk_take_results      (MpireChunk  *chunk,
                                         GVariant    *results,
                                         gboolean    *boxed);
void      mpire_chunk_skip_kept         (MpireChunk  *chunk);
gboolean  mpire_chunk_queue_drop_job    (GQueue      *queue,
                                         gpointer     job);
gboolean  mpire_chunk_check_results     (MpireChunk  *chunk,
                                         GVariant    *results,
                                         int          worker_id,
                                         gsize        n_expected,
                                         GError     **error);

G_END_DECLS
