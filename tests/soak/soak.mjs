// tests/soak/soak.mjs: thirty minutes of steady mixed traffic against one
// proxy (scripts/soak, make soak), then what it did to the proxy and the data.
//
// Traffic classes, each one line of CLASSES below with a rate (operations
// per second, times SOAK_RATE_SCALE) and a cap on its operations in flight:
// public reads, customers reading their orders, carts, checkouts (cart,
// order with an Idempotency-Key, then a signed payment webhook, a failed
// payment, a cancel, or walking away), re-delivered payment webhooks,
// a store manager (order status, store orders, inventory, point-of-sale
// holds), accounts (register, log in, refresh, log out), Strapi's product,
// stock and promotion webhooks for documents of the soak's own, and the
// churn of a steady population of realtime clients (WebSocket and SSE,
// resuming where they left off).  Each class
// ticks on its own fixed schedule (open loop: a slow answer does not slow
// the schedule down); a tick whose class is at its cap is counted as
// skipped, and more than SOAK_MAX_SKIPPED (5%) skipped fails the run.
//
// Every SOAK_SAMPLE_SECONDS (10) it samples the proxy's VmRSS, VmHWM and
// Threads (/proc/PID/status) and its open descriptors (/proc/PID/fd) into
// soak.csv, with the requests, errors and latency of that interval.  Every
// request's latency is kept under its route template (GET
// /api/stores/{storeId}, not the raw path): p50, p99 and max per route at
// the end.  Flatness: after SOAK_WARMUP_SECONDS, the samples are cut in
// thirds; the mean RSS of the last third may exceed the first third's by at
// most SOAK_RSS_TOLERANCE (10%) or SOAK_RSS_SLACK_KIB (4 MiB), whichever is
// larger, and the mean descriptor count by at most SOAK_FD_TOLERANCE (4).
//
// Then the traffic stops, the operations in flight finish, and SQL checks
// the invariants the chaos suite checks (tests/chaos/chaos.mjs), adapted to
// a run with order expiry, manager status changes and point-of-sale holds:
// no order twice, no unit sold twice or lost, every reservation and hold
// accounted for, every payment applied at most once, and the database
// agreeing with what each client was told; each CMS document as its last
// applied delivery says; every realtime client got, in order and once,
// what it may see and nothing else, across its resumes; the proxy's
// realtime gauges back at 0 once the clients closed.  Prints TAP and a
// summary; exit code 1 when a check failed.
//
// Environment (scripts/soak sets it): MS_BASE_URL, DATABASE_URL, JWT_SECRET,
// PAYMENT_WEBHOOK_SECRET, STRAPI_WEBHOOK_SECRET, SOAK_PROXY_PID,
// SOAK_OUT_DIR, SOAK_SECONDS (1800), SOAK_RESERVATION_TTL (the database's
// multistore.reservation_ttl, seconds).  Node's standard library, and the
// end-to-end tests' realtime clients (tests/e2e/realtime_clients.mjs, on
// the ws package in tests/e2e/node_modules): tokens are signed here as the
// proxy signs them, accounts and sessions written straight into the tables.
import http from 'node:http';
import { execFile } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openWs, openSse } from '../e2e/realtime_clients.mjs';

const env = process.env;
const need = (name) => env[name] || (console.error(`soak.mjs: ${name} is not set (run scripts/soak)`), process.exit(2));
const BASE = new URL(need('MS_BASE_URL'));
const DB = need('DATABASE_URL');
const JWT_SECRET = need('JWT_SECRET');
const PAYMENT_SECRET = need('PAYMENT_WEBHOOK_SECRET');
const STRAPI_SECRET = need('STRAPI_WEBHOOK_SECRET');
const PROXY_PID = Number(need('SOAK_PROXY_PID'));
const OUT = need('SOAK_OUT_DIR');
const num = (name, fallback) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback);
const SECONDS = num('SOAK_SECONDS', 1800);
const SAMPLE_S = num('SOAK_SAMPLE_SECONDS', 10);
const SCALE = num('SOAK_RATE_SCALE', 1);
const WARMUP_S = num('SOAK_WARMUP_SECONDS', Math.min(120, Math.round(SECONDS / 10)));
const RSS_TOLERANCE = num('SOAK_RSS_TOLERANCE', 0.10);
const RSS_SLACK_KIB = num('SOAK_RSS_SLACK_KIB', 4096);
const FD_TOLERANCE = num('SOAK_FD_TOLERANCE', 4);
const MAX_SKIPPED = num('SOAK_MAX_SKIPPED', 0.05);
const RESERVATION_TTL_S = num('SOAK_RESERVATION_TTL', 900);
const CUSTOMERS = num('SOAK_CUSTOMERS', 40);
const BROWSERS = num('SOAK_BROWSERS', 12);
const REQUEST_TIMEOUT_MS = 10000;
const DRAIN_MS = 60000;
for (const [k, v] of Object.entries({ SECONDS, SAMPLE_S, SCALE, WARMUP_S, CUSTOMERS, BROWSERS })) {
  if (!(v > 0)) { console.error(`soak.mjs: ${k} must be a positive number`); process.exit(2); }
}
const t0 = Date.now();
const elapsed = () => (Date.now() - t0) / 1000;

// --- TAP ---------------------------------------------------------------------------

let tests = 0;
let failures = 0;
const failed = [];
function ok(pass, description, diagnostics = []) {
  tests += 1;
  if (!pass) { failures += 1; failed.push(`${tests} - ${description}`); }
  console.log(`${pass ? 'ok' : 'not ok'} ${tests} - ${description}`);
  if (!pass) for (const d of diagnostics.slice(0, 12)) console.log(`#   ${d}`);
}
const diag = (text) => console.log(`# ${text}`);

// --- psql ----------------------------------------------------------------------------

function sql(query) {
  return new Promise((resolve, reject) => {
    execFile('psql', [DB, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', query],
      { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`psql: ${stderr || err.message}\n  in: ${query.slice(0, 300)}`));
        else resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|')));
      });
  });
}

// --- latency, per route template and per sample interval --------------------------------

const routes = new Map();   // template -> {lat: [], statuses: {}, errors}
let interval = { lat: [], errors: 0 };
let requestsTotal = 0;
let errorsTotal = 0;
const anomalies = [];
const counters = {};
const count = (k, n = 1) => { counters[k] = (counters[k] ?? 0) + n; };
const count0 = (k) => counters[k] ?? 0;
function anomaly(text) {
  count('anomalies');
  if (anomalies.length < 60) anomalies.push(`[${elapsed().toFixed(0)}s] ${text}`);
}
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

// Idle sockets are closed after 20 s, before the proxy's CONNECTION_TIMEOUT (30 s) closes them:
// a request sent on a socket the server is closing that moment fails with ECONNRESET, and a
// client cannot safely resend a POST.  (The first full run had 6 such resets in 53,859 requests.)
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 20000 });

// record(route, started, {status | error, text}, expect): one request's latency (from started,
// process.hrtime.bigint()) under its route template; an answer whose status is not in expect,
// any 5xx and any transport error is an anomaly
function record(route, started, r, expect) {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  let s = routes.get(route);
  if (!s) { s = { lat: [], statuses: {}, errors: 0 }; routes.set(route, s); }
  s.lat.push(ms);
  interval.lat.push(ms);
  requestsTotal += 1;
  const key = r.error ?? String(r.status);
  s.statuses[key] = (s.statuses[key] ?? 0) + 1;
  if (r.error || r.status >= 500 || !expect.includes(r.status)) {
    s.errors += 1;
    interval.errors += 1;
    errorsTotal += 1;
    anomaly(`${route}: ${r.error ?? `${r.status} ${(r.text ?? '').slice(0, 200)}`}`);
  }
}

// call(route, method, path, {headers, raw, expect}) -> {status, headers, text, json} or {error}.
// route is the template the latency is kept under; an answer whose status
// is not in expect (default: 200), any 5xx and any transport error is an anomaly.
function call(route, method, path, { headers = {}, raw, expect = [200] } = {}) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      record(route, started, r, expect);
      resolve(r);
    };
    const h = { ...headers };
    if (raw !== undefined) {
      h['content-type'] ??= 'application/json';
      h['content-length'] = Buffer.byteLength(raw);
    }
    const req = http.request({ host: BASE.hostname, port: BASE.port, path, method, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        finish({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', (e) => finish({ error: e.code || e.message }));
      res.on('close', () => { if (!res.complete) finish({ error: 'ECONNRESET' }); });
    });
    const timer = setTimeout(() => { finish({ error: 'TIMEOUT' }); req.destroy(); }, REQUEST_TIMEOUT_MS);
    req.on('error', (e) => finish({ error: e.code || e.message }));
    if (raw !== undefined) req.write(raw);
    req.end();
  });
}
const codeOf = (r) => r.json?.error?.code;

// --- accounts and tokens ------------------------------------------------------------------

const b64url = (data) => Buffer.from(data).toString('base64url');
function signToken(claims) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ ...claims, iat: now, exp: now + SECONDS + 3600,
    iss: env.JWT_ISSUER || 'multistore', aud: env.JWT_AUDIENCE || 'multistore-api' }));
  return `${head}.${body}.${createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest('base64url')}`;
}
async function createUsers(n, role, tag) {
  const rows = await sql(`
    WITH u AS (INSERT INTO multistore.users (email, password_hash, first_name, last_name, role)
               SELECT 'soak-${tag}-' || g || '-${process.pid}@soak.example', '!', 'Soak', '${tag} ' || g, '${role}'
                 FROM generate_series(1, ${n}) g RETURNING id),
         s AS (INSERT INTO multistore.sessions (user_id, expires_at)
               SELECT id, now() + make_interval(secs => ${SECONDS + 7200}) FROM u RETURNING id, user_id)
    SELECT user_id, id FROM s`);
  return rows.map(([id, sid], i) => ({ id, sid, name: `${tag} ${i + 1}`, busy: false, orders: [],
    headers: { authorization: `Bearer ${signToken({ sub: id, role, sid })}` } }));
}

// --- what the clients were told ----------------------------------------------------------

let STORES = [];
let PLENTY = [];
let SCARCE = [];
let SAMPLE_PRODUCTS = [];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const orderAttempts = []; // {user, key, store, lines, outcome, orderId, total, currency, action, status}
const payments = [];      // {id, orderId, type, raw, answer}
const cancels = [];       // {orderId, answer}
const holds = [];         // point-of-sale reservations: {id, released}
const inventorySet = new Map(); // "store/product" -> the onHand the manager set last (answered 200)
const toAdvance = [];     // paid orders waiting for the manager's next status change
let customers = [];
let browsers = [];
let manager;

const NEXT = { confirmed: 'preparing', preparing: 'ready_for_pickup', ready_for_pickup: 'completed' };

function chooseLines() {
  const lines = new Map();
  const n = 1 + Math.floor(Math.random() * 3);
  for (let i = 0; i < n; i++) lines.set(pick(PLENTY), 1 + Math.floor(Math.random() * 3));
  if (Math.random() < 0.2) lines.set(pick(SCARCE), 1 + Math.floor(Math.random() * 2));
  return [...lines].map(([productId, quantity]) => ({ productId, quantity }));
}
function idle(list) {
  const free = list.filter((c) => !c.busy);
  return free.length ? pick(free) : undefined;
}
function paymentSignature(raw) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', PAYMENT_SECRET).update(`${t}.${raw}`).digest('hex')}`;
}

// --- the operations, one per traffic class ----------------------------------------------------

