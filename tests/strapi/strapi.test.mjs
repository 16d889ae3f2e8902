// The real Strapi 5 (tests/strapi/app, started by scripts/strapi-e2e) against
// the real proxy and extension: products created, edited, published,
// unpublished and deleted through Strapi's own API reach the catalogue by
// Strapi's webhooks; then strapi-sync, over Strapi's REST API in pages of
// two, catches up with what no webhook told (a product published while the
// webhook pointed nowhere, one deleted then), and a second run changes
// nothing.  The tests run in order and share Strapi's state.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { runSync, summaryOf, isPublished, sql, http, waitFor, PROXY } from './helpers.mjs';

const STRAPI = process.env.STRAPI_URL || 'http://127.0.0.1:58337';
const DB = process.env.DATABASE_URL;
const SECRET = process.env.STRAPI_WEBHOOK_SECRET;
const CM = `${STRAPI}/content-manager/collection-types/api::product.product`;
const EVENTS = ['entry.create', 'entry.update', 'entry.delete', 'entry.publish', 'entry.unpublish'];
// every wait for a webhook is bounded: Strapi sends from an in-memory queue within a second or two
const WEBHOOK_WAIT = { timeoutMs: 20000 };

let admin; // the admin's JWT
let webhookId;
let apiToken; // read-only REST token for strapi-sync
const auth = () => ({ authorization: `Bearer ${admin}` });

async function strapi(method, path, body) {
  const r = await http(`${STRAPI}${path}`, { method, headers: auth(), body, timeoutMs: 30000 });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.body;
}
const create = async (fields) => (await strapi('POST', CM.slice(STRAPI.length), fields)).data.documentId;
const update = (doc, fields) => strapi('PUT', `${CM.slice(STRAPI.length)}/${doc}`, fields);
const publish = (doc) => strapi('POST', `${CM.slice(STRAPI.length)}/${doc}/actions/publish`, {});
const unpublish = (doc) => strapi('POST', `${CM.slice(STRAPI.length)}/${doc}/actions/unpublish`, {});
const remove = (doc) => strapi('DELETE', `${CM.slice(STRAPI.length)}/${doc}`);
const pointWebhook = (url) => strapi('PUT', `/admin/webhooks/${webhookId}`, {
  name: 'multistore', url, headers: { Authorization: `Bearer ${SECRET}` }, events: EVENTS, isEnabled: true });

// The product as the proxy serves it (200), or null when it is not for sale (404)
async function served(doc) {
  const r = await http(`${PROXY}/api/products/${doc}`);
  if (r.status === 404) return null;
  assert.equal(r.status, 200, r.text);
  return r.body.product ?? r.body;
}
const known = (doc) => sql(DB, `SELECT count(*) FROM multistore.strapi_documents WHERE model = 'product' AND document_id = '${doc}'`) === '1';

before(async () => {
  assert.ok(DB && SECRET, 'DATABASE_URL and STRAPI_WEBHOOK_SECRET are set (scripts/strapi-e2e sets them)');
  const reg = await http(`${STRAPI}/admin/register-admin`, { method: 'POST', body: {
    email: 'e2e@example.com', password: 'E2e-password-1', firstname: 'E2e', lastname: 'Admin' } });
  if (reg.status === 200 || reg.status === 201) admin = reg.body.data.token;
  else {
    const login = await http(`${STRAPI}/admin/login`, { method: 'POST', body: { email: 'e2e@example.com', password: 'E2e-password-1' } });
    assert.equal(login.status, 200, login.text);
    admin = login.body.data.token;
  }
  const hook = await strapi('POST', '/admin/webhooks', { name: 'multistore', url: `${PROXY}/webhooks/product-updated`,
    headers: { Authorization: `Bearer ${SECRET}` }, events: EVENTS });
  webhookId = hook.data.id;
  apiToken = (await strapi('POST', '/admin/api-tokens', { name: 'strapi-sync e2e', type: 'read-only', lifespan: null,
    description: 'multistore strapi-sync end-to-end test' })).data.accessKey;
  assert.ok(webhookId && apiToken);
});

let mug;
test('a draft created in Strapi reaches the catalogue by webhook, and is not for sale', async () => {
  mug = await create({ sku: 'E2E-MUG', name: 'Mug', price: 12.5, currency: 'USD' });
  await waitFor(`the entry.create of ${mug}`, () => known(mug), WEBHOOK_WAIT);
  assert.equal(await served(mug), null);
});

test('publish: for sale, with the price exactly as Strapi had it', async () => {
  await publish(mug);
  const p = await waitFor(`${mug} for sale`, () => served(mug), WEBHOOK_WAIT);
  assert.equal(p.name, 'Mug');
  assert.match(String(p.price), /^12\.50?$/);
});

