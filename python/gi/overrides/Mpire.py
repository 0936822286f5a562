# Mpire.py: PyGObject overrides for mpire-glib's Mpire namespace.
#
# With these, `from gi.repository import Mpire` also gives:
# - `with pool:` on Mpire.WorkerPool (terminate() on the way out);
# - iteration of Mpire.ResultIter (`for v in pool.imap(...)`);
# - plain lists, tuples, ranges and generators where the map family,
#   apply and apply_async expect a GLib.Variant (generators become the
#   call's lazy source), and the options and cancellable arguments
#   optional; other input refused with a TypeError naming the method;
# - plain values for set_shared_objects(), WorkerContext.set_state(),
#   MapOptions.set_progress_bar_options(), chunk_tasks() and
#   make_single_arguments();
# - tasks (and worker_init / worker_exit) that return plain Python values,
#   None included, and whose Python exceptions are raised again in the
#   caller with their type and arguments (the worker's traceback as the
#   exception's cause) instead of a bare TASK_FAILED.
#
# For MPIRE's own API (pickled arguments and results, no GLib.Variant
# at all) use the mpire_glib package.
#
# SPDX-License-Identifier: MIT

import array
import pickle
import sys
import traceback

from gi.repository import GLib

from ..module import get_introspection_module
from ..overrides import override

Mpire = get_introspection_module('Mpire')

__all__ = []

# A Python exception travels from a worker inside a GLib.Error of this
# domain: its message starts with the exception's type and text and holds
# the pickled exception and traceback, hex-encoded between markers (the
# library appends the task's name, worker and arguments after it).
PYTHON_ERROR_DOMAIN = 'mpire-python-exception'
_BEGIN = '[[mpire-python:'
_END = ':mpire-python]]'

_INT64 = GLib.VariantType.new('ax')
_DOUBLE = GLib.VariantType.new('ad')


# ---- plain Python values <-> GLib.Variant ---------------------------------------

def to_variant(value):
    """A GLib.Variant for a plain Python value (GLib.Variant as is)."""
    if isinstance(value, GLib.Variant):
        return value
    if value is None:
        return GLib.Variant('mv', None)
    if isinstance(value, bool):
        return GLib.Variant.new_boolean(value)
    if isinstance(value, int):
        return GLib.Variant.new_int64(value)
    if isinstance(value, float):
        return GLib.Variant.new_double(value)
    if isinstance(value, str):
        return GLib.Variant.new_string(value)
    if isinstance(value, (bytes, bytearray)):
        return GLib.Variant.new_from_bytes(GLib.VariantType.new('ay'), GLib.Bytes.new(bytes(value)),
                                           True)
    if isinstance(value, tuple):
        return GLib.Variant.new_tuple([to_variant(v) for v in value])
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return GLib.Variant('a{sv}', {k: to_variant(v) for k, v in value.items()})
    if isinstance(value, (list, range)):
        return array_variant(value)
    raise TypeError('Cannot turn a value of type %s into a GLib.Variant' % type(value).__name__)


def _nullable_variant(value):
    """to_variant() for an argument where None means no value (NULL)."""
    return None if value is None else to_variant(value)


def array_variant(values):
    """An array GLib.Variant for a list, tuple or range: `ax` for
    integers and `ad` for floats (built from bytes, fast), `as` for
    strings, `ab` for booleans, otherwise an array of the elements'
    common type, or `av`."""
    if isinstance(values, GLib.Variant):
        return values
    values = values if isinstance(values, (list, tuple, range)) else list(values)
    if isinstance(values, range) or (values and all(type(v) is int for v in values)):
        try:
            data = array.array('q', values).tobytes()
            return GLib.Variant.new_from_bytes(_INT64, GLib.Bytes.new(data), True)
        except OverflowError:
            pass
    if values and all(type(v) is float for v in values):
        data = array.array('d', values).tobytes()
        return GLib.Variant.new_from_bytes(_DOUBLE, GLib.Bytes.new(data), True)
    children = [to_variant(v) for v in values]
    types = {c.get_type_string() for c in children}
    if len(types) == 1:
        return GLib.Variant.new_array(GLib.VariantType.new(types.pop()), children)
    return GLib.Variant.new_array(GLib.VariantType.new('v'),
                                  [GLib.Variant.new_variant(c) for c in children])


# ---- tasks with plain values and real exceptions ---------------------------------

