# _spawn.py: the program a spawn worker (or the fork server) runs.
#
# A pool with the spawn or forkserver start method sets the engine's
# worker-argv to this program instead of re-running the user's script
# from the top (which would run its pool again). Like multiprocessing's
# spawn, the worker takes the caller's sys.path and imports the caller's
# main module as __mp_main__ (also known as __main__), so that functions
# defined there are found by qualified name when the pool spec is
# unpickled; code under `if __name__ == '__main__':` does not run.
#
# SPDX-License-Identifier: MIT

import json
import os
import sys
import types

_BOOT = ('import json, sys; info = json.loads(sys.argv[1]); sys.path[:] = info["sys_path"]; '
         'from mpire_glib import _spawn; _spawn.main(info)')


def _main_module_info():
    main = sys.modules.get('__main__')
    spec = getattr(main, '__spec__', None)
    if spec is not None and spec.name:
        if spec.name.endswith('.__main__') or spec.name == '__main__':
            return {}   # python -m package: nothing of use to import
        return {'main_name': spec.name}
    path = getattr(main, '__file__', None)
    if path and os.path.exists(path):
        return {'main_path': os.path.abspath(path)}
    return {}


def alias_main():
    """Lets the caller unpickle what workers send by reference to their
    __mp_main__ (an exception class defined in the caller's script)."""
    if '__main__' in sys.modules:
        sys.modules.setdefault('__mp_main__', sys.modules['__main__'])


def worker_argv():
    """The engine's worker-argv for this process's spawn workers."""
    info = {'sys_path': [p if p else os.getcwd() for p in sys.path]}
    info.update(_main_module_info())
    return [sys.executable, '-c', _BOOT, json.dumps(info)]


def _load_main(info):
    import importlib
    import runpy
    if 'main_name' in info:
        module = importlib.import_module(info['main_name'])
        sys.modules['__mp_main__'] = sys.modules['__main__'] = module
    elif 'main_path' in info:
        module = types.ModuleType('__mp_main__')
        module.__file__ = info['main_path']
        sys.modules['__mp_main__'] = sys.modules['__main__'] = module
        module.__dict__.update(runpy.run_path(info['main_path'], run_name='__mp_main__'))


def main(info):
    """Entry of a spawn worker: registers the generic tasks, loads the
    caller's main module and serves the pool (never returns)."""
    from . import _worker  # noqa: F401 - registers the generic tasks
    from ._engine import Mpire
    _load_main(info)
    Mpire.init(sys.argv)
    # Mpire.init() returns only when this was not started as a worker.
    sys.exit('mpire_glib: this program is only run by a worker pool')
