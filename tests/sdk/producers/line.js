// LINE Messaging API (profile line): x-line-signature = base64 HMAC-SHA256(channel secret,
// raw body).  No timestamp.  A body is {destination, events: [...]}: each event has
// webhookEventId (kept on a redelivery), type, timestamp (unix ms) and deliveryContext;
// the console's "Verify" sends an empty events list.  Proven with LINE's own Node SDK:
// @line/bot-sdk validateSignature() (what its middleware runs) accepts the live request,
// signed here with node's crypto as the docs describe (the SDK has no signer), and checks
// what `hookgate sign` prints.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'x-line-signature';

async function sdkVerify({ body, headers, key }) {
  const { validateSignature } = await import('@line/bot-sdk');
  const sig = header(headers, SIG);
  if (!sig) return false;
  return validateSignature(Buffer.from(body, 'utf8'), key, sig) === true;
}

/** ulid(ms): a ULID like LINE's webhookEventId (48-bit time, 80 random bits, Crockford). */
function ulid(ms) {
  const A = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let t = '';
  for (let i = 0, v = ms; i < 10; i++, v = Math.floor(v / 32)) t = A[v % 32] + t;
  let r = '';
  for (const b of crypto.randomBytes(16)) r += A[b % 32];
  return t + r;
}

module.exports = {
  profile: 'line',
  proof: 'sdk',
  by: '@line/bot-sdk 11.0.0 validateSignature() (verify direction; the SDK has no signer: the live request is signed with node crypto per the docs and checked by the SDK)',
  docs: 'https://developers.line.biz/en/docs/messaging-api/verify-webhook-signature/',
  secrets: ['8c570fb4d1a5a6f2d5e1b7c3a9e0f4d2', '2b7e151628aed2a6abf7158809cf4f3c'],
  content_type: 'application/json; charset=utf-8',
  event: ({ now }) => {
    const id = ulid(now * 1000);
    const body = JSON.stringify({
      destination: 'U' + 'f'.repeat(32),
      events: [{
        type: 'message',
        message: { type: 'text', id: '468789577898262530', quoteToken: 'q3Plxr4AgKd', text: 'Hello, world! こんにちは' },
        webhookEventId: id,
        deliveryContext: { isRedelivery: false },
        timestamp: now * 1000 - 250,
        source: { type: 'user', userId: 'U4af4980629' + '0'.repeat(22) },
        replyToken: crypto.randomBytes(16).toString('hex'),
        mode: 'active',
      }],
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'LineBotWebhook/2.0' },
      expect: { id, type: 'message' },
    };
  },
  sign: async ({ body, headers, key }) => {
    const sig = crypto.createHmac('sha256', key).update(Buffer.from(body, 'utf8')).digest('base64');
    const out = { ...headers, [SIG]: sig };
    if (!(await sdkVerify({ body, headers: out, key }))) throw new Error("@line/bot-sdk's validateSignature() refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => sdkVerify(req),
  tamper: {
    body: 'body',
    signature: { header: SIG },
    id: { pointer: '/events/0/webhookEventId' },
  },
  stale: false,
};
