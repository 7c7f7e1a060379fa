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
 *  - replays (`events replay`, the console): polled every
 *    DELIVER_REPLAY_POLL_MS, every pending request applied at once (up to
 *    DELIVER_REPLAY_MAX), so twenty one-event replays are not ten seconds.
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

/* ---- shared by both modes ---- */

/* mono_ms - a clock that never jumps: deadlines, retry and poll times. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
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

static void cursor_save(struct worker *w, uint64_t seq)
{
    w->cursor = seq;
    if (store_cursor_set(w->d->st, w->sink->name, seq))
        log_msg(LOG_ERROR, "deliver: cannot record cursor", "{s:s}", "sink", w->sink->name);
}

/* backoff_ms - full jitter: uniform in [0, min(max, initial * 2^attempt)]. */
static uint64_t backoff_ms(struct worker *w, unsigned attempt)
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

/* redo - dead letters of this sink queued to be sent again (a replay) */
struct redo {
    uint64_t *seq;
    size_t n, pos, cap;
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

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* redo_add_dead - queue this sink's dead letters behind what redo still
 * holds (one-event replays not taken yet are kept, each as many times as
 * it was asked for); a dead letter already waiting there is not added
 * again. */
static void redo_add_dead(struct worker *w, struct redo *r)
{
    size_t left = r->n - r->pos;
    if (r->pos) /* (seq may still be NULL: nothing ever queued) */
        memmove(r->seq, r->seq + r->pos, left * sizeof(*r->seq));
    r->n = left;
    r->pos = 0;
    struct redo dead = {0};
    store_dead_scan(w->d->st, w->sink->name, on_dead_redo, &dead);
    uint64_t *have = left ? malloc(left * sizeof(*have)) : NULL;
    if (have) {
        memcpy(have, r->seq, left * sizeof(*have));
        qsort(have, left, sizeof(*have), cmp_u64);
    }
    for (size_t i = 0; i < dead.n; i++) {
        if (have && bsearch(&dead.seq[i], have, left, sizeof(*have), cmp_u64))
            continue;
        if (on_dead_redo(r, NULL, dead.seq[i], 0, 0, NULL))
            break; /* no memory: the rest stay dead letters, for a later replay */
    }
    free(have);
    free(dead.seq);
}

/* visit_one - render event *arg (a seq) alone into the worker's buffer. */
struct one {
    struct worker *w;
    uint64_t seq;
    int found;
};

static int visit_one(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct one *o = arg;
    struct event ev;
    if (seq == o->seq && !event_rec_parse(rec, len, &ev) && !event_envelope(&ev, seq, &o->w->out))
        o->found = 1;
    return 1;
}

/* send_one - a stream sink's replay of one event (the console): sent
 * alone, between batches, retried as a batch is (a partial send goes on
 * where it stopped), given up after retry.max_attempts.  The cursor does
 * not move; a dead letter of it is removed once it is sent. */
static void send_one(struct worker *w, uint64_t seq)
{
    buf_reset(&w->out);
    struct one o = {w, seq, 0};
    if (store_scan(w->d->st, seq - 1, 1, visit_one, &o) || !o.found) {
        log_msg(LOG_WARN, "deliver: replay of an event not in the store", "{s:s,s:I}", "sink",
                w->sink->name, "seq", (json_int_t)seq);
        return;
    }
    size_t off = 0;
    for (unsigned attempt = 0; !atomic_load(&w->d->stop); attempt++) {
        int rc = HG_OK;
        while (!rc && off < w->out.len) {
            size_t n = 0;
            rc = w->ops->send(w->state, w->out.p + off, w->out.len - off, &n);
            off += n;
        }
        if (!rc) {
            metrics_delivery(w->sink->mx, 1, 0, 0, 0);
            store_dead_del(w->d->st, w->sink->name, seq);
            sinkstate_done(w->sink->mx, seq, attempt + 1, 1);
            return;
        }
        metrics_delivery(w->sink->mx, 0, 1, 1, 0);
        if (attempt + 1 >= w->d->cfg->retry_max_attempts && off == 0) {
            log_msg(LOG_ERROR, "deliver: replay of one event failed; given up", "{s:s,s:I,s:s}",
                    "sink", w->sink->name, "seq", (json_int_t)seq, "error", hg_strerror(rc));
            return;
        }
        uint64_t ms = backoff_ms(w, attempt);
        for (uint64_t t = 0; t < ms && !atomic_load(&w->d->stop); t += 50)
            sleep_ms(ms - t < 50 ? ms - t : 50);
    }
}

/* replay_apply - one `events replay` request.  "From seq" moves *next
 * (the next event to take is the one after it) and, when below it, the
 * cursor back.  "Dead letters" queues this sink's dead letters in *redo
 * (once per poll: *dead_done; a second such request finds nothing new); a
 * stream sink (redo NULL) sends one event alone (send_one) and has no way
 * to send dead letters outside its order: it only logs them.  1 if it
 * sent one event (and may have slept on retries), else 0. */
static int replay_apply(struct worker *w, const struct store_replay *rq, uint64_t *next,
                        struct redo *redo, int *dead_done)
{
    int sent = 0;
    if (rq->dead)
        log_msg(LOG_INFO, "deliver: replaying dead letters", "{s:s}", "sink", w->sink->name);
    else if (rq->one)
        log_msg(LOG_INFO, "deliver: replaying one event", "{s:s,s:I}", "sink", w->sink->name, "seq",
                (json_int_t)rq->from_seq);
    else
        log_msg(LOG_INFO, "deliver: replaying events", "{s:s,s:I}", "sink", w->sink->name,
                "from_seq", (json_int_t)rq->from_seq);
    if (rq->one && redo) {
        on_dead_redo(redo, NULL, rq->from_seq, 0, 0, NULL); /* one more, outside the cursor */
    } else if (rq->one) {
        send_one(w, rq->from_seq);
        sent = 1;
    } else if (rq->dead && redo) {
        if (!*dead_done)
            redo_add_dead(w, redo);
        *dead_done = 1;
    } else if (!rq->dead && rq->from_seq && rq->from_seq - 1 < *next) {
        *next = rq->from_seq - 1;
        if (*next < w->cursor)
            cursor_save(w, *next);
    }
    w->replay_done[w->replay_done_pos++ % DELIVER_REPLAY_DONE] = rq->id;
    store_replay_done(w->d->st, w->sink->name, rq->id);
    return sent;
}

static int replay_applied(const struct worker *w, uint64_t id)
{
    for (unsigned i = 0; i < DELIVER_REPLAY_DONE; i++)
        if (w->replay_done[i] == id)
            return 1;
    return 0;
}

/* replay_poll - at most every DELIVER_REPLAY_POLL_MS, apply the pending
 * replay requests in order (up to DELIVER_REPLAY_MAX; a stream sink stops
 * after one event sent alone, so its batches are not held up).  A request
 * applied before and not deleted yet is passed over. */
static void replay_poll(struct worker *w, uint64_t *next, struct redo *redo)
{
    int64_t now = mono_ms();
    if (now < w->replay_check)
        return;
    w->replay_check = now + DELIVER_REPLAY_POLL_MS;
    struct store_replay rq;
    uint64_t after = 0;
    int dead_done = 0, applied = 0;
    for (int seen = 0;
         applied < DELIVER_REPLAY_MAX && seen < DELIVER_REPLAY_MAX + DELIVER_REPLAY_DONE; seen++) {
        if (atomic_load(&w->d->stop) || !store_replay_next(w->d->st, w->sink->name, after, &rq))
            break;
        after = rq.id;
        if (replay_applied(w, rq.id))
            continue;
        applied++;
        if (replay_apply(w, &rq, next, redo, &dead_done))
            break;
    }
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
    uint64_t ms = backoff_ms(w, b->attempt++);
    sinkstate_fail(w->sink->mx, w->lines ? w->first : w->cursor + 1, b->attempt, hg_strerror(rc),
                   time_now_ms() + (int64_t)ms);
    log_msg(LOG_WARN, "deliver: send failed; will retry", "{s:s,s:I,s:i}", "sink", w->sink->name,
            "retry_in_ms", (json_int_t)ms, "attempt", (int)b->attempt);
    for (uint64_t t = 0; t < ms && !atomic_load(&w->d->stop); t += 50)
        sleep_ms(ms - t < 50 ? ms - t : 50);
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
            replay_poll(w, &next, NULL);
        }
        buf_reset(&w->out);
        w->lines = 0;
        w->render_err = 0;
        w->scanned = w->cursor;
        if (store_scan(d->st, w->cursor, b.single ? 1 : DELIVER_BATCH, visit_batch, w)) {
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
        cursor_save(w, w->scanned);
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
        sl->retry_at = now + (int64_t)backoff_ms(w, sl->ev.attempt);
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
    uint64_t ms = backoff_ms(w, sl->ev.attempt - 1);
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
        cursor_save(w, low);
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
    int64_t grace = mono_ms() + DELIVER_STOP_GRACE_MS;
    for (unsigned i = 0; i < win->n; i++)
        if (win->jobs[i] && w->ops->terminate)
            w->ops->terminate(w->state, win->jobs[i]);
    for (int running = 1; running && mono_ms() < grace;) {
        running = 0;
        w->ops->wait(w->state, win->jobs, win->n, 0);
        for (unsigned i = 0; i < win->n; i++)
            if (win->jobs[i] && !w->ops->step(w->state, win->jobs[i], mono_ms()))
                running = 1;
        if (running)
            sleep_ms(20);
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
        replay_poll(w, &win.next, &win.redo);
        int64_t now = mono_ms(), wake = now + 20;
        take_redo(w, &win, now);
        take_new(w, &win, now);
        if (!start_due(w, &win, now, &wake)) {
            store_wait(w->d->st, win.next, 500);
            continue;
        }
        int timeout = wake > now ? (int)(wake - now) : 0;
        w->ops->wait(w->state, win.jobs, win.n, timeout < 20 ? timeout : 20);
        reap(w, &win, mono_ms());
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
