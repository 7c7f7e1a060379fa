/*
 * http.c - listeners, routing and the request lifecycle (see http.h).
 *
 * Request state (struct req) is created on the first call of the access
 * handler - which sends nothing and decides 404/405/413/503 from the
 * headers alone, before any body byte is read - and freed in exactly one
 * place, on_completed().  The body goes into a bounded buffer sized from
 * Content-Length; a body over max_body is a 413, never a truncation.
 *
 * Order of checks on a complete body: signature first (nothing about an
 * unauthenticated body is parsed beyond what the scheme needs), then one
 * validating JSON scan that also finds id/type/time, then the store.
 */
#include "http.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "extract.h"
#include "jscan.h"
#include "log.h"
#include "profile.h"
#include "store.h"
#include "verify.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HTTP_CTYPE_MAX    255
#define HTTP_RESERVE_MAX  (64 << 10) /* body bytes reserved before they arrive */
#define HTTP_POOL_MAX     256        /* idle request states kept per thread */
#define HTTP_POOL_BUF_MAX (64 << 10) /* a larger body buffer is not kept */

enum phase { PH_READ = 0, PH_WAIT, PH_PROBE };

struct http;

/* Per-request state.  Everything before id is zeroed on reuse; body and
 * resp keep their allocations. */
struct req {
    struct http *h;
    struct MHD_Connection *conn;
    const struct cfg_route *route;
    struct req *next_free;
    enum phase phase;
    int too_big;
    int64_t deadline_ms; /* request_timeout counted from the headers */
    struct buf body;
    struct buf resp;
    struct store_item item;
    struct extract_result x; /* id, type, time: the event points into it */
};

#define HTTP_MAX_THREADS 64

/* One listener = one daemon per thread, all bound to the same address with
 * SO_REUSEPORT: the kernel spreads connections evenly over them (a single
 * MHD thread pool leaves most connections on whichever thread accepted
 * first). */
/* One per daemon (one thread each): all its callbacks run on that thread,
 * so its request free list needs no lock. */
struct dctx {
    struct http *h;
    struct req *free;
    unsigned nfree;
};

struct listener {
    struct MHD_Daemon *d[HTTP_MAX_THREADS];
    struct dctx ctx[HTTP_MAX_THREADS];
    unsigned nd;
    char *cert_pem;
    char *key_pem;
};

/* Canned answers, built once and shared by every daemon (MHD responses are
 * reference-counted and may be queued any number of times). */
enum canned {
    C_400,
    C_401,
    C_403,
    C_404,
    C_405,
    C_405_GET,
    C_413,
    C_503_BUSY,
    C_503_STORE,
    C_HEALTH_OK,
    C_HEALTH_BAD,
    C_N
};

struct http {
    const struct config *cfg;
    struct store *st;
    struct listener *ls;
    size_t nls;
    atomic_uint conns;            /* open connections, all daemons */
    atomic_uint active;           /* request states in use */
    _Atomic int64_t health_ok_ms; /* last successful /healthz probe */
    struct MHD_Response *canned[C_N];
};

static const char *client_ip(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return out;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
    return out;
}

static void log_reject(struct MHD_Connection *conn, const char *url, int err, const char *reason)
{
    if (!log_enabled(LOG_WARN))
        return;
    char ip[64], path[256];
    log_msg(LOG_WARN, "request rejected", "{s:s,s:i,s:s,s:s}", "path",
            log_clean(url, path, sizeof(path)), "status", (int)hg_http_status(err), "reason",
            reason ? reason : hg_strerror(err), "client", client_ip(conn, ip, sizeof(ip)));
}

static struct MHD_Response *make_canned(const char *body, const char *hname, const char *hval)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return NULL;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (hname)
        MHD_add_response_header(r, hname, hval);
    return r;
}

