/*
 * console_ops.c - the console's operational answers (docs/console.md, "The
 * API"): the rejected ring, the sinks with their dead letters and replays,
 * the routes, and send-test.  console_api.c dispatches to them and holds the
 * events' answers and the helpers shared by both (console_api_*).
 *
 * Bounds: a filtered walk of the rejected ring passes over at most
 * CONSOLE_LIST_SCAN_MAX entries a call (next_before says where to go on); a
 * sink's dead letters are counted up to CONSOLE_DEAD_COUNT_MAX; a replay
 * takes at most REPLAY_SEQS seqs.  The only writes are replay requests,
 * which go through the checkpointer like the CLI's.
 */
#include "console.h"
#include "console_int.h"
#include "buf.h"
#include "cli.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "gauges.h"
#include "history.h"
#include "httpc.h"
#include "log.h"
#include "metrics.h"
#include "sink.h"
#include "sinkstate.h"
#include "store.h"
#include "verify.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_SEQS 1000

/* ---- GET /api/rejected ---- */

struct rej_list {
    struct buf *b;
    const char *route;
    long status, limit, n;
    uint64_t last;
    int rc;
    long scanned;
    uint64_t stop; /* stopped at the scan limit before this id + 1 (0: not) */
};

static int on_rej(void *arg, uint64_t id, int64_t time_ms, const char *json, size_t len)
{
    struct rej_list *l = arg;
    (void)time_ms;
    /* a filter parses every entry it passes over: at most CONSOLE_LIST_SCAN_MAX a
     * call, as for events (the ring may hold millions of another route's) */
    if (++l->scanned > CONSOLE_LIST_SCAN_MAX) {
        l->stop = id + 1;
        return 1;
    }
    if (len < 2 || json[0] != '{')
        return 0;
    if (l->route || l->status) {
        json_t *j = json_loadb(json, len, 0, NULL);
        const char *r = json_string_value(json_object_get(j, "route"));
        long st = (long)json_integer_value(json_object_get(j, "status"));
        int skip = (l->route && (!r || strcmp(r, l->route))) || (l->status && st != l->status);
        json_decref(j);
        if (skip)
            return 0;
    }
    if (l->n == l->limit)
        return 1;
    l->rc = buf_printf(l->b, "%s{\"id\":%llu,", l->n ? "," : "", (unsigned long long)id);
    l->rc = l->rc ? l->rc : buf_append(l->b, json + 1, len - 1);
    l->n++;
    l->last = id;
    return l->rc != 0;
}

enum MHD_Result console_ops_rejected(struct console *c, const struct console_ctx *x)
{
    struct buf b;
    buf_init(&b, 64u << 20);
    const char *st = console_query(x, "status");
    struct rej_list l = {&b,
                         console_query(x, "route"),
                         st ? strtol(st, NULL, 10) : 0,
                         console_api_limit(x),
                         0,
                         0,
                         0,
                         0,
                         0};
    l.rc = buf_puts(&b, "{\"rejected\":[");
    if (!l.rc &&
        store_reject_scan(c->st, console_api_u64(console_query(x, "before")), on_rej, &l)) {
        buf_free(&b);
        return console_error(x->conn, 503, "the store cannot be read");
    }
    int rc = l.rc;
    uint64_t next = l.stop ? l.stop : l.n == l.limit && l.last > 1 ? l.last : 0;
    if (!rc && next)
        rc = buf_printf(&b, "],\"next_before\":%llu,\"dropped\":%llu}\n", (unsigned long long)next,
                        (unsigned long long)store_reject_dropped(c->st));
    else if (!rc)
        rc = buf_printf(&b, "],\"next_before\":null,\"dropped\":%llu}\n",
                        (unsigned long long)store_reject_dropped(c->st));
    return console_api_answer(x, 200, &b, rc);
}

/* ---- GET /api/sinks, /api/sinks/{name}/dead; POST /api/sinks/{name}/replay ---- */

/* A sink's dead letters are counted by walking them (LMDB keeps no count
 * of a key range), at most this many a request: the page asks every 10 s,
 * and a sink that failed for a week can hold millions.  Past it the answer
 * says "dead_more":true and the page shows "10000+". */
#define CONSOLE_DEAD_COUNT_MAX 10000

