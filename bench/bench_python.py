#!/usr/bin/python3
# bench_python.py: the Python side of the mpire-glib benchmark.
#
# Runs the workloads with Python tasks on mpire-glib through GI (FORK,
# SPAWN and FORKSERVER) and on the Python peers: a sequential loop,
# multiprocessing.Pool (fork, spawn and forkserver), joblib (its default
# loky backend), GNU parallel (one python3 process per task, for the
# CPU-bound workload only) and MPIRE itself (from the checkout in
# MPIRE_SRC; tiny and CPU-bound workloads).
# Prints one JSON object per line on standard output (the fields are
# described in format_table.py); progress goes to standard error.
#
# Usage: bench_python.py [--quick|--smoke] [--runs N] [--only tiny,cpu,...]
#                        [--tiny-tasks N] [--cpu-tasks N]
#                        [--systems seq,mpire-fork,...]
#
# Each system runs in a process of its own (this script with --system
# NAME), so that no pool, thread or fork of one system disturbs another.
# With Mpire's SPAWN and FORKSERVER start methods the workers (or the fork
# server) run this script again, with the same arguments: the tasks are
# created at module level and Mpire.init(sys.argv) is the first thing
# __main__ does. multiprocessing's spawn and forkserver import it as
# __mp_main__.
#
# Needs /usr/bin/python3 with python3-gi and python3-joblib, and
# GI_TYPELIB_PATH / LD_LIBRARY_PATH pointing at the build's mpire-glib
# directory (run.sh sets them).
#
# SPDX-License-Identifier: MIT

import argparse
import array
import itertools
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
# compares rows with the same number of tasks), as are retries (how many
# times a disturbed measurement is taken again) and run_budget_s (0, or:
# no run after the runs of a measurement took this long; see measure()).
CONFIGS = {
    'full': dict(tiny_n=1_000_000, cpu_n=200, numerical_n=1_000_000, stateful_n=100_000,
                 init_n=10_000, startup_runs=20, memory_map_n=10_000_000,
                 memory_imap_n=5_000_000, runs=5, cold_runs=3, parallel=True, retries=2,
                 run_budget_s=0),
    'quick': dict(tiny_n=100_000, cpu_n=20, numerical_n=100_000, stateful_n=10_000,
                  init_n=1000, startup_runs=6, memory_map_n=1_000_000,
                  memory_imap_n=500_000, runs=3, cold_runs=2, parallel=True, retries=1,
                  run_budget_s=0.25),
    'smoke': dict(tiny_n=2000, cpu_n=6, numerical_n=3000, stateful_n=2000, init_n=200,
                  startup_runs=1, memory_map_n=20_000, memory_imap_n=20_000, runs=1,
                  cold_runs=1, parallel=False, retries=2, run_budget_s=0),
}
run_config = dict(CONFIGS['full'], mode='full')   # this run's (main()): measure() reads it
ALL_WORKLOADS = 'tiny,cpu,numerical,stateful,init,startup,memory'

SYSTEMS = ['seq', 'mpire-fork', 'mpire-spawn', 'mpire-forkserver', 'mpire_glib-fork',
           'mpire_glib-spawn', 'mpire_glib-forkserver', 'pool-fork', 'pool-spawn',
           'pool-forkserver', 'joblib', 'parallel', 'upstream-fork', 'upstream-spawn']
# MPIRE itself (the upstream-* systems): a checkout of its source, whose
# mpire package is imported from there (it needs tqdm and pygments).
MPIRE_SRC = os.environ.get('MPIRE_SRC')


# ---- GVariant <-> list -------------------------------------------------------
# GLib.Variant('ax', values) and Variant.unpack() go element by element in
# Python (seconds for a million); through bytes they take milliseconds.
# The timed maps take and give GVariants; the 'conv' rows time both ways.

