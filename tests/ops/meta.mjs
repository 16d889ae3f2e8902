// tests/ops/meta.mjs: META.json against the PGXN Meta Spec 1.0.0
// (https://pgxn.org/spec/: required keys, their types, the version,
// license, release_status, prereqs and resources grammars) and against the
// build: its versions are multistore.control's and the Makefile's, the files
// it names exist.  Debian's pgxnclient has no validator and PGXN's own
// (Perl, PGXN::Meta::Validator) is not packaged, so the spec's rules are
// written out here.  TAP; exit code 1 on any failure.
//
//   node tests/ops/meta.mjs [META.json]
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const path = process.argv[2] || new URL('../../META.json', import.meta.url).pathname;
const root = dirname(path);
let n = 0;
let failed = 0;
function ok(cond, what) {
  n += 1;
  if (!cond) failed += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
}

// Semantic Versioning 1.0.0 as the spec requires (x.y.z, optional pre-release tag)
const semver = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)([a-zA-Z][0-9a-zA-Z-]*)?$/;
// a version range: a version, or comparisons joined by commas
const range = /^\s*(0|((>=|<=|>|<|==|!=)\s*)?\d+(\.\d+){0,2}([a-zA-Z][0-9a-zA-Z-]*)?)(\s*,\s*((>=|<=|>|<|==|!=)\s*)?\d+(\.\d+){0,2}([a-zA-Z][0-9a-zA-Z-]*)?)*\s*$/;
const licenses = ['agpl_3', 'apache_1_1', 'apache_2_0', 'artistic_1', 'artistic_2', 'bsd', 'freebsd', 'gfdl_1_2',
  'gfdl_1_3', 'gpl_1', 'gpl_2', 'gpl_3', 'lgpl_2_1', 'lgpl_3_0', 'mit', 'mozilla_1_0', 'mozilla_1_1', 'openssl',
  'perl_5', 'postgresql', 'qpl_1_0', 'ssleay', 'sun', 'zlib', 'open_source', 'restricted', 'unrestricted', 'unknown'];
const isString = (v) => typeof v === 'string' && v.length > 0;
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

let meta;
try {
  meta = JSON.parse(readFileSync(path, 'utf8'));
  ok(true, `${path} is JSON`);
} catch (e) {
  ok(false, `${path} is JSON (${e.message})`);
  console.log(`1..${n}`);
  process.exit(1);
}

// --- the spec: required keys ------------------------------------------------------
for (const key of ['name', 'abstract', 'maintainer', 'license', 'provides', 'version', 'meta-spec']) {
  ok(key in meta, `required key "${key}" is present`);
}
ok(isString(meta.name) && /^[A-Za-z0-9_-]{2,}$/.test(meta.name), 'name: at least two characters, no "/", "\\" or spaces');
ok(isString(meta.abstract), 'abstract: a non-empty string');
ok(isString(meta.maintainer) || (Array.isArray(meta.maintainer) && meta.maintainer.length > 0 && meta.maintainer.every(isString)),
  'maintainer: a string or a non-empty list of strings');
ok((isString(meta.license) && licenses.includes(meta.license)) ||
   (Array.isArray(meta.license) && meta.license.every((l) => licenses.includes(l))) ||
   (isObject(meta.license) && Object.values(meta.license).every(isString)),
  `license: one of the spec's names, a list of them, or {name: URL} (${JSON.stringify(meta.license)})`);
