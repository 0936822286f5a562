#!/usr/bin/python3
# test_mpire_glib_dashboard.py: mpire_glib.dashboard, MPIRE's dashboard
# functions: a map of this process shows on a dashboard it started, and
# on one in another process (the mpire-dashboard command, the argument)
# once connected with the token it printed.
#
# SPDX-License-Identifier: MIT

import json
import re
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

from mpire_glib import WorkerPool
from mpire_glib.dashboard import (connect_to_dashboard, shutdown_dashboard,
                                  start_dashboard)

DASHBOARD_COMMAND = None


def square(x):
    return x * x


def maps_of(port):
    with urllib.request.urlopen('http://127.0.0.1:%d/api/maps' % port, timeout=10) as reply:
        return json.load(reply)


def n_completed(port):
    return sum(1 for m in maps_of(port)['maps']
               if m.get('status') == 'completed' and m.get('done') == m.get('total') > 0)


def wait_for_completed(port, n):
    """Whether the dashboard shows @n completed maps, soon."""
    for _ in range(100):
        if n_completed(port) >= n:
            return True
        time.sleep(0.1)
    return False


class DashboardTest(unittest.TestCase):
    def test_start_dashboard(self):
        details = start_dashboard(range(8580, 8600))
        try:
            self.assertEqual(details['dashboard_port_nr'], details['manager_port_nr'])
            self.assertTrue(8580 <= details['dashboard_port_nr'] < 8600)
            self.assertEqual(len(details['token']), 32)
            with WorkerPool(n_jobs=2, start_method='threading') as pool:
                self.assertEqual(pool.map(square, range(1234)), [x * x for x in range(1234)])
            self.assertTrue(wait_for_completed(details['dashboard_port_nr'], 1))
        finally:
            shutdown_dashboard()

    def test_counts_tasks(self):
        details = start_dashboard(range(8580, 8600))
        try:
            port = details['dashboard_port_nr']
            with WorkerPool(n_jobs=2, start_method='fork') as pool:
                pool.map(square, range(1000), chunk_size=10)
            self.assertTrue(wait_for_completed(port, 1))
            # The map's 1,000 tasks, not its 100 chunks.
            self.assertEqual([(m['done'], m['total']) for m in maps_of(port)['maps']],
                             [(1000, 1000)])
        finally:
            shutdown_dashboard()

    def test_no_free_port(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            port = busy.getsockname()[1]
            with self.assertRaises(OSError):
                start_dashboard(range(port, port + 1))

    def test_connect_needs_a_token(self):
        with self.assertRaises(ValueError):
            connect_to_dashboard(8080, token=None)

    def test_connect_to_another_process(self):
        if DASHBOARD_COMMAND is None:
            self.skipTest('no mpire-dashboard command given')
        server = subprocess.Popen([DASHBOARD_COMMAND, '--port-range', '8610-8629'],
                                  stdout=subprocess.PIPE, text=True)
        try:
            port = token = None
            for line in server.stdout:
                match = re.search(r'http://127\.0\.0\.1:(\d+)/', line)
                if match:
                    port = int(match.group(1))
                match = re.search(r'Token for pools in other processes: (\w+)', line)
                if match:
                    token = match.group(1)
                if port and token:
                    break
            self.assertIsNotNone(port)
            with self.assertRaises(ConnectionError):
                connect_to_dashboard(port, 'localhost', token='0' * 32)
            connect_to_dashboard(port, 'localhost', token=token)
            before = n_completed(port)
            with WorkerPool(n_jobs=2, start_method='threading') as pool:
                pool.map(square, range(4321))
            self.assertTrue(wait_for_completed(port, before + 1))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == '__main__':
    if len(sys.argv) > 1 and not sys.argv[1].startswith('-'):
        DASHBOARD_COMMAND = sys.argv.pop(1)
    unittest.main(verbosity=2)
