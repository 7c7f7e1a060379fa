/*
 * http_frame.c - the request framing rules (see http_frame.h): header
 * fields, HTTP version and raw request target, checked as plain strings,
 * then the three calls that apply them to a libmicrohttpd request.
 *
 * The checks (everything above http_frame_on_uri) make no libmicrohttpd
 * call, so tests/fuzz/fuzz_frame.c drives them without a server.  They
 * accept a subset of what libmicrohttpd accepts, chosen so that an accepted
 * request has one framing: the one libmicrohttpd applies.  That is why the
 * Transfer-Encoding value must be "chunked" byte for byte (any case):
 * libmicrohttpd decodes chunked only then, and reads any other value as a
 * body of unknown length.
 *
 * Reasons are the constant texts of reasons[] below: http_frame_reason
 * finds them by address, so each is one object, listed once.
 */
#include "http_frame.h"
#include "err.h"

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char R_NAME_EMPTY[] = "empty header name";
static const char R_NAME_LEADING_WS[] = "header line starting with whitespace";
static const char R_NAME_FOLDED[] = "folded header line (obs-fold)";
static const char R_NAME_WS_COLON[] = "whitespace before a header colon";
static const char R_NAME_WS[] = "whitespace in a header name (a folded line?)";
static const char R_NAME_CHAR[] = "invalid character in a header name";
static const char R_NAME_TE[] = "folded or malformed Transfer-Encoding header";
static const char R_NAME_CL[] = "folded or malformed Content-Length header";
static const char R_VALUE_CR[] = "bare CR in a header value";
static const char R_CL_MANY[] = "several Content-Length headers";
static const char R_CL_TE[] = "Content-Length and Transfer-Encoding together";
static const char R_TE_MANY[] = "several Transfer-Encoding headers";
static const char R_TE_VERSION[] = "Transfer-Encoding outside HTTP/1.1";
static const char R_TE_CODING[] = "Transfer-Encoding other than chunked (the only one accepted)";
static const char R_URI_CHAR[] = "space or control character in the request target";
static const char R_URI_ESCAPE[] = "malformed percent-encoding in the path";
static const char R_URI_SLASH[] = "encoded slash (%2F) in the path";
static const char R_URI_BACKSLASH[] = "encoded backslash (%5C) in the path";
static const char R_URI_NUL[] = "encoded NUL (%00) in the path";
static const char R_URI_CTL[] = "encoded control character in the path";

static const char *const reasons[] = {
    R_NAME_EMPTY, R_NAME_LEADING_WS, R_NAME_FOLDED,   R_NAME_WS,   R_NAME_WS_COLON,
    R_NAME_CHAR,  R_NAME_TE,         R_NAME_CL,       R_VALUE_CR,  R_CL_MANY,
    R_CL_TE,      R_TE_MANY,         R_TE_VERSION,    R_TE_CODING, R_URI_CHAR,
    R_URI_ESCAPE, R_URI_SLASH,       R_URI_BACKSLASH, R_URI_NUL,   R_URI_CTL,
};

#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

static const char TE[] = "Transfer-Encoding";
static const char CL[] = "Content-Length";

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* same_ci - 1 if s[0..n) equals the NUL-terminated ASCII text t, any case */
static int same_ci(const char *s, size_t n, const char *t)
{
    size_t i = 0;
    for (; i < n && t[i]; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)t[i]))
            return 0;
    return i == n && !t[i];
}

/* extends_ci - 1 if s[0..n) is longer than t and starts with it, any case */
static int extends_ci(const char *s, size_t n, const char *t, size_t tn)
{
    return n > tn && same_ci(s, tn, t);
}

/* tchar - RFC 9110 token character */
static int tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* name_problem - why name[0..n) cannot be a header field name, or NULL.
 * libmicrohttpd splits a line at its first colon and glues a folded line's
 * continuation onto the name, so a colon inside a name is proof of a fold,
 * whitespace at its end is whitespace before the colon, and whitespace
 * inside it either a fold or a name with a space: all refused. */
static const char *name_problem(const char *name, size_t n)
{
    if (!n)
        return R_NAME_EMPTY;
    if (wsp(name[0]))
        return R_NAME_LEADING_WS;
    if (memchr(name, ':', n))
        return R_NAME_FOLDED;
    if (wsp(name[n - 1]))
        return R_NAME_WS_COLON;
    for (size_t i = 0; i < n; i++)
        if (wsp(name[i]))
            return R_NAME_WS;
    for (size_t i = 0; i < n; i++)
        if (!tchar((unsigned char)name[i]))
            return R_NAME_CHAR;
    /* "Transfer-Encoding:\r\n chunked" reaches us as "Transfer-Encodingchunked" */
    if (extends_ci(name, n, TE, sizeof(TE) - 1))
        return R_NAME_TE;
    if (extends_ci(name, n, CL, sizeof(CL) - 1))
        return R_NAME_CL;
    return NULL;
}

