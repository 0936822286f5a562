/* mpire-worker.c: the worker side of the protocol
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-insights-private.h"
#include "mpire-protocol-private.h"
#include "mpire-result-buffer-private.h"
#include "mpire-task-private.h"
#include "mpire-worker-context-private.h"
#include "mpire-worker-memory-private.h"
#include "mpire-worker-private.h"

/* A worker serves one pool over its channel. Its states (`state`):
 *
 *   WORKER_NEW ──HELLO: its id and context──▶ WORKER_GREETED
 *   WORKER_GREETED ──CONFIG: its worker_init ran──▶ WORKER_SERVING
 *   WORKER_SERVING ──CONFIG (a kept-alive worker's next call: no
 *     worker_init), TASKS──▶ WORKER_SERVING
 *   any ──STOP (after worker_exit), a failed worker_init, a broken
 *     channel, or the pool's kill (a thread stops between two tasks)──▶
 *     the loop ends
 *
 * Set in the thread serving a worker process of a daemon pool: its tasks
 * may not start pools of their own. */
static GPrivate daemon_worker = G_PRIVATE_INIT (NULL);

gboolean
mpire_worker_is_daemon (void)
{
  return g_private_get (&daemon_worker) != NULL;
}

typedef enum {
  WORKER_NEW,
  WORKER_GREETED,
  WORKER_SERVING,
} WorkerState;

typedef struct
{
  WorkerState         state;
  int                 fd;        /* the channel: frames in */
  int                 out_fd;    /* and out (the same fd but for a launched worker) */
  gboolean            launched;  /* started through a launcher: no memory shared with
                                    the pool, the heartbeat goes in BEAT frames */
  gboolean            beat_timed; /* a launched worker's running task is timed */
  gboolean            in_thread; /* threading: a thread of the pool's process */
  GVariant           *shared_by_address;
  MpireWorkerContext *context;
  MpireTask          *task;      /* the last task looked up */
  char               *exit_task; /* worker_exit of the latest call, or NULL */
  MpireWorkerMemory  *memory;    /* shared with the pool */
  MpireHeartbeat     *heartbeat; /* in it */
  gboolean            timed;     /* the call has a task timeout */
  gboolean            partial;   /* the call retries chunks: each result goes
                                    once its task is done */
  gint64              ready_at;  /* when the HELLO came (monotonic µs) */
  MpireInsightsMeter *meter;     /* when insights are on */
  MpireResultBuffer  *results;   /* of the chunk running */
} Worker;

/* A worker the pool killed begins nothing more: a thread (which cannot
 * be killed) stops once the task it runs returns, and the call that
 * killed it waits for that task only. */
static gboolean
is_killed (Worker *worker)
{
  return worker->heartbeat != NULL && mpire_heartbeat_stop_requested (worker->heartbeat);
}

static gboolean
send_message (Worker           *worker,
              MpireMessageKind  kind,
              GVariant         *body,
              GError          **error)
{
  g_autoptr(GBytes) frame = mpire_frame_encode (kind, body,
                                                 worker->memory != NULL ? worker->memory->from_worker
                                                                        : NULL,
                                                 error);

  return frame != NULL && mpire_frame_write (worker->out_fd, frame, NULL);
}

/* The heartbeat: in the memory shared with the pool, or, for a launched
 * worker, in a BEAT frame per task (the pool copies it into its own). */
static void
beat_start (Worker   *worker,
            guint64   chunk_id,
            guint32   index,
            gboolean  timed)
{
  if (worker->heartbeat != NULL)
    mpire_heartbeat_task_start (worker->heartbeat, chunk_id, index, timed);
  else if (worker->launched)
    {
      MpireBeatMessage msg = { chunk_id, index, timed, TRUE };

      worker->beat_timed = timed;
      send_message (worker, MPIRE_MESSAGE_BEAT, mpire_message_beat_new (&msg), NULL);
    }
}

static void
beat_end (Worker *worker)
{
  if (worker->heartbeat != NULL)
    mpire_heartbeat_task_end (worker->heartbeat);
  else if (worker->launched && worker->beat_timed)
    {
      MpireBeatMessage msg = { 0, 0, FALSE, FALSE };

      worker->beat_timed = FALSE;
      send_message (worker, MPIRE_MESSAGE_BEAT, mpire_message_beat_new (&msg), NULL);
    }
}

/* The pool gets the worker's insights before each answer to a chunk, so
 * that they are complete when the call ends, and when the worker stops. */
static void
send_insights (Worker *worker)
{
  if (worker->meter != NULL)
    send_message (worker, MPIRE_MESSAGE_INSIGHTS,
                  mpire_insights_meter_take_report (worker->meter), NULL);
}

