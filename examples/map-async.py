#!/usr/bin/python3
# map-async.py: map_async in a GLib main loop, from Python
#
# Usage: /usr/bin/python3 examples/map-async.py [N_TASKS]
# (from a build: GI_TYPELIB_PATH=BUILD/mpire-glib LD_LIBRARY_PATH=BUILD/mpire-glib)
#
# The task is Python, so the workers are spawned: each runs this script
# again, and everything before Mpire.init() (the imports, the task) runs
# in them too; Mpire.init() does not return in a worker.
#
# map_async() is given a callback, which calls map_finish(). PyGObject
# 3.42 (Debian 12) cannot `await` a GIO-style async function: called
# without a callback, map_async() returns None. PyGObject 3.50 added
# asyncio support (experimental there, and not tried here): with the
# event loop policy gi.events.GLibEventLoopPolicy, an async function
# called without its callback returns an awaitable, so
# `await pool.map_async(double_task, data, None, None)` would replace
# the callback and the main loop below.
#
# SPDX-License-Identifier: MIT

import sys

import gi
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire  # noqa: E402

# Tasks are created before Mpire.init(): spawned workers run this script
# again and look them up by name.
double_task = Mpire.Task.new('double', lambda ctx, x: GLib.Variant('x', x.get_int64() * 2))


def main(argv):
    try:
        n = int(argv[1]) if len(argv) > 1 else 100
        if n < 1 or len(argv) > 2:
            raise ValueError
    except ValueError:
        print('Usage: %s [N_TASKS], N_TASKS a positive whole number' % argv[0], file=sys.stderr)
        return 2

    loop = GLib.MainLoop()
    pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.SPAWN)
    outcome = {'status': 1}

    def on_progress(_pool, done, total):
        if done == total:
            print('progress: %d/%d' % (done, total))

    # Runs in this loop once the call is over, never inside map_async().
    def on_mapped(pool, result):
        try:
            doubled = pool.map_finish(result).unpack()
            print('%d results, sum %d' % (len(doubled), sum(doubled)))
            outcome['status'] = 0
        except GLib.Error as e:
            print('map failed: %s' % e.message, file=sys.stderr)
        finally:
            loop.quit()

    pool.connect('progress', on_progress)
    pool.map_async(double_task, GLib.Variant('ax', range(n)), None, None, on_mapped)
    loop.run()
    return outcome['status']


if __name__ == '__main__':
    Mpire.init(sys.argv)
    sys.exit(main(sys.argv))
