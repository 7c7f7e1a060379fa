// Dropbox (profile dropbox): X-Dropbox-Signature = hex HMAC-SHA256(app secret, raw body).
// The Dropbox SDK for JavaScript only calls the API; no npm package of Dropbox's verifies
// webhooks, so this module is 'computed' from Dropbox's webhook reference; docsVerify() is
// that page's check, constant time.  A notification only lists the accounts that changed:
// no id (hookgate's id is the body's SHA-256, so every event() lists a fresh account), no
// type (the profile names it list_folder).  The GET challenge is tested by
// tests/e2e/test_handshakes.py.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'X-Dropbox-Signature';

function mac(key, body) {
  return crypto.createHmac('sha256', key).update(body).digest('hex');
}

function docsVerify({ body, headers, key }) {
  const sig = header(headers, SIG);
  if (!sig) return false;
  const want = Buffer.from(mac(key, body));
  const got = Buffer.from(sig);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

module.exports = {
  profile: 'dropbox',
  proof: 'computed',
  by: "computed from Dropbox's webhook reference (hex HMAC-SHA256 of the body with the app secret; no npm SDK verifies)",
  docs: 'https://www.dropbox.com/developers/reference/webhooks',
  secrets: ['k3x9v2m7q1w8e4r', 'p0o9i8u7y6t5r4e'],
  content_type: 'application/json',
  event: () => {
    const account = 'dbid:AA' + crypto.randomBytes(24).toString('base64url').replace(/[-_]/g, 'Q');
    const body = JSON.stringify({ list_folder: { accounts: [account] }, delta: { users: [10000000 + crypto.randomInt(1e7)] } });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'DropboxWebhooks/1.0' },
      expect: { id: 'sha256:' + crypto.createHash('sha256').update(body).digest('hex'), type: 'list_folder' },
    };
  },
  sign: async ({ body, headers, key }) => {
    const out = { ...headers, [SIG]: mac(key, body) };
    if (!docsVerify({ body, headers: out, key })) throw new Error("the docs verifier refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: { body: 'body', signature: { header: SIG } },
  stale: false,
};
