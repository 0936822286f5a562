/* mpire-result.h: one result of a call, as an item of a list model
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

#define MPIRE_TYPE_RESULT (mpire_result_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireResult, mpire_result, MPIRE, RESULT, GObject)

MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_result_get_value (MpireResult *self);
MPIRE_AVAILABLE_IN_ALL
gint64    mpire_result_get_index (MpireResult *self);

G_END_DECLS
