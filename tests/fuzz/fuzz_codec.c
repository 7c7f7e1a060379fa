/*
 * fuzz_codec.c - libFuzzer driver for gateway/codec.c.
 *
 * Every parser is handed the input in a heap block of exactly its size (C
 * strings: plus the NUL), so reading past the end or past the NUL is an ASan
 * report.  Invariants:
 *  - parse_size / parse_duration_ms: only digits then a known unit (or none)
 *    succeed, and a bare number parses to its own value (duration: seconds);
 *  - hex_decode of hex_encode returns the input; a successful hex_decode
 *    re-encodes to the lowercase of its text;
 *  - b64_decode of b64_encode returns the input; a successful b64_decode has
 *    4*ceil(n/3) characters, decodes again the same after re-encoding, and is
 *    HG_ETOOBIG with one byte less of room, never writing past cap;
 *  - time_rfc3339_valid reads only n bytes; time_format_ms (years 1970-9999)
 *    is valid RFC 3339;
 *  - json_escape output has no raw control character, quote or backslash
 *    outside escapes, and ends in a quote.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_codec (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
#include "buf.h"
#include "codec.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANARY 0xA5

static void die(const char *what)
{
    fprintf(stderr, "fuzz_codec: %s\n", what);
    abort();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void check_parse(const char *s, size_t n)
{
    uint64_t v = 0, w = 0;
    int rs = parse_size(s, &v), rd = parse_duration_ms(s, &w);
    if ((rs != HG_OK && rs != HG_EINVAL) || (rd != HG_OK && rd != HG_EINVAL))
        die("parse: unexpected result");
    size_t digits = strspn(s, "0123456789");
    if ((rs == HG_OK || rd == HG_OK) && digits == 0)
        die("parse: accepted text not starting with a digit");
    if (digits == n && n > 0 && n < 20) { /* a bare number that fits */
        errno = 0;
        unsigned long long x = strtoull(s, NULL, 10);
        if (rs != HG_OK || v != x)
            die("parse_size: bare number misparsed");
        if (x <= UINT64_MAX / 1000 && (rd != HG_OK || w != x * 1000))
            die("parse_duration_ms: bare number is not seconds");
    }
    if (rs == HG_OK && digits < n) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "KB", "MB", "GB"};
        int known = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            known |= !strcmp(s + digits, units[i]);
        if (!known)
            die("parse_size: accepted an unknown unit");
    }
    if (rd == HG_OK && digits < n) {
        static const char *const units[] = {"ms", "s", "m", "h", "d"};
        int known = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            known |= !strcmp(s + digits, units[i]);
        if (!known)
            die("parse_duration_ms: accepted an unknown unit");
    }
}

static void check_hex(const uint8_t *data, size_t size)
{
    /* round trip */
    char *enc = xmalloc(2 * size + 1);
    unsigned char *dec = xmalloc(size);
    hex_encode(data, size, enc);
    if (strlen(enc) != 2 * size || hex_decode(enc, 2 * size, dec, size) != HG_OK ||
        (size && memcmp(dec, data, size)))
        die("hex: decode(encode(x)) != x");
    /* wrong lengths are refused */
    if (size && hex_decode(enc, 2 * size - 1, dec, size) != HG_EINVAL)
        die("hex: odd length accepted");
    free(enc);
    free(dec);

    /* the input as hex text (exact-size block, no NUL) */
    char *in = xmalloc(size);
    memcpy(in, data, size);
    unsigned char *out = xmalloc(size / 2);
    if (size % 2 == 0 && hex_decode(in, size, out, size / 2) == HG_OK) {
        char *re = xmalloc(size + 1);
        hex_encode(out, size / 2, re);
        for (size_t i = 0; i < size; i++)
            if (re[i] != tolower((unsigned char)in[i]))
                die("hex: decoded text does not re-encode to its lowercase");
        free(re);
    }
    free(out);
    free(in);
}

