'use strict';
// Square webhooks: x-square-hmacsha256-signature = base64 HMAC-SHA256(the
// subscription's signature key, notification URL + raw body).  The URL is
// the one registered at Square: the route's public_url here.  No timestamp
// is signed (square-initial-delivery-timestamp is unsigned metadata).
// square's WebhooksHelper only verifies, so the request is signed here per
// the docs and the SDK is the oracle.
// Docs: https://developer.squareup.com/docs/webhooks/step3validate
const crypto = require('crypto');

const DOCS = 'https://developer.squareup.com/docs/webhooks/step3validate';
const PUBLIC_URL = 'https://hooks.example.com/p/square';

function header(headers, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

function sqId(n) {
  return crypto.randomBytes(n).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, n);
}

module.exports = {
  profile: 'square',
  proof: 'sdk',
  by: 'signed per docs; verified by square 46.0.0 WebhooksHelper.verifySignature()',
  docs: DOCS,
  secrets: ['sq-sig-key-first-Y2xh3k9Qe7Rm1Tz5', 'sq-sig-key-second-Pw8Nd4Lc6Vb2Xf0J'],
  route: { public_url: PUBLIC_URL },
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const eventId = crypto.randomUUID();
    const pay = sqId(29);
    const at = new Date(nowS(now) * 1000).toISOString();
    const body = JSON.stringify({
      merchant_id: '6SSW7HV8K2ST5',
      type: 'payment.created',
      event_id: eventId,
      created_at: at,
      data: {
        type: 'payment',
        id: pay,
        object: {
          payment: {
            id: pay,
            amount_money: { amount: 1234, currency: 'EUR' },
            status: 'APPROVED',
            location_id: 'S8GWD5R9QB376',
            note: 'Crème brûlée ×2 ✓',
            created_at: at,
          },
        },
      },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Square Connect v2',
        'square-environment': 'Sandbox',
        'square-initial-delivery-timestamp': at,
      },
      expect: { id: eventId, type: 'payment.created' },
    };
  },
  sign: async ({ body, headers, key, url }) => {
    const u = url || PUBLIC_URL;
    const sig = crypto.createHmac('sha256', key).update(u + body, 'utf8').digest('base64');
    return { headers: { ...headers, 'x-square-hmacsha256-signature': sig }, body, url: u };
  },
  verify: async ({ body, headers, key, url }) => {
    try {
      const { WebhooksHelper } = require('square');
      const sig = header(headers, 'x-square-hmacsha256-signature');
      if (typeof sig !== 'string') return false;
      return (await WebhooksHelper.verifySignature({
        requestBody: body,
        signatureHeader: sig,
        signatureKey: key,
        notificationUrl: url || PUBLIC_URL,
      })) === true;
    } catch {
      return false;
    }
  },
  tamper: { body: 'body', signature: { header: 'x-square-hmacsha256-signature' } },
  stale: false,
  sign_args: ['--url', '{url}'],
};