def variant_from_array(values):
    """The 'ax' or 'ad' of an array('q') or array('d'), through bytes."""
    data = GLib.Bytes.new(values.tobytes())
    vtype = {'q': 'ax', 'd': 'ad'}[values.typecode]
    return GLib.Variant.new_from_bytes(GLib.VariantType.new(vtype), data, True)


def array_from_variant(variant, vtype='ax'):
    """The array('q') of an 'ax', the array('d') of an 'ad'."""
    if variant.get_type_string() != vtype:
        raise AssertionError("result is a '%s', not '%s'" % (variant.get_type_string(), vtype))
    return array.array({'ax': 'q', 'ad': 'd'}[vtype], variant.get_data_as_bytes().get_data() or b'')


def ax_from_list(values):
    return variant_from_array(array.array('q', values))


def list_from_ax(variant):
    return array_from_variant(variant).tolist()


# ---- Mpire tasks (module level: SPAWN workers need them too) --------------

def mpire_square(ctx, args):
    return GLib.Variant('x', workloads.square(args.get_int64()))


def mpire_cpu(ctx, args):
    return GLib.Variant('x', workloads.cpu(args.get_int64()))


def mpire_norms_unpack(ctx, args):
    # the chunk as a list of floats, the result from a list
    return GLib.Variant('ad', workloads.norms(args.unpack()).tolist())


def mpire_norms_bytes(ctx, args):
    # the chunk's memory as doubles, the result through bytes
    data = args.get_data_as_bytes().get_data() or b''
    return variant_from_array(workloads.norms(memoryview(data).cast('d')))


def mpire_norms_numpy(ctx, args):
    import numpy
    data = args.get_data_as_bytes().get_data() or b''
    result = workloads.norms_numpy(numpy.frombuffer(data, dtype=numpy.float64))
    return GLib.Variant.new_from_bytes(GLib.VariantType.new('ad'),
                                       GLib.Bytes.new(result.tobytes()), True)


def mpire_table_init(ctx, args):
    ctx.set_state(variant_from_array(workloads.make_table()))
    return GLib.Variant('()', ())


def mpire_stateful(ctx, args):
    table = ctx.get_state()
    return GLib.Variant('x', workloads.lookups(lambda k: table.get_child_value(k).get_int64(),
                                               args.get_int64()))


def mpire_slow_init(ctx, args):
    time.sleep(workloads.SLOW_INIT_S)
    ctx.set_state(GLib.Variant('x', workloads.INIT_OFFSET))
    return GLib.Variant('()', ())


def mpire_short(ctx, args):
    return GLib.Variant('x', workloads.cpu(args.get_int64(), workloads.SHORT_STEPS)
                        + ctx.get_state().get_int64())


SQUARE_TASK = Mpire.Task.new('bench-py-square', mpire_square)
CPU_TASK = Mpire.Task.new('bench-py-cpu', mpire_cpu)
NORMS_UNPACK_TASK = Mpire.Task.new('bench-py-norms-unpack', mpire_norms_unpack)
NORMS_BYTES_TASK = Mpire.Task.new('bench-py-norms-bytes', mpire_norms_bytes)
NORMS_NUMPY_TASK = Mpire.Task.new('bench-py-norms-numpy', mpire_norms_numpy)
TABLE_INIT_TASK = Mpire.Task.new('bench-py-table-init', mpire_table_init)
STATEFUL_TASK = Mpire.Task.new('bench-py-stateful', mpire_stateful)
SLOW_INIT_TASK = Mpire.Task.new('bench-py-slow-init', mpire_slow_init)
SHORT_TASK = Mpire.Task.new('bench-py-short', mpire_short)


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


def disturbed(others, wall):
    """The same criterion as format_table.py's "!"."""
    return others >= 0.1 and wall > 0 and 100 * others / (wall * N_CPUS) > 10


N_CPUS = len(os.sched_getaffinity(0))


