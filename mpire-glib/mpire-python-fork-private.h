/* mpire-python-fork-private.h: fork() in a process that runs Python
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* CPython must be told about a fork() as os.fork() tells it: the child
 * of a fork made while another Python thread held the GIL would wait for
 * that lock for ever the first time it runs a Python task. In a process
 * without Python these do nothing. */
typedef struct
{
  gboolean active;     /* Python is running in this process */
  int      gil_state;  /* PyGILState_STATE */
} MpirePythonFork;

void mpire_python_fork_prepare      (MpirePythonFork *fork);
void mpire_python_fork_parent       (MpirePythonFork *fork);
void mpire_python_fork_child        (MpirePythonFork *fork);

G_END_DECLS