static int count_dead(void *arg, const char *sink, uint64_t seq, unsigned attempts, int64_t time_ms,
                      const char *err)
{
    (void)sink, (void)seq, (void)attempts, (void)time_ms, (void)err;
    uint64_t *n = arg;
    return ++*n > CONSOLE_DEAD_COUNT_MAX; /* one past the cap: there are more */
}

static int sink_entry(struct console *c, const struct config *cfg, size_t i,
                      const struct metrics_gauges *g, struct buf *b)
{
    const struct cfg_sink *s = &cfg->sinks[i];
    struct metrics_sink_counts mc;
    struct sinkstate ss;
    uint64_t dead = 0;
    metrics_sink_counts(s->mx, &mc);
    sinkstate_get(s->mx, &ss);
    store_dead_scan(c->st, s->name, count_dead, &dead);
    int more = dead > CONSOLE_DEAD_COUNT_MAX;
    const struct sink_ops *ops = sink_find(s->type);
    int rc = buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
    rc = rc ? rc : json_escape(b, s->name, strlen(s->name));
    rc = rc ? rc
            : buf_printf(
                  b,
                  ",\"type\":\"%s\",\"backlog\":%llu,\"oldest_s\":%.1f,\"delivered\":%llu,"
                  "\"failed\":%llu,\"retries\":%llu,\"dead\":%llu,\"dead_more\":%s,"
                  "\"rate\":%.2f,\"retrying\":",
                  ops ? ops->name : "?", (unsigned long long)(i < g->nsinks ? g->backlog[i] : 0),
                  i < g->nsinks ? g->oldest_s[i] : 0.0, (unsigned long long)mc.delivered,
                  (unsigned long long)mc.failed, (unsigned long long)mc.retries,
                  (unsigned long long)(more ? CONSOLE_DEAD_COUNT_MAX : dead),
                  more ? "true" : "false", history_rate(c->hist, s->name, HISTORY_DELIVERED));
    if (!ss.seq)
        return rc ? rc : buf_puts(b, "null}");
    char when[40];
    time_format_ms(ss.next_ms, when, sizeof(when));
    rc = rc ? rc
            : buf_printf(b, "{\"seq\":%llu,\"attempts\":%u,\"next_attempt\":\"%s\",\"last_error\":",
                         (unsigned long long)ss.seq, ss.attempts, when);
    rc = rc ? rc : json_escape(b, ss.err, strlen(ss.err));
    return rc ? rc : buf_puts(b, "}}");
}

static int route_entry(struct console *c, const struct config *cfg, size_t i, struct buf *b)
{
    const struct cfg_route *r = &cfg->routes[i];
    struct metrics_route_counts mc;
    metrics_route_counts(r->mx, &mc);
    int rc = buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
    rc = rc ? rc : json_escape(b, r->name, strlen(r->name));
    rc = rc ? rc : buf_puts(b, ",\"path\":");
    rc = rc ? rc : json_escape(b, r->path, strlen(r->path));
    rc = rc ? rc : buf_puts(b, ",\"profile\":");
    rc = rc ? rc : json_escape(b, r->profile->name, strlen(r->profile->name));
    rc = rc ? rc : buf_puts(b, ",\"sinks\":[");
    for (size_t k = 0; k < r->nsinks && !rc; k++) {
        const char *n = cfg->sinks[r->sinks[k]].name;
        rc = buf_puts(b, k ? "," : "");
        rc = rc ? rc : json_escape(b, n, strlen(n));
    }
    return rc ? rc
              : buf_printf(b,
                           "],\"accepted\":%llu,\"duplicate\":%llu,\"rejected\":%llu,"
                           "\"rate\":%.2f,\"duplicate_rate\":%.2f,\"rejected_rate\":%.2f}",
                           (unsigned long long)mc.accepted, (unsigned long long)mc.duplicate,
                           (unsigned long long)mc.rejected,
                           history_rate(c->hist, r->name, HISTORY_ACCEPTED),
                           history_rate(c->hist, r->name, HISTORY_DUPLICATE),
                           history_rate(c->hist, r->name, HISTORY_REJECTED));
}

