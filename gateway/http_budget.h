/*
 * http_budget.h - the global budget of request body bytes buffered before
 * their request is authenticated (limits.unauthenticated_body_budget).
 *
 * A signature covers the whole body, so every signed body is buffered
 * whole before it can be checked: without a bound, N connections sending
 * max_body each would hold N x max_body of memory for nobody.  A body that
 * announces (Content-Length) or reaches (chunked) more than
 * HTTP_BUDGET_FREE bytes reserves its size from one process-wide counter
 * before it is read, and gives it back once its signature has been checked
 * or its request ends.  Past the budget such a body is refused: 503 with
 * Retry-After before any body byte is read, or the connection closed when
 * a chunked body grows past it.  Bodies up to HTTP_BUDGET_FREE - nearly
 * every webhook - never count and are never refused, so producers keep
 * being served while the budget is held by others; their memory is bounded
 * by max_connections x HTTP_BUDGET_FREE instead.  Lock-free (one atomic).
 */
#ifndef HG_HTTP_BUDGET_H
#define HG_HTTP_BUDGET_H

#include <stdint.h>

struct http;
struct cfg_route;

#define HTTP_BUDGET_FREE (64u << 10) /* bodies up to this size are not counted */

/* http_budget_applies - 1 if a body sent to route rt counts against the
 * budget: 0 for a route whose requests are authenticated by their headers
 * (a token, checked before the body), 1 for every other. */
int http_budget_applies(const struct cfg_route *rt);

/* http_budget_take - reserve n more bytes of the budget (limit bytes in
 * all; 0 = no budget, nothing is counted).  0 on success; HG_EBUSY if the
 * bytes reserved would then pass limit, unless nothing else is reserved (a
 * budget below max_body still lets one body at a time through).  Any
 * thread. */
int http_budget_take(struct http *h, uint64_t limit, uint64_t n);

/* http_budget_give - return n bytes taken with http_budget_take (n 0: no-op). */
void http_budget_give(struct http *h, uint64_t n);

/* http_budget_grow - a body of a request holding *held bytes of the budget
 * will reach total bytes: reserve the difference, in whole steps of
 * HTTP_BUDGET_FREE, once total is past HTTP_BUDGET_FREE.  0 (and *held
 * updated), or HG_EBUSY (nothing taken). */
int http_budget_grow(struct http *h, uint64_t limit, uint64_t *held, uint64_t total);

/* http_budget_refused - note one refusal; a warning with the bytes held is
 * logged at most every 10 s. */
void http_budget_refused(struct http *h, uint64_t limit);

#endif
