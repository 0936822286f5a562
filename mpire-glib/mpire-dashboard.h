/* mpire-dashboard.h: a web page showing the maps of pools
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <glib-object.h>

#include "mpire-version-macros.h"

G_BEGIN_DECLS

/**
 * MPIRE_DASHBOARD_ENV:
 *
 * The environment variable naming a dashboard the pools of a process
 * report to, as `HOST:PORT`, with its token in
 * %MPIRE_DASHBOARD_TOKEN_ENV: what [func@Mpire.Dashboard.connect] does,
 * without changing the program.
 *
 * Since: 0.1
 */
#define MPIRE_DASHBOARD_ENV "MPIRE_DASHBOARD"

/**
 * MPIRE_DASHBOARD_TOKEN_ENV:
 *
 * The environment variable holding the token of the dashboard named by
 * %MPIRE_DASHBOARD_ENV.
 *
 * Since: 0.1
 */
#define MPIRE_DASHBOARD_TOKEN_ENV "MPIRE_DASHBOARD_TOKEN"

#define MPIRE_TYPE_DASHBOARD (mpire_dashboard_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireDashboard, mpire_dashboard, MPIRE, DASHBOARD, GObject)

MPIRE_AVAILABLE_IN_ALL
MpireDashboard *mpire_dashboard_new            (void) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
void            mpire_dashboard_set_port_range (MpireDashboard  *self,
                                                guint            first_port,
                                                guint            last_port);
MPIRE_AVAILABLE_IN_ALL
guint           mpire_dashboard_get_first_port (MpireDashboard  *self);
MPIRE_AVAILABLE_IN_ALL
guint           mpire_dashboard_get_last_port  (MpireDashboard  *self);
MPIRE_AVAILABLE_IN_ALL
gboolean        mpire_dashboard_start          (MpireDashboard  *self,
                                                GError         **error);
MPIRE_AVAILABLE_IN_ALL
void            mpire_dashboard_stop           (MpireDashboard  *self);
MPIRE_AVAILABLE_IN_ALL
guint           mpire_dashboard_get_port       (MpireDashboard  *self);
MPIRE_AVAILABLE_IN_ALL
const char     *mpire_dashboard_get_url        (MpireDashboard  *self);
MPIRE_AVAILABLE_IN_ALL
const char     *mpire_dashboard_get_token      (MpireDashboard  *self);

MPIRE_AVAILABLE_IN_ALL
gboolean        mpire_dashboard_connect        (const char      *host,
                                                guint            port,
                                                const char      *token,
                                                GError         **error);
MPIRE_AVAILABLE_IN_ALL
void            mpire_dashboard_disconnect     (void);

MPIRE_AVAILABLE_IN_ALL
gboolean        mpire_connect_to_dashboard     (const char      *host,
                                                guint            port,
                                                const char      *token,
                                                GError         **error);
MPIRE_AVAILABLE_IN_ALL
void            mpire_disconnect_from_dashboard (void);

G_END_DECLS
