/* mpire-fork-server-private.h: the process that forks FORKSERVER workers
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Environment variable naming the control socket of a fork server: the
 * program run with it becomes the server in mpire_init(). */
#define MPIRE_FORK_SERVER_FD_ENV "MPIRE_FORK_SERVER_FD"

/* The pool's end of one fork server. A pool holds a reference while it
 * uses the server, and each worker forked by it holds one until it is
 * reaped; the last unref stops the server and reaps it. All functions
 * take the scheduler's lock as held. */
typedef struct _MpireForkServer MpireForkServer;

MpireForkServer *mpire_fork_server_new        (const char * const  *argv,
                                               GMutex              *lock,
                                               GMainContext        *context,
                                               GError             **error);
gboolean         mpire_fork_server_is_running (MpireForkServer     *self);
gboolean         mpire_fork_server_was_killed (MpireForkServer     *self);
void             mpire_fork_server_unref      (MpireForkServer     *self);

/* The server's side: serves the pool on @fd until it closes it, then
 * exits the process. */
G_NORETURN void  mpire_fork_server_serve      (int                  fd);

G_END_DECLS
