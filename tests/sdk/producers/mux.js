'use strict';
// Mux webhooks: mux-signature "t=<unix s>,v1=<hex>", v1 = hex
// HMAC-SHA256(signing secret, "<t>.<raw body>"); several v1 may be sent;
// only timestamps older than 300 s are refused.  @mux/mux-node signs
// (Webhooks.computeSignature) and verifies (Webhooks.verifySignature).
// Docs: https://www.mux.com/docs/core/verify-webhook-signatures
const crypto = require('crypto');

const DOCS = 'https://www.mux.com/docs/core/verify-webhook-signatures';

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

let client;
function sdk() {
  if (!client) {
    const m = require('@mux/mux-node');
    const Mux = m.Mux || m.default || m;
    client = new Mux({ tokenId: 'hookgate-test', tokenSecret: 'hookgate-test' });
  }
  return client.webhooks;
}

function muxId() {
  // Mux asset ids: 38 base62-ish characters
  return crypto.randomBytes(30).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 38);
}

module.exports = {
  profile: 'mux',
  proof: 'sdk',
  by: '@mux/mux-node 15.3.0 Webhooks.computeSignature()/verifySignature()',
  docs: DOCS,
  secrets: ['mux-signing-first-3f7a9c1e5b2d8f4a6c0e', 'mux-signing-second-8b4d2f6a0c9e1b7d5f3a'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = crypto.randomUUID();
    const asset = muxId();
    const body = JSON.stringify({
      type: 'video.asset.ready',
      request_id: null,
      object: { type: 'asset', id: asset },
      id,
      environment: { name: 'Production', id: 'j0863n' },
      data: {
        id: asset,
        status: 'ready',
        duration: 23.857167,
        aspect_ratio: '16:9',
        playback_ids: [{ policy: 'public', id: muxId() }],
        passthrough: 'clip «Ångström» ✓',
        created_at: nowS(now),
      },
      created_at: new Date(nowS(now) * 1000).toISOString(),
      attempts: [],
      accessor_source: null,
      accessor: null,
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Mux Webhooks' },
      expect: { id, type: 'video.asset.ready' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const t = nowS(now);
    const v1 = await sdk().computeSignature(`${t}.${body}`, key);
    return { headers: { ...headers, 'Mux-Signature': `t=${t},v1=${v1}` }, body };
  },
  verify: async ({ body, headers, key }) => {
    try {
      await sdk().verifySignature(body, headers, key);
      return true;
    } catch {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: 'Mux-Signature', match: 'v1=([0-9a-f]+)' },
    timestamp: { header: 'Mux-Signature', match: 't=(\\d+)' },
  },
  stale: true,
};
