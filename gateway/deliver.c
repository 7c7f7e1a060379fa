/*
 * deliver.c - per-sink delivery workers (see deliver.h): the loop every sink
 * shares, written once, around the sinks of sink.h.
 *
 * One thread per sink.  What every worker does the same way:
 *  - cursor: every event up to it is delivered to the sink or a dead letter.
 *    It moves forward only after the sink took the events (a crash in
 *    between re-delivers them: at least once), and back only for a replay.
 *  - selection and rendering: the events stored under a route that feeds the
 *    sink in this config or one served before a reload (so a renamed route
 *    still reaches it) and matching its "types", rendered as envelopes in a
 *    short read transaction that ends before the sink is called, so a stuck
 *    consumer never pins an LMDB reader.
 *  - retries: exponential backoff with full jitter bounded by retry.initial
 *    and retry.max; a dead letter after retry.max_attempts, or at once when
 *    the sink says so (dead_letter).  An attempt that could not start
 *    (begin failed) or ended with the transport down (result HG_EBUSY) is
 *    not counted: an outage of any length dead-letters nothing.
 *  - replays (`events replay`, the console): deliver_replay.c, between
 *    batches (stream) or between fills of the window (per event).
 *  - metrics: delivered, failed, retried and dead, per sink.
 * The two modes of sink.h differ only in how events are handed over:
 *  - stream (batch_main): up to DELIVER_BATCH events in one buffer, sent as
 *    one; the cursor moves over the whole batch.  A consumer that keeps
 *    failing on a batch gets its events one at a time, and the one it still
 *    fails on becomes a dead letter.  An unreachable one is retried forever.
 *  - per event (window_main): `concurrency` slots, each one event with its
 *    own attempts; the cursor moves up to the oldest event still in a slot.
 *    Dead letters being replayed sit in slots outside the cursor's range.
 */
#include "deliver.h"
#include "deliver_int.h"
#include "buf.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "sink.h"
#include "sinkstate.h"
#include "store.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- shared by both modes ---- */

int64_t deliver_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void deliver_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
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

/* pick - parse record seq into ev; 1 if this sink wants it.  An unreadable
 * record is logged and passed over. */
static int pick(const struct worker *w, uint64_t seq, const void *rec, size_t len, struct event *ev)
{
    if (event_rec_parse(rec, len, ev)) {
        log_msg(LOG_ERROR, "deliver: unreadable record skipped", "{s:s,s:I}", "sink", w->sink->name,
                "seq", (json_int_t)seq);
        return 0;
    }
    return wants(w, ev);
}

static void cursor_load(struct worker *w)
{
    w->cursor = 0;
    if (store_cursor_get(w->d->st, w->sink->name, &w->cursor))
        log_msg(LOG_ERROR, "deliver: cannot read cursor; starting at 0", "{s:s}", "sink",
                w->sink->name);
}

void deliver_cursor_save(struct worker *w, uint64_t seq)
{
    w->cursor = seq;
    if (store_cursor_set(w->d->st, w->sink->name, seq))
        log_msg(LOG_ERROR, "deliver: cannot record cursor", "{s:s}", "sink", w->sink->name);
}

/* backoff_ms - full jitter: uniform in [0, min(max, initial * 2^attempt)]. */
uint64_t deliver_backoff_ms(struct worker *w, unsigned attempt)
{
    const struct config *c = w->d->cfg;
    uint64_t cap = c->retry_initial_ms;
    for (unsigned i = 0; i < attempt && cap < c->retry_max_ms; i++)
        cap *= 2;
    if (cap > c->retry_max_ms)
        cap = c->retry_max_ms;
    return cap ? (uint64_t)rand_r(&w->seed) % (cap + 1) : 0;
}

/* dead_letter - record event seq as a dead letter after attempts, with err.
 * HG_OK once it is stored (logged and counted); else it stays the sink's,
 * to be tried again. */
