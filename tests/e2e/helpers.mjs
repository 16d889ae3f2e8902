// Shared by the end-to-end tests: HTTP against the proxy that `make test`
// started (MS_BASE_URL), and psql against its database (DATABASE_URL).
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import assert from 'node:assert/strict';

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