enum MHD_Result console_ops_sinks(struct console *c, const struct console_ctx *x)
{
    struct metrics_gauges g;
    memset(&g, 0, sizeof(g));
    gauges_collect(x->cfg, c->st, &g);
    struct buf b;
    buf_init(&b, 4u << 20);
    int rc = buf_puts(&b, "{\"sinks\":[");
    for (size_t i = 0; i < x->cfg->nsinks && !rc; i++)
        rc = sink_entry(c, x->cfg, i, &g, &b);
    rc = rc ? rc : buf_puts(&b, "],\"routes\":[");
    for (size_t i = 0; i < x->cfg->nroutes && !rc; i++)
        rc = route_entry(c, x->cfg, i, &b);
    rc = rc ? rc : buf_puts(&b, "]}\n");
    return console_api_answer(x, 200, &b, rc);
}

struct dead_list {
    struct buf *b;
    long n, limit;
    int rc;
};

static int on_dead_list(void *arg, const char *sink, uint64_t seq, unsigned attempts,
                        int64_t time_ms, const char *err)
{
    struct dead_list *l = arg;
    (void)sink;
    if (l->n == l->limit)
        return 1;
    char when[40];
    time_format_ms(time_ms, when, sizeof(when));
    l->rc = buf_printf(l->b, "%s{\"seq\":%llu,\"attempts\":%u,\"time\":\"%s\",\"error\":",
                       l->n++ ? "," : "", (unsigned long long)seq, attempts, when);
    l->rc = l->rc ? l->rc : json_escape(l->b, err ? err : "", err ? strlen(err) : 0);
    l->rc = l->rc ? l->rc : buf_puts(l->b, "}");
    return l->rc != 0;
}

enum MHD_Result console_ops_sink_dead(struct console *c, const struct console_ctx *x,
                                      const struct cfg_sink *s)
{
    struct buf b;
    buf_init(&b, 16u << 20);
    struct dead_list l = {&b, 0, console_api_limit(x), buf_puts(&b, "{\"dead\":[")};
    if (!l.rc)
        store_dead_scan(c->st, s->name, on_dead_list, &l);
    int rc = l.rc ? l.rc : buf_puts(&b, "]}\n");
    return console_api_answer(x, 200, &b, rc);
}

enum MHD_Result console_ops_sink_replay(struct console *c, const struct console_ctx *x,
                                        const struct cfg_sink *s)
{
    json_t *j = x->body ? json_loadb(x->body, x->body_len, 0, NULL) : NULL;
    json_t *seqs = json_object_get(j, "seqs");
    int rc = HG_OK, n = 0;
    if (json_is_true(json_object_get(j, "dead"))) {
        rc = store_replay_add(c->st, s->name, STORE_REPLAY_DEAD, 0);
        n = -1;
    } else if (json_is_array(seqs) && json_array_size(seqs) <= REPLAY_SEQS) {
        size_t i;
        json_t *v;
        json_array_foreach(seqs, i, v)
        {
            json_int_t q = json_integer_value(v);
            if (q > 0 && store_dead_has(c->st, s->name, (uint64_t)q) &&
                !(rc = store_replay_add(c->st, s->name, STORE_REPLAY_ONE, (uint64_t)q)))
                n++;
        }
    } else {
        json_decref(j);
        return console_error(x->conn, 400,
                             "the body must be {\"dead\": true} or {\"seqs\": [SEQ, ...]} "
                             "(at most 1000)");
    }
    json_decref(j);
    if (rc)
        return console_error(x->conn, 503, "the replay could not be queued");
    log_msg(LOG_INFO, "console: dead letters replayed", "{s:s,s:i,s:s}", "sink", s->name, "count",
            n, "client", x->client_ip ? x->client_ip : "");
    struct buf b;
    buf_init(&b, 256);
    rc =
        n < 0 ? buf_puts(&b, "{\"replayed\":\"all\"}\n") : buf_printf(&b, "{\"replayed\":%d}\n", n);
    return console_api_answer(x, 202, &b, rc);
}

/* ---- /api/routes, /api/send-test ---- */

/* sendable - NULL if a test event can be signed for route r, else why not. */
static const char *sendable(const struct cfg_route *r)
{
    if (r->has_token)
        return "the route's token is kept only as a digest: use hookgate send-test";
    if (r->profile->fmt == PROF_FMT_NONE)
        return NULL;
    if (!r->nsecrets)
        return "the route has no secret";
    struct verifier *v = NULL;
    const char *why = NULL;
    if (r->profile->fmt != PROF_FMT_TOKEN && r->profile->fmt != PROF_FMT_BASIC &&
        verify_new_signer(r->profile, &r->secrets[0], &v, &why))
        return "the route holds a public key only: it cannot sign";
    verify_free(v);
    return NULL;
}

