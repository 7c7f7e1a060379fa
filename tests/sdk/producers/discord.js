// Discord Webhook Events (profile discord): X-Signature-Ed25519 = hex Ed25519 signature over
// X-Signature-Timestamp (unix seconds) immediately followed by the raw body; the operator's
// secret is the application's public key as the developer portal shows it (64 hex digits).
// A body is {version, application_id, type: 0 (PING) | 1 (event), event: {type, timestamp,
// data}}; events carry no id, so the id is the body's SHA-256.  A signed PING is answered
// 204 and is not an event; events are answered 204 too (verifyWebhookEventMiddleware).
// discord-interactions only verifies: verifyKey() (what its middlewares run) accepts the
// live request, signed here with node's crypto, and checks what `hookgate sign` prints.
// The key pairs are made when this module loads; signing keys are the 32-byte seeds in hex
// (`hookgate sign -s` takes them), no private key is kept in the tree.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'X-Signature-Ed25519';
const TS = 'X-Signature-Timestamp';
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex'); // + 32-byte seed
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex'); // + 32-byte key

const seeds = [0, 1].map(() => crypto.randomBytes(32));
const privateOf = (seedHex) =>
  crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
const rawPublic = (k) => crypto.createPublicKey(k).export({ type: 'spki', format: 'der' }).subarray(SPKI_ED25519.length).toString('hex');

/** publicKeysOf(key): the portal's hex public key(s) key may stand for: a PEM key gives
 * its public key; 64 hex digits are either a public key or a signing seed (the harness
 * hands verify either), so both readings are tried. */
function publicKeysOf(key) {
  key = key.trim();
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) return [rawPublic(crypto.createPrivateKey(key))];
  if (/-----BEGIN PUBLIC KEY-----/.test(key)) return [rawPublic(crypto.createPublicKey(key))];
  if (/^[0-9a-fA-F]{64}$/.test(key)) return [key.toLowerCase(), rawPublic(privateOf(key))];
  return [key];
}

async function sdkVerify({ body, headers, key }) {
  const { verifyKey } = require('discord-interactions');
  const sig = header(headers, SIG);
  const ts = header(headers, TS);
  if (!sig || !ts) return false;
  for (const pub of publicKeysOf(key)) if ((await verifyKey(Buffer.from(body, 'utf8'), sig, ts, pub)) === true) return true;
  return false;
}

function signWith(seedHex, ts, body) {
  return crypto.sign(null, Buffer.from(ts + body, 'utf8'), privateOf(seedHex)).toString('hex');
}

module.exports = {
  profile: 'discord',
  proof: 'sdk',
  by: 'discord-interactions 4.4.0 verifyKey() (verify direction; it has no signer: the live request is signed with node crypto per the docs and checked by verifyKey)',
  docs: 'https://discord.com/developers/docs/events/webhook-events',
  secrets: seeds.map((s) => rawPublic(privateOf(s.toString('hex')))),
  signing_keys: seeds.map((s) => s.toString('hex')),
  content_type: 'application/json',
  event: ({ now }) => {
    const body = JSON.stringify({
      version: 1,
      application_id: '1234560123453231555',
      type: 1,
      event: {
        type: 'APPLICATION_AUTHORIZED',
        timestamp: new Date(now * 1000).toISOString().replace('Z', '000'),
        data: {
          integration_type: 0,
          scopes: ['applications.commands'],
          user: { id: String(111111111111111111n + BigInt(crypto.randomBytes(4).readUInt32BE(0))), username: 'nelly', discriminator: '0', global_name: 'Nelly', avatar: null },
          guild: { id: '1234567890123456789', name: 'Nelly test server' },
        },
      },
    });
    const id = 'sha256:' + crypto.createHash('sha256').update(body).digest('hex');
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Discord-Webhook/1.0 (+https://discord.com)' },
      expect: { id, type: 'APPLICATION_AUTHORIZED' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const ts = String(now);
    const seed = /^[0-9a-fA-F]{64}$/.test(key.trim()) ? key.trim() : null;
    const sig = seed ? signWith(seed, ts, body)
      : crypto.sign(null, Buffer.from(ts + body, 'utf8'), crypto.createPrivateKey(key)).toString('hex');
    const out = { ...headers, [TS]: ts, [SIG]: sig };
    if (!(await sdkVerify({ body, headers: out, key }))) throw new Error("discord-interactions' verifyKey() refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => sdkVerify(req),
  tamper: {
    body: 'body',
    signature: { header: SIG },
    timestamp: { header: TS },
  },
  stale: true,
  // the endpoint check Discord runs when the URL is saved: a signed PING, answered 204 with
  // an empty body, never stored (for a handshake test; sign it like an event)
  handshakes: [
    {
      name: 'ping',
      request: { method: 'POST', body: JSON.stringify({ version: 1, application_id: '1234560123453231555', type: 0 }), headers: { 'Content-Type': 'application/json' } },
      signed: true,
      expect: { status: 204, body: '' },
    },
  ],
};
