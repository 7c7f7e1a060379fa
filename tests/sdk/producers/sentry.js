'use strict';
// Sentry integration-platform webhooks: Sentry-Hook-Signature is the hex
// HMAC-SHA256(integration client secret, body) (Sentry's
// SentryApp.build_signature over the JSON it sends); Request-ID is a uuid4
// hex, Sentry-Hook-Resource the resource, Sentry-Hook-Timestamp unix seconds
// - not signed, so no replay window can rest on it.  @sentry/* packages
// report errors; none verifies webhooks, so this module is 'computed'.
// Docs: https://docs.sentry.io/organization/integrations/integration-platform/webhooks/
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://docs.sentry.io/organization/integrations/integration-platform/webhooks/';

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

function sig(key, body) {
  return crypto.createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'sentry',
  proof: 'computed',
  by: 'computed from the Sentry webhook docs (Sentry-Hook-Signature = hex HMAC-SHA256 of the body, client secret)',
  docs: DOCS,
  secrets: ['5f0c6a1e9b2d4c8e7a3f1b0d9c8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e', '0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const reqId = crypto.randomUUID().replace(/-/g, '');
    const body = JSON.stringify({
      action: 'created',
      installation: { uuid: '7a485448-a9e2-4c85-8a3c-4f44175783c9' },
      data: {
        issue: {
          id: String(crypto.randomInt(1e9, 2e9)),
          shortId: 'PROJ-1F',
          title: "TypeError: Cannot read property 'ünïcode' of undefined",
          status: 'unresolved',
          firstSeen: '2024-06-01T12:00:00.000000Z',
        },
      },
      actor: { type: 'application', id: 'sentry', name: 'Sentry' },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'Request-ID': reqId,
        'Sentry-Hook-Resource': 'issue',
        'Sentry-Hook-Timestamp': String(nowS(now)),
      },
      expect: { id: reqId, type: 'issue' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'Sentry-Hook-Signature': sig(key, body) },
    body,
  }),
  // The documented check: recompute over the raw body, compare.
  verify: async ({ body, headers, key }) => {
    const got = header(headers, 'Sentry-Hook-Signature');
    return typeof got === 'string' && sameText(got, sig(key, body));
  },
  tamper: { body: 'body', signature: { header: 'Sentry-Hook-Signature' } },
  stale: false,
};
