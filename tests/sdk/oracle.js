#!/usr/bin/env node
// tests/sdk/oracle.js - the producers' own SDKs as oracles for hookgate's profiles.
//
// Loads tests/sdk/producers/<profile>.js (one CommonJS module per built-in profile,
// the contract is tests/sdk/README.md) and runs one operation of one module:
//
//   node oracle.js list                      -> [{profile, proof, by, docs, secrets, ...}, ...]
//   node oracle.js <profile> list            -> the same for one module
//   node oracle.js <profile> event   < {now}                         -> {body, headers, expect}
//   node oracle.js <profile> sign    < {body, headers, key, url, method, now} -> {headers, body, url}
//   node oracle.js <profile> verify  < {body, headers, key, url, method, now} -> {ok, error?}
//   node oracle.js <profile> tamper  < {body, headers, part}          -> {body, headers, changed}
//   node oracle.js serve      (used by tests/e2e/test_producers.py: one request per stdin line,
//                              {"seq", "profile", "op", "req"}; one answer per stdout line,
//                              "\x1eHGORACLE " + {"seq", "result"} or {"seq", "error"})
//
// Invariants: stdout carries the answers only (console output of the SDKs goes to stderr);
// a module that throws, returns a malformed answer or hangs (TIMEOUT_MS) gives an error
// answer naming the module and the operation, never a crash of the oracle; verify is
// {ok: true} only when the module's verifier returned exactly true (a throw is {ok: false}).
// `now` is always unix seconds (an integer).
//
// tamper changes ONE character of one part the signature covers, keeping the length and
// the alphabet (a hex digit stays a hex digit, base64 stays base64, a digit stays a digit,
// a JSON string stays a valid JSON string), so that it is the signature check and not a
// parser that must refuse the result.  Modules may reuse the helpers exported below.
'use strict';

const fs = require('fs');
const path = require('path');

const PRODUCERS = path.join(__dirname, 'producers');
const TIMEOUT_MS = 30000;
const MARK = '\x1eHGORACLE ';
const PROOFS = ['sdk', 'vector', 'computed'];

// ---- helpers (exported for modules) ------------------------------------------------

/** header(headers, name): the value of a header, names compared case-insensitively. */
function header(headers, name) {
  const want = String(name).toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

/** withHeader(headers, name, value): a copy with name set (any other spelling replaced). */
function withHeader(headers, name, value) {
  const out = {};
  const want = String(name).toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() !== want) out[k] = headers[k];
  out[name] = value;
  return out;
}

/** another(c): a different character of the same class (hex, digit, base64, base64url). */
function another(c) {
  if (c >= '0' && c <= '8') return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === '9') return '8';
  if ((c >= 'a' && c <= 'e') || (c >= 'A' && c <= 'E')) return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === 'f') return 'e';
  if (c === 'F') return 'E';
  if ((c >= 'g' && c <= 'y') || (c >= 'G' && c <= 'Y')) return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === 'z') return 'y';
  if (c === 'Z') return 'Y';
  const swap = { '+': '/', '/': '+', '-': '_', '_': '-' };
  return swap[c];
}

/** changeAt(s, i): s with the character at i replaced by another() of it. */
function changeAt(s, i) {
  const r = another(s[i]);
  if (r === undefined) throw new Error(`cannot change character ${JSON.stringify(s[i])} at ${i}`);
  return s.slice(0, i) + r + s.slice(i + 1);
}

/** changeToken(s, lo, hi): one character of s[lo..hi) changed.  An all-digit region
 * (a timestamp) gets its last digit changed (one second: still inside any tolerance,
 * so the signature is what refuses it); otherwise the middle character of the longest
 * run of [A-Za-z0-9+/_-] (inside a hex or base64 signature, away from its end, where
 * base64 may carry unused bits). */
function changeToken(s, lo = 0, hi = s.length) {
  const region = s.slice(lo, hi);
  if (/^\d+$/.test(region)) return changeAt(s, hi - 1);
  let best = null;
  const re = /[A-Za-z0-9+/_-]+/g;
  let m;
  while ((m = re.exec(region))) if (!best || m[0].length > best[1]) best = [m.index, m[0].length];
  if (!best) throw new Error(`nothing to change in ${JSON.stringify(region.slice(0, 40))}`);
  return changeAt(s, lo + best[0] + Math.floor(best[1] / 2));
}

/** jsonSpans(text): [{pointer, start, end, kind}] of every value of a JSON text, with
 * their offsets in the text (start/end of a string include its quotes); null when the
 * text is not JSON. */
