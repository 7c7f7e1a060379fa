/*
 * jwt_test.c - unit tests of gateway/jwt.c: HS256/RS256/ES256 round trips
 * (jwt_sign then jwt_verify), a wrong key, changed bytes, alg "none" and
 * algorithm confusion (an HS256 token keyed with an RSA public key's PEM),
 * exp/nbf/iat with leeway, iss, aud (string and array), sub, the body hash
 * (base64url with and without padding, hex), kid selection and the try
 * bound, JWKS documents with RSA (n, e) and EC (crv, x, y) keys, malformed
 * tokens and key sets.
 *
 * Keys are generated at test time (EVP_PKEY_Q_keygen): no key files.
 */
#include "codec.h"
#include "err.h"
#include "jwt.h"
#include "t.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdlib.h>

#define NOW  1763846959LL
#define BODY "{\"hello\":\"world\"}"
#define URL  "https://hooks.example.com/q"

static EVP_PKEY *rsa, *rsa2, *ec;
static char *rsa_pub, *rsa_priv, *rsa2_priv, *ec_pub, *ec_priv;
static char tok[JWT_TOKEN_MAX + 1];

/* put - dst = s (cap bytes) */
static void put(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
}

/* cat - s appended to dst (cap bytes) */
static void cat(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    snprintf(dst + n, cap - n, "%s", s);
}

static struct secret S(const char *s) {
    return (struct secret){(unsigned char *)s, strlen(s)};
}

static char *
pem(EVP_PKEY *k, int priv)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (priv)
        PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_bio_PUBKEY(b, k);
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static void body_b64(char out[48])
{
    unsigned char h[32];
    SHA256((const unsigned char *)BODY, strlen(BODY), h);
    b64url_encode(h, 32, out);
}

/* claims - Upstash-like claims around NOW; extra is appended inside the object */
static const char *claims(const char *extra)
{
    static char c[16384];
    char b[48];
    body_b64(b);
    snprintf(c, sizeof(c),
             "{\"iss\":\"Upstash\",\"sub\":\"" URL "\",\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld,"
             "\"jti\":\"jwt_1\",\"body\":\"%s\"%s}",
             NOW + 300, NOW, NOW, b, extra ? extra : "");
    return c;
}

static struct jwt_want want(void)
{
    static const char *const iss[] = {"Upstash"};
    return (struct jwt_want){.issuers = iss,
                             .nissuers = 1,
                             .subject = URL,
                             .body_claim = "body",
                             .body = BODY,
                             .body_len = strlen(BODY),
                             .now_s = NOW,
                             .leeway_s = 0};
}

static struct jwt_keys *keys(unsigned algs, const char *a, const char *b)
{
    struct secret s[2] = {S(a), S(b ? b : "")};
    struct jwt_keys *k = NULL;
    const char *why = NULL;
    int rc = jwt_keys_new(s, b ? 2 : 1, algs, &k, &why);
    if (rc)
        fprintf(stderr, "    jwt_keys_new: %s\n", why ? why : "?");
    return k;
}

static int verify(const struct jwt_keys *k, const char *t, const struct jwt_want *w)
{
    const char *why = "unset";
    int rc = jwt_verify(k, t, strlen(t), w, &why);
    if ((rc == HG_OK) != (why == NULL))
        return -1; /* a reason exactly on failure */
    return rc;
}

/* sign - a token of claims c into tok */
static int sign(unsigned alg, const char *key, const char *kid, const char *c)
{
    struct secret s = S(key);
    return jwt_sign(alg, &s, kid, c, tok, sizeof(tok));
}

/* mk - b64url(h).b64url(p).sig, HMAC-signed with key when sig is NULL */
static const char *mk(const char *h, const char *p, const char *sig, const char *key)
{
    static char t[JWT_TOKEN_MAX * 2];
    b64url_encode((const unsigned char *)h, strlen(h), t);
    size_t n = strlen(t);
    t[n++] = '.';
    b64url_encode((const unsigned char *)p, strlen(p), t + n);
    n += strlen(t + n);
    if (sig) {
        snprintf(t + n, sizeof(t) - n, ".%s", sig);
        return t;
    }
    unsigned char md[32];
    unsigned ml = 0;
    if (!key)
        return t;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)t, n, md, &ml);
    t[n++] = '.';
    b64url_encode(md, ml, t + n);
    return t;
}

