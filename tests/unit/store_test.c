/*
 * store_test.c - unit tests for the LMDB store and its group-commit writer
 * (gateway/store.c).
 *
 * Covers: open (directory created 0700, data file 0600), seq assignment
 * 1..N in submission order with done() called exactly once, dedupe (within
 * one batch, across batches, per route, across a reopen, and with a zero
 * window), store_scan order and limits, cursors (get/set, persistence across
 * close/reopen, limits), last_seq persistence, map growth (in-process
 * doubling with batch replay; HG_EFULL once max_size is reached and never
 * HG_OK after; accepting again after reopening with a larger max), probes,
 * HG_EBUSY on a full queue, HG_ESTOPPING after store_drain, store_wait.
 *
 * Completion is observed through done() callbacks with a mutex/condvar; to
 * get several items into ONE batch the writer is held inside the done() of
 * a "gate" item while the others are queued.  No timing assertions.
 */
#include "err.h"
#include "event.h"
#include "gc.h"
#include "seengen.h"
#include "storeloc.h"
#include "log.h"
#include "store.h"
#include "t.h"

#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[64]; /* mkdtemp'd in main */

/* ---- completion tracking ----------------------------------------------------- */

struct tracker {
    pthread_mutex_t m;
    pthread_cond_t c;
    int pending; /* submitted, done() not yet called */
};

/* an item plus bookkeeping; `it` first so done() can find the rest */
struct titem {
    struct store_item it;
    int calls; /* how many times done() ran */
    char id[448];
};

static void tracker_init(struct tracker *t)
{
    pthread_mutex_init(&t->m, NULL);
    pthread_cond_init(&t->c, NULL);
    t->pending = 0;
}

static void tracker_destroy(struct tracker *t)
{
    pthread_mutex_destroy(&t->m);
    pthread_cond_destroy(&t->c);
}

static void on_done(struct store_item *it, void *arg)
{
    struct tracker *t = arg;
    pthread_mutex_lock(&t->m);
    ((struct titem *)it)->calls++;
    t->pending--;
    pthread_cond_broadcast(&t->c);
    pthread_mutex_unlock(&t->m);
}

/* wait until every submitted item is done; 0 on success, -1 after 120 s */
static int wait_done(struct tracker *t)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 120; /* a hang guard, not a timing assertion */
    int rc = 0;
    pthread_mutex_lock(&t->m);
    while (t->pending > 0 && rc == 0)
        if (pthread_cond_timedwait(&t->c, &t->m, &dl) == ETIMEDOUT)
            rc = -1;
    pthread_mutex_unlock(&t->m);
    T_EQ_INT(rc, 0);
    return rc;
}

static struct event_str S(const char *s) {
    struct event_str e = {s, strlen(s)};
    return e;
}

/* set up ti as an event on route with ti->id, body of blen bytes */
static void
ev_init(struct titem *ti, struct tracker *t, const char *route, const char *body, size_t blen)
{
    memset(&ti->it, 0, sizeof(ti->it));
    ti->calls = 0;
    ti->it.kind = STORE_EVENT;
    ti->it.ev.route = S(route);
    ti->it.ev.source = S("/hooks/test");
    ti->it.ev.id = S(ti->id);
    ti->it.ev.type = S("test.event");
    ti->it.ev.body.p = body;
    ti->it.ev.body.len = blen;
    ti->it.ev.body_kind = EVENT_BODY_JSON;
    ti->it.ev.received_ms = 1763846959000LL;
    ti->it.result = -1;
    ti->it.duplicate = -1;
    ti->it.done = on_done;
    ti->it.arg = t;
}

static int submit(struct store *st, struct tracker *t, struct titem *ti)
{
    pthread_mutex_lock(&t->m);
    t->pending++;
    pthread_mutex_unlock(&t->m);
    int rc = store_submit(st, &ti->it);
    if (rc != HG_OK) { /* not queued: done() will not come */
        pthread_mutex_lock(&t->m);
        t->pending--;
        pthread_mutex_unlock(&t->m);
    }
    return rc;
}

/* submit one event and wait for it */
static struct titem *put1(struct store *st, struct titem *ti, const char *route, const char *id)
{
    struct tracker t;
    tracker_init(&t);
    memset(ti, 0, sizeof(*ti));
    snprintf(ti->id, sizeof(ti->id), "%s", id);
    ev_init(ti, &t, route, "{}", 2);
    T_EQ_INT(submit(st, &t, ti), HG_OK);
    wait_done(&t);
    T_EQ_INT(ti->calls, 1);
    tracker_destroy(&t);
    return ti;
}

/* ---- the gate: hold the writer inside a done() callback ---------------------- */

struct gate {
    struct titem ti;
    pthread_mutex_t m;
    pthread_cond_t c;
    int entered, open;
};

static void gate_done(struct store_item *it, void *arg)
{
    (void)it;
    struct gate *g = arg;
    pthread_mutex_lock(&g->m);
    g->entered = 1;
    pthread_cond_broadcast(&g->c);
    while (!g->open)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

/* submit the gate item and return once the writer is blocked in it */
static void gate_close(struct store *st, struct gate *g)
{
    pthread_mutex_init(&g->m, NULL);
    pthread_cond_init(&g->c, NULL);
    g->entered = g->open = 0;
    snprintf(g->ti.id, sizeof(g->ti.id), "gate");
    ev_init(&g->ti, NULL, "gate", "{}", 2);
    g->ti.it.done = gate_done;
    g->ti.it.arg = g;
    T_EQ_INT(store_submit(st, &g->ti.it), HG_OK);
    pthread_mutex_lock(&g->m);
    while (!g->entered)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->open = 1;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

static void gate_destroy(struct gate *g)
{
    pthread_mutex_destroy(&g->m);
    pthread_cond_destroy(&g->c);
}

/* ---- store helpers ---------------------------------------------------------- */

static int test_no;

/* a fresh, not yet existing directory name under tmpdir */
static void fresh_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/s%d", tmpdir, ++test_no);
}

static struct store *open_store(const char *dir, uint64_t max_size, uint64_t window_ms,
                                size_t max_queue)
{
    struct store_cfg cfg = {
        .dir = dir, .max_size = max_size, .dedupe_window_ms = window_ms, .max_queue = max_queue};
    struct store *st = NULL;
    int rc = store_open(&cfg, &st);
    T_EQ_INT(rc, HG_OK);
    T_CHECK(rc != HG_OK || st != NULL);
    return rc == HG_OK ? st : NULL;
}

#define WEEK_MS (7ULL * 86400 * 1000)

static void shut(struct store *st)
{
    if (!st)
        return;
    store_drain(st);
    store_close(st);
}

/* scan collector */
struct seen {
    uint64_t seqs[512];
    char ids[512][48];
    size_t n;
    size_t stop_after; /* 0 = never stop */
    int bad;           /* a record that did not parse */
};

static int collect(void *arg, uint64_t seq, const void *rec, size_t len)
{
    struct seen *s = arg;
    struct event ev;
    if (event_rec_parse(rec, len, &ev) != HG_OK || ev.id.len >= sizeof(s->ids[0])) {
        s->bad = 1;
    } else if (s->n < 512) {
        s->seqs[s->n] = seq;
        memcpy(s->ids[s->n], ev.id.p, ev.id.len);
        s->ids[s->n][ev.id.len] = '\0';
        s->n++;
    }
    return s->stop_after && s->n >= s->stop_after;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_open_creates_private_files(void)
{
    char dir[128], path[160];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct stat sb;
    T_EQ_INT(stat(dir, &sb), 0);
    T_CHECK(S_ISDIR(sb.st_mode));
    T_EQ_INT(sb.st_mode & 07777, 0700);
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    T_EQ_INT(stat(path, &sb), 0);
    T_EQ_INT(sb.st_mode & 07777, 0600);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    T_EQ_INT(stat(path, &sb), 0);
    T_EQ_INT(sb.st_mode & 07777, 0600);
    T_EQ_INT(store_last_seq(st), 0);
    T_EQ_INT(store_healthy(st), 1);
    uint64_t c = 99;
    T_EQ_INT(store_cursor_get(st, "stdout", &c), HG_OK);
    T_EQ_INT(c, 0);
    shut(st);
    store_close(NULL); /* NULL-safe */

    /* a directory that cannot be created */
    struct store_cfg cfg = {.dir = "/proc/hookgate-cannot-exist/x", .max_size = 1 << 20};
    struct store *bad = NULL;
    T_EQ_INT(store_open(&cfg, &bad), HG_ESTORE);
}

static void test_seq_assigned_in_order(void)
{
    enum { N = 100 };
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    static struct titem items[N];
    struct tracker t;
    tracker_init(&t);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].id, sizeof(items[i].id), "evt-%03d", i);
        ev_init(&items[i], &t, "r", "{\"n\":1}", 7);
        T_EQ_INT(submit(st, &t, &items[i]), HG_OK);
    }
    wait_done(&t);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        if (items[i].calls != 1 || items[i].it.result != HG_OK || items[i].it.duplicate != 0 ||
            items[i].it.seq != (uint64_t)i + 1) {
            fprintf(stderr, "  item %d: calls %d result %d dup %d seq %llu\n", i, items[i].calls,
                    items[i].it.result, items[i].it.duplicate, (unsigned long long)items[i].it.seq);
            ok = 0;
        }
    }
    T_CHECK(ok);
    T_EQ_INT(store_last_seq(st), N);
    T_EQ_INT(store_wait(st, 0, 0), N);
    T_EQ_INT(store_wait(st, N, 10), N); /* nothing newer: returns at the timeout */
    T_EQ_INT(store_healthy(st), 1);
    shut(st);
    tracker_destroy(&t);
}

