/*
 * verify_test.c - unit tests for signature verification (gateway/verify.c)
 * against the shared vectors for the "generic" and "iex" profiles.
 *
 * The vectors come from $HG_FIXTURES (the vectors directory, or the
 * vectors.json file itself) or tests/vectors/vectors.json from the repo
 * root (the tests' working directory).
 *
 * Covers: each vector verifies with the clock pinned to its timestamp; a
 * flipped body byte, a wrong secret, a truncated/extended/missing signature
 * fail with HG_ESIG; secret rotation; bare and uppercase hex; the iex
 * replay window (300 s, route override, missing or malformed timestamp ->
 * HG_ESTALE); verify_sign reproducing each vector's header; and the iex
 * canonical string checked with an independent OpenSSL HMAC.
 */
#include "err.h"
#include "profile.h"
#include "t.h"
#include "verify.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>

/* one vector, with the header values verify_input needs */
struct vec {
    const struct profile *p;
    const char *secret;
    const char *body;
    const char *sig;
    const char *id, *type, *timestamp, *nonce;
    const char *canonical; /* iex only */
    int64_t ts;            /* 0 if the vector has none */
};

static json_t *fixtures;
static struct profile_set *PS;
static const char *why_new;
static struct vec generic, iex;
static int have_generic, have_iex;

static const char *hdr(json_t *v, const char *name)
{
    return json_string_value(json_object_get(json_object_get(v, "headers"), name));
}

static int load_vectors(void)
{
    char path[1024];
    const char *env = getenv("HG_FIXTURES");
    size_t n = env ? strlen(env) : 0;
    if (n > 5 && strcmp(env + n - 5, ".json") == 0) /* the file itself */
        snprintf(path, sizeof(path), "%s", env);
    else if (n) /* the vectors directory, as CMake passes it */
        snprintf(path, sizeof(path), "%s/vectors.json", env);
    else
        snprintf(path, sizeof(path), "tests/vectors/vectors.json");
    json_error_t e;
    fixtures = json_load_file(path, 0, &e);
    if (!fixtures) {
        fprintf(stderr, "cannot load %s: %s (line %d)\n", path, e.text, e.line);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(fixtures, "vectors"), i, v)
    {
        const char *prof = json_string_value(json_object_get(v, "profile"));
        struct vec *out = NULL;
        if (prof && strcmp(prof, "generic") == 0 && !have_generic) {
            out = &generic;
            have_generic = 1;
        } else if (prof && strcmp(prof, "iex") == 0 && !have_iex) {
            out = &iex;
            have_iex = 1;
        }
        if (!out)
            continue;
        out->p = profile_find(PS, prof);
        out->secret = json_string_value(json_object_get(v, "secret"));
        out->body = json_string_value(json_object_get(v, "body"));
        out->sig = hdr(v, "X-Webhook-Signature");
        out->id = hdr(v, "X-Webhook-Event-Id");
        out->type = hdr(v, "X-Webhook-Event-Type");
        out->timestamp = hdr(v, "X-Webhook-Timestamp");
        out->nonce = hdr(v, "X-Webhook-Nonce");
        out->canonical = json_string_value(json_object_get(v, "canonical"));
        out->ts = json_integer_value(json_object_get(v, "timestamp"));
    }
    return have_generic && have_iex ? 0 : -1;
}

/* ---- helpers -------------------------------------------------------------- */

/* a verifier for vector v's profile with the given secrets (C strings) */
static struct verifier *make(const struct vec *v, const char *const *keys, size_t n)
{
    struct secret s[4];
    for (size_t i = 0; i < n; i++) {
        s[i].data = (unsigned char *)keys[i];
        s[i].len = strlen(keys[i]);
    }
    struct verifier *vf = NULL;
    T_EQ_INT(verify_new(v->p, s, n, &vf, &why_new), HG_OK);
    T_CHECK(vf != NULL);
    return vf;
}

static struct verifier *make1(const struct vec *v)
{
    return make(v, &v->secret, 1);
}

