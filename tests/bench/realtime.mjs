// The realtime benchmark's driver (scripts/bench realtime): CLIENTS WebSocket
// clients watch one store through the proxy; stock changes are committed at
// RATE per second for SECONDS; every client must receive every event, and
// each delivery's latency is measured from the event's transaction time (its
// "at", taken when the transaction began, so a little before its commit) to
// the moment the client's 'message' event fires.  The clients are spread
// over WORKERS threads (default 2) so that one JavaScript thread is not
// what is measured (and each reads frames off its sockets itself).  Prints one JSON line.
//
//   node tests/bench/realtime.mjs PORT CLIENTS RATE SECONDS STORE SESSION_ID
// DATABASE_URL names the database; changes go through one psql session.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const clock = () => performance.timeOrigin + performance.now();

if (!isMainThread) {
  // a worker: its share of the clients; reports latencies and counts when told to stop.
  // The clients are plain sockets that read the server's frames themselves (unmasked
  // text frames, RFC 6455 5.2): a WebSocket library's per-message cost, times 50,000
  // a second, would be what this measured.
  const net = require('node:net');
  const { randomBytes } = require('node:crypto');
  const { url, clients, total } = workerData;
  const target = new URL(url);
  const latencies = new Float64Array(clients * total + 16);
  const received = new Int32Array(clients);
  const epochs = new Map(); // "at" text -> ms: every client gets the same event
  const AT = Buffer.from('"at" : "');
  const READY = Buffer.from('"ready"');
  let samples = 0;
  const sockets = [];
  // a client's pong: masked, the ping's payload (at most 125 bytes)
  const pong = (payload) => {
    const key = randomBytes(4);
    const out = Buffer.alloc(6 + payload.length);
    out[0] = 0x8a;
    out[1] = 0x80 | payload.length;
    key.copy(out, 2);
    for (let j = 0; j < payload.length; j++) out[6 + j] = payload[j] ^ key[j % 4];
    return out;
  };
  const open = (i) => new Promise((resolve, reject) => {
    const socket = net.connect(Number(target.port), target.hostname);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.setNoDelay(true);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      const now = clock();
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buffer.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) { reject(new Error('no upgrade')); return; }
        upgraded = true;
        buffer = buffer.subarray(end + 4);
      }
      let at = 0;
      while (buffer.length - at >= 2) {
        let len = buffer[at + 1] & 0x7f;
        let head = 2;
        if (len === 126) { if (buffer.length - at < 4) break; len = buffer.readUInt16BE(at + 2); head = 4; }
        else if (len === 127) { if (buffer.length - at < 10) break; len = Number(buffer.readBigUInt64BE(at + 2)); head = 10; }
        if (buffer.length - at < head + len) break;
        const payload = buffer.subarray(at + head, at + head + len);
        at += head + len;
        const opcode = buffer[at - head - len] & 0x0f;
        if (opcode === 9) socket.write(pong(payload)); // answered as browsers do, or the idle timeout closes us
        if (opcode !== 1) continue;
        const k = payload.indexOf(AT);
        if (k < 0) { if (payload.indexOf(READY) >= 0) resolve(socket); continue; }
        const text = payload.toString('latin1', k + 8, k + 32);
        let epoch = epochs.get(text);
        if (epoch === undefined) {
          epoch = Date.parse(text);
          if (epochs.size > 256) epochs.clear();
          epochs.set(text, epoch);
        }
        latencies[samples++] = now - epoch;
        received[i]++;
      }
      buffer = at === buffer.length ? Buffer.alloc(0) : buffer.subarray(at);
    });
    socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n`
      + `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`);
  });
  for (let i = 0; i < clients; i += 50) {
    const batch = [];
    for (let k = i; k < Math.min(clients, i + 50); k++) batch.push(open(k));
    sockets.push(...await Promise.all(batch));
  }
  parentPort.postMessage({ ready: true });
  parentPort.on('message', () => {
    for (const socket of sockets) socket.destroy();
    parentPort.postMessage({ latencies: latencies.subarray(0, samples), short: Array.from(received).filter((n) => n < total).length, samples });
  });
  parentPort.postMessage({ progress: 0 });
  setInterval(() => parentPort.postMessage({ progress: samples }), 200);
} else {
  const [port, clients, rate, seconds, store, session] = process.argv.slice(2);
  const N = Number(clients);
  const total = Number(rate) * Number(seconds);
  const W = Math.max(1, Math.min(N, Number(process.env.WORKERS || 2)));
  const url = `ws://127.0.0.1:${port}/ws?stores=${store}`;
  const workers = [];
  const progress = new Array(W).fill(0);
  for (let w = 0; w < W; w++) {
    const share = Math.floor(N / W) + (w < N % W ? 1 : 0);
    const worker = new Worker(new URL(import.meta.url), { workerData: { url, clients: share, total } });
    workers.push(new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m) => {
        if (m.ready) resolve(worker);
        if (m.progress !== undefined) progress[w] = m.progress;
      });
    }));
  }
  const ready = await Promise.all(workers);

  // one psql session, one autocommitted change every 1000 / RATE ms
  const psql = spawn('psql', [process.env.DATABASE_URL, '-X', '-q', '-o', '/dev/null', '-v', 'ON_ERROR_STOP=1'],
    { stdio: ['pipe', 'ignore', 'inherit'] });
  const started = clock();
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / Number(rate);
    const wait = due - clock();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    psql.stdin.write(`SELECT multistore.inventory_set('${session}', '${store}', 'prod_${1 + (n % 100)}', '{"onHand":${100 + n}}');\n`);
  }
  psql.stdin.end();
  await new Promise((r) => psql.on('exit', r));
  const wrote = clock() - started;

  // every client gets every event (or the run says how many are missing), within 10 s
  const deadline = clock() + 10000;
  while (clock() < deadline && progress.reduce((a, b) => a + b, 0) < N * total) await new Promise((r) => setTimeout(r, 100));
  const results = await Promise.all(ready.map((worker) => new Promise((resolve) => {
    worker.on('message', (m) => { if (m.latencies) resolve(m); });
    worker.postMessage('stop');
  })));
  const samples = results.reduce((a, r) => a + r.samples, 0);
  const all = new Float64Array(samples);
  let o = 0;
  for (const r of results) { all.set(r.latencies, o); o += r.latencies.length; }
  all.sort();
  const pct = (p) => all[Math.min(samples - 1, Math.floor((p / 100) * samples))];
  console.log(JSON.stringify({
    clients: N, workers: W, rate: Number(rate), seconds: Number(seconds), events: total,
    expected: N * total, delivered: samples, missing: N * total - samples,
    clientsShort: results.reduce((a, r) => a + r.short, 0), writeSeconds: wrote / 1000,
    p50: pct(50), p90: pct(90), p99: pct(99), max: all[samples - 1],
  }));
  process.exit(0);
}
