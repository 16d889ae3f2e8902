// Accounts over real HTTP: the whole session life, token checks, rate
// limits, interoperability with an independent JWT library, and no secret
// left in logs or tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { api, sql, assertError, login, bearer, freshEmail, JWT, DB, PROXY_BIN } from './helpers.mjs';

// Everything secret this file handles, to look for in logs and tables at the end
const secrets = new Set();
const PASSWORD = 'e2e correct horse battery staple';
secrets.add(PASSWORD);

test('register, login, me, refresh, reuse revokes the family, login again, logout', async () => {
  const email = freshEmail('journey');
  const reg = await api('POST', '/api/auth/register',
    { body: { email, password: PASSWORD, firstName: 'Journey', lastName: 'Tester', phone: '+1 555 0100' } });
  assert.equal(reg.status, 201, reg.text);
  assert.deepEqual(Object.keys(reg.body).sort(),
    ['accessToken', 'expiresIn', 'refreshToken', 'refreshTokenExpiresAt', 'tokenType', 'user']);
  assert.equal(reg.body.expiresIn, 900);
  assert.equal(reg.body.tokenType, 'Bearer');
  assert.equal(reg.body.user.email, email);
  assert.equal(reg.body.user.role, 'customer');
  secrets.add(reg.body.refreshToken);

  const session = await login(email.toUpperCase(), PASSWORD);
  secrets.add(session.refreshToken);
  const me = await api('GET', '/api/auth/me', { headers: bearer(session.accessToken) });
  assert.equal(me.status, 200);
  assert.equal(me.body.user.id, reg.body.user.id);

  const refreshed = await api('POST', '/api/auth/refresh-token', { body: { refreshToken: session.refreshToken } });
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.notEqual(refreshed.body.refreshToken, session.refreshToken);
  secrets.add(refreshed.body.refreshToken);
  assert.equal((await api('GET', '/api/auth/me', { headers: bearer(refreshed.body.accessToken) })).status, 200);

  // a thief replays the old refresh token: the whole family is revoked
  const stolen = await api('POST', '/api/auth/refresh-token', { body: { refreshToken: session.refreshToken } });
  assertError(stolen, 401, 'refresh_token_reused');
  const newer = await api('POST', '/api/auth/refresh-token', { body: { refreshToken: refreshed.body.refreshToken } });
  assertError(newer, 401, 'invalid_token');
  assertError(await api('GET', '/api/auth/me', { headers: bearer(refreshed.body.accessToken) }), 401, 'invalid_token');
  assertError(await api('GET', '/api/auth/me', { headers: bearer(session.accessToken) }), 401, 'invalid_token');

  const again = await login(email, PASSWORD);
  secrets.add(again.refreshToken);
  assert.equal((await api('GET', '/api/auth/me', { headers: bearer(again.accessToken) })).status, 200);
  const out = await api('POST', '/api/auth/logout', { headers: bearer(again.accessToken) });
  assert.equal(out.status, 204);
  assert.equal(out.text, '');
  assertError(await api('GET', '/api/auth/me', { headers: bearer(again.accessToken) }), 401, 'invalid_token');
  assertError(await api('POST', '/api/auth/refresh-token', { body: { refreshToken: again.refreshToken } }), 401, 'invalid_token');
});

test('registration rules', async () => {
  const email = freshEmail('dup');
  const first = await api('POST', '/api/auth/register', { body: { email, password: PASSWORD, firstName: 'A', lastName: 'B' } });
  assert.equal(first.status, 201);
  secrets.add(first.body.refreshToken);
  assertError(await api('POST', '/api/auth/register',
    { body: { email: email.toUpperCase(), password: PASSWORD, firstName: 'A', lastName: 'B' } }), 409, 'email_taken');
  const short = await api('POST', '/api/auth/register', { body: { email: freshEmail(), password: 'short', firstName: 'A', lastName: 'B' } });
  assertError(short, 400, 'validation_failed');
  assert.ok(short.body.error.details.fields.password);
  const bad = await api('POST', '/api/auth/register', { body: { email: 'not-an-email', password: PASSWORD, firstName: 'A', lastName: 'B' } });
  assertError(bad, 400, 'validation_failed');
  assert.deepEqual(Object.keys(bad.body.error.details.fields), ['email']);
});

