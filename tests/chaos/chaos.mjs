// tests/chaos/chaos.mjs: fault injection under checkout traffic (scripts/chaos, make chaos).
//
// N simulated customers (MS_CHAOS_CUSTOMERS, default 20) shop over HTTP
// against the proxy: clear the cart, add one to three lines (a scarce
// product now and then), POST /api/orders with a fresh Idempotency-Key, then
// pay (signed payment.succeeded), have the payment fail (payment.failed),
// cancel, or walk away.  Every request that fails without an answer that
// means something (a connection error, a timeout, 503, 409
// idempotency_key_in_use) is sent again, the same body with the same key or
// the same event id, until a definitive answer or a deadline.  Meanwhile, in
// turn:
//   (a) kill -9 of a PostgreSQL backend of the proxy's pool (the postmaster
//       then restarts every backend: crash recovery),
//   (b) PostgreSQL stopped with pg_ctl -m immediate, then started again,
//   (c) kill -9 of the proxy, then a new one on the same port.
// After each, GET /health must answer 200 and an order must go through
// within 5 s of the database's (or the proxy's) return.  Then the traffic
// stops and SQL checks that no order was placed twice, no unit sold twice or
// lost, every reservation is accounted for, every payment applied at most
// once, and that the database agrees with what every client was told.
// Prints TAP; exits 1 when a check failed.
//
// Started by scripts/chaos, which passes in the environment: MS_BASE_URL,
// DATABASE_URL, JWT_SECRET, PAYMENT_WEBHOOK_SECRET, MS_CHAOS_PGDATA (the
// cluster's data directory), MS_CHAOS_PGLOG (its server log),
// MS_CHAOS_PG_BINDIR, MS_CHAOS_PG_USER (the OS user PostgreSQL runs as),
// MS_CHAOS_PROXY_BIN, MS_CHAOS_PROXY_PIDFILE (the running proxy's pid; this
// script rewrites it when it starts a new proxy) and MS_CHAOS_PROXY_LOG.
// Only node's standard library: tokens are signed here as the proxy signs
// them (HS256), accounts and sessions written straight into the tables, as
// tests/e2e/helpers.mjs does.
import http from 'node:http';
import { execFile, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, readSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const env = process.env;
const need = (name) => env[name] || (console.error(`chaos.mjs: ${name} is not set (run scripts/chaos)`), process.exit(2));
const BASE = new URL(need('MS_BASE_URL'));
const DB = need('DATABASE_URL');
const JWT_SECRET = need('JWT_SECRET');
const PAYMENT_SECRET = need('PAYMENT_WEBHOOK_SECRET');
const PGDATA = need('MS_CHAOS_PGDATA');
const PGLOG = need('MS_CHAOS_PGLOG');
const PG_BINDIR = env.MS_CHAOS_PG_BINDIR || '/usr/lib/postgresql/15/bin';
const PG_USER = env.MS_CHAOS_PG_USER || '';
const PROXY_BIN = need('MS_CHAOS_PROXY_BIN');
const PROXY_PIDFILE = need('MS_CHAOS_PROXY_PIDFILE');
const PROXY_LOG = need('MS_CHAOS_PROXY_LOG');
const CUSTOMERS = Number(env.MS_CHAOS_CUSTOMERS || 20);
const STEADY_MS = Number(env.MS_CHAOS_STEADY_MS || 4000);   // traffic before, between and after the faults
const DB_DOWN_MS = Number(env.MS_CHAOS_DB_DOWN_MS || 2000);  // (b): how long PostgreSQL stays stopped
const PROXY_DOWN_MS = Number(env.MS_CHAOS_PROXY_DOWN_MS || 1000);  // (c): how long no proxy listens
const RECOVERY_LIMIT_MS = 5000;
const OP_DEADLINE_MS = 30000;   // a client gives up on one operation after this long
const REQUEST_TIMEOUT_MS = 5000; // and on one request after this long (then sends it again)
const THINK_MS = Number(env.MS_CHAOS_THINK_MS || 30);     // a customer's pause between two checkouts, at most
const WATCHDOG_MS = Number(env.MS_CHAOS_WATCHDOG_MS || 120000);
const t0 = Date.now();

// --- TAP -------------------------------------------------------------------------

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
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

// --- psql ---------------------------------------------------------------------------

// sql(query) -> rows, each an array of columns (psql -At, fields split on |)
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

// --- the processes we own: PostgreSQL of our data directory, our proxy ---------------

const run = (file, args, { cwd = '/' } = {}) => new Promise((resolve, reject) => {
  execFile(file, args, { cwd, encoding: 'utf8' }, (err, stdout, stderr) =>
    (err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
});
// as the user PostgreSQL runs as (it refuses root), from / which that user can always enter
const asPg = (cmd, args) => (process.getuid?.() === 0 && PG_USER && PG_USER !== 'root'
  ? run('runuser', ['-u', PG_USER, '--', cmd, ...args]) : run(cmd, args));
const pgCtl = (...args) => asPg(`${PG_BINDIR}/pg_ctl`, ['-D', PGDATA, ...args]);
const pgStart = () => asPg('setsid', ['-w', `${PG_BINDIR}/pg_ctl`, '-D', PGDATA, '-l', PGLOG, '-w', '-t', '60', 'start']);

function postmasterPid() {
  try { return Number(readFileSync(`${PGDATA}/postmaster.pid`, 'utf8').split('\n')[0]); } catch { return 0; }
}
// /proc/<pid>/stat: "pid (comm) state ppid ..."
function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch { return undefined; }
}
const alive = (pid) => { const s = procStat(pid); return s !== undefined && s.state !== 'Z' && s.state !== 'X'; };
const exeOf = (pid) => { try { return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, ''); } catch { return ''; } };

const logSize = () => { try { return statSync(PGLOG).size; } catch { return 0; } };
function logSince(offset) {
  const size = logSize();
  if (size <= offset) return '';
  const fd = openSync(PGLOG, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally { closeSync(fd); }
}
// Resolves to the time the server log, from offset on, matched every pattern in order; 0 after ms
async function logReached(offset, patterns, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const text = logSince(offset);
    let at = 0;
    let all = true;
    for (const p of patterns) {
      const m = p.exec(text.slice(at));
      if (!m) { all = false; break; }
      at += m.index + m[0].length;
    }
    if (all) return Date.now();
    await sleep(20);
  }
  return 0;
}

function readProxyPid() {
  try { return Number(readFileSync(PROXY_PIDFILE, 'utf8').trim()); } catch { return 0; }
}
function startProxy() {
  const out = openSync(PROXY_LOG, 'a');
  const child = spawn(PROXY_BIN, [], { env: process.env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  writeFileSync(PROXY_PIDFILE, `${child.pid}\n`);
  return child.pid;
}

// --- HTTP -----------------------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

// call(method, path, {headers, raw, timeoutMs}) -> {status, headers, text, json} or {error}; never throws
function call(method, path, { headers = {}, raw, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r) => { if (!done) { done = true; clearTimeout(timer); resolve(r); } };
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
    const timer = setTimeout(() => { finish({ error: 'TIMEOUT' }); req.destroy(); }, timeoutMs);
    req.on('error', (e) => finish({ error: e.code || e.message }));
    if (raw !== undefined) req.write(raw);
    req.end();
  });
}

// --- what the clients saw ---------------------------------------------------------------

let phase = 'warmup';
const phases = [];
const stats = new Map();
const totals = {};
function count(kind, n = 1) {
  if (!stats.has(phase)) { stats.set(phase, {}); phases.push(phase); }
  const s = stats.get(phase);
  s[kind] = (s[kind] ?? 0) + n;
  totals[kind] = (totals[kind] ?? 0) + n;
}
const anomalies = [];
function anomaly(text) {
  count('unexpected');
  if (anomalies.length < 50) anomalies.push(`[${phase}] ${text}`);
}
const orderAttempts = []; // {user, key, store, lines, outcome, orderId, total, attempts, probe, action}
const payments = [];      // {id, orderId, type, answer, attempts}
const cancels = [];       // {orderId, answer}

const codeOf = (r) => r.json?.error?.code;
const brief = (r) => (r.error ? r.error : `${r.status} ${(r.text ?? '').slice(0, 240)}`);

// One request; counts it; says whether it must be sent again
async function attempt(send, what, isRetry, timeoutMs) {
  const r = await send(timeoutMs);
  count('requests');
  if (isRetry) count('retries');
  let transient = true;
  if (r.error === 'TIMEOUT') count('timeouts');
  else if (r.error) count('connectionErrors');
  else if (r.status === 503) count('status503');
  else if (r.status === 409 && codeOf(r) === 'idempotency_key_in_use') count('keyInUse');
  else if (r.status === 429) { count('status429'); anomaly(`${what}: rate limited: ${brief(r)}`); }
  else if (r.status >= 500) anomaly(`${what}: ${brief(r)}`);
  else transient = false;
  return { r, transient };
}

// Sends until a definitive answer, or gives up after deadlineMs: the same request every time
async function persist(send, what, { deadlineMs = OP_DEADLINE_MS, timeoutMs = REQUEST_TIMEOUT_MS, minDelay = 50, maxDelay = 500 } = {}) {
  const end = Date.now() + deadlineMs;
  let delay = minDelay;
  for (let n = 1; ; n++) {
    const { r, transient } = await attempt(send, what, n > 1, timeoutMs);
    if (!transient) return { ...r, attempts: n };
    if (Date.now() + delay >= end) { count('gaveUp'); anomaly(`${what}: gave up after ${n} attempts, last ${brief(r)}`); return { ...r, attempts: n, gaveUp: true }; }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(maxDelay, delay * 2);
  }
}

// --- accounts and tokens ---------------------------------------------------------------

const b64url = (data) => Buffer.from(data).toString('base64url');
function signToken(claims) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ ...claims, iat: now, exp: now + 3600, iss: env.JWT_ISSUER || 'multistore', aud: env.JWT_AUDIENCE || 'multistore-api' }));
  return `${head}.${body}.${createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest('base64url')}`;
}
async function createCustomers(n) {
  const rows = await sql(`
    WITH u AS (INSERT INTO multistore.users (email, password_hash, first_name, last_name, role)
               SELECT 'chaos-' || g || '-${process.pid}@chaos.example', '!', 'Chaos', 'Customer ' || g, 'customer'
                 FROM generate_series(1, ${n}) g RETURNING id),
         s AS (INSERT INTO multistore.sessions (user_id, expires_at)
               SELECT id, now() + interval '2 hours' FROM u RETURNING id, user_id)
    SELECT user_id, id FROM s`);
  return rows.map(([id, sid], i) => ({ id, sid, name: `customer ${i + 1}`, headers: { authorization: `Bearer ${signToken({ sub: id, role: 'customer', sid })}` } }));
}

