/*
 * gauges.h - the store's side of a /metrics scrape: per-sink backlog and
 * oldest undelivered age, store size, dead letters and the last seq.
 *
 * It sits above both the store and the metrics registry, so neither reads
 * the other: http.c gathers with gauges_collect and hands the result to
 * metrics_render.
 */
#ifndef HG_GAUGES_H
#define HG_GAUGES_H

struct config;
struct store;
struct metrics_gauges;

/* gauges_collect - fill g for c's sinks (in c's order, at most
 * METRICS_SINKS_MAX) from st, with short read transactions and no lock
 * held against the writer.  A sink whose cursor cannot be read counts from
 * seq 0; store_bytes and dead_stored are left out (have_stats 0) when the
 * store cannot say.  Always HG_OK: a scrape shows what could be read. */
int gauges_collect(const struct config *c, struct store *st, struct metrics_gauges *g);

#endif