ok(isString(meta.version) && semver.test(meta.version), `version: a semantic version (${meta.version})`);
ok(isObject(meta['meta-spec']) && meta['meta-spec'].version === '1.0.0', 'meta-spec.version is 1.0.0');
ok(!('url' in (meta['meta-spec'] || {})) || isString(meta['meta-spec'].url), 'meta-spec.url is a string when present');
ok(isObject(meta.provides) && Object.keys(meta.provides).length > 0, 'provides: at least one extension');
for (const [ext, p] of Object.entries(meta.provides || {})) {
  ok(isObject(p) && isString(p.file) && isString(p.version) && semver.test(p.version),
    `provides.${ext}: file and a semantic version`);
  ok(!('abstract' in p) || isString(p.abstract), `provides.${ext}.abstract is a string when present`);
  ok(!('docfile' in p) || isString(p.docfile), `provides.${ext}.docfile is a string when present`);
  ok(isString(p.file) && existsSync(join(root, p.file)), `provides.${ext}.file exists (${p.file})`);
  ok(!p.docfile || existsSync(join(root, p.docfile)), `provides.${ext}.docfile exists (${p.docfile})`);
}

// --- the spec: optional keys -------------------------------------------------------
ok(!('release_status' in meta) || ['stable', 'testing', 'unstable'].includes(meta.release_status),
  'release_status: stable, testing or unstable');
ok(!('tags' in meta) || (Array.isArray(meta.tags) && meta.tags.every((t) => isString(t) && t.length <= 255)),
  'tags: a list of strings of at most 255 characters');
ok(!('generated_by' in meta) || isString(meta.generated_by), 'generated_by is a string');
ok(!('description' in meta) || isString(meta.description), 'description is a string');
ok(!('no_index' in meta) || isObject(meta.no_index), 'no_index is an object');
const phases = ['configure', 'build', 'test', 'runtime', 'develop'];
const relations = ['requires', 'recommends', 'suggests', 'conflicts'];
let prereqsOk = !('prereqs' in meta) || isObject(meta.prereqs);
for (const [phase, rels] of Object.entries(meta.prereqs || {})) {
  if (!phases.includes(phase) || !isObject(rels)) prereqsOk = false;
  for (const [rel, exts] of Object.entries(rels || {})) {
    if (!relations.includes(rel) || !isObject(exts)) prereqsOk = false;
    for (const v of Object.values(exts || {})) if (typeof v !== 'string' || !range.test(v)) prereqsOk = false;
  }
}
ok(prereqsOk, 'prereqs: phases of relations of version ranges');
const res = meta.resources || {};
ok(!('resources' in meta) || (isObject(res) && Object.keys(res).every((k) => ['homepage', 'bugtracker', 'repository'].includes(k) || /^x_/i.test(k))),
  'resources: homepage, bugtracker, repository (or x_ keys)');
ok(!res.bugtracker || (isObject(res.bugtracker) && (isString(res.bugtracker.web) || isString(res.bugtracker.mailto))),
  'resources.bugtracker has web or mailto');
ok(!res.repository || (isObject(res.repository) && (isString(res.repository.url) || isString(res.repository.web)) &&
   (!res.repository.url || isString(res.repository.type))), 'resources.repository has url (with type) or web');

// --- the build agrees ---------------------------------------------------------------
const control = readFileSync(join(root, 'multistore.control'), 'utf8');
const makefile = readFileSync(join(root, 'Makefile'), 'utf8');
const defaultVersion = (control.match(/^default_version\s*=\s*'([^']+)'/m) || [])[1];
const extversion = (makefile.match(/^EXTVERSION\s*=\s*(\S+)/m) || [])[1];
ok(meta.version === defaultVersion, `version is multistore.control's default_version (${defaultVersion})`);
ok(meta.provides?.multistore?.version === defaultVersion, 'provides.multistore.version too');
ok(extversion === defaultVersion, `the Makefile's EXTVERSION is the same (${extversion})`);
ok(meta.name === 'multistore' && 'multistore' in (meta.provides || {}), 'it provides the extension it is named after');
const requires = (control.match(/^requires\s*=\s*'([^']*)'/m) || [])[1] || '';
for (const dep of requires.split(',').map((d) => d.trim()).filter(Boolean)) {
  ok(meta.prereqs?.runtime?.requires && dep in meta.prereqs.runtime.requires, `prereqs.runtime.requires names ${dep} (the control file requires it)`);
}

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