// --- a customer's checkout --------------------------------------------------------------

let STORES = [];
let PLENTY = [];
let SCARCE = [];
const pick = (list) => list[Math.floor(Math.random() * list.length)];

function chooseLines() {
  const lines = new Map();
  const n = 1 + Math.floor(Math.random() * 3);
  for (let i = 0; i < n; i++) lines.set(pick(PLENTY), 1 + Math.floor(Math.random() * 3));
  if (Math.random() < 0.3) lines.set(pick(SCARCE), 1 + Math.floor(Math.random() * 2));
  return [...lines].map(([productId, quantity]) => ({ productId, quantity }));
}

// Puts exactly one line in the cart.  POST /api/cart/items adds to a line
// that exists, so after an answer that was lost the client looks at its
// cart before sending it again (and sets the quantity if it is off).
async function ensureLine(c, { productId, quantity }, opts) {
  const end = Date.now() + (opts.deadlineMs ?? OP_DEADLINE_MS);
  const raw = JSON.stringify({ productId, quantity });
  for (let n = 1; Date.now() < end; n++) {
    const { r, transient } = await attempt((t) => call('POST', '/api/cart/items', { headers: c.headers, raw, timeoutMs: t }), 'add to cart', n > 1, opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
    if (!transient) {
      if (r.status === 201) return true;
      anomaly(`add to cart: ${brief(r)}`);
      return false;
    }
    const cart = await persist((t) => call('GET', '/api/cart', { headers: c.headers, timeoutMs: t }), 'read the cart', opts);
    if (cart.gaveUp) return false;
    if (cart.status !== 200) { anomaly(`read the cart: ${brief(cart)}`); return false; }
    const line = cart.json.cart.items.find((i) => i.productId === productId);
    if (line) {
      if (line.quantity === quantity) return true;
      const set = await persist((t) => call('PUT', `/api/cart/items/${line.id}`, { headers: c.headers, raw: JSON.stringify({ quantity }), timeoutMs: t }), 'set a cart line', opts);
      if (set.status === 200) return true;
      if (!set.gaveUp) anomaly(`set a cart line: ${brief(set)}`);
      return false;
    }
    await sleep((opts.minDelay ?? 50) * (0.5 + Math.random()));
  }
  count('gaveUp');
  anomaly('add to cart: gave up');
  return false;
}

const sameLines = (items, lines) => items.length === lines.length &&
  lines.every((l) => items.some((i) => i.productId === l.productId && i.quantity === l.quantity));

// Clears the cart, fills it, places the order with a fresh key: the attempt's record
async function placeOrder(c, lines, store, opts = {}) {
  const clear = await persist((t) => call('DELETE', '/api/cart/clear', { headers: c.headers, timeoutMs: t }), 'clear the cart', opts);
  if (clear.gaveUp) return undefined;
  if (clear.status !== 200) { anomaly(`clear the cart: ${brief(clear)}`); return undefined; }
  for (const line of lines) if (!(await ensureLine(c, line, opts))) return undefined;

  const key = `chaos-${randomUUID()}`;
  const raw = JSON.stringify({ storeId: store, deliveryType: 'pickup', notes: 'fault injection' });
  const rec = { user: c.id, key, store, lines, outcome: 'unknown', orderId: null, attempts: 0, probe: !!opts.probe, phase };
  orderAttempts.push(rec);
  const r = await persist((t) => call('POST', '/api/orders', { headers: { ...c.headers, 'idempotency-key': key }, raw, timeoutMs: t }), 'place an order', opts);
  rec.attempts = r.attempts;
  if (r.gaveUp) { rec.outcome = 'gave_up'; return rec; }
  const replayed = r.headers['idempotent-replayed'] === 'true';
  if (replayed && r.attempts === 1) anomaly(`place an order: the first request with a new key was answered as a replay: ${brief(r)}`);
  if (replayed) count('replayedAfterRetry');
  if (r.status === 201 && r.json?.order?.id) {
    rec.outcome = 'created';
    rec.orderId = r.json.order.id;
    rec.total = r.json.order.total;
    rec.currency = r.json.order.currency;
    count('ordersPlaced');
    if (r.attempts > 1) count('ordersPlacedAfterRetry');
    if (!sameLines(r.json.order.items, lines)) count('cartDrift');
  } else if (r.status === 409 && codeOf(r) === 'out_of_stock') {
    rec.outcome = 'out_of_stock';
    count('outOfStock');
    const short = r.json.error.details?.items ?? [];
    if (short.length === 0 || !short.every((s) => s.available < s.requested)) anomaly(`out_of_stock that names no short line: ${brief(r)}`);
  } else {
    rec.outcome = `http ${r.status} ${codeOf(r) ?? ''}`;
    anomaly(`place an order: ${brief(r)}`);
  }
  return rec;
}

// Payment webhook as the provider sends it: the same event (id and body) on every delivery, signed anew
function paymentSignature(raw) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', PAYMENT_SECRET).update(`${t}.${raw}`).digest('hex')}`;
}
async function pay(rec, type) {
  const event = { id: `evt_chaos_${randomUUID()}`, type, orderId: rec.orderId, amount: Number(rec.total), currency: rec.currency };
  const raw = JSON.stringify(event);
  const p = { id: event.id, orderId: rec.orderId, type, answer: null, attempts: 0 };
  payments.push(p);
  const r = await persist((t) => call('POST', '/webhooks/payment', { headers: { 'multistore-signature': paymentSignature(raw) }, raw, timeoutMs: t }), 'payment webhook');
  p.attempts = r.attempts;
  if (r.gaveUp) { p.answer = 'gave_up'; return; }
  p.answer = r.status === 200 ? r.json?.status : `http ${r.status} ${codeOf(r) ?? ''}`;
  const first = type === 'payment.succeeded' ? 'confirmed' : 'cancelled';
  if (p.answer === first) count(type === 'payment.succeeded' ? 'paymentsConfirmed' : 'paymentsFailed');
  else if (p.answer === 'duplicate' && r.attempts > 1 && r.headers['idempotent-replayed'] === 'true') count('paymentDuplicatesAfterRetry');
  else anomaly(`${type} for a new order: ${brief(r)} after ${r.attempts} attempts`);
}
async function cancel(c, rec) {
  const r = await persist((t) => call('POST', `/api/orders/${rec.orderId}/cancel`, { headers: c.headers, timeoutMs: t }), 'cancel an order');
  const k = { orderId: rec.orderId, answer: null };
  cancels.push(k);
  if (r.gaveUp) { k.answer = 'gave_up'; return; }
  if (r.status === 200 && r.json?.order?.status === 'cancelled') { k.answer = 'cancelled'; count('cancels'); }
  else if (r.status === 409 && codeOf(r) === 'invalid_transition' && r.json.error.details?.status === 'cancelled' && r.attempts > 1) {
    k.answer = 'cancelled'; count('cancels'); count('cancelAppliedBeforeRetry');
  } else { k.answer = `http ${r.status}`; anomaly(`cancel a new order: ${brief(r)}`); }
}