/* the request described by the vector, clock pinned to its timestamp */
static struct verify_input input(const struct vec *v)
{
    struct verify_input in = {
        .body = v->body,
        .body_len = strlen(v->body),
        .signature = v->sig,
        .id = v->id,
        .type = v->type,
        .timestamp = v->timestamp,
        .nonce = v->nonce,
        .now_s = v->ts,
        .tolerance_s = v->p->tolerance_s ? v->p->tolerance_s : 300,
    };
    return in;
}

static int check(const struct verifier *vf, const struct verify_input *in)
{
    const char *why = "unset";
    int rc = verify_check(vf, in, &why);
    if (rc == HG_OK)
        T_CHECK(why == NULL);
    else
        T_CHECK(why != NULL && *why);
    return rc;
}

/* ---- both profiles -------------------------------------------------------- */

static void vectors_verify(const struct vec *v)
{
    struct verifier *vf = make1(v);
    struct verify_input in = input(v);
    T_EQ_INT(check(vf, &in), HG_OK);
    T_EQ_INT(verify_check(vf, &in, NULL), HG_OK); /* reason may be NULL */
    verify_free(vf);
}

static void test_vectors_verify(void)
{
    T_CHECK(generic.p == profile_find(PS, "generic"));
    T_CHECK(iex.p == profile_find(PS, "iex"));
    T_CHECK(generic.p && iex.p && generic.sig && iex.sig);
    vectors_verify(&generic);
    vectors_verify(&iex);
}

static void flipped_body(const struct vec *v)
{
    struct verifier *vf = make1(v);
    char *body = strdup(v->body);
    size_t n = strlen(body);
    struct verify_input in = input(v);
    in.body = body;
    /* flip one bit at the start, the middle and the end */
    size_t pos[3] = {0, n / 2, n - 1};
    for (int i = 0; i < 3; i++) {
        body[pos[i]] ^= 0x01;
        T_EQ_INT(check(vf, &in), HG_ESIG);
        body[pos[i]] ^= 0x01;
    }
    T_EQ_INT(check(vf, &in), HG_OK); /* restored */
    /* one byte less or one more */
    in.body_len = n - 1;
    T_EQ_INT(check(vf, &in), HG_ESIG);
    free(body);
    verify_free(vf);
}

static void test_flipped_body_byte(void)
{
    flipped_body(&generic);
    flipped_body(&iex);
}

static void wrong_secret(const struct vec *v)
{
    static const char *const wrong[] = {"not-the-secret"};
    struct verifier *vf = make(v, wrong, 1);
    struct verify_input in = input(v);
    T_EQ_INT(check(vf, &in), HG_ESIG);
    verify_free(vf);

    /* the secret with one character less */
    char *shorter = strdup(v->secret);
    shorter[strlen(shorter) - 1] = '\0';
    const char *keys[1] = {shorter};
    vf = make(v, keys, 1);
    T_EQ_INT(check(vf, &in), HG_ESIG);
    verify_free(vf);
    free(shorter);
}

/* A key's MAC contexts are reused across requests (verify_int.h, struct
 * mac_spares): from two threads at once, good and tampered requests in
 * turn, each answer must be the one a fresh context gives - a context left
 * mid-way or holding the last request's content would break it. */
struct reuse_arg {
    const struct vec *v;
    const struct verifier *vf;
    int wrong;
};

static void *reuse_main(void *arg)
{
    struct reuse_arg *a = arg;
    char *body = strdup(a->v->body);
    struct verify_input in = input(a->v);
    in.body = body;
    const char c0 = body[0];
    for (int i = 0; i < 300; i++) {
        int bad = i % 3 == 1;
        if (bad) /* one byte changed: a mismatch */
            body[0] = c0 == 'A' ? 'B' : 'A';
        if (verify_check(a->vf, &in, NULL) != (bad ? HG_ESIG : HG_OK))
            a->wrong++;
        body[0] = c0;
        in.body_len = i % 3 == 2 ? strlen(body) - 1 : strlen(body); /* cut short: mismatch */
        if (i % 3 == 2 && verify_check(a->vf, &in, NULL) != HG_ESIG)
            a->wrong++;
        in.body_len = strlen(body);
    }
    free(body);
    return NULL;
}

