'use strict';
// Linear webhooks: Linear-Signature is the hex HMAC-SHA256(secret, raw
// body); the send time is webhookTimestamp (unix ms) inside the signed body.
// @linear/sdk's LinearWebhookClient.verify() is the oracle: it checks the
// HMAC, then refuses a webhookTimestamp more than 60 s from now (either
// way); the legacy linear-timestamp header is ignored.  The SDK only
// verifies, so the request is signed here per the same scheme.
// Docs: https://linear.app/developers/webhooks#securing-webhooks
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://linear.app/developers/webhooks#securing-webhooks';

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  return now > 1e11 ? Math.floor(now) : Math.floor(now * 1000);
}

let client;
async function sdk() {
  if (!client) client = await import('@linear/sdk/webhooks');
  return client;
}

module.exports = {
  profile: 'linear',
  proof: 'sdk',
  by: 'signed per docs; verified by @linear/sdk 98.0.0 LinearWebhookClient.verify()',
  docs: DOCS,
  secrets: ['lin_wh_first_6a0f3c9e2d', 'lin_wh_second_b81d47e5a3'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const delivery = crypto.randomUUID();
    const body = JSON.stringify({
      action: 'create',
      actor: { id: 'c8d2a4f0-1b3e-4d5f-9a7b-6c5d4e3f2a1b', name: 'Renée Ødegård', type: 'user' },
      createdAt: new Date(nowMs(now)).toISOString(),
      data: { id: crypto.randomUUID(), identifier: 'ENG-42', title: 'Fix the ✓ glyph', priority: 2 },
      url: 'https://linear.app/example/issue/ENG-42/fix-the-glyph',
      type: 'Issue',
      organizationId: '4c6b1a9e-5f5e-4c9a-9a4e-0d3f0c1d2e3f',
      webhookTimestamp: nowMs(now),
      webhookId: '000042e3-d123-4980-b49f-8e140eef9329',
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'User-Agent': 'Linear-Webhook',
        'Linear-Delivery': delivery,
        'Linear-Event': 'Issue',
      },
      expect: { id: delivery, type: 'Issue' },
    };
  },
  // Linear stamps webhookTimestamp when it sends: the body carries the send
  // time, then the body is signed.
  sign: async ({ body, headers, key, now }) => {
    const stamped = body.replace(/"webhookTimestamp":\s*\d+/, `"webhookTimestamp":${nowMs(now)}`);
    const sig = crypto.createHmac('sha256', key).update(stamped, 'utf8').digest('hex');
    return { headers: { ...headers, 'Linear-Signature': sig }, body: stamped };
  },
  verify: async ({ body, headers, key }) => {
    try {
      const { LinearWebhookClient } = await sdk();
      const sig = header(headers, 'Linear-Signature');
      if (typeof sig !== 'string') return false;
      return new LinearWebhookClient(key).verify(Buffer.from(body, 'utf8'), sig) === true;
    } catch {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: 'Linear-Signature' },
    timestamp: { pointer: '/webhookTimestamp' },
  },
  stale: true,
};
