#!/usr/bin/python3
# test_mpire_glib_semantics.py: where mpire_glib's chunks of tasks must
# not show: task timeouts, per-task counts, apply callbacks, as MPIRE
# documents them. On one start method.
#
# Usage: test_mpire_glib_semantics.py fork|threading|spawn|forkserver [unittest args]
#
# Spawn and forkserver workers import this file as __mp_main__, so what
# the workers run is at module level.
#
# SPDX-License-Identifier: MIT

import contextlib
import io
import os
import signal
import sys
import threading
import time
import unittest

from mpire_glib import WorkerPool

START_METHOD = 'fork'
N_JOBS = 2
# Long enough that a timed-out task is never mistaken for a finished one
# on a busy machine; the tests wait for it only when something is wrong.
LONG = 30.0
# A threading pool waits for its threads at the end, and a thread runs
# on past its timeout: there these take a few seconds only.
SLOW_LIFECYCLE = LONG


def square(x):
    return x * x


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds


def worker_of(worker_id, x):
    return worker_id


def pid_of(x):
    return os.getpid()


def deaf_sleep(seconds):
    # The timer signal cannot interrupt this task (as a C call that does
    # not return to Python): only the engine's backstop stops it.
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
    time.sleep(seconds)
    return seconds


def slow_init():
    time.sleep(SLOW_LIFECYCLE)


def slow_exit():
    time.sleep(SLOW_LIFECYCLE)


class PoolTestCase(unittest.TestCase):

    def pool(self, **kwargs):
        kwargs.setdefault('n_jobs', N_JOBS)
        kwargs.setdefault('start_method', START_METHOD)
        return WorkerPool(**kwargs)

    def skip_on_threading(self, why):
        if START_METHOD == 'threading':
            self.skipTest(why)


class TestTimeouts(PoolTestCase):

    def test_task_timeout_names_the_task(self):
        with self.pool() as pool:
            with self.assertRaises(TimeoutError) as caught:
                pool.map(sleep_for, [0.01] * 6 + [LONG] + [0.01] * 6, chunk_size=4,
                         task_timeout=0.5)
            text = str(caught.exception) + str(caught.exception.__cause__)
            self.assertIn('0.5', text)
            if START_METHOD != 'threading':
                # MPIRE's message, and the task's arguments
                self.assertRegex(str(caught.exception), r'^Worker-\d task timed out')
                self.assertIn('following arguments:\n%r' % LONG, text)
            # The pool is usable afterwards.
            self.assertEqual(pool.map(square, range(5), task_timeout=LONG), [0, 1, 4, 9, 16])

    def test_task_timeout_keeps_the_chunks(self):
        self.skip_on_threading('a thread cannot be interrupted: one task per chunk')
        # order_tasks: chunk i runs on worker i % n_jobs, so the worker
        # of each task shows the chunks.
        with self.pool(pass_worker_id=True, order_tasks=True) as pool:
            out = pool.map(worker_of, range(12), chunk_size=3, task_timeout=LONG)
        self.assertEqual(out, [0] * 3 + [1] * 3 + [0] * 3 + [1] * 3)

    def test_apply_timeout_interrupts_only_the_task(self):
        self.skip_on_threading('a thread cannot be interrupted')
        with self.pool(n_jobs=1) as pool:
            before = pool.apply(pid_of, (0,))
            with self.assertRaises(TimeoutError) as caught:
                pool.apply(sleep_for, (LONG,), task_timeout=0.3)
            self.assertIn('timed out', str(caught.exception))
            # As MPIRE's, the worker goes on: it was not killed.
            self.assertEqual(pool.apply(pid_of, (0,)), before)

    def test_task_deaf_to_the_timer_is_stopped(self):
        self.skip_on_threading('a thread cannot be stopped')
        with self.pool() as pool:
            with self.assertRaises(TimeoutError):
                pool.map(deaf_sleep, [LONG], task_timeout=0.3)

    def test_worker_init_timeout_names_the_function(self):
        with self.pool() as pool:
            with self.assertRaises(TimeoutError) as caught:
                pool.map(square, range(4), worker_init=slow_init, worker_init_timeout=0.3)
            self.assertIn('slow_init', str(caught.exception))
            self.assertNotIn('mpire_glib', str(caught.exception))

    def test_worker_exit_timeout_names_the_function(self):
        with self.pool() as pool:
            with self.assertRaises(TimeoutError) as caught:
                pool.map(square, range(4), worker_exit=slow_exit, worker_exit_timeout=0.3)
            self.assertIn('slow_exit', str(caught.exception))
            self.assertNotIn('mpire_glib', str(caught.exception))


