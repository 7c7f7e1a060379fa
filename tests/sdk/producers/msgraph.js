// Microsoft Graph change notifications, webhook delivery (profile msgraph): Graph does not
// sign; the subscriber sets a clientState (at most 128 characters) when it creates the
// subscription and Graph puts it into every item of the notification's /value array, where
// the receiver must compare it with its own.  The route's secrets are the clientState
// values.  No Microsoft npm package verifies notifications, so this module is 'computed'
// from the "Receive notifications" section of Graph's webhook delivery docs; docsVerify()
// is that check (every item, constant time).  "Signing" a request is putting the
// clientState into each item, so sign() returns the body.  A batch of two items is sent so
// that a change in the second item's clientState must be refused too.  Notifications are
// answered 202; the validationToken handshake is tested by tests/e2e/test_handshakes.py.
'use strict';
const crypto = require('crypto');

function docsVerify({ body, key }) {
  let doc;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    return false;
  }
  if (!doc || !Array.isArray(doc.value) || !doc.value.length) return false;
  const want = Buffer.from(key);
  return doc.value.every((n) => {
    if (!n || typeof n.clientState !== 'string') return false;
    const got = Buffer.from(n.clientState);
    return got.length === want.length && crypto.timingSafeEqual(got, want);
  });
}

function item(id, changeType) {
  const user = crypto.randomUUID();
  const msg = 'AAMkADAwATM0MDAAMS0yMzU2LTI0MDUtMDACLTAwCgBGAAAD' + crypto.randomBytes(9).toString('base64url').replace(/[-_]/g, 'A');
  return {
    id,
    subscriptionId: '7f105c7d-2dc5-4530-97cd-4e7ae6534c07',
    subscriptionExpirationDateTime: '2030-01-01T11:00:00.0000000Z',
    changeType,
    resource: `Users/${user}/Messages/${msg}`,
    resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': `Users/${user}/Messages/${msg}`, '@odata.etag': 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"', id: msg },
    clientState: '',
    tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
  };
}

module.exports = {
  profile: 'msgraph',
  proof: 'computed',
  by: "computed from Microsoft Graph's webhook delivery docs (clientState in every item of /value, compared with the subscriber's; Graph does not sign)",
  docs: 'https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks',
  secrets: ['secretClientValue-9c41d2', 'rotatedClientState-0f7e3b'],
  content_type: 'application/json; charset=utf-8',
  event: () => {
    const id = crypto.randomBytes(10).toString('base64url').replace(/[-_]/g, 'A');
    const body = JSON.stringify({ value: [item(id, 'created'), item(id + 'b', 'created')] });
    return { body, headers: { 'Content-Type': 'application/json; charset=utf-8' }, expect: { id, type: 'created' } };
  },
  sign: async ({ body, headers, key }) => {
    const doc = JSON.parse(body);
    for (const n of doc.value) n.clientState = key;
    const out = JSON.stringify(doc);
    if (!docsVerify({ body: out, key })) throw new Error("the docs verifier refuses this module's request");
    return { headers: { ...headers }, body: out };
  },
  verify: async (req) => docsVerify(req),
  tamper: {
    clientState: { pointer: '/value/0/clientState' },
    clientState_second_item: { pointer: '/value/1/clientState' },
  },
  stale: false,
};
