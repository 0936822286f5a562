// test-pool.js: mpire-glib through GJS.
//
// Usage: gjs -m test-pool.js
//
// With the spawn start method this script is run again as each worker:
// everything before Mpire.init() (the imports and the Mpire.Task objects)
// runs in the workers too, and Mpire.init() never returns there. So all
// tasks are created first, and all test logic comes after Mpire.init().
//
// JavaScript runs only on its own thread: a threading pool must refuse JS
// tasks at once, a fork pool forks from the JS thread and works.
//
// Exits 0 when every check passed, 1 otherwise; prints one line per check.
// (An exception thrown in a GLib callback is only logged by GJS, so every
// failure is recorded and the exit status is set explicitly.)
//
// SPDX-License-Identifier: MIT

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mpire from 'gi://Mpire?version=1.0';
import System from 'system';

const N_JOBS = 2;

// ---- tasks (before Mpire.init: the spawn workers need them too) ---------

const squareTask = Mpire.Task.new('square',
    (ctx, args) => new GLib.Variant('x', args.get_int64() ** 2));

const failTask = Mpire.Task.new('js_fail', (ctx, args) => {
    if (args.get_int64() === 7)
        throw new GLib.Error(GLib.quark_from_string('js-domain'), 5, 'bad');
    return new GLib.Variant('x', args.get_int64());
});

const plainErrorTask = Mpire.Task.new('js_plain_error', (ctx, args) => {
    if (args.get_int64() === 3)
        throw new Error('plain JS error');
    return new GLib.Variant('x', args.get_int64());
});

// Allocates enough to make the JS engine collect garbage in the worker.
const allocTask = Mpire.Task.new('js_alloc', (ctx, args) => {
    let total = 0;
    for (let i = 0; i < 50; i++)
        total += Array.from({length: 10000}, (_, j) => ({j})).length;
    return new GLib.Variant('x', total + args.get_int64());
});

// A whole chunk of numbers at once (array-chunks).
const addFiveTask = Mpire.Task.new('js_add_five',
    (ctx, args) => new GLib.Variant('ad', args.deepUnpack().map(x => x + 5)));

const sleepTask = Mpire.Task.new('js_sleep_ms', (ctx, args) => {
    GLib.usleep(args.get_int64() * 1000);
    return new GLib.Variant('b', true);
});

const workerIdTask = Mpire.Task.new('js_worker_id',
    (ctx, args) => new GLib.Variant('i', ctx.get_worker_id()));

const napTask = Mpire.Task.new('js_nap', (ctx, args) => {
    GLib.usleep(args.get_int64() * 1000);
    return new GLib.Variant('b', true);
});

Mpire.init(ARGV);

// ---- harness --------------------------------------------------------------

const failures = [];

function check(name, ok, detail = '') {
    if (ok) {
        print(`ok     ${name}`);
    } else {
        print(`FAILED ${name}${detail ? `: ${detail}` : ''}`);
        failures.push(name);
    }
    return ok;
}

function describe(e) {
    if (e instanceof GLib.Error)
        return `GLib.Error(${GLib.quark_to_string(e.domain)}, ${e.code}, ${JSON.stringify(e.message)})`;
    return `${e}`;
}

function isMpireError(e, code) {
    return e instanceof GLib.Error && e.matches(Mpire.error_quark(), code);
}

// Runs func(), which must throw an error satisfying pred; returns it.
function expectError(name, func, pred, what) {
    let result;
    try {
        result = func();
    } catch (e) {
        return check(name, pred(e), `expected ${what}, got ${describe(e)}`) ? e : null;
    }
    check(name, false, `expected ${what}, got the result ${result}`);
    return null;
}

function range(n) {
    return Array.from({length: n}, (_, i) => i);
}

function ax(values) {
    return new GLib.Variant('ax', values);
}

function squares(n) {
    return range(n).map(i => i * i);
}

