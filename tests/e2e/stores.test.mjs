// Stores over real HTTP: nearby, one store, availability, and every bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, nodeRequest, sql, assertError } from './helpers.mjs';

const TIMES_SQUARE = 'latitude=40.7589&longitude=-73.9851';

test('GET /health answers ok with both versions', async () => {
  const res = await api('GET', '/health');
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body).sort(), ['db', 'extensionVersion', 'status', 'version']);
  assert.equal(res.body.status, 'ok');
  assert.equal(res.body.db, 'ok');
  assert.equal(res.body.extensionVersion, sql("SELECT extversion FROM pg_extension WHERE extname = 'multistore'"));
  assert.equal(res.headers.get('cache-control'), 'private, no-store');
});

test('nearby Times Square: stores sorted by distance, each correct to 1 m against ST_Distance', async () => {
  const res = await api('GET', `/api/stores/nearby?${TIMES_SQUARE}&radius=10`);
  assert.equal(res.status, 200);
  const stores = res.body.stores;
  assert.ok(stores.length >= 5, `several stores within 10 km (got ${stores.length})`);
  for (let i = 1; i < stores.length; i++) {
    assert.ok(stores[i - 1].distanceKm <= stores[i].distanceKm, 'nearest first');
  }
  const truth = new Map(sql(`SELECT id || ' ' || ST_Distance(location, ST_SetSRID(ST_MakePoint(-73.9851, 40.7589), 4326)::geography)
                               FROM multistore.stores`).split('\n').map((l) => { const [id, m] = l.split(' '); return [id, Number(m)]; }));
  for (const s of stores) {
    assert.ok(Math.abs(s.distanceKm * 1000 - truth.get(s.id)) <= 1, `${s.id}: ${s.distanceKm} km vs ${truth.get(s.id)} m`);
    assert.ok(s.distanceKm <= 10);
    assert.deepEqual(Object.keys(s).sort(), ['acceptingOrders', 'address', 'distanceKm', 'id', 'isOpen', 'location', 'name']);
  }
  const within = Number(sql(`SELECT count(*) FROM multistore.stores
                              WHERE ST_DWithin(location, ST_SetSRID(ST_MakePoint(-73.9851, 40.7589), 4326)::geography, 10000)`));
  assert.equal(stores.length, Math.min(within, 20), 'every store within the radius, up to the default limit');
  assert.match(res.headers.get('cache-control'), /^public, max-age=\d+, stale-while-revalidate=\d+$/);
});

test('nearby honours limit and radius defaults', async () => {
  const res = await api('GET', `/api/stores/nearby?${TIMES_SQUARE}&limit=3`);
  assert.equal(res.status, 200);
  assert.equal(res.body.stores.length, 3);
  assert.equal(res.body.stores[0].id, 'store_1');
});

for (const [name, query, fields] of [
  ['missing latitude', 'longitude=-73.9851', ['latitude']],
  ['non-numeric latitude', 'latitude=abc&longitude=-73.9851', ['latitude']],
  ['latitude 91', 'latitude=91&longitude=-73.9851', ['latitude']],
  ['longitude -181', 'latitude=40&longitude=-181', ['longitude']],
  ['radius 1000', `${TIMES_SQUARE}&radius=1000`, ['radius']],
  ['radius 0', `${TIMES_SQUARE}&radius=0`, ['radius']],
  ['radius -5', `${TIMES_SQUARE}&radius=-5`, ['radius']],
  ['limit 0', `${TIMES_SQUARE}&limit=0`, ['limit']],
  ['limit 2.5', `${TIMES_SQUARE}&limit=2.5`, ['limit']],
  ['latitude NaN', 'latitude=NaN&longitude=0', ['latitude']],
  ['latitude given twice', 'latitude=1&latitude=2&longitude=0', ['latitude']],
  ['an unknown parameter', `${TIMES_SQUARE}&lat=1`, ['lat']],
  ['a NUL in a value', 'latitude=4%000&longitude=0', ['latitude']],
]) {
  test(`nearby with ${name} is 400 validation_failed naming ${fields}`, async () => {
    const res = await api('GET', `/api/stores/nearby?${query}`);
    assertError(res, 400, 'validation_failed');
    assert.deepEqual(Object.keys(res.body.error.details.fields).sort(), fields.sort());
  });
}

