/*
 * metrics.c - counters, histograms and their Prometheus rendering (see
 * metrics.h).
 *
 * One static registry per process (one gateway per process).  Arrays are
 * allocated once by metrics_init and never resized, so writers need no
 * lock: every update is an atomic add with relaxed ordering, and a scrape
 * may see a histogram's count and sum a few increments apart, which
 * Prometheus tolerates.
 */
#include "metrics.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "profile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef atomic_ullong ctr;

static const unsigned statuses[] = {200, 202, 204, 400, 401, 403, 404, 405, 413, 429, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

/* the constant reasons verify.c and http.c log, in label form */
static const char *const reasons[] = {"missing signature",
                                      "malformed signature",
                                      "signature mismatch",
                                      "signature header too long",
                                      "missing timestamp",
                                      "timestamp outside tolerance",
                                      "missing token",
                                      "token mismatch",
                                      "source address not in allow",
                                      "other"};
#define NREASON (sizeof(reasons) / sizeof(reasons[0]))

#define HIST_MAX METRICS_HIST_MAX
struct hist {
    const double *le; /* upper bounds, ascending */
    size_t n;
    ctr bucket[HIST_MAX]; /* non-cumulative; rendered cumulative */
    ctr count;
    ctr sum; /* in the unit of the raw observations */
};

/* seconds for latencies (observed in microseconds), items for batches */
static const double lat_le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
static const double batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

struct sinkm {
    ctr delivered, failed, retries, dead, dups;
};

#define MX_ROUTES 1024 /* distinct route names over the process's life */
#define MX_SINKS  256

static struct {
    int ready;
    size_t nroutes, nsinks; /* slots handed out */
    char *route_name[MX_ROUTES];
    char *sink_name[MX_SINKS];
    pthread_mutex_t bind_lock;
    ctr *req;   /* (nroutes + 1) x NSTATUS; the last row: no route */
    ctr *dup;   /* nroutes + 1 */
    ctr *vfail; /* (nroutes + 1) x NREASON */
    ctr *shfb;  /* shared dedupe fallbacks, per route */
    ctr *hs;    /* handshakes, per route x {answered, refused} */
    struct sinkm *sink;
    struct hist commit_lat, commit_batch, ack_lat;
    int64_t started_ms;
} M;

/* slot - the stable slot of name in names (added if new); -1 when full */
static int slot(char **names, size_t *n, size_t cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(names[i], name))
            return (int)i;
    if (*n == cap || !(names[*n] = strdup(name)))
        return -1;
    return (int)(*n)++;
}

int metrics_bind(struct config *c)
{
    if (!M.ready)
        return HG_OK;
    pthread_mutex_lock(&M.bind_lock);
    for (size_t i = 0; i < c->nroutes; i++)
        c->routes[i].mx = slot(M.route_name, &M.nroutes, MX_ROUTES, c->routes[i].name);
    for (size_t i = 0; i < c->nsinks; i++)
        c->sinks[i].mx = slot(M.sink_name, &M.nsinks, MX_SINKS, c->sinks[i].name);
    pthread_mutex_unlock(&M.bind_lock);
    return HG_OK;
}

int metrics_init(struct config *c)
{
    metrics_free();
    M.req = calloc((MX_ROUTES + 1) * NSTATUS, sizeof(ctr));
    M.dup = calloc(MX_ROUTES + 1, sizeof(ctr));
    M.vfail = calloc((MX_ROUTES + 1) * NREASON, sizeof(ctr));
    M.shfb = calloc(MX_ROUTES + 1, sizeof(ctr));
    M.hs = calloc(2 * (size_t)(MX_ROUTES + 1), sizeof(ctr));
    M.sink = calloc(MX_SINKS, sizeof(struct sinkm));
    if (!M.req || !M.dup || !M.vfail || !M.sink || !M.shfb || !M.hs) {
        metrics_free();
        return HG_ENOMEM;
    }
    pthread_mutex_init(&M.bind_lock, NULL);
    M.commit_lat.le = lat_le;
    M.commit_lat.n = sizeof(lat_le) / sizeof(lat_le[0]);
    M.ack_lat.le = lat_le;
    M.ack_lat.n = M.commit_lat.n;
    M.commit_batch.le = batch_le;
    M.commit_batch.n = sizeof(batch_le) / sizeof(batch_le[0]);
    M.started_ms = time_now_ms();
    M.ready = 1;
    return metrics_bind(c);
}