def _python_error(exc):
    tb_text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        exc_bytes = pickle.dumps(exc)
        pickle.loads(exc_bytes)
    except Exception:  # noqa: BLE001 - sent as text only
        exc_bytes = None
    blob = pickle.dumps((exc_bytes, tb_text, type(exc).__name__, str(exc))).hex()
    message = '%s: %s %s%s%s' % (type(exc).__name__, exc, _BEGIN, blob, _END)
    return GLib.Error.new_literal(GLib.quark_from_string(PYTHON_ERROR_DOMAIN), message, 1)


class RemoteTraceback(Exception):
    """The worker's traceback, the cause of a re-raised task exception."""

    def __str__(self):
        return self.args[0]


def python_exception(error):
    """The Python exception a worker's task raised, rebuilt from the
    GLib.Error that carried it; @error itself for any other error."""
    if not isinstance(error, GLib.Error) or error.domain != PYTHON_ERROR_DOMAIN \
            or _BEGIN not in error.message:
        return error
    head, _, rest = error.message.partition(_BEGIN)
    blob, _, tail = rest.partition(_END)
    exc_bytes, tb_text, type_name, text = pickle.loads(bytes.fromhex(blob))
    exc = None
    if exc_bytes is not None:
        try:
            exc = pickle.loads(exc_bytes)
        except Exception:  # noqa: BLE001
            exc = None
    if not isinstance(exc, BaseException):
        exc = RuntimeError('%s: %s' % (type_name, text))
    exc.__cause__ = RemoteTraceback('\n' + tb_text.rstrip())
    where = (head.strip() + tail).strip()
    if hasattr(exc, 'add_note') and where:
        exc.add_note(where)
    return exc


def _reraise(error):
    exc = python_exception(error)
    if exc is error:
        raise error
    exc.__suppress_context__ = True
    raise exc


def _wrap_task_func(func):
    def task(ctx, args, *user_data):
        try:
            result = func(ctx, args, *user_data)
        except GLib.Error:
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure goes back
            raise _python_error(exc)
        return to_variant(result)
    task.__name__ = getattr(func, '__name__', 'task')
    task.__wrapped__ = func
    return task


class Task(Mpire.Task):
    @classmethod
    def new(cls, name, func, *user_data):
        """A named task; @func may return plain Python values (None too)
        and raise any exception."""
        return Mpire.Task.new(name, _wrap_task_func(func), *user_data)


Task = override(Task)
__all__.append('Task')


# ---- the pool ----------------------------------------------------------------

def _input(method, iterable, options):
    """(array GLib.Variant or None, options) for the input of the map
    call @method: a generator becomes the options' lazy source."""
    if iterable is None or isinstance(iterable, GLib.Variant):
        return iterable, options
    if isinstance(iterable, (list, tuple, range)):
        return array_variant(iterable), options
    try:
        iterator = iter(iterable)
    except TypeError:
        raise TypeError('Mpire.WorkerPool.%s(): the input must be a GLib.Variant, an iterable '
                        '(list, tuple, range, generator) or None, not %s'
                        % (method, type(iterable).__name__)) from None
    if options is None:
        options = Mpire.MapOptions.new()
    state = {}

    def source(*unused):
        try:
            return to_variant(next(iterator))
        except StopIteration:
            return None
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller
            state['error'] = exc
            return None
    options.set_source(source)
    options._mpire_source_state = state
    return None, options


def _raise_source_error(state):
    if state and 'error' in state:
        raise state.pop('error')


def _call(method, pool, task, iterable, options, *rest):
    args, options = _input(method.__name__, iterable, options)
    state = getattr(options, '_mpire_source_state', None) if args is None else None
    try:
        result = method(pool, task, args, options, *rest)
    except GLib.Error as error:
        _raise_source_error(state)
        _reraise(error)
    _raise_source_error(state)
    if state is not None and isinstance(result, Mpire.ResultIter):
        result._mpire_source_state = state
    return result


