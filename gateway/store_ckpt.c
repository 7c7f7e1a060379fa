/*
 * store_ckpt.c - the checkpointer: brings LMDB up to date with the log,
 * and recovery at open (see store_int.h for where an event lives).
 *
 * One thread writes every LMDB write transaction of a running store
 * except the retention sweep's: each checkpoint puts the dedupe keys and
 * index entries of the events the log gained since the last one, the
 * sinks' dead-letter and replay changes and their cursors, and the
 * checkpoint itself (meta "ckpt": the last event's seq and log position;
 * the keys go into the current dedupe table, seengen.h),
 * and commits with LMDB's default durability.  Checkpoints run every
 * STORE_CKPT_MS while events arrive (sooner when the tail grows long),
 * at once for dead letters, after STORE_CURSOR_DELAY_MS for a cursor
 * alone, and once more at close.  Randomly keyed dedupe inserts dirty a
 * page each; a checkpoint of a second of events shares those pages among
 * many events instead of writing them per batch.
 *
 * A failed checkpoint changes nothing that was acknowledged (the events
 * are durable in the log and stay in the tail): LMDB is reopened as after
 * any failed commit (store_reopen), the checkpoint is tried again, and
 * /healthz fails while checkpoints keep failing.  The writer refuses new
 * events once the tail holds STORE_PEND_MAX of them.
 *
 * Recovery (store_ckpt_recover): the log's records after the checkpoint
 * go into the tail, and a writable store checkpoints them at once.
 */
#include "store.h"
#include "store_int.h"
#include "storeloc.h"
#include "seengen.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_CKPT_MS         1000
#define STORE_CURSOR_DELAY_MS 1000
#define CKPT_META_SIZE        28 /* seq, segment, offset (u64 each), length (u32) */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* grow_map - double the map (at most max_size) after MDB_MAP_FULL, for a
 * checkpoint or for the sweeper (need_grow).  Only this thread resizes, so
 * its own transactions need no lock; the others' run under resize_lock's
 * read side. */
static int grow_map(struct store *st)
{
    if (st->map_size >= st->max_size)
        return HG_EFULL;
    uint64_t n = st->map_size * 2;
    if (n > st->max_size)
        n = st->max_size;
    pthread_rwlock_wrlock(&st->resize_lock);
    int rc = mdb_env_set_mapsize(st->env, (size_t)n);
    if (!rc)
        st->map_size = n; /* the sweeper reads it under the read side */
    pthread_rwlock_unlock(&st->resize_lock);
    if (rc) {
        log_msg(LOG_ERROR, "store: cannot grow map", "{s:I,s:s}", "size", (json_int_t)n, "error",
                mdb_strerror(rc));
        return HG_ESTORE;
    }
    log_msg(LOG_INFO, "store: map grown", "{s:I}", "size", (json_int_t)n);
    return HG_OK;
}

