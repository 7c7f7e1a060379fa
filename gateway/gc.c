/*
 * gc.c - retention: prune dedupe keys and delivered events past the window.
 *
 * A dedupe key ("seen") is pruned once its first sighting is older than
 * dedupe_window: the same id after that is a new event.  An event is pruned
 * once it is older than the window, every sink's cursor is past it (the
 * lowest cursor of the sinks given, or of every sink with a cursor) and no
 * sink holds it as a dead letter.  One call is one write transaction of at
 * most `max` steps (deletions, and dedupe keys looked at), so the running
 * gateway's commits are never held up for long; call again while it
 * reports more.
 *
 * Cost follows what expires, not the size of the store.  The "seen" table
 * is keyed by (route, id) - random order - so it is not walked to find
 * what expired.  The "events" index is in seq order, which is the order
 * events were received in, and each locator carries its received time:
 * the sweep walks it from a resume position kept in "meta" (GC_META_SEEN:
 * every event up to that seq has had its dedupe key dealt with), reads
 * each expired event's dedupe key back from its log record (payload: u64
 * time, u16 klen, key, event record - store.c) and deletes the key unless
 * a newer sighting within the window replaced it; it stops at the first
 * event still inside the window.  An event's index entry is removed only
 * at or below that position, so its key is always found first.  A key
 * that cannot be found this way (a store from before the log whose key
 * was a body hash, an unreadable record) is caught by a short walk of
 * "seen" per transaction that resumes where the last one stopped
 * (GC_META_SCAN) and goes round the whole table in turn.
 *
 * An event's record in the segment log (seglog.h) goes with the whole
 * segment, once every seq in it is below the lowest one still indexed
 * (out->first): the running gateway's sweeper removes such segments
 * (`hookgate gc` prunes LMDB only; the next sweep of `serve` drops them).
 *
 * It runs inside `serve` (a sweep thread, store_open.c) and from
 * `hookgate gc` in another process beside it: LMDB serialises the two
 * writers, and both keep their positions in the store.
 */
#include "gc.h"
#include "err.h"
#include "event.h"
#include "seglog.h"
#include "storeloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GC_META_SEEN   "gc_seen" /* u64 BE: events up to this seq had their keys dealt with */
#define GC_META_SCAN   "gc_scan" /* the "seen" key the catch-all walk resumes at */
#define GC_SCAN_DIV    16        /* the catch-all walk looks at max / this keys per call */
#define GC_READ_CHUNK  (256u << 10)
#define GC_DEAD_SINKS  64 /* past this many sinks with dead letters: scan them all */
#define GC_EVENT_PLEN0 10 /* u64 received time + u16 key length before the key */

