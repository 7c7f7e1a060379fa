/*
 * gc.h - retention of the store (see gc.c).
 */
#ifndef HG_GC_H
#define HG_GC_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

struct gc_stats {
    uint64_t seen;   /* dedupe keys removed (a whole generation at a time, seengen.h) */
    uint64_t events; /* events removed */
    int more;        /* the last transaction stopped at its limit */
    uint64_t first;  /* lowest seq still indexed after the last transaction (0: none);
                      * the log's segments below it can go (seglog_drop_before) */
    int keys_left;   /* the store is of an older format: its keys were left alone */
    uint64_t from;   /* in and out: the seq the next transaction's event walk starts at
                      * (0: the index's start); a pass ends when more is 0 */
};

/* gc_txn - one write transaction on env of at most max steps of the event
 * walk - a deletion, or an event kept as a dead letter passed over - (and
 * at most two drops of a dedupe generation), adding to *out.  The walk
 * starts at out->from and leaves there the seq to go on from while there
 * is more, so a long run of dead letters at the index's start is walked
 * once a pass, max a transaction, not by every transaction.
 * sinks/nsinks: the configured sinks (NULL/0: every sink that has a
 * cursor).  chunked: an expired generation's keys are deleted a bounded
 * number per transaction (at most max, at most 2,000) instead of dropped
 * whole - for a map that is full: a drop records every page it frees in
 * one free-list entry, which needs room (MDB_MAP_FULL); a few deletes need
 * less, though still some.  Returns an LMDB code (0 ok); *out counts only
 * what a committed transaction removed when it returns 0. */
int gc_txn(MDB_env *env, uint64_t window_ms, const char *const *sinks, size_t nsinks, size_t max,
           int chunked, struct gc_stats *out);

/* gc_dir - open the store in dir beside a running gateway and prune until
 * done (sinks as for gc_txn).  HG_OK or HG_ESTORE (message on stderr). */
int gc_dir(const char *dir, uint64_t window_ms, const char *const *sinks, size_t nsinks,
           struct gc_stats *out);

#endif