static int canned_init(struct http *h)
{
    h->canned[C_401] = make_canned("{\"error\":\"invalid signature\"}\n", "Connection", "close");
    h->canned[C_403] = make_canned("{\"error\":\"forbidden\"}\n", "Connection", "close");
    h->canned[C_404] = make_canned("{\"error\":\"not found\"}\n", NULL, NULL);
    h->canned[C_400] = make_canned("{\"error\":\"invalid request\"}\n", "Connection", "close");
    h->canned[C_405] = make_canned("{\"error\":\"method not allowed\"}\n", "Allow", "POST");
    h->canned[C_405_GET] =
        make_canned("{\"error\":\"method not allowed\"}\n", "Allow", "GET, HEAD");
    h->canned[C_413] = make_canned("{\"error\":\"body too large\"}\n", "Connection", "close");
    h->canned[C_503_BUSY] = make_canned("{\"error\":\"busy, retry later\"}\n", "Retry-After", "1");
    h->canned[C_503_STORE] =
        make_canned("{\"error\":\"store unavailable, retry later\"}\n", "Retry-After", "5");
    h->canned[C_HEALTH_OK] = make_canned("{\"status\":\"ok\"}\n", NULL, NULL);
    h->canned[C_HEALTH_BAD] =
        make_canned("{\"status\":\"store unavailable\"}\n", "Retry-After", "5");
    for (int i = 0; i < C_N; i++)
        if (!h->canned[i])
            return HG_ENOMEM;
    return HG_OK;
}

static enum MHD_Result queue_canned(struct http *h, struct MHD_Connection *conn, enum canned c,
                                    unsigned status)
{
    return MHD_queue_response(conn, status, h->canned[c]);
}

/* queue_error - the JSON error answer for err (canned where one exists). */
static enum MHD_Result queue_error(struct req *r, int err)
{
    unsigned status = hg_http_status(err);
    switch (err) {
    case HG_ENOTFOUND:
        return queue_canned(r->h, r->conn, C_404, status);
    case HG_EMETHOD:
        return queue_canned(r->h, r->conn, C_405, status);
    case HG_ETOOBIG:
        return queue_canned(r->h, r->conn, C_413, status);
    case HG_EBUSY:
    case HG_ESTOPPING:
        return queue_canned(r->h, r->conn, C_503_BUSY, status);
    default:
        break;
    }
    if (status == 503)
        return queue_canned(r->h, r->conn, C_503_STORE, status);
    buf_reset(&r->resp);
    if (buf_printf(&r->resp, "{\"error\":\"%s\"}\n", hg_strerror(err)))
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->resp.len, r->resp.p, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* queue_stored - the answer once the writer is done with the item. */
static enum MHD_Result queue_stored(struct req *r)
{
    if (r->item.result)
        return queue_error(r, r->item.result);
    if (log_enabled(LOG_DEBUG))
        log_msg(LOG_DEBUG, r->item.duplicate ? "duplicate" : "accepted", "{s:s,s:s%,s:I}", "route",
                r->route->name, "id", r->item.ev.id.p, r->item.ev.id.len, "seq",
                (json_int_t)r->item.seq);
    buf_reset(&r->resp);
    int rc = buf_puts(&r->resp, r->item.duplicate ? "{\"status\":\"duplicate\",\"id\":"
                                                  : "{\"status\":\"accepted\",\"id\":");
    if (!rc)
        rc = json_escape(&r->resp, r->item.ev.id.p, r->item.ev.id.len);
    if (!rc && !r->item.duplicate)
        rc = buf_printf(&r->resp, ",\"seq\":%llu", (unsigned long long)r->item.seq);
    if (!rc)
        rc = buf_puts(&r->resp, "}\n");
    if (rc)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->resp.len, r->resp.p, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_stored(struct store_item *it, void *arg)
{
    (void)it;
    struct req *r = arg;
    MHD_resume_connection(r->conn);
}

/* submit - suspend first, then queue: the writer may resume at once. */
static enum MHD_Result submit(struct req *r)
{
    r->item.done = on_stored;
    r->item.arg = r;
    MHD_suspend_connection(r->conn);
    int rc = store_submit(r->h->st, &r->item);
    if (rc) {
        r->item.result = rc;
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

static enum MHD_Result count_content_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                            const char *value)
{
    (void)kind;
    (void)value;
    if (strcasecmp(key, "Content-Length") == 0)
        ++*(unsigned *)cls;
    return MHD_YES;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return name ? MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name) : NULL;
}

/* printable - 1 if s has no control characters. */
static int printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* hdr - extract_header_fn over an MHD connection. */
static const char *hdr(void *ctx, const char *name)
{
    return header(ctx, name);
}

/* process - the body is complete: verify, classify, extract, submit. */
static enum MHD_Result process(struct req *r, const char *url)
{
    const struct cfg_route *rt = r->route;
    const struct profile *p = rt->profile;
    struct MHD_Connection *c = r->conn;
    const char *body = r->body.p ? r->body.p : "";
    size_t blen = r->body.len;

