/* mpire-backend-spawn.c: workers that are new processes
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include "mpire-backend-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-init-private.h"

/* The first fd a spawned child is given: 3, after the standard ones. */
#define FIRST_CHILD_FD 3

/* posix_spawnp() of @argv with @actions and @envp, with the signals that
 * GLib's spawn resets set back to their defaults too: a program that
 * ignores or handles them does not pass that on to its workers. Returns
 * posix_spawnp()'s status; shared with the launcher backend. */
int
mpire_spawn_program (pid_t                             *child,
                     const char * const                *argv,
                     const posix_spawn_file_actions_t  *actions,
                     char                             **envp)
{
  posix_spawnattr_t attr;
  sigset_t defaults;
  int status;

  sigemptyset (&defaults);
  sigaddset (&defaults, SIGCHLD);
  sigaddset (&defaults, SIGINT);
  sigaddset (&defaults, SIGTERM);
  sigaddset (&defaults, SIGHUP);
  sigaddset (&defaults, SIGPIPE);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setsigdefault (&attr, &defaults);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGDEF);
  status = posix_spawnp (child, argv[0], actions, &attr, (char * const *) argv, envp);
  posix_spawnattr_destroy (&attr);
  return status;
}

/* Runs @argv (searched in PATH) in the current working directory,
 * standard input from /dev/null, with @fds[i] as fd 3 + i in the child
 * and that number in its environment variable @env_names[i]; no other fd
 * but standard output and error is inherited. The child is left for the
 * caller to reap.
 *
 * posix_spawn() rather than g_spawn: GLib forks (copying the page tables
 * of the whole caller, which the exec then throws away) and waits for
 * the exec; glibc's posix_spawn() runs the child in the caller's memory
 * until it execs, which makes a worker's start cheaper for the caller
 * and for the machine. */
gboolean
mpire_spawn_with_fds (const char * const  *argv,
                      const int           *fds,
                      const char * const  *env_names,
                      guint                n_fds,
                      GPid                *pid,
                      GError             **error)
{
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree int *sources = g_new (int, n_fds);
  posix_spawn_file_actions_t actions;
  guint n_sources = 0;
  pid_t child = 0;
  int status = 0;

  /* Copies above every target fd, so that no dup2() in the child
   * overwrites a source it still needs. */
  for (; n_sources < n_fds; n_sources++)
    {
      g_autofree char *number = g_strdup_printf ("%u", FIRST_CHILD_FD + n_sources);

      sources[n_sources] = fcntl (fds[n_sources], F_DUPFD_CLOEXEC, FIRST_CHILD_FD + n_fds);
      if (sources[n_sources] < 0)
        {
          status = errno;
          break;
        }
      envp = g_environ_setenv (envp, env_names[n_sources], number, TRUE);
    }

  if (status == 0)
    {
      posix_spawn_file_actions_init (&actions);
      posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
      for (guint i = 0; i < n_fds; i++)
        posix_spawn_file_actions_adddup2 (&actions, sources[i], FIRST_CHILD_FD + i);
      posix_spawn_file_actions_addclosefrom_np (&actions, FIRST_CHILD_FD + n_fds);

      status = mpire_spawn_program (&child, argv, &actions, envp);
      posix_spawn_file_actions_destroy (&actions);
    }

  for (guint i = 0; i < n_sources; i++)
    close (sources[i]);

  if (status != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (status),
                   _("Failed to execute child process “%s” (%s)"), argv[0], g_strerror (status));
      return FALSE;
    }

  *pid = child;
  return TRUE;
}

/* Not GSubprocess either: it reaps its child with GLib's child watch,
 * which in GLib 2.74 can report a child that is still exiting as exited
 * with status 0 and leave it a zombie (see mpire-child-watch.c). The
 * pool watches and reaps its workers itself. */
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
    spawn_start, mpire_process_watch, mpire_process_kill, mpire_process_free, NULL, TRUE,
  };

  return &backend;
}
