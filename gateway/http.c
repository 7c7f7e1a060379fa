/*
 * http.c - the request lifecycle: routing, the body, and the answers (see
 * http.h).  The admission checks made on the headers before any body byte
 * is read - client certificate, framing, rate, allow list, token,
 * max_connections, Content-Length - are in http_gate.c; the listeners -
 * daemons started, replaced on reload, stopped - in http_listen.c; the
 * connection list, its limits and the header deadline in http_conn.c; the
 * console's requests and the rejected ring's records in http_console.c;
 * http_int.h is what they share.
 *
 * Request state (struct req) is created on the first call of the access
 * handler - which sends nothing and decides 404/405/413/503 from the
 * headers alone, before any body byte is read, after refusing (400, closed)
 * a framing or target that a proxy could read differently (http_frame.h) -
 * and freed in exactly one
 * place, http_on_completed().  The body goes into a bounded buffer sized from
 * Content-Length; a body over max_body is a 413, never a truncation.
 *
 * Order of checks on a complete body: signature first (nothing about an
 * unauthenticated body is parsed beyond what the scheme needs), then one
 * validating JSON scan that also finds id/type/time (extract.c: a body that
 * is not JSON where the profile or its Content-Type says JSON, or that
 * repeats a key the profile reads, is a 400 and nothing is stored), then
 * the store.  Every refusal is one "request rejected" log line (with the
 * reason) and a {"error": TEXT} answer, TEXT from err.c's table.
 */
#include "http.h"
#include "benchknob.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "extract.h"
#include "fwd.h"
#include "http_budget.h"
#include "http_frame.h"
#include "http_rej.h"
#include "console.h"
#include "jscan.h"
#include "log.h"
#include "gauges.h"
#include "handshake.h"
#include "metrics.h"
#include "ratelimit.h"
#include "shdedupe.h"
#include "profile.h"
#include "store.h"

#include <malloc.h>
#include <microhttpd.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HTTP_CTYPE_MAX    255
#define HTTP_RESERVE_MAX  (64 << 10) /* body bytes reserved before they arrive */
#define HTTP_POOL_MAX     256        /* idle request states kept per thread */
#define HTTP_POOL_BUF_MAX (64 << 10) /* a larger body buffer is not kept */
#define HTTP_TRIM_MIN     (1 << 20)  /* freed request memory worth a malloc_trim */

enum phase { PH_READ = 0, PH_WAIT, PH_PROBE, PH_CONSOLE };

struct http;

/* Per-request state.  Everything before id is zeroed on reuse; body and
 * resp keep their allocations. */
struct req {
    struct http *h;
    struct dctx *dc;
    struct MHD_Connection *conn;
    const struct cfg_route *route;
    struct req *next_free;
    enum phase phase;
    int too_big;
    int64_t deadline_ms; /* request_timeout counted from the headers */
    int64_t t0_us;       /* body complete (monotonic), for the ack latency */
    uint64_t held;       /* bytes of unauthenticated_body_budget held (http_budget.h) */
    struct buf body;
    struct buf resp;
    struct buf hdrs; /* the request's headers, masked, kept with the event */
    struct store_item item;
    struct extract_result x; /* id, type, time: the event points into it */
};

#include "http_int.h"

/* fwd_hdrs - the forwarding headers of a request, every line of each in
 * the order received (MHD_lookup_connection_value gives only the first). */
struct fwd_hdrs {
    struct fwd_lines xff, fwd, proto, host;
};

/* fwd_header - MHD_get_connection_values' iterator collecting fwd_hdrs */
static enum MHD_Result fwd_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct fwd_hdrs *f = cls;
    (void)kind;
    if (!key)
        return MHD_YES;
    if (!strcasecmp(key, "X-Forwarded-For"))
        fwd_lines_add(&f->xff, value);
    else if (!strcasecmp(key, "Forwarded"))
        fwd_lines_add(&f->fwd, value);
    else if (!strcasecmp(key, "X-Forwarded-Proto"))
        fwd_lines_add(&f->proto, value);
    else if (!strcasecmp(key, "X-Forwarded-Host"))
        fwd_lines_add(&f->host, value);
    return MHD_YES;
}

