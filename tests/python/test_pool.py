#!/usr/bin/python3
# test_pool.py: mpire-glib through PyGObject, on one start method.
#
# Usage: test_pool.py fork|threading|spawn|forkserver|launched
#
# With the spawn start method this script is run again as each worker
# (with forkserver, as the fork server that forks the workers):
# everything before Mpire.init() (imports, the task functions, the
# Mpire.Task objects) runs in the workers too, and Mpire.init() never
# returns there. So every task is created at module level, and all the
# test logic is after Mpire.init().
#
# Exits 0 when every check passed, 1 otherwise; prints one line per check.
#
# SPDX-License-Identifier: MIT

import faulthandler
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Gio, Mpire  # noqa: E402

N_JOBS = 2
MY_DOMAIN = 'my-domain'


# ---- task functions (module level: the spawn workers need them too) -------

def square(ctx, args):
    return GLib.Variant('x', args.get_int64() ** 2)


def multiply(ctx, args):
    a, b = args.unpack()
    return GLib.Variant('x', a * b)


def keywords(ctx, args):
    # An a{sv} element: keyword-style arguments, "scale" is optional.
    kw = args.unpack()
    return GLib.Variant('x', kw['x'] * kw.get('scale', 1) + len(kw.get('label', '')))


def mixed(ctx, args):
    n = args.get_int64()
    if n % 2 == 0:
        return GLib.Variant('x', n)
    return GLib.Variant('s', 'odd %d' % n)


def fail_on_seven(ctx, args):
    n = args.get_int64()
    if n == 7:
        raise GLib.Error.new_literal(GLib.quark_from_string(MY_DOMAIN), 'seven', 3)
    return GLib.Variant('x', n)


def fail_slowly_on_seven(ctx, args):
    # Later tasks finish first: their results must not be handed out in
    # place of the failed task's.
    n = args.get_int64()
    if n == 7:
        time.sleep(0.3)
        raise GLib.Error.new_literal(GLib.quark_from_string(MY_DOMAIN), 'seven', 3)
    return GLib.Variant('x', n)


def wrong_result_type(ctx, args):
    return GLib.Variant('s', 'not an x')


def value_error_on_seven(ctx, args):
    n = args.get_int64()
    if n == 7:
        raise ValueError('expected ValueError from value_error_on_seven (part of the test)')
    return GLib.Variant('x', n)


def not_a_variant(ctx, args):
    return args.get_int64()


def slow(ctx, args):
    time.sleep(0.2)
    return GLib.Variant('x', args.get_int64())


def sleep_ms(ctx, args):
    time.sleep(args.get_int64() / 1000)
    return GLib.Variant('b', True)


def sleep_shared_ms(ctx, args):
    # A worker_init or worker_exit sleeping for the shared objects' 'ms'.
    time.sleep(ctx.get_shared_objects().unpack()['ms'] / 1000)
    return GLib.Variant('b', True)


def add_five(ctx, args):
    # A whole chunk of numbers at once (array-chunks).
    return GLib.Variant('ad', [x + 5 for x in args.unpack()])


def worker_id(ctx, args):
    time.sleep(0.02)
    return GLib.Variant('i', ctx.get_worker_id())


def shared(ctx, args):
    so = ctx.get_shared_objects()
    if so is None:
        raise GLib.Error.new_literal(GLib.quark_from_string(MY_DOMAIN), 'no shared objects', 1)
    d = so.unpack()
    return GLib.Variant('x', args.get_int64() * d['factor'] + d['offset'])


def count_tasks(ctx, args):
    # Counts the tasks this worker ran, in its state.
    state = ctx.get_state()
    n = state.get_int64() + 1 if state is not None else 1
    ctx.set_state(GLib.Variant('x', n))
    return GLib.Variant('(ix)', (ctx.get_worker_id(), n))


def pids(ctx, args):
    return GLib.Variant('(ii)', (os.getpid(), os.getppid()))


