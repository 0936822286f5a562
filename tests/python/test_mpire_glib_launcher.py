#!/usr/bin/python3
# test_mpire_glib_launcher.py: mpire_glib.WorkerPool's worker_launcher,
# with launchers that need no network or cluster: `env NAME=VALUE`, which
# sets a variable and runs the worker, so each worker tells which
# launcher started it; and a shell that gives the worker a pipe as its
# standard output, as srun and sshd do. (The Slurm test, tests/slurm,
# uses srun.)
#
# Spawn workers import this file as __mp_main__: the tasks are at module
# level, the tests run only under `if __name__ == '__main__'`.
#
# SPDX-License-Identifier: MIT

import os
import sys
import unittest

from mpire_glib import WorkerPool


def launched_by(x):
    return x * x, os.environ.get('MPIRE_TEST_LAUNCHER', 'local')


def env_launcher(name):
    return ['env', 'MPIRE_TEST_LAUNCHER=' + name]


PIPE_LAUNCHER = ['sh', '-c', '"$0" "$@" | cat']


class WorkerLauncherTest(unittest.TestCase):

    def assert_map(self, pool, n, launchers):
        results = pool.map(launched_by, range(n))
        self.assertEqual([r[0] for r in results], [x * x for x in range(n)])
        self.assertEqual({r[1] for r in results}, set(launchers))

    def test_one_launcher(self):
        with WorkerPool(2, start_method='spawn', worker_launcher=env_launcher('one')) as pool:
            self.assert_map(pool, 1000, ['one'])

    def test_pipe_launcher(self):
        with WorkerPool(2, start_method='spawn', worker_launcher=PIPE_LAUNCHER) as pool:
            self.assert_map(pool, 1000, ['local'])

    def test_launcher_per_worker(self):
        # n_jobs: one worker per entry; order_tasks: each one gets chunks.
        with WorkerPool(start_method='spawn', order_tasks=True,
                        worker_launcher=[env_launcher('a'), env_launcher('b'), []]) as pool:
            self.assertEqual(pool.n_jobs, 3)
            self.assert_map(pool, 1000, ['a', 'b', 'local'])

    def test_wrong_launchers(self):
        with self.assertRaises(ValueError):
            WorkerPool(2, start_method='fork', worker_launcher=['env'])
        for wrong in ('srun --ntasks=1', [], ['env', ['env']], [['env'], 'env']):
            with self.subTest(wrong=wrong), self.assertRaises(TypeError):
                WorkerPool(2, start_method='spawn', worker_launcher=wrong)


if __name__ == '__main__':
    unittest.main(verbosity=2)
