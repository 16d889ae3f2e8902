// Orders under concurrency, over HTTP: one Idempotency-Key sent twenty times
// at once makes one order; fifty customers racing for ten units buy exactly
// ten; payment webhooks racing the expiry job leave every order in one
// consistent state.  Fixtures are this file's own (e2e_ordc_<pid>...).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, sql, sqlAsync, assertError, createUser, createUsers, postPayment } from './helpers.mjs';

const P = `e2e_ordc_${process.pid}`;
const STORE = `${P}_store`;
const PLENTY = `${P}_plenty`;  // 1000 units
const HOT = `${P}_hot`;        // exactly 10 units
const RACE = `${P}_race`;      // 100 units, for the payment race

const admin = createUser({ role: 'admin', tag: 'ordc-admin' });
const users = [admin];
const ALWAYS = Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']
  .map((d) => [d, [{ opens: '00:00', closes: '24:00' }]]));
const created = await api('POST', '/api/stores', {
  headers: admin.headers,
  body: { id: STORE, name: 'E2E concurrency', address: '1540 Broadway, New York, NY', location: { latitude: 40.758, longitude: -73.9855 },
    timeZone: 'America/New_York', openingHours: ALWAYS },
});
assert.equal(created.status, 201, created.text);
sql(`INSERT INTO multistore.products (id, sku, name, price, currency) VALUES
  ('${PLENTY}', '${PLENTY}', 'E2E Plenty', 1.25, 'USD'), ('${HOT}', '${HOT}', 'E2E Hot', 99.00, 'USD'),
  ('${RACE}', '${RACE}', 'E2E Race', 3.10, 'USD')`);
for (const [product, onHand] of [[PLENTY, 1000], [HOT, 10], [RACE, 100]]) {
  const res = await api('PUT', `/api/stores/${STORE}/inventory/${product}`, { headers: admin.headers, body: { onHand } });
  assert.equal(res.status, 200, res.text);
}

after(() => {
  sql(`DELETE FROM multistore.payment_events WHERE order_id IN (SELECT id FROM multistore.orders WHERE store_id = '${STORE}');
       DELETE FROM multistore.orders WHERE store_id = '${STORE}';
       DELETE FROM multistore.cart_items WHERE product_id LIKE '${P}\\_%';
       DELETE FROM multistore.stores WHERE id = '${STORE}';
       DELETE FROM multistore.products WHERE id LIKE '${P}\\_%';
       DELETE FROM multistore.users WHERE id IN (${users.map((u) => `'${u.id}'`).join(', ')})`);
});

const customers = (n) => { const list = createUsers(n, { tag: 'ordc-customer' }); users.push(...list); return list; };

async function addToCart(user, productId, quantity) {
  const res = await api('POST', '/api/cart/items', { headers: user.headers, body: { productId, quantity } });
  assert.equal(res.status, 201, res.text);
}

const place = (user, key = randomUUID(), body = { storeId: STORE, deliveryType: 'pickup' }) =>
  api('POST', '/api/orders', { headers: { ...user.headers, 'idempotency-key': key }, body });

// What the tables say about a product at the store
function inventory(product) {
  const [onHand, held, activeHolds, sold] = sql(`
    SELECT (SELECT coalesce(sum(on_hand), 0) FROM multistore.inventory WHERE store_id = '${STORE}' AND product_id = '${product}')
           || ' ' || (SELECT coalesce(sum(held), 0) FROM multistore.inventory WHERE store_id = '${STORE}' AND product_id = '${product}')
           || ' ' || (SELECT coalesce(sum(quantity), 0) FROM multistore.reservation_holds
                       WHERE store_id = '${STORE}' AND product_id = '${product}' AND state = 'active')
           || ' ' || (SELECT coalesce(sum(quantity), 0) FROM multistore.order_items WHERE store_id = '${STORE}' AND product_id = '${product}')`)
    .split(' ').map(Number);
  return { onHand, held, activeHolds, sold };
}

