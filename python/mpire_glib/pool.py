# pool.py: WorkerPool, MPIRE's API on the mpire-glib engine.
#
# A call cuts its input into chunks here, in the caller (MPIRE's chunking:
# 64 chunks per worker by default), and feeds the engine one chunk per
# engine task through a lazy source, as a pickled byte string; the engine
# runs each on a worker with the generic task of _worker.py and hands
# back one pickled list of results per chunk, in order or as they come.
# So the engine's own counters (progress, chunk sizes, lifespan,
# max_tasks_active) count chunks, and this file converts MPIRE's task
# counts into chunk counts; the progress bar is drawn here, per task,
# and the pool's progress signal (which the dashboard follows) is relayed
# in tasks. Task timeouts and insights are the workers' (_measure.py):
# the engine could only time and count whole chunks.
#
# SPDX-License-Identifier: MIT

import math
import re
import time
import warnings
from fractions import Fraction

from . import _insights, _spawn, _worker
from ._engine import GLib, Gio, Mpire, bytes_of, variant_of_bytes
from .async_result import AsyncResult, CallbackThread
from .exception import WorkerDiedError, rebuild
from .utils import _chunk_bounds, _is_numpy_array, chunk_sequence

__all__ = ['WorkerPool', 'cpu_count', 'DEFAULT_START_METHOD']

DEFAULT_START_METHOD = 'fork'

_START_METHODS = {
    'fork': Mpire.StartMethod.FORK,
    'spawn': Mpire.StartMethod.SPAWN,
    'forkserver': Mpire.StartMethod.FORKSERVER,
    'threading': Mpire.StartMethod.THREADING,
}

_MPIRE_ERROR = 'mpire-error-quark'


def cpu_count():
    """The number of CPUs this process may run on."""
    return Mpire.cpu_count()


def _cpu_ids_variant(cpu_ids):
    if cpu_ids is None:
        return None
    if all(isinstance(c, int) for c in cpu_ids):
        return GLib.Variant('ai', list(cpu_ids))
    return GLib.Variant('aai', [[c] if isinstance(c, int) else list(c) for c in cpu_ids])


def _launcher_lists(worker_launcher):
    """(prefix, per_worker) for the engine's worker-launcher or
    worker-launchers: a list of argv strings is the first, a list of
    such lists the second."""
    if worker_launcher is None:
        return None, None
    if isinstance(worker_launcher, (str, bytes)) or not worker_launcher:
        raise TypeError('worker_launcher must be a non-empty list of argv strings (such as '
                        "['srun', '--ntasks=1']) or a list of such lists, not %r"
                        % (worker_launcher,))
    entries = list(worker_launcher)
    if all(isinstance(arg, str) for arg in entries):
        return entries, None
    if all(not isinstance(e, (str, bytes)) and all(isinstance(arg, str) for arg in e)
           for e in entries):
        return None, [list(e) for e in entries]
    raise TypeError('worker_launcher mixes argv strings and lists: %r' % (worker_launcher,))


def _timeout(seconds):
    return -1.0 if seconds is None else float(seconds)


def _backstop(task_timeout, n_tasks):
    """The engine's timeout for a chunk of @n_tasks tasks whose worker
    interrupts each task past @task_timeout itself: only a task that
    does not return to Python (a C call holding on) reaches it, and the
    engine then kills its worker."""
    return None if task_timeout is None else task_timeout * (n_tasks + 1)


def translate_error(error, func=None, init=None, exit_func=None):
    """The Python exception for an engine GLib.Error (raised in its
    place: the GLib.Error is not shown as its context). @func, @init and
    @exit_func name the user's functions in the engine's message."""
    exc = _translate_error(error, func, init, exit_func)
    exc.__suppress_context__ = True
    return exc