let stopping = false;
async function customer(c) {
  while (!stopping) {
    const rec = await placeOrder(c, chooseLines(), pick(STORES));
    if (rec?.outcome === 'created') {
      const dice = Math.random();
      if (dice < 0.72) { rec.action = 'pay'; await pay(rec, 'payment.succeeded'); }
      else if (dice < 0.82) { rec.action = 'fail'; await pay(rec, 'payment.failed'); }
      else if (dice < 0.9) { rec.action = 'cancel'; await cancel(c, rec); }
      else rec.action = 'abandon';
    }
    await sleep(Math.random() * THINK_MS);
  }
}

// --- recovery probes -------------------------------------------------------------------

let prober;
const FAST = { timeoutMs: 1000, minDelay: 50, maxDelay: 100, deadlineMs: 20000 };
async function healthyAt(deadlineMs) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const r = await call('GET', '/health', { timeoutMs: 1000 });
    if (r.status === 200 && r.json?.status === 'ok') return Date.now();
    await sleep(50);
  }
  return 0;
}
async function orderAt() {
  const rec = await placeOrder(prober, [{ productId: PLENTY[0], quantity: 1 }], STORES[0], { ...FAST, probe: true });
  if (rec) rec.action = 'abandon';
  return rec?.outcome === 'created' ? Date.now() : 0;
}
// From the moment the database (or the proxy) is back: /health 200 and an order placed, each within 5 s
async function recovery(label, back) {
  const [health, order] = await Promise.all([healthyAt(20000), orderAt()]);
  const h = health ? health - back : Infinity;
  const o = order ? order - back : Infinity;
  ok(h <= RECOVERY_LIMIT_MS, `${label}: GET /health answers 200 ${health ? `${h} ms` : 'not within 20 s'} after the return (limit ${RECOVERY_LIMIT_MS} ms)`);
  ok(o <= RECOVERY_LIMIT_MS, `${label}: a new order goes through (201) ${order ? `${o} ms` : 'not within 20 s'} after the return (limit ${RECOVERY_LIMIT_MS} ms)`);
  return { health: h, order: o };
}

