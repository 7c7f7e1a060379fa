/*
 * deliver_int.h - what deliver.c (the workers, the windowed per-event loop)
 * shares with its transport backends (deliver_http.c).  Nothing else
 * includes it.
 *
 * A job backend runs one delivery attempt per slot: begin starts it, wait
 * blocks until some attempt may have moved on, step says whether a slot's
 * attempt has ended, result classifies it (HG_OK delivered, HG_EDEAD: dead
 * letter now, anything else: retry after the backoff or the consumer's
 * Retry-After), release frees what begin made.
 */
#ifndef HG_DELIVER_INT_H
#define HG_DELIVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"

#define DELIVER_ERR_MAX 640 /* a dead letter's error: status + 512 bytes of the answer */

struct config;
struct cfg_sink;
struct sink_ops;
struct store;
struct job_backend;

struct worker {
    struct deliver *d;
    const struct cfg_sink *sink;
    const struct sink_ops *ops;
    void *state;
    char **routes; /* names of the routes feeding this sink, NULL-terminated */
    pthread_t thread;
    int started;
    const struct job_backend *be; /* windowed sinks (exec, http) */
    void *be_state;               /* the backend's, per worker */
    struct buf out;
    uint64_t scanned; /* last seq looked at in the current batch */
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

struct slot {
    int used;   /* holds an event not yet delivered or dead */
    int replay; /* a dead letter taken again: outside the cursor's window */
    uint64_t seq;
    unsigned attempt; /* attempts started so far */
    int64_t retry_at; /* start (again) at this time; -1 while a job runs */
    void *job;        /* the backend's attempt in progress, or NULL */
    struct buf line;  /* the rendered envelope */
    struct buf body;  /* http "binary": the producer's body as received */
    char ctype[EVENT_STR_MAX + 1], time[EVENT_STR_MAX + 1];
    int64_t received_ms;
    char id[EVENT_STR_MAX + 1], type[EVENT_STR_MAX + 1], source[EVENT_STR_MAX + 1],
        route[EVENT_STR_MAX + 1];
};

struct job_backend {
    int (*begin)(struct worker *w, struct slot *sl, int64_t now);
    void (*wait)(struct worker *w, struct slot *slots, unsigned n, int timeout_ms);
    int (*step)(struct worker *w, struct slot *sl, int64_t now);
    int64_t (*deadline)(struct worker *w, struct slot *sl);
    int (*result)(struct worker *w, struct slot *sl, char *err, size_t cap, int64_t *retry_after);
    void (*terminate)(struct worker *w, struct slot *sl);
    void (*release)(struct worker *w, struct slot *sl);
    int (*open)(struct worker *w);   /* may be NULL */
    void (*close)(struct worker *w); /* may be NULL */
};

extern const struct job_backend deliver_http_backend;
extern const struct job_backend deliver_jetstream_backend;

#endif
