# utils.py: MPIRE's task helpers, chunk_tasks() and make_single_arguments().
#
# SPDX-License-Identifier: MIT

"""Helpers for preparing task arguments, as in ``mpire.utils``."""

import datetime
import heapq
import itertools
import math
import time
from fractions import Fraction

__all__ = ['chunk_tasks', 'make_single_arguments', 'get_n_chunks', 'apply_numpy_chunking',
           'format_seconds', 'TimeIt']


def _is_numpy_array(obj):
    return type(obj).__module__ == 'numpy' and type(obj).__name__ == 'ndarray'


def _chunk_bounds(chunk_size, n_tasks):
    """Ends of successive chunks of a (possibly fractional) chunk size.

    Chunk k ends at ceil(k * chunk_size) (at least one task further than
    the previous end): a chunk size of 2.5 gives 3, 2, 3, 2, ..."""
    size = Fraction(chunk_size).limit_denominator(1 << 20) if isinstance(chunk_size, float) \
        else Fraction(chunk_size)
    end = 0
    k = 1
    while n_tasks is None or end < n_tasks:
        next_end = max(end + 1, math.ceil(k * size))
        if n_tasks is not None:
            next_end = min(next_end, n_tasks)
        yield end, next_end
        end = next_end
        k += 1


def _resolve_chunk_size(iterable_of_args, iterable_len, chunk_size, n_splits):
    if chunk_size is None and n_splits is None:
        raise ValueError('chunk_size and n_splits cannot both be None')
    if chunk_size is not None:
        if chunk_size <= 0:
            raise ValueError('chunk_size must be a positive number')
        return chunk_size
    if n_splits <= 0:
        raise ValueError('n_splits must be a positive number')
    if iterable_len is not None:
        n_tasks = iterable_len
    elif hasattr(iterable_of_args, '__len__'):
        n_tasks = len(iterable_of_args)
    else:
        raise ValueError('Failed to obtain length of iterable when chunk size is None. Remedy: '
                         'either provide an iterable with a len() function or specify '
                         'iterable_len in the function call')
    return Fraction(n_tasks, n_splits) if n_tasks else 1


def chunk_tasks(iterable_of_args, iterable_len=None, chunk_size=None, n_splits=None):
    """Cuts tasks into chunks, so that workers receive chunks of tasks.

    :param iterable_of_args: a numpy array, or an iterable of task arguments
    :param iterable_len: the number of tasks, when the iterable has no len()
    :param chunk_size: tasks per chunk (may be fractional: 2.5 alternates
        chunks of 3 and 2); when None, ``n_splits`` decides
    :param n_splits: the number of chunks, when ``chunk_size`` is None
    :return: a generator of chunks: tuples, or slices of a numpy array
    """
    chunk_size = _resolve_chunk_size(iterable_of_args, iterable_len, chunk_size, n_splits)
    if _is_numpy_array(iterable_of_args):
        n_tasks = len(iterable_of_args) if iterable_len is None \
            else min(iterable_len, len(iterable_of_args))
        return (iterable_of_args[start:end] for start, end in _chunk_bounds(chunk_size, n_tasks))
    return _chunk_iterable(iter(iterable_of_args), iterable_len, chunk_size)


def _chunk_iterable(args_iter, iterable_len, chunk_size):
    for start, end in _chunk_bounds(chunk_size, iterable_len):
        chunk = tuple(itertools.islice(args_iter, end - start))
        if not chunk:
            return
        yield chunk


def chunk_sequence(sequence, n_tasks, chunk_size):
    """Chunks of a list, tuple or range by slicing (no per-element work);
    a range stays a range, so it pickles in a few bytes."""
    for start, end in _chunk_bounds(chunk_size, n_tasks):
        yield sequence[start:end]


