/*
 * pubkey.c - keys of the public-key signature schemes (see pubkey.h).
 *
 * Forms are told apart by their first bytes: "-----BEGIN" is PEM, whpk_ /
 * whsk_ the Ed25519 forms of the standard profile, exactly 64 hex digits a
 * raw Ed25519 key, and a run of standard base64 a key only when it decodes
 * to a complete SPKI DER.  Anything else is "no key form" (1): an HMAC
 * secret is never mistaken for a malformed key.
 * Invariants: only keys pubkey_kind() names leave this file; every buffer
 * that held private key bytes is wiped (OPENSSL_cleanse) before it is
 * released; no OpenSSL error is left queued; reasons are constant texts.
 */
#include "pubkey.h"
#include "codec.h"
#include "err.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#define PUBKEY_RSA_MIN_BITS 2048
#define PUBKEY_RSA_MAX_BITS 8192
#define PUBKEY_EC_DER_MAX   72 /* a DER ECDSA P-256 signature is at most 72 bytes */
#define PUBKEY_B64_MIN      60 /* base64 of the smallest SPKI (Ed25519, 44 bytes) */

static const char BAD_TYPE[] = "unsupported key type (Ed25519, EC P-256 or RSA of 2048 to 8192 "
                               "bits expected)";

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int starts(const unsigned char *s, size_t n, const char *pfx)
{
    size_t l = strlen(pfx);
    return n >= l && !memcmp(s, pfx, l);
}

enum pubkey_kind pubkey_kind(const EVP_PKEY *k)
{
    if (!k)
        return PUBKEY_NONE;
    if (EVP_PKEY_is_a(k, "ED25519"))
        return PUBKEY_ED25519;
    if (EVP_PKEY_is_a(k, "EC")) {
        char g[64];
        size_t gl = 0;
        int ok = EVP_PKEY_get_group_name(k, g, sizeof(g), &gl) == 1 &&
                 (!strcmp(g, "prime256v1") || !strcmp(g, "P-256"));
        ERR_clear_error();
        return ok ? PUBKEY_EC_P256 : PUBKEY_NONE;
    }
    if (EVP_PKEY_is_a(k, "RSA")) {
        int bits = EVP_PKEY_get_bits(k);
        return bits >= PUBKEY_RSA_MIN_BITS && bits <= PUBKEY_RSA_MAX_BITS ? PUBKEY_RSA
                                                                          : PUBKEY_NONE;
    }
    return PUBKEY_NONE;
}

EVP_PKEY *pubkey_public(const EVP_PKEY *k)
{
    unsigned char *der = NULL;
    int n = k ? i2d_PUBKEY(k, &der) : -1;
    const unsigned char *p = der;
    EVP_PKEY *pub = n > 0 ? d2i_PUBKEY(NULL, &p, n) : NULL;
    OPENSSL_free(der);
    ERR_clear_error();
    return pub;
}

/* accept - k if it is of a supported kind, else NULL (k freed) and *why. */
static EVP_PKEY *accept(EVP_PKEY *k, const char **why)
{
    if (k && pubkey_kind(k) == PUBKEY_NONE) {
        EVP_PKEY_free(k);
        k = NULL;
        *why = BAD_TYPE;
    }
    return k;
}

