/*
 * history.h - the last hour of the gateway's own counts, in memory, for
 * the console's charts: accepted events per second by route, the p99
 * commit latency and the backlog of each sink, one point every
 * HISTORY_STEP_S seconds.
 *
 * No time-series service: history_sample (the console's thread, every
 * step) diffs the metrics registry's counters against the previous sample
 * and reads the backlogs with gauges_collect.  Points are kept by route and
 * sink name, so a reload that renames nothing keeps its lines.
 */
#ifndef HG_HISTORY_H
#define HG_HISTORY_H

#include <stdint.h>

struct buf;
struct config;
struct store;
struct history;

#define HISTORY_STEP_S 10
#define HISTORY_POINTS 360 /* one hour */

/* history_new - an empty history.  NULL when out of memory. */
struct history *history_new(void);

/* history_free - NULL-safe. */
void history_free(struct history *h);

/* history_sample - add one point (cfg's routes and sinks, st's backlogs)
 * at now_ms; a gap since the last point is filled with nulls.  One thread
 * at a time (the console's). */
void history_sample(struct history *h, const struct config *cfg, struct store *st, int64_t now_ms);

/* What history_rate measures. */
enum history_what {
    HISTORY_ACCEPTED = 0, /* a route's stored events */
    HISTORY_DUPLICATE,    /* a route's duplicates */
    HISTORY_REJECTED,     /* a route's 400/401/403 answers */
    HISTORY_DELIVERED     /* a sink's deliveries */
};

/* history_rate - name's count of what per second over the last minute (0
 * when unknown). */
double history_rate(struct history *h, const char *name, enum history_what what);

/* history_json - the /api/history answer into out.  HG_OK or HG_ENOMEM. */
int history_json(struct history *h, struct buf *out);

#endif