const NEARBY = [[40.7589, -73.9851], [37.7749, -122.4194], [41.8781, -87.6298], [34.0522, -118.2437]];
const etags = new Map();

// Public reads: nearby stores, a store (revalidated with its ETag now and then), availability, /health
async function readOp() {
  const dice = Math.random();
  if (dice < 0.35) {
    const [lat, lon] = pick(NEARBY);
    const radius = pick([1, 2, 5, 10, 25]);
    await call('GET /api/stores/nearby', 'GET', `/api/stores/nearby?latitude=${lat}&longitude=${lon}&radius=${radius}&limit=20`);
  } else if (dice < 0.65) {
    const id = `store_${1 + Math.floor(Math.random() * 60)}`;
    const etag = etags.get(id);
    const revalidate = etag && Math.random() < 0.5;
    const r = await call('GET /api/stores/{storeId}', 'GET', `/api/stores/${id}`,
      { headers: revalidate ? { 'if-none-match': etag } : {}, expect: revalidate ? [200, 304] : [200] });
    if (r.status === 200 && r.headers.etag) etags.set(id, r.headers.etag);
    if (r.status === 304) count('notModified');
  } else if (dice < 0.9) {
    const ids = [pick(PLENTY), pick(SAMPLE_PRODUCTS), pick(SAMPLE_PRODUCTS)].join(',');
    await call('GET /api/stores/{storeId}/availability', 'GET', `/api/stores/${pick(STORES)}/availability?productIds=${ids}`);
  } else {
    await call('GET /health', 'GET', '/health');
  }
}

// A customer reads its account and orders (any customer, busy or not: reads do not disturb a checkout)
async function customerReadOp() {
  const c = pick(customers);
  await call('GET /api/auth/me', 'GET', '/api/auth/me', { headers: c.headers });
  const list = await call('GET /api/orders', 'GET', '/api/orders?limit=10', { headers: c.headers });
  const id = list.json?.orders?.[0]?.id ?? (c.orders.length ? pick(c.orders) : undefined);
  if (id) await call('GET /api/orders/{orderId}', 'GET', `/api/orders/${id}`, { headers: c.headers });
}

// A shopper who never orders: fills, changes and empties a cart
async function cartOp() {
  const b = idle(browsers);
  if (!b) return 'skip';
  b.busy = true;
  try {
    const cart = await call('GET /api/cart', 'GET', '/api/cart', { headers: b.headers });
    const items = cart.json?.cart?.items ?? [];
    if (items.length >= 4 || (items.length > 0 && Math.random() < 0.15)) {
      await call('DELETE /api/cart/clear', 'DELETE', '/api/cart/clear', { headers: b.headers });
    } else if (items.length > 0 && Math.random() < 0.4) {
      const line = pick(items);
      if (Math.random() < 0.5) {
        await call('PUT /api/cart/items/{itemId}', 'PUT', `/api/cart/items/${line.id}`,
          { headers: b.headers, raw: JSON.stringify({ quantity: 1 + Math.floor(Math.random() * 5) }) });
      } else {
        await call('DELETE /api/cart/items/{itemId}', 'DELETE', `/api/cart/items/${line.id}`, { headers: b.headers });
      }
    } else {
      await call('POST /api/cart/items', 'POST', '/api/cart/items',
        { headers: b.headers, raw: JSON.stringify({ productId: pick(PLENTY), quantity: 1 + Math.floor(Math.random() * 3) }), expect: [201] });
    }
  } finally { b.busy = false; }
}

// A checkout: clear the cart, fill it, order with a fresh key, then pay, fail to pay, cancel or walk away
async function checkoutOp() {
  const c = idle(customers);
  if (!c) return 'skip';
  c.busy = true;
  try {
    const clear = await call('DELETE /api/cart/clear', 'DELETE', '/api/cart/clear', { headers: c.headers });
    if (clear.status !== 200) return;
    const lines = chooseLines();
    for (const line of lines) {
      const r = await call('POST /api/cart/items', 'POST', '/api/cart/items', { headers: c.headers, raw: JSON.stringify(line), expect: [201, 409] });
      if (r.status !== 201) { if (r.status === 409) count('cartOutOfStock'); return; }
    }
    const key = `soak-${randomUUID()}`;
    const store = pick(STORES);
    const rec = { user: c.id, key, store, lines, outcome: 'unknown', orderId: null, at: Date.now() };
    orderAttempts.push(rec);
    const r = await call('POST /api/orders', 'POST', '/api/orders', {
      headers: { ...c.headers, 'idempotency-key': key },
      raw: JSON.stringify({ storeId: store, deliveryType: 'pickup', notes: 'soak' }), expect: [201, 409],
    });
    if (r.status === 201 && r.json?.order?.id) {
      Object.assign(rec, { outcome: 'created', orderId: r.json.order.id, total: r.json.order.total, currency: r.json.order.currency, status: 'pending_payment' });
      c.orders.push(rec.orderId);
      count('ordersPlaced');
    } else if (r.status === 409 && codeOf(r) === 'out_of_stock') {
      rec.outcome = 'out_of_stock';
      count('outOfStock');
      return;
    } else {
      rec.outcome = `http ${r.status ?? r.error} ${codeOf(r) ?? ''}`;
      if (r.status === 409) anomaly(`place an order: ${r.status} ${codeOf(r)}`);
      return;
    }
    const dice = Math.random();
    if (dice < 0.75) await pay(rec, 'payment.succeeded');
    else if (dice < 0.83) await pay(rec, 'payment.failed');
    else if (dice < 0.9) {
      rec.action = 'cancel';
      const k = await call('POST /api/orders/{orderId}/cancel', 'POST', `/api/orders/${rec.orderId}/cancel`, { headers: c.headers });
      cancels.push({ orderId: rec.orderId, answer: k.json?.order?.status ?? `http ${k.status}` });
      if (k.json?.order?.status === 'cancelled') { rec.status = 'cancelled'; count('cancels'); }
    } else {
      rec.action = 'abandon';
      count('abandoned');
    }
  } finally { c.busy = false; }
}
async function pay(rec, type) {
  rec.action = type === 'payment.succeeded' ? 'pay' : 'fail';
  const event = { id: `evt_soak_${randomUUID()}`, type, orderId: rec.orderId, amount: Number(rec.total), currency: rec.currency };
  const raw = JSON.stringify(event);
  const p = { id: event.id, orderId: rec.orderId, type, raw, answer: null };
  payments.push(p);
  const r = await call('POST /webhooks/payment', 'POST', '/webhooks/payment', { headers: { 'multistore-signature': paymentSignature(raw) }, raw });
  p.answer = r.status === 200 ? r.json?.status : `http ${r.status ?? r.error}`;
  const want = type === 'payment.succeeded' ? 'confirmed' : 'cancelled';
  if (p.answer !== want) { anomaly(`${type}: answered ${p.answer}, expected ${want}`); return; }
  rec.status = want;
  count(type === 'payment.succeeded' ? 'paid' : 'paymentsFailed');
  if (want === 'confirmed') toAdvance.push(rec);
}

// The payment provider delivers an event again (same id and body, a fresh signature): a duplicate, applied once
async function redeliverOp() {
  const done = payments.filter((p) => p.answer === 'confirmed' || p.answer === 'cancelled');
  if (!done.length) return 'skip';
  const p = pick(done);
  const r = await call('POST /webhooks/payment', 'POST', '/webhooks/payment', { headers: { 'multistore-signature': paymentSignature(p.raw) }, raw: p.raw });
  if (r.status === 200 && r.json?.status === 'duplicate' && r.headers['idempotent-replayed'] === 'true') count('duplicatesAnswered');
  else if (r.status === 200) anomaly(`a re-delivered event ${p.id}: ${r.text.slice(0, 200)}`);
}

// The store manager: moves a paid order on, lists the store's orders, sets stock, holds and releases at the till
const inventoryBusy = new Set();
let managerTurn = 0;
async function managerOp() {
  const turn = managerTurn++ % 4;
  if (turn === 0 && toAdvance.length) {
    const rec = toAdvance.shift();
    const next = NEXT[rec.status];
    const r = await call('PUT /api/orders/{orderId}/status', 'PUT', `/api/orders/${rec.orderId}/status`,
      { headers: manager.headers, raw: JSON.stringify({ status: next, note: 'soak' }) });
    if (r.status === 200 && r.json?.order?.status === next) {
      rec.status = next;
      count('statusChanges');
      if (NEXT[next]) toAdvance.push(rec);
    }
  } else if (turn <= 1) {
    await call('GET /api/stores/{storeId}/orders', 'GET', `/api/stores/${pick(STORES)}/orders?status=${pick(['confirmed', 'preparing', 'pending_payment'])}&limit=20`,
      { headers: manager.headers });
  } else if (turn === 2) {
    const key = `${pick(STORES)}/${pick(SAMPLE_PRODUCTS)}`;
    if (inventoryBusy.has(key)) return 'skip';
    inventoryBusy.add(key);
    try {
      const [store, product] = key.split('/');
      const onHand = Math.floor(Math.random() * 500);
      const r = await call('PUT /api/stores/{storeId}/inventory/{productId}', 'PUT', `/api/stores/${store}/inventory/${product}`,
        { headers: manager.headers, raw: JSON.stringify({ onHand }) });
      if (r.status === 200) { inventorySet.set(key, onHand); count('inventorySet'); }
    } finally { inventoryBusy.delete(key); }
  } else {
    const store = pick(STORES);
    const r = await call('POST /api/stores/{storeId}/reservations', 'POST', `/api/stores/${store}/reservations`, {
      headers: manager.headers, expect: [201],
      raw: JSON.stringify({ items: [{ productId: pick(PLENTY), quantity: 1 + Math.floor(Math.random() * 3) }], ttlSeconds: 600, reference: 'soak till' }),
    });
    const id = r.json?.reservation?.id;
    if (!id) return;
    const hold = { id, released: false };
    holds.push(hold);
    await call('GET /api/reservations/{reservationId}', 'GET', `/api/reservations/${id}`, { headers: manager.headers });
    const d = await call('DELETE /api/reservations/{reservationId}', 'DELETE', `/api/reservations/${id}`, { headers: manager.headers });
    if (d.status === 200 && d.json?.reservation?.status === 'released') { hold.released = true; count('holdsReleased'); }
  }
}

// A new account's life: register, log in, me, refresh, log out (Argon2id twice: the rate is low)
let accountSeq = 0;
async function accountOp() {
  const email = `soak-account-${process.pid}-${++accountSeq}@soak.example`;
  const password = `soak-${randomUUID()}`;
  const reg = await call('POST /api/auth/register', 'POST', '/api/auth/register',
    { raw: JSON.stringify({ email, password, firstName: 'Soak', lastName: 'Account' }), expect: [201] });
  if (reg.status !== 201) return;
  const login = await call('POST /api/auth/login', 'POST', '/api/auth/login', { raw: JSON.stringify({ email, password }) });
  if (login.status !== 200) return;
  await call('GET /api/auth/me', 'GET', '/api/auth/me', { headers: { authorization: `Bearer ${login.json.accessToken}` } });
  const ref = await call('POST /api/auth/refresh-token', 'POST', '/api/auth/refresh-token', { raw: JSON.stringify({ refreshToken: login.json.refreshToken }) });
  if (ref.status !== 200) return;
  await call('POST /api/auth/logout', 'POST', '/api/auth/logout', { headers: { authorization: `Bearer ${ref.json.accessToken}` }, expect: [204] });
  count('accounts');
}

