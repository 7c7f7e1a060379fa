/*
 * pubkey_test.c - unit tests of gateway/pubkey.c: every key form pubkey_parse
 * reads, the texts it refuses (malformed, other key types, too small RSA),
 * what is no key form at all, and sign/verify round trips for Ed25519,
 * ECDSA P-256 (DER and raw r||s) and RSA PKCS#1 v1.5, with a wrong key, a
 * changed byte and junk signatures.
 *
 * Keys are generated at test time (EVP_PKEY_Q_keygen): no key files.
 */
#include "codec.h"
#include "err.h"
#include "pubkey.h"
#include "t.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>

static EVP_PKEY *ed, *ec, *rsa, *ec384, *rsa1024, *ed2;

static const unsigned char MSG[] = "the signed message";

/* take - the text a memory BIO holds, malloc'd and NUL-terminated; frees b. */
static char *take(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static char *pem_pub(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, k);
    return take(b);
}

static char *pem_pkcs8(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    return take(b);
}

/* pem_trad - "EC PRIVATE KEY" / "RSA PRIVATE KEY" */
static char *pem_trad(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL);
    return take(b);
}

/* pem_block - a PEM block of label around der */
static char *pem_block(const char *label, const unsigned char *der, long n)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio(b, label, "", der, n);
    return take(b);
}

/* spki_b64 - standard base64 of the SPKI DER (SendGrid's form) */
static char *spki_b64(EVP_PKEY *k)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    char *s = malloc((size_t)n / 3 * 4 + 8);
    b64_encode(der, (size_t)n, s);
    OPENSSL_free(der);
    return s;
}

static int parse(const char *s, int want_priv, EVP_PKEY **k, int *priv, const char **why)
{
    *why = NULL;
    return pubkey_parse((const unsigned char *)s, strlen(s), want_priv, k, priv, why);
}

/* round - msg signed by signer verifies with k, and not with one bit changed */
static int round_trip(EVP_PKEY *signer, EVP_PKEY *k, unsigned flags)
{
    unsigned char sig[PUBKEY_SIG_MAX];
    size_t sl = 0;
    if (pubkey_sign(signer, flags, MSG, sizeof(MSG) - 1, sig, sizeof(sig), &sl) != HG_OK)
        return 0;
    if (pubkey_verify(k, flags, sig, sl, MSG, sizeof(MSG) - 1) != 1)
        return 0;
    sig[sl / 2] ^= 0x10;
    return pubkey_verify(k, flags, sig, sl, MSG, sizeof(MSG) - 1) == 0;
}

/* check_ok - s parses to a key of kind with priv, which verifies signer's signatures */
static void check_ok(const char *s, int want_priv, enum pubkey_kind kind, int priv_want,
                     EVP_PKEY *signer)
{
    EVP_PKEY *k = NULL;
    int priv = -1;
    const char *why = NULL;
    int rc = parse(s, want_priv, &k, &priv, &why);
    T_EQ_INT(rc, HG_OK);
    if (rc != HG_OK) {
        fprintf(stderr, "    (%s: %s)\n", s, why ? why : "");
        return;
    }
    T_EQ_INT(pubkey_kind(k), kind);
    T_EQ_INT(priv, priv_want);
    T_CHECK(round_trip(signer, k, 0));
    if (priv_want)
        T_CHECK(round_trip(k, signer, 0)); /* the parsed private key signs */
    EVP_PKEY_free(k);
}

static void check_bad(const char *s, int want_priv)
{
    EVP_PKEY *k = NULL;
    int priv = 0;
    const char *why = NULL;
    T_EQ_INT(parse(s, want_priv, &k, &priv, &why), HG_EINVAL);
    T_CHECK(why != NULL && *why);
    T_CHECK(k == NULL);
}

static void check_none(const char *s)
{
    EVP_PKEY *k = NULL;
    int priv = 0;
    const char *why = NULL;
    T_EQ_INT(parse(s, 0, &k, &priv, &why), 1);
    T_CHECK(k == NULL);
}

