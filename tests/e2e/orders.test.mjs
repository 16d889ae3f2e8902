// Carts, idempotent orders, the order state machine and the payment webhook
// over real HTTP: every route of the orders issue and every error code it
// answers with.  Stores, products and accounts are this file's own
// (e2e_ord_<pid>...), made in SQL or through the admin API, and removed at
// the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  api, sql, assertError, bearer, createUser, paymentSignature, postPayment,
} from './helpers.mjs';

const P = `e2e_ord_${process.pid}`;
const OPEN = `${P}_open`;        // open around the clock, delivers within 5 km of Times Square
const CLOSED = `${P}_closed`;    // no opening hours at all
const PAUSED = `${P}_paused`;    // open, but not taking orders
const A = `${P}_a`;              // 2.50
const B = `${P}_b`;              // 10.00
const HIDDEN = `${P}_hidden`;    // not published
const EUR = `${P}_eur`;          // priced in euros
const SCARCE = `${P}_scarce`;    // 1 unit at OPEN
const FADING = `${P}_fading`;    // unpublished once it is in a cart

const admin = createUser({ role: 'admin', tag: 'ord-admin' });
const ALWAYS = Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']
  .map((d) => [d, [{ opens: '00:00', closes: '24:00' }]]));
const TIMES_SQUARE = { latitude: 40.7580, longitude: -73.9855 };
for (const [id, extra] of [[OPEN, {}], [CLOSED, { openingHours: {} }], [PAUSED, { acceptingOrders: false }]]) {
  const res = await api('POST', '/api/stores', {
    headers: admin.headers,
    body: { id, name: `E2E ${id}`, address: '1540 Broadway, New York, NY', location: TIMES_SQUARE,
      timeZone: 'America/New_York', openingHours: ALWAYS, deliveryRadiusKm: 5, ...extra },
  });
  assert.equal(res.status, 201, res.text);
}
sql(`INSERT INTO multistore.products (id, sku, name, price, currency, published) VALUES
  ('${A}', '${A}', 'E2E Apples', 2.50, 'USD', true),
  ('${B}', '${B}', 'E2E Bread', 10.00, 'USD', true),
  ('${HIDDEN}', '${HIDDEN}', 'E2E Hidden', 1.00, 'USD', false),
  ('${EUR}', '${EUR}', 'E2E Euro Cheese', 3.00, 'EUR', true),
  ('${SCARCE}', '${SCARCE}', 'E2E Truffles', 7.25, 'USD', true),
  ('${FADING}', '${FADING}', 'E2E Fading', 4.00, 'USD', true)`);
for (const [store, product, onHand] of [[OPEN, A, 500], [OPEN, B, 500], [OPEN, SCARCE, 1], [OPEN, FADING, 50],
  [CLOSED, A, 50], [CLOSED, FADING, 50], [PAUSED, A, 50]]) {
  const res = await api('PUT', `/api/stores/${store}/inventory/${product}`, { headers: admin.headers, body: { onHand } });
  assert.equal(res.status, 200, res.text);
}
const manager = createUser({ role: 'store_manager', stores: [OPEN], tag: 'ord-manager' });
const otherManager = createUser({ role: 'store_manager', stores: ['store_1'], tag: 'ord-other-manager' });
const users = [admin, manager, otherManager];
const customer = (tag = 'ord-customer') => { const u = createUser({ tag }); users.push(u); return u; };

after(() => {
  const stores = `'${OPEN}', '${CLOSED}', '${PAUSED}'`;
  sql(`DELETE FROM multistore.payment_events WHERE order_id IN (SELECT id FROM multistore.orders WHERE store_id IN (${stores}));
       DELETE FROM multistore.orders WHERE store_id IN (${stores});
       DELETE FROM multistore.cart_items WHERE product_id LIKE '${P}\\_%';
       DELETE FROM multistore.stores WHERE id IN (${stores});
       DELETE FROM multistore.products WHERE id LIKE '${P}\\_%';
       DELETE FROM multistore.users WHERE id IN (${users.map((u) => `'${u.id}'`).join(', ')})`);
});

// Stock of a product at a store, summed over its buckets
function stock(store, product) {
  const [onHand, held] = sql(`SELECT coalesce(sum(on_hand), 0) || ' ' || coalesce(sum(held), 0) FROM multistore.inventory
                               WHERE store_id = '${store}' AND product_id = '${product}'`).split(' ').map(Number);
  return { onHand, held };
}

async function addToCart(user, productId, quantity) {
  const res = await api('POST', '/api/cart/items', { headers: user.headers, body: { productId, quantity } });
  assert.equal(res.status, 201, res.text);
  return res.body.cart;
}

const place = (user, body, key = randomUUID()) =>
  api('POST', '/api/orders', { headers: { ...user.headers, 'idempotency-key': key }, body });

// An order of the given lines at OPEN (pickup unless the body says otherwise)
async function orderOf(user, lines, body = { storeId: OPEN, deliveryType: 'pickup' }) {
  for (const [product, quantity] of lines) await addToCart(user, product, quantity);
  const res = await place(user, body);
  assert.equal(res.status, 201, res.text);
  return res.body.order;
}

const pay = (order, extra = {}) => postPayment({
  id: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: order.id, amount: Number(order.total), currency: order.currency, ...extra,
});

const getOrder = async (order, user) => {
  const res = await api('GET', `/api/orders/${order.id}`, { headers: user.headers });
  assert.equal(res.status, 200, res.text);
  return res.body.order;
};

const setStatus = (order, user, status, note) =>
  api('PUT', `/api/orders/${order.id}/status`, { headers: user.headers, body: note ? { status, note } : { status } });

