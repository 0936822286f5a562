# async_result.py: AsyncResult, one apply_async() task.
#
# SPDX-License-Identifier: MIT

"""The result of :meth:`WorkerPool.apply_async`, as MPIRE's ``AsyncResult``."""

from ._engine import GLib

__all__ = ['AsyncResult']

_PENDING = object()


class AsyncResult:
    """One task started with :meth:`WorkerPool.apply_async`.

    Callbacks run in the thread that called ``apply_async``, when it
    waits for this or another result of the pool (``get``, ``wait``,
    ``join``, ``stop_and_join``), since the engine settles results in that
    thread's main context.
    """

    def __init__(self, pool, engine_result, callback, error_callback):
        self._pool = pool
        self._engine = engine_result
        self._callback = callback
        self._error_callback = error_callback
        self._value = _PENDING
        self._exception = None
        self._callbacks_done = False
        engine_result.connect('completed', lambda _r, _v: self._settle_callbacks())
        engine_result.connect('failed', lambda _r, _e: self._settle_callbacks())

    def _settle(self):
        """Reads the engine's outcome once it is there; True when settled."""
        if self._value is not _PENDING or self._exception is not None:
            return True
        if not self._engine.ready():
            return False
        from .pool import translate_error
        from . import _worker
        from .exception import rebuild
        try:
            variant = self._engine.get(0)
        except GLib.Error as error:
            self._exception = translate_error(error)
            return True
        status, data = self._pool._decode(variant)
        if status == _worker.OK:
            self._value = data[0]
        else:
            self._exception = rebuild(data, self._pool._loads)
        return True

    def _settle_callbacks(self):
        if self._callbacks_done or not self._settle():
            return
        self._callbacks_done = True
        if self._exception is None:
            if self._callback is not None:
                self._callback(self._value)
        elif self._error_callback is not None:
            self._error_callback(self._exception)

    def ready(self):
        """Whether the task is done (successfully or not)."""
        return self._engine.ready()

    def successful(self):
        """Whether the task succeeded; ValueError when it is not done."""
        if not self.ready():
            raise ValueError('Result is not ready')
        self._settle()
        return self._exception is None

    def wait(self, timeout=None):
        """Waits until the task is done, or ``timeout`` seconds passed."""
        self._engine.wait(-1.0 if timeout is None else float(timeout))
        if self._engine.ready():
            self._settle_callbacks()

    def get(self, timeout=None):
        """The task's result; raises its exception when it failed, and
        TimeoutError when it is not done within ``timeout`` seconds."""
        self.wait(timeout)
        if not self._engine.ready():
            raise TimeoutError('The task did not finish within %s seconds' % timeout)
        self._settle()
        if self._exception is not None:
            raise self._exception
        return self._value
