/*
 * console_api.c - the console's JSON answers (docs/console.md, "The API").
 *
 * Everything here is read from the store (events, cursors, dead letters,
 * the rejected ring), the metrics registry, the delivery state
 * (sinkstate.h) and the history; the only writes are replay requests,
 * which go through the checkpointer like the CLI's.  Events are listed
 * newest first by scanning the store backwards in chunks of LIST_CHUNK
 * seqs, at most CONSOLE_LIST_SCAN_MAX per call (next_before says where to go on).
 *
 * What is shown of an event: its attributes, its envelope as delivered,
 * and the headers kept with it, which were masked when they arrived
 * (http_rej.h); nothing here can show a credential the store never held.
 * The rejected ring, the sinks, the routes and send-test are answered by
 * console_ops.c; this file has the events and the dispatch, and the small
 * helpers both use (console_api_*, declared in console_int.h).
 */
#include "console.h"
#include "console_int.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "history.h"
#include "log.h"
#include "sinkstate.h"
#include "store.h"

#include <fnmatch.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define LIST_CHUNK   256
#define LIST_MAX     200
#define ENVELOPE_MAX (256u << 10) /* a larger body is left out of the event's page */

/* ---- helpers ---- */

enum MHD_Result console_api_answer(const struct console_ctx *x, unsigned status, struct buf *b,
                                   int rc)
{
    enum MHD_Result ret = rc ? console_error(x->conn, 500, "out of memory")
                             : console_answer(x->conn, status, NULL, b);
    buf_free(b);
    return ret;
}

long console_api_limit(const struct console_ctx *x)
{
    const char *s = console_query(x, "limit");
    long n = s ? strtol(s, NULL, 10) : 50;
    return n < 1 ? 1 : n > LIST_MAX ? LIST_MAX : n;
}

uint64_t console_api_u64(const char *s)
{
    return s ? strtoull(s, NULL, 10) : 0;
}

const struct cfg_route *console_api_route(const struct config *cfg, const char *name, size_t len)
{
    for (size_t i = 0; i < cfg->nroutes; i++)
        if (strlen(cfg->routes[i].name) == len && !memcmp(cfg->routes[i].name, name, len))
            return &cfg->routes[i];
    return NULL;
}

static const struct cfg_sink *sink_named(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsinks; i++)
        if (!strcmp(cfg->sinks[i].name, name))
            return &cfg->sinks[i];
    return NULL;
}

/* feeds - 1 if sink si receives events of route rt with type (len tl),
 * 2 if it does but its "types" leave this one out, 0 if not. */
static int feeds(const struct config *cfg, const struct cfg_route *rt, size_t si, const char *type,
                 size_t tl)
{
    int fed = 0;
    for (size_t k = 0; rt && k < rt->nsinks; k++)
        fed |= rt->sinks[k] == si;
    if (!fed)
        return 0;
    const struct cfg_sink *s = &cfg->sinks[si];
    if (!s->types)
        return 1;
    char t[EVENT_STR_MAX + 1];
    memcpy(t, type, tl < EVENT_STR_MAX ? tl : EVENT_STR_MAX);
    t[tl < EVENT_STR_MAX ? tl : EVENT_STR_MAX] = '\0';
    for (char **g = s->types; *g; g++)
        if (!fnmatch(*g, t, 0))
            return 1;
    return 2;
}

/* state - a sink's state for event seq (cursor: the sink's cursor). */
static const char *state(struct store *st, const struct cfg_sink *s, uint64_t seq, uint64_t cursor,
                         int fed)
{
    if (fed == 2)
        return "filtered";
    struct sinkstate ss;
    sinkstate_get(s->mx, &ss);
    if (ss.seq == seq)
        return "retrying";
    if (store_dead_has(st, s->name, seq))
        return "dead";
    return seq <= cursor ? "delivered" : "pending";
}

/* ---- GET /api/events ---- */