void metrics_free(void)
{
    if (M.ready)
        pthread_mutex_destroy(&M.bind_lock);
    M.ready = 0;
    for (size_t i = 0; i < M.nroutes; i++)
        free(M.route_name[i]);
    for (size_t i = 0; i < M.nsinks; i++)
        free(M.sink_name[i]);
    free(M.req);
    free(M.dup);
    free(M.vfail);
    free(M.shfb);
    free(M.hs);
    free(M.sink);
    memset(&M, 0, sizeof(M));
}

static size_t row(int route)
{
    return route >= 0 && route < MX_ROUTES ? (size_t)route : MX_ROUTES;
}

void metrics_request(int route, unsigned status, int duplicate)
{
    if (!M.ready)
        return;
    for (size_t s = 0; s < NSTATUS; s++)
        if (statuses[s] == status) {
            atomic_fetch_add_explicit(&M.req[row(route) * NSTATUS + s], 1, memory_order_relaxed);
            break;
        }
    if (duplicate)
        atomic_fetch_add_explicit(&M.dup[row(route)], 1, memory_order_relaxed);
}

void metrics_verify_fail(int route, const char *reason)
{
    if (!M.ready)
        return;
    size_t r = NREASON - 1;
    for (size_t i = 0; reason && i < NREASON - 1; i++)
        if (!strcmp(reasons[i], reason))
            r = i;
    atomic_fetch_add_explicit(&M.vfail[row(route) * NREASON + r], 1, memory_order_relaxed);
}

void metrics_handshake(int route, int answered)
{
    if (M.ready)
        atomic_fetch_add_explicit(&M.hs[row(route) * 2 + (answered ? 0 : 1)], 1,
                                  memory_order_relaxed);
}

static void observe(struct hist *h, double v, uint64_t raw)
{
    size_t i = 0;
    while (i < h->n && v > h->le[i])
        i++;
    if (i < h->n)
        atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, raw, memory_order_relaxed);
}

void metrics_commit(size_t n, uint64_t us)
{
    if (!M.ready)
        return;
    observe(&M.commit_lat, (double)us / 1e6, us);
    observe(&M.commit_batch, (double)n, n);
}

void metrics_ack(uint64_t us)
{
    if (M.ready)
        observe(&M.ack_lat, (double)us / 1e6, us);
}

void metrics_delivery(int sink, uint64_t delivered, uint64_t failed, uint64_t retries,
                      uint64_t dead)
{
    if (!M.ready || sink < 0 || sink >= MX_SINKS)
        return;
    struct sinkm *s = &M.sink[sink];
    atomic_fetch_add_explicit(&s->delivered, delivered, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->failed, failed, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->retries, retries, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->dead, dead, memory_order_relaxed);
}

void metrics_shared_fallback(int route)
{
    if (M.ready)
        atomic_fetch_add_explicit(&M.shfb[row(route)], 1, memory_order_relaxed);
}

void metrics_publish_duplicate(int sink)
{
    if (M.ready && sink >= 0 && sink < MX_SINKS)
        atomic_fetch_add_explicit(&M.sink[sink].dups, 1, memory_order_relaxed);
}

static unsigned long long get(ctr *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static int head(struct buf *o, const char *name, const char *type, const char *help)
{
    return buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int hist(struct buf *o, const char *name, const char *help, struct hist *h, double scale)
{
    int rc = head(o, name, "histogram", help);
    unsigned long long cum = 0;
    for (size_t i = 0; !rc && i < h->n; i++) {
        cum += get(&h->bucket[i]);
        rc = buf_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[i], cum);
    }
    unsigned long long n = get(&h->count);
    if (!rc)
        rc = buf_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, n,
                        name, (double)get(&h->sum) * scale, name, n);
    return rc;
}

/* render_requests - per-route answers, duplicates, verification
 * failures and shared dedupe fallbacks. */