function sameArray(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sortedNumbers(a) {
    return [...a].sort((x, y) => x - y);
}

// Runs a main loop until start(done) calls done(value); returns value.
function runLoop(start, timeoutSeconds = 60) {
    const loop = new GLib.MainLoop(null, false);
    const box = {};
    const id = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, timeoutSeconds, () => {
        box.timedOut = true;
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    start(value => {
        box.value = value;
        box.done = true;
        loop.quit();
    });
    if (!box.done)
        loop.run();
    if (box.timedOut)
        throw new Error(`main loop timed out after ${timeoutSeconds} s`);
    GLib.source_remove(id);
    return box.value;
}

function stillWorks(name, pool) {
    try {
        const r = pool.map(squareTask, ax(range(500)), null, null);
        check(name, sameArray(r.deepUnpack(), squares(500)), 'wrong results');
    } catch (e) {
        check(name, false, describe(e));
    }
}

function runTest(name, func) {
    const t0 = GLib.get_monotonic_time();
    try {
        func();
    } catch (e) {
        check(name, false, `unexpected ${describe(e)}\n${e.stack ?? ''}`);
    }
    print(`#   ${name}: ${((GLib.get_monotonic_time() - t0) / 1e6).toFixed(2)} s`);
}

// ---- tests ----------------------------------------------------------------

function testMaps(pool, label) {
    const n = 10000;
    const r = pool.map(squareTask, ax(range(n)), null, null);
    check(`${label}: map result type ax`, r.get_type_string() === 'ax', r.get_type_string());
    check(`${label}: map of ${n} squares in order`, sameArray(r.deepUnpack(), squares(n)));

    const u = pool.map_unordered(squareTask, ax(range(n)), null, null);
    check(`${label}: map_unordered same multiset`,
        sameArray(sortedNumbers(u.deepUnpack()), squares(n)));

    const it = pool.imap(squareTask, ax(range(n)), null);
    const values = [];
    for (let v = it.next(null); v !== null; v = it.next(null))
        values.push(v.get_int64());
    check(`${label}: imap in order`, sameArray(values, squares(n)));
    check(`${label}: imap n_pulled`, it.get_n_pulled() === n, `${it.get_n_pulled()}`);
}

function testTaskErrors(pool, label) {
    const e = expectError(`${label}: GLib.Error from a JS task keeps domain and code`,
        () => pool.map(failTask, ax(range(50)), null, null),
        err => err instanceof GLib.Error &&
            err.matches(GLib.quark_from_string('js-domain'), 5),
        'js-domain code 5');
    if (e) {
        const m = /^bad \(task “js_fail”, worker (\d+), arguments 7\)$/.exec(e.message);
        check(`${label}: error message names task, worker and arguments`,
            m !== null && Number(m[1]) >= 0 && Number(m[1]) < N_JOBS, JSON.stringify(e.message));
    }
    stillWorks(`${label}: second map works after the task error`, pool);

    // GJS hands a plain JS exception on as an error of its own domain,
    // which comes back out of map() as a JS Error.
    let err = null;
    try {
        pool.map(plainErrorTask, ax(range(10)), null, null);
    } catch (e2) {
        err = e2;
    }
    check(`${label}: plain JS Error from a task fails the map`,
        err !== null && `${err.message}`.startsWith('plain JS error (task “js_plain_error”, worker '),
        err ? describe(err) : 'no error');
    stillWorks(`${label}: second map works after a plain JS Error`, pool);
}

function testMapAsync(pool, label) {
    const n = 10000;
    const r = runLoop(done => {
        pool.map_async(squareTask, ax(range(n)), null, null, (p, res) => {
            try {
                done(p.map_finish(res));
            } catch (e) {
                done(e);
            }
        });
    });
    if (r instanceof GLib.Variant)
        check(`${label}: map_async squares in order`, sameArray(r.deepUnpack(), squares(n)));
    else
        check(`${label}: map_async squares in order`, false, describe(r));

    // imap_async + next_async: results one by one without blocking.
    const values = runLoop(done => imapAll(pool, squareTask, ax(range(300)), null, done));
    check(`${label}: imap_async + next_async in order`,
        Array.isArray(values) && sameArray(values, squares(300)),
        Array.isArray(values) ? '' : describe(values));
}

// Runs a main loop until the result list made by startList() is complete;
// returns {list, changes, added, appended}.
function fillList(startList) {
    const log = {changes: 0, added: 0, appended: true};
    runLoop(done => {
        // Kept: dropping the list would stop its call.
        const list = log.list = startList();
        list.connect('items-changed', (model, position, removed, added) => {
            log.changes++;
            log.appended &&= removed === 0 && position === log.added;
            log.added += added;
        });
        list.connect('notify::complete', model => done(model));
        if (list.complete)
            done(list);
    });
    return log;
}

function testImapList(pool, label) {
    const n = 2000;
    const opts = Mpire.MapOptions.new();
    opts.set_chunk_size(50);
    let log = fillList(() => pool.imap_list(squareTask, ax(range(n)), opts, null));
    let items = range(log.list.get_n_items()).map(i => log.list.get_item(i));
    check(`${label}: imap_list is a Gio.ListModel of Mpire.Result`,
        log.list instanceof Gio.ListModel && log.list.get_item_type() === Mpire.Result.$gtype);
    check(`${label}: imap_list gives the squares in order, with their index`,
        sameArray(items.map(r => r.value.get_int64()), squares(n)) &&
        sameArray(items.map(r => r.get_index()), range(n)));
    check(`${label}: imap_list complete, no error, n-items`,
        log.list.complete && log.list.error === null && log.list.n_items === n);
    check(`${label}: imap_list items-changed appends, adds up to n, batched per chunk`,
        log.appended && log.added === n && log.changes >= 1 && log.changes <= n / 50,
        `${log.changes} emissions`);

    log = fillList(() => pool.imap_unordered_list(squareTask, ax(range(n)), null, null));
    items = range(log.list.get_n_items()).map(i => log.list.get_item(i));
    check(`${label}: imap_unordered_list has every task once, with its own result`,
        sameArray(sortedNumbers(items.map(r => r.get_index())), range(n)) &&
        items.every(r => r.get_value().get_int64() === r.get_index() ** 2) && log.appended);

    const one = Mpire.MapOptions.new();
    one.set_chunk_size(1);
    log = fillList(() => pool.imap_list(failTask, ax(range(20)), one, null));
    const values = range(log.list.get_n_items()).map(i => log.list.get_value(i).get_int64());
    const err = log.list.error;
    check(`${label}: imap_list, task 7 fails: the error, after the results before it`,
        log.list.complete && err instanceof GLib.Error && err.code === 5 &&
        sameArray(values, range(values.length)) && values.length <= 7,
        `${describe(err)} ${JSON.stringify(values)}`);
    stillWorks(`${label}: imap_list failed, next map works`, pool);

    const cancellable = new Gio.Cancellable();
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 500, () => {
        cancellable.cancel();
        return GLib.SOURCE_REMOVE;
    });
    const t0 = GLib.get_monotonic_time();
    log = fillList(() => pool.imap_list(sleepTask, ax(range(60).map(() => 200)), null, cancellable));
    const seconds = (GLib.get_monotonic_time() - t0) / 1e6;
    check(`${label}: imap_list cancelled: G_IO_ERROR_CANCELLED, soon, partial`,
        log.list.error?.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED) &&
        seconds < 4 && log.list.get_n_items() < 60,
        `${describe(log.list.error)} after ${seconds.toFixed(2)} s`);
    stillWorks(`${label}: imap_list cancelled, next map works`, pool);
}

