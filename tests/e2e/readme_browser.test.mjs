// The README's browser example, as written: headless Chromium opens /docs
// on the proxy (a page of the proxy's own origin, as the README says), and
// the example's code block runs in it as pasted into the console (top-level
// await), a real access token in place of its placeholder.  A stock change
// must then reach the page's WebSocket, and the example's lastId hold its
// id.  Driven over the DevTools protocol (the ws package).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BASE, api, sql, createUser } from './helpers.mjs';

const PRODUCT = `e2e_readme_${process.pid}`;
const PLACEHOLDER = "const token = '<accessToken from POST /api/auth/login>';";

// The code block under "In a browser, against `make run`" in the README's Real time section
function readmeExample() {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Real time\n'));
  const m = /In a browser, against `make run`[\s\S]*?```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the README has the browser example in its Real time section');
  assert.ok(m[1].includes(PLACEHOLDER), `the example starts from ${PLACEHOLDER}`);
  return m[1];
}

// A DevTools protocol session on the page of a headless Chromium
async function devtools(profile) {
  const chromium = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], { stdio: 'ignore', detached: true });
  const portFile = join(profile, 'DevToolsActivePort');
  for (let i = 0; i < 300 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(portFile), 'Chromium started with a DevTools port');
  const port = readFileSync(portFile, 'utf8').split('\n')[0];
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => t.type === 'page');
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { socket.on('open', resolve); socket.on('error', reject); });
  let next = 0;
  const pending = new Map();
  const listeners = [];
  socket.on('message', (text) => {
    const msg = JSON.parse(text);
    if (msg.id !== undefined && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    } else if (msg.method) for (const l of listeners) l(msg);
  });
  const send = (method, params = {}) => new Promise((resolve) => {
    next += 1;
    pending.set(next, resolve);
    socket.send(JSON.stringify({ id: next, method, params }));
  });
  // waits for an event of the protocol that pred accepts
  const waitFor = (pred, ms, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    listeners.push((msg) => { if (pred(msg)) { clearTimeout(timer); resolve(msg); } });
  });
  const close = () => {
    socket.close();
    try { process.kill(-chromium.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  return { send, waitFor, on: (listener) => listeners.push(listener), close };
}

// What the page's console.log(e) showed: the event's type and id (from V8's preview of e)
const logged = (msg) => {
  if (msg.method !== 'Runtime.consoleAPICalled' || msg.params.type !== 'log') return null;
  const props = msg.params.args[0]?.preview?.properties ?? [];
  const get = (name) => props.find((p) => p.name === name)?.value;
  return { type: get('type'), id: get('id'), objectId: msg.params.args[0]?.objectId };
};

sql(`INSERT INTO multistore.products (id, sku, name, price) VALUES ('${PRODUCT}', '${PRODUCT}', 'README example product', 1.00)`);
after(() => sql(`DELETE FROM multistore.events WHERE payload->>'productId' = '${PRODUCT}';
                 DELETE FROM multistore.inventory WHERE product_id = '${PRODUCT}';
                 DELETE FROM multistore.products WHERE id = '${PRODUCT}'`));

test("the README's browser example works as written, in a page of the proxy", { timeout: 90000 }, async () => {
  const example = readmeExample();
  const customer = createUser({ tag: 'readme-customer' });
  const admin = createUser({ role: 'admin', tag: 'readme-admin' });
  const profile = mkdtempSync(join(tmpdir(), 'ms-chromium-'));
  const browser = await devtools(profile);
  try {
    await browser.send('Page.enable');
    await browser.send('Runtime.enable');
    const loaded = browser.waitFor((m) => m.method === 'Page.loadEventFired', 30000, 'load of /docs');
    await browser.send('Page.navigate', { url: `${BASE}/docs` });
    await loaded;

    const ready = browser.waitFor((m) => logged(m)?.type === 'ready', 15000, "the example's ready message");
    const run = await browser.send('Runtime.evaluate', {
      expression: example.replace(PLACEHOLDER, `const token = '${customer.accessToken}';`),
      replMode: true, awaitPromise: true,
    });
    assert.equal(run.result.exceptionDetails, undefined, JSON.stringify(run.result.exceptionDetails));
    await ready;

    // the change the example's last comment suggests, as the admin; the page
    // watches store_1, where other tests change stock too: the event is the one of this product
    const seen = [];
    browser.on((m) => { if (logged(m)?.type === 'inventory.changed') seen.push(logged(m)); });
    const put = await api('PUT', `/api/stores/store_1/inventory/${PRODUCT}`, { headers: admin.headers, body: { onHand: 41 } });
    assert.equal(put.status, 200, put.text);
    const id = Number(sql(`SELECT max(id) FROM multistore.events WHERE type = 'inventory.changed' AND payload->>'productId' = '${PRODUCT}'`));
    let shown = null;
    for (let i = 0; i < 150 && !shown; i++) {
      const mine = seen.find((e) => Number(e.id) === id);
      if (mine) {
        // the whole object the page logged
        const r = await browser.send('Runtime.callFunctionOn', { objectId: mine.objectId, returnByValue: true,
          functionDeclaration: 'function () { return this; }' });
        shown = r.result.result.value;
      } else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(shown, `the page logged event ${id}, the change just made`);
    assert.deepEqual(shown.data, { storeId: 'store_1', productId: PRODUCT, available: 41 });
    const lastId = await browser.send('Runtime.evaluate', { expression: 'lastId', replMode: true });
    assert.ok(lastId.result.result.value >= id, `the example keeps the highest id for resuming (${lastId.result.result.value})`);
  } finally {
    browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
