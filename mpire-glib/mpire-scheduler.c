/* mpire-scheduler.c: the engine: workers, chunks and the pool's thread
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "mpire-child-watch-private.h"
#include "mpire-chunk-private.h"
#include "mpire-error.h"
#include "mpire-fork-server-private.h"
#include "mpire-i18n-private.h"
#include "mpire-init-private.h"
#include "mpire-init.h"
#include "mpire-insights-private.h"
#include "mpire-pool-thread-private.h"
#include "mpire-scheduler-private.h"
#include "mpire-worker-link-private.h"
#include "mpire-worker-pool-launchers-private.h"

/* The scheduler runs the workers of one pool and the chunks of the call
 * it serves (its job). It does its I/O on a thread of its own, with its
 * own main context: the links of the workers read their frames there,
 * their exits are reaped there, and timeouts are checked there. It tells
 * the job what happened through the job's MpireSchedulerJobFuncs, with
 * its lock held; the job hands it chunks from the caller's thread (or,
 * for a map fed by the pool, from the pool's thread, in those calls).
 *
 * The pool's thread is an MpirePoolThread, parked while workers are
 * forked (mpire-pool-thread.c).
 *
 * States. The job served (`phase`, with `job`):
 *
 *   PHASE_IDLE ──claim()──▶ PHASE_RUNNING
 *   PHASE_RUNNING ──submit_done()──▶ PHASE_SUBMITTED   a map handed over
 *     its last chunk: workers are told to stop behind their last ones
 *   PHASE_RUNNING, PHASE_SUBMITTED ──release()──▶ PHASE_STOPPING   the
 *     call is done and waits for the workers stopped at its end
 *   PHASE_STOPPING ──the last of them gone──▶ PHASE_IDLE (posts STOPPED)
 *   any ──release() with nothing to wait for, forget_job()──▶ PHASE_IDLE
 *
 * Locking: `lock` guards every field below, the pool thread's state, the links
 * (mpire-worker-link-private.h) and the insights. It is taken by the
 * caller's thread (claiming, starting workers, submitting chunks,
 * releasing a job, joining) and by every source of the pool's thread.
 * fork() happens with it held, so the pool's thread is never in mpire
 * code at that moment. */

/* Chunks sent to a worker before it answers the first: one runs while
 * the next one travels. */
#define CHUNKS_IN_FLIGHT 2

/* How long a cancelled call waits for its threads' tasks (µs). */
#define CANCEL_GRACE (G_USEC_PER_SEC / 2)

/* Fork servers killed in a row that one start of workers replaces. */
#define MAX_FORK_SERVER_RESTARTS 10

typedef enum {
  PHASE_IDLE,
  PHASE_RUNNING,
  PHASE_SUBMITTED,
  PHASE_STOPPING,
} JobPhase;

struct _MpireScheduler
{
  GMutex                        lock;
  GCond                         cond;      /* a link is gone, the job or the thread's state changed */
  MpirePoolThread              *thread;

  GPtrArray                    *slots;     /* MpireWorkerLink by worker id, or NULL */
  GPtrArray                    *links;     /* every link not yet gone */
  GPtrArray                    *stopping;  /* links stopped that the job waits for */
  GPtrArray                    *orphans;   /* links no call waits for: a join tells their end */
  GQueue                        pending;   /* MpireChunk waiting for a worker */
  GQueue                       *backlogs;  /* order-tasks: per slot */
  gboolean                     *lost;      /* per slot: its host was lost in this call */
  MpireForkServer              *fork_server; /* forkserver: started at first need */

  gpointer                      job;       /* the job served (weak), or NULL */
  JobPhase                      phase;
  const MpireSchedulerJobFuncs *funcs;
  MpireSchedulerCall            call;      /* the latest call's, owned copies */
  guint                         active_serial;  /* the workers' settings... */
  MpireStartMethod              active_method;  /* ...and start method */
  gboolean                      active_order_tasks;
  guint64                       next_job_id;
  guint                         n_idle_deaths;  /* workers that ended before any task, in a row */

  GSource                      *timeout_source; /* checks the heartbeats meanwhile */
  gint64                        cancel_deadline; /* the call was cancelled: it waits
                                                    for threads until then (µs), or 0 */
  GError                       *join_error;     /* a worker_exit failed with no call running */
  GArray                       *worker_events;  /* MpireWorkerEvent, when no call runs */
  GPtrArray                    *exit_results;   /* GVariant, from the latest call */
  MpireInsights                *insights;
};

static void on_frame  (MpireWorkerLink *link, MpireMessageKind kind, GVariant *body, gpointer data);
static void on_broken (MpireWorkerLink *link, const GError *error, gpointer data);
static void on_gone   (MpireWorkerLink *link, int wait_status, gpointer data);
static void unwatch_timeouts (MpireScheduler *self);
static void watch_timeouts (MpireScheduler *self, gint64 timeout);

static const MpireWorkerLinkCallbacks link_callbacks = { on_frame, on_broken, on_gone };

/* ---- workers (lock held) ---------------------------------------------- */

/* The job is done with the scheduler, and with the workers it waited
 * for. */
static void
set_idle (MpireScheduler *self)
{
  self->job = NULL;
  self->phase = PHASE_IDLE;
  self->cancel_deadline = 0;
  g_ptr_array_set_size (self->stopping, 0);
  g_cond_broadcast (&self->cond);
}

/* Whether @link is one of the current workers (not one told to
 * go). */
static gboolean
is_active (MpireScheduler *self,
           MpireWorkerLink *link)
{
  int id = mpire_worker_link_get_id (link);

  return id < (int) self->slots->len && self->slots->pdata[id] == link;
}

static void
retire (MpireScheduler *self,
        MpireWorkerLink *link,
        gboolean         kill)
{
  if (is_active (self, link))
    self->slots->pdata[mpire_worker_link_get_id (link)] = NULL;
  if (kill)
    mpire_worker_link_kill (link);
  else
    mpire_worker_link_stop (link);
}

static void
retire_all (MpireScheduler *self,
            gboolean         kill)
{
  for (guint i = 0; i < self->links->len; i++)
    retire (self, self->links->pdata[i], kill);
}

static GQueue *
queue_for_slot (MpireScheduler *self,
                guint            slot)
{
  return self->active_order_tasks ? &self->backlogs[slot] : &self->pending;
}

/* Gives the chunks @link was sent but never started (all of them but the
 * one that was running) to the other workers, first. Returns whether
 * there were any. */
