# _worker.py: what runs inside a worker (process or thread).
#
# The engine moves opaque byte strings: a whole chunk of tasks is one
# pickled value (a GLib.Variant 'ay'), handed to one generic task
# registered here, which unpickles it, loops over it in plain Python and
# returns one pickled list of results. So a task costs a Python call plus
# its share of one pickle, as in multiprocessing.Pool, and not a GI call
# and a GLib.Variant.
#
# How a worker learns what to run: the pool's shared-objects property
# (sent once per worker by the engine) holds a "pool spec": the function,
# worker_init, worker_exit, the user's shared objects and the flags.
# Under spawn and forkserver it is pickled (functions by qualified name,
# as pickle does). Under fork and threading it is only a key into a
# registry of this process (_SPECS), filled by the pool before its
# workers are forked, so lambdas and closures work and shared objects are
# shared copy-on-write (fork) or by reference (threading), never pickled.
#
# Under threading, chunks and results do not even get pickled: the
# chunk's bytes are a key into _INPROC where the pool left the tasks.
#
# SPDX-License-Identifier: MIT

import gc
import importlib
import itertools
import os
import pickle
import struct
import threading
import traceback

from . import _measure
from ._engine import GLib, Mpire, bytes_of, variant_of_bytes

# A chunk payload is (kind, func_ref, exit_ref, tasks, watch): the
# references are None, or a new function / worker_exit for a kept-alive
# worker; watch is None (the fast loop) or (task_timeout, insights) (the
# loop of _measure.py).
KIND_MAP = 0       # tasks unpacked as MPIRE does (tuple *, dict **, else single)
KIND_APPLY = 1     # tasks are (function, args, kwargs)

# First byte of a spec payload: how the rest is to be read.
SPEC_PICKLE = b'P'
SPEC_DILL = b'D'
SPEC_LOCAL = b'L'   # a key into _SPECS, this process (fork, threading)

# Result payloads are (status, data): status OK with a list of results,
# or FAILED with the failure (see failure_of()). With insights, an OK
# one has a third item: (worker id, number of tasks, longest tasks).
OK = 0
FAILED = 1

_SPECS = {}
_SPECS_LOCK = threading.Lock()
_spec_counter = itertools.count(1)

_INPROC = {}
_inproc_counter = itertools.count(1)

# Per call of the chunk task only (see _RUNTIMES).
_local = threading.local()


class PoolSpec:
    """What every worker of one pool runs, and with what."""

    __slots__ = ('func', 'worker_init', 'worker_exit', 'shared_objects',
                 'has_shared_objects', 'pass_worker_id', 'use_worker_state',
                 'use_dill', 'preload')

    def __init__(self, func, worker_init, worker_exit, shared_objects,
                 has_shared_objects, pass_worker_id, use_worker_state, use_dill,
                 preload=()):
        self.preload = preload
        self.func = func
        self.worker_init = worker_init
        self.worker_exit = worker_exit
        self.shared_objects = shared_objects
        self.has_shared_objects = has_shared_objects
        self.pass_worker_id = pass_worker_id
        self.use_worker_state = use_worker_state
        self.use_dill = use_dill

    def __getstate__(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state):
        for name, value in zip(self.__slots__, state):
            setattr(self, name, value)


def serializer(use_dill):
    """The (dumps, loads) pair to use: dill's when asked for."""
    if use_dill:
        import dill
        return (lambda obj: dill.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL, byref=False,
                                       recurse=True),
                dill.loads)
    return (lambda obj: pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)), pickle.loads


def register_local_spec(spec):
    """Keeps @spec in this process; returns the spec payload naming it."""
    with _SPECS_LOCK:
        key = next(_spec_counter)
        _SPECS[key] = spec
    return SPEC_LOCAL + struct.pack('=Q', key)


def forget_local_spec(payload):
    if payload is not None and payload[:1] == SPEC_LOCAL:
        with _SPECS_LOCK:
            _SPECS.pop(struct.unpack('=Q', payload[1:9])[0], None)


class ProcFd:
    """A file descriptor of the pool's process, opened again by a worker
    through /proc (multiprocessing's shared memory: Value, Array)."""

    def __init__(self, pid, fd):
        self.pid = pid
        self.fd = fd

    def detach(self):
        return os.open('/proc/%d/fd/%d' % (self.pid, self.fd), os.O_RDWR)


