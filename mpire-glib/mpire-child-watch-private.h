/* mpire-child-watch-private.h: reaping worker processes
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Wait status given when the child was reaped by someone else (a
 * SIGCHLD set to SIG_IGN, a waitpid(-1) in the program). */
#define MPIRE_WAIT_STATUS_UNKNOWN (-1)
/* ...and when it was killed with its fork server, which died. */
#define MPIRE_WAIT_STATUS_FORK_SERVER_LOST (-2)

typedef void (*MpireChildExitedFunc) (int      wait_status,
                                      gpointer data);

void mpire_child_watch_add (GPid                  pid,
                            GMainContext         *context,
                            MpireChildExitedFunc  exited,
                            gpointer              data);

char *mpire_describe_wait_status (int wait_status);

G_END_DECLS
