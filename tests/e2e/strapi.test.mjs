// Strapi's webhooks over real HTTP (the secret header, malformed and
// ignored deliveries, stale and duplicate ones, Strapi 5.54's captured
// deliveries in order and shuffled with Strapi's own concurrency of 5) and
// the catalogue a storefront reads, with promotions priced in the cart and
// kept by the order.  Documents get a per-run suffix so that runs never
// see each other's versions; everything is removed at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, sql, assertError, createUser } from './helpers.mjs';

const RUN = `e2e${process.pid}`;
const SECRET = process.env.STRAPI_WEBHOOK_SECRET;
const STRAPI = { authorization: `Bearer ${SECRET}` };
const fixture = (version) => JSON.parse(readFileSync(
  new URL(`../strapi/fixtures/${version}/webhooks-product-lifecycle.json`, import.meta.url), 'utf8'));

// A fixture delivery made this run's own: documentId, id and SKU suffixed
function own(delivery, tag) {
  const body = structuredClone(delivery.body);
  if (body.entry) {
    if (body.entry.documentId) body.entry.documentId = `${body.entry.documentId}-${tag}`;
    else body.entry.id = `${body.entry.id}${process.pid}${tag.length}`;
    body.entry.sku = `${body.entry.sku}-${tag}`;
  }
  return { seq: delivery.seq, body, event: delivery.headers['X-Strapi-Event'] };
}
const productId = (body) => body.entry.documentId ?? String(body.entry.id);

function post(path, body, { headers = STRAPI, event = body?.event } = {}) {
  return api('POST', path, { body, headers: { ...headers, ...(event ? { 'x-strapi-event': event } : {}) } });
}
const deliver = (body, event) => post('/webhooks/product-updated', body, { event });

after(() => {
  sql(`DELETE FROM multistore.orders WHERE store_id = '${RUN}_store';
       DELETE FROM multistore.order_items WHERE product_id LIKE '%${RUN}%';
       DELETE FROM multistore.cart_items WHERE product_id LIKE '%${RUN}%';
       DELETE FROM multistore.inventory WHERE product_id LIKE '%${RUN}%';
       DELETE FROM multistore.products p USING multistore.strapi_documents d
        WHERE d.target_id = p.id AND d.document_id LIKE '%${RUN}%';
       DELETE FROM multistore.promotions WHERE id LIKE '%${RUN}%';
       DELETE FROM multistore.strapi_documents WHERE document_id LIKE '%${RUN}%';
       DELETE FROM multistore.strapi_pending WHERE payload::text LIKE '%${RUN}%';
       DELETE FROM multistore.reservation_holds WHERE store_id = '${RUN}_store';
       DELETE FROM multistore.reservations WHERE store_id = '${RUN}_store';
       DELETE FROM multistore.stores WHERE id = '${RUN}_store'`);
});

test('the secret: missing, malformed or wrong is 401 and nothing is stored', async () => {
  const body = own(fixture('v5')[2], `${RUN}-auth`).body;
  assertError(await post('/webhooks/product-updated', body, { headers: {} }), 401, 'unauthorized');
  assertError(await post('/webhooks/product-updated', body, { headers: { authorization: SECRET } }), 401, 'unauthorized');
  assertError(await post('/webhooks/product-updated', body, { headers: { authorization: `Bearer ${SECRET}x` } }), 401, 'unauthorized');
  assertError(await post('/webhooks/promotion-updated', body, { headers: { authorization: 'Bearer strapi-secret' } }), 401, 'unauthorized');
  assertError(await api('GET', `/api/products/${productId(body)}`), 404, 'not_found');
  assert.equal(sql(`SELECT count(*) FROM multistore.strapi_documents WHERE document_id = '${productId(body)}'`), '0');
  const ok = await deliver(body);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { status: 'created', id: productId(body) });
});

