/* mpire-result-iter-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-map-job-private.h"
#include "mpire-result-iter.h"

G_BEGIN_DECLS

MpireResultIter *mpire_result_iter_new (MpireMapJob  *job,
                                        GMainContext *private_context);
void             mpire_result_iter_start (MpireResultIter *self,
                                          GCancellable    *cancellable);

G_END_DECLS
