/* mpire-worker.c: the worker side of the protocol
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpire-error.h"
#include "mpire-protocol-private.h"
#include "mpire-task-private.h"
#include "mpire-worker-context-private.h"
#include "mpire-worker-private.h"

/* Set in the thread serving a worker of a daemon pool: its tasks may not
 * start pools of their own. */
static GPrivate daemon_worker = G_PRIVATE_INIT (NULL);

gboolean
mpire_worker_is_daemon (void)
{
  return g_private_get (&daemon_worker) != NULL;
}

typedef struct
{
  int                 fd;
  GVariant           *shared_by_address;
  MpireWorkerContext *context;
  MpireTask          *task;      /* the last task looked up */
  gboolean            initialized;
  char               *exit_task; /* worker_exit of the latest call, or NULL */
  MpireHeartbeat     *heartbeat;
  gboolean            timed;     /* the call has a task timeout */
} Worker;

/* Results of a chunk as one array: of the results' own type when they
 * share one, otherwise boxed as `av`. */
static GVariant *
results_to_array (GPtrArray *results,
                  gboolean  *boxed)
{
  const GVariantType *type;

  if (results->len == 0)
    {
      *boxed = TRUE;
      return g_variant_new_array (G_VARIANT_TYPE_VARIANT, NULL, 0);
    }

  type = g_variant_get_type (results->pdata[0]);
  for (guint i = 1; i < results->len; i++)
    {
      if (!g_variant_type_equal (type, g_variant_get_type (results->pdata[i])))
        {
          g_autofree GVariant **boxes = g_new (GVariant *, results->len);

          for (guint j = 0; j < results->len; j++)
            boxes[j] = g_variant_new_variant (results->pdata[j]);
          *boxed = TRUE;
          return g_variant_new_array (G_VARIANT_TYPE_VARIANT, boxes, results->len);
        }
    }

  *boxed = FALSE;
  return g_variant_new_array (type, (GVariant **) results->pdata, results->len);
}

static gboolean
send_message (Worker           *worker,
              MpireMessageKind  kind,
              GVariant         *body,
              GError          **error)
{
  g_autoptr(GBytes) frame = mpire_frame_encode (kind, body, error);

  return frame != NULL && mpire_frame_write (worker->fd, frame, NULL);
}

static gboolean
send_error (Worker       *worker,
            guint64       chunk_id,
            guint         index,
            const GError *error,
            const char   *task_name,
            GPtrArray    *results)
{
  gboolean boxed;
  GVariant *array = results_to_array (results, &boxed);

  return send_message (worker, MPIRE_MESSAGE_ERROR,
                       g_variant_new ("(tusissbv)", chunk_id, index,
                                      g_quark_to_string (error->domain), error->code,
                                      error->message, task_name, boxed, array),
                       NULL);
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
send_failed (Worker       *worker,
             const GError *error,
             const char   *task_name,
             const char   *stage)
{
  return send_message (worker, MPIRE_MESSAGE_FAILED,
                       g_variant_new ("(sisss)", g_quark_to_string (error->domain), error->code,
                                      error->message, task_name, stage),
                       NULL);
}

/* Runs worker_init or worker_exit: the task gets an empty tuple. */
static GVariant *
run_lifecycle_task (Worker      *worker,
                    const char  *name,
                    GError     **error)
{
  g_autoptr(MpireTask) task = mpire_task_lookup (name);

  if (task == NULL)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_NOT_REGISTERED,
                   _("No task named “%s” is registered in the worker program; "
                     "create it with mpire_task_new() before calling mpire_init()"),
                   name);
      return NULL;
    }
  return mpire_task_invoke (task, worker->context, g_variant_new ("()"), error);
}

/* A call's worker_init runs once, when the worker serves its first call
 * (later calls of a kept-alive worker do not run theirs, as in MPIRE);
 * the worker_exit of the latest call runs when the worker stops. Returns
 * FALSE if the worker must stop. */
static gboolean
receive_config (Worker   *worker,
                GVariant *body)
{
  const char *init_name, *exit_name;

  g_variant_get (body, "(&s&sb)", &init_name, &exit_name, &worker->timed);
  g_free (worker->exit_task);
  worker->exit_task = *exit_name != '\0' ? g_strdup (exit_name) : NULL;

  if (!worker->initialized && *init_name != '\0')
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = run_lifecycle_task (worker, init_name, &error);

      if (result == NULL)
        {
          send_failed (worker, error, init_name, "init");
          return FALSE;
        }
    }
  worker->initialized = TRUE;
  return TRUE;
}