static void test_mac_contexts_reused(void)
{
    const struct vec *vs[2] = {&generic, &iex};
    for (int j = 0; j < 4; j++) {
        /* j >= 2: a rotation, so every request runs both keys' contexts
         * and each must go back to its own key's spares */
        const char *keys[2] = {"old-wrong", vs[j % 2]->secret};
        struct verifier *vf = j < 2 ? make1(vs[j]) : make(vs[j % 2], keys, 2);
        struct reuse_arg a[2] = {{vs[j % 2], vf, 0}, {vs[j % 2], vf, 0}};
        pthread_t th;
        T_EQ_INT(pthread_create(&th, NULL, reuse_main, &a[0]), 0);
        reuse_main(&a[1]);
        pthread_join(th, NULL);
        T_EQ_INT(a[0].wrong + a[1].wrong, 0);
        verify_free(vf);
    }
}

static void test_wrong_secret(void)
{
    wrong_secret(&generic);
    wrong_secret(&iex);
}

static void rotation(const struct vec *v)
{
    struct verify_input in = input(v);
    const char *wr[2] = {"old-wrong", v->secret};
    struct verifier *vf = make(v, wr, 2);
    T_EQ_INT(check(vf, &in), HG_OK);
    verify_free(vf);

    const char *rw[2] = {v->secret, "new-wrong"};
    vf = make(v, rw, 2);
    T_EQ_INT(check(vf, &in), HG_OK);
    verify_free(vf);

    const char *ww[3] = {"a", "b", "c"};
    vf = make(v, ww, 3);
    T_EQ_INT(check(vf, &in), HG_ESIG);
    verify_free(vf);
}

static void test_rotation(void)
{
    rotation(&generic);
    rotation(&iex);
}

