/* mpire-task.c: named task functions and the per-process task registry
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <dlfcn.h>

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-task-private.h"
#include "mpire-worker-context-private.h"

/**
 * MpireTask:
 *
 * A task function with a name.
 *
 * Every task is kept in a registry of the process under its name, for as
 * long as the process runs. A worker started with
 * %MPIRE_START_METHOD_SPAWN runs the program again (with
 * %MPIRE_START_METHOD_FORKSERVER, the fork server does), so the same
 * start-up code registers the same tasks there, and the worker finds the
 * task to run by name. Create tasks once, early (at the top of `main()`
 * or at module level in Python and JavaScript), before calling
 * [func@Mpire.init].
 *
 * ```c
 * static GVariant *
 * square (MpireWorkerContext *context, GVariant *args,
 *         gpointer user_data, GError **error)
 * {
 *   gint64 x = g_variant_get_int64 (args);
 *   return g_variant_new_int64 (x * x);
 * }
 *
 * int
 * main (int argc, char **argv)
 * {
 *   g_autoptr(MpireTask) task = mpire_task_new ("square", square, NULL, NULL);
 *   mpire_init (&argc, &argv);
 *   ...
 * }
 * ```
 *
 * Since: 0.1
 */
struct _MpireTask
{
  GObject         parent_instance;

  char           *name;
  MpireTaskFunc   func;
  gpointer        user_data;
  GDestroyNotify  destroy;

  GVariantType   *args_type;
  GVariantType   *result_type;

  /* Set when the task was created by a language runtime that runs code on
   * its own thread only (GJS). */
  GThread        *bound_thread;
};

G_DEFINE_FINAL_TYPE (MpireTask, mpire_task, G_TYPE_OBJECT)

G_LOCK_DEFINE_STATIC (registry);
static GHashTable *registry;

static void
mpire_task_finalize (GObject *object)
{
  MpireTask *self = MPIRE_TASK (object);

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_free (self->name);
  g_clear_pointer (&self->args_type, g_variant_type_free);
  g_clear_pointer (&self->result_type, g_variant_type_free);
  g_clear_pointer (&self->bound_thread, g_thread_unref);

  G_OBJECT_CLASS (mpire_task_parent_class)->finalize (object);
}

static void
mpire_task_class_init (MpireTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mpire_task_finalize;
}

static void
mpire_task_init (MpireTask *self)
{
}

/* GJS runs JavaScript on its own thread only: a JS function called from
 * any other thread is blocked with a critical and returns nothing. A task
 * created while a GJS context is current on this thread is such a
 * function. */
static gboolean
created_by_thread_bound_runtime (void)
{
  static gpointer (*gjs_current) (void);
  static gsize looked_up;

  if (g_once_init_enter (&looked_up))
    {
      gjs_current = (gpointer (*) (void)) dlsym (RTLD_DEFAULT, "gjs_context_get_current");
      g_once_init_leave (&looked_up, 1);
    }

  return gjs_current != NULL && gjs_current () != NULL;
}

/**
 * mpire_task_new:
 * @name: the name of the task, unique in the process
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that runs one task
 * @user_data: data passed to @func
 * @destroy: (nullable): frees @user_data when the task is finalized
 *
 * Creates a task and adds it to the process's registry under @name.
 *
 * The registry keeps the task for the rest of the process's life. If a
 * task of that name exists already it is replaced, with a warning.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 0.1
 */
MpireTask *
mpire_task_new (const char     *name,
                MpireTaskFunc   func,
                gpointer        user_data,
                GDestroyNotify  destroy)
{
  MpireTask *self;
  gboolean replaced;

  g_return_val_if_fail (name != NULL && *name != '\0', NULL);
  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (MPIRE_TYPE_TASK, NULL);
  self->name = g_strdup (name);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  if (created_by_thread_bound_runtime ())
    self->bound_thread = g_thread_ref (g_thread_self ());

  G_LOCK (registry);
  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  replaced = !g_hash_table_insert (registry, self->name, g_object_ref (self));
  G_UNLOCK (registry);

  if (replaced)
    g_warning (_("A task named “%s” was registered twice; the newest one is used"), name);

  return self;
}