static gboolean
requeue_chunks (MpireScheduler *self,
                MpireWorkerLink *link)
{
  gboolean any = mpire_worker_link_get_n_chunks (link) > 0;
  MpireChunk *chunk;

  while ((chunk = mpire_worker_link_take_last_chunk (link)) != NULL)
    g_queue_push_head (queue_for_slot (self, chunk->index % self->slots->len), chunk);
  return any;
}

/* Whether the tasks @link ran or was given reach the call's lifespan. */
static gboolean
lifespan_reached (MpireScheduler *self,
                  MpireWorkerLink *link)
{
  return self->call.lifespan > 0 &&
         mpire_worker_link_count_tasks_given (link) >= (guint64) self->call.lifespan;
}

/* The links told to go that the call ending now does not wait for (a
 * thread killed past a timeout runs on until its task returns): their
 * end is told by a join or a terminate, never by a later call. */
static void
orphan_retired (MpireScheduler *self)
{
  for (guint i = 0; i < self->links->len; i++)
    {
      MpireWorkerLink *link = self->links->pdata[i];

      if (!is_active (self, link) && !g_ptr_array_find (self->orphans, link, NULL))
        g_ptr_array_add (self->orphans, link);
    }
}

/* A thread killed past a timeout runs on until its task returns: the
 * call that fails for it does not wait for it. */
static void
abandon_thread (MpireScheduler  *self,
                MpireWorkerLink *link)
{
  if (mpire_worker_link_is_process (link) || self->phase == PHASE_STOPPING ||
      g_ptr_array_find (self->orphans, link, NULL))
    return;
  g_ptr_array_remove_fast (self->stopping, link);
  g_ptr_array_add (self->orphans, link);
  g_cond_broadcast (&self->cond);
}

/* The end of the call no longer waits for @link (gone, or a killed
 * thread whose task ran past its timeout): once it waits for none, the
 * call is done. */
static void
end_await (MpireScheduler  *self,
           MpireWorkerLink *link)
{
  if (g_ptr_array_remove_fast (self->stopping, link) && self->stopping->len == 0 &&
      self->phase == PHASE_STOPPING)
    {
      self->funcs->post (self->job, MPIRE_JOB_STOPPED, NULL, NULL, FALSE, NULL);
      set_idle (self);
    }
}

/* A worker told to go that the end of the call must wait for. */
static void
stop_and_await (MpireScheduler *self,
                MpireWorkerLink *link)
{
  g_ptr_array_add (self->stopping, link);
  retire (self, link, FALSE);
}

static gboolean
has_pending (MpireScheduler *self)
{
  if (!g_queue_is_empty (&self->pending))
    return TRUE;
  for (guint i = 0; self->backlogs != NULL && i < self->slots->len; i++)
    if (!g_queue_is_empty (&self->backlogs[i]))
      return TRUE;
  return FALSE;
}

/* Once a map has submitted its last chunk and none is left to hand out,
 * every worker is told to stop right behind the chunks it has (as
 * MPIRE's poison pills follow the last task): it runs its worker_exit
 * and exits without waiting for the call's last results to reach the
 * caller. The call still ends only once they are gone. Kept-alive
 * workers stay, and so do those of apply tasks (no map submits). */
static void
stop_finished_workers (MpireScheduler *self)
{
  if (self->phase != PHASE_SUBMITTED || self->call.keep_alive || has_pending (self))
    return;
  for (guint i = 0; i < self->slots->len; i++)
    if (self->slots->pdata[i] != NULL)
      stop_and_await (self, self->slots->pdata[i]);
}

/* Hands out chunks in rounds: every worker gets one before any gets a
 * second, so that a small map runs on all of them. */
static void
dispatch (MpireScheduler *self)
{
  for (guint round = 1; round <= CHUNKS_IN_FLIGHT; round++)
    for (guint i = 0; i < self->slots->len; i++)
      {
        MpireWorkerLink *link = self->slots->pdata[i];
        GQueue *queue = queue_for_slot (self, i);

        if (link == NULL)
          continue;
        while (!g_queue_is_empty (queue) &&
               mpire_worker_link_get_n_chunks (link) < round &&
               !lifespan_reached (self, link))
          mpire_worker_link_send_chunk (link, g_queue_pop_head (queue));
      }
  stop_finished_workers (self);
}

static void
on_results (MpireScheduler *self,
            MpireWorkerLink *link,
            GVariant        *body)
{
  g_auto(MpireResultsMessage) message = { 0 };
  g_autoptr(GError) error = NULL;
  MpireChunk *chunk = NULL;

  if (mpire_message_results_parse (body, &message, &error))
    chunk = mpire_worker_link_take_answered_chunk (link, message.chunk_id, &error);
  if (chunk != NULL &&
      mpire_chunk_check_results (chunk, message.results, mpire_worker_link_get_id (link),
                     (chunk->whole ? 1 : chunk->n_tasks) - chunk->n_kept, &error))
    {
      gpointer job = chunk->job;
      g_autoptr(GVariant) results = NULL;

      mpire_worker_link_count_tasks (link, chunk->n_tasks - chunk->sent_from);
      results = mpire_chunk_take_results (chunk, g_steal_pointer (&message.results),
                                          &message.boxed);
      self->n_idle_deaths = 0;
      self->funcs->post (job, MPIRE_JOB_CHUNK_DONE, chunk, results, message.boxed, NULL);
      /* At the end of its lifespan a worker makes way for a fresh one. */
      if (is_active (self, link) && lifespan_reached (self, link) &&
          mpire_worker_link_get_n_chunks (link) == 0)
        {
          stop_and_await (self, link);
          self->funcs->post (job, MPIRE_JOB_WORKER_LOST, NULL, NULL, FALSE, NULL);
        }
    }
  else
    {
      if (chunk != NULL)
        mpire_worker_link_untake_chunk (link, chunk);
      on_broken (link, error, self);
    }
}

static void
on_task_error (MpireScheduler *self,
               MpireWorkerLink *link,
               GVariant        *body)
{
  g_auto(MpireErrorMessage) message = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *args = NULL;
  MpireChunk *chunk = NULL;

  gsize index = 0;

  if (mpire_message_error_parse (body, &message, &error))
    chunk = mpire_worker_link_take_answered_chunk (link, message.chunk_id, &error);
  if (chunk != NULL)
    index = MIN (message.index + chunk->sent_from, chunk->n_tasks);
  /* It comes with the results of the tasks before @index not kept yet. */
  if (chunk == NULL ||
      !mpire_chunk_check_results (chunk, message.results, mpire_worker_link_get_id (link),
                      index >= chunk->n_kept ? index - chunk->n_kept : G_MAXSIZE, &error))
    {
      if (chunk != NULL)
        mpire_worker_link_untake_chunk (link, chunk);
      on_broken (link, error, self);
      return;
    }

  message.results = mpire_chunk_take_results (chunk, message.results, &message.boxed);
  args = mpire_chunk_describe_args (chunk, message.index + chunk->sent_from);
  error = g_error_new (*message.domain != '\0' ? g_quark_from_string (message.domain) : MPIRE_ERROR,
                       message.code, _("%s (task “%s”, worker %d, arguments %s)"),
                       message.message, message.task_name, mpire_worker_link_get_id (link), args);
  self->funcs->post (chunk->job, MPIRE_JOB_CHUNK_FAILED, chunk, message.results, message.boxed,
                     g_steal_pointer (&error));
}

