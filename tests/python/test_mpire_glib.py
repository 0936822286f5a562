#!/usr/bin/python3
# test_mpire_glib.py: the mpire_glib package (MPIRE's Python API), on one
# start method.
#
# Usage: test_mpire_glib.py fork|threading|spawn|forkserver [unittest args]
#
# Spawn and forkserver workers import this file as __mp_main__ (as
# multiprocessing does), so everything the workers need is at module
# level and the tests run only under `if __name__ == '__main__'`.
#
# SPDX-License-Identifier: MIT

import os
import signal
import sys
import time
import unittest
import warnings

import mpire_glib
from mpire_glib import WorkerPool, WorkerDiedError, cpu_count
from mpire_glib.utils import chunk_tasks, make_single_arguments

try:
    import numpy
except ImportError:
    numpy = None

try:
    import dill  # noqa: F401
except ImportError:
    dill = None

START_METHOD = 'fork'
N_JOBS = 2


# ---- task functions (module level: spawn workers find them by name) -------

def square(x):
    return x * x


def multiply(x, y):
    return x * y


def keywords(x, scale=1, label=''):
    return x * scale + len(label)


def return_none(x):
    return None


class CustomError(Exception):
    def __init__(self, code, text):
        super().__init__(code, text)
        self.code = code


def fail_on_seven(x):
    if x == 7:
        raise ValueError('boom', x)
    return x


def custom_fail(x):
    if x == 3:
        raise CustomError(42, 'custom')
    return x


def die_on_three(x):
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds


def with_worker_id(worker_id, x):
    return worker_id


def with_shared(shared, x):
    return shared['factor'] * x


def init_state(worker_state):
    worker_state['count'] = 0


def count_in_state(worker_state, x):
    worker_state['count'] += 1
    return x


def exit_state(worker_state):
    return worker_state['count']


def all_three(worker_id, shared, worker_state, x):
    worker_state.setdefault('seen', 0)
    worker_state['seen'] += 1
    return (worker_id, shared['factor'] * x)


def init_fails():
    raise KeyError('init went wrong')


def exit_fails():
    raise RuntimeError('exit went wrong')


def pid_of(x):
    return os.getpid()


def add_five(chunk):
    return chunk + 5


def endless():
    n = 0
    while True:
        yield n
        n += 1


def failing_generator():
    yield 1
    yield 2
    raise IndexError('generator broke')


# ---- tests -------------------------------------------------------------------

class PoolTestCase(unittest.TestCase):

    def pool(self, **kwargs):
        kwargs.setdefault('n_jobs', N_JOBS)
        kwargs.setdefault('start_method', START_METHOD)
        return WorkerPool(**kwargs)