static void test_hs256(void)
{
    struct jwt_want w = want();
    struct jwt_keys *k = keys(JWT_HS256, "sig_current", "sig_next");
    T_CHECK(k != NULL);
    T_EQ_INT(jwt_keys_count(k), 2);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, claims(NULL)), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    T_EQ_INT(sign(JWT_HS256, "sig_next", NULL, claims(NULL)), HG_OK); /* rotation */
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    T_EQ_INT(sign(JWT_HS256, "sig_other", NULL, claims(NULL)), HG_OK); /* wrong key */
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    /* every changed byte fails */
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, claims(NULL)), HG_OK);
    size_t n = strlen(tok);
    int all = 1;
    for (size_t i = 0; i < n; i++) {
        char c = tok[i];
        tok[i] = (char)(c == 'A' ? 'B' : c == '.' ? '-' : 'A');
        all &= verify(k, tok, &w) == HG_ESIG;
        tok[i] = c;
    }
    T_CHECK(all);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    tok[n - 1] = '\0'; /* truncated */
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    jwt_keys_free(k);
}

static void test_pk_round_trips(void)
{
    struct jwt_want w = want();
    struct jwt_keys *k = keys(JWT_RS256 | JWT_ES256, rsa_pub, ec_pub);
    T_CHECK(k != NULL);
    T_EQ_INT(jwt_keys_count(k), 2);
    T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, claims(NULL)), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    T_EQ_INT(sign(JWT_RS256, rsa2_priv, NULL, claims(NULL)), HG_OK); /* wrong key */
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    T_EQ_INT(sign(JWT_ES256, ec_priv, NULL, claims(NULL)), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    /* ES256 signatures are the raw 64-byte r||s: 86 base64url characters */
    T_EQ_INT(strlen(strrchr(tok, '.') + 1), 86);
    tok[strlen(tok) - 3] ^= 1;
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    /* only RS256 allowed: an ES256 token is refused by its alg */
    struct jwt_keys *r = keys(JWT_RS256, rsa_pub, NULL);
    T_EQ_INT(sign(JWT_ES256, ec_priv, NULL, claims(NULL)), HG_OK);
    const char *why = NULL;
    T_EQ_INT(jwt_verify(r, tok, strlen(tok), &w, &why), HG_ESIG);
    T_EQ_STR(why, "JWT alg not allowed for this route");
    jwt_keys_free(r);
    jwt_keys_free(k);
}

static void test_alg_none_and_others(void)
{
    struct jwt_want w = want();
    struct jwt_keys *k = keys(JWT_HS256, "sig_current", NULL);
    const char *c = claims(NULL);
    T_EQ_INT(verify(k, mk("{\"alg\":\"none\"}", c, "", NULL), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"none\"}", c, "AAAA", NULL), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"none\"}", c, NULL, "sig_current"), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"HS384\"}", c, NULL, "sig_current"), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"hs256\"}", c, NULL, "sig_current"), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"typ\":\"JWT\"}", c, NULL, "sig_current"), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":256}", c, NULL, "sig_current"), &w), HG_ESIG);
    /* the same header by hand verifies: mk is right */
    T_EQ_INT(verify(k, mk("{\"alg\":\"HS256\"}", c, NULL, "sig_current"), &w), HG_OK);
    /* crit, duplicate members, non-object header or payload */
    T_EQ_INT(verify(k,
                    mk("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", c, NULL, "sig_current"),
                    &w),
             HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", c, NULL, "sig_current"), &w),
             HG_ESIG);
    T_EQ_INT(verify(k, mk("[\"HS256\"]", c, NULL, "sig_current"), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"HS256\"}", "[1]", NULL, "sig_current"), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"HS256\"}", "{\"exp\":1,\"exp\":2}", NULL, "sig_current"), &w),
             HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"HS256\"}", "not json", NULL, "sig_current"), &w), HG_ESIG);
    T_EQ_INT(verify(k, mk("{\"alg\":\"HS256\",\"kid\":7}", c, NULL, "sig_current"), &w), HG_ESIG);
    jwt_keys_free(k);
}

