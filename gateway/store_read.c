/*
 * store_read.c - reading the store: delivery scans, cursors, dead letters,
 * replay requests, and the read-only open the command line uses while
 * `serve` runs (LMDB readers never block the writer).
 *
 * Every read transaction here is short and taken under resize_lock's read
 * side, so the checkpointer can grow the map between them.  An event's
 * record is read from the segment log at the locator LMDB's index (or the
 * in-memory tail) gives; runs of neighbouring records are read with one
 * pread.  A store from before the log keeps its records in the index.
 */
#include "err.h"
#include "store.h"
#include "store_int.h"
#include "seengen.h"
#include "storeloc.h"

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_open_reader(const char *dir, struct store **out)
{
    struct store *st = store_alloc();
    if (!st)
        return HG_ENOMEM;
    st->reader = 1;
    if (!(st->dir = strdup(dir))) {
        store_close(st);
        return HG_ENOMEM;
    }
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&st->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS);
    if (!rc)
        rc = mdb_env_open(st->env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (!rc)
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, "events", 0, &st->events);
    if (!rc)
        rc = mdb_dbi_open(txn, SEENGEN_NAME0, 0, &st->seen[0]);
    if (!rc && mdb_dbi_open(txn, SEENGEN_NAME1, 0, &st->seen[1]) != 0)
        st->seen[1] = 0; /* a store from before the two generations */
    if (!rc)
        rc = mdb_dbi_open(txn, "cursors", 0, &st->cursors);
    if (!rc)
        rc = mdb_dbi_open(txn, "meta", 0, &st->meta);
    if (!rc && mdb_dbi_open(txn, "dead", 0, &st->dead) != 0)
        st->dead = 0; /* a store from before dead letters: none */
    if (!rc && mdb_dbi_open(txn, "replay", 0, &st->replay) != 0)
        st->replay = 0;
    if (!rc && mdb_dbi_open(txn, "rejected", 0, &st->rejected) != 0)
        st->rejected = 0; /* a store from before the ring: none */
    MDB_cursor *c;
    if (!rc && !mdb_cursor_open(txn, st->events, &c)) {
        MDB_val k, v;
        if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
            st->last_seq = get_be64(k.mv_data);
        mdb_cursor_close(c);
    }
    if (!rc && !mdb_cursor_open(txn, st->cursors, &c)) { /* as store_open counts */
        MDB_val k, v;
        for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
            if (v.mv_size == 8 && get_be64(v.mv_data) > st->last_seq)
                st->last_seq = get_be64(v.mv_data);
        mdb_cursor_close(c);
    }
    if (txn && rc)
        mdb_txn_abort(txn);
    else if (txn) /* committing (even read-only) keeps the DBI handles open */
        rc = mdb_txn_commit(txn);
    if (!rc)
        rc = store_ckpt_recover(st); /* the log's records after the checkpoint */
    if (rc) {
        fprintf(stderr, "hookgate: cannot open the store in %s: %s\n", dir,
                rc == EBADMSG ? "the log is damaged before its end" : mdb_strerror(rc));
        store_close(st);
        return HG_ESTORE;
    }
    *out = st;
    return HG_OK;
}

/* A record to hand to the visitor: in the log, or (a store from before
 * the log) in LMDB's map. */
struct srec {
    uint64_t seq;
    struct seglog_loc loc; /* seg 0: rec/len below */
    const void *rec;
    size_t len;
};

#define SCAN_RUN      64        /* records gathered before they are read */
#define SCAN_SPAN_MAX (1 << 20) /* one pread covers neighbours up to this */

/* visit_run - read r[0..n) from the log (neighbours in one pread) and hand
 * each to fn.  0 to go on, 1 if fn stopped, HG_ESTORE on a read error. */
static int visit_run(struct store *st, struct seglog *lg, struct srec *r, size_t n,
                     store_scan_fn fn, void *arg, unsigned char **buf, size_t *cap)
{
    for (size_t i = 0; i < n;) {
        if (!r[i].loc.seg) {
            if (fn(arg, r[i].seq, r[i].rec, r[i].len))
                return 1;
            i++;
            continue;
        }
        size_t j = i + 1;
        uint64_t lo = r[i].loc.off, hi = lo + r[i].loc.len;
        while (j < n && r[j].loc.seg == r[i].loc.seg && r[j].loc.off >= hi &&
               r[j].loc.off + r[j].loc.len - lo <= SCAN_SPAN_MAX && r[j].loc.off - hi <= 4096) {
            hi = r[j].loc.off + r[j].loc.len;
            j++;
        }
        if (hi - lo > *cap) {
            unsigned char *b = realloc(*buf, hi - lo);
            if (!b)
                return HG_ESTORE;
            *buf = b;
            *cap = hi - lo;
        }
        struct seglog_loc span = {r[i].loc.seg, lo, (uint32_t)(hi - lo)};
        if (seglog_pread(lg, &span, *buf))
            return HG_ESTORE;
        for (; i < j; i++)
            if (fn(arg, r[i].seq, *buf + (r[i].loc.off - lo), r[i].loc.len))
                return 1;
    }
    (void)st;
    return 0;
}

