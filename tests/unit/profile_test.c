/*
 * profile_test.c - every vector of tests/vectors/vectors.json through
 * the built-in profile it names, using the same header lookups as serve
 * (extract_verify_input) and the same signer as `hookgate sign`:
 *  - the vector verifies with the clock pinned to its timestamp;
 *  - one flipped byte in the body, the signature or the id fails;
 *  - a clock 1 h later fails for timestamped profiles (stale);
 *  - rotation: a wrong secret first, the right one second, verifies;
 *  - verify_sign reproduces the vector's signature byte for byte (one of
 *    them when the header carries several);
 * plus profile-file validation errors that name the key, and what
 * extract_event makes of bodies: a repeated id/type/time key (also on a
 * nested pointer's path) is HG_EDUPKEY naming it; a body that is not JSON
 * is HG_EBADJSON when the Content-Type says JSON, on every profile; an id
 * or type holding a control, a line separator or a bidirectional control
 * (escaped or raw, body or header) is HG_EBADID with an answer naming the
 * field and the character; a key derived from the body lives in its own
 * namespace (EXTRACT_DERIVED), apart from producer ids.
 */
#include "t.h"

#include "codec.h"
#include "config.h"
#include "err.h"
#include "extract.h"
#include "profile.h"
#include "verify.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static struct profile_set *PS;

/* a vector's headers, with optional overrides (name -> value) */
struct hdrs {
    json_t *h;
    const char *over_name, *over_value;
};

static const char *lookup(void *ctx, const char *name)
{
    struct hdrs *x = ctx;
    if (x->over_name && !strcasecmp(name, x->over_name))
        return x->over_value;
    const char *k;
    json_t *v;
    json_object_foreach(x->h, k, v)
    {
        if (!strcasecmp(k, name))
            return json_string_value(v);
    }
    return NULL;
}

static int run_check(const struct profile *p, const char *secret2, const char *secret,
                     const char *body, size_t blen, struct hdrs *h, int64_t now)
{
    struct secret s[2];
    size_t n = 0;
    if (secret2) {
        s[n].data = (unsigned char *)secret2;
        s[n++].len = strlen(secret2);
    }
    s[n].data = (unsigned char *)secret;
    s[n++].len = strlen(secret);
    struct verifier *v = NULL;
    const char *why = NULL;
    int rc = verify_new(p, s, n, &v, &why);
    T_EQ_INT(rc, HG_OK);
    if (rc)
        return rc;
    struct verify_input in = {.body = body,
                              .body_len = blen,
                              .now_s = now,
                              .tolerance_s = p->tolerance_s ? p->tolerance_s : 300};
    extract_verify_input(p, lookup, h, &in);
    rc = verify_check(v, &in, &why);
    verify_free(v);
    return rc;
}

