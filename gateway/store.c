/*
 * store.c - the store's writer: group commit into the segment log (see
 * store.h, store_int.h).
 *
 * One writer thread takes the whole queue (up to STORE_BATCH_MAX items),
 * dedupes each event against the in-memory tail (store_pend.c) and then
 * LMDB's two dedupe tables (seengen.h; one read transaction per batch), frames the new
 * events into one buffer, appends it to the log with one write and makes
 * it durable with one fdatasync (seglog.c).  Only after that fdatasync
 * returns 0 does any item learn it is stored, and does last_seq - what
 * readers may deliver - move.  The batch then goes to a completer thread
 * that calls each item's done() (resuming the connections), so the writer
 * can start the next batch at once.  LMDB is written by the checkpointer
 * (store_ckpt.c), off this path.
 *
 * A failed write or fdatasync answers every item of the batch with an
 * error (503), drops its entries from the tail and cuts the log back to
 * its last durable byte (seglog_rewind), so nothing of the batch can come
 * back after a crash and its seqs are handed out again.  If the cut itself
 * fails it is tried again before the next batch; until it works every
 * batch gets 503 and /healthz fails.
 *
 * The store is full (HG_EFULL) when the log, LMDB's file and the batch
 * would pass max_store_size, or the disk says ENOSPC.
 */
#include "store.h"
#include "store_int.h"
#include "benchknob.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "seengen.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_BATCH_MAX    4096
#define STORE_UNHEALTHY_MS 30000

static int map_err(int rc)
{
    if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT || rc == EFBIG)
        return HG_EFULL;
    return HG_ESTORE;
}

/* Where each new event of the batch sits in the write buffer. */
struct wslot {
    struct store_item *it;
    size_t rec_off; /* the event record's offset in the buffer */
    uint32_t rec_len;
};

/* wbuf_reserve - room for n more bytes in the writer's buffer. */
static unsigned char *wbuf_reserve(struct store *st, size_t n)
{
    if (st->wlen + n > st->wcap) {
        size_t c = st->wcap ? st->wcap : 1 << 20;
        while (c < st->wlen + n)
            c *= 2;
        unsigned char *b = realloc(st->wbuf, c);
        if (!b)
            return NULL;
        st->wbuf = b;
        st->wcap = c;
    }
    unsigned char *p = st->wbuf + st->wlen;
    st->wlen += n;
    return p;
}

/* frame_event - dedupe it and, if new, frame it into the buffer with the
 * next seq.  0 (it->result/duplicate/seq set), or an LMDB/errno code that
 * fails the batch. */
static int frame_event(struct store *st, MDB_txn *rt, struct store_item *it, uint64_t *next,
                       int64_t now, struct wslot *slot, int *framed)
{
    unsigned char kbuf[2 * EVENT_STR_MAX + 2];
    const struct event_str *id = it->dedupe.len ? &it->dedupe : &it->ev.id;
    size_t klen = it->ev.route.len + 1 + id->len;
    *framed = 0;
    if (klen > (size_t)mdb_env_get_maxkeysize(st->env)) {
        it->result = HG_EBADID; /* this item only; the batch goes on */
        return 0;
    }
    memcpy(kbuf, it->ev.route.p, it->ev.route.len);
    kbuf[it->ev.route.len] = 0;
    memcpy(kbuf + it->ev.route.len + 1, id->p, id->len);
    struct pend_ev *e = store_pend_find(&st->pend, kbuf, klen);
    if (e) { /* the newest sighting: LMDB can only hold an older one */
        if ((uint64_t)now < (uint64_t)e->received_ms + st->window_ms) {
            it->duplicate = 1;
            it->seq = e->seq;
            return 0;
        }
    } else {
        uint64_t first = 0, oseq = 0;
        int rc = seengen_lookup(rt, st->seen, kbuf, klen, &oseq, &first);
        if (rc == 0 && (uint64_t)now < first + st->window_ms) {
            it->duplicate = 1;
            it->seq = oseq;
            return 0;
        }
        if (rc != MDB_NOTFOUND && rc != 0)
            return rc;
    }
    if (st->pend.n >= STORE_PEND_MAX) { /* checkpoints are failing */
        it->result = HG_ESTORE;
        return 0;
    }
    size_t rlen = event_rec_size(&it->ev), plen = 10 + klen + rlen;
    if (plen > SEGLOG_REC_MAX) {
        it->result = HG_EFULL;
        return 0;
    }
    size_t at = st->wlen;
    unsigned char *p = wbuf_reserve(st, SEGLOG_HDR + plen);
    if (!p)
        return ENOMEM;
    uint64_t seq = ++*next;
    unsigned char *pl = p + SEGLOG_HDR;
    be64(pl, (uint64_t)now);
    pl[8] = (unsigned char)(klen >> 8);
    pl[9] = (unsigned char)klen;
    memcpy(pl + 10, kbuf, klen);
    event_rec_write(&it->ev, pl + 10 + klen);
    seglog_frame(p, SEGLOG_EVENT, seq, pl, (uint32_t)plen);
    struct seglog_loc none = {0, 0, 0};
    pthread_mutex_lock(&st->plock);
    int rc = store_pend_add(&st->pend, seq, now, kbuf, klen, &none);
    pthread_mutex_unlock(&st->plock);
    if (rc) {
        --*next;
        st->wlen = at;
        return rc;
    }
    it->duplicate = 0;
    it->seq = seq;
    slot->it = it;
    slot->rec_off = at + SEGLOG_HDR + 10 + klen;
    slot->rec_len = (uint32_t)rlen;
    *framed = 1;
    return 0;
}

