/* mpire-worker-private.h: the loop that runs inside every worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>


G_BEGIN_DECLS

/* Serves frames on @fd until told to stop or the pool goes away, then
 * closes @fd. @shared_objects is the pool's value for workers that share
 * the pool's memory (fork, threading); spawned workers get theirs in the
 * HELLO message. @memory_fd is the memory the worker shares with its pool
 * (mpire-worker-memory-private.h), which it maps but does not own.
 * @in_thread: the worker is a thread of the pool's process (threading). */
void mpire_worker_serve (int       fd,
                         GVariant *shared_objects,
                         int       memory_fd,
                         gboolean  in_thread);

/* A worker process of its own (spawned, or forked by a fork server):
 * serves on @fd with the shared memory @memory_fd, then exits. */
G_NORETURN void mpire_worker_serve_process (int fd,
                                            int memory_fd);

/* A worker started through a launcher (ssh, srun: see
 * mpire-backend-launcher.c): frames in on @in_fd, out on @out_fd, no
 * memory shared with the pool. Greets the pool with a READY frame,
 * serves, then exits. */
G_NORETURN void mpire_worker_serve_launched (int in_fd,
                                             int out_fd);

gboolean mpire_worker_is_daemon (void);

G_END_DECLS