enum MHD_Result console_ops_routes(const struct console_ctx *x)
{
    struct buf b;
    buf_init(&b, 4u << 20);
    int rc = buf_puts(&b, "{\"routes\":[");
    for (size_t i = 0; i < x->cfg->nroutes && !rc; i++) {
        const struct cfg_route *r = &x->cfg->routes[i];
        const char *why = sendable(r);
        const char *tt = r->profile->test_type ? r->profile->test_type : "test";
        rc = buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        rc = rc ? rc : json_escape(&b, r->name, strlen(r->name));
        rc = rc ? rc : buf_puts(&b, ",\"path\":");
        rc = rc ? rc : json_escape(&b, r->path, strlen(r->path));
        rc = rc ? rc : buf_puts(&b, ",\"profile\":");
        rc = rc ? rc : json_escape(&b, r->profile->name, strlen(r->profile->name));
        rc = rc ? rc : buf_puts(&b, ",\"test_type\":");
        rc = rc ? rc : json_escape(&b, tt, strlen(tt));
        rc = rc ? rc : buf_printf(&b, ",\"can_send_test\":%s", why ? "false" : "true");
        if (why && !rc) {
            rc = buf_puts(&b, ",\"why_not\":");
            rc = rc ? rc : json_escape(&b, why, strlen(why));
        }
        rc = rc ? rc : buf_puts(&b, "}");
    }
    rc = rc ? rc : buf_puts(&b, "]}\n");
    return console_api_answer(x, 200, &b, rc);
}

enum MHD_Result console_ops_send_test(const struct console_ctx *x)
{
    json_t *j = x->body ? json_loadb(x->body, x->body_len, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(j, "route"));
    const char *type = json_string_value(json_object_get(j, "type"));
    const struct cfg_route *r = name ? console_api_route(x->cfg, name, strlen(name)) : NULL;
    const char *why = !r ? "no such route" : sendable(r);
    if (!why && (!x->self_url || !*x->self_url))
        why = "no public listener to send it to";
    if (!why && type && (strlen(type) > 200 || !*type))
        why = "type: 1 to 200 bytes";
    if (why) {
        enum MHD_Result ret = console_error(x->conn, 400, why);
        json_decref(j);
        return ret;
    }
    char url[2304], err[512], *body = NULL, *hdrs[10] = {0};
    size_t len = 0, nh = 0;
    snprintf(url, sizeof(url), "%s%s", x->self_url, r->path);
    struct secret none = {0};
    int rc = cli_test_request(r->profile, r->nsecrets ? &r->secrets[0] : &none, type,
                              r->public_url ? r->public_url : url, &body, &len, hdrs, &nh, err,
                              sizeof(err));
    json_decref(j);
    struct httpc_answer *ans = rc ? NULL : calloc(1, sizeof(*ans));
    struct httpc_opts ho = {.insecure = 1, .timeout_s = 10}; /* ourselves, over loopback */
    if (!rc && (!ans || httpc_post(url, hdrs, body, len, &ho, ans, err, sizeof(err))))
        rc = ans ? HG_EIO : HG_ENOMEM;
    for (size_t i = 0; i < nh; i++) {
        OPENSSL_cleanse(hdrs[i], strlen(hdrs[i]));
        free(hdrs[i]);
    }
    free(body);
    if (rc) {
        free(ans);
        return console_error(x->conn, rc == HG_EIO ? 502 : 400, err[0] ? err : hg_strerror(rc));
    }
    log_msg(LOG_INFO, "console: test event sent", "{s:s,s:i,s:s}", "route", r->name, "status",
            ans->status, "client", x->client_ip ? x->client_ip : "");
    json_t *a = json_loadb(ans->body, ans->len, 0, NULL);
    json_t *o = json_pack("{si,so}", "status", ans->status, "answer",
                          a ? a : json_stringn(ans->body, ans->len));
    free(ans);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    struct buf b;
    buf_init(&b, 1u << 20);
    rc = !s || buf_puts(&b, s) || buf_puts(&b, "\n");
    free(s);
    return console_api_answer(x, 200, &b, rc);
}
