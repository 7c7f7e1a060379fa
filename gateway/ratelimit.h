/*
 * ratelimit.h - per-source-address connection counts and request token
 * buckets (limits.max_connections_per_ip, limits.rate_per_ip).
 *
 * A fixed table of slots indexed by a keyed hash of the address: memory is
 * bounded whatever the number of clients, and the random key keeps a
 * client from choosing a victim's slot.  Two addresses that share a slot
 * share its limits (rare with the table size; it only ever makes a limit
 * stricter).  An IPv6 client is keyed by its /64, since a host usually
 * controls a whole /64.  Thread-safe: slots are guarded by striped mutexes.
 */
#ifndef HG_RATELIMIT_H
#define HG_RATELIMIT_H

#include <stdint.h>

struct sockaddr;
struct ratelimit;

/* ratelimit_new - max_conns 0 = no connection cap; rate <= 0 = no request
 * limit (burst: bucket size).  NULL on allocation failure. */
struct ratelimit *ratelimit_new(unsigned max_conns, double rate, unsigned burst);

void ratelimit_free(struct ratelimit *rl);

/* ratelimit_conn_open / _close - count a connection from sa. */
void ratelimit_conn_open(struct ratelimit *rl, const struct sockaddr *sa);
void ratelimit_conn_close(struct ratelimit *rl, const struct sockaddr *sa);

/* ratelimit_conn_allowed - 1 if one more connection from sa stays within
 * the cap (always 1 without a cap). */
int ratelimit_conn_allowed(struct ratelimit *rl, const struct sockaddr *sa);

/* ratelimit_check - 0 if a request from sa may go on (a token is taken),
 * else 1 with *retry_s the seconds until it may retry. */
int ratelimit_check(struct ratelimit *rl, const struct sockaddr *sa, int64_t now_ms,
                    unsigned *retry_s);

#endif
