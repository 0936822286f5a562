/* mpire-enums.h: public enumerations
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (MPIRE_INSIDE) && !defined (MPIRE_COMPILATION)
# error "Only <mpire.h> can be included directly."
#endif

#include "mpire-version-macros.h"

G_BEGIN_DECLS

/**
 * MpireStartMethod:
 * @MPIRE_START_METHOD_SPAWN: workers are new processes running the current
 *   program again (or the program of [property@Mpire.WorkerPool:worker-argv]);
 *   tasks are found by name in the worker's task registry
 * @MPIRE_START_METHOD_FORK: workers are `fork()`ed copies of the calling
 *   process: task functions are called directly and all C data is
 *   shared copy-on-write
 * @MPIRE_START_METHOD_THREADING: workers are threads of the calling process;
 *   for I/O-bound tasks or tasks that release the interpreter lock
 * @MPIRE_START_METHOD_FORKSERVER: a fork server, started like a
 *   %MPIRE_START_METHOD_SPAWN worker when the pool first needs a
 *   worker, `fork()`s each worker from its single thread: tasks are found
 *   by name as with spawn, and starting or replacing a worker costs a fork
 *   instead of a program start. JavaScript tasks are refused, as with
 *   %MPIRE_START_METHOD_FORK
 *
 * How a [class@Mpire.WorkerPool] starts its workers.
 *
 * Since: 0.1
 */
typedef enum {
  MPIRE_START_METHOD_SPAWN,
  MPIRE_START_METHOD_FORK,
  MPIRE_START_METHOD_THREADING,
  MPIRE_START_METHOD_FORKSERVER,
} MpireStartMethod;

G_END_DECLS