class TestMap(PoolTestCase):

    def test_map_range_list_tuple(self):
        with self.pool() as pool:
            self.assertEqual(pool.map(square, range(100)), [x * x for x in range(100)])
            self.assertEqual(pool.map(square, list(range(50))), [x * x for x in range(50)])
            self.assertEqual(pool.map(square, tuple(range(5))), [0, 1, 4, 9, 16])

    def test_map_generator(self):
        with self.pool() as pool:
            self.assertEqual(pool.map(square, (x for x in range(300)), iterable_len=300),
                             [x * x for x in range(300)])
            self.assertEqual(pool.map(square, (x for x in range(30)), chunk_size=4),
                             [x * x for x in range(30)])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                self.assertEqual(pool.map(square, (x for x in range(10))),
                                 [x * x for x in range(10)])
            self.assertTrue(any('chunk size' in str(w.message).lower() for w in caught))

    def test_chunking_options(self):
        expected = [x * x for x in range(257)]
        with self.pool() as pool:
            for kwargs in ({'chunk_size': 1}, {'chunk_size': 2.5}, {'chunk_size': 1000},
                           {'n_splits': 3}, {'n_splits': 1}, {'max_tasks_active': 3},
                           {'worker_lifespan': 10, 'chunk_size': 5}):
                self.assertEqual(pool.map(square, range(257), **kwargs), expected, kwargs)

    def test_iterable_len_caps(self):
        with self.pool() as pool:
            self.assertEqual(pool.map(square, range(100), iterable_len=10),
                             [x * x for x in range(10)])
            # Beyond the input's length it is ignored
            self.assertEqual(pool.map(square, list(range(10)), iterable_len=20),
                             [x * x for x in range(10)])
            self.assertEqual(pool.map(square, (x for x in range(10)), iterable_len=20),
                             [x * x for x in range(10)])

    def test_argument_unpacking(self):
        with self.pool() as pool:
            self.assertEqual(pool.map(multiply, [(1, 2), (3, 4), [5, 6]]), [2, 12, 30])
            self.assertEqual(pool.map(keywords, [{'x': 2}, {'x': 3, 'scale': 10},
                                                 {'label': 'abc', 'x': 1}]), [2, 30, 4])
            # make_single_arguments passes a tuple whole
            self.assertEqual(pool.map(len, make_single_arguments([(1, 2), (1, 2, 3)],
                                                                 generator=False)), [2, 3])

    def test_plain_values(self):
        with self.pool() as pool:
            self.assertEqual(pool.map(return_none, range(5)), [None] * 5)
            self.assertEqual(pool.map(str, [1, 'a', None, 2.5]), ['1', 'a', 'None', '2.5'])

    def test_empty(self):
        with self.pool() as pool:
            self.assertEqual(pool.map(square, []), [])
            self.assertEqual(list(pool.imap(square, [])), [])

    def test_map_unordered(self):
        with self.pool() as pool:
            self.assertEqual(sorted(pool.map_unordered(square, range(200))),
                             [x * x for x in range(200)])

    def test_imap(self):
        with self.pool() as pool:
            results = pool.imap(square, range(100))
            self.assertFalse(isinstance(results, list))
            self.assertEqual(list(results), [x * x for x in range(100)])
            self.assertEqual(sorted(pool.imap_unordered(square, range(100), chunk_size=7)),
                             [x * x for x in range(100)])

    def test_imap_endless_generator_stops_early(self):
        with self.pool() as pool:
            taken = []
            for r in pool.imap(square, endless(), chunk_size=10, max_tasks_active=40):
                taken.append(r)
                if len(taken) == 25:
                    break
            self.assertEqual(taken, [x * x for x in range(25)])
            # The pool is free again
            self.assertEqual(pool.map(square, range(3)), [0, 1, 4])

    def test_lambda_and_closure(self):
        if START_METHOD in ('spawn', 'forkserver'):
            self.skipTest('lambdas need fork or threading (or use_dill)')
        offset = 7
        with self.pool() as pool:
            self.assertEqual(pool.map(lambda x: x + offset, range(5)), [7, 8, 9, 10, 11])
            self.assertEqual(pool.map(lambda x: -x, range(3)), [0, -1, -2])

    def test_progress_bar(self):
        with self.pool() as pool:
            self.assertEqual(pool.map(square, range(100), progress_bar=True,
                                      progress_bar_options={'desc': 'squares'}),
                             [x * x for x in range(100)])

    def test_numpy_chunks_concatenated(self):
        if numpy is None:
            self.skipTest('numpy not installed')
        arr = numpy.arange(30.0).reshape(10, 3)
        with self.pool() as pool:
            out = pool.map(add_five, arr, chunk_size=3)
            self.assertTrue(numpy.array_equal(out, arr + 5))
            parts = pool.map(add_five, arr, chunk_size=3, concatenate_numpy_output=False)
            self.assertEqual([len(p) for p in parts], [3, 3, 3, 1])


