# A Python script using the installed mpire-glib through its typelib:
# squares on a threading pool.
#
# SPDX-License-Identifier: MIT

import sys

import gi
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire

square = Mpire.Task.new('square', lambda ctx, args: GLib.Variant('x', args.get_int64() ** 2))
Mpire.init(sys.argv)

pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.THREADING)
squares = pool.map(square, GLib.Variant('ax', [1, 2, 3, 4]), None, None).unpack()
print('python:', squares)
sys.exit(0 if squares == [1, 4, 9, 16] else 1)
