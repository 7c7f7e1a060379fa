'use strict';
// Coinbase Commerce webhooks: X-CC-Webhook-Signature = hex HMAC-SHA256(shared
// secret, raw body); no timestamp is signed.  Coinbase's Node SDK
// (coinbase-commerce-node, not pinned here) publishes a vector in its test
// suite (test/testWebhook.spec.js): the secret, the 1 KB payload and the
// signature below.  This module signs and verifies per the docs and checks,
// when it loads, that its signer reproduces that vector (a mismatch makes the
// module fail to load, so every test of the profile fails).
// Docs: https://docs.cdp.coinbase.com/commerce/api-arcitecture/webhooks-security
const crypto = require('crypto');

const DOCS = 'https://docs.cdp.coinbase.com/commerce/api-arcitecture/webhooks-security';

// coinbase-commerce-node test/testWebhook.spec.js ("should successfully verify signature")
const VECTOR = {
  secret: '30291a20-0bd1-4267-9b0f-e6e7b123c0bf',
  payload: '{"id":1,"scheduled_for":"2017-01-31T20:50:02Z","attempt_number":1,"event":{"id":"24934862-d980-46cb-9402-43c81b0cdba6","type":"charge:created","api_version":"2018-03-22","created_at":"2017-01-31T20:49:02Z","data":{"code":"66BEOV2A","name":"The Sovereign Individual","description":"Mastering the Transition to the Information Age","hosted_url":"https://commerce.coinbase.com/charges/66BEOV2A","created_at":"2017-01-31T20:49:02Z","expires_at":"2017-01-31T21:04:02Z","timeline":[{"time":"2017-01-31T20:49:02Z","status":"NEW"}],"metadata":{},"pricing_type":"no_price","payments":[],"addresses":{"bitcoin":"0000000000000000000000000000000000","ethereum":"0x0000000000000000000000000000000000000000","litecoin":"3000000000000000000000000000000000","bitcoincash":"bitcoincash:000000000000000000000000000000000000000000"}}}}',
  signature: '8be7742c7d372f08a6a3224edadf18a22b65fa9e28f3f2de97376cdaa092590d',
};

function header(headers, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

function signature(body, secret) {
  return crypto.createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

if (signature(VECTOR.payload, VECTOR.secret) !== VECTOR.signature)
  throw new Error('the signer does not reproduce the coinbase-commerce-node test vector');

module.exports = {
  profile: 'coinbase-commerce',
  proof: 'vector',
  by: 'coinbase-commerce-node test/testWebhook.spec.js vector (signature 8be7742c...590d) reproduced; signed/verified per docs',
  docs: DOCS,
  secrets: ['cc-shared-first-7e2b9d4f-1a6c-4e8b-9f3d-5c0a2b7e8d1f', 'cc-shared-second-0c4e8a2f-6b1d-4a9e-8c7f-3d5b9e1a7c2d'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const eventId = crypto.randomUUID();
    const at = new Date(nowS(now) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const code = crypto.randomBytes(6).toString('hex').toUpperCase().slice(0, 8);
    const body = JSON.stringify({
      id: 1 + (crypto.randomBytes(2).readUInt16BE(0) % 1000),
      scheduled_for: at,
      attempt_number: 1,
      event: {
        id: eventId,
        resource: 'event',
        type: 'charge:confirmed',
        api_version: '2018-03-22',
        created_at: at,
        data: {
          code,
          name: 'Kaffee für Zoë ☕',
          description: 'Mastering the Transition',
          hosted_url: `https://commerce.coinbase.com/charges/${code}`,
          created_at: at,
          timeline: [{ time: at, status: 'NEW' }, { time: at, status: 'COMPLETED' }],
          metadata: {},
          pricing_type: 'fixed_price',
          pricing: { local: { amount: '4.20', currency: 'USD' } },
          payments: [],
        },
      },
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'weipay-webhooks' },
      expect: { id: eventId, type: 'charge:confirmed' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'X-CC-Webhook-Signature': signature(body, key) },
    body,
  }),
  // the documented check (the same as coinbase-commerce-node's Webhook.verifySigHeader)
  verify: async ({ body, headers, key }) => {
    const sig = header(headers, 'X-CC-Webhook-Signature');
    return typeof sig === 'string' && sameText(sig, signature(body, key));
  },
  tamper: { body: 'body', signature: { header: 'X-CC-Webhook-Signature' } },
  stale: false,
};