class TestErrors(PoolTestCase):

    def test_exception_type_args_traceback(self):
        with self.pool() as pool:
            with self.assertRaises(ValueError) as caught:
                pool.map(fail_on_seven, range(20))
            exc = caught.exception
            self.assertEqual(exc.args, ('boom', 7))
            self.assertIn('fail_on_seven', str(exc.__cause__))
            self.assertIn("raise ValueError('boom', x)", str(exc.__cause__))
            self.assertIn('7', exc.__notes__[0])
            self.assertIn('Worker-', exc.__notes__[0])
            # The pool stays usable
            self.assertEqual(pool.map(square, range(4)), [0, 1, 4, 9])

    def test_custom_exception(self):
        with self.pool() as pool:
            with self.assertRaises(CustomError) as caught:
                list(pool.imap_unordered(custom_fail, range(10)))
            self.assertEqual(caught.exception.code, 42)

    def test_generator_error_is_raised(self):
        with self.pool() as pool:
            with self.assertRaises(IndexError):
                pool.map(square, failing_generator(), chunk_size=1)
            self.assertEqual(pool.map(square, range(3)), [0, 1, 4])

    def test_worker_init_and_exit_errors(self):
        with self.pool() as pool:
            with self.assertRaises(KeyError) as caught:
                pool.map(square, range(10), worker_init=init_fails)
            self.assertIn('init went wrong', str(caught.exception))
            self.assertIn('init_fails', str(caught.exception.__cause__))
            with self.assertRaises(RuntimeError) as caught:
                pool.map(square, range(10), worker_exit=exit_fails)
            self.assertIn('exit went wrong', str(caught.exception))

    def test_worker_death(self):
        if START_METHOD == 'threading':
            self.skipTest('a thread cannot die alone')
        with self.pool() as pool:
            with self.assertRaises(WorkerDiedError) as caught:
                pool.map(die_on_three, range(10), chunk_size=1)
            self.assertIsInstance(caught.exception, RuntimeError)
            self.assertIn('signal 9', str(caught.exception))
            self.assertIn('die_on_three', str(caught.exception))
            self.assertNotIn('0x80', str(caught.exception))
            self.assertEqual(pool.map(square, range(3)), [0, 1, 4])

    def test_task_timeout(self):
        with self.pool() as pool:
            with self.assertRaises(TimeoutError):
                pool.map(sleep_for, [0.01, 2.0, 0.01], task_timeout=0.3)
            self.assertEqual(pool.map(sleep_for, [0.01] * 4, task_timeout=5), [0.01] * 4)

    def test_unpicklable_function_under_spawn(self):
        if START_METHOD not in ('spawn', 'forkserver'):
            self.skipTest('only spawned workers pickle the function')
        with self.pool() as pool:
            with self.assertRaises(Exception):
                pool.map(lambda x: x, range(3))


class TestWorkers(PoolTestCase):

    def test_pass_worker_id(self):
        with self.pool(pass_worker_id=True) as pool:
            ids = set(pool.map(with_worker_id, range(100), chunk_size=1))
            self.assertTrue(ids <= set(range(N_JOBS)) and ids, ids)

    def test_shared_objects(self):
        with self.pool(shared_objects={'factor': 3}) as pool:
            self.assertEqual(pool.map(with_shared, range(10)), [3 * x for x in range(10)])

    def test_worker_state_init_exit(self):
        with self.pool(use_worker_state=True) as pool:
            out = pool.map(count_in_state, range(100), worker_init=init_state,
                           worker_exit=exit_state)
            self.assertEqual(out, list(range(100)))
            exits = pool.get_exit_results()
            self.assertEqual(len(exits), N_JOBS)
            self.assertEqual(sum(exits), 100)

    def test_all_three_leading_arguments(self):
        with self.pool(pass_worker_id=True, shared_objects={'factor': 2},
                       use_worker_state=True) as pool:
            out = pool.map(all_three, range(20))
            self.assertEqual([v for _, v in out], [2 * x for x in range(20)])

    def test_keep_alive(self):
        if START_METHOD == 'threading':
            self.skipTest('threads share one pid')
        with self.pool(keep_alive=True) as pool:
            first = set(pool.map(pid_of, range(20), chunk_size=1))
            second = set(pool.map(pid_of, range(20), chunk_size=1))
            # No new worker (a busy machine may leave one without a task)
            self.assertTrue(second <= first, (first, second))
            pool.stop_and_join()

    def test_insights(self):
        with self.pool(enable_insights=True) as pool:
            pool.map(square, range(100))
            insights = pool.get_insights()
            self.assertIn('n_completed_tasks', insights)
            self.assertIn('total_time', insights)
            pool.print_insights()

    def test_join_and_terminate(self):
        pool = self.pool()
        self.assertEqual(pool.map(square, range(10)), [x * x for x in range(10)])
        pool.join()
        pool.stop_and_join()
        pool.terminate()


