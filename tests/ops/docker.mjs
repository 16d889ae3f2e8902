// tests/ops/docker.mjs: the Dockerfile, docker-compose.yml and the CI
// workflow, checked against the repository as far as a machine without
// Docker allows: the stages the compose file builds exist, every file a
// COPY takes exists, the images install with the scripts' steps and the
// packages scripts/deps names, every setting passed to the proxy is one it
// reads, every variable the database's entrypoint needs is passed, and CI
// runs .ci/run on a full clone.  TAP; exit code 1 on any failure.
//
//   node tests/ops/docker.mjs
import { readFileSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const read = (p) => readFileSync(join(root, p), 'utf8');
// yaml comes with the end-to-end tests' packages (make test installs them first)
const require = createRequire(join(root, 'tests/e2e/package.json'));
const YAML = require('yaml');

let n = 0;
let failed = 0;
function ok(cond, what) {
  n += 1;
  if (!cond) failed += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
  return cond;
}

// --- the Dockerfile, as instructions per stage -----------------------------------
const lines = read('Dockerfile').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const stages = [];
for (const line of lines) {
  const [instr, ...rest] = line.split(/\s+/);
  const args = rest.join(' ');
  if (instr.toUpperCase() === 'FROM') {
    const m = args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i);
    stages.push({ image: m[1], name: m[2], steps: [] });
  } else if (stages.length) {
    stages.at(-1).steps.push({ instr: instr.toUpperCase(), args });
  }
}
const stage = (name) => stages.find((s) => s.name === name);
const runs = (s) => s.steps.filter((x) => x.instr === 'RUN').map((x) => x.args).join(' ; ');
ok(['build', 'db', 'proxy'].every((s) => stage(s)), `stages build, db and proxy (${stages.map((s) => s.name).join(', ')})`);
ok(stages.every((s) => /^debian:12(-slim)?$/.test(s.image)), 'every stage is Debian 12, as scripts/deps expects');

