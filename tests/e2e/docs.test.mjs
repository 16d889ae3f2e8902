// GET /docs in a real browser: headless Chromium (Debian's chromium) loads
// Swagger UI from the proxy, which fetches /openapi.json, and lists the
// routes of the route table.  Also: the page's own CSP lets exactly that run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BASE } from './helpers.mjs';

const document = JSON.parse(readFileSync(new URL('../../proxy/openapi.json', import.meta.url), 'utf8'));

function chromiumDom(url) {
  return new Promise((resolve, reject) => {
    execFile('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--virtual-time-budget=20000', '--dump-dom', url],
    { encoding: 'utf8', timeout: 90000, maxBuffer: 1 << 26 },
    (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

test('the docs page and its files are served with a CSP that allows only them', async () => {
  const page = await fetch(`${BASE}/docs`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
  assert.doesNotMatch(await page.text(), /<script>[^<]/, 'no inline script');
  for (const [file, type] of [['swagger-ui.css', /^text\/css/], ['swagger-ui-bundle.js', /^text\/javascript/], ['docs-init.js', /^text\/javascript/]]) {
    const r = await fetch(`${BASE}/docs/${file}`);
    assert.equal(r.status, 200, file);
    assert.match(r.headers.get('content-type'), type, file);
  }
  for (const other of ['package.json', '..', 'index.html', '%2e%2e%2fpackage.json'])
    assert.equal((await fetch(`${BASE}/docs/${other}`)).status, 404, `${other} is not served`);
});

test('headless Chromium renders Swagger UI with every route of the document', { timeout: 120000 }, async () => {
  const dom = await chromiumDom(`${BASE}/docs`);
  const shown = new Set([...dom.matchAll(/class="opblock-summary-path" data-path="([^"]+)"/g)].map((m) => m[1]));
  assert.ok(shown.size > 0, 'Swagger UI rendered operations (is the bundle served and the CSP right?)');
  for (const path of Object.keys(document.paths)) assert.ok(shown.has(path), `${path} is listed`);
});
