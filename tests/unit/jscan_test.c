/*
 * jscan_test.c - unit tests for the validating JSON scanner (gateway/jscan.c):
 * validation, wanted top-level keys, string decoding and JSON pointers.
 */
#include "jscan.h"
#include "t.h"

#include <stdlib.h>

/* Scan a NUL-terminated text with no wanted keys. */
static int scan(const char *s)
{
    return jscan_scan(s, strlen(s), NULL, NULL, 0, NULL);
}

static int scan_n(const char *s, size_t n)
{
    return jscan_scan(s, n, NULL, NULL, 0, NULL);
}

/* Does span sp hold exactly the bytes of s? */
static int span_is(struct jscan_span sp, const char *s)
{
    return sp.ptr && sp.len == strlen(s) && memcmp(sp.ptr, s, sp.len) == 0;
}

static void test_valid_texts(void)
{
    static const char *ok[] = {
        "{}",
        "[]",
        "{\"a\":1}",
        "[1,2,3]",
        "\"str\"",
        "\"\"",
        "0",
        "-0",
        "12345",
        "-1.5e+10",
        "1E5",
        "0.25",
        "3e-2",
        "true",
        "false",
        "null",
        " \t\r\n{ \"a\" : [ 1 , { \"b\" : null } , \"x\" ] , \"c\" : { } } \n",
        "[[],[[]],{},{\"\":\"\"}]",
        "{\"k\":\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"}",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80\"",
        "\"\\u0000\"",
        "{\"a\":true,\"b\":false,\"c\":null,\"d\":[true,false,null]}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = scan(ok[i]);
        if (rc != JSCAN_OK)
            fprintf(stderr, "  rejected: %s\n", ok[i]);
        T_EQ_INT(rc, JSCAN_OK);
    }
}

