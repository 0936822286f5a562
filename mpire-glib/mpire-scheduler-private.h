/* mpire-scheduler-private.h: the engine: workers, chunks and the pool's thread
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <gio/gio.h>

#include "mpire-chunk-private.h"
#include "mpire-enums.h"

G_BEGIN_DECLS

typedef struct _MpireScheduler MpireScheduler;

/* What the scheduler tells the job it serves. */
typedef enum {
  MPIRE_JOB_CHUNK_DONE,     /* chunk, results, boxed */
  MPIRE_JOB_CHUNK_FAILED,   /* chunk (or none), error, partial results */
  MPIRE_JOB_WORKER_LOST,    /* a worker went away between chunks */
  MPIRE_JOB_TERMINATED,     /* the pool was terminated */
  MPIRE_JOB_EXIT_FAILED,    /* error: a worker_exit failed while stopping */
  MPIRE_JOB_STOPPED,        /* the workers stopped at the end of the call are gone */
  MPIRE_JOB_WORKER_STARTED, /* worker id */
  MPIRE_JOB_WORKER_EXITED,  /* worker id */
  MPIRE_JOB_WORKER_DIED,    /* worker id, error */
} MpireJobEvent;

/* How the scheduler reaches its job; called with the scheduler's lock
 * held, in the pool's thread or in the thread calling the scheduler.
 * post() and post_worker() take @chunk and @error. */
typedef struct
{
  void     (*post)         (gpointer       job,
                            MpireJobEvent  event,
                            MpireChunk    *chunk,
                            GVariant      *results,
                            gboolean       boxed,
                            GError        *error);
  void     (*post_worker)  (gpointer       job,
                            MpireJobEvent  event,
                            int            worker_id,
                            GError        *error);
  gboolean (*has_messages) (gpointer       job);
} MpireSchedulerJobFuncs;

/* What a call asks of the workers. The first part is the pool's: a
 * change of @workers_serial (the pool bumps it when one of those
 * settings changes) restarts the workers at the call's start. */
typedef struct
{
  guint               workers_serial;
  int                 n_workers;
  MpireStartMethod    start_method;
  GVariant           *shared_objects;
  const char * const *worker_argv;   /* NULL: the program itself */
  GVariant           *worker_launchers; /* spawn: the argv prefixes (`aas`) that
                                           start the workers (ssh, srun), worker i
                                           taking entry i modulo their number, an
                                           empty one for a local worker; or NULL */
  GArray             *cpu_sets;      /* cpu_set_t per worker, or NULL */
  gboolean            pass_worker_id;
  gboolean            use_worker_state;
  gboolean            daemon;
  gboolean            enable_insights;
  gboolean            keep_alive;
  gboolean            order_tasks;

  /* the call's own */
  gboolean            apply;          /* apply tasks: workers stay after it */
  const char         *init_name;      /* worker_init and worker_exit, or NULL */
  const char         *exit_name;
  gboolean            timed;          /* workers time their tasks */
  gboolean            retry;          /* chunks run again when their worker dies */
  gint64              lifespan;       /* tasks a worker runs, or 0 */
  gint64              init_timeout;   /* µs, or 0 */
  gint64              exit_timeout;
} MpireSchedulerCall;

/* How a worker ended while no call ran: join and terminate tell. */
typedef struct
{
  MpireJobEvent  event;
  int            worker_id;
  GError        *error;
} MpireWorkerEvent;

MpireScheduler *mpire_scheduler_new              (void);
void            mpire_scheduler_free             (MpireScheduler  *self);
GMutex         *mpire_scheduler_get_lock         (MpireScheduler  *self);
guint64         mpire_scheduler_next_job_id      (MpireScheduler  *self);

/* The call's side: claim, start workers, submit chunks, release. */
gboolean        mpire_scheduler_claim            (MpireScheduler               *self,
                                                  gpointer                      job,
                                                  const MpireSchedulerJobFuncs *funcs,
                                                  const MpireSchedulerCall     *call,
                                                  GError                      **error);
gboolean        mpire_scheduler_start_workers    (MpireScheduler  *self,
                                                  gpointer         job,
                                                  gboolean         starting,
                                                  gboolean         more_to_come,
                                                  GError         **error);
void            mpire_scheduler_submit           (MpireScheduler  *self,
                                                  MpireChunk      *chunk);
void            mpire_scheduler_submit_locked    (MpireScheduler  *self,
                                                  MpireChunk      *chunk);
void            mpire_scheduler_submit_done      (MpireScheduler  *self,
                                                  gpointer         job);
void            mpire_scheduler_submit_done_locked (MpireScheduler *self,
                                                    gpointer        job);
gboolean        mpire_scheduler_release          (MpireScheduler  *self,
                                                  gpointer         job,
                                                  gboolean         abort);
void            mpire_scheduler_cancel           (MpireScheduler  *self,
                                                  gpointer         job);
void            mpire_scheduler_forget_job       (MpireScheduler  *self,
                                                  gpointer         job);
gboolean        mpire_scheduler_serves           (MpireScheduler  *self,
                                                  gpointer         job);
void            mpire_scheduler_wait_for_release (MpireScheduler  *self,
                                                  gpointer         job);

/* The pool's side. */
gboolean        mpire_scheduler_stop_and_join    (MpireScheduler  *self,
                                                  GArray         **events,
                                                  GError         **error);
void            mpire_scheduler_terminate        (MpireScheduler  *self,
                                                  GArray         **events);
GVariant       *mpire_scheduler_get_exit_results (MpireScheduler  *self);
guint           mpire_scheduler_get_n_workers    (MpireScheduler  *self);
void            mpire_scheduler_drop_fork_server (MpireScheduler  *self);
GVariant       *mpire_scheduler_get_insights     (MpireScheduler  *self);
char           *mpire_scheduler_get_insights_string (MpireScheduler *self);

G_END_DECLS
