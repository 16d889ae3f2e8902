// node keepalive.mjs PORT COUNT: opens COUNT keep-alive connections to the
// proxy, each after one answered GET /health, holds them open, prints
// "ready", and closes them all when stdin closes.  For the proxy's memory
// with many idle clients.
import net from 'node:net';

const [port, count] = process.argv.slice(2).map(Number);
const sockets = [];
function open() {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: bench\r\n\r\n'));
    let seen = '';
    s.on('data', (d) => {
      seen += d;
      if (seen.includes('\r\n\r\n') && /"status"/.test(seen)) resolve(s);
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed early')));
  });
}
for (let i = 0; i < count; i += 50) {
  const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, open));
  sockets.push(...batch);
}
console.log(`ready ${sockets.length}`);
process.stdin.resume();
process.stdin.on('end', () => { sockets.forEach((s) => s.destroy()); process.exit(0); });