// --- Strapi's webhooks: documents of the soak's own ------------------------------------------
//
// Products, stock and promotions that only this class touches (ids soakcms-*, outside
// soak_%: no checkout sells them, no ledger counts them), delivered as Strapi 5 sends them.
// Each document keeps what the extension should hold of it (strapi.c's rule, below): the
// live version (updatedAt, publishedAt, event), the last draft, whether it is deleted, and
// the row it feeds.  Every answer is checked against it as it comes, the tables at the end.

const CMS_PRODUCTS = num('SOAK_CMS_PRODUCTS', 12);
const CMS_PREFIX = 'soakcms-';
const STRAPI_HEADERS = { authorization: `Bearer ${STRAPI_SECRET}` };
const EVENT_RANK = { 'entry.create': 0, 'entry.update': 1, 'entry.publish': 2, 'entry.unpublish': 3, 'entry.delete': 4 };
const WEBHOOK = { product: '/webhooks/product-updated', inventory: '/webhooks/inventory-updated', promotion: '/webhooks/promotion-updated' };
const UID = { product: 'api::product.product', inventory: 'api::inventory.inventory', promotion: 'api::promotion.promotion' };
const cmsDocs = [];         // every document, deleted ones too
const cmsWrong = [];        // answers other than the rule says
const cmsReadBack = { ok: 0, wrong: [] };
const cmsReplays = {};      // answer -> count
let cmsDeliveries = 0;
let cmsNum = 0;
let lastStamp = 0;
// updatedAt and publishedAt: milliseconds, never twice the same, so every new version is newer
const stamp = () => (lastStamp = Math.max(Date.now(), lastStamp + 1));
const iso = (ms) => new Date(ms).toISOString();
const cmsPrice = () => Math.round((0.5 + Math.random() * 98) * 100) / 100;

function cmsDoc(model, id, fields) {
  const doc = { model, id, num: ++cmsNum, busy: false, uncertain: false, sent: [], edits: 0,
    v: { live: null, draftU: null, deleted: false }, row: null, ...fields };
  cmsDocs.push(doc);
  return doc;
}

/*
 * What the extension answers to a delivery of doc, and what it then holds (strapi.c,
 * ApplyVersion): a deleted document takes nothing more; a draft (create or update with
 * publishedAt null) is compared with the last draft and only fills in a document never
 * live; a live version is compared with the live one by (updatedAt, publishedAt, event).
 * Updates doc's model; called before the delivery is sent.
 */
function cmsExpect(doc, body) {
  const e = body.entry;
  const ev = EVENT_RANK[body.event];
  const v = doc.v;
  const u = Date.parse(e.updatedAt);
  const pub = e.publishedAt != null;
  const p = pub ? Date.parse(e.publishedAt) : null;
  if (v.deleted) return ev === EVENT_RANK['entry.delete'] ? 'duplicate' : 'stale';
  if (ev === EVENT_RANK['entry.delete']) { cmsWithdraw(doc, true); v.deleted = true; return 'deleted'; }
  if (ev <= EVENT_RANK['entry.update'] && 'publishedAt' in e && !pub) {
    if (v.draftU !== null && u <= v.draftU) return u === v.draftU ? 'duplicate' : 'stale';
    cmsWrite(doc, e, false, v.live !== null);
    v.draftU = u;
    return 'draft';
  }
  let c;
  if (!v.live) c = 1;
  else if (u !== v.live.u) c = u - v.live.u;
  else if (pub !== v.live.pub) c = pub ? 1 : -1;
  else if (pub && p !== v.live.p) c = p - v.live.p;
  else c = ev - v.live.ev;
  if (c <= 0) return c === 0 ? 'duplicate' : 'stale';
  v.live = { u, pub, p, ev, entry: e };
  if (ev === EVENT_RANK['entry.unpublish']) { cmsWithdraw(doc, false); return 'unpublished'; }
  return cmsWrite(doc, e, true, false) ? 'created' : ev !== EVENT_RANK['entry.publish'] ? 'updated' : 'published';
}
// the row a document feeds, written (live: for sale); true when the row is new
function cmsWrite(doc, e, live, onlyIfNew) {
  if (doc.model === 'inventory') {
    if (live) doc.row = { onHand: e.quantity };
    return false;
  }
  if (onlyIfNew) return false;
  const created = doc.row === null;
  doc.row = doc.model === 'product'
    ? { name: e.name, price: e.price, published: live, deleted: false }
    : { value: e.value, products: e.products.map((x) => x.documentId ?? x).sort(), published: live };
  return created;
}
function cmsWithdraw(doc, deleted) {
  if (doc.model === 'inventory') { if (doc.row) doc.row = { onHand: 0 }; return; }
  if (!doc.row) return;
  doc.row.published = false;
  if (deleted && doc.model === 'product') doc.row.deleted = true;
}

// The id an answer names: the row the content feeds (stock: store/product), else the document
const cmsAnswerId = (doc, body) => (doc.model === 'inventory' && !['entry.unpublish', 'entry.delete'].includes(body.event)
  ? `${doc.store}/${doc.product.id}` : doc.id);

// One delivery of doc to its webhook: the answer must be the one the rule says
async function cmsDeliver(doc, body, { replay = false } = {}) {
  const expected = cmsExpect(doc, body);
  const route = `POST ${WEBHOOK[doc.model]}`;
  const r = await call(route, 'POST', WEBHOOK[doc.model],
    { headers: { ...STRAPI_HEADERS, 'x-strapi-event': body.event }, raw: JSON.stringify(body) });
  cmsDeliveries += 1;
  const got = r.status === 200 ? r.json?.status : `http ${r.status ?? r.error}`;
  if (r.status !== 200) doc.uncertain = true; // applied or not: the end leaves it out (the run fails anyway)
  else if (got !== expected || r.json?.id !== cmsAnswerId(doc, body)) {
    cmsWrong.push(`${doc.id} ${body.event}${replay ? ' (replayed)' : ''} updatedAt ${body.entry.updatedAt}: answered ${r.text?.slice(0, 120)}, expected ${expected}`);
    doc.uncertain = true;
  }
  if (replay) cmsReplays[got] = (cmsReplays[got] ?? 0) + 1;
  else {
    doc.sent.push(body);
    if (doc.sent.length > 12) doc.sent.shift();
  }
  // Strapi sends every model's events to every webhook: the others answer 202 ignored
  if (!replay && Math.random() < 0.05) {
    const other = pick(Object.keys(WEBHOOK).filter((m) => m !== doc.model));
    const o = await call(`POST ${WEBHOOK[other]}`, 'POST', WEBHOOK[other],
      { headers: STRAPI_HEADERS, raw: JSON.stringify(body), expect: [202] });
    if (o.status === 202 && o.json?.status !== 'ignored') cmsWrong.push(`${doc.id} at the ${other} webhook: ${o.text.slice(0, 120)}`);
    count('cmsIgnored');
  }
  return got;
}

const delivery = (doc, event, entry) => ({ event, createdAt: iso(Date.now()), model: doc.model, uid: UID[doc.model], entry });

// A product's next step in Strapi 5's life of a document: edit the draft, publish it, edit
// the live row (v4's way), unpublish it (the very row it unpublishes), publish it again
// without an edit (a later publishedAt only), or delete it (twice, as Strapi 5 sends it)
async function cmsProductStep(doc) {
  const v = doc.v;
  const base = { id: doc.num, documentId: doc.id, sku: doc.sku, description: 'Soak CMS product', currency: 'USD',
    createdAt: doc.createdAt, locale: null };
  const edit = () => ({ name: `Soak CMS ${doc.id} v${++doc.edits}`, price: cmsPrice() });
  const livePublished = v.live !== null && doc.row?.published;
  const dice = Math.random();
  if (doc.deletable && dice < 0.03) {
    const now = stamp();
    const body = delivery(doc, 'entry.delete', { ...base, ...(doc.draft ?? doc.liveContent), updatedAt: iso(now), publishedAt: null });
    await cmsDeliver(doc, body);
    await cmsDeliver(doc, delivery(doc, 'entry.delete', { ...body.entry, publishedAt: iso(now) }));
    // the document is gone for good: a new one takes its place
    const next = cmsDoc('product', `${doc.family}-g${doc.generation + 1}`, { family: doc.family, generation: doc.generation + 1,
      sku: `${doc.family.toUpperCase()}-G${doc.generation + 1}`, createdAt: iso(Date.now()), deletable: true });
    for (const promo of cmsDocs.filter((d) => d.model === 'promotion')) promo.products = promo.products.map((p) => (p === doc ? next : p));
    count('cmsDeleted');
    return;
  }
  if (dice < 0.35 || (!livePublished && dice < 0.45)) {
    // a draft edit: entry.create the first time, entry.update after; nothing for sale changes
    doc.draft = edit();
    const event = v.live === null && v.draftU === null ? 'entry.create' : 'entry.update';
    await cmsDeliver(doc, delivery(doc, event, { ...base, ...doc.draft, updatedAt: iso(stamp()), publishedAt: null }));
  } else if (!livePublished || dice < 0.6) {
    // publish: the draft's content, or the live content again (no edit: only publishedAt is later)
    let entry;
    if (doc.draft || v.live === null) {
      const now = stamp();
      doc.liveContent = doc.draft ?? edit();
      entry = { ...base, ...doc.liveContent, updatedAt: iso(now), publishedAt: iso(now) };
    } else entry = { ...base, ...doc.liveContent, updatedAt: iso(v.live.u), publishedAt: iso(stamp()) };
    doc.draft = null;
    await cmsDeliver(doc, delivery(doc, 'entry.publish', entry));
  } else if (dice < 0.75) {
    // an edit of the live row itself (Strapi 4, or a type without draft and publish)
    doc.liveContent = edit();
    await cmsDeliver(doc, delivery(doc, 'entry.update', { ...base, ...doc.liveContent, updatedAt: iso(stamp()), publishedAt: iso(v.live.p) }));
  } else {
    await cmsDeliver(doc, delivery(doc, 'entry.unpublish', { ...v.live.entry }));
  }
  if (Math.random() < 0.3) await cmsReadBackProduct(doc);
}

// The catalogue shows what the rule says: the live name and price while published, else 404
async function cmsReadBackProduct(doc) {
  if (doc.uncertain) return;
  const forSale = doc.row?.published && !doc.row.deleted;
  const r = await call('GET /api/products/{productId}', 'GET', `/api/products/${doc.id}`, { expect: [200, 404] });
  if (r.status !== 200 && r.status !== 404) return;
  const shown = r.status === 200 ? `${r.json?.product?.name} at ${r.json?.product?.price}` : 'not found';
  const want = forSale ? `${doc.row.name} at ${doc.row.price.toFixed(2)}` : 'not found';
  if (shown === want) cmsReadBack.ok += 1;
  else cmsReadBack.wrong.push(`${doc.id}: GET shows ${shown}, the last delivery applied says ${want}`);
}

// Stock of a CMS product at a soak store: a new quantity (update or publish), now and then unpublished (0)
async function cmsStockStep(doc) {
  const v = doc.v;
  const base = { id: doc.num, documentId: doc.id, store: { documentId: doc.store }, product: { documentId: doc.product.id } };
  if (v.live !== null && v.live.ev !== EVENT_RANK['entry.unpublish'] && Math.random() < 0.1) {
    await cmsDeliver(doc, delivery(doc, 'entry.unpublish', { ...v.live.entry }));
    return;
  }
  const now = stamp();
  const event = v.live === null || Math.random() < 0.5 ? 'entry.publish' : 'entry.update';
  const publishedAt = event === 'entry.update' && v.live?.pub ? iso(v.live.p) : iso(now);
  await cmsDeliver(doc, delivery(doc, event, { ...base, quantity: Math.floor(Math.random() * 500), updatedAt: iso(now), publishedAt }));
}

