# dashboard.py: MPIRE's dashboard functions on Mpire.Dashboard.
#
# SPDX-License-Identifier: MIT

"""Start a dashboard in this process, or connect to one elsewhere.

Every map of this process shows on a dashboard it started, and on one it
connected to. Unlike MPIRE's, a dashboard takes pushes from other
processes only with the token it prints (``mpire-dashboard``) or returns
(:func:`start_dashboard`), and it listens on 127.0.0.1 only.
"""

import os

import gi

gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire  # noqa: E402

__all__ = ['start_dashboard', 'shutdown_dashboard', 'connect_to_dashboard',
           'get_stacklevel', 'set_stacklevel']

_dashboard = None
_stacklevel = 1


def start_dashboard(port_range=range(8080, 8100)):
    """Starts a dashboard on the first free port of ``port_range``.

    Returns MPIRE's dictionary (``dashboard_port_nr``, ``manager_host``,
    ``manager_port_nr``: here the page and the pushes share one port),
    plus the ``token`` other processes connect with. Raises OSError when
    no port of the range is free.
    """
    global _dashboard

    ports = list(port_range)
    if not ports:
        raise ValueError('port_range is empty')
    shutdown_dashboard()
    dashboard = Mpire.Dashboard.new()
    dashboard.set_port_range(min(ports), max(ports))
    try:
        dashboard.start()
    except GLib.Error as error:
        raise OSError(error.message) from None
    _dashboard = dashboard
    port = dashboard.get_port()
    return {'dashboard_port_nr': port, 'manager_host': '127.0.0.1',
            'manager_port_nr': port, 'token': dashboard.get_token()}


def shutdown_dashboard():
    """Stops the dashboard :func:`start_dashboard` started, if any."""
    global _dashboard

    if _dashboard is not None:
        _dashboard.stop()
        _dashboard = None


def connect_to_dashboard(manager_port_nr, manager_host=None, token=None):
    """Makes the maps of this process show on the dashboard at
    ``manager_host`` (default 127.0.0.1) and ``manager_port_nr``.

    ``token`` is the one that dashboard printed; by default, the
    ``MPIRE_DASHBOARD_TOKEN`` environment variable. Raises ConnectionError
    when the dashboard cannot be reached or refuses the token.
    """
    if token is None:
        token = os.environ.get(Mpire.DASHBOARD_TOKEN_ENV)
    if token is None:
        raise ValueError('connect_to_dashboard() needs the token the dashboard printed '
                         '(token=..., or the %s environment variable)'
                         % Mpire.DASHBOARD_TOKEN_ENV)
    if isinstance(manager_host, bytes):
        manager_host = manager_host.decode()
    try:
        Mpire.Dashboard.connect_to_dashboard(manager_host or '127.0.0.1', int(manager_port_nr),
                                             token)
    except GLib.Error as error:
        raise ConnectionError(error.message) from None


def get_stacklevel():
    """MPIRE's stack level for the call site the dashboard shows. This
    dashboard does not show call sites: kept for MPIRE's API."""
    return _stacklevel


def set_stacklevel(stacklevel):
    """See :func:`get_stacklevel`."""
    global _stacklevel

    _stacklevel = int(stacklevel)
