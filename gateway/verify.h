/*
 * verify.h - signature verification for a route: keyed MACs, constant time.
 *
 * A verifier is built once per route at startup from its profile and its
 * secrets (several = rotation: any one verifies).  Each secret's keyed
 * EVP_MAC context is prepared once and duplicated per request, which is
 * cheaper than keying HMAC every time.  Digests are compared with
 * CRYPTO_memcmp.  A verifier is read-only after verify_new and may be used
 * from many threads at once.
 */
#ifndef HG_VERIFY_H
#define HG_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct profile;
struct verifier;

/* secret - bytes of one secret (not a C string: may contain any byte). */
struct secret {
    unsigned char *data;
    size_t len;
};

/* verify_input - what one request offers.  Header values are NUL-terminated
 * C strings or NULL when absent.  Nothing is retained after the call. */
struct verify_input {
    const char *body;
    size_t body_len;
    const char *signature; /* value of profile->sig_header */
    const char *id;        /* header-borne id (for {id}), or NULL */
    const char *type;      /* header-borne type (for {type}), or NULL */
    const char *timestamp; /* value of profile->timestamp_header, or NULL */
    const char *nonce;     /* value of profile->nonce_header, or NULL */
    int64_t now_s;         /* current unix time, for the tolerance check */
    long tolerance_s;      /* replay window in seconds */
};

/* verify_new - build a verifier for profile p with n secrets (copied; the
 * caller keeps ownership of its own).  HG_EINVAL if n == 0, HG_ENOMEM. */
int verify_new(const struct profile *p, const struct secret *secrets, size_t n,
               struct verifier **out);

/* verify_free - release a verifier, wiping key material.  NULL-safe. */
void verify_free(struct verifier *v);

/* verify_check - HG_OK if the request carries a valid signature by any of the
 * secrets and (for timestamped schemes) its timestamp is within tolerance.
 * HG_ESIG: signature missing, malformed or wrong; HG_ESTALE: timestamp
 * missing, malformed or outside the window.  *reason (may be NULL) gets a
 * constant text for the log - never secret material. */
int verify_check(const struct verifier *v, const struct verify_input *in, const char **reason);

/* verify_sign - the header value a producer would send (prefix included)
 * for in, using secret index 0, into out (cap bytes).  Used by tests and the
 * sign command.  HG_ETOOBIG if out is too small. */
int verify_sign(const struct verifier *v, const struct verify_input *in, char *out, size_t cap);

#endif