/* One gc transaction's state. */
struct gc {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi seen, events, cursors, dead, meta;
    uint64_t horizon; /* received before this: past the window */
    size_t kmax;      /* longest dedupe key */
    /* the log reader: one segment open, a window of it in buf */
    char logdir[PATH_MAX];
    int have_dir;
    uint64_t seg;
    int fd;
    unsigned char *buf;
    size_t cap, blen;
    uint64_t boff;
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

/* log_window - bytes [lo, hi) of segment seg, read a chunk at a time
 * (the records are visited in log order).  NULL if they cannot be read. */
static const unsigned char *log_window(struct gc *g, uint64_t seg, uint64_t lo, uint64_t hi)
{
    if (g->fd >= 0 && g->seg == seg && lo >= g->boff && hi <= g->boff + g->blen)
        return g->buf + (lo - g->boff);
    if (!g->have_dir) {
        const char *path;
        if (mdb_env_get_path(g->env, &path) ||
            (size_t)snprintf(g->logdir, sizeof(g->logdir), "%s/log", path) >= sizeof(g->logdir))
            return NULL;
        g->have_dir = 1;
    }
    if (g->fd < 0 || g->seg != seg) {
        char name[PATH_MAX + 32];
        if (g->fd >= 0)
            close(g->fd);
        g->blen = 0;
        snprintf(name, sizeof(name), "%s/%016" PRIx64 ".log", g->logdir, seg);
        g->seg = seg;
        if ((g->fd = open(name, O_RDONLY | O_CLOEXEC)) < 0)
            return NULL;
    }
    size_t want = (size_t)(hi - lo), n = want > GC_READ_CHUNK ? want : GC_READ_CHUNK;
    if (n > g->cap) {
        unsigned char *b = realloc(g->buf, n);
        if (!b)
            return NULL;
        g->buf = b;
        g->cap = n;
    }
    g->blen = 0;
    ssize_t got = pread(g->fd, g->buf, n, (off_t)lo);
    if (got < 0 || (size_t)got < want)
        return NULL;
    g->boff = lo;
    g->blen = (size_t)got;
    return g->buf;
}

/* log_key - the dedupe key of event seq, from its log record (l points at
 * the event record, after the key).  The key's length is not in the
 * locator: the record header is found by its magic, length, type and seq
 * and the received time, and its CRC must match.  1 and key, klen set (valid
 * until the next read), else 0. */
static int log_key(struct gc *g, uint64_t seq, const struct store_loc *l, const unsigned char **key,
                   size_t *klen)
{
    uint64_t span = SEGLOG_HDR + GC_EVENT_PLEN0 + g->kmax;
    if (l->off < SEGLOG_HDR + GC_EVENT_PLEN0)
        return 0;
    uint64_t lo = l->off > span ? l->off - span : 0;
    const unsigned char *b = log_window(g, l->seg, lo, l->off + l->len);
    if (!b)
        return 0;
    size_t before = (size_t)(l->off - lo); /* bytes in front of the event record */
    for (size_t k = 1; k <= g->kmax && SEGLOG_HDR + GC_EVENT_PLEN0 + k <= before; k++) {
        const unsigned char *h = b + before - k - GC_EVENT_PLEN0 - SEGLOG_HDR;
        const unsigned char *pl = h + SEGLOG_HDR;
        uint32_t plen = (uint32_t)(GC_EVENT_PLEN0 + k) + l->len, hlen;
        uint64_t hseq;
        enum seglog_type type;
        if (!seglog_parse_hdr(h, &hlen, &hseq, &type) || hlen != plen || type != SEGLOG_EVENT ||
            hseq != seq || ((size_t)pl[8] << 8 | pl[9]) != k ||
            storeloc_get64(pl) != (uint64_t)l->received_ms || !seglog_crc_ok(h, pl, plen))
            continue;
        *key = pl + GC_EVENT_PLEN0;
        *klen = k;
        return 1;
    }
    return 0;
}

/* drop_key - delete dedupe key if its newest sighting is past the window.
 * 1 deleted, 0 not, or -rc. */
static int drop_key(struct gc *g, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(g->txn, g->seen, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return -rc;
    if (v.mv_size != 16 || storeloc_get64((const unsigned char *)v.mv_data + 8) >= g->horizon)
        return 0; /* seen again since: that newer event's turn will come */
    rc = mdb_del(g->txn, g->seen, &k, NULL);
    return rc ? -rc : 1;
}

static int meta_get64(struct gc *g, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(g->txn, g->meta, &k, &v);
    *out = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (!rc && v.mv_size == 8)
        *out = storeloc_get64(v.mv_data);
    return rc;
}

/* prune_keys - the dedupe keys of the expired events after *pos, in seq
 * order, looking at up to budget events; *pos moves to the last one dealt
 * with.  0 or an LMDB code. */
static int prune_keys(struct gc *g, uint64_t *pos, size_t budget, size_t *steps,
                      struct gc_stats *out)
{
    MDB_cursor *c;
    MDB_val k, v;
    unsigned char from[8];
    storeloc_put64(from, *pos + 1);
    int rc = mdb_cursor_open(g->txn, g->events, &c);
    if (rc)
        return rc;
    k.mv_size = 8;
    k.mv_data = from;
    for (int r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); r == 0 && *steps < budget && !rc;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8)
            continue;
        uint64_t seq = storeloc_get64(k.mv_data);
        struct store_loc l;
        struct event ev;
        const unsigned char *key = NULL;
        size_t klen = 0;
        unsigned char kb[2 * EVENT_STR_MAX + 2];
        if (storeloc_read(v.mv_data, v.mv_size, &l)) {
            if ((uint64_t)l.received_ms >= g->horizon)
                break;
            /* key: in the log reader's buffer, valid until its next read;
             * not found (key NULL): the catch-all walk will get it */
            log_key(g, seq, &l, &key, &klen);
        } else if (event_rec_parse(v.mv_data, v.mv_size, &ev) == HG_OK) {
            /* a store from before the log: the key was (route, id) unless
             * it was a body hash (left to the catch-all walk) */
            if ((uint64_t)ev.received_ms >= g->horizon)
                break;
            klen = ev.route.len + 1 + ev.id.len;
            if (klen <= g->kmax && klen <= sizeof(kb)) {
                memcpy(kb, ev.route.p, ev.route.len);
                kb[ev.route.len] = 0;
                memcpy(kb + ev.route.len + 1, ev.id.p, ev.id.len);
                key = kb;
            }
        }
        (*steps)++;
        if (key) {
            int d = drop_key(g, key, klen);
            if (d < 0) {
                rc = -d;
                break;
            }
            out->seen += (uint64_t)d;
        }
        *pos = seq;
    }
    mdb_cursor_close(c);
    return rc;
}

/* prune_events - delete the expired, delivered events up to limit (the
 * position of prune_keys: their keys are gone first), up to budget. */
