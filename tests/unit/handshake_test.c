/*
 * handshake_test.c - the profile language added for issue 16, without a
 * server: handshakes (match, answer, the token-like rule for HMAC answers),
 * type_when, accept, and the verifier's new schemes (kv separator,
 * base64url, several signature headers, a signature in the body, JSON
 * members and RFC 3339 timestamps in the signed content, Basic
 * credentials, a token in every item of the body), plus load errors that
 * name the key.  Profiles are written to a temporary directory and loaded
 * as a config's profile_dirs would be.
 */
#include "t.h"

#include "buf.h"
#include "codec.h"
#include "err.h"
#include "handshake.h"
#include "profile.h"
#include "verify.h"

#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static char DIR_[64];

/* load - the profile file text as DIR_/name.json; the set (or NULL) and
 * the error text into err. */
static struct profile_set *load(const char *name, const char *json, char *err, size_t cap)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s.json", DIR_, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(json, f);
    (void)fclose(f);
    const char *dirs[] = {DIR_, NULL};
    struct profile_set *s = NULL;
    err[0] = '\0';
    int rc = profile_set_load(dirs, &s, err, cap);
    unlink(path);
    return rc ? NULL : s;
}

struct kv {
    const char *const *names, *const *values;
};

static const char *kv_get(void *ctx, const char *name)
{
    struct kv *k = ctx;
    for (int i = 0; k && k->names && k->names[i]; i++)
        if (!strcasecmp(k->names[i], name))
            return k->values[i];
    return NULL;
}

struct req2 {
    struct kv h, q;
};

static const char *hget(void *ctx, const char *n)
{
    return kv_get(&((struct req2 *)ctx)->h, n);
}

static const char *qget(void *ctx, const char *n)
{
    return kv_get(&((struct req2 *)ctx)->q, n);
}

static const char *ZOOM =
    "{\"name\":\"zz\",\"signature\":{\"header\":\"x-zm-signature\",\"format\":\"value\","
    "\"prefix\":\"v0=\",\"algorithm\":\"hmac-sha256\",\"encoding\":\"hex\","
    "\"content\":\"v0:{timestamp}:{body}\"},\"timestamp\":{\"from\":[{\"header\":"
    "\"x-zm-request-timestamp\"}]},\"id_fallback\":\"body_sha256\","
    "\"handshakes\":[{\"name\":\"url_validation\",\"method\":\"POST\",\"when\":[{\"pointer\":"
    "\"/event\",\"equals\":\"endpoint.url_validation\"}],\"verify\":\"signature\",\"answer\":{"
    "\"status\":200,\"json\":{\"plainToken\":{\"pointer\":\"/payload/plainToken\"},"
    "\"encryptedToken\":{\"hmac\":\"sha256\",\"encoding\":\"hex\",\"of\":{\"pointer\":"
    "\"/payload/plainToken\"}}}}},{\"name\":\"crc\",\"method\":\"GET\",\"when\":[{\"query\":"
    "\"crc_token\"}],\"verify\":\"none\",\"answer\":{\"status\":200,\"json\":{\"response_token\":"
    "{\"hmac\":\"sha256\",\"encoding\":\"base64\",\"prefix\":\"sha256=\",\"of\":{\"query\":"
    "\"crc_token\"}}}}}],\"type_when\":[{\"when\":[{\"header\":\"X-Kind\",\"equals\":\"rev\"}],"
    "\"type\":\"revocation\"}],\"accept\":{\"status\":204}}";

