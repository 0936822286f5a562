/* mpire-dashboard-reporter-private.h: a map's reports to the dashboards
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib-object.h>

#include "mpire-map-options.h"
#include "mpire-task.h"

G_BEGIN_DECLS

void mpire_dashboard_watch_call (GObject         *pool,
                                 MpireTask       *task,
                                 GVariant        *iterable,
                                 MpireMapOptions *options);

G_END_DECLS