static void one_vector(json_t *vec)
{
    const char *pname = json_string_value(json_object_get(vec, "profile"));
    const struct profile *p = profile_find(PS, pname);
    T_CHECK(p != NULL);
    if (!p)
        return;
    const char *secret = json_string_value(json_object_get(vec, "secret"));
    const char *body = json_string_value(json_object_get(vec, "body"));
    T_CHECK(secret != NULL && body != NULL);
    if (!secret || !body)
        return;
    size_t blen = strlen(body);
    int64_t ts = json_integer_value(json_object_get(vec, "timestamp"));
    int64_t now = ts ? ts : 1763846959;
    struct hdrs h = {json_object_get(vec, "headers"), NULL, NULL};
    const char *sig = extract_header(lookup, &h, p->sig_header);
    T_CHECK(sig != NULL);
    if (!sig)
        return;
    printf("  %s: %s\n", pname, json_string_value(json_object_get(vec, "source")));

    T_EQ_INT(run_check(p, NULL, secret, body, blen, &h, now), HG_OK);
    /* rotation: a wrong secret listed first changes nothing */
    const char *wrong = !strncmp(secret, "whpk_", 5)
                            ? "whpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
                        : !strncmp(secret, "whsec_", 6) ? "whsec_AAAAAAAAAAAAAAAAAAAAAAAA"
                                                        : "not-the-secret";
    T_EQ_INT(run_check(p, wrong, secret, body, blen, &h, now), HG_OK);
    /* the wrong secret alone fails */
    T_EQ_INT(run_check(p, NULL, wrong, body, blen, &h, now), HG_ESIG);

    /* one flipped body byte */
    char *b2 = strdup(body);
    b2[blen / 2] ^= 0x01;
    T_EQ_INT(run_check(p, NULL, secret, b2, blen, &h, now), HG_ESIG);
    free(b2);

    /* one flipped signature character (the last digest character of every
     * signature in the header: a multi-signature header must fail entirely) */
    char s2[2048];
    snprintf(s2, sizeof(s2), "%s", sig);
    for (char *q = s2; *q; q++) {
        if (q[1] != '\0' && q[1] != ' ' && q[1] != ',')
            continue;
        char *d = q;
        while (d > s2 && *d == '=') /* base64 padding */
            d--;
        *d = (char)(*d == 'A' ? 'B' : *d == '0' ? '1' : 'A');
    }
    struct hdrs hs = {h.h, p->sig_header[0], s2};
    for (int i = 0; p->sig_header[i]; i++)
        if (lookup(&h, p->sig_header[i]))
            hs.over_name = p->sig_header[i];
    int frc = run_check(p, NULL, secret, body, blen, &hs, now);
    T_CHECK(frc == HG_ESIG || frc == HG_ESTALE);

    /* a flipped header-borne id, when the signature covers it */
    const char *idh = NULL;
    for (int i = 0; p->id[i].src; i++)
        if (p->id[i].src == PROF_HEADER && lookup(&h, p->id[i].name) && !idh)
            idh = p->id[i].name;
    if (idh && profile_uses(p, "{id}")) {
        char id2[512];
        snprintf(id2, sizeof(id2), "%sX", lookup(&h, idh));
        struct hdrs hi = {h.h, idh, id2};
        T_EQ_INT(run_check(p, NULL, secret, body, blen, &hi, now), HG_ESIG);
    }
    /* stale: the same request one hour later */
    if (p->has_timestamp)
        T_EQ_INT(run_check(p, NULL, secret, body, blen, &h, now + 3600), HG_ESTALE);

    /* the signer reproduces the header (or one of its signatures) */
    const char *signing = json_string_value(json_object_get(vec, "signing_secret"));
    struct secret ss = {(unsigned char *)(signing ? signing : secret),
                        strlen(signing ? signing : secret)};
    struct verifier *v = NULL;
    const char *why = NULL;
    T_EQ_INT(verify_new(p, &ss, 1, &v, &why), HG_OK);
    struct verify_input in = {.body = body, .body_len = blen};
    extract_verify_input(p, lookup, &h, &in);
    char tsbuf[32];
    if (!in.timestamp && ts) {
        snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
        in.timestamp = tsbuf;
    }
    char out[1024];
    T_EQ_INT(verify_sign(v, &in, out, sizeof(out)), HG_OK);
    verify_free(v);
    if (p->fmt == PROF_FMT_KV) {
        /* "t=..,v1=.." : the v1 entry must be among the header's */
        const char *v1 = strchr(out, ',');
        T_CHECK(v1 != NULL);
        if (v1) {
            T_CHECK(strstr(sig, v1 + 1) != NULL);
            T_CHECK(!strncmp(out, sig, (size_t)(v1 - out)));
        }
    } else if (p->fmt == PROF_FMT_LIST) {
        T_CHECK(strstr(sig, out) != NULL);
    } else {
        T_EQ_STR(out, sig);
    }
}