test('GET /api/stores/:id returns the store with its hours', async () => {
  const res = await api('GET', '/api/stores/store_3');
  assert.equal(res.status, 200);
  const s = res.body.store;
  assert.equal(s.id, 'store_3');
  assert.equal(s.timeZone, 'America/New_York');
  assert.deepEqual(s.openingHours.monday, [{ opens: '18:00', closes: '06:00' }], 'an overnight range');
  assert.equal(typeof s.isOpen, 'boolean');
});

test('an unknown store is 404 not_found; an id that cannot exist too', async () => {
  assertError(await api('GET', '/api/stores/store_999999'), 404, 'not_found');
  assertError(await api('GET', '/api/stores/bad%20id'), 404, 'not_found');
  assertError(await api('GET', '/api/stores/store_1%00x'), 404, 'not_found');
  assertError(await api('GET', '/api/stores/store_999999/availability'), 404, 'not_found');
});

test('availability reports each product at the store', async () => {
  const res = await api('GET', '/api/stores/store_1/availability?productIds=prod_1,prod_2');
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body).sort(), ['acceptingOrders', 'isOpen', 'nextOpensAt', 'products', 'storeId']);
  const expected = Number(sql("SELECT sum(on_hand) - sum(held) FROM multistore.inventory WHERE store_id = 'store_1' AND product_id = 'prod_1'"));
  assert.deepEqual(res.body.products[0], { productId: 'prod_1', available: expected });
  assert.equal(res.body.isOpen, true, 'store_1 is open around the clock');
  const closed = await api('GET', '/api/stores/store_4/availability');
  assert.equal(closed.body.acceptingOrders, false, 'store_4 takes no orders');
});

test('availability with bad product ids', async () => {
  assertError(await api('GET', '/api/stores/store_1/availability?productIds=prod_1,,prod_2'), 400, 'validation_failed');
  const res = await api('GET', '/api/stores/store_1/availability?productIds=prod_1,ghost');
  assertError(res, 404, 'not_found');
  assert.deepEqual(res.body.error.details.productIds, ['ghost']);
});

test('an unknown route is 404; a wrong method is 405 with Allow', async () => {
  assertError(await api('GET', '/api/nothing'), 404, 'not_found');
  assertError(await api('GET', '/api/stores/'), 404, 'not_found');
  const res = await api('DELETE', '/api/stores/store_1');
  assertError(res, 405, 'method_not_allowed');
  assert.equal(res.headers.get('allow'), 'GET, HEAD, PUT');
  const patch = await api('PATCH', '/health');
  assertError(patch, 405, 'method_not_allowed');
  assert.equal(patch.headers.get('allow'), 'GET, HEAD');
});

test('HEAD is answered like GET, without a body', async () => {
  const res = await api('HEAD', '/api/stores/store_1');
  assert.equal(res.status, 200);
  assert.equal(res.text, '');
});

test('a 2 MiB body is 413 payload_too_large', async () => {
  const big = 'x'.repeat(2 * 1024 * 1024);
  const res = await nodeRequest('GET', `/api/stores/nearby?${TIMES_SQUARE}`,
    { body: big, headers: { 'content-type': 'application/json', 'content-length': String(big.length) } });
  assertError(res, 413, 'payload_too_large');
  const chunked = await nodeRequest('GET', `/api/stores/nearby?${TIMES_SQUARE}`,
    { body: big, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
  assertError(chunked, 413, 'payload_too_large');
});

test('admin routes need a token', async () => {
  assertError(await api('POST', '/api/stores', { body: { name: 'x' } }), 401, 'unauthorized');
  assertError(await api('PUT', '/api/stores/store_1', { body: { name: 'x' } }), 401, 'unauthorized');
});

test('X-Request-Id: a sane one is echoed, anything else replaced', async () => {
  const mine = await api('GET', '/health', { headers: { 'x-request-id': 'client-abc.123' } });
  assert.equal(mine.headers.get('x-request-id'), 'client-abc.123');
  const bad = await api('GET', '/health', { headers: { 'x-request-id': 'has spaces and {braces}' } });
  assert.match(bad.headers.get('x-request-id'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
