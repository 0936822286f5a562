/* mpire-worker-pool.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpire-async-result-private.h"
#include "mpire-enum-types.h"
#include "mpire-error.h"
#include "mpire-init-private.h"
#include "mpire-init.h"
#include "mpire-insights-private.h"
#include "mpire-result-iter-private.h"
#include "mpire-result-list-private.h"
#include "mpire-task-private.h"
#include "mpire-worker-link-private.h"
#include "mpire-worker-pool-private.h"
#include "mpire-worker-private.h"

/* Chunks sent to a worker before it answers the first: one runs while
 * the next one travels. */
#define CHUNKS_IN_FLIGHT 2

/**
 * MpireWorkerPool:
 *
 * A pool of workers (processes or threads) that runs a task over many
 * inputs: MPIRE's `WorkerPool`.
 *
 * ```c
 * g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (4, MPIRE_START_METHOD_FORK);
 * g_autoptr(GVariant) squares =
 *   mpire_worker_pool_map (pool, square_task, numbers, NULL, NULL, &error);
 * ```
 *
 * The pool does its I/O on a private thread with its own main context,
 * so the blocking calls need no main loop, and the `_async` calls never
 * block the caller's. Results, callbacks and lazy sources are handled in
 * the thread-default main context of the thread that started the call.
 *
 * One call of the map family runs at a time: another one started before
 * it ends fails with %MPIRE_ERROR_POOL_BUSY, as in MPIRE. Workers start
 * with the first call and, unless [property@Mpire.WorkerPool:keep-alive]
 * is set, stop at the end of each call. A task's error fails the call
 * with that error (its domain and code, its message followed by the
 * task, the worker id and the arguments); a worker that dies fails it
 * with %MPIRE_ERROR_WORKER_DIED. The pool stays usable after either.
 *
 * Disposing the pool terminates its workers.
 *
 * Since: 1.0
 */

/* Locking: `lock` protects the workers (slots, links, pending chunks,
 * job pointer). It is taken by the caller's thread (starting workers,
 * submitting chunks, releasing a job) and by every source of the pool's
 * thread. fork() happens with it held, so the pool's thread is never in
 * mpire code at that moment. */
struct _MpireWorkerPool
{
  GObject           parent_instance;

  /* properties (caller's thread) */
  int               n_jobs;
  MpireStartMethod  start_method;
  GVariant         *cpu_ids;
  gboolean          daemon;
  GVariant         *shared_objects;
  gboolean          pass_worker_id;
  gboolean          use_worker_state;
  gboolean          keep_alive;
  gboolean          order_tasks;
  gboolean          enable_insights;
  char            **worker_argv;

  GMutex            lock;
  GCond             cond;           /* a link is gone, or parking changed */
  gboolean          parking;        /* the pool's thread must wait */
  gboolean          parked;         /* ...and it does */
  GThread          *thread;
  GMainContext     *context;
  GMainLoop        *loop;
  GPtrArray        *slots;          /* MpireWorkerLink by worker id, or NULL */
  GPtrArray        *links;          /* every link not yet gone */
  GQueue            pending;        /* MpireChunk waiting for a worker */
  GQueue           *backlogs;       /* order-tasks: per slot */
  MpireMapJob      *job;            /* the running call (weak) */
  char             *init_name;      /* its worker_init and worker_exit */
  char             *exit_name;
  gboolean          timed;          /* workers time their tasks */
  gint64            init_timeout;   /* µs its worker_init and worker_exit may */
  gint64            exit_timeout;   /*   run, or 0 */
  GError           *join_error;     /* a worker_exit failed with no call running */
  gint64            lifespan;       /* its worker lifespan, or 0 */
  GArray           *cpu_sets;       /* cpu_set_t per worker, from cpu-ids */
  MpireMapJob      *apply_job;      /* the running apply tasks, owned */
  GArray           *worker_events;  /* WorkerEvent, when no call runs */
  gboolean          job_stopping;   /* job waits for the `stopping` links */
  gboolean          job_submitted;  /* job (a map) submitted its last chunk */
  GSource          *timeout_source; /* checks the heartbeats meanwhile */
  GPtrArray        *stopping;       /* links stopped that job waits for */
  GPtrArray        *exit_results;   /* GVariant, from the latest call */
  MpireInsights    *insights;
  gboolean          workers_stale;  /* a setting changed: restart workers */
  /* Settings as the running call started: a property set meanwhile
   * takes effect at the next call. */
  MpireStartMethod  active_method;
  gboolean          active_order_tasks;
  guint64           next_job_id;
  guint             n_idle_deaths;   /* workers that ended before any task, in a row */
  MpireForkServer  *fork_server;    /* forkserver: started at first need */
};

G_DEFINE_FINAL_TYPE (MpireWorkerPool, mpire_worker_pool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_JOBS,
  PROP_START_METHOD,
  PROP_CPU_IDS,
  PROP_DAEMON,
  PROP_SHARED_OBJECTS,
  PROP_PASS_WORKER_ID,
  PROP_USE_WORKER_STATE,
  PROP_KEEP_ALIVE,
  PROP_ORDER_TASKS,
  PROP_WORKER_ARGV,
  PROP_ENABLE_INSIGHTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  PROGRESS,
  TASK_FAILED,
  FINISHED,
  WORKER_STARTED,
  WORKER_EXITED,
  WORKER_DIED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* A worker's end when no call runs to be told: join and terminate tell. */
typedef struct
{
  MpireJobEvent  event;
  int            worker_id;
  GError        *error;
} WorkerEvent;

static void
worker_event_clear (WorkerEvent *event)
{
  g_clear_error (&event->error);
}

static void on_frame  (MpireWorkerLink *link, MpireMessageKind kind, GVariant *body, gpointer data);
static void on_broken (MpireWorkerLink *link, const GError *error, gpointer data);
static void on_gone   (MpireWorkerLink *link, int wait_status, gpointer data);
static void unwatch_timeouts (MpireWorkerPool *self);

static const MpireWorkerLinkCallbacks link_callbacks = { on_frame, on_broken, on_gone };

/* ---- the pool's thread ------------------------------------------------ */

static gpointer
pool_thread_main (gpointer data)
{
  MpireWorkerPool *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* The pool's main context exists before its thread: workers forked
 * before the thread starts need no parking (see park_thread()). */
static void
ensure_context (MpireWorkerPool *self)
{
  if (self->context != NULL)
    return;

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
}

static void
ensure_thread (MpireWorkerPool *self)
{
  ensure_context (self);
  if (self->thread == NULL)
    self->thread = g_thread_new ("mpire-pool", pool_thread_main, self);
}

static void
stop_thread (MpireWorkerPool *self)
{
  if (self->thread != NULL)
    {
      g_main_loop_quit (self->loop);
      g_thread_join (g_steal_pointer (&self->thread));
    }
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
}

/* fork() copies only the forking thread: a lock that another thread
 * holds at that moment stays locked forever in the child (ASan's
 * allocator, unlike glibc's malloc, has no fork handler). So the pool's
 * thread waits on a condition while workers are forked. */
static gboolean
parked_cb (gpointer data)
{
  MpireWorkerPool *self = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  self->parked = TRUE;
  g_cond_broadcast (&self->cond);
  while (self->parking)
    g_cond_wait (&self->cond, &self->lock);
  self->parked = FALSE;
  return G_SOURCE_REMOVE;
}

static void
park_thread (MpireWorkerPool *self)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  self->parking = TRUE;
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, parked_cb, self, NULL);
  g_source_set_static_name (source, "[mpire] park for fork");
  g_source_attach (source, self->context);
  while (!self->parked)
    g_cond_wait (&self->cond, &self->lock);
}

static void
unpark_thread (MpireWorkerPool *self)
{
  self->parking = FALSE;
  g_cond_broadcast (&self->cond);
}

/* ---- workers (lock held) ---------------------------------------------- */

static int
effective_n_jobs (MpireWorkerPool *self)
{
  return self->n_jobs > 0 ? self->n_jobs : mpire_cpu_count ();
}

/* Whether @link is one of the pool's current workers (not one told to
 * go). */
static gboolean
is_active (MpireWorkerPool *self,
           MpireWorkerLink *link)
{
  int id = mpire_worker_link_get_id (link);

  return id < (int) self->slots->len && self->slots->pdata[id] == link;
}

static void
retire (MpireWorkerPool *self,
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
retire_all (MpireWorkerPool *self,
            gboolean         kill)
{
  for (guint i = 0; i < self->links->len; i++)
    retire (self, self->links->pdata[i], kill);
}

static GQueue *
queue_for_slot (MpireWorkerPool *self,
                guint            slot)
{
  return self->active_order_tasks ? &self->backlogs[slot] : &self->pending;
}

/* Gives the chunks @link was sent but never started (all of them but the
 * one that was running) to the other workers, first. Returns whether
 * there were any. */
static gboolean
requeue_chunks (MpireWorkerPool *self,
                MpireWorkerLink *link)
{
  GQueue *chunks = mpire_worker_link_get_chunks (link);
  gboolean any = !g_queue_is_empty (chunks);
  MpireChunk *chunk;

  while ((chunk = g_queue_pop_tail (chunks)) != NULL)
    g_queue_push_head (self->active_order_tasks
                         ? &self->backlogs[chunk->index % self->slots->len]
                         : &self->pending,
                       chunk);
  return any;
}

/* Whether the tasks @link ran or was given reach the call's lifespan. */
static gboolean
lifespan_reached (MpireWorkerPool *self,
                  MpireWorkerLink *link)
{
  guint64 n = mpire_worker_link_count_tasks (link, 0);

  if (self->lifespan <= 0)
    return FALSE;
  for (GList *l = mpire_worker_link_get_chunks (link)->head; l != NULL; l = l->next)
    n += ((MpireChunk *) l->data)->n_tasks;
  return n >= (guint64) self->lifespan;
}

/* A worker told to go that the end of the call must wait for. */
static void
stop_and_await (MpireWorkerPool *self,
                MpireWorkerLink *link)
{
  g_ptr_array_add (self->stopping, link);
  retire (self, link, FALSE);
}

static gboolean
has_pending (MpireWorkerPool *self)
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
stop_finished_workers (MpireWorkerPool *self)
{
  if (self->job == NULL || !self->job_submitted || self->keep_alive || has_pending (self))
    return;
  for (guint i = 0; i < self->slots->len; i++)
    if (self->slots->pdata[i] != NULL)
      stop_and_await (self, self->slots->pdata[i]);
}

/* Hands out chunks in rounds: every worker gets one before any gets a
 * second, so that a small map runs on all of them. */
static void
dispatch (MpireWorkerPool *self)
{
  for (guint round = 1; round <= CHUNKS_IN_FLIGHT; round++)
    for (guint i = 0; i < self->slots->len; i++)
      {
        MpireWorkerLink *link = self->slots->pdata[i];
        GQueue *queue = queue_for_slot (self, i);

        if (link == NULL)
          continue;
        while (!g_queue_is_empty (queue) &&
               g_queue_get_length (mpire_worker_link_get_chunks (link)) < round &&
               !lifespan_reached (self, link))
          {
            MpireChunk *chunk = g_queue_pop_head (queue);

            g_queue_push_tail (mpire_worker_link_get_chunks (link), chunk);
            /* Its size was checked when it was made. */
            mpire_worker_link_send (link, MPIRE_MESSAGE_TASKS, chunk->body, NULL);
          }
      }
  stop_finished_workers (self);
}

static char *
describe_args (MpireChunk *chunk,
               gsize       index)
{
  g_autoptr(GVariant) args = mpire_chunk_get_task_args (chunk, index);
  char *text;

  if (args == NULL)
    return g_strdup ("?");

  text = g_variant_print (args, FALSE);
  if (g_utf8_strlen (text, -1) > 200)
    {
      char *end = g_utf8_offset_to_pointer (text, 200);
      char *shortened = g_strdup_printf ("%.*s…", (int) (end - text), text);

      g_free (text);
      text = shortened;
    }
  return text;
}

/* The first chunk in flight on @link, if @id is its id. */
static MpireChunk *
take_chunk (MpireWorkerLink  *link,
            guint64           id,
            GError          **error)
{
  GQueue *chunks = mpire_worker_link_get_chunks (link);
  MpireChunk *chunk = g_queue_peek_head (chunks);

  if (chunk == NULL || chunk->id != id)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("Worker %d answered a chunk of tasks it was not running"),
                   mpire_worker_link_get_id (link));
      return NULL;
    }

  return g_queue_pop_head (chunks);
}

