#!/usr/bin/python3
# chunks.py: tiny tasks in Python, one call per chunk of a numeric array.
#
# A Python task called once per element costs a few microseconds of
# PyGObject marshalling per call, far more than x * x itself. With the
# array-chunks map option the task is called once per chunk and receives
# the chunk as one GLib.Variant array; reading and writing it as bytes
# (array.array) instead of unpack() keeps the per-element cost in plain
# Python. This is what MPIRE does with numpy arrays.
#
# Run from a build: GI_TYPELIB_PATH=BUILD/mpire-glib \
#   LD_LIBRARY_PATH=BUILD/mpire-glib /usr/bin/python3 examples/chunks.py [N]
#
# SPDX-License-Identifier: MIT

import array
import sys
import time

import gi
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire  # noqa: E402

INT64_ARRAY = GLib.VariantType.new('ax')


def as_int64s(variant):
    values = array.array('q')
    values.frombytes(variant.get_data_as_bytes().get_data())
    return values


def squares(ctx, chunk):
    out = array.array('q', [x * x for x in as_int64s(chunk)])
    return GLib.Variant.new_from_bytes(INT64_ARRAY, GLib.Bytes.new(out.tobytes()), True)


# Tasks are created before Mpire.init(): spawned workers run this script
# again and need them.
squares_task = Mpire.Task.new('squares', squares)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    numbers = array.array('q', range(n))
    data = GLib.Variant.new_from_bytes(INT64_ARRAY, GLib.Bytes.new(numbers.tobytes()), True)

    pool = Mpire.WorkerPool.new(0, Mpire.StartMethod.FORK)
    options = Mpire.MapOptions.new()
    options.props.array_chunks = True

    start = time.perf_counter()
    result = pool.map(squares_task, data, options, None)
    seconds = time.perf_counter() - start

    values = as_int64s(result)
    assert len(values) == n and all(values[i] == i * i for i in range(0, n, max(1, n // 1000)))
    print('%d squares in %.3f s on %d workers' % (n, seconds, Mpire.cpu_count()))
    return 0


if __name__ == '__main__':
    Mpire.init(sys.argv)
    sys.exit(main())
