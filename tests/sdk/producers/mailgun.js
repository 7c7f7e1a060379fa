// Mailgun (profile mailgun): the signature is in the JSON body, not in a header:
// /signature = {timestamp (unix s, a string), token (50 random characters), signature =
// hex HMAC-SHA256(webhook signing key, timestamp + token)}; the event is /event-data (id,
// event, timestamp as fractional unix seconds).  The signature does not cover the body, so
// only the signature, the timestamp and the token are parts whose change must be refused.
// No npm SDK verifies Mailgun webhooks (mailgun.js only calls the API), so this module is
// 'computed' from Mailgun's "Securing Webhooks" page.  sign() writes /signature into the
// body (the producer's request is the body), as `hookgate sign` must too.
'use strict';
const crypto = require('crypto');
const { jsonSpans, changeAt } = require(require('path').join(__dirname, '..', 'oracle.js'));

function mac(key, timestamp, token) {
  return crypto.createHmac('sha256', key).update(String(timestamp) + String(token)).digest('hex');
}

/** docsVerify: what Mailgun's page tells a receiver to do, constant time. */
function docsVerify({ body, key }) {
  let sig;
  try {
    sig = JSON.parse(body).signature;
  } catch (e) {
    return false;
  }
  if (!sig || typeof sig.signature !== 'string' || sig.timestamp === undefined || typeof sig.token !== 'string') return false;
  const want = Buffer.from(mac(key, sig.timestamp, sig.token));
  const got = Buffer.from(sig.signature);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

/** lastDigitOf(pointer): a tamper that changes the last digit inside that JSON string (a
 * timestamp moved by one second stays inside any window: the signature must refuse it). */
function lastDigitOf(pointer) {
  return ({ body, headers }) => {
    const sp = (jsonSpans(body) || []).find((s) => s.pointer === pointer);
    if (!sp || sp.kind !== 'string') throw new Error(`${pointer} is not a string in the body`);
    return { body: changeAt(body, sp.end - 2), headers, changed: `the last digit of ${pointer}` };
  };
}

module.exports = {
  profile: 'mailgun',
  proof: 'computed',
  by: "computed from Mailgun's Securing Webhooks page (hex HMAC-SHA256 of timestamp+token; no SDK verifies)",
  docs: 'https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks',
  secrets: ['key-3ax6xnjp29jd6fds4gc373sgvjxteol0', 'key-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e'],
  content_type: 'application/json',
  event: ({ now }) => {
    const id = crypto.randomBytes(16).toString('base64url').replace(/[-_]/g, 'x').slice(0, 22);
    // unsigned: /signature is there, empty, for the signer to fill (sign() here, or
    // `hookgate sign`, which must write the three members into the body)
    const body = JSON.stringify({
      signature: { token: '', timestamp: '', signature: '' },
      'event-data': {
        id,
        timestamp: now - 2 + 0.908181,
        'log-level': 'info',
        event: 'delivered',
        'delivery-status': { tls: true, 'mx-host': 'smtp-in.example.com', code: 250, description: '', 'attempt-no': 1, message: 'OK', 'certificate-verified': true },
        flags: { 'is-routed': false, 'is-authenticated': true, 'is-system-test': false, 'is-test-mode': false },
        envelope: { transport: 'smtp', sender: 'bob@sandbox.mailgun.org', 'sending-ip': '209.61.154.250', targets: 'alice@example.com' },
        message: { headers: { to: 'Alice <alice@example.com>', 'message-id': '20130503182626.18666.16540@sandbox.mailgun.org', from: 'Bob <bob@sandbox.mailgun.org>', subject: 'Test delivered webhook' }, attachments: [], size: 111 },
        recipient: 'alice@example.com',
        'recipient-domain': 'example.com',
        tags: ['my_tag_1'],
        'user-variables': { my_var_1: 'Mailgun Variable #1' },
      },
    });
    return { body, headers: { 'Content-Type': 'application/json', 'User-Agent': 'mailgun/treq-16.12.0' }, expect: { id, type: 'delivered' } };
  },
  sign: async ({ body, headers, key, now }) => {
    const doc = JSON.parse(body);
    const timestamp = String(now);
    const token = crypto.randomBytes(25).toString('hex'); // 50 characters, as Mailgun's are
    // Mailgun puts "signature" first, then "event-data"; a signature already in the body
    // (a body signed once) is replaced
    const rest = { ...doc };
    delete rest.signature;
    const out = JSON.stringify({ signature: { token, timestamp, signature: mac(key, timestamp, token) }, ...rest });
    if (!docsVerify({ body: out, key })) throw new Error('the docs verifier refuses this module\'s signature');
    return { headers: { ...headers }, body: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: {
    signature: { pointer: '/signature/signature' },
    token: { pointer: '/signature/token' },
    timestamp: lastDigitOf('/signature/timestamp'),
  },
  stale: true,
};