const available = async (product) =>
  (await api('GET', `/api/stores/${STORE}/availability?productIds=${product}`)).body.products[0].available;

test('20 simultaneous POST /api/orders with one key: one order; the rest replay it or get idempotency_key_in_use', async (t) => {
  const [c] = customers(1);
  await addToCart(c, PLENTY, 2);
  const before = inventory(PLENTY);
  const key = `burst-${randomUUID()}`;
  const answers = await Promise.all(Array.from({ length: 20 }, () => place(c, key)));

  const originals = answers.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
  const replays = answers.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === 'true');
  const inUse = answers.filter((r) => r.status === 409);
  assert.equal(originals.length, 1, `one original: ${answers.map((r) => r.status).join(',')}`);
  assert.equal(originals.length + replays.length + inUse.length, 20, answers.map((r) => r.text).join('\n'));
  t.diagnostic(`1 original, ${replays.length} replays, ${inUse.length} idempotency_key_in_use`);
  for (const r of replays) assert.equal(r.text, originals[0].text, 'a replay is the first answer, byte for byte');
  for (const r of inUse) assertError(r, 409, 'idempotency_key_in_use');

  const order = originals[0].body.order;
  assert.equal(sql(`SELECT count(*) FROM multistore.orders WHERE user_id = '${c.id}'`), '1');
  assert.equal(sql(`SELECT count(*) FROM multistore.idempotency_keys WHERE user_id = '${c.id}'`), '1');
  assert.equal(sql(`SELECT order_id FROM multistore.idempotency_keys WHERE user_id = '${c.id}'`), order.id);
  const now = inventory(PLENTY);
  assert.equal(now.held - before.held, 2, 'held once');
  assert.equal(now.activeHolds, now.held);

  // once the dust settles, the key only ever replays
  const later = await place(c, key);
  assert.equal(later.status, 201);
  assert.equal(later.headers.get('idempotent-replayed'), 'true');
  assert.equal(later.text, originals[0].text);
});