/* pem_der - the key in one PEM block's DER by its label. */
static int pem_der(const char *name, const char *hdr, const unsigned char *der, long len,
                   EVP_PKEY **out, int *priv, const char **why)
{
    const unsigned char *p = der;
    EVP_PKEY *k = NULL;
    *priv = 1;
    if (hdr && *hdr) {
        *why = "encrypted PEM keys are not supported";
        return HG_EINVAL;
    }
    if (!strcmp(name, "PUBLIC KEY")) {
        *priv = 0;
        k = d2i_PUBKEY(NULL, &p, len);
    } else if (!strcmp(name, "RSA PUBLIC KEY")) {
        *priv = 0;
        k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
    } else if (!strcmp(name, "PRIVATE KEY")) {
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len);
        k = p8 ? EVP_PKCS82PKEY(p8) : NULL;
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else if (!strcmp(name, "EC PRIVATE KEY")) {
        k = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
    } else if (!strcmp(name, "RSA PRIVATE KEY")) {
        k = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
    } else {
        *why = !strcmp(name, "ENCRYPTED PRIVATE KEY")
                   ? "encrypted PEM keys are not supported"
                   : "unsupported PEM type (PUBLIC KEY or PRIVATE KEY expected)";
        return HG_EINVAL;
    }
    if (!k || p != der + len) {
        EVP_PKEY_free(k);
        *why = "malformed PEM key";
        return HG_EINVAL;
    }
    *out = accept(k, why);
    return *out ? HG_OK : HG_EINVAL;
}

/* pem_rest_blank - 1 if nothing but white space is left in b. */
static int pem_rest_blank(BIO *b)
{
    char t[256];
    int r;
    while ((r = BIO_read(b, t, sizeof(t))) > 0)
        for (int i = 0; i < r; i++)
            if (!is_space((unsigned char)t[i]))
                return 0;
    return 1;
}

/* pem_key - a PEM key: one key block, optionally after an EC PARAMETERS one. */
static int pem_key(const unsigned char *s, size_t n, EVP_PKEY **out, int *priv, const char **why)
{
    BIO *b = BIO_new_mem_buf(s, (int)n);
    if (!b)
        return HG_ENOMEM;
    int rc = HG_EINVAL;
    *why = "malformed PEM key";
    for (int block = 0; block < 2; block++) {
        char *name = NULL, *hdr = NULL;
        unsigned char *der = NULL;
        long len = 0;
        if (!PEM_read_bio(b, &name, &hdr, &der, &len))
            break;
        int params = !strcmp(name, "EC PARAMETERS");
        if (!params)
            rc = pem_der(name, hdr, der, len, out, priv, why);
        OPENSSL_free(name);
        OPENSSL_free(hdr);
        if (der)
            OPENSSL_cleanse(der, (size_t)len);
        OPENSSL_free(der);
        if (!params)
            break;
    }
    if (rc == HG_OK && !pem_rest_blank(b)) {
        EVP_PKEY_free(*out);
        *out = NULL;
        *why = "text after the PEM key";
        rc = HG_EINVAL;
    }
    BIO_free(b);
    return rc;
}

/* wh_key - whpk_ (32 raw / 44 SPKI DER) or whsk_ (32 seed / 64 seed+public). */
static int wh_key(const unsigned char *s, size_t n, EVP_PKEY **out, int *priv, const char **why)
{
    unsigned char raw[128];
    size_t len = 0;
    EVP_PKEY *k = NULL;
    *priv = starts(s, n, "whsk_");
    if (b64_decode((const char *)s + 5, n - 5, raw, sizeof(raw), &len) == HG_OK) {
        if (*priv && (len == 32 || len == 64)) {
            k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
        } else if (!*priv && len == 32) {
            k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
        } else if (!*priv && len == 44) {
            const unsigned char *p = raw;
            k = d2i_PUBKEY(NULL, &p, (long)len);
            if (k && (pubkey_kind(k) != PUBKEY_ED25519 || p != raw + len)) {
                EVP_PKEY_free(k);
                k = NULL;
            }
        }
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    if (!k) {
        *why = "malformed Ed25519 key (whpk_/whsk_ + base64 of 32 or 44/64 bytes)";
        return HG_EINVAL;
    }
    *out = k;
    return HG_OK;
}

/* hex_key - 64 hex digits: an Ed25519 public key, or the seed. */
static int hex_key(const unsigned char *s, int want_private, EVP_PKEY **out, int *priv,
                   const char **why)
{
    unsigned char raw[32];
    EVP_PKEY *k = NULL;
    if (hex_decode((const char *)s, 64, raw, sizeof(raw)) == HG_OK)
        k = want_private ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32)
                         : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
    OPENSSL_cleanse(raw, sizeof(raw));
    if (!k) {
        *why = "malformed Ed25519 key (64 hex digits)";
        return HG_EINVAL;
    }
    *priv = want_private;
    *out = k;
    return HG_OK;
}

