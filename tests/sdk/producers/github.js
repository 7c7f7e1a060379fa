// GitHub (profile github): X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secret, body).
// Proven with GitHub's own @octokit/webhooks-methods: its sign() signs the live request and
// its verify() checks what `hookgate sign` prints.  The request's other headers (event name,
// delivery GUID, hook id, User-Agent) are those GitHub's docs list for a delivery.
'use strict';
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const SIG = 'X-Hub-Signature-256';

module.exports = {
  profile: 'github',
  proof: 'sdk',
  by: '@octokit/webhooks-methods 6.0.0 sign() and verify()',
  docs: 'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries',
  secrets: ['gh-oracle-secret-7f3a91c2', 'gh-oracle-secret-0b84de55'],
  content_type: 'application/json',
  event: ({ now }) => {
    const id = crypto.randomUUID();
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      after: '76ae82c7b1a177c8d03f9e96e0adf2466113728f',
      repository: { id: 1296269, full_name: 'octocat/Hello-World', private: false },
      pusher: { name: 'octocat', email: 'octocat@example.com' },
      head_commit: { id: '76ae82c7b1a177c8d03f9e96e0adf2466113728f', message: 'Update README', timestamp: new Date(now * 1000).toISOString() },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'GitHub-Hookshot/044aadd',
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': id,
        'X-GitHub-Hook-ID': '292430182',
        'X-GitHub-Hook-Installation-Target-Type': 'repository',
        'X-GitHub-Hook-Installation-Target-ID': '1296269',
      },
      expect: { id, type: 'push' },
    };
  },
  sign: async ({ body, headers, key }) => {
    const { sign } = await import('@octokit/webhooks-methods');
    return { headers: { ...headers, [SIG]: await sign(key, body) } };
  },
  verify: async ({ body, headers, key }) => {
    const { verify } = await import('@octokit/webhooks-methods');
    const sig = header(headers, SIG);
    return sig ? verify(key, body, sig) : false;
  },
  tamper: { body: 'body', signature: { header: SIG } },
  stale: false,
};
