// The proxy while the database comes and goes: fast 503s, then recovery
// without a restart; and a clean stop on SIGTERM.  The proxy under test
// reaches PostgreSQL through a TCP relay this test can cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { DB } from './helpers.mjs';

const PROXY = new URL('../../proxy/multistore-proxy', import.meta.url).pathname;
const dbUrl = new URL(DB);

// A relay 127.0.0.1:<port> -> the database; close() drops every connection
function relay(port) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(dbUrl.port), dbUrl.hostname);
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); }
    client.pipe(upstream).pipe(client);
  });
  server.listen(port, '127.0.0.1');
  return {
    ready: once(server, 'listening'),
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(resolve); }),
  };
}

function startProxy(port, relayPort) {
  const url = new URL(DB);
  url.port = String(relayPort);
  const proc = spawn(PROXY, [], {
    env: { ...process.env, DATABASE_URL: url.toString(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error' },
    stdio: 'ignore',
  });
  return proc;
}

async function get(port, path) {
  const t0 = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.json(), ms: Date.now() - t0, headers: res.headers };
}

async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('503 while the database is unreachable, and recovery without a restart', async () => {
  const relayPort = 54398, port = 4198;
  let r = relay(relayPort);
  await r.ready;
  const proc = startProxy(port, relayPort);
  try {
    await until(async () => (await get(port, '/health')).status === 200);
    assert.equal((await get(port, '/api/stores/store_1')).status, 200);

    await r.close();  // the database is gone
    for (let i = 0; i < 5; i++) {
      const health = await get(port, '/health');
      assert.equal(health.status, 503);
      assert.equal(health.body.status, 'unavailable');
      assert.equal(health.body.db, 'unreachable');
      const store = await get(port, '/api/stores/store_1');
      assert.equal(store.status, 503);
      assert.equal(store.body.error.code, 'unavailable');
      assert.equal(store.headers.get('retry-after'), '1');
      assert.ok(store.ms < 2500, `answered in ${store.ms} ms, not hanging`);
    }

    r = relay(relayPort);  // it is back
    await r.ready;
    const recovered = await until(async () => (await get(port, '/api/stores/store_1')).status === 200, 5000);
    assert.ok(recovered, 'serves again within 5 s, without a restart');
    assert.equal((await get(port, '/health')).status, 200);
  } finally {
    proc.kill('SIGTERM');
    await r.close();
  }
});

test('SIGTERM stops the proxy cleanly', async () => {
  const proc = spawn(PROXY, [], {
    env: { ...process.env, PORT: '4197', HOST: '127.0.0.1', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  await until(async () => (await get(4197, '/health')).status === 200);
  const t0 = Date.now();
  proc.kill('SIGTERM');
  const [code] = await once(proc, 'exit');
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 10000);
  assert.match(out, /"msg":"stopping","signal":"SIGTERM"/);
  assert.match(out, /"msg":"stopped"/);
});

test('a missing or bad setting stops start-up with one line and exit code 2', async () => {
  for (const [env, text] of [
    [{ DATABASE_URL: '' }, /DATABASE_URL is required/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32 bytes/],
    [{ PORT: 'eighty' }, /PORT must be an integer/],
  ]) {
    const proc = spawn(PROXY, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    const [code] = await once(proc, 'exit');
    assert.equal(code, 2);
    assert.match(err, text);
    assert.equal(err.trim().split('\n').length, 1, 'one line');
  }
});