// --- carts -------------------------------------------------------------------

test('cart: add, add again adds up, set, 0 removes, delete, clear; money as strings', async () => {
  const c = customer();
  const empty = await api('GET', '/api/cart', { headers: c.headers });
  assert.equal(empty.status, 200, empty.text);
  for (const key of ['id', 'storeId', 'items', 'subtotal', 'discount', 'total', 'currency']) assert.ok(key in empty.body.cart, key);
  assert.deepEqual(empty.body.cart.items, []);
  assert.equal(empty.body.cart.total, '0.00');

  let cart = await addToCart(c, A, 2);
  assert.equal(cart.id, empty.body.cart.id, 'one cart per user');
  assert.equal(cart.items.length, 1);
  const line = cart.items[0];
  for (const key of ['id', 'productId', 'name', 'quantity', 'unitPrice', 'lineTotal']) assert.ok(key in line, key);
  assert.deepEqual([line.productId, line.name, line.quantity, line.unitPrice, line.lineTotal], [A, 'E2E Apples', 2, '2.50', '5.00']);
  assert.deepEqual([cart.subtotal, cart.discount, cart.total, cart.currency], ['5.00', '0.00', '5.00', 'USD']);

  cart = await addToCart(c, A, 3);
  assert.equal(cart.items.length, 1, 'the same product adds to its line');
  assert.deepEqual([cart.items[0].id, cart.items[0].quantity, cart.items[0].lineTotal], [line.id, 5, '12.50']);
  cart = await addToCart(c, B, 1);
  assert.equal(cart.items.length, 2);
  assert.equal(cart.total, '22.50');
  const bLine = cart.items.find((i) => i.productId === B);

  const set = await api('PUT', `/api/cart/items/${line.id}`, { headers: c.headers, body: { quantity: 1 } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.cart.items.find((i) => i.id === line.id).quantity, 1);
  assert.equal(set.body.cart.total, '12.50');
  const removed = await api('PUT', `/api/cart/items/${line.id}`, { headers: c.headers, body: { quantity: 0 } });
  assert.equal(removed.status, 200);
  assert.deepEqual(removed.body.cart.items.map((i) => i.productId), [B], '0 removes the line');
  const deleted = await api('DELETE', `/api/cart/items/${bLine.id}`, { headers: c.headers });
  assert.equal(deleted.status, 200, deleted.text);
  assert.deepEqual(deleted.body.cart.items, []);
  assert.equal(deleted.body.cart.total, '0.00');

  await addToCart(c, A, 4);
  await addToCart(c, B, 2);
  const cleared = await api('DELETE', '/api/cart/clear', { headers: c.headers });
  assert.equal(cleared.status, 200, cleared.text);
  assert.deepEqual(cleared.body.cart.items, []);
  assert.equal(cleared.body.cart.currency, null, 'an empty cart has no currency yet');
  assert.deepEqual((await api('GET', '/api/cart', { headers: c.headers })).body.cart.items, []);
});

test('cart errors: 401, validation_failed with every bad field, not_found, product_unavailable', async () => {
  const c = customer();
  const other = customer();
  const some = '00000000-0000-4000-8000-000000000000';
  for (const [method, path, body] of [['GET', '/api/cart'], ['POST', '/api/cart/items', { productId: A, quantity: 1 }],
    ['PUT', `/api/cart/items/${some}`, { quantity: 1 }], ['DELETE', `/api/cart/items/${some}`], ['DELETE', '/api/cart/clear']]) {
    assertError(await api(method, path, { body }), 401, 'unauthorized');
  }

  const fields = async (body, expected) => {
    const res = await api('POST', '/api/cart/items', { headers: c.headers, body });
    assertError(res, 400, 'validation_failed');
    assert.deepEqual(Object.keys(res.body.error.details.fields).sort(), expected, JSON.stringify(body));
  };
  await fields({ productId: 'not a product!', quantity: 0 }, ['productId', 'quantity']);
  await fields({ quantity: 100 }, ['productId', 'quantity']);
  await fields({ productId: A, quantity: 1.5 }, ['quantity']);
  await fields({ productId: A, quantity: '2' }, ['quantity']);
  await fields({ productId: A, quantity: 1, colour: 'red' }, ['colour']);
  assertError(await api('POST', '/api/cart/items', { headers: { ...c.headers, 'content-type': 'application/json' }, raw: '{"productId":' }),
    400, 'invalid_json');

  const ghost = await api('POST', '/api/cart/items', { headers: c.headers, body: { productId: `${P}_ghost`, quantity: 1 } });
  assertError(ghost, 404, 'not_found');
  const hidden = await api('POST', '/api/cart/items', { headers: c.headers, body: { productId: HIDDEN, quantity: 1 } });
  assertError(hidden, 409, 'product_unavailable');
  assert.deepEqual(hidden.body.error.details.productIds, [HIDDEN]);

  const cart = await addToCart(c, A, 99);
  const over = await api('POST', '/api/cart/items', { headers: c.headers, body: { productId: A, quantity: 1 } });
  assertError(over, 400, 'validation_failed');
  assert.ok(over.body.error.details.fields.quantity, 'a line may not pass 99');
  const euro = await api('POST', '/api/cart/items', { headers: c.headers, body: { productId: EUR, quantity: 1 } });
  assertError(euro, 400, 'validation_failed');
  assert.ok(euro.body.error.details.fields.productId, 'one currency per cart');

  const itemId = cart.items[0].id;
  for (const [body, expected] of [[{ quantity: 100 }, ['quantity']], [{ quantity: -1 }, ['quantity']], [{}, ['quantity']],
    [{ quantity: 1, note: 'x' }, ['note']]]) {
    const res = await api('PUT', `/api/cart/items/${itemId}`, { headers: c.headers, body });
    assertError(res, 400, 'validation_failed');
    assert.deepEqual(Object.keys(res.body.error.details.fields).sort(), expected, JSON.stringify(body));
  }

  // another user's line is not theirs to see or touch
  assertError(await api('PUT', `/api/cart/items/${itemId}`, { headers: other.headers, body: { quantity: 1 } }), 404, 'not_found');
  assertError(await api('DELETE', `/api/cart/items/${itemId}`, { headers: other.headers }), 404, 'not_found');
  assertError(await api('PUT', `/api/cart/items/${some}`, { headers: c.headers, body: { quantity: 1 } }), 404, 'not_found');
  assertError(await api('DELETE', `/api/cart/items/${some}`, { headers: c.headers }), 404, 'not_found');
  assertError(await api('DELETE', '/api/cart/items/not-a-uuid', { headers: c.headers }), 404, 'not_found');
  const mine = await api('GET', '/api/cart', { headers: c.headers });
  assert.deepEqual(mine.body.cart.items.map((i) => [i.id, i.quantity]), [[itemId, 99]], 'untouched');
});

// --- placing orders ------------------------------------------------------------

test('POST /api/orders: key required, 201 with the order, exact replay, a different body is idempotency_key_reused', async () => {
  const c = customer();
  await addToCart(c, A, 2);
  await addToCart(c, B, 1);
  const body = { storeId: OPEN, deliveryType: 'pickup', notes: 'ring twice' };
  const before = stock(OPEN, A);

  const noKey = await api('POST', '/api/orders', { headers: c.headers, body });
  assertError(noKey, 400, 'idempotency_key_required');
  assertError(await api('POST', '/api/orders', { body, headers: { 'idempotency-key': 'k' } }), 401, 'unauthorized');
  for (const key of ['x'.repeat(256), 'has space']) {
    const res = await place(c, body, key);
    assertError(res, 400, 'validation_failed');
    assert.ok(res.body.error.details.fields['Idempotency-Key'], res.text);
  }
  assert.equal((await api('GET', '/api/cart', { headers: c.headers })).body.cart.items.length, 2, 'nothing happened');

  const key = `order-${randomUUID()}`;
  const first = await place(c, body, key);
  assert.equal(first.status, 201, first.text);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const order = first.body.order;
  assert.match(order.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual([order.storeId, order.userId, order.status, order.deliveryType, order.notes, order.deliveryAddress],
    [OPEN, c.id, 'pending_payment', 'pickup', 'ring twice', null]);
  assert.deepEqual([order.subtotal, order.discount, order.total, order.currency], ['15.00', '0.00', '15.00', 'USD']);
  assert.deepEqual(order.items.map((i) => [i.productId, i.name, i.quantity, i.unitPrice, i.lineTotal]),
    [[A, 'E2E Apples', 2, '2.50', '5.00'], [B, 'E2E Bread', 1, '10.00', '10.00']]);
  const due = Date.parse(order.paymentDueAt) - Date.parse(order.createdAt);
  assert.ok(due > 14 * 60e3 && due <= 15 * 60e3 + 1000, `paymentDueAt is the reservation's expiry (${due} ms)`);
  assert.equal(order.paidAt, null);
  assert.deepEqual(order.history.map((h) => [h.from, h.to, h.actor, h.actorId]), [[null, 'pending_payment', 'customer', c.id]]);
  assert.deepEqual(stock(OPEN, A), { onHand: before.onHand, held: before.held + 2 }, 'the lines are held');
  assert.equal(sql(`SELECT r.expires_at = o.payment_due_at AND r.status = 'active' FROM multistore.orders o
                     JOIN multistore.reservations r ON r.id = o.reservation_id WHERE o.id = '${order.id}'`), 't');
  assert.deepEqual((await api('GET', '/api/cart', { headers: c.headers })).body.cart.items, [], 'the cart is emptied');

  // the same key and request, even written differently: the first answer again
  for (const again of [body, { notes: 'ring twice', deliveryType: 'pickup', storeId: OPEN }]) {
    const replay = await place(c, again, key);
    assert.equal(replay.status, 201, replay.text);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.text, first.text, 'the same body, byte for byte');
  }
  assert.equal(sql(`SELECT count(*) FROM multistore.orders WHERE user_id = '${c.id}'`), '1');
  assert.equal(stock(OPEN, A).held, before.held + 2, 'held once');

  // the same key with another request
  await addToCart(c, A, 1);
  const reused = await place(c, { ...body, notes: 'knock' }, key);
  assertError(reused, 422, 'idempotency_key_reused');
  assert.equal(reused.headers.get('idempotent-replayed'), null);
  // keys are per user: another customer's identical key is theirs alone
  const other = customer();
  assertError(await place(other, body, key), 400, 'cart_empty');
  assert.equal(sql(`SELECT count(*) FROM multistore.orders WHERE user_id = '${c.id}'`), '1');
});

test('a request refused before any work is not stored: the key can be used again', async () => {
  const c = customer();
  await addToCart(c, A, 1);
  const key = randomUUID();
  const bad = await place(c, { storeId: OPEN, deliveryType: 'drone', tip: 5 }, key);
  assertError(bad, 400, 'validation_failed');
  assert.deepEqual(Object.keys(bad.body.error.details.fields).sort(), ['deliveryType', 'tip']);
  const noAddress = await place(c, { storeId: OPEN, deliveryType: 'delivery' }, key);
  assertError(noAddress, 400, 'validation_failed');
  assert.deepEqual(Object.keys(noAddress.body.error.details.fields), ['deliveryAddress']);
  const halfPoint = await place(c, { storeId: OPEN, deliveryType: 'delivery',
    deliveryAddress: { line1: '1 Main St', city: 'New York', postalCode: '10036', latitude: 40.75 } }, key);
  assertError(halfPoint, 400, 'validation_failed');
  assert.deepEqual(Object.keys(halfPoint.body.error.details.fields), ['deliveryAddress.longitude']);
  const good = await place(c, { storeId: OPEN, deliveryType: 'pickup' }, key);
  assert.equal(good.status, 201, good.text);
  assert.equal(good.headers.get('idempotent-replayed'), null);
});

test('a stored out_of_stock refusal replays, even after stock arrives; a new key then succeeds', async () => {
  const c = customer();
  await addToCart(c, A, 1);
  await addToCart(c, SCARCE, 3);
  const before = { a: stock(OPEN, A), scarce: stock(OPEN, SCARCE) };
  const key = randomUUID();
  const body = { storeId: OPEN, deliveryType: 'pickup' };
  const refused = await place(c, body, key);
  assertError(refused, 409, 'out_of_stock');
  assert.equal(refused.headers.get('idempotent-replayed'), null);
  assert.deepEqual(refused.body.error.details.items, [{ productId: SCARCE, requested: 3, available: 1 }]);
  assert.deepEqual({ a: stock(OPEN, A), scarce: stock(OPEN, SCARCE) }, before, 'nothing held, all or nothing');
  assert.equal((await api('GET', '/api/cart', { headers: c.headers })).body.cart.items.length, 2, 'the cart is kept');

  const replay = await place(c, body, key);
  assertError(replay, 409, 'out_of_stock');
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual({ ...replay.body, requestId: 0 }, { ...refused.body, requestId: 0 }, 'the same answer, with this request\'s id');

  const restocked = await api('PUT', `/api/stores/${OPEN}/inventory/${SCARCE}`, { headers: admin.headers, body: { onHand: 10 } });
  assert.equal(restocked.status, 200);
  const still = await place(c, body, key);
  assertError(still, 409, 'out_of_stock');
  assert.equal(still.headers.get('idempotent-replayed'), 'true');
  const fresh = await place(c, body);
  assert.equal(fresh.status, 201, fresh.text);
  assert.equal(stock(OPEN, SCARCE).held, before.scarce.held + 3);
});

test('refusals: cart_empty, not_found, store_closed, store_not_accepting_orders, outside_delivery_area, product_unavailable', async () => {
  const c = customer();
  const refuse = async (body, status, code) => {
    const key = randomUUID();
    const res = await place(c, body, key);
    assertError(res, status, code);
    const replay = await place(c, body, key);
    assertError(replay, status, code);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true', `${code} is stored with its key`);
    return res.body.error.details;
  };
  await refuse({ storeId: OPEN, deliveryType: 'pickup' }, 400, 'cart_empty');

  await addToCart(c, A, 1);
  assert.equal((await refuse({ storeId: `${P}_nowhere`, deliveryType: 'pickup' }, 404, 'not_found')).resource, 'store');
  const closed = await refuse({ storeId: CLOSED, deliveryType: 'pickup' }, 409, 'store_closed');
  assert.equal(closed.storeId, CLOSED);
  assert.ok('nextOpensAt' in closed);
  assert.equal((await refuse({ storeId: PAUSED, deliveryType: 'pickup' }, 409, 'store_not_accepting_orders')).storeId, PAUSED);
  const chicago = { line1: '233 S Wacker Dr', city: 'Chicago', postalCode: '60606', latitude: 41.8789, longitude: -87.6359 };
  const far = await refuse({ storeId: OPEN, deliveryType: 'delivery', deliveryAddress: chicago }, 422, 'outside_delivery_area');
  assert.equal(far.deliveryRadiusKm, 5);
  assert.ok(far.distanceKm > 1000, `Chicago is far from Times Square (${far.distanceKm} km)`);

  await addToCart(c, FADING, 1);
  sql(`UPDATE multistore.products SET published = false WHERE id = '${FADING}'`);
  try {
    assert.equal((await api('GET', '/api/cart', { headers: c.headers })).body.cart.items.find((i) => i.productId === FADING).available, false);
    assert.deepEqual((await refuse({ storeId: OPEN, deliveryType: 'pickup' }, 409, 'product_unavailable')).productIds, [FADING]);
  } finally {
    sql(`UPDATE multistore.products SET published = true WHERE id = '${FADING}'`);
  }
  assert.equal(sql(`SELECT count(*) FROM multistore.orders WHERE user_id = '${c.id}'`), '0', 'no order for any refusal');
  assert.equal((await api('GET', '/api/cart', { headers: c.headers })).body.cart.items.length, 2, 'the cart is kept');

  // delivery within the radius needs no open store; an address without coordinates is taken as is
  const near = { line1: '1 Times Sq', city: 'New York', postalCode: '10036', latitude: 40.7570, longitude: -73.9860 };
  const delivered = await place(c, { storeId: CLOSED, deliveryType: 'delivery', deliveryAddress: near });
  assert.equal(delivered.status, 201, delivered.text);
  assert.deepEqual(delivered.body.order.deliveryAddress, near);
  await addToCart(c, A, 1);
  const plain = { line1: '1 Times Sq', city: 'New York', postalCode: '10036' };
  const noPoint = await place(c, { storeId: OPEN, deliveryType: 'delivery', deliveryAddress: plain });
  assert.equal(noPoint.status, 201, noPoint.text);
});

// --- reading orders --------------------------------------------------------------

test('GET /api/orders: the caller\'s own, newest first, cursor pagination', async () => {
  const c = customer();
  const placed = [];
  for (let i = 0; i < 3; i++) placed.push(await orderOf(c, [[A, i + 1]]));
  assertError(await api('GET', '/api/orders'), 401, 'unauthorized');

  const page1 = await api('GET', '/api/orders?limit=2', { headers: c.headers });
  assert.equal(page1.status, 200, page1.text);
  assert.deepEqual(page1.body.orders.map((o) => o.id), [placed[2].id, placed[1].id]);
  const summary = page1.body.orders[0];
  assert.deepEqual([summary.storeId, summary.status, summary.deliveryType, summary.total, summary.currency, summary.itemCount],
    [OPEN, 'pending_payment', 'pickup', '7.50', 'USD', 3]);
  assert.equal(typeof page1.body.nextCursor, 'string');
  const page2 = await api('GET', `/api/orders?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`, { headers: c.headers });
  assert.equal(page2.status, 200, page2.text);
  assert.deepEqual(page2.body.orders.map((o) => o.id), [placed[0].id]);
  assert.equal(page2.body.nextCursor, null);
  const all = await api('GET', '/api/orders', { headers: c.headers });
  assert.deepEqual(all.body.orders.map((o) => o.id), placed.map((o) => o.id).reverse());

  assert.deepEqual((await api('GET', '/api/orders', { headers: customer().headers })).body.orders, [], 'nobody else\'s');
  const badCursor = await api('GET', '/api/orders?cursor=garbage', { headers: c.headers });
  assertError(badCursor, 400, 'validation_failed');
  assert.ok(badCursor.body.error.details.fields.cursor);
  for (const limit of ['0', '101', 'two']) {
    assertError(await api('GET', `/api/orders?limit=${limit}`, { headers: c.headers }), 400, 'validation_failed');
  }
});

test('GET /api/orders/:id: its owner, a manager of its store, an admin; anyone else 404', async () => {
  const c = customer();
  const order = await orderOf(c, [[A, 1]]);
  for (const who of [c, manager, admin]) {
    const got = await getOrder(order, who);
    assert.equal(got.id, order.id);
    assert.deepEqual(got.items, order.items);
    assert.deepEqual(got.history, order.history);
  }
  assertError(await api('GET', `/api/orders/${order.id}`, { headers: customer().headers }), 404, 'not_found');
  assertError(await api('GET', `/api/orders/${order.id}`, { headers: otherManager.headers }), 404, 'not_found');
  assertError(await api('GET', `/api/orders/${randomUUID()}`, { headers: admin.headers }), 404, 'not_found');
  assertError(await api('GET', '/api/orders/not-a-uuid', { headers: admin.headers }), 404, 'not_found');
  assertError(await api('GET', `/api/orders/${order.id}`), 401, 'unauthorized');
});

test('GET /api/stores/:storeId/orders: managers of the store and admins, filtered by status', async () => {
  const c = customer();
  const pending = await orderOf(c, [[A, 1]]);
  const paid = await orderOf(c, [[B, 1]]);
  assert.equal((await pay(paid)).status, 200);

  const list = async (who, query = '') => {
    const res = await api('GET', `/api/stores/${OPEN}/orders${query}`, { headers: who.headers });
    assert.equal(res.status, 200, res.text);
    return res.body.orders;
  };
  for (const who of [manager, admin]) {
    const ids = (await list(who, '?limit=100')).map((o) => o.id);
    assert.ok(ids.includes(pending.id) && ids.includes(paid.id));
    assert.ok(ids.indexOf(paid.id) < ids.indexOf(pending.id), 'newest first');
  }
  const confirmed = await list(manager, '?status=confirmed&limit=100');
  assert.ok(confirmed.every((o) => o.status === 'confirmed'));
  assert.ok(confirmed.some((o) => o.id === paid.id) && !confirmed.some((o) => o.id === pending.id));
  const waiting = await list(manager, '?status=pending_payment&limit=100');
  assert.ok(waiting.every((o) => o.status === 'pending_payment') && waiting.some((o) => o.id === pending.id));
  const page = await api('GET', `/api/stores/${OPEN}/orders?limit=1`, { headers: manager.headers });
  assert.equal(page.body.orders.length, 1);
  assert.equal(typeof page.body.nextCursor, 'string');

  const bogus = await api('GET', `/api/stores/${OPEN}/orders?status=shipped`, { headers: manager.headers });
  assertError(bogus, 400, 'validation_failed');
  assert.ok(bogus.body.error.details.fields.status);
  assertError(await api('GET', `/api/stores/${OPEN}/orders`, { headers: c.headers }), 403, 'forbidden');
  assertError(await api('GET', `/api/stores/${OPEN}/orders`, { headers: otherManager.headers }), 403, 'forbidden');
  assertError(await api('GET', `/api/stores/${OPEN}/orders`), 401, 'unauthorized');
  assertError(await api('GET', `/api/stores/${P}_nowhere/orders`, { headers: admin.headers }), 404, 'not_found');
});

// --- the state machine -------------------------------------------------------------

test('pickup: paid, preparing, ready_for_pickup, completed; every other move is invalid_transition; history kept', async () => {
  const c = customer();
  const before = stock(OPEN, A);
  const order = await orderOf(c, [[A, 3]]);

  const early = await setStatus(order, manager, 'preparing');
  assertError(early, 409, 'invalid_transition');
  assert.deepEqual(early.body.error.details, { status: 'pending_payment', requested: 'preparing' });
  assertError(await setStatus(order, manager, 'confirmed'), 409, 'invalid_transition');
  assertError(await setStatus(order, c, 'preparing'), 403, 'forbidden');
  assertError(await setStatus(order, otherManager, 'preparing'), 404, 'not_found');
  assertError(await api('PUT', `/api/orders/${order.id}/status`, { body: { status: 'preparing' } }), 401, 'unauthorized');
  const badBody = await api('PUT', `/api/orders/${order.id}/status`, { headers: manager.headers, body: { status: 5, extra: 1 } });
  assertError(badBody, 400, 'validation_failed');
  assert.deepEqual(Object.keys(badBody.body.error.details.fields).sort(), ['extra', 'status']);

  const paid = await pay(order);
  assert.equal(paid.status, 200, paid.text);
  assert.deepEqual(paid.body, { status: 'confirmed', orderId: order.id });
  assert.deepEqual(stock(OPEN, A), { onHand: before.onHand - 3, held: before.held }, 'the hold became a sale');

  const steps = [['preparing', 'picking now'], ['ready_for_pickup'], ['completed', 'collected']];
  for (const [status, note] of steps) {
    if (status === 'ready_for_pickup') {
      const wrong = await setStatus(order, manager, 'out_for_delivery');
      assertError(wrong, 409, 'invalid_transition');
      assert.equal(wrong.body.error.details.status, 'preparing');
    }
    const res = await setStatus(order, manager, status, note);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.order.status, status);
  }
  for (const status of ['preparing', 'cancelled', 'delivered', 'pending_payment']) {
    const res = await setStatus(order, admin, status);
    assertError(res, 409, 'invalid_transition');
    assert.deepEqual(res.body.error.details, { status: 'completed', requested: status });
  }
  const unknown = await setStatus(order, admin, 'shipped');
  assertError(unknown, 400, 'validation_failed');
  assert.ok(unknown.body.error.details.fields.status, 'a status that does not exist is a bad field');
  assertError(await api('POST', `/api/orders/${order.id}/cancel`, { headers: admin.headers }), 409, 'invalid_transition');

  const done = await getOrder(order, c);
  assert.equal(done.status, 'completed');
  assert.ok(done.paidAt);
  assert.deepEqual(done.history.map((h) => [h.from, h.to, h.actor]), [
    [null, 'pending_payment', 'customer'], ['pending_payment', 'confirmed', 'payment'], ['confirmed', 'preparing', 'manager'],
    ['preparing', 'ready_for_pickup', 'manager'], ['ready_for_pickup', 'completed', 'manager']]);
  assert.deepEqual(done.history.map((h) => h.note).slice(2), ['picking now', null, 'collected']);
  assert.equal(done.history[2].actorId, manager.id);
  assert.ok(done.history.every((h, i) => i === 0 || Date.parse(h.at) >= Date.parse(done.history[i - 1].at)));
  assert.deepEqual(stock(OPEN, A), { onHand: before.onHand - 3, held: before.held });
});