function jsonSpans(text) {
  let i = 0;
  const out = [];
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const esc = (k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1');
  function str() {
    if (text[i] !== '"') throw new Error('string expected');
    const s = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) throw new Error('unterminated string');
    i++;
    return [s, i];
  }
  function value(ptr) {
    ws();
    const s = i;
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') i++;
      else for (;;) {
        ws();
        const [ks, ke] = str();
        const key = JSON.parse(text.slice(ks, ke));
        ws();
        if (text[i++] !== ':') throw new Error(': expected');
        value(ptr + '/' + esc(key));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== '}') throw new Error('} expected');
        break;
      }
      out.push({ pointer: ptr, start: s, end: i, kind: 'object' });
    } else if (c === '[') {
      i++; ws();
      if (text[i] === ']') i++;
      else for (let n = 0; ; n++) {
        value(ptr + '/' + n);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== ']') throw new Error('] expected');
        break;
      }
      out.push({ pointer: ptr, start: s, end: i, kind: 'array' });
    } else if (c === '"') {
      str();
      out.push({ pointer: ptr, start: s, end: i, kind: 'string' });
    } else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) throw new Error('value expected');
      i += m[0].length;
      out.push({ pointer: ptr, start: s, end: i, kind: /^[-\d]/.test(m[0]) ? 'number' : 'literal' });
    }
  }
  try {
    value('');
    ws();
    return i === text.length ? out : null;
  } catch (e) {
    return null;
  }
}

/** changeInString(text, start, end): one letter or digit inside the JSON string
 * text[start..end) (quotes included, escapes skipped) changed: the middle one. */
function changeInString(text, start, end) {
  const idx = [];
  for (let i = start + 1; i < end - 1; i++) {
    if (text[i] === '\\') { i += text[i + 1] === 'u' ? 5 : 1; continue; }
    if (/[A-Za-z0-9]/.test(text[i])) idx.push(i);
  }
  if (!idx.length) throw new Error(`no letter or digit in the string ${text.slice(start, Math.min(end, start + 40))}`);
  return changeAt(text, idx[Math.floor(idx.length / 2)]);
}

/** tamperBody(body): one byte of the body changed where a parser still accepts it: for
 * JSON, a letter or digit inside a string value (the middle one of all of them; else
 * the last digit of a number); otherwise the middle letter or digit of the body. */
function tamperBody(body) {
  const spans = jsonSpans(body);
  const idx = [];
  if (spans) {
    for (const sp of spans) {
      if (sp.kind !== 'string') continue;
      for (let i = sp.start + 1; i < sp.end - 1; i++) {
        if (body[i] === '\\') { i += body[i + 1] === 'u' ? 5 : 1; continue; }
        if (/[A-Za-z0-9]/.test(body[i])) idx.push(i);
      }
    }
    if (!idx.length) {
      const num = spans.find((sp) => sp.kind === 'number');
      if (!num) throw new Error('the JSON body has no string or number to change');
      return changeAt(body, num.end - 1);
    }
    idx.sort((a, b) => a - b);
  } else {
    for (let i = 0; i < body.length; i++) if (/[A-Za-z0-9]/.test(body[i])) idx.push(i);
    if (!idx.length) throw new Error('the body has no letter or digit to change');
  }
  return changeAt(body, idx[Math.floor(idx.length / 2)]);
}

/** tamperPart({body, headers}, spec): the request with the part spec names changed by one
 * character.  spec: 'body' | {header: N, match?: regex with one group} |
 * {pointer: '/json/ptr'} | a function ({body, headers}) => {body, headers}. */
function tamperPart(req, spec) {
  const body = req.body;
  const headers = { ...(req.headers || {}) };
  if (typeof spec === 'function') return spec({ body, headers });
  if (spec === 'body') return { body: tamperBody(body), headers, changed: 'one byte of the body' };
  if (spec && typeof spec.header === 'string') {
    const v = header(headers, spec.header);
    if (v === undefined) throw new Error(`header ${spec.header} is not in the request`);
    let nv;
    if (spec.match) {
      const m = new RegExp(spec.match).exec(v);
      if (!m || m[1] === undefined) throw new Error(`${spec.header}: /${spec.match}/ does not match ${v.slice(0, 30)}...`);
      const lo = m.index + m[0].indexOf(m[1]);
      nv = changeToken(v, lo, lo + m[1].length);
    } else {
      nv = changeToken(v);
    }
    return { body, headers: withHeader(headers, spec.header, nv), changed: `one byte of header ${spec.header}` };
  }
  if (spec && typeof spec.pointer === 'string') {
    const spans = jsonSpans(body);
    if (!spans) throw new Error(`pointer ${spec.pointer}: the body is not JSON`);
    const sp = spans.find((s) => s.pointer === spec.pointer);
    if (!sp) throw new Error(`pointer ${spec.pointer} is not in the body`);
    let nb;
    if (sp.kind === 'string') nb = changeInString(body, sp.start, sp.end);
    else if (sp.kind === 'number') nb = changeAt(body, sp.end - 1);
    else throw new Error(`pointer ${spec.pointer} is a ${sp.kind}, not a string or number`);
    return { body: nb, headers, changed: `one byte of body member ${spec.pointer}` };
  }
  throw new Error(`unknown tamper spec ${JSON.stringify(spec)}`);
}

