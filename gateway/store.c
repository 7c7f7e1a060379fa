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
 * and then reopens the environment (reopen_env): a failed commit may leave
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
#include "gc.h"
#include "err.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#define STORE_BATCH_MAX       4096
#define STORE_MAP_INITIAL     (1ULL << 30) /* virtual; the file grows as pages are written */
#define STORE_UNHEALTHY_MS    30000
#define STORE_CURSOR_DELAY_MS 1000
#define STORE_FORMAT          "1"

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

static int reopen_env(struct store *st);

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
        rc = reopen_env(st);
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
     * the file may no longer match it (see reopen_env). */
    if (rc && rc != MDB_MAP_FULL && st->env)
        reopen_env(st);
}

/* completer_main - call done() for committed (or failed) items, in order. */
static void *completer_main(void *arg)
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

static void *writer_main(void *arg)
{
    struct store *st = arg;
    struct cursor_slot cur[STORE_MAX_CURSORS];
    pthread_mutex_lock(&st->lock);
    for (;;) {
        if (st->need_reopen && !st->stopping) {
            st->need_reopen = 0;
            pthread_mutex_unlock(&st->lock);
            reopen_env(st);
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

/* open_dbs - open (create) the sub-databases in one write transaction and
 * set *last to the newest event's seq. */
static int open_dbs(struct store *st, uint64_t *last)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE, &st->events)) ||
        (rc = mdb_dbi_open(txn, "seen", MDB_CREATE, &st->seen)) ||
        (rc = mdb_dbi_open(txn, "cursors", MDB_CREATE, &st->cursors)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) ||
        (rc = mdb_dbi_open(txn, "dead", MDB_CREATE, &st->dead)) ||
        (rc = mdb_dbi_open(txn, "replay", MDB_CREATE, &st->replay))) {
        mdb_txn_abort(txn);
        return rc;
    }
    MDB_val k = {6, "format"}, v;
    rc = mdb_get(txn, st->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        v.mv_size = strlen(STORE_FORMAT);
        v.mv_data = STORE_FORMAT;
        rc = mdb_put(txn, st->meta, &k, &v, 0);
    } else if (rc == 0 &&
               (v.mv_size != strlen(STORE_FORMAT) || memcmp(v.mv_data, STORE_FORMAT, v.mv_size))) {
        log_msg(LOG_ERROR, "store: unknown format version", "{s:s%}", "format",
                (const char *)v.mv_data, v.mv_size);
        rc = MDB_INCOMPATIBLE;
    }
    MDB_cursor *c;
    if (!rc && !(rc = mdb_cursor_open(txn, st->events, &c))) {
        MDB_val ek, ev;
        int r = mdb_cursor_get(c, &ek, &ev, MDB_LAST);
        if (r == 0 && ek.mv_size == 8)
            *last = get_be64(ek.mv_data);
        else if (r != MDB_NOTFOUND)
            rc = r ? r : MDB_CORRUPTED;
        mdb_cursor_close(c);
    }
    /* a store whose newest events were pruned by an older version: no seq
     * at or below a sink's cursor may be handed out again */
    if (!rc && !(rc = mdb_cursor_open(txn, st->cursors, &c))) {
        MDB_val ck, cv;
        for (int r = mdb_cursor_get(c, &ck, &cv, MDB_FIRST); r == 0;
             r = mdb_cursor_get(c, &ck, &cv, MDB_NEXT))
            if (cv.mv_size == 8 && get_be64(cv.mv_data) > *last)
                *last = get_be64(cv.mv_data);
        mdb_cursor_close(c);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* env_open - create and open st->env on st->dir at st->map_size (or the
 * file's larger size) and open the sub-databases.  On failure st->env is
 * left for the caller to close. */
static int env_open(struct store *st)
{
    int rc = mdb_env_create(&st->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(st->env, 8);
    if (!rc)
        rc = mdb_env_set_mapsize(st->env, (size_t)st->map_size);
    if (!rc)
        rc = mdb_env_open(st->env, st->dir, MDB_NOTLS, 0600);
    if (!rc) {
        /* LMDB opens data.mdb without O_CLOEXEC: no handler may inherit it */
        int dfd;
        if (mdb_env_get_fd(st->env, &dfd) == 0)
            fcntl(dfd, F_SETFD, fcntl(dfd, F_GETFD) | FD_CLOEXEC);
        MDB_envinfo info;
        int dead = 0;
        mdb_reader_check(st->env, &dead);
        if (mdb_env_info(st->env, &info) == 0 && info.me_mapsize > st->map_size)
            st->map_size = info.me_mapsize;
        uint64_t last = 0;
        rc = open_dbs(st, &last);
        pthread_mutex_lock(&st->lock);
        if (!rc && last > st->last_seq) /* never backwards (a reopen) */
            st->last_seq = last;
        pthread_mutex_unlock(&st->lock);
    }
    return rc;
}

/* reopen_env - after a failed commit: close the environment and open it
 * again from the files, so that what LMDB holds in memory (its free-page
 * list, its meta page, the fatal-error flag a failed meta write sets) is
 * reread from the last commit that reached the disk.  Runs on the writer
 * thread with no write transaction open; takes resize_lock exclusively, so
 * no read transaction is open either.  On failure st->env stays NULL,
 * st->broken is set and the next batch tries again (at most once per
 * second).  Returns 0 or an LMDB/errno code. */
static int reopen_env(struct store *st)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (st->broken && now - st->reopen_ms < 1000)
        return MDB_PANIC;
    st->reopen_ms = now;
    pthread_rwlock_wrlock(&st->resize_lock);
    if (st->env)
        mdb_env_close(st->env);
    st->env = NULL;
    int rc = env_open(st);
    if (rc && st->env) {
        mdb_env_close(st->env);
        st->env = NULL;
    }
    pthread_rwlock_unlock(&st->resize_lock);
    pthread_mutex_lock(&st->lock);
    int was = st->broken;
    st->broken = rc != 0;
    pthread_mutex_unlock(&st->lock);
    if (rc && !was)
        log_msg(LOG_ERROR, "store: cannot reopen after a failed commit; will retry", "{s:s}",
                "error", mdb_strerror(rc));
    else if (!rc)
        log_msg(LOG_INFO, "store: reopened after a failed commit", "{s:I}", "last_seq",
                (json_int_t)st->last_seq);
    return rc;
}

/* sweeper_main - retention in the background: one bounded gc transaction
 * every gc_interval_ms (sooner while there is a backlog). */
static void *sweeper_main(void *arg)
{
    struct store *st = arg;
    uint64_t wait_ms = st->gc_interval_ms;
    pthread_mutex_lock(&st->lock);
    while (!st->stopping) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += (time_t)(wait_ms / 1000);
        dl.tv_nsec += (long)(wait_ms % 1000) * 1000000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
        /* its own condition variable: only the stop wakes it early (waiting
         * on the commit signal would cost a wake-up per commit) */
        pthread_cond_timedwait(&st->sweep_wake, &st->lock, &dl);
        if (st->stopping || st->broken)
            continue;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec < dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec < dl.tv_nsec))
            continue; /* a spurious wake-up */
        const char *const *gc_sinks = st->gc_sinks;
        size_t gc_nsinks = st->gc_nsinks;
        pthread_mutex_unlock(&st->lock);
        int dead_readers = 0; /* a killed `events` command leaves its reader slot */
        struct gc_stats gs = {0, 0, 0};
        pthread_rwlock_rdlock(&st->resize_lock); /* no remap or reopen under a transaction */
        int rc = MDB_PANIC;
        if (st->env) {
            mdb_reader_check(st->env, &dead_readers);
            rc = gc_txn(st->env, st->window_ms, gc_sinks, gc_nsinks, 10000, &gs);
        }
        pthread_rwlock_unlock(&st->resize_lock);
        if (dead_readers)
            log_msg(LOG_WARN, "store: cleared stale reader slots", "{s:i}", "count", dead_readers);
        if (rc)
            log_msg(LOG_WARN, "store: retention sweep failed; will retry", "{s:s}", "error",
                    mdb_strerror(rc));
        if (rc && rc != MDB_MAP_FULL && rc != MDB_PANIC) {
            /* a failed sweep commit can leave LMDB as unusable as a failed
             * event commit: the writer reopens it (reopen_env) */
            pthread_mutex_lock(&st->lock);
            st->need_reopen = 1;
            pthread_cond_signal(&st->wake);
            pthread_mutex_unlock(&st->lock);
        } else if (gs.seen || gs.events)
            log_msg(LOG_INFO, "store: retention sweep", "{s:I,s:I}", "dedupe_keys",
                    (json_int_t)gs.seen, "events", (json_int_t)gs.events);
        wait_ms = (!rc && gs.more) ? 100 : st->gc_interval_ms;
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

struct store *store_alloc(void)
{
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->lock_fd = -1;
    /* writers first: a steady stream of short read transactions must not
     * hold off a map resize or a reopen (no thread nests read locks) */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->resize_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->wake, NULL);
    pthread_cond_init(&st->idle, NULL);
    pthread_cond_init(&st->commit, NULL);
    pthread_cond_init(&st->completer_wake, NULL);
    pthread_cond_init(&st->sweep_wake, NULL);
    return st;
}