function testMisc(pool, label) {
    expectError(`${label}: non-array input gives INVALID_ARGUMENT`,
        () => pool.map(squareTask, new GLib.Variant('x', 3), null, null),
        e => isMpireError(e, Mpire.Error.INVALID_ARGUMENT), 'INVALID_ARGUMENT');

    const it = pool.imap(squareTask, ax(range(1000)), null);
    const first = it.next(null);
    check(`${label}: imap started`, first !== null && first.get_int64() === 0);
    expectError(`${label}: map during an imap gives POOL_BUSY`,
        () => pool.map(squareTask, ax(range(10)), null, null),
        e => isMpireError(e, Mpire.Error.POOL_BUSY), 'POOL_BUSY');
    let count = 1;
    while (it.next(null) !== null)
        count++;
    check(`${label}: the running imap is unharmed`, count === 1000, `${count}`);
    stillWorks(`${label}: map works once the imap is exhausted`, pool);

    const progress = [];
    let finished = 0;
    const handlers = [
        pool.connect('progress', (p, done, total) => progress.push([done, total])),
        pool.connect('finished', () => finished++),
    ];
    const opts = Mpire.MapOptions.new();
    opts.set_chunk_size(100);
    pool.map(squareTask, ax(range(3000)), opts, null);
    handlers.forEach(h => pool.disconnect(h));
    check(`${label}: progress is monotonic and ends at the total`,
        progress.length > 0 && progress.every((p, i) => i === 0 || progress[i - 1][0] <= p[0]) &&
        progress[progress.length - 1][0] === 3000 && progress[progress.length - 1][1] === 3000,
        JSON.stringify(progress.slice(-3)));
    check(`${label}: finished fires once`, finished === 1, `${finished}`);

    const idPool = Mpire.WorkerPool.new(N_JOBS, pool.start_method);
    idPool.pass_worker_id = true;
    const ids = idPool.map(workerIdTask, ax(range(40)), null, null).deepUnpack();
    check(`${label}: pass_worker_id gives ids in 0..n_jobs-1`,
        ids.length === 40 && ids.every(i => i >= 0 && i < N_JOBS), JSON.stringify(ids));
}