static void test_pem_public(void)
{
    EVP_PKEY *all[3] = {ed, ec, rsa};
    enum pubkey_kind kinds[3] = {PUBKEY_ED25519, PUBKEY_EC_P256, PUBKEY_RSA};
    for (int i = 0; i < 3; i++) {
        char *s = pem_pub(all[i]);
        check_ok(s, 0, kinds[i], 0, all[i]);
        check_ok(s, 1, kinds[i], 0, all[i]); /* want_private does not change a public PEM */
        size_t n = strlen(s);
        char *ws = malloc(n + 8); /* surrounding white space */
        snprintf(ws, n + 8, "\n  %s\r\n\n", s);
        check_ok(ws, 0, kinds[i], 0, all[i]);
        free(ws);
        free(s);
    }
    /* RSA PUBLIC KEY (PKCS#1) */
    unsigned char *der = NULL;
    int n = i2d_PublicKey(rsa, &der);
    char *s = pem_block("RSA PUBLIC KEY", der, n);
    check_ok(s, 0, PUBKEY_RSA, 0, rsa);
    free(s);
    OPENSSL_free(der);
}

static void test_pem_private(void)
{
    EVP_PKEY *all[3] = {ed, ec, rsa};
    enum pubkey_kind kinds[3] = {PUBKEY_ED25519, PUBKEY_EC_P256, PUBKEY_RSA};
    for (int i = 0; i < 3; i++) {
        char *s = pem_pkcs8(all[i]);
        T_CHECK(strstr(s, "-----BEGIN PRIVATE KEY-----") != NULL);
        check_ok(s, 1, kinds[i], 1, all[i]);
        check_ok(s, 0, kinds[i], 1, all[i]); /* a private key verifies too */
        free(s);
    }
    char *s = pem_trad(ec);
    T_CHECK(strstr(s, "-----BEGIN EC PRIVATE KEY-----") != NULL);
    check_ok(s, 1, PUBKEY_EC_P256, 1, ec);
    /* `openssl ecparam -genkey` puts an EC PARAMETERS block first */
    static const unsigned char p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x03, 0x01, 0x07};
    char *params = pem_block("EC PARAMETERS", p256_oid, sizeof(p256_oid));
    size_t bl = strlen(params) + strlen(s) + 1;
    char *both = malloc(bl);
    snprintf(both, bl, "%s%s", params, s);
    check_ok(both, 1, PUBKEY_EC_P256, 1, ec);
    free(both);
    free(params);
    free(s);
    s = pem_trad(rsa);
    T_CHECK(strstr(s, "-----BEGIN RSA PRIVATE KEY-----") != NULL);
    check_ok(s, 1, PUBKEY_RSA, 1, rsa);
    free(s);
}

static void test_wh_forms(void)
{
    unsigned char pub[32], seed[64];
    size_t pl = 32, sl = 32;
    char s[256], b[200];
    T_CHECK(EVP_PKEY_get_raw_public_key(ed, pub, &pl) == 1 && pl == 32);
    T_CHECK(EVP_PKEY_get_raw_private_key(ed, seed, &sl) == 1 && sl == 32);
    b64_encode(pub, 32, b);
    snprintf(s, sizeof(s), "whpk_%s", b);
    check_ok(s, 0, PUBKEY_ED25519, 0, ed);
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(ed, &der); /* whpk_ of the 44-byte SPKI */
    T_EQ_INT(n, 44);
    b64_encode(der, (size_t)n, b);
    snprintf(s, sizeof(s), "whpk_%s", b);
    OPENSSL_free(der);
    check_ok(s, 0, PUBKEY_ED25519, 0, ed);
    b64_encode(seed, 32, b);
    snprintf(s, sizeof(s), "whsk_%s", b);
    check_ok(s, 0, PUBKEY_ED25519, 1, ed);
    memcpy(seed + 32, pub, 32); /* seed + public */
    b64_encode(seed, 64, b);
    snprintf(s, sizeof(s), "whsk_%s", b);
    check_ok(s, 1, PUBKEY_ED25519, 1, ed);
    OPENSSL_cleanse(seed, sizeof(seed));

    check_bad("whpk_not*base64", 0);
    check_bad("whpk_AAAA", 0);         /* 3 bytes */
    check_bad("whsk_AAAAAAAAAAAA", 0); /* 9 bytes */
    b64_encode(pub, 31, b);
    snprintf(s, sizeof(s), "whpk_%s", b);
    check_bad(s, 0);
    /* a 44-byte SPKI of another type is refused */
    unsigned char junk[44] = {0x30, 0x2a};
    b64_encode(junk, 44, b);
    snprintf(s, sizeof(s), "whpk_%s", b);
    check_bad(s, 0);
}