/* Results of the first tasks of the chunk @link is running, sent when
 * the call retries chunks: the scheduler keeps them, so that if the
 * worker dies before the chunk's end, only the rest of the chunk runs
 * again. */
static void
on_partial (MpireScheduler  *self,
            MpireWorkerLink *link,
            GVariant        *body)
{
  g_auto(MpireResultsMessage) message = { 0 };
  g_autoptr(GError) error = NULL;
  MpireChunk *chunk = NULL;
  gsize n = 0;

  if (mpire_message_partial_parse (body, &message, &error))
    {
      n = g_variant_n_children (message.results);
      chunk = mpire_worker_link_peek_chunk (link);
    }
  /* The results of a chunk's last task come with its end. */
  if (chunk != NULL && chunk->id == message.chunk_id && !chunk->whole && n > 0 &&
      chunk->n_kept + n < chunk->n_tasks)
    {
      mpire_chunk_keep_results (chunk, message.results, message.boxed);
      return;
    }

  if (error == NULL)
    g_set_error (&error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                 _("Worker %d sent early results that its chunk does not have"),
                 mpire_worker_link_get_id (link));
  on_broken (link, error, self);
}

/* A worker_init (the call fails) or worker_exit (the call that stops the
 * worker fails) returned an error. */
static void
on_lifecycle_failed (MpireScheduler *self,
                     MpireWorkerLink *link,
                     GVariant        *body)
{
  MpireFailedMessage message;
  GError *error = NULL;
  gpointer job = self->job;
  gboolean at_exit;

  if (!mpire_message_failed_parse (body, &message, &error))
    {
      on_broken (link, error, self);
      g_error_free (error);
      return;
    }
  at_exit = message.stage == MPIRE_LIFECYCLE_STAGE_EXIT;
  error = g_error_new (*message.domain != '\0' ? g_quark_from_string (message.domain) : MPIRE_ERROR,
                       message.code,
                       at_exit ? _("%s (worker_exit task “%s”, worker %d)")
                               : _("%s (worker_init task “%s”, worker %d)"),
                       message.message, message.task_name, mpire_worker_link_get_id (link));

  /* Only for the running call: a worker it no longer has (killed when a
   * call failed) may still report. */
  if (job != NULL &&
      (g_ptr_array_find (self->stopping, link, NULL) || (!at_exit && is_active (self, link))))
    self->funcs->post (job, at_exit ? MPIRE_JOB_EXIT_FAILED : MPIRE_JOB_CHUNK_FAILED,
                        NULL, NULL, FALSE, error);
  else if (job == NULL && at_exit && self->join_error == NULL)
    self->join_error = error;
  else
    {
      g_debug ("%s", error->message);
      g_error_free (error);
    }
}

static void
on_frame (MpireWorkerLink  *link,
          MpireMessageKind  kind,
          GVariant         *body,
          gpointer          data)
{
  MpireScheduler *self = data;

  if (kind == MPIRE_MESSAGE_EXIT_RESULT)
    {
      g_auto(MpireExitResultMessage) message = { 0 };
      g_autoptr(GError) error = NULL;

      if (mpire_message_exit_result_parse (body, &message, &error))
        g_ptr_array_add (self->exit_results, g_steal_pointer (&message.result));
      else
        on_broken (link, error, self);
      return;
    }
  if (kind == MPIRE_MESSAGE_FAILED)
    {
      on_lifecycle_failed (self, link, body);
      return;
    }
  if (kind == MPIRE_MESSAGE_INSIGHTS)
    {
      g_autoptr(GError) error = NULL;

      if (!mpire_insights_add_report (self->insights, mpire_worker_link_get_id (link),
                                      mpire_worker_link_get_start_time (link),
                                      mpire_worker_link_get_clock_offset (link), body, &error))
        on_broken (link, error, self);
      return;
    }

  /* A worker already told to go may still answer: nobody waits for it. */
  if (mpire_worker_link_get_n_chunks (link) == 0)
    return;

  if (kind == MPIRE_MESSAGE_PARTIAL)
    {
      on_partial (self, link, body);
      return;
    }
  if (kind == MPIRE_MESSAGE_RESULTS)
    on_results (self, link, body);
  else if (kind == MPIRE_MESSAGE_ERROR)
    on_task_error (self, link, body);
  else
    {
      g_autoptr(GError) error =
        g_error_new (MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                     _("Worker %d sent a message of unexpected kind %d"),
                     mpire_worker_link_get_id (link), kind);
      on_broken (link, error, self);
    }

  dispatch (self);
}

/* The link is being killed for @error: it gets no more chunks, and the
 * running call fails with the error (a broken channel cannot be trusted
 * to say which tasks ran). */
static void
on_broken (MpireWorkerLink *link,
           const GError    *error,
           gpointer         data)
{
  MpireScheduler *self = data;
  MpireChunk *chunk;
  gboolean was_active = is_active (self, link);
  int id = mpire_worker_link_get_id (link);

  /* A launcher that could not reach its host (ssh exits with 255), with
   * retry-on-worker-death and other workers serving: the call goes on
   * without that worker, its chunks given to the others, and the pool
   * tries the host again at the next call. (Per-slot backlogs of
   * order-tasks would wait for it: those calls fail.) */
  if (was_active && self->job != NULL && self->call.retry && !self->active_order_tasks &&
      mpire_worker_link_never_reached (link))
    for (guint i = 0; i < self->slots->len; i++)
      if (i != (guint) id && self->slots->pdata[i] != NULL)
        {
          requeue_chunks (self, link);
          self->lost[id] = TRUE;
          retire (self, link, TRUE);
          self->funcs->post_worker (self->job, MPIRE_JOB_WORKER_DIED, id, g_error_copy (error));
          return;
        }

  chunk = mpire_worker_link_take_chunk (link);
  retire (self, link, TRUE);
  if (chunk != NULL)
    self->funcs->post (chunk->job, MPIRE_JOB_CHUNK_FAILED, chunk, NULL, FALSE,
                        g_error_copy (error));
  else if (was_active && self->job != NULL)
    self->funcs->post (self->job, MPIRE_JOB_CHUNK_FAILED, NULL, NULL, FALSE,
                        g_error_copy (error));
}

