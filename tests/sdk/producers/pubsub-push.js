// Google Cloud Pub/Sub push with authentication (profile pubsub-push): Authorization:
// Bearer <OIDC token signed by Google>, RS256, the key named by the token's kid in Google's
// JWKS; iss https://accounts.google.com (or accounts.google.com), aud = the push endpoint
// URL unless the subscription names another audience, exp/iat; claims email and
// email_verified name the service account.  The token does not cover the body.  Google's
// verifier (google-auth-library OAuth2Client.verifyIdToken) is not pinned in
// tests/sdk/package.json, so this module is 'computed' from Google's "Authenticate push
// subscriptions" page: two RSA key pairs are made when the module loads (no private key
// is kept in the tree), each published as a one-key JWKS document (kid = RFC 7638
// thumbprint) - the route's two secrets, as an operator would keep Google's JWKS in a
// file - and the token is signed and checked with jose (jwtVerify against that JWKS with
// Google's issuer and the audience), the checks Google's page lists.
'use strict';
const crypto = require('crypto');
const { header } = require(require('path').join(__dirname, '..', 'oracle.js'));

const ISS = ['https://accounts.google.com', 'accounts.google.com'];
const SA = 'push-invoker@my-project.iam.gserviceaccount.com';

function thumbprint(jwk) {
  const canon = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return crypto.createHash('sha256').update(canon).digest('base64url');
}

const pairs = [0, 1].map(() => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }));
function jwkOf(pub) {
  const j = pub.export({ format: 'jwk' });
  return { kty: j.kty, alg: 'RS256', use: 'sig', kid: thumbprint(j), n: j.n, e: j.e };
}
const jwks = pairs.map((p) => JSON.stringify({ keys: [jwkOf(p.publicKey)] }));
const pems = pairs.map((p) => p.privateKey.export({ type: 'pkcs8', format: 'pem' }));

/** jwksOf(key): the JWKS document for a key given as that document, a PEM public key or a
 * PEM private key (the harness may hand either to verify). */
function jwksOf(key) {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) return { keys: [jwkOf(crypto.createPublicKey(crypto.createPrivateKey(key)))] };
  if (/-----BEGIN PUBLIC KEY-----/.test(key)) return { keys: [jwkOf(crypto.createPublicKey(key))] };
  return JSON.parse(key);
}

async function joseVerify({ headers, key, url }) {
  const auth = header(headers, 'Authorization');
  if (!auth || !auth.startsWith('Bearer ')) return false;
  const { jwtVerify, createLocalJWKSet } = await import('jose');
  try {
    await jwtVerify(auth.slice(7), createLocalJWKSet(jwksOf(key)), { algorithms: ['RS256'], issuer: ISS, audience: url });
    return true;
  } catch (e) {
    return false;
  }
}

module.exports = {
  profile: 'pubsub-push',
  proof: 'computed',
  by: "computed from Google's Authenticate push subscriptions page: RS256 OIDC token signed and checked with jose 6.2.19 against a test JWKS (google-auth-library is not pinned)",
  docs: 'https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions',
  secrets: jwks,
  // the route pins the push subscription's service account (Google: check the email claim)
  route: { jwt_claims: { email: SA, email_verified: true } },
  signing_keys: pems,
  content_type: 'application/json',
  sign_args: ['--url', '{url}'],
  event: ({ now }) => {
    const id = String(2070443601311540n + BigInt(crypto.randomInt(1e9)));
    const body = JSON.stringify({
      message: {
        attributes: { eventType: 'OBJECT_FINALIZE', bucketId: 'example-bucket', objectId: `uploads/${id}.txt`, payloadFormat: 'JSON_API_V1' },
        data: Buffer.from(JSON.stringify({ kind: 'storage#object', name: `uploads/${id}.txt`, bucket: 'example-bucket' })).toString('base64'),
        messageId: id,
        message_id: id,
        publishTime: new Date(now * 1000).toISOString(),
        publish_time: new Date(now * 1000).toISOString(),
      },
      subscription: 'projects/my-project/subscriptions/hookgate-push',
    });
    return {
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)' },
      expect: { id, type: 'OBJECT_FINALIZE' },
    };
  },
  sign: async ({ headers, key, url, now }) => {
    const { SignJWT, importPKCS8 } = await import('jose');
    const pub = crypto.createPublicKey(crypto.createPrivateKey(key));
    const jwt = await new SignJWT({ azp: '107517467455664443765', email: SA, email_verified: true })
      .setProtectedHeader({ alg: 'RS256', kid: jwkOf(pub).kid, typ: 'JWT' })
      .setIssuer(ISS[0])
      .setAudience(url)
      .setSubject('107517467455664443765')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(await importPKCS8(key, 'RS256'));
    const out = { ...headers, Authorization: 'Bearer ' + jwt };
    if (now + 3600 > Date.now() / 1000 && !(await joseVerify({ headers: out, key, url })))
      throw new Error("jose refuses this module's token");
    return { headers: out };
  },
  verify: async (req) => joseVerify(req),
  // the token covers neither the body nor a header of its own: only it can be changed
  tamper: { signature: { header: 'Authorization', match: '\\.([A-Za-z0-9_-]+)$' } },
  // Google's tokens live exactly one hour, so one signed an hour ago is at its expiry edge,
  // not clearly stale: expiry is left to the engine's JWT tests
  stale: false,
};