class TestCounts(PoolTestCase):

    def test_insights_count_tasks(self):
        # keep_alive: the apply task runs on the same workers, whose
        # insights go on (new workers start them anew, as in MPIRE).
        with self.pool(enable_insights=True, keep_alive=True) as pool:
            pool.map(square, range(100), chunk_size=10)
            insights = pool.get_insights()
            self.assertEqual(sum(insights['n_completed_tasks']), 100)
            self.assertEqual(len(insights['top_5_max_task_args']), 5)
            for args in insights['top_5_max_task_args']:
                self.assertRegex(args, r'^Arg 0: \d+$')
            self.assertEqual(len(insights['top_5_max_task_durations']), 5)
            pool.apply(square, (3,))
            self.assertEqual(sum(pool.get_insights()['n_completed_tasks']), 101)
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                pool.print_insights()
            self.assertIn('Tasks completed: 101', printed.getvalue())
            self.assertNotIn('0x80', printed.getvalue())

    def test_worker_lifespan_counts_tasks(self):
        self.skip_on_threading('threads share one pid')
        with self.pool() as pool:
            pids = pool.map(pid_of, range(24), chunk_size=2, worker_lifespan=3)
        # As MPIRE's, a worker runs whole chunks until it ran 3 tasks: 4.
        counts = [pids.count(pid) for pid in set(pids)]
        self.assertTrue(all(c <= 4 for c in counts), counts)
        self.assertGreaterEqual(len(counts), 6)

    def test_max_tasks_active_counts_tasks(self):
        pulled = [0]

        def tasks():
            for i in range(40):
                pulled[0] += 1
                yield i

        ahead = []
        with self.pool() as pool:
            for n, _ in enumerate(pool.imap(sleep_for, (0.001 * (i % 3) for i in tasks()),
                                            iterable_len=40, max_tasks_active=5,
                                            chunk_size=2), 1):
                ahead.append(pulled[0] - n)
        # Never more than 5 tasks taken from the input and not yet
        # handed out (2 chunks of 2 active, and the rest of the one
        # being handed out).
        self.assertLessEqual(max(ahead), 5, ahead)


class TestApplyCallbacks(PoolTestCase):

    def test_callback_runs_without_waiting(self):
        called = threading.Event()
        seen = []

        def callback(value):
            seen.append((value, threading.current_thread() is threading.main_thread()))
            called.set()

        with self.pool() as pool:
            result = pool.apply_async(square, (7,), callback=callback)
            # The caller does not wait on the result: the pool's thread
            # calls the callback.
            self.assertTrue(called.wait(LONG))
            self.assertEqual(seen, [(49, False)])
            self.assertTrue(result.ready())
            self.assertEqual(result.get(), 49)

    def test_error_callback_runs_without_waiting(self):
        called = threading.Event()
        errors = []

        def error_callback(exc):
            errors.append(exc)
            called.set()

        with self.pool() as pool:
            pool.apply_async(square, ('x',), error_callback=error_callback)
            self.assertTrue(called.wait(LONG))
        self.assertIsInstance(errors[0], TypeError)

    def test_ready_after_callback(self):
        entered, release = threading.Event(), threading.Event()

        def callback(value):
            entered.set()
            release.wait(LONG)

        with self.pool() as pool:
            result = pool.apply_async(square, (3,), callback=callback)
            self.assertTrue(entered.wait(LONG))
            # As MPIRE's: ready once its callback returned.
            self.assertFalse(result.ready())
            release.set()
            self.assertEqual(result.get(), 9)
            self.assertTrue(result.ready())

    def test_map_right_after_apply(self):
        # The apply tasks' run ends in the callback thread, just after
        # their results: a map waits for that end.
        with self.pool() as pool:
            for _ in range(5):
                with self.assertRaises(TypeError):
                    pool.apply(square, ('x',))
                self.assertEqual(pool.map(square, range(3)), [0, 1, 4])
                pool.apply_async(square, (2,))
                self.assertEqual(pool.map(square, range(3)), [0, 1, 4])


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] in ('fork', 'threading', 'spawn', 'forkserver'):
        START_METHOD = sys.argv.pop(1)
    if START_METHOD == 'threading':
        SLOW_LIFECYCLE = 3.0
    unittest.main(verbosity=2)