class _SpawningWorkers:
    """Stands for multiprocessing's spawning Popen while the spec is
    pickled: MPIRE passes shared objects to its workers "through
    inheritance", so multiprocessing's locks, events, values and arrays
    work as shared objects. Every worker unpickles the same bytes, so a
    file descriptor travels as a path under /proc rather than a one-time
    handle."""

    def duplicate_for_child(self, fd):
        return fd

    def DupFd(self, fd):  # noqa: N802 - multiprocessing's name
        return ProcFd(os.getpid(), fd)


def pickled_spec(spec):
    """The spec payload for spawned workers: @spec pickled (or dilled)."""
    from multiprocessing import context
    from multiprocessing.reduction import ForkingPickler
    if spec.use_dill:
        dumps, _ = serializer(True)
    else:
        # multiprocessing's pickler knows its shared memory and connections
        def dumps(obj):
            return bytes(ForkingPickler.dumps(obj, pickle.HIGHEST_PROTOCOL))
    previous = context.get_spawning_popen()
    context.set_spawning_popen(_SpawningWorkers())
    try:
        return (SPEC_DILL if spec.use_dill else SPEC_PICKLE) + dumps(spec)
    finally:
        context.set_spawning_popen(previous)


def spec_of_payload(payload):
    tag = payload[:1]
    if tag == SPEC_LOCAL:
        return _SPECS[struct.unpack('=Q', payload[1:9])[0]]
    _, loads = serializer(tag == SPEC_DILL)
    return loads(payload[1:])


_FUNCS = {}


def function_reference(func, local_ok, dumps):
    """How an apply task's function travels: pickled (by qualified name)
    where it can be, else, under fork, as a key into this process's
    registry (workers forked later find it)."""
    try:
        return ('pickled', dumps(func))
    except Exception:  # noqa: BLE001 - lambdas, closures
        if not local_ok:
            raise
    with _SPECS_LOCK:
        key = next(_spec_counter)
        _FUNCS[key] = func
    return ('local', key)


def resolve_function(func_ref, loads):
    if type(func_ref) is tuple and len(func_ref) == 2:
        if func_ref[0] == 'pickled':
            return loads(func_ref[1])
        if func_ref[0] == 'local':
            return _FUNCS[func_ref[1]]
        if func_ref[0] == 'object':
            return func_ref[1]
    return func_ref


def put_inproc(value):
    """Parks @value for a thread worker; returns the key as bytes."""
    key = next(_inproc_counter)
    _INPROC[key] = value
    return struct.pack('=Q', key)


def take_inproc(key_bytes):
    return _INPROC.pop(struct.unpack('=Q', key_bytes)[0])


def drop_inproc(key_bytes):
    _INPROC.pop(struct.unpack('=Q', key_bytes)[0], None)


class WorkerRuntime:
    """One worker's view of its pool: its id, state, and how to call."""

    def __init__(self, spec, worker_id):
        self.spec = spec
        self.worker_id = worker_id
        self.state = {}
        self.dumps, self.loads = serializer(spec.use_dill)
        self.func = spec.func
        self.worker_exit = spec.worker_exit
        self.resolved = {}
        for name in spec.preload:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - only a head start
                pass
        prefix = []
        if spec.pass_worker_id:
            prefix.append(worker_id)
        if spec.has_shared_objects:
            prefix.append(spec.shared_objects)
        if spec.use_worker_state:
            prefix.append(self.state)
        self.prefix = tuple(prefix)

    def resolve(self, ref):
        """A function sent with a chunk (see function_reference())."""
        if type(ref) is tuple and len(ref) == 2 and ref[0] == 'pickled':
            func = self.resolved.get(ref[1])
            if func is None:
                func = self.resolved[ref[1]] = self.loads(ref[1])
            return func
        return resolve_function(ref, self.loads)

    def call_extra(self, func, args=(), kwargs=None):
        """Calls worker_init or worker_exit or an apply task."""
        if kwargs:
            return func(*self.prefix, *args, **kwargs)
        return func(*self.prefix, *args)


