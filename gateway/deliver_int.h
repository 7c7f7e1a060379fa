/*
 * deliver_int.h - what deliver.c (the delivery loop) and deliver_replay.c
 * (replay requests: `events replay`, the console) share.  Internal to
 * the two; nothing else includes it.
 *
 * A worker is one sink's thread and its state; only that thread touches
 * it (the stop flag in struct deliver is the exception, atomic).
 */
#ifndef HG_DELIVER_INT_H
#define HG_DELIVER_INT_H

#include "buf.h"
#include "config.h"
#include "sink.h"
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define DELIVER_BATCH          256
#define DELIVER_BUF_MIN        (64u << 20)
#define DELIVER_REPLAY_POLL_MS 500
#define DELIVER_REPLAY_MAX     64   /* requests applied per poll, at most */
#define DELIVER_REPLAY_DONE    256  /* applied request ids remembered */
#define DELIVER_FILL_SCANS     64   /* scans of DELIVER_BATCH events per fill */
#define DELIVER_STOP_GRACE_MS  2000 /* for attempts still running at stop */
#define DELIVER_ERR_MAX        640  /* a dead letter's error: status + 512 bytes of the answer */

struct worker {
    struct deliver *d;
    const struct cfg_sink *sink;
    const struct sink_ops *ops;
    void *state;   /* the sink's, from ops->open */
    int opened;    /* ops->open succeeded: ops->close is due */
    char **routes; /* names of the routes feeding this sink, NULL-terminated */
    pthread_t thread;
    int started;
    uint64_t cursor;
    unsigned seed;        /* backoff jitter */
    int64_t replay_check; /* next replay poll (mono_ms) */
    /* ids of replay requests applied lately: one marked done stays in the
     * table until the checkpointer deletes it, and is not applied again */
    uint64_t replay_done[DELIVER_REPLAY_DONE];
    unsigned replay_done_pos;
    struct buf out; /* stream: the batch; its max bounds every envelope */
    /* what the store_scan visitor found */
    uint64_t scanned; /* last seq looked at */
    uint64_t first;   /* the first event of the batch */
    size_t lines;
    int render_err;
    uint64_t render_seq;
};

struct deliver {
    const struct config *cfg;
    const struct config *const *hist; /* configs served before a reload */
    size_t nhist;
    struct store *st;
    atomic_int stop;
    struct worker *w;
    size_t n;
};

/* redo - dead letters of this sink queued to be sent again (a replay) */
struct redo {
    uint64_t *seq;
    size_t n, pos, cap;
};

/* deliver_mono_ms - a clock that never jumps: deadlines, retry and poll
 * times. */
int64_t deliver_mono_ms(void);

/* deliver_sleep_ms - sleep ms milliseconds. */
void deliver_sleep_ms(uint64_t ms);

/* deliver_cursor_save - move w's cursor to seq and store it. */
void deliver_cursor_save(struct worker *w, uint64_t seq);

/* deliver_backoff_ms - the wait before retry number attempt (0-based),
 * with w's jitter. */
uint64_t deliver_backoff_ms(struct worker *w, unsigned attempt);

/* deliver_replay_poll - at most every DELIVER_REPLAY_POLL_MS, apply the
 * sink's pending replay requests (deliver_replay.c).  *next: the seq
 * after which the worker takes its next event (a "from seq" replay moves
 * it back); redo: a per-event sink's queue of events to send again
 * outside the cursor, NULL for a stream sink. */
void deliver_replay_poll(struct worker *w, uint64_t *next, struct redo *redo);

#endif