// --- the faults --------------------------------------------------------------------------

const faults = [];

async function killBackend() {
  phase = '(a) kill -9 backend';
  const postmaster = postmasterPid();
  let victim;
  // a backend of the proxy's pool (its connections say application_name
  // multistore-proxy and come from 127.0.0.1), a child of our postmaster;
  // best one in the middle of placing an order or applying a payment, else
  // one running any call, else an idle one
  const score = (state, query) => (state === 'active' ? 2 : 0) + (/order_place|payment_apply/.test(query) ? 1 : 0);
  for (let i = 0; i < 80 && !(victim && victim.score === 3); i++) {
    const rows = await sql(`
      SELECT pid, state, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity
       WHERE application_name = 'multistore-proxy' AND datname = current_database()
         AND client_addr = '127.0.0.1' AND backend_type = 'client backend'
       ORDER BY state = 'active' DESC, query ~ 'order_place|payment_apply' DESC, random()`);
    for (const [pid, state, query] of rows) {
      if (procStat(Number(pid))?.ppid !== postmaster) continue;
      const s = score(state, query);
      if (!victim || s > victim.score) victim = { pid: Number(pid), state, query, score: s };
    }
    if (!(victim && victim.score === 3)) { victim = i < 60 ? undefined : victim; await sleep(5); }
  }
  ok(!!victim && postmaster > 0, `(a) found a backend of the proxy's pool under our postmaster ${postmaster}`);
  if (!victim) return;
  const offset = logSize();
  const before = { ...totals };
  process.kill(victim.pid, 'SIGKILL');
  const killedAt = Date.now();
  const back = await logReached(offset, [/all server processes terminated; reinitializing/, /database system is ready to accept connections/], 60000);
  const log = logSince(offset);
  ok(new RegExp(`server process \\(PID ${victim.pid}\\) was terminated by signal 9`).test(log) && back > 0,
    `(a) kill -9 of backend ${victim.pid} (${victim.state}: ${victim.query}): the postmaster restarted every backend and was ready again ${back ? back - killedAt : '?'} ms later`);
  if (!back) return;
  const rec = await recovery('(a) after crash recovery', back);
  faults.push({ name: '(a) kill -9 of a backend', detail: `backend ${victim.pid} ${victim.state}: ${victim.query}`, downMs: back - killedAt, ...rec, before });
}

