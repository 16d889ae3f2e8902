// Shared by tests/strapi/*.test.mjs (run by scripts/strapi-e2e): running
// `multistore-proxy strapi-sync`, psql, the proxy's catalogue over HTTP,
// and bounded waiting.  Node's standard library only.
import { spawn, execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';

export const ROOT = new URL('../../', import.meta.url).pathname;
// the sanitizer build when scripts/strapi-e2e set it: any report fails the run
export const SYNC_BIN = process.env.MS_STRAPI_SYNC_BIN || `${ROOT}proxy/multistore-proxy`;
export const PROXY = process.env.MS_BASE_URL || 'http://127.0.0.1:8100';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs strapi-sync with env (over a clean environment: PATH and the sanitizers' options
// only) and resolves {code, stdout, stderr, seconds}; killed after timeoutMs.
export function runSync(env, timeoutMs = 120000) {
  const started = Date.now();
  const base = { PATH: process.env.PATH };
  for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) if (process.env[k]) base[k] = process.env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(SYNC_BIN, ['strapi-sync'], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: signal ? `killed by ${signal}` : code, stdout, stderr, seconds: (Date.now() - started) / 1000 };
      // a sanitizer report is a failure whatever the exit code says
      assert.doesNotMatch(stderr, /ERROR: (Address|Leak)Sanitizer|runtime error:/, `sanitizer report:\n${stderr}`);
      resolve(result);
    });
  });
}

// The one summary line on stdout, parsed: {products: {listed, created, ...}, promotions: ...}
export function summaryOf(stdout) {
  const line = stdout.trim().split('\n').pop() || '';
  assert.match(line, /^strapi-sync: .* in \d+\.\ds$/, `summary line: ${line}`);
  const out = { line };
  for (const m of line.matchAll(/(products|promotions) (\d+) listed: ([^;]*?)(?=;| in \d)/g)) {
    const counts = { listed: Number(m[2]) };
    for (const c of m[3].matchAll(/(\d+) ([a-z]+)/g)) counts[c[2]] = Number(c[1]);
    out[m[1]] = counts;
  }
  return out;
}

// psql -At: the rows as text
export function sql(db, query) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', query], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

// Is product id for sale here?  Asked of the extension as a backend app would
export function isPublished(db, id) {
  const literal = `'${String(id).replace(/'/g, "''")}'`;
  try {
    sql(db, `SELECT multistore.product_get(${literal})`);
    return true;
  } catch (e) {
    if (/not.found|M4404/i.test(String(e.stderr || e.message))) return false;
    throw e;
  }
}

// JSON over HTTP with a bound on time; {status, body}
export async function http(url, { method = 'GET', headers = {}, body, timeoutMs = 15000 } = {}) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
  });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, body: json, text };
}

// Polls fn until it returns a truthy value; fails naming what was awaited after timeoutMs
export async function waitFor(what, fn, { timeoutMs = 20000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last?.message ?? JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}
