/* mpire-chunk-private.h: a chunk of tasks, on its way from a job to a worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib-object.h>

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
  guint        n_deaths;   /* deaths in a row in that task */
} MpireChunk;

gboolean  mpire_chunk_encode            (MpireChunk  *chunk,
                                         GError     **error);
void      mpire_chunk_free              (MpireChunk  *chunk);
GVariant *mpire_chunk_get_task_args     (MpireChunk  *chunk,
                                         gsize        index);
char     *mpire_chunk_describe_args     (MpireChunk  *chunk,
                                         gsize        index);
gboolean  mpire_chunk_retry_after_death (MpireChunk  *chunk,
                                         guint32      index);

G_END_DECLS
