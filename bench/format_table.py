#!/usr/bin/python3
# format_table.py: merges the JSON lines of mpire-bench and bench_python.py
# into one table.
#
# Usage: format_table.py RESULTS.jsonl...   (or the lines on standard input)
#
# Each input line is one measurement:
#   workload  "tiny", "tiny-imapu", "cpu-c", "cpu-py", "restart"
#   lang      "C" or "Py": the language of the task function
#   system    what ran it, e.g. "mpire-glib fork", "multiprocessing.Pool spawn"
#   peer      "mpire", "seq", "floor", "conv", "pool-fork", "pool-spawn",
#             "pool-forkserver", "joblib", "parallel", "local" (the same
#             pool with local workers only, for the remote workloads),
#             "upstream-fork", "upstream-spawn" (MPIRE itself)
#   mode      "warm" (pool started before the timed calls), "cold" (a new
#             pool per timed call, start-up and shutdown included) or "n/a"
#   n_jobs, n_tasks, times (seconds of each timed run), ok, error
#   others_cpu_s, wall_s, n_cpus: CPU seconds that other processes used
#             during the measurement (its wall time, the machine's CPUs)
#
# Columns: the median of the runs, tasks per second, the speed-up over the
# sequential loop in the row's language (same workload), and for mpire-glib
# rows the ratio to each peer: the peer's median divided by this row's, so
# > 1 means mpire-glib is faster. A peer counts when it ran the same
# workload, the same number of tasks and jobs, and the same mode (peers
# without a pool, "n/a", match both). Lines that are not JSON are ignored.
#
# Exits 1 when a measurement failed (its row says why).
#
# SPDX-License-Identifier: MIT

import json
import statistics
import sys

DESCRIPTIONS = {
    'tiny': 'tiny tasks: x*x over {n:,} int64 (map, default chunking) - per-task overhead',
    'tiny-imapu': 'tiny tasks through imap_unordered, results consumed one by one ({n:,});'
                  ' xseq against the tiny map\'s sequential loop',
    'cpu-c': 'CPU-bound, C task: {n:,} tasks of 4.5M LCG steps (~5 ms each)',
    'cpu-py': 'CPU-bound, Python task: {n:,} tasks of 40k LCG steps (~5 ms each)',
    'overhead': 'the tiny map ({n:,}) without and with the progress bar (drawn on a'
                ' pseudo-terminal), insights, and a dashboard connected, runs taking turns;'
                ' xseq against the tiny map\'s sequential loop',
    'restart': 'worker restarts: x*x over {n:,} int64 with worker_lifespan 1 and chunk size 1'
               ' (a new worker process per task)',
    'numerical': 'numerical: the norms of {n:,} points of 3 doubles, an `ad` chunked by slicing'
                 ' (array-chunks, row-width 3), one call per chunk, results concatenated;'
                 ' peers map over 8 slices of an array(\'d\')',
    'numerical-np': 'numerical with numpy: the same {n:,} norms computed by numpy on each chunk'
                    ' (Pool and joblib over 8 slices of the ndarray)',
    'stateful': 'stateful: {n:,} tasks of 4 lookups in a 10 MB table that worker_init builds once'
                ' per worker into its state (Pool: initializer + global)',
    'init': 'expensive init: a worker_init of 100 ms, then {n:,} tasks of ~50 us'
            ' (Pool: initializer)',
    'startup': 'worker start-up: a new pool of 2, a map of 2 trivial tasks, join (each worker\'s'
               ' start-up from the insights)',
    'memory-map': 'memory: x*x over {n:,} int64 in a process of its own (one run): its peak RSS'
                  ' against the input and output arrays (int64)',
    'memory-imap': 'memory: {n:,} results of imap over an endless lazy source (chunks of 1,000),'
                   ' in a process of its own: the RSS as the results are consumed',
    'remote-tiny': 'workers over ssh: the tiny map ({n:,}) on 4 spawn workers, 2 of them in network'
                   ' namespaces reached over ssh, against 4 local; xlocal < 1 = slower than local',
    'remote-cpu': 'workers over ssh: the CPU-bound C map ({n:,} tasks of ~5 ms) on 2 local + 2 over'
                  ' ssh against 4 local',
    'remote-rtt': 'workers over ssh: a chunk\'s round trip, {n:,} chunks of one task, one in flight'
                  ' (max_tasks_active 1), on 1 worker over ssh against 1 local',
}
WORKLOAD_ORDER = ['tiny', 'tiny-imapu', 'cpu-c', 'cpu-py', 'numerical', 'numerical-np',
                  'stateful', 'init', 'overhead', 'restart', 'startup', 'memory-map',
                  'memory-imap', 'remote-tiny', 'remote-cpu', 'remote-rtt']
