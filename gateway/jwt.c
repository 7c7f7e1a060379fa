/*
 * jwt.c - JSON Web Token verification and signing (see jwt.h).
 *
 * A token is taken apart strictly: exactly three base64url segments
 * (no padding, no stray bits), a header and a payload that are JSON
 * objects without duplicate members.  The header's alg selects the keys
 * bound to that algorithm; the signature over "header.payload" is checked
 * before anything of the payload is read, and only then the claims.
 * Invariants: a key belongs to exactly one algorithm (no key's bytes are
 * ever used under another one); MACs and body hashes are compared with
 * CRYPTO_memcmp; HMAC keys are wiped when the set is freed; reasons are
 * constant texts; every input is bounded (JWT_TOKEN_MAX, JWT_JWKS_MAX).
 */
#include "jwt.h"
#include "codec.h"
#include "err.h"
#include "pubkey.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define JWT_ALGS    (JWT_HS256 | JWT_RS256 | JWT_ES256)
#define JWT_SEG_MAX (JWT_TOKEN_MAX / 4 * 3) /* a decoded segment, at most */

struct jwt_key {
    unsigned alg;       /* one JWT_* bit */
    EVP_PKEY *pk;       /* RS256 / ES256: the public key */
    unsigned char *mac; /* HS256: the secret's bytes */
    size_t maclen;
    char *kid; /* NULL: none */
    size_t kidlen;
};

struct jwt_keys {
    unsigned algs;
    size_t n;
    struct jwt_key k[JWT_KEYS_MAX];
};

static const struct {
    const char *name;
    unsigned bit;
} jwt_algs[] = {{"HS256", JWT_HS256}, {"RS256", JWT_RS256}, {"ES256", JWT_ES256}};

static const char *alg_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(jwt_algs) / sizeof(jwt_algs[0]); i++)
        if (jwt_algs[i].bit == bit)
            return jwt_algs[i].name;
    return NULL;
}

static unsigned alg_bit(const char *name)
{
    for (size_t i = 0; name && i < sizeof(jwt_algs) / sizeof(jwt_algs[0]); i++)
        if (!strcmp(jwt_algs[i].name, name))
            return jwt_algs[i].bit;
    return 0;
}

static int b64u_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* b64u_decode - base64url of any length into out[0..cap): no padding unless
 * pad_ok (JWKS members), no bits left over.  HG_EINVAL / HG_ETOOBIG. */
static int b64u_decode(const char *in, size_t n, int pad_ok, unsigned char *out, size_t cap,
                       size_t *outlen)
{
    size_t pad = 0;
    while (pad_ok && pad < 2 && n && in[n - 1] == '=')
        n--, pad++;
    if (n % 4 == 1 || (pad && (n + pad) % 4))
        return HG_EINVAL;
    size_t o = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64u_val((unsigned char)in[i]);
        if (v < 0)
            return HG_EINVAL;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return HG_ETOOBIG;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc) /* non-zero bits after the last byte: not a canonical encoding */
        return HG_EINVAL;
    *outlen = o;
    return HG_OK;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_hex64(const unsigned char *s, size_t n)
{
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

void jwt_keys_free(struct jwt_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++) {
        EVP_PKEY_free(k->k[i].pk);
        if (k->k[i].mac)
            OPENSSL_cleanse(k->k[i].mac, k->k[i].maclen);
        free(k->k[i].mac);
        free(k->k[i].kid);
    }
    free(k);
}

size_t jwt_keys_count(const struct jwt_keys *k)
{
    return k ? k->n : 0;
}

/* add_pk - the public half of pk (freed) as a key of alg, with an optional kid. */
static int add_pk(struct jwt_keys *k, unsigned alg, EVP_PKEY *pk, const char *kid, size_t kidlen,
                  const char **why)
{
    EVP_PKEY *pub = pubkey_public(pk);
    EVP_PKEY_free(pk);
    if (k->n == JWT_KEYS_MAX) {
        EVP_PKEY_free(pub);
        *why = "more than 64 JWT keys";
        return HG_EINVAL;
    }
    struct jwt_key *e = &k->k[k->n];
    if (!pub || (kid && !(e->kid = malloc(kidlen + 1)))) {
        EVP_PKEY_free(pub);
        return HG_ENOMEM;
    }
    if (kid) {
        memcpy(e->kid, kid, kidlen);
        e->kid[kidlen] = '\0';
        e->kidlen = kidlen;
    }
    e->alg = alg;
    e->pk = pub;
    k->n++;
    return HG_OK;
}