    /* tokens and unsigned routes were settled with the headers */
    if (p->fmt != PROF_FMT_TOKEN && p->fmt != PROF_FMT_NONE) {
        struct verify_input in = {
            .body = body,
            .body_len = blen,
            .now_s = (int64_t)time(NULL),
            .tolerance_s = rt->tolerance_s,
        };
        extract_verify_input(p, hdr, c, &in);
        const char *why = NULL;
        int rc = verify_check(rt->verifier, &in, &why);
        if (rc) {
            log_reject(c, url, rc, why);
            return queue_error(r, rc);
        }
    }
    const char *why = NULL;
    int rc = extract_event(rt, hdr, c, body, blen, &r->x, &why);
    if (rc) {
        log_reject(c, url, rc, why);
        return queue_error(r, rc);
    }
    const char *ct = header(c, "Content-Type");
    struct event *ev = &r->item.ev;
    if (ct && (strlen(ct) > HTTP_CTYPE_MAX || !printable(ct, strlen(ct)) ||
               !jscan_utf8_valid(ct, strlen(ct))))
        ct = NULL;
    /* "data" is described by what it is, whatever was claimed: JSON as a
     * JSON type, a string (text) never as JSON, base64 as sent */
    enum event_body kind = r->x.kind;
    if (kind == EVENT_BODY_JSON && ct && !strcasestr(ct, "json"))
        ct = NULL;
    if (kind == EVENT_BODY_TEXT && ct && strcasestr(ct, "json"))
        ct = NULL;
    ev->route = (struct event_str){rt->name, strlen(rt->name)};
    ev->source = (struct event_str){rt->path, strlen(rt->path)};
    ev->id = (struct event_str){r->x.id, strlen(r->x.id)};
    ev->type = (struct event_str){r->x.type, strlen(r->x.type)};
    ev->time = (struct event_str){r->x.time, strlen(r->x.time)};
    ev->ctype = (struct event_str){ct ? ct : "", ct ? strlen(ct) : 0};
    ev->body = (struct event_str){body, blen};
    ev->body_kind = kind;
    ev->received_ms = time_now_ms();
    r->item.dedupe = (struct event_str){r->x.dedupe[0] ? r->x.dedupe : NULL, strlen(r->x.dedupe)};
    r->item.kind = STORE_EVENT;
    r->phase = PH_WAIT;
    return submit(r);
}

/* req_new - a request state from the daemon's free list, or a new one.
 * Buffers keep their allocation across reuse, so a steady stream of
 * similar requests allocates nothing. */
static struct req *req_new(struct dctx *dc, struct MHD_Connection *conn)
{
    struct req *r = dc->free;
    if (r) {
        dc->free = r->next_free;
        dc->nfree--;
        struct buf body = r->body, resp = r->resp;
        memset(r, 0, offsetof(struct req, x));
        r->x.id[0] = r->x.type[0] = r->x.time[0] = r->x.dedupe[0] = '\0';
        r->body = body;
        r->resp = resp;
        buf_reset(&r->body);
        buf_reset(&r->resp);
    } else {
        if (!(r = calloc(1, sizeof(*r))))
            return NULL;
        buf_init(&r->body, dc->h->cfg->max_body);
        buf_init(&r->resp, 8192);
    }
    r->h = dc->h;
    r->conn = conn;
    atomic_fetch_add(&dc->h->active, 1);
    return r;
}

/* req_release - back to the free list (bounded), or freed. */
static void req_release(struct dctx *dc, struct req *r)
{
    atomic_fetch_sub(&dc->h->active, 1);
    if (dc->nfree < HTTP_POOL_MAX && r->body.cap <= HTTP_POOL_BUF_MAX) {
        r->next_free = dc->free;
        dc->free = r;
        dc->nfree++;
        return;
    }
    buf_free(&r->body);
    buf_free(&r->resp);
    free(r);
}

static void pool_free(struct dctx *dc)
{
    for (struct req *r = dc->free, *nx; r; r = nx) {
        nx = r->next_free;
        buf_free(&r->body);
        buf_free(&r->resp);
        free(r);
    }
    dc->free = NULL;
    dc->nfree = 0;
}

/* presented_token - the token a request carries: the path segment after the
 * route path, else a token header ("Authorization: Bearer T" too). */
static const char *presented_token(struct MHD_Connection *conn, char *const *names, const char *seg)
{
    if (seg)
        return seg;
    for (int i = 0; names[i]; i++) {
        const char *v = header(conn, names[i]);
        if (!v)
            continue;
        if (!strcasecmp(names[i], "Authorization")) {
            if (strncasecmp(v, "Bearer ", 7))
                continue;
            v += 7;
        }
        return v;
    }
    return NULL;
}

/* check_token - NULL if the route's token (and a token profile's secrets)
 * are satisfied, else a reason for the log.  Constant-time comparisons. */
static const char *check_token(struct MHD_Connection *conn, const struct cfg_route *rt,
                               const char *seg)
{
    static char *const dflt[] = {"X-Hookgate-Token", "Authorization", NULL};
    const struct profile *p = rt->profile;
    if (p->fmt == PROF_FMT_TOKEN) {
        struct verify_input in = {.token = presented_token(conn, p->token_header, seg)};
        const char *why = NULL;
        return verify_check(rt->verifier, &in, &why) ? why : NULL;
    }
    if (!rt->has_token)
        return NULL;
    const char *t = presented_token(conn, dflt, seg);
    if (!t)
        return "missing token";
    unsigned char d[32];
    verify_token_digest(t, strlen(t), d);
    return CRYPTO_memcmp(d, rt->token_sha, 32) ? "token mismatch" : NULL;
}

/* first_call - headers are in, no body byte read yet. */
static enum MHD_Result first_call(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **con_cls)
{
    struct http *h = dc->h;
    if (strcmp(url, "/healthz") == 0) {
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
            return queue_canned(h, conn, C_405_GET, 405);
        /* a probe is an fsync'd write: answer from a fresh result (< 1 s)
         * so that /healthz cannot be used to make the disk work */
        if (time_now_ms() - atomic_load(&h->health_ok_ms) < 1000 && store_healthy(h->st))
            return queue_canned(h, conn, C_HEALTH_OK, 200);
        struct req *r = req_new(dc, conn);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->phase = PH_PROBE;
        r->item.kind = STORE_PROBE;
        return submit(r);
    }
    const char *tok = NULL;
    const struct cfg_route *rt = config_route_match(h->cfg, url, &tok);
    if (!rt) {
        log_reject(conn, config_route_redact(h->cfg, url), HG_ENOTFOUND, NULL);
        return queue_canned(h, conn, C_404, 404);
    }
    if (strcmp(method, "POST") != 0) {
        log_reject(conn, rt->path, HG_EMETHOD, NULL);
        return queue_canned(h, conn, C_405, 405);
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!config_route_allows(rt, ci ? ci->client_addr : NULL)) {
        log_reject(conn, rt->path, HG_EFORBIDDEN, "source address not in allow");
        return queue_canned(h, conn, C_403, 403);
    }
    const char *why = check_token(conn, rt, tok);
    if (why) {
        log_reject(conn, rt->path, HG_ESIG, why);
        return queue_canned(h, conn, C_401, 401);
    }
    if (atomic_load(&h->conns) > h->cfg->max_connections) {
        log_reject(conn, rt->path, HG_EBUSY, "max_connections reached");
        return queue_canned(h, conn, C_503_BUSY, 503);
    }
    unsigned ncl = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_content_length, &ncl);
    if (ncl > 1) { /* ambiguous framing: the classic request-smuggling shape */
        log_reject(conn, rt->path, HG_EINVAL, "several Content-Length headers");
        return queue_canned(h, conn, C_400, 400);
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    unsigned long long len = 0;
    if (cl) {
        char *end;
        len = strtoull(cl, &end, 10);
        if (*end || len > h->cfg->max_body) {
            log_reject(conn, rt->path, HG_ETOOBIG, "Content-Length over max_body");
            return queue_canned(h, conn, C_413, 413);
        }
    }
    struct req *r = req_new(dc, conn);
    if (!r)
        return MHD_NO;
    r->route = rt;
    r->deadline_ms = time_now_ms() + (int64_t)h->cfg->request_timeout_ms;
    /* reserve up front only what a small body needs: a slow client must not
     * pin max_body of memory before sending it */
    if (len && buf_reserve(&r->body, (size_t)(len < HTTP_RESERVE_MAX ? len : HTTP_RESERVE_MAX))) {
        req_release(dc, r);
        return MHD_NO;
    }
    *con_cls = r;
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    struct dctx *dc = cls;
    struct http *h = dc->h;
    struct req *r = *con_cls;
    if (!r)
        return first_call(dc, conn, url, method, con_cls);
    switch (r->phase) {
    case PH_PROBE:
        if (!r->item.result && store_healthy(h->st)) {
            atomic_store(&h->health_ok_ms, time_now_ms());
            return queue_canned(h, conn, C_HEALTH_OK, 200);
        }
        return queue_canned(h, conn, C_HEALTH_BAD, 503);
    case PH_WAIT:
        return queue_stored(r);
    case PH_READ:
        break;
    }
    if (*upload_size) {
        if (time_now_ms() > r->deadline_ms) {
            log_reject(conn, r->route->path, HG_EBUSY,
                       "request_timeout: body too slow; connection closed");
            return MHD_NO;
        }
        if (!r->too_big && buf_append(&r->body, upload, *upload_size))
            r->too_big = 1;
        *upload_size = 0;
        if (r->too_big) {
            /* chunked body over max_body: MHD cannot answer mid-upload, so
             * the connection is closed rather than the body read to its end */
            log_reject(conn, r->route->path, HG_ETOOBIG,
                       "streamed body over max_body; connection closed");
            return MHD_NO;
        }
        return MHD_YES;
    }
    return process(r, r->route->path);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct req *r = *con_cls;
    if (!r)
        return;
    req_release(cls, r);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    (void)socket_context;
    struct http *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&h->conns, 1);
    else
        atomic_fetch_sub(&h->conns, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_msg(LOG_WARN, "http", "{s:s}", "detail", msg);
}

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&b, chunk, n);
    fclose(f);
    if (rc || !b.p) {
        buf_free(&b);
        return NULL;
    }
    return b.p;
}

