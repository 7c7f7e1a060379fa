/*
 * fuzz_jscan.c - libFuzzer driver for gateway/jscan.c.
 *
 * Scans each input with a few wanted keys and checks the scanner's invariants:
 *  - every found span lies inside the input and starts with a byte matching its kind;
 *  - a found value is itself a valid JSON text of the same kind;
 *  - an accepted input is valid UTF-8 and stays valid when wrapped in an array;
 *  - found strings decode, to valid UTF-8, never past cap (canary bytes), with ETOOBIG
 *    exactly when the decoded length does not fit in cap - 1;
 *  - jscan_pointer never reads outside the input, valid or not; on an accepted text it never
 *    says EINVAL, agrees with jscan_scan on every wanted key ("/id" finds the same span, and a
 *    repeated wanted key is an EDUP of its pointer), and what a nested pointer finds is itself
 *    a valid JSON text of the kind reported.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_jscan (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
#include "jscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NWANTED 5
#define CANARY  0xA5

static const char *const wanted[NWANTED] = {"id", "event", "data", "", "\xc3\xa9"};

/* the pointers of the wanted keys ("" is the member named "", so "/") */
static const char *const wanted_ptr[NWANTED] = {"/id", "/event", "/data", "/", "/\xc3\xa9"};
/* pointers through nested objects and arrays */
static const char *const nested_ptr[] = {"",       "/data/id",        "/data/0",
                                         "/a/0/b", "/data/object/id", "/~1/~0"};

static void check_span(const char *buf, size_t size, const struct jscan_span *sp)
{
    enum jscan_kind k;

    if (sp->kind == JSCAN_NONE) {
        if (sp->ptr || sp->len)
            abort();
        return;
    }
    if (!sp->ptr || sp->len == 0 || sp->ptr < buf || sp->ptr + sp->len > buf + size)
        abort();
    if (jscan_scan(sp->ptr, sp->len, &k, NULL, 0, NULL) != JSCAN_OK || k != sp->kind)
        abort();
}

/* check_pointers - jscan_pointer on buf; scan_rc/found: jscan_scan's result for wanted[] */
static void check_pointers(const char *buf, size_t size, int scan_rc,
                           const struct jscan_span *found)
{
    struct jscan_span sp;
    size_t dup_end;
    int dups = 0;

    for (int i = 0; i < NWANTED; i++) {
        dup_end = 0;
        int rc = jscan_pointer(buf, size, wanted_ptr[i], &sp, &dup_end);
        if (scan_rc != JSCAN_OK && scan_rc != JSCAN_EDUP) {
            if (rc != JSCAN_OK && rc != JSCAN_EINVAL && rc != JSCAN_EDUP)
                abort();
            continue;
        }
        if (rc == JSCAN_EDUP) {
            if (dup_end != strlen(wanted_ptr[i]))
                abort();
            dups++;
            continue;
        }
        if (rc != JSCAN_OK)
            abort();
        check_span(buf, size, &sp);
        if (scan_rc == JSCAN_OK &&
            (sp.kind != found[i].kind || sp.ptr != found[i].ptr || sp.len != found[i].len))
            abort();
    }
    if ((scan_rc == JSCAN_EDUP) != (dups > 0))
        abort();
    for (size_t i = 0; i < sizeof(nested_ptr) / sizeof(nested_ptr[0]); i++) {
        dup_end = 0;
        int rc = jscan_pointer(buf, size, nested_ptr[i], &sp, &dup_end);
        if (scan_rc != JSCAN_OK && scan_rc != JSCAN_EDUP)
            continue;
        if (rc == JSCAN_EDUP && (dup_end == 0 || dup_end > strlen(nested_ptr[i]) ||
                                 (nested_ptr[i][dup_end] && nested_ptr[i][dup_end] != '/')))
            abort();
        if (rc == JSCAN_OK)
            check_span(buf, size, &sp);
        else if (rc != JSCAN_EDUP)
            abort();
    }
}

static void check_decode(const struct jscan_span *sp)
{
    static unsigned char out[4096 + 64];
    size_t n = 0, n2 = 0;

    memset(out, CANARY, sizeof out);
    if (jscan_string_decode(sp->ptr, sp->len, (char *)out, 4096, &n) == JSCAN_ETOOBIG) {
        if (n < 4096 || out[0] != 0)
            abort();
    } else {
        if (n >= 4096 || out[n] != 0 || !jscan_utf8_valid((const char *)out, n))
            abort();
        /* each \u escape is >= 6 bytes for <= 4 output bytes, raw bytes copy 1:1 */
        if (n > sp->len - 2)
            abort();
        /* exact fit succeeds, one byte less does not, and neither writes past cap */
        memset(out, CANARY, sizeof out);
        if (jscan_string_decode(sp->ptr, sp->len, (char *)out, n + 1, &n2) != JSCAN_OK || n2 != n ||
            out[n] != 0 || out[n + 1] != CANARY)
            abort();
        memset(out, CANARY, sizeof out);
        if (jscan_string_decode(sp->ptr, sp->len, (char *)out, n, &n2) != JSCAN_ETOOBIG ||
            n2 != n || out[n] != CANARY || (n > 0 && out[0] != 0))
            abort();
    }
    for (size_t i = 4096; i < sizeof out; i++)
        if (out[i] != CANARY)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct jscan_span found[NWANTED];
    enum jscan_kind top;
    int rc = jscan_scan(buf, size, &top, wanted, NWANTED, found);

    check_pointers(buf, size, rc, found);
    if (rc != JSCAN_OK) {
        if (rc != JSCAN_EINVAL && rc != JSCAN_EDEPTH && rc != JSCAN_EDUP)
            abort();
        if (top != JSCAN_NONE)
            abort();
        return 0;
    }
    if (top == JSCAN_NONE || !jscan_utf8_valid(buf, size))
        abort();

    for (int i = 0; i < NWANTED; i++) {
        const struct jscan_span *sp = &found[i];
        enum jscan_kind k;

        if (sp->kind == JSCAN_NONE) {
            if (sp->ptr || sp->len)
                abort();
            continue;
        }
        if (top != JSCAN_OBJECT || !sp->ptr || sp->len == 0 || sp->ptr < buf ||
            sp->ptr + sp->len > buf + size)
            abort();
        if (jscan_scan(sp->ptr, sp->len, &k, NULL, 0, NULL) != JSCAN_OK || k != sp->kind)
            abort();
        if (sp->kind == JSCAN_STRING)
            check_decode(sp);
        else if (jscan_string_decode(sp->ptr, sp->len, NULL, 0, NULL) != JSCAN_EINVAL)
            abort();
    }

    /* an accepted text stays valid one level down, unless that exceeds the depth limit */
    char *wrapped = malloc(size + 2);
    if (!wrapped)
        return 0;
    wrapped[0] = '[';
    memcpy(wrapped + 1, data, size);
    wrapped[size + 1] = ']';
    rc = jscan_scan(wrapped, size + 2, NULL, NULL, 0, NULL);
    if (rc != JSCAN_OK && rc != JSCAN_EDEPTH)
        abort();
    free(wrapped);
    return 0;
}