static void test_vectors(void)
{
    char path[1024];
    const char *env = getenv("HG_FIXTURES");
    snprintf(path, sizeof(path), "%s/vectors.json", env ? env : "tests/vectors");
    json_error_t e;
    json_t *f = json_load_file(path, 0, &e);
    T_CHECK(f != NULL);
    if (!f)
        return;
    size_t i, n = 0;
    json_t *vec;
    json_array_foreach(json_object_get(f, "vectors"), i, vec)
    {
        one_vector(vec);
        n++;
    }
    T_CHECK(n >= 10);
    json_decref(f);
}

static void test_builtins(void)
{
    const char *names[] = {"generic",     "iex",       "standard", "github",
                           "github-sha1", "stripe",    "slack",    "shopify",
                           "hubex",       "openwebui", "unsigned", "ultimate-multisite"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        T_CHECK(profile_find(PS, names[i]) != NULL);
    const struct profile *hx = profile_find(PS, "hubex");
    T_EQ_STR(profile_type_map(hx, "40"), "object.created");
    T_EQ_STR(profile_type_map(hx, "44"), "object.unpublished");
    T_EQ_STR(profile_type_map(hx, "99"), "99");
    T_CHECK(profile_find(PS, "openwebui")->is_unsigned);
    T_EQ_INT(profile_find(PS, "stripe")->reject_future, 0);
}

/* bad - a profile dir with one file; profile_set_load must fail naming what */
static void bad(const char *file, const char *json, const char *want)
{
    char dir[] = "/tmp/hg-profile-test.XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL);
    if (f) {
        fputs(json, f);
        T_EQ_INT(fclose(f), 0);
    }
    const char *dirs[] = {dir, NULL};
    struct profile_set *s = NULL;
    char err[512] = "";
    T_EQ_INT(profile_set_load(dirs, &s, err, sizeof(err)), HG_ECONFIG);
    if (!strstr(err, want) || !strstr(err, file))
        fprintf(stderr, "  message: %s (want %s)\n", err, want);
    T_CHECK(strstr(err, want) != NULL);
    T_CHECK(strstr(err, file) != NULL);
    profile_set_free(s);
    unlink(path);
    rmdir(dir);
}

static void test_bad_files(void)
{
    bad("x.json",
        "{\"name\":\"x\",\"signature\":{\"header\":\"X\",\"format\":\"value\"},\"idd\":[]}",
        "$.idd: unknown key");
    bad("y.json", "{\"name\":\"x\",\"unsigned\":true,\"id_fallback\":\"body_sha256\"}",
        "must equal the file name");
    bad("z.json",
        "{\"name\":\"z\",\"signature\":{\"header\":\"X\",\"format\":\"value\",\"algorithm\":"
        "\"md5\"},"
        "\"id_fallback\":\"body_sha256\"}",
        "$.signature.algorithm");
    bad("w.json",
        "{\"name\":\"w\",\"signature\":{\"header\":\"X\",\"format\":\"value\",\"content\":\"{bdy}"
        "\"},"
        "\"id_fallback\":\"body_sha256\"}",
        "unknown placeholder");
    bad("v.json",
        "{\"name\":\"v\",\"signature\":{\"header\":\"X\",\"format\":\"kv\"},"
        "\"id_fallback\":\"body_sha256\"}",
        "$.signature.versions");
    bad("generic.json", "{\"name\":\"generic\",\"unsigned\":true,\"id_fallback\":\"body_sha256\"}",
        "already loaded");
    bad("u.json", "{\"name\":\"u\",\"unsigned\":true}", "$.id");
    bad("t.json", "{\"name\":\"t\",\"unsigned\":true,\"id\":[{\"pointer\":\"id\"}]}",
        "starts with '/'");
    bad("s.json", "{\"name\":\"s\", oops}", "invalid JSON");
    /* a template must cover the body, and a header timestamp */
    bad("b.json",
        "{\"name\":\"b\",\"signature\":{\"header\":\"X\",\"format\":\"value\",\"content\":\"v0:{"
        "timestamp}\"},"
        "\"timestamp\":{\"from\":[{\"header\":\"T\"}]},\"id_fallback\":\"body_sha256\"}",
        "must cover the body");
    bad("c.json",
        "{\"name\":\"c\",\"signature\":{\"header\":\"X\",\"format\":\"value\",\"content\":\"{body}"
        "\"},"
        "\"timestamp\":{\"from\":[{\"header\":\"T\"}]},\"id_fallback\":\"body_sha256\"}",
        "must contain {timestamp}");
    bad("_x.json", "{\"name\":\"_x\",\"unsigned\":true,\"id_fallback\":\"body_sha256\"}",
        "starting with [a-z0-9]");
}

/* regression: with no webhook-id the Ed25519 message cannot be built; a
 * signature over the empty prefix must not pass (it did when a partial
 * message was reused for the second candidate) */
static void test_ed25519_unbuildable_message(void)
{
    static const unsigned char seed[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                           12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                           23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    unsigned char pub[32], sig[64];
    size_t pl = 32, sl = 64;
    EVP_PKEY_get_raw_public_key(k, pub, &pl);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    T_CHECK(EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
            EVP_DigestSign(c, sig, &sl, (const unsigned char *)"", 0) == 1);
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(k);
    char pk[64], sb[100], hdr[300], key[80];
    b64_encode(pub, 32, pk);
    b64_encode(sig, 64, sb);
    snprintf(key, sizeof(key), "whpk_%s", pk);
    snprintf(hdr, sizeof(hdr), "v1a,%s v1a,%s", "AAAA", sb);
    const struct profile *p = profile_find(PS, "standard");
    struct secret s = {(unsigned char *)key, strlen(key)};
    struct verifier *v = NULL;
    const char *why = NULL;
    T_EQ_INT(verify_new(p, &s, 1, &v, &why), HG_OK);
    struct verify_input in = {.body = "{}",
                              .body_len = 2,
                              .signature = hdr,
                              .id = NULL,
                              .timestamp = "1763846959",
                              .now_s = 1763846959,
                              .tolerance_s = 300};
    T_EQ_INT(verify_check(v, &in, &why), HG_ESIG);
    snprintf(hdr, sizeof(hdr), "v1a,%s", sb);
    T_EQ_INT(verify_check(v, &in, &why), HG_ESIG);
    verify_free(v);
}

/* hdr_tab - extract_header_fn over a {name, value} table ending in {NULL} */
static const char *hdr_tab(void *ctx, const char *name)
{
    const char *const(*t)[2] = ctx;
    for (; t && (*t)[0]; t++)
        if (!strcasecmp((*t)[0], name))
            return (*t)[1];
    return NULL;
}

/* extract - extract_event of body on a route with profile p (and the why) */
static int extract(const struct profile *p, const char *const (*hdrs)[2], const char *body,
                   struct extract_result *x, const char **why)
{
    struct cfg_route rt = {.path = "/hooks/t", .name = "t", .profile = p};
    *why = NULL;
    return extract_event(&rt, hdr_tab, (void *)hdrs, body, strlen(body), x, why);
}

static void test_extract_duplicate_keys(void)
{
    static const struct {
        const char *profile, *body, *key; /* key NULL: accepted */
    } cases[] = {
        {"generic", "{\"id\":\"a\",\"event\":\"t\",\"id\":\"b\"}", "id"},
        {"generic", "{\"event_id\":\"a\",\"event_id\":\"a\"}", "event_id"},
        {"generic", "{\"event_id\":\"a\",\"type\":\"x\",\"type\":\"y\"}", "type"},
        {"generic", "{\"event_id\":\"a\",\"time\":1,\"time\":2}", "time"},
        {"generic", "{\"event_id\":\"a\",\"created_at\":1,\"created_at\":2}", "created_at"},
        {"generic", "{\"ev\\u0065nt_id\":\"a\",\"event_id\":\"b\"}", "event_id"},
        /* repeats of members the profile does not read are the producer's business */
        {"generic", "{\"event_id\":\"a\",\"x\":1,\"x\":2}", NULL},
        {"generic", "{\"event_id\":\"a\",\"data\":{\"id\":1,\"id\":2}}", NULL},
        {"standard", "{\"type\":\"x\",\"type\":\"y\"}", "type"},
        {"standard", "{\"type\":\"x\",\"timestamp\":1,\"timestamp\":2}", "timestamp"},
        {"standard", "{\"type\":\"x\",\"id\":1,\"id\":2}", NULL},
        {"stripe", "{\"id\":\"evt\",\"type\":\"x\",\"id\":\"evt2\"}", "id"},
        {"ultimate-multisite", "{\"wu_version\":\"1\",\"wu_version\":\"2\"}", "wu_version"},
        /* github reads id and type from headers: no body key is its */
        {"github", "{\"id\":1,\"id\":2,\"action\":\"a\",\"action\":\"b\"}", NULL},
    };
    static const char *const hdrs[][2] = {{"X-GitHub-Delivery", "d-1"},
                                          {"X-GitHub-Event", "push"},
                                          {"webhook-id", "msg_1"},
                                          {NULL, NULL}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct profile *p = profile_find(PS, cases[i].profile);
        struct extract_result x;
        const char *why;
        int rc = extract(p, hdrs, cases[i].body, &x, &why);
        if (!cases[i].key) {
            T_EQ_INT(rc, HG_OK);
            T_EQ_INT(x.kind, EVENT_BODY_JSON);
            continue;
        }
        char want[128];
        snprintf(want, sizeof(want), "duplicate key \"%s\" in body", cases[i].key);
        T_EQ_INT(rc, HG_EDUPKEY);
        T_EQ_STR(x.reason, want);
        T_CHECK(why == x.reason);
        if (rc != HG_EDUPKEY)
            fprintf(stderr, "  case %zu: %s %s\n", i, cases[i].profile, cases[i].body);
    }
    T_EQ_INT(hg_http_status(HG_EDUPKEY), 400);
}

/* nested_set - the built-ins plus a profile "nested" whose id and type are
 * nested pointers (the path the jansson tree serves) */
static struct profile_set *nested_set(void)
{
    char dir[] = "/tmp/hg-profile-test.XXXXXX", path[64], err[512];
    struct profile_set *s = NULL;
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/nested.json", dir);
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL);
    if (f) {
        fputs("{\"name\":\"nested\",\"unsigned\":true,\"id\":[{\"pointer\":\"/data/object/id\"}],"
              "\"type\":[{\"pointer\":\"/a~1b/0/t\"},{\"pointer\":\"/type\"}],"
              "\"id_fallback\":\"body_sha256\"}",
              f);
        T_EQ_INT(fclose(f), 0);
    }
    const char *dirs[] = {dir, NULL};
    T_EQ_INT(profile_set_load(dirs, &s, err, sizeof(err)), HG_OK);
    unlink(path);
    rmdir(dir);
    return s;
}

static void test_extract_duplicate_nested(void)
{
    static const struct {
        const char *body, *key;
    } cases[] = {
        {"{\"data\":{\"object\":{\"id\":\"a\",\"id\":\"b\"}}}", "data.object.id"},
        {"{\"data\":{\"object\":{\"id\":\"a\"},\"object\":{}}}", "data.object"},
        {"{\"data\":{\"object\":{\"id\":\"a\"}},\"data\":1}", "data"},
        {"{\"a/b\":[{\"t\":\"x\",\"t\":\"y\"}]}", "a/b.0.t"},
        {"{\"type\":\"x\",\"type\":\"y\"}", "type"},
        {"{\"data\":{\"object\":{\"id\":\"a\",\"n\":1,\"n\":2}},\"z\":1,\"z\":2}", NULL},
        {"{\"a/b\":[{\"t\":\"x\"},{\"t\":1,\"t\":2}]}", NULL},
    };
    struct profile_set *s = nested_set();
    const struct profile *p = s ? profile_find(s, "nested") : NULL;
    T_CHECK(p && p->needs_tree);
    for (size_t i = 0; p && i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct extract_result x;
        const char *why;
        int rc = extract(p, NULL, cases[i].body, &x, &why);
        if (!cases[i].key) {
            T_EQ_INT(rc, HG_OK);
            continue;
        }
        char want[128];
        snprintf(want, sizeof(want), "duplicate key \"%s\" in body", cases[i].key);
        T_EQ_INT(rc, HG_EDUPKEY);
        T_EQ_STR(x.reason, want);
    }
    struct extract_result x;
    const char *why;
    T_EQ_INT(extract(p, NULL, "{\"data\":{\"object\":{\"id\":\"n-1\"}},\"a/b\":[{\"t\":\"k\"}]}",
                     &x, &why),
             HG_OK);
    T_EQ_STR(x.id, "n-1");
    T_EQ_STR(x.type, "k");
    profile_set_free(s);
}

static void test_extract_json_content_type(void)
{
    static const char *const names[] = {
        "generic", "iex",     "standard", "github",    "github-sha1", "stripe",
        "slack",   "shopify", "hubex",    "openwebui", "unsigned",    "ultimate-multisite"};
    static const char *const cts[] = {"application/json", "application/json; charset=utf-8",
                                      "Application/JSON", "application/vnd.api+json"};
    static const char *const bodies[] = {"not json", "{\"event_id\":\"a\",}", "",
                                         "{\"a\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct profile *p = profile_find(PS, names[i]);
        for (size_t c = 0; c < sizeof(cts) / sizeof(cts[0]); c++)
            for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
                /* every header a profile may take its id from is there */
                const char *const hdrs[][2] = {
                    {"Content-Type", cts[c]},     {"X-Webhook-Event-Id", "h-1"},
                    {"X-GitHub-Delivery", "h-1"}, {"X-Shopify-Webhook-Id", "h-1"},
                    {"webhook-id", "h-1"},        {NULL, NULL}};
                struct extract_result x;
                const char *why;
                T_EQ_INT(extract(p, hdrs, bodies[b], &x, &why), HG_EBADJSON);
                T_CHECK(why != NULL);
            }
    }
    /* other types keep text bodies on the profiles that take any body */
    static const char *const text_cts[] = {"text/plain", "application/x-www-form-urlencoded", NULL,
                                           "application/jsonl", "text/json"};
    for (size_t c = 0; c < sizeof(text_cts) / sizeof(text_cts[0]); c++) {
        const char *const hdrs[][2] = {{text_cts[c] ? "Content-Type" : "X-None", text_cts[c]},
                                       {"X-GitHub-Delivery", "h-1"},
                                       {NULL, NULL}};
        struct extract_result x;
        const char *why;
        T_EQ_INT(extract(profile_find(PS, "github"), hdrs, "plain text", &x, &why), HG_OK);
        T_EQ_INT(x.kind, EVENT_BODY_TEXT);
        T_EQ_STR(x.id, "h-1");
        T_EQ_INT(extract(profile_find(PS, "slack"), hdrs, "command=%2Fx&text=hi", &x, &why), HG_OK);
        T_EQ_INT(x.kind, EVENT_BODY_TEXT);
        T_EQ_INT(extract(profile_find(PS, "iex"), hdrs, "plain text", &x, &why), HG_EBADJSON);
    }
    /* valid JSON that is no object is JSON, whatever the type */
    const char *const js[][2] = {
        {"Content-Type", "application/json"}, {"X-GitHub-Delivery", "h-2"}, {NULL, NULL}};
    struct extract_result x;
    const char *why;
    T_EQ_INT(extract(profile_find(PS, "github"), js, "[1,2]", &x, &why), HG_OK);
    T_EQ_INT(x.kind, EVENT_BODY_JSON);
}