class WorkerPool(Mpire.WorkerPool):
    """Mpire.WorkerPool as a context manager, taking plain Python input."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.terminate()

    def map(self, task, iterable, options=None, cancellable=None):
        return _call(Mpire.WorkerPool.map, self, task, iterable, options, cancellable)

    def map_unordered(self, task, iterable, options=None, cancellable=None):
        return _call(Mpire.WorkerPool.map_unordered, self, task, iterable, options, cancellable)

    def imap(self, task, iterable, options=None):
        return _call(Mpire.WorkerPool.imap, self, task, iterable, options)

    def imap_unordered(self, task, iterable, options=None):
        return _call(Mpire.WorkerPool.imap_unordered, self, task, iterable, options)

    def imap_list(self, task, iterable, options=None, cancellable=None):
        return _call(Mpire.WorkerPool.imap_list, self, task, iterable, options, cancellable)

    def imap_unordered_list(self, task, iterable, options=None, cancellable=None):
        return _call(Mpire.WorkerPool.imap_unordered_list, self, task, iterable, options,
                     cancellable)

    def map_async(self, task, iterable, options=None, cancellable=None, callback=None,
                  *user_data):
        args, options = _input('map_async', iterable, options)
        return Mpire.WorkerPool.map_async(self, task, args, options, cancellable, callback,
                                          *user_data)

    def map_unordered_async(self, task, iterable, options=None, cancellable=None,
                            callback=None, *user_data):
        args, options = _input('map_unordered_async', iterable, options)
        return Mpire.WorkerPool.map_unordered_async(self, task, args, options, cancellable,
                                                    callback, *user_data)

    def imap_async(self, task, iterable, options=None, cancellable=None, callback=None,
                   *user_data):
        args, options = _input('imap_async', iterable, options)
        return Mpire.WorkerPool.imap_async(self, task, args, options, cancellable, callback,
                                           *user_data)

    def imap_unordered_async(self, task, iterable, options=None, cancellable=None,
                             callback=None, *user_data):
        args, options = _input('imap_unordered_async', iterable, options)
        return Mpire.WorkerPool.imap_unordered_async(self, task, args, options, cancellable,
                                                     callback, *user_data)

    def map_finish(self, result):
        try:
            return Mpire.WorkerPool.map_finish(self, result)
        except GLib.Error as error:
            _reraise(error)

    def set_shared_objects(self, shared_objects):
        """Mpire.WorkerPool.set_shared_objects() taking a plain value."""
        Mpire.WorkerPool.set_shared_objects(self, _nullable_variant(shared_objects))

    def apply(self, task, args=None, options=None):
        try:
            return Mpire.WorkerPool.apply(self, task, to_variant(args), options)
        except GLib.Error as error:
            _reraise(error)

    def apply_async(self, task, args=None, options=None):
        try:
            return Mpire.WorkerPool.apply_async(self, task, to_variant(args), options)
        except GLib.Error as error:
            _reraise(error)


WorkerPool = override(WorkerPool)
__all__.append('WorkerPool')


class ResultIter(Mpire.ResultIter):
    """Mpire.ResultIter as a Python iterator of GLib.Variant results."""

    def __iter__(self):
        return self

    def __next__(self):
        state = getattr(self, '_mpire_source_state', None)
        try:
            value = self.next(None)
        except GLib.Error as error:
            _raise_source_error(state)
            _reraise(error)
        if value is None:
            _raise_source_error(state)
            raise StopIteration
        return value


ResultIter = override(ResultIter)
__all__.append('ResultIter')


class AsyncResult(Mpire.AsyncResult):
    """Mpire.AsyncResult whose get() raises a task's Python exception."""

    def get(self, timeout=-1):
        try:
            return Mpire.AsyncResult.get(self, timeout)
        except GLib.Error as error:
            _reraise(error)


AsyncResult = override(AsyncResult)
__all__.append('AsyncResult')


class WorkerContext(Mpire.WorkerContext):
    """Mpire.WorkerContext whose worker state may be a plain value."""

    def set_state(self, state):
        Mpire.WorkerContext.set_state(self, _nullable_variant(state))


WorkerContext = override(WorkerContext)
__all__.append('WorkerContext')


class MapOptions(Mpire.MapOptions):
    """Mpire.MapOptions taking the bar's options as a plain dict."""

    def set_progress_bar_options(self, options):
        Mpire.MapOptions.set_progress_bar_options(self, _nullable_variant(options))


MapOptions = override(MapOptions)
__all__.append('MapOptions')


def chunk_tasks(iterable, iterable_len=-1, chunk_size=0.0, n_splits=0):
    """Mpire.chunk_tasks() of a list, tuple or range as well."""
    return Mpire.chunk_tasks(array_variant(iterable), iterable_len, chunk_size, n_splits)


def make_single_arguments(iterable):
    """Mpire.make_single_arguments() of a list, tuple or range as well."""
    return Mpire.make_single_arguments(array_variant(iterable))


__all__ += ['chunk_tasks', 'make_single_arguments']


def init(argv=None):
    """Mpire.init(), with sys.argv by default."""
    Mpire.init(sys.argv if argv is None else argv)


__all__.append('init')