# Workloads without a sequential row of their own use this one's.
SEQ_OF = {'tiny-imapu': 'tiny', 'overhead': 'tiny', 'remote-tiny': 'tiny',
          'remote-cpu': 'cpu-c'}
PEERS = [('pool-fork', 'xPool-fork'), ('pool-spawn', 'xPool-spawn'),
         ('pool-forkserver', 'xPool-forkserver'), ('joblib', 'xjoblib'), ('parallel', 'xparallel'),
         ('local', 'xlocal'), ('upstream-fork', 'xMPIRE-fork'),
         ('upstream-spawn', 'xMPIRE-spawn')]
SYSTEM_ORDER = ['seq', 'floor', 'conv', 'local', 'mpire', 'pool-fork', 'pool-spawn', 'pool-forkserver',
                'joblib', 'parallel', 'upstream-fork', 'upstream-spawn']


def load(paths):
    records = []
    streams = [open(p) for p in paths] if paths else [sys.stdin]
    for stream in streams:
        for line in stream:
            line = line.strip()
            if not line.startswith('{'):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get('ok') and record.get('times'):
                record['median'] = statistics.median(record['times'])
            else:
                record['median'] = None
            records.append(record)
    return records


def find(records, **want):
    for r in records:
        if all(r.get(k) == v for k, v in want.items()) and r['median'] is not None:
            return r
    return None


def peer_row(records, row, peer):
    for r in records:
        if (r['workload'] == row['workload'] and r['peer'] == peer
                and r['n_jobs'] == row['n_jobs'] and r['n_tasks'] == row['n_tasks']
                and r['mode'] in (row['mode'], 'n/a') and r['median'] is not None):
            return r
    return None


def others_share(r):
    """Other processes' share of the CPUs during @r, and whether it is
    enough to distort it (> 10%, and at least 0.1 s: clock ticks are 10 ms)."""
    others, wall, cpus = r.get('others_cpu_s'), r.get('wall_s'), r.get('n_cpus') or 1
    if others is None or not wall:
        return '', False
    share = 100 * others / (wall * cpus)
    flag = share > 10 and others >= 0.1
    return '%.0f%%%s' % (share, ' !' if flag else ''), flag


def note(r):
    """What a record measured besides its times, or None."""
    if r.get('worker_start_s'):
        starts = r['worker_start_s']
        return 'per-worker start-up: median %.2f ms, max %.2f ms (%d workers)' % (
            1e3 * statistics.median(starts), 1e3 * max(starts), len(starts))
    if r.get('data_mib'):
        return ('peak RSS %.1f MiB = %.2fx the input + output arrays (%.1f MiB); %.1f MiB before'
                % (r['peak_rss_mib'], r['peak_rss_mib'] / r['data_mib'], r['data_mib'],
                   r['base_rss_mib']))
    if r['workload'] == 'remote-rtt' and r['median']:
        return 'per chunk round trip: %.1f us' % (1e6 * r['median'] / r['n_tasks'])
    if r.get('rss_at'):
        return 'RSS ' + ', '.join('%.1f MiB after %s results' % (mib, '{:,}'.format(count))
                                  for count, mib in r['rss_at']) + (
            '; peak %.1f MiB, %.1f MiB before' % (r['peak_rss_mib'], r['base_rss_mib']))
    return None


def ratio(a, b):
    return '%.2f' % (a / b) if a and b else ''


def fmt_rate(n, t):
    if not t:
        return ''
    rate = n / t
    if rate >= 1e6:
        return '%.2fM' % (rate / 1e6)
    if rate >= 1e3:
        return '%.1fk' % (rate / 1e3)
    return '%.1f' % rate