test('login: an unknown email and a wrong password look and take alike', async () => {
  const wrong = await api('POST', '/api/auth/login', { body: { email: 'customer@example.com', password: 'wrong-password' } });
  const unknown = await api('POST', '/api/auth/login', { body: { email: 'nobody-at-all@example.com', password: 'wrong-password' } });
  assertError(wrong, 401, 'invalid_credentials');
  assertError(unknown, 401, 'invalid_credentials');
  assert.deepEqual({ ...wrong.body, requestId: 0 }, { ...unknown.body, requestId: 0 }, 'the same body');

  const time = async (email) => {
    const t0 = process.hrtime.bigint();
    await api('POST', '/api/auth/login', { body: { email, password: 'wrong-password' } });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const a = [], b = [];
  for (let i = 0; i < 7; i++) {
    a.push(await time('customer@example.com'));
    b.push(await time(`nobody-${i}@example.com`));
  }
  const ratio = median(a) / median(b);
  assert.ok(ratio > 0.5 && ratio < 2, `wrong password ${median(a).toFixed(1)} ms vs unknown email ${median(b).toFixed(1)} ms`);
});

test('access tokens: missing, malformed, expired, alg none, wrong secret, tampered', async () => {
  const none = await api('GET', '/api/auth/me');
  assertError(none, 401, 'unauthorized');
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  assertError(await api('GET', '/api/auth/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'invalid_token');
  assertError(await api('GET', '/api/auth/me', { headers: bearer('garbage') }), 401, 'invalid_token');

  const session = await login('customer@example.com');
  secrets.add(session.refreshToken);
  const { iat, ...claims } = jwt.decode(session.accessToken);
  assert.ok(iat > 0);
  const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 120 }, JWT.secret, { algorithm: 'HS256', noTimestamp: true });
  assertError(await api('GET', '/api/auth/me', { headers: bearer(expired) }), 401, 'token_expired');
  const unsigned = jwt.sign({ ...claims }, null, { algorithm: 'none' });
  assertError(await api('GET', '/api/auth/me', { headers: bearer(unsigned) }), 401, 'invalid_token');
  const otherKey = jwt.sign({ ...claims }, 'x'.repeat(40), { algorithm: 'HS256' });
  assertError(await api('GET', '/api/auth/me', { headers: bearer(otherKey) }), 401, 'invalid_token');
  const [h, p, s] = session.accessToken.split('.');
  const promoted = Buffer.from(JSON.stringify({ ...claims, iat, role: 'admin' })).toString('base64url');
  assertError(await api('GET', '/api/auth/me', { headers: bearer(`${h}.${promoted}.${s}`) }), 401, 'invalid_token');
  assertError(await api('POST', '/api/stores', { headers: bearer(`${h}.${promoted}.${s}`), body: {} }), 401, 'invalid_token');
});

test('interoperability: our tokens verify with jsonwebtoken, and its tokens work here', async () => {
  const session = await login('manager@example.com');
  secrets.add(session.refreshToken);
  const decoded = jwt.verify(session.accessToken, JWT.secret,
    { algorithms: ['HS256'], issuer: JWT.issuer, audience: JWT.audience });
  assert.equal(decoded.sub, session.user.id);
  assert.equal(decoded.role, 'store_manager');
  assert.equal(decoded.exp - decoded.iat, 900);
  assert.match(decoded.sid, /^[0-9a-f-]{36}$/);

  const theirs = jwt.sign({ sub: decoded.sub, role: decoded.role, sid: decoded.sid }, JWT.secret,
    { algorithm: 'HS256', expiresIn: 60, issuer: JWT.issuer, audience: JWT.audience });
  const me = await api('GET', '/api/auth/me', { headers: bearer(theirs) });
  assert.equal(me.status, 200, me.text);
  assert.deepEqual(me.body.user.managedStores, ['store_1', 'store_2']);
});

test('login and register are rate limited per client address', async () => {
  const port = 4199;
  const proc = spawn(PROXY_BIN, [], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_AUTH_PER_MINUTE: '3', LOG_LEVEL: 'error' },
    stdio: 'ignore',
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      try { if ((await fetch(`${base}/health`)).ok) break; } catch { /* not yet listening */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    const attempt = () => fetch(`${base}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'customer@example.com', password: 'wrong-password' }),
    });
    for (let i = 0; i < 3; i++) {
      const r = await attempt();
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('ratelimit-policy'), '3;w=60');
    }
    const limited = await attempt();
    assert.equal(limited.status, 429);
    const body = await limited.json();
    assert.equal(body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.match(limited.headers.get('ratelimit'), /^limit=3, remaining=0, reset=\d+$/);
    assert.equal((await fetch(`${base}/api/stores/store_1`)).status, 200, 'other routes are not affected');
  } finally {
    proc.kill('SIGTERM');
  }
});

test('no password, refresh token or secret in any log line or table', async () => {
  secrets.add(JWT.secret);
  secrets.add('multistore-demo');
  const log = readFileSync(process.env.MS_PROXY_LOG, 'utf8');
  const dump = execFileSync('pg_dump', ['--data-only', '--schema=multistore', DB], { encoding: 'utf8', maxBuffer: 1 << 28 });
  for (const s of secrets) {
    assert.ok(!log.includes(s), `the proxy log holds a secret (${s.slice(0, 6)}...)`);
    assert.ok(!dump.includes(s), `the tables hold a secret (${s.slice(0, 6)}...)`);
  }
  assert.ok(secrets.size >= 8, 'the check looked for every secret of this run');
  assert.ok(log.includes('"msg":"request"'), 'and the log is really the request log');
});
