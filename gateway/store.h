/*
 * store.h - the durable event store: LMDB plus a group-commit writer thread.
 *
 * Sub-databases: "events" (seq, big-endian u64 -> record, see event.h),
 * "seen" and "seen2" (route NUL id -> seq + first-seen ms, the dedupe
 * index in two generations, seengen.h),
 * "cursors" (sink name -> last delivered seq), "meta" (format version,
 * checkpoint, the generations' state).
 *
 * Group commit: request threads hand items to store_submit(); one writer
 * thread takes everything queued, writes it in ONE transaction, commits
 * (LMDB's default sync: fsync), and only then are the items handed to a
 * completer thread that calls each item's done() callback with its result.  Batches form by
 * themselves under load: the writer never waits on a timer.  Invariant: done() reports HG_OK only
 * for items whose transaction committed; any failure reports an error (a 503 upstream), never
 * success.
 *
 * Threads: store_submit, store_cursor_set, store_wait, store_scan and
 * store_cursor_get may be called from any thread.
 */
#ifndef HG_STORE_H
#define HG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct store;

/* named LMDB tables a store's environment is opened for (store, gc, CLI) */
#define STORE_MAXDBS 16

struct store_cfg {
    const char *dir;           /* created 0700 if missing; files are 0600 */
    uint64_t max_size;         /* map never grows past this: then HG_EFULL */
    uint64_t dedupe_window_ms; /* an id seen longer ago than this is new again */
    size_t max_queue;          /* items submitted and not yet completed; more -> HG_EBUSY */
    uint64_t initial_size;     /* first map size (address space only); 0 = 1 GiB */
    const char *const *sinks;  /* the configured sinks, for retention (NULL: all known) */
    size_t nsinks;
    uint64_t gc_interval_ms; /* retention sweep period; 0 = no sweep */
};

enum store_kind {
    STORE_EVENT = 0, /* store ev unless (route, id) was seen within the window */
    STORE_PROBE      /* write a meta key: proves the store is writable (healthz) */
};

struct store_item {
    enum store_kind kind;
    struct event ev; /* STORE_EVENT: must stay valid until done() */
    /* dedupe key in place of ev.id when set (an id the signature does not
     * cover is deduplicated by its body's hash instead) */
    struct event_str dedupe;
    /* results, valid in done(): */
    int result;    /* HG_OK, HG_ESTORE, HG_EFULL */
    int duplicate; /* 1: seen within the window, nothing written */
    uint64_t seq;  /* new seq, or the original's seq for a duplicate */
    /* called on the store's completer thread after the commit (or its failure): */
    void (*done)(struct store_item *it, void *arg);
    void *arg;
    struct store_item *next; /* private to the store */
};

/* store_open - open or create the store and start the writer.
 * HG_ESTORE with a log line on failure. */
int store_open(const struct store_cfg *cfg, struct store **out);

/* store_submit - queue it for the next commit.  HG_OK: done() will be called
 * exactly once, later, on the store's completer thread.  HG_EBUSY (queue full) or
 * HG_ESTOPPING: not queued, done() will not be called. */
int store_submit(struct store *st, struct store_item *it);

/* store_drain - refuse new submissions and return once every queued item
 * has been committed and its done() called. */
void store_drain(struct store *st);

/* store_close - flush cursors, stop the writer, close LMDB.  NULL-safe.
 * Call store_drain (and stop every reader thread) first. */
void store_close(struct store *st);

/* store_set_sinks - the sinks the retention sweep waits for (a reload
 * changed them); the array must outlive the store. */
void store_set_sinks(struct store *st, const char *const *sinks, size_t n);

/* store_broken - 1 once the environment is unusable (MDB_PANIC): only a
 * restart helps, so liveness (/healthz) fails. */
int store_broken(struct store *st);

/* store_last_seq - highest committed seq (0 if none). */
uint64_t store_last_seq(struct store *st);

/* store_wait - block until a seq > after is committed, timeout_ms passes
 * or the store is closing.  Returns store_last_seq(). */
uint64_t store_wait(struct store *st, uint64_t after, int timeout_ms);

/* store_scan_fn - called for each stored event in seq order; rec is valid
 * only during the call.  Return 0 to go on, non-zero to stop. */
typedef int (*store_scan_fn)(void *arg, uint64_t seq, const void *rec, size_t len);

/* store_scan - visit up to max events with seq > after.  HG_OK or HG_ESTORE. */
int store_scan(struct store *st, uint64_t after, size_t max, store_scan_fn fn, void *arg);

/* store_stats - bytes of the data file in use (last page used x page size)
 * and the number of dead letters of every sink.  HG_OK or HG_ESTORE. */
int store_stats(struct store *st, uint64_t *bytes, uint64_t *dead);

/* store_cursor_get - the last delivered seq of sink (0 if never set). */
int store_cursor_get(struct store *st, const char *sink, uint64_t *out);

/* store_cursor_set - record that sink has everything up to seq; written by
 * the writer with its next commit (at-least-once: a crash before that
 * commit re-delivers).  HG_ENOMEM if too many sinks (64). */
int store_cursor_set(struct store *st, const char *sink, uint64_t seq);

/* store_dead_add - record that sink gave up on seq after attempts, with the
 * last error (cut to 255 bytes).  Written with the writer's next commit, in
 * the same transaction as or before any cursor set after this call, so a
 * cursor never moves past an event whose dead letter is not on disk. */
int store_dead_add(struct store *st, const char *sink, uint64_t seq, unsigned attempts,
                   const char *err);

/* store_dead_has - 1 if sink holds seq as a dead letter. */
int store_dead_has(struct store *st, const char *sink, uint64_t seq);

