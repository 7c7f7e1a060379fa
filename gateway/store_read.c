/*
 * store_read.c - reading the store: delivery scans, cursors, dead letters,
 * replay requests, and the read-only open the command line uses while
 * `serve` runs (LMDB readers never block the writer).
 *
 * Every read transaction here is short and taken under resize_lock's read
 * side, so the writer can grow the map between them.
 */
#include "err.h"
#include "store.h"
#include "store_int.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_open_reader(const char *dir, struct store **out)
{
    struct store *st = store_alloc();
    if (!st)
        return HG_ENOMEM;
    st->reader = 1;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&st->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(st->env, 8);
    if (!rc)
        rc = mdb_env_open(st->env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (!rc)
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, "events", 0, &st->events);
    if (!rc)
        rc = mdb_dbi_open(txn, "seen", 0, &st->seen);
    if (!rc)
        rc = mdb_dbi_open(txn, "cursors", 0, &st->cursors);
    if (!rc)
        rc = mdb_dbi_open(txn, "meta", 0, &st->meta);
    if (!rc && mdb_dbi_open(txn, "dead", 0, &st->dead) != 0)
        st->dead = 0; /* a store from before dead letters: none */
    if (!rc && mdb_dbi_open(txn, "replay", 0, &st->replay) != 0)
        st->replay = 0;
    MDB_cursor *c;
    if (!rc && !mdb_cursor_open(txn, st->events, &c)) {
        MDB_val k, v;
        if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
            st->last_seq = get_be64(k.mv_data);
        mdb_cursor_close(c);
    }
    if (txn && rc)
        mdb_txn_abort(txn);
    else if (txn) /* committing (even read-only) keeps the DBI handles open */
        rc = mdb_txn_commit(txn);
    if (rc) {
        fprintf(stderr, "hookgate: cannot open the store in %s: %s\n", dir, mdb_strerror(rc));
        store_close(st);
        return HG_ESTORE;
    }
    *out = st;
    return HG_OK;
}

int store_scan(struct store *st, uint64_t after, size_t max, store_scan_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *c;
    unsigned char kb[8];
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (rc) {
        pthread_rwlock_unlock(&st->resize_lock);
        return HG_ESTORE;
    }
    if ((rc = mdb_cursor_open(txn, st->events, &c)) == 0) {
        be64(kb, after + 1);
        MDB_val k = {8, kb}, v;
        MDB_cursor_op op = MDB_SET_RANGE;
        for (size_t n = 0; n < max; n++, op = MDB_NEXT) {
            if ((rc = mdb_cursor_get(c, &k, &v, op)))
                break;
            if (k.mv_size != 8 || fn(arg, get_be64(k.mv_data), v.mv_data, v.mv_size))
                break;
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->resize_lock);
    return rc == 0 || rc == MDB_NOTFOUND ? HG_OK : HG_ESTORE;
}

int store_dead_scan(struct store *st, const char *sink, store_dead_fn fn, void *arg)
{
    if (!st->dead)
        return HG_OK;
    MDB_txn *txn = NULL;
    MDB_cursor *c;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (!rc && !(rc = mdb_cursor_open(txn, st->dead, &c))) {
        MDB_val k, v;
        for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            const unsigned char *kb = k.mv_data, *vb = v.mv_data;
            size_t nl = strnlen((const char *)kb, k.mv_size);
            if (nl + 9 != k.mv_size || v.mv_size < 12)
                continue;
            if (sink && (strlen(sink) != nl || memcmp(sink, kb, nl)))
                continue;
            char name[STORE_SINK_MAX + 1], err[256];
            snprintf(name, sizeof(name), "%.*s", (int)nl, (const char *)kb);
            size_t el = v.mv_size - 12 < sizeof(err) - 1 ? v.mv_size - 12 : sizeof(err) - 1;
            memcpy(err, vb + 12, el);
            err[el] = '\0';
            unsigned att =
                (unsigned)vb[8] << 24 | (unsigned)vb[9] << 16 | (unsigned)vb[10] << 8 | vb[11];
            if (fn(arg, name, get_be64(kb + nl + 1), att, (int64_t)get_be64(vb), err))
                break;
        }
        mdb_cursor_close(c);
    }
    if (txn)
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->resize_lock);
    return rc ? HG_ESTORE : HG_OK;
}