// apply_async: MPIRE's callback and error_callback are the completed and
// failed signals; stop_and_join lets the tasks end, get() works after it.
function testApply(pool, label) {
    const settled = [];
    const results = [5, 7, 9].map(x => {
        const r = pool.apply_async(failTask, new GLib.Variant('x', x), null);
        r.connect('completed', (_r, v) => settled.push(v.get_int64()));
        r.connect('failed', (_r, e) => settled.push(e.message));
        return r;
    });
    try {
        pool.stop_and_join();
        check(`${label}: apply_async tasks end before stop_and_join returns`,
            results.every(r => r.ready()) && pool.get_n_workers() === 0);
    } catch (e) {
        check(`${label}: apply_async tasks end before stop_and_join returns`, false, describe(e));
    }
    check(`${label}: apply_async completed/failed carry the value or the error`,
        settled.length === 3 && settled.includes(5) && settled.includes(9) &&
        settled.some(m => typeof m === 'string' && m.startsWith('bad')), JSON.stringify(settled));
    check(`${label}: get() after stop_and_join`, results[2].get(0).get_int64() === 9);
    expectError(`${label}: get() of a failed task throws its error`, () => results[1].get(0),
        e => e.matches(GLib.quark_from_string('js-domain'), 5), 'js-domain 5');
}

function testSpawn() {
    const pool = Mpire.WorkerPool.new(N_JOBS, Mpire.StartMethod.SPAWN);
    testMaps(pool, 'spawn');
    testTaskErrors(pool, 'spawn');
    testMapAsync(pool, 'spawn');
    testImapList(pool, 'spawn');
    testMisc(pool, 'spawn');
    testArrayChunks(pool, 'spawn');
    testApply(pool, 'spawn');

    // A task that makes the engine collect garbage.
    const r = pool.map(allocTask, ax(range(4)), null, null);
    check('spawn: a JS task that collects garbage finishes',
        sameArray(r.deepUnpack(), range(4).map(i => 500000 + i)), JSON.stringify(r.deepUnpack()));
}

function testArrayChunks(pool, label) {
    const opts = Mpire.MapOptions.new();
    opts.array_chunks = true;
    opts.row_width = 2;
    opts.chunk_size = 3;
    const flat = range(20).map(i => i + 0.5);
    const r = pool.map(addFiveTask, new GLib.Variant('ad', flat), opts, null);
    check(`${label}: array_chunks joins the chunks into one ad`,
        r.get_type_string() === 'ad' && sameArray(r.deepUnpack(), flat.map(x => x + 5)),
        `${r.get_type_string()} ${JSON.stringify(r.deepUnpack())}`);
}

