/* mpire-worker-context.h: what a running task sees of its worker
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <glib-object.h>

#include "mpire-version-macros.h"

G_BEGIN_DECLS

#define MPIRE_TYPE_WORKER_CONTEXT (mpire_worker_context_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireWorkerContext, mpire_worker_context, MPIRE, WORKER_CONTEXT, GObject)

MPIRE_AVAILABLE_IN_ALL
int       mpire_worker_context_get_worker_id      (MpireWorkerContext *self);
MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_worker_context_get_shared_objects (MpireWorkerContext *self);
MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_worker_context_get_state          (MpireWorkerContext *self);
MPIRE_AVAILABLE_IN_ALL
void      mpire_worker_context_set_state          (MpireWorkerContext *self,
                                                   GVariant           *state);

G_END_DECLS
