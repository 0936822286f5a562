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
# The CPU-bound task is the same algorithm as cpu_work() in mpire-bench.c:
# CPU_STEPS steps of the 64-bit LCG x = x * A + C, started from the task's
# index, returning x >> 1. Its result is checked against lcg_skip(), the
# same recurrence jumped ahead in O(log steps), so that a check costs
# nothing next to the work.
#
# SPDX-License-Identifier: MIT

import sys

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


def check_cpu(results, n, steps=CPU_STEPS):
    """Raises if @results is not [cpu(0), ..., cpu(n-1)]."""
    results = list(results)
    if len(results) != n:
        raise AssertionError('expected %d results, got %d' % (n, len(results)))
    for i, r in enumerate(results):
        if r != cpu_expected(i, steps):
            raise AssertionError('wrong result for task %d: %r' % (i, r))


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'cpu':
        print(cpu(int(sys.argv[2])))
    else:
        sys.exit('usage: workloads.py cpu I')
