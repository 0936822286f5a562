/* mpire-backend-spawn.c: workers that are new processes
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpire-backend-private.h"
#include "mpire-error.h"
#include "mpire-init-private.h"

/* The worker's end of the channel and its heartbeat are these fds in
 * the child. */
#define CHILD_CHANNEL_FD   3
#define CHILD_HEARTBEAT_FD 4

/* g_spawn rather than GSubprocess: GSubprocess reaps its child with
 * GLib's child watch, which in GLib 2.74 can report a child that is
 * still exiting as exited with status 0 and leave it a zombie (see
 * mpire-child-watch.c). The pool watches and reaps its workers itself. */
static gpointer
spawn_start (const MpireWorkerStartInfo  *info,
             int                          child_fd,
             GError                     **error)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *fd_str = g_strdup_printf ("%d", CHILD_CHANNEL_FD);
  g_autofree char *beat_str = g_strdup_printf ("%d", CHILD_HEARTBEAT_FD);
  g_auto(GStrv) envp = g_environ_setenv (g_environ_setenv (g_get_environ (), MPIRE_WORKER_FD_ENV,
                                                           fd_str, TRUE),
                                         MPIRE_WORKER_HEARTBEAT_FD_ENV, beat_str, TRUE);
  const int source_fds[] = { child_fd, mpire_heartbeat_get_fd (info->heartbeat) };
  const int target_fds[] = { CHILD_CHANNEL_FD, CHILD_HEARTBEAT_FD };
  g_autoptr(GError) local_error = NULL;
  GPid pid = 0;
  gboolean spawned;

  spawned = g_spawn_async_with_pipes_and_fds (cwd, info->argv, (const char * const *) envp,
                                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                                              G_SPAWN_STDIN_FROM_DEV_NULL,
                                              NULL, NULL, -1, -1, -1,
                                              source_fds, target_fds, G_N_ELEMENTS (source_fds),
                                              &pid, NULL, NULL, NULL, &local_error);
  /* The parent must not keep the worker's end: it would never see EOF. */
  close (child_fd);

  if (!spawned)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not start worker %d (“%s”): %s"),
                   info->worker_id, info->argv[0], local_error->message);
      return NULL;
    }

  /* Pinned from here: the child may run a moment before it is. */
  if (info->cpus != NULL)
    sched_setaffinity (pid, sizeof (cpu_set_t), info->cpus);

  return GINT_TO_POINTER (pid);
}

const MpireBackend *
mpire_backend_spawn (void)
{
  static const MpireBackend backend = {
    spawn_start, mpire_process_watch, mpire_process_kill, mpire_process_free, TRUE,
  };

  return &backend;
}