static gboolean
send_error (Worker       *worker,
            guint64       chunk_id,
            guint         index,
            const GError *error,
            const char   *task_name)
{
  MpireErrorMessage msg = {
    .chunk_id = chunk_id,
    .index = index,
    .domain = g_quark_to_string (error->domain),
    .code = error->code,
    .message = error->message,
    .task_name = task_name,
  };

  send_insights (worker);
  msg.results = mpire_result_buffer_end (worker->results, &msg.boxed);
  return send_message (worker, MPIRE_MESSAGE_ERROR, mpire_message_error_new (&msg), NULL);
}

static MpireTask *
find_task (Worker      *worker,
           const char  *name,
           GError     **error)
{
  if (worker->task != NULL && g_str_equal (mpire_task_get_name (worker->task), name))
    return worker->task;

  g_clear_object (&worker->task);
  worker->task = mpire_task_lookup (name);
  if (worker->task == NULL && worker->launched)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_NOT_REGISTERED,
                   _("No task named “%s” is registered in the worker program on host “%s” "
                     "(process %ld); create it with mpire_task_new() before calling "
                     "mpire_init(), on that side too"),
                   name, g_get_host_name (), (long) getpid ());
      return NULL;
    }
  if (worker->task == NULL)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_NOT_REGISTERED,
                   _("No task named “%s” is registered in the worker program; "
                     "create it with mpire_task_new() before calling mpire_init()"),
                   name);
      return NULL;
    }
  if (!mpire_task_can_run_on_thread (worker->task, g_thread_self ()))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED,
                   _("Task “%s” is written in a language that runs only on the thread "
                     "that created it (JavaScript); use the spawn start method"),
                   name);
      g_clear_object (&worker->task);
      return NULL;
    }

  return worker->task;
}

static gboolean
send_failed (Worker              *worker,
             const GError        *error,
             const char          *task_name,
             MpireLifecycleStage  stage)
{
  MpireFailedMessage msg = {
    .domain = g_quark_to_string (error->domain),
    .code = error->code,
    .message = error->message,
    .task_name = task_name,
    .stage = stage,
  };

  return send_message (worker, MPIRE_MESSAGE_FAILED, mpire_message_failed_new (&msg), NULL);
}

/* Runs worker_init or worker_exit (@stage in the heartbeat, which
 * times it): the task gets an empty tuple. */
static GVariant *
run_lifecycle_task (Worker      *worker,
                    const char  *name,
                    guint64      stage,
                    GError     **error)
{
  g_autoptr(MpireTask) task = mpire_task_lookup (name);
  GVariant *result;

  if (task == NULL)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_NOT_REGISTERED,
                   _("No task named “%s” is registered in the worker program; "
                     "create it with mpire_task_new() before calling mpire_init()"),
                   name);
      return NULL;
    }
  beat_start (worker, stage, 0, TRUE);
  result = mpire_task_invoke (task, worker->context, g_variant_new_tuple (NULL, 0), error);
  beat_end (worker);
  return result;
}

/* A call's worker_init runs once, when the worker serves its first call
 * (later calls of a kept-alive worker do not run theirs, as in MPIRE);
 * the worker_exit of the latest call runs when the worker stops. Returns
 * FALSE if the worker must stop. */
static gboolean
receive_config (Worker   *worker,
                GVariant *body)
{
  MpireConfigMessage msg;
  g_autoptr(GError) error = NULL;

  if (!mpire_message_config_parse (body, &msg, &error))
    {
      g_debug ("Worker stops: %s", error->message);
      return FALSE;
    }
  worker->timed = msg.timed;
  worker->partial = msg.partial;
  g_free (worker->exit_task);
  worker->exit_task = g_strdup (msg.worker_exit);
  if (msg.insights && worker->meter == NULL)
    worker->meter = mpire_insights_meter_new (worker->ready_at);
  else if (!msg.insights)
    g_clear_pointer (&worker->meter, mpire_insights_meter_free);

  if (worker->state == WORKER_GREETED && msg.worker_init != NULL)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GVariant) result = run_lifecycle_task (worker, msg.worker_init,
                                                       MPIRE_HEARTBEAT_WORKER_INIT, &error);

      if (worker->meter != NULL)
        mpire_insights_meter_add_since (worker->meter, MPIRE_INSIGHTS_INIT, start);
      if (result == NULL)
        {
          send_failed (worker, error, msg.worker_init, MPIRE_LIFECYCLE_STAGE_INIT);
          return FALSE;
        }
    }
  worker->state = WORKER_SERVING;
  return TRUE;
}