static void check_b64(const uint8_t *data, size_t size)
{
    size_t elen = 4 * ((size + 2) / 3);
    char *enc = xmalloc(elen + 1);
    b64_encode(data, size, enc);
    if (strlen(enc) != elen)
        die("b64_encode: wrong length");
    unsigned char *dec = xmalloc(size + 8);
    memset(dec, CANARY, size + 8);
    size_t n = 0;
    if (b64_decode(enc, elen, dec, size, &n) != HG_OK || n != size ||
        (size && memcmp(dec, data, size)))
        die("b64: decode(encode(x)) != x");
    for (size_t i = size; i < size + 8; i++)
        if (dec[i] != CANARY)
            die("b64_decode: wrote past cap");
    if (size && b64_decode(enc, elen, dec, size - 1, &n) != HG_ETOOBIG)
        die("b64_decode: no HG_ETOOBIG with one byte less of room");
    free(enc);
    free(dec);

    /* the input as base64 text */
    char *in = xmalloc(size);
    memcpy(in, data, size);
    size_t cap = size; /* decoded is never longer than the text */
    unsigned char *out = xmalloc(cap + 8);
    memset(out, CANARY, cap + 8);
    int rc = b64_decode(in, size, out, cap, &n);
    if (rc != HG_OK && rc != HG_EINVAL)
        die("b64_decode: unexpected result");
    for (size_t i = cap; i < cap + 8; i++)
        if (out[i] != CANARY)
            die("b64_decode: wrote past cap");
    if (rc == HG_OK) {
        if (size != 4 * ((n + 2) / 3))
            die("b64_decode: length does not match the text");
        char *re = xmalloc(size + 1);
        unsigned char *again = xmalloc(n);
        size_t n2 = 0;
        b64_encode(out, n, re);
        if (b64_decode(re, strlen(re), again, n, &n2) != HG_OK || n2 != n ||
            (n && memcmp(again, out, n)))
            die("b64: decode(encode(decode(s))) != decode(s)");
        free(re);
        free(again);
    }
    free(out);
    free(in);
}

static void check_time(const uint8_t *data, size_t size)
{
    char *in = xmalloc(size);
    memcpy(in, data, size);
    int v = time_rfc3339_valid(in, size);
    if (v != 0 && v != 1)
        die("time_rfc3339_valid: not 0/1");
    if (v && (size < 20 || in[10] != 'T' ||
              (in[size - 1] != 'Z' && in[size - 6] != '+' && in[size - 6] != '-')))
        die("time_rfc3339_valid: accepted a malformed time");
    free(in);

    if (size >= 8) {
        uint64_t u;
        memcpy(&u, data, 8);
        int64_t ms = (int64_t)(u % 253402300800000ULL); /* up to 9999-12-31T23:59:59.999Z */
        char out[64];
        time_format_ms(ms, out, sizeof(out));
        if (!time_rfc3339_valid(out, strlen(out)))
            die("time_format_ms: output is not valid RFC 3339");
    }
}

static void check_escape(const uint8_t *data, size_t size)
{
    struct buf b;
    buf_init(&b, 6 * size + 16);
    if (json_escape(&b, (const char *)data, size) != HG_OK)
        die("json_escape failed within its bound");
    if (b.len < 2 || b.p[0] != '"' || b.p[b.len - 1] != '"' || b.p[b.len] != '\0')
        die("json_escape: not a quoted string");
    for (size_t i = 1; i < b.len - 1; i++) {
        unsigned char c = (unsigned char)b.p[i];
        if (c < 0x20 || c == '"')
            die("json_escape: raw control character or quote");
        if (c == '\\') {
            char e = b.p[++i];
            if (!strchr("\"\\nrtu", e) || i >= b.len - 1)
                die("json_escape: bad escape");
        }
    }
    buf_free(&b);
    /* too small a bound fails and appends nothing */
    buf_init(&b, size + 1);
    if (json_escape(&b, (const char *)data, size) != HG_ETOOBIG)
        die("json_escape: fit in less than len + 2");
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    check_parse(s, strlen(s));
    free(s);
    check_hex(data, size);
    check_b64(data, size);
    check_time(data, size);
    check_escape(data, size);
    return 0;
}
