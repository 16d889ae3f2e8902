// strapi-sync against a fake Strapi (tests/strapi/fake-strapi.mjs) and the
// real extension, in a database of its own (MS_FAKE_DATABASE_URL): the
// paging, v4's shape, and every way a listing can fail, none of which may
// unpublish anything.  The real Strapi's side is strapi.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runSync, summaryOf, isPublished, sql, http, waitFor, ROOT } from './helpers.mjs';

const DB = process.env.MS_FAKE_DATABASE_URL;
const PORT = Number(process.env.MS_FAKE_STRAPI_PORT || 58338);
const FAKE = `http://127.0.0.1:${PORT}`;
const TOKEN = 'fake-read-only-token';
const env = (more = {}) => ({ DATABASE_URL: DB, STRAPI_URL: FAKE, STRAPI_API_TOKEN: TOKEN, STRAPI_SYNC_PAGE_SIZE: '2',
  STRAPI_SYNC_RETRIES: '0', STRAPI_SYNC_TIMEOUT: '5', ...more });

const at = '2026-11-25T08:00:00.000Z';
const product = (id, sku, extra = {}) => ({ id, documentId: `fakedoc${sku.toLowerCase()}`, sku, name: `Fake ${sku}`,
  price: 1.1 * id, currency: 'USD', createdAt: at, updatedAt: at, publishedAt: at, ...extra });
const five = [product(1, 'A'), product(3, 'B'), product(5, 'C'), product(7, 'D'), product(9, 'E')];

let fake;
async function scenario(s) {
  const r = await http(`${FAKE}/__scenario`, { method: 'POST', body: { token: TOKEN, ...s } });
  assert.equal(r.status, 204);
}
const requests = async () => (await http(`${FAKE}/__requests`)).body;

before(async () => {
  assert.ok(DB, 'MS_FAKE_DATABASE_URL is set (scripts/strapi-e2e sets it)');
  fake = spawn(process.execPath, [`${ROOT}tests/strapi/fake-strapi.mjs`, String(PORT)], { stdio: 'ignore' });
  await waitFor('the fake Strapi', async () => (await http(`${FAKE}/__requests`)).status === 200, { timeoutMs: 10000 });
});
after(() => fake?.kill('SIGTERM'));

// a promotion as the extension reads it, its relation populated as Strapi 5 does with populate=*
const promotion = { id: 2, documentId: 'fakepromo10', code: 'FAKE10', name: 'Ten off', discountType: 'percentage', value: 10,
  products: [{ id: 1, documentId: 'fakedoca', sku: 'A' }], allStores: true, createdAt: at, updatedAt: at, publishedAt: at };

test('v5 listing over three pages: every entry created, then a second run changes nothing', async () => {
  await scenario({ shape: 'v5', collections: { products: five, promotions: [promotion] } });
  const first = await runSync(env());
  assert.equal(first.code, 0, first.stderr);
  const s = summaryOf(first.stdout);
  assert.deepEqual([s.products.listed, s.products.created, s.products.unpublished], [5, 5, 0], s.line);
  assert.deepEqual([s.promotions.listed, s.promotions.created, s.promotions.unpublished], [1, 1, 0], s.line);
  assert.match(first.stderr, /==> products page 1\/3 \(2 entries\)/);
  assert.match(first.stderr, /==> products page 3\/3 \(1 entries\)/);
  assert.match(first.stderr, /==> promotions page 1\/1 \(1 entries\)/);
  const all = await requests();
  const seen = all.filter((r) => r.plural === 'products');
  assert.deepEqual(seen.map((r) => r.page), [1, 2, 3]);
  assert.ok(seen.every((r) => r.auth === `Bearer ${TOKEN}` && r.pageSize === 2 && r.sort === 'id:asc' && r.populate === null),
    JSON.stringify(seen));
  assert.ok(all.filter((r) => r.plural === 'promotions').every((r) => r.populate === '*'), 'promotions come with their relations');
  for (const p of five) assert.ok(isPublished(DB, p.documentId), `${p.documentId} for sale`);

  const again = await runSync(env());
  assert.equal(again.code, 0, again.stderr);
  const s2 = summaryOf(again.stdout);
  assert.deepEqual([s2.products.listed, s2.products.unchanged, s2.products.created, s2.products.updated,
    s2.products.unpublished], [5, 5, 0, 0, 0], s2.line);
  assert.deepEqual([s2.promotions.listed, s2.promotions.unchanged], [1, 1], s2.line);
});

test('no promotion type in Strapi (404): said and skipped', async () => {
  await scenario({ shape: 'v5', collections: { products: five } });
  const r = await runSync(env());
  assert.equal(r.code, 0, r.stderr);
  assert.match(summaryOf(r.stdout).line, /promotions: none in Strapi/);
  assert.match(r.stderr, /promotions: Strapi has none \(404/);
});

// Each of these lists four of the five (fakedocc gone), so a run that got as far as
// strapi_sync_finish would unpublish fakedocc: none may.
const fourOfFive = five.filter((p) => p.sku !== 'C');
const failures = [
  ['a 500 on page 2', { faults: { products: { 2: { status: 500 } } } }, {}, /Strapi answered 500/],
  ['a page that is not JSON', { faults: { products: { 2: { body: '<html>oops</html>' } } } }, {}, /page 2 is not a Strapi listing: not JSON/],
  ['a page cut short', { faults: { products: { 2: { body: '{"data":[{"id":1' } } } }, {}, /not a Strapi listing/],
  ['a page slower than STRAPI_SYNC_TIMEOUT', { faults: { products: { 2: { delayMs: 4000 } } } }, { STRAPI_SYNC_TIMEOUT: '1' }, /[Tt]imeout|timed out/],
  ['a total that changes between pages', { faults: { products: { 2: { addTotal: 1 } } } }, {}, /changed while it was read/],
  ['an answer larger than STRAPI_SYNC_MAX_BYTES', { faults: { products: { 2: { bytes: 100000 } } } }, { STRAPI_SYNC_MAX_BYTES: '4096' }, /larger than STRAPI_SYNC_MAX_BYTES/],
  ['a redirect to another host', { faults: { products: { 2: { redirect: `http://localhost:${PORT}/api/products?pagination%5Bpage%5D=2` } } } }, {}, /redirected to http:\/\/localhost/],
  ['a refused token', { token: 'another' }, {}, /STRAPI_API_TOKEN was refused \(403\): ForbiddenError: Forbidden/],
];
for (const [name, fault, extraEnv, message] of failures) {
  test(`${name}: exit 1, one clear line, nothing unpublished`, async () => {
    await scenario({ shape: 'v5', collections: { products: fourOfFive }, ...fault });
    const r = await runSync(env(extraEnv));
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /strapi-sync: failed after/);
    assert.equal(r.stdout, '', 'no summary line on failure');
    assert.ok(isPublished(DB, 'fakedocc'), 'fakedocc is still for sale');
  });
}

