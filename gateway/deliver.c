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
#include "deliver_int.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "exec.h"
#include "log.h"
#include "metrics.h"
#include "sink.h"
#include "store.h"

#include <fnmatch.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DELIVER_BATCH          256
#define DELIVER_BUF_MIN        (64u << 20)
#define DELIVER_REPLAY_POLL_MS 500
#define DELIVER_FILL_SCANS     64   /* scans of DELIVER_BATCH events per fill */
#define DELIVER_STOP_GRACE_MS  2000 /* SIGTERM to SIGKILL for handlers at stop */

/* mono_ms - a clock that never jumps: handler deadlines and retry times. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct sink_ops *ops_for(const struct cfg_sink *s)
{
    switch (s->type) {
    case SINK_STDOUT:
        return &sink_stdout_ops;
    case SINK_UNIX:
        return &sink_unix_ops;
    case SINK_PIPE:
        return &sink_pipe_ops;
    case SINK_EXEC:
    case SINK_HTTP:
    case SINK_JETSTREAM:
        return NULL; /* one attempt per event: window_main, not a byte stream */
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

/* sink_index - w's sink in the config, for metrics labels */
static int sink_index(const struct worker *w)
{
    return w->sink->mx;
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

static void log_replay(const struct worker *w, const struct store_replay *rq)
{
    if (rq->dead)
        log_msg(LOG_INFO, "deliver: replaying dead letters", "{s:s}", "sink", w->sink->name);
    else
        log_msg(LOG_INFO, "deliver: replaying events", "{s:s,s:I}", "sink", w->sink->name,
                "from_seq", (json_int_t)rq->from_seq);
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
    int64_t replay_check = 0;
    /* a consumer that keeps failing on a batch (not merely unreachable) gets
     * the events one at a time; one that still fails is a dead letter */
    unsigned noack = 0;
    int single = 0;
    while (!atomic_load(&d->stop)) {
        struct store_replay rq;
        /* replays apply between batches: never in the middle of a partial send */
        if (!sent && time_now_ms() >= replay_check) {
            replay_check = time_now_ms() + DELIVER_REPLAY_POLL_MS;
            if (store_replay_next(d->st, w->sink->name, &rq)) {
                if (!rq.dead && rq.from_seq && rq.from_seq - 1 < cursor) {
                    cursor = rq.from_seq - 1;
                    store_cursor_set(d->st, w->sink->name, cursor);
                }
                log_replay(w, &rq);
                store_replay_done(d->st, w->sink->name, rq.id);
            }
        }
        buf_reset(&w->out);
        w->lines = 0;
        w->render_err = 0;
        w->scanned = cursor;
        if (store_scan(d->st, cursor, single ? 1 : DELIVER_BATCH, visit, w)) {
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
        if (rc == HG_ENOACK && ++noack >= d->cfg->retry_max_attempts) {
            noack = 0;
            if (!single) {
                single = 1;
                log_msg(LOG_WARN, "deliver: batch keeps failing; sending events one at a time",
                        "{s:s,s:I}", "sink", w->sink->name, "from_seq", (json_int_t)cursor + 1);
            } else if (w->lines == 1 &&
                       store_dead_add(d->st, w->sink->name, w->scanned, d->cfg->retry_max_attempts,
                                      "not acknowledged by the consumer") == HG_OK) {
                log_msg(LOG_ERROR, "deliver: giving up; event moved to dead letters",
                        "{s:s,s:I,s:i,s:s}", "sink", w->sink->name, "seq", (json_int_t)w->scanned,
                        "attempts", (int)d->cfg->retry_max_attempts, "error",
                        "not acknowledged by the consumer");
                rc = HG_OK; /* the cursor moves past it below */
                single = 0;
                metrics_delivery(sink_index(w), 0, 0, 0, 1);
                w->lines = 0; /* dead, not delivered */
            }
        }
        if (rc) {
            metrics_delivery(sink_index(w), 0, 1, 1, 0);
            uint64_t ms = backoff_ms(d->cfg, attempt++, &seed);
            log_msg(LOG_WARN, "deliver: send failed; will retry", "{s:s,s:I,s:i}", "sink",
                    w->sink->name, "retry_in_ms", (json_int_t)ms, "attempt", (int)attempt);
            for (uint64_t t = 0; t < ms && !atomic_load(&d->stop); t += 50)
                sleep_ms(ms - t < 50 ? ms - t : 50);
            continue;
        }
        if (single && !noack && w->lines)
            single = 0; /* the hard part is behind: batches again */
        noack = 0;
        sent = 0;
        attempt = 0;
        metrics_delivery(sink_index(w), w->lines, 0, 0, 0);
        cursor = w->scanned;
        if (store_cursor_set(d->st, w->sink->name, cursor))
            log_msg(LOG_ERROR, "deliver: cannot record cursor", "{s:s}", "sink", w->sink->name);
    }
    return NULL;
}

/* ---- exec sinks: one process per event, up to `concurrency` at once ---- */

struct fill {
    struct worker *w;
    struct slot *slot;
    int found;
    int rc;
};

static void cstr(char *dst, const struct event_str *s)
{
    memcpy(dst, s->p, s->len);
    dst[s->len] = '\0';
}

/* slot_fields - the event's attributes (and, for binary http, its body) */
static int slot_fields(struct worker *w, struct slot *sl, const struct event *ev)
{
    cstr(sl->id, &ev->id);
    cstr(sl->type, &ev->type);
    cstr(sl->source, &ev->source);
    cstr(sl->route, &ev->route);
    cstr(sl->ctype, &ev->ctype);
    cstr(sl->time, &ev->time);
    sl->received_ms = ev->received_ms;
    buf_reset(&sl->body);
    if (w->sink->type == SINK_HTTP && w->sink->binary)
        return buf_append(&sl->body, ev->body.p, ev->body.len);
    return 0;
}

/* visit_one - stop at the first event this sink wants, rendered into the slot. */
static int visit_one(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct fill *f = arg;
    struct event ev;
    f->w->scanned = seq;
    if (event_rec_parse(rec, len, &ev)) {
        log_msg(LOG_ERROR, "deliver: unreadable record skipped", "{s:s,s:I}", "sink",
                f->w->sink->name, "seq", (json_int_t)seq);
        return 0;
    }
    if (!wants(f->w, &ev))
        return 0;
    struct slot *sl = f->slot;
    buf_reset(&sl->line);
    if ((f->rc = event_envelope(&ev, seq, &sl->line))) {
        f->w->scanned = seq - 1; /* not taken: retried on the next fill */
        return 1;
    }
    if (slot_fields(f->w, sl, &ev)) {
        f->rc = HG_ENOMEM;
        return 1;
    }
    sl->seq = seq;
    f->found = 1;
    return 1;
}

/* visit_exact - render event f->slot->seq (a dead letter being replayed). */
static int visit_exact(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct fill *f = arg;
    struct event ev;
    struct slot *sl = f->slot;
    if (seq != sl->seq || event_rec_parse(rec, len, &ev))
        return 1;
    buf_reset(&sl->line);
    if ((f->rc = event_envelope(&ev, seq, &sl->line)))
        return 1;
    if (slot_fields(f->w, sl, &ev)) {
        f->rc = HG_ENOMEM;
        return 1;
    }
    f->found = 1;
    return 1;
}

struct redo {
    uint64_t *seq;
    size_t n, cap;
};

static int on_dead_redo(void *arg, const char *sink, uint64_t seq, unsigned attempts,
                        int64_t time_ms, const char *err)
{
    (void)sink;
    (void)attempts;
    (void)time_ms;
    (void)err;
    struct redo *r = arg;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        uint64_t *p = realloc(r->seq, cap * sizeof(*p));
        if (!p)
            return 1;
        r->seq = p;
        r->cap = cap;
    }
    r->seq[r->n++] = seq;
    return 0;
}

/* finish - an attempt ended: delivered, retry later, or dead letter. */
static void finish(struct worker *w, struct slot *sl, int64_t now, unsigned *seed)
{
    char err[DELIVER_ERR_MAX] = "";
    int64_t retry_after = 0;
    int rc = w->be->result(w, sl, err, sizeof(err), &retry_after);
    w->be->release(w, sl);
    if (rc == HG_OK) {
        if (sl->replay)
            store_dead_del(w->d->st, w->sink->name, sl->seq);
        sl->used = 0;
        metrics_delivery(sink_index(w), 1, 0, 0, 0);
        return;
    }
    metrics_delivery(sink_index(w), 0, 1, 0, 0);
    const struct config *c = w->d->cfg;
    if (rc == HG_EDEAD || sl->attempt >= c->retry_max_attempts) {
        log_msg(LOG_ERROR, "deliver: giving up; event moved to dead letters", "{s:s,s:I,s:i,s:s}",
                "sink", w->sink->name, "seq", (json_int_t)sl->seq, "attempts", (int)sl->attempt,
                "error", err);
        if (store_dead_add(w->d->st, w->sink->name, sl->seq, sl->attempt, err) == HG_OK) {
            sl->used = 0;
            metrics_delivery(sink_index(w), 0, 0, 0, 1);
            return;
        }
    }
    metrics_delivery(sink_index(w), 0, 0, 1, 0);
    uint64_t ms = backoff_ms(c, sl->attempt - 1, seed);
    if (retry_after > 0 && (uint64_t)retry_after > ms) /* the consumer asked for more */
        ms = (uint64_t)retry_after < c->retry_max_ms ? (uint64_t)retry_after : c->retry_max_ms;
    log_msg(LOG_WARN, "deliver: attempt failed; will retry", "{s:s,s:I,s:i,s:s,s:I}", "sink",
            w->sink->name, "seq", (json_int_t)sl->seq, "attempt", (int)sl->attempt, "error", err,
            "retry_in_ms", (json_int_t)ms);
    sl->retry_at = now + (int64_t)ms;
}

/* ---- the exec backend: one process per attempt ---- */

static int exec_begin(struct worker *w, struct slot *sl, int64_t now)
{
    struct exec_event e = {sl->id,  sl->type,    sl->source, sl->route,
                           sl->seq, sl->attempt, sl->line.p, sl->line.len};
    return exec_job_start(w->sink, &e, now, (struct exec_job **)&sl->job);
}

static void exec_wait(struct worker *w, struct slot *slots, unsigned n, int timeout_ms)
{
    (void)w;
    struct pollfd pfd[EXEC_POLLFDS * 64];
    int npfd = 0;
    for (unsigned i = 0; i < n; i++)
        if (slots[i].job)
            npfd += exec_job_pollfds(slots[i].job, pfd + npfd);
    poll(pfd, (nfds_t)npfd, timeout_ms);
}

static int exec_step(struct worker *w, struct slot *sl, int64_t now)
{
    (void)w;
    return exec_job_step(sl->job, now);
}

static int64_t exec_deadline(struct worker *w, struct slot *sl)
{
    (void)w;
    return exec_job_deadline(sl->job);
}

static int exec_result(struct worker *w, struct slot *sl, char *err, size_t cap,
                       int64_t *retry_after)
{
    (void)w;
    *retry_after = 0;
    return exec_job_result(sl->job, err, cap);
}

static void exec_terminate(struct worker *w, struct slot *sl)
{
    (void)w;
    exec_job_terminate(sl->job);
}

static void exec_release(struct worker *w, struct slot *sl)
{
    (void)w;
    exec_job_free(sl->job);
    sl->job = NULL;
}

static const struct job_backend exec_backend = {exec_begin,    exec_wait,   exec_step,
                                                exec_deadline, exec_result, exec_terminate,
                                                exec_release,  NULL,        NULL};

/* window_main - per-event delivery with up to `concurrency` attempts in
 * flight (exec and http sinks); the transport is w->be. */
static void *window_main(void *arg)
{
    struct worker *w = arg;
    struct deliver *d = w->d;
    unsigned n = w->sink->concurrency ? w->sink->concurrency : 1;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)w;
    struct slot *slots = calloc(n, sizeof(*slots));
    uint64_t cursor = 0, next;
    if (!slots)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        buf_init(&slots[i].line, w->out.max);
        buf_init(&slots[i].body, w->out.max);
    }
    if (store_cursor_get(d->st, w->sink->name, &cursor))
        log_msg(LOG_ERROR, "deliver: cannot read cursor; starting at 0", "{s:s}", "sink",
                w->sink->name);
    next = cursor;
    struct redo redo = {NULL, 0, 0};
    size_t redo_pos = 0;
    int64_t replay_check = 0;
    while (!atomic_load(&d->stop)) {
        int64_t now = mono_ms();
        int busy = 0;
        struct store_replay rq;
        if (now >= replay_check) {
            replay_check = now + DELIVER_REPLAY_POLL_MS;
            if (store_replay_next(d->st, w->sink->name, &rq)) {
                log_replay(w, &rq);
                if (rq.dead) { /* queue every dead letter of this sink again */
                    redo.n = redo_pos = 0;
                    store_dead_scan(d->st, w->sink->name, on_dead_redo, &redo);
                } else if (rq.from_seq && rq.from_seq - 1 < next) {
                    next = rq.from_seq - 1;
                    if (next < cursor) {
                        cursor = next;
                        store_cursor_set(d->st, w->sink->name, cursor);
                    }
                }
                store_replay_done(d->st, w->sink->name, rq.id);
            }
        }
        for (unsigned i = 0; i < n && redo_pos < redo.n; i++) { /* dead letters first */
            if (slots[i].used)
                continue;
            struct fill f = {w, &slots[i], 0, 0};
            slots[i].seq = redo.seq[redo_pos++];
            if (store_scan(d->st, slots[i].seq - 1, 1, visit_exact, &f) || !f.found)
                continue;
            slots[i].used = slots[i].replay = 1;
            slots[i].attempt = 0;
            slots[i].retry_at = now;
        }
        for (unsigned i = 0, scans = 0; i < n; i++) { /* take new events into free slots */
            if (slots[i].used)
                continue;
            slots[i].replay = 0;
            struct fill f = {w, &slots[i], 0, 0};
            w->scanned = next;
            if (store_scan(d->st, next, DELIVER_BATCH, visit_one, &f))
                break;
            int moved = w->scanned != next;
            next = w->scanned;
            if (f.rc) {
                log_msg(LOG_ERROR, "deliver: cannot render event; will retry", "{s:s,s:I,s:s}",
                        "sink", w->sink->name, "seq", (json_int_t)next + 1, "error",
                        hg_strerror(f.rc));
                sleep_ms(100);
                break;
            }
            if (!f.found) {
                /* only events for other sinks so far: look further (bounded) */
                if (moved && ++scans < DELIVER_FILL_SCANS)
                    i--;
                else
                    break;
                continue;
            }
            slots[i].used = 1;
            slots[i].attempt = 0;
            slots[i].retry_at = now;
        }
        int64_t wake = now + 20;
        for (unsigned i = 0; i < n; i++) {
            struct slot *sl = &slots[i];
            if (!sl->used)
                continue;
            busy = 1;
            if (!sl->job && sl->retry_at <= now) {
                sl->attempt++;
                if (w->be->begin(w, sl, now)) {
                    sl->attempt--;
                    sl->retry_at = now + 100;
                    continue;
                }
            }
            if (sl->job) {
                int64_t dl = w->be->deadline(w, sl);
                if (dl < wake)
                    wake = dl;
            } else if (sl->retry_at < wake) {
                wake = sl->retry_at;
            }
        }
        if (!busy) {
            store_wait(d->st, next, 500);
            continue;
        }
        int timeout = wake > now ? (int)(wake - now) : 0;
        w->be->wait(w, slots, n, timeout < 20 ? timeout : 20);
        now = mono_ms();
        uint64_t low = next;
        for (unsigned i = 0; i < n; i++) {
            struct slot *sl = &slots[i];
            if (sl->used && sl->job && w->be->step(w, sl, now))
                finish(w, sl, now, &seed);
            if (sl->used && !sl->replay && sl->seq - 1 < low)
                low = sl->seq - 1;
        }
        if (low > cursor) { /* everything up to low is delivered or dead */
            cursor = low;
            if (store_cursor_set(d->st, w->sink->name, cursor))
                log_msg(LOG_ERROR, "deliver: cannot record cursor", "{s:s}", "sink", w->sink->name);
        }
    }
    /* stop: ask running handlers to finish (SIGTERM), give them a moment,
     * then kill what is left; their events are run again after a restart */
    int64_t grace = mono_ms() + DELIVER_STOP_GRACE_MS;
    for (unsigned i = 0; i < n; i++)
        if (slots[i].job)
            w->be->terminate(w, &slots[i]);
    for (int running = 1; running && mono_ms() < grace;) {
        running = 0;
        w->be->wait(w, slots, n, 0);
        for (unsigned i = 0; i < n; i++)
            if (slots[i].job && !w->be->step(w, &slots[i], mono_ms()))
                running = 1;
        if (running)
            sleep_ms(20);
    }
    for (unsigned i = 0; i < n; i++) {
        if (slots[i].job)
            w->be->release(w, &slots[i]);
        buf_free(&slots[i].line);
        buf_free(&slots[i].body);
    }
    free(slots);
    free(redo.seq);
    return NULL;
}

