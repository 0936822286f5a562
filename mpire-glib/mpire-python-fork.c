/* mpire-python-fork.c: fork() in a process that runs Python
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <dlfcn.h>

#include "mpire-python-fork-private.h"

/* The parts of CPython's C API that os.fork() uses, found at run time:
 * the library does not link to Python. */
typedef struct
{
  int  (*is_initialized) (void);
  int  (*gil_ensure)     (void);
  void (*gil_release)    (int state);
  void (*before_fork)    (void);
  void (*after_parent)   (void);
  void (*after_child)    (void);
} PythonApi;

static const PythonApi *
python_api (void)
{
  static PythonApi api;
  static const PythonApi *found;
  static gsize looked_up;

  if (g_once_init_enter (&looked_up))
    {
      api.is_initialized = (int (*) (void)) dlsym (RTLD_DEFAULT, "Py_IsInitialized");
      api.gil_ensure = (int (*) (void)) dlsym (RTLD_DEFAULT, "PyGILState_Ensure");
      api.gil_release = (void (*) (int)) dlsym (RTLD_DEFAULT, "PyGILState_Release");
      api.before_fork = (void (*) (void)) dlsym (RTLD_DEFAULT, "PyOS_BeforeFork");
      api.after_parent = (void (*) (void)) dlsym (RTLD_DEFAULT, "PyOS_AfterFork_Parent");
      api.after_child = (void (*) (void)) dlsym (RTLD_DEFAULT, "PyOS_AfterFork_Child");
      if (api.is_initialized != NULL && api.gil_ensure != NULL && api.gil_release != NULL &&
          api.before_fork != NULL && api.after_parent != NULL && api.after_child != NULL)
        found = &api;
      g_once_init_leave (&looked_up, 1);
    }
  return found;
}

/* Takes the GIL and runs Python's before-fork handlers, if Python runs. */
void
mpire_python_fork_prepare (MpirePythonFork *fork)
{
  const PythonApi *api = python_api ();

  fork->active = api != NULL && api->is_initialized ();
  if (!fork->active)
    return;
  fork->gil_state = api->gil_ensure ();
  api->before_fork ();
}

void
mpire_python_fork_parent (MpirePythonFork *fork)
{
  const PythonApi *api = python_api ();

  if (!fork->active)
    return;
  api->after_parent ();
  api->gil_release (fork->gil_state);
}

/* In the child, the forking thread is Python's only thread and holds the
 * GIL; it gives it back as it found it. */
void
mpire_python_fork_child (MpirePythonFork *fork)
{
  const PythonApi *api = python_api ();

  if (!fork->active)
    return;
  api->after_child ();
  api->gil_release (fork->gil_state);
}
