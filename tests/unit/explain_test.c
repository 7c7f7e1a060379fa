/*
 * explain_test.c - unit tests for the words of a verification refusal
 * (gateway/explain.c) and the verify_detail behind them (gateway/verify.c),
 * with the built-in profiles.
 *
 * Each request is built as http.c builds it: a small header table read
 * through extract_verify_input, then verify_check with a detail, then
 * explain_verify.  Covers: each kind of refusal (signature missing, empty,
 * malformed, mismatched, a hole in the signed content; timestamp missing,
 * unreadable, old, in the future; token, Basic and JWT); the related
 * header names; thousands separators; the reason texts unchanged; that no
 * text holds a secret, the signature sent or any expected signature
 * (verify_sign under each secret); cleaning of request-derived text; and
 * truncation at every capacity.
 */
#include "err.h"
#include "explain.h"
#include "extract.h"
#include "profile.h"
#include "t.h"
#include "verify.h"

#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#define NOW 1700000000LL

static struct profile_set *PS;

/* ---- a request: headers, body -------------------------------------------- */

struct req {
    const char *name[16];
    const char *value[16];
    size_t n;
};

static void add(struct req *r, const char *name, const char *value)
{
    r->name[r->n] = name;
    r->value[r->n++] = value;
}

static const char *hdr(void *ctx, const char *name)
{
    struct req *r = ctx;
    for (size_t i = 0; i < r->n; i++)
        if (!strcasecmp(r->name[i], name))
            return r->value[i];
    return NULL;
}

static int each(void *ctx, void (*cb)(void *arg, const char *name), void *arg)
{
    struct req *r = ctx;
    for (size_t i = 0; i < r->n; i++)
        cb(arg, r->name[i]);
    return (int)r->n;
}

static const struct profile *prof(const char *name)
{
    const struct profile *p = profile_find(PS, name);
    T_CHECK(p != NULL);
    return p;
}

/* a verifier for profile name with secrets (C strings) */
static struct verifier *make(const char *name, const char *const *keys, size_t n)
{
    struct secret s[4];
    for (size_t i = 0; i < n; i++) {
        s[i].data = (unsigned char *)(uintptr_t)keys[i];
        s[i].len = strlen(keys[i]);
    }
    struct verifier *v = NULL;
    const char *why = NULL;
    T_EQ_INT(verify_new(prof(name), s, n, &v, &why), HG_OK);
    return v;
}

/* the input of a request r with body under profile name at NOW */
static struct verify_input input(const char *name, struct req *r, const char *body,
                                 struct verify_detail *d)
{
    struct verify_input in = {.body = body,
                              .body_len = body ? strlen(body) : 0,
                              .url = "https://example.com/hooks/x",
                              .method = "POST",
                              .hdr = hdr,
                              .hctx = r,
                              .now_s = NOW,
                              .tolerance_s = prof(name)->tolerance_s,
                              .detail = d};
    extract_verify_input(prof(name), hdr, r, &in);
    return in;
}

/* a signed value of profile name for in under one secret (verify_sign) */
static void sign_with(const char *name, const char *secret, const struct verify_input *in,
                      char *out, size_t cap)
{
    struct verifier *v = make(name, &secret, 1);
    out[0] = '\0';
    if (v)
        T_EQ_INT(verify_sign(v, in, out, cap), HG_OK);
    verify_free(v);
}

/* printable - 1 if s is printable ASCII only */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* no_leak - none of the texts (NULL-terminated), nor any 8-byte piece of
 * them, is in out */
static void no_leak(const char *out, const char *const *texts)
{
    for (size_t i = 0; texts[i]; i++) {
        size_t n = strlen(texts[i]);
        for (size_t k = 0; k + 8 <= n; k++) {
            char piece[9];
            memcpy(piece, texts[i] + k, 8);
            piece[8] = '\0';
            if (strstr(out, piece)) {
                fprintf(stderr, "  leak of \"%s\" in \"%s\"\n", piece, out);
                T_CHECK(!"secret material in the explanation");
                return;
            }
        }
    }
}