static int add_mac(struct jwt_keys *k, const unsigned char *s, size_t n, const char **why)
{
    if (k->n == JWT_KEYS_MAX) {
        *why = "more than 64 JWT keys";
        return HG_EINVAL;
    }
    if (!n) {
        *why = "empty HS256 secret";
        return HG_EINVAL;
    }
    struct jwt_key *e = &k->k[k->n];
    if (!(e->mac = malloc(n)))
        return HG_ENOMEM;
    memcpy(e->mac, s, n);
    e->maclen = n;
    e->alg = JWT_HS256;
    k->n++;
    return HG_OK;
}

/* jwk_bytes - a base64url member of a JWK, decoded into out; 0 if absent. */
static int jwk_bytes(json_t *j, const char *name, unsigned char *out, size_t cap, size_t *len)
{
    json_t *v = json_object_get(j, name);
    return json_is_string(v) &&
           b64u_decode(json_string_value(v), json_string_length(v), 1, out, cap, len) == HG_OK;
}

/* jwk_key - the EVP_PKEY of an RSA or EC JWK (alg says which). */
static int jwk_key(json_t *j, unsigned alg, EVP_PKEY **pk, const char **why)
{
    unsigned char a[1100], b[64];
    size_t al = 0, bl = 0;
    if (alg == JWT_RS256) {
        if (!jwk_bytes(j, "n", a, sizeof(a), &al) || !jwk_bytes(j, "e", b, sizeof(b), &bl)) {
            *why = "JWKS: malformed RSA key (n, e)";
            return HG_EINVAL;
        }
        return pubkey_rsa(a, al, b, bl, pk, why);
    }
    if (!jwk_bytes(j, "x", a, sizeof(a), &al) || !jwk_bytes(j, "y", b, sizeof(b), &bl) ||
        al != 32 || bl != 32) {
        *why = "JWKS: malformed EC P-256 key (x, y)";
        return HG_EINVAL;
    }
    return pubkey_p256(a, b, pk, why);
}

/* jwk_add - one JWKS entry: added (*added += 1), skipped, or an error. */
static int jwk_add(struct jwt_keys *k, json_t *j, size_t *added, const char **why)
{
    if (!json_is_object(j)) {
        *why = "JWKS: a key is not a JSON object";
        return HG_EINVAL;
    }
    const char *kty = json_string_value(json_object_get(j, "kty"));
    json_t *use = json_object_get(j, "use"), *alg = json_object_get(j, "alg");
    json_t *kid = json_object_get(j, "kid");
    if ((kid && !json_is_string(kid)) || (use && !json_is_string(use)) ||
        (alg && !json_is_string(alg))) {
        *why = "JWKS: kid, use and alg must be strings";
        return HG_EINVAL;
    }
    if (kid && json_string_length(kid) > JWT_KID_MAX) {
        *why = "JWKS: kid longer than 255 bytes";
        return HG_EINVAL;
    }
    const char *crv = json_string_value(json_object_get(j, "crv"));
    unsigned want = !kty                                                 ? 0
                    : !strcmp(kty, "RSA")                                ? JWT_RS256
                    : !strcmp(kty, "EC") && crv && !strcmp(crv, "P-256") ? JWT_ES256
                                                                         : 0;
    if (!(want & k->algs) || (use && strcmp(json_string_value(use), "sig")) ||
        (alg && alg_bit(json_string_value(alg)) != want))
        return HG_OK; /* another key type, curve, use or algorithm: skipped */
    EVP_PKEY *pk = NULL;
    int rc = jwk_key(j, want, &pk, why);
    if (rc == HG_OK)
        rc = add_pk(k, want, pk, kid ? json_string_value(kid) : NULL,
                    kid ? json_string_length(kid) : 0, why);
    *added += rc == HG_OK;
    return rc;
}