def _call_one(func, prefix, args):
    """Calls @func on one task's arguments the way MPIRE does."""
    kind = type(args)
    if kind is tuple or kind is list:
        return func(*prefix, *args)
    if kind is dict:
        return func(*prefix, **args)
    if kind in (int, float, str, bytes, bool, complex) or args is None:
        return func(*prefix, args)
    if isinstance(args, dict):
        return func(*prefix, **args)
    if isinstance(args, (str, bytes, bytearray)) or type(args).__module__ == 'numpy':
        return func(*prefix, args)
    try:
        iter(args)
    except TypeError:
        return func(*prefix, args)
    return func(*prefix, *args)


_SCALARS = frozenset((int, float, str, bytes, bool, complex, type(None)))


def run_tasks(func, prefix, tasks):
    """Runs one chunk of map tasks: the fast loop.

    A chunk of plain values (or of tuples) runs through map() (or
    starmap()) in C. On an exception, _local.failed_index is the index
    of the failing task."""
    it = iter(tasks)
    try:
        if not prefix:
            kinds = set(map(type, tasks))
            if kinds <= _SCALARS:
                return list(map(func, it))
            if kinds == {tuple}:
                return list(itertools.starmap(func, it))
        return [_call_one(func, prefix, args) for args in it]
    except BaseException:
        _local.failed_index = len(tasks) - it.__length_hint__() - 1
        raise


def failure_of(exc, stage, args, worker_id, dumps, loads):
    """What is sent back for an exception: the exception itself pickled
    where it can be, its traceback text and the task's arguments."""
    tb_text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        args_text = repr(args)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the error
        args_text = '<unprintable arguments>'
    if len(args_text) > 1000:
        args_text = args_text[:1000] + '…'
    try:
        exc_bytes = dumps(exc)
        # An exception that pickles but cannot be rebuilt (a custom
        # __init__) is sent as text instead.
        loads(exc_bytes)
    except Exception:  # noqa: BLE001
        exc_bytes = None
    return (stage, worker_id, args_text, tb_text, exc_bytes,
            type(exc).__module__ + '.' + type(exc).__qualname__, str(exc))


# Each worker's runtime, by the id of the thread that runs it. Not a
# threading.local: PyGObject calls a task on a thread of the library
# with a Python thread state made for that one call, so thread-local
# data would not outlive the call.
_RUNTIMES = {}


def _runtime(ctx):
    runtime = _RUNTIMES.get(threading.get_ident())
    if runtime is None:
        runtime = _start_runtime(ctx)
    return runtime


def _start_runtime(ctx):
    payload = bytes_of(ctx.get_shared_objects())
    runtime = WorkerRuntime(spec_of_payload(payload), ctx.get_worker_id())
    _RUNTIMES[threading.get_ident()] = runtime
    return runtime


def _chunk_task(ctx, variant):
    runtime = _runtime(ctx)
    data = bytes_of(variant)
    inproc = len(data) == 8
    if inproc:
        kind, func_ref, exit_ref, tasks, watch = take_inproc(data)
    else:
        kind, func_ref, exit_ref, tasks, watch = runtime.loads(data)
    # A kept-alive worker learns of a call's new function and worker_exit
    # from its chunks.
    if func_ref is not None:
        runtime.func = runtime.resolve(func_ref)
    if exit_ref is not None:
        runtime.worker_exit = runtime.resolve(exit_ref)
    func = runtime.func
    # @watch: None, or (task_timeout or None, whether to report insights)
    timeout, insights = watch if watch is not None else (None, False)
    top = [] if insights else None
    failed = [0]
    try:
        if watch is None and kind == KIND_MAP:
            out = run_tasks(func, runtime.prefix, tasks)
        elif kind == KIND_MAP:
            prefix = runtime.prefix
            out = _measure.run_watched(lambda args: _call_one(func, prefix, args), tasks,
                                       timeout, top, failed)
        else:
            out = _measure.run_watched(
                lambda task: runtime.call_extra(runtime.resolve(task[0]), task[1], task[2]),
                tasks, timeout, top, failed, _apply_args)
        result = (OK, out) if top is None else (OK, out, (runtime.worker_id, len(out), top))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
        if isinstance(exc, _measure.TaskInterrupted):
            exc = _measure.timed_out(exc, runtime.worker_id, timeout)
        index = failed[0] if watch is not None else getattr(_local, 'failed_index', 0)
        failing = tasks[index] if 0 <= index < len(tasks) else None
        if kind == KIND_APPLY and failing is not None:
            failing = failing[1] if not failing[2] else failing[1:]
        result = (FAILED, failure_of(exc, 'task', failing, runtime.worker_id,
                                     runtime.dumps, runtime.loads))
    if inproc:
        # The result takes the chunk's key: the caller drops what a
        # stopped call left there.
        _INPROC[struct.unpack('=Q', data)[0]] = result
        return variant_of_bytes(data)
    return variant_of_bytes(runtime.dumps(result))


