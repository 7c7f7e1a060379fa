/* form_test.c - unit tests of gateway/form.c: form-urlencoded decoding, the
 * order Twilio signs parameters in (its Node SDK: twilio/lib/webhooks/
 * webhooks.js, getExpectedTwilioSignature), and query lookups. */
#include "t.h"
#include "err.h"
#include "form.h"

#include <stdlib.h>

#define MAXP 16

static struct form_param P[MAXP];
static char B[4096];
static size_t N;

static int parse(const char *s)
{
    N = 99;
    return form_parse(s, strlen(s), B, sizeof(B), P, MAXP, &N);
}

/* is - parameter i is name=value (lengths from the strings, or nl/vl) */
static int is(size_t i, const char *name, size_t nl, const char *value, size_t vl)
{
    return i < N && P[i].name_len == nl && !memcmp(P[i].name, name, nl) && P[i].value_len == vl &&
           !memcmp(P[i].value, value, vl);
}
#define IS(i, n, v) is(i, n, strlen(n), v, strlen(v))

/* joined - name1value1name2value2... of P[0..n) */
static const char *joined(size_t n)
{
    static char out[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + k, P[i].name, P[i].name_len);
        k += P[i].name_len;
        memcpy(out + k, P[i].value, P[i].value_len);
        k += P[i].value_len;
    }
    out[k] = '\0';
    return out;
}

static void test_basic(void)
{
    T_EQ_INT(parse("a=1&b=2"), HG_OK);
    T_EQ_INT(N, 2);
    T_CHECK(IS(0, "a", "1"));
    T_CHECK(IS(1, "b", "2"));
    T_EQ_INT(parse(""), HG_OK);
    T_EQ_INT(N, 0);
    T_EQ_INT(form_parse(NULL, 0, B, 0, P, MAXP, &N), HG_OK);
    T_EQ_INT(N, 0);
}

static void test_empty_and_missing(void)
{
    T_EQ_INT(parse("&&a=1&&&b&"), HG_OK);
    T_EQ_INT(N, 2);
    T_CHECK(IS(0, "a", "1"));
    T_CHECK(IS(1, "b", "")); /* no '=': an empty value */
    T_EQ_INT(parse("&"), HG_OK);
    T_EQ_INT(N, 0);
    T_EQ_INT(parse("=x&y=&="), HG_OK);
    T_EQ_INT(N, 3);
    T_CHECK(IS(0, "", "x"));
    T_CHECK(IS(1, "y", ""));
    T_CHECK(IS(2, "", ""));
    T_EQ_INT(parse("a=b=c"), HG_OK); /* the value runs to the end */
    T_CHECK(IS(0, "a", "b=c"));
}

static void test_decoding(void)
{
    T_EQ_INT(parse("Body=Hello+World%21&To=%2B15551234567&x%3Dy=%e2%82%AC"), HG_OK);
    T_EQ_INT(N, 3);
    T_CHECK(IS(0, "Body", "Hello World!"));
    T_CHECK(IS(1, "To", "+15551234567"));
    T_CHECK(IS(2, "x=y", "\xe2\x82\xac"));
    T_EQ_INT(parse("a=%00b"), HG_OK); /* NUL decodes: lengths are explicit */
    T_CHECK(is(0, "a", 1, "\0b", 2));
    T_EQ_INT(parse("a=%2"), HG_EINVAL);
    T_EQ_INT(N, 0);
    T_EQ_INT(parse("a=%zz"), HG_EINVAL);
    T_EQ_INT(parse("a=%"), HG_EINVAL);
    T_EQ_INT(parse("%g1=x"), HG_EINVAL);
    T_EQ_INT(parse("a=%%41"), HG_EINVAL);
    T_EQ_INT(parse("a=%4"), HG_EINVAL);
    T_EQ_INT(parse("a=100%25"), HG_OK);
    T_CHECK(IS(0, "a", "100%"));
}

static void test_limits(void)
{
    char body[256];
    size_t k = 0;
    for (int i = 0; i < MAXP; i++)
        k += (size_t)snprintf(body + k, sizeof(body) - k, "p%d=%d&", i, i);
    T_EQ_INT(parse(body), HG_OK);
    T_EQ_INT(N, MAXP);
    snprintf(body + k, sizeof(body) - k, "one=more");
    T_EQ_INT(parse(body), HG_ETOOBIG);
    T_EQ_INT(N, 0);
    /* decoding never grows: len bytes always suffice, fewer may not */
    const char *s = "abc=de+f&g=%41";
    char small[32];
    T_EQ_INT(form_parse(s, strlen(s), small, strlen(s), P, MAXP, &N), HG_OK);
    T_EQ_INT(form_parse(s, strlen(s), small, 3, P, MAXP, &N), HG_ETOOBIG);
    /* a long value */
    size_t big = 100000;
    char *lb = malloc(big + 3), *dec = malloc(big + 3);
    lb[0] = 'v';
    lb[1] = '=';
    memset(lb + 2, '+', big);
    T_EQ_INT(form_parse(lb, big + 2, dec, big + 2, P, 1, &N), HG_OK);
    T_EQ_INT(N, 1);
    T_EQ_INT(P[0].value_len, big);
    T_CHECK(P[0].value[big - 1] == ' ');
    free(lb);
    free(dec);
}

/* a voice callback's parameters, as Twilio's security page describes the
 * scheme: sorted by name, each name then value appended (to the URL) */
static void test_twilio_order(void)
{
    T_EQ_INT(parse("To=%2B14158675310&From=%2B14158675309&CallSid=CA1234567890ABCDE&Digits=1234&"
                   "Caller=%2B14158675309"),
             HG_OK);
    size_t n = form_canon(P, N);
    T_EQ_INT(n, 5);
    T_EQ_STR(joined(n), "CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309"
                        "To+14158675310");
}

