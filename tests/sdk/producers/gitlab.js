'use strict';
// GitLab webhooks: no signature.  The webhook's "Secret token" travels as is
// in X-Gitlab-Token; the receiver compares it (constant time).  GitLab has no
// SDK that verifies webhooks, so this module is 'computed' from the docs:
// https://docs.gitlab.com/user/project/integrations/webhooks/ (Secret token,
// Delivery headers).  Idempotency-Key (GitLab 17.4+) is the same on every
// retry of a delivery; X-Gitlab-Event-UUID is shared by recursive webhooks.
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers';

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'gitlab',
  proof: 'computed',
  by: 'computed from the GitLab webhook docs (X-Gitlab-Token = the secret token, compared as is)',
  docs: DOCS,
  secrets: ['gl-token-first-9f3c2a7e', 'gl-token-second-41d8b0c6'],
  content_type: 'application/json',
  event: () => {
    const key = crypto.randomUUID();
    const sha = crypto.randomBytes(20).toString('hex');
    const body = JSON.stringify({
      object_kind: 'push',
      event_name: 'push',
      before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
      after: sha,
      ref: 'refs/heads/main',
      checkout_sha: sha,
      user_username: 'jsmith',
      project_id: 15,
      project: { id: 15, name: 'Diaspora', path_with_namespace: 'mike/diaspora' },
      commits: [{ id: sha, message: 'fixed readme — café ✓' }],
      total_commits_count: 1,
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'GitLab/17.6.0',
        'X-Gitlab-Event': 'Push Hook',
        'X-Gitlab-Instance': 'https://gitlab.example.com',
        'X-Gitlab-Webhook-UUID': '02affd2d-2cba-4033-917d-ec22d5dc4b38',
        'X-Gitlab-Event-UUID': crypto.randomUUID(),
        'Idempotency-Key': key,
      },
      expect: { id: key, type: 'Push Hook' },
    };
  },
  // GitLab "signs" by sending the token itself.
  sign: async ({ body, headers, key }) => ({
    headers: { ...headers, 'X-Gitlab-Token': key },
    body,
  }),
  // The documented check: the header equals the secret token.  It does not
  // cover the body (GitLab's scheme does not).
  verify: async ({ headers, key }) => {
    const t = header(headers, 'X-Gitlab-Token');
    return typeof t === 'string' && sameText(t, key);
  },
  tamper: { signature: { header: 'X-Gitlab-Token' } },
  stale: false,
};