struct list {
    struct console *c;
    const struct config *cfg;
    const char *route, *type, *id, *want;
    int64_t since, until;
    uint64_t cursors[256];
    uint64_t hi; /* this chunk's last seq: a scan past a gap (pruned events) stops there */
    /* this chunk's matches, in seq order */
    char *item[LIST_CHUNK];
    uint64_t seq[LIST_CHUNK];
    size_t n;
    int older; /* an event older than since was met: nothing older can match */
};

static int type_match(const char *want, const struct event_str *t)
{
    size_t wl = strlen(want);
    if (wl && want[wl - 1] == '*')
        return t->len >= wl - 1 && !memcmp(t->p, want, wl - 1);
    return t->len == wl && !memcmp(t->p, want, wl);
}

/* item - one event of a list as JSON (its sinks' states), or NULL when
 * the state filter leaves it out. */
static char *item(struct list *l, uint64_t seq, const struct event *ev)
{
    const struct cfg_route *rt = console_api_route(l->cfg, ev->route.p, ev->route.len);
    struct buf b;
    buf_init(&b, 64 << 10);
    char when[40];
    time_format_ms(ev->received_ms, when, sizeof(when));
    int rc = buf_printf(&b, "{\"seq\":%llu,\"id\":", (unsigned long long)seq);
    rc = rc ? rc : json_escape(&b, ev->id.p, ev->id.len);
    rc = rc ? rc : buf_puts(&b, ",\"type\":");
    rc = rc ? rc : json_escape(&b, ev->type.p, ev->type.len);
    rc = rc ? rc : buf_puts(&b, ",\"route\":");
    rc = rc ? rc : json_escape(&b, ev->route.p, ev->route.len);
    rc = rc ? rc : buf_printf(&b, ",\"received\":\"%s\",\"time\":", when);
    rc = rc ? rc : json_escape(&b, ev->time.p, ev->time.len);
    rc = rc ? rc : buf_printf(&b, ",\"size\":%zu,\"sinks\":{", ev->body.len);
    int pending = 0, dead = 0, first = 1;
    for (size_t i = 0; rt && i < l->cfg->nsinks && i < 256 && !rc; i++) {
        int fed = feeds(l->cfg, rt, i, ev->type.p, ev->type.len);
        if (!fed)
            continue;
        const char *s = state(l->c->st, &l->cfg->sinks[i], seq, l->cursors[i], fed);
        pending |= !strcmp(s, "pending") || !strcmp(s, "retrying");
        dead |= !strcmp(s, "dead");
        rc = buf_puts(&b, first ? "" : ",");
        rc = rc ? rc : json_escape(&b, l->cfg->sinks[i].name, strlen(l->cfg->sinks[i].name));
        rc = rc ? rc : buf_printf(&b, ":\"%s\"", s);
        first = 0;
    }
    rc = rc ? rc : buf_puts(&b, "}}");
    int keep = !l->want || (!strcmp(l->want, "pending") && pending) ||
               (!strcmp(l->want, "dead") && dead) ||
               (!strcmp(l->want, "delivered") && !pending && !dead);
    if (rc || !keep) {
        buf_free(&b);
        return NULL;
    }
    return b.p; /* the buffer's memory, NUL-terminated */
}

static int on_list(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct list *l = arg;
    struct event ev;
    if (seq > l->hi)
        return 1;
    if (event_rec_parse(rec, len, &ev))
        return 0;
    if (l->since && ev.received_ms < l->since) {
        l->older = 1;
        return 0;
    }
    if ((l->until && ev.received_ms > l->until) ||
        (l->route &&
         (ev.route.len != strlen(l->route) || memcmp(ev.route.p, l->route, ev.route.len))) ||
        (l->type && !type_match(l->type, &ev.type)) ||
        (l->id && (ev.id.len != strlen(l->id) || memcmp(ev.id.p, l->id, ev.id.len))))
        return 0;
    char *it = item(l, seq, &ev);
    if (it && l->n < LIST_CHUNK) {
        l->item[l->n] = it;
        l->seq[l->n++] = seq;
    } else {
        free(it);
    }
    return 0;
}

