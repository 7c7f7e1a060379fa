/*
 * store_open.c - opening and closing the store: the LMDB environment and
 * its sub-databases, the threads (writer and completer from store.c, the
 * retention sweeper here), and reopening the environment after a failed
 * commit (see store.c's header for why).
 *
 * Invariants: st->env is only replaced under resize_lock's write side, by
 * the checkpointer thread (store_reopen) or before any thread runs (store_open);
 * last_seq never moves back.
 */
#include "store.h"
#include "store_int.h"
#include "seengen.h"
#include "benchknob.h"
#include "gc.h"
#include "err.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_MAP_INITIAL (1ULL << 30) /* virtual; the file grows as pages are written */
#define STORE_FORMAT      "2"
#define STORE_FRESH_MAX   (64u << 10) /* a data.mdb no bigger may be a first start's */

/* open_dbs - open (create) the sub-databases in one write transaction and
 * set *last to the newest event's seq. */
static int open_dbs(struct store *st, uint64_t *last)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE, &st->events)) ||
        (rc = mdb_dbi_open(txn, SEENGEN_NAME0, MDB_CREATE, &st->seen[0])) ||
        (rc = mdb_dbi_open(txn, SEENGEN_NAME1, MDB_CREATE, &st->seen[1])) ||
        (rc = mdb_dbi_open(txn, "cursors", MDB_CREATE, &st->cursors)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) ||
        (rc = mdb_dbi_open(txn, "dead", MDB_CREATE, &st->dead)) ||
        (rc = mdb_dbi_open(txn, "replay", MDB_CREATE, &st->replay)) ||
        (rc = mdb_dbi_open(txn, "rejected", MDB_CREATE, &st->rejected)) ||
        (rc = store_rej_open(st, txn))) {
        mdb_txn_abort(txn);
        return rc;
    }
    /* Format "2" keeps the dedupe index in two generations (seengen.h); a
     * store of format "1" (one table, from an older version) is upgraded
     * here, and a binary of format "1" then refuses it: the two must never
     * write one store (an older writer would put keys into "seen" without
     * the generations' state, and a newer sweep would drop them early). */
    MDB_val k = {6, "format"}, v;
    rc = mdb_get(txn, st->meta, &k, &v);
    int old = rc == 0 && v.mv_size == 1 && *(const char *)v.mv_data == '1';
    if (rc == MDB_NOTFOUND || old) {
        v.mv_size = strlen(STORE_FORMAT);
        v.mv_data = STORE_FORMAT;
        rc = mdb_put(txn, st->meta, &k, &v, 0);
    } else if (rc == 0 &&
               (v.mv_size != strlen(STORE_FORMAT) || memcmp(v.mv_data, STORE_FORMAT, v.mv_size))) {
        log_msg(LOG_ERROR, "store: unknown format version", "{s:s%}", "format",
                (const char *)v.mv_data, v.mv_size);
        rc = MDB_INCOMPATIBLE;
    }
    /* the dedupe generations start with the store (or its upgrade): a
     * sweep measures the first window from here */
    MDB_val gk = {strlen(SEENGEN_META), SEENGEN_META}, gv;
    if (!rc && (rc = mdb_get(txn, st->meta, &gk, &gv)) == MDB_NOTFOUND) {
        struct seengen sg;
        seengen_get(txn, st->meta, (uint64_t)now_ms(), &sg); /* MDB_NOTFOUND: the defaults */
        rc = seengen_put(txn, st->meta, &sg);
    }
    if (!rc && old)
        log_msg(LOG_INFO, "store: upgraded to format 2 (dedupe keys in two generations)", NULL);
    MDB_cursor *c;
    if (!rc && !(rc = mdb_cursor_open(txn, st->events, &c))) {
        MDB_val ek, ev;
        int r = mdb_cursor_get(c, &ek, &ev, MDB_LAST);
        if (r == 0 && ek.mv_size == 8)
            *last = get_be64(ek.mv_data);
        else if (r != MDB_NOTFOUND)
            rc = r ? r : MDB_CORRUPTED;
        mdb_cursor_close(c);
    }
    /* a store whose newest events were pruned by an older version: no seq
     * at or below a sink's cursor may be handed out again */
    if (!rc && !(rc = mdb_cursor_open(txn, st->cursors, &c))) {
        MDB_val ck, cv;
        for (int r = mdb_cursor_get(c, &ck, &cv, MDB_FIRST); r == 0;
             r = mdb_cursor_get(c, &ck, &cv, MDB_NEXT))
            if (cv.mv_size == 8 && get_be64(cv.mv_data) > *last)
                *last = get_be64(cv.mv_data);
        mdb_cursor_close(c);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* env_open - create and open st->env on st->dir at st->map_size (or the
 * file's larger size) and open the sub-databases.  On failure st->env is
 * left for the caller to close. */
static int env_open(struct store *st)
{
    int rc = mdb_env_create(&st->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS);
    if (!rc)
        rc = mdb_env_set_mapsize(st->env, (size_t)st->map_size);
    if (!rc)
        rc = mdb_env_open(
            st->env, st->dir,
            MDB_NOTLS |
                (benchknob_store() == BK_NOSYNC || benchknob_store() == BK_WALSIM ? MDB_NOSYNC : 0),
            0600);
    if (!rc) {
        /* LMDB opens data.mdb without O_CLOEXEC: no handler may inherit it */
        int dfd;
        if (mdb_env_get_fd(st->env, &dfd) == 0)
            fcntl(dfd, F_SETFD, fcntl(dfd, F_GETFD) | FD_CLOEXEC);
        MDB_envinfo info;
        int dead = 0;
        mdb_reader_check(st->env, &dead);
        if (mdb_env_info(st->env, &info) == 0 && info.me_mapsize > st->map_size)
            st->map_size = info.me_mapsize;
        uint64_t last = 0;
        rc = open_dbs(st, &last);
        pthread_mutex_lock(&st->lock);
        if (!rc && last > st->last_seq) /* never backwards (a reopen) */
            st->last_seq = last;
        pthread_mutex_unlock(&st->lock);
    }
    return rc;
}

/* store_reopen - after a failed commit: close the environment and open it
 * again from the files, so that what LMDB holds in memory (its free-page
 * list, its meta page, the fatal-error flag a failed meta write sets) is
 * reread from the last commit that reached the disk.  Runs on the
 * checkpointer thread with no write transaction open;
 * takes resize_lock exclusively, so no read transaction is open either.  On
 * failure st->env stays NULL, st->broken is set and the next checkpoint
 * tries again (at most once per second).  Returns 0 or an LMDB/errno code. */
int store_reopen(struct store *st)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (st->broken && now - st->reopen_ms < 1000)
        return MDB_PANIC;
    st->reopen_ms = now;
    pthread_rwlock_wrlock(&st->resize_lock);
    if (st->env)
        mdb_env_close(st->env);
    st->env = NULL;
    int rc = env_open(st);
    if (rc && st->env) {
        mdb_env_close(st->env);
        st->env = NULL;
    }
    pthread_rwlock_unlock(&st->resize_lock);
    pthread_mutex_lock(&st->lock);
    int was = st->broken;
    st->broken = rc != 0;
    pthread_mutex_unlock(&st->lock);
    if (rc && !was)
        log_msg(LOG_ERROR, "store: cannot reopen after a failed commit; will retry", "{s:s}",
                "error", mdb_strerror(rc));
    else if (!rc)
        log_msg(LOG_INFO, "store: reopened after a failed commit", "{s:I}", "last_seq",
                (json_int_t)st->last_seq);
    return rc;
}

/* sweeper_main - retention in the background: one bounded gc transaction
 * every gc_interval_ms (sooner while there is a backlog). */
static void *sweeper_main(void *arg)
{
    pthread_setname_np(pthread_self(), "hg-store-gc"); /* top -H, perf */
    struct store *st = arg;
    uint64_t wait_ms = st->gc_interval_ms;
    int chunked = 0;   /* set while a generation goes in bounded deletes */
    uint64_t from = 0; /* where the event walk goes on (gc.h): 0 starts a pass */
    unsigned asks = 0; /* growth requests in a row: the retry backs off */
    pthread_mutex_lock(&st->lock);
    while (!st->stopping) {
        struct timespec dl;
        store_deadline(&dl, wait_ms);
        /* its own condition variable: only the stop wakes it early (waiting
         * on the commit signal would cost a wake-up per commit) */
        pthread_cond_timedwait(&st->sweep_wake, &st->lock, &dl);
        if (st->stopping || st->broken)
            continue;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec < dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec < dl.tv_nsec))
            continue; /* a spurious wake-up */
        const char *const *gc_sinks = st->gc_sinks;
        size_t gc_nsinks = st->gc_nsinks;
        pthread_mutex_unlock(&st->lock);
        int dead_readers = 0; /* a killed `events` command leaves its reader slot */
        int64_t t0 = 0;
        struct gc_stats gs = {0, 0, 0, 0, 0, from, 0};
        int rc = MDB_PANIC;
        /* a full map: the checkpointer grows it (the one thread that
         * resizes) and the sweep is tried again soon; at max_size the
         * generation's keys go in bounded deletes (gc.h) */
        int at_max = 0;
        for (int tries = 0; tries < 2; tries++) {
            pthread_rwlock_rdlock(&st->resize_lock); /* no remap or reopen under a transaction */
            rc = MDB_PANIC;
            t0 = now_ms();
            if (st->env) {
                int dead = 0;
                mdb_reader_check(st->env, &dead);
                dead_readers += dead;
                rc = gc_txn(st->env, st->window_ms, gc_sinks, gc_nsinks, 10000,
                            (chunked ? GC_CHUNKED : 0) | GC_SERVE, &gs);
            }
            at_max = st->map_size >= st->max_size;
            pthread_rwlock_unlock(&st->resize_lock);
            if (rc != MDB_MAP_FULL || chunked || !at_max)
                break;
            chunked = 1;
        }
        if (rc == MDB_MAP_FULL && !at_max) {
            pthread_mutex_lock(&st->lock);
            st->need_grow = 1;
            pthread_cond_signal(&st->ckpt_wake);
            pthread_mutex_unlock(&st->lock);
        }
        if (dead_readers)
            log_msg(LOG_WARN, "store: cleared stale reader slots", "{s:i}", "count", dead_readers);
        if (rc == MDB_MAP_FULL && !at_max && !asks)
            log_msg(LOG_INFO, "store: retention sweep needs a larger map; growing it", NULL);
        else if (rc)
            log_msg(LOG_WARN, "store: retention sweep failed; will retry", "{s:s}", "error",
                    mdb_strerror(rc));
        if (rc && rc != MDB_MAP_FULL && rc != MDB_PANIC) {
            /* a failed sweep commit can leave LMDB as unusable as a failed
             * checkpoint: the checkpointer reopens it (store_reopen) */
            pthread_mutex_lock(&st->lock);
            st->need_reopen = 1;
            pthread_cond_signal(&st->ckpt_wake);
            pthread_mutex_unlock(&st->lock);
        } else if (!rc && (gs.seen || gs.events)) {
            log_msg(LOG_INFO, "store: retention sweep", "{s:I,s:I,s:I}", "dedupe_keys",
                    (json_int_t)gs.seen, "events", (json_int_t)gs.events, "ms",
                    (json_int_t)(now_ms() - t0));
        }
        if (!rc && gs.first) {
            size_t n = seglog_drop_before(st->log, gs.first);
            if (n)
                log_msg(LOG_INFO, "store: retention removed log segments", "{s:I,s:I}", "segments",
                        (json_int_t)n, "below_seq", (json_int_t)gs.first);
        }
        if (!rc && !gs.more)
            chunked = 0; /* the next generation may well be dropped whole */
        if (!rc)
            from = gs.from;
        /* a map that will not grow (the checkpointer logs why) is asked
         * again after 100 ms, 200 ms, ... up to the interval, and the ask is
         * logged once per run of them */
        asks = rc == MDB_MAP_FULL && !at_max ? asks + 1 : 0;
        wait_ms = !rc && gs.more ? 100 : st->gc_interval_ms;
        if (asks && asks < 20 && (100ULL << (asks - 1)) < wait_ms)
            wait_ms = 100ULL << (asks - 1);
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

struct store *store_alloc(void)
{
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->lock_fd = -1;
    st->rej_max = 10000; /* store_reject_limits: the config's */
    st->rej_age_ms = 7ULL * 86400000;
    /* writers first: a steady stream of short read transactions must not
     * hold off a map resize or a reopen (no thread nests read locks) */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->resize_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->wake, NULL);
    pthread_cond_init(&st->idle, NULL);
    pthread_cond_init(&st->commit, NULL);
    pthread_cond_init(&st->completer_wake, NULL);
    pthread_cond_init(&st->sweep_wake, NULL);
    pthread_cond_init(&st->ckpt_wake, NULL);
    pthread_mutex_init(&st->plock, NULL);
    if (store_pend_init(&st->pend)) {
        store_close(st);
        return NULL;
    }
    return st;
}

