/*
 * codec_test.c - unit tests for the pure encoders and parsers (gateway/codec.c).
 *
 * Covers: hex encode/decode (length, case, bad characters), base64 with the
 * RFC 4648 section 10 vectors and strict rejection of bad input, JSON string
 * escaping, parse_size / parse_duration_ms (units, bare numbers, overflow and
 * malformed input), time_format_ms (known instants, before the epoch) and
 * time_rfc3339_valid.
 */
#include "buf.h"
#include "codec.h"
#include "err.h"
#include "t.h"

#include <stdint.h>

/* ---- hex ---------------------------------------------------------------- */

static void test_hex_encode(void)
{
    static const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof(in) + 1];
    memset(out, 'X', sizeof(out));
    hex_encode(in, sizeof(in), out);
    T_EQ_STR(out, "00017f80abff");
    char empty[1] = {'X'};
    hex_encode(in, 0, empty);
    T_EQ_STR(empty, "");
}

static void test_hex_decode_ok_either_case(void)
{
    unsigned char out[4];
    T_EQ_INT(hex_decode("deadBEEF", 8, out, 4), HG_OK);
    T_CHECK(memcmp(out, "\xde\xad\xbe\xef", 4) == 0);
    T_EQ_INT(hex_decode("DEADbeef", 8, out, 4), HG_OK);
    T_CHECK(memcmp(out, "\xde\xad\xbe\xef", 4) == 0);
    T_EQ_INT(hex_decode("00ff09A0", 8, out, 4), HG_OK);
    T_CHECK(memcmp(out, "\x00\xff\x09\xa0", 4) == 0);
    T_EQ_INT(hex_decode("", 0, out, 0), HG_OK);

    /* round trip of every byte value */
    unsigned char all[256], back[256];
    char hex[513];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    hex_encode(all, 256, hex);
    T_EQ_INT(hex_decode(hex, 512, back, 256), HG_OK);
    T_CHECK(memcmp(all, back, 256) == 0);
}

static void test_hex_decode_errors(void)
{
    unsigned char out[4];
    T_EQ_INT(hex_decode("abc", 3, out, 1), HG_EINVAL);  /* odd length */
    T_EQ_INT(hex_decode("abc", 3, out, 2), HG_EINVAL);  /* odd length */
    T_EQ_INT(hex_decode("abcd", 4, out, 1), HG_EINVAL); /* longer than wanted */
    T_EQ_INT(hex_decode("ab", 2, out, 2), HG_EINVAL);   /* shorter than wanted */
    T_EQ_INT(hex_decode("0g", 2, out, 1), HG_EINVAL);   /* not a hex digit */
    T_EQ_INT(hex_decode("g0", 2, out, 1), HG_EINVAL);
    T_EQ_INT(hex_decode(" 0", 2, out, 1), HG_EINVAL); /* no skipping of spaces */
    T_EQ_INT(hex_decode("0x", 2, out, 1), HG_EINVAL);
    T_EQ_INT(hex_decode("a\0", 2, out, 1), HG_EINVAL);      /* embedded NUL */
    T_EQ_INT(hex_decode("\xc3\xa9", 2, out, 1), HG_EINVAL); /* non-ASCII */
    T_EQ_INT(hex_decode("ab-d", 4, out, 2), HG_EINVAL);
}

/* ---- base64 ------------------------------------------------------------- */

static void test_b64_rfc4648_vectors(void)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        memset(out, 'X', sizeof(out));
        b64_encode((const unsigned char *)plain[i], strlen(plain[i]), out);
        T_EQ_STR(out, enc[i]);

        unsigned char dec[16];
        size_t n = 999;
        T_EQ_INT(b64_decode(enc[i], strlen(enc[i]), dec, sizeof(dec), &n), HG_OK);
        T_EQ_INT(n, strlen(plain[i]));
        T_CHECK(memcmp(dec, plain[i], n) == 0);
    }
}

static void test_b64_binary_round_trip(void)
{
    unsigned char all[256], back[256];
    char enc[4 * 86 + 1];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    b64_encode(all, 256, enc);
    T_EQ_INT(strlen(enc), 4 * 86);
    size_t n = 0;
    T_EQ_INT(b64_decode(enc, strlen(enc), back, sizeof(back), &n), HG_OK);
    T_EQ_INT(n, 256);
    T_CHECK(memcmp(all, back, 256) == 0);
    /* '+' and '/' both decode */
    T_EQ_INT(b64_decode("+/+/", 4, back, sizeof(back), &n), HG_OK);
    T_EQ_INT(n, 3);
    T_CHECK(memcmp(back, "\xfb\xff\xbf", 3) == 0);
}