/* gather_lmdb - up to max records of seqs in (after, upto] from LMDB's
 * index into r; *n set, *last the last seq looked at.  Legacy records
 * are copied (the transaction ends before they are visited). */
static int gather_lmdb(struct store *st, uint64_t after, uint64_t upto, size_t max, struct srec *r,
                       size_t *n, unsigned char **legacy, size_t *lcap)
{
    MDB_txn *txn;
    MDB_cursor *c;
    unsigned char kb[8];
    size_t lused = 0;
    *n = 0;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (rc) {
        pthread_rwlock_unlock(&st->resize_lock);
        return HG_ESTORE;
    }
    if ((rc = mdb_cursor_open(txn, st->events, &c)) == 0) {
        be64(kb, after + 1);
        MDB_val k = {8, kb}, v;
        MDB_cursor_op op = MDB_SET_RANGE;
        for (; *n < max; op = MDB_NEXT) {
            if ((rc = mdb_cursor_get(c, &k, &v, op)))
                break;
            if (k.mv_size != 8)
                continue;
            uint64_t seq = get_be64(k.mv_data);
            if (seq > upto)
                break;
            struct store_loc l;
            struct srec *x = &r[(*n)++];
            x->seq = seq;
            x->rec = NULL;
            x->len = 0;
            if (storeloc_read(v.mv_data, v.mv_size, &l)) {
                x->loc.seg = l.seg;
                x->loc.off = l.off;
                x->loc.len = l.len;
                continue;
            }
            x->loc.seg = 0;
            if (!*legacy || lused + v.mv_size > *lcap) { /* offsets for now, pointers below */
                size_t nc = (*lcap ? *lcap : 65536);
                while (nc < lused + v.mv_size)
                    nc *= 2;
                unsigned char *b = realloc(*legacy, nc);
                if (!b) {
                    rc = ENOMEM;
                    break;
                }
                *legacy = b;
                *lcap = nc;
            }
            memcpy(*legacy + lused, v.mv_data, v.mv_size);
            x->rec = (const void *)(uintptr_t)lused;
            x->len = v.mv_size;
            lused += v.mv_size;
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->resize_lock);
    for (size_t i = 0; i < *n; i++)
        if (!r[i].loc.seg)
            r[i].rec = *legacy + (uintptr_t)r[i].rec;
    return rc == 0 || rc == MDB_NOTFOUND ? HG_OK : HG_ESTORE;
}

int store_scan(struct store *st, uint64_t after, size_t max, store_scan_fn fn, void *arg)
{
    struct srec r[SCAN_RUN];
    unsigned char *buf = NULL, *legacy = NULL;
    size_t cap = 0, lcap = 0;
    uint64_t last = store_last_seq(st); /* nothing past it is durable yet */
    int rc = HG_OK;
    while (max && after < last && rc == HG_OK) {
        size_t want = max < SCAN_RUN ? max : SCAN_RUN, n = 0;
        pthread_mutex_lock(&st->plock);
        uint64_t pruned = st->pend.pruned;
        struct seglog *lg = st->log;
        if (after >= pruned) { /* the tail: in memory */
            for (; n < want && after + n < last; n++) {
                struct pend_ev *e = store_pend_get(&st->pend, after + n + 1);
                if (!e)
                    break;
                r[n].seq = e->seq;
                r[n].loc = e->loc; /* seg >= 1: log segments start at seq 1 */
                r[n].rec = NULL;
                r[n].len = 0;
            }
        }
        pthread_mutex_unlock(&st->plock);
        if (after < pruned) {
            if ((rc = gather_lmdb(st, after, pruned, want, r, &n, &legacy, &lcap)))
                break;
            if (!n) { /* nothing indexed in (after, pruned]: gone by retention */
                after = pruned;
                continue;
            }
        } else if (!n) {
            /* not in the tail: a record LMDB holds past the checkpoint (an
             * older version's), or seqs past the log's last record */
            if ((rc = gather_lmdb(st, after, last, want, r, &n, &legacy, &lcap)) || !n)
                break;
        }
        after = r[n - 1].seq;
        max -= n;
        int v = visit_run(st, lg, r, n, fn, arg, &buf, &cap);
        if (v == 1)
            break;
        rc = v;
    }
    free(buf);
    free(legacy);
    return rc;
}

/* dead_rec - one "dead" entry (k, v) to fn; 0 if it is not a well-formed
 * entry of sink (any sink if NULL), else 1, and *stop as fn said. */
static int dead_rec(const MDB_val *k, const MDB_val *v, const char *sink, store_dead_fn fn,
                    void *arg, int *stop)
{
    const unsigned char *kb = k->mv_data, *vb = v->mv_data;
    size_t nl = strnlen((const char *)kb, k->mv_size);
    if (nl + 9 != k->mv_size || v->mv_size < 12)
        return 0;
    if (sink && (strlen(sink) != nl || memcmp(sink, kb, nl)))
        return 0;
    char name[STORE_SINK_MAX + 1], err[256];
    snprintf(name, sizeof(name), "%.*s", (int)nl, (const char *)kb);
    size_t el = v->mv_size - 12 < sizeof(err) - 1 ? v->mv_size - 12 : sizeof(err) - 1;
    memcpy(err, vb + 12, el);
    err[el] = '\0';
    unsigned att = (unsigned)vb[8] << 24 | (unsigned)vb[9] << 16 | (unsigned)vb[10] << 8 | vb[11];
    *stop = fn(arg, name, get_be64(kb + nl + 1), att, (int64_t)get_be64(vb), err) != 0;
    return 1;
}

int store_dead_scan(struct store *st, const char *sink, store_dead_fn fn, void *arg)
{
    size_t nl = sink ? strlen(sink) : 0;
    if (!st->dead || nl > STORE_SINK_MAX)
        return HG_OK;
    MDB_txn *txn = NULL;
    MDB_cursor *c;
    unsigned char kb[STORE_SINK_MAX + 9];
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (!rc && !(rc = mdb_cursor_open(txn, st->dead, &c))) {
        /* keys are sink NUL be64(seq): one sink's letters are one range */
        MDB_val k = {nl + 9, kb}, v;
        if (sink) {
            memcpy(kb, sink, nl + 1);
            memset(kb + nl + 1, 0, 8);
        }
        int stop = 0;
        for (int r = mdb_cursor_get(c, &k, &v, sink ? MDB_SET_RANGE : MDB_FIRST); r == 0 && !stop;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (sink && (k.mv_size < nl + 1 || memcmp(k.mv_data, sink, nl + 1)))
                break; /* past the sink's range */
            dead_rec(&k, &v, sink, fn, arg, &stop);
        }
        mdb_cursor_close(c);
    }
    if (txn)
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->resize_lock);
    return rc ? HG_ESTORE : HG_OK;
}

