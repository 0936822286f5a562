#!/usr/bin/python3
# test_overrides.py: gi/overrides/Mpire.py, on one start method.
#
# Usage: test_overrides.py fork|threading|spawn|forkserver [unittest args]
#
# A spawn worker runs this script again: the tasks are created at module
# level and Mpire.init() comes before the tests.
#
# SPDX-License-Identifier: MIT

import sys
import unittest

import gi
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire  # noqa: E402

START_METHOD = 'fork'


class TaskError(Exception):
    def __init__(self, n, text):
        super().__init__(n, text)
        self.n = n


def square(ctx, args):
    return args.unpack() ** 2          # a plain int


def nothing(ctx, args):
    return None


def describe(ctx, args):
    return {'value': args.unpack(), 'text': str(args.unpack())}


def fail_on_seven(ctx, args):
    if args.unpack() == 7:
        raise TaskError(7, 'seven')
    return args


def remember(ctx, args):
    ctx.set_state({'seen': args.unpack()})     # a plain dict as worker state
    return ctx.get_state().unpack()['seen']


def shared_plus(ctx, args):
    return ctx.get_shared_objects().unpack()[0] + args.unpack()


square_task = Mpire.Task.new('square', square)
remember_task = Mpire.Task.new('remember', remember)
shared_plus_task = Mpire.Task.new('shared_plus', shared_plus)
nothing_task = Mpire.Task.new('nothing', nothing)
describe_task = Mpire.Task.new('describe', describe)
fail_task = Mpire.Task.new('fail_on_seven', fail_on_seven)


def pool():
    method = getattr(Mpire.StartMethod, START_METHOD.upper())
    return Mpire.WorkerPool.new(2, method)


def broken_generator():
    yield 1
    raise IndexError('broken input')


class TestOverrides(unittest.TestCase):

    def test_plain_input_and_results(self):
        with pool() as p:
            self.assertEqual(p.map(square_task, [1, 2, 3]).unpack(), [1, 4, 9])
            self.assertEqual(p.map(square_task, range(100)).unpack(), [x * x for x in range(100)])
            self.assertEqual(sorted(p.map_unordered(square_task, (x for x in range(50))).unpack()),
                             [x * x for x in range(50)])
            self.assertEqual(p.map(nothing_task, [1, 2]).unpack(), [None, None])
            self.assertEqual(p.map(describe_task, [5]).unpack(), [{'value': 5, 'text': '5'}])
            self.assertEqual(p.map(square_task, [1.5, 2.0]).unpack(), [2.25, 4.0])

    def test_iterate_result_iter(self):
        with pool() as p:
            self.assertEqual([v.unpack() for v in p.imap(square_task, range(20))],
                             [x * x for x in range(20)])
            self.assertEqual(sorted(v.unpack() for v in p.imap_unordered(square_task, [3, 4])),
                             [9, 16])

    def test_python_exception(self):
        with pool() as p:
            with self.assertRaises(TaskError) as caught:
                p.map(fail_task, range(20))
            self.assertEqual(caught.exception.args, (7, 'seven'))
            self.assertIn("raise TaskError(7, 'seven')", str(caught.exception.__cause__))
            with self.assertRaises(TaskError):
                list(p.imap(fail_task, range(20)))
            self.assertEqual(p.map(square_task, [2]).unpack(), [4])

    def test_generator_error(self):
        with pool() as p:
            with self.assertRaises(IndexError):
                p.map(square_task, broken_generator())

    def test_apply(self):
        with pool() as p:
            self.assertEqual(p.apply(square_task, 6).unpack(), 36)
            r = p.apply_async(fail_task, 7)
            with self.assertRaises(TaskError):
                r.get(-1)
            p.stop_and_join()

    def test_plain_values_for_the_other_variant_arguments(self):
        with pool() as p:
            p.set_shared_objects([100, 200])
            p.set_use_worker_state(True)
            self.assertEqual(p.map(shared_plus_task, [1, 2]).unpack(), [101, 102])
            self.assertEqual(p.map(remember_task, [5, 6]).unpack(), [5, 6])
            options = Mpire.MapOptions.new()
            options.set_progress_bar_options({'desc': 'plain'})
            options.set_progress_bar_options(None)
        self.assertEqual(Mpire.chunk_tasks([1, 2, 3, 4, 5], -1, 2.0, 0).unpack(),
                         [[1, 2], [3, 4], [5]])
        self.assertEqual(Mpire.make_single_arguments(['a', 'b']).unpack(), [('a',), ('b',)])

    def test_bad_input_is_named(self):
        with pool() as p:
            for method in (p.map, p.imap, p.map_async):
                with self.assertRaisesRegex(TypeError,
                                            r'Mpire\.WorkerPool\.%s\(\): the input must be a '
                                            r'GLib\.Variant, an iterable .* not int' % method.__name__):
                    method(square_task, 42)
            with self.assertRaisesRegex(TypeError, 'Cannot turn a value of type object into a GLib.Variant'):
                p.set_shared_objects(object())

    def test_glib_variant_input_still_works(self):
        with pool() as p:
            self.assertEqual(p.map(square_task, GLib.Variant('ax', [2, 3]), None, None).unpack(),
                             [4, 9])
            # The library's own signatures (options, cancellable) still work
            it = p.imap(square_task, GLib.Variant('ax', [4]), Mpire.MapOptions.new())
            self.assertEqual([v.unpack() for v in it], [16])
            lst = p.imap_list(square_task, [1, 2, 3], None, None)
            loop = GLib.MainContext.default()
            while not lst.props.complete:
                loop.iteration(True)
            self.assertEqual(sorted(lst.get_item(i).get_value().unpack()
                                    for i in range(lst.get_n_items())), [1, 4, 9])


if __name__ == '__main__':
    Mpire.init()
    if len(sys.argv) < 2 or sys.argv[1] not in ('fork', 'threading', 'spawn', 'forkserver'):
        print('usage: %s fork|threading|spawn|forkserver' % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    START_METHOD = sys.argv[1]
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