static int list_filters(const struct console_ctx *x, struct list *l)
{
    const char *s;
    l->route = console_query(x, "route");
    l->type = console_query(x, "type");
    l->id = console_query(x, "id");
    l->want = console_query(x, "state");
    if (l->want && strcmp(l->want, "pending") && strcmp(l->want, "delivered") &&
        strcmp(l->want, "dead"))
        return console_error(x->conn, 400, "state: pending, delivered or dead"), 1;
    if ((s = console_query(x, "since")) && console_time_arg(s, &l->since))
        return console_error(x->conn, 400, "since: RFC 3339 (UTC) or unix seconds"), 1;
    if ((s = console_query(x, "until")) && console_time_arg(s, &l->until))
        return console_error(x->conn, 400, "until: RFC 3339 (UTC) or unix seconds"), 1;
    for (size_t i = 0; i < l->cfg->nsinks && i < 256; i++)
        store_cursor_get(l->c->st, l->cfg->sinks[i].name, &l->cursors[i]);
    return 0;
}

static enum MHD_Result list_events(struct console *c, const struct console_ctx *x)
{
    struct list *l = calloc(1, sizeof(*l));
    if (!l)
        return MHD_NO;
    l->c = c;
    l->cfg = x->cfg;
    if (list_filters(x, l)) {
        free(l);
        return MHD_YES;
    }
    long limit = console_api_limit(x), n = 0;
    uint64_t before = console_api_u64(console_query(x, "before")), last = store_last_seq(c->st);
    uint64_t hi = before && before - 1 < last ? before - 1 : last, scanned = 0;
    if (l->id) { /* one event at most: its seq from the dedupe index */
        uint64_t seq = 0;
        store_find_id(c->st, l->id, &seq);
        hi = seq && seq <= hi ? seq : 0;
    }
    struct buf b;
    buf_init(&b, 16u << 20);
    int rc = buf_puts(&b, "{\"events\":[");
    while (hi > 0 && n < limit && scanned < CONSOLE_LIST_SCAN_MAX && !l->older && !rc) {
        uint64_t lo = hi > LIST_CHUNK ? hi - LIST_CHUNK : 0;
        l->n = 0;
        l->hi = hi;
        if (store_scan(c->st, lo, (size_t)(hi - lo), on_list, l)) {
            rc = HG_ESTORE;
            break;
        }
        scanned += hi - lo;
        size_t i = l->n;
        for (; i > 0 && n < limit && !rc; i--, n++) {
            rc = buf_printf(&b, "%s%s", n ? "," : "", l->item[i - 1]);
            hi = l->seq[i - 1] - 1; /* the next page starts below it */
        }
        for (size_t k = 0; k < l->n; k++)
            free(l->item[k]);
        if (i == 0)
            hi = lo;
        if (l->id)
            break;
    }
    if (!rc) {
        if (hi > 0 && !l->older && !l->id)
            rc = buf_printf(&b, "],\"next_before\":%llu", (unsigned long long)hi + 1);
        else
            rc = buf_puts(&b, "],\"next_before\":null");
    }
    if (!rc)
        rc = buf_printf(&b, ",\"scanned\":%llu}\n", (unsigned long long)scanned);
    free(l);
    if (rc == HG_ESTORE) {
        buf_free(&b);
        return console_error(x->conn, 503, "the store cannot be read");
    }
    return console_api_answer(x, 200, &b, rc);
}

/* ---- GET /api/events/{seq}[/raw] ---- */

struct one {
    uint64_t seq;
    void *rec;
    size_t len;
};

static int on_one(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct one *o = arg;
    if (seq == o->seq && (o->rec = malloc(len ? len : 1))) {
        memcpy(o->rec, rec, len);
        o->len = len;
    }
    return 1;
}

