/* mpire-dashboard-client-private.h: pushing maps to a dashboard elsewhere
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gboolean mpire_dashboard_client_connect          (const char  *host,
                                                  guint        port,
                                                  const char  *token,
                                                  gboolean     check,
                                                  GError     **error);
void     mpire_dashboard_client_disconnect       (void);
gboolean mpire_dashboard_client_is_connected     (void);
void     mpire_dashboard_client_post             (JsonObject  *map);
void     mpire_dashboard_client_flush            (gint64       timeout_usec);

G_END_DECLS