static void test_alg_confusion(void)
{
    struct jwt_want w = want();
    const char *why = NULL;
    /* HS256 and RS256 allowed, the secret an RSA public key: it is an RS256 key only */
    struct jwt_keys *k = keys(JWT_HS256 | JWT_RS256, rsa_pub, NULL);
    T_CHECK(k != NULL);
    T_EQ_INT(sign(JWT_HS256, rsa_pub, NULL, claims(NULL)), HG_OK);
    T_EQ_INT(jwt_verify(k, tok, strlen(tok), &w, &why), HG_ESIG);
    T_EQ_STR(why, "JWT signature mismatch");
    T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, claims(NULL)), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    jwt_keys_free(k);
    /* HS256 only with a public key as the secret: refused at load */
    struct secret s = S(rsa_pub);
    k = NULL;
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_HS256, &k, &why), HG_EINVAL);
    T_CHECK(k == NULL && why != NULL);
    s = S(ec_pub);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_HS256 | JWT_RS256, &k, &why), HG_EINVAL);
    /* an RS256 token checked against an HS256 key set never uses the MAC */
    k = keys(JWT_HS256, "sig_current", NULL);
    T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, claims(NULL)), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    jwt_keys_free(k);
}

static void test_times(void)
{
    struct jwt_want w = want();
    struct jwt_keys *k = keys(JWT_HS256, "sig_current", NULL);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, claims(NULL)), HG_OK);
    w.now_s = NOW + 299;
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    w.now_s = NOW + 300; /* exp is exclusive */
    T_EQ_INT(verify(k, tok, &w), HG_ESTALE);
    w.leeway_s = 5;
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    w.now_s = NOW + 305;
    T_EQ_INT(verify(k, tok, &w), HG_ESTALE);
    w.now_s = NOW - 5; /* nbf and iat NOW: within the leeway */
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    w.now_s = NOW - 6;
    T_EQ_INT(verify(k, tok, &w), HG_ESTALE);
    w.leeway_s = 0;
    w.now_s = NOW;

    char c[512];
    const char *why = NULL;
    const char *const cases[][2] = {
        {"{\"iss\":\"Upstash\"}", "JWT without exp"},
        {"{\"iss\":\"Upstash\",\"exp\":\"1763847259\"}", "malformed exp claim"},
        {"{\"iss\":\"Upstash\",\"exp\":1763846958}", "JWT expired"},
        {"{\"iss\":\"Upstash\",\"exp\":1763847259,\"nbf\":1763846960}", "JWT not valid yet (nbf)"},
        {"{\"iss\":\"Upstash\",\"exp\":1763847259,\"nbf\":null}", "malformed nbf claim"},
        {"{\"iss\":\"Upstash\",\"exp\":1763847259,\"iat\":1763846960}", "JWT issued in the future"},
        {"{\"iss\":\"Upstash\",\"exp\":1763847259,\"iat\":true}", "malformed iat claim"},
    };
    w.subject = NULL;
    w.body_claim = NULL;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, cases[i][0]), HG_OK);
        T_EQ_INT(jwt_verify(k, tok, strlen(tok), &w, &why), HG_ESTALE);
        T_EQ_STR(why, cases[i][1]);
    }
    /* numbers that are not integers are numbers (NumericDate) */
    snprintf(c, sizeof(c), "{\"iss\":\"Upstash\",\"exp\":%lld.5,\"nbf\":%lld.5}", NOW, NOW - 1);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    jwt_keys_free(k);
}

static void test_iss_aud_sub(void)
{
    static const char *const google[] = {"accounts.google.com", "https://accounts.google.com"};
    struct jwt_want w = {.issuers = google, .nissuers = 2, .audience = URL, .now_s = NOW};
    struct jwt_keys *k = keys(JWT_RS256, rsa_pub, NULL);
    char c[512];
    const char *const iss[] = {"accounts.google.com", "https://accounts.google.com",
                               "https://accounts.google.com/", "Accounts.google.com"};
    for (int i = 0; i < 4; i++) {
        snprintf(c, sizeof(c),
                 "{\"aud\":\"" URL "\",\"email\":\"x@example.com\",\"exp\":%lld,\"iss\":\"%s\"}",
                 NOW + 60, iss[i]);
        T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, c), HG_OK);
        T_EQ_INT(verify(k, tok, &w), i < 2 ? HG_OK : HG_ESIG);
    }
    const char *const auds[] = {"[\"https://other\",\"" URL "\"]",
                                "\"" URL "/\"",
                                "[\"https://other\"]",
                                "[]",
                                "7",
                                "[[\"" URL "\"]]"};
    for (int i = 0; i < 6; i++) {
        snprintf(c, sizeof(c), "{\"aud\":%s,\"exp\":%lld,\"iss\":\"accounts.google.com\"}", auds[i],
                 NOW + 60);
        T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, c), HG_OK);
        T_EQ_INT(verify(k, tok, &w), i == 0 ? HG_OK : HG_ESIG);
    }
    snprintf(c, sizeof(c), "{\"exp\":%lld,\"iss\":\"accounts.google.com\"}", NOW + 60);
    T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_ESIG); /* aud missing */
    w.audience = NULL;
    T_EQ_INT(verify(k, tok, &w), HG_OK); /* not checked */
    w.nissuers = 0;
    snprintf(c, sizeof(c), "{\"exp\":%lld}", NOW + 60);
    T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    jwt_keys_free(k);

    /* sub */
    struct jwt_want u = want();
    k = keys(JWT_HS256, "sig_current", NULL);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, claims(NULL)), HG_OK);
    u.subject = URL "/other";
    T_EQ_INT(verify(k, tok, &u), HG_ESIG);
    u.subject = "https://hooks.example.com/";
    T_EQ_INT(verify(k, tok, &u), HG_ESIG);
    jwt_keys_free(k);
}

