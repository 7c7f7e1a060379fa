'use strict';
// Razorpay webhooks: X-Razorpay-Signature = hex HMAC-SHA256(webhook secret,
// raw body); no timestamp is signed; x-razorpay-event-id (unsigned) is the
// event id, kept across retries.  razorpay's validateWebhookSignature() only
// verifies, so the request is signed here per the docs and the SDK is the
// oracle.
// Docs: https://razorpay.com/docs/webhooks/validate-test/
const crypto = require('crypto');

const DOCS = 'https://razorpay.com/docs/webhooks/validate-test/';

function header(headers, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

// Razorpay ids: 14 base62 characters
function rzpId() {
  const a = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of crypto.randomBytes(14)) s += a[b % 62];
  return s;
}

module.exports = {
  profile: 'razorpay',
  proof: 'sdk',
  by: 'signed per docs; verified by razorpay 2.9.8 validateWebhookSignature()',
  docs: DOCS,
  secrets: ['rzp-webhook-first-5d1f9a7c3e', 'rzp-webhook-second-0b8e6c4a2f'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const eventId = rzpId();
    const body = JSON.stringify({
      entity: 'event',
      account_id: 'acc_BFQ7uQEaa7j2z7',
      event: 'payment.captured',
      contains: ['payment'],
      payload: {
        payment: {
          entity: {
            id: 'pay_' + rzpId(),
            entity: 'payment',
            amount: 50000,
            currency: 'INR',
            status: 'captured',
            order_id: 'order_' + rzpId(),
            method: 'upi',
            description: 'Chai ☕ order',
            email: 'gaurav.kumar@example.com',
            created_at: nowS(now) - 4,
          },
        },
      },
      created_at: nowS(now),
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Razorpay-Webhook/v1', 'x-razorpay-event-id': eventId },
      expect: { id: eventId, type: 'payment.captured' },
    };
  },
  sign: async ({ body, headers, key }) => {
    const sig = crypto.createHmac('sha256', key).update(body, 'utf8').digest('hex');
    return { headers: { ...headers, 'X-Razorpay-Signature': sig }, body };
  },
  verify: async ({ body, headers, key }) => {
    try {
      const Razorpay = require('razorpay');
      const sig = header(headers, 'X-Razorpay-Signature');
      if (typeof sig !== 'string') return false;
      return Razorpay.validateWebhookSignature(body, sig, key) === true;
    } catch {
      return false;
    }
  },
  tamper: { body: 'body', signature: { header: 'X-Razorpay-Signature' } },
  stale: false,
};