/* load - event seq's record (malloc'd into o->rec) and parsed into ev. */
static int load(struct store *st, uint64_t seq, struct one *o, struct event *ev)
{
    memset(o, 0, sizeof(*o));
    o->seq = seq;
    if (!seq || store_scan(st, seq - 1, 1, on_one, o) || !o->rec)
        return HG_ENOTFOUND;
    if (event_rec_parse(o->rec, o->len, ev)) {
        free(o->rec);
        return HG_ENOTFOUND;
    }
    return HG_OK;
}

struct dead_find {
    uint64_t seq;
    unsigned attempts;
    int64_t time_ms;
    char err[256];
    int found;
};

static int on_dead_find(void *arg, const char *sink, uint64_t seq, unsigned attempts,
                        int64_t time_ms, const char *err)
{
    struct dead_find *d = arg;
    (void)sink;
    if (seq != d->seq)
        return 0;
    d->found = 1;
    d->attempts = attempts;
    d->time_ms = time_ms;
    snprintf(d->err, sizeof(d->err), "%s", err ? err : "");
    return 1;
}

/* sink_detail - one sink's entry on an event's page. */
static int sink_detail(struct console *c, const struct cfg_sink *s, uint64_t seq, int fed,
                       struct buf *b)
{
    uint64_t cursor = 0;
    store_cursor_get(c->st, s->name, &cursor);
    const char *st = state(c->st, s, seq, cursor, fed);
    int rc = buf_puts(b, "{\"name\":");
    rc = rc ? rc : json_escape(b, s->name, strlen(s->name));
    rc = rc ? rc : buf_printf(b, ",\"state\":\"%s\"", st);
    char when[40];
    if (!strcmp(st, "retrying")) {
        struct sinkstate ss;
        sinkstate_get(s->mx, &ss);
        time_format_ms(ss.next_ms, when, sizeof(when));
        rc = rc ? rc
                : buf_printf(b, ",\"attempts\":%u,\"next_attempt\":\"%s\",\"last_error\":",
                             ss.attempts, when);
        rc = rc ? rc : json_escape(b, ss.err, strlen(ss.err));
    } else if (!strcmp(st, "dead")) {
        struct dead_find d = {.seq = seq};
        store_dead_get(c->st, s->name, seq, on_dead_find, &d);
        time_format_ms(d.time_ms, when, sizeof(when));
        rc = rc ? rc
                : buf_printf(b, ",\"attempts\":%u,\"dead_at\":\"%s\",\"last_error\":", d.attempts,
                             when);
        rc = rc ? rc : json_escape(b, d.err, strlen(d.err));
    } else if (!strcmp(st, "delivered")) {
        unsigned a = sinkstate_attempts(s->mx, seq);
        rc = rc ? rc : buf_printf(b, ",\"attempts\":%u", a ? a : 1);
    }
    return rc ? rc : buf_puts(b, "}");
}

/* headers - "Name: value\n" lines as [["Name","value"],...] */
static int headers(const struct event_str *h, struct buf *b)
{
    int rc = buf_puts(b, "["), first = 1;
    for (size_t i = 0; i < h->len && !rc;) {
        const char *s = h->p + i, *nl = memchr(s, '\n', h->len - i);
        size_t n = nl ? (size_t)(nl - s) : h->len - i;
        const char *colon = memchr(s, ':', n);
        if (colon) {
            size_t vo = (size_t)(colon - s) + 1 + ((size_t)(colon - s) + 1 < n && colon[1] == ' ');
            rc = buf_puts(b, first ? "[" : ",[");
            rc = rc ? rc : json_escape(b, s, (size_t)(colon - s));
            rc = rc ? rc : buf_puts(b, ",");
            rc = rc ? rc : json_escape(b, s + vo, n - vo);
            rc = rc ? rc : buf_puts(b, "]");
            first = 0;
        }
        i += n + 1;
    }
    return rc ? rc : buf_puts(b, "]");
}

