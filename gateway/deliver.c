/*
 * deliver.c - per-sink delivery workers (see deliver.h).
 *
 * A worker's loop: scan up to DELIVER_BATCH events after its cursor inside
 * one short read transaction, render those for its sink into a buffer
 * (the transaction ends before any I/O, so a stuck consumer never pins an
 * LMDB reader), send the buffer, then move the cursor.  When the sink
 * fails, the same range is retried after an exponential backoff with full
 * jitter bounded by retry.initial and retry.max.
 */
#include "deliver.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "log.h"
#include "sink.h"
#include "store.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DELIVER_BATCH   256
#define DELIVER_BUF_MIN (64u << 20)

struct worker {
    struct deliver *d;
    const struct cfg_sink *sink;
    const struct sink_ops *ops;
    void *state;
    char **routes; /* names of the routes feeding this sink, NULL-terminated */
    pthread_t thread;
    int started;
    struct buf out;
    uint64_t scanned; /* last seq looked at in the current batch */
    size_t lines;
    int render_err;
    uint64_t render_seq;
};

struct deliver {
    const struct config *cfg;
    struct store *st;
    atomic_int stop;
    struct worker *w;
    size_t n;
};

static const struct sink_ops *ops_for(const struct cfg_sink *s)
{
    switch (s->type) {
    case SINK_STDOUT:
        return &sink_stdout_ops;
    }
    return NULL;
}

static int wants(const struct worker *w, const struct event *ev)
{
    int routed = 0;
    for (char **r = w->routes; *r && !routed; r++)
        routed = strlen(*r) == ev->route.len && !memcmp(*r, ev->route.p, ev->route.len);
    if (!routed)
        return 0;
    if (!w->sink->types)
        return 1;
    char type[EVENT_STR_MAX + 1];
    memcpy(type, ev->type.p, ev->type.len);
    type[ev->type.len] = '\0';
    for (char **t = w->sink->types; *t; t++)
        if (fnmatch(*t, type, 0) == 0)
            return 1;
    return 0;
}

static int visit(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct worker *w = arg;
    struct event ev;
    if (event_rec_parse(rec, len, &ev)) {
        log_msg(LOG_ERROR, "deliver: unreadable record skipped", "{s:s,s:I}", "sink", w->sink->name,
                "seq", (json_int_t)seq);
        w->scanned = seq;
        return 0;
    }
    if (wants(w, &ev)) {
        /* JSON escaping may grow text 6-fold: stop before a batch could
         * overflow; this event then opens the next batch */
        if (w->lines && w->out.len + 6 * ev.body.len + 65536 > w->out.max)
            return 1;
        int rc = event_envelope(&ev, seq, &w->out);
        if (rc) {
            w->render_err = rc;
            w->render_seq = seq;
            return 1;
        }
        w->lines++;
    }
    w->scanned = seq;
    return 0;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* backoff_ms - full jitter: uniform in [0, min(max, initial * 2^attempt)]. */
static uint64_t backoff_ms(const struct config *c, unsigned attempt, unsigned *seed)
{
    uint64_t cap = c->retry_initial_ms;
    for (unsigned i = 0; i < attempt && cap < c->retry_max_ms; i++)
        cap *= 2;
    if (cap > c->retry_max_ms)
        cap = c->retry_max_ms;
    return cap ? (uint64_t)rand_r(seed) % (cap + 1) : 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct deliver *d = w->d;
    uint64_t cursor = 0;
    unsigned attempt = 0, seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)w;
    if (store_cursor_get(d->st, w->sink->name, &cursor))
        log_msg(LOG_ERROR, "deliver: cannot read cursor; starting at 0", "{s:s}", "sink",
                w->sink->name);
    size_t sent = 0; /* bytes of this batch already handed over by a partial send */
    while (!atomic_load(&d->stop)) {
        buf_reset(&w->out);
        w->lines = 0;
        w->render_err = 0;
        w->scanned = cursor;
        if (store_scan(d->st, cursor, DELIVER_BATCH, visit, w)) {
            sleep_ms(100);
            continue;
        }
        int rc = HG_OK;
        if (w->render_err && !w->lines) {
            /* never skipped: the buffer is sized for the largest body, so
             * this is a transient allocation failure */
            rc = w->render_err;
            log_msg(LOG_ERROR, "deliver: cannot render event; will retry", "{s:s,s:I,s:s}", "sink",
                    w->sink->name, "seq", (json_int_t)w->render_seq, "error", hg_strerror(rc));
        } else if (w->scanned == cursor) {
            store_wait(d->st, cursor, 500);
            continue;
        } else if (w->lines) {
            /* a retry re-renders the same events from the same cursor, so the
             * bytes already written are an exact prefix: skip them */
            size_t off = sent <= w->out.len ? sent : 0, n = 0;
            rc = w->ops->send(w->state, w->out.p + off, w->out.len - off, &n);
            sent = off + n;
        }
        if (rc) {
            uint64_t ms = backoff_ms(d->cfg, attempt++, &seed);
            log_msg(LOG_WARN, "deliver: send failed; will retry", "{s:s,s:I,s:i}", "sink",
                    w->sink->name, "retry_in_ms", (json_int_t)ms, "attempt", (int)attempt);
            for (uint64_t t = 0; t < ms && !atomic_load(&d->stop); t += 50)
                sleep_ms(ms - t < 50 ? ms - t : 50);
            continue;
        }
        sent = 0;
        attempt = 0;
        cursor = w->scanned;
        if (store_cursor_set(d->st, w->sink->name, cursor))
            log_msg(LOG_ERROR, "deliver: cannot record cursor", "{s:s}", "sink", w->sink->name);
    }
    return NULL;
}

