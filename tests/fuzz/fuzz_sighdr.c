// clang-format off
/*
 * fuzz_sighdr.c - libFuzzer driver for signature-header parsing and checking
 * (gateway/verify.c) under the built-in profiles of gateway/profile.c.
 *
 * The input is split at its first three newlines into
 *   signature header value \n timestamp header \n id header \n body
 * (a missing or empty line is an absent header) and checked by verify_check
 * with the clock pinned, for the profiles stripe (kv), standard (list, one
 * whsec_ and one whpk_ secret), github (value, hex), shopify (value, base64)
 * and slack (value, timestamp header).  Invariants:
 *  - never crashes, reads out of bounds or leaks;
 *  - the result is HG_OK, HG_ESIG or HG_ESTALE; the reason is NULL exactly on HG_OK;
 *  - HG_OK only for a present signature, a timestamp within the window, and
 *    (value formats, standard's v1) the very signature verify_sign computes;
 *  - round trip: verify_sign's header for the body verifies (HMAC for every
 *    profile, Ed25519 with a whsk_ key against its whpk_ for standard), and
 *    fails once one body byte is flipped.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_sighdr (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "codec.h"
#include "err.h"
#include "log.h"
#include "profile.h"
#include "verify.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOW      1763846959LL
#define NOW_STR  "1763846959"
#define NPROF    5
#define SIGN_MAX 512

enum { P_STRIPE, P_STANDARD, P_GITHUB, P_SHOPIFY, P_SLACK };
static const char *const names[NPROF] = {"stripe", "standard", "github", "shopify", "slack"};

static struct profile_set *ps;
static const struct profile *prof[NPROF];
static struct verifier *ver[NPROF];
static struct verifier *ed_signer; /* standard with a whsk_ key: signs v1a */

/* secrets of the shared vectors (so valid seeds reach HG_OK) */
static const char *const secrets[NPROF] = {
    "whsec_9da417421236c4d75af98227", "whsec_B4knK4onaxGs/qH1SMQ8JaMtHlizRi4A",
    "It's a Secret to Everybody", "test_secret_key", "8f742231b10e8888abcd99yyyzzz85a5"};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_sighdr: %s\n", what);
    abort();
}

static struct verifier *make(const struct profile *p, const char *const *s, size_t n)
{
    struct secret sec[2];
    const char *why = NULL;
    struct verifier *v = NULL;
    for (size_t i = 0; i < n; i++)
        sec[i] = (struct secret){(unsigned char *)s[i], strlen(s[i])};
    if (verify_new(p, sec, n, &v, &why) != HG_OK)
        die(why ? why : "verify_new");
    return v;
}

static void init(void)
{
    char err[512];
    log_set_level(LOG_ERROR);
    if (profile_set_load(NULL, &ps, err, sizeof(err)) != HG_OK)
        die(err);
    for (int i = 0; i < NPROF; i++)
        if (!(prof[i] = profile_find(ps, names[i])))
            die(names[i]);

    /* a fixed Ed25519 key pair: whsk_ = base64(seed), whpk_ = base64(public) */
    unsigned char seed[32], pub[32];
    size_t pl = sizeof(pub);
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)(7 * i + 1);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (!k || EVP_PKEY_get_raw_public_key(k, pub, &pl) != 1 || pl != 32)
        die("ed25519 key");
    EVP_PKEY_free(k);
    static char whsk[5 + 45], whpk[5 + 45];
    memcpy(whsk, "whsk_", 6);
    b64_encode(seed, 32, whsk + 5);
    memcpy(whpk, "whpk_", 6);
    b64_encode(pub, 32, whpk + 5);

    for (int i = 0; i < NPROF; i++) {
        const char *s[2] = {secrets[i], whpk};
        ver[i] = make(prof[i], s, i == P_STANDARD ? 2 : 1);
    }
    const char *sk[1] = {whsk};
    ed_signer = make(prof[P_STANDARD], sk, 1);
}

/* next_line - a NUL-terminated copy of data up to the next '\n' (or the end). */
static char *next_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *data, n);
    s[n] = '\0';
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return s;
}