// ---- modules -----------------------------------------------------------------------

/** names(): the profiles that have a module, sorted. */
function names() {
  let files = [];
  try {
    files = fs.readdirSync(PRODUCERS);
  } catch (e) {
    return [];
  }
  return files.filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
}

/** check(name, m): what is wrong with module m, or null. */
function check(name, m) {
  const bad = [];
  if (!m || typeof m !== 'object') return 'module.exports is not an object';
  if (m.profile !== name) bad.push(`profile must be "${name}" (the file name), not ${JSON.stringify(m.profile)}`);
  if (!PROOFS.includes(m.proof)) bad.push(`proof must be one of ${PROOFS.join('|')}`);
  for (const k of ['by', 'docs']) if (typeof m[k] !== 'string' || !m[k]) bad.push(`${k} must be a non-empty string`);
  if (!Array.isArray(m.secrets) || m.secrets.length !== 2 || !m.secrets.every((s) => typeof s === 'string' && s))
    bad.push('secrets must be two non-empty strings (the rotation test uses both)');
  if (m.signing_keys !== undefined && (!Array.isArray(m.signing_keys) || m.signing_keys.length !== 2 ||
      !m.signing_keys.every((s) => typeof s === 'string' && s)))
    bad.push('signing_keys, when given, must be two non-empty strings (matching secrets)');
  for (const k of ['event', 'sign']) if (typeof m[k] !== 'function') bad.push(`${k} must be a function`);
  if (m.verify !== null && typeof m.verify !== 'function') bad.push('verify must be a function or null');
  if (!m.tamper || typeof m.tamper !== 'object' || !Object.keys(m.tamper).length)
    bad.push('tamper must name at least one part ({body: "body", signature: {header: ...}})');
  if (typeof m.stale !== 'boolean') bad.push('stale must be true or false');
  if (m.route !== undefined && (typeof m.route !== 'object' || Array.isArray(m.route))) bad.push('route must be an object');
  if (m.sign_args !== undefined && (!Array.isArray(m.sign_args) || !m.sign_args.every((a) => typeof a === 'string')))
    bad.push('sign_args must be a list of strings');
  return bad.length ? bad.join('; ') : null;
}

const cache = new Map();

/** load(name): {mod} or {error} (a module that does not load or is malformed). */
function load(name) {
  if (cache.has(name)) return cache.get(name);
  let r;
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name) || !names().includes(name)) {
    r = { error: `no producer module tests/sdk/producers/${name}.js` };
  } else {
    try {
      const m = require(path.join(PRODUCERS, name + '.js'));
      const why = check(name, m);
      r = why ? { error: `producers/${name}.js: ${why}` } : { mod: m };
    } catch (e) {
      r = { error: `producers/${name}.js does not load: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}` };
    }
  }
  cache.set(name, r);
  return r;
}

function describe(name) {
  const { mod: m, error } = load(name);
  if (error) return { profile: name, error };
  const tamper = {};
  for (const [k, v] of Object.entries(m.tamper)) tamper[k] = typeof v === 'function' ? 'function' : v;
  return {
    profile: m.profile, proof: m.proof, by: m.by, docs: m.docs, secrets: m.secrets,
    signing_keys: m.signing_keys || null, route: m.route || {}, content_type: m.content_type || null,
    stale: m.stale, tamper, sign_args: m.sign_args || [], has_verify: typeof m.verify === 'function',
  };
}

function withTimeout(p, what) {
  let t;
  const timer = new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what} did not answer in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS); });
  return Promise.race([Promise.resolve(p), timer]).finally(() => clearTimeout(t));
}

function isHeaders(h) {
  return h && typeof h === 'object' && !Array.isArray(h) && Object.values(h).every((v) => typeof v === 'string');
}

/** run(name, op, req): the answer of one operation; throws Error with a message naming
 * the module and operation (verify never throws: {ok: false, error}). */
