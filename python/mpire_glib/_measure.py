# _measure.py: the loop over a chunk for calls that watch each task.
#
# The engine sees a chunk of tasks as one of its own tasks, so it can
# neither time out nor time a single task of it. When a call has a
# task_timeout or insights, the worker runs its chunk through this loop
# instead of the fast one of _worker.run_tasks():
#
# - task_timeout: a one-shot interval timer (SIGALRM) is armed before
#   each task; when it fires the task is interrupted where it is (as
#   MPIRE interrupts its worker with a signal) and the worker carries on
#   with its next chunk. Signals reach only the main thread of a process,
#   so threading workers leave task timeouts to the engine (pool.py).
# - insights: each task's duration, the five longest kept with their
#   arguments, and the number of tasks, sent back with the chunk's
#   results so that the caller counts tasks, not chunks.
#
# SPDX-License-Identifier: MIT

import signal
import time

# How many of the longest tasks insights keep (MPIRE's top 5).
TOP = 5


class TaskInterrupted(BaseException):
    """Raised inside a task by the timer. A BaseException, so that the
    task's own ``except Exception`` does not swallow it."""


def _on_alarm(signum, frame):
    raise TaskInterrupted()


def describe_args(args):
    """A task's arguments as insights show them (``Arg 0: 5 | Arg 1: 'a'``)."""
    if type(args) is dict:
        parts = ['Arg %s: %r' % item for item in args.items()]
    elif type(args) in (tuple, list):
        parts = ['Arg %d: %r' % item for item in enumerate(args)]
    else:
        parts = ['Arg 0: %r' % (args,)]
    text = ' | '.join(parts)
    return text if len(text) <= 200 else text[:200] + '…'


def keep_longest(top, duration, args):
    """Adds (duration, args) to @top, a list of at most TOP entries kept
    longest first; the arguments are described only when they get in."""
    if len(top) < TOP or duration > top[-1][0]:
        top.append((duration, describe_args(args)))
        top.sort(key=lambda entry: -entry[0])
        del top[TOP:]


def run_watched(call, tasks, timeout, top, failed, shown=None):
    """Runs call(args) for each args of @tasks and returns the results.

    @timeout: seconds each task may take, or None; @top: a list for
    keep_longest(), or None; @failed: a one-element list that gets the
    index of the task that raised; @shown: what of a task's args top
    shows (all by default)."""
    if timeout is not None:
        signal.signal(signal.SIGALRM, _on_alarm)
    arm = signal.setitimer
    clock = time.perf_counter
    out = []
    index = 0
    try:
        for index, args in enumerate(tasks):
            start = clock()
            if timeout is not None:
                arm(signal.ITIMER_REAL, timeout)
                try:
                    out.append(call(args))
                finally:
                    arm(signal.ITIMER_REAL, 0)
            else:
                out.append(call(args))
            if top is not None:
                keep_longest(top, clock() - start, args if shown is None else shown(args))
    except BaseException:
        failed[0] = index
        raise
    return out


def timed_out(exc, worker_id, timeout):
    """The TimeoutError for a task @exc (TaskInterrupted) interrupted,
    with the interrupted task's traceback."""
    error = TimeoutError('Worker-%d task timed out (timeout=%s)' % (worker_id, timeout))
    return error.with_traceback(exc.__traceback__)