static enum MHD_Result show_event(struct console *c, const struct console_ctx *x, uint64_t seq)
{
    struct one o;
    struct event ev;
    if (load(c->st, seq, &o, &ev))
        return console_error(x->conn, 404, "no event with this seq");
    struct buf b;
    buf_init(&b, 64u << 20);
    char when[40];
    time_format_ms(ev.received_ms, when, sizeof(when));
    int trunc = ev.body.len > ENVELOPE_MAX;
    int rc = buf_printf(&b, "{\"seq\":%llu,\"id\":", (unsigned long long)seq);
    rc = rc ? rc : json_escape(&b, ev.id.p, ev.id.len);
    rc = rc ? rc : buf_puts(&b, ",\"type\":");
    rc = rc ? rc : json_escape(&b, ev.type.p, ev.type.len);
    rc = rc ? rc : buf_puts(&b, ",\"route\":");
    rc = rc ? rc : json_escape(&b, ev.route.p, ev.route.len);
    rc = rc ? rc : buf_puts(&b, ",\"source\":");
    rc = rc ? rc : json_escape(&b, ev.source.p, ev.source.len);
    rc = rc ? rc : buf_printf(&b, ",\"received\":\"%s\",\"time\":", when);
    rc = rc ? rc : json_escape(&b, ev.time.p, ev.time.len);
    rc = rc ? rc : buf_puts(&b, ",\"content_type\":");
    rc = rc ? rc : json_escape(&b, ev.ctype.p, ev.ctype.len);
    rc = rc ? rc
            : buf_printf(&b, ",\"size\":%zu,\"truncated\":%s,\"raw\":\"/api/events/%llu/raw\"",
                         ev.body.len, trunc ? "true" : "false", (unsigned long long)seq);
    rc = rc ? rc : buf_puts(&b, ",\"envelope\":");
    if (!rc) {
        struct event e = ev;
        if (trunc) {
            e.body = (struct event_str){"", 0};
            e.body_kind = EVENT_BODY_TEXT;
        }
        rc = event_envelope(&e, seq, &b);
        if (!rc && b.len && b.p[b.len - 1] == '\n')
            b.len--;
    }
    rc = rc ? rc : buf_puts(&b, ",\"headers\":");
    rc = rc ? rc : headers(&ev.headers, &b);
    rc = rc ? rc : buf_puts(&b, ",\"sinks\":[");
    const struct cfg_route *rt = console_api_route(x->cfg, ev.route.p, ev.route.len);
    for (size_t i = 0, first = 1; rt && i < x->cfg->nsinks && !rc; i++) {
        int fed = feeds(x->cfg, rt, i, ev.type.p, ev.type.len);
        if (!fed)
            continue;
        rc = buf_puts(&b, first ? "" : ",");
        rc = rc ? rc : sink_detail(c, &x->cfg->sinks[i], seq, fed, &b);
        first = 0;
    }
    rc = rc ? rc : buf_puts(&b, "]}\n");
    free(o.rec);
    return console_api_answer(x, 200, &b, rc);
}

