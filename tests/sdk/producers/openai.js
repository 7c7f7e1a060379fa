'use strict';
// OpenAI webhooks follow Standard Webhooks: webhook-id, webhook-timestamp
// (unix s), webhook-signature = space-separated "v1,<base64 HMAC-SHA256>"
// over "{webhook-id}.{webhook-timestamp}.{body}"; the key is the whsec_
// secret base64-decoded (the openai SDK uses a secret without the prefix as
// raw UTF-8 bytes - OpenAI's dashboard always issues whsec_ secrets).  The
// openai SDK only verifies (webhooks.verifySignature / unwrap, 300 s window
// both ways), so the request is signed with the Standard Webhooks reference
// library.  Docs: https://developers.openai.com/api/docs/guides/webhooks
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://developers.openai.com/api/docs/guides/webhooks';

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

module.exports = {
  profile: 'openai',
  proof: 'sdk',
  by: 'signed by standardwebhooks 1.3.0 Webhook.sign(); verified by openai 6.49.0 webhooks.verifySignature()',
  docs: DOCS,
  secrets: ['whsec_aG9va2dhdGUtb3BlbmFpLWZpcnN0LWtleS0wMDAx', 'whsec_aG9va2dhdGUtb3BlbmFpLXNlY29uZC1rZXktMDAy'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = 'wh_' + crypto.randomBytes(16).toString('hex');
    const body = JSON.stringify({
      object: 'event',
      id: 'evt_' + crypto.randomBytes(16).toString('hex'),
      type: 'response.completed',
      created_at: nowS(now),
      data: { id: 'resp_' + crypto.randomBytes(16).toString('hex') },
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'webhook-id': id },
      expect: { id, type: 'response.completed' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const ts = nowS(now);
    const id = header(headers, 'webhook-id');
    const { Webhook } = require('standardwebhooks');
    const sig = new Webhook(key).sign(id, new Date(ts * 1000), body);
    return {
      headers: { ...headers, 'webhook-timestamp': String(ts), 'webhook-signature': sig },
      body,
    };
  },
  verify: async ({ body, headers, key }) => {
    try {
      const OpenAI = require('openai');
      const client = new OpenAI({ apiKey: 'sk-hookgate-test', webhookSecret: key });
      await client.webhooks.verifySignature(body, headers, key, 300);
      return true;
    } catch {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: 'webhook-signature' },
    timestamp: { header: 'webhook-timestamp' },
    id: { header: 'webhook-id' },
  },
  stale: true,
};