int store_open(const struct store_cfg *cfg, struct store **out)
{
    struct store *st = store_alloc();
    if (!st)
        return HG_ENOMEM;
    st->max_size = cfg->max_size;
    st->window_ms = cfg->dedupe_window_ms;
    st->max_queue = cfg->max_queue ? cfg->max_queue : 65536;
    st->healthy = 1;

    if (mkdir(cfg->dir, 0700) != 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "store: cannot create data_dir", "{s:s,s:s}", "dir", cfg->dir, "error",
                strerror(errno));
        free(st);
        return HG_ESTORE;
    }
    /* one writer process per store: a second gateway on the same data_dir
     * would deliver every event twice */
    struct stat dsb;
    if (stat(cfg->dir, &dsb) == 0 && (dsb.st_mode & S_IROTH)) {
        /* events carry producers' payloads: a world-readable store leaks
         * them; refused before anything is created in it */
        log_msg(LOG_ERROR, "store: data_dir is readable by other users; chmod 700 it", "{s:s}",
                "dir", cfg->dir);
        free(st);
        return HG_ESTORE;
    }
    char lpath[4096];
    snprintf(lpath, sizeof(lpath), "%s/writer.lock", cfg->dir);
    st->lock_fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        log_msg(LOG_ERROR, "store: data_dir is in use by another hookgate process", "{s:s,s:s}",
                "dir", cfg->dir, "error", strerror(errno));
        if (st->lock_fd >= 0)
            close(st->lock_fd);
        free(st);
        return HG_ESTORE;
    }
    struct stat sb;
    if (stat(cfg->dir, &sb) == 0 && (sb.st_mode & 0077))
        log_msg(LOG_WARN, "store: data_dir is accessible by other users; chmod 700 it", "{s:s}",
                "dir", cfg->dir);
    st->map_size = cfg->initial_size ? cfg->initial_size : STORE_MAP_INITIAL;
    if (st->map_size > st->max_size)
        st->map_size = st->max_size;
    st->dir = strdup(cfg->dir);
    int rc = st->dir ? env_open(st) : ENOMEM;
    if (rc) {
        log_msg(LOG_ERROR, "store: cannot open", "{s:s,s:s}", "dir", cfg->dir, "error",
                mdb_strerror(rc));
        if (st->env)
            mdb_env_close(st->env);
        close(st->lock_fd);
        free(st->dir);
        free(st);
        return HG_ESTORE;
    }
    st->writer_running = 1;
    if (pthread_create(&st->completer, NULL, completer_main, st) != 0) {
        mdb_env_close(st->env);
        close(st->lock_fd);
        free(st->dir);
        free(st);
        return HG_ESTORE;
    }
    st->completer_started = 1;
    if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
        st->writer_running = 0;
        store_close(st);
        return HG_ESTORE;
    }
    st->writer_started = 1;
    st->gc_sinks = cfg->sinks;
    st->gc_nsinks = cfg->nsinks;
    st->gc_interval_ms = cfg->gc_interval_ms;
    if (st->gc_interval_ms && pthread_create(&st->sweeper, NULL, sweeper_main, st) == 0)
        st->sweeper_started = 1;
    log_msg(LOG_INFO, "store: open", "{s:s,s:I,s:I}", "dir", cfg->dir, "last_seq",
            (json_int_t)st->last_seq, "map_size", (json_int_t)st->map_size);
    *out = st;
    return HG_OK;
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

