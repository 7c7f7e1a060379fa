'use strict';
// Gitea (and Forgejo) webhooks: X-Gitea-Signature (Forgejo also sends
// X-Forgejo-Signature, same value) is the bare hex HMAC-SHA256(secret, JSON
// payload); with the default POST + application/json the payload is the
// body.  No timestamp.  No npm SDK signs or verifies Gitea webhooks, so this
// module is 'computed' from the docs (https://docs.gitea.com/usage/webhooks)
// and the header set Gitea's services/webhook (addDefaultHeaders) sends:
// X-Gitea-*, X-Gogs-*, X-GitHub-* delivery/event headers, X-Gogs-Signature,
// X-Hub-Signature (sha1=) and X-Hub-Signature-256 (sha256=).  The request
// below is Gitea's; Forgejo adds X-Forgejo-Delivery/-Event/-Signature.
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://docs.gitea.com/usage/webhooks';

function hmac(alg, key, body) {
  return crypto.createHmac(alg, key).update(body, 'utf8').digest('hex');
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

module.exports = {
  profile: 'gitea',
  proof: 'computed',
  by: 'computed from the Gitea webhook docs and header set (X-Gitea-Signature = hex HMAC-SHA256 of the body)',
  docs: DOCS,
  secrets: ['gitea-secret-first-3b7d1f', 'gitea-secret-second-a92c4e'],
  content_type: 'application/json',
  event: () => {
    const delivery = crypto.randomUUID();
    const sha = crypto.randomBytes(20).toString('hex');
    const body = JSON.stringify({
      ref: 'refs/heads/develop',
      before: '28e1879d029cb852e4844d9c718537df08844e03',
      after: sha,
      compare_url: 'http://localhost:3000/gitea/webhooks/compare/28e1879d029cb852e4844d9c718537df08844e03...' + sha,
      commits: [{ id: sha, message: 'Webhooks Yay! — naïve ✓\n' }],
      repository: { id: 140, name: 'webhooks', full_name: 'gitea/webhooks' },
      pusher: { id: 1, login: 'gitea' },
      sender: { id: 1, login: 'gitea' },
    }, null, 2);
    const h = { 'Content-Type': 'application/json' };
    for (const p of ['X-Gitea', 'X-Gogs', 'X-GitHub']) {
      h[p + '-Delivery'] = delivery;
      h[p + '-Event'] = 'push';
      h[p + '-Event-Type'] = 'push';
    }
    return { body, headers: h, expect: { id: delivery, type: 'push' } };
  },
  // Gitea sends the same HMAC-SHA256 in several headers, and an HMAC-SHA1.
  sign: async ({ body, headers, key }) => {
    const s256 = hmac('sha256', key, body);
    return {
      headers: {
        ...headers,
        'X-Gitea-Signature': s256,
        'X-Gogs-Signature': s256,
        'X-Hub-Signature': 'sha1=' + hmac('sha1', key, body),
        'X-Hub-Signature-256': 'sha256=' + s256,
      },
      body,
    };
  },
  // The documented check on the Forgejo header, else the Gitea one.
  verify: async ({ body, headers, key }) => {
    const got = header(headers, 'X-Forgejo-Signature') ?? header(headers, 'X-Gitea-Signature');
    return typeof got === 'string' && sameText(got, hmac('sha256', key, body));
  },
  tamper: { body: 'body', signature: { header: 'X-Gitea-Signature' } },
  stale: false,
};
