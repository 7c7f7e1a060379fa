// Standard Webhooks / Svix (profile standard): webhook-signature "v1,<base64 HMAC-SHA256(
// base64-decoded whsec_ key, id.timestamp.body)>", webhook-id, webhook-timestamp, 5 minute
// window.  Proven with both reference SDKs: standardwebhooks' Webhook.sign() signs the live
// request (and svix's Webhook.sign() must give the same signature); what `hookgate sign`
// prints must pass both standardwebhooks' Webhook.verify() (webhook-* headers) and svix's
// Webhook.verify() (the same values under Svix's svix-* header names).
'use strict';
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

module.exports = {
  profile: 'standard',
  proof: 'sdk',
  by: 'standardwebhooks 1.3.0 and svix 1.99.1 Webhook.sign() and Webhook.verify()',
  docs: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  secrets: ['whsec_' + Buffer.from('oracle-standard-key-one-32-bytes').toString('base64'),
            'whsec_' + Buffer.from('oracle-standard-key-two-32-bytes').toString('base64')],
  content_type: 'application/json',
  event: ({ now }) => {
    const id = 'msg_' + crypto.randomBytes(14).toString('base64url').replace(/[-_]/g, 'x');
    const body = JSON.stringify({
      type: 'invoice.paid',
      timestamp: new Date(now * 1000).toISOString(),
      data: { id: 'inv_9f8e7d6c', customer_id: 'cus_1a2b3c4d', amount: 4200, currency: 'eur' },
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(now) },
      expect: { id, type: 'invoice.paid' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const sw = require('standardwebhooks');
    const svix = require('svix');
    const id = header(headers, 'webhook-id');
    const when = new Date(now * 1000);
    const sig = new sw.Webhook(key).sign(id, when, body);
    if (new svix.Webhook(key).sign(id, when, body) !== sig) throw new Error('svix and standardwebhooks sign differently');
    return { headers: { ...headers, 'webhook-timestamp': String(now), 'webhook-signature': sig } };
  },
  verify: async ({ body, headers, key }) => {
    const sw = require('standardwebhooks');
    const svix = require('svix');
    const h = {
      'webhook-id': header(headers, 'webhook-id'),
      'webhook-timestamp': header(headers, 'webhook-timestamp'),
      'webhook-signature': header(headers, 'webhook-signature'),
    };
    if (!h['webhook-id'] || !h['webhook-timestamp'] || !h['webhook-signature']) return false;
    const ok = (f) => { try { f(); return true; } catch (e) { return false; } };
    const a = ok(() => new sw.Webhook(key).verify(body, h));
    const b = ok(() => new svix.Webhook(key).verify(body, {
      'svix-id': h['webhook-id'], 'svix-timestamp': h['webhook-timestamp'], 'svix-signature': h['webhook-signature'],
    }));
    if (a !== b) throw new Error(`standardwebhooks says ${a}, svix says ${b}`);
    return a;
  },
  tamper: {
    body: 'body',
    signature: { header: 'webhook-signature' },
    id: { header: 'webhook-id' },
    timestamp: { header: 'webhook-timestamp' },
  },
  stale: true,
};
