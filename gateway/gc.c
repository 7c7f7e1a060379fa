/*
 * gc.c - retention: prune dedupe keys and delivered events past the window.
 *
 * A dedupe key ("seen") is pruned once its first sighting is older than
 * dedupe_window: the same id after that is a new event.  An event is pruned
 * once it is older than the window, every sink's cursor is past it (the
 * lowest cursor of the sinks given, or of every sink with a cursor) and no
 * sink holds it as a dead letter.  One call is one write transaction of at
 * most `max` deletions, so the running gateway's commits are never held up
 * for long; call again while it reports work done.
 *
 * An event's record in the segment log (seglog.h) goes with the whole
 * segment, once every seq in it is below the lowest one still indexed
 * (out->first): the running gateway's sweeper removes such segments, and
 * so does the next start.
 *
 * It runs inside `serve` (a sweep thread, store.c) and from `hookgate gc`
 * in another process beside it: LMDB serialises the two writers.
 */
#include "gc.h"
#include "err.h"
#include "event.h"
#include "storeloc.h"

#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t be64get(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* min_cursor - lowest committed cursor of the sinks (all known if n == 0);
 * 0 when a named sink has none yet. */
static uint64_t min_cursor(MDB_txn *txn, MDB_dbi cursors, const char *const *sinks, size_t n)
{
    uint64_t low = UINT64_MAX;
    if (n) {
        for (size_t i = 0; i < n; i++) {
            MDB_val k = {strlen(sinks[i]), (void *)sinks[i]}, v;
            if (mdb_get(txn, cursors, &k, &v) || v.mv_size != 8)
                return 0;
            uint64_t c = be64get(v.mv_data);
            if (c < low)
                low = c;
        }
        return low;
    }
    MDB_cursor *c;
    MDB_val k, v;
    if (mdb_cursor_open(txn, cursors, &c))
        return 0;
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if (v.mv_size == 8 && be64get(v.mv_data) < low)
            low = be64get(v.mv_data);
    mdb_cursor_close(c);
    return low == UINT64_MAX ? 0 : low;
}

/* dead_holds - 1 if any sink has seq as a dead letter. */
static int dead_holds(MDB_txn *txn, MDB_dbi dead, uint64_t seq)
{
    MDB_cursor *c;
    MDB_val k, v;
    int held = 0;
    if (mdb_cursor_open(txn, dead, &c))
        return 1;
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && !held;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        held = k.mv_size >= 9 && be64get((const unsigned char *)k.mv_data + k.mv_size - 8) == seq;
    mdb_cursor_close(c);
    return held;
}

int gc_txn(MDB_env *env, uint64_t window_ms, const char *const *sinks, size_t nsinks, size_t max,
           struct gc_stats *out)
{
    MDB_txn *txn;
    MDB_dbi seen, events, cursors, dead;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    uint64_t horizon = (uint64_t)now > window_ms ? (uint64_t)now - window_ms : 0;
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(txn, "seen", 0, &seen)) ||
        (rc = mdb_dbi_open(txn, "events", 0, &events)) ||
        (rc = mdb_dbi_open(txn, "cursors", 0, &cursors)) ||
        (rc = mdb_dbi_open(txn, "dead", MDB_CREATE, &dead))) {
        mdb_txn_abort(txn);
        return rc;
    }
    size_t done = 0;
    MDB_cursor *c;
    MDB_val k, v;
    if (!(rc = mdb_cursor_open(txn, seen, &c))) {
        for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && done < max && !rc;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (v.mv_size == 16 && be64get((const unsigned char *)v.mv_data + 8) < horizon) {
                rc = mdb_cursor_del(c, 0);
                done++;
                out->seen++;
            }
        }
        mdb_cursor_close(c);
    }
    uint64_t low = rc ? 0 : min_cursor(txn, cursors, sinks, nsinks), newest = 0;
    if (!rc && low && !(rc = mdb_cursor_open(txn, events, &c))) {
        /* the newest event always stays: the next seq is counted from it
         * when the store is opened (store.c), and a seq must never be
         * handed out twice - a sink's cursor may already be past it */
        if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
            newest = be64get(k.mv_data);
        /* events are in seq order and (nearly) in time order: stop at the
         * first one that must stay */
        for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && done < max && !rc;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            struct event ev;
            if (k.mv_size != 8)
                continue;
            uint64_t seq = be64get(k.mv_data);
            if (seq > low || seq >= newest)
                break;
            struct store_loc l;
            if (storeloc_read(v.mv_data, v.mv_size, &l)) {
                if ((uint64_t)l.received_ms >= horizon)
                    break;
            } else if (event_rec_parse(v.mv_data, v.mv_size, &ev) == HG_OK &&
                       (uint64_t)ev.received_ms >= horizon) {
                break;
            }
            if (dead_holds(txn, dead, seq))
                continue;
            rc = mdb_cursor_del(c, 0);
            done++;
            out->events++;
        }
        mdb_cursor_close(c);
    }
    out->first = 0;
    if (!rc && !(rc = mdb_cursor_open(txn, events, &c))) {
        if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8)
            out->first = be64get(k.mv_data);
        mdb_cursor_close(c);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    out->more = done >= max;
    return mdb_txn_commit(txn);
}

int gc_dir(const char *dir, uint64_t window_ms, const char *const *sinks, size_t nsinks,
           struct gc_stats *out)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 8);
    if (!rc)
        rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    memset(out, 0, sizeof(*out));
    do {
        out->more = 0;
        if (!rc)
            rc = gc_txn(env, window_ms, sinks, nsinks, 10000, out);
    } while (!rc && out->more);
    if (rc)
        fprintf(stderr, "hookgate: gc in %s: %s\n", dir, mdb_strerror(rc));
    mdb_env_close(env);
    return rc ? HG_ESTORE : HG_OK;
}
