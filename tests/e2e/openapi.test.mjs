// The OpenAPI document, proxy/openapi.json: served as it is at GET
// /openapi.json, complete against the route table (proxy/routes.c), clean
// under Redocly's recommended ruleset, and every error response naming its
// codes.  Every answer of the other end-to-end tests is checked against it
// by helpers.mjs (checkResponse); the last tests here check that checker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { api, checkResponse, openapi, OPENAPI_PATH, routeOf } from './helpers.mjs';

const ROUTES_C = new URL('../../proxy/routes.c', import.meta.url).pathname;
const REDOCLY = new URL('./node_modules/.bin/redocly', import.meta.url).pathname;
const REDOCLY_CONFIG = new URL('./redocly.yaml', import.meta.url).pathname;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

// Every (METHOD, pattern) of the route table: its lines open with {"METHOD", "/pattern", ...
function routeTable() {
  const source = readFileSync(ROUTES_C, 'utf8');
  const routes = [...source.matchAll(/^\s*\{\s*"([A-Z]+)"\s*,\s*"(\/[^"]*)"/gm)].map(([, method, pattern]) => `${method} ${pattern}`);
  assert.ok(routes.length >= 20, `the route table was read (${routes.length} routes)`);
  return routes;
}

// Every (METHOD, path) of the document
function documented() {
  return Object.entries(openapi.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((k) => METHODS.includes(k)).map((m) => `${m.toUpperCase()} ${path}`));
}

test('GET /openapi.json serves proxy/openapi.json as it is', async () => {
  const res = await api('GET', '/openapi.json', { validate: false });
  assert.equal(res.status, 200, `GET /openapi.json: ${res.text.slice(0, 200)}`);
  checkResponse('GET', '/openapi.json', res);
  assert.match(res.headers.get('content-type'), /^application\/json(;|$)/);
  assert.deepEqual(res.body, JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')));
});

test('the document names every route of the route table, and nothing else', () => {
  // CORS preflights are answered for any known path and are not routes of their own
  const table = routeTable().filter((r) => !r.startsWith('OPTIONS '));
  const doc = documented();
  assert.equal(new Set(table).size, table.length, 'no route twice in the table');
  assert.deepEqual(table.filter((r) => !doc.includes(r)), [], 'routes of proxy/routes.c missing from proxy/openapi.json');
  assert.deepEqual(doc.filter((r) => !table.includes(r)), [], 'operations of proxy/openapi.json that proxy/routes.c does not have');
});

test('redocly lint: valid under the recommended ruleset, without a warning', () => {
  const run = spawnSync(REDOCLY, ['lint', OPENAPI_PATH, '--config', REDOCLY_CONFIG, '--format=stylish'], {
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
  const output = `${run.stdout}${run.stderr}`;
  assert.equal(run.error, undefined, `could not run ${REDOCLY} (npm install in tests/e2e): ${run.error}`);
  assert.equal(run.status, 0, `redocly lint failed:\n${output}`);
  assert.doesNotMatch(output, /You have \d+ warnings?/, `redocly lint warns:\n${output}`);
});

test('operation ids are unique, and every error response names the codes it can carry', () => {
  const ids = [];
  const resolve = (node) => (node?.$ref ? node.$ref.replace(/^#\//, '').split('/').reduce((n, k) => n[k], openapi) : node);
  for (const [path, item] of Object.entries(openapi.paths)) {
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method];
      ids.push(op.operationId);
      // a WebSocket handshake succeeds with 101 Switching Protocols, never a 2XX
      assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2') || s === '101'), `${method} ${path}: a success response`);
      for (const [status, ref] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const response = resolve(ref);
        const where = `${method.toUpperCase()} ${path} ${status}`;
        const desc = ref.description ?? response.description;
        assert.match(desc, /Codes?: `[a-z_]+`/, `${where}: the description lists its codes`);
        const schema = resolve(response.content?.['application/json']?.schema);
        assert.ok(schema, `${where}: a JSON body`);
        if (schema.allOf) {
          const codes = schema.allOf[1].properties.error.properties.code.enum;
          assert.equal(schema.allOf[0].$ref, '#/components/schemas/Error', `${where}: the error shape`);
          for (const code of codes) assert.ok(desc.includes(`\`${code}\``), `${where}: ${code} in the description`);
        } else {
          assert.equal(response.content['application/json'].schema.$ref, '#/components/schemas/HealthUnavailable', `${where}: the error shape`);
        }
      }
    }
  }
  assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  assert.ok(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id)), 'operationIds are camelCase');
});

// --- the checker of every answer (helpers.mjs) ------------------------------------

const json = (status, body, type = 'application/json') =>
  ({ status, headers: new Headers({ 'content-type': type }), body, text: JSON.stringify(body) });
const error = (status, code) => json(status, { error: { code, message: 'x', details: {} }, requestId: 'r-1' });
const STORE = {
  id: 'store_1', name: 'Times Square', address: '1540 Broadway', phone: null, location: { latitude: 40.758, longitude: -73.9855 },
  timeZone: 'America/New_York', openingHours: Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [d, []])),
  hoursExceptions: {}, deliveryRadiusKm: 5, acceptingOrders: true, isOpen: false, nextOpensAt: null,
  createdAt: '2026-11-25T14:00:00.000Z', updatedAt: '2026-11-25T14:00:00.000Z',
};

