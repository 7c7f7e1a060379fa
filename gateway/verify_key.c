/*
 * verify_key.c - a verifier's keys (see verify.h): built once per route
 * from its profile and its secrets, and released.  HMAC secrets become
 * keyed EVP_MAC contexts (one per secret and algorithm of the profile),
 * public and
 * private keys EVP_PKEYs (pubkey.c), JWT keys a jwt_keys set (jwt.c),
 * tokens and Basic credentials SHA-256 digests; a route's pinned JWT claims
 * are kept with them.
 *
 * Why a file of its own: building a verifier is done once, at load, and
 * shares nothing with checking a request (verify.c) but struct verifier
 * (verify_int.h).  Calls run one way: verify.c (verify_token_digest) and
 * the modules that build verifiers call here; this file calls pubkey.c,
 * jwt.c and codec.c, never verify.c or verify_tpl.c.
 *
 * Invariants: a secret is one thing - under a profile with public-key
 * algorithms, a secret in a key form is never also an HMAC key (anyone may
 * know a public key); key material is wiped (OPENSSL_cleanse) from every
 * temporary buffer and from the verifier when it is freed; a *why is a
 * constant text, never secret material.  A verifier is read-only once
 * built, apart from verify_set_claims before it is used.
 */
#include "verify.h"
#include "codec.h"
#include "err.h"
#include "jwt.h"
#include "profile.h"
#include "pubkey.h"
#include "verify_int.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

void verify_token_digest(const char *tok, size_t n, unsigned char out[32])
{
    SHA256((const unsigned char *)tok, n, out);
}

static const char *digest_name(enum prof_alg a)
{
    return a == PROF_ALG_HMAC_SHA1 ? "SHA1" : a == PROF_ALG_HMAC_SHA512 ? "SHA512" : "SHA256";
}

/* algs - the algorithms p can be signed with, deduplicated; returns count. */
static size_t algs(const struct profile *p, enum prof_alg out[PROF_MAX_VER])
{
    if (p->fmt == PROF_FMT_VALUE) {
        out[0] = p->alg;
        return 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nver; i++) {
        size_t k = 0;
        while (k < n && out[k] != p->ver[i].alg)
            k++;
        if (k == n)
            out[n++] = p->ver[i].alg;
    }
    return n;
}

static int starts(const struct secret *s, const char *pfx)
{
    size_t n = strlen(pfx);
    return s->len >= n && !memcmp(s->data, pfx, n);
}

/* hmac_key - the HMAC key bytes of s under p's secret encoding, into buf;
 * 1 when s is an Ed25519 key (not for HMAC), -1 when malformed. */
static int hmac_key(const struct profile *p, const struct secret *s, unsigned char *buf, size_t cap,
                    const unsigned char **key, size_t *klen)
{
    if (starts(s, "whpk_") || starts(s, "whsk_"))
        return 1;
    if (p->secret == PROF_SECRET_RAW) {
        *key = s->data;
        *klen = s->len;
        return 0;
    }
    size_t off = starts(s, "whsec_") ? 6 : 0;
    if (b64_decode((const char *)s->data + off, s->len - off, buf, cap, klen) || !*klen) {
        OPENSSL_cleanse(buf, cap);
        return -1;
    }
    *key = buf;
    return 0;
}

/* add_pk - s as a key of algorithm a into k: HG_OK (k->pk set, or left
 * NULL when s is no key of that kind), HG_EINVAL with *why. */
static int add_pk(enum prof_alg a, const struct secret *s, int want_priv, struct vkey *k,
                  const char **why)
{
    EVP_PKEY *pk = NULL;
    int priv = 0, r = pubkey_parse(s->data, s->len, want_priv, &pk, &priv, why);
    if (r > 0)
        return HG_OK; /* not a key: an HMAC secret, say */
    if (r < 0)
        return HG_EINVAL;
    enum pubkey_kind want = a == PROF_ALG_ED25519 ? PUBKEY_ED25519 : PUBKEY_EC_P256;
    if (pubkey_kind(pk) != want) {
        EVP_PKEY_free(pk);
        return HG_OK;
    }
    k->pk = pk;
    k->priv = priv;
    return HG_OK;
}

/* pubkey_is_key - 1 if s is in a key form (PEM, whpk_/whsk_, 64 hex
 * digits, base64 SPKI), well-formed or not: never an HMAC secret then. */
static int pubkey_is_key(const struct secret *s)
{
    EVP_PKEY *pk = NULL;
    int priv = 0;
    const char *why = NULL;
    int r = pubkey_parse(s->data, s->len, 0, &pk, &priv, &why);
    EVP_PKEY_free(pk);
    return r <= 0 && r != HG_ENOMEM;
}

/* reset_works - 1 if a copy of mac, fed some bytes and left unfinished,
 * then reset with EVP_MAC_init(x, NULL, 0, NULL), gives the same MAC as a
 * fresh copy.  OpenSSL 3.0.0-3.0.2's HMAC (and perhaps a provider loaded
 * at run time) accepted that reset without doing it; such a key keeps no
 * spares and copies its context per request (verify.c mac_take). */