test('delivery: paid, preparing, out_for_delivery, delivered (an admin may move it too)', async () => {
  const c = customer();
  const address = { line1: '1 Times Sq', city: 'New York', postalCode: '10036', latitude: 40.7570, longitude: -73.9860 };
  const order = await orderOf(c, [[B, 1]], { storeId: OPEN, deliveryType: 'delivery', deliveryAddress: address });
  assert.equal((await pay(order)).status, 200);
  assert.equal((await setStatus(order, manager, 'preparing')).status, 200);
  const wrong = await setStatus(order, manager, 'ready_for_pickup');
  assertError(wrong, 409, 'invalid_transition');
  assert.deepEqual(wrong.body.error.details, { status: 'preparing', requested: 'ready_for_pickup' });
  assert.equal((await setStatus(order, admin, 'out_for_delivery')).status, 200);
  assertError(await setStatus(order, admin, 'completed'), 409, 'invalid_transition');
  const delivered = await setStatus(order, admin, 'delivered');
  assert.equal(delivered.status, 200, delivered.text);
  assert.equal(delivered.body.order.status, 'delivered');
  assert.deepEqual(delivered.body.order.history.map((h) => h.to),
    ['pending_payment', 'confirmed', 'preparing', 'out_for_delivery', 'delivered']);
  assert.equal(delivered.body.order.history.at(-1).actorId, admin.id);
});

