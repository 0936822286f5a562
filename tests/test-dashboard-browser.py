#!/usr/bin/python3
"""The dashboard's page in headless Chromium.

Starts `mpire-dashboard`, then a program in another process
(dashboard-client) whose pool reports a map of naps and a map failing on
an argument that holds a <script> element, and drives Chromium through
the DevTools protocol on a pipe (--remote-debugging-pipe, standard
library only) while they run. Checks from the rendered DOM that the
table shows the map while it runs and at 100% when done, and that the
failing task's arguments and the descriptions holding markup are shown
as text (no element made from them, no script run). The screenshot and
the DOM are kept in ARTIFACTS-DIR.

Usage: test-dashboard-browser.py MPIRE-DASHBOARD DASHBOARD-CLIENT ARTIFACTS-DIR
Exits 77 (skipped) when Chromium is not installed.
"""

import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time

SKIP = 77


class Browser:
    """Chromium with the DevTools protocol on fds 3 (to it) and 4 (from it)."""

    def __init__(self, chromium):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # The child gets the pipe ends as fds 3 and 4, through copies
        # above both so that neither dup2() closes the other's end.
        def setup():
            high_r = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3, inheritable=True)
            os.dup2(high_w, 4, inheritable=True)
        self.process = subprocess.Popen(
            [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-extensions', '--window-size=1400,900', '--remote-debugging-pipe',
             'about:blank'],
            pass_fds=(3, 4), preexec_fn=setup,
            stdout=subprocess.DEVNULL, stderr=open(os.environ.get('MPIRE_CHROMIUM_LOG', os.devnull), 'w'))
        os.close(to_r)
        os.close(from_w)
        self.buffer = b''
        self.next_id = 0
        self.session = None

    def call(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        message = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session and self.session:
            message['sessionId'] = self.session
        os.write(self.to_w, json.dumps(message).encode() + b'\0')
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b'\0' in self.buffer:
                raw, self.buffer = self.buffer.split(b'\0', 1)
                reply = json.loads(raw)
                if reply.get('id') == self.next_id:
                    if 'error' in reply:
                        raise RuntimeError(f'{method}: {reply["error"]}')
                    return reply.get('result', {})
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise RuntimeError('Chromium closed the pipe')
            self.buffer += chunk
        raise RuntimeError(f'{method}: no answer in {timeout} s')

    def open(self, url):
        target = self.call('Target.createTarget', {'url': url}, session=False)
        attached = self.call('Target.attachToTarget',
                             {'targetId': target['targetId'], 'flatten': True}, session=False)
        self.session = attached['sessionId']

    def evaluate(self, expression):
        result = self.call('Runtime.evaluate', {'expression': expression, 'returnByValue': True})
        return result.get('result', {}).get('value')

    def screenshot(self, path):
        data = self.call('Page.captureScreenshot', {'format': 'png'})['data']
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call('Browser.close', session=False, timeout=5)
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# What the page shows, read from its DOM: one entry per row of the table.
ROWS = """
JSON.stringify({
  rows: [...document.querySelectorAll('#map-rows tr.map')].map((row) => {
    const details = document.getElementById(row.id + '-details');
    return {
      id: row.id,
      status: row.dataset.status,
      title: row.querySelector('.map-title').textContent,
      percent: row.querySelector('.percent').textContent,
      done: row.querySelector('.done').textContent,
      error: details.querySelector('.error-message').textContent,
      args: details.querySelector('.failed-args').textContent,
      elementsInTitle: row.querySelector('.map-title').children.length,
      elementsInDetails: details.querySelector('.error-message').children.length +
                         details.querySelector('.failed-args').children.length,
      insights: [...details.querySelectorAll('.insights th')].map((th) => th.textContent),
    };
  }),
  scripts: document.querySelectorAll('script').length,
  bold: document.querySelectorAll('#map-rows b').length,
  pwned: window.pwned === true,
  connection: document.getElementById('connection').dataset.state,
})
"""


def wait_for(browser, condition, timeout, what):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        value = browser.evaluate(ROWS)
        # None while the page is still loading (the script throws).
        state = json.loads(value) if value is not None else None
        if state is not None and condition(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f'{what}: not seen in {timeout} s; the page shows {state}')


def main():
    tool, client, artifacts = sys.argv[1:4]
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if chromium is None:
        print('SKIP: Chromium is not installed (Debian package chromium; '
              'scripts/install-deps.sh installs it)')
        return SKIP
    os.makedirs(artifacts, exist_ok=True)

    # Below the kernel's ephemeral ports (32768 and up).
    first = 12000 + (os.getpid() % 300) * 10
    dashboard = subprocess.Popen([tool, '--port-range', f'{first}-{first + 9}'],
                                 stdout=subprocess.PIPE, text=True)
    browser = None
    runner = None
    try:
        url = token = None
        for line in dashboard.stdout:
            print('mpire-dashboard:', line.rstrip())
            if url is None and 'http://127.0.0.1:' in line:
                url = line[line.index('http://'):].split()[0]
            if 'MPIRE_DASHBOARD_TOKEN=' in line:
                token = line.split('MPIRE_DASHBOARD_TOKEN=')[1].strip()
                break
        assert url and token, 'mpire-dashboard printed no URL and token'
        port = int(url.rstrip('/').rsplit(':', 1)[1])

        browser = Browser(chromium)
        browser.open(url)
        wait_for(browser, lambda s: s['connection'] == 'live', 30, 'the page connected')

        # About 3 s of naps on 2 workers, then the failing map.
        runner = subprocess.Popen([client, '--connect', f'127.0.0.1:{port}:{token}',
                                   '--tasks', '600', '--nap-ms', '10', '--fail', '--insights'],
                                  stdout=subprocess.DEVNULL)
        running = wait_for(
            browser,
            lambda s: any(r['status'] == 'running' and r['title'] == 'Naps in another process'
                          and r['percent'] not in ('', '0%') for r in s['rows']),
            30, 'the map while it runs')
        print('while running:', running['rows'])
        assert runner.wait(timeout=120) == 0, 'dashboard-client failed'

        done = wait_for(
            browser,
            lambda s: any(r['status'] == 'completed' and r['percent'] == '100%'
                          for r in s['rows']) and
            any(r['status'] == 'failed' for r in s['rows']),
            30, 'the map at 100% and the failed map')
        print('at the end:', [{k: v for k, v in r.items() if k != 'insights'} for r in done['rows']])

        naps = next(r for r in done['rows'] if r['title'] == 'Naps in another process')
        assert naps['done'] == '600/600', naps
        # Insights on: the page lists them under each map.
        assert 'total_time' in naps['insights'], naps
        failed = next(r for r in done['rows'] if r['status'] == 'failed')
        # Markup from the pool is text: the description, the error, the arguments.
        assert failed['title'] == '<b>Checking</b> texts', failed
        assert failed['elementsInTitle'] == 0, failed
        assert '<script>window.pwned = true</script><img src=x onerror=' in failed['args'], failed
        assert 'refusing <b>markup</b>' in failed['error'], failed
        assert failed['elementsInDetails'] == 0, failed
        assert done['bold'] == 0, done
        assert done['scripts'] == 1, done       # dashboard.js alone
        assert not done['pwned'], done

        browser.screenshot(os.path.join(artifacts, 'dashboard.png'))
        with open(os.path.join(artifacts, 'dashboard.html'), 'w') as f:
            f.write(browser.evaluate('document.documentElement.outerHTML'))
        print('screenshot:', os.path.join(artifacts, 'dashboard.png'))
        return 0
    finally:
        if browser is not None:
            browser.close()
        if runner is not None and runner.poll() is None:
            runner.kill()
            runner.wait()
        dashboard.terminate()
        # SIGTERM is a clean stop: anything else (a critical under
        # G_DEBUG=fatal-criticals, a crash) fails the test.
        status = dashboard.wait(timeout=10)
        if status != 0:
            raise AssertionError(f'mpire-dashboard exited with status {status}')


if __name__ == '__main__':
    sys.exit(main())
