# A Python script using the installed mpire_glib package (MPIRE's API) and
# the installed Mpire overrides: squares on a fork and a spawn pool.
#
# SPDX-License-Identifier: MIT

import sys

import mpire_glib as mpire


def square(x):
    return x * x


if __name__ == '__main__':
    ok = True
    for method in ('fork', 'spawn'):
        with mpire.WorkerPool(n_jobs=2, start_method=method) as pool:
            squares = pool.map(square, range(1, 5))
        print('mpire_glib %s:' % method, squares)
        ok = ok and squares == [1, 4, 9, 16]

    from gi.repository import Mpire
    with Mpire.WorkerPool.new(2, Mpire.StartMethod.THREADING) as pool:
        task = Mpire.Task.new('plain_square', lambda ctx, args: args.unpack() ** 2)
        values = [v.unpack() for v in pool.imap(task, [1, 2, 3])]
    print('overrides:', values)
    ok = ok and values == [1, 4, 9]
    sys.exit(0 if ok else 1)
