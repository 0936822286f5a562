/* mpire-dashboard-private.h: the dashboards of this process
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <json-glib/json-glib.h>

#include "mpire-dashboard.h"

G_BEGIN_DECLS

void     mpire_dashboard_connect_from_env (void);
gboolean mpire_dashboard_has_local     (void);
void     mpire_dashboard_report_local  (JsonObject     *map);
guint64  mpire_dashboard_get_n_pushes  (MpireDashboard *self);

G_END_DECLS