static gboolean
check_results (MpireWorkerLink  *link,
               MpireChunk       *chunk,
               GVariant         *results,
               gboolean          boxed,
               gsize             n_expected,
               GError          **error)
{
  if (g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY) &&
      g_variant_n_children (results) == n_expected &&
      (!boxed || g_variant_is_of_type (results, G_VARIANT_TYPE ("av"))))
    return TRUE;

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
               _("Worker %d sent %zu results of type “%s” for a chunk of "
                 "%zu tasks"),
               mpire_worker_link_get_id (link),
               g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY) ? g_variant_n_children (results) : 0,
               g_variant_get_type_string (results), chunk->n_tasks);
  return FALSE;
}

static void
on_results (MpireWorkerPool *self,
            MpireWorkerLink *link,
            GVariant        *body)
{
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  guint64 id;
  gboolean boxed;
  MpireChunk *chunk;

  g_variant_get (body, "(tbv)", &id, &boxed, &results);
  chunk = take_chunk (link, id, &error);
  if (chunk != NULL &&
      check_results (link, chunk, results, boxed, chunk->whole ? 1 : chunk->n_tasks, &error))
    {
      MpireMapJob *job = chunk->job;

      mpire_worker_link_count_tasks (link, chunk->n_tasks);
      self->n_idle_deaths = 0;
      mpire_map_job_post (job, MPIRE_JOB_CHUNK_DONE, chunk, results, boxed, NULL);
      /* At the end of its lifespan a worker makes way for a fresh one. */
      if (is_active (self, link) && lifespan_reached (self, link) &&
          g_queue_is_empty (mpire_worker_link_get_chunks (link)))
        {
          stop_and_await (self, link);
          mpire_map_job_post (job, MPIRE_JOB_WORKER_LOST, NULL, NULL, FALSE, NULL);
        }
    }
  else
    {
      if (chunk != NULL)
        g_queue_push_head (mpire_worker_link_get_chunks (link), chunk);
      on_broken (link, error, self);
    }
}

static void
on_task_error (MpireWorkerPool *self,
               MpireWorkerLink *link,
               GVariant        *body)
{
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *args = NULL;
  const char *domain, *message, *task_name;
  guint64 id;
  guint32 index;
  gint32 code;
  gboolean boxed;
  MpireChunk *chunk;

  g_variant_get (body, "(tu&si&s&sbv)", &id, &index, &domain, &code, &message,
                 &task_name, &boxed, &results);
  chunk = take_chunk (link, id, &error);
  if (chunk == NULL ||
      !check_results (link, chunk, results, boxed, MIN (index, chunk->n_tasks), &error))
    {
      if (chunk != NULL)
        g_queue_push_head (mpire_worker_link_get_chunks (link), chunk);
      on_broken (link, error, self);
      return;
    }

  args = describe_args (chunk, index);
  error = g_error_new (*domain != '\0' ? g_quark_from_string (domain) : MPIRE_ERROR, code,
                       _("%s (task “%s”, worker %d, arguments %s)"),
                       message, task_name, mpire_worker_link_get_id (link), args);
  mpire_map_job_post (chunk->job, MPIRE_JOB_CHUNK_FAILED, chunk, results, boxed,
                      g_steal_pointer (&error));
}

/* A worker_init (the call fails) or worker_exit (the call that stops the
 * worker fails) returned an error. */
static void
on_lifecycle_failed (MpireWorkerPool *self,
                     MpireWorkerLink *link,
                     GVariant        *body)
{
  const char *domain, *message, *task_name, *stage;
  gint32 code;
  GError *error;
  MpireMapJob *job = self->job;
  gboolean at_exit;

  g_variant_get (body, "(&si&s&s&s)", &domain, &code, &message, &task_name, &stage);
  at_exit = g_str_equal (stage, "exit");
  error = g_error_new (*domain != '\0' ? g_quark_from_string (domain) : MPIRE_ERROR, code,
                       at_exit ? _("%s (worker_exit task “%s”, worker %d)")
                               : _("%s (worker_init task “%s”, worker %d)"),
                       message, task_name, mpire_worker_link_get_id (link));

  /* Only for the running call: a worker it no longer has (killed when a
   * call failed) may still report. */
  if (job != NULL &&
      (g_ptr_array_find (self->stopping, link, NULL) || (!at_exit && is_active (self, link))))
    mpire_map_job_post (job, at_exit ? MPIRE_JOB_EXIT_FAILED : MPIRE_JOB_CHUNK_FAILED,
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
  MpireWorkerPool *self = data;

  if (kind == MPIRE_MESSAGE_EXIT_RESULT)
    {
      GVariant *result;

      g_variant_get (body, "(v)", &result);
      g_ptr_array_add (self->exit_results, result);
      return;
    }
  if (kind == MPIRE_MESSAGE_FAILED)
    {
      on_lifecycle_failed (self, link, body);
      return;
    }
  if (kind == MPIRE_MESSAGE_INSIGHTS)
    {
      mpire_insights_add_report (self->insights, mpire_worker_link_get_id (link),
                                 mpire_worker_link_get_start_time (link), body);
      return;
    }

  /* A worker already told to go may still answer: nobody waits for it. */
  if (g_queue_is_empty (mpire_worker_link_get_chunks (link)))
    return;

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
  MpireWorkerPool *self = data;
  MpireChunk *chunk = g_queue_pop_head (mpire_worker_link_get_chunks (link));
  gboolean was_active = is_active (self, link);

  retire (self, link, TRUE);
  if (chunk != NULL)
    mpire_map_job_post (chunk->job, MPIRE_JOB_CHUNK_FAILED, chunk, NULL, FALSE,
                        g_error_copy (error));
  else if (was_active && self->job != NULL)
    mpire_map_job_post (self->job, MPIRE_JOB_CHUNK_FAILED, NULL, NULL, FALSE,
                        g_error_copy (error));
}

/* A worker_exit failed: that fails the call whose workers stop, or the
 * join. Takes @error. */
static void
report_exit_failure (MpireWorkerPool *self,
                     GError          *error)
{
  if (self->job != NULL)
    mpire_map_job_post (self->job, MPIRE_JOB_EXIT_FAILED, NULL, NULL, FALSE, error);
  else if (self->join_error == NULL)
    self->join_error = error;
  else
    g_error_free (error);
}

/* The lifecycle task (MPIRE_HEARTBEAT_WORKER_INIT or _EXIT) the worker
 * of @link died in, or 0 (none, or the pool killed it). */
static guint64
died_in_lifecycle_task (MpireWorkerLink *link)
{
  guint64 chunk_id;
  guint32 index;
  gint64 started;

  if (mpire_worker_link_is_killed (link) ||
      !mpire_heartbeat_read (mpire_worker_link_get_heartbeat (link), &chunk_id, &index, &started) ||
      (chunk_id != MPIRE_HEARTBEAT_WORKER_INIT && chunk_id != MPIRE_HEARTBEAT_WORKER_EXIT))
    return 0;
  return chunk_id;
}

/* A task that was running at this many deaths of its worker in a row is
 * taken to be what kills it, rather than something from outside. */
#define MAX_DEATHS_IN_ONE_TASK 3

/* Whether the chunk whose worker died in its task @index runs again. */
static gboolean
retry_after_death (MpireChunk *chunk,
                   guint32     index)
{
  if (!chunk->retry)
    return FALSE;
  if (chunk->n_deaths > 0 && chunk->death_index == index)
    chunk->n_deaths++;
  else
    {
      chunk->death_index = index;
      chunk->n_deaths = 1;
    }
  return chunk->n_deaths < MAX_DEATHS_IN_ONE_TASK;
}

static void
on_gone (MpireWorkerLink *link,
         int              wait_status,
         gpointer         data)
{
  MpireWorkerPool *self = data;
  GQueue *chunks = mpire_worker_link_get_chunks (link);
  int id = mpire_worker_link_get_id (link);
  gboolean was_active = is_active (self, link);
  MpireChunk *chunk;
  gboolean requeued = FALSE;
  guint32 index;
  guint64 last_chunk_id = mpire_heartbeat_last_task (mpire_worker_link_get_heartbeat (link), &index);
  gboolean killed = WIFSIGNALED (wait_status) && WTERMSIG (wait_status) == SIGKILL;
  guint64 lifecycle_task = died_in_lifecycle_task (link);

  if (was_active)
    self->slots->pdata[id] = NULL;
  g_ptr_array_remove_fast (self->links, link);

  /* A chunk it had not begun never ran: nothing was lost. */
  chunk = g_queue_peek_head (chunks);
  if (chunk != NULL && (last_chunk_id != chunk->id || retry_after_death (chunk, index)))
    requeued = requeue_chunks (self, link);
  else if ((chunk = g_queue_pop_head (chunks)) != NULL)
    {
      g_autofree char *status = mpire_describe_wait_status (wait_status);
      g_autofree char *args = describe_args (chunk, index);
      GError *error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                   _("Worker %d %s while running task “%s” with arguments %s%s"),
                                   id, status, chunk->task_name, args,
                                   killed
                                     ? _(" (killed from outside: often the kernel’s "
                                         "out-of-memory killer, when memory runs out)")
                                     : "");

      mpire_map_job_post (chunk->job, MPIRE_JOB_CHUNK_FAILED, chunk, NULL, FALSE, error);
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
          g_autofree char *status = mpire_describe_wait_status (wait_status);

          mpire_map_job_post (self->job, MPIRE_JOB_CHUNK_FAILED, NULL, NULL, FALSE,
                              in_init
                                ? g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                               _("Worker %d %s while running its worker_init "
                                                 "task “%s”"), id, status, self->init_name)
                                : g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                               _("Workers keep ending before they run any task "
                                                 "(worker %d %s); does the worker program call "
                                                 "mpire_init()?"), id, status));
        }
      else
        mpire_map_job_post (self->job, MPIRE_JOB_WORKER_LOST, NULL, NULL, FALSE, NULL);
    }
  else if (lifecycle_task == MPIRE_HEARTBEAT_WORKER_EXIT)
    {
      g_autofree char *status = mpire_describe_wait_status (wait_status);

      report_exit_failure (self, g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                              _("Worker %d %s while running its worker_exit "
                                                "task “%s”"), id, status, self->exit_name));
    }
  dispatch (self);

  {
    WorkerEvent event = { MPIRE_JOB_WORKER_EXITED, id, NULL };

    if (!mpire_worker_link_is_stopping (link))
      {
        g_autofree char *status = mpire_describe_wait_status (wait_status);

        event.event = MPIRE_JOB_WORKER_DIED;
        event.error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED,
                                   _("Worker %d %s"), id, status);
      }
    if (self->job != NULL)
      mpire_map_job_post_worker (self->job, event.event, id, event.error);
    else
      g_array_append_val (self->worker_events, event);
  }

  /* The last worker stopped at the end of a call: the call is done. */
  if (g_ptr_array_remove_fast (self->stopping, link) && self->stopping->len == 0 &&
      self->job_stopping)
    {
      mpire_map_job_post (self->job, MPIRE_JOB_STOPPED, NULL, NULL, FALSE, NULL);
      self->job = NULL;
      self->job_stopping = FALSE;
    }

  if (self->links->len == 0 && self->job == NULL)
    unwatch_timeouts (self);
  mpire_worker_link_free (link);
  g_cond_broadcast (&self->cond);
}

