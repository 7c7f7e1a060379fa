/*
 * store_rej.c - the ring of rejected requests, and the console's replay
 * requests (see store.h).
 *
 * A rejected request is queued in memory (bounded: STORE_REJ_QUEUE_MAX
 * records and STORE_REJ_QUEUE_BYTES bytes, so a flood of large bad bodies
 * cannot pin hundreds of megabytes between checkpoints; one more is
 * dropped and counted) and written by the checkpointer with
 * its next transaction (store_ckpt.c), never by the request thread and
 * never in the writer's batch: a flood of bad requests costs the receive
 * path one allocation and one lock each, and no fsync of its own.
 *
 * The "rejected" table: key be64 id (ascending: the newest is last),
 * value be64 time_ms | a JSON object.  After writing, the checkpointer
 * trims it to rej_max records and drops those older than rej_age_ms from
 * the front; store_reject_scan never shows an older one either, so the
 * age bound holds while no new rejection comes to trim it.
 */
#include "store.h"
#include "store_int.h"
#include "err.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REJ_TRIM_MAX 4096 /* deletions per checkpoint: a large cut is spread out */

int store_reject_add(struct store *st, int64_t time_ms, const char *json, size_t len)
{
    if (len > STORE_REJ_JSON_MAX)
        return HG_ETOOBIG;
    pthread_mutex_lock(&st->lock);
    int full = st->rej_queued >= STORE_REJ_QUEUE_MAX ||
               st->rej_qbytes + len > STORE_REJ_QUEUE_BYTES || st->rej_max == 0;
    if (full)
        st->rej_dropped++;
    pthread_mutex_unlock(&st->lock);
    if (full)
        return HG_EBUSY;
    struct rej_rec *r = malloc(sizeof(*r) + 8 + len);
    if (!r)
        return HG_ENOMEM;
    r->next = NULL;
    r->len = 8 + len;
    be64(r->val, (uint64_t)time_ms);
    memcpy(r->val + 8, json, len);
    pthread_mutex_lock(&st->lock);
    if (st->rej_queued >= STORE_REJ_QUEUE_MAX ||
        st->rej_qbytes + len > STORE_REJ_QUEUE_BYTES) { /* filled up meanwhile */
        st->rej_dropped++;
        pthread_mutex_unlock(&st->lock);
        free(r);
        return HG_EBUSY;
    }
    r->id = st->rej_next++;
    r->next = st->rej_pending; /* newest first here; store_rej_put reverses */
    st->rej_pending = r;
    st->rej_queued++;
    st->rej_qbytes += len;
    pthread_mutex_unlock(&st->lock);
    return HG_OK;
}

void store_reject_limits(struct store *st, unsigned max, uint64_t max_age_ms)
{
    pthread_mutex_lock(&st->lock);
    st->rej_max = max;
    st->rej_age_ms = max_age_ms;
    pthread_mutex_unlock(&st->lock);
}

uint64_t store_reject_dropped(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    uint64_t n = st->rej_dropped;
    pthread_mutex_unlock(&st->lock);
    return n;
}

void store_rej_free(struct rej_rec *r)
{
    for (struct rej_rec *nx; r; r = nx) {
        nx = r->next;
        free(r);
    }
}

int store_rej_open(struct store *st, MDB_txn *txn)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, st->rejected, &c);
    if (rc)
        return rc;
    MDB_val k, v;
    uint64_t next = 1;
    if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
        next = get_be64(k.mv_data) + 1;
    mdb_cursor_close(c);
    pthread_mutex_lock(&st->lock); /* a reopen: ids already handed out stay */
    if (next > st->rej_next)
        st->rej_next = next;
    pthread_mutex_unlock(&st->lock);
    return 0;
}

/* trim - drop records from the front while there are more than max or the
 * first is older than cutoff_ms (at most REJ_TRIM_MAX). */
static int trim(struct store *st, MDB_txn *txn, unsigned max, int64_t cutoff_ms)
{
    MDB_stat s;
    int rc = mdb_stat(txn, st->rejected, &s);
    if (rc)
        return rc;
    size_t n = s.ms_entries;
    /* the table's pages: a ring of large records is cut by size too */
    uint64_t bytes =
        (uint64_t)(s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages) * s.ms_psize;
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(txn, st->rejected, &c)))
        return rc;
    MDB_val k, v;
    for (unsigned i = 0; i < REJ_TRIM_MAX && n; i++) {
        if ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)))
            break;
        int old = v.mv_size >= 8 && (int64_t)get_be64(v.mv_data) < cutoff_ms;
        if (n <= max && !old && bytes <= STORE_REJ_BYTES_MAX)
            break;
        size_t vlen = v.mv_size;
        if ((rc = mdb_cursor_del(c, 0)))
            break;
        n--;
        bytes = bytes > vlen ? bytes - vlen : 0;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_rej_put(struct store *st, MDB_txn *txn)
{
    if (!st->wrej)
        return 0;
    /* oldest first, so each put appends */
    struct rej_rec *rev = NULL;
    for (struct rej_rec *r = st->wrej, *nx; r; r = nx) {
        nx = r->next;
        r->next = rev;
        rev = r;
    }
    st->wrej = rev;
    int rc = 0;
    for (struct rej_rec *r = st->wrej; r && !rc; r = r->next) {
        unsigned char kb[8];
        be64(kb, r->id);
        MDB_val k = {8, kb}, v = {r->len, r->val};
        rc = mdb_put(txn, st->rejected, &k, &v, MDB_APPEND);
        if (rc == MDB_KEYEXIST)
            rc = mdb_put(txn, st->rejected, &k, &v, 0);
    }
    pthread_mutex_lock(&st->lock);
    unsigned max = st->rej_max;
    uint64_t age = st->rej_age_ms;
    pthread_mutex_unlock(&st->lock);
    return rc ? rc : trim(st, txn, max, now_ms() - (int64_t)age);
}