/* put_events - the dedupe keys and index entries of ev[0..n). */
static int put_events(struct store *st, MDB_txn *txn, struct pend_ev **ev, size_t n)
{
    struct seengen sg;
    int rc = n ? seengen_get(txn, st->meta, (uint64_t)now_ms(), &sg) : 0;
    if (rc == MDB_NOTFOUND)
        rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char sval[16], ekey[8], lv[STORE_LOC_SIZE];
        be64(sval, ev[i]->seq);
        be64(sval + 8, (uint64_t)ev[i]->received_ms);
        MDB_val k = {ev[i]->klen, ev[i]->key}, v = {16, sval};
        if ((rc = mdb_put(txn, st->seen[sg.cur], &k, &v, 0)))
            break;
        if ((uint64_t)ev[i]->received_ms > sg.newest[sg.cur])
            sg.newest[sg.cur] = (uint64_t)ev[i]->received_ms;
        struct store_loc l = {ev[i]->loc.seg, ev[i]->loc.off, ev[i]->loc.len, ev[i]->received_ms};
        storeloc_write(&l, lv);
        be64(ekey, ev[i]->seq);
        MDB_val ek = {8, ekey}, evv = {STORE_LOC_SIZE, lv};
        rc = mdb_put(txn, st->events, &ek, &evv, MDB_APPEND);
        if (rc == MDB_KEYEXIST) /* not above the last key (a replayed checkpoint) */
            rc = mdb_put(txn, st->events, &ek, &evv, 0);
    }
    if (!rc && n) {
        unsigned char m[CKPT_META_SIZE];
        const struct pend_ev *e = ev[n - 1];
        be64(m, e->seq);
        be64(m + 8, e->loc.seg);
        be64(m + 16, e->loc.off);
        m[24] = (unsigned char)(e->loc.len >> 24);
        m[25] = (unsigned char)(e->loc.len >> 16);
        m[26] = (unsigned char)(e->loc.len >> 8);
        m[27] = (unsigned char)e->loc.len;
        MDB_val k = {4, "ckpt"}, v = {CKPT_META_SIZE, m};
        rc = mdb_put(txn, st->meta, &k, &v, 0);
        if (!rc)
            rc = seengen_put(txn, st->meta, &sg);
    }
    return rc;
}

