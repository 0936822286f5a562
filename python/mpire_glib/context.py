# context.py: what this platform offers, as MPIRE's mpire.context.
#
# SPDX-License-Identifier: MIT

"""Platform facts, as in ``mpire.context``: every start method is
available (the library runs on Linux)."""

import platform

RUNNING_WINDOWS = platform.system() == 'Windows'
RUNNING_MACOS = platform.system() == 'Darwin'
FORK_AVAILABLE = not RUNNING_WINDOWS
DEFAULT_START_METHOD = 'fork' if FORK_AVAILABLE else 'spawn'
START_METHODS = ('fork', 'forkserver', 'spawn', 'threading')
