// Realtime clients for the end-to-end tests: a WebSocket client (the ws
// package), a Server-Sent Events client over node:http, a raw socket that
// speaks the handshake and then whatever bytes a test wants, and a proxy of
// a test's own.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { BASE, PROXY_BIN } from './helpers.mjs';

export const WS_BASE = BASE.replace(/^http/, 'ws');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A queue of received messages, read in order by next(predicate)
class Inbox {
  constructor() { this.items = []; this.waiters = []; }
  push(item) {
    this.items.push({ value: item, taken: false });
    for (const w of [...this.waiters]) w.check();
  }
  // the next item (after those already taken) that matches, within ms
  next(match = () => true, ms = 5000, what = 'a message') {
    return new Promise((resolve, reject) => {
      // items are looked at once each: a non-match stays a non-match
      const waiter = {
        pos: 0,
        check: () => {
          let i = -1;
          for (let k = waiter.pos; k < this.items.length; k++) {
            if (!this.items[k].taken && match(this.items[k].value)) { i = k; break; }
          }
          if (i < 0) { waiter.pos = this.items.length; return; }
          this.items[i].taken = true;
          clearTimeout(waiter.timer);
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(this.items[i].value);
        },
      };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; got: ${JSON.stringify(this.items.map((x) => x.value)).slice(0, 1500)}`));
      }, ms);
      this.waiters.push(waiter);
      waiter.check();
    });
  }
  all() { return this.items.map((x) => x.value); }
}

// openWs(pathAndQuery, {headers, base}) -> {ws, inbox, events(), ready, closed}
// ready: the server's {"type":"ready"} message; closed: {code, reason}
export function openWs(path, { headers = {}, base = WS_BASE } = {}) {
  const ws = new WebSocket(base + path, { headers });
  const inbox = new Inbox();
  const client = { ws, inbox };
  client.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  client.refused = new Promise((resolve) => {
    ws.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => { resolve({ status: res.statusCode, text, body: JSON.parse(text || 'null') }); ws.terminate(); });
    });
  });
  ws.on('error', () => {});
  ws.on('message', (data) => inbox.push(JSON.parse(data.toString())));
  client.ready = inbox.next((m) => m.type === 'ready', 5000, 'ready');
  client.ready.catch(() => {});
  client.events = () => inbox.all().filter((m) => m.id !== undefined);
  client.close = () => { ws.close(1000); return client.closed; };
  return client;
}

// openSse(pathAndQuery, {headers, base}) -> {inbox of events, status, text(), close()}
export function openSse(path, { headers = {}, base = BASE } = {}) {
  const inbox = new Inbox();
  const client = { inbox, raw: '' };
  client.response = new Promise((resolve, reject) => {
    client.req = http.get(base + path, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      client.status = res.statusCode;
      client.headers = res.headers;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        client.raw += chunk;
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = frame.split('\n');
          if (lines.some((l) => l.startsWith(': ready'))) inbox.push({ type: 'ready' });
          const id = lines.find((l) => l.startsWith('id: '));
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) inbox.push({ ...JSON.parse(data), sseId: id?.slice(4) });
        }
      });
      client.ended = new Promise((r) => res.on('end', r));
      resolve(res);
    });
    client.req.on('error', reject);
  });
  client.response.catch(() => {});
  client.ready = inbox.next((m) => m.type === 'ready', 5000, 'SSE ready');
  client.ready.catch(() => {});
  client.events = () => inbox.all().filter((m) => m.id !== undefined);
  client.close = () => client.req.destroy();
  return client;
}

// A raw TCP connection that completes the WebSocket handshake; then the test writes any bytes
export function rawWs(path, { headers = {}, base = BASE } = {}) {
  const url = new URL(base + path);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const frames = new Inbox();
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        buffer = buffer.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) { reject(new Error(`no upgrade: ${head}`)); socket.destroy(); return; }
        upgraded = true;
        resolve({ socket, frames, closed: new Promise((r) => socket.on('close', r)) });
      }
      // server frames are never masked: FIN/opcode, length (7, 16 or 64 bits), payload
      while (buffer.length >= 2) {
        let len = buffer[1] & 0x7f;
        let at = 2;
        if (len === 126) { if (buffer.length < 4) return; len = buffer.readUInt16BE(2); at = 4; }
        else if (len === 127) { if (buffer.length < 10) return; len = Number(buffer.readBigUInt64BE(2)); at = 10; }
        if (buffer.length < at + len) return;
        const opcode = buffer[0] & 0x0f;
        const payload = buffer.subarray(at, at + len);
        buffer = buffer.subarray(at + len);
        frames.push(opcode === 8 ? { opcode, code: payload.length >= 2 ? payload.readUInt16BE(0) : 0, reason: payload.subarray(2).toString() }
          : { opcode, text: payload.toString() });
      }
    });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${extra}\r\n`);
  });
}

// A client frame: masked unless told otherwise
export function frame(opcode, payload, { mask = true, fin = true } = {}) {
  const data = Buffer.from(payload);
  const head = [(fin ? 0x80 : 0) | opcode];
  if (data.length < 126) head.push((mask ? 0x80 : 0) | data.length);
  else if (data.length < 65536) head.push((mask ? 0x80 : 0) | 126, data.length >> 8, data.length & 0xff);
  else throw new Error('frame too big for this helper');
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

// startProxy(port, env) -> {base, child, stop(signal) -> exit code}: a proxy of the test's own
export async function startProxy(port, env = {}) {
  // its log next to the shared proxy's: .run/test-proxy-<port>.log
  const logDir = new URL('../../.run/', import.meta.url).pathname;
  mkdirSync(logDir, { recursive: true });
  const log = openSync(`${logDir}test-proxy-${port}.log`, 'a');
  const child = spawn(PROXY_BIN, [], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', log, log],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/health`)).status === 200) break; } catch { /* not yet */ }
    await sleep(50);
  }
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return { base, wsBase: base.replace(/^http/, 'ws'), child, exited, stop: (signal = 'SIGTERM') => { child.kill(signal); return exited; } };
}

// The port of the shared proxy plus n: the ports of a test's own proxies
export const portNear = (n) => Number(new URL(BASE).port) + n;
