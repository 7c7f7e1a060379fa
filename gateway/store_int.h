/*
 * store_int.h - the inside of struct store, shared by store.c (the writer,
 * open/close, sink state) and store_read.c (reads and the command line's
 * access).  Nothing outside those two files includes it.
 */
#ifndef HG_STORE_INT_H
#define HG_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

#define STORE_SINK_MAX    64
#define STORE_MAX_CURSORS 64

enum pend_op { OP_DEAD_ADD = 0, OP_DEAD_DEL, OP_REPLAY_DEL };

/* A change to a sink's records (dead letters, replay requests), queued by a
 * delivery worker and written by the writer with its next commit. */
struct dead_rec {
    struct dead_rec *next;
    enum pend_op op;
    char sink[STORE_SINK_MAX + 1];
    uint64_t seq;
    int64_t time_ms;
    unsigned attempts;
    char err[256];
};

struct cursor_slot {
    char name[72];
    uint64_t seq;
    int dirty;
};

struct store {
    MDB_env *env; /* NULL while closed after a failed commit (store_reopen) */
    char *dir;    /* data_dir, for reopening */
    MDB_dbi events, seen, cursors, meta, dead, replay;
    int reader;                            /* opened by store_open_reader: no threads, no writes */
    struct dead_rec *dead_pending, *wdead; /* queued / taken by the writer */
    uint64_t map_size, max_size, window_ms;
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

static inline void be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static inline uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
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

/* store_reopen - close and reopen the environment after a failed commit or
 * sweep (store_open.c).  Writer thread only, with no transaction of its
 * own open.  0 or an LMDB/errno code; on failure st->env is NULL and
 * st->broken set. */
int store_reopen(struct store *st);

/* store_alloc - a zeroed store with its locks and conditions initialised
 * and no lock file (lock_fd -1); store_close releases it.  NULL on OOM. */
struct store *store_alloc(void);

#endif
