/* mpire-pool-thread-private.h: the thread a pool does its I/O on, and
 * its parking while workers are forked
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MpirePoolThread MpirePoolThread;

MpirePoolThread *mpire_pool_thread_new            (GMutex          *lock,
                                                   GCond           *cond);
void             mpire_pool_thread_free           (MpirePoolThread *self);
GMainContext    *mpire_pool_thread_get_context    (MpirePoolThread *self);
void             mpire_pool_thread_ensure_running (MpirePoolThread *self);
gboolean         mpire_pool_thread_park           (MpirePoolThread *self);
void             mpire_pool_thread_unpark         (MpirePoolThread *self);

G_END_DECLS
