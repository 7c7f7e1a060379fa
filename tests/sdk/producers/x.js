// X / Twitter Account Activity API (profile x): x-twitter-webhooks-signature = "sha256=" +
// base64 HMAC-SHA256(app consumer secret, raw body).  X publishes no npm package that signs
// or verifies, so this module is 'computed' from X's "Securing webhooks" page; docsVerify()
// is that page's check, constant time.  X sends no event id (hookgate's id is the body's
// SHA-256) and no type field: the type is the name of the event array in the body.  The
// CRC handshake (GET crc_token) is tested by tests/e2e/test_handshakes.py.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'x-twitter-webhooks-signature';

function mac(key, body) {
  return 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('base64');
}

function docsVerify({ body, headers, key }) {
  const sig = header(headers, SIG);
  if (!sig) return false;
  const want = Buffer.from(mac(key, body));
  const got = Buffer.from(sig);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

module.exports = {
  profile: 'x',
  proof: 'computed',
  by: "computed from X's Securing webhooks page (sha256= base64 HMAC-SHA256 of the body with the consumer secret; no npm SDK verifies)",
  docs: 'https://docs.x.com/x-api/webhooks/quickstart',
  secrets: ['z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu', 'Q8pL2mN4bV6cX0zA1sD3fG5hJ7kL9qW2eR4tY6uI8oP0aS2dF4'],
  content_type: 'application/json; charset=utf-8',
  event: ({ now }) => {
    const id = String(1050118621198921728n + BigInt(crypto.randomInt(1e12)));
    const body = JSON.stringify({
      for_user_id: '2244994945',
      tweet_create_events: [{
        created_at: new Date(now * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 +0000 $4'),
        id: Number(id),
        id_str: id,
        text: '@XDevelopers hookgate oracle',
        user: { id: 6253282, id_str: '6253282', name: 'X Developers', screen_name: 'XDevelopers' },
        timestamp_ms: String(now * 1000),
      }],
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'Twitter-Webhooks/1.0' },
      expect: { id: 'sha256:' + crypto.createHash('sha256').update(body).digest('hex'), type: 'tweet_create_events' },
    };
  },
  sign: async ({ body, headers, key }) => {
    const out = { ...headers, [SIG]: mac(key, body) };
    if (!docsVerify({ body, headers: out, key })) throw new Error("the docs verifier refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: { body: 'body', signature: { header: SIG } },
  stale: false,
};
