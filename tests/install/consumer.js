// A GJS script using the installed mpire-glib through its typelib:
// squares on spawned workers (this script run again as each worker).
//
// SPDX-License-Identifier: MIT

import GLib from 'gi://GLib';
import Mpire from 'gi://Mpire?version=1.0';
import System from 'system';

const square = Mpire.Task.new('square',
    (ctx, args) => new GLib.Variant('x', args.get_int64() ** 2));
Mpire.init(ARGV);

const pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.SPAWN);
const squares = pool.map(square, new GLib.Variant('ax', [1, 2, 3, 4]), null, null).deepUnpack();
print(`gjs: ${squares}`);
System.exit(squares.join(',') === '1,4,9,16' ? 0 : 1);
