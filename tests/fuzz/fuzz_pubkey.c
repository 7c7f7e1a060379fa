// clang-format off
/*
 * fuzz_pubkey.c - libFuzzer driver for gateway/pubkey.c: key texts and
 * signatures.
 *
 * The first input byte picks what the rest is (mode = byte % 4):
 *   0, 1  a key text for pubkey_parse (want_private = mode 1);
 *   2     a signature of the fixed message MSG, checked by pubkey_verify
 *         (DER and raw r||s) under fixed keys: Ed25519 and EC P-256 from
 *         fixed private values (so seeds can hold valid signatures) and an
 *         RSA key generated at start;
 *   3     JWK-like components: pubkey_p256(x = the first 32 bytes, y = the
 *         next 32) and pubkey_rsa(n = all but the last 3 bytes, e = those).
 * Invariants:
 *  - never crashes, reads out of bounds or leaks;
 *  - pubkey_parse returns HG_OK with a key of a kind pubkey_kind names and
 *    priv 0/1, 1 (no key form) or HG_EINVAL with a reason, never a key
 *    otherwise; a private key it returns signs a message that both it and
 *    its public half (pubkey_public) verify, and a changed byte does not;
 *  - pubkey_verify returns 0 or 1; 1 under Ed25519 only for the very
 *    signature pubkey_sign makes (Ed25519 is deterministic), never under the
 *    random RSA key, and under EC never for another message as well;
 *  - pubkey_p256 / pubkey_rsa give a key of their kind or none.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_pubkey (linked against the
 * hgcore library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "err.h"
#include "pubkey.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char MSG[] = "fuzz message";

static EVP_PKEY *ed, *ec, *rsa;
static unsigned char ed_sig[64];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_pubkey: %s\n", what);
    abort();
}

/* ec_fixed - the P-256 key pair of the private value 1, 2, ..., 32 */
static EVP_PKEY *ec_fixed(void)
{
    unsigned char d[32], pt[65];
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
        EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), NULL) != 65 ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)) ||
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

static void init(void)
{
    unsigned char seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)(7 * i + 1);
    ed = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    ec = ec_fixed();
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    size_t sl = 0;
    if (!ed || !rsa || pubkey_kind(ec) != PUBKEY_EC_P256 ||
        pubkey_sign(ed, 0, MSG, sizeof(MSG) - 1, ed_sig, sizeof(ed_sig), &sl) != HG_OK)
        die("keys");
}

/* round_trip - k (private) signs; k and its public half verify; a flip fails */
static void round_trip(EVP_PKEY *k)
{
    unsigned char sig[PUBKEY_SIG_MAX];
    size_t sl = 0;
    EVP_PKEY *pub = pubkey_public(k);
    if (!pub || pubkey_kind(pub) != pubkey_kind(k))
        die("pubkey_public");
    unsigned flags = pubkey_kind(k) == PUBKEY_EC_P256 ? PUBKEY_SIG_RAW : 0;
    if (pubkey_sign(k, flags, MSG, sizeof(MSG) - 1, sig, sizeof(sig), &sl) != HG_OK)
        die("pubkey_sign with a parsed private key");
    if (pubkey_verify(k, flags, sig, sl, MSG, sizeof(MSG) - 1) != 1 ||
        pubkey_verify(pub, flags, sig, sl, MSG, sizeof(MSG) - 1) != 1)
        die("round trip: a signature does not verify");
    sig[0] ^= 1;
    if (pubkey_verify(pub, flags, sig, sl, MSG, sizeof(MSG) - 1) != 0)
        die("round trip: a changed signature verifies");
    EVP_PKEY_free(pub);
}

static void parse(const uint8_t *d, size_t n, int want_private)
{
    EVP_PKEY *k = NULL;
    int priv = -1;
    const char *why = NULL;
    int rc = pubkey_parse(d, n, want_private, &k, &priv, &why);
    if (rc == 1 || rc == HG_ENOMEM) {
        if (k)
            die("a key with 'no key form'");
        return;
    }
    if (rc == HG_EINVAL) {
        if (k || !why || !*why)
            die("HG_EINVAL with a key or without a reason");
        return;
    }
    if (rc != HG_OK || !k || pubkey_kind(k) == PUBKEY_NONE || (priv != 0 && priv != 1))
        die("pubkey_parse: unexpected result");
    if (priv)
        round_trip(k);
    EVP_PKEY_free(k);
}

static void verify(const uint8_t *d, size_t n)
{
    for (unsigned f = 0; f <= PUBKEY_SIG_RAW; f++) {
        int r = pubkey_verify(ed, f, d, n, MSG, sizeof(MSG) - 1);
        if (r != 0 && (r != 1 || n != 64 || memcmp(d, ed_sig, 64)))
            die("Ed25519: a signature other than the one pubkey_sign makes");
        if (pubkey_verify(rsa, f, d, n, MSG, sizeof(MSG) - 1) != 0)
            die("RSA: a forged signature verifies");
        r = pubkey_verify(ec, f, d, n, MSG, sizeof(MSG) - 1);
        if (r != 0 && r != 1)
            die("EC: not 0 or 1");
        if (r == 1 && pubkey_verify(ec, f, d, n, MSG, sizeof(MSG) - 2) != 0)
            die("EC: a signature verifies for another message");
    }
}

static void components(const uint8_t *d, size_t n)
{
    EVP_PKEY *k = NULL;
    const char *why = NULL;
    if (n >= 64 && pubkey_p256(d, d + 32, &k, &why) == HG_OK) {
        if (pubkey_kind(k) != PUBKEY_EC_P256)
            die("pubkey_p256: another kind");
        EVP_PKEY_free(k);
    } else if (k) {
        die("pubkey_p256: a key on failure");
    }
    k = NULL;
    if (n >= 4 && pubkey_rsa(d, n - 3, d + n - 3, 3, &k, &why) == HG_OK) {
        if (pubkey_kind(k) != PUBKEY_RSA)
            die("pubkey_rsa: another kind");
        unsigned char j[PUBKEY_SIG_MAX] = {0};
        if (pubkey_verify(k, 0, j, (size_t)EVP_PKEY_get_size(k), MSG, 3) > 1)
            die("pubkey_verify under a fuzzed RSA key");
        EVP_PKEY_free(k);
    } else if (k) {
        die("pubkey_rsa: a key on failure");
    }
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
    /* a heap copy of exactly the rest: any read past it is an ASan report */
    size_t n = size - 1;
    uint8_t *d = malloc(n ? n : 1);
    if (!d)
        abort();
    memcpy(d, data + 1, n);
    switch (data[0] % 4) {
    case 0:
    case 1:
        parse(d, n, data[0] % 4);
        break;
    case 2:
        verify(d, n);
        break;
    default:
        components(d, n);
    }
    free(d);
    return 0;
}
