// clang-format off
/*
 * fuzz_extract.c - libFuzzer driver for extract_event (gateway/extract.c).
 *
 * The input is a request body, read through hand-built routes (struct
 * cfg_route, only the fields extract.c uses) for the profiles generic,
 * stripe, hubex (type_map), ultimate-multisite (test_event.when_missing, a
 * fixed route type) and "nested" (nested JSON pointers, parsed with jansson;
 * written to a private temporary profile directory at start), once with no
 * headers, once with a fixed table of headers and once with that table and
 * "Content-Type: application/json".  Invariants:
 *  - the result is HG_OK, HG_EBADJSON, HG_EDUPKEY, HG_ENOID or HG_EBADID,
 *    with a reason for every error; HG_EBADID's answer (reason) names the
 *    field: "invalid event id: ..." or "invalid event type: ...";
 *  - HG_EDUPKEY only for a valid JSON text, its reason is the result's
 *    `duplicate key "..." in body`;
 *  - on HG_OK: id and type are non-empty, NUL-terminated inside their
 *    buffers, at most EXTRACT_ID_MAX/EXTRACT_TYPE_MAX bytes, valid UTF-8
 *    with no character event_char_forbidden refuses (C0, DEL, C1, U+2028,
 *    U+2029, bidirectional controls); time is "" or valid RFC 3339; dedupe
 *    is "" or EXTRACT_DERIVED "sha256:" + 64 lowercase hex digits of the
 *    body's SHA-256 (a namespace no producer id can enter: its first byte is
 *    a control), and an id that is not the producer's is that key without
 *    its first byte;
 *  - kind is JSON when jscan accepts the body, else TEXT when it is valid
 *    UTF-8, else BINARY; a profile with "body": "json", and any profile
 *    when the Content-Type says JSON, accepts only JSON.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_extract (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "extract.h"
#include "jscan.h"
#include "log.h"
#include "profile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NROUTES 5

static const char nested_json[] =
    "{\"name\":\"nested\",\"unsigned\":true,\"id\":[{\"pointer\":\"/data/object/id\"}],"
    "\"type\":[{\"pointer\":\"/a/0/b\"}],\"id_fallback\":\"body_sha256\"}";

static const char *const pnames[NROUTES] = {"generic", "stripe", "hubex", "ultimate-multisite",
                                            "nested"};
static const char *const rtypes[NROUTES] = {NULL, NULL, NULL, "payment.received", NULL};

static struct profile_set *ps;
static struct cfg_route routes[NROUTES];

/* the fixed header table (names compared case-insensitively, as http.c does) */
static const char *const headers[][2] = {
    {"X-Webhook-Event-Id", "hdr-id-\xc3\xa9-1"},
    {"X-Webhook-Delivery", "delivery-2"},
    {"X-Webhook-Event", "hdr.event"},
    {"X-Webhook-Event-Type", "hdr.event_type"},
    {"Stripe-Signature", "t=1763846959,v1=00"},
    {"X-Hookgate-Token", "tok"},
    {NULL, NULL},
};

/* the same, labelled JSON (extract_event looks the Content-Type up itself) */
static const char *hdr_json(void *ctx, const char *name)
{
    (void)ctx;
    if (!strcasecmp(name, "Content-Type"))
        return "application/json; charset=utf-8";
    for (int i = 0; headers[i][0]; i++)
        if (!strcasecmp(headers[i][0], name))
            return headers[i][1];
    return NULL;
}