static void test_ctype_is_json(void)
{
    static const char *const yes[] = {"application/json",
                                      "APPLICATION/JSON",
                                      "application/json;charset=utf-8",
                                      "application/json ; charset=utf-8",
                                      " application/json",
                                      "application/json ",
                                      "application/vnd.github+json",
                                      "application/cloudevents+JSON; charset=utf-8",
                                      "application/problem+json"};
    static const char *const no[] = {"",
                                     "text/json",
                                     "text/plain",
                                     "application/x-www-form-urlencoded",
                                     "application/jsonl",
                                     "application/x-ndjson",
                                     "application/json-seq",
                                     "application/+json",
                                     "application/json x",
                                     "application/",
                                     "json",
                                     "multipart/form-data; boundary=json"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        T_EQ_INT(extract_ctype_is_json(yes[i]), 1);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        T_EQ_INT(extract_ctype_is_json(no[i]), 0);
    T_EQ_INT(extract_ctype_is_json(NULL), 0);
}

/* test_extract_forbidden_characters - every control, separator and
 * bidirectional control in an id or a type, from the body (escaped and raw)
 * and from a header: HG_EBADID, the answer naming the field and the
 * character, the log reason one constant per field; the characters that
 * stay allowed pass. */
static void test_extract_forbidden_characters(void)
{
    static const unsigned bad[] = {0x00,   0x01,   0x09,   0x0a,   0x1b,   0x1f,   0x7f,
                                   0x80,   0x85,   0x9b,   0x9f,   0x061c, 0x200e, 0x200f,
                                   0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
                                   0x2066, 0x2067, 0x2068, 0x2069};
    const struct profile *g = profile_find(PS, "generic");
    struct extract_result x;
    const char *why;
    char body[128], want[96], raw[8], hv[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned cp = bad[i];
        /* escaped in the body: id, then type */
        snprintf(body, sizeof(body), "{\"event_id\":\"a\\u%04xb\",\"event\":\"t\"}", cp);
        T_EQ_INT(extract(g, NULL, body, &x, &why), HG_EBADID);
        snprintf(want, sizeof(want), "U+%04X", cp);
        T_CHECK(!strncmp(x.reason, "invalid event id: ", 18) && strstr(x.reason, want));
        T_EQ_STR(why, "event id too long or not printable");
        snprintf(body, sizeof(body), "{\"event_id\":\"a\",\"event\":\"t\\u%04x\"}", cp);
        T_EQ_INT(extract(g, NULL, body, &x, &why), HG_EBADID);
        T_CHECK(!strncmp(x.reason, "invalid event type: ", 20) && strstr(x.reason, want));
        T_EQ_STR(why, "event type too long or not printable");
        if (cp < 0x80)
            continue;
        /* raw UTF-8, in the body and in a header */
        size_t n = 0;
        if (cp < 0x800) {
            raw[n++] = (char)(0xc0 | cp >> 6);
        } else {
            raw[n++] = (char)(0xe0 | cp >> 12);
            raw[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        }
        raw[n++] = (char)(0x80 | (cp & 0x3f));
        raw[n] = '\0';
        snprintf(body, sizeof(body), "{\"id\":\"a%sb\"}", raw);
        T_EQ_INT(extract(g, NULL, body, &x, &why), HG_EBADID);
        T_CHECK(strstr(x.reason, want) != NULL);
        snprintf(hv, sizeof(hv), "a%s", raw);
        const char *const h[][2] = {
            {"X-Webhook-Event-Id", "h1"}, {"X-Webhook-Event-Type", hv}, {NULL, NULL}};
        T_EQ_INT(extract(g, h, "{}", &x, &why), HG_EBADID);
        T_CHECK(!strncmp(x.reason, "invalid event type: ", 20) && strstr(x.reason, want));
    }
    /* the classes are named */
    T_EQ_INT(extract(g, NULL, "{\"id\":\"\\u009b\"}", &x, &why), HG_EBADID);
    T_EQ_STR(x.reason, "invalid event id: control character U+009B");
    T_EQ_INT(extract(g, NULL, "{\"id\":\"\\u2028\"}", &x, &why), HG_EBADID);
    T_EQ_STR(x.reason, "invalid event id: line or paragraph separator U+2028");
    T_EQ_INT(extract(g, NULL, "{\"id\":\"\\u202e\"}", &x, &why), HG_EBADID);
    T_EQ_STR(x.reason, "invalid event id: bidirectional control U+202E");
    T_EQ_INT(extract(g, NULL, "{\"id\":[1]}", &x, &why), HG_EBADID);
    T_EQ_STR(x.reason, "invalid event id: not a string or number");
    const char *const bad8[][2] = {{"X-Webhook-Event-Id", "a\xff"}, {NULL, NULL}};
    T_EQ_INT(extract(g, bad8, "{}", &x, &why), HG_EBADID);
    T_EQ_STR(x.reason, "invalid event id: not valid UTF-8");
    /* allowed: other non-ASCII, zero-width space, BOM, no-break space */
    T_EQ_INT(extract(g, NULL,
                     "{\"id\":\"\xc3\xa9\\u200b\\ufeff\",\"type\":\"t\\u00a0\xe4\xb8\xad\"}", &x,
                     &why),
             HG_OK);
    T_EQ_STR(x.id, "\xc3\xa9\xe2\x80\x8b\xef\xbb\xbf");
    T_EQ_STR(x.reason, ""); /* no answer text left from an earlier refusal */
}

/* test_extract_dedupe_namespaces - a derived key starts with
 * EXTRACT_DERIVED, so a producer id equal to the derived id is another key */
static void test_extract_dedupe_namespaces(void)
{
    const struct profile *u = profile_find(PS, "unsigned"); /* id_fallback body_sha256 */
    const struct profile *g = profile_find(PS, "generic");
    struct extract_result x;
    const char *why;
    const char *body = "{\"event\":\"order.created\"}";
    unsigned char md[32];
    char hex[65], claim[160], derived[80];
    SHA256((const unsigned char *)body, strlen(body), md);
    hex_encode(md, 32, hex);
    snprintf(derived, sizeof(derived), "sha256:%s", hex);
    T_EQ_INT(extract(u, NULL, body, &x, &why), HG_OK);
    T_EQ_STR(x.id, derived); /* the id shown: as before */
    T_CHECK(x.dedupe[0] == EXTRACT_DERIVED[0] && !strcmp(x.dedupe + 1, derived));
    snprintf(claim, sizeof(claim), "{\"id\":\"%s\"}", derived);
    T_EQ_INT(extract(u, NULL, claim, &x, &why), HG_OK);
    T_EQ_STR(x.id, derived);
    T_EQ_STR(x.dedupe, ""); /* deduplicated by the producer's id: another namespace */
    /* generic: an id from an unsigned header is deduplicated by the body, derived too */
    const char *const h[][2] = {{"X-Webhook-Event-Id", "h1"}, {NULL, NULL}};
    T_EQ_INT(extract(g, h, body, &x, &why), HG_OK);
    T_EQ_STR(x.id, "h1");
    T_CHECK(x.dedupe[0] == EXTRACT_DERIVED[0] && !strcmp(x.dedupe + 1, derived));
    /* and a producer id can never hold the namespace byte */
    T_EQ_INT(extract(g, NULL, "{\"id\":\"\\u0001sha256:00\"}", &x, &why), HG_EBADID);
}

int main(void)
{
    char err[512];
    if (profile_set_load(NULL, &PS, err, sizeof(err))) {
        fprintf(stderr, "FAIL: built-in profiles: %s\n", err);
        return 1;
    }
    T_RUN(test_builtins);
    T_RUN(test_vectors);
    T_RUN(test_bad_files);
    T_RUN(test_ed25519_unbuildable_message);
    T_RUN(test_extract_duplicate_keys);
    T_RUN(test_extract_duplicate_nested);
    T_RUN(test_extract_json_content_type);
    T_RUN(test_ctype_is_json);
    T_RUN(test_extract_forbidden_characters);
    T_RUN(test_extract_dedupe_namespaces);
    profile_set_free(PS);
    return t_finish();
}