async function immediateRestart() {
  phase = '(b) pg_ctl -m immediate';
  const postmaster = postmasterPid();
  const offset = logSize();
  const stoppedAt = Date.now();
  await pgCtl('-m', 'immediate', '-w', '-t', '60', 'stop');
  ok(!alive(postmaster), `(b) pg_ctl stop -m immediate: postmaster ${postmaster} is gone`);
  await sleep(DB_DOWN_MS);
  const ready = logReached(offset, [/database system is ready to accept connections/], 60000);
  let started = 0;
  try { await pgStart(); started = Date.now(); } catch (e) { diag(e.message); }
  const logged = await ready;
  const back = Math.min(...[started, logged].filter((t) => t > 0));
  const now = postmasterPid();
  ok(started > 0 && now > 0 && now !== postmaster, `(b) pg_ctl start: a new postmaster ${now} (crash recovery from the immediate stop), ready ${started ? back - stoppedAt : '?'} ms after the stop`);
  if (!started) return;
  const rec = await recovery('(b) after the restart', back);
  faults.push({ name: '(b) pg_ctl -m immediate stop, start', detail: `postmaster ${postmaster} -> ${now}`, downMs: back - stoppedAt, ...rec });
}

async function killProxy() {
  phase = '(c) kill -9 proxy';
  const old = readProxyPid();
  const ours = old > 0 && exeOf(old) === PROXY_BIN;
  ok(ours, `(c) the proxy's pid ${old} (from ${PROXY_PIDFILE}) runs ${PROXY_BIN}`, [`its executable: ${exeOf(old) || '(none)'}`]);
  if (!ours) return;
  const killedAt = Date.now();
  process.kill(old, 'SIGKILL');
  for (let i = 0; i < 100 && alive(old); i++) await sleep(20);
  ok(!alive(old), `(c) kill -9 of proxy ${old}: it is gone`);
  await sleep(PROXY_DOWN_MS);
  const pid = startProxy();
  const back = Date.now();
  ok(alive(pid), `(c) a new proxy ${pid} started on the same port ${BASE.port}`);
  const rec = await recovery('(c) after the new proxy started', back);
  faults.push({ name: '(c) kill -9 of the proxy, a new one', detail: `proxy ${old} -> ${pid}`, downMs: back - killedAt, ...rec });
}

// --- the checks ------------------------------------------------------------------------------

// A SQL check: the query returns the rows that break the rule, none when it holds
async function none(description, query) {
  const rows = await sql(query);
  ok(rows.length === 0, `${description}${rows.length ? ` (${rows.length} rows break it)` : ''}`, rows.map((r) => r.join(' | ')));
}

