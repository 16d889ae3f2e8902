// Stock and reservations over HTTP: the manager's point-of-sale holds, the
// inventory route, the nearby search with a basket, and the pg_cron job
// scheduling across databases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { api, sql, assertError, login, bearer, DB } from './helpers.mjs';

const admin = await login('admin@example.com');
const manager = await login('manager@example.com');   // manages store_1 and store_2
const customer = await login('customer@example.com');
const PRODUCT = 'prod_42';

test('a manager sets stock and holds it; availability follows', async () => {
  const set = await api('PUT', `/api/stores/store_1/inventory/${PRODUCT}`, { headers: bearer(manager.accessToken), body: { onHand: 12 } });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.body.stock, { storeId: 'store_1', productId: PRODUCT, onHand: 12, held: 0, available: 12 });

  const held = await api('POST', '/api/stores/store_1/reservations',
    { headers: bearer(manager.accessToken), body: { items: [{ productId: PRODUCT, quantity: 5 }], ttlSeconds: 300, reference: 'till-7' } });
  assert.equal(held.status, 201, held.text);
  const r = held.body.reservation;
  assert.equal(r.status, 'active');
  assert.equal(r.ownerRef, 'till-7');
  assert.deepEqual(r.items, [{ productId: PRODUCT, quantity: 5 }]);

  const avail = await api('GET', `/api/stores/store_1/availability?productIds=${PRODUCT}`);
  assert.equal(avail.body.products[0].available, 7, 'available = on hand - held');

  const got = await api('GET', `/api/reservations/${r.id}`, { headers: bearer(manager.accessToken) });
  assert.equal(got.status, 200);
  assert.equal(got.body.reservation.id, r.id);

  const released = await api('DELETE', `/api/reservations/${r.id}`, { headers: bearer(manager.accessToken) });
  assert.equal(released.status, 200);
  assert.equal(released.body.reservation.status, 'released');
  assert.equal((await api('GET', `/api/stores/store_1/availability?productIds=${PRODUCT}`)).body.products[0].available, 12);
});

test('out_of_stock names every short line; nothing is held', async () => {
  await api('PUT', `/api/stores/store_2/inventory/${PRODUCT}`, { headers: bearer(admin.accessToken), body: { onHand: 2 } });
  const res = await api('POST', '/api/stores/store_2/reservations', {
    headers: bearer(admin.accessToken),
    body: { items: [{ productId: 'prod_1', quantity: 1 }, { productId: PRODUCT, quantity: 3 }] },
  });
  assertError(res, 409, 'out_of_stock');
  assert.deepEqual(res.body.error.details.items, [{ productId: PRODUCT, requested: 3, available: 2 }]);
  assert.equal(Number(sql("SELECT count(*) FROM multistore.reservations WHERE store_id = 'store_2' AND status = 'active'")), 0);
});

test('who may hold stock, and what others see', async () => {
  const body = { items: [{ productId: 'prod_1', quantity: 1 }] };
  assertError(await api('POST', '/api/stores/store_1/reservations', { headers: bearer(customer.accessToken), body }), 403, 'forbidden');
  assertError(await api('POST', '/api/stores/store_3/reservations', { headers: bearer(manager.accessToken), body }), 403, 'forbidden');
  assertError(await api('POST', '/api/stores/store_3/reservations', { body }), 401, 'unauthorized');
  assertError(await api('PUT', '/api/stores/store_3/inventory/prod_1', { headers: bearer(manager.accessToken), body: { onHand: 1 } }), 403, 'forbidden');
  const other = await api('POST', '/api/stores/store_3/reservations', { headers: bearer(admin.accessToken), body });
  assert.equal(other.status, 201);
  assertError(await api('GET', `/api/reservations/${other.body.reservation.id}`, { headers: bearer(manager.accessToken) }), 404, 'not_found');
  assertError(await api('GET', '/api/reservations/not-a-uuid', { headers: bearer(admin.accessToken) }), 404, 'not_found');
  assertError(await api('GET', '/api/reservations/00000000-0000-4000-8000-000000000000', { headers: bearer(admin.accessToken) }), 404, 'not_found');
  await api('DELETE', `/api/reservations/${other.body.reservation.id}`, { headers: bearer(admin.accessToken) });
});

