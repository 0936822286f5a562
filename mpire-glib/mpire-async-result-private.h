/* mpire-async-result-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-async-result.h"

G_BEGIN_DECLS

MpireAsyncResult *mpire_async_result_new      (GMainContext     *context);
/* Both in the result's context; they take @result / @error. */
void              mpire_async_result_complete (MpireAsyncResult *self,
                                               GVariant         *result);
void              mpire_async_result_fail     (MpireAsyncResult *self,
                                               GError           *error);

G_END_DECLS