test('a 503 is tried again (STRAPI_SYNC_RETRIES) and then fails the run', async () => {
  await scenario({ shape: 'v5', collections: { products: fourOfFive }, faults: { products: { 1: { status: 503 } } } });
  const r = await runSync(env({ STRAPI_SYNC_RETRIES: '1' }));
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /HTTP 503, trying again \(1 of 1\)/);
  assert.equal((await requests()).filter((q) => q.plural === 'products' && q.page === 1).length, 2);
  assert.ok(isPublished(DB, 'fakedocc'));
});

test('a product gone from the listing is unpublished, once the whole listing was read', async () => {
  await scenario({ shape: 'v5', collections: { products: fourOfFive } });
  const r = await runSync(env());
  assert.equal(r.code, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.deepEqual([s.products.listed, s.products.unpublished], [4, 1], s.line);
  assert.match(r.stderr, /unpublished \(no longer listed by Strapi\): fakedocc/);
  assert.equal(isPublished(DB, 'fakedocc'), false);
  assert.ok(isPublished(DB, 'fakedoca'));
});

test('a webhook that could not be applied (entry.publish with entry null) is cleared by the next whole sync', async () => {
  const delivery = JSON.stringify({ event: 'entry.publish', createdAt: at, model: 'product', uid: 'api::product.product', entry: null });
  const answer = sql(DB, `SELECT body FROM multistore.strapi_product_apply('${delivery}'::jsonb)`);
  assert.match(answer, /"deferred"/);
  assert.notEqual(sql(DB, "SELECT count(*) FROM multistore.strapi_pending WHERE model = 'product'"), '0');
  await scenario({ shape: 'v5', collections: { products: fourOfFive }, faults: { products: { 2: { status: 500 } } } });
  assert.equal((await runSync(env())).code, 1);
  assert.notEqual(sql(DB, "SELECT count(*) FROM multistore.strapi_pending WHERE model = 'product'"), '0',
    'a failed sync clears nothing');
  await scenario({ shape: 'v5', collections: { products: fourOfFive } });
  const r = await runSync(env());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sql(DB, "SELECT count(*) FROM multistore.strapi_pending WHERE model = 'product'"), '0');
});

test('an entry the extension refuses: said with its SQLSTATE, kept as it was (not unpublished), exit 1', async () => {
  const bad = fourOfFive.map((p) => (p.sku === 'D' ? { ...p, price: 'twelve', updatedAt: '2026-11-25T09:00:00.000Z' } : p));
  await scenario({ shape: 'v5', collections: { products: bad } });
  const r = await runSync(env());
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /products fakedocd refused: .*\([0-9A-Z]{5}\)/);
  assert.match(r.stderr, /1 entries were refused by the extension/);
  const s = summaryOf(r.stdout);
  assert.match(s.line, /products 4 listed: .*0 unpublished, 1 refused/);
  assert.ok(isPublished(DB, 'fakedocd'), 'the refused entry is still for sale as it was');
});

test('Strapi v4 entries ({id, attributes}) are created under their numeric id', async () => {
  const v4 = [product(101, 'V4A'), product(102, 'V4B'), product(103, 'V4C')].map(({ documentId, ...e }) => e);
  // (a Strapi is v4 or v5, never both: the v5 products above are no longer listed)
  await scenario({ shape: 'v4', collections: { products: v4 } });
  const r = await runSync(env({ STRAPI_SYNC_PAGE_SIZE: '100' }));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Strapi v4 entries/);
  const s = summaryOf(r.stdout);
  assert.deepEqual([s.products.listed, s.products.created], [3, 3], s.line);
  for (const id of ['101', '102', '103']) assert.ok(isPublished(DB, id), `${id} for sale`);
});

test('an empty listing while products from Strapi are for sale: refused, nothing unpublished', async () => {
  await scenario({ shape: 'v5', collections: { products: [] } });
  const r = await runSync(env());
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /refusing to unpublish them all .*STRAPI_SYNC_ALLOW_EMPTY=1/);
  assert.ok(isPublished(DB, '101') && isPublished(DB, '102'));

  const allowed = await runSync(env({ STRAPI_SYNC_ALLOW_EMPTY: '1' }));
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(summaryOf(allowed.stdout).products.listed, 0);
  assert.ok(summaryOf(allowed.stdout).products.unpublished >= 3);
  assert.equal(isPublished(DB, '101'), false);
});

test('a missing setting: exit 2 and one line naming it', async () => {
  const r = await runSync({ DATABASE_URL: DB, STRAPI_URL: FAKE });
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^strapi-sync: STRAPI_API_TOKEN is required/);
});