static void hex_forms(const struct vec *v)
{
    struct verifier *vf = make1(v);
    struct verify_input in = input(v);
    T_CHECK(strncmp(v->sig, "sha256=", 7) == 0);
    const char *bare = v->sig + 7;
    char upper[160], upper_bare[160];
    snprintf(upper, sizeof(upper), "sha256=%s", bare);
    for (char *p = upper + 7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(upper_bare, sizeof(upper_bare), "%s", upper + 7);

    in.signature = bare;
    T_EQ_INT(check(vf, &in), HG_OK);
    in.signature = upper;
    T_EQ_INT(check(vf, &in), HG_OK);
    in.signature = upper_bare;
    T_EQ_INT(check(vf, &in), HG_OK);
    verify_free(vf);
}

static void test_bare_and_uppercase_hex(void)
{
    hex_forms(&generic);
    hex_forms(&iex);
}

static void malformed_signatures(const struct vec *v)
{
    struct verifier *vf = make1(v);
    struct verify_input in = input(v);
    size_t n = strlen(v->sig);
    char s[200];

    snprintf(s, sizeof(s), "%.*s", (int)(n - 2), v->sig); /* one byte short */
    in.signature = s;
    T_EQ_INT(check(vf, &in), HG_ESIG);
    snprintf(s, sizeof(s), "%.*s", (int)(n - 1), v->sig); /* odd length */
    T_EQ_INT(check(vf, &in), HG_ESIG);
    snprintf(s, sizeof(s), "%.*s", (int)(7 + 32), v->sig); /* half the digest */
    T_EQ_INT(check(vf, &in), HG_ESIG);
    snprintf(s, sizeof(s), "%s00", v->sig); /* one byte too many */
    T_EQ_INT(check(vf, &in), HG_ESIG);
    snprintf(s, sizeof(s), "%s ", v->sig); /* trailing space */
    T_EQ_INT(check(vf, &in), HG_ESIG);
    snprintf(s, sizeof(s), "sha1=%s", v->sig + 7); /* another scheme's prefix */
    T_EQ_INT(check(vf, &in), HG_ESIG);
    snprintf(s, sizeof(s), "sha256=sha256=%s", v->sig + 7);
    T_EQ_INT(check(vf, &in), HG_ESIG);
    in.signature = "sha256=";
    T_EQ_INT(check(vf, &in), HG_ESIG);
    /* last digit changed */
    snprintf(s, sizeof(s), "%s", v->sig);
    s[n - 1] = s[n - 1] == '0' ? '1' : '0';
    in.signature = s;
    T_EQ_INT(check(vf, &in), HG_ESIG);
    /* non-hex digit of the right length */
    snprintf(s, sizeof(s), "%s", v->sig);
    s[10] = 'g';
    T_EQ_INT(check(vf, &in), HG_ESIG);
    verify_free(vf);
}

static void test_malformed_or_truncated_signature(void)
{
    malformed_signatures(&generic);
    malformed_signatures(&iex);
}

static void missing_signature(const struct vec *v)
{
    struct verifier *vf = make1(v);
    struct verify_input in = input(v);
    in.signature = NULL;
    T_EQ_INT(check(vf, &in), HG_ESIG);
    in.signature = "";
    T_EQ_INT(check(vf, &in), HG_ESIG);
    verify_free(vf);
}

static void test_missing_signature_header(void)
{
    missing_signature(&generic);
    missing_signature(&iex);
}

static void sign_reproduces(const struct vec *v)
{
    struct verifier *vf = make1(v);
    struct verify_input in = input(v);
    in.signature = NULL; /* not an input of signing */
    char out[128];
    T_EQ_INT(verify_sign(vf, &in, out, sizeof(out)), HG_OK);
    T_EQ_STR(out, v->sig);
    /* exactly strlen + 1 is enough, one less is not */
    size_t need = strlen(v->sig) + 1;
    T_EQ_INT(verify_sign(vf, &in, out, need), HG_OK);
    T_EQ_STR(out, v->sig);
    T_EQ_INT(verify_sign(vf, &in, out, need - 1), HG_ETOOBIG);
    verify_free(vf);

    /* signing uses secret 0 only */
    const char *keys[2] = {"other", v->secret};
    vf = make(v, keys, 2);
    T_EQ_INT(verify_sign(vf, &in, out, sizeof(out)), HG_OK);
    T_CHECK(strcmp(out, v->sig) != 0);
    verify_free(vf);
}

static void test_sign_reproduces_header(void)
{
    sign_reproduces(&generic);
    sign_reproduces(&iex);
}

static void test_secrets_are_copied(void)
{
    /* verify_new copies the secret: wiping the caller's copy changes nothing */
    char key[64];
    snprintf(key, sizeof(key), "%s", generic.secret);
    struct secret s = {(unsigned char *)key, strlen(key)};
    struct verifier *vf = NULL;
    T_EQ_INT(verify_new(generic.p, &s, 1, &vf, &why_new), HG_OK);
    memset(key, 0, sizeof(key));
    struct verify_input in = input(&generic);
    T_EQ_INT(check(vf, &in), HG_OK);
    verify_free(vf);
    verify_free(NULL); /* NULL-safe */

    /* secrets are bytes: an embedded NUL matters */
    static const unsigned char a[] = {'k', 0, 'x'}, b[] = {'k', 0, 'y'};
    struct secret sa = {(unsigned char *)a, 3}, sb = {(unsigned char *)b, 3};
    struct verifier *va = NULL, *vb = NULL;
    T_EQ_INT(verify_new(generic.p, &sa, 1, &va, &why_new), HG_OK);
    T_EQ_INT(verify_new(generic.p, &sb, 1, &vb, &why_new), HG_OK);
    struct verify_input msg = {.body = "x", .body_len = 1};
    char sig[128];
    T_EQ_INT(verify_sign(va, &msg, sig, sizeof(sig)), HG_OK);
    msg.signature = sig;
    T_EQ_INT(check(va, &msg), HG_OK);
    T_EQ_INT(check(vb, &msg), HG_ESIG);
    verify_free(va);
    verify_free(vb);

    /* no secrets, no verifier */
    struct verifier *none = NULL;
    T_EQ_INT(verify_new(generic.p, &s, 0, &none, &why_new), HG_EINVAL);
    T_CHECK(none == NULL);
}

static void test_generic_empty_body(void)
{
    /* an empty body is signed as zero bytes: HMAC(key, "") */
    struct verifier *vf = make1(&generic);
    struct verify_input in = {.body = "", .body_len = 0};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), generic.secret, (int)strlen(generic.secret), (const unsigned char *)"", 0,
         md, &mdlen);
    char want[80] = "sha256=";
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(want + 7 + (size_t)2 * i, 3, "%02x", md[i]);
    char got[80];
    T_EQ_INT(verify_sign(vf, &in, got, sizeof(got)), HG_OK);
    T_EQ_STR(got, want);
    in.signature = want;
    T_EQ_INT(check(vf, &in), HG_OK);
    in.body = NULL; /* NULL with length 0 is the same empty body */
    T_EQ_INT(check(vf, &in), HG_OK);
    verify_free(vf);
}