/**
 * mpire_task_lookup:
 * @name: a task name
 *
 * Finds the task registered under @name in this process.
 *
 * Returns: (transfer full) (nullable): the task, or %NULL if none has
 *   that name
 *
 * Since: 0.1
 */
MpireTask *
mpire_task_lookup (const char *name)
{
  MpireTask *task = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  G_LOCK (registry);
  if (registry != NULL)
    task = g_hash_table_lookup (registry, name);
  if (task != NULL)
    g_object_ref (task);
  G_UNLOCK (registry);

  return task;
}

/**
 * mpire_task_get_name:
 * @self: a task
 *
 * Gets the name the task is registered under.
 *
 * Returns: (transfer none): the name of the task
 *
 * Since: 0.1
 */
const char *
mpire_task_get_name (MpireTask *self)
{
  g_return_val_if_fail (MPIRE_IS_TASK (self), NULL);

  return self->name;
}

/**
 * mpire_task_get_args_type:
 * @self: a task
 *
 * Gets the type the task's arguments must have, if it was set with
 * [method@Mpire.Task.set_args_type].
 *
 * Returns: (transfer none) (nullable): the arguments' type, or %NULL for
 *   any type
 *
 * Since: 0.1
 */
const GVariantType *
mpire_task_get_args_type (MpireTask *self)
{
  g_return_val_if_fail (MPIRE_IS_TASK (self), NULL);

  return self->args_type;
}

/**
 * mpire_task_set_args_type:
 * @self: a task
 * @args_type: (nullable): the type every task's arguments must have (it
 *   may be indefinite, like `(x*)`), or %NULL for any type
 *
 * Declares the type of the task's arguments. A map whose input elements
 * are not of that type then fails at once with
 * %MPIRE_ERROR_INVALID_ARGUMENT, before any worker starts, and so does a
 * task given arguments of another type, instead of the task reading
 * values of the wrong type. Set it when creating the task, in every
 * process (spawned workers register their own tasks).
 *
 * Since: 0.1
 */
void
mpire_task_set_args_type (MpireTask          *self,
                          const GVariantType *args_type)
{
  g_return_if_fail (MPIRE_IS_TASK (self));

  g_clear_pointer (&self->args_type, g_variant_type_free);
  self->args_type = args_type != NULL ? g_variant_type_copy (args_type) : NULL;
}

/**
 * mpire_task_get_result_type:
 * @self: a task
 *
 * Gets the type the task's results must have, if it was set with
 * [method@Mpire.Task.set_result_type].
 *
 * Returns: (transfer none) (nullable): the results' type, or %NULL for
 *   any type
 *
 * Since: 0.1
 */
const GVariantType *
mpire_task_get_result_type (MpireTask *self)
{
  g_return_val_if_fail (MPIRE_IS_TASK (self), NULL);

  return self->result_type;
}

/**
 * mpire_task_set_result_type:
 * @self: a task
 * @result_type: (nullable): the definite type of every result, or %NULL
 *   for any type
 *
 * Declares the type of the task's results. A result of another type
 * fails the task with %MPIRE_ERROR_TASK_FAILED, and a map over an empty
 * input returns an empty array of this type rather than `av`.
 *
 * Since: 0.1
 */
void
mpire_task_set_result_type (MpireTask          *self,
                            const GVariantType *result_type)
{
  g_return_if_fail (MPIRE_IS_TASK (self));
  g_return_if_fail (result_type == NULL || g_variant_type_is_definite (result_type));

  g_clear_pointer (&self->result_type, g_variant_type_free);
  self->result_type = result_type != NULL ? g_variant_type_copy (result_type) : NULL;
}