int store_dead_get(struct store *st, const char *sink, uint64_t seq, store_dead_fn fn, void *arg)
{
    unsigned char kb[STORE_SINK_MAX + 9];
    size_t nl = strlen(sink);
    MDB_txn *txn;
    int found = 0, stop = 0;
    if (!st->dead || nl > STORE_SINK_MAX)
        return 0;
    memcpy(kb, sink, nl + 1);
    be64(kb + nl + 1, seq);
    pthread_rwlock_rdlock(&st->resize_lock);
    if (!store_rtxn(st, &txn)) {
        MDB_val k = {nl + 9, kb}, v;
        found = mdb_get(txn, st->dead, &k, &v) == 0 && dead_rec(&k, &v, sink, fn, arg, &stop);
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return found;
}

int store_cursor_scan(struct store *st, store_cursor_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *c;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (!rc) {
        if (!(rc = mdb_cursor_open(txn, st->cursors, &c))) {
            MDB_val k, v;
            for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0;
                 r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                char name[STORE_SINK_MAX + 1];
                if (k.mv_size > STORE_SINK_MAX || v.mv_size != 8)
                    continue;
                memcpy(name, k.mv_data, k.mv_size);
                name[k.mv_size] = '\0';
                if (fn(arg, name, get_be64(v.mv_data)))
                    break;
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return rc ? HG_ESTORE : HG_OK;
}

int store_find_id(struct store *st, const char *id, uint64_t *seq)
{
    MDB_txn *txn;
    MDB_cursor *c;
    size_t il = strlen(id);
    *seq = 0;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (!rc) {
        for (int t = 0; t < 2 && !rc; t++) {
            if (!st->seen[t] || (rc = mdb_cursor_open(txn, st->seen[t], &c)))
                continue;
            MDB_val k, v;
            for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0;
                 r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                const char *kb = k.mv_data;
                size_t rl = strnlen(kb, k.mv_size);
                if (rl < k.mv_size && k.mv_size - rl - 1 == il && !memcmp(kb + rl + 1, id, il) &&
                    v.mv_size == 16) {
                    uint64_t s = get_be64(v.mv_data);
                    if (s > *seq)
                        *seq = s; /* the newest event with this id */
                }
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    pthread_mutex_lock(&st->plock); /* the tail's are newer than LMDB's */
    for (size_t i = 0; i < st->pend.n; i++) {
        const struct pend_ev *e = store_pend_get(&st->pend, st->pend.pruned + 1 + i);
        size_t rl = strnlen((const char *)e->key, e->klen);
        if (rl < e->klen && e->klen - rl - 1 == il && !memcmp(e->key + rl + 1, id, il) &&
            e->seq > *seq)
            *seq = e->seq;
    }
    pthread_mutex_unlock(&st->plock);
    return rc ? HG_ESTORE : HG_OK;
}

static int dead_any(void *arg, const char *sink, uint64_t seq, unsigned attempts, int64_t time_ms,
                    const char *err)
{
    (void)arg, (void)sink, (void)seq, (void)attempts, (void)time_ms, (void)err;
    return 0;
}

int store_dead_has(struct store *st, const char *sink, uint64_t seq)
{
    return store_dead_get(st, sink, seq, dead_any, NULL);
}

int store_replay_next(struct store *st, const char *sink, uint64_t after, struct store_replay *out)
{
    if (!st->replay)
        return 0;
    MDB_txn *txn;
    MDB_cursor *c;
    unsigned char kb[STORE_SINK_MAX + 9];
    size_t nl = strlen(sink);
    int found = 0;
    if (nl > STORE_SINK_MAX)
        return 0;
    memcpy(kb, sink, nl + 1);
    if (after == UINT64_MAX)
        return 0;
    be64(kb + nl + 1, after + 1);
    pthread_rwlock_rdlock(&st->resize_lock);
    if (!store_rtxn(st, &txn)) {
        if (!mdb_cursor_open(txn, st->replay, &c)) {
            MDB_val k = {nl + 9, kb}, v;
            if (!mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) && k.mv_size == nl + 9 &&
                !memcmp(k.mv_data, kb, nl + 1) && v.mv_size == 9) {
                const unsigned char *vb = v.mv_data;
                out->id = get_be64((const unsigned char *)k.mv_data + nl + 1);
                out->dead = vb[0] == STORE_REPLAY_DEAD;
                out->one = vb[0] == STORE_REPLAY_ONE;
                out->from_seq = get_be64(vb + 1);
                found = 1;
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return found;
}

int store_replay_request(const char *dir, const char *sink, int dead, uint64_t from_seq)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char kb[STORE_SINK_MAX + 9], vb[9];
    size_t nl = strlen(sink);
    if (nl > STORE_SINK_MAX)
        return HG_EINVAL;
    memcpy(kb, sink, nl + 1);
    be64(kb + nl + 1, (uint64_t)now_ms());
    vb[0] = dead ? 1 : 0;
    be64(vb + 1, from_seq);
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, STORE_MAXDBS);
    if (!rc) /* a writer beside `serve`: LMDB serialises the two */
        rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    if (!rc && !(rc = mdb_txn_begin(env, NULL, 0, &txn))) {
        rc = mdb_dbi_open(txn, "replay", MDB_CREATE, &dbi);
        /* a request with this id (the same ms) is not replaced: the next id */
        for (int tries = 0; !rc; tries++) {
            MDB_val k = {nl + 9, kb}, v = {9, vb};
            if ((rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE)) != MDB_KEYEXIST || tries == 1000)
                break;
            rc = 0;
            be64(kb + nl + 1, get_be64(kb + nl + 1) + 1);
        }
        if (rc)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);
    }
    if (rc)
        fprintf(stderr, "hookgate: cannot write the replay request in %s: %s\n", dir,
                mdb_strerror(rc));
    mdb_env_close(env);
    return rc ? HG_ESTORE : HG_OK;
}

int store_stats(struct store *st, uint64_t *bytes, uint64_t *dead)
{
    MDB_txn *txn;
    MDB_envinfo info;
    MDB_stat es, ds;
    *bytes = *dead = 0;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = !st->env || mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &es);
    if (!rc && !(rc = store_rtxn(st, &txn))) {
        if (!mdb_stat(txn, st->dead, &ds))
            *dead = ds.ms_entries;
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    if (rc)
        return HG_ESTORE;
    *bytes = (uint64_t)(info.me_last_pgno + 1) * es.ms_psize;
    pthread_mutex_lock(&st->plock);
    if (st->log)
        *bytes += seglog_bytes(st->log);
    pthread_mutex_unlock(&st->plock);
    return HG_OK;
}
