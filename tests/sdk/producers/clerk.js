'use strict';
// Clerk sends its webhooks through Svix (Standard Webhooks with svix-*
// headers): svix-id, svix-timestamp (unix s), svix-signature = space-separated
// "v1,<base64 HMAC-SHA256>" over "{svix-id}.{svix-timestamp}.{body}"; the key
// is the whsec_ signing secret base64-decoded; 5 minute window.  Clerk's own
// verifyWebhook() (@clerk/backend, not pinned here) wraps the same check;
// Clerk's docs name Svix's library, which signs and verifies here.
// Docs: https://clerk.com/docs/guides/development/webhooks/overview
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://clerk.com/docs/guides/development/webhooks/overview';

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

module.exports = {
  profile: 'clerk',
  proof: 'sdk',
  by: 'svix 1.99.1 Webhook.sign()/verify() (Clerk sends through Svix)',
  docs: DOCS,
  secrets: ['whsec_aG9va2dhdGUtY2xlcmstZmlyc3Qta2V5LTAwMDAx', 'whsec_aG9va2dhdGUtY2xlcmstc2Vjb25kLWtleS0wMDAy'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = 'msg_' + crypto.randomBytes(14).toString('base64url');
    const body = JSON.stringify({
      data: {
        id: 'user_29w83sxmDNGwOuEthce5gg56FcC',
        object: 'user',
        first_name: 'Zoë',
        last_name: 'Ångström',
        email_addresses: [{ email_address: 'example@example.org', id: 'idn_29w83yL7CwVlJXylYLxcslromF1', object: 'email_address' }],
        created_at: nowS(now) * 1000,
      },
      event_attributes: { http_request: { client_ip: '0.0.0.0', user_agent: 'Mozilla/5.0' } },
      instance_id: 'ins_2c9e6a1f4b8d0e3a5c7f9b1d',
      object: 'event',
      timestamp: nowS(now) * 1000,
      type: 'user.created',
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'svix-id': id },
      expect: { id, type: 'user.created' },
    };
  },
  sign: async ({ body, headers, key, now }) => {
    const ts = nowS(now);
    const { Webhook } = require('svix');
    const sig = new Webhook(key).sign(header(headers, 'svix-id'), new Date(ts * 1000), body);
    return {
      headers: { ...headers, 'svix-timestamp': String(ts), 'svix-signature': sig },
      body,
    };
  },
  verify: async ({ body, headers, key }) => {
    try {
      const { Webhook } = require('svix');
      new Webhook(key).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: 'svix-signature' },
    timestamp: { header: 'svix-timestamp' },
    id: { header: 'svix-id' },
  },
  stale: true,
};
