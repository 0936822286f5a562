/* mpire-backend-spawn.c: workers that are new processes (GSubprocess)
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpire-backend-private.h"
#include "mpire-error.h"
#include "mpire-init-private.h"

/* The worker's end of the channel is this fd in the child. */
#define CHILD_CHANNEL_FD 3

static gpointer
spawn_start (const MpireWorkerStartInfo  *info,
             int                          child_fd,
             GError                     **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *fd_str = g_strdup_printf ("%d", CHILD_CHANNEL_FD);
  g_autoptr(GError) local_error = NULL;
  GSubprocess *subprocess;

  g_subprocess_launcher_set_cwd (launcher, cwd);
  g_subprocess_launcher_setenv (launcher, MPIRE_WORKER_FD_ENV, fd_str, TRUE);
  g_subprocess_launcher_take_fd (launcher, child_fd, CHILD_CHANNEL_FD);

  subprocess = g_subprocess_launcher_spawnv (launcher, info->argv, &local_error);
  /* The launcher keeps the child's end open until it is freed: drop it now
   * (autoptr) so that the pool sees EOF when the worker dies. */
  if (subprocess == NULL)
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                 _("Could not start worker %d (“%s”): %s"),
                 info->worker_id, info->argv[0], local_error->message);

  return subprocess;
}

typedef struct
{
  GSubprocess *subprocess;
  void       (*exited) (int wait_status, gpointer data);
  gpointer     data;
} ExitWatch;

static void
wait_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autofree ExitWatch *watch = user_data;
  GSubprocess *subprocess = G_SUBPROCESS (object);

  g_subprocess_wait_finish (subprocess, result, NULL);
  watch->exited (g_subprocess_get_status (subprocess), watch->data);
}

/* Runs in the pool's thread, whose thread-default context is where the
 * wait's callback must run. */
static gboolean
start_wait (gpointer user_data)
{
  ExitWatch *watch = user_data;

  g_subprocess_wait_async (watch->subprocess, NULL, wait_done, watch);
  return G_SOURCE_REMOVE;
}

static void
spawn_watch (gpointer       handle,
             GMainContext  *context,
             void         (*exited) (int wait_status, gpointer data),
             gpointer       data)
{
  g_autoptr(GSource) source = g_idle_source_new ();
  ExitWatch *watch = g_new (ExitWatch, 1);

  watch->subprocess = handle;
  watch->exited = exited;
  watch->data = data;

  g_source_set_callback (source, start_wait, watch, NULL);
  g_source_set_static_name (source, "[mpire] spawn worker watch");
  g_source_attach (source, context);
}

static void
spawn_kill (gpointer handle)
{
  g_subprocess_force_exit (handle);
}

static void
spawn_free (gpointer handle)
{
  g_object_unref (handle);
}

const MpireBackend *
mpire_backend_spawn (void)
{
  static const MpireBackend backend = {
    spawn_start, spawn_watch, spawn_kill, spawn_free, TRUE,
  };

  return &backend;
}
