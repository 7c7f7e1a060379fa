'use strict';
// HubSpot webhooks, v3 request signature: X-HubSpot-Signature-v3 = base64
// HMAC-SHA256(app client secret, method + URL + raw body + timestamp), with
// X-HubSpot-Request-Timestamp in unix MILLISECONDS, refused when older than
// 5 minutes.  The URL is the one HubSpot called (the route's public_url
// here).  HubSpot also sends the legacy v1 X-HubSpot-Signature (SHA-256 of
// secret + body, no timestamp), which hookgate does not use.
// @hubspot/api-client signs (Signature.getSignature) and verifies
// (Signature.isValid) both versions.  The body is a batch (JSON array) of
// events, each with its own eventId and attemptNumber: a request has no id of
// its own, so hookgate's id is the body's SHA-256.
// Docs: https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
const crypto = require('crypto');

const DOCS = 'https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation';
const PUBLIC_URL = 'https://hooks.example.com/p/hubspot?portal=62515';

function header(headers, name) {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers || {})) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  return now > 1e11 ? Math.floor(now) : Math.floor(now) * 1000;
}

function sig() {
  return require('@hubspot/api-client').Signature;
}

module.exports = {
  profile: 'hubspot',
  proof: 'sdk',
  by: '@hubspot/api-client 13.5.0 Signature.getSignature()/isValid() (v3)',
  docs: DOCS,
  secrets: ['hs-client-secret-first-7b3e1f9a-4c2d', 'hs-client-secret-second-2d8c6a0e-9f1b'],
  route: { public_url: PUBLIC_URL },
  content_type: 'application/json',
  event: ({ now } = {}) => {
    const eventId = 1 + crypto.randomBytes(4).readUInt32BE(0);
    const t = nowMs(now);
    const body = JSON.stringify([
      { eventId, subscriptionId: 2881778, portalId: 62515, appId: 1160452, occurredAt: t - 1500,
        subscriptionType: 'contact.creation', attemptNumber: 0, objectId: 1246965, changeSource: 'CRM',
        changeFlag: 'NEW' },
      { eventId: eventId + 1, subscriptionId: 2881779, portalId: 62515, appId: 1160452, occurredAt: t - 1200,
        subscriptionType: 'contact.propertyChange', attemptNumber: 0, objectId: 1246965,
        propertyName: 'firstname', propertyValue: 'Ødegård ✓', changeSource: 'CRM' },
    ]);
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)' },
      expect: { id: 'sha256:' + crypto.createHash('sha256').update(body, 'utf8').digest('hex'), type: 'contact.creation' },
    };
  },
  sign: async ({ body, headers, key, url, method, now }) => {
    const u = url || PUBLIC_URL;
    const m = method || 'POST';
    const ts = String(nowMs(now));
    const S = sig();
    const v3 = S.getSignature(m, 'v3', { clientSecret: key, requestBody: body, url: u, timestamp: ts });
    const v1 = S.getSignature(m, 'v1', { clientSecret: key, requestBody: body });
    return {
      headers: {
        ...headers,
        'X-HubSpot-Signature-v3': v3,
        'X-HubSpot-Request-Timestamp': ts,
        'X-HubSpot-Signature': v1,
        'X-HubSpot-Signature-Version': 'v1',
      },
      body,
      url: u,
    };
  },
  verify: async ({ body, headers, key, url, method }) => {
    try {
      const v3 = header(headers, 'X-HubSpot-Signature-v3');
      const ts = header(headers, 'X-HubSpot-Request-Timestamp');
      if (typeof v3 !== 'string' || typeof ts !== 'string') return false;
      return sig().isValid({
        signatureVersion: 'v3',
        method: method || 'POST',
        url: url || PUBLIC_URL,
        requestBody: body,
        clientSecret: key,
        signature: v3,
        timestamp: ts,
      }) === true;
    } catch {
      return false;
    }
  },
  tamper: {
    body: 'body',
    signature: { header: 'X-HubSpot-Signature-v3' },
    timestamp: { header: 'X-HubSpot-Request-Timestamp' },
  },
  stale: true,
  sign_args: ['--url', '{url}', '--method', '{method}'],
};