static int worker_init(struct deliver *d, struct worker *w, const struct cfg_sink *s)
{
    w->d = d;
    w->sink = s;
    w->ops = ops_for(s);
    /* room for the largest envelope: a max_body text body escaped 6-fold */
    size_t max = (size_t)d->cfg->max_body * 6 + (1u << 20);
    buf_init(&w->out, max > DELIVER_BUF_MIN ? max : DELIVER_BUF_MIN);
    size_t n = 0;
    for (size_t i = 0; i < d->cfg->nroutes; i++)
        for (size_t k = 0; k < d->cfg->routes[i].nsinks; k++)
            n += &d->cfg->sinks[d->cfg->routes[i].sinks[k]] == s;
    w->routes = calloc(n + 1, sizeof(char *));
    if (!w->routes || !w->ops)
        return HG_ENOMEM;
    n = 0;
    for (size_t i = 0; i < d->cfg->nroutes; i++)
        for (size_t k = 0; k < d->cfg->routes[i].nsinks; k++)
            if (&d->cfg->sinks[d->cfg->routes[i].sinks[k]] == s)
                w->routes[n++] = d->cfg->routes[i].name;
    if (w->ops->open(s, &w->state))
        return HG_EIO;
    if (pthread_create(&w->thread, NULL, worker_main, w))
        return HG_ENOMEM;
    w->started = 1;
    return HG_OK;
}

int deliver_start(const struct config *cfg, struct store *st, struct deliver **out)
{
    struct deliver *d = calloc(1, sizeof(*d));
    if (!d)
        return HG_ENOMEM;
    d->cfg = cfg;
    d->st = st;
    atomic_init(&d->stop, 0);
    d->w = calloc(cfg->nsinks, sizeof(*d->w));
    if (!d->w) {
        free(d);
        return HG_ENOMEM;
    }
    d->n = cfg->nsinks;
    for (size_t i = 0; i < cfg->nsinks; i++) {
        int rc = worker_init(d, &d->w[i], &cfg->sinks[i]);
        if (rc) {
            log_msg(LOG_ERROR, "deliver: cannot start sink", "{s:s}", "sink", cfg->sinks[i].name);
            deliver_stop(d);
            return rc;
        }
    }
    *out = d;
    return HG_OK;
}

void deliver_stop(struct deliver *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, 1);
    for (size_t i = 0; i < d->n; i++) {
        struct worker *w = &d->w[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        if (w->ops && w->state)
            w->ops->close(w->state);
        buf_free(&w->out);
        free(w->routes);
    }
    free(d->w);
    free(d);
}
