/* mpire-map-options.h: per-call options of the map family
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <glib-object.h>

#include "mpire-task.h"
#include "mpire-version-macros.h"

G_BEGIN_DECLS

/**
 * MpireSourceFunc:
 * @user_data: (closure): the data given with the function
 * @error: return location for an error
 *
 * Produces the arguments of the next task of a lazy input.
 *
 * Returns %NULL without setting @error when the input is exhausted. If it
 * sets @error the map fails with that error.
 *
 * Returns: (transfer full) (nullable): the next task's arguments, or
 *   %NULL at the end of the input or on error
 *
 * Since: 0.1
 */
typedef GVariant *(*MpireSourceFunc) (gpointer   user_data,
                                      GError   **error);

#define MPIRE_TYPE_MAP_OPTIONS (mpire_map_options_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireMapOptions, mpire_map_options, MPIRE, MAP_OPTIONS, GObject)

MPIRE_AVAILABLE_IN_ALL
MpireMapOptions *mpire_map_options_new                  (void) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
gint64           mpire_map_options_get_iterable_len     (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_iterable_len     (MpireMapOptions *self,
                                                         gint64           iterable_len);
MPIRE_AVAILABLE_IN_ALL
gint64           mpire_map_options_get_chunk_size       (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_chunk_size       (MpireMapOptions *self,
                                                         gint64           chunk_size);
MPIRE_AVAILABLE_IN_ALL
gint64           mpire_map_options_get_n_splits         (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_n_splits         (MpireMapOptions *self,
                                                         gint64           n_splits);
MPIRE_AVAILABLE_IN_ALL
gint64           mpire_map_options_get_max_tasks_active (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_max_tasks_active (MpireMapOptions *self,
                                                         gint64           max_tasks_active);
MPIRE_AVAILABLE_IN_ALL
gint64           mpire_map_options_get_worker_lifespan  (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_worker_lifespan  (MpireMapOptions *self,
                                                         gint64           worker_lifespan);
MPIRE_AVAILABLE_IN_ALL
gboolean         mpire_map_options_get_progress_bar     (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_progress_bar     (MpireMapOptions *self,
                                                         gboolean         progress_bar);
MPIRE_AVAILABLE_IN_ALL
GVariant        *mpire_map_options_get_progress_bar_options (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_progress_bar_options (MpireMapOptions *self,
                                                             GVariant        *options);
MPIRE_AVAILABLE_IN_ALL
MpireTask       *mpire_map_options_get_worker_init      (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_worker_init      (MpireMapOptions *self,
                                                         MpireTask       *task);
MPIRE_AVAILABLE_IN_ALL
MpireTask       *mpire_map_options_get_worker_exit      (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_worker_exit      (MpireMapOptions *self,
                                                         MpireTask       *task);
MPIRE_AVAILABLE_IN_ALL
double           mpire_map_options_get_task_timeout     (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_task_timeout     (MpireMapOptions *self,
                                                         double           seconds);
MPIRE_AVAILABLE_IN_ALL
double           mpire_map_options_get_worker_init_timeout (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_worker_init_timeout (MpireMapOptions *self,
                                                            double           seconds);
MPIRE_AVAILABLE_IN_ALL
double           mpire_map_options_get_worker_exit_timeout (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_worker_exit_timeout (MpireMapOptions *self,
                                                            double           seconds);
MPIRE_AVAILABLE_IN_ALL
gboolean         mpire_map_options_get_retry_on_worker_death (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_retry_on_worker_death (MpireMapOptions *self,
                                                              gboolean         retry);
MPIRE_AVAILABLE_IN_ALL
const char      *mpire_map_options_get_progress_bar_style (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_progress_bar_style (MpireMapOptions *self,
                                                           const char      *style);
MPIRE_AVAILABLE_IN_ALL
gboolean         mpire_map_options_get_array_chunks     (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_array_chunks     (MpireMapOptions *self,
                                                         gboolean         array_chunks);
MPIRE_AVAILABLE_IN_ALL
gint64           mpire_map_options_get_row_width        (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_row_width        (MpireMapOptions *self,
                                                         gint64           row_width);
MPIRE_AVAILABLE_IN_ALL
gboolean         mpire_map_options_get_concatenate      (MpireMapOptions *self);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_concatenate      (MpireMapOptions *self,
                                                         gboolean         concatenate);
MPIRE_AVAILABLE_IN_ALL
void             mpire_map_options_set_source           (MpireMapOptions *self,
                                                         MpireSourceFunc  func,
                                                         gpointer         user_data,
                                                         GDestroyNotify   destroy);
MPIRE_AVAILABLE_IN_ALL
gboolean         mpire_map_options_has_source           (MpireMapOptions *self);

G_END_DECLS