const deps = read('scripts/deps');
const debs = new Set(deps.replace(/#.*$/gm, '').split(/[\s()]+/).filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w)));
ok(/scripts\/deps/.test(runs(stage('build'))), 'the build stage installs its packages with scripts/deps');
ok(/make (clean[^;]*;\s*)?make all/.test(runs(stage('build'))) || /\bmake all\b/.test(runs(stage('build'))), 'and builds with make all');
ok(/make install DESTDIR=\/out/.test(runs(stage('build'))), 'and installs with make install (into /out)');

// every COPY without --from takes files that exist here
for (const s of stages) {
  for (const step of s.steps.filter((x) => x.instr === 'COPY' && !/--from=/.test(x.args))) {
    const words = step.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    for (const src of words.slice(0, -1)) ok(src === '.' || existsSync(join(root, src)), `stage ${s.name}: COPY ${src} exists`);
  }
}
const fromBuild = stages.flatMap((s) => s.steps.filter((x) => x.instr === 'COPY' && /--from=build/.test(x.args)));
ok(fromBuild.length >= 3, 'the db and proxy images take the build stage\'s output (COPY --from=build)');

// the database image: Debian's packages of the same names as scripts/deps, set up by the scripts
const dbApt = (runs(stage('db')).match(/apt-get install[^;&]*/) || [''])[0].split(/\s+/).filter((w) => /^postgresql-/.test(w));
ok(dbApt.length >= 3 && dbApt.every((p) => debs.has(p)), `db: ${dbApt.join(', ')}: the PostgreSQL packages scripts/deps installs`);
const entry = (stage('db').steps.find((x) => x.instr === 'ENTRYPOINT') || {}).args || '';
const entryPath = (entry.match(/"([^"]+)"/) || [])[1] || '';
const copied = stage('db').steps.filter((x) => x.instr === 'COPY').map((x) => x.args).join(' ');
ok(entryPath === '/opt/multistore/scripts/db-entrypoint' && /scripts\/db-entrypoint/.test(copied),
  'db: the entrypoint is scripts/db-entrypoint, copied in');
ok(existsSync(join(root, 'scripts/db-entrypoint')) && (statSync(join(root, 'scripts/db-entrypoint')).mode & 0o111) !== 0,
  'scripts/db-entrypoint exists and is executable');
const entrypoint = read('scripts/db-entrypoint');
for (const script of ['scripts/migrate', 'scripts/proxy-role', 'scripts/seed']) {
  ok(entrypoint.includes(script.replace('scripts/', 'scripts/')) && copied.includes(script), `db: ${script} is copied in and run by the entrypoint`);
}
for (const sourced of (read('scripts/migrate') + read('scripts/proxy-role') + read('scripts/seed') + entrypoint).match(/source "\$\(dirname "\$0"\)\/[a-z.]+"/g) || []) {
  const file = `scripts/${sourced.match(/\/([a-z.]+)"$/)[1]}`;
  ok(copied.includes(file), `db: ${file}, which they source, is copied in`);
}
ok(/sql\/seed\.sql/.test(copied), 'db: sql/seed.sql is there for SEED_SAMPLE_DATA');
ok(/shared_preload_libraries = 'pg_cron'/.test(entrypoint), 'db: pg_cron is preloaded by the entrypoint');
ok(/USER postgres/.test(stage('db').steps.map((x) => `${x.instr} ${x.args}`).join('\n')), 'db: runs as postgres');

// the proxy image: the runtime libraries of the -dev packages the build links
const runtime = { libmicrohttpd12: 'libmicrohttpd-dev', libpq5: 'libpq-dev', libjansson4: 'libjansson-dev', libssl3: 'libssl-dev', zlib1g: 'zlib1g-dev',
  libwslay1: 'libwslay-dev', libcurl4: 'libcurl4-openssl-dev' };
const proxyApt = runs(stage('proxy'));
for (const [lib, dev] of Object.entries(runtime)) ok(proxyApt.includes(lib) && debs.has(dev), `proxy: ${lib} (the build links ${dev})`);
const proxyMake = read('proxy/Makefile');
ok(/LDLIBS = -lmicrohttpd -lpq -ljansson -lwslay -lcrypto -lz -lcurl -lpthread -lm$/m.test(proxyMake), 'proxy: and those are all it links (proxy/Makefile)');

// --- docker-compose.yml -------------------------------------------------------------
let compose;
try {
  compose = YAML.parse(read('docker-compose.yml'));
  ok(true, 'docker-compose.yml is YAML');
} catch (e) {
  ok(false, `docker-compose.yml is YAML (${e.message})`);
  compose = { services: {} };
}
const svc = compose.services || {};
ok(svc.db?.build?.target === 'db' && svc.proxy?.build?.target === 'proxy', 'compose: db and proxy build the Dockerfile\'s stages');
ok(Object.values(svc).every((s) => !s.build || stage(s.build.target)), 'compose: every target it builds exists');
const configC = read('proxy/config.c');
const proxyEnv = Object.keys(svc.proxy?.environment || {});
ok(proxyEnv.length > 0 && proxyEnv.every((k) => configC.includes(`"${k}"`)),
  `compose: every setting given to the proxy is one it reads (${proxyEnv.join(', ')})`);
ok(/^postgresql:\/\/multistore_proxy:/.test(svc.proxy?.environment?.DATABASE_URL || ''), 'compose: the proxy logs in as multistore_proxy');
ok(svc.proxy?.depends_on?.db?.condition === 'service_healthy' && svc.db?.healthcheck, 'compose: the proxy waits for a healthy database');
for (const v of ['POSTGRES_PASSWORD', 'PROXY_DB_PASSWORD', 'POSTGRES_DB', 'SEED_SAMPLE_DATA']) {
  ok(v in (svc.db?.environment || {}) && entrypoint.includes(v), `compose: the database gets ${v}, which the entrypoint reads`);
}
const namedVolumes = Object.values(svc).flatMap((s) => (s.volumes || []).map((v) => String(v).split(':')[0])).filter((v) => !v.startsWith('.') && !v.startsWith('/'));
ok(namedVolumes.every((v) => v in (compose.volumes || {})), 'compose: every named volume is declared');

// --- CI ------------------------------------------------------------------------------
let ci;
try {
  ci = YAML.parse(read('.github/workflows/ci.yml'));
  ok(true, '.github/workflows/ci.yml is YAML');
} catch (e) {
  ok(false, `.github/workflows/ci.yml is YAML (${e.message})`);
  ci = {};
}
const jobs = Object.values(ci.jobs || {});
const steps = jobs.flatMap((j) => j.steps || []);
ok(ci.on && (ci.on.push !== undefined || ci.on.includes?.('push')), 'CI runs on push');
ok(jobs.some((j) => /debian:12/.test(JSON.stringify(j.container || j['runs-on']))), 'CI runs in Debian 12, as scripts/deps expects');
ok(steps.some((s) => /actions\/checkout/.test(s.uses || '') && s.with?.['fetch-depth'] === 0), 'CI checks out the whole history (the upgrade test builds released commits)');
ok(steps.some((s) => /\.ci\/run/.test(s.run || '')), 'CI runs .ci/run (scripts/deps, then make test)');
ok(/make test/.test(read('.ci/run')), '.ci/run runs make test');

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
