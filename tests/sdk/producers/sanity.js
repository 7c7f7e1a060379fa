'use strict';
// Sanity GROQ-powered webhooks: sanity-webhook-signature
// "t=<unix MILLISECONDS>,v1=<base64url, unpadded>", v1 = HMAC-SHA256(webhook
// secret, "<t>.<raw body>").  @sanity/webhook signs (encodeSignatureHeader)
// and verifies (isValidSignature: the whole header must equal the
// re-encoded one; it checks no replay window).  The body is the webhook's
// GROQ projection; the request carries idempotency-key and sanity-* headers.
// Docs: https://www.sanity.io/docs/webhooks
const crypto = require('crypto');

const DOCS = 'https://www.sanity.io/docs/webhooks';

function header(headers, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  return now > 1e11 ? Math.floor(now) : Math.floor(now) * 1000;
}

function rev() {
  return crypto.randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 22);
}

module.exports = {
  profile: 'sanity',
  proof: 'sdk',
  by: '@sanity/webhook 4.0.4 encodeSignatureHeader()/isValidSignature()',
  docs: DOCS,
  secrets: ['sanity-hook-secret-first-Hq3Lz8Rw', 'sanity-hook-secret-second-Vn5Kd1Tj'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const key = 'msg-' + crypto.randomUUID();
    const docId = crypto.randomUUID();
    const body = JSON.stringify({
      _id: docId,
      _type: 'post',
      _rev: rev(),
      _createdAt: new Date(nowMs(now)).toISOString(),
      title: 'Smörgåsbord — the ✓ guide',
      slug: { _type: 'slug', current: 'smorgasbord-guide' },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Sanity.io webhook delivery',
        'idempotency-key': key,
        'sanity-project-id': 'zp7mbokg',
        'sanity-dataset': 'production',
        'sanity-document-id': docId,
        'sanity-operation': 'create',
        'sanity-transaction-id': rev(),
        'sanity-transaction-time': new Date(nowMs(now)).toISOString(),
        'sanity-webhook-id': 'ZCcZb8Nn3p0G9UxC',
      },
      expect: { id: key, type: 'create' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const { encodeSignatureHeader } = require('@sanity/webhook');
    const sig = await encodeSignatureHeader(body, nowMs(now), key);
    return { headers: { ...headers, 'sanity-webhook-signature': sig }, body };
  },
  verify: async ({ body, headers, key }) => {
    try {
      const { isValidSignature } = require('@sanity/webhook');
      const sig = header(headers, 'sanity-webhook-signature');
      if (typeof sig !== 'string') return false;
      return (await isValidSignature(body, sig, key)) === true;
    } catch {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: 'sanity-webhook-signature', match: 'v1=([A-Za-z0-9_-]+)' },
    timestamp: { header: 'sanity-webhook-signature', match: 't=(\\d+)' },
  },
  stale: true,
};