static void test_body_hash(void)
{
    struct jwt_want w = want();
    struct jwt_keys *k = keys(JWT_HS256, "sig_current", NULL);
    unsigned char h[32];
    char b[80], hex[65], c[512];
    SHA256((const unsigned char *)BODY, strlen(BODY), h);
    b64url_encode(h, 32, b);
    w.subject = NULL;
    w.issuers = NULL;
    w.nissuers = 0;
    struct {
        const char *claim;
        int hex, ok;
    } cases[8];
    char padded[96], upper[65];
    snprintf(padded, sizeof(padded), "%s=", b);
    hex_encode(h, 32, hex);
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
    cases[0].claim = b, cases[0].hex = 0, cases[0].ok = 1;
    cases[1].claim = padded, cases[1].hex = 0, cases[1].ok = 1;
    cases[2].claim = hex, cases[2].hex = 1, cases[2].ok = 1;
    cases[3].claim = upper, cases[3].hex = 1, cases[3].ok = 1;
    cases[4].claim = hex, cases[4].hex = 0, cases[4].ok = 0;
    cases[5].claim = b, cases[5].hex = 1, cases[5].ok = 0;
    cases[6].claim = "", cases[6].hex = 0, cases[6].ok = 0;
    cases[7].claim = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", cases[7].hex = 0,
    cases[7].ok = 0; /* the hash of an empty body */
    for (int i = 0; i < 8; i++) {
        snprintf(c, sizeof(c), "{\"exp\":%lld,\"body\":\"%s\"}", NOW + 60, cases[i].claim);
        T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, c), HG_OK);
        w.body_hex = cases[i].hex;
        T_EQ_INT(verify(k, tok, &w), cases[i].ok ? HG_OK : HG_ESIG);
    }
    w.body_hex = 0;
    w.body = "";
    w.body_len = 0;
    T_EQ_INT(verify(k, tok, &w), HG_OK); /* the last one: an empty body */
    w.body = NULL;
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    snprintf(c, sizeof(c), "{\"exp\":%lld,\"body\":42}", NOW + 60);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    snprintf(c, sizeof(c), "{\"exp\":%lld}", NOW + 60);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    jwt_keys_free(k);
}

/* jwk - one JWK of k (RSA or EC P-256) with kid, appended to out */
static void jwk(EVP_PKEY *k, const char *kid, const char *extra, char *out, size_t cap)
{
    char a[1400], b[100];
    size_t n = strlen(out);
    if (EVP_PKEY_is_a(k, "RSA")) {
        BIGNUM *bn = NULL, *be = NULL;
        unsigned char nb[1024], eb[16];
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn);
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &be);
        b64url_encode(nb, (size_t)BN_bn2bin(bn, nb), a);
        b64url_encode(eb, (size_t)BN_bn2bin(be, eb), b);
        BN_free(bn);
        BN_free(be);
        snprintf(out + n, cap - n, "%s{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}",
                 out[n - 1] == '[' ? "" : ",", kid, a, b, extra);
    } else {
        unsigned char pt[65];
        size_t pl = 0;
        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &pl);
        b64url_encode(pt + 1, 32, a);
        b64url_encode(pt + 33, 32, b);
        snprintf(out + n, cap - n,
                 "%s{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
                 out[n - 1] == '[' ? "" : ",", kid, a, b, extra);
    }
}

