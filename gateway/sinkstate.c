/*
 * sinkstate.c - what each sink is retrying now (see sinkstate.h).
 *
 * A fixed table of SINKSTATE_SLOTS entries under one mutex; an entry has
 * its own "set" flag read without the lock (atomic) so that a worker's
 * success on a sink that never failed costs one load.
 */
#include "sinkstate.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define SINKSTATE_SLOTS 256 /* as metrics' sink slots */

static struct {
    atomic_int set;
    struct sinkstate s;
} T[SINKSTATE_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define DONE_RING 1024
static struct done {
    uint64_t seq;
    int mx;
    unsigned attempts;
} R[DONE_RING];
static size_t rhead;

void sinkstate_done(int mx, uint64_t seq, unsigned attempts, int replay)
{
    sinkstate_clear(mx, seq);
    if (!replay && attempts <= 1)
        return;
    pthread_mutex_lock(&lock);
    struct done *d = NULL;
    for (size_t i = 0; i < DONE_RING && !d; i++)
        if (R[i].seq == seq && R[i].mx == mx)
            d = &R[i];
    if (d) {
        d->attempts += attempts;
    } else {
        d = &R[rhead];
        rhead = (rhead + 1) % DONE_RING;
        d->mx = mx;
        d->seq = seq;
        d->attempts = replay ? 1 + attempts : attempts; /* a replay follows one delivery */
    }
    pthread_mutex_unlock(&lock);
}

unsigned sinkstate_attempts(int mx, uint64_t seq)
{
    unsigned n = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < DONE_RING; i++)
        if (R[i].seq == seq && R[i].mx == mx)
            n = R[i].attempts;
    pthread_mutex_unlock(&lock);
    return n;
}

void sinkstate_fail(int mx, uint64_t seq, unsigned attempts, const char *err, int64_t next_ms)
{
    if (mx < 0 || mx >= SINKSTATE_SLOTS || !seq)
        return;
    pthread_mutex_lock(&lock);
    if (!T[mx].s.seq || seq <= T[mx].s.seq) {
        T[mx].s.seq = seq;
        T[mx].s.attempts = attempts;
        T[mx].s.next_ms = next_ms;
        snprintf(T[mx].s.err, sizeof(T[mx].s.err), "%s", err ? err : "");
        atomic_store(&T[mx].set, 1);
    }
    pthread_mutex_unlock(&lock);
}

void sinkstate_clear(int mx, uint64_t seq)
{
    if (mx < 0 || mx >= SINKSTATE_SLOTS || !atomic_load_explicit(&T[mx].set, memory_order_relaxed))
        return;
    pthread_mutex_lock(&lock);
    if (T[mx].s.seq == seq) {
        memset(&T[mx].s, 0, sizeof(T[mx].s));
        atomic_store(&T[mx].set, 0);
    }
    pthread_mutex_unlock(&lock);
}

void sinkstate_get(int mx, struct sinkstate *out)
{
    memset(out, 0, sizeof(*out));
    if (mx < 0 || mx >= SINKSTATE_SLOTS)
        return;
    pthread_mutex_lock(&lock);
    *out = T[mx].s;
    pthread_mutex_unlock(&lock);
}