function testUtils() {
    const chunks = Mpire.chunk_tasks(ax(range(10)), -1, 0, 3);
    check('chunk_tasks: 3 splits as MPIRE',
        JSON.stringify(chunks.deepUnpack()) === '[[0,1,2,3],[4,5,6],[7,8,9]]',
        JSON.stringify(chunks.deepUnpack()));
    const single = Mpire.make_single_arguments(ax(range(2)));
    check('make_single_arguments: one-element tuples',
        single.get_type_string() === 'a(x)' && JSON.stringify(single.deepUnpack()) === '[[0],[1]]',
        `${single.get_type_string()} ${JSON.stringify(single.deepUnpack())}`);
}

function testThreading() {
    const pool = Mpire.WorkerPool.new(N_JOBS, Mpire.StartMethod.THREADING);
    let t0 = GLib.get_monotonic_time();
    expectError('threading: map of a JS task fails with NOT_SUPPORTED',
        () => pool.map(squareTask, ax(range(100)), null, null),
        e => isMpireError(e, Mpire.Error.NOT_SUPPORTED), 'NOT_SUPPORTED');
    let seconds = (GLib.get_monotonic_time() - t0) / 1e6;
    check('threading: refused at once', seconds < 2, `${seconds.toFixed(2)} s`);
    check('threading: no worker was started', pool.get_n_workers() === 0, `${pool.get_n_workers()}`);

    expectError('threading: imap of a JS task fails with NOT_SUPPORTED',
        () => pool.imap(squareTask, ax(range(100)), null),
        e => isMpireError(e, Mpire.Error.NOT_SUPPORTED), 'NOT_SUPPORTED');

    t0 = GLib.get_monotonic_time();
    const r = runLoop(done => {
        pool.map_async(squareTask, ax(range(100)), null, null, (p, res) => {
            try {
                done(p.map_finish(res));
            } catch (e) {
                done(e);
            }
        });
    }, 20);
    seconds = (GLib.get_monotonic_time() - t0) / 1e6;
    check('threading: map_async of a JS task fails with NOT_SUPPORTED',
        isMpireError(r, Mpire.Error.NOT_SUPPORTED), describe(r));
    check('threading: map_async refused at once', seconds < 2, `${seconds.toFixed(2)} s`);
}

// Worker insights read through GI: the a{sv} and its JSON form.
function testInsights() {
    const pool = Mpire.WorkerPool.new(N_JOBS, Mpire.StartMethod.SPAWN);
    pool.enable_insights = true;
    check('insights: enable-insights reads back', pool.get_enable_insights());
    const opts = Mpire.MapOptions.new();
    opts.set_chunk_size(1);
    pool.map(napTask, ax([2, 2, 50, 2, 2]), opts, null);

    const ins = pool.get_insights().recursiveUnpack();
    const counts = ins['n_completed_tasks'].map(Number);
    check('insights: task counts add up',
        counts.length === N_JOBS && counts.reduce((a, b) => a + b, 0) === 5, JSON.stringify(counts));
    check('insights: the 50 ms task is the longest, with its arguments',
        ins['top_5_max_task_durations'][0] >= 0.05 && ins['top_5_max_task_args'][0] === 'Arg 0: 50',
        JSON.stringify([ins['top_5_max_task_durations'], ins['top_5_max_task_args']]));
    check('insights: working time holds the sleeps', ins['total_working_time'] >= 0.058,
        `${ins['total_working_time']}`);

    const fromJson = JSON.parse(pool.get_insights_json());
    check('insights: the JSON has the same keys',
        sameArray(Object.keys(fromJson).sort(), Object.keys(ins).sort()),
        JSON.stringify(Object.keys(fromJson)));
    check('insights: the table names the longest task',
        pool.get_insights_string().includes('Arg 0: 50'));

    const off = Mpire.WorkerPool.new(N_JOBS, Mpire.StartMethod.SPAWN);
    off.map(squareTask, ax(range(10)), null, null);
    check('insights: off gives an empty dictionary',
        off.get_insights().n_children() === 0 && off.get_insights_json() === '{}');
}

