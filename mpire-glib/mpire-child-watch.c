/* mpire-child-watch.c: reaping worker processes
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib-unix.h>

#include "mpire-child-watch-private.h"
#include "mpire-i18n-private.h"

/* GLib's child watch is not used: in GLib 2.74 (Debian 12) a pidfd that
 * becomes readable before the child can be reaped (a multi-threaded
 * child still exiting, an ASan build's leak check) is reported as an
 * exit with status 0, and the child is left a zombie (fixed upstream by
 * "main: Don't treat si_pid from pidfd as child exiting"). Here the
 * child is reaped with waitid(); while it cannot be yet, it is polled.
 * Without pidfds (Linux < 5.3) it is polled from the start. */

#define POLL_INTERVAL_MS 5

typedef struct
{
  GPid                  pid;
  int                   pidfd;
  GMainContext         *context;
  GSource              *source;
  MpireChildExitedFunc  exited;
  gpointer              data;
} ChildWatch;

static int
wait_status_from_siginfo (const siginfo_t *info)
{
  switch (info->si_code)
    {
    case CLD_EXITED:
      return (info->si_status & 0xff) << 8;
    case CLD_KILLED:
      return info->si_status & 0x7f;
    case CLD_DUMPED:
      return (info->si_status & 0x7f) | 0x80;
    default:
      return MPIRE_WAIT_STATUS_UNKNOWN;
    }
}

static void
child_watch_done (ChildWatch *watch,
                  int         wait_status)
{
  g_source_destroy (watch->source);
  g_source_unref (watch->source);
  if (watch->pidfd >= 0)
    close (watch->pidfd);
  watch->exited (wait_status, watch->data);
  g_main_context_unref (watch->context);
  g_free (watch);
}

/* Reaps the child if it can be reaped now. */
static gboolean
try_reap (ChildWatch *watch)
{
  siginfo_t info = { 0, };

  if (waitid (P_PID, watch->pid, &info, WEXITED | WNOHANG) == 0)
    {
      if (info.si_pid == 0)
        return FALSE;
      child_watch_done (watch, wait_status_from_siginfo (&info));
      return TRUE;
    }

  if (errno == EINTR)
    return FALSE;

  /* ECHILD: reaped elsewhere. */
  child_watch_done (watch, MPIRE_WAIT_STATUS_UNKNOWN);
  return TRUE;
}

static gboolean
poll_child (gpointer user_data)
{
  try_reap (user_data);
  return G_SOURCE_CONTINUE;
}

static void
start_polling (ChildWatch *watch)
{
  watch->source = g_timeout_source_new (POLL_INTERVAL_MS);
  g_source_set_callback (watch->source, poll_child, watch, NULL);
  g_source_set_static_name (watch->source, "[mpire] child exit poll");
  g_source_attach (watch->source, watch->context);
}

static gboolean
pidfd_ready (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  ChildWatch *watch = user_data;

  if (try_reap (watch))
    return G_SOURCE_REMOVE;

  /* Exiting, not yet reapable: the pidfd stays readable, so poll. */
  g_source_destroy (watch->source);
  g_clear_pointer (&watch->source, g_source_unref);
  start_polling (watch);
  return G_SOURCE_REMOVE;
}

/* Calls @exited in @context once @pid has exited and was reaped. */
void
mpire_child_watch_add (GPid                  pid,
                       GMainContext         *context,
                       MpireChildExitedFunc  exited,
                       gpointer              data)
{
  ChildWatch *watch = g_new0 (ChildWatch, 1);

  watch->pid = pid;
  watch->context = g_main_context_ref (context);
  watch->exited = exited;
  watch->data = data;
#ifdef SYS_pidfd_open
  watch->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
#else
  watch->pidfd = -1;
#endif

  if (watch->pidfd < 0)
    {
      start_polling (watch);
      return;
    }

  watch->source = g_unix_fd_source_new (watch->pidfd, G_IO_IN);
  g_source_set_callback (watch->source, G_SOURCE_FUNC (pidfd_ready), watch, NULL);
  g_source_set_static_name (watch->source, "[mpire] child exit");
  g_source_attach (watch->source, context);
}

/* How a worker ended, said as "Worker 3 <this>". */
char *
mpire_describe_wait_status (int wait_status)
{
  if (wait_status == MPIRE_WAIT_STATUS_UNKNOWN)
    return g_strdup (_("exited (its exit status was collected elsewhere)"));
  if (wait_status == MPIRE_WAIT_STATUS_FORK_SERVER_LOST)
    return g_strdup (_("was killed because its fork server died"));
  if (WIFSIGNALED (wait_status))
    return g_strdup_printf (_("was killed by signal %d (%s)"),
                            WTERMSIG (wait_status), g_strsignal (WTERMSIG (wait_status)));
  if (WIFEXITED (wait_status))
    return g_strdup_printf (_("exited with status %d"), WEXITSTATUS (wait_status));
  return g_strdup_printf (_("ended with wait status %d"), wait_status);
}