test('the checker matches paths to templates as the router does', () => {
  assert.equal(routeOf('/api/stores/nearby?latitude=1'), '/api/stores/nearby', 'a literal segment beats {storeId}');
  assert.equal(routeOf('/api/stores/store_1'), '/api/stores/{storeId}');
  assert.equal(routeOf('/api/stores/store_1/inventory/prod_1'), '/api/stores/{storeId}/inventory/{productId}');
  assert.equal(routeOf('/api/cart/clear'), '/api/cart/clear');
  assert.equal(routeOf('/api/stores/'), undefined, 'an empty segment matches nothing');
  assert.equal(routeOf('/api/nothing'), undefined);
});

test('the checker passes what the document says and fails anything else', () => {
  checkResponse('GET', '/api/stores/store_1', json(200, { store: STORE }));
  checkResponse('GET', '/api/stores/store_1', error(404, 'not_found'));
  checkResponse('GET', '/api/nowhere', error(404, 'not_found'));
  checkResponse('PATCH', '/api/stores/store_1', error(405, 'method_not_allowed'));
  checkResponse('HEAD', '/api/stores/store_1', { status: 200, headers: new Headers(), body: undefined, text: '' });
  checkResponse('POST', '/api/auth/logout', { status: 204, headers: new Headers(), body: undefined, text: '' });
  checkResponse('OPTIONS', '/api/orders', { status: 204, headers: new Headers(), body: undefined, text: '' });

  const fails = (method, path, res, pattern) => assert.throws(() => checkResponse(method, path, res), pattern);
  fails('GET', '/api/stores/store_1', json(200, { store: { ...STORE, colour: 'red' } }), /must NOT have additional properties.*colour/s);
  fails('GET', '/api/stores/store_1', json(200, { store: { ...STORE, deliveryRadiusKm: '5' } }), /\/store\/deliveryRadiusKm must be number/);
  fails('GET', '/api/stores/store_1', json(200, { store: { ...STORE, createdAt: '2026-11-25 14:00:00' } }), /\/store\/createdAt must match/);
  fails('GET', '/api/stores/store_1', error(409, 'conflict'), /status 409 is not documented for GET \/api\/stores\/\{storeId\}/);
  fails('GET', '/api/stores/store_1', error(404, 'gone'), /error\/code must be equal to one of the allowed values/);
  fails('GET', '/api/stores/store_1', json(404, { error: { code: 'not_found', message: 'x' } }), /must have required property 'details'/);
  fails('GET', '/api/stores/store_1', json(200, { store: STORE }, 'text/html'), /content type text\/html is not documented/);
  fails('GET', '/api/nowhere', json(200, {}), /must answer 404/);
  fails('PATCH', '/api/stores/store_1', json(200, {}), /must answer 405/);
  fails('POST', '/api/auth/logout', { status: 204, headers: new Headers(), body: undefined, text: 'x' }, /expected no body/);
});
