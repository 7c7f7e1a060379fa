'use strict';
// PagerDuty v3 webhooks: X-PagerDuty-Signature holds one v1=<hex
// HMAC-SHA256(secret, raw body)> per signing secret, comma-separated (two
// while a secret is rotated); any one matching passes.  No timestamp.
// X-Webhook-Id is unique to the webhook and repeated on every delivery
// attempt; the body is {event: {id, event_type, resource_type, occurred_at,
// agent, client, data}}.  No npm SDK verifies PagerDuty webhooks (the Go
// client's webhookv3 does), so this module is 'computed' from the docs:
// https://developer.pagerduty.com/docs/webhooks/ (Verifying Signatures,
// Behavior, V3 Overview).
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://developer.pagerduty.com/docs/webhooks/';

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

function v1(key, body) {
  return 'v1=' + crypto.createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'pagerduty',
  proof: 'computed',
  by: 'computed from the PagerDuty v3 webhook docs (X-PagerDuty-Signature v1=hex HMAC-SHA256 of the body)',
  docs: DOCS,
  secrets: ['pd-v3-secret-first-Qm9vbXN0aWNr', 'pd-v3-secret-second-WmFwcGVyZ2Fu'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const hookId = crypto.randomUUID();
    const body = JSON.stringify({
      event: {
        id: crypto.randomUUID(),
        event_type: 'incident.triggered',
        resource_type: 'incident',
        occurred_at: new Date(nowS(now) * 1000).toISOString(),
        agent: { id: 'PLH1HKV', type: 'user_reference', summary: 'Tenex Engineer' },
        client: { name: 'PagerDuty' },
        data: {
          id: 'PGR0VU2',
          type: 'incident',
          number: 2,
          status: 'triggered',
          title: 'A little bump in the road — ✓',
          urgency: 'high',
          service: { id: 'PF9KMXH', type: 'service_reference', summary: 'API Service' },
        },
      },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'PagerDuty-Webhook/V3.0',
        'X-Webhook-Id': hookId,
        'X-Webhook-Subscription': 'PY1OQGN',
      },
      expect: { id: hookId, type: 'incident.triggered' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'X-PagerDuty-Signature': v1(key, body) },
    body,
  }),
  // The documented check: split on ",", any "v1=" entry equal to the
  // recomputed one.
  verify: async ({ body, headers, key }) => {
    const got = header(headers, 'X-PagerDuty-Signature');
    if (typeof got !== 'string') return false;
    const want = v1(key, body);
    return got.split(',').some((e) => sameText(e.trim(), want));
  },
  tamper: { body: 'body', signature: { header: 'X-PagerDuty-Signature' } },
  stale: false,
};