/* ---- iex: the replay window ------------------------------------------------ */

static void test_iex_timestamp_window(void)
{
    struct verifier *vf = make1(&iex);
    struct verify_input in = input(&iex);
    T_EQ_INT(in.tolerance_s, 300);
    static const struct {
        int64_t off;
        int want;
    } cases[] = {
        {0, HG_OK},    {299, HG_OK},     {-299, HG_OK},     {300, HG_OK},
        {-300, HG_OK}, {301, HG_ESTALE}, {-301, HG_ESTALE}, {86400, HG_ESTALE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        in.now_s = iex.ts + cases[i].off; /* the clock moves, the request does not */
        int rc = check(vf, &in);
        if (rc != cases[i].want)
            fprintf(stderr, "  offset %lld s\n", (long long)cases[i].off);
        T_EQ_INT(rc, cases[i].want);
    }
    verify_free(vf);
}

static void test_iex_route_tolerance_honoured(void)
{
    struct verifier *vf = make1(&iex);
    struct verify_input in = input(&iex);
    in.tolerance_s = 600; /* a route that allows 10 minutes */
    in.now_s = iex.ts + 301;
    T_EQ_INT(check(vf, &in), HG_OK);
    in.now_s = iex.ts - 600;
    T_EQ_INT(check(vf, &in), HG_OK);
    in.now_s = iex.ts + 601;
    T_EQ_INT(check(vf, &in), HG_ESTALE);
    in.tolerance_s = 10; /* and one that allows 10 seconds */
    in.now_s = iex.ts + 10;
    T_EQ_INT(check(vf, &in), HG_OK);
    in.now_s = iex.ts + 11;
    T_EQ_INT(check(vf, &in), HG_ESTALE);
    verify_free(vf);
}

static void test_iex_missing_or_bad_timestamp(void)
{
    struct verifier *vf = make1(&iex);
    struct verify_input in = input(&iex);
    in.timestamp = NULL;
    T_EQ_INT(check(vf, &in), HG_ESTALE);
    in.timestamp = "";
    T_EQ_INT(check(vf, &in), HG_ESTALE);
    static const char *const bad[] = {
        "17638469x9",  "abc",         "1763846959.0", " 1763846959",      "1763846959 ",
        "+1763846959", "-1763846959", "0x69214a2f",   "1763846959000000", /* absurdly long */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in.timestamp = bad[i];
        int rc = check(vf, &in);
        if (rc != HG_ESTALE)
            fprintf(stderr, "  timestamp \"%s\"\n", bad[i]);
        T_EQ_INT(rc, HG_ESTALE);
    }
    verify_free(vf);
}

static void test_iex_signed_headers_matter(void)
{
    /* id, type, timestamp and nonce are all in the signed string */
    struct verifier *vf = make1(&iex);
    struct verify_input in = input(&iex);
    in.id = "evt_other";
    T_EQ_INT(check(vf, &in), HG_ESIG);
    in = input(&iex);
    in.type = "order.created";
    T_EQ_INT(check(vf, &in), HG_ESIG);
    in = input(&iex);
    in.nonce = "wh_other";
    T_EQ_INT(check(vf, &in), HG_ESIG);
    in = input(&iex);
    char ts[32];
    snprintf(ts, sizeof(ts), "%lld", (long long)iex.ts + 1); /* in the window, but signed */
    in.timestamp = ts;
    T_EQ_INT(check(vf, &in), HG_ESIG);
    /* a header missing altogether cannot be signed over */
    in = input(&iex);
    in.id = NULL;
    T_EQ_INT(check(vf, &in), HG_ESIG);
    in = input(&iex);
    in.nonce = NULL;
    T_EQ_INT(check(vf, &in), HG_ESIG);
    char out[128];
    T_CHECK(verify_sign(vf, &in, out, sizeof(out)) != HG_OK);
    verify_free(vf);
}

/* The iex template, documented by computing the vector's header from its
 * "canonical" string with a plain OpenSSL HMAC, and the canonical string
 * from the headers and the body's SHA-256. */
static void test_iex_canonical_string(void)
{
    T_CHECK(iex.canonical != NULL);
    if (!iex.canonical)
        return;
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)iex.body, strlen(iex.body), h);
    char body_hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(body_hex + (size_t)2 * i, 3, "%02x", h[i]);
    char canon[1024];
    snprintf(canon, sizeof(canon), "v1\n%s\n%s\n%s\n%s\n%s", iex.id, iex.type, iex.timestamp,
             iex.nonce, body_hex);
    T_EQ_STR(canon, iex.canonical);

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), iex.secret, (int)strlen(iex.secret), (const unsigned char *)iex.canonical,
         strlen(iex.canonical), md, &mdlen);
    T_EQ_INT(mdlen, 32);
    char hex[80] = "sha256=";
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 7 + (size_t)2 * i, 3, "%02x", md[i]);
    T_EQ_STR(hex, iex.sig);
}

