/* mpire-init-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Environment variable naming the channel fd of a spawned worker. */
#define MPIRE_WORKER_FD_ENV "MPIRE_WORKER_FD"
/* ...and of the memory it shares with its pool. */
#define MPIRE_WORKER_MEMORY_FD_ENV    "MPIRE_WORKER_MEMORY_FD"
/* Set (to 1) in a worker started through a launcher: its channel is its
 * standard input and output (mpire-backend-launcher.c). */
#define MPIRE_WORKER_LAUNCHED_ENV "MPIRE_WORKER_LAUNCHED"

char  **mpire_init_self_argv (GError **error);

G_END_DECLS