static int add_jwks(struct jwt_keys *k, const unsigned char *s, size_t n, const char **why)
{
    if (!(k->algs & (JWT_RS256 | JWT_ES256))) {
        *why = "a JWKS needs RS256 or ES256";
        return HG_EINVAL;
    }
    if (n > JWT_JWKS_MAX) {
        *why = "JWKS larger than 64 KiB";
        return HG_EINVAL;
    }
    json_error_t e;
    json_t *doc = json_loadb((const char *)s, n, JSON_REJECT_DUPLICATES, &e);
    json_t *keys = json_object_get(doc, "keys");
    int rc = HG_EINVAL;
    size_t added = 0, i;
    if (!json_is_array(keys))
        *why = "malformed JWKS (a JSON object with a \"keys\" array expected)";
    else if (json_array_size(keys) > JWT_JWKS_KEYS_MAX)
        *why = "JWKS with more than 32 keys";
    else
        rc = HG_OK;
    for (i = 0; rc == HG_OK && i < json_array_size(keys); i++)
        rc = jwk_add(k, json_array_get(keys, i), &added, why);
    if (rc == HG_OK && !added) {
        *why = "JWKS without an RSA or EC P-256 signing key for the route's algorithms";
        rc = HG_EINVAL;
    }
    json_decref(doc);
    return rc;
}

/* add_secret - one secret of the route: a JWKS, a public key or an HMAC key. */
static int add_secret(struct jwt_keys *k, const struct secret *s, const char **why)
{
    size_t off = 0;
    while (off < s->len && is_space(s->data[off]))
        off++;
    if (off < s->len && s->data[off] == '{')
        return add_jwks(k, s->data, s->len, why);
    EVP_PKEY *pk = NULL;
    int priv = 0, r = pubkey_parse(s->data, s->len, 0, &pk, &priv, why);
    if (r < 0)
        return r;
    if (r == 0) {
        enum pubkey_kind kind = pubkey_kind(pk);
        unsigned alg = kind == PUBKEY_RSA ? JWT_RS256 : kind == PUBKEY_EC_P256 ? JWT_ES256 : 0;
        if (alg & k->algs)
            return add_pk(k, alg, pk, NULL, 0, why);
        EVP_PKEY_free(pk);
        /* 64 hex digits may be an HMAC secret; every other key form never is one */
        if (!(kind == PUBKEY_ED25519 && is_hex64(s->data, s->len) && (k->algs & JWT_HS256))) {
            *why = "a key whose type fits none of the route's JWT algorithms";
            return HG_EINVAL;
        }
    }
    if (!(k->algs & JWT_HS256)) {
        *why = "not a public key (PEM, base64 SPKI or a JWKS expected)";
        return HG_EINVAL;
    }
    return add_mac(k, s->data, s->len, why);
}

int jwt_keys_new(const struct secret *secrets, size_t n, unsigned algs, struct jwt_keys **out,
                 const char **why)
{
    const char *unused;
    if (!why)
        why = &unused;
    *out = NULL;
    *why = NULL;
    if (!algs || (algs & ~JWT_ALGS)) {
        *why = "no valid JWT algorithm";
        return HG_EINVAL;
    }
    struct jwt_keys *k = calloc(1, sizeof(*k));
    if (!k)
        return HG_ENOMEM;
    k->algs = algs;
    int rc = HG_OK;
    for (size_t i = 0; i < n && rc == HG_OK; i++)
        rc = add_secret(k, &secrets[i], why);
    if (rc == HG_OK && !k->n) {
        *why = "no JWT key (a route needs at least one secret)";
        rc = HG_EINVAL;
    }
    if (rc) {
        if (!*why)
            *why = rc == HG_ENOMEM ? "out of memory" : "malformed JWT key";
        jwt_keys_free(k);
        return rc;
    }
    *out = k;
    return HG_OK;
}