/* A worker_exit failed: that fails the call whose workers stop, or the
 * join. Takes @error. */
static void
report_exit_failure (MpireScheduler *self,
                     GError          *error)
{
  if (self->job != NULL)
    self->funcs->post (self->job, MPIRE_JOB_EXIT_FAILED, NULL, NULL, FALSE, error);
  else if (self->join_error == NULL)
    self->join_error = error;
  else
    g_error_free (error);
}

static void
on_gone (MpireWorkerLink *link,
         int              wait_status,
         gpointer         data)
{
  MpireScheduler *self = data;
  int id = mpire_worker_link_get_id (link);
  gboolean was_active = is_active (self, link);
  MpireChunk *chunk;
  gboolean requeued = FALSE;
  guint32 index;
  guint64 last_chunk_id = mpire_heartbeat_last_task (mpire_worker_link_get_heartbeat (link), &index);
  gboolean killed = WIFSIGNALED (wait_status) && WTERMSIG (wait_status) == SIGKILL;
  guint64 lifecycle_task = mpire_worker_link_died_in_lifecycle_task (link);
  /* A worker told to stop ends with status 0 once it answered all its
   * chunks; one that ends otherwise died, unless the pool killed it. */
  gboolean died = !mpire_worker_link_is_killed (link) &&
                  (!mpire_worker_link_is_stopping (link) ||
                   mpire_worker_link_get_n_chunks (link) > 0 ||
                   (wait_status != MPIRE_WAIT_STATUS_UNKNOWN &&
                    !(WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == 0)));

  if (was_active)
    self->slots->pdata[id] = NULL;
  g_ptr_array_remove_fast (self->links, link);

  /* A chunk it had not begun never ran: nothing was lost. One it had
   * begun runs again from the first task whose result did not come. */
  chunk = mpire_worker_link_peek_chunk (link);
  if (chunk != NULL && last_chunk_id == chunk->id)
    index += chunk->sent_from;
  if (chunk != NULL && (last_chunk_id != chunk->id || mpire_chunk_retry_after_death (chunk, index, killed)))
    {
      mpire_chunk_skip_kept (chunk);
      requeued = requeue_chunks (self, link);
    }
  else if ((chunk = mpire_worker_link_take_chunk (link)) != NULL)
    {
      g_autofree char *status = mpire_worker_link_describe_end (link, wait_status);
      g_autofree char *args = mpire_chunk_describe_args (chunk, index);
      GError *error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                   _("Worker %d %s while running task “%s” with arguments %s%s"),
                                   id, status, chunk->task_name, args,
                                   killed
                                     ? _(" (killed from outside: often the kernel’s "
                                         "out-of-memory killer, when memory runs out)")
                                     : "");

      self->funcs->post (chunk->job, MPIRE_JOB_CHUNK_FAILED, chunk, NULL, FALSE, error);
      requeued = requeue_chunks (self, link);
    }
  /* A call that goes on needs a worker in its place (also one told to
   * stop behind its last chunks, if it gave chunks back), unless workers end
   * on their own before any task, again and again: a worker program
   * that does not serve. Killed ones are not counted: with
   * retry-on-worker-death a call outlives any number of outside kills.
   * A worker_init that crashes its worker would do so in every new one:
   * the call fails (killed ones count as above). */
  if ((was_active || requeued) && self->job != NULL)
    {
      gboolean in_init = lifecycle_task == MPIRE_HEARTBEAT_WORKER_INIT;

      if (((last_chunk_id == 0 && !killed) || in_init) &&
          ((in_init && !killed) || ++self->n_idle_deaths > self->slots->len * 3))
        {
          g_autofree char *status = mpire_worker_link_describe_end (link, wait_status);

          self->funcs->post (self->job, MPIRE_JOB_CHUNK_FAILED, NULL, NULL, FALSE,
                              in_init
                                ? g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                               _("Worker %d %s while running its worker_init "
                                                 "task “%s”"), id, status, self->call.init_name)
                                : g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                               _("Workers keep ending before they run any task "
                                                 "(worker %d %s); does the worker program call "
                                                 "mpire_init()?"), id, status));
        }
      else
        self->funcs->post (self->job, MPIRE_JOB_WORKER_LOST, NULL, NULL, FALSE, NULL);
    }
  else if (lifecycle_task == MPIRE_HEARTBEAT_WORKER_EXIT)
    {
      g_autofree char *status = mpire_worker_link_describe_end (link, wait_status);

      report_exit_failure (self, g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                              _("Worker %d %s while running its worker_exit "
                                                "task “%s”"), id, status, self->call.exit_name));
    }
  dispatch (self);

  {
    MpireWorkerEvent event = { MPIRE_JOB_WORKER_EXITED, id, NULL };
    gboolean orphan = g_ptr_array_remove_fast (self->orphans, link);

    if (died)
      {
        g_autofree char *status = mpire_worker_link_describe_end (link, wait_status);

        event.event = MPIRE_JOB_WORKER_DIED;
        event.error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                   _("Worker %d %s"), id, status);
      }
    if (self->job != NULL && !orphan)
      self->funcs->post_worker (self->job, event.event, id, event.error);
    else
      g_array_append_val (self->worker_events, event);
  }

  end_await (self, link);

  if (self->links->len == 0 && self->job == NULL)
    unwatch_timeouts (self);
  mpire_worker_link_free (link);
  g_cond_broadcast (&self->cond);
}

/* The program a spawned worker or a fork server runs. */
static char **
worker_program (MpireScheduler  *self,
                GError          **error)
{
  return self->call.worker_argv != NULL ? g_strdupv ((char **) self->call.worker_argv)
                                     : mpire_init_self_argv (error);
}

/* Whether workers run the program again, and so find their tasks by name
 * and get the shared objects in a message. */
static gboolean
reruns_program (MpireStartMethod method)
{
  return method == MPIRE_START_METHOD_SPAWN || method == MPIRE_START_METHOD_FORKSERVER;
}

/* How long a cancelled call waits for its threads' tasks (µs). */
#define CANCEL_GRACE (G_USEC_PER_SEC / 2)

/* Fork servers killed in a row that one start of workers replaces. */
#define MAX_FORK_SERVER_RESTARTS 10

/* The pool's fork server, started (again, if it died) when a worker is
 * needed, and used for every worker until the pool is joined or its
 * settings change. */
