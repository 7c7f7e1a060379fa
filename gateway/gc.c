/*
 * gc.c - retention: expire dedupe keys and prune delivered events past the
 * window.
 *
 * A dedupe key is expired once its first sighting is older than
 * dedupe_window: the same id after that is a new event (the writer checks
 * the time, store.c).  The keys live in two tables, one current and one
 * old (seengen.h): the sweep empties the old one with one mdb_drop once
 * the newest sighting it may hold is past the window, and makes it the
 * current one once the current one has been current for a whole window.
 * A drop frees the table's pages without touching its leaves, so expiry
 * costs one drop per window however many keys expire - not a randomly
 * placed delete (a dirty page) per key - and a key stays one to two
 * windows.
 *
 * An event is pruned once it is older than the window, every sink's
 * cursor is past it (the lowest cursor of the sinks given, or of every
 * sink with a cursor) and no sink holds it as a dead letter.  The "events"
 * index is in seq order, which is the order events were received in, and
 * each locator carries its received time: the sweep deletes from its
 * start and stops at the first event that must stay.  One call is one
 * write transaction of at most `max` event deletions, so the running
 * gateway's checkpoints are never held up for long; call again while it
 * reports more.
 *
 * An event's record in the segment log (seglog.h) goes with the whole
 * segment, once every seq in it is below the lowest one still indexed
 * (out->first): the running gateway's sweeper removes such segments
 * (`hookgate gc` prunes LMDB only; the next sweep of `serve` drops them).
 *
 * It runs inside `serve` (a sweep thread, store_open.c) and from
 * `hookgate gc` in another process beside it: LMDB serialises the two
 * writers, and the generations' state is in the store.
 */
#include "gc.h"
#include "err.h"
#include "event.h"
#include "seengen.h"
#include "store.h"
#include "storeloc.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* meta keys of the sweep before the two generations, removed on sight */
#define GC_META_OLD0  "gc_seen"
#define GC_META_OLD1  "gc_scan"
#define GC_DEAD_SINKS 64 /* past this many sinks with dead letters: scan them all */
/* a generation is dropped this long after its newest key expired: a
 * margin (the writer reads its clock for a batch just after it begins the
 * snapshot it looks keys up in, store.c, which is what makes a drop safe),
 * and room for the wall clock to be stepped back: a hundredth of the
 * window, from 1 s to 5 min */
#define GC_SLACK_MIN_MS 1000
#define GC_SLACK_MAX_MS 300000
/* keys deleted a transaction in the bounded mode (gc_txn's chunked): few
 * enough that their dirty pages fit where a whole drop's free list did not */
#define GC_CHUNK_KEYS 2000

/* One gc transaction's state. */
struct gc {
    MDB_txn *txn;
    MDB_dbi seen[2], events, cursors, dead, meta;
    uint64_t now, window;
    uint64_t horizon;  /* received before this: past the window (events) */
    uint64_t kwindow;  /* the dedupe keys' window: window, or the gateway's if longer */
    uint64_t khorizon; /* a generation whose newest key is before this can go */
    size_t chunk;      /* 0: drop an expired generation whole; else delete at most this many keys */
    int keys_more;     /* a generation was left part-deleted (chunk) */
    /* the sinks that hold dead letters (loaded on first use) */
    int dead_loaded, dead_all;
    size_t ndead;
    char *dead_sinks[GC_DEAD_SINKS];
};

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
            uint64_t c = storeloc_get64(v.mv_data);
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
        if (v.mv_size == 8 && storeloc_get64(v.mv_data) < low)
            low = storeloc_get64(v.mv_data);
    mdb_cursor_close(c);
    return low == UINT64_MAX ? 0 : low;
}

/* dead_load - the names of the sinks with dead letters (keys are sink NUL
 * u64 seq): one seek per sink.  Past GC_DEAD_SINKS, or a key of another
 * shape, every check scans the table instead. */
static void dead_load(struct gc *g)
{
    MDB_cursor *c;
    MDB_val k, v;
    g->dead_loaded = 1;
    if (mdb_cursor_open(g->txn, g->dead, &c)) {
        g->dead_all = 1;
        return;
    }
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && !g->dead_all;) {
        const unsigned char *p = k.mv_data;
        size_t nl = k.mv_size - 9;
        if (k.mv_size < 9 || p[nl] != 0 || memchr(p, 0, nl) || g->ndead == GC_DEAD_SINKS) {
            g->dead_all = 1;
            break;
        }
        char *name = malloc(nl + 2);
        if (!name) {
            g->dead_all = 1;
            break;
        }
        memcpy(name, p, nl);
        name[nl] = 0;
        g->dead_sinks[g->ndead++] = name;
        /* every key of this sink sorts below name "\x01" */
        name[nl] = 1;
        name[nl + 1] = 0;
        MDB_val next = {nl + 1, name};
        r = mdb_cursor_get(c, &next, &v, MDB_SET_RANGE);
        name[nl] = 0;
    }
    mdb_cursor_close(c);
}