static void
run_exit (Worker *worker)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gint64 start;

  if (worker->exit_task == NULL || worker->state == WORKER_NEW)
    return;

  start = g_get_monotonic_time ();
  result = run_lifecycle_task (worker, worker->exit_task, MPIRE_HEARTBEAT_WORKER_EXIT, &error);
  if (worker->meter != NULL)
    mpire_insights_meter_add_since (worker->meter, MPIRE_INSIGHTS_EXIT, start);
  /* A result too large to send fails the exit instead of being lost. */
  if (result == NULL ||
      (!send_message (worker, MPIRE_MESSAGE_EXIT_RESULT,
                      mpire_message_exit_result_new (&(MpireExitResultMessage) { result }),
                      &error) &&
       error != NULL))
    send_failed (worker, error, worker->exit_task, MPIRE_LIFECYCLE_STAGE_EXIT);
}

static gboolean
run_chunk (Worker   *worker,
           GVariant *body)
{
  g_auto(MpireTasksMessage) msg = { 0 };
  guint64 chunk_id;
  const char *name;
  gboolean boxed, whole;
  GVariant *args;
  g_autoptr(GError) error = NULL;
  MpireTask *task;
  gsize n;
  gint64 task_start;

  /* Tasks that are not an array are answered (the body's type was
   * checked when the frame was read). */
  if (!mpire_message_tasks_parse (body, &msg, &error))
    return msg.task_name != NULL && send_error (worker, msg.chunk_id, 0, error, msg.task_name);
  chunk_id = msg.chunk_id;
  name = msg.task_name;
  boxed = msg.boxed;
  whole = msg.whole;
  args = msg.args;

  task = find_task (worker, name, &error);
  if (task == NULL)
    return send_error (worker, chunk_id, 0, error, name);

  n = whole ? 1 : g_variant_n_children (args);
  /* With insights, one clock reading per task; none without. */
  task_start = worker->meter != NULL ? mpire_insights_meter_begin_tasks (worker->meter) : 0;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) element = whole ? g_variant_ref (args) : g_variant_get_child_value (args, i);
      g_autoptr(GVariant) task_args = boxed && !whole ? g_variant_get_variant (element)
                                                      : g_steal_pointer (&element);
      GVariant *result;

      if (is_killed (worker))
        return FALSE;
      beat_start (worker, chunk_id, i, worker->timed);
      result = mpire_task_invoke (task, worker->context, task_args, &error);
      beat_end (worker);
      if (worker->meter != NULL)
        task_start = mpire_insights_meter_task_done (worker->meter, task_start, task_args,
                                                     result != NULL);

      if (result == NULL)
        return send_error (worker, chunk_id, i, error, name);
      mpire_result_buffer_add (worker->results, result);

      /* If the worker dies in a later task, the retry runs only the
       * tasks whose results the pool has. */
      if (worker->partial && i + 1 < n)
        {
          MpireResultsMessage partial = { .chunk_id = chunk_id };

          partial.results = mpire_result_buffer_end (worker->results, &partial.boxed);
          if (!send_message (worker, MPIRE_MESSAGE_PARTIAL, mpire_message_partial_new (&partial),
                             &error))
            return error != NULL && send_error (worker, chunk_id, i, error, name);
        }
    }

  send_insights (worker);
  {
    MpireResultsMessage reply = { .chunk_id = chunk_id };

    reply.results = mpire_result_buffer_end (worker->results, &reply.boxed);
    if (send_message (worker, MPIRE_MESSAGE_RESULTS, mpire_message_results_new (&reply), &error))
      return TRUE;
    if (error == NULL)
      return FALSE;
    /* Too large: the pool learns why instead of losing the worker (the
     * results it has go up to the last task, with PARTIAL messages). */
    return send_error (worker, chunk_id, worker->partial ? n - 1 : 0, error, name);
  }
}

static gboolean
receive_hello (Worker   *worker,
               GVariant *body)
{
  g_auto(MpireHelloMessage) msg = { 0 };
  g_autoptr(GError) error = NULL;

  if (!mpire_message_hello_parse (body, &msg, &error))
    {
      g_debug ("Worker stops: %s", error->message);
      return FALSE;
    }
  worker->ready_at = g_get_monotonic_time ();
  /* MPIRE's daemon restriction is that of a daemon process, which may
   * have no children: a thread worker is no process, so its tasks may
   * start pools of their own whatever the pool's daemon flag. */
  g_private_set (&daemon_worker, GINT_TO_POINTER (msg.daemon && !worker->in_thread));
  if (worker->state == WORKER_NEW)
    worker->state = WORKER_GREETED;
  g_clear_object (&worker->context);
  worker->context = mpire_worker_context_new (msg.worker_id, msg.pass_worker_id,
                                              worker->shared_by_address != NULL
                                                ? worker->shared_by_address : msg.shared_objects,
                                              msg.use_worker_state);
  return TRUE;
}

/* A worker process never outlives its pool, even in the middle of a
 * long task: this thread waits for the pool's end of the channel to go
 * (the pool's process exited or was killed, or the pool killed the
 * worker) and ends the process. The process exits once the channel is
 * closed at the end of mpire_worker_serve(), so the watch never outlives
 * it. */
