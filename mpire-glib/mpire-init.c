/* mpire-init.c: mpire_init(), mpire_cpu_count(), and how to run this program again
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpire-error.h"
#include "mpire-fork-server-private.h"
#include "mpire-i18n-private.h"
#include "mpire-init-private.h"
#include "mpire-init.h"
#include "mpire-worker-private.h"

/**
 * mpire_init: (skip)
 * @argc: (nullable): the number of arguments in @argv
 * @argv: (nullable): the program's arguments
 *
 * Sets up mpire-glib. Call it at the top of `main()`, after creating the
 * program's tasks with [ctor@Mpire.Task.new] and before anything else
 * that should not run in a worker.
 *
 * When the program was started as a worker of a pool with
 * %MPIRE_START_METHOD_SPAWN, this function does not return: it runs
 * the tasks the pool sends, by name, and then exits the process. So it
 * does for a worker started through the pool's
 * [property@Mpire.WorkerPool:worker-launcher] (on this host or
 * another), which talks to the pool over its standard input and output:
 * what its tasks print goes to its standard error. Started
 * as the fork server of a pool with %MPIRE_START_METHOD_FORKSERVER,
 * it forks the pool's workers, which do the same, until the pool is done
 * with it. In any other process it returns at once. @argc and @argv are
 * left as they are; they are taken so that later versions can take
 * options of their own.
 *
 * Bindings use [func@Mpire.init_argv], which they call `Mpire.init()`.
 *
 * Since: 0.1
 */
void
mpire_init (int    *argc,
            char ***argv)
{
  mpire_init_argv (argv != NULL ? (const char * const *) *argv : NULL);
}

/* The fd named by the environment variable @name, taken out of the
 * environment (whatever this process starts is not meant to have it) and
 * closed on exec; -1 when the variable is not set. */
static int
take_fd_from_env (const char *name)
{
  const char *value = g_getenv (name);
  gint64 fd;
  char *end = NULL;

  if (value == NULL)
    return -1;

  errno = 0;
  fd = g_ascii_strtoll (value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || fd < 0 || fd > G_MAXINT ||
      fcntl ((int) fd, F_GETFD) < 0)
    {
      g_printerr (_("mpire: %s=“%s” does not name an open file descriptor\n"), name, value);
      exit (EXIT_FAILURE);
    }

  g_unsetenv (name);
  fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
  return (int) fd;
}

/* A worker started through a launcher: the channel is the standard
 * input and output, which the worker keeps for itself; what its tasks
 * print goes to its standard error instead, and what they read comes
 * from /dev/null. */
static G_NORETURN void
serve_launched (void)
{
  int in_fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  int out_fd = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  g_unsetenv (MPIRE_WORKER_LAUNCHED_ENV);
  if (in_fd < 0 || out_fd < 0 || null_fd < 0 ||
      dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0)
    {
      int saved_errno = errno;

      g_printerr (_("mpire: could not take the standard input and output as the "
                    "pool’s channel: %s\n"), g_strerror (saved_errno));
      exit (EXIT_FAILURE);
    }
  close (null_fd);
  mpire_worker_serve_launched (in_fd, out_fd);
}

/**
 * mpire_init_argv: (rename-to mpire_init)
 * @argv: (nullable) (array zero-terminated=1): the program's arguments
 *
 * [func@Mpire.init] for language bindings, where it is called
 * `Mpire.init()`: in Python `Mpire.init(sys.argv)` at the start of
 * `__main__`, with the tasks created at module level; in GJS
 * `Mpire.init(ARGV)` (or `Mpire.init(null)`) after creating the tasks.
 *
 * When the process was started as a spawn worker or a fork server this
 * does not return.
 *
 * Since: 0.1
 */
void
mpire_init_argv (const char * const *argv)
{
  int fd;

  mpire_init_gettext ();

  fd = take_fd_from_env (MPIRE_FORK_SERVER_FD_ENV);
  if (fd >= 0)
    mpire_fork_server_serve (fd);

  if (g_strcmp0 (g_getenv (MPIRE_WORKER_LAUNCHED_ENV), "1") == 0)
    serve_launched ();

  fd = take_fd_from_env (MPIRE_WORKER_FD_ENV);
  if (fd < 0)
    return;

  mpire_worker_serve_process (fd, take_fd_from_env (MPIRE_WORKER_MEMORY_FD_ENV));
}

/**
 * mpire_cpu_count:
 *
 * Gets the number of CPUs this process may run on (its affinity mask),
 * the default number of workers of a pool.
 *
 * Returns: the number of usable CPUs, at least 1
 *
 * Since: 0.1
 */
int
mpire_cpu_count (void)
{
  cpu_set_t set;

  if (sched_getaffinity (0, sizeof set, &set) == 0)
    return MAX (1, CPU_COUNT (&set));

  return (int) g_get_num_processors ();
}

/* The program to run as a worker: the current one, as it was started. */
char **
mpire_init_self_argv (GError **error)
{
  g_autofree char *cmdline = NULL;
  g_autofree char *exe = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *argv0 = NULL;
  g_autofree char *base = NULL;
  gsize len;
  struct stat exe_st, argv0_st;

  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe == NULL || !g_file_get_contents ("/proc/self/cmdline", &cmdline, &len, NULL) || len == 0)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                           _("Could not find out how this program was started "
                             "(/proc/self/exe, /proc/self/cmdline); set the pool’s "
                             "worker-argv property"));
      return NULL;
    }

  for (gsize pos = 0; pos < len; pos += strlen (cmdline + pos) + 1)
    g_ptr_array_add (argv, g_strdup (cmdline + pos));

  /* argv[0] as found in PATH when it is the same file: a Python venv
   * only works through its own path. */
  argv0 = strchr (argv->pdata[0], '/') != NULL ? g_strdup (argv->pdata[0])
                                               : g_find_program_in_path (argv->pdata[0]);
  if (argv0 == NULL || stat (argv0, &argv0_st) != 0 || stat (exe, &exe_st) != 0 ||
      argv0_st.st_dev != exe_st.st_dev || argv0_st.st_ino != exe_st.st_ino)
    {
      g_free (argv->pdata[0]);
      argv->pdata[0] = g_strdup (exe);
    }

  base = g_path_get_basename (exe);
  if ((g_str_has_prefix (base, "python") || g_str_equal (base, "gjs") ||
       g_str_has_prefix (base, "gjs-")) &&
      (argv->len == 1 || g_str_equal (argv->pdata[argv->len - 1], "-")))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("This %s program was read from standard input, so it cannot be "
                     "started again as a worker; run it from a file, or set the pool’s "
                     "worker-argv property"), base);
      return NULL;
    }

  g_ptr_array_add (argv, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}