/* add_routes - names of c's routes that feed a sink named sink, into r (deduplicated) */
static size_t add_routes(const struct config *c, const char *sink, char **r, size_t n, size_t cap)
{
    for (size_t i = 0; i < c->nroutes; i++)
        for (size_t k = 0; k < c->routes[i].nsinks; k++) {
            if (strcmp(c->sinks[c->routes[i].sinks[k]].name, sink))
                continue;
            size_t j = 0;
            while (j < n && strcmp(r[j], c->routes[i].name))
                j++;
            if (j == n && n < cap)
                r[n++] = c->routes[i].name;
        }
    return n;
}

static int worker_init(struct deliver *d, struct worker *w, const struct cfg_sink *s)
{
    w->d = d;
    w->sink = s;
    w->ops = ops_for(s);
    /* room for the largest envelope: a max_body text body escaped 6-fold */
    size_t max = (size_t)d->cfg->max_body * 6 + (1u << 20);
    buf_init(&w->out, max > DELIVER_BUF_MIN ? max : DELIVER_BUF_MIN);
    size_t cap = d->cfg->nroutes;
    for (size_t g = 0; g < d->nhist; g++)
        cap += d->hist[g]->nroutes;
    w->routes = calloc(cap + 1, sizeof(char *));
    if (!w->routes ||
        (!w->ops && s->type != SINK_EXEC && s->type != SINK_HTTP && s->type != SINK_JETSTREAM))
        return HG_ENOMEM;
    size_t n = add_routes(d->cfg, s->name, w->routes, 0, cap);
    for (size_t g = 0; g < d->nhist; g++)
        n = add_routes(d->hist[g], s->name, w->routes, n, cap);
    if (w->ops && w->ops->open(s, &w->state))
        return HG_EIO;
    if (!w->ops) {
        w->be = s->type == SINK_HTTP        ? &deliver_http_backend
                : s->type == SINK_JETSTREAM ? &deliver_jetstream_backend
                                            : &exec_backend;
        if (w->be->open && w->be->open(w))
            return HG_EIO;
    }
    if (pthread_create(&w->thread, NULL, w->ops ? worker_main : window_main, w))
        return HG_ENOMEM;
    w->started = 1;
    return HG_OK;
}

int deliver_start(const struct config *cfg, struct store *st, struct deliver **out)
{
    return deliver_start_after(cfg, NULL, 0, st, out);
}

int deliver_start_after(const struct config *cfg, const struct config *const *hist, size_t nhist,
                        struct store *st, struct deliver **out)
{
    struct deliver *d = calloc(1, sizeof(*d));
    if (!d)
        return HG_ENOMEM;
    d->cfg = cfg;
    d->hist = hist;
    d->nhist = nhist;
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
        if (w->be && w->be->close)
            w->be->close(w);
        buf_free(&w->out);
        free(w->routes);
    }
    free(d->w);
    free(d);
}
