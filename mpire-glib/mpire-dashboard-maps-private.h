/* mpire-dashboard-maps-private.h: what a dashboard knows about maps
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The largest push body a dashboard reads, and the longest text it keeps
 * of one field (a description, an error message, the failing task's
 * arguments). */
#define MPIRE_DASHBOARD_MAX_BODY  (1024 * 1024)
#define MPIRE_DASHBOARD_MAX_TEXT  4096
/* Maps a dashboard keeps; past that, the oldest finished ones go. */
#define MPIRE_DASHBOARD_MAX_MAPS  500

typedef struct _MpireDashboardMaps MpireDashboardMaps;

MpireDashboardMaps *mpire_dashboard_maps_new          (void);
void                mpire_dashboard_maps_free         (MpireDashboardMaps  *self);
gboolean            mpire_dashboard_maps_update       (MpireDashboardMaps  *self,
                                                       JsonObject          *map,
                                                       GError             **error);
gboolean            mpire_dashboard_maps_push         (MpireDashboardMaps  *self,
                                                       const char          *body,
                                                       gsize                length,
                                                       GError             **error);
JsonNode           *mpire_dashboard_maps_list         (MpireDashboardMaps  *self,
                                                       gboolean             with_insights);
JsonNode           *mpire_dashboard_maps_get          (MpireDashboardMaps  *self,
                                                       gint64               id);
JsonNode           *mpire_dashboard_maps_get_insights (MpireDashboardMaps  *self,
                                                       gint64               id);
GPtrArray          *mpire_dashboard_maps_take_changed (MpireDashboardMaps  *self);
guint64             mpire_dashboard_maps_get_n_pushes (MpireDashboardMaps  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireDashboardMaps, mpire_dashboard_maps_free)

G_END_DECLS