def emit(workload, system, peer, mode, n_jobs, n_tasks, times, error=None, attempt=1,
         extra=None):
    """@extra: more fields of the record (format_table.py knows them)."""
    global failed
    others, wall = probe.others() if probe else (0.0, 0.0)
    record = dict(workload=workload, lang='Py', system=system, peer=peer, mode=mode,
                  n_jobs=n_jobs, n_tasks=n_tasks, times=[round(t, 6) for t in times],
                  others_cpu_s=round(others, 2), wall_s=round(wall, 2),
                  n_cpus=N_CPUS, attempt=attempt, ok=error is None, **(extra or {}))
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


def measure(workload, system, peer, mode, n_jobs, n_tasks, runs, run, check, extra=None):
    """Times @runs calls of run(); check(result) after each, untimed.
    Fewer once the runs took run_config's run_budget_s (when set): a run
    that slow varies less, relatively, than a short one. Again (up to
    run_config's retries times) if other processes disturbed it. @extra: a
    dict that run() may fill, emptied before each attempt, added to the
    record."""
    global probe
    retries, budget = run_config['retries'], run_config['run_budget_s']
    for attempt in range(1, retries + 2):
        probe = Probe()
        if extra is not None:
            extra.clear()
        times = []
        try:
            while len(times) < runs and not (times and budget and sum(times) >= budget):
                t0 = time.perf_counter()
                result = run()
                times.append(time.perf_counter() - t0)
                check(result)
                del result
        except Exception as e:  # a failed run is reported, never timed
            emit(workload, system, peer, mode, n_jobs, n_tasks, times,
                 '%s: %s' % (type(e).__name__, e), attempt, extra)
            return
        others, wall = probe.others()
        if attempt <= retries and disturbed(others, wall):
            print('  %-10s %-34s %-5s j%d  others used %.0f%% of the CPUs: measuring again'
                  % (workload, system, mode, n_jobs, 100 * others / (wall * N_CPUS)),
                  file=sys.stderr, flush=True)
            continue
        emit(workload, system, peer, mode, n_jobs, n_tasks, times, attempt=attempt, extra=extra)
        return


# ---- the workloads on each system ------------------------------------------

class Workload:
    """A workload as each Python system runs it.

    n: tasks (rows for the numerical ones); check(results) raises if the
    results are wrong; seq(): the sequential loop (timed).
    Pool and joblib: func over each of items, the list of results turned
    by merge() into what check() takes; initializer: Pool's (joblib has
    none: no joblib rows then).
    mpire-glib: each (label, Mpire.Task, runs) of tasks (runs: None for
    the mode's, 1 for a task so slow that more would not change a
    verdict) over rows(k), the Variant of the first k rows; options()
    gives the MapOptions (or
    None); worker_state: the pool's use-worker-state; results(variant)
    gives what check() takes."""

    def __init__(self, name, n, check, seq, func, items, tasks, rows, *, merge=list,
                 initializer=None, options=lambda: None, worker_state=False,
                 results=list_from_ax, jobs=(2,), cold=True):
        self.name, self.n, self.check, self.seq = name, n, check, seq
        self.func, self.items, self.merge, self.initializer = func, items, merge, initializer
        self.tasks, self.rows, self.options = tasks, rows, options
        self.worker_state, self.results, self.jobs, self.cold = worker_state, results, jobs, cold


class WarmPools:
    """The warm pools of a system, started on first use and stopped at
    the end: workloads that ask for the same jobs and key share one, so
    that a system starts each kind of pool once (a pool whose Python
    workers are spawned takes a tenth of a second or more to start, time
    that measures nothing). new(n_jobs, key) starts a pool, stop(pool)
    stops it."""

    def __init__(self, new, stop):
        self.new, self.stop, self.pools = new, stop, {}

    def get(self, n_jobs, key=None):
        if (n_jobs, key) not in self.pools:
            self.pools[n_jobs, key] = self.new(n_jobs, key)
        return self.pools[n_jobs, key]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for pool in self.pools.values():
            self.stop(pool)


