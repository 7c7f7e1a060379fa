/*
 * sink.h - the one interface every sink type implements, and the table that
 * names them.
 *
 * A sink knows only its transport and what it is given.  deliver.c does the
 * rest, once for every type: it keeps the cursor, picks the events routed to
 * the sink (and matching its "types"), renders their envelopes, retries with
 * backoff, moves events to dead letters, runs replays and counts metrics.
 * Each type is one file, sink_<type>.c, that exports one struct sink_ops;
 * sink_find() maps the config's cfg_sink.type to it (the table in sink.c,
 * one line per type, like curl's vtls backends).
 *
 * A type works in one of two modes, told apart by which callbacks it sets:
 *  - stream (`send`; stdout, unix, pipe): deliver.c hands over batches of
 *    whole NDJSON lines in seq order, one batch at a time, and moves the
 *    cursor over a batch once `send` accepted all of it.
 *  - per event (`begin` ... `release`; exec, http, jetstream): one attempt
 *    per event, up to the sink's `concurrency` at once.  begin starts an
 *    attempt, wait blocks until some attempt may have moved on, step says
 *    whether one has ended, result classifies it, release frees it.  Each
 *    event has its own retries and may become a dead letter on its own.
 *
 * Lifetime: open runs once per delivery start (at boot and at each reload),
 * before the sink's worker thread starts; close runs after that thread has
 * ended.  A job lives from begin to release.  The config and the cfg_sink
 * outlive the state.
 *
 * Threading: open and close run on the thread that starts and stops
 * delivery; every other callback of one opened sink runs on its worker
 * thread, one at a time, so a sink's state needs no lock of its own.  Two
 * sinks of one type share nothing unless their file says so.  A transport
 * library that calls back on threads of its own (libnats) is the sink
 * file's business.
 *
 * Adding a sink type (say "kafka"): write gateway/sink_kafka.c exporting
 * `const struct sink_ops sink_kafka_ops` with one mode's callbacks, add the
 * file to hgcore's sources in CMakeLists.txt, and add the line
 * `X(SINK_KAFKA, sink_kafka_ops)` to SINK_TABLE in sink.c (that line also
 * declares the struct).  Nothing in deliver.c changes.  Its settings are the
 * config's business: a SINK_KAFKA value in config.h's enum sink_type, its
 * keys parsed by config_sink.c into struct cfg_sink.
 */
#ifndef HG_SINK_H
#define HG_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* sink_event - what a per-event sink is told about the event of an attempt.
 * Strings are NUL-terminated, and "" when the event has no such attribute;
 * all of it stays valid and unchanged from begin until release. */
struct sink_event {
    uint64_t seq;     /* the store's sequence number */
    unsigned attempt; /* 1 for the first try of this event (by this process) */
    const char *id, *type, *source, *route;
    const char *ctype; /* the producer's Content-Type */
    const char *time;  /* the event's own time attribute */
    int64_t received_ms;
    const char *line; /* the CloudEvents envelope, one line, "\n" included */
    size_t len;
    const char *body; /* the producer's body as received: only when the
                         sink's wants_body said so, else NULL */
    size_t body_len;
};

struct sink_ops {
    const char *name; /* the config's "type", for logs */

    /* open - prepare the sink s of config c; *state goes to every other
     * callback.  HG_OK; any other code stops the delivery start (logged). */
    int (*open)(const struct config *c, const struct cfg_sink *s, void **state);
    /* close - end what open made, once nothing else runs.  NULL-safe. */
    void (*close)(void *state);

    /* ---- stream mode ---- */

    /* send - deliver buf (one or more complete NDJSON lines).  *sent gets
     * the bytes handed over even on error; HG_OK only when that is all of
     * them.  deliver.c retries from the first byte not sent, so a consumer
     * never sees a torn or repeated line because of a short write.
     * HG_ENOACK (acknowledging sinks): the consumer was reached but failed
     * on these events (deliver.c narrows the batch down to the event at
     * fault and dead-letters it); HG_EIO: it could not be reached at all
     * (retried with backoff for as long as it takes). */
    int (*send)(void *state, const char *buf, size_t len, size_t *sent);

    /* ---- per-event mode ---- */

    /* wants_body - 1 if begin needs sink_event.body (copying it costs a
     * copy of every body).  NULL: never. */
    int (*wants_body)(const struct cfg_sink *s);
    /* begin - start an attempt for ev at now_ms (CLOCK_MONOTONIC ms): HG_OK
     * with *job set, else no job (tried again 100 ms later; the attempt is
     * not counted, so a sink whose transport is down fails here). */
    int (*begin)(void *state, const struct sink_event *ev, int64_t now_ms, void **job);
    /* wait - block up to timeout_ms (0: not at all) until some job may have
     * moved on.  jobs[0..n) are the sink's slots, NULL where idle. */
    void (*wait)(void *state, void *const *jobs, unsigned n, int timeout_ms);
    /* step - move job on; 1 once the attempt has ended, else 0. */
    int (*step)(void *state, void *job, int64_t now_ms);
    /* deadline - when the running attempt times out (ms, as now_ms). */
    int64_t (*deadline)(void *state, void *job);
    /* result - after step returned 1: HG_OK delivered; HG_EDEAD a dead
     * letter now; HG_EBUSY the transport went down under the attempt (a
     * lost NATS link): retried after the backoff without counting the
     * attempt, so an outage never makes a dead letter; anything else is
     * retried after the backoff, or after *retry_after_ms if the consumer
     * asked for longer (0: no wish), and counts towards retry.max_attempts.
     * err (cap bytes) gets a one-line reason for the log and the dead
     * letter. */
    int (*result)(void *state, void *job, char *err, size_t cap, int64_t *retry_after_ms);
    /* terminate - ask a running attempt to end soon (at stop); step then
     * sees it end.  NULL: attempts are simply abandoned at release. */
    void (*terminate)(void *state, void *job);
    /* release - free job, ending the attempt if it still runs. */
    void (*release)(void *state, void *job);
};

/* sink_find - the sink type of config type t, or NULL if this build has
 * none.  The result is static. */
const struct sink_ops *sink_find(enum sink_type t);

#endif