static int render_requests(struct buf *o, const struct config *c)
{
    int rc = head(o, "hookgate_requests_total", "counter",
                  "Answers to webhook requests, by route and HTTP status.");
    for (size_t i = 0; !rc && i <= c->nroutes; i++) {
        size_t r = i < c->nroutes ? row(c->routes[i].mx) : MX_ROUTES;
        for (size_t s = 0; !rc && s < NSTATUS; s++) {
            unsigned long long v = get(&M.req[r * NSTATUS + s]);
            if (v || i < c->nroutes)
                rc = buf_printf(o, "hookgate_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                                i < c->nroutes ? c->routes[i].name : "", statuses[s], v);
        }
    }
    if (!rc)
        rc = head(o, "hookgate_duplicates_total", "counter",
                  "Requests answered 200 duplicate (nothing stored), by route.");
    for (size_t i = 0; !rc && i < c->nroutes; i++)
        rc = buf_printf(o, "hookgate_duplicates_total{route=\"%s\"} %llu\n", c->routes[i].name,
                        get(&M.dup[row(c->routes[i].mx)]));
    if (!rc)
        rc = head(o, "hookgate_verify_failures_total", "counter",
                  "Requests refused by authentication (401/403), by route and reason.");
    for (size_t i = 0; !rc && i < c->nroutes; i++)
        for (size_t k = 0; !rc && k < NREASON; k++) {
            unsigned long long v = get(&M.vfail[row(c->routes[i].mx) * NREASON + k]);
            if (v)
                rc = buf_printf(o,
                                "hookgate_verify_failures_total{route=\"%s\",reason=\"%s\"} %llu\n",
                                c->routes[i].name, reasons[k], v);
        }
    if (!rc)
        rc = head(o, "hookgate_handshakes_total", "counter",
                  "Registration handshakes (challenges) answered or refused, by route; never "
                  "stored as events.");
    for (size_t i = 0; !rc && i < c->nroutes; i++)
        for (int k = 0; !rc && k < 2; k++) {
            unsigned long long v = get(&M.hs[row(c->routes[i].mx) * 2 + k]);
            if (v || (k == 0 && c->routes[i].profile && c->routes[i].profile->nhs))
                rc = buf_printf(o, "hookgate_handshakes_total{route=\"%s\",result=\"%s\"} %llu\n",
                                c->routes[i].name, k ? "refused" : "answered", v);
        }
    if (!rc)
        rc = head(o, "hookgate_shared_dedupe_fallbacks_total", "counter",
                  "Shared dedupe lookups or records that could not reach the bucket (local dedupe "
                  "and Nats-Msg-Id used instead), by route.");
    for (size_t i = 0; !rc && i < c->nroutes; i++)
        if (c->routes[i].shd_bucket)
            rc = buf_printf(o, "hookgate_shared_dedupe_fallbacks_total{route=\"%s\"} %llu\n",
                            c->routes[i].name, get(&M.shfb[row(c->routes[i].mx)]));
    return rc;
}

/* render_sinks - the per-sink delivery counters. */
static int render_sinks(struct buf *o, const struct config *c)
{
    static const char *const sk[][2] = {
        {"hookgate_delivered_total", "Events delivered, by sink."},
        {"hookgate_delivery_failures_total", "Failed delivery attempts, by sink."},
        {"hookgate_delivery_retries_total", "Retries scheduled after a failure, by sink."},
        {"hookgate_dead_letters_total", "Events moved to dead letters, by sink."},
        {"hookgate_publish_duplicates_total",
         "JetStream PubAcks flagged duplicate (the stream already held the event), by sink."}};
    int rc = HG_OK;
    for (size_t k = 0; !rc && k < 5; k++) {
        rc = head(o, sk[k][0], "counter", sk[k][1]);
        for (size_t i = 0; !rc && i < c->nsinks; i++) {
            int s = c->sinks[i].mx;
            if (s < 0 || s >= MX_SINKS)
                continue;
            ctr *v = k == 0   ? &M.sink[s].delivered
                     : k == 1 ? &M.sink[s].failed
                     : k == 2 ? &M.sink[s].retries
                     : k == 3 ? &M.sink[s].dead
                              : &M.sink[s].dups;
            rc = buf_printf(o, "%s{sink=\"%s\"} %llu\n", sk[k][0], c->sinks[i].name, get(v));
        }
    }
    return rc;
}

/* render_gauges - what the caller gathered from the store. */
static int render_gauges(struct buf *o, const struct config *c, const struct metrics_gauges *g)
{
    size_t n = g->nsinks < c->nsinks ? g->nsinks : c->nsinks;
    int rc = head(o, "hookgate_backlog_events", "gauge",
                  "Stored events not yet delivered (or dead-lettered), by sink.");
    for (size_t s = 0; !rc && s < n; s++)
        rc = buf_printf(o, "hookgate_backlog_events{sink=\"%s\"} %llu\n", c->sinks[s].name,
                        (unsigned long long)g->backlog[s]);
    if (!rc)
        rc = head(o, "hookgate_oldest_undelivered_seconds", "gauge",
                  "Age of the oldest event a sink has not delivered yet (0: none).");
    for (size_t s = 0; !rc && s < n; s++)
        rc = buf_printf(o, "hookgate_oldest_undelivered_seconds{sink=\"%s\"} %.3f\n",
                        c->sinks[s].name, g->oldest_s[s]);
    if (!rc && g->have_stats) {
        rc = head(o, "hookgate_store_bytes", "gauge", "Bytes of the LMDB data file in use.");
        if (!rc)
            rc = buf_printf(o, "hookgate_store_bytes %llu\n", (unsigned long long)g->store_bytes);
        if (!rc)
            rc = head(o, "hookgate_dead_letters_stored", "gauge",
                      "Dead letters in the store, all sinks.");
        if (!rc)
            rc = buf_printf(o, "hookgate_dead_letters_stored %llu\n",
                            (unsigned long long)g->dead_stored);
    }
    if (!rc)
        rc = head(o, "hookgate_last_seq", "gauge", "Highest committed event sequence number.");
    if (!rc)
        rc = buf_printf(o, "hookgate_last_seq %llu\n", (unsigned long long)g->last_seq);
    return rc;
}

int metrics_render(struct buf *o, const struct config *c, const struct metrics_gauges *g)
{
    if (!M.ready)
        return buf_puts(o, "# hookgate metrics not initialised\n");
    int rc = render_requests(o, c);
    if (!rc)
        rc = hist(o, "hookgate_commit_batch_size", "Events per group commit.", &M.commit_batch, 1);
    if (!rc)
        rc = hist(o, "hookgate_commit_seconds", "Duration of one group commit (write + fsync).",
                  &M.commit_lat, 1e-6);
    if (!rc)
        rc = hist(o, "hookgate_ack_seconds",
                  "From a complete request to its answer (verify, queue, commit, resume).",
                  &M.ack_lat, 1e-6);
    if (!rc)
        rc = render_sinks(o, c);
    if (!rc && g)
        rc = render_gauges(o, c, g);
    if (!rc)
        rc = head(o, "hookgate_start_time_seconds", "gauge", "Unix time the gateway started.");
    if (!rc)
        rc = buf_printf(o, "hookgate_start_time_seconds %.3f\n", (double)M.started_ms / 1000.0);
    return rc;
}

void metrics_route_counts(int mx, struct metrics_route_counts *out)
{
    memset(out, 0, sizeof(*out));
    if (!M.ready || mx < 0 || mx >= MX_ROUTES)
        return;
    const ctr *r = &M.req[(size_t)mx * NSTATUS];
    for (size_t s = 0; s < NSTATUS; s++) {
        uint64_t v = atomic_load_explicit(&r[s], memory_order_relaxed);
        if (statuses[s] < 300)
            out->accepted += v;
        else if (statuses[s] == 400 || statuses[s] == 401 || statuses[s] == 403)
            out->rejected += v;
    }
    out->duplicate = atomic_load_explicit(&M.dup[mx], memory_order_relaxed);
    out->accepted = out->accepted > out->duplicate ? out->accepted - out->duplicate : 0;
}

void metrics_sink_counts(int mx, struct metrics_sink_counts *out)
{
    memset(out, 0, sizeof(*out));
    if (!M.ready || mx < 0 || mx >= MX_SINKS)
        return;
    const struct sinkm *s = &M.sink[mx];
    out->delivered = atomic_load_explicit(&s->delivered, memory_order_relaxed);
    out->failed = atomic_load_explicit(&s->failed, memory_order_relaxed);
    out->retries = atomic_load_explicit(&s->retries, memory_order_relaxed);
    out->dead = atomic_load_explicit(&s->dead, memory_order_relaxed);
}

void metrics_commit_buckets(uint64_t *b, size_t *n, const double **le)
{
    *n = M.commit_lat.n;
    *le = M.commit_lat.le;
    uint64_t in = 0;
    for (size_t i = 0; i < *n; i++)
        in += (b[i] = M.ready ? atomic_load_explicit(&M.commit_lat.bucket[i], memory_order_relaxed)
                              : 0);
    uint64_t all = M.ready ? atomic_load_explicit(&M.commit_lat.count, memory_order_relaxed) : 0;
    b[*n] = all > in ? all - in : 0;
}