/* Every failure below ends in store_close: it joins only the threads that
 * started and closes only what is open, so there is one cleanup path. */
/* never_used - 1 when dir's data.mdb is no bigger than a first start
 * makes it and the log directory exists and holds no byte: no event was
 * ever acknowledged from this store (an acknowledgement needs a synced log
 * record).  A store from before the log has no log directory: never. */
static int never_used(const char *dir)
{
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/data.mdb", dir);
    if (stat(p, &sb) || (uint64_t)sb.st_size > STORE_FRESH_MAX)
        return 0;
    snprintf(p, sizeof(p), "%s/log", dir);
    DIR *d = opendir(p);
    if (!d)
        return 0;
    int used = 0;
    for (struct dirent *e; !used && (e = readdir(d));) {
        char f[4096 + 256];
        if (e->d_name[0] == '.')
            continue;
        snprintf(f, sizeof(f), "%s/%s", p, e->d_name);
        used = stat(f, &sb) != 0 || sb.st_size > 0;
    }
    closedir(d);
    return !used;
}

/* new_store_log - for a store that has no data.mdb yet, make the log
 * directory (durably) before LMDB's first file: never_used may then take a
 * data.mdb that a cut left invalid beside an empty log for a first start,
 * and a store from before the log, which has data.mdb and no log
 * directory, is never taken for one.  0 or an errno. */
