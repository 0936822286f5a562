/* mpire.h: umbrella header of mpire-glib
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#define MPIRE_INSIDE
# include "mpire-version.h"
# include "mpire-version-macros.h"
# include "mpire-enums.h"
# include "mpire-error.h"
# include "mpire-async-result.h"
# include "mpire-dashboard.h"
# include "mpire-task.h"
# include "mpire-worker-context.h"
# include "mpire-map-options.h"
# include "mpire-result-iter.h"
# include "mpire-result.h"
# include "mpire-result-list.h"
# include "mpire-worker-pool.h"
# include "mpire-init.h"
# include "mpire-utils.h"
# include "mpire-enum-types.h"
#undef MPIRE_INSIDE
