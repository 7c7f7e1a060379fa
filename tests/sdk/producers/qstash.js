// Upstash QStash (profile qstash): Upstash-Signature is a JWT, HS256, signed with the
// current signing key (or, during a rotation, the next one: the route's two secrets).
// Claims: iss "Upstash", sub = the URL QStash called, exp (5 minutes after iat), nbf, iat,
// jti, body = base64url SHA-256 of the body (QStash writes it with "=" padding).
// @upstash/qstash only verifies: its Receiver.verify() (what QStash's docs tell a receiver
// to run) is the oracle; the live request is signed here with jose per the "Verify
// Signatures" page, and must pass Receiver.verify() first.  The id is Upstash-Message-Id;
// the type is the URL group (Upstash-Topic-Name), sent here as a message to a URL group.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'Upstash-Signature';

let qstash;
async function sdkVerify({ body, headers, key, url }) {
  const sig = header(headers, SIG);
  if (!sig) return false;
  if (!qstash) qstash = require('@upstash/qstash');
  // devMode false: the test environment must not switch the Receiver to QStash's dev keys
  const r = new qstash.Receiver({ currentSigningKey: key, nextSigningKey: key, devMode: false });
  try {
    return (await r.verify({ signature: sig, body, url })) === true;
  } catch (e) {
    return false;
  }
}

module.exports = {
  profile: 'qstash',
  proof: 'sdk',
  by: 'signed per docs with jose 6.2.19; verified by @upstash/qstash 2.12.0 Receiver.verify()',
  docs: 'https://upstash.com/docs/qstash/howto/signature',
  secrets: ['sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r', 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs'],
  content_type: 'application/json',
  sign_args: ['--url', '{url}'],
  event: () => {
    const id = 'msg_' + crypto.randomBytes(20).toString('base64url').replace(/[-_]/g, 'x');
    const body = JSON.stringify({ order: 'ord_' + crypto.randomBytes(6).toString('hex'), action: 'send-receipt', attempt: 1 });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Upstash-QStash',
        'Upstash-Message-Id': id,
        'Upstash-Retried': '0',
        'Upstash-Topic-Name': 'receipts',
        'Upstash-Caller-Ip': '203.0.113.9',
      },
      expect: { id, type: 'receipts' },
    };
  },
  sign: async ({ body, headers, key, url, now }) => {
    const { SignJWT } = await import('jose');
    const hash = crypto.createHash('sha256').update(body).digest('base64url') + '=';
    const jwt = await new SignJWT({ body: hash })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('Upstash')
      .setSubject(url)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 300)
      .setJti('jwt_' + crypto.randomBytes(18).toString('base64url').replace(/[-_]/g, 'x'))
      .sign(new TextEncoder().encode(key));
    const out = { ...headers, [SIG]: jwt };
    // a stale token (now in the past) is refused by the SDK too: check the fresh ones only
    if (now >= Date.now() / 1000 - 60 && !(await sdkVerify({ body, headers: out, key, url })))
      throw new Error("@upstash/qstash Receiver refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => sdkVerify(req),
  tamper: { body: 'body', signature: { header: SIG } },
  stale: true,
};