def make_single_arguments(iterable_of_args, generator=True):
    """Wraps each argument in a 1-tuple, so that tuples and dicts are
    passed whole instead of being unpacked.

    :param iterable_of_args: an iterable of single arguments
    :param generator: return a generator (True) or a list (False)
    :return: an iterable of single-argument tuples
    """
    gen = ((arg,) for arg in iterable_of_args)
    return gen if generator else list(gen)


def get_n_chunks(iterable_of_args, iterable_len=None, chunk_size=None, n_splits=None,
                 n_jobs=None):
    """How many chunks chunk_tasks() gives for these settings, as MPIRE's
    helper: ``chunk_size`` first, then ``n_splits``, else 4 per job (jobs:
    ``n_jobs`` or the CPU count), never more chunks than tasks.

    :raises ValueError: for an input without len() and no ``iterable_len``
    """
    if iterable_len is None and not hasattr(iterable_of_args, '__len__'):
        raise ValueError('Failed to obtain length of iterable. Remedy: either provide an '
                         'iterable with a len() function or specify iterable_len in the '
                         'function call')
    if hasattr(iterable_of_args, '__len__'):
        n_tasks = len(iterable_of_args) if iterable_len is None \
            else min(iterable_len, len(iterable_of_args))
    else:
        n_tasks = iterable_len
    if chunk_size is not None:
        return math.ceil(n_tasks / chunk_size)
    if n_splits is not None:
        return min(n_splits, n_tasks)
    if n_jobs is None:
        from .pool import cpu_count
        n_jobs = cpu_count()
    return min(n_jobs * 4, n_tasks)


def apply_numpy_chunking(iterable_of_args, iterable_len=None, chunk_size=None, n_splits=None,
                         n_jobs=None):
    """Cuts a numpy array into chunks that are each one task, as MPIRE's
    helper: returns (generator of 1-tuples holding a slice, number of
    chunks, chunk size 1, n_splits None). Without ``chunk_size`` and
    ``n_splits``, 4 chunks per job (when ``n_jobs`` is given)."""
    if iterable_len is not None:
        iterable_of_args = iterable_of_args[:iterable_len]
    iterable_len = len(iterable_of_args)
    if chunk_size is None and n_splits is None and n_jobs is not None:
        n_splits = n_jobs * 4
    chunks = chunk_tasks(iterable_of_args, iterable_len, chunk_size,
                         min(n_splits, iterable_len) if n_splits else n_splits)
    n_chunks = get_n_chunks(iterable_of_args, iterable_len, chunk_size, n_splits, n_jobs)
    return ((chunk,) for chunk in chunks), n_chunks, 1, None


def format_seconds(seconds, with_milliseconds):
    """Seconds as ``H:MM:SS`` (``1 day, H:MM:SS`` and so on), with
    ``.mmm`` when asked and not zero; '' for None."""
    if seconds is None:
        return ''
    delta = datetime.timedelta(seconds=seconds)
    whole = datetime.timedelta(days=delta.days, seconds=delta.seconds)
    text = str(whole)
    milliseconds = delta.microseconds // 1000
    if with_milliseconds and milliseconds:
        text += '.%03d' % milliseconds
    return text


class TimeIt:
    """A context manager adding the time its block took to
    ``cum_time_array[array_idx]``, and keeping the longest durations in
    the min-heap ``max_time_array`` (with ``format_args_func()``'s value,
    or None), as MPIRE's insights helper."""

    def __init__(self, cum_time_array, array_idx, max_time_array=None, format_args_func=None):
        self.cum_time_array = cum_time_array
        self.array_idx = array_idx
        self.max_time_array = max_time_array
        self.format_args_func = format_args_func
        self.start_time = None

    def __enter__(self):
        self.start_time = time.time()
        return self

    def __exit__(self, *exc_info):
        duration = time.time() - self.start_time
        self.cum_time_array[self.array_idx] += duration
        if self.max_time_array is not None and duration > self.max_time_array[0][0]:
            args = self.format_args_func() if self.format_args_func is not None else None
            heapq.heappushpop(self.max_time_array, (duration, args))