static gboolean
ensure_fork_server (MpireScheduler  *self,
                    GError          **error)
{
  g_auto(GStrv) argv = NULL;

  if (self->fork_server != NULL && mpire_fork_server_is_running (self->fork_server))
    return TRUE;

  g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
  argv = worker_program (self, error);
  if (argv == NULL)
    return FALSE;
  self->fork_server = mpire_fork_server_new ((const char * const *) argv, &self->lock,
                                             mpire_pool_thread_get_context (self->thread), error);
  return self->fork_server != NULL;
}

GMutex *
mpire_scheduler_get_lock (MpireScheduler *self)
{
  return &self->lock;
}

guint64
mpire_scheduler_next_job_id (MpireScheduler *self)
{
  return ++self->next_job_id;
}

/* The worker_init or worker_exit of @link ran past its timeout: the call
 * (or the join, for an exit without a call) fails and the worker is
 * killed (a thread only loses its channel). */
static void
lifecycle_timed_out (MpireScheduler *self,
                     MpireWorkerLink *link,
                     gboolean         at_exit)
{
  gint64 timeout = at_exit ? self->call.exit_timeout : self->call.init_timeout;
  GError *error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT,
                               mpire_worker_link_is_process (link)
                                 ? _("The %s task “%s” ran longer than its timeout of %.3f s "
                                     "(worker %d); the worker was killed")
                                 : _("The %s task “%s” ran longer than its timeout of %.3f s "
                                     "(worker %d); a thread cannot be stopped, so it runs on "
                                     "until the task returns"),
                               at_exit ? "worker_exit" : "worker_init",
                               at_exit ? self->call.exit_name : self->call.init_name,
                               timeout / (double) G_USEC_PER_SEC,
                               mpire_worker_link_get_id (link));

  if (self->job != NULL && !at_exit)
    {
      self->funcs->post (self->job, MPIRE_JOB_CHUNK_FAILED, NULL, NULL, FALSE, error);
      requeue_chunks (self, link);
    }
  else
    report_exit_failure (self, error);
  retire (self, link, TRUE);
  abandon_thread (self, link);
}

/* A task of @link has run past the call's timeout: the call fails, the
 * worker is killed (a thread only loses its channel). So do an init or
 * exit task past theirs. */
static void
check_link_timeout (MpireScheduler *self,
                    MpireWorkerLink *link,
                    gint64           now)
{
  MpireChunk *chunk = mpire_worker_link_peek_chunk (link);
  guint64 chunk_id;
  guint32 index;
  gint64 started;
  g_autofree char *args = NULL;
  GError *error;
  gpointer job;

  /* A cancelled call waits for its threads no longer (their tasks may
   * have no timeout, and no start time then). */
  if (mpire_worker_link_is_killed (link) && self->cancel_deadline > 0 &&
      now >= self->cancel_deadline && self->phase == PHASE_STOPPING &&
      g_ptr_array_find (self->stopping, link, NULL))
    {
      g_ptr_array_add (self->orphans, link);
      end_await (self, link);
      return;
    }
  if (!mpire_heartbeat_read (mpire_worker_link_get_heartbeat (link), &chunk_id, &index, &started))
    return;
  /* A failed call waits for the threads it killed, but not for a task,
   * worker_init or worker_exit past its timeout: that runs on, as when
   * it times out during a call. */
  if (mpire_worker_link_is_killed (link))
    {
      gint64 timeout = chunk_id == MPIRE_HEARTBEAT_WORKER_INIT ? self->call.init_timeout
                     : chunk_id == MPIRE_HEARTBEAT_WORKER_EXIT ? self->call.exit_timeout
                     : mpire_worker_link_get_task_timeout (link);

      if (timeout > 0 && now - started > timeout && self->phase == PHASE_STOPPING &&
          g_ptr_array_find (self->stopping, link, NULL))
        {
          g_ptr_array_add (self->orphans, link);
          end_await (self, link);
        }
      return;
    }

  if (chunk_id == MPIRE_HEARTBEAT_WORKER_INIT || chunk_id == MPIRE_HEARTBEAT_WORKER_EXIT)
    {
      gboolean at_exit = chunk_id == MPIRE_HEARTBEAT_WORKER_EXIT;
      gint64 timeout = at_exit ? self->call.exit_timeout : self->call.init_timeout;

      if (timeout > 0 && now - started > timeout)
        lifecycle_timed_out (self, link, at_exit);
      return;
    }

  if (chunk == NULL || chunk->timeout <= 0 || chunk_id != chunk->id ||
      now - started <= chunk->timeout)
    return;

  args = mpire_chunk_describe_args (chunk, chunk->sent_from + index);
  error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT,
                       mpire_worker_link_is_process (link)
                         ? _("Task “%s” ran longer than its timeout of %.3f s (worker %d, "
                             "arguments %s); the worker was killed")
                         : _("Task “%s” ran longer than its timeout of %.3f s (worker %d, "
                             "arguments %s); a thread cannot be stopped, so it runs on until "
                             "the task returns"),
                       chunk->task_name,
                       chunk->timeout / (double) G_USEC_PER_SEC,
                       mpire_worker_link_get_id (link), args);
  /* The job owns the chunk once it is posted. */
  job = chunk->job;
  self->funcs->post (job, MPIRE_JOB_CHUNK_FAILED, mpire_worker_link_take_chunk (link),
                     NULL, FALSE, error);
  requeue_chunks (self, link);
  retire (self, link, TRUE);
  abandon_thread (self, link);
  /* Another worker takes its place (and the requeued chunks). */
  self->funcs->post (job, MPIRE_JOB_WORKER_LOST, NULL, NULL, FALSE, NULL);
}

static gboolean
check_timeouts (gpointer data)
{
  MpireScheduler *self = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < self->links->len; i++)
    check_link_timeout (self, self->links->pdata[i], now);

  return G_SOURCE_CONTINUE;
}

/* Checks the running tasks against @timeout (µs), a few times in it. */
static void
watch_timeouts (MpireScheduler *self,
                gint64           timeout)
{
  guint interval_ms;

  if (self->timeout_source != NULL || timeout <= 0)
    return;

  interval_ms = (guint) CLAMP (timeout / 4000, 5, 100);
  self->timeout_source = g_timeout_source_new (interval_ms);
  g_source_set_callback (self->timeout_source, check_timeouts, self, NULL);
  g_source_set_static_name (self->timeout_source, "[mpire] task timeouts");
  g_source_attach (self->timeout_source, mpire_pool_thread_get_context (self->thread));
}