/* The program to run as a worker: the current one, as it was started. */
static char **
self_argv (GError **error)
{
  g_autofree char *cmdline = NULL;
  g_autofree char *exe = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *argv0 = NULL;
  g_autofree char *base = NULL;
  gsize len;
  struct stat exe_st, argv0_st;

  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe == NULL || !g_file_get_contents ("/proc/self/cmdline", &cmdline, &len, NULL) || len == 0)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                           _("Could not find out how this program was started "
                             "(/proc/self/exe, /proc/self/cmdline); set the pool’s "
                             "worker-argv property"));
      return NULL;
    }

  for (gsize pos = 0; pos < len; pos += strlen (cmdline + pos) + 1)
    g_ptr_array_add (argv, g_strdup (cmdline + pos));

  /* argv[0] as found in PATH when it is the same file: a Python venv
   * only works through its own path. */
  argv0 = strchr (argv->pdata[0], '/') != NULL ? g_strdup (argv->pdata[0])
                                               : g_find_program_in_path (argv->pdata[0]);
  if (argv0 == NULL || stat (argv0, &argv0_st) != 0 || stat (exe, &exe_st) != 0 ||
      argv0_st.st_dev != exe_st.st_dev || argv0_st.st_ino != exe_st.st_ino)
    {
      g_free (argv->pdata[0]);
      argv->pdata[0] = g_strdup (exe);
    }

  base = g_path_get_basename (exe);
  if ((g_str_has_prefix (base, "python") || g_str_equal (base, "gjs") ||
       g_str_has_prefix (base, "gjs-")) &&
      (argv->len == 1 || g_str_equal (argv->pdata[argv->len - 1], "-")))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("This %s program was read from standard input, so it cannot be "
                     "started again as a worker; run it from a file, or set the pool’s "
                     "worker-argv property"), base);
      return NULL;
    }

  g_ptr_array_add (argv, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}

/* The program a spawned worker or a fork server runs. */
static char **
worker_program (MpireWorkerPool  *self,
                GError          **error)
{
  return self->worker_argv != NULL ? g_strdupv (self->worker_argv) : self_argv (error);
}

/* Whether workers run the program again, and so find their tasks by name
 * and get the shared objects in a message. */
static gboolean
reruns_program (MpireStartMethod method)
{
  return method == MPIRE_START_METHOD_SPAWN || method == MPIRE_START_METHOD_FORKSERVER;
}

/* Fork servers killed in a row that one start of workers replaces. */
#define MAX_FORK_SERVER_RESTARTS 10

/* The pool's fork server, started (again, if it died) when a worker is
 * needed, and used for every worker until the pool is joined or its
 * settings change. */
static gboolean
ensure_fork_server (MpireWorkerPool  *self,
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
                                             self->context, error);
  return self->fork_server != NULL;
}

static gboolean
add_cpu (cpu_set_t  *set,
         GVariant   *id,
         GError    **error)
{
  gint64 cpu = -1;
  int n_cpus = mpire_cpu_count ();

  if (g_variant_is_of_type (id, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (id);
      return add_cpu (set, inner, error);
    }

  if (g_variant_is_of_type (id, G_VARIANT_TYPE_INT32))
    cpu = g_variant_get_int32 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_INT64))
    cpu = g_variant_get_int64 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_UINT32))
    cpu = g_variant_get_uint32 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_UINT64))
    cpu = (gint64) MIN (g_variant_get_uint64 (id), (guint64) G_MAXINT64);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_INT16))
    cpu = g_variant_get_int16 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_UINT16))
    cpu = g_variant_get_uint16 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_BYTE))
    cpu = g_variant_get_byte (id);
  else
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("A CPU id must be an integer, not a value of type “%s”"),
                   g_variant_get_type_string (id));
      return FALSE;
    }

  if (cpu < 0 || cpu >= n_cpus || cpu >= CPU_SETSIZE)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("CPU id %lld is out of range: this process may use %d CPUs, "
                     "numbered from 0"), (long long) cpu, n_cpus);
      return FALSE;
    }
  CPU_SET ((int) cpu, set);
  return TRUE;
}

/* One cpu_set_t per worker from the cpu-ids property, MPIRE's forms. */
static GArray *
parse_cpu_ids (GVariant  *ids,
               int        n_jobs,
               GError   **error)
{
  g_autoptr(GArray) sets = g_array_new (FALSE, TRUE, sizeof (cpu_set_t));
  gsize n = g_variant_n_children (ids);

  if (n != 1 && n != (gsize) n_jobs)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("cpu-ids has %zu entries: it needs one for all workers or one per "
                     "worker (%d)"), n, n_jobs);
      return NULL;
    }

  g_array_set_size (sets, n_jobs);
  for (int worker = 0; worker < n_jobs; worker++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (ids, n == 1 ? 0 : worker);
      g_autoptr(GVariant) unboxed = g_variant_is_of_type (entry, G_VARIANT_TYPE_VARIANT)
        ? g_variant_get_variant (entry) : g_variant_ref (entry);
      cpu_set_t *set = &g_array_index (sets, cpu_set_t, worker);

      CPU_ZERO (set);
      if (g_variant_is_of_type (unboxed, G_VARIANT_TYPE_ARRAY))
        {
          gsize m = g_variant_n_children (unboxed);

          if (m == 0)
            {
              g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                                   _("cpu-ids has an empty set of CPUs"));
              return NULL;
            }
          for (gsize i = 0; i < m; i++)
            {
              g_autoptr(GVariant) id = g_variant_get_child_value (unboxed, i);

              if (!add_cpu (set, id, error))
                return NULL;
            }
        }
      else if (!add_cpu (set, unboxed, error))
        return NULL;
    }

  return g_steal_pointer (&sets);
}

/* GJS runs JavaScript on its own thread only, so a JavaScript task
 * cannot run on a worker thread; and a forked copy of a JavaScript
 * engine can deadlock on the locks of the engine's helper threads, which
 * the child does not have: a fork server running gjs has them too. Such
 * tasks need spawned workers. */
static gboolean
check_task (MpireWorkerPool  *self,
            MpireTask        *task,
            GError          **error)
{
  if (!mpire_task_is_thread_bound (task) || self->start_method == MPIRE_START_METHOD_SPAWN)
    return TRUE;

  if (self->start_method == MPIRE_START_METHOD_THREADING)
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED,
                 _("Task “%s” is written in JavaScript, which runs only on the thread "
                   "that created it, so it cannot run on a threading pool; use the "
                   "spawn start method"),
                 mpire_task_get_name (task));
  else
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED,
                 _("Task “%s” is written in JavaScript, whose engine can deadlock in a "
                   "forked copy of the process, so it cannot run on a %s pool; use the "
                   "spawn start method"),
                 mpire_task_get_name (task),
                 self->start_method == MPIRE_START_METHOD_FORK ? "fork" : "forkserver");
  return FALSE;
}

GMutex *
mpire_worker_pool_get_lock (MpireWorkerPool *self)
{
  return &self->lock;
}

guint64
mpire_worker_pool_next_job_id (MpireWorkerPool *self)
{
  return ++self->next_job_id;
}

/* The worker_init or worker_exit of @link ran past its timeout: the call
 * (or the join, for an exit without a call) fails and the worker is
 * killed (a thread only loses its channel). */
static void
lifecycle_timed_out (MpireWorkerPool *self,
                     MpireWorkerLink *link,
                     gboolean         at_exit)
{
  gint64 timeout = at_exit ? self->exit_timeout : self->init_timeout;
  GError *error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_TIMED_OUT,
                               mpire_worker_link_is_process (link)
                                 ? _("The %s task “%s” ran longer than its timeout of %.3f s "
                                     "(worker %d); the worker was killed")
                                 : _("The %s task “%s” ran longer than its timeout of %.3f s "
                                     "(worker %d); a thread cannot be stopped, so it runs on "
                                     "until the task returns"),
                               at_exit ? "worker_exit" : "worker_init",
                               at_exit ? self->exit_name : self->init_name,
                               timeout / (double) G_USEC_PER_SEC,
                               mpire_worker_link_get_id (link));

  if (self->job != NULL && !at_exit)
    {
      mpire_map_job_post (self->job, MPIRE_JOB_CHUNK_FAILED, NULL, NULL, FALSE, error);
      requeue_chunks (self, link);
    }
  else
    report_exit_failure (self, error);
  retire (self, link, TRUE);
}

/* A task of @link has run past the call's timeout: the call fails, the
 * worker is killed (a thread only loses its channel). So do an init or
 * exit task past theirs. */
static void
check_link_timeout (MpireWorkerPool *self,
                    MpireWorkerLink *link,
                    gint64           now)
{
  MpireChunk *chunk = g_queue_peek_head (mpire_worker_link_get_chunks (link));
  guint64 chunk_id;
  guint32 index;
  gint64 started;
  g_autofree char *args = NULL;
  GError *error;

  if (mpire_worker_link_is_killed (link) ||
      !mpire_heartbeat_read (mpire_worker_link_get_heartbeat (link), &chunk_id, &index, &started))
    return;

  if (chunk_id == MPIRE_HEARTBEAT_WORKER_INIT || chunk_id == MPIRE_HEARTBEAT_WORKER_EXIT)
    {
      gboolean at_exit = chunk_id == MPIRE_HEARTBEAT_WORKER_EXIT;
      gint64 timeout = at_exit ? self->exit_timeout : self->init_timeout;

      if (timeout > 0 && now - started > timeout)
        lifecycle_timed_out (self, link, at_exit);
      return;
    }

  if (chunk == NULL || chunk->timeout <= 0 || chunk_id != chunk->id ||
      now - started <= chunk->timeout)
    return;

  args = describe_args (chunk, index);
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
  mpire_map_job_post (chunk->job, MPIRE_JOB_CHUNK_FAILED, g_queue_pop_head (mpire_worker_link_get_chunks (link)),
                      NULL, FALSE, error);
  requeue_chunks (self, link);
  retire (self, link, TRUE);
  /* Another worker takes its place (and the requeued chunks). */
  mpire_map_job_post (chunk->job, MPIRE_JOB_WORKER_LOST, NULL, NULL, FALSE, NULL);
}

static gboolean
check_timeouts (gpointer data)
{
  MpireWorkerPool *self = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < self->links->len; i++)
    check_link_timeout (self, self->links->pdata[i], now);

  return G_SOURCE_CONTINUE;
}

/* Checks the running tasks against @timeout (µs), a few times in it. */
static void
watch_timeouts (MpireWorkerPool *self,
                gint64           timeout)
{
  guint interval_ms;

  if (self->timeout_source != NULL || timeout <= 0)
    return;

  interval_ms = (guint) CLAMP (timeout / 4000, 5, 100);
  self->timeout_source = g_timeout_source_new (interval_ms);
  g_source_set_callback (self->timeout_source, check_timeouts, self, NULL);
  g_source_set_static_name (self->timeout_source, "[mpire] task timeouts");
  g_source_attach (self->timeout_source, self->context);
}

static void
unwatch_timeouts (MpireWorkerPool *self)
{
  if (self->timeout_source == NULL)
    return;
  g_source_destroy (self->timeout_source);
  g_clear_pointer (&self->timeout_source, g_source_unref);
}

static void
send_config (MpireWorkerPool *self,
             MpireWorkerLink *link)
{
  mpire_worker_link_send (link, MPIRE_MESSAGE_CONFIG,
                          g_variant_new ("(ssbb)", self->init_name ? self->init_name : "",
                                         self->exit_name ? self->exit_name : "",
                                         self->timed,
                                         mpire_insights_is_enabled (self->insights)),
                          NULL);
}