static int start_listener(struct http *h, const struct cfg_listener *cl, struct listener *l)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, cl->host, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)cl->port);
        sa = (struct sockaddr *)&sin;
    } else {
        inet_pton(AF_INET6, cl->host, &sin6.sin6_addr);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)cl->port);
        sa = (struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    }
    unsigned timeout = (unsigned)(h->cfg->request_timeout_ms / 1000);
    unsigned threads = h->cfg->threads ? h->cfg->threads : 2;
    if (threads > HTTP_MAX_THREADS)
        threads = HTTP_MAX_THREADS;
    /* the hard cap sits a little above max_connections so that the excess
     * gets a 503 with Retry-After rather than a silent close */
    unsigned limit = h->cfg->max_connections + 16 * threads;
    if (cl->tls) {
        l->cert_pem = read_pem(cl->cert);
        l->key_pem = read_pem(cl->key);
        if (!l->cert_pem || !l->key_pem) {
            log_msg(LOG_ERROR, "http: cannot read TLS certificate or key", "{s:s}", "listen",
                    cl->address);
            return HG_EIO;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, l->key_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL}};
    struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
    /* SO_REUSEPORT only when this listener has several daemons to share the
     * port: a lone daemon keeps MHD's default (SO_REUSEADDR), so a second
     * gateway started by mistake fails to bind instead of sharing traffic */
    struct MHD_OptionItem reuse_opts[] = {{MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
                                          {MHD_OPTION_END, 0, NULL}};
    unsigned port = cl->port;
    for (unsigned k = 0; k < threads; k++) {
        if (sa->sa_family == AF_INET)
            sin.sin_port = htons((uint16_t)port);
        else
            sin6.sin6_port = htons((uint16_t)port);
        l->ctx[k].h = h;
        l->d[k] = MHD_start_daemon(
            flags, 0, NULL, NULL, on_access, &l->ctx[k], MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
            MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_ARRAY, threads > 1 ? reuse_opts : no_opts,
            MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
            timeout ? timeout : 1, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, &l->ctx[k], MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, h, MHD_OPTION_ARRAY, cl->tls ? tls_opts : no_opts, MHD_OPTION_END);
        if (!l->d[k]) {
            log_msg(LOG_ERROR, "http: cannot start listener", "{s:s}", "listen", cl->address);
            return HG_EIO;
        }
        l->nd = k + 1;
        if (k == 0) {
            const union MHD_DaemonInfo *di =
                MHD_get_daemon_info(l->d[0], MHD_DAEMON_INFO_BIND_PORT);
            if (di)
                port = di->port;
        }
    }
    log_msg(LOG_INFO, "listening", "{s:s,s:s,s:i,s:s,s:i}", "listen", cl->address, "host", cl->host,
            "port", (int)port, "scheme", cl->tls ? "https" : "http", "threads", (int)threads);
    return HG_OK;
}

