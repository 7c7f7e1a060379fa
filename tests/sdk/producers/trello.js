// Trello (profile trello): X-Trello-Webhook = base64 HMAC-SHA1(the application's secret, raw
// body immediately followed by the callbackURL exactly as given when the webhook was
// created).  No timestamp.  The body is {action: {id, type, date, data...}, model,
// webhook}.  When a webhook is created Trello sends a HEAD to the callback URL and wants
// 200.  No npm SDK verifies Trello webhooks, so this module is 'computed' from the
// "Webhook Signatures" part of Trello's webhook guide.  (Trello's guide warns that it
// signs the payload as a node "binary" string, each character's low 8 bits: the same as
// UTF-8 for ASCII bodies such as this one.)
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'X-Trello-Webhook';

const mac = (key, body, url) => crypto.createHmac('sha1', key).update(Buffer.from(body + url, 'utf8')).digest('base64');

/** docsVerify: the guide's check, constant time. */
function docsVerify({ body, headers, key, url }) {
  const got = header(headers, SIG);
  if (!got || !url) return false;
  const a = Buffer.from(got, 'base64');
  const b = Buffer.from(mac(key, body, url), 'base64');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

const hex24 = () => crypto.randomBytes(12).toString('hex');

module.exports = {
  profile: 'trello',
  proof: 'computed',
  by: "computed from Trello's webhook guide (base64 HMAC-SHA1 of body + callbackURL with the application secret; no SDK verifies)",
  docs: 'https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/',
  secrets: ['9a4c2e7b1d5f8a3c6e0b4d7f2a5c8e1b3d6f9a2c5e8b1d4f7a0c3e6b9d2f5a8c', 'c1e3a5b7d9f0a2c4e6b8d0f1a3c5e7b9d1f3a5c7e9b0d2f4a6c8e0b1d3f5a7c9'],
  content_type: 'application/json',
  event: ({ now }) => {
    const id = hex24();
    const board = hex24();
    const body = JSON.stringify({
      model: { id: board, name: 'Roadmap', desc: '', closed: false, url: `https://trello.com/b/${board.slice(0, 8)}/roadmap` },
      action: {
        id,
        idMemberCreator: hex24(),
        data: {
          card: { id: hex24(), name: 'Ship the gateway', idShort: 42, shortLink: 'aB3dE5fG' },
          list: { id: hex24(), name: 'Doing' },
          board: { id: board, name: 'Roadmap', shortLink: board.slice(0, 8) },
        },
        type: 'createCard',
        date: new Date(now * 1000).toISOString(),
        memberCreator: { id: hex24(), fullName: 'Jane Doe', username: 'janedoe' },
      },
      webhook: { id: hex24(), description: 'hookgate', idModel: board, active: true },
    });
    return { body, headers: { 'Content-Type': 'application/json', 'User-Agent': 'Trello' }, expect: { id, type: 'createCard' } };
  },
  sign: async ({ body, headers, key, url }) => {
    if (!url) throw new Error('trello signs the callback URL: the request needs one');
    const out = { ...headers, [SIG]: mac(key, body, url) };
    if (!docsVerify({ body, headers: out, key, url })) throw new Error('the docs verifier refuses this module\'s signature');
    return { headers: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: {
    body: 'body',
    signature: { header: SIG },
    id: { pointer: '/action/id' },
  },
  stale: false,
  sign_args: ['--url', '{url}'],
  // the check Trello runs when the webhook is created: HEAD on the callback URL -> 200,
  // nothing stored (for a handshake test)
  handshakes: [{ name: 'head', request: { method: 'HEAD', body: '', headers: {} }, signed: false, expect: { status: 200 } }],
};
