// Realtime clients for the end-to-end tests: a WebSocket client and a
// Server-Sent Events client (realtime_clients.mjs, shared with the soak)
// aimed at the shared proxy, a raw socket that speaks the handshake and
// then whatever bytes a test wants, and a proxy of a test's own.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { BASE, PROXY_BIN } from './helpers.mjs';
import { Inbox, openWs as openWsAt, openSse as openSseAt } from './realtime_clients.mjs';

export const WS_BASE = BASE.replace(/^http/, 'ws');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// openWs(pathAndQuery, {headers, base, onEvent}) -> {ws, inbox, events(), ready, closed}
// ready: the server's {"type":"ready"} message; closed: {code, reason}
export const openWs = (path, { base = WS_BASE, ...options } = {}) => openWsAt(base + path, options);

// openSse(pathAndQuery, {headers, base, onEvent}) -> {inbox of events, status, text(), close()}
export const openSse = (path, { base = BASE, ...options } = {}) => openSseAt(base + path, options);

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