def main():
    records = load(sys.argv[1:])
    if not records:
        print('no measurements', file=sys.stderr)
        return 1
    failed = False

    header = (['lang', 'system', 'jobs', 'mode', 'median s', 'tasks/s', 'xseq']
              + [p[1] for p in PEERS] + ['others'])
    noisy = 0
    rows_by_workload = {}
    workloads = sorted({r['workload'] for r in records},
                       key=lambda w: (WORKLOAD_ORDER.index(w) if w in WORKLOAD_ORDER else 99, w))
    for workload in workloads:
        rows = [r for r in records if r['workload'] == workload]
        rows.sort(key=lambda r: (r['lang'] != 'C',
                                 SYSTEM_ORDER.index(r['peer']) if r['peer'] in SYSTEM_ORDER else 99,
                                 r['system'], r['mode'] == 'cold', r['n_jobs']))
        table = []
        for r in rows:
            if r['median'] is None:
                failed = True
                table.append([r['lang'], r['system'], str(r['n_jobs']), r['mode'],
                              'FAILED: %s' % r.get('error', 'no times')])
                continue
            seq = find(records, workload=SEQ_OF.get(workload, workload), lang=r['lang'], peer='seq',
                       n_tasks=r['n_tasks'])
            cells = [r['lang'], r['system'], str(r['n_jobs']), r['mode'], '%.4f' % r['median'],
                     fmt_rate(r['n_tasks'], r['median']),
                     ratio(seq['median'], r['median']) if seq else '']
            for peer, _ in PEERS:
                p = peer_row(records, r, peer) if r['peer'] == 'mpire' else None
                cells.append(ratio(p['median'], r['median']) if p else '')
            share, flag = others_share(r)
            noisy += flag
            cells.append(share)
            table.append(cells)
            if note(r):
                table.append(['note', note(r)])
        rows_by_workload[workload] = (rows, table)

    widths = [len(h) for h in header]
    for _, table in rows_by_workload.values():
        for cells in table:
            if len(cells) == len(header):
                widths = [max(w, len(c)) for w, c in zip(widths, cells)]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(c.ljust(widths[i]) if i < 4 else c.rjust(widths[i]))
        return '  '.join(out).rstrip()

    print(line(header))
    for workload in workloads:
        rows, table = rows_by_workload[workload]
        n = rows[0]['n_tasks'] if rows else 0
        print()
        print('== %s' % DESCRIPTIONS.get(workload, workload).format(n=n))
        for cells in table:
            if len(cells) == len(header):
                print(line(cells))
            elif cells[0] == 'note':
                print(' ' * (widths[0] + 4) + cells[1])
            else:
                print(line(cells[:4]) + '  ' + cells[4])
    print()
    print('median s: median of the timed runs. xseq: the sequential loop of the same language'
          ' divided by this row.')
    print('xPEER (mpire-glib rows): the peer\'s median divided by this row\'s, same workload,'
          ' tasks, jobs and mode; > 1 = mpire-glib faster.')
    print('warm: pool started (and kept alive) before the timed calls; cold: a new pool per'
          ' call, start-up and shutdown timed.')
    print('others: share of the CPUs that other processes used during the measurement;'
          ' "!" = enough to distort it (even after retries).')
    if noisy:
        print('WARNING: %d measurement(s) ran while other processes used the CPUs (marked !):'
              ' rerun on a quiet machine.' % noisy)

    print_targets(records)
    return 1 if failed else 0


def rows_n(records, workload):
    r = find(records, workload=workload)
    return r['n_tasks'] if r else None


def verdict(ok):
    return 'pass' if ok else 'MISS'


