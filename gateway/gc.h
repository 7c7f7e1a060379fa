/*
 * gc.h - retention of the store (see gc.c).
 */
#ifndef HG_GC_H
#define HG_GC_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

struct gc_stats {
    uint64_t seen;          /* dedupe keys removed (a whole generation at a time, seengen.h) */
    uint64_t events;        /* events removed */
    int more;               /* the last transaction stopped at its limit */
    uint64_t first;         /* lowest seq still indexed after the last transaction (0: none);
                             * the log's segments below it can go (seglog_drop_before) */
    int keys_left;          /* the store is of an older format: its keys were left alone */
    uint64_t from;          /* in and out: the seq the next transaction's event walk starts at
                             * (0: the index's start); a pass ends when more is 0 */
    uint64_t key_window_ms; /* the window the dedupe keys were kept for: the one
                             * asked for, or the gateway's if longer (seengen.h) */
};

/* gc_txn - one write transaction on env of at most max steps of the event
 * walk - a deletion, or an event kept as a dead letter passed over - (and
 * at most two drops of a dedupe generation), adding to *out.  The walk
 * starts at out->from and leaves there the seq to go on from while there
 * is more, so a long run of dead letters at the index's start is walked
 * once a pass, max a transaction, not by every transaction.
 * sinks/nsinks: the configured sinks (NULL/0: every sink that has a
 * cursor).  GC_CHUNKED: an expired generation's keys are deleted a bounded
 * number per transaction (at most max, at most 2,000) instead of dropped
 * whole - for a map that is full: a drop records every page it frees in
 * one free-list entry, which needs room (MDB_MAP_FULL); a few deletes need
 * less, though still some.  Returns an LMDB code (0 ok); *out counts only
 * what a committed transaction removed when it returns 0. */
int gc_txn(MDB_env *env, uint64_t window_ms, const char *const *sinks, size_t nsinks, size_t max,
           int flags, struct gc_stats *out);
#define GC_CHUNKED 1 /* flags: the bounded deletes described above */
/* flags: the gateway's own sweep.  Its window is the keys' window, and it
 * is recorded in the store (seengen.h SEENGEN_WINDOW); any other caller
 * keeps keys for the longer of its window and the recorded one. */
#define GC_SERVE 2

/* gc_note_window - record window_ms as the gateway's dedupe window in env
 * (one write transaction, nothing written when it is already there).
 * 0 or an LMDB code (MDB_MAP_FULL in a map with no room left). */
int gc_note_window(MDB_env *env, uint64_t window_ms);

/* gc_dir - open the store in dir beside a running gateway and prune until
 * done (sinks as for gc_txn).  HG_OK or HG_ESTORE (message on stderr). */
int gc_dir(const char *dir, uint64_t window_ms, const char *const *sinks, size_t nsinks,
           struct gc_stats *out);

#endif
