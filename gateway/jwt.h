/*
 * jwt.h - JSON Web Tokens (compact JWS, RFC 7515/7519) as webhook
 * signatures: Upstash QStash (Upstash-Signature: an HS256 token whose claims
 * carry the URL called and the SHA-256 of the body) and Google Pub/Sub push
 * (Authorization: Bearer, an RS256 token from Google's keys).
 *
 * A key set holds the route's verification keys, each bound to exactly one
 * algorithm: an HMAC secret is only ever an HS256 key and a public key only
 * an RS256/ES256 one, so algorithm confusion (an HS256 token keyed with a
 * public key's text) and "none" are refused by construction.  Reasons
 * (*why) are constant texts, never token or key bytes.
 */
#ifndef HG_JWT_H
#define HG_JWT_H

#include "secret.h"

#include <stddef.h>
#include <stdint.h>

#define JWT_HS256 0x1u
#define JWT_RS256 0x2u
#define JWT_ES256 0x4u

#define JWT_TOKEN_MAX     8192  /* the longest token jwt_verify reads, in bytes */
#define JWT_JWKS_MAX      65536 /* the largest JWKS document, in bytes */
#define JWT_JWKS_KEYS_MAX 32    /* keys in one JWKS */
#define JWT_KEYS_MAX      64    /* keys in one key set */
#define JWT_TRY_MAX       8     /* keys tried for one token, at most */
#define JWT_KID_MAX       255   /* the longest kid, in bytes */

struct jwt_keys;

/* jwt_keys_new - the verification keys of a route's secrets for algs (a
 * non-empty set of JWT_* bits):
 *   a JWKS document {"keys":[...]} (with RS256/ES256; at most JWT_JWKS_MAX
 *       bytes and JWT_JWKS_KEYS_MAX keys): every RSA key (n, e) and EC P-256
 *       key (crv, x, y) whose "use" (if any) is "sig" and "alg" (if any) is
 *       an allowed one, remembered with its kid; other key types and
 *       algorithms are skipped, a malformed RSA/EC key is an error;
 *   a key pubkey_parse reads (PEM, base64 SPKI, ...): an RSA key for RS256,
 *       an EC P-256 key for ES256 (only the public half is kept);
 *   anything else (pubkey_parse: no key form, or 64 hex digits) with HS256:
 *       an HMAC key, the secret's bytes as they are.
 * A secret usable by none of algs, or a JWKS without one usable key, is an
 * error.
 * @param[out] out  on HG_OK the key set (jwt_keys_free)
 * @param[out] why  on HG_EINVAL a constant reason
 * @return HG_OK, HG_EINVAL or HG_ENOMEM. */
int jwt_keys_new(const struct secret *secrets, size_t n, unsigned algs, struct jwt_keys **out,
                 const char **why);

/* jwt_keys_free - wipe the HMAC keys and free k.  NULL-safe. */
void jwt_keys_free(struct jwt_keys *k);

/* jwt_keys_count - how many keys k holds (for messages and tests). */
size_t jwt_keys_count(const struct jwt_keys *k);

/* jwt_want - what the claims of a token must say. */
struct jwt_want {
    const char *const *issuers; /* iss must be one of them (nissuers == 0: not checked) */
    size_t nissuers;
    const char *audience;   /* NULL: not checked; aud a string equal to it or an array holding it */
    const char *subject;    /* NULL: not checked; sub equal to it */
    const char *body_claim; /* NULL: no body hash; else this claim is enc(SHA-256(body)) */
    int body_hex;           /* 0: base64url (padding optional), 1: hex (either case) */
    const char *body;
    size_t body_len;
    int64_t now_s; /* the clock, unix seconds */
    long leeway_s; /* exp: now < exp + leeway; nbf, iat: <= now + leeway */
};

/* jwt_verify - check token[0..len) (the compact JWS, without "Bearer ").
 * The header's alg must be HS256, RS256 or ES256 and in k's algs (never
 * "none"); a header with "crit" is refused.  With a kid in the header, keys
 * with another kid are skipped (keys without a kid are still tried); at
 * most JWT_TRY_MAX keys of the alg are tried.  The signature is checked
 * before any claim is read; then iss, aud, sub, exp (required), nbf and iat
 * (when present) and the body hash.  MACs and hashes are compared in
 * constant time.  Header and payload are JSON objects without duplicate
 * members.
 * @param[out] why  NULL on HG_OK, else a constant reason
 * @return HG_OK; HG_ESIG (malformed token, alg, kid, signature, iss, aud,
 *         sub, body hash); HG_ESTALE (exp missing or passed, nbf or iat in
 *         the future). */
int jwt_verify(const struct jwt_keys *k, const char *token, size_t len, const struct jwt_want *w,
               const char **why);

/* jwt_sign - a compact JWS, NUL-terminated, into out[0..cap): header
 * {"alg":..,"typ":"JWT"[,"kid":kid]}, payload the JSON object claims_json
 * re-encoded compactly (member order kept), signed with alg (one JWT_* bit)
 * and key: the HMAC secret's bytes (HS256), or a private key in a form
 * pubkey_parse reads (RSA for RS256, EC P-256 for ES256).
 * @return HG_OK; HG_EINVAL (bad alg, claims not a JSON object, key not a
 *         private key of the alg's type); HG_ETOOBIG (the token would not
 *         fit cap or exceed JWT_TOKEN_MAX); HG_ENOMEM. */
int jwt_sign(unsigned alg, const struct secret *key, const char *kid, const char *claims_json,
             char *out, size_t cap);

#endif