static int dead_letter(struct worker *w, uint64_t seq, unsigned attempts, const char *err)
{
    int rc = store_dead_add(w->d->st, w->sink->name, seq, attempts, err);
    if (rc) {
        log_msg(LOG_ERROR, "deliver: cannot record a dead letter; will retry", "{s:s,s:I,s:s}",
                "sink", w->sink->name, "seq", (json_int_t)seq, "error", hg_strerror(rc));
        return rc;
    }
    log_msg(LOG_ERROR, "deliver: giving up; event moved to dead letters", "{s:s,s:I,s:i,s:s}",
            "sink", w->sink->name, "seq", (json_int_t)seq, "attempts", (int)attempts, "error", err);
    metrics_delivery(w->sink->mx, 0, 0, 0, 1);
    return HG_OK;
}

/* ---- stream sinks: batches of NDJSON lines ---- */

struct batch {
    size_t sent;      /* bytes of this batch already handed over by a partial send */
    unsigned attempt; /* failed sends in a row */
    unsigned noack;   /* HG_ENOACK in a row */
    int single;       /* sending one event at a time, to find the one at fault */
};

/* visit_batch - render the events this sink wants into w->out. */
static int visit_batch(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct worker *w = arg;
    struct event ev;
    if (pick(w, seq, rec, len, &ev)) {
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
        if (!w->lines++)
            w->first = seq;
    }
    w->scanned = seq;
    return 0;
}

/* batch_noack - the consumer failed on this batch again.  After
 * retry.max_attempts of that in a row its events go one at a time, and the
 * one it still fails on becomes a dead letter: HG_OK then (the cursor moves
 * past it), else HG_ENOACK. */
static int batch_noack(struct worker *w, struct batch *b)
{
    const struct config *c = w->d->cfg;
    if (++b->noack < c->retry_max_attempts)
        return HG_ENOACK;
    b->noack = 0;
    if (!b->single) {
        b->single = 1;
        log_msg(LOG_WARN, "deliver: batch keeps failing; sending events one at a time", "{s:s,s:I}",
                "sink", w->sink->name, "from_seq", (json_int_t)w->cursor + 1);
        return HG_ENOACK;
    }
    if (w->lines != 1 ||
        dead_letter(w, w->scanned, c->retry_max_attempts, "not acknowledged by the consumer"))
        return HG_ENOACK;
    b->single = 0;
    sinkstate_clear(w->sink->mx, w->first); /* dead: no longer retried */
    w->lines = 0;                           /* dead, not delivered */
    return HG_OK;
}

/* batch_retry - count the failure (rc) and wait out the backoff (or the stop). */
static void batch_retry(struct worker *w, struct batch *b, int rc)
{
    metrics_delivery(w->sink->mx, 0, 1, 1, 0);
    uint64_t ms = deliver_backoff_ms(w, b->attempt++);
    sinkstate_fail(w->sink->mx, w->lines ? w->first : w->cursor + 1, b->attempt, hg_strerror(rc),
                   time_now_ms() + (int64_t)ms);
    log_msg(LOG_WARN, "deliver: send failed; will retry", "{s:s,s:I,s:i}", "sink", w->sink->name,
            "retry_in_ms", (json_int_t)ms, "attempt", (int)b->attempt);
    for (uint64_t t = 0; t < ms && !atomic_load(&w->d->stop); t += 50)
        deliver_sleep_ms(ms - t < 50 ? ms - t : 50);
}

/* name_thread - "sink:NAME" (cut to the kernel's 15 bytes) for top -H and perf */
static void name_thread(const struct worker *w)
{
    char name[16];
    snprintf(name, sizeof(name), "sink:%s", w->sink->name);
    pthread_setname_np(pthread_self(), name);
}

