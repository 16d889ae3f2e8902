// Admin store routes over HTTP, and the body checks: 413, 415, invalid JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, nodeRequest, assertError, login, bearer } from './helpers.mjs';

const admin = await login('admin@example.com');
const customer = await login('customer@example.com');
const manager = await login('manager@example.com');
const id = `e2e_${process.pid}`;
const store = {
  id, name: 'E2E Store', address: '1 Test Plaza, New York, NY', location: { latitude: 40.75, longitude: -73.99 },
  timeZone: 'America/New_York', openingHours: { monday: [{ opens: '09:00', closes: '17:00' }] },
};

test('an admin creates and updates a store', async () => {
  const created = await api('POST', '/api/stores', { headers: bearer(admin.accessToken), body: store });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.store.id, id);
  assert.equal(created.body.store.acceptingOrders, true);
  const updated = await api('PUT', `/api/stores/${id}`, { headers: bearer(admin.accessToken), body: { acceptingOrders: false } });
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.body.store.acceptingOrders, false);
  assert.equal(updated.body.store.name, 'E2E Store');
  assert.equal((await api('GET', `/api/stores/${id}`)).body.store.acceptingOrders, false);
  assertError(await api('POST', '/api/stores', { headers: bearer(admin.accessToken), body: store }), 409, 'already_exists');
  assertError(await api('PUT', '/api/stores/nope_nope', { headers: bearer(admin.accessToken), body: { name: 'x' } }), 404, 'not_found');
});

test('customers and managers may not', async () => {
  assertError(await api('POST', '/api/stores', { headers: bearer(customer.accessToken), body: store }), 403, 'forbidden');
  assertError(await api('PUT', `/api/stores/${id}`, { headers: bearer(manager.accessToken), body: { name: 'x' } }), 403, 'forbidden');
});

test('bad store bodies name every bad field', async () => {
  const res = await api('POST', '/api/stores', {
    headers: bearer(admin.accessToken),
    body: { ...store, id: undefined, timeZone: 'Mars/Base', location: { latitude: 91, longitude: 0 }, colour: 'red' },
  });
  assertError(res, 400, 'validation_failed');
  assert.deepEqual(Object.keys(res.body.error.details.fields).sort(), ['colour', 'location.latitude', 'timeZone']);
});

test('a 2 MiB body is 413, even with a good token', async () => {
  const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
  const res = await nodeRequest('POST', '/api/stores',
    { body: big, headers: { ...bearer(admin.accessToken), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) } });
  assertError(res, 413, 'payload_too_large');
});

test('a body that is not JSON by its content type is 415', async () => {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonx']) {
    const res = await api('POST', '/api/stores', { headers: { ...bearer(admin.accessToken), 'content-type': type }, raw: '{}' });
    assertError(res, 415, 'unsupported_media_type');
  }
  const ok = await api('POST', '/api/stores', { headers: { ...bearer(admin.accessToken), 'content-type': 'application/json; charset=UTF-8' }, raw: '{}' });
  assertError(ok, 400, 'validation_failed');
});

test('malformed JSON is 400 invalid_json, never 500', async () => {
  for (const raw of ['{bad', '', '{"a":1,"a":2}', '{"name":"\u0000"}', '[', '"just a string', '{"a":1} trailing', '\xff\xfe']) {
    const res = await api('POST', '/api/stores', { headers: { ...bearer(admin.accessToken), 'content-type': 'application/json' }, raw });
    assertError(res, 400, 'invalid_json');
  }
  const notObject = await api('POST', '/api/stores', { headers: bearer(admin.accessToken), body: [1, 2] });
  assertError(notObject, 400, 'validation_failed');
});