async function checks(initial) {
  phase = 'checks';
  diag('--- the database after the storm');

  // idempotency: no order twice, no key with two orders, none without its key
  await none('every order has exactly one idempotency key, its own user\'s, naming it (no order placed twice)', `
    SELECT o.id, o.user_id, count(k.key) AS keys, string_agg(k.user_id::text, ',') AS key_users
      FROM multistore.orders o LEFT JOIN multistore.idempotency_keys k ON k.order_id = o.id
     GROUP BY o.id, o.user_id
    HAVING count(k.key) <> 1 OR bool_or(k.user_id <> o.user_id)`);
  await none('count of orders per (user, idempotency key) is 1 for every 201 key and 0 for every refusal', `
    SELECT k.user_id, k.key, k.status, count(o.id) FROM multistore.idempotency_keys k
      LEFT JOIN multistore.orders o ON o.id = k.order_id AND o.user_id = k.user_id
     GROUP BY k.user_id, k.key, k.status
    HAVING count(o.id) <> CASE WHEN k.status = 201 THEN 1 ELSE 0 END`);
  await none('orders per customer = that customer\'s idempotency keys with an order', `
    SELECT u.id, (SELECT count(*) FROM multistore.orders o WHERE o.user_id = u.id) AS orders,
           (SELECT count(*) FROM multistore.idempotency_keys k WHERE k.user_id = u.id AND k.order_id IS NOT NULL) AS keys
      FROM multistore.users u
     WHERE (SELECT count(*) FROM multistore.orders o WHERE o.user_id = u.id)
        <> (SELECT count(*) FROM multistore.idempotency_keys k WHERE k.user_id = u.id AND k.order_id IS NOT NULL)`);

  // the clients' view against the database's
  const keys = new Map((await sql('SELECT user_id, key, status, order_id FROM multistore.idempotency_keys'))
    .map(([u, k, s, o]) => [`${u}/${k}`, { status: Number(s), orderId: o || null }]));
  const orders = new Map((await sql(`
    SELECT o.id, o.user_id, o.status, o.paid_at IS NOT NULL, r.status FROM multistore.orders o
      LEFT JOIN multistore.reservations r ON r.id = o.reservation_id AND r.store_id = o.store_id`))
    .map(([id, user, status, paid, reservation]) => [id, { user, status, paid: paid === 't', reservation }]));
  const wrongCreated = [];
  const wrongRefused = [];
  const known = new Set();
  const gaveUpKeys = new Set();
  for (const a of orderAttempts) {
    const k = keys.get(`${a.user}/${a.key}`);
    if (a.outcome === 'created') {
      known.add(a.orderId);
      const o = orders.get(a.orderId);
      if (!k || k.status !== 201 || k.orderId !== a.orderId || !o || o.user !== a.user) {
        wrongCreated.push(`key ${a.key}: client saw order ${a.orderId}; key row ${JSON.stringify(k)}; order ${JSON.stringify(o)}`);
      }
    } else if (a.outcome === 'out_of_stock') {
      if (!k || k.status !== 409 || k.orderId) wrongRefused.push(`key ${a.key}: client saw out_of_stock; key row ${JSON.stringify(k)}`);
    } else if (a.outcome === 'gave_up') gaveUpKeys.add(`${a.user}/${a.key}`);
  }
  const created = orderAttempts.filter((a) => a.outcome === 'created').length;
  ok(wrongCreated.length === 0, `each of the ${created} orders the clients were told of exists once, is theirs, and its key names it`, wrongCreated);
  ok(wrongRefused.length === 0, `each of the ${orderAttempts.filter((a) => a.outcome === 'out_of_stock').length} out_of_stock refusals the clients saw is stored as that key's refusal, with no order`, wrongRefused);
  const unknown = [...orders.keys()].filter((id) => !known.has(id) &&
    ![...keys.entries()].some(([uk, k]) => k.orderId === id && gaveUpKeys.has(uk)));
  ok(unknown.length === 0, `every order in the database is one a client was told of (${orders.size} orders, ${unknown.length} unknown)`, unknown.map((id) => `order ${id}: ${JSON.stringify(orders.get(id))}`));
  const sentKeys = new Set(orderAttempts.map((a) => `${a.user}/${a.key}`));
  const strayKeys = [...keys.keys()].filter((k) => !sentKeys.has(k));
  ok(strayKeys.length === 0, 'no idempotency key in the database that no client sent', strayKeys);

  // every order ended where its customer's actions lead
  const expected = { pay: ['confirmed', 'consumed'], fail: ['cancelled', 'released'], cancel: ['cancelled', 'released'], abandon: ['pending_payment', 'active'] };
  const wrongState = [];
  for (const a of orderAttempts.filter((x) => x.outcome === 'created')) {
    const o = orders.get(a.orderId);
    const want = expected[a.action ?? 'abandon'];
    const gaveUp = payments.some((p) => p.orderId === a.orderId && p.answer === 'gave_up') || cancels.some((k) => k.orderId === a.orderId && k.answer === 'gave_up');
    if (!gaveUp && (!o || o.status !== want[0] || o.reservation !== want[1] || o.paid !== (a.action === 'pay'))) {
      wrongState.push(`order ${a.orderId} (${a.action}): ${JSON.stringify(o)}, expected order ${want[0]}, reservation ${want[1]}`);
    }
  }
  ok(wrongState.length === 0, 'every order ended as its customer\'s actions say: paid -> confirmed + consumed, payment failed or cancelled -> cancelled + released, left -> pending_payment + active', wrongState);

  // stock: nothing sold twice or lost
  await none('no bucket oversold: 0 <= held <= on hand in every bucket', `
    SELECT store_id, product_id, bucket, on_hand, held FROM multistore.inventory WHERE on_hand < 0 OR held < 0 OR held > on_hand`);
  await none('every bucket\'s held equals the sum of its active holds', `
    SELECT i.store_id, i.product_id, i.bucket, i.held, coalesce(h.q, 0) FROM multistore.inventory i
      LEFT JOIN (SELECT store_id, product_id, bucket, sum(quantity) AS q FROM multistore.reservation_holds
                  WHERE state = 'active' GROUP BY 1, 2, 3) h
        ON h.store_id = i.store_id AND h.product_id = i.product_id AND h.bucket = i.bucket
     WHERE i.held <> coalesce(h.q, 0)`);
  const now = await sql(`
    WITH inv AS (SELECT store_id, product_id, sum(on_hand) AS on_hand, sum(held) AS held FROM multistore.inventory GROUP BY 1, 2),
         sold AS (SELECT store_id, product_id, sum(quantity) AS sold FROM multistore.reservation_holds WHERE state = 'consumed' GROUP BY 1, 2)
    SELECT inv.store_id, inv.product_id, inv.on_hand, coalesce(sold.sold, 0), inv.held
      FROM inv LEFT JOIN sold USING (store_id, product_id)`);
  const ledger = [];
  for (const [store, product, onHand, sold] of now) {
    const was = initial.get(`${store}/${product}`);
    if (was === undefined || Number(onHand) + Number(sold) !== was) ledger.push(`${store}/${product}: on hand ${onHand} + sold ${sold} <> stocked ${was}`);
  }
  if (now.length !== initial.size) ledger.push(`${now.length} stock rows now, ${initial.size} before`);
  ok(ledger.length === 0, `for each of the ${now.length} store/product stocks, on hand + sold (consumed holds) = what was stocked before the run`, ledger);
  for (const [store, product, onHand, sold, held] of now.filter(([, p]) => p.startsWith('chaos_scarce'))) {
    diag(`scarce stock ${store}/${product}: stocked ${initial.get(`${store}/${product}`)}, sold ${sold}, on hand ${onHand}, held ${held}`);
  }
  await none('units sold = units of paid orders, for every store and product', `
    WITH sold AS (SELECT store_id, product_id, sum(quantity) AS q FROM multistore.reservation_holds WHERE state = 'consumed' GROUP BY 1, 2),
         paid AS (SELECT i.store_id, i.product_id, sum(i.quantity) AS q FROM multistore.order_items i
                    JOIN multistore.orders o ON o.id = i.order_id AND o.store_id = i.store_id
                   WHERE o.paid_at IS NOT NULL GROUP BY 1, 2)
    SELECT store_id, product_id, s.q AS sold, p.q AS paid FROM sold s FULL JOIN paid p USING (store_id, product_id)
     WHERE s.q IS DISTINCT FROM p.q`);

  // reservations: every one accounted for
  await none('each order\'s reservation agrees with the order: pending_payment -> active, paid -> consumed, cancelled -> released, expired -> expired or released', `
    SELECT o.id, o.status, o.paid_at IS NOT NULL, r.status, r.owner_type, r.owner_ref FROM multistore.orders o
      LEFT JOIN multistore.reservations r ON r.id = o.reservation_id AND r.store_id = o.store_id
     WHERE r.id IS NULL OR r.owner_type <> 'order' OR r.owner_ref <> o.id::text
        OR (o.paid_at IS NOT NULL) <> (o.status IN ('confirmed', 'preparing', 'ready_for_pickup', 'out_for_delivery', 'completed', 'delivered'))
        OR NOT CASE
             WHEN o.status = 'pending_payment' THEN r.status = 'active' AND r.expires_at > now()
             WHEN o.paid_at IS NOT NULL THEN r.status = 'consumed'
             WHEN o.status = 'cancelled' THEN r.status = 'released'
             WHEN o.status = 'expired' THEN r.status IN ('expired', 'released')
             ELSE false END`);
  await none('every order\'s holds are its items: per product, the quantity held, sold or released = the quantity ordered', `
    WITH h AS (SELECT reservation_id, product_id, sum(quantity) AS q FROM multistore.reservation_holds GROUP BY 1, 2),
         i AS (SELECT o.reservation_id, i.product_id, sum(i.quantity) AS q FROM multistore.orders o
                 JOIN multistore.order_items i ON i.order_id = o.id AND i.store_id = o.store_id GROUP BY 1, 2)
    SELECT reservation_id, product_id, h.q AS held, i.q AS ordered FROM h FULL JOIN i USING (reservation_id, product_id)
     WHERE h.q IS DISTINCT FROM i.q`);
  await none('every hold agrees with its reservation\'s status', `
    SELECT r.id, r.status, h.product_id, h.bucket, h.state FROM multistore.reservations r
      JOIN multistore.reservation_holds h ON h.store_id = r.store_id AND h.reservation_id = r.id
     WHERE (r.status IN ('consumed', 'released') AND h.state <> r.status)
        OR (r.status = 'active' AND r.expires_at > now() AND h.state <> 'active')
        OR (h.state = 'consumed' AND r.status <> 'consumed')`);
  await none('no hold without its reservation, no reservation without holds, no order reservation without its order', `
    SELECT 'hold', h.reservation_id::text FROM multistore.reservation_holds h
     WHERE NOT EXISTS (SELECT 1 FROM multistore.reservations r WHERE r.id = h.reservation_id AND r.store_id = h.store_id)
    UNION ALL
    SELECT 'reservation without holds', r.id::text FROM multistore.reservations r
     WHERE NOT EXISTS (SELECT 1 FROM multistore.reservation_holds h WHERE h.reservation_id = r.id AND h.store_id = r.store_id)
    UNION ALL
    SELECT 'reservation without order', r.id::text FROM multistore.reservations r
     WHERE NOT EXISTS (SELECT 1 FROM multistore.orders o WHERE o.reservation_id = r.id AND o.store_id = r.store_id)`);

  // payments: each applied at most once
  await none('payment_events ids are unique', 'SELECT id, count(*) FROM multistore.payment_events GROUP BY id HAVING count(*) > 1');
  await none('each paid order has exactly one succeeded event applied (outcome confirmed), and no unpaid order has one', `
    SELECT o.id, o.status, o.paid_at, count(e.id) FILTER (WHERE e.outcome = 'confirmed') AS applied
      FROM multistore.orders o LEFT JOIN multistore.payment_events e ON e.order_id = o.id
     GROUP BY o.id, o.status, o.paid_at
    HAVING count(e.id) FILTER (WHERE e.outcome = 'confirmed') <> CASE WHEN o.paid_at IS NOT NULL THEN 1 ELSE 0 END`);
  await none('no order changed status twice the same way: at most one move out of pending_payment, at most one into confirmed', `
    SELECT order_id, count(*) FILTER (WHERE from_status = 'pending_payment'), count(*) FILTER (WHERE to_status = 'confirmed')
      FROM multistore.order_status_history GROUP BY order_id
    HAVING count(*) FILTER (WHERE from_status = 'pending_payment') > 1 OR count(*) FILTER (WHERE to_status = 'confirmed') > 1`);
  const events = new Map((await sql('SELECT id, order_id, type, outcome FROM multistore.payment_events'))
    .map(([id, orderId, type, outcome]) => [id, { orderId, type, outcome }]));
  const wrongEvents = [];
  for (const p of payments) {
    const e = events.get(p.id);
    if (p.answer === 'gave_up') continue;
    const want = p.type === 'payment.succeeded' ? 'confirmed' : 'cancelled';
    if (!e || e.orderId !== p.orderId || e.type !== p.type || e.outcome !== want) wrongEvents.push(`${p.id} (${p.type}, answered ${p.answer} after ${p.attempts}): ${JSON.stringify(e)}`);
  }
  const sentEvents = new Set(payments.map((p) => p.id));
  for (const id of events.keys()) if (!sentEvents.has(id)) wrongEvents.push(`${id}: in the database, never sent`);
  ok(wrongEvents.length === 0, `each of the ${payments.length} payment events the provider sent is recorded once, for its order, with the outcome it was told (${events.size} recorded)`, wrongEvents);
}

