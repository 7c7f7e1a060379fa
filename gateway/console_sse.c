/*
 * console_sse.c - the live tail: GET /api/stream as Server-Sent Events
 * (see console.h, docs/console.md).
 *
 * A stream is a libmicrohttpd response read through a callback.  When it
 * has nothing to send, the callback suspends its connection and returns 0
 * (libmicrohttpd's way of waiting without a busy loop); the console's
 * thread resumes every suspended stream after each commit and at least
 * once a second, and the callback then sends the events committed since
 * (each with "id: SEQ", so a reconnecting EventSource resumes with
 * Last-Event-ID), new rejections, or a keep-alive comment every 15 s.
 *
 * Lock order: sse_lock, then libmicrohttpd's own (MHD_resume_connection
 * and MHD_suspend_connection are called under sse_lock; libmicrohttpd
 * never calls us back while holding its lock).  A stream is unlinked and
 * freed only by its response's free callback, on its daemon's thread; a
 * suspended stream cannot be freed, so the thread may resume it safely.
 * Before a daemon is stopped, console_sse_end makes its streams end.
 *
 * A stream keeps how it was let in (the session cookie's digest, or the
 * bearer token's) and, at every call of its callback - each wake-up, each
 * block sent, so at least once a second - ends cleanly (the chunked
 * response's end, then the connection is closed) once that would no longer
 * let it in: a sign-out, an expired or dropped session, a new admin.token.
 */
#include "console.h"
#include "console_int.h"
#include "buf.h"
#include "codec.h"
#include "err.h"
#include "event.h"
#include "store.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SSE_PING_MS   15000
#define SSE_BACKLOG   1000 /* events sent again after a reconnect, at most */
#define SSE_BATCH     100  /* events per fill */
#define SSE_REJ_BATCH 50
#define SSE_BUF_MAX   (4u << 20)

struct sse {
    struct sse *next;
    struct console *c;
    struct MHD_Connection *conn;
    const void *daemon;
    uint64_t seq;   /* the last event sent */
    uint64_t rej;   /* the last rejection sent */
    enum auth auth; /* how it was let in (console_cred_live) */
    unsigned char cred[32];
    int suspended;      /* (sse_lock) */
    atomic_int closing; /* its daemon is stopping */
    int64_t ping_ms;
    struct buf out;
    size_t off;
};

/* on_event - one committed event as an SSE message. */
static int on_event(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct sse *s = arg;
    struct event ev;
    s->seq = seq;
    if (event_rec_parse(rec, len, &ev))
        return 0;
    char when[40];
    time_format_ms(ev.received_ms, when, sizeof(when));
    int rc = buf_printf(&s->out, "id: %llu\nevent: event\ndata: {\"seq\":%llu,\"id\":",
                        (unsigned long long)seq, (unsigned long long)seq);
    if (!rc)
        rc = json_escape(&s->out, ev.id.p, ev.id.len);
    if (!rc)
        rc = buf_puts(&s->out, ",\"type\":");
    if (!rc)
        rc = json_escape(&s->out, ev.type.p, ev.type.len);
    if (!rc)
        rc = buf_puts(&s->out, ",\"route\":");
    if (!rc)
        rc = json_escape(&s->out, ev.route.p, ev.route.len);
    if (!rc)
        rc = buf_printf(&s->out, ",\"received\":\"%s\",\"size\":%zu}\n\n", when, ev.body.len);
    return rc != 0;
}

struct rej_pick {
    uint64_t after;
    uint64_t id[SSE_REJ_BATCH];
    char *json[SSE_REJ_BATCH];
    size_t n;
};

/* on_rej - newest first: keep those after the last one sent. */
static int on_rej(void *arg, uint64_t id, int64_t time_ms, const char *json, size_t len)
{
    struct rej_pick *p = arg;
    (void)time_ms;
    if (id <= p->after || p->n == SSE_REJ_BATCH)
        return 1;
    p->id[p->n] = id;
    p->json[p->n++] = strndup(json, len);
    return 0;
}

/* add_rejections - the rejections since the last one sent, oldest first:
 * their time, route, status and reason. */