static void test_duplicates_within_one_batch(void)
{
    enum { N = 50 };
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    static struct titem items[N];
    struct tracker t;
    tracker_init(&t);
    struct gate g;
    gate_close(st, &g); /* the writer is now busy: all N go into one batch */
    for (int i = 0; i < N; i++) {
        snprintf(items[i].id, sizeof(items[i].id), "same-id");
        ev_init(&items[i], &t, "r", "{}", 2);
        T_EQ_INT(submit(st, &t, &items[i]), HG_OK);
    }
    gate_open(&g);
    wait_done(&t);
    T_EQ_INT(g.ti.it.result, HG_OK);
    T_EQ_INT(g.ti.it.seq, 1);
    int fresh = 0, same_seq = 1, all_ok = 1;
    for (int i = 0; i < N; i++) {
        fresh += items[i].it.duplicate == 0;
        all_ok &= items[i].it.result == HG_OK && items[i].calls == 1;
        same_seq &= items[i].it.seq == items[0].it.seq;
    }
    T_EQ_INT(fresh, 1);
    T_EQ_INT(items[0].it.duplicate, 0); /* the first one submitted is the original */
    T_EQ_INT(items[0].it.seq, 2);
    T_CHECK(same_seq);
    T_CHECK(all_ok);
    T_EQ_INT(store_last_seq(st), 2);
    /* only two events are stored */
    struct seen s = {0};
    T_EQ_INT(store_scan(st, 0, 100, collect, &s), HG_OK);
    T_EQ_INT(s.n, 2);
    T_EQ_STR(s.ids[1], "same-id");
    shut(st);
    gate_destroy(&g);
    tracker_destroy(&t);
}

static void test_duplicates_across_batches_and_routes(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct titem a, b, c, d, e, f;
    put1(st, &a, "iex", "evt-1");
    T_EQ_INT(a.it.result, HG_OK);
    T_EQ_INT(a.it.duplicate, 0);
    T_EQ_INT(a.it.seq, 1);
    put1(st, &b, "iex", "evt-1"); /* same route, same id, later batch */
    T_EQ_INT(b.it.result, HG_OK);
    T_EQ_INT(b.it.duplicate, 1);
    T_EQ_INT(b.it.seq, 1);
    put1(st, &c, "github", "evt-1"); /* same id on another route */
    T_EQ_INT(c.it.result, HG_OK);
    T_EQ_INT(c.it.duplicate, 0);
    T_EQ_INT(c.it.seq, 2);
    /* the dedupe key keeps route and id apart: "ab"+"c" is not "a"+"bc" */
    put1(st, &d, "ab", "c");
    put1(st, &e, "a", "bc");
    T_EQ_INT(d.it.duplicate, 0);
    T_EQ_INT(e.it.duplicate, 0);
    T_EQ_INT(e.it.seq, 4);
    put1(st, &f, "iex", "evt-2");
    T_EQ_INT(f.it.duplicate, 0);
    T_EQ_INT(f.it.seq, 5);
    T_EQ_INT(store_last_seq(st), 5);
    shut(st);
}

static void test_dedupe_window_zero(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, 0, 0);
    if (!st)
        return;
    struct titem a, b, c;
    put1(st, &a, "r", "again");
    put1(st, &b, "r", "again");
    put1(st, &c, "r", "again");
    T_EQ_INT(a.it.duplicate, 0);
    T_EQ_INT(b.it.duplicate, 0);
    T_EQ_INT(c.it.duplicate, 0);
    T_EQ_INT(a.it.seq, 1);
    T_EQ_INT(b.it.seq, 2);
    T_EQ_INT(c.it.seq, 3);
    shut(st);
}

static void test_scan_in_order_after_cursor(void)
{
    enum { N = 20 };
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    static struct titem items[N];
    struct tracker t;
    tracker_init(&t);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].id, sizeof(items[i].id), "scan-%02d", i + 1);
        ev_init(&items[i], &t, "r", "[1]", 3);
        T_EQ_INT(submit(st, &t, &items[i]), HG_OK);
    }
    wait_done(&t);

    struct seen s = {0};
    T_EQ_INT(store_scan(st, 0, 1000, collect, &s), HG_OK);
    T_EQ_INT(s.n, N);
    T_EQ_INT(s.bad, 0);
    int in_order = 1;
    for (size_t i = 0; i < s.n; i++) {
        char want[48];
        snprintf(want, sizeof(want), "scan-%02zu", i + 1);
        in_order &= s.seqs[i] == i + 1 && strcmp(s.ids[i], want) == 0;
    }
    T_CHECK(in_order);

    struct seen after = {0};
    T_EQ_INT(store_scan(st, 15, 1000, collect, &after), HG_OK);
    T_EQ_INT(after.n, 5);
    T_EQ_INT(after.seqs[0], 16);
    T_EQ_INT(after.seqs[4], 20);
    T_EQ_STR(after.ids[0], "scan-16");

    struct seen none = {0};
    T_EQ_INT(store_scan(st, 20, 1000, collect, &none), HG_OK);
    T_EQ_INT(none.n, 0);
    T_EQ_INT(store_scan(st, 1000, 1000, collect, &none), HG_OK);
    T_EQ_INT(none.n, 0);

    struct seen limited = {0};
    T_EQ_INT(store_scan(st, 3, 4, collect, &limited), HG_OK);
    T_EQ_INT(limited.n, 4);
    T_EQ_INT(limited.seqs[0], 4);
    T_EQ_INT(limited.seqs[3], 7);

    struct seen stopped = {.stop_after = 2};
    T_EQ_INT(store_scan(st, 0, 1000, collect, &stopped), HG_OK);
    T_EQ_INT(stopped.n, 2);
    shut(st);
    tracker_destroy(&t);
}

static void test_cursor_set_get(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    uint64_t v = 1;
    T_EQ_INT(store_cursor_get(st, "stdout", &v), HG_OK);
    T_EQ_INT(v, 0);
    T_EQ_INT(store_cursor_set(st, "stdout", 5), HG_OK);
    T_EQ_INT(store_cursor_get(st, "stdout", &v), HG_OK);
    T_EQ_INT(v, 5);
    T_EQ_INT(store_cursor_set(st, "stdout", 7), HG_OK);
    T_EQ_INT(store_cursor_get(st, "stdout", &v), HG_OK);
    T_EQ_INT(v, 7);
    T_EQ_INT(store_cursor_get(st, "other", &v), HG_OK);
    T_EQ_INT(v, 0);

    /* names longer than the slot are refused */
    char longname[100];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    T_EQ_INT(store_cursor_set(st, longname, 1), HG_EINVAL);

    /* at most 64 sinks */
    int ok = 1;
    for (int i = 1; i < 64; i++) { /* "stdout" is the first */
        char name[16];
        snprintf(name, sizeof(name), "sink%d", i);
        ok &= store_cursor_set(st, name, (uint64_t)i) == HG_OK;
    }
    T_CHECK(ok);
    T_EQ_INT(store_cursor_set(st, "one-too-many", 1), HG_ENOMEM);
    T_EQ_INT(store_cursor_set(st, "sink63", 630), HG_OK); /* existing ones still move */
    T_EQ_INT(store_cursor_get(st, "sink63", &v), HG_OK);
    T_EQ_INT(v, 630);
    shut(st);
}

