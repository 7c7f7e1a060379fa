/*
 * jscan.c - allocation-free, single-pass validating JSON scanner (see jscan.h).
 *
 * Why: every webhook body is validated on the request hot path (~1 KiB, budget ~1-2 us), far
 * cheaper than building a jansson tree; the few top-level fields routing needs are reported as
 * spans into the caller's buffer.
 *
 * How: one forward pass over the bytes, no recursion and no allocation. Container nesting is
 * tracked in a 64-bit stack (bit d set = the container at depth d+1 is an object), which is
 * exactly JSCAN_MAX_DEPTH deep. String bodies are skipped eight bytes at a time while they
 * contain nothing but plain ASCII; anything else goes through the escape/UTF-8 checks.
 *
 * Invariants:
 *  - no pointer is ever formed beyond end and no byte at or after end is read;
 *  - a string body accepted by scan_string() is well formed, so str_step() may decode it
 *    without re-checking;
 *  - member_match is >= 0 only while the value of a wanted top-level member is being scanned.
 */
#include "jscan.h"

#include <stdint.h>
#include <string.h>

typedef const unsigned char *cptr;

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero if any of the eight bytes in w is < 0x20, '"', '\\' or >= 0x80. */
static inline uint64_t swar_special(uint64_t w)
{
    uint64_t quote = w ^ (ONES * '"');
    uint64_t bslash = w ^ (ONES * '\\');
    uint64_t ctl = (w - ONES * 0x20) & ~w;
    quote = (quote - ONES) & ~quote;
    bslash = (bslash - ONES) & ~bslash;
    return (ctl | quote | bslash | w) & HIGHS;
}

/* Validate one multi-byte UTF-8 sequence at p (*p >= 0x80); return the byte after it or NULL.
 * Follows Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF. */
static cptr utf8_seq(cptr p, cptr end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return NULL;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return NULL;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return NULL;
    return p + n;
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* Parse the four hex digits at p; return the code unit or -1. */
static long hex4(cptr p, cptr end)
{
    long v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

/* The single-character escapes and what they decode to. */
static const char SIMPLE_ESC[] = "\"\\/bfnrt";
static const char SIMPLE_VAL[] = "\"\\/\b\f\n\r\t";

/* simple_esc - the index of c in SIMPLE_ESC, or -1 (its NUL is not an escape). */
static int simple_esc(int c)
{
    for (int i = 0; SIMPLE_ESC[i]; i++)
        if ((unsigned char)SIMPLE_ESC[i] == (unsigned char)c)
            return i;
    return -1;
}

/* Validate the escape whose backslash is at p; return the byte after it or NULL. */
static cptr scan_escape(cptr p, cptr end)
{
    long hi, lo;

    if (end - p < 2)
        return NULL;
    if (p[1] != 'u')
        return simple_esc(p[1]) >= 0 ? p + 2 : NULL;
    hi = hex4(p + 2, end);
    if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
        return NULL;
    if (hi < 0xD800 || hi > 0xDBFF)
        return p + 6;
    p += 6; /* a high surrogate must be followed by an escaped low one */
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return NULL;
    lo = hex4(p + 2, end);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return NULL;
    return p + 6;
}

/* p is just past an opening quote. Return the byte after the closing quote, or NULL if the
 * string is malformed or unterminated. *has_esc is set if the body contains an escape. */
static cptr scan_string(cptr p, cptr end, int *has_esc)
{
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, sizeof w);
            if (swar_special(w))
                break;
            p += 8;
        }
        if (p >= end)
            return NULL;
        unsigned c = *p;
        if (c == '"') {
            return p + 1;
        } else if (c == '\\') {
            *has_esc = 1;
            p = scan_escape(p, end);
        } else if (c < 0x20) {
            return NULL;
        } else if (c < 0x80) {
            p++;
        } else {
            p = utf8_seq(p, end);
        }
        if (!p)
            return NULL;
    }
}

/* Decode one character of an already validated string body at p into out[0..*n); return the
 * position of the next character. Raw bytes are copied as they are. */
static cptr str_step(cptr p, unsigned char out[4], size_t *n)
{
    unsigned long cp;

    if (*p != '\\') {
        out[0] = *p;
        *n = 1;
        return p + 1;
    }
    if (p[1] != 'u') {
        out[0] = (unsigned char)SIMPLE_VAL[simple_esc(p[1])]; /* p[1] was validated */
        *n = 1;
        return p + 2;
    }
    cp = (unsigned long)hex4(p + 2, p + 6);
    p += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)hex4(p + 2, p + 6) - 0xDC00);
        p += 6;
    }
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        *n = 1;
    } else if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        *n = 2;
    } else if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        *n = 3;
    } else {
        out[0] = (unsigned char)(0xF0 | (cp >> 18));
        out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (unsigned char)(0x80 | (cp & 0x3F));
        *n = 4;
    }
    return p;
}

