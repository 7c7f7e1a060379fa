/*
 * metrics.h - process-wide counters and histograms, rendered as Prometheus
 * text for GET /metrics.
 *
 * Updates are relaxed atomic increments on fixed arrays sized from the
 * config at start (routes x statuses, sinks), so the hot path never locks
 * or allocates.  Values derived from the store (backlog, oldest undelivered
 * age, store size) are gathered by the caller when /metrics is scraped
 * (gauges.c) and handed to metrics_render: this module reads no store and
 * depends on nothing above config.h.  Every function is safe to call
 * before metrics_init (it does nothing) and from any thread.
 */
#ifndef HG_METRICS_H
#define HG_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct buf;

/* at most this many sinks get gauges in one scrape (as many as have slots) */
#define METRICS_SINKS_MAX 256

/* metrics_gauges - what the store says at scrape time, per sink in the
 * config's order (backlog[i] and oldest_s[i] belong to c->sinks[i]). */
struct metrics_gauges {
    uint64_t last_seq;                   /* highest committed seq */
    int have_stats;                      /* store_bytes and dead_stored are valid */
    uint64_t store_bytes;                /* bytes of the data file in use */
    uint64_t dead_stored;                /* dead letters, all sinks */
    size_t nsinks;                       /* entries below: min(c->nsinks, METRICS_SINKS_MAX) */
    uint64_t backlog[METRICS_SINKS_MAX]; /* events after the sink's cursor */
    double oldest_s[METRICS_SINKS_MAX];  /* age of the oldest of them, 0: none */
};

/* metrics_init - allocate the arrays (fixed capacity: 1024 route names and
 * 256 sink names over the process's life) and bind c.  HG_ENOMEM. */
int metrics_init(struct config *c);

/* metrics_bind - give c's routes and sinks their slots (cfg_route.mx,
 * cfg_sink.mx): a name keeps its slot, and its counts, across reloads. */
int metrics_bind(struct config *c);

/* metrics_free - release (at exit). */
void metrics_free(void);

/* metrics_request - one answer: route slot (cfg_route.mx; -1: no route), HTTP status,
 * duplicate (a 200 that stored nothing). */
void metrics_request(int route, unsigned status, int duplicate);

/* metrics_verify_fail - a request refused by verification, with the
 * constant reason verify/http gave (NULL: "other"). */
void metrics_verify_fail(int route, const char *reason);

/* metrics_handshake - a registration handshake of route was answered (1)
 * or refused (0). */
void metrics_handshake(int route, int answered);

/* metrics_commit - one group commit of n items that took us microseconds. */
void metrics_commit(size_t n, uint64_t us);

/* metrics_ack - time from a complete request to its answer (microseconds). */
void metrics_ack(uint64_t us);

/* metrics_delivery - sink index: n delivered, failed attempts, retries
 * scheduled, events moved to dead letters. */
void metrics_delivery(int sink, uint64_t delivered, uint64_t failed, uint64_t retries,
                      uint64_t dead);

/* metrics_publish_duplicate - a JetStream PubAck said the stream already
 * had the event (a retry or a second instance published it). */
void metrics_publish_duplicate(int sink);

/* metrics_shared_fallback - shared dedupe could not be used for one request
 * (lookup) or one committed event (record) of route slot `route`. */
void metrics_shared_fallback(int route);

/* metrics_route_counts - route slot mx's answers so far: accepted (2xx
 * that stored an event), duplicates (2xx that stored nothing) and
 * rejected (400, 401, 403). */
struct metrics_route_counts {
    uint64_t accepted, duplicate, rejected;
};
void metrics_route_counts(int mx, struct metrics_route_counts *out);

/* metrics_sink_counts - sink slot mx's delivery counters so far. */
struct metrics_sink_counts {
    uint64_t delivered, failed, retries, dead;
};
void metrics_sink_counts(int mx, struct metrics_sink_counts *out);

/* metrics_commit_buckets - the commit latency histogram so far: b[i]
 * observations <= le[i] seconds and above the one before (i < *n), and
 * b[*n] those above the last bound; b holds METRICS_HIST_MAX + 1. */
#define METRICS_HIST_MAX 16
void metrics_commit_buckets(uint64_t *b, size_t *n, const double **le);

/* metrics_render - the Prometheus text exposition into out; g (may be
 * NULL: no store gauges) gives backlog, oldest undelivered age and store
 * size, gathered for this c.  HG_ENOMEM or HG_ETOOBIG from the buffer. */
int metrics_render(struct buf *out, const struct config *c, const struct metrics_gauges *g);

#endif
