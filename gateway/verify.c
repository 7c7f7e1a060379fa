/*
 * verify.c - signature schemes interpreted from a profile (see verify.h).
 *
 * For HMAC the signed content is never assembled: the template is walked and
 * each piece fed to the MAC, so a 1 MiB body costs no copy.  Ed25519 (pure)
 * needs the whole message, which is assembled in a temporary buffer.
 * Invariant: no function here logs or returns secret or digest bytes.
 */
#include "verify.h"
#include "codec.h"
#include "err.h"
#include "profile.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_DIGEST_MAX 64
#define VERIFY_SIGS_MAX   8
#define VERIFY_HDR_MAX    2048 /* a signature header longer than this is refused */
#define VERIFY_ED_MAX     16   /* Ed25519 verifications per request, at most */

struct vkey {
    enum prof_alg alg;
    EVP_MAC_CTX *mac; /* HMAC */
    EVP_PKEY *pk;     /* Ed25519 (public, or private when signing) */
    int priv;
    unsigned char tok[32]; /* token format: SHA-256 of the token */
};

struct verifier {
    const struct profile *p;
    EVP_MAC *mac;
    size_t n;
    struct vkey k[];
};

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

/* ed_key - an Ed25519 key from whpk_ (32 raw / 44 SPKI DER) or whsk_ (32 seed
 * / 64 seed+public); NULL if s is neither or malformed. */
static EVP_PKEY *ed_key(const struct secret *s, int *priv, int *bad)
{
    unsigned char raw[128];
    size_t n = 0;
    *priv = starts(s, "whsk_");
    if (!starts(s, "whpk_") && !*priv)
        return NULL;
    if (b64_decode((const char *)s->data + 5, s->len - 5, raw, sizeof(raw), &n)) {
        *bad = 1;
        return NULL;
    }
    EVP_PKEY *k = NULL;
    if (*priv && (n == 32 || n == 64))
        k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
    else if (!*priv && n == 32)
        k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
    else if (!*priv && n == 44) {
        const unsigned char *q = raw;
        k = d2i_PUBKEY(NULL, &q, (long)n);
        if (k && (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519 || q != raw + n)) {
            EVP_PKEY_free(k);
            k = NULL;
        }
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    *bad = k == NULL;
    return k;
}

/* hmac_key - the HMAC key bytes of s under p's secret encoding, into buf. */
static int hmac_key(const struct profile *p, const struct secret *s, unsigned char *buf, size_t cap,
                    const unsigned char **key, size_t *klen)
{
    if (starts(s, "whpk_") || starts(s, "whsk_"))
        return 1; /* an Ed25519 key: not for HMAC */
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

int verify_new(const struct profile *p, const struct secret *secrets, size_t n,
               struct verifier **out, const char **why)
{
    *why = NULL;
    if (!p)
        return HG_EINVAL;
    enum prof_alg al[PROF_MAX_VER];
    size_t na = p->fmt == PROF_FMT_TOKEN || p->fmt == PROF_FMT_NONE ? 0 : algs(p, al);
    struct verifier *v = calloc(1, sizeof(*v) + (n * (na ? na : 1)) * sizeof(struct vkey));
    if (!v)
        return HG_ENOMEM;
    v->p = p;
    int rc = HG_OK;
    if (p->fmt == PROF_FMT_TOKEN) {
        for (size_t i = 0; i < n; i++)
            verify_token_digest((const char *)secrets[i].data, secrets[i].len, v->k[v->n++].tok);
    }
    for (size_t a = 0; a < na && rc == HG_OK; a++) {
        for (size_t i = 0; i < n && rc == HG_OK; i++) {
            struct vkey *k = &v->k[v->n];
            k->alg = al[a];
            if (al[a] == PROF_ALG_ED25519) {
                int bad = 0;
                if ((k->pk = ed_key(&secrets[i], &k->priv, &bad)))
                    v->n++;
                else if (bad) {
                    *why = "malformed Ed25519 key (whpk_/whsk_ + base64 of 32 or 44/64 bytes)";
                    rc = HG_EINVAL;
                }
                continue;
            }
            unsigned char buf[512];
            const unsigned char *key;
            size_t klen;
            int r = hmac_key(p, &secrets[i], buf, sizeof(buf), &key, &klen);
            if (r > 0)
                continue;
            if (r < 0) {
                *why = "malformed whsec_ secret (base64 expected)";
                rc = HG_EINVAL;
                break;
            }
            if (!v->mac && !(v->mac = EVP_MAC_fetch(NULL, "HMAC", NULL))) {
                rc = HG_ENOMEM;
                break;
            }
            OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string("digest", (char *)digest_name(al[a]), 0),
                OSSL_PARAM_construct_end()};
            k->mac = EVP_MAC_CTX_new(v->mac);
            v->n++;
            if (!k->mac || !EVP_MAC_init(k->mac, key, klen, params))
                rc = HG_ENOMEM;
            OPENSSL_cleanse(buf, sizeof(buf));
        }
    }
    if (rc == HG_OK && !v->n && p->fmt != PROF_FMT_NONE) {
        *why = p->fmt == PROF_FMT_TOKEN ? "a token route needs at least one secret"
                                        : "no secret is usable by this profile's algorithms";
        rc = HG_EINVAL;
    }
    if (rc) {
        verify_free(v);
        return rc;
    }
    *out = v;
    return HG_OK;
}

void verify_free(struct verifier *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        EVP_MAC_CTX_free(v->k[i].mac);
        EVP_PKEY_free(v->k[i].pk);
    }
    EVP_MAC_free(v->mac);
    OPENSSL_cleanse(v->k, v->n * sizeof(struct vkey));
    free(v);
}

