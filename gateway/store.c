/*
 * store.c - LMDB store with a group-commit writer (see store.h).
 *
 * One writer thread owns every write transaction.  It sleeps on a condition
 * variable until something is queued, takes the whole queue (up to
 * STORE_BATCH_MAX), writes it in one transaction and commits with LMDB's
 * default durability (fdatasync of data then meta page).  Only after
 * mdb_txn_commit returns 0 does any item learn it is stored.  The batch then
 * goes to a completer thread that calls each item's done() (resuming the
 * connections), so the writer can start the next commit at once: resuming
 * dozens of connections costs a syscall each, and the disk would otherwise
 * sit idle meanwhile.
 *
 * MDB_MAP_FULL: the map is doubled (never past max_size) and the whole batch
 * is replayed from scratch in a new transaction.  Growing the map needs no
 * live read transaction in this process, so readers hold a read lock on
 * resize_lock for the life of their transaction and the writer takes it
 * exclusively to resize.
 *
 * Any other failure answers every item of the batch with an error (503)
 * and then reopens the environment (store_reopen, store_open.c): a failed commit may leave
 * LMDB's in-memory state out of step with the file - after a failed meta
 * page write LMDB refuses every later transaction (MDB_PANIC) - while the
 * file itself still holds the last good commit, which reopening rereads.
 * The process stays up, answers 503 + Retry-After while the disk keeps
 * failing, and takes events again as soon as a commit succeeds.  If the
 * reopen itself fails the store is "broken": /healthz fails, and every batch
 * retries the reopen (at most once a second) before it answers 503.
 */
#include "store.h"
#include "store_int.h"
#include "benchknob.h"
#include "err.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_BATCH_MAX       4096
#define STORE_UNHEALTHY_MS    30000
#define STORE_CURSOR_DELAY_MS 1000

static int map_err(int rc)
{
    if (rc == MDB_MAP_FULL || rc == ENOSPC)
        return HG_EFULL;
    return HG_ESTORE;
}

static int grow_map(struct store *st)
{
    if (st->map_size >= st->max_size)
        return HG_EFULL;
    uint64_t n = st->map_size * 2;
    if (n > st->max_size)
        n = st->max_size;
    pthread_rwlock_wrlock(&st->resize_lock);
    int rc = mdb_env_set_mapsize(st->env, (size_t)n);
    pthread_rwlock_unlock(&st->resize_lock);
    if (rc) {
        log_msg(LOG_ERROR, "store: cannot grow map", "{s:I,s:s}", "size", (json_int_t)n, "error",
                mdb_strerror(rc));
        return HG_ESTORE;
    }
    log_msg(LOG_INFO, "store: map grown", "{s:I}", "size", (json_int_t)n);
    st->map_size = n;
    return HG_OK;
}

/* put_event - dedupe and write one event item inside txn. */
static int put_event(struct store *st, MDB_txn *txn, struct store_item *it, uint64_t *next,
                     int64_t now)
{
    unsigned char kbuf[2 * EVENT_STR_MAX + 2], sval[16], ekey[8];
    const struct event_str *id = it->dedupe.len ? &it->dedupe : &it->ev.id;
    size_t klen = it->ev.route.len + 1 + id->len;
    if (klen > (size_t)mdb_env_get_maxkeysize(st->env)) {
        it->result = HG_EBADID; /* this item only; the batch goes on */
        return 0;
    }
    memcpy(kbuf, it->ev.route.p, it->ev.route.len);
    kbuf[it->ev.route.len] = 0;
    memcpy(kbuf + it->ev.route.len + 1, id->p, id->len);
    MDB_val k = {klen, kbuf}, v;
    int rc = mdb_get(txn, st->seen, &k, &v);
    if (rc == 0 && v.mv_size == 16) {
        uint64_t first = get_be64((unsigned char *)v.mv_data + 8);
        if ((uint64_t)now < first + st->window_ms) {
            it->duplicate = 1;
            it->seq = get_be64(v.mv_data);
            return 0;
        }
    } else if (rc != MDB_NOTFOUND && rc != 0) {
        return rc;
    }
    it->duplicate = 0;
    it->seq = ++*next;
    be64(ekey, it->seq);
    MDB_val ek = {8, ekey}, ev = {event_rec_size(&it->ev), NULL};
    if ((rc = mdb_put(txn, st->events, &ek, &ev, MDB_APPEND | MDB_RESERVE)))
        return rc;
    event_rec_write(&it->ev, ev.mv_data);
    be64(sval, it->seq);
    be64(sval + 8, (uint64_t)now);
    v.mv_size = 16;
    v.mv_data = sval;
    return mdb_put(txn, st->seen, &k, &v, 0);
}

