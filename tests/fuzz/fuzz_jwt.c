// clang-format off
/*
 * fuzz_jwt.c - libFuzzer driver for gateway/jwt.c: tokens, JWKS documents
 * and claims.
 *
 * The first input byte picks what the rest is (mode = byte % 3):
 *   0  a token, checked by jwt_verify against three fixed key sets:
 *      A  HS256 with two secrets (current/next, as QStash),
 *      B  RS256|ES256 with a JWKS (an RSA key generated at start, kid r1,
 *         and an EC P-256 key from a fixed private value, kid e1),
 *      C  all three algorithms with A's first secret and B's JWKS;
 *   1  a JWKS document for jwt_keys_new (RS256|ES256, and all three);
 *   2  a claims object for jwt_sign (HS256 with A's secret, ES256 with B's
 *      EC key), the tokens then checked by jwt_verify.
 * The clock is pinned (NOW) and the claims wanted are fixed (iss Upstash or
 * Google, aud and sub URL, body hash of BODY), so seeds can be valid.
 * Invariants:
 *  - never crashes, reads out of bounds or leaks;
 *  - jwt_verify returns HG_OK, HG_ESIG or HG_ESTALE, with a reason exactly
 *    when it is not HG_OK;
 *  - HG_OK only for a genuine signature: under A the third part is the
 *    HMAC of one of the secrets, under B the EC key's own raw signature
 *    (checked apart with pubkey_verify; the RSA key is random, so no RS256
 *    token can pass), under C either;
 *  - jwt_keys_new gives at least one and at most JWT_KEYS_MAX keys, or an
 *    error with a reason;
 *  - a token jwt_sign makes gets the same result and reason whether HS256
 *    or ES256 signed it (the claims decide), and a changed signature
 *    character never verifies.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_jwt (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "codec.h"
#include "err.h"
#include "jwt.h"
#include "pubkey.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW  1763846959LL
#define URL  "https://hooks.example.com/fuzz"
#define BODY "{\"fuzz\":true}"

static const char *const CUR = "sig_fuzz_current", *const NEXT = "sig_fuzz_next";
static const char *const ISS[] = {"Upstash", "https://accounts.google.com"};

static struct jwt_keys *ka, *kb, *kc;
static EVP_PKEY *ec;
static char *ec_pem;    /* the EC private key (PKCS#8 PEM), for jwt_sign */
static char jwks[4096]; /* B's JWKS */
static char es_tok[JWT_TOKEN_MAX + 1];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_jwt: %s\n", what);
    abort();
}

/* ec_fixed - the P-256 key pair of the private value 1, 2, ..., 32; its
 * public point into pt */
static EVP_PKEY *ec_fixed(unsigned char pt[65])
{
    unsigned char d[32];
    for (int i = 0; i < 32; i++)
        d[i] = (unsigned char)(i + 1);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    BIGNUM *bn = BN_bin2bn(d, 32, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    if (!p || !bn || !bld || !c || !EC_POINT_mul(g, p, bn, NULL, NULL, NULL) ||
        EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pt, 65, NULL) != 65 ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 65) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, &k, EVP_PKEY_KEYPAIR, params) != 1)
        die("fixed EC key");
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return k;
}

/* make_jwks - B's JWKS: a fresh RSA key (r1) and the fixed EC key (e1) */
static void make_jwks(const unsigned char pt[65])
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    BIGNUM *n = NULL, *e = NULL;
    unsigned char nb[256], eb[8];
    char ns[400], es[16], xs[48], ys[48];
    if (!rsa || EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_E, &e) != 1 || BN_num_bytes(n) != 256 ||
        BN_num_bytes(e) > 8)
        die("RSA key");
    b64url_encode(nb, (size_t)BN_bn2bin(n, nb), ns);
    b64url_encode(eb, (size_t)BN_bn2bin(e, eb), es);
    b64url_encode(pt + 1, 32, xs);
    b64url_encode(pt + 33, 32, ys);
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",\"kid\":\"r1\","
             "\"n\":\"%s\",\"e\":\"%s\"},{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e1\","
             "\"x\":\"%s\",\"y\":\"%s\"}]}",
             ns, es, xs, ys);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(rsa);
}

static struct jwt_keys *key_set(const char *a, const char *b, unsigned algs)
{
    struct secret s[2] = {{(unsigned char *)a, strlen(a)},
                          {(unsigned char *)(b ? b : ""), b ? strlen(b) : 0}};
    struct jwt_keys *k = NULL;
    const char *why = NULL;
    if (jwt_keys_new(s, b ? 2 : 1, algs, &k, &why) != HG_OK)
        die(why ? why : "jwt_keys_new");
    return k;
}

static void init(void)
{
    unsigned char pt[65];
    ec = ec_fixed(pt);
    make_jwks(pt);
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    if (!b || PEM_write_bio_PrivateKey(b, ec, NULL, NULL, 0, NULL, NULL) != 1)
        die("EC PEM");
    long n = BIO_get_mem_data(b, &p);
    if (!(ec_pem = malloc((size_t)n + 1)))
        abort();
    memcpy(ec_pem, p, (size_t)n);
    ec_pem[n] = '\0';
    BIO_free(b);
    ka = key_set(CUR, NEXT, JWT_HS256);
    kb = key_set(jwks, NULL, JWT_RS256 | JWT_ES256);
    kc = key_set(CUR, jwks, JWT_HS256 | JWT_RS256 | JWT_ES256);
    struct secret s = {(unsigned char *)ec_pem, strlen(ec_pem)};
    if (jwt_sign(JWT_ES256, &s, "e1", "{\"exp\":1763847259}", es_tok, sizeof(es_tok)) != HG_OK)
        die("jwt_sign ES256");
}

