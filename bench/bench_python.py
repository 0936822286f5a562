#!/usr/bin/python3
# bench_python.py: the Python side of the mpire-glib benchmark.
#
# Runs the workloads with Python tasks on mpire-glib through GI (FORK and
# SPAWN) and on the Python peers: a sequential loop, multiprocessing.Pool
# (fork and spawn), joblib (its default loky backend) and GNU parallel
# (one python3 process per task, for the CPU-bound workload only).
# Prints one JSON object per line on standard output (the fields are
# described in format_table.py); progress goes to standard error.
#
# Usage: bench_python.py [--quick|--smoke] [--runs N] [--only tiny,cpu]
#                        [--tiny-tasks N] [--cpu-tasks N]
#                        [--systems seq,mpire-fork,...]
#
# Each system runs in a process of its own (this script with --system
# NAME), so that no pool, thread or fork of one system disturbs another.
# With Mpire's SPAWN start method the workers run this script again, with
# the same arguments: the tasks are created at module level and
# Mpire.init(sys.argv) is the first thing __main__ does.
#
# Needs /usr/bin/python3 with python3-gi and python3-joblib, and
# GI_TYPELIB_PATH / LD_LIBRARY_PATH pointing at the build's mpire-glib
# directory (run.sh sets them).
#
# SPDX-License-Identifier: MIT

import argparse
import array
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire  # noqa: E402

import workloads  # noqa: E402  (this script's directory is sys.path[0])

HERE = os.path.dirname(os.path.abspath(__file__))

# Sizes: the same as mpire-bench.c's for the same mode (the table only
# compares rows with the same number of tasks).
CONFIGS = {
    'full': dict(tiny_n=1_000_000, cpu_n=200, runs=5, cold_runs=3, parallel=True),
    'quick': dict(tiny_n=200_000, cpu_n=60, runs=3, cold_runs=2, parallel=True),
    'smoke': dict(tiny_n=2000, cpu_n=6, runs=1, cold_runs=1, parallel=False),
}

SYSTEMS = ['seq', 'mpire-fork', 'mpire-spawn', 'pool-fork', 'pool-spawn', 'joblib', 'parallel']


# ---- GVariant <-> list -------------------------------------------------------
# GLib.Variant('ax', values) and Variant.unpack() go element by element in
# Python (seconds for a million); through bytes they take milliseconds.
# The timed maps take and give GVariants; the 'conv' rows time both ways.

def ax_from_list(values):
    data = GLib.Bytes.new(array.array('q', values).tobytes())
    return GLib.Variant.new_from_bytes(GLib.VariantType.new('ax'), data, True)


def list_from_ax(variant):
    if variant.get_type_string() != 'ax':
        raise AssertionError("result is a '%s', not 'ax'" % variant.get_type_string())
    return array.array('q', variant.get_data_as_bytes().get_data() or b'').tolist()


# ---- Mpire tasks (module level: SPAWN workers need them too) --------------

def mpire_square(ctx, args):
    return GLib.Variant('x', workloads.square(args.get_int64()))


def mpire_cpu(ctx, args):
    return GLib.Variant('x', workloads.cpu(args.get_int64()))


SQUARE_TASK = Mpire.Task.new('bench-py-square', mpire_square)
CPU_TASK = Mpire.Task.new('bench-py-cpu', mpire_cpu)


# ---- how quiet the machine is -----------------------------------------------
# As in mpire-bench.c: the CPU time all CPUs spent during a measurement
# minus that of this process, its reaped children and its live descendants.

CLK_TCK = os.sysconf('SC_CLK_TCK')


def machine_cpu_seconds():
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK  # no idle, iowait