static void test_handshake_match_and_answer(void)
{
    char err[512];
    struct profile_set *s = load("zz", ZOOM, err, sizeof(err));
    T_CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct profile *p = profile_find(s, "zz");
    T_EQ_INT(p->nhs, 2);
    T_EQ_INT(p->accept_status, 204);
    T_CHECK(p->accept_empty);
    const char *body = "{\"event\":\"endpoint.url_validation\",\"payload\":{\"plainToken\":"
                       "\"qgg8vlvZRS6UYooatFL8Aw\"}}";
    struct req2 rq = {{0}, {0}};
    struct hs_request r = {"POST", NULL, 0, hget, qget, &rq, NULL};
    T_CHECK(handshake_match(p, &r) == NULL); /* a body condition: not before the body */
    r.body = body;
    r.body_len = strlen(body);
    const struct prof_handshake *h = handshake_match(p, &r);
    T_CHECK(h && !strcmp(h->name, "url_validation"));
    if (!h) {
        profile_set_free(s);
        return;
    }
    struct secret key = {(unsigned char *)"zoom-secret", 11};
    struct buf b;
    buf_init(&b, 1 << 16);
    const char *why = NULL;
    T_EQ_INT(handshake_answer(h, &r, &key, &b, &why), HG_OK);
    unsigned char md[32];
    unsigned ml = 0;
    HMAC(EVP_sha256(), key.data, (int)key.len, (const unsigned char *)"qgg8vlvZRS6UYooatFL8Aw", 22,
         md, &ml);
    char hex[65], want[256];
    hex_encode(md, ml, hex);
    snprintf(want, sizeof(want),
             "{\"plainToken\":\"qgg8vlvZRS6UYooatFL8Aw\",\"encryptedToken\":\"%s\"}", hex);
    buf_append(&b, "", 1);
    T_EQ_STR(b.p, want);
    buf_reset(&b);
    /* an event is not a handshake */
    r.body = "{\"event\":\"meeting.started\"}";
    r.body_len = strlen(r.body);
    T_CHECK(handshake_match(p, &r) == NULL);
    /* type_when */
    static const char *const hn[] = {"X-Kind", NULL}, *const hv[] = {"rev", NULL};
    rq.h = (struct kv){hn, hv};
    T_EQ_STR(handshake_type(p, &r), "revocation");
    rq.h = (struct kv){0};
    T_CHECK(handshake_type(p, &r) == NULL);
    buf_free(&b);
    profile_set_free(s);
}

/* the CRC answer is an HMAC of a value the caller chooses: it must never
 * be something a signed event body could be */
static void test_hmac_answer_refuses_bodies(void)
{
    char err[512];
    struct profile_set *s = load("zz", ZOOM, err, sizeof(err));
    T_CHECK(s != NULL);
    if (!s)
        return;
    const struct profile *p = profile_find(s, "zz");
    struct secret key = {(unsigned char *)"k", 1};
    static const char *const qn[] = {"crc_token", NULL};
    const char *bad[] = {"{\"a\":1}", "12345", "true", "null", "-1.5e3", "a b", "\"x\"", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *qv[] = {bad[i], NULL};
        struct req2 rq = {{0}, {qn, qv}};
        struct hs_request r = {"GET", NULL, 0, hget, qget, &rq, NULL};
        const struct prof_handshake *h = handshake_match(p, &r);
        if (!bad[i][0]) { /* empty: not even a match */
            T_CHECK(h == NULL);
            continue;
        }
        T_CHECK(h != NULL);
        struct buf b;
        buf_init(&b, 1 << 16);
        const char *why = NULL;
        T_CHECK(h && handshake_answer(h, &r, &key, &b, &why) != HG_OK);
        T_CHECK(b.len == 0 || b.p[0] != '{' || !strstr(b.p, "sha256="));
        buf_free(&b);
    }
    const char *qv[] = {"dGVzdA-_.~", NULL};
    struct req2 rq = {{0}, {qn, qv}};
    struct hs_request r = {"GET", NULL, 0, hget, qget, &rq, NULL};
    struct buf b;
    buf_init(&b, 1 << 16);
    const char *why = NULL;
    const struct prof_handshake *h = handshake_match(p, &r);
    T_CHECK(h && handshake_answer(h, &r, &key, &b, &why) == HG_OK);
    buf_free(&b);
    profile_set_free(s);
}

static void expect_load_error(const char *json, const char *needle)
{
    char err[512];
    struct profile_set *s = load("bad", json, err, sizeof(err));
    T_CHECK(s == NULL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
        t_cur_failed = 1;
    }
    profile_set_free(s);
}

#define SIG_VALUE                                                                                  \
    "\"signature\":{\"header\":\"X-S\",\"format\":\"value\",\"algorithm\":\"hmac-sha256\","        \
    "\"encoding\":\"hex\"},\"id_fallback\":\"body_sha256\""

