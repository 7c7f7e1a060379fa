// Zoom (profile zoom): x-zm-signature = "v0=" + hex HMAC-SHA256(secret token,
// "v0:" + x-zm-request-timestamp + ":" + body); the timestamp is unix seconds.  Zoom
// publishes no npm package that signs or verifies (its webhook-sample repository does it
// inline with node's crypto), so this module is 'computed' from the "Verify webhook events"
// section of Zoom's docs; docsVerify() is that section's check, constant time.  Zoom sends
// no event id: hookgate's id is the body's SHA-256, so every event() body is unique.
// The endpoint.url_validation handshake is tested by tests/e2e/test_handshakes.py.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const SIG = 'x-zm-signature';
const TS = 'x-zm-request-timestamp';

function mac(key, ts, body) {
  return 'v0=' + crypto.createHmac('sha256', key).update(`v0:${ts}:${body}`).digest('hex');
}

/** docsVerify: what Zoom's docs tell a receiver to do (the signature; Zoom names no window). */
function docsVerify({ body, headers, key }) {
  const sig = header(headers, SIG);
  const ts = header(headers, TS);
  if (!sig || !ts) return false;
  const want = Buffer.from(mac(key, ts, body));
  const got = Buffer.from(sig);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

module.exports = {
  profile: 'zoom',
  proof: 'computed',
  by: "computed from Zoom's Verify webhook events docs (v0= hex HMAC-SHA256 of v0:timestamp:body; no npm SDK signs or verifies)",
  docs: 'https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events',
  secrets: ['Zq3bW9xE2kR7tYv1LmN0pA', 'Hc8dF4gJ6sK2wQ5eR1tY7u'],
  content_type: 'application/json; charset=utf-8',
  event: ({ now }) => {
    const meeting = String(80000000000 + crypto.randomInt(1e9));
    const body = JSON.stringify({
      event: 'meeting.started',
      payload: {
        account_id: 'AAAAAABBBB',
        object: {
          duration: 0,
          start_time: new Date(now * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          timezone: 'America/Denver',
          topic: 'hookgate oracle meeting',
          id: meeting,
          type: 2,
          uuid: crypto.randomBytes(16).toString('base64'),
          host_id: 'x1yCzABCDEfg23HiJKl4mN',
        },
      },
      event_ts: now * 1000 + crypto.randomInt(1000),
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'Zoom Marketplace/1.0a' },
      expect: { id: 'sha256:' + crypto.createHash('sha256').update(body).digest('hex'), type: 'meeting.started' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const out = { ...headers, [TS]: String(now), [SIG]: mac(key, now, body) };
    if (!docsVerify({ body, headers: out, key })) throw new Error("the docs verifier refuses this module's signature");
    return { headers: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: { body: 'body', signature: { header: SIG }, timestamp: { header: TS } },
  stale: true,
};
