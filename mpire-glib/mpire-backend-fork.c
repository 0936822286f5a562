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

#include <glib/gi18n-lib.h>

#include "mpire-backend-private.h"
#include "mpire-error.h"
#include "mpire-worker-private.h"

/* The child is forked from the thread that started the call, while the
 * pool's lock is held, so the pool's own thread is not inside mpire code.
 * As with any fork() of a multi-threaded process, locks held by other
 * threads of the program stay locked in the child: see the README. */
static gpointer
fork_start (const MpireWorkerStartInfo  *info,
            int                          child_fd,
            GError                     **error)
{
  pid_t pid;

  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    {
      int saved_errno = errno;
      close (child_fd);
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not fork worker %d: %s"), info->worker_id, g_strerror (saved_errno));
      return NULL;
    }

  if (pid == 0)
    {
      /* Holding any pool end of a channel, its own included, would keep
       * a worker from seeing the pool go away. */
      close (info->pool_fd);
      for (guint i = 0; i < info->n_close_fds; i++)
        close (info->close_fds[i]);
      mpire_worker_serve (child_fd, info->shared_objects);
      fflush (NULL);
      _exit (0);
    }

  close (child_fd);
  return GINT_TO_POINTER (pid);
}

typedef struct
{
  void     (*exited) (int wait_status, gpointer data);
  gpointer data;
} ExitWatch;

static void
child_exited (GPid     pid,
              int      wait_status,
              gpointer user_data)
{
  ExitWatch *watch = user_data;

  watch->exited (wait_status, watch->data);
}

static void
fork_watch (gpointer       handle,
            GMainContext  *context,
            void         (*exited) (int wait_status, gpointer data),
            gpointer       data)
{
  g_autoptr(GSource) source = g_child_watch_source_new (GPOINTER_TO_INT (handle));
  ExitWatch *watch = g_new (ExitWatch, 1);

  watch->exited = exited;
  watch->data = data;
  g_source_set_callback (source, G_SOURCE_FUNC (child_exited), watch, g_free);
  g_source_set_static_name (source, "[mpire] fork worker exit");
  g_source_attach (source, context);
}

static void
fork_kill (gpointer handle)
{
  kill (GPOINTER_TO_INT (handle), SIGKILL);
}

static void
fork_free (gpointer handle)
{
}

const MpireBackend *
mpire_backend_fork (void)
{
  static const MpireBackend backend = {
    fork_start, fork_watch, fork_kill, fork_free, TRUE,
  };

  return &backend;
}
