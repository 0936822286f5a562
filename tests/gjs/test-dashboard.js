// test-dashboard.js: Mpire.Dashboard through GJS.
//
// Usage: gjs -m test-dashboard.js
//
// Starts a dashboard in this process, runs a map of a JavaScript task on
// a spawn pool (this script is run again as each worker: the task comes
// before Mpire.init(), the test after), and reads the map back from the
// JSON API with libsoup. Exits 0 when every check passed, 1 otherwise.
//
// SPDX-License-Identifier: MIT

import GLib from 'gi://GLib';
import Mpire from 'gi://Mpire?version=1.0';
import Soup from 'gi://Soup?version=3.0';
import System from 'system';

const tripleTask = Mpire.Task.new('triple',
    (ctx, args) => new GLib.Variant('x', args.get_int64() * 3));

Mpire.init(ARGV);

let failures = 0;
function check(name, ok, detail = '') {
    print(`${ok ? 'ok' : 'FAIL'} ${name}${ok ? '' : `: ${detail}`}`);
    if (!ok)
        failures++;
}

function getJson(session, url) {
    const msg = Soup.Message.new('GET', url);
    const bytes = session.send_and_read(msg, null);
    return [msg.get_status(), JSON.parse(new TextDecoder().decode(bytes.get_data()))];
}

try {
    const first = 19200 + GLib.random_int_range(0, 150) * 10;  // below the ephemeral ports
    const dashboard = Mpire.Dashboard.new();
    dashboard.set_port_range(first, first + 9);
    dashboard.start();
    const port = dashboard.port;
    check('started in the range', port >= first && port <= first + 9, `${port}`);
    check('url', dashboard.url === `http://127.0.0.1:${port}/`, dashboard.url);
    check('token', (dashboard.token ?? '').length === 32, dashboard.token);

    const pool = Mpire.WorkerPool.new(2, Mpire.StartMethod.SPAWN);
    const options = Mpire.MapOptions.new();
    options.progress_bar = true;
    options.progress_bar_style = 'dashboard';
    options.progress_bar_options = new GLib.Variant('a{sv}',
        {desc: new GLib.Variant('s', 'Tripling in JS')});
    const input = new GLib.Variant('ax', Array.from({length: 200}, (_, i) => i));
    const result = pool.map(tripleTask, input, options, null).deepUnpack();
    check('map result', result.length === 200 && result[199] === 597, `${result.length}`);

    const session = new Soup.Session();
    const [status, body] = getJson(session, `${dashboard.url}api/maps`);
    check('GET /api/maps', status === 200, `${status}`);
    const map = body.maps.find(m => m.description === 'Tripling in JS');
    check('map listed and completed', map !== undefined && map.status === 'completed' &&
          map.done === 200 && map.total === 200 && map.start_method === 'spawn',
          JSON.stringify(body));

    // A wrong token is refused.
    try {
        Mpire.Dashboard.connect_to_dashboard('127.0.0.1', port, 'wrong');
        check('bad token refused', false, 'connected');
    } catch (e) {
        check('bad token refused', e.message.includes('refused the token'), `${e}`);
    }
    dashboard.stop();
    check('stopped', dashboard.port === 0 && dashboard.url === null);
} catch (e) {
    check('no exception', false, `${e}\n${e.stack}`);
}

System.exit(failures ? 1 : 0);
