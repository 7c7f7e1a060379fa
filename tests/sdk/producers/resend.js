'use strict';
// Resend sends its webhooks through Svix (Standard Webhooks with svix-*
// headers): svix-id, svix-timestamp (unix s), svix-signature = space-separated
// "v1,<base64 HMAC-SHA256>" over "{svix-id}.{svix-timestamp}.{body}"; the key
// is the whsec_ signing secret base64-decoded; 5 minute window.  Resend's
// docs verify with its SDK's webhooks.verify() (resend, not pinned here) or
// with the svix package, which signs and verifies here.
// Docs: https://resend.com/docs/webhooks/verify-webhooks-requests
const crypto = require('crypto');
const path = require('path');
const { header } = require(path.join(__dirname, '..', 'oracle.js'));

const DOCS = 'https://resend.com/docs/webhooks/verify-webhooks-requests';

function nowS(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  return now > 1e11 ? Math.floor(now / 1000) : Math.floor(now);
}

module.exports = {
  profile: 'resend',
  proof: 'sdk',
  by: 'svix 1.99.1 Webhook.sign()/verify() (Resend sends through Svix; its docs verify with svix)',
  docs: DOCS,
  secrets: ['whsec_aG9va2dhdGUtcmVzZW5kLWZpcnN0LWtleS0wMDAx', 'whsec_aG9va2dhdGUtcmVzZW5kLXNlY29uZC1rZXktMDAy'],
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const id = 'msg_' + crypto.randomBytes(14).toString('base64url');
    const at = new Date(nowS(now) * 1000).toISOString();
    const body = JSON.stringify({
      type: 'email.delivered',
      created_at: at,
      data: {
        email_id: crypto.randomUUID(),
        created_at: at,
        from: 'Acme <onboarding@resend.dev>',
        to: ['delivered@resend.dev'],
        subject: 'Bienvenue — café ✓',
      },
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'svix-id': id },
      expect: { id, type: 'email.delivered' },
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