static void test_b64_decode_errors(void)
{
    unsigned char out[16];
    size_t n;
    static const char *const bad[] = {
        "Zg",       /* padding required */
        "Zg=",      /* incomplete quantum */
        "Zm9vY",    /* length not a multiple of 4 */
        "Z===",     /* too much padding */
        "====",     /* padding only */
        "Zg=a",     /* data after '=' */
        "Zg==Zm8=", /* padding in the middle */
        "Zm=v",     /* data after '=' */
        "Zm9v!A==", /* bad character */
        "Zm9 v",    /* no whitespace skipping (length 5) */
        "Zm 9",     /* space inside a quantum */
        "Zm9-",     /* URL-safe alphabet is not standard base64 */
        "Zm9_",     "Zm9\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n);
        if (rc != HG_EINVAL)
            fprintf(stderr, "  b64_decode(\"%s\") = %d\n", bad[i], rc);
        T_EQ_INT(rc, HG_EINVAL);
    }
    /* embedded NUL */
    T_EQ_INT(b64_decode("Zm\0v", 4, out, sizeof(out), &n), HG_EINVAL);
}

static void test_b64_decode_too_big(void)
{
    unsigned char out[6];
    size_t n = 0;
    T_EQ_INT(b64_decode("Zm9vYmFy", 8, out, 5, &n), HG_ETOOBIG);
    T_EQ_INT(b64_decode("Zm9vYg==", 8, out, 3, &n), HG_ETOOBIG);
    T_EQ_INT(b64_decode("Zm9v", 4, out, 0, &n), HG_ETOOBIG);
    /* exactly the room needed is enough */
    T_EQ_INT(b64_decode("Zm9vYmFy", 8, out, 6, &n), HG_OK);
    T_EQ_INT(n, 6);
    T_EQ_INT(b64_decode("Zm9vYg==", 8, out, 4, &n), HG_OK);
    T_EQ_INT(n, 4);
}

/* ---- json_escape -------------------------------------------------------- */

/* escape s[0..n) into a fresh buffer and compare with want */
static void check_escape(const char *s, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b, 4096);
    T_EQ_INT(json_escape(&b, s, n), HG_OK);
    T_EQ_STR(b.p, want);
    T_EQ_INT(b.len, strlen(want));
    buf_free(&b);
}

static void test_json_escape(void)
{
    check_escape("", 0, "\"\"");
    check_escape("plain", 5, "\"plain\"");
    check_escape("a\"b", 3, "\"a\\\"b\"");
    check_escape("a\\b", 3, "\"a\\\\b\"");
    check_escape("l1\nl2\tx\ry", 9, "\"l1\\nl2\\tx\\ry\"");
    check_escape("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    check_escape("\b\f", 2, "\"\\u0008\\u000c\"");
    check_escape("a\0b", 3, "\"a\\u0000b\"");
    check_escape("/", 1, "\"/\"");       /* '/' needs no escape */
    check_escape("\x7f", 1, "\"\x7f\""); /* DEL is allowed in JSON strings */
    /* UTF-8 is copied as is */
    check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* only n bytes are read */
    check_escape("abcdef", 3, "\"abc\"");
    check_escape("\"\"\"", 3, "\"\\\"\\\"\\\"\"");
}

static void test_json_escape_appends_and_too_big(void)
{
    struct buf b;
    buf_init(&b, 8);
    T_EQ_INT(buf_puts(&b, "k:"), HG_OK);
    T_EQ_INT(json_escape(&b, "v", 1), HG_OK);
    T_EQ_STR(b.p, "k:\"v\"");
    /* 3 more bytes of room: "\n" escaped needs 4 with quotes */
    T_EQ_INT(json_escape(&b, "\n", 1), HG_ETOOBIG);
    buf_free(&b);
}

/* ---- parse_size --------------------------------------------------------- */

static void size_ok(const char *s, uint64_t want)
{
    uint64_t v = 12345;
    int rc = parse_size(s, &v);
    if (rc != HG_OK || v != want)
        fprintf(stderr, "  parse_size(\"%s\")\n", s);
    T_EQ_INT(rc, HG_OK);
    T_CHECK(v == want);
}

static void size_bad(const char *s)
{
    uint64_t v = 12345;
    int rc = parse_size(s, &v);
    if (rc != HG_EINVAL)
        fprintf(stderr, "  parse_size(\"%s\") accepted\n", s);
    T_EQ_INT(rc, HG_EINVAL);
    T_CHECK(v == 12345); /* untouched on error */
}