void store_close(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    st->stopping = 1;
    pthread_cond_broadcast(&st->wake);
    pthread_cond_broadcast(&st->commit);
    pthread_cond_broadcast(&st->completer_wake);
    pthread_cond_broadcast(&st->sweep_wake);
    pthread_mutex_unlock(&st->lock);
    if (st->sweeper_started)
        pthread_join(st->sweeper, NULL);
    if (st->writer_started)
        pthread_join(st->writer, NULL);
    if (st->completer_started)
        pthread_join(st->completer, NULL);
    if (st->n_commits)
        log_msg(LOG_INFO, "store: closed", "{s:I,s:I,s:f,s:f}", "commits",
                (json_int_t)st->n_commits, "items", (json_int_t)st->n_items, "avg_batch",
                (double)st->n_items / (double)st->n_commits, "avg_commit_ms",
                (double)st->commit_us / 1000.0 / (double)st->n_commits);
    if (st->env)
        mdb_env_close(st->env);
    free(st->dir);
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    for (struct dead_rec *d = st->dead_pending, *nx; d; d = nx) {
        nx = d->next;
        free(d);
    }
    pthread_rwlock_destroy(&st->resize_lock);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->idle);
    pthread_cond_destroy(&st->commit);
    pthread_cond_destroy(&st->completer_wake);
    pthread_cond_destroy(&st->sweep_wake);
    free(st);
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
        strcpy(st->cur[st->ncur++].name, sink);
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