/* frame_batch - dedupe and frame every item; *nslots events are new.
 * 0 or an LMDB/errno code. */
static int frame_batch(struct store *st, struct store_item *items, struct wslot *slots,
                       size_t *nslots, uint64_t *next)
{
    MDB_txn *rt = NULL;
    pthread_mutex_lock(&st->plock);
    store_pend_prune(&st->pend, st->ckpt_seq); /* LMDB holds these now */
    pthread_mutex_unlock(&st->plock);
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &rt); /* begun after the prune: sees what was pruned */
    /* the clock after the snapshot: a dedupe generation the snapshot no
     * longer holds was dropped before now was read, when every key in it
     * was already past the window (gc.c) */
    int64_t now = now_ms();
    if (!rc && st->log_seq < *next) {
        /* seqs moved on past the log's last record (a store from before
         * the log whose cursors are ahead): a probe record says so */
        unsigned char *p = wbuf_reserve(st, SEGLOG_HDR);
        if (!p)
            rc = ENOMEM;
        else
            seglog_frame(p, SEGLOG_PROBE, *next, "", 0);
    }
    for (struct store_item *it = items; it && !rc; it = it->next) {
        it->result = HG_OK;
        if (it->kind == STORE_PROBE) {
            unsigned char *p = wbuf_reserve(st, SEGLOG_HDR);
            if (!p)
                rc = ENOMEM;
            else
                seglog_frame(p, SEGLOG_PROBE, *next, "", 0);
            continue;
        }
        int framed;
        rc = frame_event(st, rt, it, next, now, &slots[*nslots], &framed);
        *nslots += framed;
    }
    if (rt)
        mdb_txn_abort(rt);
    pthread_rwlock_unlock(&st->resize_lock);
    return rc;
}

/* full - 1 if the batch would take the store past max_store_size. */
static int full(struct store *st)
{
    return st->log_bytes + st->lmdb_bytes + st->wlen > st->max_size;
}

/* write_log - append the framed batch and make it durable; on success the
 * new events' locators are set.  0 or an errno. */
static int write_log(struct store *st, uint64_t first, struct wslot *slots, size_t nslots)
{
    struct seglog_loc base;
    int rc = seglog_write(st->log, first + 1, st->wbuf, st->wlen, &base);
    if (!rc)
        rc = seglog_sync(st->log, benchknob_store() != BK_NOSYNC);
    if (rc) {
        int e = seglog_rewind(st->log);
        if (e && !st->log_broken)
            log_msg(LOG_ERROR,
                    "store: cannot cut the log back after a failed write; nothing is written "
                    "until it can",
                    "{s:s}", "error", strerror(e));
        st->log_broken = e != 0;
        return rc;
    }
    st->log_bytes = seglog_bytes(st->log);
    st->log_seq = st->last_seq + nslots;
    for (size_t i = 0; i < nslots; i++) {
        struct pend_ev *e = store_pend_get(&st->pend, slots[i].it->seq);
        e->loc.seg = base.seg;
        e->loc.off = base.off + slots[i].rec_off;
        e->loc.len = slots[i].rec_len;
    }
    return 0;
}

