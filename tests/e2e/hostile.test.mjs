// Hostile input, end to end (issue "Hardening", item 3): a table of bad
// requests across every route of proxy/routes.c, each with the one answer it
// must get.  Wrong types, missing and extra fields, huge numbers, negative and
// zero quantities, NaN and infinities, 1 MiB strings, 10,000 levels of JSON,
// duplicate keys, invalid UTF-8 and overlong encodings, NUL bytes, SQL and
// header injection, path traversal, unknown enum values, dates out of range,
// and, over raw sockets, malformed and smuggling-shaped HTTP.
//
// Every case is a 4xx with the error shape {"error":{"code","message",
// "details"},"requestId"}, the code the table names (and the fields
// details.fields names), an answer openapi.json documents, and a deadline: no
// 5xx, no hang, no crash.  Raw exchanges must end with the server closing the
// connection, never answer the request smuggled after them, and be followed by
// a normal request that is served.  Afterwards the proxy is the same process
// (its /metrics counters went on), no sanitizer said anything, and the
// database is unchanged: the rows any case could write, always; every table of
// schema multistore, when no other test file or pg_cron job ran meanwhile.
//
// Answers that are not the proxy's own, named so in the table:
//   mhd(status)  libmicrohttpd refuses malformed HTTP itself, before the proxy
//                sees a request (400, 413, 414, 431; and 505 for HTTP/2.0 and
//                HTTP/0.9, which RFC 9110 15.6.6 makes the right answer): its
//                small HTML body, no X-Request-Id, then a close.
//   any(400)     a 400 from either, then a close (what a fix may choose).
// A case whose answer is wrong today names its bug (BUGS below): it asserts the
// right answer and runs as a TODO until the bug is fixed.  A case that takes
// the proxy down runs against a proxy of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import jwt from 'jsonwebtoken';
import { BASE, JWT, PROXY_BIN, checkResponse, createUsers, paymentSignature, sql } from './helpers.mjs';

const TARGET = new URL(BASE);
const DEADLINE_MS = 10000;    // an answer slower than this is a hang
const RAW_DEADLINE_MS = 2500;  // a raw exchange must have been answered and closed by then

// The wrong answers of today, each asserted as it should be (the cases run as TODO)
const BUGS = {
  B9: 'B9: libmicrohttpd 0.9.75 refuses a Content-Length it cannot parse (400) or one beyond 2^64 (413) while it parses the header '
    + 'block, before any callback of the proxy, and its error path writes the status line and header block twice (a bare libmicrohttpd '
    + 'program does the same): the proxy has no hook there. The connection is closed, so nothing is smuggled; fixed only by a '
    + 'libmicrohttpd whose parser was rewritten (1.0)',
};

const C = 'customer';
const M = 'manager';
const A = 'admin';
const NIL = '00000000-0000-4000-8000-000000000000';
const MINE = ['store_41', 'store_42'];   // the manager's stores; no other test file writes them
const OTHER = 'store_43';               // a store the manager does not manage
const SQLI = "' OR 1=1 --";
const DROP = "'; DROP TABLE multistore.stores; --";
const enc = encodeURIComponent;

// bodies
const J = (v) => JSON.stringify(v);
const STORE = { name: 'hostile store', address: '1 Hostile Street', location: { latitude: 41.79, longitude: -87.59 },
  timeZone: 'America/Chicago', openingHours: {} };
const store = (over) => J({ ...STORE, ...over });
// a payment event that would be applied (and recorded) as it is: every case breaks it
const sp = (over) => J({ event: 'entry.publish', model: 'product', uid: 'api::product.product',
  entry: { documentId: 'hostile-product', sku: 'HOSTILE-1', name: 'Hostile', price: 1, updatedAt: '2026-11-25T00:00:00Z',
    publishedAt: '2026-11-25T00:00:00Z', ...over } });
const ev = (over) => J({ id: 'evt_hostile_1', type: 'payment.succeeded', orderId: NIL, amount: 1, currency: 'USD', ...over });
const deepArray = (n) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
// body bytes from a latin1 string, for raw byte values
const bytes = (s) => Buffer.from(s, 'latin1');
// a JSON body of exactly `size` bytes: prefix, filler, suffix
const fill = (prefix, suffix, size, ch = 'x') => prefix + ch.repeat(size - prefix.length - suffix.length) + suffix;
const MiB = 1024 * 1024;
const PICKUP = '{"storeId":"store_42","deliveryType":"pickup"}';
const unknownKeys = (n) => '{' + Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',') + '}';

// expected answers of raw exchanges
const json = (status, code, fields) => ({ status, code, fields });
const mhd = (status) => ({ status, mhd: true });
const any = (status) => ({ status, any: true });
// a request appended to a smuggling shape: it must never be answered
const SMUGGLED = 'GET /hostile-smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const raw = (lines, body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;

/*
 * THE TABLE.  http cases: method, path, as (whose token), json (a body sent as
 * application/json) or body + headers, key (Idempotency-Key), sign (a good
 * Multistore-Signature over the body), expect [status, code, fields of
 * details.fields].  raw cases: the bytes (a function of the tokens when they
 * need one), the answers in order, then the server must close; smuggle: a
 * second request follows on the connection and must never be answered.
 */
