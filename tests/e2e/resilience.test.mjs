// The proxy while the database comes and goes: fast 503s, then recovery
// without a restart; and a clean stop on SIGTERM.  The proxy under test
// reaches PostgreSQL through a TCP relay this test can cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { DB, PROXY_BIN } from './helpers.mjs';

const PROXY = PROXY_BIN;
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

test('SIGTERM lets a request in flight finish, refuses new connections, and exits', async () => {
  const port = 4196;
  const proc = spawn(PROXY, [], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error' }, stdio: 'ignore' });
  const exited = once(proc, 'exit');
  try {
    await until(async () => (await get(port, '/health')).status === 200);
    // a login whose body is still on its way when the signal comes
    const body = JSON.stringify({ email: 'customer@example.com', password: 'multistore-demo' });
    const answer = new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);
      });
      let text = '';
      s.on('data', (d) => { text += d; });
      s.on('end', () => resolve(text));
      s.on('error', reject);
      setTimeout(() => {
        proc.kill('SIGTERM');
        setTimeout(async () => {
          // no new connection is accepted once stopping began
          const refused = await new Promise((res) => {
            const c = net.connect(port, '127.0.0.1');
            c.on('connect', () => { c.destroy(); res(false); });
            c.on('error', (e) => res(e.code === 'ECONNREFUSED'));
          });
          assert.ok(refused, 'a new connection after SIGTERM is refused');
          s.write(body.slice(10));
        }, 300);
      }, 300);
    });
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 200/, 'the request in flight got its answer');
    assert.match(text, /"accessToken"/);
    const t0 = Date.now();
    const [code] = await exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 10000, 'and the proxy exits within 10 s');
  } finally {
    proc.kill('SIGKILL');
  }
});

test('the database stopped and started under load: quick 503s, then recovery by itself', { timeout: 120000 }, async () => {
  // a cluster of its own, so the rest of the suite keeps its database
  const root = new URL('../..', import.meta.url).pathname;
  const run = (args, env = {}) => execFileSync(args[0], args.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: 'pipe' });
  const url = 'postgresql://postgres@127.0.0.1:54397/multistore_outage';
  run(['scripts/cluster', 'remove', 'outage']);
  run(['scripts/cluster', 'start', 'outage', '54397', 'multistore_outage', '--fast']);
  run(['scripts/migrate'], { DATABASE_URL: url });
  run(['scripts/seed'], { DATABASE_URL: url });
  const port = 4195;
  const proc = spawn(PROXY, [], { env: { ...process.env, DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error' }, stdio: 'ignore' });
  const seen = { ok: 0, unavailable: 0, other: [], slowest503: 0 };
  let loading = true;
  const worker = async () => {
    while (loading) {
      const t0 = Date.now();
      try {
        const r = await fetch(`http://127.0.0.1:${port}/api/stores/store_${1 + Math.floor(Math.random() * 60)}`);
        const ms = Date.now() - t0;
        if (r.status === 200) seen.ok++;
        else if (r.status === 503 && (await r.json()).error.code === 'unavailable') {
          seen.unavailable++;
          seen.slowest503 = Math.max(seen.slowest503, ms);
        } else seen.other.push(r.status);
      } catch (e) { seen.other.push(e.message); }
    }
  };
  try {
    await until(async () => (await get(port, '/health')).status === 200);
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 1000));
    const before = seen.ok;
    run(['scripts/cluster', 'stop', 'outage']);
    await new Promise((r) => setTimeout(r, 2000));
    const health = await get(port, '/health');
    assert.equal(health.status, 503, 'health says the database is down');
    run(['scripts/cluster', 'start', 'outage', '54397', 'multistore_outage']);
    const okAtRestart = seen.ok;
    await until(async () => seen.ok > okAtRestart + 20, 10000);
    loading = false;
    await Promise.all(workers);
    assert.ok(before > 0, 'served before the outage');
    assert.ok(seen.unavailable > 0, 'answered 503 unavailable during it');
    assert.ok(seen.slowest503 < 2500, `every 503 was quick (slowest ${seen.slowest503} ms)`);
    assert.deepEqual(seen.other, [], 'nothing but 200 and 503 unavailable, no dropped connection');
    assert.equal((await get(port, '/health')).status, 200, 'and healthy again, without a restart');
  } finally {
    loading = false;
    proc.kill('SIGTERM');
    run(['scripts/cluster', 'remove', 'outage']);
  }
});
