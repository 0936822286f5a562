#!/usr/bin/python3
# test_slurm.py: Python pools whose workers are Slurm job steps started by
# srun, inside the allocation this script runs in (setup-and-run.sh makes
# the cluster, salloc the allocation): Mpire.WorkerPool through GI, then
# mpire_glib.WorkerPool.
#
# Usage: salloc --nodes=1 --ntasks=2 test_slurm.py
#
# The GI pool runs this script again as each worker (everything before
# Mpire.init() runs there too); mpire_glib's spawn workers import it as
# __mp_main__, where nothing under `if __name__ == '__main__'` runs.
# Exits 0 when every check passed, 1 otherwise, 77 outside an allocation.
#
# SPDX-License-Identifier: MIT

import os
import sys
import time

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire  # noqa: E402

N_TASKS = 10000
N_WORKERS = 2
# As in test-slurm.c: --exact lets the two steps share the allocation,
# --unbuffered has slurmstepd pass the frames on at once.
SRUN = ['srun', '--nodes=1', '--ntasks=1', '--exact', '--unbuffered', '--quiet']


def step():
    """JOB.STEP of the step this worker runs in (an error outside one)."""
    return '%s.%s' % (os.environ['SLURM_JOB_ID'], os.environ['SLURM_STEP_ID'])


def gi_square(ctx, args):
    x = args.get_int64()
    return GLib.Variant('(xs)', (x * x, step()))


def square(x):
    return x * x, step()


GI_TASK = Mpire.Task.new('slurm-square', gi_square)


def check(name, results, elapsed):
    squares = [r[0] for r in results]
    steps = {r[1] for r in results}
    job = os.environ['SLURM_JOB_ID']
    assert squares == [x * x for x in range(N_TASKS)], name + ': wrong squares'
    assert all(s.startswith(job + '.') for s in steps), '%s: steps %s' % (name, steps)
    assert len(steps) == N_WORKERS, '%s: %d steps, not %d' % (name, len(steps), N_WORKERS)
    print('ok - %s: %d tasks over %d srun workers (%s) in %.3f s'
          % (name, N_TASKS, N_WORKERS, ', '.join(sorted(steps)), elapsed))


def check_gi():
    pool = Mpire.WorkerPool.new(N_WORKERS, Mpire.StartMethod.SPAWN)
    pool.props.worker_launcher = SRUN
    pool.props.order_tasks = True
    start = time.monotonic()
    results = pool.map(GI_TASK, GLib.Variant('ax', range(N_TASKS)), None, None)
    check('Mpire.WorkerPool through GI', results.unpack(), time.monotonic() - start)


def check_mpire_glib():
    from mpire_glib import WorkerPool
    with WorkerPool(N_WORKERS, start_method='spawn', worker_launcher=SRUN,
                    order_tasks=True) as pool:
        start = time.monotonic()
        results = pool.map(square, range(N_TASKS))
    check('mpire_glib.WorkerPool', results, time.monotonic() - start)


if __name__ == '__main__':
    Mpire.init(sys.argv)
    if 'SLURM_JOB_ID' not in os.environ:
        print('SKIP: not inside a Slurm allocation (see tests/slurm/setup-and-run.sh)')
        sys.exit(77)
    failed = 0
    for check_one in (check_gi, check_mpire_glib):
        try:
            check_one()
        except Exception as e:  # noqa: BLE001 - reported, counted
            failed += 1
            print('not ok - %s: %r' % (check_one.__name__, e))
    sys.exit(1 if failed else 0)
