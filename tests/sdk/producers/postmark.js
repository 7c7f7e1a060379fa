// Postmark (profile postmark): Postmark does not sign its webhooks.  The webhook's URL
// carries HTTP Basic credentials (https://user:password@host/path, or the webhook's
// HttpAuth Username/Password), which Postmark sends as "Authorization: Basic
// base64(user:password)"; the route's secrets are "user:password".  The body is one JSON
// event: RecordType (Delivery, Bounce, Open, Click, SpamComplaint, SubscriptionChange) and
// MessageID, which several events of one message share, so the id is the body's SHA-256.
// The postmark npm client only calls the API (no webhook check), so this module is
// 'computed' from Postmark's webhook docs and RFC 7617.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const basic = (cred) => 'Basic ' + Buffer.from(cred, 'utf8').toString('base64');

/** docsVerify: what a receiver of Postmark's webhooks checks: the Authorization header
 * carries exactly these credentials (constant time) and the body is one JSON event (each
 * request is one JSON object with a RecordType; the credentials do not cover the body, so
 * that is all a changed body can fail). */
function docsVerify({ body, headers, key }) {
  const got = header(headers, 'Authorization');
  if (!got) return false;
  try {
    const ev = JSON.parse(body);
    if (!ev || typeof ev !== 'object' || Array.isArray(ev) || typeof ev.RecordType !== 'string') return false;
  } catch (e) {
    return false;
  }
  const a = Buffer.from(got);
  const b = Buffer.from(basic(key));
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

module.exports = {
  profile: 'postmark',
  proof: 'computed',
  by: "computed from Postmark's webhook docs (HTTP Basic credentials in the webhook URL, RFC 7617); Postmark does not sign",
  docs: 'https://postmarkapp.com/developer/webhooks/webhooks-overview',
  secrets: ['postmark-hook:Zk3vP9qLr2Tx8wYb', 'postmark-hook:Hq7Ns4Dm1Vc6Jx0e'],
  content_type: 'application/json',
  event: ({ now }) => {
    const body = JSON.stringify({
      RecordType: 'Delivery',
      ServerID: 23,
      MessageStream: 'outbound',
      MessageID: crypto.randomUUID(),
      Recipient: 'john@example.com',
      Tag: 'welcome-email',
      DeliveredAt: new Date(now * 1000).toISOString(),
      Details: 'Test delivery webhook details',
      Metadata: { example: 'value', example_2: 'value' },
    });
    const id = 'sha256:' + crypto.createHash('sha256').update(body).digest('hex');
    return { body, headers: { 'Content-Type': 'application/json', 'User-Agent': 'Postmark' }, expect: { id, type: 'Delivery' } };
  },
  sign: async ({ body, headers, key }) => {
    const out = { ...headers, Authorization: basic(key) };
    if (!docsVerify({ body, headers: out, key })) throw new Error('Basic credentials do not round-trip');
    return { headers: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: {
    credentials: { header: 'Authorization', match: '^Basic (.+)$' },
  },
  stale: false,
};
