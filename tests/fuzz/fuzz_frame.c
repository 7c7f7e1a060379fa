/*
 * fuzz_frame.c - libFuzzer driver for the request framing rules
 * (gateway/http_frame.c), without a server.
 *
 * The input is a request head as libmicrohttpd would hand it over: its
 * first byte picks the HTTP version (bit 0: "HTTP/1.0", bit 1: none), the
 * rest is split into lines at LF (one CR before the LF is dropped, as a CRLF
 * ending; any other CR stays).  The first line is the raw request target;
 * every other line with a colon is a field, name = the bytes before its
 * first colon, value = the rest without leading spaces and tabs (what
 * libmicrohttpd stores).  Invariants:
 *  - http_frame_check agrees with a reference written here from RFC 9110/
 *    9112: names are non-empty tokens and do not extend Transfer-Encoding
 *    or Content-Length, no value holds a CR, at most one Content-Length,
 *    and a Transfer-Encoding only alone, once, on HTTP/1.1, with no
 *    Content-Length, and equal to "chunked" in any case;
 *  - http_frame_uri agrees with a reference: no space or control byte; in
 *    the path every '%' starts two hex digits that do not decode to '/',
 *    '\', NUL or another control character; an accepted path decodes to
 *    one with exactly as many '/' and '\' as it has raw, and no NUL;
 *    http_frame_on_uri returns http_frame_uri's reason (NULL when accepted);
 *  - a refusal has a reason, an accepted input none; every reason is one
 *    of http_frame_reason's (same address), printable ASCII without '"' or
 *    '\' (it goes into a JSON answer as is); a pointer into the input is
 *    never taken for a reason;
 *  - http_frame_mhd_options is ended by MHD_OPTION_END within 8 items.
 *
 * Build and run: scripts/fuzz [SECONDS] fuzz_frame (linked against the
 * hgcore library the hookgate binary is made of, with ASan+UBSan).
 */
#include "err.h"
#include "http_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_ 4096

static int is_tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return 1;
    if (c >= '0' && c <= '9')
        return 1;
    for (size_t i = 0; i < sizeof(extra) - 1; i++)
        if (c == (unsigned char)extra[i])
            return 1;
    return 0;
}

static int low(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ieq - s[0..n) starts with (prefix) or equals (!prefix) t, ASCII any case */
static int ieq(const char *s, size_t n, const char *t, int prefix)
{
    size_t tn = strlen(t);
    if (prefix ? n < tn : n != tn)
        return 0;
    for (size_t i = 0; i < tn; i++)
        if (low((unsigned char)s[i]) != low((unsigned char)t[i]))
            return 0;
    return 1;
}

static void check_reason(int rc, const char *why)
{
    if ((rc == HG_OK) != (why == NULL) || (rc != HG_OK && rc != HG_EINVAL))
        abort();
    if (!why)
        return;
    if (http_frame_reason(why) != why)
        abort();
    for (const char *p = why; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            abort();
}

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* count - how many bytes of s[0..n) are c */
static size_t count(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

static void check_uri(const char *raw)
{
    const char *why = NULL;
    int rc = http_frame_uri(raw, &why);
    check_reason(rc, why);
    static char dec[LINE_MAX_ + 1];
    size_t dn = 0, plen = strcspn(raw, "?");
    int ok = 1;
    for (const char *p = raw; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            ok = 0;
    for (size_t i = 0; i < plen; i++) { /* the path decoded as libmicrohttpd does */
        int h1 = raw[i] == '%' ? hexv((unsigned char)raw[i + 1]) : -1;
        int h2 = h1 >= 0 ? hexv((unsigned char)raw[i + 2]) : -1;
        if (raw[i] == '%' && h2 < 0) {
            ok = 0;
        } else if (raw[i] == '%') {
            int v = h1 * 16 + h2;
            if (v == '/' || v == '\\' || v < 0x20 || v == 0x7f)
                ok = 0;
            dec[dn++] = (char)v;
            i += 2;
            continue;
        }
        dec[dn++] = raw[i];
    }
    if (ok != (rc == HG_OK))
        abort();
    /* the URI callback leaves exactly that reason as the request's context */
    if (http_frame_on_uri(NULL, raw, NULL) != (void *)(uintptr_t)why ||
        http_frame_on_uri(NULL, NULL, NULL))
        abort();
    /* what is routed on is what the client's path shows: no '/' or '\\'
     * appears by decoding, and nothing is cut */
    if (ok && (count(dec, dn, '/') != count(raw, plen, '/') ||
               count(dec, dn, '\\') != count(raw, plen, '\\') || memchr(dec, 0, dn)))
        abort();
}

static void check_fields(const uint8_t *data, size_t size, const char *version)
{
    struct http_frame f;
    http_frame_init(&f);
    unsigned ncl = 0, nte = 0;
    int ok = 1, te_chunked = 0;
    size_t start = 0;
    int first = 1;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        const char *line = (const char *)data + start;
        size_t n = i - start;
        start = i + 1;
        if (n && line[n - 1] == '\r')
            n--;
        if (first) { /* the request target */
            first = 0;
            continue;
        }
        const char *colon = memchr(line, ':', n);
        if (!colon)
            continue;
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1;
        size_t vlen = n - nlen - 1;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        http_frame_field(&f, line, nlen, v, vlen);
        if (!nlen || memchr(v, '\r', vlen))
            ok = 0;
        for (size_t k = 0; k < nlen; k++)
            if (!is_tchar((unsigned char)line[k]))
                ok = 0;
        if (ieq(line, nlen, "content-length", 0)) {
            ncl++;
        } else if (ieq(line, nlen, "transfer-encoding", 0)) {
            if (!nte++)
                te_chunked = ieq(v, vlen, "chunked", 0);
        } else if (ieq(line, nlen, "content-length", 1) ||
                   ieq(line, nlen, "transfer-encoding", 1)) {
            ok = 0;
        }
    }
    if (ncl > 1)
        ok = 0;
    if (nte && (ncl || nte > 1 || !version || strcmp(version, "HTTP/1.1") || !te_chunked))
        ok = 0;
    const char *why = NULL;
    int rc = http_frame_check(&f, version, &why);
    check_reason(rc, why);
    if (ok != (rc == HG_OK))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *version = data[0] & 2 ? NULL : data[0] & 1 ? "HTTP/1.0" : "HTTP/1.1";
    data++, size--;
    static char target[LINE_MAX_ + 1];
    size_t n = 0;
    while (n < size && n < LINE_MAX_ && data[n] != '\n')
        n++;
    memcpy(target, data, n);
    if (n && target[n - 1] == '\r')
        n--;
    target[n] = '\0'; /* a NUL inside cuts it, as libmicrohttpd's C string does */
    check_uri(target);
    check_fields(data, size, version);
    for (size_t i = 0; i < size && i < 64; i++)
        if (http_frame_reason(data + i))
            abort();
    if (http_frame_reason(NULL))
        abort();
    static int opts_checked;
    if (!opts_checked++) { /* the option array is ended within a few items */
        size_t i = 0;
        while (i < 8 && http_frame_mhd_options()[i].option != MHD_OPTION_END)
            i++;
        if (i == 8)
            abort();
    }
    return 0;
}