def _translate_error(error, func, init, exit_func):
    message = error.message
    if error.domain == _worker.ERROR_DOMAIN and _worker.MARK_BEGIN in message:
        blob = message.split(_worker.MARK_BEGIN, 1)[1].split(_worker.MARK_END, 1)[0]
        import pickle
        use_dill, failure_bytes = pickle.loads(bytes.fromhex(blob))
        _, failure_loads = _worker.serializer(use_dill)
        return rebuild(failure_loads(failure_bytes), failure_loads)
    message = _clean_message(message, func, init, exit_func)
    if error.domain == _MPIRE_ERROR:
        code = error.code
        if code == Mpire.Error.TIMED_OUT:
            return TimeoutError(message)
        if code == Mpire.Error.WORKER_DIED:
            return WorkerDiedError(message)
        if code == Mpire.Error.INVALID_ARGUMENT:
            return ValueError(message)
        if code == Mpire.Error.NOT_SUPPORTED and 'daemon' in message:
            # MPIRE: multiprocessing's "daemonic processes are not
            # allowed to have children"
            return AssertionError(message)
    return RuntimeError(message)


def _clean_message(message, func, init, exit_func):
    # The engine names its task and that task's arguments: here the
    # generic chunk task and a pickled chunk, of no use to a reader.
    name = getattr(func, '__qualname__', None) or getattr(func, '__name__', None)
    where = '“%s” (in a chunk of tasks)' % name if name else 'a chunk of tasks'
    message = message.replace('task “mpire_glib.chunk”', where)
    message = message.replace('Task “mpire_glib.chunk”', 'Task “%s”' % (name or 'chunk'))
    for stage, stage_func in (('init', init), ('exit', exit_func)):
        stage_name = getattr(stage_func, '__qualname__', None)
        if stage_name:
            message = message.replace('“mpire_glib.%s”' % stage, '“%s”' % stage_name)
    return re.sub(r'(,| with) arguments \[0x[^\]…]*[\]…]', '', message)


class _Call:
    """What one call keeps while it runs: an exception its input raised
    (raised again in the caller once the engine stopped asking), and the
    chunks parked in this process for threading workers."""

    def __init__(self):
        self.source_error = None
        self.inproc_keys = []