/* token_parts - the three segments' ends: d1, d2 the two dots. */
static int token_parts(const char *t, size_t len, size_t *d1, size_t *d2)
{
    size_t dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (dots == 2)
                return 0;
            *(dots++ ? d2 : d1) = i;
        } else if (b64u_val((unsigned char)t[i]) < 0) {
            return 0;
        }
    }
    return dots == 2 && *d1 > 0 && *d2 > *d1 + 1 && *d2 + 1 < len;
}

/* segment - a base64url segment decoded and parsed as a JSON object. */
static json_t *segment(const char *s, size_t n)
{
    unsigned char buf[JWT_SEG_MAX];
    size_t len = 0;
    if (b64u_decode(s, n, 0, buf, sizeof(buf), &len) != HG_OK)
        return NULL;
    json_error_t e;
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &e);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* header - the alg bit and kid of a token's header; 0 with *why if unusable. */
static unsigned header(const char *s, size_t n, const struct jwt_keys *k, char *kid, size_t *kidlen,
                       const char **why)
{
    json_t *h = segment(s, n);
    json_t *a = json_object_get(h, "alg"), *id = json_object_get(h, "kid");
    unsigned alg = alg_bit(json_string_value(a));
    *why = !h                           ? "malformed JWT header"
           : !json_is_string(a)         ? "JWT header without alg"
           : json_object_get(h, "crit") ? "JWT header with crit (not supported)"
           : id && !json_is_string(id)  ? "malformed JWT kid"
           : !alg                       ? "unsupported JWT alg"
           : !(alg & k->algs)           ? "JWT alg not allowed for this route"
                                        : NULL;
    *kidlen = 0;
    if (!*why && id) {
        size_t l = json_string_length(id);
        *kidlen = l <= JWT_KID_MAX ? l : JWT_KID_MAX + 1; /* too long: matches no key */
        memcpy(kid, json_string_value(id), l <= JWT_KID_MAX ? l : 0);
    }
    json_decref(h);
    return *why ? 0 : alg;
}

/* key_ok - 1 if sig is key e's signature of in. */
static int key_ok(const struct jwt_key *e, const unsigned char *sig, size_t sl, const char *in,
                  size_t inlen)
{
    if (e->alg != JWT_HS256)
        return pubkey_verify(e->pk, e->alg == JWT_ES256 ? PUBKEY_SIG_RAW : 0, sig, sl, in, inlen) ==
               1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdl = 0;
    int ok = HMAC(EVP_sha256(), e->mac, (int)e->maclen, (const unsigned char *)in, inlen, md,
                  &mdl) != NULL &&
             mdl == SHA256_DIGEST_LENGTH && sl == mdl && !CRYPTO_memcmp(md, sig, mdl);
    OPENSSL_cleanse(md, sizeof(md));
    return ok;
}

/* signed_by - 1 if one of k's keys of alg (kid matching, when both have
 * one; at most JWT_TRY_MAX) signed in. */
static int signed_by(const struct jwt_keys *k, unsigned alg, const char *kid, size_t kidlen,
                     const unsigned char *sig, size_t sl, const char *in, size_t inlen)
{
    int tried = 0;
    for (size_t i = 0; i < k->n && tried < JWT_TRY_MAX; i++) {
        const struct jwt_key *e = &k->k[i];
        if (e->alg != alg ||
            (kidlen && e->kid && (e->kidlen != kidlen || memcmp(e->kid, kid, kidlen))))
            continue;
        tried++;
        if (key_ok(e, sig, sl, in, inlen))
            return 1;
    }
    return 0;
}

static int str_is(json_t *v, const char *want)
{
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           !memcmp(json_string_value(v), want, json_string_length(v));
}

/* audience - 1 if aud is want or an array holding it. */
static int audience(json_t *aud, const char *want)
{
    size_t i;
    json_t *v;
    if (json_is_string(aud))
        return str_is(aud, want);
    json_array_foreach(aud, i, v)
    {
        if (str_is(v, want))
            return 1;
    }
    return 0;
}

