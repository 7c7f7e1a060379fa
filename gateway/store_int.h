/*
 * store_int.h - the inside of struct store, shared by the store's files:
 * store.c (the writer: batches into the segment log), store_ckpt.c (the
 * checkpointer: LMDB's index, dedupe keys, cursors and dead letters, and
 * recovery from the log), store_pend.c (the events the log holds and LMDB
 * does not yet), store_open.c and store_read.c.  Nothing else includes it.
 *
 * Where an event is: its record is in the segment log (seglog.h) from the
 * moment its batch is durable (st->last_seq); its dedupe key and its
 * index entry (seq -> locator, storeloc.h) reach LMDB with the next
 * checkpoint (st->ckpt_seq).  In between, st->pend holds them in memory:
 * the writer's dedupe looks there before LMDB, and readers find the
 * records of seqs in (pend.pruned, last_seq] there.  After a crash the
 * records after LMDB's checkpoint are read back from the log.
 */
#ifndef HG_STORE_INT_H
#define HG_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "seglog.h"
#include "store.h"
#include "storeloc.h"

#define STORE_SINK_MAX    64
#define STORE_MAX_CURSORS 64
#define STORE_PEND_MAX    (1u << 20) /* events in the tail: past this the writer answers 503 */
#define STORE_CKPT_KICK   65536      /* a tail this long is checkpointed at once */

enum pend_op { OP_DEAD_ADD = 0, OP_DEAD_DEL, OP_REPLAY_DEL, OP_REPLAY_ADD };

/* A change to a sink's records (dead letters, replay requests), queued by a
 * delivery worker and written by the writer with its next commit. */
struct dead_rec {
    struct dead_rec *next;
    enum pend_op op;
    char sink[STORE_SINK_MAX + 1];
    uint64_t seq;
    int64_t time_ms;
    unsigned attempts;
    uint64_t arg; /* OP_REPLAY_ADD: the request's kind and seq (store_rej.c) */
    char err[256];
};

/* A rejected request waiting for the checkpointer (store_rej.c): key and
 * value of the "rejected" table. */
struct rej_rec {
    struct rej_rec *next;
    uint64_t id;
    size_t len;
    unsigned char val[]; /* be64 time_ms | JSON object */
};

/* An event the log holds and LMDB's checkpoint may not yet: its dedupe
 * key (route NUL id-or-dedupe-key), seq, time and record locator. */
struct pend_ev {
    struct pend_ev *hnext; /* hash chain */
    uint64_t seq;
    int64_t received_ms;
    struct seglog_loc loc; /* the event record (event_rec_*) */
    uint32_t hash;
    uint16_t klen;
    unsigned char key[];
};

/* The in-memory tail: events by seq (a ring) and by dedupe key (a hash).
 * Entries are immutable from store_pend_add to store_pend_prune. */
struct store_pend {
    struct pend_ev **ring;
    size_t cap, head, n; /* ring[head] has seq pruned + 1 */
    uint64_t pruned;     /* every seq up to this is in LMDB (or before the log) */
    struct pend_ev **tab;
    size_t tcap;
    uint64_t seed;
};

struct cursor_slot {
    char name[72];
    uint64_t seq;
    int dirty;
};

struct store {
    MDB_env *env; /* NULL while closed after a failed commit (store_reopen) */
    char *dir;    /* data_dir, for reopening */
    MDB_dbi events, seen[2], cursors, meta, dead, replay, rejected; /* seen: seengen.h */
    struct seglog *log;
    pthread_mutex_t plock; /* guards pend, ckpt_seq */
    struct store_pend pend;
    uint64_t ckpt_seq;          /* newest seq LMDB's last commit holds */
    struct seglog_loc ckpt_loc; /* the locator of its log record (checkpointer) */
    pthread_t ckpointer;
    int ckpointer_started, ckpointer_running;
    pthread_cond_t ckpt_wake;              /* checkpointer: work or stop (with lock) */
    int ckpt_failing;                      /* the last checkpoint failed */
    int64_t ckpt_fail_ms;                  /* since when checkpoints fail (0: they do not) */
    int log_broken;                        /* a failed batch could not be cut off yet (writer) */
    int reader;                            /* opened by store_open_reader: no threads, no writes */
    struct dead_rec *dead_pending, *wdead; /* queued / taken by the writer */
    struct rej_rec *rej_pending, *wrej;    /* rejected requests: queued / being written */
    size_t rej_queued;                     /* in rej_pending (lock) */
    size_t rej_qbytes;                     /* their bytes (lock) */
    uint64_t rej_next;                     /* the next rejected request's id (lock) */
    uint64_t rej_dropped;                  /* refused: the queue was full (lock) */
    unsigned rej_max;                      /* ring bounds (store_reject_limits) */
    uint64_t rej_age_ms;
    uint64_t map_size, max_size, window_ms;
    uint64_t log_bytes;  /* size of the log (writer; approximate elsewhere) */
    uint64_t lmdb_bytes; /* LMDB's file in use, after the last checkpoint */
    uint64_t log_seq;    /* writer: the seq of the log's last record */
    unsigned char *wbuf; /* writer: the framed batch */
    size_t wlen, wcap;
    pthread_rwlock_t resize_lock;

