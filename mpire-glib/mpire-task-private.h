/* mpire-task-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-enums.h"
#include "mpire-task.h"

G_BEGIN_DECLS

gboolean mpire_task_is_thread_bound  (MpireTask *self);
gboolean mpire_task_check_start_method (MpireTask         *task,
                                        MpireStartMethod   method,
                                        GError           **error);
gboolean mpire_task_can_run_on_thread (MpireTask *self,
                                       GThread   *thread);

G_END_DECLS