/* Starts the workers missing from the pool. When a call starts
 * (@starting), the pool first takes the current settings, restarting its
 * workers if they changed; during a call it only replaces lost workers,
 * and not once no chunk is left to run (!@more_to_come). */
gboolean
mpire_worker_pool_start_workers (MpireWorkerPool  *self,
                                 MpireMapJob      *job,
                                 gboolean          starting,
                                 gboolean          more_to_come,
                                 GError          **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_auto(GStrv) argv = NULL;
  GError *start_error = NULL;
  int n = effective_n_jobs (self);
  guint n_server_restarts = 0;
  gboolean parked;

  ensure_context (self);

  if (!starting && !more_to_come && !has_pending (self))
    return TRUE;

  if (starting && (self->workers_stale || (int) self->slots->len != n))
    {
      retire_all (self, FALSE);
      for (guint i = 0; i < self->slots->len; i++)
        g_queue_clear_full (&self->backlogs[i], (GDestroyNotify) mpire_chunk_free);
      g_free (self->backlogs);
      g_ptr_array_set_size (self->slots, n);
      self->backlogs = g_new0 (GQueue, n);
      self->workers_stale = FALSE;
      self->active_method = self->start_method;
      /* A new server for the new settings; the old one goes once the
       * workers it forked are gone. */
      g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
    }
  if (starting)
    {
      gboolean all_new = TRUE;

      self->active_order_tasks = self->order_tasks;
      self->n_idle_deaths = 0;
      watch_timeouts (self, self->init_timeout);
      watch_timeouts (self, self->exit_timeout);
      for (guint i = 0; i < self->slots->len; i++)
        all_new = all_new && self->slots->pdata[i] == NULL;
      /* As in MPIRE, insights start anew with all the workers. */
      if (all_new)
        mpire_insights_reset (self->insights, self->enable_insights, self->slots->len);
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

  parked = self->active_method == MPIRE_START_METHOD_FORK && self->thread != NULL;
  if (parked)
    park_thread (self);

  for (int i = 0; i < n; i++)
    {
      g_autofree int *close_fds = g_new (int, self->links->len + 1);
      MpireWorkerStartInfo info = { 0 };
      MpireWorkerLink *link;

      if (self->slots->pdata[i] != NULL)
        continue;
      if (self->active_method == MPIRE_START_METHOD_FORKSERVER &&
          !ensure_fork_server (self, &start_error))
        break;

      for (guint j = 0; j < self->links->len; j++)
        close_fds[info.n_close_fds++] = mpire_worker_link_get_fd (self->links->pdata[j]);
      info.worker_id = i;
      info.argv = (const char * const *) argv;
      info.fork_server = self->fork_server;
      info.cpus = self->cpu_sets != NULL && (guint) i < self->cpu_sets->len
        ? &g_array_index (self->cpu_sets, cpu_set_t, i) : NULL;
      info.shared_objects = !reruns_program (self->active_method) ? self->shared_objects : NULL;
      info.close_fds = close_fds;

      link = mpire_worker_link_start (self->active_method, &info, &self->lock, self->context,
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
        mpire_map_job_post_worker (job, MPIRE_JOB_WORKER_STARTED, i, NULL);
      if (!mpire_worker_link_send (link, MPIRE_MESSAGE_HELLO,
                                   g_variant_new ("(ibbb@mv)", i, self->pass_worker_id,
                                                  self->use_worker_state, self->daemon,
                                                  g_variant_new_maybe (G_VARIANT_TYPE_VARIANT,
                                                                       reruns_program (self->active_method) &&
                                                                       self->shared_objects != NULL
                                                                         ? g_variant_new_variant (self->shared_objects)
                                                                         : NULL)),
                                   &start_error))
        {
          retire (self, link, TRUE);
          break;
        }
      send_config (self, link);
    }

  if (parked)
    unpark_thread (self);
  ensure_thread (self);

  if (start_error != NULL)
    {
      g_propagate_error (error, start_error);
      return FALSE;
    }

  dispatch (self);
  return TRUE;
}

void
mpire_worker_pool_submit (MpireWorkerPool *self,
                          MpireChunk      *chunk)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  mpire_worker_pool_submit_locked (self, chunk);
}

/* mpire_worker_pool_submit(), with the pool's lock held. */
void
mpire_worker_pool_submit_locked (MpireWorkerPool *self,
                                 MpireChunk      *chunk)
{
  watch_timeouts (self, chunk->timeout);
  g_queue_push_tail (self->active_order_tasks ? &self->backlogs[chunk->index % self->slots->len]
                                              : &self->pending,
                     chunk);
  dispatch (self);
}

/* @job, a map, submitted its last chunk. */
void
mpire_worker_pool_submit_done (MpireWorkerPool *self,
                               MpireMapJob     *job)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  mpire_worker_pool_submit_done_locked (self, job);
}

/* mpire_worker_pool_submit_done(), with the pool's lock held. */
void
mpire_worker_pool_submit_done_locked (MpireWorkerPool *self,
                                      MpireMapJob     *job)
{
  if (self->job != job || self->job_submitted)
    return;
  self->job_submitted = TRUE;
  dispatch (self);
}

static void
remove_job_chunks (GQueue      *queue,
                   MpireMapJob *job)
{
  GList *l = queue->head;

  while (l != NULL)
    {
      GList *next = l->next;
      MpireChunk *chunk = l->data;

      if (chunk->job == job)
        {
          g_queue_delete_link (queue, l);
          mpire_chunk_free (chunk);
        }
      l = next;
    }
}

/* Ends the pool's part of @job: none of its chunks stays anywhere. A
 * worker running one of them is killed (stopped, for a thread). Without
 * keep-alive, a call that succeeded stops its workers, and the pool
 * stays the call's until they are gone (their worker_exit has run):
 * then it posts MPIRE_JOB_STOPPED, and this returns TRUE. */
gboolean
mpire_worker_pool_release (MpireWorkerPool *self,
                           MpireMapJob     *job,
                           gboolean         abort)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  /* Exits to come may have a timeout; on_gone() stops the watch then. */
  if (self->exit_timeout == 0)
    unwatch_timeouts (self);
  remove_job_chunks (&self->pending, job);
  for (guint i = 0; self->backlogs != NULL && i < self->slots->len; i++)
    remove_job_chunks (&self->backlogs[i], job);

  for (guint i = 0; i < self->links->len; i++)
    {
      MpireWorkerLink *link = self->links->pdata[i];
      GQueue *chunks = mpire_worker_link_get_chunks (link);
      guint before = g_queue_get_length (chunks);

      remove_job_chunks (chunks, job);
      if (g_queue_get_length (chunks) != before)
        retire (self, link, TRUE);
    }

  /* Workers of apply tasks stay, for the next ones (as in MPIRE). */
  if (!abort && !self->keep_alive && !mpire_map_job_is_apply (job))
    for (guint i = 0; i < self->slots->len; i++)
      if (self->slots->pdata[i] != NULL)
        stop_and_await (self, self->slots->pdata[i]);

  if (self->job != job)
    return FALSE;
  /* Without keep-alive, the workers a failed call left idle go too,
   * told to stop, without waiting for them. */
  if (abort && !self->keep_alive && !mpire_map_job_is_apply (job))
    for (guint i = 0; i < self->slots->len; i++)
      if (self->slots->pdata[i] != NULL)
        retire (self, self->slots->pdata[i], FALSE);
  if (!abort && self->stopping->len > 0)
    {
      self->job_stopping = TRUE;
      return TRUE;
    }
  g_ptr_array_set_size (self->stopping, 0);
  self->job = NULL;
  g_cond_broadcast (&self->cond);
  /* Workers (stopped early, or killed) may have told @job of their end
   * (or of their worker_exit's failure) after it took its last
   * messages: it takes them until this one, which comes after them. */
  if (mpire_map_job_has_messages (job))
    {
      mpire_map_job_post (job, MPIRE_JOB_STOPPED, NULL, NULL, FALSE, NULL);
      return TRUE;
    }
  return FALSE;
}

/* @job is going away while its workers stop: nobody is told. */
void
mpire_worker_pool_forget_job (MpireWorkerPool *self,
                              MpireMapJob     *job)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->job == job)
    {
      self->job = NULL;
      self->job_stopping = FALSE;
      g_ptr_array_set_size (self->stopping, 0);
    }
}

/* ---- GObject ----------------------------------------------------------- */

static void
mpire_worker_pool_dispose (GObject *object)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  mpire_worker_pool_terminate (self);
  unwatch_timeouts (self);
  stop_thread (self);
  g_clear_pointer (&self->apply_job, mpire_map_job_unref);

  G_OBJECT_CLASS (mpire_worker_pool_parent_class)->dispose (object);
}

static void
mpire_worker_pool_finalize (GObject *object)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  g_assert (self->links->len == 0);
  g_assert (self->fork_server == NULL);
  g_queue_clear_full (&self->pending, (GDestroyNotify) mpire_chunk_free);
  for (guint i = 0; self->backlogs != NULL && i < self->slots->len; i++)
    g_queue_clear_full (&self->backlogs[i], (GDestroyNotify) mpire_chunk_free);
  g_free (self->backlogs);
  g_ptr_array_unref (self->slots);
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->stopping);
  g_array_unref (self->worker_events);
  g_ptr_array_unref (self->exit_results);
  mpire_insights_free (self->insights);
  g_free (self->init_name);
  g_free (self->exit_name);
  g_clear_error (&self->join_error);
  g_clear_pointer (&self->shared_objects, g_variant_unref);
  g_clear_pointer (&self->cpu_ids, g_variant_unref);
  g_clear_pointer (&self->cpu_sets, g_array_unref);
  g_strfreev (self->worker_argv);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (mpire_worker_pool_parent_class)->finalize (object);
}

