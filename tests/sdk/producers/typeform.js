'use strict';
// Typeform webhooks: Typeform-Signature "sha256=<base64 HMAC-SHA256(webhook
// secret, raw body)>"; no timestamp is signed.  Typeform publishes no SDK
// that verifies webhooks, so this module is 'computed' from the docs:
// https://www.typeform.com/developers/webhooks/secure-your-webhooks/
const crypto = require('crypto');

const DOCS = 'https://www.typeform.com/developers/webhooks/secure-your-webhooks/';

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
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// Typeform event ids are ULIDs (26 Crockford base32 characters)
function ulid() {
  const a = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let s = '01';
  for (const b of crypto.randomBytes(24)) s += a[b % 32];
  return s;
}

module.exports = {
  profile: 'typeform',
  proof: 'computed',
  by: 'computed from Typeform\'s secure-your-webhooks docs (no SDK verifies)',
  docs: DOCS,
  secrets: ['tf-secret-first-4c9e2a7f1b8d3e6a', 'tf-secret-second-9a1d6f3b8e2c7a4f'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const eventId = ulid();
    const t = nowS(now);
    const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const body = JSON.stringify({
      event_id: eventId,
      event_type: 'form_response',
      form_response: {
        form_id: 'lT4Z3j',
        token: crypto.randomBytes(16).toString('hex'),
        landed_at: iso(t - 58),
        submitted_at: iso(t),
        definition: {
          id: 'lT4Z3j',
          title: 'Webhooks example',
          fields: [{ id: 'DlXFaesGBpoF', title: 'Your name?', type: 'short_text', ref: 'readable_ref_short_text' }],
        },
        answers: [{ type: 'text', text: 'Søren Kierkegård ✓', field: { id: 'DlXFaesGBpoF', type: 'short_text', ref: 'readable_ref_short_text' } }],
      },
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Typeform Webhooks' },
      expect: { id: eventId, type: 'form_response' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'Typeform-Signature': signature(body, key) },
    body,
  }),
  // the documented check: sha256=<base64> of the raw body, compared as text
  verify: async ({ body, headers, key }) => {
    const sig = header(headers, 'Typeform-Signature');
    return typeof sig === 'string' && sameText(sig, signature(body, key));
  },
  tamper: { body: 'body', signature: { header: 'Typeform-Signature', match: 'sha256=(.+)' } },
  stale: false,
};