/* the message: pieces are handed to put(), either a MAC or a buffer */
typedef int (*put_fn)(void *c, const void *p, size_t n);

static int put_mac(void *c, const void *p, size_t n)
{
    return EVP_MAC_update(c, p, n);
}

struct mbuf {
    unsigned char *p;
    size_t len, cap;
};

static int put_buf(void *c, const void *p, size_t n)
{
    struct mbuf *b = c;
    if (b->len + n > b->cap)
        return 0;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 1;
}

static int put_str(put_fn put, void *c, const char *s)
{
    return s && put(c, s, strlen(s));
}

/* body_hash - hex SHA-256 of the body into hex when the template uses it
 * (once per request, however many keys and signatures are tried). */
static void body_hash(const struct profile *p, const struct verify_input *in,
                      char hex[2 * SHA256_DIGEST_LENGTH + 1])
{
    hex[0] = '\0';
    if (profile_uses(p, "{body_sha256}")) {
        unsigned char h[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)in->body, in->body_len, h);
        hex_encode(h, sizeof(h), hex);
    }
}

/* walk - the template of p over in (ts: the timestamp as sent). */
static int walk(const struct profile *p, const struct verify_input *in, const char *ts,
                const char *body_hex, put_fn put, void *c)
{
    const char *s = p->content;
    while (*s) {
        const char *open = strchr(s, '{');
        size_t lit = open ? (size_t)(open - s) : strlen(s);
        if (lit && !put(c, s, lit))
            return 0;
        if (!open)
            break;
        const char *close = strchr(open, '}');
        size_t n = (size_t)(close - open - 1);
        const char *name = open + 1;
        int ok;
        if (n == 4 && !memcmp(name, "body", 4))
            ok = in->body_len == 0 || put(c, in->body, in->body_len);
        else if (n == 11 && !memcmp(name, "body_sha256", 11))
            ok = put_str(put, c, body_hex);
        else if (n == 2 && !memcmp(name, "id", 2))
            ok = put_str(put, c, in->id);
        else if (n == 4 && !memcmp(name, "type", 4))
            ok = put_str(put, c, in->type);
        else if (n == 9 && !memcmp(name, "timestamp", 9))
            ok = put_str(put, c, ts);
        else
            ok = put_str(put, c, in->nonce);
        if (!ok)
            return 0;
        s = close + 1;
    }
    return 1;
}

/* message - the assembled content for Ed25519 into m (caller frees m->p);
 * 0 with m->p NULL when it cannot be built: never a partial message. */
static int message(const struct profile *p, const struct verify_input *in, const char *ts,
                   const char *body_hex, struct mbuf *m)
{
    m->cap = in->body_len + strlen(p->content) + (size_t)4 * 512 + 64;
    m->len = 0;
    if (!(m->p = malloc(m->cap)))
        return 0;
    if (walk(p, in, ts, body_hex, put_buf, m))
        return 1;
    free(m->p);
    m->p = NULL;
    return 0;
}

struct cand {
    enum prof_alg alg;
    size_t len;
    unsigned char b[VERIFY_DIGEST_MAX];
};

static int decode(const struct profile *p, const char *s, size_t n, struct cand *c)
{
    if (p->enc == PROF_ENC_HEX) {
        c->len = n / 2;
        return n % 2 || !c->len || c->len > VERIFY_DIGEST_MAX || hex_decode(s, n, c->b, c->len);
    }
    return b64_decode(s, n, c->b, sizeof(c->b), &c->len) || !c->len;
}

static int version_alg(const struct profile *p, const char *t, size_t n, enum prof_alg *a)
{
    for (size_t i = 0; i < p->nver; i++)
        if (strlen(p->ver[i].tag) == n && !memcmp(p->ver[i].tag, t, n)) {
            *a = p->ver[i].alg;
            return 1;
        }
    return 0;
}

/* candidates - the signatures in header value sig; the kv timestamp entry
 * (key of the first PROF_SIG source) goes to ts.  Returns the count. */