static int ts_header(const struct profile *p)
{
    for (int i = 0; p->ts[i].src; i++)
        if (p->ts[i].src == PROF_HEADER)
            return 1;
    return 0;
}

static int ts_in_window(const char *ts, long tol)
{
    if (!ts || !*ts || strlen(ts) > 15 || strspn(ts, "0123456789") != strlen(ts))
        return 0;
    long long t = strtoll(ts, NULL, 10); /* at most 15 digits: no overflow */
    return NOW - t <= tol;
}

/* one verify_check of the fuzzed header under profile i */
static void check(int i, const char *sig, const char *ts, const char *id, const char *body,
                  size_t blen)
{
    const struct profile *p = prof[i];
    struct verify_input in = {.body = body,
                              .body_len = blen,
                              .signature = *sig ? sig : NULL,
                              .id = *id ? id : NULL,
                              .timestamp = ts_header(p) && *ts ? ts : NULL,
                              .now_s = NOW,
                              .tolerance_s = p->tolerance_s};
    const char *why = "unset";
    int rc = verify_check(ver[i], &in, &why);
    if (rc != HG_OK && rc != HG_ESIG && rc != HG_ESTALE)
        die("verify_check: unexpected result");
    if ((rc == HG_OK) != (why == NULL))
        die("verify_check: reason does not match the result");
    if (rc != HG_OK)
        return;
    if (!in.signature)
        die("HG_OK without a signature");
    if (ts_header(p) && !ts_in_window(in.timestamp, p->tolerance_s))
        die("HG_OK with a timestamp outside the window");
    if (i == P_STRIPE)
        return; /* kv: the signed timestamp is inside the header */
    char want[SIGN_MAX];
    if (verify_sign(ver[i], &in, want, sizeof(want)) != HG_OK)
        die("verify_sign failed for a request that verified");
    if (p->fmt == PROF_FMT_VALUE) {
        /* the header is the signature (prefix optional for none of these) */
        const char *enc = want + (p->sig_prefix ? strlen(p->sig_prefix) : 0);
        const char *got = sig + (p->sig_prefix ? strlen(p->sig_prefix) : 0);
        if (p->enc == PROF_ENC_HEX ? strcasecmp(enc, got) : strcmp(enc, got))
            die("HG_OK for a signature verify_sign does not produce");
    } else if (!strstr(sig, want + 3) && !strstr(sig, "v1a,")) {
        die("HG_OK for a standard header with neither the v1 HMAC nor a v1a entry");
    }
}

/* round trip: sign the body, it verifies; flip a byte, it does not */
static void round_trip(struct verifier *signer, int i, const char *body, size_t blen)
{
    const struct profile *p = prof[i];
    struct verify_input in = {.body = body,
                              .body_len = blen,
                              .id = "msg_fuzz",
                              .timestamp = NOW_STR,
                              .now_s = NOW,
                              .tolerance_s = p->tolerance_s};
    char sig[SIGN_MAX];
    if (verify_sign(signer, &in, sig, sizeof(sig)) != HG_OK)
        die("verify_sign");
    in.signature = sig;
    if (!ts_header(p))
        in.timestamp = NULL; /* kv: taken from the header; others have none */
    const char *why = NULL;
    if (verify_check(ver[i], &in, &why) != HG_OK)
        die("round trip: a signed body does not verify");
    if (blen) {
        char *copy = malloc(blen);
        if (!copy)
            abort();
        memcpy(copy, body, blen);
        copy[blen / 2] ^= 1;
        in.body = copy;
        if (verify_check(ver[i], &in, &why) != HG_ESIG)
            die("round trip: a flipped body byte still verifies");
        free(copy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init();
        ready = 1;
    }
    char *sig = next_line(&data, &size);
    char *ts = next_line(&data, &size);
    char *id = next_line(&data, &size);
    const char *body = (const char *)data; /* the rest, exactly size bytes */

    for (int i = 0; i < NPROF; i++)
        check(i, sig, ts, id, body, size);
    for (int i = 0; i < NPROF; i++)
        round_trip(ver[i], i, body, size);
    round_trip(ed_signer, P_STANDARD, body, size);

    free(sig);
    free(ts);
    free(id);
    return 0;
}