static void test_hex_and_b64(void)
{
    unsigned char pub[32], seed[32];
    size_t pl = 32, sl = 32;
    char hex[65];
    EVP_PKEY_get_raw_public_key(ed, pub, &pl);
    EVP_PKEY_get_raw_private_key(ed, seed, &sl);
    hex_encode(pub, 32, hex);
    check_ok(hex, 0, PUBKEY_ED25519, 0, ed); /* Discord's console form */
    for (int i = 0; hex[i]; i++)
        if (hex[i] >= 'a')
            hex[i] = (char)(hex[i] - 'a' + 'A');
    check_ok(hex, 0, PUBKEY_ED25519, 0, ed);
    hex_encode(seed, 32, hex);
    check_ok(hex, 1, PUBKEY_ED25519, 1, ed); /* the seed, for signing */
    OPENSSL_cleanse(seed, sizeof(seed));

    char *s = spki_b64(ec); /* SendGrid's console form */
    check_ok(s, 0, PUBKEY_EC_P256, 0, ec);
    free(s);
    s = spki_b64(rsa);
    check_ok(s, 0, PUBKEY_RSA, 0, rsa);
    free(s);
    s = spki_b64(ed);
    check_ok(s, 0, PUBKEY_ED25519, 0, ed);
    free(s);
    s = spki_b64(ec384);
    check_bad(s, 0); /* a whole SPKI, but P-384 */
    free(s);
}

