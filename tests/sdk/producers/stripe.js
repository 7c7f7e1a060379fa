// Stripe (profile stripe): Stripe-Signature "t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>",
// 300 s tolerance.  Proven with Stripe's own Node SDK: webhooks.generateTestHeaderString()
// (the SDK's signer for tests) signs the live request and webhooks.constructEvent() (what a
// Stripe integration calls) checks what `hookgate sign` prints.
'use strict';
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const SIG = 'Stripe-Signature';

module.exports = {
  profile: 'stripe',
  proof: 'sdk',
  by: 'stripe 23.2.0 webhooks.generateTestHeaderString() and webhooks.constructEvent()',
  docs: 'https://docs.stripe.com/webhooks#verify-events',
  secrets: ['whsec_oracleStripeA4f9c1d7e2b8a3f6', 'whsec_oracleStripeB0e5d2c9a7f1b4e8'],
  content_type: 'application/json; charset=utf-8',
  event: ({ now }) => {
    const id = 'evt_' + crypto.randomBytes(12).toString('hex');
    const body = JSON.stringify({
      id,
      object: 'event',
      api_version: '2024-06-20',
      created: now,
      data: { object: { id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa', object: 'payment_intent', amount: 2000, currency: 'usd', status: 'succeeded' } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: 'req_8Wz1hVq2hXw9Ac', idempotency_key: 'a4f1b2c3-7d8e-4f90-8a1b-2c3d4e5f6a7b' },
      type: 'payment_intent.succeeded',
    }, null, 2);
    return {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      expect: { id, type: 'payment_intent.succeeded' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const Stripe = require('stripe');
    return { headers: { ...headers, [SIG]: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: key, timestamp: now }) } };
  },
  verify: async ({ body, headers, key, now }) => {
    const Stripe = require('stripe');
    const sig = header(headers, SIG);
    if (!sig) return false;
    try {
      Stripe.webhooks.constructEvent(body, sig, key, 300, undefined, now * 1000);
      return true;
    } catch (e) {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: SIG, match: 'v1=([0-9a-f]+)' },
    timestamp: { header: SIG, match: 't=(\\d+)' },
    id: { pointer: '/id' },
  },
  stale: true,
};