static int prune_events(struct gc *g, uint64_t limit, const char *const *sinks, size_t nsinks,
                        size_t budget, size_t *steps, struct gc_stats *out)
{
    MDB_cursor *c;
    MDB_val k, v;
    uint64_t low = min_cursor(g->txn, g->cursors, sinks, nsinks), newest = 0;
    if (!low || !limit)
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
    for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && *steps < budget && !rc;
         r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        struct event ev;
        if (k.mv_size != 8)
            continue;
        uint64_t seq = storeloc_get64(k.mv_data);
        if (seq > low || seq >= newest || seq > limit)
            break;
        struct store_loc l;
        if (storeloc_read(v.mv_data, v.mv_size, &l)) {
            if ((uint64_t)l.received_ms >= g->horizon)
                break;
        } else if (event_rec_parse(v.mv_data, v.mv_size, &ev) == HG_OK &&
                   (uint64_t)ev.received_ms >= g->horizon) {
            break;
        }
        if (dead_holds(g, seq))
            continue;
        rc = mdb_cursor_del(c, 0);
        (*steps)++;
        out->events++;
    }
    mdb_cursor_close(c);
    return rc;
}

/* scan_keys - the catch-all: look at up to budget dedupe keys from where
 * the last call stopped, deleting those past the window. */
static int scan_keys(struct gc *g, size_t budget, struct gc_stats *out)
{
    MDB_cursor *c;
    MDB_val k, v, mk = {strlen(GC_META_SCAN), GC_META_SCAN}, at;
    unsigned char start[512];
    size_t slen = 0, seen = 0;
    int rc = mdb_get(g->txn, g->meta, &mk, &at);
    if (rc == 0 && at.mv_size && at.mv_size <= sizeof(start)) {
        memcpy(start, at.mv_data, at.mv_size);
        slen = at.mv_size;
    } else if (rc && rc != MDB_NOTFOUND) {
        return rc;
    }
    if ((rc = mdb_cursor_open(g->txn, g->seen, &c)))
        return rc;
    k.mv_size = slen;
    k.mv_data = start;
    int r = slen ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    for (; r == 0 && seen < budget && !rc; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        seen++;
        if (v.mv_size == 16 && storeloc_get64((const unsigned char *)v.mv_data + 8) < g->horizon) {
            rc = mdb_cursor_del(c, 0);
            out->seen++;
        }
    }
    if (!rc && r == 0 && k.mv_size <= sizeof(start)) { /* the next key: resume there */
        memcpy(start, k.mv_data, k.mv_size);
        MDB_val nv = {k.mv_size, start};
        rc = mdb_put(g->txn, g->meta, &mk, &nv, 0);
    } else if (!rc && slen) { /* went round: the next call starts at the first key */
        rc = mdb_del(g->txn, g->meta, &mk, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (r != 0 && r != MDB_NOTFOUND && !rc)
        rc = r;
    mdb_cursor_close(c);
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
    if (g->fd >= 0)
        close(g->fd);
    free(g->buf);
    for (size_t i = 0; i < g->ndead; i++)
        free(g->dead_sinks[i]);
}

int gc_txn(MDB_env *env, uint64_t window_ms, const char *const *sinks, size_t nsinks, size_t max,
           struct gc_stats *out)
{
    struct gc g;
    memset(&g, 0, sizeof(g));
    g.env = env;
    g.fd = -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    g.horizon = (uint64_t)now > window_ms ? (uint64_t)now - window_ms : 0;
    int km = mdb_env_get_maxkeysize(env);
    g.kmax = km > 0 ? (size_t)km : 511;
    int rc = mdb_txn_begin(env, NULL, 0, &g.txn);
    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(g.txn, "seen", 0, &g.seen)) ||
        (rc = mdb_dbi_open(g.txn, "events", 0, &g.events)) ||
        (rc = mdb_dbi_open(g.txn, "cursors", 0, &g.cursors)) ||
        (rc = mdb_dbi_open(g.txn, "dead", MDB_CREATE, &g.dead)) ||
        (rc = mdb_dbi_open(g.txn, "meta", MDB_CREATE, &g.meta))) {
        mdb_txn_abort(g.txn);
        return rc;
    }
    size_t steps = 0, half = max - max / 2;
    uint64_t pos, pos0;
    rc = meta_get64(&g, GC_META_SEEN, &pos);
    pos0 = pos;
    /* keys first (up to half the steps), then the events whose keys are
     * gone, with the rest: neither side can starve the other */
    if (!rc)
        rc = prune_keys(&g, &pos, half, &steps, out);
    int more = steps >= half;
    if (!rc)
        rc = prune_events(&g, pos, sinks, nsinks, max, &steps, out);
    if (!rc && max)
        rc = scan_keys(&g, max / GC_SCAN_DIV ? max / GC_SCAN_DIV : 1, out);
    if (!rc && pos != pos0) {
        unsigned char b[8];
        storeloc_put64(b, pos);
        MDB_val k = {strlen(GC_META_SEEN), GC_META_SEEN}, v = {8, b};
        rc = mdb_put(g.txn, g.meta, &k, &v, 0);
    }
    if (!rc)
        rc = first_indexed(&g, &out->first);
    gc_free(&g);
    if (rc) {
        mdb_txn_abort(g.txn);
        return rc;
    }
    out->more = more || steps >= max;
    return mdb_txn_commit(g.txn);
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