def print_targets(records):
    """The issue-5 targets that this run measures, as measured, each with
    pass or MISS."""
    lines = []
    noisy_note = '  [noisy: others used the CPUs]'

    def pair(row_want, ref_want):
        """The medians of a row and of its reference, and whether either was disturbed."""
        row = find(records, **row_want)
        ref = find(records, n_tasks=row['n_tasks'], **ref_want) if row else None
        if not (row and ref):
            return None, None, ''
        noisy = others_share(row)[1] or others_share(ref)[1]
        return row['median'], ref['median'], noisy_note if noisy else ''

    for method in ('spawn', 'fork', 'threading', 'forkserver'):
        t, seq, note_ = pair(dict(workload='cpu-c', system='mpire-glib %s' % method, mode='warm',
                                  n_jobs=2),
                             dict(workload='cpu-c', peer='seq'))
        if t:
            lines.append('CPU-bound C, 2 workers, %-9s %5.2fx the sequential C loop'
                         ' (target >= 1.9x: %s)%s' % (method, seq / t, verdict(seq / t >= 1.9),
                                                       note_))
    for method in ('spawn', 'fork', 'threading', 'forkserver'):
        want = dict(workload='tiny', lang='C', system='mpire-glib %s' % method, mode='warm')
        t, pool, note_ = pair(want, dict(workload='tiny', peer='pool-fork', mode='warm'))
        if t:
            lines.append('tiny C, %-9s %6.2fx the throughput of Pool.map fork (Python)'
                         ' (target >= 20x: %s)%s' % (method, pool / t, verdict(pool / t >= 20),
                                                      note_))
        t, seq, note_ = pair(want, dict(workload='tiny', lang='C', peer='seq'))
        if t:
            lines.append('tiny C, %-9s %6.2fx the time of the sequential C GVariant loop'
                         ' (target <= 3x: %s)%s' % (method, t / seq, verdict(t / seq <= 3), note_))
        # The chunk-level form of the C task: one call per chunk (array-chunks).
        t, pool, note_ = pair(dict(workload='tiny', lang='C', mode='warm',
                                   system='mpire-glib %s (chunk task)' % method),
                              dict(workload='tiny', peer='pool-fork', mode='warm'))
        if t:
            lines.append('tiny C chunk task, %-9s %6.2fx the throughput of Pool.map fork'
                         ' (Python) (target >= 20x: %s)%s' % (method, pool / t,
                                                               verdict(pool / t >= 20), note_))
    for method in ('fork', 'spawn', 'forkserver'):
        t, pool, note_ = pair(dict(workload='tiny', lang='Py',
                                   system='mpire-glib %s (GI)' % method, mode='warm'),
                              dict(workload='tiny', peer='pool-%s' % method, mode='warm'))
        if t:
            lines.append('tiny Python via GI, %-10s %5.2fx the throughput of Pool.map %s'
                         ' (target >= 1x: %s)%s' % (method, pool / t, method,
                                                     verdict(pool / t >= 1), note_))
            conv = find(records, workload='tiny', peer='conv', n_tasks=rows_n(records, 'tiny'),
                        system='list->ax->list, Variant()/unpack()')
            if conv:
                lines.append('  (%.2fx counting list->ax->list by Variant()/unpack(), which the'
                             ' map rows leave out)' % (pool / (t + conv['median'])))
        # The chunk-level form of a Python task: one call per chunk.
        for workload, label in (('numerical', 'bytes'), ('numerical-np', 'numpy')):
            t, pool, note_ = pair(dict(workload=workload, lang='Py',
                                       system='mpire-glib %s (GI, %s)' % (method, label),
                                       mode='warm'),
                                  dict(workload=workload, peer='pool-%s' % method, mode='warm'))
            if t:
                lines.append('%s, Python chunk task via GI (%s), %-10s %5.2fx the throughput'
                             ' of Pool.map %s over chunks (target >= 1x: %s)%s'
                             % (workload, label, method, pool / t, method,
                                verdict(pool / t >= 1), note_))
    lines += mpire_glib_targets(records, pair)
    for method in ('spawn', 'fork', 'threading', 'forkserver'):
        plain = find(records, workload='overhead', system='mpire-glib %s' % method)
        for extra, target in (('bar', 5), ('insights', 10), ('dashboard', 5)):
            row = find(records, workload='overhead',
                       system='mpire-glib %s + %s' % (method, extra))
            if row and plain:
                # The runs of a round ran one after the other: their ratio
                # is the least disturbed by the machine's load.
                r = statistics.median(a / b for a, b in zip(row['times'], plain['times']))
                noisy = others_share(row)[1] or others_share(plain)[1]
                lines.append('tiny C, %-10s with the %-9s %5.2fx the time without (%+.1f%%;'
                             ' target < %d%%: %s)%s'
                             % (method, extra, r, 100 * (r - 1), target,
                                verdict(100 * (r - 1) < target), noisy_note if noisy else ''))
    for method, target in (('spawn', 3), ('fork', 1), ('forkserver', None), ('threading', None)):
        row = find(records, workload='startup', lang='C', system='mpire-glib %s' % method)
        if row and row.get('worker_start_s'):
            ms = 1e3 * statistics.median(row['worker_start_s'])
            lines.append('worker start-up, C, %-10s median %5.2f ms per worker (%s)%s'
                         % (method, ms, 'target <= %d ms: %s' % (target, verdict(ms <= target))
                            if target else 'no target',
                            noisy_note if others_share(row)[1] else ''))
    for method in ('spawn', 'fork', 'forkserver'):
        t, pool, note_ = pair(dict(workload='startup', lang='C', system='mpire-glib %s' % method),
                              dict(workload='startup', peer='pool-%s' % method))
        if t:
            lines.append('pool of 2, 2 tasks, join, C %-10s %6.1fx faster than multiprocessing.Pool'
                         ' %s (target >= 10x: %s)%s' % (method, pool / t, method,
                                                         verdict(pool / t >= 10), note_))
    for method in ('spawn', 'fork', 'threading', 'forkserver'):
        row = find(records, workload='memory-map', lang='C', system='mpire-glib %s' % method)
        if row:
            x = row['peak_rss_mib'] / row['data_mib']
            lines.append('memory, %s-element map, C %-10s peak RSS %.2fx the input + output'
                         ' arrays (target <= 3x: %s)' % ('{:,}'.format(row['n_tasks']), method, x,
                                                         verdict(x <= 3)))
    for method in ('spawn', 'fork', 'threading', 'forkserver'):
        row = find(records, workload='memory-imap', lang='C', system='mpire-glib %s' % method)
        if row and len(row.get('rss_at') or []) == 2:
            (n1, a), (n2, b) = row['rss_at']
            lines.append('memory, endless imap, C %-10s RSS %.1f MiB after %s results, %.1f MiB'
                         ' after %s (flat, within %s: %s)'
                         % (method, a, '{:,}'.format(n1), b, '{:,}'.format(n2),
                            '5% + 1 MiB', verdict(b - a <= 0.05 * a + 1)))
    if lines:
        print()
        print('Targets (issues 4, 5, 11 and 12) measured in this run:')
        for line_ in lines:
            print('  ' + line_)