class WorkerPool:
    """A pool of worker processes (or threads), as MPIRE's ``WorkerPool``.

    :param n_jobs: number of workers; None uses :func:`cpu_count`
    :param daemon: whether worker processes are daemons (a daemon's tasks
        cannot start pools of their own)
    :param cpu_ids: CPUs to pin the workers to (MPIRE's forms)
    :param shared_objects: passed to every task, worker_init and
        worker_exit (after the worker id); copy-on-write under fork,
        the same object under threading, pickled once per worker otherwise
    :param pass_worker_id: pass the worker id as first argument
    :param use_worker_state: pass a per-worker dict (after shared objects)
    :param start_method: 'fork' (default), 'spawn', 'forkserver' or
        'threading'
    :param keep_alive: keep the workers (and their state) between calls
    :param use_dill: serialise with dill instead of pickle
    :param enable_insights: measure where the workers' time goes
    :param order_tasks: give chunk i to worker i % n_jobs
    :param worker_launcher: (not in MPIRE; needs start_method 'spawn') a
        command that starts each worker, possibly on another host, as an
        argv prefix: ``['srun', '--nodes=1', '--ntasks=1', '--exact',
        '--unbuffered', '--quiet']`` (see the README, "Inside a Slurm
        allocation") or ``['ssh', 'node1']``; the worker talks to the pool
        over its standard input and output. A list of such lists gives
        worker i entry i (``[]``: a local worker); n_jobs then defaults to
        their number. The Python interpreter and the modules of the
        functions must be at the same paths where the workers run.
    """

    def __init__(self, n_jobs=None, daemon=True, cpu_ids=None, shared_objects=None,
                 pass_worker_id=False, use_worker_state=False,
                 start_method=DEFAULT_START_METHOD, keep_alive=False, use_dill=False,
                 enable_insights=False, order_tasks=False, *, worker_launcher=None):
        if start_method not in _START_METHODS:
            raise ValueError('start_method must be one of %s, not %r'
                             % (', '.join(sorted(_START_METHODS)), start_method))
        launcher, launchers = _launcher_lists(worker_launcher)
        if worker_launcher is not None and start_method != 'spawn':
            raise ValueError("worker_launcher needs start_method='spawn', not %r"
                             % (start_method,))
        if use_dill:
            import dill  # noqa: F401 - fail now rather than in a worker
        if n_jobs is None:
            n_jobs = len(launchers) if launchers is not None else cpu_count()
        self.n_jobs = n_jobs
        self.start_method = start_method
        self._pool = Mpire.WorkerPool.new(self.n_jobs, _START_METHODS[start_method])
        self._progress = _TaskProgress()
        # First of the handlers: the dashboard's follow (see _TaskProgress).
        self._pool.connect('progress', self._progress.relay)
        self._pool.props.daemon = daemon
        # The engine's flag only makes the id visible to the generic task;
        # whether the user's function gets it is pass_worker_id here.
        self._pool.props.pass_worker_id = True
        self._pool.props.keep_alive = keep_alive
        self._pool.props.enable_insights = enable_insights
        self._insights = enable_insights
        self._tally = _insights.TaskTally()
        self._pool.props.order_tasks = order_tasks
        cpu_variant = _cpu_ids_variant(cpu_ids)
        if cpu_variant is not None:
            self._pool.props.cpu_ids = cpu_variant
        if start_method in ('spawn', 'forkserver'):
            self._pool.props.worker_argv = _spawn.worker_argv()
            _spawn.alias_main()
        if launcher is not None:
            self._pool.props.worker_launcher = launcher
        elif launchers is not None:
            self._pool.props.worker_launchers = GLib.Variant('aas', launchers)
        self._local_specs = start_method in ('fork', 'threading')
        self._inproc = start_method == 'threading'
        self.shared_objects = shared_objects
        self.pass_worker_id = pass_worker_id
        self.use_worker_state = use_worker_state
        self.keep_alive = keep_alive
        self.use_dill = use_dill
        self._dumps, self._loads = _worker.serializer(use_dill)
        if start_method == 'threading':
            from .context import ThreadingContext as ctx
        else:
            import multiprocessing
            ctx = multiprocessing.get_context(start_method)
        #: multiprocessing's context of the start method (threading:
        #: context.ThreadingContext), for locks, events and values to share.
        self.ctx = ctx
        self._spec_base = None
        self._spec_payload = None
        self._spec_func = self._spec_init = self._spec_exit = None
        self._switched = False
        self._apply_results = []
        self._callbacks = None

    # ---- MPIRE's setters ---------------------------------------------------

    def pass_on_worker_id(self, pass_on=True):
        """Whether tasks get the worker id as first argument."""
        self.pass_worker_id = pass_on

    def set_shared_objects(self, shared_objects=None):
        """Objects passed to every task, worker_init and worker_exit."""
        self.shared_objects = shared_objects

    def set_use_worker_state(self, use_worker_state=True):
        """Whether tasks get the worker's state dict."""
        self.use_worker_state = use_worker_state

    def set_keep_alive(self, keep_alive=True):
        """Whether workers stay alive between calls."""
        self.keep_alive = keep_alive
        self._pool.props.keep_alive = keep_alive

    def set_order_tasks(self, order_tasks=True):
        """Whether chunk i goes to worker i % n_jobs."""
        self._pool.props.order_tasks = order_tasks

    # ---- context manager -----------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.terminate()

    # ---- the spec every worker gets ----------------------------------------------

    def _install_spec(self, func, worker_init, worker_exit, preload=()):
        """Makes sure the workers run @func with these settings; returns
        (func_ref, exit_ref) to send with every chunk: None, or what a
        kept-alive worker must switch to (MPIRE keeps its workers when
        only the function, worker_init or worker_exit change)."""
        base = (self.shared_objects, self.pass_worker_id, self.use_worker_state,
                self.use_dill)
        if self._spec_payload is not None and _same(base, self._spec_base):
            if not self._switched and func is self._spec_func \
                    and worker_exit is self._spec_exit and worker_init is self._spec_init:
                return None, None
            if self._pool.get_n_workers() > 0:
                # Once switched, every chunk says what to run: a worker
                # may have missed the chunks of a call.
                try:
                    refs = self._function_ref(func), self._function_ref(worker_exit)
                    self._switched = True
                    return refs
                except Exception:  # noqa: BLE001 - unpicklable: new workers instead
                    pass
        spec = _worker.PoolSpec(func, worker_init, worker_exit, self.shared_objects,
                                self.shared_objects is not None, self.pass_worker_id,
                                self.use_worker_state, self.use_dill, tuple(preload))
        if self._local_specs:
            payload = _worker.register_local_spec(spec)
        else:
            payload = _worker.pickled_spec(spec)
        _worker.forget_local_spec(self._spec_payload)
        self._spec_payload = payload
        self._spec_base = base
        self._spec_func, self._spec_init, self._spec_exit = func, worker_init, worker_exit
        self._switched = False
        self._pool.props.shared_objects = variant_of_bytes(payload)
        return None, None

    def _function_ref(self, func):
        if self._inproc:
            return ('object', func)
        return ('pickled', self._dumps(func))

    def _options(self, worker_init_timeout, worker_exit_timeout, task_timeout, worker_exit):
        options = Mpire.MapOptions.new()
        options.props.worker_init = _worker.INIT_TASK
        if worker_exit is not None:
            options.props.worker_exit = _worker.EXIT_TASK
        options.props.task_timeout = _timeout(task_timeout)
        options.props.worker_init_timeout = _timeout(worker_init_timeout)
        options.props.worker_exit_timeout = _timeout(worker_exit_timeout)
        return options

    def _encode(self, call, value):
        if self._inproc:
            key = _worker.put_inproc(value)
            call.inproc_keys.append(key)
            return variant_of_bytes(key)
        return variant_of_bytes(self._dumps(value))

    def _decode(self, variant):
        data = bytes_of(variant)
        if len(data) == 8:
            return _worker.take_inproc(data)
        return self._loads(data)

    def _watch(self, task_timeout, max_chunk_len):
        """(watch, engine timeout) for chunks of at most @max_chunk_len
        tasks: what the workers watch in each task (see _worker.py's
        chunk payload) and the engine's timeout for a whole chunk."""
        if task_timeout is not None and self._inproc:
            return ((None, True) if self._insights else None), task_timeout
        if task_timeout is None and not self._insights:
            return None, None
        return (task_timeout, self._insights), _backstop(task_timeout, max_chunk_len)

    def _result(self, variant):
        """(status, data) of a chunk's result; counts its tasks in the
        insights when it reports them."""
        result = self._decode(variant)
        if len(result) == 3:
            self._tally.add(*result[2])
        return result[0], result[1]

    def _begin_insights(self):
        # The engine's insights start anew when a call starts all its
        # workers anew; so do the task counts here.
        if self._insights and self._pool.get_n_workers() == 0:
            self._tally = _insights.TaskTally()

    # ---- the map family -------------------------------------------------------

    def _plan(self, iterable_of_args, iterable_len, chunk_size, n_splits, task_timeout):
        """(chunks, number of tasks or None, number of chunks or None)."""
        n_tasks = iterable_len
        if hasattr(iterable_of_args, '__len__'):
            # MPIRE: an iterable_len beyond the input's length is ignored
            n_tasks = len(iterable_of_args) if n_tasks is None \
                else min(n_tasks, len(iterable_of_args))
        numpy_input = _is_numpy_array(iterable_of_args)
        if task_timeout is not None and self._inproc and not numpy_input:
            # A thread cannot take the timer signal that interrupts a
            # task (_measure.py): the engine times each of its tasks,
            # here a chunk, so one task per chunk keeps the timeout.
            chunk_size = 1
        elif chunk_size is None:
            if n_tasks is None:
                warnings.warn('Failed to obtain length of iterable when chunk size or number '
                              'of splits is None. Chunk size is set to 1. Remedy: either '
                              'provide an iterable with a len() function or specify '
                              'iterable_len in the function call', stacklevel=4)
                chunk_size = 1
            elif n_splits is not None:
                chunk_size = Fraction(n_tasks, n_splits) if n_tasks else 1
            else:
                chunk_size = max(Fraction(1), Fraction(n_tasks, self.n_jobs * 64))
        if n_tasks is not None:
            size = Fraction(chunk_size) if not isinstance(chunk_size, float) \
                else Fraction(chunk_size).limit_denominator(1 << 20)
            n_chunks = n_tasks if size <= 1 else math.ceil(Fraction(n_tasks) / size)
        else:
            n_chunks = None
        if numpy_input:
            arr = iterable_of_args if iterable_len is None else iterable_of_args[:iterable_len]
            chunks = (arr[start:end] for start, end in _chunk_bounds(chunk_size, len(arr)))
            # A numpy array's chunk is one task: the function gets the slice.
            return ((chunk,) for chunk in chunks), n_chunks, n_chunks, chunk_size
        if type(iterable_of_args) in (list, tuple, range):
            chunks = chunk_sequence(iterable_of_args, n_tasks, chunk_size)
        else:
            chunks = _chunks_of_iterator(iter(iterable_of_args), n_tasks, chunk_size)
        return chunks, n_tasks, n_chunks, chunk_size

    def _run(self, func, iterable_of_args, ordered, iterable_len=None, max_tasks_active=None,
             chunk_size=None, n_splits=None, worker_lifespan=None, progress_bar=False,
             worker_init=None, worker_exit=None, task_timeout=None, worker_init_timeout=None,
             worker_exit_timeout=None, progress_bar_options=None, progress_bar_style=None):
        """Yields the results of each chunk, a list, as the engine hands
        them out (input order when @ordered)."""
        func_ref, exit_ref = self._install_spec(func, worker_init, worker_exit)
        chunks, n_tasks, n_chunks, size = self._plan(iterable_of_args, iterable_len,
                                                     chunk_size, n_splits, task_timeout)
        watch, engine_timeout = self._watch(task_timeout, math.ceil(size))
        options = self._options(worker_init_timeout, worker_exit_timeout, engine_timeout,
                                worker_exit)
        options.props.chunk_size = 1
        if n_chunks is not None:
            options.props.iterable_len = n_chunks
        per_chunk = float(size)
        if max_tasks_active is not None:
            # MPIRE holds a chunk back while it would take the active
            # tasks past max_tasks_active (but always lets one go).
            options.props.max_tasks_active = max(1, max_tasks_active // math.ceil(size))
        else:
            options.props.max_tasks_active = self.n_jobs * 2
        if worker_lifespan is not None:
            # MPIRE's worker runs whole chunks until it ran the lifespan.
            options.props.worker_lifespan = max(1, math.ceil(worker_lifespan / per_chunk))

        call = _Call()
        self._begin_insights()
        self._progress.begin(n_tasks)

        def source(*unused):
            try:
                chunk = next(chunks, None)
                if chunk is None:
                    return None
                return self._encode(call, (_worker.KIND_MAP, func_ref, exit_ref, chunk, watch))
            except BaseException as exc:  # noqa: BLE001 - raised again in the caller
                call.source_error = exc
                return None

        bar = _progress_bar(progress_bar, n_tasks, progress_bar_options, progress_bar_style)
        cancellable = Gio.Cancellable()
        start = self._pool.imap if ordered else self._pool.imap_unordered
        finished = False
        try:
            try:
                it = self._start_after_apply(start, options, source)
            except GLib.Error as error:
                raise translate_error(error, func, worker_init, worker_exit)
            while True:
                try:
                    variant = it.next(cancellable)
                except GLib.Error as error:
                    if call.source_error is not None:
                        raise call.source_error
                    raise translate_error(error, func, worker_init, worker_exit)
                if variant is None:
                    break
                status, data = self._result(variant)
                if status != _worker.OK:
                    raise rebuild(data, self._loads)
                self._progress.done += len(data)
                if bar is not None:
                    bar.update(len(data))
                yield data
            if call.source_error is not None:
                raise call.source_error
            finished = True
        finally:
            if not finished:
                _stop(it if 'it' in locals() else None, cancellable)
            for key in call.inproc_keys:
                _worker.drop_inproc(key)
            if bar is not None:
                bar.close()
        if worker_exit is not None and not self.keep_alive:
            self._check_exit_results()

    def _check_exit_results(self):
        for status, data in self._raw_exit_results():
            if status != _worker.OK:
                raise rebuild(data, self._loads)

    def _raw_exit_results(self):
        results = self._pool.get_exit_results()
        if results is None:
            return []
        out = []
        for i in range(results.n_children()):
            child = results.get_child_value(i)
            if child.get_type_string() == 'v':
                child = child.get_variant()
            out.append(self._decode(child))
        return out

    def map(self, func, iterable_of_args, iterable_len=None, max_tasks_active=None,
            chunk_size=None, n_splits=None, worker_lifespan=None, progress_bar=False,
            concatenate_numpy_output=True, worker_init=None, worker_exit=None,
            task_timeout=None, worker_init_timeout=None, worker_exit_timeout=None,
            progress_bar_options=None, progress_bar_style=None):
        """Runs ``func`` on every element of ``iterable_of_args`` and
        returns the results in input order, as a list (a numpy array when
        the input is one and ``concatenate_numpy_output`` is set).

        Tuples are unpacked as arguments, dicts passed as keyword
        arguments. Keywords as MPIRE's ``WorkerPool.map``.
        """
        results = []
        for data in self._run(func, iterable_of_args, True, iterable_len, max_tasks_active,
                              chunk_size, n_splits, worker_lifespan, progress_bar,
                              worker_init, worker_exit, task_timeout, worker_init_timeout,
                              worker_exit_timeout, progress_bar_options, progress_bar_style):
            results.extend(data)
        if _is_numpy_array(iterable_of_args) and concatenate_numpy_output and results \
                and all(_is_numpy_array(r) for r in results):
            import numpy
            return numpy.concatenate(results)
        return results

    def map_unordered(self, func, iterable_of_args, iterable_len=None, max_tasks_active=None,
                      chunk_size=None, n_splits=None, worker_lifespan=None, progress_bar=False,
                      worker_init=None, worker_exit=None, task_timeout=None,
                      worker_init_timeout=None, worker_exit_timeout=None,
                      progress_bar_options=None, progress_bar_style=None):
        """As :meth:`map`, with the results in the order they come."""
        results = []
        for data in self._run(func, iterable_of_args, False, iterable_len, max_tasks_active,
                              chunk_size, n_splits, worker_lifespan, progress_bar,
                              worker_init, worker_exit, task_timeout, worker_init_timeout,
                              worker_exit_timeout, progress_bar_options, progress_bar_style):
            results.extend(data)
        return results

    def imap(self, func, iterable_of_args, iterable_len=None, max_tasks_active=None,
             chunk_size=None, n_splits=None, worker_lifespan=None, progress_bar=False,
             worker_init=None, worker_exit=None, task_timeout=None, worker_init_timeout=None,
             worker_exit_timeout=None, progress_bar_options=None, progress_bar_style=None):
        """As :meth:`map`, lazily: a generator of the results in input
        order; the work starts when it is first iterated."""
        for data in self._run(func, iterable_of_args, True, iterable_len, max_tasks_active,
                              chunk_size, n_splits, worker_lifespan, progress_bar,
                              worker_init, worker_exit, task_timeout, worker_init_timeout,
                              worker_exit_timeout, progress_bar_options, progress_bar_style):
            yield from data

    def imap_unordered(self, func, iterable_of_args, iterable_len=None, max_tasks_active=None,
                       chunk_size=None, n_splits=None, worker_lifespan=None,
                       progress_bar=False, worker_init=None, worker_exit=None,
                       task_timeout=None, worker_init_timeout=None, worker_exit_timeout=None,
                       progress_bar_options=None, progress_bar_style=None):
        """As :meth:`imap`, with the results in the order they come."""
        for data in self._run(func, iterable_of_args, False, iterable_len, max_tasks_active,
                              chunk_size, n_splits, worker_lifespan, progress_bar,
                              worker_init, worker_exit, task_timeout, worker_init_timeout,
                              worker_exit_timeout, progress_bar_options, progress_bar_style):
            yield from data

    def _start_after_apply(self, start, options, source):
        """Starts a map once the apply tasks are done. The end of their
        run reaches the engine from the callback thread, just after
        their results: until then the engine says it is busy."""
        self._settle_apply_results()
        deadline = time.monotonic() + 60
        while True:
            # (a start that fails drops the options' source)
            options.set_source(source)
            try:
                return start(_worker.CHUNK_TASK, None, options)
            except GLib.Error as error:
                if self._callbacks is None or error.domain != _MPIRE_ERROR \
                        or error.code != Mpire.Error.POOL_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(0.001)

    # ---- apply ----------------------------------------------------------------

    def apply_async(self, func, args=(), kwargs=None, callback=None, error_callback=None,
                    worker_init=None, worker_exit=None, task_timeout=None,
                    worker_init_timeout=None, worker_exit_timeout=None):
        """Runs ``func(*args, **kwargs)`` on a worker; returns an
        :class:`AsyncResult` at once. ``callback`` gets the result,
        ``error_callback`` the exception, as soon as it is there, in a
        thread of this process that the pool keeps for them (as MPIRE's).
        ``task_timeout`` interrupts the task (the worker goes on with the
        next one; under threading the task runs on) and fails the result
        with a TimeoutError."""
        if not isinstance(args, tuple):
            args = (args,)
        module = getattr(func, '__module__', None)
        preload = (module,) if module and module not in ('__main__', '__mp_main__') else ()
        _, exit_ref = self._install_spec(self._spec_func, worker_init, worker_exit, preload)
        watch, engine_timeout = self._watch(task_timeout, 1)
        options = self._options(worker_init_timeout, worker_exit_timeout, engine_timeout,
                                worker_exit)
        task_func = func
        if not self._inproc:
            task_func = _worker.function_reference(func, self._local_specs, self._dumps)
        call = _Call()
        payload = self._encode(call, (_worker.KIND_APPLY, None, exit_ref,
                                      [(task_func, args, kwargs or {})], watch))
        if not self._apply_results:
            self._begin_insights()
        self._progress.mapping = False
        if self._callbacks is None:
            self._callbacks = CallbackThread()
        # The engine settles the results in the main context that is the
        # thread's default when it starts a run of apply tasks.
        try:
            with self._callbacks.borrowed():
                engine_result = self._pool.apply_async(_worker.CHUNK_TASK, payload, options)
        except GLib.Error as error:
            raise translate_error(error, func, worker_init, worker_exit)
        result = AsyncResult._of_task(self, engine_result, callback, error_callback, func,
                                      task_timeout)
        self._apply_results.append(result)
        return result

    def apply(self, func, args=(), kwargs=None, callback=None, error_callback=None,
              worker_init=None, worker_exit=None, task_timeout=None,
              worker_init_timeout=None, worker_exit_timeout=None):
        """As :meth:`apply_async`, waiting for the result."""
        return self.apply_async(func, args, kwargs, callback, error_callback, worker_init,
                                worker_exit, task_timeout, worker_init_timeout,
                                worker_exit_timeout).get()

    # ---- the pool's life ------------------------------------------------------

    def get_exit_results(self):
        """What worker_exit returned in each worker, at the last call."""
        out = []
        for status, data in self._raw_exit_results():
            if status != _worker.OK:
                raise rebuild(data, self._loads)
            out.append(data)
        return out

    def get_insights(self):
        """The workers' insights, as MPIRE's: its keys, times as
        'H:MM:SS.mmm' strings, tasks counted one by one (the engine
        counts chunks)."""
        return _insights.formatted(self._insights_in_seconds())

    def _insights_in_seconds(self):
        insights = self._pool.get_insights()
        if insights is None:
            return {}
        return self._tally.correct(insights.unpack())

    def print_insights(self):
        """Prints the workers' insights as a table."""
        text = self._pool.get_insights_string()
        insights = self._insights_in_seconds()
        if insights:
            text = _insights.correct_text(text, insights)
        print(text, flush=True)

    def stop_and_join(self, keep_alive=False):
        """Lets the workers finish their tasks and stops them."""
        self._settle_apply_results()
        if keep_alive:
            return
        try:
            self._pool.stop_and_join()
        except GLib.Error as error:
            raise translate_error(error)
        self._settle_apply_results()
        self._check_exit_results()

    def join(self, keep_alive=False):
        """Same as :meth:`stop_and_join`."""
        self.stop_and_join(keep_alive)

    def terminate(self):
        """Kills the workers at once; unfinished tasks are lost."""
        self._pool.terminate()
        self._apply_results.clear()
        if self._callbacks is not None:
            self._callbacks.stop()
            self._callbacks = None
        _worker.forget_local_spec(self._spec_payload)
        self._spec_payload = None
        self._spec_base = None

    def _settle_apply_results(self):
        pending, self._apply_results = self._apply_results, []
        for result in pending:
            result.wait()


class _TaskProgress:
    """The pool's ``progress`` signal in tasks. The engine emits it in
    its own tasks, here chunks, and the dashboard follows a call through
    it: relay(), connected before any other handler, stops each of the
    engine's emissions and emits it again with the tasks handed out so
    far (all of them once the engine has all the chunks). Refers to no
    pool, so that the pool's handler does not keep it alive."""

    def __init__(self):
        self.done = 0
        self.n_tasks = None
        self.mapping = False     # apply tasks are one per chunk: as they are
        self._relaying = False

    def begin(self, n_tasks):
        """A map of @n_tasks tasks (None: not known) starts."""
        self.done = 0
        self.n_tasks = n_tasks
        self.mapping = True

    def relay(self, pool, done, total):
        if self._relaying or not self.mapping:
            return
        pool.stop_emission_by_name('progress')
        if self.n_tasks is None:
            tasks_done, tasks_total = self.done, total
        else:
            tasks_total = self.n_tasks
            tasks_done = tasks_total if done >= total > 0 else min(self.done, tasks_total)
        self._relaying = True
        try:
            pool.emit('progress', tasks_done, tasks_total)
        finally:
            self._relaying = False


def _same(a, b):
    """Whether two tuples of settings hold the same objects."""
    return b is not None and len(a) == len(b) and all(
        x is y or (type(x) is bool and x == y) for x, y in zip(a, b))


def _chunks_of_iterator(args_iter, n_tasks, chunk_size):
    import itertools
    for start, end in _chunk_bounds(chunk_size, n_tasks):
        chunk = list(itertools.islice(args_iter, end - start))
        if not chunk:
            return
        yield chunk


def _stop(it, cancellable):
    """Stops a call that is given up (an error, a generator dropped) and
    waits until its workers are gone."""
    cancellable.cancel()
    if it is None:
        return
    for _ in range(2):
        try:
            while it.next(cancellable) is not None:
                pass
            return
        except GLib.Error:
            pass


def _progress_bar(enabled, total, options, style):
    from . import tqdm_utils
    if not enabled:
        return None
    try:
        tqdm = tqdm_utils.get_tqdm(style)
    except ImportError:
        return _PlainBar(total)
    if tqdm is None:
        return None      # drawn on the dashboard only (not connected yet)
    options = dict(options or {})
    options.pop('total', None)
    options.setdefault('dynamic_ncols', True)
    return tqdm(total=total, **options)


class _PlainBar:
    """A progress line on standard error when tqdm is not installed."""

    def __init__(self, total):
        self.total = total
        self.done = 0

    def update(self, n):
        self.done += n
        self._draw('\r')

    def close(self):
        self._draw('\n')

    def _draw(self, end):
        import sys
        if self.total:
            sys.stderr.write('%3d%% %d/%d%s' % (100 * self.done // self.total, self.done,
                                               self.total, end))
        else:
            sys.stderr.write('%d tasks%s' % (self.done, end))
        sys.stderr.flush()

