/* mpire-result-iter-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-map-job-private.h"
#include "mpire-result-iter.h"

G_BEGIN_DECLS

typedef void (*MpireResultIterChanged) (MpireResultIter *iter,
                                        gpointer         data);

MpireResultIter *mpire_result_iter_new (MpireMapJob  *job,
                                        GMainContext *private_context);
void             mpire_result_iter_start (MpireResultIter *self,
                                          GCancellable    *cancellable);
void             mpire_result_iter_set_changed_func (MpireResultIter        *self,
                                                     MpireResultIterChanged  func,
                                                     gpointer                data);
MpireJobNext     mpire_result_iter_poll (MpireResultIter  *self,
                                         GVariant        **item,
                                         gint64           *index,
                                         GError          **error);

G_END_DECLS