/* client_of - who the current request on conn comes from: the TCP peer,
 * or, when the peer is one of its listener's trusted_proxies, the address
 * its forwarding headers name (fwd_client; headers it cannot use leave the
 * peer, and a rate-limited warning).  Worked out on first use in each
 * request and kept in the connection's record.  NULL for a connection
 * without a record: its listener, so whether to trust the peer, is
 * unknown, and callers treat the client as unknown (no address). */
static const struct http_client *client_of(struct MHD_Connection *conn)
{
    struct http_client *c = http_conn_client(conn);
    if (!c || c->known)
        return c;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *peer = ci ? ci->client_addr : NULL;
    const struct config *cfg = atomic_load(&c->h->cfg);
    const struct cfg_listener *l = c->li < cfg->nlisteners ? &cfg->listeners[c->li] : NULL;
    c->trusted = l && l->ntrusted && fwd_cidr_match(l->trusted, l->ntrusted, peer);
    if (c->trusted) {
        struct fwd_hdrs f;
        memset(&f, 0, sizeof(f));
        MHD_get_connection_values(conn, MHD_HEADER_KIND, fwd_header, &f);
        fwd_client(l->trusted, l->ntrusted, peer, &f.xff, &f.fwd, &c->addr, &c->why);
    } else {
        fwd_client(NULL, 0, peer, NULL, NULL, &c->addr, &c->why); /* the peer itself */
    }
    c->known = 1;
    if (c->why && log_enabled(LOG_WARN) && log_limit("", c->why)) {
        char ip[64];
        log_msg(LOG_WARN, "forwarding headers not usable: the proxy counts as the client",
                "{s:s,s:s}", "reason", c->why, "peer", http_addr_str(peer, ip, sizeof(ip)));
    }
    return c;
}

const struct sockaddr *http_client_addr(struct MHD_Connection *conn)
{
    const struct http_client *c = client_of(conn);
    return c ? (const struct sockaddr *)&c->addr : NULL;
}

static const char *client_ip(struct MHD_Connection *conn, char *out, size_t cap)
{
    return http_addr_str(http_client_addr(conn), out, cap);
}

int http_client_origin(struct MHD_Connection *conn, int tls, const char **scheme, char *out,
                       size_t cap)
{
    const struct http_client *c = client_of(conn);
    struct fwd_hdrs f;
    memset(&f, 0, sizeof(f));
    if (c && c->trusted)
        MHD_get_connection_values(conn, MHD_HEADER_KIND, fwd_header, &f);
    const char *why = NULL;
    return fwd_proto_host(c && c->trusted, &f.proto, &f.host, tls,
                          MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"), scheme, out,
                          cap, &why);
}

void http_log_reject(struct MHD_Connection *conn, const char *url, int err, const char *reason)
{
    http_log_refused(conn, url, err, reason, NULL);
}

void http_log_refused(struct MHD_Connection *conn, const char *url, int err, const char *reason,
                      const char *detail)
{
    if (!log_enabled(LOG_WARN))
        return;
    if (!reason)
        reason = hg_strerror(err);
    if (!log_limit(err == HG_ENOTFOUND ? "" : url, reason))
        return;
    char ip[64], path[256], via[64] = "";
    const struct http_client *c = client_of(conn);
    if (c && c->trusted) { /* "via": the trusted proxy it came through */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        http_addr_str(ci ? ci->client_addr : NULL, via, sizeof(via));
    }
    /* s*: a NULL value leaves its key out */
    log_msg(LOG_WARN, "request rejected", "{s:s,s:i,s:s,s:s*,s:s,s:s*}", "path",
            log_clean(url, path, sizeof(path)), "status", (int)hg_http_status(err), "reason",
            reason, "detail", detail, "client", client_ip(conn, ip, sizeof(ip)), "via",
            via[0] ? via : NULL);
}

