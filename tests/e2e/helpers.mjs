// Shared by the end-to-end tests: HTTP against the proxy that `make test`
// started (MS_BASE_URL), and psql against its database as an admin
// (MS_ADMIN_DATABASE_URL; the proxies' DATABASE_URL is a role that can only
// execute the API).
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const BASE = process.env.MS_BASE_URL || 'http://127.0.0.1:4100';
export const DB = process.env.MS_ADMIN_DATABASE_URL || process.env.DATABASE_URL;
// The proxy binary tests start on their own: make test's sanitizer build when set
export const PROXY_BIN = process.env.MS_PROXY_BIN || new URL('../../proxy/multistore-proxy', import.meta.url).pathname;

// --- the OpenAPI document, and every answer checked against it ---------------

// proxy/openapi.json, the contract every response of api() and nodeRequest() is held to
export const OPENAPI_PATH = new URL('../../proxy/openapi.json', import.meta.url).pathname;
export const openapi = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'));

const DOC_ID = 'openapi.json';
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
// the whole document under one id, so that every $ref to #/components/... resolves; ajv
// is told of what is not JSON Schema: the document's own top-level members, and the
// OpenAPI vocabulary of its Schema Objects (discriminator, xml, externalDocs, example)
ajv.addVocabulary(['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security',
  'tags', 'externalDocs', 'discriminator', 'xml', 'example']);
ajv.addSchema(openapi, DOC_ID);

// A JSON pointer into the document, as a URI fragment ajv resolves
const pointer = (...segments) =>
  `${DOC_ID}#${segments.map((s) => `/${encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('')}`;

// The path templates, each with a matcher and the router's score (literal segments win, earlier ones more)
const templates = Object.keys(openapi.paths).map((template) => {
  const segments = template.split('/').slice(1);
  let score = 0;
  segments.forEach((s, i) => { if (!s.startsWith('{')) score |= 1 << (8 - i); });
  return { template, segments, score };
});

// The documented template a request path (without its query) falls on, as the proxy's router matches it
export function routeOf(path) {
  const segments = path.split('?')[0].split('/').slice(1);
  if (segments.some((s) => s === '')) return undefined;
  let best;
  for (const t of templates) {
    if (t.segments.length !== segments.length) continue;
    if (!t.segments.every((s, i) => s.startsWith('{') || s === segments[i])) continue;
    if (!best || t.score > best.score) best = t;
  }
  return best?.template;
}

// The response object (components' $refs followed) and where it lives in the document
function documentedResponse(template, method, status) {
  const location = ['paths', template, method, 'responses', String(status)];
  let response = openapi.paths[template][method].responses[String(status)];
  if (response?.$ref) {
    const parts = response.$ref.replace(/^#\//, '').split('/');
    location.splice(0, location.length, ...parts);
    response = parts.reduce((node, key) => node[key], openapi);
  }
  return response && { response, location };
}

// A compiled validator of the schema at a pointer (segments) into the document
const validators = new Map();
function validatorFor(segments) {
  const ref = pointer(...segments);
  if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: ref }));
  return validators.get(ref);
}

const mediaType = (contentType) => (contentType ?? '').split(';')[0].trim().toLowerCase();

/*
 * checkResponse(method, path, res) fails (AssertionError) unless the answer
 * res = {status, headers, text, body} is what proxy/openapi.json documents
 * for the route template the path falls on: the (template, method, status)
 * is documented, the content type is one it names, and a JSON body matches
 * its schema.  A path no route has must be 404, and a method its path does
 * not take 405, both with the error shape.  CORS preflights (OPTIONS) are
 * not part of the document and are not checked.
 */
export function checkResponse(method, path, res) {
  const verb = method.toUpperCase();
  if (verb === 'OPTIONS') return;
  const template = routeOf(path);
  const lower = verb === 'HEAD' ? 'get' : verb.toLowerCase();
  const what = `${verb} ${path.split('?')[0]}${template && template !== path.split('?')[0] ? ` (${template})` : ''} -> ${res.status}`;
  let schema; // pointer segments of the schema a JSON body must match
  let response;
  if (template === undefined || !openapi.paths[template][lower]) {
    // the router's own answers, before any route: the error shape
    const expected = template === undefined ? 404 : 405;
    assert.equal(res.status, expected,
      `openapi.json: ${what}: ${template === undefined ? 'no documented path' : `the path documents no ${verb}`}, so the proxy must answer ${expected}; got ${res.status}: ${res.text.slice(0, 300)}`);
    schema = ['components', 'schemas', 'Error'];
    response = { content: { 'application/json': {} } };
  } else {
    const found = documentedResponse(template, lower, res.status);
    assert.ok(found, `openapi.json: ${what}: status ${res.status} is not documented for ${lower.toUpperCase()} ${template} (documented: ${Object.keys(openapi.paths[template][lower].responses).join(', ')}); body: ${res.text.slice(0, 300)}`);
    response = found.response;
    schema = [...found.location, 'content', 'application/json', 'schema'];
  }
  const documented = Object.keys(response.content ?? {});
  if (verb === 'HEAD' || res.status === 304 || res.status === 204) {
    assert.equal(res.text, '', `openapi.json: ${what}: expected no body, got ${res.text.slice(0, 300)}`);
    return;
  }
  if (documented.length === 0) {
    assert.equal(res.text, '', `openapi.json: ${what}: documented without a body, got ${res.text.slice(0, 300)}`);
    return;
  }
  const type = mediaType(res.headers.get('content-type'));
  assert.ok(documented.includes(type), `openapi.json: ${what}: content type ${type || '(none)'} is not documented (${documented.join(', ')})`);
  if (type !== 'application/json') return;
  assert.notEqual(res.body, undefined, `openapi.json: ${what}: the body is not JSON: ${res.text.slice(0, 300)}`);
  const validate = validatorFor(schema);
  if (!validate(res.body)) {
    const problems = validate.errors.map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`);
    const at = schema.map((seg) => seg.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
    assert.fail(`openapi.json: ${what}: the body does not match the documented schema (#/${at}):\n  ${problems.join('\n  ')}\nbody: ${res.text.slice(0, 2000)}`);
  }
}

// api(method, path, {body, headers, raw, validate}) -> {status, headers, body, text};
// the answer is checked against openapi.json unless validate is false
export async function api(method, path, { body, headers = {}, raw, validate = true } = {}) {
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
  const answer = { status: res.status, headers: res.headers, body: json, text };
  if (validate) checkResponse(method, path, answer);
  return answer;
}

// nodeRequest(method, path, {headers, body, validate}): node:http, which
// (unlike fetch) sends a body with any method.  Resolves to the same shape
// as api(), checked against openapi.json the same way.
export function nodeRequest(method, path, { headers = {}, body, validate = true } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(BASE + path, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        const answer = { status: res.statusCode, headers: new Headers(res.headers), body: json, text };
        try {
          if (validate) checkResponse(method, path, answer);
          resolve(answer);
        } catch (err) { reject(err); }
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
