/*
 * verify.c - signature schemes interpreted from a profile (see verify.h).
 *
 * The signed content is never assembled in memory: the template is walked
 * and each piece fed to the MAC as it comes, so a 1 MiB body costs no copy.
 * Invariant: no function here logs or returns secret or digest bytes.
 */
#include "verify.h"
#include "codec.h"
#include "err.h"
#include "profile.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_DIGEST_MAX 64

struct verifier {
    const struct profile *p;
    size_t n;
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx[]; /* one keyed context per secret */
};

int verify_new(const struct profile *p, const struct secret *secrets, size_t n,
               struct verifier **out)
{
    if (!p || !n)
        return HG_EINVAL;
    struct verifier *v = calloc(1, sizeof(*v) + n * sizeof(EVP_MAC_CTX *));
    if (!v)
        return HG_ENOMEM;
    v->p = p;
    v->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!v->mac)
        goto err;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    for (size_t i = 0; i < n; i++) {
        v->ctx[i] = EVP_MAC_CTX_new(v->mac);
        v->n = i + 1;
        if (!v->ctx[i] || !EVP_MAC_init(v->ctx[i], secrets[i].data, secrets[i].len, params))
            goto err;
    }
    *out = v;
    return HG_OK;
err:
    verify_free(v);
    return HG_ENOMEM;
}

void verify_free(struct verifier *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        EVP_MAC_CTX_free(v->ctx[i]);
    EVP_MAC_free(v->mac);
    free(v);
}

static int feed(EVP_MAC_CTX *c, const char *s)
{
    return s && EVP_MAC_update(c, (const unsigned char *)s, strlen(s));
}

/* mac_template - run the profile's template through keyed context c. */
static int mac_template(EVP_MAC_CTX *c, const char *tpl, const struct verify_input *in,
                        const char *body_hex)
{
    const char *s = tpl;
    while (*s) {
        const char *open = strchr(s, '{');
        size_t lit = open ? (size_t)(open - s) : strlen(s);
        if (lit && !EVP_MAC_update(c, (const unsigned char *)s, lit))
            return 0;
        if (!open)
            break;
        const char *close = strchr(open, '}');
        if (!close)
            return 0;
        size_t n = (size_t)(close - open - 1);
        const char *name = open + 1;
        int ok;
        if (n == 4 && !memcmp(name, "body", 4))
            ok = in->body_len == 0 ||
                 EVP_MAC_update(c, (const unsigned char *)in->body, in->body_len);
        else if (n == 11 && !memcmp(name, "body_sha256", 11))
            ok = feed(c, body_hex);
        else if (n == 2 && !memcmp(name, "id", 2))
            ok = feed(c, in->id);
        else if (n == 4 && !memcmp(name, "type", 4))
            ok = feed(c, in->type);
        else if (n == 9 && !memcmp(name, "timestamp", 9))
            ok = feed(c, in->timestamp);
        else if (n == 5 && !memcmp(name, "nonce", 5))
            ok = feed(c, in->nonce);
        else
            ok = 0;
        if (!ok)
            return 0;
        s = close + 1;
    }
    return 1;
}

/* compute - digest of in under secret i into md; returns its length or 0. */
static size_t compute(const struct verifier *v, size_t i, const struct verify_input *in,
                      unsigned char md[VERIFY_DIGEST_MAX])
{
    char body_hex[2 * SHA256_DIGEST_LENGTH + 1];
    body_hex[0] = '\0';
    if (strstr(v->p->signed_template, "{body_sha256}")) {
        unsigned char h[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)in->body, in->body_len, h);
        hex_encode(h, sizeof(h), body_hex);
    }
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(v->ctx[i]);
    size_t len = 0;
    if (c && mac_template(c, v->p->signed_template, in, body_hex) &&
        !EVP_MAC_final(c, md, &len, VERIFY_DIGEST_MAX))
        len = 0;
    EVP_MAC_CTX_free(c);
    return len;
}

/* check_timestamp - HG_OK if the unix-seconds string ts is within tolerance. */
static int check_timestamp(const char *ts, int64_t now, long tol)
{
    if (!ts || !*ts || strlen(ts) > 12)
        return HG_ESTALE;
    int64_t t = 0;
    for (const char *p = ts; *p; p++) {
        if (*p < '0' || *p > '9')
            return HG_ESTALE;
        t = t * 10 + (*p - '0');
    }
    int64_t d = now > t ? now - t : t - now;
    return d <= tol ? HG_OK : HG_ESTALE;
}

int verify_check(const struct verifier *v, const struct verify_input *in, const char **reason)
{
    const struct profile *p = v->p;
    const char *why = NULL;
    int rc = HG_ESIG;
    if (p->timestamp_header && check_timestamp(in->timestamp, in->now_s, in->tolerance_s)) {
        why = in->timestamp ? "timestamp outside tolerance" : "missing timestamp";
        rc = HG_ESTALE;
        goto out;
    }
    const char *sig = in->signature;
    if (!sig || !*sig) {
        why = "missing signature";
        goto out;
    }
    size_t plen = p->sig_prefix ? strlen(p->sig_prefix) : 0;
    if (plen && strncmp(sig, p->sig_prefix, plen) == 0)
        sig += plen;
    else if (plen && !p->sig_prefix_optional) {
        why = "signature prefix missing";
        goto out;
    }
    unsigned char want[VERIFY_DIGEST_MAX], got[VERIFY_DIGEST_MAX];
    size_t slen = strlen(sig), wlen = 0;
    if (p->sig_enc == PROF_ENC_HEX) {
        wlen = slen / 2;
        if (wlen > VERIFY_DIGEST_MAX || hex_decode(sig, slen, want, wlen))
            wlen = 0;
    } else if (b64_decode(sig, slen, want, sizeof(want), &wlen)) {
        wlen = 0;
    }
    if (!wlen) {
        why = "malformed signature";
        goto out;
    }
    why = "signature mismatch";
    for (size_t i = 0; i < v->n; i++) {
        size_t glen = compute(v, i, in, got);
        if (glen && glen == wlen && CRYPTO_memcmp(got, want, glen) == 0) {
            rc = HG_OK;
            why = NULL;
            break;
        }
    }
    OPENSSL_cleanse(got, sizeof(got));
out:
    if (reason)
        *reason = why;
    return rc;
}

int verify_sign(const struct verifier *v, const struct verify_input *in, char *out, size_t cap)
{
    unsigned char md[VERIFY_DIGEST_MAX];
    size_t len = compute(v, 0, in, md);
    if (!len)
        return HG_EINVAL;
    const char *prefix = v->p->sig_prefix ? v->p->sig_prefix : "";
    size_t need =
        strlen(prefix) + (v->p->sig_enc == PROF_ENC_HEX ? 2 * len : 4 * ((len + 2) / 3)) + 1;
    if (need > cap)
        return HG_ETOOBIG;
    strcpy(out, prefix);
    if (v->p->sig_enc == PROF_ENC_HEX)
        hex_encode(md, len, out + strlen(prefix));
    else
        b64_encode(md, len, out + strlen(prefix));
    return HG_OK;
}
