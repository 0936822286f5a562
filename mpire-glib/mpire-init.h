/* mpire-init.h: process start-up and machine facts
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
void mpire_init      (int    *argc,
                      char ***argv);
MPIRE_AVAILABLE_IN_ALL
void mpire_init_argv (const char * const *argv);
MPIRE_AVAILABLE_IN_ALL
int  mpire_cpu_count (void);

G_END_DECLS