/* A chunk of the ring copied out of LMDB, so the visitor runs with no
 * transaction open and no lock held (a slow visitor - the console parsing
 * every record - must not hold off a map resize, and so the writer). */
#define REJ_CHUNK_N     64
#define REJ_CHUNK_BYTES (4u << 20)

struct rej_chunk {
    uint64_t id[REJ_CHUNK_N];
    int64_t t[REJ_CHUNK_N];
    char *json[REJ_CHUNK_N];
    size_t len[REJ_CHUNK_N], n;
    int more; /* older records remain */
};

/* rej_copy - up to a chunk of the records with id < before, newest first. */
static int rej_copy(struct store *st, uint64_t before, int64_t cutoff, struct rej_chunk *ch)
{
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = HG_OK;
    size_t bytes = 0;
    ch->n = 0;
    ch->more = 0;
    pthread_rwlock_rdlock(&st->resize_lock);
    if (store_rtxn(st, &txn)) {
        pthread_rwlock_unlock(&st->resize_lock);
        return HG_ESTORE;
    }
    if (mdb_cursor_open(txn, st->rejected, &c)) {
        rc = HG_ESTORE;
    } else {
        unsigned char kb[8];
        be64(kb, before);
        MDB_val k = {8, kb}, v;
        /* the first key >= before, then one back; or the last */
        int r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        r = r == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) : mdb_cursor_get(c, &k, &v, MDB_LAST);
        for (; r == 0; r = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
            if (k.mv_size != 8 || v.mv_size < 8)
                continue;
            if (ch->n == REJ_CHUNK_N || bytes > REJ_CHUNK_BYTES) {
                ch->more = 1;
                break;
            }
            int64_t t = (int64_t)get_be64(v.mv_data);
            if (t < cutoff)
                continue; /* expired (the clock may have moved: not a stop) */
            char *copy = malloc(v.mv_size - 8 + 1);
            if (!copy) {
                rc = HG_ENOMEM;
                break;
            }
            memcpy(copy, (const char *)v.mv_data + 8, v.mv_size - 8);
            ch->id[ch->n] = get_be64(k.mv_data);
            ch->t[ch->n] = t;
            ch->json[ch->n] = copy;
            ch->len[ch->n++] = v.mv_size - 8;
            bytes += v.mv_size;
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->resize_lock);
    return rc;
}

int store_reject_scan(struct store *st, uint64_t before, store_rej_fn fn, void *arg)
{
    if (!st->rejected)
        return HG_OK; /* a store from before the ring (read-only open) */
    pthread_mutex_lock(&st->lock);
    int64_t cutoff = now_ms() - (int64_t)st->rej_age_ms;
    pthread_mutex_unlock(&st->lock);
    struct rej_chunk *ch = malloc(sizeof(*ch));
    if (!ch)
        return HG_ENOMEM;
    int rc = HG_OK, stop = 0;
    for (uint64_t b = before ? before : UINT64_MAX; !stop && !rc;) {
        rc = rej_copy(st, b, cutoff, ch);
        for (size_t i = 0; i < ch->n; i++) {
            if (!stop && !rc)
                stop = fn(arg, ch->id[i], ch->t[i], ch->json[i], ch->len[i]);
            free(ch->json[i]);
        }
        if (!ch->n || !ch->more)
            break;
        b = ch->id[ch->n - 1];
    }
    free(ch);
    return rc;
}

int store_replay_add(struct store *st, const char *sink, enum store_replay_kind kind, uint64_t seq)
{
    static _Atomic uint64_t last;
    if (strlen(sink) > STORE_SINK_MAX)
        return HG_EINVAL;
    struct dead_rec *d = calloc(1, sizeof(*d));
    if (!d)
        return HG_ENOMEM;
    /* the request's key: a time in ms as the CLI's, unique in this process */
    uint64_t id = (uint64_t)now_ms(), prev = atomic_load(&last);
    do {
        if (id <= prev)
            id = prev + 1;
    } while (!atomic_compare_exchange_weak(&last, &prev, id));
    d->op = OP_REPLAY_ADD;
    snprintf(d->sink, sizeof(d->sink), "%s", sink);
    d->seq = id;
    d->attempts = (unsigned)kind;
    d->arg = seq;
    d->time_ms = now_ms();
    pthread_mutex_lock(&st->lock);
    struct dead_rec **tail = &st->dead_pending;
    while (*tail)
        tail = &(*tail)->next;
    *tail = d;
    pthread_cond_signal(&st->ckpt_wake);
    pthread_mutex_unlock(&st->lock);
    return HG_OK;
}