static void test_load_errors_name_the_key(void)
{
    expect_load_error("{\"name\":\"bad\"," SIG_VALUE ",\"handshakes\":[{\"name\":\"x\",\"method\":"
                      "\"GET\",\"verify\":\"none\",\"answer\":{\"status\":200}}]}",
                      "$.handshakes[0].when");
    expect_load_error("{\"name\":\"bad\"," SIG_VALUE ",\"handshakes\":[{\"name\":\"x\",\"method\":"
                      "\"GET\",\"when\":[{\"query\":\"c\"}],\"verify\":\"signature\",\"answer\":"
                      "{\"status\":200}}]}",
                      "$.handshakes[0].verify");
    expect_load_error("{\"name\":\"bad\"," SIG_VALUE ",\"handshakes\":[{\"name\":\"x\",\"method\":"
                      "\"GET\",\"when\":[{\"query\":\"c\"}],\"verify\":\"none\",\"answer\":"
                      "{\"status\":302}}]}",
                      "$.handshakes[0].answer.status");
    expect_load_error("{\"name\":\"bad\"," SIG_VALUE ",\"accept\":{\"status\":201}}",
                      "$.accept.status");
    expect_load_error("{\"name\":\"bad\",\"signature\":{\"header\":\"X-S\",\"format\":\"value\","
                      "\"content\":\"{timestamp}\"},\"timestamp\":{\"from\":[{\"header\":\"T\"}]},"
                      "\"id_fallback\":\"body_sha256\"}",
                      "$.signature.content");
    expect_load_error("{\"name\":\"bad\",\"signature\":{\"format\":\"jwt\",\"header\":\"A\","
                      "\"jwt\":{\"algorithms\":[\"HS256\",\"RS256\"]}},"
                      "\"id_fallback\":\"body_sha256\"}",
                      "$.signature.jwt.algorithms");
    expect_load_error("{\"name\":\"bad\",\"signature\":{\"format\":\"jwt\",\"header\":\"A\","
                      "\"jwt\":{\"algorithms\":[\"none\"]}},\"id_fallback\":\"body_sha256\"}",
                      "$.signature.jwt.algorithms");
    expect_load_error("{\"name\":\"bad\",\"signature\":{\"format\":\"jwt\",\"header\":\"A\","
                      "\"jwt\":{\"algorithms\":[\"HS256\"]}},\"id_fallback\":\"body_sha256\"}",
                      "$.signature.jwt.body_hash");
    expect_load_error("{\"name\":\"bad\",\"signature\":{\"header\":\"X-S\",\"format\":\"value\","
                      "\"content\":\"{json:/t}\",\"covers_body\":false},"
                      "\"id_fallback\":\"body_sha256\"}",
                      "$.signature.covers_body");
    expect_load_error("{\"name\":\"bad\",\"signature\":{\"header\":\"X-S\",\"format\":\"value\","
                      "\"separator\":\";\"},\"id_fallback\":\"body_sha256\"}",
                      "$.signature.separator");
    expect_load_error(
        "{\"name\":\"bad\"," SIG_VALUE ",\"proof\":{\"kind\":\"guess\",\"by\":\"x\"}}", "$.proof");
}

/* sign then check a request under profile json with secret; returns the
 * verify_check result after tamper (0: none, 1: a body byte). */
static int round_trip(const char *name, const char *json, const char *body, const char *ts,
                      int tamper)
{
    char err[512];
    struct profile_set *s = load(name, json, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "  load: %s\n", err);
        return -1;
    }
    const struct profile *p = profile_find(s, name);
    struct secret sec = {(unsigned char *)"u:s3cret", 8};
    struct verifier *v = NULL;
    const char *why = NULL;
    int rc = verify_new(p, &sec, 1, &v, &why);
    char sig[1024] = "";
    struct verify_input in = {.body = body,
                              .body_len = strlen(body),
                              .timestamp = ts,
                              .token = "u:s3cret",
                              .url = "https://example.com/h?a=1",
                              .method = "POST",
                              .now_s = (int64_t)time(NULL),
                              .tolerance_s = 300};
    if (!rc)
        rc = verify_sign(v, &in, sig, sizeof(sig));
    char *b2 = strdup(body);
    if (tamper && b2[0])
        b2[strlen(b2) / 2] ^= 1;
    struct verify_input chk = in;
    chk.body = b2;
    chk.signature = sig;
    if (p->fmt == PROF_FMT_BASIC)
        chk.token = sig; /* the Authorization header's value */
    if (!rc)
        rc = verify_check(v, &chk, &why);
    free(b2);
    verify_free(v);
    profile_set_free(s);
    return rc;
}

