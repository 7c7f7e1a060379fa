/*
 * verify_int.h - what verify.c, verify_key.c and verify_tpl.c share (not
 * for other modules): the inside of struct verifier, which verify_key.c
 * builds and frees and verify.c checks and signs with; and one request's
 * view of the values a signed content template ({body}, {url}, {form},
 * {header:NAME}, {json:/pointer}, ...) and a timestamp are made of
 * (verify_tpl.c).
 */
#ifndef HG_VERIFY_INT_H
#define HG_VERIFY_INT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct jwt_keys;
struct verify_input;

/* ---- verify_key.c: the verifier ---------------------------------------- */

/* vkey - one usable key of a verifier: an HMAC context, an EVP_PKEY, or a
 * token digest, made of secret number sec.  A secret's keys are adjacent
 * in struct verifier's k[] (verify.c counts secrets by it). */
/* mac_spares - an HMAC key's finished contexts, kept for reuse: reset to
 * the key (EVP_MAC_init with a NULL key reuses the key set before) costs
 * about 1.2 µs less than copying the key's context for every request
 * (EVP_MAC_CTX_dup allocates the HMAC state and its three digest states). */
#define VKEY_SPARES 8
struct mac_spares {
    pthread_mutex_t lock;
    size_t n;
    EVP_MAC_CTX *x[VKEY_SPARES];
};

struct vkey {
    enum prof_alg alg;
    EVP_MAC_CTX *mac;          /* HMAC: the keyed context, never used itself */
    struct mac_spares *spares; /* HMAC: copies of mac to reuse (verify.c); NULL when
                                * this library's reset fails its probe */
    EVP_PKEY *pk;              /* Ed25519 / ECDSA (public, or private when signing) */
    int priv;
    size_t sec;            /* the secret it was made of (an index) */
    unsigned char tok[32]; /* token / basic: SHA-256 of the secret */
};

/* verifier - built by verify_new / verify_new_signer (verify_key.c), and
 * read-only once verify_set_claims (if any) is done.  k[] holds n keys, in
 * the order of the secrets; for format jwt, n is the number of secrets
 * given and the keys are in jwt (k[] is left zeroed). */
struct verifier {
    const struct profile *p;
    EVP_MAC *mac;
    struct jwt_keys *jwt; /* format jwt */
    json_t *claims;       /* jwt: claims the route pins, or NULL */
    size_t n;
    struct vkey k[];
};

/* vkey_is_pk - 1 if a is a public-key algorithm (Ed25519, ECDSA P-256),
 * 0 for HMAC. */
static inline int vkey_is_pk(enum prof_alg a)
{
    return a == PROF_ALG_ED25519 || a == PROF_ALG_ECDSA_P256;
}

/* ---- verify_tpl.c: the signed content ---------------------------------- */

/* put_fn - where the content goes: a MAC, or a buffer (returns 1 / 0). */
typedef int (*put_fn)(void *c, const void *p, size_t n);

/* vt - one request under one profile; lazily validated body (JSON, form). */
struct vt {
    const struct profile *p;
    const struct verify_input *in;
    const char *ts; /* the timestamp as sent, or NULL */
    char tsown[48]; /* ts when it is not the header's (check_signed's buffers end with it) */
    char body_hex[2 * SHA256_DIGEST_LENGTH + 1]; /* {body_sha256}, when used */
    int json;                                    /* 0 not yet checked, 1 valid, -1 not JSON */
    char *form;                                  /* {form}: the sorted content, malloc'd */
    size_t form_len;
    int form_state;   /* 0 not built, 1 built, -1 not a form */
    const char *hole; /* the placeholder a walk could not produce (in p->content), or NULL */
    size_t hole_len;
};

/* vt_init - a view of in under p (cheap: nothing is parsed yet). */
void vt_init(struct vt *t, const struct profile *p, const struct verify_input *in);

/* vt_done - release what the view built. */
void vt_done(struct vt *t);

/* vt_walk - feed p's content template to put; 1, or 0 when a piece is
 * missing ({header:X} absent, {json:/p} not a string or number, a body
 * that is not JSON or not a form) or put failed: never a partial message
 * that could verify.  The missing piece's name ("header:X-Id", without the
 * braces) is left in t->hole / t->hole_len. */
int vt_walk(struct vt *t, put_fn put, void *c);

/* vt_body_value - the string (decoded) or number (as written) at JSON
 * pointer ptr of the body into out (cap bytes, NUL-terminated).  HG_OK;
 * HG_ENOID (absent, or another kind); HG_EBADJSON (not JSON);
 * HG_EDUPKEY (a member on the path occurs twice); HG_ETOOBIG. */
int vt_body_value(struct vt *t, const char *ptr, char *out, size_t cap, size_t *len);

/* vt_body_exists - 1 if the JSON body has a value (any kind) at ptr. */
int vt_body_exists(struct vt *t, const char *ptr);

/* vt_time - ts as unix seconds under unit (PROF_TS_*): digits (s or ms) or
 * an RFC 3339 date-time.  HG_OK or HG_ESTALE (malformed). */
int vt_time(int unit, const char *ts, int64_t *out);

#endif
