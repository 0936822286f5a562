/* mpire-utils.h: MPIRE's utilities for task arguments
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <glib.h>

#include "mpire-version-macros.h"

G_BEGIN_DECLS

MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_chunk_tasks            (GVariant  *iterable,
                                        gint64     iterable_len,
                                        double     chunk_size,
                                        gint64     n_splits,
                                        GError   **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
GVariant *mpire_make_single_arguments  (GVariant  *iterable,
                                        GError   **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