enum MHD_Result http_queue_canned(struct http *h, struct MHD_Connection *conn, enum canned c,
                                  unsigned status)
{
    return MHD_queue_response(conn, status, h->canned[c]);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int http_route_index(const struct http *h, const struct cfg_route *rt)
{
    (void)h;
    return rt ? rt->mx : -1;
}

/* counted - a webhook answer for metrics (status, duplicate, ack latency) */
static void counted(struct req *r, unsigned status, int dup)
{
    metrics_request(http_route_index(r->h, r->route), status, dup);
    if (r->t0_us)
        metrics_ack((uint64_t)(mono_us() - r->t0_us));
}

/* queue_error_text - the JSON error answer for err (canned where one
 * exists); text (NULL: err's own, hg_strerror) is the "error" of an answer
 * built here, e.g. the repeated key of HG_EDUPKEY. */
static enum MHD_Result queue_error_text(struct req *r, int err, const char *text)
{
    unsigned status = hg_http_status(err);
    counted(r, status, 0);
    switch (err) {
    case HG_ENOTFOUND:
        return http_queue_canned(r->h, r->conn, C_404, status);
    case HG_EMETHOD:
        return http_queue_canned(r->h, r->conn, C_405, status);
    case HG_ETOOBIG:
        return http_queue_canned(r->h, r->conn, C_413, status);
    case HG_EBUSY:
    case HG_ESTOPPING:
        return http_queue_canned(r->h, r->conn, C_503_BUSY, status);
    default:
        break;
    }
    if (status == 503)
        return http_queue_canned(r->h, r->conn, C_503_STORE, status);
    if (!text)
        text = hg_strerror(err);
    buf_reset(&r->resp);
    if (buf_puts(&r->resp, "{\"error\":") || json_escape(&r->resp, text, strlen(text)) ||
        buf_puts(&r->resp, "}\n"))
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

/* queue_error - the JSON error answer for err, with err's own text. */
static enum MHD_Result queue_error(struct req *r, int err)
{
    return queue_error_text(r, err, NULL);
}

/* queue_stored - the answer once the writer is done with the item. */
static enum MHD_Result queue_stored(struct req *r)
{
    if (r->item.result)
        return queue_error(r, r->item.result);
    /* the producer's expected answer: Discord 204, Microsoft Graph 202 */
    const struct profile *p = r->route->profile;
    unsigned status = p->accept_status ? p->accept_status : MHD_HTTP_OK;
    counted(r, status, r->item.duplicate);
    if (log_enabled(LOG_DEBUG))
        log_msg(LOG_DEBUG, r->item.duplicate ? "duplicate" : "accepted", "{s:s,s:s%,s:I}", "route",
                r->route->name, "id", r->item.ev.id.p, r->item.ev.id.len, "seq",
                (json_int_t)r->item.seq);
    buf_reset(&r->resp);
    if (p->accept_empty) {
        struct MHD_Response *e = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result eret = e ? MHD_queue_response(r->conn, status, e) : MHD_NO;
        MHD_destroy_response(e);
        return eret;
    }
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
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_stored(struct store_item *it, void *arg)
{
    (void)it;
    struct req *r = arg;
    struct http *h = r->h;
    if (r->route && r->route->shd && !r->item.result && !r->item.duplicate &&
        r->item.kind == STORE_EVENT) {
        /* committed here: let the other instances know (after, never before) */
        const char *k = r->x.dedupe[0] ? r->x.dedupe : r->x.id;
        shdedupe_mark(r->route->shd, k, strlen(k));
    }
    /* MHD writes to the daemon's wake-up channel after the connection may
     * already be done: http_reap waits for this count before it stops a
     * replaced daemon */
    atomic_fetch_add(&h->resuming, 1);
    MHD_resume_connection(r->conn);
    atomic_fetch_sub(&h->resuming, 1);
}

/* submit - suspend first, then queue: the writer may resume at once. */
static enum MHD_Result submit(struct req *r)
{
    r->item.done = on_stored;
    r->item.arg = r;
    if (benchknob_store() == BK_NULL && r->item.kind == STORE_EVENT) { /* tests/bench: no store */
        r->item.result = HG_OK;
        r->item.duplicate = 0;
        r->item.seq = 0;
        return queue_stored(r);
    }
    MHD_suspend_connection(r->conn);
    int rc = store_submit(r->h->st, &r->item);
    if (rc) {
        r->item.result = rc;
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

const char *http_header(struct MHD_Connection *conn, const char *name)
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
    return http_header(ctx, name);
}

/* qarg - a decoded query parameter of an MHD connection (hs_lookup_fn). */
static const char *qarg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* process - the body is complete: verify, classify, extract, submit. */
static enum MHD_Result process(struct req *r, const char *url)
{
    const struct cfg_route *rt = r->route;
    const struct profile *p = rt->profile;
    struct MHD_Connection *c = r->conn;
    const char *body = r->body.p ? r->body.p : "";
    size_t blen = r->body.len;
    r->t0_us = mono_us();

    enum MHD_Result hret;
    if (http_hs_try(r->dc, c, rt, "POST", body, blen, &hret)) /* answered, never stored */
        return hret;
    /* header tokens, Basic credentials and unsigned routes were settled with
     * the headers */
    if ((p->fmt != PROF_FMT_TOKEN || p->token_pointer) && p->fmt != PROF_FMT_BASIC &&
        p->fmt != PROF_FMT_NONE) {
        const char *why = NULL;
        char expl[512];
        int rc =
            http_verify_explained(c, r->dc->tls, rt, "POST", body, blen, &why, expl, sizeof(expl));
        if (rc) {
            metrics_verify_fail(http_route_index(r->h, rt), why);
            http_log_refused(c, url, rc, why, expl);
            http_note_reject(r->h, c, rt, url, rc, expl, body, blen);
            return queue_error(r, rc);
        }
    }
    http_budget_give(r->h, r->held); /* authenticated now (or a route that takes it unsigned) */
    r->held = 0;
    const char *why = NULL;
    int rc = extract_event(rt, hdr, c, body, blen, &r->x, &why);
    if (rc) {
        const char *said = r->x.reason[0] ? r->x.reason : why ? why : hg_strerror(rc);
        http_log_refused(c, url, rc, why, said);
        http_note_reject(r->h, c, rt, url, rc, said, body, blen);
        /* a repeated key, or a refused id or type, is named: the producer's
         * own field, from the profile (extract.h: reason) */
        return queue_error_text(r, rc, r->x.reason[0] ? r->x.reason : NULL);
    }
    if (p->ntype_when) {
        struct hs_request q = {.method = "POST",
                               .body = body,
                               .body_len = blen,
                               .header = hdr,
                               .query = qarg,
                               .ctx = c};
        const char *t = handshake_type(p, &q);
        if (t)
            snprintf(r->x.type, sizeof(r->x.type), "%s", t);
    }
    const char *ct = http_header(c, "Content-Type");
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
    ev->headers = (struct event_str){"", 0};
    if (!http_rej_headers(c, p, &r->hdrs) && r->hdrs.len)
        ev->headers = (struct event_str){r->hdrs.p, r->hdrs.len};
    r->item.dedupe = (struct event_str){r->x.dedupe[0] ? r->x.dedupe : NULL, strlen(r->x.dedupe)};
    r->item.kind = STORE_EVENT;
    if (rt->shd) {
        /* another instance has committed it: answer duplicate, store nothing
         * (shdedupe.h: keys are written only after a commit) */
        const char *k = r->x.dedupe[0] ? r->x.dedupe : r->x.id;
        if (shdedupe_seen(rt->shd, k, strlen(k)) == 1) {
            r->item.duplicate = 1;
            r->item.result = HG_OK;
            return queue_stored(r);
        }
    }
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
        struct buf body = r->body, resp = r->resp, hdrs = r->hdrs;
        memset(r, 0, offsetof(struct req, x));
        r->x.id[0] = r->x.type[0] = r->x.time[0] = r->x.dedupe[0] = '\0';
        r->body = body;
        r->resp = resp;
        r->hdrs = hdrs;
        buf_reset(&r->body);
        r->body.max = atomic_load(&dc->h->cfg)->max_body; /* may change on reload */
        buf_reset(&r->resp);
    } else {
        if (!(r = calloc(1, sizeof(*r))))
            return NULL;
        buf_init(&r->body, atomic_load(&dc->h->cfg)->max_body);
        buf_init(&r->resp, 8192);
        buf_init(&r->hdrs, EVENT_HEADERS_MAX);
    }
    r->h = dc->h;
    r->dc = dc;
    r->conn = conn;
    atomic_fetch_add(&dc->h->active, 1);
    return r;
}

/* Bytes of request states freed (not kept on a free list) since the last
 * malloc_trim, all daemons. */
static _Atomic size_t freed_since_trim;

/* trim_after_burst - give the pages of freed request states back to the
 * system once a burst is over.  A burst of N concurrent requests (N idle
 * keep-alive clients each sending one) allocates N request states on the
 * daemon threads' malloc arenas, between the connections' libmicrohttpd
 * pools; the free lists keep HTTP_POOL_MAX per thread and the rest is
 * freed into holes glibc never returns (not at the top of a heap, so
 * M_TRIM_THRESHOLD does not apply): ~1.3 KiB per request, 13 MiB of RSS
 * after 10,000.  malloc_trim releases the whole pages inside free chunks
 * of every arena.  Only when no request is in flight anywhere and at least
 * HTTP_TRIM_MIN was freed, so a steady load neither pays for the walk nor
 * faults the pages back in. */
static void trim_after_burst(struct http *h, size_t freed)
{
    /* a kept state adds nothing: a plain load, no read-modify-write on a
     * line every daemon thread shares (the common case, per request) */
    size_t total =
        freed ? atomic_fetch_add_explicit(&freed_since_trim, freed, memory_order_relaxed) + freed
              : atomic_load_explicit(&freed_since_trim, memory_order_relaxed);
    if (total < HTTP_TRIM_MIN || atomic_load(&h->active) != 0)
        return;
    if (atomic_compare_exchange_strong(&freed_since_trim, &total, 0))
        malloc_trim(0);
}

/* req_release - back to the free list (bounded), or freed. */
static void req_release(struct dctx *dc, struct req *r)
{
    atomic_fetch_sub(&dc->h->active, 1);
    http_budget_give(dc->h, r->held);
    r->held = 0;
    if (dc->nfree < HTTP_POOL_MAX && r->body.cap <= HTTP_POOL_BUF_MAX) {
        r->next_free = dc->free;
        dc->free = r;
        dc->nfree++;
        /* the last request of a burst may well be one that is kept */
        trim_after_burst(dc->h, 0);
        return;
    }
    size_t freed = sizeof(*r) + r->body.cap + r->resp.cap + r->hdrs.cap;
    buf_free(&r->body);
    buf_free(&r->resp);
    buf_free(&r->hdrs);
    free(r);
    trim_after_burst(dc->h, freed);
}

void http_pool_free(struct dctx *dc)
{
    for (struct req *r = dc->free, *nx; r; r = nx) {
        nx = r->next_free;
        buf_free(&r->body);
        buf_free(&r->resp);
        buf_free(&r->hdrs);
        free(r);
    }
    dc->free = NULL;
    dc->nfree = 0;
}

/* queue_metrics - GET /metrics: the Prometheus text exposition. */
static enum MHD_Result queue_metrics(struct http *h, struct MHD_Connection *conn)
{
    struct buf b;
    buf_init(&b, 4u << 20);
    enum MHD_Result ret = MHD_NO;
    const struct config *cfg = atomic_load(&h->cfg);
    struct metrics_gauges g;
    int have = h->st && gauges_collect(cfg, h->st, &g) == HG_OK;
    if (metrics_render(&b, cfg, have ? &g : NULL) == HG_OK) {
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
        if (resp) {
            MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
            ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
            MHD_destroy_response(resp);
        }
    }
    buf_free(&b);
    return ret;
}

enum MHD_Result http_counted_canned(struct http *h, struct MHD_Connection *conn,
                                    const struct cfg_route *rt, enum canned c, unsigned status)
{
    metrics_request(http_route_index(h, rt), status, 0);
    return http_queue_canned(h, conn, c, status);
}

/* serve_ops - GET/HEAD /healthz, /readyz or /metrics (url is one of them):
 * the answer, or a 404 on a listener that does not serve it, or a 405. */
static enum MHD_Result serve_ops(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                                 const char *method, void **con_cls)
{
    struct http *h = dc->h;
    if (strcmp(url, "/healthz") && h->has_admin && !dc->admin)
        return http_queue_canned(h, conn, C_404, 404); /* served on the admin listener only */
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return http_queue_canned(h, conn, C_405_GET, 405);
    if (strcmp(url, "/healthz") == 0) /* liveness: only a store that needs a restart fails it */
        return store_broken(h->st) ? http_queue_canned(h, conn, C_HEALTH_BAD, 503)
                                   : http_queue_canned(h, conn, C_HEALTH_OK, 200);
    if (strcmp(url, "/metrics") == 0) {
        /* each scrape reads the store: it counts against the address's rate */
        unsigned retry_s = 1;
        if (h->rl && ratelimit_check(h->rl, http_client_addr(conn), time_now_ms(), &retry_s))
            return http_gate_queue_429(h, conn, retry_s);
        return queue_metrics(h, conn);
    }
    /* /readyz: a probe is an fsync'd write: answer from a fresh result
     * (< 1 s) so that /readyz cannot be used to make the disk work */
    if (time_now_ms() - atomic_load(&h->health_ok_ms) < 1000 && store_healthy(h->st))
        return http_queue_canned(h, conn, C_HEALTH_OK, 200);
    struct req *r = req_new(dc, conn);
    if (!r)
        return MHD_NO;
    *con_cls = r;
    r->phase = PH_PROBE;
    r->item.kind = STORE_PROBE;
    return submit(r);
}

/* budget_chunk - a streamed body grows by n bytes: 0, or 1 if it would
 * pass the unauthenticated body budget (logged: the connection is closed;
 * libmicrohttpd cannot answer in the middle of an upload). */
static int budget_chunk(struct req *r, size_t n)
{
    uint64_t limit = atomic_load(&r->h->cfg)->body_budget, total = r->body.len + n;
    if (r->too_big || !http_budget_applies(r->route) || total > r->body.max ||
        !http_budget_grow(r->h, limit, &r->held, total))
        return 0;
    http_budget_refused(r->h, limit);
    http_log_reject(r->conn, r->route->path, HG_EBUSY,
                    "unauthenticated_body_budget exhausted; connection closed");
    return 1;
}

/* first_call - headers are in, no body byte read yet: answer what the
 * headers settle, or create the request state that will read the body.
 * uri_why: why http_frame_on_uri refused the raw target, or NULL. */
static enum MHD_Result first_call(struct dctx *dc, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *uri_why,
                                  void **con_cls)
{
    struct http *h = dc->h;
    const struct config *cfg = atomic_load(&h->cfg); /* this request's config */
    http_conn_request_begin(conn);                   /* the header deadline no longer applies */
    if (dc->mtls && !http_gate_client_cert_ok(conn)) {
        char red[256];
        http_log_reject(conn, config_route_redact(cfg, url, red, sizeof(red)), HG_EFORBIDDEN,
                        "no valid client certificate (tls.client_ca)");
        metrics_request(-1, 403, 0);
        return http_queue_canned(h, conn, C_403, 403);
    }
    enum MHD_Result ret = MHD_NO;
    if (http_gate_refuse_frame(h, conn, cfg, url, version, uri_why, &ret))
        return ret;
    int ops = !strcmp(url, "/healthz") || !strcmp(url, "/readyz") || !strcmp(url, "/metrics");
    if (ops)
        return serve_ops(dc, conn, url, method, con_cls);
    if (dc->admin && console_path(url)) {
        if (!console_wants_body(url, method))
            return http_console_call(dc, conn, url, method, NULL, 0);
        if (http_console_admit(dc, conn, url, method, &ret))
            return ret;                    /* refused on its headers: no body byte is read */
        struct req *r = req_new(dc, conn); /* the body of a POST to the API first */
        if (!r)
            return MHD_NO;
        r->phase = PH_CONSOLE;
        /* a sign-in comes before any credential: its own small limit, and
         * like every console body it must arrive within request_timeout */
        r->body.max = strcmp(url, "/api/login") ? CONSOLE_BODY_MAX : CONSOLE_LOGIN_MAX;
        r->deadline_ms = time_now_ms() + (int64_t)cfg->request_timeout_ms;
        *con_cls = r;
        return MHD_YES;
    }
    if (dc->admin)
        return http_queue_canned(h, conn, C_404, 404); /* the admin listener has no routes */
    const char *tok = NULL;
    const struct cfg_route *rt = config_route_match(cfg, url, &tok);
    if (!rt) {
        char red[256];
        http_log_reject(conn, config_route_redact(cfg, url, red, sizeof(red)), HG_ENOTFOUND, NULL);
        metrics_request(-1, 404, 0);
        return http_queue_canned(h, conn, C_404, 404);
    }
    if (strcmp(method, "POST") != 0) {
        if (rt->profile->nhs && (http_gate_refuse_rate_allow(h, conn, rt, &ret) ||
                                 http_hs_try(dc, conn, rt, method, NULL, 0, &ret)))
            return ret; /* a GET or HEAD registration handshake, answered (or refused) */
        http_log_reject(conn, rt->path, HG_EMETHOD, NULL);
        return http_counted_canned(h, conn, rt, C_405, 405);
    }
    unsigned long long len = 0;
    if (http_gate_refuse_access(h, conn, rt, tok, cfg, &ret) ||
        http_gate_refuse_length(h, conn, rt, cfg, &len, &ret))
        return ret;
    uint64_t held = 0; /* a large body not yet authenticated: within the budget, or 503 */
    if (http_budget_applies(rt) && http_budget_grow(h, cfg->body_budget, &held, len)) {
        http_budget_refused(h, cfg->body_budget);
        http_log_reject(conn, rt->path, HG_EBUSY, "unauthenticated_body_budget exhausted");
        return http_counted_canned(h, conn, rt, C_503_BUSY, 503);
    }
    struct req *r = req_new(dc, conn);
    if (!r) {
        http_budget_give(h, held);
        return MHD_NO;
    }
    r->held = held;
    r->route = rt;
    r->deadline_ms = time_now_ms() + (int64_t)cfg->request_timeout_ms;
    /* reserve up front only what a small body needs: a slow client must not
     * pin max_body of memory before sending it */
    if (len && buf_reserve(&r->body, (size_t)(len < HTTP_RESERVE_MAX ? len : HTTP_RESERVE_MAX))) {
        req_release(dc, r);
        return MHD_NO;
    }
    *con_cls = r;
    return MHD_YES;
}

enum MHD_Result http_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct dctx *dc = cls;
    struct http *h = dc->h;
    /* a reason left by http_frame_on_uri is not a request state: nothing to free */
    const char *uri_why = http_frame_reason(*con_cls);
    if (uri_why)
        *con_cls = NULL;
    struct req *r = *con_cls;
    if (!r)
        return first_call(dc, conn, url, method, version, uri_why, con_cls);
    switch (r->phase) {
    case PH_CONSOLE:
        if (*upload_size) {
            /* too slow, or (chunked) past the limit: closed, as a route's
             * body is - never read to its end, however long it takes */
            if (time_now_ms() > r->deadline_ms) {
                http_log_reject(conn, url, HG_EBUSY,
                                "request_timeout: body too slow; connection closed");
                return MHD_NO;
            }
            if (buf_append(&r->body, upload, *upload_size)) {
                http_log_reject(conn, url, HG_ETOOBIG,
                                "streamed console body over its limit; connection closed");
                return MHD_NO;
            }
            *upload_size = 0;
            return MHD_YES;
        }
        return http_console_call(dc, conn, url, method, r->body.p ? r->body.p : "", r->body.len);
    case PH_PROBE:
        if (!r->item.result && store_healthy(h->st)) {
            atomic_store(&h->health_ok_ms, time_now_ms());
            return http_queue_canned(h, conn, C_HEALTH_OK, 200);
        }
        return http_queue_canned(h, conn, C_HEALTH_BAD, 503);
    case PH_WAIT:
        return queue_stored(r);
    case PH_READ:
        break;
    }
    if (*upload_size) {
        if (time_now_ms() > r->deadline_ms) {
            http_log_reject(conn, r->route->path, HG_EBUSY,
                            "request_timeout: body too slow; connection closed");
            return MHD_NO;
        }
        if (budget_chunk(r, *upload_size))
            return MHD_NO; /* a streamed body past the budget: as past max_body */
        if (!r->too_big && buf_append(&r->body, upload, *upload_size))
            r->too_big = 1;
        *upload_size = 0;
        if (r->too_big) {
            /* chunked body over max_body: MHD cannot answer mid-upload, so
             * the connection is closed rather than the body read to its end */
            http_log_reject(conn, r->route->path, HG_ETOOBIG,
                            "streamed body over max_body; connection closed");
            return MHD_NO;
        }
        return MHD_YES;
    }
    return process(r, r->route->path);
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
    http_conn_request_end(conn);
    struct req *r = *con_cls;
    if (!r || http_frame_reason(r)) { /* http_frame_on_uri's mark: headers never completed */
        *con_cls = NULL;
        return;
    }
    if (r->phase == PH_READ && r->route && toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        http_log_reject(conn, r->route->path, HG_EBUSY,
                        "request_timeout: body incomplete; connection closed");
    req_release(cls, r);
    *con_cls = NULL;
}

void http_on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (log_limit("", "http")) /* malformed requests: a client's to repeat */
        log_msg(LOG_WARN, "http", "{s:s}", "detail", msg);
}