static void test_jwks_and_kid(void)
{
    static char doc[16384];
    put(doc, sizeof(doc), "{\"keys\":[");
    jwk(rsa, "r1", ",\"alg\":\"RS256\",\"use\":\"sig\"", doc, sizeof(doc));
    jwk(rsa2, "r2", "", doc, sizeof(doc));
    jwk(ec, "e1", ",\"alg\":\"ES256\"", doc, sizeof(doc));
    cat(doc, sizeof(doc),
        ",{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"o\",\"x\":\"AAAA\"}"
        ",{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}"
        ",{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"p384\",\"x\":\"AA\",\"y\":\"AA\"}");
    jwk(rsa, "enc", ",\"use\":\"enc\"", doc, sizeof(doc));
    jwk(rsa, "r512", ",\"alg\":\"RS512\"", doc, sizeof(doc));
    cat(doc, sizeof(doc), "]}");
    struct jwt_keys *k = keys(JWT_RS256 | JWT_ES256, doc, NULL);
    T_CHECK(k != NULL);
    T_EQ_INT(jwt_keys_count(k), 3);
    struct jwt_keys *ronly = keys(JWT_RS256, doc, NULL);
    T_EQ_INT(jwt_keys_count(ronly), 2);
    jwt_keys_free(ronly);

    struct jwt_want w = {.now_s = NOW};
    char c[128];
    snprintf(c, sizeof(c), "{\"exp\":%lld}", NOW + 60);
    T_EQ_INT(sign(JWT_RS256, rsa2_priv, "r2", c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    T_EQ_INT(sign(JWT_RS256, rsa2_priv, "r1", c), HG_OK); /* r2's signature, r1's kid */
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    T_EQ_INT(sign(JWT_RS256, rsa2_priv, "nope", c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    T_EQ_INT(sign(JWT_RS256, rsa2_priv, NULL, c), HG_OK); /* no kid: every RS256 key */
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    T_EQ_INT(sign(JWT_ES256, ec_priv, "e1", c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    T_EQ_INT(sign(JWT_ES256, ec_priv, "r1", c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    jwt_keys_free(k);

    /* a JWKS plus a PEM key without a kid: tried whatever the token's kid */
    k = keys(JWT_RS256, doc, rsa_pub);
    T_EQ_INT(jwt_keys_count(k), 3);
    T_EQ_INT(sign(JWT_RS256, rsa_priv, "unknown", c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    jwt_keys_free(k);
}

static void test_jwks_errors(void)
{
    static char doc[70000];
    const char *why = NULL;
    struct jwt_keys *k = NULL;
    const char *const bad[] = {
        "{",
        "{}",
        "{\"keys\":{}}",
        "{\"keys\":[]}",
        "{\"keys\":[1]}",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":5,\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[],\"keys\":[]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct secret s = S(bad[i]);
        why = NULL;
        T_EQ_INT(jwt_keys_new(&s, 1, JWT_RS256 | JWT_ES256, &k, &why), HG_EINVAL);
        T_CHECK(k == NULL && why != NULL);
    }
    /* off the curve */
    put(doc, sizeof(doc), "{\"keys\":[");
    jwk(ec, "e1", "", doc, sizeof(doc));
    cat(doc, sizeof(doc), "]}");
    char *y = strstr(doc, "\"y\":\"") + 5;
    y[10] = y[10] == 'A' ? 'B' : 'A';
    struct secret s = S(doc);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_ES256, &k, &why), HG_EINVAL);
    /* a JWKS needs a public-key algorithm */
    put(doc, sizeof(doc), "{\"keys\":[");
    jwk(rsa, "r1", "", doc, sizeof(doc));
    cat(doc, sizeof(doc), "]}");
    s = S(doc);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_HS256, &k, &why), HG_EINVAL);
    /* 33 keys */
    put(doc, sizeof(doc), "{\"keys\":[");
    for (int i = 0; i < 33; i++)
        jwk(ec, "e", "", doc, sizeof(doc));
    cat(doc, sizeof(doc), "]}");
    s = S(doc);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_ES256, &k, &why), HG_EINVAL);
    T_EQ_STR(why, "JWKS with more than 32 keys");
    /* larger than 64 KiB */
    put(doc, sizeof(doc), "{\"pad\":\"");
    memset(doc + 8, 'a', 66000);
    put(doc + 8 + 66000, sizeof(doc) - 8 - 66000, "\",\"keys\":[]}");
    s = S(doc);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_ES256, &k, &why), HG_EINVAL);
    T_EQ_STR(why, "JWKS larger than 64 KiB");
}

static void test_try_bound(void)
{
    /* nine HMAC keys: a token by the ninth is never tried */
    char names[9][8];
    struct secret s[9];
    for (int i = 0; i < 9; i++) {
        snprintf(names[i], sizeof(names[i]), "key_%d", i);
        s[i] = S(names[i]);
    }
    struct jwt_keys *k = NULL;
    const char *why = NULL;
    T_EQ_INT(jwt_keys_new(s, 9, JWT_HS256, &k, &why), HG_OK);
    struct jwt_want w = {.now_s = NOW};
    char c[64];
    snprintf(c, sizeof(c), "{\"exp\":%lld}", NOW + 60);
    T_EQ_INT(sign(JWT_HS256, "key_7", NULL, c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    T_EQ_INT(sign(JWT_HS256, "key_8", NULL, c), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_ESIG);
    jwt_keys_free(k);
}

static void test_malformed_tokens(void)
{
    struct jwt_want w = want();
    struct jwt_keys *k = keys(JWT_HS256, "sig_current", NULL);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, claims(NULL)), HG_OK);
    char good[JWT_TOKEN_MAX + 1], t[JWT_TOKEN_MAX + 64];
    put(good, sizeof(good), tok);
    const char *const bad[] = {"", ".", "..", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        T_EQ_INT(jwt_verify(k, bad[i], strlen(bad[i]), &w, NULL), HG_ESIG);
    snprintf(t, sizeof(t), "%s.", good); /* four parts */
    T_EQ_INT(verify(k, t, &w), HG_ESIG);
    snprintf(t, sizeof(t), "%s=", good); /* padding */
    T_EQ_INT(verify(k, t, &w), HG_ESIG);
    snprintf(t, sizeof(t), " %s", good);
    T_EQ_INT(verify(k, t, &w), HG_ESIG);
    snprintf(t, sizeof(t), "Bearer %s", good);
    T_EQ_INT(verify(k, t, &w), HG_ESIG);
    /* a NUL inside: len covers it */
    put(t, sizeof(t), good);
    t[5] = '\0';
    T_EQ_INT(jwt_verify(k, t, strlen(good), &w, NULL), HG_ESIG);
    T_EQ_INT(jwt_verify(k, good, strlen(good), &w, NULL), HG_OK);
    T_EQ_INT(jwt_verify(NULL, good, strlen(good), &w, NULL), HG_ESIG);
    T_EQ_INT(jwt_verify(k, NULL, 0, &w, NULL), HG_ESIG);
    /* longer than 8 KiB, and claims that would make one */
    static char big[JWT_TOKEN_MAX + 100], pad[JWT_TOKEN_MAX];
    memset(big, 'A', sizeof(big) - 1);
    big[10] = big[20] = '.';
    T_EQ_INT(verify(k, big, &w), HG_ESIG);
    memset(pad, 'x', 7000);
    pad[7000] = '\0';
    snprintf(big, sizeof(big), ",\"pad\":\"%s\"", pad);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, claims(big)), HG_ETOOBIG);
    pad[5000] = '\0';
    snprintf(big, sizeof(big), ",\"pad\":\"%s\"", pad);
    T_EQ_INT(sign(JWT_HS256, "sig_current", NULL, claims(big)), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    /* non-canonical base64url: stray bits in the last character */
    put(t, sizeof(t), good);
    size_t n = strlen(t);
    char last = t[n - 1]; /* 32-byte MAC: 43 characters, the last carries 2 spare bits */
    t[n - 1] = (char)(last + 1);
    T_EQ_INT(verify(k, t, &w), HG_ESIG);
    jwt_keys_free(k);
}

static void test_keys_new(void)
{
    struct jwt_keys *k = NULL;
    const char *why = NULL;
    struct secret s = S("sig_current");
    T_EQ_INT(jwt_keys_new(&s, 1, 0, &k, &why), HG_EINVAL);
    T_EQ_INT(jwt_keys_new(&s, 1, 0x8, &k, &why), HG_EINVAL);
    T_EQ_INT(jwt_keys_new(&s, 0, JWT_HS256, &k, &why), HG_EINVAL);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_RS256, &k, &why), HG_EINVAL); /* no public key */
    T_CHECK(k == NULL && why != NULL);
    s = S("whpk_AAAA");
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_HS256, &k, &why), HG_EINVAL); /* malformed key form */
    s = S("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_RS256, &k, &why), HG_EINVAL);
    /* 64 hex digits are an HMAC key for HS256 (and no key for RS256) */
    const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    s = S(hex);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_HS256, &k, &why), HG_OK);
    T_EQ_INT(jwt_keys_count(k), 1);
    struct jwt_want w = {.now_s = NOW};
    T_EQ_INT(sign(JWT_HS256, hex, NULL, "{\"exp\":1763847000}"), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    jwt_keys_free(k);
    k = NULL;
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_RS256, &k, &why), HG_EINVAL);
    /* a private key as a verification key: its public half */
    s = S(rsa_priv);
    T_EQ_INT(jwt_keys_new(&s, 1, JWT_RS256, &k, &why), HG_OK);
    T_EQ_INT(sign(JWT_RS256, rsa_priv, NULL, "{\"exp\":1763847000}"), HG_OK);
    T_EQ_INT(verify(k, tok, &w), HG_OK);
    jwt_keys_free(k);
    jwt_keys_free(NULL);
}