static int is_hex64(const unsigned char *s, size_t n)
{
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

/* spki_b64 - standard base64 of a whole SPKI DER; 1 when s is not one. */
static int spki_b64(const unsigned char *s, size_t n, EVP_PKEY **out, int *priv, const char **why)
{
    unsigned char der[PUBKEY_INPUT_MAX / 4 * 3];
    size_t len = 0;
    if (n < PUBKEY_B64_MIN || n > PUBKEY_INPUT_MAX ||
        b64_decode((const char *)s, n, der, sizeof(der), &len) != HG_OK || len < 2 ||
        der[0] != 0x30)
        return 1;
    const unsigned char *p = der;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
    if (!k || p != der + len) {
        EVP_PKEY_free(k);
        return 1; /* base64 that is no key: an HMAC secret, say */
    }
    *priv = 0;
    *out = accept(k, why);
    return *out ? HG_OK : HG_EINVAL;
}

int pubkey_parse(const unsigned char *s, size_t n, int want_private, EVP_PKEY **out, int *priv,
                 const char **why)
{
    const char *unused;
    if (!why)
        why = &unused;
    *out = NULL;
    *priv = 0;
    while (n && is_space(s[0]))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    int pem = starts(s, n, "-----BEGIN"), wh = starts(s, n, "whpk_") || starts(s, n, "whsk_");
    if (!pem && !wh && !is_hex64(s, n) && (n < PUBKEY_B64_MIN || n > PUBKEY_INPUT_MAX))
        return 1;
    if (n > PUBKEY_INPUT_MAX) {
        *why = "key text larger than 8192 bytes";
        return HG_EINVAL;
    }
    int rc = pem              ? pem_key(s, n, out, priv, why)
             : wh             ? wh_key(s, n, out, priv, why)
             : is_hex64(s, n) ? hex_key(s, want_private, out, priv, why)
                              : spki_b64(s, n, out, priv, why);
    ERR_clear_error();
    return rc;
}

int pubkey_rsa(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
               EVP_PKEY **out, const char **why)
{
    *out = NULL;
    *why = "malformed RSA key";
    if (nlen > 2 * PUBKEY_RSA_MAX_BITS / 8 || elen > 64)
        return HG_EINVAL;
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = NULL;
    int rc = HG_ENOMEM;
    if (!bn || !be || !bld)
        goto done;
    rc = HG_EINVAL;
    if (BN_num_bits(bn) < PUBKEY_RSA_MIN_BITS || BN_num_bits(bn) > PUBKEY_RSA_MAX_BITS) {
        *why = "RSA modulus outside 2048..8192 bits";
        goto done;
    }
    if (!BN_is_odd(be) || BN_is_one(be) || BN_num_bits(be) > 64 || !BN_is_odd(bn)) {
        *why = "malformed RSA key (exponent or modulus)";
        goto done;
    }
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto done;
    *out = accept(*out, why);
    rc = *out ? HG_OK : HG_EINVAL;
done:
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    ERR_clear_error();
    return rc;
}

int pubkey_p256(const unsigned char x[32], const unsigned char y[32], EVP_PKEY **out,
                const char **why)
{
    unsigned char pt[65];
    pt[0] = 0x04; /* uncompressed */
    memcpy(pt + 1, x, 32);
    memcpy(pt + 33, y, 32);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)),
        OSSL_PARAM_construct_end()};
    *out = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *chk = NULL;
    int ok = c && EVP_PKEY_fromdata_init(c) == 1 &&
             EVP_PKEY_fromdata(c, out, EVP_PKEY_PUBLIC_KEY, params) == 1 &&
             (chk = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL)) &&
             EVP_PKEY_public_check(chk) == 1 && pubkey_kind(*out) == PUBKEY_EC_P256;
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        *why = "malformed EC P-256 key (point not on the curve)";
        return HG_EINVAL;
    }
    return HG_OK;
}