async function run(name, op, req) {
  if (op === 'list') return [describe(name)];
  const { mod: m, error } = load(name);
  if (error) throw new Error(error);
  req = req || {};
  const what = `producers/${name}.js ${op}()`;
  if (op === 'event') {
    const r = await withTimeout(m.event({ now: req.now }), what);
    if (!r || typeof r.body !== 'string' || !isHeaders(r.headers) || !r.expect || typeof r.expect.id !== 'string' ||
        typeof r.expect.type !== 'string')
      throw new Error(`${what} must return {body: string, headers: {name: string}, expect: {id: string, type: string}}`);
    return { body: r.body, headers: r.headers, expect: r.expect };
  }
  if (op === 'sign') {
    const r = await withTimeout(m.sign({ ...req }), what);
    if (!r || !isHeaders(r.headers)) throw new Error(`${what} must return {headers: {name: string}, body?, url?}`);
    if (r.body !== undefined && typeof r.body !== 'string') throw new Error(`${what}: body must be a string`);
    if (r.url !== undefined && typeof r.url !== 'string') throw new Error(`${what}: url must be a string`);
    return { headers: r.headers, body: r.body === undefined ? req.body : r.body, url: r.url === undefined ? req.url : r.url };
  }
  if (op === 'verify') {
    if (typeof m.verify !== 'function') return { ok: false, error: `${name} has no SDK verifier (verify: null)` };
    try {
      const r = await withTimeout(m.verify({ ...req }), what);
      if (typeof r !== 'boolean') return { ok: false, error: `${what} returned ${typeof r}, not true/false` };
      return { ok: r };
    } catch (e) {
      return { ok: false, error: `${what} threw: ${e && e.message ? e.message.split('\n')[0] : e}` };
    }
  }
  if (op === 'tamper') {
    const spec = m.tamper[req.part];
    if (spec === undefined) throw new Error(`producers/${name}.js has no tamper part "${req.part}"`);
    const r = tamperPart({ body: req.body, headers: req.headers }, spec);
    if (!r || typeof r.body !== 'string' || !isHeaders(r.headers)) throw new Error(`tamper ${req.part} of ${name}: bad result`);
    if (r.body === req.body && JSON.stringify(r.headers) === JSON.stringify(req.headers))
      throw new Error(`tamper ${req.part} of ${name} changed nothing`);
    return { body: r.body, headers: r.headers, changed: r.changed || req.part };
  }
  throw new Error(`unknown operation "${op}" (list, event, sign, verify, tamper)`);
}

// ---- command line ------------------------------------------------------------------

function quietConsole() {
  // stdout is for answers: whatever an SDK prints goes to stderr
  const err = (...a) => process.stderr.write(a.map((x) => (typeof x === 'string' ? x : require('util').inspect(x))).join(' ') + '\n');
  for (const k of ['log', 'info', 'debug', 'warn', 'trace', 'dir']) console[k] = err;
  const out = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr);
  return out;
}

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function serve(out) {
  const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let q;
    try {
      q = JSON.parse(line);
    } catch (e) {
      out(MARK + JSON.stringify({ seq: null, error: 'request is not JSON' }) + '\n');
      continue;
    }
    let a;
    try {
      a = { seq: q.seq, result: q.op === 'list' && !q.profile ? names().map(describe) : await run(q.profile, q.op, q.req) };
    } catch (e) {
      a = { seq: q.seq, error: e && e.message ? e.message : String(e) };
    }
    out(MARK + JSON.stringify(a) + '\n');
  }
}

async function main(argv) {
  const out = quietConsole();
  process.on('unhandledRejection', (e) => process.stderr.write(`oracle: unhandled rejection: ${e && e.stack ? e.stack : e}\n`));
  if (argv[0] === 'serve') return serve(out);
  if (argv[0] === 'list' && argv.length === 1) {
    out(JSON.stringify(names().map(describe), null, 1) + '\n');
    return;
  }
  if (argv.length !== 2) {
    process.stderr.write('usage: oracle.js list | oracle.js PROFILE list|event|sign|verify|tamper < request.json | oracle.js serve\n');
    process.exitCode = 2;
    return;
  }
  const [name, op] = argv;
  let req = {};
  if (op !== 'list') {
    const text = await readStdin();
    try {
      req = text.trim() ? JSON.parse(text) : {};
    } catch (e) {
      out(JSON.stringify({ error: 'the request on stdin is not JSON' }) + '\n');
      process.exitCode = 2;
      return;
    }
  }
  try {
    out(JSON.stringify(await run(name, op, req)) + '\n');
  } catch (e) {
    out(JSON.stringify({ error: e && e.message ? e.message : String(e) }) + '\n');
    process.exitCode = 1;
  }
}

module.exports = { header, withHeader, another, changeAt, changeToken, jsonSpans, changeInString, tamperBody, tamperPart };

if (require.main === module) main(process.argv.slice(2));
