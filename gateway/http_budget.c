/*
 * http_budget.c - see http_budget.h.
 *
 * h->body_bytes is the sum of what requests hold.  A take is a
 * compare-and-swap loop, so the counter never passes the limit even with
 * every listener thread taking at once.
 */
#include "http_budget.h"
#include "config.h"
#include "err.h"
#include "http_int.h"
#include "log.h"
#include "profile.h"

#include <stdatomic.h>
#include <time.h>

#define HTTP_BUDGET_LOG_MS 10000

int http_budget_applies(const struct cfg_route *rt)
{
    return !rt->has_token && rt->profile->fmt != PROF_FMT_TOKEN;
}

int http_budget_take(struct http *h, uint64_t limit, uint64_t n)
{
    if (!limit || !n)
        return HG_OK;
    uint64_t cur = atomic_load(&h->body_bytes);
    do {
        if (cur && (cur + n < cur || cur + n > limit))
            return HG_EBUSY;
    } while (!atomic_compare_exchange_weak(&h->body_bytes, &cur, cur + n));
    return HG_OK;
}

void http_budget_give(struct http *h, uint64_t n)
{
    if (n)
        atomic_fetch_sub(&h->body_bytes, n);
}

int http_budget_grow(struct http *h, uint64_t limit, uint64_t *held, uint64_t total)
{
    if (!limit || total <= HTTP_BUDGET_FREE || total <= *held)
        return HG_OK;
    uint64_t want = (total + HTTP_BUDGET_FREE - 1) / HTTP_BUDGET_FREE * HTTP_BUDGET_FREE;
    if (http_budget_take(h, limit, want - *held))
        return HG_EBUSY;
    *held = want;
    return HG_OK;
}

void http_budget_refused(struct http *h, uint64_t limit)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t last = atomic_load(&h->budget_log_ms);
    if (now - last < HTTP_BUDGET_LOG_MS ||
        !atomic_compare_exchange_strong(&h->budget_log_ms, &last, now))
        return;
    log_msg(LOG_WARN, "http: unauthenticated_body_budget exhausted; large bodies get 503",
            "{s:I,s:I}", "held", (json_int_t)atomic_load(&h->body_bytes), "budget",
            (json_int_t)limit);
}