// A promotion on CMS products only: a new percentage (and now and then a store), or unpublished
async function cmsPromotionStep(doc) {
  const v = doc.v;
  if (v.live !== null && doc.row?.published && Math.random() < 0.15) {
    await cmsDeliver(doc, delivery(doc, 'entry.unpublish', { ...v.live.entry }));
    return;
  }
  const now = stamp();
  await cmsDeliver(doc, delivery(doc, 'entry.publish', {
    id: doc.num, documentId: doc.id, code: doc.code, name: `Soak CMS promotion ${doc.id}`, discountType: 'percentage',
    value: 5 + Math.floor(Math.random() * 46), products: doc.products.map((p) => ({ documentId: p.id })),
    stores: Math.random() < 0.5 ? null : [pick(STORES)], startsAt: null, endsAt: null, active: true,
    updatedAt: iso(now), publishedAt: iso(now),
  }));
}

// A delivery sent before, sent again (Strapi's queue, a retrying proxy): stale or duplicate, nothing changes
async function cmsReplay(doc) {
  await cmsDeliver(doc, pick(doc.sent), { replay: true });
  count('cmsReplays');
}

// The product webhooks class: one step of one idle document
async function webhookOp() {
  const dice = Math.random();
  const free = (model) => cmsDocs.filter((d) => d.model === model && !d.busy && !d.uncertain && !d.v.deleted);
  let doc;
  let step;
  if (dice < 0.2) {
    doc = pick(cmsDocs.filter((d) => !d.busy && !d.uncertain && d.sent.length > 0));
    step = cmsReplay;
  } else if (dice < 0.4) [doc, step] = [pick(free('inventory')), cmsStockStep];
  else if (dice < 0.5) [doc, step] = [pick(free('promotion')), cmsPromotionStep];
  else [doc, step] = [pick(free('product')), cmsProductStep];
  if (!doc) return 'skip';
  doc.busy = true;
  try { await step(doc); } finally { doc.busy = false; }
}

// The documents, each applied once before the traffic starts (stock names its product)
async function cmsSetup() {
  const products = [];
  for (let i = 1; i <= CMS_PRODUCTS; i++) {
    const family = `${CMS_PREFIX}p${i}`;
    // half the products have stock at a soak store and are never deleted; the others may be
    products.push(cmsDoc('product', `${family}-g1`, { family, generation: 1, sku: `${family.toUpperCase()}-G1`,
      createdAt: iso(Date.now()), deletable: i > CMS_PRODUCTS / 2 }));
  }
  for (const doc of products) await cmsProductStep(doc);
  for (const doc of products.filter((p) => !p.deletable)) {
    const stock = cmsDoc('inventory', `${CMS_PREFIX}stock-${doc.family.slice(CMS_PREFIX.length)}`, { store: STORES[doc.num % STORES.length], product: doc });
    await cmsStockStep(stock);
  }
  for (let i = 1; i <= 3; i++) {
    const promo = cmsDoc('promotion', `${CMS_PREFIX}promo-${i}`, { code: `SOAKCMS${i}`,
      products: products.filter((p, k) => k % 3 === i - 1) });
    await cmsPromotionStep(promo);
  }
}

// At the end: each document's row, version and stock as the last delivery applied says
async function cmsChecks() {
  const settled = cmsDocs.filter((d) => !d.uncertain);
  const replays = Object.entries(cmsReplays).map(([k, n]) => `${n} ${k}`).join(', ');
  ok(cmsWrong.length === 0, `each of the ${cmsDeliveries} Strapi deliveries was answered as the order of its document's versions says `
    + `(${count0('cmsDeleted')} documents deleted, ${count0('cmsIgnored')} deliveries to another model's webhook answered 202 ignored)`, cmsWrong);
  const replayOk = Object.keys(cmsReplays).every((k) => k === 'stale' || k === 'duplicate');
  ok(replayOk && count0('cmsReplays') > 0, `each of the ${count0('cmsReplays')} replayed deliveries was answered stale or duplicate (${replays || 'none'})`);
  ok(cmsReadBack.wrong.length === 0, `the catalogue showed each CMS product as its last applied delivery says, ${cmsReadBack.ok} reads`, cmsReadBack.wrong);

  const products = new Map((await sql(`SELECT id, name, price, published, deleted_at IS NOT NULL FROM multistore.products WHERE id LIKE '${CMS_PREFIX}%'`))
    .map(([id, name, price, published, deleted]) => [id, `${name} at ${price}, ${published === 't' ? 'published' : 'not published'}${deleted === 't' ? ', deleted' : ''}`]));
  const versions = new Map((await sql(`
    SELECT model, document_id, round(extract(epoch FROM live_updated_at) * 1000), round(extract(epoch FROM live_published_at) * 1000), live_event,
           round(extract(epoch FROM draft_updated_at) * 1000), deleted_at IS NOT NULL
      FROM multistore.strapi_documents WHERE document_id LIKE '${CMS_PREFIX}%'`))
    .map(([model, id, u, p, ev, draft, deleted]) => [`${model}/${id}`, `live ${u || '-'}/${p || '-'}/${ev === '' ? '-' : ev}, draft ${draft || '-'}${deleted === 't' ? ', deleted' : ''}`]));
  const stock = new Map((await sql(`SELECT store_id || '/' || product_id, sum(on_hand), sum(held) FROM multistore.inventory WHERE product_id LIKE '${CMS_PREFIX}%' GROUP BY 1`))
    .map(([k, onHand, held]) => [k, `${onHand} on hand, ${held} held`]));
  const promotions = new Map((await sql(`SELECT id, value, published, array_to_string(ARRAY(SELECT unnest(product_ids) ORDER BY 1), ',') FROM multistore.promotions WHERE id LIKE '${CMS_PREFIX}%'`))
    .map(([id, value, published, ids]) => [id, `${Number(value)}% on ${ids}, ${published === 't' ? 'published' : 'not published'}`]));
  const wrong = [];
  const expectIn = (map, key, want, what) => {
    const got = map.get(key) ?? 'missing';
    if (got !== want) wrong.push(`${what} ${key}: ${got}; the last delivery applied says ${want}`);
  };
  for (const d of settled) {
    const v = d.v;
    // a document that took no delivery yet (the next generation of one deleted near the end) has no row
    const applied = v.live !== null || v.draftU !== null || v.deleted;
    expectIn(versions, `${d.model}/${d.id}`, applied
      ? `live ${v.live?.u ?? '-'}/${v.live?.p ?? '-'}/${v.live?.ev ?? '-'}, draft ${v.draftU ?? '-'}${v.deleted ? ', deleted' : ''}`
      : 'missing', 'version of');
    if (d.model === 'product') {
      const r = d.row;
      if (r) expectIn(products, d.id, `${r.name} at ${r.price.toFixed(2)}, ${r.published ? 'published' : 'not published'}${r.deleted ? ', deleted' : ''}`, 'product');
      else if (products.has(d.id)) wrong.push(`product ${d.id}: ${products.get(d.id)}, never written`);
    } else if (d.model === 'inventory') {
      expectIn(stock, `${d.store}/${d.product.id}`, `${d.row?.onHand ?? 0} on hand, 0 held`, 'stock');
    } else if (d.row) {
      expectIn(promotions, d.id, `${d.row.value}% on ${d.row.products.join(',')}, ${d.row.published ? 'published' : 'not published'}`, 'promotion');
    }
  }
  const kinds = ['product', 'inventory', 'promotion'].map((m) => `${settled.filter((d) => d.model === m).length} ${m}`).join(', ');
  ok(wrong.length === 0 && settled.length === cmsDocs.length,
    `each CMS document's row and version in the database are those of the last delivery the client sent and was told applied (${kinds}; `
    + `${cmsDocs.length - settled.length} left out after a failed request)`, wrong);
  await none('no Strapi delivery of the soak\'s documents was deferred', `SELECT id, reason FROM multistore.strapi_pending WHERE payload::text LIKE '%${CMS_PREFIX}%'`);
}

// --- realtime clients ---------------------------------------------------------------------------
//
// A steady population of streams for the whole run: WebSockets (/ws) and a few event streams
// (/api/events) of customers who place orders (their own order events, and the stock of the
// soak's stores), the soak's manager (every order at its stores) and anonymous kiosks (stock
// only).  Some open with Authorization, some with a ticket (POST /api/realtime/ticket), as a
// browser does.  The class's operation is churn: one stream closes (a close frame, or the
// socket dropped) and, after a pause, comes back where it left off (?since=<the highest id
// it has> on a WebSocket, Last-Event-ID on a stream), or now and then for good, a new client
// taking its place.  A logical client is one chain of connections that resume each other.

const RT_WS = num('SOAK_RT_WS', 16);
const RT_SSE = num('SOAK_RT_SSE', 4);
const RT_SETTLE_MS = 6000;  // after the traffic: every event of it reached the clients
const RT_MARGIN_MS = 5000;
const SSE_HEARTBEAT_S = num('REALTIME_SSE_HEARTBEAT', 15);  // an event must have reached a client that left if its transaction began this long before
const WS_ORIGIN = BASE.origin.replace(/^http/, 'ws');
const rtClients = [];       // logical clients, those that left too
const rtUnexpected = [];    // streams the proxy closed or refused
const rtDelivery = { order: [], inventory: [] }; // ms from an event's at (its transaction's start) to its arrival
const RT_KEEP = 4000;        // out-of-order arrivals and repeats kept for the check (counted beyond)
const rtKept = { inversions: 0, repeats: 0 };
let rtSeq = 0;

function rtClient(kind, user, stores, auth) {
  const c = { n: ++rtSeq, kind, user, stores, auth, start: null, end: null, maxId: 0, got: new Map(), conns: [],
    conn: null, busy: false, gone: false, repeats: [] };
  rtClients.push(c);
  return c;
}
const rtName = (c) => `${c.kind} #${c.n} (${c.user ? (c.user === manager ? 'the manager' : c.user.name) : 'anonymous'}${c.stores.length ? ` watching ${c.stores.join(',')}` : ''})`;
const rtOpen = () => rtClients.filter((c) => c.conn);

// An event arrives on a connection: kept by id (the connection it came on), in order or not
function rtReceive(c, conn, e) {
  const first = c.got.get(e.id);
  if (first === undefined) c.got.set(e.id, conn.n);
  else if (first === conn.n) conn.dups.push(e.id);
  else if (rtKept.repeats++ < RT_KEEP) c.repeats.push([e.id, conn.since]); // again after a resume: allowed for a late commit (README)
  if (e.id < conn.maxId && rtKept.inversions++ < RT_KEEP) conn.inversions.push([conn.maxId, e.id]);
  if (e.id > conn.maxId) conn.maxId = e.id;
  if (e.id > c.maxId) c.maxId = e.id;
  conn.events += 1;
  // delivery time of live events only: one that began before the connection was asked for may be a catch-up
  const at = Date.parse(e.at);
  if (at >= conn.opened) rtDelivery[e.type.startsWith('order.') ? 'order' : 'inventory'].push(Date.now() - at);
}

