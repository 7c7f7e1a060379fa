'use strict';
// WorkOS webhooks: WorkOS-Signature "t=<unix MILLISECONDS>, v1=<hex>", v1 =
// hex HMAC-SHA256(webhook secret, "<t>.<body>"); only timestamps older than
// 3 minutes are refused.  @workos-inc/node signs (webhooks.computeSignature)
// and verifies (webhooks.verifyHeader); both take the PARSED body and
// re-serialise it with JSON.stringify, which gives back the compact JSON
// WorkOS sends (and this module builds).
// Docs: https://workos.com/docs/events/data-syncing/webhooks
const crypto = require('crypto');

const DOCS = 'https://workos.com/docs/events/data-syncing/webhooks';

function header(headers, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  return now > 1e11 ? Math.floor(now) : Math.floor(now) * 1000;
}

// WorkOS ids: a prefix and a 26-character ULID
function wid(prefix) {
  const a = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let s = '01';
  for (const b of crypto.randomBytes(24)) s += a[b % 32];
  return `${prefix}_${s}`;
}

let client;
function sdk() {
  if (!client) {
    const { WorkOS } = require('@workos-inc/node');
    client = new WorkOS('sk_test_hookgate0only0for0tests');
  }
  return client.webhooks;
}

module.exports = {
  profile: 'workos',
  proof: 'sdk',
  by: '@workos-inc/node 8.13.0 webhooks.computeSignature()/verifyHeader()',
  docs: DOCS,
  secrets: ['workos-wh-first-Jx4mQ9vT2cLp7Rz1', 'workos-wh-second-Ns8bW3kY6fHd0Ga5'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = wid('event');
    const at = new Date(nowMs(now)).toISOString();
    const body = JSON.stringify({
      id,
      event: 'user.created',
      data: {
        object: 'user',
        id: wid('user'),
        email: 'zoe.lefevre@example.com',
        first_name: 'Zoë',
        last_name: 'Lefèvre',
        email_verified: true,
        profile_picture_url: null,
        created_at: at,
        updated_at: at,
      },
      created_at: at,
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'WorkOS Webhooks' },
      expect: { id, type: 'user.created' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const t = nowMs(now);
    const v1 = await sdk().computeSignature(t, JSON.parse(body), key);
    return { headers: { ...headers, 'WorkOS-Signature': `t=${t}, v1=${v1}` }, body };
  },
  verify: async ({ body, headers, key }) => {
    try {
      const sig = header(headers, 'WorkOS-Signature');
      if (typeof sig !== 'string') return false;
      return (await sdk().verifyHeader({ payload: JSON.parse(body), sigHeader: sig, secret: key })) === true;
    } catch {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: 'WorkOS-Signature', match: 'v1=([0-9a-f]+)' },
    timestamp: { header: 'WorkOS-Signature', match: 't=(\\d+)' },
  },
  stale: true,
};