test('cancel: the owner while unpaid (releases) or confirmed (restocks), not after; managers later; 409 once cancelled', async () => {
  const c = customer();
  const start = stock(OPEN, B);

  const unpaid = await orderOf(c, [[B, 2]]);
  assert.equal(stock(OPEN, B).held, start.held + 2);
  assertError(await api('POST', `/api/orders/${unpaid.id}/cancel`), 401, 'unauthorized');
  assertError(await api('POST', `/api/orders/${unpaid.id}/cancel`, { headers: customer().headers }), 404, 'not_found');
  assertError(await api('POST', `/api/orders/${unpaid.id}/cancel`, { headers: otherManager.headers }), 404, 'not_found');
  const cancelled = await api('POST', `/api/orders/${unpaid.id}/cancel`, { headers: c.headers });
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.order.status, 'cancelled');
  assert.deepEqual(cancelled.body.order.history.at(-1), { ...cancelled.body.order.history.at(-1), from: 'pending_payment', to: 'cancelled', actor: 'customer', actorId: c.id });
  assert.deepEqual(stock(OPEN, B), start, 'the hold is released');
  const again = await api('POST', `/api/orders/${unpaid.id}/cancel`, { headers: c.headers });
  assertError(again, 409, 'invalid_transition');
  assert.equal(again.body.error.details.status, 'cancelled');

  const confirmed = await orderOf(c, [[B, 2]]);
  assert.equal((await pay(confirmed)).status, 200);
  assert.deepEqual(stock(OPEN, B), { onHand: start.onHand - 2, held: start.held });
  const restocked = await api('POST', `/api/orders/${confirmed.id}/cancel`, { headers: c.headers });
  assert.equal(restocked.status, 200, restocked.text);
  assert.equal(restocked.body.order.status, 'cancelled');
  assert.deepEqual(stock(OPEN, B), start, 'sold units are back on the shelf');

  const preparing = await orderOf(c, [[B, 1]]);
  assert.equal((await pay(preparing)).status, 200);
  assert.equal((await setStatus(preparing, manager, 'preparing')).status, 200);
  const late = await api('POST', `/api/orders/${preparing.id}/cancel`, { headers: c.headers });
  assertError(late, 409, 'invalid_transition');
  assert.equal(late.body.error.details.status, 'preparing');
  const byManager = await api('POST', `/api/orders/${preparing.id}/cancel`, { headers: manager.headers });
  assert.equal(byManager.status, 200, byManager.text);
  assert.deepEqual(byManager.body.order.history.at(-1).actor, 'manager');
  assert.deepEqual(stock(OPEN, B), start);
});