static void
unwatch_timeouts (MpireScheduler *self)
{
  if (self->timeout_source == NULL)
    return;
  g_source_destroy (self->timeout_source);
  g_clear_pointer (&self->timeout_source, g_source_unref);
}

static void
send_config (MpireScheduler *self,
             MpireWorkerLink *link)
{
  /* A thread cannot die alone: no result needs to come early. */
  MpireConfigMessage config = {
    self->call.init_name, self->call.exit_name, self->call.timed,
    mpire_insights_is_enabled (self->insights),
    self->call.retry && mpire_worker_link_is_process (link),
  };

  mpire_worker_link_send (link, MPIRE_MESSAGE_CONFIG, mpire_message_config_new (&config), NULL);
}

/* Starts the workers missing from the pool. When a call starts
 * (@starting), the pool first takes the current settings, restarting its
 * workers if they changed; during a call it only replaces lost workers,
 * and not once no chunk is left to run (!@more_to_come). */
gboolean
mpire_scheduler_start_workers (MpireScheduler  *self,
                                 gpointer          job,
                                 gboolean          starting,
                                 gboolean          more_to_come,
                                 GError          **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_auto(GStrv) argv = NULL;
  GError *start_error = NULL;
  int n = self->call.n_workers;
  guint n_server_restarts = 0;
  gboolean parked;
  MpireHelloMessage hello = { 0 };

  if (!starting && !more_to_come && !has_pending (self))
    return TRUE;

  if (starting && (self->active_serial != self->call.workers_serial || (int) self->slots->len != n))
    {
      /* Kept-alive workers of other settings: this call told them to
       * go, it waits for them and tells their end. */
      for (guint i = 0; i < self->slots->len; i++)
        if (self->slots->pdata[i] != NULL)
          stop_and_await (self, self->slots->pdata[i]);
      for (guint i = 0; i < self->slots->len; i++)
        g_queue_clear_full (&self->backlogs[i], (GDestroyNotify) mpire_chunk_free);
      g_free (self->backlogs);
      g_free (self->lost);
      g_ptr_array_set_size (self->slots, n);
      self->backlogs = g_new0 (GQueue, n);
      self->lost = g_new0 (gboolean, n);
      self->active_serial = self->call.workers_serial;
      self->active_method = self->call.start_method;
      /* A new server for the new settings; the old one goes once the
       * workers it forked are gone. */
      g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
    }
  if (starting)
    {
      gboolean all_new = TRUE;

      self->active_order_tasks = self->call.order_tasks;
      self->n_idle_deaths = 0;
      memset (self->lost, 0, self->slots->len * sizeof (gboolean));
      watch_timeouts (self, self->call.init_timeout);
      watch_timeouts (self, self->call.exit_timeout);
      for (guint i = 0; i < self->slots->len; i++)
        all_new = all_new && self->slots->pdata[i] == NULL;
      /* As in MPIRE, insights start anew with all the workers. */
      if (all_new)
        mpire_insights_reset (self->insights, self->call.enable_insights, self->slots->len);
      /* Kept-alive workers learn this call's worker_exit; those that ran
       * this call's lifespan already make way for fresh ones. */
      for (guint i = 0; i < self->slots->len; i++)
        {
          MpireWorkerLink *link = self->slots->pdata[i];

          if (link != NULL && lifespan_reached (self, link))
            stop_and_await (self, link);
          else if (link != NULL)
            send_config (self, link);
        }
    }
  n = self->slots->len;

  if (self->active_method == MPIRE_START_METHOD_SPAWN)
    {
      argv = worker_program (self, error);
      if (argv == NULL)
        return FALSE;
    }

  hello.pass_worker_id = self->call.pass_worker_id;
  hello.use_worker_state = self->call.use_worker_state;
  hello.daemon = self->call.daemon;
  hello.shared_objects = reruns_program (self->active_method) ? self->call.shared_objects : NULL;

  parked = self->active_method == MPIRE_START_METHOD_FORK && mpire_pool_thread_park (self->thread);

  for (int i = 0; i < n; i++)
    {
      g_autofree int *close_fds = g_new (int, self->links->len + 1);
      g_auto(GStrv) launcher = NULL;
      MpireWorkerStartInfo info = { 0 };
      MpireWorkerLink *link;

      if (self->slots->pdata[i] != NULL || self->lost[i])
        continue;
      if (self->active_method == MPIRE_START_METHOD_FORKSERVER &&
          !ensure_fork_server (self, &start_error))
        break;

      for (guint j = 0; j < self->links->len; j++)
        close_fds[info.n_close_fds++] = mpire_worker_link_get_fd (self->links->pdata[j]);
      info.worker_id = i;
      info.argv = (const char * const *) argv;
      info.launcher = (const char * const *) (launcher = mpire_pool_launchers_of_worker (
                                                  self->call.worker_launchers, i));
      info.fork_server = self->fork_server;
      info.cpus = self->call.cpu_sets != NULL && (guint) i < self->call.cpu_sets->len
        ? &g_array_index (self->call.cpu_sets, cpu_set_t, i) : NULL;
      info.shared_objects = !reruns_program (self->active_method) ? self->call.shared_objects : NULL;
      info.close_fds = close_fds;

      link = mpire_worker_link_start (self->active_method, &info, &self->lock, mpire_pool_thread_get_context (self->thread),
                                      &link_callbacks, self, &start_error);
      /* A fork server killed from outside starts again, as a killed
       * worker is replaced; one that ends on its own fails the call. */
      if (link == NULL && self->active_method == MPIRE_START_METHOD_FORKSERVER &&
          mpire_fork_server_was_killed (self->fork_server) &&
          n_server_restarts++ < MAX_FORK_SERVER_RESTARTS)
        {
          g_clear_error (&start_error);
          i--;
          continue;
        }
      if (link == NULL)
        break;

      self->slots->pdata[i] = link;
      g_ptr_array_add (self->links, link);
      if (job != NULL)
        self->funcs->post_worker (job, MPIRE_JOB_WORKER_STARTED, i, NULL);
      hello.worker_id = i;
      if (!mpire_worker_link_send (link, MPIRE_MESSAGE_HELLO, mpire_message_hello_new (&hello),
                                   &start_error))
        {
          retire (self, link, TRUE);
          break;
        }
      send_config (self, link);
    }

  if (parked)
    mpire_pool_thread_unpark (self->thread);
  mpire_pool_thread_ensure_running (self->thread);

  if (start_error != NULL)
    {
      g_propagate_error (error, start_error);
      return FALSE;
    }

  dispatch (self);
  return TRUE;
}

void
mpire_scheduler_submit (MpireScheduler *self,
                          MpireChunk      *chunk)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  mpire_scheduler_submit_locked (self, chunk);
}