static void test_top_kind(void)
{
    static const struct {
        const char *s;
        enum jscan_kind k;
    } cases[] = {
        {" {} ", JSCAN_OBJECT}, {"[1]", JSCAN_ARRAY}, {"\"x\"", JSCAN_STRING},
        {"-3", JSCAN_NUMBER},   {"true", JSCAN_TRUE}, {"false", JSCAN_FALSE},
        {"null", JSCAN_NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum jscan_kind k = JSCAN_NONE;
        T_EQ_INT(jscan_scan(cases[i].s, strlen(cases[i].s), &k, NULL, 0, NULL), JSCAN_OK);
        T_EQ_INT(k, cases[i].k);
    }
    enum jscan_kind k = JSCAN_ARRAY;
    T_EQ_INT(jscan_scan("[1,]", 4, &k, NULL, 0, NULL), JSCAN_EINVAL);
    T_EQ_INT(k, JSCAN_NONE);
}

static void test_rejects(void)
{
    static const char *bad[] = {
        "",                   /* empty */
        "   ",                /* only whitespace */
        "[1,]",               /* trailing comma */
        "{\"a\":1,}",         /* trailing comma in object */
        "[,1]",               /* leading comma */
        "[1 2]",              /* missing comma */
        "{\"a\" 1}",          /* missing colon */
        "{\"a\":}",           /* missing value */
        "{a:1}",              /* unquoted key */
        "{1:1}",              /* non-string key */
        "['a']",              /* single quotes */
        "01",                 /* leading zero */
        "-01",                /* leading zero */
        "[00]",               /* leading zero */
        "1.",                 /* no fraction digits */
        ".5",                 /* no integer part */
        "1e",                 /* no exponent digits */
        "1e+",                /* no exponent digits */
        "+1",                 /* plus sign */
        "-",                  /* lone minus */
        "0x10",               /* hex */
        "NaN",                /* NaN */
        "Infinity",           /* Infinity */
        "-Infinity",          /* -Infinity */
        "tru",                /* truncated literal */
        "True",               /* wrong case */
        "nul",                /* truncated literal */
        "\"abc",              /* unterminated string */
        "\"\\x\"",            /* bad escape */
        "\"\\u12G4\"",        /* bad hex */
        "\"\\u123\"",         /* short \u */
        "\"\\'\"",            /* not a JSON escape */
        "\"\\uD800\"",        /* lone high surrogate */
        "\"\\uDC00\"",        /* lone low surrogate */
        "\"\\uD800\\u0041\"", /* high surrogate + non-low */
        "\"\\uD800\\uD800\"", /* high + high */
        "\"\\uD800x\"",       /* high surrogate + raw char */
        "\"a\tb\"",           /* raw control char */
        "\"a\nb\"",           /* raw newline */
        "\"\x1f\"",           /* raw 0x1f */
        "{} {}",              /* two texts */
        "[1]]",               /* trailing garbage */
        "1 2",                /* trailing garbage */
        "{}x",                /* trailing garbage */
        "[1}",                /* mismatched close */
        "{\"a\":1]",          /* mismatched close */
        "/* c */ 1",          /* comment */
        "[1] // c",           /* comment */
        "\xef\xbb\xbf{}",     /* BOM is not whitespace */
        "\f1",                /* form feed is not whitespace */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = scan(bad[i]);
        if (rc != JSCAN_EINVAL)
            fprintf(stderr, "  accepted (%d): %s\n", rc, bad[i]);
        T_EQ_INT(rc, JSCAN_EINVAL);
    }
    /* NUL bytes are never valid, inside or outside strings */
    T_EQ_INT(scan_n("\"a\0b\"", 5), JSCAN_EINVAL);
    T_EQ_INT(scan_n("1\0", 2), JSCAN_EINVAL);
    T_EQ_INT(jscan_scan(NULL, 0, NULL, NULL, 0, NULL), JSCAN_EINVAL);
}

static void test_bad_utf8(void)
{
    static const char *bad[] = {
        "\"\x80\"",             /* lone continuation */
        "\"\xbf\"",             /* lone continuation */
        "\"\xc0\xaf\"",         /* overlong '/' */
        "\"\xc1\xbf\"",         /* overlong */
        "\"\xe0\x80\xaf\"",     /* overlong 3-byte */
        "\"\xe0\x9f\xbf\"",     /* overlong 3-byte */
        "\"\xf0\x80\x80\xaf\"", /* overlong 4-byte */
        "\"\xf0\x8f\xbf\xbf\"", /* overlong 4-byte */
        "\"\xed\xa0\x80\"",     /* UTF-8 encoded surrogate U+D800 */
        "\"\xed\xbf\xbf\"",     /* UTF-8 encoded surrogate U+DFFF */
        "\"\xf4\x90\x80\x80\"", /* U+110000 */
        "\"\xf5\x80\x80\x80\"", /* lead byte > F4 */
        "\"\xff\"",             /* invalid byte */
        "\"\xc3\"",             /* truncated 2-byte */
        "\"\xe2\x82\"",         /* truncated 3-byte */
        "\"\xf0\x9f\x98\"",     /* truncated 4-byte */
        "\"\xc3\x28\"",         /* bad continuation */
        "\"\xe2\x28\xa1\"",     /* bad continuation */
        "\xc3\xa9",             /* non-ASCII outside a string */
        "[\xc3\xa9]",           /* non-ASCII outside a string */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_EQ_INT(scan(bad[i]), JSCAN_EINVAL);
        if (bad[i][0] == '"') /* the body alone is invalid UTF-8 too */
            T_EQ_INT(jscan_utf8_valid(bad[i] + 1, strlen(bad[i]) - 2), 0);
    }
    /* truncated multi-byte sequence at the very end of the buffer */
    T_EQ_INT(scan_n("\"\xe2\x82\xac\"", 3), JSCAN_EINVAL);
}

static void test_utf8_valid(void)
{
    T_EQ_INT(jscan_utf8_valid("", 0), 1);
    T_EQ_INT(jscan_utf8_valid(NULL, 0), 1);
    T_EQ_INT(jscan_utf8_valid("plain ascii, longer than eight bytes", 36), 1);
    const char *mixed = "a\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
                        "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf tail";
    T_EQ_INT(jscan_utf8_valid(mixed, strlen(mixed)), 1);
    T_EQ_INT(jscan_utf8_valid("\0", 1), 1); /* NUL is valid UTF-8 */
    T_EQ_INT(jscan_utf8_valid("abcdefgh\xed\xa0\x80", 11), 0);
    T_EQ_INT(jscan_utf8_valid("abcdefgh\xe2\x82", 10), 0);
    T_EQ_INT(jscan_utf8_valid("\xf4\x90\x80\x80", 4), 0);
}

/* n nested arrays with a 1 in the middle. */
static char *nest(char *buf, int n, char open, char close)
{
    int i = 0;
    for (int d = 0; d < n; d++)
        buf[i++] = open;
    buf[i++] = '1';
    for (int d = 0; d < n; d++)
        buf[i++] = close;
    buf[i] = '\0';
    return buf;
}

static void test_depth(void)
{
    char buf[512];

    T_EQ_INT(scan(nest(buf, 64, '[', ']')), JSCAN_OK);
    T_EQ_INT(scan(nest(buf, 65, '[', ']')), JSCAN_EDEPTH);
    T_EQ_INT(scan(nest(buf, 200, '[', ']')), JSCAN_EDEPTH);

    /* mixed objects and arrays, exactly 64 deep */
    char *p = buf;
    for (int d = 0; d < 32; d++)
        p += sprintf(p, "{\"k\":[");
    *p++ = '1';
    for (int d = 0; d < 32; d++)
        p += sprintf(p, "]}");
    *p = '\0';
    T_EQ_INT(scan(buf), JSCAN_OK);
    /* one more level inside */
    p = buf;
    for (int d = 0; d < 32; d++)
        p += sprintf(p, "{\"k\":[");
    p += sprintf(p, "{}");
    for (int d = 0; d < 32; d++)
        p += sprintf(p, "]}");
    T_EQ_INT(scan(buf), JSCAN_EDEPTH);

    /* many siblings at depth 64 and going up and down repeatedly are fine */
    p = buf;
    for (int d = 0; d < 63; d++)
        *p++ = '[';
    for (int i = 0; i < 20; i++)
        p += sprintf(p, "%s[]", i ? "," : "");
    for (int d = 0; d < 63; d++)
        *p++ = ']';
    *p = '\0';
    T_EQ_INT(scan(buf), JSCAN_OK);
}

static void test_truncated_prefixes(void)
{
    static const char *docs[] = {
        ("{\"event_id\":\"evt_123\",\"n\":-12.5e3,\"t\":true,\"f\":false,\"z\":null,"
         "\"a\":[1,{\"b\":\"\\u00e9\\uD83D\\uDE00\"}],\"u\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}"),
        "[ 1 , \"two\" , [ ] , { } , 0.5 ]",
        "{\"\\u0069d\":12345}",
    };
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t n = strlen(docs[d]);
        T_EQ_INT(scan_n(docs[d], n), JSCAN_OK);
        for (size_t i = 0; i < n; i++) {
            /* copy to an exact-size heap block so ASan catches any over-read */
            char *cp = malloc(i ? i : 1);
            memcpy(cp, docs[d], i);
            int rc = scan_n(cp, i);
            if (rc != JSCAN_EINVAL)
                fprintf(stderr, "  prefix %zu of doc %zu accepted\n", i, d);
            T_EQ_INT(rc, JSCAN_EINVAL);
            free(cp);
        }
    }
}

