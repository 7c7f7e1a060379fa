/*
 * verify.h - authenticate a request for a route: signatures and tokens,
 * interpreted from the route's profile, compared in constant time.
 *
 * A verifier is built once per route at startup from its profile and its
 * secrets (several = rotation: any one verifies).  HMAC keys become keyed
 * EVP_MAC contexts, copied for a request and kept for reuse afterwards
 * (verify_int.h, struct mac_spares: cheaper than keying each time);
 * Ed25519 keys become EVP_PKEYs; tokens are kept as SHA-256 digests so the
 * comparison is constant-time whatever their lengths.  A verifier is
 * read-only after verify_new (but for those spare contexts, kept under a
 * lock) and may be used from many threads at once.
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

/* verify_why - why verify_check refused a request, finer than its reason
 * text (struct verify_detail; explain.h puts it into words).  Each code
 * names the decision, never a value the request or a secret held. */
enum verify_why {
    VD_NONE = 0,        /* accepted, or nothing was decided */
    VD_MISSING_SIG,     /* no signature header present (or no body member: sig_pointer) */
    VD_EMPTY_SIG,       /* the signature header is present and empty */
    VD_SIG_TOO_LONG,    /* a signature header (or member) over 2048 bytes */
    VD_MALFORMED_SIG,   /* signatures sent, none readable in the profile's format */
    VD_MISMATCH,        /* readable signatures, none valid under any secret */
    VD_CONTENT_HOLE,    /* the signed content lacks a piece (detail.hole) */
    VD_MISSING_TS,      /* no timestamp where the profile reads one */
    VD_BAD_TS,          /* a timestamp that is not in the profile's unit */
    VD_STALE_TS,        /* older than the tolerance (detail.skew_s > tolerance_s) */
    VD_FUTURE_TS,       /* further ahead than the tolerance (reject_future) */
    VD_MISSING_TOKEN,   /* token: none presented; token_pointer: the body has no items */
    VD_TOKEN_MISMATCH,  /* token: not one of the route's */
    VD_ITEM_NO_TOKEN,   /* token_pointer: an item lacks the member */
    VD_TOO_MANY_ITEMS,  /* token_pointer: more than 100 items */
    VD_BODY_NOT_JSON,   /* sig_pointer / token_pointer: the body is not JSON */
    VD_DUP_MEMBER,      /* sig_pointer / token_pointer: a member on the path repeats */
    VD_BASIC_MISSING,   /* basic: no "Authorization: Basic" */
    VD_BASIC_MALFORMED, /* basic: not base64 of user:password */
    VD_BASIC_MISMATCH,  /* basic: not one of the route's credentials */
    VD_JWT_MISSING,     /* jwt: no token in the header */
    VD_JWT_INVALID,     /* jwt: refused by jwt_verify (the reason text says why) */
    VD_JWT_CLAIMS       /* jwt: valid, but not carrying the route's jwt_claims */
};

/* verify_detail - what verify_check found, for an operator: counts,
 * clock skew and the profile's names, never a secret, signature or digest
 * byte.  Filled (all of it, zeroed first) when verify_input.detail is set. */
struct verify_detail {
    enum verify_why why_code;
    int has_ts;             /* a timestamp was read: skew_s is set */
    int64_t skew_s;         /* now - timestamp: > 0 old, < 0 in the future */
    long tolerance_s;       /* the window it is checked against */
    unsigned nsecrets;      /* secrets (keys, tokens) the verifier tried */
    unsigned ncand;         /* signatures found in the request */
    unsigned nfit;          /* ... of a length a tried key's algorithm gives */
    const char *sig_header; /* the profile's (first) header of its signature or token,
                               or NULL; a static string of the profile */
    const char *hole;       /* VD_CONTENT_HOLE: the placeholder ("header:X-Id", "url"),
                               hole_len bytes of the profile's content template */
    size_t hole_len;
};

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
    int64_t now_s;                /* current unix time, for the tolerance check */
    long tolerance_s;             /* replay window in seconds */
    struct verify_detail *detail; /* verify_check fills it when not NULL */
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
 * constant text for the log - never secret material - and in->detail (when
 * set) the finer why_code, counts and skew.  The detail costs no work on
 * the constant-time paths: it is counted from public lengths and kinds. */
int verify_check(const struct verifier *v, const struct verify_input *in, const char **reason);

/* verify_sign - the signature header value a producer would send for in,
 * using the first secret (for Ed25519: a whsk_ private key), into out (cap
 * bytes).  kv formats include the timestamp entry.  HG_ETOOBIG if out is too
 * small, HG_EINVAL if the profile cannot sign with that secret. */
int verify_sign(const struct verifier *v, const struct verify_input *in, char *out, size_t cap);

/* verify_token_digest - SHA-256 of a token, for constant-time comparison. */
void verify_token_digest(const char *tok, size_t n, unsigned char out[32]);

#endif