// Opens c's next connection (resuming from c.maxId when resume); false when it did not open
async function rtConnect(c, resume) {
  const query = [];
  const headers = {};
  if (c.stores.length) query.push(`stores=${c.stores.join(',')}`);
  if (c.user && c.auth === 'ticket') {
    const t = await call('POST /api/realtime/ticket', 'POST', '/api/realtime/ticket', { headers: c.user.headers, expect: [201] });
    if (t.status !== 201) return false;
    query.push(`ticket=${encodeURIComponent(t.json.ticket)}`);
  } else if (c.user) headers.authorization = c.user.headers.authorization;
  if (resume && c.kind === 'ws') query.push(`since=${c.maxId}`);
  if (resume && c.kind === 'sse') headers['last-event-id'] = String(c.maxId);
  const path = `${c.kind === 'ws' ? '/ws' : '/api/events'}${query.length ? `?${query.join('&')}` : ''}`;
  const route = c.kind === 'ws' ? 'GET /ws' : 'GET /api/events';
  const conn = { n: c.conns.length, since: resume ? c.maxId : null, opened: Date.now(), ready: null, closed: null, byUs: false,
    maxId: 0, events: 0, dups: [], inversions: [] };
  const onEvent = (e) => rtReceive(c, conn, e);
  const started = process.hrtime.bigint();
  conn.client = c.kind === 'ws' ? openWs(`${WS_ORIGIN}${path}`, { headers, onEvent }) : openSse(`${BASE.origin}${path}`, { headers, onEvent });
  c.conns.push(conn);
  let answer;
  if (c.kind === 'ws') {
    answer = await Promise.race([
      conn.client.ready.then((m) => ({ status: 101, ready: m }), (e) => ({ error: `no ready: ${e.message.slice(0, 80)}` })),
      conn.client.refused,
      conn.client.closed.then(({ code }) => ({ error: `closed ${code} before ready` })),
    ]);
  } else {
    const res = await conn.client.response.catch((e) => ({ error: e.code || e.message }));
    answer = res.error ? res : res.statusCode !== 200 ? { status: res.statusCode }
      : await conn.client.ready.then(() => ({ status: 200 }), (e) => ({ error: `no ready: ${e.message.slice(0, 80)}` }));
    if (!res.error) res.on('close', () => conn.onLost?.());
  }
  record(route, started, answer, [c.kind === 'ws' ? 101 : 200]);
  if (answer.error || answer.status !== (c.kind === 'ws' ? 101 : 200)) {
    rtUnexpected.push(`${rtName(c)}: ${answer.error ?? `${answer.status} ${answer.text ?? ''}`.slice(0, 160)}`);
    if (c.kind === 'ws') conn.client.ws.terminate(); else conn.client.close();
    return false;
  }
  conn.ready = Date.now();
  if (c.start === null) c.start = conn.ready;
  // a first WebSocket knows where the stream began: it resumes from there even before its first event
  if (c.kind === 'ws' && c.maxId === 0) c.maxId = answer.ready.lastId ?? 0;
  c.conn = conn;
  const lost = (why) => {
    if (conn.closed !== null) return;
    conn.closed = Date.now();
    if (conn.byUs) return;
    // the proxy ended a stream nobody asked it to: an anomaly; the client resumes as a browser would
    rtUnexpected.push(`${rtName(c)}: connection ${conn.n} ${why} after ${((conn.closed - conn.ready) / 1000).toFixed(0)} s`);
    anomaly(`realtime ${rtName(c)}: ${why}`);
    if (c.conn === conn) c.conn = null;
    c.lastClosed = conn.closed;
    if (!stopping && !c.busy) setTimeout(() => { if (!stopping && !c.busy && !c.conn && !c.gone) rtTrack(rtConnect(c, true)); }, 1000);
  };
  if (c.kind === 'ws') conn.client.closed.then(({ code, reason }) => lost(`closed by the proxy (${code} ${reason})`));
  else conn.onLost = () => lost('ended by the proxy');
  return true;
}

// Closes c's connection: a close frame (WebSocket), or the socket dropped without one
async function rtDisconnect(c, abrupt) {
  const conn = c.conn;
  if (!conn) return;
  conn.byUs = true;
  c.conn = null;
  if (c.kind === 'ws') {
    if (abrupt) conn.client.ws.terminate(); else conn.client.ws.close(1000);
    await Promise.race([conn.client.closed, sleep(5000)]);
    if (conn.closed === null) conn.client.ws.terminate();
  } else conn.client.close();
  conn.closed ??= Date.now();
  c.lastClosed = conn.closed;
}

// The realtime class: one stream goes away and comes back (or is replaced)
async function realtimeOp() {
  const c = idle(rtClients.filter((x) => x.conn && !x.gone));
  if (!c) return 'skip';
  c.busy = true;
  try {
    await rtDisconnect(c, Math.random() < 0.25);
    count('rtChurn');
    await sleep(200 + Math.random() * 2000);
    // an event stream that has no id yet has nothing to resume from (EventSource sends no Last-Event-ID)
    if (stopping || Math.random() < 0.15 || (c.kind === 'sse' && c.maxId === 0)) {
      c.gone = true;
      c.end = c.lastClosed;
      if (stopping) return;
      count('rtReplaced');
      await rtConnect(rtClient(c.kind, c.user, c.stores, c.auth), false);
    } else {
      count('rtResumed');
      await rtConnect(c, true);
    }
  } finally { c.busy = false; }
}
function rtTrack(p) {
  inFlight.add(p);
  p.finally(() => inFlight.delete(p));
  return p;
}

// The population: customers who place orders (WebSocket, every soak store; a few on an event
// stream, one store each), the manager, anonymous kiosks
async function rtSetup() {
  const wsCustomers = Math.max(1, Math.round(RT_WS * 0.6));
  for (let i = 0; i < RT_WS; i++) {
    if (i < wsCustomers) rtClient('ws', customers[i % customers.length], STORES, i % 3 === 0 ? 'ticket' : 'header');
    else if (i === wsCustomers) rtClient('ws', manager, [], 'header');
    else rtClient('ws', null, [STORES[i % STORES.length]]);
  }
  for (let i = 0; i < RT_SSE; i++) {
    if (i < RT_SSE - 1 || RT_SSE === 1) rtClient('sse', customers[(wsCustomers + i) % customers.length], [STORES[i % STORES.length]], i % 2 ? 'ticket' : 'header');
    else rtClient('sse', null, STORES);
  }
  const opened = await Promise.all(rtClients.map((c) => rtConnect(c, false)));
  return opened.every(Boolean);
}

// The proxy's realtime gauges (GET /metrics): {websocket, sse}
async function rtGauges() {
  const r = await call('GET /metrics', 'GET', '/metrics');
  const gauge = (transport) => Number((new RegExp(`^multistore_realtime_clients\\{transport="${transport}"\\} (\\d+)`, 'm').exec(r.text ?? '') ?? [])[1]);
  return { websocket: gauge('websocket'), sse: gauge('sse') };
}
const rtOpenCounts = () => ({ websocket: rtOpen().filter((c) => c.kind === 'ws').length, sse: rtOpen().filter((c) => c.kind === 'sse').length });

// After the traffic: the gauges agree with the clients, then every stream closes and they go to 0
async function rtEnd() {
  await sleep(RT_SETTLE_MS);
  let gauges;
  let want;
  for (let i = 0; i < 20; i++) {
    [gauges, want] = [await rtGauges(), rtOpenCounts()];
    if (gauges.websocket === want.websocket && gauges.sse === want.sse) break;
    await sleep(250);
  }
  ok(gauges.websocket === want.websocket && gauges.sse === want.sse,
    `the proxy's realtime gauges count the streams open at the end: ${gauges.websocket} WebSocket and ${gauges.sse} SSE (the clients hold ${want.websocket} and ${want.sse})`);
  const fdsOpen = procSample().fds;
  const open = rtOpen();
  await Promise.all(open.map(async (c) => {
    await rtDisconnect(c, false);
    c.end = c.lastClosed;
  }));
  // (an event stream whose peer left is noticed within a second, not at the next failed heartbeat: realtime.c, SsePeerGone)
  const t = Date.now();
  for (;;) {
    gauges = await rtGauges();
    if ((gauges.websocket === 0 && gauges.sse === 0) || Date.now() - t > 5000) break;
    await sleep(100);
  }
  const waited = ((Date.now() - t) / 1000).toFixed(1);
  await sleep(500);
  const fdsClosed = procSample().fds;
  ok(gauges.websocket === 0 && gauges.sse === 0, `the realtime gauges return to 0 within 5 s once the ${open.length} clients closed: `
    + `${gauges.websocket} WebSocket, ${gauges.sse} SSE after ${waited} s`);
  ok(fdsOpen - fdsClosed >= open.length - FD_TOLERANCE,
    `the proxy let go of each stream's socket: ${fdsOpen} descriptors with ${open.length} streams open, ${fdsClosed} after they closed`);
}

// What the clients received, against the event log
async function rtChecks() {
  const conns = rtClients.flatMap((c) => c.conns.filter((k) => k.ready !== null));
  diag(`--- realtime: ${rtClients.length} logical clients, ${conns.length} connections, ${conns.reduce((a, k) => a + k.events, 0)} events received, `
    + `${count0('rtResumed')} resumed, ${count0('rtReplaced')} replaced`);
  ok(rtUnexpected.length === 0, `every realtime stream opened when asked and stayed open until its client closed it (${conns.length} connections)`, rtUnexpected);
  const log = new Map((await sql(`SELECT id, type, coalesce(store_id, ''), coalesce(user_id::text, ''), round(extract(epoch FROM created_at) * 1000)
                                    FROM multistore.events ORDER BY id`))
    .map(([id, type, store, user, at]) => [Number(id), { type, store, user, at: Number(at) }]));
  const managed = new Set(STORES);
  const maySee = (c, e) => (e.type.startsWith('order.') ? (c.user === manager ? managed.has(e.store) : !!c.user && e.user === c.user.id)
    : e.type === 'inventory.changed' && c.stores.includes(e.store));

  const dups = conns.flatMap((k) => k.dups.map((id) => `event ${id} twice on one connection`));
  ok(dups.length === 0, `no connection received an event twice (${conns.length} connections)`, dups);

  // out of id order: only an event whose transaction the higher one's snapshot did not see (a late commit)
  const pairs = conns.flatMap((k) => k.inversions);
  if (rtKept.inversions > pairs.length) diag(`${rtKept.inversions} arrivals out of id order, the first ${pairs.length} checked`);
  let badOrder = [];
  if (pairs.length) {
    badOrder = (await sql(`
      SELECT p.h, a.type, p.l, l.type, CASE WHEN l.xid = a.xid THEN 'the same transaction' ELSE 'committed before the higher one was written' END
        FROM (VALUES ${pairs.map(([h, l]) => `(${h}, ${l})`).join(',')}) p(h, l)
        JOIN multistore.events a ON a.id = p.h JOIN multistore.events l ON l.id = p.l
       WHERE l.xid = a.xid OR pg_visible_in_snapshot(l.xid, a.snapshot)`)).map((r) => `${r[2]} (${r[3]}) after ${r[0]} (${r[1]}): ${r[4]}`);
  }
  ok(badOrder.length === 0, `every connection received events in id order, but for late commits (an event of a transaction still open when the higher id was written): `
    + `${rtKept.inversions} such arrivals, ${badOrder.length} of the ${pairs.length} checked not explained by a late commit`, badOrder);

  // again after a resume: only a late commit below the since id (events_since's rule), which the client drops
  const repeats = rtClients.flatMap((c) => c.repeats);
  let badRepeats = [];
  if (repeats.length) {
    badRepeats = (await sql(`
      SELECT p.id, p.since FROM (VALUES ${repeats.map(([id, since]) => `(${id}, ${since ?? 0})`).join(',')}) p(id, since)
        LEFT JOIN multistore.events a ON a.id = p.since LEFT JOIN multistore.events l ON l.id = p.id
       WHERE a.id IS NULL OR l.id IS NULL OR l.id >= a.id OR l.xid = a.xid OR pg_visible_in_snapshot(l.xid, a.snapshot)`))
      .map(([id, since]) => `event ${id} again after resuming from ${since}`);
  }
  ok(badRepeats.length === 0, `an event came again after a resume only as a late commit below the resume point (${rtKept.repeats} such, dropped by id)`, badRepeats);

  // nothing a client may not see; everything it may see that began while it was there (or resumed across)
  const leaks = [];
  const missing = [];
  let mustSee = 0;
  let ownCreated = 0;
  const missingCreated = [];
  for (const c of rtClients) {
    if (c.start === null) continue;
    for (const id of c.got.keys()) {
      const e = log.get(id);
      if (!e) leaks.push(`${rtName(c)}: event ${id}, not in the log`);
      else if (!maySee(c, e)) leaks.push(`${rtName(c)}: event ${id} (${e.type} at ${e.store} of user ${e.user || '-'})`);
    }
    const until = (c.end ?? Date.now()) - RT_MARGIN_MS;
    for (const [id, e] of log) {
      if (e.at < c.start || e.at > until || !maySee(c, e)) continue;
      mustSee += 1;
      const own = e.type === 'order.created' && c.user && c.user !== manager;
      if (own) ownCreated += 1;
      if (!c.got.has(id)) {
        const where = c.conns.map((k) => `[${k.since ?? 'new'}: ${k.ready === null ? 'never ready' : `${k.ready - c.start}..${(k.closed ?? Date.now()) - c.start} ms`}]`).join(' ');
        (own ? missingCreated : missing).push(`${rtName(c)}: event ${id} (${e.type} at ${e.store}, ${e.at - c.start} ms after it began; connections ${where})`);
      }
    }
  }
  ok(leaks.length === 0, 'no client received an event it may not see (another customer\'s order, a store it does not watch, an order event without a session)', leaks);
  ok(missingCreated.length === 0, `each customer's client, connected or resumed across the placing of an order of theirs, received its order.created (${ownCreated})`, missingCreated);
  ok(missing.length === 0 && mustSee > 0, `no gap: every other event a client may see whose transaction began while it was connected or resumed across reached it (${mustSee - ownCreated})`, missing);
}

