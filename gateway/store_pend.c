/*
 * store_pend.c - the store's in-memory tail: the events whose records are
 * durable in the segment log while LMDB's checkpoint does not yet hold
 * their index entry and dedupe key (see store_int.h).
 *
 * A ring by seq (seqs pruned+1 .. pruned+n, no gaps) and a chained hash by
 * dedupe key over the same entries.  The hash is seeded per process, so
 * ids a producer chooses cannot be made to collide on purpose.  Bounded by
 * the caller (the writer refuses events past STORE_PEND_MAX).
 *
 * Invariants: an entry is freed only by store_pend_prune (its seq is in
 * LMDB) or store_pend_drop_from (its batch failed and was never visible).
 */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t hash_key(uint64_t seed, const unsigned char *k, size_t n)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ull; /* FNV-1a, seeded, then mixed */
    for (size_t i = 0; i < n; i++) {
        h ^= k[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h;
}

int store_pend_init(struct store_pend *p)
{
    memset(p, 0, sizeof(*p));
    p->cap = 1024;
    p->tcap = 1024;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    p->ring = calloc(p->cap, sizeof(*p->ring));
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    p->tab = calloc(p->tcap, sizeof(*p->tab));
    if (!p->ring || !p->tab) {
        store_pend_free(p);
        return ENOMEM;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    p->seed =
        (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)p;
    return 0;
}

void store_pend_free(struct store_pend *p)
{
    for (size_t i = 0; p->ring && i < p->n; i++)
        free(p->ring[(p->head + i) % p->cap]);
    free(p->ring);
    free(p->tab);
    memset(p, 0, sizeof(*p));
}

static int grow(struct store_pend *p)
{
    size_t nc = p->cap * 2;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    struct pend_ev **r = malloc(nc * sizeof(*r));
    if (!r)
        return ENOMEM;
    for (size_t i = 0; i < p->n; i++)
        r[i] = p->ring[(p->head + i) % p->cap];
    free(p->ring);
    p->ring = r;
    p->cap = nc;
    p->head = 0;
    /* the hash keeps a load factor of at most 1 */
    size_t tc = p->tcap * 2;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    struct pend_ev **t = calloc(tc, sizeof(*t));
    if (!t)
        return 0; /* the old table still works, only slower */
    for (size_t i = 0; i < p->n; i++) {
        struct pend_ev *e = p->ring[i];
        e->hnext = t[e->hash & (tc - 1)];
        t[e->hash & (tc - 1)] = e;
    }
    free(p->tab);
    p->tab = t;
    p->tcap = tc;
    return 0;
}

int store_pend_add(struct store_pend *p, uint64_t seq, int64_t received_ms, const void *key,
                   size_t klen, const struct seglog_loc *loc)
{
    if (seq != p->pruned + p->n + 1 || klen > UINT16_MAX)
        return EINVAL;
    if (p->n == p->cap && grow(p))
        return ENOMEM;
    struct pend_ev *e = malloc(sizeof(*e) + klen);
    if (!e)
        return ENOMEM;
    e->seq = seq;
    e->received_ms = received_ms;
    e->loc = *loc;
    e->klen = (uint16_t)klen;
    memcpy(e->key, key, klen);
    e->hash = hash_key(p->seed, key, klen);
    /* newest first in its chain: a key seen twice (its first sighting
     * past the window) finds the newer entry */
    e->hnext = p->tab[e->hash & (p->tcap - 1)];
    p->tab[e->hash & (p->tcap - 1)] = e;
    p->ring[(p->head + p->n) % p->cap] = e;
    p->n++;
    return 0;
}

struct pend_ev *store_pend_find(const struct store_pend *p, const void *key, size_t klen)
{
    uint32_t h = hash_key(p->seed, key, klen);
    for (struct pend_ev *e = p->tab[h & (p->tcap - 1)]; e; e = e->hnext)
        if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen))
            return e;
    return NULL;
}

struct pend_ev *store_pend_get(const struct store_pend *p, uint64_t seq)
{
    if (seq <= p->pruned || seq > p->pruned + p->n)
        return NULL;
    return p->ring[(p->head + (seq - p->pruned - 1)) % p->cap];
}

static void unhash(struct store_pend *p, struct pend_ev *e)
{
    struct pend_ev **pp = &p->tab[e->hash & (p->tcap - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
}

void store_pend_prune(struct store_pend *p, uint64_t upto)
{
    while (p->n && p->pruned < upto) {
        struct pend_ev *e = p->ring[p->head];
        unhash(p, e);
        free(e);
        p->head = (p->head + 1) % p->cap;
        p->n--;
        p->pruned++;
    }
    if (!p->n && p->pruned < upto)
        p->pruned = upto;
}

void store_pend_drop_from(struct store_pend *p, uint64_t seq)
{
    while (p->n && p->pruned + p->n >= seq) {
        struct pend_ev *e = p->ring[(p->head + p->n - 1) % p->cap];
        unhash(p, e);
        free(e);
        p->n--;
    }
}
