/* mpire-task.h: named task functions
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

typedef struct _MpireWorkerContext MpireWorkerContext;

/**
 * MpireTaskFunc:
 * @context: the worker running the task: its id, the shared objects and
 *   the worker state
 * @args: the task's arguments: one element of the mapped array, as is
 * @user_data: (closure): the data given to [ctor@Mpire.Task.new]
 * @error: return location for the task's error
 *
 * A function run by a worker for one task.
 *
 * It returns the task's result, or sets @error and returns %NULL. A
 * floating reference is sunk by the worker.
 *
 * Returns: (transfer full) (nullable): the result of the task, or %NULL
 *   with @error set
 *
 * Since: 0.1
 */
typedef GVariant *(*MpireTaskFunc) (MpireWorkerContext  *context,
                                    GVariant            *args,
                                    gpointer             user_data,
                                    GError             **error);

#define MPIRE_TYPE_TASK (mpire_task_get_type ())

MPIRE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpireTask, mpire_task, MPIRE, TASK, GObject)

MPIRE_AVAILABLE_IN_ALL
MpireTask   *mpire_task_new      (const char     *name,
                                  MpireTaskFunc   func,
                                  gpointer        user_data,
                                  GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
MpireTask   *mpire_task_lookup   (const char     *name) G_GNUC_WARN_UNUSED_RESULT;
MPIRE_AVAILABLE_IN_ALL
const char  *mpire_task_get_name (MpireTask      *self);
MPIRE_AVAILABLE_IN_ALL
const GVariantType *mpire_task_get_args_type   (MpireTask          *self);
MPIRE_AVAILABLE_IN_ALL
void                mpire_task_set_args_type   (MpireTask          *self,
                                                const GVariantType *args_type);
MPIRE_AVAILABLE_IN_ALL
const GVariantType *mpire_task_get_result_type (MpireTask          *self);
MPIRE_AVAILABLE_IN_ALL
void                mpire_task_set_result_type (MpireTask          *self,
                                                const GVariantType *result_type);
MPIRE_AVAILABLE_IN_ALL
GVariant    *mpire_task_invoke   (MpireTask           *self,
                                  MpireWorkerContext  *context,
                                  GVariant            *args,
                                  GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