/* write_batch - one transaction for items + cursors; returns an LMDB/errno code. */
static int write_batch(struct store *st, struct store_item *items, struct cursor_slot *cur,
                       size_t ncur, uint64_t *next)
{
    MDB_txn *txn;
    int64_t now = now_ms();
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return rc;
    for (struct store_item *it = items; it && !rc; it = it->next) {
        it->result = HG_OK; /* a replayed batch starts clean */
        if (it->kind == STORE_PROBE) {
            unsigned char t[8];
            be64(t, (uint64_t)now);
            MDB_val k = {5, "probe"}, v = {8, t};
            rc = mdb_put(txn, st->meta, &k, &v, 0);
        } else {
            rc = put_event(st, txn, it, next, now);
        }
    }
    for (struct dead_rec *d = st->wdead; d && !rc; d = d->next) {
        unsigned char kb[STORE_SINK_MAX + 9], vb[12 + sizeof(d->err)];
        size_t nl = strlen(d->sink), el = strlen(d->err);
        memcpy(kb, d->sink, nl + 1);
        be64(kb + nl + 1, d->seq);
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
        MDB_val k = {strlen(cur[i].name), cur[i].name}, v = {8, s};
        rc = mdb_put(txn, st->cursors, &k, &v, 0);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static void commit_batch(struct store *st, struct store_item *items, struct cursor_slot *cur,
                         size_t ncur, size_t nitems)
{
    int rc = 0, result = HG_OK;
    int has_events = 0;
    for (struct store_item *it = items; it && !has_events; it = it->next)
        has_events = it->kind == STORE_EVENT;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!st->env) /* closed by a failed commit, and reopening failed */
        rc = store_reopen(st);
    uint64_t first = st->last_seq, next = first;
    if (!rc) {
        for (int tries = 0; tries < 16; tries++) {
            next = first;
            rc = write_batch(st, items, cur, ncur, &next);
            if (rc != MDB_MAP_FULL)
                break;
            if (grow_map(st))
                break;
        }
        if (!rc && benchknob_store() == BK_WALSIM && (rc = benchknob_walsim(st->dir, items))) {
            /* a bench build: a run that cannot write its log is void */
            log_msg(LOG_ERROR, "store: walsim write failed", "{s:s}", "error", strerror(rc));
            abort();
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->n_commits++;
    st->n_items += nitems;
    uint64_t us = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
    st->commit_us += us;
    if (has_events && !rc)
        metrics_commit(nitems, us);
    if (rc) {
        result = map_err(rc);
        log_msg(LOG_ERROR, "store: commit failed; answering 503", "{s:s,s:I}", "error",
                mdb_strerror(rc), "events", (json_int_t)nitems);
    }
    pthread_mutex_lock(&st->lock);
    if (rc && st->wdead) { /* keep them for the next commit */
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
    if (rc) {
        st->healthy = 0;
        st->commit_failed = 1;
        if (has_events)
            st->event_fail_ms = now_ms();
        for (size_t i = 0; i < ncur; i++) /* retry these cursors next time */
            for (size_t k = 0; k < st->ncur; k++)
                if (!strcmp(st->cur[k].name, cur[i].name))
                    st->cur[k].dirty = 1;
    } else {
        st->healthy = 1;
        st->commit_failed = 0;
        if (has_events)
            st->event_fail_ms = 0;
        st->last_seq = next;
    }
    struct store_item *last = NULL;
    for (struct store_item *it = items; it; it = it->next) {
        if (result || it->result != HG_EBADID)
            it->result = result;
        if (it->result)
            it->duplicate = 0;
        last = it;
    }
    /* hand the batch to the completer: the writer goes straight on to the
     * next commit while the connections are resumed */
    if (last) {
        if (st->done_tail)
            st->done_tail->next = items;
        else
            st->done_head = items;
        st->done_tail = last;
        pthread_cond_signal(&st->completer_wake);
    }
    if (!rc && next != first)
        pthread_cond_broadcast(&st->commit);
    pthread_mutex_unlock(&st->lock);
    /* A failed commit other than a map at its maximum size: LMDB's memory of
     * the file may no longer match it (see store_reopen). */
    if (rc && rc != MDB_MAP_FULL && st->env)
        store_reopen(st);
}

/* completer_main - call done() for committed (or failed) items, in order. */
void *store_completer_main(void *arg)
{
    struct store *st = arg;
    pthread_mutex_lock(&st->lock);
    for (;;) {
        if (!st->done_head) {
            st->completing = 0;
            pthread_cond_broadcast(&st->idle);
            if (st->stopping && !st->writer_running)
                break;
            pthread_cond_wait(&st->completer_wake, &st->lock);
            continue;
        }
        struct store_item *items = st->done_head;
        st->done_head = st->done_tail = NULL;
        st->completing = 1;
        pthread_mutex_unlock(&st->lock);
        size_t n = 0;
        for (struct store_item *it = items, *nx; it; it = nx, n++) {
            nx = it->next;
            it->done(it, it->arg);
        }
        pthread_mutex_lock(&st->lock);
        st->queued -= n;
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

void *store_writer_main(void *arg)
{
    struct store *st = arg;
    struct cursor_slot cur[STORE_MAX_CURSORS];
    pthread_mutex_lock(&st->lock);
    for (;;) {
        if (st->need_reopen && !st->stopping) {
            st->need_reopen = 0;
            pthread_mutex_unlock(&st->lock);
            store_reopen(st);
            pthread_mutex_lock(&st->lock);
            continue;
        }
        size_t ncur = 0;
        for (size_t i = 0; i < st->ncur; i++)
            ncur += st->cur[i].dirty != 0;
        if (!st->head) {
            st->busy = 0;
            pthread_cond_broadcast(&st->idle);
            if (!ncur && !st->dead_pending) {
                if (st->stopping) {
                    st->writer_running = 0;
                    pthread_cond_signal(&st->completer_wake);
                    break;
                }
                st->idle_wait = 1;
                pthread_cond_wait(&st->wake, &st->lock);
                st->idle_wait = 0;
                continue;
            }
            if (st->stopping && st->commit_failed) {
                /* the store refuses writes and we are leaving: what cannot
                 * be written is re-delivered after the restart */
                log_msg(LOG_ERROR,
                        "store: dropping unwritten sink state at stop; events "
                        "will be delivered again",
                        NULL);
                for (struct dead_rec *d = st->dead_pending, *nx; d; d = nx) {
                    nx = d->next;
                    free(d);
                }
                st->dead_pending = NULL;
                for (size_t i = 0; i < st->ncur; i++)
                    st->cur[i].dirty = 0;
                continue;
            }
            /* Cursors ride along with the next event commit; alone they wait
             * STORE_CURSOR_DELAY_MS, so delivery never costs an fsync of its
             * own under load (a crash in between only re-delivers).  Dead
             * letters and replay changes go at once - unless the last commit
             * failed: then they wait too, rather than spin on a full disk. */
            if (!st->stopping && (!st->dead_pending || st->commit_failed)) {
                struct timespec dl;
                clock_gettime(CLOCK_REALTIME, &dl);
                dl.tv_sec += STORE_CURSOR_DELAY_MS / 1000;
                if (pthread_cond_timedwait(&st->wake, &st->lock, &dl) != ETIMEDOUT)
                    continue;
            }
        }
        st->busy = 1;
        struct store_item *items = st->head, *last = NULL;
        size_t n = 0;
        for (struct store_item *it = items; it && n < STORE_BATCH_MAX; it = it->next, n++)
            last = it;
        if (last) {
            st->head = last->next;
            last->next = NULL;
            if (!st->head)
                st->tail = NULL;
        }
        ncur = 0;
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
        pthread_mutex_unlock(&st->lock);
        commit_batch(st, items, cur, ncur, n);
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

int store_submit(struct store *st, struct store_item *it)
{
    pthread_mutex_lock(&st->lock);
    int rc = HG_OK;
    if (st->draining || st->stopping)
        rc = HG_ESTOPPING;
    else if (st->queued >= st->max_queue)
        rc = HG_EBUSY;
    if (!rc) {
        it->next = NULL;
        if (st->tail)
            st->tail->next = it;
        else
            st->head = it;
        st->tail = it;
        st->queued++;
        if (!st->busy)
            pthread_cond_signal(&st->wake);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void store_drain(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    st->draining = 1;
    while (st->head || st->busy || st->done_head || st->completing)
        pthread_cond_wait(&st->idle, &st->lock);
    pthread_mutex_unlock(&st->lock);
}

void store_set_sinks(struct store *st, const char *const *sinks, size_t n)
{
    pthread_mutex_lock(&st->lock);
    st->gc_sinks = sinks;
    st->gc_nsinks = n;
    pthread_mutex_unlock(&st->lock);
}

int store_broken(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    int b = st->broken;
    pthread_mutex_unlock(&st->lock);
    return b;
}

uint64_t store_last_seq(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    uint64_t s = st->last_seq;
    pthread_mutex_unlock(&st->lock);
    return s;
}

uint64_t store_wait(struct store *st, uint64_t after, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&st->lock);
    while (st->last_seq <= after && !st->stopping)
        if (pthread_cond_timedwait(&st->commit, &st->lock, &dl) == ETIMEDOUT)
            break;
    uint64_t s = st->last_seq;
    pthread_mutex_unlock(&st->lock);
    return s;
}

int store_cursor_get(struct store *st, const char *sink, uint64_t *out)
{
    *out = 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->ncur; i++) {
        if (!strcmp(st->cur[i].name, sink)) {
            *out = st->cur[i].seq;
            pthread_mutex_unlock(&st->lock);
            return HG_OK;
        }
    }
    pthread_mutex_unlock(&st->lock);
    MDB_txn *txn;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (!rc) {
        MDB_val k = {strlen(sink), (void *)sink}, v;
        rc = mdb_get(txn, st->cursors, &k, &v);
        if (rc == 0 && v.mv_size == 8)
            *out = get_be64(v.mv_data);
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return rc == 0 || rc == MDB_NOTFOUND ? HG_OK : HG_ESTORE;
}

int store_cursor_set(struct store *st, const char *sink, uint64_t seq)
{
    if (strlen(sink) >= sizeof(st->cur[0].name))
        return HG_EINVAL;
    pthread_mutex_lock(&st->lock);
    size_t i;
    for (i = 0; i < st->ncur; i++)
        if (!strcmp(st->cur[i].name, sink))
            break;
    if (i == st->ncur) {
        if (st->ncur == STORE_MAX_CURSORS) {
            pthread_mutex_unlock(&st->lock);
            return HG_ENOMEM;
        }
        /* fits: strlen(sink) < sizeof(name) was checked above */
        snprintf(st->cur[st->ncur++].name, sizeof(st->cur[0].name), "%s", sink);
    }
    st->cur[i].seq = seq;
    st->cur[i].dirty = 1;
    if (st->idle_wait) /* a writer asleep with nothing to do would never write it */
        pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
    return HG_OK;
}

int store_healthy(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    /* a probe can succeed on a full disk (it fits in freed pages) while
     * every event fails: recent event failures count until an event commit
     * succeeds, or for STORE_UNHEALTHY_MS with no event traffic */
    int h = st->healthy && !st->broken &&
            !(st->event_fail_ms && now_ms() - st->event_fail_ms < STORE_UNHEALTHY_MS);
    pthread_mutex_unlock(&st->lock);
    return h;
}

static int pend(struct store *st, enum pend_op op, const char *sink, uint64_t seq,
                unsigned attempts, const char *err)
{
    struct dead_rec *d = calloc(1, sizeof(*d));
    if (!d)
        return HG_ENOMEM;
    d->op = op;
    snprintf(d->sink, sizeof(d->sink), "%s", sink);
    snprintf(d->err, sizeof(d->err), "%s", err ? err : "");
    d->seq = seq;
    d->attempts = attempts;
    d->time_ms = now_ms();
    pthread_mutex_lock(&st->lock);
    struct dead_rec **tail = &st->dead_pending;
    while (*tail)
        tail = &(*tail)->next;
    *tail = d;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
    return HG_OK;
}

int store_dead_add(struct store *st, const char *sink, uint64_t seq, unsigned attempts,
                   const char *err)
{
    return pend(st, OP_DEAD_ADD, sink, seq, attempts, err);
}

int store_dead_del(struct store *st, const char *sink, uint64_t seq)
{
    return pend(st, OP_DEAD_DEL, sink, seq, 0, NULL);
}

int store_replay_done(struct store *st, const char *sink, uint64_t id)
{
    return pend(st, OP_REPLAY_DEL, sink, id, 0, NULL);
}
