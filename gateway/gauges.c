/*
 * gauges.c - gather the store gauges of one /metrics scrape (see gauges.h).
 *
 * Each sink costs two cursor reads and, when it has a backlog, one scan of
 * a single record (the oldest undelivered event's receipt time).
 */
#include "gauges.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "metrics.h"
#include "store.h"

#include <string.h>

/* oldest_cb - receipt time of the first event after the cursor */
static int oldest_cb(void *arg, uint64_t seq, const void *rec, size_t len)
{
    (void)seq;
    struct event ev;
    if (event_rec_parse(rec, len, &ev) == HG_OK)
        *(int64_t *)arg = ev.received_ms;
    return 1;
}

int gauges_collect(const struct config *c, struct store *st, struct metrics_gauges *g)
{
    memset(g, 0, sizeof(*g));
    g->last_seq = store_last_seq(st);
    g->nsinks = c->nsinks < METRICS_SINKS_MAX ? c->nsinks : METRICS_SINKS_MAX;
    int64_t now = time_now_ms();
    for (size_t s = 0; s < g->nsinks; s++) {
        uint64_t cur = 0;
        int64_t t = 0;
        store_cursor_get(st, c->sinks[s].name, &cur);
        g->backlog[s] = g->last_seq > cur ? g->last_seq - cur : 0;
        if (cur < g->last_seq)
            store_scan(st, cur, 1, oldest_cb, &t);
        g->oldest_s[s] = t && now > t ? (double)(now - t) / 1000.0 : 0.0;
    }
    g->have_stats = store_stats(st, &g->store_bytes, &g->dead_stored) == HG_OK;
    return HG_OK;
}
