/* mpire-backend-fork.c: workers that are fork()ed copies of the caller
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include "mpire-backend-private.h"
#include "mpire-child-watch-private.h"
#include "mpire-error.h"
#include "mpire-fork-guard-private.h"
#include "mpire-i18n-private.h"
#include "mpire-python-fork-private.h"
#include "mpire-worker-private.h"

/* The child is forked from the thread that started the call, while the
 * scheduler's lock is held, so the pool's own thread is not inside mpire
 * code, and the library's other threads (the dashboard's) wait in
 * mpire_fork_guard_hold(). As with any fork() of a multi-threaded process,
 * locks held by the program's own threads stay locked in the child: see
 * the README. */
static gpointer
fork_start (const MpireWorkerStartInfo  *info,
            int                          child_fd,
            GError                     **error)
{
  MpirePythonFork python;
  pid_t pid;
  int saved_errno;

  fflush (NULL);
  mpire_fork_guard_hold ();
  mpire_python_fork_prepare (&python);
  pid = fork ();
  saved_errno = errno;
  if (pid != 0)
    {
      mpire_python_fork_parent (&python);
      mpire_fork_guard_release_parent ();
    }
  if (pid < 0)
    {
      close (child_fd);
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not fork worker %d: %s"), info->worker_id, g_strerror (saved_errno));
      return NULL;
    }

  if (pid == 0)
    {
      mpire_python_fork_child (&python);
      mpire_fork_guard_release_child ();
      /* Holding any pool end of a channel, its own included, would keep
       * a worker from seeing the pool go away. */
      close (info->pool_fd);
      for (guint i = 0; i < info->n_close_fds; i++)
        close (info->close_fds[i]);
      if (info->cpus != NULL)
        sched_setaffinity (0, sizeof (cpu_set_t), info->cpus);
      mpire_worker_serve (child_fd, info->shared_objects, info->memory_fd, FALSE);
      fflush (NULL);
      _exit (0);
    }

  close (child_fd);
  return GINT_TO_POINTER (pid);
}

/* Shared with the spawn backend: a worker process, by pid. */
void
mpire_process_watch (gpointer       handle,
                     GMainContext  *context,
                     void         (*exited) (int wait_status, gpointer data),
                     gpointer       data)
{
  mpire_child_watch_add (GPOINTER_TO_INT (handle), context, exited, data);
}

void
mpire_process_kill (gpointer handle)
{
  kill (GPOINTER_TO_INT (handle), SIGKILL);
}

void
mpire_process_free (gpointer handle)
{
}

void
mpire_backend_post_exit (GMainContext *context,
                         GSourceFunc   func,
                         gpointer      data,
                         const char   *name)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_callback (source, func, data, NULL);
  g_source_set_static_name (source, name);
  g_source_attach (source, context);
}

const MpireBackend *
mpire_backend_fork (void)
{
  static const MpireBackend backend = {
    fork_start, mpire_process_watch, mpire_process_kill, mpire_process_free, NULL, TRUE,
  };

  return &backend;
}