static int new_store_log(const char *dir)
{
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/data.mdb", dir);
    if (stat(p, &sb) == 0 || errno != ENOENT)
        return 0;
    snprintf(p, sizeof(p), "%s/log", dir);
    if (mkdir(p, 0700) && errno != EEXIST)
        return errno;
    return seglog_sync_dir(dir);
}

/* set_aside - a power cut during the very first start, before LMDB's first
 * commit reached the disk, leaves a data.mdb neither of whose meta pages is
 * valid (MDB_INVALID), and LMDB refuses it for ever.  When never_used says
 * nothing was acknowledged from it, it is renamed data.mdb.invalid-<time>
 * (kept, not removed: the operator may look) and the store starts empty.
 * 0 or an errno. */
static int set_aside(struct store *st)
{
    char from[4096], to[4200];
    if (st->env) {
        mdb_env_close(st->env);
        st->env = NULL;
    }
    snprintf(from, sizeof(from), "%s/data.mdb", st->dir);
    snprintf(to, sizeof(to), "%s/data.mdb.invalid-%lld", st->dir, (long long)time(NULL));
    if (rename(from, to))
        return errno;
    int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    log_msg(LOG_WARN,
            "store: data.mdb was never completed (a crash during the first start, "
            "nothing acknowledged); set aside, starting empty",
            "{s:s}", "file", to);
    return 0;
}

