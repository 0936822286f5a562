/* mpire-worker-context-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-worker-context.h"

G_BEGIN_DECLS

MpireWorkerContext *mpire_worker_context_new (int       worker_id,
                                              gboolean  pass_worker_id,
                                              GVariant *shared_objects,
                                              gboolean  use_worker_state);

G_END_DECLS
