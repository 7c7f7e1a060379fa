// Twilio (profile twilio): X-Twilio-Signature = base64 HMAC-SHA1(auth token, the full URL
// Twilio called + every POST parameter, sorted by name, as name then value, no separators).
// No timestamp; the body is application/x-www-form-urlencoded; a retried request carries
// the same I-Twilio-Idempotency-Token header (not signed).  Proven with Twilio's own Node
// SDK: getExpectedTwilioSignature() (the SDK's signer) signs the live request and
// validateRequest() (what twilio.webhook() runs on every request) checks what `hookgate sign
// --url URL` prints, with the parameters parsed as Express's urlencoded parser does.
'use strict';
const crypto = require('crypto');
const querystring = require('querystring');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'X-Twilio-Signature';

/** params(body): the POST parameters as Express (extended: false) hands them to the SDK. */
function params(body) {
  return { ...querystring.parse(body) };
}

function sdkVerify({ body, headers, key, url }) {
  const twilio = require('twilio');
  const sig = header(headers, SIG);
  if (!sig || !url) return false;
  return twilio.validateRequest(key, sig, url, params(body)) === true;
}

module.exports = {
  profile: 'twilio',
  proof: 'sdk',
  by: 'twilio 6.3.1 getExpectedTwilioSignature() and validateRequest()',
  docs: 'https://www.twilio.com/docs/usage/webhooks/webhooks-security',
  secrets: ['12345a0b1c2d3e4f5a6b7c8d9e0f1a2b', 'fedcba98765432100123456789abcdef'],
  // Twilio signs the URL configured in its console: behind a proxy that is the route's
  // public_url (the gateway's own scheme://host differs)
  route: { public_url: 'https://hooks.example.com/p/twilio' },
  content_type: 'application/x-www-form-urlencoded',
  event: ({ now }) => {
    const sid = 'SM' + crypto.randomBytes(16).toString('hex');
    const token = crypto.randomUUID();
    // an incoming SMS as Twilio posts it: '+' in a number is %2B, a space is '+', a
    // repeated-looking name (MediaUrl0) is a name of its own
    const body = [
      ['ToCountry', 'US'], ['ToState', 'CA'], ['SmsMessageSid', sid], ['NumMedia', '0'],
      ['ToCity', 'SAN FRANCISCO'], ['FromZip', '94105'], ['SmsSid', sid], ['FromState', 'CA'],
      ['SmsStatus', 'received'], ['FromCity', 'SAN FRANCISCO'], ['Body', `Hello from Twilio: 1+1=2 & 50% off at ${now}`],
      ['FromCountry', 'US'], ['To', '+15005550006'], ['MessagingServiceSid', 'MG' + '0'.repeat(32)],
      ['ToZip', '94105'], ['NumSegments', '1'], ['MessageSid', sid],
      ['AccountSid', 'AC' + 'a1b2c3d4'.repeat(4)], ['From', '+14155552671'], ['ApiVersion', '2010-04-01'],
    ].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+')}`).join('&');
    return {
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'I-Twilio-Idempotency-Token': token },
      // no event type in a Twilio form (the profile maps none): the gateway's default
      expect: { id: token, type: 'unknown' },
    };
  },
  sign: async ({ body, headers, key, url }) => {
    const twilio = require('twilio');
    if (!url) throw new Error('twilio signs the URL: the request needs one');
    const sig = twilio.getExpectedTwilioSignature(key, url, params(body));
    const out = { ...headers, [SIG]: sig };
    if (!sdkVerify({ body, headers: out, key, url })) throw new Error("twilio's validateRequest() refuses its own signature");
    return { headers: out };
  },
  verify: async (req) => sdkVerify(req),
  tamper: {
    body: 'body',
    signature: { header: SIG },
  },
  stale: false,
  sign_args: ['--url', '{url}'],
};