def worker_init_options(task):
    options = Mpire.MapOptions.new()
    options.set_worker_init(task)
    return options


def array_chunk_options():
    options = Mpire.MapOptions.new()
    options.set_array_chunks(True)
    options.set_row_width(workloads.POINT_DIM)
    return options


def concat_arrays(parts):
    """One array('d') of the arrays of @parts, through bytes."""
    out = array.array('d')
    out.frombytes(b''.join(p.tobytes() for p in parts))
    return out


def row_chunks(flat, n, n_chunks, width):
    """@flat (n rows of @width) in @n_chunks slices of whole rows."""
    bounds = [n * c // n_chunks for c in range(n_chunks + 1)]
    return [flat[width * a:width * b] for a, b in zip(bounds, bounds[1:])]


def have_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


def workload_list(cfg, only):
    """The Workloads of @only (a list of names)."""
    out = []
    if 'tiny' in only:
        n = cfg['tiny_n']
        out.append(Workload('tiny', n, lambda r, n=n: workloads.check_squares(r, n),
                            lambda n=n: [workloads.square(x) for x in range(n)],
                            workloads.square, range(n), [('', SQUARE_TASK, None)],
                            lambda k: ax_from_list(range(k))))
    if 'cpu' in only:
        n = cfg['cpu_n']
        out.append(Workload('cpu-py', n, lambda r, n=n: workloads.check_cpu(r, n),
                            lambda n=n: [workloads.cpu(x) for x in range(n)],
                            workloads.cpu, range(n), [('', CPU_TASK, None)],
                            lambda k: ax_from_list(range(k)), jobs=(1, 2)))
    if 'numerical' in only:
        # The chunks for Pool and joblib: one per worker and a few more,
        # as mpire-glib's default (4 per worker).
        n = cfg['numerical_n']
        flat = workloads.points(n)

        def rows(k, flat=flat):
            return variant_from_array(flat[:workloads.POINT_DIM * k])

        out.append(Workload('numerical', n, lambda r, n=n: workloads.check_norms(r, n),
                            lambda flat=flat: workloads.norms(flat),
                            workloads.norms, row_chunks(flat, n, 8, workloads.POINT_DIM),
                            [(', unpack()', NORMS_UNPACK_TASK, 1),
                             (', bytes', NORMS_BYTES_TASK, None)],
                            rows, merge=concat_arrays, options=array_chunk_options,
                            results=lambda v: array_from_variant(v, 'ad'), cold=False))
        if have_numpy():
            import numpy
            flat_np = numpy.frombuffer(flat.tobytes(), dtype=numpy.float64)
            out.append(Workload('numerical-np', n, lambda r, n=n: workloads.check_norms(r, n),
                                lambda a=flat_np: workloads.norms_numpy(a),
                                workloads.norms_numpy,
                                row_chunks(flat_np, n, 8, workloads.POINT_DIM),
                                [(', numpy', NORMS_NUMPY_TASK, None)], rows,
                                merge=numpy.concatenate, options=array_chunk_options,
                                results=lambda v: array_from_variant(v, 'ad'), cold=False))
    # The two with a worker_init (Pool: an initializer), the sequential
    # loop initialising once.
    for name, check, init, func, task, init_task in (
            ('stateful', workloads.check_stateful, workloads.init_table, workloads.stateful,
             STATEFUL_TASK, TABLE_INIT_TASK),
            ('init', workloads.check_short, workloads.init_slow, workloads.short,
             SHORT_TASK, SLOW_INIT_TASK)):
        if name not in only:
            continue
        n = cfg['%s_n' % name]

        def seq(n=n, init=init, func=func):
            init()
            return [func(x) for x in range(n)]

        out.append(Workload(name, n, lambda r, n=n, check=check: check(r, n), seq, func,
                            range(n), [('', task, None)], lambda k: ax_from_list(range(k)),
                            initializer=init,
                            options=lambda init_task=init_task: worker_init_options(init_task),
                            worker_state=True))
    return out


def run_seq(cfg, only):
    for w in workload_list(cfg, only):
        measure(w.name, 'sequential Python loop' if w.name != 'numerical-np' else
                'sequential numpy', 'seq', 'n/a', 1, w.n, cfg['runs'], w.seq, w.check)
        if w.name != 'tiny':
            continue
        # What a Python caller of Mpire pays around the map to go from a
        # list to the `ax` and back (not in the mpire-glib rows' times).
        squares = [x * x for x in range(w.n)]
        measure(w.name, 'list->ax->list, Variant()/unpack()', 'conv', 'n/a', 1, w.n,
                cfg['cold_runs'], lambda: GLib.Variant('ax', squares).unpack(), w.check)
        measure(w.name, 'list->ax->list, via array/GLib.Bytes', 'conv', 'n/a', 1, w.n,
                cfg['cold_runs'], lambda: list_from_ax(ax_from_list(squares)), w.check)
    if 'memory' in only:
        run_in_child('map', 'seq', cfg['memory_map_n'])


MPIRE_METHODS = {'fork': Mpire.StartMethod.FORK, 'spawn': Mpire.StartMethod.SPAWN,
                 'forkserver': Mpire.StartMethod.FORKSERVER,
                 'threading': Mpire.StartMethod.THREADING}


def run_mpire(cfg, only, method_name):
    method = MPIRE_METHODS[method_name]

    def new_pool(n_jobs, worker_state):
        pool = Mpire.WorkerPool.new(n_jobs, method)
        pool.set_use_worker_state(worker_state)
        return pool

    def new_warm_pool(n_jobs, workload):
        """@workload: the one with a worker state (and worker_init) that
        has the pool to itself, or None."""
        pool = new_pool(n_jobs, workload is not None)
        pool.set_keep_alive(True)
        return pool

    with WarmPools(new_warm_pool, lambda pool: pool.stop_and_join()) as warm_pools:
        for w in workload_list(cfg, only):
            data = w.rows(w.n)

            def check_variant(result, w=w):
                w.check(w.results(result))

            for label, task, runs in w.tasks:
                system = 'mpire-glib %s (GI%s)' % (method_name, label)
                for n_jobs in w.jobs:
                    pool = warm_pools.get(n_jobs, w.name if w.worker_state else None)
                    try:
                        pool.map(task, w.rows(min(w.n, 4 * n_jobs)), w.options(), None)
                    except Exception as e:
                        emit(w.name, system, 'mpire', 'warm', n_jobs, w.n, [], 'warm-up: %s' % e)
                        continue
                    measure(w.name, system, 'mpire', 'warm', n_jobs, w.n, runs or cfg['runs'],
                            lambda: pool.map(task, data, w.options(), None), check_variant)

                def cold(task=task, data=data, w=w):
                    pool = new_pool(2, w.worker_state)
                    try:
                        return pool.map(task, data, w.options(), None)
                    finally:
                        pool.terminate()
                        del pool

                if w.cold:
                    measure(w.name, system, 'mpire', 'cold', 2, w.n, cfg['cold_runs'], cold,
                            check_variant)
    if 'startup' in only:
        run_in_child('startup', 'mpire-' + method_name, cfg['startup_runs'])


def run_mpire_glib(cfg, only, method_name):
    """The workloads through mpire_glib, MPIRE's Python API on the engine:
    plain Python functions and values, chunks pickled whole."""
    try:
        from mpire_glib import WorkerPool
        from mpire_glib.utils import make_single_arguments
    except ImportError as e:
        emit('tiny', 'mpire_glib %s' % method_name, 'mpire', 'n/a', 2, 0, [],
             'mpire_glib not importable: %s' % e)
        return
    system = 'mpire_glib %s (pickled chunks)' % method_name
    for w in workload_list(cfg, only):
        # MPIRE unpacks iterable arguments: the numerical slices go whole.
        items = w.items if isinstance(w.items, range) \
            else make_single_arguments(w.items, generator=False)
        for n_jobs in w.jobs:
            pool = WorkerPool(n_jobs, start_method=method_name, keep_alive=True)
            try:
                pool.map(w.func, items[:4 * n_jobs], worker_init=w.initializer)   # warm-up
            except Exception as e:
                emit(w.name, system, 'mpire', 'warm', n_jobs, w.n, [], 'warm-up: %s' % e)
                pool.terminate()
                continue
            measure(w.name, system, 'mpire', 'warm', n_jobs, w.n, cfg['runs'],
                    lambda: w.merge(pool.map(w.func, items, worker_init=w.initializer)),
                    w.check)
            pool.stop_and_join()
            pool.terminate()

        def cold(w=w, items=items):
            with WorkerPool(2, start_method=method_name) as pool:
                return w.merge(pool.map(w.func, items, worker_init=w.initializer))

        if w.cold:
            measure(w.name, system, 'mpire', 'cold', 2, w.n, cfg['cold_runs'], cold, w.check)


def run_upstream(cfg, only, method_name):
    """The tiny and CPU-bound workloads on MPIRE itself (MPIRE_SRC), the
    same functions and inputs as Pool's, warm pools (keep_alive)."""
    system = 'MPIRE %s' % method_name
    peer = 'upstream-%s' % method_name
    wanted = [w for w in workload_list(cfg, only) if w.name in ('tiny', 'cpu-py')]
    if not MPIRE_SRC:
        if wanted:
            print('%s: not run, MPIRE_SRC (a checkout of MPIRE) is not set' % system,
                  file=sys.stderr)
        return
    try:
        sys.path.insert(0, MPIRE_SRC)
        import mpire
    except ImportError as e:
        for w in wanted:
            emit(w.name, system, peer, 'warm', 2, w.n, [], 'MPIRE not importable: %s' % e)
        return
    for w in wanted:
        for n_jobs in w.jobs:
            with mpire.WorkerPool(n_jobs, start_method=method_name, keep_alive=True) as pool:
                pool.map(w.func, w.items[:4 * n_jobs])   # warm-up
                measure(w.name, system, peer, 'warm', n_jobs, w.n, cfg['runs'],
                        lambda: w.merge(pool.map(w.func, w.items)), w.check)


def startup_mpire(runs, method_name):
    """A new pool of 2, a map of 2 trivial tasks, join; each worker's
    start-up from the insights, as mpire-bench.c's startup workload."""
    extra = {}

    def cycle():
        pool = Mpire.WorkerPool.new(2, MPIRE_METHODS[method_name])
        pool.set_enable_insights(True)
        result = pool.map(SQUARE_TASK, ax_from_list([0, 1]), None, None)
        pool.stop_and_join()
        starts = pool.get_insights().lookup_value('start_up_time', GLib.VariantType.new('ad'))
        extra.setdefault('worker_start_s', []).extend(starts.unpack() if starts else [])
        return result

    measure('startup', 'mpire-glib %s (GI)' % method_name, 'mpire', 'cold', 2, 2, runs, cycle,
            lambda r: workloads.check_squares(list_from_ax(r), 2), extra)


def run_pool(cfg, only, method_name):
    ctx = multiprocessing.get_context(method_name)
    system = 'multiprocessing.Pool %s' % method_name
    peer = 'pool-%s' % method_name
    # The warm pools: one per jobs and initializer (Pool(n_jobs, initializer)).
    with WarmPools(ctx.Pool, lambda pool: pool.terminate()) as warm_pools:
        for w in workload_list(cfg, only):
            for n_jobs in w.jobs:
                pool = warm_pools.get(n_jobs, w.initializer)
                pool.map(w.func, w.items[:4 * n_jobs])   # warm-up
                measure(w.name, system, peer, 'warm', n_jobs, w.n, cfg['runs'],
                        lambda: w.merge(pool.map(w.func, w.items)), w.check)

            def cold(w=w):
                with ctx.Pool(2, w.initializer) as pool:
                    return w.merge(pool.map(w.func, w.items))

            if w.cold:
                measure(w.name, system, peer, 'cold', 2, w.n, cfg['cold_runs'], cold, w.check)
        if 'tiny' in only:
            run_pool_imapu(cfg['tiny_n'], system, peer, warm_pools.get(2), cfg['runs'])

    if 'startup' in only:
        run_in_child('startup', peer, cfg['startup_runs'])
    if 'memory' in only:
        run_in_child('map', peer, cfg['memory_map_n'])
        run_in_child('imap', peer, cfg['memory_imap_n'])


def run_pool_imapu(n, system, peer, pool, runs):
    """The tiny workload through imap_unordered on a warm Pool of 2,
    consumed one by one. Its default chunk size is 1 (a message per
    task); this uses map()'s default instead, as mpire-glib does for
    every call of the map family."""
    data = list(range(n))
    chunksize = max(1, -(-n // (4 * 2)))

    def imapu():
        total = count = 0
        for v in pool.imap_unordered(workloads.square, data, chunksize):
            total += v
            count += 1
        return count, total

    def check_imapu(result):
        if result != (n, workloads.sum_of_squares(n)):
            raise AssertionError('wrong results: %r' % (result,))

    pool.map(workloads.square, range(8))
    measure('tiny-imapu', system + ' (chunksize n/8)', peer, 'warm', 2, n, runs, imapu,
            check_imapu)


def startup_pool(runs, method_name):
    """multiprocessing.Pool(2), map of 2 trivial tasks, close, join."""
    ctx = multiprocessing.get_context(method_name)

    def cycle():
        pool = ctx.Pool(2)
        result = pool.map(workloads.square, [0, 1])
        pool.close()
        pool.join()
        return result

    measure('startup', 'multiprocessing.Pool %s' % method_name, 'pool-%s' % method_name, 'cold',
            2, 2, runs, cycle, lambda r: workloads.check_squares(r, 2))


def run_joblib(cfg, only):
    from joblib import Parallel, delayed
    for w in workload_list(cfg, only):
        if w.initializer is not None:
            continue   # joblib's Parallel has no worker initializer
        for n_jobs in w.jobs:
            # loky's executor is reused from one call to the next: the
            # warm-up call starts it.
            Parallel(n_jobs=n_jobs)(delayed(w.func)(x) for x in w.items[:4 * n_jobs])
            measure(w.name, 'joblib (loky)', 'joblib', 'warm', n_jobs, w.n, cfg['runs'],
                    lambda: w.merge(Parallel(n_jobs=n_jobs)(delayed(w.func)(x)
                                                            for x in w.items)), w.check)


# ---- memory -------------------------------------------------------------------

def status_mib(field):
    """A 'VmHWM:' or 'VmRSS:' of /proc/self/status, in MiB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def memory_child(kind, system, n):
    """One memory measurement, as mpire-bench.c's: map:seq:N,
    map:pool-fork:N, map:pool-spawn:N square N ints from a list;
    imap:pool-METHOD:N consumes N results of Pool.imap over an endless
    itertools.count() (chunksize 1000)."""
    global probe
    base = status_mib('VmRSS:')
    name = 'sequential Python loop' if system == 'seq' else 'multiprocessing.Pool ' + system[5:]
    probe = Probe()
    extra, error, times = {}, None, []
    try:
        t0 = time.perf_counter()
        if kind == 'map':
            data = list(range(n))
            if system == 'seq':
                result = [workloads.square(x) for x in data]
            else:
                with multiprocessing.get_context(system[5:]).Pool(2) as pool:
                    result = pool.map(workloads.square, data)
            times.append(time.perf_counter() - t0)
            workloads.check_squares(result, n)
            extra = dict(peak_rss_mib=round(status_mib('VmHWM:'), 1), base_rss_mib=round(base, 1),
                         data_mib=round(2 * n * 8 / 2**20, 1))
        else:
            rss = []
            with multiprocessing.get_context(system[5:]).Pool(2) as pool:
                for count, v in enumerate(pool.imap(workloads.square, itertools.count(), 1000),
                                          start=1):
                    if v != (count - 1) ** 2:
                        raise AssertionError('result %d is %d' % (count - 1, v))
                    if count in (n // 5, n):
                        rss.append([count, round(status_mib('VmRSS:'), 1)])
                    if count == n:
                        break
                times.append(time.perf_counter() - t0)
            extra = dict(rss_at=rss, peak_rss_mib=round(status_mib('VmHWM:'), 1),
                         base_rss_mib=round(base, 1))
    except Exception as e:  # reported, never timed
        error = '%s: %s' % (type(e).__name__, e)
    emit('memory-' + kind, name, 'seq' if system == 'seq' else system, 'n/a' if system == 'seq'
         else 'cold', 1 if system == 'seq' else 2, n, times, error, extra=extra)
    return 1 if error else 0


def child(spec):
    """A measurement in a process of its own (--child KIND:SYSTEM:N), so
    that what ran before cannot change it (peak RSS is per process; fork()
    copies the page tables of all the memory the process still maps):
    map and imap (see memory_child()), startup:mpire-METHOD:N and
    startup:pool-METHOD:N (N runs of the start-up cycle)."""
    kind, system, n = spec.split(':')
    if kind == 'startup':
        method = system.split('-', 1)[1]
        if system.startswith('mpire-'):
            startup_mpire(int(n), method)
        else:
            startup_pool(int(n), method)
        return 1 if failed else 0
    return memory_child(kind, system, int(n))


def run_in_child(kind, system, n):
    """child() in a new process."""
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), '--child',
                           '%s:%s:%d' % (kind, system, n)]
                          + (['--' + run_config['mode']] if run_config['mode'] != 'full'
                             else []),   # its retries and run budget
                          stdout=subprocess.PIPE, text=True)
    sys.stdout.write(proc.stdout)
    sys.stdout.flush()
    if proc.returncode != 0:
        global failed
        failed = True
        if '"ok": false' not in proc.stdout:
            emit('startup' if kind == 'startup' else 'memory-' + kind, system, system, 'n/a', 0,
                 n, [], 'exit status %d' % proc.returncode)


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
    elif name.startswith('mpire_glib-'):
        run_mpire_glib(cfg, only, name[len('mpire_glib-'):])
    elif name.startswith('mpire-'):
        run_mpire(cfg, only, name[len('mpire-'):])
    elif name.startswith('pool-'):
        run_pool(cfg, only, name[len('pool-'):])
    elif name.startswith('upstream-'):
        run_upstream(cfg, only, name[len('upstream-'):])
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
    parser.add_argument('--only', default=ALL_WORKLOADS, help='workloads (%s)' % ALL_WORKLOADS)
    parser.add_argument('--systems', default=','.join(SYSTEMS), help='systems to run')
    parser.add_argument('--system', help=argparse.SUPPRESS)   # internal: run one here
    parser.add_argument('--child', help=argparse.SUPPRESS)   # internal: see child()
    return parser.parse_args()


def main():
    global run_config
    args = parse_args()
    mode = 'smoke' if args.smoke else 'quick' if args.quick else 'full'
    cfg = run_config = dict(CONFIGS[mode], mode=mode)
    if args.child:
        return child(args.child)
    if args.runs > 0:
        cfg['runs'] = cfg['cold_runs'] = args.runs
        cfg['run_budget_s'] = 0     # exactly those runs
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