/* body_hash - 1 if the claim v is the encoded SHA-256 of the body. */
static int body_hash(json_t *v, const struct jwt_want *w)
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    char want[2 * SHA256_DIGEST_LENGTH + 1], got[2 * SHA256_DIGEST_LENGTH + 1];
    if (!json_is_string(v))
        return 0;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    SHA256((const unsigned char *)(w->body ? w->body : ""), w->body ? w->body_len : 0, h);
    if (w->body_hex) {
        hex_encode(h, sizeof(h), want);
    } else {
        b64url_encode(h, sizeof(h), want);
        while (n && s[n - 1] == '=') /* padding optional */
            n--;
    }
    size_t wl = strlen(want);
    if (n != wl)
        return 0;
    for (size_t i = 0; i < n; i++) /* hex in either case */
        got[i] = (char)(w->body_hex && s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
    return !CRYPTO_memcmp(got, want, wl);
}

/* when - a time claim: 0 absent, 1 a number (*t), -1 anything else. */
static int when(json_t *c, const char *name, double *t)
{
    json_t *v = json_object_get(c, name);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    *t = json_number_value(v);
    return 1;
}

static int check_times(json_t *c, const struct jwt_want *w, const char **why)
{
    double lee = w->leeway_s > 0 ? (double)w->leeway_s : 0, now = (double)w->now_s, t = 0;
    int r = when(c, "exp", &t);
    *why = r == 0 ? "JWT without exp" : r < 0 ? "malformed exp claim" : NULL;
    if (!*why && !(now < t + lee))
        *why = "JWT expired";
    if (!*why && (r = when(c, "nbf", &t)) != 0)
        *why = r < 0 ? "malformed nbf claim" : t > now + lee ? "JWT not valid yet (nbf)" : NULL;
    if (!*why && (r = when(c, "iat", &t)) != 0)
        *why = r < 0 ? "malformed iat claim" : t > now + lee ? "JWT issued in the future" : NULL;
    return *why ? HG_ESTALE : HG_OK;
}

static int check_claims(json_t *c, const struct jwt_want *w, const char **why)
{
    size_t i = 0;
    if (w->nissuers) {
        json_t *iss = json_object_get(c, "iss");
        while (i < w->nissuers && !str_is(iss, w->issuers[i]))
            i++;
        if (i == w->nissuers) {
            *why = "JWT iss mismatch";
            return HG_ESIG;
        }
    }
    if (w->audience && !audience(json_object_get(c, "aud"), w->audience)) {
        *why = "JWT aud mismatch";
        return HG_ESIG;
    }
    if (w->subject && !str_is(json_object_get(c, "sub"), w->subject)) {
        *why = "JWT sub mismatch";
        return HG_ESIG;
    }
    int rc = check_times(c, w, why);
    if (rc)
        return rc;
    if (w->body_claim && !body_hash(json_object_get(c, w->body_claim), w)) {
        *why = "JWT body hash mismatch";
        return HG_ESIG;
    }
    return HG_OK;
}

int jwt_verify(const struct jwt_keys *k, const char *token, size_t len, const struct jwt_want *w,
               const char **why)
{
    const char *unused;
    if (!why)
        why = &unused;
    size_t d1 = 0, d2 = 0, kidlen = 0, sl = 0;
    char kid[JWT_KID_MAX + 1];
    unsigned char sig[PUBKEY_SIG_MAX];
    *why = !k || !w || !token || !len           ? "missing token"
           : len > JWT_TOKEN_MAX                ? "JWT longer than 8 KiB"
           : !token_parts(token, len, &d1, &d2) ? "malformed JWT (three base64url parts expected)"
                                                : NULL;
    if (*why)
        return HG_ESIG;
    unsigned alg = header(token, d1, k, kid, &kidlen, why);
    if (!alg)
        return HG_ESIG;
    if (b64u_decode(token + d2 + 1, len - d2 - 1, 0, sig, sizeof(sig), &sl) != HG_OK) {
        *why = "malformed JWT signature";
        return HG_ESIG;
    }
    if (!signed_by(k, alg, kid, kidlen, sig, sl, token, d2)) {
        *why = "JWT signature mismatch";
        return HG_ESIG;
    }
    json_t *c = segment(token + d1 + 1, d2 - d1 - 1);
    int rc = c ? check_claims(c, w, why) : HG_ESIG;
    json_decref(c);
    if (!c)
        *why = "malformed JWT payload";
    if (rc == HG_OK)
        *why = NULL;
    return rc;
}

