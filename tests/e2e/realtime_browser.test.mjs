// A real browser on the realtime streams: headless Chromium opens a page
// (served here, from another origin that CORS_ORIGINS allows) whose script
// connects with the browser's own WebSocket and EventSource using tickets,
// shows the event it receives on each, and posts what it shows back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, sql, createUser } from './helpers.mjs';
import { startProxy, portNear } from './realtime_helpers.mjs';

const P = `e2e_rtb_${process.pid}`;
const STORE = `${P}_s`;
const PRODUCT = `${P}_p`;
const PAGE_PORT = portNear(53);
const PAGE_ORIGIN = `http://127.0.0.1:${PAGE_PORT}`;

const admin = createUser({ role: 'admin', tag: 'rtb-admin' });
const res = await api('POST', '/api/stores', {
  headers: admin.headers,
  body: { id: STORE, name: 'E2E browser store', address: '1 Browser Way, New York, NY', location: { latitude: 40.75, longitude: -73.99 },
    timeZone: 'America/New_York', openingHours: {} },
});
assert.equal(res.status, 201, res.text);
sql(`INSERT INTO multistore.products (id, sku, name, price) VALUES ('${PRODUCT}', '${PRODUCT}', 'E2E browser product', 1.00)`);
after(() => sql(`DELETE FROM multistore.events WHERE store_id = '${STORE}'; DELETE FROM multistore.stores WHERE id = '${STORE}';
                 DELETE FROM multistore.products WHERE id = '${PRODUCT}'`));

// The page: the README's browser example, with the tickets filled in, reporting back to this test
function page(proxy, wsTicket, sseTicket) {
  return `<!doctype html><meta charset="utf-8"><title>multistore live</title>
<p id="ws">waiting</p><p id="sse">waiting</p>
<script>
const got = {};
// once both have shown their event, what the page shows goes back to the test
const report = () => {
  if (!got.ws || !got.sse) return;
  got.sse.shown = document.getElementById('sse').textContent;
  got.sse.shownWs = document.getElementById('ws').textContent;
  fetch('/result', { method: 'POST', body: JSON.stringify(got) });
};
let open = 0;
const opened = () => { if (++open === 2) fetch('/ready'); };
const ws = new WebSocket('${proxy.replace('http', 'ws')}/ws?stores=${STORE}&ticket=${wsTicket}');
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.type === 'ready') return opened();
  if (msg.type !== 'inventory.changed') return;
  document.getElementById('ws').textContent = 'WebSocket: ' + msg.data.productId + ' ' + msg.data.available;
  got.ws = msg; report();
};
const es = new EventSource('${proxy}/api/events?stores=${STORE}&ticket=${sseTicket}');
es.onopen = opened;
es.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  document.getElementById('sse').textContent = 'EventSource: ' + msg.data.productId + ' ' + msg.data.available + ' #' + m.lastEventId;
  got.sse = { ...msg, lastEventId: m.lastEventId };
  report();
};
</script>`;
}

test('headless Chromium receives an event over its own WebSocket and EventSource, with tickets', { timeout: 90000 }, async () => {
  const proxy = await startProxy(portNear(52), { CORS_ORIGINS: PAGE_ORIGIN });
  const user = createUser({ tag: 'rtb-user' });
  const tickets = [];
  for (let i = 0; i < 2; i++) {
    const t = await api('POST', '/api/realtime/ticket', { headers: user.headers });
    assert.equal(t.status, 201, t.text);
    tickets.push(t.body.ticket);
  }
  let resolveResult;
  const result = new Promise((r) => { resolveResult = r; });
  const server = http.createServer((req, reply) => {
    if (req.url === '/') {
      reply.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      reply.end(page(proxy.base, tickets[0], tickets[1]));
    } else if (req.url === '/ready') {
      // both streams are open: a change they must both see
      sql(`SELECT multistore.inventory_set('${admin.sessionId}', '${STORE}', '${PRODUCT}', '{"onHand":17}')`);
      reply.end('ok');
    } else if (req.url === '/result' && req.method === 'POST') {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { reply.end('ok'); resolveResult(JSON.parse(body)); });
    } else {
      reply.writeHead(404);
      reply.end();
    }
  });
  await new Promise((r) => server.listen(PAGE_PORT, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'ms-chromium-'));
  const chromium = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--no-first-run', '--remote-debugging-port=0', `--user-data-dir=${profile}`, `${PAGE_ORIGIN}/`],
  { stdio: 'ignore', detached: true });
  try {
    let timer;
    const got = await Promise.race([result, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('no result from the page in 60 s')), 60000);
    })]).finally(() => clearTimeout(timer));
    assert.equal(got.ws.type, 'inventory.changed');
    assert.deepEqual(got.ws.data, { storeId: STORE, productId: PRODUCT, available: 17 });
    assert.deepEqual(got.sse.data, got.ws.data, 'the same event on both');
    assert.equal(got.sse.lastEventId, String(got.ws.id), 'EventSource saw the id line');
    assert.equal(got.sse.shown, `EventSource: ${PRODUCT} 17 #${got.ws.id}`, 'the page shows it');
    assert.equal(got.sse.shownWs, `WebSocket: ${PRODUCT} 17`);
  } finally {
    try { process.kill(-chromium.pid, 'SIGKILL'); } catch { /* gone */ }
    server.close();
    await proxy.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});