/**
 * mpire_task_invoke:
 * @self: a task
 * @context: (nullable): the worker running the task, or %NULL for a
 *   context of no worker (id -1, no shared objects, no state)
 * @args: the task's arguments; a floating reference is sunk
 * @error: return location for a #GError
 *
 * Runs the task function once, in the calling thread.
 *
 * Workers call this for every task; it is public so that a task can be
 * tested without a pool. A function that returns %NULL without setting an
 * error (what PyGObject does when a Python task raises an exception that
 * is not a `GLib.Error`) fails with %MPIRE_ERROR_TASK_FAILED, and so
 * does a result of another type than a declared result type. Arguments
 * of another type than the declared arguments type fail with
 * %MPIRE_ERROR_INVALID_ARGUMENT without calling the function.
 *
 * Returns: (transfer full): the result of the task
 *
 * Since: 0.1
 */
GVariant *
mpire_task_invoke (MpireTask           *self,
                   MpireWorkerContext  *context,
                   GVariant            *args,
                   GError             **error)
{
  g_autoptr(MpireWorkerContext) default_context = NULL;
  g_autoptr(GVariant) owned_args = NULL;
  GError *local_error = NULL;
  GVariant *result;

  g_return_val_if_fail (MPIRE_IS_TASK (self), NULL);
  g_return_val_if_fail (context == NULL || MPIRE_IS_WORKER_CONTEXT (context), NULL);
  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned_args = g_variant_ref_sink (args);

  if (self->args_type != NULL && !g_variant_is_of_type (args, self->args_type))
    {
      g_autofree char *wanted = g_variant_type_dup_string (self->args_type);

      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("Task “%s” takes arguments of type “%s”, not “%s”"),
                   self->name, wanted, g_variant_get_type_string (args));
      return NULL;
    }

  if (context == NULL)
    context = default_context = mpire_worker_context_new (-1, FALSE, NULL, FALSE);

  result = self->func (context, args, self->user_data, &local_error);

  if (result == NULL)
    {
      if (local_error == NULL)
        local_error = g_error_new (MPIRE_ERROR, MPIRE_ERROR_TASK_FAILED,
                                   _("Task “%s” returned neither a result nor an error "
                                     "(a Python task raised an exception other than "
                                     "GLib.Error, or returned a value that is not a "
                                     "GLib.Variant; see the worker’s standard error)"),
                                   self->name);
      g_propagate_error (error, local_error);
      return NULL;
    }

  if (local_error != NULL)
    {
      g_warning (_("Task “%s” returned a result and set an error; the error is ignored: %s"),
                 self->name, local_error->message);
      g_clear_error (&local_error);
    }

  g_variant_take_ref (result);
  if (self->result_type != NULL && !g_variant_is_of_type (result, self->result_type))
    {
      g_autofree char *wanted = g_variant_type_dup_string (self->result_type);

      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_TASK_FAILED,
                   _("Task “%s” returned a value of type “%s” instead of “%s”"),
                   self->name, g_variant_get_type_string (result), wanted);
      g_variant_unref (result);
      return NULL;
    }

  return result;
}

gboolean
mpire_task_is_thread_bound (MpireTask *self)
{
  return self->bound_thread != NULL;
}

gboolean
mpire_task_can_run_on_thread (MpireTask *self,
                              GThread   *thread)
{
  return self->bound_thread == NULL || self->bound_thread == thread;
}

/* GJS runs JavaScript on its own thread only, so a JavaScript task
 * cannot run on a worker thread; and a forked copy of a JavaScript
 * engine can deadlock on the locks of the engine's helper threads, which
 * the child does not have: a fork server running gjs has them too. Such
 * tasks need spawned workers. */
gboolean
mpire_task_check_start_method (MpireTask         *task,
                               MpireStartMethod   method,
                               GError           **error)
{
  if (!mpire_task_is_thread_bound (task) || method == MPIRE_START_METHOD_SPAWN)
    return TRUE;

  if (method == MPIRE_START_METHOD_THREADING)
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
                 method == MPIRE_START_METHOD_FORK ? "fork" : "forkserver");
  return FALSE;
}