/* Does the validated string body s..e decode to exactly the NUL-terminated name w? */
static int key_eq(cptr s, cptr e, int has_esc, const char *w)
{
    const unsigned char *uw = (const unsigned char *)w;
    unsigned char buf[4];
    size_t n, i;

    if (!has_esc) { /* raw bodies contain no NUL, so w's terminator always mismatches */
        for (; s < e; s++, uw++)
            if (*uw != *s)
                return 0;
        return *uw == 0;
    }
    while (s < e) {
        s = str_step(s, buf, &n);
        for (i = 0; i < n; i++, uw++)
            if (*uw == 0 || *uw != buf[i])
                return 0;
    }
    return *uw == 0;
}

static cptr skip_ws(cptr p, cptr end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static int is_digit(cptr p, cptr end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; return the byte after it or NULL. */
static cptr scan_number(cptr p, cptr end)
{
    if (*p == '-')
        p++;
    if (!is_digit(p, end))
        return NULL;
    if (*p++ != '0')
        while (is_digit(p, end))
            p++;
    if (p < end && *p == '.') {
        if (!is_digit(++p, end))
            return NULL;
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return NULL;
        while (is_digit(p, end))
            p++;
    }
    return p;
}

static cptr scan_literal(cptr p, cptr end, const char *lit, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
        return NULL;
    return p + n;
}

/* Kind of the value whose first byte is c (c already known to start a valid value). */
static enum jscan_kind kind_of(unsigned c)
{
    static const char first[] = "\"{[tfn";
    static const enum jscan_kind kinds[] = {JSCAN_STRING, JSCAN_OBJECT, JSCAN_ARRAY,
                                            JSCAN_TRUE,   JSCAN_FALSE,  JSCAN_NULL};
    const char *q = memchr(first, (int)c, sizeof kinds / sizeof kinds[0]);

    return q ? kinds[q - first] : JSCAN_NUMBER;
}

struct scan {
    cptr end;
    const char *const *wanted;
    size_t nwanted;
    struct jscan_span *found;
    long member_match; /* index into wanted of the member being scanned, or -1 */
    cptr member_start;
    int dup;
};

/* p is at a member key (after whitespace). Scan `"key" :` and the whitespace after it; at the
 * top level (depth 1) also look the key up in wanted. Return the value's position or NULL. */
static cptr scan_member(struct scan *s, cptr p, unsigned depth)
{
    int has_esc = 0;
    cptr key;

    if (p >= s->end || *p != '"')
        return NULL;
    key = p + 1;
    p = scan_string(key, s->end, &has_esc);
    if (!p)
        return NULL;
    if (depth == 1) {
        for (size_t i = 0; i < s->nwanted; i++) {
            if (key_eq(key, p - 1, has_esc, s->wanted[i])) {
                if (s->found[i].kind != JSCAN_NONE)
                    s->dup = 1;
                else
                    s->member_match = (long)i;
                break;
            }
        }
    }
    p = skip_ws(p, s->end);
    if (p >= s->end || *p != ':')
        return NULL;
    p = skip_ws(p + 1, s->end);
    if (depth == 1)
        s->member_start = p;
    return p;
}

/* The value of wanted member s->member_match ended at p: record it (and any duplicate names). */
static void record_member(struct scan *s, cptr p)
{
    size_t m = (size_t)s->member_match;
    struct jscan_span span = {(const char *)s->member_start, (size_t)(p - s->member_start),
                              kind_of(*s->member_start)};

    for (size_t i = m; i < s->nwanted; i++)
        if (i == m || strcmp(s->wanted[i], s->wanted[m]) == 0)
            s->found[i] = span;
    s->member_match = -1;
}

int jscan_scan(const char *buf, size_t len, enum jscan_kind *top_kind, const char *const *wanted,
               size_t nwanted, struct jscan_span *found)
{
    struct scan s = {NULL, wanted, nwanted, found, -1, NULL, 0};
    uint64_t objs = 0; /* bit d: container at depth d+1 is an object */
    unsigned depth = 0;
    enum jscan_kind top = JSCAN_NONE;
    cptr p;
    int has_esc;

    if (top_kind)
        *top_kind = JSCAN_NONE;
    if (!wanted || !found)
        s.nwanted = 0;
    for (size_t i = 0; i < s.nwanted; i++)
        found[i] = (struct jscan_span){NULL, 0, JSCAN_NONE};
    if (!buf || len == 0)
        return JSCAN_EINVAL;
    p = (cptr)buf;
    s.end = p + len;
    p = skip_ws(p, s.end);
    if (p < s.end)
        top = kind_of(*p);

    for (;;) {
        /* A value starts at p (possibly after whitespace). */
        p = skip_ws(p, s.end);
        if (p >= s.end)
            return JSCAN_EINVAL;
        unsigned c = *p;
        if (c == '{' || c == '[') {
            if (depth == JSCAN_MAX_DEPTH)
                return JSCAN_EDEPTH;
            if (c == '{')
                objs |= 1ull << depth;
            else
                objs &= ~(1ull << depth);
            depth++;
            p = skip_ws(p + 1, s.end);
            if (p < s.end && *p == (c == '{' ? '}' : ']')) {
                p++;
                depth--;
            } else if (c == '{') {
                if (!(p = scan_member(&s, p, depth)))
                    return JSCAN_EINVAL;
                continue;
            } else {
                continue;
            }
        } else if (c == '"') {
            has_esc = 0;
            p = scan_string(p + 1, s.end, &has_esc);
        } else if (c == 't') {
            p = scan_literal(p, s.end, "true", 4);
        } else if (c == 'f') {
            p = scan_literal(p, s.end, "false", 5);
        } else if (c == 'n') {
            p = scan_literal(p, s.end, "null", 4);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            p = scan_number(p, s.end);
        } else {
            return JSCAN_EINVAL;
        }
        if (!p)
            return JSCAN_EINVAL;

        /* A value just ended at p: close containers until another value is due. */
        for (;;) {
            if (s.member_match >= 0 && depth == 1)
                record_member(&s, p);
            p = skip_ws(p, s.end);
            if (depth == 0) {
                if (p != s.end)
                    return JSCAN_EINVAL;
                if (top_kind)
                    *top_kind = s.dup ? JSCAN_NONE : top;
                return s.dup ? JSCAN_EDUP : JSCAN_OK;
            }
            if (p >= s.end)
                return JSCAN_EINVAL;
            int in_obj = (int)((objs >> (depth - 1)) & 1);
            if (*p == ',') {
                if (in_obj && !(p = scan_member(&s, skip_ws(p + 1, s.end), depth)))
                    return JSCAN_EINVAL;
                if (!in_obj)
                    p++;
                break;
            }
            if (*p != (in_obj ? '}' : ']'))
                return JSCAN_EINVAL;
            p++;
            depth--;
        }
    }
}

int jscan_string_decode(const char *span, size_t span_len, char *out, size_t cap, size_t *out_len)
{
    cptr p = (cptr)span, end;
    unsigned char ch[4];
    size_t n, total = 0;
    int has_esc = 0;

    if (out_len)
        *out_len = 0;
    if (cap > 0 && out)
        out[0] = '\0';
    if (!span || span_len < 2 || span[0] != '"')
        return JSCAN_EINVAL;
    end = p + span_len;
    if (scan_string(p + 1, end, &has_esc) != end)
        return JSCAN_EINVAL;
    end--; /* the closing quote */
    for (p++; p < end;) {
        p = str_step(p, ch, &n);
        if (out && total + n < cap)
            memcpy(out + total, ch, n);
        total += n;
    }
    if (out_len)
        *out_len = total;
    if (!out || total >= cap) {
        if (cap > 0 && out)
            out[0] = '\0';
        return JSCAN_ETOOBIG;
    }
    out[total] = '\0';
    return JSCAN_OK;
}

/* skip_value - p is at the first byte of a value: the byte after the value, or NULL if it is
 * malformed or cut short.  A container is skipped by counting brackets outside its strings
 * (strings go through scan_string), which is exact for the validated texts jscan_pointer reads
 * and never reads past end on any input. */
static cptr skip_value(cptr p, cptr end)
{
    int has_esc = 0;
    size_t depth = 0;

    if (p >= end)
        return NULL;
    switch (*p) {
    case '"':
        return scan_string(p + 1, end, &has_esc);
    case 't':
        return scan_literal(p, end, "true", 4);
    case 'f':
        return scan_literal(p, end, "false", 5);
    case 'n':
        return scan_literal(p, end, "null", 4);
    case '{':
    case '[':
        while (p < end) {
            unsigned c = *p;
            if (c == '"') {
                if (!(p = scan_string(p + 1, end, &has_esc)))
                    return NULL;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    default:
        return *p == '-' || is_digit(p, end) ? scan_number(p, end) : NULL;
    }
}

/* ptr_char - decode the pointer-token character at t (t < te) into *c: "~0" is '~', "~1" is
 * '/', any other byte stands for itself; returns the position after it. */
static const char *ptr_char(const char *t, const char *te, unsigned char *c)
{
    if (t[0] == '~' && te - t >= 2 && (t[1] == '0' || t[1] == '1')) {
        *c = t[1] == '0' ? '~' : '/';
        return t + 2;
    }
    *c = (unsigned char)t[0];
    return t + 1;
}

/* Does the validated string body s..e decode to the pointer token t..te? */
static int token_eq(cptr s, cptr e, const char *t, const char *te)
{
    unsigned char buf[4], c;
    size_t n;

    while (s < e) {
        s = str_step(s, buf, &n);
        for (size_t i = 0; i < n; i++) {
            if (t >= te)
                return 0;
            t = ptr_char(t, te, &c);
            if (c != buf[i])
                return 0;
        }
    }
    return t == te;
}

/* find_member - *pp is at the '{' of an object: set *pp to the value of its member named by the
 * token t..te, or NULL if it has none.  Every member is read, so a second one is seen. */
static int find_member(cptr *pp, cptr end, const char *t, const char *te)
{
    cptr p = skip_ws(*pp + 1, end), hit = NULL;

    *pp = NULL;
    if (p < end && *p == '}')
        return JSCAN_OK;
    for (;;) {
        int has_esc = 0;
        if (p >= end || *p != '"')
            return JSCAN_EINVAL;
        cptr key = p + 1;
        if (!(p = scan_string(key, end, &has_esc)))
            return JSCAN_EINVAL;
        int match = token_eq(key, p - 1, t, te);
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return JSCAN_EINVAL;
        p = skip_ws(p + 1, end);
        if (match) {
            if (hit)
                return JSCAN_EDUP;
            hit = p;
        }
        if (!(p = skip_value(p, end)))
            return JSCAN_EINVAL;
        p = skip_ws(p, end);
        if (p < end && *p == '}')
            break;
        if (p >= end || *p != ',')
            return JSCAN_EINVAL;
        p = skip_ws(p + 1, end);
    }
    *pp = hit;
    return JSCAN_OK;
}

/* find_element - *pp is at the '[' of an array: set *pp to its element whose index is the
 * decimal token t..te, or NULL if there is no such element (or the token is no index). */
static int find_element(cptr *pp, cptr end, const char *t, const char *te)
{
    cptr p = skip_ws(*pp + 1, end);
    size_t idx = 0;

    *pp = NULL;
    if (t == te)
        return JSCAN_OK;
    for (const char *d = t; d < te; d++) {
        if (*d < '0' || *d > '9' || idx > ((size_t)-1 - 9) / 10)
            return JSCAN_OK; /* not an index, or one no text of this size can reach */
        idx = idx * 10 + (size_t)(*d - '0');
    }
    if (p < end && *p == ']')
        return JSCAN_OK;
    for (;; idx--) {
        if (idx == 0) {
            *pp = p;
            return p < end ? JSCAN_OK : JSCAN_EINVAL;
        }
        if (!(p = skip_value(p, end)))
            return JSCAN_EINVAL;
        p = skip_ws(p, end);
        if (p < end && *p == ']')
            return JSCAN_OK;
        if (p >= end || *p != ',')
            return JSCAN_EINVAL;
        p = skip_ws(p + 1, end);
    }
}

int jscan_pointer(const char *buf, size_t len, const char *ptr, struct jscan_span *found,
                  size_t *dup_end)
{
    *found = (struct jscan_span){NULL, 0, JSCAN_NONE};
    if (!buf || !ptr || (*ptr && *ptr != '/'))
        return JSCAN_EINVAL;
    cptr end = (cptr)buf + len, p = skip_ws((cptr)buf, end);
    for (const char *t = ptr; *t == '/';) {
        const char *ts = t + 1, *te = ts + strcspn(ts, "/");
        int rc;
        if (p >= end)
            return JSCAN_EINVAL;
        if (*p == '{')
            rc = find_member(&p, end, ts, te);
        else if (*p == '[')
            rc = find_element(&p, end, ts, te);
        else
            return JSCAN_OK; /* a scalar has no members */
        if (rc == JSCAN_EDUP && dup_end)
            *dup_end = (size_t)(te - ptr);
        if (rc != JSCAN_OK || !p)
            return rc;
        t = te;
    }
    cptr v = skip_value(p, end);
    if (!v)
        return JSCAN_EINVAL;
    *found = (struct jscan_span){(const char *)p, (size_t)(v - p), kind_of(*p)};
    return JSCAN_OK;
}

int jscan_utf8_valid(const char *buf, size_t len)
{
    cptr p = (cptr)buf, end;

    if (len == 0)
        return 1;
    if (!buf)
        return 0;
    end = p + len;
    while (p < end) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, sizeof w);
            if (w & HIGHS)
                break;
            p += 8;
        }
        if (p >= end)
            break;
        if (*p < 0x80)
            p++;
        else if (!(p = utf8_seq(p, end)))
            return 0;
    }
    return 1;
}