static const char *hdr_none(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static const char *hdr_table(void *ctx, const char *name)
{
    (void)ctx;
    for (int i = 0; headers[i][0]; i++)
        if (!strcasecmp(headers[i][0], name))
            return headers[i][1];
    return NULL;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_extract: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void init(void)
{
    char dir[] = "/tmp/fuzz_extract.XXXXXX", file[64], err[1024];
    log_set_level(LOG_ERROR);
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(file, sizeof(file), "%s/nested.json", dir);
    FILE *f = fopen(file, "w");
    if (!f || fputs(nested_json, f) < 0 || fclose(f))
        die("cannot write nested.json", NULL);
    const char *dirs[] = {dir, NULL};
    int rc = profile_set_load(dirs, &ps, err, sizeof(err));
    unlink(file);
    rmdir(dir);
    if (rc)
        die("profile_set_load", err);
    for (int i = 0; i < NROUTES; i++) {
        routes[i].path = "/hooks/fuzz";
        routes[i].name = "fuzz";
        routes[i].type = (char *)rtypes[i];
        if (!(routes[i].profile = profile_find(ps, pnames[i])))
            die("no profile", pnames[i]);
    }
}

static void check_str(const char *what, const char *s, size_t cap, size_t max)
{
    const char *nul = memchr(s, '\0', cap);
    if (!nul)
        die(what, "not NUL-terminated");
    size_t n = (size_t)(nul - s);
    if (n == 0 || n > max)
        die(what, "empty or too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            die(what, "not printable");
    if (!jscan_utf8_valid(s, n))
        die(what, "not valid UTF-8");
    if (event_text_check(s, n, NULL) != HG_OK)
        die(what, "holds a forbidden character");
}

static void run(const struct cfg_route *rt, extract_header_fn hdr, const char *body, size_t len,
                enum event_body want_kind)
{
    struct extract_result r;
    memset(&r, 0xA5, sizeof(r));
    const char *why = NULL;
    int rc = extract_event(rt, hdr, NULL, body, len, &r, &why);
    if (rc == HG_EDUPKEY) {
        const char *nul = memchr(r.reason, '\0', sizeof(r.reason));
        size_t n = nul ? (size_t)(nul - r.reason) : 0;
        if (want_kind != EVENT_BODY_JSON)
            die("HG_EDUPKEY for a body that is not JSON", rt->profile->name);
        if (why != r.reason || !nul || strncmp(r.reason, "duplicate key \"", 15) || n < 24 ||
            strcmp(r.reason + n - 9, "\" in body"))
            die("HG_EDUPKEY without its reason", rt->profile->name);
        return;
    }
    if (rc != HG_OK) {
        if (rc != HG_EBADJSON && rc != HG_ENOID && rc != HG_EBADID)
            die("unexpected result", hg_strerror(rc));
        if (rc == HG_EBADJSON && want_kind == EVENT_BODY_JSON)
            die("HG_EBADJSON for a JSON body", rt->profile->name);
        if (!why && rc != HG_ENOID)
            die("an error without a reason", hg_strerror(rc));
        if (rc == HG_EBADID && strncmp(r.reason, "invalid event id: ", 18) &&
            strncmp(r.reason, "invalid event type: ", 20))
            die("HG_EBADID's answer does not name the field", rt->profile->name);
        if (rc == HG_ENOID && rt->profile->id_fallback_sha256)
            die("HG_ENOID for a profile with id_fallback", rt->profile->name);
        return;
    }
    check_str("id", r.id, sizeof(r.id), EXTRACT_ID_MAX);
    check_str("type", r.type, sizeof(r.type), EXTRACT_TYPE_MAX);
    if (!memchr(r.time, '\0', sizeof(r.time)))
        die("time", "not NUL-terminated");
    if (r.time[0] && !time_rfc3339_valid(r.time, strlen(r.time)))
        die("time is not RFC 3339", r.time);
    if (!memchr(r.dedupe, '\0', sizeof(r.dedupe)))
        die("dedupe", "not NUL-terminated");
    if (r.dedupe[0]) {
        if (strncmp(r.dedupe, EXTRACT_DERIVED "sha256:", 8) || strlen(r.dedupe) != 8 + 64 ||
            strspn(r.dedupe + 8, "0123456789abcdef") != 64)
            die("dedupe is not EXTRACT_DERIVED sha256:<hex>", r.dedupe + 1);
        unsigned char md[SHA256_DIGEST_LENGTH];
        char hex[2 * SHA256_DIGEST_LENGTH + 1];
        SHA256((const unsigned char *)body, len, md);
        hex_encode(md, sizeof(md), hex);
        if (strcmp(r.dedupe + 8, hex))
            die("dedupe is not the body's SHA-256", r.dedupe + 1);
    }
    if (r.kind != want_kind)
        die("kind does not match jscan", rt->profile->name);
    if (rt->profile->needs_json && r.kind != EVENT_BODY_JSON)
        die("a json profile accepted a non-JSON body", rt->profile->name);
    if (hdr == hdr_json && r.kind != EVENT_BODY_JSON)
        die("a body labelled JSON was accepted as something else", rt->profile->name);
    if (rt->type && strcmp(r.type, rt->type) &&
        (!rt->profile->test_type || strcmp(r.type, rt->profile->test_type)))
        die("the route's type was not used", r.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init();
        ready = 1;
    }
    /* an exact-size copy: reading past the body is an ASan report */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);

    enum jscan_kind top;
    enum event_body kind = jscan_scan(body, size, &top, NULL, 0, NULL) == JSCAN_OK ? EVENT_BODY_JSON
                           : jscan_utf8_valid(body, size)                          ? EVENT_BODY_TEXT
                                                          : EVENT_BODY_BINARY;
    for (int i = 0; i < NROUTES; i++) {
        run(&routes[i], hdr_none, body, size, kind);
        run(&routes[i], hdr_table, body, size, kind);
        run(&routes[i], hdr_json, body, size, kind);
    }
    free(body);
    return 0;
}