static void
run_exit (Worker *worker)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  if (worker->exit_task == NULL || worker->context == NULL)
    return;

  result = run_lifecycle_task (worker, worker->exit_task, &error);
  if (result == NULL)
    send_failed (worker, error, worker->exit_task, "exit");
  else
    send_message (worker, MPIRE_MESSAGE_EXIT_RESULT, g_variant_new ("(v)", result), NULL);
}

static gboolean
run_chunk (Worker   *worker,
           GVariant *body)
{
  guint64 chunk_id;
  const char *name;
  gboolean boxed, results_boxed;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GError) error = NULL;
  MpireTask *task;
  gsize n;

  g_variant_get (body, "(t&sbv)", &chunk_id, &name, &boxed, &args);

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE_ARRAY) ||
      (boxed && !g_variant_is_of_type (args, G_VARIANT_TYPE ("av"))))
    {
      g_set_error (&error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("The worker received tasks of type “%s”, which is not an array"),
                   g_variant_get_type_string (args));
      return send_error (worker, chunk_id, 0, error, name, results);
    }

  task = find_task (worker, name, &error);
  if (task == NULL)
    return send_error (worker, chunk_id, 0, error, name, results);

  n = g_variant_n_children (args);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) element = g_variant_get_child_value (args, i);
      g_autoptr(GVariant) task_args = boxed ? g_variant_get_variant (element) : g_steal_pointer (&element);
      GVariant *result;

      if (worker->timed && worker->heartbeat != NULL)
        mpire_heartbeat_task_start (worker->heartbeat, chunk_id, i);
      result = mpire_task_invoke (task, worker->context, task_args, &error);
      if (worker->timed && worker->heartbeat != NULL)
        mpire_heartbeat_task_end (worker->heartbeat);

      if (result == NULL)
        return send_error (worker, chunk_id, i, error, name, results);
      g_ptr_array_add (results, result);
    }

  {
    GVariant *array = results_to_array (results, &results_boxed);

    if (send_message (worker, MPIRE_MESSAGE_RESULTS,
                      g_variant_new ("(tbv)", chunk_id, results_boxed, array), &error))
      return TRUE;
    if (error == NULL)
      return FALSE;
    /* Too large: the pool learns why instead of losing the worker. */
    g_ptr_array_set_size (results, 0);
    return send_error (worker, chunk_id, 0, error, name, results);
  }
}

static void
receive_hello (Worker   *worker,
               GVariant *body)
{
  int worker_id;
  gboolean pass_worker_id, use_worker_state, daemon;
  g_autoptr(GVariant) shared = NULL;

  g_variant_get (body, "(ibbbmv)", &worker_id, &pass_worker_id, &use_worker_state, &daemon,
                 &shared);
  g_private_set (&daemon_worker, GINT_TO_POINTER (daemon));
  g_clear_object (&worker->context);
  worker->context = mpire_worker_context_new (worker_id, pass_worker_id,
                                              worker->shared_by_address != NULL
                                                ? worker->shared_by_address : shared,
                                              use_worker_state);
}

void
mpire_worker_serve (int             fd,
                    GVariant       *shared_objects,
                    MpireHeartbeat *heartbeat)
{
  Worker worker = { fd, shared_objects, NULL, NULL, FALSE, NULL, heartbeat, FALSE };

  for (;;)
    {
      MpireMessageKind kind;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;

      if (!mpire_frame_read (fd, &kind, &body, &error))
        {
          if (error != NULL)
            g_debug ("Worker stops: %s", error->message);
          break;
        }

      if (kind == MPIRE_MESSAGE_HELLO)
        receive_hello (&worker, body);
      else if (kind == MPIRE_MESSAGE_CONFIG && worker.context != NULL)
        {
          if (!receive_config (&worker, body))
            break;
        }
      else if (kind == MPIRE_MESSAGE_TASKS && worker.context != NULL)
        {
          if (!run_chunk (&worker, body))
            break;
        }
      else if (kind == MPIRE_MESSAGE_STOP)
        {
          run_exit (&worker);
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
  g_free (worker.exit_task);
  close (fd);
}

void
mpire_worker_serve_process (int fd,
                            int heartbeat_fd)
{
  MpireHeartbeat *heartbeat = heartbeat_fd > 2 ? mpire_heartbeat_map_fd (heartbeat_fd) : NULL;

  mpire_worker_serve (fd, NULL, heartbeat);
  g_clear_pointer (&heartbeat, mpire_heartbeat_free);
  exit (EXIT_SUCCESS);
}
