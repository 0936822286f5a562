# _insights.py: insights counted per task, not per chunk.
#
# The engine counts and times its own tasks, which here are chunks. With
# insights on, each chunk's result reports how many tasks it ran and its
# longest tasks with their arguments (_measure.py); TaskTally adds them
# up per worker, and corrects the engine's figures: a worker's completed
# tasks are the engine's count (chunks, and apply tasks) plus the tasks
# its chunks held beyond one each; the longest tasks are the tasks', not
# the chunks' (whose arguments are pickled bytes).
#
# SPDX-License-Identifier: MIT

import re

from ._measure import TOP
from .utils import format_seconds

__all__ = ['TaskTally', 'correct_text', 'formatted']


class TaskTally:
    """The task counts and longest tasks the chunks of a pool reported
    since its insights started anew."""

    def __init__(self):
        self.extra = {}      # worker id -> tasks beyond one per chunk
        self.top = []        # (duration, args text), longest first

    def add(self, worker_id, n_tasks, top):
        self.extra[worker_id] = self.extra.get(worker_id, 0) + n_tasks - 1
        if top:
            self.top = sorted(self.top + list(top), key=lambda entry: -entry[0])[:TOP]

    def correct(self, insights):
        """@insights (the engine's, unpacked) with tasks counted one by one."""
        counts = insights.get('n_completed_tasks')
        if counts is not None:
            insights['n_completed_tasks'] = [n + self.extra.get(w, 0)
                                             for w, n in enumerate(counts)]
        if self.top:
            insights['top_5_max_task_durations'] = [d for d, _ in self.top]
            insights['top_5_max_task_args'] = [a for _, a in self.top]
        return insights


def _is_time(key):
    return key.endswith(('_time', '_time_mean', '_time_std')) or key == 'top_5_max_task_durations'


def formatted(insights):
    """@insights with its times as MPIRE gives them: 'H:MM:SS.mmm'
    strings (ratios and counts stay numbers)."""
    def text(value):
        return format_seconds(value, with_milliseconds=True)
    return {key: ([text(v) for v in value] if isinstance(value, list) else text(value))
            if _is_time(key) else value
            for key, value in insights.items()}


def _time(seconds):
    ms = int(seconds * 1000)
    return '%d:%02d:%02d.%03d' % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)


def correct_text(text, insights):
    """The engine's insights table (print_insights()) with the task
    counts and longest tasks of @insights (TaskTally.correct())."""
    counts = insights.get('n_completed_tasks', [])
    lines = text.rstrip('\n').split('\n')
    # The heading's first number is the number of tasks.
    lines[0] = re.sub(r'\d+', str(sum(counts)), lines[0], count=1)
    out = []
    for line in lines:
        # A worker's row: its id, its tasks (10 wide), then its times.
        row = re.match(r'^(\d+)(\s+)(\d+)(  \d+:.*)$', line)
        if row and int(row.group(1)) < len(counts):
            count = str(counts[int(row.group(1))])
            line = '%-6s  %10s%s' % (row.group(1), count, row.group(4))
        out.append(line)
        if line.endswith(':') and not line[:1].isdigit() and '  ' not in line:
            # The last section: the longest tasks, listed anew.
            for i, (duration, args) in enumerate(zip(
                    insights.get('top_5_max_task_durations', []),
                    insights.get('top_5_max_task_args', [])), start=1):
                out.append('%d.  %s  %s' % (i, _time(duration), args))
            break
    return '\n'.join(out) + '\n'
