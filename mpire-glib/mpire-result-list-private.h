/* mpire-result-list-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-result-iter.h"
#include "mpire-result-list.h"

G_BEGIN_DECLS

MpireResultList *mpire_result_list_new (MpireResultIter *iter);

G_END_DECLS
