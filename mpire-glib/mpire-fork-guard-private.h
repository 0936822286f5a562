/* mpire-fork-guard-private.h: the library's own threads held still while
 * a pool forks a worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void  mpire_fork_guard_add            (GMainContext *context);
void  mpire_fork_guard_remove         (GMainContext *context);
void  mpire_fork_guard_hold           (void);
void  mpire_fork_guard_release_parent (void);
void  mpire_fork_guard_release_child  (void);

G_END_DECLS