static int reset_works(const EVP_MAC_CTX *mac)
{
    static const unsigned char a[] = "hookgate reset probe: abandoned", b[] = "the content";
    unsigned char m1[EVP_MAX_MD_SIZE], m2[EVP_MAX_MD_SIZE];
    size_t l1 = 0, l2 = 0;
    EVP_MAC_CTX *x = EVP_MAC_CTX_dup(mac), *y = EVP_MAC_CTX_dup(mac);
    int ok = x && y && EVP_MAC_update(x, a, sizeof(a)) && EVP_MAC_init(x, NULL, 0, NULL) &&
             EVP_MAC_update(x, b, sizeof(b)) && EVP_MAC_final(x, m1, &l1, sizeof(m1)) &&
             EVP_MAC_update(y, b, sizeof(b)) && EVP_MAC_final(y, m2, &l2, sizeof(m2)) && l1 == l2 &&
             CRYPTO_memcmp(m1, m2, l1) == 0;
    EVP_MAC_CTX_free(x);
    EVP_MAC_CTX_free(y);
    OPENSSL_cleanse(m1, sizeof(m1));
    OPENSSL_cleanse(m2, sizeof(m2));
    return ok;
}

/* add_mac - s as an HMAC key of algorithm a into k (k->mac NULL: not one). */
static int add_mac(struct verifier *v, enum prof_alg a, const struct secret *s, struct vkey *k,
                   const char **why)
{
    unsigned char buf[512];
    const unsigned char *key;
    size_t klen;
    int r = hmac_key(v->p, s, buf, sizeof(buf), &key, &klen);
    if (r > 0)
        return HG_OK;
    if (r < 0) {
        *why = "malformed whsec_ secret (base64 expected)";
        return HG_EINVAL;
    }
    int rc = HG_OK;
    if (!v->mac && !(v->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)))
        rc = HG_ENOMEM;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)digest_name(a), 0),
                           OSSL_PARAM_construct_end()};
    if (!rc && (!(k->mac = EVP_MAC_CTX_new(v->mac)) || !EVP_MAC_init(k->mac, key, klen, params)))
        rc = HG_ENOMEM;
    if (!rc && reset_works(k->mac)) {
        if (!(k->spares = calloc(1, sizeof(*k->spares))))
            rc = HG_ENOMEM;
        else
            pthread_mutex_init(&k->spares->lock, NULL);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

static int build(const struct profile *p, const struct secret *secrets, size_t n, int want_priv,
                 struct verifier **out, const char **why)
{
    *why = NULL;
    if (!p)
        return HG_EINVAL;
    enum prof_alg al[PROF_MAX_VER];
    int keyed = p->fmt == PROF_FMT_VALUE || p->fmt == PROF_FMT_KV || p->fmt == PROF_FMT_LIST;
    size_t na = keyed ? algs(p, al) : 0;
    struct verifier *v = calloc(1, sizeof(*v) + (n * (na ? na : 1)) * sizeof(struct vkey));
    if (!v)
        return HG_ENOMEM;
    v->p = p;
    int rc = HG_OK;
    if (p->fmt == PROF_FMT_TOKEN || p->fmt == PROF_FMT_BASIC)
        for (size_t i = 0; i < n; i++) {
            v->k[v->n].sec = i;
            verify_token_digest((const char *)secrets[i].data, secrets[i].len, v->k[v->n++].tok);
        }
    if (p->fmt == PROF_FMT_JWT && !want_priv)
        rc = jwt_keys_new(secrets, n, p->jwt.algs, &v->jwt, why);
    if (p->fmt == PROF_FMT_JWT && !rc) /* sign, or count: the secrets as given */
        v->n = n;
    int has_pk = 0;
    for (size_t a = 0; a < na; a++)
        has_pk |= vkey_is_pk(al[a]);
    for (size_t i = 0; i < n && rc == HG_OK; i++) {
        /* each secret is one thing: a key of a profile with public-key
         * algorithms is never also an HMAC key (anyone may know a public
         * key: Standard Webhooks' v1 must not verify with its text) */
        int key = has_pk && pubkey_is_key(&secrets[i]);
        for (size_t a = 0; a < na && rc == HG_OK; a++) {
            if (vkey_is_pk(al[a]) != key)
                continue;
            struct vkey *k = &v->k[v->n];
            k->alg = al[a];
            k->sec = i;
            rc = key ? add_pk(al[a], &secrets[i], want_priv, k, why)
                     : add_mac(v, al[a], &secrets[i], k, why);
            v->n += k->pk || k->mac;
        }
    }
    if (rc == HG_OK && !v->n && p->fmt != PROF_FMT_NONE) {
        *why = p->fmt == PROF_FMT_TOKEN || p->fmt == PROF_FMT_BASIC
                   ? "a token route needs at least one secret"
                   : "no secret is usable by this profile's algorithms";
        rc = HG_EINVAL;
    }
    if (rc) {
        if (!*why && rc == HG_EINVAL)
            *why = "malformed key";
        verify_free(v);
        return rc;
    }
    *out = v;
    return HG_OK;
}

int verify_new(const struct profile *p, const struct secret *secrets, size_t n,
               struct verifier **out, const char **why)
{
    return build(p, secrets, n, 0, out, why);
}

int verify_new_signer(const struct profile *p, const struct secret *secret, struct verifier **out,
                      const char **why)
{
    return build(p, secret, p->fmt == PROF_FMT_NONE ? 0 : 1, 1, out, why);
}

void verify_free(struct verifier *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        struct mac_spares *s = v->k[i].spares;
        if (s) {
            for (size_t j = 0; j < s->n; j++)
                EVP_MAC_CTX_free(s->x[j]);
            pthread_mutex_destroy(&s->lock);
            free(s);
        }
        EVP_MAC_CTX_free(v->k[i].mac);
        EVP_PKEY_free(v->k[i].pk);
    }
    EVP_MAC_free(v->mac);
    jwt_keys_free(v->jwt);
    json_decref(v->claims);
    OPENSSL_cleanse(v->k, v->n * sizeof(struct vkey));
    free(v);
}

void verify_set_claims(struct verifier *v, json_t *claims)
{
    json_decref(v->claims);
    v->claims = json_incref(claims);
}
