# context.py: what this platform offers, as MPIRE's mpire.context.
#
# SPDX-License-Identifier: MIT

"""Platform facts, as in ``mpire.context``: every start method is
available (the library runs on Linux)."""

import platform

RUNNING_WINDOWS = platform.system() == 'Windows'
RUNNING_MACOS = platform.system() == 'Darwin'
FORK_AVAILABLE = not RUNNING_WINDOWS
DEFAULT_START_METHOD = 'fork' if FORK_AVAILABLE else 'spawn'
START_METHODS = ('fork', 'forkserver', 'spawn', 'threading')


class ThreadingContext:
    """What ``WorkerPool.ctx`` is for the threading start method: the
    threading module's primitives, and multiprocessing's thread-safe
    Value and Array."""

    import multiprocessing as _mp
    import threading as _threading

    Barrier = _threading.Barrier
    Condition = _threading.Condition
    Event = _threading.Event
    Lock = _threading.Lock
    RLock = _threading.RLock
    Semaphore = _threading.Semaphore
    Thread = _threading.Thread
    Array = _mp.Array
    Value = _mp.Value
    JoinableQueue = _mp.JoinableQueue