def mpire_glib_targets(records, pair):
    """Issue 11's targets: mpire_glib (MPIRE's API, pickled chunks) on
    tiny Python tasks against Pool.map and MPIRE itself, and its CPU-bound
    speed-up against the C task's."""
    lines = []
    for method in ('fork', 'spawn'):
        glib = dict(workload='tiny', lang='Py', mode='warm',
                    system='mpire_glib %s (pickled chunks)' % method)
        for peer, name, target in (('pool-%s' % method, 'Pool.map %s' % method, 1),
                                   ('upstream-%s' % method, 'MPIRE %s' % method, 10)):
            t, ref, note_ = pair(glib, dict(workload='tiny', peer=peer, mode='warm'))
            if t:
                lines.append('tiny Python, mpire_glib %-5s %6.2fx the throughput of %s'
                             ' (target >= %dx: %s)%s' % (method, ref / t, name, target,
                                                         verdict(ref / t >= target), note_))
        t, seq, note_ = pair(dict(workload='cpu-py', mode='warm', n_jobs=2,
                                  system='mpire_glib %s (pickled chunks)' % method),
                             dict(workload='cpu-py', peer='seq'))
        c_t, c_seq, c_note = pair(dict(workload='cpu-c', system='mpire-glib %s' % method,
                                       mode='warm', n_jobs=2),
                                  dict(workload='cpu-c', peer='seq'))
        if t and c_t:
            py_x, c_x = seq / t, c_seq / c_t
            lines.append('CPU-bound, 2 workers, %-5s mpire_glib %.2fx its sequential loop, the C'
                         ' task %.2fx: %.2f of its speed-up (target >= 0.95: %s)%s'
                         % (method, py_x, c_x, py_x / c_x, verdict(py_x / c_x >= 0.95),
                            note_ or c_note))
    return lines


if __name__ == '__main__':
    sys.exit(main())