static gpointer
watch_pool (gpointer data)
{
  struct pollfd pfd = { .fd = GPOINTER_TO_INT (data), .events = 0 };

  for (;;)
    {
      int n = poll (&pfd, 1, -1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || (pfd.revents & POLLNVAL) != 0)
        return NULL;
      if ((pfd.revents & (POLLHUP | POLLERR)) != 0)
        _exit (EXIT_FAILURE);
    }
}

static void
start_watching_pool (int fd)
{
  GThread *thread = g_thread_try_new ("mpire-watch-pool", watch_pool, GINT_TO_POINTER (fd), NULL);

  if (thread != NULL)
    g_thread_unref (thread);
}

static void
serve (Worker *self)
{
  Worker worker = *self;
  int fd = worker.fd;
  gboolean serving = worker.memory != NULL || worker.launched;

  worker.results = mpire_result_buffer_new ();
  if (!worker.in_thread)
    start_watching_pool (fd);

  /* Without it, the pool sees the worker end before its first task. */
  if (worker.memory == NULL && !worker.launched)
    g_debug ("Worker stops: could not map the memory shared with the pool");
  else if (worker.memory != NULL)
    worker.heartbeat = worker.memory->heartbeat;

  /* The handshake: a launched worker tells who it is first (a worker
   * that cannot has no one to serve). */
  if (worker.launched)
    {
      g_autofree char *pid = g_strdup_printf ("%ld", (long) getpid ());
      MpireReadyMessage ready = { PACKAGE_VERSION, g_get_host_name (), pid,
                                  g_get_monotonic_time () };

      serving = send_message (&worker, MPIRE_MESSAGE_READY, mpire_message_ready_new (&ready),
                              NULL);
      if (!serving)
        g_debug ("Worker stops: could not greet the pool");
    }

  while (serving)
    {
      MpireMessageKind kind;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;
      gint64 wait_start = worker.meter != NULL ? g_get_monotonic_time () : 0;

      if (!mpire_frame_read (fd, worker.memory != NULL ? worker.memory->to_worker : NULL,
                             &kind, &body, &error))
        {
          if (error != NULL)
            g_debug ("Worker stops: %s", error->message);
          break;
        }
      /* What the pool sent before it killed the worker does not run
       * (nor does the worker_exit). */
      if (is_killed (&worker))
        break;
      if (worker.meter != NULL)
        mpire_insights_meter_add_since (worker.meter, MPIRE_INSIGHTS_WAITING, wait_start);

      if (kind == MPIRE_MESSAGE_HELLO)
        {
          if (!receive_hello (&worker, body))
            break;
        }
      else if (kind == MPIRE_MESSAGE_CONFIG && worker.state != WORKER_NEW)
        {
          if (!receive_config (&worker, body))
            break;
        }
      else if (kind == MPIRE_MESSAGE_TASKS && worker.state != WORKER_NEW)
        {
          if (!run_chunk (&worker, body))
            break;
        }
      else if (kind == MPIRE_MESSAGE_STOP)
        {
          if (!mpire_message_stop_parse (body, &error))
            g_debug ("Worker stops: %s", error->message);
          run_exit (&worker);
          send_insights (&worker);
          break;
        }
      else
        {
          g_debug ("Worker stops: unexpected message of kind %d", kind);
          break;
        }
    }

  g_private_set (&daemon_worker, NULL);
  g_clear_object (&worker.task);
  g_clear_object (&worker.context);
  g_clear_pointer (&worker.meter, mpire_insights_meter_free);
  mpire_result_buffer_free (worker.results);
  g_clear_pointer (&worker.memory, mpire_worker_memory_free);
  g_free (worker.exit_task);
  close (fd);
  if (worker.out_fd != fd)
    close (worker.out_fd);
}

void
mpire_worker_serve (int       fd,
                    GVariant *shared_objects,
                    int       memory_fd,
                    gboolean  in_thread)
{
  Worker worker = {
    .state = WORKER_NEW,
    .fd = fd,
    .out_fd = fd,
    .in_thread = in_thread,
    .shared_by_address = shared_objects,
    .memory = mpire_worker_memory_map (memory_fd),
  };

  serve (&worker);
}

void
mpire_worker_serve_launched (int in_fd,
                             int out_fd)
{
  Worker worker = {
    .state = WORKER_NEW,
    .fd = in_fd,
    .out_fd = out_fd,
    .launched = TRUE,
  };

  serve (&worker);
  exit (EXIT_SUCCESS);
}

void
mpire_worker_serve_process (int fd,
                            int memory_fd)
{
  mpire_worker_serve (fd, NULL, memory_fd, FALSE);
  close (memory_fd);
  exit (EXIT_SUCCESS);
}
