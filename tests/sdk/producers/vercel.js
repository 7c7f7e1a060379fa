'use strict';
// Vercel webhooks: x-vercel-signature is the hex HMAC-SHA1(secret, raw body);
// the secret is the account webhook's secret (shown once when created), or
// an integration's client secret.  No timestamp.  Body: {id, type, createdAt
// (unix ms), region, payload}.  No npm SDK verifies Vercel webhooks, so this
// module is 'computed' from the docs:
// https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks';

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  return now > 1e11 ? Math.floor(now) : Math.floor(now * 1000);
}

function sig(key, body) {
  return crypto.createHmac('sha1', key).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'vercel',
  proof: 'computed',
  by: 'computed from the Vercel webhook docs (x-vercel-signature = hex HMAC-SHA1 of the body)',
  docs: DOCS,
  secrets: ['vercel-whsecret-first-1f8a3c', 'vercel-whsecret-second-7e2b9d'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = 'uev_' + crypto.randomBytes(12).toString('hex');
    const body = JSON.stringify({
      id,
      type: 'deployment.created',
      createdAt: nowMs(now),
      region: 'sfo1',
      payload: {
        team: { id: 'team_1a2b3c4d' },
        user: { id: 'user_1a2b3c4d' },
        deployment: { id: 'dpl_2euZBFqxYdDMDG1jTrHFnNZ2eUVa', name: 'my-app', url: 'my-app-1a2b3c.vercel.app', meta: { githubCommitMessage: 'Fix — ✓ café' } },
        links: { deployment: 'https://vercel.com/acme/my-app/2euZBFqx', project: 'https://vercel.com/acme/my-app' },
        target: 'production',
        project: { id: 'prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB' },
      },
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json' },
      expect: { id, type: 'deployment.created' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'x-vercel-signature': sig(key, body) },
    body,
  }),
  // The documented check: recompute over the raw body, compare.
  verify: async ({ body, headers, key }) => {
    const got = header(headers, 'x-vercel-signature');
    return typeof got === 'string' && sameText(got, sig(key, body));
  },
  tamper: { body: 'body', signature: { header: 'x-vercel-signature' }, id: { pointer: '/id' } },
  stale: false,
};