static void
mpire_worker_pool_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  switch (prop_id)
    {
    case PROP_N_JOBS:
      g_value_set_int (value, self->n_jobs);
      break;
    case PROP_START_METHOD:
      g_value_set_enum (value, self->start_method);
      break;
    case PROP_CPU_IDS:
      g_value_set_variant (value, self->cpu_ids);
      break;
    case PROP_DAEMON:
      g_value_set_boolean (value, self->daemon);
      break;
    case PROP_SHARED_OBJECTS:
      g_value_set_variant (value, self->shared_objects);
      break;
    case PROP_PASS_WORKER_ID:
      g_value_set_boolean (value, self->pass_worker_id);
      break;
    case PROP_USE_WORKER_STATE:
      g_value_set_boolean (value, self->use_worker_state);
      break;
    case PROP_KEEP_ALIVE:
      g_value_set_boolean (value, self->keep_alive);
      break;
    case PROP_ORDER_TASKS:
      g_value_set_boolean (value, self->order_tasks);
      break;
    case PROP_WORKER_ARGV:
      g_value_set_boxed (value, self->worker_argv);
      break;
    case PROP_ENABLE_INSIGHTS:
      g_value_set_boolean (value, self->enable_insights);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_worker_pool_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  MpireWorkerPool *self = MPIRE_WORKER_POOL (object);

  switch (prop_id)
    {
    case PROP_N_JOBS:
      mpire_worker_pool_set_n_jobs (self, g_value_get_int (value));
      break;
    case PROP_START_METHOD:
      mpire_worker_pool_set_start_method (self, g_value_get_enum (value));
      break;
    case PROP_CPU_IDS:
      mpire_worker_pool_set_cpu_ids (self, g_value_get_variant (value));
      break;
    case PROP_DAEMON:
      mpire_worker_pool_set_daemon (self, g_value_get_boolean (value));
      break;
    case PROP_SHARED_OBJECTS:
      mpire_worker_pool_set_shared_objects (self, g_value_get_variant (value));
      break;
    case PROP_PASS_WORKER_ID:
      mpire_worker_pool_set_pass_worker_id (self, g_value_get_boolean (value));
      break;
    case PROP_USE_WORKER_STATE:
      mpire_worker_pool_set_use_worker_state (self, g_value_get_boolean (value));
      break;
    case PROP_KEEP_ALIVE:
      mpire_worker_pool_set_keep_alive (self, g_value_get_boolean (value));
      break;
    case PROP_ORDER_TASKS:
      mpire_worker_pool_set_order_tasks (self, g_value_get_boolean (value));
      break;
    case PROP_WORKER_ARGV:
      mpire_worker_pool_set_worker_argv (self, g_value_get_boxed (value));
      break;
    case PROP_ENABLE_INSIGHTS:
      mpire_worker_pool_set_enable_insights (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_worker_pool_class_init (MpireWorkerPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = mpire_worker_pool_dispose;
  object_class->finalize = mpire_worker_pool_finalize;
  object_class->get_property = mpire_worker_pool_get_property;
  object_class->set_property = mpire_worker_pool_set_property;

  mpire_init_gettext ();

  /**
   * MpireWorkerPool:n-jobs:
   *
   * The number of workers; 0 means one per CPU ([func@Mpire.cpu_count]).
   * A negative value makes the next call fail with
   * %MPIRE_ERROR_INVALID_ARGUMENT.
   *
   * Since: 1.0
   */
  properties[PROP_N_JOBS] =
    g_param_spec_int ("n-jobs", NULL, NULL, G_MININT, G_MAXINT, 0, flags);

  /**
   * MpireWorkerPool:start-method:
   *
   * How workers are started. Changing it restarts the workers at the
   * next call; a fork server that is no longer needed stops at once
   * (after the workers it forked, if they are kept alive).
   *
   * Since: 1.0
   */
  properties[PROP_START_METHOD] =
    g_param_spec_enum ("start-method", NULL, NULL, MPIRE_TYPE_START_METHOD,
                       MPIRE_START_METHOD_SPAWN, flags);

  /**
   * MpireWorkerPool:cpu-ids:
   *
   * CPUs to pin the workers to, as MPIRE's `cpu_ids`: an array of CPU
   * numbers, one per worker (`[0, 1]`) or one for all (`[0]`), or an
   * array of arrays, a set per worker (`[[0, 1], [2, 3]]`) or one set for
   * all (`[[0, 1]]`). Any integer type will do. %NULL (the default) pins
   * nothing. Numbers must be below [func@Mpire.cpu_count], and an array
   * of per-worker entries must have one per worker; otherwise the next
   * call fails with %MPIRE_ERROR_INVALID_ARGUMENT. Changing it restarts
   * the workers at the next call.
   *
   * Since: 1.0
   */
  properties[PROP_CPU_IDS] =
    g_param_spec_variant ("cpu-ids", NULL, NULL, G_VARIANT_TYPE_ARRAY, NULL, flags);

  /**
   * MpireWorkerPool:daemon:
   *
   * MPIRE's daemon flag: whether workers are daemons. A task running in a
   * daemon worker that starts a call on a pool of its own gets
   * %MPIRE_ERROR_NOT_SUPPORTED at once (MPIRE's daemon processes cannot
   * have children); set it to %FALSE to allow nested pools. Changing it
   * restarts the workers at the next call.
   *
   * Since: 1.0
   */
  properties[PROP_DAEMON] =
    g_param_spec_boolean ("daemon", NULL, NULL, TRUE, flags);

  /**
   * MpireWorkerPool:shared-objects:
   *
   * A value every task can read with
   * [method@Mpire.WorkerContext.get_shared_objects]: shared by address
   * with [enum@Mpire.StartMethod.FORK] (copy-on-write) and
   * [enum@Mpire.StartMethod.THREADING], sent once to each worker with
   * [enum@Mpire.StartMethod.SPAWN] and [enum@Mpire.StartMethod.FORKSERVER].
   * Changing it restarts the workers at the next call.
   *
   * Since: 1.0
   */
  properties[PROP_SHARED_OBJECTS] =
    g_param_spec_variant ("shared-objects", NULL, NULL, G_VARIANT_TYPE_ANY, NULL, flags);

  /**
   * MpireWorkerPool:pass-worker-id:
   *
   * Whether tasks see their worker's id in
   * [method@Mpire.WorkerContext.get_worker_id] (otherwise -1). Changing
   * it restarts the workers at the next call.
   *
   * Since: 1.0
   */
  properties[PROP_PASS_WORKER_ID] =
    g_param_spec_boolean ("pass-worker-id", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:use-worker-state:
   *
   * Whether each worker keeps a state that its tasks read and replace
   * ([method@Mpire.WorkerContext.get_state]). Changing it restarts the
   * workers at the next call.
   *
   * Since: 1.0
   */
  properties[PROP_USE_WORKER_STATE] =
    g_param_spec_boolean ("use-worker-state", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:keep-alive:
   *
   * Whether workers, and their state, stay alive between calls. Without
   * it workers stop at the end of every call.
   *
   * Since: 1.0
   */
  properties[PROP_KEEP_ALIVE] =
    g_param_spec_boolean ("keep-alive", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:order-tasks:
   *
   * Whether chunk i goes to worker i modulo the number of workers, rather
   * than to whichever worker is free first.
   *
   * Since: 1.0
   */
  properties[PROP_ORDER_TASKS] =
    g_param_spec_boolean ("order-tasks", NULL, NULL, FALSE, flags);

  /**
   * MpireWorkerPool:worker-argv:
   *
   * The program run as a worker by [enum@Mpire.StartMethod.SPAWN], or as
   * the fork server of [enum@Mpire.StartMethod.FORKSERVER]; %NULL (the
   * default) runs the current program again, with its arguments and
   * working directory. The program must register the tasks it is sent
   * and call [func@Mpire.init].
   *
   * Since: 1.0
   */
  properties[PROP_WORKER_ARGV] =
    g_param_spec_boxed ("worker-argv", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * MpireWorkerPool:enable-insights:
   *
   * Whether workers measure where their time goes, for
   * [method@Mpire.WorkerPool.get_insights]: MPIRE's `enable_insights`.
   * It costs one clock reading per task. Changing it restarts the
   * workers at the next call.
   *
   * Since: 1.0
   */
  properties[PROP_ENABLE_INSIGHTS] =
    g_param_spec_boolean ("enable-insights", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MpireWorkerPool::progress:
   * @self: the pool
   * @done: tasks done so far: completed for `map`, handed out for `imap`
   * @total: the number of tasks, or 0 when unknown
   *
   * Tells how far the running call is, in the thread-default main
   * context of the thread that started it. At most about 20 emissions a
   * second, so that even millions of tiny tasks cannot flood a user
   * interface, and always a last one when the call ends.
   *
   * Since: 1.0
   */
  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);

  /**
   * MpireWorkerPool::task-failed:
   * @self: the pool
   * @error: the error the call fails with
   * @args: (nullable): the arguments of the failed task, or %NULL when
   *   they are not known (a worker that died while running a chunk)
   *
   * Emitted when a task of the running call fails, before the call
   * reports the error, in the context of the thread that started it.
   *
   * Since: 1.0
   */
  signals[TASK_FAILED] =
    g_signal_new ("task-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_ERROR, G_TYPE_VARIANT);

  /**
   * MpireWorkerPool::finished:
   * @self: the pool
   *
   * Emitted once when a call of the map family ends, whether it
   * succeeded, failed or was cancelled, after the last
   * [signal@Mpire.WorkerPool::progress] and before the call's result is
   * returned (or its callback runs).
   *
   * Since: 1.0
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * MpireWorkerPool::worker-started:
   * @self: the pool
   * @worker_id: the worker's id
   *
   * A worker was started (at the start of a call, or to replace one).
   * Worker signals come in the context of the thread that started the
   * running call, or, between calls, from
   * [method@Mpire.WorkerPool.stop_and_join] and
   * [method@Mpire.WorkerPool.terminate] in their caller's thread.
   *
   * Since: 1.0
   */
  signals[WORKER_STARTED] =
    g_signal_new ("worker-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  /**
   * MpireWorkerPool::worker-exited:
   * @self: the pool
   * @worker_id: the worker's id
   *
   * A worker the pool told to go (at the end of a call, its lifespan,
   * a join, a terminate) is gone.
   *
   * Since: 1.0
   */
  signals[WORKER_EXITED] =
    g_signal_new ("worker-exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  /**
   * MpireWorkerPool::worker-died:
   * @self: the pool
   * @worker_id: the worker's id
   * @error: how it ended (%MPIRE_ERROR_WORKER_DIED, naming the signal or
   *   exit status)
   *
   * A worker ended that the pool had not told to go: a crash, a signal,
   * an exit of its own.
   *
   * Since: 1.0
   */
  signals[WORKER_DIED] =
    g_signal_new ("worker-died", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_ERROR);
}

void
mpire_worker_pool_emit_worker (MpireWorkerPool *self,
                               MpireJobEvent    event,
                               int              worker_id,
                               const GError    *error)
{
  if (event == MPIRE_JOB_WORKER_STARTED)
    g_signal_emit (self, signals[WORKER_STARTED], 0, worker_id);
  else if (event == MPIRE_JOB_WORKER_EXITED)
    g_signal_emit (self, signals[WORKER_EXITED], 0, worker_id);
  else
    g_signal_emit (self, signals[WORKER_DIED], 0, worker_id, error);
}

void
mpire_worker_pool_emit_progress (MpireWorkerPool *self,
                                 gint64           done,
                                 gint64           total)
{
  g_signal_emit (self, signals[PROGRESS], 0, done, total);
}

void
mpire_worker_pool_emit_task_failed (MpireWorkerPool *self,
                                    const GError    *error,
                                    GVariant        *args)
{
  g_signal_emit (self, signals[TASK_FAILED], 0, error, args);
}

void
mpire_worker_pool_emit_finished (MpireWorkerPool *self)
{
  g_signal_emit (self, signals[FINISHED], 0);
}

static void
mpire_worker_pool_init (MpireWorkerPool *self)
{
  self->daemon = TRUE;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->slots = g_ptr_array_new ();
  self->links = g_ptr_array_new ();
  self->stopping = g_ptr_array_new ();
  self->worker_events = g_array_new (FALSE, FALSE, sizeof (WorkerEvent));
  g_array_set_clear_func (self->worker_events, (GDestroyNotify) worker_event_clear);
  self->exit_results = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  self->insights = mpire_insights_new ();
  g_queue_init (&self->pending);
}

/**
 * mpire_worker_pool_new:
 * @n_jobs: the number of workers, or 0 for one per CPU
 * @start_method: how to start the workers
 *
 * Creates a pool. No worker starts before the first call.
 *
 * Returns: (transfer full): a new pool
 *
 * Since: 1.0
 */
MpireWorkerPool *
mpire_worker_pool_new (int              n_jobs,
                       MpireStartMethod start_method)
{
  return g_object_new (MPIRE_TYPE_WORKER_POOL,
                       "n-jobs", n_jobs,
                       "start-method", start_method,
                       NULL);
}

static void
set_flag (MpireWorkerPool *self,
          gboolean        *field,
          gboolean         value,
          guint            prop_id,
          gboolean         restarts)
{
  value = !!value;
  if (*field == value)
    return;

  *field = value;
  if (restarts)
    self->workers_stale = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

/**
 * mpire_worker_pool_get_n_jobs:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:n-jobs].
 *
 * Returns: the number of workers, 0 for one per CPU
 *
 * Since: 1.0
 */
int
mpire_worker_pool_get_n_jobs (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), 0);
  return self->n_jobs;
}

/**
 * mpire_worker_pool_set_n_jobs:
 * @self: a pool
 * @n_jobs: the number of workers, 0 for one per CPU
 *
 * Sets [property@Mpire.WorkerPool:n-jobs].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_n_jobs (MpireWorkerPool *self,
                              int              n_jobs)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (self->n_jobs == n_jobs)
    return;
  self->n_jobs = n_jobs;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_JOBS]);
}

/**
 * mpire_worker_pool_get_start_method:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:start-method].
 *
 * Returns: the start method
 *
 * Since: 1.0
 */
MpireStartMethod
mpire_worker_pool_get_start_method (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), MPIRE_START_METHOD_SPAWN);
  return self->start_method;
}

/**
 * mpire_worker_pool_set_start_method:
 * @self: a pool
 * @start_method: the start method
 *
 * Sets [property@Mpire.WorkerPool:start-method].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_start_method (MpireWorkerPool  *self,
                                    MpireStartMethod  start_method)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (self->start_method == start_method)
    return;
  self->start_method = start_method;
  self->workers_stale = TRUE;
  /* Between calls the fork server goes now (once the workers it forked
   * are gone); a running call may still need it. */
  g_mutex_lock (&self->lock);
  if (self->job == NULL)
    g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_START_METHOD]);
}

/**
 * mpire_worker_pool_get_cpu_ids:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:cpu-ids].
 *
 * Returns: (transfer none) (nullable): the CPU ids
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_get_cpu_ids (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return self->cpu_ids;
}

/**
 * mpire_worker_pool_set_cpu_ids:
 * @self: a pool
 * @cpu_ids: (nullable): an array of CPU ids or of arrays of them
 *
 * Sets [property@Mpire.WorkerPool:cpu-ids].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_cpu_ids (MpireWorkerPool *self,
                               GVariant        *cpu_ids)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (cpu_ids != NULL)
    g_variant_ref_sink (cpu_ids);
  g_clear_pointer (&self->cpu_ids, g_variant_unref);
  self->cpu_ids = cpu_ids;
  self->workers_stale = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CPU_IDS]);
}

/**
 * mpire_worker_pool_get_daemon:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:daemon].
 *
 * Returns: whether workers are daemons
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_get_daemon (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), TRUE);
  return self->daemon;
}

/**
 * mpire_worker_pool_set_daemon:
 * @self: a pool
 * @daemon: whether workers are daemons
 *
 * Sets [property@Mpire.WorkerPool:daemon].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_daemon (MpireWorkerPool *self,
                              gboolean         daemon)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->daemon, daemon, PROP_DAEMON, TRUE);
}

/**
 * mpire_worker_pool_get_shared_objects:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:shared-objects].
 *
 * Returns: (transfer none) (nullable): the shared objects
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_get_shared_objects (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return self->shared_objects;
}

/**
 * mpire_worker_pool_set_shared_objects:
 * @self: a pool
 * @shared_objects: (nullable): the value shared with every task
 *
 * Sets [property@Mpire.WorkerPool:shared-objects].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_shared_objects (MpireWorkerPool *self,
                                      GVariant        *shared_objects)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  if (shared_objects != NULL)
    g_variant_ref_sink (shared_objects);
  g_clear_pointer (&self->shared_objects, g_variant_unref);
  self->shared_objects = shared_objects;
  self->workers_stale = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARED_OBJECTS]);
}

/**
 * mpire_worker_pool_get_pass_worker_id:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:pass-worker-id].
 *
 * Returns: whether tasks see their worker's id
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_get_pass_worker_id (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->pass_worker_id;
}

/**
 * mpire_worker_pool_set_pass_worker_id:
 * @self: a pool
 * @pass_worker_id: whether tasks see their worker's id
 *
 * Sets [property@Mpire.WorkerPool:pass-worker-id].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_pass_worker_id (MpireWorkerPool *self,
                                      gboolean         pass_worker_id)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->pass_worker_id, pass_worker_id, PROP_PASS_WORKER_ID, TRUE);
}

/**
 * mpire_worker_pool_get_use_worker_state:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:use-worker-state].
 *
 * Returns: whether workers keep a state
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_get_use_worker_state (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->use_worker_state;
}

/**
 * mpire_worker_pool_set_use_worker_state:
 * @self: a pool
 * @use_worker_state: whether workers keep a state
 *
 * Sets [property@Mpire.WorkerPool:use-worker-state].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_use_worker_state (MpireWorkerPool *self,
                                        gboolean         use_worker_state)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->use_worker_state, use_worker_state, PROP_USE_WORKER_STATE, TRUE);
}

/**
 * mpire_worker_pool_get_keep_alive:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:keep-alive].
 *
 * Returns: whether workers live on between calls
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_get_keep_alive (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->keep_alive;
}

/**
 * mpire_worker_pool_set_keep_alive:
 * @self: a pool
 * @keep_alive: whether workers live on between calls
 *
 * Sets [property@Mpire.WorkerPool:keep-alive].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_keep_alive (MpireWorkerPool *self,
                                  gboolean         keep_alive)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->keep_alive, keep_alive, PROP_KEEP_ALIVE, FALSE);
}

/**
 * mpire_worker_pool_get_order_tasks:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:order-tasks].
 *
 * Returns: whether chunks go to workers in turn
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_get_order_tasks (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->order_tasks;
}

/**
 * mpire_worker_pool_set_order_tasks:
 * @self: a pool
 * @order_tasks: whether chunks go to workers in turn
 *
 * Sets [property@Mpire.WorkerPool:order-tasks].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_order_tasks (MpireWorkerPool *self,
                                   gboolean         order_tasks)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->order_tasks, order_tasks, PROP_ORDER_TASKS, FALSE);
}

/**
 * mpire_worker_pool_get_worker_argv:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:worker-argv].
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   worker program, or %NULL for the current program
 *
 * Since: 1.0
 */
const char * const *
mpire_worker_pool_get_worker_argv (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  return (const char * const *) self->worker_argv;
}

/**
 * mpire_worker_pool_set_worker_argv:
 * @self: a pool
 * @worker_argv: (nullable) (array zero-terminated=1): the worker program
 *   and its arguments, or %NULL for the current program
 *
 * Sets [property@Mpire.WorkerPool:worker-argv].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_worker_argv (MpireWorkerPool    *self,
                                   const char * const *worker_argv)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  g_return_if_fail (worker_argv == NULL || worker_argv[0] != NULL);

  g_strfreev (self->worker_argv);
  self->worker_argv = g_strdupv ((char **) worker_argv);
  self->workers_stale = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER_ARGV]);
}

/**
 * mpire_worker_pool_get_enable_insights:
 * @self: a pool
 *
 * Gets [property@Mpire.WorkerPool:enable-insights].
 *
 * Returns: whether workers measure insights
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_get_enable_insights (MpireWorkerPool *self)
{
  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  return self->enable_insights;
}

/**
 * mpire_worker_pool_set_enable_insights:
 * @self: a pool
 * @enable_insights: whether workers measure insights
 *
 * Sets [property@Mpire.WorkerPool:enable-insights].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_set_enable_insights (MpireWorkerPool *self,
                                       gboolean         enable_insights)
{
  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));
  set_flag (self, &self->enable_insights, enable_insights, PROP_ENABLE_INSIGHTS, TRUE);
}

/* The pool's insights, for mpire-insights.c: its lock protects them. */
MpireInsights *
mpire_worker_pool_peek_insights (MpireWorkerPool *self)
{
  return self->insights;
}

/* ---- calls ------------------------------------------------------------- */

static gboolean
check_timeout (double       seconds,
               const char  *name,
               GError     **error)
{
  if (seconds == -1 || seconds > 0)
    return TRUE;
  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
               _("The map option “%s” must be a positive number of seconds, or -1 for "
                 "none (it is %g)"), name, seconds);
  return FALSE;
}

/* Checks the call and claims the pool for it. */
static MpireMapJob *
begin_call (MpireWorkerPool  *self,
            MpireTask        *task,
            GVariant         *iterable,
            MpireMapOptions  *options,
            gboolean          ordered,
            gboolean          collect,
            gboolean          apply,
            GError          **error)
{
  g_autoptr(GArray) cpu_sets = NULL;
  MpireMapJob *job;

  if (self->n_jobs < 0)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("A pool needs at least one worker; n-jobs is %d (0 means one per CPU)"),
                   self->n_jobs);
      return NULL;
    }
  if (g_getenv (MPIRE_WORKER_FD_ENV) != NULL)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                           _("This process was started as a worker but never called "
                             "mpire_init(): call it at the start of the program"));
      return NULL;
    }
  if (mpire_worker_is_daemon ())
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED,
                           _("A task of a daemon pool cannot run a pool of its own; set the "
                             "outer pool’s daemon property to FALSE to allow nested pools"));
      return NULL;
    }
  if (!check_task (self, task, error))
    return NULL;
  /* A task that takes whole chunks takes arrays of the input's type. */
  if (iterable != NULL && mpire_task_get_args_type (task) != NULL &&
      g_variant_is_of_type (iterable, G_VARIANT_TYPE_ARRAY) &&
      !g_variant_type_is_subtype_of (options != NULL && mpire_map_options_get_array_chunks (options)
                                       ? g_variant_get_type (iterable)
                                       : g_variant_type_element (g_variant_get_type (iterable)),
                                     mpire_task_get_args_type (task)))
    {
      g_autofree char *wanted = g_variant_type_dup_string (mpire_task_get_args_type (task));

      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("Task “%s” takes arguments of type “%s”, but the input is of type “%s”"),
                   mpire_task_get_name (task), wanted, g_variant_get_type_string (iterable));
      return NULL;
    }

  if (options != NULL &&
      (!check_timeout (mpire_map_options_get_task_timeout (options), "task-timeout", error) ||
       !check_timeout (mpire_map_options_get_worker_init_timeout (options), "worker-init-timeout",
                       error) ||
       !check_timeout (mpire_map_options_get_worker_exit_timeout (options), "worker-exit-timeout",
                       error)))
    return NULL;

  if (self->cpu_ids != NULL)
    {
      cpu_sets = parse_cpu_ids (self->cpu_ids, effective_n_jobs (self), error);
      if (cpu_sets == NULL)
        return NULL;
    }

  job = apply
    ? mpire_map_job_new_apply (self, task, options, effective_n_jobs (self), error)
    : mpire_map_job_new (self, task, iterable, options, ordered, collect,
                         effective_n_jobs (self), error);
  if (job == NULL)
    return NULL;

  g_mutex_lock (&self->lock);
  if (self->job != NULL)
    {
      g_mutex_unlock (&self->lock);
      mpire_map_job_unref (job);
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_POOL_BUSY,
                           _("Another map is still running on this pool; finish it (or "
                             "exhaust its result iterator) before starting a new one"));
      return NULL;
    }
  self->job = job;
  self->job_submitted = FALSE;
  g_free (self->init_name);
  g_free (self->exit_name);
  self->init_name = options != NULL && mpire_map_options_get_worker_init (options) != NULL
    ? g_strdup (mpire_task_get_name (mpire_map_options_get_worker_init (options))) : NULL;
  self->exit_name = options != NULL && mpire_map_options_get_worker_exit (options) != NULL
    ? g_strdup (mpire_task_get_name (mpire_map_options_get_worker_exit (options))) : NULL;
  /* Apply tasks may each have a timeout of their own. */
  self->timed = apply || (options != NULL && mpire_map_options_get_task_timeout (options) > 0);
  self->lifespan = options != NULL ? mpire_map_options_get_worker_lifespan (options) : 0;
  self->init_timeout = options != NULL
    ? mpire_timeout_usec (mpire_map_options_get_worker_init_timeout (options)) : 0;
  self->exit_timeout = options != NULL
    ? mpire_timeout_usec (mpire_map_options_get_worker_exit_timeout (options)) : 0;
  g_clear_pointer (&self->cpu_sets, g_array_unref);
  self->cpu_sets = g_steal_pointer (&cpu_sets);
  g_ptr_array_set_size (self->exit_results, 0);
  g_mutex_unlock (&self->lock);

  return job;
}

