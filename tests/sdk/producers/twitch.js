// Twitch EventSub, webhook transport (profile twitch): Twitch-Eventsub-Message-Signature =
// "sha256=" + hex HMAC-SHA256(secret, Message-Id + Message-Timestamp + raw body); the
// timestamp is RFC 3339 with nanoseconds; Twitch's docs tell receivers to refuse messages
// older than 10 minutes.  @twurple/eventsub-http (the EventSub listener Twitch's docs list)
// only verifies: its EventSubMiddleware checks every request with _verifyData(messageId,
// timestamp, body, signature) before it answers, and that method (called on the class's
// prototype with the secret, exactly as the middleware calls it) is the oracle.  The live
// request is signed here per Twitch's docs and must pass that check first.
// The webhook_callback_verification handshake and the revocation type are tested by
// tests/e2e/test_handshakes.py.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'Twitch-Eventsub-Message-Signature';
const ID = 'Twitch-Eventsub-Message-Id';
const TS = 'Twitch-Eventsub-Message-Timestamp';

let middleware;
async function twurple() {
  if (!middleware) middleware = (await import('@twurple/eventsub-http')).EventSubMiddleware;
  return middleware;
}

/** rfc3339(now): the send time as Twitch writes it, with nanoseconds. */
function rfc3339(now) {
  const ns = String(crypto.randomInt(1e9)).padStart(9, '0');
  return new Date(now * 1000).toISOString().replace(/\.\d{3}Z$/, `.${ns}Z`);
}

async function sdkVerify({ body, headers, key }) {
  const sig = header(headers, SIG);
  const id = header(headers, ID);
  const ts = header(headers, TS);
  if (!sig || id === undefined || ts === undefined) return false;
  const M = await twurple();
  return M.prototype._verifyData.call({ _secret: key }, id, ts, body, sig) === true;
}

module.exports = {
  profile: 'twitch',
  proof: 'sdk',
  by: 'signed per docs; verified by @twurple/eventsub-http 8.1.4 EventSubMiddleware _verifyData() (the check its listener runs on every message)',
  docs: 'https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message',
  // Twitch takes 10 to 100 ASCII characters (@twurple refuses others too)
  secrets: ['s3cRe7-tw1tch-eventsub-0racle', 'an0ther-tw1tch-secret-4-r0tation'],
  content_type: 'application/json',
  event: ({ now }) => {
    const id = crypto.randomUUID();
    const body = JSON.stringify({
      subscription: {
        id: crypto.randomUUID(),
        status: 'enabled',
        type: 'channel.follow',
        version: '2',
        cost: 0,
        condition: { broadcaster_user_id: '1337', moderator_user_id: '1337' },
        transport: { method: 'webhook', callback: 'https://example.com/webhooks/callback' },
        created_at: rfc3339(now - 86400),
      },
      event: {
        user_id: String(1000 + crypto.randomInt(1e6)),
        user_login: 'cool_user',
        user_name: 'Cool_User',
        broadcaster_user_id: '1337',
        broadcaster_user_login: 'cooler_user',
        broadcaster_user_name: 'Cooler_User',
        followed_at: rfc3339(now),
      },
    });
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Twitch-Eventsub-Webhooks/1.0',
        [ID]: id,
        'Twitch-Eventsub-Message-Retry': '0',
        'Twitch-Eventsub-Message-Type': 'notification',
        'Twitch-Eventsub-Subscription-Type': 'channel.follow',
        'Twitch-Eventsub-Subscription-Version': '2',
      },
      expect: { id, type: 'channel.follow' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const id = header(headers, ID) || crypto.randomUUID();
    const ts = rfc3339(now);
    const mac = crypto.createHmac('sha256', key).update(id + ts + body).digest('hex');
    const out = { ...headers, [ID]: id, [TS]: ts, [SIG]: 'sha256=' + mac };
    if (!(await sdkVerify({ body, headers: out, key }))) throw new Error("@twurple/eventsub-http refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => sdkVerify(req),
  tamper: {
    body: 'body',
    signature: { header: SIG },
    id: { header: ID },
    // the nanoseconds: the time moves by 1 ns, inside any window, so the signature refuses it
    timestamp: { header: TS, match: '\\.(\\d+)Z$' },
  },
  stale: true,
};