def log_and_die_once(ctx, args):
    # (n, directory): appends the line n to the directory's file "log";
    # at n == 5 the first time (no file "died" yet) the worker is killed.
    n, directory = args.unpack()
    fd = os.open(os.path.join(directory, 'log'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, b'%d\n' % n)
    os.close(fd)
    marker = os.path.join(directory, 'died')
    if n == 5 and not os.path.exists(marker):
        open(marker, 'w').close()
        os.kill(os.getpid(), signal.SIGKILL)
    return GLib.Variant('x', n * n)


def exit_on_three(ctx, args):
    # The worker exits with status 3 at n == 3.
    n = args.get_int64()
    if n == 3:
        os._exit(3)
    return GLib.Variant('x', n * n)


# What the tasks of tally_task did: a threading pool's tasks share the
# caller's memory.
tally = {'running': 0, 'begun': 0}
tally_lock = threading.Lock()


def tally_fail_on_three(ctx, args):
    n = args.get_int64()
    with tally_lock:
        tally['running'] += 1
        tally['begun'] += 1
    time.sleep(0.02)
    with tally_lock:
        tally['running'] -= 1
    if n == 3:
        raise GLib.Error.new_literal(GLib.quark_from_string(MY_DOMAIN), 'three', 3)
    return GLib.Variant('x', n)


def nested_sum(ctx, args):
    # (n, start method): the sum of the squares of 0..n-1, mapped on a
    # pool of its own of that start method.
    n, method = args.unpack()
    inner = Mpire.WorkerPool.new(2, Mpire.StartMethod(method))
    r = inner.map(square_task, GLib.Variant('ax', list(range(n))), None, None)
    return GLib.Variant('x', sum(r.unpack()))


square_task = Mpire.Task.new('square', square)
tally_task = Mpire.Task.new('tally_fail_on_three', tally_fail_on_three)
nested_task = Mpire.Task.new('nested_sum', nested_sum)
pids_task = Mpire.Task.new('pids', pids)
exit_on_three_task = Mpire.Task.new('exit_on_three', exit_on_three)
log_and_die_once_task = Mpire.Task.new('log_and_die_once', log_and_die_once)
multiply_task = Mpire.Task.new('multiply', multiply)
keywords_task = Mpire.Task.new('keywords', keywords)
mixed_task = Mpire.Task.new('mixed', mixed)
fail_task = Mpire.Task.new('fail_on_seven', fail_on_seven)
slow_fail_task = Mpire.Task.new('fail_slowly_on_seven', fail_slowly_on_seven)
value_error_task = Mpire.Task.new('value_error_on_seven', value_error_on_seven)
not_a_variant_task = Mpire.Task.new('not_a_variant', not_a_variant)
slow_task = Mpire.Task.new('slow', slow)
worker_id_task = Mpire.Task.new('worker_id', worker_id)
shared_task = Mpire.Task.new('shared', shared)
count_task = Mpire.Task.new('count_tasks', count_tasks)
sleep_task = Mpire.Task.new('sleep_ms', sleep_ms)
sleep_shared_task = Mpire.Task.new('sleep_shared_ms', sleep_shared_ms)
add_five_task = Mpire.Task.new('add_five', add_five)
# Tasks with declared types: set in every process, before Mpire.init().
typed_square_task = Mpire.Task.new('typed_square', square)
typed_square_task.set_args_type(GLib.VariantType.new('x'))
typed_square_task.set_result_type(GLib.VariantType.new('x'))
typed_wrong_task = Mpire.Task.new('typed_wrong_result', wrong_result_type)
typed_wrong_task.set_result_type(GLib.VariantType.new('x'))


# ---- test harness ---------------------------------------------------------

failures = []
start_method = None


def check(name, ok, detail=''):
    if ok:
        print('ok     %s' % name, flush=True)
    else:
        print('FAILED %s%s' % (name, (': ' + str(detail)) if detail else ''), flush=True)
        failures.append(name)
    return ok


def is_mpire_error(e, code):
    return (isinstance(e, GLib.Error) and
            e.domain == 'mpire-error-quark' and
            e.code == int(code))


def describe(e):
    if isinstance(e, GLib.Error):
        return 'GLib.Error(%s, %d, %r)' % (e.domain, e.code, e.message)
    return repr(e)


def expect_error(name, func, pred, what):
    """Runs func(), which must raise a GLib.Error satisfying pred."""
    try:
        r = func()
    except GLib.Error as e:
        return check(name, pred(e), 'expected %s, got %s' % (what, describe(e))) and e
    return check(name, False, 'expected %s, got the result %r' % (what, r))


def ax(values):
    return GLib.Variant('ax', list(values))


# With 'launched', spawn workers started through a launcher that needs no
# network (worker-launcher), over its standard input and output.
LAUNCHER = ['sh', '-c', 'exec "$0" "$@"']
launched = False


def make_pool(n_jobs):
    pool = Mpire.WorkerPool.new(n_jobs, start_method)
    if launched:
        pool.props.worker_launcher = LAUNCHER
    return pool


def new_pool(**props):
    pool = make_pool(N_JOBS)
    for k, v in props.items():
        pool.set_property(k.replace('_', '-'), v)
    return pool


def run_loop(start, timeout=60):
    """Runs a main loop until start(done) calls done(value); returns value."""
    loop = GLib.MainLoop()
    box = {}

    def done(value):
        box['value'] = value
        loop.quit()

    def on_timeout():
        box['timeout'] = True
        loop.quit()
        return GLib.SOURCE_REMOVE

    tid = GLib.timeout_add_seconds(timeout, on_timeout)
    start(done)
    loop.run()
    if 'timeout' in box:
        raise AssertionError('main loop timed out after %d s' % timeout)
    GLib.source_remove(tid)
    return box['value']


def iterate(it):
    out = []
    while True:
        v = it.next(None)
        if v is None:
            return out
        out.append(v)


def still_works(name, pool):
    try:
        r = pool.map(square_task, ax(range(1000)), None, None)
        check(name, r.unpack() == [i * i for i in range(1000)], 'wrong results')
    except Exception as e:
        check(name, False, describe(e))


# ---- tests ----------------------------------------------------------------

def test_map(pool):
    n = 100000
    r = pool.map(square_task, ax(range(n)), None, None)
    check('map: result type ax', r.get_type_string() == 'ax', r.get_type_string())
    check('map: %d squares in order' % n, r.unpack() == [i * i for i in range(n)])


def test_map_unordered(pool):
    n = 100000
    r = pool.map_unordered(square_task, ax(range(n)), None, None)
    check('map_unordered: result type ax', r.get_type_string() == 'ax', r.get_type_string())
    check('map_unordered: same multiset of squares',
          sorted(r.unpack()) == [i * i for i in range(n)])


def test_imap(pool):
    n = 10000
    it = pool.imap(square_task, ax(range(n)), None)
    values = [v.get_int64() for v in iterate(it)]
    check('imap: %d squares in order' % n, values == [i * i for i in range(n)])
    check('imap: next() after the end gives None again', it.next(None) is None)
    check('imap: n_pulled is the whole input', it.get_n_pulled() == n, it.get_n_pulled())


def test_imap_unordered(pool):
    n = 10000
    it = pool.imap_unordered(square_task, ax(range(n)), None)
    values = [v.get_int64() for v in iterate(it)]
    check('imap_unordered: same multiset of squares', sorted(values) == [i * i for i in range(n)])


def test_tuple_args(pool):
    pairs = [(i, 3 * i + 1) for i in range(2000)]
    r = pool.map(multiply_task, GLib.Variant('a(xx)', pairs), None, None)
    check('tuple arguments a(xx)', r.unpack() == [a * b for a, b in pairs])


def test_kwargs(pool):
    items = []
    for i in range(500):
        kw = {'x': GLib.Variant('x', i)}
        if i % 2:
            kw['scale'] = GLib.Variant('x', 10)
        if i % 3 == 0:
            kw['label'] = GLib.Variant('s', 'abc')
        items.append(kw)
    expected = [i * (10 if i % 2 else 1) + (3 if i % 3 == 0 else 0) for i in range(500)]
    r = pool.map(keywords_task, GLib.Variant('aa{sv}', items), None, None)
    check('keyword arguments a{sv}', r.unpack() == expected)


def test_mixed(pool):
    r = pool.map(mixed_task, ax(range(100)), None, None)
    check('mixed result types: type av', r.get_type_string() == 'av', r.get_type_string())
    expected = [n if n % 2 == 0 else 'odd %d' % n for n in range(100)]
    check('mixed result types: values in order', r.unpack() == expected)
    inner = {r.get_child_value(i).get_variant().get_type_string() for i in range(2)}
    check('mixed result types: boxed x and s', inner == {'x', 's'}, inner)


def test_empty(pool):
    r = pool.map(square_task, GLib.Variant('ax', []), None, None)
    check('empty input: empty av', r.get_type_string() == 'av' and r.n_children() == 0,
          '%s with %d elements' % (r.get_type_string(), r.n_children()))
    r = pool.map_unordered(square_task, GLib.Variant('ax', []), None, None)
    check('empty input, unordered: empty av', r.get_type_string() == 'av' and r.n_children() == 0,
          '%s with %d elements' % (r.get_type_string(), r.n_children()))
    it = pool.imap(square_task, GLib.Variant('ax', []), None)
    check('empty input, imap: ends at once', it.next(None) is None)
    del it


def test_array_chunks(pool):
    opts = Mpire.MapOptions.new()
    opts.props.array_chunks = True
    opts.props.row_width = 3
    opts.props.chunk_size = 4
    flat = [float(i) for i in range(30)]
    r = pool.map(add_five_task, GLib.Variant('ad', flat), opts, None)
    check('array_chunks: chunks joined into one ad',
          r.get_type_string() == 'ad' and r.unpack() == [x + 5 for x in flat], r)
    opts.props.concatenate = False
    r = pool.map(add_five_task, GLib.Variant('ad', flat), opts, None)
    check('array_chunks: one array per chunk without concatenate',
          [len(c) for c in r.unpack()] == [12, 12, 6], r)
    opts.props.row_width = 7
    expect_error('array_chunks: rows that do not divide the input',
                 lambda: pool.map(add_five_task, GLib.Variant('ad', flat), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')


def test_utils(pool):
    chunks = Mpire.chunk_tasks(ax(range(10)), -1, 2.5, 0)
    check('chunk_tasks: fractional chunk size as MPIRE',
          chunks.unpack() == [[0, 1, 2], [3, 4], [5, 6, 7], [8, 9]], chunks)
    chunks = Mpire.chunk_tasks(ax(range(10)), 10, 0, 6)
    check('chunk_tasks: n_splits as MPIRE',
          chunks.unpack() == [[0, 1], [2, 3], [4], [5, 6], [7, 8], [9]], chunks)
    single = Mpire.make_single_arguments(GLib.Variant('aa{sx}', [{'x': 0, 'y': 100}]))
    check('make_single_arguments: one-element tuples',
          single.get_type_string() == 'a(a{sx})' and single.unpack() == [({'x': 0, 'y': 100},)],
          single)
    expect_error('chunk_tasks: no chunk size nor splits',
                 lambda: Mpire.chunk_tasks(ax(range(3)), -1, 0, 0),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')


def test_task_glib_error(pool):
    pattern = re.compile(r'^seven \(task “fail_on_seven”, worker (\d+), arguments 7\)$')
    for name, call in (('map', pool.map), ('map_unordered', pool.map_unordered)):
        e = expect_error('task GLib.Error (%s): same domain and code' % name,
                         lambda: call(fail_task, ax(range(50)), None, None),
                         lambda e: e.domain == MY_DOMAIN and e.code == 3,
                         '%s code 3' % MY_DOMAIN)
        if e:
            m = pattern.match(e.message)
            check('task GLib.Error (%s): message names task, worker and arguments' % name,
                  m is not None and 0 <= int(m.group(1)) < N_JOBS, repr(e.message))
        still_works('task GLib.Error (%s): next map works' % name, pool)

    # imap: the results before the failure come first, then the error,
    # once. Chunks of 5 tasks, failing in the middle of the second chunk.
    # With order_tasks, chunks 0, 2, 4... go to worker 0 and chunks 1, 3...
    # to worker 1: chunks 2 and 4 are done while chunk 1 fails slowly.
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(5)
    ordered_pool = new_pool(order_tasks=True)
    imap_error_checks('task GLib.Error (imap, mid-chunk)', ordered_pool, opts)
    still_works('task GLib.Error (imap, mid-chunk): next map works', ordered_pool)
    del ordered_pool

    # Failing on the first task of a chunk (here every chunk is one task):
    # run in a child process, as this once crashed the caller.
    isolated('task GLib.Error (imap, first task of a chunk)', 'imap-error-chunk-start')


def imap_error_checks(name, pool, opts):
    it = pool.imap(slow_fail_task, ax(range(50)), opts)
    got = []
    err = None
    try:
        while True:
            v = it.next(None)
            if v is None:
                break
            got.append(v.get_int64())
    except GLib.Error as e:
        err = e
    check(name + ': results before the failure in order',
          got == list(range(len(got))) and len(got) <= 7, got)
    check(name + ': raised with domain and code',
          err is not None and err.domain == MY_DOMAIN and err.code == 3, err and describe(err))
    try:
        after = it.next(None)
        check(name + ': iterator ends after the error', after is None, after)
    except GLib.Error as e:
        check(name + ': error raised only once', False, describe(e))
    del it
    gc.collect()


def isolated(name, mode, runs=1):
    """Runs the checks of @mode in a child process (this script again),
    up to @runs times, until one fails."""
    for _ in range(runs):
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), sys.argv[1], mode],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=40)
        if proc.returncode != 0:
            break
    for line in proc.stdout.splitlines():
        print('  | ' + line, flush=True)
    check(name, proc.returncode == 0, 'child exited with status %d' % proc.returncode)


def child_imap_error_chunk_start(pool):
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    imap_error_checks('imap, chunk size 1, task 7 fails', pool, opts)
    still_works('imap, chunk size 1: next map works', pool)


def test_typed_tasks(pool):
    check('typed task: args type reads back',
          typed_square_task.get_args_type().dup_string() == 'x')
    check('typed task: result type reads back',
          typed_square_task.get_result_type().dup_string() == 'x')
    r = pool.map(typed_square_task, ax(range(100)), None, None)
    check('typed task: map works', r.unpack() == [i * i for i in range(100)])
    r = pool.map(typed_square_task, GLib.Variant('ax', []), None, None)
    check('typed task: empty input gives empty ax', r.get_type_string() == 'ax' and
          r.n_children() == 0, '%s with %d elements' % (r.get_type_string(), r.n_children()))
    t0 = time.monotonic()
    expect_error('typed task: input of another type gives INVALID_ARGUMENT',
                 lambda: pool.map(typed_square_task, GLib.Variant('as', ['a', 'b']), None, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    check('typed task: input of another type refused at once', time.monotonic() - t0 < 1.0,
          '%.2f s' % (time.monotonic() - t0))
    e = expect_error('typed task: result of another type gives TASK_FAILED',
                     lambda: pool.map(typed_wrong_task, ax(range(10)), None, None),
                     lambda e: is_mpire_error(e, Mpire.Error.TASK_FAILED), 'TASK_FAILED')
    if e:
        check('typed task: message names both types', '“s”' in e.message and '“x”' in e.message,
              repr(e.message))
    still_works('typed task: next map works', pool)


# With python/gi/overrides/Mpire.py on the path (installed, or PYTHONPATH),
# a task's Python exception is raised again in the caller and plain
# return values are converted: the two checks below then check that.
OVERRIDES = hasattr(Mpire.WorkerPool, '__enter__')


def test_task_value_error(pool):
    if OVERRIDES:
        try:
            pool.map(value_error_task, ax(range(50)), None, None)
            check('task ValueError (overrides): raised in the caller', False, 'no error')
        except ValueError as e:
            check('task ValueError (overrides): raised in the caller',
                  'value_error_on_seven' in str(e), repr(e))
        still_works('task ValueError: next map works', pool)
        return
    print('# a ValueError traceback on stderr is expected next', flush=True)
    e = expect_error('task ValueError: TASK_FAILED',
                     lambda: pool.map(value_error_task, ax(range(50)), None, None),
                     lambda e: is_mpire_error(e, Mpire.Error.TASK_FAILED), 'TASK_FAILED')
    if e:
        check('task ValueError: message says neither result nor error',
              'neither a result nor an error' in e.message and 'value_error_on_seven' in e.message,
              repr(e.message))
    still_works('task ValueError: next map works', pool)


def test_task_not_a_variant(pool):
    if OVERRIDES:
        r = pool.map(not_a_variant_task, ax(range(10)), None, None)
        check('task returning an int (overrides): converted', r.unpack() == list(range(10)),
              r)
        return
    print('# a TypeError traceback on stderr is expected next', flush=True)
    expect_error('task returning an int: TASK_FAILED',
                 lambda: pool.map(not_a_variant_task, ax(range(10)), None, None),
                 lambda e: is_mpire_error(e, Mpire.Error.TASK_FAILED), 'TASK_FAILED')
    still_works('task returning an int: next map works', pool)


def source_of(values):
    """A lazy source (MpireSourceFunc) giving 'x' values, then None."""
    it = iter(values)

    def source(*unused):
        v = next(it, None)
        return None if v is None else GLib.Variant('x', v)
    return source


def test_lazy_source(pool):
    n = 5000
    opts = Mpire.MapOptions.new()
    opts.set_iterable_len(n)
    opts.set_source(source_of(range(n)))
    check('lazy source: has_source', opts.has_source())
    r = pool.map(square_task, None, opts, None)
    check('lazy source + iterable_len: squares in order', r.unpack() == [i * i for i in range(n)])
    check('lazy source: the call took the source', not opts.has_source())

    # Without iterable_len, ended by the source returning None.
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(7)
    opts.set_source(source_of(range(300)))
    r = pool.map(square_task, None, opts, None)
    check('lazy source ended by None: squares in order', r.unpack() == [i * i for i in range(300)])

    # iterable_len shorter than the source: only that many tasks.
    opts = Mpire.MapOptions.new()
    opts.set_iterable_len(10)
    opts.set_source(source_of(range(100)))
    r = pool.map(square_task, None, opts, None)
    check('lazy source longer than iterable_len: 10 results', r.unpack() == [i * i for i in range(10)],
          r.unpack())

    # A source that fails: the map fails with its error.
    count = [0]

    def failing_source(*unused):
        count[0] += 1
        if count[0] > 10:
            raise GLib.Error.new_literal(GLib.quark_from_string(MY_DOMAIN), 'source failed', 9)
        return GLib.Variant('x', count[0])

    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(3)
    opts.set_source(failing_source)
    expect_error('lazy source raising GLib.Error: the map fails with it',
                 lambda: pool.map(square_task, None, opts, None),
                 lambda e: e.domain == MY_DOMAIN and e.code == 9 and 'source failed' in e.message,
                 '%s code 9' % MY_DOMAIN)
    still_works('lazy source raising GLib.Error: next map works', pool)


def test_endless_source(pool):
    max_active = 20
    counter = [0]

    def source(*unused):
        v = counter[0]
        counter[0] += 1
        return GLib.Variant('x', v)

    opts = Mpire.MapOptions.new()
    opts.set_max_tasks_active(max_active)
    opts.set_chunk_size(5)
    opts.set_source(source)
    it = pool.imap(square_task, None, opts)
    ok_order = True
    ok_pressure = True
    worst = None
    for consumed in range(1, 51):
        v = it.next(None)
        if v is None or v.get_int64() != (consumed - 1) ** 2:
            ok_order = False
            break
        pulled = it.get_n_pulled()
        if pulled > consumed + max_active or pulled != counter[0]:
            ok_pressure = False
            worst = (consumed, pulled, counter[0])
    check('endless source (imap): 50 results in order', ok_order)
    check('endless source (imap): n_pulled <= consumed + max_tasks_active', ok_pressure, worst)
    check('endless source (imap): it did pull ahead', it.get_n_pulled() > 50, it.get_n_pulled())
    del it
    gc.collect()
    pulled_at_drop = counter[0]
    still_works('endless source: map works after dropping the iterator', pool)
    check('endless source: source not called after dropping', counter[0] == pulled_at_drop,
          '%d -> %d' % (pulled_at_drop, counter[0]))


def test_map_async(pool):
    n = 20000

    def start(done):
        def cb(p, res):
            try:
                done(p.map_finish(res))
            except Exception as e:
                done(e)
        pool.map_async(square_task, ax(range(n)), None, None, cb)

    r = run_loop(start)
    if isinstance(r, Exception):
        check('map_async: squares in order', False, describe(r))
    else:
        check('map_async: squares in order', r.unpack() == [i * i for i in range(n)])

    def start_unordered(done):
        def cb(p, res):
            try:
                done(p.map_unordered_finish(res))
            except Exception as e:
                done(e)
        pool.map_unordered_async(square_task, ax(range(n)), None, None, cb)

    r = run_loop(start_unordered)
    check('map_unordered_async: same multiset',
          not isinstance(r, Exception) and sorted(r.unpack()) == [i * i for i in range(n)],
          describe(r) if isinstance(r, Exception) else '')


def test_imap_async(pool):
    n = 1000

    def start(done):
        values = []

        def on_next(it, res):
            try:
                v = it.next_finish(res)
            except Exception as e:
                done(e)
                return
            if v is None:
                done(values)
            else:
                values.append(v.get_int64())
                it.next_async(None, on_next)

        def on_iter(p, res):
            try:
                it = p.imap_finish(res)
            except Exception as e:
                done(e)
                return
            it.next_async(None, on_next)

        pool.imap_async(square_task, ax(range(n)), None, None, on_iter)

    r = run_loop(start)
    check('imap_async + next_async: squares in order',
          r == [i * i for i in range(n)], describe(r) if isinstance(r, Exception) else '')


def fill_list(start_list, timeout=60):
    """Starts a result list with start_list() and runs a main loop until it
    is complete; returns (list, number of items-changed emissions, items
    they added, whether every emission appended)."""
    log = {'changes': 0, 'added': 0, 'appended': True}

    def start(done):
        # Kept: dropping the list would stop its call.
        lst = log['list'] = start_list()

        def on_changed(model, position, removed, added):
            log['changes'] += 1
            log['appended'] &= removed == 0 and position == log['added']
            log['added'] += added

        def on_complete(model, pspec):
            done(model)

        lst.connect('items-changed', on_changed)
        lst.connect('notify::complete', on_complete)
        if lst.props.complete:
            done(lst)

    lst = run_loop(start, timeout)
    return lst, log['changes'], log['added'], log['appended']


def test_imap_list(pool):
    n = 2000
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(50)
    lst, changes, added, appended = fill_list(
        lambda: pool.imap_list(square_task, ax(range(n)), opts, None))
    items = [lst.get_item(i) for i in range(lst.get_n_items())]
    check('imap_list: a Gio.ListModel of Mpire.Result',
          isinstance(lst, Gio.ListModel) and lst.get_item_type() == Mpire.Result.__gtype__)
    check('imap_list: %d squares in order, with their index' % n,
          [r.props.value.get_int64() for r in items] == [i * i for i in range(n)] and
          [r.get_index() for r in items] == list(range(n)))
    check('imap_list: complete, no error, n-items',
          lst.props.complete and lst.props.error is None and lst.props.n_items == n)
    check('imap_list: items-changed appends, adds up to n, batched per chunk',
          appended and added == n and 1 <= changes <= n // 50, '%d emissions' % changes)
    check('imap_list: get_value', lst.get_value(5).get_int64() == 25 and lst.get_value(n) is None)

    lst, changes, added, appended = fill_list(
        lambda: pool.imap_unordered_list(square_task, ax(range(n)), None, None))
    items = [lst.get_item(i) for i in range(lst.get_n_items())]
    check('imap_unordered_list: every task once, with its own result',
          sorted(r.get_index() for r in items) == list(range(n)) and
          all(r.get_value().get_int64() == r.get_index() ** 2 for r in items) and
          appended and added == n)

    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    lst, changes, added, appended = fill_list(
        lambda: pool.imap_list(fail_task, ax(range(20)), opts, None))
    values = [lst.get_value(i).get_int64() for i in range(lst.get_n_items())]
    err = lst.props.error
    check('imap_list, task 7 fails: the error, after the results before it',
          lst.props.complete and isinstance(err, GLib.Error) and err.code == 3 and
          err.domain == MY_DOMAIN and values == list(range(len(values))) and len(values) <= 7,
          '%s, %r' % (describe(err), values))
    still_works('imap_list, task failed: next map works', pool)

    expect_error('imap_list, bad input: MPIRE_ERROR_INVALID_ARGUMENT',
                 lambda: pool.imap_list(square_task, GLib.Variant('x', 3), None, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')

    cancellable = Gio.Cancellable()
    GLib.timeout_add(500, lambda: cancellable.cancel() or GLib.SOURCE_REMOVE)
    t0 = time.monotonic()
    lst, changes, added, appended = fill_list(
        lambda: pool.imap_list(slow_task, ax(range(60)), None, cancellable))
    err = lst.props.error
    check('imap_list, cancelled: G_IO_ERROR_CANCELLED, soon, partial',
          isinstance(err, GLib.Error) and
          err.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED) and
          time.monotonic() - t0 < 4.0 and lst.get_n_items() < 60,
          '%s after %.2f s, %d items' % (describe(err), time.monotonic() - t0, lst.get_n_items()))
    still_works('imap_list, cancelled: next map works', pool)

def test_cancel(pool):
    cancellable = Gio.Cancellable()
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    times = {}

    def start(done):
        def cb(p, res):
            times['done'] = time.monotonic()
            try:
                done(p.map_finish(res))
            except Exception as e:
                done(e)

        def cancel():
            times['cancel'] = time.monotonic()
            cancellable.cancel()
            return GLib.SOURCE_REMOVE

        pool.map_async(slow_task, ax(range(60)), opts, cancellable, cb)
        GLib.timeout_add(500, cancel)

    t0 = time.monotonic()
    r = run_loop(start)
    check('cancel map_async: G_IO_ERROR_CANCELLED',
          isinstance(r, GLib.Error) and r.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
          describe(r))
    if 'cancel' in times and 'done' in times:
        # 60 tasks of 0.2 s on 2 workers take 6 s; cancelled after 0.5 s.
        check('cancel map_async: ends soon after the cancel',
              times['done'] - times['cancel'] < 1.5,
              '%.2f s after the cancel' % (times['done'] - times['cancel']))
    still_works('cancel map_async: next map works', pool)
    check('cancel map_async: whole test well under the uncancelled time',
          time.monotonic() - t0 < 4.0, '%.2f s' % (time.monotonic() - t0))

    # The blocking map takes a cancellable too: cancel it from another thread.
    cancellable = Gio.Cancellable()
    timer = threading.Timer(0.5, cancellable.cancel)
    timer.start()
    t0 = time.monotonic()
    expect_error('cancel blocking map from another thread: G_IO_ERROR_CANCELLED',
                 lambda: pool.map(slow_task, ax(range(60)), opts, cancellable),
                 lambda e: e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
                 'G_IO_ERROR_CANCELLED')
    timer.join()
    check('cancel blocking map: ends soon', time.monotonic() - t0 < 2.5,
          '%.2f s' % (time.monotonic() - t0))
    still_works('cancel blocking map: next map works', pool)

    # An already cancelled cancellable fails at once.
    expect_error('map with a cancelled cancellable: G_IO_ERROR_CANCELLED',
                 lambda: pool.map(square_task, ax(range(10)), None, cancellable),
                 lambda e: e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
                 'G_IO_ERROR_CANCELLED')
    still_works('after a cancelled map: next map works', pool)


def test_pool_busy(pool):
    it = pool.imap(square_task, ax(range(1000)), None)
    first = it.next(None)
    check('pool busy: imap started', first is not None and first.get_int64() == 0)
    expect_error('pool busy: map during imap fails with POOL_BUSY',
                 lambda: pool.map(square_task, ax(range(10)), None, None),
                 lambda e: is_mpire_error(e, Mpire.Error.POOL_BUSY), 'POOL_BUSY')
    expect_error('pool busy: imap during imap fails with POOL_BUSY',
                 lambda: pool.imap(square_task, ax(range(10)), None),
                 lambda e: is_mpire_error(e, Mpire.Error.POOL_BUSY), 'POOL_BUSY')
    rest = [v.get_int64() for v in iterate(it)]
    check('pool busy: the running imap is unharmed', rest == [i * i for i in range(1, 1000)])
    still_works('pool busy: map works once the imap is exhausted', pool)

    # Dropping an unfinished iterator frees the pool as well.
    it = pool.imap(square_task, ax(range(100000)), None)
    it.next(None)
    del it
    gc.collect()
    still_works('pool busy: map works after dropping an unfinished imap', pool)


def test_bad_input(pool):
    opts = Mpire.MapOptions.new()
    opts.props.progress_bar = True
    opts.props.progress_bar_style = 'rich'
    r = pool.map(square_task, ax(range(10)), opts, None)
    check('progress_bar_style rich: the map works (no terminal, so no bar)',
          r.unpack() == [i * i for i in range(10)], r)
    opts.props.progress_bar_style = 'notebook'
    expect_error('progress_bar_style notebook gives NOT_SUPPORTED',
                 lambda: pool.map(square_task, ax(range(3)), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.NOT_SUPPORTED), 'NOT_SUPPORTED')
    expect_error('bad input: non-array iterable gives INVALID_ARGUMENT',
                 lambda: pool.map(square_task, GLib.Variant('x', 3), None, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    expect_error('bad input: no iterable and no source gives INVALID_ARGUMENT',
                 lambda: pool.map(square_task, None, None, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    opts = Mpire.MapOptions.new()
    opts.set_source(lambda *unused: None)
    expect_error('bad input: both iterable and source gives INVALID_ARGUMENT',
                 lambda: pool.map(square_task, ax(range(3)), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(-2)
    expect_error('bad input: negative chunk_size gives INVALID_ARGUMENT',
                 lambda: pool.map(square_task, ax(range(3)), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    bad = make_pool(-1)
    expect_error('bad input: n_jobs -1 gives INVALID_ARGUMENT at map time',
                 lambda: bad.map(square_task, ax(range(3)), None, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    still_works('bad input: the pool still works', pool)


def test_signals(pool):
    progress, finished, failed = [], [], []
    handlers = [
        pool.connect('progress', lambda p, done, total: progress.append((done, total))),
        pool.connect('finished', lambda p: finished.append(len(progress))),
        pool.connect('task-failed', lambda p, e, args: failed.append((e.domain, e.code, args))),
    ]
    try:
        opts = Mpire.MapOptions.new()
        opts.set_chunk_size(100)
        pool.map(square_task, ax(range(5000)), opts, None)
        check('signals: progress is monotonic',
              all(a[0] <= b[0] for a, b in zip(progress, progress[1:])), progress)
        check('signals: progress ends at the total', progress[-1:] == [(5000, 5000)], progress[-3:])
        check('signals: finished once, after the last progress',
              finished == [len(progress)], (finished, len(progress)))
        del progress[:], finished[:]
        try:
            pool.map(fail_task, ax(range(20)), None, None)
        except GLib.Error:
            pass
        check('signals: task-failed carries the error and the arguments',
              len(failed) == 1 and failed[0][0] == 'my-domain' and failed[0][1] == 3 and
              failed[0][2] is not None and failed[0][2].unpack() == 7, failed)
        check('signals: finished once after a failure', finished == [len(progress)], finished)
    finally:
        for h in handlers:
            pool.disconnect(h)


def test_worker_signals_per_call(_pool):
    # Each call tells the start and end of its own workers before it
    # returns, a failed one too; a worker that exits with status 3 died,
    # even when it had been told to stop behind its last chunk.
    pool = new_pool()
    log = {'started': 0, 'exited': 0, 'died': 0}

    def count(what):
        def cb(*args):
            log[what] += 1
        return cb

    def take():
        counts = (log['started'], log['exited'], log['died'])
        log.update(started=0, exited=0, died=0)
        return counts

    for name in ('started', 'exited', 'died'):
        pool.connect('worker-' + name, count(name))
    for round in (1, 2):
        try:
            pool.map(fail_task, ax(range(100)), None, None)
        except GLib.Error:
            pass
        counts = take()
        check('worker signals %d: a failed call tells its 2 workers started and exited' % round,
              counts == (2, 2, 0), counts)
        still_works('worker signals %d: next map works' % round, pool)
        counts = take()
        check('worker signals %d: the next call tells only its own 2 workers' % round,
              counts == (2, 2, 0), counts)
    if start_method != Mpire.StartMethod.THREADING:
        opts = Mpire.MapOptions.new()
        opts.set_chunk_size(1)
        expect_error('worker signals: a worker exiting with status 3 fails the call',
                     lambda: pool.map(exit_on_three_task, ax([3]), opts, None),
                     lambda e: is_mpire_error(e, Mpire.Error.WORKER_DIED) and
                     'status 3' in e.message, 'WORKER_DIED naming status 3')
        counts = take()
        check('worker signals: a worker exiting with status 3 is told as died',
              counts == (2, 1, 1), counts)
        still_works('worker signals: map works after a death', pool)
        counts = take()
        check('worker signals: the call after a death tells only its own workers',
              counts == (2, 2, 0), counts)
    pool.terminate()
    check('worker signals: nothing left to tell at terminate', take() == (0, 0, 0))


def test_retry_runs_the_rest(pool):
    # retry-on-worker-death: a worker killed in the middle of a chunk has
    # only the tasks of the chunk whose results did not come run again.
    if start_method == Mpire.StartMethod.THREADING:
        return
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(10)
    opts.props.retry_on_worker_death = True
    with tempfile.TemporaryDirectory() as directory:
        for name, call in [('map', lambda i: pool.map(log_and_die_once_task, i, opts, None).unpack()),
                           ('imap', lambda i: [v.unpack() for v in
                                               iterate(pool.imap(log_and_die_once_task, i, opts))]),
                           ('imap_unordered',
                            lambda i: sorted(v.unpack() for v in
                                             iterate(pool.imap_unordered(log_and_die_once_task, i,
                                                                         opts))))]:
            for f in ('log', 'died'):
                if os.path.exists(os.path.join(directory, f)):
                    os.unlink(os.path.join(directory, f))
            r = call(GLib.Variant('a(xs)', [(n, directory) for n in range(30)]))
            check('retry %s: every result, in order' % name, r == [n * n for n in range(30)], r)
            with open(os.path.join(directory, 'log')) as f:
                runs = [int(line) for line in f]
            check('retry %s: the task that killed its worker ran twice, the others once' % name,
                  sorted(runs) == sorted(list(range(30)) + [5]), sorted(runs))
    still_works('retry: the pool still works', pool)


def test_task_timeout(pool):
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    opts.props.task_timeout = 0.3
    t0 = time.monotonic()
    expect_error('task_timeout: a task past its timeout gives TIMED_OUT',
                 lambda: pool.map(sleep_task, ax([1, 1, 3000, 1]), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.TIMED_OUT) and
                 'arguments 3000' in e.message, 'TIMED_OUT naming the arguments')
    check('task_timeout: the call fails soon after the timeout', time.monotonic() - t0 < 2.5,
          '%.2f s' % (time.monotonic() - t0))
    r = pool.map(sleep_task, ax([1, 2]), opts, None)
    check('task_timeout: tasks within it pass', r.unpack() == [True, True], r)
    opts.props.task_timeout = 0
    expect_error('task_timeout: 0 gives INVALID_ARGUMENT',
                 lambda: pool.map(square_task, ax(range(3)), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    still_works('task_timeout: the pool still works', pool)


def test_init_exit_timeouts(_pool):
    # A thread cannot be killed: it sleeps on, so keep it short there.
    ms = 600 if start_method == Mpire.StartMethod.THREADING else 3000
    pool = new_pool(shared_objects=GLib.Variant('a{sx}', {'ms': ms}))
    opts = Mpire.MapOptions.new()
    opts.props.worker_init = sleep_shared_task
    opts.props.worker_init_timeout = 0.2
    expect_error('worker_init_timeout: an init past it gives TIMED_OUT',
                 lambda: pool.map(square_task, ax(range(10)), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.TIMED_OUT) and
                 'worker_init' in e.message, 'TIMED_OUT naming worker_init')
    opts.props.worker_init = None
    opts.props.worker_exit = sleep_shared_task
    opts.props.worker_exit_timeout = 0.2
    expect_error('worker_exit_timeout: an exit past it gives TIMED_OUT',
                 lambda: pool.map(square_task, ax(range(10)), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.TIMED_OUT) and
                 'worker_exit' in e.message, 'TIMED_OUT naming worker_exit')
    opts.props.worker_exit_timeout = -3
    expect_error('worker_exit_timeout: -3 gives INVALID_ARGUMENT',
                 lambda: pool.map(square_task, ax(range(3)), opts, None),
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    still_works('init/exit timeouts: the pool still works', pool)


def test_failure_waits_for_threads(_pool):
    # A thread cannot be killed: a call that fails returns once its threads
    # are done with their tasks, and they begin no other.
    if start_method != Mpire.StartMethod.THREADING:
        return
    pool = make_pool(4)
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    expect_error('failed call on threads: the task’s error',
                 lambda: pool.map(tally_task, ax(range(40)), opts, None),
                 lambda e: e.domain == MY_DOMAIN and e.code == 3, '%s code 3' % MY_DOMAIN)
    with tally_lock:
        running, begun = tally['running'], tally['begun']
    check('failed call on threads: no task runs once it returned', running == 0,
          '%d running' % running)
    time.sleep(0.1)
    check('failed call on threads: no task begins after it returned', tally['begun'] == begun,
          '%d begun after' % (tally['begun'] - begun))
    still_works('failed call on threads: next map works', pool)
    del pool
    # The script ends right after such a call, without a join: once it
    # crashed (a task begun while Python was finalizing, a double unref).
    isolated('exit after a failed call on threads, pool alive', 'exit-after-failed-map', runs=6)
    isolated('exit after a timed-out call on threads, pool alive', 'exit-after-timed-out-map',
             runs=3)


kept_pools = []


def child_exit_after_failed_map(_pool):
    pool = make_pool(4)
    kept_pools.append(pool)
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    expect_error('failed map, then exit', lambda: pool.map(tally_task, ax(range(40)), opts, None),
                 lambda e: e.domain == MY_DOMAIN and e.code == 3, '%s code 3' % MY_DOMAIN)


def child_exit_after_timed_out_map(_pool):
    # The task past its timeout runs on while the script ends.
    pool = make_pool(4)
    kept_pools.append(pool)
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(2)
    opts.props.task_timeout = 0.3
    expect_error('timed-out map, then exit',
                 lambda: pool.map(sleep_task, ax([20, 20, 20, 20, 800, 20] + [20] * 20), opts,
                                  None),
                 lambda e: is_mpire_error(e, Mpire.Error.TIMED_OUT), 'TIMED_OUT')


def test_nested_pools(pool):
    # Worker processes of a daemon pool (the default) may not start pools;
    # worker threads may, whatever the daemon flag.
    if start_method != Mpire.StartMethod.THREADING:
        expect_error('nested pool in a daemon process: NOT_SUPPORTED',
                     lambda: pool.map(nested_task, GLib.Variant('a(xi)', [(3, int(start_method))]),
                                      None, None),
                     lambda e: is_mpire_error(e, Mpire.Error.NOT_SUPPORTED), 'NOT_SUPPORTED')
        return
    check('nested pools: daemon is the default', pool.props.daemon)
    for method in (Mpire.StartMethod.THREADING, Mpire.StartMethod.SPAWN,
                   Mpire.StartMethod.FORKSERVER):
        name = 'nested %s pools in a daemon threading pool' % method.value_nick
        try:
            r = pool.map(nested_task, GLib.Variant('a(xi)', [(3, int(method)), (4, int(method))]),
                         None, None)
            check(name, r.unpack() == [5, 14], r)
        except GLib.Error as e:
            check(name, False, describe(e))
    still_works('nested pools: the pool still works', pool)


def test_apply(pool):
    r = pool.apply(square_task, GLib.Variant('x', 9), None)
    check('apply: returns the result', r.unpack() == 81, r)
    settled = []
    results = []
    # The completed and failed signals are MPIRE's callback and
    # error_callback: they get the result or the error.
    for i in range(200):
        ar = pool.apply_async(fail_task if i % 3 == 0 else square_task, GLib.Variant('x', i % 10), None)
        ar.connect('completed', lambda a, v, i=i: settled.append((i, v.unpack())))
        ar.connect('failed', lambda a, e, i=i: settled.append((i, (e.domain, e.code))))
        results.append(ar)
    outcomes = []
    for i, ar in enumerate(results):
        try:
            outcomes.append(ar.get(-1).unpack())
        except GLib.Error as e:
            outcomes.append((e.domain, e.code))
    expected = [((MY_DOMAIN, 3) if i % 10 == 7 else i % 10) if i % 3 == 0 else (i % 10) ** 2
                for i in range(200)]
    check('apply_async: 200 tasks settle with the right outcomes', outcomes == expected)
    check('apply_async: each settles exactly once', len(settled) == 200, len(settled))
    check('apply_async: completed/failed carry the result or the error',
          sorted(settled) == list(enumerate(expected)))
    check('apply_async: successful()', results[1].successful() and not results[27].successful())
    opts = Mpire.MapOptions.new()
    opts.props.task_timeout = 0.3
    slow = pool.apply_async(sleep_task, GLib.Variant('x', 3000), opts)
    quick = pool.apply_async(sleep_task, GLib.Variant('x', 1), opts)
    expect_error('apply_async: a task past its timeout fails alone',
                 lambda: slow.get(-1),
                 lambda e: is_mpire_error(e, Mpire.Error.TIMED_OUT), 'TIMED_OUT')
    check('apply_async: the other task succeeds', quick.get(-1).unpack() is True)
    pending = pool.apply_async(sleep_task, GLib.Variant('x', 300), None)
    expect_error('apply_async: successful() before the task is done raises',
                 pending.successful,
                 lambda e: is_mpire_error(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT')
    # MPIRE's example: stop_and_join lets the tasks end, get() works after.
    results = [pool.apply_async(square_task, GLib.Variant('x', i), None) for i in range(20)]
    try:
        pool.stop_and_join()
        check('apply_async: stop_and_join waits for the tasks',
              pending.ready() and all(r.ready() for r in results) and pool.get_n_workers() == 0)
        check('apply_async: get() after stop_and_join',
              [r.get(0).unpack() for r in results] == [i * i for i in range(20)])
    except GLib.Error as e:
        check('apply_async: stop_and_join waits for the tasks', False, describe(e))
    # Where MPIRE deadlocks (get() once the pool is gone), a clear error.
    results = [pool.apply_async(sleep_task, GLib.Variant('x', 200), None) for i in range(4)]
    pool.terminate()
    for r in results:
        expect_error('apply_async: get() after terminate() fails',
                     lambda: r.get(10),
                     lambda e: is_mpire_error(e, Mpire.Error.POOL_TERMINATED), 'POOL_TERMINATED')
    still_works('apply: the pool still works', pool)


def test_worker_id():
    pool = new_pool(pass_worker_id=True)
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(2)
    ids = pool.map(worker_id_task, ax(range(40)), opts, None).unpack()
    check('pass_worker_id: ids in 0..n_jobs-1', set(ids) <= set(range(N_JOBS)), sorted(set(ids)))
    check('pass_worker_id: every worker ran tasks', set(ids) == set(range(N_JOBS)),
          sorted(set(ids)))
    pool = new_pool()
    ids = pool.map(worker_id_task, ax(range(4)), None, None).unpack()
    check('without pass_worker_id: id -1', ids == [-1] * 4, ids)


def test_shared_objects():
    pool = new_pool()
    pool.props.shared_objects = GLib.Variant('a{sx}', {'factor': 3, 'offset': 1000})
    check('shared_objects: property reads back',
          pool.props.shared_objects.unpack() == {'factor': 3, 'offset': 1000})
    try:
        r = pool.map(shared_task, ax(range(200)), None, None).unpack()
        check('shared_objects: seen by tasks', r == [3 * i + 1000 for i in range(200)])
    except GLib.Error as e:
        check('shared_objects: seen by tasks', False, describe(e))
    # Changing them restarts the workers with the new value.
    pool.props.shared_objects = GLib.Variant('a{sx}', {'factor': 1, 'offset': -5})
    r = pool.map(shared_task, ax(range(10)), None, None).unpack()
    check('shared_objects: new value after a change', r == [i - 5 for i in range(10)], r)


def test_worker_state():
    pool = new_pool(use_worker_state=True, keep_alive=True, pass_worker_id=True)
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(10)
    n1, n2 = 300, 200
    first = pool.map(count_task, ax(range(n1)), opts, None).unpack()
    second = pool.map(count_task, ax(range(n2)), opts, None).unpack()

    def per_worker(results):
        d = {}
        for wid, n in results:
            d.setdefault(wid, []).append(n)
        return d

    w1, w2 = per_worker(first), per_worker(second)
    check('worker state: worker ids valid', set(w1) | set(w2) <= set(range(N_JOBS)),
          sorted(set(w1) | set(w2)))
    ok = all(sorted(v) == list(range(1, len(v) + 1)) for v in w1.values())
    check('worker state: first map counts 1..k per worker', ok,
          {k: (min(v), max(v), len(v)) for k, v in w1.items()})
    ok = all(sorted(v) == list(range(len(w1.get(k, [])) + 1, len(w1.get(k, [])) + len(v) + 1))
             for k, v in w2.items())
    check('worker state: second map continues the counts (keep_alive)', ok,
          {k: (min(v), max(v), len(v)) for k, v in w2.items()})
    total = sum(max(w2.get(k, []) or w1.get(k, [0])) for k in set(w1) | set(w2))
    check('worker state: %d tasks counted in all' % (n1 + n2), total == n1 + n2, total)
    check('worker state: n_workers alive with keep_alive', pool.get_n_workers() == N_JOBS,
          pool.get_n_workers())
    try:
        pool.stop_and_join()
        check('worker state: stop_and_join', pool.get_n_workers() == 0, pool.get_n_workers())
    except GLib.Error as e:
        check('worker state: stop_and_join', False, describe(e))
    # After stop_and_join the workers start afresh: the state is new.
    third = pool.map(count_task, ax(range(20)), opts, None).unpack()
    w3 = per_worker(third)
    ok = all(sorted(v) == list(range(1, len(v) + 1)) for v in w3.values())
    check('worker state: new workers start with no state', ok,
          {k: (min(v), max(v), len(v)) for k, v in w3.items()})


def test_insights():
    pool = new_pool(enable_insights=True)
    check('insights: enable-insights reads back', pool.props.enable_insights and
          pool.get_enable_insights())
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    pool.map(sleep_task, ax([2, 2, 50, 2, 2, 2, 2]), opts, None)
    ins = pool.get_insights().unpack()
    check('insights: task counts add up', len(ins['n_completed_tasks']) == N_JOBS and
          sum(ins['n_completed_tasks']) == 7, ins['n_completed_tasks'])
    check('insights: the 50 ms task is the longest, with its arguments',
          ins['top_5_max_task_durations'][0] >= 0.05 and
          ins['top_5_max_task_args'][0] == 'Arg 0: 50',
          (ins['top_5_max_task_durations'], ins['top_5_max_task_args']))
    check('insights: working time holds the sleeps', ins['total_working_time'] >= 0.062,
          ins['total_working_time'])
    check('insights: ratios add up to 1',
          abs(sum(ins[p + '_ratio'] for p in ('start_up', 'init', 'waiting', 'working', 'exit'))
              - 1) < 1e-6)
    from_json = json.loads(pool.get_insights_json())
    check('insights: the JSON has the same keys and counts',
          set(from_json) == set(ins) and from_json['n_completed_tasks'] == ins['n_completed_tasks'],
          sorted(set(from_json) ^ set(ins)))
    text = pool.get_insights_string()
    check('insights: the table names the longest task', 'Arg 0: 50' in text, text)
    sys.stdout.flush()
    with tempfile.TemporaryFile(mode='w+') as out:
        saved = os.dup(1)
        os.dup2(out.fileno(), 1)
        try:
            pool.print_insights()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        out.seek(0)
        check('insights: print_insights prints the table', out.read() == text)
    off = new_pool()
    off.map(square_task, ax(range(10)), None, None)
    check('insights: off gives an empty dictionary', off.get_insights().unpack() == {} and
          off.get_insights_json() == '{}')


def test_worker_processes():
    # One process per task (worker_lifespan 1), each forked by the fork
    # server with forkserver, a child of this process otherwise.
    if start_method == Mpire.StartMethod.THREADING:
        return
    pool = new_pool()
    opts = Mpire.MapOptions.new()
    opts.set_chunk_size(1)
    opts.set_worker_lifespan(1)
    r = pool.map(pids_task, GLib.Variant('ax', range(12)), opts, None).unpack()
    workers = {pid for pid, _ in r}
    parents = {ppid for _, ppid in r}
    check('worker_lifespan 1: one worker process per task', len(workers) == 12, sorted(workers))
    if start_method == Mpire.StartMethod.FORKSERVER:
        server = parents.pop() if len(parents) == 1 else None
        check('forkserver: every worker forked by one server, not this process',
              server is not None and server != os.getpid(), parents)
        again = pool.map(pids_task, GLib.Variant('ax', range(4)), None, None).unpack()
        check('forkserver: the next call uses the same server',
              {ppid for _, ppid in again} == {server}, again)
        pool.join()
        try:
            os.kill(server, 0)
            gone = False
        except ProcessLookupError:
            gone = True
        check('forkserver: the server is gone after join', gone)
    else:
        check('workers are children of this process', parents == {os.getpid()}, parents)


class Watchdog:
    """Fails the test instead of hanging: after @seconds without a reset it
    prints where every thread is, kills this process's children (workers)
    and exits with status 1."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.what = 'start'
        self.timer = None

    def reset(self, what):
        self.what = what
        if self.timer is not None:
            self.timer.cancel()
        self.timer = threading.Timer(self.seconds, self.fire)
        self.timer.daemon = True
        self.timer.start()

    def cancel(self):
        if self.timer is not None:
            self.timer.cancel()

    def fire(self):
        print('FAILED %s: still running after %d s (hang); tracebacks follow' %
              (self.what, self.seconds), flush=True)
        faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
        sys.stdout.flush()
        for pid in children():
            print('# killing worker process %d' % pid, flush=True)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(1)


def children():
    me = os.getpid()
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces: split after it.
        fields = stat[stat.rindex(')') + 2:].split()
        if int(fields[1]) == me:
            pids.append(int(entry))
    return pids


def run_tests(tests, watchdog, *args):
    for test in tests:
        t0 = time.monotonic()
        watchdog.reset(test.__name__)
        try:
            test(*args)
        except Exception as e:
            check(test.__name__, False, 'unexpected %s\n%s' % (describe(e), traceback.format_exc()))
        print('#   %s: %.2f s' % (test.__name__, time.monotonic() - t0), flush=True)


CHILD_MODES = {
    'imap-error-chunk-start': child_imap_error_chunk_start,
    'exit-after-failed-map': child_exit_after_failed_map,
    'exit-after-timed-out-map': child_exit_after_timed_out_map,
}


def main():
    global start_method, launched
    methods = {
        'launched': Mpire.StartMethod.SPAWN,
        'fork': Mpire.StartMethod.FORK,
        'threading': Mpire.StartMethod.THREADING,
        'spawn': Mpire.StartMethod.SPAWN,
        'forkserver': Mpire.StartMethod.FORKSERVER,
    }
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in methods or \
       (len(sys.argv) == 3 and sys.argv[2] not in CHILD_MODES):
        print('usage: %s fork|threading|spawn|forkserver|launched' % sys.argv[0],
              file=sys.stderr)
        return 2
    start_method = methods[sys.argv[1]]
    launched = sys.argv[1] == 'launched'
    watchdog = Watchdog(60)
    t_all = time.monotonic()

    if len(sys.argv) == 3:
        # A child run by isolated(): one group of checks on a fresh pool.
        run_tests([CHILD_MODES[sys.argv[2]]], watchdog, new_pool())
    else:
        print('# mpire-glib Python test, start method %s, %d jobs' % (sys.argv[1], N_JOBS),
              flush=True)
        pool = new_pool()
        check('pool properties',
              pool.props.n_jobs == N_JOBS and pool.props.start_method == start_method and
              not pool.props.keep_alive and not pool.props.pass_worker_id and
              not pool.props.use_worker_state)
        if launched:
            check('worker-launcher property', list(pool.props.worker_launcher) == LAUNCHER and
                  pool.get_worker_launcher() == LAUNCHER)
        run_tests([
            test_map, test_map_unordered, test_imap, test_imap_unordered,
            test_tuple_args, test_kwargs, test_mixed, test_empty, test_array_chunks, test_utils,
            test_task_glib_error, test_task_value_error, test_task_not_a_variant,
            test_typed_tasks,
            test_lazy_source, test_endless_source, test_map_async, test_imap_async, test_imap_list,
            test_cancel, test_pool_busy, test_bad_input, test_signals,
            test_worker_signals_per_call, test_retry_runs_the_rest, test_task_timeout,
            test_init_exit_timeouts, test_failure_waits_for_threads, test_nested_pools, test_apply,
        ], watchdog, pool)
        run_tests([test_worker_id, test_shared_objects, test_worker_state, test_insights,
                   test_worker_processes], watchdog)
        watchdog.reset('disposing the pool')
        del pool
        gc.collect()

    watchdog.cancel()
    print('# %d failed check(s)%s, %.1f s' % (
        len(failures), (': ' + ', '.join(failures)) if failures else '',
        time.monotonic() - t_all), flush=True)
    return 1 if failures else 0


if __name__ == '__main__':
    Mpire.init(sys.argv)
    sys.exit(main())
