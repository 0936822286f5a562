/* mpire-backend-launcher.c: workers started through a launcher (ssh, srun)
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include "mpire-backend-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-init-private.h"

/* The pool's worker-launcher is an argv prefix, such as `ssh HOST` or
 * `srun --nodes=1 --ntasks=1 --exact --unbuffered --quiet` (without
 * --unbuffered, slurmstepd holds the frames until a newline): the worker
 * program runs as
 *
 *   LAUNCHER... env MPIRE_WORKER_LAUNCHED=1 PROGRAM ARGS...
 *
 * with the worker's channel as the launcher's standard input and output
 * (one socket end as both), which ssh and srun carry to the worker's own.
 * ssh runs the command through the remote user's shell: the words after
 * the prefix are quoted for it (mpire_launcher_argv()).
 * `env` sets the variable on the other side, where ssh passes no
 * environment; mpire_init() then serves on the standard input and output
 * (mpire-init.c). Standard error is the pool's.
 *
 * The worker may run on another host: it is given no fd but its
 * standard ones, shares no memory with the pool (no shared rings, its
 * heartbeat goes in BEAT frames) and is not pinned to CPUs. The launcher
 * is the process the pool watches and kills; a worker whose launcher is
 * gone sees its standard input close and exits (mpire-worker.c). */

/* Whether @launcher runs the words after it through a shell on the
 * other side: ssh joins its arguments with spaces into one command line
 * for the remote user's shell, so a word with spaces or shell characters
 * would be split or read as syntax there. */
static gboolean
joins_words (const char * const *launcher)
{
  g_autofree char *name = g_path_get_basename (launcher[0]);

  return g_str_equal (name, "ssh");
}

/* @word as one word of a shell command line: as it is when no shell
 * reads any of its characters specially, else in single quotes. */
static char *
shell_word (const char *word)
{
  static const char plain[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";

  if (*word != '\0' && word[strspn (word, plain)] == '\0')
    return g_strdup (word);
  return g_shell_quote (word);
}

/* The launcher's argv: @launcher, then `env MPIRE_WORKER_LAUNCHED=1` and
 * the worker's @argv, each of those words quoted for the shell when the
 * launcher joins them into a command line (ssh). The launcher's own
 * words are the caller's: a remote command in them (`ssh HOST nice`)
 * stays as written. */
char **
mpire_launcher_argv (const char * const *launcher,
                     const char * const *argv)
{
  GPtrArray *words = g_ptr_array_new ();
  gboolean quote = joins_words (launcher);

  for (guint i = 0; launcher[i] != NULL; i++)
    g_ptr_array_add (words, g_strdup (launcher[i]));
  g_ptr_array_add (words, g_strdup ("env"));
  g_ptr_array_add (words, g_strdup (MPIRE_WORKER_LAUNCHED_ENV "=1"));
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (words, quote ? shell_word (argv[i]) : g_strdup (argv[i]));
  g_ptr_array_add (words, NULL);
  return (char **) g_ptr_array_free (words, FALSE);
}

/* mpire_spawn_program() of the launcher and worker, with @child_fd as the
 * child's standard input and output. */
static gpointer
launcher_start (const MpireWorkerStartInfo  *info,
                int                          child_fd,
                GError                     **error)
{
  g_auto(GStrv) argv = mpire_launcher_argv (info->launcher, info->argv);
  g_auto(GStrv) envp = g_get_environ ();
  posix_spawn_file_actions_t actions;
  pid_t child = 0;
  int status;

  /* No variable of a local worker reaches the launcher. */
  envp = g_environ_unsetenv (envp, MPIRE_WORKER_FD_ENV);
  envp = g_environ_unsetenv (envp, MPIRE_WORKER_MEMORY_FD_ENV);

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, child_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2 (&actions, child_fd, STDOUT_FILENO);
  posix_spawn_file_actions_addclosefrom_np (&actions, STDERR_FILENO + 1);

  status = mpire_spawn_program (&child, (const char * const *) argv, &actions, envp);
  posix_spawn_file_actions_destroy (&actions);
  /* The parent must not keep the worker's end: it would never see EOF. */
  close (child_fd);

  if (status != 0)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not start worker %d through the launcher “%s”: %s"),
                   info->worker_id, argv[0], g_strerror (status));
      return NULL;
    }

  return GINT_TO_POINTER (child);
}

const MpireBackend *
mpire_backend_launcher (void)
{
  static const MpireBackend backend = {
    launcher_start, mpire_process_watch, mpire_process_kill, mpire_process_free, NULL, TRUE, TRUE,
  };

  return &backend;
}