/* dead_holds - 1 if any sink has seq as a dead letter. */
static int dead_holds(struct gc *g, uint64_t seq)
{
    if (!g->dead_loaded)
        dead_load(g);
    if (!g->dead_all) {
        for (size_t i = 0; i < g->ndead; i++) {
            unsigned char kb[128];
            size_t nl = strlen(g->dead_sinks[i]);
            unsigned char *b = nl + 9 <= sizeof(kb) ? kb : malloc(nl + 9);
            if (!b)
                return 1;
            memcpy(b, g->dead_sinks[i], nl + 1);
            storeloc_put64(b + nl + 1, seq);
            MDB_val k = {nl + 9, b}, v;
            int rc = mdb_get(g->txn, g->dead, &k, &v);
            if (b != kb)
                free(b);
            if (rc != MDB_NOTFOUND)
                return 1; /* found, or cannot tell: keep it */
        }
        return 0;
    }
    MDB_cursor *c;
    MDB_val k, v;
    int held = 0;
    if (mdb_cursor_open(g->txn, g->dead, &c))
        return 1;
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && !held;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        held = k.mv_size >= 9 &&
               storeloc_get64((const unsigned char *)k.mv_data + k.mv_size - 8) == seq;
    mdb_cursor_close(c);
    return held;
}

/* prune_events - delete the expired, delivered events from out->from (0:
 * the index's start), up to budget steps (a deletion, or a dead letter
 * passed over); out->from becomes the seq to go on from, or 0 when the
 * walk reached an event that must stay (the pass is over). */
static int prune_events(struct gc *g, const char *const *sinks, size_t nsinks, size_t budget,
                        size_t *steps, struct gc_stats *out)
{
    MDB_cursor *c;
    MDB_val k, v;
    uint64_t low = min_cursor(g->txn, g->cursors, sinks, nsinks), newest = 0, from = out->from;
    out->from = 0;
    if (!low)
        return 0;
    int rc = mdb_cursor_open(g->txn, g->events, &c);
    if (rc)
        return rc;
    /* the newest event always stays: the next seq is counted from it
     * when the store is opened (store.c), and a seq must never be
     * handed out twice - a sink's cursor may already be past it */
    if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
        newest = storeloc_get64(k.mv_data);
    /* events are in seq order and (nearly) in time order: stop at the
     * first one that must stay */
    unsigned char fk[8];
    storeloc_put64(fk, from);
    k = (MDB_val){sizeof(fk), fk};
    int r = mdb_cursor_get(c, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
    for (; r == 0 && !rc; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        struct event ev;
        if (k.mv_size != 8)
            continue;
        uint64_t seq = storeloc_get64(k.mv_data);
        if (*steps >= budget) {
            out->from = seq; /* more to walk: the next transaction starts here */
            break;
        }
        if (seq > low || seq >= newest)
            break;
        struct store_loc l;
        if (storeloc_read(v.mv_data, v.mv_size, &l)) {
            if ((uint64_t)l.received_ms >= g->horizon)
                break;
        } else if (event_rec_parse(v.mv_data, v.mv_size, &ev) == HG_OK &&
                   (uint64_t)ev.received_ms >= g->horizon) {
            break;
        }
        if (dead_holds(g, seq)) {
            (*steps)++; /* passed over: bounded like a deletion */
            continue;
        }
        rc = mdb_cursor_del(c, 0);
        (*steps)++;
        out->events++;
    }
    mdb_cursor_close(c);
    return rc;
}

/* del_keys - delete at most g->chunk keys from the start of table dbi;
 * *n counts them. */
static int del_keys(struct gc *g, MDB_dbi dbi, uint64_t *n)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(g->txn, dbi, &c);
    if (rc)
        return rc;
    /* after a delete the cursor sits on the next key; MDB_NEXT returns it */
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && *n < g->chunk && !rc;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        rc = mdb_cursor_del(c, 0);
        (*n)++;
    }
    mdb_cursor_close(c);
    return rc;
}

/* expire - empty the old table (all its keys are past the window): one
 * mdb_drop, or with g->chunk a bounded number of deletes.  ms_entries
 * becomes what is left in it. */
