// Okta event hooks (profile okta): Okta does not sign; it sends the secret configured on
// the event hook in the hook's authentication header (Authorization by default), with the
// value exactly as configured, on every request.  The route's secrets are those values.
// Okta publishes no npm package that verifies event hooks, so this module is 'computed'
// from Okta's Event hooks docs; docsVerify() compares the header in constant time.  The
// one-time verification request (GET with X-Okta-Verification-Challenge) is tested by
// tests/e2e/test_handshakes.py.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const AUTH = 'Authorization';

function docsVerify({ headers, key }) {
  const got = header(headers, AUTH);
  if (got === undefined) return false;
  const a = Buffer.from(got);
  const b = Buffer.from(key);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

module.exports = {
  profile: 'okta',
  proof: 'computed',
  by: "computed from Okta's Event hooks docs (the configured secret in the Authorization header; Okta does not sign)",
  docs: 'https://developer.okta.com/docs/concepts/event-hooks/',
  secrets: ['okta-hook-secret-3e9a1f77c2', 'okta-hook-secret-b04d6e1a58'],
  content_type: 'application/json',
  event: ({ now }) => {
    const id = crypto.randomUUID();
    const t = new Date(now * 1000).toISOString();
    const body = JSON.stringify({
      eventType: 'com.okta.event_hook',
      eventTypeVersion: '1.0',
      cloudEventsVersion: '0.1',
      source: 'https://example.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3',
      eventId: id,
      data: {
        events: [{
          uuid: crypto.randomUUID(),
          published: t,
          eventType: 'user.session.start',
          version: '0',
          displayMessage: 'User login to Okta',
          severity: 'INFO',
          client: { userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' }, zone: 'null', device: 'Computer', ipAddress: '203.0.113.7' },
          actor: { id: '00u1qw1mqitPHM8AJ0g7', type: 'User', alternateId: 'admin@example.com', displayName: 'Admin' },
          outcome: { result: 'SUCCESS' },
          target: null,
          transaction: { type: 'WEB', id: 'XJyn3M@6rQrqDlq9MlxchAAAEM0', detail: {} },
          legacyEventType: 'core.user_auth.login_success',
        }],
      },
      eventTime: t,
      contentType: 'application/json',
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Okta Event Hooks' },
      expect: { id, type: 'user.session.start' },
    };
  },
  sign: async ({ headers, key }) => ({ headers: { ...headers, [AUTH]: key } }),
  verify: async (req) => docsVerify(req),
  tamper: { token: { header: AUTH } },
  stale: false,
};