/* raw_to_der - a 64-byte r||s as a DER ECDSA signature; its length or 0. */
static size_t raw_to_der(const unsigned char *raw, unsigned char *der, size_t cap)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *ss = BN_bin2bn(raw + 32, 32, NULL);
    size_t n = 0;
    if (s && r && ss && ECDSA_SIG_set0(s, r, ss) == 1) {
        r = ss = NULL; /* owned by s now */
        int l = i2d_ECDSA_SIG(s, NULL);
        unsigned char *p = der;
        if (l > 0 && (size_t)l <= cap && i2d_ECDSA_SIG(s, &p) == l)
            n = (size_t)l;
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return n;
}

/* der_to_raw - a DER ECDSA P-256 signature as 64 bytes r||s; 1 on success. */
static int der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r = NULL, *ss = NULL;
    if (s)
        ECDSA_SIG_get0(s, &r, &ss);
    int ok = s && BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(ss, raw + 32, 32) == 32;
    ECDSA_SIG_free(s);
    return ok;
}

int pubkey_verify(EVP_PKEY *k, unsigned flags, const unsigned char *sig, size_t siglen,
                  const void *msg, size_t len)
{
    enum pubkey_kind kind = pubkey_kind(k);
    unsigned char der[PUBKEY_EC_DER_MAX + 8];
    const char *md = "SHA256";
    if (!sig || kind == PUBKEY_NONE || (!msg && len))
        return 0;
    if (kind == PUBKEY_ED25519) {
        md = NULL;
        if (siglen != 64)
            return 0;
    } else if (kind == PUBKEY_EC_P256 && (flags & PUBKEY_SIG_RAW)) {
        if (siglen != 64 || !(siglen = raw_to_der(sig, der, sizeof(der))))
            return 0;
        sig = der;
    } else if (kind == PUBKEY_EC_P256) {
        if (siglen < 8 || siglen > PUBKEY_EC_DER_MAX)
            return 0;
    } else if (siglen != (size_t)EVP_PKEY_get_size(k)) {
        return 0;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit_ex(c, NULL, md, NULL, NULL, k, NULL) == 1 &&
             EVP_DigestVerify(c, sig, siglen, msg ? msg : "", len) == 1;
    EVP_MD_CTX_free(c);
    ERR_clear_error();
    return ok;
}

int pubkey_sign(EVP_PKEY *k, unsigned flags, const void *msg, size_t len, unsigned char *sig,
                size_t cap, size_t *siglen)
{
    enum pubkey_kind kind = pubkey_kind(k);
    unsigned char tmp[PUBKEY_SIG_MAX];
    size_t tl = sizeof(tmp);
    if (kind == PUBKEY_NONE || (!msg && len))
        return HG_EINVAL;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c &&
             EVP_DigestSignInit_ex(c, NULL, kind == PUBKEY_ED25519 ? NULL : "SHA256", NULL, NULL, k,
                                   NULL) == 1 &&
             EVP_DigestSign(c, tmp, &tl, msg ? msg : "", len) == 1;
    EVP_MD_CTX_free(c);
    ERR_clear_error();
    if (!ok)
        return HG_EINVAL;
    if (kind == PUBKEY_EC_P256 && (flags & PUBKEY_SIG_RAW)) {
        if (cap < 64)
            return HG_ETOOBIG;
        if (!der_to_raw(tmp, tl, sig))
            return HG_EINVAL;
        *siglen = 64;
        return HG_OK;
    }
    if (tl > cap)
        return HG_ETOOBIG;
    memcpy(sig, tmp, tl);
    *siglen = tl;
    return HG_OK;
}
