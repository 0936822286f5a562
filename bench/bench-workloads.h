/* bench-workloads.h: the benchmark's tasks, their inputs and checks
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <mpire-glib/mpire.h>

#define POINT_DIM 3

typedef gboolean (*CheckFunc) (GVariant *result, gint64 n, GError **error);

guint64 lcg_run (guint64 x,
                 gint64  steps);
guint64 lcg_skip (guint64 x,
                  gint64  steps);
gint64 cpu_work (gint64 i);
gint64 cpu_expected (gint64 i);
GVariant *square_func (MpireWorkerContext  *context,
                       GVariant            *args,
                       gpointer             user_data,
                       GError             **error);
GVariant *square_chunk_func (MpireWorkerContext  *context,
                             GVariant            *args,
                             gpointer             user_data,
                             GError             **error);
GVariant *cpu_func (MpireWorkerContext  *context,
                    GVariant            *args,
                    gpointer             user_data,
                    GError             **error);
GVariant *array_take (const char *type,
                      gpointer    values,
                      gint64      n);
GVariant *make_range (gint64 n);
GVariant *array_head (GVariant *array,
                      gint64    rows,
                      gint64    row_width);
gconstpointer get_array (GVariant    *result,
                         const char  *type,
                         gint64       n,
                         GError     **error);
gboolean check_results (GVariant   *result,
                        gint64      n,
                        gint64    (*expected) (gint64 i),
                        GError    **error);
gint64 square_of (gint64 i);
gboolean check_squares (GVariant  *result,
                        gint64     n,
                        GError   **error);
gboolean check_cpu (GVariant  *result,
                    gint64     n,
                    GError   **error);
void point (gint64  i,
            double *p);
GVariant *make_points (gint64 n);
GVariant *norms_func (MpireWorkerContext  *context,
                      GVariant            *args,
                      gpointer             user_data,
                      GError             **error);
gboolean check_norms (GVariant  *result,
                      gint64     n,
                      GError   **error);
gint64 table_value (gint64 k);
gint64 table_lookups (const gint64 *table,
                      gint64        x);
GVariant *make_table (void);
GVariant *table_init_func (MpireWorkerContext  *context,
                           GVariant            *args,
                           gpointer             user_data,
                           GError             **error);
GVariant *get_state (MpireWorkerContext  *context,
                     const char          *type,
                     GError             **error);
GVariant *stateful_func (MpireWorkerContext  *context,
                         GVariant            *args,
                         gpointer             user_data,
                         GError             **error);
gint64 stateful_expected (gint64 x);
gboolean check_stateful (GVariant  *result,
                         gint64     n,
                         GError   **error);
GVariant *seq_stateful (GVariant  *input,
                        GError   **error);
GVariant *slow_init_func (MpireWorkerContext  *context,
                          GVariant            *args,
                          gpointer             user_data,
                          GError             **error);
gint64 short_work (gint64 x,
                   gint64 offset);
GVariant *short_func (MpireWorkerContext  *context,
                      GVariant            *args,
                      gpointer             user_data,
                      GError             **error);
gint64 short_expected (gint64 x);
gboolean check_short (GVariant  *result,
                      gint64     n,
                      GError   **error);
GVariant *seq_short (GVariant  *input,
                     GError   **error);

/* bench-remote.c */
GVariant *remote_launchers (char   **ssh,
                            int      n_local,
                            int      n_remote,
                            GError **error);
