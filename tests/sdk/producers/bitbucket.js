'use strict';
// Bitbucket Cloud webhooks: with a secret set, X-Hub-Signature is
// "sha256=" + hex HMAC-SHA256(secret, raw body); no timestamp.  Bitbucket has
// no npm SDK that signs or verifies webhooks, so this module is 'computed'
// from the docs: https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/
// (Secure webhooks) and .../event-payloads/ (X-Event-Key, X-Hook-UUID,
// X-Request-UUID, X-Attempt-Number).
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/';

function sig(key, body) {
  return 'sha256=' + crypto.createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'bitbucket',
  proof: 'computed',
  by: 'computed from the Bitbucket Cloud docs (X-Hub-Signature sha256=hex HMAC-SHA256 of the body)',
  docs: DOCS,
  secrets: ['bb-secret-first-7c1e9d2a5b', 'bb-secret-second-e04f6a8c31'],
  content_type: 'application/json',
  event: () => {
    const reqId = crypto.randomUUID();
    const sha = crypto.randomBytes(20).toString('hex');
    const body = JSON.stringify({
      push: {
        changes: [{
          new: { type: 'branch', name: 'main', target: { hash: sha } },
          old: { type: 'branch', name: 'main', target: { hash: '1e65c05c1d5171631d92438a13901ca7dae9618c' } },
        }],
      },
      repository: { type: 'repository', full_name: 'team/repo', name: 'repo', uuid: '{2b9f8c3e-1a2d-4b5c-9e8f-7a6b5c4d3e2f}' },
      actor: { type: 'user', display_name: 'Zoë Müller' },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Bitbucket-Webhooks/2.0',
        'X-Event-Key': 'repo:push',
        'X-Hook-UUID': '4c5e0f1a-2b3c-4d5e-8f9a-0b1c2d3e4f5a',
        'X-Request-UUID': reqId,
        'X-Attempt-Number': '1',
      },
      expect: { id: reqId, type: 'repo:push' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'X-Hub-Signature': sig(key, body) },
    body,
  }),
  // The documented check: recompute over the raw body, compare.
  verify: async ({ body, headers, key }) => {
    const got = header(headers, 'X-Hub-Signature');
    return typeof got === 'string' && sameText(got, sig(key, body));
  },
  tamper: { body: 'body', signature: { header: 'X-Hub-Signature' } },
  stale: false,
};