static void
map_job_done (MpireMapJob *job,
              gpointer     data)
{
  GTask *task = data;
  GError *error = NULL;
  GVariant *result;

  if (!mpire_map_job_is_finished (job))
    return;

  result = mpire_map_job_collect (job, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) g_variant_unref);
  g_object_unref (task);
}

static void
start_map (MpireWorkerPool     *self,
           MpireTask           *task,
           GVariant            *iterable,
           MpireMapOptions     *options,
           gboolean             ordered,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data,
           gpointer             source_tag)
{
  GTask *gtask = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  g_autoptr(MpireMapJob) job = NULL;
  /* Taken even when the call fails early: a floating input is ours. */
  g_autoptr(GVariant) input = iterable != NULL ? g_variant_ref_sink (iterable) : NULL;

  g_task_set_source_tag (gtask, source_tag);

  job = begin_call (self, task, input, options, ordered, TRUE, FALSE, &error);
  if (job == NULL)
    {
      g_task_return_error (gtask, error);
      g_object_unref (gtask);
      return;
    }

  g_task_set_task_data (gtask, mpire_map_job_ref (job), (GDestroyNotify) mpire_map_job_unref);
  /* The GTask's reference is dropped by map_job_done when the job ends. */
  mpire_map_job_start (job, cancellable, map_job_done, gtask);
}