int http_start(const struct config *cfg, struct store *st, struct http **out)
{
    struct http *h = calloc(1, sizeof(*h));
    if (!h)
        return HG_ENOMEM;
    h->cfg = cfg;
    h->st = st;
    atomic_init(&h->conns, 0);
    h->ls = calloc(cfg->nlisteners, sizeof(*h->ls));
    if (!h->ls || canned_init(h)) {
        http_stop(h);
        return HG_ENOMEM;
    }
    h->nls = cfg->nlisteners;
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        if (start_listener(h, &cfg->listeners[i], &h->ls[i])) {
            http_stop(h);
            return HG_EIO;
        }
    }
    *out = h;
    return HG_OK;
}

void http_quiesce(struct http *h)
{
    for (size_t i = 0; h && i < h->nls; i++)
        for (unsigned k = 0; k < h->ls[i].nd; k++) {
            /* the listen socket is ours now: close it so that the kernel
             * refuses new connections instead of queueing them */
            MHD_socket fd = MHD_quiesce_daemon(h->ls[i].d[k]);
            if (fd != MHD_INVALID_SOCKET)
                close(fd);
        }
}

void http_wait_idle(struct http *h, int timeout_ms)
{
    for (int t = 0; h && atomic_load(&h->active) > 0 && t < timeout_ms; t += 10) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

void http_stop(struct http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nls; i++) {
        for (unsigned k = 0; k < h->ls[i].nd; k++) {
            MHD_stop_daemon(h->ls[i].d[k]);
            pool_free(&h->ls[i].ctx[k]);
        }
        free(h->ls[i].cert_pem);
        if (h->ls[i].key_pem)
            OPENSSL_cleanse(h->ls[i].key_pem, strlen(h->ls[i].key_pem));
        free(h->ls[i].key_pem);
    }
    free(h->ls);
    for (int i = 0; i < C_N; i++)
        if (h->canned[i])
            MHD_destroy_response(h->canned[i]);
    free(h);
}
