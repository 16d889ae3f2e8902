// The HTTP edge over real HTTP: security headers, CORS and preflight from
// the route table, gzip, ETag and 304, Prometheus metrics (checked by
// promtool), rate limits per address and per user, X-Forwarded-For from
// trusted proxies only, slow and greedy clients.  Settings that differ
// from the shared test proxy get a proxy of their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { api, BASE, login, bearer, createUsers, PROXY_BIN } from './helpers.mjs';

const PROXY = PROXY_BIN;
let nextPort = 4170;

// A proxy of our own with these settings; stopped by the returned function
async function ownProxy(env) {
  const port = nextPort++;
  const proc = spawn(PROXY, [], {
    env: { ...process.env, LOG_LEVEL: 'error', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  // probed on connections that close, so that none lingers in fetch's
  // keep-alive pool and takes one of the connections a test counts
  const healthy = () => new Promise((resolve) => {
    http.get(`${base}/health`, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', () => resolve(false));
  });
  for (let i = 0; i < 50 && !(await healthy()); i++) await new Promise((r) => setTimeout(r, 100));
  return { base, port, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

// A raw GET through node:http, which leaves the body compressed
function rawGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

const NEARBY = '/api/stores/nearby?latitude=40.758&longitude=-73.9855&radius=50&limit=50';

test('every answer carries the security headers, and no server version', async () => {
  const admin = await login('admin@example.com');
  for (const [path, headers, status] of [
    ['/api/stores/store_1', {}, 200],
    ['/api/no-such-route', {}, 404],
    ['/api/cart', {}, 401],
    ['/api/cart', bearer(admin.accessToken), 200],
  ]) {
    const r = await api('GET', path, { headers });
    assert.equal(r.status, status, `${path}: ${r.text}`);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(r.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'", path);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer', path);
    assert.equal(r.headers.get('cross-origin-resource-policy'), 'same-origin', path);
    assert.equal(r.headers.get('x-frame-options'), 'DENY', path);
    assert.equal(r.headers.get('strict-transport-security'), null, 'no HSTS unless HSTS=on');
    assert.ok(!/\d/.test(r.headers.get('server') ?? ''), 'no version in Server');
    assert.match(r.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  }
  const hsts = await ownProxy({ HSTS: 'on' });
  try {
    const r = await fetch(`${hsts.base}/api/stores/store_1`);
    assert.equal(r.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  } finally { await hsts.stop(); }
});

test('CORS: an allowed origin is echoed, any other gets no CORS headers', async () => {
  const p = await ownProxy({ CORS_ORIGINS: 'https://shop.example, http://localhost:3000' });
  try {
    const ok = await fetch(`${p.base}/api/stores/store_1`, { headers: { origin: 'https://shop.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(ok.headers.get('vary'), /Origin/);
    for (const h of ['X-Request-Id', 'RateLimit', 'Retry-After', 'ETag', 'Idempotent-Replayed'])
      assert.ok(ok.headers.get('access-control-expose-headers').split(', ').includes(h), `exposes ${h}`);
    assert.equal(ok.headers.get('access-control-allow-credentials'), null);
    const evil = await fetch(`${p.base}/api/stores/store_1`, { headers: { origin: 'https://shop.example.evil' } });
    assert.equal(evil.status, 200);
    for (const [name] of evil.headers) assert.ok(!name.startsWith('access-control-'), `no ${name} for a stranger`);
    assert.match(evil.headers.get('vary'), /Origin/, 'Vary: Origin all the same, for caches');
  } finally { await p.stop(); }
});

test('CORS preflight is answered from the route table', async () => {
  const p = await ownProxy({ CORS_ORIGINS: 'https://shop.example' });
  try {
    const pre = (path, origin = 'https://shop.example') => fetch(`${p.base}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, idempotency-key' },
    });
    const orders = await pre('/api/orders');
    assert.equal(orders.status, 204);
    assert.deepEqual(orders.headers.get('access-control-allow-methods').split(', ').sort(), ['GET', 'HEAD', 'OPTIONS', 'POST']);
    const allowed = orders.headers.get('access-control-allow-headers').split(', ');
    for (const h of ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id']) assert.ok(allowed.includes(h), h);
    assert.equal(orders.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.ok(Number(orders.headers.get('access-control-max-age')) > 0);

    const item = await pre('/api/cart/items/6a3f1c2e-0000-4000-8000-000000000000');
    assert.deepEqual(item.headers.get('access-control-allow-methods').split(', ').sort(), ['DELETE', 'OPTIONS', 'PUT'],
      'methods of that path only');
    assert.equal((await pre('/api/nowhere')).status, 404, 'an unknown path is 404, not a blanket yes');
    const stranger = await pre('/api/orders', 'https://evil.example');
    assert.equal(stranger.headers.get('access-control-allow-origin'), null, 'a stranger learns nothing');
  } finally { await p.stop(); }
  const any = await ownProxy({ CORS_ORIGINS: '*' });
  try {
    const r = await fetch(`${any.base}/api/stores/store_1`, { headers: { origin: 'https://anyone.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.headers.get('access-control-allow-credentials'), null, '* never with credentials');
  } finally { await any.stop(); }
});

test('gzip for big bodies when the client takes it, never for small ones', async () => {
  const big = await rawGet(BASE + NEARBY, { 'accept-encoding': 'gzip, br' });
  assert.equal(big.status, 200);
  assert.equal(big.headers['content-encoding'], 'gzip');
  assert.match(big.headers.vary, /Accept-Encoding/);
  const plain = await rawGet(BASE + NEARBY);
  assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: identity');
  assert.ok(plain.body.length > 1024);
  assert.deepEqual(JSON.parse(gunzipSync(big.body)), JSON.parse(plain.body), 'the same document');
  assert.ok(big.body.length < plain.body.length / 2, `${big.body.length} vs ${plain.body.length} bytes`);
  const refused = await rawGet(BASE + NEARBY, { 'accept-encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is respected');
  const small = await rawGet(`${BASE}/health`, { 'accept-encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined, 'a small body is sent as it is');
});

test('public reads have a strong ETag and answer If-None-Match with 304; user data is never cached', async () => {
  const first = await rawGet(`${BASE}/api/stores/store_2`);
  const etag = first.headers.etag;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.match(first.headers['cache-control'], /^public, max-age=\d+, stale-while-revalidate=\d+$/);
  const again = await rawGet(`${BASE}/api/stores/store_2`, { 'if-none-match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, etag);
  assert.match(again.headers['cache-control'], /^public/);
  const zipped = await rawGet(BASE + NEARBY, { 'accept-encoding': 'gzip' });
  assert.match(zipped.headers.etag, /^"[0-9a-f]{32}-gz"$/, 'the gzip representation has its own tag');
  assert.equal((await rawGet(BASE + NEARBY, { 'if-none-match': zipped.headers.etag })).status, 304,
    'and either tag revalidates the same body');
  assert.equal((await rawGet(`${BASE}/api/stores/store_2`, { 'if-none-match': '"0123456789abcdef0123456789abcdef"' })).status, 200);
  const avail = await rawGet(`${BASE}/api/stores/store_2/availability?productIds=prod_1`);
  assert.ok(avail.headers.etag, 'availability has one too');

  const admin = await login('admin@example.com');
  const cart = await rawGet(`${BASE}/api/cart`, bearer(admin.accessToken));
  assert.equal(cart.headers['cache-control'], 'private, no-store');
  assert.equal(cart.headers.etag, undefined);
});

test('GET /metrics is the Prometheus text format, by route template, and promtool accepts it', async () => {
  await api('GET', '/api/stores/store_3');
  await api('GET', '/api/stores/no_such_store');
  const r = await fetch(`${BASE}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
  assert.match(text, /^multistore_http_requests_total\{route="\/api\/stores\/\{storeId\}",method="GET",status="200"\} \d+$/m);
  assert.match(text, /^multistore_http_requests_total\{route="\/api\/stores\/\{storeId\}",method="GET",status="404"\} \d+$/m);
  assert.ok(!text.includes('store_3') && !text.includes('no_such_store'), 'never a raw path as a label');
  assert.match(text, /^multistore_http_request_duration_seconds_bucket\{route="\/api\/stores\/\{storeId\}",method="GET",le="\+Inf"\} \d+$/m);
  assert.match(text, /^multistore_db_pool_size \d+$/m);
  assert.match(text, /^multistore_db_pool_in_use \d+$/m);
  assert.match(text, /^multistore_db_pool_wait_seconds_total [\d.]+$/m);
  assert.match(text, /^multistore_http_connections \d+$/m);
  assert.match(text, /^multistore_build_info\{version="[^"]+",extension_version="\d+\.\d+\.\d+"\} 1$/m);
  assert.match(text, /^multistore_rate_limited_total\{class="auth"\} \d+$/m);

  const closed = await ownProxy({ METRICS_ALLOW: '10.0.0.0/8' });
  try {
    assert.equal((await fetch(`${closed.base}/metrics`)).status, 403, 'METRICS_ALLOW keeps others out');
  } finally { await closed.stop(); }
});

test('reads are limited per address and per user; X-Forwarded-For counts only from trusted proxies', async () => {
  const [a, b] = createUsers(2, { tag: 'edge-rate' });
  const p = await ownProxy({ RATE_LIMIT_READ_PER_MINUTE: '4', TRUSTED_PROXIES: '127.0.0.1' });
  try {
    const get = (path, xff, token) => fetch(`${p.base}${path}`, {
      headers: { 'x-forwarded-for': xff, ...(token ? bearer(token) : {}) },
    });
    for (let i = 0; i < 4; i++) {
      const r = await get('/api/stores/store_1', '198.51.100.1');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('ratelimit-policy'), '4;w=60');
      assert.match(r.headers.get('ratelimit'), new RegExp(`^limit=4, remaining=${3 - i}, reset=\\d+$`));
    }
    const limited = await get('/api/stores/store_1', '198.51.100.1');
    assert.equal(limited.status, 429);
    assert.equal((await limited.json()).error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await get('/api/stores/store_1', '198.51.100.2')).status, 200, 'another client address has its own budget');
    assert.equal((await get('/health', '198.51.100.1')).status, 200, 'health is exempt');

    // a user's budget follows the user across addresses
    for (let i = 0; i < 4; i++) assert.equal((await get('/api/cart', `203.0.113.${10 + i}`, a.accessToken)).status, 200);
    assert.equal((await get('/api/cart', '203.0.113.50', a.accessToken)).status, 429, 'the same user from a new address');
    assert.equal((await get('/api/cart', '203.0.113.51', b.accessToken)).status, 200, 'another user is not affected');
  } finally { await p.stop(); }

  const untrusted = await ownProxy({ RATE_LIMIT_READ_PER_MINUTE: '2' });
  try {
    const spoof = (xff) => fetch(`${untrusted.base}/api/stores/store_1`, { headers: { 'x-forwarded-for': xff } });
    assert.equal((await spoof('1.1.1.1')).status, 200);
    assert.equal((await spoof('2.2.2.2')).status, 200);
    assert.equal((await spoof('3.3.3.3')).status, 429, 'without TRUSTED_PROXIES a forged X-Forwarded-For buys nothing');
    const m = await (await fetch(`${untrusted.base}/metrics`)).text();
    assert.match(m, /^multistore_rate_limited_total\{class="read"\} 1$/m, 'the refusal is counted');
  } finally { await untrusted.stop(); }
});

test('slow bodies are cut off and one address cannot hold every connection', async () => {
  const p = await ownProxy({ BODY_TIMEOUT: '1', MAX_CONNECTIONS_PER_IP: '3' });
  try {
    // a body that dribbles in past BODY_TIMEOUT: the connection is closed
    const closed = await new Promise((resolve) => {
      const s = net.connect(p.port, '127.0.0.1', () => {
        s.write('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email"');
        setTimeout(() => s.write(':'), 2200);
      });
      const t0 = Date.now();
      s.on('close', () => resolve(Date.now() - t0));
      s.on('error', () => {});
      setTimeout(() => { s.destroy(); resolve(-1); }, 8000);
    });
    assert.ok(closed > 0 && closed < 6000, `closed after ${closed} ms`);

    // three connections from one address, each served once and then idle on
    // keep-alive, so the proxy has surely accepted and counted all three: a
    // fourth gets no service while they are open; once they close, the
    // address is served again.  The proxy counts a closed connection out a
    // moment after the client sees it close (the slow body's, the probe's),
    // so a refusal among the three means "try again", a few times at most.
    const served = () => new Promise((resolve) => {
      const s = net.connect(p.port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      s.on('data', (d) => { got += d; if (got.includes('\r\n\r\n')) resolve(s); });
      s.on('error', () => {});
      s.on('close', () => resolve(null));
    });
    let open = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      open = [await served(), await served(), await served()];
      if (open.every(Boolean)) break;
      open.forEach((s) => s && s.destroy());
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(open.every(Boolean), 'three connections from one address are served');
    let fourthData = '';
    const fourth = net.connect(p.port, '127.0.0.1', () => fourth.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    fourth.on('data', (d) => { fourthData += d; });
    fourth.on('error', () => {});
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(fourthData, '', 'no answer to a fourth connection while three are open');
    open.forEach((s) => s.destroy());
    fourth.destroy();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await fetch(`${p.base}/health`).then((r) => r.status, () => 0);
    }
    assert.equal(status, 200, 'and room is made as they close');
  } finally { await p.stop(); }
});

test('401 challenges name invalid_token only when a token was the trouble', async () => {
  const none = await api('GET', '/api/cart');
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="multistore"');
  const bad = await api('GET', '/api/cart', { headers: bearer('not.a.token') });
  assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="multistore", error="invalid_token"');
  const wrong = await api('POST', '/api/auth/login', { body: { email: 'customer@example.com', password: 'not-the-password' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'invalid_credentials');
  assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="multistore"', 'a wrong password is not a bad token');
});
