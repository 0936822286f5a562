/* mpire-error.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-error.h"

G_DEFINE_QUARK (mpire-error-quark, mpire_error)
