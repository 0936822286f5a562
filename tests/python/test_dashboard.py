#!/usr/bin/python3
# test_dashboard.py: Mpire.Dashboard through PyGObject.
#
# Starts a dashboard in this process on a port range of its own, runs
# maps of Python tasks (threading pool) and reads them back from the
# JSON API over HTTP; connects to it as a pool in another process would.
# Given the mpire-dashboard command as its argument, also connects to
# one started by it, in another process.
# Exits 0 when every check passed, 1 otherwise; prints one line per check.
#
# SPDX-License-Identifier: MIT

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpire', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import GLib, Gio, Mpire  # noqa: E402

DOMAIN = 'test-dashboard'


def double(ctx, args):
    return GLib.Variant('x', args.get_int64() * 2)


def picky(ctx, args):
    text = args.get_string()
    if '<script>' in text:
        raise GLib.Error.new_literal(GLib.quark_from_string(DOMAIN), 'no scripts here', 7)
    return GLib.Variant('x', len(text))


double_task = Mpire.Task.new('double', double)
picky_task = Mpire.Task.new('picky', picky)

failures = 0


def check(name, ok, detail=''):
    global failures
    print('%s %s%s' % ('ok' if ok else 'FAIL', name, '' if ok else ': ' + detail))
    if not ok:
        failures += 1
    return ok


def get(dashboard, path):
    with urllib.request.urlopen(dashboard.props.url + path, timeout=10) as reply:
        return json.loads(reply.read())


def find(maps, description):
    return next((m for m in maps if m.get('description') == description), None)


def main():
    Mpire.init(sys.argv)
    first = 15000 + (os.getpid() % 400) * 10  # below the ephemeral ports

    dashboard = Mpire.Dashboard.new()
    notified = []
    dashboard.connect('notify::port', lambda *a: notified.append(dashboard.props.port))
    dashboard.set_port_range(first, first + 9)
    dashboard.start()
    port = dashboard.get_port()
    check('started in the range', first <= port <= first + 9, str(port))
    check('port notified', notified == [port], str(notified))
    check('url', dashboard.props.url == 'http://127.0.0.1:%d/' % port, dashboard.props.url)
    check('token', len(dashboard.props.token or '') == 32, repr(dashboard.props.token))

    # A map of this process shows up by itself, with the "dashboard" style.
    pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.THREADING)
    options = Mpire.MapOptions.new()
    options.props.progress_bar = True
    options.props.progress_bar_style = 'dashboard'
    options.props.progress_bar_options = GLib.Variant('a{sv}', {'desc': GLib.Variant('s', 'Doubling')})
    result = pool.map(double_task, GLib.Variant('ax', list(range(500))), options, None)
    check('map result', result.unpack() == [2 * i for i in range(500)])
    maps = get(dashboard, 'api/maps')['maps']
    doubling = find(maps, 'Doubling')
    check('map listed', doubling is not None, str(maps))
    if doubling:
        check('map completed', doubling['status'] == 'completed' and doubling['done'] == 500
              and doubling['total'] == 500 and doubling['percent'] == 100, str(doubling))
        check('task name', doubling['task'] == 'double', str(doubling))

    # A failing map: its error and the failing task's arguments.
    pool.props.enable_insights = True
    try:
        pool.map(picky_task, GLib.Variant('as', ['a', '<script>x</script>', 'c']), None, None)
        check('failing map fails', False, 'no error')
    except GLib.Error as e:
        check('failing map fails', e.domain == DOMAIN and e.code == 7, str(e))
    maps = get(dashboard, 'api/maps')['maps']
    failed = find(maps, 'picky')
    check('failed map listed', failed is not None and failed['status'] == 'failed', str(maps))
    if failed:
        detail = get(dashboard, 'api/maps/%d' % failed['id'])
        check('error message', 'no scripts here' in detail['error']['message'], str(detail))
        check('error domain', detail['error']['domain'] == DOMAIN, str(detail))
        check('failing args', detail['failed_args'] == "'<script>x</script>'", str(detail))
        check('insights', isinstance(detail.get('insights'), dict) and
              'total_time' in detail['insights'], str(detail.get('insights')))

    # Connecting as another process would: a bad token is an error.
    try:
        Mpire.Dashboard.connect_to_dashboard('127.0.0.1', port, 'not-the-token')
        check('bad token refused', False, 'connected')
    except GLib.Error as e:
        check('bad token refused', e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.PERMISSION_DENIED),
              str(e))
    check('connect', Mpire.Dashboard.connect_to_dashboard('127.0.0.1', port, dashboard.props.token))
    before = get(dashboard, 'api/info')['pushes']
    options.props.progress_bar_options = GLib.Variant('a{sv}', {'desc': GLib.Variant('s', 'Pushed')})
    pool.map(double_task, GLib.Variant('ax', list(range(50))), options, None)
    Mpire.Dashboard.disconnect_from_dashboard()
    check('pushed', get(dashboard, 'api/info')['pushes'] > before)

    # A push without the token is refused.
    request = urllib.request.Request(dashboard.props.url + 'api/push', data=b'{"maps": []}',
                                     method='POST')
    try:
        urllib.request.urlopen(request, timeout=10)
        check('push without token refused', False, 'accepted')
    except urllib.error.HTTPError as e:
        check('push without token refused', e.code == 403, str(e.code))

    dashboard.stop()
    check('stopped', dashboard.props.port == 0 and dashboard.props.url is None)

    if len(sys.argv) > 1:
        two_processes(sys.argv[1], first + 100)
    return 1 if failures else 0


def two_processes(tool, first):
    """This script as the pool of another process: mpire-dashboard
    serves, the script connects to it and runs a map."""
    server = subprocess.Popen([tool, '--port-range', '%d-%d' % (first, first + 9)],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = token = None
        for line in server.stdout:
            if url is None and 'http://127.0.0.1:' in line:
                url = line[line.index('http://'):].split()[0]
            if 'MPIRE_DASHBOARD_TOKEN=' in line:
                token = line.split('MPIRE_DASHBOARD_TOKEN=')[1].strip()
                break
        check('mpire-dashboard started', url is not None and token is not None)
        port = int(url.rstrip('/').rsplit(':', 1)[1])
        check('connect to mpire-dashboard',
              Mpire.Dashboard.connect_to_dashboard('127.0.0.1', port, token))
        pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.THREADING)
        options = Mpire.MapOptions.new()
        options.props.progress_bar_options = GLib.Variant(
            'a{sv}', {'desc': GLib.Variant('s', 'From Python')})
        result = pool.map(double_task, GLib.Variant('ax', list(range(300))), options, None)
        check('map in the other process', len(result.unpack()) == 300)
        Mpire.Dashboard.disconnect_from_dashboard()
        with urllib.request.urlopen(url + 'api/maps', timeout=10) as reply:
            maps = json.loads(reply.read())['maps']
        pushed = find(maps, 'From Python')
        check('the other dashboard shows the map', pushed is not None and
              pushed['status'] == 'completed' and pushed['done'] == 300 and
              pushed['pid'] == os.getpid(), str(maps))
    finally:
        server.terminate()
        check('mpire-dashboard stopped cleanly', server.wait(timeout=10) == 0)


if __name__ == '__main__':
    sys.exit(main())