def _apply_args(task):
    """An apply task's arguments, positional ones by index."""
    _, args, kwargs = task
    return {**dict(enumerate(args)), **kwargs} if kwargs else args


def _lifecycle_result(runtime, stage, value_or_exc, ok):
    if ok:
        return variant_of_bytes(runtime.dumps((OK, value_or_exc)))
    return variant_of_bytes(runtime.dumps(
        (FAILED, failure_of(value_or_exc, stage, None, runtime.worker_id, runtime.dumps,
                              runtime.loads))))


def _init_task(ctx, variant):
    # A (re)started worker: fresh state, then the user's worker_init.
    runtime = _start_runtime(ctx)
    if runtime.spec.worker_init is None:
        return variant_of_bytes(runtime.dumps((OK, None)))
    try:
        value = runtime.call_extra(runtime.spec.worker_init)
    except BaseException as exc:  # noqa: BLE001
        # The init failed: the engine must fail the call, so this one is
        # a GLib.Error carrying the failure (see pool.py).
        raise init_error(runtime, exc)
    return _lifecycle_result(runtime, 'worker_init', value, True)


def _exit_task(ctx, variant):
    runtime = _runtime(ctx)
    if runtime.worker_exit is None:
        return variant_of_bytes(runtime.dumps((OK, None)))
    try:
        value = runtime.call_extra(runtime.worker_exit)
    except BaseException as exc:  # noqa: BLE001
        return _lifecycle_result(runtime, 'worker_exit', exc, False)
    return _lifecycle_result(runtime, 'worker_exit', value, True)


# A worker_init failure has no result to carry it (the engine only keeps
# the init's error), so it travels in a GLib.Error in our own domain,
# the pickled failure hex-encoded between markers in the message.
ERROR_DOMAIN = 'mpire-glib-python-error'
MARK_BEGIN = '[[mpire-glib-failure:'
MARK_END = ':mpire-glib-failure]]'


def init_error(runtime, exc):
    failure = failure_of(exc, 'worker_init', None, runtime.worker_id, runtime.dumps,
                         runtime.loads)
    blob = pickle.dumps((runtime.spec.use_dill, runtime.dumps(failure)))
    message = '%s: %s %s%s%s' % (type(exc).__name__, exc, MARK_BEGIN, blob.hex(), MARK_END)
    return GLib.Error.new_literal(GLib.quark_from_string(ERROR_DOMAIN), message, 1)


# A forked worker inherits the caller's Python objects, among them
# wrappers of GObjects (a pool of an earlier call, its iterators) waiting
# in reference cycles for the garbage collector. Collecting them in the
# child would dispose those objects there (a pool would stop a thread
# that does not exist in the child: a crash, seen in testing). So they
# are frozen just before any fork (a collection can run in the child's
# first Python code, threading's own after-fork handler), and thawed
# again in the parent. In the child they stay frozen, which also keeps
# their pages shared copy-on-write.
_thaw_after_fork = False


def _before_fork():
    global _thaw_after_fork
    _thaw_after_fork = gc.get_freeze_count() == 0
    gc.freeze()


def _after_fork_in_parent():
    if _thaw_after_fork:
        gc.unfreeze()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent)

CHUNK_TASK = Mpire.Task.new('mpire_glib.chunk', _chunk_task)
INIT_TASK = Mpire.Task.new('mpire_glib.init', _init_task)
EXIT_TASK = Mpire.Task.new('mpire_glib.exit', _exit_task)
