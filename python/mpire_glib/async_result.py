# async_result.py: AsyncResult, one apply_async() task.
#
# SPDX-License-Identifier: MIT

"""The result of :meth:`WorkerPool.apply_async`, as MPIRE's ``AsyncResult``."""

import contextlib
import itertools
import threading

from ._engine import GLib

__all__ = ['AsyncResult', 'CallbackThread']

_PENDING = object()
_job_counter = itertools.count()


class CallbackThread:
    """A thread of the caller's process that runs the main context the
    engine settles a pool's apply results in: so callbacks run as the
    results arrive, whether or not the caller waits, as MPIRE's (which a
    thread of its main process calls)."""

    def __init__(self):
        self.context = GLib.MainContext.new()
        self._cond = threading.Condition()
        self._borrowers = 0
        self._running = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name='mpire_glib-callbacks',
                                        daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            with self._cond:
                while self._borrowers and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                self._running = True
            self.context.iteration(True)
            with self._cond:
                self._running = False
                self._cond.notify_all()

    @contextlib.contextmanager
    def borrowed(self):
        """Makes the context this thread's default meanwhile (the engine
        takes the default one for the results of apply tasks); the
        callback thread waits."""
        with self._cond:
            self._borrowers += 1
            # (a wake-up before the thread polls ends its next poll)
            self.context.wakeup()
            while self._running:
                self._cond.wait()
        self.context.acquire()
        self.context.push_thread_default()
        try:
            yield
        finally:
            self.context.pop_thread_default()
            self.context.release()
            with self._cond:
                self._borrowers -= 1
                self._cond.notify_all()

    def stop(self):
        """Ends the thread once what it runs returned."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self.context.wakeup()
        if threading.current_thread() is not self._thread:
            self._thread.join()


class AsyncResult:
    """One task started with :meth:`WorkerPool.apply_async`.

    Callbacks run in a thread of the pool (see CallbackThread) as soon as
    the result is there; the result is ready once they returned.
    """

    def __init__(self, cache, callback, error_callback, job_id=None, delete_from_cache=True,
                 timeout=None):
        """MPIRE's signature: a result kept in the dict @cache under
        @job_id (a new number when None; ValueError when taken), with
        @callback and @error_callback for its outcome and the task's
        @timeout. A pool makes the results of its tasks itself
        (:meth:`WorkerPool.apply_async`); one made here has no task, so
        it never gets ready."""
        self.job_id = next(_job_counter) if job_id is None else job_id
        if self.job_id in cache:
            raise ValueError('Job %r is in the cache already' % (self.job_id,))
        cache[self.job_id] = self
        self._cache = cache
        self._delete_from_cache = delete_from_cache
        self._timeout = timeout
        self._pool = None
        self._func = None
        self._engine = None
        self._callback = callback
        self._error_callback = error_callback
        self._value = _PENDING
        self._exception = None
        self._callbacks_ran = threading.Event()
        self._claim = threading.Lock()
        self._claimed = False

    @classmethod
    def _of_task(cls, pool, engine_result, callback, error_callback, func, timeout):
        """The result of a task the pool's engine runs (@engine_result)."""
        self = cls({}, callback, error_callback, timeout=timeout)
        self._pool = pool
        self._func = func
        self._engine = engine_result
        engine_result.connect('completed', lambda _r, _v: self._settle_callbacks())
        engine_result.connect('failed', lambda _r, _e: self._settle_callbacks())
        if engine_result.ready():
            # Done before the signals were connected (it failed at once,
            # or the callback thread was quick).
            self._settle_callbacks()
        return self

    def _settle(self):
        """Reads the engine's outcome once it is there; True when settled."""
        if self._value is not _PENDING or self._exception is not None:
            return True
        if self._engine is None or not self._engine.ready():
            return False
        from .pool import translate_error
        from . import _worker
        from .exception import rebuild
        try:
            variant = self._engine.get(0)
        except GLib.Error as error:
            self._exception = translate_error(error, self._func)
            return True
        status, data = self._pool._result(variant)
        if status == _worker.OK:
            self._value = data[0]
        else:
            self._exception = rebuild(data, self._pool._loads)
        return True

    def _settle_callbacks(self):
        with self._claim:
            if self._claimed or not self._settle():
                return
            self._claimed = True
        try:
            if self._exception is None:
                if self._callback is not None:
                    self._callback(self._value)
            elif self._error_callback is not None:
                self._error_callback(self._exception)
        finally:
            self._callbacks_ran.set()

    def ready(self):
        """Whether the task is done (successfully or not), its callback
        included."""
        return self._callbacks_ran.is_set()

    def successful(self):
        """Whether the task succeeded; ValueError when it is not done."""
        if not self.ready():
            raise ValueError('Result is not ready')
        self._settle()
        return self._exception is None

    def wait(self, timeout=None):
        """Waits until the task is done, or ``timeout`` seconds passed."""
        self._callbacks_ran.wait(timeout)

    def get(self, timeout=None):
        """The task's result; raises its exception when it failed, and
        TimeoutError when it is not done within ``timeout`` seconds."""
        self.wait(timeout)
        if not self.ready():
            raise TimeoutError('The task did not finish within %s seconds' % timeout)
        self._settle()
        if self._exception is not None:
            raise self._exception
        return self._value