// --- the run ------------------------------------------------------------------------------------

async function main() {
  console.log(`# fault injection: ${CUSTOMERS} customers against ${BASE.origin}, database ${new URL(DB).pathname.slice(1)} (data ${PGDATA})`);
  const products = await sql(`SELECT DISTINCT store_id, product_id FROM multistore.inventory WHERE product_id LIKE 'chaos\\_%' ORDER BY 1, 2`);
  STORES = [...new Set(products.map(([s]) => s))];
  PLENTY = [...new Set(products.map(([, p]) => p).filter((p) => p.startsWith('chaos_plenty')))];
  SCARCE = [...new Set(products.map(([, p]) => p).filter((p) => p.startsWith('chaos_scarce')))];
  if (!STORES.length || !PLENTY.length || !SCARCE.length) {
    console.log('Bail out! no chaos_* stock: load tests/chaos/stock.sql first');
    process.exit(1);
  }
  const initial = new Map();
  let heldBefore = 0;
  for (const [s, p, onHand, held] of await sql('SELECT store_id, product_id, sum(on_hand), sum(held) FROM multistore.inventory GROUP BY 1, 2')) {
    initial.set(`${s}/${p}`, Number(onHand));
    heldBefore += Number(held);
  }
  ok(heldBefore === 0 && (await sql('SELECT 1 FROM multistore.orders LIMIT 1')).length === 0,
    `a fresh database: ${initial.size} stock rows snapshotted, no order, nothing held`);
  diag(`stores ${STORES.join(', ')}; plenty ${PLENTY.join(', ')}; scarce ${SCARCE.join(', ')} (${[...initial].filter(([k]) => k.includes('chaos_scarce')).map(([, v]) => v).join('/')} units)`);

  const people = await createCustomers(CUSTOMERS + 1);
  prober = people.pop();
  ok((await healthyAt(5000)) > 0, `the proxy is healthy before the storm (${elapsed()})`);

  const shoppers = people.map((c) => customer(c));
  await sleep(STEADY_MS);
  diag(`warm-up: ${totals.ordersPlaced ?? 0} orders placed (${elapsed()})`);
  await killBackend();
  await sleep(STEADY_MS);
  await immediateRestart();
  await sleep(STEADY_MS);
  await killProxy();
  phase = 'after the faults';
  await sleep(STEADY_MS);

  phase = 'drain';
  stopping = true;
  const drained = await Promise.race([Promise.all(shoppers).then(() => true), sleep(OP_DEADLINE_MS + 15000).then(() => false)]);
  ok(drained, `every customer finished the checkout it was in when the traffic stopped (${elapsed()})`);
  const finalHealth = await call('GET', '/health', { timeoutMs: 2000 });
  ok(finalHealth.status === 200, `GET /health answers 200 at the end: ${brief(finalHealth).slice(0, 120)}`);

  ok(anomalies.length === 0, `every answer was one the API documents for the situation (no 500, no rate limit, no wrong replay, nothing given up): ${anomalies.length} not`, anomalies);
  const unresolved = orderAttempts.filter((a) => a.outcome === 'gave_up' || a.outcome === 'unknown').length +
    payments.filter((p) => p.answer === 'gave_up').length;
  ok(unresolved === 0, `every order request and payment webhook got a definitive answer before its ${OP_DEADLINE_MS / 1000} s deadline (${unresolved} did not)`);
  const faultSeen = phases.filter((p) => p.startsWith('(')).map((p) => [p, stats.get(p)]);
  const hurt = faultSeen.filter(([, s]) => (s.retries ?? 0) > 0).length;
  ok(hurt === 3, `each fault hit requests in flight: ${faultSeen.map(([p, s]) => `${p} ${s.retries ?? 0} retries`).join(', ')}`);
  ok((totals.ordersPlaced ?? 0) >= 100 && (totals.outOfStock ?? 0) >= 1 && (totals.paymentsConfirmed ?? 0) >= 50,
    `the storm did real work: ${totals.ordersPlaced ?? 0} orders placed, ${totals.outOfStock ?? 0} out_of_stock, ${totals.paymentsConfirmed ?? 0} paid`);

  await checks(initial);

  // what the clients saw, phase by phase
  const cols = ['requests', 'retries', 'status503', 'connectionErrors', 'timeouts', 'keyInUse', 'ordersPlaced', 'ordersPlacedAfterRetry',
    'replayedAfterRetry', 'outOfStock', 'paymentsConfirmed', 'paymentsFailed', 'paymentDuplicatesAfterRetry', 'cancels', 'cancelAppliedBeforeRetry', 'cartDrift', 'unexpected'];
  diag('--- what the clients saw, by phase');
  diag(`${'phase'.padEnd(26)} ${cols.map((c) => c.slice(0, 12).padStart(12)).join(' ')}`);
  for (const p of [...phases, 'total']) {
    const s = p === 'total' ? totals : stats.get(p);
    diag(`${p.padEnd(26)} ${cols.map((c) => String(s[c] ?? 0).padStart(12)).join(' ')}`);
  }
  for (const f of faults) {
    diag(`${f.name}: ${f.detail}; down ${f.downMs} ms; /health 200 after ${f.health} ms, an order after ${f.order} ms`);
  }
  console.log(`1..${tests}`);
  if (failures) for (const f of failed) console.log(`# FAILED: ${f}`);
  console.log(`# chaos: ${tests - failures}/${tests} checks passed; ${totals.ordersPlaced ?? 0} orders placed (${totals.ordersPlacedAfterRetry ?? 0} after a retry, ` +
    `${totals.replayedAfterRetry ?? 0} answered by a replay), ${totals.outOfStock ?? 0} out_of_stock, ${totals.paymentsConfirmed ?? 0} paid, ` +
    `${totals.retries ?? 0} retries (${totals.status503 ?? 0} 503, ${totals.connectionErrors ?? 0} connection errors, ${totals.timeouts ?? 0} timeouts, ` +
    `${totals.keyInUse ?? 0} idempotency_key_in_use) in ${elapsed()}`);
  agent.destroy();
  // a customer still stuck in a retry loop must not keep the run going
  process.exit(failures ? 1 : 0);
}

// The whole run is bounded, even when the database never comes back
setTimeout(() => {
  console.log(`Bail out! the run did not finish within ${WATCHDOG_MS / 1000} s (phase: ${phase})`);
  process.exit(1);
}, WATCHDOG_MS).unref();

main().catch((e) => {
  console.log(`Bail out! ${e.stack || e}`);
  process.exit(1);
});