const CASES = [
  // --- every route of the table: an unknown query parameter carrying SQL -----
  ...[
    ['GET', '/health'], ['GET', '/openapi.json'], ['GET', '/docs'], ['GET', '/docs/swagger-ui.css'], ['GET', '/metrics'],
    ['POST', '/api/auth/register', null, '{}'], ['POST', '/api/auth/login', null, '{}'],
    ['POST', '/api/auth/refresh-token', null, '{}'], ['POST', '/api/auth/logout', C], ['GET', '/api/auth/me', C],
    ['GET', '/api/stores/nearby?latitude=41.8&longitude=-87.6&'], ['GET', '/api/stores/store_42'],
    ['GET', '/api/stores/store_42/availability'], ['POST', '/api/stores', A, '{}'], ['PUT', '/api/stores/store_42', A, '{}'],
    ['PUT', '/api/stores/store_42/inventory/prod_117', M, '{}'], ['POST', '/api/stores/store_42/reservations', M, '{}'],
    ['GET', `/api/reservations/${NIL}`, M], ['DELETE', `/api/reservations/${NIL}`, M], ['GET', '/api/cart', C],
    ['POST', '/api/cart/items', C, '{}'], ['PUT', `/api/cart/items/${NIL}`, C, '{}'], ['DELETE', `/api/cart/items/${NIL}`, C],
    ['DELETE', '/api/cart/clear', C], ['POST', '/api/orders', C, '{}'], ['GET', '/api/orders', C],
    ['GET', `/api/orders/${NIL}`, C], ['PUT', `/api/orders/${NIL}/status`, M, '{}'], ['POST', `/api/orders/${NIL}/cancel`, C],
    ['GET', '/api/stores/store_42/orders', M], ['POST', '/webhooks/payment', null, '{}', true],
    ['GET', '/api/products'], ['GET', '/api/products/prod_1'],
    ['POST', '/webhooks/product-updated', null, '{}', false, true], ['POST', '/webhooks/inventory-updated', null, '{}', false, true],
    ['POST', '/webhooks/promotion-updated', null, '{}', false, true],
    ['POST', '/api/realtime/ticket', C], ['GET', '/ws', C], ['GET', '/api/events', C],
  ].map(([method, path, as, body, sign, strapi]) => ({
    g: 'route', name: `${method} ${path.split('?')[0]}: unknown parameter with SQL in it`, method, as, sign, strapi,
    path: `${path}${path.includes('?') ? '' : '?'}${enc(DROP)}=${enc(SQLI)}`, json: body,
    key: path === '/api/orders' ? 'hostile-route-key' : undefined, expect: [400, 'validation_failed', [DROP]],
  })),

  // --- Strapi's webhooks and the catalogue ------------------------------------------
  { g: 'strapi', name: 'product price as a string', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ price: '12.50' }), expect: [400, 'validation_failed', ['entry.price']] },
  { g: 'strapi', name: 'product price 1e300', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ price: 1e300 }), expect: [400, 'validation_failed', ['entry.price']] },
  { g: 'strapi', name: 'product price -0.01', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ price: -0.01 }), expect: [400, 'validation_failed', ['entry.price']] },
  { g: 'strapi', name: 'product price NaN in JSON', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ price: 1 }).replace('"price":1', '"price":NaN'), expect: [400, 'invalid_json'] },
  { g: 'strapi', name: 'product updatedAt 30 February', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ updatedAt: '2026-02-30T00:00:00Z' }), expect: [400, 'validation_failed', ['entry.updatedAt']] },
  { g: 'strapi', name: 'product updatedAt in year 99999', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ updatedAt: '99999-01-01T00:00:00Z' }), expect: [400, 'validation_failed', ['entry.updatedAt']] },
  { g: 'strapi', name: 'product publishedAt with a 25-hour zone', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ publishedAt: '2026-11-25T00:00:00+25:00' }), expect: [400, 'validation_failed', ['entry.publishedAt']] },
  { g: 'strapi', name: 'product documentId carrying SQL', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ documentId: DROP }), expect: [400, 'validation_failed', ['entry.documentId']] },
  { g: 'strapi', name: 'product id 1.5 (v4)', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: J({ event: 'entry.update', model: 'product', entry: { id: 1.5, sku: 'h', name: 'h', price: 1, updatedAt: '2026-11-25T00:00:00Z' } }), expect: [400, 'validation_failed', ['entry.id']] },
  { g: 'strapi', name: 'product without sku, name or price', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: J({ event: 'entry.publish', model: 'product', entry: { documentId: 'hostile1', updatedAt: '2026-11-25T00:00:00Z', publishedAt: '2026-11-25T00:00:00Z' } }), expect: [400, 'validation_failed', ['entry.sku', 'entry.name', 'entry.price']] },
  { g: 'strapi', name: 'product event as a number', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: J({ event: 7, model: 'product', entry: {} }), expect: [400, 'validation_failed', ['event']] },
  { g: 'strapi', name: 'product entry as an array', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: J({ event: 'entry.update', model: 'product', entry: [1] }), expect: [400, 'validation_failed', ['entry']] },
  { g: 'strapi', name: 'product entry 10,000 objects deep', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: `{"event":"entry.update","model":"product","entry":${deepObject(10000)}}`, expect: [400, 'invalid_json'] },
  { g: 'strapi', name: 'product name of 1 MiB', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ name: 'n'.repeat(MiB) }), expect: [413, 'payload_too_large'] },
  { g: 'strapi', name: 'product name NUL in JSON', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ name: 'a\u0000b' }), expect: [400, 'invalid_json'] },
  { g: 'strapi', name: 'product sku of 65 characters', strapi: true, method: 'POST', path: '/webhooks/product-updated', json: sp({ sku: 's'.repeat(65) }), expect: [400, 'validation_failed', ['entry.sku']] },
  { g: 'strapi', name: 'product secret in a query string only', method: 'POST', path: `/webhooks/product-updated?secret=${enc('x')}`, json: sp({}), expect: [401, 'unauthorized'] },
  { g: 'strapi', name: 'promotion type bogus, value 150, products not a list', strapi: true, method: 'POST', path: '/webhooks/promotion-updated', json: J({ event: 'entry.publish', model: 'promotion', entry: { documentId: 'hostile-promo', code: 'X', discountType: 'bogus', value: 150, products: 'prod_1', updatedAt: '2026-11-25T00:00:00Z', publishedAt: '2026-11-25T00:00:00Z' } }), expect: [400, 'validation_failed', ['entry.discountType', 'entry.products']] },
  { g: 'strapi', name: 'promotion 150 percent, ending before it starts', strapi: true, method: 'POST', path: '/webhooks/promotion-updated', json: J({ event: 'entry.publish', model: 'promotion', entry: { documentId: 'hostile-promo', code: 'X', discountType: 'percentage', value: 150, products: ['prod_1'], startsAt: '2026-12-02T00:00:00Z', endsAt: '2026-12-01T00:00:00Z', updatedAt: '2026-11-25T00:00:00Z', publishedAt: '2026-11-25T00:00:00Z' } }), expect: [400, 'validation_failed', ['entry.value', 'entry.endsAt']] },
  { g: 'strapi', name: 'promotion fixed without a currency, products holding SQL', strapi: true, method: 'POST', path: '/webhooks/promotion-updated', json: J({ event: 'entry.publish', model: 'promotion', entry: { documentId: 'hostile-promo', code: 'X', discountType: 'fixed', value: 1, products: [SQLI], updatedAt: '2026-11-25T00:00:00Z', publishedAt: '2026-11-25T00:00:00Z' } }), expect: [400, 'validation_failed', ['entry.currency', 'entry.products']] },
  { g: 'strapi', name: 'stock quantity -1 and 1.5 kinds', strapi: true, method: 'POST', path: '/webhooks/inventory-updated', json: J({ event: 'entry.update', model: 'inventory', entry: { id: 1, store: 'store_42', product: 'prod_1', quantity: -1, updatedAt: '2026-11-25T00:00:00Z' } }), expect: [400, 'validation_failed', ['entry.quantity']] },
  { g: 'strapi', name: 'stock quantity 1.5, store as a list', strapi: true, method: 'POST', path: '/webhooks/inventory-updated', json: J({ event: 'entry.update', model: 'inventory', entry: { id: 1, store: ['store_42'], product: 'prod_1', quantity: 1.5, updatedAt: '2026-11-25T00:00:00Z' } }), expect: [400, 'validation_failed', ['entry.store', 'entry.quantity']] },
  { g: 'catalogue', name: 'products limit=0', method: 'GET', path: '/api/products?limit=0', expect: [400, 'validation_failed', ['limit']] },
  { g: 'catalogue', name: 'products q of 101 characters', method: 'GET', path: `/api/products?q=${'q'.repeat(101)}`, expect: [400, 'validation_failed', ['q']] },
  { g: 'catalogue', name: 'products cursor carrying SQL', method: 'GET', path: `/api/products?cursor=${enc(SQLI)}`, expect: [400, 'validation_failed', ['cursor']] },
  { g: 'catalogue', name: 'products storeId carrying SQL', method: 'GET', path: `/api/products?storeId=${enc(DROP)}`, expect: [400, 'validation_failed', ['storeId']] },
  { g: 'catalogue', name: 'products ids, 101 of them', method: 'GET', path: `/api/products?ids=${Array.from({ length: 101 }, (_, i) => `prod_${i}`).join(',')}`, expect: [400, 'validation_failed', ['ids']] },
  { g: 'catalogue', name: 'product id with a path traversal', method: 'GET', path: '/api/products/..%2F..%2Fetc%2Fpasswd', expect: [404, 'not_found'] },

  // --- wrong types -------------------------------------------------------------
  { g: 'types', name: 'body is an array', as: C, method: 'POST', path: '/api/cart/items', json: '[]', expect: [400, 'validation_failed', ['body']] },
  { g: 'types', name: 'body is a string', as: C, method: 'POST', path: '/api/cart/items', json: '"x"', expect: [400, 'invalid_json'] },
  { g: 'types', name: 'body is null', as: C, method: 'POST', path: '/api/cart/items', json: 'null', expect: [400, 'invalid_json'] },
  { g: 'types', name: 'body is a number', as: A, method: 'POST', path: '/api/stores', json: '42', expect: [400, 'invalid_json'] },
  { g: 'types', name: 'quantity as a string', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":"1"}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'types', name: 'quantity as a boolean', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":true}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'types', name: 'productId as a number', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":42,"quantity":1}', expect: [400, 'validation_failed', ['productId']] },
  { g: 'types', name: 'cart line quantity as an array', as: C, method: 'PUT', path: `/api/cart/items/${NIL}`, json: '{"quantity":[1]}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'types', name: 'login email as an array, password as an operator object', method: 'POST', path: '/api/auth/login', json: '{"email":["admin@example.com"],"password":{"$ne":null}}', expect: [400, 'validation_failed', ['email', 'password']] },
  { g: 'types', name: 'register password as a number', method: 'POST', path: '/api/auth/register', json: '{"email":"hostile-1@example.com","password":123456789,"firstName":"H","lastName":"Ostile"}', expect: [400, 'validation_failed', ['password']] },
  { g: 'types', name: 'refresh token as a number', method: 'POST', path: '/api/auth/refresh-token', json: '{"refreshToken":12345}', expect: [400, 'validation_failed', ['refreshToken']] },
  { g: 'types', name: 'store acceptingOrders as "yes"', as: A, method: 'POST', path: '/api/stores', json: store({ acceptingOrders: 'yes' }), expect: [400, 'validation_failed', ['acceptingOrders']] },
  { g: 'types', name: 'store location as a string', as: A, method: 'POST', path: '/api/stores', json: store({ location: '41.79,-87.59' }), expect: [400, 'validation_failed', ['location']] },
  { g: 'types', name: 'openingHours as an array', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"openingHours":[]}', expect: [400, 'validation_failed', ['openingHours']] },
  { g: 'types', name: 'phone as a number', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"phone":5550101}', expect: [400, 'validation_failed', ['phone']] },
  { g: 'types', name: 'onHand as a string', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":"10"}', expect: [400, 'validation_failed', ['onHand']] },
  { g: 'types', name: 'reservation items as a string', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":"prod_117"}', expect: [400, 'validation_failed', ['items']] },
  { g: 'types', name: 'reservation ttlSeconds as a string', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":1}],"ttlSeconds":"60"}', expect: [400, 'validation_failed', ['ttlSeconds']] },
  { g: 'types', name: 'order storeId as a number', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":42,"deliveryType":"pickup"}', expect: [400, 'validation_failed', ['storeId']] },
  { g: 'types', name: 'deliveryAddress as a string', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":"store_42","deliveryType":"delivery","deliveryAddress":"1 Main St"}', expect: [400, 'validation_failed', ['deliveryAddress']] },
  { g: 'types', name: 'status as an array', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{"status":["preparing"]}', expect: [400, 'validation_failed', ['status']] },
  { g: 'types', name: 'status note as a number', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{"status":"preparing","note":5}', expect: [400, 'validation_failed', ['note']] },
  { g: 'types', name: 'payment amount as a string', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ amount: '1.00' }), expect: [400, 'validation_failed', ['amount']] },

  // --- missing and extra fields ------------------------------------------------
  { g: 'fields', name: 'register with only an email', method: 'POST', path: '/api/auth/register', json: '{"email":"hostile-2@example.com"}', expect: [400, 'validation_failed', ['password', 'firstName', 'lastName']] },
  { g: 'fields', name: 'register asking for the admin role', method: 'POST', path: '/api/auth/register', json: '{"email":"hostile-3@example.com","password":"long enough pass","firstName":"H","lastName":"O","role":"admin"}', expect: [400, 'validation_failed', ['role']] },
  { g: 'fields', name: 'login with an empty object', method: 'POST', path: '/api/auth/login', json: '{}', expect: [400, 'validation_failed', ['email', 'password']] },
  { g: 'fields', name: 'login with an extra field', method: 'POST', path: '/api/auth/login', json: '{"email":"customer@example.com","password":"x","mfa":"000000"}', expect: [400, 'validation_failed', ['mfa']] },
  { g: 'fields', name: 'refresh with an empty object', method: 'POST', path: '/api/auth/refresh-token', json: '{}', expect: [400, 'validation_failed', ['refreshToken']] },
  { g: 'fields', name: 'cart item without productId', as: C, method: 'POST', path: '/api/cart/items', json: '{"quantity":1}', expect: [400, 'validation_failed', ['productId']] },
  { g: 'fields', name: 'cart item naming its own price', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":1,"price":"0.01"}', expect: [400, 'validation_failed', ['price']] },
  { g: 'fields', name: 'cart line changing its product', as: C, method: 'PUT', path: `/api/cart/items/${NIL}`, json: '{"quantity":1,"productId":"prod_2"}', expect: [400, 'validation_failed', ['productId']] },
  { g: 'fields', name: 'order without deliveryType', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":"store_42"}', expect: [400, 'validation_failed', ['deliveryType']] },
  { g: 'fields', name: 'order naming its user and total', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: J({ storeId: 'store_42', deliveryType: 'pickup', userId: NIL, total: '0.00' }), expect: [400, 'validation_failed', ['userId', 'total']] },
  { g: 'fields', name: 'order address with an unknown field', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: J({ storeId: 'store_42', deliveryType: 'delivery', deliveryAddress: { line1: '1 Main St', city: 'Chicago', postalCode: '60615', floor: 3 } }), expect: [400, 'validation_failed', ['deliveryAddress.floor']] },
  { g: 'fields', name: 'status change without status', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{}', expect: [400, 'validation_failed', ['status']] },
  { g: 'fields', name: 'status change naming its actor', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{"status":"preparing","actor":"payment"}', expect: [400, 'validation_failed', ['actor']] },
  { g: 'fields', name: 'reservation without items', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{}', expect: [400, 'validation_failed', ['items']] },
  { g: 'fields', name: 'reservation naming its owner type', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":1}],"ownerType":"order"}', expect: [400, 'validation_failed', ['ownerType']] },
  { g: 'fields', name: 'reservation line with a price', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":1,"price":0}]}', expect: [400, 'validation_failed', ['items[0].price']] },
  { g: 'fields', name: 'store with nothing in it', as: A, method: 'POST', path: '/api/stores', json: '{}', expect: [400, 'validation_failed', ['name', 'address', 'location', 'timeZone', 'openingHours']] },
  { g: 'fields', name: 'store location with an altitude', as: A, method: 'POST', path: '/api/stores', json: store({ location: { latitude: 41.79, longitude: -87.59, altitude: 180 } }), expect: [400, 'validation_failed', ['location.altitude']] },
  { g: 'fields', name: 'opening hours range with a note', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"openingHours":{"monday":[{"opens":"08:00","closes":"12:00","note":"x"}]}}', expect: [400, 'validation_failed', ['openingHours.monday[0].note']] },
  { g: 'fields', name: 'store update setting createdAt', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"createdAt":"2000-01-01T00:00:00Z"}', expect: [400, 'validation_failed', ['createdAt']] },
  { g: 'fields', name: 'stock without onHand', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{}', expect: [400, 'validation_failed', ['onHand']] },
  { g: 'fields', name: 'stock setting held', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":5,"held":0}', expect: [400, 'validation_failed', ['held']] },
  { g: 'fields', name: 'payment event with only an id', method: 'POST', path: '/webhooks/payment', sign: true, json: '{"id":"evt_hostile_2"}', expect: [400, 'validation_failed', ['type', 'orderId', 'amount', 'currency']] },
  { g: 'fields', name: 'payment event with an extra field', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ refunded: true }), expect: [400, 'validation_failed', ['refunded']] },
  { g: 'fields', name: 'nearby without longitude', method: 'GET', path: '/api/stores/nearby?latitude=41.8', expect: [400, 'validation_failed', ['longitude']] },
  { g: 'fields', name: 'nearby with a value-less parameter', method: 'GET', path: '/api/stores/nearby?latitude&longitude=1', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'fields', name: 'nearby with a name-less parameter', method: 'GET', path: '/api/stores/nearby?=1&latitude=1&longitude=1', expect: [400, 'validation_failed', ['']] },
  { g: 'fields', name: '101 query parameters', method: 'GET', path: `/api/stores/nearby?latitude=1&longitude=1&${Array.from({ length: 99 }, (_, i) => `p${i}=1`).join('&')}`, expect: [400, 'validation_failed'] },

  // --- huge numbers, negative and zero quantities ------------------------------
  { g: 'numbers', name: 'quantity 1e309', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":1e309}', expect: [400, 'invalid_json'] },
  { g: 'numbers', name: 'quantity 2^63', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":9223372036854775808}', expect: [400, 'invalid_json'] },
  { g: 'numbers', name: 'quantity 99999999999999999999', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":99999999999999999999}', expect: [400, 'invalid_json'] },
  { g: 'numbers', name: 'quantity 1e308', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":1e308}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'quantity -1', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":-1}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'quantity 0', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":0}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'quantity -0', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":-0}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'quantity 1.5', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":1.5}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'quantity 100 (a line holds 1 to 99)', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":100}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'quantity -1e-400 (below double precision)', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":-1e-400}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'cart line quantity -1', as: C, method: 'PUT', path: `/api/cart/items/${NIL}`, json: '{"quantity":-1}', expect: [400, 'validation_failed', ['quantity']] },
  { g: 'numbers', name: 'cart line quantity 0 on a line that is not there', as: C, method: 'PUT', path: `/api/cart/items/${NIL}`, json: '{"quantity":0}', expect: [404, 'not_found'] },
  { g: 'numbers', name: 'reservation quantity 0', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":0}]}', expect: [400, 'validation_failed', ['items[0].quantity']] },
  { g: 'numbers', name: 'reservation quantity -5', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":-5}]}', expect: [400, 'validation_failed', ['items[0].quantity']] },
  { g: 'numbers', name: 'reservation quantity 1e308', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":1e308}]}', expect: [400, 'validation_failed', ['items[0].quantity']] },
  { g: 'numbers', name: 'reservation quantity 2^63', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":9223372036854775808}]}', expect: [400, 'invalid_json'] },
  { g: 'numbers', name: 'reservation ttlSeconds 1e300', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":1}],"ttlSeconds":1e300}', expect: [400, 'validation_failed', ['ttlSeconds']] },
  { g: 'numbers', name: 'reservation ttlSeconds 0', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: '{"items":[{"productId":"prod_117","quantity":1}],"ttlSeconds":0}', expect: [400, 'validation_failed', ['ttlSeconds']] },
  { g: 'numbers', name: 'reservation of 101 lines', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: J({ items: Array.from({ length: 101 }, () => ({ productId: 'prod_117', quantity: 1 })) }), expect: [400, 'validation_failed', ['items']] },
  { g: 'numbers', name: 'onHand -1', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":-1}', expect: [400, 'validation_failed', ['onHand']] },
  { g: 'numbers', name: 'onHand 1e308', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":1e308}', expect: [400, 'validation_failed', ['onHand']] },
  { g: 'numbers', name: 'onHand 2^63-1', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":9223372036854775807}', expect: [400, 'validation_failed', ['onHand']] },
  { g: 'numbers', name: 'onHand -2^63', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":-9223372036854775808}', expect: [400, 'validation_failed', ['onHand']] },
  { g: 'numbers', name: 'onHand 1.5', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":1.5}', expect: [400, 'validation_failed', ['onHand']] },
  { g: 'numbers', name: 'store location 1e308, -1e308', as: A, method: 'POST', path: '/api/stores', json: store({ location: { latitude: 1e308, longitude: -1e308 } }), expect: [400, 'validation_failed', ['location.latitude', 'location.longitude']] },
  { g: 'numbers', name: 'deliveryRadiusKm -1', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"deliveryRadiusKm":-1}', expect: [400, 'validation_failed', ['deliveryRadiusKm']] },
  { g: 'numbers', name: 'deliveryRadiusKm 99999999999999999999', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"deliveryRadiusKm":99999999999999999999}', expect: [400, 'invalid_json'] },
  { g: 'numbers', name: 'delivery latitude 91', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: J({ storeId: 'store_42', deliveryType: 'delivery', deliveryAddress: { line1: '1 Main St', city: 'Chicago', postalCode: '60615', latitude: 91, longitude: 0 } }), expect: [400, 'validation_failed', ['deliveryAddress.latitude']] },
  { g: 'numbers', name: 'payment amount -1', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ amount: -1 }), expect: [400, 'validation_failed', ['amount']] },
  { g: 'numbers', name: 'payment amount 1e300', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ amount: 1e300 }), expect: [400, 'validation_failed', ['amount']] },
  { g: 'numbers', name: 'payment amount 99999999999999999999', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ amount: 1 }).replace('"amount":1', '"amount":99999999999999999999'), expect: [400, 'invalid_json'] },
  { g: 'numbers', name: 'payment amount 1e309', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ amount: 1 }).replace('"amount":1', '"amount":1e309'), expect: [400, 'invalid_json'] },
  { g: 'numbers', name: 'nearby latitude 1e308', method: 'GET', path: '/api/stores/nearby?latitude=1e308&longitude=0', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'numbers', name: 'nearby latitude 1e-400', method: 'GET', path: '/api/stores/nearby?latitude=1e-400&longitude=0', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'numbers', name: 'nearby radius 1e-400', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&radius=1e-400', expect: [400, 'validation_failed', ['radius']] },
  { g: 'numbers', name: 'nearby radius 0', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&radius=0', expect: [400, 'validation_failed', ['radius']] },
  { g: 'numbers', name: 'nearby radius -5', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&radius=-5', expect: [400, 'validation_failed', ['radius']] },
  { g: 'numbers', name: 'nearby limit 99999999999999999999', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&limit=99999999999999999999', expect: [400, 'validation_failed', ['limit']] },
  { g: 'numbers', name: 'nearby limit 2^63', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&limit=9223372036854775808', expect: [400, 'validation_failed', ['limit']] },
  { g: 'numbers', name: 'nearby limit 0', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&limit=0', expect: [400, 'validation_failed', ['limit']] },
  { g: 'numbers', name: 'nearby limit -1', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&limit=-1', expect: [400, 'validation_failed', ['limit']] },
  { g: 'numbers', name: 'nearby basket quantity 0', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&productIds=prod_1:0', expect: [400, 'validation_failed', ['productIds']] },
  { g: 'numbers', name: 'nearby basket quantity -3', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&productIds=prod_1:-3', expect: [400, 'validation_failed', ['productIds']] },
  { g: 'numbers', name: 'nearby basket quantity 99999999999999999999', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&productIds=prod_1:99999999999999999999', expect: [400, 'validation_failed', ['productIds']] },
  { g: 'numbers', name: 'orders limit 0', as: C, method: 'GET', path: '/api/orders?limit=0', expect: [400, 'validation_failed', ['limit']] },
  { g: 'numbers', name: 'orders limit 99999999999999999999', as: C, method: 'GET', path: '/api/orders?limit=99999999999999999999', expect: [400, 'validation_failed', ['limit']] },
  { g: 'numbers', name: 'store orders limit -1', as: M, method: 'GET', path: '/api/stores/store_42/orders?limit=-1', expect: [400, 'validation_failed', ['limit']] },
  { g: 'numbers', name: 'signature timestamp 99999999999999999999', method: 'POST', path: '/webhooks/payment', headers: { 'multistore-signature': `t=99999999999999999999,v1=${'a'.repeat(64)}` }, json: ev({ currency: 'usd' }), expect: [401, 'invalid_signature'] },

  // --- NaN and infinities --------------------------------------------------------
  { g: 'nan', name: 'quantity NaN in JSON', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":NaN}', expect: [400, 'invalid_json'] },
  { g: 'nan', name: 'quantity Infinity in JSON', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":Infinity}', expect: [400, 'invalid_json'] },
  { g: 'nan', name: 'onHand -Infinity in JSON', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":-Infinity}', expect: [400, 'invalid_json'] },
  { g: 'nan', name: 'payment amount NaN in JSON', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ amount: 1 }).replace('"amount":1', '"amount":NaN'), expect: [400, 'invalid_json'] },
  { g: 'nan', name: 'nearby latitude=NaN', method: 'GET', path: '/api/stores/nearby?latitude=NaN&longitude=0', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'nan', name: 'nearby longitude=Infinity', method: 'GET', path: '/api/stores/nearby?latitude=0&longitude=Infinity', expect: [400, 'validation_failed', ['longitude']] },
  { g: 'nan', name: 'nearby radius=-Infinity', method: 'GET', path: '/api/stores/nearby?latitude=0&longitude=0&radius=-Infinity', expect: [400, 'validation_failed', ['radius']] },
  { g: 'nan', name: 'nearby latitude=1e999', method: 'GET', path: '/api/stores/nearby?latitude=1e999&longitude=0', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'nan', name: 'orders limit=NaN', as: C, method: 'GET', path: '/api/orders?limit=NaN', expect: [400, 'validation_failed', ['limit']] },
  { g: 'nan', name: 'store orders limit=Infinity', as: M, method: 'GET', path: '/api/stores/store_42/orders?limit=Infinity', expect: [400, 'validation_failed', ['limit']] },
  { g: 'nan', name: 'HEAD nearby latitude=NaN (no body)', method: 'HEAD', path: '/api/stores/nearby?latitude=NaN&longitude=0', expect: [400] },

  // --- 1 MiB strings -------------------------------------------------------------
  { g: 'big', name: 'cart productId of 1 MiB', as: C, method: 'POST', path: '/api/cart/items', json: `{"productId":"${'a'.repeat(MiB)}","quantity":1}`, expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'cart productId filling the 1 MiB limit exactly', as: C, method: 'POST', path: '/api/cart/items', json: fill('{"quantity":1,"productId":"', '"}', MiB), expect: [400, 'validation_failed', ['productId']] },
  { g: 'big', name: 'cart productId of 512 Ki "é" (1 MiB of UTF-8)', as: C, method: 'POST', path: '/api/cart/items', json: `{"productId":"${'é'.repeat(MiB / 2)}","quantity":1}`, expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'store name of 1 MiB', as: A, method: 'POST', path: '/api/stores', json: store({ name: 'n'.repeat(MiB) }), expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'store name filling the limit', as: A, method: 'PUT', path: '/api/stores/store_42', json: fill('{"name":"', '"}', MiB), expect: [400, 'validation_failed', ['name']] },
  { g: 'big', name: 'order notes of 1 MiB', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: J({ storeId: 'store_42', deliveryType: 'pickup', notes: 'n'.repeat(MiB) }), expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'order notes filling the limit', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: fill('{"storeId":"store_42","deliveryType":"pickup","notes":"', '"}', MiB), expect: [400, 'validation_failed', ['notes']] },
  { g: 'big', name: 'reservation reference filling the limit', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: fill('{"items":[{"productId":"prod_117","quantity":1}],"reference":"', '"}', MiB), expect: [400, 'validation_failed', ['reference']] },
  { g: 'big', name: 'status note filling the limit', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: fill('{"status":"preparing","note":"', '"}', MiB), expect: [400, 'validation_failed', ['note']] },
  { g: 'big', name: 'login email of 1 MiB (route limit 16 KiB)', method: 'POST', path: '/api/auth/login', json: `{"email":"${'e'.repeat(MiB)}","password":"x"}`, expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'login password filling 16 KiB', method: 'POST', path: '/api/auth/login', json: fill('{"email":"customer@example.com","password":"', '"}', 16384), expect: [400, 'validation_failed', ['password']] },
  { g: 'big', name: 'register password of 1 MiB', method: 'POST', path: '/api/auth/register', json: J({ email: 'hostile-4@example.com', password: 'p'.repeat(MiB), firstName: 'H', lastName: 'O' }), expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'refresh token of 1 MiB (route limit 4 KiB)', method: 'POST', path: '/api/auth/refresh-token', json: `{"refreshToken":"${'r'.repeat(MiB)}"}`, expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'refresh token filling 4 KiB', method: 'POST', path: '/api/auth/refresh-token', json: fill('{"refreshToken":"', '"}', 4096), expect: [400, 'validation_failed', ['refreshToken']] },
  { g: 'big', name: 'payment id of 1 MiB (route limit 64 KiB)', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ id: 'i'.repeat(MiB) }), expect: [413, 'payload_too_large'] },
  { g: 'big', name: 'payment id filling 64 KiB', method: 'POST', path: '/webhooks/payment', sign: true, json: fill('{"type":"payment.succeeded","orderId":"00000000-0000-4000-8000-000000000000","amount":1,"currency":"USD","id":"evt_hostile_', '"}', 65536), expect: [400, 'validation_failed', ['id']] },
  { g: 'big', name: '60,000 unknown keys answered within 2 s', as: C, method: 'POST', path: '/api/cart/items', json: unknownKeys(60000), deadline: 2000, expect: [400, 'validation_failed'] },
  { g: 'big', name: 'a query string of 1 MiB', raw: raw([`GET /api/stores/nearby?latitude=${'1'.repeat(MiB)}&longitude=0 HTTP/1.1`, 'Host: x']), answers: [mhd(414)] },
  { g: 'big', name: 'a header of 1 MiB', raw: raw(['GET /health HTTP/1.1', 'Host: x', `X-Big: ${'b'.repeat(MiB)}`]), answers: [mhd(431)] },

  // --- 10,000 levels of JSON -------------------------------------------------------
  { g: 'deep', name: '10,000 nested arrays', as: C, method: 'POST', path: '/api/cart/items', json: deepArray(10000), expect: [400, 'invalid_json'] },
  { g: 'deep', name: '10,000 nested objects', as: C, method: 'POST', path: '/api/cart/items', json: deepObject(10000), expect: [400, 'invalid_json'] },
  { g: 'deep', name: 'store name 10,000 arrays deep', as: A, method: 'PUT', path: '/api/stores/store_42', json: `{"name":${deepArray(10000)}}`, expect: [400, 'invalid_json'] },
  { g: 'deep', name: 'delivery address 10,000 objects deep', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: `{"storeId":"store_42","deliveryType":"delivery","deliveryAddress":${deepObject(10000)}}`, expect: [400, 'invalid_json'] },
  { g: 'deep', name: 'reservation items 10,000 arrays deep', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: `{"items":${deepArray(10000)}}`, expect: [400, 'invalid_json'] },
  { g: 'deep', name: 'payment event 10,000 arrays deep (signed)', method: 'POST', path: '/webhooks/payment', sign: true, json: deepArray(10000), expect: [400, 'invalid_json'] },
  { g: 'deep', name: 'refresh 10,000 arrays deep (over 4 KiB)', method: 'POST', path: '/api/auth/refresh-token', json: deepArray(10000), expect: [413, 'payload_too_large'] },
  { g: 'deep', name: 'login 10,000 objects deep (over 16 KiB)', method: 'POST', path: '/api/auth/login', json: deepObject(10000), expect: [413, 'payload_too_large'] },
  { g: 'deep', name: 'storeId 2,000 arrays deep, through to PostgreSQL', as: C, method: 'POST', path: '/api/cart/items', json: `{"productId":"prod_1","quantity":1,"storeId":${deepArray(2000)}}`, expect: [400, 'validation_failed', ['storeId']] },
  { g: 'deep', name: 'openingHours 2,000 objects deep, through to PostgreSQL', as: A, method: 'PUT', path: '/api/stores/store_42', json: `{"openingHours":${deepObject(2000)}}`, expect: [400, 'validation_failed', ['openingHours.a']] },
  { g: 'deep', name: 'reservation items 2,000 arrays deep, through to PostgreSQL', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: `{"items":${deepArray(2000)}}`, expect: [400, 'validation_failed', ['items[0]']] },
  { g: 'deep', name: 'exception hours 2,000 arrays deep, through to PostgreSQL', as: A, method: 'PUT', path: '/api/stores/store_42', json: `{"hoursExceptions":{"2026-12-24":${deepArray(2000)}}}`, expect: [400, 'validation_failed', ['hoursExceptions.2026-12-24[0]']] },

  // --- duplicate keys ---------------------------------------------------------------
  { g: 'dupes', name: 'quantity twice', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":1,"quantity":2}', expect: [400, 'invalid_json'] },
  { g: 'dupes', name: 'quantity twice, once escaped', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1","quantity":1,"qu\\u0061ntity":99}', expect: [400, 'invalid_json'] },
  { g: 'dupes', name: 'login password twice', method: 'POST', path: '/api/auth/login', json: '{"email":"customer@example.com","password":"x","password":"multistore-demo"}', expect: [400, 'invalid_json'] },
  { g: 'dupes', name: 'store name twice', as: A, method: 'POST', path: '/api/stores', json: '{"name":"hostile a","name":"hostile b"}', expect: [400, 'invalid_json'] },
  { g: 'dupes', name: 'delivery city twice, nested', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":"store_42","deliveryType":"delivery","deliveryAddress":{"line1":"1 Main St","city":"a","city":"b","postalCode":"60615"}}', expect: [400, 'invalid_json'] },
  { g: 'dupes', name: 'status twice', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{"status":"preparing","status":"completed"}', expect: [400, 'invalid_json'] },
  { g: 'dupes', name: 'payment id twice (signed)', method: 'POST', path: '/webhooks/payment', sign: true, json: '{"id":"evt_hostile_3","id":"evt_hostile_4"}', expect: [400, 'invalid_json'] },
  { g: 'dupes', name: 'query latitude twice', method: 'GET', path: '/api/stores/nearby?latitude=41.8&latitude=40.7&longitude=-87.6', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'dupes', name: 'query limit twice', as: C, method: 'GET', path: '/api/orders?limit=1&limit=2', expect: [400, 'validation_failed', ['limit']] },

  // --- invalid UTF-8 and overlong encodings ----------------------------------------
  { g: 'utf8', name: 'body byte 0xFF', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"prod_\xff","quantity":1}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body overlong "/" (C0 AF)', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"\xc0\xaf","quantity":1}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body overlong NUL (C0 80)', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"prod\xc0\x80","quantity":1}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body UTF-8 surrogate (ED A0 80)', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"\xed\xa0\x80","quantity":1}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body beyond U+10FFFF (F4 90 80 80)', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"\xf4\x90\x80\x80","quantity":1}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body truncated sequence (E2 82)', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"prod_\xe2\x82","quantity":1}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body overlong in a key (E0 80 AF)', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"\xe0\x80\xaf":1}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body lone surrogate escape \\ud800', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"\\ud800","quantity":1}', expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'body with a byte order mark', as: C, method: 'POST', path: '/api/cart/items', json: '\ufeff{"productId":"prod_1","quantity":1}', expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'login password with byte 0xFF', method: 'POST', path: '/api/auth/login', body: bytes('{"email":"customer@example.com","password":"\xff"}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'path storeId %C0%AF', method: 'GET', path: '/api/stores/%C0%AF', expect: [404, 'not_found'] },
  { g: 'utf8', name: 'path storeId with %FF', method: 'GET', path: '/api/stores/store_%FF/availability', expect: [404, 'not_found'] },
  { g: 'utf8', name: 'path docs file overlong "../" (%C0%AE%C0%AE%C0%AF)', method: 'GET', path: '/docs/%C0%AE%C0%AE%C0%AFpackage.json', expect: [404, 'not_found'] },
  { g: 'utf8', name: 'path reservation id %E0%80%AF', as: M, method: 'GET', path: '/api/reservations/%E0%80%AF', expect: [404, 'not_found'] },
  { g: 'utf8', name: 'query value %C0%AF', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&productIds=%C0%AF', expect: [400, 'validation_failed', ['productIds']] },
  { g: 'utf8', name: 'query name x%C0%AF', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&x%C0%AF=1', expect: [400, 'validation_failed', ['?']] },
  { g: 'utf8', name: 'query cursor %ED%A0%80 (surrogate)', as: C, method: 'GET', path: '/api/orders?cursor=%ED%A0%80', expect: [400, 'validation_failed', ['cursor']] },
  { g: 'utf8', name: 'query status %F4%90%80%80', as: M, method: 'GET', path: '/api/stores/store_42/orders?status=%F4%90%80%80', expect: [400, 'validation_failed', ['status']] },
  { g: 'utf8', name: 'Idempotency-Key of bytes C0 AF', as: C, method: 'POST', path: '/api/orders', key: '\xc0\xaf', json: '{"storeId":"store_42","deliveryType":"pickup"}', expect: [400, 'validation_failed', ['Idempotency-Key']] },
  { g: 'utf8', name: 'Idempotency-Key in UTF-8 (not visible ASCII)', as: C, method: 'POST', path: '/api/orders', key: Buffer.from('clé').toString('latin1'), json: '{"storeId":"store_42","deliveryType":"pickup"}', expect: [400, 'validation_failed', ['Idempotency-Key']] },
  { g: 'utf8', name: 'Authorization with byte 0xFF', method: 'GET', path: '/api/auth/me', headers: { authorization: 'Bearer \xff\xfe' }, expect: [401, 'invalid_token'] },
  { g: 'utf8', name: 'an invalid escape whose quote in the message ends inside a character, unauthenticated (own proxy)', ownProxy: true, method: 'POST', path: '/api/auth/login', body: Buffer.from('{"email":"\\u00é"}'), expect: [400, 'invalid_json'] },
  { g: 'utf8', name: 'an extension message cut inside a character (own proxy)', ownProxy: true, as: A, method: 'PUT', path: '/api/stores/store_42', json: J({ hoursExceptions: { [`${'a'.repeat(31)}é`]: [] } }), expect: [400, 'validation_failed'] },

  // --- NUL bytes ---------------------------------------------------------------------
  { g: 'nul', name: 'path storeId%00', method: 'GET', path: '/api/stores/store_42%00', expect: [404, 'not_found'] },
  { g: 'nul', name: 'path storeId%00 mid-path', method: 'GET', path: '/api/stores/store_42%00/availability', expect: [404, 'not_found'] },
  { g: 'nul', name: 'path docs file %00', method: 'GET', path: '/docs/swagger-ui.css%00.json', expect: [404, 'not_found'] },
  { g: 'nul', name: 'path order id %00', as: C, method: 'GET', path: `/api/orders/${NIL}%00`, expect: [404, 'not_found'] },
  { g: 'nul', name: 'query latitude=40%00', method: 'GET', path: '/api/stores/nearby?latitude=40%00&longitude=0', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'nul', name: 'query productIds=prod_1%00', method: 'GET', path: '/api/stores/store_42/availability?productIds=prod_1%00', expect: [400, 'validation_failed', ['productIds']] },
  { g: 'nul', name: 'query cursor=%00', as: C, method: 'GET', path: '/api/orders?cursor=%00', expect: [400, 'validation_failed', ['cursor']] },
  { g: 'nul', name: 'query name latitude%00 (a second latitude)', method: 'GET', path: '/api/stores/nearby?latitude=41.8&longitude=-87.6&latitude%00=2', expect: [400, 'validation_failed', ['latitude']] },
  { g: 'nul', name: 'JSON string \\u0000', as: C, method: 'POST', path: '/api/cart/items', json: '{"productId":"prod_1\\u0000","quantity":1}', expect: [400, 'invalid_json'] },
  { g: 'nul', name: 'JSON key \\u0000', as: C, method: 'POST', path: '/api/cart/items', json: '{"\\u0000":1}', expect: [400, 'invalid_json'] },
  { g: 'nul', name: 'JSON string \\u0000 in a payment id (signed)', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ id: 'evt_hostile\u0000' }), expect: [400, 'invalid_json'] },
  { g: 'nul', name: 'raw NUL inside a JSON string', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"prod_1\x00","quantity":1}'), expect: [400, 'invalid_json'] },
  { g: 'nul', name: 'raw NUL after the JSON', as: C, method: 'POST', path: '/api/cart/items', body: bytes('{"productId":"prod_1","quantity":0}\x00'), expect: [400, 'invalid_json'] },
  { g: 'nul', name: 'raw NUL in the Authorization header', raw: (t) => raw(['GET /api/auth/me HTTP/1.1', 'Host: x', `Authorization: Bearer \x00${t.customer}`, 'Connection: close']), answers: [json(401, 'invalid_token')] },

  // --- SQL injection in every kind of parameter -----------------------------------------
  { g: 'sqli', name: 'path storeId', method: 'GET', path: `/api/stores/${enc(SQLI)}`, expect: [404, 'not_found'] },
  { g: 'sqli', name: 'path storeId of availability', method: 'GET', path: `/api/stores/${enc(DROP)}/availability`, expect: [404, 'not_found'] },
  { g: 'sqli', name: 'path productId', as: M, method: 'PUT', path: `/api/stores/store_42/inventory/${enc(DROP)}`, json: '{"onHand":0}', expect: [404, 'not_found'] },
  { g: 'sqli', name: 'path reservationId', as: M, method: 'DELETE', path: `/api/reservations/${enc(SQLI)}`, expect: [404, 'not_found'] },
  { g: 'sqli', name: 'path orderId', as: C, method: 'POST', path: `/api/orders/${enc(`${NIL}' OR '1'='1`)}/cancel`, expect: [404, 'not_found'] },
  { g: 'sqli', name: 'path itemId', as: C, method: 'DELETE', path: `/api/cart/items/${enc(DROP)}`, expect: [404, 'not_found'] },
  { g: 'sqli', name: 'path docs file', method: 'GET', path: `/docs/${enc(SQLI)}`, expect: [404, 'not_found'] },
  { g: 'sqli', name: 'path storeId of store orders', as: M, method: 'GET', path: `/api/stores/${enc("store_42' OR '1'='1")}/orders`, expect: [404, 'not_found'] },
  { g: 'sqli', name: 'query latitude', method: 'GET', path: `/api/stores/nearby?latitude=${enc('40;DROP TABLE multistore.stores')}&longitude=0`, expect: [400, 'validation_failed', ['latitude']] },
  { g: 'sqli', name: 'query productIds of nearby', method: 'GET', path: `/api/stores/nearby?latitude=41.8&longitude=-87.6&productIds=${enc(SQLI)}`, expect: [400, 'validation_failed', ['productIds']] },
  { g: 'sqli', name: 'query productIds of availability', method: 'GET', path: `/api/stores/store_42/availability?productIds=${enc("prod_1,'; DROP TABLE multistore.inventory; --")}`, expect: [400, 'validation_failed', ['productIds']] },
  { g: 'sqli', name: 'query status', as: M, method: 'GET', path: `/api/stores/store_42/orders?status=${enc(SQLI)}`, expect: [400, 'validation_failed', ['status']] },
  { g: 'sqli', name: 'query cursor', as: C, method: 'GET', path: `/api/orders?cursor=${enc("1' OR '1'='1")}`, expect: [400, 'validation_failed', ['cursor']] },
  { g: 'sqli', name: 'query limit', as: C, method: 'GET', path: `/api/orders?limit=${enc('1;DROP TABLE multistore.orders')}`, expect: [400, 'validation_failed', ['limit']] },
  { g: 'sqli', name: 'body cart productId', as: C, method: 'POST', path: '/api/cart/items', json: J({ productId: SQLI, quantity: 1 }), expect: [400, 'validation_failed', ['productId']] },
  { g: 'sqli', name: 'body cart storeId', as: C, method: 'POST', path: '/api/cart/items', json: J({ productId: 'prod_1', quantity: 1, storeId: DROP }), expect: [400, 'validation_failed', ['storeId']] },
  { g: 'sqli', name: 'body login email', method: 'POST', path: '/api/auth/login', json: J({ email: "admin@example.com'--", password: 'x' }), expect: [401, 'invalid_credentials'] },
  { g: 'sqli', name: 'body login password', method: 'POST', path: '/api/auth/login', json: J({ email: 'admin@example.com', password: SQLI }), expect: [401, 'invalid_credentials'] },
  { g: 'sqli', name: 'body register email, with a short password', method: 'POST', path: '/api/auth/register', json: J({ email: `hostile${SQLI}@example.com`, password: 'short', firstName: DROP, lastName: SQLI }), expect: [400, 'validation_failed', ['email', 'password']] },
  { g: 'sqli', name: 'body refresh token', method: 'POST', path: '/api/auth/refresh-token', json: J({ refreshToken: SQLI }), expect: [401, 'invalid_token'] },
  { g: 'sqli', name: 'body order storeId', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: J({ storeId: SQLI, deliveryType: 'pickup' }), expect: [400, 'validation_failed', ['storeId']] },
  { g: 'sqli', name: 'body order notes, with a bad deliveryType', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: J({ storeId: 'store_42', deliveryType: 'teleport', notes: DROP }), expect: [400, 'validation_failed', ['deliveryType']] },
  { g: 'sqli', name: 'body delivery line1, with no postalCode', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: J({ storeId: 'store_42', deliveryType: 'delivery', deliveryAddress: { line1: DROP, city: SQLI } }), expect: [400, 'validation_failed', ['deliveryAddress.postalCode']] },
  { g: 'sqli', name: 'body status value', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: J({ status: "preparing'; DROP TABLE multistore.orders; --" }), expect: [400, 'validation_failed', ['status']] },
  { g: 'sqli', name: 'body status note, with an unknown status', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: J({ status: 'shipped', note: DROP }), expect: [400, 'validation_failed', ['status']] },
  { g: 'sqli', name: 'body reservation productId', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: J({ items: [{ productId: SQLI, quantity: 1 }] }), expect: [400, 'validation_failed', ['items[0].productId']] },
  { g: 'sqli', name: 'body reservation reference, with quantity 0', as: M, method: 'POST', path: '/api/stores/store_42/reservations', json: J({ items: [{ productId: 'prod_117', quantity: 0 }], reference: DROP }), expect: [400, 'validation_failed', ['items[0].quantity']] },
  { g: 'sqli', name: 'body store id', as: A, method: 'POST', path: '/api/stores', json: store({ id: DROP }), expect: [400, 'validation_failed', ['id']] },
  { g: 'sqli', name: 'body store name, with a bad time zone', as: A, method: 'POST', path: '/api/stores', json: store({ name: `hostile ${DROP}`, timeZone: 'Mars/Olympus_Mons' }), expect: [400, 'validation_failed', ['timeZone']] },
  { g: 'sqli', name: 'body store time zone', as: A, method: 'PUT', path: '/api/stores/store_42', json: J({ timeZone: "UTC'; DROP TABLE multistore.stores; --" }), expect: [400, 'validation_failed', ['timeZone']] },
  { g: 'sqli', name: 'body stock onHand', as: M, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: J({ onHand: '1; DROP TABLE multistore.inventory' }), expect: [400, 'validation_failed', ['onHand']] },
  { g: 'sqli', name: 'body payment orderId', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ orderId: SQLI }), expect: [400, 'validation_failed', ['orderId']] },
  { g: 'sqli', name: 'body payment id, with a bad currency', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ id: `evt_hostile${DROP}`, currency: 'usd' }), expect: [400, 'validation_failed', ['currency']] },
  { g: 'sqli', name: 'header Idempotency-Key', as: C, method: 'POST', path: '/api/orders', key: SQLI, json: '{"storeId":"store_42","deliveryType":"pickup"}', expect: [400, 'validation_failed', ['Idempotency-Key']] },
  { g: 'sqli', name: 'header Idempotency-Key without spaces, with a bad body', as: C, method: 'POST', path: '/api/orders', key: "';DROP/**/TABLE/**/multistore.orders;--", json: '{"storeId":"store_42","deliveryType":"teleport"}', expect: [400, 'validation_failed', ['deliveryType']] },
  { g: 'sqli', name: 'header Authorization', method: 'GET', path: '/api/cart', headers: { authorization: `Bearer ${SQLI}` }, expect: [401, 'invalid_token'] },
  { g: 'sqli', name: 'header Multistore-Signature', method: 'POST', path: '/webhooks/payment', headers: { 'multistore-signature': `t=1' OR '1'='1,v1=${'0'.repeat(64)}` }, json: ev({ currency: 'usd' }), expect: [401, 'invalid_signature'] },
  { g: 'sqli', name: 'header X-Request-Id (not echoed)', method: 'GET', path: '/api/hostile-no-route', headers: { 'x-request-id': SQLI }, freshRequestId: true, expect: [404, 'not_found'] },

  // --- header injection: CR and LF in header values, over a raw socket ----------------------
  { g: 'headers', name: 'bare CR in X-Request-Id before a fake header', raw: raw(['GET /api/hostile-no-route HTTP/1.1', 'Host: x', 'X-Request-Id: abc\rX-Injected: yes', 'Connection: close']), answers: [json(404, 'not_found')], noHeaders: ['x-injected'], freshRequestId: true },
  { g: 'headers', name: 'bare LF in X-Request-Id before Set-Cookie', raw: raw(['GET /api/hostile-no-route HTTP/1.1', 'Host: x', 'X-Request-Id: abc\nSet-Cookie: session=evil', 'Connection: close']), answers: [json(404, 'not_found')], noHeaders: ['set-cookie'] },
  { g: 'headers', name: 'bare CR in Authorization before Set-Cookie', raw: raw(['GET /api/auth/me HTTP/1.1', 'Host: x', 'Authorization: Bearer x\rSet-Cookie: session=evil', 'Connection: close']), answers: [json(401, 'invalid_token')], noHeaders: ['set-cookie'] },
  { g: 'headers', name: 'bare CR in Idempotency-Key', raw: (t) => raw(['POST /api/orders HTTP/1.1', 'Host: x', `Authorization: Bearer ${t.customer}`, 'Idempotency-Key: k\rX-Injected: y', 'Content-Type: application/json', `Content-Length: ${PICKUP.length}`, 'Connection: close'], PICKUP), answers: [json(400, 'validation_failed', ['Idempotency-Key'])], noHeaders: ['x-injected'] },
  { g: 'headers', name: 'bare CR in Origin before Access-Control-Allow-Origin', raw: raw(['GET /api/hostile-no-route HTTP/1.1', 'Host: x', 'Origin: https://evil.example\rAccess-Control-Allow-Origin: *', 'Connection: close']), answers: [json(404, 'not_found')], noHeaders: ['access-control-allow-origin'] },
  { g: 'headers', name: 'CRLF smuggled as a header of its own: Authorization forged', raw: raw(['GET /api/auth/me HTTP/1.1', 'Host: x', 'X-Note: a', 'Authorization: Bearer forged.token.here', 'Connection: close']), answers: [json(401, 'invalid_token')] },
  { g: 'headers', name: 'an obs-fold hiding an Authorization line (refused: the fold shows in the joined name)', raw: (t) => raw(['GET /api/auth/me HTTP/1.1', 'Host: x', 'X-Note: a', ` Authorization: Bearer ${t.admin}`, 'Connection: close']), answers: [json(400, 'bad_request')], validate: false },
  { g: 'headers', name: '%0d%0a in the path', method: 'GET', path: '/api/stores/store_42%0d%0aSet-Cookie:%20session=evil', expect: [404, 'not_found'], noHeaders: ['set-cookie'] },
  { g: 'headers', name: '%0d%0a in a query value', method: 'GET', path: '/api/stores/nearby?latitude=1%0d%0aX-Injected:%20yes&longitude=1', expect: [400, 'validation_failed', ['latitude']], noHeaders: ['x-injected'] },

  // --- path traversal -------------------------------------------------------------------------
  { g: 'traversal', name: '/api/stores/..%2f..%2fetc%2fpasswd', method: 'GET', path: '/api/stores/..%2f..%2fetc%2fpasswd', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/api/stores/..%2F..%2F..%2Fetc%2Fpasswd/availability', method: 'GET', path: '/api/stores/..%2F..%2F..%2Fetc%2Fpasswd/availability', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/../package.json', method: 'GET', path: '/docs/../package.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/..%2fpackage.json', method: 'GET', path: '/docs/..%2fpackage.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/%2e%2e%2f%2e%2e%2fpackage.json', method: 'GET', path: '/docs/%2e%2e%2f%2e%2e%2fpackage.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/..%5c..%5cpackage.json', method: 'GET', path: '/docs/..%5c..%5cpackage.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/%252e%252e%252fpackage.json (double-encoded)', method: 'GET', path: '/docs/%252e%252e%252fpackage.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/swagger-ui.css/../../package.json', method: 'GET', path: '/docs/swagger-ui.css/../../package.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/package.json (a file, but no asset)', method: 'GET', path: '/docs/package.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs//etc/passwd', method: 'GET', path: '/docs//etc/passwd', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/docs/....%2f%2fpackage.json', method: 'GET', path: '/docs/....%2f%2fpackage.json', expect: [404, 'not_found'] },
  { g: 'traversal', name: '/openapi.json/../proxy/config.c', method: 'GET', path: '/openapi.json/../proxy/config.c', expect: [404, 'not_found'] },
  { g: 'traversal', name: 'PUT /api/stores/..%2fstore_42', as: A, method: 'PUT', path: '/api/stores/..%2fstore_42', json: '{"name":"hostile"}', expect: [404, 'not_found'] },
  { g: 'traversal', name: 'OPTIONS /api/stores/..%2f..%2fetc%2fpasswd', method: 'OPTIONS', path: '/api/stores/..%2f..%2fetc%2fpasswd', expect: [404, 'not_found'] },

  // --- unknown enum values ------------------------------------------------------------------------
  { g: 'enums', name: 'deliveryType "teleport"', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":"store_42","deliveryType":"teleport"}', expect: [400, 'validation_failed', ['deliveryType']] },
  { g: 'enums', name: 'deliveryType "PICKUP"', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":"store_42","deliveryType":"PICKUP"}', expect: [400, 'validation_failed', ['deliveryType']] },
  { g: 'enums', name: 'deliveryType ""', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":"store_42","deliveryType":""}', expect: [400, 'validation_failed', ['deliveryType']] },
  { g: 'enums', name: 'deliveryType null', as: C, method: 'POST', path: '/api/orders', key: 'hostile-k', json: '{"storeId":"store_42","deliveryType":null}', expect: [400, 'validation_failed', ['deliveryType']] },
  { g: 'enums', name: 'status "shipped"', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{"status":"shipped"}', expect: [400, 'validation_failed', ['status']] },
  { g: 'enums', name: 'status "CONFIRMED"', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{"status":"CONFIRMED"}', expect: [400, 'validation_failed', ['status']] },
  { g: 'enums', name: 'status ""', as: M, method: 'PUT', path: `/api/orders/${NIL}/status`, json: '{"status":""}', expect: [400, 'validation_failed', ['status']] },
  { g: 'enums', name: 'query status=shipped', as: M, method: 'GET', path: '/api/stores/store_42/orders?status=shipped', expect: [400, 'validation_failed', ['status']] },
  { g: 'enums', name: 'query status=PENDING_PAYMENT', as: M, method: 'GET', path: '/api/stores/store_42/orders?status=PENDING_PAYMENT', expect: [400, 'validation_failed', ['status']] },
  { g: 'enums', name: 'register with role "store_manager"', method: 'POST', path: '/api/auth/register', json: '{"email":"hostile-5@example.com","password":"long enough pass","firstName":"H","lastName":"O","role":"store_manager"}', expect: [400, 'validation_failed', ['role']] },
  { g: 'enums', name: 'payment type "payment.refunded"', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ type: 'payment.refunded' }), expect: [400, 'validation_failed', ['type']] },
  { g: 'enums', name: 'payment currency "usd"', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ currency: 'usd' }), expect: [400, 'validation_failed', ['currency']] },
  { g: 'enums', name: 'payment currency "EURO"', method: 'POST', path: '/webhooks/payment', sign: true, json: ev({ currency: 'EURO' }), expect: [400, 'validation_failed', ['currency']] },
  { g: 'enums', name: 'opening hours of "funday"', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"openingHours":{"funday":[]}}', expect: [400, 'validation_failed', ['openingHours.funday']] },
  { g: 'enums', name: 'time zone "Mars/Olympus_Mons"', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"timeZone":"Mars/Olympus_Mons"}', expect: [400, 'validation_failed', ['timeZone']] },
  { g: 'enums', name: 'time zone "../../../../etc/passwd"', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"timeZone":"../../../../etc/passwd"}', expect: [400, 'validation_failed', ['timeZone']] },

  // --- dates and times out of range --------------------------------------------------------------------
  ...['2026-02-30', '2026-13-01', '99999-01-01', '0000-01-01', '-4713-11-24', '5874898-01-01'].map((date) => ({
    g: 'dates', name: `exception date ${date}`, as: A, method: 'PUT', path: '/api/stores/store_42',
    json: J({ hoursExceptions: { [date]: [] } }), expect: [400, 'validation_failed', [`hoursExceptions.${date}`]],
  })),
  { g: 'dates', name: 'opening hours 25:00 to 26:00', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"openingHours":{"monday":[{"opens":"25:00","closes":"26:00"}]}}', expect: [400, 'validation_failed', ['openingHours.monday[0].opens', 'openingHours.monday[0].closes']] },
  { g: 'dates', name: 'opening hours 23:60', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"openingHours":{"monday":[{"opens":"23:60","closes":"24:00"}]}}', expect: [400, 'validation_failed', ['openingHours.monday[0].opens']] },
  { g: 'dates', name: 'opening hours closing 24:01', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"openingHours":{"monday":[{"opens":"08:00","closes":"24:01"}]}}', expect: [400, 'validation_failed', ['openingHours.monday[0].closes']] },
  { g: 'dates', name: 'opening hours opening 24:00', as: A, method: 'PUT', path: '/api/stores/store_42', json: '{"openingHours":{"monday":[{"opens":"24:00","closes":"02:00"}]}}', expect: [400, 'validation_failed', ['openingHours.monday[0].opens']] },
  { g: 'dates', name: 'cursor at 1e999 microseconds', as: C, method: 'GET', path: `/api/orders?cursor=1e999.${NIL}`, expect: [400, 'validation_failed', ['cursor']] },
  { g: 'dates', name: 'cursor at 99999999999999999999 microseconds (overflows)', as: M, method: 'GET', path: `/api/stores/store_42/orders?cursor=99999999999999999999.${NIL}`, expect: [400, 'validation_failed', ['cursor']] },
  { g: 'dates', name: 'signature from 1970', method: 'POST', path: '/webhooks/payment', sign: { t: 0 }, json: ev({ currency: 'usd' }), expect: [401, 'invalid_signature'] },
  { g: 'dates', name: 'signature from the year 33658', method: 'POST', path: '/webhooks/payment', sign: { t: 999999999999 }, json: ev({ currency: 'usd' }), expect: [401, 'invalid_signature'] },
  { g: 'dates', name: 'signature at t=-1', method: 'POST', path: '/webhooks/payment', headers: { 'multistore-signature': `t=-1,v1=${'0'.repeat(64)}` }, json: ev({ currency: 'usd' }), expect: [401, 'invalid_signature'] },

  // --- tokens and roles ------------------------------------------------------------------------------------
  { g: 'auth', name: 'a JWT with alg "none" claiming admin', method: 'POST', path: '/api/stores', headers: (t) => ({ authorization: `Bearer ${t.unsigned}` }), json: store({ timeZone: 'Mars/Base' }), expect: [401, 'invalid_token'] },
  { g: 'auth', name: 'a JWT signed with another secret', method: 'GET', path: '/api/auth/me', headers: (t) => ({ authorization: `Bearer ${t.foreign}` }), expect: [401, 'invalid_token'] },
  { g: 'auth', name: 'an expired JWT', method: 'GET', path: '/api/cart', headers: (t) => ({ authorization: `Bearer ${t.expired}` }), expect: [401, 'token_expired'] },
  { g: 'auth', name: 'a good signature for a session that does not exist', method: 'GET', path: '/api/cart', headers: (t) => ({ authorization: `Bearer ${t.ghost}` }), expect: [401, 'invalid_token'] },
  { g: 'auth', name: 'a customer\'s session claiming the admin role', method: 'POST', path: '/api/stores', headers: (t) => ({ authorization: `Bearer ${t.forgedRole}` }), json: store({ timeZone: 'Mars/Base' }), expect: [403, 'forbidden'] },
  { g: 'auth', name: 'Basic credentials', method: 'POST', path: '/api/auth/logout', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' }, expect: [401, 'invalid_token'] },
  { g: 'auth', name: 'a bearer token of 8 KB', method: 'GET', path: '/api/auth/me', headers: { authorization: `Bearer ${'a'.repeat(8000)}` }, expect: [401, 'invalid_token'] },
  { g: 'auth', name: 'a customer on an admin route', as: C, method: 'POST', path: '/api/stores', json: store({ timeZone: 'Mars/Base' }), expect: [403, 'forbidden'] },
  { g: 'auth', name: 'a customer on a manager route', as: C, method: 'PUT', path: '/api/stores/store_42/inventory/prod_117', json: '{"onHand":-1}', expect: [403, 'forbidden'] },
  { g: 'auth', name: 'a manager of other stores', as: M, method: 'PUT', path: `/api/stores/${OTHER}/inventory/prod_117`, json: '{"onHand":-1}', expect: [403, 'forbidden'] },
  { g: 'auth', name: 'a manager on an admin route', as: M, method: 'PUT', path: '/api/stores/store_42', json: '{"name":""}', expect: [403, 'forbidden'] },
  { g: 'auth', name: 'webhook without a signature', method: 'POST', path: '/webhooks/payment', json: ev({ currency: 'usd' }), expect: [401, 'invalid_signature'] },
  { g: 'auth', name: 'webhook signed over another body', method: 'POST', path: '/webhooks/payment', headers: { 'multistore-signature': paymentSignature(ev({})) }, json: ev({ currency: 'usd' }), expect: [401, 'invalid_signature'] },

  // --- media types and methods --------------------------------------------------------------------------------
  ...['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    'application/json;charset=utf-8;x=1', 'application/jsonx', 'application/json\tgarbage'].map((type) => ({
    g: 'http', name: `Content-Type ${type}`, method: 'POST', path: '/api/auth/login', headers: { 'content-type': type },
    body: '{"email":"customer@example.com","password":"x"}', expect: [415, 'unsupported_media_type'],
  })),
  { g: 'http', name: 'a body without Content-Type', as: C, method: 'POST', path: '/api/cart/items', headers: { 'content-type': undefined }, body: '{"productId":"prod_1","quantity":1}', expect: [415, 'unsupported_media_type'] },
  { g: 'http', name: 'method FOO', method: 'FOO', path: '/api/stores/store_42', expect: [405, 'method_not_allowed'] },
  { g: 'http', name: 'method TRACE', method: 'TRACE', path: '/api/stores/store_42', expect: [405, 'method_not_allowed'] },
  { g: 'http', name: 'DELETE a store', as: A, method: 'DELETE', path: '/api/stores/store_42', expect: [405, 'method_not_allowed'] },
  { g: 'http', name: 'PATCH the cart', as: C, method: 'PATCH', path: '/api/cart', json: '{}', expect: [405, 'method_not_allowed'] },
  { g: 'http', name: 'OPTIONS on an unknown path', method: 'OPTIONS', path: '/api/hostile-no-route', expect: [404, 'not_found'] },
  { g: 'http', name: 'lower-case method "get"', validate: false, raw: raw(['get /api/stores/store_42 HTTP/1.1', 'Host: x', 'Connection: close']), answers: [json(405, 'method_not_allowed')] },
  { g: 'http', name: 'CONNECT', raw: raw(['CONNECT evil.example:443 HTTP/1.1', 'Host: evil.example:443', 'Connection: close']), answers: [json(404, 'not_found')] },
  { g: 'http', name: 'a method of 3,000 letters', raw: raw([`${'A'.repeat(3000)} /health HTTP/1.1`, 'Host: x', 'Connection: close']), answers: [json(405, 'method_not_allowed')] },

  // --- malformed HTTP and smuggling shapes, over raw sockets ----------------------------------------------------
  { g: 'smuggling', name: 'Content-Length and Transfer-Encoding', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), answers: [any(400)] },
  { g: 'smuggling', name: 'two Content-Lengths that differ', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2', `Content-Length: ${2 + SMUGGLED.length}`], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'two Transfer-Encodings, the last not chunked', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], '2\r\n{}\r\n0\r\n\r\n'), answers: [any(400)] },
  { g: 'smuggling', name: 'Transfer-Encoding: identity', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: identity'], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'Transfer-Encoding: chunked, identity', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked, identity'], '2\r\n{}\r\n0\r\n\r\n'), answers: [any(400)] },
  { g: 'smuggling', name: 'Transfer-Encoding: xchunked', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: xchunked'], '2\r\n{}\r\n0\r\n\r\n'), answers: [any(400)] },
  { g: 'smuggling', name: '"Transfer-Encoding :" (space before the colon)', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding : chunked', 'Content-Length: 2'], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'an obs-folded Content-Length', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2', ' Content-Length: 0'], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'an obs-folded continuation of token characters after Content-Length', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2', ' 0'], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'an obs-folded first header line', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', ' Host: x', 'Content-Type: application/json', 'Content-Length: 2'], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'a tab between a header name and its colon', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length\t: 2'], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'two Content-Lengths that agree', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 2'], '{}'), answers: [any(400)] },
  { g: 'smuggling', name: 'Transfer-Encoding in an HTTP/1.0 request', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.0', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], '2\r\n{}\r\n0\r\n\r\n'), answers: [any(400)] },
  { g: 'smuggling', name: 'two Hosts', raw: raw(['GET /api/stores/store_42 HTTP/1.1', 'Host: x', 'Host: y', 'Connection: close']), answers: [any(400)] },
  { g: 'smuggling', name: 'chunk size "zz"', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'chunk size -1', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], '-1\r\n{}\r\n0\r\n\r\n'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'chunk size 0x2', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], '0x2\r\n{}\r\n0\r\n\r\n'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'chunk size with a leading space', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], ' 2\r\n{}\r\n0\r\n\r\n'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'chunk size of 20 hex digits', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], 'ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n'), answers: [mhd(413)] },
  { g: 'smuggling', name: 'a chunk longer than its size', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], '2\r\n{}XY\r\n0\r\n\r\n'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'chunked, then trailing garbage (closed without a second answer)', raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], '2\r\n{}\r\n0\r\n\r\ngarbage\r\n\r\n'), answers: [json(400, 'validation_failed', ['email', 'password'])] },
  { g: 'smuggling', name: 'Content-Length: -1', bug: 'B9', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: -1'], '{}'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'Content-Length: 1e3', bug: 'B9', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 1e3'], '{}'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'Content-Length: 2, 2', bug: 'B9', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2, 2'], '{}'), answers: [mhd(400)] },
  { g: 'smuggling', name: 'Content-Length: 99999999999999999999', bug: 'B9', smuggle: true, raw: raw(['POST /api/auth/login HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 99999999999999999999'], '{}'), answers: [mhd(413)] },
  { g: 'smuggling', name: 'a request line with a space in the path', raw: raw(['GET /api/stores/store 42 HTTP/1.1', 'Host: x', 'Connection: close']), answers: [json(404, 'not_found')] },
  { g: 'smuggling', name: 'a request line with a tab', raw: raw(['GET /api/stores/store_42\tHTTP/1.1', 'Host: x', 'Connection: close']), answers: [mhd(400)] },
  { g: 'smuggling', name: 'a request line with a fourth word', raw: raw(['GET /api/stores/store_42 HTTP/1.1 extra', 'Host: x', 'Connection: close']), answers: [mhd(400)] },
  { g: 'smuggling', name: 'an HTTP/0.9 request line', smuggle: true, raw: 'GET /health\r\n\r\n', answers: [mhd(400)] },
  { g: 'smuggling', name: 'an HTTP/2.0 request line', smuggle: true, raw: raw(['GET /health HTTP/2.0', 'Host: x']), answers: [mhd(505)] },
  { g: 'smuggling', name: 'the HTTP/2 connection preface', smuggle: true, raw: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', answers: [mhd(505)] },
  { g: 'smuggling', name: 'a header of 20 KiB', smuggle: true, raw: raw(['GET /health HTTP/1.1', 'Host: x', `X-Big: ${'b'.repeat(20 * 1024)}`]), answers: [mhd(431)] },
  { g: 'smuggling', name: '2,000 headers', smuggle: true, raw: raw(['GET /health HTTP/1.1', 'Host: x', ...Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`)]), answers: [mhd(431)] },
  { g: 'smuggling', name: 'HTTP/1.1 without Host', raw: raw(['GET /api/stores/store_42 HTTP/1.1', 'Connection: close']), answers: [any(400)] },
];

// The tokens of the table, made before the database snapshot
const ctx = {};

function makeTokens() {
  const [customer] = createUsers(1, { role: 'customer', tag: 'hostile-customer' });
  const [manager] = createUsers(1, { role: 'store_manager', stores: MINE, tag: 'hostile-manager' });
  const [admin] = createUsers(1, { role: 'admin', tag: 'hostile-admin' });
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims, secret = JWT.secret, options = {}) => jwt.sign(claims, secret,
    { algorithm: 'HS256', issuer: JWT.issuer, audience: JWT.audience, ...options });
  const b64 = (o) => Buffer.from(J(o)).toString('base64url');
  Object.assign(ctx, {
    users: { customer, manager, admin },
    tokens: {
      customer: customer.accessToken, manager: manager.accessToken, admin: admin.accessToken,
      unsigned: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: admin.id, role: 'admin', sid: admin.sessionId, iss: JWT.issuer, aud: JWT.audience, iat: now, exp: now + 900 })}.`,
      foreign: sign({ sub: admin.id, role: 'admin', sid: admin.sessionId }, 'not-the-secret-but-32-bytes-long-at-least', { expiresIn: 900 }),
      expired: sign({ sub: customer.id, role: 'customer', sid: customer.sessionId, iat: now - 3600, exp: now - 600 }),
      ghost: sign({ sub: customer.id, role: 'customer', sid: NIL }, JWT.secret, { expiresIn: 900 }),
      forgedRole: sign({ sub: customer.id, role: 'admin', sid: customer.sessionId }, JWT.secret, { expiresIn: 900 }),
    },
  });
}

// --- HTTP, two ways ----------------------------------------------------------

// {status, headers, text, body}: the shape checkResponse() takes
function answer(status, headers, text) {
  let body;
  try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
  return { status, headers, text, body };
}

// One request over node:http, the path sent as it is written; rejects after the deadline
function httpRequest(method, path, { headers = {}, body, deadline = DEADLINE_MS, port = Number(TARGET.port) } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${deadline} ms: a hang`)), deadline);
    const req = http.request({ host: TARGET.hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
      res.on('end', () => {
        clearTimeout(timer);
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(answer(res.statusCode, h, Buffer.concat(chunks).toString('utf8')));
      });
    });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.end(body);
  });
}

// Bytes over a raw socket: what came back, and whether the server closed within the deadline
function rawExchange(data, deadline = RAW_DEADLINE_MS) {
  return new Promise((resolve) => {
    const socket = net.connect(Number(TARGET.port), TARGET.hostname);
    const chunks = [];
    let done = false;
    const finish = (closed, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed, error });
    };
    const timer = setTimeout(() => finish(false), deadline);
    socket.on('connect', () => socket.write(data));
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // a reset while we still write counts as a close; what was read is kept
    socket.on('error', (e) => finish(true, e.code));
  });
}

// The HTTP/1.1 answers in a byte stream, and what is left that is none
function parseAnswers(data) {
  const answers = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0 || !/^HTTP\/1\.[01] \d{3}/.test(rest.subarray(0, 12).toString('latin1'))) break;
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      try { headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim()); } catch { /* kept out */ }
    }
    const length = Number(headers.get('content-length') ?? 0);
    answers.push(answer(Number(lines[0].slice(9, 12)), headers, rest.subarray(end + 4, end + 4 + length).toString('utf8')));
    rest = rest.subarray(end + 4 + length);
  }
  return { answers, garbage: rest.toString('latin1') };
}

// --- what every answer must be -------------------------------------------------

let proxyAnswers = 0; // answers of the shared proxy's own code: its /metrics counts them
let counting = true;  // not while a case runs against a proxy of its own

const LEAKS = /syntax error|SQLSTATE|postgres(ql)?:\/\/|at character \d+|\bERROR:\s|\bSPI_|stack depth/i;

// The error shape, the status and code the table expects, and the fields it names
function assertProxyAnswer(res, [status, code, fields], what) {
  assert.equal(res.status, status, `${what}: status ${res.status}, expected ${status}: ${res.text.slice(0, 300)}`);
  assert.ok(res.status < 500, `${what}: a 5xx`);
  const requestId = res.headers.get('x-request-id');
  assert.ok(requestId, `${what}: no X-Request-Id, so not the proxy's answer: ${res.text.slice(0, 200)}`);
  if (counting) proxyAnswers += 1;
  if (res.text === '') return; // HEAD
  assert.equal(res.headers.get('content-type'), 'application/json', what);
  const body = res.body;
  assert.ok(body && typeof body === 'object', `${what}: the body is not JSON: ${res.text.slice(0, 200)}`);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'requestId'], `${what}: ${res.text.slice(0, 300)}`);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'details', 'message'], `${what}: ${res.text.slice(0, 300)}`);
  assert.equal(typeof body.error.message, 'string', what);
  assert.ok(body.error.details && typeof body.error.details === 'object' && !Array.isArray(body.error.details), what);
  assert.equal(body.requestId, requestId, `${what}: requestId is not X-Request-Id`);
  assert.doesNotMatch(body.error.message, LEAKS, `${what}: the message shows something internal`);
  if (code !== undefined) assert.equal(body.error.code, code, `${what}: code ${body.error.code}, expected ${code}: ${res.text.slice(0, 300)}`);
  if (fields !== undefined) {
    assert.deepEqual(Object.keys(body.error.details.fields ?? {}).sort(), [...fields].sort(),
      `${what}: details.fields: ${JSON.stringify(body.error.details).slice(0, 300)}`);
  }
}

// libmicrohttpd's own refusal of malformed HTTP: its status, its HTML, and a close
function assertMhdAnswer(res, status, what) {
  assert.equal(res.status, status, `${what}: status ${res.status}, expected libmicrohttpd's ${status}: ${res.text.slice(0, 200)}`);
  assert.equal(res.headers.get('x-request-id'), null, `${what}: expected libmicrohttpd's refusal, got the proxy's answer`);
  assert.equal(res.headers.get('connection'), 'close', `${what}: libmicrohttpd says it closes`);
  assert.match(res.text, /^<html><head><title>[^<]*<\/title><\/head><body>[^<]*(<b>[^<]*<\/b>[^<]*)*<\/body><\/html>$/,
    `${what}: not libmicrohttpd's HTML: ${res.text.slice(0, 200)}`);
}

function assertHeaders(res, c, what) {
  for (const name of c.noHeaders ?? []) assert.equal(res.headers.get(name), null, `${what}: the answer carries ${name}`);
  if (c.freshRequestId) {
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      `${what}: the client's X-Request-Id was echoed`);
  }
  // nothing a traversal could have read
  assert.doesNotMatch(res.text, /root:x:0:0|"name":\s*"multistore-e2e"|#include/, `${what}: a file's content came back`);
}

async function stillServing(what) {
  const res = await httpRequest('GET', '/health');
  assert.equal(res.status, 200, `${what}: the next normal request got ${res.status}: ${res.text.slice(0, 200)}`);
}

// --- the runners -------------------------------------------------------------------

async function runHttp(c, port) {
  const what = `${c.method} ${c.path.slice(0, 120)}`;
  const headers = { ...(typeof c.headers === 'function' ? c.headers(ctx.tokens) : c.headers) };
  if (c.as) headers.authorization = `Bearer ${ctx.tokens[c.as]}`;
  if (c.key !== undefined) headers['idempotency-key'] = c.key;
  const body = c.json ?? c.body;
  // a body is sent as JSON unless the case names its own Content-Type (undefined: none at all)
  if (body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
  if (c.sign) headers['multistore-signature'] = paymentSignature(body, typeof c.sign === 'object' ? c.sign : {});
  if (c.strapi) headers.authorization = `Bearer ${process.env.STRAPI_WEBHOOK_SECRET}`;
  for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
  const res = await httpRequest(c.method, c.path, { headers, body, deadline: c.deadline, port });
  assertProxyAnswer(res, c.expect, what);
  assertHeaders(res, c, what);
  if (c.validate !== false) checkResponse(c.method, c.path, res);
}

async function runRaw(c) {
  const text = typeof c.raw === 'function' ? c.raw(ctx.tokens) : c.raw;
  const [method, path] = text.split('\r\n')[0].split(' ');
  const what = text.split('\r\n')[0].slice(0, 120);
  const sent = Buffer.from(c.smuggle ? text + SMUGGLED : text, 'latin1');
  const result = await rawExchange(sent);
  const { answers, garbage } = parseAnswers(result.data);
  const statuses = answers.map((a) => a.status);
  assert.equal(garbage, '', `${what}: bytes that are no HTTP answer after ${JSON.stringify(statuses)}: ${JSON.stringify(garbage.slice(0, 200))}`);
  assert.equal(answers.length, c.answers.length,
    `${what}: ${answers.length} answers ${JSON.stringify(statuses)}, expected ${c.answers.length}${c.smuggle ? ' (the request after it must not be answered)' : ''}`);
  c.answers.forEach((expected, i) => {
    const res = answers[i];
    assert.ok(res.status < 500 || (expected.mhd && expected.status === 505), `${what}: a 5xx`);
    if (expected.mhd) assertMhdAnswer(res, expected.status, what);
    else if (expected.any) {
      assert.equal(res.status, expected.status, `${what}: status ${res.status}, expected ${expected.status}`);
      if (res.headers.get('x-request-id')) assertProxyAnswer(res, [expected.status], what);
      else assertMhdAnswer(res, expected.status, what);
    } else {
      assertProxyAnswer(res, [expected.status, expected.code, expected.fields], what);
      if (c.validate !== false) checkResponse(method, path, res);
    }
    assertHeaders(res, c, what);
  });
  assert.ok(result.closed, `${what}: after ${JSON.stringify(statuses)} the connection was still open after ${RAW_DEADLINE_MS} ms`);
  await stillServing(what);
}

// A proxy of our own, for a case that takes one down: its sanitizer reports come back to us
async function runOwnProxy(c) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hostile-proxy-'));
  const proc = spawn(PROXY_BIN, [], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error',
      ASAN_OPTIONS: `detect_leaks=1:log_path=${dir}/asan`, UBSAN_OPTIONS: `print_stacktrace=1:log_path=${dir}/ubsan` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ?? code));
    proc.once('error', (e) => resolve(e.message));
  });
  const running = () => proc.exitCode === null && proc.signalCode === null;
  let failure;
  counting = false;
  try {
    for (let i = 0; i < 100; i++) {
      try { if ((await httpRequest('GET', '/health', { port, deadline: 1000 })).status === 200) break; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    try { await runHttp(c, port); } catch (e) { failure = e; }
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    counting = true;
  }
  const alive = running();
  if (alive) proc.kill('SIGTERM');
  const exit = await exited;
  const reports = `${stderr}${readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')}`;
  rmSync(dir, { recursive: true, force: true });
  assert.ok(alive, `the proxy died (${exit}) on ${c.method} ${c.path}:\n${reports.slice(0, 3000)}`);
  if (failure) throw failure;
  assert.equal(/runtime error|Sanitizer/.test(reports) ? reports.slice(0, 3000) : '', '', `sanitizer report (exit ${exit})`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

// --- the database, before and after -----------------------------------------------------

const TABLE_PARTS = "count(*) || ' ' || md5(coalesce(string_agg(x::text, '' ORDER BY x::text), ''))";

// Every table of schema multistore: its row count and a checksum of its rows
function tableChecksums() {
  const tables = sql("SELECT tablename FROM pg_tables WHERE schemaname = 'multistore' ORDER BY 1").split('\n');
  const rows = sql(tables.map((t) => `SELECT '${t}' || ' ' || ${TABLE_PARTS} FROM multistore.${t} x`).join(' UNION ALL '));
  return Object.fromEntries(rows.split('\n').map((line) => { const [t, ...rest] = line.split(' '); return [t, rest.join(' ')]; }));
}

// The rows any case could write if a refusal were not one: those of our users,
// our stores, and of the marks our bodies carry ("hostile", the nil order id)
function scopedChecksums() {
  const me = `ARRAY[${Object.values(ctx.users).map((u) => `'${u.id}'`).join(',')}]::uuid[]`;
  const stores = `ARRAY[${[...MINE, OTHER].map((s) => `'${s}'`).join(',')}]`;
  const parts = {
    users: `multistore.users x WHERE x.id = ANY(${me}) OR x.email ILIKE '%hostile%'`,
    sessions: `multistore.sessions x WHERE x.user_id = ANY(${me})`,
    refresh_tokens: `multistore.refresh_tokens x WHERE x.session_id IN (SELECT id FROM multistore.sessions WHERE user_id = ANY(${me}))`,
    store_managers: `multistore.store_managers x WHERE x.user_id = ANY(${me}) OR x.store_id = ANY(${stores})`,
    carts: `multistore.carts x WHERE x.user_id = ANY(${me})`,
    cart_items: `multistore.cart_items x WHERE x.cart_id IN (SELECT id FROM multistore.carts WHERE user_id = ANY(${me}))`,
    orders: `multistore.orders x WHERE x.user_id = ANY(${me}) OR x.store_id = ANY(${stores}) OR x.id = '${NIL}'`,
    order_items: `multistore.order_items x WHERE x.store_id = ANY(${stores}) OR x.order_id IN (SELECT id FROM multistore.orders WHERE user_id = ANY(${me}))`,
    order_status_history: `multistore.order_status_history x WHERE x.store_id = ANY(${stores}) OR x.actor_id = ANY(${me})`,
    idempotency_keys: `multistore.idempotency_keys x WHERE x.user_id = ANY(${me})`,
    reservations: `multistore.reservations x WHERE x.store_id = ANY(${stores}) OR x.created_by = ANY(${me})`,
    reservation_holds: `multistore.reservation_holds x WHERE x.store_id = ANY(${stores})`,
    inventory: `multistore.inventory x WHERE x.store_id = ANY(${stores})`,
    stores: `multistore.stores x WHERE x.id = ANY(${stores}) OR x.id ILIKE '%hostile%' OR x.name ILIKE '%hostile%'`,
    payment_events: `multistore.payment_events x WHERE x.id ILIKE '%hostile%' OR x.order_id = '${NIL}'`,
  };
  const rows = sql(Object.entries(parts).map(([name, from]) => `SELECT '${name}' || ' ' || ${TABLE_PARTS} FROM ${from}`).join(' UNION ALL '));
  return Object.fromEntries(rows.split('\n').map((line) => { const [t, ...rest] = line.split(' '); return [t, rest.join(' ')]; }));
}

// Other test files the same `node --test` runs at this moment (its children, from /proc)
function siblingTestFiles() {
  const found = new Set();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.ppid) continue;
      const file = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').find((a) => a.endsWith('.test.mjs'));
      if (file) found.add(basename(file));
    } catch { /* gone */ }
  }
  return found;
}

function cronJobsHere() {
  return Number(sql("SELECT CASE WHEN to_regclass('cron.job') IS NULL THEN 0 ELSE "
    + "(SELECT count(*) FROM cron.job WHERE database = current_database()) END") || 0);
}

// --- sanitizers and the proxy's counters ---------------------------------------------------

// Reports written by the sanitizers of the proxies of this run, and sanitizer lines in the shared proxy's log
function sanitizerEvidence() {
  const files = [];
  for (const options of [process.env.ASAN_OPTIONS, process.env.UBSAN_OPTIONS]) {
    const logPath = /(?:^|:)log_path=([^:]+)/.exec(options ?? '')?.[1];
    if (!logPath || !existsSync(dirname(logPath))) continue;
    for (const f of readdirSync(dirname(logPath))) if (f.startsWith(basename(logPath))) files.push(join(dirname(logPath), f));
  }
  const log = process.env.MS_PROXY_LOG && existsSync(process.env.MS_PROXY_LOG) ? readFileSync(process.env.MS_PROXY_LOG, 'utf8') : '';
  const lines = log.split('\n').filter((l) => /runtime error:|ERROR: (Address|Leak)Sanitizer|SUMMARY: \w+Sanitizer/.test(l));
  return { files, lines };
}

async function requestsCounted() {
  const res = await fetch(`${BASE}/metrics`);
  assert.equal(res.status, 200, 'GET /metrics');
  let total = 0;
  for (const line of (await res.text()).split('\n')) {
    const m = /^multistore_http_requests_total\{.*\} (\d+)$/.exec(line);
    if (m) total += Number(m[1]);
  }
  return total;
}

// --- the run ---------------------------------------------------------------------------------

const before = {};
const seenSiblings = new Set();
let watcher;

test('setup: tokens first, then the counters, the sanitizers and the database as they were', async () => {
  makeTokens();
  const t0 = Date.now();
  for (const f of siblingTestFiles()) seenSiblings.add(f);
  watcher = setInterval(() => { for (const f of siblingTestFiles()) seenSiblings.add(f); }, 200);
  watcher.unref();
  before.cron = cronJobsHere();
  before.tables = tableChecksums();
  before.scoped = scopedChecksums();
  before.sanitizers = sanitizerEvidence();
  before.requests = await requestsCounted();
  before.t0 = t0;
  assert.ok(Object.keys(before.tables).length >= 16, 'every table of schema multistore');
});

CASES.forEach((c, i) => { c.id = `H${String(i + 1).padStart(3, '0')}`; });

test(`the table: ${CASES.length} cases, at least 100, and one on every route of proxy/routes.c`, () => {
  assert.ok(CASES.length >= 100, `${CASES.length} cases`);
  const routesCovered = new Set(CASES.filter((c) => c.g === 'route').map((c) => `${c.method} ${c.path.split('?')[0]}`));
  const table = readFileSync(new URL('../../proxy/routes.c', import.meta.url), 'utf8');
  const routes = [...table.matchAll(/^\s*\{\s*"([A-Z]+)"\s*,\s*"(\/[^"]*)"/gm)];
  assert.equal(routesCovered.size, routes.length, 'one case on every route of proxy/routes.c');
});

// One test per group; the raw exchanges of malformed HTTP, some of which wait out
// their deadline, run side by side, everything else one at a time
for (const group of [...new Set(CASES.map((c) => c.g))]) {
  const cases = CASES.filter((c) => c.g === group);
  test(`[${group}] ${cases.length} hostile requests`, { concurrency: group === 'smuggling' ? 8 : 1 }, async (t) => {
    await Promise.all(cases.map((c) => t.test(`${c.id} ${c.name}${c.bug ? ` (${c.bug})` : ''}`,
      { todo: c.bug ? BUGS[c.bug] : undefined }, async () => {
        if (c.ownProxy) await runOwnProxy(c);
        else if (c.raw) await runRaw(c);
        else await runHttp(c);
      })));
  });
}

test('afterwards: the same proxy still serves, no sanitizer spoke, and the database is unchanged', async (t) => {
  clearInterval(watcher);
  const health = await httpRequest('GET', '/health');
  assert.equal(health.status, 200, `/health: ${health.text}`);
  // the counters went on from where they were: the same process, which counted our answers
  let counted = 0;
  for (let i = 0; i < 20; i++) {
    counted = await requestsCounted();
    if (counted >= before.requests + proxyAnswers) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(counted >= before.requests + proxyAnswers,
    `/metrics counts ${counted} requests, ${before.requests} before and ${proxyAnswers} of ours since: the proxy restarted?`);

  const after = sanitizerEvidence();
  const newFiles = after.files.filter((f) => !before.sanitizers.files.includes(f));
  assert.deepEqual(newFiles.map((f) => `${f}:\n${readFileSync(f, 'utf8').slice(0, 2000)}`), [], 'sanitizer reports appeared');
  assert.deepEqual(after.lines.slice(before.sanitizers.lines.length), [], `sanitizer lines in ${process.env.MS_PROXY_LOG}`);

  // the rows any case could have written: always exact
  assert.deepEqual(scopedChecksums(), before.scoped, 'rows of our users, our stores and our marks changed');
  // every table: exact when nothing else writes meanwhile; else only shown
  for (const f of siblingTestFiles()) seenSiblings.add(f);
  const tables = tableChecksums();
  const changed = Object.keys({ ...before.tables, ...tables }).filter((k) => before.tables[k] !== tables[k]);
  if (seenSiblings.size === 0 && before.cron === 0 && cronJobsHere() === 0) {
    assert.deepEqual(changed, [], 'tables of schema multistore changed (count and checksum before/after)');
  } else {
    t.diagnostic(`other writers ran meanwhile (${[...seenSiblings].join(', ') || 'pg_cron jobs'}): `
      + `every table was compared only as to the rows the cases could write; tables that changed: ${changed.join(', ') || 'none'}`);
  }
  t.diagnostic(`${CASES.length} cases in ${((Date.now() - before.t0) / 1000).toFixed(1)} s`);
});
