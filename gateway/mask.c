/*
 * mask.c - URLs and request paths with their credentials hidden (see
 * mask.h).
 *
 * A small bounded writer (struct out) does the copying: every byte goes
 * through it, so cleaning (printable ASCII only) and truncation are decided
 * in one place, and a too-small buffer cuts the text rather than overflowing.
 * No allocation; nothing here fails.
 */
#include "mask.h"

#include <string.h>

struct out {
    char *p;
    size_t len, cap; /* cap > 0: one byte is kept for the NUL */
};

static void put(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) {
        unsigned char c = (unsigned char)s[i];
        o->p[o->len++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
    }
    o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* query - s[0..n) (after '?', fragment excluded): each value as "***", a
 * parameter without '=' whole. */
static void query(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k < n && s[k] != '&' && s[k] != ';')
            k++;
        const char *eq = memchr(s + i, '=', k - i);
        if (eq) {
            put(o, s + i, (size_t)(eq - (s + i)) + 1);
            if (s + k > eq + 1)
                puts_(o, "***");
        } else if (k > i) {
            puts_(o, "***");
        }
        if (k < n)
            put(o, s + k, 1);
        i = k + 1;
    }
}

/* tail - from s[0..n) a '?' on: the masked query and fragment */
static void tail(struct out *o, const char *s, size_t n)
{
    if (!n)
        return;
    const char *hash = memchr(s, '#', n);
    size_t qn = hash ? (size_t)(hash - s) : n;
    if (qn && s[0] == '?') {
        puts_(o, "?");
        query(o, s + 1, qn - 1);
    }
    if (hash)
        puts_(o, hash + 1 < s + n ? "#***" : "#");
}

char *mask_url(const char *url, char *out, size_t cap)
{
    struct out o = {out, 0, cap};
    if (!cap)
        return out;
    out[0] = '\0';
    if (!url)
        return out;
    size_t n = strlen(url);
    const char *p = url, *end = url + n;
    const char *sep = strstr(url, "://");
    if (sep && (size_t)(sep - url) < strcspn(url, "/?#")) {
        const char *auth = sep + 3;
        const char *aend = auth + strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *q = auth; q < aend; q++)
            if (*q == '@')
                at = q; /* the last '@': a password may hold one */
        put(&o, url, (size_t)(auth - url));
        if (at)
            puts_(&o, "***");
        put(&o, at ? at : auth, (size_t)(aend - (at ? at : auth)));
        p = aend;
    }
    size_t pn = strcspn(p, "?#");
    for (const char *seg = p; seg < p + pn;) {
        size_t sn = strcspn(seg, "/?#");
        if (sn >= MASK_SEGMENT_MIN)
            puts_(&o, "***");
        else
            put(&o, seg, sn);
        seg += sn;
        if (seg < p + pn) /* the '/' */
            put(&o, seg++, 1);
    }
    tail(&o, p + pn, (size_t)(end - (p + pn)));
    return out;
}

char *mask_path(const char *path, size_t keep, char *out, size_t cap)
{
    struct out o = {out, 0, cap};
    if (!cap)
        return out;
    out[0] = '\0';
    if (!path)
        return out;
    size_t n = strlen(path);
    size_t pn = strcspn(path, "?#");
    if (keep > pn)
        keep = pn;
    put(&o, path, keep);
    for (const char *seg = path + keep; seg < path + pn;) {
        size_t sn = strcspn(seg, "/?#");
        if (sn)
            puts_(&o, "...");
        seg += sn;
        if (seg < path + pn)
            put(&o, seg++, 1);
    }
    tail(&o, path + pn, n - pn);
    return out;
}
