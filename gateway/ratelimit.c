/*
 * ratelimit.c - see ratelimit.h.
 */
#include "ratelimit.h"

#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RL_SLOTS 16384 /* power of two */
#define RL_LOCKS 64

struct slot {
    atomic_uint conns; /* lock-free: read by ranking without the stripe lock */
    double tokens;
    int64_t last_ms; /* 0: bucket never used (full) */
};

struct ratelimit {
    double rate, burst;
    uint64_t k0, k1; /* hash key */
    pthread_mutex_t lock[RL_LOCKS];
    struct slot slot[RL_SLOTS];
};

struct ratelimit *ratelimit_new(double rate, unsigned burst)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst ? burst : 1;
    if (RAND_bytes((unsigned char *)&rl->k0, sizeof(rl->k0)) != 1 ||
        RAND_bytes((unsigned char *)&rl->k1, sizeof(rl->k1)) != 1) {
        free(rl);
        return NULL;
    }
    for (int i = 0; i < RL_LOCKS; i++)
        pthread_mutex_init(&rl->lock[i], NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < RL_LOCKS; i++)
        pthread_mutex_destroy(&rl->lock[i]);
    free(rl);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* index - keyed hash of the address (IPv4 as v4-mapped IPv6), or -1 */
static long slot_of(const struct ratelimit *rl, const struct sockaddr *sa)
{
    unsigned char a[16] = {0};
    if (sa && sa->sa_family == AF_INET) {
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, v4mapped, 12))
            memset(a + 8, 0, 8); /* one IPv6 client is a /64: its own addresses are free */
    } else {
        return -1;
    }
    uint64_t h, l;
    memcpy(&h, a, 8);
    memcpy(&l, a + 8, 8);
    return (long)(mix(mix(h ^ rl->k0) ^ l ^ rl->k1) & (RL_SLOTS - 1));
}

long ratelimit_slot(const struct ratelimit *rl, const struct sockaddr *sa)
{
    return rl ? slot_of(rl, sa) : -1;
}

unsigned ratelimit_slot_conns(const struct ratelimit *rl, long slot)
{
    return rl && slot >= 0 ? atomic_load_explicit(&rl->slot[slot].conns, memory_order_relaxed) : 0;
}

void ratelimit_conn_open(struct ratelimit *rl, const struct sockaddr *sa)
{
    long i = ratelimit_slot(rl, sa);
    if (i >= 0)
        atomic_fetch_add_explicit(&rl->slot[i].conns, 1, memory_order_relaxed);
}

void ratelimit_conn_close(struct ratelimit *rl, const struct sockaddr *sa)
{
    long i = ratelimit_slot(rl, sa);
    if (i < 0)
        return;
    unsigned n = atomic_load_explicit(&rl->slot[i].conns, memory_order_relaxed);
    while (n && !atomic_compare_exchange_weak_explicit(&rl->slot[i].conns, &n, n - 1,
                                                       memory_order_relaxed, memory_order_relaxed))
        ;
}

unsigned ratelimit_conn_count(struct ratelimit *rl, const struct sockaddr *sa)
{
    return ratelimit_slot_conns(rl, ratelimit_slot(rl, sa));
}

int ratelimit_check(struct ratelimit *rl, const struct sockaddr *sa, int64_t now_ms,
                    unsigned *retry_s)
{
    long i = rl && rl->rate > 0 ? slot_of(rl, sa) : -1;
    *retry_s = 1;
    if (i < 0)
        return 0;
    int limited = 0;
    pthread_mutex_lock(&rl->lock[i % RL_LOCKS]);
    struct slot *s = &rl->slot[i];
    if (!s->last_ms)
        s->tokens = rl->burst;
    else if (now_ms > s->last_ms)
        s->tokens += (double)(now_ms - s->last_ms) * rl->rate / 1000.0;
    if (s->tokens > rl->burst)
        s->tokens = rl->burst;
    s->last_ms = now_ms;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
    } else {
        limited = 1;
        double wait = (1.0 - s->tokens) / rl->rate;
        *retry_s = wait < 1.0 ? 1 : (unsigned)(wait + 0.999);
    }
    pthread_mutex_unlock(&rl->lock[i % RL_LOCKS]);
    return limited;
}