static void add_rejections(struct sse *s)
{
    struct console *c = s->c;
    if (atomic_load(&c->rej_newest) <= s->rej)
        return;
    struct rej_pick p = {.after = s->rej};
    store_reject_scan(c->st, 0, on_rej, &p);
    for (size_t i = p.n; i-- > 0;) {
        json_t *j = p.json[i] ? json_loads(p.json[i], 0, NULL) : NULL;
        json_t *o = j ? json_pack("{sI,sO?,sO?,sO?,sO?}", "id", (json_int_t)p.id[i], "time",
                                  json_object_get(j, "time"), "route", json_object_get(j, "route"),
                                  "status", json_object_get(j, "status"), "reason",
                                  json_object_get(j, "reason"))
                      : NULL;
        char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (d)
            buf_printf(&s->out, "event: rejected\ndata: %s\n\n", d);
        free(d);
        json_decref(o);
        json_decref(j);
        free(p.json[i]);
        s->rej = p.id[i] > s->rej ? p.id[i] : s->rej;
    }
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct sse *s = cls;
    (void)pos;
    if (!console_cred_live(s->c, s->auth, s->cred))
        return MHD_CONTENT_READER_END_OF_STREAM; /* signed out, expired, or a new token */
    if (s->off == s->out.len) {
        buf_reset(&s->out);
        s->off = 0;
        if (atomic_load(&s->closing))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->c->st && store_last_seq(s->c->st) > s->seq)
            store_scan(s->c->st, s->seq, SSE_BATCH, on_event, s);
        if (s->c->st)
            add_rejections(s);
        int64_t now = time_now_ms();
        if (!s->out.len && now >= s->ping_ms)
            buf_puts(&s->out, ": ping\n\n");
        if (s->out.len)
            s->ping_ms = now + SSE_PING_MS;
    }
    if (s->off == s->out.len) {
        pthread_mutex_lock(&s->c->sse_lock);
        s->suspended = 1;
        MHD_suspend_connection(s->conn);
        pthread_mutex_unlock(&s->c->sse_lock);
        return 0;
    }
    size_t n = s->out.len - s->off < max ? s->out.len - s->off : max;
    memcpy(out, s->out.p + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse *s = cls;
    struct console *c = s->c;
    pthread_mutex_lock(&c->sse_lock);
    for (struct sse **p = &c->streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    c->nstreams--;
    pthread_mutex_unlock(&c->sse_lock);
    buf_free(&s->out);
    OPENSSL_cleanse(s->cred, sizeof(s->cred));
    free(s);
}

/* first_seq - where a stream starts: after Last-Event-ID (at most
 * SSE_BACKLOG back), else after the newest event. */
static uint64_t first_seq(const struct console_ctx *x, uint64_t last)
{
    const char *h = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Last-Event-ID");
    char *end;
    if (!h || !*h)
        return last;
    unsigned long long v = strtoull(h, &end, 10);
    if (*end || v >= last)
        return last;
    return last - v > SSE_BACKLOG ? last - SSE_BACKLOG : (uint64_t)v;
}

/* newest_rej - the newest rejected id (one step of a newest-first scan). */
static int newest_rej(void *arg, uint64_t id, int64_t time_ms, const char *json, size_t len)
{
    (void)time_ms;
    (void)json;
    (void)len;
    *(uint64_t *)arg = id;
    return 1;
}

enum MHD_Result console_sse_open(struct console *c, const struct console_ctx *x, enum auth a,
                                 const unsigned char cred_sha[32])
{
    if (!c->st)
        return console_error(x->conn, 503, "no store");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(x->conn, MHD_CONNECTION_INFO_DAEMON);
    struct sse *s = calloc(1, sizeof(*s));
    if (!s || !ci)
        return free(s), MHD_NO;
    s->c = c;
    s->conn = x->conn;
    s->daemon = ci->daemon;
    s->auth = a;
    memcpy(s->cred, cred_sha, sizeof(s->cred));
    s->seq = first_seq(x, store_last_seq(c->st));
    store_reject_scan(c->st, 0, newest_rej, &s->rej); /* only those from now on */
    s->ping_ms = 0; /* a first comment at once: the client sees the stream open */
    buf_init(&s->out, SSE_BUF_MAX);
    pthread_mutex_lock(&c->sse_lock);
    int full = c->nstreams >= CONSOLE_STREAMS;
    if (!full) {
        s->next = c->streams;
        c->streams = s;
        c->nstreams++;
    }
    pthread_mutex_unlock(&c->sse_lock);
    if (full) {
        buf_free(&s->out);
        free(s);
        return console_error(x->conn, 503, "too many live tails open (16)");
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, s, sse_free);
    if (!r) {
        sse_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    MHD_add_response_header(r, "Connection", "close"); /* once it ends, nothing follows */
    enum MHD_Result ret = MHD_queue_response(x->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r); /* the connection holds it; sse_free runs when it is done */
    return ret;
}

void console_sse_tick(struct console *c)
{
    pthread_mutex_lock(&c->sse_lock);
    int any = c->streams != NULL;
    pthread_mutex_unlock(&c->sse_lock);
    if (!any)
        return;
    uint64_t r = 0;
    if (c->st)
        store_reject_scan(c->st, 0, newest_rej, &r);
    atomic_store(&c->rej_newest, r);
    console_sse_kick(c);
}

void console_sse_kick(struct console *c)
{
    pthread_mutex_lock(&c->sse_lock);
    for (struct sse *s = c->streams; s; s = s->next)
        if (s->suspended) {
            s->suspended = 0;
            MHD_resume_connection(s->conn);
        }
    pthread_mutex_unlock(&c->sse_lock);
}

void console_sse_end(struct console *c, const void *d)
{
    if (!c)
        return;
    for (int t = 0; t < 200; t++) {
        int left = 0;
        pthread_mutex_lock(&c->sse_lock);
        for (struct sse *s = c->streams; s; s = s->next) {
            if (s->daemon != d)
                continue;
            left = 1;
            atomic_store(&s->closing, 1);
            if (s->suspended) {
                s->suspended = 0;
                MHD_resume_connection(s->conn);
            }
        }
        pthread_mutex_unlock(&c->sse_lock);
        if (!left)
            return;
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
}

void console_sse_free(struct console *c)
{
    (void)c; /* every stream ended with its daemon (console_sse_end) */
}