static void test_parse_size(void)
{
    size_ok("1MiB", 1048576);
    size_ok("512KiB", 524288);
    size_ok("16GiB", 17179869184ULL);
    size_ok("1TiB", 1ULL << 40);
    size_ok("10MB", 10000000);
    size_ok("3KB", 3000);
    size_ok("2GB", 2000000000);
    size_ok("4096", 4096);
    size_ok("4096B", 4096);
    size_ok("0", 0);
    size_ok("0GiB", 0);
    size_ok("007", 7);
    size_ok("18446744073709551615", UINT64_MAX);
    size_ok("16777215TiB", 16777215ULL << 40); /* largest that fits */
}

static void test_parse_size_errors(void)
{
    size_bad("");
    size_bad("1.5MiB");
    size_bad("-1");
    size_bad("+1");
    size_bad("1XB");
    size_bad("MiB");
    size_bad(" 1MiB");
    size_bad("1 MiB");
    size_bad("1MiB ");
    size_bad("1mib"); /* units are case-sensitive */
    size_bad("1M");
    size_bad("0x10");
    size_bad("99999999999999999999");
    size_bad("18446744073709551616");
    size_bad("18446744073709551615GiB");
    size_bad("16777216TiB");
    uint64_t v;
    T_EQ_INT(parse_size(NULL, &v), HG_EINVAL);
}

/* ---- parse_duration_ms -------------------------------------------------- */

static void dur_ok(const char *s, uint64_t want)
{
    uint64_t v = 12345;
    int rc = parse_duration_ms(s, &v);
    if (rc != HG_OK || v != want)
        fprintf(stderr, "  parse_duration_ms(\"%s\")\n", s);
    T_EQ_INT(rc, HG_OK);
    T_CHECK(v == want);
}

static void dur_bad(const char *s)
{
    uint64_t v = 12345;
    int rc = parse_duration_ms(s, &v);
    if (rc != HG_EINVAL)
        fprintf(stderr, "  parse_duration_ms(\"%s\") accepted\n", s);
    T_EQ_INT(rc, HG_EINVAL);
    T_CHECK(v == 12345);
}

static void test_parse_duration(void)
{
    dur_ok("250ms", 250);
    dur_ok("30s", 30000);
    dur_ok("5m", 300000);
    dur_ok("2h", 7200000);
    dur_ok("7d", 604800000);
    dur_ok("12", 12000); /* bare number = seconds */
    dur_ok("0", 0);
    dur_ok("0ms", 0);
    dur_ok("1ms", 1);
}

static void test_parse_duration_errors(void)
{
    dur_bad("");
    dur_bad("s");
    dur_bad("ms");
    dur_bad("-5s");
    dur_bad("1.5s");
    dur_bad("5 s");
    dur_bad("5S");
    dur_bad("5sec");
    dur_bad("5min");
    dur_bad("1w");
    dur_bad("5y");
    dur_bad("5s5");
    dur_bad("99999999999999999999ms");
    dur_bad("18446744073709551615"); /* seconds overflow when made ms */
    dur_bad("213503982334602d");     /* days overflow */
}

/* ---- time --------------------------------------------------------------- */

static void fmt_is(int64_t ms, const char *want)
{
    char out[40];
    memset(out, 'X', sizeof(out));
    time_format_ms(ms, out, sizeof(out));
    if (strcmp(out, want) != 0)
        fprintf(stderr, "  time_format_ms(%lld)\n", (long long)ms);
    T_EQ_STR(out, want);
}

static void test_time_format(void)
{
    fmt_is(0, "1970-01-01T00:00:00.000Z");
    fmt_is(1, "1970-01-01T00:00:00.001Z");
    fmt_is(999, "1970-01-01T00:00:00.999Z");
    fmt_is(1000, "1970-01-01T00:00:01.000Z");
    fmt_is(1763846959123LL, "2025-11-22T21:29:19.123Z");
    fmt_is(951782400000LL, "2000-02-29T00:00:00.000Z"); /* leap day */
    fmt_is(253402300799999LL, "9999-12-31T23:59:59.999Z");
    /* before the epoch: the fraction stays positive, the second goes back */
    fmt_is(-1, "1969-12-31T23:59:59.999Z");
    fmt_is(-1000, "1969-12-31T23:59:59.000Z");
    fmt_is(-1500, "1969-12-31T23:59:58.500Z");
    fmt_is(-86400000LL, "1969-12-31T00:00:00.000Z");
}

static void test_time_now_is_plausible(void)
{
    int64_t a = time_now_ms();
    int64_t b = time_now_ms();
    T_CHECK(a > 1700000000000LL); /* after Nov 2023 */
    T_CHECK(b >= a);
}

static int valid(const char *s)
{
    return time_rfc3339_valid(s, strlen(s));
}

