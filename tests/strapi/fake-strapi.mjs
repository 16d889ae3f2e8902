// tests/strapi/fake-strapi.mjs: a stand-in for Strapi's REST listing, for the
// failures a real Strapi will not produce on demand (a 500 on page 3, bad
// JSON, a total that changes between pages, a redirect to another host, a
// page that never ends, an oversized answer), in v4's or v5's shape.
//
//   node tests/strapi/fake-strapi.mjs PORT          (127.0.0.1 only)
//
// The scenario is set with POST /__scenario (JSON below) and read back with
// GET /__requests (every listing request seen since).  Listings answer as
// Strapi does: GET /api/<plural>?pagination[page]=N&pagination[pageSize]=M,
// "Authorization: Bearer <token>" required (403 with Strapi's error
// envelope otherwise), sorted by id.
//
//   { "token": "t", "shape": "v5" | "v4",
//     "collections": { "products": [ {entry}, ... ], "promotions": [...] },   // absent: 404
//     "faults": { "products": { "2": {"status": 500} | {"body": "not json"} | {"delayMs": 5000}
//                                 | {"redirect": "http://elsewhere/..."} | {"addTotal": 1}
//                                 | {"bytes": 1000000} } } }
import http from 'node:http';

const port = Number(process.argv[2] || 58338);
let scenario = { token: 't', shape: 'v5', collections: {}, faults: {} };
let requests = [];

function strapiError(res, status, name, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ data: null, error: { status, name, message, details: {} } }));
}

function shape(entry) {
  if (scenario.shape !== 'v4') return entry;
  const { id, documentId, ...attributes } = entry;
  return { id, attributes };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    if (url.pathname === '/__scenario' && req.method === 'POST') {
      scenario = { faults: {}, collections: {}, shape: 'v5', token: 't', ...JSON.parse(body) };
      requests = [];
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/__requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(requests));
      return;
    }
    const m = url.pathname.match(/^\/api\/([a-z-]+)$/);
    if (!m) return strapiError(res, 404, 'NotFoundError', 'Not Found');
    const plural = m[1];
    const page = Number(url.searchParams.get('pagination[page]') || 1);
    const pageSize = Math.min(Number(url.searchParams.get('pagination[pageSize]') || 25), 100);
    requests.push({ plural, page, pageSize, sort: url.searchParams.get('sort[0]'), populate: url.searchParams.get('populate'),
      auth: req.headers.authorization || null });
    if (req.headers.authorization !== `Bearer ${scenario.token}`) return strapiError(res, 403, 'ForbiddenError', 'Forbidden');
    const all = scenario.collections[plural];
    if (!all) return strapiError(res, 404, 'NotFoundError', 'Not Found');
    const fault = (scenario.faults[plural] || {})[String(page)] || {};
    const reply = () => {
      if (fault.status) return strapiError(res, fault.status, 'InternalServerError', 'Internal Server Error');
      if (fault.redirect) { res.writeHead(302, { location: fault.redirect }); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (fault.body !== undefined) { res.end(fault.body); return; }
      if (fault.bytes) { res.end(`{"data":[],"pad":"${'x'.repeat(fault.bytes)}"}`); return; }
      const sorted = [...all].sort((a, b) => a.id - b.id);
      const total = sorted.length + (fault.addTotal || 0);
      const data = sorted.slice((page - 1) * pageSize, page * pageSize).map(shape);
      res.end(JSON.stringify({ data, meta: { pagination: { page, pageSize, pageCount: Math.ceil(total / pageSize), total } } }));
    };
    if (fault.delayMs) setTimeout(reply, fault.delayMs); else reply();
  });
});
server.listen(port, '127.0.0.1', () => console.log(`fake Strapi on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); });