static enum MHD_Result raw_event(struct console *c, const struct console_ctx *x, uint64_t seq)
{
    struct one o;
    struct event ev;
    if (load(c->st, seq, &o, &ev))
        return console_error(x->conn, 404, "no event with this seq");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(ev.body.len, (void *)ev.body.p, MHD_RESPMEM_MUST_COPY);
    free(o.rec);
    if (!r)
        return MHD_NO;
    char disp[80];
    snprintf(disp, sizeof(disp), "attachment; filename=\"event-%llu.bin\"",
             (unsigned long long)seq);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Content-Disposition", disp);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
    enum MHD_Result ret = MHD_queue_response(x->conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- POST /api/events/{seq}/replay ---- */

static enum MHD_Result replay_event(struct console *c, const struct console_ctx *x, uint64_t seq)
{
    struct one o;
    struct event ev;
    if (load(c->st, seq, &o, &ev))
        return console_error(x->conn, 404, "no event with this seq");
    json_t *j = x->body && x->body_len ? json_loadb(x->body, x->body_len, 0, NULL) : json_object();
    const char *want = json_string_value(json_object_get(j, "sink"));
    const struct cfg_route *rt = console_api_route(x->cfg, ev.route.p, ev.route.len);
    struct buf b;
    buf_init(&b, 64 << 10);
    int rc = buf_puts(&b, "{\"replayed\":["), n = 0, bad = !j;
    for (size_t i = 0; rt && i < x->cfg->nsinks && !rc && !bad; i++) {
        const struct cfg_sink *s = &x->cfg->sinks[i];
        if (want && strcmp(want, "*") && strcmp(want, s->name))
            continue;
        if (feeds(x->cfg, rt, i, ev.type.p, ev.type.len) != 1)
            continue;
        if ((rc = store_replay_add(c->st, s->name, STORE_REPLAY_ONE, seq)))
            break;
        log_msg(LOG_INFO, "console: replay queued", "{s:s,s:I,s:s}", "sink", s->name, "seq",
                (json_int_t)seq, "client", x->client_ip ? x->client_ip : "");
        rc = buf_puts(&b, n++ ? "," : "");
        rc = rc ? rc : json_escape(&b, s->name, strlen(s->name));
    }
    json_decref(j);
    free(o.rec);
    if (bad || (!rc && !n)) {
        buf_free(&b);
        return console_error(x->conn, 400,
                             bad ? "the body must be JSON: {\"sink\": NAME} or {}"
                                 : "no such sink receives this event's route and type");
    }
    rc = rc ? rc : buf_puts(&b, "]}\n");
    return console_api_answer(x, 202, &b, rc);
}

/* ---- dispatch ---- */

enum MHD_Result console_api(struct console *c, const struct console_ctx *x, const char *path)
{
    int post = !strcmp(x->method, "POST");
    if (!c->st)
        return console_error(x->conn, 503, "no store");
    if (!strcmp(path, "/events"))
        return post ? console_error(x->conn, 405, "GET only") : list_events(c, x);
    if (!strcmp(path, "/rejected"))
        return post ? console_error(x->conn, 405, "GET only") : console_ops_rejected(c, x);
    if (!strcmp(path, "/sinks"))
        return post ? console_error(x->conn, 405, "GET only") : console_ops_sinks(c, x);
    if (!strcmp(path, "/routes"))
        return post ? console_error(x->conn, 405, "GET only") : console_ops_routes(x);
    if (!strcmp(path, "/send-test"))
        return post ? console_ops_send_test(x) : console_error(x->conn, 405, "POST only");
    if (!strcmp(path, "/history")) {
        struct buf b;
        buf_init(&b, 8u << 20);
        return console_api_answer(x, 200, &b, history_json(c->hist, &b));
    }
    if (!strncmp(path, "/events/", 8)) {
        char *end;
        uint64_t seq = strtoull(path + 8, &end, 10);
        if (!seq || end == path + 8)
            return console_error(x->conn, 404, "no event with this seq");
        if (!*end)
            return post ? console_error(x->conn, 405, "GET only") : show_event(c, x, seq);
        if (!strcmp(end, "/raw"))
            return post ? console_error(x->conn, 405, "GET only") : raw_event(c, x, seq);
        if (!strcmp(end, "/replay"))
            return post ? replay_event(c, x, seq) : console_error(x->conn, 405, "POST only");
    }
    if (!strncmp(path, "/sinks/", 7)) {
        char name[80];
        const char *slash = strchr(path + 7, '/');
        size_t n = slash ? (size_t)(slash - (path + 7)) : 0;
        if (slash && n < sizeof(name)) {
            memcpy(name, path + 7, n);
            name[n] = '\0';
            const struct cfg_sink *s = sink_named(x->cfg, name);
            if (!s)
                return console_error(x->conn, 404, "no such sink");
            if (!strcmp(slash, "/dead"))
                return post ? console_error(x->conn, 405, "GET only")
                            : console_ops_sink_dead(c, x, s);
            if (!strcmp(slash, "/replay"))
                return post ? console_ops_sink_replay(c, x, s)
                            : console_error(x->conn, 405, "POST only");
        }
    }
    return console_error(x->conn, 404, "no such API call (docs/console.md)");
}
