/* mpire-dashboard-server-private.h: the dashboard's HTTP server, in its thread
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-dashboard-maps-private.h"

G_BEGIN_DECLS

typedef struct _MpireDashboardServer MpireDashboardServer;

MpireDashboardServer *mpire_dashboard_server_start    (MpireDashboardMaps    *maps,
                                                       guint                  first_port,
                                                       guint                  last_port,
                                                       const char            *token,
                                                       GError               **error);
guint                 mpire_dashboard_server_get_port (MpireDashboardServer  *self);
void                  mpire_dashboard_server_changed  (MpireDashboardServer  *self);
void                  mpire_dashboard_server_stop     (MpireDashboardServer  *self);

G_END_DECLS