static void test_new_schemes_round_trip(void)
{
    char now[32];
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    const char *kvsep = "{\"name\":\"pad\",\"signature\":{\"header\":\"P-S\",\"format\":\"kv\","
                        "\"separator\":\";\",\"versions\":{\"h1\":\"hmac-sha256\"},\"content\":"
                        "\"{timestamp}:{body}\"},\"timestamp\":{\"from\":[{\"signature\":\"ts\"}]},"
                        "\"id\":[{\"pointer\":\"/id\"}]}";
    T_EQ_INT(round_trip("pad", kvsep, "{\"id\":\"e1\"}", now, 0), HG_OK);
    T_EQ_INT(round_trip("pad", kvsep, "{\"id\":\"e1\"}", now, 1), HG_ESIG);
    const char *url = "{\"name\":\"sq\",\"signature\":{\"header\":\"S\",\"format\":\"value\","
                      "\"algorithm\":\"hmac-sha256\",\"encoding\":\"base64url\",\"content\":"
                      "\"{method}{url}{body}\"},\"id_fallback\":\"body_sha256\"}";
    T_EQ_INT(round_trip("sq", url, "{\"a\":1}", NULL, 0), HG_OK);
    T_EQ_INT(round_trip("sq", url, "{\"a\":1}", NULL, 1), HG_ESIG);
    const char *js = "{\"name\":\"mg\",\"signature\":{\"header\":\"S\",\"format\":\"value\","
                     "\"algorithm\":\"hmac-sha256\",\"content\":\"{timestamp}{json:/sig/token}\","
                     "\"covers_body\":false},\"timestamp\":{\"from\":[{\"pointer\":\"/sig/ts\"}]},"
                     "\"nonce\":[{\"pointer\":\"/sig/token\"}],\"id_fallback\":\"body_sha256\"}";
    char body[128];
    snprintf(body, sizeof(body), "{\"sig\":{\"ts\":\"%s\",\"token\":\"tok123\"}}", now);
    T_EQ_INT(round_trip("mg", js, body, now, 0), HG_OK);
    const char *basic = "{\"name\":\"pm\",\"signature\":{\"format\":\"basic\"},"
                        "\"id_fallback\":\"body_sha256\"}";
    T_EQ_INT(round_trip("pm", basic, "{}", NULL, 0), HG_OK);
}

