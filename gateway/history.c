/*
 * history.c - the last hour of counts for the console's charts (see
 * history.h).
 *
 * A ring of HISTORY_POINTS points.  Each series (a route's accepted rate,
 * a sink's backlog, a sink's delivered rate) has a name and its own ring
 * of floats, NaN for "no value" (rendered null).  At most HISTORY_SERIES
 * series; more routes or sinks than that are left out of the charts (the
 * lists and counters still show them).  The rings are guarded by one
 * mutex: a sample and a render hold it for microseconds.
 */
#include "history.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "gauges.h"
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_SERIES 96

enum series_kind { S_ROUTE = 0, S_BACKLOG, S_SINKRATE, S_COMMIT, S_DUP, S_REJ };

struct series {
    enum series_kind kind;
    char name[72];
    uint64_t last; /* the counter at the previous sample */
    int have_last;
    float v[HISTORY_POINTS];
};

struct history {
    pthread_mutex_t lock;
    int64_t end_ms; /* the newest point's time; 0 before the first */
    size_t head;    /* index of the newest point */
    struct series *s;
    size_t ns;
    uint64_t commit_last[METRICS_HIST_MAX + 1];
    int commit_have;
};

struct history *history_new(void)
{
    struct history *h = calloc(1, sizeof(*h));
    if (!h || !(h->s = calloc(HISTORY_SERIES, sizeof(*h->s)))) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

void history_free(struct history *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->lock);
    free(h->s);
    free(h);
}

/* find - the series (kind, name), made (all NaN) if new; NULL when full. */
static struct series *find(struct history *h, enum series_kind kind, const char *name)
{
    for (size_t i = 0; i < h->ns; i++)
        if (h->s[i].kind == kind && !strcmp(h->s[i].name, name))
            return &h->s[i];
    if (h->ns == HISTORY_SERIES || strlen(name) >= sizeof(h->s[0].name))
        return NULL;
    struct series *s = &h->s[h->ns++];
    s->kind = kind;
    snprintf(s->name, sizeof(s->name), "%s", name);
    for (size_t i = 0; i < HISTORY_POINTS; i++)
        s->v[i] = NAN;
    return s;
}

/* advance - make room for the point at now: every skipped step is NaN. */
static void advance(struct history *h, int64_t now_ms)
{
    int64_t steps = h->end_ms ? (now_ms - h->end_ms) / ((int64_t)HISTORY_STEP_S * 1000) : 1;
    if (steps < 1)
        steps = 1;
    if (steps > HISTORY_POINTS)
        steps = HISTORY_POINTS;
    for (int64_t k = 0; k < steps; k++) {
        h->head = (h->head + 1) % HISTORY_POINTS;
        for (size_t i = 0; i < h->ns; i++)
            h->s[i].v[h->head] = NAN;
    }
    h->end_ms = now_ms;
}

/* rate - a counter's change per second since the last sample. */
static void rate(struct series *s, uint64_t now, size_t at, double dt_s)
{
    if (!s)
        return;
    if (s->have_last && now >= s->last && dt_s > 0)
        s->v[at] = (float)((double)(now - s->last) / dt_s);
    s->last = now;
    s->have_last = 1;
}

/* commit_p99 - the p99 commit latency (ms, a bucket's upper bound) of the
 * observations since the last sample; NaN when there were none. */
static float commit_p99(struct history *h)
{
    uint64_t b[METRICS_HIST_MAX + 1], d[METRICS_HIST_MAX + 1], total = 0;
    size_t n;
    const double *le;
    metrics_commit_buckets(b, &n, &le);
    for (size_t i = 0; i <= n; i++) {
        d[i] = h->commit_have && b[i] >= h->commit_last[i] ? b[i] - h->commit_last[i] : 0;
        total += d[i];
        h->commit_last[i] = b[i];
    }
    h->commit_have = 1;
    if (!total)
        return NAN;
    uint64_t want = total - total / 100, acc = 0; /* the 99th percentile's rank */
    for (size_t i = 0; i < n; i++)
        if ((acc += d[i]) >= want)
            return (float)(le[i] * 1000.0);
    return (float)(le[n - 1] * 1000.0); /* above the last bound: at least that */
}

