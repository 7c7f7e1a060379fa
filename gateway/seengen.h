/*
 * seengen.h - the dedupe index's two generations.
 *
 * The dedupe keys (route NUL id -> u64 seq, u64 first-seen ms) live in
 * two LMDB tables, "seen" and "seen2".  New keys go into the current one;
 * the other ("old") only loses keys, and only all at once: the retention
 * sweep (gc.c) empties it with one mdb_drop when the newest first sighting
 * it can hold is past the dedupe window, and then makes it the current
 * one when the current one has been current for a whole window.  A key
 * therefore stays between one and about two windows; whether an id is a
 * duplicate is decided by its first-seen time, never by whether its key is
 * still there.  Randomly keyed deletes, one dirty page each, are gone:
 * expiry costs a drop per window whatever the store holds.
 *
 * The state is one "meta" value, SEENGEN_META: u8 current table (0: "seen",
 * 1: "seen2"), u64 BE ms it became current, u64 BE newest first-seen ms
 * each table may hold.  A store without it (new, or from before the two
 * generations, whose keys are all in "seen") reads as: "seen" current
 * since now, holding keys up to now.
 *
 * Invariant: newest[i] >= every first-seen time in table i, so a drop
 * when newest[i] + window <= now removes only expired keys.  Only a write
 * transaction that also puts into or drops the tables updates it.
 */
#ifndef HG_SEENGEN_H
#define HG_SEENGEN_H

#include <lmdb.h>
#include <stdint.h>

#define SEENGEN_NAME0 "seen"
#define SEENGEN_NAME1 "seen2"
#define SEENGEN_META  "seen_gen"
#define SEENGEN_SIZE  25
/* meta: u64 BE, the dedupe window (ms) of the gateway that last opened the
 * store (store_open.c).  `hookgate gc` keeps keys at least that long
 * whatever window it is given, so a shorter one on its command line cannot
 * let ids the gateway still dedupes through (gc.c). */
#define SEENGEN_WINDOW "dedupe_window_ms"

struct seengen {
    unsigned cur;       /* 0 or 1: the table new keys go into */
    uint64_t start_ms;  /* when it became current */
    uint64_t newest[2]; /* newest first-seen ms each table may hold */
};

/* seengen_get - the state from meta in txn.  0; MDB_NOTFOUND when absent,
 * with *g the state it stands for ("seen" current since now_ms, newest
 * {now_ms, 0}); or another LMDB code (MDB_CORRUPTED for a value of another
 * size). */
int seengen_get(MDB_txn *txn, MDB_dbi meta, uint64_t now_ms, struct seengen *g);

/* seengen_put - store g in meta (a write transaction).  0 or an LMDB code. */
int seengen_put(MDB_txn *txn, MDB_dbi meta, const struct seengen *g);

/* seengen_lookup - the newest sighting of key in either table (a dbi of 0
 * is a table that does not exist).  0 and *seq, *first_ms set; MDB_NOTFOUND;
 * or another LMDB code. */
int seengen_lookup(MDB_txn *txn, const MDB_dbi tab[2], const void *key, size_t klen, uint64_t *seq,
                   uint64_t *first_ms);

#endif
