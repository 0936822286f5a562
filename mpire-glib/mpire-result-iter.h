/* mpire-result-iter.h: results of imap, one at a time
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <gio/gio.h>

#include "mpire-version-macros.h"

G_BEGIN_DECLS

#define MPIRE_TYPE_RESULT_ITER (mpire_result_iter_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireResultIter, mpire_result_iter, MPIRE, RESULT_ITER, GObject)

MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_result_iter_next        (MpireResultIter      *self,
                                         GCancellable         *cancellable,
                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
void      mpire_result_iter_next_async  (MpireResultIter      *self,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_result_iter_next_finish (MpireResultIter      *self,
                                         GAsyncResult         *result,
                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
gint64    mpire_result_iter_get_n_pulled (MpireResultIter     *self);

G_END_DECLS