/* sign_input - "b64url(header).b64url(claims)" into t (JWT_TOKEN_MAX + 1 bytes). */
static int sign_input(unsigned alg, const char *kid, const char *claims_json, char *t, size_t *tl)
{
    json_error_t e;
    json_t *c = json_loads(claims_json, JSON_REJECT_DUPLICATES, &e);
    json_t *h = json_pack("{ss ss}", "alg", alg_name(alg), "typ", "JWT");
    int rc = c && json_is_object(c) && h ? HG_OK : HG_EINVAL;
    if (!rc && kid && json_object_set_new(h, "kid", json_string(kid)))
        rc = HG_EINVAL;
    char *hs = rc ? NULL : json_dumps(h, JSON_COMPACT);
    char *cs = rc ? NULL : json_dumps(c, JSON_COMPACT);
    json_decref(c);
    json_decref(h);
    if (!rc && (!hs || !cs))
        rc = HG_ENOMEM;
    size_t hl = hs ? strlen(hs) : 0, cl = cs ? strlen(cs) : 0;
    if (!rc && (hl + 2) / 3 * 4 + 1 + (cl + 2) / 3 * 4 + 1 > JWT_TOKEN_MAX)
        rc = HG_ETOOBIG;
    if (!rc) {
        b64url_encode((const unsigned char *)hs, hl, t);
        size_t n = strlen(t);
        t[n++] = '.';
        b64url_encode((const unsigned char *)cs, cl, t + n);
        *tl = n + strlen(t + n);
    }
    free(hs);
    free(cs);
    return rc;
}

/* sign_bytes - the signature of t[0..tl) under alg with key. */
static int sign_bytes(unsigned alg, const struct secret *key, const char *t, size_t tl,
                      unsigned char *sig, size_t *sl)
{
    if (alg == JWT_HS256) {
        unsigned mdl = 0;
        if (!key->len ||
            !HMAC(EVP_sha256(), key->data, (int)key->len, (const unsigned char *)t, tl, sig, &mdl))
            return HG_EINVAL;
        *sl = mdl;
        return HG_OK;
    }
    EVP_PKEY *pk = NULL;
    const char *why = NULL;
    int priv = 0, rc = pubkey_parse(key->data, key->len, 1, &pk, &priv, &why);
    enum pubkey_kind want = alg == JWT_RS256 ? PUBKEY_RSA : PUBKEY_EC_P256;
    if (rc == HG_OK && (!priv || pubkey_kind(pk) != want))
        rc = HG_EINVAL;
    if (rc == HG_OK)
        rc = pubkey_sign(pk, alg == JWT_ES256 ? PUBKEY_SIG_RAW : 0, t, tl, sig, PUBKEY_SIG_MAX, sl);
    EVP_PKEY_free(pk);
    return rc > 0 ? HG_EINVAL : rc;
}

int jwt_sign(unsigned alg, const struct secret *key, const char *kid, const char *claims_json,
             char *out, size_t cap)
{
    if (!alg_name(alg) || !key || !key->data || !claims_json || !out)
        return HG_EINVAL;
    char *t = malloc(JWT_TOKEN_MAX + 2 + 4);
    unsigned char sig[PUBKEY_SIG_MAX];
    size_t tl = 0, sl = 0;
    if (!t)
        return HG_ENOMEM;
    int rc = sign_input(alg, kid, claims_json, t, &tl);
    if (!rc)
        rc = sign_bytes(alg, key, t, tl, sig, &sl);
    size_t total = tl + 1 + (sl + 2) / 3 * 4;
    if (!rc && (total > JWT_TOKEN_MAX || total >= cap))
        rc = HG_ETOOBIG;
    if (!rc) {
        memcpy(out, t, tl);
        out[tl] = '.';
        char enc[PUBKEY_SIG_MAX / 3 * 4 + 8];
        b64url_encode(sig, sl, enc);
        memcpy(out + tl + 1, enc, strlen(enc) + 1);
    }
    free(t);
    return rc;
}
