/*
 * shdedupe.h - dedupe shared by several hookgate instances through a NATS
 * JetStream key-value bucket (route key "shared_dedupe").
 *
 * Order, so that no failure ever answers "duplicate" for an event that is
 * not stored somewhere:
 *   1. look the key up; present means another instance has *committed* the
 *      event (keys are written only after a local commit): answer duplicate;
 *   2. absent: commit locally as usual (local dedupe still applies);
 *   3. after the commit, write the key (a background thread, best effort).
 * A crash between 2 and 3, or a bucket that cannot be reached, only loses the
 * cross-instance answer: the event is stored and the stream's Nats-Msg-Id
 * window still keeps one copy.  An unreachable bucket is logged and counted
 * (hookgate_shared_dedupe_fallbacks_total) and the request goes on with
 * local dedupe.
 */
#ifndef HG_SHDEDUPE_H
#define HG_SHDEDUPE_H

#include <stddef.h>

struct config;
struct shdedupe;

/* shdedupe_attach - connect the routes of c that ask for shared dedupe
 * (cfg_route.shd), with the credentials and TLS settings of the jetstream
 * sink whose servers they use.  Never waits for NATS and never fails the
 * start: a bucket that cannot be reached now is retried by libnats, and
 * lookups fall back meanwhile (logged with the reason, e.g. the server's
 * "Authorization Violation"). */
void shdedupe_attach(struct config *c);

/* shdedupe_seen - 1: another instance stored key; 0: not seen; -1: the
 * bucket could not be asked (fall back to local dedupe). */
int shdedupe_seen(struct shdedupe *s, const char *key, size_t len);

/* shdedupe_mark - key is committed here: record it (queued, non-blocking). */
void shdedupe_mark(struct shdedupe *s, const char *key, size_t len);

#endif
