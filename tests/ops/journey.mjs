// tests/ops/journey.mjs: the API driven over HTTP by the operations tests,
// with no npm package.  TAP on stdout; exit code 1 when any check fails.
//
//   node tests/ops/journey.mjs BASE_URL shop [CUSTOMERS]
//       CUSTOMERS (6) customers at once: register, log in, refresh, fill a
//       cart, place an order (and replay it), pay it through the signed
//       webhook (PAYMENT_WEBHOOK_SECRET), read it back, log out; meanwhile
//       the public reads.  Every answer must be the right one, not only 2xx.
//   node tests/ops/journey.mjs BASE_URL restored
//       what tests/ops/fill.sql wrote, read back through the API (a restored
//       or upgraded database).
import { createHmac, randomUUID } from 'node:crypto';

const [base, mode = 'shop', count = '6'] = process.argv.slice(2);
let n = 0;
let failed = 0;
function check(cond, what, extra) {
  n += 1;
  if (cond) {
    console.log(`ok ${n} - ${what}`);
  } else {
    failed += 1;
    console.log(`not ok ${n} - ${what}`);
    if (extra !== undefined) console.log(`  # ${JSON.stringify(extra).slice(0, 400)}`);
  }
  return cond;
}

async function call(method, path, { body, token, headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (token) h.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, body: json, headers: res.headers };
}

async function customer(i) {
  const email = `ops-journey-${randomUUID()}@example.com`;
  const password = 'journey-password-1';
  let r = await call('POST', '/api/auth/register', { body: { email, password, firstName: 'J', lastName: String(i) } });
  if (!check(r.status === 201 && r.body.accessToken, `customer ${i}: registers`, r)) return;
  r = await call('POST', '/api/auth/login', { body: { email, password } });
  if (!check(r.status === 200 && r.body.user.email === email, `customer ${i}: logs in`, r)) return;
  r = await call('POST', '/api/auth/refresh-token', { body: { refreshToken: r.body.refreshToken } });
  if (!check(r.status === 200 && r.body.accessToken, `customer ${i}: refreshes its token`, r)) return;
  const token = r.body.accessToken;
  r = await call('GET', '/api/auth/me', { token });
  check(r.status === 200 && r.body.user.email === email, `customer ${i}: /me`, r);

  for (const [productId, quantity] of [['prod_1', 1], ['prod_2', 2], ['prod_3', 1]]) {
    r = await call('POST', '/api/cart/items', { token, body: { productId, quantity } });
    if (!check(r.status === 201, `customer ${i}: adds ${productId}`, r)) return;
  }
  r = await call('GET', '/api/cart', { token });
  check(r.status === 200 && r.body.cart.items.length === 3, `customer ${i}: the cart holds its three lines`, r);
  const key = randomUUID();
  const order = { storeId: 'store_1', deliveryType: 'pickup', notes: `journey ${i}` };
  r = await call('POST', '/api/orders', { token, body: order, headers: { 'idempotency-key': key } });
  if (!check(r.status === 201 && r.body.order.status === 'pending_payment', `customer ${i}: places an order`, r)) return;
  const placed = r.body.order;
  r = await call('POST', '/api/orders', { token, body: order, headers: { 'idempotency-key': key } });
  check(r.status === 201 && r.body.order.id === placed.id && r.headers.get('idempotent-replayed') === 'true',
    `customer ${i}: the same key replays the same order`, r);

  const secret = process.env.PAYMENT_WEBHOOK_SECRET;
  const raw = JSON.stringify({ id: `evt_${randomUUID()}`, type: 'payment.succeeded', orderId: placed.id, amount: Number(placed.total), currency: placed.currency });
  const t = Math.floor(Date.now() / 1000);
  const signature = `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')}`;
  r = await call('POST', '/webhooks/payment', { body: raw, headers: { 'multistore-signature': signature } });
  check(r.status === 200, `customer ${i}: the payment webhook confirms it`, r);
  r = await call('GET', `/api/orders/${placed.id}`, { token });
  check(r.status === 200 && r.body.order.status === 'confirmed', `customer ${i}: reads it back confirmed`, r);
  r = await call('GET', '/api/orders', { token });
  check(r.status === 200 && r.body.orders.length === 1 && r.body.orders[0].id === placed.id, `customer ${i}: its order list`, r);
  r = await call('GET', '/api/cart', { token });
  check(r.status === 200 && r.body.cart.items.length === 0, `customer ${i}: the cart is empty after ordering`, r);
  r = await call('POST', '/api/auth/logout', { token });
  check(r.status === 204, `customer ${i}: logs out`, r);
  r = await call('GET', '/api/auth/me', { token });
  check(r.status === 401, `customer ${i}: its token stops working`, r);
}

async function browse(rounds) {
  for (let k = 0; k < rounds; k++) {
    let r = await call('GET', '/api/stores/nearby?latitude=40.7589&longitude=-73.9851&radius=5');
    check(r.status === 200 && r.body.stores.length > 0 && r.body.stores[0].id === 'store_1', `browse ${k}: nearby, nearest first`, r);
    r = await call('GET', '/api/stores/store_2/availability?productIds=prod_1,prod_2');
    check(r.status === 200 && r.body.products.length === 2, `browse ${k}: availability`, r);
  }
}

async function shop() {
  const customers = Number(count);
  await Promise.all([...Array(customers).keys()].map((i) => customer(i)).concat([browse(3), browse(3)]));
  const r = await call('GET', '/health');
  check(r.status === 200 && r.body.db === 'ok', '/health', r);
}

async function restored() {
  let r = await call('GET', '/health');
  check(r.status === 200 && r.body.db === 'ok', 'health: the database answers', r);
  r = await call('GET', '/api/stores/ops_store');
  check(r.status === 200 && r.body.store.name === 'Ops Store (renamed)', 'the store created and renamed by fill.sql', r);
  r = await call('GET', '/api/stores/ops_store/availability?productIds=prod_1');
  check(r.status === 200 && r.body.products[0].available === 500 - 2 - 4, 'its stock: 500, less the paid order and the hold', r);
  r = await call('POST', '/api/auth/login', { body: { email: 'ops-customer@example.com', password: 'ops-customer-password' } });
  if (!check(r.status === 200, 'the customer logs in with its password', r)) return;
  const token = r.body.accessToken;
  r = await call('GET', '/api/orders', { token });
  check(r.status === 200 && r.body.orders.length === 3, 'its three orders', r);
  const statuses = r.status === 200 ? r.body.orders.map((o) => o.status).sort() : [];
  check(JSON.stringify(statuses) === JSON.stringify(['cancelled', 'pending_payment', 'preparing']), 'in their states', statuses);
  r = await call('GET', '/api/cart', { token });
  check(r.status === 200 && r.body.cart.items.length === 1 && r.body.cart.items[0].quantity === 5, 'the cart it left', r);
  r = await call('POST', '/api/auth/login', { body: { email: 'ops-leaver@example.com', password: 'ops-leaver-password' } });
  check(r.status === 200, 'the user who logged out logs in again', r);
  r = await call('POST', '/api/auth/login', { body: { email: 'ops-customer@example.com', password: 'wrong-password-here' } });
  check(r.status === 401, 'a wrong password is still refused', r);
}

try {
  if (mode === 'shop') await shop();
  else if (mode === 'restored') await restored();
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  check(false, `no exception (${e.message})`);
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