/* mpire_scheduler_submit(), with the scheduler's lock held. */
void
mpire_scheduler_submit_locked (MpireScheduler *self,
                                 MpireChunk      *chunk)
{
  watch_timeouts (self, chunk->timeout);
  g_queue_push_tail (queue_for_slot (self, chunk->index % self->slots->len), chunk);
  dispatch (self);
}

/* @job, a map, submitted its last chunk. */
void
mpire_scheduler_submit_done (MpireScheduler *self,
                               gpointer         job)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  mpire_scheduler_submit_done_locked (self, job);
}

/* mpire_scheduler_submit_done(), with the scheduler's lock held. */
void
mpire_scheduler_submit_done_locked (MpireScheduler *self,
                                      gpointer         job)
{
  if (self->job != job || self->phase != PHASE_RUNNING)
    return;
  self->phase = PHASE_SUBMITTED;
  dispatch (self);
}

/* Ends the pool's part of @job: none of its chunks stays anywhere. A
 * worker running one of them is killed (stopped, for a thread). Without
 * keep-alive, a call that succeeded stops its workers, and the pool
 * stays the call's until they are gone (their worker_exit has run):
 * then it posts MPIRE_JOB_STOPPED, and this returns TRUE. */
gboolean
mpire_scheduler_release (MpireScheduler *self,
                           gpointer         job,
                           gboolean         abort)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  /* Exits to come may have a timeout; on_gone() stops the watch then. */
  if (self->call.exit_timeout == 0)
    unwatch_timeouts (self);
  mpire_chunk_queue_drop_job (&self->pending, job);
  for (guint i = 0; self->backlogs != NULL && i < self->slots->len; i++)
    mpire_chunk_queue_drop_job (&self->backlogs[i], job);

  for (guint i = 0; i < self->links->len; i++)
    {
      MpireWorkerLink *link = self->links->pdata[i];
      MpireChunk *running = mpire_worker_link_peek_chunk (link);
      gint64 timeout = running != NULL && running->job == job ? running->timeout : 0;

      if (!mpire_worker_link_drop_chunks_of (link, job))
        continue;
      retire (self, link, TRUE);
      /* A thread runs on until its task returns: the call waits for it
       * within the task's timeout, watched meanwhile. */
      mpire_worker_link_set_task_timeout (link, timeout);
      watch_timeouts (self, timeout);
    }

  /* A job that never got the scheduler leaves the workers alone. */
  if (self->job != job)
    return FALSE;
  /* Workers of apply tasks stay, for the next ones (as in MPIRE). */
  if (!abort && !self->call.keep_alive && !self->call.apply)
    for (guint i = 0; i < self->slots->len; i++)
      if (self->slots->pdata[i] != NULL)
        stop_and_await (self, self->slots->pdata[i]);
  /* Without keep-alive, the workers a failed call left idle go too. A
   * failed call waits as well for those it killed: it tells their end,
   * as a call that succeeds does, and the next call sees only its own
   * workers (orphan_retired() says which it does not wait for). */
  if (abort && !self->call.keep_alive && !self->call.apply)
    for (guint i = 0; i < self->slots->len; i++)
      if (self->slots->pdata[i] != NULL)
        stop_and_await (self, self->slots->pdata[i]);
  for (guint i = 0; abort && i < self->links->len; i++)
    {
      MpireWorkerLink *link = self->links->pdata[i];

      if (!is_active (self, link) && !g_ptr_array_find (self->orphans, link, NULL) &&
          !g_ptr_array_find (self->stopping, link, NULL))
        g_ptr_array_add (self->stopping, link);
    }
  if (self->stopping->len > 0)
    {
      self->phase = PHASE_STOPPING;
      return TRUE;
    }
  orphan_retired (self);
  set_idle (self);
  /* Workers (stopped early, or killed) may have told @job of their end
   * (or of their worker_exit's failure) after it took its last
   * messages: it takes them until this one, which comes after them. */
  if (self->funcs->has_messages (job))
    {
      self->funcs->post (job, MPIRE_JOB_STOPPED, NULL, NULL, FALSE, NULL);
      return TRUE;
    }
  return FALSE;
}

/* The call of @job was cancelled: it waits for no worker. Those told to
 * stop are killed (a worker_exit running does not finish); a thread,
 * which cannot be, begins nothing more, and the call waits for the task
 * it runs (which may use the caller's data) for CANCEL_GRACE at most:
 * then the thread runs on as an orphan. */
void
mpire_scheduler_cancel (MpireScheduler *self,
                        gpointer        job)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->job != job || self->phase != PHASE_STOPPING)
    return;
  /* A kill only asks: the links go later, in the pool's thread. */
  for (guint i = 0; i < self->stopping->len; i++)
    mpire_worker_link_kill (self->stopping->pdata[i]);
  self->cancel_deadline = g_get_monotonic_time () + CANCEL_GRACE;
  watch_timeouts (self, CANCEL_GRACE);
}

/* @job is going away while its workers stop: nobody is told. */
void
mpire_scheduler_forget_job (MpireScheduler *self,
                              gpointer         job)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->job == job)
    {
      set_idle (self);
      orphan_retired (self);
    }
}

/* ---- the scheduler ----------------------------------------------------- */

static void
worker_event_clear (MpireWorkerEvent *event)
{
  g_clear_error (&event->error);
}

static GArray *
worker_events_new (void)
{
  GArray *events = g_array_new (FALSE, FALSE, sizeof (MpireWorkerEvent));

  g_array_set_clear_func (events, (GDestroyNotify) worker_event_clear);
  return events;
}

static void
call_clear (MpireSchedulerCall *call)
{
  g_clear_pointer (&call->shared_objects, g_variant_unref);
  g_clear_pointer ((char ***) &call->worker_argv, g_strfreev);
  g_clear_pointer (&call->worker_launchers, g_variant_unref);
  g_clear_pointer (&call->cpu_sets, g_array_unref);
  g_clear_pointer ((char **) &call->init_name, g_free);
  g_clear_pointer ((char **) &call->exit_name, g_free);
}

/* @to gets copies of what @from points to. */
static void
call_copy (MpireSchedulerCall       *to,
           const MpireSchedulerCall *from)
{
  call_clear (to);
  *to = *from;
  if (to->shared_objects != NULL)
    g_variant_ref (to->shared_objects);
  to->worker_argv = (const char * const *) g_strdupv ((char **) from->worker_argv);
  if (to->worker_launchers != NULL)
    g_variant_ref (to->worker_launchers);
  if (to->cpu_sets != NULL)
    g_array_ref (to->cpu_sets);
  to->init_name = g_strdup (from->init_name);
  to->exit_name = g_strdup (from->exit_name);
}

