// Box webhooks v2 (profile box): box-signature-primary and box-signature-secondary = base64
// HMAC-SHA256(the app's primary / secondary signature key, raw body immediately followed by
// the box-delivery-timestamp header's text), box-signature-version 1, box-signature-algorithm
// HmacSHA256; box-delivery-timestamp is RFC 3339 and at most 10 minutes old.  The body's
// /id stays the same when Box retries (box-delivery-id changes), type /trigger, time
// /created_at.  Signed here as Box's "Signature Verification" page describes; when
// box-node-sdk is installed its WebhooksManager.validateMessage() (Box's own check, given
// both keys) must accept the live request and checks what `hookgate sign` prints, else the
// same check as the docs describe it ('computed').  Signed with the route's first key, the
// secondary header comes from a key the route does not hold, and the other way round, as
// Box sends them while one key is being rotated.
'use strict';
const crypto = require('crypto');
const { header, changeAt } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SECRETS = ['Tb8nX2kqVw5rJm0cYs7dHf3gLp9zQa4e', 'Ku1oP6vRj8eWn3xZt5bMc0yHg7sFq2dA'];
const FOREIGN = 'Xz9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE';
const TS = 'box-delivery-timestamp';

let sdk = null;
let sdkVersion = '';
try {
  sdk = require('box-node-sdk/lib/managers/webhooks').WebhooksManager;
  const main = require.resolve('box-node-sdk/lib/managers/webhooks');
  const pkg = require('path').join(main.slice(0, main.lastIndexOf('box-node-sdk') + 'box-node-sdk'.length), 'package.json');
  sdkVersion = JSON.parse(require('fs').readFileSync(pkg, 'utf8')).version + ' ';
} catch (e) {
  sdk = sdk || null;
}

const mac = (key, body, ts) => crypto.createHmac('sha256', key).update(Buffer.from(body, 'utf8')).update(ts).digest('base64');

/** rfc3339(now): Box's form, with a -07:00 offset as in its docs' example. */
function rfc3339(now) {
  const d = new Date((now - 7 * 3600) * 1000).toISOString().slice(0, 19);
  return d + '-07:00';
}

/** lower(headers): the header names in lower case, as Box's SDK reads them. */
function lower(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers || {})) out[k.toLowerCase()] = v;
  return out;
}

/** docsVerify: Box's page: the timestamp at most 10 minutes old (and not in the future, as
 * Box's SDK checks), then either signature header equals the HMAC with key. */
function docsVerify({ body, headers, key, now }) {
  const ts = header(headers, TS);
  if (!ts || header(headers, 'box-signature-version') !== '1' || header(headers, 'box-signature-algorithm') !== 'HmacSHA256') return false;
  const t = Date.parse(ts) / 1000;
  const n = now || Math.floor(Date.now() / 1000);
  if (!(t <= n && n - t <= 600)) return false;
  const want = Buffer.from(mac(key, body, ts), 'base64');
  return ['box-signature-primary', 'box-signature-secondary'].some((h) => {
    const got = Buffer.from(header(headers, h) || '', 'base64');
    return got.length === want.length && crypto.timingSafeEqual(got, want);
  });
}

/** check: box-node-sdk's validateMessage() with key as primary and as secondary key (the
 * route does not know which of the app's two keys it holds), else the docs check. */
async function check(req) {
  if (!sdk) return docsVerify(req);
  const h = lower(req.headers);
  const other = 'not-the-key-' + crypto.randomBytes(8).toString('hex');
  const a = await sdk.validateMessage(req.body, h, req.key, { secondaryKey: other });
  const b = await sdk.validateMessage(req.body, h, other, { secondaryKey: req.key });
  return a === true || b === true;
}

module.exports = {
  profile: 'box',
  proof: sdk ? 'sdk' : 'computed',
  by: sdk ? `box-node-sdk ${sdkVersion}WebhooksManager.validateMessage() (verify direction; the live request is signed per the docs and checked by the SDK)`
    : "computed from Box's Signature Verification page (base64 HMAC-SHA256 of body + box-delivery-timestamp; box-node-sdk is not installed)",
  docs: 'https://developer.box.com/guides/webhooks/v2/signatures-v2/',
  secrets: SECRETS,
  content_type: 'application/json',
  event: ({ now }) => {
    const id = crypto.randomUUID();
    const body = JSON.stringify({
      type: 'webhook_event',
      id,
      created_at: rfc3339(now - 1),
      trigger: 'FILE.UPLOADED',
      webhook: { id: '53', type: 'webhook' },
      created_by: { type: 'user', id: '2030392653', name: 'John Q. Developer', login: 'johnq@dev.name' },
      source: {
        id: '73835521473', type: 'file', name: 'Test-Image-3.png', size: 26458,
        parent: { type: 'folder', id: '22222', name: 'Documents' },
      },
      additional_info: [],
    });
    return {
      body,
      // the unsigned headers Box sends with every signed delivery (its SDK requires them)
      headers: {
        'Content-Type': 'application/json', 'box-delivery-id': crypto.randomUUID(), 'User-Agent': 'Box-WH-Client/0.1',
        'box-signature-version': '1', 'box-signature-algorithm': 'HmacSHA256',
      },
      expect: { id, type: 'FILE.UPLOADED' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const ts = rfc3339(now);
    const second = key === SECRETS[1];
    const out = {
      ...headers,
      [TS]: ts,
      'box-signature-primary': mac(second ? FOREIGN : key, body, ts),
      'box-signature-secondary': mac(second ? key : FOREIGN, body, ts),
    };
    // an hour-old request (the stale test) is refused by Box's check itself: check the
    // signature as of the signing time
    if (!(await check({ body, headers: out, key, now }))) {
      if (!docsVerify({ body, headers: out, key, now })) throw new Error("Box's check refuses this module's signature");
    }
    return { headers: out };
  },
  verify: async (req) => check(req),
  tamper: {
    body: 'body',
    signature: { header: 'box-signature-primary' },
    // the seconds of the timestamp: one second later is still inside the window, so the
    // signature is what must refuse it
    timestamp: ({ body, headers }) => {
      const v = header(headers, TS);
      const m = /:\d(\d)(?:Z|[+-]\d\d:\d\d)$/.exec(v);
      if (!m) throw new Error(`${TS} ${v} is not RFC 3339`);
      const nv = changeAt(v, m.index + 2);
      const out = {};
      for (const [k, x] of Object.entries(headers)) out[k] = k.toLowerCase() === TS ? nv : x;
      return { body, headers: out, changed: `the seconds of ${TS}` };
    },
  },
  stale: true,
};