static int expire(struct gc *g, MDB_dbi dbi, MDB_stat *ms, struct gc_stats *out)
{
    if (!g->chunk) {
        int rc = mdb_drop(g->txn, dbi, 0);
        if (!rc) {
            out->seen += ms->ms_entries;
            ms->ms_entries = 0;
        }
        return rc;
    }
    uint64_t n = 0;
    int rc = del_keys(g, dbi, &n);
    if (rc)
        return rc;
    out->seen += n;
    ms->ms_entries = n < ms->ms_entries ? ms->ms_entries - n : 0;
    g->keys_more = ms->ms_entries != 0;
    return 0;
}

/* generations - empty the old dedupe table if everything it may hold has
 * expired, and make it the current one if that one has been current for a
 * window (then the new old one may be expired too): at most two drops.
 * With g->chunk (a map too full to record a big drop's free pages) the
 * keys go a bounded number per transaction instead. */
static int generations(struct gc *g, struct gc_stats *out)
{
    struct seengen sg;
    int rc = seengen_get(g->txn, g->meta, g->now, &sg), changed = rc == MDB_NOTFOUND;
    if (rc == MDB_NOTFOUND) /* a store from before: write it down now */
        rc = 0;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        unsigned old = 1 - sg.cur;
        MDB_stat ms;
        if ((rc = mdb_stat(g->txn, g->seen[old], &ms)))
            break;
        if (ms.ms_entries && sg.newest[old] < g->khorizon) {
            if ((rc = expire(g, g->seen[old], &ms, out)))
                break;
            if (!ms.ms_entries) {
                sg.newest[old] = 0;
                changed = 1;
            }
        }
        if (ms.ms_entries || g->now < sg.start_ms + g->kwindow)
            break;
        sg.cur = old;
        sg.start_ms = g->now;
        sg.newest[old] = 0;
        changed = 1;
    }
    if (!rc && changed)
        rc = seengen_put(g->txn, g->meta, &sg);
    return rc;
}

static int first_indexed(struct gc *g, uint64_t *first)
{
    MDB_cursor *c;
    MDB_val k, v;
    *first = 0;
    int rc = mdb_cursor_open(g->txn, g->events, &c);
    if (rc)
        return rc;
    if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8)
        *first = storeloc_get64(k.mv_data);
    mdb_cursor_close(c);
    return 0;
}

static void gc_free(struct gc *g)
{
    for (size_t i = 0; i < g->ndead; i++)
        free(g->dead_sinks[i]);
}

/* format_2 - *yes = 1 if the store is of format "2" (seengen.h).  One of
 * format "1" is still written by a gateway of an older version, which puts
 * keys into "seen" without the generations' state: its keys are left alone
 * until the gateway is upgraded (store_open.c upgrades the store). */
static int format_2(struct gc *g, int *yes)
{
    MDB_val k = {6, "format"}, v;
    int rc = mdb_get(g->txn, g->meta, &k, &v);
    *yes = rc == 0 && v.mv_size == 1 && *(const char *)v.mv_data == '2';
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* note_window - window as the recorded one in meta, unless it is already */
static int note_window(MDB_txn *txn, MDB_dbi meta, uint64_t window)
{
    MDB_val k = {strlen(SEENGEN_WINDOW), SEENGEN_WINDOW}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == 0 && v.mv_size == 8 && storeloc_get64(v.mv_data) == window)
        return 0;
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    unsigned char b[8];
    storeloc_put64(b, window);
    v.mv_size = 8;
    v.mv_data = b;
    return mdb_put(txn, meta, &k, &v, 0);
}

int gc_note_window(MDB_env *env, uint64_t window_ms)
{
    MDB_txn *txn;
    MDB_dbi meta;
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta)) ||
        (rc = note_window(txn, meta, window_ms))) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* key_window - g->kwindow and g->khorizon: the gateway's own window for
 * its sweep (recorded then, seengen.h SEENGEN_WINDOW), else the longer of
 * the window asked for and the recorded one; and the drop margin on top. */
