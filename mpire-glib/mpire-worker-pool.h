/* mpire-worker-pool.h: a pool of workers that maps tasks
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <gio/gio.h>

#include "mpire-async-result.h"
#include "mpire-enums.h"
#include "mpire-map-options.h"
#include "mpire-result-iter.h"
#include "mpire-result-list.h"
#include "mpire-task.h"
#include "mpire-version-macros.h"

G_BEGIN_DECLS

#define MPIRE_TYPE_WORKER_POOL (mpire_worker_pool_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireWorkerPool, mpire_worker_pool, MPIRE, WORKER_POOL, GObject)

MPIRE_AVAILABLE_IN_ALL
MpireWorkerPool  *mpire_worker_pool_new                  (int                   n_jobs,
                                                          MpireStartMethod      start_method) G_GNUC_WARN_UNUSED_RESULT;

MPIRE_AVAILABLE_IN_ALL
int               mpire_worker_pool_get_n_jobs           (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_n_jobs           (MpireWorkerPool      *self,
                                                          int                   n_jobs);
MPIRE_AVAILABLE_IN_ALL
MpireStartMethod  mpire_worker_pool_get_start_method     (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_start_method     (MpireWorkerPool      *self,
                                                          MpireStartMethod      start_method);
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_get_cpu_ids          (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_cpu_ids          (MpireWorkerPool      *self,
                                                          GVariant             *cpu_ids);
MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_get_daemon           (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_daemon           (MpireWorkerPool      *self,
                                                          gboolean              daemon);
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_get_shared_objects   (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_shared_objects   (MpireWorkerPool      *self,
                                                          GVariant             *shared_objects);
MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_get_pass_worker_id   (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_pass_worker_id   (MpireWorkerPool      *self,
                                                          gboolean              pass_worker_id);
MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_get_use_worker_state (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_use_worker_state (MpireWorkerPool      *self,
                                                          gboolean              use_worker_state);
MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_get_keep_alive       (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_keep_alive       (MpireWorkerPool      *self,
                                                          gboolean              keep_alive);
MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_get_order_tasks      (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_order_tasks      (MpireWorkerPool      *self,
                                                          gboolean              order_tasks);
MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_get_enable_insights  (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_enable_insights  (MpireWorkerPool      *self,
                                                          gboolean              enable_insights);
MPIRE_AVAILABLE_IN_ALL
const char * const *mpire_worker_pool_get_worker_argv    (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_worker_argv      (MpireWorkerPool      *self,
                                                          const char * const   *worker_argv);
MPIRE_AVAILABLE_IN_ALL
const char * const *mpire_worker_pool_get_worker_launcher (MpireWorkerPool     *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_worker_launcher  (MpireWorkerPool      *self,
                                                          const char * const   *worker_launcher);
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_get_worker_launchers (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_set_worker_launchers (MpireWorkerPool      *self,
                                                          GVariant             *worker_launchers);

MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_map                  (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_map_async            (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_map_finish           (MpireWorkerPool      *self,
                                                          GAsyncResult         *result,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_map_unordered        (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_map_unordered_async  (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_map_unordered_finish (MpireWorkerPool      *self,
                                                          GAsyncResult         *result,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
MpireResultIter  *mpire_worker_pool_imap                 (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_imap_async           (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
MPIRE_AVAILABLE_IN_ALL
MpireResultIter  *mpire_worker_pool_imap_finish          (MpireWorkerPool      *self,
                                                          GAsyncResult         *result,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
MpireResultIter  *mpire_worker_pool_imap_unordered       (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_imap_unordered_async (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
MPIRE_AVAILABLE_IN_ALL
MpireResultIter  *mpire_worker_pool_imap_unordered_finish (MpireWorkerPool     *self,
                                                          GAsyncResult         *result,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
MpireResultList  *mpire_worker_pool_imap_list            (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
MpireResultList  *mpire_worker_pool_imap_unordered_list  (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *iterable,
                                                          MpireMapOptions      *options,
                                                          GCancellable         *cancellable,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;

MPIRE_AVAILABLE_IN_ALL
MpireAsyncResult *mpire_worker_pool_apply_async          (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *args,
                                                          MpireMapOptions      *options,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_apply                (MpireWorkerPool      *self,
                                                          MpireTask            *task,
                                                          GVariant             *args,
                                                          MpireMapOptions      *options,
                                                          GError              **error) G_GNUC_WARN_UNUSED_RESULT;

MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_stop_and_join        (MpireWorkerPool      *self,
                                                          GError              **error);
MPIRE_AVAILABLE_IN_ALL
gboolean          mpire_worker_pool_join                 (MpireWorkerPool      *self,
                                                          GError              **error);
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_terminate            (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
guint             mpire_worker_pool_get_n_workers        (MpireWorkerPool      *self);
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_get_exit_results     (MpireWorkerPool      *self) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
GVariant         *mpire_worker_pool_get_insights         (MpireWorkerPool      *self) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
char             *mpire_worker_pool_get_insights_json    (MpireWorkerPool      *self) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
char             *mpire_worker_pool_get_insights_string  (MpireWorkerPool      *self) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
void              mpire_worker_pool_print_insights       (MpireWorkerPool      *self);

G_END_DECLS