/*
 * THE TRAFFIC TABLE: one line per class.  rate: operations per second (before
 * SOAK_RATE_SCALE); cap: operations of the class in flight at most; op: one
 * operation (returns 'skip' when it has nothing to work on).  About 32
 * requests per second in all at scale 1, and 20 realtime streams.
 */
const CLASSES = [
  { name: 'reads', rate: 12, cap: 24, op: readOp },
  { name: 'customer reads', rate: 2, cap: 8, op: customerReadOp },
  { name: 'carts', rate: 2, cap: BROWSERS, op: cartOp },
  { name: 'checkouts', rate: 1.2, cap: CUSTOMERS, op: checkoutOp },
  { name: 'payment re-deliveries', rate: 0.3, cap: 4, op: redeliverOp },
  { name: 'manager', rate: 1, cap: 4, op: managerOp },
  { name: 'accounts', rate: 0.1, cap: 2, op: accountOp },
  { name: 'product webhooks', rate: 1, cap: 4, op: webhookOp },
  { name: 'realtime clients', rate: 0.2, cap: 4, op: realtimeOp },
];

// --- the steady schedule --------------------------------------------------------------------

let stopping = false;
const inFlight = new Set();
function runClass(k) {
  k.scheduled = 0; k.started = 0; k.skipped = 0; k.active = 0;
  const rate = k.rate * SCALE;
  const start = Date.now();
  return (async () => {
    for (let n = 0; !stopping; n++) {
      const due = start + (n * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      if (stopping) break;
      k.scheduled += 1;
      if (k.active >= k.cap) { k.skipped += 1; continue; }
      k.active += 1;
      const p = (async () => {
        try {
          if ((await k.op()) === 'skip') k.skipped += 1;
          else k.started += 1;
        } catch (e) { anomaly(`${k.name}: ${e.stack || e}`); }
        finally { k.active -= 1; }
      })();
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    }
  })();
}

// --- the proxy's memory and descriptors ---------------------------------------------------------

const samples = [];
const CSV = `${OUT}/soak.csv`;
function procSample() {
  const status = readFileSync(`/proc/${PROXY_PID}/status`, 'utf8');
  const field = (name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status) ?? [])[1]);
  // a proxy that exited stays a zombie until scripts/soak waits for it
  if (/^State:\s+[ZX]/m.test(status)) throw Object.assign(new Error('exited'), { code: 'exited' });
  return { rss: field('VmRSS'), hwm: field('VmHWM'), threads: field('Threads'), fds: readdirSync(`/proc/${PROXY_PID}/fd`).length };
}
let lastRequests = 0;
let lastAt = Date.now();
// the realtime streams the clients hold and the proxy's gauges, with every sample
let gaugeDrift = 0;
async function takeSample() {
  let s;
  try { s = procSample(); } catch (e) {
    // crashed, or killed from outside: nothing this run measures from now on would mean anything
    console.log(`Bail out! the proxy ${PROXY_PID} is gone after ${elapsed().toFixed(0)} s (${e.code || e.message}): see its log`);
    process.exit(1);
  }
  const streams = rtOpen().length;
  const g = rtClients.length ? await rtGauges() : { websocket: 0, sse: 0 };
  gaugeDrift = Math.max(gaugeDrift, Math.abs(g.websocket + g.sse - streams));
  const now = Date.now();
  const lat = interval.lat.sort((a, b) => a - b);
  const row = { t: elapsed(), ...s, requests: requestsTotal, rps: (requestsTotal - lastRequests) / ((now - lastAt) / 1000),
    p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), errors: interval.errors, streams, gaugeWs: g.websocket, gaugeSse: g.sse };
  lastRequests = requestsTotal; lastAt = now;
  interval = { lat: [], errors: 0 };
  samples.push(row);
  if (!mappingsAtWarmup && row.t >= WARMUP_S) { try { mappingsAtWarmup = mappings(); } catch { /* gone */ } }
  appendFileSync(CSV, `${row.t.toFixed(1)},${row.rss},${row.hwm},${row.fds},${row.threads},${row.requests},${row.rps.toFixed(1)},`
    + `${Number.isNaN(row.p50) ? '' : row.p50.toFixed(2)},${Number.isNaN(row.p99) ? '' : row.p99.toFixed(2)},${row.errors},`
    + `${row.streams},${row.gaugeWs},${row.gaugeSse}\n`);
  if (samples.length % Math.max(1, Math.round(300 / SAMPLE_S)) === 1) {
    diag(`${row.t.toFixed(0)} s: RSS ${(row.rss / 1024).toFixed(1)} MiB, ${row.fds} fds (${row.streams} realtime streams), ${row.threads} threads, `
      + `${row.rps.toFixed(1)} req/s, p99 ${row.p99?.toFixed(1)} ms, ${errorsTotal} errors so far`);
  }
}

