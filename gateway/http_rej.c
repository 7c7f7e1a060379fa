/*
 * http_rej.c - masked request headers and the rejected-request record
 * (see http_rej.h).
 *
 * The record is a JSON object: time, route, path, client, status, reason,
 * content_type, size, headers ([[name, value], ...], masked), and body
 * (UTF-8 text) or body_base64 - the body only for a route with
 * keep_rejected_bodies whose profile carries no credential inside the body
 * (a signature or token member: it would be stored in the clear).
 */
#include "http_rej.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "jscan.h"
#include "profile.h"
#include "store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pat {
    const char *s;
    size_t n;
};
#define PAT(x)                                                                                     \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }

/* a URL a proxy forwards may carry a route's path token or a query token */
static const struct pat exact[] = {
    PAT("cookie"),         PAT("set-cookie"),    PAT("x-forwarded-uri"), PAT("x-original-uri"),
    PAT("x-original-url"), PAT("x-rewrite-url"), PAT("referer")};
/* anywhere in the name: "X-AuthToken", "X-Authorization", "X-Secrets" */
static const struct pat parts[] = {
    PAT("auth"),      PAT("token"), PAT("secret"), PAT("passw"),   PAT("credential"), PAT("jwt"),
    PAT("signature"), PAT("hmac"),  PAT("apikey"), PAT("api-key"), PAT("session")};
/* as a word only: "X-Sig", "Api-Key", "X-Airtable-Content-MAC" (not "Signal"):
 * bounded by the ends or by a character that is not a letter */
static const struct pat words[] = {PAT("key"), PAT("sig"), PAT("mac")};
#define NPAT(a) (sizeof(a) / sizeof((a)[0]))

static int letter(char c)
{
    return c >= 'a' && c <= 'z';
}

/* masked_lower - the name rules on a lower-cased name l of n bytes: one
 * pass, comparing a pattern only where its first letter is (the header
 * walk runs for every accepted request: strstr per pattern was 3 % of a
 * request's CPU in a profile) */
static int masked_lower(const char *l, size_t n)
{
    for (size_t i = 0; i < NPAT(exact); i++)
        if (exact[i].n == n && !memcmp(l, exact[i].s, n))
            return 1;
    for (size_t at = 0; at < n; at++) {
        const char c = l[at];
        const size_t left = n - at;
        for (size_t i = 0; i < NPAT(parts); i++)
            if (parts[i].s[0] == c && parts[i].n <= left && !memcmp(l + at, parts[i].s, parts[i].n))
                return 1;
        for (size_t i = 0; i < NPAT(words); i++)
            if (words[i].s[0] == c && words[i].n <= left &&
                !memcmp(l + at, words[i].s, words[i].n) && (at == 0 || !letter(l[at - 1])) &&
                (words[i].n == left || !letter(l[at + words[i].n])))
                return 1;
    }
    return 0;
}

int http_rej_masked(const struct profile *p, const char *name)
{
    /* one lower-cased copy; a name longer than the copy is masked whatever
     * it says */
    char l[256];
    size_t n = 0;
    for (; n < sizeof(l) - 1 && name[n]; n++)
        l[n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ? name[n] | 0x20 : name[n]);
    if (name[n])
        return 1;
    l[n] = 0;
    if (masked_lower(l, n))
        return 1;
    /* "X-Hub-Signature-256", "Stripe-Signature": words above; a profile's
     * own header names whatever they are called */
    for (int i = 0; p && p->sig_header[i]; i++)
        if (!strcasecmp(name, p->sig_header[i]))
            return 1;
    for (int i = 0; p && p->token_header[i]; i++)
        if (!strcasecmp(name, p->token_header[i]))
            return 1;
    return 0;
}

/* clean - append s (at most cap bytes) with every byte outside printable
 * ASCII as '?'. */
static int clean(struct buf *b, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    char *d = b->p + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char u = (unsigned char)s[i];
        // NOLINTNEXTLINE(bugprone-narrowing-conversions): both are char
        d[i] = u < 0x20 || u > 0x7e ? '?' : s[i];
    }
    b->len += n;
    b->p[b->len] = 0;
    return HG_OK;
}