// --- payments ---------------------------------------------------------------------

test('payment webhook: a missing, malformed, stale or wrong signature is 401 invalid_signature and changes nothing', async () => {
  const c = customer();
  const order = await orderOf(c, [[A, 1]]);
  const event = { id: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: order.id, amount: Number(order.total), currency: 'USD' };
  const raw = JSON.stringify(event);
  const now = Math.floor(Date.now() / 1000);
  const good = paymentSignature(raw, { t: now });
  const mac = good.split('v1=')[1];
  for (const signature of [
    null, '', 'garbage', `t=${now}`, `v1=${mac}`, `t=abc,v1=${mac}`, `t=${now},v1=${mac.slice(2)}`, `t=${now},v1=${'zz'.repeat(32)}`,
    paymentSignature(raw, { t: now - 600 }), paymentSignature(raw, { t: now + 600 }),
    paymentSignature(raw, { secret: 'not-the-secret' }), paymentSignature(`${raw} `), `t=${now + 1},v1=${mac}`,
  ]) {
    assertError(await postPayment(event, { raw, signature }), 401, 'invalid_signature');
  }
  // the signature is checked before the body is even parsed
  assertError(await postPayment(event, { raw: '{not json', signature: paymentSignature(raw) }), 401, 'invalid_signature');
  assert.equal(sql(`SELECT count(*) FROM multistore.payment_events WHERE order_id = '${order.id}'`), '0');
  assert.equal((await getOrder(order, c)).status, 'pending_payment');

  // signed but malformed events are validation errors, recorded nowhere
  const invalid = await postPayment({ id: 'evt_x', type: 'payment.refunded', orderId: 'nope', amount: 'ten', currency: 'usd' });
  assertError(invalid, 400, 'validation_failed');
  assert.deepEqual(Object.keys(invalid.body.error.details.fields).sort(), ['amount', 'currency', 'orderId', 'type']);
  assertError(await postPayment(null, { raw: '{not json' }), 400, 'invalid_json');

  const ok = await postPayment(event, { raw, signature: good });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { status: 'confirmed', orderId: order.id });
  const confirmed = await getOrder(order, c);
  assert.equal(confirmed.status, 'confirmed');
  assert.ok(confirmed.paidAt);
  assert.equal(confirmed.history.at(-1).actor, 'payment');

  // the same event again: acknowledged, nothing changes
  const repeat = await postPayment(event);
  assert.equal(repeat.status, 200, repeat.text);
  assert.equal(repeat.body.status, 'duplicate');
  assert.deepEqual(await getOrder(order, c), confirmed);
  assert.equal(sql(`SELECT count(*) FROM multistore.payment_events WHERE id = '${event.id}'`), '1');
});

