# utils.py: MPIRE's task helpers, chunk_tasks() and make_single_arguments().
#
# SPDX-License-Identifier: MIT

"""Helpers for preparing task arguments, as in ``mpire.utils``."""

import itertools
import math
from fractions import Fraction

__all__ = ['chunk_tasks', 'make_single_arguments']


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