static void *batch_main(void *arg)
{
    struct worker *w = arg;
    struct deliver *d = w->d;
    struct batch b = {0, 0, 0, 0};
    name_thread(w);
    cursor_load(w);
    while (!atomic_load(&d->stop)) {
        if (!b.sent) { /* replays apply between batches, never within a partial send */
            uint64_t next = w->cursor;
            deliver_replay_poll(w, &next, NULL);
        }
        buf_reset(&w->out);
        w->lines = 0;
        w->render_err = 0;
        w->scanned = w->cursor;
        if (store_scan(d->st, w->cursor, b.single ? 1 : DELIVER_BATCH, visit_batch, w)) {
            deliver_sleep_ms(100);
            continue;
        }
        int rc = HG_OK;
        if (w->render_err && !w->lines) {
            /* never skipped: the buffer is sized for the largest body, so
             * this is a transient allocation failure */
            rc = w->render_err;
            log_msg(LOG_ERROR, "deliver: cannot render event; will retry", "{s:s,s:I,s:s}", "sink",
                    w->sink->name, "seq", (json_int_t)w->render_seq, "error", hg_strerror(rc));
        } else if (w->scanned == w->cursor) {
            store_wait(d->st, w->cursor, 500);
            continue;
        } else if (w->lines) {
            /* a retry re-renders the same events from the same cursor, so the
             * bytes already written are an exact prefix: skip them */
            size_t off = b.sent <= w->out.len ? b.sent : 0, n = 0;
            rc = w->ops->send(w->state, w->out.p + off, w->out.len - off, &n);
            b.sent = off + n;
        }
        if (rc == HG_ENOACK)
            rc = batch_noack(w, &b);
        if (rc) {
            batch_retry(w, &b, rc);
            continue;
        }
        if (b.attempt && w->lines)
            sinkstate_clear(w->sink->mx, w->first);
        if (b.single && !b.noack && w->lines)
            b.single = 0; /* the hard part is behind: batches again */
        b.noack = 0;
        b.sent = 0;
        b.attempt = 0;
        metrics_delivery(w->sink->mx, w->lines, 0, 0, 0);
        deliver_cursor_save(w, w->scanned);
    }
    return NULL;
}

/* ---- per-event sinks: a window of attempts ---- */

struct slot {
    int used;             /* holds an event not yet delivered or dead */
    int replay;           /* a dead letter taken again: outside the cursor's range */
    int64_t retry_at;     /* start (again) at this time */
    struct sink_event ev; /* what the sink sees; its strings point below */
    struct buf line;      /* the rendered envelope */
    struct buf body;      /* the producer's body, for a sink that wants it */
    char id[EVENT_STR_MAX + 1], type[EVENT_STR_MAX + 1], source[EVENT_STR_MAX + 1],
        route[EVENT_STR_MAX + 1], ctype[EVENT_STR_MAX + 1], time[EVENT_STR_MAX + 1];
};

struct window {
    struct slot *slots;
    void **jobs; /* jobs[i]: slot i's attempt in progress, or NULL */
    unsigned n;
    uint64_t next; /* the last seq taken into a slot or passed over */
    int body;      /* the sink wants the producer's body */
    struct redo redo;
};

struct fill {
    struct worker *w;
    struct window *win;
    struct slot *slot;
    uint64_t exact; /* a dead letter's seq: that event or none */
    int found;
    int rc;
};

static void cstr(char *dst, const struct event_str *s)
{
    memcpy(dst, s->p, s->len);
    dst[s->len] = '\0';
}

