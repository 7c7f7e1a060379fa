/*
 * deliver_replay.c - replay requests for one sink's worker (see
 * deliver_int.h): `events replay` from the CLI and the console's replays
 * of one event, of dead letters, or of everything from a seq.
 *
 * A request sits in the store's "replay" table until the worker applies
 * it and marks it done; the delete reaches LMDB with the next checkpoint,
 * so the worker remembers the ids it applied (DELIVER_REPLAY_DONE) and
 * never applies one twice while it runs.  Every waiting request is
 * applied at each poll (up to DELIVER_REPLAY_MAX), in id order; a
 * dead-letter replay scans the sink's letters once per poll.
 */
#include "deliver_int.h"
#include "err.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "sinkstate.h"

#include <stdlib.h>
#include <string.h>

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
        uint64_t ms = deliver_backoff_ms(w, attempt);
        for (uint64_t t = 0; t < ms && !atomic_load(&w->d->stop); t += 50)
            deliver_sleep_ms(ms - t < 50 ? ms - t : 50);
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
            deliver_cursor_save(w, *next);
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

/* deliver_replay_poll - at most every DELIVER_REPLAY_POLL_MS, apply the pending
 * replay requests in order (up to DELIVER_REPLAY_MAX; a stream sink stops
 * after one event sent alone, so its batches are not held up).  A request
 * applied before and not deleted yet is passed over. */
void deliver_replay_poll(struct worker *w, uint64_t *next, struct redo *redo)
{
    int64_t now = deliver_mono_ms();
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
