// Realtime clients over real sockets: a WebSocket client (the ws package)
// and a Server-Sent Events client over node:http, each with an inbox of
// what the server sent.  Shared by the end-to-end tests (through
// realtime_helpers.mjs, which fills in the shared proxy's address) and the
// soak (tests/soak/soak.mjs); only ws and node's standard library, so
// importing it loads nothing else of the tests.
//
// onEvent: a long-lived client (the soak's, thirty minutes of events) hands
// each event (a message with an id) to onEvent(event, client) instead of
// keeping it in the inbox; the inbox keeps the rest (ready, subscribed,
// errors).
import http from 'node:http';
import WebSocket from 'ws';

// A queue of received messages, read in order by next(predicate)
export class Inbox {
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

// openWs(url, {headers, onEvent}) -> {ws, inbox, events(), ready, closed, refused, close()}
// url: ws://host:port/path?query; ready: the server's {"type":"ready"} message;
// closed: {code, reason}; refused: {status, text, body} when the upgrade was refused
export function openWs(url, { headers = {}, onEvent } = {}) {
  const ws = new WebSocket(url, { headers });
  const inbox = new Inbox();
  const client = { ws, inbox };
  client.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  client.refused = new Promise((resolve) => {
    ws.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let body = null;
        try { body = JSON.parse(text || 'null'); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, text, body });
        ws.terminate();
      });
    });
  });
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (onEvent && message.id !== undefined) onEvent(message, client);
    else inbox.push(message);
  });
  client.ready = inbox.next((m) => m.type === 'ready', 5000, 'ready');
  client.ready.catch(() => {});
  client.events = () => inbox.all().filter((m) => m.id !== undefined);
  client.close = () => { ws.close(1000); return client.closed; };
  return client;
}

// openSse(url, {headers, onEvent}) -> {inbox of events, status, headers, events(), ready, ended, close()}
export function openSse(url, { headers = {}, onEvent } = {}) {
  const inbox = new Inbox();
  const client = { inbox, raw: '' };
  client.response = new Promise((resolve, reject) => {
    client.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      client.status = res.statusCode;
      client.headers = res.headers;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        // a long-lived client keeps no transcript
        if (!onEvent) client.raw += chunk;
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = frame.split('\n');
          if (lines.some((l) => l.startsWith(': ready'))) inbox.push({ type: 'ready' });
          const id = lines.find((l) => l.startsWith('id: '));
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (!data) continue;
          const message = { ...JSON.parse(data), sseId: id?.slice(4) };
          if (onEvent && message.id !== undefined) onEvent(message, client);
          else inbox.push(message);
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
