// map-async.js: map_async awaited in GJS
//
// Usage: gjs -m map-async.js [N_TASKS]
//
// The task is JavaScript, so the workers are spawned: each runs this
// script again, and everything before Mpire.init() (the imports, the
// task) runs in them too; Mpire.init() does not return in a worker.
//
// SPDX-License-Identifier: MIT

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Mpire from 'gi://Mpire?version=1.0';
import System from 'system';

const double = Mpire.Task.new('double',
    (ctx, args) => new GLib.Variant('x', args.get_int64() * 2));
Mpire.init(ARGV);

// map_async()/map_finish() as a promise.
Gio._promisify(Mpire.WorkerPool.prototype, 'map_async', 'map_finish');

const n = ARGV.length > 0 ? Number.parseInt(ARGV[0], 10) : 100;
if (!Number.isInteger(n) || n < 1) {
    printerr('Usage: gjs -m map-async.js [N_TASKS], N_TASKS a positive whole number');
    System.exit(2);
}

const loop = new GLib.MainLoop(null, false);
const pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.SPAWN);
let status = 0;
pool.connect('progress', (_pool, done, total) => {
    if (done === total)
        print(`progress: ${done}/${total}`);
});

(async () => {
    try {
        const input = new GLib.Variant('ax', Array.from({length: n}, (_, i) => i));
        const doubled = (await pool.map_async(double, input, null, null)).deepUnpack();
        print(`${doubled.length} results, sum ${doubled.reduce((a, b) => a + b, 0)}`);
    } catch (e) {
        printerr(`map failed: ${e.message}`);
        status = 1;
    } finally {
        loop.quit();
    }
})();

loop.run();
System.exit(status);