// The proxy's memory mappings and the resident KiB of each (/proc/PID/smaps), to say where RSS went
function mappings() {
  const out = new Map();
  let key;
  for (const line of readFileSync(`/proc/${PROXY_PID}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const kib = (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024;
      key = `${head[3] || 'anonymous'} at ${head[1]}`;
      out.set(key, { kib, rss: 0 });
    } else if (key && line.startsWith('Rss:')) out.get(key).rss = Number(line.split(/\s+/)[1]);
  }
  return out;
}
let mappingsAtWarmup;

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
// least squares slope of ys over xs
function slope(xs, ys) {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den ? num / den : 0;
}

function flatness() {
  const steady = samples.filter((s) => s.t >= WARMUP_S);
  const third = Math.floor(steady.length / 3);
  ok(third >= 2, `at least 6 samples after the ${WARMUP_S} s warm-up to judge flatness (${steady.length})`);
  if (third < 2) return {};
  const first = steady.slice(0, third);
  const last = steady.slice(-third);
  const rss0 = mean(first.map((s) => s.rss));
  const rss1 = mean(last.map((s) => s.rss));
  const fd0 = mean(first.map((s) => s.fds));
  const fd1 = mean(last.map((s) => s.fds));
  const allowRss = Math.max(rss0 * RSS_TOLERANCE, RSS_SLACK_KIB);
  const rssSlope = slope(steady.map((s) => s.t / 60), steady.map((s) => s.rss));
  const fdSlope = slope(steady.map((s) => s.t / 60), steady.map((s) => s.fds));
  ok(rss1 - rss0 <= allowRss, `proxy RSS is flat: mean ${(rss0 / 1024).toFixed(1)} MiB in the first third after warm-up, `
    + `${(rss1 / 1024).toFixed(1)} MiB in the last (${rss1 - rss0 >= 0 ? '+' : ''}${(rss1 - rss0).toFixed(0)} KiB, allowed +${allowRss.toFixed(0)} KiB; `
    + `slope ${rssSlope.toFixed(1)} KiB/min)`);
  ok(fd1 - fd0 <= FD_TOLERANCE, `proxy open descriptors are flat: mean ${fd0.toFixed(1)} in the first third, ${fd1.toFixed(1)} in the last `
    + `(allowed +${FD_TOLERANCE}; slope ${fdSlope.toFixed(2)}/min)`);
  if (mappingsAtWarmup) {
    // where the resident memory grew or shrank since the warm-up, largest changes first
    let now = new Map();
    try { now = mappings(); } catch { /* gone */ }
    const changes = [...new Set([...mappingsAtWarmup.keys(), ...now.keys()])]
      .map((k) => [`${k} (${(now.get(k) ?? mappingsAtWarmup.get(k)).kib} KiB mapped)`, (now.get(k)?.rss ?? 0) - (mappingsAtWarmup.get(k)?.rss ?? 0)])
      .filter(([, d]) => d !== 0)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    diag(`--- resident memory by mapping, since the warm-up (/proc/${PROXY_PID}/smaps): ${changes.reduce((a, [, d]) => a + d, 0)} KiB in all`);
    for (const [k, d] of changes.slice(0, 6)) diag(`${d > 0 ? '+' : ''}${d} KiB  ${k}`);
  }
  return { rss0, rss1, fd0, fd1, rssSlope, fdSlope };
}

// --- the invariants --------------------------------------------------------------------------------

async function none(description, query) {
  const rows = await sql(query);
  ok(rows.length === 0, `${description}${rows.length ? ` (${rows.length} rows break it)` : ''}`, rows.map((r) => r.join(' | ')));
}

async function checks(initial) {
  diag('--- the database after the run');
  const mine = `(SELECT id FROM multistore.users WHERE email LIKE 'soak-%@soak.example')`;
  await none('every order has exactly one idempotency key, its own user\'s, naming it (no order placed twice)', `
    SELECT o.id, o.user_id, count(k.key) FROM multistore.orders o LEFT JOIN multistore.idempotency_keys k ON k.order_id = o.id
     GROUP BY o.id, o.user_id HAVING count(k.key) <> 1 OR bool_or(k.user_id <> o.user_id)`);
  await none('count of orders per (user, idempotency key) is 1 for every 201 key and 0 for every refusal', `
    SELECT k.user_id, k.key, k.status, count(o.id) FROM multistore.idempotency_keys k
      LEFT JOIN multistore.orders o ON o.id = k.order_id AND o.user_id = k.user_id
     GROUP BY k.user_id, k.key, k.status HAVING count(o.id) <> CASE WHEN k.status = 201 THEN 1 ELSE 0 END`);

  const keys = new Map((await sql(`SELECT user_id, key, status, order_id FROM multistore.idempotency_keys WHERE user_id IN ${mine}`))
    .map(([u, k, s, o]) => [`${u}/${k}`, { status: Number(s), orderId: o || null }]));
  const orders = new Map((await sql(`
    SELECT o.id, o.user_id, o.status, o.paid_at IS NOT NULL, r.status FROM multistore.orders o
      LEFT JOIN multistore.reservations r ON r.id = o.reservation_id AND r.store_id = o.store_id`))
    .map(([id, user, status, paid, reservation]) => [id, { user, status, paid: paid === 't', reservation }]));
  const wrongCreated = [];
  const wrongRefused = [];
  const known = new Set();
  for (const a of orderAttempts) {
    const k = keys.get(`${a.user}/${a.key}`);
    if (a.outcome === 'created') {
      known.add(a.orderId);
      const o = orders.get(a.orderId);
      if (!k || k.status !== 201 || k.orderId !== a.orderId || !o || o.user !== a.user) wrongCreated.push(`key ${a.key}: order ${a.orderId}; key ${JSON.stringify(k)}; order ${JSON.stringify(o)}`);
    } else if (a.outcome === 'out_of_stock') {
      if (!k || k.status !== 409 || k.orderId) wrongRefused.push(`key ${a.key}: out_of_stock; key ${JSON.stringify(k)}`);
    }
  }
  const created = orderAttempts.filter((a) => a.outcome === 'created');
  ok(wrongCreated.length === 0, `each of the ${created.length} orders the clients were told of exists once, is theirs, and its key names it`, wrongCreated);
  ok(wrongRefused.length === 0, `each of the ${orderAttempts.filter((a) => a.outcome === 'out_of_stock').length} out_of_stock refusals is stored as that key's refusal, with no order`, wrongRefused);
  const unknown = [...orders.keys()].filter((id) => !known.has(id));
  ok(unknown.length === 0, `every order in the database is one a client was told of (${orders.size} orders)`, unknown.map((id) => `${id}: ${JSON.stringify(orders.get(id))}`));
  const sent = new Set(orderAttempts.map((a) => `${a.user}/${a.key}`));
  const stray = [...keys.keys()].filter((k) => !sent.has(k));
  ok(stray.length === 0, 'no idempotency key in the database that no client sent', stray);

  // every order ended where its customer's and the manager's actions lead; an order left unpaid expires
  // once its reservation's TTL has passed and the pg_cron sweep ran (every minute)
  const wrongState = [];
  const sweepGrace = RESERVATION_TTL_S * 1000 + 90000;
  for (const a of created) {
    const o = orders.get(a.orderId);
    const age = Date.now() - a.at;
    let ok2;
    if (a.action === 'pay') ok2 = o && o.status === a.status && o.reservation === 'consumed' && o.paid;
    else if (a.action === 'fail' || a.action === 'cancel') ok2 = o && o.status === 'cancelled' && o.reservation === 'released' && !o.paid;
    else if (age < RESERVATION_TTL_S * 1000) ok2 = o && o.status === 'pending_payment' && o.reservation === 'active' && !o.paid;
    else if (age > sweepGrace) ok2 = o && o.status === 'expired' && ['expired', 'released'].includes(o.reservation) && !o.paid;
    else ok2 = o && !o.paid && (o.status === 'expired' || o.status === 'pending_payment');
    if (!ok2) wrongState.push(`order ${a.orderId} (${a.action}, ${(age / 1000).toFixed(0)} s old, told ${a.status}): ${JSON.stringify(o)}`);
  }
  const expired = created.filter((a) => orders.get(a.orderId)?.status === 'expired').length;
  ok(wrongState.length === 0, `every order ended as its actions say: paid -> the manager's last status + consumed, failed or cancelled -> cancelled + released, left -> pending_payment + active, or expired after the TTL (${expired} expired)`, wrongState);

  // stock
  await none('no bucket oversold: 0 <= held <= on hand in every bucket', `
    SELECT store_id, product_id, bucket, on_hand, held FROM multistore.inventory WHERE on_hand < 0 OR held < 0 OR held > on_hand`);
  await none('every bucket\'s held equals the sum of its active holds', `
    SELECT i.store_id, i.product_id, i.bucket, i.held, coalesce(h.q, 0) FROM multistore.inventory i
      LEFT JOIN (SELECT store_id, product_id, bucket, sum(quantity) AS q FROM multistore.reservation_holds
                  WHERE state = 'active' GROUP BY 1, 2, 3) h USING (store_id, product_id, bucket)
     WHERE i.held <> coalesce(h.q, 0)`);
  const now = await sql(`
    WITH inv AS (SELECT store_id, product_id, sum(on_hand) AS on_hand FROM multistore.inventory GROUP BY 1, 2),
         sold AS (SELECT store_id, product_id, sum(quantity) AS sold FROM multistore.reservation_holds WHERE state = 'consumed' GROUP BY 1, 2)
    SELECT inv.store_id, inv.product_id, inv.on_hand, coalesce(sold.sold, 0) FROM inv LEFT JOIN sold USING (store_id, product_id)`);
  const ledger = [];
  const setWrong = [];
  const cmsStock = now.filter(([, product]) => product.startsWith(CMS_PREFIX)).length;
  for (const [store, product, onHand, sold] of now) {
    const k = `${store}/${product}`;
    if (product.startsWith(CMS_PREFIX)) continue; // Strapi's stock of the soak's documents: cmsChecks
    if (inventorySet.has(k)) {
      if (Number(onHand) !== inventorySet.get(k) || Number(sold) !== 0) setWrong.push(`${k}: on hand ${onHand}, sold ${sold}; the manager set ${inventorySet.get(k)} last`);
    } else if (Number(onHand) + Number(sold) !== initial.get(k)) ledger.push(`${k}: on hand ${onHand} + sold ${sold} <> stocked ${initial.get(k)}`);
  }
  if (now.length - cmsStock !== initial.size) ledger.push(`${now.length - cmsStock} stock rows now (besides the CMS documents' ${cmsStock}), ${initial.size} before`);
  ok(ledger.length === 0, `for each of the ${now.length - cmsStock - inventorySet.size} stocks the manager did not set, on hand + sold = what was stocked before the run`, ledger);
  ok(setWrong.length === 0, `each of the ${inventorySet.size} stocks the manager set holds the last value it was answered 200 for`, setWrong);
  for (const [store, product, onHand, sold] of now.filter(([, p]) => p.startsWith('soak_scarce'))) {
    diag(`scarce stock ${store}/${product}: stocked ${initial.get(`${store}/${product}`)}, sold ${sold}, on hand ${onHand}`);
  }
  await none('units sold = units of paid orders, for every store and product', `
    WITH sold AS (SELECT store_id, product_id, sum(quantity) AS q FROM multistore.reservation_holds WHERE state = 'consumed' GROUP BY 1, 2),
         paid AS (SELECT i.store_id, i.product_id, sum(i.quantity) AS q FROM multistore.order_items i
                    JOIN multistore.orders o ON o.id = i.order_id AND o.store_id = i.store_id WHERE o.paid_at IS NOT NULL GROUP BY 1, 2)
    SELECT store_id, product_id, s.q, p.q FROM sold s FULL JOIN paid p USING (store_id, product_id) WHERE s.q IS DISTINCT FROM p.q`);

  // reservations and holds
  await none('each order\'s reservation agrees with the order: pending_payment -> active, paid -> consumed, cancelled -> released, expired -> expired or released', `
    SELECT o.id, o.status, o.paid_at IS NOT NULL, r.status, r.owner_type, r.owner_ref FROM multistore.orders o
      LEFT JOIN multistore.reservations r ON r.id = o.reservation_id AND r.store_id = o.store_id
     WHERE r.id IS NULL OR r.owner_type <> 'order' OR r.owner_ref <> o.id::text
        OR (o.paid_at IS NOT NULL) <> (o.status IN ('confirmed', 'preparing', 'ready_for_pickup', 'out_for_delivery', 'completed', 'delivered'))
        OR NOT CASE WHEN o.status = 'pending_payment' THEN r.status = 'active'
                    WHEN o.paid_at IS NOT NULL THEN r.status = 'consumed'
                    WHEN o.status = 'cancelled' THEN r.status = 'released'
                    WHEN o.status = 'expired' THEN r.status IN ('expired', 'released')
                    ELSE false END`);
  await none('every order\'s holds are its items: per product, the quantity held, sold, released or expired = the quantity ordered', `
    WITH h AS (SELECT reservation_id, product_id, sum(quantity) AS q FROM multistore.reservation_holds
                WHERE reservation_id IN (SELECT reservation_id FROM multistore.orders) GROUP BY 1, 2),
         i AS (SELECT o.reservation_id, i.product_id, sum(i.quantity) AS q FROM multistore.orders o
                 JOIN multistore.order_items i ON i.order_id = o.id AND i.store_id = o.store_id GROUP BY 1, 2)
    SELECT reservation_id, product_id, h.q, i.q FROM h FULL JOIN i USING (reservation_id, product_id) WHERE h.q IS DISTINCT FROM i.q`);
  await none('every hold agrees with its reservation\'s status', `
    SELECT r.id, r.status, h.product_id, h.bucket, h.state FROM multistore.reservations r
      JOIN multistore.reservation_holds h ON h.store_id = r.store_id AND h.reservation_id = r.id
     WHERE (r.status IN ('consumed', 'released') AND h.state <> r.status)
        OR (r.status = 'active' AND r.expires_at > now() AND h.state <> 'active')
        OR (h.state = 'consumed' AND r.status <> 'consumed')`);
  await none('no hold without its reservation, no reservation without holds, no order reservation without its order', `
    SELECT 'hold', h.reservation_id::text FROM multistore.reservation_holds h
     WHERE NOT EXISTS (SELECT 1 FROM multistore.reservations r WHERE r.id = h.reservation_id AND r.store_id = h.store_id)
    UNION ALL SELECT 'reservation without holds', r.id::text FROM multistore.reservations r
     WHERE NOT EXISTS (SELECT 1 FROM multistore.reservation_holds h WHERE h.reservation_id = r.id AND h.store_id = r.store_id)
    UNION ALL SELECT 'order reservation without order', r.id::text FROM multistore.reservations r
     WHERE r.owner_type = 'order' AND NOT EXISTS (SELECT 1 FROM multistore.orders o WHERE o.reservation_id = r.id AND o.store_id = r.store_id)`);
  const tills = await sql(`SELECT id, status FROM multistore.reservations WHERE owner_type = 'external' AND created_by = '${manager.id}'`);
  const told = new Map(holds.map((h) => [h.id, h]));
  const wrongTill = tills.filter(([id, status]) => !told.has(id) || (told.get(id).released && status !== 'released'))
    .map(([id, status]) => `${id}: ${status}, ${told.has(id) ? 'released by the manager' : 'never created by the manager'}`);
  if (tills.length !== holds.length) wrongTill.push(`${tills.length} point-of-sale reservations stored, ${holds.length} created`);
  ok(wrongTill.length === 0, `each of the ${holds.length} point-of-sale holds the manager made is stored once, and released when it was told so (${holds.filter((h) => h.released).length})`, wrongTill);

  // payments
  await none('payment_events ids are unique', 'SELECT id, count(*) FROM multistore.payment_events GROUP BY id HAVING count(*) > 1');
  await none('each paid order has exactly one succeeded event applied (outcome confirmed), and no unpaid order has one', `
    SELECT o.id, o.status, o.paid_at, count(e.id) FILTER (WHERE e.outcome = 'confirmed') FROM multistore.orders o
      LEFT JOIN multistore.payment_events e ON e.order_id = o.id GROUP BY o.id, o.status, o.paid_at
    HAVING count(e.id) FILTER (WHERE e.outcome = 'confirmed') <> CASE WHEN o.paid_at IS NOT NULL THEN 1 ELSE 0 END`);
  await none('no order changed status twice the same way: at most one move out of pending_payment, at most one into each later status', `
    SELECT order_id, to_status, count(*) FROM multistore.order_status_history
     GROUP BY order_id, to_status HAVING count(*) > 1
    UNION ALL SELECT order_id, 'out of pending_payment', count(*) FROM multistore.order_status_history
     WHERE from_status = 'pending_payment' GROUP BY order_id HAVING count(*) > 1`);
  const events = new Map((await sql('SELECT id, order_id, type, outcome FROM multistore.payment_events'))
    .map(([id, orderId, type, outcome]) => [id, { orderId, type, outcome }]));
  const wrongEvents = [];
  for (const p of payments) {
    const e = events.get(p.id);
    const want = p.type === 'payment.succeeded' ? 'confirmed' : 'cancelled';
    if (!e || e.orderId !== p.orderId || e.type !== p.type || e.outcome !== want) wrongEvents.push(`${p.id} (${p.type}, answered ${p.answer}): ${JSON.stringify(e)}`);
  }
  for (const id of events.keys()) if (!payments.some((p) => p.id === id)) wrongEvents.push(`${id}: in the database, never sent`);
  ok(wrongEvents.length === 0, `each of the ${payments.length} payment events sent is recorded once, for its order, with the outcome it was answered `
    + `(${counters.duplicatesAnswered ?? 0} re-deliveries answered duplicate)`, wrongEvents);
}

// --- the run ----------------------------------------------------------------------------------------

function routeTable() {
  const rows = [...routes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([route, s]) => {
    const lat = s.lat.sort((a, b) => a - b);
    return { route, n: lat.length, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: lat[lat.length - 1], errors: s.errors,
      statuses: Object.entries(s.statuses).map(([k, v]) => `${k}:${v}`).join(' ') };
  });
  diag('--- latency per route (client side, ms)');
  diag(`${'route'.padEnd(50)} ${'requests'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}  statuses`);
  for (const r of rows) {
    diag(`${r.route.padEnd(50)} ${String(r.n).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)}  ${r.statuses}`);
  }
  // realtime: from an event's at (the start of the transaction that wrote it) to a client, live events only
  const delivery = Object.entries(rtDelivery).filter(([, lat]) => lat.length).map(([kind, lat]) => {
    lat.sort((a, b) => a - b);
    return { route: `realtime delivery: ${kind === 'order' ? 'order.*' : 'inventory.changed'}`, n: lat.length,
      p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: lat[lat.length - 1], errors: 0 };
  });
  if (delivery.length) {
    diag('--- realtime delivery (event\'s at, its transaction\'s start, to the client; ms; events, not requests)');
    for (const r of delivery) diag(`${r.route.padEnd(50)} ${String(r.n).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)}`);
  }
  writeFileSync(`${OUT}/routes.tsv`, `route\trequests\tp50_ms\tp99_ms\tmax_ms\terrors\n${[...rows, ...delivery].map((r) =>
    `${r.route}\t${r.n}\t${r.p50.toFixed(2)}\t${r.p99.toFixed(2)}\t${r.max.toFixed(2)}\t${r.errors}`).join('\n')}\n`);
  return rows;
}
const rtP99 = (kind) => (rtDelivery[kind].length ? quantile(rtDelivery[kind], 0.99).toFixed(0) : '-');

async function main() {
  console.log(`# soak: ${SECONDS} s of mixed traffic against ${BASE.origin} (proxy pid ${PROXY_PID}), database ${new URL(DB).pathname.slice(1)}; `
    + `samples every ${SAMPLE_S} s, warm-up ${WARMUP_S} s, rate scale ${SCALE}`);
  const products = await sql(`SELECT DISTINCT store_id, product_id FROM multistore.inventory WHERE product_id LIKE 'soak\\_%' ORDER BY 1, 2`);
  STORES = [...new Set(products.map(([s]) => s))];
  PLENTY = [...new Set(products.map(([, p]) => p).filter((p) => p.startsWith('soak_plenty')))];
  SCARCE = [...new Set(products.map(([, p]) => p).filter((p) => p.startsWith('soak_scarce')))];
  SAMPLE_PRODUCTS = (await sql("SELECT id FROM multistore.products WHERE id ~ '^prod_[0-9]+$' ORDER BY 1 LIMIT 40")).map(([id]) => id);
  if (!STORES.length || !PLENTY.length || !SCARCE.length || !SAMPLE_PRODUCTS.length) {
    console.log('Bail out! no soak_* stock or sample products: load the sample data and tests/soak/stock.sql first');
    process.exit(1);
  }
  const initial = new Map();
  for (const [s, p, onHand] of await sql('SELECT store_id, product_id, sum(on_hand) FROM multistore.inventory GROUP BY 1, 2')) initial.set(`${s}/${p}`, Number(onHand));
  ok((await sql('SELECT 1 FROM multistore.orders LIMIT 1')).length === 0, `a fresh database: ${initial.size} stock rows snapshotted, no order`);

  customers = await createUsers(CUSTOMERS, 'customer', 'customer');
  browsers = await createUsers(BROWSERS, 'customer', 'browser');
  [manager] = await createUsers(1, 'store_manager', 'manager');
  await sql(`INSERT INTO multistore.store_managers (store_id, user_id) SELECT s, '${manager.id}' FROM unnest(ARRAY['${STORES.join("','")}']) s`);
  const health = await call('GET /health', 'GET', '/health');
  ok(health.status === 200, `the proxy is healthy before the run: ${health.status ?? health.error}`);

  // SOAK_CLASSES=checkouts,reads runs only those (to find which traffic a trend follows)
  const only = env.SOAK_CLASSES ? env.SOAK_CLASSES.split(',').map((n) => n.trim()) : undefined;
  const active = CLASSES.filter((c) => !only || only.includes(c.name));
  if (only && active.length !== only.length) {
    console.log(`Bail out! SOAK_CLASSES names a class that is not in the table (${CLASSES.map((c) => c.name).join(', ')})`);
    process.exit(2);
  }
  const running = (name) => active.some((k) => k.name === name);
  diag(`traffic classes: ${active.map((k) => `${k.name} ${(k.rate * SCALE).toFixed(2)}/s`).join(', ')}`);
  if (running('product webhooks')) {
    await cmsSetup();
    diag(`product webhooks: ${cmsDocs.length} documents of the soak's own (${CMS_PREFIX}*), each delivered once`);
  }
  if (running('realtime clients')) {
    ok(await rtSetup(), `${RT_WS} WebSocket and ${RT_SSE} SSE realtime clients are open before the traffic starts`, rtUnexpected);
  }

  writeFileSync(CSV, 'elapsed_s,rss_kib,hwm_kib,fds,threads,requests,rps,p50_ms,p99_ms,errors,rt_streams,rt_gauge_ws,rt_gauge_sse\n');
  await takeSample();
  const sampler = setInterval(takeSample, SAMPLE_S * 1000);
  const loops = active.map(runClass);
  await sleep(SECONDS * 1000);
  stopping = true;
  clearInterval(sampler);
  await takeSample();
  await Promise.all(loops);
  const drained = await Promise.race([Promise.all([...inFlight]).then(() => true), sleep(DRAIN_MS).then(() => false)]);
  ok(drained, `every operation in flight when the traffic stopped finished within ${DRAIN_MS / 1000} s`);
  const flat = flatness();
  if (rtClients.length) {
    diag(`realtime gauges against the clients' own count, at the samples: at most ${gaugeDrift} apart (streams opening or closing at that moment)`);
    await rtEnd();
  }

  const rows = routeTable();
  diag('--- traffic classes');
  for (const k of active) {
    diag(`${k.name.padEnd(24)} scheduled ${String(k.scheduled).padStart(6)}  ran ${String(k.started).padStart(6)}  skipped ${String(k.skipped).padStart(5)}`);
  }
  const scheduled = active.reduce((a, k) => a + k.scheduled, 0);
  const skipped = active.reduce((a, k) => a + k.skipped, 0);
  ok(skipped <= scheduled * MAX_SKIPPED, `the rate held: ${skipped} of ${scheduled} scheduled operations skipped (at most ${(MAX_SKIPPED * 100).toFixed(0)}%)`);
  ok(anomalies.length === 0, `every answer was the one expected (no 5xx, no transport error, no timeout): ${counters.anomalies ?? 0} not`, anomalies);
  ok((counters.ordersPlaced ?? 0) >= SECONDS * SCALE * 0.3 && (counters.paid ?? 0) > 0,
    `the run did real work: ${requestsTotal} requests, ${counters.ordersPlaced ?? 0} orders, ${counters.paid ?? 0} paid, ${counters.outOfStock ?? 0} out_of_stock`);

  let alive = false;
  try { alive = !/^State:\s+[ZX]/m.test(readFileSync(`/proc/${PROXY_PID}/status`, 'utf8')); } catch { /* gone */ }
  ok(alive, `the proxy is the same process (pid ${PROXY_PID}) at the end`);
  const end = await call('GET /health', 'GET', '/health');
  ok(end.status === 200, `GET /health answers 200 at the end: ${end.status ?? end.error}`);

  await checks(initial);
  if (running('product webhooks')) await cmsChecks();
  if (rtClients.length) await rtChecks();
  agent.destroy();

  const first = samples.find((s) => s.t >= WARMUP_S) ?? samples[0];
  const last = samples[samples.length - 1];
  const worst = rows.reduce((a, r) => (r.p99 > a.p99 ? r : a), rows[0]);
  console.log(`1..${tests}`);
  if (failures) for (const f of failed) console.log(`# FAILED: ${f}`);
  const summary = `soak: ${failures ? 'FAILED' : 'passed'} ${tests - failures}/${tests} checks in ${elapsed().toFixed(0)} s; `
    + `${requestsTotal} requests (${(requestsTotal / SECONDS).toFixed(1)}/s), ${counters.ordersPlaced ?? 0} orders, ${counters.paid ?? 0} paid; `
    + `RSS ${(first.rss / 1024).toFixed(1)} -> ${(last.rss / 1024).toFixed(1)} MiB (thirds ${flat.rss0 ? `${(flat.rss0 / 1024).toFixed(1)} -> ${(flat.rss1 / 1024).toFixed(1)}` : '?'}), `
    + `fds ${first.fds} -> ${last.fds}; ${cmsDeliveries} Strapi deliveries; ${rtClients.reduce((a, c) => a + c.got.size, 0)} realtime events to `
    + `${rtClients.reduce((a, c) => a + c.conns.length, 0)} connections (p99 ${rtP99('order')} ms order, ${rtP99('inventory')} ms stock); `
    + `worst p99 ${worst.p99.toFixed(1)} ms (${worst.route})`;
  writeFileSync(`${OUT}/summary.txt`, `${summary}\n`);
  console.log(`# ${summary}`);
  process.exit(failures ? 1 : 0);
}

// The whole run is bounded
setTimeout(() => {
  console.log(`Bail out! the run did not finish within ${SECONDS + 600} s`);
  process.exit(1);
}, (SECONDS + 600) * 1000).unref();

main().catch((e) => {
  console.log(`Bail out! ${e.stack || e}`);
  process.exit(1);
});