test('an edit of the draft changes nothing for sale until it is published', async () => {
  await update(mug, { name: 'Mug v2', price: 1.1 });
  // the draft's entry.update arrives; what is for sale stays the published version
  await waitFor('the draft update recorded', () =>
    sql(DB, `SELECT draft_updated_at IS NOT NULL FROM multistore.strapi_documents WHERE model = 'product' AND document_id = '${mug}'`) === 't',
  WEBHOOK_WAIT);
  assert.equal((await served(mug)).name, 'Mug');
  await publish(mug);
  const p = await waitFor(`${mug} as Mug v2`, async () => ((await served(mug))?.name === 'Mug v2' ? served(mug) : null), WEBHOOK_WAIT);
  assert.match(String(p.price), /^1\.10?$/, 'a price of 1.1 never passes through a binary float');
});

test('unpublish: no longer for sale; publish again: back', async () => {
  await unpublish(mug);
  await waitFor(`${mug} withdrawn`, async () => (await served(mug)) === null, WEBHOOK_WAIT);
  await publish(mug);
  await waitFor(`${mug} back`, () => served(mug), WEBHOOK_WAIT);
});

test('delete: gone from the catalogue', async () => {
  await remove(mug);
  await waitFor(`${mug} gone`, async () => (await served(mug)) === null, WEBHOOK_WAIT);
});

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);
let shelf = []; // five products published while the webhook works
let missed; // published while the webhook pointed nowhere
let deletedUnseen; // deleted while the webhook pointed nowhere
test('five products published while the webhook works are all for sale', async () => {
  for (const i of range(5)) {
    const doc = await create({ sku: `E2E-SHELF-${i}`, name: `Shelf ${i}`, price: i + 0.25, currency: 'USD' });
    await publish(doc);
    shelf.push(doc);
  }
  for (const doc of shelf) await waitFor(`${doc} for sale`, () => served(doc), WEBHOOK_WAIT);
});

test('with the webhook pointing nowhere, a new product and a deletion go unseen', async () => {
  // nothing listens on 8199 (the proxy's range): every delivery fails, and Strapi never retries
  await pointWebhook('http://127.0.0.1:8199/webhooks/product-updated');
  missed = await create({ sku: 'E2E-MISSED', name: 'Missed', price: 3.3, currency: 'USD' });
  await publish(missed);
  deletedUnseen = shelf[1];
  await remove(deletedUnseen);
  // what Strapi would have sent has had time to fail
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await served(missed), null, 'the product no webhook announced is not here');
  assert.ok(await served(deletedUnseen), 'the product deleted unannounced is still for sale here');
  await pointWebhook(`${PROXY}/webhooks/product-updated`);
});

const syncEnv = () => ({ DATABASE_URL: DB, STRAPI_URL: STRAPI, STRAPI_API_TOKEN: apiToken, STRAPI_SYNC_PAGE_SIZE: '2' });

test('strapi-sync over the REST API in pages of two: creates the missed product, unpublishes the deleted one', async () => {
  const r = await runSync(syncEnv());
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const s = summaryOf(r.stdout);
  // Strapi lists 5 published: shelf 1, 3, 4, 5 and the missed one
  assert.equal(s.products.listed, 5, s.line);
  assert.equal(s.products.created, 1, s.line);
  assert.equal(s.products.unpublished, 1, s.line);
  assert.equal(s.products.unchanged + s.products.updated + s.products.stale, 4, s.line);
  assert.match(r.stderr, /==> products page 1\/3 \(2 entries\)/);
  assert.match(r.stderr, /==> products page 3\/3 \(1 entries\)/);
  assert.match(r.stderr, new RegExp(`unpublished \\(no longer listed by Strapi\\): ${deletedUnseen}`));
  assert.match(s.line, /promotions: none in Strapi/, 'this Strapi has no promotion type: said and skipped');
  assert.ok(await served(missed), 'the missed product is for sale');
  assert.equal(await served(deletedUnseen), null, 'the deleted product is not');
  for (const doc of shelf.filter((d) => d !== deletedUnseen)) assert.ok(isPublished(DB, doc), doc);
});

test('strapi-sync again: nothing changes', async () => {
  const r = await runSync(syncEnv());
  assert.equal(r.code, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.deepEqual([s.products.listed, s.products.unchanged, s.products.created, s.products.updated,
    s.products.unpublished], [5, 5, 0, 0, 0], s.line);
});

test('the webhook works again after the sync: an edit arrives as before', async () => {
  await update(missed, { name: 'Found' });
  await publish(missed);
  await waitFor(`${missed} renamed`, async () => (await served(missed))?.name === 'Found', WEBHOOK_WAIT);
});

test('strapi-sync with a token Strapi refuses: exit 1 and a clear line, nothing unpublished', async () => {
  const r = await runSync({ ...syncEnv(), STRAPI_API_TOKEN: 'not-a-token' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /STRAPI_API_TOKEN was refused \(40[13]\)/);
  assert.ok(await served(missed));
});