static void test_rfc3339_window(void)
{
    const char *tw = "{\"name\":\"tw\",\"signature\":{\"header\":\"S\",\"format\":\"value\","
                     "\"prefix\":\"sha256=\",\"algorithm\":\"hmac-sha256\",\"content\":"
                     "\"{timestamp}{body}\"},\"timestamp\":{\"from\":[{\"header\":\"T\"}],"
                     "\"unit\":\"rfc3339\",\"tolerance\":\"10m\"},\"id_fallback\":\"body_sha256\"}";
    char ts[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    (void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.123456789Z", &tm);
    T_EQ_INT(round_trip("tw", tw, "{}", ts, 0), HG_OK);
    time_t old = now - 3600;
    gmtime_r(&old, &tm);
    (void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    T_EQ_INT(round_trip("tw", tw, "{}", ts, 0), HG_ESTALE);
    T_EQ_INT(round_trip("tw", tw, "{}", "2019-13-01T00:00:00Z", 0), HG_ESTALE);
}

static void test_token_in_every_item(void)
{
    char err[512];
    const char *g = "{\"name\":\"mg2\",\"signature\":{\"format\":\"token\",\"token_pointer\":"
                    "\"/value/*/clientState\"},\"id_fallback\":\"body_sha256\"}";
    struct profile_set *s = load("mg2", g, err, sizeof(err));
    T_CHECK(s != NULL);
    if (!s)
        return;
    const struct profile *p = profile_find(s, "mg2");
    struct secret sec[2] = {{(unsigned char *)"one", 3}, {(unsigned char *)"two", 3}};
    struct verifier *v = NULL;
    const char *why = NULL;
    T_EQ_INT(verify_new(p, sec, 2, &v, &why), HG_OK);
    struct {
        const char *body;
        int want;
    } cases[] = {
        {"{\"value\":[{\"clientState\":\"one\"},{\"clientState\":\"two\"}]}", HG_OK},
        {"{\"value\":[{\"clientState\":\"one\"},{\"clientState\":\"three\"}]}", HG_ESIG},
        {"{\"value\":[{\"clientState\":\"one\"},{\"other\":1}]}", HG_ESIG},
        {"{\"value\":[]}", HG_ESIG},
        {"{\"value\":[{\"clientState\":\"one\",\"clientState\":\"x\"}]}", HG_ESIG},
        {"not json", HG_ESIG},
    };
    for (size_t i = 0; v && i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct verify_input in = {.body = cases[i].body, .body_len = strlen(cases[i].body)};
        int rc = verify_check(v, &in, &why);
        if (rc != cases[i].want) {
            fprintf(stderr, "  case %zu: %d, want %d\n", i, rc, cases[i].want);
            t_cur_failed = 1;
        }
    }
    verify_free(v);
    profile_set_free(s);
}

/* a public key is never also an HMAC key: the built-in standard profile
 * (v1 HMAC + v1a Ed25519) with a 64-hex Ed25519 public key must refuse a v1
 * signature keyed by that key's text (review finding: anyone knows it) */
static void test_public_key_is_not_an_hmac_key(void)
{
    char err[512];
    const char *dirs[] = {NULL};
    struct profile_set *s = NULL;
    T_EQ_INT(profile_set_load(dirs, &s, err, sizeof(err)), HG_OK);
    const struct profile *p = profile_find(s, "standard");
    T_CHECK(p != NULL);
    if (!p) {
        profile_set_free(s);
        return;
    }
    const char *hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    struct secret sec = {(unsigned char *)hex, 64};
    struct verifier *v = NULL;
    const char *why = NULL;
    T_EQ_INT(verify_new(p, &sec, 1, &v, &why), HG_OK);
    /* the forger's v1: HMAC keyed by base64-decode(the key's text), as whsec would */
    unsigned char key[64];
    size_t kl = 0;
    T_EQ_INT(b64_decode(hex, 64, key, sizeof(key), &kl), HG_OK);
    char ts[32], msg[256], sig[128], hdr[160];
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    int ml = snprintf(msg, sizeof(msg), "msg_1.%s.{}", ts);
    unsigned char md[32];
    unsigned mdl = 0;
    HMAC(EVP_sha256(), key, (int)kl, (unsigned char *)msg, (size_t)ml, md, &mdl);
    b64_encode(md, mdl, sig);
    snprintf(hdr, sizeof(hdr), "v1,%s", sig);
    struct verify_input in = {.body = "{}",
                              .body_len = 2,
                              .signature = hdr,
                              .id = "msg_1",
                              .timestamp = ts,
                              .now_s = (int64_t)time(NULL),
                              .tolerance_s = 300};
    T_EQ_INT(v ? verify_check(v, &in, &why) : -1, HG_ESIG);
    verify_free(v);
    profile_set_free(s);
}

/* an HMAC answer over a value a caller picks must not be able to sign an
 * event: refused at load unless the content cannot be spelled by a token */
static void test_hmac_answer_oracle_refused_at_load(void)
{
    const char *hs = ",\"handshakes\":[{\"name\":\"crc\",\"method\":\"GET\",\"when\":[{\"query\":"
                     "\"crc_token\"}],\"verify\":\"none\",\"answer\":{\"status\":200,\"json\":{"
                     "\"response_token\":{\"hmac\":\"sha256\",\"encoding\":\"base64\",\"of\":{"
                     "\"query\":\"crc_token\"}}}}}]}";
    char json[1024], err[512];
    snprintf(json, sizeof(json),
             "{\"name\":\"bad\",\"signature\":{\"header\":\"S\",\"format\":\"value\","
             "\"algorithm\":\"hmac-sha256\",\"encoding\":\"base64\"},\"id_fallback\":"
             "\"body_sha256\",\"body\":\"any\"%s",
             hs);
    expect_load_error(json, "$.handshakes[0].answer");
    snprintf(json, sizeof(json),
             "{\"name\":\"bad\",\"signature\":{\"header\":\"S\",\"format\":\"value\","
             "\"algorithm\":\"hmac-sha256\",\"encoding\":\"base64\",\"content\":"
             "\"{timestamp}.{body}\"},\"timestamp\":{\"from\":[{\"header\":\"T\"}]},"
             "\"id_fallback\":\"body_sha256\",\"body\":\"json\"%s",
             hs);
    expect_load_error(json, "$.handshakes[0].answer");
    /* X's own shape loads: {body} alone, JSON bodies only */
    snprintf(json, sizeof(json),
             "{\"name\":\"ok\",\"signature\":{\"header\":\"S\",\"format\":\"value\","
             "\"algorithm\":\"hmac-sha256\",\"encoding\":\"base64\"},\"id_fallback\":"
             "\"body_sha256\",\"body\":\"json\"%s",
             hs);
    struct profile_set *s = load("ok", json, err, sizeof(err));
    T_CHECK(s != NULL);
    profile_set_free(s);
}

static void test_items_bounded_and_url_required(void)
{
    char err[512];
    const char *g = "{\"name\":\"mg3\",\"signature\":{\"format\":\"token\",\"token_pointer\":"
                    "\"/value/*/s\"},\"id_fallback\":\"body_sha256\"}";
    struct profile_set *s = load("mg3", g, err, sizeof(err));
    T_CHECK(s != NULL);
    if (!s)
        return;
    struct secret sec = {(unsigned char *)"one", 3};
    struct verifier *v = NULL;
    const char *why = NULL;
    T_EQ_INT(verify_new(profile_find(s, "mg3"), &sec, 1, &v, &why), HG_OK);
    char *body = malloc((size_t)16 * 1024);
    for (int items = 100; v && body && items <= 101; items++) {
        size_t n = (size_t)sprintf(body, "{\"value\":[");
        for (int i = 0; i < items; i++)
            n += (size_t)sprintf(body + n, "%s{\"s\":\"one\"}", i ? "," : "");
        n += (size_t)sprintf(body + n, "]}");
        struct verify_input in = {.body = body, .body_len = n};
        T_EQ_INT(verify_check(v, &in, &why), items == 100 ? HG_OK : HG_ESIG);
    }
    free(body);
    verify_free(v);
    profile_set_free(s);
    /* a {url} that could not be rebuilt is a hole: never verified as "" */
    const char *u =
        "{\"name\":\"uu\",\"signature\":{\"header\":\"S\",\"format\":\"value\","
        "\"algorithm\":\"hmac-sha256\",\"encoding\":\"hex\",\"content\":\"{url}{body}\"},"
        "\"id_fallback\":\"body_sha256\"}";
    s = load("uu", u, err, sizeof(err));
    T_CHECK(s != NULL);
    if (!s)
        return;
    struct secret k2 = {(unsigned char *)"k", 1};
    T_EQ_INT(verify_new(profile_find(s, "uu"), &k2, 1, &v, &why), HG_OK);
    unsigned char md[32];
    unsigned ml = 0;
    HMAC(EVP_sha256(), "k", 1, (const unsigned char *)"{}", 2, md, &ml);
    char hex[65];
    hex_encode(md, ml, hex);
    struct verify_input in = {.body = "{}", .body_len = 2, .signature = hex, .url = ""};
    T_EQ_INT(verify_check(v, &in, &why), HG_ESIG);
    in.url = NULL;
    T_EQ_INT(verify_check(v, &in, &why), HG_ESIG);
    verify_free(v);
    profile_set_free(s);
}

int main(void)
{
    snprintf(DIR_, sizeof(DIR_), "/tmp/hg-hs-test-XXXXXX");
    if (!mkdtemp(DIR_))
        return 1;
    T_RUN(test_handshake_match_and_answer);
    T_RUN(test_hmac_answer_refuses_bodies);
    T_RUN(test_load_errors_name_the_key);
    T_RUN(test_new_schemes_round_trip);
    T_RUN(test_rfc3339_window);
    T_RUN(test_token_in_every_item);
    T_RUN(test_public_key_is_not_an_hmac_key);
    T_RUN(test_hmac_answer_oracle_refused_at_load);
    T_RUN(test_items_bounded_and_url_required);
    rmdir(DIR_);
    return t_finish();
}