/* run - verify_check then explain_verify; returns verify_check's rc */
static int run(struct verifier *v, const char *name, struct req *r, const char *body,
               const char *ctype, struct verify_detail *d, const char **why, char *out, size_t cap)
{
    struct verify_input in = input(name, r, body, d);
    int rc = verify_check(v, &in, why);
    int erc = explain_verify(prof(name), d, *why, each, r, in.body_len, ctype, out, cap);
    T_CHECK(erc == HG_OK || erc == HG_ETOOBIG);
    T_CHECK(strlen(out) < cap);
    T_CHECK(printable(out));
    return rc;
}

static char big[1025];

/* ---- signatures ---------------------------------------------------------- */

static void test_missing_signature(void)
{
    static const char *const k[] = {"It's a Secret to Everybody"};
    struct verifier *v = make("github", k, 1);
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct req r = {0};
    add(&r, "X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567");
    add(&r, "X-GitHub-Event", "push");
    add(&r, "Content-Type", "application/json");
    T_EQ_INT(run(v, "github", &r, "{}", "application/json", &d, &why, out, sizeof(out)), HG_ESIG);
    T_EQ_STR(why, "missing signature");
    T_EQ_INT(d.why_code, VD_MISSING_SIG);
    T_EQ_STR(d.sig_header, "X-Hub-Signature-256");
    T_EQ_STR(out, "signature header X-Hub-Signature-256 missing; the request had X-Hub-Signature");

    struct req none = {0};
    add(&none, "Content-Type", "application/json");
    run(v, "github", &none, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature header X-Hub-Signature-256 missing");

    struct req many = {0}; /* at most 3 names, repeats once, the rest counted */
    add(&many, "X-Hub-Signature", "x");
    add(&many, "x-hub-signature", "x");
    add(&many, "Authorization", "Bearer x");
    add(&many, "X-Hub-Foo", "x");
    add(&many, "X-Token", "x");
    add(&many, "X-HMAC", "x");
    add(&many, "Accept", "*/*");
    run(v, "github", &many, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature header X-Hub-Signature-256 missing; the request had X-Hub-Signature, "
                  "Authorization, X-Hub-Foo and 2 others");
    verify_free(v);

    /* several headers of the profile; its own id/type/timestamp headers are
     * no hint, another vendor's signature is */
    static const char *const wk[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    v = make("standard", wk, 1);
    struct req sv = {0};
    add(&sv, "webhook-id", "msg_1");
    add(&sv, "webhook-timestamp", "1700000000");
    add(&sv, "Stripe-Signature", "t=1,v1=00");
    run(v, "standard", &sv, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature header webhook-signature or svix-signature missing; the request had "
                  "Stripe-Signature");
    verify_free(v);
}

static void test_empty_and_long_signature(void)
{
    static const char *const k[] = {"s3cr3t-value"};
    struct verifier *v = make("github", k, 1);
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX], longsig[2100];
    struct req r = {0};
    add(&r, "X-Hub-Signature-256", "");
    run(v, "github", &r, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(why, "missing signature");
    T_EQ_INT(d.why_code, VD_EMPTY_SIG);
    T_EQ_STR(out, "signature header X-Hub-Signature-256 empty");

    memset(longsig, 'a', sizeof(longsig) - 1);
    longsig[sizeof(longsig) - 1] = '\0';
    struct req l = {0};
    add(&l, "x-hub-signature-256", longsig);
    run(v, "github", &l, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(why, "signature header too long");
    T_EQ_STR(out, "signature header X-Hub-Signature-256 longer than 2,048 bytes");
    verify_free(v);
}

static void test_malformed_signature(void)
{
    static const char *const k[] = {"s3cr3t-value"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("github", k, 1);
    struct req r = {0};
    add(&r, "X-Hub-Signature-256", "sha1=zz");
    run(v, "github", &r, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(why, "malformed signature");
    T_EQ_INT(d.why_code, VD_MALFORMED_SIG);
    T_EQ_INT(d.ncand, 0);
    T_EQ_STR(out, "signature header X-Hub-Signature-256 malformed (expected sha256=HEX)");
    T_CHECK(!strstr(out, "sha1=zz"));
    verify_free(v);

    v = make("stripe", k, 1);
    struct req s = {0};
    add(&s, "Stripe-Signature", "t=1700000000,v0=abcd");
    run(v, "stripe", &s, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature header Stripe-Signature malformed (expected t=UNIX,v1=HEX)");
    verify_free(v);

    v = make("iex", k, 1);
    struct req i = {0};
    add(&i, "X-Webhook-Signature", "not hex");
    add(&i, "X-Webhook-Timestamp", "1700000000");
    run(v, "iex", &i, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature header X-Webhook-Signature malformed (expected [sha256=]HEX)");
    verify_free(v);

    static const char *const wk[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    v = make("standard", wk, 1);
    struct req sv = {0};
    add(&sv, "svix-signature", "v2,AAAA");
    add(&sv, "webhook-id", "msg_1");
    add(&sv, "webhook-timestamp", "1700000000");
    run(v, "standard", &sv, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature header svix-signature malformed (expected v1/v1a,BASE64, "
                  "space-separated)");
    verify_free(v);
}

/* mismatch_case - github with secrets keys, a body of n bytes signed with
 * another secret; checks out has none of it */
static void mismatch_case(const char *const *keys, size_t nkeys, size_t n, const char *ctype,
                          const char *want)
{
    struct verifier *v = make("github", keys, nkeys);
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX], sent[160], expect[4][160];
    memset(big, 'x', n);
    big[0] = '"';
    big[n - 1] = '"';
    big[n] = '\0';
    struct req r = {0};
    struct verify_input in = input("github", &r, big, NULL);
    sign_with("github", "the producer's other secret", &in, sent, sizeof(sent));
    add(&r, "X-Hub-Signature-256", sent);
    T_EQ_INT(run(v, "github", &r, big, ctype, &d, &why, out, sizeof(out)), HG_ESIG);
    T_EQ_STR(why, "signature mismatch");
    T_EQ_INT(d.why_code, VD_MISMATCH);
    T_EQ_INT(d.nsecrets, nkeys);
    T_EQ_INT(d.ncand, 1);
    T_EQ_INT(d.nfit, 1);
    T_EQ_STR(out, want);
    for (size_t i = 0; i < nkeys; i++)
        sign_with("github", keys[i], &in, expect[i], sizeof(expect[i]));
    const char *leaks[] = {sent + 7, nkeys > 0 ? expect[0] + 7 : NULL,
                           nkeys > 1 ? expect[1] + 7 : NULL, NULL};
    no_leak(out, leaks);
    no_leak(out, (const char *const[]){keys[0], nkeys > 1 ? keys[1] : NULL, NULL});
    verify_free(v);
}

static void test_mismatch(void)
{
    static const char *const two[] = {"first-secret-value", "second-secret-value"};
    mismatch_case(
        two, 2, 1024, "application/json",
        "signature mismatch: no secret of 2 matched; the body was 1,024 bytes, content type "
        "application/json");
    mismatch_case(
        two, 1, 2, NULL,
        "signature mismatch: the secret did not match; the body was 2 bytes, content type (none)");
    mismatch_case(
        two, 1, 1, "  ", /* a body of one byte: `"` */
        "signature mismatch: the secret did not match; the body was 1 byte, content type (none)");
}

static void test_thousands(void)
{
    static const char *const k[] = {"first-secret-value"};
    static char body[1234568];
    struct verifier *v = make("github", k, 1);
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    memset(body, 'a', sizeof(body) - 1);
    struct req r = {0};
    add(&r, "X-Hub-Signature-256",
        "sha256=0000000000000000000000000000000000000000000000000000000000000000");
    run(v, "github", &r, body, "text/plain", &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature mismatch: the secret did not match; the body was 1,234,567 bytes, "
                  "content type text/plain");
    d.nsecrets = 1000;
    explain_verify(prof("github"), &d, why, NULL, NULL, 999, "a/b", out, sizeof(out));
    T_EQ_STR(
        out,
        "signature mismatch: no secret of 1,000 matched; the body was 999 bytes, content type a/b");
    explain_verify(prof("github"), &d, why, NULL, NULL, 1000000, "a/b", out, sizeof(out));
    T_EQ_STR(out, "signature mismatch: no secret of 1,000 matched; the body was 1,000,000 bytes, "
                  "content type a/b");
    verify_free(v);
}

static void test_mismatch_details(void)
{
    static const char *const k[] = {"first-secret-value"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("github", k, 1);
    struct req r = {0}; /* SHA-1 length in a SHA-256 header */
    add(&r, "X-Hub-Signature-256", "sha256=0123456789abcdef0123456789abcdef01234567");
    run(v, "github", &r, "{}", "application/json", &d, &why, out, sizeof(out));
    T_EQ_STR(why, "signature mismatch");
    T_EQ_INT(d.nfit, 0);
    T_EQ_STR(out, "the signature sent does not have the length of HMAC-SHA256 (32 bytes); the "
                  "body was 2 bytes, content type application/json");
    verify_free(v);

    v = make("stripe", k, 1); /* two v1 entries during a roll */
    struct req s = {0};
    add(&s, "Stripe-Signature",
        "t=1700000000,v1=00000000000000000000000000000000000000000000000000000000000000aa,"
        "v1=00000000000000000000000000000000000000000000000000000000000000bb");
    run(v, "stripe", &s, "{}", "application/json", &d, &why, out, sizeof(out));
    T_EQ_INT(d.ncand, 2);
    T_EQ_STR(out, "signature mismatch: the secret matched none of the 2 signatures sent; the body "
                  "was 2 bytes, content "
                  "type application/json");
    T_CHECK(!strstr(out, "aa") && !strstr(out, "bb"));
    verify_free(v);

    /* an HMAC secret only, an Ed25519 (v1a) signature sent */
    static const char *const wk[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    v = make("standard", wk, 1);
    struct req e = {0};
    add(&e, "webhook-signature",
        "v1a,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAA==");
    add(&e, "webhook-id", "msg_1");
    add(&e, "webhook-timestamp", "1700000000");
    run(v, "standard", &e, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_INT(d.nsecrets, 0);
    T_EQ_STR(out, "none of the route's secrets is a key for the algorithm of the signature sent; "
                  "the body was 2 bytes, content type (none)");
    verify_free(v);
}

static void test_content_hole(void)
{
    static const char *const k[] = {"first-secret-value"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("iex", k, 1);
    struct req r = {0}; /* iex signs the id header */
    add(&r, "X-Webhook-Signature",
        "sha256=0000000000000000000000000000000000000000000000000000000000000000");
    add(&r, "X-Webhook-Timestamp", "1700000000");
    add(&r, "X-Webhook-Event-Type", "a.b");
    add(&r, "X-Webhook-Nonce", "n1");
    run(v, "iex", &r, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(why, "signature mismatch");
    T_EQ_INT(d.why_code, VD_CONTENT_HOLE);
    T_EQ_STR(out, "the signed content needs the event id (header X-Webhook-Event-Id), which the "
                  "request lacks");
    verify_free(v);

    v = make("twilio", k, 1); /* {url}{form}: a JSON body is no form */
    struct req t = {0};
    add(&t, "X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    run(v, "twilio", &t, "a=%zz", "application/json", &d, &why, out, sizeof(out));
    T_EQ_STR(out, "the signed content needs the body as a form with parameters; the body was 5 "
                  "bytes, content type application/json");
    run(v, "twilio", &t, "a=1", "application/x-www-form-urlencoded", &d, &why, out, sizeof(out));
    T_EQ_STR(out,
             "signature mismatch: the secret did not match; the body was 3 bytes, content type "
             "application/x-www-form-urlencoded; the signed content includes the URL the "
             "producer called");
    verify_free(v);
}

static void test_signature_in_body(void)
{
    static const char *const k[] = {"first-secret-value"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("mailgun", k, 1);
    struct req r = {0};
    run(v, "mailgun", &r, "{\"signature\":{\"timestamp\":\"1700000000\"}}", "application/json", &d,
        &why, out, sizeof(out));
    T_EQ_STR(why, "missing signature");
    T_EQ_STR(out, "signature member /signature/signature missing from the body");
    T_CHECK(d.sig_header == NULL);
    run(v, "mailgun", &r, "hello", "text/plain", &d, &why, out, sizeof(out));
    T_EQ_STR(why, "signature member unreadable");
    T_EQ_STR(out,
             "the signature is member /signature/signature of the body, which is not JSON; the "
             "body was 5 bytes, content type text/plain");
    run(v, "mailgun", &r, "{\"signature\":{\"signature\":\"ab\",\"signature\":\"cd\"}}",
        "application/json", &d, &why, out, sizeof(out));
    T_EQ_INT(d.why_code, VD_DUP_MEMBER);
    T_EQ_STR(out, "the body repeats a member on the path of the signature, /signature/signature");
    verify_free(v);
}

/* ---- timestamps ----------------------------------------------------------- */

static void test_timestamps(void)
{
    static const char *const k[] = {"first-secret-value"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX], ts[32];
    struct verifier *v = make("slack", k, 1);
    struct req r = {0};
    add(&r, "X-Slack-Signature",
        "v0=0000000000000000000000000000000000000000000000000000000000000000");
    T_EQ_INT(run(v, "slack", &r, "a=1", NULL, &d, &why, out, sizeof(out)), HG_ESTALE);
    T_EQ_STR(why, "missing timestamp");
    T_EQ_INT(d.why_code, VD_MISSING_TS);
    T_EQ_STR(out, "timestamp header X-Slack-Request-Timestamp missing");

    add(&r, "X-Slack-Request-Timestamp", ts);
    snprintf(ts, sizeof(ts), "%lld", NOW - 312);
    T_EQ_INT(run(v, "slack", &r, "a=1", NULL, &d, &why, out, sizeof(out)), HG_ESTALE);
    T_EQ_STR(why, "timestamp outside tolerance");
    T_EQ_INT(d.has_ts, 1);
    T_EQ_INT(d.skew_s, 312);
    T_EQ_INT(d.tolerance_s, 300);
    T_EQ_STR(out, "timestamp 312 s older than the route's 300 s tolerance");

    snprintf(ts, sizeof(ts), "%lld", NOW - 3600);
    run(v, "slack", &r, "a=1", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "timestamp 3,600 s older than the route's 300 s tolerance");

    snprintf(ts, sizeof(ts), "%lld", NOW + 40);
    struct verify_input in = input("slack", &r, "a=1", &d);
    in.tolerance_s = 30;
    T_EQ_INT(verify_check(v, &in, &why), HG_ESTALE);
    T_EQ_INT(d.why_code, VD_FUTURE_TS);
    T_EQ_INT(d.skew_s, -40);
    explain_verify(prof("slack"), &d, why, each, &r, 3, NULL, out, sizeof(out));
    T_EQ_STR(out, "timestamp 40 s in the future, beyond the route's 30 s tolerance");

    snprintf(ts, sizeof(ts), "12:00");
    run(v, "slack", &r, "a=1", NULL, &d, &why, out, sizeof(out));
    T_EQ_INT(d.why_code, VD_BAD_TS);
    T_EQ_INT(d.has_ts, 0);
    T_EQ_STR(out, "timestamp unreadable (expected unix seconds)");

    snprintf(ts, sizeof(ts), "%lld", NOW - 10); /* in the window: the signature's turn */
    run(v, "slack", &r, "a=1", NULL, &d, &why, out, sizeof(out));
    T_EQ_INT(d.why_code, VD_MISMATCH);
    T_EQ_INT(d.skew_s, 10);
    verify_free(v);
}

static void test_timestamp_sources(void)
{
    static const char *const k[] = {"first-secret-value"};
    static const char *const wk[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("stripe", k, 1);
    struct req s = {0};
    add(&s, "Stripe-Signature", "v1=00");
    run(v, "stripe", &s, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "timestamp entry t= missing from the signature header Stripe-Signature");
    verify_free(v);

    v = make("linear", k, 1);
    struct req l = {0};
    add(&l, "Linear-Signature", "00");
    run(v, "linear", &l, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "timestamp member /webhookTimestamp missing from the body");
    verify_free(v);

    v = make("clerk", wk, 1);
    struct req c = {0};
    add(&c, "svix-signature", "v1,AAAA");
    run(v, "clerk", &c, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "timestamp header svix-timestamp or webhook-timestamp missing");
    verify_free(v);

    v = make("box", k, 1);
    struct req b = {0};
    add(&b, "box-signature-primary", "AAAA");
    add(&b, "box-delivery-timestamp", "1700000000");
    run(v, "box", &b, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "timestamp unreadable (expected an RFC 3339 date-time)");
    verify_free(v);
}

/* ---- tokens, Basic, JWT --------------------------------------------------- */

static void test_tokens(void)
{
    static const char *const k[] = {"tok-one-0123456789", "tok-two-0123456789"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("gitlab", k, 2);
    struct req r = {0};
    struct verify_input in = {.token = NULL, .detail = &d};
    T_EQ_INT(verify_check(v, &in, &why), HG_ESIG);
    T_EQ_STR(why, "missing token");
    T_EQ_INT(d.why_code, VD_MISSING_TOKEN);
    T_EQ_STR(d.sig_header, "X-Gitlab-Token");
    explain_verify(prof("gitlab"), &d, why, each, &r, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "token missing (expected in header X-Gitlab-Token)");

    in.token = "wrong-token-value-xyz";
    T_EQ_INT(verify_check(v, &in, &why), HG_ESIG);
    T_EQ_STR(why, "token mismatch");
    T_EQ_INT(d.nsecrets, 2);
    explain_verify(prof("gitlab"), &d, why, each, &r, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "token did not match (2 tokens configured)");
    no_leak(out, (const char *const[]){k[0], k[1], in.token, NULL});
    verify_free(v);

    v = make("hubex", k, 1);
    add(&r, "Authorization", "Basic eDp5");
    in.token = NULL;
    verify_check(v, &in, &why);
    explain_verify(prof("hubex"), &d, why, each, &r, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "token missing (expected in header X-Hookgate-Token or Authorization: Bearer "
                  "<token>); the request had Authorization");
    T_CHECK(!strstr(out, "eDp5"));
    in.token = "nope";
    verify_check(v, &in, &why);
    explain_verify(prof("hubex"), &d, why, each, &r, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "token did not match (1 token configured)");
    verify_free(v);
}

static void test_token_items(void)
{
    static const char *const k[] = {"client-state-secret"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("msgraph", k, 1);
    struct req r = {0};
    T_EQ_INT(run(v, "msgraph", &r, "{\"value\":[]}", NULL, &d, &why, out, sizeof(out)), HG_ESIG);
    T_EQ_STR(why, "missing token");
    T_EQ_STR(out, "token member /value/*/clientState missing: the body has no items");
    run(v, "msgraph", &r, "{\"value\":[{\"a\":1}]}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(why, "an item has no token");
    T_EQ_STR(out, "token member /value/*/clientState missing from an item of the body");
    run(v, "msgraph", &r, "{\"value\":[{\"clientState\":\"guess\"}]}", NULL, &d, &why, out,
        sizeof(out));
    T_EQ_STR(why, "token mismatch");
    T_EQ_STR(out, "the token of an item did not match (1 token configured)");
    T_CHECK(!strstr(out, "guess"));
    run(v, "msgraph", &r, "nope", "text/plain", &d, &why, out, sizeof(out));
    T_EQ_STR(why, "body is not JSON");
    T_EQ_STR(out, "the token is member /value/*/clientState of the body, which is not JSON; the "
                  "body was 4 bytes, content type text/plain");
    verify_free(v);
}

static void test_basic(void)
{
    static const char *const k[] = {"user:pa55word-secret"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX];
    struct verifier *v = make("postmark", k, 1);
    struct req r = {0};
    struct verify_input in = {.token = "Bearer abc", .detail = &d};
    verify_check(v, &in, &why);
    T_EQ_STR(why, "missing Basic credentials");
    add(&r, "Authorization", "Bearer abc");
    explain_verify(prof("postmark"), &d, why, each, &r, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "Basic credentials missing (expected header Authorization: Basic "
                  "base64(user:password)); the request had Authorization");
    in.token = "Basic !!!";
    verify_check(v, &in, &why);
    T_EQ_STR(why, "malformed Basic credentials");
    explain_verify(prof("postmark"), &d, why, each, &r, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "Basic credentials malformed (expected base64 of user:password)");
    in.token = "Basic dXNlcjp3cm9uZw=="; /* user:wrong */
    verify_check(v, &in, &why);
    T_EQ_STR(why, "credentials mismatch");
    explain_verify(prof("postmark"), &d, why, each, &r, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "Basic credentials did not match (1 configured)");
    no_leak(out, (const char *const[]){k[0], "dXNlcjp3cm9uZw", NULL});
    verify_free(v);
}

static void test_jwt(void)
{
    static const char *const k[] = {"qstash-signing-key-0123456789"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX], tok[2048];
    struct verifier *v = make("qstash", k, 1);
    struct req r = {0};
    run(v, "qstash", &r, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(why, "missing token");
    T_EQ_INT(d.why_code, VD_JWT_MISSING);
    T_EQ_STR(out, "JWT missing (expected in header Upstash-Signature)");

    /* a token signed with another key, and one that has expired */
    struct verify_input in = input("qstash", &r, "{}", NULL);
    in.token = "another-key-0123456789";
    struct verifier *s = NULL;
    struct secret sec = {(unsigned char *)(uintptr_t)in.token, strlen(in.token)};
    const char *w;
    T_EQ_INT(verify_new_signer(prof("qstash"), &sec, &s, &w), HG_OK);
    T_EQ_INT(verify_sign(s, &in, tok, sizeof(tok)), HG_OK);
    add(&r, "Upstash-Signature", tok);
    run(v, "qstash", &r, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_INT(d.why_code, VD_JWT_INVALID);
    T_EQ_STR(out, "JWT in header Upstash-Signature refused: signature mismatch");
    no_leak(out, (const char *const[]){tok, k[0], NULL});
    verify_free(s);
    verify_free(v);

    const struct profile *pp = prof("pubsub-push");
    if (!pp)
        return;
    d = (struct verify_detail){.why_code = VD_JWT_MISSING};
    explain_verify(pp, &d, "missing token", NULL, NULL, 0, NULL, out, sizeof(out));
    T_EQ_STR(pp->sig_header[0], "Authorization");
    T_EQ_STR(out, "JWT missing (expected in header Authorization: Bearer <token>)");
}

/* ---- the text itself ------------------------------------------------------ */

static void test_cleaning(void)
{
    static const char *const k[] = {"first-secret-value"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char out[EXPLAIN_MAX], ct[300];
    struct verifier *v = make("github", k, 1);
    struct req r = {0};
    add(&r, "X-Sig\x01\xff\n", "x");
    run(v, "github", &r, "{}", NULL, &d, &why, out, sizeof(out));
    T_EQ_STR(out, "signature header X-Hub-Signature-256 missing; the request had X-Sig???");

    char name[200];
    memset(name, 'S', sizeof(name) - 1);
    memcpy(name, "X-Hub-", 6);
    name[sizeof(name) - 1] = '\0';
    struct req l = {0};
    add(&l, name, "x");
    run(v, "github", &l, "{}", NULL, &d, &why, out, sizeof(out));
    T_CHECK(strstr(out, "the request had X-Hub-SSSS") != NULL);
    T_CHECK(strlen(strstr(out, "the request had ") + 16) == 64 + 3); /* cut at 64, "..." */

    struct req s = {0};
    add(&s, "X-Hub-Signature-256",
        "sha256=0000000000000000000000000000000000000000000000000000000000000000");
    memset(ct, 'c', sizeof(ct) - 1);
    ct[sizeof(ct) - 1] = '\0';
    memcpy(ct, "text/\r\n\x1b[31m", 12);
    run(v, "github", &s, "{}", ct, &d, &why, out, sizeof(out));
    const char *c = strstr(out, "content type ");
    T_CHECK(c != NULL);
    T_CHECK(c && !strncmp(c + 13, "text/???[31m", 12));
    T_CHECK(c && strlen(c + 13) == 100 + 3);
    verify_free(v);
}

static void test_truncation(void)
{
    static const char *const k[] = {"first-secret-value"};
    struct verify_detail d = {0};
    const char *why = NULL;
    char full[EXPLAIN_MAX], out[EXPLAIN_MAX];
    struct verifier *v = make("github", k, 1);
    struct req r = {0};
    add(&r, "X-Hub-Signature", "x");
    struct verify_input in = input("github", &r, "{}", &d);
    verify_check(v, &in, &why);
    T_EQ_INT(explain_verify(prof("github"), &d, why, each, &r, 2, NULL, full, sizeof(full)), HG_OK);
    size_t n = strlen(full);
    T_EQ_INT(explain_verify(prof("github"), &d, why, each, &r, 2, NULL, out, 0), HG_EINVAL);
    T_EQ_INT(explain_verify(prof("github"), &d, why, each, &r, 2, NULL, NULL, 10), HG_EINVAL);
    for (size_t cap = 1; cap <= n + 1; cap++) {
        memset(out, 'Z', sizeof(out));
        int rc = explain_verify(prof("github"), &d, why, each, &r, 2, NULL, out, cap);
        T_EQ_INT(rc, cap == n + 1 ? HG_OK : HG_ETOOBIG);
        T_EQ_INT(strlen(out), cap - 1);
        T_CHECK(out[cap] == 'Z'); /* nothing written past cap */
        size_t keep = cap >= 4 && cap <= n ? cap - 4 : cap - 1;
        T_CHECK(!strncmp(out, full, keep));
        if (cap >= 4 && cap <= n)
            T_EQ_STR(out + cap - 4, "...");
    }
    verify_free(v);
}

static void test_fallbacks(void)
{
    char out[EXPLAIN_MAX];
    T_EQ_INT(explain_verify(prof("github"), NULL, "signature mismatch", NULL, NULL, 0, NULL, out,
                            sizeof(out)),
             HG_OK);
    T_EQ_STR(out, "signature mismatch");
    explain_verify(NULL, NULL, NULL, NULL, NULL, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "refused by verification");
    struct verify_detail d = {.why_code = VD_TOKEN_MISMATCH}; /* not a signature's */
    explain_verify(prof("github"), &d, "odd", NULL, NULL, 0, NULL, out, sizeof(out));
    T_EQ_STR(out, "odd");

    /* an accepted request leaves VD_NONE */
    static const char *const k[] = {"first-secret-value"};
    struct verifier *v = make("github", k, 1);
    struct req r = {0};
    char sig[160];
    struct verify_input in = input("github", &r, "{}", NULL);
    sign_with("github", k[0], &in, sig, sizeof(sig));
    add(&r, "X-Hub-Signature-256", sig);
    struct verify_detail ok;
    memset(&ok, 0xff, sizeof(ok));
    in = input("github", &r, "{}", &ok);
    const char *why = "x";
    T_EQ_INT(verify_check(v, &in, &why), HG_OK);
    T_CHECK(why == NULL);
    T_EQ_INT(ok.why_code, VD_NONE);
    T_EQ_INT(ok.ncand, 1);
    verify_free(v);
}

int main(void)
{
    char perr[512];
    if (profile_set_load(NULL, &PS, perr, sizeof(perr))) {
        fprintf(stderr, "FAIL: built-in profiles: %s\n", perr);
        return 1;
    }
    T_RUN(test_missing_signature);
    T_RUN(test_empty_and_long_signature);
    T_RUN(test_malformed_signature);
    T_RUN(test_mismatch);
    T_RUN(test_thousands);
    T_RUN(test_mismatch_details);
    T_RUN(test_content_hole);
    T_RUN(test_signature_in_body);
    T_RUN(test_timestamps);
    T_RUN(test_timestamp_sources);
    T_RUN(test_tokens);
    T_RUN(test_token_items);
    T_RUN(test_basic);
    T_RUN(test_jwt);
    T_RUN(test_cleaning);
    T_RUN(test_truncation);
    T_RUN(test_fallbacks);
    profile_set_free(PS);
    return t_finish();
}