def tree_cpu_seconds():
    procs = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        # state ppid ... utime(14) stime cutime cstime, counted from state = 3
        procs[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    ours = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in procs.items():
            if pid not in ours and ppid in ours:
                ours.add(pid)
                grew = True
    return sum(procs[p][1] for p in ours if p in procs) / CLK_TCK


class Probe:
    def __init__(self):
        self.tree = tree_cpu_seconds()
        self.machine = machine_cpu_seconds()
        self.wall = time.perf_counter()

    def others(self):
        machine, tree = machine_cpu_seconds(), tree_cpu_seconds()
        return (max(0.0, (machine - self.machine) - (tree - self.tree)),
                time.perf_counter() - self.wall)


probe = None


# ---- records ---------------------------------------------------------------

failed = False


MAX_RETRIES = 2   # a disturbed measurement is taken again, as in mpire-bench.c


def disturbed(others, wall):
    """The same criterion as format_table.py's "!"."""
    return others >= 0.1 and wall > 0 and 100 * others / (wall * N_CPUS) > 10


N_CPUS = len(os.sched_getaffinity(0))


def emit(workload, system, peer, mode, n_jobs, n_tasks, times, error=None, attempt=1):
    global failed
    others, wall = probe.others() if probe else (0.0, 0.0)
    record = dict(workload=workload, lang='Py', system=system, peer=peer, mode=mode,
                  n_jobs=n_jobs, n_tasks=n_tasks, times=[round(t, 6) for t in times],
                  others_cpu_s=round(others, 2), wall_s=round(wall, 2),
                  n_cpus=N_CPUS, attempt=attempt, ok=error is None)
    if error is not None:
        record['error'] = error
        failed = True
    print(json.dumps(record), flush=True)
    if error is not None:
        msg = 'FAILED: %s' % error
    else:
        msg = 'median %.4f s' % statistics.median(times)
    print('  %-10s %-34s %-5s j%d  %s' % (workload, system, mode, n_jobs, msg),
          file=sys.stderr, flush=True)


def measure(workload, system, peer, mode, n_jobs, n_tasks, runs, run, check):
    """Times @runs calls of run(); check(result) after each, untimed.
    Again (up to MAX_RETRIES times) if other processes disturbed it."""
    global probe
    for attempt in range(1, MAX_RETRIES + 2):
        probe = Probe()
        times = []
        try:
            for _ in range(runs):
                t0 = time.perf_counter()
                result = run()
                times.append(time.perf_counter() - t0)
                check(result)
                del result
        except Exception as e:  # a failed run is reported, never timed
            emit(workload, system, peer, mode, n_jobs, n_tasks, times,
                 '%s: %s' % (type(e).__name__, e), attempt)
            return
        others, wall = probe.others()
        if attempt <= MAX_RETRIES and disturbed(others, wall):
            print('  %-10s %-34s %-5s j%d  others used %.0f%% of the CPUs: measuring again'
                  % (workload, system, mode, n_jobs, 100 * others / (wall * N_CPUS)),
                  file=sys.stderr, flush=True)
            continue
        emit(workload, system, peer, mode, n_jobs, n_tasks, times, attempt=attempt)
        return


# ---- the workloads on each system ------------------------------------------

def workload_list(cfg, only):
    """(workload, n, plain function, Mpire task, check, job counts) of each workload"""
    out = []
    if 'tiny' in only:
        n = cfg['tiny_n']
        out.append(('tiny', n, workloads.square, SQUARE_TASK,
                    lambda r, n=n: workloads.check_squares(r, n), [2]))
    if 'cpu' in only:
        n = cfg['cpu_n']
        out.append(('cpu-py', n, workloads.cpu, CPU_TASK,
                    lambda r, n=n: workloads.check_cpu(r, n), [1, 2]))
    return out


def run_seq(cfg, only):
    for workload, n, func, _, check, _ in workload_list(cfg, only):
        data = list(range(n))
        measure(workload, 'sequential Python loop', 'seq', 'n/a', 1, n, cfg['runs'],
                lambda: [func(x) for x in data], check)
        if workload != 'tiny':
            continue
        # What a Python caller of Mpire pays around the map to go from a
        # list to the `ax` and back (not in the mpire-glib rows' times).
        squares = [x * x for x in data]
        measure(workload, 'list->ax->list, Variant()/unpack()', 'conv', 'n/a', 1, n,
                cfg['cold_runs'], lambda: GLib.Variant('ax', squares).unpack(), check)
        measure(workload, 'list->ax->list, via array/GLib.Bytes', 'conv', 'n/a', 1, n,
                cfg['cold_runs'], lambda: list_from_ax(ax_from_list(squares)), check)


def run_mpire(cfg, only, method_name):
    method = {'fork': Mpire.StartMethod.FORK, 'spawn': Mpire.StartMethod.SPAWN,
              'threading': Mpire.StartMethod.THREADING}[method_name]
    system = 'mpire-glib %s (GI)' % method_name
    for workload, n, _, task, check, jobs in workload_list(cfg, only):
        data = ax_from_list(range(n))

        def check_variant(result, check=check):
            check(list_from_ax(result))

        for n_jobs in jobs:
            pool = Mpire.WorkerPool.new(n_jobs, method)
            pool.set_keep_alive(True)
            try:
                pool.map(task, ax_from_list(range(min(n, 4 * n_jobs))), None, None)
            except Exception as e:
                emit(workload, system, 'mpire', 'warm', n_jobs, n, [], 'warm-up: %s' % e)
                continue
            measure(workload, system, 'mpire', 'warm', n_jobs, n, cfg['runs'],
                    lambda: pool.map(task, data, None, None), check_variant)
            pool.stop_and_join()
            pool = None

        def cold(task=task, data=data):
            pool = Mpire.WorkerPool.new(2, method)
            try:
                return pool.map(task, data, None, None)
            finally:
                pool.terminate()
                del pool

        measure(workload, system, 'mpire', 'cold', 2, n, cfg['cold_runs'], cold, check_variant)


def run_pool(cfg, only, method_name):
    ctx = multiprocessing.get_context(method_name)
    system = 'multiprocessing.Pool %s' % method_name
    peer = 'pool-%s' % method_name
    for workload, n, func, _, check, jobs in workload_list(cfg, only):
        data = list(range(n))
        for n_jobs in jobs:
            with ctx.Pool(n_jobs) as pool:
                pool.map(func, range(min(n, 4 * n_jobs)))   # warm-up: workers started
                measure(workload, system, peer, 'warm', n_jobs, n, cfg['runs'],
                        lambda: pool.map(func, data), check)

        def cold(func=func, data=data):
            with ctx.Pool(2) as pool:
                return pool.map(func, data)

        measure(workload, system, peer, 'cold', 2, n, cfg['cold_runs'], cold, check)

    if 'tiny' in only:
        # imap_unordered, consumed one by one. Its default chunk size is 1
        # (a message per task); this uses map()'s default instead, as
        # mpire-glib does for every call of the map family.
        n = cfg['tiny_n']
        data = list(range(n))
        chunksize = max(1, -(-n // (4 * 2)))

        def imapu(pool):
            total = count = 0
            for v in pool.imap_unordered(workloads.square, data, chunksize):
                total += v
                count += 1
            return count, total

        def check_imapu(result):
            if result != (n, workloads.sum_of_squares(n)):
                raise AssertionError('wrong results: %r' % (result,))

        with ctx.Pool(2) as pool:
            pool.map(workloads.square, range(8))
            measure('tiny-imapu', system + ' (chunksize n/8)', peer, 'warm', 2, n, cfg['runs'],
                    lambda: imapu(pool), check_imapu)


def run_joblib(cfg, only):
    from joblib import Parallel, delayed
    for workload, n, func, _, check, jobs in workload_list(cfg, only):
        data = list(range(n))
        for n_jobs in jobs:
            # loky's executor is reused from one call to the next: the
            # warm-up call starts it.
            Parallel(n_jobs=n_jobs)(delayed(func)(x) for x in range(min(n, 4 * n_jobs)))
            measure(workload, 'joblib (loky)', 'joblib', 'warm', n_jobs, n, cfg['runs'],
                    lambda: Parallel(n_jobs=n_jobs)(delayed(func)(x) for x in data), check)


def run_parallel(cfg, only):
    if 'cpu' not in only or not cfg['parallel']:
        return
    n = cfg['cpu_n']
    parallel = shutil.which('parallel')
    for n_jobs in (1, 2):
        if parallel is None:
            emit('cpu-py', 'GNU parallel (python3 per task)', 'parallel', 'n/a', n_jobs, n, [],
                 'GNU parallel is not installed')
            continue
        argv = [parallel, '--will-cite', '-k', '-j%d' % n_jobs, sys.executable,
                os.path.join(HERE, 'workloads.py'), 'cpu', '{}', ':::'] + [str(i) for i in range(n)]

        def run(argv=argv):
            return subprocess.run(argv, check=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True).stdout

        measure('cpu-py', 'GNU parallel (python3 per task)', 'parallel', 'n/a', n_jobs, n,
                cfg['cold_runs'], run, lambda out: workloads.check_cpu(map(int, out.split()), n))


def run_system(name, cfg, only):
    if name == 'seq':
        run_seq(cfg, only)
    elif name.startswith('mpire-'):
        run_mpire(cfg, only, name[len('mpire-'):])
    elif name.startswith('pool-'):
        run_pool(cfg, only, name[len('pool-'):])
    elif name == 'joblib':
        run_joblib(cfg, only)
    elif name == 'parallel':
        run_parallel(cfg, only)
    else:
        raise SystemExit('unknown system %r' % name)


def parse_args():
    parser = argparse.ArgumentParser(description='Python side of the mpire-glib benchmark')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--quick', action='store_true', help='fewer tasks and runs')
    mode.add_argument('--smoke', action='store_true', help='tiny sizes, one run: only checks')
    parser.add_argument('--runs', type=int, default=0, help='timed runs per measurement')
    parser.add_argument('--tiny-tasks', type=int, default=0, help='elements of the tiny-task map')
    parser.add_argument('--cpu-tasks', type=int, default=0, help='tasks of the CPU-bound map')
    parser.add_argument('--only', default='tiny,cpu', help='workloads (tiny,cpu)')
    parser.add_argument('--systems', default=','.join(SYSTEMS), help='systems to run')
    parser.add_argument('--system', help=argparse.SUPPRESS)   # internal: run one here
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = dict(CONFIGS['smoke' if args.smoke else 'quick' if args.quick else 'full'])
    if args.runs > 0:
        cfg['runs'] = cfg['cold_runs'] = args.runs
    if args.tiny_tasks > 0:
        cfg['tiny_n'] = args.tiny_tasks
    if args.cpu_tasks > 0:
        cfg['cpu_n'] = args.cpu_tasks
    only = args.only.split(',')

    if args.system:
        run_system(args.system, cfg, only)
        return 1 if failed else 0

    status = 0
    passthrough = [a for a in sys.argv[1:]]
    for name in args.systems.split(','):
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), '--system', name]
                              + passthrough, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(proc.stdout)
        sys.stdout.flush()
        if proc.returncode != 0:
            status = 1
            if '"ok": false' not in proc.stdout:
                emit('?', name, name, 'n/a', 0, 0, [], 'exit status %d' % proc.returncode)
    return status


if __name__ == '__main__':
    Mpire.init(sys.argv)       # in a SPAWN worker: serves tasks, never returns
    sys.exit(main())
