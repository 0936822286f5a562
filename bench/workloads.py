#!/usr/bin/python3
# workloads.py: the Python side of the benchmark workloads, and their checks.
#
# Imported by bench_python.py (every Python system runs these exact
# functions), and run as a program by GNU parallel, one process per task:
#
#   python3 workloads.py cpu I      prints cpu(I)
#
# It imports nothing but the standard library, so that a per-task process
# pays only the interpreter's start-up.
#
# The numerical, stateful and init workloads use the same inputs,
# constants and algorithms as their C tasks in mpire-bench.c: points of
# 3 doubles and their norms; a 10 MB lookup table built once per worker
# (TABLE_LEN, TABLE_LOOKUPS ...); a 100 ms initialisation (SLOW_INIT_S)
# setting the offset the short tasks add.
#
# The CPU-bound task is the same algorithm as cpu_work() in mpire-bench.c:
# CPU_STEPS steps of the 64-bit LCG x = x * A + C, started from the task's
# index, returning x >> 1. Its result is checked against lcg_skip(), the
# same recurrence jumped ahead in O(log steps), so that a check costs
# nothing next to the work.
#
# SPDX-License-Identifier: MIT

import functools
import math
import sys
import time
from array import array

LCG_A = 6364136223846793005
LCG_C = 1442695040888963407
MASK64 = (1 << 64) - 1

# About 5 ms per task with /usr/bin/python3 on the reference machine (the
# C task does more steps for the same time: CPU_STEPS_C in mpire-bench.c).
CPU_STEPS = 40_000


def square(x):
    return x * x


def cpu(i, steps=CPU_STEPS):
    x = i
    a, c, m = LCG_A, LCG_C, MASK64
    for _ in range(steps):
        x = (x * a + c) & m
    return x >> 1


def lcg_skip(x, steps):
    """x after @steps steps of the LCG, by repeated squaring."""
    acc_mult, acc_plus = 1, 0
    cur_mult, cur_plus = LCG_A, LCG_C
    while steps > 0:
        if steps & 1:
            acc_mult = (acc_mult * cur_mult) & MASK64
            acc_plus = (acc_plus * cur_mult + cur_plus) & MASK64
        cur_plus = ((cur_mult + 1) * cur_plus) & MASK64
        cur_mult = (cur_mult * cur_mult) & MASK64
        steps >>= 1
    return (acc_mult * x + acc_plus) & MASK64


def cpu_expected(i, steps=CPU_STEPS):
    return lcg_skip(i, steps) >> 1


def sum_of_squares(n):
    """0^2 + 1^2 + ... + (n-1)^2"""
    return (n - 1) * n * (2 * n - 1) // 6


def check_squares(results, n):
    """Raises if @results is not [0, 1, 4, ..., (n-1)^2] (any sequence)."""
    if len(results) != n:
        raise AssertionError('expected %d squares, got %d' % (n, len(results)))
    if sum(results) != sum_of_squares(n):
        raise AssertionError('wrong sum of squares')
    if n and (results[0] != 0 or results[-1] != (n - 1) ** 2):
        raise AssertionError('squares out of order')


def check_each(results, n, expected):
    """Raises if @results is not [expected(0), ..., expected(n-1)]."""
    results = list(results)
    if len(results) != n:
        raise AssertionError('expected %d results, got %d' % (n, len(results)))
    for i, r in enumerate(results):
        if r != expected(i):
            raise AssertionError('wrong result for task %d: %r' % (i, r))


def check_cpu(results, n, steps=CPU_STEPS):
    """Raises if @results is not [cpu(0), ..., cpu(n-1)]."""
    check_each(results, n, lambda i: cpu_expected(i, steps))


# ---- numerical: rows of 3 doubles, one norm per row -------------------------

POINT_DIM = 3


def point(i):
    return ((i % 1000) * 0.25, (i % 777) * -0.5, (i % 91) + 0.125)


def points(n):
    """The n points, flat: array('d') of 3n doubles."""
    out = array('d')
    for i in range(n):
        out.extend(point(i))
    return out


def norms(flat):
    """array('d') of the norms of the rows of @flat (3 doubles each: any
    sequence of floats, e.g. an array('d') or a memoryview)."""
    it = iter(flat)
    return array('d', [math.sqrt(x * x + y * y + z * z) for x, y, z in zip(it, it, it)])


def norms_numpy(flat):
    """The norms of the rows of a numpy array of 3n doubles, as numpy
    computes them (numpy is imported by the caller, not here)."""
    rows = flat.reshape(-1, POINT_DIM)
    return (rows * rows).sum(axis=1) ** 0.5


@functools.lru_cache(maxsize=None)
def norms_sum(n):
    """The sum of the n points' norms (computed once per n: a check
    then costs a sum, not the work again)."""
    return sum(norms(points(n)))


def check_norms(results, n):
    """Raises if @results is not the n points' norms (any sequence)."""
    if len(results) != n:
        raise AssertionError('expected %d norms, got %d' % (n, len(results)))
    for i in (0, n // 3, n // 2, n - 1) if n else ():
        x, y, z = point(i)
        if abs(results[i] - math.sqrt(x * x + y * y + z * z)) > 1e-9:
            raise AssertionError('wrong norm %d: %r' % (i, results[i]))
    if abs(sum(results) - norms_sum(n)) > 1e-6 * n:
        raise AssertionError('wrong norms')


# ---- stateful: a 10 MB lookup table per worker --------------------------------

TABLE_LEN = 1_250_000          # int64: 10 MB
TABLE_LOOKUPS = 4
HASH_MULT = 2654435761
HASH_STEP = 40503


def table_value(k):
    """Entry k: an arithmetic progression, so that Python builds the
    table in milliseconds (as C does), not in a second."""
    return 3 * k + 7


def make_table():
    return array('q', range(table_value(0), table_value(TABLE_LEN), 3))


def table_indexes(x):
    return [((x * HASH_MULT + j * HASH_STEP) & MASK64) % TABLE_LEN for j in range(TABLE_LOOKUPS)]


def lookups(get, x):
    """The sum of the entries task @x reads, get(k) being entry k."""
    return (sum(get(k) for k in table_indexes(x)) & MASK64) >> 1


def check_stateful(results, n):
    check_each(results, n, lambda i: lookups(table_value, i))


TABLE = None


def init_table():
    """multiprocessing.Pool's initializer: the table in a global."""
    global TABLE
    TABLE = make_table()


def stateful(x):
    return lookups(TABLE.__getitem__, x)


# ---- expensive init: 100 ms, then short tasks -----------------------------------

SLOW_INIT_S = 0.1
INIT_OFFSET = 7
SHORT_STEPS = 400              # about 50 us in Python (45,000 in C)

OFFSET = None


def init_slow():
    """multiprocessing.Pool's initializer: waits 100 ms, sets the offset."""
    global OFFSET
    time.sleep(SLOW_INIT_S)
    OFFSET = INIT_OFFSET


def short(x):
    return cpu(x, SHORT_STEPS) + OFFSET


def check_short(results, n):
    check_each(results, n, lambda i: cpu_expected(i, SHORT_STEPS) + INIT_OFFSET)


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'cpu':
        print(cpu(int(sys.argv[2])))
    else:
        sys.exit('usage: workloads.py cpu I')