int store_open(const struct store_cfg *cfg, struct store **out)
{
    struct store *st = store_alloc();
    if (!st)
        return HG_ENOMEM;
    st->max_size = cfg->max_size;
    st->window_ms = cfg->dedupe_window_ms;
    st->max_queue = cfg->max_queue ? cfg->max_queue : 65536;
    st->healthy = 1;

    if (mkdir(cfg->dir, 0700) != 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "store: cannot create data_dir", "{s:s,s:s}", "dir", cfg->dir, "error",
                strerror(errno));
        store_close(st);
        return HG_ESTORE;
    }
    /* one writer process per store: a second gateway on the same data_dir
     * would deliver every event twice */
    struct stat dsb;
    if (stat(cfg->dir, &dsb) == 0 && (dsb.st_mode & S_IROTH)) {
        /* events carry producers' payloads: a world-readable store leaks
         * them; refused before anything is created in it */
        log_msg(LOG_ERROR, "store: data_dir is readable by other users; chmod 700 it", "{s:s}",
                "dir", cfg->dir);
        store_close(st);
        return HG_ESTORE;
    }
    char lpath[4096];
    snprintf(lpath, sizeof(lpath), "%s/writer.lock", cfg->dir);
    st->lock_fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        log_msg(LOG_ERROR, "store: data_dir is in use by another hookgate process", "{s:s,s:s}",
                "dir", cfg->dir, "error", strerror(errno));
        store_close(st);
        return HG_ESTORE;
    }
    struct stat sb;
    if (stat(cfg->dir, &sb) == 0 && (sb.st_mode & 0077))
        log_msg(LOG_WARN, "store: data_dir is accessible by other users; chmod 700 it", "{s:s}",
                "dir", cfg->dir);
    st->map_size = cfg->initial_size ? cfg->initial_size : STORE_MAP_INITIAL;
    if (st->map_size > st->max_size)
        st->map_size = st->max_size;
    st->dir = strdup(cfg->dir);
    int rc = st->dir ? new_store_log(st->dir) : ENOMEM;
    if (!rc)
        rc = env_open(st);
    if (rc == MDB_INVALID && never_used(st->dir) && (rc = set_aside(st)) == 0)
        rc = env_open(st);
    if (rc) {
        log_msg(LOG_ERROR, "store: cannot open", "{s:s,s:s}", "dir", cfg->dir, "error",
                mdb_strerror(rc));
        store_close(st); /* no thread yet: closes what is open, frees the rest */
        return HG_ESTORE;
    }
    if (BENCHKNOB_BUILT) /* tests/bench/run checks "HG_BENCH_STORE":"<mode>" here */
        log_msg(LOG_WARN,
                benchknob_store() ? "store: a tests/bench build: events are NOT durable"
                                  : "store: a tests/bench build (HG_BENCH_STORE unset or "
                                    "unknown: durable); not for real traffic",
                "{s:s}", "HG_BENCH_STORE", benchknob_name(benchknob_store()));
    if ((rc = store_ckpt_recover(st))) {
        log_msg(LOG_ERROR,
                rc == EBADMSG ? "store: the log is damaged before its end; refusing to open "
                                "(nothing was changed; see docs/reliability.md)"
                              : "store: cannot recover the log",
                "{s:s,s:s}", "dir", cfg->dir, "error", mdb_strerror(rc));
        store_close(st);
        return HG_ESTORE;
    }
    /* for `hookgate gc` (seengen.h); a map too full to take it now (one
     * reopened at exactly its used size) gets it from the first sweep */
    if (st->window_ms && (rc = gc_note_window(st->env, st->window_ms)))
        log_msg(LOG_INFO, "store: dedupe window not recorded yet", "{s:s}", "error",
                mdb_strerror(rc));
    st->writer_running = 1;
    if (pthread_create(&st->completer, NULL, store_completer_main, st) != 0) {
        st->writer_running = 0;
        store_close(st);
        return HG_ESTORE;
    }
    st->completer_started = 1;
    if (pthread_create(&st->writer, NULL, store_writer_main, st) != 0) {
        st->writer_running = 0;
        store_close(st);
        return HG_ESTORE;
    }
    st->writer_started = 1;
    st->ckpointer_running = 1;
    if (pthread_create(&st->ckpointer, NULL, store_ckpt_main, st) != 0) {
        st->ckpointer_running = 0;
        store_close(st);
        return HG_ESTORE;
    }
    st->ckpointer_started = 1;
    st->gc_sinks = cfg->sinks;
    st->gc_nsinks = cfg->nsinks;
    st->gc_interval_ms = cfg->gc_interval_ms;
    if (st->gc_interval_ms && pthread_create(&st->sweeper, NULL, sweeper_main, st) == 0)
        st->sweeper_started = 1;
    log_msg(LOG_INFO, "store: open", "{s:s,s:I,s:I}", "dir", cfg->dir, "last_seq",
            (json_int_t)st->last_seq, "map_size", (json_int_t)st->map_size);
    *out = st;
    return HG_OK;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    st->stopping = 1;
    pthread_cond_broadcast(&st->wake);
    pthread_cond_broadcast(&st->commit);
    pthread_cond_broadcast(&st->completer_wake);
    pthread_cond_broadcast(&st->sweep_wake);
    pthread_cond_broadcast(&st->ckpt_wake);
    pthread_mutex_unlock(&st->lock);
    if (st->sweeper_started)
        pthread_join(st->sweeper, NULL);
    if (st->writer_started)
        pthread_join(st->writer, NULL);
    if (st->completer_started)
        pthread_join(st->completer, NULL);
    if (st->ckpointer_started) { /* the last checkpoint: after the writer's last batch */
        pthread_mutex_lock(&st->lock);
        pthread_cond_broadcast(&st->ckpt_wake);
        pthread_mutex_unlock(&st->lock);
        pthread_join(st->ckpointer, NULL);
    }
    if (st->n_commits)
        log_msg(LOG_INFO, "store: closed", "{s:I,s:I,s:f,s:f}", "commits",
                (json_int_t)st->n_commits, "items", (json_int_t)st->n_items, "avg_batch",
                (double)st->n_items / (double)st->n_commits, "avg_commit_ms",
                (double)st->commit_us / 1000.0 / (double)st->n_commits);
    if (st->env)
        mdb_env_close(st->env);
    seglog_close(st->log);
    store_pend_free(&st->pend);
    free(st->wbuf);
    free(st->dir);
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    store_rej_free(st->rej_pending);
    for (struct dead_rec *d = st->dead_pending, *nx; d; d = nx) {
        nx = d->next;
        free(d);
    }
    pthread_rwlock_destroy(&st->resize_lock);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->idle);
    pthread_cond_destroy(&st->commit);
    pthread_cond_destroy(&st->completer_wake);
    pthread_cond_destroy(&st->sweep_wake);
    pthread_cond_destroy(&st->ckpt_wake);
    pthread_mutex_destroy(&st->plock);
    free(st);
}
