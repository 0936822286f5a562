/* mpire-async-result.h: the result of one apply_async task
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

#define MPIRE_TYPE_ASYNC_RESULT (mpire_async_result_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireAsyncResult, mpire_async_result, MPIRE, ASYNC_RESULT, GObject)

MPIRE_AVAILABLE_IN_ALL
gboolean  mpire_async_result_ready      (MpireAsyncResult  *self);
MPIRE_AVAILABLE_IN_ALL
gboolean  mpire_async_result_wait       (MpireAsyncResult  *self,
                                         double             timeout);
MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_async_result_get        (MpireAsyncResult  *self,
                                         double             timeout,
                                         GError           **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
gboolean  mpire_async_result_successful (MpireAsyncResult  *self,
                                         GError           **error);

G_END_DECLS