/* slot_fill - event seq into sl: envelope, attributes, body if wanted. */
static int slot_fill(const struct window *win, struct slot *sl, uint64_t seq,
                     const struct event *ev)
{
    buf_reset(&sl->line);
    int rc = event_envelope(ev, seq, &sl->line);
    if (rc)
        return rc;
    cstr(sl->id, &ev->id);
    cstr(sl->type, &ev->type);
    cstr(sl->source, &ev->source);
    cstr(sl->route, &ev->route);
    cstr(sl->ctype, &ev->ctype);
    cstr(sl->time, &ev->time);
    sl->ev.seq = seq;
    sl->ev.received_ms = ev->received_ms;
    sl->ev.line = sl->line.p;
    sl->ev.len = sl->line.len;
    if (win->body) {
        buf_reset(&sl->body);
        if (buf_append(&sl->body, ev->body.p, ev->body.len))
            return HG_ENOMEM;
        sl->ev.body = sl->body.p ? sl->body.p : "";
        sl->ev.body_len = sl->body.len;
    }
    return HG_OK;
}

/* visit_slot - stop at the first event this sink wants (or at f->exact),
 * filled into f->slot. */
static int visit_slot(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct fill *f = arg;
    struct event ev;
    if (f->exact) {
        if (seq == f->exact && !event_rec_parse(rec, len, &ev) &&
            !(f->rc = slot_fill(f->win, f->slot, seq, &ev)))
            f->found = 1;
        return 1;
    }
    f->w->scanned = seq;
    if (!pick(f->w, seq, rec, len, &ev))
        return 0;
    if ((f->rc = slot_fill(f->win, f->slot, seq, &ev))) {
        f->w->scanned = seq - 1; /* not taken: tried again on the next fill */
        return 1;
    }
    f->found = 1;
    return 1;
}

static void slot_take(struct slot *sl, int replay, int64_t now)
{
    sl->used = 1;
    sl->replay = replay;
    sl->ev.attempt = 0;
    sl->retry_at = now;
}

/* take_redo - dead letters being replayed into free slots, before new events. */
static void take_redo(struct worker *w, struct window *win, int64_t now)
{
    for (unsigned i = 0; i < win->n && win->redo.pos < win->redo.n; i++) {
        if (win->slots[i].used)
            continue;
        struct fill f = {w, win, &win->slots[i], win->redo.seq[win->redo.pos++], 0, 0};
        if (store_scan(w->d->st, f.exact - 1, 1, visit_slot, &f) || !f.found)
            continue;
        slot_take(&win->slots[i], 1, now);
    }
    if (win->redo.pos == win->redo.n) /* all taken: the list starts over */
        win->redo.pos = win->redo.n = 0;
}

