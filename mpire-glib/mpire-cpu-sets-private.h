/* mpire-cpu-sets-private.h: the CPUs each worker is pinned to
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <sched.h>

#include <glib.h>

G_BEGIN_DECLS

GArray *mpire_cpu_sets_parse (GVariant  *ids,
                              int        n_jobs,
                              GError   **error);

G_END_DECLS
