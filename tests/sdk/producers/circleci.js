'use strict';
// CircleCI outbound webhooks: circleci-signature is a comma-separated list of
// versioned signatures; v1 (the only version today) = hex HMAC-SHA256(secret,
// raw body).  No timestamp.  The event id (/id) is for de-duplication; type
// /type and header circleci-event-type; happened_at ISO 8601.  No npm SDK
// verifies CircleCI webhooks, so this module is 'computed' from the docs:
// https://circleci.com/docs/guides/integration/outbound-webhooks/ and
// https://circleci.com/docs/webhooks-reference/
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://circleci.com/docs/guides/integration/outbound-webhooks/';

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

function v1(key, body) {
  return crypto.createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'circleci',
  proof: 'computed',
  by: 'computed from the CircleCI webhook docs (circleci-signature v1=hex HMAC-SHA256 of the body)',
  docs: DOCS,
  secrets: ['circle-secret-first-58e1a0c7', 'circle-secret-second-d3b69f24'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = crypto.randomUUID();
    const at = new Date(nowS(now) * 1000).toISOString();
    const body = JSON.stringify({
      type: 'workflow-completed',
      id,
      happened_at: at,
      webhook: { id: 'cf8c4fdd-0587-4da1-b4ca-4846e9640af9', name: 'hookgate' },
      workflow: {
        id: 'fda08377-fe7e-46b1-8992-3a7aaecac9c3',
        name: 'build-test-deploy',
        created_at: at,
        stopped_at: at,
        url: 'https://app.circleci.com/pipelines/github/acme/app/130/workflows/fda08377-fe7e-46b1-8992-3a7aaecac9c3',
        status: 'success',
      },
      pipeline: { id: '1285fe1d-d3a6-44fc-8886-8979558254c4', number: 130, created_at: at },
      project: { id: '84996744-a854-4f5e-aea3-04e2851dc1d2', name: 'app', slug: 'github/acme/app' },
      organization: { id: 'f22b6566-597d-46d5-ba74-99ef5bb3d85c', name: 'acme' },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'CircleCI-Webhook/1.0',
        'Circleci-Event-Type': 'workflow-completed',
      },
      expect: { id, type: 'workflow-completed' },
    };
  },
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'circleci-signature': 'v1=' + v1(key, body) },
    body,
  }),
  // The documented check: any v1 entry equal to the recomputed digest.
  verify: async ({ body, headers, key }) => {
    const got = header(headers, 'circleci-signature');
    if (typeof got !== 'string') return false;
    const want = v1(key, body);
    return got.split(',').some((e) => {
      const i = e.indexOf('=');
      return i > 0 && e.slice(0, i).trim() === 'v1' && sameText(e.slice(i + 1).trim(), want);
    });
  },
  tamper: { body: 'body', signature: { header: 'circleci-signature' }, id: { pointer: '/id' } },
  stale: false,
};
