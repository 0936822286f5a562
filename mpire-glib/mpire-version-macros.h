/* mpire-version-macros.h: symbol visibility and availability macros
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <glib.h>

#include "mpire-version.h"

#if defined (MPIRE_COMPILATION)
# define _MPIRE_EXTERN __attribute__((visibility ("default"))) extern
#else
# define _MPIRE_EXTERN extern
#endif

#define MPIRE_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#ifndef MPIRE_VERSION_MIN_REQUIRED
# define MPIRE_VERSION_MIN_REQUIRED MPIRE_VERSION_1_0
#endif

#ifndef MPIRE_VERSION_MAX_ALLOWED
# define MPIRE_VERSION_MAX_ALLOWED MPIRE_VERSION_1_0
#endif

#define MPIRE_AVAILABLE_IN_ALL _MPIRE_EXTERN
#define MPIRE_AVAILABLE_IN_1_0 _MPIRE_EXTERN
