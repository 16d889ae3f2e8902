// Real time over real sockets: WebSocket (/ws, the ws package) and SSE
// (/api/events).  Who sees what, only committed changes, resuming, the
// listener's backend killed under traffic, bad clients, revoked sessions,
// slow clients, shutdown.  Stores, products and accounts are this file's
// own (e2e_rt_<pid>...).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  api, sql, sqlAsync, assertError, createUser, login, nodeRequest, postPayment, BASE,
} from './helpers.mjs';
import {
  openWs, openSse, rawWs, frame, startProxy, portNear, sleep, WS_BASE,
} from './realtime_helpers.mjs';

const P = `e2e_rt_${process.pid}`;
const STORE = `${P}_s`;
const QUIET = `${P}_q`; // a store of its own for the tests that count events
const A = `${P}_a`;
const B = `${P}_b`;
const C = `${P}_c`;

const admin = createUser({ role: 'admin', tag: 'rt-admin' });
const otherManager = createUser({ role: 'store_manager', stores: ['store_2'], tag: 'rt-manager2' });
const [alice, bob] = [createUser({ tag: 'rt-alice' }), createUser({ tag: 'rt-bob' })];
const ALWAYS = Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']
  .map((d) => [d, [{ opens: '00:00', closes: '24:00' }]]));
for (const id of [STORE, QUIET]) {
  const res = await api('POST', '/api/stores', {
    headers: admin.headers,
    body: { id, name: `E2E ${id}`, address: '1 Realtime Road, New York, NY', location: { latitude: 40.758, longitude: -73.9855 },
      timeZone: 'America/New_York', openingHours: ALWAYS, deliveryRadiusKm: 5 },
  });
  assert.equal(res.status, 201, res.text);
}
const manager = createUser({ role: 'store_manager', stores: [STORE, QUIET], tag: 'rt-manager' });
sql(`INSERT INTO multistore.products (id, sku, name, price, currency) VALUES
  ('${A}', '${A}', 'E2E RT Apples', 2.50, 'USD'), ('${B}', '${B}', 'E2E RT Bread', 10.00, 'USD'),
  ('${C}', '${C}', 'E2E RT Cheese', 4.00, 'USD')`);
for (const [store, product] of [[STORE, A], [STORE, B], [QUIET, A], [QUIET, B], [QUIET, C]]) {
  const res = await api('PUT', `/api/stores/${store}/inventory/${product}`, { headers: manager.headers, body: { onHand: 10 } });
  assert.equal(res.status, 200, res.text);
}

const open = [];
const track = (client) => { open.push(client); return client; };
after(() => {
  for (const c of open) { try { c.close(); } catch { /* gone */ } }
  sql(`DELETE FROM multistore.orders WHERE store_id IN ('${STORE}', '${QUIET}');
       DELETE FROM multistore.reservations WHERE store_id IN ('${STORE}', '${QUIET}');
       DELETE FROM multistore.carts WHERE user_id IN ('${alice.id}', '${bob.id}');
       DELETE FROM multistore.events WHERE store_id IN ('${STORE}', '${QUIET}');
       DELETE FROM multistore.stores WHERE id IN ('${STORE}', '${QUIET}');
       DELETE FROM multistore.products WHERE id IN ('${A}', '${B}', '${C}')`);
});

