/*
 * ratelimit.h - per-source-address connection counts (behind
 * limits.max_connections_per_ip and the reserve of slots, http_conn.c) and
 * request token buckets (limits.rate_per_ip).
 *
 * A fixed table of slots indexed by a keyed hash of the address: memory is
 * bounded whatever the number of clients, and the random key keeps a
 * client from choosing a victim's slot.  Two addresses that share a slot
 * share its limits (rare with the table size; it only ever makes a limit
 * stricter).  An IPv6 client is keyed by its /64, since a host usually
 * controls a whole /64.  Thread-safe: connection counts are atomic, token
 * buckets are guarded by striped mutexes.
 */
#ifndef HG_RATELIMIT_H
#define HG_RATELIMIT_H

#include <stdint.h>

struct sockaddr;
struct ratelimit;

/* ratelimit_new - rate <= 0 = no request limit (burst: bucket size).  The
 * connection counts are always kept (the per-address cap and the reserve
 * of http_conn.c read them).  NULL on allocation failure. */
struct ratelimit *ratelimit_new(double rate, unsigned burst);

void ratelimit_free(struct ratelimit *rl);

/* ratelimit_conn_open / _close - count a connection from sa (NULL-safe;
 * an address other than IPv4/IPv6 is not counted). */
void ratelimit_conn_open(struct ratelimit *rl, const struct sockaddr *sa);
void ratelimit_conn_close(struct ratelimit *rl, const struct sockaddr *sa);

/* ratelimit_conn_count - the open connections counted for sa's slot (0 for
 * a NULL rl or an address that is not counted). */
unsigned ratelimit_conn_count(struct ratelimit *rl, const struct sockaddr *sa);

/* ratelimit_slot - sa's slot (stable for the table's life), or -1 for a
 * NULL rl or an address that is not counted; ratelimit_slot_conns - the
 * open connections of a slot (0 for -1).  For ranking many connections
 * without hashing each address again; the count is read without a lock. */
long ratelimit_slot(const struct ratelimit *rl, const struct sockaddr *sa);
unsigned ratelimit_slot_conns(const struct ratelimit *rl, long slot);

/* ratelimit_check - 0 if a request from sa may go on (a token is taken, or
 * there is no rate), else 1 with *retry_s the seconds until it may retry. */
int ratelimit_check(struct ratelimit *rl, const struct sockaddr *sa, int64_t now_ms,
                    unsigned *retry_s);

#endif