test('bad reservation and stock bodies', async () => {
  const bad = await api('POST', '/api/stores/store_1/reservations',
    { headers: bearer(admin.accessToken), body: { items: [{ productId: 'prod_1', quantity: 0 }, { productId: 'prod_1', quantity: 'two' }], ttlSeconds: 999999 } });
  assertError(bad, 400, 'validation_failed');
  assert.deepEqual(Object.keys(bad.body.error.details.fields).sort(), ['items[0].quantity', 'items[1].quantity', 'ttlSeconds']);
  assertError(await api('POST', '/api/stores/store_1/reservations',
    { headers: bearer(admin.accessToken), body: { items: [{ productId: 'ghost', quantity: 1 }] } }), 404, 'not_found');
  assertError(await api('PUT', '/api/stores/store_1/inventory/prod_1',
    { headers: bearer(admin.accessToken), body: { onHand: -3 } }), 400, 'validation_failed');
  assertError(await api('PUT', '/api/stores/store_1/inventory/ghost',
    { headers: bearer(admin.accessToken), body: { onHand: 3 } }), 404, 'not_found');
});

test('nearby with a basket: only stores that can serve it, nearest first', async () => {
  // store_2 keeps 2 of PRODUCT from the test above; store_1 has 12
  const res = await api('GET', `/api/stores/nearby?latitude=40.7589&longitude=-73.9851&radius=5&productIds=${PRODUCT}:5,prod_1`);
  assert.equal(res.status, 200, res.text);
  const ids = res.body.stores.map((s) => s.id);
  assert.ok(ids.includes('store_1'));
  assert.ok(!ids.includes('store_2'), 'store_2 has only 2');
  for (const s of res.body.stores) {
    const a = (await api('GET', `/api/stores/${s.id}/availability?productIds=${PRODUCT},prod_1`)).body.products;
    assert.ok(a[0].available >= 5 && a[1].available >= 1, `${s.id} can serve the basket`);
  }
  assertError(await api('GET', '/api/stores/nearby?latitude=40.7589&longitude=-73.9851&productIds=prod_1:0'), 400, 'validation_failed');
  assertError(await api('GET', '/api/stores/nearby?latitude=40.7589&longitude=-73.9851&productIds=ghost'), 404, 'not_found');
});

test('jobs: scheduled from pg_cron\'s database for a database without pg_cron', () => {
  const other = new URL(DB);
  other.pathname = '/multistore_jobs_e2e';
  const psql = (url, q) => execFileSync('psql', [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8' }).trim();
  const psqlFails = (url, q) => {
    try { execFileSync('psql', [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8', stdio: 'pipe' }); return ''; }
    catch (e) { return String(e.stderr); }
  };
  psql(DB, 'DROP DATABASE IF EXISTS multistore_jobs_e2e');
  psql(DB, 'CREATE DATABASE multistore_jobs_e2e');
  try {
    psql(other.toString(), 'SET client_min_messages = warning; CREATE EXTENSION multistore CASCADE');
    const err = psqlFails(other.toString(), 'SELECT multistore.jobs_schedule()');
    assert.match(err, /pg_cron is not installed in database "multistore_jobs_e2e"/);
    assert.match(err, /HINT:.*pg_cron runs in database/s);
    const statements = psql(other.toString(), 'SELECT multistore.jobs_schedule_sql()');
    assert.match(statements, /cron\.schedule_in_database/);
    psql(DB, statements);
    assert.equal(psql(DB, "SELECT count(*) FROM cron.job WHERE database = 'multistore_jobs_e2e'"), '4', 'scheduled for the other database');
    psql(DB, statements);
    assert.equal(psql(DB, "SELECT count(*) FROM cron.job WHERE database = 'multistore_jobs_e2e'"), '4', 'once, however often');
  } finally {
    psql(DB, "SELECT cron.unschedule(jobid) FROM cron.job WHERE database = 'multistore_jobs_e2e'");
    psql(DB, 'DROP DATABASE IF EXISTS multistore_jobs_e2e');
  }
});
