# mpire_glib: MPIRE's Python API on the mpire-glib engine.
#
# SPDX-License-Identifier: MIT

"""MPIRE ("MultiProcessing Is Really Easy") on mpire-glib.

``import mpire_glib as mpire`` is meant to be the whole migration::

    from mpire_glib import WorkerPool

    def square(x):
        return x * x

    if __name__ == '__main__':
        with WorkerPool(n_jobs=4) as pool:
            print(pool.map(square, range(10)))
"""

from . import _worker  # noqa: F401 - registers the generic tasks first
from .async_result import AsyncResult
from .exception import WorkerDiedError
from .pool import WorkerPool, cpu_count

__all__ = ['WorkerPool', 'AsyncResult', 'WorkerDiedError', 'cpu_count']
__version__ = '0.1'