// Runs one asynchronous call in a main loop: start(cancellable, done)
// starts it and done(value) ends it. A call still running after
// timeoutSeconds is cancelled (which kills its workers) and reported as
// hung. Returns {value, timedOut, seconds}.
function runCall(start, timeoutSeconds) {
    const cancellable = new Gio.Cancellable();
    const loop = new GLib.MainLoop(null, false);
    const box = {timedOut: false, done: false};
    const t0 = GLib.get_monotonic_time();
    const soft = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, timeoutSeconds, () => {
        box.timedOut = true;
        cancellable.cancel();
        return GLib.SOURCE_REMOVE;
    });
    // In case cancelling does not end the call either.
    const hard = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, timeoutSeconds + 15, () => {
        box.value = new Error('the call did not end after it was cancelled');
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    start(cancellable, value => {
        if (box.done)
            return;
        box.done = true;
        box.value = value;
        loop.quit();
    });
    if (!box.done)
        loop.run();
    if (!box.timedOut)
        GLib.source_remove(soft);
    if (box.done)
        GLib.source_remove(hard);
    box.seconds = (GLib.get_monotonic_time() - t0) / 1e6;
    return box;
}

// An AsyncReadyCallback that finishes with p[finishName] and calls done.
function finisher(done, finishName) {
    return (p, res) => {
        try {
            done(p[finishName](res));
        } catch (e) {
            done(e);
        }
    };
}

// Collects every result of an imap_async call, then calls done.
function imapAll(pool, task, input, cancellable, done) {
    const got = [];
    const onNext = (it, res) => {
        let v;
        try {
            v = it.next_finish(res);
        } catch (e) {
            done(e);
            return;
        }
        if (v === null) {
            done(got);
            return;
        }
        got.push(v.get_int64());
        it.next_async(cancellable, onNext);
    };
    pool.imap_async(task, input, null, cancellable, (p, res) => {
        try {
            p.imap_finish(res).next_async(cancellable, onNext);
        } catch (e) {
            done(e);
        }
    });
}

// FORK and FORKSERVER: a forked copy of the JS engine can deadlock on the
// locks of its helper threads (seen: a worker stuck for ever after a
// garbage collection), and a fork server running this script has those
// threads too, so both refuse JS tasks at once, without starting a worker
// (or a server). The call is asynchronous and guarded by a timeout, so
// that a regression fails the check instead of hanging the test.
function testForked(label, method) {
    const pool = Mpire.WorkerPool.new(N_JOBS, method);

    for (const [name, start] of [
        ['map', (c, done) => pool.map_async(squareTask, ax(range(10)), null, c,
            finisher(done, 'map_finish'))],
        ['imap', (c, done) => imapAll(pool, squareTask, ax(range(10)), c, done)],
    ]) {
        const call = runCall(start, 10);
        check(`${label}: ${name} of a JS task is refused with NOT_SUPPORTED`,
            isMpireError(call.value, Mpire.Error.NOT_SUPPORTED) &&
            call.value.message.includes(`a ${label} pool`), describe(call.value));
        check(`${label}: ${name} is refused at once`, call.seconds < 2,
            `${call.seconds.toFixed(2)} s`);
    }
    check(`${label}: no worker was started`, pool.get_n_workers() === 0,
        `${pool.get_n_workers()} workers`);
}

const t0 = GLib.get_monotonic_time();
print(`# mpire-glib GJS test, ${N_JOBS} jobs`);
runTest('utils', testUtils);
runTest('spawn', testSpawn);
runTest('threading', testThreading);
runTest('fork', () => testForked('fork', Mpire.StartMethod.FORK));
runTest('forkserver', () => testForked('forkserver', Mpire.StartMethod.FORKSERVER));
runTest('insights', testInsights);
print(`# ${failures.length} failed check(s)${failures.length ? `: ${failures.join(', ')}` : ''}, ` +
    `${((GLib.get_monotonic_time() - t0) / 1e6).toFixed(1)} s`);
System.exit(failures.length ? 1 : 0);
