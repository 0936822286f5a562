// The dashboard's page: a table of maps, kept live by the Server-Sent
// Events of /api/events ("maps": all of them, on connecting; "map": one
// that changed). Every text from a pool goes in with textContent, never
// as HTML.
'use strict';

const rows = new Map();  // id -> {row, details}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className)
    node.className = className;
  if (text !== undefined && text !== null)
    node.textContent = String(text);
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds))
    return '–';
  const s = Math.round(seconds);
  const two = (n) => String(n).padStart(2, '0');
  if (s >= 3600)
    return `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return `${two(Math.floor(s / 60))}:${two(s % 60)}`;
}

function clock(seconds) {
  if (!seconds)
    return '–';
  return new Date(seconds * 1000).toLocaleString();
}

function number(value, digits) {
  if (typeof value !== 'number' || !isFinite(value))
    return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

function makeRow(id) {
  const row = el('tr');
  row.id = `map-${id}`;
  row.className = 'map';
  for (const name of ['id', 'title', 'progress', 'done', 'rate', 'eta', 'start', 'end', 'status'])
    row.append(el('td', name));
  row.querySelector('.id').textContent = String(id);

  const title = row.querySelector('.title');
  title.append(el('div', 'map-title'), el('div', 'map-origin'));

  const progress = row.querySelector('.progress');
  const bar = el('div', 'bar');
  bar.append(el('div', 'bar-fill'));
  progress.append(bar, el('div', 'percent'));

  const details = el('tr', 'details');
  details.id = `map-${id}-details`;
  const cell = el('td');
  cell.colSpan = 9;
  cell.append(el('p', 'error-message'), el('pre', 'failed-args'), el('div', 'insights'));
  details.append(cell);
  details.hidden = true;

  const body = document.getElementById('map-rows');
  body.append(row, details);
  return {row, details};
}

function renderInsights(container, insights) {
  container.replaceChildren();
  if (!insights || typeof insights !== 'object')
    return;
  const summary = el('details');
  const parts = ['Worker insights'];
  if (typeof insights.total_time === 'number')
    parts.push(`total ${insights.total_time.toFixed(2)} s`);
  for (const [key, label] of [['working_ratio', 'working'], ['waiting_ratio', 'waiting']]) {
    if (typeof insights[key] === 'number')
      parts.push(`${label} ${(100 * insights[key]).toFixed(1)}%`);
  }
  summary.append(el('summary', null, parts.join(' · ')));
  const table = el('table');
  for (const [key, value] of Object.entries(insights)) {
    const tr = el('tr');
    const text = Array.isArray(value)
      ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : number(v, 3))).join(', ')
      : (typeof value === 'object' && value !== null ? JSON.stringify(value) : number(value, 3));
    tr.append(el('th', null, key), el('td', null, text));
    table.append(tr);
  }
  summary.append(table);
  container.append(summary);
}

function render(map) {
  let entry = rows.get(map.id);
  if (!entry) {
    entry = makeRow(map.id);
    rows.set(map.id, entry);
  }
  const {row, details} = entry;
  const status = map.status || 'running';
  const done = map.done || 0;
  const total = map.total || 0;
  const percent = typeof map.percent === 'number' ? map.percent : null;

  row.dataset.status = status;
  row.querySelector('.map-title').textContent = map.description || map.task || '';
  const origin = [map.task, map.host, map.pid ? `pid ${map.pid}` : null,
                  map.start_method, map.n_jobs ? `${map.n_jobs} workers` : null];
  row.querySelector('.map-origin').textContent = origin.filter((x) => x).join(' · ');
  row.querySelector('.bar-fill').style.width = `${percent === null ? 0 : percent}%`;
  row.querySelector('.percent').textContent = percent === null ? '' : `${Math.floor(percent)}%`;
  row.querySelector('.done').textContent = total > 0 ? `${done}/${total}` : String(done);
  row.querySelector('.rate').textContent =
    typeof map.rate === 'number' ? `${map.rate.toFixed(2)} tasks/s` : '–';
  row.querySelector('.eta').textContent = status === 'running' ? duration(map.eta) : '–';
  row.querySelector('.start').textContent = clock(map.start_time);
  row.querySelector('.end').textContent = clock(map.end_time);
  row.querySelector('.status').textContent = status;

  const message = details.querySelector('.error-message');
  const args = details.querySelector('.failed-args');
  message.textContent = map.error ? `Error: ${map.error.message}` : '';
  message.hidden = !map.error;
  args.textContent = map.failed_args ? `Failing task's arguments: ${map.failed_args}` : '';
  args.hidden = !map.failed_args;
  renderInsights(details.querySelector('.insights'), map.insights);
  details.hidden = !map.error && !map.failed_args && !map.insights;

  document.getElementById('maps').hidden = false;
  document.getElementById('empty').hidden = true;
}

function setConnection(state, text) {
  const node = document.getElementById('connection');
  node.dataset.state = state;
  node.textContent = text;
}

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => setConnection('live', 'Live'));
  events.addEventListener('error', () => setConnection('lost', 'Connection lost, retrying…'));
  events.addEventListener('maps', (event) => {
    for (const map of JSON.parse(event.data).maps)
      render(map);
  });
  events.addEventListener('map', (event) => render(JSON.parse(event.data)));
}

connect();