static void test_rfc3339_valid(void)
{
    T_EQ_INT(valid("2026-11-22T15:54:07Z"), 1);
    T_EQ_INT(valid("2026-11-22T15:54:07.123Z"), 1);
    T_EQ_INT(valid("2026-11-22T15:54:07.1Z"), 1);
    T_EQ_INT(valid("2026-11-22T15:54:07.123456789Z"), 1);
    T_EQ_INT(valid("2026-11-22T15:54:07+03:00"), 1);
    T_EQ_INT(valid("2026-11-22T15:54:07-08:30"), 1);
    T_EQ_INT(valid("2026-11-22T15:54:07.5+00:00"), 1);
    T_EQ_INT(valid("2016-12-31T23:59:60Z"), 1); /* leap second */
    T_EQ_INT(valid("0000-01-01T00:00:00Z"), 1);
    T_EQ_INT(valid("9999-12-31T23:59:59-23:59"), 1); /* every field at its maximum */
    /* only the first n bytes count */
    T_EQ_INT(time_rfc3339_valid("2026-11-22T15:54:07Zjunk", 20), 1);
}

static void test_rfc3339_invalid_syntax(void)
{
    static const char *const bad[] = {
        "",
        "2026-11-22",
        "2026-11-22T15:54:07",      /* no zone */
        "2026-11-22T15:54Z",        /* no seconds */
        "2026-11-22T15:54:07.Z",    /* empty fraction */
        "2026-11-22T15:54:07,5Z",   /* comma fraction */
        "2026-11-22T15:54:07+0300", /* offset without colon */
        "2026-11-22T15:54:07+03",
        "2026-11-22T15:54:07 Z",
        "2026-11-22T15:54:07ZZ",
        "2026/11/22T15:54:07Z",
        "2026-11-22X15:54:07Z",
        "26-11-22T15:54:07Z",
        "2026-1-22T15:54:07Z",
        "2026-11-22T15:54:07.123",
        "1763846959",
        "2026-11-22T1a:54:07Z",
        "2026-11-22t15:54:07Z",  /* lowercase t: not JSON Schema's date-time here */
        "2026-11-22T15:54:07z",  /* lowercase z */
        "2026-11-22 15:54:07Z",  /* space separator */
        "+2026-11-22T15:54:07Z", /* no sign on the year */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (valid(bad[i]))
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        T_EQ_INT(valid(bad[i]), 0);
    }
    /* a valid text cut short is invalid */
    T_EQ_INT(time_rfc3339_valid("2026-11-22T15:54:07.123Z", 23), 0);
    T_EQ_INT(time_rfc3339_valid("2026-11-22T15:54:07+03:00", 24), 0);
}

/* Fields out of range (codec.h: month 1-12, day 1-31, hour 0-23, minute 0-59,
 * second 0-60; offsets likewise). */
static void test_rfc3339_invalid_field_ranges(void)
{
    static const char *const bad[] = {
        "2026-13-01T00:00:00Z",      /* month 13 */
        "2026-00-10T00:00:00Z",      /* month 0 */
        "2026-01-32T00:00:00Z",      /* day 32 */
        "2026-01-00T00:00:00Z",      /* day 0 */
        "2026-11-22T24:00:00Z",      /* hour 24 */
        "2026-11-22T12:60:00Z",      /* minute 60 */
        "2026-11-22T12:00:61Z",      /* second 61 */
        "2026-99-99T99:99:99Z",      /* everything */
        "2026-11-22T12:00:00+24:00", /* offset hour 24 */
        "2026-11-22T12:00:00+05:60", /* offset minute 60 */
        "2026-11-22T12:00:00-99:00", /* offset hour 99 */
        "2026-11-22T12:00:00+2a:00", /* offset not digits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (valid(bad[i]))
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        T_EQ_INT(valid(bad[i]), 0);
    }
}

int main(void)
{
    T_RUN(test_hex_encode);
    T_RUN(test_hex_decode_ok_either_case);
    T_RUN(test_hex_decode_errors);
    T_RUN(test_b64_rfc4648_vectors);
    T_RUN(test_b64_binary_round_trip);
    T_RUN(test_b64_decode_errors);
    T_RUN(test_b64_decode_too_big);
    T_RUN(test_json_escape);
    T_RUN(test_json_escape_appends_and_too_big);
    T_RUN(test_parse_size);
    T_RUN(test_parse_size_errors);
    T_RUN(test_parse_duration);
    T_RUN(test_parse_duration_errors);
    T_RUN(test_time_format);
    T_RUN(test_time_now_is_plausible);
    T_RUN(test_rfc3339_valid);
    T_RUN(test_rfc3339_invalid_syntax);
    T_RUN(test_rfc3339_invalid_field_ranges);
    return t_finish();
}
