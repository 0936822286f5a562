/* mpire-result-list.h: results of imap as a list model that grows
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

#define MPIRE_TYPE_RESULT_LIST (mpire_result_list_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireResultList, mpire_result_list, MPIRE, RESULT_LIST, GObject)

MPIRE_AVAILABLE_IN_ALL
gboolean      mpire_result_list_get_complete (MpireResultList *self);
MPIRE_AVAILABLE_IN_ALL
const GError *mpire_result_list_get_error    (MpireResultList *self);
MPIRE_AVAILABLE_IN_ALL
GVariant     *mpire_result_list_get_value    (MpireResultList *self,
                                              guint            position);

G_END_DECLS
