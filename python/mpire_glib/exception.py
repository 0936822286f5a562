# exception.py: how failures in workers reach the caller.
#
# SPDX-License-Identifier: MIT

"""Exceptions raised by :mod:`mpire_glib`, and how a worker's exception is
raised again in the caller with its original type and arguments."""

import pickle

__all__ = ['WorkerDiedError', 'RemoteTraceback', 'RemoteError']


class WorkerDiedError(RuntimeError):
    """A worker process died (a signal, or an exit) while running a task.

    The message names the signal or exit status and the task it died in.
    """


class RemoteTraceback(Exception):
    """The worker's traceback, set as ``__cause__`` of a re-raised
    exception so that Python prints it above the caller's."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text

    def __str__(self):
        return self.text


class RemoteError(Exception):
    """Stands for a worker's exception that could not be pickled (or
    rebuilt) in the caller: its message is the original type and text."""


def header_of(failure):
    stage, worker_id, args_text, _, _, _, _ = failure
    if stage == 'task':
        return 'Exception occurred in Worker-%d with the following arguments:\n%s' % (
            worker_id, args_text)
    return 'Exception occurred in Worker-%d in its %s function' % (worker_id, stage)


def rebuild(failure, loads=pickle.loads):
    """The exception a worker sent (see _worker.failure_of()), ready to
    raise: its own type and args, the worker's traceback as its cause and
    the failing arguments in a note."""
    _, _, _, tb_text, exc_bytes, type_name, text = failure
    exc = None
    if exc_bytes is not None:
        try:
            exc = loads(exc_bytes)
        except Exception:  # noqa: BLE001 - fall back to the text form
            exc = None
    if not isinstance(exc, BaseException):
        exc = RemoteError('%s: %s' % (type_name, text))
    header = header_of(failure)
    exc.__cause__ = RemoteTraceback('\n%s\n\n%s' % (header, tb_text.rstrip()))
    if hasattr(exc, 'add_note'):
        exc.add_note(header)
    return exc