static struct jwt_want want(void)
{
    return (struct jwt_want){.issuers = ISS,
                             .nissuers = 2,
                             .audience = URL,
                             .subject = URL,
                             .body_claim = "body",
                             .body = BODY,
                             .body_len = strlen(BODY),
                             .now_s = NOW,
                             .leeway_s = 5};
}

/* check - jwt_verify of t under k: a valid result, its reason as documented */
static int check(const struct jwt_keys *k, const char *t, size_t n, const char **why)
{
    struct jwt_want w = want();
    *why = "unset";
    int rc = jwt_verify(k, t, n, &w, why);
    if (rc != HG_OK && rc != HG_ESIG && rc != HG_ESTALE)
        die("jwt_verify: unexpected result");
    if ((rc == HG_OK) != (*why == NULL))
        die("jwt_verify: reason does not match the result");
    return rc;
}

/* hmac_is - 1 if t's third part is b64url(HMAC-SHA256(key, first two parts)) */
static int hmac_is(const char *key, const char *t, size_t n)
{
    const char *d2 = memrchr(t, '.', n);
    unsigned char md[32];
    unsigned ml = 0;
    char enc[48];
    if (!d2 || !HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)t,
                     (size_t)(d2 - t), md, &ml))
        return 0;
    b64url_encode(md, ml, enc);
    return strlen(enc) == n - (size_t)(d2 - t) - 1 && !memcmp(enc, d2 + 1, strlen(enc));
}

/* ec_is - 1 if t's third part is a raw ES256 signature by the fixed EC key */
static int ec_is(const char *t, size_t n)
{
    const char *d2 = memrchr(t, '.', n);
    unsigned char sig[64];
    size_t sl = 0;
    return d2 && b64url_decode(d2 + 1, n - (size_t)(d2 - t) - 1, sig, sizeof(sig), &sl) == HG_OK &&
           pubkey_verify(ec, PUBKEY_SIG_RAW, sig, sl, t, (size_t)(d2 - t)) == 1;
}

static void tokens(const char *t, size_t n)
{
    const char *why;
    if (check(ka, t, n, &why) == HG_OK && !hmac_is(CUR, t, n) && !hmac_is(NEXT, t, n))
        die("A: HG_OK for a token no secret signed");
    if (check(kb, t, n, &why) == HG_OK && !ec_is(t, n))
        die("B: HG_OK for a token the EC key did not sign");
    if (check(kc, t, n, &why) == HG_OK && !hmac_is(CUR, t, n) && !ec_is(t, n))
        die("C: HG_OK for a token no key signed");
}

static void jwks_doc(const char *d, size_t n)
{
    struct secret s = {(unsigned char *)d, n};
    unsigned algs[2] = {JWT_RS256 | JWT_ES256, JWT_HS256 | JWT_RS256 | JWT_ES256};
    for (int i = 0; i < 2; i++) {
        struct jwt_keys *k = NULL;
        const char *why = NULL;
        int rc = jwt_keys_new(&s, 1, algs[i], &k, &why);
        if (rc == HG_OK) {
            size_t c = jwt_keys_count(k);
            if (!k || c < 1 || c > JWT_KEYS_MAX)
                die("jwt_keys_new: a key count out of bounds");
            check(k, es_tok, strlen(es_tok), &why);
            jwt_keys_free(k);
        } else if (k || !why || (rc != HG_EINVAL && rc != HG_ENOMEM)) {
            die("jwt_keys_new: an error without a reason, or with keys");
        }
    }
}

static void claims(const char *c)
{
    static char th[JWT_TOKEN_MAX + 1], te[JWT_TOKEN_MAX + 1];
    struct secret hs = {(unsigned char *)CUR, strlen(CUR)};
    struct secret es = {(unsigned char *)ec_pem, strlen(ec_pem)};
    int rh = jwt_sign(JWT_HS256, &hs, "k1", c, th, sizeof(th));
    int re = jwt_sign(JWT_ES256, &es, "e1", c, te, sizeof(te));
    if (rh != re && !(rh == HG_OK && re == HG_ETOOBIG)) /* ES256 signatures are longer */
        die("jwt_sign: HS256 and ES256 disagree on the claims");
    if (rh != HG_OK)
        return;
    const char *wh, *we;
    int vh = check(ka, th, strlen(th), &wh);
    if (re == HG_OK) {
        int ve = check(kb, te, strlen(te), &we);
        if (vh != ve || (wh && strcmp(wh, we)))
            die("the claims decide differently under HS256 and ES256");
    }
    size_t n = strlen(th);
    th[n - 2] = th[n - 2] == 'A' ? 'B' : 'A';
    if (check(ka, th, n, &wh) == HG_OK)
        die("a changed signature character verifies");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init();
        ready = 1;
    }
    if (!size)
        return 0;
    /* a heap copy of exactly the rest (plus a NUL for jwt_sign's C string) */
    size_t n = size - 1;
    char *d = malloc(n + 1);
    if (!d)
        abort();
    memcpy(d, data + 1, n);
    d[n] = '\0';
    switch (data[0] % 3) {
    case 0:
        tokens(d, n);
        break;
    case 1:
        jwks_doc(d, n);
        break;
    default:
        if (!memchr(d, '\0', n))
            claims(d);
    }
    free(d);
    return 0;
}