/* store_dead_del - remove a dead letter (it was delivered by a replay);
 * written with the writer's next commit. */
int store_dead_del(struct store *st, const char *sink, uint64_t seq);

/* store_replay - a replay request written by `hookgate events replay`. */
struct store_replay {
    uint64_t id;       /* request key, for store_replay_done */
    int dead;          /* 1: deliver the sink's dead letters again */
    int one;           /* 1: deliver event from_seq again, and only it */
    uint64_t from_seq; /* else: deliver again every event from this seq on */
};

enum store_replay_kind { STORE_REPLAY_FROM = 0, STORE_REPLAY_DEAD = 1, STORE_REPLAY_ONE = 2 };

/* store_replay_add - as store_replay_request, from inside `serve` (the
 * console): queue a replay of kind for sink (seq: STORE_REPLAY_FROM's
 * first seq or STORE_REPLAY_ONE's event), written with the next
 * checkpoint (at once).  HG_OK, HG_EINVAL (a sink name too long), HG_ENOMEM. */
int store_replay_add(struct store *st, const char *sink, enum store_replay_kind kind, uint64_t seq);

/* store_replay_request - from another process (the CLI), while `serve` may
 * run: queue a replay of sink's dead letters (dead=1) or of every event
 * from from_seq.  Opens the store for one write transaction. */
int store_replay_request(const char *dir, const char *sink, int dead, uint64_t from_seq);

/* store_replay_next - the oldest pending request for sink whose id is
 * above after (0: any): 1 and *out, or 0.  A request marked done stays
 * until the checkpointer deletes it, so a caller taking several in a row
 * passes the last id it took. */
int store_replay_next(struct store *st, const char *sink, uint64_t after, struct store_replay *out);

/* store_replay_done - remove request id of sink, with the next commit (put it
 * in the same commit as the cursor change that carries it out). */
int store_replay_done(struct store *st, const char *sink, uint64_t id);

/* store_dead_fn - one dead letter; return non-zero to stop. */
typedef int (*store_dead_fn)(void *arg, const char *sink, uint64_t seq, unsigned attempts,
                             int64_t time_ms, const char *err);

/* store_dead_scan - visit the dead letters of sink (all sinks if NULL) in
 * (sink, seq) order.  HG_OK or HG_ESTORE. */
int store_dead_scan(struct store *st, const char *sink, store_dead_fn fn, void *arg);

/* store_dead_get - the dead letter seq of sink to fn (one lookup, not a
 * scan): 1 if there is one, else 0. */
int store_dead_get(struct store *st, const char *sink, uint64_t seq, store_dead_fn fn, void *arg);

/* store_cursor_fn - one sink cursor; return non-zero to stop. */
typedef int (*store_cursor_fn)(void *arg, const char *sink, uint64_t seq);

/* store_cursor_scan - visit the committed cursors of every sink. */
int store_cursor_scan(struct store *st, store_cursor_fn fn, void *arg);

/* store_find_id - the newest seq stored under event id on any route (its
 * dedupe key), 0 if none.  A full scan of the dedupe index: for the CLI. */
int store_find_id(struct store *st, const char *id, uint64_t *seq);

/* store_open_reader - open an existing store read-only, with no threads and
 * no lock: for the command line while `serve` runs (LMDB readers never
 * block the writer).  Reads work as on a full store; writes must not be
 * called.  Close with store_close.  Messages go to stderr. */
int store_open_reader(const char *dir, struct store **out);

/* The ring of rejected requests (store_rej.c): a table of id -> (time,
 * a JSON object the caller made), written by the checkpointer off the
 * request path and trimmed there to its bounds.  Best effort by design:
 * a full queue drops the new record and a failed checkpoint loses the
 * records it held; neither ever delays or fails an event. */
#define STORE_REJ_QUEUE_MAX   4096        /* records waiting for the checkpointer */
#define STORE_REJ_QUEUE_BYTES (16u << 20) /* and their bytes, at most */
#define STORE_REJ_JSON_MAX    (160u << 10)
#define STORE_REJ_BYTES_MAX   (64ULL << 20) /* the ring's pages, trimmed to this too */

/* store_reject_add - queue one rejected request (json: len bytes, a JSON
 * object, at most STORE_REJ_JSON_MAX).  Never blocks on I/O.  HG_OK,
 * HG_EBUSY (the queue is full - STORE_REJ_QUEUE_MAX records or
 * STORE_REJ_QUEUE_BYTES bytes until the next checkpoint: dropped and
 * counted), HG_ETOOBIG, HG_ENOMEM. */
int store_reject_add(struct store *st, int64_t time_ms, const char *json, size_t len);

/* store_reject_limits - keep at most max records (0: none) and none older
 * than max_age_ms; applied by the next checkpoint that writes one, and by
 * store_reject_scan (older records are never shown). */
void store_reject_limits(struct store *st, unsigned max, uint64_t max_age_ms);

/* store_rej_fn - one rejected request; json (len bytes, not NUL-terminated)
 * is valid only during the call.  Non-zero stops. */
typedef int (*store_rej_fn)(void *arg, uint64_t id, int64_t time_ms, const char *json, size_t len);

/* store_reject_scan - visit the kept rejected requests newest first, those
 * with id < before (0: all).  HG_OK or HG_ESTORE. */
int store_reject_scan(struct store *st, uint64_t before, store_rej_fn fn, void *arg);

/* store_reject_dropped - records refused since open (the queue was full). */
uint64_t store_reject_dropped(struct store *st);

/* store_healthy - 0 after a failed commit until the next good one, and
 * while commits holding events have failed in the last 30 s with none
 * succeeding since (a small probe write can succeed on a full disk). */
int store_healthy(struct store *st);

#endif