class TestApply(PoolTestCase):

    def test_apply(self):
        with self.pool() as pool:
            self.assertEqual(pool.apply(square, (5,)), 25)
            self.assertEqual(pool.apply(keywords, (2,), {'scale': 10, 'label': 'ab'}), 22)
            self.assertEqual(pool.apply(square, 6), 36)

    def test_apply_async(self):
        done, failed = [], []
        with self.pool() as pool:
            results = [pool.apply_async(fail_on_seven, (i,), callback=done.append,
                                        error_callback=failed.append) for i in range(10)]
            values = []
            for i, r in enumerate(results):
                if i == 7:
                    with self.assertRaises(ValueError):
                        r.get()
                    self.assertFalse(r.successful())
                else:
                    values.append(r.get())
                    self.assertTrue(r.ready() and r.successful())
            self.assertEqual(values, [i for i in range(10) if i != 7])
            pool.stop_and_join()
        self.assertEqual(sorted(done), values)
        self.assertEqual(len(failed), 1)
        self.assertIsInstance(failed[0], ValueError)

    def test_apply_async_wait_timeout(self):
        with self.pool() as pool:
            r = pool.apply_async(sleep_for, (0.5,))
            with self.assertRaises(ValueError):
                r.successful()
            r.wait(0.01)
            self.assertFalse(r.ready())
            with self.assertRaises(TimeoutError):
                r.get(timeout=0.01)
            self.assertEqual(r.get(), 0.5)

    def test_apply_lambda(self):
        if START_METHOD in ('spawn', 'forkserver'):
            self.skipTest('lambdas need fork or threading')
        with self.pool() as pool:
            self.assertEqual(pool.apply(lambda a, b: a - b, (5, 3)), 2)

    def test_async_result_made_by_hand(self):
        # MPIRE's constructor: kept in the cache, never ready without a task.
        cache = {}
        r = mpire_glib.AsyncResult(cache, None, None, None, True, None)
        self.assertIs(cache[r.job_id], r)
        self.assertFalse(r.ready())
        with self.assertRaises(TimeoutError):
            r.get(timeout=0.001)
        with self.assertRaises(ValueError):
            mpire_glib.AsyncResult(cache, None, None, r.job_id, True, None)
        self.assertEqual(mpire_glib.AsyncResult(cache, None, None, 'job', True, 1.0).job_id, 'job')


class TestDill(PoolTestCase):

    def test_lambda_with_dill(self):
        if dill is None:
            self.skipTest('dill not installed')
        with self.pool(use_dill=True) as pool:
            self.assertEqual(pool.map(lambda x: x * 10, range(5)), [0, 10, 20, 30, 40])


class TestUtils(unittest.TestCase):

    def test_chunk_tasks(self):
        self.assertEqual(list(chunk_tasks(range(10), n_splits=3)),
                         [(0, 1, 2, 3), (4, 5, 6), (7, 8, 9)])
        self.assertEqual(list(chunk_tasks(range(10), chunk_size=2.5)),
                         [(0, 1, 2), (3, 4), (5, 6, 7), (8, 9)])
        self.assertEqual(list(chunk_tasks((x for x in range(10)), iterable_len=10, n_splits=6)),
                         [(0, 1), (2, 3), (4,), (5, 6), (7, 8), (9,)])
        with self.assertRaises(ValueError):
            list(chunk_tasks(range(3)))
        with self.assertRaises(ValueError):
            list(chunk_tasks((x for x in range(3)), n_splits=2))

    def test_helpers(self):
        from mpire_glib.utils import format_seconds, get_n_chunks
        self.assertEqual(get_n_chunks(list(range(13)), chunk_size=3), 5)
        self.assertEqual(get_n_chunks(list(range(13)), n_splits=20), 13)
        self.assertEqual(get_n_chunks(list(range(13)), n_jobs=2), 8)
        with self.assertRaises(ValueError):
            get_n_chunks(iter([1, 2]))
        self.assertEqual(format_seconds(123456.78901234, with_milliseconds=True),
                         '1 day, 10:17:36.789')
        self.assertEqual(format_seconds(2.9, with_milliseconds=False), '0:00:02')
        self.assertEqual(format_seconds(None, with_milliseconds=False), '')

    def test_make_single_arguments(self):
        self.assertEqual(make_single_arguments([1, (2, 3)], generator=False), [(1,), ((2, 3),)])
        self.assertEqual(list(make_single_arguments(iter([4]))), [(4,)])

    def test_cpu_count(self):
        self.assertGreaterEqual(cpu_count(), 1)
        self.assertIs(mpire_glib.cpu_count, cpu_count)


if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in ('fork', 'threading', 'spawn', 'forkserver'):
        print('usage: %s fork|threading|spawn|forkserver [unittest args]' % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    START_METHOD = sys.argv[1]
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
