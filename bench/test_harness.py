#!/usr/bin/python3
# test_harness.py: checks of the benchmark harness itself (not of the
# library): that --quick stops measuring a slow row once its runs took
# the run budget and --runs N gives exactly N runs, in both harnesses, and
# that format_table.py compares each mpire-glib row with the Pool of the
# same start method (forkserver included).
#
# Usage: test_harness.py MPIRE-BENCH    (the built mpire-bench program)
#
# Needs what bench_python.py needs (the meson test sets the environment).
# Exits 0 when every check passed, 1 otherwise; prints one line per check.
#
# SPDX-License-Identifier: MIT

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
failures = 0


def check(ok, what):
    global failures
    print('%s: %s' % ('ok' if ok else 'FAILED', what), flush=True)
    failures += not ok


def records(argv):
    """The JSON records that a harness run prints."""
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith('{')]


def n_runs(recs, **want):
    """The number of timed runs of the record that matches @want."""
    for r in recs:
        if all(r.get(k) == v for k, v in want.items()):
            return len(r['times'])
    raise AssertionError('no record %r' % (want,))


def check_run_budget(mpire_bench):
    # 100 CPU-bound tasks of ~5 ms: a sequential run takes about 0.5 s
    # (over 0.125 s even on a machine four times as fast), so a second
    # one reaches --quick's budget of 0.25 s at the latest.
    c = [mpire_bench, '--quick', '--only', 'cpu', '--cpu-tasks', '100', '--methods',
         'threading', '--no-parallel']
    py = [sys.executable, os.path.join(HERE, 'bench_python.py'), '--quick', '--only', 'cpu',
          '--cpu-tasks', '100', '--systems', 'seq']
    for lang, argv in (('C', c), ('Py', py)):
        recs = records(argv)
        check(n_runs(recs, peer='seq') < 3,
              '%s --quick: a slow sequential loop gets fewer than 3 runs' % lang)
        check(n_runs(records(argv + ['--runs', '2']), peer='seq') == 2,
              '%s --quick --runs 2: exactly 2 runs' % lang)
        if lang == 'C':
            check(n_runs(recs, system='mpire-glib threading', mode='warm', n_jobs=2) < 3,
                  'C --quick: a slow map gets fewer than 3 runs')


def record(workload, lang, system, peer, mode, n_jobs, n_tasks, median, **extra):
    return dict(workload=workload, lang=lang, system=system, peer=peer, mode=mode,
                n_jobs=n_jobs, n_tasks=n_tasks, times=[median], others_cpu_s=0.0, wall_s=1.0,
                n_cpus=2, attempt=1, ok=True, **extra)


def column(table, header, row_start):
    """The cell of column @header in the row that starts with @row_start
    (a number, right-aligned under its header: it ends where the header
    does, and starts after the previous column's end)."""
    head = next(line for line in table if line.startswith('lang '))
    row = next(line for line in table if line.startswith(row_start))
    ends = {m.group(): m.end() for m in re.finditer(r'\S+', head)}
    previous = max(e for e in ends.values() if e < ends[header])
    return row[previous:ends[header]].strip()


def check_like_with_like():
    recs = [
        record('tiny', 'Py', 'sequential Python loop', 'seq', 'n/a', 1, 1000, 0.1),
        record('tiny', 'Py', 'mpire-glib forkserver (GI)', 'mpire', 'warm', 2, 1000, 0.2),
        record('tiny', 'Py', 'mpire-glib fork (GI)', 'mpire', 'warm', 2, 1000, 0.4),
        record('tiny', 'Py', 'multiprocessing.Pool fork', 'pool-fork', 'warm', 2, 1000, 0.1),
        record('tiny', 'Py', 'multiprocessing.Pool forkserver', 'pool-forkserver', 'warm', 2,
               1000, 0.05),
        record('startup', 'C', 'mpire-glib forkserver', 'mpire', 'cold', 2, 2, 0.004,
               worker_start_s=[0.001, 0.001]),
        record('startup', 'Py', 'multiprocessing.Pool forkserver', 'pool-forkserver', 'cold',
               2, 2, 0.05),
    ]
    proc = subprocess.run([sys.executable, os.path.join(HERE, 'format_table.py')],
                          input='\n'.join(json.dumps(r) for r in recs), check=True,
                          stdout=subprocess.PIPE, text=True)
    table = proc.stdout.splitlines()
    row = 'Py    mpire-glib forkserver (GI)'
    check(column(table, 'xPool-forkserver', row) == '0.25',
          'the xPool-forkserver column of a forkserver row: Pool forkserver / the row')
    check(column(table, 'xPool-fork', row) == '0.50',
          'the xPool-fork column of the same row')
    check(any('tiny Python via GI, forkserver' in line and '0.25x the throughput of Pool.map'
              ' forkserver' in line for line in table),
          'the Targets compare the forkserver row with Pool.map forkserver')
    check(not any('tiny Python via GI, fork ' in line and 'Pool.map forkserver' in line
                  for line in table),
          'and the fork row with Pool.map fork only')
    check(any('C forkserver' in line and '12.5x faster than multiprocessing.Pool forkserver'
              in line for line in table),
          'the start-up cycle of forkserver against Pool forkserver')


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: test_harness.py MPIRE-BENCH')
    check_run_budget(sys.argv[1])
    check_like_with_like()
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
