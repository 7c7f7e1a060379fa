// Slack (profile slack): X-Slack-Signature "v0=" + hex HMAC-SHA256(signing secret,
// "v0:" + X-Slack-Request-Timestamp + ":" + body), 5 minute window.  Slack's Bolt SDK
// verifies but has no signer: verifySlackRequest() (what a Bolt app runs on every request)
// checks what `hookgate sign` prints; the live request is signed here as Slack's
// "Verifying requests from Slack" page describes, and Bolt accepts it first (so this
// signer cannot drift from Slack's own check).
'use strict';
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

function boltVerify({ body, headers, key, now }) {
  const { verifySlackRequest } = require('@slack/bolt');
  const sig = header(headers, 'X-Slack-Signature');
  const ts = header(headers, 'X-Slack-Request-Timestamp');
  if (!sig || !ts) return false;
  try {
    verifySlackRequest({
      signingSecret: key,
      body,
      headers: { 'x-slack-signature': sig, 'x-slack-request-timestamp': Number(ts) },
      nowMilliseconds: now * 1000,
    });
    return true;
  } catch (e) {
    return false;
  }
}

module.exports = {
  profile: 'slack',
  proof: 'sdk',
  by: "@slack/bolt 5.1.0 verifySlackRequest() (verify direction; Bolt has no signer: the live request is signed per Slack's docs and checked by Bolt)",
  docs: 'https://api.slack.com/authentication/verifying-requests-from-slack',
  secrets: ['8f742231b10e8888abcd99yyyzzz85a5', '3c1e9b77d40a5f2e6b8c0d1a2f3e4b5c'],
  content_type: 'application/json',
  event: ({ now }) => {
    const id = 'Ev' + crypto.randomBytes(5).toString('hex').toUpperCase();
    const body = JSON.stringify({
      team_id: 'T0001',
      api_app_id: 'A0KRD7HC3',
      event: { type: 'app_mention', user: 'U061F7AUR', text: '<@U0LAN0Z89> is it everything a river should be?', ts: `${now}.000200`, channel: 'C123ABC456', event_ts: `${now}.000200` },
      type: 'event_callback',
      event_id: id,
      event_time: now,
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' },
      expect: { id, type: 'event_callback' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const mac = crypto.createHmac('sha256', key).update(`v0:${now}:${body}`).digest('hex');
    const out = { ...headers, 'X-Slack-Request-Timestamp': String(now), 'X-Slack-Signature': 'v0=' + mac };
    if (!boltVerify({ body, headers: out, key, now })) throw new Error("@slack/bolt refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => boltVerify(req),
  tamper: {
    body: 'body',
    signature: { header: 'X-Slack-Signature' },
    timestamp: { header: 'X-Slack-Request-Timestamp' },
  },
  stale: true,
};
