'use strict';
// Calendly webhooks: Calendly-Webhook-Signature "t=<unix s>,v1=<hex>", v1 =
// hex HMAC-SHA256(webhook signing key, "<t>.<raw body>"); Calendly's example
// refuses a t older than 3 minutes.  The payload has no event id (hookgate
// uses the body's SHA-256).  Calendly publishes no SDK that verifies
// webhooks, so this module is 'computed' from the docs:
// https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures
const crypto = require('crypto');

const DOCS = 'https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures';
const TOLERANCE_S = 180;

function header(headers, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

function v1(t, body, key) {
  return crypto.createHmac('sha256', key).update(`${t}.${body}`, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function uid() {
  return crypto.randomBytes(8).toString('hex').toUpperCase();
}

module.exports = {
  profile: 'calendly',
  proof: 'computed',
  by: 'computed from Calendly\'s webhook-signatures docs (no SDK verifies)',
  docs: DOCS,
  secrets: ['cal-signing-first-k3Jd9QmWv2Xp7Ls4', 'cal-signing-second-Zr6Tn1Bq8Yc5Hf0G'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const t = nowS(now);
    const ev = uid();
    const body = JSON.stringify({
      created_at: new Date(t * 1000).toISOString().replace('Z', '000Z'),
      created_by: 'https://api.calendly.com/users/AAAAAAAAAAAAAAAA',
      event: 'invitee.created',
      payload: {
        uri: `https://api.calendly.com/scheduled_events/${ev}/invitees/${uid()}`,
        email: 'noel@example.com',
        name: 'Noël Çelik',
        status: 'active',
        timezone: 'Europe/Berlin',
        scheduled_event: {
          uri: `https://api.calendly.com/scheduled_events/${ev}`,
          name: '15 Minute Meeting',
          start_time: new Date((t + 86400) * 1000).toISOString(),
          end_time: new Date((t + 87300) * 1000).toISOString(),
        },
      },
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'Calendly Webhook' },
      expect: { id: 'sha256:' + crypto.createHash('sha256').update(body, 'utf8').digest('hex'), type: 'invitee.created' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const t = nowS(now);
    return { headers: { ...headers, 'Calendly-Webhook-Signature': `t=${t},v1=${v1(t, body, key)}` }, body };
  },
  // the documented check: split on ',' then '=', HMAC over "t.body", then
  // refuse a t more than 3 minutes old
  verify: async ({ body, headers, key }) => {
    const h = header(headers, 'Calendly-Webhook-Signature');
    if (typeof h !== 'string') return false;
    let t;
    let sig;
    for (const part of h.split(',')) {
      const [k, v] = part.split('=');
      if (k === 't') t = v;
      if (k === 'v1') sig = v;
    }
    if (!t || !sig || !/^\d+$/.test(t)) return false;
    if (!sameText(sig, v1(t, body, key))) return false;
    return Number(t) >= Math.floor(Date.now() / 1000) - TOLERANCE_S;
  },
  tamper: {
    body: 'body',
    signature: { header: 'Calendly-Webhook-Signature', match: 'v1=([0-9a-f]+)' },
    timestamp: { header: 'Calendly-Webhook-Signature', match: 't=(\\d+)' },
  },
  stale: true,
};