test('malformed JSON, a malformed delivery, ignored events and models', async () => {
  assertError(await api('POST', '/webhooks/product-updated', { raw: '{"event":', headers: { ...STRAPI, 'content-type': 'application/json' } }),
    400, 'invalid_json');
  const bad = await deliver({ event: 'entry.publish', model: 'product', entry: { documentId: `bad-${RUN}`, name: 'x', price: 'free', updatedAt: 'now' } });
  assertError(bad, 400, 'validation_failed');
  assert.deepEqual(Object.keys(bad.body.error.details.fields).sort(), ['entry.price', 'entry.sku', 'entry.updatedAt']);
  assert.equal(sql(`SELECT count(*) FROM multistore.strapi_documents WHERE document_id = 'bad-${RUN}'`), '0', 'nothing half-applied');
  for (const [body, why] of [
    [{ event: 'media.create', createdAt: '2026-11-25T01:48:38.678Z', media: { id: 1, name: 'a.png' } }, 'media'],
    [{ event: 'entry.draft-discard', model: 'product', entry: { documentId: 'x' } }, 'draft-discard'],
    [{ event: 'entry.update', model: 'article', uid: 'api::article.article', entry: { id: 1 } }, 'another model'],
  ]) {
    const res = await deliver(body);
    assert.equal(res.status, 202, `${why}: ${res.text}`);
    assert.equal(res.body.status, 'ignored', why);
  }
  const inventoryAtProducts = await post('/webhooks/inventory-updated', own(fixture('v5')[2], `${RUN}-x`).body);
  assert.equal(inventoryAtProducts.status, 202, 'a product delivery at the stock webhook is ignored there');
  const nullEntry = await deliver({ event: 'entry.publish', model: 'product', uid: 'api::product.product', entry: null, run: RUN });
  assert.equal(nullEntry.status, 202, nullEntry.text);
  assert.equal(nullEntry.body.status, 'deferred');
});