test('payment webhook: a wrong amount or currency is 422 payment_mismatch and recorded; the right one then confirms', async () => {
  const c = customer();
  const order = await orderOf(c, [[A, 2], [B, 1]]);
  assert.equal(order.total, '15.00');
  const short = await pay(order, { id: `evt_short_${order.id}`, amount: 14.99 });
  assertError(short, 422, 'payment_mismatch');
  assert.deepEqual(short.body.error.details, { expected: { amount: '15.00', currency: 'USD' }, received: { amount: '14.99', currency: 'USD' } });
  assertError(await pay(order, { currency: 'EUR' }), 422, 'payment_mismatch');
  assert.equal(sql(`SELECT string_agg(outcome, ',') FROM multistore.payment_events WHERE order_id = '${order.id}'`), 'mismatch,mismatch');
  assert.equal((await getOrder(order, c)).status, 'pending_payment');
  const repeat = await pay(order, { id: `evt_short_${order.id}`, amount: 14.99 });
  assert.equal(repeat.status, 200, 'a repeated event is a duplicate, whatever it was');
  assert.equal(repeat.body.status, 'duplicate');

  const paid = await pay(order, { amount: 15 });
  assert.equal(paid.status, 200, paid.text);
  assert.equal(paid.body.status, 'confirmed');
  // a second, different success for a paid order: a refund to make, nothing else
  const twice = await pay(order);
  assert.equal(twice.status, 200, twice.text);
  assert.equal(twice.body.status, 'refund_required');
  const after = await getOrder(order, c);
  assert.equal(after.status, 'confirmed');
});

