// Meta Webhooks (profile meta: Facebook, Instagram, WhatsApp Cloud API, Messenger):
// X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(app secret, raw body); Meta also sends
// the legacy X-Hub-Signature (sha1=) with each notification.  No npm package of Meta's
// signs or verifies (the Graph API SDK does not), so this module is 'computed' from the
// "Validating payloads" section of Meta's Webhooks docs; docsVerify() is that check,
// constant time.  Meta sends no event id: hookgate's id is the body's SHA-256.  The route
// also carries the verify_token that the GET verification request must present (tested
// by tests/e2e/test_handshakes.py).
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'X-Hub-Signature-256';

function mac(key, body) {
  return 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('hex');
}

function docsVerify({ body, headers, key }) {
  const sig = header(headers, SIG);
  if (!sig) return false;
  const want = Buffer.from(mac(key, body));
  const got = Buffer.from(sig);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

module.exports = {
  profile: 'meta',
  proof: 'computed',
  by: "computed from Meta's Webhooks docs, Validating payloads (sha256= hex HMAC-SHA256 of the body with the app secret; no npm SDK verifies)",
  docs: 'https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads',
  secrets: ['6f1e2d3c4b5a69788796a5b4c3d2e1f0', '0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d'],
  route: { verify_token: 'meta-oracle-verify-token-91c4' },
  content_type: 'application/json',
  event: ({ now }) => {
    const wamid = 'wamid.' + crypto.randomBytes(24).toString('base64');
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{
        id: '102290129340398',
        changes: [{
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
            contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
            messages: [{ from: '16505551234', id: wamid, timestamp: String(now), text: { body: 'Does it come in another color?' }, type: 'text' }],
          },
          field: 'messages',
        }],
      }],
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'facebookexternalua' },
      expect: { id: 'sha256:' + crypto.createHash('sha256').update(body).digest('hex'), type: 'whatsapp_business_account' },
    };
  },
  sign: async ({ body, headers, key }) => {
    const out = {
      ...headers,
      'X-Hub-Signature': 'sha1=' + crypto.createHmac('sha1', key).update(body).digest('hex'),
      [SIG]: mac(key, body),
    };
    if (!docsVerify({ body, headers: out, key })) throw new Error("the docs verifier refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: { body: 'body', signature: { header: SIG } },
  stale: false,
};