static void test_not_a_key(void)
{
    check_none("It's a Secret to Everybody");
    check_none("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    check_none("8f742231b10e8888abcd99yyyzzz85a5");
    check_none("0123456789abcdef0123456789abcdef"); /* 32 hex digits */
    check_none("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"); /* 63 */
    check_none("   ");
    check_none("");
    /* base64 that decodes to no SPKI: an HMAC secret */
    unsigned char r[96];
    char s[200];
    for (size_t i = 0; i < sizeof(r); i++)
        r[i] = (unsigned char)(i * 37 + 11);
    b64_encode(r, sizeof(r), s);
    check_none(s);
    r[0] = 0x30; /* a DER SEQUENCE start, still no key */
    b64_encode(r, sizeof(r), s);
    check_none(s);
    /* a long text */
    char *big = malloc(PUBKEY_INPUT_MAX + 100);
    memset(big, 'a', PUBKEY_INPUT_MAX + 99);
    big[PUBKEY_INPUT_MAX + 99] = '\0';
    check_none(big);
    memcpy(big, "-----BEGIN PUBLIC KEY-----", 26);
    check_bad(big, 0); /* too large for a key */
    free(big);
}

static void test_malformed_pem(void)
{
    check_bad("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 0);
    check_bad("-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n", 0);
    check_bad("-----BEGIN PUBLIC KEY-----\n", 0);
    check_bad("-----BEGIN garbage", 0);
    check_bad("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", 0);
    check_bad("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
              0);
    check_bad("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", 0);
    char *s = pem_pub(ec);
    size_t tl = 2 * strlen(s) + 40;
    char *t = malloc(tl);
    snprintf(t, tl, "%strailing words\n", s);
    check_bad(t, 0);               /* text after the key */
    snprintf(t, tl, "%s%s", s, s); /* two keys */
    check_bad(t, 0);
    snprintf(t, tl, "%s", s);
    t[strlen(t) / 2] ^= 1; /* a changed base64 character */
    EVP_PKEY *k = NULL;
    int priv;
    const char *why;
    int rc = parse(t, 0, &k, &priv, &why);
    T_CHECK(rc == HG_EINVAL || (rc == HG_OK && round_trip(ec, k, 0) == 0));
    EVP_PKEY_free(k);
    free(t);
    free(s);
    /* a proc-type header (legacy encrypted PEM) */
    s = pem_trad(rsa);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey_traditional(b, rsa, EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL,
                                         NULL);
    free(s);
    s = take(b);
    T_CHECK(strstr(s, "Proc-Type") != NULL);
    check_bad(s, 1);
    free(s);
}

static void test_other_types(void)
{
    char *s = pem_pub(ec384);
    check_bad(s, 0);
    free(s);
    s = pem_pkcs8(ec384);
    check_bad(s, 1);
    free(s);
    s = pem_pub(rsa1024);
    check_bad(s, 0);
    free(s);
    s = pem_trad(rsa1024);
    check_bad(s, 1);
    free(s);
    EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    s = pem_pub(x);
    check_bad(s, 0);
    free(s);
    EVP_PKEY_free(x);
    T_EQ_INT(pubkey_kind(NULL), PUBKEY_NONE);
    T_EQ_INT(pubkey_kind(ec384), PUBKEY_NONE);
    T_EQ_INT(pubkey_kind(rsa1024), PUBKEY_NONE);
}

static void test_sign_verify(void)
{
    T_CHECK(round_trip(ed, ed, 0));
    T_CHECK(round_trip(ec, ec, 0));
    T_CHECK(round_trip(ec, ec, PUBKEY_SIG_RAW));
    T_CHECK(round_trip(rsa, rsa, 0));
    unsigned char sig[PUBKEY_SIG_MAX];
    size_t sl = 0;
    /* wrong key */
    T_EQ_INT(pubkey_sign(ed, 0, MSG, sizeof(MSG) - 1, sig, sizeof(sig), &sl), HG_OK);
    T_EQ_INT(sl, 64);
    T_EQ_INT(pubkey_verify(ed2, 0, sig, sl, MSG, sizeof(MSG) - 1), 0);
    T_EQ_INT(pubkey_verify(ed, 0, sig, sl, MSG, sizeof(MSG) - 2), 0); /* another message */
    T_EQ_INT(pubkey_verify(ed, 0, sig, sl - 1, MSG, sizeof(MSG) - 1), 0);
    T_EQ_INT(pubkey_verify(ec, 0, sig, sl, MSG, sizeof(MSG) - 1), 0); /* another type */
    /* ECDSA: DER vs raw */
    T_EQ_INT(pubkey_sign(ec, 0, MSG, sizeof(MSG) - 1, sig, sizeof(sig), &sl), HG_OK);
    T_CHECK(sl >= 8 && sl <= 72 && sig[0] == 0x30);
    T_EQ_INT(pubkey_verify(ec, 0, sig, sl, MSG, sizeof(MSG) - 1), 1);
    T_EQ_INT(pubkey_verify(ec, PUBKEY_SIG_RAW, sig, sl, MSG, sizeof(MSG) - 1), 0);
    T_EQ_INT(pubkey_sign(ec, PUBKEY_SIG_RAW, MSG, sizeof(MSG) - 1, sig, sizeof(sig), &sl), HG_OK);
    T_EQ_INT(sl, 64);
    T_EQ_INT(pubkey_verify(ec, PUBKEY_SIG_RAW, sig, sl, MSG, sizeof(MSG) - 1), 1);
    T_EQ_INT(pubkey_verify(ec, 0, sig, sl, MSG, sizeof(MSG) - 1), 0);
    /* RSA: length is the modulus size */
    T_EQ_INT(pubkey_sign(rsa, 0, MSG, sizeof(MSG) - 1, sig, sizeof(sig), &sl), HG_OK);
    T_EQ_INT(sl, 256);
    T_EQ_INT(pubkey_verify(rsa, 0, sig, sl, MSG, sizeof(MSG) - 1), 1);
    T_EQ_INT(pubkey_verify(rsa, 0, sig, sl - 1, MSG, sizeof(MSG) - 1), 0);
    /* an empty message */
    T_EQ_INT(pubkey_sign(ed, 0, NULL, 0, sig, sizeof(sig), &sl), HG_OK);
    T_EQ_INT(pubkey_verify(ed, 0, sig, sl, NULL, 0), 1);
    T_EQ_INT(pubkey_verify(ed, 0, sig, sl, "", 0), 1);
}

static void test_junk(void)
{
    unsigned char j[1100];
    for (size_t i = 0; i < sizeof(j); i++)
        j[i] = (unsigned char)(i * 131 + 7);
    size_t lens[] = {0, 1, 8, 63, 64, 65, 70, 72, 73, 255, 256, 257, 1024, 1100};
    EVP_PKEY *all[3] = {ed, ec, rsa};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            T_EQ_INT(pubkey_verify(all[k], 0, j, lens[i], MSG, 5), 0);
            T_EQ_INT(pubkey_verify(all[k], PUBKEY_SIG_RAW, j, lens[i], MSG, 5), 0);
        }
    j[0] = 0x30; /* DER-looking junk */
    j[1] = 0x44;
    T_EQ_INT(pubkey_verify(ec, 0, j, 70, MSG, 5), 0);
    memset(j, 0, 64); /* r = s = 0 */
    T_EQ_INT(pubkey_verify(ec, PUBKEY_SIG_RAW, j, 64, MSG, 5), 0);
    memset(j, 0xff, 64); /* r, s >= n */
    T_EQ_INT(pubkey_verify(ec, PUBKEY_SIG_RAW, j, 64, MSG, 5), 0);
    T_EQ_INT(pubkey_verify(ec, 0, NULL, 64, MSG, 5), 0);
    T_EQ_INT(pubkey_verify(NULL, 0, j, 64, MSG, 5), 0);
    T_EQ_INT(pubkey_verify(ec384, 0, j, 64, MSG, 5), 0);
}

static void test_sign_errors(void)
{
    unsigned char sig[PUBKEY_SIG_MAX];
    size_t sl = 0;
    EVP_PKEY *pub = pubkey_public(rsa);
    T_CHECK(pub != NULL);
    T_EQ_INT(pubkey_kind(pub), PUBKEY_RSA);
    T_EQ_INT(pubkey_sign(pub, 0, MSG, 5, sig, sizeof(sig), &sl), HG_EINVAL);
    EVP_PKEY_free(pub);
    T_EQ_INT(pubkey_sign(rsa, 0, MSG, 5, sig, 255, &sl), HG_ETOOBIG);
    T_EQ_INT(pubkey_sign(ec, PUBKEY_SIG_RAW, MSG, 5, sig, 63, &sl), HG_ETOOBIG);
    T_EQ_INT(pubkey_sign(ed, 0, MSG, 5, sig, 63, &sl), HG_ETOOBIG);
    T_EQ_INT(pubkey_sign(ec384, 0, MSG, 5, sig, sizeof(sig), &sl), HG_EINVAL);
    T_EQ_INT(pubkey_sign(NULL, 0, MSG, 5, sig, sizeof(sig), &sl), HG_EINVAL);
}

static void test_components(void)
{
    BIGNUM *n = NULL, *e = NULL;
    unsigned char nb[1024], eb[8], pt[65];
    size_t ptl = 0;
    const char *why = NULL;
    EVP_PKEY *k = NULL;
    T_CHECK(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
    T_CHECK(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_E, &e) == 1);
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    T_EQ_INT(pubkey_rsa(nb, (size_t)nl, eb, (size_t)el, &k, &why), HG_OK);
    T_EQ_INT(pubkey_kind(k), PUBKEY_RSA);
    T_CHECK(round_trip(rsa, k, 0));
    EVP_PKEY_free(k);
    unsigned char even[1] = {4};
    T_EQ_INT(pubkey_rsa(nb, (size_t)nl, even, 1, &k, &why), HG_EINVAL);
    T_EQ_INT(pubkey_rsa(nb, 128, eb, (size_t)el, &k, &why), HG_EINVAL); /* 1024 bits */
    T_CHECK(k == NULL && why != NULL);
    BN_free(n);
    BN_free(e);

    T_CHECK(EVP_PKEY_get_octet_string_param(ec, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
                                            &ptl) == 1);
    T_EQ_INT(ptl, 65);
    T_EQ_INT(pubkey_p256(pt + 1, pt + 33, &k, &why), HG_OK);
    T_EQ_INT(pubkey_kind(k), PUBKEY_EC_P256);
    T_CHECK(round_trip(ec, k, PUBKEY_SIG_RAW));
    EVP_PKEY_free(k);
    pt[64] ^= 1; /* off the curve */
    T_EQ_INT(pubkey_p256(pt + 1, pt + 33, &k, &why), HG_EINVAL);
    T_CHECK(k == NULL);
    memset(pt, 0, sizeof(pt));
    T_EQ_INT(pubkey_p256(pt + 1, pt + 33, &k, &why), HG_EINVAL);
}

int main(void)
{
    ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    if (!ed || !ed2 || !ec || !ec384 || !rsa || !rsa1024) {
        fprintf(stderr, "key generation failed\n");
        return 1;
    }
    T_RUN(test_pem_public);
    T_RUN(test_pem_private);
    T_RUN(test_wh_forms);
    T_RUN(test_hex_and_b64);
    T_RUN(test_not_a_key);
    T_RUN(test_malformed_pem);
    T_RUN(test_other_types);
    T_RUN(test_sign_verify);
    T_RUN(test_junk);
    T_RUN(test_sign_errors);
    T_RUN(test_components);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ed2);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa1024);
    return t_finish();
}
