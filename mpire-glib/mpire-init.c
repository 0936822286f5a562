/* mpire-init.c: mpire_init() and mpire_cpu_count()
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpire-init.h"
#include "mpire-init-private.h"
#include "mpire-worker-private.h"

void
mpire_init_gettext (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
#ifdef ENABLE_NLS
      bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
#endif
      g_once_init_leave (&done, 1);
    }
}

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
 * [enum@Mpire.StartMethod.SPAWN], this function does not return: it runs
 * the tasks the pool sends, by name, and then exits the process. In any
 * other process it returns at once. @argc and @argv are left as they are;
 * they are taken so that later versions can take options of their own.
 *
 * Bindings use [func@Mpire.init_argv], which they call `Mpire.init()`.
 *
 * Since: 1.0
 */
void
mpire_init (int    *argc,
            char ***argv)
{
  mpire_init_argv (argv != NULL ? (const char * const *) *argv : NULL);
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
 * When the process was started as a spawn worker this does not return.
 *
 * Since: 1.0
 */
void
mpire_init_argv (const char * const *argv)
{
  const char *fd_str, *beat_str;
  MpireHeartbeat *heartbeat = NULL;
  gint64 fd;
  char *end = NULL;

  mpire_init_gettext ();

  fd_str = g_getenv (MPIRE_WORKER_FD_ENV);
  if (fd_str == NULL)
    return;

  errno = 0;
  fd = g_ascii_strtoll (fd_str, &end, 10);
  if (errno != 0 || end == fd_str || *end != '\0' || fd < 0 || fd > G_MAXINT ||
      fcntl ((int) fd, F_GETFD) < 0)
    {
      g_printerr ("mpire: %s=“%s” does not name an open file descriptor\n",
                  MPIRE_WORKER_FD_ENV, fd_str);
      exit (EXIT_FAILURE);
    }

  /* Whatever this worker starts must not be taken for a worker too, nor
   * hold the pool's channel open. */
  g_unsetenv (MPIRE_WORKER_FD_ENV);
  fcntl ((int) fd, F_SETFD, FD_CLOEXEC);

  beat_str = g_getenv (MPIRE_WORKER_HEARTBEAT_FD_ENV);
  if (beat_str != NULL)
    {
      int beat_fd = (int) g_ascii_strtoll (beat_str, NULL, 10);

      if (beat_fd > 2 && fcntl (beat_fd, F_SETFD, FD_CLOEXEC) == 0)
        heartbeat = mpire_heartbeat_map_fd (beat_fd);
      g_unsetenv (MPIRE_WORKER_HEARTBEAT_FD_ENV);
    }

  mpire_worker_serve ((int) fd, NULL, heartbeat);
  exit (EXIT_SUCCESS);
}

/**
 * mpire_cpu_count:
 *
 * Gets the number of CPUs this process may run on (its affinity mask),
 * the default number of workers of a pool.
 *
 * Returns: the number of usable CPUs, at least 1
 *
 * Since: 1.0
 */
int
mpire_cpu_count (void)
{
  cpu_set_t set;

  if (sched_getaffinity (0, sizeof set, &set) == 0)
    return MAX (1, CPU_COUNT (&set));

  return (int) g_get_num_processors ();
}
