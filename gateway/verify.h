/*
 * verify.h - authenticate a request for a route: signatures and tokens,
 * interpreted from the route's profile, compared in constant time.
 *
 * A verifier is built once per route at startup from its profile and its
 * secrets (several = rotation: any one verifies).  HMAC keys become keyed
 * EVP_MAC contexts, duplicated per request (cheaper than keying each time);
 * Ed25519 keys become EVP_PKEYs; tokens are kept as SHA-256 digests so the
 * comparison is constant-time whatever their lengths.  A verifier is
 * read-only after verify_new and may be used from many threads at once.
 */
#ifndef HG_VERIFY_H
#define HG_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "secret.h"

struct verifier;
struct json_t;

/* verify_header_fn - the value of request header name, or NULL. */
typedef const char *(*verify_header_fn)(void *ctx, const char *name);

/* verify_input - what one request offers.  Strings are NUL-terminated or
 * NULL when absent.  Nothing is retained after the call. */
struct verify_input {
    const char *body;
    size_t body_len;
    const char *signature;             /* the first present signature header */
    const char *sig_alt[PROF_MAX_HDR]; /* the other present ones, NULL-terminated */
    const char *id;                    /* header-borne id (for {id}), or NULL */
    const char *type;                  /* header-borne type (for {type}), or NULL */
    const char *timestamp;             /* the timestamp header, or NULL (kv: from the signature) */
    const char *nonce;                 /* header-borne nonce, or NULL */
    const char *token;         /* token: the token presented; basic: the Authorization value */
    const char *url;           /* {url}, the JWT audience/subject: the URL the producer called */
    const char *method;        /* {method} */
    verify_header_fn hdr;      /* {header:NAME}, or NULL */
    const char *const *claims; /* signing a JWT: extra "NAME=VALUE" claims, NULL-terminated */
    void *hctx;
    int64_t now_s;    /* current unix time, for the tolerance check */
    long tolerance_s; /* replay window in seconds */
};

/* verify_new - a verifier for profile p with n secrets (copied; the caller
 * keeps its own).  Secrets that do not fit an algorithm of p (a whpk_ key
 * for HMAC) are skipped for it.  HG_EINVAL with *why set (a constant text,
 * never secret material) when a secret is malformed or none is usable;
 * HG_ENOMEM.  An unsigned profile needs no secret (n may be 0). */
int verify_new(const struct profile *p, const struct secret *secrets, size_t n,
               struct verifier **out, const char **why);

/* verify_new_signer - a verifier that signs (`hookgate sign`): as
 * verify_new with one secret, which for a public-key scheme is the private
 * key (PEM, whsk_, or 64 hex digits: an Ed25519 seed). */
int verify_new_signer(const struct profile *p, const struct secret *secret, struct verifier **out,
                      const char **why);

/* verify_set_claims - claims (a JSON object of names -> values) that a
 * JWT route's tokens must also carry, equal (a route's "jwt_claims": the
 * service account of a Pub/Sub push subscription).  The object is kept
 * (a reference is taken).  Not for a verifier in use. */
void verify_set_claims(struct verifier *v, struct json_t *claims);

/* verify_free - release a verifier, wiping key material.  NULL-safe. */
void verify_free(struct verifier *v);

/* verify_check - HG_OK if the request is authentic: a valid signature by any
 * secret (any one of several signatures in the header), or a matching token,
 * and - for timestamped schemes - a timestamp within tolerance.
 * HG_ESIG: signature/token missing, malformed or wrong; HG_ESTALE: timestamp
 * missing, malformed or outside the window.  *reason (may be NULL) gets a
 * constant text for the log - never secret material. */
int verify_check(const struct verifier *v, const struct verify_input *in, const char **reason);

/* verify_sign - the signature header value a producer would send for in,
 * using the first secret (for Ed25519: a whsk_ private key), into out (cap
 * bytes).  kv formats include the timestamp entry.  HG_ETOOBIG if out is too
 * small, HG_EINVAL if the profile cannot sign with that secret. */
int verify_sign(const struct verifier *v, const struct verify_input *in, char *out, size_t cap);

/* verify_token_digest - SHA-256 of a token, for constant-time comparison. */
void verify_token_digest(const char *tok, size_t n, unsigned char out[32]);

#endif