// Places an order of one product for a user; returns its id
async function placeOrder(user, product = A) {
  let res = await api('POST', '/api/cart/items', { headers: user.headers, body: { productId: product, quantity: 1, storeId: STORE } });
  assert.equal(res.status, 201, res.text);
  res = await api('POST', '/api/orders', {
    headers: { ...user.headers, 'idempotency-key': randomUUID() }, body: { storeId: STORE, deliveryType: 'pickup' },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.order.id;
}

const orderEvents = (client, orderId) => client.events().filter((e) => e.data?.orderId === orderId);
const summary = (e) => (e.type === 'order.status_changed' ? `${e.type} ${e.data.from}>${e.data.to}` : e.type);

test('a customer sees her order created and every change, nothing of another customer\'s; the manager sees both', { timeout: 30000 }, async () => {
  const ticket = await api('POST', '/api/realtime/ticket', { headers: alice.headers });
  assert.equal(ticket.status, 201, ticket.text);
  const aliceWs = track(openWs('/ws', { headers: alice.headers }));
  const bobWs = track(openWs('/ws', { headers: bob.headers }));
  const managerWs = track(openWs('/ws', { headers: manager.headers }));
  const otherWs = track(openWs('/ws', { headers: otherManager.headers }));
  const aliceSse = track(openSse(`/api/events?ticket=${ticket.body.ticket}`));
  await Promise.all([aliceWs.ready, bobWs.ready, managerWs.ready, otherWs.ready, aliceSse.ready]);
  assert.equal(aliceSse.status, 200);
  assert.match(aliceSse.headers['content-type'], /^text\/event-stream/);

  const mine = await placeOrder(alice);
  const theirs = await placeOrder(bob, B);
  const pay = await postPayment({ id: `evt_${P}_1`, type: 'payment.succeeded', orderId: mine, amount: 2.5, currency: 'USD' });
  assert.equal(pay.status, 200, pay.text);
  for (const status of ['preparing', 'ready_for_pickup', 'completed']) {
    const res = await api('PUT', `/api/orders/${mine}/status`, { headers: manager.headers, body: { status } });
    assert.equal(res.status, 200, res.text);
  }
  const expected = ['order.created', 'order.status_changed pending_payment>confirmed', 'order.payment_succeeded',
    'order.status_changed confirmed>preparing', 'order.status_changed preparing>ready_for_pickup',
    'order.status_changed ready_for_pickup>completed'];
  for (const client of [aliceWs, aliceSse, managerWs]) {
    for (const want of expected) await client.inbox.next((e) => e.data?.orderId === mine && summary(e) === want, 5000, want);
    assert.deepEqual(orderEvents(client, mine).map(summary), expected, 'in commit order, each once');
  }
  await bobWs.inbox.next((e) => e.data?.orderId === theirs && e.type === 'order.created', 5000, 'bob\'s own order');
  await managerWs.inbox.next((e) => e.data?.orderId === theirs, 5000, 'the manager sees bob\'s order too');
  await sleep(300);
  assert.deepEqual(orderEvents(aliceWs, theirs), [], 'alice sees nothing of bob\'s order');
  assert.deepEqual(orderEvents(aliceSse, theirs), [], 'nor does her event stream');
  assert.deepEqual(orderEvents(bobWs, mine), [], 'bob sees nothing of alice\'s order');
  assert.deepEqual(otherWs.events().filter((e) => e.data?.storeId === STORE), [], 'another store\'s manager sees nothing');
  const created = orderEvents(aliceWs, mine)[0];
  assert.equal(typeof created.id, 'number');
  assert.match(created.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(Object.keys(created).sort(), ['at', 'data', 'id', 'type']);
  assert.equal(orderEvents(aliceSse, mine)[0].sseId, String(created.id), 'SSE frames carry the id');
  for (const c of [aliceWs, bobWs, managerWs, otherWs]) await c.close();
  aliceSse.close();
});

test('an anonymous store subscriber sees inventory.changed with what is available after a reservation', { timeout: 20000 }, async () => {
  const kiosk = track(openWs(`/ws?stores=${STORE}`));
  const later = track(openWs('/ws'.concat(`?stores=${QUIET}`)));
  await Promise.all([kiosk.ready, later.ready]);
  later.ws.send(JSON.stringify({ type: 'subscribe', stores: [STORE] }));
  assert.deepEqual((await later.inbox.next((m) => m.type === 'subscribed')).stores.sort(), [QUIET, STORE].sort());
  const before = (await api('GET', `/api/stores/${STORE}/availability?productIds=${B}`)).body.products[0].available;
  const res = await api('POST', `/api/stores/${STORE}/reservations`, { headers: manager.headers, body: { items: [{ productId: B, quantity: 3 }] } });
  assert.equal(res.status, 201, res.text);
  for (const client of [kiosk, later]) {
    const ev = await client.inbox.next((e) => e.type === 'inventory.changed' && e.data.productId === B, 5000, 'inventory.changed');
    assert.deepEqual(ev.data, { storeId: STORE, productId: B, available: before - 3 });
  }
  assert.equal(kiosk.events().filter((e) => e.type.startsWith('order.')).length, 0, 'no order events for nobody');
  later.ws.send(JSON.stringify({ type: 'unsubscribe', stores: [STORE] }));
  assert.deepEqual((await later.inbox.next((m) => m.type === 'unsubscribed')).stores, [QUIET]);
  later.ws.send('{"type":"subscribe","stores":["bad id!"]}');
  assert.equal((await later.inbox.next((m) => m.type === 'error')).error.code, 'validation_failed');
  await kiosk.close();
  await later.close();
});

test('a rolled-back transaction announces nothing', { timeout: 20000 }, async () => {
  const watcher = track(openWs(`/ws?stores=${QUIET}`));
  await watcher.ready;
  // refused over HTTP (the reservation rolls back) and rolled back in SQL
  const refused = await api('POST', `/api/stores/${QUIET}/reservations`, { headers: manager.headers, body: { items: [{ productId: A, quantity: 999 }] } });
  assertError(refused, 409, 'out_of_stock');
  sql(`BEGIN; SELECT multistore.inventory_set('${manager.sessionId}', '${QUIET}', '${A}', '{"onHand":99}'); ROLLBACK;`);
  sql(`SELECT multistore.inventory_set('${manager.sessionId}', '${QUIET}', '${C}', '{"onHand":5}')`);
  const first = await watcher.inbox.next((e) => e.type === 'inventory.changed', 5000, 'the committed change');
  assert.deepEqual(first.data, { storeId: QUIET, productId: C, available: 5 }, 'the first event is the committed change');
  await sleep(300);
  assert.deepEqual(watcher.events().map((e) => e.data.productId), [C], 'nothing of the refused or rolled-back ones');
  await watcher.close();
});

test('multistore.notify_stock_events: on, stock changes are pushed at commit; off, they wait for the log read', { timeout: 60000 }, async () => {
  // a proxy that reads the log only every 10 s: a change that arrives within
  // a second was NOTIFYed (one read can fall into the 4.8 s this takes, at most)
  const proxy = await startProxy(portNear(54), { REALTIME_POLL_INTERVAL_MS: '10000' });
  try {
    const watcher = track(openWs(`/ws?stores=${QUIET}`, { base: proxy.wsBase }));
    await watcher.ready;
    const fastOnes = async (notify, first) => {
      let fast = 0;
      for (let k = 0; k < 4; k++) {
        const onHand = first + k;
        await sqlAsync(`SET multistore.notify_stock_events = ${notify};
          SELECT multistore.inventory_set('${manager.sessionId}', '${QUIET}', '${C}', '{"onHand":${onHand}}')`);
        const t0 = Date.now();
        try {
          await watcher.inbox.next((e) => e.type === 'inventory.changed' && e.data.productId === C && e.data.available >= onHand, 1000);
          fast++;
          await sleep(Math.max(0, 1200 - (Date.now() - t0)));
        } catch { /* not within the second */ }
      }
      return fast;
    };
    assert.equal(await fastOnes('on', 100), 4, 'on: every change arrives within a second');
    assert.ok(await fastOnes('off', 200) <= 1, 'off: at most the one a log read happened to catch');
    await watcher.inbox.next((e) => e.type === 'inventory.changed' && e.data.productId === C && e.data.available >= 203, 12000, 'the last change, by the log read');
    await watcher.close();
  } finally { await proxy.stop(); }
});

test('resume: three changes while away arrive in order on reconnecting, with since and with Last-Event-ID', { timeout: 20000 }, async () => {
  for (const transport of ['ws', 'sse']) {
    const first = track(transport === 'ws' ? openWs(`/ws?stores=${QUIET}`) : openSse(`/api/events?stores=${QUIET}`));
    await first.ready;
    sql(`SELECT multistore.inventory_set('${manager.sessionId}', '${QUIET}', '${A}', '{"onHand":20}')`);
    const seen = await first.inbox.next((e) => e.type === 'inventory.changed', 5000, 'a first event');
    first.close();
    await sleep(100);
    for (const [product, n] of [[A, 21], [B, 22], [C, 23]])
      sql(`SELECT multistore.inventory_set('${manager.sessionId}', '${QUIET}', '${product}', '{"onHand":${n}}')`);
    const again = track(transport === 'ws' ? openWs(`/ws?stores=${QUIET}&since=${seen.id}`)
      : openSse(`/api/events?stores=${QUIET}`, { headers: { 'last-event-id': String(seen.id) } }));
    await again.ready;
    await sleep(300);
    assert.deepEqual(again.events().map((e) => `${e.data.productId} ${e.data.available}`),
      [`${A} 21`, `${B} 22`, `${C} 23`],
      `${transport}: exactly the three, in order (since ${seen.id}; got ids ${again.events().map((e) => e.id)})`);
    again.close();
  }
});

test('live events go out in id order: an order\'s stock events before its order.created, so resuming from the order event misses none', { timeout: 40000 }, async () => {
  // Stock events have no NOTIFY (events.h): on a proxy that polls the log only every 3 s, a listener that
  // sent the notified order.created at once left the stock events of its own transaction (lower ids) for
  // the next poll; a client that resumed from the order event's id, as it should, never got them (the soak
  // found it: inventory.changed arriving after order.* on one connection)
  const proxy = await startProxy(portNear(54), { REALTIME_POLL_INTERVAL_MS: '3000' });
  try {
    for (let i = 0; i < 50 && !/^multistore_realtime_listener_up 1$/m.test(await (await fetch(`${proxy.base}/metrics`)).text()); i++) await sleep(100);
    for (const transport of ['ws', 'sse']) {
      const open = (query, headers = {}) => track(transport === 'ws'
        ? openWs(`/ws?stores=${STORE}${query}`, { base: proxy.wsBase, headers: { ...alice.headers, ...headers } })
        : openSse(`/api/events?stores=${STORE}`, { base: proxy.base, headers: { ...alice.headers, ...headers } }));
      const first = open('');
      await first.ready;
      const orderId = await placeOrder(alice);
      const created = await first.inbox.next((e) => e.type === 'order.created' && e.data.orderId === orderId, 5000, 'order.created');
      const before = first.events().map((e) => e.id);
      first.close();
      const stock = sql(`SELECT string_agg(l.id::text, ',' ORDER BY l.id) FROM multistore.events l JOIN multistore.events a ON a.id = ${created.id}
                          WHERE l.xid = a.xid AND l.id < a.id AND l.type = 'inventory.changed'`).split(',').map(Number);
      assert.ok(stock.length > 0 && stock.every((id) => id > 0), `the order's transaction wrote stock events (${stock})`);
      assert.deepEqual(before.filter((id) => id <= created.id).slice(-stock.length - 1), [...stock, created.id],
        `${transport}: the order's stock events came before its order.created, in id order (got ${before})`);
      // resuming from the highest id it has: nothing of that transaction is missing, even after the next poll
      const again = transport === 'ws' ? open(`&since=${created.id}`) : open('', { 'last-event-id': String(created.id) });
      await again.ready;
      await sleep(3500);
      const got = new Set([...before, ...again.events().map((e) => e.id)]);
      assert.deepEqual(stock.filter((id) => !got.has(id)), [], `${transport}: no stock event of the order lost across the resume`);
      again.close();
    }
  } finally {
    await proxy.stop();
  }
});

test('an event stream whose client went away is let go of within seconds, not after two heartbeats: its slot and socket', { timeout: 30000 }, async () => {
  // a suspended stream is not watched by libmicrohttpd: the proxy learnt that its peer had gone only when a
  // write failed, the second heartbeat after (30 s by default); meanwhile the stream held a socket and one of
  // its user's REALTIME_MAX_PER_USER (the soak found it: the SSE gauge stayed up after its clients closed)
  const proxy = await startProxy(portNear(55), { REALTIME_MAX_PER_USER: '2' });
  const sseGauge = async () => Number((await (await fetch(`${proxy.base}/metrics`)).text())
    .match(/^multistore_realtime_clients\{transport="sse"\} (\d+)$/m)[1]);
  try {
    const streams = [0, 1].map(() => track(openSse(`/api/events?stores=${QUIET}`, { base: proxy.base, headers: bob.headers })));
    await Promise.all(streams.map((c) => c.ready));
    assert.equal(await sseGauge(), 2);
    for (const c of streams) c.close();
    const t0 = Date.now();
    while (await sseGauge() !== 0 && Date.now() - t0 < 5000) await sleep(100);
    assert.equal(await sseGauge(), 0, `the streams were let go of within 5 s (heartbeats every 15 s)`);
    // and their user may open REALTIME_MAX_PER_USER streams again at once
    let again;
    for (let i = 0; i < 20; i++) {
      again = [0, 1].map(() => track(openSse(`/api/events?stores=${QUIET}`, { base: proxy.base, headers: bob.headers })));
      await Promise.all(again.map((c) => c.response));
      if (again.every((c) => c.status === 200)) break;
      for (const c of again) c.close();
      await sleep(100);
    }
    assert.deepEqual(again.map((c) => c.status), [200, 200], `took ${Date.now() - t0} ms`);
    assert.ok(Date.now() - t0 < 5000, `the user's slots were free again within 5 s (${Date.now() - t0} ms)`);
    for (const c of again) c.close();
  } finally {
    await proxy.stop();
  }
});

test('the listener\'s backend is terminated while changes keep coming: every committed event arrives once', { timeout: 60000 }, async () => {
  const watcher = track(openWs(`/ws?stores=${QUIET}`));
  const sse = track(openSse(`/api/events?stores=${QUIET}`));
  await Promise.all([watcher.ready, sse.ready]);
  const start = Number(sql('SELECT coalesce(max(id), 0) FROM multistore.events'));
  const metric = async () => Number((await (await fetch(`${BASE}/metrics`)).text()).match(/^multistore_realtime_listener_reconnects_total (\d+)/m)[1]);
  const reconnectsBefore = await metric();
  // 60 committed changes, one transaction each, 25 ms apart
  const writes = sqlAsync(`DO $$ BEGIN FOR i IN 1..60 LOOP
      PERFORM multistore.inventory_set('${manager.sessionId}', '${QUIET}', '${[A, B, C][0]}', jsonb_build_object('onHand', i));
      COMMIT; PERFORM pg_sleep(0.025); END LOOP; END $$`);
  for (let k = 0; k < 3; k++) {
    await sleep(350);
    assert.equal(sql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                       WHERE application_name = 'multistore-proxy-realtime' AND pid <> pg_backend_pid()`), '1',
    'the listener\'s backend was there to terminate');
  }
  await writes;
  const committed = sql(`SELECT string_agg(id::text, ',' ORDER BY id) FROM multistore.events
                          WHERE store_id = '${QUIET}' AND type = 'inventory.changed' AND id > ${start}`).split(',').map(Number);
  assert.equal(committed.length, 60);
  for (const client of [watcher, sse]) {
    await client.inbox.next((e) => e.id === committed.at(-1), 15000, 'the last committed event');
    await sleep(200);
    const got = client.events().map((e) => e.id);
    assert.equal(new Set(got).size, got.length, 'no event twice');
    assert.deepEqual([...got].sort((x, y) => x - y), committed, 'every committed event');
  }
  assert.ok(await metric() >= reconnectsBefore + 3, 'the reconnects are counted');
  await watcher.close();
  sse.close();
});

test('a revoked session\'s sockets are closed within a second: logout, and refresh-token reuse', { timeout: 20000 }, async () => {
  const session = await login('customer@example.com');
  const headers = { authorization: `Bearer ${session.accessToken}` };
  const ws = track(openWs('/ws', { headers }));
  const sse = track(openSse('/api/events', { headers }));
  await Promise.all([ws.ready, sse.ready]);
  const t0 = Date.now();
  assert.equal((await api('POST', '/api/auth/logout', { headers })).status, 204);
  assert.deepEqual(await ws.closed, { code: 1008, reason: 'session revoked' });
  await sse.ended;
  assert.ok(Date.now() - t0 < 1000, `closed in ${Date.now() - t0} ms`);

  const other = await login('customer@example.com');
  const ws2 = track(openWs('/ws', { headers: { authorization: `Bearer ${other.accessToken}` } }));
  await ws2.ready;
  const rotated = await api('POST', '/api/auth/refresh-token', { body: { refreshToken: other.refreshToken } });
  assert.equal(rotated.status, 200);
  const reused = await api('POST', '/api/auth/refresh-token', { body: { refreshToken: other.refreshToken } });
  assertError(reused, 401, 'refresh_token_reused');
  assert.equal((await ws2.closed).code, 1008, 'refresh-token reuse closes the session\'s sockets');
});

test('a manager taken off a store: their streams close at once (1008), and reopened they see nothing more of it', { timeout: 20000 }, async () => {
  const leaving = createUser({ role: 'store_manager', stores: [STORE], tag: 'rt-leaving' });
  const ws = track(openWs('/ws', { headers: leaving.headers }));
  const sse = track(openSse('/api/events', { headers: leaving.headers }));
  await Promise.all([ws.ready, sse.ready]);
  const first = await placeOrder(alice);
  for (const client of [ws, sse]) await client.inbox.next((e) => e.type === 'order.created' && e.data.orderId === first, 5000, 'the order while managing');
  const t0 = Date.now();
  sql(`SELECT multistore.store_manager_remove('${admin.sessionId}', '${STORE}', '${leaving.id}')`);
  assert.deepEqual(await ws.closed, { code: 1008, reason: 'access changed: reconnect' });
  await sse.ended;
  assert.ok(Date.now() - t0 < 1000, `closed in ${Date.now() - t0} ms`);
  const again = track(openWs('/ws', { headers: leaving.headers }));
  const owner = track(openWs('/ws', { headers: alice.headers }));
  await Promise.all([again.ready, owner.ready]);
  const second = await placeOrder(alice);
  await owner.inbox.next((e) => e.type === 'order.created' && e.data.orderId === second, 5000, 'the owner sees the next order');
  await sleep(300);
  assert.deepEqual(again.events().filter((e) => e.type.startsWith('order.')), [], 'the former manager does not');
  await again.close();
  await owner.close();
});

test('bad clients are refused or closed with the right code, and everyone else is still served', { timeout: 30000 }, async () => {
  const bystander = track(openWs(`/ws?stores=${QUIET}`));
  await bystander.ready;
  const upgrade = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };

  // refused before the upgrade, each with the documented error
  assertError(await nodeRequest('GET', '/ws', { headers: upgrade }), 401, 'unauthorized');
  assertError(await nodeRequest('GET', '/ws?ticket=not-a-ticket', { headers: upgrade }), 401, 'invalid_token');
  const ticket = (await api('POST', '/api/realtime/ticket', { headers: alice.headers })).body.ticket;
  const used = track(openWs(`/ws?ticket=${ticket}`));
  await used.ready;
  assertError(await nodeRequest('GET', `/ws?ticket=${ticket}`, { headers: upgrade }), 401, 'invalid_token');
  assertError(await nodeRequest('GET', '/api/events?ticket=' + ticket), 401, 'invalid_token');
  assertError(await nodeRequest('GET', '/ws', { headers: { ...upgrade, authorization: 'Bearer nope' } }), 401, 'invalid_token');
  assertError(await nodeRequest('GET', `/ws?stores=${QUIET}`, { headers: { ...upgrade, origin: 'https://evil.example' } }), 403, 'forbidden');
  assertError(await nodeRequest('GET', `/ws?stores=${QUIET}`), 400, 'validation_failed');
  assertError(await nodeRequest('GET', `/ws?stores=${QUIET}`, { headers: { ...upgrade, 'sec-websocket-version': '8' } }), 400, 'validation_failed');
  assertError(await nodeRequest('GET', '/ws?stores=nope_no_store', { headers: upgrade }), 404, 'not_found');
  assertError(await nodeRequest('GET', `/ws?stores=${QUIET}&since=-1`, { headers: upgrade }), 400, 'validation_failed');
  // found by fuzz_realtime: 19 digits overflowed while being read (UBSan stopped the proxy)
  assertError(await nodeRequest('GET', `/ws?stores=${QUIET}&since=9727777777777777776`, { headers: upgrade }), 400, 'validation_failed');
  const overflowing = track(openSse(`/api/events?stores=${QUIET}`, { headers: { 'last-event-id': '9727777777777777776' } }));
  await overflowing.ready; // a Last-Event-ID that is no id is ignored, as EventSource servers do
  overflowing.close();
  assertError(await nodeRequest('GET', '/api/events'), 401, 'unauthorized');
  const browser = track(openWs(`/ws?stores=${QUIET}`, { headers: { origin: BASE } }));
  await browser.ready; // the proxy's own origin may
  await browser.close();

  // closed after the upgrade
  const cases = [
    ['an unmasked frame', frame(1, '{"type":"subscribe","stores":["x"]}', { mask: false }), 1002],
    ['a reserved opcode', frame(3, 'garbage'), 1002],
    ['reserved bits set', Buffer.concat([Buffer.from([0xf1]), frame(1, 'x').subarray(1)]), 1002],
    ['a fragmented ping (control frames are never fragmented)', frame(9, 'x', { fin: false }), 1002],
    ['a fragmented close', frame(8, Buffer.from([0x03, 0xe8]), { fin: false }), 1002],
    ['a ping over 125 bytes', frame(9, 'p'.repeat(126)), 1002],
    ['a binary message', frame(2, 'binary'), 1003],
    ['invalid UTF-8', frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 1007],
    ['a message over 4 KiB', frame(1, `"${'x'.repeat(5000)}"`), 1009],
  ];
  for (const [what, bytes, code] of cases) {
    const raw = await rawWs(`/ws?stores=${QUIET}`);
    await raw.frames.next((f) => f.opcode === 1 && JSON.parse(f.text).type === 'ready', 5000, 'ready');
    raw.socket.write(bytes);
    const close = await raw.frames.next((f) => f.opcode === 8, 5000, `the close after ${what}`);
    assert.equal(close.code, code, `${what}: close ${code}`);
    raw.socket.destroy();
  }
  // random garbage: the proxy closes (any code) or drops the socket, and survives
  for (let i = 0; i < 20; i++) {
    const raw = await rawWs(`/ws?stores=${QUIET}`);
    raw.socket.write(Buffer.from(Array.from({ length: 64 + i * 13 }, () => Math.floor(Math.random() * 256))));
    await Promise.race([raw.frames.next((f) => f.opcode === 8, 3000).catch(() => null), raw.closed]);
    raw.socket.destroy();
  }
  // a client that sends a close gets one back
  const polite = await rawWs(`/ws?stores=${QUIET}`);
  polite.socket.write(frame(8, Buffer.from([0x03, 0xe8])));
  assert.equal((await polite.frames.next((f) => f.opcode === 8)).code, 1000);
  polite.socket.destroy();

  sql(`SELECT multistore.inventory_set('${manager.sessionId}', '${QUIET}', '${B}', '{"onHand":31}')`);
  const ev = await bystander.inbox.next((e) => e.type === 'inventory.changed' && e.data.available === 31, 5000, 'the bystander\'s event');
  assert.equal(ev.data.productId, B);
  assert.equal((await api('GET', '/health')).status, 200);
  await bystander.close();
  await used.close();
});

test('a user may hold REALTIME_MAX_PER_USER streams (8), not one more', { timeout: 20000 }, async () => {
  const user = createUser({ tag: 'rt-many' });
  const streams = [];
  for (let i = 0; i < 8; i++) streams.push(track(openWs('/ws', { headers: user.headers })));
  await Promise.all(streams.map((s) => s.ready));
  const refused = track(openWs('/ws', { headers: user.headers }));
  const answer = await refused.refused;
  assert.equal(answer.status, 429);
  assert.equal(answer.body.error.code, 'rate_limited');
  await streams[0].close();
  await sleep(200);
  const again = track(openWs('/ws', { headers: user.headers }));
  await again.ready;
  for (const s of [...streams.slice(1), again]) await s.close();
});

test('metrics: realtime gauges and counters, clean under promtool', { timeout: 20000 }, async () => {
  const watcher = track(openWs(`/ws?stores=${QUIET}`));
  await watcher.ready;
  const text = await (await fetch(`${BASE}/metrics`)).text();
  assert.match(text, /^multistore_realtime_clients\{transport="websocket"\} [1-9]\d*$/m);
  assert.match(text, /^multistore_realtime_clients\{transport="sse"\} \d+$/m);
  for (const name of ['events_received_total', 'events_delivered_total', 'slow_clients_dropped_total', 'listener_reconnects_total'])
    assert.match(text, new RegExp(`^multistore_realtime_${name} \\d+$`, 'm'), name);
  assert.match(text, /^multistore_realtime_listener_up 1$/m);
  await watcher.close();
});

test('pings every REALTIME_PING_INTERVAL, a silent peer closed after REALTIME_IDLE_TIMEOUT (1001), SSE heartbeats', { timeout: 30000 }, async () => {
  const proxy = await startProxy(portNear(51), { REALTIME_PING_INTERVAL: '1', REALTIME_IDLE_TIMEOUT: '3', REALTIME_SSE_HEARTBEAT: '1' });
  try {
    const silent = await rawWs(`/ws?stores=${QUIET}`, { base: proxy.base });
    const t0 = Date.now();
    await silent.frames.next((f) => f.opcode === 9, 3000, 'a ping');
    const close = await silent.frames.next((f) => f.opcode === 8, 6000, 'the idle close');
    assert.deepEqual({ code: close.code, reason: close.reason }, { code: 1001, reason: 'idle' });
    assert.ok(Date.now() - t0 >= 2500, `not before the idle timeout (${Date.now() - t0} ms)`);
    silent.socket.destroy();
    // a peer that answers the pings (the ws client does) stays
    const lively = track(openWs(`/ws?stores=${QUIET}`, { base: proxy.wsBase }));
    await lively.ready;
    await sleep(4500);
    assert.equal(lively.ws.readyState, 1, 'a peer that answers pings is kept open');
    await lively.close();
    const sse = track(openSse(`/api/events?stores=${QUIET}`, { base: proxy.base }));
    await sse.ready;
    await sleep(2500);
    assert.ok((sse.raw.match(/^: heartbeat$/gm) || []).length >= 1, `heartbeat comments: ${JSON.stringify(sse.raw)}`);
    sse.close();
  } finally {
    await proxy.stop();
  }
});

test('a client that stops reading is closed (1013) and nobody else waits for it; SIGTERM closes sockets with 1001', { timeout: 90000 }, async () => {
  const proxy = await startProxy(portNear(50), { REALTIME_SEND_BUFFER: '262144', CORS_ORIGINS: '' });
  try {
    const slow = await rawWs(`/ws?stores=${QUIET}`, { base: proxy.base });
    slow.socket.pause(); // reads nothing from here on
    const reader = track(openWs(`/ws?stores=${QUIET}`, { base: proxy.wsBase }));
    await reader.ready;
    // 30,000 events of half a kilobyte at once (15 MB): far more than the socket buffers and the 256 KiB send
    // buffer hold; written without blocking this process, whose reader must keep reading
    const start = Number(sql('SELECT coalesce(max(id), 0) FROM multistore.events'));
    await sqlAsync(`WITH e AS (INSERT INTO multistore.events (type, store_id, payload)
                    SELECT 'inventory.changed', '${QUIET}', jsonb_build_object('storeId', '${QUIET}', 'productId', '${A}', 'n', g,
                                                                                'pad', repeat('p', 400))
                      FROM generate_series(1, 30000) g RETURNING id)
         SELECT count(pg_notify('multistore_events', id::text)) FROM e`);
    const last = Number(sql(`SELECT max(id) FROM multistore.events WHERE store_id = '${QUIET}'`));
    await reader.inbox.next((e) => e.id === last, 60000, 'the last of 30,000 events at the reading client');
    assert.equal(reader.events().filter((e) => e.id > start).length, 30000, 'the reading client got every one');
    const text = await (await fetch(`${proxy.base}/metrics`)).text();
    assert.match(text, /^multistore_realtime_slow_clients_dropped_total [1-9]/m, 'the slow client was dropped');
    slow.socket.resume();
    const close = await slow.frames.next((f) => f.opcode === 8, 10000, 'the slow client\'s close frame').catch(() => null);
    if (close) assert.equal(close.code, 1013);
    await Promise.race([slow.closed, sleep(5000)]);
    assert.ok(slow.socket.destroyed || slow.socket.readableEnded, 'its socket was closed');
    sql(`DELETE FROM multistore.events WHERE store_id = '${QUIET}' AND payload ? 'n'`);

    const code = await Promise.all([reader.closed, proxy.stop('SIGTERM')]);
    assert.equal(code[0].code, 1001, 'SIGTERM: close 1001');
    assert.equal(code[1], 0, 'the proxy exits 0');
  } finally {
    if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
  }
});