int store_cursor_scan(struct store *st, store_cursor_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *c;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (!rc) {
        if (!(rc = mdb_cursor_open(txn, st->cursors, &c))) {
            MDB_val k, v;
            for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0;
                 r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                char name[STORE_SINK_MAX + 1];
                if (k.mv_size > STORE_SINK_MAX || v.mv_size != 8)
                    continue;
                memcpy(name, k.mv_data, k.mv_size);
                name[k.mv_size] = '\0';
                if (fn(arg, name, get_be64(v.mv_data)))
                    break;
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return rc ? HG_ESTORE : HG_OK;
}

int store_find_id(struct store *st, const char *id, uint64_t *seq)
{
    MDB_txn *txn;
    MDB_cursor *c;
    size_t il = strlen(id);
    *seq = 0;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_rtxn(st, &txn);
    if (!rc) {
        if (!(rc = mdb_cursor_open(txn, st->seen, &c))) {
            MDB_val k, v;
            for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0;
                 r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                const char *kb = k.mv_data;
                size_t rl = strnlen(kb, k.mv_size);
                if (rl < k.mv_size && k.mv_size - rl - 1 == il && !memcmp(kb + rl + 1, id, il) &&
                    v.mv_size == 16) {
                    uint64_t s = get_be64(v.mv_data);
                    if (s > *seq)
                        *seq = s; /* the newest event with this id */
                }
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return rc ? HG_ESTORE : HG_OK;
}

int store_dead_has(struct store *st, const char *sink, uint64_t seq)
{
    unsigned char kb[STORE_SINK_MAX + 9];
    size_t nl = strlen(sink);
    MDB_txn *txn;
    int has = 0;
    if (!st->dead || nl > STORE_SINK_MAX)
        return 0;
    memcpy(kb, sink, nl + 1);
    be64(kb + nl + 1, seq);
    pthread_rwlock_rdlock(&st->resize_lock);
    if (!store_rtxn(st, &txn)) {
        MDB_val k = {nl + 9, kb}, v;
        has = mdb_get(txn, st->dead, &k, &v) == 0;
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return has;
}

int store_replay_next(struct store *st, const char *sink, struct store_replay *out)
{
    if (!st->replay)
        return 0;
    MDB_txn *txn;
    MDB_cursor *c;
    unsigned char kb[STORE_SINK_MAX + 9];
    size_t nl = strlen(sink);
    int found = 0;
    if (nl > STORE_SINK_MAX)
        return 0;
    memcpy(kb, sink, nl + 1);
    memset(kb + nl + 1, 0, 8);
    pthread_rwlock_rdlock(&st->resize_lock);
    if (!store_rtxn(st, &txn)) {
        if (!mdb_cursor_open(txn, st->replay, &c)) {
            MDB_val k = {nl + 9, kb}, v;
            if (!mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) && k.mv_size == nl + 9 &&
                !memcmp(k.mv_data, kb, nl + 1) && v.mv_size == 9) {
                const unsigned char *vb = v.mv_data;
                out->id = get_be64((const unsigned char *)k.mv_data + nl + 1);
                out->dead = vb[0] == 1;
                out->from_seq = get_be64(vb + 1);
                found = 1;
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    return found;
}

int store_replay_request(const char *dir, const char *sink, int dead, uint64_t from_seq)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char kb[STORE_SINK_MAX + 9], vb[9];
    size_t nl = strlen(sink);
    if (nl > STORE_SINK_MAX)
        return HG_EINVAL;
    memcpy(kb, sink, nl + 1);
    be64(kb + nl + 1, (uint64_t)now_ms());
    vb[0] = dead ? 1 : 0;
    be64(vb + 1, from_seq);
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 8);
    if (!rc) /* a writer beside `serve`: LMDB serialises the two */
        rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    if (!rc && !(rc = mdb_txn_begin(env, NULL, 0, &txn))) {
        MDB_val k = {nl + 9, kb}, v = {9, vb};
        if ((rc = mdb_dbi_open(txn, "replay", MDB_CREATE, &dbi)) ||
            (rc = mdb_put(txn, dbi, &k, &v, 0)))
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);
    }
    if (rc)
        fprintf(stderr, "hookgate: cannot write the replay request in %s: %s\n", dir,
                mdb_strerror(rc));
    mdb_env_close(env);
    return rc ? HG_ESTORE : HG_OK;
}

int store_stats(struct store *st, uint64_t *bytes, uint64_t *dead)
{
    MDB_txn *txn;
    MDB_envinfo info;
    MDB_stat es, ds;
    *bytes = *dead = 0;
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = !st->env || mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &es);
    if (!rc && !(rc = store_rtxn(st, &txn))) {
        if (!mdb_stat(txn, st->dead, &ds))
            *dead = ds.ms_entries;
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->resize_lock);
    if (rc)
        return HG_ESTORE;
    *bytes = (uint64_t)(info.me_last_pgno + 1) * es.ms_psize;
    return HG_OK;
}