static void test_wanted_keys(void)
{
    const char *doc = "{ \"event_id\" : \"evt_1\", \"id\": 12345, \"data\": {\"id\": \"nested\", "
                      "\"x\": [1, {\"ok\": 1}]}, \"gone\": null, \"list\": [ ], \"flag\": false,"
                      " \"yes\":true }";
    const char *wanted[] = {"event_id", "id",   "data", "gone", "missing",
                            "ok",       "list", "flag", "yes"};
    struct jscan_span f[9];
    enum jscan_kind k;

    T_EQ_INT(jscan_scan(doc, strlen(doc), &k, wanted, 9, f), JSCAN_OK);
    T_EQ_INT(k, JSCAN_OBJECT);
    T_EQ_INT(f[0].kind, JSCAN_STRING);
    T_CHECK(span_is(f[0], "\"evt_1\""));
    T_EQ_INT(f[1].kind, JSCAN_NUMBER);
    T_CHECK(span_is(f[1], "12345"));
    T_EQ_INT(f[2].kind, JSCAN_OBJECT);
    T_CHECK(span_is(f[2], "{\"id\": \"nested\", \"x\": [1, {\"ok\": 1}]}"));
    T_EQ_INT(f[3].kind, JSCAN_NULL);
    T_CHECK(span_is(f[3], "null"));
    T_EQ_INT(f[4].kind, JSCAN_NONE);
    T_CHECK(f[4].ptr == NULL && f[4].len == 0);
    T_EQ_INT(f[5].kind, JSCAN_NONE); /* nested key never matches */
    T_EQ_INT(f[6].kind, JSCAN_ARRAY);
    T_CHECK(span_is(f[6], "[ ]"));
    T_EQ_INT(f[7].kind, JSCAN_FALSE);
    T_CHECK(span_is(f[7], "false"));
    T_EQ_INT(f[8].kind, JSCAN_TRUE);
    T_CHECK(span_is(f[8], "true"));
    /* spans point into the caller's buffer */
    T_CHECK(f[1].ptr > doc && f[1].ptr < doc + strlen(doc));
}