MpireScheduler *
mpire_scheduler_new (void)
{
  MpireScheduler *self = g_new0 (MpireScheduler, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->thread = mpire_pool_thread_new (&self->lock, &self->cond);
  self->slots = g_ptr_array_new ();
  self->links = g_ptr_array_new ();
  self->stopping = g_ptr_array_new ();
  self->orphans = g_ptr_array_new ();
  g_queue_init (&self->pending);
  self->worker_events = worker_events_new ();
  self->exit_results = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  self->insights = mpire_insights_new ();
  return self;
}

/* Terminates the workers first. */
void
mpire_scheduler_free (MpireScheduler *self)
{
  g_autoptr(GArray) events = NULL;

  mpire_scheduler_terminate (self, &events);
  g_mutex_lock (&self->lock);
  unwatch_timeouts (self);
  g_mutex_unlock (&self->lock);
  mpire_pool_thread_free (self->thread);

  g_assert (self->links->len == 0);
  g_assert (self->fork_server == NULL);
  g_queue_clear_full (&self->pending, (GDestroyNotify) mpire_chunk_free);
  for (guint i = 0; self->backlogs != NULL && i < self->slots->len; i++)
    g_queue_clear_full (&self->backlogs[i], (GDestroyNotify) mpire_chunk_free);
  g_free (self->backlogs);
  g_free (self->lost);
  g_ptr_array_unref (self->slots);
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->stopping);
  g_ptr_array_unref (self->orphans);
  g_array_unref (self->worker_events);
  g_ptr_array_unref (self->exit_results);
  mpire_insights_free (self->insights);
  call_clear (&self->call);
  g_clear_error (&self->join_error);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

/* Makes @job the one served, with the settings of @call, unless another
 * one is. */
gboolean
mpire_scheduler_claim (MpireScheduler               *self,
                       gpointer                      job,
                       const MpireSchedulerJobFuncs *funcs,
                       const MpireSchedulerCall     *call,
                       GError                      **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->job != NULL)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_POOL_BUSY,
                           _("Another map is still running on this pool; finish it (or "
                             "exhaust its result iterator) before starting a new one"));
      return FALSE;
    }
  self->job = job;
  self->phase = PHASE_RUNNING;
  self->funcs = funcs;
  call_copy (&self->call, call);
  g_ptr_array_set_size (self->exit_results, 0);
  return TRUE;
}

/* Whether @job is the one served (until its workers stopped). */
gboolean
mpire_scheduler_serves (MpireScheduler *self,
                        gpointer        job)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->job == job;
}

/* Waits until @job is no longer the one served. */
void
mpire_scheduler_wait_for_release (MpireScheduler *self,
                                  gpointer        job)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  while (self->job == job)
    g_cond_wait (&self->cond, &self->lock);
}

/* Whether @link is a thread killed past a timeout, which runs on as
 * long as its task does. */
static gboolean
is_runaway_thread (MpireScheduler  *self,
                   MpireWorkerLink *link)
{
  return !mpire_worker_link_is_process (link) && mpire_worker_link_is_killed (link) &&
         g_ptr_array_find (self->orphans, link, NULL);
}

/* Waits until every worker is gone, but threads killed past a timeout:
 * nothing waits for those, they free what they use when their task
 * returns. */
static void
wait_for_links (MpireScheduler *self)
{
  for (;;)
    {
      guint n_waited = 0;

      for (guint i = 0; i < self->links->len; i++)
        if (!is_runaway_thread (self, self->links->pdata[i]))
          n_waited++;
      for (guint i = self->links->len; n_waited == 0 && i-- > 0;)
        {
          MpireWorkerLink *link = self->links->pdata[i];

          g_ptr_array_remove_fast (self->orphans, link);
          if (mpire_worker_link_abandon (link))
            g_ptr_array_remove_index_fast (self->links, i);
        }
      if (self->links->len == 0)
        return;
      g_cond_wait (&self->cond, &self->lock);
    }
}

/* How the workers ended while no call ran, for the caller to tell. */
static GArray *
take_worker_events (MpireScheduler *self)
{
  GArray *events = self->worker_events;

  self->worker_events = worker_events_new ();
  return events;
}

/* Tells every worker to stop once idle, and waits until they are gone;
 * fails if a job is served, or with the error of a worker_exit. @events
 * is set to how the workers ended. */
gboolean
mpire_scheduler_stop_and_join (MpireScheduler  *self,
                               GArray         **events,
                               GError         **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GError *join_error;

  if (self->job != NULL)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_POOL_BUSY,
                           _("Cannot join the pool’s workers while a map is running"));
      *events = worker_events_new ();
      return FALSE;
    }

  g_clear_error (&self->join_error);
  retire_all (self, FALSE);
  wait_for_links (self);
  join_error = g_steal_pointer (&self->join_error);
  g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
  *events = take_worker_events (self);
  if (join_error != NULL)
    {
      g_propagate_error (error, join_error);
      return FALSE;
    }
  return TRUE;
}

/* Kills every worker and waits until they are reaped; the job served
 * fails. @events is set to how the workers ended. */
void
mpire_scheduler_terminate (MpireScheduler  *self,
                           GArray         **events)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->job != NULL)
    self->funcs->post (self->job, MPIRE_JOB_TERMINATED, NULL, NULL, FALSE, NULL);
  retire_all (self, TRUE);
  wait_for_links (self);
  g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
  *events = take_worker_events (self);
}

/* What the worker_exit tasks returned since the latest call started, as
 * an `av`. */
GVariant *
mpire_scheduler_get_exit_results (MpireScheduler *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autofree GVariant **boxes = g_new (GVariant *, self->exit_results->len + 1);

  for (guint i = 0; i < self->exit_results->len; i++)
    boxes[i] = g_variant_new_variant (self->exit_results->pdata[i]);
  return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARIANT, boxes,
                                                  self->exit_results->len));
}

guint
mpire_scheduler_get_n_workers (MpireScheduler *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->links->len;
}

GVariant *
mpire_scheduler_get_insights (MpireScheduler *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return g_variant_ref_sink (mpire_insights_to_variant (self->insights));
}

char *
mpire_scheduler_get_insights_string (MpireScheduler *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return mpire_insights_to_string (self->insights);
}

/* The start method changed: a fork server not needed by a running call
 * stops now (after the kept-alive workers it forked). */
void
mpire_scheduler_drop_fork_server (MpireScheduler *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->job == NULL)
    g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
}
