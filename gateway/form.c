/*
 * form.c - application/x-www-form-urlencoded parsing, the order Twilio
 * signs parameters in, and query-string lookups (see form.h).
 *
 * Invariants: every read is within the length given (bodies are not
 * NUL-terminated); decoded output never exceeds its raw input, so a buffer
 * as long as the input always suffices; nothing allocates.
 */
#include "form.h"
#include "codec.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

/* next_byte - the decoded byte at s[*i] (of n), *i moved past it; -1 for a
 * '%' not followed by two hex digits. */
static int next_byte(const char *s, size_t n, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];
    if (c == '+') {
        (*i)++;
        return ' ';
    }
    if (c != '%') {
        (*i)++;
        return c;
    }
    if (n - *i < 3)
        return -1;
    int hi = hex_digit((unsigned char)s[*i + 1]), lo = hex_digit((unsigned char)s[*i + 2]);
    if (hi < 0 || lo < 0)
        return -1;
    *i += 3;
    return hi << 4 | lo;
}

/* decode - s (n raw bytes) decoded into out (at most cap bytes): its
 * length, -1 for a bad escape, -2 if it does not fit. */
static long decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t i = 0, k = 0;
    while (i < n) {
        int b = next_byte(s, n, &i);
        if (b < 0)
            return -1;
        if (k == cap)
            return -2;
        out[k++] = (char)b;
    }
    return (long)k;
}

int form_parse(const char *body, size_t len, char *buf, size_t cap, struct form_param *out,
               size_t max, size_t *n)
{
    size_t used = 0, k = 0, i = 0;
    *n = 0;
    while (i < len) {
        const char *seg = body + i;
        const char *amp = memchr(seg, '&', len - i);
        size_t sl = amp ? (size_t)(amp - seg) : len - i;
        i += sl + 1;
        if (!sl)
            continue; /* "a=1&&b=2", a leading or trailing '&' */
        if (k == max)
            return HG_ETOOBIG;
        const char *eq = memchr(seg, '=', sl);
        size_t nl = eq ? (size_t)(eq - seg) : sl;
        long dn = decode(seg, nl, buf + used, cap - used);
        if (dn < 0)
            return dn == -1 ? HG_EINVAL : HG_ETOOBIG;
        out[k].name = buf + used;
        out[k].name_len = (size_t)dn;
        used += (size_t)dn;
        long dv = eq ? decode(eq + 1, sl - nl - 1, buf + used, cap - used) : 0;
        if (dv < 0)
            return dv == -1 ? HG_EINVAL : HG_ETOOBIG;
        out[k].value = buf + used;
        out[k].value_len = (size_t)dv;
        used += (size_t)dv;
        k++;
    }
    *n = k;
    return HG_OK;
}

/* utf16_key - a byte's rank for form_cmp: the lead bytes of U+E000..U+FFFF
 * (0xEE, 0xEF) go after those of the supplementary planes (0xF0..0xF4). */
static unsigned utf16_key(unsigned char c)
{
    return c == 0xEE || c == 0xEF ? c + 0x100u : c;
}

int form_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    for (size_t i = 0; i < m; i++)
        if (a[i] != b[i])
            return utf16_key((unsigned char)a[i]) < utf16_key((unsigned char)b[i]) ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

static int param_cmp(const void *pa, const void *pb)
{
    const struct form_param *a = pa, *b = pb;
    int c = form_cmp(a->name, a->name_len, b->name, b->name_len);
    return c ? c : form_cmp(a->value, a->value_len, b->value, b->value_len);
}

void form_sort(struct form_param *p, size_t n)
{
    if (n > 1)
        qsort(p, n, sizeof(*p), param_cmp);
}

size_t form_canon(struct form_param *p, size_t n)
{
    form_sort(p, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!k || param_cmp(&p[k - 1], &p[i]))
            p[k++] = p[i];
    return k;
}

/* name_is - 1 if raw (n bytes, encoded) decodes to name (nl bytes), 0 if
 * not, -1 for a bad escape. */
static int name_is(const char *raw, size_t n, const char *name, size_t nl)
{
    size_t i = 0, k = 0;
    int same = 1;
    while (i < n) {
        int b = next_byte(raw, n, &i);
        if (b < 0)
            return -1;
        if (k >= nl || (unsigned char)name[k] != b)
            same = 0;
        k++;
    }
    return same && k == nl;
}

int form_query_get(const char *query, const char *name, char *out, size_t cap, size_t *outlen)
{
    *outlen = 0;
    if (cap)
        out[0] = '\0';
    if (!query)
        return 0;
    size_t nl = strlen(name);
    for (const char *p = query; *p;) {
        size_t sl = strcspn(p, "&");
        const char *eq = memchr(p, '=', sl);
        size_t kl = eq ? (size_t)(eq - p) : sl;
        int m = sl ? name_is(p, kl, name, nl) : 0;
        if (m < 0)
            return -1;
        if (m) {
            if (!cap)
                return -1;
            long dv = eq ? decode(eq + 1, sl - kl - 1, out, cap - 1) : 0;
            if (dv < 0) {
                out[0] = '\0';
                return -1;
            }
            out[dv] = '\0';
            *outlen = (size_t)dv;
            return 1;
        }
        p += sl;
        if (*p)
            p++;
    }
    return 0;
}
