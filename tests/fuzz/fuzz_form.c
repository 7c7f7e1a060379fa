// clang-format off
/*
 * fuzz_form.c - libFuzzer driver for form-urlencoded parsing, Twilio's
 * parameter order and query lookups (gateway/form.c).
 *
 * The input is a body, given to form_parse as is (any bytes) with a buffer
 * of exactly its length, and, cut at its first NUL, to form_query_get as a
 * query string.  Invariants:
 *  - never crashes, reads out of bounds or leaks;
 *  - form_parse answers HG_OK, HG_EINVAL or HG_ETOOBIG, and HG_ETOOBIG only
 *    with more than MAXP parameters (the buffer always suffices);
 *  - on HG_OK every name and value lies inside the buffer, their lengths
 *    add up to at most the input's, and encoding them again (%XX for every
 *    byte) and parsing that gives the very same parameters;
 *  - form_canon leaves a list in strictly increasing order (name, then
 *    value) with nothing of the parsed list missing, and is idempotent;
 *    form_cmp is antisymmetric on the pairs it sees;
 *  - form_query_get finds each parsed name (without NUL) of the NUL-free
 *    input, with the value of its first occurrence.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_form (linked against the hgcore
 * library the hookgate binary is made of, with ASan+UBSan).
 */
// clang-format on
#include "err.h"
#include "form.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 64

static void die(const char *what)
{
    fprintf(stderr, "fuzz_form: %s\n", what);
    abort();
}

static int same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (!an || !memcmp(a, b, an));
}

/* count - parameters of body: non-empty '&'-separated segments */
static size_t count(const char *b, size_t n)
{
    size_t k = 0, seg = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || b[i] == '&') {
            k += seg > 0;
            seg = 0;
        } else {
            seg++;
        }
    }
    return k;
}

static size_t encode(const char *s, size_t n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[3 * i] = '%';
        out[3 * i + 1] = hex[c >> 4];
        out[3 * i + 2] = hex[c & 15];
    }
    return 3 * n;
}

/* round_trip - p re-encoded and parsed again is p */
static void round_trip(const struct form_param *p, size_t n, size_t total)
{
    char *enc = malloc(3 * total + 2 * n + 1), *buf = malloc(3 * total + 2 * n + 1);
    struct form_param q[MAXP];
    if (!enc || !buf)
        abort();
    size_t k = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        k += encode(p[i].name, p[i].name_len, enc + k);
        enc[k++] = '=';
        k += encode(p[i].value, p[i].value_len, enc + k);
        enc[k++] = '&';
    }
    /* an empty name with an empty value is "=": still one parameter */
    if (form_parse(enc, k, buf, k, q, MAXP, &m) != HG_OK || m != n)
        die("re-encoded parameters do not parse back");
    for (size_t i = 0; i < n; i++)
        if (!same(p[i].name, p[i].name_len, q[i].name, q[i].name_len) ||
            !same(p[i].value, p[i].value_len, q[i].value, q[i].value_len))
            die("round trip changed a parameter");
    free(enc);
    free(buf);
}

static int pcmp(const struct form_param *a, const struct form_param *b)
{
    int c = form_cmp(a->name, a->name_len, b->name, b->name_len);
    return c ? c : form_cmp(a->value, a->value_len, b->value, b->value_len);
}

static void check_canon(const struct form_param *p, size_t n)
{
    struct form_param c[MAXP];
    memcpy(c, p, n * sizeof(*p));
    size_t k = form_canon(c, n);
    if (k > n || (n && !k))
        die("form_canon: bad count");
    for (size_t i = 1; i < k; i++) {
        if (pcmp(&c[i - 1], &c[i]) >= 0)
            die("form_canon: not strictly increasing");
        if ((pcmp(&c[i - 1], &c[i]) < 0) != (pcmp(&c[i], &c[i - 1]) > 0))
            die("form_cmp: not antisymmetric");
    }
    for (size_t i = 0; i < n; i++) { /* nothing lost */
        size_t j = 0;
        while (j < k && pcmp(&p[i], &c[j]))
            j++;
        if (j == k)
            die("form_canon: a parameter went missing");
    }
    if (form_canon(c, k) != k)
        die("form_canon: not idempotent");
}

/* check_query - each NUL-free name of the NUL-free input's parameters is
 * found by form_query_get with its first value */
static void check_query(const char *q, const struct form_param *p, size_t n)
{
    char out[256], name[256];
    for (size_t i = 0; i < n && i < 8; i++) {
        if (p[i].name_len >= sizeof(name) || memchr(p[i].name, 0, p[i].name_len))
            continue;
        memcpy(name, p[i].name, p[i].name_len);
        name[p[i].name_len] = '\0';
        size_t first = 0;
        while (!same(p[first].name, p[first].name_len, p[i].name, p[i].name_len))
            first++;
        size_t ol = 0;
        int r = form_query_get(q, name, out, sizeof(out), &ol);
        if (p[first].value_len < sizeof(out)) {
            if (r != 1 || !same(out, ol, p[first].value, p[first].value_len) || out[ol])
                die("form_query_get: not the first value of a parsed name");
        } else if (r != -1) {
            die("form_query_get: a value too long for out was not refused");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char *buf = malloc(size ? size : 1);
    struct form_param p[MAXP];
    size_t n = 0;
    if (!buf)
        abort();
    int rc = form_parse(body, size, buf, size, p, MAXP, &n);
    if (rc != HG_OK && rc != HG_EINVAL && rc != HG_ETOOBIG)
        die("form_parse: unexpected result");
    if ((rc == HG_ETOOBIG) != (count(body, size) > MAXP) && rc != HG_EINVAL)
        die("form_parse: HG_ETOOBIG does not match the parameter count");
    if (rc != HG_OK && n)
        die("form_parse: a count on error");
    if (rc == HG_OK) {
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i].name < buf || p[i].name + p[i].name_len > buf + size || p[i].value < buf ||
                p[i].value + p[i].value_len > buf + size)
                die("form_parse: a parameter outside the buffer");
            total += p[i].name_len + p[i].value_len;
        }
        if (total > size)
            die("form_parse: decoded more than the input");
        round_trip(p, n, total);
        check_canon(p, n);
        if (!memchr(body, 0, size)) {
            char *q = malloc(size + 1);
            if (!q)
                abort();
            memcpy(q, body, size);
            q[size] = '\0';
            check_query(q, p, n);
            free(q);
        }
    } else if (size) {
        /* form_query_get must survive the same bytes */
        char *q = malloc(size + 1), out[64];
        size_t ol;
        if (!q)
            abort();
        memcpy(q, body, size);
        q[size] = '\0';
        int r = form_query_get(q, "a", out, sizeof(out), &ol);
        if (r < -1 || r > 1 || (r == 1 && (ol >= sizeof(out) || out[ol])))
            die("form_query_get: bad answer");
        free(q);
    }
    free(buf);
    return 0;
}