struct hdr_walk {
    const struct profile *p;
    struct buf *out;
    int rc;
};

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct hdr_walk *w = cls;
    (void)kind;
    if (!key || w->rc)
        return MHD_YES;
    const char *v = value ? value : "";
    int mask = http_rej_masked(w->p, key);
    size_t need = strlen(key) + 2 + (mask ? 3 : strlen(v)) + 1;
    if (w->out->len + need > EVENT_HEADERS_MAX)
        return MHD_NO; /* the rest is left out */
    size_t mark = w->out->len;
    w->rc = clean(w->out, key, 256);
    if (!w->rc)
        w->rc = buf_puts(w->out, ": ");
    if (!w->rc)
        w->rc = mask ? buf_puts(w->out, "***") : clean(w->out, v, EVENT_HEADERS_MAX);
    if (!w->rc)
        w->rc = buf_puts(w->out, "\n");
    if (w->rc)
        w->out->len = mark;
    return MHD_YES;
}

int http_rej_headers(struct MHD_Connection *conn, const struct profile *p, struct buf *out)
{
    buf_reset(out);
    struct hdr_walk w = {p, out, HG_OK};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, each_header, &w);
    return w.rc;
}

/* headers_json - "Name: value\n" lines as [[name, value], ...]. */
static json_t *headers_json(const char *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n;) {
        const char *nl = memchr(s + i, '\n', n - i), *e = nl ? nl : s + n;
        const char *colon = memchr(s + i, ':', (size_t)(e - (s + i)));
        if (colon) {
            const char *v = colon + 1 + (colon + 1 < e && colon[1] == ' ');
            json_array_append_new(
                a, json_pack("[s%s%]", s + i, (size_t)(colon - (s + i)), v, (size_t)(e - v)));
        }
        i = (size_t)(e - s) + 1;
    }
    return a;
}

/* keeps_body - r's body may be kept: the route opts in and its profile
 * carries no credential inside the body. */
static int keeps_body(const struct http_rej *r)
{
    const struct cfg_route *rt = r->route;
    return rt && rt->keep_rejected_bodies && r->body && !rt->profile->sig_pointer &&
           !rt->profile->token_pointer;
}

void http_rej_note(struct store *st, struct MHD_Connection *conn, const struct http_rej *r)
{
    if (!st)
        return;
    struct buf h;
    buf_init(&h, EVENT_HEADERS_MAX);
    if (http_rej_headers(conn, r->route ? r->route->profile : NULL, &h)) {
        buf_free(&h);
        return;
    }
    char when[40];
    int64_t now = time_now_ms();
    time_format_ms(now, when, sizeof(when));
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    json_t *o = json_pack("{ss,ss?,ss,ss,si,ss,sI,so}", "time", when, "route",
                          r->route ? r->route->name : NULL, "path", r->path, "client", r->client,
                          "status", (int)r->status, "reason", r->reason, "size",
                          (json_int_t)r->body_len, "headers", headers_json(h.p ? h.p : "", h.len));
    buf_free(&h);
    if (!o)
        return;
    if (ct) {
        struct buf c;
        buf_init(&c, 256);
        if (!clean(&c, ct, 200) && c.p)
            json_object_set_new(o, "content_type", json_string(c.p));
        buf_free(&c);
    }
    if (keeps_body(r)) {
        size_t n = r->body_len < HTTP_REJ_BODY_MAX ? r->body_len : HTTP_REJ_BODY_MAX;
        json_t *b = jscan_utf8_valid(r->body, n) ? json_stringn(r->body, n) : NULL;
        if (b) {
            json_object_set_new(o, "body", b);
        } else {
            char *e = malloc(4 * ((n + 2) / 3) + 1);
            if (e) {
                b64_encode((const unsigned char *)r->body, n, e);
                json_object_set_new(o, "body_base64", json_string(e));
            }
            free(e);
        }
        if (n < r->body_len)
            json_object_set_new(o, "body_truncated", json_true());
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s)
        store_reject_add(st, now, s, strlen(s));
    free(s);
}