static void test_cursor_persists_across_reopen(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct titem a;
    put1(st, &a, "r", "x");
    T_EQ_INT(store_cursor_set(st, "sinkA", 3), HG_OK);
    T_EQ_INT(store_cursor_set(st, "sinkB", 9), HG_OK);
    T_EQ_INT(store_cursor_set(st, "sinkA", 4), HG_OK); /* last value wins */
    store_drain(st);
    store_close(st);

    st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    uint64_t v = 0;
    T_EQ_INT(store_cursor_get(st, "sinkA", &v), HG_OK);
    T_EQ_INT(v, 4);
    T_EQ_INT(store_cursor_get(st, "sinkB", &v), HG_OK);
    T_EQ_INT(v, 9);
    T_EQ_INT(store_cursor_get(st, "sinkC", &v), HG_OK);
    T_EQ_INT(v, 0);
    shut(st);
}

static void test_last_seq_and_dedupe_persist(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct titem it[5];
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof(id), "p%d", i);
        put1(st, &it[i], "r", id);
    }
    T_EQ_INT(store_last_seq(st), 5);
    shut(st);

    st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    T_EQ_INT(store_last_seq(st), 5);
    struct titem again, next;
    put1(st, &again, "r", "p2"); /* still a duplicate after the restart */
    T_EQ_INT(again.it.duplicate, 1);
    T_EQ_INT(again.it.seq, 3);
    put1(st, &next, "r", "p5");
    T_EQ_INT(next.it.duplicate, 0);
    T_EQ_INT(next.it.seq, 6);
    struct seen s = {0};
    T_EQ_INT(store_scan(st, 0, 100, collect, &s), HG_OK);
    T_EQ_INT(s.n, 6);
    T_EQ_STR(s.ids[5], "p5");
    shut(st);
}

static void test_probe(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct tracker t;
    tracker_init(&t);
    struct titem p;
    memset(&p, 0, sizeof(p));
    p.it.kind = STORE_PROBE;
    p.it.result = -1;
    p.it.done = on_done;
    p.it.arg = &t;
    T_EQ_INT(submit(st, &t, &p), HG_OK);
    wait_done(&t);
    T_EQ_INT(p.calls, 1);
    T_EQ_INT(p.it.result, HG_OK);
    T_EQ_INT(store_last_seq(st), 0); /* a probe is not an event */
    T_EQ_INT(store_healthy(st), 1);
    shut(st);
    tracker_destroy(&t);
}

static void test_busy_when_queue_full(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    /* max_queue counts items until their done() returns: the gate plus two */
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 3);
    if (!st)
        return;
    struct tracker t;
    tracker_init(&t);
    struct gate g;
    gate_close(st, &g); /* the completer is held inside the gate's done() */
    struct titem a, b, c;
    snprintf(a.id, sizeof(a.id), "a");
    snprintf(b.id, sizeof(b.id), "b");
    snprintf(c.id, sizeof(c.id), "c");
    ev_init(&a, &t, "r", "{}", 2);
    ev_init(&b, &t, "r", "{}", 2);
    ev_init(&c, &t, "r", "{}", 2);
    T_EQ_INT(submit(st, &t, &a), HG_OK);
    T_EQ_INT(submit(st, &t, &b), HG_OK);
    T_EQ_INT(submit(st, &t, &c), HG_EBUSY);
    gate_open(&g);
    wait_done(&t);
    T_EQ_INT(a.calls, 1);
    T_EQ_INT(b.calls, 1);
    T_EQ_INT(c.calls, 0); /* refused: never called */
    T_EQ_INT(a.it.seq, 2);
    T_EQ_INT(b.it.seq, 3);
    /* room again once the items are completed */
    struct titem d;
    put1(st, &d, "r", "d");
    T_EQ_INT(d.it.result, HG_OK);
    shut(st);
    gate_destroy(&g);
    tracker_destroy(&t);
}

static void test_submit_after_drain_is_stopping(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct titem a;
    put1(st, &a, "r", "before");
    store_drain(st);
    struct tracker t;
    tracker_init(&t);
    struct titem b;
    snprintf(b.id, sizeof(b.id), "after");
    ev_init(&b, &t, "r", "{}", 2);
    T_EQ_INT(submit(st, &t, &b), HG_ESTOPPING);
    struct titem p;
    memset(&p, 0, sizeof(p));
    p.it.kind = STORE_PROBE;
    p.it.done = on_done;
    p.it.arg = &t;
    T_EQ_INT(submit(st, &t, &p), HG_ESTOPPING);
    store_close(st);
    T_EQ_INT(b.calls, 0);
    T_EQ_INT(p.calls, 0);
    tracker_destroy(&t);
}

/* event.h allows route and id of up to EVENT_STR_MAX (1024) bytes each.  An
 * event whose route + NUL + id is longer than LMDB's key limit (511 bytes)
 * must still be stored (or at worst refused on its own) - it must not fail
 * the other events that happen to share its batch. */
static void test_long_id_in_batch(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    static char long_id[EVENT_STR_MAX + 1];
    memset(long_id, 'i', EVENT_STR_MAX);
    struct tracker t;
    tracker_init(&t);
    struct gate g;
    gate_close(st, &g);
    struct titem before, lng, after;
    snprintf(before.id, sizeof(before.id), "normal-1");
    snprintf(after.id, sizeof(after.id), "normal-2");
    ev_init(&before, &t, "r", "{}", 2);
    ev_init(&lng, &t, "r", "{}", 2);
    lng.it.ev.id.p = long_id;
    lng.it.ev.id.len = EVENT_STR_MAX;
    ev_init(&after, &t, "r", "{}", 2);
    T_EQ_INT(submit(st, &t, &before), HG_OK);
    T_EQ_INT(submit(st, &t, &lng), HG_OK);
    T_EQ_INT(submit(st, &t, &after), HG_OK);
    gate_open(&g);
    wait_done(&t);
    T_EQ_INT(before.it.result, HG_OK); /* innocent batch-mates */
    T_EQ_INT(after.it.result, HG_OK);
    T_EQ_INT(lng.calls, 1); /* its own result may be an error, theirs not */
    T_EQ_INT(store_healthy(st), 1);
    shut(st);
    gate_destroy(&g);
    tracker_destroy(&t);
}

/* store_wait wakes up on a commit made by another thread */
struct waiter_arg {
    struct store *st;
    uint64_t got;
};

static void *waiter_main(void *arg)
{
    struct waiter_arg *w = arg;
    w->got = store_wait(w->st, 0, 120000);
    return NULL;
}

static void test_store_wait_wakes_on_commit(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct waiter_arg w = {st, 0};
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, waiter_main, &w), 0);
    struct titem a;
    put1(st, &a, "r", "wake");
    pthread_join(th, NULL);
    T_EQ_INT(w.got, 1);
    shut(st);
}

/* 16 KiB events until max_size is reached */
#define BIG_BODY ((size_t)16 * 1024)
static char big_body[BIG_BODY];

