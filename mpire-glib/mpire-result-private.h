/* mpire-result-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-result.h"

G_BEGIN_DECLS

MpireResult *mpire_result_new (GVariant *value,
                               gint64    index);

G_END_DECLS
