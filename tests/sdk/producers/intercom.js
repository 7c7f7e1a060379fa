'use strict';
// Intercom webhooks: X-Hub-Signature "sha1=<hex HMAC-SHA1(app client_secret,
// raw body)>"; no timestamp is signed.  Intercom publishes no SDK that
// verifies webhooks, so this module is 'computed' from the docs (Signed
// notifications): https://developers.intercom.com/docs/webhooks
const crypto = require('crypto');

const DOCS = 'https://developers.intercom.com/docs/webhooks';

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
  return 'sha1=' + crypto.createHmac('sha1', secret).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'intercom',
  proof: 'computed',
  by: 'computed from Intercom\'s webhook docs (signed notifications; no SDK verifies)',
  docs: DOCS,
  secrets: ['ic-client-secret-first-1d7f3b9e-5a2c', 'ic-client-secret-second-8e4a0c6f-2b9d'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = 'notif_' + crypto.randomUUID();
    const t = nowS(now);
    const body = JSON.stringify({
      type: 'notification_event',
      app_id: 'a86dr8yl',
      data: {
        type: 'notification_event_data',
        item: {
          type: 'conversation',
          id: String(100000000 + (crypto.randomBytes(3).readUIntBE(0, 3))),
          created_at: t,
          source: { type: 'conversation', body: '<p>Hallå! Où est mon colis? ✓</p>', author: { type: 'user', name: 'Åsa Lindqvist' } },
          state: 'open',
        },
      },
      links: {},
      id,
      topic: 'conversation.user.created',
      delivery_status: 'pending',
      delivery_attempts: 1,
      delivered_at: 0,
      first_sent_at: t,
      created_at: t,
      self: null,
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Intercom-Webhooks' },
      expect: { id, type: 'conversation.user.created' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'X-Hub-Signature': signature(body, key) },
    body,
  }),
  // the documented check: sha1=<hex> of the raw body with the client secret
  verify: async ({ body, headers, key }) => {
    const sig = header(headers, 'X-Hub-Signature');
    return typeof sig === 'string' && sameText(sig, signature(body, key));
  },
  tamper: { body: 'body', signature: { header: 'X-Hub-Signature', match: 'sha1=([0-9a-f]+)' } },
  stale: false,
};