    pthread_mutex_t lock;  /* guards everything below */
    pthread_cond_t wake;   /* writer: work queued / stop */
    pthread_cond_t idle;   /* drainers: queue empty */
    pthread_cond_t commit; /* readers: last_seq moved */
    struct store_item *head, *tail;
    size_t queued, max_queue; /* submitted, done() not yet returned */
    int busy;                 /* writer holds a batch */
    int idle_wait;            /* writer asleep: nothing queued, no dirty cursor */
    int commit_failed;        /* the last commit failed: sink state waits before retrying */
    struct store_item *done_head, *done_tail; /* committed, done() not yet called */
    pthread_cond_t completer_wake;
    pthread_cond_t sweep_wake; /* the retention sweep: stop only */
    int completing;            /* completer is calling done() */
    int writer_running;        /* writer thread has not exited */
    int draining, stopping, healthy;
    int broken;            /* env closed after a failed commit and not reopened */
    int need_reopen;       /* a sweep commit failed: the writer reopens the env */
    int need_grow;         /* a sweep found the map full: the checkpointer grows it */
    int64_t reopen_ms;     /* writer only: the last reopen attempt */
    int64_t event_fail_ms; /* last failed commit holding events; 0 after a good one */
    uint64_t last_seq;
    struct cursor_slot cur[STORE_MAX_CURSORS];
    size_t ncur;

    int lock_fd; /* flock'd writer.lock: one gateway per data_dir */
    pthread_t writer, completer, sweeper;
    int writer_started, completer_started, sweeper_started;
    const char *const *gc_sinks;
    size_t gc_nsinks;
    uint64_t gc_interval_ms;

    /* writer-only counters, logged at close (and later exported as metrics) */
    uint64_t n_commits, n_items, commit_us;
};

/* be64, get_be64 - big-endian u64 keys (LMDB sorts them as numbers),
 * by storeloc.h's coders */
static inline void be64(unsigned char *p, uint64_t v)
{
    storeloc_put64(p, v);
}

static inline uint64_t get_be64(const unsigned char *p)
{
    return storeloc_get64(p);
}

/* store_deadline - *dl = now + ms on CLOCK_REALTIME, for
 * pthread_cond_timedwait. */
static inline void store_deadline(struct timespec *dl, uint64_t ms)
{
    clock_gettime(CLOCK_REALTIME, dl);
    dl->tv_sec += (time_t)(ms / 1000);
    dl->tv_nsec += (long)(ms % 1000) * 1000000;
    if (dl->tv_nsec >= 1000000000) {
        dl->tv_sec++;
        dl->tv_nsec -= 1000000000;
    }
}

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* store_rtxn - begin a read-only transaction.  The caller holds
 * resize_lock's read side (taken before, released after the transaction):
 * the writer takes the write side to grow the map or to reopen the
 * environment.  MDB_PANIC while the environment is closed. */
static inline int store_rtxn(struct store *st, MDB_txn **txn)
{
    return st->env ? mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn) : MDB_PANIC;
}

/* store_writer_main, store_completer_main - the writer and completer
 * threads (store.c), started by store_open with the store as argument. */
void *store_writer_main(void *arg);
void *store_completer_main(void *arg);

/* store_ckpt_main - the checkpointer thread (store_ckpt.c). */
void *store_ckpt_main(void *arg);

/* store_ckpt_recover - at open, before any thread: read the log after
 * LMDB's checkpoint and bring LMDB up to date with it (writable store), or
 * into st->pend (reader).  Sets last_seq, ckpt_seq.  0 or an errno/LMDB
 * code; EBADMSG when the log is damaged before its end. */
int store_ckpt_recover(struct store *st);

/* store_rej_put - write st->wrej into the "rejected" table and trim it to
 * its bounds (count, then age); with the checkpoint's transaction, after
 * the events (store_rej.c).  0 or an LMDB code. */
int store_rej_put(struct store *st, MDB_txn *txn);

/* store_rej_free - free a list of rejected requests. */
void store_rej_free(struct rej_rec *r);

/* store_rej_open - after the tables are open: the next id from the
 * table's last key (store_rej.c). */
int store_rej_open(struct store *st, MDB_txn *txn);

/* store_pend_* (store_pend.c): the in-memory tail.  add/prune/drop are
 * called with plock held; find by the writer only (it alone adds). */
int store_pend_init(struct store_pend *p);
void store_pend_free(struct store_pend *p);
int store_pend_add(struct store_pend *p, uint64_t seq, int64_t received_ms, const void *key,
                   size_t klen, const struct seglog_loc *loc);
struct pend_ev *store_pend_find(const struct store_pend *p, const void *key, size_t klen);
struct pend_ev *store_pend_get(const struct store_pend *p, uint64_t seq);
void store_pend_prune(struct store_pend *p, uint64_t upto);
void store_pend_drop_from(struct store_pend *p, uint64_t seq);
static inline uint64_t store_pend_last(const struct store_pend *p)
{
    return p->pruned + p->n;
}

/* store_reopen - close and reopen the environment after a failed commit or
 * sweep (store_open.c).  Writer thread only, with no transaction of its
 * own open.  0 or an LMDB/errno code; on failure st->env is NULL and
 * st->broken set. */
int store_reopen(struct store *st);

/* store_alloc - a zeroed store with its locks and conditions initialised
 * and no lock file (lock_fd -1); store_close releases it.  NULL on OOM. */
struct store *store_alloc(void);

#endif
