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

/* The first fd a spawned child is given: 3, after the standard ones. */
#define FIRST_CHILD_FD 3

/* Runs @argv in the current working directory, standard input from
 * /dev/null, with @fds[i] as fd 3 + i in the child and that number in
 * its environment variable @env_names[i]. The child is left for the
 * caller to reap. */
gboolean
mpire_spawn_with_fds (const char * const  *argv,
                      const int           *fds,
                      const char * const  *env_names,
                      guint                n_fds,
                      GPid                *pid,
                      GError             **error)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree int *target_fds = g_new (int, n_fds);

  for (guint i = 0; i < n_fds; i++)
    {
      g_autofree char *number = g_strdup_printf ("%u", FIRST_CHILD_FD + i);

      target_fds[i] = FIRST_CHILD_FD + i;
      envp = g_environ_setenv (envp, env_names[i], number, TRUE);
    }

  return g_spawn_async_with_pipes_and_fds (cwd, argv, (const char * const *) envp,
                                           G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                                           G_SPAWN_STDIN_FROM_DEV_NULL,
                                           NULL, NULL, -1, -1, -1,
                                           fds, target_fds, n_fds,
                                           pid, NULL, NULL, NULL, error);
}

/* g_spawn rather than GSubprocess: GSubprocess reaps its child with
 * GLib's child watch, which in GLib 2.74 can report a child that is
 * still exiting as exited with status 0 and leave it a zombie (see
 * mpire-child-watch.c). The pool watches and reaps its workers itself. */
static gpointer
spawn_start (const MpireWorkerStartInfo  *info,
             int                          child_fd,
             GError                     **error)
{
  const int fds[] = { child_fd, info->memory_fd };
  const char * const env_names[] = { MPIRE_WORKER_FD_ENV, MPIRE_WORKER_MEMORY_FD_ENV };
  g_autoptr(GError) local_error = NULL;
  GPid pid = 0;
  gboolean spawned;

  spawned = mpire_spawn_with_fds (info->argv, fds, env_names, G_N_ELEMENTS (fds), &pid,
                                  &local_error);
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