/* repeated names: the SDK de-duplicates the values (new Set), sorts them,
 * and appends name+value for each; byte order (capitals first) */
static void test_repeats(void)
{
    T_EQ_INT(parse("b=2&a=z&a=y&B=1&a=z&a="), HG_OK);
    T_EQ_INT(N, 6);
    size_t n = form_canon(P, N);
    T_EQ_INT(n, 5);
    T_EQ_STR(joined(n), "B1aayazb2");
    /* form_sort keeps duplicates */
    T_EQ_INT(parse("b=2&a=z&a=y&a=z"), HG_OK);
    form_sort(P, N);
    T_EQ_STR(joined(N), "ayazazb2");
    /* a name that is a prefix of another comes first */
    T_EQ_INT(parse("ab=1&a=2"), HG_OK);
    T_EQ_INT(form_canon(P, N), 2);
    T_EQ_STR(joined(2), "a2ab1");
    form_sort(P, 0); /* nothing to do */
    T_EQ_INT(form_canon(P, 0), 0);
}

/* JavaScript compares UTF-16 code units: U+FF21 (EF BC A1) sorts after
 * U+1F600 (F0 9F 98 80), unlike in byte order; ASCII as bytes */
static void test_utf16_order(void)
{
    T_CHECK(form_cmp("\xef\xbc\xa1", 3, "\xf0\x9f\x98\x80", 4) > 0);
    T_CHECK(form_cmp("\xf0\x9f\x98\x80", 4, "\xef\xbc\xa1", 3) < 0);
    T_CHECK(form_cmp("\xed\x9f\xbf", 3, "\xf0\x9f\x98\x80", 4) < 0); /* U+D7FF first */
    T_CHECK(form_cmp("\xc3\xa9", 2, "z", 1) > 0);
    T_CHECK(form_cmp("Z", 1, "a", 1) < 0);
    T_CHECK(form_cmp("a", 1, "a", 1) == 0);
    T_CHECK(form_cmp("", 0, "a", 1) < 0);
    T_EQ_INT(parse("%EF%BC%A1=1&%F0%9F%98%80=2&a=3"), HG_OK);
    form_sort(P, N);
    T_CHECK(P[0].name[0] == 'a' && (unsigned char)P[1].name[0] == 0xf0 &&
            (unsigned char)P[2].name[0] == 0xef);
}

static void test_query(void)
{
    char out[64];
    size_t n = 99;
    const char *q = "hub.mode=subscribe&hub.verify_token=t%20k&hub.challenge=1158201444";
    T_EQ_INT(form_query_get(q, "hub.challenge", out, sizeof(out), &n), 1);
    T_EQ_STR(out, "1158201444");
    T_EQ_INT(n, 10);
    T_EQ_INT(form_query_get(q, "hub.verify_token", out, sizeof(out), &n), 1);
    T_EQ_STR(out, "t k");
    T_EQ_INT(form_query_get(q, "hub.missing", out, sizeof(out), &n), 0);
    T_EQ_STR(out, "");
    T_EQ_INT(n, 0);
    T_EQ_INT(form_query_get(NULL, "a", out, sizeof(out), &n), 0);
    T_EQ_INT(form_query_get("", "a", out, sizeof(out), &n), 0);
    /* encoded names match; the first occurrence wins; no '=' is empty */
    T_EQ_INT(
        form_query_get("hub%2Echallenge=x&hub.challenge=y", "hub.challenge", out, sizeof(out), &n),
        1);
    T_EQ_STR(out, "x");
    T_EQ_INT(form_query_get("&&flag&a=1", "flag", out, sizeof(out), &n), 1);
    T_EQ_STR(out, "");
    T_EQ_INT(form_query_get("validationToken=Validation%3a+Testing+client+application",
                            "validationToken", out, sizeof(out), &n),
             1);
    T_EQ_STR(out, "Validation: Testing client application");
    /* a name is not a prefix match */
    T_EQ_INT(form_query_get("ab=1&a=2", "a", out, sizeof(out), &n), 1);
    T_EQ_STR(out, "2");
    T_EQ_INT(form_query_get("a=1", "ab", out, sizeof(out), &n), 0);
    /* malformed: a bad escape in a name before the match, or in its value */
    T_EQ_INT(form_query_get("x%zz=1&a=2", "a", out, sizeof(out), &n), -1);
    T_EQ_INT(form_query_get("a=%zz", "a", out, sizeof(out), &n), -1);
    T_EQ_STR(out, "");
    T_EQ_INT(form_query_get("a=1&b=%zz", "a", out, sizeof(out), &n), 1); /* not reached */
    /* too long: the value and its NUL must fit */
    T_EQ_INT(form_query_get("a=12345", "a", out, 5, &n), -1);
    T_EQ_INT(form_query_get("a=12345", "a", out, 0, &n), -1);
    T_EQ_INT(form_query_get("a=12345", "a", out, 6, &n), 1);
    T_EQ_STR(out, "12345");
    T_EQ_INT(form_query_get("a=1234", "a", out, 5, &n), 1);
    T_EQ_STR(out, "1234");
    T_EQ_INT(form_query_get("a=%41%00", "a", out, sizeof(out), &n), 1);
    T_EQ_INT(n, 2);
    T_CHECK(out[0] == 'A' && out[1] == '\0' && out[2] == '\0');
}

int main(void)
{
    T_RUN(test_basic);
    T_RUN(test_empty_and_missing);
    T_RUN(test_decoding);
    T_RUN(test_limits);
    T_RUN(test_twilio_order);
    T_RUN(test_repeats);
    T_RUN(test_utf16_order);
    T_RUN(test_query);
    return t_finish();
}