/* take_new - the next events for this sink into free slots. */
static void take_new(struct worker *w, struct window *win, int64_t now)
{
    for (unsigned i = 0, scans = 0; i < win->n; i++) {
        if (win->slots[i].used)
            continue;
        struct fill f = {w, win, &win->slots[i], 0, 0, 0};
        w->scanned = win->next;
        if (store_scan(w->d->st, win->next, DELIVER_BATCH, visit_slot, &f))
            break;
        int moved = w->scanned != win->next;
        win->next = w->scanned;
        if (f.rc) {
            log_msg(LOG_ERROR, "deliver: cannot render event; will retry", "{s:s,s:I,s:s}", "sink",
                    w->sink->name, "seq", (json_int_t)win->next + 1, "error", hg_strerror(f.rc));
            deliver_sleep_ms(100);
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
        slot_take(&win->slots[i], 0, now);
    }
}

/* start_due - start the attempts whose time has come.  Returns whether any
 * slot is in use; *wake gets earlier if something is due before it. */
static int start_due(struct worker *w, struct window *win, int64_t now, int64_t *wake)
{
    int busy = 0;
    for (unsigned i = 0; i < win->n; i++) {
        struct slot *sl = &win->slots[i];
        if (!sl->used)
            continue;
        busy = 1;
        if (!win->jobs[i] && sl->retry_at <= now) {
            sl->ev.attempt++;
            if (w->ops->begin(w->state, &sl->ev, now, &win->jobs[i])) {
                win->jobs[i] = NULL;
                sl->ev.attempt--;
                sl->retry_at = now + 100;
                continue;
            }
        }
        int64_t due = win->jobs[i] ? w->ops->deadline(w->state, win->jobs[i]) : sl->retry_at;
        if (due < *wake)
            *wake = due;
    }
    return busy;
}

/* finish - slot i's attempt ended: delivered, retry later, or dead letter. */
static void finish(struct worker *w, struct window *win, unsigned i, int64_t now)
{
    struct slot *sl = &win->slots[i];
    char err[DELIVER_ERR_MAX] = "";
    int64_t retry_after = 0;
    int rc = w->ops->result(w->state, win->jobs[i], err, sizeof(err), &retry_after);
    w->ops->release(w->state, win->jobs[i]);
    win->jobs[i] = NULL;
    if (rc == HG_OK) {
        if (sl->replay)
            store_dead_del(w->d->st, w->sink->name, sl->ev.seq);
        sinkstate_done(w->sink->mx, sl->ev.seq, sl->ev.attempt, sl->replay);
        sl->used = 0;
        metrics_delivery(w->sink->mx, 1, 0, 0, 0);
        return;
    }
    const struct config *c = w->d->cfg;
    if (rc == HG_EBUSY) { /* transport down (sink.h): this attempt does not count */
        metrics_delivery(w->sink->mx, 0, 0, 1, 0);
        sl->ev.attempt--;
        sl->retry_at = now + (int64_t)deliver_backoff_ms(w, sl->ev.attempt);
        return;
    }
    metrics_delivery(w->sink->mx, 0, 1, 0, 0);
    if ((rc == HG_EDEAD || sl->ev.attempt >= c->retry_max_attempts) &&
        dead_letter(w, sl->ev.seq, sl->ev.attempt, err) == HG_OK) {
        sinkstate_clear(w->sink->mx, sl->ev.seq);
        sl->used = 0;
        return;
    }
    metrics_delivery(w->sink->mx, 0, 0, 1, 0);
    uint64_t ms = deliver_backoff_ms(w, sl->ev.attempt - 1);
    if (retry_after > 0 && (uint64_t)retry_after > ms) /* the consumer asked for more */
        ms = (uint64_t)retry_after < c->retry_max_ms ? (uint64_t)retry_after : c->retry_max_ms;
    log_msg(LOG_WARN, "deliver: attempt failed; will retry", "{s:s,s:I,s:i,s:s,s:I}", "sink",
            w->sink->name, "seq", (json_int_t)sl->ev.seq, "attempt", (int)sl->ev.attempt, "error",
            err, "retry_in_ms", (json_int_t)ms);
    sl->retry_at = now + (int64_t)ms;
    sinkstate_fail(w->sink->mx, sl->ev.seq, sl->ev.attempt, err, time_now_ms() + (int64_t)ms);
}

/* reap - finish the attempts that ended; move the cursor up to the oldest
 * event still in a slot. */
static void reap(struct worker *w, struct window *win, int64_t now)
{
    uint64_t low = win->next;
    for (unsigned i = 0; i < win->n; i++) {
        struct slot *sl = &win->slots[i];
        if (sl->used && win->jobs[i] && w->ops->step(w->state, win->jobs[i], now))
            finish(w, win, i, now);
        if (sl->used && !sl->replay && sl->ev.seq - 1 < low)
            low = sl->ev.seq - 1;
    }
    if (low > w->cursor) /* everything up to low is delivered or dead */
        deliver_cursor_save(w, low);
}

static int window_open(struct worker *w, struct window *win)
{
    memset(win, 0, sizeof(*win));
    win->n = w->sink->concurrency ? w->sink->concurrency : 1;
    win->body = w->ops->wants_body && w->ops->wants_body(w->sink);
    win->slots = calloc(win->n, sizeof(*win->slots));
    win->jobs = calloc(win->n, sizeof(*win->jobs));
    if (!win->slots || !win->jobs) {
        free(win->slots);
        free(win->jobs);
        return HG_ENOMEM;
    }
    for (unsigned i = 0; i < win->n; i++) {
        struct slot *sl = &win->slots[i];
        buf_init(&sl->line, w->out.max);
        buf_init(&sl->body, w->out.max);
        sl->ev.id = sl->id;
        sl->ev.type = sl->type;
        sl->ev.source = sl->source;
        sl->ev.route = sl->route;
        sl->ev.ctype = sl->ctype;
        sl->ev.time = sl->time;
    }
    return HG_OK;
}

/* window_close - at stop: ask running attempts to end (an exec handler gets
 * SIGTERM), give them a moment, then release what is left; their events are
 * delivered again after a restart. */
static void window_close(struct worker *w, struct window *win)
{
    int64_t grace = deliver_mono_ms() + DELIVER_STOP_GRACE_MS;
    for (unsigned i = 0; i < win->n; i++)
        if (win->jobs[i] && w->ops->terminate)
            w->ops->terminate(w->state, win->jobs[i]);
    for (int running = 1; running && deliver_mono_ms() < grace;) {
        running = 0;
        w->ops->wait(w->state, win->jobs, win->n, 0);
        for (unsigned i = 0; i < win->n; i++)
            if (win->jobs[i] && !w->ops->step(w->state, win->jobs[i], deliver_mono_ms()))
                running = 1;
        if (running)
            deliver_sleep_ms(20);
    }
    for (unsigned i = 0; i < win->n; i++) {
        if (win->jobs[i])
            w->ops->release(w->state, win->jobs[i]);
        buf_free(&win->slots[i].line);
        buf_free(&win->slots[i].body);
    }
    free(win->slots);
    free(win->jobs);
    free(win->redo.seq);
}

static void *window_main(void *arg)
{
    struct worker *w = arg;
    name_thread(w);
    struct window win;
    if (window_open(w, &win)) {
        log_msg(LOG_ERROR, "deliver: out of memory; sink stopped", "{s:s}", "sink", w->sink->name);
        return NULL;
    }
    cursor_load(w);
    win.next = w->cursor;
    while (!atomic_load(&w->d->stop)) {
        deliver_replay_poll(w, &win.next, &win.redo);
        int64_t now = deliver_mono_ms(), wake = now + 20;
        take_redo(w, &win, now);
        take_new(w, &win, now);
        if (!start_due(w, &win, now, &wake)) {
            store_wait(w->d->st, win.next, 500);
            continue;
        }
        int timeout = wake > now ? (int)(wake - now) : 0;
        w->ops->wait(w->state, win.jobs, win.n, timeout < 20 ? timeout : 20);
        reap(w, &win, deliver_mono_ms());
    }
    window_close(w, &win);
    return NULL;
}

/* ---- start and stop ---- */

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
    w->ops = sink_find(s->type);
    w->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)w;
    /* room for the largest envelope: a max_body text body escaped 6-fold */
    size_t max = (size_t)d->cfg->max_body * 6 + (1u << 20);
    buf_init(&w->out, max > DELIVER_BUF_MIN ? max : DELIVER_BUF_MIN);
    size_t cap = d->cfg->nroutes;
    for (size_t g = 0; g < d->nhist; g++)
        cap += d->hist[g]->nroutes;
    w->routes = calloc(cap + 1, sizeof(char *));
    if (!w->routes || !w->ops)
        return HG_ENOMEM;
    size_t n = add_routes(d->cfg, s->name, w->routes, 0, cap);
    for (size_t g = 0; g < d->nhist; g++)
        n = add_routes(d->hist[g], s->name, w->routes, n, cap);
    if (w->ops->open(d->cfg, s, &w->state))
        return HG_EIO;
    w->opened = 1;
    if (pthread_create(&w->thread, NULL, w->ops->send ? batch_main : window_main, w))
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
        if (w->opened)
            w->ops->close(w->state);
        buf_free(&w->out);
        free(w->routes);
    }
    free(d->w);
    free(d);
}