static void test_profile_lookup(void)
{
    T_CHECK(profile_find(PS, "generic") != NULL);
    T_CHECK(profile_find(PS, "iex") != NULL);
    T_CHECK(profile_find(PS, "Generic") == NULL);
    T_CHECK(profile_find(PS, "") == NULL);
    T_CHECK(profile_find(PS, "nosuch") == NULL);
    T_CHECK(strstr(profile_names(PS), "generic") != NULL);
    T_CHECK(strstr(profile_names(PS), "iex") != NULL);
    T_EQ_INT(profile_find(PS, "iex")->tolerance_s, 300);
    T_EQ_STR(profile_find(PS, "generic")->sig_header[0], "X-Webhook-Signature");
}

int main(void)
{
    char perr[512];
    if (profile_set_load(NULL, &PS, perr, sizeof(perr))) {
        fprintf(stderr, "FAIL: built-in profiles: %s\n", perr);
        return 1;
    }
    if (load_vectors() != 0) {
        fprintf(stderr, "FAIL: generic and iex vectors not found\n");
        t_failed++;
        return t_finish();
    }
    T_RUN(test_vectors_verify);
    T_RUN(test_flipped_body_byte);
    T_RUN(test_wrong_secret);
    T_RUN(test_mac_contexts_reused);
    T_RUN(test_rotation);
    T_RUN(test_bare_and_uppercase_hex);
    T_RUN(test_malformed_or_truncated_signature);
    T_RUN(test_missing_signature_header);
    T_RUN(test_sign_reproduces_header);
    T_RUN(test_secrets_are_copied);
    T_RUN(test_generic_empty_body);
    T_RUN(test_iex_timestamp_window);
    T_RUN(test_iex_route_tolerance_honoured);
    T_RUN(test_iex_missing_or_bad_timestamp);
    T_RUN(test_iex_signed_headers_matter);
    T_RUN(test_iex_canonical_string);
    T_RUN(test_profile_lookup);
    json_decref(fixtures);
    profile_set_free(PS);
    return t_finish();
}