static size_t candidates(const struct profile *p, const char *sig, struct cand *c, char *ts,
                         size_t tscap)
{
    size_t nc = 0;
    if (p->fmt == PROF_FMT_VALUE) {
        size_t pl = p->sig_prefix ? strlen(p->sig_prefix) : 0;
        if (pl && !strncmp(sig, p->sig_prefix, pl))
            sig += pl;
        else if (pl && !p->sig_prefix_optional)
            return 0;
        c[0].alg = p->alg;
        return decode(p, sig, strlen(sig), &c[0]) ? 0 : 1;
    }
    const char *tskey = NULL;
    for (int i = 0; p->ts[i].src; i++)
        if (p->ts[i].src == PROF_SIG && !tskey)
            tskey = p->ts[i].name;
    char sep = p->fmt == PROF_FMT_KV ? ',' : ' ', eq = p->fmt == PROF_FMT_KV ? '=' : ',';
    const char seps[2] = {sep, '\0'};
    for (const char *s = sig; *s;) {
        while (*s == ' ' || *s == sep)
            s++;
        size_t n = strcspn(s, seps); /* up to the next separator or the end */
        const char *q = memchr(s, eq, n);
        if (q && n) {
            size_t kl = (size_t)(q - s), vl = n - kl - 1;
            enum prof_alg a;
            if (tskey && strlen(tskey) == kl && !memcmp(s, tskey, kl) && vl < tscap) {
                memcpy(ts, q + 1, vl);
                ts[vl] = '\0';
            } else if (nc < VERIFY_SIGS_MAX && version_alg(p, s, kl, &a)) {
                c[nc].alg = a;
                if (!decode(p, q + 1, vl, &c[nc]))
                    nc++;
            }
        }
        s += n;
    }
    return nc;
}

/* match_any - 1 if any candidate is valid under any key.  Each HMAC key
 * runs over the content once and is compared (constant time) with every
 * candidate of its algorithm, so a header full of decoys costs no more
 * MAC passes than there are keys; Ed25519 checks are capped per request. */
static int match_any(const struct verifier *v, const struct verify_input *in, const char *ts,
                     const struct cand *c, size_t nc)
{
    char body_hex[2 * SHA256_DIGEST_LENGTH + 1];
    body_hash(v->p, in, body_hex);
    struct mbuf m = {0};
    int ok = 0, msg_tried = 0, ed_left = VERIFY_ED_MAX;
    for (size_t i = 0; i < v->n && !ok; i++) {
        const struct vkey *k = &v->k[i];
        int want = 0;
        for (size_t j = 0; j < nc; j++)
            want |= c[j].alg == k->alg;
        if (!want)
            continue;
        if (k->alg == PROF_ALG_ED25519) {
            if (!msg_tried++)
                message(v->p, in, ts, body_hex, &m);
            for (size_t j = 0; j < nc && !ok && m.p; j++) {
                if (c[j].alg != k->alg || c[j].len != 64 || ed_left-- <= 0)
                    continue;
                EVP_MD_CTX *x = EVP_MD_CTX_new();
                ok = x && EVP_DigestVerifyInit(x, NULL, NULL, NULL, k->pk) == 1 &&
                     EVP_DigestVerify(x, c[j].b, 64, m.p, m.len) == 1;
                EVP_MD_CTX_free(x);
            }
            continue;
        }
        unsigned char md[VERIFY_DIGEST_MAX];
        size_t mlen = 0;
        EVP_MAC_CTX *x = EVP_MAC_CTX_dup(k->mac);
        int built = x && walk(v->p, in, ts, body_hex, put_mac, x) &&
                    EVP_MAC_final(x, md, &mlen, sizeof(md));
        EVP_MAC_CTX_free(x);
        for (size_t j = 0; built && j < nc; j++)
            if (c[j].alg == k->alg && c[j].len == mlen)
                ok |= CRYPTO_memcmp(md, c[j].b, mlen) == 0;
        OPENSSL_cleanse(md, sizeof(md));
    }
    free(m.p);
    return ok;
}

/* check_timestamp - HG_OK if ts (unix s or ms) is within tolerance. */
static int check_timestamp(const struct profile *p, const char *ts, int64_t now, long tol)
{
    if (!ts || !*ts || strlen(ts) > 15)
        return HG_ESTALE;
    int64_t t = 0;
    for (const char *q = ts; *q; q++) {
        if (*q < '0' || *q > '9')
            return HG_ESTALE;
        t = t * 10 + (*q - '0');
    }
    if (p->ts_ms)
        t /= 1000;
    if (now - t > tol)
        return HG_ESTALE;
    if (p->reject_future && t - now > tol)
        return HG_ESTALE;
    return HG_OK;
}