static void test_sign_errors(void)
{
    T_EQ_INT(sign(JWT_HS256, "k", NULL, "[1]"), HG_EINVAL);
    T_EQ_INT(sign(JWT_HS256, "k", NULL, "{"), HG_EINVAL);
    T_EQ_INT(sign(JWT_HS256, "k", NULL, "{\"a\":1,\"a\":2}"), HG_EINVAL);
    T_EQ_INT(sign(JWT_HS256 | JWT_RS256, "k", NULL, "{}"), HG_EINVAL);
    T_EQ_INT(sign(0, "k", NULL, "{}"), HG_EINVAL);
    T_EQ_INT(sign(JWT_RS256, rsa_pub, NULL, "{}"), HG_EINVAL);  /* a public key */
    T_EQ_INT(sign(JWT_RS256, ec_priv, NULL, "{}"), HG_EINVAL);  /* another type */
    T_EQ_INT(sign(JWT_ES256, rsa_priv, NULL, "{}"), HG_EINVAL); /* another type */
    T_EQ_INT(sign(JWT_RS256, "not a key", NULL, "{}"), HG_EINVAL);
    T_EQ_INT(sign(JWT_HS256, "k", "bad\xff utf8", "{}"), HG_EINVAL);
    struct secret s = S("k");
    char small[40];
    T_EQ_INT(jwt_sign(JWT_HS256, &s, NULL, "{\"exp\":1}", small, sizeof(small)), HG_ETOOBIG);
    /* header and payload as documented: compact, member order kept */
    T_EQ_INT(sign(JWT_HS256, "k", "k1", "{ \"z\" : 1, \"a\" : [ 1, 2 ] }"), HG_OK);
    unsigned char dec[256];
    size_t dl = 0;
    char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
    T_EQ_INT(b64url_decode(tok, (size_t)(d1 - tok), dec, sizeof(dec) - 1, &dl), HG_OK);
    dec[dl] = '\0';
    T_EQ_STR((char *)dec, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
    T_EQ_INT(b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), dec, sizeof(dec) - 1, &dl), HG_OK);
    dec[dl] = '\0';
    T_EQ_STR((char *)dec, "{\"z\":1,\"a\":[1,2]}");
}

int main(void)
{
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!rsa || !rsa2 || !ec) {
        fprintf(stderr, "key generation failed\n");
        return 1;
    }
    rsa_pub = pem(rsa, 0);
    rsa_priv = pem(rsa, 1);
    rsa2_priv = pem(rsa2, 1);
    ec_pub = pem(ec, 0);
    ec_priv = pem(ec, 1);
    T_RUN(test_hs256);
    T_RUN(test_pk_round_trips);
    T_RUN(test_alg_none_and_others);
    T_RUN(test_alg_confusion);
    T_RUN(test_times);
    T_RUN(test_iss_aud_sub);
    T_RUN(test_body_hash);
    T_RUN(test_jwks_and_kid);
    T_RUN(test_jwks_errors);
    T_RUN(test_try_bound);
    T_RUN(test_malformed_tokens);
    T_RUN(test_keys_new);
    T_RUN(test_sign_errors);
    free(rsa_pub);
    free(rsa_priv);
    free(rsa2_priv);
    free(ec_pub);
    free(ec_priv);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec);
    return t_finish();
}