static void test_map_full_then_larger_max(void)
{
    enum { N = 200 };
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 2ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    static struct titem items[N];
    log_set_level(LOG_ERROR + 1); /* quiet: every failed commit logs */
    int ok = 0, full = 0, ok_after_full = 0, other = 0;
    for (int i = 0; i < N; i++) { /* one at a time: each result is its own */
        char id[16];
        snprintf(id, sizeof(id), "big-%03d", i);
        struct tracker t;
        tracker_init(&t);
        snprintf(items[i].id, sizeof(items[i].id), "%s", id);
        ev_init(&items[i], &t, "r", big_body, BIG_BODY);
        items[i].it.ev.body_kind = EVENT_BODY_BINARY;
        T_EQ_INT(submit(st, &t, &items[i]), HG_OK);
        wait_done(&t);
        tracker_destroy(&t);
        int rc = items[i].it.result;
        if (rc == HG_OK) {
            ok++;
            ok_after_full += full > 0;
        } else if (rc == HG_EFULL) {
            full++;
            T_EQ_INT(items[i].it.duplicate, 0);
        } else {
            other++;
        }
    }
    log_set_level(LOG_WARN);
    T_CHECK(ok > 10);   /* early ones fit */
    T_CHECK(full > 10); /* 3.2 MiB of bodies cannot fit in 2 MiB */
    T_EQ_INT(ok_after_full, 0);
    T_EQ_INT(other, 0);
    T_EQ_INT(ok + full, N);
    T_EQ_INT(store_last_seq(st), ok);
    if (ok > 0)
        T_EQ_INT(items[ok - 1].it.seq, ok);
    T_EQ_INT(store_healthy(st), 0); /* the last commit failed */
    shut(st);

    /* reopened with a larger max: the map grows and events fit again */
    st = open_store(dir, 8ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    T_EQ_INT(store_last_seq(st), ok);
    struct tracker t;
    tracker_init(&t);
    static struct titem more[20];
    for (int i = 0; i < 20; i++) {
        snprintf(more[i].id, sizeof(more[i].id), "more-%02d", i);
        ev_init(&more[i], &t, "r", big_body, BIG_BODY);
        T_EQ_INT(submit(st, &t, &more[i]), HG_OK);
    }
    wait_done(&t);
    int all_ok = 1;
    for (int i = 0; i < 20; i++)
        all_ok &= more[i].it.result == HG_OK && more[i].it.seq == (uint64_t)ok + 1 + (uint64_t)i;
    T_CHECK(all_ok);
    T_EQ_INT(store_healthy(st), 1);
    /* one that failed before is new now (a failed event is not "seen") */
    struct titem retry;
    put1(st, &retry, "r", items[N - 1].id);
    T_EQ_INT(retry.it.result, HG_OK);
    T_EQ_INT(retry.it.duplicate, 0);
    shut(st);
    tracker_destroy(&t);
}

/* small_map - a store config on dir with a 1 MiB first map and room to
 * grow to 96 MiB */
static struct store_cfg small_map(const char *dir)
{
    struct store_cfg cfg = {.dir = dir,
                            .max_size = 96ULL << 20,
                            .dedupe_window_ms = WEEK_MS,
                            .initial_size = 1ULL << 20};
    return cfg;
}

/* put_long - n events of route "r" with 420-byte ids prefix-%05d-0...,
 * submitted and waited for; the items (the caller frees them). */
static struct titem *put_long(struct store *st, const char *prefix, int n)
{
    struct titem *items = calloc((size_t)n, sizeof(*items));
    struct tracker t;
    tracker_init(&t);
    for (int i = 0; items && i < n; i++) {
        snprintf(items[i].id, sizeof(items[i].id), "%s-%05d-%0400d", prefix, i, 0);
        ev_init(&items[i], &t, "r", "{}", 2);
        T_EQ_INT(submit(st, &t, &items[i]), HG_OK);
    }
    wait_done(&t);
    tracker_destroy(&t);
    return items;
}

/* In-process growth: past the initial map, a checkpoint hitting
 * MDB_MAP_FULL is replayed after the map is doubled (capped at max_size).
 * The bodies are in the log: long ids fill LMDB's dedupe table. */
static void test_map_grows_in_process(void)
{
    enum { N = 20000 }; /* ~9 MiB of 420-byte dedupe keys: the 1 MiB map doubles 4 times */
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store_cfg cfg = small_map(dir);
    struct store *st = NULL;
    T_EQ_INT(store_open(&cfg, &st), HG_OK);
    if (!st)
        return;
    struct titem *items = put_long(st, "grow", N);
    if (!items)
        return;
    int all_ok = 1, in_order = 1;
    for (int i = 0; i < N; i++) {
        all_ok &= items[i].it.result == HG_OK && items[i].calls == 1;
        in_order &= items[i].it.seq == (uint64_t)i + 1 && items[i].it.duplicate == 0;
    }
    T_CHECK(all_ok);
    T_CHECK(in_order);
    T_EQ_INT(store_last_seq(st), N);
    char path[160];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    T_EQ_INT(stat(path, &sb), 0);
    shut(st); /* the last checkpoint */
    T_EQ_INT(stat(path, &sb), 0);
    T_CHECK((uint64_t)sb.st_size > (4ULL << 20)); /* the map really grew past 1 MiB */
    free(items);
}

/* ---- retention (gc.c) ---------------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* between the expired events and the rest: time the calls below may take
 * (the horizon is now - window: it moves on while they run) */
#define GC_GAP_US 1000000
/* a generation is dropped 1 s (gc.c, GC_DROP_SLACK_MS) after its newest key expires */
#define GC_DROP_WAIT_US 1100000

/* sleep_us - usleep() takes less than a second; this any length */
static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* fill - n events route "r", ids prefix-%05d (plus the one with a dedupe
 * key in place of its id, if dkey) */
static void fill(struct store *st, const char *prefix, int n, const char *dkey)
{
    struct titem *items = calloc((size_t)n + 1, sizeof(*items));
    struct tracker t;
    tracker_init(&t);
    for (int i = 0; i < n; i++) {
        snprintf(items[i].id, sizeof(items[i].id), "%s-%05d", prefix, i);
        ev_init(&items[i], &t, "r", "{\"n\":1}", 7);
        T_EQ_INT(submit(st, &t, &items[i]), HG_OK);
    }
    if (dkey) {
        snprintf(items[n].id, sizeof(items[n].id), "%s-hashed", prefix);
        ev_init(&items[n], &t, "r", "{\"n\":2}", 7);
        items[n].it.dedupe = S(dkey);
        T_EQ_INT(submit(st, &t, &items[n]), HG_OK);
    }
    wait_done(&t);
    int ok = 1;
    for (int i = 0; i < n + (dkey != NULL); i++)
        ok &= items[i].it.result == HG_OK && items[i].it.duplicate == 0;
    T_CHECK(ok);
    tracker_destroy(&t);
    free(items);
}

/* env_at - the store in dir opened as `hookgate gc` opens it.  The gc
 * tests give gc_txn / gc_dir their windows, shorter than the one they
 * opened the store with, so the window the store recorded (seengen.h
 * SEENGEN_WINDOW: gc keeps keys at least that long) is removed first;
 * test_gc_keeps_the_gateways_window checks what it does. */
static MDB_env *env_at(const char *dir)
{
    MDB_env *env = NULL;
    MDB_txn *txn;
    MDB_dbi meta;
    T_EQ_INT(mdb_env_create(&env), 0);
    T_EQ_INT(mdb_env_set_maxdbs(env, STORE_MAXDBS), 0);
    T_EQ_INT(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
    T_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    if (mdb_dbi_open(txn, "meta", 0, &meta) == 0) {
        MDB_val k = {strlen(SEENGEN_WINDOW), SEENGEN_WINDOW};
        int rc = mdb_del(txn, meta, &k, NULL);
        T_CHECK(rc == 0 || rc == MDB_NOTFOUND);
    }
    T_EQ_INT(mdb_txn_commit(txn), 0);
    return env;
}

/* forget_window - env_at's removal of the recorded window, for gc_dir */
static void forget_window(const char *dir)
{
    mdb_env_close(env_at(dir));
}

/* seen_has - 1 if either dedupe table holds route "r" NUL id; *count the
 * keys of both */
static int seen_has(MDB_env *env, const char *id, size_t *count)
{
    MDB_txn *txn;
    char k[128];
    size_t kl = (size_t)snprintf(k, sizeof(k), "r%c%s", 0, id);
    int has = 0;
    *count = 0;
    T_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    const char *names[] = {SEENGEN_NAME0, SEENGEN_NAME1};
    for (int i = 0; i < 2; i++) {
        MDB_dbi dbi;
        MDB_stat ms;
        MDB_val key = {kl, k}, v;
        T_EQ_INT(mdb_dbi_open(txn, names[i], 0, &dbi), 0);
        has |= mdb_get(txn, dbi, &key, &v) == 0;
        T_EQ_INT(mdb_stat(txn, dbi, &ms), 0);
        *count += ms.ms_entries;
    }
    mdb_txn_abort(txn);
    return has;
}

static struct seengen gen_of(MDB_env *env)
{
    MDB_txn *txn;
    MDB_dbi meta;
    struct seengen g = {9, 0, {0, 0}};
    T_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    T_EQ_INT(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    T_EQ_INT(seengen_get(txn, meta, 1, &g), 0);
    mdb_txn_abort(txn);
    return g;
}

/* gc_all - gc_txn until it has no more to do */
static void gc_all(MDB_env *env, uint64_t window, struct gc_stats *gs)
{
    memset(gs, 0, sizeof(*gs));
    for (int calls = 0; calls < 1000 && (calls == 0 || gs->more); calls++) {
        gs->more = 0;
        T_EQ_INT(gc_txn(env, window, NULL, 0, 100, 0, gs), 0);
    }
}

/* Dedupe keys expire a generation at a time (seengen.h): the old table is
 * emptied only when the newest sighting it holds is past the window, never
 * while it holds one inside it - the expired keys beside such a key wait,
 * and the ids they belong to are new again all the same (the writer checks
 * the time).  Events are pruned one by one as before, 100 a call. */
static void test_gc_drops_generations(void)
{
    enum { A = 300, B = 50, C = 40 };
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 256ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    fill(st, "a", A, "sha256:0123abcd");
    usleep(30000);
    int64_t mid = wall_ms();
    sleep_us(GC_GAP_US);
    fill(st, "b", B, NULL);
    T_EQ_INT(store_cursor_set(st, "out", A + 1 + B), HG_OK);
    shut(st);

    /* a's past the window, b's inside it, all in "seen": it becomes the old
     * table (it has been current since the store was made, before mid) but
     * stays */
    MDB_env *env = env_at(dir);
    struct gc_stats gs;
    uint64_t window = (uint64_t)(wall_ms() - mid);
    T_EQ_INT(gen_of(env).cur, 0);
    gc_all(env, window, &gs);
    T_EQ_INT(gs.seen, 0);
    T_EQ_INT(gs.events, A + 1);
    T_EQ_INT(gs.first, A + 2);
    T_EQ_INT(gen_of(env).cur, 1);
    size_t n = 0;
    T_EQ_INT(seen_has(env, "a-00007", &n), 1);
    T_EQ_INT(n, A + 1 + B);
    mdb_env_close(env);

    /* inside the window an id is a duplicate; an expired one is new again
     * (its key goes into the current table) */
    st = open_store(dir, 256ULL << 20, (uint64_t)(wall_ms() - mid), 0);
    if (!st)
        return;
    struct titem x, y;
    put1(st, &x, "r", "b-00042");
    T_EQ_INT(x.it.duplicate, 1);
    T_EQ_INT(x.it.seq, A + 1 + 43);
    put1(st, &y, "r", "a-00042");
    T_EQ_INT(y.it.duplicate, 0);
    T_EQ_INT(y.it.seq, A + 1 + B + 1);
    sleep_us(GC_GAP_US + 100000); /* a drop waits 1 s past the window */
    int64_t mid2 = wall_ms();
    sleep_us(GC_GAP_US);
    fill(st, "c", C, NULL);
    T_EQ_INT(store_cursor_set(st, "out", A + 1 + B + 1 + C), HG_OK);
    shut(st);

    /* with b's past the window too, the old table goes in one drop; the
     * current one (a-00042 again, past the window as well, and the c's
     * inside it) stays whole */
    env = env_at(dir);
    gc_all(env, (uint64_t)(wall_ms() - mid2), &gs);
    T_EQ_INT(gs.seen, A + 1 + B);
    T_EQ_INT(gs.events, B + 1);
    T_EQ_INT(seen_has(env, "b-00007", &n), 0);
    T_EQ_INT(seen_has(env, "a-00042", &n), 1);
    T_EQ_INT(n, 1 + C);
    T_EQ_INT(gen_of(env).cur, 0); /* turned over again: the c's table is the old one */
    struct gc_stats again;
    gc_all(env, (uint64_t)(wall_ms() - mid2), &again); /* nothing more */
    T_EQ_INT(again.seen + again.events + (uint64_t)again.more, 0);
    mdb_env_close(env);

    st = open_store(dir, 256ULL << 20, (uint64_t)(wall_ms() - mid2), 0);
    if (!st)
        return;
    struct titem z, w, u;
    put1(st, &z, "r", "c-00005");
    T_EQ_INT(z.it.duplicate, 1);
    T_EQ_INT(z.it.seq, A + 1 + B + 1 + 6);
    put1(st, &w, "r", "b-00042"); /* dropped: new */
    T_EQ_INT(w.it.duplicate, 0);
    put1(st, &u, "r", "a-00042"); /* kept, but past the window: new */
    T_EQ_INT(u.it.duplicate, 0);
    shut(st);
}

/* A generation's keys in bounded deletes (gc_txn's chunked mode, for a
 * map too full to record a whole drop): at most max a transaction, "more"
 * until the table is empty, the turnover written once, every key counted
 * once. */
static void test_gc_chunked_generation(void)
{
    enum { A = 250, MAX = 100 };
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 256ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    fill(st, "a", A, NULL);
    shut(st);
    sleep_us(GC_DROP_WAIT_US); /* the newest key 1 s + past the window */
    int64_t mid = wall_ms();
    sleep_us(GC_GAP_US);
    MDB_env *env = env_at(dir);
    uint64_t window = (uint64_t)(wall_ms() - mid);
    struct gc_stats gs;
    memset(&gs, 0, sizeof(gs));
    uint64_t per_call[8] = {0};
    unsigned cur_after[8] = {0};
    int calls = 0;
    for (; calls < 8 && (calls == 0 || gs.more); calls++) {
        uint64_t before = gs.seen;
        gs.more = 0;
        T_EQ_INT(gc_txn(env, window, NULL, 0, MAX, 1, &gs), 0);
        per_call[calls] = gs.seen - before;
        cur_after[calls] = gen_of(env).cur;
        if (calls == 0) /* the current table a window old: it still may not turn over */
            sleep_us((long)window * 1000 + 200000);
    }
    T_EQ_INT(calls, 3);
    T_EQ_INT(per_call[0], MAX);
    T_EQ_INT(per_call[1], MAX);
    T_EQ_INT(per_call[2], A - 2 * MAX);
    T_EQ_INT(gs.seen, A);
    T_EQ_INT(gs.more, 0);
    size_t n = 9;
    T_EQ_INT(seen_has(env, "a-00249", &n), 0);
    T_EQ_INT(n, 0);
    struct seengen g = gen_of(env);
    T_EQ_INT(cur_after[0], 1); /* the first call turned the tables over */
    T_EQ_INT(cur_after[1], 1); /* a window later, not onto the half-emptied table */
    T_EQ_INT(g.cur, 0);        /* once it is empty, it does */
    mdb_env_close(env);
}

/* A store reopened with more data than its configured first map has a map
 * of exactly its used size: the sweep's drop of a big generation cannot
 * record the pages it frees (MDB_MAP_FULL) and no checkpoint comes to grow
 * the map for it.  The sweeper has the checkpointer grow it (or deletes
 * in bounded steps at max_size) and the keys go. */
static void test_sweep_grows_a_full_map(void)
{
    enum { N = 20000 }; /* ~9 MiB of 420-byte keys: about 2,300 pages to free */
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store_cfg cfg = small_map(dir);
    struct store *st = NULL;
    T_EQ_INT(store_open(&cfg, &st), HG_OK);
    if (!st)
        return;
    free(put_long(st, "full", N));
    shut(st);
    sleep_us(GC_DROP_WAIT_US);
    /* a window of 1 s: every key is past it (and its 1 s of slack) by the
     * second sweep, which turns the tables over and drops the old one */
    cfg.dedupe_window_ms = 1000;
    cfg.gc_interval_ms = 1000;
    size_t left = N;
    /* LMDB must not be open twice in one process: look between runs */
    for (int i = 0; i < 10 && left; i++) {
        st = NULL;
        T_EQ_INT(store_open(&cfg, &st), HG_OK);
        if (!st)
            return;
        sleep_us(2500000); /* the first sweep runs 1 s after the open */
        shut(st);
        MDB_env *env = env_at(dir);
        seen_has(env, "x", &left);
        MDB_envinfo info;
        MDB_stat es;
        T_EQ_INT(mdb_env_info(env, &info), 0);
        T_EQ_INT(mdb_env_stat(env, &es), 0);
        /* opened at exactly its used size, the map was grown for the drop */
        if (!left)
            T_CHECK(info.me_mapsize > (size_t)(info.me_last_pgno + 1) * es.ms_psize);
        mdb_env_close(env);
    }
    T_EQ_INT(left, 0);
}

/* An id accepted again after its window has two keys, one in each table
 * when the tables turned over between the sightings: the newer decides. */
static void test_gc_newer_sighting_wins(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct titem a, b, c;
    put1(st, &a, "r", "again");
    sleep_us(GC_GAP_US + 100000); /* a drop waits 1 s past the window */
    int64_t mid = wall_ms();
    sleep_us(GC_GAP_US);
    shut(st);
    MDB_env *env = env_at(dir);
    struct gc_stats gs;
    gc_all(env, (uint64_t)(wall_ms() - mid), &gs); /* turns over and drops "seen" */
    T_EQ_INT(gs.seen, 1);
    T_EQ_INT(gen_of(env).cur, 1);
    mdb_env_close(env);
    st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    put1(st, &b, "r", "again");
    T_EQ_INT(b.it.duplicate, 0);
    T_EQ_INT(b.it.seq, 2);
    shut(st);
    /* the old sighting, put back into the old table (as if the drop had not
     * come yet): the newer one still decides, within any window */
    env = env_at(dir);
    MDB_txn *txn;
    MDB_dbi dbi;
    T_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    T_EQ_INT(mdb_dbi_open(txn, SEENGEN_NAME0, 0, &dbi), 0);
    unsigned char v[16];
    storeloc_put64(v, 1);
    storeloc_put64(v + 8, 1000);
    MDB_val key = {7, "r\0again"}, val = {16, v};
    T_EQ_INT(mdb_put(txn, dbi, &key, &val, 0), 0);
    T_EQ_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    put1(st, &c, "r", "again");
    T_EQ_INT(c.it.duplicate, 1);
    T_EQ_INT(c.it.seq, 2);
    uint64_t found = 0;
    T_EQ_INT(store_find_id(st, "again", &found), HG_OK);
    T_EQ_INT(found, 2);
    shut(st);
}

/* Keys expire whether or not the event was delivered; the event stays
 * until every cursor is past it and while a sink holds it as a dead
 * letter - also when the sweep has moved on past it. */
static void test_gc_keeps_undelivered_and_dead(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    fill(st, "old", 50, NULL);
    usleep(30000);
    int64_t mid = wall_ms();
    sleep_us(GC_GAP_US);
    fill(st, "new", 10, NULL);
    T_EQ_INT(store_dead_add(st, "out", 10, 3, "gave up"), HG_OK);
    T_EQ_INT(store_dead_add(st, "other", 12, 3, "gave up"), HG_OK);
    T_EQ_INT(store_cursor_set(st, "out", 20), HG_OK);
    T_EQ_INT(store_cursor_set(st, "other", 30), HG_OK);
    shut(st);

    struct gc_stats gs;
    forget_window(dir);
    T_EQ_INT(gc_dir(dir, (uint64_t)(wall_ms() - mid), NULL, 0, &gs), HG_OK);
    T_EQ_INT(gs.seen, 0);    /* the new keys share the table */
    T_EQ_INT(gs.events, 18); /* 1..20 but 10 and 12 */
    T_EQ_INT(gs.first, 10);

    st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    T_EQ_INT(store_cursor_set(st, "out", 60), HG_OK);
    T_EQ_INT(store_cursor_set(st, "other", 60), HG_OK);
    shut(st);
    forget_window(dir);
    T_EQ_INT(gc_dir(dir, (uint64_t)(wall_ms() - mid), NULL, 0, &gs), HG_OK);
    T_EQ_INT(gs.events, 30); /* 21..50; 10 and 12 stay dead letters */
    T_EQ_INT(gs.first, 10);
    /* only the configured sinks count: "out" alone, once its dead letter went */
    st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    T_EQ_INT(store_dead_del(st, "out", 10), HG_OK);
    shut(st);
    const char *out[] = {"out"};
    forget_window(dir);
    T_EQ_INT(gc_dir(dir, (uint64_t)(wall_ms() - mid), out, 1, &gs), HG_OK);
    T_EQ_INT(gs.events, 1);
    T_EQ_INT(gs.first, 12);
    st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct seen s = {0};
    T_EQ_INT(store_scan(st, 0, 100, collect, &s), HG_OK);
    T_EQ_INT(s.n, 11);
    if (s.n == 11) {
        T_EQ_INT(s.seqs[0], 12);
        T_EQ_INT(s.seqs[1], 51);
    }
    shut(st);
}

/* A long run of dead letters at the index's start is walked a bounded
 * number of steps a transaction, each transaction going on where the last
 * stopped (out->from), not from the start every time; a pass ends at the
 * first event that must stay, and the next pass starts over, so an event
 * whose dead letter went meanwhile is pruned then. */
static void test_gc_walks_dead_letters_in_bounded_steps(void)
{
    enum { OLD = 300, DEAD = 250, MAX = 100 };
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    fill(st, "old", OLD, NULL);
    usleep(30000);
    int64_t mid = wall_ms();
    sleep_us(GC_GAP_US);
    fill(st, "new", 5, NULL);
    for (int i = 1; i <= DEAD; i++)
        T_EQ_INT(store_dead_add(st, "out", (uint64_t)i, 3, "gave up"), HG_OK);
    T_EQ_INT(store_cursor_set(st, "out", OLD + 5), HG_OK);
    shut(st);

    MDB_env *env = env_at(dir);
    uint64_t window = (uint64_t)(wall_ms() - mid);
    struct gc_stats gs;
    memset(&gs, 0, sizeof(gs));
    uint64_t from[6] = {0}, events[6] = {0};
    int calls = 0;
    for (; calls < 6 && (calls == 0 || gs.more); calls++) {
        uint64_t before = gs.events;
        gs.more = 0;
        T_EQ_INT(gc_txn(env, window, NULL, 0, MAX, 0, &gs), 0);
        from[calls] = gs.from;
        events[calls] = gs.events - before;
    }
    T_EQ_INT(calls, 4);
    T_EQ_INT(from[0], MAX + 1); /* 1..100: dead letters passed over */
    T_EQ_INT(events[0], 0);
    T_EQ_INT(from[1], 2 * MAX + 1);
    T_EQ_INT(events[1], 0);
    T_EQ_INT(from[2], OLD + 1); /* 201..250 passed over, 251..300 pruned */
    T_EQ_INT(events[2], OLD - DEAD);
    T_EQ_INT(from[3], 0); /* new-00000 must stay: the pass is over */
    T_EQ_INT(events[3], 0);
    T_EQ_INT(gs.more, 0);
    mdb_env_close(env);

    st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    T_EQ_INT(store_dead_del(st, "out", 5), HG_OK);
    shut(st);
    env = env_at(dir);
    gc_all(env, (uint64_t)(wall_ms() - mid), &gs); /* a new pass, from the start */
    T_EQ_INT(gs.events, 1);
    T_EQ_INT(gs.from, 0);
    mdb_env_close(env);
}

/* meta_set - put (v != NULL) or delete a meta key, and drop "seen2" if
 * asked: a store as an older version left it */
static void meta_set(MDB_env *env, const char *key, const char *v, int drop_seen2)
{
    MDB_txn *txn;
    MDB_dbi meta, dbi;
    T_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    T_EQ_INT(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_val k = {strlen(key), (void *)key}, val = {v ? strlen(v) : 0, (void *)v};
    int rc = v ? mdb_put(txn, meta, &k, &val, 0) : mdb_del(txn, meta, &k, NULL);
    T_CHECK(rc == 0 || (!v && rc == MDB_NOTFOUND));
    if (drop_seen2) {
        T_EQ_INT(mdb_dbi_open(txn, SEENGEN_NAME1, 0, &dbi), 0);
        T_EQ_INT(mdb_drop(txn, dbi, 1), 0);
    }
    T_EQ_INT(mdb_txn_commit(txn), 0);
}

/* meta_is - 1 if meta key holds v (NULL: is absent) */
static int meta_is(MDB_env *env, const char *key, const char *v)
{
    MDB_txn *txn;
    MDB_dbi meta;
    MDB_val k = {strlen(key), (void *)key}, val;
    T_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    T_EQ_INT(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    int rc = mdb_get(txn, meta, &k, &val);
    int is = v ? rc == 0 && val.mv_size == strlen(v) && !memcmp(val.mv_data, v, val.mv_size)
               : rc == MDB_NOTFOUND;
    mdb_txn_abort(txn);
    return is;
}

/* `hookgate gc` with a window shorter than the gateway's keeps the dedupe
 * keys for the gateway's (serve records it in the store), and prunes
 * delivered events at its own. */
static void test_gc_keeps_the_gateways_window(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    fill(st, "w", 20, NULL);
    T_EQ_INT(store_cursor_set(st, "out", 20), HG_OK);
    shut(st);
    sleep_us(1200000); /* past a 10 ms window and its 1 s margin */
    struct gc_stats gs;
    T_EQ_INT(gc_dir(dir, 10, NULL, 0, &gs), HG_OK);
    T_EQ_INT(gs.seen, 0);
    T_EQ_INT(gs.events, 19); /* the newest stays */
    T_EQ_INT(gs.key_window_ms, WEEK_MS);
    MDB_env *env = env_at(dir); /* removes the recorded window */
    size_t n = 0;
    T_EQ_INT(seen_has(env, "w-00003", &n), 1);
    T_EQ_INT(n, 20);
    mdb_env_close(env);
    /* without it, the keys go at the window given: turned over, then
     * dropped (the generation's newest key is past 10 ms and the margin) */
    T_EQ_INT(gc_dir(dir, 10, NULL, 0, &gs), HG_OK);
    T_EQ_INT(gs.key_window_ms, 10);
    T_EQ_INT(gs.seen, 20);
}

/* A store of format 1 (an older version: all keys in "seen", no "seen2",
 * no generation state, the old sweep's position in meta).  A reader and
 * `hookgate gc` beside the older gateway still using it leave its keys
 * alone (that gateway would go on writing keys the state does not know);
 * the first `serve` open upgrades it to format 2 with "seen" current since
 * then, holding keys up to then; a window later it goes in one drop, and
 * the old position is gone. */
static void test_gc_upgrades_a_store_of_format_1(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    fill(st, "k", 200, NULL);
    shut(st);
    MDB_env *env = env_at(dir);
    meta_set(env, "format", "1", 1);
    meta_set(env, SEENGEN_META, NULL, 0);
    meta_set(env, "gc_seen", "\1\2\3\4\5\6\7\10", 0);
    mdb_env_close(env);

    struct store *rd = NULL;
    T_EQ_INT(store_open_reader(dir, &rd), HG_OK);
    uint64_t seq = 0;
    if (rd) {
        T_EQ_INT(store_find_id(rd, "k-00007", &seq), HG_OK);
        T_EQ_INT(seq, 8);
        store_close(rd);
    }
    usleep(20000);
    struct gc_stats gs;
    forget_window(dir);
    T_EQ_INT(gc_dir(dir, 10, NULL, 0, &gs), HG_OK); /* every key is past 10 ms */
    T_EQ_INT(gs.seen, 0);
    T_EQ_INT(gs.keys_left, 1);
    env = env_at(dir);
    T_CHECK(meta_is(env, "format", "1"));
    T_CHECK(meta_is(env, SEENGEN_META, NULL));
    T_CHECK(meta_is(env, "gc_seen", "\1\2\3\4\5\6\7\10"));
    mdb_env_close(env);

    int64_t t0 = wall_ms();
    st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    struct titem x;
    put1(st, &x, "r", "k-00009"); /* its key, in "seen", still counts */
    T_EQ_INT(x.it.duplicate, 1);
    T_EQ_INT(x.it.seq, 10);
    shut(st);
    env = env_at(dir);
    T_CHECK(meta_is(env, "format", "2"));
    struct seengen g = gen_of(env);
    T_EQ_INT(g.cur, 0);
    T_CHECK(g.start_ms >= (uint64_t)t0 && g.newest[0] == g.start_ms);
    mdb_env_close(env);

    /* 10 ms windows: "seen" turns old at once, and goes 1 s (the slack)
     * after its newest key - the upgrade's time - expired */
    usleep(20000);
    forget_window(dir);
    T_EQ_INT(gc_dir(dir, 10, NULL, 0, &gs), HG_OK);
    T_EQ_INT(gs.seen, 0);
    T_EQ_INT(gs.keys_left, 0);
    env = env_at(dir);
    T_EQ_INT(gen_of(env).cur, 1);
    T_CHECK(meta_is(env, "gc_seen", NULL));
    mdb_env_close(env);
    sleep_us(1100000);
    forget_window(dir);
    T_EQ_INT(gc_dir(dir, 10, NULL, 0, &gs), HG_OK);
    T_EQ_INT(gs.seen, 200);
    env = env_at(dir);
    size_t n = 0;
    T_EQ_INT(seen_has(env, "k-00001", &n), 0);
    T_EQ_INT(n, 0);
    mdb_env_close(env);
}

/* The newer sighting decides whichever table holds it (the lookup goes
 * through the tables in a fixed order). */
static void test_seengen_lookup_newer_wins(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 64ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    shut(st);
    MDB_env *env = env_at(dir);
    for (int newer = 0; newer < 2; newer++) {
        MDB_txn *txn;
        MDB_dbi tab[2];
        T_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
        T_EQ_INT(mdb_dbi_open(txn, SEENGEN_NAME0, 0, &tab[0]), 0);
        T_EQ_INT(mdb_dbi_open(txn, SEENGEN_NAME1, 0, &tab[1]), 0);
        for (int t = 0; t < 2; t++) {
            unsigned char v[16];
            storeloc_put64(v, t == newer ? 7 : 3);
            storeloc_put64(v + 8, t == newer ? 5000 : 1000);
            MDB_val key = {3, "r\0x"}, val = {16, v};
            T_EQ_INT(mdb_put(txn, tab[t], &key, &val, 0), 0);
        }
        uint64_t seq = 0, first = 0;
        T_EQ_INT(seengen_lookup(txn, tab, "r\0x", 3, &seq, &first), 0);
        T_EQ_INT(seq, 7);
        T_EQ_INT(first, 5000);
        MDB_dbi one[2] = {tab[1 - newer], 0}; /* a table that does not exist is skipped */
        T_EQ_INT(seengen_lookup(txn, one, "r\0x", 3, &seq, &first), 0);
        T_EQ_INT(seq, 3);
        T_EQ_INT(seengen_lookup(txn, tab, "r\0y", 3, &seq, &first), MDB_NOTFOUND);
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- dead letters: one sink's range, one lookup ---------------------------------- */

struct dead_seen {
    char sink[8][16];
    uint64_t seq[8];
    unsigned attempts[8];
    char err[8][32];
    size_t n;
};

static int on_dead_seen(void *arg, const char *sink, uint64_t seq, unsigned attempts,
                        int64_t time_ms, const char *err)
{
    struct dead_seen *d = arg;
    (void)time_ms;
    if (d->n < 8) {
        snprintf(d->sink[d->n], sizeof(d->sink[0]), "%s", sink);
        snprintf(d->err[d->n], sizeof(d->err[0]), "%s", err);
        d->seq[d->n] = seq;
        d->attempts[d->n] = attempts;
    }
    d->n++;
    return 0;
}

static void test_dead_letters_by_sink_and_by_seq(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    /* "a" is a prefix of "ab": the range of "a" must not take its letters */
    T_EQ_INT(store_dead_add(st, "ab", 1, 2, "ab one"), HG_OK);
    T_EQ_INT(store_dead_add(st, "a", 7, 3, "a seven"), HG_OK);
    T_EQ_INT(store_dead_add(st, "b", 2, 1, "b two"), HG_OK);
    T_EQ_INT(store_dead_add(st, "a", 300, 4, "a three hundred"), HG_OK);
    store_drain(st);
    struct dead_seen d;
    for (int i = 0; i < 400; i++) { /* written by the checkpointer */
        memset(&d, 0, sizeof(d));
        T_EQ_INT(store_dead_scan(st, NULL, on_dead_seen, &d), HG_OK);
        if (d.n == 4)
            break;
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
    T_EQ_INT(d.n, 4);
    memset(&d, 0, sizeof(d));
    T_EQ_INT(store_dead_scan(st, "a", on_dead_seen, &d), HG_OK);
    T_EQ_INT(d.n, 2);
    T_EQ_STR(d.sink[0], "a");
    T_EQ_INT(d.seq[0], 7);
    T_EQ_INT(d.seq[1], 300);
    T_EQ_STR(d.err[1], "a three hundred");
    memset(&d, 0, sizeof(d));
    T_EQ_INT(store_dead_scan(st, "ab", on_dead_seen, &d), HG_OK);
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.seq[0], 1);
    memset(&d, 0, sizeof(d));
    T_EQ_INT(store_dead_scan(st, "c", on_dead_seen, &d), HG_OK);
    T_EQ_INT(d.n, 0);
    memset(&d, 0, sizeof(d));
    T_EQ_INT(store_dead_get(st, "a", 300, on_dead_seen, &d), 1);
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.attempts[0], 4);
    T_EQ_STR(d.err[0], "a three hundred");
    T_EQ_INT(store_dead_get(st, "a", 1, on_dead_seen, &d), 0);
    T_EQ_INT(store_dead_get(st, "b", 7, on_dead_seen, &d), 0);
    T_EQ_INT(d.n, 1);
    shut(st);
}

/* ---- the rejected ring ---------------------------------------------------------- */

struct rej_seen {
    uint64_t id[64];
    char json[64][64];
    size_t n;
};

static int on_rej(void *arg, uint64_t id, int64_t time_ms, const char *json, size_t len)
{
    struct rej_seen *r = arg;
    (void)time_ms;
    if (r->n < 64) {
        r->id[r->n] = id;
        snprintf(r->json[r->n], sizeof(r->json[0]), "%.*s", (int)len, json);
        r->n++;
    }
    return 0;
}

struct many {
    size_t n;
    uint64_t last;
    int ordered;
};

static int on_many(void *arg, uint64_t id, int64_t time_ms, const char *json, size_t len)
{
    struct many *m = arg;
    (void)time_ms, (void)json, (void)len;
    m->ordered &= id < m->last;
    m->last = id;
    m->n++;
    return 0;
}

/* rej_wait - wait (bounded) until the ring shows want records, the
 * newest first_id (0: any). */
static size_t rej_wait(struct store *st, struct rej_seen *r, size_t want, uint64_t first_id)
{
    for (int i = 0; i < 400; i++) {
        memset(r, 0, sizeof(*r));
        store_reject_scan(st, 0, on_rej, r);
        if (r->n == want && (!first_id || r->id[0] == first_id))
            break;
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
    return r->n;
}

static void test_rejected_ring_bounded_newest_first_and_persistent(void)
{
    char dir[128];
    fresh_dir(dir, sizeof(dir));
    struct store *st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    store_reject_limits(st, 3, WEEK_MS);
    int64_t now = (int64_t)time(NULL) * 1000;
    for (int i = 1; i <= 5; i++) {
        char j[32];
        snprintf(j, sizeof(j), "{\"n\":%d}", i);
        T_EQ_INT(store_reject_add(st, now, j, strlen(j)), HG_OK);
    }
    struct rej_seen r;
    T_EQ_INT(rej_wait(st, &r, 3, 5), 3); /* the two oldest were cut */
    T_EQ_INT(r.id[0], 5);                /* newest first */
    T_EQ_INT(r.id[2], 3);
    T_EQ_STR(r.json[0], "{\"n\":5}");
    memset(&r, 0, sizeof(r)); /* before: only older ids */
    store_reject_scan(st, 5, on_rej, &r);
    T_EQ_INT(r.n, 2);
    T_EQ_INT(r.id[0], 4);
    /* an expired record is never shown, and ids go on after a reopen */
    T_EQ_INT(store_reject_add(st, now - (int64_t)(3 * WEEK_MS), "{\"old\":1}", 9), HG_OK);
    store_drain(st);
    store_close(st);
    st = open_store(dir, 16ULL << 20, WEEK_MS, 0);
    if (!st)
        return;
    store_reject_limits(st, 3, WEEK_MS);
    T_EQ_INT(rej_wait(st, &r, 2, 5), 2); /* 4 and 5: id 6 is kept (count 3) but expired */
    T_EQ_INT(r.id[0], 5);
    T_EQ_INT(store_reject_add(st, now, "{}", 2), HG_OK);
    T_EQ_INT(rej_wait(st, &r, 2, 7), 2); /* 4 cut for 7; 6 still hidden */
    T_EQ_INT(r.id[0], 7);
    T_EQ_INT(r.id[1], 5);
    /* a scan crosses the chunks it copies out (64 records each) in order */
    store_reject_limits(st, 1000, WEEK_MS);
    for (int i = 0; i < 150; i++)
        T_EQ_INT(store_reject_add(st, now, "{}", 2), HG_OK);
    struct many m = {0, UINT64_MAX, 1};
    for (int i = 0; i < 400 && m.n != 152; i++) { /* 150 + 7 and 5 */
        m = (struct many){0, UINT64_MAX, 1};
        store_reject_scan(st, 0, on_many, &m);
        struct timespec ts = {0, 10L * 1000000};
        nanosleep(&ts, NULL);
    }
    T_EQ_INT(m.n, 152);
    T_CHECK(m.ordered);
    /* the queue is bounded by bytes as well as records: 400 records of
     * 150 KiB (60 MiB) cannot all wait for one checkpoint (one a second;
     * the loop takes milliseconds) */
    uint64_t dropped0 = store_reject_dropped(st);
    size_t blen = 150u << 10;
    char *bj = malloc(blen);
    if (bj) {
        memset(bj, ' ', blen);
        bj[0] = '{';
        bj[blen - 1] = '}';
        int busy = 0;
        for (int i = 0; i < 400; i++)
            busy += store_reject_add(st, now, bj, blen) == HG_EBUSY;
        T_CHECK(busy >= 100);
        T_CHECK(store_reject_dropped(st) >= dropped0 + 100);
        /* the next checkpoint takes the queue: it has room again */
        int ok = 0;
        for (int i = 0; i < 400 && !ok; i++) {
            ok = store_reject_add(st, now, bj, blen) == HG_OK;
            struct timespec ts = {0, 10L * 1000000};
            if (!ok)
                nanosleep(&ts, NULL);
        }
        T_CHECK(ok);
        free(bj);
    }
    /* a ring of 0 keeps nothing: refused at once */
    store_reject_limits(st, 0, WEEK_MS);
    T_EQ_INT(store_reject_add(st, now, "{}", 2), HG_EBUSY);
    T_CHECK(store_reject_dropped(st) >= 1);
    shut(st);
}

int main(void)
{
    log_set_level(LOG_WARN);
    memset(big_body, 'b', sizeof(big_body));
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hgstore-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    T_RUN(test_open_creates_private_files);
    T_RUN(test_seq_assigned_in_order);
    T_RUN(test_duplicates_within_one_batch);
    T_RUN(test_duplicates_across_batches_and_routes);
    T_RUN(test_dedupe_window_zero);
    T_RUN(test_scan_in_order_after_cursor);
    T_RUN(test_cursor_set_get);
    T_RUN(test_cursor_persists_across_reopen);
    T_RUN(test_last_seq_and_dedupe_persist);
    T_RUN(test_probe);
    T_RUN(test_busy_when_queue_full);
    T_RUN(test_submit_after_drain_is_stopping);
    T_RUN(test_long_id_in_batch);
    T_RUN(test_store_wait_wakes_on_commit);
    T_RUN(test_map_full_then_larger_max);
    T_RUN(test_dead_letters_by_sink_and_by_seq);
    T_RUN(test_map_grows_in_process);
    T_RUN(test_gc_drops_generations);
    T_RUN(test_gc_chunked_generation);
    T_RUN(test_sweep_grows_a_full_map);
    T_RUN(test_gc_newer_sighting_wins);
    T_RUN(test_gc_keeps_undelivered_and_dead);
    T_RUN(test_gc_walks_dead_letters_in_bounded_steps);
    T_RUN(test_gc_keeps_the_gateways_window);
    T_RUN(test_gc_upgrades_a_store_of_format_1);
    T_RUN(test_seengen_lookup_newer_wins);
    T_RUN(test_rejected_ring_bounded_newest_first_and_persistent);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return t_finish();
}