void history_sample(struct history *h, const struct config *cfg, struct store *st, int64_t now_ms)
{
    struct metrics_gauges g;
    int have_g = st && gauges_collect(cfg, st, &g) == HG_OK;
    pthread_mutex_lock(&h->lock);
    double dt = h->end_ms ? (double)(now_ms - h->end_ms) / 1000.0 : 0;
    advance(h, now_ms);
    size_t at = h->head;
    for (size_t i = 0; i < cfg->nroutes; i++) {
        struct metrics_route_counts rc;
        metrics_route_counts(cfg->routes[i].mx, &rc);
        rate(find(h, S_ROUTE, cfg->routes[i].name), rc.accepted, at, dt);
        rate(find(h, S_DUP, cfg->routes[i].name), rc.duplicate, at, dt);
        rate(find(h, S_REJ, cfg->routes[i].name), rc.rejected, at, dt);
    }
    for (size_t i = 0; i < cfg->nsinks; i++) {
        struct metrics_sink_counts sc;
        metrics_sink_counts(cfg->sinks[i].mx, &sc);
        rate(find(h, S_SINKRATE, cfg->sinks[i].name), sc.delivered, at, dt);
        struct series *b = find(h, S_BACKLOG, cfg->sinks[i].name);
        if (b && have_g && i < g.nsinks)
            b->v[at] = (float)g.backlog[i];
    }
    struct series *c = find(h, S_COMMIT, "commit");
    float p = commit_p99(h);
    if (c)
        c->v[at] = p;
    pthread_mutex_unlock(&h->lock);
}

/* newest_rate - the mean of the last 6 points (a minute) of a series. */
static double newest_rate(const struct history *h, const struct series *s)
{
    double sum = 0;
    int n = 0;
    for (size_t k = 0; k < 6; k++) {
        float v = s->v[(h->head + HISTORY_POINTS - k) % HISTORY_POINTS];
        if (!isnan(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n : 0;
}

double history_rate(struct history *h, const char *name, enum history_what what)
{
    static const enum series_kind kind[] = {S_ROUTE, S_DUP, S_REJ, S_SINKRATE};
    double r = 0;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->ns; i++)
        if (h->s[i].kind == kind[what] && !strcmp(h->s[i].name, name))
            r = newest_rate(h, &h->s[i]);
    pthread_mutex_unlock(&h->lock);
    return r;
}

/* points - a series as a JSON array, oldest first. */
static int points(const struct history *h, const struct series *s, struct buf *out)
{
    int rc = buf_puts(out, "[");
    for (size_t k = 0; k < HISTORY_POINTS && !rc; k++) {
        float v = s->v[(h->head + 1 + k) % HISTORY_POINTS];
        rc = isnan(v) ? buf_printf(out, "%snull", k ? "," : "")
                      : buf_printf(out, "%s%.3g", k ? "," : "", (double)v);
    }
    return rc ? rc : buf_puts(out, "]");
}

/* group - "name":{"a":[...],...} of the series of one kind. */
static int group(const struct history *h, const char *name, enum series_kind kind, struct buf *out)
{
    int rc = buf_printf(out, ",\"%s\":{", name), first = 1;
    for (size_t i = 0; i < h->ns && !rc; i++) {
        if (h->s[i].kind != kind)
            continue;
        rc = buf_puts(out, first ? "" : ",");
        if (!rc)
            rc = json_escape(out, h->s[i].name, strlen(h->s[i].name));
        if (!rc)
            rc = buf_puts(out, ":");
        if (!rc)
            rc = points(h, &h->s[i], out);
        first = 0;
    }
    return rc ? rc : buf_puts(out, "}");
}

int history_json(struct history *h, struct buf *out)
{
    char end[40];
    pthread_mutex_lock(&h->lock);
    time_format_ms(h->end_ms ? h->end_ms : time_now_ms(), end, sizeof(end));
    int rc = buf_printf(out, "{\"step_s\":%d,\"end\":\"%s\"", HISTORY_STEP_S, end);
    if (!rc)
        rc = group(h, "routes", S_ROUTE, out);
    if (!rc)
        rc = group(h, "delivered", S_SINKRATE, out);
    if (!rc)
        rc = group(h, "backlog", S_BACKLOG, out);
    const struct series *c = NULL;
    for (size_t i = 0; i < h->ns; i++)
        if (h->s[i].kind == S_COMMIT)
            c = &h->s[i];
    if (!rc)
        rc = buf_puts(out, ",\"commit_p99_ms\":");
    if (!rc && c)
        rc = points(h, c, out);
    else if (!rc)
        rc = buf_puts(out, "[]");
    pthread_mutex_unlock(&h->lock);
    return rc ? rc : buf_puts(out, "}\n");
}