test('payment.failed cancels and releases; success after cancel or expiry is recorded as a refund, never resurrects', async () => {
  const c = customer();
  const start = stock(OPEN, A);

  const failing = await orderOf(c, [[A, 2]]);
  const failed = await pay(failing, { type: 'payment.failed' });
  assert.equal(failed.status, 200, failed.text);
  assert.deepEqual(failed.body, { status: 'cancelled', orderId: failing.id });
  const f = await getOrder(failing, c);
  assert.equal(f.status, 'cancelled');
  assert.deepEqual(f.history.at(-1).actor, 'payment');
  assert.deepEqual(stock(OPEN, A), start, 'released');

  const cancelled = await orderOf(c, [[A, 2]]);
  assert.equal((await api('POST', `/api/orders/${cancelled.id}/cancel`, { headers: c.headers })).status, 200);
  const late = await pay(cancelled);
  assert.equal(late.status, 200, late.text);
  assert.deepEqual(late.body, { status: 'refund_required', orderId: cancelled.id });
  const cc = await getOrder(cancelled, c);
  assert.deepEqual([cc.status, cc.refundRequired, cc.paidAt], ['cancelled', true, null]);
  assert.deepEqual(stock(OPEN, A), start);

  // past its deadline: expired by the job, then paid
  const pushPast = (o) => sql(`
    WITH o AS (UPDATE multistore.orders SET payment_due_at = now() - interval '1 minute' WHERE id = '${o.id}' RETURNING reservation_id),
         r AS (UPDATE multistore.reservations SET expires_at = now() - interval '1 minute' WHERE id = (SELECT reservation_id FROM o))
    UPDATE multistore.reservation_holds SET expires_at = now() - interval '1 minute' WHERE reservation_id = (SELECT reservation_id FROM o)`);
  const expiring = await orderOf(c, [[A, 2]]);
  pushPast(expiring);
  sql('SELECT multistore.orders_expire()');  // (the concurrency file's job runs may get there first)
  const e = await getOrder(expiring, c);
  assert.equal(e.status, 'expired');
  assert.deepEqual(e.history.at(-1), { ...e.history.at(-1), from: 'pending_payment', to: 'expired', actor: 'system', actorId: null });
  assert.deepEqual(stock(OPEN, A), start, 'expiry released the hold');
  const afterExpiry = await pay(expiring);
  assert.equal(afterExpiry.status, 200, afterExpiry.text);
  assert.deepEqual(afterExpiry.body, { status: 'refund_required', orderId: expiring.id });
  const e2 = await getOrder(expiring, c);
  assert.deepEqual([e2.status, e2.refundRequired, e2.paidAt], ['expired', true, null]);
  assert.equal(sql(`SELECT r.status FROM multistore.reservations r JOIN multistore.orders o ON o.reservation_id = r.id
                     WHERE o.id = '${expiring.id}'`), 'expired');
  assert.deepEqual(stock(OPEN, A), start, 'nothing sold, nothing held');

  // past its deadline, the job not yet there: the payment itself writes it down as expired
  const overdue = await orderOf(c, [[A, 1]]);
  pushPast(overdue);
  const tooLate = await pay(overdue);
  assert.equal(tooLate.status, 200, tooLate.text);
  assert.equal(tooLate.body.status, 'refund_required');
  const o2 = await getOrder(overdue, c);
  assert.deepEqual([o2.status, o2.refundRequired, o2.paidAt], ['expired', true, null]);
  assert.equal(sql(`SELECT r.status FROM multistore.reservations r WHERE r.id = (SELECT reservation_id FROM multistore.orders
                     WHERE id = '${overdue.id}')`), 'expired');
  assert.deepEqual(stock(OPEN, A), start);

  // the sweep expired the hold while the payment waited for it (the order's own deadline
  // read a moment earlier): the reservation decides, the payment is late, not an error
  const raced = await orderOf(c, [[A, 1]]);
  sql(`WITH r AS (UPDATE multistore.reservations SET expires_at = now() - interval '1 second'
                   WHERE id = (SELECT reservation_id FROM multistore.orders WHERE id = '${raced.id}') RETURNING id)
       UPDATE multistore.reservation_holds SET expires_at = now() - interval '1 second' WHERE reservation_id = (SELECT id FROM r)`);
  sql('SELECT multistore.reservations_expire()');
  const racedPay = await pay(raced);
  assert.equal(racedPay.status, 200, racedPay.text);
  assert.equal(racedPay.body.status, 'refund_required');
  const r2 = await getOrder(raced, c);
  assert.deepEqual([r2.status, r2.refundRequired, r2.paidAt], ['expired', true, null]);
  assert.equal(sql(`SELECT outcome FROM multistore.payment_events WHERE order_id = '${raced.id}'`), 'refund_required');
  assert.deepEqual(stock(OPEN, A), start);

  // failed payment for an order that is no longer waiting: ignored
  const ignored = await pay(e2, { type: 'payment.failed' });
  assert.equal(ignored.status, 200);
  assert.equal(ignored.body.status, 'ignored');
  assert.equal((await getOrder(expiring, c)).status, 'expired');
  // an order nobody knows: acknowledged and ignored
  const unknown = await pay({ id: randomUUID(), total: '1.00', currency: 'USD' });
  assert.equal(unknown.status, 200);
  assert.equal(unknown.body.status, 'ignored');
  assert.equal(sql(`SELECT outcome FROM multistore.payment_events WHERE order_id = '${expiring.id}' AND type = 'payment.succeeded'`), 'refund_required');
});