void http_frame_init(struct http_frame *f)
{
    memset(f, 0, sizeof(*f));
}

void http_frame_field(struct http_frame *f, const char *name, size_t nlen, const char *value,
                      size_t vlen)
{
    if (same_ci(name, nlen, CL)) {
        f->ncl++;
    } else if (same_ci(name, nlen, TE)) {
        if (f->nte++ == 0)
            f->te_chunked = same_ci(value, vlen, "chunked");
    }
    if (f->why)
        return;
    f->why = name_problem(name, nlen);
    /* a proxy that ends lines at a bare CR sees another field here */
    if (!f->why && vlen && memchr(value, '\r', vlen))
        f->why = R_VALUE_CR;
}

int http_frame_check(const struct http_frame *f, const char *version, const char **why)
{
    *why = f->why;
    if (!*why && f->ncl > 1)
        *why = R_CL_MANY;
    if (!*why && f->nte) {
        if (f->ncl)
            *why = R_CL_TE; /* RFC 9112 6.1: refuse, and close the connection */
        else if (f->nte > 1)
            *why = R_TE_MANY;
        else if (!version || strcmp(version, "HTTP/1.1"))
            *why = R_TE_VERSION; /* RFC 9112 6.1: an HTTP/1.0 framing is faulty */
        else if (!f->te_chunked)
            *why = R_TE_CODING; /* RFC 9112 6.3: not chunked last is a 400 */
    }
    return *why ? HG_EINVAL : HG_OK;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int http_frame_uri(const char *raw, const char **why)
{
    *why = NULL;
    int path = 1; /* before the first '?' */
    for (const unsigned char *p = (const unsigned char *)raw; *p && !*why; p++) {
        if (*p <= ' ' || *p == 0x7f) {
            *why = R_URI_CHAR;
        } else if (*p == '?') {
            path = 0;
        } else if (*p == '%' && path) {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                *why = R_URI_ESCAPE;
            else if (hi * 16 + lo == '/')
                *why = R_URI_SLASH;
            else if (hi * 16 + lo == '\\')
                *why = R_URI_BACKSLASH;
            else if (hi * 16 + lo == 0)
                *why = R_URI_NUL;
            else if (hi * 16 + lo < 0x20 || hi * 16 + lo == 0x7f)
                *why = R_URI_CTL;
            else
                p += 2;
        }
    }
    return *why ? HG_EINVAL : HG_OK;
}

const char *http_frame_reason(const void *p)
{
    for (size_t i = 0; p && i < NREASONS; i++)
        if (p == (const void *)reasons[i])
            return reasons[i];
    return NULL;
}

void *http_frame_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    const char *why = NULL;
    if (!uri || http_frame_uri(uri, &why) == HG_OK)
        return NULL;
    return (void *)(uintptr_t)why; /* a constant: libmicrohttpd only hands it back */
}

/* add_field - libmicrohttpd's iterator over header fields, into an http_frame */
static enum MHD_Result add_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    http_frame_field(cls, key, key_size, value ? value : "", value ? value_size : 0);
    return MHD_YES;
}

int http_frame_request(struct MHD_Connection *conn, const char *version, const char **why)
{
    struct http_frame f;
    http_frame_init(&f);
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_field, &f);
    return http_frame_check(&f, version, why);
}

enum MHD_Result http_frame_answer(struct MHD_Connection *conn, const char *why)
{
    char body[160]; /* the longest reason is under 100 bytes */
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", why);
    if (n < 0 || (size_t)n >= sizeof(body))
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_BAD_REQUEST, resp);
    MHD_destroy_response(resp);
    return ret;
}

struct MHD_OptionItem *http_frame_mhd_options(void)
{
    static struct MHD_OptionItem opts[] = {
#if MHD_VERSION >= 0x00097701
        /* bare LF, folded lines, whitespace in names: refused by the library */
        {MHD_OPTION_CLIENT_DISCIPLINE_LVL, 1, NULL},
#endif
        {MHD_OPTION_END, 0, NULL}
    };
    return opts;
}