static int key_window(struct gc *g, int serve)
{
    g->kwindow = g->window;
    if (serve) {
        int rc = note_window(g->txn, g->meta, g->window);
        if (rc)
            return rc;
    } else {
        MDB_val k = {strlen(SEENGEN_WINDOW), SEENGEN_WINDOW}, v;
        int rc = mdb_get(g->txn, g->meta, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        if (!rc && v.mv_size == 8 && storeloc_get64(v.mv_data) > g->kwindow)
            g->kwindow = storeloc_get64(v.mv_data);
    }
    uint64_t slack = g->kwindow / 100;
    slack = slack < GC_SLACK_MIN_MS   ? GC_SLACK_MIN_MS
            : slack > GC_SLACK_MAX_MS ? GC_SLACK_MAX_MS
                                      : slack;
    g->khorizon = g->now > g->kwindow + slack ? g->now - g->kwindow - slack : 0;
    return 0;
}

/* forget_old_meta - the sweep positions of the store before the two
 * generations: meaningless now. */
static int forget_old_meta(struct gc *g)
{
    const char *names[] = {GC_META_OLD0, GC_META_OLD1};
    for (int i = 0; i < 2; i++) {
        MDB_val k = {strlen(names[i]), (void *)names[i]};
        int rc = mdb_del(g->txn, g->meta, &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    return 0;
}

int gc_txn(MDB_env *env, uint64_t window_ms, const char *const *sinks, size_t nsinks, size_t max,
           int flags, struct gc_stats *out)
{
    struct gc g;
    memset(&g, 0, sizeof(g));
    g.chunk = !(flags & GC_CHUNKED) ? 0 : max < GC_CHUNK_KEYS ? max : GC_CHUNK_KEYS;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g.now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    g.window = window_ms;
    g.horizon = g.now > window_ms ? g.now - window_ms : 0;
    int rc = mdb_txn_begin(env, NULL, 0, &g.txn);
    if (rc)
        return rc;
    int v2 = 0;
    if ((rc = mdb_dbi_open(g.txn, SEENGEN_NAME0, 0, &g.seen[0])) ||
        (rc = mdb_dbi_open(g.txn, "events", 0, &g.events)) ||
        (rc = mdb_dbi_open(g.txn, "cursors", 0, &g.cursors)) ||
        (rc = mdb_dbi_open(g.txn, "dead", MDB_CREATE, &g.dead)) ||
        (rc = mdb_dbi_open(g.txn, "meta", MDB_CREATE, &g.meta)) || (rc = format_2(&g, &v2)) ||
        /* the second generation's table only in a store of that format */
        (v2 && (rc = mdb_dbi_open(g.txn, SEENGEN_NAME1, MDB_CREATE, &g.seen[1]))) ||
        (rc = key_window(&g, flags & GC_SERVE))) {
        mdb_txn_abort(g.txn);
        return rc;
    }
    size_t steps = 0;
    struct gc_stats got = {0, 0, 0, 0, 0, out->from, 0}; /* into *out once committed */
    got.key_window_ms = g.kwindow;
    if (v2)
        rc = generations(&g, &got);
    else
        got.keys_left = 1;
    if (!rc)
        rc = prune_events(&g, sinks, nsinks, g.chunk ? g.chunk : max, &steps, &got);
    if (!rc && v2)
        rc = forget_old_meta(&g);
    if (!rc)
        rc = first_indexed(&g, &got.first);
    gc_free(&g);
    if (rc) {
        mdb_txn_abort(g.txn);
        return rc;
    }
    if ((rc = mdb_txn_commit(g.txn)))
        return rc;
    out->seen += got.seen;
    out->events += got.events;
    out->first = got.first;
    out->keys_left |= got.keys_left;
    out->from = got.from;
    out->key_window_ms = got.key_window_ms;
    out->more = got.from != 0 || g.keys_more;
    return 0;
}

int gc_dir(const char *dir, uint64_t window_ms, const char *const *sinks, size_t nsinks,
           struct gc_stats *out)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, STORE_MAXDBS);
    if (!rc)
        rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    memset(out, 0, sizeof(*out));
    /* the map here is the size the last writer recorded (at least the used
     * size), which only the running gateway grows: a drop that cannot
     * record its free pages in it goes in bounded deletes */
    int chunked = 0;
    do {
        out->more = 0;
        if (!rc)
            rc = gc_txn(env, window_ms, sinks, nsinks, 10000, chunked ? GC_CHUNKED : 0, out);
        if (rc == MDB_MAP_FULL && !chunked) {
            chunked = 1;
            rc = 0;
            out->more = 1;
        } else if (rc == MDB_MAP_RESIZED) { /* the gateway grew it meanwhile */
            rc = mdb_env_set_mapsize(env, 0);
            out->more = 1;
        }
    } while (!rc && out->more);
    if (rc)
        fprintf(stderr, "hookgate: gc in %s: %s\n", dir, mdb_strerror(rc));
    mdb_env_close(env);
    return rc ? HG_ESTORE : HG_OK;
}
