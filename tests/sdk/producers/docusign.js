// DocuSign Connect with HMAC (profile docusign): X-DocuSign-Signature-1, -2, ... = base64
// HMAC-SHA256(Connect HMAC key, raw body), one header per HMAC key active on the account
// (x-authorization-digest: HMACSHA256); any one that matches passes.  No timestamp.  The
// JSON SIM body has event, generatedDateTime and data.envelopeId but no event id (and
// retryCount changes on a retry), so the id is the body's SHA-256.  No npm SDK verifies
// Connect messages (docusign-esign only calls the API), so this module is 'computed' from
// DocuSign's "How to validate an HMAC signature" page.  Signed with the route's second
// key, the request is as an account with two active keys sends it: header -1 from a key
// the route does not have, -2 from its key.
'use strict';
const crypto = require('crypto');

const SECRETS = ['3f8a1c5e9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d2f4a',
  'b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6'];
const FOREIGN = 'an HMAC key of the account that the route does not hold';

const mac = (key, body) => crypto.createHmac('sha256', key).update(Buffer.from(body, 'utf8')).digest('base64');

/** docsVerify: any X-DocuSign-Signature-N header equals the body's HMAC (constant time). */
function docsVerify({ body, headers, key }) {
  const want = Buffer.from(mac(key, body), 'base64');
  let ok = false;
  for (const [k, v] of Object.entries(headers || {})) {
    if (!/^x-docusign-signature-\d+$/i.test(k)) continue;
    const got = Buffer.from(v, 'base64');
    if (got.length === want.length && crypto.timingSafeEqual(got, want)) ok = true;
  }
  return ok;
}

module.exports = {
  profile: 'docusign',
  proof: 'computed',
  by: "computed from DocuSign's How to validate an HMAC signature page (base64 HMAC-SHA256 of the body; no SDK verifies)",
  docs: 'https://developers.docusign.com/platform/webhooks/connect/validate/',
  secrets: SECRETS,
  content_type: 'application/json',
  event: ({ now }) => {
    const account = crypto.randomUUID();
    const envelope = crypto.randomUUID();
    const body = JSON.stringify({
      event: 'envelope-completed',
      apiVersion: 'v2.1',
      uri: `/restapi/v2.1/accounts/${account}/envelopes/${envelope}`,
      retryCount: 0,
      configurationId: 10418173,
      generatedDateTime: new Date(now * 1000).toISOString().replace('Z', '0000Z'),
      data: {
        accountId: account,
        userId: crypto.randomUUID(),
        envelopeId: envelope,
        envelopeSummary: { status: 'completed', emailSubject: 'Please DocuSign: NDA.pdf', envelopeId: envelope },
      },
    });
    const id = 'sha256:' + crypto.createHash('sha256').update(body).digest('hex');
    return { body, headers: { 'Content-Type': 'application/json', 'x-authorization-digest': 'HMACSHA256' }, expect: { id, type: 'envelope-completed' } };
  },
  sign: async ({ body, headers, key }) => {
    const out = { ...headers };
    if (key === SECRETS[1]) {
      out['X-DocuSign-Signature-1'] = mac(FOREIGN, body);
      out['X-DocuSign-Signature-2'] = mac(key, body);
    } else {
      out['X-DocuSign-Signature-1'] = mac(key, body);
    }
    if (!docsVerify({ body, headers: out, key })) throw new Error('the docs verifier refuses this module\'s signature');
    return { headers: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: {
    body: 'body',
    signature: { header: 'X-DocuSign-Signature-1' },
  },
  stale: false,
};
