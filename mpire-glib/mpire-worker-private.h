/* mpire-worker-private.h: the loop that runs inside every worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

#include "mpire-heartbeat-private.h"

G_BEGIN_DECLS

/* Serves frames on @fd until told to stop or the pool goes away, then
 * closes @fd. @shared_objects is the pool's value for workers that share
 * the pool's memory (fork, threading); spawned workers get theirs in the
 * HELLO message. Tasks are timed in @heartbeat when a call asks for it. */
void mpire_worker_serve (int             fd,
                         GVariant       *shared_objects,
                         MpireHeartbeat *heartbeat);

/* A worker process of its own (spawned, or forked by a fork server):
 * serves on @fd, times its tasks in the page of @heartbeat_fd (if above
 * 2), then exits. */
G_NORETURN void mpire_worker_serve_process (int fd,
                                            int heartbeat_fd);

gboolean mpire_worker_is_daemon (void);

G_END_DECLS
