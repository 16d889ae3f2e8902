// Shared by the end-to-end tests: HTTP against the proxy that `make test`
// started (MS_BASE_URL), and psql against its database (DATABASE_URL).
import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const BASE = process.env.MS_BASE_URL || 'http://127.0.0.1:4100';
export const DB = process.env.DATABASE_URL;

// api(method, path, {body, headers, raw}) -> {status, headers, body, text}
export async function api(method, path, { body, headers = {}, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (raw !== undefined) init.body = raw;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

// nodeRequest(method, path, {headers, body}): node:http, which (unlike
// fetch) sends a body with any method.  Resolves to the same shape as api().
export function nodeRequest(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(BASE + path, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: new Headers(res.headers), body: json, text });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// sql(query) -> trimmed text output of psql -At
export function sql(query) {
  return execFileSync('psql', [DB, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', query],
    { encoding: 'utf8' }).trim();
}

// sqlAsync(query): sql() without blocking the event loop, for psql calls
// that must run while HTTP requests are in flight
export function sqlAsync(query) {
  return new Promise((resolve, reject) => {
    execFile('psql', [DB, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}${stderr}`)) : resolve(stdout.trim())));
  });
}

// assertError(res, status, code): the documented error shape
export function assertError(res, status, code) {
  assert.equal(res.status, status, `status of ${res.text}`);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.body?.error?.code, code, `code of ${res.text}`);
  assert.equal(typeof res.body.error.message, 'string');
  assert.equal(typeof res.body.error.details, 'object');
  assert.equal(res.body.requestId, res.headers.get('x-request-id'));
}

// Tokens and accounts
export const JWT = {
  secret: process.env.JWT_SECRET,
  issuer: process.env.JWT_ISSUER || 'multistore',
  audience: process.env.JWT_AUDIENCE || 'multistore-api',
};

let counter = 0;
// A fresh, unique email for each registration in a run
export function freshEmail(tag = 'user') {
  counter += 1;
  return `${tag}-${process.pid}-${Date.now()}-${counter}@e2e.example`;
}

// login(email, password) -> the 200 body (throws otherwise)
export async function login(email, password = 'multistore-demo') {
  const res = await api('POST', '/api/auth/login', { body: { email, password } });
  assert.equal(res.status, 200, `login ${email}: ${res.text}`);
  return res.body;
}

export const bearer = (token) => ({ authorization: `Bearer ${token}` });

// createUsers(count, {role, stores, tag}) -> [{id, sessionId, accessToken, headers}]:
// accounts and sessions written straight into the tables (no Argon2, so
// fifty cost nothing), with access tokens signed here as the proxy signs
// them.  stores: the stores a store_manager manages.
export function createUsers(count, { role = 'customer', stores = [], tag = 'user' } = {}) {
  counter += 1;
  const prefix = `${tag}-${process.pid}-${Date.now()}-${counter}`.toLowerCase();
  const storeList = stores.map((s) => `'${s}'`).join(',');
  const rows = sql(`
    WITH u AS (INSERT INTO multistore.users (email, password_hash, first_name, last_name, role)
               SELECT '${prefix}-' || g || '@e2e.example', '!', 'E2E', 'User ' || g, '${role}'
                 FROM generate_series(1, ${count}) g RETURNING id),
         s AS (INSERT INTO multistore.sessions (user_id, expires_at)
               SELECT id, now() + interval '1 hour' FROM u RETURNING id, user_id),
         m AS (INSERT INTO multistore.store_managers (store_id, user_id)
               SELECT st, u.id FROM u, unnest(ARRAY[${storeList}]::text[]) st)
    SELECT user_id || ' ' || id FROM s`);
  return rows.split('\n').map((line) => {
    const [id, sessionId] = line.split(' ');
    const accessToken = jwt.sign({ sub: id, role, sid: sessionId }, JWT.secret,
      { algorithm: 'HS256', expiresIn: 900, issuer: JWT.issuer, audience: JWT.audience });
    return { id, sessionId, accessToken, headers: bearer(accessToken) };
  });
}

export const createUser = (options) => createUsers(1, options)[0];

// Payment webhooks: Multistore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>
export function paymentSignature(raw, { t = Math.floor(Date.now() / 1000), secret = process.env.PAYMENT_WEBHOOK_SECRET } = {}) {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')}`;
}

// postPayment(event, {signature, raw}): the event signed as the provider signs it, unless told otherwise
export function postPayment(event, { raw = JSON.stringify(event), signature = paymentSignature(raw) } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (signature !== null) headers['multistore-signature'] = signature;
  return api('POST', '/webhooks/payment', { raw, headers });
}
