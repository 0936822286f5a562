// A GJS script using the installed mpire-glib and its GJS overrides:
// plain arrays in, plain numbers out, on spawned workers.
//
// SPDX-License-Identifier: MIT

import Mpire from 'gi://Mpire?version=1.0';
import System from 'system';

const square = Mpire.Task.new('square', (ctx, args) => args.unpack() ** 2);
Mpire.init(ARGV);

const pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.SPAWN);
const squares = pool.map(square, [1, 2, 3, 4]).deepUnpack();
print(`gjs with overrides: ${squares}`);
System.exit(squares.join(',') === '1,4,9,16' ? 0 : 1);