test('Strapi 5.54 deliveries in order: the catalogue follows; again: stale or duplicate', async () => {
  const deliveries = fixture('v5').map((d) => own(d, `${RUN}-a`));
  const statuses = [];
  for (const d of deliveries) {
    const res = await deliver(d.body, d.event);
    assert.equal(res.status, 200, res.text);
    statuses.push(res.body.status);
  }
  assert.deepEqual(statuses.slice(0, 8), ['draft', 'draft', 'published', 'draft', 'draft', 'published', 'unpublished', 'deleted']);
  const mug = productId(deliveries[0].body);
  assertError(await api('GET', `/api/products/${mug}`), 404, 'not_found');
  for (const seq of [11, 13, 17]) {
    const body = deliveries[seq - 1].body;
    const res = await api('GET', `/api/products/${productId(body)}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.product.price, body.entry.price.toFixed(2));
    assert.equal(res.body.product.sku, body.entry.sku);
  }
  for (const d of deliveries) {
    const res = await deliver(d.body, d.event);
    assert.ok(['stale', 'duplicate'].includes(res.body.status), `seq ${d.seq} again: ${res.text}`);
  }
});

test('shuffled and five at a time, as Strapi sends: the same catalogue', async () => {
  // what is for sale (a product deleted before anything else arrived has no row at all)
  const snapshot = (tag) => sql(`SELECT string_agg(replace(p.id, '${tag}', '') || ':' || p.price, ' ' ORDER BY p.id)
                                   FROM multistore.products p WHERE p.id LIKE '%${tag}' AND p.published`);
  const ordered = fixture('v5').map((d) => own(d, `${RUN}-o`));
  for (const d of ordered) await deliver(d.body, d.event);
  for (let round = 0; round < 3; round++) {
    const tag = `${RUN}-s${round}`;
    const queue = fixture('v5').map((d) => own(d, tag)).sort(() => Math.random() - 0.5);
    await Promise.all(Array.from({ length: 5 }, async () => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        const res = await deliver(d.body, d.event);
        assert.equal(res.status, 200, res.text);
      }
    }));
    assert.equal(snapshot(tag), snapshot(`${RUN}-o`), `round ${round}`);
  }
});

test('stale and duplicate of one product, over HTTP', async () => {
  const [publish] = fixture('v5').filter((d) => d.seq === 11).map((d) => own(d, `${RUN}-d`));
  assert.equal((await deliver(publish.body)).body.status, 'created', 'a publish of a document never seen creates the product');
  assert.equal((await deliver(publish.body)).body.status, 'duplicate');
  const older = structuredClone(publish.body);
  older.entry.updatedAt = '2026-11-25T00:00:00.000Z';
  older.entry.price = 99;
  assert.equal((await deliver(older)).body.status, 'stale');
  const res = await api('GET', `/api/products/${productId(publish.body)}`);
  assert.equal(res.body.product.price, '1.25', 'the stale price was not taken');
});

test('promotions: the catalogue and the cart price with the best one, the order keeps it', async () => {
  const [publish] = fixture('v5').filter((d) => d.seq === 17).map((d) => own(d, `${RUN}-p`));
  await deliver(publish.body);
  const id = productId(publish.body);
  const store = `${RUN}_store`;
  sql(`INSERT INTO multistore.stores (id, name, address, location, time_zone, opening_hours)
       SELECT '${store}', 'E2E Strapi store', '1 Test Street', ST_SetSRID(ST_MakePoint(-73.98, 40.75), 4326)::geography, 'UTC',
              jsonb_object_agg(d, '[{"opens":"00:00","closes":"24:00"}]'::jsonb)
         FROM unnest(ARRAY['monday','tuesday','wednesday','thursday','friday','saturday','sunday']) d`);
  const stock = await post('/webhooks/inventory-updated', {
    event: 'entry.publish', model: 'inventory', uid: 'api::inventory.inventory',
    entry: { documentId: `stock-${RUN}`, store, product: { documentId: id }, quantity: 5,
      updatedAt: '2026-11-25T01:00:00.000Z', publishedAt: '2026-11-25T01:00:00.000Z' },
  });
  assert.equal(stock.status, 200, stock.text);
  const promo = (documentId, fields) => post('/webhooks/promotion-updated', {
    event: 'entry.publish', model: 'promotion', uid: 'api::promotion.promotion',
    entry: { documentId, updatedAt: new Date().toISOString(), publishedAt: '2026-11-25T01:00:00.000Z', ...fields },
  });
  assert.equal((await promo(`pct-${RUN}`, { code: 'TEN', discountType: 'percentage', value: 10, products: [id] })).body.status, 'created');
  assert.equal((await promo(`fix-${RUN}`, { code: 'ONE', discountType: 'fixed', value: 1, currency: 'USD', products: [{ documentId: id }], stores: [store] })).body.status, 'created');
  const anywhere = await api('GET', `/api/products/${id}`);
  assert.deepEqual([anywhere.body.product.effectivePrice, anywhere.body.product.promotion?.code], ['2.92', 'TEN'], '10% of 3.25 (0.325, rounded to 0.33) off elsewhere');
  const here = await api('GET', `/api/products?ids=${id}&storeId=${store}`);
  assert.deepEqual([here.body.products[0].effectivePrice, here.body.products[0].promotion?.code, here.body.products[0].available],
    ['2.25', 'ONE', 5], 'at that store the fixed 1.00 is better; not stacked');
  const search = await api('GET', `/api/products?q=${encodeURIComponent(publish.body.entry.sku.toLowerCase())}`);
  assert.deepEqual(search.body.products.map((p) => p.id), [id], 'q finds it by SKU in any letter case');

  const customer = createUser({ tag: 'strapi' });
  const cart = await api('POST', '/api/cart/items', { headers: customer.headers, body: { productId: id, quantity: 2 } });
  assert.equal(cart.status, 201, cart.text);
  assert.deepEqual([cart.body.cart.items[0].discount, cart.body.cart.items[0].promotion?.code, cart.body.cart.discount],
    ['0.66', 'TEN', '0.66'], 'a cart without a store: 10% (0.33 a unit, x2)');
  const order = await api('POST', '/api/orders', {
    headers: { ...customer.headers, 'idempotency-key': `strapi-${RUN}` }, body: { storeId: store, deliveryType: 'pickup' },
  });
  assert.equal(order.status, 201, order.text);
  assert.deepEqual([order.body.order.discount, order.body.order.items[0].promotion], ['2.00', { id: `fix-${RUN}`, code: 'ONE' }],
    'ordered at that store: its fixed 1.00 a unit, kept on the order line');
});