/* finish - publish the outcome of a batch and hand it to the completer. */
static void finish(struct store *st, struct store_item *items, int rc, int has_events,
                   uint64_t first, uint64_t next)
{
    int result = rc ? map_err(rc) : HG_OK;
    pthread_mutex_lock(&st->lock);
    if (rc) {
        st->healthy = 0;
        st->commit_failed = 1;
        if (has_events)
            st->event_fail_ms = now_ms();
    } else {
        st->healthy = 1;
        st->commit_failed = 0;
        if (has_events)
            st->event_fail_ms = 0;
        st->last_seq = next;
        if (st->pend.n >= STORE_CKPT_KICK)
            pthread_cond_signal(&st->ckpt_wake);
    }
    struct store_item *last = NULL;
    for (struct store_item *it = items; it; it = it->next) {
        if (result)
            it->result = result;
        if (it->result)
            it->duplicate = 0;
        last = it;
    }
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
}

/* log_retry_cut - a failed batch's bytes could not be cut off: try again
 * before anything else is written (0 once the log is clean). */
static int log_retry_cut(struct store *st)
{
    int rc = seglog_rewind(st->log);
    if (!rc) {
        st->log_broken = 0;
        log_msg(LOG_INFO, "store: log cut back after a failed write", "{s:I}", "last_seq",
                (json_int_t)st->last_seq);
    }
    return rc;
}

static void commit_batch(struct store *st, struct store_item *items, size_t nitems,
                         struct wslot *slots)
{
    int has_events = 0;
    for (struct store_item *it = items; it && !has_events; it = it->next)
        has_events = it->kind == STORE_EVENT;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t first = st->last_seq, next = first;
    size_t nslots = 0;
    st->wlen = 0;
    int rc = st->log_broken ? log_retry_cut(st) : 0;
    if (!rc)
        rc = frame_batch(st, items, slots, &nslots, &next);
    if (!rc && nslots && full(st))
        rc = MDB_MAP_FULL;
    if (!rc && st->wlen)
        rc = write_log(st, first, slots, nslots);
    if (rc) {
        pthread_mutex_lock(&st->plock);
        store_pend_drop_from(&st->pend, first + 1);
        pthread_mutex_unlock(&st->plock);
        next = first;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->n_commits++;
    st->n_items += nitems;
    uint64_t us = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
    st->commit_us += us;
    if (has_events && !rc)
        metrics_commit(nitems, us);
    if (rc)
        log_msg(LOG_ERROR, "store: commit failed; answering 503", "{s:s,s:I}", "error",
                rc == MDB_MAP_FULL ? "the store is full (max_store_size)" : mdb_strerror(rc),
                "events", (json_int_t)nitems);
    finish(st, items, rc, has_events, first, next);
}

/* completer_main - call done() for committed (or failed) items, in order. */
void *store_completer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "hg-store-done"); /* top -H, perf */
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
    pthread_setname_np(pthread_self(), "hg-store-write"); /* top -H, perf */
    struct store *st = arg;
    struct wslot *slots = malloc(STORE_BATCH_MAX * sizeof(*slots));
    pthread_mutex_lock(&st->lock);
    for (;;) {
        if (!st->head) {
            st->busy = 0;
            pthread_cond_broadcast(&st->idle);
            if (st->stopping) {
                st->writer_running = 0;
                pthread_cond_signal(&st->completer_wake);
                pthread_cond_signal(&st->ckpt_wake);
                break;
            }
            st->idle_wait = 1;
            pthread_cond_wait(&st->wake, &st->lock);
            st->idle_wait = 0;
            continue;
        }
        st->busy = 1;
        struct store_item *items = st->head, *last = items;
        size_t n = 1;
        while (last->next && n < STORE_BATCH_MAX) {
            last = last->next;
            n++;
        }
        st->head = last->next;
        last->next = NULL;
        if (!st->head)
            st->tail = NULL;
        pthread_mutex_unlock(&st->lock);
        if (slots) {
            commit_batch(st, items, n, slots);
        } else { /* no memory for the slots at start: every batch fails */
            for (struct store_item *it = items; it; it = it->next)
                it->result = HG_ESTORE;
            finish(st, items, ENOMEM, 1, st->last_seq, st->last_seq);
        }
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    free(slots);
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
    store_deadline(&dl, timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
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
    /* it writes cursors after a delay: wake it when this one turns dirty
     * (once dirty, it is already counted in the checkpointer's deadline;
     * a wake-up per delivered batch cost a context switch each) */
    if (!st->cur[i].dirty)
        pthread_cond_signal(&st->ckpt_wake);
    st->cur[i].dirty = 1;
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
    pthread_cond_signal(&st->ckpt_wake);
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