typedef struct
{
  GAsyncResult *result;
} SyncData;

static void
sync_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  SyncData *data = user_data;

  data->result = g_object_ref (result);
}

/* Blocking over async: the call runs in a private main context. */
static GAsyncResult *
run_sync (MpireWorkerPool  *self,
          MpireTask        *task,
          GVariant         *iterable,
          MpireMapOptions  *options,
          gboolean          ordered,
          GCancellable     *cancellable,
          gpointer          source_tag)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  SyncData data = { NULL };

  g_main_context_push_thread_default (context);
  start_map (self, task, iterable, options, ordered, cancellable, sync_done, &data, source_tag);
  while (data.result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  return data.result;
}

static GVariant *
finish_map (MpireWorkerPool  *self,
            GAsyncResult     *result,
            gpointer          source_tag,
            GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

#define CHECK_CALL(val)                                                          \
  G_STMT_START {                                                                 \
    g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), val);                     \
    g_return_val_if_fail (MPIRE_IS_TASK (task), val);                            \
    g_return_val_if_fail (options == NULL || MPIRE_IS_MAP_OPTIONS (options), val); \
  } G_STMT_END

#define CHECK_ASYNC_CALL()                                                       \
  G_STMT_START {                                                                 \
    g_return_if_fail (MPIRE_IS_WORKER_POOL (self));                              \
    g_return_if_fail (MPIRE_IS_TASK (task));                                     \
    g_return_if_fail (options == NULL || MPIRE_IS_MAP_OPTIONS (options));        \
    g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));    \
  } G_STMT_END

/**
 * mpire_worker_pool_map:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array: each element is one task's arguments
 *   (a tuple for several values, an `a{sv}` for named ones); %NULL to
 *   take the tasks from the lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs @task on every element of the input and waits for all results.
 *
 * The results come in input order, as an array of the results' type when
 * they all share one (`ax` for tasks returning `x`), otherwise as `av`;
 * an empty input gives an empty `av`.
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_map (MpireWorkerPool  *self,
                       MpireTask        *task,
                       GVariant         *iterable,
                       MpireMapOptions  *options,
                       GCancellable     *cancellable,
                       GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = run_sync (self, task, iterable, options, TRUE, cancellable, mpire_worker_pool_map_async);
  return mpire_worker_pool_map_finish (self, result, error);
}

/**
 * mpire_worker_pool_map_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the work
 *   and kills the workers running it
 * @callback: (scope async): called when all results are in, or on error
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.map] without blocking. @callback runs
 * in the thread-default main context of the calling thread; finish with
 * [method@Mpire.WorkerPool.map_finish].
 *
 * Since: 1.0
 */
void
mpire_worker_pool_map_async (MpireWorkerPool     *self,
                             MpireTask           *task,
                             GVariant            *iterable,
                             MpireMapOptions     *options,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  start_map (self, task, iterable, options, TRUE, cancellable, callback, user_data,
             mpire_worker_pool_map_async);
}

/**
 * mpire_worker_pool_map_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the results of [method@Mpire.WorkerPool.map_async].
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_map_finish (MpireWorkerPool  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  return finish_map (self, result, mpire_worker_pool_map_async, error);
}

/**
 * mpire_worker_pool_map_unordered:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Like [method@Mpire.WorkerPool.map], with the results in the order the
 * chunks of tasks completed.
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_map_unordered (MpireWorkerPool  *self,
                                 MpireTask        *task,
                                 GVariant         *iterable,
                                 MpireMapOptions  *options,
                                 GCancellable     *cancellable,
                                 GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = run_sync (self, task, iterable, options, FALSE, cancellable,
                     mpire_worker_pool_map_unordered_async);
  return mpire_worker_pool_map_unordered_finish (self, result, error);
}

/**
 * mpire_worker_pool_map_unordered_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when all results are in, or on error
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.map_unordered] without blocking.
 *
 * Since: 1.0
 */
void
mpire_worker_pool_map_unordered_async (MpireWorkerPool     *self,
                                       MpireTask           *task,
                                       GVariant            *iterable,
                                       MpireMapOptions     *options,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  start_map (self, task, iterable, options, FALSE, cancellable, callback, user_data,
             mpire_worker_pool_map_unordered_async);
}

/**
 * mpire_worker_pool_map_unordered_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the results of [method@Mpire.WorkerPool.map_unordered_async].
 *
 * Returns: (transfer full): the array of results, or %NULL on error
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_map_unordered_finish (MpireWorkerPool  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  return finish_map (self, result, mpire_worker_pool_map_unordered_async, error);
}

static MpireResultIter *
start_imap (MpireWorkerPool  *self,
            MpireTask        *task,
            GVariant         *iterable,
            MpireMapOptions  *options,
            gboolean          ordered,
            GMainContext     *private_context,
            GCancellable     *cancellable,
            GError          **error)
{
  g_autoptr(GVariant) input = iterable != NULL ? g_variant_ref_sink (iterable) : NULL;
  g_autoptr(MpireMapJob) job = begin_call (self, task, input, options, ordered, FALSE, FALSE, error);
  MpireResultIter *iter;

  if (job == NULL)
    return NULL;

  if (private_context != NULL)
    g_main_context_push_thread_default (private_context);
  iter = mpire_result_iter_new (job, private_context);
  mpire_result_iter_start (iter, cancellable);
  if (private_context != NULL)
    g_main_context_pop_thread_default (private_context);

  return iter;
}

static MpireResultIter *
imap_sync (MpireWorkerPool  *self,
           MpireTask        *task,
           GVariant         *iterable,
           MpireMapOptions  *options,
           gboolean          ordered,
           GError          **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();

  return start_imap (self, task, iterable, options, ordered, context, NULL, error);
}

static void
imap_async (MpireWorkerPool     *self,
            MpireTask           *task,
            GVariant            *iterable,
            MpireMapOptions     *options,
            gboolean             ordered,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data,
            gpointer             source_tag)
{
  g_autoptr(GTask) gtask = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  MpireResultIter *iter;

  g_task_set_source_tag (gtask, source_tag);
  iter = start_imap (self, task, iterable, options, ordered, NULL, cancellable, &error);
  if (iter == NULL)
    g_task_return_error (gtask, error);
  else
    g_task_return_pointer (gtask, iter, g_object_unref);
}

static MpireResultIter *
imap_finish (MpireWorkerPool  *self,
             GAsyncResult     *result,
             gpointer          source_tag,
             GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mpire_worker_pool_imap:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @error: return location for a #GError
 *
 * Starts running @task on the input and returns the results one by one,
 * in input order, through [method@Mpire.ResultIter.next].
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 1.0
 */
MpireResultIter *
mpire_worker_pool_imap (MpireWorkerPool  *self,
                        MpireTask        *task,
                        GVariant         *iterable,
                        MpireMapOptions  *options,
                        GError          **error)
{
  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return imap_sync (self, task, iterable, options, TRUE, error);
}

/**
 * mpire_worker_pool_imap_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @callback: (scope async): called with the iterator
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.imap] in the calling thread's
 * thread-default main context: the iterator's
 * [method@Mpire.ResultIter.next_async] then never blocks it.
 *
 * Since: 1.0
 */
void
mpire_worker_pool_imap_async (MpireWorkerPool     *self,
                              MpireTask           *task,
                              GVariant            *iterable,
                              MpireMapOptions     *options,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  imap_async (self, task, iterable, options, TRUE, cancellable, callback, user_data,
              mpire_worker_pool_imap_async);
}

/**
 * mpire_worker_pool_imap_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the iterator of [method@Mpire.WorkerPool.imap_async].
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 1.0
 */
MpireResultIter *
mpire_worker_pool_imap_finish (MpireWorkerPool  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  return imap_finish (self, result, mpire_worker_pool_imap_async, error);
}

/**
 * mpire_worker_pool_imap_unordered:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @error: return location for a #GError
 *
 * Like [method@Mpire.WorkerPool.imap], with the results in completion
 * order.
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 1.0
 */
