// SendGrid Event Webhook (profile sendgrid): X-Twilio-Email-Event-Webhook-Signature =
// base64 of the DER ECDSA P-256/SHA-256 signature over X-Twilio-Email-Event-Webhook-Timestamp
// (unix seconds) immediately followed by the raw body (a JSON array of events, CRLF after
// each).  The operator's secret is the verification key as SendGrid's console shows it:
// base64 of the SubjectPublicKeyInfo DER.  @sendgrid/eventwebhook only verifies:
// EventWebhook.convertPublicKeyToECDSA() + verifySignature() (what SendGrid's docs tell a
// receiver to run) accept the live request, signed here with node's crypto per the docs,
// and check what `hookgate sign` prints.  The key pairs are made when this module loads;
// no private key is kept in the tree.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'X-Twilio-Email-Event-Webhook-Signature';
const TS = 'X-Twilio-Email-Event-Webhook-Timestamp';

const pairs = [0, 1].map(() => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const publicB64 = (k) => k.export({ type: 'spki', format: 'der' }).toString('base64');

/** publicKeyOf(key): the console's base64 SPKI form of a public key, from that form,
 * a PEM public key or a PEM private key (the harness may hand either to verify). */
function publicKeyOf(key) {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) return publicB64(crypto.createPublicKey(crypto.createPrivateKey(key)));
  if (/-----BEGIN PUBLIC KEY-----/.test(key)) return publicB64(crypto.createPublicKey(key));
  return key.trim();
}

function sdkVerify({ body, headers, key }) {
  const { EventWebhook } = require('@sendgrid/eventwebhook');
  const sig = header(headers, SIG);
  const ts = header(headers, TS);
  if (!sig || !ts) return false;
  const ew = new EventWebhook();
  return ew.verifySignature(ew.convertPublicKeyToECDSA(publicKeyOf(key)), body, sig, ts) === true;
}

module.exports = {
  profile: 'sendgrid',
  proof: 'sdk',
  by: '@sendgrid/eventwebhook 8.0.0 EventWebhook.verifySignature() (verify direction; the SDK has no signer: the live request is signed with node crypto per the docs and checked by the SDK)',
  docs: 'https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features',
  secrets: pairs.map((p) => publicB64(p.publicKey)),
  signing_keys: pairs.map((p) => p.privateKey.export({ type: 'pkcs8', format: 'pem' })),
  content_type: 'application/json',
  event: ({ now }) => {
    const ev = (event, extra) => ({
      email: 'example@test.com',
      timestamp: now - 5,
      'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
      event,
      category: ['cat facts'],
      sg_event_id: crypto.randomBytes(16).toString('base64url'),
      sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
      ...extra,
    });
    // SendGrid's batch: one JSON array, a CRLF after each event (as its SDK's own test has)
    const body = JSON.stringify([ev('processed', {}), ev('delivered', { response: '250 OK' })])
      .split('},{"email"').join('},\r\n{"email"') + '\r\n';
    const id = 'sha256:' + crypto.createHash('sha256').update(body).digest('hex');
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'SendGrid Event API' },
      expect: { id, type: 'processed' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const ts = String(now);
    const sig = crypto.sign('sha256', Buffer.from(ts + body), { key, dsaEncoding: 'der' }).toString('base64');
    const out = { ...headers, [TS]: ts, [SIG]: sig };
    if (!sdkVerify({ body, headers: out, key })) throw new Error("@sendgrid/eventwebhook refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => sdkVerify(req),
  tamper: {
    body: 'body',
    signature: { header: SIG },
    timestamp: { header: TS },
  },
  stale: true,
};
