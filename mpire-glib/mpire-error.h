/* mpire-error.h: the MPIRE_ERROR domain
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include <glib.h>

#include "mpire-version-macros.h"

G_BEGIN_DECLS

/**
 * MPIRE_ERROR:
 *
 * Error domain of mpire-glib. Errors in this domain are from the
 * [error@Mpire.Error] enumeration. Errors set by task functions keep their
 * own domain and code.
 *
 * Since: 0.1
 */
#define MPIRE_ERROR (mpire_error_quark ())

/**
 * MpireError:
 * @MPIRE_ERROR_FAILED: a generic failure
 * @MPIRE_ERROR_INVALID_ARGUMENT: an argument or option has an invalid value
 *   (for example an input that is not an array, or a negative number of jobs)
 * @MPIRE_ERROR_TASK_NOT_REGISTERED: the worker has no task of that name
 *   in its registry
 * @MPIRE_ERROR_POOL_BUSY: a map was started while another one is still
 *   running on the same pool
 * @MPIRE_ERROR_WORKER_DIED: a worker exited or was killed while it had
 *   tasks to run
 * @MPIRE_ERROR_PROTOCOL: a worker sent a message that could not be
 *   understood
 * @MPIRE_ERROR_POOL_TERMINATED: the pool was terminated while the call was
 *   running
 * @MPIRE_ERROR_TASK_FAILED: a task function returned neither a result nor
 *   an error (in Python, an exception other than `GLib.Error`)
 * @MPIRE_ERROR_NOT_SUPPORTED: the task cannot run with this start method
 *   (for example a JavaScript task on a threading pool)
 * @MPIRE_ERROR_WORKER_START: a worker could not be started
 * @MPIRE_ERROR_TIMED_OUT: a task ran longer than the call's
 *   [property@Mpire.MapOptions:task-timeout]
 *
 * Error codes of the `MPIRE_ERROR` domain, the quark returned by
 * [func@Mpire.Error.quark].
 *
 * Since: 0.1
 */
typedef enum {
  MPIRE_ERROR_FAILED,
  MPIRE_ERROR_INVALID_ARGUMENT,
  MPIRE_ERROR_TASK_NOT_REGISTERED,
  MPIRE_ERROR_POOL_BUSY,
  MPIRE_ERROR_WORKER_DIED,
  MPIRE_ERROR_PROTOCOL,
  MPIRE_ERROR_POOL_TERMINATED,
  MPIRE_ERROR_TASK_FAILED,
  MPIRE_ERROR_NOT_SUPPORTED,
  MPIRE_ERROR_WORKER_START,
  MPIRE_ERROR_TIMED_OUT,
} MpireError;

/**
 * mpire_error_quark:
 *
 * The quark of mpire-glib's error domain, which the `MPIRE_ERROR` macro
 * expands to. Errors in this domain have codes from [error@Mpire.Error].
 *
 * Returns: the error domain's quark
 *
 * Since: 0.1
 */
MPIRE_AVAILABLE_IN_ALL
GQuark mpire_error_quark (void);

G_END_DECLS
