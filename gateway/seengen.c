/*
 * seengen.c - the dedupe index's two generations: their state in "meta"
 * and the lookup across both (see seengen.h for the scheme and its
 * invariant).
 */
#include "seengen.h"
#include "storeloc.h"

#include <string.h>

int seengen_get(MDB_txn *txn, MDB_dbi meta, uint64_t now_ms, struct seengen *g)
{
    MDB_val k = {strlen(SEENGEN_META), SEENGEN_META}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        g->cur = 0;
        g->start_ms = now_ms;
        g->newest[0] = now_ms; /* a store from before: its keys are older */
        g->newest[1] = 0;
        return MDB_NOTFOUND;
    }
    if (rc)
        return rc;
    const unsigned char *p = v.mv_data;
    if (v.mv_size != SEENGEN_SIZE || p[0] > 1)
        return MDB_CORRUPTED;
    g->cur = p[0];
    g->start_ms = storeloc_get64(p + 1);
    g->newest[0] = storeloc_get64(p + 9);
    g->newest[1] = storeloc_get64(p + 17);
    return 0;
}

int seengen_put(MDB_txn *txn, MDB_dbi meta, const struct seengen *g)
{
    unsigned char b[SEENGEN_SIZE];
    b[0] = (unsigned char)g->cur;
    storeloc_put64(b + 1, g->start_ms);
    storeloc_put64(b + 9, g->newest[0]);
    storeloc_put64(b + 17, g->newest[1]);
    MDB_val k = {strlen(SEENGEN_META), SEENGEN_META}, v = {SEENGEN_SIZE, b};
    return mdb_put(txn, meta, &k, &v, 0);
}

int seengen_lookup(MDB_txn *txn, const MDB_dbi tab[2], const void *key, size_t klen, uint64_t *seq,
                   uint64_t *first_ms)
{
    int found = 0;
    for (int i = 0; i < 2; i++) {
        if (!tab[i])
            continue;
        MDB_val k = {klen, (void *)key}, v;
        int rc = mdb_get(txn, tab[i], &k, &v);
        if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != 16))
            continue;
        if (rc)
            return rc;
        uint64_t t = storeloc_get64((const unsigned char *)v.mv_data + 8);
        if (!found || t > *first_ms) { /* an id accepted again after its window */
            *first_ms = t;
            *seq = storeloc_get64(v.mv_data);
            found = 1;
        }
    }
    return found ? 0 : MDB_NOTFOUND;
}