int verify_check(const struct verifier *v, const struct verify_input *in, const char **reason)
{
    const struct profile *p = v->p;
    const char *why = NULL;
    int rc = HG_ESIG;
    if (p->fmt == PROF_FMT_NONE) {
        rc = HG_OK;
        goto out;
    }
    if (p->fmt == PROF_FMT_TOKEN) {
        if (!in->token || !*in->token) {
            why = "missing token";
            goto out;
        }
        unsigned char d[32];
        verify_token_digest(in->token, strlen(in->token), d);
        int match = 0;
        for (size_t i = 0; i < v->n; i++)
            match |= CRYPTO_memcmp(d, v->k[i].tok, 32) == 0;
        why = match ? NULL : "token mismatch";
        rc = match ? HG_OK : HG_ESIG;
        goto out;
    }
    const char *sig = in->signature;
    if (!sig || !*sig) {
        why = "missing signature";
        goto out;
    }
    if (strlen(sig) > VERIFY_HDR_MAX) {
        why = "signature header too long";
        goto out;
    }
    struct cand c[VERIFY_SIGS_MAX];
    char tsbuf[32] = "";
    size_t nc = candidates(p, sig, c, tsbuf, sizeof(tsbuf));
    const char *ts = in->timestamp ? in->timestamp : tsbuf[0] ? tsbuf : NULL;
    if (p->has_timestamp && check_timestamp(p, ts, in->now_s, in->tolerance_s)) {
        why = ts ? "timestamp outside tolerance" : "missing timestamp";
        rc = HG_ESTALE;
        goto out;
    }
    if (!nc) {
        why = "malformed signature";
        goto out;
    }
    why = "signature mismatch";
    if (match_any(v, in, ts, c, nc)) {
        rc = HG_OK;
        why = NULL;
    }
out:
    if (reason)
        *reason = why;
    return rc;
}

int verify_sign(const struct verifier *v, const struct verify_input *in, char *out, size_t cap)
{
    const struct profile *p = v->p;
    if (p->fmt == PROF_FMT_NONE || !v->n)
        return HG_EINVAL;
    if (p->fmt == PROF_FMT_TOKEN) {
        size_t n = in->token ? strlen(in->token) : 0;
        if (!in->token || n + 1 > cap)
            return HG_ETOOBIG;
        memcpy(out, in->token, n + 1);
        return HG_OK;
    }
    const struct vkey *k = &v->k[0];
    unsigned char sig[VERIFY_DIGEST_MAX];
    size_t len = 0;
    char body_hex[2 * SHA256_DIGEST_LENGTH + 1];
    body_hash(p, in, body_hex);
    if (k->alg == PROF_ALG_ED25519) {
        struct mbuf m = {0};
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        len = sizeof(sig);
        int ok = k->priv && c && message(p, in, in->timestamp, body_hex, &m) &&
                 EVP_DigestSignInit(c, NULL, NULL, NULL, k->pk) == 1 &&
                 EVP_DigestSign(c, sig, &len, m.p, m.len) == 1;
        free(m.p);
        EVP_MD_CTX_free(c);
        if (!ok)
            return HG_EINVAL;
    } else {
        EVP_MAC_CTX *c = EVP_MAC_CTX_dup(k->mac);
        int ok = c && walk(p, in, in->timestamp, body_hex, put_mac, c) &&
                 EVP_MAC_final(c, sig, &len, sizeof(sig));
        EVP_MAC_CTX_free(c);
        if (!ok)
            return HG_EINVAL;
    }
    char enc[2 * VERIFY_DIGEST_MAX + 4];
    if (p->enc == PROF_ENC_HEX)
        hex_encode(sig, len, enc);
    else
        b64_encode(sig, len, enc);
    const char *tag = "";
    for (size_t i = 0; i < p->nver; i++)
        if (p->ver[i].alg == k->alg) {
            tag = p->ver[i].tag;
            break;
        }
    int n;
    if (p->fmt == PROF_FMT_VALUE) {
        n = snprintf(out, cap, "%s%s", p->sig_prefix ? p->sig_prefix : "", enc);
    } else if (p->fmt == PROF_FMT_LIST) {
        n = snprintf(out, cap, "%s,%s", tag, enc);
    } else {
        const char *tskey = NULL;
        for (int i = 0; p->ts[i].src; i++)
            if (p->ts[i].src == PROF_SIG && !tskey)
                tskey = p->ts[i].name;
        if (tskey)
            n = snprintf(out, cap, "%s=%s,%s=%s", tskey, in->timestamp ? in->timestamp : "", tag,
                         enc);
        else
            n = snprintf(out, cap, "%s=%s", tag, enc);
    }
    OPENSSL_cleanse(sig, sizeof(sig));
    return n < 0 || (size_t)n >= cap ? HG_ETOOBIG : HG_OK;
}