test('while the first request with a key is in flight, the same key gets 409 idempotency_key_in_use', async (t) => {
  const [c] = customers(1);
  await addToCart(c, PLENTY, 1);
  // another session holds the customer's cart row, so the first request stalls inside its transaction
  const marker = `e2e-blocker-${randomUUID()}`;
  const blocker = sqlAsync(`/* ${marker} */ BEGIN; SELECT 1 FROM multistore.carts WHERE user_id = '${c.id}' FOR UPDATE;
                            SELECT pg_sleep(0.8); COMMIT;`);
  for (let i = 0; i < 100 && sql(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND wait_event = 'PgSleep'`) === '0'; i++) {
    await sleep(10);
  }
  const key = `held-${randomUUID()}`;
  const first = place(c, key);
  await sleep(150);
  const others = await Promise.all(Array.from({ length: 19 }, () => place(c, key)));
  const original = await first;
  await blocker;
  assert.equal(original.status, 201, original.text);
  assert.equal(original.headers.get('idempotent-replayed'), null);
  const inUse = others.filter((r) => r.status === 409);
  t.diagnostic(`${inUse.length} of 19 idempotency_key_in_use while the first was held`);
  assert.ok(inUse.length >= 1, others.map((r) => r.status).join());
  for (const r of others) {
    if (r.status === 409) assertError(r, 409, 'idempotency_key_in_use');
    else assert.deepEqual([r.status, r.headers.get('idempotent-replayed'), r.text], [201, 'true', original.text]);
  }
  assert.equal(sql(`SELECT count(*) FROM multistore.orders WHERE user_id = '${c.id}'`), '1');
  const retried = await place(c, key);
  assert.deepEqual([retried.status, retried.headers.get('idempotent-replayed'), retried.text], [201, 'true', original.text]);
});

test('50 customers race for 10 units: exactly 10 orders, 40 out_of_stock, stock consistent', async () => {
  const racers = customers(50);
  await Promise.all(racers.map((c) => addToCart(c, HOT, 1)));
  assert.equal(await available(HOT), 10);

  const answers = await Promise.all(racers.map((c) => place(c)));
  const won = answers.filter((r) => r.status === 201);
  const lost = answers.filter((r) => r.status !== 201);
  assert.equal(won.length, 10, `statuses: ${answers.map((r) => r.status).join(',')}`);
  assert.equal(lost.length, 40);
  for (const r of lost) {
    assertError(r, 409, 'out_of_stock');
    assert.deepEqual(r.body.error.details.items, [{ productId: HOT, requested: 1, available: 0 }]);
  }
  for (const r of won) assert.deepEqual(r.body.order.items.map((i) => [i.productId, i.quantity]), [[HOT, 1]]);

  const ids = racers.map((c) => `'${c.id}'`).join(',');
  assert.equal(sql(`SELECT count(*) FROM multistore.orders WHERE user_id IN (${ids})`), '10');
  assert.deepEqual(inventory(HOT), { onHand: 10, held: 10, activeHolds: 10, sold: 10 });
  assert.equal(await available(HOT), 0);
  // the losers keep their carts, the winners' carts are empty
  const carts = sql(`SELECT count(*) FROM multistore.cart_items ci JOIN multistore.carts c ON c.id = ci.cart_id
                      WHERE c.user_id IN (${ids}) AND ci.product_id = '${HOT}'`);
  assert.equal(carts, '40');

  // five pay and five cancel, all at once: five sold, five back on the shelf
  const orders = won.map((r) => r.body.order);
  const byId = new Map(racers.map((c) => [c.id, c]));
  const settled = await Promise.all(orders.map((o, i) => (i < 5
    ? postPayment({ id: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: o.id, amount: 99, currency: 'USD' })
    : api('POST', `/api/orders/${o.id}/cancel`, { headers: byId.get(o.userId).headers }))));
  for (const r of settled) assert.equal(r.status, 200, r.text);
  assert.deepEqual(inventory(HOT), { onHand: 5, held: 0, activeHolds: 0, sold: 10 });
  assert.equal(await available(HOT), 5);
});

test('payment webhooks racing the expiry job: every order ends confirmed and sold, or expired and released with a refund', async (t) => {
  const N = 21;
  const buyers = customers(N);
  await Promise.all(buyers.map((c) => addToCart(c, RACE, 1 + (buyers.indexOf(c) % 3))));
  const placed = await Promise.all(buyers.map((c) => place(c)));
  for (const r of placed) assert.equal(r.status, 201, r.text);
  const orders = placed.map((r) => r.body.order);
  const start = inventory(RACE);
  assert.equal(start.held, orders.reduce((n, o) => n + o.items[0].quantity, 0));

  // a third overdue already, a third not due for long, and a third due right
  // when its payment arrives (a few ms either side): a true race with the job
  const base = Date.now() + 600;
  const plan = orders.map((o, i) => {
    const sendAt = base + 20 * i;
    const dueAt = i % 3 === 0 ? base - 60000 : i % 3 === 1 ? sendAt + [-2, 3, 5, 7, 9, 14, 1][Math.floor(i / 3) % 7] : base + 600000;
    return { order: o, sendAt, dueAt, group: ['overdue', 'racing', 'not due'][i % 3] };
  });
  sql(`WITH d(id, due) AS (VALUES ${plan.map((p) => `('${p.order.id}'::uuid, to_timestamp(${p.dueAt / 1000}))`).join(', ')}),
            o AS (UPDATE multistore.orders o SET payment_due_at = d.due FROM d WHERE o.id = d.id
                  RETURNING o.reservation_id, o.payment_due_at),
            r AS (UPDATE multistore.reservations r SET expires_at = o.payment_due_at
                    FROM o WHERE r.id = o.reservation_id RETURNING r.id, r.expires_at)
       UPDATE multistore.reservation_holds h SET expires_at = r.expires_at FROM r WHERE h.reservation_id = r.id`);

  const lastDue = base + 20 * N + 20;
  const webhooks = plan.map(async (p) => {
    await sleep(p.sendAt - Date.now());
    return postPayment({ id: `evt_race_${p.order.id}`, type: 'payment.succeeded', orderId: p.order.id, amount: Number(p.order.total), currency: 'USD' });
  });
  const jobs = (async () => {
    let runs = 0;
    await sleep(base - 100 - Date.now());
    while (Date.now() < lastDue + 100 && runs < 60) {
      await Promise.all([sqlAsync('SELECT multistore.orders_expire()'), runs % 4 === 0 ? sqlAsync('SELECT multistore.reservations_expire()') : null]);
      runs++;
      await sleep(15);
    }
    return runs;
  })();
  const [answers, runs] = await Promise.all([Promise.all(webhooks), jobs]);
  assert.ok(runs > 0);
  // whatever is still unpaid and overdue now is the job's
  await sleep(Math.max(0, lastDue - Date.now()));
  await sqlAsync('SELECT multistore.orders_expire()');

  for (const [i, r] of answers.entries()) {
    assert.equal(r.status, 200, `order ${i}: ${r.text}`);
    assert.ok(['confirmed', 'refund_required'].includes(r.body.status), r.text);
  }
  const rows = sql(`
    SELECT o.id, o.status, r.status, o.refund_required, o.paid_at IS NOT NULL,
           (SELECT string_agg(DISTINCT h.state, '+') FROM multistore.reservation_holds h WHERE h.reservation_id = r.id),
           (SELECT string_agg(e.outcome, '+') FROM multistore.payment_events e WHERE e.order_id = o.id)
      FROM multistore.orders o JOIN multistore.reservations r ON r.id = o.reservation_id
     WHERE o.id IN (${orders.map((o) => `'${o.id}'`).join(',')})`).split('\n').map((l) => l.split('|'));
  assert.equal(rows.length, N);
  const answerOf = new Map(orders.map((o, i) => [o.id, answers[i].body.status]));
  const outcomes = { overdue: [], racing: [], 'not due': [] };
  let confirmed = 0;
  let sold = 0;
  for (const [id, status, reservation, refund, paid, holds, outcome] of rows) {
    const what = `${id}: order ${status}, reservation ${reservation}, holds ${holds}, refund ${refund}, payment ${outcome}`;
    if (status === 'confirmed') {
      assert.deepEqual([reservation, holds, refund, paid, outcome, answerOf.get(id)], ['consumed', 'consumed', 'f', 't', 'confirmed', 'confirmed'], what);
      confirmed++;
      sold += orders.find((o) => o.id === id).items[0].quantity;
    } else {
      assert.equal(status, 'expired', what);
      assert.ok(['expired', 'released'].includes(reservation), what);
      assert.ok(['expired', 'released'].includes(holds), what);
      assert.deepEqual([refund, paid, outcome, answerOf.get(id)], ['t', 'f', 'refund_required', 'refund_required'], what);
    }
  }
  // the overdue third can only have expired, the third not yet due can only have been paid
  for (const p of plan) outcomes[p.group].push(rows.find((r) => r[0] === p.order.id)[1]);
  assert.ok(outcomes.overdue.every((s) => s === 'expired'), outcomes.overdue.join());
  assert.ok(outcomes['not due'].every((s) => s === 'confirmed'), outcomes['not due'].join());
  t.diagnostic(`${confirmed} confirmed; racing third: ${outcomes.racing.join(', ')}; the job ran ${runs + 1} times`);
  assert.deepEqual(inventory(RACE), { onHand: start.onHand - sold, held: 0, activeHolds: 0, sold: start.sold });
  assert.equal(await available(RACE), start.onHand - sold);
});
