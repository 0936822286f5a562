// test-overrides.js: the GJS overrides (gjs/overrides/Mpire.js).
//
// Usage: GJS_PATH=SRCDIR/gjs gjs -m test-overrides.js
//
// Spawned workers run this script again: the tasks are made before
// Mpire.init(), all checks after it. Exits 0 when every check passed;
// prints one line per check.
//
// SPDX-License-Identifier: MIT

import GLib from 'gi://GLib';
import Mpire from 'gi://Mpire?version=1.0';
import System from 'system';

// Plain values in and out: no GLib.Variant in the task.
const plainSquare = Mpire.Task.new('plain_square', (ctx, args) => {
    const x = args.unpack();
    return typeof x === 'number' ? x * x : `${x}${x}`;
});
const describeTask = Mpire.Task.new('describe', (ctx, args) => {
    const x = args.deepUnpack();
    if (x === 0)
        return null;
    return {value: x, even: x % 2 === 0, parts: [x, x + 0.5]};
});
const addTask = Mpire.Task.new('add', (ctx, args) => {
    const [a, b] = args.deepUnpack();
    return a + b;
});

const sharedPlus = Mpire.Task.new('shared_plus', (ctx, args) =>
    ctx.get_shared_objects().deepUnpack()[0] + args.unpack());
const remember = Mpire.Task.new('remember', (ctx, args) => {
    ctx.set_state({seen: args.unpack()});
    return ctx.get_state().recursiveUnpack().seen;
});

Mpire.init(ARGV);

let failures = 0;
function check(what, ok, detail = '') {
    print(`${ok ? 'ok' : 'not ok'} - ${what}${ok || !detail ? '' : ` (${detail})`}`);
    if (!ok)
        failures++;
}

function thrown(func) {
    try {
        func();
    } catch (e) {
        return e;
    }
    return null;
}

function sameArray(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
}

const range = n => Array.from({length: n}, (_, i) => i);
const pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.SPAWN);
pool.keep_alive = true;

// Arrays of every kind of element, with options and cancellable left out.
const squares = pool.map(plainSquare, range(100)).deepUnpack();
check('a plain array of whole numbers maps', sameArray(squares, range(100).map(x => x * x)),
    `${squares.slice(0, 5)}`);
check('a typed array maps', sameArray(pool.map(plainSquare, new Int32Array([3, 4])).deepUnpack(),
    [9, 16]));
check('an array of doubles maps',
    sameArray(pool.map(plainSquare, [0.5, 1.5]).deepUnpack(), [0.25, 2.25]));
check('an array of strings maps',
    sameArray(pool.map(plainSquare, ['a', 'bc']).deepUnpack(), ['aa', 'bcbc']));
check('an array of tuples is unpacked by the task',
    sameArray(pool.map(addTask, [[1, 2], [3, 4]]).deepUnpack(), [3, 7]));
check('unordered map of a plain array',
    sameArray(pool.map_unordered(plainSquare, range(20)).deepUnpack().sort((a, b) => a - b),
        range(20).map(x => x * x)));

// Plain values returned by a task, null included.
const described = pool.map(describeTask, [0, 3]).recursiveUnpack();
check('a task returning null gives a nothing', described[0] === null, `${described[0]}`);
check('a task returning an object gives a dictionary',
    described[1].value === 3 && described[1].even === false &&
    sameArray(described[1].parts, [3, 3.5]), JSON.stringify(described[1]));

// Clear errors for what is neither an array nor a GLib.Variant.
for (const [label, input, named] of [
    ['a number', 42, 'a number'],
    ['a string', 'abc', 'a string'],
    ['an object', {a: 1}, 'a plain object'],
    ['a Map', new Map(), 'an instance of Map'],
    ['undefined', undefined, 'undefined'],
]) {
    const err = thrown(() => pool.map(plainSquare, input));
    check(`map refuses ${label} with a TypeError naming it`,
        err instanceof TypeError && err.message.includes('Mpire.WorkerPool.map()') &&
        err.message.includes('a GLib.Variant, a JavaScript array or null') && err.message.endsWith(named),
        `${err}`);
}
const iterErr = thrown(() => pool.imap(plainSquare, 7));
check('imap refuses a number', iterErr instanceof TypeError &&
    iterErr.message.includes('Mpire.WorkerPool.imap()'), `${iterErr}`);
const taskErr = thrown(() => Mpire.Task.new('no_func', 3));
check('Task.new refuses a non-function', taskErr instanceof TypeError &&
    taskErr.message.includes('“no_func”'), `${taskErr}`);

// Iteration and apply with plain arguments.
const iterated = [];
for (const value of pool.imap(plainSquare, range(10)))
    iterated.push(value.unpack());
check('for…of over imap gives the results in order',
    sameArray(iterated, range(10).map(x => x * x)), `${iterated}`);
check('apply takes plain arguments', pool.apply(addTask, [20, 22]).unpack() === 42);
check('apply_async takes plain arguments',
    pool.apply_async(addTask, [1, 1]).get(-1).unpack() === 2);
const nullErr = thrown(() => pool.map(plainSquare, null));
check('null without a lazy source gets the library\'s error',
    nullErr instanceof GLib.Error && nullErr.matches(Mpire.error_quark(), Mpire.Error.INVALID_ARGUMENT),
    `${nullErr}`);
check('a GLib.Variant input still works',
    sameArray(pool.map(plainSquare, new GLib.Variant('ax', [5])).deepUnpack(), [25]));

// Plain values for the other GLib.Variant arguments.
pool.set_shared_objects([100, 200]);
pool.use_worker_state = true;
check('plain shared objects', sameArray(pool.map(sharedPlus, [1, 2]).deepUnpack(), [101, 102]));
check('a plain object as worker state',
    sameArray(pool.map(remember, [5, 6]).deepUnpack(), [5, 6]));
pool.set_shared_objects(null);
pool.use_worker_state = false;
const options = new Mpire.MapOptions();
options.set_progress_bar_options({desc: 'plain'});
options.set_progress_bar_options(null);
check('chunk_tasks of a plain array', JSON.stringify(
    Mpire.chunk_tasks([1, 2, 3, 4, 5], -1, 2, 0).deepUnpack()) === '[[1,2],[3,4],[5]]');
check('make_single_arguments of a plain array', JSON.stringify(
    Mpire.make_single_arguments(['a', 'b']).recursiveUnpack()) === '[["a"],["b"]]');
const chunkErr = thrown(() => Mpire.chunk_tasks(5, -1, 2, 0));
check('chunk_tasks refuses a number', chunkErr instanceof TypeError &&
    chunkErr.message.startsWith('Mpire.chunk_tasks(): the input must be'), `${chunkErr}`);

// Promises from the *_async methods.
const loop = new GLib.MainLoop(null, false);
(async () => {
    try {
        const result = await pool.map_async(plainSquare, range(50));
        check('await map_async of a plain array',
            sameArray(result.deepUnpack(), range(50).map(x => x * x)));
        const iter = await pool.imap_async(plainSquare, [6, 7]);
        const first = await iter.next_async(null);
        check('await imap_async then next_async', first.unpack() === 36);
        let rejected = null;
        try {
            await pool.map_async(plainSquare, 5);
        } catch (e) {
            rejected = e;
        }
        check('map_async refuses a number', rejected instanceof TypeError, `${rejected}`);
    } catch (e) {
        check('the async checks ran', false, `${e}`);
    } finally {
        loop.quit();
    }
})();
loop.run();

pool.terminate();
print(`${failures} failed`);
System.exit(failures === 0 ? 0 : 1);