MpireResultIter *
mpire_worker_pool_imap_unordered (MpireWorkerPool  *self,
                                  MpireTask        *task,
                                  GVariant         *iterable,
                                  MpireMapOptions  *options,
                                  GError          **error)
{
  CHECK_CALL (NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return imap_sync (self, task, iterable, options, FALSE, error);
}

/**
 * mpire_worker_pool_imap_unordered_async:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @callback: (scope async): called with the iterator
 * @user_data: data for @callback
 *
 * Starts [method@Mpire.WorkerPool.imap_unordered] in the calling thread's
 * thread-default main context.
 *
 * Since: 1.0
 */
void
mpire_worker_pool_imap_unordered_async (MpireWorkerPool     *self,
                                        MpireTask           *task,
                                        GVariant            *iterable,
                                        MpireMapOptions     *options,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  CHECK_ASYNC_CALL ();

  imap_async (self, task, iterable, options, FALSE, cancellable, callback, user_data,
              mpire_worker_pool_imap_unordered_async);
}

/**
 * mpire_worker_pool_imap_unordered_finish:
 * @self: a pool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Gets the iterator of [method@Mpire.WorkerPool.imap_unordered_async].
 *
 * Returns: (transfer full): an iterator over the results, or %NULL on error
 *
 * Since: 1.0
 */
MpireResultIter *
mpire_worker_pool_imap_unordered_finish (MpireWorkerPool  *self,
                                         GAsyncResult     *result,
                                         GError          **error)
{
  return imap_finish (self, result, mpire_worker_pool_imap_unordered_async, error);
}

static MpireResultList *
imap_list (MpireWorkerPool  *self,
           MpireTask        *task,
           GVariant         *iterable,
           MpireMapOptions  *options,
           gboolean          ordered,
           GCancellable     *cancellable,
           GError          **error)
{
  g_autoptr(MpireResultIter) iter = NULL;

  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iter = start_imap (self, task, iterable, options, ordered, NULL, cancellable, error);
  return iter != NULL ? mpire_result_list_new (iter) : NULL;
}

/**
 * mpire_worker_pool_imap_list:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @error: return location for a #GError
 *
 * Starts [method@Mpire.WorkerPool.imap] in the calling thread's
 * thread-default main context and returns its results as a list model
 * that grows, in input order, while that context runs: the model of a
 * `GtkListView` for results as they come.
 *
 * Returns: (transfer full): the results, or %NULL if the call could not
 *   start
 *
 * Since: 1.0
 */
MpireResultList *
mpire_worker_pool_imap_list (MpireWorkerPool  *self,
                             MpireTask        *task,
                             GVariant         *iterable,
                             MpireMapOptions  *options,
                             GCancellable     *cancellable,
                             GError          **error)
{
  CHECK_CALL (NULL);

  return imap_list (self, task, iterable, options, TRUE, cancellable, error);
}

/**
 * mpire_worker_pool_imap_unordered_list:
 * @self: a pool
 * @task: the task to run for each element of the input
 * @iterable: (nullable): an array of task arguments, or %NULL for the
 *   lazy source of @options
 * @options: (nullable): options of the call, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable; cancelling stops the call
 * @error: return location for a #GError
 *
 * Like [method@Mpire.WorkerPool.imap_list], with the results in
 * completion order; [property@Mpire.Result:index] tells each one's task.
 *
 * Returns: (transfer full): the results, or %NULL if the call could not
 *   start
 *
 * Since: 1.0
 */
MpireResultList *
mpire_worker_pool_imap_unordered_list (MpireWorkerPool  *self,
                                       MpireTask        *task,
                                       GVariant         *iterable,
                                       MpireMapOptions  *options,
                                       GCancellable     *cancellable,
                                       GError          **error)
{
  CHECK_CALL (NULL);

  return imap_list (self, task, iterable, options, FALSE, cancellable, error);
}

static void
apply_job_changed (MpireMapJob *job,
                   gpointer     data)
{
  MpireWorkerPool *self = data;

  if (mpire_map_job_is_finished (job) && self->apply_job == job)
    g_clear_pointer (&self->apply_job, mpire_map_job_unref);
}

/**
 * mpire_worker_pool_apply_async:
 * @self: a pool
 * @task: the task to run
 * @args: the task's arguments, as a map gives one element of its input
 * @options: (nullable): options (worker-init, worker-exit, task-timeout
 *   and the like), used when the call starts the pool's workers
 * @error: return location for a #GError
 *
 * Runs @task once on a worker without waiting: MPIRE's `apply_async`.
 * Many such tasks run at once, on all the workers; each settles its own
 * [class@Mpire.AsyncResult] (a task that fails fails only its result).
 * The results complete in the thread-default main context of the thread
 * that started the current run of apply tasks. Workers stay after the
 * tasks, for the next ones, until [method@Mpire.WorkerPool.stop_and_join]
 * or [method@Mpire.WorkerPool.terminate].
 *
 * Fails with %MPIRE_ERROR_POOL_BUSY while a map runs.
 *
 * Returns: (transfer full): the task's result-to-be, or %NULL on error
 *
 * Since: 1.0
 */
MpireAsyncResult *
mpire_worker_pool_apply_async (MpireWorkerPool  *self,
                               MpireTask        *task,
                               GVariant         *args,
                               MpireMapOptions  *options,
                               GError          **error)
{
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(MpireAsyncResult) result = NULL;
  MpireMapJob *job;
  double timeout;

  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);
  g_return_val_if_fail (MPIRE_IS_TASK (task), NULL);
  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (options == NULL || MPIRE_IS_MAP_OPTIONS (options), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (args);
  if (!check_task (self, task, error))
    return NULL;
  timeout = options != NULL ? mpire_map_options_get_task_timeout (options) : -1;
  if (timeout != -1 && !(timeout > 0))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("The task timeout must be a positive number of seconds, or -1 for "
                     "none (it is %g)"), timeout);
      return NULL;
    }

  if (self->apply_job != NULL && !mpire_map_job_is_finished (self->apply_job))
    {
      result = mpire_async_result_new (mpire_map_job_get_context (self->apply_job));
      if (mpire_map_job_add_apply (self->apply_job, task, owned, timeout, G_OBJECT (result)))
        return g_steal_pointer (&result);
      g_clear_object (&result);
    }

  /* A new run of apply tasks, with this first one queued before the
   * workers start. */
  g_clear_pointer (&self->apply_job, mpire_map_job_unref);
  job = begin_call (self, task, NULL, options, FALSE, TRUE, TRUE, error);
  if (job == NULL)
    return NULL;
  self->apply_job = job;
  result = mpire_async_result_new (g_main_context_get_thread_default () != NULL
                                     ? g_main_context_get_thread_default ()
                                     : g_main_context_default ());
  mpire_map_job_add_apply (job, task, owned, timeout, G_OBJECT (result));
  /* A start that fails fails the result. */
  mpire_map_job_start (job, NULL, apply_job_changed, self);
  return g_steal_pointer (&result);
}

/**
 * mpire_worker_pool_apply:
 * @self: a pool
 * @task: the task to run
 * @args: the task's arguments
 * @options: (nullable): options, as for [method@Mpire.WorkerPool.apply_async]
 * @error: return location for a #GError
 *
 * Runs @task once on a worker and waits for its result: MPIRE's `apply`.
 *
 * Returns: (transfer full): what the task returned, or %NULL on error
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_apply (MpireWorkerPool  *self,
                         MpireTask        *task,
                         GVariant         *args,
                         MpireMapOptions  *options,
                         GError          **error)
{
  g_autoptr(MpireAsyncResult) result = mpire_worker_pool_apply_async (self, task, args, options, error);

  if (result == NULL)
    return NULL;
  return mpire_async_result_get (result, -1, error);
}

/* Tells, in the calling thread, how the workers ended while no call ran. */
static void
emit_worker_events (MpireWorkerPool *self)
{
  g_autoptr(GArray) events = NULL;

  g_mutex_lock (&self->lock);
  events = self->worker_events;
  self->worker_events = g_array_new (FALSE, FALSE, sizeof (WorkerEvent));
  g_array_set_clear_func (self->worker_events, (GDestroyNotify) worker_event_clear);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < events->len; i++)
    {
      WorkerEvent *event = &g_array_index (events, WorkerEvent, i);

      mpire_worker_pool_emit_worker (self, event->event, event->worker_id, event->error);
    }
}

static void
wait_for_links (MpireWorkerPool *self)
{
  while (self->links->len > 0)
    g_cond_wait (&self->cond, &self->lock);
}

/* As MPIRE's, a join lets the apply tasks run to their end first. Runs
 * their context until they are done when this thread can (it runs that
 * context, or nobody does), otherwise waits for the thread that runs it. */
static void
wait_for_apply_tasks (MpireWorkerPool *self)
{
  g_autoptr(GMainContext) context = NULL;
  gboolean owner;

  g_mutex_lock (&self->lock);
  if (self->job != NULL && mpire_map_job_is_apply (self->job) &&
      mpire_map_job_get_context (self->job) != NULL)
    context = g_main_context_ref (mpire_map_job_get_context (self->job));
  g_mutex_unlock (&self->lock);
  if (context == NULL)
    return;

  owner = g_main_context_acquire (context);
  g_mutex_lock (&self->lock);
  while (self->job != NULL && mpire_map_job_is_apply (self->job))
    {
      if (!owner)
        {
          g_cond_wait (&self->cond, &self->lock);
          continue;
        }
      g_mutex_unlock (&self->lock);
      g_main_context_iteration (context, TRUE);
      g_mutex_lock (&self->lock);
    }
  g_mutex_unlock (&self->lock);
  if (owner)
    g_main_context_release (context);
}

/**
 * mpire_worker_pool_stop_and_join:
 * @self: a pool
 * @error: return location for a #GError
 *
 * Tells the workers to stop once idle and waits until they all exited.
 * As in MPIRE, tasks of [method@Mpire.WorkerPool.apply_async] run to
 * their end first, so their results can be read afterwards.
 * Kept-alive workers run the latest call's worker_exit then: if one
 * fails or runs past its [property@Mpire.MapOptions:worker-exit-timeout],
 * the workers are gone all the same and this returns that error. The
 * next call starts new workers. Fails with %MPIRE_ERROR_POOL_BUSY while a
 * call is running.
 *
 * Returns: %TRUE once every worker is gone, %FALSE with @error set if a
 *   call is running or a worker_exit failed
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_stop_and_join (MpireWorkerPool  *self,
                                 GError          **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GError *join_error;

  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wait_for_apply_tasks (self);
  locker = g_mutex_locker_new (&self->lock);
  if (self->job != NULL)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_POOL_BUSY,
                           _("Cannot join the pool’s workers while a map is running"));
      return FALSE;
    }

  g_clear_error (&self->join_error);
  retire_all (self, FALSE);
  wait_for_links (self);
  join_error = g_steal_pointer (&self->join_error);
  g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
  g_clear_pointer (&locker, g_mutex_locker_free);
  emit_worker_events (self);
  if (join_error != NULL)
    {
      g_propagate_error (error, join_error);
      return FALSE;
    }
  return TRUE;
}

/**
 * mpire_worker_pool_join:
 * @self: a pool
 * @error: return location for a #GError
 *
 * The same as [method@Mpire.WorkerPool.stop_and_join], as in MPIRE.
 *
 * Returns: %TRUE once every worker is gone
 *
 * Since: 1.0
 */
gboolean
mpire_worker_pool_join (MpireWorkerPool  *self,
                        GError          **error)
{
  return mpire_worker_pool_stop_and_join (self, error);
}

/**
 * mpire_worker_pool_terminate:
 * @self: a pool
 *
 * Kills every worker process now (SIGKILL) and waits until all are
 * reaped; the running call, if any, fails with
 * %MPIRE_ERROR_POOL_TERMINATED. Threads cannot be killed: a threading
 * pool waits for the task each worker is running. The next call starts
 * new workers.
 *
 * Since: 1.0
 */
void
mpire_worker_pool_terminate (MpireWorkerPool *self)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_if_fail (MPIRE_IS_WORKER_POOL (self));

  locker = g_mutex_locker_new (&self->lock);
  if (self->job != NULL)
    mpire_map_job_post (self->job, MPIRE_JOB_TERMINATED, NULL, NULL, FALSE, NULL);
  retire_all (self, TRUE);
  wait_for_links (self);
  g_clear_pointer (&self->fork_server, mpire_fork_server_unref);
  g_clear_pointer (&locker, g_mutex_locker_free);
  emit_worker_events (self);
}

/**
 * mpire_worker_pool_get_exit_results:
 * @self: a pool
 *
 * Gets what the [property@Mpire.MapOptions:worker-exit] tasks returned,
 * one result per worker that stopped since the latest call started, in
 * the order the workers stopped: MPIRE's `get_exit_results()`. Without
 * keep-alive a call waits for its workers to stop, so the results are
 * there when it returns; kept-alive workers stop at
 * [method@Mpire.WorkerPool.stop_and_join].
 *
 * Returns: (transfer full): an `av` array of the exit results
 *
 * Since: 1.0
 */
GVariant *
mpire_worker_pool_get_exit_results (MpireWorkerPool *self)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autofree GVariant **boxes = NULL;

  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), NULL);

  locker = g_mutex_locker_new (&self->lock);
  boxes = g_new (GVariant *, self->exit_results->len + 1);
  for (guint i = 0; i < self->exit_results->len; i++)
    boxes[i] = g_variant_new_variant (self->exit_results->pdata[i]);
  return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARIANT, boxes,
                                                  self->exit_results->len));
}

/**
 * mpire_worker_pool_get_n_workers:
 * @self: a pool
 *
 * Gets the number of workers running now (started and not yet gone,
 * including those told to stop).
 *
 * Returns: the number of live workers
 *
 * Since: 1.0
 */
guint
mpire_worker_pool_get_n_workers (MpireWorkerPool *self)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (MPIRE_IS_WORKER_POOL (self), 0);

  locker = g_mutex_locker_new (&self->lock);
  return self->links->len;
}