static void test_wanted_edge_cases(void)
{
    struct jscan_span f[3];
    const char *w1[] = {"id"};

    /* escaped key matches its decoded form */
    const char *esc = "{\"\\u0069d\":7}";
    T_EQ_INT(jscan_scan(esc, strlen(esc), NULL, w1, 1, f), JSCAN_OK);
    T_CHECK(span_is(f[0], "7"));
    const char *esc2 = "{\"\\u00e9t\\u00E9\":\"x\",\"\\ud83d\\ude00\":1,\"a\\/b\":2}";
    const char *w2[] = {"\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "a/b"};
    T_EQ_INT(jscan_scan(esc2, strlen(esc2), NULL, w2, 3, f), JSCAN_OK);
    T_CHECK(span_is(f[0], "\"x\""));
    T_CHECK(span_is(f[1], "1"));
    T_CHECK(span_is(f[2], "2"));

    /* keys that are prefixes / extensions of the wanted name do not match */
    const char *pre = "{\"i\":1,\"idx\":2,\"\":3,\"id\\u0000\":4}";
    T_EQ_INT(jscan_scan(pre, strlen(pre), NULL, w1, 1, f), JSCAN_OK);
    T_EQ_INT(f[0].kind, JSCAN_NONE);

    /* duplicate wanted key -> EDUP; duplicate non-wanted key is fine */
    const char *dup = "{\"id\":1,\"other\":2,\"id\":3}";
    T_EQ_INT(jscan_scan(dup, strlen(dup), NULL, w1, 1, f), JSCAN_EDUP);
    const char *dup_esc = "{\"id\":1,\"i\\u0064\":3}";
    T_EQ_INT(jscan_scan(dup_esc, strlen(dup_esc), NULL, w1, 1, f), JSCAN_EDUP);
    const char *dup_ok = "{\"x\":1,\"id\":{\"id\":2,\"id\":3},\"x\":4}";
    T_EQ_INT(jscan_scan(dup_ok, strlen(dup_ok), NULL, w1, 1, f), JSCAN_OK);
    T_CHECK(span_is(f[0], "{\"id\":2,\"id\":3}"));
    /* invalid JSON wins over a duplicate */
    const char *dup_bad = "{\"id\":1,\"id\":2,}";
    T_EQ_INT(jscan_scan(dup_bad, strlen(dup_bad), NULL, w1, 1, f), JSCAN_EINVAL);

    /* top-level array or scalar: nothing is found */
    const char *arr = "[{\"id\":1}]";
    T_EQ_INT(jscan_scan(arr, strlen(arr), NULL, w1, 1, f), JSCAN_OK);
    T_EQ_INT(f[0].kind, JSCAN_NONE);

    /* the same name wanted twice fills both slots */
    const char *w3[] = {"a", "b", "a"};
    const char *twice = "{\"a\":\"v\",\"b\":-0.5}";
    T_EQ_INT(jscan_scan(twice, strlen(twice), NULL, w3, 3, f), JSCAN_OK);
    T_CHECK(span_is(f[0], "\"v\""));
    T_CHECK(span_is(f[1], "-0.5"));
    T_CHECK(span_is(f[2], "\"v\""));

    /* value followed directly by '}' or whitespace */
    const char *tight = "{\"id\":12345}";
    T_EQ_INT(jscan_scan(tight, strlen(tight), NULL, w1, 1, f), JSCAN_OK);
    T_CHECK(span_is(f[0], "12345"));
    const char *loose = "{\"id\"\n:\n\"a b\"\n}";
    T_EQ_INT(jscan_scan(loose, strlen(loose), NULL, w1, 1, f), JSCAN_OK);
    T_CHECK(span_is(f[0], "\"a b\""));
}

static void test_decode(void)
{
    char out[64];
    size_t n = 99;

    const char *s1 = "\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"";
    T_EQ_INT(jscan_string_decode(s1, strlen(s1), out, sizeof out, &n), JSCAN_OK);
    T_EQ_STR(out, "a\"b\\c/d\be\ff\ng\rh\ti");
    T_EQ_INT(n, strlen("a\"b\\c/d\be\ff\ng\rh\ti"));

    const char *s2 = "\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\\uDBFF\\uDFFF\"";
    T_EQ_INT(jscan_string_decode(s2, strlen(s2), out, sizeof out, &n), JSCAN_OK);
    T_EQ_STR(out, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
    T_EQ_INT(n, 1 + 2 + 3 + 4 + 4);

    /* raw UTF-8 passes through; \u0000 yields a NUL byte inside the length */
    const char *s3 = "\"\xc3\xa9x\\u0000y\"";
    T_EQ_INT(jscan_string_decode(s3, strlen(s3), out, sizeof out, &n), JSCAN_OK);
    T_EQ_INT(n, 5);
    T_CHECK(memcmp(out, "\xc3\xa9x\0y\0", 6) == 0);

    const char *empty = "\"\"";
    T_EQ_INT(jscan_string_decode(empty, 2, out, 1, &n), JSCAN_OK);
    T_EQ_INT(n, 0);
    T_EQ_STR(out, "");
}

static void test_decode_sizes(void)
{
    char out[16];
    size_t n;
    const char *s = "\"abc\\uD83D\\uDE00\""; /* decodes to 7 bytes */

    /* exact fit: 7 bytes + NUL */
    memset(out, 'X', sizeof out);
    T_EQ_INT(jscan_string_decode(s, strlen(s), out, 8, &n), JSCAN_OK);
    T_EQ_INT(n, 7);
    T_EQ_STR(out, "abc\xf0\x9f\x98\x80");
    T_EQ_INT(out[8], 'X');

    /* one short: ETOOBIG, nothing past cap written, required length reported */
    for (size_t cap = 0; cap < 8; cap++) {
        memset(out, 'X', sizeof out);
        n = 0;
        T_EQ_INT(jscan_string_decode(s, strlen(s), out, cap, &n), JSCAN_ETOOBIG);
        T_EQ_INT(n, 7);
        for (size_t i = cap; i < sizeof out; i++)
            T_EQ_INT(out[i], 'X');
        if (cap > 0)
            T_EQ_INT(out[0], '\0');
    }
    T_EQ_INT(jscan_string_decode(s, strlen(s), NULL, 0, &n), JSCAN_ETOOBIG);
    T_EQ_INT(n, 7);
    T_EQ_INT(jscan_string_decode(s, strlen(s), out, 8, NULL), JSCAN_OK);
}

static void test_decode_invalid(void)
{
    static const char *bad[] = {
        "",         "\"",      "abc",         "\"abc",       "\"a\"b\"",
        "\"a\" ",   "\"\\x\"", "\"\\uD800\"", "\"\\uDC00\"", "\"\xc0\xaf\"",
        "\"\x01\"", "'a'",     "\"a\\\"",
    };
    char out[16];
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        T_EQ_INT(jscan_string_decode(bad[i], strlen(bad[i]), out, sizeof out, &n), JSCAN_EINVAL);
    T_EQ_INT(jscan_string_decode(NULL, 0, out, sizeof out, &n), JSCAN_EINVAL);
}

static void test_decode_found_span(void)
{
    const char *doc = "{\"event\":\"order.\\u0063reated\",\"n\":1}";
    const char *w[] = {"event"};
    struct jscan_span f[1];
    char out[32];
    size_t n;

    T_EQ_INT(jscan_scan(doc, strlen(doc), NULL, w, 1, f), JSCAN_OK);
    T_EQ_INT(f[0].kind, JSCAN_STRING);
    T_EQ_INT(jscan_string_decode(f[0].ptr, f[0].len, out, sizeof out, &n), JSCAN_OK);
    T_EQ_STR(out, "order.created");
}

/* ptr - jscan_pointer over a NUL-terminated text; *dup gets dup_end (or stays). */
static int ptr(const char *doc, const char *pointer, struct jscan_span *f, size_t *dup)
{
    return jscan_pointer(doc, strlen(doc), pointer, f, dup);
}

static void test_pointer_lookup(void)
{
    struct jscan_span f;
    const char *doc = " {\"id\":\"e1\",\"data\":{\"object\":{\"id\":42,\"s\":\"}]\\\"{\"},"
                      "\"list\":[{\"k\":1},[2,3],\"x\"],\"a/b\":true,\"m~n\":null,\"\":0}} ";

    T_EQ_INT(ptr(doc, "/id", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "\"e1\""));
    T_EQ_INT(f.kind, JSCAN_STRING);
    T_EQ_INT(ptr(doc, "/data/object/id", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "42"));
    T_EQ_INT(f.kind, JSCAN_NUMBER);
    /* a string holding brackets and an escaped quote is skipped as a string */
    T_EQ_INT(ptr(doc, "/data/list/0/k", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "1"));
    T_EQ_INT(ptr(doc, "/data/list/1/1", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "3"));
    T_EQ_INT(ptr(doc, "/data/list/2", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "\"x\""));
    T_EQ_INT(ptr(doc, "/data/list", &f, NULL), JSCAN_OK);
    T_EQ_INT(f.kind, JSCAN_ARRAY);
    T_CHECK(span_is(f, "[{\"k\":1},[2,3],\"x\"]"));
    /* ~1 is '/', ~0 is '~'; the empty token names the key "" */
    T_EQ_INT(ptr(doc, "/data/a~1b", &f, NULL), JSCAN_OK);
    T_EQ_INT(f.kind, JSCAN_TRUE);
    T_EQ_INT(ptr(doc, "/data/m~0n", &f, NULL), JSCAN_OK);
    T_EQ_INT(f.kind, JSCAN_NULL);
    T_EQ_INT(ptr(doc, "/data/", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "0"));
    /* "" is the whole text (without the whitespace around it) */
    T_EQ_INT(ptr(doc, "", &f, NULL), JSCAN_OK);
    T_EQ_INT(f.kind, JSCAN_OBJECT);
    T_CHECK(f.ptr == doc + 1 && f.len == strlen(doc) - 2);

    /* absent: a missing member or element, a step into a scalar, no index */
    const char *absent[] = {
        "/nope",         "/data/object/nope", "/data/list/3",
        "/data/list/-",  "/data/list/1x",     "/data/list/",
        "/id/0",         "/data/object/id/x", "/data/list/99999999999999999999999",
        "/data/object/I"};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        f.kind = JSCAN_STRING;
        T_EQ_INT(ptr(doc, absent[i], &f, NULL), JSCAN_OK);
        T_EQ_INT(f.kind, JSCAN_NONE);
        T_CHECK(f.ptr == NULL && f.len == 0);
    }
    /* keys compare by their decoded value; leading zeros in an index count */
    const char *esc = "{\"\\u0069d\":[5,6],\"\\ud83d\\ude00\":1}";
    T_EQ_INT(ptr(esc, "/id/01", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "6"));
    T_EQ_INT(ptr(esc, "/\xf0\x9f\x98\x80", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "1"));
    /* empty containers, a scalar text */
    T_EQ_INT(ptr("{}", "/a", &f, NULL), JSCAN_OK);
    T_EQ_INT(f.kind, JSCAN_NONE);
    T_EQ_INT(ptr("[]", "/0", &f, NULL), JSCAN_OK);
    T_EQ_INT(f.kind, JSCAN_NONE);
    T_EQ_INT(ptr("17", "/a", &f, NULL), JSCAN_OK);
    T_EQ_INT(f.kind, JSCAN_NONE);
    T_EQ_INT(ptr("17", "", &f, NULL), JSCAN_OK);
    T_CHECK(span_is(f, "17"));
}

static void test_pointer_duplicates(void)
{
    struct jscan_span f;
    size_t n = 99;

    /* the repeated member on the path, wherever the second one is */
    T_EQ_INT(ptr("{\"id\":1,\"x\":2,\"id\":3}", "/id", &f, &n), JSCAN_EDUP);
    T_EQ_INT(n, 3);
    T_EQ_INT(ptr("{\"id\":1,\"i\\u0064\":1}", "/id", &f, &n), JSCAN_EDUP);
    const char *nested = "{\"data\":{\"object\":{\"id\":1,\"id\":2}}}";
    n = 0;
    T_EQ_INT(ptr(nested, "/data/object/id", &f, &n), JSCAN_EDUP);
    T_EQ_INT(n, strlen("/data/object/id"));
    const char *mid = "{\"data\":{\"object\":{\"id\":1},\"object\":{\"id\":2}}}";
    T_EQ_INT(ptr(mid, "/data/object/id", &f, &n), JSCAN_EDUP);
    T_EQ_INT(n, strlen("/data/object"));
    const char *top = "{\"data\":5,\"data\":{\"id\":2}}";
    T_EQ_INT(ptr(top, "/data/id", &f, &n), JSCAN_EDUP);
    T_EQ_INT(n, strlen("/data"));
    const char *in_arr = "{\"a\":[0,{\"id\":1,\"id\":2}]}";
    T_EQ_INT(ptr(in_arr, "/a/1/id", &f, &n), JSCAN_EDUP);
    T_EQ_INT(n, strlen("/a/1/id"));
    /* dup_end may be NULL */
    T_EQ_INT(ptr(nested, "/data/object/id", &f, NULL), JSCAN_EDUP);

    /* repeats off the path are not the pointer's business */
    const char *off =
        "{\"x\":1,\"x\":2,\"data\":{\"y\":1,\"y\":2,\"id\":7,\"z\":{\"id\":1,\"id\":2}}}";
    T_EQ_INT(ptr(off, "/data/id", &f, &n), JSCAN_OK);
    T_CHECK(span_is(f, "7"));
    T_EQ_INT(ptr(in_arr, "/a/0", &f, &n), JSCAN_OK);
    T_CHECK(span_is(f, "0"));
    /* a member absent from the first object is still looked for in all of it */
    T_EQ_INT(ptr("{\"a\":{},\"b\":1,\"b\":2}", "/b/c", &f, &n), JSCAN_EDUP);
    T_EQ_INT(n, 2);
}

static void test_pointer_bad_input(void)
{
    struct jscan_span f;

    T_EQ_INT(ptr("{\"a\":1}", "a", &f, NULL), JSCAN_EINVAL);
    T_EQ_INT(f.kind, JSCAN_NONE);
    T_EQ_INT(jscan_pointer(NULL, 0, "/a", &f, NULL), JSCAN_EINVAL);
    T_EQ_INT(jscan_pointer("{}", 2, NULL, &f, NULL), JSCAN_EINVAL);
    T_EQ_INT(ptr("", "", &f, NULL), JSCAN_EINVAL);
    T_EQ_INT(ptr("   ", "/a", &f, NULL), JSCAN_EINVAL);
    /* malformed or cut texts are noticed where they are read, never read past */
    const char *bad[] = {"{\"a\"",    "{\"a\":",     "{\"a\":1",    "{\"a\":1,",
                         "{\"a\" 1}", "{a:1}",       "{\"a\":\"x}", "{\"b\":[1,2",
                         "[1,",       "{\"a\":tru}", "{\"a\":-}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        char *copy = malloc(n); /* exact size: a read past the end is an ASan report */
        T_CHECK(copy != NULL);
        if (!copy)
            continue;
        memcpy(copy, bad[i], n);
        T_EQ_INT(jscan_pointer(copy, n, bad[i][0] == '[' ? "/2" : "/a", &f, NULL), JSCAN_EINVAL);
        free(copy);
    }
}

int main(void)
{
    T_RUN(test_valid_texts);
    T_RUN(test_top_kind);
    T_RUN(test_rejects);
    T_RUN(test_bad_utf8);
    T_RUN(test_utf8_valid);
    T_RUN(test_depth);
    T_RUN(test_truncated_prefixes);
    T_RUN(test_wanted_keys);
    T_RUN(test_wanted_edge_cases);
    T_RUN(test_decode);
    T_RUN(test_decode_sizes);
    T_RUN(test_decode_invalid);
    T_RUN(test_decode_found_span);
    T_RUN(test_pointer_lookup);
    T_RUN(test_pointer_duplicates);
    T_RUN(test_pointer_bad_input);
    return t_finish();
}