/* put_sinks - the dead-letter/replay changes in st->wdead and the cursors. */
static int put_sinks(struct store *st, MDB_txn *txn, const struct cursor_slot *cur, size_t ncur)
{
    int rc = 0;
    for (struct dead_rec *d = st->wdead; d && !rc; d = d->next) {
        unsigned char kb[STORE_SINK_MAX + 9], vb[12 + sizeof(d->err)];
        size_t nl = strlen(d->sink), el = strlen(d->err);
        memcpy(kb, d->sink, nl + 1);
        be64(kb + nl + 1, d->seq);
        if (d->op == OP_REPLAY_ADD) { /* the console's request, as the CLI writes one */
            vb[0] = (unsigned char)d->attempts;
            be64(vb + 1, d->arg);
            /* ids are times in ms: one the CLI wrote in the same ms must
             * not be replaced; the next free id is as good */
            for (int tries = 0;; tries++) {
                MDB_val k = {nl + 9, kb}, v = {9, vb};
                rc = mdb_put(txn, st->replay, &k, &v, MDB_NOOVERWRITE);
                if (rc != MDB_KEYEXIST)
                    break;
                if (tries == 1000) { /* not to fail the checkpoint for it */
                    log_msg(LOG_WARN, "store: replay request dropped: no free id", "{s:s}", "sink",
                            d->sink);
                    rc = 0;
                    break;
                }
                be64(kb + nl + 1, get_be64(kb + nl + 1) + 1);
            }
            continue;
        }
        if (d->op != OP_DEAD_ADD) {
            MDB_val k = {nl + 9, kb};
            rc = mdb_del(txn, d->op == OP_DEAD_DEL ? st->dead : st->replay, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
            continue;
        }
        be64(vb, (uint64_t)d->time_ms);
        vb[8] = (unsigned char)(d->attempts >> 24);
        vb[9] = (unsigned char)(d->attempts >> 16);
        vb[10] = (unsigned char)(d->attempts >> 8);
        vb[11] = (unsigned char)d->attempts;
        memcpy(vb + 12, d->err, el);
        MDB_val k = {nl + 9, kb}, v = {12 + el, vb};
        rc = mdb_put(txn, st->dead, &k, &v, 0);
    }
    for (size_t i = 0; i < ncur && !rc; i++) {
        unsigned char s[8];
        be64(s, cur[i].seq);
        MDB_val k = {strlen(cur[i].name), (void *)cur[i].name}, v = {8, s};
        rc = mdb_put(txn, st->cursors, &k, &v, 0);
    }
    return rc;
}

static int ckpt_txn(struct store *st, struct pend_ev **ev, size_t n, const struct cursor_slot *cur,
                    size_t ncur)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return rc;
    if ((rc = put_events(st, txn, ev, n)) || (rc = put_sinks(st, txn, cur, ncur))) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* rej_txn - the rejected requests in st->wrej, in a transaction of their
 * own after the checkpoint's: the ring can never fail or hold back the
 * events, cursors and dead letters (a failure drops these records). */
static void rej_txn(struct store *st)
{
    MDB_txn *txn;
    if (!st->wrej || !st->env || mdb_txn_begin(st->env, NULL, 0, &txn))
        return;
    int rc = store_rej_put(st, txn);
    if (rc)
        mdb_txn_abort(txn);
    else
        rc = mdb_txn_commit(txn);
    if (rc && log_limit("", "rejected ring"))
        log_msg(LOG_WARN, "store: rejected requests not kept", "{s:s}", "error", mdb_strerror(rc));
}

/* checkpoint - LMDB up to target (events) plus st->wdead and cur.
 * Checkpointer thread (or store_open before any thread).  0 or an
 * LMDB/errno code. */
static int checkpoint(struct store *st, uint64_t target, const struct cursor_slot *cur, size_t ncur)
{
    int rc = st->env ? 0 : store_reopen(st);
    if (rc)
        return rc;
    uint64_t from = st->ckpt_seq;
    size_t n = target > from ? (size_t)(target - from) : 0;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    struct pend_ev **ev = n ? malloc(n * sizeof(*ev)) : NULL;
    if (n && !ev)
        return ENOMEM;
    pthread_mutex_lock(&st->plock); /* entries stay put until pruned past ckpt_seq */
    for (size_t i = 0; i < n; i++)
        if (!(ev[i] = store_pend_get(&st->pend, from + 1 + i)))
            rc = EINVAL;
    pthread_mutex_unlock(&st->plock);
    for (int tries = 0; rc == 0; tries++) { /* grown: the whole checkpoint again */
        rc = ckpt_txn(st, ev, n, cur, ncur);
        if (rc != MDB_MAP_FULL || tries == 15 || grow_map(st))
            break;
        rc = 0;
    }
    if (!rc) {
        rej_txn(st);
        MDB_envinfo info;
        MDB_stat es;
        pthread_mutex_lock(&st->plock);
        st->ckpt_seq = target > from ? target : from;
        if (n)
            st->ckpt_loc = ev[n - 1]->loc;
        pthread_mutex_unlock(&st->plock);
        if (!mdb_env_info(st->env, &info) && !mdb_env_stat(st->env, &es))
            st->lmdb_bytes = (uint64_t)(info.me_last_pgno + 1) * es.ms_psize;
    }
    free(ev);
    if (rc && rc != MDB_MAP_FULL && st->env)
        store_reopen(st); /* LMDB's memory of the file may be off (store.c) */
    return rc;
}

/* ckpt_target - the newest durable event the tail holds (lock held): seqs
 * can run past the log's last record (cursors ahead of it in an old
 * store), and the tail holds the writer's batch before it is durable. */
static uint64_t ckpt_target(struct store *st)
{
    pthread_mutex_lock(&st->plock);
    uint64_t t = store_pend_last(&st->pend);
    pthread_mutex_unlock(&st->plock);
    return t < st->last_seq ? t : st->last_seq;
}

/* ckpt_due - 1 if a checkpoint should run now; else *wait_ms until one
 * may be due.  Lock held. */
static int ckpt_due(struct store *st, int final, int64_t since, int *ncur, int64_t *wait_ms)
{
    *ncur = 0;
    for (size_t i = 0; i < st->ncur; i++)
        *ncur += st->cur[i].dirty != 0;
    uint64_t target = ckpt_target(st);
    int events = target > st->ckpt_seq;
    int any = events || *ncur || st->dead_pending || st->rej_pending;
    int64_t age = mono_ms() - since;
    *wait_ms = STORE_CKPT_MS;
    if (final || st->need_reopen || st->need_grow)
        return any || st->need_reopen || st->need_grow;
    if (st->ckpt_failing) /* retry once a second, whatever is waiting */
        return any && age >= 1000;
    if ((events && (age >= STORE_CKPT_MS || target - st->ckpt_seq >= STORE_CKPT_KICK)) ||
        st->dead_pending || ((*ncur || st->rej_pending) && age >= STORE_CURSOR_DELAY_MS))
        return 1;
    if (any)
        *wait_ms = STORE_CKPT_MS - age > 1 ? STORE_CKPT_MS - age : 1;
    return 0;
}

/* after_ckpt - keep or release the sink state a checkpoint carried.  Lock held. */
static void after_ckpt(struct store *st, int rc, const struct cursor_slot *cur, size_t ncur)
{
    if (rc && st->wdead) { /* keep them for the next checkpoint */
        struct dead_rec *t = st->wdead;
        while (t->next)
            t = t->next;
        t->next = st->dead_pending;
        st->dead_pending = st->wdead;
    } else {
        for (struct dead_rec *d = st->wdead, *nx; d; d = nx) {
            nx = d->next;
            free(d);
        }
    }
    st->wdead = NULL;
    store_rej_free(st->wrej); /* best effort: a failed checkpoint loses them */
    st->wrej = NULL;
    if (rc) {
        for (size_t i = 0; i < ncur; i++) /* retry these cursors next time */
            for (size_t k = 0; k < st->ncur; k++)
                if (!strcmp(st->cur[k].name, cur[i].name))
                    st->cur[k].dirty = 1;
        if (!st->ckpt_failing)
            log_msg(LOG_ERROR, "store: checkpoint failed; events stay in the log, will retry",
                    "{s:s}", "error", mdb_strerror(rc));
        st->ckpt_failing = 1;
        if (!st->ckpt_fail_ms)
            st->ckpt_fail_ms = now_ms();
    } else {
        if (st->ckpt_failing)
            log_msg(LOG_INFO, "store: checkpoints work again", "{s:I}", "ckpt_seq",
                    (json_int_t)st->ckpt_seq);
        st->ckpt_failing = 0;
        st->ckpt_fail_ms = 0;
    }
}

void *store_ckpt_main(void *arg)
{
    pthread_setname_np(pthread_self(), "hg-store-ckpt"); /* top -H, perf */
    struct store *st = arg;
    struct cursor_slot cur[STORE_MAX_CURSORS];
    int64_t since = mono_ms();
    pthread_mutex_lock(&st->lock);
    for (;;) {
        int final = st->stopping && !st->writer_running, ndirty;
        int64_t wait_ms;
        if (!ckpt_due(st, final, since, &ndirty, &wait_ms)) {
            if (final)
                break;
            struct timespec dl;
            store_deadline(&dl, (uint64_t)wait_ms);
            pthread_cond_timedwait(&st->ckpt_wake, &st->lock, &dl);
            continue;
        }
        if (st->need_reopen) {
            st->need_reopen = 0;
            pthread_mutex_unlock(&st->lock);
            store_reopen(st);
            pthread_mutex_lock(&st->lock);
            continue;
        }
        if (st->need_grow) { /* the sweeper retries once it is done */
            st->need_grow = 0;
            pthread_mutex_unlock(&st->lock);
            if (st->env)
                grow_map(st);
            pthread_mutex_lock(&st->lock);
            continue;
        }
        uint64_t target = ckpt_target(st);
        size_t ncur = 0;
        for (size_t i = 0; i < st->ncur; i++) {
            if (st->cur[i].dirty) {
                cur[ncur++] = st->cur[i];
                st->cur[i].dirty = 0;
            }
        }
        /* dead letters go in the same transaction as (or one before) the
         * cursor that moves past them: they were added first */
        st->wdead = st->dead_pending;
        st->dead_pending = NULL;
        st->wrej = st->rej_pending;
        st->rej_pending = NULL;
        st->rej_queued = 0;
        st->rej_qbytes = 0;
        pthread_mutex_unlock(&st->lock);
        int rc = checkpoint(st, target, cur, ncur);
        since = mono_ms();
        pthread_mutex_lock(&st->lock);
        after_ckpt(st, rc, cur, ncur);
        if (rc && final) {
            /* the store refuses writes and we are leaving: the events are
             * in the log (the next start checkpoints them); sink state
             * that cannot be written is delivered again after the restart */
            log_msg(LOG_ERROR,
                    "store: dropping unwritten sink state at stop; events "
                    "will be delivered again",
                    NULL);
            break;
        }
    }
    st->ckpointer_running = 0;
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

/* ---------------------------------------------------------------- recovery */

/* on_rec - a record of the log after the checkpoint: into the tail. */
static int on_rec(void *arg, enum seglog_type type, uint64_t seq, const void *payload,
                  const struct seglog_loc *loc)
{
    struct store *st = arg;
    if (type != SEGLOG_EVENT)
        return 0;
    const unsigned char *p = payload;
    if (loc->len < 10)
        return EBADMSG;
    size_t klen = (size_t)p[8] << 8 | p[9];
    if (10 + klen > loc->len)
        return EBADMSG;
    struct seglog_loc rl = {loc->seg, loc->off + 10 + klen, (uint32_t)(loc->len - 10 - klen)};
    return store_pend_add(&st->pend, seq, (int64_t)get_be64(p), p + 10, klen, &rl);
}

int store_ckpt_recover(struct store *st)
{
    MDB_txn *txn;
    struct seglog_loc from = {0, 0, 0};
    uint64_t from_seq = 0;
    int rc = store_rtxn(st, &txn);
    if (rc)
        return rc;
    MDB_val k = {4, "ckpt"}, v;
    if ((rc = mdb_get(txn, st->meta, &k, &v)) == 0 && v.mv_size == CKPT_META_SIZE) {
        const unsigned char *m = v.mv_data;
        from_seq = get_be64(m);
        from.seg = get_be64(m + 8);
        from.off = get_be64(m + 16);
        from.len = (uint32_t)m[24] << 24 | (uint32_t)m[25] << 16 | (uint32_t)m[26] << 8 | m[27];
        rc = 0;
    } else if (rc == MDB_NOTFOUND || rc == 0) {
        /* nothing checkpointed from the log yet: it goes on from the
         * newest seq LMDB knows (open_dbs counted the cursors in) */
        from_seq = st->last_seq;
        rc = 0;
    }
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    if ((rc = seglog_open(st->dir, st->reader, &st->log)))
        return rc;
    st->pend.pruned = from_seq;
    st->ckpt_seq = from_seq;
    st->ckpt_loc = from;
    uint64_t end, cut;
    if ((rc = seglog_recover(st->log, &from, from_seq, on_rec, st, &end, &cut)))
        return rc;
    if (cut)
        log_msg(st->reader ? LOG_DEBUG : LOG_INFO,
                "store: cut the log's unacknowledged tail after a crash", "{s:I,s:I}", "bytes",
                (json_int_t)cut, "last_seq", (json_int_t)end);
    st->log_seq = end;
    if (end > st->last_seq)
        st->last_seq = end;
    st->log_bytes = seglog_bytes(st->log);
    if (st->reader || end == from_seq)
        return 0;
    log_msg(LOG_INFO, "store: recovered events from the log", "{s:I,s:I}", "from_seq",
            (json_int_t)from_seq + 1, "last_seq", (json_int_t)end);
    if ((rc = checkpoint(st, end, NULL, 0)))
        log_msg(LOG_WARN, "store: cannot checkpoint the recovered events yet; will retry", "{s:s}",
                "error", mdb_strerror(rc));
    return 0;
}
